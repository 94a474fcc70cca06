//! Regression tests for issue 7 bugs the tests found: a message after the
//! UNSUBSCRIBE confirmation, BLMOVE atomicity and wrong-type destinations,
//! SWAPDB waking waiters, a RESP3 publisher's own push before its reply,
//! messages published on the timeout path, the `b` client flag, Redis's
//! wording for extra arguments. Every test states what redis-server 7.0.15
//! does (or runs the same bytes against it).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use soquete_resp::Frame;
use soquete_server::{Config, Server, ServerHandle};
use soquete_testkit::clients::{client_id, wait_blocked};
use soquete_testkit::conn::connect;
use soquete_testkit::diff::Side;
use soquete_testkit::frames::{bulk_int, info_field, int, items, text};
use soquete_testkit::transcript::{assert_same, Transcript};
use soquete_testkit::wait::together;
use soquete_testkit::{Conn, ServerKind, ServerProcess};

/// soquete in this process with `threads` event loops on
/// `127.0.0.1:<ephemeral>`; dropping the handle stops it. Accepted
/// connections are dealt to the loops in turn, so consecutive connections
/// land on different loops.
fn server(threads: usize) -> (ServerHandle, SocketAddr) {
    let handle = Server::bind_ephemeral(Config {
        threads,
        ..Config::default()
    })
    .expect("binding an ephemeral port")
    .spawn();
    let addr = handle.addr().expect("a TCP listener");
    (handle, addr)
}

/// The `soquete-server` binary cargo built for this test run, with `args`,
/// on `127.0.0.1:<ephemeral>`.
fn soquete_process(args: &[&str]) -> ServerProcess {
    ServerProcess::builder(ServerKind::Soquete)
        .binary(env!("CARGO_BIN_EXE_soquete-server"))
        .args(args)
        .start()
}

/// Reads one (un)subscribe confirmation: `[kind, name, count]`; fails on
/// anything else (a message, typically).
fn confirmation(conn: &mut Conn, kind: &str, name: &str, count: i64, round: usize) {
    let parts = items(conn.read_frame());
    let got = (text(&parts[0]), text(&parts[1]), parts[2].clone());
    assert_eq!(
        got,
        (kind.to_string(), name.to_string(), Frame::Integer(count)),
        "round {round}: expected the {kind} confirmation"
    );
}

/// Once the UNSUBSCRIBE confirmation (count 0) has arrived, no message of
/// that channel may follow, however busy the publishers on other loops: in
/// RESP2 the connection is back to normal mode, so the next replies are
/// PING's `+PONG` and then the next SUBSCRIBE's confirmation. In Redis a
/// message published concurrently arrives before the confirmation, or not
/// at all.
#[test]
fn no_message_arrives_after_the_unsubscribe_confirmation() {
    let (_server, addr) = server(3);
    unsubscribe_race(addr);
}

/// The same against real Redis: it passes.
#[test]
fn no_message_arrives_after_the_unsubscribe_confirmation_on_redis() {
    let redis = ServerProcess::redis();
    unsubscribe_race(redis.addr());
}

fn unsubscribe_race(addr: SocketAddr) {
    const ROUNDS: usize = 300;
    const PUBLISHERS: usize = 2;
    let stop = Arc::new(AtomicBool::new(false));
    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|_| {
            let stop = stop.clone();
            thread::spawn(move || {
                let mut conn = connect(addr);
                let batch = b"PUBLISH flicker x\r\n".repeat(20);
                let mut sent = 0usize;
                while !stop.load(Ordering::SeqCst) && sent < 2_000_000 {
                    if conn.try_send(&batch).is_err() {
                        return;
                    }
                    for _ in 0..20 {
                        match conn.try_read_reply() {
                            Ok(Some(r)) => {
                                int(&r.frame);
                            }
                            _ => return,
                        }
                    }
                    sent += 20;
                }
            })
        })
        .collect();
    let mut sub = connect(addr);
    let mut delivered = 0;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for round in 0..ROUNDS {
            sub.send(b"SUBSCRIBE flicker\r\n");
            confirmation(&mut sub, "subscribe", "flicker", 1, round);
            sub.send(b"UNSUBSCRIBE flicker\r\nPING\r\n");
            loop {
                let parts = items(sub.read_frame());
                if text(&parts[0]) == "message" {
                    delivered += 1;
                    continue;
                }
                assert_eq!(
                    (text(&parts[0]), text(&parts[1]), int(&parts[2])),
                    ("unsubscribe".to_string(), "flicker".to_string(), 0)
                );
                break;
            }
            let after = sub.read_frame();
            assert_eq!(
                after,
                Frame::Simple("PONG".into()),
                "round {round}: a message arrived after the unsubscribe confirmation"
            );
        }
    }));
    stop.store(true, Ordering::SeqCst);
    for p in publishers {
        p.join().expect("a publisher failed");
    }
    eprintln!("{delivered} messages delivered while subscribed");
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// Runs `scenario` against real Redis and against the soquete binary (2
/// event loops), each on a fresh server, and asserts that both transcripts
/// are the same. Returns soquete's, for further checks.
fn same_as_redis(scenario: fn(SocketAddr, &mut Transcript)) -> Transcript {
    let redis = ServerProcess::redis();
    let ours = soquete_process(&["--threads", "2"]);
    assert_same(&Side::of(&redis), &Side::of(&ours), scenario)
}

