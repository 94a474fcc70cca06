//! A hash (HSET...): field -> value.
//!
//! Two encodings, as in Redis 7.0:
//!
//! * **listpack** — small hashes live in a [`Pack`]: `field, value, field,
//!   value...` as length-prefixed byte strings, in insertion order, in one
//!   buffer (4 KiB chunks past that, see `types::pack`). Lookups scan it;
//!   that is bounded by `hash-max-listpack-entries` (128 by default), which
//!   is why Redis does the same. It costs 2 bytes of overhead per field and
//!   value instead of the ~100 bytes of a hash table entry, and the hash
//!   lives inside its key's value, with no allocation of its own.
//! * **hashtable** — a [`Dict`] from field to value, with O(1) lookups and
//!   Redis's cursor-stable scan.
//!
//! A hash starts as a listpack and becomes a table, for good, once it holds
//! more than the entries limit or a field or value longer than the value
//! limit; the caller passes both limits (they are CONFIG SET-able).
//!
//! [`Pack`] is also the compact encoding of small sets (see `types::set`).

use std::sync::OnceLock;

use crate::dict::{Dict, Node};
pub use crate::types::pack::{packed_size, Pack, PackIter};
use crate::util::rand::rand_below;

// ---------------------------------------------------------------------------
// Hashing and random picks shared by the hash and set tables.

/// The hash of a field or member (a per-process random key, so clients cannot
/// choose colliding names).
pub(crate) fn hash_bytes(b: &[u8]) -> u64 {
    static STATE: OnceLock<ahash::RandomState> = OnceLock::new();
    STATE.get_or_init(ahash::RandomState::new).hash_one(b)
}

/// A [`Dict`] keyed by the per-process [`hash_bytes`], that also knows the
/// length of its longest chain so that it can pick a member uniformly at
/// random (SRANDMEMBER, SPOP, HRANDFIELD).
///
/// Rejection sampling: draw a bucket and a slot `0..longest` uniformly and
/// accept when the bucket's chain has that slot. Every node then has the same
/// chance, `1 / (buckets * longest)`, per draw. `Dict::random` is cheaper but
/// favours nodes in short chains, which users of SRANDMEMBER would notice
/// (Redis uses `dictGetFairRandomKey` for the same reason).
///
/// `longest` is exact or an overestimate: an insert measures its own chain,
/// and every resize (where chains merge or split) measures them all, which
/// costs no more than the resize itself.
#[derive(Debug)]
pub(crate) struct Table<V> {
    dict: Dict<V>,
    longest: usize,
    /// Bytes of every key and value (MEMORY USAGE in O(1)).
    bytes: usize,
}

/// What a table's value weighs, for [`Table::heap_size`].
pub(crate) trait Weigh {
    /// Heap bytes the value owns.
    fn weight(&self) -> usize;
}

impl Weigh for () {
    fn weight(&self) -> usize {
        0
    }
}

impl Weigh for Box<[u8]> {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl<V> Default for Table<V> {
    fn default() -> Self {
        Table {
            dict: Dict::new(),
            longest: 0,
            bytes: 0,
        }
    }
}

impl<V: Clone + Weigh> Clone for Table<V> {
    fn clone(&self) -> Self {
        let mut t = Table::default();
        for n in self.dict.iter() {
            t.insert_new(&n.key, n.value.clone());
        }
        t
    }
}

impl<V: Weigh> Table<V> {
    /// Number of keys.
    pub(crate) fn len(&self) -> usize {
        self.dict.len()
    }

    /// The node of `key`.
    pub(crate) fn get(&self, key: &[u8]) -> Option<&Node<V>> {
        self.dict.get(hash_bytes(key), key)
    }

    /// Replaces the value of `key`; false (and nothing done) when absent.
    pub(crate) fn replace(&mut self, key: &[u8], value: V) -> bool {
        let Some(n) = self.dict.get_mut(hash_bytes(key), key) else {
            return false;
        };
        self.bytes = self.bytes - n.value.weight() + value.weight();
        n.value = value;
        true
    }

    /// Approximate heap bytes: buckets, nodes, keys and values, in O(1).
    pub(crate) fn heap_size(&self) -> usize {
        self.dict.buckets() * std::mem::size_of::<usize>()
            + self.dict.len() * std::mem::size_of::<Node<V>>()
            + self.bytes
    }

