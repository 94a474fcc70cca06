//! soquete-client against redis-rs, both talking to the same real
//! `redis-server` (started once, on an ephemeral loopback port) in one run.
//!
//! * `client_blocking/{get,set}/depth-N/{soquete,redis-rs}`: one batch of N
//!   pipelined commands per iteration on a blocking connection. The measured
//!   time is the **CPU time of the client thread** (`CLOCK_THREAD_CPUTIME_ID`,
//!   user + system), not wall time: the server's work and the network wait do
//!   not count, only what the client spends per request.
//! * `client_async/{get_set}/tasks-T/{soquete,redis-rs}`: T tasks sharing one
//!   multiplexed connection, each doing 10 SET + 10 GET; wall time, so the
//!   reported throughput is requests per second through one connection.
//!
//! Run: `cargo bench -p soquete-benches --bench client`
//! (`SOQUETE_BENCH_QUICK=1` for a short smoke run). After criterion, a
//! user/system split of the blocking CPU time is printed from
//! `getrusage(RUSAGE_THREAD)`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use redis::{AsyncCommands, Commands};
use soquete_benches::quick;
use soquete_testkit::ServerProcess;

const DEPTHS: [usize; 3] = [1, 16, 128];
const TASKS: [usize; 2] = [100, 1000];
const OPS_PER_TASK: usize = 20;
const VALUE: &[u8] = b"0123456789abcdef0123456789abcdef";

/// CPU time consumed so far by the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID is
    // supported on every Linux this runs on, and the call only writes `ts`.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// User and system CPU time of the calling thread.
fn thread_rusage() -> (Duration, Duration) {
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is valid and writable; RUSAGE_THREAD is Linux's per-thread usage.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
    assert_eq!(rc, 0, "getrusage(RUSAGE_THREAD) failed");
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (tv(ru.ru_utime), tv(ru.ru_stime))
}

fn keys(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("bench:key:{i}")).collect()
}

/// One batch on our blocking client.
fn ours_batch(c: &mut soquete_client::Client, op: &str, keys: &[String]) {
    if keys.len() == 1 {
        if op == "get" {
            let v: Vec<u8> = c.get(&keys[0]).unwrap();
            black_box(v);
        } else {
            let _: () = c.set(&keys[0], VALUE).unwrap();
        }
        return;
    }
    let mut p = soquete_client::Pipeline::with_capacity(keys.len());
    if op == "get" {
        for k in keys {
            p.get(k);
        }
        let v: Vec<Vec<u8>> = p.query(c).unwrap();
        black_box(v);
    } else {
        for k in keys {
            p.set(k, VALUE).ignore();
        }
        p.exec(c).unwrap();
    }
}

/// The same batch on redis-rs.
fn theirs_batch(c: &mut redis::Connection, op: &str, keys: &[String]) {
    if keys.len() == 1 {
        if op == "get" {
            let v: Vec<u8> = c.get(&keys[0]).unwrap();
            black_box(v);
        } else {
            let _: () = c.set(&keys[0], VALUE).unwrap();
        }
        return;
    }
    let mut p = redis::pipe();
    if op == "get" {
        for k in keys {
            p.get(k);
        }
        let v: Vec<Vec<u8>> = p.query(c).unwrap();
        black_box(v);
    } else {
        for k in keys {
            p.set(k, VALUE).ignore();
        }
        let _: () = p.query(c).unwrap();
    }
}

