//! Blocking commands across event loops: waiters served first come first
//! served whatever loop they are on, no lost wake-ups with many producers
//! and consumers, fractional timeouts, waiters that disconnect, CLIENT
//! UNBLOCK, BLMOVE chains (atomic, and passing an element on past a
//! wrong-type destination), SWAPDB waking waiters, and how blocked clients
//! show in CLIENT LIST and INFO.
//!
//! Scenarios whose exact replies matter run against real `redis-server` and
//! the `soquete-server` binary (2 event loops) in turn, and their
//! transcripts must be identical byte for byte; the load tests run soquete
//! in this process with 3 loops. A client is known to be blocked when
//! `CLIENT LIST` shows the blocking command as its last one (a readiness
//! check, never a sleep). Every loop is bounded in count.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use soquete_resp::Frame;
mod common;

use common::server;
use soquete_testkit::clients::{client_id, wait_blocked, wait_gone};
use soquete_testkit::conn::{command_bytes, connect};
use soquete_testkit::diff::Side;
use soquete_testkit::frames::{bulk_int, info_field, int, items, text};
use soquete_testkit::render::escape;
use soquete_testkit::transcript::{assert_same, Transcript};
use soquete_testkit::wait::{eventually, together, DEADLINE};
use soquete_testkit::{Conn, ServerKind, ServerProcess};

/// The `soquete-server` binary cargo built for this test run, with `args`,
/// on `127.0.0.1:<ephemeral>`.
fn soquete_process(args: &[&str]) -> ServerProcess {
    ServerProcess::builder(ServerKind::Soquete)
        .binary(env!("CARGO_BIN_EXE_soquete-server"))
        .args(args)
        .start()
}

/// Runs `scenario` against real Redis and against the soquete binary (2
/// event loops), each on a fresh server, and asserts that both transcripts
/// are the same. Returns soquete's, for further checks.
fn same_as_redis(scenario: fn(SocketAddr, &mut Transcript)) -> Transcript {
    let redis = ServerProcess::redis();
    let ours = soquete_process(&["--threads", "2"]);
    assert_same(&Side::of(&redis), &Side::of(&ours), scenario)
}

/// Opens `n` connections (consecutive, so on different loops) and returns
/// them with their client ids.
fn clients(addr: SocketAddr, n: usize) -> Vec<(Conn, i64)> {
    (0..n)
        .map(|_| {
            let mut c = connect(addr);
            let id = client_id(&mut c);
            (c, id)
        })
        .collect()
}

/// Waiters blocked one after the other on the same key, on different loops,
/// with different commands that all pop from the left, are served in
/// arrival order by one RPUSH of many elements; a waiter on several keys
/// takes the first of them that becomes ready, and keeps its place in the
/// queue of each.
fn fairness(addr: SocketAddr, t: &mut Transcript) {
    let mut ctl = connect(addr);
    let mut w = clients(addr, 6);
    let commands: [&[&str]; 6] = [
        &["BLPOP", "fair", "0"],
        &["BLMPOP", "0", "1", "fair", "LEFT", "COUNT", "2"],
        &["BLMOVE", "fair", "fair:moved", "LEFT", "RIGHT", "0"],
        &["BLPOP", "other", "fair", "0"],
        &["BRPOPLPUSH", "nothere", "fair:moved", "0"],
        &["BLPOP", "fair", "0"],
    ];
    for (i, cmd) in commands.iter().enumerate() {
        w[i].0.send_cmd(cmd);
        let name = cmd[0].to_ascii_lowercase();
        wait_blocked(&mut ctl, w[i].1, &name);
    }
    // Five elements for the four waiters on `fair` (BLMPOP takes two).
    t.step(
        "ctl",
        &mut ctl,
        &["RPUSH", "fair", "a", "b", "c", "d", "e", "f"],
    );
    for i in [0, 1, 2, 3, 5] {
        t.note(&format!("w{i}"), &mut w[i].0);
    }
    t.step("ctl", &mut ctl, &["LRANGE", "fair", "0", "-1"]);
    t.step("ctl", &mut ctl, &["LRANGE", "fair:moved", "0", "-1"]);
    t.step("ctl", &mut ctl, &["RPUSH", "nothere", "n"]);
    t.note("w4", &mut w[4].0);
    // A waiter on two keys keeps its place in both queues.
    w[0].0.send_cmd(&["BLPOP", "k1", "k2", "0"]);
    wait_blocked(&mut ctl, w[0].1, "blpop");
    w[1].0.send_cmd(&["BLPOP", "k2", "0"]);
    wait_blocked(&mut ctl, w[1].1, "blpop");
    w[2].0.send_cmd(&["BLPOP", "k1", "0"]);
    wait_blocked(&mut ctl, w[2].1, "blpop");
    t.step("ctl", &mut ctl, &["RPUSH", "k2", "x"]);
    t.note("w0", &mut w[0].0);
    t.step("ctl", &mut ctl, &["RPUSH", "k1", "y"]);
    t.note("w2", &mut w[2].0);
    t.step("ctl", &mut ctl, &["RPUSH", "k2", "z"]);
    t.note("w1", &mut w[1].0);
    // Pushes in one EXEC serve waiters after it, with what is left.
    w[3].0.send_cmd(&["BRPOP", "tx", "0"]);
    wait_blocked(&mut ctl, w[3].1, "brpop");
    ctl.send(b"MULTI\r\nRPUSH tx 1 2 3\r\nRPOP tx\r\nLPUSH tx 0\r\nEXEC\r\n");
    for _ in 0..5 {
        t.note("ctl", &mut ctl);
    }
    t.note("w3", &mut w[3].0);
    t.step("ctl", &mut ctl, &["LRANGE", "tx", "0", "-1"]);
}