    /// Inserts `key`, which the caller knows is absent.
    pub(crate) fn insert_new(&mut self, key: &[u8], value: V) {
        self.bytes += key.len() + value.weight();
        let h = hash_bytes(key);
        let before = self.dict.buckets();
        self.dict.insert_new(h, key, value, hash_bytes);
        if self.dict.buckets() != before {
            self.measure();
        } else {
            let mut chain = 0;
            self.dict.scan(h, |_| chain += 1);
            self.longest = self.longest.max(chain);
        }
    }

    /// Removes `key`; true when it was there.
    pub(crate) fn remove(&mut self, key: &[u8]) -> bool {
        let before = self.dict.buckets();
        let Some(node) = self.dict.remove(hash_bytes(key), key, hash_bytes) else {
            return false;
        };
        self.bytes -= node.key.len() + node.value.weight();
        if self.dict.buckets() != before {
            self.measure();
        }
        true
    }

    /// Recomputes the longest chain.
    fn measure(&mut self) {
        self.longest = 0;
        for b in 0..self.dict.buckets() as u64 {
            let mut chain = 0;
            self.dict.scan(b, |_| chain += 1);
            self.longest = self.longest.max(chain);
        }
    }

    /// Every node, in table order.
    pub(crate) fn iter(&self) -> crate::dict::Iter<'_, V> {
        self.dict.iter()
    }

    /// One step of Redis's reverse-binary scan (see [`Dict::scan`]).
    pub(crate) fn scan(&self, cursor: u64, f: impl FnMut(&Node<V>)) -> u64 {
        self.dict.scan(cursor, f)
    }

    /// One HSCAN/SSCAN call: [`Table::scan`] steps from `cursor` until the
    /// cursor wraps to 0, `count` is reached or `10 * count` buckets were
    /// visited, each node counting `per_node` towards `count` (Redis counts
    /// a hash's field and value, a set's member). Returns the next cursor.
    pub(crate) fn scan_count(
        &self,
        cursor: u64,
        count: usize,
        per_node: usize,
        mut f: impl FnMut(&Node<V>),
    ) -> u64 {
        let mut cursor = cursor;
        let mut seen = 0usize;
        let mut budget = count.saturating_mul(10);
        loop {
            cursor = self.scan(cursor, |n| {
                seen += per_node;
                f(n);
            });
            budget -= 1;
            if cursor == 0 || budget == 0 || seen >= count {
                return cursor;
            }
        }
    }

    /// Calls `f` on a node picked uniformly at random and returns what it
    /// returns; `None` when empty.
    pub(crate) fn random<R>(&self, mut f: impl FnMut(&Node<V>) -> R) -> Option<R> {
        if self.dict.is_empty() {
            return None;
        }
        let buckets = self.dict.buckets() as u64;
        let k = self.longest.max(1) as u64;
        loop {
            let r = rand_below(buckets * k);
            let (bucket, slot) = (r / k, r % k);
            let mut i = 0u64;
            let mut got = None;
            self.dict.scan(bucket, |node| {
                if i == slot {
                    got = Some(f(node));
                }
                i += 1;
            });
            if got.is_some() {
                return got;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Hash

/// A hash (HSET...): field -> value.
///
/// Small enough to live inside a key's [`Value`](crate::value::Value)
/// without a box of its own: a listpack hash is its key's node and its
/// packed buffer, nothing else (the table of a big hash is boxed instead).
#[derive(Debug, Default)]
pub struct Hash {
    repr: Repr,
}

#[derive(Debug)]
enum Repr {
    /// `field, value, ...` in insertion order.
    Pack(Pack),
    /// field -> value.
    Table(Box<Table<Box<[u8]>>>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Pack(Pack::default())
    }
}

/// The encoding limits of a hash (Redis's `hash-max-listpack-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most fields a listpack hash holds.
    pub entries: usize,
    /// Longest field or value (bytes) a listpack hash holds.
    pub value: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            entries: 512,
            value: 64,
        }
    }
}

impl Clone for Hash {
    fn clone(&self) -> Self {
        let repr = match &self.repr {
            Repr::Pack(p) => Repr::Pack(p.clone()),
            Repr::Table(d) => Repr::Table(d.clone()),
        };
        Hash { repr }
    }
}

impl PartialEq for Hash {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

impl Hash {
    /// An empty listpack hash with room for `bytes` bytes of packed fields
    /// and values (a caller that knows what it will insert avoids regrowth).
    pub fn with_capacity(bytes: usize) -> Hash {
        Hash {
            repr: Repr::Pack(Pack::with_capacity(bytes)),
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.len() / 2,
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
            Repr::Pack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// True while the compact (listpack) encoding is in use.
    pub fn is_compact(&self) -> bool {
        matches!(self.repr, Repr::Pack(_))
    }

    /// Approximate heap bytes (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.heap_size(),
            Repr::Table(d) => std::mem::size_of::<Table<Box<[u8]>>>() + d.heap_size(),
        }
    }

