//! Helpers shared by the issue 7 tests (`issue7_*.rs`: transactions, pub/sub
//! and blocking commands across event loops): servers, connections, reply
//! accessors, threads that start together, and readiness checks that say
//! when a client is blocked or gone, so that no test sleeps.
//!
//! Each test binary compiles this module on its own and uses part of it.
#![allow(dead_code)]

use std::net::SocketAddr;

use soquete_resp::Frame;
use soquete_server::{Config, ServerHandle};
use soquete_testkit::{Conn, ServerProcess};

#[path = "../common/mod.rs"]
mod base;

pub use base::{together, DEADLINE};

/// soquete in this process with `threads` event loops on
/// `127.0.0.1:<ephemeral>`. Accepted connections are dealt to the loops in
/// turn, so consecutive connections land on different loops.
pub fn server(threads: usize) -> (ServerHandle, SocketAddr) {
    base::in_process(Config {
        threads,
        ..Config::default()
    })
}

/// The `soquete-server` binary with `args` on `127.0.0.1:<ephemeral>`.
pub fn soquete_process(args: &[&str]) -> ServerProcess {
    base::soquete(args)
}

/// Real `redis-server` on `127.0.0.1:<ephemeral>` (persistence off).
pub fn redis_process(args: &[&str]) -> ServerProcess {
    base::redis(args)
}

/// A test connection.
pub fn connect(addr: SocketAddr) -> Conn {
    Conn::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"))
}

/// An integer reply.
pub fn int(frame: &Frame) -> i64 {
    match frame {
        Frame::Integer(n) => *n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

/// A string reply (simple or bulk) as text.
pub fn text(frame: &Frame) -> String {
    match frame.as_bytes() {
        Some(b) => String::from_utf8_lossy(b).into_owned(),
        None => panic!("expected a string, got {frame:?}"),
    }
}

/// A bulk reply holding an integer.
pub fn bulk_int(frame: &Frame) -> i64 {
    text(frame)
        .parse()
        .unwrap_or_else(|_| panic!("expected a number, got {frame:?}"))
}

/// The elements of an array (or RESP3 push) reply.
pub fn items(frame: Frame) -> Vec<Frame> {
    match frame {
        Frame::Array(v) | Frame::Push(v) => v,
        other => panic!("expected an array, got {other:?}"),
    }
}

/// Polls `f` with a short back-off until it returns `Some`, for at most
/// [`DEADLINE`]; panics naming `what` otherwise. A readiness check.
pub fn eventually<T>(what: &str, f: impl FnMut() -> Option<T>) -> T {
    base::eventually(what, DEADLINE, f)
}

/// The connection's client id.
pub fn client_id(conn: &mut Conn) -> i64 {
    int(&conn.cmd(&["CLIENT", "ID"]))
}

/// The `CLIENT LIST` line of client `id`, if it is connected.
pub fn client_line(ctl: &mut Conn, id: i64) -> Option<String> {
    let list = text(&ctl.cmd(&["CLIENT", "LIST", "ID", &id.to_string()]));
    list.lines()
        .find(|l| l.starts_with(&format!("id={id} ")))
        .map(str::to_string)
}

/// Waits until client `id` runs `cmd` (as `CLIENT LIST` names it: `blpop`,
/// `blmove`...) and nothing after it: it is blocked in that command. (Redis
/// also flags it `b`; the last command is what both servers report.)
pub fn wait_blocked(ctl: &mut Conn, id: i64, cmd: &str) {
    let want = format!(" cmd={cmd} ");
    eventually(&format!("client {id} to block in {cmd}"), || {
        client_line(ctl, id)
            .filter(|l| l.contains(&want) && flags(l).contains('b'))
            .map(|_| ())
    });
}

/// The `flags=` field of a CLIENT LIST line (`b` while blocked, on both
/// servers; soquete raises it only once the client is registered as a
/// waiter, so a push after seeing it always finds the waiter).
fn flags(line: &str) -> &str {
    line.split(' ')
        .find_map(|f| f.strip_prefix("flags="))
        .unwrap_or("")
}

/// Waits until client `id` is no longer connected.
pub fn wait_gone(ctl: &mut Conn, id: i64) {
    eventually(&format!("client {id} to be gone"), || {
        client_line(ctl, id).is_none().then_some(())
    });
}

/// The value of `field` in an INFO reply.
pub fn info_field(ctl: &mut Conn, section: &str, field: &str) -> Option<String> {
    let info = text(&ctl.cmd(&["INFO", section]));
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':').map(str::to_string))
}
