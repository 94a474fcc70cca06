//! A sorted set (ZADD...): unique members ordered by `(score, member)`.
//!
//! Two encodings, as in Redis 7.0, reported by OBJECT ENCODING:
//!
//! * `listpack` ([`Pack`]): small sets live in one byte buffer of entries in
//!   order, `varint(member length) member score`, where the score is a zigzag
//!   varint when it is a small integer and a tagged `f64` otherwise. Lookups
//!   are linear scans (at most `zset-max-listpack-entries` of them, 128 by
//!   default), exactly as Redis's listpack; memory is about 19 bytes per
//!   16-byte member with an integer score.
//! * `skiplist` ([`Skip`]): Redis's skiplist with spans, over an arena of
//!   nodes addressed by `u32`, plus a chained hash index of the same nodes
//!   (member -> node, O(1) score lookups, Redis's reverse-binary cursor for
//!   ZSCAN). O(log n) insert, delete, rank and access by rank.
//!
//! A set starts as a listpack and converts one way to a skiplist when it
//! grows past the limits (the `zset-max-listpack-*` options, see [`Limits`]);
//! only whole-set builders ([`ZSet::from_sorted`], used by the STORE
//! commands) may pick the listpack for a result again, as Redis does.
//!
//! Redis's listpack keeps an integral score as an integer, so `-0` stored
//! in a listpack comes back as `0`; [`Pack`] normalises `-0` the same way
//! while a skiplist keeps the sign.
//!
//! Range queries follow Redis's two code paths: a listpack is scanned
//! linearly with the range predicates, a skiplist is searched by descent.
//! For score ranges (always monotone) both agree; for lexicographic ranges
//! over members with different scores (which Redis documents as
//! unspecified) each encoding behaves like its Redis counterpart.
//!
//! # Layout
//!
//! * `mod.rs` — [`ZSet`], its API and the choice between the encodings;
//!   [`Limits`], [`cmp_pair`], the [`Iter`] and [`Sampler`] over both.
//! * `listpack.rs` — [`Pack`], the compact encoding.
//! * `skiplist.rs` — [`Skip`], the skiplist + hash index encoding.

use std::cmp::Ordering;

use crate::util::num::double_to_i64_exact;
use crate::util::rand::rand_below;

mod listpack;
mod skiplist;

pub use listpack::Pack;
use listpack::{decode, encoded_len};
pub use skiplist::Skip;
use skiplist::{HEAD, NIL};

/// The encoding thresholds (`zset-max-listpack-entries`,
/// `zset-max-listpack-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most members a listpack-encoded set may hold.
    pub entries: usize,
    /// Longest member (bytes) a listpack-encoded set may hold.
    pub value: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            entries: 128,
            value: 64,
        }
    }
}

/// Orders `(score, member)` pairs as Redis does: by score, then by member
/// bytes. Scores are never NaN; `-0` equals `0`.
#[inline]
pub fn cmp_pair(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    match s1.partial_cmp(&s2) {
        Some(Ordering::Equal) | None => m1.cmp(m2),
        Some(o) => o,
    }
}

/// A sorted set (ZADD...): unique members ordered by score.
#[derive(Debug, Clone)]
pub struct ZSet {
    repr: Repr,
}

#[derive(Debug, Clone)]
enum Repr {
    Pack(Pack),
    Skip(Box<Skip>),
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet {
            repr: Repr::Pack(Pack::default()),
        }
    }
}

impl PartialEq for ZSet {
    /// Same members with the same scores (whatever the encodings).
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|((m1, s1), (m2, s2))| m1 == m2 && s1 == s2)
    }
}

impl ZSet {
    /// An empty listpack-encoded set.
    pub fn new() -> ZSet {
        ZSet::default()
    }

    /// An empty skiplist-encoded set.
    pub fn new_skiplist() -> ZSet {
        ZSet {
            repr: Repr::Skip(Box::new(Skip::new())),
        }
    }

