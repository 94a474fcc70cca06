//! RDB snapshots: soquete-server against real `redis-server`, same data,
//! same machine, same run.
//!
//! ```sh
//! SOQUETE_BENCH_RDB_COMPRESSION=no \
//!     cargo bench -p soquete-benches --bench persistence             # 1M keys, 3 rounds (~75 s)
//! cargo bench -p soquete-benches --bench persistence                 # rdbcompression yes (see README)
//! SOQUETE_BENCH_KEYS=10000000 SOQUETE_BENCH_ROUNDS=1 SOQUETE_BENCH_RDB_COMPRESSION=no \
//!     cargo bench -p soquete-benches --bench persistence             # 10M keys
//! SOQUETE_BENCH_QUICK=1 cargo bench -p soquete-benches --bench persistence   # smoke run
//! ```
//!
//! # Dataset
//!
//! `SOQUETE_BENCH_KEYS` (default 1,000,000) strings `SET key:<12 digits>
//! <50 bytes>` (a 12-digit counter, then 37 random base-64 characters: LZF
//! finds nothing to compress, as in most real values), plus 1,000 hashes,
//! lists and sorted sets of 20 members (listpacks) and 10 of each with
//! 1,000 members (hash tables, quicklists, skip lists), loaded into both
//! servers by the same pipelined loader.
//!
//! # What one round measures, per server
//!
//! * `SAVE`: the reply's round trip; the file's size.
//! * `BGSAVE` with no traffic: from the command to the forked child's exit
//!   (read from `/proc`), and to `INFO persistence` saying
//!   `rdb_bgsave_in_progress:0`; `latest_fork_usec` and `rdb_last_cow_size`.
//!   Redis notices its child's end in `serverCron` (10 times a second at
//!   the default `hz`), soquete on a thread waiting for it: the first
//!   figure compares the saves, the second what a client sees.
//! * GET/SET latency, 50 connections, one request in flight each (as
//!   `redis-benchmark -c 50`), half `SET key:<random> <50 bytes>`, half
//!   `GET key:<random>` over the whole keyspace: first for as long as the
//!   idle BGSAVE took, with no save; then while a BGSAVE runs, from just
//!   before the command to the end of the save. The SETs are the
//!   concurrent writer whose page copies `rdb_last_cow_size` counts.
//! * Loading at start-up: a fresh server started on the file `SAVE` wrote
//!   (its own, then the other server's), timed from the spawn to `INFO
//!   persistence` saying `loading:0`; then `DBSIZE` and `DEBUG DIGEST` are
//!   checked against the server that wrote the file.
//!
//! `SOQUETE_BENCH_RDB_COMPRESSION=no` turns LZF off in both servers
//! (default `yes`, as both ship).
//!
//! Rounds (`SOQUETE_BENCH_ROUNDS`, default 3) alternate the order, Redis
//! first then soquete first; the table quotes medians and the ratio of
//! the medians, soquete / Redis.
//!
//! The machine is shared by everything here: on 2 cores, the forked child,
//! the server's threads and this load generator compete for CPU, so the
//! latency during a save measures that contention as well as the fork and
//! the page copies; it does so equally for both servers.
//!
//! Outside `cargo bench` (i.e. `cargo test --all-targets`) this does nothing.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use soquete_benches::load::{self, LoadConfig, LoadResult, Window};
use soquete_benches::results::median;
use soquete_benches::workload::{command, string_key, Rng};
use soquete_resp::Frame;
use soquete_testkit::server::{find_redis_server, find_soquete_server};
use soquete_testkit::{ServerKind, ServerProcess};

