//! A list (LPUSH...): a deque of packed chunks, Redis's quicklist of
//! listpacks in Rust.
//!
//! # Representation
//!
//! A [`List`] is a `VecDeque` of chunks. A chunk is one byte buffer holding
//! its elements packed end to end, so a list of small elements costs about
//! two bytes per element on top of the elements themselves, not one heap
//! allocation each. One entry is
//!
//! ```text
//! header   first byte, as listpack's:
//!            0xxxxxxx            integer 0..=127, no payload
//!            10xxxxxx            string of 0..=63 bytes
//!            110xxxxx xxxxxxxx   integer -4096..=4095 (13 bits), no payload
//!            1110xxxx xxxxxxxx   string of 64..=4095 bytes
//!            11110000 varint     longer string (LEB128 length)
//!            1111wwww            integer in w = 1..=8 little-endian bytes
//! payload  the string's bytes, or the integer's
//! backlen  length of header + payload, a varint read from right to left
//! ```
//!
//! The header lets a walk go forward, the backlen lets it go backward, and
//! an entry costs what it costs in Redis's listpack (two bytes for a small
//! integer, the string plus two for a short string). Elements that are the canonical text of a 64-bit integer
//! (`"123"`, `"-5"`; not `"007"` or `"+1"`) are stored as integers and turned
//! back into exactly the same text when read, so the encoding is canonical:
//! two elements are equal exactly when their [`Elem`]s are.
//!
//! A chunk keeps free room at both ends of its buffer: a push at either end
//! writes into it and a pop only moves the boundary, so push and pop at both
//! ends are amortised O(1) and never move the rest of the chunk. Chunks stay
//! within the limits of `list-max-listpack-size` ([`Fill`]), as quicklist
//! nodes do. Finding element `i` walks chunk counts from the nearer end of
//! the list, then entries from the nearer end of the chunk, so LINDEX, LSET
//! and LRANGE cost O(min(i, len - i) / chunk size + chunk size).

use std::collections::VecDeque;
use std::fmt;

use crate::util::num::parse_i64;
use crate::util::varint;

/// One end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The head (LPUSH, LPOP, `LEFT`).
    Front,
    /// The tail (RPUSH, RPOP, `RIGHT`).
    Back,
}

/// How big a chunk may grow: the meaning of `list-max-listpack-size`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    max_bytes: usize,
    max_count: usize,
}

impl Default for Fill {
    fn default() -> Self {
        Fill::DEFAULT
    }
}

impl Fill {
    /// Redis's default (`-2`): chunks of at most 8 KiB.
    pub const DEFAULT: Fill = Fill {
        max_bytes: 8192,
        max_count: usize::MAX,
    };

    /// The limits for a `list-max-listpack-size` value, as Redis 7.0's
    /// quicklist reads it: `-1`..`-5` allow 4, 8, 16, 32, 64 KiB per chunk
    /// (lower values act as `-5` here; Redis makes them one element per
    /// node), a positive `N` at most `N` elements and at most 8 KiB.
    pub fn from_config(v: i64) -> Fill {
        const LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
        if v < 0 {
            let i = (v.unsigned_abs().min(5) - 1) as usize;
            Fill {
                max_bytes: LEVELS[i],
                max_count: usize::MAX,
            }
        } else {
            Fill {
                max_bytes: 8192,
                max_count: usize::try_from(v).unwrap_or(usize::MAX),
            }
        }
    }

    /// Explicit limits: at most `max_bytes` of entries and `max_count`
    /// elements per chunk (a chunk always takes at least one element).
    pub fn new(max_bytes: usize, max_count: usize) -> Fill {
        Fill {
            max_bytes,
            max_count,
        }
    }

    /// True when `chunk` may take one more entry of `n` bytes.
    fn allows(&self, chunk: &Chunk, n: usize) -> bool {
        chunk.count == 0
            || (chunk.used() + n <= self.max_bytes && (chunk.count as usize) < self.max_count)
    }

