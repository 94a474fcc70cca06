//! [`Pack`]: a compact list of byte strings, the listpack encoding of small
//! hashes and sets.
//!
//! Each string is a LEB128 length ([`varint`]) followed by its bytes, so a
//! small container costs its content plus 1–2 bytes per string. Buffers
//! grow to the exact size they need (as Redis's listpack reallocs per
//! insert): the allocator's size classes are geometric, which keeps growth
//! amortized linear and the final block as small as the allocator allows.
//!
//! # Chunks
//!
//! Up to [`CHUNK`] bytes live in one buffer. A bigger pack is a list of
//! chunks of at most [`CHUNK`] bytes each, every chunk holding whole strings
//! (and, for a hash, whole field/value pairs: [`Pack::push_pair`] never
//! splits one). The reason is the allocator: its size classes above 4 KiB
//! are a quarter of a power of two apart, so one 4.3 KB buffer takes a
//! 5 KiB block — 19% of it unused — where a 4 KiB chunk and a 0.2 KB chunk
//! take 4.3 KiB. A pack of `n` bytes wastes at most what its last chunk's
//! size class rounds up, instead of up to a quarter of `n`. Lookups scan the
//! chunks in order, as they scanned the one buffer.
//!
//! Adjacent chunks that would fit in one are merged when strings are
//! removed, so a pack never has more than about twice the chunks its bytes
//! need. A string longer than [`CHUNK`] (only with raised
//! `*-max-listpack-value` limits) gets a chunk of its own, and a value
//! replaced by a longer one may take its chunk past [`CHUNK`]: both only
//! cost memory, never correctness.

use crate::util::varint;

/// Most bytes a chunk holds (unless one string alone is longer): jemalloc's
/// page, and its last size class before the spacing widens to 1 KiB.
pub const CHUNK: usize = 4096;

/// A list of byte strings packed into one buffer, or into chunks of whole
/// strings past [`CHUNK`] bytes (see the [module docs](self)).
#[derive(Clone, Default)]
pub struct Pack {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    /// One buffer and the number of strings in it.
    One(Vec<u8>, u32),
    /// Chunks, boxed so that a `Pack` stays as small as a `Vec` and a count.
    Many(Box<Chunks>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::One(Vec::new(), 0)
    }
}

#[derive(Clone)]
struct Chunks {
    /// Never empty, and no chunk in it is empty.
    chunks: Vec<Vec<u8>>,
    count: u32,
}

/// Where a string starts: a chunk and an offset in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pos {
    chunk: usize,
    off: usize,
}

impl PartialEq for Pack {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Pack {}

impl std::fmt::Debug for Pack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(String::from_utf8_lossy))
            .finish()
    }
}

/// Reads the string that starts at `off`: returns `(start, end)` of its
/// bytes (its end is the next string's offset).
#[inline]
fn read_at(buf: &[u8], off: usize) -> (usize, usize) {
    let (len, start) = varint::get(buf, off);
    (start, start + len as usize)
}

fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    varint::put(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// Bytes a string of `len` bytes takes in a pack.
pub fn packed_size(len: usize) -> usize {
    varint::len(len as u64) + len
}

/// Gives a chunk's memory back once a quarter of it is unused.
fn maybe_shrink(buf: &mut Vec<u8>) {
    let cap = buf.capacity();
    if cap - buf.len() > cap / 4 + 16 {
        buf.shrink_to_fit();
    }
}

impl Pack {
    /// An empty pack with room for `bytes` bytes of packed strings (at most
    /// a chunk's worth: the rest is reserved as it arrives).
    pub fn with_capacity(bytes: usize) -> Pack {
        Pack {
            repr: Repr::One(Vec::with_capacity(bytes.min(CHUNK)), 0),
        }
    }

    /// Number of strings.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::One(_, n) => *n as usize,
            Repr::Many(c) => c.count as usize,
        }
    }

    /// True when it holds no string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes allocated.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::One(b, _) => b.capacity(),
            Repr::Many(c) => {
                std::mem::size_of::<Chunks>()
                    + c.chunks.capacity() * std::mem::size_of::<Vec<u8>>()
                    + c.chunks.iter().map(Vec::capacity).sum::<usize>()
            }
        }
    }

    /// Where its heap part starts (for prefetching).
    pub fn heap_addr(&self) -> usize {
        match &self.repr {
            Repr::One(b, _) => b.as_ptr() as usize,
            Repr::Many(c) => &**c as *const Chunks as usize,
        }
    }

    fn chunks(&self) -> &[Vec<u8>] {
        match &self.repr {
            Repr::One(b, _) => std::slice::from_ref(b),
            Repr::Many(c) => &c.chunks,
        }
    }

    fn count_mut(&mut self) -> &mut u32 {
        match &mut self.repr {
            Repr::One(_, n) => n,
            Repr::Many(c) => &mut c.count,
        }
    }

    fn chunk_mut(&mut self, i: usize) -> &mut Vec<u8> {
        match &mut self.repr {
            Repr::One(b, _) => b,
            Repr::Many(c) => &mut c.chunks[i],
        }
    }

    /// The strings, in order.
    pub fn iter(&self) -> PackIter<'_> {
        PackIter {
            chunks: self.chunks(),
            pos: Pos { chunk: 0, off: 0 },
        }
    }

    /// The strings with the position each starts at.
    fn iter_pos(&self) -> impl Iterator<Item = (Pos, &[u8])> {
        let mut it = self.iter();
        std::iter::from_fn(move || {
            it.settle();
            let at = it.pos;
            it.next().map(|s| (at, s))
        })
    }

    /// The chunk that `bytes` more bytes go to: the last one if they fit in
    /// it, else a new one (the last is then trimmed to what it holds).
    fn tail_for(&mut self, bytes: usize) -> &mut Vec<u8> {
        let full = match &self.repr {
            Repr::One(b, _) => !b.is_empty() && b.len() + bytes > CHUNK,
            Repr::Many(c) => c.chunks.last().is_some_and(|b| b.len() + bytes > CHUNK),
        };
        if full {
            if let Repr::One(b, n) = &mut self.repr {
                let (first, count) = (std::mem::take(b), *n);
                self.repr = Repr::Many(Box::new(Chunks {
                    chunks: vec![first],
                    count,
                }));
            }
            if let Repr::Many(c) = &mut self.repr {
                if let Some(last) = c.chunks.last_mut() {
                    last.shrink_to_fit();
                }
                c.chunks.reserve_exact(1);
                c.chunks.push(Vec::new());
            }
        }
        let tail = match &mut self.repr {
            Repr::One(b, _) => b,
            Repr::Many(c) => c.chunks.last_mut().expect("chunks are never empty"),
        };
        if tail.capacity() - tail.len() < bytes {
            tail.reserve_exact(bytes);
        }
        tail
    }

    /// Appends a string.
    pub fn push(&mut self, s: &[u8]) {
        let tail = self.tail_for(packed_size(s.len()));
        write_string(tail, s);
        *self.count_mut() += 1;
    }

    /// Appends two strings (a field and its value) to the same chunk.
    pub fn push_pair(&mut self, a: &[u8], b: &[u8]) {
        let tail = self.tail_for(packed_size(a.len()) + packed_size(b.len()));
        write_string(tail, a);
        write_string(tail, b);
        *self.count_mut() += 2;
    }

    /// The position of the first string equal to `s` among those at
    /// positions `0, step, 2*step...` of every chunk (step 2 looks at a
    /// hash's fields only: chunks hold whole pairs).
    pub(crate) fn find(&self, s: &[u8], step: usize) -> Option<Pos> {
        for (chunk, buf) in self.chunks().iter().enumerate() {
            let mut off = 0;
            while off < buf.len() {
                let (start, end) = read_at(buf, off);
                if end - start == s.len() && &buf[start..end] == s {
                    return Some(Pos { chunk, off });
                }
                off = end;
                for _ in 1..step {
                    off = read_at(buf, off).1;
                }
            }
        }
        None
    }

    /// The string at `at` and the position after it in the same chunk (for
    /// a hash's field: its value's).
    pub(crate) fn at(&self, at: Pos) -> (&[u8], Pos) {
        let buf = &self.chunks()[at.chunk];
        let (s, e) = read_at(buf, at.off);
        (&buf[s..e], Pos { off: e, ..at })
    }

    /// Removes `n` strings of one chunk, starting at `at`.
    pub(crate) fn remove_at(&mut self, at: Pos, n: usize) {
        let buf = self.chunk_mut(at.chunk);
        let mut end = at.off;
        for _ in 0..n {
            end = read_at(buf, end).1;
        }
        buf.drain(at.off..end);
        maybe_shrink(buf);
        *self.count_mut() -= n as u32;
        self.rebalance(at.chunk);
    }

    /// After removals from chunk `i`: drops it if empty, merges it with a
    /// neighbour when both fit in one chunk, and goes back to one buffer
    /// when one chunk is left.
    fn rebalance(&mut self, i: usize) {
        let Repr::Many(c) = &mut self.repr else {
            return;
        };
        let chunks = &mut c.chunks;
        let fits = |chunks: &[Vec<u8>], a: usize| chunks[a].len() + chunks[a + 1].len() <= CHUNK;
        if chunks[i].is_empty() {
            chunks.remove(i);
            // Its neighbours are adjacent now.
            if i > 0 && i < chunks.len() && fits(chunks, i - 1) {
                merge_next(chunks, i - 1);
            }
        } else if i + 1 < chunks.len() && fits(chunks, i) {
            merge_next(chunks, i);
        } else if i > 0 && fits(chunks, i - 1) {
            merge_next(chunks, i - 1);
        }
        if chunks.len() == 1 {
            let (last, count) = (chunks.pop().expect("one chunk"), c.count);
            self.repr = Repr::One(last, count);
        }
    }

    /// Replaces the string at `at` by `s`.
    pub(crate) fn replace_at(&mut self, at: Pos, s: &[u8]) {
        let buf = self.chunk_mut(at.chunk);
        let (_, end) = read_at(buf, at.off);
        let new_size = packed_size(s.len());
        let old_size = end - at.off;
        if new_size > old_size {
            buf.reserve_exact(new_size - old_size);
        }
        let mut enc = Vec::with_capacity(new_size);
        write_string(&mut enc, s);
        buf.splice(at.off..end, enc);
        if new_size < old_size {
            maybe_shrink(buf);
        }
    }

    /// True when some string equals `s`.
    pub fn contains(&self, s: &[u8]) -> bool {
        self.find(s, 1).is_some()
    }

    /// Removes the first string equal to `s`; false when there is none.
    pub fn remove(&mut self, s: &[u8]) -> bool {
        match self.find(s, 1) {
            Some(at) => {
                self.remove_at(at, 1);
                true
            }
            None => false,
        }
    }

    /// The string at position `i` (O(i)).
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.iter().nth(i)
    }

    /// Removes the string at position `i` and returns it.
    pub fn take(&mut self, i: usize) -> Option<Vec<u8>> {
        let (at, s) = self.iter_pos().nth(i)?;
        let s = s.to_vec();
        self.remove_at(at, 1);
        Some(s)
    }
}