    /// Where its heap part starts (the packed strings, or the table's
    /// header), for prefetching.
    pub fn heap_addr(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.heap_addr(),
            Repr::Table(d) => &**d as *const Table<Box<[u8]>> as usize,
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Pack(p) => {
                let off = p.find(field, 2)?;
                let (_, next) = p.at(off);
                Some(p.at(next).0)
            }
            Repr::Table(d) => d.get(field).map(|n| &*n.value),
        }
    }

    /// True when `field` exists.
    pub fn contains(&self, field: &[u8]) -> bool {
        match &self.repr {
            Repr::Pack(p) => p.find(field, 2).is_some(),
            Repr::Table(d) => d.get(field).is_some(),
        }
    }

    /// Converts to a table when a field or value of these lengths would not
    /// fit the listpack limits (Redis's `hashTypeTryConversion`, which runs
    /// before anything is inserted).
    pub fn convert_for(&mut self, lens: impl IntoIterator<Item = usize>, limits: Limits) {
        if self.is_compact() && lens.into_iter().any(|l| l > limits.value) {
            self.convert();
        }
    }

    /// Sets `field` to `value`; true when the field is new. Converts to a
    /// table when the field or value is longer than `limits.value` or the
    /// hash grows past `limits.entries` (Redis's `hashTypeSet`).
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: Limits) -> bool {
        if let Repr::Pack(_) = self.repr {
            if field.len() > limits.value || value.len() > limits.value {
                self.convert();
            }
        }
        match &mut self.repr {
            Repr::Pack(p) => {
                if let Some(off) = p.find(field, 2) {
                    let (_, voff) = p.at(off);
                    p.replace_at(voff, value);
                    return false;
                }
                p.push_pair(field, value);
                if p.len() / 2 > limits.entries {
                    self.convert();
                }
                true
            }
            Repr::Table(d) => {
                if d.replace(field, value.into()) {
                    return false;
                }
                d.insert_new(field, value.into());
                true
            }
        }
    }