    /// True when `chunk` is over the limits and holds more than one element.
    fn overflows(&self, chunk: &Chunk) -> bool {
        chunk.count > 1 && (chunk.used() > self.max_bytes || chunk.count as usize > self.max_count)
    }
}

/// An element as stored: bytes, or an integer whose canonical text is the
/// element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    /// Any bytes that are not a canonical integer.
    Bytes(&'a [u8]),
    /// A canonical 64-bit integer (its decimal text is the element).
    Int(i64),
}

impl<'a> Elem<'a> {
    /// How the element `s` is stored. Since the choice depends only on `s`,
    /// `Elem::of(a) == Elem::of(b)` exactly when `a == b`.
    pub fn of(s: &'a [u8]) -> Elem<'a> {
        match parse_i64(s) {
            Some(n) => Elem::Int(n),
            None => Elem::Bytes(s),
        }
    }

    /// The element's bytes.
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            Elem::Bytes(b) => b.to_vec(),
            Elem::Int(n) => itoa::Buffer::new().format(n).as_bytes().to_vec(),
        }
    }
}

// ---- entry encoding ----

/// Bytes the signed little-endian form of `n` needs (1..=8).
fn int_width(n: i64) -> usize {
    let magnitude = if n < 0 { !n } else { n };
    (64 - magnitude.leading_zeros() as usize + 1).div_ceil(8)
}

/// What an entry's header says about its payload.
#[derive(Clone, Copy)]
enum Head {
    /// An integer held by the header itself; no payload.
    Imm(i64),
    /// That many bytes of string.
    Bytes(usize),
    /// An integer in that many little-endian bytes.
    Int(usize),
}

impl Head {
    fn payload(self) -> usize {
        match self {
            Head::Imm(_) => 0,
            Head::Bytes(n) | Head::Int(n) => n,
        }
    }
}

/// Reads the header at `bytes[off..]`: what it says, and its length.
fn read_head(bytes: &[u8], off: usize) -> (Head, usize) {
    let x = bytes[off];
    match x {
        0x00..=0x7f => (Head::Imm(i64::from(x)), 1),
        0x80..=0xbf => (Head::Bytes(usize::from(x & 0x3f)), 1),
        0xc0..=0xdf => {
            let v = (i64::from(x & 0x1f) << 8) | i64::from(bytes[off + 1]);
            (Head::Imm(if v >= 4096 { v - 8192 } else { v }), 2)
        }
        0xe0..=0xef => {
            let n = (usize::from(x & 0x0f) << 8) | usize::from(bytes[off + 1]);
            (Head::Bytes(n), 2)
        }
        0xf0 => {
            let (n, end) = varint::get(bytes, off + 1);
            (Head::Bytes(n as usize), end - off)
        }
        _ => (Head::Int(usize::from(x - 0xf0)), 1),
    }
}

/// An element ready to be written as an entry.
struct Enc<'a> {
    elem: Elem<'a>,
    head: [u8; 11],
    hlen: usize,
    /// Header + payload.
    body: usize,
    /// The whole entry: body + backlen.
    total: usize,
}

