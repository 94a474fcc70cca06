//! The summary: one table of ratios (soquete against Redis, redis-rs and
//! redis-protocol, medians), detail tables, and an SVG chart of throughput
//! against pipeline depth.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::criterion::Entry;
use crate::results::{geomean, median, LoadCell, RbCase, ServerReport};

/// Whether a ratio is good when high (throughput) or low (CPU, memory).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Better {
    Higher,
    Lower,
    /// Neither: context for reading the rows around it.
    Info,
}

/// One row of the ratio table.
struct Row {
    area: String,
    case: String,
    reference: String,
    ours: String,
    ratio: f64,
    better: Better,
    /// A goal from the issues, `(threshold, text)`.
    goal: Option<f64>,
}

impl Row {
    fn verdict(&self) -> &'static str {
        match self.goal {
            None => "",
            Some(_) if !self.ratio.is_finite() => "n/a",
            Some(g) => match self.better {
                Better::Higher if self.ratio >= g => "met",
                Better::Lower if self.ratio <= g => "met",
                _ => "not met",
            },
        }
    }

    fn goal_text(&self) -> String {
        match (self.goal, self.better) {
            (Some(g), Better::Higher) => format!(">= {g:.2}"),
            (Some(g), Better::Lower) => format!("<= {g:.2}"),
            (None, Better::Higher) => "higher is better".into(),
            (None, Better::Lower) => "lower is better".into(),
            (_, Better::Info) => "context, not a goal".into(),
        }
    }
}

/// What the summary step writes and prints.
#[derive(Debug, Default)]
pub struct Summary {
    /// The full markdown document (ratio table plus details).
    pub markdown: String,
    /// The ratio table alone, for the terminal.
    pub table: String,
    /// Throughput against pipeline depth, 32-byte values, 50 connections.
    pub chart: Option<String>,
    /// The same for every command / value size / connection count.
    pub chart_all: Option<String>,
}

/// Builds the summary from the server bench's report (if it ran) and
/// criterion's entries (client and codec benches, if they ran).
pub fn summarize(server: Option<&ServerReport>, crit: &[Entry]) -> Summary {
    let mut rows = Vec::new();
    let mut details = String::new();
    if let Some(s) = server {
        goal_rows(s, &mut rows);
        suite_rows(s, &mut rows, &mut details);
        load_rows(s, &mut rows, &mut details);
        memory_rows(s, &mut rows, &mut details);
    }
    client_rows(crit, &mut rows);
    pubsub_rows(crit, &mut rows);
    codec_rows(crit, &mut rows);

    let table = render_rows(&rows);
    let mut md = String::new();
    md.push_str("# soquete benchmark summary\n\n");
    if let Some(s) = server {
        let _ = writeln!(
            md,
            "Machine: {}. Load average before / after the server bench: {} / {}.  ",
            s.machine.describe(),
            s.machine.load_before,
            s.machine.load_after
        );
        let _ = writeln!(
            md,
            "Redis {}. soquete: release build of `{}`, {} event loop thread(s) (its default).  ",
            s.redis_version, s.soquete_source, s.soquete_threads
        );
        let _ = writeln!(
            md,
            "Each case alternates Redis and soquete ({} round(s) each, interleaved in time); \
             numbers are medians. Load cells measure {:.1} s each.{}\n",
            s.rounds,
            s.cell_secs,
            if s.quick {
                " **QUICK MODE: a smoke run, not a measurement.**"
            } else {
                ""
            }
        );
    } else {
        md.push_str("The server bench has not run (no target/soquete-bench/server.json).\n\n");
    }
    md.push_str("## Ratios (soquete / reference, medians)\n\n");
    md.push_str(&table);
    md.push('\n');
    if let Some(c) = server.and_then(|s| s.redis_benchmark.iter().find(|c| c.group == "goals")) {
        let _ = writeln!(
            md,
            "`redis-benchmark -P` rows: `redis-benchmark {}`, one invocation per test, \
             Redis and soquete alternating (the cases the speed goals are stated for). Load matrix rows: geometric \
             means over the cells below. Client rows: criterion medians of `benches/client.rs`; \
             pub/sub rows: `benches/pubsub.rs`; codec rows: `benches/codec.rs`, against the fastest redis-protocol variant. \
             Speed ratios are reference time / soquete time (higher is better).\n",
            generic_args(&c.args)
        );
    }
    md.push_str(&details);
    if let Some(s) = server {
        if !s.skipped.is_empty() {
            md.push_str("\n## Skipped\n\n");
            for k in &s.skipped {
                let _ = writeln!(md, "* {k}");
            }
        }
    }
    Summary {
        markdown: md,
        table,
        chart: server.and_then(|s| {
            chart(s, |c| {
                (c.value_size == 32 || c.value_size == 0) && c.connections == 50
            })
        }),
        chart_all: server.and_then(|s| chart(s, |_| true)),
    }
}

