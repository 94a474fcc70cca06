//! A list (LPUSH...): a deque of packed chunks, Redis's quicklist of
//! listpacks in Rust.
//!
//! # Representation
//!
//! A [`List`] is a `VecDeque` of chunks. A chunk is one byte buffer holding
//! its elements packed end to end, so a list of small elements costs about
//! two bytes per element on top of the elements themselves, not one heap
//! allocation each. An element is stored as an entry of Redis's listpack
//! (a header, the payload and a backlen), and elements that are canonical
//! integers are stored as integers ([`Elem`]).
//!
//! Chunks keep free room at both ends, so push and pop at both ends are
//! amortised O(1), and stay within the limits of `list-max-listpack-size`
//! ([`Fill`]). Finding element `i` walks chunk counts from the nearer end of
//! the list, then entries from the nearer end of the chunk, so LINDEX, LSET
//! and LRANGE cost O(min(i, len - i) / chunk size + chunk size).
//!
//! An element of at least the packed threshold (1 GB unless
//! `DEBUG QUICKLIST-PACKED-THRESHOLD` says otherwise) gets a *plain* chunk
//! of its own, as Redis 7.0 gives it a plain quicklist node; pushes,
//! LSET and LINSERT place it and split around it as `quicklist.c` does, so
//! the nodes DEBUG OBJECT counts are Redis's. Small elements pay one length
//! comparison for this.
//!
//! # Layout
//!
//! * `mod.rs` — [`List`] (the quicklist), [`End`], the iterators.
//! * `chunk.rs` — a chunk of packed entries, and [`Fill`].
//! * `entry.rs` — one element's encoding, and [`Elem`].

use std::collections::VecDeque;
use std::fmt;

mod chunk;
mod entry;

use chunk::Chunk;
pub use chunk::{set_packed_threshold, Fill, DEFAULT_PACKED_THRESHOLD};
pub use entry::Elem;
use entry::{decode, entry_len, entry_start, Enc};

/// One end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The head (LPUSH, LPOP, `LEFT`).
    Front,
    /// The tail (RPUSH, RPOP, `RIGHT`).
    Back,
}

/// A list (LPUSH...): a sequence of elements, see the module docs.
#[derive(Clone, Default)]
pub struct List {
    chunks: VecDeque<Chunk>,
    len: usize,
}

impl PartialEq for List {
    fn eq(&self, other: &List) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl List {
    /// An empty list.
    pub fn new() -> List {
        List::default()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty (an empty container is removed from the keyspace).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name OBJECT ENCODING reports, as Redis 7.0 names it.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Approximate heap bytes (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        self.chunks.capacity() * std::mem::size_of::<Chunk>()
            + self.chunks.iter().map(|c| c.data.capacity()).sum::<usize>()
    }

    /// Number of chunks (for tests and DEBUG-like introspection).
    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    /// The size Redis gives each chunk's quicklist node: what it would
    /// have as a listpack (its entries are listpack entries; a listpack adds
    /// a 6-byte header and an end byte), or a plain node's element length.
    /// What DEBUG OBJECT reports as the quicklist's node sizes.
    pub fn listpack_sizes(&self) -> impl Iterator<Item = usize> + '_ {
        self.chunks.iter().map(Chunk::node_size)
    }

    /// Each chunk's element count and whether it is a plain node (one
    /// large element), front to back: the quicklist node layout a DUMP
    /// writes.
    pub fn node_shapes(&self) -> impl Iterator<Item = (usize, bool)> + '_ {
        self.chunks.iter().map(|c| (c.count as usize, c.is_plain()))
    }

    fn end_chunk(&mut self, end: End) -> Option<&mut Chunk> {
        match end {
            End::Front => self.chunks.front_mut(),
            End::Back => self.chunks.back_mut(),
        }
    }

    /// Pushes one element at `end`.
    pub fn push(&mut self, end: End, elem: &[u8], fill: Fill) {
        self.push_all(end, &[elem], fill);
    }

