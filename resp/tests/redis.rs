//! Behaviour compared with real `redis-server` (started on an ephemeral
//! loopback port): the protocol errors it answers to malformed requests, how
//! it splits inline commands, and every RESP3 type it sends.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use soquete_resp::{encode, Bytes, BytesMut, Decoder, Frame, RequestDecoder};
use soquete_testkit::{ServerKind, ServerProcess};

fn connect(server: &ServerProcess) -> TcpStream {
    let s = TcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    s
}

/// Sends `input` and returns everything the server replies until it closes
/// the connection or goes quiet.
fn exchange(server: &ServerProcess, input: &[u8]) -> Vec<u8> {
    let mut s = connect(server);
    s.write_all(input).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                if !out.is_empty() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    out
}

/// What a server that uses `RequestDecoder` replies, rendered as Redis
/// renders a protocol error.
fn our_error_reply(input: &[u8]) -> Vec<u8> {
    let mut dec = RequestDecoder::new();
    let mut used = 0;
    loop {
        match dec.decode(&input[used..]) {
            Ok(Some(req)) => used += req.consumed(),
            Ok(None) => panic!("no error for {}", input.escape_ascii()),
            Err(e) => {
                let mut msg = b"ERR Protocol error: ".to_vec();
                e.write_message(&mut msg);
                for b in &mut msg {
                    if *b == b'\r' || *b == b'\n' {
                        *b = b' ';
                    }
                }
                let mut out = Vec::new();
                encode::error(&mut out, &msg);
                return out;
            }
        }
    }
}

/// `prefix`, then a line starting with `seq` followed by lines of `A`s up to
/// one byte past Redis's 64 KiB limit (protocol.tcl's desync test), and no
/// more, so that Redis reads all of it before it answers.
fn desync(prefix: &[u8], seq: &[u8]) -> Vec<u8> {
    let mut v = seq.to_vec();
    while v.len() <= 64 * 1024 {
        v.extend_from_slice(&[b'A'; 1024]);
        v.push(b'\n');
    }
    v.truncate(64 * 1024 + 1);
    [prefix, &v].concat()
}

#[test]
fn protocol_errors_match_redis() {
    let redis = ServerProcess::start(ServerKind::Redis);
    // Redis's tests/unit/protocol.tcl, and strictness cases both agree on.
    let cases: Vec<Vec<u8>> = vec![
        b"*3000000000\r\n".to_vec(),
        b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n".to_vec(),
        b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n".to_vec(),
        b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n".to_vec(),
        b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n".to_vec(),
        b"*1\r\nfoo\r\n".to_vec(),
        b"set \"\"\"test-key\"\"\" test-value\r\nping\r\n".to_vec(),
        b"*+1\r\n".to_vec(),
        b"*01\r\n".to_vec(),
        b"*1\r\n$01\r\n".to_vec(),
        b"*1\r\n\r\n".to_vec(),
        b"*1\r\n\xff\r\n".to_vec(),
        b"*1\r\n$536870913\r\n".to_vec(),
        b"*9223372036854775808\r\n".to_vec(),
        desync(b"", b"\x00"),
        desync(b"", b"*\x00"),
        desync(b"", b"$\x00"),
        desync(b"*1\r\n", b"$\x00"),
        desync(b"", b"*1"),
        vec![b'P'; 64 * 1024 + 1],
        [&b"*1\r\n"[..], &[b'$'; 64 * 1024 + 1]].concat(),
    ];
    for input in cases {
        let theirs = exchange(&redis, &input);
        let ours = our_error_reply(&input);
        let shown = input[..input.len().min(40)].escape_ascii().to_string();
        assert_eq!(
            ours.escape_ascii().to_string(),
            theirs.escape_ascii().to_string(),
            "{shown}"
        );
    }
}

#[test]
fn empty_requests_are_skipped_like_redis() {
    let redis = ServerProcess::start(ServerKind::Redis);
    let input = b"\r\n*-10\r\n*0\r\n   \r\nPING\r\n";
    assert_eq!(exchange(&redis, input), b"+PONG\r\n");
    let mut dec = RequestDecoder::new();
    let mut used = 0;
    let mut lens = Vec::new();
    while let Some(req) = dec.decode(&input[used..]).unwrap() {
        used += req.consumed();
        lens.push(req.len());
    }
    assert_eq!(lens, [0, 0, 0, 0, 1]);
}

#[test]
fn inline_splitting_matches_redis() {
    let redis = ServerProcess::start(ServerKind::Redis);
    let args: [&[u8]; 9] = [
        b"plain",
        b"\"a b\"",
        b"'it\\'s'",
        b"\"\\x41\\x4a\\xzz\\q\\n\\r\\t\\b\\a\\\\\\\"\"",
        b"'\\n stays'",
        b"ab\"c d\"",
        b"\"\"",
        b"\"\\xff\\x00\"",
        b"x\x0by",
    ];
    for arg in args {
        let line = [&b"ECHO "[..], arg, b"\r\n"].concat();
        let reply = exchange(&redis, &line);
        let (frame, _) = soquete_resp::decode_slice(&reply).unwrap().unwrap();
        let mut dec = RequestDecoder::new();
        let req = dec.decode(&line).unwrap().unwrap();
        assert_eq!(req.len(), 2, "{}", line.escape_ascii());
        assert_eq!(
            frame,
            Frame::Bulk(Bytes::copy_from_slice(req.arg(1))),
            "{}",
            line.escape_ascii()
        );
    }
}

