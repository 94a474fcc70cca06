//! A list's chunk ([`Chunk`]): one byte buffer of entries packed end to
//! end, Redis's quicklist node holding a listpack, and [`Fill`], how big
//! one may grow.
//!
//! A chunk keeps free room at both ends of its buffer: a push at either end
//! writes into it and a pop only moves the boundary, so push and pop at both
//! ends are amortised O(1) and never move the rest of the chunk. Chunks stay
//! within the limits of `list-max-listpack-size` ([`Fill`]), as quicklist
//! nodes do.
//!
//! A *plain* chunk holds one element at least as large as the packed
//! threshold ([`Fill::packed_threshold`]), as Redis 7.0 keeps such an
//! element in a plain quicklist node of its own: it never takes another
//! element and never merges. Its element is stored as an entry like any
//! other, so reading it costs nothing special.

use super::entry::{decode, entry_len, entry_start, Elem, Enc};
use super::End;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How big a chunk may grow: the meaning of `list-max-listpack-size`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    pub(super) max_bytes: usize,
    pub(super) max_count: usize,
    /// Elements of at least this many bytes go in a plain chunk of their
    /// own (Redis's `packed_threshold`).
    pub(super) packed_threshold: usize,
}

/// Redis's default packed threshold: 1 GB.
pub const DEFAULT_PACKED_THRESHOLD: usize = 1 << 30;

/// The packed threshold in force (`DEBUG QUICKLIST-PACKED-THRESHOLD`). One
/// per process, as in Redis, where it is a global of `quicklist.c`.
static PACKED_THRESHOLD: AtomicUsize = AtomicUsize::new(DEFAULT_PACKED_THRESHOLD);

/// Sets the packed threshold as Redis's `quicklistisSetPackedThreshold`:
/// 0 restores the default (1 GB); more than 4 GB - 1 MB is refused (false).
pub fn set_packed_threshold(sz: u64) -> bool {
    if sz > (1u64 << 32) - (1 << 20) {
        return false;
    }
    let sz = if sz == 0 {
        DEFAULT_PACKED_THRESHOLD
    } else {
        usize::try_from(sz).unwrap_or(usize::MAX)
    };
    PACKED_THRESHOLD.store(sz, Ordering::Relaxed);
    true
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
        packed_threshold: DEFAULT_PACKED_THRESHOLD,
    };

    /// The limits for a `list-max-listpack-size` value, as Redis 7.0's
    /// quicklist reads it: `-1`..`-5` allow 4, 8, 16, 32, 64 KiB per chunk
    /// (lower values act as `-5` here; Redis makes them one element per
    /// node), a positive `N` at most `N` elements and at most 8 KiB. The
    /// packed threshold is the one in force ([`set_packed_threshold`]).
    pub fn from_config(v: i64) -> Fill {
        const LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
        let packed_threshold = PACKED_THRESHOLD.load(Ordering::Relaxed);
        if v < 0 {
            let i = (v.unsigned_abs().min(5) - 1) as usize;
            Fill {
                max_bytes: LEVELS[i],
                max_count: usize::MAX,
                packed_threshold,
            }
        } else {
            Fill {
                max_bytes: 8192,
                max_count: usize::try_from(v).unwrap_or(usize::MAX),
                packed_threshold,
            }
        }
    }

    /// Explicit limits: at most `max_bytes` of entries and `max_count`
    /// elements per chunk (a chunk always takes at least one element).
    pub fn new(max_bytes: usize, max_count: usize) -> Fill {
        Fill {
            max_bytes,
            max_count,
            packed_threshold: DEFAULT_PACKED_THRESHOLD,
        }
    }

    /// The same limits with elements of `n` bytes or more stored plain.
    pub fn with_packed_threshold(self, n: usize) -> Fill {
        Fill {
            packed_threshold: n,
            ..self
        }
    }

    /// True when an element of `len` bytes goes in a plain chunk.
    pub(super) fn is_large(&self, len: usize) -> bool {
        len >= self.packed_threshold
    }

    /// True when `chunk` may take one more entry of `n` bytes (a plain
    /// chunk never does).
    pub(super) fn allows(&self, chunk: &Chunk, n: usize) -> bool {
        chunk.count == 0
            || (chunk.used() + n <= self.max_bytes
                && (chunk.count as usize) < self.max_count
                && !chunk.is_plain())
    }

    /// True when `chunk` is over the limits and holds more than one element.
    pub(super) fn overflows(&self, chunk: &Chunk) -> bool {
        chunk.count > 1 && (chunk.used() > self.max_bytes || chunk.count as usize > self.max_count)
    }
}

