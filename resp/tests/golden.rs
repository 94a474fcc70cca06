//! Golden byte vectors in `resp/testdata/`: each file's exact bytes and the
//! value they mean. The same files seed the fuzzers.

use std::fs;
use std::path::{Path, PathBuf};

use soquete_resp::{decode_slice, encode, Bytes, BytesMut, Decoder, Error, Frame, RequestDecoder};

fn testdata(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(dir)
}

/// Every `.resp` file in `dir`, by name without extension.
fn files(dir: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = fs::read_dir(testdata(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "resp"))
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn b(s: &'static str) -> Frame {
    Frame::Bulk(Bytes::from_static(s.as_bytes()))
}

fn s(s: &'static str) -> Frame {
    Frame::Simple(Bytes::from_static(s.as_bytes()))
}

fn expected_frame(name: &str) -> Frame {
    match name {
        "simple" => s("OK"),
        "simple_empty" => s(""),
        "error" => Frame::Error(Bytes::from_static(b"ERR unknown command 'foo'")),
        "error_wrongtype" => Frame::Error(Bytes::from_static(
            b"WRONGTYPE Operation against a key holding the wrong kind of value",
        )),
        "integer_zero" => Frame::Integer(0),
        "integer_min" => Frame::Integer(i64::MIN),
        "integer_max" => Frame::Integer(i64::MAX),
        "bulk" => b("hello"),
        "bulk_empty" => b(""),
        "bulk_binary" => Frame::Bulk(Bytes::from_static(b"\r\n\x00\xff")),
        "null_bulk" => Frame::NullBulk,
        "null_array" => Frame::NullArray,
        "array_empty" => Frame::Array(vec![]),
        "array_mixed" => Frame::Array(vec![
            Frame::Integer(1),
            b("foo"),
            s("bar"),
            Frame::Array(vec![]),
            Frame::NullBulk,
        ]),
        "null" => Frame::Null,
        "double" => Frame::Double(1.5),
        "double_inf" => Frame::Double(f64::INFINITY),
        "double_neg_inf" => Frame::Double(f64::NEG_INFINITY),
        "double_nan" => Frame::Double(f64::NAN),
        "double_exp" => Frame::Double(1e300),
        "big_number" => Frame::BigNumber(Bytes::from_static(
            b"3492890328409238509324850943850943825024385",
        )),
        "big_number_negative" => Frame::BigNumber(Bytes::from_static(
            b"-3492890328409238509324850943850943825024385",
        )),
        "boolean_true" => Frame::Boolean(true),
        "boolean_false" => Frame::Boolean(false),
        "verbatim" => Frame::Verbatim {
            format: *b"txt",
            text: Bytes::from_static(b"Some string"),
        },
        "blob_error" => Frame::BlobError(Bytes::from_static(b"SYNTAX invalid syntax")),
        "map_empty" => Frame::Map(vec![]),
        "map_nested" => Frame::Map(vec![
            (s("first"), Frame::Integer(1)),
            (
                s("second"),
                Frame::Map(vec![
                    (
                        b("a"),
                        Frame::Array(vec![Frame::Integer(1), Frame::Integer(2)]),
                    ),
                    (b("b"), Frame::Map(vec![])),
                ]),
            ),
        ]),
        "set" => Frame::Set(vec![s("orange"), s("apple"), Frame::Boolean(true)]),
        "push" => Frame::Push(vec![b("message"), b("channel"), b("hello")]),
        "attribute" => Frame::Attribute {
            attrs: vec![(
                s("key-popularity"),
                Frame::Map(vec![
                    (b("a"), Frame::Double(0.1923)),
                    (b("b"), Frame::Double(0.0012)),
                ]),
            )],
            value: Box::new(Frame::Array(vec![
                Frame::Integer(2039123),
                Frame::Integer(9543892),
            ])),
        },
        "hello3_reply" => Frame::Map(vec![
            (b("server"), b("redis")),
            (b("version"), b("7.0.15")),
            (b("proto"), Frame::Integer(3)),
            (b("id"), Frame::Integer(3)),
            (b("mode"), b("standalone")),
            (b("role"), b("master")),
            (b("modules"), Frame::Array(vec![])),
        ]),
        other => panic!("testdata/frames/{other}.resp has no expected value in tests/golden.rs"),
    }
}

#[test]
fn golden_frames_decode_and_encode_exactly() {
    let files = files("frames");
    assert!(files.len() >= 30);
    for (name, bytes) in files {
        let want = expected_frame(&name);
        assert_eq!(
            decode_slice(&bytes),
            Ok(Some((want.clone(), bytes.len()))),
            "{name}"
        );
        let mut buf = BytesMut::from(&bytes[..]);
        assert_eq!(
            Decoder::new().decode(&mut buf),
            Ok(Some(want.clone())),
            "{name}"
        );
        let mut out = Vec::new();
        encode::frame(&mut out, &want);
        assert_eq!(
            out.escape_ascii().to_string(),
            bytes.escape_ascii().to_string(),
            "{name}"
        );
    }
}

#[test]
fn one_mib_bulk_round_trips_zero_copy() {
    let payload: Vec<u8> = (0..1 << 20).map(|i| (i * 31 % 251) as u8).collect();
    let mut wire = Vec::new();
    encode::bulk(&mut wire, &payload);
    assert!(wire.starts_with(b"$1048576\r\n") && wire.ends_with(b"\r\n"));
    // Arriving in 64 KiB reads: incomplete until the last one.
    let mut dec = Decoder::new();
    let mut buf = BytesMut::new();
    let mut got = None;
    for chunk in wire.chunks(64 * 1024) {
        assert!(got.is_none());
        buf.extend_from_slice(chunk);
        got = dec.decode(&mut buf).unwrap();
    }
    let Some(Frame::Bulk(bulk)) = got else {
        panic!("no bulk")
    };
    assert_eq!(&bulk[..], &payload[..]);
    // The request decoder takes it as one argument, also split.
    let mut cmd = Vec::new();
    encode::command(&mut cmd, [&b"SET"[..], b"big", &payload]);
    let mut rdec = RequestDecoder::new();
    assert!(rdec.decode(&cmd[..cmd.len() / 2]).unwrap().is_none());
    assert_eq!(rdec.wants(), cmd.len());
    let req = rdec.decode(&cmd).unwrap().unwrap();
    assert_eq!(req.arg(2), &payload[..]);
}

fn expected_request(name: &str) -> Vec<Vec<&'static str>> {
    match name {
        "set" => vec![vec!["SET", "key", "value"]],
        "pipeline" => vec![vec!["PING"], vec!["GET", "key"], vec!["INCR", "x", ""]],
        "empty_multibulk" => vec![vec![], vec![]],
        "inline_ping" => vec![vec!["PING"]],
        "inline_quoted" => vec![vec!["SET", "a b", "it's", "A\n"]],
        "inline_lf_only" => vec![vec!["ECHO", "hello"]],
        "inline_blank" => vec![vec![], vec![], vec![]],
        "mixed" => vec![vec!["PING"], vec!["ECHO", "hi"], vec!["ECHO", "x y"]],
        other => panic!("testdata/requests/{other}.resp has no expected value in tests/golden.rs"),
    }
}