fn render_rows(rows: &[Row]) -> String {
    let mut t = String::new();
    t.push_str("| Area | Case | Reference | soquete | soquete / ref | Goal | |\n");
    t.push_str("|---|---|---:|---:|---:|---|---|\n");
    for r in rows {
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.area,
            r.case,
            r.reference,
            r.ours,
            fmt_ratio(r.ratio),
            r.goal_text(),
            r.verdict()
        );
    }
    t
}

fn fmt_ratio(r: f64) -> String {
    if r.is_finite() {
        format!("{r:.2}x")
    } else {
        "n/a".into()
    }
}

fn fmt_rps(x: f64) -> String {
    if !x.is_finite() {
        "n/a".into()
    } else if x >= 1e6 {
        format!("{:.2} M/s", x / 1e6)
    } else {
        format!("{:.1} k/s", x / 1e3)
    }
}

fn fmt_ns(x: f64) -> String {
    if !x.is_finite() {
        "n/a".into()
    } else if x >= 1e6 {
        format!("{:.2} ms", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.2} µs", x / 1e3)
    } else {
        format!("{x:.0} ns")
    }
}

fn fmt_mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn rb_medians(c: &RbCase) -> (f64, f64, f64, f64) {
    (
        median(c.redis.iter().map(|s| s.rps)),
        median(c.soquete.iter().map(|s| s.rps)),
        median(c.redis.iter().map(|s| s.cpu_ns)),
        median(c.soquete.iter().map(|s| s.cpu_ns)),
    )
}

fn goal_rows(s: &ServerReport, rows: &mut Vec<Row>) {
    for p in [1, 16] {
        let cases: Vec<&RbCase> = s
            .redis_benchmark
            .iter()
            .filter(|c| c.group == "goals" && c.pipeline == p)
            .collect();
        if cases.is_empty() {
            continue;
        }
        let area = format!("redis-benchmark -P {p}");
        let goal_rps = if p == 1 { 1.0 } else { 1.5 };
        // The whole `-t set,get,incr,mset` run: every test has the same -n,
        // so its rps is the harmonic mean and its CPU/request the mean.
        let (mut inv_r, mut inv_s, mut cpu_r, mut cpu_s, mut n) = (0.0, 0.0, 0.0, 0.0, 0);
        for c in &cases {
            if let Some(e) = &c.error {
                rows.push(Row {
                    area: area.clone(),
                    case: format!("{}: FAILED ({e})", c.test),
                    reference: String::new(),
                    ours: String::new(),
                    ratio: f64::NAN,
                    better: Better::Higher,
                    goal: Some(goal_rps),
                });
                continue;
            }
            let (rr, rs, cr, cs) = rb_medians(c);
            inv_r += 1.0 / rr;
            inv_s += 1.0 / rs;
            cpu_r += cr;
            cpu_s += cs;
            n += 1;
            rows.push(Row {
                area: area.clone(),
                case: format!("{} throughput", c.test),
                reference: fmt_rps(rr),
                ours: fmt_rps(rs),
                ratio: rs / rr,
                better: Better::Higher,
                goal: Some(goal_rps),
            });
            rows.push(Row {
                area: area.clone(),
                case: format!("{} server CPU / request", c.test),
                reference: fmt_ns(cr),
                ours: fmt_ns(cs),
                ratio: cs / cr,
                better: Better::Lower,
                goal: Some(0.67),
            });
        }
        if n > 1 {
            let nf = n as f64;
            rows.push(Row {
                area: area.clone(),
                case: format!("all {n} tests: throughput"),
                reference: fmt_rps(nf / inv_r),
                ours: fmt_rps(nf / inv_s),
                ratio: inv_r / inv_s,
                better: Better::Higher,
                goal: Some(goal_rps),
            });
            rows.push(Row {
                area,
                case: format!("all {n} tests: server CPU / request"),
                reference: fmt_ns(cpu_r / nf),
                ours: fmt_ns(cpu_s / nf),
                ratio: cpu_s / cpu_r,
                better: Better::Lower,
                goal: Some(0.67),
            });
        }
    }
}

