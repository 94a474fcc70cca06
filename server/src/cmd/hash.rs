//! Hash commands (Redis's `t_hash.c`).

use std::sync::atomic::{AtomicU64, Ordering};

use super::args::{self, is};
use super::flags::*;
use super::{cat, ks};
use super::{lookup_read, Ctx, Keys, Spec};
use crate::db::{Entry, Locked};
use crate::error::{CmdError, CmdResult};
use crate::notify::HASH;
use crate::shared::LoopStats;
use crate::types::hash::{packed_size, Hash, Limits};
use crate::util::glob::glob_match;
use crate::util::ldouble::LongDouble;
use crate::util::num::parse_i64;
use crate::value::Value;
use soquete_resp::encode::bulk as encode_bulk;

/// The listpack limits in force (`hash-max-listpack-entries/value`, read
/// from the config's lock-free mirror).
pub(crate) fn limits(c: &Ctx<'_>) -> Limits {
    let [entries, value] = &c.shared.hot.hash_max_listpack;
    let get = |a: &AtomicU64| usize::try_from(a.load(Ordering::Relaxed)).unwrap_or(usize::MAX);
    Limits {
        entries: get(entries),
        value: get(value),
    }
}

/// The hash in `entry`; WRONGTYPE for another type.
fn as_hash(entry: &mut Entry) -> Result<&mut Hash, CmdError> {
    match &mut entry.value {
        Value::Hash(h) => Ok(h),
        _ => Err(CmdError::WrongType),
    }
}

/// The hash at `key` for a read command, counting a keyspace hit or miss;
/// WRONGTYPE for another type.
fn read<'k>(
    ks: &'k mut Locked<'_>,
    stats: &LoopStats,
    key: &[u8],
) -> Result<Option<&'k mut Hash>, CmdError> {
    lookup_read(ks, stats, key).map(as_hash).transpose()
}

/// The hash at `key` for a write that does not create it.
fn write<'k>(ks: &'k mut Locked<'_>, key: &[u8]) -> Result<Option<&'k mut Hash>, CmdError> {
    ks.get(key).map(as_hash).transpose()
}

/// Runs `f` on the hash at `key`, or on a new one (built with `new`) that is
/// stored only if `f` succeeds and leaves it non-empty (Redis's
/// `hashTypeLookupWriteOrCreate`, without ever leaving an empty hash).
fn upsert<R>(
    ks: &mut Locked<'_>,
    key: &[u8],
    new: impl FnOnce() -> Hash,
    f: impl FnOnce(&mut Hash) -> Result<R, CmdError>,
) -> Result<R, CmdError> {
    if let Some(e) = ks.get(key) {
        return match &mut e.value {
            Value::Hash(h) => f(h),
            _ => Err(CmdError::WrongType),
        };
    }
    let mut h = new();
    let r = f(&mut h)?;
    if !h.is_empty() {
        ks.set(key, Value::Hash(h), false);
    }
    Ok(r)
}

/// A new hash sized for the field/value pairs in `pairs` when they will stay
/// in one listpack, so that a bulk HSET allocates once.
fn new_for(pairs: &[&[u8]], l: Limits) -> impl FnOnce() -> Hash {
    let fits = pairs.len() / 2 <= l.entries && pairs.iter().all(|a| a.len() <= l.value);
    let bytes = if fits {
        pairs.iter().map(|a| packed_size(a.len())).sum()
    } else {
        0
    };
    move || Hash::with_capacity(bytes)
}

fn hset_generic(c: &mut Ctx<'_>, a: &[&[u8]]) -> Result<i64, CmdError> {
    let l = limits(c);
    let pairs = &a[2..];
    upsert(&mut c.ks, a[1], new_for(pairs, l), |h| {
        h.convert_for(pairs.iter().map(|x| x.len()), l);
        let mut created = 0;
        for fv in pairs.chunks_exact(2) {
            created += h.set(fv[0], fv[1], l) as i64;
        }
        Ok(created)
    })
}

/// HSET key field value [field value ...]
pub fn hset(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() % 2 == 1 {
        return Err(CmdError::arity("hset"));
    }
    let n = hset_generic(c, a)?;
    c.notify(HASH, "hset", a[1]);
    c.out.int(n);
    Ok(())
}

/// HMSET key field value [field value ...]
pub fn hmset(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() % 2 == 1 {
        return Err(CmdError::arity("hmset"));
    }
    hset_generic(c, a)?;
    c.notify(HASH, "hset", a[1]);
    c.out.ok();
    Ok(())
}

/// HSETNX key field value
pub fn hsetnx(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let l = limits(c);
    let set = upsert(&mut c.ks, a[1], Hash::default, |h| {
        if h.contains(a[2]) {
            return Ok(false);
        }
        h.set(a[2], a[3], l);
        Ok(true)
    })?;
    if set {
        c.notify(HASH, "hset", a[1]);
    }
    c.out.int(set as i64);
    Ok(())
}

