//! The latency monitor (LATENCY): per event, the worst latency of each of
//! the last 160 seconds that had one at or above `latency-monitor-threshold`
//! milliseconds, and the all-time worst, as Redis 7.0's `latency.c` keeps
//! them; the ASCII graph (`sparkline.c`) and the doctor's report.
//!
//! Events soquete records: `command` and `fast-command` (every command,
//! by its `fast` flag) and `expire-cycle` (the active expiry cycle).
//! Sampling costs one relaxed load while the threshold is 0 (off).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Samples kept per event (Redis's `LATENCY_TS_LEN`).
pub const HISTORY_LEN: usize = 160;

/// One second's worst latency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    /// Unix seconds (0: an empty slot).
    pub time: u64,
    /// Milliseconds.
    pub latency: u64,
}

/// One event's time series.
#[derive(Debug, Clone)]
pub struct Series {
    /// Where the next sample goes.
    idx: usize,
    /// The worst latency since the last reset.
    pub max: u64,
    samples: [Sample; HISTORY_LEN],
}

impl Series {
    fn new() -> Series {
        Series {
            idx: 0,
            max: 0,
            samples: [Sample::default(); HISTORY_LEN],
        }
    }

    /// Records `latency` ms at `now` (Unix seconds): a sample in the same
    /// second as the previous one only raises it.
    pub fn add(&mut self, now: u64, latency: u64) {
        self.max = self.max.max(latency);
        let prev = (self.idx + HISTORY_LEN - 1) % HISTORY_LEN;
        if self.samples[prev].time == now {
            let p = &mut self.samples[prev];
            p.latency = p.latency.max(latency);
            return;
        }
        self.samples[self.idx] = Sample { time: now, latency };
        self.idx = (self.idx + 1) % HISTORY_LEN;
    }

    /// The samples, oldest first.
    pub fn samples(&self) -> impl Iterator<Item = Sample> + '_ {
        (0..HISTORY_LEN)
            .map(move |j| self.samples[(self.idx + j) % HISTORY_LEN])
            .filter(|s| s.time != 0)
    }

    /// The most recent sample.
    pub fn latest(&self) -> Sample {
        self.samples[(self.idx + HISTORY_LEN - 1) % HISTORY_LEN]
    }
}

/// The latency monitor: events by name, in the order they first occurred.
#[derive(Debug, Default)]
pub struct Latency {
    /// `latency-monitor-threshold` in ms; 0 turns sampling off.
    threshold: AtomicU64,
    events: Mutex<Vec<(String, Series)>>,
}

impl Latency {
    /// Sets `latency-monitor-threshold`.
    pub fn set_threshold(&self, ms: u64) {
        self.threshold.store(ms, Ordering::Relaxed);
    }

    /// The threshold in ms (0: off).
    pub fn threshold(&self) -> u64 {
        self.threshold.load(Ordering::Relaxed)
    }

    /// Samples a command that ran `micros`, as the `fast-command` event if
    /// it is flagged fast, `command` otherwise.
    #[inline]
    pub fn command(&self, fast: bool, micros: u64) {
        let t = self.threshold.load(Ordering::Relaxed);
        if t != 0 && micros / 1000 >= t {
            self.add(if fast { "fast-command" } else { "command" }, micros / 1000);
        }
    }

    /// Samples `event` that took `ms`, if the monitor is on and it reached
    /// the threshold (Redis's `latencyAddSampleIfNeeded`).
    pub fn sample(&self, event: &str, ms: u64) {
        let t = self.threshold.load(Ordering::Relaxed);
        if t != 0 && ms >= t {
            self.add(event, ms);
        }
    }

    #[cold]
    fn add(&self, event: &str, ms: u64) {
        let now = crate::shared::unix_ms() / 1000;
        let mut events = self.lock();
        match events.iter_mut().find(|(e, _)| e == event) {
            Some((_, s)) => s.add(now, ms),
            None => {
                let mut s = Series::new();
                s.add(now, ms);
                events.push((event.to_string(), s));
            }
        }
    }

