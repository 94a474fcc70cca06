//! The `listpack` encoding of a sorted set ([`Pack`]): one byte buffer of
//! entries in `(score, member)` order, scanned linearly as Redis scans its
//! listpack.
//!
//! # Format
//!
//! ```text
//! entry    varint(member length) member score
//! score    varint(zigzag(i) << 1)       an integer i with |i| <= 2^53 (low bit 0)
//!          0x01, 8 bytes little-endian  any other f64
//! ```
//!
//! Varints are [`crate::util::varint`]'s LEB128. An integral score is kept
//! as an integer, so `-0` comes back as `0` (the caller normalises it
//! first, as Redis's listpack does).

use std::cmp::Ordering;

use super::cmp_pair;
use crate::util::varint;

/// The compact encoding: entries `varint(len) member score` in order.
#[derive(Debug, Clone, Default)]
pub struct Pack {
    pub(super) buf: Vec<u8>,
    pub(super) len: u32,
}

/// A decoded entry: member bytes at `mstart..mend`, the next entry at
/// `next`.
pub(super) struct Entry {
    pub(super) mstart: usize,
    pub(super) mend: usize,
    pub(super) score: f64,
    pub(super) next: usize,
}

/// Where a member was found in a [`Pack`].
pub(super) struct Found {
    pub(super) off: usize,
    pub(super) end: usize,
    pub(super) rank: usize,
    pub(super) score: f64,
}

/// Largest integer magnitude stored as an integer (exact in an f64).
const INT_SCORE_LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53

/// Appends a score: `zigzag(i) << 1` as a varint for integers within 2^53
/// (low bit 0), else `0x01` and the 8 bytes of the f64.
fn put_score(out: &mut Vec<u8>, score: f64) {
    if score.fract() == 0.0 && score.abs() <= INT_SCORE_LIMIT {
        let i = score as i64;
        let zz = ((i << 1) ^ (i >> 63)) as u64;
        varint::put(out, zz << 1);
    } else {
        out.push(1);
        out.extend_from_slice(&score.to_le_bytes());
    }
}

/// Bytes of an encoded entry.
pub(super) fn encoded_len(member: &[u8], score: f64) -> usize {
    let score_len = if score.fract() == 0.0 && score.abs() <= INT_SCORE_LIMIT {
        let i = score as i64;
        varint::len((((i << 1) ^ (i >> 63)) as u64) << 1)
    } else {
        9
    };
    varint::len(member.len() as u64) + member.len() + score_len
}

#[inline]
fn get_score(buf: &[u8], off: usize) -> (f64, usize) {
    if buf[off] & 1 == 1 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&buf[off + 1..off + 9]);
        (f64::from_le_bytes(b), off + 9)
    } else {
        let (v, next) = varint::get(buf, off);
        let zz = v >> 1;
        let i = ((zz >> 1) as i64) ^ -((zz & 1) as i64);
        (i as f64, next)
    }
}

#[inline]
pub(super) fn decode(buf: &[u8], off: usize) -> Entry {
    let (mlen, mstart) = varint::get(buf, off);
    let mend = mstart + mlen as usize;
    let (score, next) = get_score(buf, mend);
    Entry {
        mstart,
        mend,
        score,
        next,
    }
}

impl Pack {
    #[inline]
    pub(super) fn entry(&self, off: usize) -> Entry {
        decode(&self.buf, off)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        let mut off = 0;
        std::iter::from_fn(move || {
            if off >= self.buf.len() {
                return None;
            }
            let e = self.entry(off);
            off = e.next;
            Some((&self.buf[e.mstart..e.mend], e.score))
        })
    }

    pub(super) fn find(&self, member: &[u8]) -> Option<Found> {
        let mut off = 0;
        let mut rank = 0;
        while off < self.buf.len() {
            let e = self.entry(off);
            if &self.buf[e.mstart..e.mend] == member {
                return Some(Found {
                    off,
                    end: e.next,
                    rank,
                    score: e.score,
                });
            }
            off = e.next;
            rank += 1;
        }
        None
    }

    pub(super) fn offset_of_rank(&self, rank: usize) -> usize {
        let mut off = 0;
        for _ in 0..rank {
            off = self.entry(off).next;
        }
        off
    }

    fn encode(member: &[u8], score: f64) -> Vec<u8> {
        let mut e = Vec::with_capacity(member.len() + 12);
        varint::put(&mut e, member.len() as u64);
        e.extend_from_slice(member);
        put_score(&mut e, score);
        e
    }

    /// Inserts an absent member in order.
    pub(super) fn insert(&mut self, member: &[u8], score: f64) {
        let mut off = 0;
        while off < self.buf.len() {
            let e = self.entry(off);
            if cmp_pair(e.score, &self.buf[e.mstart..e.mend], score, member) == Ordering::Greater {
                break;
            }
            off = e.next;
        }
        let enc = Pack::encode(member, score);
        self.buf.reserve_exact(enc.len());
        self.buf.splice(off..off, enc);
        self.len += 1;
    }

