//! Clients that misbehave, carelessly or on purpose, must not cost other
//! clients their service nor the server more than its configured limits:
//! half-closed connections are served and closed, output limits hold per
//! reply, `maxclients` fits the open-file limit, and a big argument costs
//! what was received of it.
//!
//! Each test runs the `soquete-server` binary (so that its memory and its
//! file descriptors are its own) on an ephemeral loopback port.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::Command;
use std::time::Duration;

use common::{eventually, info_field, resp, run_with_timeout, show, soquete, DEADLINE};
use soquete_resp::Frame;
use soquete_testkit::ServerProcess;

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
    let mut batch: Vec<u8> = (0..2000).flat_map(|_| resp(&["INCR", "n"])).collect();
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
