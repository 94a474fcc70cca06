//! soquete-server against real `redis-server`, same machine, same run.
//!
//! ```sh
//! cargo bench -p soquete-benches --bench server            # everything (~20 min)
//! SOQUETE_BENCH_QUICK=1 cargo bench -p soquete-benches --bench server   # smoke run
//! cargo bench -p soquete-benches --bench server -- memory  # one section
//! ```
//!
//! Sections (a filter argument keeps those whose id contains it):
//!
//! * `server/load` — our load generator (`soquete_benches::load`): GET, SET,
//!   INCR, MSET(10), LPUSH/LPOP, HSET, SADD, ZADD at pipeline depth 1, 16 and
//!   64, with 1 and 50 connections, values of 32 B and 4 KiB. Each cell runs
//!   Redis, soquete, Redis, soquete ... (`SOQUETE_BENCH_ROUNDS`, default 2
//!   rounds) for `SOQUETE_BENCH_CELL_SECS` (default 1.0) each, after a
//!   warm-up; medians are reported.
//! * `server/redis-benchmark` — the cases the speed goals are stated for
//!   (group `goals`: `redis-benchmark -t <test> -n 1000000 -r 100000 -c 50
//!   -P 1|16` for SET, GET, INCR and MSET), and the default test suite
//!   (group `suite`, `-n 100000`) at `-P 1` and `-P 16`, alternating servers
//!   per test.
//!   Server CPU per request is the server process's user + system CPU time
//!   (all threads, nanosecond clock) over the invocation divided by the
//!   requests it carried.
//! * `server/memory` — RSS after loading 1,000,000 strings, 10,000 hashes of
//!   100 fields, 10,000 sets / sorted sets / lists of 100 members, each into
//!   fresh servers, minus the empty server's RSS.
//!
//! Servers: `redis-server` from `$REDIS_SERVER` or `PATH` (missing: the bench
//! fails at once with the install hint), persistence off; a release
//! `soquete-server` (built if stale) with its default threads; both on
//! ephemeral loopback ports, stopped on drop, also on panic. Commands a server
//! lacks (`COMMAND INFO`) are skipped and listed.
//!
//! Results go to `target/soquete-bench/server.json`; the `summary` bench
//! turns them into the ratio table and chart. Outside `cargo bench` (i.e.
//! `cargo test --all-targets`) this does nothing.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant, SystemTime};

use soquete_benches::load::{self, LoadConfig};
use soquete_benches::report;
use soquete_benches::results::{
    loadavg, median, LoadCell, Machine, MemoryCase, RbCase, RbSample, Sample, ServerReport,
};
use soquete_benches::workload::{command, string_key, value_bytes, Command, KEYSPACE};
use soquete_resp::Frame;
use soquete_testkit::server::{find_redis_server, find_soquete_server};
use soquete_testkit::{ServerKind, ServerProcess};

const SECTIONS: [&str; 3] = ["server/load", "server/redis-benchmark", "server/memory"];
const VALUE_SIZES: [usize; 2] = [32, 4096];
const CONNECTIONS: [usize; 2] = [1, 50];
const DEPTHS: [usize; 3] = [1, 16, 64];
/// The `redis-benchmark` tests the speed goals are stated for (group `goals`).
const GOAL_TESTS: [&str; 4] = ["set", "get", "incr", "mset"];
/// redis-benchmark 7.0's default list, by `-t` name.
const SUITE: [&str; 19] = [
    "ping_inline",
    "ping_mbulk",
    "set",
    "get",
    "incr",
    "lpush",
    "rpush",
    "lpop",
    "rpop",
    "sadd",
    "hset",
    "spop",
    "zadd",
    "zpopmin",
    "lrange_100",
    "lrange_300",
    "lrange_500",
    "lrange_600",
    "mset",
];

struct Opts {
    quick: bool,
    rounds: usize,
    warmup: Duration,
    measure: Duration,
    goal_n: u64,
    suite_n: u64,
    /// Divides the memory datasets (quick mode).
    mem_div: usize,
}