    /// Removes `field`; true when it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Pack(p) => match p.find(field, 2) {
                Some(off) => {
                    p.remove_at(off, 2);
                    true
                }
                None => false,
            },
            Repr::Table(d) => d.remove(field),
        }
    }

    /// Turns a listpack hash into a table (for good).
    fn convert(&mut self) {
        if let Repr::Pack(p) = &self.repr {
            let mut d = Table::default();
            let mut it = p.iter();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                d.insert_new(f, v.into());
            }
            self.repr = Repr::Table(Box::new(d));
        }
    }

    /// The fields and values: insertion order for a listpack, table order
    /// otherwise (as Redis iterates them).
    pub fn iter(&self) -> HashIter<'_> {
        match &self.repr {
            Repr::Pack(p) => HashIter::Pack(p.iter()),
            Repr::Table(d) => HashIter::Table(d.iter()),
        }
    }

    /// One HSCAN step: calls `f` for the fields the cursor covers and returns
    /// the next cursor (0 when done). A listpack is returned whole, with
    /// cursor 0, as Redis does; a table is walked with Redis's reverse-binary
    /// cursor, visiting at most `count` fields or `10 * count` buckets.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match &self.repr {
            Repr::Pack(_) => {
                for (k, v) in self.iter() {
                    f(k, v);
                }
                0
            }
            // Redis counts the field and the value.
            Repr::Table(d) => d.scan_count(cursor, count, 2, |n| f(&n.key, &n.value)),
        }
    }

    /// A field and its value picked uniformly at random; `None` when empty.
    pub fn random(&self) -> Option<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Pack(p) => {
                if p.is_empty() {
                    return None;
                }
                let i = rand_below((p.len() / 2) as u64) as usize;
                let mut it = p.iter().skip(2 * i);
                Some((it.next()?, it.next()?))
            }
            Repr::Table(d) => {
                // The node lives as long as `d`, but the callback cannot
                // return a borrow: find it again by key.
                let key = d.random(|n| n.key.to_vec())?;
                let n = d.get(&key)?;
                Some((&n.key, &n.value))
            }
        }
    }

    /// Calls `f` on `count` fields (with their values) picked uniformly at
    /// random, repeats allowed (HRANDFIELD with a negative count). A
    /// listpack is indexed once, so this is O(len + count), not
    /// O(len * count).
    pub fn random_repeated(&self, count: u64, mut f: impl FnMut(&[u8], &[u8])) {
        if self.is_compact() {
            let all: Vec<(&[u8], &[u8])> = self.iter().collect();
            if all.is_empty() {
                return;
            }
            for _ in 0..count {
                let (k, v) = all[rand_below(all.len() as u64) as usize];
                f(k, v);
            }
        } else {
            for _ in 0..count {
                if let Some((k, v)) = self.random() {
                    f(k, v);
                }
            }
        }
    }

    /// `count` distinct fields with their values, picked at random
    /// (`count` < len): a partial shuffle of all of them when `count` is a
    /// good part of the hash, repeated random picks otherwise.
    pub fn random_distinct(&self, count: usize) -> Vec<(&[u8], &[u8])> {
        let len = self.len();
        if count.saturating_mul(3) > len || self.is_compact() {
            let mut all: Vec<(&[u8], &[u8])> = self.iter().collect();
            partial_shuffle(&mut all, count);
            all.truncate(count);
            return all;
        }
        let mut seen = std::collections::HashSet::with_capacity(count);
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            let Some((f, v)) = self.random() else {
                break;
            };
            if seen.insert(f) {
                out.push((f, v));
            }
        }
        out
    }
}

/// Moves `k` uniformly chosen elements of `v` to its front, in random order
/// (the first `k` steps of a Fisher-Yates shuffle).
pub(crate) fn partial_shuffle<T>(v: &mut [T], k: usize) {
    let n = v.len();
    for i in 0..k.min(n) {
        let j = i + rand_below((n - i) as u64) as usize;
        v.swap(i, j);
    }
}