#[test]
fn waiters_are_served_in_arrival_order_across_loops() {
    let t = same_as_redis(fairness);
    // Spot checks on top of matching Redis: the first waiters got a, [b, c], d.
    assert!(
        t.lines()[1].contains("*2\\r\\n$4\\r\\nfair\\r\\n$1\\r\\na\\r\\n"),
        "{t:?}"
    );
    assert!(
        t.lines()[3].starts_with("w2: ") && t.lines()[3].contains("$1\\r\\nd\\r\\n"),
        "{t:?}"
    );
}

/// BLMOVE waiters chained through their destinations hand one element on
/// to the end of the chain within the one push; two that move between the
/// same pair of keys pass it back; and a BLMOVE whose source is pushed
/// inside MULTI runs after EXEC.
fn chains(addr: SocketAddr, t: &mut Transcript) {
    let mut ctl = connect(addr);
    let mut w = clients(addr, 4);
    w[0].0
        .send_cmd(&["BLMOVE", "c1", "c2", "LEFT", "RIGHT", "0"]);
    wait_blocked(&mut ctl, w[0].1, "blmove");
    w[1].0.send_cmd(&["BRPOPLPUSH", "c2", "c3", "0"]);
    wait_blocked(&mut ctl, w[1].1, "brpoplpush");
    w[2].0.send_cmd(&["BLMPOP", "0", "1", "c3", "RIGHT"]);
    wait_blocked(&mut ctl, w[2].1, "blmpop");
    w[3].0.send_cmd(&["BLPOP", "c3", "0"]);
    wait_blocked(&mut ctl, w[3].1, "blpop");
    // x travels c1 -> c2 -> c3 -> w2; y stays (w0 moves one element).
    t.step("ctl", &mut ctl, &["RPUSH", "c1", "x", "y"]);
    for (i, (conn, _)) in w.iter_mut().take(3).enumerate() {
        t.note(&format!("w{i}"), conn);
    }
    t.step("ctl", &mut ctl, &["EXISTS", "c1", "c2", "c3"]);
    t.step("ctl", &mut ctl, &["LRANGE", "c1", "0", "-1"]);
    t.step("ctl", &mut ctl, &["LPUSH", "c3", "z"]);
    t.note("w3", &mut w[3].0);
    // Back and forth between two keys: the element ends where it started.
    w[0].0
        .send_cmd(&["BLMOVE", "r1", "r2", "RIGHT", "LEFT", "0"]);
    wait_blocked(&mut ctl, w[0].1, "blmove");
    w[1].0
        .send_cmd(&["BLMOVE", "r2", "r1", "LEFT", "RIGHT", "0"]);
    wait_blocked(&mut ctl, w[1].1, "blmove");
    t.step("ctl", &mut ctl, &["LPUSH", "r1", "ping"]);
    t.note("w0", &mut w[0].0);
    t.note("w1", &mut w[1].0);
    t.step("ctl", &mut ctl, &["LRANGE", "r1", "0", "-1"]);
    t.step("ctl", &mut ctl, &["EXISTS", "r2"]);
    // A BLMOVE into its own source rotates; inside EXEC it waits for EXEC.
    w[2].0
        .send_cmd(&["BLMOVE", "self", "self", "LEFT", "RIGHT", "0"]);
    wait_blocked(&mut ctl, w[2].1, "blmove");
    w[3].0.send_cmd(&["BLPOP", "self:next", "0"]);
    wait_blocked(&mut ctl, w[3].1, "blpop");
    ctl.send(b"MULTI\r\nRPUSH self a b\r\nLMOVE self self:next LEFT LEFT\r\nLRANGE self 0 -1\r\nEXEC\r\n");
    for _ in 0..5 {
        t.note("ctl", &mut ctl);
    }
    t.note("w3", &mut w[3].0);
    t.note("w2", &mut w[2].0);
    t.step("ctl", &mut ctl, &["LRANGE", "self", "0", "-1"]);
}

