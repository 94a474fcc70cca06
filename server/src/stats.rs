//! Per-command and per-error statistics: INFO `commandstats`,
//! `latencystats` and `errorstats`.
//!
//! Every event loop keeps its own [`CmdTable`] (inside its
//! [`LoopStats`](crate::shared::LoopStats)); INFO sums the loops' tables
//! when it is asked. A loop's table is written only by the thread running
//! that loop, so a counter is bumped with a relaxed load and store (plain
//! moves on x86), never a locked read-modify-write: nothing is contended on
//! the command path. Readers (INFO on any loop) see each counter whole.
//! CONFIG RESETSTAT stores zeros from whichever loop runs it; a command
//! finishing on another loop at that very moment may keep its pre-reset
//! count, the only imprecision this buys.
//!
//! Latencies go into a histogram with exactly the layout of the
//! `hdr_histogram` Redis 7.0 uses for `latencystats` (values in
//! nanoseconds from 1 to 10^9, 2 significant figures), so percentiles come
//! out with Redis's precision and rounding (`p50=4.015` for 4 µs). It is
//! our own because its counts must be atomics that another loop can read
//! while the owner records, which the `hdrhistogram` crate's plain vectors
//! do not allow without a lock per command.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::cmd::table;

/// Adds `n` to a counter only the calling thread writes.
#[inline]
pub fn bump(c: &AtomicU64, n: u64) {
    c.store(c.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
}

/// Redis's `LATENCY_HISTOGRAM_MIN_VALUE`, in nanoseconds.
const HIST_MIN: u64 = 1;
/// Redis's `LATENCY_HISTOGRAM_MAX_VALUE`, in nanoseconds.
const HIST_MAX: u64 = 1_000_000_000;
/// `sub_bucket_half_count_magnitude` for 2 significant figures:
/// `ceil(log2(2 * 10^2)) - 1`.
const HALF_MAGNITUDE: u32 = 7;
/// `sub_bucket_half_count`.
const HALF_COUNT: usize = 1 << HALF_MAGNITUDE;
/// `sub_bucket_count`.
const SUB_COUNT: u64 = 2 << HALF_MAGNITUDE;
/// `sub_bucket_mask` (unit magnitude 0).
const SUB_MASK: u64 = SUB_COUNT - 1;
/// `bucket_count`: buckets needed to cover [`HIST_MAX`].
const BUCKETS: usize = {
    let mut untrackable = SUB_COUNT;
    let mut n = 1;
    while untrackable <= HIST_MAX {
        untrackable <<= 1;
        n += 1;
    }
    n
};
/// `counts_len`.
const COUNTS: usize = (BUCKETS + 1) * HALF_COUNT;

fn bucket_index(v: u64) -> u32 {
    let pow2ceiling = 64 - (v | SUB_MASK).leading_zeros();
    pow2ceiling - (HALF_MAGNITUDE + 1)
}

fn counts_index(v: u64) -> usize {
    let b = bucket_index(v);
    let sub = (v >> b) as usize;
    ((b as usize + 1) << HALF_MAGNITUDE) + sub - HALF_COUNT
}

fn value_at_index(i: usize) -> u64 {
    let mut b = (i >> HALF_MAGNITUDE) as i64 - 1;
    let mut sub = (i & (HALF_COUNT - 1)) + HALF_COUNT;
    if b < 0 {
        sub -= HALF_COUNT;
        b = 0;
    }
    (sub as u64) << b
}

fn highest_equivalent(v: u64) -> u64 {
    let b = bucket_index(v);
    let sub = v >> b;
    let lowest = sub << b;
    let adjusted = if sub >= SUB_COUNT { b + 1 } else { b };
    lowest + (1u64 << adjusted) - 1
}

fn lowest_equivalent(v: u64) -> u64 {
    let b = bucket_index(v);
    (v >> b) << b
}

/// A latency histogram with the bucket layout of Redis's `hdr_histogram`
/// (see the module docs). Values are nanoseconds.
pub struct Histogram {
    counts: Box<[AtomicU64; COUNTS]>,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            counts: Box::new(std::array::from_fn(|_| AtomicU64::new(0))),
        }
    }
}

