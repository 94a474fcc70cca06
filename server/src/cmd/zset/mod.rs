//! Sorted set commands (Redis's `t_zset.c`).
//!
//! Each handler follows its Redis 7.0.15 counterpart step by step, because
//! the order of checks is visible: arguments are parsed before the key is
//! looked up (a bad range beats WRONGTYPE), scores before anything is
//! written (ZADD is all or nothing). The set itself is
//! [`crate::types::zset::ZSet`].
//!
//! Here: members (ZADD, ZINCRBY, ZREM, ZSCORE, ZMSCORE, ZCARD, ZRANK...),
//! ZRANDMEMBER, ZSCAN, the key finders and the group's rows; `range`:
//! score, lex and rank ranges and the commands that read or remove one;
//! `pop`: ZPOPMIN, ZPOPMAX, ZMPOP and their blocking variants, all through
//! [`pop_generic`]; `setops`: ZUNION, ZINTER, ZDIFF, their STORE forms and
//! ZINTERCARD.

use std::collections::HashSet;

use super::args::{self, is};
use super::flags::*;
use super::{cat, ks};
use super::{Ctx, Keys, Spec};
use crate::error::{CmdError, CmdResult};
use crate::notify::{GENERIC, ZSET};
use crate::reply::Reply;
use crate::types::zset::{Limits, ZSet};
use crate::util::rand::rand_below;
use crate::value::Value;
pub use pop::*;
pub use range::*;
pub use setops::*;

/// The encoding thresholds currently configured (mirrored in
/// [`crate::shared::Hot`], so reading them takes no lock).
pub fn limits(c: &Ctx<'_>) -> Limits {
    let [entries, value] = &c.shared.hot.zset_max_listpack;
    let get = |v: &std::sync::atomic::AtomicU64| {
        usize::try_from(v.load(std::sync::atomic::Ordering::Relaxed)).unwrap_or(usize::MAX)
    };
    Limits {
        entries: get(entries),
        value: get(value),
    }
}

fn zset_ref(v: &Value) -> Result<&ZSet, CmdError> {
    match v {
        Value::ZSet(z) => Ok(z),
        _ => Err(CmdError::WrongType),
    }
}

fn zset_mut(v: &mut Value) -> Result<&mut ZSet, CmdError> {
    match v {
        Value::ZSet(z) => Ok(z),
        _ => Err(CmdError::WrongType),
    }
}

/// Looks `key` up for reading as Redis's `lookupKeyRead` (counting a hit or
/// a miss): `Ok(None)` when missing, WRONGTYPE for another type.
macro_rules! read_zset {
    ($c:expr, $key:expr) => {
        match crate::cmd::lookup_read(&mut $c.ks, $c.stats, $key) {
            None => None,
            Some(e) => Some(zset_ref(&e.value)?),
        }
    };
}

// The macro above is in scope in these.
mod pop;
mod range;
mod setops;

// ---------------------------------------------------------------------------
// replies
// ---------------------------------------------------------------------------

/// Writes members (with scores when asked): a flat array in RESP2, an array
/// of `[member, score]` pairs in RESP3.
fn reply_items(out: &mut Reply, items: &[(&[u8], f64)], withscores: bool) {
    if withscores && !out.resp3 {
        out.array(items.len() * 2);
    } else {
        out.array(items.len());
    }
    for &(m, s) in items {
        if withscores && out.resp3 {
            out.array(2);
        }
        out.bulk(m);
        if withscores {
            out.double(s);
        }
    }
}

// ---------------------------------------------------------------------------
// ZADD, ZINCRBY, ZREM, ZSCORE, ZMSCORE, ZCARD, ZRANK
// ---------------------------------------------------------------------------

/// `ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]`
pub fn zadd(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    zadd_generic(c, a, false)
}

/// ZINCRBY key increment member
pub fn zincrby(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    zadd_generic(c, a, true)
}

