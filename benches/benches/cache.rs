//! A cache workload nobody tuned for, soquete-server against real
//! `redis-server` with the same `maxmemory` and policy: hit ratio,
//! throughput and RSS.
//!
//! ```sh
//! cargo bench -p soquete-benches --bench cache                     # 300k keys (~3 min)
//! SOQUETE_BENCH_CACHE_KEYS=1000000 cargo bench -p soquete-benches --bench cache
//! SOQUETE_BENCH_QUICK=1 cargo bench -p soquete-benches --bench cache  # smoke run
//! ```
//!
//! Keys `c:<n>` are drawn from a Zipf distribution over
//! `SOQUETE_BENCH_CACHE_KEYS` distinct keys (exponents 0.99 and 1.2; key 0
//! the most popular, popularity scattered over the key space by a fixed
//! permutation). Each request is a GET; a miss is followed by a SET of the
//! key's value, whose size (32 B to 4 KiB, fixed per key) comes from the
//! key, so every server sees the same bytes. `maxmemory` is set to 10 % and
//! 30 % of the dataset's value bytes. Eight connections, one request in
//! flight each, share the same sequence of keys (a seeded generator per
//! connection). Per policy (`allkeys-lru`, `allkeys-lfu`) and server the
//! table gives the hit ratio after a warm-up of as many requests, the
//! throughput, and the RSS at the end.
//!
//! Scan resistance: in the middle of the measured requests, one connection
//! reads a sequential run of cold keys (the least popular 20 % of the key
//! space, each GET-then-SET); the hit ratio of the Zipf requests in the
//! window after the scan is reported beside the one before it.

use std::time::{Duration, Instant};

use soquete_resp::Frame;
use soquete_testkit::server::{find_redis_server, find_soquete_server};
use soquete_testkit::{Conn, ServerKind, ServerProcess};

const CONNECTIONS: usize = 8;
const POLICIES: [&str; 2] = ["allkeys-lru", "allkeys-lfu"];
const EXPONENTS: [f64; 2] = [0.99, 1.2];
const FRACTIONS: [f64; 2] = [0.10, 0.30];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!(
            "cache bench: runs only under `cargo bench` (it starts servers and takes minutes)"
        );
        return;
    }
    let quick = soquete_benches::quick();
    let keys: usize = std::env::var("SOQUETE_BENCH_CACHE_KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 20_000 } else { 300_000 });
    let requests = keys * 2;
    let redis = find_redis_server().unwrap_or_else(|e| panic!("{e}"));
    let soquete = find_soquete_server().unwrap_or_else(|e| panic!("{e}"));
    let total: u64 = (0..keys as u64).map(value_len).sum();
    println!(
        "cache bench: SOQUETE_BENCH_CACHE_KEYS={keys} cargo bench -p soquete-benches --bench cache; {keys} keys, {:.0} MB of values, {requests} requests measured after as many of warm-up; load average {}",
        total as f64 / 1e6,
        soquete_benches::results::loadavg()
    );
    let started = Instant::now();
    let mut rows = Vec::new();
    for &s in &EXPONENTS {
        let zipf = Zipf::new(keys, s);
        for &fraction in &FRACTIONS {
            let maxmemory = (total as f64 * fraction) as u64;
            for policy in POLICIES {
                let mut cells = Vec::new();
                for (kind, bin) in [(ServerKind::Redis, &redis), (ServerKind::Soquete, &soquete)] {
                    let server = ServerProcess::builder(kind)
                        .binary(bin)
                        .args(["--maxmemory", &maxmemory.to_string()])
                        .args(["--maxmemory-policy", policy])
                        .ready_timeout(Duration::from_secs(30))
                        .start();
                    let r = run(&server, &zipf, keys, requests);
                    println!(
                        "  s={s} maxmemory={:.0}% {policy:<12} {:>7}: hit ratio {:.4} (before scan {:.4}, after {:.4}), {:.0} req/s, RSS {} MB, errors {}",
                        fraction * 100.0,
                        kind.name(),
                        r.hit_ratio,
                        r.before_scan,
                        r.after_scan,
                        r.rps,
                        r.rss >> 20,
                        r.errors
                    );
                    cells.push(r);
                }
                rows.push((s, fraction, policy, cells));
            }
        }
    }
    println!();
    println!("| zipf s | maxmemory | policy | hit ratio Redis / soquete | after the scan Redis / soquete | req/s soquete / Redis | RSS MB Redis / soquete |");
    println!("|---:|---:|---|---|---|---:|---|");
    for (s, fraction, policy, c) in &rows {
        println!(
            "| {s} | {:.0}% | {policy} | {:.4} / {:.4} | {:.4} / {:.4} | {:.2} | {} / {} |",
            fraction * 100.0,
            c[0].hit_ratio,
            c[1].hit_ratio,
            c[0].after_scan,
            c[1].after_scan,
            c[1].rps / c[0].rps.max(1.0),
            c[0].rss >> 20,
            c[1].rss >> 20
        );
    }
    println!("\ncache bench: {} s", started.elapsed().as_secs());
}

