//! The wire protocol over real sockets: pipelines split at every byte,
//! big values, inline commands as typed into `nc`, protocol errors (reply,
//! then close only that connection), command errors (connection stays open)
//! and the smaller limits of a client that has not authenticated.
//!
//! Most tests run the same bytes against real `redis-server` and against the
//! `soquete-server` binary and expect the exact same reply bytes from both,
//! so every expectation written here is Redis's behaviour.

use std::io::{Read, Write};
use std::net::TcpStream;

use soquete_testkit::conn::{bulk_bytes, command_bytes};
use soquete_testkit::frames::info_field;
use soquete_testkit::render::show;
use soquete_testkit::wait::{eventually, DEADLINE};
use soquete_testkit::{Conn, ServerKind, ServerProcess};

/// The binary under test, built by cargo for this test run.
const BIN: &str = env!("CARGO_BIN_EXE_soquete-server");

/// The binary on `127.0.0.1:<ephemeral>` with `args`.
fn soquete(args: &[&str]) -> ServerProcess {
    ServerProcess::builder(ServerKind::Soquete)
        .binary(BIN)
        .args(args)
        .start()
}

/// Real `redis-server` on `127.0.0.1:<ephemeral>` with `args` (persistence off).
fn redis(args: &[&str]) -> ServerProcess {
    ServerProcess::builder(ServerKind::Redis).args(args).start()
}

/// Redis first (the reference), then ours.
fn both(args: &[&str]) -> [ServerProcess; 2] {
    [redis(args), soquete(&[&["--threads", "2"], args].concat())]
}

/// One request of a pipeline and the exact reply it gets (empty for the
/// empty lines the server skips).
struct Step {
    req: &'static [u8],
    reply: &'static [u8],
}

/// A pipeline that mixes multibulk and inline requests, `\r\n` and bare `\n`
/// line ends, empty lines, empty arguments and quoting. Each round is
/// independent of the previous one (it sets what it reads).
const PIPELINE: &[Step] = &[
    Step {
        req: b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n",
        reply: b"+OK\r\n",
    },
    Step {
        req: b"GET k\r\n",
        reply: b"$5\r\nhello\r\n",
    },
    Step {
        req: b"\r\n",
        reply: b"",
    },
    Step {
        req: b"SET c 10\n",
        reply: b"+OK\r\n",
    },
    Step {
        req: b"*2\r\n$4\r\nINCR\r\n$1\r\nc\r\n",
        reply: b":11\r\n",
    },
    Step {
        req: b"ECHO \"a b\"\r\n",
        reply: b"$3\r\na b\r\n",
    },
    Step {
        req: b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
        reply: b"$0\r\n\r\n",
    },
    Step {
        req: b"\n",
        reply: b"",
    },
    Step {
        req: b"*3\r\n$4\r\nMGET\r\n$1\r\nk\r\n$5\r\nnokey\r\n",
        reply: b"*2\r\n$5\r\nhello\r\n$-1\r\n",
    },
    Step {
        req: b"*1\r\n$4\r\nPING\r\n",
        reply: b"+PONG\r\n",
    },
];

/// Watches `total_net_input_bytes` from a second connection to know when the
/// server has read everything the test sent (a readiness check instead of a
/// sleep). Its own INFO requests are counted too, so it keeps their tally.
struct InputWatch {
    conn: Conn,
    /// Input bytes the server must have counted once it read everything
    /// sent so far, excluding the next INFO request.
    expected: u64,
}

const INFO_REQ: &[u8] = b"INFO stats\r\n";

impl InputWatch {
    fn new(server: &ServerProcess) -> InputWatch {
        let mut conn = server.connect();
        let base = Self::total(&mut conn);
        InputWatch {
            conn,
            expected: base,
        }
    }

    fn total(conn: &mut Conn) -> u64 {
        conn.send(INFO_REQ);
        let info = conn.read_reply();
        info_field(
            info.frame.as_bytes().expect("INFO is a bulk string"),
            "total_net_input_bytes",
        )
        .and_then(|v| v.parse().ok())
        .expect("total_net_input_bytes in INFO stats")
    }

