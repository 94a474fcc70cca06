//! Lua scripts: soquete-server against real `redis-server`, same machine,
//! same run.
//!
//! ```sh
//! cargo bench -p soquete-benches --bench scripting             # 3 rounds (~2 min)
//! SOQUETE_BENCH_ROUNDS=1 cargo bench -p soquete-benches --bench scripting
//! ```
//!
//! Each case loads a script with SCRIPT LOAD on a fresh server and runs
//! `redis-benchmark -c 50 -r 100000 -P <depth> -n <n> EVALSHA <sha> 1
//! key:__rand_int__` against it (n = 100,000 at depth 1, 300,000 at
//! depth 16): keys are random, so scripts on different keys may run in
//! parallel on soquete's event loops. The scripts:
//!
//! * `incr`: `return redis.call('INCR', KEYS[1])`
//! * `ten`: five INCRs and five GETs of the key, summed.
//!
//! soquete runs twice, with one event loop and with its default (one per
//! core), to show how scripts scale across loops. Rounds alternate which
//! server goes first; the table quotes median requests per second and the
//! ratios of the medians.

use std::path::Path;
use std::process::{Command, Stdio};

use soquete_benches::versus;
use soquete_resp::Frame;
use soquete_testkit::{ServerKind, ServerProcess};

const SCRIPTS: [(&str, &str); 2] = [
    ("incr", "return redis.call('INCR', KEYS[1])"),
    (
        "ten",
        "local n = 0 for i = 1, 5 do redis.call('INCR', KEYS[1]) n = n + tonumber(redis.call('GET', KEYS[1])) end return n",
    ),
];
const DEPTHS: [u32; 2] = [1, 16];

/// (script, depth, server): one cell of the table.
type Case = (usize, usize, &'static str);

/// Who runs: Redis, soquete with one loop, soquete with its default.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Who {
    Redis,
    SoqueteOne,
    Soquete,
}

fn main() {
    let Some(setup) = versus::setup("scripting") else {
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
        let mut order = [Who::Redis, Who::SoqueteOne, Who::Soquete];
        if round % 2 == 1 {
            order.reverse();
        }
        for (s, (_, body)) in SCRIPTS.iter().enumerate() {
            for (d, depth) in DEPTHS.iter().enumerate() {
                for who in order {
                    let rps = run_case(redis, soquete, who, rb, body, *depth);
                    let key = (s, d, name(who));
                    match samples.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, v)) => v.push(rps),
                        None => samples.push((key, vec![rps])),
                    }
                }
            }
        }
    }
    println!();
    println!("| script | depth | Redis 7.0.15 req/s | soquete 1 loop | soquete default | 1 loop / Redis | default / Redis | default / 1 loop |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (s, (script, _)) in SCRIPTS.iter().enumerate() {
        for (d, depth) in DEPTHS.iter().enumerate() {
            let med = |who| {
                samples
                    .iter()
                    .find(|(k, _)| *k == (s, d, name(who)))
                    .map(|(_, v)| versus::median(v))
                    .unwrap_or(0.0)
            };
            let (r, one, all) = (med(Who::Redis), med(Who::SoqueteOne), med(Who::Soquete));
            let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
            println!(
                "| {script} | {depth} | {r:.0} | {one:.0} | {all:.0} | {:.2} | {:.2} | {:.2} |",
                ratio(one, r),
                ratio(all, r),
                ratio(all, one)
            );
        }
    }
    setup.finish("scripting");
}

fn name(who: Who) -> &'static str {
    match who {
        Who::Redis => "redis",
        Who::SoqueteOne => "soquete-1",
        Who::Soquete => "soquete",
    }
}

/// One server, one script and depth: EVALSHA requests per second.
fn run_case(redis: &Path, soquete: &Path, who: Who, rb: &Path, body: &str, depth: u32) -> f64 {
    let builder = match who {
        Who::Redis => ServerProcess::builder(ServerKind::Redis).binary(redis),
        Who::SoqueteOne => ServerProcess::builder(ServerKind::Soquete)
            .binary(soquete)
            .args(["--threads", "1"]),
        Who::Soquete => ServerProcess::builder(ServerKind::Soquete).binary(soquete),
    };
    let server = builder.args(["--save", ""]).start();
    let mut c = server.connect();
    let sha = match c.cmd(&["SCRIPT", "LOAD", body]) {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        f => panic!("SCRIPT LOAD answered {f:?}"),
    };
    let n = if depth == 1 { 100_000 } else { 300_000 };
    let out = Command::new(rb)
        .args(["-h", "127.0.0.1", "-p", &server.port().to_string()])
        .args(["-c", "50", "-r", "100000"])
        .args(["-P", &depth.to_string(), "-n", &n.to_string(), "--csv"])
        .args(["EVALSHA", &sha, "1", "key:__rand_int__"])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", rb.display()));
    let text = String::from_utf8_lossy(&out.stdout);
    // The CSV's one data line: "EVALSHA ...","rps",...
    let rps = versus::rps_of_csv(&text, "EVALSHA");
    println!("{:>9} -P {depth:>2}: {rps:>9.0}/s", name(who));
    rps
}
