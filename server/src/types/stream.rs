//! A stream (Redis's `t_stream.c` data layout, `stream.h`).
//!
//! Entries are kept in *nodes* exactly where Redis 7.0 would put them: a
//! `BTreeMap` from each node's master ID to the node, standing in for
//! Redis's rax of listpacks. A node keeps its master fields, its entries in
//! ID order, entries marked deleted (XDEL and exact trimming only flag them,
//! as Redis does) and the byte size its listpack would have. Keeping the
//! same node boundaries is what makes approximate trimming (`MAXLEN ~`),
//! which removes whole nodes only, give Redis's lengths, and lets a node be
//! written to an RDB file as the very listpack Redis would write.
//!
//! A stream's consumer groups are [`Stream::groups`]
//! (`super::consumer_group`).

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::consumer_group::Group;
use crate::rdb::listpack::{ListpackWriter, LpEntry};
use crate::util::num::parse_i64;

/// Where a node closes: `stream-node-max-entries` and
/// `stream-node-max-bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Entries in a node, deleted ones included (0: no limit).
    pub entries: usize,
    /// Listpack bytes of a node (0, or above 1 GB: 1 GB).
    pub bytes: usize,
}

impl Default for Limits {
    /// Redis's defaults, 100 entries and 4096 bytes.
    fn default() -> Limits {
        Limits {
            entries: 100,
            bytes: 4096,
        }
    }
}

impl Limits {
    /// The most entries an approximate trim removes when no LIMIT is
    /// given: a hundred nodes' worth, bounded as Redis bounds it.
    pub fn default_trim_limit(self) -> u64 {
        let n = (self.entries as u64).saturating_mul(100);
        if n == 0 {
            10_000
        } else {
            n.min(1_000_000)
        }
    }
}
/// Redis's `STREAM_LISTPACK_MAX_SIZE`: a node's listpack is at most 1 GB.
pub const LISTPACK_MAX_SIZE: usize = 1 << 30;

/// Entry flags in a node's listpack.
const FLAG_DELETED: u8 = 1;
const FLAG_SAMEFIELDS: u8 = 2;

/// A stream entry ID: milliseconds and sequence, ordered as a 128-bit
/// number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// The milliseconds part.
    pub ms: u64,
    /// The sequence part.
    pub seq: u64,
}

impl StreamId {
    /// `0-0`.
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// The greatest ID.
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// An ID from its parts.
    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next ID, `None` past the greatest (Redis's `streamIncrID`).
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                return None;
            }
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The previous ID, `None` before `0-0` (Redis's `streamDecrID`).
    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                return None;
            }
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    /// `ms-seq`.
    pub fn to_bytes(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24);
        out.extend_from_slice(itoa::Buffer::new().format(self.ms).as_bytes());
        out.push(b'-');
        out.extend_from_slice(itoa::Buffer::new().format(self.seq).as_bytes());
        out
    }

    /// The 16-byte big-endian key Redis's rax uses.
    pub fn encode(self) -> [u8; 16] {
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&self.ms.to_be_bytes());
        k[8..].copy_from_slice(&self.seq.to_be_bytes());
        k
    }

    /// The ID of a 16-byte rax key.
    pub fn decode(k: &[u8]) -> Option<StreamId> {
        if k.len() != 16 {
            return None;
        }
        let ms = u64::from_be_bytes(k[..8].try_into().ok()?);
        let seq = u64::from_be_bytes(k[8..].try_into().ok()?);
        Some(StreamId::new(ms, seq))
    }
}

/// How [`parse_id`] reads an ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdForm {
    /// Refuse `-` and `+`.
    pub strict: bool,
    /// Accept `ms-*` (XADD).
    pub seq_auto: bool,
    /// The sequence of an ID given as `ms` alone.
    pub missing_seq: u64,
}

/// A parsed ID and whether its sequence was given (false for `ms-*`).
pub type ParsedId = (StreamId, bool);

/// Parses an ID as Redis's `streamGenericParseIDOrReply`; `None` is
/// "Invalid stream ID specified as stream command argument".
pub fn parse_id(s: &[u8], form: IdForm) -> Option<ParsedId> {
    if s.len() > 127 {
        return None;
    }
    // Redis copies into a C string: text after a NUL is not seen.
    let s = match s.iter().position(|&b| b == 0) {
        Some(i) => &s[..i],
        None => s,
    };
    if s == b"-" || s == b"+" {
        if form.strict {
            return None;
        }
        return Some((
            if s == b"-" {
                StreamId::MIN
            } else {
                StreamId::MAX
            },
            true,
        ));
    }
    let (ms, seq) = match s.iter().position(|&b| b == b'-') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let ms = parse_u64(ms)?;
    match seq {
        Some(b"*") if form.seq_auto => Some((StreamId::new(ms, 0), false)),
        Some(seq) => Some((StreamId::new(ms, parse_u64(seq)?), true)),
        None => Some((StreamId::new(ms, form.missing_seq), true)),
    }
}

/// Redis 7.0's `string2ull`: `string2ll` (a negative value is invalid),
/// else `strtoull` (leading spaces, a sign, leading zeros; `-N` wraps),
/// which must consume everything and not overflow.
fn parse_u64(s: &[u8]) -> Option<u64> {
    if let Some(n) = parse_i64(s) {
        return u64::try_from(n).ok();
    }
    let mut rest = s;
    while let [b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r', tail @ ..] = rest {
        rest = tail;
    }
    let neg = match rest {
        [b'-', tail @ ..] => {
            rest = tail;
            true
        }
        [b'+', tail @ ..] => {
            rest = tail;
            false
        }
        _ => false,
    };
    if rest.is_empty() || !rest.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut n: u64 = 0;
    for &d in rest {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { n.wrapping_neg() } else { n })
}

/// A value as a node holds it: bytes borrowed from the node, or an
/// integer whose text is its canonical decimal form (a value that was
/// such a form when added is kept as the number, as Redis's listpack keeps
/// it; itoa gives the very text back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Val<'a> {
    /// The value's bytes.
    Bytes(&'a [u8]),
    /// A canonical decimal integer.
    Int(i64),
}

