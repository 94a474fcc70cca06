//! Streams: soquete-server against real `redis-server`, same machine, same
//! run.
//!
//! ```sh
//! cargo bench -p soquete-benches --bench streams             # 3 rounds (~3 min)
//! SOQUETE_BENCH_ROUNDS=1 cargo bench -p soquete-benches --bench streams
//! ```
//!
//! Cases (each on a fresh server, both at their defaults):
//!
//! * `xadd`: `redis-benchmark -c 50 -r 16 -P <depth> XADD s:__rand_int__ *
//!   f1 v1 f2 v2` (16 streams, generated IDs), at depths 1 and 16.
//! * `xrange100`: `XRANGE r - + COUNT 100` on a stream of 1,000 entries of
//!   two fields, at depths 1 and 16.
//! * `consume`: 4 consumers of one group, each on its own connection, read
//!   100,000 entries with `XREADGROUP ... COUNT 20 STREAMS s >` and
//!   acknowledge each batch with one XACK, until none is left: entries per
//!   second.
//! * `memory`: the RSS a stream of 1,000,000 entries of two fields
//!   (`a <n> b <text>`, generated IDs) adds, per entry (lower is better;
//!   the ratio is Redis's over ours, so above 1 means smaller).
//!
//! Rounds alternate which server goes first; the table quotes medians and
//! the ratios of the medians.

use std::net::SocketAddr;
use std::time::Instant;

use soquete_benches::versus::{self, Samples, Setup, Who};
use soquete_resp::Frame;
use soquete_testkit::conn::{command_bytes, connect};
use soquete_testkit::procfs::rss_bytes;
use soquete_testkit::ServerProcess;

const DEPTHS: [u32; 2] = [1, 16];
const CONSUMED: usize = 100_000;
const MEMORY_ENTRIES: usize = 1_000_000;

fn main() {
    let Some(setup) = versus::setup("streams") else {
        return;
    };
    // (case, who) -> samples; higher is better except memory.
    let mut samples = Samples::default();
    let mut cases: Vec<String> = Vec::new();
    let mut record = |case: String, who: Who, v: f64| {
        println!("{case:>14} {:>8}: {v:>12.1}", who.name());
        if !cases.contains(&case) {
            cases.push(case.clone());
        }
        samples.push((case, who), v);
    };
    for round in 0..setup.rounds {
        for who in Who::round_order(round, &Who::PAIR) {
            for depth in DEPTHS {
                let server = setup.start(who);
                let rps = bench(
                    &setup,
                    &server,
                    depth,
                    &["-r", "16"],
                    &["XADD", "s:__rand_int__", "*", "f1", "v1", "f2", "v2"],
                );
                record(format!("xadd -P{depth}"), who, rps);
            }
            let server = setup.start(who);
            fill(server.addr(), "r", 1_000);
            for depth in DEPTHS {
                let rps = bench(
                    &setup,
                    &server,
                    depth,
                    &[],
                    &["XRANGE", "r", "-", "+", "COUNT", "100"],
                );
                record(format!("xrange100 -P{depth}"), who, rps);
            }
            drop(server);
            let server = setup.start(who);
            record("consume".into(), who, consume(server.addr()));
            drop(server);
            let server = setup.start(who);
            record("memory B/entry".into(), who, memory(&server));
        }
    }
    println!();
    println!("| case | Redis 7.0.15 | soquete | soquete / Redis |");
    println!("|---|---:|---:|---:|");
    for case in cases {
        let r = samples.median(&(case.clone(), Who::Redis));
        let s = samples.median(&(case.clone(), Who::Soquete));
        // For memory, smaller is better: the ratio is Redis's over ours.
        let ratio = if case.starts_with("memory") {
            versus::ratio(r, s)
        } else {
            versus::ratio(s, r)
        };
        println!("| {case} | {r:.1} | {s:.1} | {ratio:.2} |");
    }
    setup.finish("streams (memory: Redis / soquete, above 1 = smaller)");
}

/// Requests per second of `command` through redis-benchmark.
fn bench(
    setup: &Setup,
    server: &ServerProcess,
    depth: u32,
    extra: &[&str],
    command: &[&str],
) -> f64 {
    let n = if depth == 1 { "100000" } else { "300000" };
    let mut options = vec!["-c", "50", "-n", n];
    let depth = depth.to_string();
    options.extend(["-P", &depth]);
    options.extend(extra);
    setup.redis_benchmark(server.port(), &options, command)
}

/// Appends `n` entries of two fields to `key` (explicit IDs), pipelined.
fn fill(addr: SocketAddr, key: &str, n: usize) {
    let mut c = connect(addr);
    for chunk in (0..n).collect::<Vec<_>>().chunks(1_000) {
        let mut batch = Vec::new();
        for &i in chunk {
            batch.extend(command_bytes(&[
                "XADD".to_string(),
                key.to_string(),
                format!("{}-1", i + 1),
                "a".to_string(),
                i.to_string(),
                "b".to_string(),
                format!("payload-{i}"),
            ]));
        }
        c.send(&batch);
        for _ in chunk {
            c.read_raw_reply();
        }
    }
}

/// Entries per second 4 consumers read and acknowledge.
fn consume(addr: SocketAddr) -> f64 {
    fill(addr, "s", CONSUMED);
    let mut c = connect(addr);
    assert_eq!(
        c.cmd(&["XGROUP", "CREATE", "s", "g", "0"]),
        Frame::Simple("OK".into())
    );
    let start = Instant::now();
    let threads: Vec<_> = (0..4)
        .map(|k| {
            std::thread::spawn(move || {
                let mut c = connect(addr);
                let name = format!("c{k}");
                let mut got = 0usize;
                loop {
                    let r = c.cmd(&[
                        "XREADGROUP",
                        "GROUP",
                        "g",
                        &name,
                        "COUNT",
                        "20",
                        "STREAMS",
                        "s",
                        ">",
                    ]);
                    let Frame::Array(streams) = r else { break };
                    let Frame::Array(pair) = &streams[0] else {
                        break;
                    };
                    let Frame::Array(items) = &pair[1] else { break };
                    let mut ack = vec![b"XACK".to_vec(), b"s".to_vec(), b"g".to_vec()];
                    for item in items {
                        if let Frame::Array(e) = item {
                            ack.push(e[0].as_bytes().unwrap_or_default().to_vec());
                        }
                    }
                    got += items.len();
                    c.cmd(&ack);
                }
                got
            })
        })
        .collect();
    let total: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(total, CONSUMED);
    total as f64 / start.elapsed().as_secs_f64()
}

/// RSS bytes per entry a stream of a million two-field entries adds.
fn memory(server: &ServerProcess) -> f64 {
    let pid = server.pid();
    let before = rss_bytes(pid).unwrap_or(0);
    let mut c = connect(server.addr());
    let mut i = 0;
    while i < MEMORY_ENTRIES {
        let mut batch = Vec::new();
        let n = 1_000.min(MEMORY_ENTRIES - i);
        for j in i..i + n {
            batch.extend(command_bytes(&[
                "XADD".to_string(),
                "mem".to_string(),
                "*".to_string(),
                "a".to_string(),
                j.to_string(),
                "b".to_string(),
                format!("event-{}", j % 1000),
            ]));
        }
        c.send(&batch);
        for _ in 0..n {
            c.read_raw_reply();
        }
        i += n;
    }
    let after = rss_bytes(pid).unwrap_or(0);
    after.saturating_sub(before) as f64 / MEMORY_ENTRIES as f64
}
