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
//! Consumer groups are not kept yet; [`Stream`] has room for them.

use std::collections::BTreeMap;

use crate::rdb::listpack::{ListpackWriter, LpEntry};
use crate::util::num::parse_i64;

/// `stream-node-max-entries` (Redis's default; the parameter is not
/// configurable yet).
pub const NODE_MAX_ENTRIES: usize = 100;
/// `stream-node-max-bytes` (Redis's default).
pub const NODE_MAX_BYTES: usize = 4096;
/// Redis's `STREAM_LISTPACK_MAX_SIZE`: a node's listpack is at most 1 GB.
pub const LISTPACK_MAX_SIZE: usize = 1 << 30;

/// Entry flags in a node's listpack.
const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;

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

/// One entry of a node (live or marked deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Its ID.
    pub id: StreamId,
    /// Flagged deleted (XDEL, exact trimming): still in the node.
    pub deleted: bool,
    /// Its fields are the node's master fields (stored without them).
    pub samefields: bool,
    /// Field/value pairs.
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

/// A node: what one of Redis's listpacks holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    /// The field names of the entry that created the node.
    pub master_fields: Vec<Vec<u8>>,
    /// Entries in ID order, deleted ones included.
    pub items: Vec<Item>,
    /// Entries not deleted.
    pub live: usize,
    /// Listpack bytes of the entries (the header is added by
    /// [`Node::lp_bytes`]).
    entry_bytes: usize,
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
    /// The listpack's total bytes, as `lpBytes` would say.
    pub fn lp_bytes(&self) -> usize {
        let deleted = (self.items.len() - self.live) as i64;
        7 + lp_int_size(self.live as i64)
            + lp_int_size(deleted)
            + lp_int_size(self.master_fields.len() as i64)
            + self
                .master_fields
                .iter()
                .map(|f| lp_str_size(f))
                .sum::<usize>()
            + lp_int_size(0)
            + self.entry_bytes
    }

    fn item_bytes(master: StreamId, item: &Item) -> usize {
        let flags = (if item.deleted { FLAG_DELETED } else { 0 })
            | (if item.samefields { FLAG_SAMEFIELDS } else { 0 });
        let mut n = lp_int_size(flags)
            + lp_int_size(item.id.ms.wrapping_sub(master.ms) as i64)
            + lp_int_size(item.id.seq.wrapping_sub(master.seq) as i64);
        let nf = item.fields.len();
        let mut count = nf as i64 + 3;
        if !item.samefields {
            n += lp_int_size(nf as i64);
            count += nf as i64 + 1;
        }
        for (f, v) in &item.fields {
            if !item.samefields {
                n += lp_str_size(f);
            }
            n += lp_str_size(v);
        }
        n + lp_int_size(count)
    }

    /// The position of `id` among the items.
    fn find(&self, id: StreamId) -> Result<usize, usize> {
        self.items.binary_search_by(|i| i.id.cmp(&id))
    }

    /// The node as Redis's listpack (master entry, then each entry).
    pub fn to_listpack(&self, master: StreamId) -> Vec<u8> {
        let mut w = ListpackWriter::new();
        w.push_int(self.live as i64);
        w.push_int((self.items.len() - self.live) as i64);
        w.push_int(self.master_fields.len() as i64);
        for f in &self.master_fields {
            w.push(f);
        }
        w.push_int(0);
        for item in &self.items {
            let flags = (if item.deleted { FLAG_DELETED } else { 0 })
                | (if item.samefields { FLAG_SAMEFIELDS } else { 0 });
            w.push_int(flags);
            w.push_int(item.id.ms.wrapping_sub(master.ms) as i64);
            w.push_int(item.id.seq.wrapping_sub(master.seq) as i64);
            let nf = item.fields.len() as i64;
            if !item.samefields {
                w.push_int(nf);
            }
            for (f, v) in &item.fields {
                if !item.samefields {
                    w.push(f);
                }
                w.push(v);
            }
            w.push_int(if item.samefields { nf + 3 } else { 2 * nf + 4 });
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
        let mut node = Node {
            master_fields,
            ..Node::default()
        };
        let mut prev: Option<StreamId> = None;
        while let Some(flags) = it.next() {
            let flags = int(Some(flags))?;
            let ms = master.ms.wrapping_add(int(it.next())? as u64);
            let seq = master.seq.wrapping_add(int(it.next())? as u64);
            let id = StreamId::new(ms, seq);
            if id < master || prev.is_some_and(|p| id <= p) {
                return None;
            }
            prev = Some(id);
            let samefields = flags & FLAG_SAMEFIELDS != 0;
            let mut fields = Vec::new();
            if samefields {
                for f in &node.master_fields {
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
            let want = if samefields { nf + 3 } else { 2 * nf + 4 };
            if int(it.next())? != want {
                return None;
            }
            let item = Item {
                id,
                deleted: flags & FLAG_DELETED != 0,
                samefields,
                fields,
            };
            if !item.deleted {
                node.live += 1;
            }
            node.entry_bytes += Node::item_bytes(master, &item);
            node.items.push(item);
        }
        if node.live != count || node.items.len() - node.live != deleted || node.items.is_empty() {
            return None;
        }
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
        let mut n = std::mem::size_of::<Stream>();
        for node in self.nodes.values() {
            n += 64 + std::mem::size_of::<Node>();
            n += node
                .master_fields
                .iter()
                .map(|f| f.capacity() + 24)
                .sum::<usize>();
            for item in &node.items {
                n += std::mem::size_of::<Item>();
                for (f, v) in &item.fields {
                    n += f.capacity() + v.capacity() + 48;
                }
            }
        }
        n
    }

    /// Appends an entry as XADD does (Redis's `streamAppendItem`): `id`
    /// is the ID asked for (`None`: the next one), `seq_given` false for
    /// `ms-*`. Returns the ID added.
    pub fn append(
        &mut self,
        id: Option<StreamId>,
        seq_given: bool,
        fields: &[(&[u8], &[u8])],
    ) -> Result<StreamId, AppendError> {
        let id = match id {
            Some(id) if seq_given => id,
            Some(id) if self.last_id.ms == id.ms => {
                if self.last_id.seq == u64::MAX {
                    return Err(AppendError::NotGreater);
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
        if let Some((_, node)) = &tail {
            if node.lp_bytes() + total >= NODE_MAX_BYTES || node.items.len() >= NODE_MAX_ENTRIES {
                tail = None;
            }
        }
        let item_fields: Vec<(Vec<u8>, Vec<u8>)> = fields
            .iter()
            .map(|(f, v)| (f.to_vec(), v.to_vec()))
            .collect();
        match tail {
            Some((&master, node)) => {
                let samefields = node.master_fields.len() == fields.len()
                    && node
                        .master_fields
                        .iter()
                        .zip(fields)
                        .all(|(m, (f, _))| m == f);
                let item = Item {
                    id,
                    deleted: false,
                    samefields,
                    fields: item_fields,
                };
                node.entry_bytes += Node::item_bytes(master, &item);
                node.items.push(item);
                node.live += 1;
            }
            None => {
                let item = Item {
                    id,
                    deleted: false,
                    samefields: true,
                    fields: item_fields,
                };
                let mut node = Node {
                    master_fields: fields.iter().map(|(f, _)| f.to_vec()).collect(),
                    entry_bytes: Node::item_bytes(id, &item),
                    items: vec![item],
                    live: 1,
                };
                node.master_fields.shrink_to_fit();
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
    pub fn range(&self, start: StreamId, end: StreamId, count: usize, rev: bool) -> Vec<&Item> {
        let mut out = Vec::new();
        if start > end {
            return out;
        }
        let from = self
            .nodes
            .range(..=start)
            .next_back()
            .map_or(start, |(k, _)| *k);
        let want = |item: &Item| !item.deleted && item.id >= start && item.id <= end;
        let nodes = self.nodes.range(from..=end);
        if rev {
            for (_, node) in nodes.rev() {
                for item in node.items.iter().rev().filter(|i| want(i)) {
                    out.push(item);
                    if out.len() == count {
                        return out;
                    }
                }
            }
        } else {
            for (_, node) in nodes {
                for item in node.items.iter().filter(|i| want(i)) {
                    out.push(item);
                    if out.len() == count {
                        return out;
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
        let Ok(i) = node.find(id) else {
            return false;
        };
        if node.items[i].deleted {
            return false;
        }
        if node.live == 1 {
            self.nodes.remove(&master);
        } else {
            let item = &mut node.items[i];
            node.entry_bytes -= Node::item_bytes(master, item);
            item.deleted = true;
            node.entry_bytes += Node::item_bytes(master, item);
            node.live -= 1;
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
                    node.items.last().is_some_and(|i| i.id < min)
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
            for i in 0..node.items.len() {
                let stop = match how {
                    Trim::MaxLen(max) => self.length <= max,
                    Trim::MinId(min) => node.items[i].id >= min,
                };
                if stop {
                    break;
                }
                if !node.items[i].deleted {
                    let item = &mut node.items[i];
                    node.entry_bytes -= Node::item_bytes(master, item);
                    item.deleted = true;
                    node.entry_bytes += Node::item_bytes(master, item);
                    node.live -= 1;
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
            let first = node.items.first()?.id;
            // Nodes come in master order, each after the one before.
            if first < master || prev.is_some_and(|p| first <= p || master <= p) {
                return None;
            }
            prev = node.items.last().map(|i| i.id);
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
        s.append(Some(StreamId::new(ms, seq)), true, fields)
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
            s.append(Some(StreamId::new(1, 1)), true, &[(b"f", b"v")]),
            Err(AppendError::NotGreater)
        );
        let id = s.append(Some(StreamId::new(1, 0)), false, &[(b"f", b"v")]);
        assert_eq!(id, Ok(StreamId::new(1, 2)));
        assert_eq!(s.len(), 2);
        assert_eq!(s.entries_added, 2);
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
        let ids = |v: Vec<&Item>| v.iter().map(|i| i.id.ms).collect::<Vec<_>>();
        assert_eq!(
            ids(s.range(StreamId::new(2, 0), StreamId::MAX, 0, false)),
            [2, 4, 5]
        );
        assert_eq!(
            ids(s.range(StreamId::MIN, StreamId::new(4, 0), 2, true)),
            [4, 2]
        );
    }
}