    /// Pushes `elems` at `end` one after the other, as LPUSH/RPUSH with
    /// several elements do (at the front the last one ends up first).
    /// Room for the batch is reserved once per chunk.
    pub fn push_all(&mut self, end: End, elems: &[&[u8]], fill: Fill) {
        let mut i = 0;
        while i < elems.len() {
            if fill.is_large(elems[i].len()) {
                let c = Chunk::plain(&Enc::new(elems[i]));
                match end {
                    End::Front => self.chunks.push_front(c),
                    End::Back => self.chunks.push_back(c),
                }
                self.len += 1;
                i += 1;
                continue;
            }
            let first = Enc::new(elems[i]);
            let fits = self
                .end_chunk(end)
                .is_some_and(|c| fill.allows(c, first.total));
            if !fits {
                if self.chunks.capacity() == 0 {
                    self.chunks.reserve_exact(1);
                }
                let c = Chunk::default();
                match end {
                    End::Front => self.chunks.push_front(c),
                    End::Back => self.chunks.push_back(c),
                }
            }
            let Some(c) = self.end_chunk(end) else {
                unreachable!("a chunk was just ensured");
            };
            // How many of the next elements this chunk takes, and their size.
            let (mut k, mut bytes) = (1usize, first.total);
            let (mut used, mut count) = (c.used() + first.total, c.count as usize + 1);
            for e in &elems[i + 1..] {
                let t = Enc::new(e).total;
                if used + t > fill.max_bytes || count >= fill.max_count || fill.is_large(e.len()) {
                    break;
                }
                used += t;
                count += 1;
                k += 1;
                bytes += t;
            }
            if c.count == 0 {
                *c = Chunk::with_capacity(bytes);
            } else {
                c.reserve(end, bytes);
            }
            c.push(end, &first);
            for e in &elems[i + 1..i + k] {
                c.push(end, &Enc::new(e));
            }
            self.len += k;
            i += k;
        }
    }

    /// Removes the element at `end` and hands it to `f`; `None` when empty.
    pub fn pop_with<R>(&mut self, end: End, f: impl FnOnce(Elem<'_>) -> R) -> Option<R> {
        let c = self.end_chunk(end)?;
        let (e, n) = c.peek(end);
        let r = f(e);
        c.drop_at(end, n, 1);
        if c.count == 0 {
            match end {
                End::Front => self.chunks.pop_front(),
                End::Back => self.chunks.pop_back(),
            };
        }
        self.len -= 1;
        Some(r)
    }

    /// Removes and returns the element at `end`.
    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        self.pop_with(end, |e| e.to_vec())
    }

    /// (chunk, index in chunk) of element `i < len`, walking from the
    /// nearer end.
    fn locate(&self, i: usize) -> (usize, usize) {
        debug_assert!(i < self.len);
        if i < self.len / 2 {
            let mut i = i;
            for (ci, c) in self.chunks.iter().enumerate() {
                let n = c.count as usize;
                if i < n {
                    return (ci, i);
                }
                i -= n;
            }
        } else {
            let mut back = self.len - 1 - i;
            for (ci, c) in self.chunks.iter().enumerate().rev() {
                let n = c.count as usize;
                if back < n {
                    return (ci, n - 1 - back);
                }
                back -= n;
            }
        }
        unreachable!("chunk counts add up to len")
    }

