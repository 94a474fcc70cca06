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

use std::cmp::Ordering;

use crate::util::num::double_to_i64_exact;
use crate::util::rand::{rand_below, rand_u64};

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
            Repr::Skip(s) => s.find(member).map(|x| s.nodes[x as usize].score),
        }
    }

    /// The 0-based rank of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.repr {
            Repr::Pack(p) => p.find(member).map(|f| f.rank),
            Repr::Skip(s) => s.find(member).map(|x| s.rank_of(x) - 1),
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
                let old = s.nodes[x as usize].score;
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
                let score = s.nodes[x as usize].score;
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
                let x = if max { s.tail } else { s.nodes[0].l0.next };
                let score = s.nodes[x as usize].score;
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
                let n = &sl.nodes[*x as usize];
                *x = if *rev { n.back } else { n.l0.next };
                Some((&n.member, n.score))
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
            Sampler::Skip(s) => {
                let n = &s.nodes[s.by_rank(rank + 1) as usize];
                (&n.member, n.score)
            }
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

// ---------------------------------------------------------------------------
// listpack: one buffer of entries in order
// ---------------------------------------------------------------------------

/// The compact encoding: entries `varint(len) member score` in order.
#[derive(Debug, Clone, Default)]
pub struct Pack {
    buf: Vec<u8>,
    len: u32,
}

/// A decoded entry: member bytes at `mstart..mend`, the next entry at
/// `next`.
struct Entry {
    mstart: usize,
    mend: usize,
    score: f64,
    next: usize,
}

/// Where a member was found in a [`Pack`].
struct Found {
    off: usize,
    end: usize,
    rank: usize,
    score: f64,
}

/// Largest integer magnitude stored as an integer (exact in an f64).
const INT_SCORE_LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53

#[inline]
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[inline]
fn get_varint(buf: &[u8], mut off: usize) -> (u64, usize) {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = buf[off];
        off += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return (v, off);
        }
        shift += 7;
    }
}

/// Appends a score: `zigzag(i) << 1` as a varint for integers within 2^53
/// (low bit 0), else `0x01` and the 8 bytes of the f64.
fn put_score(out: &mut Vec<u8>, score: f64) {
    if score.fract() == 0.0 && score.abs() <= INT_SCORE_LIMIT {
        let i = score as i64;
        let zz = ((i << 1) ^ (i >> 63)) as u64;
        put_varint(out, zz << 1);
    } else {
        out.push(1);
        out.extend_from_slice(&score.to_le_bytes());
    }
}

/// Bytes of a varint.
#[inline]
fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Bytes of an encoded entry.
fn encoded_len(member: &[u8], score: f64) -> usize {
    let score_len = if score.fract() == 0.0 && score.abs() <= INT_SCORE_LIMIT {
        let i = score as i64;
        varint_len((((i << 1) ^ (i >> 63)) as u64) << 1)
    } else {
        9
    };
    varint_len(member.len() as u64) + member.len() + score_len
}

#[inline]
fn get_score(buf: &[u8], off: usize) -> (f64, usize) {
    if buf[off] & 1 == 1 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&buf[off + 1..off + 9]);
        (f64::from_le_bytes(b), off + 9)
    } else {
        let (v, next) = get_varint(buf, off);
        let zz = v >> 1;
        let i = ((zz >> 1) as i64) ^ -((zz & 1) as i64);
        (i as f64, next)
    }
}

