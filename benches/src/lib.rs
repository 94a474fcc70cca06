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

#![warn(missing_docs)]

pub mod criterion;
pub mod hist;
pub mod load;
pub mod reply;
pub mod report;
pub mod results;
pub mod workload;
