//! Client-side caching (CLIENT TRACKING) against real Redis: each scenario
//! runs on a fresh `redis-server` and on the soquete binary with two event
//! loops (consecutive connections land on different loops, so every
//! invalidation crosses loops), and the exact bytes each connection
//! receives must be the same. Client ids differ between servers: they are
//! written as `ID` in the transcripts.

use soquete_testkit::clients::{client_id, wait_gone};
use soquete_testkit::conn::connect;
use soquete_testkit::{Conn, ServerKind, ServerProcess};

/// What a scenario saw: labelled raw replies, client ids replaced.
#[derive(Default)]
struct Log {
    lines: Vec<String>,
    ids: Vec<i64>,
}

impl Log {
    fn id(&mut self, c: &mut Conn) -> i64 {
        let id = client_id(c);
        self.ids.push(id);
        id
    }

    fn note(&mut self, who: &str, raw: Vec<u8>) {
        let mut s = String::from_utf8_lossy(&raw).into_owned();
        for id in &self.ids {
            s = s.replace(&format!(":{id}\r\n"), ":ID\r\n");
        }
        self.lines.push(format!("{who}: {s:?}"));
    }

    /// Sends a command on `c` and records its reply.
    fn cmd(&mut self, who: &str, c: &mut Conn, args: &[&str]) {
        c.send_cmd(args);
        let r = c.read_raw_reply();
        self.note(who, r);
    }

    /// Records the next thing `c` receives (a push, a pub/sub message).
    fn next(&mut self, who: &str, c: &mut Conn) {
        let r = c.read_raw_reply();
        self.note(who, r);
    }
}

fn hello3(c: &mut Conn) {
    c.hello3();
}

/// Runs `scenario` on Redis and on soquete (2 loops) and compares.
fn same_as_redis(scenario: impl Fn(&ServerProcess, &mut Log)) {
    let redis = ServerProcess::redis();
    let mut want = Log::default();
    scenario(&redis, &mut want);
    let soquete = ServerProcess::builder(ServerKind::Soquete)
        .binary(env!("CARGO_BIN_EXE_soquete-server"))
        .args(["--threads", "2"])
        .start();
    let mut got = Log::default();
    scenario(&soquete, &mut got);
    assert_eq!(want.lines, got.lines, "soquete differs from redis-server");
}

fn conn(s: &ServerProcess) -> Conn {
    connect(s.addr())
}

#[test]
fn resp3_reader_is_told_when_another_client_writes_its_key() {
    same_as_redis(|s, log| {
        let (mut a, mut b) = (conn(s), conn(s));
        hello3(&mut a);
        log.cmd("a", &mut a, &["CLIENT", "TRACKING", "on"]);
        log.cmd("b", &mut b, &["SET", "k", "v"]);
        log.cmd("a", &mut a, &["GET", "k"]);
        log.cmd("a", &mut a, &["MGET", "k", "other"]);
        log.cmd("b", &mut b, &["SET", "k", "v2"]);
        log.next("a", &mut a);
        // Forgotten after one invalidation: a second write says nothing
        // until the key is read again.
        log.cmd("b", &mut b, &["SET", "k", "v3"]);
        log.cmd("b", &mut b, &["DEL", "other"]);
        log.cmd("a", &mut a, &["PING"]);
        log.cmd("a", &mut a, &["GET", "k"]);
        log.cmd("b", &mut b, &["APPEND", "k", "x"]);
        log.next("a", &mut a);
        // The reader's own write: its reply, then the invalidation.
        log.cmd("a", &mut a, &["GET", "k"]);
        log.cmd("a", &mut a, &["SET", "k", "mine"]);
        log.next("a", &mut a);
        log.cmd("a", &mut a, &["CLIENT", "TRACKINGINFO"]);
        log.cmd("a", &mut a, &["CLIENT", "GETREDIR"]);
        log.cmd("a", &mut a, &["CLIENT", "TRACKING", "off"]);
        log.cmd("a", &mut a, &["GET", "k"]);
        log.cmd("b", &mut b, &["SET", "k", "again"]);
        log.cmd("a", &mut a, &["PING"]);
    });
}