/// A key's value length: 32 B to 4 KiB, fixed by the key.
fn value_len(key: u64) -> u64 {
    32 << (mix(key) % 8)
}

/// A 64-bit mix (splitmix64's finalizer).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Zipf ranks by inversion of the cumulative distribution.
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut sum = 0.0;
        for k in 1..=n {
            sum += 1.0 / (k as f64).powf(s);
            cdf.push(sum);
        }
        for c in &mut cdf {
            *c /= sum;
        }
        Zipf { cdf }
    }

    /// The rank (0 = most popular) for a uniform `u` in [0, 1).
    fn rank(&self, u: f64) -> usize {
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

/// The key of popularity rank `rank`, scattered over the key space.
fn key_of(rank: usize, keys: usize) -> u64 {
    // An odd multiplier mod a power of two is a permutation; fold into
    // range by retrying (keys below the power of two).
    let m = (keys as u64).next_power_of_two();
    let mut k = rank as u64;
    loop {
        k = k.wrapping_mul(0x9e37_79b9_7f4a_7c15 | 1) & (m - 1);
        if k < keys as u64 {
            return k;
        }
    }
}

struct Outcome {
    hit_ratio: f64,
    before_scan: f64,
    after_scan: f64,
    rps: f64,
    rss: u64,
    errors: u64,
}

/// GET, and SET on a miss; true on a hit.
fn get_or_set(c: &mut Conn, key: u64, value: &[u8], errors: &mut u64) -> bool {
    let name = format!("c:{key}");
    match c.cmd(&[b"GET".as_slice(), name.as_bytes()]) {
        Frame::Bulk(_) => true,
        _ => {
            let len = value_len(key) as usize;
            if matches!(
                c.cmd(&[b"SET".as_slice(), name.as_bytes(), &value[..len]]),
                Frame::Error(_)
            ) {
                *errors += 1;
            }
            false
        }
    }
}

fn run(server: &ServerProcess, zipf: &Zipf, keys: usize, requests: usize) -> Outcome {
    let value = vec![b'v'; 4096];
    let per_conn = requests / CONNECTIONS;
    let addr = server.addr();
    // Warm-up, then the measured requests in three windows: before the
    // scan, the scan (one connection), after it.
    let window = |conn: usize, seed: u64, count: usize| {
        let value = &value;
        move || {
            let mut c = Conn::connect(addr).expect("connect");
            let mut rng = seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ conn as u64;
            let (mut hits, mut errors) = (0u64, 0u64);
            for _ in 0..count {
                rng = mix(rng);
                let u = (rng >> 11) as f64 / (1u64 << 53) as f64;
                let key = key_of(zipf.rank(u), keys);
                hits += get_or_set(&mut c, key, value, &mut errors) as u64;
            }
            (hits, errors)
        }
    };
    let phase = |seed: u64, count: usize| -> (u64, u64, Duration) {
        let t = Instant::now();
        let (mut hits, mut errors) = (0, 0);
        std::thread::scope(|sc| {
            let hs: Vec<_> = (0..CONNECTIONS)
                .map(|i| sc.spawn(window(i, seed, count)))
                .collect();
            for h in hs {
                let (a, b) = h.join().expect("a client thread");
                hits += a;
                errors += b;
            }
        });
        (hits, errors, t.elapsed())
    };
    phase(1, per_conn);
    let (h1, e1, t1) = phase(2, per_conn / 2);
    // The scan: the least popular 20 % of ranks, in order.
    {
        let mut c = server.connect();
        let mut errors = 0;
        for rank in (keys - keys / 5)..keys {
            get_or_set(&mut c, key_of(rank, keys), &value, &mut errors);
        }
    }
    let (h2, e2, t2) = phase(3, per_conn / 2);
    let n = (per_conn / 2 * CONNECTIONS) as f64;
    Outcome {
        hit_ratio: (h1 + h2) as f64 / (2.0 * n),
        before_scan: h1 as f64 / n,
        after_scan: h2 as f64 / n,
        rps: 2.0 * n / (t1 + t2).as_secs_f64(),
        rss: server.rss_bytes().unwrap_or(0),
        errors: e1 + e2,
    }
}
