//! Clients that misbehave, carelessly or on purpose, must not cost other
//! clients their service nor the server more than its configured limits:
//! half-closed connections are served and closed, output limits hold per
//! reply, `maxclients` fits the open-file limit, and a big argument costs
//! what was received of it.
//!
//! Each test runs the `soquete-server` binary (so that its memory and its
//! file descriptors are its own) on an ephemeral loopback port.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::Command;
use std::time::Duration;

use soquete_resp::Frame;
use soquete_testkit::conn::command_bytes;
use soquete_testkit::frames::{info_field, items};
use soquete_testkit::render::show;
use soquete_testkit::tools::run_with_timeout;
use soquete_testkit::wait::{eventually, DEADLINE};
use soquete_testkit::{Conn, ServerBuilder, ServerKind, ServerProcess};

/// The binary under test, built by cargo for this test run.
const BIN: &str = env!("CARGO_BIN_EXE_soquete-server");

/// The binary on `127.0.0.1:<ephemeral>` with `args`.
fn soquete(args: &[&str]) -> ServerProcess {
    ServerProcess::builder(ServerKind::Soquete)
        .binary(BIN)
        .args(args)
        .start()
}

/// `connected_clients` as INFO reports it to a fresh connection (which
/// counts itself).
fn connected_clients(server: &ServerProcess) -> u64 {
    let mut c = server.connect();
    let info = c.cmd(&["INFO", "clients"]);
    let text = info.as_bytes().expect("INFO is a bulk string").to_vec();
    info_field(&text, "connected_clients")
        .and_then(|v| v.parse().ok())
        .expect("connected_clients in INFO")
}

/// Waits until the server counts `want` clients (the asking one included).
fn settles_at(server: &ServerProcess, want: u64) {
    eventually(
        &format!("connected_clients back to {want}"),
        DEADLINE,
        || (connected_clients(server) == want).then_some(()),
    );
}

/// Sends `request`, shuts down the writing side and reads to end-of-file
/// (failing after a few seconds without it).
fn send_and_half_close(server: &ServerProcess, request: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(server.addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    s.write_all(request).expect("send");
    s.shutdown(Shutdown::Write).expect("shutdown(SHUT_WR)");
    let mut got = Vec::new();
    if let Err(e) = s.read_to_end(&mut got) {
        panic!(
            "no end-of-file after a half-close ({e}); received {}",
            show(&got)
        );
    }
    got
}

#[test]
fn a_half_closed_client_gets_its_replies_then_end_of_file() {
    let server = soquete(&[]);
    let before = connected_clients(&server);
    let want = b"+OK\r\n$1\r\nv\r\n".to_vec();
    for _ in 0..50 {
        let got = send_and_half_close(&server, b"SET k v\r\nGET k\r\n");
        assert_eq!(show(&got), show(&want));
    }
    // A pipelined batch big enough to take several reads, and a request cut
    // short by the end-of-file (its partial bytes are dropped).
    let mut batch: Vec<u8> = (0..2000)
        .flat_map(|_| command_bytes(&["INCR", "n"]))
        .collect();
    batch.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$1\r\n");
    let got = send_and_half_close(&server, &batch);
    let want: Vec<u8> = (1..=2000)
        .flat_map(|i| format!(":{i}\r\n").into_bytes())
        .collect();
    assert_eq!(got.len(), want.len());
    assert!(got == want, "replies to a half-closed pipeline differ");
    settles_at(&server, before);
}

#[test]
fn a_half_closed_blocked_client_is_closed() {
    let server = soquete(&[]);
    let before = connected_clients(&server);
    // Redis frees a blocked client whose peer has shut its side: no reply.
    let got = send_and_half_close(&server, b"BLPOP nothing 0\r\n");
    assert!(got.is_empty(), "got {}", show(&got));
    settles_at(&server, before);
    // A later push finds no waiter left behind.
    let mut c = server.connect();
    assert_eq!(c.cmd(&["RPUSH", "nothing", "x"]), Frame::Integer(1));
    assert_eq!(c.cmd(&["LLEN", "nothing"]), Frame::Integer(1));
}

#[test]
fn nc_with_a_half_close_exits_after_the_replies() {
    let server = soquete(&[]);
    let before = connected_clients(&server);
    let port = server.port().to_string();
    for host in ["127.0.0.1", "localhost"] {
        for _ in 0..25 {
            // -N: shut down the socket's writing side at end of input, then
            // quit when the server closes (what `nc -q1` does in a second).
            let mut nc = Command::new("nc");
            nc.args(["-N", host, &port]);
            let out = run_with_timeout(nc, b"SET \"a b\" 1\r\nGET \"a b\"\r\n", DEADLINE);
            assert!(out.status.success(), "nc failed: {out:?}");
            assert_eq!(show(&out.stdout), show(b"+OK\r\n$1\r\n1\r\n"));
        }
    }
    settles_at(&server, before);
}

const MB: usize = 1 << 20;

/// A connection that lets at most a few KB of replies wait in its own
/// receive buffer: what it does not read stays on the server's side.
fn stalled_reader(server: &ServerProcess) -> TcpStream {
    let s =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("a socket");
    s.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    s.connect(&server.addr().into()).expect("connect");
    let s: TcpStream = s.into();
    s.set_read_timeout(Some(DEADLINE)).expect("read timeout");
    s
}

/// Reads until the server closes the connection (end-of-file or reset);
/// returns the bytes received.
fn read_until_closed(s: &mut TcpStream) -> usize {
    let mut total = 0;
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => return total,
            Ok(n) => total += n,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return total,
            Err(e) => panic!("the server did not close the connection: {e} after {total} bytes"),
        }
    }
}

