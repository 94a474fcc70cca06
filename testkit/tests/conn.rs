//! Conn against real redis-server.

use std::io::ErrorKind;
use std::time::Duration;

use soquete_resp::Frame;
use soquete_testkit::{Conn, ServerProcess};

#[test]
fn cmd_inline_and_raw_replies() {
    let redis = ServerProcess::redis();
    let mut c = redis.connect();
    assert_eq!(c.cmd(&["SET", "k", "v"]), Frame::Simple("OK".into()));
    assert_eq!(c.cmd(&[&b"GET"[..], b"k"]), Frame::Bulk("v".into()));
    assert_eq!(c.inline("ECHO \"a b\""), Frame::Bulk("a b".into()));
    c.send(b"*2\r\n$3\r\nGET\r\n$6\r\nnosuch\r\n");
    assert_eq!(c.read_raw_reply(), b"$-1\r\n");
    // Two replies in one read are handed out one at a time, exactly.
    c.send(b"PING\r\nMGET k nosuch\r\n");
    assert_eq!(c.read_raw_reply(), b"+PONG\r\n");
    assert_eq!(c.read_raw_reply(), b"*2\r\n$1\r\nv\r\n$-1\r\n");
    let err = c.cmd(&["GET"]);
    assert_eq!(
        err,
        Frame::Error("ERR wrong number of arguments for 'get' command".into())
    );
}

#[test]
fn big_replies_arrive_whole() {
    let redis = ServerProcess::redis();
    let mut c = redis.connect();
    let big = vec![b'x'; 3 * 1024 * 1024 + 7];
    c.cmd(&[&b"SET"[..], b"big", &big]);
    c.send_cmd(&["GET", "big"]);
    let raw = c.read_raw_reply();
    assert_eq!(&raw[..11], b"$3145735\r\nx");
    assert_eq!(raw.len(), 3 * 1024 * 1024 + 7 + 12);
}

#[test]
fn hello3_switches_to_resp3() {
    let redis = ServerProcess::redis();
    let mut c = redis.connect();
    assert!(matches!(c.hello3(), Frame::Map(_)));
    c.send_cmd(&["GET", "nosuch"]);
    assert_eq!(c.read_raw_reply(), b"_\r\n");
}

#[test]
fn a_silent_server_times_out_instead_of_hanging() {
    let redis = ServerProcess::redis();
    let mut c = redis.connect();
    c.set_timeout(Duration::from_millis(100)).unwrap();
    c.send(b"BLPOP nosuch 0\r\n"); // blocks forever
    let err = c.try_read_reply().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
}

#[test]
fn close_is_seen_as_none_and_expect_closed() {
    let redis = ServerProcess::redis();
    let mut c = redis.connect();
    assert_eq!(c.cmd(&["QUIT"]), Frame::Simple("OK".into()));
    c.expect_closed().unwrap();
    let mut c = Conn::connect(redis.addr()).unwrap();
    c.send(b"*x\r\n");
    assert!(matches!(c.read_frame(), Frame::Error(_)));
    assert!(c.try_read_reply().unwrap().is_none());
    let mut open = redis.connect();
    open.set_timeout(Duration::from_millis(50)).unwrap();
    assert!(
        open.expect_closed().is_err(),
        "an open connection is not closed"
    );
}