impl Histogram {
    /// Records one value, clamped to the tracked range as Redis's
    /// `updateCommandLatencyHistogram` does. Owner thread only.
    #[inline]
    pub fn record(&self, ns: u64) {
        let ns = ns.clamp(HIST_MIN, HIST_MAX);
        // In range by construction (HIST_MAX maps to the last bucket); the
        // `min` only spares a bounds check.
        bump(&self.counts[counts_index(ns).min(COUNTS - 1)], 1);
    }

    /// Adds this histogram's counts into `into`.
    pub fn add_to(&self, into: &mut [u64]) {
        for (sum, c) in into.iter_mut().zip(self.counts.iter()) {
            *sum += c.load(Ordering::Relaxed);
        }
    }

    fn clear(&self) {
        for c in self.counts.iter() {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// An empty set of counts shaped like a [`Histogram`], to sum loops into.
pub fn empty_counts() -> Vec<u64> {
    vec![0; COUNTS]
}

/// `hdr_value_at_percentile` over summed counts: the highest value
/// equivalent to the one at `percentile` (the lowest, for 0).
pub fn value_at_percentile(counts: &[u64], percentile: f64) -> u64 {
    let total: u64 = counts.iter().sum();
    let requested = percentile.min(100.0);
    let wanted = (((requested / 100.0) * total as f64) + 0.5) as u64;
    let wanted = wanted.max(1);
    let mut seen = 0;
    let mut value = 0;
    for (i, c) in counts.iter().enumerate() {
        seen += c;
        if seen >= wanted {
            value = value_at_index(i);
            break;
        }
    }
    if percentile == 0.0 {
        lowest_equivalent(value)
    } else {
        highest_equivalent(value)
    }
}

/// LATENCY HISTOGRAM's cumulative distribution of summed counts, as
/// Redis 7.0's `fillCommandCDF` walks its histogram with
/// `hdr_iter_log_init(&iter, h, 1024, 2)`: reporting levels of 1024 ns,
/// doubling; at each level the iterator has moved to the first counts
/// slot whose value reaches the level, and the pair reported is that
/// slot's highest equivalent value in whole microseconds with the count of
/// every value up to the slot. A pair is kept only where the cumulative
/// count grew. The keys are therefore near, not at, powers of two: 1, 2,
/// 4, 8, 16, 33, 66, 132... (`(2^k·1024 + 2^(k+3) - 1) / 1000`).
pub fn log_cdf(counts: &[u64]) -> Vec<(u64, u64)> {
    let total: u64 = counts.iter().sum();
    let mut out = Vec::new();
    // The iterator's state (`struct hdr_iter` and its `log` specifics);
    // `index` -1 is before the first slot.
    let mut index: i64 = -1;
    let mut value: u64 = 0;
    let mut highest: u64 = 0;
    let mut cumulative: u64 = 0;
    let mut level: u64 = 1024;
    let mut level_lowest = lowest_equivalent(level);
    let mut previous = 0;
    let len = counts.len() as i64;
    loop {
        // `log_iter_next`'s entry test: more counts to see, or the next
        // slot lies beyond the level (`next_value_greater_than_...`).
        let more = cumulative < total
            || (index < len && value_at_index((index + 1) as usize) > level_lowest);
        if !more {
            break;
        }
        loop {
            if value >= level_lowest {
                level *= 2;
                level_lowest = lowest_equivalent(level);
                break;
            }
            // `move_next`: past the last slot it stops, reporting the
            // last slot again.
            index += 1;
            if index >= len {
                break;
            }
            cumulative += counts[index as usize];
            value = value_at_index(index as usize);
            highest = highest_equivalent(value);
        }
        if cumulative > previous {
            out.push((highest / 1000, cumulative));
        }
        previous = cumulative;
    }
    out
}

/// One command's counters in one loop.
#[derive(Default)]
pub struct CmdCounters {
    /// Times the handler ran.
    pub calls: AtomicU64,
    /// Microseconds spent in it.
    pub usec: AtomicU64,
    /// Refused before running (arity, authentication...).
    pub rejected: AtomicU64,
    /// Ran and replied with an error.
    pub failed: AtomicU64,
    /// Latencies, allocated on the first call.
    hist: OnceLock<Histogram>,
}

impl CmdCounters {
    /// The latency histogram, if this command ever recorded one.
    pub fn histogram(&self) -> Option<&Histogram> {
        self.hist.get()
    }

    /// Records a latency of `us` microseconds (owner thread only).
    #[inline]
    pub fn record_latency(&self, us: u64) {
        self.hist
            .get_or_init(Histogram::default)
            .record(us.saturating_mul(1000));
    }

    fn clear(&self) {
        for c in [&self.calls, &self.usec, &self.rejected, &self.failed] {
            c.store(0, Ordering::Relaxed);
        }
        if let Some(h) = self.hist.get() {
            h.clear();
        }
    }
}

/// Where each command's counters sit in a [`CmdTable`]: the first slot of
/// top-level command `i` (its subcommands follow it), and the total.
fn layout() -> &'static (Vec<usize>, usize) {
    static LAYOUT: OnceLock<(Vec<usize>, usize)> = OnceLock::new();
    LAYOUT.get_or_init(|| {
        let mut starts = Vec::new();
        let mut next = 0;
        for spec in table::commands() {
            starts.push(next);
            next += 1 + spec.subcommands.len();
        }
        (starts, next)
    })
}

/// Every command's counters, for one loop.
pub struct CmdTable {
    /// The first slot of each top-level command (a copy of [`layout`]'s,
    /// so that a lookup reads no shared once-cell).
    starts: Box<[u32]>,
    slots: Box<[CmdCounters]>,
}

impl std::fmt::Debug for CmdTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CmdTable")
            .field("commands", &self.slots.len())
            .finish()
    }
}

