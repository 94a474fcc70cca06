//! Property tests: whatever is encoded decodes to the same thing, however
//! the bytes are split on the way.

use proptest::prelude::*;
use soquete_resp::{decode_slice, encode, Bytes, BytesMut, Decoder, Frame, RequestDecoder};

fn bytes() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..24).prop_map(Bytes::from),
        1 => proptest::collection::vec(any::<u8>(), 0..300).prop_map(Bytes::from),
        1 => Just(Bytes::from_static(b"\r\n")),
    ]
}

/// Text for line types: anything but CR and LF.
fn line() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(
        any::<u8>().prop_filter("no CR/LF", |b| *b != b'\r' && *b != b'\n'),
        0..24,
    )
    .prop_map(Bytes::from)
}

fn big_number() -> impl Strategy<Value = Bytes> {
    "-?[0-9]{1,60}".prop_map(Bytes::from)
}

fn double() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::NAN),
        Just(0.0),
        Just(-0.0),
        Just(f64::MIN_POSITIVE),
        Just(f64::MAX),
    ]
}

fn integer() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0),
        -1000i64..1000
    ]
}

fn leaf() -> impl Strategy<Value = Frame> {
    prop_oneof![
        line().prop_map(Frame::Simple),
        line().prop_map(Frame::Error),
        integer().prop_map(Frame::Integer),
        bytes().prop_map(Frame::Bulk),
        Just(Frame::Null),
        Just(Frame::NullBulk),
        Just(Frame::NullArray),
        double().prop_map(Frame::Double),
        big_number().prop_map(Frame::BigNumber),
        any::<bool>().prop_map(Frame::Boolean),
        (any::<[u8; 3]>(), bytes()).prop_map(|(format, text)| Frame::Verbatim { format, text }),
        bytes().prop_map(Frame::BlobError),
    ]
}

pub fn frame() -> impl Strategy<Value = Frame> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        let pairs = proptest::collection::vec((inner.clone(), inner.clone()), 0..4);
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Array),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Set),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Push),
            pairs.clone().prop_map(Frame::Map),
            (pairs, inner).prop_map(|(attrs, value)| Frame::Attribute {
                attrs,
                value: Box::new(value)
            }),
        ]
    })
}

fn enc(f: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    encode::frame(&mut out, f);
    out
}

/// Feeds `input` in the given chunk sizes (cycled), collecting every frame.
fn decode_chunked(input: &[u8], chunks: &[usize]) -> Vec<Frame> {
    let mut dec = Decoder::new();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut fed = 0;
    let mut i = 0;
    while fed < input.len() {
        let n = chunks[i % chunks.len()].clamp(1, input.len() - fed);
        i += 1;
        buf.extend_from_slice(&input[fed..fed + n]);
        fed += n;
        while let Some(f) = dec.decode(&mut buf).expect("valid input") {
            frames.push(f);
        }
    }
    assert!(buf.is_empty(), "bytes left over");
    frames
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decode_of_encode_is_identity(f in frame()) {
        let bytes = enc(&f);
        prop_assert_eq!(bytes.len(), encode::encoded_len(&f));
        prop_assert_eq!(decode_slice(&bytes), Ok(Some((f.clone(), bytes.len()))));
        let mut buf = BytesMut::from(&bytes[..]);
        prop_assert_eq!(Decoder::new().decode(&mut buf), Ok(Some(f)));
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn every_strict_prefix_is_incomplete(f in frame()) {
        let bytes = enc(&f);
        for end in 0..bytes.len() {
            prop_assert_eq!(decode_slice(&bytes[..end]), Ok(None));
        }
    }

    #[test]
    fn split_at_every_point_gives_the_same_frame(f in frame()) {
        let bytes = enc(&f);
        for split in 0..=bytes.len() {
            let mut dec = Decoder::new();
            let mut buf = BytesMut::from(&bytes[..split]);
            let first = dec.decode(&mut buf).unwrap();
            let got = match first {
                Some(got) => got,
                None => {
                    buf.extend_from_slice(&bytes[split..]);
                    dec.decode(&mut buf).unwrap().expect("complete")
                }
            };
            prop_assert_eq!(&got, &f, "split at {}", split);
        }
    }

    #[test]
    fn one_byte_at_a_time_gives_the_same_frame(f in frame()) {
        let bytes = enc(&f);
        prop_assert_eq!(decode_chunked(&bytes, &[1]), vec![f]);
    }

    #[test]
    fn many_frames_back_to_back(frames in proptest::collection::vec(frame(), 1..12),
                                chunks in proptest::collection::vec(1usize..64, 1..8)) {
        let mut bytes = Vec::new();
        for f in &frames {
            encode::frame(&mut bytes, f);
        }
        prop_assert_eq!(&decode_chunked(&bytes, &[bytes.len()]), &frames);
        prop_assert_eq!(&decode_chunked(&bytes, &chunks), &frames);
    }

    #[test]
    fn requests_round_trip(reqs in proptest::collection::vec(
                               proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..8), 1..10),
                           chunks in proptest::collection::vec(1usize..48, 1..8)) {
        let mut bytes = Vec::new();
        for r in &reqs {
            encode::command(&mut bytes, r);
        }
        for chunks in [&[bytes.len()][..], &chunks, &[1]] {
            prop_assert_eq!(&decode_requests_chunked(&bytes, chunks), &reqs);
        }
    }

    #[test]
    fn inline_quoting_round_trips(args in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 1..6)) {
        // Quote every argument as redis-cli's sdscatrepr does; the decoder
        // must give the bytes back.
        let mut line = Vec::new();
        for a in &args {
            line.push(b'"');
            for &b in a {
                match b {
                    b'\\' | b'"' => { line.push(b'\\'); line.push(b) }
                    b'\n' => line.extend_from_slice(b"\\n"),
                    b'\r' => line.extend_from_slice(b"\\r"),
                    0x20..=0x7e => line.push(b),
                    _ => line.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
                }
            }
            line.extend_from_slice(b"\" ");
        }
        line.extend_from_slice(b"\r\n");
        prop_assert_eq!(&decode_requests_chunked(&line, &[line.len()]), &vec![args.clone()]);
        prop_assert_eq!(&decode_requests_chunked(&line, &[1]), &vec![args]);
    }

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_slice(&input);
        let mut dec = RequestDecoder::new();
        let mut used = 0;
        while let Ok(Some(req)) = dec.decode(&input[used..]) {
            prop_assert!(req.consumed() > 0);
            used += req.consumed();
        }
    }
}

fn decode_requests_chunked(input: &[u8], chunks: &[usize]) -> Vec<Vec<Vec<u8>>> {
    let mut dec = RequestDecoder::new();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut fed = 0;
    let mut i = 0;
    while fed < input.len() {
        let n = chunks[i % chunks.len()].clamp(1, input.len() - fed);
        i += 1;
        buf.extend_from_slice(&input[fed..fed + n]);
        fed += n;
        let mut used = 0;
        while let Some(req) = dec.decode(&buf[used..]).expect("valid input") {
            used += req.consumed();
            out.push(req.args().map(<[u8]>::to_vec).collect::<Vec<_>>());
        }
        buf.drain(..used);
    }
    assert!(buf.is_empty(), "bytes left over");
    out
}