    /// A copy of every event's series.
    pub fn events(&self) -> Vec<(String, Series)> {
        self.lock().clone()
    }

    /// A copy of one event's series (names match exactly, as in Redis).
    pub fn event(&self, name: &[u8]) -> Option<(String, Series)> {
        self.lock()
            .iter()
            .find(|(e, _)| e.as_bytes() == name)
            .cloned()
    }

    /// Forgets `name` (case-insensitively), or every event for `None`;
    /// how many were forgotten.
    pub fn reset(&self, name: Option<&[u8]>) -> usize {
        let mut events = self.lock();
        let before = events.len();
        match name {
            None => events.clear(),
            Some(n) => events.retain(|(e, _)| !e.as_bytes().eq_ignore_ascii_case(n)),
        }
        before - events.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(String, Series)>> {
        self.events.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// How many seconds, minutes, hours or days ago, as the graph labels it.
fn ago_label(elapsed: i64) -> String {
    match elapsed {
        e if e < 60 => format!("{e}s"),
        e if e < 3600 => format!("{}m", e / 60),
        e if e < 3600 * 24 => format!("{}h", e / 3600),
        e => format!("{}d", e / (3600 * 24)),
    }
}

/// LATENCY GRAPH's text for `event` at `now` (Unix seconds): a title,
/// a rule, and Redis's sparkline of the samples, 4 rows high and 80
/// columns wide, labelled with their age.
pub fn graph(event: &str, series: &Series, now: u64) -> String {
    let mut seq: Vec<(f64, String)> = Vec::new();
    let (mut min, mut max) = (0u64, 0u64);
    for s in series.samples() {
        if seq.is_empty() {
            (min, max) = (s.latency, s.latency);
        } else {
            max = max.max(s.latency);
            min = min.min(s.latency);
        }
        seq.push((s.latency as f64, ago_label(now as i64 - s.time as i64)));
    }
    let mut out = format!(
        "{event} - high {max} ms, low {min} ms (all time high {} ms)\n",
        series.max
    );
    out.push_str(&"-".repeat(80));
    out.push('\n');
    sparkline(&mut out, &seq, 80, 4);
    out
}

/// Redis's `sparklineRender` with `SPARKLINE_FILL`: `columns` samples per
/// block, `rows` rows of `_o#|`, then the labels written downwards.
fn sparkline(out: &mut String, seq: &[(f64, String)], columns: usize, rows: usize) {
    if seq.is_empty() {
        return;
    }
    // Redis's min/max update (an `else if`, kept as is).
    let (mut min, mut max) = (seq[0].0, seq[0].0);
    for &(v, _) in &seq[1..] {
        if v < min {
            min = v;
        } else if v > max {
            max = v;
        }
    }
    let labels = seq.iter().any(|(_, l)| !l.is_empty());
    for (n, chunk) in seq.chunks(columns).enumerate() {
        if n != 0 {
            out.push('\n');
        }
        render_range(out, chunk, min, max, labels, rows);
    }
}

fn render_range(
    out: &mut String,
    part: &[(f64, String)],
    min: f64,
    max: f64,
    labels: bool,
    rows: usize,
) {
    const FILL: &[u8] = b"_o#";
    let charset_len = FILL.len();
    let mut relmax = max - min;
    if relmax == 0.0 {
        relmax = 1.0;
    }
    let steps = (charset_len * rows) as i64;
    let mut row = 0;
    loop {
        let mut again = false;
        let mut chars = vec![b' '; part.len()];
        for (j, (value, label)) in part.iter().enumerate() {
            let relval = value - min;
            let mut step = (((relval * steps as f64) as i64) as f64 / relmax) as i64;
            step = step.clamp(0, steps - 1);
            if row < rows {
                let charidx = step - ((rows - row - 1) * charset_len) as i64;
                again = true;
                if (0..charset_len as i64).contains(&charidx) {
                    chars[j] = FILL[charidx as usize];
                } else if charidx >= charset_len as i64 {
                    chars[j] = b'|';
                }
            } else {
                if labels && row - rows < 1 {
                    again = true;
                    break;
                }
                let label_char = row - rows - 1;
                if let Some(&b) = label.as_bytes().get(label_char) {
                    again = true;
                    chars[j] = b;
                }
            }
        }
        if !again {
            break;
        }
        row += 1;
        out.push_str(&String::from_utf8_lossy(&chars));
        out.push('\n');
    }
}

/// What LATENCY DOCTOR weighs besides the events.
pub struct DoctorInput {
    /// `latency-monitor-threshold`.
    pub threshold: u64,
    /// `slowlog-log-slower-than`.
    pub slowlog_slower_than: i64,
    /// `hz`.
    pub hz: u64,
    /// The process's anonymous huge pages, in bytes.
    pub anon_huge_pages: u64,
    /// Unix seconds.
    pub now: u64,
}

/// LATENCY DOCTOR's report, worded as Redis 7.0's `createLatencyReport`
/// (the events soquete records and the advice they lead to).
pub fn doctor(events: &[(String, Series)], input: &DoctorInput) -> String {
    let mut r = String::new();
    if events.is_empty() && input.threshold == 0 {
        r.push_str("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n");
        return r;
    }
    let mut advices = 0;
    let (mut slowlog_enabled, mut slowlog_tuning, mut slowlog_inspect) = (false, false, false);
    let (mut scheduler, mut hz, mut large_objects) = (false, false, false);
    for (n, (event, ts)) in events.iter().enumerate() {
        if n == 0 {
            r.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        }
        let samples: Vec<Sample> = ts.samples().collect();
        let count = samples.len() as u64;
        let (mut avg, mut mad, mut period) = (0u64, 0u64, 0u64);
        if let Some(sum) = samples
            .iter()
            .map(|s| s.latency)
            .sum::<u64>()
            .checked_div(count)
        {
            avg = sum;
            let oldest = samples.iter().map(|s| s.time).min().unwrap_or(0);
            period = input.now.saturating_sub(oldest).max(1);
            mad = samples
                .iter()
                .map(|s| (avg as i64 - s.latency as i64).unsigned_abs())
                .sum::<u64>()
                / count;
        }
        let _ = write!(
            r,
            "{}. {}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
            n + 1,
            event,
            count,
            avg,
            mad,
            period as f64 / count as f64,
            ts.max
        );
        if event.eq_ignore_ascii_case("command") {
            if input.slowlog_slower_than < 0 {
                slowlog_enabled = true;
                advices += 1;
            } else if input.slowlog_slower_than / 1000 > input.threshold as i64 {
                slowlog_tuning = true;
                advices += 1;
            }
            slowlog_inspect = true;
            large_objects = true;
            advices += 2;
        }
        if event.eq_ignore_ascii_case("fast-command") {
            scheduler = true;
            advices += 1;
        }
        if event.eq_ignore_ascii_case("expire-cycle") {
            hz = true;
            large_objects = true;
            advices += 2;
        }
        r.push('\n');
    }
    let thp = input.anon_huge_pages > 0;
    if thp {
        advices += 1;
    }
    if events.is_empty() && advices == 0 {
        r.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
    } else if !events.is_empty() && advices == 0 {
        r.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
    } else {
        r.push_str("\nI have a few advices for you:\n\n");
        if slowlog_enabled {
            let _ = writeln!(r, "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.", input.threshold * 1000);
        }
        if slowlog_tuning {
            let _ = writeln!(r, "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {}'.", input.threshold * 1000);
        }
        if slowlog_inspect {
            r.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
        }
        if scheduler {
            r.push_str("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n");
        }
        if hz && input.hz < 100 {
            r.push_str("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n");
        }
        if large_objects {
            r.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
        }
        if thp {
            r.push_str("- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n");
        }
    }
    r
}

/// The process's anonymous huge pages in bytes (`AnonHugePages:` summed
/// over `/proc/self/smaps`, as Redis reads it); 0 where unreadable.
pub fn anon_huge_pages() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/smaps") else {
        return 0;
    };
    text.lines()
        .filter_map(|l| l.strip_prefix("AnonHugePages:"))
        .filter_map(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .sum::<u64>()
        * 1024
}

/// One command's latency histogram as LATENCY HISTOGRAM shows it: the
/// call count and the cumulative distribution, as Redis iterates its
/// hdr_histogram (`hdr_iter_log` from 1024 ns, doubling): each bucket's
/// upper bound in microseconds with the calls at or below it, only the
/// buckets where the cumulative count grew.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandHistogram {
    /// Calls recorded.
    pub calls: u64,
    /// (bucket upper bound in µs, cumulative calls).
    pub cdf: Vec<(u64, u64)>,
}

/// Where LATENCY HISTOGRAM gets per-command histograms from (INFO
/// latencystats keeps them).
pub trait CommandHistograms {
    /// The histograms of the commands named (full names, `config|get`, a
    /// container's name standing for all its subcommands), or of every
    /// command for `None`: only commands with data, in the order to show.
    fn histograms(&self, names: Option<&[&[u8]]>) -> Vec<(String, CommandHistogram)>;
}

/// The histograms INFO latencystats keeps: every event loop's
/// [`CmdTable`](crate::stats::CmdTable), summed per command when asked.
/// A command shows once it has recorded a latency since start-up or the
/// last CONFIG RESETSTAT (Redis allocates a command's histogram on its
/// first call and frees it on reset). With `latency-tracking no` nothing
/// is recorded, but what was recorded before still shows, as in Redis.
#[derive(Debug, Clone, Copy)]
pub struct LoopHistograms<'a>(pub &'a [crate::shared::LoopStats]);