/// Members of each small aggregate (listpack-encoded in both servers).
const SMALL_MEMBERS: usize = 20;
/// Small hashes, lists and sorted sets, each.
const SMALL_AGGREGATES: usize = 1_000;
/// Members of each big aggregate (past every listpack limit).
const BIG_MEMBERS: usize = 1_000;
/// Big hashes, lists and sorted sets, each.
const BIG_AGGREGATES: usize = 10;
/// The length of every string value.
const VALUE_LEN: usize = 50;
/// Connections of the GET/SET traffic.
const CONNECTIONS: usize = 50;
/// Requests in the traffic's ring (replayed from the start on every run).
const RING: usize = 200_000;
/// How often the bench looks at `/proc` and `INFO` while waiting.
const POLL: Duration = Duration::from_millis(2);
/// The longest any one save or load may take before the bench fails.
const LONGEST: Duration = Duration::from_secs(600);
const BOTH: [ServerKind; 2] = [ServerKind::Redis, ServerKind::Soquete];
/// Arguments both servers get (DEBUG DIGEST checks the loaded data).
const ARGS: [&str; 2] = ["--enable-debug-command", "yes"];

struct Opts {
    keys: usize,
    rounds: usize,
    quick: bool,
    /// `rdbcompression` for both servers (`SOQUETE_BENCH_RDB_COMPRESSION`,
    /// default `yes`, both servers' default).
    compression: String,
}

impl Opts {
    fn from_env() -> Opts {
        let quick = soquete_benches::quick();
        let num = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.replace('_', "").parse::<usize>().ok())
        };
        Opts {
            keys: num("SOQUETE_BENCH_KEYS")
                .unwrap_or(if quick { 100_000 } else { 1_000_000 })
                .max(1),
            rounds: num("SOQUETE_BENCH_ROUNDS")
                .unwrap_or(if quick { 1 } else { 3 })
                .max(1),
            quick,
            compression: std::env::var("SOQUETE_BENCH_RDB_COMPRESSION")
                .ok()
                .filter(|v| v == "no")
                .map_or("yes".into(), |v| v),
        }
    }

    /// Every key of the dataset.
    fn total_keys(&self) -> i64 {
        (self.keys + 3 * (SMALL_AGGREGATES + BIG_AGGREGATES)) as i64
    }

    /// The command line that reproduces this run.
    fn command_line(&self) -> String {
        let mut env = format!(
            "SOQUETE_BENCH_KEYS={} SOQUETE_BENCH_ROUNDS={} SOQUETE_BENCH_RDB_COMPRESSION={} ",
            self.keys, self.rounds, self.compression
        );
        if self.quick {
            env.push_str("SOQUETE_BENCH_QUICK=1 ");
        }
        format!("{env}cargo bench -p soquete-benches --bench persistence")
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("persistence bench: runs only under `cargo bench` (it starts servers and takes minutes)");
        return;
    }
    let o = Opts::from_env();
    let bins = Bins {
        compression: o.compression.clone(),
        redis: find_redis_server().unwrap_or_else(|e| fail(&e.to_string())),
        soquete: find_soquete_server().unwrap_or_else(|e| fail(&e.to_string())),
    };
    let data = Scratch::new();
    let started = Instant::now();
    println!("persistence bench: {}", o.command_line());
    println!(
        "redis: {}; soquete: {}; load average {}; files in {}",
        bins.redis.display(),
        bins.soquete.display(),
        soquete_benches::results::loadavg(),
        data.0.display()
    );
    println!(
        "dataset: {} strings of {VALUE_LEN} B + {} hashes/lists/zsets of {SMALL_MEMBERS} and {} of {BIG_MEMBERS} members each ({} keys)",
        o.keys,
        SMALL_AGGREGATES,
        BIG_AGGREGATES,
        o.total_keys()
    );

    let mut live: Vec<Live> = BOTH
        .iter()
        .map(|&kind| {
            let server = bins.start(kind, &[]);
            let t = Instant::now();
            fill(&server, o.keys);
            let fill_secs = t.elapsed().as_secs_f64();
            let keys = dbsize(&server);
            assert_eq!(keys, o.total_keys(), "{kind}: DBSIZE after the fill");
            let rss = server.settled_rss_bytes().unwrap_or(0);
            println!(
                "{kind:<7} filled in {fill_secs:.1} s; RSS {:.0} MB",
                rss as f64 / 1e6
            );
            Live {
                server,
                rss,
                rounds: Vec::new(),
            }
        })
        .collect();
    let ring = traffic(o.keys);

    for round in 0..o.rounds {
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        println!("\n-- round {} of {} --", round + 1, o.rounds);
        let mut this: [Option<Round>; 2] = [None, None];
        for i in order {
            let r = saves(&live[i].server, &ring, &data);
            r.print(live[i].server.kind());
            this[i] = Some(r);
        }
        // Loads: each server on its own file, then on the other's.
        for i in order {
            for from in [i, 1 - i] {
                let wrote = this[from].as_ref().expect("both servers saved");
                let t = load_at_startup(
                    &bins,
                    BOTH[i],
                    &data.file(BOTH[from]),
                    wrote,
                    o.total_keys(),
                );
                println!(
                    "{:<7} loaded {:<7}'s file in {:.3} s (its log: {})",
                    BOTH[i].name(),
                    BOTH[from].name(),
                    t.wall,
                    t.logged.map_or("-".into(), |s| format!("{s:.3} s"))
                );
                let r = this[i].as_mut().expect("saved");
                if from == i {
                    r.load_own = t.wall;
                } else {
                    r.load_other = t.wall;
                }
            }
        }
        for (i, r) in this.into_iter().enumerate() {
            live[i].rounds.push(r.expect("both servers ran"));
        }
    }

    print_table(&o, &live);
    println!(
        "\npersistence bench: {:.0} s; load average after {}",
        started.elapsed().as_secs_f64(),
        soquete_benches::results::loadavg()
    );
    println!("command: {}", o.command_line());
}

