//! Values to and from their serialized form (type byte and body), choosing
//! the RDB type Redis 7.0.15 writes for the matching encoding.

use super::listpack::{read_intset, read_listpack, write_intset, ListpackWriter, LpEntry};
use super::{types, write_int, write_len, write_string, Bad, RdbStr, Reader};
use crate::types::hash::{self, Hash};
use crate::types::list::{Elem, End, Fill, List};
use crate::types::set::{self, Member, Set};
use crate::types::stream::{Node, Stream, StreamId};
use crate::types::zset::{self, ZSet};
use crate::util::num::{fmt_double, parse_f64};
use crate::value::Value;

/// The encoding limits a loaded container follows (the server's config).
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// Lists (`list-max-listpack-size`).
    pub list: Fill,
    /// Sets (`set-max-intset-entries`).
    pub set: set::Limits,
    /// Hashes (`hash-max-listpack-*`).
    pub hash: hash::Limits,
    /// Sorted sets (`zset-max-listpack-*`).
    pub zset: zset::Limits,
}

impl Limits {
    /// The limits the server's configuration sets now.
    pub fn of(shared: &crate::shared::Shared) -> Limits {
        use std::sync::atomic::Ordering::Relaxed;
        let hot = &shared.hot;
        let size = |a: &std::sync::atomic::AtomicU64| {
            usize::try_from(a.load(Relaxed)).unwrap_or(usize::MAX)
        };
        Limits {
            list: Fill::from_config(hot.list_max_listpack_size.load(Relaxed)),
            set: set::Limits {
                intset_entries: size(&hot.set_max_intset_entries),
            },
            hash: hash::Limits {
                entries: size(&hot.hash_max_listpack[0]),
                value: size(&hot.hash_max_listpack[1]),
            },
            zset: zset::Limits {
                entries: size(&hot.zset_max_listpack[0]),
                value: size(&hot.zset_max_listpack[1]),
            },
        }
    }
}

/// Serializes `v`: its RDB type byte, then its body. `compress` is
/// `rdbcompression`.
pub fn encode(v: &Value, compress: bool) -> Vec<u8> {
    let mut out = vec![value_type(v)];
    encode_body(&mut out, v, compress);
    out
}

/// The RDB type Redis 7.0.15 writes for `v`'s encoding.
pub fn value_type(v: &Value) -> u8 {
    match v {
        Value::Int(_) | Value::Str(_) | Value::Raw(_) => types::STRING,
        Value::List(_) => types::LIST_QUICKLIST_2,
        Value::Set(s) if s.is_intset() => types::SET_INTSET,
        Value::Set(_) => types::SET,
        Value::Hash(h) if h.is_compact() => types::HASH_LISTPACK,
        Value::Hash(_) => types::HASH,
        Value::ZSet(z) if z.is_listpack() => types::ZSET_LISTPACK,
        Value::ZSet(_) => types::ZSET_2,
        Value::Stream(_) => types::STREAM_LISTPACKS_2,
    }
}

/// Appends `v`'s body in the form [`value_type`] names (an RDB file puts
/// the key between the two).
pub fn encode_body(out: &mut Vec<u8>, v: &Value, compress: bool) {
    match v {
        Value::Int(n) => write_int(out, *n),
        Value::Str(s) | Value::Raw(s) => write_string(out, s, compress),
        Value::List(l) => encode_list(out, l, compress),
        Value::Set(s) => encode_set(out, s, compress),
        Value::Hash(h) => encode_hash(out, h, compress),
        Value::ZSet(z) => encode_zset(out, z, compress),
        Value::Stream(x) => encode_stream(out, x, compress),
    }
}

/// Quicklist node container kinds.
const NODE_PLAIN: u64 = 1;
const NODE_PACKED: u64 = 2;

fn encode_list(out: &mut Vec<u8>, l: &List, compress: bool) {
    let shapes: Vec<(usize, bool)> = l.node_shapes().collect();
    write_len(out, shapes.len() as u64);
    let mut elems = l.iter();
    for (count, plain) in shapes {
        if plain {
            write_len(out, NODE_PLAIN);
            let e = elems.next().map(|e| e.to_vec()).unwrap_or_default();
            write_string(out, &e, compress);
        } else {
            write_len(out, NODE_PACKED);
            let mut w = ListpackWriter::new();
            for e in elems.by_ref().take(count) {
                match e {
                    Elem::Int(n) => w.push_int(n),
                    Elem::Bytes(b) => w.push_str(b),
                }
            }
            write_string(out, &w.finish(), compress);
        }
    }
}