    /// The empty set ZADD creates for a new key whose first member is
    /// `first_len` bytes long: a skiplist when the limits forbid a listpack
    /// from the start, as Redis's `zaddGenericCommand` decides.
    pub fn for_first_member(first_len: usize, limits: Limits) -> ZSet {
        if limits.entries == 0 || first_len > limits.value {
            ZSet::new_skiplist()
        } else {
            ZSet::new()
        }
    }

    /// Builds a set from pairs sorted by [`cmp_pair`] with unique members,
    /// in the encoding Redis gives a STORE result: a listpack when it has at
    /// most `limits.entries` members, none longer than `limits.value`.
    pub fn from_sorted(items: Vec<(Vec<u8>, f64)>, limits: Limits) -> ZSet {
        let max_len = items.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        if items.len() <= limits.entries && max_len <= limits.value {
            let mut p = Pack::default();
            let total: usize = items.iter().map(|(m, _)| m.len() + 11).sum();
            p.buf.reserve_exact(total);
            for (m, s) in &items {
                p.push_back(m, norm(*s));
            }
            p.buf.shrink_to_fit();
            ZSet {
                repr: Repr::Pack(p),
            }
        } else {
            let mut s = Skip::with_capacity(items.len());
            for (m, sc) in items {
                s.insert(m.into_boxed_slice(), sc);
            }
            ZSet {
                repr: Repr::Skip(Box::new(s)),
            }
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.len as usize,
            Repr::Skip(s) => s.len,
        }
    }

