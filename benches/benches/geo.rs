//! Geo searches: soquete-server against real `redis-server`, same machine,
//! same run.
//!
//! ```sh
//! cargo bench -p soquete-benches --bench geo             # 3 rounds
//! SOQUETE_BENCH_ROUNDS=1 SOQUETE_GEO_MEMBERS=100000 cargo bench -p soquete-benches --bench geo
//! ```
//!
//! Each server starts empty and is loaded with the same members (1,000,000
//! by default, `SOQUETE_GEO_MEMBERS` to change) in one sorted set, spread
//! by a fixed pseudo-random sequence over longitudes -10..90 and latitudes
//! -10..85, through pipelined `GEOADD`s of 1,000 members each. Then
//! `redis-benchmark -c 50 -P <depth> -n <n>` (n = 20,000 and 2,000 at
//! depth 1, three times that at 16) runs GEOSEARCH around a
//! random centre (`__rand_int__` in 0..80 for both coordinates, where the
//! points are):
//!
//! * `radius-50km`: `BYRADIUS 50 km` (about 50 members a search);
//! * `radius-200km-count10`: `BYRADIUS 200 km COUNT 10 ASC WITHDIST`
//!   (about 800 matches, partially sorted, ten returned).
//!
//! soquete runs with one event loop and with its default. Rounds alternate
//! which server goes first; the table quotes median requests per second
//! and the ratios of the medians. Loading time is printed too.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use soquete_benches::versus::{self, Samples, Setup, Who};

/// (name, query, requests at depth 1; three times as many at depth 16):
/// the 200 km search costs about ten times the 50 km one, so it gets
/// fewer requests.
const QUERIES: [(&str, &str, u32); 2] = [
    (
        "radius-50km",
        "GEOSEARCH geo FROMLONLAT __rand_int__ __rand_int__ BYRADIUS 50 km",
        20_000,
    ),
    (
        "radius-200km-count10",
        "GEOSEARCH geo FROMLONLAT __rand_int__ __rand_int__ BYRADIUS 200 km COUNT 10 ASC WITHDIST",
        2_000,
    ),
];
const DEPTHS: [u32; 2] = [1, 16];
/// Members per GEOADD, and GEOADDs per pipelined batch.
const PER_ADD: usize = 1000;
const ADDS_PER_BATCH: usize = 32;

fn main() {
    let Some(setup) = versus::setup("geo") else {
        return;
    };
    let members: usize = std::env::var("SOQUETE_GEO_MEMBERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
        .max(1);
    println!("geo bench: SOQUETE_GEO_MEMBERS={members}");
    let load = build_load(members);
    // (query, depth, server) -> requests per second, one per round.
    let mut samples = Samples::default();
    for round in 0..setup.rounds {
        for who in Who::round_order(round, &Who::ALL) {
            let server = setup.start(who);
            let t = Instant::now();
            run_load(server.port(), &load);
            println!(
                "{:>9}: loaded {members} members in {:.2} s",
                who.name(),
                t.elapsed().as_secs_f64()
            );
            for (q, (name, query, requests)) in QUERIES.iter().enumerate() {
                for (d, depth) in DEPTHS.iter().enumerate() {
                    let rps = run_case(&setup, server.port(), query, *requests, *depth);
                    println!("{:>9} {name:<22} -P {depth:>2}: {rps:>9.0}/s", who.name());
                    samples.push((q, d, who), rps);
                }
            }
        }
    }
    println!();
    println!("| query | depth | Redis 7.0.15 req/s | soquete 1 loop | soquete default | 1 loop / Redis | default / Redis |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (q, (query, _, _)) in QUERIES.iter().enumerate() {
        for (d, depth) in DEPTHS.iter().enumerate() {
            let med = |who| samples.median(&(q, d, who));
            let (r, one, all) = (med(Who::Redis), med(Who::SoqueteOne), med(Who::Soquete));
            println!(
                "| {query} | {depth} | {r:.0} | {one:.0} | {all:.0} | {:.2} | {:.2} |",
                versus::ratio(one, r),
                versus::ratio(all, r),
            );
        }
    }
    setup.finish("geo");
}

/// The load as batches of RESP bytes, each `ADDS_PER_BATCH` GEOADDs (the
/// last may hold fewer), with the number of commands in each.
fn build_load(members: usize) -> Vec<(Vec<u8>, usize)> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // xorshift64*: the same points on every server and run.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut batches = Vec::new();
    let mut buf = Vec::new();
    let mut in_batch = 0;
    let mut done = 0;
    while done < members {
        let n = PER_ADD.min(members - done);
        buf.extend_from_slice(
            format!("*{}\r\n$6\r\nGEOADD\r\n$3\r\ngeo\r\n", 2 + 3 * n).as_bytes(),
        );
        for i in done..done + n {
            let lon = format!("{:.6}", -10.0 + 100.0 * next());
            let lat = format!("{:.6}", -10.0 + 95.0 * next());
            let m = format!("m{i}");
            for a in [&lon, &lat, &m] {
                buf.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
            }
        }
        done += n;
        in_batch += 1;
        if in_batch == ADDS_PER_BATCH || done == members {
            batches.push((std::mem::take(&mut buf), in_batch));
            in_batch = 0;
        }
    }
    batches
}

/// Sends each batch, then reads its replies (one integer line per GEOADD).
fn run_load(port: u16, load: &[(Vec<u8>, usize)]) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut buf = vec![0u8; 1 << 16];
    for (bytes, commands) in load {
        s.write_all(bytes).expect("write the load");
        let mut lines = 0;
        let mut first = None;
        while lines < *commands {
            let n = s.read(&mut buf).expect("read the replies");
            assert!(n > 0, "the server closed the connection while loading");
            first.get_or_insert(buf[0]);
            lines += memchr::memchr_iter(b'\n', &buf[..n]).count();
        }
        assert_eq!(first, Some(b':'), "GEOADD failed while loading");
    }
}

/// One query and depth: GEOSEARCH requests per second.
fn run_case(setup: &Setup, port: u16, query: &str, requests: u32, depth: u32) -> f64 {
    let n = if depth == 1 { requests } else { 3 * requests };
    let (n, depth) = (n.to_string(), depth.to_string());
    let command: Vec<&str> = query.split(' ').collect();
    setup.redis_benchmark(
        port,
        &["-c", "50", "-r", "80", "-P", &depth, "-n", &n],
        &command,
    )
}