impl Default for CmdTable {
    fn default() -> CmdTable {
        let (starts, total) = layout();
        CmdTable {
            starts: starts.iter().map(|&s| s as u32).collect(),
            slots: (0..*total).map(|_| CmdCounters::default()).collect(),
        }
    }
}

impl CmdTable {
    /// The counters of command `id`.
    #[inline]
    pub fn get(&self, id: u16) -> Option<&CmdCounters> {
        let (i, j) = (id as usize & 0x1ff, id as usize >> 9);
        let start = *self.starts.get(i)? as usize;
        self.slots.get(start + j)
    }

    /// Zeroes every counter (CONFIG RESETSTAT).
    pub fn clear(&self) {
        for s in self.slots.iter() {
            s.clear();
        }
    }
}

/// Summed counters of one command over every loop, for INFO.
#[derive(Default)]
pub struct CmdSummary {
    /// `calls`.
    pub calls: u64,
    /// `usec`.
    pub usec: u64,
    /// `rejected_calls`.
    pub rejected: u64,
    /// `failed_calls`.
    pub failed: u64,
    /// Summed latency counts, if any loop has a histogram.
    pub hist: Option<Vec<u64>>,
}

/// Sums every loop's table, in table order: each top-level command
/// followed by its subcommands, as `(full name, counters)`.
pub fn summarize<'a>(
    tables: impl Iterator<Item = &'a CmdTable> + Clone,
) -> Vec<(String, CmdSummary)> {
    let (starts, _) = layout();
    let mut out = Vec::new();
    for (i, spec) in table::commands().iter().enumerate() {
        for j in 0..=spec.subcommands.len() {
            let slot = starts[i] + j;
            let mut s = CmdSummary::default();
            for t in tables.clone() {
                let c = &t.slots[slot];
                s.calls += c.calls.load(Ordering::Relaxed);
                s.usec += c.usec.load(Ordering::Relaxed);
                s.rejected += c.rejected.load(Ordering::Relaxed);
                s.failed += c.failed.load(Ordering::Relaxed);
                if let Some(h) = c.histogram() {
                    h.add_to(s.hist.get_or_insert_with(empty_counts));
                }
            }
            if s.hist.as_ref().is_some_and(|h| h.iter().all(|&n| n == 0)) {
                s.hist = None;
            }
            let name = if j == 0 {
                spec.name.to_string()
            } else {
                format!("{}|{}", spec.name, spec.subcommands[j - 1].name)
            };
            out.push((name, s));
        }
    }
    out
}

/// Where top-level command `i` (of [`table::commands`]) and its
/// subcommands sit in [`summarize`]'s list.
pub fn summary_slots(i: usize) -> std::ops::Range<usize> {
    let (starts, total) = layout();
    let start = starts.get(i).copied().unwrap_or(*total);
    let end = starts.get(i + 1).copied().unwrap_or(*total);
    start..end
}