    /// True when empty (an empty container is removed from the keyspace).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name OBJECT ENCODING reports, as Redis 7.0 names it.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Pack(_) => "listpack",
            Repr::Skip(_) => "skiplist",
        }
    }

    /// True for the compact (listpack) encoding.
    pub fn is_listpack(&self) -> bool {
        matches!(self.repr, Repr::Pack(_))
    }

    /// Approximate heap bytes (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.buf.capacity(),
            Repr::Skip(s) => std::mem::size_of::<Skip>() + s.heap_size(),
        }
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Pack(p) => p.find(member).map(|f| f.score),
            Repr::Skip(s) => s.find(member).map(|x| s.score(x)),
        }
    }

    /// The 0-based rank of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.repr {
            Repr::Pack(p) => p.find(member).map(|f| f.rank),
            Repr::Skip(s) => s.find(member).map(|x| s.rank_of(x) - 1),
        }
    }

    /// Converts a listpack to the skiplist encoding, whatever its size
    /// (SORT does, as Redis's `zsetConvert`); a skiplist stays as it is.
    pub fn make_skiplist(&mut self) {
        if self.is_listpack() {
            self.convert_to_skiplist();
        }
    }

    /// Adds `member`, which must be absent, converting to a skiplist first
    /// when a listpack would break the limits (Redis's `zsetAdd`).
    pub fn insert(&mut self, member: &[u8], score: f64, limits: Limits) {
        debug_assert!(!score.is_nan());
        if let Repr::Pack(p) = &mut self.repr {
            if p.len as usize + 1 > limits.entries || member.len() > limits.value {
                self.convert_to_skiplist();
            }
        }
        match &mut self.repr {
            Repr::Pack(p) => p.insert(member, norm(score)),
            Repr::Skip(s) => {
                s.insert(member.into(), score);
            }
        }
    }

    /// Prepares a listpack for the `(score, member)` pairs a ZADD is about
    /// to add, so that its buffer grows once to the exact size (when they
    /// are all new) instead of once per member; pair it with
    /// [`ZSet::shrink_to_fit`].
    pub fn reserve<'m>(
        &mut self,
        pairs: impl Iterator<Item = (f64, &'m [u8])> + Clone,
        limits: Limits,
    ) {
        if let Repr::Pack(p) = &mut self.repr {
            let (mut n, mut bytes) = (0usize, 0usize);
            for (s, m) in pairs {
                if m.len() > limits.value {
                    return; // converts to a skiplist anyway
                }
                n += 1;
                bytes += encoded_len(m, norm(s));
            }
            if p.len as usize + n <= limits.entries {
                p.buf.reserve_exact(bytes);
            }
        }
    }

    /// Gives back a listpack's unused buffer capacity (after
    /// [`ZSet::reserve`] when some members already existed).
    pub fn shrink_to_fit(&mut self) {
        if let Repr::Pack(p) = &mut self.repr {
            if p.buf.capacity() > p.buf.len() {
                p.buf.shrink_to_fit();
            }
        }
    }

    /// Changes the score of `member`, which must be present, and returns
    /// the old score.
    pub fn update(&mut self, member: &[u8], score: f64) -> Option<f64> {
        debug_assert!(!score.is_nan());
        match &mut self.repr {
            Repr::Pack(p) => {
                let f = p.find(member)?;
                p.remove_at(f.off, f.end);
                p.insert(member, norm(score));
                Some(f.score)
            }
            Repr::Skip(s) => {
                let x = s.find(member)?;
                let old = s.score(x);
                s.update_score(x, score);
                Some(old)
            }
        }
    }

    /// Removes `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match &mut self.repr {
            Repr::Pack(p) => {
                let f = p.find(member)?;
                p.remove_at(f.off, f.end);
                Some(f.score)
            }
            Repr::Skip(s) => {
                let x = s.find(member)?;
                let score = s.score(x);
                s.delete(x);
                s.maybe_shrink();
                Some(score)
            }
        }
    }

    /// Removes and returns the lowest (`max == false`) or highest element.
    pub fn pop(&mut self, max: bool) -> Option<(Vec<u8>, f64)> {
        match &mut self.repr {
            Repr::Pack(p) => p.pop(max),
            Repr::Skip(s) => {
                if s.len == 0 {
                    return None;
                }
                let x = if max { s.tail } else { s.next(HEAD, 0) };
                let score = s.score(x);
                let member = s.delete(x);
                s.maybe_shrink();
                Some((member.into_vec(), score))
            }
        }
    }

    /// Removes the elements of ascending ranks `start..=end` (0-based, in
    /// bounds, `start <= end`); returns how many.
    pub fn remove_ranks(&mut self, start: usize, end: usize) -> usize {
        debug_assert!(start <= end && end < self.len());
        match &mut self.repr {
            Repr::Pack(p) => p.remove_ranks(start, end),
            Repr::Skip(s) => {
                let n = s.delete_rank_range(start + 1, end + 1);
                s.maybe_shrink();
                n
            }
        }
    }

    /// Every element in ascending order.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0, false)
    }

    /// The elements from ascending rank `rank` onwards: towards higher
    /// ranks, or towards lower ones when `rev`. Empty when out of range.
    pub fn iter_from(&self, rank: usize, rev: bool) -> Iter<'_> {
        let inner = if rank >= self.len() {
            IterInner::Done
        } else {
            match &self.repr {
                Repr::Pack(p) if !rev => IterInner::Pack {
                    buf: &p.buf,
                    off: p.offset_of_rank(rank),
                },
                Repr::Pack(p) => {
                    let mut offs = Vec::with_capacity(rank + 1);
                    let mut off = 0;
                    for _ in 0..=rank {
                        offs.push(off as u32);
                        off = p.entry(off).next;
                    }
                    IterInner::PackRev { buf: &p.buf, offs }
                }
                Repr::Skip(s) => IterInner::Skip {
                    sl: s,
                    x: s.by_rank(rank + 1),
                    rev,
                },
            }
        };
        Iter { inner }
    }

    /// The element of ascending rank `rank`.
    pub fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        self.iter_from(rank, false).next()
    }

    /// Redis's `*FirstInRange`: the ascending rank of the first element
    /// that satisfies `gte_min`, provided it also satisfies `lte_max`, and
    /// `None` when no element can be in the range (the last element fails
    /// `gte_min` or the first fails `lte_max`). The caller rejects ranges
    /// that are empty by construction (min above max) first.
    pub fn first_in_range(
        &self,
        gte_min: impl Fn(f64, &[u8]) -> bool,
        lte_max: impl Fn(f64, &[u8]) -> bool,
    ) -> Option<usize> {
        match &self.repr {
            Repr::Pack(p) => p.first_in_range(&gte_min, &lte_max),
            Repr::Skip(s) => s.first_in_range(&gte_min, &lte_max),
        }
    }

    /// The elements whose score is in `[min, max)`, in ascending order, as
    /// `(score, member handle)`: one seek to the first score `>= min`,
    /// then a forward walk (Redis's `geoGetPointsInRange`). A skiplist
    /// reads a member only when [`MemberRef::bytes`] asks for it, so
    /// callers that filter on the score touch no member memory.
    pub fn score_range(&self, min: f64, max: f64) -> ScoreRange<'_> {
        let inner = match &self.repr {
            Repr::Pack(p) => ScoreRangeInner::Pack {
                buf: &p.buf,
                off: 0,
                min,
            },
            Repr::Skip(s) => ScoreRangeInner::Skip {
                sl: s,
                x: s.first_score_at_least(min),
            },
        };
        ScoreRange { inner, max }
    }

    /// Redis's `*LastInRange`: the ascending rank of the last element that
    /// satisfies `lte_max`, provided it also satisfies `gte_min`.
    pub fn last_in_range(
        &self,
        gte_min: impl Fn(f64, &[u8]) -> bool,
        lte_max: impl Fn(f64, &[u8]) -> bool,
    ) -> Option<usize> {
        match &self.repr {
            Repr::Pack(p) => p.last_in_range(&gte_min, &lte_max),
            Repr::Skip(s) => s.last_in_range(&gte_min, &lte_max),
        }
    }

    /// The elements in a range as `(first rank, count)`: ZCOUNT and
    /// ZLEXCOUNT. A listpack counts forward from the first element while
    /// `lte_max` holds; a skiplist subtracts the ranks of the first and
    /// last elements in range (O(log n)), as Redis does.
    pub fn count_in_range(
        &self,
        gte_min: impl Fn(f64, &[u8]) -> bool,
        lte_max: impl Fn(f64, &[u8]) -> bool,
    ) -> usize {
        match &self.repr {
            Repr::Pack(_) => self.run_in_range(&gte_min, &lte_max).map_or(0, |r| r.1),
            Repr::Skip(s) => {
                let Some(first) = s.first_in_range(&gte_min, &lte_max) else {
                    return 0;
                };
                let mut count = s.len - first;
                if let Some(last) = s.last_in_range(&gte_min, &lte_max) {
                    count -= s.len - 1 - last;
                }
                count
            }
        }
    }

    /// Removes the elements in a range (ZREMRANGEBYSCORE/LEX): from the
    /// first element in range, forward while `lte_max` holds. Returns how
    /// many were removed.
    pub fn remove_in_range(
        &mut self,
        gte_min: impl Fn(f64, &[u8]) -> bool,
        lte_max: impl Fn(f64, &[u8]) -> bool,
    ) -> usize {
        match self.run_in_range(&gte_min, &lte_max) {
            Some((start, n)) if n > 0 => self.remove_ranks(start, start + n - 1),
            _ => 0,
        }
    }

    /// `(first rank, count)` of the run of elements in range, counted
    /// forward while `lte_max` holds.
    fn run_in_range(
        &self,
        gte_min: &dyn Fn(f64, &[u8]) -> bool,
        lte_max: &dyn Fn(f64, &[u8]) -> bool,
    ) -> Option<(usize, usize)> {
        let start = self.first_in_range(gte_min, lte_max)?;
        let n = self
            .iter_from(start, false)
            .take_while(|&(m, s)| lte_max(s, m))
            .count();
        Some((start, n))
    }

    /// A uniformly random element; `None` when empty.
    pub fn random(&self) -> Option<(&[u8], f64)> {
        if self.is_empty() {
            return None;
        }
        match &self.repr {
            Repr::Pack(_) => self.get(rand_below(self.len() as u64) as usize),
            Repr::Skip(s) => Some(s.pair_m(s.random_node())),
        }
    }

    /// Random access by rank in O(1) for repeated draws (ZRANDMEMBER with
    /// a count): a listpack's offsets are computed once.
    pub fn sampler(&self) -> Sampler<'_> {
        match &self.repr {
            Repr::Pack(p) => {
                let mut offs = Vec::with_capacity(p.len as usize);
                let mut off = 0;
                while off < p.buf.len() {
                    offs.push(off as u32);
                    off = p.entry(off).next;
                }
                Sampler::Pack { p, offs }
            }
            Repr::Skip(s) => Sampler::Skip(s),
        }
    }

    /// One step of ZSCAN from `cursor`: calls `f(member, score text)` for
    /// the elements visited and returns the next cursor (0 when done). A
    /// listpack returns everything at once with the scores as Redis's
    /// listpack holds them (integers as integers); a skiplist walks its hash
    /// index with Redis's reverse-binary cursor, at most `count` elements
    /// (and `10 * count` buckets) per call, with `%.17g` scores.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        let mut text = Vec::with_capacity(32);
        match &self.repr {
            Repr::Pack(p) => {
                for (m, s) in p.iter() {
                    text.clear();
                    match double_to_i64_exact(s) {
                        Some(i) => text.extend_from_slice(itoa::Buffer::new().format(i).as_bytes()),
                        None => crate::util::num::fmt_double(&mut text, s),
                    }
                    f(m, &text);
                }
                0
            }
            Repr::Skip(s) => s.scan(cursor, count, |m, sc| {
                text.clear();
                crate::util::num::fmt_double(&mut text, sc);
                f(m, &text);
            }),
        }
    }

    fn convert_to_skiplist(&mut self) {
        if let Repr::Pack(p) = &self.repr {
            let mut s = Skip::with_capacity(p.len as usize + 1);
            for (m, sc) in p.iter() {
                s.insert(m.into(), sc);
            }
            self.repr = Repr::Skip(Box::new(s));
        }
    }

    /// Checks the structure's invariants (tests).
    #[cfg(test)]
    fn check(&self) {
        match &self.repr {
            Repr::Pack(p) => p.check(),
            Repr::Skip(s) => s.check(),
        }
    }
}

