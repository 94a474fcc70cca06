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
use crate::util::varint;

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
fn encoded_len(member: &[u8], score: f64) -> usize {
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
fn decode(buf: &[u8], off: usize) -> Entry {
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
        varint::put(&mut e, member.len() as u64);
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
        varint::put(&mut self.buf, member.len() as u64);
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
// skiplist: Redis's skiplist with spans in a word pool, plus a hash index
// ---------------------------------------------------------------------------

const MAX_LEVEL: usize = 32;
const NIL: u32 = u32::MAX;
/// The header's record, always first in the pool.
const HEAD: u32 = 0;

// A node's record in the pool, in `u32` words. Score and links sit together
// (as in Redis's node) so that a step of a search costs one cache miss.
/// The score: two words, the f64's low bits first.
const R_SCORE: usize = 0;
/// The node's [`Meta`] index.
const R_ID: usize = 2;
/// Number of levels.
const R_HEIGHT: usize = 3;
/// The previous record at level 0 (NIL for the first); for a free record,
/// the next free record of the same height.
const R_BACK: usize = 4;
/// Then `(next record, span)` for each level.
const R_LEVELS: usize = 5;

#[inline]
fn rec_words(height: usize) -> usize {
    R_LEVELS + 2 * height
}

/// What a node keeps outside the pool: its member, where its record is, and
/// the next node of its hash chain.
#[derive(Debug, Clone)]
struct Meta {
    member: Box<[u8]>,
    /// The node's record (NIL for a free slot).
    rec: u32,
    /// Next id in the hash chain, or in the free list for a free slot.
    hnext: u32,
}

/// The big encoding: a skiplist with spans (links address records in
/// `pool`) and a chained hash index over node ids (indexes in `meta`).
#[derive(Debug, Clone)]
pub struct Skip {
    pool: Vec<u32>,
    /// Free records by height, chained through their `R_BACK` word.
    free_rec: [u32; MAX_LEVEL + 1],
    free_words: usize,
    meta: Vec<Meta>,
    /// First free id (chained through `hnext`).
    free_meta: u32,
    nfree_meta: usize,
    /// Bytes of all members (MEMORY USAGE in O(1)).
    member_bytes: usize,
    level: usize,
    len: usize,
    tail: u32,
    /// Hash index: heads of chains of ids, a power of two long (or empty).
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
        let head = rec_words(MAX_LEVEL);
        let mut pool = Vec::with_capacity(head + n * rec_words(2));
        pool.resize(head, 0);
        pool[R_ID] = NIL;
        pool[R_HEIGHT] = MAX_LEVEL as u32;
        pool[R_BACK] = NIL;
        for i in 0..MAX_LEVEL {
            pool[R_LEVELS + 2 * i] = NIL;
        }
        Skip {
            pool,
            free_rec: [NIL; MAX_LEVEL + 1],
            free_words: 0,
            meta: Vec::with_capacity(n),
            free_meta: NIL,
            nfree_meta: 0,
            member_bytes: 0,
            level: 1,
            len: 0,
            tail: NIL,
            buckets: Vec::new(),
        }
    }

    fn heap_size(&self) -> usize {
        self.pool.capacity() * 4
            + self.meta.capacity() * std::mem::size_of::<Meta>()
            + self.buckets.capacity() * 4
            + self.member_bytes
    }

    // --- record accessors

    #[inline]
    fn score(&self, r: u32) -> f64 {
        let r = r as usize + R_SCORE;
        f64::from_bits(u64::from(self.pool[r]) | (u64::from(self.pool[r + 1]) << 32))
    }

    #[inline]
    fn set_score(&mut self, r: u32, score: f64) {
        let bits = score.to_bits();
        let r = r as usize + R_SCORE;
        self.pool[r] = bits as u32;
        self.pool[r + 1] = (bits >> 32) as u32;
    }

    #[inline]
    fn id(&self, r: u32) -> u32 {
        self.pool[r as usize + R_ID]
    }

    #[inline]
    fn height(&self, r: u32) -> usize {
        self.pool[r as usize + R_HEIGHT] as usize
    }

    #[inline]
    fn back(&self, r: u32) -> u32 {
        self.pool[r as usize + R_BACK]
    }

    #[inline]
    fn set_back(&mut self, r: u32, back: u32) {
        self.pool[r as usize + R_BACK] = back;
    }

    #[inline]
    fn next(&self, r: u32, i: usize) -> u32 {
        self.pool[r as usize + R_LEVELS + 2 * i]
    }

    #[inline]
    fn span(&self, r: u32, i: usize) -> u32 {
        self.pool[r as usize + R_LEVELS + 2 * i + 1]
    }

    #[inline]
    fn set_link(&mut self, r: u32, i: usize, next: u32, span: u32) {
        let at = r as usize + R_LEVELS + 2 * i;
        self.pool[at] = next;
        self.pool[at + 1] = span;
    }

    #[inline]
    fn set_span(&mut self, r: u32, i: usize, span: u32) {
        self.pool[r as usize + R_LEVELS + 2 * i + 1] = span;
    }

    #[inline]
    fn member(&self, r: u32) -> &[u8] {
        &self.meta[self.id(r) as usize].member
    }

    #[inline]
    fn pair(&self, r: u32) -> (f64, &[u8]) {
        (self.score(r), self.member(r))
    }

    #[inline]
    fn pair_m(&self, r: u32) -> (&[u8], f64) {
        (self.member(r), self.score(r))
    }

    /// True when record `r` sorts before `(score, member)`.
    #[inline]
    fn lt(&self, r: u32, score: f64, member: &[u8]) -> bool {
        let s = self.score(r);
        s < score || (s == score && self.member(r) < member)
    }

    // --- allocation

    fn alloc_rec(&mut self, height: usize) -> u32 {
        let words = rec_words(height);
        let r = self.free_rec[height];
        if r != NIL {
            self.free_rec[height] = self.back(r);
            self.free_words -= words;
            return r;
        }
        let r = self.pool.len();
        if r + words > self.pool.capacity() {
            // Grow by a quarter: amortised O(1), at most 25% slack.
            self.pool.reserve_exact((r / 4).max(words).max(64));
        }
        self.pool.resize(r + words, 0);
        r as u32
    }

    fn release_rec(&mut self, r: u32) {
        let h = self.height(r);
        self.pool[r as usize + R_ID] = NIL;
        self.set_back(r, self.free_rec[h]);
        self.free_rec[h] = r;
        self.free_words += rec_words(h);
    }

    fn alloc_meta(&mut self, member: Box<[u8]>) -> u32 {
        self.member_bytes += member.len();
        let m = Meta {
            member,
            rec: NIL,
            hnext: NIL,
        };
        if self.free_meta != NIL {
            let id = self.free_meta;
            self.free_meta = self.meta[id as usize].hnext;
            self.nfree_meta -= 1;
            self.meta[id as usize] = m;
            id
        } else {
            if self.meta.len() == self.meta.capacity() {
                let extra = (self.meta.len() / 4).max(4);
                self.meta.reserve_exact(extra);
            }
            self.meta.push(m);
            (self.meta.len() - 1) as u32
        }
    }

    fn release_meta(&mut self, id: u32) -> Box<[u8]> {
        let free = self.free_meta;
        let m = &mut self.meta[id as usize];
        let member = std::mem::take(&mut m.member);
        m.rec = NIL;
        m.hnext = free;
        self.free_meta = id;
        self.nfree_meta += 1;
        self.member_bytes -= member.len();
        member
    }

    // --- the skiplist

    /// Inserts an absent member; returns its record.
    fn insert(&mut self, member: Box<[u8]>, score: f64) -> u32 {
        let id = self.alloc_meta(member);
        let r = self.link(id, score);
        self.hash_insert(id);
        r
    }

    /// Links a new record for node `id` into the skiplist (Redis's
    /// `zslInsert`).
    fn link(&mut self, id: u32, score: f64) -> u32 {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        {
            let member: &[u8] = &self.meta[id as usize].member;
            let mut x = HEAD;
            for i in (0..self.level).rev() {
                rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
                loop {
                    let next = self.next(x, i);
                    if next != NIL && self.lt(next, score, member) {
                        rank[i] += self.span(x, i);
                        x = next;
                    } else {
                        break;
                    }
                }
                update[i] = x;
            }
        }
        let height = random_level();
        if height > self.level {
            for i in self.level..height {
                rank[i] = 0;
                update[i] = HEAD;
                self.set_span(HEAD, i, self.len as u32);
            }
            self.level = height;
        }
        let r = self.alloc_rec(height);
        self.set_score(r, score);
        self.pool[r as usize + R_ID] = id;
        self.pool[r as usize + R_HEIGHT] = height as u32;
        for i in 0..height {
            let u = update[i];
            let crossed = rank[0] - rank[i];
            let (next, span) = (self.next(u, i), self.span(u, i));
            self.set_link(r, i, next, span - crossed);
            self.set_link(u, i, r, crossed + 1);
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(height) {
            let span = self.span(u, i);
            self.set_span(u, i, span + 1);
        }
        self.set_back(r, if update[0] == HEAD { NIL } else { update[0] });
        let next = self.next(r, 0);
        if next != NIL {
            self.set_back(next, r);
        } else {
            self.tail = r;
        }
        self.meta[id as usize].rec = r;
        self.len += 1;
        r
    }

    /// The update vector of record `r` (its predecessor at every level).
    fn update_for(&self, r: u32) -> [u32; MAX_LEVEL] {
        let (score, member) = self.pair(r);
        let mut update = [HEAD; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.next(x, i);
                if next != NIL && self.lt(next, score, member) {
                    x = next;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        update
    }

    /// Redis's `zslDeleteNode`: unlinks record `r` given its update vector
    /// and frees the record.
    fn unlink(&mut self, r: u32, update: &[u32; MAX_LEVEL]) {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            if self.next(u, i) == r {
                let span = self.span(u, i) - 1 + self.span(r, i);
                self.set_link(u, i, self.next(r, i), span);
            } else {
                let span = self.span(u, i);
                self.set_span(u, i, span - 1);
            }
        }
        let (next, back) = (self.next(r, 0), self.back(r));
        if next != NIL {
            self.set_back(next, back);
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.next(HEAD, self.level - 1) == NIL {
            self.level -= 1;
        }
        self.len -= 1;
        self.release_rec(r);
    }

    /// Removes record `r`'s node from both structures; returns its member.
    fn delete(&mut self, r: u32) -> Box<[u8]> {
        let update = self.update_for(r);
        debug_assert_eq!(self.next(update[0], 0), r);
        let id = self.id(r);
        self.unlink(r, &update);
        self.hash_remove(id);
        self.release_meta(id)
    }

    /// Changes record `r`'s score: in place when the order allows (Redis's
    /// `zslUpdateScore`), else by relinking the node under a new record.
    fn update_score(&mut self, r: u32, score: f64) {
        let (back, next) = (self.back(r), self.next(r, 0));
        let member = self.member(r);
        let after_back = back == NIL || self.lt(back, score, member);
        let before_next = next == NIL || {
            let (ns, nm) = self.pair(next);
            cmp_pair(score, member, ns, nm) == Ordering::Less
        };
        if after_back && before_next {
            self.set_score(r, score);
            return;
        }
        let id = self.id(r);
        let update = self.update_for(r);
        self.unlink(r, &update);
        self.link(id, score);
    }

    /// Removes ranks `start..=end` (1-based); returns how many
    /// (Redis's `zslDeleteRangeByRank`, O(log n + k)).
    fn delete_rank_range(&mut self, start: usize, end: usize) -> usize {
        let mut update = [HEAD; MAX_LEVEL];
        let mut traversed = 0usize;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.next(x, i);
                if next != NIL && traversed + (self.span(x, i) as usize) < start {
                    traversed += self.span(x, i) as usize;
                    x = next;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        traversed += 1;
        let mut x = self.next(x, 0);
        let mut removed = 0;
        while x != NIL && traversed <= end {
            let next = self.next(x, 0);
            let id = self.id(x);
            self.unlink(x, &update);
            self.hash_remove(id);
            self.release_meta(id);
            removed += 1;
            traversed += 1;
            x = next;
        }
        removed
    }

    /// The 1-based rank of record `r`.
    fn rank_of(&self, r: u32) -> usize {
        let (score, member) = self.pair(r);
        let mut rank = 0usize;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.next(x, i);
                if next != NIL && (next == r || self.lt(next, score, member)) {
                    rank += self.span(x, i) as usize;
                    x = next;
                    if x == r {
                        return rank;
                    }
                } else {
                    break;
                }
            }
        }
        rank
    }

    /// The record of 1-based rank `rank` (NIL when out of range).
    fn by_rank(&self, rank: usize) -> u32 {
        let mut traversed = 0usize;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.next(x, i);
                if next != NIL && traversed + (self.span(x, i) as usize) <= rank {
                    traversed += self.span(x, i) as usize;
                    x = next;
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
        let (hs, hm) = self.pair(self.next(HEAD, 0));
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
                let next = self.next(x, i);
                if next == NIL {
                    break;
                }
                let (s, m) = self.pair(next);
                if gte_min(s, m) {
                    break;
                }
                rank += self.span(x, i) as usize;
                x = next;
            }
        }
        let x = self.next(x, 0);
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
                let next = self.next(x, i);
                if next == NIL {
                    break;
                }
                let (s, m) = self.pair(next);
                if !lte_max(s, m) {
                    break;
                }
                rank += self.span(x, i) as usize;
                x = next;
            }
        }
        if x == HEAD {
            return None;
        }
        let (s, m) = self.pair(x);
        gte_min(s, m).then(|| rank - 1)
    }

    /// A uniformly random live node's record (the list is not empty): a
    /// random id, drawn again while it is free. Free ids are at most twice
    /// the live ones plus 64 (see [`Skip::maybe_shrink`]), so this takes
    /// O(1) expected draws.
    fn random_node(&self) -> u32 {
        loop {
            let id = rand_below(self.meta.len() as u64) as usize;
            let rec = self.meta[id].rec;
            if rec != NIL {
                return rec;
            }
        }
    }

    /// Rebuilds the structure when most of its pool or ids are free, and
    /// shrinks the hash index when it is mostly empty.
    fn maybe_shrink(&mut self) {
        let used_words = self.pool.len() - self.free_words;
        if (self.free_words > 1024 && self.free_words > 2 * used_words)
            || (self.nfree_meta > 64 && self.nfree_meta > 2 * self.len)
        {
            let mut fresh = Skip::with_capacity(self.len);
            let mut x = self.next(HEAD, 0);
            while x != NIL {
                let score = self.score(x);
                let id = self.id(x) as usize;
                let member = std::mem::take(&mut self.meta[id].member);
                x = self.next(x, 0);
                fresh.insert(member, score);
            }
            *self = fresh;
        }
        let nb = self.buckets.len();
        if nb > 4 && self.len * 10 < nb {
            self.rehash(self.len.next_power_of_two().max(4));
        }
    }

    // --- hash index (over ids)

    /// The record of `member`.
    fn find(&self, member: &[u8]) -> Option<u32> {
        if self.buckets.is_empty() {
            return None;
        }
        let mask = self.buckets.len() - 1;
        let mut id = self.buckets[(member_hash(member) as usize) & mask];
        while id != NIL {
            let m = &self.meta[id as usize];
            if *m.member == *member {
                return Some(m.rec);
            }
            id = m.hnext;
        }
        None
    }

    /// Indexes node `id`, already linked into the skiplist.
    fn hash_insert(&mut self, id: u32) {
        if self.len > self.buckets.len() {
            // Rebuilding indexes every live id, `id` included.
            self.rehash((self.buckets.len() * 2).max(4));
            return;
        }
        let mask = self.buckets.len() - 1;
        let b = (member_hash(&self.meta[id as usize].member) as usize) & mask;
        self.meta[id as usize].hnext = self.buckets[b];
        self.buckets[b] = id;
    }

    fn hash_remove(&mut self, id: u32) {
        let mask = self.buckets.len() - 1;
        let b = (member_hash(&self.meta[id as usize].member) as usize) & mask;
        let after = self.meta[id as usize].hnext;
        if self.buckets[b] == id {
            self.buckets[b] = after;
            return;
        }
        let mut y = self.buckets[b];
        while y != NIL {
            let next = self.meta[y as usize].hnext;
            if next == id {
                self.meta[y as usize].hnext = after;
                return;
            }
            y = next;
        }
        debug_assert!(false, "node {id} missing from its hash chain");
    }

    fn rehash(&mut self, size: usize) {
        let mut buckets = Vec::new();
        buckets.reserve_exact(size);
        buckets.resize(size, NIL);
        let mask = size - 1;
        // The side table in order, not the skiplist: no pointer chasing.
        for (id, m) in self.meta.iter_mut().enumerate() {
            if m.rec != NIL {
                let b = (member_hash(&m.member) as usize) & mask;
                m.hnext = buckets[b];
                buckets[b] = id as u32;
            }
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
            let mut id = self.buckets[(cursor & mask) as usize];
            while id != NIL {
                let m = &self.meta[id as usize];
                f(&m.member, self.score(m.rec));
                emitted += 1;
                id = m.hnext;
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
        let mut x = self.next(HEAD, 0);
        let mut prev = NIL;
        let mut n = 0;
        let mut live_words = rec_words(MAX_LEVEL);
        let mut rank_of = std::collections::HashMap::new();
        while x != NIL {
            assert_eq!(self.back(x), prev, "back link");
            if prev != NIL {
                let (ps, pm) = self.pair(prev);
                let (s, m) = self.pair(x);
                assert_eq!(cmp_pair(ps, pm, s, m), Ordering::Less, "skiplist order");
            }
            n += 1;
            rank_of.insert(x, n);
            live_words += rec_words(self.height(x));
            assert_eq!(self.meta[self.id(x) as usize].rec, x, "meta points back");
            assert_eq!(self.find(self.member(x)), Some(x), "hash index");
            prev = x;
            x = self.next(x, 0);
        }
        assert_eq!(n, self.len);
        assert_eq!(self.tail, prev);
        for i in 0..self.level {
            let mut y = HEAD;
            let mut r = 0usize;
            loop {
                let next = self.next(y, i);
                if next == NIL {
                    assert_eq!(
                        r + self.span(y, i) as usize,
                        self.len,
                        "null span at level {i}"
                    );
                    break;
                }
                r += self.span(y, i) as usize;
                assert_eq!(rank_of[&next], r, "span at level {i}");
                y = next;
            }
        }
        let chained: usize = (0..self.buckets.len())
            .map(|b| {
                let mut c = 0;
                let mut id = self.buckets[b];
                while id != NIL {
                    c += 1;
                    id = self.meta[id as usize].hnext;
                }
                c
            })
            .sum();
        assert_eq!(chained, self.len, "hash index size");
        assert_eq!(self.meta.len(), self.len + self.nfree_meta, "id accounting");
        let free = self.meta.iter().filter(|m| m.rec == NIL).count();
        assert_eq!(free, self.nfree_meta, "free ids are marked");
        assert_eq!(
            self.pool.len(),
            live_words + self.free_words,
            "pool accounting"
        );
        let bytes: usize = self.meta.iter().map(|m| m.member.len()).sum();
        assert_eq!(bytes, self.member_bytes, "member bytes");
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