impl<'a> Val<'a> {
    /// How a node stores `s`: [`Val::Int`] when `s` is a canonical
    /// decimal integer (as `lpStringToInt64` decides: no sign but `-`, no
    /// leading zero, no `-0`, within `i64`) of magnitude below 2^62 (so
    /// that its tagged varint fits 64 bits), else [`Val::Bytes`].
    pub fn of(s: &'a [u8]) -> Val<'a> {
        if s.len() <= 20 {
            if let Some(n) = parse_i64(s) {
                if (-(1i64 << 62)..(1i64 << 62)).contains(&n) {
                    return Val::Int(n);
                }
            }
        }
        Val::Bytes(s)
    }

    /// The value's bytes (an integer in decimal).
    pub fn to_bytes(self) -> Cow<'a, [u8]> {
        match self {
            Val::Bytes(b) => Cow::Borrowed(b),
            Val::Int(n) => Cow::Owned(itoa::Buffer::new().format(n).as_bytes().to_vec()),
        }
    }

    /// Calls `f` with the value's bytes, formatting an integer on the
    /// stack.
    pub fn with_bytes<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Val::Bytes(b) => f(b),
            Val::Int(n) => f(itoa::Buffer::new().format(n).as_bytes()),
        }
    }
}

/// An entry as read from a node: its ID and field/value pairs, borrowed
/// from the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Its ID.
    pub id: StreamId,
    /// Field/value pairs.
    pub fields: Vec<(&'a [u8], Val<'a>)>,
}

/// A node: what one of Redis's listpacks holds, in a compact encoding of
/// our own (see [`Node::data`]'s layout below), one allocation for all its
/// entries, so an entry costs about what it costs in Redis's listpack.
///
/// Each entry in `data` (varints are LEB128):
///
/// * a head varint: `(ms << 2) | flags`, `ms` the difference of the ID's
///   milliseconds from the previous entry's (the first entry's: from the
///   master ID's) and `flags` [`FLAG_DELETED`] and [`FLAG_SAMEFIELDS`],
///   so the flags sit in the low bits of the first byte and deleting
///   flips a bit in place;
/// * a varint: when `ms` is 0, the sequence's difference from the
///   previous entry's, else the sequence itself (IDs only grow, so
///   neither is negative, and both are small while XADD `*` adds them:
///   entries are read from the node's start, always in order);
/// * the field count (a varint), unless the entry has the master's fields;
/// * per field its name, unless the entry has the master's fields (a
///   varint length and the bytes), and its value: a varint `len << 1`
///   and the bytes, or, for a [`Val::Int`], `(zigzag(n) << 1) | 1` alone.
///
/// The master fields (the field names of the entry that created the
/// node) come first in `data`, each a varint length and the bytes: no
/// allocation of their own, and a small `Node` (it sits in the B-tree's
/// leaves, eleven to a leaf).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    /// The master fields, then the entries, encoded, in ID order, deleted
    /// ones included.
    data: Vec<u8>,
    /// Where the entries begin in `data`.
    start: u32,
    /// Master fields.
    nmaster: u32,
    /// Entries, deleted ones included.
    count: usize,
    /// Entries not deleted.
    live: usize,
    /// Listpack bytes of the master fields and the entries (the rest of
    /// the header is added by [`Node::lp_bytes`]).
    entry_bytes: usize,
    /// The last entry's ID, deleted or not.
    last: StreamId,
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a varint at `*at` (our own encoding: always well formed).
fn get_varint(data: &[u8], at: &mut usize) -> u64 {
    // Most varints here are one byte.
    if let Some(&b) = data.get(*at) {
        if b < 0x80 {
            *at += 1;
            return u64::from(b);
        }
    }
    let mut n = 0u64;
    let mut shift = 0;
    while let Some(&b) = data.get(*at) {
        *at += 1;
        n |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            break;
        }
        shift += 7;
    }
    n
}

fn get_bytes<'a>(data: &'a [u8], at: &mut usize) -> &'a [u8] {
    let n = get_varint(data, at) as usize;
    take(data, at, n)
}

fn take<'a>(data: &'a [u8], at: &mut usize, n: usize) -> &'a [u8] {
    let start = (*at).min(data.len());
    let end = start.saturating_add(n).min(data.len());
    *at = end;
    &data[start..end]
}

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(z: u64) -> i64 {
    ((z >> 1) as i64) ^ -((z & 1) as i64)
}

/// Appends a value: an integer as its tagged zig-zag varint, bytes as a
/// tagged length and the bytes. Returns the bytes its listpack element
/// takes (as [`lp_str_size`] counts them, with one parse of the text).
fn put_val(out: &mut Vec<u8>, v: &[u8]) -> usize {
    match Val::of(v) {
        // |n| < 2^62: the zig-zag form is below 2^63, the tag fits.
        Val::Int(n) => {
            put_varint(out, (zigzag(n) << 1) | 1);
            lp_int_size(n)
        }
        Val::Bytes(b) => {
            put_varint(out, (b.len() as u64) << 1);
            out.extend_from_slice(b);
            lp_str_size(b)
        }
    }
}

/// Steps over a value without decoding an integer: its tag is the first
/// byte's low bit.
fn skip_val(data: &[u8], at: &mut usize) {
    match data.get(*at) {
        Some(&first) if first & 1 == 1 => {
            while let Some(&b) = data.get(*at) {
                *at += 1;
                if b < 0x80 {
                    break;
                }
            }
        }
        Some(_) => {
            let tag = get_varint(data, at);
            *at = at.saturating_add((tag >> 1) as usize).min(data.len());
        }
        None => {}
    }
}

fn get_val<'a>(data: &'a [u8], at: &mut usize) -> Val<'a> {
    let tag = get_varint(data, at);
    if tag & 1 == 1 {
        Val::Int(unzigzag(tag >> 1))
    } else {
        Val::Bytes(take(data, at, (tag >> 1) as usize))
    }
}

/// Appends an entry's head: the flags and the milliseconds' difference
/// in one varint, `(ms << 2) | flags` (written in two steps so that no
/// difference overflows).
fn put_head(out: &mut Vec<u8>, flags: u8, ms: u64) {
    let first = (flags & 3) | (((ms & 31) as u8) << 2);
    if ms >> 5 == 0 {
        out.push(first);
    } else {
        out.push(first | 0x80);
        put_varint(out, ms >> 5);
    }
}

/// Reads an entry's head at `*at`: its flags and milliseconds' difference.
fn get_head(data: &[u8], at: &mut usize) -> Option<(u8, u64)> {
    let first = *data.get(*at)?;
    *at += 1;
    let mut ms = u64::from((first >> 2) & 31);
    if first & 0x80 != 0 {
        ms |= get_varint(data, at) << 5;
    }
    Some((first & 3, ms))
}