fn fail(msg: &str) -> ! {
    eprintln!("persistence bench: {msg}");
    std::process::exit(1);
}

struct Bins {
    redis: PathBuf,
    soquete: PathBuf,
    compression: String,
}

impl Bins {
    fn start(&self, kind: ServerKind, extra: &[&str]) -> ServerProcess {
        let bin = match kind {
            ServerKind::Redis => &self.redis,
            ServerKind::Soquete => &self.soquete,
        };
        ServerProcess::builder(kind)
            .binary(bin)
            .args(ARGS)
            .args(["--rdbcompression", self.compression.as_str()])
            .args(extra)
            .ready_timeout(Duration::from_secs(30))
            .start()
    }
}

/// A directory of the files the servers wrote, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("soquete-persistence-bench-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("create the scratch directory");
        Scratch(dir)
    }

    /// Where the last file `kind` saved is kept.
    fn file(&self, kind: ServerKind) -> PathBuf {
        self.0.join(format!("{}.rdb", kind.name()))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A server holding the dataset, and what it measured.
struct Live {
    server: ServerProcess,
    /// RSS after the fill.
    rss: u64,
    rounds: Vec<Round>,
}

/// The string value of key `i` (or of a write, with another seed).
fn value(i: u64, seed: u64, out: &mut [u8; VALUE_LEN]) {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let digits = format!("{i:012}:");
    out[..13].copy_from_slice(digits.as_bytes());
    let mut rng = Rng::new(i ^ seed);
    let mut bits = 0u64;
    for (j, b) in out[13..].iter_mut().enumerate() {
        if j % 10 == 0 {
            bits = rng.next_u64();
        }
        *b = B64[(bits & 63) as usize];
        bits >>= 6;
    }
}

/// Loads the dataset into `s`.
fn fill(s: &ServerProcess, keys: usize) {
    let mut key = [0u8; 24];
    let mut v = [0u8; VALUE_LEN];
    load::fill(s.addr(), keys, |i, out| {
        value(i as u64, 0, &mut v);
        command(out, &[b"SET", string_key(&mut key, b"key:", i as u64), &v]);
    })
    .unwrap_or_else(|e| panic!("{}: loading strings: {e}", s.kind()));
    let aggregates = SMALL_AGGREGATES + BIG_AGGREGATES;
    for (what, cmd) in [("hash", "HSET"), ("list", "RPUSH"), ("zset", "ZADD")] {
        load::fill(s.addr(), aggregates, |i, out| {
            let members = if i < SMALL_AGGREGATES {
                SMALL_MEMBERS
            } else {
                BIG_MEMBERS
            };
            let name = format!("{what}:{i}");
            let mut args: Vec<Vec<u8>> = vec![cmd.into(), name.into_bytes()];
            for m in 0..members {
                let member = format!("member:{m}:{i}").into_bytes();
                match cmd {
                    "HSET" => {
                        args.push(member);
                        args.push(format!("{}", m * 7 + i).into_bytes());
                    }
                    "RPUSH" => args.push(member),
                    _ => {
                        args.push(format!("{}.5", m * 3 + i).into_bytes());
                        args.push(member);
                    }
                }
            }
            let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            command(out, &refs);
        })
        .unwrap_or_else(|e| panic!("{}: loading {what}es: {e}", s.kind()));
    }
}

/// The GET/SET traffic: SET then GET of random keys of the dataset.
fn traffic(keys: usize) -> load::Workload {
    let mut rng = Rng::new(0x5a7e);
    let mut key = [0u8; 24];
    let mut v = [0u8; VALUE_LEN];
    load::Workload::build(RING, |i, out| {
        let k = rng.below(keys as u64);
        let name = string_key(&mut key, b"key:", k);
        if i % 2 == 0 {
            value(k, 0x77, &mut v);
            command(out, &[b"SET", name, &v]);
        } else {
            command(out, &[b"GET", name]);
        }
    })
}

fn dbsize(s: &ServerProcess) -> i64 {
    match s.connect().cmd(&["DBSIZE"]) {
        Frame::Integer(n) => n,
        other => panic!("{}: DBSIZE answered {other:?}", s.kind()),
    }
}

fn digest(s: &ServerProcess) -> String {
    let mut c = s.connect();
    c.set_timeout(LONGEST).expect("timeout");
    match c.cmd(&["DEBUG", "DIGEST"]) {
        Frame::Simple(d) | Frame::Bulk(d) => String::from_utf8_lossy(&d).into_owned(),
        other => panic!("{}: DEBUG DIGEST answered {other:?}", s.kind()),
    }
}

/// `field` of `INFO section`.
fn info_field(c: &mut soquete_testkit::Conn, section: &str, field: &str) -> String {
    let text = match c.cmd(&["INFO", section]) {
        Frame::Bulk(b) | Frame::Verbatim { text: b, .. } => {
            String::from_utf8_lossy(&b).into_owned()
        }
        other => panic!("INFO {section} answered {other:?}"),
    };
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("INFO {section} has no {field}"))
        .trim()
        .to_owned()
}

