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

use soquete_benches::versus::{self, Samples, Setup, Who};

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
    // (case, depth, server) -> requests per second, one per round.
    let mut samples = Samples::default();
    for round in 0..setup.rounds {
        let order = Who::round_order(round, &Who::PAIR);
        for c in 0..CASES.len() {
            for (d, depth) in DEPTHS.iter().enumerate() {
                for &who in &order {
                    samples.push((c, d, who), run_case(&setup, who, c, *depth));
                }
            }
        }
    }
    println!();
    println!("| case | depth | Redis 7.0.15 req/s | soquete req/s | soquete / Redis |");
    println!("|---|---:|---:|---:|---:|");
    for (c, (case, _, _)) in CASES.iter().enumerate() {
        for (d, depth) in DEPTHS.iter().enumerate() {
            let (r, s) = (
                samples.median(&(c, d, Who::Redis)),
                samples.median(&(c, d, Who::Soquete)),
            );
            println!(
                "| {case} | {depth} | {r:.0} | {s:.0} | {:.2} |",
                versus::ratio(s, r)
            );
        }
    }
    setup.finish("hyperloglog");
}

/// One server, one case and depth: requests per second.
fn run_case(setup: &Setup, who: Who, case: usize, depth: u32) -> f64 {
    let server = setup.start(who);
    let mut c = server.connect();
    for key in ["hll", "hll2"] {
        for chunk in 0..100 {
            let mut cmd = vec!["PFADD".to_string(), key.to_string()];
            cmd.extend((0..200).map(|i| format!("{key}:{}", chunk * 200 + i)));
            c.cmd(&cmd);
        }
    }
    let (name, range, command) = CASES[case];
    let n = if depth == 1 { "100000" } else { "300000" };
    let depth_arg = depth.to_string();
    let rps = setup.redis_benchmark(
        server.port(),
        &["-c", "50", "-r", range, "-P", &depth_arg, "-n", n],
        command,
    );
    println!("{:>8} {name:>13} -P {depth:>2}: {rps:>9.0}/s", who.name());
    rps
}