/// `-0` becomes `0`, as a listpack stores an integral score as an integer.
#[inline]
fn norm(score: f64) -> f64 {
    if score == 0.0 {
        0.0
    } else {
        score
    }
}

/// Iterator over `(member, score)` pairs, see [`ZSet::iter_from`].
pub struct Iter<'a> {
    inner: IterInner<'a>,
}

enum IterInner<'a> {
    Done,
    Pack { buf: &'a [u8], off: usize },
    PackRev { buf: &'a [u8], offs: Vec<u32> },
    Skip { sl: &'a Skip, x: u32, rev: bool },
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            IterInner::Done => None,
            IterInner::Pack { buf, off } => {
                if *off >= buf.len() {
                    return None;
                }
                let e = decode(buf, *off);
                *off = e.next;
                Some((&buf[e.mstart..e.mend], e.score))
            }
            IterInner::PackRev { buf, offs } => {
                let off = offs.pop()? as usize;
                let e = decode(buf, off);
                Some((&buf[e.mstart..e.mend], e.score))
            }
            IterInner::Skip { sl, x, rev } => {
                if *x == NIL {
                    return None;
                }
                let r = *x;
                *x = if *rev { sl.back(r) } else { sl.next(r, 0) };
                Some(sl.pair_m(r))
            }
        }
    }
}