    /// Records `n` more bytes sent by the connection under test and waits
    /// until the server has read all of them.
    fn sent_and_read(&mut self, n: usize) {
        self.expected += n as u64;
        let Self { conn, expected } = self;
        eventually("the server to read what was sent", DEADLINE, || {
            *expected += INFO_REQ.len() as u64;
            let total = Self::total(conn);
            assert!(
                total <= *expected,
                "the server counted {total} input bytes, more than the {expected} sent"
            );
            (total == *expected).then_some(())
        });
    }
}

/// Sends [`PIPELINE`] split in two at every byte offset. The server must have
/// read the first part (and answered the requests complete in it) before the
/// second part is sent, so every split point reaches its parser.
fn split_pipeline_at_every_byte(server: &ServerProcess) {
    let data: Vec<u8> = PIPELINE
        .iter()
        .flat_map(|s| s.req.iter().copied())
        .collect();
    let expected: Vec<u8> = PIPELINE
        .iter()
        .flat_map(|s| s.reply.iter().copied())
        .collect();
    // Offsets at which each request ends, with the length of its reply.
    let mut ends = Vec::new();
    let mut at = 0;
    for s in PIPELINE {
        at += s.req.len();
        ends.push((at, s.reply));
    }
    let mut watch = InputWatch::new(server);
    let mut conn = server.connect();
    for split in 1..data.len() {
        conn.send(&data[..split]);
        watch.sent_and_read(split);
        let mut got = Vec::new();
        let complete = ends.iter().filter(|(end, _)| *end <= split);
        for _ in complete.filter(|(_, reply)| !reply.is_empty()) {
            got.extend(conn.read_raw_reply());
        }
        conn.send(&data[split..]);
        watch.sent_and_read(data.len() - split);
        while got.len() < expected.len() {
            got.extend(conn.read_raw_reply());
        }
        assert_eq!(
            show(&got),
            show(&expected),
            "{}: pipeline split at byte {split} of {} ({} | {})",
            server.kind(),
            data.len(),
            show(&data[..split]),
            show(&data[split..])
        );
    }
}

#[test]
fn pipelined_requests_split_at_every_byte_boundary() {
    for server in both(&[]) {
        split_pipeline_at_every_byte(&server);
    }
}

#[test]
fn pipelined_requests_sent_one_byte_per_write() {
    let server = soquete(&["--threads", "2"]);
    let mut conn = server.connect();
    let data: Vec<u8> = PIPELINE
        .iter()
        .flat_map(|s| s.req.iter().copied())
        .collect();
    for b in &data {
        conn.send(std::slice::from_ref(b));
    }
    for step in PIPELINE.iter().filter(|s| !s.reply.is_empty()) {
        assert_eq!(show(&conn.read_raw_reply()), show(step.reply));
    }
}

#[test]
fn a_large_pipeline_in_one_write_gets_every_reply_in_order() {
    let server = soquete(&["--threads", "2"]);
    let mut conn = server.connect();
    const N: usize = 20_000;
    let mut data = Vec::new();
    for i in 0..N {
        data.extend(command_bytes(&["INCR", "n"]));
        data.extend(command_bytes(&[
            "SET",
            &format!("key:{i}"),
            &format!("value:{i}"),
        ]));
    }
    data.extend(command_bytes(&["DBSIZE"]));
    // Replies flow while we write: read them on another thread.
    let mut reader = conn.stream().try_clone().expect("clone the socket");
    reader
        .set_read_timeout(Some(DEADLINE))
        .expect("read timeout");
    let mut expected = Vec::new();
    for i in 1..=N {
        expected.extend(format!(":{i}\r\n+OK\r\n").into_bytes());
    }
    expected.extend(format!(":{}\r\n", N + 1).into_bytes());
    let want = expected.len();
    let read = std::thread::spawn(move || {
        let mut got = vec![0u8; want];
        reader.read_exact(&mut got).map(|_| got)
    });
    conn.send(&data);
    let got = read.join().expect("reader thread").expect("all replies");
    assert!(got == expected, "replies differ: {}", show(&got));
}