fn encode_set(out: &mut Vec<u8>, s: &Set, compress: bool) {
    if s.is_intset() {
        let members: Vec<i64> = s
            .iter()
            .filter_map(|m| match m {
                Member::Int(n) => Some(n),
                Member::Str(_) => None,
            })
            .collect();
        write_string(out, &write_intset(&members), compress);
        return;
    }
    write_len(out, s.len() as u64);
    for m in s.iter() {
        match m {
            Member::Int(n) => write_int(out, n),
            Member::Str(b) => write_string(out, b, compress),
        }
    }
}

fn encode_hash(out: &mut Vec<u8>, h: &Hash, compress: bool) {
    if h.is_compact() {
        let mut w = ListpackWriter::new();
        for (f, v) in h.iter() {
            w.push(f);
            w.push(v);
        }
        write_string(out, &w.finish(), compress);
        return;
    }
    write_len(out, h.len() as u64);
    for (f, v) in h.iter() {
        write_string(out, f, compress);
        write_string(out, v, compress);
    }
}

/// A score as Redis keeps it in a listpack (`d2string`): integers that
/// fit a `long long` exactly in decimal, others as `%.17g`.
fn score_text(d: f64, buf: &mut Vec<u8>) {
    buf.clear();
    if d == 0.0 {
        buf.extend_from_slice(if d.is_sign_negative() { b"-0" } else { b"0" });
    } else if d.is_finite() && d.fract() == 0.0 && d.abs() < (1u64 << 62) as f64 {
        buf.extend_from_slice(itoa::Buffer::new().format(d as i64).as_bytes());
    } else {
        fmt_double(buf, d);
    }
}

fn encode_zset(out: &mut Vec<u8>, z: &ZSet, compress: bool) {
    if z.is_listpack() {
        let mut w = ListpackWriter::new();
        let mut buf = Vec::new();
        for (m, s) in z.iter() {
            w.push(m);
            score_text(s, &mut buf);
            w.push(&buf);
        }
        write_string(out, &w.finish(), compress);
        return;
    }
    write_len(out, z.len() as u64);
    // Redis writes a skiplist from the greatest element to the smallest.
    let all: Vec<(&[u8], f64)> = z.iter().collect();
    for (m, s) in all.into_iter().rev() {
        write_string(out, m, compress);
        out.extend_from_slice(&s.to_le_bytes());
    }
}

/// A stream as Redis's `rdbSaveObject`: its listpacks keyed by master
/// ID, the counters, then the consumer groups, each with its PEL (raw IDs,
/// delivery times and counts) and its consumers (name, seen time, the IDs
/// they own).
fn encode_stream(out: &mut Vec<u8>, x: &Stream, compress: bool) {
    write_len(out, x.node_count() as u64);
    for (master, node) in x.nodes() {
        write_string(out, &master.encode(), compress);
        write_string(out, &node.to_listpack(master), compress);
    }
    write_len(out, x.len());
    for n in [
        x.last_id.ms,
        x.last_id.seq,
        x.first_id.ms,
        x.first_id.seq,
        x.max_deleted.ms,
        x.max_deleted.seq,
        x.entries_added,
    ] {
        write_len(out, n);
    }
    write_len(out, x.groups.len() as u64);
    for (name, g) in &x.groups {
        write_string(out, name, compress);
        write_len(out, g.last_id.ms);
        write_len(out, g.last_id.seq);
        // Redis writes the counter as an unsigned length: -1 is 2^64 - 1.
        write_len(out, g.entries_read as u64);
        write_len(out, g.pel.len() as u64);
        for (id, n) in &g.pel {
            out.extend_from_slice(&id.encode());
            out.extend_from_slice(&n.delivery_time.to_le_bytes());
            write_len(out, n.delivery_count);
        }
        write_len(out, g.consumers.len() as u64);
        for (cname, c) in &g.consumers {
            write_string(out, cname, compress);
            out.extend_from_slice(&c.seen_time.to_le_bytes());
            write_len(out, c.pel.len() as u64);
            for id in &c.pel {
                out.extend_from_slice(&id.encode());
            }
        }
    }
}