impl<'a> Enc<'a> {
    fn new(s: &'a [u8]) -> Enc<'a> {
        let elem = Elem::of(s);
        let mut head = [0u8; 11];
        let (hlen, payload) = match elem {
            Elem::Int(n) if (0..=127).contains(&n) => {
                head[0] = n as u8;
                (1, 0)
            }
            Elem::Int(n) if (-4096..=4095).contains(&n) => {
                let v = (n & 0x1fff) as u16;
                head[0] = 0xc0 | (v >> 8) as u8;
                head[1] = v as u8;
                (2, 0)
            }
            Elem::Int(n) => {
                let w = int_width(n);
                head[0] = 0xf0 + w as u8;
                (1, w)
            }
            Elem::Bytes(b) if b.len() < 64 => {
                head[0] = 0x80 | b.len() as u8;
                (1, b.len())
            }
            Elem::Bytes(b) if b.len() < 4096 => {
                head[0] = 0xe0 | (b.len() >> 8) as u8;
                head[1] = b.len() as u8;
                (2, b.len())
            }
            Elem::Bytes(b) => {
                head[0] = 0xf0;
                (1 + varint::write(&mut head[1..], b.len() as u64), b.len())
            }
        };
        let body = hlen + payload;
        Enc {
            elem,
            head,
            hlen,
            body,
            total: body + varint::len(body as u64),
        }
    }

    /// The payload bytes (an integer's are in `scratch`).
    fn payload<'s>(&'s self, scratch: &'s mut [u8; 8]) -> &'s [u8] {
        match self.elem {
            Elem::Bytes(b) => b,
            Elem::Int(n) => {
                *scratch = n.to_le_bytes();
                &scratch[..self.body - self.hlen]
            }
        }
    }

    /// Writes the entry into `out`, which is exactly `total` bytes.
    fn write(&self, out: &mut [u8]) {
        debug_assert_eq!(out.len(), self.total);
        let h = self.hlen;
        out[..h].copy_from_slice(&self.head[..h]);
        let mut scratch = [0u8; 8];
        out[h..self.body].copy_from_slice(self.payload(&mut scratch));
        varint::put_rev(&mut out[self.body..], self.body as u64);
    }

    /// Appends the entry to `out`.
    fn append(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.head[..self.hlen]);
        let mut scratch = [0u8; 8];
        out.extend_from_slice(self.payload(&mut scratch));
        let mut back = [0u8; 10];
        let k = self.total - self.body;
        varint::put_rev(&mut back[..k], self.body as u64);
        out.extend_from_slice(&back[..k]);
    }
}

/// The start of the entry that ends at `bytes[..end]`.
fn entry_start(bytes: &[u8], end: usize) -> usize {
    let (body, start) = varint::get_rev(bytes, end);
    start - body as usize
}

/// The element of the entry at `bytes[off..]` and the entry's length.
fn decode(bytes: &[u8], off: usize) -> (Elem<'_>, usize) {
    let (head, h) = read_head(bytes, off);
    let p = off + h;
    let payload = head.payload();
    let elem = match head {
        Head::Imm(v) => Elem::Int(v),
        Head::Bytes(n) => Elem::Bytes(&bytes[p..p + n]),
        Head::Int(w) => {
            let b = &bytes[p..p + w];
            let fill = if b.last().is_some_and(|x| x & 0x80 != 0) {
                0xff
            } else {
                0
            };
            let mut buf = [fill; 8];
            buf[..w].copy_from_slice(b);
            Elem::Int(i64::from_le_bytes(buf))
        }
    };
    let body = h + payload;
    (elem, body + varint::len(body as u64))
}

/// The length of the entry at `bytes[off..]`.
fn entry_len(bytes: &[u8], off: usize) -> usize {
    let (head, h) = read_head(bytes, off);
    let body = h + head.payload();
    body + varint::len(body as u64)
}

// ---- chunks ----

/// Entries packed in `data[gap..]`; `data[..gap]` is free room for pushes
/// at the front, the spare capacity of `data` room at the back. 32 bytes: a
/// front gap only grows in a chunk within the fill limits (at most 64 KiB)
/// or by popping, so it always fits a `u32`.
#[derive(Clone, Default)]
struct Chunk {
    data: Vec<u8>,
    gap: u32,
    count: u32,
}

impl Chunk {
    /// A chunk with room for `n` bytes of entries.
    fn with_capacity(n: usize) -> Chunk {
        Chunk {
            data: Vec::with_capacity(n),
            gap: 0,
            count: 0,
        }
    }

    /// The free room before the entries.
    fn gap(&self) -> usize {
        self.gap as usize
    }