impl Opts {
    fn from_env() -> Opts {
        let quick = soquete_benches::quick();
        let num = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<f64>().ok());
        let secs = num("SOQUETE_BENCH_CELL_SECS").unwrap_or(if quick { 0.2 } else { 1.0 });
        Opts {
            quick,
            rounds: num("SOQUETE_BENCH_ROUNDS")
                .map_or(if quick { 1 } else { 2 }, |r| (r as usize).max(1)),
            warmup: Duration::from_secs_f64((secs / 4.0).clamp(0.05, 0.5)),
            measure: Duration::from_secs_f64(secs.max(0.05)),
            goal_n: if quick { 50_000 } else { 1_000_000 },
            suite_n: if quick { 5_000 } else { 100_000 },
            mem_div: if quick { 10 } else { 1 },
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs bench targets without `--bench`.
        println!(
            "server bench: runs only under `cargo bench` (it starts servers and takes minutes)"
        );
        return;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let sections: Vec<&str> = SECTIONS
        .into_iter()
        .filter(|s| filters.is_empty() || filters.iter().any(|f| s.contains(f.as_str())))
        .collect();
    if sections.is_empty() {
        println!("server bench: no section matches the filter");
        return;
    }
    let opts = Opts::from_env();

    // Fail at once, before anything long, when a reference tool is missing.
    let redis_bin = find_redis_server().unwrap_or_else(|e| fail(&e.to_string()));
    let rb_bin = if sections.contains(&"server/redis-benchmark") {
        Some(find_redis_benchmark(&redis_bin).unwrap_or_else(|e| fail(&e)))
    } else {
        None
    };
    let soquete_bin = find_soquete_server().unwrap_or_else(|e| fail(&e.to_string()));
    let bins = Bins {
        redis: redis_bin,
        soquete: soquete_bin,
    };

    let started = Instant::now();
    let out_dir = soquete_benches::results::output_dir();
    let json_path = out_dir.join("server.json");
    // A filtered run replaces only the sections it ran.
    let mut rep: ServerReport = if filters.is_empty() {
        ServerReport::default()
    } else {
        std::fs::read_to_string(&json_path)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default()
    };
    rep.quick = opts.quick;
    rep.rounds = opts.rounds;
    rep.cell_secs = opts.measure.as_secs_f64();
    rep.started_unix = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rep.machine = Machine::probe();
    rep.redis_version = redis_version(&bins.redis);
    rep.soquete_source = git_describe();
    println!(
        "server bench: {}; load average {}; redis: {}; soquete: {} ({}){}",
        rep.machine.describe(),
        rep.machine.load_before,
        bins.redis.display(),
        bins.soquete.display(),
        rep.soquete_source,
        if opts.quick { "  [QUICK MODE]" } else { "" }
    );
    rep.skipped.retain(|s| {
        !sections
            .iter()
            .any(|sec| s.starts_with(&sec["server/".len()..]))
    });

    if sections.contains(&"server/load") {
        rep.cells.clear();
        load_matrix(&opts, &bins, &mut rep);
    }
    if let Some(rb) = &rb_bin {
        rep.redis_benchmark.clear();
        redis_benchmark(&opts, &bins, rb, &mut rep);
    }
    if sections.contains(&"server/memory") {
        rep.memory.clear();
        memory(&opts, &bins, &mut rep);
    }

    rep.machine.load_after = loadavg();
    rep.duration_secs = started.elapsed().as_secs_f64();
    std::fs::create_dir_all(&out_dir).expect("create target/soquete-bench");
    std::fs::write(
        &json_path,
        serde_json::to_string_pretty(&rep).expect("serialise the report"),
    )
    .expect("write server.json");
    let sum = report::summarize(Some(&rep), &[]);
    println!("\n{}", sum.table);
    println!(
        "server bench: {:.0} s; load average before {} / after {}; results in {}",
        rep.duration_secs,
        rep.machine.load_before,
        rep.machine.load_after,
        json_path.display()
    );
}

fn fail(msg: &str) -> ! {
    eprintln!("server bench: {msg}");
    std::process::exit(1);
}

struct Bins {
    redis: PathBuf,
    soquete: PathBuf,
}

impl Bins {
    fn start(&self, kind: ServerKind) -> ServerProcess {
        let bin = match kind {
            ServerKind::Redis => &self.redis,
            ServerKind::Soquete => &self.soquete,
        };
        ServerProcess::builder(kind).binary(bin).start()
    }
}

/// `$REDIS_BENCHMARK`, else `redis-benchmark` beside the redis-server in use, else `PATH`.
fn find_redis_benchmark(redis_server: &Path) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("REDIS_BENCHMARK").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let beside = redis_server.with_file_name("redis-benchmark");
    if beside.is_file() {
        return Ok(beside);
    }
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join("redis-benchmark"))
                .find(|p| p.is_file())
        })
        .ok_or_else(|| {
            "redis-benchmark not found in PATH; install it with `apt-get install -y redis-tools` \
             or set REDIS_BENCHMARK=/path/to/redis-benchmark"
                .to_owned()
        })
}