/// HGET key field
pub fn hget(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    match read(&mut c.ks, c.stats, a[1])?.and_then(|h| h.get(a[2])) {
        Some(v) => c.out.bulk(v),
        None => c.out.null(),
    }
    Ok(())
}

/// HMGET key field [field ...]
pub fn hmget(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let h = read(&mut c.ks, c.stats, a[1])?;
    c.out.array(a.len() - 2);
    for f in &a[2..] {
        match h.as_ref().and_then(|h| h.get(f)) {
            Some(v) => c.out.bulk(v),
            None => c.out.null(),
        }
    }
    Ok(())
}

/// HGETALL key
pub fn hgetall(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let Some(h) = read(&mut c.ks, c.stats, a[1])? else {
        c.out.map(0);
        return Ok(());
    };
    c.out.map(h.len());
    for (f, v) in h.iter() {
        c.out.bulk(f);
        c.out.bulk(v);
    }
    Ok(())
}

/// HKEYS key
pub fn hkeys(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let Some(h) = read(&mut c.ks, c.stats, a[1])? else {
        c.out.array(0);
        return Ok(());
    };
    c.out.array(h.len());
    for (f, _) in h.iter() {
        c.out.bulk(f);
    }
    Ok(())
}

/// HVALS key
pub fn hvals(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let Some(h) = read(&mut c.ks, c.stats, a[1])? else {
        c.out.array(0);
        return Ok(());
    };
    c.out.array(h.len());
    for (_, v) in h.iter() {
        c.out.bulk(v);
    }
    Ok(())
}

