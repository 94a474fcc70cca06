//! MULTI/EXEC and WATCH under concurrency, clients spread over several event
//! loops: no client ever observes a half-applied EXEC, and optimistic
//! (WATCH) transactions serialise exactly.
//!
//! The server runs in this process with 3 event loops (more than the 2 cores
//! CI has, so loops interleave); connections are dealt to loops in turn.
//! Every loop in the tests is bounded in count.

use std::sync::Barrier;

use soquete_resp::Frame;
mod common;

use common::server;
use soquete_testkit::conn::{command_bytes, connect};
use soquete_testkit::frames::{bulk_int, int, items, text};
use soquete_testkit::wait::together;
use soquete_testkit::Conn;

const THREADS: usize = 3;

/// A small deterministic pseudo-random sequence (xorshift), one per thread.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn expect_ok(conn: &mut Conn) {
    assert_eq!(conn.read_raw_reply(), b"+OK\r\n", "MULTI answers +OK");
}

fn expect_queued(conn: &mut Conn, n: usize) {
    for _ in 0..n {
        assert_eq!(conn.read_raw_reply(), b"+QUEUED\r\n");
    }
}

/// Money moves between accounts in MULTI/DECRBY/INCRBY/EXEC transactions
/// from many clients while others read every account — in a MULTI of GETs,
/// in a MULTI/MGET/EXEC, and with a plain MGET — and check that the total
/// never changes. A half-applied transfer would show a total off by its
/// amount.
#[test]
fn transfers_never_show_a_changed_total() {
    const ACCOUNTS: usize = 12;
    const START: i64 = 1_000;
    const WRITERS: usize = 6;
    const READERS: usize = 6;
    const ROUNDS: usize = 150;
    const PER_ROUND: usize = 4;
    let (_server, addr) = server(THREADS);
    let accounts: Vec<String> = (0..ACCOUNTS).map(|i| format!("acct:{i}")).collect();
    let mut mset = vec!["MSET".to_string()];
    for a in &accounts {
        mset.push(a.clone());
        mset.push(START.to_string());
    }
    let mut conn = connect(addr);
    assert_eq!(conn.cmd(&mset), Frame::Simple("OK".into()));
    let total = START * ACCOUNTS as i64;
    let names = accounts.clone();
    let reads = together(WRITERS + READERS, move |t, barrier: &Barrier| {
        let mut conn = connect(addr);
        let mut rng =
            Rng(0x9e37_79b9_7f4a_7c15 ^ (t as u64 + 1).wrapping_mul(0x1234_5678_9abc_def1));
        barrier.wait();
        let mut checked = 0;
        for round in 0..ROUNDS {
            if t < WRITERS {
                // A batch of transfers, pipelined in one write.
                let mut batch = Vec::new();
                for _ in 0..PER_ROUND {
                    let from = rng.below(ACCOUNTS as u64) as usize;
                    let to = (from + 1 + rng.below(ACCOUNTS as u64 - 1) as usize) % ACCOUNTS;
                    let amount = (1 + rng.below(50)).to_string();
                    batch.extend(command_bytes(&["MULTI"]));
                    batch.extend(command_bytes(&[
                        "DECRBY".into(),
                        names[from].clone(),
                        amount.clone(),
                    ]));
                    batch.extend(command_bytes(&["INCRBY".into(), names[to].clone(), amount]));
                    batch.extend(command_bytes(&["EXEC"]));
                }
                conn.send(&batch);
                for _ in 0..PER_ROUND {
                    expect_ok(&mut conn);
                    expect_queued(&mut conn, 2);
                    let r = items(conn.read_frame());
                    assert_eq!(r.len(), 2, "EXEC of two commands gives two replies");
                    r.iter().for_each(|f| {
                        int(f);
                    });
                }
            } else {
                let balances: Vec<i64> = match round % 3 {
                    0 => {
                        let mut batch = command_bytes(&["MULTI"]);
                        for a in names.iter() {
                            batch.extend(command_bytes(&["GET".into(), a.clone()]));
                        }
                        batch.extend(command_bytes(&["EXEC"]));
                        conn.send(&batch);
                        expect_ok(&mut conn);
                        expect_queued(&mut conn, ACCOUNTS);
                        items(conn.read_frame()).iter().map(bulk_int).collect()
                    }
                    1 => {
                        let mut mget = vec!["MGET".to_string()];
                        mget.extend(names.iter().cloned());
                        let mut batch = command_bytes(&["MULTI"]);
                        batch.extend(command_bytes(&mget));
                        batch.extend(command_bytes(&["EXEC"]));
                        conn.send(&batch);
                        expect_ok(&mut conn);
                        expect_queued(&mut conn, 1);
                        let mut r = items(conn.read_frame());
                        assert_eq!(r.len(), 1);
                        items(r.remove(0)).iter().map(bulk_int).collect()
                    }
                    _ => {
                        let mut mget = vec!["MGET".to_string()];
                        mget.extend(names.iter().cloned());
                        items(conn.cmd(&mget)).iter().map(bulk_int).collect()
                    }
                };
                assert_eq!(
                    balances.iter().sum::<i64>(),
                    total,
                    "reader {t} saw a half-applied transfer: {balances:?}"
                );
                checked += 1;
            }
        }
        checked
    });
    assert_eq!(reads.iter().sum::<usize>(), READERS * ROUNDS);
    let mut mget = vec!["MGET".to_string()];
    mget.extend(accounts.iter().cloned());
    let balances: Vec<i64> = items(conn.cmd(&mget)).iter().map(bulk_int).collect();
    assert_eq!(balances.iter().sum::<i64>(), total);
    assert_ne!(
        balances,
        vec![START; ACCOUNTS],
        "the transfers moved money around"
    );
}