/// One decoded entry header: where it is and what it is.
#[derive(Debug, Clone, Copy)]
struct Raw {
    /// The flags byte's offset.
    at: usize,
    flags: u8,
    id: StreamId,
    nfields: usize,
    /// Where its fields begin.
    body: usize,
    /// Where the next entry begins.
    next: usize,
}

/// Bytes a listpack element takes for an integer.
fn lp_int_size(n: i64) -> usize {
    if (0..=127).contains(&n) {
        2
    } else if (-4096..=4095).contains(&n) {
        3
    } else if (-32768..=32767).contains(&n) {
        4
    } else if (-(1 << 23)..(1 << 23)).contains(&n) {
        5
    } else if i32::try_from(n).is_ok() {
        6
    } else {
        10
    }
}

/// Bytes a listpack element takes for a string (stored as an integer
/// when it is a canonical one, as `lpAppend` does).
fn lp_str_size(s: &[u8]) -> usize {
    if s.len() <= 20 {
        if let Some(n) = parse_i64(s) {
            return lp_int_size(n);
        }
    }
    let n = s.len();
    let enc = if n < 64 {
        1 + n
    } else if n < 4096 {
        2 + n
    } else {
        5 + n
    };
    let back = if enc <= 127 {
        1
    } else if enc < 16383 {
        2
    } else if enc < 2_097_151 {
        3
    } else if enc < 268_435_455 {
        4
    } else {
        5
    };
    enc + back
}

impl Node {
    /// Live entries.
    pub fn live(&self) -> usize {
        self.live
    }