/// A `len`-byte value: a 251-byte pattern (prime, so it never lines up with
/// buffer sizes) repeated, built with block copies (fast in debug builds).
fn pattern(len: usize) -> Vec<u8> {
    let block: Vec<u8> = (0..=250u8).collect();
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        let n = block.len().min(len - v.len());
        v.extend_from_slice(&block[..n]);
    }
    v
}

/// SET, GET and STRLEN of a `len`-byte value over a plain socket; the
/// request is written on another thread so that neither side waits on the
/// other, and the reply is compared as it streams in.
fn big_round_trip(server: &ServerProcess, len: usize) {
    let value = pattern(len);
    let mut req = command_bytes(&[b"SET".as_slice(), b"big", &value]);
    req.extend(command_bytes(&["GET", "big"]));
    req.extend(command_bytes(&["STRLEN", "big"]));
    let stream = TcpStream::connect(server.addr()).expect("connect");
    stream.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let mut writer = stream.try_clone().expect("clone");
    let write = std::thread::spawn(move || writer.write_all(&req));
    let mut reader = std::io::BufReader::with_capacity(1 << 20, &stream);
    let mut expect = |want: &[u8], what: &str| {
        let mut got = vec![0u8; want.len()];
        reader
            .read_exact(&mut got)
            .unwrap_or_else(|e| panic!("{len} bytes: {what}: {e}"));
        assert!(
            got == want,
            "{len}-byte round trip: {what} differs: got {}, want {}",
            show(&got[..got.len().min(64)]),
            show(&want[..want.len().min(64)])
        );
    };
    expect(b"+OK\r\n", "SET reply");
    expect(format!("${len}\r\n").as_bytes(), "GET header");
    for (i, chunk) in value.chunks(1 << 20).enumerate() {
        expect(chunk, &format!("GET value, MiB {i}"));
    }
    expect(b"\r\n", "GET trailer");
    expect(format!(":{len}\r\n").as_bytes(), "STRLEN reply");
    write.join().expect("writer").expect("write the request");
}

#[test]
fn one_mib_value_round_trips() {
    let server = soquete(&[]);
    big_round_trip(&server, 1 << 20);
}

#[test]
fn hundred_mib_value_round_trips() {
    let server = soquete(&[]);
    big_round_trip(&server, 100 << 20);
}

/// Inline requests as a person types them into `nc`, and Redis's replies.
const INLINE: &[(&[u8], &[u8])] = &[
    (b"SET \"a b\" 1\r\n", b"+OK\r\n"),
    (b"GET \"a b\"\r\n", b"$1\r\n1\r\n"),
    (b"EXISTS 'a b'\n", b":1\r\n"),
    (b"  ping   \r\n", b"+PONG\r\n"),
    (b"\r\n\n   \r\nPING\n", b"+PONG\r\n"),
    (b"SET k \"\\x41\\x00b\\n\"\r\n", b"+OK\r\n"),
    (b"STRLEN k\r\n", b":4\r\n"),
    (b"GET k\r\n", b"$4\r\nA\x00b\n\r\n"),
    (b"ECHO 'it\\'s'\r\n", b"$4\r\nit's\r\n"),
    (b"ECHO \"\\t\\\\\"\r\n", b"$2\r\n\t\\\r\n"),
    (b"ECHO \"\"\r\n", b"$0\r\n\r\n"),
    (b"SET n 41\nINCR n\nGET n\n", b"+OK\r\n:42\r\n$2\r\n42\r\n"),
];

#[test]
fn inline_commands_as_typed_in_nc() {
    for server in both(&[]) {
        let mut conn = server.connect();
        for (req, reply) in INLINE {
            conn.send(req);
            let mut got = Vec::new();
            while got.len() < reply.len() {
                got.extend(conn.read_raw_reply());
            }
            assert_eq!(
                show(&got),
                show(reply),
                "{}: inline {}",
                server.kind(),
                show(req)
            );
        }
    }
}