impl CommandHistograms for LoopHistograms<'_> {
    fn histograms(&self, names: Option<&[&[u8]]>) -> Vec<(String, CommandHistogram)> {
        let summary = crate::stats::summarize(self.0.iter().map(|l| &l.cmds));
        let with_data = |slots: std::ops::Range<usize>| {
            summary[slots].iter().filter_map(|(name, s)| {
                let counts = s.hist.as_deref()?;
                let h = CommandHistogram {
                    calls: counts.iter().sum(),
                    cdf: crate::stats::log_cdf(counts),
                };
                Some((name.clone(), h))
            })
        };
        let Some(names) = names else {
            return with_data(0..summary.len()).collect();
        };
        let mut out = Vec::new();
        for name in names {
            // Redis's `lookupCommandBySds`: `name` or `container|sub`,
            // case-insensitively; anything else is skipped.
            let mut parts = name.split(|&b| b == b'|');
            let top = parts.next().unwrap_or_default();
            let (sub, extra) = (parts.next(), parts.next());
            let Some(i) = crate::cmd::lookup_index(top) else {
                continue;
            };
            let spec = crate::cmd::table::commands()[i];
            match (sub, extra) {
                (None, _) => {
                    // The command itself, then each subcommand with data.
                    out.extend(with_data(crate::stats::summary_slots(i)));
                }
                (Some(sub), None) => {
                    if let Some(j) = crate::cmd::lookup_sub_index(spec, sub) {
                        let slot = crate::stats::summary_slots(i).start + 1 + j;
                        out.extend(with_data(slot..slot + 1));
                    }
                }
                (Some(_), Some(_)) => {}
            }
        }
        out
    }
}