    /// An empty node with these master fields; `None` when they are too
    /// many or too large for the offsets kept.
    fn with_master<'f>(fields: impl ExactSizeIterator<Item = &'f [u8]>) -> Option<Node> {
        let nmaster = u32::try_from(fields.len()).ok()?;
        let mut data = Vec::new();
        for f in fields {
            put_varint(&mut data, f.len() as u64);
            data.extend_from_slice(f);
        }
        let mut node = Node {
            start: u32::try_from(data.len()).ok()?,
            nmaster,
            data,
            ..Node::default()
        };
        node.entry_bytes = node.master_fields().map(lp_str_size).sum();
        Some(node)
    }

    /// The master fields, in order.
    fn master_fields(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        let mut p = 0;
        (0..self.nmaster as usize).map(move |_| get_bytes(&self.data, &mut p))
    }

    /// The listpack's total bytes, as `lpBytes` would say.
    pub fn lp_bytes(&self) -> usize {
        let deleted = (self.count - self.live) as i64;
        7 + lp_int_size(self.live as i64)
            + lp_int_size(deleted)
            + lp_int_size(i64::from(self.nmaster))
            + lp_int_size(0)
            + self.entry_bytes
    }

    /// Heap bytes.
    fn heap_size(&self) -> usize {
        std::mem::size_of::<Node>() + self.data.capacity()
    }

    /// Decodes the entry at `at`, `None` at the end.
    fn raw(&self, prev: StreamId, at: usize) -> Option<Raw> {
        let mut r = self.head(prev, at)?;
        r.next = self.end(&r);
        Some(r)
    }

    /// Where the entry after `r` begins, its fields stepped over.
    fn end(&self, r: &Raw) -> usize {
        let (data, same, mut p) = (&self.data, r.flags & FLAG_SAMEFIELDS != 0, r.body);
        for _ in 0..r.nfields {
            if !same {
                get_bytes(data, &mut p);
            }
            skip_val(data, &mut p);
        }
        p
    }

    /// Decodes the entry header at `at` (its `next` is left at its
    /// `body`), `None` at the end.
    fn head(&self, prev: StreamId, at: usize) -> Option<Raw> {
        let data = &self.data;
        let mut p = at;
        let (flags, dms) = get_head(data, &mut p)?;
        let dseq = get_varint(data, &mut p);
        let (ms, seq) = if dms == 0 {
            (prev.ms, prev.seq.wrapping_add(dseq))
        } else {
            (prev.ms.wrapping_add(dms), dseq)
        };
        let same = flags & FLAG_SAMEFIELDS != 0;
        let nfields = if same {
            self.nmaster as usize
        } else {
            get_varint(data, &mut p) as usize
        };
        Some(Raw {
            at,
            flags,
            id: StreamId::new(ms, seq),
            nfields,
            body: p,
            next: p,
        })
    }

    /// Every entry header, in order.
    fn raws(&self, master: StreamId) -> impl Iterator<Item = Raw> + '_ {
        let (mut at, mut prev) = (self.start as usize, master);
        std::iter::from_fn(move || {
            let r = self.raw(prev, at)?;
            (at, prev) = (r.next, r.id);
            Some(r)
        })
    }

    /// The fields of an entry.
    fn fields(&self, r: &Raw) -> Vec<(&[u8], Val<'_>)> {
        self.fields_and_end(r).0
    }

    /// The fields of an entry and where the next entry begins.
    fn fields_and_end(&self, r: &Raw) -> (Vec<(&[u8], Val<'_>)>, usize) {
        let data = &self.data;
        let same = r.flags & FLAG_SAMEFIELDS != 0;
        let mut p = r.body;
        // The master fields, read along for an entry that has them.
        let mut q = 0;
        let fields = (0..r.nfields)
            .map(|_| {
                let f = get_bytes(data, if same { &mut q } else { &mut p });
                (f, get_val(data, &mut p))
            })
            .collect();
        (fields, p)
    }

    fn entry(&self, r: &Raw) -> Entry<'_> {
        Entry {
            id: r.id,
            fields: self.fields(r),
        }
    }

    /// Listpack bytes of one entry (Redis's layout: flags, ms and seq
    /// differences, the field count unless same fields, the fields, the
    /// element count), `values` being those of its values.
    fn item_bytes(
        master: StreamId,
        id: StreamId,
        flags: u8,
        fields: &[(&[u8], &[u8])],
        values: usize,
    ) -> usize {
        let same = flags & FLAG_SAMEFIELDS != 0;
        let mut n = lp_int_size(i64::from(flags))
            + lp_int_size(id.ms.wrapping_sub(master.ms) as i64)
            + lp_int_size(id.seq.wrapping_sub(master.seq) as i64);
        let nf = fields.len();
        let mut count = nf as i64 + 3;
        if !same {
            n += lp_int_size(nf as i64);
            count += nf as i64 + 1;
        }
        if !same {
            n += fields.iter().map(|(f, _)| lp_str_size(f)).sum::<usize>();
        }
        n + values + lp_int_size(count)
    }

    /// Appends an entry (its ID after every entry's).
    fn push(&mut self, master: StreamId, id: StreamId, flags: u8, fields: &[(&[u8], &[u8])]) {
        let same = flags & FLAG_SAMEFIELDS != 0;
        // IDs only grow: both differences are small and never negative.
        let prev = if self.count == 0 { master } else { self.last };
        let dms = id.ms.wrapping_sub(prev.ms);
        put_head(&mut self.data, flags, dms);
        put_varint(
            &mut self.data,
            if dms == 0 {
                id.seq.wrapping_sub(prev.seq)
            } else {
                id.seq
            },
        );
        if !same {
            put_varint(&mut self.data, fields.len() as u64);
        }
        let mut values = 0;
        for (f, v) in fields {
            if !same {
                put_varint(&mut self.data, f.len() as u64);
                self.data.extend_from_slice(f);
            }
            values += put_val(&mut self.data, v);
        }
        self.entry_bytes += Node::item_bytes(master, id, flags, fields, values);
        self.count += 1;
        if flags & FLAG_DELETED == 0 {
            self.live += 1;
        }
        self.last = id;
    }

    /// Flags the entry at `r` deleted (it must be live).
    fn mark_deleted(&mut self, r: &Raw) {
        // The flags element grows by nothing: 0 -> 1 and 2 -> 3 are both
        // one-byte listpack integers.
        self.data[r.at] |= FLAG_DELETED;
        self.live -= 1;
    }

    /// The node as Redis's listpack (master entry, then each entry).
    pub fn to_listpack(&self, master: StreamId) -> Vec<u8> {
        let mut w = ListpackWriter::new();
        w.push_int(self.live as i64);
        w.push_int((self.count - self.live) as i64);
        w.push_int(i64::from(self.nmaster));
        for f in self.master_fields() {
            w.push(f);
        }
        w.push_int(0);
        for r in self.raws(master) {
            let same = r.flags & FLAG_SAMEFIELDS != 0;
            w.push_int(i64::from(r.flags));
            w.push_int(r.id.ms.wrapping_sub(master.ms) as i64);
            w.push_int(r.id.seq.wrapping_sub(master.seq) as i64);
            let nf = r.nfields as i64;
            if !same {
                w.push_int(nf);
            }
            for (f, v) in self.fields(&r) {
                if !same {
                    w.push(f);
                }
                match v {
                    // Only a canonical integer is a `Val::Int`: `push`
                    // would have stored its text as this very integer.
                    Val::Int(n) => w.push_int(n),
                    Val::Bytes(b) => w.push(b),
                }
            }
            w.push_int(if same { nf + 3 } else { 2 * nf + 4 });
        }
        w.finish()
    }

    /// Rebuilds a node from Redis's listpack entries, checking the layout
    /// (Redis's `streamValidateListpackIntegrity`, deep form); `None` when
    /// it is not a valid stream node.
    pub fn from_listpack(master: StreamId, lp: &[LpEntry<'_>]) -> Option<Node> {
        let int = |e: Option<&LpEntry<'_>>| match e? {
            LpEntry::Int(n) => Some(*n),
            LpEntry::Str(s) => parse_i64(s),
        };
        let mut it = lp.iter();
        let count = usize::try_from(int(it.next())?).ok()?;
        let deleted = usize::try_from(int(it.next())?).ok()?;
        let nmaster = usize::try_from(int(it.next())?).ok()?;
        if nmaster > lp.len() {
            return None;
        }
        let mut master_fields = Vec::with_capacity(nmaster);
        for _ in 0..nmaster {
            master_fields.push(it.next()?.to_vec());
        }
        if int(it.next())? != 0 {
            return None;
        }
        let mut node = Node::with_master(master_fields.iter().map(Vec::as_slice))?;
        let mut prev: Option<StreamId> = None;
        while let Some(flags) = it.next() {
            let flags = u8::try_from(int(Some(flags))?).ok()?;
            if flags & !(FLAG_DELETED | FLAG_SAMEFIELDS) != 0 {
                return None;
            }
            let ms = master.ms.wrapping_add(int(it.next())? as u64);
            let seq = master.seq.wrapping_add(int(it.next())? as u64);
            let id = StreamId::new(ms, seq);
            if id < master || prev.is_some_and(|p| id <= p) {
                return None;
            }
            prev = Some(id);
            let same = flags & FLAG_SAMEFIELDS != 0;
            let mut fields: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            if same {
                for f in &master_fields {
                    fields.push((f.clone(), it.next()?.to_vec()));
                }
            } else {
                let nf = usize::try_from(int(it.next())?).ok()?;
                if nf > lp.len() {
                    return None;
                }
                for _ in 0..nf {
                    let f = it.next()?.to_vec();
                    fields.push((f, it.next()?.to_vec()));
                }
            }
            let nf = fields.len() as i64;
            let want = if same { nf + 3 } else { 2 * nf + 4 };
            if int(it.next())? != want {
                return None;
            }
            let pairs: Vec<(&[u8], &[u8])> = fields
                .iter()
                .map(|(f, v)| (f.as_slice(), v.as_slice()))
                .collect();
            node.push(master, id, flags, &pairs);
        }
        if node.live != count || node.count - node.live != deleted || node.count == 0 {
            return None;
        }
        node.data.shrink_to_fit();
        Some(node)
    }
}

/// How XADD and XTRIM trim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trim {
    /// Keep at most this many entries.
    MaxLen(u64),
    /// Remove entries below this ID.
    MinId(StreamId),
}

/// A stream: nodes of entries plus the counters Redis 7.0 keeps.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stream {
    /// Nodes by master ID (Redis's rax).
    nodes: BTreeMap<StreamId, Node>,
    /// Live entries.
    length: u64,
    /// The last ID ever added or set (XSETID).
    pub last_id: StreamId,
    /// The first live entry's ID when it was last updated (`0-0` when
    /// empty).
    pub first_id: StreamId,
    /// The greatest ID ever deleted.
    pub max_deleted: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
    /// Consumer groups by name.
    pub groups: BTreeMap<Vec<u8>, Group>,
}