/// Bad input, and the exact error Redis sends before it closes the connection.
fn protocol_error_cases() -> Vec<(&'static str, Vec<u8>, &'static [u8])> {
    vec![
        (
            "multibulk length 3000000000",
            b"*3000000000\r\n".to_vec(),
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            "multibulk length not a number",
            b"*abc\r\n".to_vec(),
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            "negative bulk length",
            b"*1\r\n$-5\r\n".to_vec(),
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            "no $ before a bulk",
            b"*1\r\nx\r\n".to_vec(),
            b"-ERR Protocol error: expected '$', got 'x'\r\n",
        ),
        (
            "unbalanced quotes",
            b"SET \"a b\r\n".to_vec(),
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        (
            "quote followed by a non-space",
            b"ECHO \"a\"b\r\n".to_vec(),
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        (
            "bulk length above 512 MB",
            b"*2\r\n$3\r\nGET\r\n$536870913\r\n".to_vec(),
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            // 64 KiB + 1 with no newline: the server has read everything
            // when it errs, so the close is a clean FIN, not a reset.
            "inline request over 64 KiB without newline",
            vec![b'a'; 64 * 1024 + 1],
            b"-ERR Protocol error: too big inline request\r\n",
        ),
        (
            "a good request, then a bad one in the same write",
            b"PING\r\n*1\r\nx\r\n".to_vec(),
            b"+PONG\r\n-ERR Protocol error: expected '$', got 'x'\r\n",
        ),
    ]
}

#[test]
fn protocol_errors_reply_then_close_only_that_connection() {
    for server in both(&[]) {
        let mut bystander = server.connect();
        bystander.send(b"SET survivor yes\r\n");
        assert_eq!(bystander.read_raw_reply(), b"+OK\r\n");
        for (what, bad, reply) in protocol_error_cases() {
            let mut conn = server.connect();
            conn.send(&bad);
            let mut got = Vec::new();
            while got.len() < reply.len() {
                match conn.try_read_reply() {
                    Ok(Some(r)) => got.extend(r.raw),
                    other => panic!(
                        "{}: {what}: expected {}, got {} then {other:?}",
                        server.kind(),
                        show(reply),
                        show(&got)
                    ),
                }
            }
            assert_eq!(show(&got), show(reply), "{}: {what}", server.kind());
            conn.expect_closed()
                .unwrap_or_else(|e| panic!("{}: {what}: not closed: {e}", server.kind()));
            // Everyone else carries on.
            bystander.send(b"GET survivor\r\nPING\r\n");
            assert_eq!(bystander.read_raw_reply(), b"$3\r\nyes\r\n", "{what}");
            assert_eq!(bystander.read_raw_reply(), b"+PONG\r\n", "{what}");
        }
    }
}

#[test]
fn empty_and_null_multibulk_headers_are_ignored() {
    for server in both(&[]) {
        let mut conn = server.connect();
        conn.send(b"*0\r\n*-1\r\n*-5\r\nPING\r\n");
        assert_eq!(
            show(&conn.read_raw_reply()),
            show(b"+PONG\r\n"),
            "{}",
            server.kind()
        );
    }
}

#[test]
fn command_errors_keep_the_connection_open() {
    let cases: &[(&[u8], &[u8])] = &[
        (
            b"FOO bar\r\n",
            b"-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n",
        ),
        (
            b"*1\r\n$3\r\nfoo\r\n",
            b"-ERR unknown command 'foo', with args beginning with: \r\n",
        ),
        (
            b"GET\r\n",
            b"-ERR wrong number of arguments for 'get' command\r\n",
        ),
        (b"SET a b c\r\n", b"-ERR syntax error\r\n"),
        (b"SET s x\r\n", b"+OK\r\n"),
        (
            b"INCR s\r\n",
            b"-ERR value is not an integer or out of range\r\n",
        ),
        (
            b"EXPIRE s abc\r\n",
            b"-ERR value is not an integer or out of range\r\n",
        ),
        (b"SELECT 99\r\n", b"-ERR DB index is out of range\r\n"),
        (b"PING\r\n", b"+PONG\r\n"),
    ];
    for server in both(&[]) {
        let mut conn = server.connect();
        // One at a time, then all in one pipeline.
        for (req, reply) in cases {
            conn.send(req);
            assert_eq!(
                show(&conn.read_raw_reply()),
                show(reply),
                "{}: {}",
                server.kind(),
                show(req)
            );
        }
        let all: Vec<u8> = cases.iter().flat_map(|(q, _)| q.iter().copied()).collect();
        conn.send(&all);
        for (req, reply) in cases {
            assert_eq!(
                show(&conn.read_raw_reply()),
                show(reply),
                "{}: pipelined {}",
                server.kind(),
                show(req)
            );
        }
    }
}

#[test]
fn unauthenticated_clients_get_smaller_limits() {
    let noauth: &[u8] = b"-NOAUTH Authentication required.\r\n";
    for server in both(&["--requirepass", "s3cret"]) {
        let kind = server.kind();
        // More than 10 arguments before AUTH: a protocol error, then closed.
        let mut c = server.connect();
        c.send(b"*11\r\n");
        assert_eq!(
            show(&c.read_raw_reply()),
            show(b"-ERR Protocol error: unauthenticated multibulk length\r\n"),
            "{kind}"
        );
        c.expect_closed().expect("closed after *11");
        // A bulk longer than 16 KiB before AUTH: the same.
        let mut c = server.connect();
        c.send(b"*2\r\n$4\r\nECHO\r\n$16385\r\n");
        assert_eq!(
            show(&c.read_raw_reply()),
            show(b"-ERR Protocol error: unauthenticated bulk length\r\n"),
            "{kind}"
        );
        c.expect_closed().expect("closed after $16385");
        // At the limits: parsed, then refused for want of AUTH.
        let mut c = server.connect();
        let ten: Vec<String> = (0..9).map(|i| format!("k{i}")).collect();
        c.send_cmd(&[&["EXISTS".to_string()], ten.as_slice()].concat());
        assert_eq!(show(&c.read_raw_reply()), show(noauth), "{kind}");
        c.send_cmd(&[b"ECHO".to_vec(), vec![b'x'; 16384]]);
        assert_eq!(show(&c.read_raw_reply()), show(noauth), "{kind}");
        // After AUTH the normal limits apply.
        c.send(b"AUTH s3cret\r\n");
        assert_eq!(c.read_raw_reply(), b"+OK\r\n", "{kind}");
        let mut mset = vec!["MSET".to_string()];
        for i in 0..5 {
            mset.push(format!("k{i}"));
            mset.push(format!("v{i}"));
        }
        c.send_cmd(&mset);
        assert_eq!(c.read_raw_reply(), b"+OK\r\n", "{kind}");
        let big = vec![b'y'; 100_000];
        c.send_cmd(&[b"ECHO".to_vec(), big.clone()]);
        assert!(
            c.read_raw_reply() == bulk_bytes(&big),
            "{kind}: 100 kB ECHO after AUTH"
        );
    }
}

#[test]
fn a_slow_client_mid_request_does_not_block_others() {
    // Half a request parked on one connection while another is served, on
    // a single event loop, where a blocking read would stall everyone.
    let server = soquete(&["--threads", "1"]);
    let mut slow = server.connect();
    slow.send(b"*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$5\r\nval");
    let mut other = server.connect();
    for _ in 0..100 {
        other.send(b"PING\r\n");
        assert_eq!(other.read_raw_reply(), b"+PONG\r\n");
    }
    slow.send(b"ue\r\n");
    assert_eq!(slow.read_raw_reply(), b"+OK\r\n");
    other.send(b"GET slow\r\n");
    assert_eq!(other.read_raw_reply(), b"$5\r\nvalue\r\n");
}
