//! A set (SADD...): unique members.
//!
//! Three representations; OBJECT ENCODING reports what Redis 7.0 would:
//!
//! * **intset** (`intset`) — every member a canonical 64-bit integer and at
//!   most `set-max-intset-entries` of them: a sorted array searched by
//!   bisection, like Redis's intset (so SMEMBERS order matches it), stored as
//!   offsets from the smallest member at the narrowest width that holds them
//!   (8 to 64 bits: see [`IntSet`]).
//! * **pack** (`hashtable`) — a small set of strings (at most
//!   [`PACK_ENTRIES`] members of at most [`PACK_VALUE`] bytes) in a
//!   [`Pack`]: packed strings scanned linearly (bounded, as Redis 7.2's
//!   listpack sets). Redis 7.0 has no compact string sets and reports these
//!   as `hashtable`, and so do we: the difference is only memory, 1–2 bytes
//!   per member instead of a table entry of ~60.
//! * **table** (`hashtable`) — a [`Dict`] of members: O(1) membership and
//!   Redis's cursor-stable SSCAN.
//!
//! Conversions go one way, as in Redis: intset -> pack or table, pack ->
//! table. A set becomes an intset only when it is built from scratch
//! ([`Set::from_members`], as SINTERSTORE or SPOP's rebuild do).

use crate::types::hash::{partial_shuffle, Pack, Table};
use crate::util::num::parse_i64;
use crate::util::rand::rand_below;

/// Most members a string set keeps in the compact encoding.
pub const PACK_ENTRIES: usize = 128;
/// Longest member (bytes) a string set keeps in the compact encoding.
pub const PACK_VALUE: usize = 64;

/// A set (SADD...): unique members.
#[derive(Debug, Clone, Default)]
pub struct Set {
    repr: Repr,
}

#[derive(Debug)]
enum Repr {
    Ints(IntSet),
    Pack(Pack),
    Table(Table<()>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Ints(IntSet::default())
    }
}

impl Clone for Repr {
    fn clone(&self) -> Self {
        match self {
            Repr::Ints(i) => Repr::Ints(i.clone()),
            Repr::Pack(p) => Repr::Pack(p.clone()),
            Repr::Table(d) => Repr::Table(d.clone()),
        }
    }
}

impl PartialEq for Set {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|m| other.contains_member(m))
    }
}

/// A member as stored: an integer of an intset, or bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member<'a> {
    /// A member of an intset.
    Int(i64),
    /// A member of a string set.
    Str(&'a [u8]),
}

impl Member<'_> {
    /// The member's bytes (integers formatted as Redis does).
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            Member::Int(n) => itoa::Buffer::new().format(n).as_bytes().to_vec(),
            Member::Str(s) => s.to_vec(),
        }
    }

    /// An owned copy.
    pub fn to_owned(self) -> OwnedMember {
        match self {
            Member::Int(n) => OwnedMember::Int(n),
            Member::Str(s) => OwnedMember::Str(s.into()),
        }
    }
}

/// An owned [`Member`], for results computed across several sets.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OwnedMember {
    /// An integer (from an intset).
    Int(i64),
    /// Bytes.
    Str(Box<[u8]>),
}

impl OwnedMember {
    /// Borrows it as a [`Member`].
    pub fn as_member(&self) -> Member<'_> {
        match self {
            OwnedMember::Int(n) => Member::Int(*n),
            OwnedMember::Str(s) => Member::Str(s),
        }
    }
}

/// The encoding limit of sets (Redis's `set-max-intset-entries`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most members an intset holds.
    pub intset_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            intset_entries: 512,
        }
    }
}

impl Set {
    /// An empty set suited to hold `first` (Redis's `setTypeCreate`): an
    /// intset when it is an integer.
    pub fn for_member(first: &[u8]) -> Set {
        let repr = if parse_i64(first).is_some() {
            Repr::Ints(IntSet::default())
        } else if first.len() <= PACK_VALUE {
            Repr::Pack(Pack::default())
        } else {
            Repr::Table(Table::default())
        };
        Set { repr }
    }

