//! A chained hash table with Redis's cursor-stable scan.
//!
//! Why not `std::collections::HashMap`? Two promises Redis makes need control of
//! the bucket layout:
//!
//! * `SCAN` returns every key present for the whole scan, even while the table
//!   grows or shrinks between calls. Redis gets this by walking bucket indexes in
//!   reverse-binary order over a power-of-two table with chaining; an index
//!   visited under one mask covers exactly the buckets that its keys move to
//!   under a bigger or smaller mask. Open addressing (hashbrown) displaces keys
//!   from their home bucket, so the trick does not apply.
//! * Memory per key is a first-class metric: a node is one allocation holding
//!   the key, the entry and the chain link, and the bucket array costs one
//!   pointer per bucket.
//!
//! Callers pass the key's 64-bit hash along with the key; the table uses the
//! low bits for the bucket (the keyspace uses the high bits to pick a shard), and
//! recomputes hashes only when it resizes.

use std::mem;

/// A key's bytes: up to [`Key::INLINE`] bytes live inside the node itself
/// (no second allocation, no second cache miss on lookup), longer keys on
/// the heap.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(KeyRepr);

#[derive(Clone, PartialEq, Eq)]
enum KeyRepr {
    Inline(u8, [u8; Key::INLINE]),
    Heap(Box<[u8]>),
}

impl Key {
    /// Longest key stored inline.
    pub const INLINE: usize = 22;

    /// A key holding `bytes`.
    pub fn new(bytes: &[u8]) -> Key {
        if bytes.len() <= Key::INLINE {
            let mut buf = [0; Key::INLINE];
            buf[..bytes.len()].copy_from_slice(bytes);
            Key(KeyRepr::Inline(bytes.len() as u8, buf))
        } else {
            Key(KeyRepr::Heap(bytes.into()))
        }
    }
}

impl std::ops::Deref for Key {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            KeyRepr::Inline(len, buf) => &buf[..*len as usize],
            KeyRepr::Heap(b) => b,
        }
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self))
    }
}

/// Asks the CPU to start loading the cache line at `addr` into its caches.
/// A hint: it never faults and reads nothing the program can observe, so a
/// stale or dangling address only wastes the hint.
#[inline(always)]
pub fn prefetch(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 belongs to SSE, which every x86_64 CPU has; it does
    // not access memory in the language's sense and cannot fault, whatever
    // the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(addr as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

/// A key and its value, chained from a bucket.
#[derive(Debug)]
pub struct Node<V> {
    next: Option<Box<Node<V>>>,
    /// The key bytes.
    pub key: Key,
    /// The value stored under `key`.
    pub value: V,
}

/// A chained, power-of-two hash table keyed by byte strings.
#[derive(Debug)]
pub struct Dict<V> {
    buckets: Vec<Option<Box<Node<V>>>>,
    len: usize,
}

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Dict::new()
    }
}

/// Smallest table we allocate once the first key arrives.
const MIN_BUCKETS: usize = 4;

