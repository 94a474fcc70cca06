//! Lua scripts under concurrency, clients spread over several event loops:
//! no client ever sees a script half-applied, whether the script declared
//! its keys in KEYS or not, and scripts that touch keys they did not
//! declare never hang one another.
//!
//! The server runs in this process with 3 event loops (more than the 2
//! cores CI has, so loops interleave); connections are dealt to loops in
//! turn. Every loop in the tests is bounded in count, and every connection
//! has a read timeout, so a deadlock fails the test instead of hanging it.

use std::net::SocketAddr;
use std::sync::Barrier;
use std::time::Duration;

use soquete_resp::Frame;
mod common;

use common::server;
use soquete_testkit::conn::connect;
use soquete_testkit::frames::{bulk_int, int, items};
use soquete_testkit::wait::together;
use soquete_testkit::Conn;

fn client(addr: SocketAddr) -> Conn {
    let mut conn = connect(addr);
    conn.set_timeout(Duration::from_secs(20))
        .expect("a read timeout");
    conn
}

const THREADS: usize = 3;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A transfer that declares both accounts.
const TRANSFER_DECLARED: &str = "local a = tonumber(redis.call('GET', KEYS[1])) \
     for i = 1, 20000 do end \
     local n = tonumber(ARGV[1]) \
     if a < n then return 0 end \
     redis.call('DECRBY', KEYS[1], n) \
     redis.call('INCRBY', KEYS[2], n) \
     return 1";

/// The same transfer, its accounts named in ARGV only: the script reads
/// both before it writes, so meeting a busy shard restarts it.
const TRANSFER_UNDECLARED: &str = "local a = tonumber(redis.call('GET', ARGV[1])) \
     for i = 1, 20000 do end \
     local b = tonumber(redis.call('GET', ARGV[2])) \
     local n = tonumber(ARGV[3]) \
     if a < n then return 0 end \
     redis.call('SET', ARGV[1], a - n) \
     redis.call('SET', ARGV[2], b + n) \
     return 1";

/// Sums every account named in ARGV, undeclared.
const SUM_UNDECLARED: &str = "local s = 0 \
     for _, k in ipairs(ARGV) do s = s + tonumber(redis.call('GET', k)) end \
     return s";

/// Money moves between accounts in scripts (declared and undeclared
/// keys) and in MULTI/EXEC from many clients while others sum every
/// account — with MGET, with a script over undeclared keys, with a script
/// over declared ones — and the total never changes.
#[test]
fn script_transfers_never_show_a_changed_total() {
    const ACCOUNTS: usize = 12;
    const START: i64 = 1_000;
    const WRITERS: usize = 6;
    const READERS: usize = 4;
    const ROUNDS: usize = 150;
    let (_server, addr) = server(THREADS);
    let accounts: Vec<String> = (0..ACCOUNTS).map(|i| format!("acct:{i}")).collect();
    let mut mset = vec!["MSET".to_string()];
    for a in &accounts {
        mset.push(a.clone());
        mset.push(START.to_string());
    }
    let mut conn = client(addr);
    assert_eq!(conn.cmd(&mset), Frame::Simple("OK".into()));
    let total = START * ACCOUNTS as i64;
    let names = accounts.clone();
    let moved = together(WRITERS + READERS, move |t, barrier: &Barrier| {
        let mut conn = client(addr);
        let mut rng =
            Rng(0x9e37_79b9_7f4a_7c15 ^ (t as u64 + 1).wrapping_mul(0x1234_5678_9abc_def1));
        barrier.wait();
        let mut done = 0i64;
        for round in 0..ROUNDS {
            if t < WRITERS {
                let from = rng.below(ACCOUNTS as u64) as usize;
                let to = (from + 1 + rng.below(ACCOUNTS as u64 - 1) as usize) % ACCOUNTS;
                let amount = (1 + rng.below(50)).to_string();
                let (f, to) = (names[from].clone(), names[to].clone());
                let reply = match round % 3 {
                    0 => conn.cmd(&["EVAL", TRANSFER_DECLARED, "2", &f, &to, &amount]),
                    1 => conn.cmd(&["EVAL", TRANSFER_UNDECLARED, "0", &f, &to, &amount]),
                    _ => {
                        conn.send_cmd(&["MULTI"]);
                        conn.send_cmd(&["DECRBY", &f, &amount]);
                        conn.send_cmd(&["INCRBY", &to, &amount]);
                        conn.send_cmd(&["EXEC"]);
                        for _ in 0..3 {
                            conn.read_frame();
                        }
                        assert_eq!(items(conn.read_frame()).len(), 2);
                        Frame::Integer(1)
                    }
                };
                done += int(&reply);
            } else {
                let sum = match round % 3 {
                    0 => {
                        let mut mget = vec!["MGET".to_string()];
                        mget.extend(names.iter().cloned());
                        items(conn.cmd(&mget)).iter().map(bulk_int).sum::<i64>()
                    }
                    1 => {
                        let mut args = vec!["EVAL".to_string(), SUM_UNDECLARED.into(), "0".into()];
                        args.extend(names.iter().cloned());
                        int(&conn.cmd(&args))
                    }
                    _ => {
                        let mut args = vec![
                            "EVAL".to_string(),
                            "local s = 0 for _, k in ipairs(KEYS) do s = s + tonumber(redis.call('GET', k)) end return s".into(),
                            ACCOUNTS.to_string(),
                        ];
                        args.extend(names.iter().cloned());
                        int(&conn.cmd(&args))
                    }
                };
                assert_eq!(sum, total, "reader {t} saw a half-applied transfer");
            }
        }
        done
    });
    assert!(moved.iter().sum::<i64>() > 0, "some transfers ran");
    let mut mget = vec!["MGET".to_string()];
    mget.extend(accounts.iter().cloned());
    let balances: Vec<i64> = items(conn.cmd(&mget)).iter().map(bulk_int).collect();
    assert_eq!(balances.iter().sum::<i64>(), total);
}

