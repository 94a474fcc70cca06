//! Write throughput with the append-only file on: soquete-server against
//! real `redis-server`, same settings, same machine, same run.
//!
//! ```sh
//! cargo bench -p soquete-benches --bench aof                  # 3 rounds (~2 min)
//! SOQUETE_BENCH_ROUNDS=1 cargo bench -p soquete-benches --bench aof
//! ```
//!
//! Each case starts a fresh server with `--appendonly yes --appendfsync
//! <mode> --save ""` in a directory of its own and runs
//! `redis-benchmark -t set,incr -r 100000 -c 50 -P <depth> -n <n> --csv`
//! against it (n = 100,000 at depth 1, 400,000 at depth 16). Rounds
//! alternate which server goes first; the table quotes the median
//! requests per second and the ratio of the medians, soquete / Redis.

use std::path::Path;
use std::process::{Command, Stdio};

use soquete_benches::versus;
use soquete_testkit::{ServerKind, ServerProcess};

const MODES: [&str; 2] = ["everysec", "always"];
const DEPTHS: [u32; 2] = [1, 16];
const TESTS: [&str; 2] = ["SET", "INCR"];

/// (mode, depth, test, server) indices: one cell of the table.
type Case = (usize, usize, usize, ServerKind);

fn main() {
    let Some(setup) = versus::setup("aof") else {
        return;
    };
    let (rounds, redis, soquete, rb) = (
        setup.rounds,
        &setup.redis,
        &setup.soquete,
        &setup.redis_benchmark,
    );
    let mut samples: Vec<(Case, Vec<f64>)> = Vec::new();
    for round in 0..rounds {
        let order = if round % 2 == 0 {
            [ServerKind::Redis, ServerKind::Soquete]
        } else {
            [ServerKind::Soquete, ServerKind::Redis]
        };
        for (m, mode) in MODES.iter().enumerate() {
            for (d, depth) in DEPTHS.iter().enumerate() {
                for kind in order {
                    let bin = match kind {
                        ServerKind::Redis => redis,
                        ServerKind::Soquete => soquete,
                    };
                    let rps = run_case(bin, kind, rb, mode, *depth);
                    for (t, v) in rps.into_iter().enumerate() {
                        let key = (m, d, t, kind);
                        match samples.iter_mut().find(|(k, _)| *k == key) {
                            Some((_, v2)) => v2.push(v),
                            None => samples.push((key, vec![v])),
                        }
                    }
                }
            }
        }
    }
    println!();
    println!(
        "| appendfsync | depth | test | Redis 7.0.15 req/s | soquete req/s | soquete / Redis |"
    );
    println!("|---|---:|---|---:|---:|---:|");
    for (m, mode) in MODES.iter().enumerate() {
        for (d, depth) in DEPTHS.iter().enumerate() {
            for (t, test) in TESTS.iter().enumerate() {
                let med = |kind| {
                    samples
                        .iter()
                        .find(|(k, _)| *k == (m, d, t, kind))
                        .map(|(_, v)| median(v))
                        .unwrap_or(0.0)
                };
                let (r, s) = (med(ServerKind::Redis), med(ServerKind::Soquete));
                println!(
                    "| {mode} | {depth} | {test} | {r:.0} | {s:.0} | {:.2} |",
                    if r > 0.0 { s / r } else { 0.0 }
                );
            }
        }
    }
    setup.finish("aof");
}

/// One server, one mode and depth: requests per second of SET and INCR.
fn run_case(bin: &Path, kind: ServerKind, rb: &Path, mode: &str, depth: u32) -> [f64; 2] {
    let server = ServerProcess::builder(kind)
        .binary(bin)
        .args(["--appendonly", "yes", "--appendfsync", mode, "--save", ""])
        .start();
    // Wait for the first base file (soquete answers -LOADING until then).
    let mut c = server.connect();
    for _ in 0..200 {
        if !matches!(c.cmd(&["PING"]), soquete_resp::Frame::Error(_)) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let n = if depth == 1 { 100_000 } else { 400_000 };
    let out = Command::new(rb)
        .args(["-h", "127.0.0.1", "-p", &server.port().to_string()])
        .args(["-t", "set,incr", "-r", "100000", "-c", "50"])
        .args(["-P", &depth.to_string(), "-n", &n.to_string(), "--csv"])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", rb.display()));
    let text = String::from_utf8_lossy(&out.stdout);
    let rps = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("\"{name}\"")))
            .and_then(|l| l.split(',').nth(1))
            .and_then(|v| v.trim_matches('"').parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let r = [rps("SET"), rps("INCR")];
    println!(
        "{:>7} appendfsync {mode:>8} -P {depth:>2}: SET {:>9.0}/s INCR {:>9.0}/s",
        kind.name(),
        r[0],
        r[1]
    );
    r
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}
