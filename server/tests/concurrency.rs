//! Many clients at once against one server with several event loops, to
//! flush out races in the sharded keyspace: hundreds of pipelining
//! connections on their own keys and on shared counters, atomic MSET and
//! MULTI/EXEC seen by concurrent readers, a full SCAN while the keyspace
//! grows and shrinks, and connections coming and going.
//!
//! The server runs in this process (`Server::bind_ephemeral` with 4 event
//! loops, more than the cores CI has, so loops interleave). Every loop is
//! bounded in count; nothing waits on time except the readiness polls.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use soquete_resp::Frame;
use soquete_server::{Config, Server, ServerHandle};
use soquete_testkit::conn::{bulk_bytes, command_bytes, connect};
use soquete_testkit::frames::{info_field, int, text};
use soquete_testkit::render::show;
use soquete_testkit::wait::{eventually, together, DEADLINE};
use soquete_testkit::Conn;

/// soquete in this process with 4 event loops on `127.0.0.1:<ephemeral>`;
/// dropping the handle stops it.
fn server() -> (ServerHandle, SocketAddr) {
    let handle = Server::bind_ephemeral(Config {
        threads: 4,
        ..Config::default()
    })
    .expect("binding an ephemeral port")
    .spawn();
    let addr = handle.addr().expect("a TCP listener");
    (handle, addr)
}

#[test]
fn hundreds_of_pipelining_clients_on_own_keys_and_shared_counters() {
    const CLIENTS: usize = 200;
    const ROUNDS: usize = 10;
    const KEYS: usize = 5;
    let (_server, addr) = server();
    let incrs = together(CLIENTS, move |c, barrier| {
        let mut conn = connect(addr);
        // Every client is connected before anyone starts.
        conn.send(b"PING\r\n");
        assert_eq!(conn.read_raw_reply(), b"+PONG\r\n");
        barrier.wait();
        let mut seen = Vec::with_capacity(ROUNDS);
        for round in 0..ROUNDS {
            let mut batch = Vec::new();
            for k in 0..KEYS {
                batch.extend(command_bytes(&[
                    "SET".to_string(),
                    format!("c{c}:k{k}"),
                    format!("{c}:{k}:{round}"),
                ]));
            }
            batch.extend(command_bytes(&["INCR", "shared"]));
            batch.extend(command_bytes(&["INCRBY", "shared:by", "3"]));
            for k in 0..KEYS {
                batch.extend(command_bytes(&["GET".to_string(), format!("c{c}:k{k}")]));
            }
            batch.extend(command_bytes(&[
                "APPEND".to_string(),
                format!("c{c}:log"),
                "x".into(),
            ]));
            conn.send(&batch);
            for k in 0..KEYS {
                assert_eq!(conn.read_raw_reply(), b"+OK\r\n", "client {c} SET k{k}");
            }
            seen.push(int(&conn.read_frame()));
            let by = int(&conn.read_frame());
            assert!(by > 0 && by % 3 == 0, "client {c}: INCRBY gave {by}");
            for k in 0..KEYS {
                let want = format!("{c}:{k}:{round}");
                assert_eq!(
                    show(&conn.read_raw_reply()),
                    show(&bulk_bytes(want.as_bytes())),
                    "client {c} reads back its own key"
                );
            }
            assert_eq!(
                int(&conn.read_frame()),
                round as i64 + 1,
                "client {c} APPEND"
            );
        }
        seen
    });
    // Every INCR returned a distinct value, and together they are 1..=total.
    let total = CLIENTS * ROUNDS;
    let mut all: Vec<i64> = incrs.iter().flatten().copied().collect();
    for per_client in &incrs {
        assert!(
            per_client.windows(2).all(|w| w[0] < w[1]),
            "one client's INCRs go up: {per_client:?}"
        );
    }
    all.sort_unstable();
    assert_eq!(all, (1..=total as i64).collect::<Vec<_>>());
    let mut conn = connect(addr);
    conn.send(b"GET shared\r\nGET shared:by\r\nDBSIZE\r\n");
    assert_eq!(text(&conn.read_frame()), total.to_string());
    assert_eq!(text(&conn.read_frame()), (3 * total).to_string());
    assert_eq!(int(&conn.read_frame()), (CLIENTS * (KEYS + 1) + 2) as i64);
}