fn info_num(c: &mut soquete_testkit::Conn, section: &str, field: &str) -> f64 {
    let v = info_field(c, section, field);
    v.parse()
        .unwrap_or_else(|_| panic!("INFO {field} is not a number: {v}"))
}

/// The children of process `pid` (all its threads').
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|s| {
            s.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// Whether `pid` has exited (gone, or a zombie its parent has not reaped).
fn exited(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised name, which may hold spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_none_or(|state| state == "Z" || state == "X"),
        Err(_) => true,
    }
}

/// Polls until `done` or [`LONGEST`]; panics naming `what` then.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + LONGEST;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} took more than {LONGEST:?}"
        );
        thread::sleep(POLL);
    }
}

/// What one BGSAVE measured.
#[derive(Clone, Copy, Debug, Default)]
struct Bgsave {
    /// From BGSAVE to the child's exit, seconds.
    child: f64,
    /// From BGSAVE to `rdb_bgsave_in_progress:0`, seconds.
    done: f64,
    /// `latest_fork_usec`.
    fork_us: f64,
    /// `rdb_last_cow_size`, bytes.
    cow: f64,
}

/// Runs one BGSAVE on `s` and waits for it to end.
fn bgsave(s: &ServerProcess) -> Bgsave {
    let mut c = s.connect();
    c.set_timeout(LONGEST).expect("timeout");
    let before = children(s.pid());
    let t0 = Instant::now();
    match c.cmd(&["BGSAVE"]) {
        Frame::Simple(m) if m.starts_with(b"Background saving started") => {}
        other => panic!("{}: BGSAVE answered {other:?}", s.kind()),
    }
    let child = children(s.pid()).into_iter().find(|p| !before.contains(p));
    if let Some(pid) = child {
        wait_until("the BGSAVE child", || exited(pid));
    }
    let child_secs = t0.elapsed().as_secs_f64();
    wait_until("rdb_bgsave_in_progress:0", || {
        info_field(&mut c, "persistence", "rdb_bgsave_in_progress") == "0"
    });
    let done = t0.elapsed().as_secs_f64();
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_last_bgsave_status"),
        "ok",
        "{}: the BGSAVE failed",
        s.kind()
    );
    Bgsave {
        // No child seen (it ended before we looked): the end is all we know.
        child: if child.is_some() { child_secs } else { done },
        done,
        fork_us: info_num(&mut c, "stats", "latest_fork_usec"),
        cow: info_num(&mut c, "persistence", "rdb_last_cow_size"),
    }
}