#[test]
fn blmove_chains_hand_an_element_on() {
    let t = same_as_redis(chains);
    assert!(
        t.lines()
            .iter()
            .any(|l| l.starts_with("w2: ") && l.contains("$1\\r\\nx")),
        "{t:?}"
    );
}

/// CLIENT UNBLOCK wakes a blocked client with its timeout reply (TIMEOUT,
/// the default) or an `-UNBLOCKED` error (ERROR), in RESP2 and RESP3, runs
/// what it had pipelined behind, and answers 0 for a client that is not
/// blocked (any more); an element pushed afterwards stays.
fn unblock(addr: SocketAddr, t: &mut Transcript) {
    let mut ctl = connect(addr);
    let mut w = clients(addr, 2);
    let id = w[0].1.to_string();
    let other = w[1].1.to_string();
    t.step("ctl", &mut ctl, &["CLIENT", "UNBLOCK", &id]);
    w[0].0.send(b"BLPOP ub 0\r\nPING\r\n");
    wait_blocked(&mut ctl, w[0].1, "blpop");
    t.step("ctl", &mut ctl, &["CLIENT", "UNBLOCK", &other]);
    t.step("ctl", &mut ctl, &["CLIENT", "UNBLOCK", &id]);
    t.note("w0", &mut w[0].0);
    t.note("w0", &mut w[0].0);
    t.step("ctl", &mut ctl, &["CLIENT", "UNBLOCK", &id]);
    let cases: [(&[&str], &str, &str); 4] = [
        (
            &["BLMOVE", "ub", "d", "LEFT", "LEFT", "0"],
            "blmove",
            "ERROR",
        ),
        (&["BRPOPLPUSH", "ub", "d", "100"], "brpoplpush", "TIMEOUT"),
        (
            &["BLMPOP", "0", "2", "ub", "ub2", "RIGHT"],
            "blmpop",
            "error",
        ),
        (&["BRPOP", "ub", "ub2", "10.5"], "brpop", "timeout"),
    ];
    for proto in ["2", "3"] {
        // (HELLO's reply holds the client id: not recorded.)
        w[0].0.cmd(&["HELLO", proto]);
        for (cmd, name, how) in cases {
            w[0].0.send_cmd(cmd);
            wait_blocked(&mut ctl, w[0].1, name);
            t.step("ctl", &mut ctl, &["CLIENT", "UNBLOCK", &id, how]);
            t.note("w0", &mut w[0].0);
        }
    }
    t.step("ctl", &mut ctl, &["CLIENT", "UNBLOCK", &id, "NOW"]);
    t.step("ctl", &mut ctl, &["CLIENT", "UNBLOCK", "abc"]);
    t.step("ctl", &mut ctl, &["CLIENT", "UNBLOCK", "-1"]);
    t.step("ctl", &mut ctl, &["RPUSH", "ub", "stays"]);
    t.step("ctl", &mut ctl, &["LRANGE", "ub", "0", "-1"]);
    t.step("w0", &mut w[0].0, &["PING"]);
}

#[test]
fn client_unblock_timeout_and_error_match_redis() {
    let t = same_as_redis(unblock);
    assert!(
        t.lines()
            .iter()
            .any(|l| l.contains("-UNBLOCKED client unblocked via CLIENT UNBLOCK")),
        "{t:?}"
    );
}

