//! Transcripts against two real redis-servers: the same scenario gives the
//! same lines; a reply that differs is caught.

use std::net::SocketAddr;
use std::time::Duration;

use soquete_testkit::diff::Side;
use soquete_testkit::transcript::{assert_same, Transcript};
use soquete_testkit::{Conn, ServerProcess};

fn two_redis() -> (ServerProcess, ServerProcess) {
    (ServerProcess::redis(), ServerProcess::redis())
}

fn lists(addr: SocketAddr, t: &mut Transcript) {
    let mut c = Conn::connect(addr).unwrap();
    t.step("c", &mut c, &["RPUSH", "l", "a", "b"]);
    t.step("c", &mut c, &["LPOP", "l"]);
    t.push("a line of the scenario's own");
}

#[test]
fn the_same_scenario_gives_the_same_transcript() {
    let (a, b) = two_redis();
    let t = assert_same(&Side::of(&a), &Side::of(&b), lists);
    assert_eq!(
        t.lines(),
        [
            r#"c: ":2\r\n""#,
            r#"c: "$1\r\na\r\n""#,
            "a line of the scenario's own"
        ]
    );
}

#[test]
fn a_missing_reply_is_recorded_not_a_panic() {
    let redis = ServerProcess::redis();
    let mut c = redis.connect();
    c.set_timeout(Duration::from_millis(50)).unwrap();
    let mut t = Transcript::new();
    c.send(b"BLPOP nothing 0\r\n");
    assert_eq!(t.note("w", &mut c), None);
    let mut q = redis.connect();
    q.send(b"QUIT\r\n");
    t.note("q", &mut q);
    assert_eq!(t.note("q", &mut q), None);
    assert_eq!(
        t.lines(),
        ["w: no reply (TimedOut)", r#"q: "+OK\r\n""#, "q: closed"]
    );
}

#[test]
#[should_panic(expected = "line 0 of the transcripts")]
fn a_different_reply_fails() {
    let (a, b) = two_redis();
    assert_same(&Side::of(&a), &Side::of(&b), |addr, t| {
        let mut c = Conn::connect(addr).unwrap();
        t.step("c", &mut c, &["CONFIG", "GET", "port"]);
    });
}