/// How much the server's resident memory grew at its peak while `attack`
/// ran, over what it was before.
fn peak_growth(server: &ServerProcess, attack: impl FnOnce()) -> usize {
    server.reset_peak_rss().expect("reset the peak RSS");
    let base = server.rss_bytes().expect("RSS");
    attack();
    let peak = server.peak_rss_bytes().expect("peak RSS");
    peak.saturating_sub(base) as usize
}

#[test]
fn pipelined_replies_past_the_output_limit_close_the_client_near_the_limit() {
    let server = soquete(&["--client-output-buffer-limit", "normal 8mb 4mb 10"]);
    let mut other = server.connect();
    other.cmd(&["SET".as_bytes(), b"big", &vec![b'x'; MB]]);
    let mut received = 0;
    let growth = peak_growth(&server, || {
        // 1000 GETs of 1 MB in one write, and no reading until the server
        // has given up on the client.
        let mut s = stalled_reader(&server);
        s.write_all(&command_bytes(&["GET", "big"]).repeat(1000))
            .expect("send");
        received = read_until_closed(&mut s);
    });
    assert!(
        received < 100 * MB,
        "the client received {received} bytes of 1000 MB: the limit did not hold"
    );
    assert!(
        growth < 2 * 8 * MB,
        "the server grew {growth} bytes for an 8 MB output limit"
    );
    assert_eq!(other.cmd(&["PING"]), Frame::Simple("PONG".into()));
}

#[test]
fn a_stalled_subscriber_is_closed_near_the_pubsub_output_limit() {
    let server = soquete(&["--client-output-buffer-limit", "pubsub 8mb 4mb 60"]);
    let mut sub = stalled_reader(&server);
    sub.write_all(&command_bytes(&["SUBSCRIBE", "ch"]))
        .expect("subscribe");
    let mut confirm = [0u8; 64];
    let n = sub.read(&mut confirm).expect("subscribe confirmation");
    assert!(confirm[..n].ends_with(b":1\r\n"), "{}", show(&confirm[..n]));
    let mut publisher = server.connect();
    let publish = command_bytes(&["PUBLISH".as_bytes(), b"ch", &vec![b'm'; 100_000]]);
    let mut publish_all = |n: usize| {
        publisher.send(&publish.repeat(n));
        (0..n)
            .map(|_| match publisher.read_frame() {
                Frame::Integer(n) => n,
                other => panic!("PUBLISH replied {other:?}"),
            })
            .sum::<i64>()
    };
    let growth = peak_growth(&server, || {
        // 200 messages of 100 KB (20 MB) published in one pipeline.
        publish_all(200);
        read_until_closed(&mut sub);
    });
    // The limit counts the subscriber's pending output and the messages in
    // flight to its loop together; while that loop lags, a message can be
    // held both as a delivery on its way and as output bytes, so the
    // server may briefly hold twice the limit, and the allocator keeps some
    // of what it freed (a peak of 17.3 MB was seen once on a 2-vCPU VM).
    assert!(
        growth < 3 * 8 * MB,
        "the server grew {growth} bytes for an 8 MB pub/sub output limit"
    );
    // Once the server has let the subscriber go, messages reach no one.
    let mut c = server.connect();
    eventually("the subscriber to be gone", Duration::from_secs(10), || {
        let r = items(c.cmd(&["PUBSUB", "NUMSUB", "ch"]));
        (r.get(1) == Some(&Frame::Integer(0))).then_some(())
    });
    assert_eq!(
        publish_all(100),
        0,
        "messages after the close were delivered"
    );
}