/// `MSET k1 v .. k10 v` by many writers while many readers `MGET k1..k10`:
/// since MSET is atomic, every MGET sees ten equal values.
#[test]
fn mset_is_atomic_for_concurrent_mget() {
    const WRITERS: usize = 8;
    const READERS: usize = 8;
    const BATCHES: usize = 15;
    const PER_BATCH: usize = 10;
    let (_server, addr) = server();
    let keys: Vec<String> = (1..=10).map(|i| format!("atomic:k{i}")).collect();
    let mut init = vec!["MSET".to_string()];
    for k in &keys {
        init.push(k.clone());
        init.push("init".into());
    }
    let mut conn = connect(addr);
    assert_eq!(conn.cmd(&init), Frame::Simple("OK".into()));
    let shared_keys = Arc::new(keys.clone());
    together(WRITERS + READERS, move |t, barrier| {
        let mut conn = connect(addr);
        barrier.wait();
        for b in 0..BATCHES {
            let mut batch = Vec::new();
            for n in 0..PER_BATCH {
                let mut args = Vec::with_capacity(21);
                if t < WRITERS {
                    args.push("MSET".to_string());
                    for k in shared_keys.iter() {
                        args.push(k.clone());
                        args.push(format!("w{t}:{b}:{n}"));
                    }
                } else {
                    args.push("MGET".to_string());
                    args.extend(shared_keys.iter().cloned());
                }
                batch.extend(command_bytes(&args));
            }
            conn.send(&batch);
            for _ in 0..PER_BATCH {
                match conn.read_frame() {
                    Frame::Simple(ok) if t < WRITERS => assert_eq!(&ok[..], b"OK"),
                    Frame::Array(values) if t >= WRITERS => {
                        let values: Vec<String> = values.iter().map(text).collect();
                        assert!(
                            values.iter().all(|v| *v == values[0]),
                            "a torn MSET seen by MGET: {values:?}"
                        );
                    }
                    other => panic!("unexpected reply {other:?}"),
                }
            }
        }
    });
    // The last writer's values are what remains, in all ten keys.
    let mut conn = connect(addr);
    let Frame::Array(last) = conn.cmd(&[&["MGET".to_string()], &keys[..]].concat()) else {
        panic!("MGET gives an array");
    };
    let last: Vec<String> = last.iter().map(text).collect();
    assert!(
        last.iter()
            .all(|v| *v == last[0] && v.ends_with(&format!(":{}:{}", BATCHES - 1, PER_BATCH - 1))),
        "{last:?}"
    );
}

/// MULTI/EXEC of `INCR a` and `INCR b` by many clients while others read
/// both: the two counters are always equal, and end at the number of
/// transactions.
#[test]
fn multi_exec_is_atomic_for_concurrent_readers() {
    const WRITERS: usize = 8;
    const READERS: usize = 8;
    const TXNS: usize = 50;
    let (_server, addr) = server();
    together(WRITERS + READERS, move |t, barrier| {
        let mut conn = connect(addr);
        barrier.wait();
        for _ in 0..TXNS {
            if t < WRITERS {
                conn.send(b"MULTI\r\nINCR tx:a\r\nINCR tx:b\r\nEXEC\r\n");
                assert_eq!(conn.read_raw_reply(), b"+OK\r\n");
                assert_eq!(conn.read_raw_reply(), b"+QUEUED\r\n");
                assert_eq!(conn.read_raw_reply(), b"+QUEUED\r\n");
                let Frame::Array(r) = conn.read_frame() else {
                    panic!("EXEC gives an array");
                };
                assert_eq!(int(&r[0]), int(&r[1]), "inside one transaction");
            } else {
                let Frame::Array(r) = conn.cmd(&["MGET", "tx:a", "tx:b"]) else {
                    panic!("MGET gives an array");
                };
                assert_eq!(r[0], r[1], "a half-applied transaction was seen");
            }
        }
    });
    let mut conn = connect(addr);
    let total = (WRITERS * TXNS).to_string();
    assert_eq!(text(&conn.cmd(&["GET", "tx:a"])), total);
    assert_eq!(text(&conn.cmd(&["GET", "tx:b"])), total);
}