/// Commands other than pushes that make a list appear under a waited key
/// serve its waiter: RENAME, RENAMENX, COPY, MOVE from another database,
/// LMOVE and LMPOP's counterpart; a key that a transaction creates and
/// deletes again serves nobody, and a key that becomes a string keeps the
/// waiter blocked until it is a list again.
fn other_writes(addr: SocketAddr, t: &mut Transcript) {
    let mut ctl = connect(addr);
    let mut w = clients(addr, 7);
    let waits: [(&str, &str); 7] = [
        ("rn", "blpop"),
        ("rnx", "brpop"),
        ("cp", "blpop"),
        ("mv", "blpop"),
        ("lm", "blpop"),
        ("gone", "blpop"),
        ("ty", "blpop"),
    ];
    for (i, (key, name)) in waits.iter().enumerate() {
        w[i].0
            .send_cmd(&[name.to_ascii_uppercase().as_str(), key, "0"]);
        wait_blocked(&mut ctl, w[i].1, name);
    }
    t.step("ctl", &mut ctl, &["RPUSH", "tmp", "a", "b"]);
    t.step("ctl", &mut ctl, &["RENAME", "tmp", "rn"]);
    t.note("w0", &mut w[0].0);
    t.step("ctl", &mut ctl, &["RPUSH", "tmp", "c", "d"]);
    t.step("ctl", &mut ctl, &["RENAMENX", "tmp", "rnx"]);
    t.note("w1", &mut w[1].0);
    t.step("ctl", &mut ctl, &["COPY", "rn", "cp"]);
    t.note("w2", &mut w[2].0);
    for cmd in [
        &["SELECT", "1"][..],
        &["RPUSH", "mv", "m"],
        &["MOVE", "mv", "0"],
        &["SELECT", "0"],
    ] {
        t.step("ctl", &mut ctl, cmd);
    }
    t.note("w3", &mut w[3].0);
    t.step("ctl", &mut ctl, &["LMOVE", "rn", "lm", "LEFT", "RIGHT"]);
    t.note("w4", &mut w[4].0);
    ctl.send(b"MULTI\r\nRPUSH gone 1\r\nDEL gone\r\nEXEC\r\n");
    for _ in 0..4 {
        t.note("ctl", &mut ctl);
    }
    t.step("ctl", &mut ctl, &["SET", "ty", "string"]);
    t.step("ctl", &mut ctl, &["DEL", "ty"]);
    t.step("ctl", &mut ctl, &["RPUSH", "ty", "list"]);
    t.note("w6", &mut w[6].0);
    t.step("ctl", &mut ctl, &["LPUSH", "gone", "2"]);
    t.note("w5", &mut w[5].0);
    t.step(
        "ctl",
        &mut ctl,
        &["EXISTS", "rn", "rnx", "cp", "mv", "lm", "gone", "ty"],
    );
}

#[test]
fn other_writes_that_create_a_list_wake_its_waiters() {
    let t = same_as_redis(other_writes);
    assert!(
        t.lines()
            .iter()
            .any(|l| l.starts_with("w5: ") && l.contains("$1\\r\\n2")),
        "{t:?}"
    );
}

/// A waiter that disconnects (or is killed) is forgotten: the element goes
/// to the next waiter, nothing is left behind, `INFO` stops counting it;
/// a disconnected waiter whose deadline passes later harms nobody.
fn disconnects(addr: SocketAddr, t: &mut Transcript) {
    let mut ctl = connect(addr);
    let mut w = clients(addr, 4);
    w[0].0.send_cmd(&["BLPOP", "dc", "0"]);
    wait_blocked(&mut ctl, w[0].1, "blpop");
    w[1].0
        .send_cmd(&["BLMOVE", "dc", "dc:to", "LEFT", "LEFT", "0"]);
    wait_blocked(&mut ctl, w[1].1, "blmove");
    w[2].0.send_cmd(&["BRPOP", "dc", "0"]);
    wait_blocked(&mut ctl, w[2].1, "brpop");
    blocked_clients(t, &mut ctl);
    // The first hangs up, the second is killed.
    let (first, first_id) = w.remove(0);
    drop(first);
    wait_gone(&mut ctl, first_id);
    let killed = w[0].1.to_string();
    t.step("ctl", &mut ctl, &["CLIENT", "KILL", "ID", &killed]);
    wait_gone(&mut ctl, w[0].1);
    blocked_clients(t, &mut ctl);
    t.step("ctl", &mut ctl, &["RPUSH", "dc", "one", "two"]);
    t.note("w2", &mut w[1].0);
    blocked_clients(t, &mut ctl);
    t.step("ctl", &mut ctl, &["LRANGE", "dc", "0", "-1"]);
    t.step("ctl", &mut ctl, &["EXISTS", "dc:to"]);
    // A waiter with a deadline hangs up; another one's timeout reply proves
    // that deadline has passed; the server carries on.
    w[1].0.send_cmd(&["BLPOP", "dl", "0.05"]);
    wait_blocked(&mut ctl, w[1].1, "blpop");
    let (gone, gone_id) = w.remove(1);
    drop(gone);
    wait_gone(&mut ctl, gone_id);
    t.step("w3", &mut w[1].0, &["BLPOP", "dl:clock", "0.1"]);
    t.step("ctl", &mut ctl, &["RPUSH", "dl", "kept"]);
    t.step("ctl", &mut ctl, &["LRANGE", "dl", "0", "-1"]);
}