/// Latency figures of one traffic run.
#[derive(Clone, Copy, Debug, Default)]
struct Traffic {
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    max_us: f64,
}

impl From<&LoadResult> for Traffic {
    fn from(r: &LoadResult) -> Traffic {
        Traffic {
            rps: r.rps(),
            p50_us: r.latency_us(0.5),
            p99_us: r.latency_us(0.99),
            max_us: r.latency_us(1.0),
        }
    }
}

fn traffic_config(s: &ServerProcess, measure: Duration) -> LoadConfig {
    LoadConfig {
        addr: s.addr(),
        server_pid: s.pid(),
        connections: CONNECTIONS,
        depth: 1,
        warmup: Duration::from_millis(300),
        measure,
        drain_timeout: Duration::from_secs(60),
    }
}

fn checked(kind: ServerKind, r: io::Result<LoadResult>) -> LoadResult {
    match r {
        Ok(r) if r.errors == 0 => r,
        Ok(r) => panic!(
            "{kind}: {} error replies, first: {}",
            r.errors,
            r.first_error.unwrap_or_default()
        ),
        Err(e) => panic!("{kind}: traffic failed: {e}"),
    }
}

/// One round on one server.
#[derive(Clone, Debug, Default)]
struct Round {
    save: f64,
    file_bytes: u64,
    /// DEBUG DIGEST when SAVE wrote the file.
    digest: String,
    idle: Bgsave,
    busy: Bgsave,
    quiet: Traffic,
    during: Traffic,
    /// SETs answered during the busy BGSAVE's window.
    writes: f64,
    load_own: f64,
    load_other: f64,
}

impl Round {
    fn print(&self, kind: ServerKind) {
        println!(
            "{:<7} SAVE {:.3} s, {:.1} MB | BGSAVE child {:.3} s, done {:.3} s, fork {:.1} ms, COW {:.1} MB | \
             under traffic: BGSAVE {:.3} s, fork {:.1} ms, COW {:.1} MB, {:.0} SETs | \
             p50/p99/max us: quiet {:.0}/{:.0}/{:.0} ({:.0} rps), saving {:.0}/{:.0}/{:.0} ({:.0} rps)",
            kind.name(),
            self.save,
            self.file_bytes as f64 / 1e6,
            self.idle.child,
            self.idle.done,
            self.idle.fork_us / 1e3,
            self.idle.cow / 1e6,
            self.busy.child,
            self.busy.fork_us / 1e3,
            self.busy.cow / 1e6,
            self.writes,
            self.quiet.p50_us,
            self.quiet.p99_us,
            self.quiet.max_us,
            self.quiet.rps,
            self.during.p50_us,
            self.during.p99_us,
            self.during.max_us,
            self.during.rps,
        );
    }
}