fn suite_rows(s: &ServerReport, rows: &mut Vec<Row>, details: &mut String) {
    let suite: Vec<&RbCase> = s
        .redis_benchmark
        .iter()
        .filter(|c| c.group == "suite")
        .collect();
    if suite.is_empty() {
        return;
    }
    let args = generic_args(&suite[0].args);
    details.push_str("\n## redis-benchmark default suite\n\n");
    let _ = writeln!(
        details,
        "`redis-benchmark {args}`, one invocation per test and depth, Redis and soquete \
         alternating; medians. Server CPU per request: the server's user + system time \
         over the invocation / its requests. Client busy: `redis-benchmark`'s own user + \
         system time over its run time (it is one thread: near 1.0 cores, it set the pace, \
         whatever the server could do).\n"
    );
    details.push_str("| Test | -P | Redis | soquete | soquete / Redis | Redis CPU/req | soquete CPU/req | CPU ratio | client busy (Redis / soquete) |\n");
    details.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for p in [1, 16] {
        let mut ratios = Vec::new();
        let mut cpu_ratios = Vec::new();
        let mut busy = (Vec::new(), Vec::new());
        for c in suite.iter().filter(|c| c.pipeline == p) {
            if let Some(e) = &c.error {
                let _ = writeln!(details, "| {} | {p} | FAILED: {e} | | | | | | |", c.test);
                continue;
            }
            let (rr, rs, cr, cs) = rb_medians(c);
            let br = median(c.redis.iter().map(|s| s.client_busy));
            let bs = median(c.soquete.iter().map(|s| s.client_busy));
            ratios.push((c.test.clone(), rs / rr));
            cpu_ratios.push(cs / cr);
            busy.0.push(br);
            busy.1.push(bs);
            let _ = writeln!(
                details,
                "| {} | {p} | {} | {} | {} | {} | {} | {} | {br:.2} / {bs:.2} |",
                c.test,
                fmt_rps(rr),
                fmt_rps(rs),
                fmt_ratio(rs / rr),
                fmt_ns(cr),
                fmt_ns(cs),
                fmt_ratio(cs / cr)
            );
        }
        if ratios.is_empty() {
            continue;
        }
        let goal = if p == 1 { 1.0 } else { 1.5 };
        let area = format!("redis-benchmark suite -P {p}");
        rows.push(Row {
            area: area.clone(),
            case: format!("geometric mean of {} tests", ratios.len()),
            reference: String::new(),
            ours: String::new(),
            ratio: geomean(ratios.iter().map(|r| r.1)),
            better: Better::Higher,
            goal: Some(goal),
        });
        let (worst, w) = ratios
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .cloned()
            .expect("not empty");
        rows.push(Row {
            area: area.clone(),
            case: format!("lowest: {worst}"),
            reference: String::new(),
            ours: String::new(),
            ratio: w,
            better: Better::Higher,
            goal: Some(1.0),
        });
        rows.push(Row {
            area: area.clone(),
            case: format!(
                "server CPU / request, geometric mean of {} tests",
                cpu_ratios.len()
            ),
            reference: String::new(),
            ours: String::new(),
            ratio: geomean(cpu_ratios.iter().copied()),
            better: Better::Lower,
            goal: None,
        });
        // How close the load generator came to its one core: near 1.0, it
        // bounds what any server could show in this setup.
        let (br, bs) = (
            median(busy.0.iter().copied()),
            median(busy.1.iter().copied()),
        );
        rows.push(Row {
            area,
            case: "redis-benchmark's own CPU, cores (median of tests)".into(),
            reference: format!("{br:.2}"),
            ours: format!("{bs:.2}"),
            ratio: bs / br,
            better: Better::Info,
            goal: None,
        });
    }
}