/// Reads one frame with `Decoder`, a few bytes at a time.
fn read_frame(s: &mut TcpStream, dec: &mut Decoder, buf: &mut BytesMut) -> Frame {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut chunk = [0u8; 7];
    loop {
        if let Some(f) = dec.decode(buf).unwrap() {
            return f;
        }
        assert!(Instant::now() < deadline, "no complete reply");
        match s.read(&mut chunk) {
            Ok(0) => panic!("closed"),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn decodes_every_resp3_type_redis_sends() {
    let redis = ServerProcess::builder(ServerKind::Redis)
        .args(["--enable-debug-command", "yes"])
        .start();
    let mut s = connect(&redis);
    let mut dec = Decoder::new();
    let mut buf = BytesMut::new();
    let mut call = |args: &[&str]| {
        let mut out = Vec::new();
        encode::command(&mut out, args);
        s.write_all(&out).unwrap();
        read_frame(&mut s, &mut dec, &mut buf)
    };
    assert_eq!(call(&["GET", "missing"]), Frame::NullBulk);
    let Frame::Map(hello) = call(&["HELLO", "3"]) else {
        panic!("HELLO 3 is a map")
    };
    assert!(hello.contains(&(Frame::Bulk("proto".into()), Frame::Integer(3))));
    assert_eq!(call(&["GET", "missing"]), Frame::Null);
    let bulk = |s: &'static str| Frame::Bulk(s.into());
    let cases: Vec<(&str, Frame)> = vec![
        ("string", bulk("Hello World")),
        ("integer", Frame::Integer(12345)),
        // Redis sends ",3.141".
        ("double", Frame::Double("3.141".parse().unwrap())),
        (
            "bignum",
            Frame::BigNumber("1234567999999999999999999999999999999".into()),
        ),
        ("null", Frame::Null),
        (
            "array",
            Frame::Array(vec![
                Frame::Integer(0),
                Frame::Integer(1),
                Frame::Integer(2),
            ]),
        ),
        (
            "set",
            Frame::Set(vec![
                Frame::Integer(0),
                Frame::Integer(1),
                Frame::Integer(2),
            ]),
        ),
        (
            "map",
            Frame::Map(vec![
                (Frame::Integer(0), Frame::Boolean(false)),
                (Frame::Integer(1), Frame::Boolean(true)),
                (Frame::Integer(2), Frame::Boolean(false)),
            ]),
        ),
        ("true", Frame::Boolean(true)),
        ("false", Frame::Boolean(false)),
        (
            "verbatim",
            Frame::Verbatim {
                format: *b"txt",
                text: "This is a verbatim\nstring".into(),
            },
        ),
        (
            "attrib",
            Frame::Attribute {
                attrs: vec![(
                    bulk("key-popularity"),
                    Frame::Array(vec![bulk("key:123"), Frame::Integer(90)]),
                )],
                value: Box::new(bulk("Some real reply following the attribute")),
            },
        ),
    ];
    for (ty, want) in cases {
        assert_eq!(
            call(&["DEBUG", "PROTOCOL", ty]),
            want,
            "DEBUG PROTOCOL {ty}"
        );
    }
    // A push message: SUBSCRIBE's confirmation in RESP3.
    assert_eq!(
        call(&["SUBSCRIBE", "ch"]),
        Frame::Push(vec![bulk("subscribe"), bulk("ch"), Frame::Integer(1)])
    );
}

#[test]
fn stricter_than_redis_where_redis_skips_bytes_unchecked() {
    let redis = ServerProcess::start(ServerKind::Redis);
    // Redis skips the two bytes after a payload without looking at them,
    // and takes any byte after a length line's CR as its LF. We do not: a
    // stream like that is out of sync.
    assert_eq!(exchange(&redis, b"*1\r\n$4\r\nPINGxx"), b"+PONG\r\n");
    assert_eq!(
        our_error_reply(b"*1\r\n$4\r\nPINGxx"),
        b"-ERR Protocol error: expected CRLF\r\n"
    );
    assert_eq!(exchange(&redis, b"*1\rx$4\r\nPING\r\n"), b"+PONG\r\n");
    assert_eq!(
        our_error_reply(b"*1\rx$4\r\nPING\r\n"),
        b"-ERR Protocol error: expected CRLF\r\n"
    );
}

#[test]
fn unauthenticated_limits_match_redis() {
    let redis = ServerProcess::builder(ServerKind::Redis)
        .args(["--requirepass", "secret"])
        .start();
    let limits = soquete_resp::Limits {
        unauthenticated: true,
        ..Default::default()
    };
    for input in [&b"*11\r\n"[..], b"*1\r\n$16385\r\n", b"*3000000000\r\n"] {
        let theirs = exchange(&redis, input);
        let mut dec = RequestDecoder::with_limits(limits);
        let err = dec.decode(input).unwrap_err();
        let mut ours = b"-ERR Protocol error: ".to_vec();
        err.write_message(&mut ours);
        ours.extend_from_slice(b"\r\n");
        assert_eq!(
            ours.escape_ascii().to_string(),
            theirs.escape_ascii().to_string()
        );
    }
    // At the limits, both wait for the rest.
    let mut dec = RequestDecoder::with_limits(limits);
    assert!(dec.decode(b"*10\r\n$16384\r\n").unwrap().is_none());
}
