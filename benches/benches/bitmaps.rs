//! Bitmap commands over a 1 MiB value: soquete-server against real
//! `redis-server`, same machine, same run.
//!
//! ```sh
//! cargo bench -p soquete-benches --bench bitmaps             # 3 rounds
//! SOQUETE_BENCH_ROUNDS=1 cargo bench -p soquete-benches --bench bitmaps
//! ```
//!
//! Each server starts fresh and gets two 1 MiB strings (`bm:a`, `bm:b`, the
//! same bytes on both servers); then `redis-benchmark -c 10 -n <n>` runs
//! one command:
//!
//! * `bitcount`: `BITCOUNT bm:a` (a population count of 1 MiB);
//! * `bitcount-range`: `BITCOUNT bm:a 3 1048000 BIT` (bit-granular edges);
//! * `bitpos`: `BITPOS bm:z 1` (a scan of 1 MiB of zeros, one bit at the end);
//! * `bitop-and`, `bitop-xor`: `BITOP AND|XOR bm:d bm:a bm:b` (1 MiB
//!   combined and stored on every call).
//!
//! soquete runs with one event loop and with its default; rounds alternate
//! which server goes first; the table quotes median requests per second
//! and the ratios of the medians.

use soquete_benches::versus::{self, Samples, Setup, Who};
use soquete_resp::Frame;
use soquete_testkit::ServerProcess;

/// The value size.
const SIZE: usize = 1 << 20;

/// (name, command, requests per run).
const CASES: [(&str, &[&str], u32); 5] = [
    ("bitcount", &["BITCOUNT", "bm:a"], 20_000),
    (
        "bitcount-range",
        &["BITCOUNT", "bm:a", "3", "1048000", "BIT"],
        20_000,
    ),
    ("bitpos", &["BITPOS", "bm:z", "1"], 20_000),
    (
        "bitop-and",
        &["BITOP", "AND", "bm:d", "bm:a", "bm:b"],
        5_000,
    ),
    (
        "bitop-xor",
        &["BITOP", "XOR", "bm:d", "bm:a", "bm:b"],
        5_000,
    ),
];

fn main() {
    let Some(setup) = versus::setup("bitmaps") else {
        return;
    };
    let values = [value(1), value(2)];
    // (case, server) -> requests per second, one per round.
    let mut samples = Samples::default();
    for round in 0..setup.rounds {
        for who in Who::round_order(round, &Who::ALL) {
            let server = start(&setup, who, &values);
            for (i, (case, cmd, n)) in CASES.iter().enumerate() {
                let n = n.to_string();
                let rps = setup.redis_benchmark(server.port(), &["-c", "10", "-n", &n], cmd);
                println!("{:>9} {case:>15}: {rps:>9.0}/s", who.name());
                samples.push((i, who), rps);
            }
        }
    }
    println!();
    println!("| command (1 MiB) | Redis 7.0.15 req/s | soquete 1 loop | soquete default | 1 loop / Redis | default / Redis |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (i, (case, _, _)) in CASES.iter().enumerate() {
        let med = |who| samples.median(&(i, who));
        let (r, one, all) = (med(Who::Redis), med(Who::SoqueteOne), med(Who::Soquete));
        println!(
            "| {case} | {r:.0} | {one:.0} | {all:.0} | {:.2} | {:.2} |",
            versus::ratio(one, r),
            versus::ratio(all, r)
        );
    }
    setup.finish("bitmaps");
}

/// 1 MiB of printable pseudo-random bytes (a fixed sequence per seed),
/// so that both servers hold the same bits.
fn value(seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..SIZE)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (b'!' + (x % 94) as u8) as char
        })
        .collect()
}

/// A fresh server holding `bm:a`, `bm:b` and `bm:z` (zeros, its last bit
/// set).
fn start(setup: &Setup, who: Who, values: &[String; 2]) -> ServerProcess {
    let server = setup.start(who);
    let mut c = server.connect();
    let last_bit = (SIZE * 8 - 1).to_string();
    for cmd in [
        &["SET", "bm:a", &values[0]][..],
        &["SET", "bm:b", &values[1]],
        &["SETBIT", "bm:z", &last_bit, "1"],
    ] {
        let r = c.cmd(cmd);
        assert!(!matches!(r, Frame::Error(_)), "{}: {r:?}", cmd[0]);
    }
    server
}