/// Why an append failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendError {
    /// The ID is not greater than the last one ("equal or smaller").
    NotGreater,
    /// The fields are larger than a node may be.
    TooLarge,
}

impl Stream {
    /// An empty stream.
    pub fn new() -> Stream {
        Stream::default()
    }

    /// Live entries (XLEN).
    pub fn len(&self) -> u64 {
        self.length
    }

    /// No live entries.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Nodes (XINFO's `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The nodes by master ID.
    pub fn nodes(&self) -> impl Iterator<Item = (StreamId, &Node)> {
        self.nodes.iter().map(|(k, v)| (*k, v))
    }

    /// Approximate heap bytes (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        // A B-tree slot per node, besides the node itself.
        std::mem::size_of::<Stream>()
            + self
                .nodes
                .values()
                .map(|n| n.heap_size() + 16)
                .sum::<usize>()
            + self
                .groups
                .iter()
                .map(|(k, g)| k.len() + 16 + g.heap_size())
                .sum::<usize>()
    }

    /// True when the entry `id` exists (Redis's `streamEntryExists`).
    pub fn contains(&self, id: StreamId) -> bool {
        !self.range(id, id, 1, false).is_empty()
    }

    /// Appends an entry as XADD does (Redis's `streamAppendItem`): `id`
    /// is the ID asked for (`None`: the next one), `seq_given` false for
    /// `ms-*`. Returns the ID added.
    pub fn append(
        &mut self,
        id: Option<StreamId>,
        seq_given: bool,
        fields: &[(&[u8], &[u8])],
        limits: Limits,
    ) -> Result<StreamId, AppendError> {
        let id = match id {
            Some(id) if seq_given => id,
            Some(id) if self.last_id.ms == id.ms => {
                if self.last_id.seq == u64::MAX {
                    // Redis fails here without setting errno, so its reply
                    // depends on the errno left by an earlier call: on a
                    // fresh server, "Elements are too large to be stored".
                    return Err(AppendError::TooLarge);
                }
                StreamId::new(id.ms, self.last_id.seq + 1)
            }
            Some(id) => id,
            None => next_id(self.last_id),
        };
        if id <= self.last_id {
            return Err(AppendError::NotGreater);
        }
        let total: usize = fields.iter().map(|(f, v)| f.len() + v.len()).sum();
        if total > LISTPACK_MAX_SIZE {
            return Err(AppendError::TooLarge);
        }
        let mut tail = self.nodes.iter_mut().next_back();
        if let Some((_, node)) = &mut tail {
            let max_bytes = match limits.bytes {
                0 => LISTPACK_MAX_SIZE,
                n => n.min(LISTPACK_MAX_SIZE),
            };
            if node.lp_bytes() + total >= max_bytes
                || (limits.entries != 0 && node.count >= limits.entries)
            {
                // The node is full: give back its spare room, as Redis
                // shrinks the listpack it closes.
                node.data.shrink_to_fit();
                tail = None;
            }
        }
        match tail {
            Some((&master, node)) => {
                let same = node.nmaster as usize == fields.len()
                    && node.master_fields().zip(fields).all(|(m, (f, _))| m == *f);
                let flags = if same { FLAG_SAMEFIELDS } else { 0 };
                node.push(master, id, flags, fields);
            }
            None => {
                // At most 1 GB of fields (checked above): the offsets fit.
                let Some(mut node) = Node::with_master(fields.iter().map(|(f, _)| *f)) else {
                    return Err(AppendError::TooLarge);
                };
                node.push(id, id, FLAG_SAMEFIELDS, fields);
                self.nodes.insert(id, node);
            }
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(id)
    }

    /// Live entries with IDs in `start..=end`, from the start (or from the
    /// end when `rev`), at most `count` (0: all).
    pub fn range(&self, start: StreamId, end: StreamId, count: usize, rev: bool) -> Vec<Entry<'_>> {
        let mut out = Vec::new();
        if start > end {
            return out;
        }
        let from = self
            .nodes
            .range(..=start)
            .next_back()
            .map_or(start, |(k, _)| *k);
        let want = |r: &Raw| r.flags & FLAG_DELETED == 0 && r.id >= start && r.id <= end;
        let nodes = self.nodes.range(from..=end);
        if rev {
            for (&master, node) in nodes.rev() {
                let raws: Vec<Raw> = node.raws(master).filter(|r| want(r)).collect();
                for r in raws.iter().rev() {
                    out.push(node.entry(r));
                    if out.len() == count {
                        return out;
                    }
                }
            }
        } else {
            // One pass: an entry wanted is decoded as it is stepped over.
            for (&master, node) in nodes {
                let (mut at, mut prev) = (node.start as usize, master);
                while let Some(r) = node.head(prev, at) {
                    prev = r.id;
                    if r.id > end {
                        // Entries are in ID order, and later nodes' after.
                        return out;
                    }
                    if want(&r) {
                        let (fields, next) = node.fields_and_end(&r);
                        out.push(Entry { id: r.id, fields });
                        if out.len() == count {
                            return out;
                        }
                        at = next;
                    } else {
                        at = node.end(&r);
                    }
                }
            }
        }
        out
    }

    /// The first or last live entry's ID (Redis's `streamGetEdgeID` with
    /// tombstones skipped); `None` when empty.
    pub fn edge_id(&self, last: bool) -> Option<StreamId> {
        let r = self.range(StreamId::MIN, StreamId::MAX, 1, last);
        r.first().map(|i| i.id)
    }

    /// The last live ID, or `0-0` (Redis's `streamLastValidID`).
    pub fn last_valid_id(&self) -> StreamId {
        self.edge_id(true).unwrap_or(StreamId::MIN)
    }

    /// Marks the entry `id` deleted (XDEL); false when there is none.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&master, node)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        let Some(r) = node
            .raws(master)
            .take_while(|r| r.id <= id)
            .find(|r| r.id == id)
        else {
            return false;
        };
        if r.flags & FLAG_DELETED != 0 {
            return false;
        }
        if node.live == 1 {
            self.nodes.remove(&master);
        } else {
            node.mark_deleted(&r);
        }
        self.length -= 1;
        true
    }

    /// XDEL of many IDs, with Redis's updates of the first ID and the
    /// greatest deleted ID. Returns the entries deleted.
    pub fn delete_ids(&mut self, ids: &[StreamId]) -> u64 {
        let (mut deleted, mut first) = (0, false);
        for &id in ids {
            if self.delete(id) {
                if id == self.first_id {
                    first = true;
                }
                if id > self.max_deleted {
                    self.max_deleted = id;
                }
                deleted += 1;
            }
        }
        if deleted > 0 {
            if self.length == 0 {
                self.first_id = StreamId::MIN;
            } else if first {
                self.first_id = self.edge_id(false).unwrap_or(StreamId::MIN);
            }
        }
        deleted
    }

    /// Trims as Redis's `streamTrim`: whole nodes first; with `approx`,
    /// only whole nodes; `limit` (0: none) bounds the entries removed.
    /// Returns the entries removed.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        while let Some((&master, node)) = self.nodes.iter_mut().next() {
            if let Trim::MaxLen(max) = how {
                if self.length <= max {
                    break;
                }
            }
            let entries = node.live as u64;
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let remove = match how {
                Trim::MaxLen(max) => self.length - entries >= max,
                Trim::MinId(min) => {
                    // The node's last entry, deleted or not, as Redis reads it.
                    node.last < min
                }
            };
            if remove {
                self.nodes.remove(&master);
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let mut from_node = 0;
            let raws: Vec<Raw> = node.raws(master).collect();
            for r in &raws {
                let stop = match how {
                    Trim::MaxLen(max) => self.length <= max,
                    Trim::MinId(min) => r.id >= min,
                };
                if stop {
                    break;
                }
                if r.flags & FLAG_DELETED == 0 {
                    node.mark_deleted(r);
                    self.length -= 1;
                    from_node += 1;
                }
            }
            deleted += from_node;
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.edge_id(false).unwrap_or(StreamId::MIN);
        }
        deleted
    }

    /// Rebuilds a stream from its nodes and counters (RDB loading).
    pub fn from_parts(
        nodes: Vec<(StreamId, Node)>,
        length: u64,
        last_id: StreamId,
        first_id: StreamId,
        max_deleted: StreamId,
        entries_added: u64,
    ) -> Option<Stream> {
        let mut map = BTreeMap::new();
        let mut live = 0u64;
        let mut prev: Option<StreamId> = None;
        for (master, node) in nodes {
            let first = node.raws(master).next()?.id;
            // Nodes come in master order, each after the one before.
            if first < master || prev.is_some_and(|p| first <= p || master <= p) {
                return None;
            }
            prev = Some(node.last);
            live += node.live as u64;
            if map.insert(master, node).is_some() {
                return None;
            }
        }
        if live != length {
            return None;
        }
        Some(Stream {
            nodes: map,
            length,
            last_id,
            first_id,
            max_deleted,
            entries_added,
            groups: BTreeMap::new(),
        })
    }
}