impl<V> Dict<V> {
    /// An empty table; allocates nothing until the first insert.
    pub const fn new() -> Self {
        Dict {
            buckets: Vec::new(),
            len: 0,
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the table holds no key.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of buckets (0 or a power of two).
    pub fn buckets(&self) -> usize {
        self.buckets.len()
    }

    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }

    /// The bucket array's address and index mask, `(0, 0)` while nothing is
    /// allocated: published for [`prefetch`] hints read without the lock.
    pub fn table(&self) -> (usize, usize) {
        if self.buckets.is_empty() {
            (0, 0)
        } else {
            (self.buckets.as_ptr() as usize, self.mask())
        }
    }

    /// Starts loading the first node chained from `hash`'s bucket (the
    /// node's first two cache lines: links, key and value head).
    pub fn prefetch_chain(&self, hash: u64) {
        if let Some(Some(node)) = self.buckets.get(hash as usize & self.mask()) {
            let at = &**node as *const Node<V> as usize;
            prefetch(at);
            prefetch(at + 64);
        }
    }

    /// The node holding `key`, if any.
    pub fn get(&self, hash: u64, key: &[u8]) -> Option<&Node<V>> {
        if self.len == 0 {
            return None;
        }
        let mut cur = self.buckets[hash as usize & self.mask()].as_deref();
        while let Some(node) = cur {
            if *node.key == *key {
                return Some(node);
            }
            cur = node.next.as_deref();
        }
        None
    }

    /// The node holding `key`, mutably, if any.
    pub fn get_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut Node<V>> {
        if self.len == 0 {
            return None;
        }
        let i = hash as usize & self.mask();
        let mut cur = self.buckets[i].as_deref_mut();
        while let Some(node) = cur {
            if *node.key == *key {
                return Some(node);
            }
            cur = node.next.as_deref_mut();
        }
        None
    }

    /// Inserts a key that the caller knows is absent (a second node with the
    /// same key would shadow the first until removed).
    /// `rehash` gives the hash of any stored key; it is called only on growth.
    pub fn insert_new(
        &mut self,
        hash: u64,
        key: &[u8],
        value: V,
        rehash: impl Fn(&[u8]) -> u64,
    ) -> &mut Node<V> {
        if self.len >= self.buckets.len() {
            let want = (self.buckets.len() * 2).max(MIN_BUCKETS);
            self.resize(want, &rehash);
        }
        let i = hash as usize & self.mask();
        let next = self.buckets[i].take();
        self.len += 1;
        self.buckets[i].insert(Box::new(Node {
            next,
            key: Key::new(key),
            value,
        }))
    }

    /// Removes `key`, returning its node.
    pub fn remove(
        &mut self,
        hash: u64,
        key: &[u8],
        rehash: impl Fn(&[u8]) -> u64,
    ) -> Option<Box<Node<V>>> {
        if self.len == 0 {
            return None;
        }
        let i = hash as usize & self.mask();
        let mut link = &mut self.buckets[i];
        loop {
            match link {
                None => return None,
                Some(node) if *node.key == *key => {
                    let mut node = link.take()?;
                    *link = node.next.take();
                    self.len -= 1;
                    self.maybe_shrink(&rehash);
                    return Some(node);
                }
                Some(node) => link = &mut node.next,
            }
        }
    }

    fn maybe_shrink(&mut self, rehash: &impl Fn(&[u8]) -> u64) {
        // Shrink below 1/8 fill, as Redis does below 10%: keeps memory in
        // proportion to the keys without resizing back and forth.
        let n = self.buckets.len();
        if n > MIN_BUCKETS && self.len * 8 < n {
            let want = self.len.next_power_of_two().max(MIN_BUCKETS);
            self.resize(want, rehash);
        } else if self.len == 0 {
            self.buckets = Vec::new();
        }
    }

    fn resize(&mut self, new_len: usize, rehash: &impl Fn(&[u8]) -> u64) {
        debug_assert!(new_len.is_power_of_two());
        let old = mem::take(&mut self.buckets);
        self.buckets.resize_with(new_len, || None);
        let mask = new_len - 1;
        for mut head in old {
            while let Some(mut node) = head {
                head = node.next.take();
                let i = rehash(&node.key) as usize & mask;
                node.next = self.buckets[i].take();
                self.buckets[i] = Some(node);
            }
        }
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        // Unlink chains iteratively: dropping a long chain recursively could
        // overflow the stack.
        for head in self.buckets.iter_mut() {
            let mut cur = head.take();
            while let Some(mut node) = cur {
                cur = node.next.take();
            }
        }
        self.buckets = Vec::new();
        self.len = 0;
    }

    /// Iterates over all nodes in bucket order.
    pub fn iter(&self) -> Iter<'_, V> {
        Iter {
            buckets: self.buckets.iter(),
            chain: None,
        }
    }

    /// Calls `f` for every node of the bucket(s) that cursor `cursor` names and
    /// returns the next cursor, 0 when the scan is complete.
    ///
    /// # Guarantee
    /// A scan that starts at cursor 0 and follows the returned cursors until 0
    /// visits every key that was present for the whole scan at least once,
    /// however the table was resized between calls (Redis's reverse-binary
    /// cursor). Keys may be visited more than once after a shrink.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&Node<V>)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = self.mask() as u64;
        let mut cur = self.buckets[(cursor & mask) as usize].as_deref();
        while let Some(node) = cur {
            f(node);
            cur = node.next.as_deref();
        }
        // Increment the reversed cursor: set the unmasked bits so the
        // increment carries into the masked ones, reverse, add, reverse back.
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// A key picked at random (not uniform across chains of different length,
    /// like Redis's `dictGetRandomKey`, which is good enough for RANDOMKEY and
    /// eviction sampling). `rand` supplies random numbers.
    pub fn random(&self, mut rand: impl FnMut() -> u64) -> Option<&Node<V>> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask() as u64;
        let head = loop {
            if let Some(node) = self.buckets[(rand() & mask) as usize].as_deref() {
                break node;
            }
        };
        let mut chain_len = 0u64;
        let mut cur = Some(head);
        while let Some(n) = cur {
            chain_len += 1;
            cur = n.next.as_deref();
        }
        let mut pick = rand() % chain_len;
        let mut node = head;
        while pick > 0 {
            node = node.next.as_deref()?;
            pick -= 1;
        }
        Some(node)
    }
}