/// `-t set -n 100 -P 16` -> `-t <test> -n 100 -P <1|16>`.
fn generic_args(args: &str) -> String {
    let mut out = Vec::new();
    let mut prev = "";
    for w in args.split_ascii_whitespace() {
        out.push(match prev {
            "-t" => "<test>",
            "-P" => "<1|16>",
            _ => w,
        });
        prev = w;
    }
    out.join(" ")
}

fn cell_medians(c: &LoadCell) -> [f64; 8] {
    let m = |v: &[crate::results::Sample], f: fn(&crate::results::Sample) -> f64| {
        median(v.iter().map(f))
    };
    [
        m(&c.redis, |s| s.rps),
        m(&c.soquete, |s| s.rps),
        m(&c.redis, |s| s.cpu_ns),
        m(&c.soquete, |s| s.cpu_ns),
        m(&c.redis, |s| s.p99_us),
        m(&c.soquete, |s| s.p99_us),
        m(&c.redis, |s| s.p50_us),
        m(&c.soquete, |s| s.p50_us),
    ]
}

fn value_label(v: usize) -> String {
    match v {
        0 => "-".into(),
        v if v % 1024 == 0 => format!("{} KiB", v / 1024),
        v => format!("{v} B"),
    }
}

fn load_rows(s: &ServerReport, rows: &mut Vec<Row>, details: &mut String) {
    let ok: Vec<&LoadCell> = s.cells.iter().filter(|c| c.error.is_none()).collect();
    if s.cells.is_empty() {
        return;
    }
    for depth in [1, 16, 64] {
        let cells: Vec<[f64; 8]> = ok
            .iter()
            .filter(|c| c.depth == depth)
            .map(|c| cell_medians(c))
            .collect();
        if cells.is_empty() {
            continue;
        }
        let area = format!("load matrix, depth {depth}");
        let n = cells.len();
        rows.push(Row {
            area: area.clone(),
            case: format!("throughput, geometric mean of {n} cells"),
            reference: String::new(),
            ours: String::new(),
            ratio: geomean(cells.iter().map(|m| m[1] / m[0])),
            better: Better::Higher,
            goal: None,
        });
        rows.push(Row {
            area: area.clone(),
            case: format!("server CPU / request, geometric mean of {n} cells"),
            reference: String::new(),
            ours: String::new(),
            ratio: geomean(cells.iter().map(|m| m[3] / m[2])),
            better: Better::Lower,
            goal: None,
        });
        rows.push(Row {
            area,
            case: format!("p99 latency, geometric mean of {n} cells"),
            reference: String::new(),
            ours: String::new(),
            ratio: geomean(cells.iter().map(|m| m[5] / m[4])),
            better: Better::Lower,
            goal: None,
        });
    }

    // Compact grid: throughput ratio (server CPU/request ratio) per depth.
    details.push_str("\n## Server load matrix\n\n");
    details.push_str(
        "Our load generator (`benches/src/load.rs`): one thread, pipelined connections, \
         random keys over 100,000 (strings) or 1,000 containers of up to 100 members. \
         Latency is per request, from the write of its batch to the read that completed \
         its reply. Cells: soquete / Redis throughput, and in brackets server CPU per \
         request soquete / Redis.\n\n",
    );
    let mut grid: BTreeMap<(usize, String, usize), BTreeMap<usize, String>> = BTreeMap::new();
    let order: Vec<String> = s.cells.iter().map(|c| c.command.clone()).collect();
    for c in &s.cells {
        let text = match &c.error {
            Some(_) => "FAILED".to_owned(),
            None => {
                let m = cell_medians(c);
                format!("{} ({})", fmt_ratio(m[1] / m[0]), fmt_ratio(m[3] / m[2]))
            }
        };
        let rank = order.iter().position(|x| *x == c.command).unwrap_or(0);
        grid.entry((
            c.value_size,
            format!("{rank:02}{}", c.command),
            c.connections,
        ))
        .or_default()
        .insert(c.depth, text);
    }
    details.push_str("| Command | Value | Conns | depth 1 | depth 16 | depth 64 |\n");
    details.push_str("|---|---|---:|---:|---:|---:|\n");
    for ((value, cmd, conns), by_depth) in &grid {
        let get = |d| by_depth.get(&d).cloned().unwrap_or_default();
        let _ = writeln!(
            details,
            "| {} | {} | {conns} | {} | {} | {} |",
            &cmd[2..],
            value_label(*value),
            get(1),
            get(16),
            get(64)
        );
    }
    details.push_str("\n### Every cell (medians)\n\n");
    details.push_str(
        "| Command | Value | Conns | Depth | Redis rps | soquete rps | ratio | \
         Redis p50 / p99 µs | soquete p50 / p99 µs | Redis CPU/req | soquete CPU/req | \
         CPU ratio | generator busy (R / s) |\n",
    );
    details.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for c in &s.cells {
        if let Some(e) = &c.error {
            let _ = writeln!(
                details,
                "| {} | {} | {} | {} | FAILED: {e} | | | | | | | | |",
                c.command,
                value_label(c.value_size),
                c.connections,
                c.depth
            );
            continue;
        }
        let m = cell_medians(c);
        let busy_r = median(c.redis.iter().map(|s| s.client_busy));
        let busy_s = median(c.soquete.iter().map(|s| s.client_busy));
        let _ = writeln!(
            details,
            "| {} | {} | {} | {} | {} | {} | {} | {:.0} / {:.0} | {:.0} / {:.0} | {} | {} | {} | {:.0}% / {:.0}% |",
            c.command,
            value_label(c.value_size),
            c.connections,
            c.depth,
            fmt_rps(m[0]),
            fmt_rps(m[1]),
            fmt_ratio(m[1] / m[0]),
            m[6],
            m[4],
            m[7],
            m[5],
            fmt_ns(m[2]),
            fmt_ns(m[3]),
            fmt_ratio(m[3] / m[2]),
            busy_r * 100.0,
            busy_s * 100.0
        );
    }
}