/// The CLIENT LIST line of the client whose last command was `cmd`.
fn client_line(server: &ServerProcess, cmd: &str) -> Option<String> {
    let mut c = server.connect();
    let list = c.cmd(&["CLIENT", "LIST"]);
    let text = String::from_utf8_lossy(list.as_bytes()?).into_owned();
    text.lines()
        .find(|l| l.contains(&format!(" cmd={cmd} ")))
        .map(str::to_string)
}

/// The value of `field` in a CLIENT LIST line.
fn list_field<'a>(line: &'a str, field: &str) -> &'a str {
    line.split(' ')
        .find_map(|f| f.strip_prefix(field)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {field} in {line}"))
}

#[test]
fn pending_output_shows_in_client_list_and_info() {
    let server = soquete(&[]);
    let mut c = server.connect();
    c.cmd(&["SET".as_bytes(), b"big", &vec![b'x'; MB]]);
    // 20 MB of replies that the client does not read yet.
    let mut s = stalled_reader(&server);
    s.write_all(&command_bytes(&["GET", "big"]).repeat(20))
        .expect("send");
    let line = eventually(
        "the stalled reader's output in CLIENT LIST",
        DEADLINE,
        || {
            let line = client_line(&server, "get")?;
            let omem: usize = list_field(&line, "omem").parse().ok()?;
            (omem > 10 * MB).then_some(line)
        },
    );
    assert_eq!(list_field(&line, "events"), "rw", "{line}");
    let oll: usize = list_field(&line, "oll").parse().expect("oll");
    assert!(oll > 0, "{line}");
    eventually("client_recent_max_output_buffer", DEADLINE, || {
        let info = c.cmd(&["INFO", "clients"]);
        let max: usize = info_field(info.as_bytes()?, "client_recent_max_output_buffer")?
            .parse()
            .ok()?;
        (max > 10 * MB).then_some(())
    });
    // Read it all: nothing pending any more.
    let mut left = 20 * (MB + 12);
    let mut chunk = vec![0u8; 1 << 16];
    while left > 0 {
        let n = s.read(&mut chunk).expect("the replies");
        assert!(n > 0, "closed with {left} bytes of replies unread");
        left = left.saturating_sub(n);
    }
    let line = client_line(&server, "get").expect("the reader is still connected");
    assert_eq!(
        (
            list_field(&line, "obl"),
            list_field(&line, "oll"),
            list_field(&line, "omem"),
            list_field(&line, "events")
        ),
        ("0", "0", "0", "r"),
        "{line}"
    );
}

/// What `n` clients connected at once (none closing) got for a PING:
/// (PONG, `max number of clients reached`). Panics when any got something
/// else or nothing within a few seconds.
fn ping_many(server: &ServerProcess, n: usize) -> (usize, usize) {
    let mut clients: Vec<TcpStream> = (0..n)
        .map(|i| {
            let mut s = TcpStream::connect_timeout(&server.addr(), Duration::from_secs(5))
                .unwrap_or_else(|e| panic!("client {i} could not connect: {e}"));
            s.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("read timeout");
            s.write_all(b"PING\r\n").expect("send");
            s
        })
        .collect();
    let (mut pong, mut refused) = (0, 0);
    for (i, s) in clients.iter_mut().enumerate() {
        let mut got = Vec::new();
        let mut chunk = [0u8; 64];
        while !got.ends_with(b"\r\n") {
            match s.read(&mut chunk) {
                Ok(0) => break,
                Ok(k) => got.extend_from_slice(&chunk[..k]),
                Err(e) => panic!("client {i} of {n} got no answer: {e}"),
            }
        }
        match &got[..] {
            b"+PONG\r\n" => pong += 1,
            b"-ERR max number of clients reached\r\n" => refused += 1,
            other => panic!("client {i} of {n} got {}", show(other)),
        }
    }
    (pong, refused)
}

/// CONFIG GET maxclients.
fn maxclients(c: &mut Conn) -> usize {
    match c.cmd(&["CONFIG", "GET", "maxclients"]) {
        Frame::Array(v) => std::str::from_utf8(v[1].as_bytes().expect("a bulk value"))
            .expect("digits")
            .parse()
            .expect("a number"),
        other => panic!("CONFIG GET maxclients replied {other:?}"),
    }
}

