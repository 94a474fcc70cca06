//! What the table benches against `redis-server` share (scripting,
//! streams, bitmaps, hyperloglog, geo, sort, tls): finding the binaries, the number
//! of rounds, running `redis-benchmark` and reading its requests per
//! second, and medians of the samples.
//!
//! Each of those benches starts fresh servers per case, alternates which
//! server goes first from round to round, and prints a table of medians
//! and ratios; only what they measure differs.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use soquete_testkit::server::{find_redis_server, find_soquete_server};
use soquete_testkit::{ServerKind, ServerProcess};

/// A table bench's setup: the servers to compare, `redis-benchmark`, and
/// how many rounds to run.
pub struct Setup {
    /// Rounds (`SOQUETE_BENCH_ROUNDS`, 3 by default).
    pub rounds: usize,
    /// The `redis-server` binary.
    pub redis: PathBuf,
    /// The `soquete-server` binary.
    pub soquete: PathBuf,
    /// `redis-benchmark`, beside `redis-server` or on the `PATH`.
    pub redis_benchmark: PathBuf,
    /// When the bench started.
    pub started: Instant,
}

/// The setup of the bench `name`, after printing the command that runs it
/// and the load average; `None` (with a note) outside `cargo bench`, since
/// these benches start servers.
pub fn setup(name: &str) -> Option<Setup> {
    if !std::env::args().skip(1).any(|a| a == "--bench") {
        println!("{name} bench: runs only under `cargo bench` (it starts servers)");
        return None;
    }
    let rounds: usize = std::env::var("SOQUETE_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let redis = find_redis_server().unwrap_or_else(|e| panic!("{e}"));
    let soquete = find_soquete_server().unwrap_or_else(|e| panic!("{e}"));
    let beside = redis.with_file_name("redis-benchmark");
    let redis_benchmark = if beside.is_file() {
        beside
    } else {
        PathBuf::from("redis-benchmark")
    };
    println!(
        "{name} bench: SOQUETE_BENCH_ROUNDS={rounds} cargo bench -p soquete-benches --bench {name}; load average {}",
        crate::results::loadavg()
    );
    Some(Setup {
        rounds,
        redis,
        soquete,
        redis_benchmark,
        started: Instant::now(),
    })
}

impl Setup {
    /// The closing line: time taken and the load average after.
    pub fn finish(&self, name: &str) {
        println!(
            "\n{name} bench: {} s, {} round(s), medians; load average after {}",
            self.started.elapsed().as_secs(),
            self.rounds,
            crate::results::loadavg()
        );
    }

    /// A fresh server of `who`, without save points.
    pub fn start(&self, who: Who) -> ServerProcess {
        self.start_with(who, &[])
    }

    /// A fresh server of `who`, without save points, with `args` added
    /// (the same for every server: `--tls-port` and the certificates...).
    pub fn start_with(&self, who: Who, args: &[String]) -> ServerProcess {
        let builder = match who {
            Who::Redis => ServerProcess::builder(ServerKind::Redis).binary(&self.redis),
            Who::SoqueteOne => ServerProcess::builder(ServerKind::Soquete)
                .binary(&self.soquete)
                .args(["--threads", "1"]),
            Who::Soquete => ServerProcess::builder(ServerKind::Soquete).binary(&self.soquete),
        };
        builder.args(["--save", ""]).args(args).start()
    }

    /// Requests per second `redis-benchmark` reports for `command` against
    /// 127.0.0.1:`port`, with `options` (`-c`, `-n`, `-P`, `-r`...) before
    /// it; 0 when it reports nothing.
    pub fn redis_benchmark(&self, port: u16, options: &[&str], command: &[&str]) -> f64 {
        rps_of_csv(
            &self.redis_benchmark_csv(port, options, command),
            command[0],
        )
    }

    /// Requests per second of each of redis-benchmark's own `tests`
    /// (`-t set,get`), in that order, against 127.0.0.1:`port` with
    /// `options` (`--tls`, `-P`...); 0 for a test it reports nothing for.
    pub fn redis_benchmark_tests(&self, port: u16, options: &[&str], tests: &[&str]) -> Vec<f64> {
        let mut args = options.to_vec();
        let list = tests.join(",");
        args.extend(["-t", &list]);
        let csv = self.redis_benchmark_csv(port, &args, &[]);
        tests.iter().map(|t| rps_of_csv(&csv, t)).collect()
    }

    /// `redis-benchmark --csv` output for `options` then `command`.
    fn redis_benchmark_csv(&self, port: u16, options: &[&str], command: &[&str]) -> String {
        let out = Command::new(&self.redis_benchmark)
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "--csv"])
            .args(options)
            .args(command)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.redis_benchmark.display()));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// Which server a sample is of.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Who {
    /// `redis-server`.
    Redis,
    /// soquete with one event loop (`--threads 1`).
    SoqueteOne,
    /// soquete with its default event loops (one per core).
    Soquete,
}