/// `7.0.15` from `redis-server --version` (`Redis server v=7.0.15 sha=...`).
fn redis_version(bin: &Path) -> String {
    let line = Process::new(bin)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    line.split_ascii_whitespace()
        .find_map(|w| w.strip_prefix("v="))
        .map_or(line.clone(), str::to_owned)
}

/// `git describe --always --dirty` of the workspace (empty outside git).
fn git_describe() -> String {
    Process::new("git")
        .args(["describe", "--always", "--dirty"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// soquete's event loop count, from its startup log.
fn soquete_threads(s: &ServerProcess) -> String {
    let out = s.output();
    out.lines()
        .find_map(|l| {
            let (_, rest) = l.split_once("Server initialized, ")?;
            rest.split_ascii_whitespace().next().map(str::to_owned)
        })
        .unwrap_or_else(|| "default".into())
}

/// The commands of `names` that `s` does not have (`COMMAND INFO` answers nil).
fn missing(s: &ServerProcess, names: &[&str]) -> Vec<String> {
    let mut c = s.connect();
    names
        .iter()
        .filter(|n| match c.cmd(&["COMMAND", "INFO", n]) {
            Frame::Array(items) => !matches!(items.first(), Some(Frame::Array(_))),
            _ => true,
        })
        .map(|n| n.to_string())
        .collect()
}

/// Why the pair cannot run `names`, if it cannot.
fn unsupported(servers: &[ServerProcess], names: &[&str]) -> Option<String> {
    let why: Vec<String> = servers
        .iter()
        .filter_map(|s| {
            let m = missing(s, names);
            (!m.is_empty()).then(|| format!("{} lacks {}", s.kind(), m.join(", ").to_uppercase()))
        })
        .collect();
    (!why.is_empty()).then(|| why.join("; "))
}

fn flushall(s: &ServerProcess) {
    let mut c = s.connect();
    c.set_timeout(Duration::from_secs(120))
        .expect("set timeout");
    let r = c.cmd(&["FLUSHALL"]);
    assert!(
        matches!(r, Frame::Simple(_)),
        "{}: FLUSHALL answered {r:?}",
        s.kind()
    );
}

fn dbsize(s: &ServerProcess) -> i64 {
    match s.connect().cmd(&["DBSIZE"]) {
        Frame::Integer(n) => n,
        other => panic!("{}: DBSIZE answered {other:?}", s.kind()),
    }
}

/// Restarts `s` if it died (recording its last output), so one crash does
/// not fail every later case. Returns a note when it did.
fn revive(s: &mut ServerProcess, bins: &Bins) -> Option<String> {
    if s.is_running() {
        return None;
    }
    let out = s.output();
    let tail: Vec<&str> = out.lines().rev().take(5).collect();
    let note = format!(
        "{} exited; last output: {}",
        s.kind(),
        tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
    );
    eprintln!("server bench: {note}; restarting it");
    *s = bins.start(s.kind());
    Some(note)
}

fn load_matrix(o: &Opts, bins: &Bins, rep: &mut ServerReport) {
    println!("\n== server/load: our load generator, Redis and soquete alternating ==");
    let mut servers = [
        bins.start(ServerKind::Redis),
        bins.start(ServerKind::Soquete),
    ];
    rep.soquete_threads = soquete_threads(&servers[1]);
    for value in VALUE_SIZES {
        for cmd in Command::ALL {
            if !cmd.uses_value() && value != VALUE_SIZES[0] {
                continue;
            }
            let shown_value = if cmd.uses_value() { value } else { 0 };
            if let Some(why) = unsupported(&servers, cmd.requires()) {
                println!("{:<11} skipped: {why}", cmd.name());
                rep.skipped.push(format!("load {}: {why}", cmd.name()));
                continue;
            }
            let w = cmd.workload(value, *DEPTHS.iter().max().expect("depths"));
            for s in &servers {
                flushall(s);
                if cmd.needs_preload() {
                    preload(s, value);
                }
            }
            for conns in CONNECTIONS {
                for depth in DEPTHS {
                    let mut cell = LoadCell {
                        command: cmd.name().into(),
                        value_size: shown_value,
                        connections: conns,
                        depth,
                        redis: Vec::new(),
                        soquete: Vec::new(),
                        error: None,
                    };
                    'rounds: for _ in 0..o.rounds {
                        for s in servers.iter_mut() {
                            let cfg = LoadConfig {
                                addr: s.addr(),
                                server_pid: s.pid(),
                                connections: conns,
                                depth,
                                warmup: o.warmup,
                                measure: o.measure,
                                drain_timeout: Duration::from_secs(60),
                            };
                            let r = match load::run(&w, &cfg) {
                                Ok(r) if r.errors > 0 => Err(format!(
                                    "{} error replies, first: {}",
                                    r.errors,
                                    r.first_error.unwrap_or_default()
                                )),
                                Ok(r) => Ok(r),
                                Err(e) => Err(e.to_string()),
                            };
                            match r {
                                Ok(r) => {
                                    let sample = Sample {
                                        rps: r.rps(),
                                        p50_us: r.latency_us(0.5),
                                        p99_us: r.latency_us(0.99),
                                        cpu_ns: r.server_cpu_per_request_ns(),
                                        client_busy: r.client_busy(),
                                    };
                                    match s.kind() {
                                        ServerKind::Redis => cell.redis.push(sample),
                                        ServerKind::Soquete => cell.soquete.push(sample),
                                    }
                                }
                                Err(e) => {
                                    let died = revive(s, bins)
                                        .map(|n| format!(" ({n})"))
                                        .unwrap_or_default();
                                    cell.error = Some(format!("{}: {e}{died}", s.kind()));
                                    break 'rounds;
                                }
                            }
                        }
                    }
                    print_cell(&cell);
                    rep.cells.push(cell);
                }
            }
        }
    }
}

fn print_cell(c: &LoadCell) {
    let head = format!(
        "{:<11} {:>5} c={:<2} P={:<2}",
        c.command,
        if c.value_size == 0 {
            "-".to_owned()
        } else {
            format!("{}", c.value_size)
        },
        c.connections,
        c.depth
    );
    if let Some(e) = &c.error {
        println!("{head}  FAILED: {e}");
        return;
    }
    let m = |v: &[Sample], f: fn(&Sample) -> f64| median(v.iter().map(f));
    let (rr, rs) = (m(&c.redis, |s| s.rps), m(&c.soquete, |s| s.rps));
    let (cr, cs) = (m(&c.redis, |s| s.cpu_ns), m(&c.soquete, |s| s.cpu_ns));
    println!(
        "{head}  rps redis {:>9.0} soquete {:>9.0} = {:.2}x | cpu/req {:>6.0} vs {:>6.0} ns = {:.2}x | p99 {:>7.0} vs {:>7.0} us | gen busy {:.0}%/{:.0}%",
        rr,
        rs,
        rs / rr,
        cr,
        cs,
        cs / cr,
        m(&c.redis, |s| s.p99_us),
        m(&c.soquete, |s| s.p99_us),
        100.0 * m(&c.redis, |s| s.client_busy),
        100.0 * m(&c.soquete, |s| s.client_busy),
    );
}

/// SETs every key of the keyspace, so GET hits.
fn preload(s: &ServerProcess, value_size: usize) {
    let value = value_bytes(value_size);
    let mut key = [0u8; 24];
    load::fill(s.addr(), KEYSPACE as usize, |i, out| {
        command(
            out,
            &[b"SET", string_key(&mut key, b"key:", i as u64), &value],
        )
    })
    .unwrap_or_else(|e| panic!("{}: preload failed: {e}", s.kind()));
}

fn redis_benchmark(o: &Opts, bins: &Bins, rb: &Path, rep: &mut ServerReport) {
    println!(
        "\n== server/redis-benchmark: one invocation per test, Redis and soquete alternating =="
    );
    let mut servers = [
        bins.start(ServerKind::Redis),
        bins.start(ServerKind::Soquete),
    ];
    if rep.soquete_threads.is_empty() {
        rep.soquete_threads = soquete_threads(&servers[1]);
    }
    let goal_n = o.goal_n.to_string();
    let suite_n = o.suite_n.to_string();
    for p in [1usize, 16] {
        for test in GOAL_TESTS {
            let args: Vec<String> = ["-t", test, "-n", &goal_n, "-r", "100000", "-c", "50", "-P"]
                .iter()
                .map(|s| s.to_string())
                .chain([p.to_string()])
                .collect();
            rb_case(o, bins, rb, &mut servers, "goals", test, p, &args, rep);
        }
    }
    for p in [1usize, 16] {
        for test in SUITE {
            let args: Vec<String> = ["-t", test, "-n", &suite_n, "-c", "50", "-P"]
                .iter()
                .map(|s| s.to_string())
                .chain([p.to_string()])
                .collect();
            rb_case(o, bins, rb, &mut servers, "suite", test, p, &args, rep);
        }
    }
}

/// The server commands a `redis-benchmark -t` test sends.
fn rb_requires(test: &str) -> Vec<&str> {
    match test {
        "ping_inline" | "ping_mbulk" => vec!["ping"],
        t if t.starts_with("lrange") => vec!["lpush", "lrange"],
        t => vec![t],
    }
}

#[allow(clippy::too_many_arguments)]
fn rb_case(
    o: &Opts,
    bins: &Bins,
    rb: &Path,
    servers: &mut [ServerProcess; 2],
    group: &str,
    test: &str,
    p: usize,
    args: &[String],
    rep: &mut ServerReport,
) {
    if let Some(why) = unsupported(servers, &rb_requires(test)) {
        println!("{group} {test} -P {p}: skipped: {why}");
        let note = format!("redis-benchmark {group} {test} -P {p}: {why}");
        if !rep.skipped.contains(&note) {
            rep.skipped.push(note);
        }
        return;
    }
    let mut case = RbCase {
        group: group.into(),
        test: test.to_uppercase(),
        pipeline: p,
        args: args.join(" "),
        redis: Vec::new(),
        soquete: Vec::new(),
        error: None,
    };
    'rounds: for _ in 0..o.rounds {
        for s in servers.iter_mut() {
            match run_redis_benchmark(rb, s, args) {
                Ok((name, sample)) => {
                    case.test = name;
                    match s.kind() {
                        ServerKind::Redis => case.redis.push(sample),
                        ServerKind::Soquete => case.soquete.push(sample),
                    }
                }
                Err(e) => {
                    let died = revive(s, bins)
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default();
                    case.error = Some(format!("{}: {e}{died}", s.kind()));
                    break 'rounds;
                }
            }
        }
    }
    match &case.error {
        Some(e) => println!("{group} {test} -P {p}: FAILED: {e}"),
        None => {
            let m = |v: &[RbSample], f: fn(&RbSample) -> f64| median(v.iter().map(f));
            let (rr, rs) = (m(&case.redis, |s| s.rps), m(&case.soquete, |s| s.rps));
            let (cr, cs) = (m(&case.redis, |s| s.cpu_ns), m(&case.soquete, |s| s.cpu_ns));
            println!(
                "{group:<6} -P {p:<2} {:<34} rps redis {:>9.0} soquete {:>9.0} = {:.2}x | cpu/req {:>6.0} vs {:>6.0} ns = {:.2}x",
                case.test,
                rr,
                rs,
                rs / rr,
                cr,
                cs,
                cs / cr
            );
        }
    }
    rep.redis_benchmark.push(case);
}

/// Runs one `redis-benchmark --csv` invocation; returns the test's name and
/// numbers (the last CSV line: LRANGE tests print their LPUSH fill first).
fn run_redis_benchmark(
    rb: &Path,
    s: &ServerProcess,
    args: &[String],
) -> Result<(String, RbSample), String> {
    let cpu0 = load::process_cpu(s.pid()).map_err(|e| e.to_string())?;
    let (client0, t0) = (children_cpu(), Instant::now());
    let mut child = Process::new(rb)
        .args(["-h", "127.0.0.1", "-p", &s.port().to_string()])
        .args(args)
        .arg("--csv")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", rb.display()))?;
    // CSV output is small and comes at the end, so waiting before reading
    // cannot fill the pipes; a hung server is cut off after 10 minutes.
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(st) => break st,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("redis-benchmark ran over 10 minutes; killed".into());
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let cpu1 = load::process_cpu(s.pid()).map_err(|e| e.to_string())?;
    let client_busy = (children_cpu() - client0).as_secs_f64() / t0.elapsed().as_secs_f64();
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut stdout);
    }
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    if !status.success() {
        return Err(format!(
            "redis-benchmark failed ({status}): {}",
            stderr.trim().lines().last().unwrap_or("")
        ));
    }
    let rows = parse_csv(&stdout);
    let Some(last) = rows.last() else {
        return Err(format!("no CSV results in {stdout:?} / {stderr:?}"));
    };
    let n: f64 = args
        .iter()
        .position(|a| a == "-n")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000.0);
    let requests = n * rows.len() as f64;
    Ok((
        last.0.clone(),
        RbSample {
            rps: last.1,
            p50_ms: last.2,
            p99_ms: last.3,
            cpu_ns: (cpu1 - cpu0).as_nanos() as f64 / requests,
            client_busy,
        },
    ))
}