/// Records `INFO clients`' `blocked_clients`.
fn blocked_clients(t: &mut Transcript, ctl: &mut Conn) {
    let info = ctl.cmd(&["INFO", "clients"]);
    let n = info_field(info.as_bytes().expect("INFO is a bulk"), "blocked_clients");
    t.push(format!("blocked_clients:{n:?}"));
}

#[test]
fn a_waiter_that_disconnects_is_forgotten() {
    same_as_redis(disconnects);
}

/// Fractional timeouts on both loops at once: each blocked command answers
/// its timeout reply no earlier than its timeout (within the clock's
/// millisecond) and not wildly late, and what was pipelined behind it runs.
#[test]
fn fractional_timeouts_fire_on_time() {
    let (_server, addr) = server(2);
    let cases: Vec<(&[&str], f64, &[u8])> = vec![
        (&["BLPOP", "t:a", "t:b", "0.1"], 0.1, b"*-1\r\n"),
        (&["BRPOP", "t:a", "0.25"], 0.25, b"*-1\r\n"),
        (
            &["BLMOVE", "t:a", "t:d", "LEFT", "LEFT", "0.15"],
            0.15,
            b"*-1\r\n",
        ),
        (&["BLMPOP", "0.2", "1", "t:a", "LEFT"], 0.2, b"*-1\r\n"),
        (&["BRPOPLPUSH", "t:a", "t:d", ".05"], 0.05, b"*-1\r\n"),
        (&["BLPOP", "t:a", "0.3e0"], 0.3, b"*-1\r\n"),
    ];
    let cases = Arc::new(cases);
    let n = cases.len() * 2;
    let late = together(n, move |i, barrier: &Barrier| {
        let (cmd, secs, want) = &cases[i / 2];
        let mut conn = connect(addr);
        let resp3 = i % 2 == 1;
        if resp3 {
            conn.hello3();
        }
        barrier.wait();
        let start = Instant::now();
        let mut bytes = command_bytes(cmd);
        bytes.extend_from_slice(b"PING\r\n");
        conn.send(&bytes);
        let r = conn.read_raw_reply();
        let took = start.elapsed();
        let want: &[u8] = if resp3 { b"_\r\n" } else { want };
        assert_eq!(escape(&r, 100), escape(want, 100), "{cmd:?}");
        assert_eq!(
            conn.read_raw_reply(),
            b"+PONG\r\n",
            "pipelined after {cmd:?}"
        );
        let min = Duration::from_secs_f64(*secs) - Duration::from_millis(1);
        assert!(
            took >= min,
            "{cmd:?} timed out after {took:?}, before {secs} s"
        );
        took - min
    });
    // Generous for a debug build on a loaded machine: a timeout that never
    // fires would hang the read instead (10 s read timeout).
    for (i, l) in late.iter().enumerate() {
        assert!(*l < Duration::from_secs(3), "case {i} late by {l:?}");
    }
}

/// What one consumer took.
#[derive(Default)]
struct Consumed {
    /// Elements received in replies.
    got: Vec<String>,
    /// Those of them moved to `pc:moved` (BLMOVE/BRPOPLPUSH).
    moved: Vec<String>,
    timeouts: usize,
}