    /// The element at index `i` (0 = head), if `i < len`.
    pub fn get(&self, i: usize) -> Option<Elem<'_>> {
        self.iter_from(i).next()
    }

    /// Replaces the element at index `i`; false when `i >= len`.
    pub fn set(&mut self, i: usize, elem: &[u8], fill: Fill) -> bool {
        if i >= self.len {
            return false;
        }
        let (ci, j) = self.locate(i);
        let e = Enc::new(elem);
        let large = fill.is_large(elem.len());
        let c = &mut self.chunks[ci];
        if !c.is_plain() && !large {
            let off = c.offset_of(j);
            let old = entry_len(c.bytes(), off);
            c.splice(off, old, &e);
            self.split_if_needed(ci, fill);
        } else if c.is_plain() && large {
            *c = Chunk::plain(&e);
        } else if c.is_plain() {
            // Redis inserts the element after the plain node (at the head
            // of the next node when it has room), then drops the node.
            match self.chunks.get_mut(ci + 1) {
                Some(next) if fill.allows(next, e.total) => {
                    next.push(End::Front, &e);
                    self.chunks.remove(ci);
                }
                _ => self.chunks[ci] = Chunk::single(&e),
            }
        } else {
            // A large element in a packed chunk: the chunk is split around
            // it and it goes in a plain chunk between the halves.
            let count = c.count as usize;
            let tail = (j + 1 < count).then(|| c.split_off(j + 1));
            if c.count == 1 {
                *c = Chunk::plain(&e);
            } else {
                let last = c.used() - c.offset_of(j);
                c.drop_at(End::Back, last, 1);
                self.chunks.insert(ci + 1, Chunk::plain(&e));
            }
            if let Some(t) = tail {
                let at = if self.chunks[ci].is_plain() {
                    ci + 1
                } else {
                    ci + 2
                };
                self.chunks.insert(at, t);
            }
        }
        true
    }

    /// Splits chunk `ci` in halves while it is over the limits.
    fn split_if_needed(&mut self, ci: usize, fill: Fill) {
        if fill.overflows(&self.chunks[ci]) {
            let c = &mut self.chunks[ci];
            let half = c.count as usize / 2;
            let tail = c.split_off(half);
            self.chunks.insert(ci + 1, tail);
            self.split_if_needed(ci + 1, fill);
            self.split_if_needed(ci, fill);
        }
    }

    /// Inserts `elem` before (or after) the first element equal to `pivot`,
    /// walking from the head. Returns the new length, or `None` when no
    /// element equals `pivot`.
    pub fn insert(&mut self, pivot: &[u8], after: bool, elem: &[u8], fill: Fill) -> Option<usize> {
        let needle = Elem::of(pivot);
        let mut found = None;
        'chunks: for (ci, c) in self.chunks.iter().enumerate() {
            let b = c.bytes();
            let mut off = 0;
            let mut j = 0;
            while off < b.len() {
                let (e, n) = decode(b, off);
                if e == needle {
                    found = Some(if after {
                        (ci, off + n, j + 1)
                    } else {
                        (ci, off, j)
                    });
                    break 'chunks;
                }
                off += n;
                j += 1;
            }
        }
        let (ci, off, j) = found?;
        let e = Enc::new(elem);
        let large = fill.is_large(elem.len());
        let c = &mut self.chunks[ci];
        self.len += 1;
        if !c.is_plain() && !large {
            c.splice(off, 0, &e);
            c.count += 1;
            self.split_if_needed(ci, fill);
        } else if large {
            // Next to the pivot's chunk when the pivot is plain or at the
            // edge the element goes to, else between the chunk's halves.
            if c.is_plain() || j == 0 {
                self.chunks
                    .insert(ci + usize::from(after), Chunk::plain(&e));
            } else if j == c.count as usize {
                self.chunks.insert(ci + 1, Chunk::plain(&e));
            } else {
                let tail = c.split_off(j);
                self.chunks.insert(ci + 1, Chunk::plain(&e));
                self.chunks.insert(ci + 2, tail);
            }
        } else {
            // A small element beside a plain pivot: at the near end of the
            // neighbouring chunk when it has room, else in a new chunk.
            let side = if after {
                ci.checked_add(1)
            } else {
                ci.checked_sub(1)
            };
            match side.and_then(|s| self.chunks.get_mut(s)) {
                Some(n) if fill.allows(n, e.total) => {
                    n.push(if after { End::Front } else { End::Back }, &e);
                }
                _ => self
                    .chunks
                    .insert(ci + usize::from(after), Chunk::single(&e)),
            }
        }
        Some(self.len)
    }

    /// Removes elements equal to `elem` (LREM): at most `limit` of them
    /// (`None`: all), the first ones from the head, or from the tail when
    /// `from_back`. Returns how many were removed.
    pub fn remove(&mut self, elem: &[u8], limit: Option<usize>, from_back: bool) -> usize {
        let needle = Elem::of(elem);
        let mut left = limit.unwrap_or(usize::MAX);
        let mut removed = 0;
        let mut ranges = Vec::new();
        let n = self.chunks.len();
        for step in 0..n {
            if left == 0 {
                break;
            }
            let ci = if from_back { n - 1 - step } else { step };
            let c = &mut self.chunks[ci];
            ranges.clear();
            let b = c.bytes();
            let mut off = 0;
            while off < b.len() {
                let (e, len) = decode(b, off);
                if e == needle {
                    ranges.push((off, len));
                    if !from_back && ranges.len() == left {
                        break;
                    }
                }
                off += len;
            }
            if from_back && ranges.len() > left {
                ranges.drain(..ranges.len() - left);
            }
            c.remove_entries(&ranges);
            removed += ranges.len();
            left -= ranges.len();
        }
        self.chunks.retain(|c| c.count > 0);
        self.len -= removed;
        removed
    }

    /// Removes `front` elements from the head and `back` from the tail
    /// (LTRIM); more than there are empties the list.
    pub fn trim(&mut self, front: usize, back: usize) {
        if front.saturating_add(back) >= self.len {
            self.chunks.clear();
            self.len = 0;
            return;
        }
        self.drop_n(End::Front, front);
        self.drop_n(End::Back, back);
    }

    fn drop_n(&mut self, end: End, mut k: usize) {
        self.len -= k;
        while k > 0 {
            let Some(c) = self.end_chunk(end) else {
                unreachable!("k <= len");
            };
            let count = c.count as usize;
            if count <= k {
                k -= count;
                match end {
                    End::Front => self.chunks.pop_front(),
                    End::Back => self.chunks.pop_back(),
                };
                continue;
            }
            let n = match end {
                End::Front => c.offset_of(k),
                End::Back => c.used() - c.offset_of(count - k),
            };
            c.drop_at(end, n, k as u32);
            k = 0;
        }
    }

    /// The elements from head to tail.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            chunks: &self.chunks,
            ci: 0,
            off: 0,
            left: self.len,
        }
    }

    /// The elements from index `i` to the tail (empty when `i >= len`),
    /// reaching `i` from the nearer end.
    pub fn iter_from(&self, i: usize) -> Iter<'_> {
        if i >= self.len {
            return Iter {
                chunks: &self.chunks,
                ci: self.chunks.len(),
                off: 0,
                left: 0,
            };
        }
        let (ci, j) = self.locate(i);
        Iter {
            chunks: &self.chunks,
            ci,
            off: self.chunks[ci].offset_of(j),
            left: self.len - i,
        }
    }

    /// The elements from tail to head.
    pub fn iter_rev(&self) -> RevIter<'_> {
        RevIter {
            chunks: &self.chunks,
            ci: self.chunks.len(),
            end: self.chunks.back().map_or(0, Chunk::used),
            left: self.len,
        }
    }
}

