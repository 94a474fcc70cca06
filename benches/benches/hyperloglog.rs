//! HyperLogLog commands: soquete-server against real `redis-server`, same
//! machine, same run.
//!
//! ```sh
//! cargo bench -p soquete-benches --bench hyperloglog             # 3 rounds
//! SOQUETE_BENCH_ROUNDS=1 cargo bench -p soquete-benches --bench hyperloglog
//! ```
//!
//! Each case starts a fresh server, preloads two dense HyperLogLogs
//! (`hll` and `hll2`, 20,000 elements each) and runs `redis-benchmark -c
//! 50 -P <depth> -n <n> --csv` with one custom command (n = 100,000 at
//! depth 1, 300,000 at depth 16):
//!
//! * `pfadd-dense`: `PFADD hll e:__rand_int__` (`-r 10000000`): one dense
//!   key, most adds change nothing.
//! * `pfadd-sparse`: `PFADD s:__rand_int__ e:__rand_int__` (`-r 100000`):
//!   many small sparse keys, each add a split of the opcodes.
//! * `pfcount`: `PFCOUNT hll`: the cached cardinality.
//! * `pfcount-union`: `PFCOUNT hll hll2`: two dense HyperLogLogs merged
//!   and estimated on every call.
//!
//! Rounds alternate which server goes first; the table quotes median
//! requests per second and the ratio of the medians.

use std::path::Path;
use std::process::{Command, Stdio};

use soquete_benches::versus;
use soquete_testkit::{ServerKind, ServerProcess};

/// (name, `-r` keyspace, the command).
const CASES: [(&str, &str, &[&str]); 4] = [
    (
        "pfadd-dense",
        "10000000",
        &["PFADD", "hll", "e:__rand_int__"],
    ),
    (
        "pfadd-sparse",
        "100000",
        &["PFADD", "s:__rand_int__", "e:__rand_int__"],
    ),
    ("pfcount", "1000", &["PFCOUNT", "hll"]),
    ("pfcount-union", "1000", &["PFCOUNT", "hll", "hll2"]),
];
const DEPTHS: [u32; 2] = [1, 16];

fn main() {
    let Some(setup) = versus::setup("hyperloglog") else {
        return;
    };
    let (rounds, redis, soquete, rb) = (
        setup.rounds,
        &setup.redis,
        &setup.soquete,
        &setup.redis_benchmark,
    );
    // (case, depth, is_redis) -> requests per second, one per round.
    let mut samples: Vec<((usize, usize, bool), Vec<f64>)> = Vec::new();
    for round in 0..rounds {
        let mut order = [true, false];
        if round % 2 == 1 {
            order.reverse();
        }
        for c in 0..CASES.len() {
            for (d, depth) in DEPTHS.iter().enumerate() {
                for is_redis in order {
                    let bin = if is_redis { &redis } else { &soquete };
                    let rps = run_case(bin, is_redis, rb, c, *depth);
                    let key = (c, d, is_redis);
                    match samples.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, v)) => v.push(rps),
                        None => samples.push((key, vec![rps])),
                    }
                }
            }
        }
    }
    println!();
    println!("| case | depth | Redis 7.0.15 req/s | soquete req/s | soquete / Redis |");
    println!("|---|---:|---:|---:|---:|");
    for (c, (case, _, _)) in CASES.iter().enumerate() {
        for (d, depth) in DEPTHS.iter().enumerate() {
            let med = |is_redis| {
                samples
                    .iter()
                    .find(|(k, _)| *k == (c, d, is_redis))
                    .map(|(_, v)| versus::median(v))
                    .unwrap_or(0.0)
            };
            let (r, s) = (med(true), med(false));
            let ratio = if r > 0.0 { s / r } else { 0.0 };
            println!("| {case} | {depth} | {r:.0} | {s:.0} | {ratio:.2} |");
        }
    }
    setup.finish("hyperloglog");
}

/// One server, one case and depth: requests per second.
fn run_case(bin: &Path, is_redis: bool, rb: &Path, case: usize, depth: u32) -> f64 {
    let kind = if is_redis {
        ServerKind::Redis
    } else {
        ServerKind::Soquete
    };
    let server = ServerProcess::builder(kind)
        .binary(bin)
        .args(["--save", ""])
        .start();
    let mut c = server.connect();
    for key in ["hll", "hll2"] {
        for chunk in 0..100 {
            let mut cmd = vec!["PFADD".to_string(), key.to_string()];
            cmd.extend((0..200).map(|i| format!("{key}:{}", chunk * 200 + i)));
            c.cmd(&cmd);
        }
    }
    let (name, range, command) = CASES[case];
    let n = if depth == 1 { 100_000 } else { 300_000 };
    let out = Command::new(rb)
        .args(["-h", "127.0.0.1", "-p", &server.port().to_string()])
        .args(["-c", "50", "-r", range])
        .args(["-P", &depth.to_string(), "-n", &n.to_string(), "--csv"])
        .args(command)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", rb.display()));
    let text = String::from_utf8_lossy(&out.stdout);
    // The CSV's one data line: "PFADD ...","rps",...
    let rps = versus::rps_of_csv(&text, "PF");
    let who = if is_redis { "redis" } else { "soquete" };
    println!("{who:>8} {name:>13} -P {depth:>2}: {rps:>9.0}/s");
    rps
}