/// Error replies by code word (INFO errorstats), for one loop. Only the
/// error path takes its lock.
#[derive(Debug, Default)]
pub struct ErrorTable {
    codes: Mutex<BTreeMap<Vec<u8>, u64>>,
}

impl ErrorTable {
    /// Counts one error line (`-CODE message\r\n`) under its code word: the
    /// text up to the first space within the first 32 bytes, or `ERR` when
    /// there is none (Redis's `afterErrorReply`).
    pub fn count(&self, line: &[u8]) {
        let code: &[u8] = match line.split_first() {
            Some((b'-', rest)) => {
                let window = &line[..line.len().min(32)];
                match window.iter().position(|&b| b == b' ') {
                    Some(sp) => &rest[..sp - 1],
                    None => b"ERR",
                }
            }
            _ => b"ERR",
        };
        let mut m = self.codes.lock().unwrap_or_else(|p| p.into_inner());
        match m.get_mut(code) {
            Some(n) => *n += 1,
            None => {
                m.insert(code.to_vec(), 1);
            }
        }
    }

    /// Adds this loop's counts into `into`.
    pub fn add_to(&self, into: &mut BTreeMap<Vec<u8>, u64>) {
        let m = self.codes.lock().unwrap_or_else(|p| p.into_inner());
        for (k, v) in m.iter() {
            *into.entry(k.clone()).or_default() += v;
        }
    }