/// Many producers LPUSH/RPUSH unique elements (some several per command)
/// onto four keys while many consumers on other loops take them with
/// BLPOP, BRPOP, BLMPOP, BLMOVE and BRPOPLPUSH over one or several keys,
/// half of them blocking forever (so a lost wake-up hangs them: the
/// coordinator's wait for the total fails) and half with 10 ms timeouts (so
/// timeouts race with pushes). Every element is consumed exactly once, none
/// is left behind, none duplicated, and the moved ones are all in the
/// destination. Once all are consumed, "pill" elements on every key stop
/// the consumers.
#[test]
fn no_lost_wakeups_with_many_producers_and_consumers() {
    const PRODUCERS: usize = 4;
    const CONSUMERS: usize = 10;
    const PER_PRODUCER: usize = 300;
    const TOTAL: usize = PRODUCERS * PER_PRODUCER;
    const MAX_ROUNDS: usize = 20_000;
    const KEYS: [&str; 4] = ["pc:q0", "pc:q1", "pc:q2", "pc:q3"];
    let (_server, addr) = server(3);
    let consumed = Arc::new(AtomicUsize::new(0));
    let results = together(PRODUCERS + CONSUMERS + 1, move |t, barrier: &Barrier| {
        let mut conn = connect(addr);
        barrier.wait();
        let mut mine = Consumed::default();
        if t < PRODUCERS {
            let mut i = 0;
            while i < PER_PRODUCER {
                let key = KEYS[(i + t) % 4].to_string();
                let n = 1 + i % 3;
                let push = if i % 2 == 0 { "LPUSH" } else { "RPUSH" };
                let mut cmd = vec![push.to_string(), key];
                for j in i..(i + n).min(PER_PRODUCER) {
                    cmd.push(format!("p{t}:{j}"));
                }
                let pushed = cmd.len() - 2;
                int(&conn.cmd(&cmd));
                i += pushed;
            }
            return mine;
        }
        if t == PRODUCERS + CONSUMERS {
            // The coordinator: once everything is consumed, enough pills
            // on every key for every consumer, even if the others took
            // theirs from the same key (BLMPOP COUNT 3 takes up to 3): a
            // consumer that waits on one key must still find one there.
            eventually("every element to be consumed", DEADLINE, || {
                (consumed.load(Ordering::SeqCst) >= TOTAL).then_some(())
            });
            for k in KEYS {
                let mut cmd = vec!["RPUSH"; 2 + 3 * CONSUMERS];
                cmd[1] = k;
                cmd[2..].fill("pill");
                int(&conn.cmd(&cmd));
            }
            return mine;
        }
        let c = t - PRODUCERS;
        let timeout = if c % 2 == 0 { "0" } else { "0.01" };
        for round in 0..MAX_ROUNDS {
            let k = KEYS[(round + c) % 4];
            let cmd: Vec<&str> = match c % 5 {
                0 => vec!["BLPOP", KEYS[0], KEYS[1], KEYS[2], KEYS[3], timeout],
                1 => vec!["BRPOP", KEYS[3], KEYS[2], KEYS[1], KEYS[0], timeout],
                2 => vec![
                    "BLMPOP", timeout, "4", KEYS[1], KEYS[3], KEYS[0], KEYS[2], "LEFT", "COUNT",
                    "3",
                ],
                3 => vec!["BLMOVE", k, "pc:moved", "RIGHT", "LEFT", timeout],
                _ => vec!["BRPOPLPUSH", k, "pc:moved", timeout],
            };
            let elems: Vec<String> = match conn.cmd(&cmd) {
                Frame::NullArray | Frame::NullBulk => {
                    mine.timeouts += 1;
                    continue;
                }
                Frame::Bulk(e) => {
                    let e = String::from_utf8_lossy(&e).into_owned();
                    mine.moved.push(e.clone());
                    vec![e]
                }
                Frame::Array(r) => match &r[1] {
                    Frame::Array(v) => v.iter().map(text).collect(),
                    one => vec![text(one)],
                },
                other => panic!("consumer {c}: {cmd:?} gave {other:?}"),
            };
            let pill = elems.iter().any(|e| e == "pill");
            let real: Vec<String> = elems.into_iter().filter(|e| e != "pill").collect();
            consumed.fetch_add(real.len(), Ordering::SeqCst);
            mine.got.extend(real);
            if pill {
                return mine;
            }
        }
        panic!("consumer {c} never got its pill");
    });
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut moved = Vec::new();
    for r in &results {
        for e in &r.got {
            *seen.entry(e.clone()).or_default() += 1;
        }
        moved.extend(r.moved.iter().filter(|e| *e != "pill").cloned());
    }
    let dups: Vec<_> = seen.iter().filter(|(_, &n)| n > 1).take(5).collect();
    assert!(dups.is_empty(), "consumed more than once: {dups:?}");
    let missing: Vec<String> = (0..PRODUCERS)
        .flat_map(|p| (0..PER_PRODUCER).map(move |j| format!("p{p}:{j}")))
        .filter(|e| !seen.contains_key(e))
        .take(5)
        .collect();
    assert!(missing.is_empty(), "never consumed: {missing:?}");
    assert_eq!(seen.len(), TOTAL);
    // Only pills are left in the queues.
    let mut ctl = connect(addr);
    for k in KEYS {
        let left = items(ctl.cmd(&["LRANGE", k, "0", "-1"]));
        assert!(left.iter().all(|e| text(e) == "pill"), "{k} holds {left:?}");
    }
    let mut in_dest: Vec<String> = items(ctl.cmd(&["LRANGE", "pc:moved", "0", "-1"]))
        .iter()
        .map(text)
        .filter(|e| e != "pill")
        .collect();
    in_dest.sort();
    moved.sort();
    assert_eq!(in_dest, moved, "every moved element is in the destination");
    let timeouts: usize = results.iter().map(|r| r.timeouts).sum();
    eprintln!(
        "{TOTAL} elements, {} moved, {timeouts} consumer timeouts",
        moved.len()
    );
}

