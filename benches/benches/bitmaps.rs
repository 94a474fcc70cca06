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

use std::path::Path;
use std::process::{Command, Stdio};

use soquete_benches::versus;
use soquete_resp::Frame;
use soquete_testkit::{ServerKind, ServerProcess};

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

/// Who runs: Redis, soquete with one loop, soquete with its default.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Who {
    Redis,
    SoqueteOne,
    Soquete,
}

fn main() {
    let Some(setup) = versus::setup("bitmaps") else {
        return;
    };
    let (rounds, redis, soquete, rb) = (
        setup.rounds,
        &setup.redis,
        &setup.soquete,
        &setup.redis_benchmark,
    );
    let values = [value(1), value(2)];
    let mut samples: Vec<((usize, &'static str), Vec<f64>)> = Vec::new();
    for round in 0..rounds {
        let mut order = [Who::Redis, Who::SoqueteOne, Who::Soquete];
        if round % 2 == 1 {
            order.reverse();
        }
        for who in order {
            let server = start(redis, soquete, who, &values);
            for (i, (case, cmd, n)) in CASES.iter().enumerate() {
                let rps = run_case(&server, rb, cmd, *n);
                println!("{:>9} {case:>15}: {rps:>9.0}/s", name(who));
                let key = (i, name(who));
                match samples.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, v)) => v.push(rps),
                    None => samples.push((key, vec![rps])),
                }
            }
        }
    }
    println!();
    println!("| command (1 MiB) | Redis 7.0.15 req/s | soquete 1 loop | soquete default | 1 loop / Redis | default / Redis |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (i, (case, _, _)) in CASES.iter().enumerate() {
        let med = |who| {
            samples
                .iter()
                .find(|(k, _)| *k == (i, name(who)))
                .map(|(_, v)| versus::median(v))
                .unwrap_or(0.0)
        };
        let (r, one, all) = (med(Who::Redis), med(Who::SoqueteOne), med(Who::Soquete));
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        println!(
            "| {case} | {r:.0} | {one:.0} | {all:.0} | {:.2} | {:.2} |",
            ratio(one, r),
            ratio(all, r)
        );
    }
    setup.finish("bitmaps");
}

fn name(who: Who) -> &'static str {
    match who {
        Who::Redis => "redis",
        Who::SoqueteOne => "soquete-1",
        Who::Soquete => "soquete",
    }
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
fn start(redis: &Path, soquete: &Path, who: Who, values: &[String; 2]) -> ServerProcess {
    let builder = match who {
        Who::Redis => ServerProcess::builder(ServerKind::Redis).binary(redis),
        Who::SoqueteOne => ServerProcess::builder(ServerKind::Soquete)
            .binary(soquete)
            .args(["--threads", "1"]),
        Who::Soquete => ServerProcess::builder(ServerKind::Soquete).binary(soquete),
    };
    let server = builder.args(["--save", ""]).start();
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

/// One command, `n` requests from 10 clients: requests per second.
fn run_case(server: &ServerProcess, rb: &Path, cmd: &[&str], n: u32) -> f64 {
    let out = Command::new(rb)
        .args(["-h", "127.0.0.1", "-p", &server.port().to_string()])
        .args(["-c", "10", "-n", &n.to_string(), "--csv"])
        .args(cmd)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", rb.display()));
    let text = String::from_utf8_lossy(&out.stdout);
    // The CSV's one data line: "BITCOUNT ...","rps",...
    versus::rps_of_csv(&text, cmd[0])
}
