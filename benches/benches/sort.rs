//! SORT: soquete-server against real `redis-server`, same machine, same
//! run.
//!
//! ```sh
//! cargo bench -p soquete-benches --bench sort             # 3 rounds
//! SOQUETE_BENCH_ROUNDS=1 cargo bench -p soquete-benches --bench sort
//! ```
//!
//! Each server gets a list `biglist` of 10,000 distinct integers in
//! random order, a string `weight_<n>` (a random weight) and
//! `data_<n>` for each element. `redis-benchmark -c 10 -n <n>` then runs
//! each case against it:
//!
//! * `numeric`: `SORT biglist LIMIT 0 10` (the elements as numbers);
//! * `by-get`: `SORT biglist BY weight_* GET data_* LIMIT 0 10` (10,000
//!   weight lookups, a partial sort, 10 data lookups per call). On
//!   soquete this call locks every shard of the database (see
//!   `server/src/cmd/sort.rs`), so calls run one at a time whatever the
//!   number of event loops.
//!
//! soquete runs with its default number of event loops. Rounds alternate
//! which server goes first; the table quotes median requests per second
//! and the ratio of the medians.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use soquete_testkit::server::{find_redis_server, find_soquete_server};
use soquete_testkit::{Conn, ServerKind, ServerProcess};

const ELEMENTS: usize = 10_000;
const CASES: [(&str, &[&str], u32); 2] = [
    ("numeric", &["SORT", "biglist", "LIMIT", "0", "10"], 200),
    (
        "by-get",
        &[
            "SORT", "biglist", "BY", "weight_*", "GET", "data_*", "LIMIT", "0", "10",
        ],
        200,
    ),
];

#[derive(Clone, Copy, PartialEq, Debug)]
enum Who {
    Redis,
    Soquete,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("sort bench: runs only under `cargo bench` (it starts servers)");
        return;
    }
    let rounds: usize = std::env::var("SOQUETE_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let redis = find_redis_server().unwrap_or_else(|e| panic!("{e}"));
    let soquete = find_soquete_server().unwrap_or_else(|e| panic!("{e}"));
    let rb = redis.with_file_name("redis-benchmark");
    let rb = if rb.is_file() {
        rb
    } else {
        PathBuf::from("redis-benchmark")
    };
    let started = Instant::now();
    println!(
        "sort bench: SOQUETE_BENCH_ROUNDS={rounds} cargo bench -p soquete-benches --bench sort; load average {}",
        soquete_benches::results::loadavg()
    );
    let mut samples: Vec<((usize, Who), Vec<f64>)> = Vec::new();
    for round in 0..rounds {
        let mut order = [Who::Redis, Who::Soquete];
        if round % 2 == 1 {
            order.reverse();
        }
        for who in order {
            let server = start(&redis, &soquete, who);
            load(&mut server.connect());
            for (i, (name, cmd, n)) in CASES.iter().enumerate() {
                let rps = run(&server, &rb, cmd, *n);
                println!("{who:>8?} {name:>8}: {rps:>9.1}/s");
                match samples.iter_mut().find(|(k, _)| *k == (i, who)) {
                    Some((_, v)) => v.push(rps),
                    None => samples.push(((i, who), vec![rps])),
                }
            }
        }
    }
    println!();
    println!("| case | Redis 7.0.15 req/s | soquete req/s | soquete / Redis |");
    println!("|---|---:|---:|---:|");
    for (i, (name, _, _)) in CASES.iter().enumerate() {
        let med = |who| {
            samples
                .iter()
                .find(|(k, _)| *k == (i, who))
                .map(|(_, v)| median(v))
                .unwrap_or(0.0)
        };
        let (r, s) = (med(Who::Redis), med(Who::Soquete));
        let ratio = if r > 0.0 { s / r } else { 0.0 };
        println!("| {name} | {r:.1} | {s:.1} | {ratio:.2} |");
    }
    println!(
        "\nsort bench: {} s, {rounds} round(s), medians; load average after {}",
        started.elapsed().as_secs(),
        soquete_benches::results::loadavg()
    );
}

fn start(redis: &Path, soquete: &Path, who: Who) -> ServerProcess {
    let builder = match who {
        Who::Redis => ServerProcess::builder(ServerKind::Redis).binary(redis),
        Who::Soquete => ServerProcess::builder(ServerKind::Soquete).binary(soquete),
    };
    builder.args(["--save", ""]).start()
}

/// The list, weights and data, in batches of MSET/RPUSH.
fn load(c: &mut Conn) {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut elements: Vec<usize> = (0..ELEMENTS).collect();
    for i in (1..elements.len()).rev() {
        elements.swap(i, (next() % (i as u64 + 1)) as usize);
    }
    for chunk in elements.chunks(500) {
        let mut rpush = vec!["RPUSH".to_string(), "biglist".to_string()];
        let mut mset = vec!["MSET".to_string()];
        for e in chunk {
            rpush.push(e.to_string());
            mset.extend([format!("weight_{e}"), (next() % 1_000_000).to_string()]);
            mset.extend([format!("data_{e}"), format!("payload-{e}")]);
        }
        c.cmd(&rpush);
        c.cmd(&mset);
    }
}

/// Requests per second of `cmd` through redis-benchmark.
fn run(server: &ServerProcess, rb: &Path, cmd: &[&str], n: u32) -> f64 {
    let out = Command::new(rb)
        .args(["-h", "127.0.0.1", "-p", &server.port().to_string()])
        .args(["-c", "10", "-n", &n.to_string(), "--csv"])
        .args(cmd)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", rb.display()));
    let text = String::from_utf8_lossy(&out.stdout);
    // The CSV's one data line: "SORT ...","rps",...
    text.lines()
        .find(|l| l.starts_with("\"SORT"))
        .and_then(|l| l.split("\",\"").nth(1))
        .and_then(|v| v.trim_matches('"').parse::<f64>().ok())
        .unwrap_or(0.0)
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}
