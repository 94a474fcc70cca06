//! A fixed-size log-linear latency histogram (HdrHistogram's layout, minus
//! the configuration): 32 sub-buckets per power of two, so any recorded value
//! is reported within 1/32 (3.1 %) of itself, in constant memory, with one
//! increment per sample.

/// Sub-buckets per power of two, as a power of two.
const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
/// Enough buckets for every `u64`.
const BUCKETS: usize = ((64 - SUB_BITS as usize) + 1) << SUB_BITS;

/// Counts of values (nanoseconds, in the benches) by log-linear bucket.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
        }
    }

    /// Records one value.
    #[inline]
    pub fn record(&mut self, value: u64) {
        self.counts[index(value)] += 1;
        self.total += 1;
    }

    /// How many values were recorded.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
    }

    /// The value at quantile `q` (0.0..=1.0): the midpoint of the bucket that
    /// holds the `ceil(q * len)`-th smallest value. `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (lo, width) = bucket(i);
                return Some(lo + width / 2);
            }
        }
        unreachable!("rank {rank} is at most the total {}", self.total)
    }
}

/// The bucket of `v`.
#[inline]
fn index(v: u64) -> usize {
    if v < SUB {
        v as usize
    } else {
        let top = 63 - v.leading_zeros(); // >= SUB_BITS
        let shift = top - SUB_BITS;
        let sub = (v >> shift) - SUB;
        (((shift + 1) as usize) << SUB_BITS) + sub as usize
    }
}

/// The lowest value of bucket `i` and the bucket's width.
fn bucket(i: usize) -> (u64, u64) {
    if (i as u64) < SUB {
        (i as u64, 1)
    } else {
        let shift = (i >> SUB_BITS) as u32 - 1;
        let sub = (i as u64) & (SUB - 1);
        ((SUB + sub) << shift, 1 << shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_lands_in_the_bucket_that_covers_it() {
        let mut probes: Vec<u64> = (0..5000).collect();
        for shift in 0..64 {
            let p = 1u64 << shift;
            probes.extend([p - 1, p, p + 1, p.wrapping_mul(3) / 2]);
        }
        probes.push(u64::MAX);
        for v in probes {
            let i = index(v);
            assert!(i < BUCKETS, "{v} -> {i}");
            let (lo, w) = bucket(i);
            assert!(
                lo <= v && v - lo < w,
                "{v} not in bucket {i} = [{lo}, +{w})"
            );
            // Relative width bounded by 1/32 above the exact range.
            assert!(v < SUB || w * SUB <= lo, "{v}: bucket too wide ({lo}, {w})");
        }
    }

    #[test]
    fn buckets_are_contiguous_and_increasing() {
        let mut next = 0u64;
        for i in 0..BUCKETS - 1 {
            let (lo, w) = bucket(i);
            assert_eq!(lo, next, "gap before bucket {i}");
            next = lo + w;
        }
    }

    #[test]
    fn quantiles_of_a_uniform_range_are_within_bucket_precision() {
        let mut h = Histogram::new();
        for v in 1..=100_000u64 {
            h.record(v * 1000);
        }
        for (q, exact) in [(0.5, 50_000_000f64), (0.99, 99_000_000f64)] {
            let got = h.quantile(q).unwrap() as f64;
            assert!(
                (got - exact).abs() / exact < 0.035,
                "q{q}: {got} vs {exact}"
            );
        }
        assert_eq!(h.len(), 100_000);
    }

    #[test]
    fn empty_histogram_has_no_quantiles_and_merge_adds_counts() {
        let mut a = Histogram::new();
        assert!(a.is_empty());
        assert_eq!(a.quantile(0.5), None);
        let mut b = Histogram::new();
        b.record(7);
        b.record(7);
        a.merge(&b);
        assert_eq!(a.len(), 2);
        assert_eq!(a.quantile(1.0), Some(7));
    }
}