/// Writes LATENCY HISTOGRAM's reply: a map of command name to
/// `{calls, histogram_usec: {bucket: cumulative}}`.
pub fn write_histograms(out: &mut crate::reply::Reply, hists: &[(String, CommandHistogram)]) {
    out.map(hists.len());
    for (name, h) in hists {
        out.bulk(name.as_bytes());
        out.map(2);
        out.bulk(b"calls");
        out.int(h.calls as i64);
        out.bulk(b"histogram_usec");
        out.map(h.cdf.len());
        for &(usec, count) in &h.cdf {
            out.int(usec as i64);
            out.int(count as i64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_in_one_second_keep_the_worst() {
        let mut s = Series::new();
        s.add(100, 5);
        s.add(100, 9);
        s.add(100, 3);
        s.add(101, 2);
        let v: Vec<_> = s.samples().collect();
        assert_eq!(
            v,
            [
                Sample {
                    time: 100,
                    latency: 9
                },
                Sample {
                    time: 101,
                    latency: 2
                }
            ]
        );
        assert_eq!(s.max, 9);
        assert_eq!(s.latest().latency, 2);
    }

    #[test]
    fn history_keeps_the_last_160_seconds() {
        let mut s = Series::new();
        for t in 1..=200 {
            s.add(t, t);
        }
        let v: Vec<_> = s.samples().collect();
        assert_eq!(v.len(), HISTORY_LEN);
        assert_eq!(v[0].time, 41);
        assert_eq!(v[159].time, 200);
    }

    #[test]
    fn below_threshold_or_off_records_nothing() {
        let l = Latency::default();
        l.command(false, 50_000);
        assert!(l.events().is_empty());
        l.set_threshold(10);
        l.command(false, 9_999);
        assert!(l.events().is_empty());
        l.command(true, 10_000);
        l.command(false, 20_000);
        let names: Vec<_> = l.events().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["fast-command", "command"]);
        assert_eq!(l.reset(Some(b"COMMAND")), 1);
        assert_eq!(l.reset(None), 1);
    }

    #[test]
    fn graph_of_one_sample_matches_redis() {
        // From redis-server 7.0.15: DEBUG SLEEP 0.2 with threshold 100,
        // then LATENCY GRAPH command in the same second.
        let mut s = Series::new();
        s.add(1000, 200);
        let g = graph("command", &s, 1000);
        let expected = format!(
            "command - high 200 ms, low 200 ms (all time high 200 ms)\n{}\n \n \n \n_\n \n0\ns\n",
            "-".repeat(80)
        );
        assert_eq!(g, expected);
    }

    fn id_of(name: &str) -> u16 {
        use crate::cmd::{lookup_index, lookup_sub_index, table};
        let (top, sub) = match name.split_once('|') {
            Some((t, s)) => (t, Some(s)),
            None => (name, None),
        };
        let i = lookup_index(top.as_bytes()).expect("known command");
        let j = sub.map(|s| lookup_sub_index(table::commands()[i], s.as_bytes()).expect("known"));
        table::command_id(i, j)
    }

    fn names(h: &[(String, CommandHistogram)]) -> Vec<&str> {
        h.iter().map(|(n, _)| n.as_str()).collect()
    }

    #[test]
    fn histograms_sum_loops_and_select_commands_as_redis_looks_them_up() {
        let loops: Vec<crate::shared::LoopStats> = (0..2).map(|_| Default::default()).collect();
        let record = |l: usize, name: &str, us: u64| {
            loops[l].cmds.get(id_of(name)).unwrap().record_latency(us);
        };
        record(0, "get", 3);
        record(1, "get", 1500);
        record(1, "config|get", 10);
        record(0, "client|id", 0);
        let h = LoopHistograms(&loops);

        let all = h.histograms(None);
        let mut all_names = names(&all);
        all_names.sort_unstable();
        assert_eq!(all_names, ["client|id", "config|get", "get"]);
        let get = &all.iter().find(|(n, _)| n == "get").unwrap().1;
        assert_eq!(
            get,
            &CommandHistogram {
                calls: 2,
                cdf: vec![(4, 1), (2113, 2)]
            }
        );

        // A container stands for its subcommands with data; names are
        // case-insensitive and kept in the order asked, repeats included;
        // unknown names, `|` on a plain command and deeper paths are
        // skipped; commands never called do not show.
        let asked: &[&[u8]] = &[
            b"CONFIG",
            b"nosuch",
            b"Get",
            b"get|x",
            b"config|get|x",
            b"Client|ID",
            b"set",
            b"get",
        ];
        assert_eq!(
            names(&h.histograms(Some(asked))),
            ["config|get", "get", "client|id", "get"]
        );

        // CONFIG RESETSTAT zeroes the tables: nothing shows.
        for l in &loops {
            l.cmds.clear();
        }
        assert!(h.histograms(None).is_empty());
    }
}
