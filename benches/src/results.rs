//! What the server bench measured, as written to
//! `target/soquete-bench/server.json` and read back by the summary step.
//!
//! Every case keeps its raw samples (one per alternation round, Redis and
//! soquete interleaved in time); tables quote their medians.

use serde::{Deserialize, Serialize};

/// The machine and conditions of a run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Machine {
    /// `nproc`.
    pub nproc: usize,
    /// `model name` of `/proc/cpuinfo`.
    pub cpu_model: String,
    /// `/proc/sys/kernel/osrelease`.
    pub kernel: String,
    /// `MemTotal` in MiB.
    pub mem_total_mib: u64,
    /// `/proc/loadavg` (1, 5, 15 min) when the bench started.
    pub load_before: String,
    /// `/proc/loadavg` when it ended.
    pub load_after: String,
}

impl Machine {
    /// Reads everything but `load_after`.
    pub fn probe() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_total_mib = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_ascii_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .unwrap_or(0)
            / 1024;
        Machine {
            nproc: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap_or_default()
                .trim()
                .to_owned(),
            mem_total_mib,
            load_before: loadavg(),
            load_after: String::new(),
        }
    }

    /// One line: `AMD EPYC, nproc 2, Linux 6.x, 24105 MiB RAM`.
    pub fn describe(&self) -> String {
        format!(
            "{}, nproc {}, Linux {}, {} MiB RAM",
            self.cpu_model, self.nproc, self.kernel, self.mem_total_mib
        )
    }
}

/// Cargo's target directory, found from the running bench executable
/// (`<target>/<profile>/deps/<bench>`), else `target`.
pub fn target_dir() -> std::path::PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| "target".into())
}

/// Where the benches write their summary: `<target>/soquete-bench`.
pub fn output_dir() -> std::path::PathBuf {
    target_dir().join("soquete-bench")
}

/// Criterion's output directory, found as criterion finds it:
/// `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else
/// `<target>/criterion`.
pub fn criterion_dir() -> std::path::PathBuf {
    if let Some(d) = std::env::var_os("CRITERION_HOME").filter(|d| !d.is_empty()) {
        return d.into();
    }
    if let Some(d) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        return std::path::PathBuf::from(d).join("criterion");
    }
    target_dir().join("criterion")
}

/// The first three fields of `/proc/loadavg`.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_ascii_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// One run of the load generator against one server.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Sample {
    /// Requests per second.
    pub rps: f64,
    /// Median per-request latency, microseconds.
    pub p50_us: f64,
    /// 99th percentile per-request latency, microseconds.
    pub p99_us: f64,
    /// Server CPU nanoseconds (user + system) per request.
    pub cpu_ns: f64,
    /// Fraction of a core the generator thread used.
    pub client_busy: f64,
}

/// One cell of the load matrix.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoadCell {
    /// Command name as in [`crate::workload::Command::name`].
    pub command: String,
    /// Value size in bytes (0 when the command carries no value).
    pub value_size: usize,
    /// Connections.
    pub connections: usize,
    /// Pipeline depth.
    pub depth: usize,
    /// Redis samples, one per round.
    pub redis: Vec<Sample>,
    /// soquete samples, one per round.
    pub soquete: Vec<Sample>,
    /// Why the cell failed, if it did (error replies, I/O).
    pub error: Option<String>,
}

/// One `redis-benchmark` run against one server.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct RbSample {
    /// Requests per second as `redis-benchmark` reports it.
    pub rps: f64,
    /// p50 latency, ms.
    pub p50_ms: f64,
    /// p99 latency, ms.
    pub p99_ms: f64,
    /// Server CPU nanoseconds per request over the whole invocation.
    pub cpu_ns: f64,
    /// How busy `redis-benchmark` itself was: its user + system time over
    /// its run time, in cores. `redis-benchmark` is one thread, so near 1.0
    /// it, not the server, set the pace of that run.
    #[serde(default)]
    pub client_busy: f64,
}