/// The textbook optimistic increment — WATCH counter, GET, MULTI, SET
/// counter v+1, RPUSH log v+1, EXEC, retry on a null EXEC — from many
/// clients on different loops: the counter ends exactly at the number of
/// successful transactions, every committed value is distinct (no two
/// commits read the same value), and the log lists them in commit order.
#[test]
fn watch_increments_from_many_clients_are_exact() {
    const CLIENTS: usize = 8;
    const INCREMENTS: usize = 50;
    const MAX_ATTEMPTS: usize = 20_000;
    let (_server, addr) = server(THREADS);
    let results = together(CLIENTS, move |_, barrier: &Barrier| {
        let mut conn = connect(addr);
        barrier.wait();
        let mut committed = Vec::with_capacity(INCREMENTS);
        let mut aborted = 0;
        for _ in 0..MAX_ATTEMPTS {
            if committed.len() == INCREMENTS {
                break;
            }
            assert_eq!(
                conn.cmd(&["WATCH", "opt:counter"]),
                Frame::Simple("OK".into())
            );
            let v = match conn.cmd(&["GET", "opt:counter"]) {
                Frame::NullBulk | Frame::Null => 0,
                f => bulk_int(&f),
            };
            let next = (v + 1).to_string();
            let mut batch = command_bytes(&["MULTI"]);
            batch.extend(command_bytes(&[
                "SET".into(),
                "opt:counter".into(),
                next.clone(),
            ]));
            batch.extend(command_bytes(&["RPUSH".into(), "opt:log".into(), next]));
            batch.extend(command_bytes(&["EXEC"]));
            conn.send(&batch);
            expect_ok(&mut conn);
            expect_queued(&mut conn, 2);
            match conn.read_frame() {
                Frame::NullArray | Frame::Null => aborted += 1,
                Frame::Array(r) => {
                    assert_eq!(r[0], Frame::Simple("OK".into()));
                    // The list grew by one, and it holds one entry per commit.
                    assert_eq!(int(&r[1]), v + 1, "the log and the counter agree");
                    committed.push(v + 1);
                }
                other => panic!("unexpected EXEC reply {other:?}"),
            }
        }
        assert_eq!(
            committed.len(),
            INCREMENTS,
            "gave up after {MAX_ATTEMPTS} attempts"
        );
        (committed, aborted)
    });
    let total = (CLIENTS * INCREMENTS) as i64;
    let mut all: Vec<i64> = results
        .iter()
        .flat_map(|(c, _)| c.iter().copied())
        .collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (1..=total).collect::<Vec<_>>(),
        "each value committed once"
    );
    let mut conn = connect(addr);
    assert_eq!(bulk_int(&conn.cmd(&["GET", "opt:counter"])), total);
    let log: Vec<i64> = items(conn.cmd(&["LRANGE", "opt:log", "0", "-1"]))
        .iter()
        .map(bulk_int)
        .collect();
    assert_eq!(log, (1..=total).collect::<Vec<_>>(), "commits in order");
    // With 8 clients racing, some optimistic transactions must have lost.
    let aborted: usize = results.iter().map(|(_, a)| a).sum();
    eprintln!("{aborted} EXECs aborted by a concurrent commit");
}