/// User + system time of this process's children that have exited and been
/// waited for (the servers keep running, so over one `redis-benchmark`
/// invocation this grows by that invocation's CPU time alone).
fn children_cpu() -> Duration {
    // SAFETY: an all-zero `rusage` is a valid value of the plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable `rusage`; RUSAGE_CHILDREN is a valid
    // `who` for getrusage, which only writes into `ru`.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// `(test, rps, p50 ms, p99 ms)` per CSV line of `redis-benchmark --csv`.
fn parse_csv(out: &str) -> Vec<(String, f64, f64, f64)> {
    out.lines()
        .filter(|l| l.starts_with('"') && !l.starts_with("\"test\""))
        .filter_map(|l| {
            let f: Vec<&str> = l.split("\",\"").map(|x| x.trim_matches('"')).collect();
            // test, rps, avg, min, p50, p95, p99, max
            let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
            Some((f.first()?.to_string(), num(1)?, num(4)?, num(6)?))
        })
        .collect()
}

/// Appends request `i` of a dataset.
type Encoder = Box<dyn Fn(usize, &mut Vec<u8>)>;

struct Dataset {
    name: &'static str,
    description: String,
    requires: &'static [&'static str],
    /// Commands to send; each creates one key.
    count: usize,
    encode: Encoder,
}