/// Progress shared by the scanner and the mutators, which move in lockstep:
/// a mutator starts a batch only while fewer than `MUTATORS` batches are
/// ahead of the scanner's pages, and the scanner reads its next page only
/// once as many batches as pages are done, so inserts and deletes land
/// between the pages of every scan however the threads are scheduled.
#[derive(Default)]
struct Lockstep {
    pages: AtomicUsize,
    started: AtomicUsize,
    batches: AtomicUsize,
    running: AtomicUsize,
    stop: AtomicBool,
}

/// Counts a mutator out when its thread ends, even by a panic.
struct Exit(Arc<Lockstep>);

impl Drop for Exit {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Scans the whole keyspace, one page per mutator batch while they run.
fn full_scan(conn: &mut Conn, step: &Lockstep) -> HashSet<Vec<u8>> {
    let mut keys = HashSet::new();
    let mut cursor = b"0".to_vec();
    for page in 0.. {
        assert!(page < 1_000_000, "SCAN does not terminate");
        let reply = conn.cmd(&[b"SCAN".as_slice(), &cursor, b"COUNT", b"100"]);
        let Frame::Array(parts) = reply else {
            panic!("SCAN gives an array: {reply:?}");
        };
        let [next, Frame::Array(found)] = &parts[..] else {
            panic!("SCAN gives [cursor, keys]: {parts:?}");
        };
        keys.extend(found.iter().map(|k| k.as_bytes().expect("a key").to_vec()));
        cursor = next.as_bytes().expect("a cursor").to_vec();
        if cursor == b"0" {
            return keys;
        }
        let pages = step.pages.fetch_add(1, Ordering::SeqCst) + 1;
        eventually("a mutator batch between SCAN pages", DEADLINE, || {
            (step.batches.load(Ordering::SeqCst) >= pages
                || step.running.load(Ordering::SeqCst) == 0)
                .then_some(())
        });
    }
    unreachable!()
}

/// One mutator: batches of inserts that triple the keyspace (so tables
/// resize under the scan), each deleting half of the previous batch.
fn mutate(addr: SocketAddr, m: usize, step: Arc<Lockstep>) {
    let _exit = Exit(step.clone());
    let mut conn = connect(addr);
    for b in 0..BATCHES {
        eventually("the scanner to catch up", DEADLINE, || {
            let started = step.started.load(Ordering::SeqCst);
            let reserved = started < step.pages.load(Ordering::SeqCst) + MUTATORS
                && step
                    .started
                    .compare_exchange(started, started + 1, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok();
            (reserved || step.stop.load(Ordering::SeqCst)).then_some(())
        });
        if step.stop.load(Ordering::SeqCst) {
            return;
        }
        let mut batch = Vec::new();
        for n in 0..PER_BATCH {
            batch.extend(command_bytes(&[
                "SET".to_string(),
                format!("churn:{m}:{b}:{n}"),
                "x".into(),
            ]));
        }
        if b > 0 {
            let mut del = vec!["DEL".to_string()];
            del.extend((0..PER_BATCH / 2).map(|n| format!("churn:{m}:{}:{n}", b - 1)));
            batch.extend(command_bytes(&del));
        }
        conn.send(&batch);
        for _ in 0..PER_BATCH {
            assert_eq!(conn.read_raw_reply(), b"+OK\r\n");
        }
        if b > 0 {
            assert_eq!(int(&conn.read_frame()), (PER_BATCH / 2) as i64);
        }
        step.batches.fetch_add(1, Ordering::SeqCst);
    }
}

const MUTATORS: usize = 4;
const BATCHES: usize = 100;
const PER_BATCH: usize = 50;

#[test]
fn a_full_scan_returns_every_key_present_throughout() {
    const STABLE: usize = 5_000;
    const SCANS: usize = 3;
    let (_server, addr) = server();
    let mut conn = connect(addr);
    let mut fill = Vec::new();
    for i in 0..STABLE {
        fill.extend(command_bytes(&[
            "SET".to_string(),
            format!("stable:{i}"),
            i.to_string(),
        ]));
    }
    conn.send(&fill);
    for _ in 0..STABLE {
        assert_eq!(conn.read_raw_reply(), b"+OK\r\n");
    }
    let step = Arc::new(Lockstep {
        running: AtomicUsize::new(MUTATORS),
        ..Lockstep::default()
    });
    let mutators: Vec<_> = (0..MUTATORS)
        .map(|m| {
            let step = step.clone();
            thread::spawn(move || mutate(addr, m, step))
        })
        .collect();
    let stable: HashSet<Vec<u8>> = (0..STABLE)
        .map(|i| format!("stable:{i}").into_bytes())
        .collect();
    let mut scans = 0;
    while scans < SCANS && step.running.load(Ordering::SeqCst) > 0 {
        let seen = full_scan(&mut conn, &step);
        let missing: Vec<_> = stable.difference(&seen).take(5).collect();
        assert!(
            missing.is_empty(),
            "scan {scans} missed keys present throughout, e.g. {:?}",
            missing.iter().map(|k| show(k)).collect::<Vec<_>>()
        );
        scans += 1;
    }
    step.stop.store(true, Ordering::SeqCst);
    for m in mutators {
        m.join().expect("a mutator failed");
    }
    assert_eq!(scans, SCANS, "the mutators ran out before {SCANS} scans");
    // Once the dust settles, a scan sees exactly the keyspace.
    let seen = full_scan(&mut conn, &step);
    let Frame::Integer(size) = conn.cmd(&["DBSIZE"]) else {
        panic!("DBSIZE gives an integer");
    };
    assert!(seen.is_superset(&stable));
    assert_eq!(
        seen.len() as i64,
        size,
        "a quiet full scan returns every key"
    );
}

#[test]
fn connections_come_and_go_while_others_work() {
    const THREADS: usize = 8;
    const CONNS: usize = 50;
    let (_server, addr) = server();
    let mut steady = connect(addr);
    together(THREADS, move |t, barrier| {
        barrier.wait();
        for n in 0..CONNS {
            let mut c = connect(addr);
            let key = format!("conn:{t}:{n}");
            c.send(&command_bytes(&["SET", &key, "v"]));
            c.send(&command_bytes(&["GET", &key]));
            assert_eq!(c.read_raw_reply(), b"+OK\r\n");
            assert_eq!(c.read_raw_reply(), b"$1\r\nv\r\n");
            if n % 2 == 0 {
                c.send(b"QUIT\r\n");
                assert_eq!(c.read_raw_reply(), b"+OK\r\n");
                c.expect_closed().expect("closed after QUIT");
            }
        }
    });
    assert_eq!(
        steady.cmd(&["DBSIZE"]),
        Frame::Integer((THREADS * CONNS) as i64)
    );
    // Every closed connection is forgotten: only `steady` is left.
    eventually("closed clients to be forgotten", DEADLINE, || {
        let info = steady.cmd(&["INFO", "clients"]);
        let n = info_field(info.as_bytes().expect("bulk"), "connected_clients");
        (n.as_deref() == Some("1")).then_some(())
    });
}