/// A BLMOVE waiter whose destination holds a string gets WRONGTYPE when an
/// element arrives, and the element stays in the source; the next waiter
/// on the source must then get it. Redis 7.0: w0 `-WRONGTYPE ...`, w1
/// `*2 src e`, src gone. (A regression test: soquete once left w1 blocked
/// for ever, the element sitting in `src`.)
fn blmove_wrongtype(addr: SocketAddr, t: &mut Transcript) {
    let mut ctl = connect(addr);
    let mut w0 = connect(addr);
    let mut w1 = connect(addr);
    w1.set_timeout(Duration::from_secs(2)).unwrap();
    let (id0, id1) = (client_id(&mut w0), client_id(&mut w1));
    ctl.cmd(&["SET", "str", "x"]);
    w0.send_cmd(&["BLMOVE", "src", "str", "LEFT", "LEFT", "0"]);
    wait_blocked(&mut ctl, id0, "blmove");
    w1.send_cmd(&["BLPOP", "src", "0"]);
    wait_blocked(&mut ctl, id1, "blpop");
    ctl.send_cmd(&["RPUSH", "src", "e"]);
    t.note("ctl", &mut ctl);
    t.note("w0", &mut w0);
    t.note("w1", &mut w1);
    ctl.send_cmd(&["LRANGE", "src", "0", "-1"]);
    t.note("ctl", &mut ctl);
}

#[test]
fn blmove_to_a_wrong_type_destination_passes_the_element_on() {
    same_as_redis(blmove_wrongtype);
}

/// Redis flags blocked clients `b` in `CLIENT LIST` and counts them in
/// `INFO clients`' `blocked_clients`. (A regression test: soquete once
/// showed `flags=N` for a client blocked in BLPOP.)
fn blocked_introspection(addr: SocketAddr, t: &mut Transcript) {
    let mut ctl = connect(addr);
    let mut w = connect(addr);
    let id = client_id(&mut w);
    w.send_cmd(&["BLPOP", "nothing", "0"]);
    wait_blocked(&mut ctl, id, "blpop");
    let info = ctl.cmd(&["INFO", "clients"]);
    t.push(format!(
        "blocked_clients: {:?}",
        info_field(info.as_bytes().expect("INFO is a bulk"), "blocked_clients")
    ));
    let line = text(&ctl.cmd(&["CLIENT", "LIST", "ID", &id.to_string()]));
    let flags = line
        .split_ascii_whitespace()
        .find(|f| f.starts_with("flags="))
        .map(str::to_string);
    t.push(format!("CLIENT LIST {flags:?}"));
}

#[test]
fn blocked_clients_are_counted_and_flagged() {
    same_as_redis(blocked_introspection);
}

/// BLMOVE is atomic in Redis: a waiter served by a push takes the element
/// from the source and puts it in the destination in one step. A pusher
/// counts its pushes in the same MULTI (`RPUSH src e` + `INCR pushed`);
/// BLMOVE waiters move every element to `dst`; observers check in one
/// MULTI that `pushed == LLEN src + LLEN dst`. (A regression test: soquete
/// once popped under the pusher's locks but pushed to the destination
/// after releasing them, so an observer could see the element in neither
/// list.)
fn blmove_atomicity(addr: SocketAddr) -> usize {
    const PUSHES: usize = 1500;
    const WAITERS: usize = 3;
    const OBSERVERS: usize = 4;
    let moved = Arc::new(AtomicUsize::new(0));
    let torn = together(1 + WAITERS + OBSERVERS, move |t, barrier: &Barrier| {
        let mut conn = connect(addr);
        barrier.wait();
        let mut torn = 0;
        if t == 0 {
            for _ in 0..PUSHES {
                conn.send(b"MULTI\r\nRPUSH at:src e\r\nINCR at:pushed\r\nEXEC\r\n");
                for _ in 0..3 {
                    conn.read_frame();
                }
                items(conn.read_frame());
            }
        } else if t <= WAITERS {
            while moved.load(Ordering::SeqCst) < PUSHES {
                match conn.cmd(&["BLMOVE", "at:src", "at:dst", "LEFT", "RIGHT", "0.02"]) {
                    Frame::Bulk(_) => {
                        moved.fetch_add(1, Ordering::SeqCst);
                    }
                    Frame::NullArray | Frame::NullBulk => {}
                    other => panic!("BLMOVE gave {other:?}"),
                }
            }
        } else {
            while moved.load(Ordering::SeqCst) < PUSHES {
                conn.send(b"MULTI\r\nGET at:pushed\r\nLLEN at:src\r\nLLEN at:dst\r\nEXEC\r\n");
                for _ in 0..4 {
                    conn.read_frame();
                }
                let r = items(conn.read_frame());
                let pushed = match &r[0] {
                    Frame::NullBulk => 0,
                    f => bulk_int(f),
                };
                if pushed != int(&r[1]) + int(&r[2]) {
                    torn += 1;
                }
            }
        }
        torn
    });
    torn.iter().sum()
}