/// Iterator over a hash's `(field, value)` pairs.
pub enum HashIter<'a> {
    /// Over a listpack.
    Pack(PackIter<'a>),
    /// Over a table.
    Table(crate::dict::Iter<'a, Box<[u8]>>),
}

impl<'a> Iterator for HashIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            HashIter::Pack(it) => Some((it.next()?, it.next()?)),
            HashIter::Table(it) => it.next().map(|n| (&*n.key, &*n.value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn hset_returns_new_field_count_and_keeps_insertion_order() {
        let mut h = Hash::default();
        let l = Limits::default();
        assert!(h.set(b"a", b"1", l));
        assert!(h.set(b"b", b"2", l));
        assert!(!h.set(b"a", b"longer value", l));
        assert_eq!(h.get(b"a"), Some(&b"longer value"[..]));
        let order: Vec<_> = h.iter().map(|(f, _)| f.to_vec()).collect();
        assert_eq!(order, vec![b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn converts_past_the_limits_and_never_back() {
        let l = Limits {
            entries: 4,
            value: 8,
        };
        let mut h = Hash::default();
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", l);
        }
        assert_eq!(h.encoding(), "listpack");
        h.set(b"f4", b"v", l);
        assert_eq!(h.encoding(), "hashtable");
        for i in 0..5 {
            h.remove(format!("f{i}").as_bytes());
        }
        h.set(b"x", b"y", l);
        assert_eq!(h.encoding(), "hashtable");

        let mut h = Hash::default();
        h.set(b"f", b"123456789", l);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"f"), Some(&b"123456789"[..]));
    }

    #[test]
    fn value_equal_to_a_field_name_is_not_found_as_a_field() {
        let mut h = Hash::default();
        let l = Limits::default();
        h.set(b"f", b"g", l);
        assert!(!h.contains(b"g"));
        assert!(!h.remove(b"g"));
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn random_distinct_returns_distinct_members() {
        for compact in [true, false] {
            let l = if compact {
                Limits::default()
            } else {
                Limits {
                    entries: 0,
                    value: 64,
                }
            };
            let mut h = Hash::default();
            for i in 0..50 {
                h.set(format!("f{i}").as_bytes(), format!("v{i}").as_bytes(), l);
            }
            assert_eq!(h.is_compact(), compact);
            for count in [1, 5, 16, 17, 49] {
                let got = h.random_distinct(count);
                assert_eq!(got.len(), count);
                let fields: std::collections::HashSet<_> = got.iter().map(|p| p.0).collect();
                assert_eq!(fields.len(), count);
                for (f, v) in got {
                    assert_eq!(h.get(f), Some(v));
                }
            }
        }
    }

    /// Chi-square of `counts` against `n` equally likely outcomes.
    fn chi_square(counts: &HashMap<Vec<u8>, u64>, n: usize) -> f64 {
        let total: u64 = counts.values().sum();
        let e = total as f64 / n as f64;
        let seen: f64 = counts.values().map(|&o| (o as f64 - e).powi(2) / e).sum();
        seen + (n - counts.len()) as f64 * e
    }

    #[test]
    fn table_random_is_uniform_across_chains() {
        let mut t: Table<()> = Table::default();
        for i in 0..1000 {
            t.insert_new(format!("member:{i}").as_bytes(), ());
        }
        // Shrink it too: removals merge chains, which must be re-measured.
        for i in 0..900 {
            assert!(t.remove(format!("member:{i}").as_bytes()));
        }
        for i in 0..2 {
            let n = t.len();
            let mut counts = HashMap::new();
            for _ in 0..200 * n {
                *counts
                    .entry(t.random(|n| n.key.to_vec()).unwrap())
                    .or_insert(0) += 1;
            }
            // df = n - 1; mean + 7 sd is out of reach of a fair draw.
            let df = (n - 1) as f64;
            let chi = chi_square(&counts, n);
            assert!(
                chi < df + 7.0 * (2.0 * df).sqrt() + 20.0,
                "round {i}: chi-square {chi}"
            );
            for j in 0..5000 {
                t.insert_new(format!("more:{j}:{i}").as_bytes(), ());
            }
            if i == 1 {
                break;
            }
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Set(u8, Vec<u8>),
        Del(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u8..40, proptest::collection::vec(any::<u8>(), 0..12)).prop_map(|(f, v)| Op::Set(f, v)),
            1 => (0u8..40).prop_map(Op::Del),
        ]
    }

    proptest! {
        /// The hash behaves as a HashMap (the naive oracle) through any mix
        /// of sets and deletes, across the listpack -> table conversion; a
        /// listpack keeps insertion order.
        #[test]
        fn matches_a_hashmap(ops in proptest::collection::vec(op(), 0..200)) {
            let limits = Limits { entries: 16, value: 10 };
            let mut h = Hash::default();
            let mut oracle: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
            let mut order: Vec<Vec<u8>> = Vec::new();
            for op in ops {
                match op {
                    Op::Set(f, v) => {
                        let f = format!("field{f}").into_bytes();
                        let new = h.set(&f, &v, limits);
                        prop_assert_eq!(new, oracle.insert(f.clone(), v).is_none());
                        if new { order.push(f); }
                    }
                    Op::Del(f) => {
                        let f = format!("field{f}").into_bytes();
                        prop_assert_eq!(h.remove(&f), oracle.remove(&f).is_some());
                        order.retain(|x| *x != f);
                    }
                }
                prop_assert_eq!(h.len(), oracle.len());
            }
            for (f, v) in &oracle {
                prop_assert_eq!(h.get(f), Some(&v[..]));
            }
            if h.is_compact() {
                let fields: Vec<Vec<u8>> = h.iter().map(|(f, _)| f.to_vec()).collect();
                prop_assert_eq!(fields, order);
            }
            if let Repr::Table(t) = &h.repr {
                let sum: usize = t.iter().map(|n| n.key.len() + n.value.len()).sum();
                prop_assert_eq!(t.bytes, sum, "MEMORY USAGE's running total");
            }
            let copy = h.clone();
            prop_assert!(copy == h);
            let mut seen = std::collections::HashSet::new();
            let mut cursor = 0;
            loop {
                cursor = h.scan(cursor, 3, |f, _| { seen.insert(f.to_vec()); });
                if cursor == 0 { break; }
            }
            prop_assert_eq!(seen.len(), oracle.len());
        }
    }
}