/// SAVE, an idle BGSAVE, traffic without a save, and a BGSAVE under the
/// same traffic, on `s`; the file SAVE wrote is copied into `data`.
fn saves(s: &ServerProcess, ring: &load::Workload, data: &Scratch) -> Round {
    let kind = s.kind();
    let mut c = s.connect();
    c.set_timeout(LONGEST).expect("timeout");
    let mut r = Round::default();

    let t = Instant::now();
    match c.cmd(&["SAVE"]) {
        Frame::Simple(ok) if ok.as_ref() == b"OK" => {}
        other => panic!("{kind}: SAVE answered {other:?}"),
    }
    r.save = t.elapsed().as_secs_f64();
    let file = s.dir().join("dump.rdb");
    r.file_bytes = fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    fs::copy(&file, data.file(kind)).expect("copy the saved file");
    r.digest = digest(s);

    r.idle = bgsave(s);

    // The same traffic, first with no save, for as long as a save takes.
    let quiet_for = Duration::from_secs_f64(r.idle.child.clamp(0.5, 10.0));
    let quiet = checked(kind, load::run(ring, &traffic_config(s, quiet_for)));
    r.quiet = Traffic::from(&quiet);

    // Then around a BGSAVE: the window opens, BGSAVE, the save ends, the
    // window closes.
    let window = Window::new();
    let cfg = traffic_config(s, LONGEST);
    let during = thread::scope(|scope| {
        let gen = scope.spawn(|| load::run_window(ring, &cfg, &window));
        wait_until("the traffic's warm-up", || {
            window.measuring() || gen.is_finished()
        });
        r.busy = bgsave(s);
        window.stop();
        gen.join().expect("the traffic thread")
    });
    let during = checked(kind, during);
    r.during = Traffic::from(&during);
    r.writes = during.requests as f64 / 2.0;
    r
}

/// How long a load at start-up took.
struct Loaded {
    /// From the spawn to `loading:0`, seconds.
    wall: f64,
    /// What the server logged (`DB loaded from disk: X seconds`).
    logged: Option<f64>,
}

/// Starts a `kind` server on `file` and times its load; checks it holds
/// what the server that wrote the file held.
fn load_at_startup(
    bins: &Bins,
    kind: ServerKind,
    file: &Path,
    wrote: &Round,
    total_keys: i64,
) -> Loaded {
    let dir = file.parent().expect("a file in a directory");
    let name = file.file_name().expect("a file name");
    let t = Instant::now();
    let s = bins.start(
        kind,
        &[
            "--dir",
            dir.to_str().expect("a UTF-8 path"),
            "--dbfilename",
            name.to_str().expect("a UTF-8 name"),
        ],
    );
    let mut c = s.connect();
    c.set_timeout(LONGEST).expect("timeout");
    wait_until("loading:0", || {
        info_field(&mut c, "persistence", "loading") == "0"
    });
    let wall = t.elapsed().as_secs_f64();
    assert_eq!(
        dbsize(&s),
        total_keys,
        "{kind}: DBSIZE after loading {}",
        file.display()
    );
    // DEBUG DIGEST is Redis's algorithm in both: the same data, the same digest.
    let d = digest(&s);
    assert_eq!(
        d,
        wrote.digest,
        "{kind}: DEBUG DIGEST after loading {}",
        file.display()
    );
    let logged = s.output().lines().find_map(|l| {
        let rest = l.split_once("DB loaded from disk: ")?.1;
        rest.split_whitespace().next()?.parse().ok()
    });
    Loaded { wall, logged }
}

/// A row of the table: a name, a unit, and how to get the figure.
struct Row {
    name: &'static str,
    unit: &'static str,
    get: fn(&Round) -> f64,
}