/// Reads a stream's consumer groups (after its counters) into `x`, as
/// Redis's `rdbLoadObject` does; a file Redis would load only to
/// misbehave later (a pending entry without an owner, one owned twice)
/// is refused.
fn decode_groups(r: &mut Reader<'_>, t: u8, x: &mut Stream) -> Result<(), Bad> {
    use crate::types::consumer_group::{Counters, Group, Nack};
    let n = r.count(3)?;
    for _ in 0..n {
        let name = r.bytes()?;
        let last = StreamId::new(r.length()?, r.length()?);
        let entries_read = if t == types::STREAM_LISTPACKS_2 {
            r.length()? as i64
        } else {
            Counters::of(x).distance(last)
        };
        let mut g = Group::new(last, entries_read);
        let pel = r.count(17)?;
        // Owners are filled in from the consumers' lists below.
        let unowned: std::sync::Arc<[u8]> = std::sync::Arc::from(&b""[..]);
        for _ in 0..pel {
            let id = StreamId::decode(r.take(16)?).ok_or(Bad)?;
            let delivery_time = i64::from_le_bytes(r.take(8)?.try_into().map_err(|_| Bad)?);
            let delivery_count = r.length()?;
            let nack = Nack {
                delivery_time,
                delivery_count,
                consumer: unowned.clone(),
            };
            if g.pel.insert(id, nack).is_some() {
                return Err(Bad);
            }
        }
        let consumers = r.count(10)?;
        let mut owned_ids = std::collections::HashSet::new();
        for _ in 0..consumers {
            let cname: std::sync::Arc<[u8]> = std::sync::Arc::from(r.bytes()?);
            let seen = i64::from_le_bytes(r.take(8)?.try_into().map_err(|_| Bad)?);
            let owned = r.count(16)?;
            let mut c = crate::types::consumer_group::Consumer {
                seen_time: seen,
                pel: Default::default(),
            };
            for _ in 0..owned {
                let id = StreamId::decode(r.take(16)?).ok_or(Bad)?;
                let nack = g.pel.get_mut(&id).ok_or(Bad)?;
                if !owned_ids.insert(id) || !c.pel.insert(id) {
                    return Err(Bad);
                }
                nack.consumer = cname.clone();
            }
            if g.consumers.insert(cname, c).is_some() {
                return Err(Bad);
            }
        }
        if !g.is_consistent() || x.groups.insert(name, g).is_some() {
            return Err(Bad);
        }
    }
    Ok(())
}

/// A stream of either listpack type, with its consumer groups.
fn decode_stream(r: &mut Reader<'_>, t: u8) -> Result<Stream, Bad> {
    let n = r.count(2)?;
    let mut nodes = Vec::new();
    for _ in 0..n {
        let master = StreamId::decode(&r.bytes()?).ok_or(Bad)?;
        let lp = r.bytes()?;
        let node = Node::from_listpack(master, &read_listpack(&lp)?).ok_or(Bad)?;
        nodes.push((master, node));
    }
    let length = r.length()?;
    let last = StreamId::new(r.length()?, r.length()?);
    let (first, max_deleted, added) = if t == types::STREAM_LISTPACKS_2 {
        let first = StreamId::new(r.length()?, r.length()?);
        let max_deleted = StreamId::new(r.length()?, r.length()?);
        (first, max_deleted, r.length()?)
    } else {
        (StreamId::MIN, StreamId::MIN, length)
    };
    let mut x = Stream::from_parts(nodes, length, last, first, max_deleted, added).ok_or(Bad)?;
    if t == types::STREAM_LISTPACKS {
        x.first_id = x.edge_id(false).unwrap_or(StreamId::MIN);
    }
    decode_groups(r, t, &mut x)?;
    Ok(x)
}