/// A member found by [`ZSet::score_range`], read on demand.
#[derive(Clone, Copy)]
pub struct MemberRef<'a>(MemberRefInner<'a>);

#[derive(Clone, Copy)]
enum MemberRefInner<'a> {
    Bytes(&'a [u8]),
    Skip(&'a Skip, u32),
}

impl<'a> MemberRef<'a> {
    /// The member's bytes.
    #[inline]
    pub fn bytes(self) -> &'a [u8] {
        match self.0 {
            MemberRefInner::Bytes(b) => b,
            MemberRefInner::Skip(sl, r) => sl.member_of(r),
        }
    }
}

/// Iterator over the elements of a score range, see [`ZSet::score_range`].
pub struct ScoreRange<'a> {
    inner: ScoreRangeInner<'a>,
    max: f64,
}

enum ScoreRangeInner<'a> {
    Pack { buf: &'a [u8], off: usize, min: f64 },
    Skip { sl: &'a Skip, x: u32 },
}

impl<'a> Iterator for ScoreRange<'a> {
    type Item = (f64, MemberRef<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            ScoreRangeInner::Pack { buf, off, min } => loop {
                if *off >= buf.len() {
                    return None;
                }
                let e = decode(buf, *off);
                *off = e.next;
                if e.score < *min {
                    continue;
                }
                if e.score >= self.max {
                    *off = buf.len();
                    return None;
                }
                let m = &buf[e.mstart..e.mend];
                return Some((e.score, MemberRef(MemberRefInner::Bytes(m))));
            },
            ScoreRangeInner::Skip { sl, x } => {
                if *x == NIL {
                    return None;
                }
                let r = *x;
                let s = sl.score(r);
                if s >= self.max {
                    *x = NIL;
                    return None;
                }
                *x = sl.next(r, 0);
                Some((s, MemberRef(MemberRefInner::Skip(sl, r))))
            }
        }
    }
}