#[test]
fn resp2_invalidations_reach_the_redirect_subscriber_until_it_leaves() {
    same_as_redis(|s, log| {
        let (mut sub, mut a, mut b) = (conn(s), conn(s), conn(s));
        let sid = log.id(&mut sub);
        log.cmd("sub", &mut sub, &["SUBSCRIBE", "__redis__:invalidate"]);
        let sid_s = sid.to_string();
        log.cmd(
            "a",
            &mut a,
            &["CLIENT", "TRACKING", "on", "REDIRECT", &sid_s],
        );
        log.cmd("a", &mut a, &["CLIENT", "GETREDIR"]);
        log.cmd("a", &mut a, &["GET", "k"]);
        log.cmd("b", &mut b, &["SET", "k", "1"]);
        log.next("sub", &mut sub);
        log.cmd("a", &mut a, &["GET", "k"]);
        log.cmd("b", &mut b, &["FLUSHALL"]);
        log.next("sub", &mut sub);
        drop(sub);
        wait_gone(&mut b, sid);
        log.cmd("a", &mut a, &["GET", "k"]);
        log.cmd("b", &mut b, &["SET", "k", "2"]);
        log.cmd("b", &mut b, &["PING"]);
        // The broken redirection shows once the invalidation was tried.
        soquete_testkit::wait::eventually(
            "broken_redirect",
            soquete_testkit::wait::DEADLINE,
            || {
                a.send_cmd(&["CLIENT", "TRACKINGINFO"]);
                let r = a.read_raw_reply();
                String::from_utf8_lossy(&r)
                    .contains("broken_redirect")
                    .then_some(())
            },
        );
        log.cmd("a", &mut a, &["CLIENT", "TRACKINGINFO"]);
    });
}

#[test]
fn resp3_redirection_gets_pushes_and_its_loss_is_reported() {
    same_as_redis(|s, log| {
        let (mut r, mut a, mut b) = (conn(s), conn(s), conn(s));
        let rid = log.id(&mut r);
        hello3(&mut a);
        log.cmd(
            "a",
            &mut a,
            &["CLIENT", "TRACKING", "on", "REDIRECT", &rid.to_string()],
        );
        hello3(&mut r);
        log.cmd("a", &mut a, &["GET", "k"]);
        log.cmd("b", &mut b, &["SET", "k", "0"]);
        log.next("r", &mut r);
        log.cmd("a", &mut a, &["GET", "k"]);
        drop(r);
        wait_gone(&mut b, rid);
        log.cmd("b", &mut b, &["SET", "k", "1"]);
        log.next("a", &mut a);
        log.cmd("a", &mut a, &["CLIENT", "TRACKINGINFO"]);
    });
}

#[test]
fn bcast_prefixes_hear_of_every_matching_key_and_noloop_skips_own_writes() {
    same_as_redis(|s, log| {
        let (mut a, mut n, mut b) = (conn(s), conn(s), conn(s));
        hello3(&mut a);
        hello3(&mut n);
        log.cmd(
            "a",
            &mut a,
            &[
                "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "PREFIX", "obj:",
            ],
        );
        log.cmd(
            "n",
            &mut n,
            &[
                "CLIENT", "TRACKING", "on", "BCAST", "NOLOOP", "PREFIX", "user:",
            ],
        );
        log.cmd("b", &mut b, &["SET", "user:1", "x"]);
        log.next("a", &mut a);
        log.next("n", &mut n);
        log.cmd(
            "b",
            &mut b,
            &["MSET", "user:3", "a", "zzz", "b", "user:2", "c"],
        );
        log.next("a", &mut a);
        log.next("n", &mut n);
        log.cmd("b", &mut b, &["SET", "obj:7", "x"]);
        log.next("a", &mut a);
        // n's own write: nothing for n, a hears of it.
        log.cmd("n", &mut n, &["SET", "user:9", "x"]);
        log.next("a", &mut a);
        log.cmd("n", &mut n, &["PING"]);
        log.cmd("a", &mut a, &["CLIENT", "TRACKINGINFO"]);
        log.cmd("n", &mut n, &["CLIENT", "TRACKINGINFO"]);
    });
}

#[test]
fn optin_remembers_only_reads_after_client_caching_yes() {
    same_as_redis(|s, log| {
        let (mut a, mut b) = (conn(s), conn(s));
        hello3(&mut a);
        log.cmd("a", &mut a, &["CLIENT", "TRACKING", "on", "OPTIN"]);
        log.cmd("a", &mut a, &["GET", "k1"]);
        log.cmd("a", &mut a, &["CLIENT", "CACHING", "yes"]);
        log.cmd("a", &mut a, &["CLIENT", "TRACKINGINFO"]);
        log.cmd("a", &mut a, &["GET", "k2"]);
        log.cmd("a", &mut a, &["GET", "k3"]);
        log.cmd("b", &mut b, &["SET", "k1", "x"]);
        log.cmd("b", &mut b, &["SET", "k3", "x"]);
        log.cmd("b", &mut b, &["SET", "k2", "x"]);
        log.next("a", &mut a);
        log.cmd("a", &mut a, &["PING"]);
    });
}