    fn set_gap(&mut self, gap: usize) {
        debug_assert!(u32::try_from(gap).is_ok(), "a chunk's gap is {gap}");
        self.gap = gap as u32;
    }

    /// The packed entries.
    fn bytes(&self) -> &[u8] {
        &self.data[self.gap()..]
    }

    /// Bytes of entries.
    fn used(&self) -> usize {
        self.data.len() - self.gap()
    }

    /// Makes sure `n` more bytes fit at `end` without moving anything.
    /// Growth is geometric (an eighth of the chunk at least) so pushes are
    /// amortised O(1), and exact for a batch that fills a fresh chunk.
    fn reserve(&mut self, end: End, n: usize) {
        let used = self.used();
        let want = n.max(used / 8);
        match end {
            End::Back => {
                if self.data.capacity() - self.data.len() >= n {
                    return;
                }
                if self.gap() == 0 {
                    self.data.reserve_exact(want);
                } else if self.gap() >= want {
                    // Enough room at the front: slide the entries over it.
                    let gap = self.gap();
                    self.data.copy_within(gap.., 0);
                    self.data.truncate(used);
                    self.set_gap(0);
                } else {
                    let mut v = Vec::with_capacity(used + want);
                    v.extend_from_slice(self.bytes());
                    self.data = v;
                    self.set_gap(0);
                }
            }
            End::Front => {
                if self.gap() >= n {
                    return;
                }
                let spare = self.data.capacity() - self.data.len();
                if self.gap() + spare >= want.max(n) && spare >= used / 8 {
                    // Enough room at the back: slide the entries over it.
                    let old_len = self.data.len();
                    self.data.resize(self.data.capacity(), 0);
                    let gap = self.gap();
                    self.data.copy_within(gap..old_len, gap + spare);
                    self.set_gap(gap + spare);
                } else {
                    let mut v = Vec::with_capacity(want + used);
                    v.resize(want, 0);
                    v.extend_from_slice(self.bytes());
                    self.data = v;
                    self.set_gap(want);
                }
            }
        }
    }

    /// Adds an entry at `end`.
    fn push(&mut self, end: End, e: &Enc<'_>) {
        // The first entry goes in at the back whatever `end` is: no front
        // room to make for it, however large it is.
        let end = if self.count == 0 { End::Back } else { end };
        self.reserve(end, e.total);
        match end {
            End::Back => e.append(&mut self.data),
            End::Front => {
                let at = self.gap() - e.total;
                self.set_gap(at);
                e.write(&mut self.data[at..at + e.total]);
            }
        }
        self.count += 1;
    }

    /// The element at `end` and its entry's length. The chunk is not empty.
    fn peek(&self, end: End) -> (Elem<'_>, usize) {
        let b = self.bytes();
        match end {
            End::Front => decode(b, 0),
            End::Back => {
                let s = entry_start(b, b.len());
                (decode(b, s).0, b.len() - s)
            }
        }
    }

    /// Drops `n` bytes holding `k` entries at `end`.
    fn drop_at(&mut self, end: End, n: usize, k: u32) {
        if k == self.count {
            *self = Chunk::default();
            return;
        }
        match end {
            End::Front => self.set_gap(self.gap() + n),
            End::Back => self.data.truncate(self.data.len() - n),
        }
        self.count -= k;
        self.maybe_shrink();
    }

    /// Gives memory back when more than half the buffer is free.
    fn maybe_shrink(&mut self) {
        let used = self.used();
        if self.count > 0 && self.data.capacity() > 2 * used + 64 {
            let mut v = Vec::with_capacity(used + used / 8);
            v.extend_from_slice(self.bytes());
            self.data = v;
            self.set_gap(0);
        }
    }