fn memory_rows(s: &ServerReport, rows: &mut Vec<Row>, details: &mut String) {
    if s.memory.is_empty() {
        return;
    }
    details.push_str("\n## Memory\n\n");
    details.push_str(
        "Each dataset loaded into a fresh server; RSS (VmRSS) after loading minus the \
         empty server's RSS.\n\n",
    );
    details.push_str("| Dataset | Redis empty | Redis loaded | soquete empty | soquete loaded | Redis delta | soquete delta | ratio |\n");
    details.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for m in &s.memory {
        let ratio = m.soquete_delta() as f64 / m.redis_delta() as f64;
        let _ = writeln!(
            details,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            m.description,
            fmt_mib(m.redis_empty),
            fmt_mib(m.redis_loaded),
            fmt_mib(m.soquete_empty),
            fmt_mib(m.soquete_loaded),
            fmt_mib(m.redis_delta()),
            fmt_mib(m.soquete_delta()),
            fmt_ratio(ratio)
        );
        rows.push(Row {
            area: "memory (RSS growth)".into(),
            case: m.description.clone(),
            reference: fmt_mib(m.redis_delta()),
            ours: fmt_mib(m.soquete_delta()),
            ratio,
            better: Better::Lower,
            goal: Some(1.0),
        });
    }
}

/// Criterion entries `value = soquete` with their counterpart `value =
/// reference` in the same group and function: `(ours, theirs)`.
fn pairs<'a>(
    crit: &'a [Entry],
    reference: &'a str,
) -> impl Iterator<Item = (&'a Entry, &'a Entry)> {
    crit.iter()
        .filter(|e| e.value.as_deref() == Some("soquete"))
        .filter_map(move |e| {
            crit.iter()
                .find(|t| {
                    t.group == e.group
                        && t.function == e.function
                        && t.value.as_deref() == Some(reference)
                })
                .map(|theirs| (e, theirs))
        })
}

/// A speed row (their time / ours) for a soquete/reference pair.
fn speed_row(area: String, case: String, ours: &Entry, theirs: &Entry) -> Row {
    Row {
        area,
        case,
        reference: fmt_ns(theirs.median_ns),
        ours: fmt_ns(ours.median_ns),
        ratio: theirs.median_ns / ours.median_ns,
        better: Better::Higher,
        goal: None,
    }
}

/// soquete-client against redis-rs (`benches/client.rs`).
fn client_rows(crit: &[Entry], rows: &mut Vec<Row>) {
    for (e, theirs) in pairs(crit, "redis-rs") {
        let what = if e.group == "client_blocking" {
            "client CPU time per batch"
        } else {
            "wall time per batch"
        };
        let area = format!("client vs redis-rs ({})", e.group);
        rows.push(speed_row(
            area,
            format!("{} ({what})", e.function),
            e,
            theirs,
        ));
    }
}