/// A BLMOVE waiter whose destination holds a string gets WRONGTYPE when an
/// element arrives, and the element stays in the source; the next waiter
/// on the source must then get it. Redis 7.0: w0 `-WRONGTYPE ...`, w1
/// `*2 src e`, src gone. soquete: w1 stays blocked for ever (no reply), the
/// element sits in `src`.
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

/// Redis flags blocked clients `b` in `CLIENT LIST` (and counts them in
/// `INFO clients`' `blocked_clients`, which soquete does since 3178e43);
/// soquete shows `flags=N` for a client blocked in BLPOP.
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
/// MULTI that `pushed == LLEN src + LLEN dst`. soquete pops under the
/// pusher's locks but pushes to the destination after releasing them, so
/// an observer can see the element in neither list.
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
/// (`scanDatabaseForReadyKeys`). Redis: w `*2 swap v`. soquete: w stays
/// blocked (no reply), the element stays.
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

/// A RESP3 client subscribed to a channel that PUBLISHes to it: Redis
/// writes the message push during the command, so it comes before
/// PUBLISH's own reply: `>3 message me hi` then `:1`. soquete sends `:1`
/// first, then the push.
fn publish_to_self(addr: SocketAddr, t: &mut Transcript) {
    let mut c = connect(addr);
    c.hello3();
    c.send_cmd(&["SUBSCRIBE", "me"]);
    t.note("c", &mut c);
    c.send_cmd(&["PUBLISH", "me", "hi"]);
    t.note("c", &mut c);
    t.note("c", &mut c);
    // A pattern and the channel: both pushes, then the count.
    c.send_cmd(&["PSUBSCRIBE", "m*"]);
    t.note("c", &mut c);
    c.send_cmd(&["PUBLISH", "me", "again"]);
    for _ in 0..3 {
        t.note("c", &mut c);
    }
}

#[test]
fn a_resp3_publish_to_itself_gets_the_push_before_the_reply() {
    same_as_redis(publish_to_self);
}

/// Argument errors Redis words differently:
/// * `CLIENT UNBLOCK 1 TIMEOUT x` (too many arguments): Redis
///   `-ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP.`;
///   soquete `:0`.
/// * `PUBSUB CHANNELS a b` / `PUBSUB SHARDCHANNELS a b`: Redis
///   `-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.`
///   (and `'SHARDCHANNELS'`); soquete
///   `-ERR wrong number of arguments for 'pubsub|channels' command`.
fn argument_errors(addr: SocketAddr, t: &mut Transcript) {
    let mut c = connect(addr);
    for cmd in [
        &["CLIENT", "UNBLOCK", "1", "TIMEOUT", "x"][..],
        &["PUBSUB", "CHANNELS", "a", "b"],
        &["PUBSUB", "SHARDCHANNELS", "a", "b"],
    ] {
        c.send_cmd(cmd);
        t.note(&cmd.join(" "), &mut c);
    }
}

#[test]
fn extra_arguments_are_refused_as_redis_words_it() {
    same_as_redis(argument_errors);
}

/// X runs `BLPOP k 0.05` with `PUBLISH ch m` pipelined behind it; when the
/// BLPOP times out, the PUBLISH runs and X gets `*-1` and `:1`. Only then
/// does subscriber S (RESP2, subscribed to `ch`) send PING. Redis wrote the
/// message into S's output during the PUBLISH, so S reads the message, then
/// `*2 pong ""`. soquete, when S and X share an event loop: the delivery is
/// queued on that loop's inbox without a wake-up (the timeout path runs
/// after the loop's last inbox drain), so S gets PING's reply first and the
/// message only at the loop's next wake-up — up to 1/hz (~50-100 ms) late
/// even with no PING.
fn publish_after_timeout(addr: SocketAddr, t: &mut Transcript) {
    // In-process soquete with 2 loops deals connections alternately: S and
    // X are the 1st and 3rd, so they share loop 0.
    let mut s = connect(addr);
    let _other_loop = connect(addr);
    let mut x = connect(addr);
    s.send(b"SUBSCRIBE ch\r\n");
    t.note("s", &mut s);
    for _ in 0..3 {
        x.send(b"BLPOP k 0.05\r\nPUBLISH ch m\r\n");
        t.note("x", &mut x);
        t.note("x", &mut x);
        s.send(b"PING\r\n");
        t.note("s", &mut s);
        t.note("s", &mut s);
    }
}

#[test]
fn a_message_published_after_a_timeout_reaches_subscribers_at_once() {
    let redis = ServerProcess::redis();
    let (_server, addr) = server(2);
    let ours = Side {
        name: "soquete".into(),
        addr,
    };
    assert_same(&Side::of(&redis), &ours, publish_after_timeout);
}