#[test]
fn golden_requests_decode() {
    for (name, bytes) in files("requests") {
        let mut dec = RequestDecoder::new();
        let mut used = 0;
        let mut got = Vec::new();
        while let Some(req) = dec.decode(&bytes[used..]).unwrap() {
            used += req.consumed();
            got.push(
                req.args()
                    .map(|a| String::from_utf8(a.to_vec()).unwrap())
                    .collect::<Vec<_>>(),
            );
        }
        assert_eq!(used, bytes.len(), "{name}");
        assert_eq!(got, expected_request(&name), "{name}");
    }
}

/// The error a malformed request gets (the words Redis answers with).
pub fn expected_error(name: &str) -> Error {
    match name {
        "out_of_range_multibulk_length" | "plus_sign_length" | "leading_zero_length" => {
            Error::InvalidMultibulkLength
        }
        "wrong_multibulk_payload_header" | "multibulk_not_followed_by_bulk" => {
            Error::ExpectedDollar(b'f')
        }
        "negative_multibulk_payload_length"
        | "out_of_range_multibulk_payload_length"
        | "non_number_multibulk_payload_length" => Error::InvalidBulkLength,
        "unbalanced_quotes" => Error::UnbalancedQuotes,
        "desync_nul" | "desync_dollar_nul" => Error::TooBigInline,
        "desync_star_nul" => Error::TooBigMultibulkCount,
        "missing_lf_after_length" | "missing_crlf_after_payload" => Error::ExpectedCrlf,
        other => panic!("testdata/malformed/{other}.resp has no expected error in tests/golden.rs"),
    }
}

#[test]
fn golden_malformed_requests_fail_with_redis_words() {
    for (name, bytes) in files("malformed") {
        let mut dec = RequestDecoder::new();
        let mut used = 0;
        let err = loop {
            match dec.decode(&bytes[used..]) {
                Ok(Some(req)) => used += req.consumed(),
                Ok(None) => panic!("{name}: no error"),
                Err(e) => break e,
            }
        };
        assert_eq!(err, expected_error(&name), "{name}");
    }
}