/// soquete-server against redis-server in `benches/pubsub.rs`, per operation.
fn pubsub_rows(crit: &[Entry], rows: &mut Vec<Row>) {
    for (e, theirs) in pairs(crit, "redis") {
        let case = format!("{}/{} (time per operation)", e.group, e.function);
        rows.push(speed_row(
            "pub/sub and blocking vs Redis".into(),
            case,
            e,
            theirs,
        ));
    }
}

/// soquete-resp against the fastest redis-protocol variant of each group.
fn codec_rows(crit: &[Entry], rows: &mut Vec<Row>) {
    let mut groups: Vec<&str> = crit
        .iter()
        .filter(|e| e.function.starts_with("soquete "))
        .map(|e| e.group.as_str())
        .collect();
    groups.dedup();
    for g in groups {
        let Some(ours) = crit
            .iter()
            .find(|e| e.group == g && e.function.starts_with("soquete "))
        else {
            continue;
        };
        let Some(best) = crit
            .iter()
            .filter(|e| e.group == g && e.function.starts_with("redis-protocol "))
            .min_by(|a, b| a.median_ns.total_cmp(&b.median_ns))
        else {
            continue;
        };
        rows.push(Row {
            area: "codec vs redis-protocol".into(),
            case: format!(
                "{g}: {} vs {} (fastest of theirs)",
                ours.function.trim_start_matches("soquete "),
                best.function.trim_start_matches("redis-protocol ")
            ),
            reference: fmt_ns(best.median_ns),
            ours: fmt_ns(ours.median_ns),
            ratio: best.median_ns / ours.median_ns,
            better: Better::Higher,
            goal: None,
        });
    }
}