    /// Appends an entry known to sort after every other one.
    pub(super) fn push_back(&mut self, member: &[u8], score: f64) {
        varint::put(&mut self.buf, member.len() as u64);
        self.buf.extend_from_slice(member);
        put_score(&mut self.buf, score);
        self.len += 1;
    }

    pub(super) fn remove_at(&mut self, off: usize, end: usize) {
        self.buf.drain(off..end);
        self.len -= 1;
        self.maybe_shrink();
    }

    pub(super) fn remove_ranks(&mut self, start: usize, end: usize) -> usize {
        let from = self.offset_of_rank(start);
        let mut to = from;
        for _ in start..=end {
            to = self.entry(to).next;
        }
        self.buf.drain(from..to);
        let n = end - start + 1;
        self.len -= n as u32;
        self.maybe_shrink();
        n
    }

    fn maybe_shrink(&mut self) {
        if self.buf.capacity() > 2 * self.buf.len() + 64 {
            self.buf.shrink_to_fit();
        }
    }

    pub(super) fn pop(&mut self, max: bool) -> Option<(Vec<u8>, f64)> {
        if self.len == 0 {
            return None;
        }
        let mut off = 0;
        if max {
            loop {
                let next = self.entry(off).next;
                if next >= self.buf.len() {
                    break;
                }
                off = next;
            }
        }
        let e = self.entry(off);
        let member = self.buf[e.mstart..e.mend].to_vec();
        self.remove_at(off, e.next);
        Some((member, e.score))
    }

    /// The last entry's offset and the first's (the set is not empty).
    fn in_range_bounds(
        &self,
        gte_min: &dyn Fn(f64, &[u8]) -> bool,
        lte_max: &dyn Fn(f64, &[u8]) -> bool,
    ) -> bool {
        if self.len == 0 {
            return false;
        }
        let first = self.entry(0);
        let last = self.entry(self.offset_of_rank(self.len as usize - 1));
        gte_min(last.score, &self.buf[last.mstart..last.mend])
            && lte_max(first.score, &self.buf[first.mstart..first.mend])
    }

    pub(super) fn first_in_range(
        &self,
        gte_min: &dyn Fn(f64, &[u8]) -> bool,
        lte_max: &dyn Fn(f64, &[u8]) -> bool,
    ) -> Option<usize> {
        if !self.in_range_bounds(gte_min, lte_max) {
            return None;
        }
        for (rank, (m, s)) in self.iter().enumerate() {
            if gte_min(s, m) {
                return lte_max(s, m).then_some(rank);
            }
        }
        None
    }

    pub(super) fn last_in_range(
        &self,
        gte_min: &dyn Fn(f64, &[u8]) -> bool,
        lte_max: &dyn Fn(f64, &[u8]) -> bool,
    ) -> Option<usize> {
        if !self.in_range_bounds(gte_min, lte_max) {
            return None;
        }
        let items: Vec<(&[u8], f64)> = self.iter().collect();
        for (rank, &(m, s)) in items.iter().enumerate().rev() {
            if lte_max(s, m) {
                return gte_min(s, m).then_some(rank);
            }
        }
        None
    }

    #[cfg(test)]
    pub(super) fn check(&self) {
        let items: Vec<(&[u8], f64)> = self.iter().collect();
        assert_eq!(items.len(), self.len as usize);
        for w in items.windows(2) {
            assert_eq!(
                cmp_pair(w[0].1, w[0].0, w[1].1, w[1].0),
                Ordering::Less,
                "listpack out of order"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_round_trip_through_the_listpack() {
        for s in [
            0.0,
            1.0,
            -1.0,
            63.0,
            -64.0,
            1e15,
            -(2f64.powi(53)),
            2f64.powi(53) + 2.0,
            1.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE / 4.0,
            1e300,
        ] {
            let mut buf = Vec::new();
            put_score(&mut buf, s);
            assert_eq!(get_score(&buf, 0), (s, buf.len()), "{s}");
        }
        for (m, s) in [
            (&b""[..], 0.0),
            (b"abc", 31.0),
            (b"abc", -33.0),
            (&[7u8; 200][..], 1e9),
            (b"x", 0.5),
        ] {
            assert_eq!(encoded_len(m, s), Pack::encode(m, s).len(), "{s}");
        }
    }

    #[test]
    fn listpack_entries_have_their_exact_bytes() {
        let cases: &[(&[u8], f64, &[u8])] = &[
            // varint(2) "ab", then zigzag(3) << 1 = 12.
            (b"ab", 3.0, &[0x02, b'a', b'b', 0x0c]),
            (b"", -1.0, &[0x00, 0x02]),
            (b"m", 100.0, &[0x01, b'm', 0x90, 0x03]),
            (b"m", 1.5, &[0x01, b'm', 0x01, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f]),
        ];
        for &(m, s, want) in cases {
            assert_eq!(Pack::encode(m, s), want, "{s}");
        }
        let long = [b'y'; 200];
        let mut want = vec![0xc8, 0x01];
        want.extend_from_slice(&long);
        want.push(0x00);
        assert_eq!(Pack::encode(&long, 0.0), want);
    }
}