/// Entries packed in `data[gap..]`; `data[..gap]` is free room for pushes
/// at the front, the spare capacity of `data` room at the back. 32 bytes: a
/// front gap only grows in a chunk within the fill limits (at most 64 KiB)
/// or by popping, so it always fits in 31 bits; the top bit of `gap` marks
/// a plain chunk ([`PLAIN`]).
#[derive(Clone, Default)]
pub(super) struct Chunk {
    pub(super) data: Vec<u8>,
    gap: u32,
    pub(super) count: u32,
}

/// The bit of `Chunk::gap` that marks a plain chunk.
const PLAIN: u32 = 1 << 31;

impl Chunk {
    /// A chunk with room for `n` bytes of entries.
    pub(super) fn with_capacity(n: usize) -> Chunk {
        Chunk {
            data: Vec::with_capacity(n),
            gap: 0,
            count: 0,
        }
    }

    /// A plain chunk holding the one (large) element `e`.
    pub(super) fn plain(e: &Enc<'_>) -> Chunk {
        let mut data = Vec::with_capacity(e.total);
        e.append(&mut data);
        Chunk {
            data,
            gap: PLAIN,
            count: 1,
        }
    }

    /// A packed chunk holding the one element `e`.
    pub(super) fn single(e: &Enc<'_>) -> Chunk {
        let mut c = Chunk::with_capacity(e.total);
        c.push(End::Back, e);
        c
    }

    /// True for a plain chunk (one large element, see the module docs).
    pub(super) fn is_plain(&self) -> bool {
        self.gap & PLAIN != 0
    }

    /// The size Redis gives this chunk's quicklist node (`node->sz`): a
    /// listpack's bytes (its entries, a 6-byte header and an end byte), or
    /// a plain node's element length.
    pub(super) fn node_size(&self) -> usize {
        if self.is_plain() {
            match decode(self.bytes(), 0).0 {
                Elem::Bytes(b) => b.len(),
                Elem::Int(n) => itoa::Buffer::new().format(n).len(),
            }
        } else {
            self.used() + 7
        }
    }

    /// The free room before the entries.
    fn gap(&self) -> usize {
        (self.gap & !PLAIN) as usize
    }

    fn set_gap(&mut self, gap: usize) {
        debug_assert!(gap < PLAIN as usize, "a chunk's gap is {gap}");
        self.gap = gap as u32 | (self.gap & PLAIN);
    }

    /// The packed entries.
    pub(super) fn bytes(&self) -> &[u8] {
        &self.data[self.gap()..]
    }

    /// Bytes of entries.
    pub(super) fn used(&self) -> usize {
        self.data.len() - self.gap()
    }

    /// Makes sure `n` more bytes fit at `end` without moving anything.
    /// Growth is geometric (an eighth of the chunk at least) so pushes are
    /// amortised O(1), and exact for a batch that fills a fresh chunk.
    pub(super) fn reserve(&mut self, end: End, n: usize) {
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
    pub(super) fn push(&mut self, end: End, e: &Enc<'_>) {
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
    pub(super) fn peek(&self, end: End) -> (Elem<'_>, usize) {
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
    pub(super) fn drop_at(&mut self, end: End, n: usize, k: u32) {
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
    pub(super) fn offset_of(&self, j: usize) -> usize {
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
    pub(super) fn splice(&mut self, off: usize, old: usize, e: &Enc<'_>) {
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
    pub(super) fn split_off(&mut self, j: usize) -> Chunk {
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
    pub(super) fn remove_entries(&mut self, ranges: &[(usize, usize)]) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Chunk>(), 32);
    }

    #[test]
    fn fill_from_config_matches_redis_levels() {
        assert_eq!(Fill::from_config(-2), Fill::DEFAULT);
        assert_eq!(Fill::from_config(-1), Fill::new(4096, usize::MAX));
        assert_eq!(Fill::from_config(-5), Fill::new(65536, usize::MAX));
        assert_eq!(Fill::from_config(-100), Fill::new(65536, usize::MAX));
        assert_eq!(Fill::from_config(128), Fill::new(8192, 128));
    }
}