/// Small multiples: one panel per (command, value size, connections) that
/// `keep` accepts, throughput (median) against pipeline depth on a log2 axis,
/// Redis and soquete on the same axes. `None` when no cell qualifies.
fn chart(s: &ServerReport, keep: impl Fn(&LoadCell) -> bool) -> Option<String> {
    // (title, [(depth, redis rps, soquete rps)])
    type Panel = (String, Vec<(usize, f64, f64)>);
    let mut panels: Vec<Panel> = Vec::new();
    for c in s.cells.iter().filter(|c| c.error.is_none() && keep(c)) {
        let title = format!(
            "{}{} · {} conn{}",
            c.command,
            if c.value_size == 0 {
                String::new()
            } else {
                format!(" · {}", value_label(c.value_size))
            },
            c.connections,
            if c.connections == 1 { "" } else { "s" }
        );
        let m = cell_medians(c);
        match panels.iter_mut().find(|p| p.0 == title) {
            Some(p) => p.1.push((c.depth, m[0], m[1])),
            None => panels.push((title, vec![(c.depth, m[0], m[1])])),
        }
    }
    if panels.is_empty() {
        return None;
    }
    const COLS: usize = 4;
    const PW: f64 = 250.0;
    const PH: f64 = 190.0;
    const TOP: f64 = 56.0;
    let rows_n = panels.len().div_ceil(COLS);
    let width = COLS as f64 * PW + 20.0;
    let height = TOP + rows_n as f64 * PH + 10.0;
    let red = "#c0392b";
    let blue = "#1f5fa8";
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(
        svg,
        r##"<rect width="100%" height="100%" fill="#ffffff"/>
<text x="10" y="20" font-size="14" font-weight="bold">Throughput (requests/s, median) against pipeline depth{}</text>
<line x1="10" y1="38" x2="30" y2="38" stroke="{red}" stroke-width="2"/><text x="34" y="42">redis-server {}</text>
<line x1="220" y1="38" x2="240" y2="38" stroke="{blue}" stroke-width="2"/><text x="244" y="42">soquete-server ({} event loop threads)</text>"##,
        if s.quick { " (QUICK MODE)" } else { "" },
        escape(&s.redis_version),
        escape(&s.soquete_threads)
    );
    for (i, (title, pts)) in panels.iter().enumerate() {
        let ox = 10.0 + (i % COLS) as f64 * PW;
        let oy = TOP + (i / COLS) as f64 * PH;
        // Plot area inside the panel.
        let (x0, x1, y0, y1) = (ox + 48.0, ox + PW - 14.0, oy + 150.0, oy + 22.0);
        let (ymax, ticks) = nice_max(pts.iter().map(|p| p.1.max(p.2)).fold(0.0, f64::max));
        let xpos = |d: usize| x0 + (d as f64).log2() / 6.0 * (x1 - x0);
        let ypos = |v: f64| y0 - v / ymax * (y0 - y1);
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" font-weight="bold">{}</text>"##,
            ox + 4.0,
            oy + 12.0,
            escape(title)
        );
        for k in 0..=ticks {
            let v = ymax * k as f64 / ticks as f64;
            let y = ypos(v);
            let _ = writeln!(
                svg,
                r##"<line x1="{x0:.1}" y1="{y:.1}" x2="{x1:.1}" y2="{y:.1}" stroke="#dddddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                x0 - 4.0,
                y + 4.0,
                short_num(v)
            );
        }
        for d in [1usize, 16, 64] {
            let x = xpos(d);
            let _ = writeln!(
                svg,
                r##"<line x1="{x:.1}" y1="{y0:.1}" x2="{x:.1}" y2="{:.1}" stroke="#999999"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{d}</text>"##,
                y0 + 4.0,
                y0 + 16.0
            );
        }
        let _ = writeln!(
            svg,
            r##"<line x1="{x0:.1}" y1="{y0:.1}" x2="{x1:.1}" y2="{y0:.1}" stroke="#333333"/><text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#555555">pipeline depth</text>"##,
            (x0 + x1) / 2.0,
            y0 + 30.0
        );
        let mut sorted = pts.clone();
        sorted.sort_by_key(|p| p.0);
        for (color, pick) in [(red, 1usize), (blue, 2usize)] {
            let path: Vec<String> = sorted
                .iter()
                .map(|p| {
                    let v = if pick == 1 { p.1 } else { p.2 };
                    format!("{:.1},{:.1}", xpos(p.0), ypos(v))
                })
                .collect();
            let _ = writeln!(
                svg,
                r##"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"##,
                path.join(" ")
            );
            for p in &sorted {
                let v = if pick == 1 { p.1 } else { p.2 };
                let _ = writeln!(
                    svg,
                    r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"><title>{} depth {}: {:.0} rps</title></circle>"##,
                    xpos(p.0),
                    ypos(v),
                    if pick == 1 { "redis" } else { "soquete" },
                    p.0,
                    v
                );
            }
        }
    }
    svg.push_str("</svg>\n");
    Some(svg)
}

/// The smallest 1/2/2.5/5 x 10^k at or above `x` (and above zero), with a
/// tick count that gives round steps.
fn nice_max(x: f64) -> (f64, u32) {
    if x.is_nan() || x <= 0.0 {
        return (1.0, 4);
    }
    let p = 10f64.powf(x.log10().floor());
    for (m, ticks) in [(1.0, 5), (2.0, 4), (2.5, 5), (5.0, 5), (10.0, 5)] {
        if m * p >= x {
            return (m * p, ticks);
        }
    }
    (10.0 * p, 5)
}