    /// The byte offset (in [`Chunk::bytes`]) of entry `j` (`j <= count`),
    /// walking from the nearer end.
    fn offset_of(&self, j: usize) -> usize {
        let b = self.bytes();
        let count = self.count as usize;
        if j <= count / 2 {
            let mut off = 0;
            for _ in 0..j {
                off += entry_len(b, off);
            }
            off
        } else {
            let mut end = b.len();
            for _ in j..count {
                end = entry_start(b, end);
            }
            end
        }
    }

    /// Replaces the bytes at `off..off + old` by the entry `e`.
    fn splice(&mut self, off: usize, old: usize, e: &Enc<'_>) {
        let at = self.gap() + off;
        if e.total == old {
            e.write(&mut self.data[at..at + old]);
            return;
        }
        if e.total > old {
            // Grow by an eighth at least, not Vec's doubling.
            let need = e.total - old;
            if self.data.capacity() - self.data.len() < need {
                self.data.reserve_exact(need.max(self.used() / 8));
            }
        }
        let mut tmp = Vec::with_capacity(e.total);
        e.append(&mut tmp);
        self.data.splice(at..at + old, tmp);
    }

    /// Splits off entries `j..` into a new chunk.
    fn split_off(&mut self, j: usize) -> Chunk {
        let off = self.offset_of(j);
        let tail = self.bytes()[off..].to_vec();
        self.data.truncate(self.gap() + off);
        let moved = self.count - j as u32;
        self.count = j as u32;
        self.maybe_shrink();
        Chunk {
            data: tail,
            gap: 0,
            count: moved,
        }
    }

    /// Removes the entries at the given `(offset, length)` pairs, which are
    /// in ascending order and do not overlap.
    fn remove_entries(&mut self, ranges: &[(usize, usize)]) {
        let Some(&(first, _)) = ranges.first() else {
            return;
        };
        let base = self.gap();
        let mut w = base + first;
        for (i, &(off, len)) in ranges.iter().enumerate() {
            let from = base + off + len;
            let to = ranges.get(i + 1).map_or(self.data.len(), |r| base + r.0);
            self.data.copy_within(from..to, w);
            w += to - from;
        }
        self.data.truncate(w);
        self.count -= ranges.len() as u32;
        self.maybe_shrink();
    }
}