#[test]
fn flushall_sends_a_null_invalidation_to_every_tracking_client() {
    same_as_redis(|s, log| {
        let (mut a, mut c, mut b) = (conn(s), conn(s), conn(s));
        hello3(&mut a);
        hello3(&mut c);
        log.cmd("a", &mut a, &["CLIENT", "TRACKING", "on"]);
        log.cmd("c", &mut c, &["CLIENT", "TRACKING", "on", "BCAST"]);
        log.cmd("a", &mut a, &["GET", "k"]);
        log.cmd("b", &mut b, &["FLUSHALL"]);
        log.next("a", &mut a);
        log.next("c", &mut c);
        // The table was emptied: k is no longer remembered.
        log.cmd("b", &mut b, &["SET", "k", "v"]);
        log.next("c", &mut c);
        log.cmd("a", &mut a, &["PING"]);
    });
}

#[test]
fn expired_keys_are_invalidated_lazily_and_actively() {
    same_as_redis(|s, log| {
        let (mut a, mut b) = (conn(s), conn(s));
        hello3(&mut a);
        log.cmd("a", &mut a, &["CLIENT", "TRACKING", "on"]);
        // Active expiry.
        log.cmd("b", &mut b, &["SET", "k", "v", "PX", "50"]);
        log.cmd("a", &mut a, &["GET", "k"]);
        log.next("a", &mut a);
        // Lazy expiry, found by another client's read.
        log.cmd("b", &mut b, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
        log.cmd("b", &mut b, &["SET", "j", "v", "PX", "20"]);
        log.cmd("a", &mut a, &["GET", "j"]);
        std::thread::sleep(std::time::Duration::from_millis(60));
        log.cmd("b", &mut b, &["GET", "j"]);
        log.next("a", &mut a);
        log.cmd("b", &mut b, &["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    });
}

/// Reads `n` keys with tracking on under `tracking-table-max-keys 5`, then
/// collects the invalidations that keep the table within the limit.
fn table_limit_scenario(s: &ServerProcess) -> (std::collections::BTreeSet<Vec<u8>>, String) {
    let mut a = conn(s);
    hello3(&mut a);
    let mut ctl = conn(s);
    ctl.cmd(&["CONFIG", "SET", "tracking-table-max-keys", "5"]);
    a.cmd(&["CLIENT", "TRACKING", "on"]);
    let mut invalidated = std::collections::BTreeSet::new();
    let note = |f: soquete_resp::Frame, inv: &mut std::collections::BTreeSet<Vec<u8>>| {
        if let soquete_resp::Frame::Push(items) = f {
            if let Some(soquete_resp::Frame::Array(keys)) = items.get(1) {
                for k in keys {
                    inv.insert(k.as_bytes().unwrap().to_vec());
                }
            }
            true
        } else {
            false
        }
    };
    for i in 0..20 {
        a.send_cmd(&["GET", &format!("k{i}")]);
        // The reply, with any pushes around it.
        loop {
            let f = a.read_frame();
            if !note(f, &mut invalidated) {
                break;
            }
        }
    }
    // Pushes written after the last reply: a PING flushes them out.
    a.send_cmd(&["PING"]);
    loop {
        let f = a.read_frame();
        if !note(f, &mut invalidated) {
            break;
        }
    }
    let info = soquete_testkit::frames::text(&ctl.cmd(&["INFO", "stats"]));
    let total = soquete_testkit::frames::info_field(info.as_bytes(), "tracking_total_keys")
        .unwrap_or_default();
    ctl.cmd(&["CONFIG", "SET", "tracking-table-max-keys", "1000000"]);
    (invalidated, total)
}

#[test]
fn the_tracking_table_stays_within_its_limit_and_tells_the_readers() {
    let redis = ServerProcess::redis();
    let (redis_inv, redis_total) = table_limit_scenario(&redis);
    let soquete = ServerProcess::builder(ServerKind::Soquete)
        .binary(env!("CARGO_BIN_EXE_soquete-server"))
        .args(["--threads", "2"])
        .start();
    let (inv, total) = table_limit_scenario(&soquete);
    // Which keys go is random in both; how many is not.
    assert_eq!(total, redis_total, "tracking_total_keys");
    assert_eq!(
        inv.len(),
        redis_inv.len(),
        "keys invalidated to keep the limit"
    );
    assert_eq!(inv.len(), 15);
    for k in &inv {
        assert!(k.starts_with(b"k"), "{k:?}");
    }
}
