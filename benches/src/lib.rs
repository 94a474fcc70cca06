//! Shared helpers for the soquete benches.
//!
//! `cargo bench` at the workspace root runs, in this order (cargo sorts bench
//! targets by name): `client` (soquete-client vs redis-rs), `codec`
//! (soquete-resp vs redis-protocol), `server` (soquete-server vs real
//! `redis-server`: our load generator, `redis-benchmark`, memory) and
//! `summary`, which prints one table of ratios and writes it, with a chart,
//! under `target/soquete-bench/`.
//!
//! # Layout
//!
//! * [`load`] — the load generator: one thread, `mio`, pipelined connections.
//! * [`workload`] — the commands of the load matrix as pre-encoded request rings.
//! * [`reply`] — finds where a RESP reply ends without decoding it.
//! * [`hist`] — a log-linear latency histogram.
//! * [`results`] — what the server bench measured (`server.json`).
//! * [`criterion`] — reads criterion's JSON for the client and codec benches.
//! * [`report`] — the ratio table, detail tables and the SVG chart.
//! * [`versus`] — what the table benches against `redis-server` share
//!   (scripting, streams, bitmaps, hyperloglog, geo).

#![warn(missing_docs)]

pub mod criterion;
pub mod hist;
pub mod load;
pub mod reply;
pub mod report;
pub mod results;
pub mod versus;
pub mod workload;

use std::time::Duration;

/// Whether `SOQUETE_BENCH_QUICK` asks for a short smoke run (any value but
/// `0`).
pub fn quick() -> bool {
    std::env::var_os("SOQUETE_BENCH_QUICK").is_some_and(|v| v != "0")
}

/// The criterion settings of the client and pub/sub benches: 3 s of
/// measurement, or a few short samples in a [`quick`] run.
pub fn criterion_config() -> ::criterion::Criterion {
    let c = ::criterion::Criterion::default();
    if quick() {
        c.sample_size(10)
            .warm_up_time(Duration::from_millis(200))
            .measurement_time(Duration::from_millis(500))
    } else {
        c.measurement_time(Duration::from_secs(3))
    }
}