/// Random access by rank, see [`ZSet::sampler`].
pub enum Sampler<'a> {
    /// A listpack and the offsets of its entries.
    #[doc(hidden)]
    Pack {
        /// The listpack.
        p: &'a Pack,
        /// Entry offsets.
        offs: Vec<u32>,
    },
    /// A skiplist.
    #[doc(hidden)]
    Skip(&'a Skip),
}

impl<'a> Sampler<'a> {
    /// The element of ascending rank `rank` (in bounds).
    pub fn at(&self, rank: usize) -> (&'a [u8], f64) {
        match self {
            Sampler::Pack { p, offs } => {
                let e = p.entry(offs[rank] as usize);
                (&p.buf[e.mstart..e.mend], e.score)
            }
            Sampler::Skip(s) => s.pair_m(s.by_rank(rank + 1)),
        }
    }

    /// A uniformly random element (the set must not be empty), in O(1)
    /// expected time for both encodings.
    pub fn pick(&self, len: usize) -> (&'a [u8], f64) {
        match self {
            Sampler::Pack { .. } => self.at(rand_below(len as u64) as usize),
            Sampler::Skip(s) => s.pair_m(s.random_node()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn small() -> Limits {
        Limits::default()
    }

    fn members(z: &ZSet) -> Vec<(Vec<u8>, f64)> {
        z.iter().map(|(m, s)| (m.to_vec(), s)).collect()
    }

    #[test]
    fn minus_zero_becomes_zero_in_a_listpack_only() {
        let mut z = ZSet::new();
        z.insert(b"m", -0.0, small());
        assert!(z.score(b"m").unwrap().is_sign_positive(), "-0 becomes 0");
        let mut z = ZSet::new_skiplist();
        z.insert(b"m", -0.0, small());
        assert!(
            z.score(b"m").unwrap().is_sign_negative(),
            "a skiplist keeps -0"
        );
    }

    #[test]
    fn converts_once_past_the_limits() {
        let limits = Limits {
            entries: 4,
            value: 8,
        };
        let mut z = ZSet::new();
        for i in 0..4 {
            z.insert(format!("m{i}").as_bytes(), i as f64, limits);
        }
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"m4", 4.0, limits);
        assert_eq!(z.encoding(), "skiplist");
        for i in 0..5 {
            z.remove(format!("m{i}").as_bytes());
        }
        assert!(z.is_empty());
        assert_eq!(z.encoding(), "skiplist", "no conversion back");
        let mut z = ZSet::new();
        z.insert(b"123456789", 1.0, limits);
        assert_eq!(z.encoding(), "skiplist", "long member");
    }

    #[test]
    fn score_range_walks_min_inclusive_max_exclusive_on_both_encodings() {
        for mut z in [ZSet::new(), ZSet::new_skiplist()] {
            for i in 0..100u32 {
                z.insert(format!("m{i}").as_bytes(), f64::from(i % 10), small());
            }
            for (min, max) in [
                (0.0, 10.0),
                (3.0, 5.0),
                (2.5, 2.9),
                (9.0, 100.0),
                (-5.0, 0.0),
                (4.0, 4.0),
            ] {
                let got: Vec<(f64, Vec<u8>)> = z
                    .score_range(min, max)
                    .map(|(s, m)| (s, m.bytes().to_vec()))
                    .collect();
                let want: Vec<(f64, Vec<u8>)> = z
                    .iter()
                    .filter(|&(_, s)| s >= min && s < max)
                    .map(|(m, s)| (s, m.to_vec()))
                    .collect();
                assert_eq!(got, want, "[{min}, {max}) on {}", z.encoding());
            }
        }
    }

    #[test]
    fn rank_and_ranges_on_both_encodings() {
        for mut z in [ZSet::new(), ZSet::new_skiplist()] {
            for (i, m) in ["e", "d", "c", "b", "a"].iter().enumerate() {
                z.insert(m.as_bytes(), (i / 2) as f64, small());
            }
            // (0,d) (0,e) (1,b) (1,c) (2,a)
            assert_eq!(z.rank(b"d"), Some(0));
            assert_eq!(z.rank(b"a"), Some(4));
            assert_eq!(z.get(2), Some((&b"b"[..], 1.0)));
            let ge1 = |s: f64, _: &[u8]| s >= 1.0;
            let le1 = |s: f64, _: &[u8]| s <= 1.0;
            assert_eq!(z.first_in_range(ge1, le1), Some(2));
            assert_eq!(z.last_in_range(ge1, le1), Some(3));
            assert_eq!(z.count_in_range(ge1, le1), 2);
            let rev: Vec<&[u8]> = z.iter_from(3, true).map(|(m, _)| m).collect();
            assert_eq!(rev, vec![&b"c"[..], b"b", b"e", b"d"]);
            assert_eq!(z.remove_in_range(ge1, le1), 2);
            assert_eq!(members(&z).len(), 3);
            z.check();
            assert_eq!(z.pop(true), Some((b"a".to_vec(), 2.0)));
            assert_eq!(z.pop(false), Some((b"d".to_vec(), 0.0)));
            z.check();
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, i8),
        Update(u8, i8),
        Remove(u8),
        Pop(bool),
        RemoveRanks(u8, u8),
        RemoveScores(i8, i8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<u8>(), any::<i8>()).prop_map(|(m, s)| Op::Insert(m, s)),
            2 => (any::<u8>(), any::<i8>()).prop_map(|(m, s)| Op::Update(m, s)),
            2 => any::<u8>().prop_map(Op::Remove),
            1 => any::<bool>().prop_map(Op::Pop),
            1 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::RemoveRanks(a, b)),
            1 => (any::<i8>(), any::<i8>()).prop_map(|(a, b)| Op::RemoveScores(a, b)),
        ]
    }