/// HDEL key field [field ...]
pub fn hdel(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let Some(h) = write(&mut c.ks, a[1])? else {
        c.out.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    for f in &a[2..] {
        if h.remove(f) {
            deleted += 1;
            if h.is_empty() {
                break;
            }
        }
    }
    let emptied = h.is_empty();
    if deleted > 0 {
        c.notify(HASH, "hdel", a[1]);
    }
    if emptied {
        c.delete(a[1]);
    }
    c.out.int(deleted);
    Ok(())
}

/// HLEN key
pub fn hlen(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let n = read(&mut c.ks, c.stats, a[1])?.map_or(0, |h| h.len());
    c.out.int(n as i64);
    Ok(())
}

/// HEXISTS key field
pub fn hexists(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let found = read(&mut c.ks, c.stats, a[1])?.is_some_and(|h| h.contains(a[2]));
    c.out.int(found as i64);
    Ok(())
}

/// HSTRLEN key field
pub fn hstrlen(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let n = read(&mut c.ks, c.stats, a[1])?
        .and_then(|h| h.get(a[2]))
        .map_or(0, |v| v.len());
    c.out.int(n as i64);
    Ok(())
}

/// HINCRBY key field increment
pub fn hincrby(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let incr = args::int(a[3])?;
    let l = limits(c);
    let n = upsert(&mut c.ks, a[1], Hash::default, |h| {
        let cur = match h.get(a[2]) {
            None => 0,
            Some(v) => parse_i64(v).ok_or(CmdError::msg("ERR hash value is not an integer"))?,
        };
        let n = cur.checked_add(incr).ok_or(CmdError::Overflow)?;
        h.set(a[2], itoa::Buffer::new().format(n).as_bytes(), l);
        Ok(n)
    })?;
    c.notify(HASH, "hincrby", a[1]);
    c.out.int(n);
    Ok(())
}

/// HINCRBYFLOAT key field increment
pub fn hincrbyfloat(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let incr = LongDouble::parse(a[3]).ok_or(CmdError::NotFloat)?;
    if !incr.is_finite() {
        return Err(CmdError::msg("ERR value is NaN or Infinity"));
    }
    let l = limits(c);
    let text = upsert(&mut c.ks, a[1], Hash::default, |h| {
        let cur = match h.get(a[2]) {
            None => LongDouble::from_i64(0),
            Some(v) => {
                LongDouble::parse(v).ok_or(CmdError::msg("ERR hash value is not a float"))?
            }
        };
        let sum = cur.add(incr);
        if !sum.is_finite() {
            return Err(CmdError::msg("ERR increment would produce NaN or Infinity"));
        }
        let mut text = Vec::with_capacity(32);
        sum.fmt_human(&mut text);
        h.set(a[2], &text, l);
        Ok(text)
    })?;
    // Logged as an HSET of the result, as Redis logs it.
    c.propagate_as(&[b"HSET", a[1], a[2], &text]);
    c.notify(HASH, "hincrbyfloat", a[1]);
    c.out.bulk(&text);
    Ok(())
}

/// HRANDFIELD key [count [WITHVALUES]]
pub fn hrandfield(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() == 2 {
        match read(&mut c.ks, c.stats, a[1])?.and_then(|h| h.random()) {
            Some((f, _)) => c.out.bulk(f),
            None => c.out.null(),
        }
        return Ok(());
    }
    let l = args::random_count(a[2])?;
    let withvalues = match a.len() {
        3 => false,
        4 if is(a[3], "WITHVALUES") => true,
        _ => return Err(CmdError::Syntax),
    };
    if withvalues && !(-i64::MAX / 2..=i64::MAX / 2).contains(&l) {
        return Err(CmdError::msg("ERR value is out of range"));
    }
    let resp3 = c.out.resp3;
    let Some(h) = read(&mut c.ks, c.stats, a[1])? else {
        c.out.array(0);
        return Ok(());
    };
    let count = l.unsigned_abs();
    // Writes one pick: a bare field, a [field, value] pair (RESP3) or the
    // field then the value (RESP2).
    let emit = |out: &mut crate::reply::Reply, f: &[u8], v: &[u8]| {
        if withvalues && resp3 {
            out.array(2);
        }
        out.bulk(f);
        if withvalues {
            out.bulk(v);
        }
    };
    let len_of = |n: usize| if withvalues && !resp3 { n * 2 } else { n };
    if count == 0 {
        c.out.array(0);
    } else if l < 0 {
        if count > args::MAX_RANDOM_REPLY {
            return Err(CmdError::msg("ERR value is out of range"));
        }
        c.out.array(len_of(count as usize));
        h.random_repeated(count, |f, v| emit(c.out, f, v));
    } else if count as usize >= h.len() {
        c.out.array(len_of(h.len()));
        for (f, v) in h.iter() {
            emit(c.out, f, v);
        }
    } else {
        let picks = h.random_distinct(count as usize);
        c.out.array(len_of(picks.len()));
        for (f, v) in picks {
            emit(c.out, f, v);
        }
    }
    Ok(())
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
pub fn hscan(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let cursor = args::parse_cursor(a[2])?;
    let Some(h) = read(&mut c.ks, c.stats, a[1])? else {
        c.out.scan(0, &[]);
        return Ok(());
    };
    let o = args::scan_opts(a, 3)?;
    let mut items: Vec<u8> = Vec::new();
    let mut n = 0;
    let next = h.scan(cursor, o.count, |f, v| {
        if o.pattern.is_none_or(|p| glob_match(p, f, false)) {
            encode_bulk(&mut items, f);
            encode_bulk(&mut items, v);
            n += 2;
        }
    });
    c.out.array(2);
    c.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    c.out.array(n);
    c.out.buf.extend_from_slice(&items);
    Ok(())
}

// ---- command table rows ----

/// This group's rows of the command table.
#[rustfmt::skip]
pub static COMMANDS: &[Spec] = &[
    Spec { name: "hset", arity: -4, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "hash", handler: hset, acl: cat::HASH, key_specs: &[ks::key(ks::RW | ks::UPDATE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "hsetnx", arity: 4, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "hash", handler: hsetnx, acl: cat::HASH, key_specs: &[ks::key(ks::RW | ks::INSERT, 1)], tips: &[], subcommands: &[] },
    Spec { name: "hget", arity: 3, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "hash", handler: hget, acl: cat::HASH, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "hmset", arity: -4, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "hash", handler: hmset, acl: cat::HASH, key_specs: &[ks::key(ks::RW | ks::UPDATE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "hmget", arity: -3, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "hash", handler: hmget, acl: cat::HASH, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "hgetall", arity: 2, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "hash", handler: hgetall, acl: cat::HASH, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &["nondeterministic_output_order"], subcommands: &[] },
    Spec { name: "hdel", arity: -3, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "hash", handler: hdel, acl: cat::HASH, key_specs: &[ks::key(ks::RW | ks::DELETE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "hexists", arity: 3, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "hash", handler: hexists, acl: cat::HASH, key_specs: &[ks::key(ks::RO, 1)], tips: &[], subcommands: &[] },
    Spec { name: "hlen", arity: 2, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "hash", handler: hlen, acl: cat::HASH, key_specs: &[ks::key(ks::RO, 1)], tips: &[], subcommands: &[] },
    Spec { name: "hkeys", arity: 2, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "hash", handler: hkeys, acl: cat::HASH, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &["nondeterministic_output_order"], subcommands: &[] },
    Spec { name: "hvals", arity: 2, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "hash", handler: hvals, acl: cat::HASH, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &["nondeterministic_output_order"], subcommands: &[] },
    Spec { name: "hstrlen", arity: 3, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "hash", handler: hstrlen, acl: cat::HASH, key_specs: &[ks::key(ks::RO, 1)], tips: &[], subcommands: &[] },
    Spec { name: "hincrby", arity: 4, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "hash", handler: hincrby, acl: cat::HASH, key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::UPDATE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "hincrbyfloat", arity: 4, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "hash", handler: hincrbyfloat, acl: cat::HASH, key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::UPDATE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "hrandfield", arity: -2, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "hash", handler: hrandfield, acl: cat::HASH, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &["nondeterministic_output"], subcommands: &[] },
    Spec { name: "hscan", arity: -3, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "hash", handler: hscan, acl: cat::HASH, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &["nondeterministic_output"], subcommands: &[] },
];