/// Reads a serialized value (type byte and body) from the start of `buf`;
/// bytes after it are ignored, as RESTORE in Redis 7.0 ignores them.
/// Containers are rebuilt under `limits`, so they take the
/// encoding Redis would give them on load.
pub fn decode(buf: &[u8], limits: Limits) -> Result<Value, Bad> {
    let mut r = Reader::new(buf);
    let t = r.byte()?;
    let v = decode_body(&mut r, t, limits)?;
    if is_empty(&v) {
        return Err(Bad);
    }
    Ok(v)
}

/// Reads the body of a value of RDB type `t` at `r`'s position. An empty
/// container is returned as such: RESTORE refuses it, loading a file skips
/// it, as Redis does.
pub fn decode_body(r: &mut Reader<'_>, t: u8, limits: Limits) -> Result<Value, Bad> {
    let v = match t {
        types::STRING => match r.string()? {
            RdbStr::Int(n) => Value::Int(n),
            RdbStr::Bytes(b) => Value::string(&b),
        },
        types::LIST => {
            let n = r.count(1)?;
            let mut l = List::new();
            for _ in 0..n {
                l.push(End::Back, &r.bytes()?, limits.list);
            }
            Value::List(Box::new(l))
        }
        types::LIST_QUICKLIST_2 => Value::List(Box::new(decode_quicklist(r, limits.list)?)),
        types::SET => {
            let n = r.count(1)?;
            let mut s = Set::default();
            for _ in 0..n {
                let added = match r.string()? {
                    RdbStr::Int(i) => s.add_member(Member::Int(i), limits.set),
                    RdbStr::Bytes(b) => s.add(&b, limits.set),
                };
                if !added {
                    return Err(Bad);
                }
            }
            Value::Set(Box::new(s))
        }
        types::SET_INTSET => {
            let ints = read_intset(&r.bytes()?)?;
            Value::Set(Box::new(Set::from_members(
                ints.into_iter().map(Member::Int),
                limits.set,
            )))
        }
        types::HASH => {
            let n = r.count(2)?;
            let mut h = Hash::default();
            for _ in 0..n {
                let f = r.bytes()?;
                let v = r.bytes()?;
                if !h.set(&f, &v, limits.hash) {
                    return Err(Bad);
                }
            }
            Value::Hash(h)
        }
        types::HASH_LISTPACK => {
            let lp = r.bytes()?;
            let entries = read_listpack(&lp)?;
            if entries.len() % 2 != 0 {
                return Err(Bad);
            }
            let mut h = Hash::default();
            for pair in entries.chunks_exact(2) {
                if !h.set(&pair[0].to_vec(), &pair[1].to_vec(), limits.hash) {
                    return Err(Bad);
                }
            }
            Value::Hash(h)
        }
        types::ZSET | types::ZSET_2 => {
            let n = r.count(if t == types::ZSET { 2 } else { 9 })?;
            let mut z = ZSet::new();
            for _ in 0..n {
                let m = r.bytes()?;
                let s = if t == types::ZSET_2 {
                    f64::from_le_bytes(r.take(8)?.try_into().map_err(|_| Bad)?)
                } else {
                    old_score(r)?
                };
                zadd_new(&mut z, &m, s, limits.zset)?;
            }
            Value::ZSet(Box::new(z))
        }
        types::ZSET_LISTPACK => {
            let lp = r.bytes()?;
            let entries = read_listpack(&lp)?;
            if entries.len() % 2 != 0 {
                return Err(Bad);
            }
            let mut z = ZSet::new();
            for pair in entries.chunks_exact(2) {
                let s = match pair[1] {
                    LpEntry::Int(n) => n as f64,
                    LpEntry::Str(b) => parse_f64(b).ok_or(Bad)?,
                };
                zadd_new(&mut z, &pair[0].to_vec(), s, limits.zset)?;
            }
            Value::ZSet(Box::new(z))
        }
        types::STREAM_LISTPACKS | types::STREAM_LISTPACKS_2 => {
            Value::Stream(Box::new(decode_stream(r, t)?))
        }
        _ => return Err(Bad),
    };
    Ok(v)
}

/// True for an empty container (Redis refuses to load one).
pub fn is_empty(v: &Value) -> bool {
    match v {
        Value::Hash(h) => h.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::ZSet(z) => z.is_empty(),
        _ => false,
    }
}