fn print_table(o: &Opts, live: &[Live]) {
    let rows = [
        Row {
            name: "SAVE",
            unit: "s",
            get: |r| r.save,
        },
        Row {
            name: "RDB file size",
            unit: "MB",
            get: |r| r.file_bytes as f64 / 1e6,
        },
        Row {
            name: "BGSAVE, idle: fork to child exit",
            unit: "s",
            get: |r| r.idle.child,
        },
        Row {
            name: "BGSAVE, idle: to rdb_bgsave_in_progress:0",
            unit: "s",
            get: |r| r.idle.done,
        },
        Row {
            name: "BGSAVE, idle: latest_fork_usec",
            unit: "ms",
            get: |r| r.idle.fork_us / 1e3,
        },
        Row {
            name: "BGSAVE, idle: rdb_last_cow_size",
            unit: "MB",
            get: |r| r.idle.cow / 1e6,
        },
        Row {
            name: "BGSAVE + traffic: fork to child exit",
            unit: "s",
            get: |r| r.busy.child,
        },
        Row {
            name: "BGSAVE + traffic: latest_fork_usec",
            unit: "ms",
            get: |r| r.busy.fork_us / 1e3,
        },
        Row {
            name: "BGSAVE + traffic: rdb_last_cow_size",
            unit: "MB",
            get: |r| r.busy.cow / 1e6,
        },
        Row {
            name: "BGSAVE + traffic: SETs during the save",
            unit: "",
            get: |r| r.writes,
        },
        Row {
            name: "traffic, no save: throughput",
            unit: "kreq/s",
            get: |r| r.quiet.rps / 1e3,
        },
        Row {
            name: "traffic, no save: p50",
            unit: "us",
            get: |r| r.quiet.p50_us,
        },
        Row {
            name: "traffic, no save: p99",
            unit: "us",
            get: |r| r.quiet.p99_us,
        },
        Row {
            name: "traffic, no save: max",
            unit: "us",
            get: |r| r.quiet.max_us,
        },
        Row {
            name: "traffic during BGSAVE: throughput",
            unit: "kreq/s",
            get: |r| r.during.rps / 1e3,
        },
        Row {
            name: "traffic during BGSAVE: p50",
            unit: "us",
            get: |r| r.during.p50_us,
        },
        Row {
            name: "traffic during BGSAVE: p99",
            unit: "us",
            get: |r| r.during.p99_us,
        },
        Row {
            name: "traffic during BGSAVE: max",
            unit: "us",
            get: |r| r.during.max_us,
        },
        Row {
            name: "load at start-up, own file",
            unit: "s",
            get: |r| r.load_own,
        },
        Row {
            name: "load at start-up, the other's file",
            unit: "s",
            get: |r| r.load_other,
        },
    ];
    println!(
        "\n== persistence: {} keys ({} strings), rdbcompression {}, {} round(s), medians; ratio = soquete / redis ==",
        o.total_keys(),
        o.keys,
        o.compression,
        o.rounds
    );
    println!(
        "RSS after the fill: redis {:.0} MB, soquete {:.0} MB",
        live[0].rss as f64 / 1e6,
        live[1].rss as f64 / 1e6
    );
    println!(
        "| {:<44} | {:>6} | {:>10} | {:>10} | {:>6} |",
        "", "unit", "redis", "soquete", "ratio"
    );
    println!(
        "|{:-<46}|{:->8}|{:->12}|{:->12}|{:->8}|",
        "", "", "", "", ""
    );
    for row in rows {
        let m = |l: &Live| median(l.rounds.iter().map(row.get));
        let (redis, ours) = (m(&live[0]), m(&live[1]));
        let ratio = if redis > 0.0 {
            format!("{:.2}", ours / redis)
        } else {
            "-".into()
        };
        println!(
            "| {:<44} | {:>6} | {:>10} | {:>10} | {:>6} |",
            row.name,
            row.unit,
            fmt_num(redis),
            fmt_num(ours),
            ratio
        );
    }
}

/// Three significant digits or so.
fn fmt_num(x: f64) -> String {
    match x.abs() {
        v if v >= 1000.0 => format!("{x:.0}"),
        v if v >= 10.0 => format!("{x:.1}"),
        _ => format!("{x:.3}"),
    }
}