    /// A set of `members` built as Redis builds one from scratch (first
    /// member decides the start encoding, then each is added).
    pub fn from_members<'a>(members: impl IntoIterator<Item = Member<'a>>, limits: Limits) -> Set {
        let mut s = Set::default();
        for m in members {
            s.add_member(m, limits);
        }
        s
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Ints(i) => i.len(),
            Repr::Pack(p) => p.len(),
            Repr::Table(d) => d.len(),
        }
    }

    /// True when empty (an empty container is removed from the keyspace).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name OBJECT ENCODING reports, as Redis 7.0 names it.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Ints(_) => "intset",
            Repr::Pack(_) | Repr::Table(_) => "hashtable",
        }
    }

    /// True for an intset, whose members iterate in ascending order.
    pub fn is_intset(&self) -> bool {
        matches!(self.repr, Repr::Ints(_))
    }

    /// True for the representations that SSCAN returns whole (intset and
    /// pack).
    fn is_compact(&self) -> bool {
        !matches!(self.repr, Repr::Table(_))
    }

    /// Approximate heap bytes (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Ints(i) => i.heap_size(),
            Repr::Pack(p) => p.heap_size(),
            Repr::Table(d) => d.heap_size(),
        }
    }

    /// True when `m` is a member.
    pub fn contains(&self, m: &[u8]) -> bool {
        match &self.repr {
            Repr::Ints(i) => parse_i64(m).is_some_and(|n| i.contains(n)),
            Repr::Pack(p) => p.contains(m),
            Repr::Table(d) => d.get(m).is_some(),
        }
    }

    /// True when `m` is a member.
    pub fn contains_member(&self, m: Member<'_>) -> bool {
        match (m, &self.repr) {
            (Member::Int(n), Repr::Ints(i)) => i.contains(n),
            (Member::Int(n), _) => self.contains(itoa::Buffer::new().format(n).as_bytes()),
            (Member::Str(s), _) => self.contains(s),
        }
    }

    /// Adds `m`; true when it was not a member (Redis's `setTypeAdd`).
    pub fn add(&mut self, m: &[u8], limits: Limits) -> bool {
        match parse_i64(m) {
            Some(n) if self.is_intset() => self.add_member(Member::Int(n), limits),
            _ => self.add_member(Member::Str(m), limits),
        }
    }

    /// Adds `m`; true when it was not a member.
    pub fn add_member(&mut self, m: Member<'_>, limits: Limits) -> bool {
        if let Repr::Ints(i) = &mut self.repr {
            let n = match m {
                Member::Int(n) => Some(n),
                Member::Str(s) => parse_i64(s),
            };
            match n {
                Some(n) => {
                    if !i.insert(n) {
                        return false;
                    }
                    if i.len() > limits.intset_entries {
                        self.convert_to_strings(0, 0);
                    }
                    return true;
                }
                None => {
                    let len = match m {
                        Member::Str(s) => s.len(),
                        Member::Int(_) => 0,
                    };
                    self.convert_to_strings(1, len);
                }
            }
        }
        let mut scratch = itoa::Buffer::new();
        let bytes = match m {
            Member::Int(n) => scratch.format(n).as_bytes(),
            Member::Str(s) => s,
        };
        match &mut self.repr {
            Repr::Ints(_) => unreachable!("converted above"),
            Repr::Pack(p) => {
                if p.contains(bytes) {
                    return false;
                }
                if p.len() < PACK_ENTRIES && bytes.len() <= PACK_VALUE {
                    p.push(bytes);
                    return true;
                }
                self.convert_to_table();
                self.add_member(Member::Str(bytes), limits)
            }
            Repr::Table(d) => {
                if d.get(bytes).is_some() {
                    return false;
                }
                d.insert_new(bytes, ());
                true
            }
        }
    }

    /// Leaves the intset encoding for one that holds strings, with room for
    /// `more` members up to `longest` bytes: a pack if they fit, else a table.
    fn convert_to_strings(&mut self, more: usize, longest: usize) {
        let Repr::Ints(i) = &self.repr else {
            return;
        };
        let mut buf = itoa::Buffer::new();
        if i.len() + more <= PACK_ENTRIES && longest <= PACK_VALUE {
            let mut p = Pack::with_capacity(i.len() * 8);
            for n in i.iter() {
                p.push(buf.format(n).as_bytes());
            }
            self.repr = Repr::Pack(p);
        } else {
            let mut d = Table::default();
            for n in i.iter() {
                d.insert_new(buf.format(n).as_bytes(), ());
            }
            self.repr = Repr::Table(d);
        }
    }

    fn convert_to_table(&mut self) {
        if let Repr::Pack(p) = &self.repr {
            let mut d = Table::default();
            for m in p.iter() {
                d.insert_new(m, ());
            }
            self.repr = Repr::Table(d);
        }
    }

    /// Removes `m`; true when it was a member.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Ints(i) => parse_i64(m).is_some_and(|n| i.remove(n)),
            Repr::Pack(p) => p.remove(m),
            Repr::Table(d) => d.remove(m),
        }
    }

    /// Removes `m`; true when it was a member.
    pub fn remove_member(&mut self, m: Member<'_>) -> bool {
        match (m, &mut self.repr) {
            (Member::Int(n), Repr::Ints(i)) => i.remove(n),
            (Member::Int(n), _) => self.remove(itoa::Buffer::new().format(n).as_bytes()),
            (Member::Str(s), _) => self.remove(s),
        }
    }

    /// The members: ascending for an intset, insertion order for a pack,
    /// table order otherwise.
    pub fn iter(&self) -> SetIter<'_> {
        match &self.repr {
            Repr::Ints(i) => SetIter::Ints(i, 0),
            Repr::Pack(p) => SetIter::Pack(p.iter()),
            Repr::Table(d) => SetIter::Table(d.iter()),
        }
    }

    /// A member picked uniformly at random; `None` when empty.
    pub fn random(&self) -> Option<OwnedMember> {
        if self.is_empty() {
            return None;
        }
        Some(match &self.repr {
            Repr::Ints(i) => OwnedMember::Int(i.get(rand_below(i.len() as u64) as usize)),
            Repr::Pack(p) => OwnedMember::Str(p.get(rand_below(p.len() as u64) as usize)?.into()),
            Repr::Table(d) => OwnedMember::Str(d.random(|n| Box::from(&*n.key))?),
        })
    }

    /// Removes a member picked uniformly at random and returns it.
    pub fn pop(&mut self) -> Option<OwnedMember> {
        if self.is_empty() {
            return None;
        }
        Some(match &mut self.repr {
            Repr::Ints(i) => OwnedMember::Int(i.take(rand_below(i.len() as u64) as usize)),
            Repr::Pack(p) => OwnedMember::Str(p.take(rand_below(p.len() as u64) as usize)?.into()),
            Repr::Table(d) => {
                let key: Box<[u8]> = d.random(|n| Box::from(&*n.key))?;
                d.remove(&key);
                OwnedMember::Str(key)
            }
        })
    }

    /// Calls `f` on `count` members picked uniformly at random, repeats
    /// allowed (SRANDMEMBER with a negative count). A pack is indexed once,
    /// so this is O(len + count), not O(len * count).
    pub fn random_repeated(&self, count: u64, mut f: impl FnMut(Member<'_>)) {
        match &self.repr {
            Repr::Pack(p) => {
                let all: Vec<&[u8]> = p.iter().collect();
                if all.is_empty() {
                    return;
                }
                for _ in 0..count {
                    f(Member::Str(all[rand_below(all.len() as u64) as usize]));
                }
            }
            _ => {
                for _ in 0..count {
                    if let Some(m) = self.random() {
                        f(m.as_member());
                    }
                }
            }
        }
    }

    /// `count` distinct members picked at random (`count` < len): a partial
    /// shuffle when `count` is a good part of the set or the set is compact,
    /// repeated random picks otherwise.
    pub fn random_distinct(&self, count: usize) -> Vec<OwnedMember> {
        if count.saturating_mul(3) > self.len() || self.is_compact() {
            let mut all: Vec<Member<'_>> = self.iter().collect();
            partial_shuffle(&mut all, count);
            return all[..count.min(all.len())]
                .iter()
                .map(|m| Member::to_owned(*m))
                .collect();
        }
        let mut seen = std::collections::HashSet::with_capacity(count);
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            let Some(m) = self.random() else {
                break;
            };
            if seen.insert(m.clone()) {
                out.push(m);
            }
        }
        out
    }

    /// One SSCAN step: calls `f` for the members the cursor covers and
    /// returns the next cursor (0 when done). Compact sets are returned whole
    /// with cursor 0, as Redis does for an intset; a table is walked with
    /// Redis's reverse-binary cursor, at most `count` members or `10 * count`
    /// buckets per call.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(Member<'_>)) -> u64 {
        match &self.repr {
            Repr::Ints(_) | Repr::Pack(_) => {
                for m in self.iter() {
                    f(m);
                }
                0
            }
            Repr::Table(d) => d.scan_count(cursor, count, 1, |n| f(Member::Str(&n.key))),
        }
    }
}