/// Scripts that write a declared key and then touch a key they did not
/// declare, in crossing pairs (one declares x and touches y, the other
/// declares y and touches x), from many clients: every call ends — with
/// its result, or, where waiting would deadlock two scripts, with the
/// error that says so — and the counters add up to exactly what the
/// replies say happened.
#[test]
fn scripts_touching_undeclared_keys_after_writing_never_hang() {
    const CLIENTS: usize = 8;
    const ROUNDS: usize = 200;
    // The loop between the two writes keeps the first key's shard held
    // long enough for the crossing script to want it.
    let script = "redis.call('INCR', KEYS[1]) \
         for i = 1, 20000 do end \
         return redis.call('INCR', ARGV[1])";
    let (_server, addr) = server(THREADS);
    let outcomes = together(CLIENTS, move |t, barrier: &Barrier| {
        let mut conn = client(addr);
        barrier.wait();
        let (mut second, mut refused) = (0i64, 0i64);
        for round in 0..ROUNDS {
            let pair = (t + round) % 4;
            let (mine, other) = if t % 2 == 0 {
                (format!("x{pair}"), format!("y{pair}"))
            } else {
                (format!("y{pair}"), format!("x{pair}"))
            };
            match conn.cmd(&["EVAL", script, "1", &mine, &other]) {
                Frame::Integer(_) => second += 1,
                Frame::Error(e) => {
                    assert!(
                        String::from_utf8_lossy(&e).contains("did not declare"),
                        "unexpected error {e:?}"
                    );
                    refused += 1;
                }
                f => panic!("unexpected reply {f:?}"),
            }
        }
        (second, refused)
    });
    let seconds: i64 = outcomes.iter().map(|o| o.0).sum();
    let total_calls = (CLIENTS * ROUNDS) as i64;
    let mut conn = client(addr);
    let mut sum = 0;
    for p in 0..4 {
        for k in [format!("x{p}"), format!("y{p}")] {
            sum += match conn.cmd(&["GET", &k]) {
                Frame::NullBulk => 0,
                f => bulk_int(&f),
            };
        }
    }
    // Each call's first INCR always happens; its second only when it
    // succeeded.
    assert_eq!(sum, total_calls + seconds);
}

/// A script's writes are one unit for other clients on other loops too:
/// a reader never sees the first of two keys set without the second.
#[test]
fn a_reader_never_sees_half_of_a_script() {
    const ROUNDS: usize = 400;
    let (_server, addr) = server(THREADS);
    let results = together(4, move |t, barrier: &Barrier| {
        let mut conn = client(addr);
        barrier.wait();
        let mut checks = 0;
        for round in 0..ROUNDS {
            if t < 2 {
                let v = format!("{t}-{round}");
                conn.cmd(&[
                    "EVAL",
                    "redis.call('SET', KEYS[1], ARGV[1]) redis.call('SET', ARGV[2], ARGV[1]) return 1",
                    "1",
                    "pair:a",
                    &v,
                    "pair:b",
                ]);
            } else {
                let r = items(conn.cmd(&["MGET", "pair:a", "pair:b"]));
                assert_eq!(r[0], r[1], "a reader saw half a script");
                checks += 1;
            }
        }
        checks
    });
    assert_eq!(results.iter().sum::<usize>(), 2 * ROUNDS);
}