/// ZADD and ZINCRBY (Redis's `zaddGenericCommand`).
fn zadd_generic(c: &mut Ctx<'_>, a: &[&[u8]], mut incr: bool) -> CmdResult {
    let key = a[1];
    let (mut nx, mut xx, mut gt, mut lt, mut ch) = (false, false, false, false, false);
    let mut idx = 2;
    while idx < a.len() {
        match args::lower(a[idx]).as_str() {
            "nx" => nx = true,
            "xx" => xx = true,
            "ch" => ch = true,
            "incr" => incr = true,
            "gt" => gt = true,
            "lt" => lt = true,
            _ => break,
        }
        idx += 1;
    }
    let elements = a.len() - idx;
    if elements % 2 == 1 || elements == 0 {
        return Err(CmdError::Syntax);
    }
    let pairs = &a[idx..];
    if nx && xx {
        return Err(CmdError::msg(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return Err(CmdError::msg(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if incr && elements > 2 {
        return Err(CmdError::msg(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let mut scores = Vec::with_capacity(elements / 2);
    for p in pairs.chunks_exact(2) {
        scores.push(args::float(p[0])?);
    }
    let lim = limits(c);
    let exists = match c.ks.get(key) {
        Some(e) => {
            zset_ref(&e.value)?;
            true
        }
        None => false,
    };
    if !exists {
        if xx {
            if incr {
                c.out.null();
            } else {
                c.out.int(0);
            }
            return Ok(());
        }
        let z = ZSet::for_first_member(pairs[1].len(), lim);
        c.ks.set(key, Value::ZSet(Box::new(z)), false);
    }
    let Some(e) = c.ks.get(key) else {
        return Err(CmdError::msg("ERR internal error"));
    };
    let z = zset_mut(&mut e.value)?;
    // INCR can only produce NaN on an existing member: check before writing
    // so that the command stays all or nothing.
    if incr {
        if let Some(cur) = z.score(pairs[1]) {
            if !nx && (scores[0] + cur).is_nan() {
                return Err(CmdError::msg("ERR resulting score is not a number (NaN)"));
            }
        }
    }
    if pairs.len() > 2 {
        z.reserve(
            scores
                .iter()
                .copied()
                .zip(pairs.chunks_exact(2).map(|p| p[1])),
            lim,
        );
    }
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut last = 0.0;
    for (p, &score) in pairs.chunks_exact(2).zip(&scores) {
        let member = p[1];
        match z.score(member) {
            Some(cur) => {
                if nx {
                    continue;
                }
                let new = if incr { score + cur } else { score };
                if (lt && new >= cur) || (gt && new <= cur) {
                    continue;
                }
                processed += 1;
                last = new;
                if new != cur {
                    z.update(member, new);
                    updated += 1;
                }
            }
            None if !xx => {
                z.insert(member, score, lim);
                added += 1;
                processed += 1;
                last = score;
            }
            None => {}
        }
    }
    if pairs.len() > 2 {
        z.shrink_to_fit();
    }
    if added > 0 || updated > 0 {
        c.notify(ZSET, if incr { "zincr" } else { "zadd" }, key);
    }
    if incr {
        if processed > 0 {
            c.out.double(last);
        } else {
            c.out.null();
        }
    } else {
        c.out.int(if ch { added + updated } else { added });
    }
    Ok(())
}

/// `ZREM key member [member ...]`
pub fn zrem(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let key = a[1];
    let Some(e) = c.ks.get(key) else {
        c.out.int(0);
        return Ok(());
    };
    let z = zset_mut(&mut e.value)?;
    let mut deleted = 0;
    for m in &a[2..] {
        if z.remove(m).is_some() {
            deleted += 1;
        }
        if z.is_empty() {
            break;
        }
    }
    let emptied = z.is_empty();
    if emptied {
        c.ks.remove(key);
    }
    if deleted > 0 {
        c.notify(ZSET, "zrem", key);
        if emptied {
            c.notify(GENERIC, "del", key);
        }
    }
    c.out.int(deleted);
    Ok(())
}

/// ZSCORE key member
pub fn zscore(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    match read_zset!(c, a[1]).and_then(|z| z.score(a[2])) {
        Some(s) => c.out.double(s),
        None => c.out.null(),
    }
    Ok(())
}

/// `ZMSCORE key member [member ...]`
pub fn zmscore(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let z = read_zset!(c, a[1]);
    c.out.array(a.len() - 2);
    for m in &a[2..] {
        match z.and_then(|z| z.score(m)) {
            Some(s) => c.out.double(s),
            None => c.out.null(),
        }
    }
    Ok(())
}

/// ZCARD key
pub fn zcard(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let n = read_zset!(c, a[1]).map_or(0, ZSet::len);
    c.out.int(n as i64);
    Ok(())
}

/// ZRANK key member
pub fn zrank(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    rank_generic(c, a, false)
}

/// ZREVRANK key member
pub fn zrevrank(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    rank_generic(c, a, true)
}

fn rank_generic(c: &mut Ctx<'_>, a: &[&[u8]], rev: bool) -> CmdResult {
    let Some(z) = read_zset!(c, a[1]) else {
        c.out.null();
        return Ok(());
    };
    match z.rank(a[2]) {
        Some(r) if rev => c.out.int((z.len() - 1 - r) as i64),
        Some(r) => c.out.int(r as i64),
        None => c.out.null(),
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// ZRANDMEMBER, ZSCAN
// ---------------------------------------------------------------------------

/// `ZRANDMEMBER key [count [WITHSCORES]]`
pub fn zrandmember(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() >= 3 {
        let l = args::int_in(
            a[2],
            -i64::MAX,
            i64::MAX,
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        )
        .map_err(|e| {
            if args::int(a[2]).is_err() {
                CmdError::NotInteger
            } else {
                e
            }
        })?;
        let mut withscores = false;
        if a.len() > 4 || (a.len() == 4 && !is(a[3], "WITHSCORES")) {
            return Err(CmdError::Syntax);
        } else if a.len() == 4 {
            withscores = true;
            if !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
                return Err(CmdError::msg("ERR value is out of range"));
            }
        }
        return zrandmember_count(c, a[1], l, withscores);
    }
    match read_zset!(c, a[1]).and_then(ZSet::random) {
        Some((m, _)) => c.out.bulk(m),
        None => c.out.null(),
    }
    Ok(())
}

fn zrandmember_count(c: &mut Ctx<'_>, key: &[u8], l: i64, withscores: bool) -> CmdResult {
    let Some(z) = read_zset!(c, key) else {
        c.out.array(0);
        return Ok(());
    };
    let out = &mut *c.out;
    let size = z.len();
    let count = l.unsigned_abs();
    let uniq = l >= 0;
    if count == 0 {
        out.array(0);
        return Ok(());
    }
    let pair_header = |out: &mut Reply, n: usize| {
        if withscores && !out.resp3 {
            out.array(n * 2);
        } else {
            out.array(n);
        }
    };
    let emit = |out: &mut Reply, m: &[u8], s: f64| {
        if withscores && out.resp3 {
            out.array(2);
        }
        out.bulk(m);
        if withscores {
            out.double(s);
        }
    };
    // Case 1: repeats allowed (or a single element): independent draws.
    if !uniq || count == 1 {
        pair_header(out, count as usize);
        let sampler = z.sampler();
        for _ in 0..count {
            let (m, s) = sampler.pick(size);
            emit(out, m, s);
        }
        return Ok(());
    }
    // Case 2: the whole set, from the highest element down (Redis's
    // `zuiNext` walks sorted sets backwards).
    if count >= size as u64 {
        pair_header(out, size);
        for (m, s) in z.iter_from(size - 1, true) {
            emit(out, m, s);
        }
        return Ok(());
    }
    // Cases 3 and 4: `count` distinct elements in random order. Close to
    // the whole set: shuffle it; far from it: draw until enough distinct.
    let count = count as usize;
    pair_header(out, count);
    if count * 3 > size {
        let mut all: Vec<(&[u8], f64)> = z.iter().collect();
        for i in 0..count {
            let j = i + rand_below((size - i) as u64) as usize;
            all.swap(i, j);
        }
        for &(m, s) in &all[..count] {
            emit(out, m, s);
        }
    } else {
        let sampler = z.sampler();
        let mut seen: HashSet<&[u8], ahash::RandomState> = HashSet::default();
        while seen.len() < count {
            let (m, s) = sampler.pick(size);
            if seen.insert(m) {
                emit(out, m, s);
            }
        }
    }
    Ok(())
}

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]`
pub fn zscan(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let cursor = args::parse_cursor(a[2])?;
    let Some(z) = read_zset!(c, a[1]) else {
        c.out.array(2);
        c.out.bulk(b"0");
        c.out.array(0);
        return Ok(());
    };
    let mut count = 10i64;
    let mut pattern: Option<&[u8]> = None;
    let mut j = 3;
    while j < a.len() {
        let more = a.len() - j >= 2;
        if is(a[j], "COUNT") && more {
            count = args::int(a[j + 1])?;
            if count < 1 {
                return Err(CmdError::Syntax);
            }
            j += 2;
        } else if is(a[j], "MATCH") && more {
            pattern = Some(a[j + 1]).filter(|p| *p != b"*");
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let mut items: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let next = z.scan(cursor, count as usize, |m, s| {
        if pattern.is_none_or(|p| crate::util::glob::glob_match(p, m, false)) {
            items.push((m.to_vec(), s.to_vec()));
        }
    });
    c.out.array(2);
    c.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    c.out.array(items.len() * 2);
    for (m, s) in &items {
        c.out.bulk(m);
        c.out.bulk(s);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// key finders and command table rows
// ---------------------------------------------------------------------------

/// Keys of `numkeys key...` at argument 1 (ZUNION, ZINTER, ZDIFF,
/// ZINTERCARD, ZMPOP).
pub fn numkeys_at_1<'x>(a: &[&'x [u8]], db: usize, out: &mut Vec<(usize, &'x [u8])>) {
    numkeys_keys(a, 1, db, out);
}

/// Keys of `destination numkeys key...` (ZUNIONSTORE, ZINTERSTORE,
/// ZDIFFSTORE).
pub fn store_keys<'x>(a: &[&'x [u8]], db: usize, out: &mut Vec<(usize, &'x [u8])>) {
    if let Some(&dst) = a.get(1) {
        out.push((db, dst));
    }
    numkeys_keys(a, 2, db, out);
}

/// The keys after a `numkeys` argument at `idx`, bounded by the arguments
/// present (an invalid count touches no key: the handler fails first).
fn numkeys_keys<'x>(a: &[&'x [u8]], idx: usize, db: usize, out: &mut Vec<(usize, &'x [u8])>) {
    let Some(n) = a.get(idx).and_then(|n| crate::util::num::parse_i64(n)) else {
        return;
    };
    if n < 1 {
        return;
    }
    let first = idx + 1;
    let last = first.saturating_add(n as usize).min(a.len());
    for &k in &a[first.min(last)..last] {
        out.push((db, k));
    }
}

// ---- command table rows ----

/// This group's rows of the command table.
#[rustfmt::skip]
pub static COMMANDS: &[Spec] = &[
    Spec { name: "zadd", arity: -4, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zadd, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RW | ks::UPDATE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zincrby", arity: 4, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zincrby, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::UPDATE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zrem", arity: -3, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrem, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RW | ks::DELETE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zscore", arity: 3, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zscore, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zmscore", arity: -3, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zmscore, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zcard", arity: 2, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zcard, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RO, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zcount", arity: 4, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zcount, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zlexcount", arity: 4, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zlexcount, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zrank", arity: 3, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrank, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zrevrank", arity: 3, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrevrank, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zrange", arity: -4, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrange, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zrangestore", arity: -5, flags: WRITE | DENYOOM, keys: Keys::Range(1, 2, 1), group: "sorted-set", handler: zrangestore, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::OW | ks::UPDATE, 1), ks::key(ks::RO | ks::ACCESS, 2)], tips: &[], subcommands: &[] },
    Spec { name: "zrangebyscore", arity: -4, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrangebyscore, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zrevrangebyscore", arity: -4, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrevrangebyscore, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zrangebylex", arity: -4, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrangebylex, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zrevrangebylex", arity: -4, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrevrangebylex, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zrevrange", arity: -4, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrevrange, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zpopmin", arity: -2, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zpopmin, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::DELETE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zpopmax", arity: -2, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zpopmax, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::DELETE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zmpop", arity: -4, flags: WRITE | MOVABLE_KEYS, keys: Keys::Custom(numkeys_at_1), group: "sorted-set", handler: zmpop, acl: cat::SORTEDSET, key_specs: &[ks::spec(ks::RW | ks::ACCESS | ks::DELETE, ks::Index(1), ks::Keynum(0, 1, 1))], tips: &[], subcommands: &[] },
    Spec { name: "zremrangebyrank", arity: 4, flags: WRITE, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zremrangebyrank, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RW | ks::DELETE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zremrangebyscore", arity: 4, flags: WRITE, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zremrangebyscore, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RW | ks::DELETE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zremrangebylex", arity: 4, flags: WRITE, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zremrangebylex, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RW | ks::DELETE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "zunion", arity: -3, flags: READONLY | MOVABLE_KEYS, keys: Keys::Custom(numkeys_at_1), group: "sorted-set", handler: zunion, acl: cat::SORTEDSET, key_specs: &[ks::spec(ks::RO | ks::ACCESS, ks::Index(1), ks::Keynum(0, 1, 1))], tips: &[], subcommands: &[] },
    Spec { name: "zinter", arity: -3, flags: READONLY | MOVABLE_KEYS, keys: Keys::Custom(numkeys_at_1), group: "sorted-set", handler: zinter, acl: cat::SORTEDSET, key_specs: &[ks::spec(ks::RO | ks::ACCESS, ks::Index(1), ks::Keynum(0, 1, 1))], tips: &[], subcommands: &[] },
    Spec { name: "zdiff", arity: -3, flags: READONLY | MOVABLE_KEYS, keys: Keys::Custom(numkeys_at_1), group: "sorted-set", handler: zdiff, acl: cat::SORTEDSET, key_specs: &[ks::spec(ks::RO | ks::ACCESS, ks::Index(1), ks::Keynum(0, 1, 1))], tips: &[], subcommands: &[] },
    Spec { name: "zunionstore", arity: -4, flags: WRITE | DENYOOM | MOVABLE_KEYS, keys: Keys::Custom(store_keys), group: "sorted-set", handler: zunionstore, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::OW | ks::UPDATE, 1), ks::spec(ks::RO | ks::ACCESS, ks::Index(2), ks::Keynum(0, 1, 1))], tips: &[], subcommands: &[] },
    Spec { name: "zinterstore", arity: -4, flags: WRITE | DENYOOM | MOVABLE_KEYS, keys: Keys::Custom(store_keys), group: "sorted-set", handler: zinterstore, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::OW | ks::UPDATE, 1), ks::spec(ks::RO | ks::ACCESS, ks::Index(2), ks::Keynum(0, 1, 1))], tips: &[], subcommands: &[] },
    Spec { name: "zdiffstore", arity: -4, flags: WRITE | DENYOOM | MOVABLE_KEYS, keys: Keys::Custom(store_keys), group: "sorted-set", handler: zdiffstore, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::OW | ks::UPDATE, 1), ks::spec(ks::RO | ks::ACCESS, ks::Index(2), ks::Keynum(0, 1, 1))], tips: &[], subcommands: &[] },
    Spec { name: "zintercard", arity: -3, flags: READONLY | MOVABLE_KEYS, keys: Keys::Custom(numkeys_at_1), group: "sorted-set", handler: zintercard, acl: cat::SORTEDSET, key_specs: &[ks::spec(ks::RO | ks::ACCESS, ks::Index(1), ks::Keynum(0, 1, 1))], tips: &[], subcommands: &[] },
    Spec { name: "zrandmember", arity: -2, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrandmember, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &["nondeterministic_output"], subcommands: &[] },
    Spec { name: "zscan", arity: -3, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zscan, acl: cat::SORTEDSET, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &["nondeterministic_output"], subcommands: &[] },
    Spec { name: "bzpopmin", arity: -3, flags: WRITE | NOSCRIPT | FAST | BLOCKING, keys: Keys::Range(1, -2, 1), group: "sorted-set", handler: bzpopmin, acl: cat::SORTEDSET, key_specs: &[ks::spec(ks::RW | ks::ACCESS | ks::DELETE, ks::Index(1), ks::Range(-2, 1, 0))], tips: &[], subcommands: &[] },
    Spec { name: "bzpopmax", arity: -3, flags: WRITE | NOSCRIPT | FAST | BLOCKING, keys: Keys::Range(1, -2, 1), group: "sorted-set", handler: bzpopmax, acl: cat::SORTEDSET, key_specs: &[ks::spec(ks::RW | ks::ACCESS | ks::DELETE, ks::Index(1), ks::Range(-2, 1, 0))], tips: &[], subcommands: &[] },
    Spec { name: "bzmpop", arity: -5, flags: WRITE | BLOCKING | MOVABLE_KEYS, keys: Keys::Custom(super::list::blmpop_keys), group: "sorted-set", handler: bzmpop, acl: cat::SORTEDSET, key_specs: &[ks::spec(ks::RW | ks::ACCESS | ks::DELETE, ks::Index(2), ks::Keynum(0, 1, 1))], tips: &[], subcommands: &[] },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_finders_stay_within_the_arguments() {
        let a: Vec<&[u8]> = vec![b"zunionstore", b"d", b"5", b"k1", b"k2"];
        let mut out = Vec::new();
        store_keys(&a, 0, &mut out);
        assert_eq!(out, vec![(0, &b"d"[..]), (0, b"k1"), (0, b"k2")]);
        let a: Vec<&[u8]> = vec![b"zmpop", b"99999999999999999999", b"k"];
        out.clear();
        numkeys_at_1(&a, 0, &mut out);
        assert!(out.is_empty());
        let a: Vec<&[u8]> = vec![b"zmpop", b"9223372036854775807", b"k", b"MIN"];
        out.clear();
        numkeys_at_1(&a, 0, &mut out);
        assert_eq!(out, vec![(0, &b"k"[..]), (0, b"MIN")]);
    }
}