fn blocking(c: &mut Criterion, server: &ServerProcess) {
    let url = format!("redis://{}", server.addr());
    let mut ours = soquete_client::Client::connect(url.as_str()).unwrap();
    let mut theirs = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    // The keys exist so that GET returns a value.
    let all = keys(128);
    for k in &all {
        let _: () = ours.set(k, VALUE).unwrap();
    }
    let mut g = c.benchmark_group("client_blocking");
    for op in ["get", "set"] {
        for depth in DEPTHS {
            let ks = &all[..depth];
            g.throughput(Throughput::Elements(depth as u64));
            g.bench_function(
                BenchmarkId::new(format!("{op}/depth-{depth}"), "soquete"),
                |b| {
                    b.iter_custom(|iters| {
                        let t0 = thread_cpu();
                        for _ in 0..iters {
                            ours_batch(&mut ours, op, ks);
                        }
                        thread_cpu() - t0
                    })
                },
            );
            g.bench_function(
                BenchmarkId::new(format!("{op}/depth-{depth}"), "redis-rs"),
                |b| {
                    b.iter_custom(|iters| {
                        let t0 = thread_cpu();
                        for _ in 0..iters {
                            theirs_batch(&mut theirs, op, ks);
                        }
                        thread_cpu() - t0
                    })
                },
            );
        }
    }
    g.finish();
    if !wants_split() {
        return;
    }

    // User/system split, outside criterion: a fixed number of requests each.
    eprintln!("\nclient thread CPU per request (getrusage RUSAGE_THREAD), user + system:");
    let requests = if quick() { 20_000 } else { 200_000 };
    for op in ["get", "set"] {
        for depth in DEPTHS {
            let ks = &all[..depth];
            let batches = requests / depth;
            let measure = |f: &mut dyn FnMut()| {
                let (u0, s0) = thread_rusage();
                for _ in 0..batches {
                    f();
                }
                let (u1, s1) = thread_rusage();
                let per = |d: Duration| d.as_nanos() as f64 / (batches * depth) as f64;
                (per(u1 - u0), per(s1 - s0))
            };
            let (ou, os) = measure(&mut || ours_batch(&mut ours, op, ks));
            let (tu, ts) = measure(&mut || theirs_batch(&mut theirs, op, ks));
            eprintln!(
                "  {op} depth {depth:>3}: soquete {ou:7.0} + {os:7.0} ns   redis-rs {tu:7.0} + {ts:7.0} ns   \
                 ratio total {:.2}  user {:.2}",
                (ou + os) / (tu + ts),
                ou / tu
            );
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn ours_tasks(c: &soquete_client::MultiplexedClient, tasks: usize) {
    let mut hs = Vec::with_capacity(tasks);
    for t in 0..tasks {
        let c = c.clone();
        hs.push(tokio::spawn(async move {
            let key = format!("bench:async:{t}");
            for _ in 0..OPS_PER_TASK / 2 {
                let _: () = c.set(&key, VALUE).await.unwrap();
                let v: Vec<u8> = c.get(&key).await.unwrap();
                black_box(v);
            }
        }));
    }
    for h in hs {
        h.await.unwrap();
    }
}

async fn theirs_tasks(c: &redis::aio::MultiplexedConnection, tasks: usize) {
    let mut hs = Vec::with_capacity(tasks);
    for t in 0..tasks {
        let mut c = c.clone();
        hs.push(tokio::spawn(async move {
            let key = format!("bench:async:{t}");
            for _ in 0..OPS_PER_TASK / 2 {
                let _: () = c.set(&key, VALUE).await.unwrap();
                let v: Vec<u8> = c.get(&key).await.unwrap();
                black_box(v);
            }
        }));
    }
    for h in hs {
        h.await.unwrap();
    }
}

fn multiplexed(c: &mut Criterion, server: &ServerProcess) {
    let url = format!("redis://{}", server.addr());
    let rt = runtime();
    let (ours, theirs) = rt.block_on(async {
        let ours = soquete_client::MultiplexedClient::connect(url.as_str())
            .await
            .unwrap();
        let theirs = redis::Client::open(url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        (ours, theirs)
    });
    let mut g = c.benchmark_group("client_async");
    for tasks in TASKS {
        g.throughput(Throughput::Elements((tasks * OPS_PER_TASK) as u64));
        g.bench_function(
            BenchmarkId::new(format!("get_set/tasks-{tasks}"), "soquete"),
            |b| {
                b.iter_custom(|iters| {
                    let t0 = Instant::now();
                    for _ in 0..iters {
                        rt.block_on(ours_tasks(&ours, tasks));
                    }
                    t0.elapsed()
                })
            },
        );
        g.bench_function(
            BenchmarkId::new(format!("get_set/tasks-{tasks}"), "redis-rs"),
            |b| {
                b.iter_custom(|iters| {
                    let t0 = Instant::now();
                    for _ in 0..iters {
                        rt.block_on(theirs_tasks(&theirs, tasks));
                    }
                    t0.elapsed()
                })
            },
        );
    }
    g.finish();
}

/// The user/system split runs in bench mode, unless a criterion filter
/// excludes the blocking group.
fn wants_split() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test` runs benches once each without `--bench`: no split then.
    if !args.iter().any(|a| a == "--bench") {
        return false;
    }
    // Criterion options that take a value: that value is not a filter.
    const WITH_VALUE: &[&str] = &[
        "--measurement-time",
        "--warm-up-time",
        "--sample-size",
        "--save-baseline",
        "--baseline",
        "--load-baseline",
        "--profile-time",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--nresamples",
        "--output-format",
        "--color",
        "--plotting-backend",
        "-s",
        "-b",
        "-c",
    ];
    let mut filters = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if WITH_VALUE.contains(&a.as_str()) {
            it.next();
        } else if !a.starts_with('-') {
            filters.push(a.as_str());
        }
    }
    filters.is_empty()
        || filters
            .iter()
            .any(|f| "client_blocking".contains(f) || f.contains("blocking"))
}

fn benches(c: &mut Criterion) {
    let server = ServerProcess::redis();
    blocking(c, &server);
    multiplexed(c, &server);
}

criterion_group! {
    name = client;
    config = soquete_benches::criterion_config();
    targets = benches
}
criterion_main!(client);