/// Appends chunk `i + 1` to chunk `i`, exactly sized.
fn merge_next(chunks: &mut Vec<Vec<u8>>, i: usize) {
    let next = chunks.remove(i + 1);
    chunks[i].reserve_exact(next.len());
    chunks[i].extend_from_slice(&next);
}

/// Iterator over a [`Pack`]'s strings.
pub struct PackIter<'a> {
    chunks: &'a [Vec<u8>],
    pos: Pos,
}

impl PackIter<'_> {
    /// Moves past the ends of chunks, to where the next string starts.
    #[inline]
    fn settle(&mut self) {
        while self.pos.chunk < self.chunks.len()
            && self.pos.off >= self.chunks[self.pos.chunk].len()
        {
            self.pos = Pos {
                chunk: self.pos.chunk + 1,
                off: 0,
            };
        }
    }
}

impl<'a> Iterator for PackIter<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        self.settle();
        let buf = self.chunks.get(self.pos.chunk)?;
        let (s, e) = read_at(buf, self.pos.off);
        self.pos.off = e;
        Some(&buf[s..e])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chunk_lens(p: &Pack) -> Vec<usize> {
        p.chunks().iter().map(Vec::len).collect()
    }

    #[test]
    fn round_trips_lengths_across_prefix_sizes() {
        let mut p = Pack::default();
        let strings: Vec<Vec<u8>> = [0usize, 1, 127, 128, 200, 16383, 16384, 70000]
            .iter()
            .map(|&n| vec![b'x'; n])
            .collect();
        for s in &strings {
            p.push(s);
        }
        assert_eq!(p.len(), strings.len());
        let back: Vec<&[u8]> = p.iter().collect();
        assert_eq!(back, strings.iter().map(|s| &s[..]).collect::<Vec<_>>());
        assert!(p.remove(&strings[3]));
        assert!(!p.contains(&strings[3]));
        assert_eq!(p.take(0), Some(vec![]));
        assert_eq!(p.len(), strings.len() - 2);
    }

    #[test]
    fn strings_are_a_varint_length_and_their_bytes() {
        let mut p = Pack::default();
        p.push(b"abc");
        p.push(&[b'z'; 200]);
        let mut want = vec![0x03, b'a', b'b', b'c', 0xc8, 0x01];
        want.extend_from_slice(&[b'z'; 200]);
        assert_eq!(p.chunks(), &[want]);
    }

    #[test]
    fn past_a_chunk_strings_go_to_new_chunks_of_whole_pairs() {
        let mut p = Pack::default();
        // 43 bytes a pair, as a hash of 9-byte fields and 32-byte values.
        for j in 0..100 {
            p.push_pair(format!("field:{j:03}").as_bytes(), &[b'v'; 32]);
        }
        assert_eq!(chunk_lens(&p), vec![95 * 43, 5 * 43]);
        assert!(chunk_lens(&p).iter().all(|&n| n <= CHUNK));
        assert_eq!(p.len(), 200);
        // Fields are found in either chunk, and their values beside them.
        for j in [0, 94, 95, 99] {
            let at = p
                .find(format!("field:{j:03}").as_bytes(), 2)
                .expect("a field");
            assert_eq!(p.at(p.at(at).1).0, &[b'v'; 32]);
        }
        // A value is never taken for a field.
        assert_eq!(p.find(&[b'v'; 32], 2), None);
        // Exactly sized: the full chunk was trimmed, the tail grew exactly.
        assert_eq!(
            p.heap_size() - std::mem::size_of::<Chunks>(),
            100 * 43 + 2 * 24
        );
    }

    #[test]
    fn removals_merge_chunks_back_into_one_buffer() {
        let mut p = Pack::default();
        for j in 0..125u32 {
            p.push(format!("{j:039}").as_bytes()); // 40 bytes packed
        }
        assert_eq!(chunk_lens(&p), vec![4080, 920]);
        for j in 0..30u32 {
            assert!(p.remove(format!("{j:039}").as_bytes()));
        }
        // 95 strings, 3800 bytes: one buffer again.
        assert!(matches!(p.repr, Repr::One(..)));
        assert_eq!(chunk_lens(&p), vec![3800]);
        assert_eq!(p.iter().next(), Some(format!("{:039}", 30).as_bytes()));
        while p.take(0).is_some() {}
        assert!(p.is_empty());
        assert_eq!(p.iter().next(), None);
    }

    #[test]
    fn a_string_longer_than_a_chunk_gets_its_own() {
        let mut p = Pack::default();
        p.push(b"a");
        p.push(&[b'x'; CHUNK + 10]);
        p.push(b"b");
        assert_eq!(chunk_lens(&p), vec![2, CHUNK + 12, 2]);
        assert!(p.remove(&[b'x'; CHUNK + 10]));
        assert_eq!(chunk_lens(&p), vec![4]);
        assert_eq!(p.iter().collect::<Vec<_>>(), vec![&b"a"[..], b"b"]);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(Vec<u8>),
        Remove(usize),
        Take(usize),
        Replace(usize, Vec<u8>),
    }

    fn string() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => proptest::collection::vec(any::<u8>(), 0..80),
            1 => proptest::collection::vec(any::<u8>(), 0..(2 * CHUNK)),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => string().prop_map(Op::Push),
            2 => any::<usize>().prop_map(Op::Remove),
            1 => any::<usize>().prop_map(Op::Take),
            2 => (any::<usize>(), string()).prop_map(|(i, s)| Op::Replace(i, s)),
        ]
    }

    proptest! {
        /// The naive oracle: a Vec of strings.
        #[test]
        fn matches_a_vec_of_strings(ops in proptest::collection::vec(op(), 0..400)) {
            let mut p = Pack::default();
            let mut oracle: Vec<Vec<u8>> = Vec::new();
            for op in ops {
                match op {
                    Op::Push(s) => {
                        p.push(&s);
                        oracle.push(s);
                    }
                    Op::Remove(i) if !oracle.is_empty() => {
                        let s = oracle[i % oracle.len()].clone();
                        let first = oracle.iter().position(|x| *x == s).expect("present");
                        oracle.remove(first);
                        prop_assert!(p.remove(&s));
                    }
                    Op::Take(i) if !oracle.is_empty() => {
                        let i = i % oracle.len();
                        prop_assert_eq!(p.take(i), Some(oracle.remove(i)));
                    }
                    Op::Replace(i, s) if !oracle.is_empty() => {
                        let i = i % oracle.len();
                        let (at, _) = p.iter_pos().nth(i).expect("present");
                        p.replace_at(at, &s);
                        oracle[i] = s;
                    }
                    _ => {}
                }
                prop_assert_eq!(p.len(), oracle.len());
                let chunks = p.chunks();
                if let Repr::Many(_) = p.repr {
                    prop_assert!(chunks.len() >= 2);
                    prop_assert!(chunks.iter().all(|c| !c.is_empty()));
                }
            }
            prop_assert!(p.iter().eq(oracle.iter().map(|s| &s[..])));
            for (i, s) in oracle.iter().enumerate() {
                prop_assert_eq!(p.get(i), Some(&s[..]));
                prop_assert!(p.contains(s));
            }
            prop_assert_eq!(p.get(oracle.len()), None);
        }
    }
}