/// The next ID after `last` for a new entry: the clock's milliseconds, or
/// `last`'s with the sequence increased (Redis's `streamNextID`).
pub fn next_id(last: StreamId) -> StreamId {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    if ms > last.ms {
        StreamId::new(ms, 0)
    } else {
        last.incr().unwrap_or(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::listpack::read_listpack;

    const LAX: IdForm = IdForm {
        strict: false,
        seq_auto: false,
        missing_seq: 0,
    };

    fn add(s: &mut Stream, ms: u64, seq: u64, fields: &[(&[u8], &[u8])]) {
        s.append(
            Some(StreamId::new(ms, seq)),
            true,
            fields,
            Limits::default(),
        )
        .unwrap();
    }

    #[test]
    fn ids_parse_as_redis_parses_them() {
        assert_eq!(parse_id(b"5", LAX), Some((StreamId::new(5, 0), true)));
        assert_eq!(parse_id(b"5-3", LAX), Some((StreamId::new(5, 3), true)));
        assert_eq!(parse_id(b"-", LAX), Some((StreamId::MIN, true)));
        assert_eq!(parse_id(b"+", LAX), Some((StreamId::MAX, true)));
        let strict = IdForm {
            strict: true,
            ..LAX
        };
        assert_eq!(parse_id(b"+", strict), None);
        assert_eq!(parse_id(b"5-*", LAX), None);
        let auto = IdForm {
            seq_auto: true,
            ..strict
        };
        assert_eq!(parse_id(b"5-*", auto), Some((StreamId::new(5, 0), false)));
        assert_eq!(parse_id(b"x", LAX), None);
        assert_eq!(parse_id(b"1-", LAX), None);
        assert_eq!(
            parse_id(b"18446744073709551615-18446744073709551615", LAX),
            Some((StreamId::MAX, true))
        );
        assert_eq!(parse_id(b"18446744073709551616", LAX), None);
    }

    #[test]
    fn appends_refuse_ids_not_greater_than_the_last() {
        let mut s = Stream::new();
        add(&mut s, 1, 1, &[(b"f", b"v")]);
        assert_eq!(
            s.append(
                Some(StreamId::new(1, 1)),
                true,
                &[(b"f", b"v")],
                Limits::default()
            ),
            Err(AppendError::NotGreater)
        );
        let id = s.append(
            Some(StreamId::new(1, 0)),
            false,
            &[(b"f", b"v")],
            Limits::default(),
        );
        assert_eq!(id, Ok(StreamId::new(1, 2)));
        add(&mut s, 2, u64::MAX, &[(b"f", b"v")]);
        let full = s.append(
            Some(StreamId::new(2, 0)),
            false,
            &[(b"f", b"v")],
            Limits::default(),
        );
        assert_eq!(full, Err(AppendError::TooLarge));
        assert_eq!(s.len(), 3);
        assert_eq!(s.entries_added, 3);
    }

    #[test]
    fn nodes_split_at_one_hundred_entries() {
        let mut s = Stream::new();
        for i in 1..=250 {
            add(&mut s, i, 0, &[(b"f", b"v")]);
        }
        assert_eq!(s.node_count(), 3);
        assert_eq!(s.trim(Trim::MaxLen(120), true, 0), 100);
        assert_eq!(s.len(), 150);
        assert_eq!(s.trim(Trim::MaxLen(120), false, 0), 30);
        assert_eq!(s.first_id, StreamId::new(131, 0));
    }

    #[test]
    fn node_size_matches_the_listpack_written() {
        let mut s = Stream::new();
        add(&mut s, 1, 0, &[(b"name", b"x"), (b"n", b"12345")]);
        add(&mut s, 2, 0, &[(b"name", b"y"), (b"n", b"-7")]);
        add(&mut s, 3, 5, &[(b"other", &[b'z'; 200])]);
        assert!(s.delete(StreamId::new(2, 0)));
        let (master, node) = s.nodes().next().unwrap();
        let lp = node.to_listpack(master);
        assert_eq!(lp.len(), node.lp_bytes());
        let back = Node::from_listpack(master, &read_listpack(&lp).unwrap()).unwrap();
        assert_eq!(&back, node);
    }

    #[test]
    fn deleting_the_last_live_entry_of_a_node_drops_the_node() {
        let mut s = Stream::new();
        add(&mut s, 1, 0, &[(b"f", b"v")]);
        add(&mut s, 2, 0, &[(b"f", b"v")]);
        assert_eq!(s.delete_ids(&[StreamId::new(1, 0)]), 1);
        assert_eq!(s.first_id, StreamId::new(2, 0));
        assert_eq!(s.delete_ids(&[StreamId::new(2, 0), StreamId::new(9, 0)]), 1);
        assert_eq!(s.node_count(), 0);
        assert_eq!(s.first_id, StreamId::MIN);
        assert_eq!(s.max_deleted, StreamId::new(2, 0));
        assert_eq!(s.last_id, StreamId::new(2, 0));
    }

    #[test]
    fn ranges_skip_deleted_entries_both_ways() {
        let mut s = Stream::new();
        for i in 1..=5 {
            add(&mut s, i, 0, &[(b"f", b"v")]);
        }
        s.delete(StreamId::new(3, 0));
        let ids = |v: Vec<Entry<'_>>| v.iter().map(|i| i.id.ms).collect::<Vec<_>>();
        assert_eq!(
            ids(s.range(StreamId::new(2, 0), StreamId::MAX, 0, false)),
            [2, 4, 5]
        );
        assert_eq!(
            ids(s.range(StreamId::MIN, StreamId::new(4, 0), 2, true)),
            [4, 2]
        );
    }
    #[test]
    fn only_canonical_integers_are_kept_as_numbers() {
        let ints: [(&[u8], i64); 7] = [
            (b"0", 0),
            (b"7", 7),
            (b"-1", -1),
            (b"1000000", 1_000_000),
            (b"4611686018427387903", (1 << 62) - 1),
            (b"-4611686018427387904", -(1 << 62)),
            (b"-42", -42),
        ];
        for (s, n) in ints {
            assert_eq!(Val::of(s), Val::Int(n), "{}", String::from_utf8_lossy(s));
            assert_eq!(&*Val::of(s).to_bytes(), s);
        }
        let strings: [&[u8]; 16] = [
            b"",
            b"-0",
            b"007",
            b"00",
            b"+1",
            b" 1",
            b"1 ",
            b"1a",
            b"-",
            b"1.5",
            b"4611686018427387904",
            b"-4611686018427387905",
            b"9223372036854775807",
            b"-9223372036854775808",
            b"9223372036854775808",
            b"123456789012345678901",
        ];
        for s in strings {
            assert_eq!(Val::of(s), Val::Bytes(s), "{}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn ids_far_from_the_master_id_read_back() {
        let mut s = Stream::new();
        let ids = [
            (0, 5),
            (0, 6),
            (1, 0),
            (31, 2),
            (32, 0),
            (1 << 40, 7),
            (1 << 59, 0),
            (u64::MAX - 1, u64::MAX),
            (u64::MAX, 0),
            (u64::MAX, u64::MAX),
        ];
        for (ms, seq) in ids {
            add(&mut s, ms, seq, &[(b"f", b"-3")]);
        }
        assert_eq!(s.node_count(), 1);
        assert!(s.delete(StreamId::new(1 << 59, 0)));
        assert!(s.delete(StreamId::new(u64::MAX, u64::MAX)));
        let got: Vec<StreamId> = s
            .range(StreamId::MIN, StreamId::MAX, 0, false)
            .iter()
            .map(|e| e.id)
            .collect();
        let want: Vec<StreamId> = ids
            .iter()
            .map(|&(ms, seq)| StreamId::new(ms, seq))
            .filter(|id| *id != StreamId::new(1 << 59, 0) && *id != StreamId::MAX)
            .collect();
        assert_eq!(got, want);
        let (master, node) = s.nodes().next().unwrap();
        assert_eq!(node.last, StreamId::MAX);
        let lp = node.to_listpack(master);
        assert_eq!(lp.len(), node.lp_bytes());
        let back = Node::from_listpack(master, &read_listpack(&lp).unwrap()).unwrap();
        assert_eq!(&back, node);
    }

    #[test]
    fn same_field_entries_store_no_field_count() {
        let mut s = Stream::new();
        add(&mut s, 1, 0, &[(b"a", b"1"), (b"b", b"x")]);
        let (_, node) = s.nodes().next().unwrap();
        let first = node.data.len();
        add(&mut s, 1, 1, &[(b"a", b"2"), (b"b", b"y")]);
        let (_, node) = s.nodes().next().unwrap();
        // Head, sequence, tagged integer, tagged length and one byte.
        assert_eq!(node.data.len() - first, 5);
    }
}

#[cfg(test)]
mod model {
    //! The node layout against a naive oracle: a `BTreeMap` of live
    //! entries.
    use super::*;
    use crate::rdb::listpack::read_listpack;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    type Fields = Vec<(Vec<u8>, Vec<u8>)>;

    #[derive(Debug, Clone)]
    enum Op {
        Add(u64, u8, usize),
        Del(u64),
        MaxLen(u64),
        MinId(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (1u64..4, 0u8..3, 0usize..300).prop_map(|(d, f, n)| Op::Add(d, f, n)),
            2 => (0u64..400).prop_map(Op::Del),
            1 => (0u64..200).prop_map(Op::MaxLen),
            1 => (0u64..400).prop_map(Op::MinId),
        ]
    }

    /// A value to store: integers at and around every edge, text that
    /// looks like an integer but is not canonical, anything.
    fn value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            any::<i64>().prop_map(|n| n.to_string().into_bytes()),
            (-300i64..300).prop_map(|n| n.to_string().into_bytes()),
            prop::sample::select(vec![
                i64::MIN,
                i64::MAX,
                -(1 << 62) - 1,
                -(1 << 62),
                (1 << 62) - 1,
                1 << 62,
                -(1 << 23),
                1 << 23,
                -32769,
                32768,
                -4097,
                4096,
                127,
                128,
                -1,
                0,
            ])
            .prop_map(|n| n.to_string().into_bytes()),
            prop::sample::select(vec![
                "-0",
                "007",
                "00",
                "+1",
                " 1",
                "1 ",
                "",
                "-",
                "9223372036854775808",
                "-9223372036854775809",
                "18446744073709551616",
                "1e3",
                "0x10",
            ])
            .prop_map(|s| s.as_bytes().to_vec()),
            "[-+ 0-9]{0,22}".prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), 0..80),
        ]
    }

    /// The listpack Redis would write for these entries, built from
    /// their text alone.
    fn reference_listpack(master: StreamId, entries: &[(StreamId, Fields)]) -> Vec<u8> {
        use crate::rdb::listpack::ListpackWriter;
        let mut w = ListpackWriter::new();
        w.push_int(entries.len() as i64);
        w.push_int(0);
        let (_, first) = &entries[0];
        w.push_int(first.len() as i64);
        for (f, _) in first {
            w.push(f);
        }
        w.push_int(0);
        for (id, fields) in entries {
            let same = fields.len() == first.len()
                && fields.iter().zip(first).all(|((a, _), (b, _))| a == b);
            w.push_int(if same { 2 } else { 0 });
            w.push_int(id.ms.wrapping_sub(master.ms) as i64);
            w.push_int(id.seq.wrapping_sub(master.seq) as i64);
            let nf = fields.len() as i64;
            if !same {
                w.push_int(nf);
            }
            for (f, v) in fields {
                if !same {
                    w.push(f);
                }
                w.push(v);
            }
            w.push_int(if same { nf + 3 } else { 2 * nf + 4 });
        }
        w.finish()
    }

    proptest! {
        #[test]
        fn values_read_back_and_write_redis_listpack_bytes(
            entries in proptest::collection::vec(
                (0u64..3, 0u64..3, proptest::collection::vec(value(), 1..4)),
                1..40,
            ),
        ) {
            let mut s = Stream::new();
            let mut written: Vec<(StreamId, Fields)> = Vec::new();
            let mut id = StreamId::new(1000, 7);
            for (dms, seq, values) in entries {
                id = if dms == 0 { StreamId::new(id.ms, id.seq + 1 + seq) } else { StreamId::new(id.ms + dms, seq) };
                let fields: Fields = values
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (vec![b'f' + i as u8], v))
                    .collect();
                let pairs: Vec<(&[u8], &[u8])> =
                    fields.iter().map(|(f, v)| (f.as_slice(), v.as_slice())).collect();
                let limits = Limits { entries: 0, bytes: 0 };
                s.append(Some(id), true, &pairs, limits).unwrap();
                written.push((id, fields));
            }
            prop_assert_eq!(s.node_count(), 1);
            let got: Vec<(StreamId, Fields)> = s
                .range(StreamId::MIN, StreamId::MAX, 0, false)
                .into_iter()
                .map(|e| (e.id, e.fields.iter().map(|(f, v)| (f.to_vec(), v.to_bytes().into_owned())).collect()))
                .collect();
            prop_assert_eq!(&got, &written);
            let (master, node) = s.nodes().next().unwrap();
            let lp = node.to_listpack(master);
            prop_assert_eq!(&lp, &reference_listpack(master, &written));
            prop_assert_eq!(lp.len(), node.lp_bytes());
            let again = Node::from_listpack(master, &read_listpack(&lp).unwrap()).unwrap();
            prop_assert_eq!(&again, node);
        }
    }

    proptest! {
        #[test]
        fn nodes_hold_what_a_plain_map_holds(ops in proptest::collection::vec(op(), 1..400)) {
            let mut s = Stream::new();
            let mut oracle: BTreeMap<StreamId, Fields> = BTreeMap::new();
            let mut ms = 0;
            for op in ops {
                match op {
                    Op::Add(d, f, n) => {
                        ms += d;
                        let value = vec![b'v'; n];
                        let n = n.to_string();
                        let fields: Vec<(&[u8], &[u8])> = match f {
                            0 => vec![(b"a", &value)],
                            1 => vec![(b"a", &value), (b"n", n.as_bytes())],
                            _ => vec![(b"b", b"-12")],
                        };
                        let limits = Limits { entries: 7, bytes: 300 };
                        let id = s.append(Some(StreamId::new(ms, 0)), false, &fields, limits).unwrap();
                        oracle.insert(id, fields.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect());
                    }
                    Op::Del(at) => {
                        let id = StreamId::new(at, 0);
                        prop_assert_eq!(s.delete_ids(&[id]), u64::from(oracle.remove(&id).is_some()));
                    }
                    Op::MaxLen(n) => {
                        let gone = s.trim(Trim::MaxLen(n), false, 0);
                        let want = (oracle.len() as u64).saturating_sub(n);
                        prop_assert_eq!(gone, want);
                        for _ in 0..want {
                            oracle.pop_first();
                        }
                    }
                    Op::MinId(at) => {
                        let min = StreamId::new(at, 0);
                        let before = oracle.len();
                        oracle.retain(|id, _| *id >= min);
                        prop_assert_eq!(s.trim(Trim::MinId(min), false, 0), (before - oracle.len()) as u64);
                    }
                }
                prop_assert_eq!(s.len(), oracle.len() as u64);
            }
            let got: Vec<(StreamId, Fields)> = s
                .range(StreamId::MIN, StreamId::MAX, 0, false)
                .into_iter()
                .map(|e| (e.id, e.fields.iter().map(|(f, v)| (f.to_vec(), v.to_bytes().into_owned())).collect()))
                .collect();
            let want: Vec<_> = oracle.clone().into_iter().collect();
            prop_assert_eq!(&got, &want);
            let back: Vec<StreamId> = s.range(StreamId::MIN, StreamId::MAX, 0, true).iter().map(|e| e.id).collect();
            prop_assert_eq!(back, want.iter().rev().map(|(id, _)| *id).collect::<Vec<_>>());
            prop_assert_eq!(s.first_id, oracle.keys().next().copied().unwrap_or(StreamId::MIN));
            for (master, node) in s.nodes() {
                let lp = node.to_listpack(master);
                prop_assert_eq!(lp.len(), node.lp_bytes());
                let again = Node::from_listpack(master, &read_listpack(&lp).unwrap()).unwrap();
                prop_assert_eq!(&again, node);
                prop_assert!(node.count <= 7);
            }
        }
    }
}