fn datasets(div: usize) -> Vec<Dataset> {
    let keys = 1_000_000 / div;
    let containers = 10_000 / div;
    let n = thousands;
    let member = |j: usize| format!("member:{j:025}"); // 32 bytes
    vec![
        Dataset {
            name: "strings",
            description: format!("{} strings (16 B keys, 32 B values)", n(keys)),
            requires: &["set"],
            count: keys,
            encode: Box::new(|i, out| {
                let mut key = [0u8; 24];
                let v = format!("value:{i:026}"); // 32 bytes
                command(
                    out,
                    &[
                        b"SET",
                        string_key(&mut key, b"key:", i as u64),
                        v.as_bytes(),
                    ],
                );
            }),
        },
        Dataset {
            name: "hashes",
            description: format!("{} hashes x 100 fields (32 B values)", n(containers)),
            requires: &["hset"],
            count: containers,
            encode: Box::new(|i, out| {
                let key = format!("hash:{i:011}");
                let fields: Vec<(String, String)> = (0..100)
                    .map(|j| (format!("field:{j:03}"), format!("value:{j:026}")))
                    .collect();
                let mut args: Vec<&[u8]> = vec![b"HSET", key.as_bytes()];
                for (f, v) in &fields {
                    args.push(f.as_bytes());
                    args.push(v.as_bytes());
                }
                command(out, &args);
            }),
        },
        Dataset {
            name: "sets",
            description: format!("{} sets x 100 members (32 B)", n(containers)),
            requires: &["sadd"],
            count: containers,
            encode: Box::new(move |i, out| {
                let key = format!("set:{i:012}");
                let members: Vec<String> = (0..100).map(member).collect();
                let mut args: Vec<&[u8]> = vec![b"SADD", key.as_bytes()];
                args.extend(members.iter().map(|m| m.as_bytes()));
                command(out, &args);
            }),
        },
        Dataset {
            name: "zsets",
            description: format!("{} sorted sets x 100 members (32 B)", n(containers)),
            requires: &["zadd"],
            count: containers,
            encode: Box::new(move |i, out| {
                let key = format!("zset:{i:011}");
                let pairs: Vec<(String, String)> =
                    (0..100).map(|j| (j.to_string(), member(j))).collect();
                let mut args: Vec<&[u8]> = vec![b"ZADD", key.as_bytes()];
                for (score, m) in &pairs {
                    args.push(score.as_bytes());
                    args.push(m.as_bytes());
                }
                command(out, &args);
            }),
        },
        Dataset {
            name: "lists",
            description: format!("{} lists x 100 items (32 B)", n(containers)),
            requires: &["rpush"],
            count: containers,
            encode: Box::new(move |i, out| {
                let key = format!("list:{i:011}");
                let items: Vec<String> = (0..100).map(member).collect();
                let mut args: Vec<&[u8]> = vec![b"RPUSH", key.as_bytes()];
                args.extend(items.iter().map(|m| m.as_bytes()));
                command(out, &args);
            }),
        },
    ]
}