    /// Forgets every code (CONFIG RESETSTAT).
    pub fn clear(&self) {
        self.codes.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// Redis's `trackInstantaneousMetric`: the rate of a counter over the last
/// [`Instantaneous::SAMPLES`] samples (taken every 100 ms by the cron).
#[derive(Debug, Default)]
pub struct Instantaneous {
    samples: [u64; Instantaneous::SAMPLES],
    idx: usize,
    last_ms: u64,
    last_count: u64,
}

impl Instantaneous {
    /// Samples kept.
    pub const SAMPLES: usize = 16;

    /// Takes a sample of `count` at `now_ms`.
    pub fn track(&mut self, now_ms: u64, count: u64) {
        if self.last_ms == 0 {
            // The first reading only sets the start, as Redis sets it at
            // start-up.
            self.last_ms = now_ms;
            self.last_count = count;
            return;
        }
        let t = now_ms.saturating_sub(self.last_ms);
        let ops = count.saturating_sub(self.last_count);
        self.samples[self.idx] = (ops * 1000).checked_div(t).unwrap_or(0);
        self.idx = (self.idx + 1) % Self::SAMPLES;
        self.last_ms = now_ms;
        self.last_count = count;
    }

    /// The mean of the samples (Redis's `getInstantaneousMetric`).
    pub fn get(&self) -> u64 {
        self.samples.iter().sum::<u64>() / Self::SAMPLES as u64
    }

    /// Starts over from `count` at `now_ms` (CONFIG RESETSTAT).
    pub fn reset(&mut self, now_ms: u64, count: u64) {
        *self = Instantaneous {
            last_ms: now_ms,
            last_count: count,
            ..Instantaneous::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn percentile_of(values: &[u64], p: f64) -> u64 {
        let h = Histogram::default();
        for &v in values {
            h.record(v);
        }
        let mut c = empty_counts();
        h.add_to(&mut c);
        value_at_percentile(&c, p)
    }

    #[test]
    fn histogram_layout_matches_redis_hdr_config() {
        // hdr_init(1, 1e9, 2): 23 buckets of 128 half-sub-buckets.
        assert_eq!(BUCKETS, 23);
        assert_eq!(COUNTS, 3072);
    }

    #[test]
    fn percentiles_round_up_as_redis_reports_them() {
        // Figures seen in Redis 7.0.15's INFO latencystats for 1, 2, 4,
        // 43 and 67 µs.
        assert_eq!(percentile_of(&[1000], 50.0), 1003);
        assert_eq!(percentile_of(&[2000], 50.0), 2007);
        assert_eq!(percentile_of(&[4000], 99.9), 4015);
        assert_eq!(percentile_of(&[43000], 50.0), 43007);
        assert_eq!(percentile_of(&[3000, 3000, 6000], 50.0), 3007);
        assert_eq!(percentile_of(&[3000, 3000, 6000], 99.0), 6015);
        assert_eq!(percentile_of(&[43000, 67000], 99.0), 67071);
    }

    #[test]
    fn small_and_huge_values_are_clamped_not_lost() {
        assert_eq!(percentile_of(&[0], 50.0), 1);
        assert!(percentile_of(&[u64::MAX], 50.0) >= HIST_MAX);
        assert_eq!(percentile_of(&[5, 5, 5], 0.0), 5);
    }

    fn cdf_of(ns: &[u64]) -> Vec<(u64, u64)> {
        let h = Histogram::default();
        for &v in ns {
            h.record(v);
        }
        let mut c = empty_counts();
        h.add_to(&mut c);
        log_cdf(&c)
    }

    #[test]
    fn cdf_reports_the_slot_reached_at_each_doubling_level() {
        // Redis's iterator for 3 µs and 1500 µs (3000 and 1500000 ns):
        // 3000 sits in bucket 4 (values 2048..4095 in steps of 16), slot
        // 699 (2992..3007); 1500000 in bucket 13 (steps of 8192), slot
        // 1847. Levels 1024 and 2048 stop at slots 512 (1024..1031) and
        // 640 (2048..2063) with nothing counted: no pair. Level 4096 stops
        // at slot 768 (4096..4127) having counted 3000: (4127/1000, 1).
        // Levels 8192...1048576 count nothing new. Level 2097152 stops at
        // slot 1920 (2097152..2113535) having counted 1500000:
        // (2113535/1000, 2). All counted, and the next slot (2113536) is
        // not beyond level 4194304: the walk ends.
        assert_eq!(cdf_of(&[3000, 1_500_000]), [(4, 1), (2113, 2)]);
        // A real Redis 7.0.15 showed `2113` for an EVAL spinning 1.5 ms.
    }

    #[test]
    fn cdf_counts_sub_microsecond_latencies_in_the_first_bucket() {
        // 0 is recorded as 1 ns (clamped); 1000 ns is slot 506, before the
        // first level's slot 512.
        assert_eq!(cdf_of(&[0, 1000, 1000]), [(1, 3)]);
    }

    #[test]
    fn cdf_keys_follow_redis_highest_equivalent_values() {
        // One value at each level 2^k * 1024 ns: each level's slot is
        // 2^(k+3) wide there, so the key is (2^k·1024 + 2^(k+3) - 1) / 1000
        // (1, 2, 4, 8, 16, 33, 66, 132...; Redis's documentation shows 33).
        let values: Vec<u64> = (0..20).map(|k| 1024u64 << k).collect();
        let cdf = cdf_of(&values);
        let expected: Vec<(u64, u64)> = (0..20u64)
            .map(|k| (((1024u64 << k) + (8u64 << k) - 1) / 1000, k + 1))
            .collect();
        assert_eq!(cdf, expected);
        assert_eq!(
            &cdf[..7].iter().map(|p| p.0).collect::<Vec<_>>(),
            &[1, 2, 4, 8, 16, 33, 66]
        );
    }

    #[test]
    fn cdf_of_the_largest_value_ends_at_the_last_slot() {
        // 10^9 ns (the clamp) is in the last bucket (steps of 2^22); the
        // walk runs out of slots before reaching the level 2^30 and
        // reports the last slot, 1069547520..1073741823.
        assert_eq!(cdf_of(&[5000, u64::MAX]), [(8, 1), (1073741, 2)]);
        assert_eq!(cdf_of(&[]), []);
    }

    #[test]
    fn error_code_is_the_first_word_within_32_bytes() {
        let t = ErrorTable::default();
        t.count(b"-WRONGTYPE Operation against a key\r\n");
        t.count(b"-ERR syntax error\r\n");
        t.count(b"-ERR other\r\n");
        t.count(b"-ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ long code\r\n");
        let mut m = BTreeMap::new();
        t.add_to(&mut m);
        assert_eq!(m.get(&b"ERR"[..]), Some(&3));
        assert_eq!(m.get(&b"WRONGTYPE"[..]), Some(&1));
    }

    #[test]
    fn instantaneous_rate_is_the_mean_of_16_samples() {
        let mut m = Instantaneous::default();
        m.reset(1000, 0);
        m.track(1100, 100);
        // One sample of 1000/s, fifteen of 0.
        assert_eq!(m.get(), 1000 / 16);
    }
}