/// A transaction whose middle command fails at run time (WRONGTYPE) still
/// applies the rest, atomically: readers on other loops always see the two
/// counters it increments equal, and the error comes back in its slot.
#[test]
fn exec_with_a_runtime_error_applies_the_rest_atomically() {
    const WRITERS: usize = 4;
    const READERS: usize = 4;
    const TXNS: usize = 200;
    let (_server, addr) = server(THREADS);
    together(WRITERS + READERS, move |t, barrier: &Barrier| {
        let mut conn = connect(addr);
        barrier.wait();
        for _ in 0..TXNS {
            if t < WRITERS {
                conn.send(b"MULTI\r\nINCR rt:a\r\nLPUSH rt:a x\r\nINCR rt:b\r\nEXEC\r\n");
                expect_ok(&mut conn);
                expect_queued(&mut conn, 3);
                let r = items(conn.read_frame());
                assert_eq!(r.len(), 3);
                assert_eq!(
                    r[1],
                    Frame::Error(
                        "WRONGTYPE Operation against a key holding the wrong kind of value".into()
                    )
                );
                assert_eq!(int(&r[0]), int(&r[2]), "inside one transaction");
            } else {
                let r = items(conn.cmd(&["MGET", "rt:a", "rt:b"]));
                assert_eq!(r[0], r[1], "a half-applied transaction was seen");
            }
        }
    });
    let mut conn = connect(addr);
    let want = (WRITERS * TXNS).to_string();
    assert_eq!(text(&conn.cmd(&["GET", "rt:a"])), want);
    assert_eq!(text(&conn.cmd(&["GET", "rt:b"])), want);
}

/// A transaction that touches many keys in many shards (16 SETs, a list, a
/// counter), against readers that check it all at once: MGET of the 16 keys
/// (one atomic command) sees one version everywhere, and a MULTI reading
/// the counter and the list length sees them agree.
#[test]
fn wide_transactions_are_seen_whole() {
    const KEYS: usize = 16;
    const WRITERS: usize = 4;
    const READERS: usize = 4;
    const TXNS: usize = 150;
    let (_server, addr) = server(THREADS);
    let keys: Vec<String> = (0..KEYS).map(|i| format!("wide:{i}")).collect();
    together(WRITERS + READERS, move |t, barrier: &Barrier| {
        let mut conn = connect(addr);
        barrier.wait();
        for n in 0..TXNS {
            if t < WRITERS {
                let version = format!("w{t}:{n}");
                let mut batch = command_bytes(&["MULTI"]);
                for k in &keys {
                    batch.extend(command_bytes(&["SET".into(), k.clone(), version.clone()]));
                }
                batch.extend(command_bytes(&[
                    "RPUSH".into(),
                    "wide:hist".into(),
                    version.clone(),
                ]));
                batch.extend(command_bytes(&["INCR", "wide:n"]));
                batch.extend(command_bytes(&["EXEC"]));
                conn.send(&batch);
                expect_ok(&mut conn);
                expect_queued(&mut conn, KEYS + 2);
                let r = items(conn.read_frame());
                assert_eq!(r.len(), KEYS + 2);
                assert_eq!(int(&r[KEYS]), int(&r[KEYS + 1]), "list length = counter");
            } else if n % 2 == 0 {
                let mut mget = vec!["MGET".to_string()];
                mget.extend(keys.iter().cloned());
                let r = items(conn.cmd(&mget));
                let first = &r[0];
                assert!(
                    r.iter().all(|v| v == first),
                    "a torn transaction seen by MGET: {r:?}"
                );
            } else {
                conn.send(b"MULTI\r\nGET wide:n\r\nLLEN wide:hist\r\nLINDEX wide:hist -1\r\nGET wide:0\r\nEXEC\r\n");
                expect_ok(&mut conn);
                expect_queued(&mut conn, 4);
                let r = items(conn.read_frame());
                let n = match &r[0] {
                    Frame::NullBulk => 0,
                    f => bulk_int(f),
                };
                assert_eq!(n, int(&r[1]), "counter and list length agree");
                assert_eq!(r[2], r[3], "the last version pushed is the one set");
            }
        }
    });
}
