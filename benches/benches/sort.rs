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

use soquete_benches::versus::{self, Samples, Who};
use soquete_testkit::Conn;

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

fn main() {
    let Some(setup) = versus::setup("sort") else {
        return;
    };
    let mut samples = Samples::default();
    for round in 0..setup.rounds {
        for who in Who::round_order(round, &Who::PAIR) {
            let server = setup.start(who);
            load(&mut server.connect());
            for (i, (name, cmd, n)) in CASES.iter().enumerate() {
                let n = n.to_string();
                let rps = setup.redis_benchmark(server.port(), &["-c", "10", "-n", &n], cmd);
                println!("{:>8} {name:>8}: {rps:>9.1}/s", who.name());
                samples.push((i, who), rps);
            }
        }
    }
    println!();
    println!("| case | Redis 7.0.15 req/s | soquete req/s | soquete / Redis |");
    println!("|---|---:|---:|---:|");
    for (i, (name, _, _)) in CASES.iter().enumerate() {
        let (r, s) = (
            samples.median(&(i, Who::Redis)),
            samples.median(&(i, Who::Soquete)),
        );
        println!("| {name} | {r:.1} | {s:.1} | {:.2} |", versus::ratio(s, r));
    }
    setup.finish("sort");
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