#[inline]
fn decode(buf: &[u8], off: usize) -> Entry {
    let (mlen, mstart) = get_varint(buf, off);
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
    fn entry(&self, off: usize) -> Entry {
        decode(&self.buf, off)
    }

    fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> + '_ {
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

    fn find(&self, member: &[u8]) -> Option<Found> {
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

    fn offset_of_rank(&self, rank: usize) -> usize {
        let mut off = 0;
        for _ in 0..rank {
            off = self.entry(off).next;
        }
        off
    }

    fn encode(member: &[u8], score: f64) -> Vec<u8> {
        let mut e = Vec::with_capacity(member.len() + 12);
        put_varint(&mut e, member.len() as u64);
        e.extend_from_slice(member);
        put_score(&mut e, score);
        e
    }

    /// Inserts an absent member in order.
    fn insert(&mut self, member: &[u8], score: f64) {
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
    fn push_back(&mut self, member: &[u8], score: f64) {
        put_varint(&mut self.buf, member.len() as u64);
        self.buf.extend_from_slice(member);
        put_score(&mut self.buf, score);
        self.len += 1;
    }

    fn remove_at(&mut self, off: usize, end: usize) {
        self.buf.drain(off..end);
        self.len -= 1;
        self.maybe_shrink();
    }

    fn remove_ranks(&mut self, start: usize, end: usize) -> usize {
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

    fn pop(&mut self, max: bool) -> Option<(Vec<u8>, f64)> {
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

    fn first_in_range(
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

    fn last_in_range(
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
    fn check(&self) {
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

// ---------------------------------------------------------------------------
// skiplist: Redis's skiplist with spans over an arena, plus a hash index
// ---------------------------------------------------------------------------

const MAX_LEVEL: usize = 32;
const NIL: u32 = u32::MAX;
const HEAD: u32 = 0;

#[derive(Debug, Clone, Copy)]
struct Level {
    next: u32,
    /// Elements crossed by this link (for a null link: elements after the
    /// node).
    span: u32,
}

#[derive(Debug, Clone)]
struct Node {
    member: Box<[u8]>,
    score: f64,
    /// Previous node at level 0 (NIL for the first).
    back: u32,
    /// Next node in the hash chain, or in the free list for a free slot.
    hnext: u32,
    l0: Level,
    upper: Option<Box<[Level]>>,
}

/// The big encoding: a skiplist with spans and a hash index over one arena
/// of nodes. Node 0 is the header.
#[derive(Debug, Clone)]
pub struct Skip {
    nodes: Vec<Node>,
    /// First free slot (chained through `hnext`).
    free: u32,
    nfree: usize,
    level: usize,
    len: usize,
    tail: u32,
    /// Hash index: heads of chains, a power of two long (or empty).
    buckets: Vec<u32>,
}

fn random_level() -> usize {
    // P(level > k) = 4^-k, as Redis's ZSKIPLIST_P = 0.25.
    let r = rand_u64();
    (1 + (r.trailing_zeros() as usize) / 2).min(MAX_LEVEL)
}

#[inline]
fn member_hash(m: &[u8]) -> u64 {
    crate::db::hash_key(m)
}

impl Skip {
    fn new() -> Skip {
        Skip::with_capacity(0)
    }

    fn with_capacity(n: usize) -> Skip {
        let mut nodes = Vec::with_capacity(n + 1);
        nodes.push(Node {
            member: Box::default(),
            score: 0.0,
            back: NIL,
            hnext: NIL,
            l0: Level { next: NIL, span: 0 },
            upper: Some(vec![Level { next: NIL, span: 0 }; MAX_LEVEL - 1].into_boxed_slice()),
        });
        Skip {
            nodes,
            free: NIL,
            nfree: 0,
            level: 1,
            len: 0,
            tail: NIL,
            buckets: Vec::new(),
        }
    }

    fn heap_size(&self) -> usize {
        let mut n =
            self.nodes.capacity() * std::mem::size_of::<Node>() + self.buckets.capacity() * 4;
        for node in &self.nodes {
            n += node.member.len();
            if let Some(u) = &node.upper {
                n += u.len() * std::mem::size_of::<Level>();
            }
        }
        n
    }

    #[inline]
    fn lv(&self, x: u32, i: usize) -> Level {
        let n = &self.nodes[x as usize];
        if i == 0 {
            n.l0
        } else {
            n.upper
                .as_ref()
                .map_or(Level { next: NIL, span: 0 }, |u| u[i - 1])
        }
    }

    #[inline]
    fn lv_mut(&mut self, x: u32, i: usize) -> &mut Level {
        let n = &mut self.nodes[x as usize];
        if i == 0 {
            &mut n.l0
        } else {
            match &mut n.upper {
                Some(u) => &mut u[i - 1],
                None => unreachable!("level {i} above a node's height"),
            }
        }
    }

    /// True when node `x` sorts before `(score, member)`.
    #[inline]
    fn lt(&self, x: u32, score: f64, member: &[u8]) -> bool {
        let n = &self.nodes[x as usize];
        n.score < score || (n.score == score && *n.member < *member)
    }

    #[inline]
    fn pair(&self, x: u32) -> (f64, &[u8]) {
        let n = &self.nodes[x as usize];
        (n.score, &n.member)
    }

    #[inline]
    fn pair_m(&self, x: u32) -> (&[u8], f64) {
        let n = &self.nodes[x as usize];
        (&n.member, n.score)
    }

    /// A uniformly random live node (the list is not empty): a random
    /// arena slot, drawn again while it is free. Free slots are at most
    /// twice the live ones plus 64 (see [`Skip::maybe_shrink`]), so this
    /// takes O(1) expected draws.
    fn random_node(&self) -> u32 {
        loop {
            let x = 1 + rand_below((self.nodes.len() - 1) as u64) as u32;
            if !self.nodes[x as usize].score.is_nan() {
                return x;
            }
        }
    }

    fn alloc(&mut self, member: Box<[u8]>, score: f64, height: usize) -> u32 {
        let upper =
            (height > 1).then(|| vec![Level { next: NIL, span: 0 }; height - 1].into_boxed_slice());
        let node = Node {
            member,
            score,
            back: NIL,
            hnext: NIL,
            l0: Level { next: NIL, span: 0 },
            upper,
        };
        if self.free != NIL {
            let x = self.free;
            self.free = self.nodes[x as usize].hnext;
            self.nfree -= 1;
            self.nodes[x as usize] = node;
            x
        } else {
            if self.nodes.len() == self.nodes.capacity() {
                // Grow by a quarter: amortised O(1), at most 25% slack.
                let extra = (self.nodes.len() / 4).max(4);
                self.nodes.reserve_exact(extra);
            }
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        }
    }

    fn release(&mut self, x: u32) -> Box<[u8]> {
        let n = &mut self.nodes[x as usize];
        let member = std::mem::take(&mut n.member);
        // NaN marks a free slot: a live score never is.
        n.score = f64::NAN;
        n.upper = None;
        n.hnext = self.free;
        self.free = x;
        self.nfree += 1;
        member
    }

    /// Inserts an absent member; returns its node.
    fn insert(&mut self, member: Box<[u8]>, score: f64) -> u32 {
        let x = self.link(member, score);
        self.hash_insert(x);
        x
    }

    /// Links a new node into the skiplist only (Redis's `zslInsert`).
    fn link(&mut self, member: Box<[u8]>, score: f64) -> u32 {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let l = self.lv(x, i);
                if l.next != NIL && self.lt(l.next, score, &member) {
                    rank[i] += l.span;
                    x = l.next;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        let height = random_level();
        if height > self.level {
            for i in self.level..height {
                rank[i] = 0;
                update[i] = HEAD;
                self.lv_mut(HEAD, i).span = self.len as u32;
            }
            self.level = height;
        }
        let x = self.alloc(member, score, height);
        for i in 0..height {
            let u = update[i];
            let ul = self.lv(u, i);
            let crossed = rank[0] - rank[i];
            *self.lv_mut(x, i) = Level {
                next: ul.next,
                span: ul.span - crossed,
            };
            *self.lv_mut(u, i) = Level {
                next: x,
                span: crossed + 1,
            };
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(height) {
            self.lv_mut(u, i).span += 1;
        }
        self.nodes[x as usize].back = if update[0] == HEAD { NIL } else { update[0] };
        let next = self.nodes[x as usize].l0.next;
        if next != NIL {
            self.nodes[next as usize].back = x;
        } else {
            self.tail = x;
        }
        self.len += 1;
        x
    }

    /// The update vector for node `x` (its predecessor at every level).
    fn update_for(&self, x: u32) -> [u32; MAX_LEVEL] {
        let (score, member) = self.pair(x);
        let mut update = [HEAD; MAX_LEVEL];
        let mut y = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.lv(y, i).next;
                if next != NIL && self.lt(next, score, member) {
                    y = next;
                } else {
                    break;
                }
            }
            update[i] = y;
        }
        update
    }

    /// Redis's `zslDeleteNode`: unlinks `x` given its update vector.
    fn unlink(&mut self, x: u32, update: &[u32; MAX_LEVEL]) {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let ul = self.lv(u, i);
            if ul.next == x {
                let xl = self.lv(x, i);
                *self.lv_mut(u, i) = Level {
                    next: xl.next,
                    span: ul.span - 1 + xl.span,
                };
            } else {
                self.lv_mut(u, i).span -= 1;
            }
        }
        let (next, back) = (self.nodes[x as usize].l0.next, self.nodes[x as usize].back);
        if next != NIL {
            self.nodes[next as usize].back = back;
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.lv(HEAD, self.level - 1).next == NIL {
            self.level -= 1;
        }
        self.len -= 1;
    }

    /// Removes node `x` from both structures; returns its member.
    fn delete(&mut self, x: u32) -> Box<[u8]> {
        let update = self.update_for(x);
        debug_assert_eq!(self.lv(update[0], 0).next, x);
        self.unlink(x, &update);
        self.hash_remove(x);
        self.release(x)
    }

    /// Changes node `x`'s score, in place when the order allows (Redis's
    /// `zslUpdateScore`), else by relinking; the hash index is unchanged.
    fn update_score(&mut self, x: u32, score: f64) {
        let n = &self.nodes[x as usize];
        let (back, next) = (n.back, n.l0.next);
        let member = &n.member;
        let after_back = back == NIL || self.lt(back, score, member);
        let before_next = next == NIL || {
            let m = &self.nodes[next as usize];
            cmp_pair(score, member, m.score, &m.member) == Ordering::Less
        };
        if after_back && before_next {
            self.nodes[x as usize].score = score;
            return;
        }
        // Relink: unlink, then insert the same member into a fresh node and
        // move it into slot x so that the hash index stays valid.
        let update = self.update_for(x);
        self.unlink(x, &update);
        let member = std::mem::take(&mut self.nodes[x as usize].member);
        let hnext = self.nodes[x as usize].hnext;
        self.nodes[x as usize].upper = None;
        // Park slot x on the free list so `link` reuses exactly it.
        let saved_free = self.free;
        self.free = x;
        self.nodes[x as usize].hnext = NIL;
        self.nfree += 1;
        let y = self.link(member, score);
        debug_assert_eq!(y, x);
        self.free = saved_free;
        self.nodes[x as usize].hnext = hnext;
    }

    /// Removes ranks `start..=end` (1-based); returns how many
    /// (Redis's `zslDeleteRangeByRank`, O(log n + k)).
    fn delete_rank_range(&mut self, start: usize, end: usize) -> usize {
        let mut update = [HEAD; MAX_LEVEL];
        let mut traversed = 0usize;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.next != NIL && traversed + (l.span as usize) < start {
                    traversed += l.span as usize;
                    x = l.next;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        traversed += 1;
        let mut x = self.lv(x, 0).next;
        let mut removed = 0;
        while x != NIL && traversed <= end {
            let next = self.nodes[x as usize].l0.next;
            self.unlink(x, &update);
            self.hash_remove(x);
            self.release(x);
            removed += 1;
            traversed += 1;
            x = next;
        }
        removed
    }

    /// The 1-based rank of node `x`.
    fn rank_of(&self, x: u32) -> usize {
        let (score, member) = self.pair(x);
        let mut rank = 0usize;
        let mut y = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(y, i);
                if l.next != NIL && (l.next == x || self.lt(l.next, score, member)) {
                    rank += l.span as usize;
                    y = l.next;
                    if y == x {
                        return rank;
                    }
                } else {
                    break;
                }
            }
        }
        rank
    }

    /// The node of 1-based rank `rank` (NIL when out of range).
    fn by_rank(&self, rank: usize) -> u32 {
        let mut traversed = 0usize;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.next != NIL && traversed + (l.span as usize) <= rank {
                    traversed += l.span as usize;
                    x = l.next;
                } else {
                    break;
                }
            }
            if traversed == rank {
                return if x == HEAD { NIL } else { x };
            }
        }
        NIL
    }

    fn in_range_bounds(
        &self,
        gte_min: &dyn Fn(f64, &[u8]) -> bool,
        lte_max: &dyn Fn(f64, &[u8]) -> bool,
    ) -> bool {
        if self.len == 0 {
            return false;
        }
        let (ts, tm) = self.pair(self.tail);
        let (hs, hm) = self.pair(self.nodes[0].l0.next);
        gte_min(ts, tm) && lte_max(hs, hm)
    }

    fn first_in_range(
        &self,
        gte_min: &dyn Fn(f64, &[u8]) -> bool,
        lte_max: &dyn Fn(f64, &[u8]) -> bool,
    ) -> Option<usize> {
        if !self.in_range_bounds(gte_min, lte_max) {
            return None;
        }
        let mut x = HEAD;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.next == NIL {
                    break;
                }
                let (s, m) = self.pair(l.next);
                if gte_min(s, m) {
                    break;
                }
                rank += l.span as usize;
                x = l.next;
            }
        }
        let x = self.lv(x, 0).next;
        if x == NIL {
            return None;
        }
        let (s, m) = self.pair(x);
        lte_max(s, m).then_some(rank)
    }

    fn last_in_range(
        &self,
        gte_min: &dyn Fn(f64, &[u8]) -> bool,
        lte_max: &dyn Fn(f64, &[u8]) -> bool,
    ) -> Option<usize> {
        if !self.in_range_bounds(gte_min, lte_max) {
            return None;
        }
        let mut x = HEAD;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.next == NIL {
                    break;
                }
                let (s, m) = self.pair(l.next);
                if !lte_max(s, m) {
                    break;
                }
                rank += l.span as usize;
                x = l.next;
            }
        }
        if x == HEAD {
            return None;
        }
        let (s, m) = self.pair(x);
        gte_min(s, m).then(|| rank - 1)
    }

    /// Rebuilds the arena when most of it is free slots.
    fn maybe_shrink(&mut self) {
        if self.nfree > 64 && self.nfree > 2 * self.len {
            let mut fresh = Skip::with_capacity(self.len);
            let mut x = self.nodes[0].l0.next;
            while x != NIL {
                let n = &mut self.nodes[x as usize];
                let member = std::mem::take(&mut n.member);
                let score = n.score;
                x = n.l0.next;
                fresh.insert(member, score);
            }
            *self = fresh;
        }
        let nb = self.buckets.len();
        if nb > 4 && self.len * 10 < nb {
            self.rehash(self.len.next_power_of_two().max(4));
        }
    }

    // --- hash index ---

    fn find(&self, member: &[u8]) -> Option<u32> {
        if self.buckets.is_empty() {
            return None;
        }
        let mask = self.buckets.len() - 1;
        let mut x = self.buckets[(member_hash(member) as usize) & mask];
        while x != NIL {
            let n = &self.nodes[x as usize];
            if *n.member == *member {
                return Some(x);
            }
            x = n.hnext;
        }
        None
    }

    /// Indexes node `x`, already linked into the skiplist.
    fn hash_insert(&mut self, x: u32) {
        if self.len > self.buckets.len() {
            // Rebuilding walks the skiplist, which already holds `x`.
            self.rehash((self.buckets.len() * 2).max(4));
            return;
        }
        let mask = self.buckets.len() - 1;
        let b = (member_hash(&self.nodes[x as usize].member) as usize) & mask;
        self.nodes[x as usize].hnext = self.buckets[b];
        self.buckets[b] = x;
    }

    fn hash_remove(&mut self, x: u32) {
        let mask = self.buckets.len() - 1;
        let b = (member_hash(&self.nodes[x as usize].member) as usize) & mask;
        let after = self.nodes[x as usize].hnext;
        if self.buckets[b] == x {
            self.buckets[b] = after;
            return;
        }
        let mut y = self.buckets[b];
        while y != NIL {
            let next = self.nodes[y as usize].hnext;
            if next == x {
                self.nodes[y as usize].hnext = after;
                return;
            }
            y = next;
        }
        debug_assert!(false, "node {x} missing from its hash chain");
    }

    fn rehash(&mut self, size: usize) {
        let mut buckets = Vec::new();
        buckets.reserve_exact(size);
        buckets.resize(size, NIL);
        let mask = size - 1;
        let mut x = self.nodes[0].l0.next;
        while x != NIL {
            let b = (member_hash(&self.nodes[x as usize].member) as usize) & mask;
            self.nodes[x as usize].hnext = buckets[b];
            buckets[b] = x;
            x = self.nodes[x as usize].l0.next;
        }
        self.buckets = buckets;
    }

    /// Redis's `dictScan` on a single table, repeated as ZSCAN does: until
    /// `count` elements were emitted, the cursor wraps to 0, or `10 * count`
    /// buckets were visited.
    fn scan(&self, mut cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = (self.buckets.len() - 1) as u64;
        let mut emitted = 0usize;
        let mut budget = count.saturating_mul(20);
        loop {
            let mut x = self.buckets[(cursor & mask) as usize];
            while x != NIL {
                let n = &self.nodes[x as usize];
                f(&n.member, n.score);
                emitted += 1;
                x = n.hnext;
            }
            cursor |= !mask;
            cursor = cursor.reverse_bits().wrapping_add(1).reverse_bits();
            if cursor == 0 || budget == 0 || emitted >= count {
                return cursor;
            }
            budget -= 1;
        }
    }

    #[cfg(test)]
    fn check(&self) {
        // Level 0 is ordered and doubly linked; spans add up to ranks.
        let mut x = self.nodes[0].l0.next;
        let mut prev = NIL;
        let mut n = 0;
        let mut rank_of = std::collections::HashMap::new();
        while x != NIL {
            assert_eq!(self.nodes[x as usize].back, prev, "back link");
            if prev != NIL {
                let (ps, pm) = self.pair(prev);
                let (s, m) = self.pair(x);
                assert_eq!(cmp_pair(ps, pm, s, m), Ordering::Less, "skiplist order");
            }
            n += 1;
            rank_of.insert(x, n);
            assert_eq!(
                self.find(&self.nodes[x as usize].member),
                Some(x),
                "hash index"
            );
            prev = x;
            x = self.nodes[x as usize].l0.next;
        }
        assert_eq!(n, self.len);
        assert_eq!(self.tail, prev);
        for i in 0..self.level {
            let mut y = HEAD;
            let mut r = 0usize;
            loop {
                let l = self.lv(y, i);
                if l.next == NIL {
                    assert_eq!(r + l.span as usize, self.len, "null span at level {i}");
                    break;
                }
                r += l.span as usize;
                assert_eq!(rank_of[&l.next], r, "span at level {i}");
                y = l.next;
            }
        }
        let chained: usize = (0..self.buckets.len())
            .map(|b| {
                let mut c = 0;
                let mut x = self.buckets[b];
                while x != NIL {
                    c += 1;
                    x = self.nodes[x as usize].hnext;
                }
                c
            })
            .sum();
        assert_eq!(chained, self.len, "hash index size");
        assert_eq!(
            self.nodes.len() - 1,
            self.len + self.nfree,
            "arena accounting"
        );
        let marked = self.nodes[1..].iter().filter(|n| n.score.is_nan()).count();
        assert_eq!(marked, self.nfree, "free slots are marked");
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

    #[test]
    fn skiplist_scan_visits_everything_across_resizes() {
        let mut z = ZSet::new_skiplist();
        for i in 0..1000 {
            z.insert(format!("m{i}").as_bytes(), i as f64, small());
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut rounds = 0;
        loop {
            cursor = z.scan(cursor, 10, |m, _| {
                seen.insert(m.to_vec());
            });
            rounds += 1;
            if rounds == 20 {
                // Shrink the table mid-scan: survivors must still be seen.
                for i in 0..950 {
                    if i % 7 != 0 {
                        z.remove(format!("m{i}").as_bytes());
                    }
                }
            }
            if cursor == 0 || rounds > 10_000 {
                break;
            }
        }
        for (m, _) in z.iter() {
            assert!(seen.contains(m), "{:?} missed", String::from_utf8_lossy(m));
        }
    }

    #[test]
    fn random_draws_only_live_members_and_all_of_them() {
        let mut z = ZSet::new_skiplist();
        for i in 0..300 {
            z.insert(format!("m{i}").as_bytes(), i as f64, small());
        }
        for i in 0..300 {
            if i % 10 != 0 {
                z.remove(format!("m{i}").as_bytes());
            }
        }
        z.check();
        let mut seen = std::collections::HashSet::new();
        let sampler = z.sampler();
        for _ in 0..2000 {
            let (m, s) = sampler.pick(z.len());
            assert_eq!(z.score(m), Some(s));
            seen.insert(m.to_vec());
            let (m, _) = z.random().unwrap();
            assert!(z.score(m).is_some());
        }
        assert_eq!(seen.len(), 30, "every live member is drawn");
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