impl Who {
    /// Redis, soquete on one loop, soquete on its default.
    pub const ALL: [Who; 3] = [Who::Redis, Who::SoqueteOne, Who::Soquete];
    /// Redis and soquete on its default.
    pub const PAIR: [Who; 2] = [Who::Redis, Who::Soquete];

    /// Its name in the per-sample lines.
    pub fn name(self) -> &'static str {
        match self {
            Who::Redis => "redis",
            Who::SoqueteOne => "soquete-1",
            Who::Soquete => "soquete",
        }
    }

    /// `whos` in the order round `round` runs them: as given, reversed
    /// every other round, so that neither server always goes first.
    pub fn round_order(round: usize, whos: &[Who]) -> Vec<Who> {
        let mut order = whos.to_vec();
        if round % 2 == 1 {
            order.reverse();
        }
        order
    }
}

/// The requests per second on the CSV line of `command` in
/// `redis-benchmark --csv` output (`"NAME ...","rps",...`).
pub fn rps_of_csv(csv: &str, command: &str) -> f64 {
    let head = format!("\"{}", command.to_ascii_uppercase());
    csv.lines()
        .find(|l| l.to_ascii_uppercase().starts_with(&head))
        .and_then(|l| l.split("\",\"").nth(1))
        .and_then(|v| v.trim_matches('"').parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// Samples by case, in the order cases first appear.
pub struct Samples<K> {
    cells: Vec<(K, Vec<f64>)>,
}

impl<K: PartialEq> Default for Samples<K> {
    fn default() -> Self {
        Samples { cells: Vec::new() }
    }
}

impl<K: PartialEq> Samples<K> {
    /// Adds a sample of `key`.
    pub fn push(&mut self, key: K, value: f64) {
        match self.cells.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(value),
            None => self.cells.push((key, vec![value])),
        }
    }

    /// The median of `key`'s samples, 0 when it has none.
    pub fn median(&self, key: &K) -> f64 {
        self.cells
            .iter()
            .find(|(k, _)| k == key)
            .map_or(0.0, |(_, v)| median(v))
    }
}

/// The median of `v` (the upper one of an even count); 0 when empty.
pub fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// `a / b`, 0 when `b` is 0.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_rps_of_the_command_line() {
        let csv = "\"test\",\"rps\",\"avg_latency_ms\"\n\"BITOP AND bm:d\",\"1234.50\",\"0.3\"\n";
        assert_eq!(rps_of_csv(csv, "bitop"), 1234.5);
        assert_eq!(rps_of_csv(csv, "GET"), 0.0);
    }

    #[test]
    fn rounds_alternate_who_goes_first() {
        assert_eq!(Who::round_order(0, &Who::PAIR), [Who::Redis, Who::Soquete]);
        assert_eq!(Who::round_order(1, &Who::PAIR), [Who::Soquete, Who::Redis]);
    }

    #[test]
    fn medians_take_the_middle_sample() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[]), 0.0);
        let mut s = Samples::default();
        s.push("a", 1.0);
        s.push("a", 5.0);
        s.push("a", 3.0);
        assert_eq!(s.median(&"a"), 3.0);
        assert_eq!(s.median(&"b"), 0.0);
    }
}