/// The elements of a [`List`] from head to tail.
pub struct Iter<'a> {
    chunks: &'a VecDeque<Chunk>,
    ci: usize,
    off: usize,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Elem<'a>;

    fn next(&mut self) -> Option<Elem<'a>> {
        if self.left == 0 {
            return None;
        }
        loop {
            let b = self.chunks[self.ci].bytes();
            if self.off < b.len() {
                let (e, n) = decode(b, self.off);
                self.off += n;
                self.left -= 1;
                return Some(e);
            }
            self.ci += 1;
            self.off = 0;
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// The elements of a [`List`] from tail to head.
pub struct RevIter<'a> {
    chunks: &'a VecDeque<Chunk>,
    /// One past the chunk being read (`ci - 1` is read).
    ci: usize,
    /// End of the next entry to read in chunk `ci - 1`; 0 when that chunk
    /// is exhausted.
    end: usize,
    left: usize,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = Elem<'a>;

    fn next(&mut self) -> Option<Elem<'a>> {
        if self.left == 0 {
            return None;
        }
        loop {
            if self.end > 0 {
                let b = self.chunks[self.ci - 1].bytes();
                let s = entry_start(b, self.end);
                self.end = s;
                self.left -= 1;
                return Some(decode(b, s).0);
            }
            self.ci -= 1;
            self.end = self.chunks[self.ci - 1].used();
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for RevIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn collect(l: &List) -> Vec<Vec<u8>> {
        l.iter().map(Elem::to_vec).collect()
    }

    /// Checks every view of `l` against the oracle, and the chunk invariants.
    fn check(l: &List, o: &VecDeque<Vec<u8>>) {
        let want: Vec<Vec<u8>> = o.iter().cloned().collect();
        assert_eq!(l.len(), o.len());
        assert_eq!(collect(l), want);
        let mut rev: Vec<Vec<u8>> = l.iter_rev().map(Elem::to_vec).collect();
        rev.reverse();
        assert_eq!(rev, want);
        for i in [
            0,
            1,
            o.len() / 3,
            o.len() / 2,
            o.len().saturating_sub(1),
            o.len(),
        ] {
            let from: Vec<Vec<u8>> = l.iter_from(i).map(Elem::to_vec).collect();
            assert_eq!(from, want[i.min(want.len())..].to_vec(), "iter_from({i})");
            assert_eq!(l.get(i).map(Elem::to_vec), want.get(i).cloned());
        }
        let counted: usize = l.chunks.iter().map(|c| c.count as usize).sum();
        assert_eq!(counted, l.len());
        for c in &l.chunks {
            assert!(c.count > 0, "empty chunk kept");
            assert!(!c.is_plain() || c.count == 1, "plain chunk of {}", c.count);
            let mut off = 0;
            let mut n = 0;
            while off < c.used() {
                off += entry_len(c.bytes(), off);
                n += 1;
            }
            assert_eq!(off, c.used());
            assert_eq!(n, c.count);
        }
    }

    #[test]
    fn canonical_integers_read_back_as_the_same_text() {
        let mut l = List::new();
        let items = [
            "0",
            "-1",
            "127",
            "128",
            "-129",
            "9223372036854775807",
            "-9223372036854775808",
            "007",
        ];
        for s in items {
            l.push(End::Back, s.as_bytes(), Fill::DEFAULT);
        }
        let want: Vec<Vec<u8>> = items.iter().map(|s| s.as_bytes().to_vec()).collect();
        assert_eq!(collect(&l), want);
    }

    #[test]
    fn elements_of_every_header_size_round_trip() {
        let mut l = List::new();
        let mut o = VecDeque::new();
        for n in [
            0, 1, 62, 63, 64, 127, 128, 8191, 8192, 8193, 16383, 16384, 70_000,
        ] {
            let v = vec![b'x'; n];
            l.push(End::Back, &v, Fill::DEFAULT);
            o.push_back(v.clone());
            l.push(End::Front, &v, Fill::DEFAULT);
            o.push_front(v);
        }
        check(&l, &o);
        while let Some(v) = l.pop(End::Back) {
            assert_eq!(Some(v), o.pop_back());
        }
        assert!(o.is_empty());
    }

    #[test]
    fn chunks_respect_the_fill() {
        let mut l = List::new();
        for i in 0..1000 {
            l.push(End::Back, format!("element-{i}").as_bytes(), Fill::DEFAULT);
        }
        // ~12 bytes an entry, 8 KiB a chunk.
        assert_eq!(l.chunk_count(), 2);
        assert!(l.chunks.iter().all(|c| c.used() <= 8192));
        let mut l = List::new();
        let elems: Vec<Vec<u8>> = (0..100).map(|i| format!("e{i}").into_bytes()).collect();
        let refs: Vec<&[u8]> = elems.iter().map(|e| &e[..]).collect();
        l.push_all(End::Front, &refs, Fill::from_config(16));
        assert_eq!(l.chunk_count(), 7);
        assert!(l.chunks.iter().all(|c| c.count <= 16));
        assert_eq!(l.get(0), Some(Elem::Bytes(b"e99")));
    }

    #[test]
    fn a_batch_push_allocates_exactly() {
        let elems: Vec<Vec<u8>> = (0..100)
            .map(|i| format!("value-{i:04}").into_bytes())
            .collect();
        let refs: Vec<&[u8]> = elems.iter().map(|e| &e[..]).collect();
        let mut l = List::new();
        l.push_all(End::Back, &refs, Fill::DEFAULT);
        assert_eq!(l.chunk_count(), 1);
        assert_eq!(l.chunks[0].data.capacity(), l.chunks[0].used());
        assert_eq!(l.chunks[0].used(), 100 * 12);
    }

    #[test]
    fn queue_and_stack_patterns_stay_compact() {
        let mut l = List::new();
        for i in 0..10_000u32 {
            l.push(End::Back, &i.to_le_bytes(), Fill::DEFAULT);
            if i % 3 != 0 {
                l.pop(End::Front);
            }
        }
        assert_eq!(l.len(), 3334);
        assert!(l.heap_size() < 3334 * 8 * 2, "{}", l.heap_size());
        let mut l = List::new();
        for i in 0..10_000u32 {
            l.push(End::Front, &i.to_le_bytes(), Fill::DEFAULT);
            if i % 3 != 0 {
                l.pop(End::Back);
            }
        }
        assert_eq!(l.len(), 3334);
        assert!(l.heap_size() < 3334 * 8 * 2, "{}", l.heap_size());
    }

    #[test]
    fn middle_inserts_grow_chunks_by_an_eighth_not_double() {
        let mut l = List::new();
        l.push_all(End::Back, &[b"first", b"last"], Fill::DEFAULT);
        for i in 0..500u32 {
            l.insert(
                b"last",
                false,
                format!("middle-{i:04}").as_bytes(),
                Fill::DEFAULT,
            );
        }
        let used: usize = l.chunks.iter().map(Chunk::used).sum();
        let cap: usize = l.chunks.iter().map(|c| c.data.capacity()).sum();
        assert!(cap * 8 <= used * 10, "capacity {cap} for {used} bytes");
        assert_eq!(l.get(1), Some(Elem::Bytes(b"middle-0000")));
        assert_eq!(l.get(500), Some(Elem::Bytes(b"middle-0499")));
    }

    #[test]
    fn long_push_pop_runs_match_a_vecdeque() {
        // Queue/stack traffic as BLPOP producers and consumers make it:
        // batches of 1-3 small elements at either end, pops of 1-3 at either
        // end, the list hovering around empty and growing past a chunk.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for fill in [Fill::DEFAULT, Fill::new(40, 3), Fill::new(8192, 1)] {
            let mut l = List::new();
            let mut o: VecDeque<Vec<u8>> = VecDeque::new();
            for i in 0..100_000u64 {
                let front = next(2) == 0;
                let end = if front { End::Front } else { End::Back };
                let bias = if (i / 5000) % 2 == 0 { 6 } else { 4 };
                if next(10) < bias {
                    let elems: Vec<Vec<u8>> = (0..1 + next(3))
                        .map(|j| format!("p{}:{}", i % 7, i * 3 + j).into_bytes())
                        .collect();
                    let refs: Vec<&[u8]> = elems.iter().map(|e| &e[..]).collect();
                    l.push_all(end, &refs, fill);
                    for e in elems {
                        if front {
                            o.push_front(e);
                        } else {
                            o.push_back(e);
                        }
                    }
                } else {
                    for _ in 0..1 + next(3) {
                        let want = if front { o.pop_front() } else { o.pop_back() };
                        assert_eq!(l.pop(end), want, "op {i}");
                    }
                }
                assert_eq!(l.len(), o.len());
            }
            check(&l, &o);
        }
    }

    /// The chunks' shape: (plain, element count) each.
    fn shape(l: &List) -> Vec<(bool, u32)> {
        l.chunks.iter().map(|c| (c.is_plain(), c.count)).collect()
    }

    #[test]
    fn large_elements_get_plain_chunks_where_redis_puts_plain_nodes() {
        let fill = Fill::DEFAULT.with_packed_threshold(5);
        let mut l = List::new();
        l.push_all(End::Back, &[b"a", b"b", b"LARGE", b"c"], fill);
        assert_eq!(shape(&l), [(false, 2), (true, 1), (false, 1)]);
        // LSET of a large element in the middle of a packed chunk splits it.
        l.push_all(End::Back, &[b"d", b"e"], fill);
        assert!(l.set(4, b"HUGE!", fill));
        assert_eq!(
            shape(&l),
            [(false, 2), (true, 1), (false, 1), (true, 1), (false, 1)]
        );
        // A small element over a plain one goes to the next chunk's head.
        assert!(l.set(4, b"x", fill));
        assert_eq!(shape(&l), [(false, 2), (true, 1), (false, 1), (false, 2)]);
        // ... or into a chunk of its own when there is no next chunk.
        l.push(End::Back, b"LAST!", fill);
        assert!(l.set(6, b"y", fill));
        assert_eq!(
            shape(&l),
            [(false, 2), (true, 1), (false, 1), (false, 2), (false, 1)]
        );
        // LINSERT of a large element at a chunk's edge, and in its middle.
        assert_eq!(l.insert(b"a", false, b"FIRST", fill), Some(8));
        assert_eq!(l.insert(b"x", true, b"SPLIT", fill), Some(9));
        assert_eq!(
            shape(&l),
            [
                (true, 1),
                (false, 2),
                (true, 1),
                (false, 1),
                (false, 1),
                (true, 1),
                (false, 1),
                (false, 1)
            ]
        );
        // A small element beside a plain pivot joins the neighbour.
        assert_eq!(l.insert(b"SPLIT", false, b"s", fill), Some(10));
        assert_eq!(shape(&l)[4], (false, 2));
        let want: [&[u8]; 10] = [
            b"FIRST", b"a", b"b", b"LARGE", b"c", b"x", b"s", b"SPLIT", b"e", b"y",
        ];
        assert_eq!(collect(&l), want.map(<[u8]>::to_vec));
        let sizes: Vec<usize> = l.listpack_sizes().collect();
        assert_eq!(sizes[0], 5, "a plain node's size is its element's");
    }

    #[derive(Clone, Debug)]
    enum Op {
        Push(bool, Vec<Vec<u8>>),
        Pop(bool),
        Set(usize, Vec<u8>),
        Insert(Vec<u8>, bool, Vec<u8>),
        Remove(Vec<u8>, Option<usize>, bool),
        Trim(usize, usize),
    }

    fn elem() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => prop::sample::select(vec!["a", "b", "c", "0", "-1", "127", "128", "4095", "4096", "-4096", "-4097", "007", "", "9223372036854775807"])
                .prop_map(|s| s.as_bytes().to_vec()),
            1 => prop::collection::vec(any::<u8>(), 0..200),
            1 => (0usize..3).prop_map(|k| vec![b'z'; [63, 64, 300][k]]),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (any::<bool>(), prop::collection::vec(elem(), 1..8)).prop_map(|(f, v)| Op::Push(f, v)),
            3 => any::<bool>().prop_map(Op::Pop),
            2 => (0usize..40, elem()).prop_map(|(i, v)| Op::Set(i, v)),
            2 => (elem(), any::<bool>(), elem()).prop_map(|(p, a, v)| Op::Insert(p, a, v)),
            1 => (elem(), prop::option::of(0usize..4), any::<bool>()).prop_map(|(v, l, b)| Op::Remove(v, l, b)),
            1 => (0usize..6, 0usize..6).prop_map(|(f, b)| Op::Trim(f, b)),
        ]
    }

    fn apply(l: &mut List, o: &mut VecDeque<Vec<u8>>, op: &Op, fill: Fill) {
        match op {
            Op::Push(front, v) => {
                let refs: Vec<&[u8]> = v.iter().map(|e| &e[..]).collect();
                let end = if *front { End::Front } else { End::Back };
                l.push_all(end, &refs, fill);
                for e in v {
                    if *front {
                        o.push_front(e.clone());
                    } else {
                        o.push_back(e.clone());
                    }
                }
            }
            Op::Pop(front) => {
                let (got, want) = if *front {
                    (l.pop(End::Front), o.pop_front())
                } else {
                    (l.pop(End::Back), o.pop_back())
                };
                assert_eq!(got, want);
            }
            Op::Set(i, v) => {
                assert_eq!(l.set(*i, v, fill), *i < o.len());
                if let Some(x) = o.get_mut(*i) {
                    *x = v.clone();
                }
            }
            Op::Insert(p, after, v) => {
                let want = o.iter().position(|x| x == p).map(|i| {
                    o.insert(if *after { i + 1 } else { i }, v.clone());
                    o.len()
                });
                assert_eq!(l.insert(p, *after, v, fill), want);
            }
            Op::Remove(v, limit, from_back) => {
                let mut idx: Vec<usize> = (0..o.len()).filter(|&i| &o[i] == v).collect();
                if *from_back {
                    idx.reverse();
                }
                idx.truncate(limit.unwrap_or(usize::MAX));
                idx.sort_unstable();
                for &i in idx.iter().rev() {
                    o.remove(i);
                }
                assert_eq!(l.remove(v, *limit, *from_back), idx.len());
            }
            Op::Trim(f, b) => {
                l.trim(*f, *b);
                let keep = o.len().saturating_sub(f + b);
                let f = (*f).min(o.len());
                *o = o.iter().skip(f).take(keep).cloned().collect();
            }
        }
    }

    proptest! {
        #[test]
        fn behaves_like_a_vecdeque(
            ops in prop::collection::vec(op(), 1..120),
            fill in prop::sample::select(vec![
                Fill::new(40, 3),
                Fill::new(64, usize::MAX),
                Fill::new(8192, 1),
                Fill::DEFAULT,
                Fill::DEFAULT.with_packed_threshold(3),
                Fill::new(40, 3).with_packed_threshold(64),
            ]),
        ) {
            let mut l = List::new();
            let mut o = VecDeque::new();
            for op in &ops {
                apply(&mut l, &mut o, op, fill);
                check(&l, &o);
            }
            let copy = l.clone();
            prop_assert_eq!(&copy, &l);
            let used: usize = l.chunks.iter().map(Chunk::used).sum();
            prop_assert!(l.heap_size() >= used);
        }
    }
}