#[test]
fn blmove_is_atomic_for_transactional_observers() {
    let (_server, addr) = server(3);
    let torn = blmove_atomicity(addr);
    assert_eq!(
        torn, 0,
        "observers saw an element in neither list {torn} times"
    );
}

/// The same against real Redis: it passes.
#[test]
fn blmove_is_atomic_for_transactional_observers_on_redis() {
    let redis = ServerProcess::redis();
    assert_eq!(blmove_atomicity(redis.addr()), 0);
}

/// SWAPDB makes the lists of the swapped-in database visible under their
/// keys: Redis 7.0 serves clients blocked on those keys
/// (`scanDatabaseForReadyKeys`): w gets `*2 swap v`. (A regression test:
/// soquete once left w blocked, the element in place.)
fn swapdb_wakes(addr: SocketAddr, t: &mut Transcript) {
    let mut ctl = connect(addr);
    let mut w = connect(addr);
    w.set_timeout(Duration::from_secs(2)).unwrap();
    let id = client_id(&mut w);
    for cmd in [
        &["SELECT", "1"][..],
        &["RPUSH", "swap", "v"],
        &["SELECT", "0"],
    ] {
        ctl.send_cmd(cmd);
        t.note("ctl", &mut ctl);
    }
    w.send_cmd(&["BLPOP", "swap", "0"]);
    wait_blocked(&mut ctl, id, "blpop");
    ctl.send_cmd(&["SWAPDB", "0", "1"]);
    t.note("ctl", &mut ctl);
    t.note("w", &mut w);
    ctl.send_cmd(&["LLEN", "swap"]);
    t.note("ctl", &mut ctl);
}

#[test]
fn swapdb_serves_clients_blocked_on_the_swapped_in_keys() {
    same_as_redis(swapdb_wakes);
}

/// XREAD BLOCK: every reader whose ID a stream passed is served, on any
/// loop, in the order they blocked, with at most its COUNT (1000 without
/// one); a reader waiting for a later ID stays blocked; RENAME of a stream
/// onto a waited key serves its readers, a list there does not; CLIENT
/// UNBLOCK ends a read as a timeout or an error, in RESP2 and RESP3.
fn stream_readers(addr: SocketAddr, t: &mut Transcript) {
    let mut ctl = connect(addr);
    let mut w = clients(addr, 4);
    t.step("ctl", &mut ctl, &["XADD", "s", "1-1", "f", "v"]);
    let reads: [&[&str]; 4] = [
        &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
        &[
            "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "other", "s", "0", "1-1",
        ],
        &["XREAD", "BLOCK", "0", "STREAMS", "s", "9-0"],
        &["XREAD", "BLOCK", "0", "STREAMS", "r", "0"],
    ];
    for (i, cmd) in reads.iter().enumerate() {
        w[i].0.send_cmd(cmd);
        wait_blocked(&mut ctl, w[i].1, "xread");
    }
    t.step("ctl", &mut ctl, &["EVAL", "redis.call('xadd', KEYS[1], '2-1', 'a', 1) return redis.call('xadd', KEYS[1], '3-1', 'b', 2)", "1", "s"]);
    t.note("w0", &mut w[0].0);
    t.note("w1", &mut w[1].0);
    t.step("ctl", &mut ctl, &["XADD", "s", "9-1", "c", "3"]);
    t.note("w2", &mut w[2].0);
    t.step("ctl", &mut ctl, &["RPUSH", "r", "x"]);
    t.step("ctl", &mut ctl, &["DEL", "r"]);
    t.step("ctl", &mut ctl, &["RENAME", "s", "r"]);
    t.note("w3", &mut w[3].0);
    let id = w[0].1.to_string();
    for proto in ["2", "3"] {
        w[0].0.cmd(&["HELLO", proto]);
        for how in ["TIMEOUT", "ERROR"] {
            w[0].0
                .send_cmd(&["XREAD", "BLOCK", "0", "STREAMS", "r", "$"]);
            wait_blocked(&mut ctl, w[0].1, "xread");
            t.step("ctl", &mut ctl, &["CLIENT", "UNBLOCK", &id, how]);
            t.note("w0", &mut w[0].0);
        }
    }
    t.step(
        "w0",
        &mut w[0].0,
        &["XREAD", "BLOCK", "1", "STREAMS", "r", "$"],
    );
}

#[test]
fn stream_readers_are_all_served_and_unblocked_as_in_redis() {
    let t = same_as_redis(stream_readers);
    assert!(t.lines().iter().any(|l| l.contains("9-1")), "{t:?}");
}