// ---- the list ----

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
                if used + t > fill.max_bytes || count >= fill.max_count {
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
        let c = &mut self.chunks[ci];
        let off = c.offset_of(j);
        let old = entry_len(c.bytes(), off);
        c.splice(off, old, &Enc::new(elem));
        self.split_if_needed(ci, fill);
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
            while off < b.len() {
                let (e, n) = decode(b, off);
                if e == needle {
                    found = Some((ci, if after { off + n } else { off }));
                    break 'chunks;
                }
                off += n;
            }
        }
        let (ci, off) = found?;
        let c = &mut self.chunks[ci];
        c.splice(off, 0, &Enc::new(elem));
        c.count += 1;
        self.len += 1;
        self.split_if_needed(ci, fill);
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
    fn entry_start_skips_a_body_of_the_backlen_it_reads() {
        // The varint itself is tested in `util::varint`; this is how an
        // entry uses it: the backlen counts the body before it.
        for v in [0u64, 1, 127, 128, 16383, 16384, (1 << 21) - 1, 1 << 21] {
            let mut entry = vec![0u8; v as usize];
            let n = varint::len(v);
            entry.resize(entry.len() + n, 0);
            let at = entry.len() - n;
            varint::put_rev(&mut entry[at..], v);
            assert_eq!(entry_start(&entry, entry.len()), 0, "{v}");
        }
    }

    #[test]
    fn entries_have_their_exact_bytes() {
        let x200 = [b'x'; 200];
        let x4096 = [b'x'; 4096];
        let cat = |parts: &[&[u8]]| parts.concat();
        let cases: Vec<(&[u8], Vec<u8>)> = vec![
            (b"a", vec![0x81, b'a', 0x02]),
            (b"5", vec![0x05, 0x01]),
            (b"-1", vec![0xdf, 0xff, 0x02]),
            (b"128", vec![0xc0, 0x80, 0x02]),
            (b"100000", vec![0xf3, 0xa0, 0x86, 0x01, 0x04]),
            // A two-byte backlen (202) reads right to left: 01 ca.
            (&x200, cat(&[&[0xe0, 0xc8], &x200, &[0x01, 0xca]])),
            // A varint length (4096: 80 20) and backlen (4099: 20 83).
            (&x4096, cat(&[&[0xf0, 0x80, 0x20], &x4096, &[0x20, 0x83]])),
        ];
        for (s, want) in cases {
            let mut got = Vec::new();
            Enc::new(s).append(&mut got);
            assert_eq!(got, want, "{:?}", Elem::of(s));
        }
    }

    #[test]
    fn entries_take_as_many_bytes_as_in_a_listpack() {
        let cases: &[(&[u8], usize)] = &[
            (b"0", 2),
            (b"127", 2),
            (b"128", 3),
            (b"4095", 3),
            (b"-1", 3),
            (b"-4096", 3),
            (b"4096", 4),
            (b"-4097", 4),
            (b"32767", 4),
            (b"32768", 5),
            (b"9223372036854775807", 10),
            (b"-9223372036854775808", 10),
            (b"", 2),
            (b"007", 5),
            (&[b'x'; 63], 65),
            (&[b'x'; 64], 67),
            (&[b'x'; 125], 128),
            (&[b'x'; 126], 130),
            (&[b'x'; 4095], 4099),
            (&[b'x'; 4096], 4101),
        ];
        for &(s, total) in cases {
            let e = Enc::new(s);
            assert_eq!(e.total, total, "{:?}", Elem::of(s));
            let mut buf = vec![0u8; e.total];
            e.write(&mut buf);
            let mut appended = Vec::new();
            e.append(&mut appended);
            assert_eq!(appended, buf);
            assert_eq!(decode(&buf, 0), (Elem::of(s), total));
            assert_eq!(entry_len(&buf, 0), total);
            assert_eq!(entry_start(&buf, total), 0);
        }
    }

    #[test]
    fn a_chunk_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Chunk>(), 32);
    }

    #[test]
    fn int_width_is_minimal() {
        for (n, w) in [
            (0i64, 1),
            (-1, 1),
            (127, 1),
            (-128, 1),
            (128, 2),
            (-129, 2),
            (32767, 2),
            (32768, 3),
            (i64::MAX, 8),
            (i64::MIN, 8),
        ] {
            assert_eq!(int_width(n), w, "{n}");
        }
    }

    #[test]
    fn canonical_integers_are_stored_as_integers_and_read_back_as_text() {
        for s in [
            "0",
            "-1",
            "127",
            "128",
            "-9223372036854775808",
            "9223372036854775807",
        ] {
            assert!(matches!(Elem::of(s.as_bytes()), Elem::Int(_)), "{s}");
        }
        for s in [
            "007",
            "+1",
            "-0",
            " 1",
            "1 ",
            "9223372036854775808",
            "",
            "1.5",
        ] {
            assert_eq!(Elem::of(s.as_bytes()), Elem::Bytes(s.as_bytes()), "{s}");
        }
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
    fn fill_from_config_matches_redis_levels() {
        assert_eq!(Fill::from_config(-2), Fill::DEFAULT);
        assert_eq!(Fill::from_config(-1), Fill::new(4096, usize::MAX));
        assert_eq!(Fill::from_config(-5), Fill::new(65536, usize::MAX));
        assert_eq!(Fill::from_config(-100), Fill::new(65536, usize::MAX));
        assert_eq!(Fill::from_config(128), Fill::new(8192, 128));
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
            fill in prop::sample::select(vec![Fill::new(40, 3), Fill::new(64, usize::MAX), Fill::new(8192, 1), Fill::DEFAULT]),
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