/// One `redis-benchmark` test at one pipeline depth.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RbCase {
    /// `goals`, the cases the speed goals are stated for (`-t
    /// set,get,incr,mset -n 1000000 -r 100000 -c 50`), or `suite` (the
    /// default test list). Results saved under the `goals` group's earlier
    /// name still load; the summary leaves those rows out until the bench
    /// runs again.
    pub group: String,
    /// The test name as `redis-benchmark` prints it (`SET`, `LRANGE_100 ...`).
    pub test: String,
    /// `-P`.
    pub pipeline: usize,
    /// The arguments after `-h/-p`.
    pub args: String,
    /// Redis samples.
    pub redis: Vec<RbSample>,
    /// soquete samples.
    pub soquete: Vec<RbSample>,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// Resident memory for one dataset, each loaded into a fresh server.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemoryCase {
    /// Short name (`strings`, `hashes`, ...).
    pub dataset: String,
    /// What was loaded.
    pub description: String,
    /// Redis RSS before loading, bytes.
    pub redis_empty: u64,
    /// Redis RSS after loading, bytes.
    pub redis_loaded: u64,
    /// soquete RSS before loading, bytes.
    pub soquete_empty: u64,
    /// soquete RSS after loading, bytes.
    pub soquete_loaded: u64,
}

impl MemoryCase {
    /// Redis's growth in bytes.
    pub fn redis_delta(&self) -> u64 {
        self.redis_loaded.saturating_sub(self.redis_empty)
    }

    /// soquete's growth in bytes.
    pub fn soquete_delta(&self) -> u64 {
        self.soquete_loaded.saturating_sub(self.soquete_empty)
    }
}

/// Everything `benches/server.rs` measured.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ServerReport {
    /// Whether `SOQUETE_BENCH_QUICK` was set (numbers are then only a smoke test).
    pub quick: bool,
    /// Alternation rounds per case.
    pub rounds: usize,
    /// Measured seconds per load cell and server.
    pub cell_secs: f64,
    /// Unix time the bench started.
    pub started_unix: u64,
    /// Wall time of the whole server bench.
    pub duration_secs: f64,
    /// The machine.
    pub machine: Machine,
    /// `redis-server --version`.
    pub redis_version: String,
    /// The soquete source measured: `git describe --always --dirty` of the workspace.
    #[serde(default)]
    pub soquete_source: String,
    /// soquete's event loop threads.
    pub soquete_threads: String,
    /// The load matrix.
    pub cells: Vec<LoadCell>,
    /// Cases skipped because a server lacks a command, with the reason.
    pub skipped: Vec<String>,
    /// `redis-benchmark` runs.
    pub redis_benchmark: Vec<RbCase>,
    /// Memory datasets.
    pub memory: Vec<MemoryCase>,
}

/// The median of `xs` (the mean of the middle two for an even count); NaN
/// when empty. NaN samples are ignored.
pub fn median(xs: impl IntoIterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = xs.into_iter().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The geometric mean of positive finite `xs`; NaN when there are none.
pub fn geomean(xs: impl IntoIterator<Item = f64>) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for x in xs {
        if x.is_finite() && x > 0.0 {
            sum += x.ln();
            n += 1;
        }
    }
    if n == 0 {
        f64::NAN
    } else {
        (sum / n as f64).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median([3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median([4.0, 1.0]), 2.5);
        assert!(median([]).is_nan());
        assert_eq!(median([f64::NAN, 5.0]), 5.0);
    }

    #[test]
    fn geomean_ignores_non_positive() {
        assert!((geomean([2.0, 8.0]) - 4.0).abs() < 1e-12);
        assert!((geomean([2.0, 0.0, f64::NAN, 8.0]) - 4.0).abs() < 1e-12);
        assert!(geomean([]).is_nan());
    }

    #[test]
    fn report_round_trips_through_json() {
        let mut r = ServerReport {
            quick: true,
            rounds: 2,
            ..Default::default()
        };
        r.memory.push(MemoryCase {
            dataset: "strings".into(),
            description: "d".into(),
            redis_empty: 1,
            redis_loaded: 11,
            soquete_empty: 2,
            soquete_loaded: 7,
        });
        let back: ServerReport = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back.memory[0].redis_delta(), 10);
        assert_eq!(back.memory[0].soquete_delta(), 5);
        assert!(back.quick);
    }
}