/// Adds a member that must be new, with a score that must not be NaN.
fn zadd_new(z: &mut ZSet, m: &[u8], s: f64, limits: zset::Limits) -> Result<(), Bad> {
    if s.is_nan() || z.score(m).is_some() {
        return Err(Bad);
    }
    z.insert(m, s, limits);
    Ok(())
}

/// An old-format score: a length byte (253 NaN, 254 +inf, 255 -inf) and
/// that many bytes of decimal text.
fn old_score(r: &mut Reader<'_>) -> Result<f64, Bad> {
    match r.byte()? {
        253 => Ok(f64::NAN),
        254 => Ok(f64::INFINITY),
        255 => Ok(f64::NEG_INFINITY),
        n => {
            let t = r.take(n as usize)?;
            std::str::from_utf8(t)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or(Bad)
        }
    }
}

fn decode_quicklist(r: &mut Reader<'_>, fill: Fill) -> Result<List, Bad> {
    let nodes = r.count(2)?;
    let mut l = List::new();
    for _ in 0..nodes {
        let container = r.length()?;
        let blob = r.bytes()?;
        match container {
            NODE_PLAIN => l.push(End::Back, &blob, fill),
            NODE_PACKED => {
                // Redis skips empty nodes.
                for e in read_listpack(&blob)? {
                    match e {
                        LpEntry::Int(n) => {
                            l.push(End::Back, itoa::Buffer::new().format(n).as_bytes(), fill)
                        }
                        LpEntry::Str(s) => l.push(End::Back, s, fill),
                    }
                }
            }
            _ => return Err(Bad),
        }
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(v: &Value) -> Value {
        decode(&encode(v, true), Limits::default()).unwrap()
    }

    #[test]
    fn strings_round_trip() {
        for v in [
            Value::Int(5),
            Value::Int(i64::MIN),
            Value::string(b"hello"),
            Value::string(&[7u8; 300]),
        ] {
            assert_eq!(round_trip(&v), v);
        }
    }

    #[test]
    fn containers_round_trip_small_and_large() {
        let fill = Fill::default();
        for n in [3usize, 1000] {
            let mut l = List::new();
            let mut s = Set::default();
            let mut si = Set::default();
            let mut h = Hash::default();
            let mut z = ZSet::new();
            for i in 0..n {
                let m = format!("m{i}");
                l.push(End::Back, m.as_bytes(), fill);
                l.push(End::Back, i.to_string().as_bytes(), fill);
                s.add(m.as_bytes(), set::Limits::default());
                si.add(i.to_string().as_bytes(), set::Limits::default());
                h.set(
                    m.as_bytes(),
                    i.to_string().as_bytes(),
                    hash::Limits::default(),
                );
                z.insert(m.as_bytes(), i as f64 / 3.0, zset::Limits::default());
            }
            for v in [
                Value::List(Box::new(l)),
                Value::Set(Box::new(s)),
                Value::Set(Box::new(si)),
                Value::Hash(h),
                Value::ZSet(Box::new(z)),
            ] {
                let back = round_trip(&v);
                assert_eq!(back, v);
                assert_eq!(back.encoding(), v.encoding());
            }
        }
    }

    #[test]
    fn streams_round_trip_with_their_nodes_and_counters() {
        let mut x = Stream::new();
        for k in 1..=260u64 {
            let n = k.to_string();
            let fields: [(&[u8], &[u8]); 2] = [
                (b"f", n.as_bytes()),
                (if k % 7 == 0 { b"h" } else { b"g" }, b"v"),
            ];
            x.append(
                Some(StreamId::new(k * 10, k)),
                true,
                &fields,
                Default::default(),
            )
            .unwrap();
        }
        x.delete_ids(&[StreamId::new(20, 2), StreamId::new(2000, 200)]);
        x.trim(crate::types::stream::Trim::MaxLen(200), false, 0);
        x.last_id = StreamId::new(9000, 0);
        x.entries_added = 999;
        let v = Value::Stream(Box::new(x.clone()));
        assert_eq!(round_trip(&v), v);
        // An empty stream is a value too.
        let empty = Value::Stream(Box::default());
        assert_eq!(round_trip(&empty), empty);
    }

    /// A stream of three entries with a group: `alice` owns 1-1 and 2-1,
    /// `idle` owns nothing; a second group has an unknown read counter.
    fn stream_with_groups() -> Stream {
        use crate::types::consumer_group::{Group, ENTRIES_READ_INVALID};
        let mut x = Stream::new();
        for k in 1..=3u64 {
            let fields: [(&[u8], &[u8]); 1] = [(b"f", b"v")];
            x.append(Some(StreamId::new(k, 1)), true, &fields, Default::default())
                .unwrap();
        }
        let mut g = Group::new(StreamId::new(2, 1), 2);
        let (alice, _) = g.consumer(b"alice", 1_000);
        g.deliver(StreamId::new(1, 1), &alice, 2_000);
        g.deliver(StreamId::new(2, 1), &alice, 3_000);
        g.create_consumer(b"idle", 4_000);
        x.groups.insert(b"g".to_vec(), g);
        x.groups.insert(
            b"\x00other".to_vec(),
            Group::new(StreamId::new(9, 9), ENTRIES_READ_INVALID),
        );
        x
    }

    #[test]
    fn consumer_groups_round_trip_with_their_pels_and_times() {
        let v = Value::Stream(Box::new(stream_with_groups()));
        assert_eq!(round_trip(&v), v);
    }

    #[test]
    fn a_pending_entry_without_its_owner_is_refused() {
        let x = stream_with_groups();
        let good = encode(&Value::Stream(Box::new(x.clone())), false);
        // Take 2-1 out of alice's list: the group's PEL still holds it, owned
        // by nobody, a state Redis loads only to trip over later.
        let mut broken = x;
        if let Some(g) = broken.groups.get_mut(&b"g"[..]) {
            if let Some(c) = g.consumers.get_mut(&b"alice"[..]) {
                c.pel.remove(&StreamId::new(2, 1));
            }
        }
        let bad = encode(&Value::Stream(Box::new(broken)), false);
        assert!(decode(&good, Limits::default()).is_ok());
        assert!(decode(&bad, Limits::default()).is_err());
        // Truncated anywhere in the groups: refused, never a panic.
        for cut in 0..good.len() {
            assert!(
                decode(&good[..cut], Limits::default()).is_err(),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn empty_containers_are_rejected_and_trailing_bytes_ignored() {
        let empty_set = [types::SET, 0];
        assert_eq!(decode(&empty_set, Limits::default()), Err(Bad));
        let mut s = encode(&Value::Int(1), true);
        s.push(0);
        assert_eq!(decode(&s, Limits::default()), Ok(Value::Int(1)));
    }

    #[test]
    fn a_huge_claimed_count_fails_without_allocating() {
        let mut b = vec![types::SET];
        write_len(&mut b, u64::MAX);
        assert_eq!(decode(&b, Limits::default()), Err(Bad));
    }

    proptest! {
        #[test]
        fn decoding_random_bytes_never_panics(t in 0u8..20, data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut b = vec![t];
            b.extend_from_slice(&data);
            let _ = decode(&b, Limits::default());
        }

        #[test]
        fn decoding_mutated_values_never_panics(i in any::<prop::sample::Index>(), x in any::<u8>(), kind in 0usize..5) {
            let mut h = Hash::default();
            let mut z = ZSet::new();
            let mut l = List::new();
            for k in 0..20 {
                h.set(format!("f{k}").as_bytes(), b"v", hash::Limits::default());
                z.insert(format!("m{k}").as_bytes(), k as f64 * 1.5, zset::Limits::default());
                l.push(End::Back, format!("{k}").as_bytes(), Fill::default());
            }
            let mut xs = Stream::new();
            for k in 1..150u64 {
                let v = k.to_string();
                xs.append(Some(StreamId::new(k, k % 3)), true, &[(b"f", v.as_bytes()), (b"g", b"x")], Default::default()).unwrap();
            }
            xs.delete_ids(&[StreamId::new(5, 2), StreamId::new(120, 0)]);
            let v = [Value::Hash(h), Value::ZSet(Box::new(z)), Value::List(Box::new(l)), Value::string(&[b'q'; 80]), Value::Stream(Box::new(xs))];
            let mut b = encode(&v[kind], true);
            let at = i.index(b.len());
            b[at] = x;
            let _ = decode(&b, Limits::default());
            b.truncate(at);
            let _ = decode(&b, Limits::default());
        }
    }
}