    /// The naive oracle: a sorted Vec.
    fn oracle_sort(v: &mut [(Vec<u8>, f64)]) {
        v.sort_by(|a, b| cmp_pair(a.1, &a.0, b.1, &b.0));
    }

    fn key(m: u8) -> Vec<u8> {
        // Members of varied lengths, some sharing prefixes.
        format!("{}{}", "x".repeat((m % 5) as usize), m / 3).into_bytes()
    }

    fn score(s: i8) -> f64 {
        // Few distinct scores so that ties (ordered by member) are common.
        (s / 16) as f64 * 0.5
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Every operation on both encodings matches a sorted Vec.
        #[test]
        fn matches_a_naive_oracle(ops in proptest::collection::vec(op(), 1..300), entries in 0usize..40) {
            let limits = Limits { entries, value: 3 };
            let mut z = ZSet::new();
            let mut o: Vec<(Vec<u8>, f64)> = Vec::new();
            for op in ops {
                match op {
                    Op::Insert(m, s) => {
                        let m = key(m);
                        if o.iter().all(|(x, _)| *x != m) {
                            z.insert(&m, score(s), limits);
                            o.push((m, norm_for(&z, score(s))));
                        }
                    }
                    Op::Update(m, s) => {
                        let m = key(m);
                        let sc = score(s);
                        let old = o.iter().position(|(x, _)| *x == m);
                        let norm_sc = norm_for(&z, sc);
                        prop_assert_eq!(z.update(&m, sc), old.map(|i| o[i].1));
                        if let Some(i) = old { o[i].1 = norm_sc; }
                    }
                    Op::Remove(m) => {
                        let m = key(m);
                        let old = o.iter().position(|(x, _)| *x == m);
                        prop_assert_eq!(z.remove(&m), old.map(|i| o.remove(i).1));
                    }
                    Op::Pop(max) => {
                        oracle_sort(&mut o);
                        let want = if max { o.pop() } else if o.is_empty() { None } else { Some(o.remove(0)) };
                        prop_assert_eq!(z.pop(max), want);
                    }
                    Op::RemoveRanks(a, b) => {
                        oracle_sort(&mut o);
                        let (a, b) = (a as usize, b as usize);
                        if a <= b && b < o.len() {
                            prop_assert_eq!(z.remove_ranks(a, b), b - a + 1);
                            o.drain(a..=b);
                        }
                    }
                    Op::RemoveScores(a, b) => {
                        let (lo, hi) = (score(a), score(b));
                        let n = o.len();
                        o.retain(|(_, s)| !(*s >= lo && *s <= hi));
                        let removed = if lo > hi { 0 } else {
                            z.remove_in_range(|s, _| s >= lo, |s, _| s <= hi)
                        };
                        prop_assert_eq!(removed, n - o.len());
                    }
                }
                z.check();
                oracle_sort(&mut o);
                prop_assert_eq!(z.len(), o.len());
            }
            // Whole-structure queries.
            prop_assert_eq!(members(&z), o.clone());
            for (i, (m, s)) in o.iter().enumerate() {
                prop_assert_eq!(z.rank(m), Some(i));
                prop_assert_eq!(z.score(m), Some(*s));
                prop_assert_eq!(z.get(i), Some((&m[..], *s)));
                let rev: Vec<(Vec<u8>, f64)> = z.iter_from(i, true).map(|(m, s)| (m.to_vec(), s)).collect();
                let want: Vec<(Vec<u8>, f64)> = o[..=i].iter().rev().cloned().collect();
                prop_assert_eq!(rev, want);
            }
            for lo in -4..=4 {
                for hi in -4..=4 {
                    let (lo, hi) = (lo as f64 * 0.5, hi as f64 * 0.5);
                    let inside: Vec<usize> = (0..o.len()).filter(|&i| o[i].1 >= lo && o[i].1 <= hi).collect();
                    let ge = |s: f64, _: &[u8]| s >= lo;
                    let le = |s: f64, _: &[u8]| s <= hi;
                    if lo <= hi {
                        prop_assert_eq!(z.first_in_range(ge, le), inside.first().copied());
                        prop_assert_eq!(z.last_in_range(ge, le), inside.last().copied());
                        prop_assert_eq!(z.count_in_range(ge, le), inside.len());
                    }
                }
            }
            let copy = ZSet::from_sorted(o.clone(), limits);
            prop_assert!(copy == z || o.iter().any(|(_, s)| *s == 0.0));
        }
    }

    /// The score the oracle expects after storing `s` in `z`'s encoding.
    fn norm_for(z: &ZSet, s: f64) -> f64 {
        if z.is_listpack() {
            norm(s)
        } else {
            s
        }
    }
}