#[test]
fn under_a_low_open_file_limit_every_client_gets_a_reply_or_the_maxclients_error() {
    // What each server makes of `ulimit -n 256` (Redis: maxclients 224 when
    // it may not raise the limit, 10000 when it may), then 400 clients.
    let outcome = |kind| {
        let server = builder(kind).open_file_limit(256).start();
        // This client stays connected throughout, so it counts.
        let mut c = server.connect();
        let max = maxclients(&mut c);
        let (pong, refused) = ping_many(&server, 400);
        let raise = c.cmd(&["CONFIG", "SET", "maxclients", "100000"]);
        (max, pong, refused, raise)
    };
    let soquete = outcome(ServerKind::Soquete);
    let redis = outcome(ServerKind::Redis);
    assert_eq!(soquete, redis);
    let (max, pong, refused, _) = soquete;
    assert_eq!(pong, (max - 1).min(400), "clients served");
    assert_eq!(pong + refused, 400);
}

/// A builder for `kind`, soquete being the binary under test.
fn builder(kind: ServerKind) -> ServerBuilder {
    match kind {
        ServerKind::Soquete => ServerProcess::builder(kind).binary(BIN),
        ServerKind::Redis => ServerProcess::builder(kind),
    }
}

#[test]
fn a_process_out_of_descriptors_still_answers_every_client() {
    // 64 descriptors, 32 of them for clients as maxclients says, but 16
    // event loops take two each besides: the process runs out before
    // maxclients is reached, and the clients past that point must still be
    // told rather than left waiting in the listener's queue.
    let server = builder(ServerKind::Soquete)
        .open_file_limit(64)
        .args(["--maxclients", "32", "--threads", "16"])
        .start();
    let (pong, refused) = ping_many(&server, 100);
    assert_eq!(pong + refused, 100);
    assert!(pong > 0 && pong < 32, "{pong} served");
    assert!(
        server.output().contains("Too many open files"),
        "the descriptors did not run out: {}",
        server.output()
    );
}

/// The largest `qbuf` (input received, not yet run) in CLIENT LIST.
fn largest_qbuf(c: &mut Conn) -> usize {
    let list = c.cmd(&["CLIENT", "LIST"]);
    let text =
        String::from_utf8_lossy(list.as_bytes().expect("CLIENT LIST is a bulk")).into_owned();
    text.lines()
        .map(|l| list_field(l, "qbuf").parse::<usize>().expect("qbuf"))
        .max()
        .unwrap_or(0)
}

#[test]
fn big_arguments_cost_what_was_received_of_them_and_are_given_back() {
    let server = soquete(&[]);
    let mut c = server.connect();
    let base = server.rss_bytes().expect("RSS");
    // Eight clients announce a 512 MB argument each and send 16 MB of it.
    let header = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n";
    let chunk = vec![b'y'; MB];
    let mut senders: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut s = TcpStream::connect(server.addr()).expect("connect");
            s.write_all(header).expect("send");
            s
        })
        .collect();
    for _ in 0..16 {
        for s in &mut senders {
            s.write_all(&chunk).expect("send");
        }
    }
    eventually("the server to hold what was sent", DEADLINE, || {
        (largest_qbuf(&mut c) >= 16 * MB).then_some(())
    });
    // Every client's 16 MB arrived (the largest has; the others were sent
    // before it finished): the server holds 128 MB of arguments.
    eventually("all of it received", DEADLINE, || {
        let list = c.cmd(&["CLIENT", "LIST"]);
        let text = String::from_utf8_lossy(list.as_bytes()?).into_owned();
        let full = text
            .lines()
            .filter(|l| list_field(l, "qbuf").parse::<usize>().ok() >= Some(16 * MB))
            .count();
        (full == 8).then_some(())
    });
    let received = 8 * 16 * MB;
    let grown = server.rss_bytes().expect("RSS").saturating_sub(base) as usize;
    assert!(
        grown < received + received / 5,
        "holding {received} bytes of arguments grew the server by {grown}"
    );
    drop(senders);
    // Given back once the clients are gone (the allocator purges freed
    // pages in the background within seconds).
    eventually("the memory given back", DEADLINE, || {
        let now = server.rss_bytes().ok()? as usize;
        (now < base as usize + received / 8).then_some(())
    });
}