fn short_num(v: f64) -> String {
    if v >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if v >= 1e3 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{MemoryCase, RbSample, Sample};

    fn sample(rps: f64, cpu_ns: f64) -> Sample {
        Sample {
            rps,
            p50_us: 100.0,
            p99_us: 300.0,
            cpu_ns,
            client_busy: 0.5,
        }
    }

    fn report() -> ServerReport {
        let mut s = ServerReport {
            rounds: 2,
            cell_secs: 1.0,
            redis_version: "7.0.15".into(),
            soquete_threads: "2".into(),
            ..Default::default()
        };
        for depth in [1, 16, 64] {
            s.cells.push(LoadCell {
                command: "GET".into(),
                value_size: 32,
                connections: 50,
                depth,
                redis: vec![sample(100e3, 5000.0), sample(120e3, 5000.0)],
                soquete: vec![sample(150e3, 4000.0), sample(210e3, 4000.0)],
                error: None,
            });
        }
        let rb = |rps, cpu_ns| RbSample {
            rps,
            p50_ms: 0.3,
            p99_ms: 1.0,
            cpu_ns,
            client_busy: 0.9,
        };
        for (test, p) in [("SET", 1), ("GET", 1), ("SET", 16)] {
            s.redis_benchmark.push(RbCase {
                group: "goals".into(),
                test: test.into(),
                pipeline: p,
                args: "-t set".into(),
                redis: vec![rb(100e3, 4000.0)],
                soquete: vec![rb(200e3, 2000.0)],
                error: None,
            });
        }
        s.memory.push(MemoryCase {
            dataset: "strings".into(),
            description: "1M keys".into(),
            redis_empty: 10 << 20,
            redis_loaded: 110 << 20,
            soquete_empty: 5 << 20,
            soquete_loaded: 85 << 20,
        });
        s
    }

    #[test]
    fn ratios_use_medians_and_goals() {
        let sum = summarize(Some(&report()), &[]);
        // Medians: 110k vs 180k.
        assert!(
            sum.table
                .contains("| SET throughput | 100.0 k/s | 200.0 k/s | 2.00x | >= 1.00 | met |"),
            "{}",
            sum.table
        );
        assert!(sum
            .table
            .contains("| SET server CPU / request | 4.00 µs | 2.00 µs | 0.50x | <= 0.67 | met |"));
        assert!(sum.table.contains("all 2 tests: throughput"));
        assert!(sum
            .table
            .contains("| 1M keys | 100.0 MiB | 80.0 MiB | 0.80x | <= 1.00 | met |"));
        assert!(
            sum.markdown
                .contains("| GET | 32 B | 50 | 1.64x (0.80x) | 1.64x (0.80x) | 1.64x (0.80x) |"),
            "{}",
            sum.markdown
        );
        let svg = sum.chart.unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
    }

    #[test]
    fn client_pubsub_and_codec_pairs_from_criterion() {
        let e = |g: &str, f: &str, v: Option<&str>, ns| Entry {
            group: g.into(),
            function: f.into(),
            value: v.map(Into::into),
            median_ns: ns,
        };
        let crit = vec![
            e("client_blocking", "get/depth-1", Some("redis-rs"), 300.0),
            e("client_blocking", "get/depth-1", Some("soquete"), 200.0),
            e("blocking", "blpop-lpush-pingpong", Some("redis"), 150.0),
            e("blocking", "blpop-lpush-pingpong", Some("soquete"), 100.0),
            e("request_pipeline/decode", "memchr_crlf", None, 10.0),
            e(
                "request_pipeline/decode",
                "redis-protocol resp2 decode_range",
                None,
                90.0,
            ),
            e(
                "request_pipeline/decode",
                "redis-protocol resp3 decode_range",
                None,
                60.0,
            ),
            e(
                "request_pipeline/decode",
                "soquete RequestDecoder",
                None,
                30.0,
            ),
        ];
        let sum = summarize(None, &crit);
        assert!(
            sum.table
                .contains("get/depth-1 (client CPU time per batch) | 300 ns | 200 ns | 1.50x"),
            "{}",
            sum.table
        );
        assert!(sum.table.contains(
            "RequestDecoder vs resp3 decode_range (fastest of theirs) | 60 ns | 30 ns | 2.00x"
        ));
        assert!(
            sum.table.contains(
                "| pub/sub and blocking vs Redis | blocking/blpop-lpush-pingpong (time per operation) | 150 ns | 100 ns | 1.50x"
            ),
            "{}",
            sum.table
        );
        // The pub/sub pair is not taken for a client pair, nor the reverse.
        assert_eq!(sum.table.matches("blpop-lpush-pingpong").count(), 1);
        assert!(sum.chart.is_none());
    }

    #[test]
    fn nice_axis_maxima() {
        assert_eq!(nice_max(0.0), (1.0, 4));
        assert_eq!(nice_max(93_000.0), (100_000.0, 5));
        assert_eq!(nice_max(120_000.0), (200_000.0, 4));
        assert_eq!(nice_max(2_100_000.0), (2_500_000.0, 5));
        assert_eq!(
            generic_args("-t set -n 5 -P 16"),
            "-t <test> -n 5 -P <1|16>"
        );
        assert_eq!(short_num(250_000.0), "250k");
        assert_eq!(short_num(1_500_000.0), "1.5M");
    }
}