/// `1000000` -> `1,000,000`.
fn thousands(x: usize) -> String {
    if x >= 1000 {
        format!("{},{:03}", thousands(x / 1000), x % 1000)
    } else {
        x.to_string()
    }
}

fn memory(o: &Opts, bins: &Bins, rep: &mut ServerReport) {
    println!("\n== server/memory: RSS growth after loading into fresh servers ==");
    for d in datasets(o.mem_div) {
        let mut rss = [(0u64, 0u64); 2];
        let mut skipped = None;
        for (slot, kind) in [ServerKind::Redis, ServerKind::Soquete]
            .into_iter()
            .enumerate()
        {
            let s = bins.start(kind);
            let miss = missing(&s, d.requires);
            if !miss.is_empty() {
                skipped = Some(format!("{kind} lacks {}", miss.join(", ").to_uppercase()));
                break;
            }
            let empty = settled_rss(&s);
            load::fill(s.addr(), d.count, &d.encode)
                .unwrap_or_else(|e| panic!("{kind}: loading {} failed: {e}", d.name));
            let keys = dbsize(&s);
            assert_eq!(
                keys, d.count as i64,
                "{kind}: DBSIZE after loading {}",
                d.name
            );
            rss[slot] = (empty, settled_rss(&s));
        }
        if let Some(why) = skipped {
            println!("{:<8} skipped: {why}", d.name);
            rep.skipped.push(format!("memory {}: {why}", d.name));
            continue;
        }
        let case = MemoryCase {
            dataset: d.name.into(),
            description: d.description,
            redis_empty: rss[0].0,
            redis_loaded: rss[0].1,
            soquete_empty: rss[1].0,
            soquete_loaded: rss[1].1,
        };
        let mib = |b: u64| b as f64 / 1048576.0;
        println!(
            "{:<8} {:<42} redis +{:>7.1} MiB  soquete +{:>7.1} MiB  = {:.2}x",
            case.dataset,
            case.description,
            mib(case.redis_delta()),
            mib(case.soquete_delta()),
            case.soquete_delta() as f64 / case.redis_delta() as f64
        );
        rep.memory.push(case);
    }
}

/// RSS once it stops moving (allocators return or settle pages shortly
/// after a burst): the lowest of a few reads 50 ms apart.
fn settled_rss(s: &ServerProcess) -> u64 {
    let mut best = u64::MAX;
    for _ in 0..6 {
        std::thread::sleep(Duration::from_millis(50));
        best = best.min(s.rss_bytes().expect("read RSS"));
    }
    best
}
