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

use soquete_benches::versus::{self, Samples, Setup, Who};
use soquete_resp::Frame;

const SCRIPTS: [(&str, &str); 2] = [
    ("incr", "return redis.call('INCR', KEYS[1])"),
    (
        "ten",
        "local n = 0 for i = 1, 5 do redis.call('INCR', KEYS[1]) n = n + tonumber(redis.call('GET', KEYS[1])) end return n",
    ),
];
const DEPTHS: [u32; 2] = [1, 16];

fn main() {
    let Some(setup) = versus::setup("scripting") else {
        return;
    };
    // (script, depth, server) -> requests per second, one per round.
    let mut samples = Samples::default();
    for round in 0..setup.rounds {
        let order = Who::round_order(round, &Who::ALL);
        for (s, (_, body)) in SCRIPTS.iter().enumerate() {
            for (d, depth) in DEPTHS.iter().enumerate() {
                for &who in &order {
                    let rps = run_case(&setup, who, body, *depth);
                    samples.push((s, d, who), rps);
                }
            }
        }
    }
    println!();
    println!("| script | depth | Redis 7.0.15 req/s | soquete 1 loop | soquete default | 1 loop / Redis | default / Redis | default / 1 loop |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (s, (script, _)) in SCRIPTS.iter().enumerate() {
        for (d, depth) in DEPTHS.iter().enumerate() {
            let med = |who| samples.median(&(s, d, who));
            let (r, one, all) = (med(Who::Redis), med(Who::SoqueteOne), med(Who::Soquete));
            println!(
                "| {script} | {depth} | {r:.0} | {one:.0} | {all:.0} | {:.2} | {:.2} | {:.2} |",
                versus::ratio(one, r),
                versus::ratio(all, r),
                versus::ratio(all, one)
            );
        }
    }
    setup.finish("scripting");
}

/// One server, one script and depth: EVALSHA requests per second.
fn run_case(setup: &Setup, who: Who, body: &str, depth: u32) -> f64 {
    let server = setup.start(who);
    let mut c = server.connect();
    let sha = match c.cmd(&["SCRIPT", "LOAD", body]) {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        f => panic!("SCRIPT LOAD answered {f:?}"),
    };
    let n = if depth == 1 { "100000" } else { "300000" };
    let depth_arg = depth.to_string();
    let rps = setup.redis_benchmark(
        server.port(),
        &["-c", "50", "-r", "100000", "-P", &depth_arg, "-n", n],
        &["EVALSHA", &sha, "1", "key:__rand_int__"],
    );
    println!("{:>9} -P {depth:>2}: {rps:>9.0}/s", who.name());
    rps
}