impl<V> Drop for Dict<V> {
    fn drop(&mut self) {
        self.clear();
    }
}

/// Iterator over a [`Dict`]'s nodes.
pub struct Iter<'a, V> {
    buckets: std::slice::Iter<'a, Option<Box<Node<V>>>>,
    chain: Option<&'a Node<V>>,
}

impl<'a, V> Iterator for Iter<'a, V> {
    type Item = &'a Node<V>;

    fn next(&mut self) -> Option<&'a Node<V>> {
        loop {
            if let Some(node) = self.chain {
                self.chain = node.next.as_deref();
                return Some(node);
            }
            self.chain = self.buckets.next()?.as_deref();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashSet};

    fn h(k: &[u8]) -> u64 {
        // FNV-1a: deterministic and spread enough for tests.
        let mut x = 0xcbf29ce484222325u64;
        for &b in k {
            x ^= b as u64;
            x = x.wrapping_mul(0x100000001b3);
        }
        x
    }

    fn insert(d: &mut Dict<u32>, k: &str, v: u32) {
        d.insert_new(h(k.as_bytes()), k.as_bytes(), v, h);
    }

    #[test]
    fn insert_get_remove() {
        let mut d = Dict::new();
        for i in 0..1000u32 {
            insert(&mut d, &format!("k{i}"), i);
        }
        assert_eq!(d.len(), 1000);
        for i in 0..1000u32 {
            let k = format!("k{i}");
            assert_eq!(d.get(h(k.as_bytes()), k.as_bytes()).unwrap().value, i);
        }
        assert!(d.get(h(b"nope"), b"nope").is_none());
        for i in 0..990u32 {
            let k = format!("k{i}");
            assert_eq!(d.remove(h(k.as_bytes()), k.as_bytes(), h).unwrap().value, i);
        }
        assert_eq!(d.len(), 10);
        assert!(d.buckets() <= 16, "shrinks after deletes: {}", d.buckets());
        assert_eq!(d.iter().count(), 10);
    }

    #[test]
    fn scan_visits_every_key_across_growth_and_shrink() {
        let mut d = Dict::new();
        for i in 0..500u32 {
            insert(&mut d, &format!("stay{i}"), i);
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0u32;
        loop {
            cursor = d.scan(cursor, |n| {
                seen.insert(n.key.to_vec());
            });
            step += 1;
            // Grow a lot, then shrink, in the middle of the scan.
            if step == 20 {
                for i in 0..5000u32 {
                    insert(&mut d, &format!("tmp{i}"), i);
                }
            }
            if step == 400 {
                for i in 0..5000u32 {
                    let k = format!("tmp{i}");
                    d.remove(h(k.as_bytes()), k.as_bytes(), h);
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..500u32 {
            let k = format!("stay{i}");
            assert!(seen.contains(k.as_bytes()), "missed {k}");
        }
    }

    #[test]
    fn keys_inline_and_on_heap_compare_by_bytes() {
        let short = Key::new(b"abc");
        let edge = Key::new(&[7u8; Key::INLINE]);
        let long = Key::new(&[7u8; Key::INLINE + 1]);
        assert_eq!(&*short, b"abc");
        assert_eq!(&*edge, &[7u8; Key::INLINE][..]);
        assert_eq!(&*long, &[7u8; Key::INLINE + 1][..]);
        assert_eq!(std::mem::size_of::<Key>(), 24);
    }

    #[test]
    fn random_returns_members_only() {
        let mut d = Dict::new();
        let mut r = 7u64;
        let mut rand = move || {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            r
        };
        assert!(d.random(&mut rand).is_none());
        for i in 0..50u32 {
            insert(&mut d, &format!("k{i}"), i);
        }
        let mut got = BTreeSet::new();
        for _ in 0..2000 {
            got.insert(d.random(&mut rand).unwrap().value);
        }
        assert_eq!(got.len(), 50, "every key reachable");
    }

    #[test]
    fn long_chain_drops_without_recursion() {
        let mut d: Dict<u32> = Dict::new();
        // Every key in one bucket, the table never grows past 4 buckets' worth
        // of mask bits that matter.
        let same = |_: &[u8]| 0u64;
        for i in 0..200_000u32 {
            d.insert_new(0, &i.to_le_bytes(), i, same);
        }
        drop(d);
    }
}