/// Iterator over a set's members.
pub enum SetIter<'a> {
    /// Over an intset, by position.
    Ints(&'a IntSet, usize),
    /// Over a pack.
    Pack(crate::types::hash::PackIter<'a>),
    /// Over a table.
    Table(crate::dict::Iter<'a, ()>),
}

impl<'a> Iterator for SetIter<'a> {
    type Item = Member<'a>;

    fn next(&mut self) -> Option<Member<'a>> {
        match self {
            SetIter::Ints(i, pos) => {
                if *pos >= i.len() {
                    return None;
                }
                *pos += 1;
                Some(Member::Int(i.get(*pos - 1)))
            }
            SetIter::Pack(it) => it.next().map(Member::Str),
            SetIter::Table(it) => it.next().map(|n| Member::Str(&n.key)),
        }
    }
}

// ---------------------------------------------------------------------------
// IntSet

/// A sorted set of distinct integers, stored as offsets from a base value
/// at the narrowest width that holds the largest offset (8, 16, 32 or 64
/// bits). Like Redis's intset it is a sorted array searched by bisection
/// that widens and never narrows; the base (frame of reference) is what
/// Redis lacks: members that sit close together (IDs, counters) take one or
/// two bytes each whatever their magnitude, where Redis needs four or eight.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IntSet {
    /// The value offset 0 stands for (at most the smallest member).
    base: i64,
    offsets: Offsets,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Offsets {
    W8(Vec<u8>),
    W16(Vec<u16>),
    W32(Vec<u32>),
    W64(Vec<u64>),
}

impl Default for Offsets {
    fn default() -> Self {
        Offsets::W8(Vec::new())
    }
}

/// An offset width.
trait Off: Copy + Ord + Into<u64> + TryFrom<u64> {}
impl Off for u8 {}
impl Off for u16 {}
impl Off for u32 {}
impl Off for u64 {}

/// Makes room for one more element: exactly (Redis reallocs per insert;
/// the allocator's geometric size classes keep that amortized linear), by
/// an eighth past 4096 elements (beyond the default limit of 512).
fn grow<T>(v: &mut Vec<T>) {
    if v.len() == v.capacity() {
        let slack = if v.len() >= 4096 { v.len() / 8 } else { 0 };
        v.reserve_exact(1 + slack);
    }
}

fn find<T: Off>(v: &[T], off: u64) -> Option<usize> {
    let x = T::try_from(off).ok()?;
    v.binary_search(&x).ok()
}

/// Inserts `off` (which fits `T`) in order; false if present.
fn insert_sorted<T: Off>(v: &mut Vec<T>, off: u64) -> bool {
    let Ok(x) = T::try_from(off) else {
        return false;
    };
    match v.binary_search(&x) {
        Ok(_) => false,
        Err(pos) => {
            grow(v);
            v.insert(pos, x);
            true
        }
    }
}

fn remove_at<T>(v: &mut Vec<T>, pos: usize) {
    v.remove(pos);
    let cap = v.capacity();
    if cap - v.len() > cap / 4 + 4 {
        v.shrink_to_fit();
    }
}

/// `v` with `delta` added to every element, converted to `U`.
fn shifted<T: Off, U: Off>(v: &[T], delta: u64, extra: usize) -> Vec<U> {
    let mut out = Vec::with_capacity(v.len() + extra);
    out.extend(
        v.iter()
            .filter_map(|&x| U::try_from(Into::<u64>::into(x) + delta).ok()),
    );
    debug_assert_eq!(out.len(), v.len(), "the width was chosen to fit");
    out
}

/// Width rank of an offset: 0 for 8 bits ... 3 for 64.
fn rank_of(off: u64) -> u8 {
    match off {
        0..=0xff => 0,
        0x100..=0xffff => 1,
        0x1_0000..=0xffff_ffff => 2,
        _ => 3,
    }
}

impl Offsets {
    fn len(&self) -> usize {
        match self {
            Offsets::W8(v) => v.len(),
            Offsets::W16(v) => v.len(),
            Offsets::W32(v) => v.len(),
            Offsets::W64(v) => v.len(),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Offsets::W8(_) => 0,
            Offsets::W16(_) => 1,
            Offsets::W32(_) => 2,
            Offsets::W64(_) => 3,
        }
    }

    fn get(&self, i: usize) -> u64 {
        match self {
            Offsets::W8(v) => v[i].into(),
            Offsets::W16(v) => v[i].into(),
            Offsets::W32(v) => v[i].into(),
            Offsets::W64(v) => v[i],
        }
    }

    fn find(&self, off: u64) -> Option<usize> {
        match self {
            Offsets::W8(v) => find(v, off),
            Offsets::W16(v) => find(v, off),
            Offsets::W32(v) => find(v, off),
            Offsets::W64(v) => find(v, off),
        }
    }

    /// Every offset plus `delta`, at width `rank` (at least the current
    /// one), with room for `extra` more.
    fn rebuilt(&self, delta: u64, rank: u8, extra: usize) -> Offsets {
        fn to<U: Off>(o: &Offsets, delta: u64, extra: usize) -> Vec<U> {
            match o {
                Offsets::W8(v) => shifted(v, delta, extra),
                Offsets::W16(v) => shifted(v, delta, extra),
                Offsets::W32(v) => shifted(v, delta, extra),
                Offsets::W64(v) => shifted(v, delta, extra),
            }
        }
        match rank.max(self.rank()) {
            0 => Offsets::W8(to(self, delta, extra)),
            1 => Offsets::W16(to(self, delta, extra)),
            2 => Offsets::W32(to(self, delta, extra)),
            _ => Offsets::W64(to(self, delta, extra)),
        }
    }

    fn insert(&mut self, off: u64) -> bool {
        match self {
            Offsets::W8(v) => insert_sorted(v, off),
            Offsets::W16(v) => insert_sorted(v, off),
            Offsets::W32(v) => insert_sorted(v, off),
            Offsets::W64(v) => insert_sorted(v, off),
        }
    }

    fn remove_at(&mut self, pos: usize) {
        match self {
            Offsets::W8(v) => remove_at(v, pos),
            Offsets::W16(v) => remove_at(v, pos),
            Offsets::W32(v) => remove_at(v, pos),
            Offsets::W64(v) => remove_at(v, pos),
        }
    }

    fn heap_size(&self) -> usize {
        match self {
            Offsets::W8(v) => v.capacity(),
            Offsets::W16(v) => v.capacity() * 2,
            Offsets::W32(v) => v.capacity() * 4,
            Offsets::W64(v) => v.capacity() * 8,
        }
    }
}

impl IntSet {
    /// Number of members.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes allocated.
    pub fn heap_size(&self) -> usize {
        self.offsets.heap_size()
    }

    /// Bytes per member (1, 2, 4 or 8).
    pub fn width(&self) -> usize {
        1 << self.offsets.rank()
    }

    /// The offset of `n` from the base, if `n` is not below it.
    fn offset(&self, n: i64) -> Option<u64> {
        (n >= self.base).then(|| (n as u64).wrapping_sub(self.base as u64))
    }

    /// The member at position `i` (ascending order).
    pub fn get(&self, i: usize) -> i64 {
        (self.base as u64).wrapping_add(self.offsets.get(i)) as i64
    }

    /// The members in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// True when `n` is a member.
    pub fn contains(&self, n: i64) -> bool {
        self.offset(n).and_then(|o| self.offsets.find(o)).is_some()
    }

    /// Adds `n`; true when new. Widens the offsets when `n` needs it, and
    /// moves the base down to `n` when `n` is below it.
    pub fn insert(&mut self, n: i64) -> bool {
        if self.is_empty() {
            self.base = n;
            return self.offsets.insert(0);
        }
        match self.offset(n) {
            Some(off) => {
                let rank = rank_of(off);
                if rank > self.offsets.rank() {
                    // Larger than every member: it goes last.
                    self.offsets = self.offsets.rebuilt(0, rank, 1);
                }
                self.offsets.insert(off)
            }
            None => {
                // Below the base: every offset grows by the distance.
                let delta = (self.base as u64).wrapping_sub(n as u64);
                let max = self.offsets.get(self.len() - 1) + delta;
                self.offsets = self.offsets.rebuilt(delta, rank_of(max), 1);
                self.base = n;
                self.offsets.insert(0)
            }
        }
    }

    /// Removes `n`; true when it was a member.
    pub fn remove(&mut self, n: i64) -> bool {
        match self.offset(n).and_then(|o| self.offsets.find(o)) {
            Some(pos) => {
                self.offsets.remove_at(pos);
                true
            }
            None => false,
        }
    }

    /// Removes the member at position `i` and returns it.
    pub fn take(&mut self, i: usize) -> i64 {
        let n = self.get(i);
        self.offsets.remove_at(i);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn strs(s: &Set) -> BTreeSet<Vec<u8>> {
        s.iter().map(|m| m.to_vec()).collect()
    }

    #[test]
    fn intset_widens_and_stays_sorted() {
        let mut i = IntSet::default();
        for n in [5, -3, 40000, 1, i64::MIN, i64::MAX, 0] {
            assert!(i.insert(n));
        }
        assert!(!i.insert(40000));
        assert_eq!(i.width(), 8);
        let v: Vec<i64> = i.iter().collect();
        assert_eq!(v, vec![i64::MIN, -3, 0, 1, 5, 40000, i64::MAX]);
        assert!(i.remove(i64::MIN));
        assert!(!i.contains(i64::MIN));
        assert!(i.contains(40000));
    }

    #[test]
    fn encodings_follow_redis_rules() {
        let l = Limits { intset_entries: 4 };
        let mut s = Set::for_member(b"1");
        for m in ["1", "2", "3", "4"] {
            s.add(m.as_bytes(), l);
        }
        assert_eq!(s.encoding(), "intset");
        s.add(b"5", l);
        assert_eq!(s.encoding(), "hashtable");
        s.remove(b"5");
        s.add(b"6", l);
        assert_eq!(s.encoding(), "hashtable", "never back to intset");

        let mut s = Set::for_member(b"1");
        s.add(b"1", l);
        s.add(b"-0", l);
        assert_eq!(s.encoding(), "hashtable", "-0 is not an integer");
        assert!(s.contains(b"1"));
        assert!(!s.contains(b"0"));

        let s = Set::from_members([Member::Str(b"7"), Member::Int(3)], l);
        assert_eq!(s.encoding(), "intset");
        let v: Vec<Vec<u8>> = s.iter().map(|m| m.to_vec()).collect();
        assert_eq!(v, vec![b"3".to_vec(), b"7".to_vec()]);
    }

    #[test]
    fn pack_becomes_table_past_its_limits() {
        let l = Limits::default();
        let mut s = Set::for_member(b"a");
        for i in 0..PACK_ENTRIES {
            s.add(format!("m{i}").as_bytes(), l);
        }
        assert!(matches!(s.repr, Repr::Pack(_)));
        s.add(b"one more", l);
        assert!(matches!(s.repr, Repr::Table(_)));
        let mut s = Set::for_member(b"a");
        s.add(&[b'x'; PACK_VALUE + 1], l);
        assert!(matches!(s.repr, Repr::Table(_)));
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn pop_and_random_return_members() {
        for first in ["1", "a"] {
            let l = Limits::default();
            let mut s = Set::for_member(first.as_bytes());
            for i in 0..300 {
                s.add(format!("{i}").as_bytes(), l);
            }
            if first == "a" {
                s.add(b"a", l);
            }
            let n = s.len();
            let r = s.random().unwrap();
            assert!(s.contains_member(r.as_member()));
            let picked = s.random_distinct(10);
            let set: BTreeSet<_> = picked.iter().cloned().collect();
            assert_eq!(set.len(), 10);
            let mut popped = BTreeSet::new();
            while let Some(m) = s.pop() {
                assert!(!s.contains_member(m.as_member()));
                assert!(popped.insert(m.as_member().to_vec()));
            }
            assert_eq!(popped.len(), n);
        }
    }

    fn int() -> impl Strategy<Value = i64> {
        prop_oneof![
            -300i64..300,
            (0i64..70000).prop_map(|n| n * 3 - 100_000),
            any::<i64>(),
            Just(i64::MIN),
            Just(i64::MAX),
        ]
    }

    proptest! {
        /// The intset behaves as a BTreeSet<i64> through inserts and
        /// removes that move its base and widen its offsets; it stays
        /// sorted and picks the narrowest width for its spread.
        #[test]
        fn intset_matches_a_btreeset(ops in proptest::collection::vec((any::<bool>(), int()), 0..300)) {
            let mut i = IntSet::default();
            let mut oracle = BTreeSet::new();
            for (add, n) in ops {
                if add {
                    prop_assert_eq!(i.insert(n), oracle.insert(n));
                } else {
                    prop_assert_eq!(i.remove(n), oracle.remove(&n));
                }
                prop_assert_eq!(i.len(), oracle.len());
            }
            let v: Vec<i64> = i.iter().collect();
            let o: Vec<i64> = oracle.iter().copied().collect();
            prop_assert_eq!(v, o);
            for n in &oracle {
                prop_assert!(i.contains(*n));
            }
            // A set built from scratch uses the width its spread needs.
            let mut fresh = IntSet::default();
            for n in &oracle {
                fresh.insert(*n);
            }
            if let (Some(lo), Some(hi)) = (oracle.first(), oracle.last()) {
                let spread = (*hi as u64).wrapping_sub(*lo as u64);
                let want = match spread { 0..=0xff => 1, 0x100..=0xffff => 2, 0x1_0000..=0xffff_ffff => 4, _ => 8 };
                prop_assert_eq!(fresh.width(), want);
            }
        }
    }

    #[test]
    fn clustered_big_integers_take_one_byte_each() {
        let mut i = IntSet::default();
        for n in 0..100 {
            i.insert(1_000_000_000_000 + n);
        }
        assert_eq!(i.width(), 1);
        assert!(i.heap_size() <= 100);
        i.insert(999_999_999_999);
        assert_eq!(i.get(0), 999_999_999_999);
        assert_eq!(i.width(), 1);
        i.insert(-1);
        assert_eq!(i.width(), 8);
        assert_eq!(i.iter().last(), Some(1_000_000_000_099));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(String),
        Rem(String),
        Pop,
    }

    fn member() -> impl Strategy<Value = String> {
        prop_oneof![
            (-40i64..40).prop_map(|n| n.to_string()),
            Just("-0".to_string()),
            Just("99999".to_string()),
            Just("9223372036854775807".to_string()),
            (0u8..30).prop_map(|n| format!("m{n}")),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => member().prop_map(Op::Add),
            2 => member().prop_map(Op::Rem),
            1 => Just(Op::Pop),
        ]
    }

    proptest! {
        /// The set behaves as a BTreeSet of byte strings (the naive oracle)
        /// through adds, removes and pops across every representation; an
        /// intset iterates in ascending order.
        #[test]
        fn matches_a_btreeset(ops in proptest::collection::vec(op(), 0..300), first in member()) {
            let l = Limits { intset_entries: 20 };
            let mut s = Set::for_member(first.as_bytes());
            let mut oracle: BTreeSet<Vec<u8>> = BTreeSet::new();
            for op in ops {
                match op {
                    Op::Add(m) => prop_assert_eq!(s.add(m.as_bytes(), l), oracle.insert(m.into_bytes())),
                    Op::Rem(m) => prop_assert_eq!(s.remove(m.as_bytes()), oracle.remove(m.as_bytes())),
                    Op::Pop => {
                        let got = s.pop();
                        prop_assert_eq!(got.is_some(), !oracle.is_empty());
                        if let Some(m) = got {
                            prop_assert!(oracle.remove(&m.as_member().to_vec()));
                        }
                    }
                }
                prop_assert_eq!(s.len(), oracle.len());
            }
            prop_assert_eq!(strs(&s), oracle.clone());
            if s.is_intset() {
                let v: Vec<i64> = s.iter().map(|m| match m { Member::Int(n) => n, Member::Str(_) => unreachable!() }).collect();
                let mut sorted = v.clone();
                sorted.sort();
                prop_assert_eq!(v, sorted);
            }
            for m in &oracle {
                prop_assert!(s.contains(m));
            }
            let copy = s.clone();
            prop_assert!(copy == s);
            let mut seen = BTreeSet::new();
            let mut cursor = 0;
            loop {
                cursor = s.scan(cursor, 2, |m| { seen.insert(m.to_vec()); });
                if cursor == 0 { break; }
            }
            prop_assert_eq!(seen, oracle);
        }
    }
}
