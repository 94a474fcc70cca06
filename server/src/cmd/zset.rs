//! Sorted set commands (Redis's `t_zset.c`).
//!
//! Each handler follows its Redis 7.0.15 counterpart step by step, because
//! the order of checks is visible: arguments are parsed before the key is
//! looked up (a bad range beats WRONGTYPE), scores before anything is
//! written (ZADD is all or nothing). The set itself is
//! [`crate::types::zset::ZSet`]; [`pop_generic`] is the one pop routine that
//! ZPOPMIN/ZPOPMAX/ZMPOP use and that the blocking variants can reuse.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use super::args::{self, is};
use super::blocking::{block, timeout_arg};
use super::flags::*;
use super::{Ctx, Keys, Spec};
use crate::blocking::Op;
use crate::error::{CmdError, CmdResult};
use crate::notify::{GENERIC, ZSET};
use crate::reply::Reply;
use crate::types::set::{Member, Set};
use crate::types::zset::{cmp_pair, Limits, ZSet};
use crate::util::num::{
    hex_mantissa, is_c_space, parse_f64, round_binary, scan_float, Kind, Rounded,
};
use crate::util::rand::rand_below;
use crate::value::Value;

/// The encoding thresholds currently configured (mirrored in
/// [`crate::server::Hot`], so reading them takes no lock).
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
        match super::lookup_read(&mut $c.ks, $c.stats, $key) {
            None => None,
            Some(e) => Some(zset_ref(&e.value)?),
        }
    };
}

// ---------------------------------------------------------------------------
// ranges
// ---------------------------------------------------------------------------

/// C's `strtod` as Redis's `zslParseRange` calls it: leading white space is
/// skipped, the argument ends at its first NUL, out-of-range values become
/// infinities or zero, and an empty argument reads as 0. `None` when
/// anything is left over or the value is NaN.
fn strtod_arg(arg: &[u8]) -> Option<f64> {
    let s = arg.iter().position(|&b| b == 0).map_or(arg, |i| &arg[..i]);
    let t = &s[s.iter().take_while(|&&b| is_c_space(b)).count()..];
    if t.is_empty() {
        // No conversion: strtod leaves the end pointer at the start, which
        // Redis accepts only when that is the end of the string.
        return s.is_empty().then_some(0.0);
    }
    if let Some(v) = parse_f64(t) {
        return Some(v);
    }
    // Valid syntax that parse_f64 rejects: overflow or underflow, which
    // strtod turns into ±HUGE_VAL or ±0 without Redis noticing.
    let scanned = scan_float(t)?;
    let v = match scanned.kind {
        Kind::Inf => f64::INFINITY,
        Kind::Dec { .. } => std::str::from_utf8(t).ok()?.parse::<f64>().ok()?.abs(),
        Kind::Hex { int, frac, exp } => {
            let (m, e, sticky) = hex_mantissa(int, frac, exp);
            match round_binary(m, e, sticky, 53, -1074, 1024) {
                Rounded::Overflow => f64::INFINITY,
                _ => 0.0,
            }
        }
    };
    let v = if scanned.neg { -v } else { v };
    (!v.is_nan()).then_some(v)
}

/// A score interval (`zrangespec`).
#[derive(Debug, Clone, Copy)]
struct ScoreRange {
    min: f64,
    max: f64,
    minex: bool,
    maxex: bool,
}

impl ScoreRange {
    /// Parses `min` and `max` (`(` makes a bound exclusive).
    fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
        let err = || CmdError::msg("ERR min or max is not a float");
        let item = |a: &[u8]| -> Option<(f64, bool)> {
            match a.split_first() {
                Some((b'(', rest)) => Some((strtod_arg(rest)?, true)),
                _ => Some((strtod_arg(a)?, false)),
            }
        };
        let (min, minex) = item(min).ok_or_else(err)?;
        let (max, maxex) = item(max).ok_or_else(err)?;
        Ok(ScoreRange {
            min,
            max,
            minex,
            maxex,
        })
    }

    fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    /// True when no score can be inside (Redis's first test in
    /// `zslIsInRange`).
    fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lexicographic range: `-`, `+`, or a string.
#[derive(Debug, Clone, Copy)]
enum LexItem<'a> {
    Min,
    Max,
    Str(&'a [u8]),
}

/// Redis's `sdscmplex`: `-` sorts before and `+` after every string.
fn cmp_lex(a: LexItem<'_>, b: LexItem<'_>) -> Ordering {
    use LexItem::*;
    match (a, b) {
        (Min, Min) | (Max, Max) => Ordering::Equal,
        (Min, _) | (_, Max) => Ordering::Less,
        (Max, _) | (_, Min) => Ordering::Greater,
        (Str(x), Str(y)) => x.cmp(y),
    }
}

/// A lexicographic interval (`zlexrangespec`).
#[derive(Debug, Clone, Copy)]
struct LexRange<'a> {
    min: LexItem<'a>,
    max: LexItem<'a>,
    minex: bool,
    maxex: bool,
}

impl<'a> LexRange<'a> {
    fn parse(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, CmdError> {
        let err = || CmdError::msg("ERR min or max not valid string range item");
        let item = |a: &'a [u8]| -> Option<(LexItem<'a>, bool)> {
            // Redis reads the argument as a C string: "+" followed by a NUL
            // is "+".
            let alone = a.len() == 1 || a.get(1) == Some(&0);
            match a.first() {
                Some(b'+') if alone => Some((LexItem::Max, true)),
                Some(b'-') if alone => Some((LexItem::Min, true)),
                Some(b'(') => Some((LexItem::Str(&a[1..]), true)),
                Some(b'[') => Some((LexItem::Str(&a[1..]), false)),
                _ => None,
            }
        };
        let (min, minex) = item(min).ok_or_else(err)?;
        let (max, maxex) = item(max).ok_or_else(err)?;
        Ok(LexRange {
            min,
            max,
            minex,
            maxex,
        })
    }

    fn gte_min(&self, m: &[u8]) -> bool {
        let o = cmp_lex(LexItem::Str(m), self.min);
        if self.minex {
            o == Ordering::Greater
        } else {
            o != Ordering::Less
        }
    }

    fn lte_max(&self, m: &[u8]) -> bool {
        let o = cmp_lex(LexItem::Str(m), self.max);
        if self.maxex {
            o == Ordering::Less
        } else {
            o != Ordering::Greater
        }
    }

    fn is_empty(&self) -> bool {
        let o = cmp_lex(self.min, self.max);
        o == Ordering::Greater || (o == Ordering::Equal && (self.minex || self.maxex))
    }
}

/// Normalises Redis-style `start`/`end` indexes against `len`: `None` when
/// the range is empty, else the inclusive 0-based bounds.
fn rank_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let (mut start, mut end) = (start, end);
    if start < 0 {
        start = start.saturating_add(len);
    }
    if end < 0 {
        end = end.saturating_add(len);
    }
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, end as usize))
}

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
// ZCOUNT, ZLEXCOUNT
// ---------------------------------------------------------------------------

/// ZCOUNT key min max
pub fn zcount(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let r = ScoreRange::parse(a[2], a[3])?;
    let n = match read_zset!(c, a[1]) {
        Some(z) if !r.is_empty() => z.count_in_range(|s, _| r.gte_min(s), |s, _| r.lte_max(s)),
        _ => 0,
    };
    c.out.int(n as i64);
    Ok(())
}

/// ZLEXCOUNT key min max
pub fn zlexcount(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let r = LexRange::parse(a[2], a[3])?;
    let n = match read_zset!(c, a[1]) {
        Some(z) if !r.is_empty() => z.count_in_range(|_, m| r.gte_min(m), |_, m| r.lte_max(m)),
        _ => 0,
    };
    c.out.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// ZRANGE and friends
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Auto,
    Forward,
    Reverse,
}

/// `ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]`
pub fn zrange(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    zrange_generic(c, a, 1, None, RangeType::Auto, Direction::Auto)
}

/// `ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]`
pub fn zrangestore(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    zrange_generic(c, a, 2, Some(a[1]), RangeType::Auto, Direction::Auto)
}

/// `ZREVRANGE key start stop [WITHSCORES]`
pub fn zrevrange(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    zrange_generic(c, a, 1, None, RangeType::Rank, Direction::Reverse)
}

/// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]`
pub fn zrangebyscore(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    zrange_generic(c, a, 1, None, RangeType::Score, Direction::Forward)
}

/// `ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]`
pub fn zrevrangebyscore(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    zrange_generic(c, a, 1, None, RangeType::Score, Direction::Reverse)
}

/// `ZRANGEBYLEX key min max [LIMIT offset count]`
pub fn zrangebylex(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    zrange_generic(c, a, 1, None, RangeType::Lex, Direction::Forward)
}

/// `ZREVRANGEBYLEX key max min [LIMIT offset count]`
pub fn zrevrangebylex(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    zrange_generic(c, a, 1, None, RangeType::Lex, Direction::Reverse)
}

/// A parsed range of any kind.
enum AnyRange<'a> {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange<'a>),
}

/// Every ZRANGE-like command (Redis's `zrangeGenericCommand`). `src` is the
/// index of the source key; `dst` is ZRANGESTORE's destination.
fn zrange_generic(
    c: &mut Ctx<'_>,
    a: &[&[u8]],
    src: usize,
    dst: Option<&[u8]>,
    mut rangetype: RangeType,
    mut direction: Direction,
) -> CmdResult {
    let store = dst.is_some();
    let (mut minidx, mut maxidx) = (src + 1, src + 2);
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = src + 3;
    while j < a.len() {
        let left = a.len() - j - 1;
        if !store && is(a[j], "WITHSCORES") {
            withscores = true;
        } else if is(a[j], "LIMIT") && left >= 2 {
            offset = args::int(a[j + 1])?;
            limit = args::int(a[j + 2])?;
            j += 2;
        } else if direction == Direction::Auto && is(a[j], "REV") {
            direction = Direction::Reverse;
        } else if rangetype == RangeType::Auto && is(a[j], "BYLEX") {
            rangetype = RangeType::Lex;
        } else if rangetype == RangeType::Auto && is(a[j], "BYSCORE") {
            rangetype = RangeType::Score;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    if rangetype == RangeType::Auto {
        rangetype = RangeType::Rank;
    }
    let rev = direction == Direction::Reverse;
    if limit != -1 && rangetype == RangeType::Rank {
        return Err(CmdError::msg(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && rangetype == RangeType::Lex {
        return Err(CmdError::msg(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    if rev && rangetype != RangeType::Rank {
        std::mem::swap(&mut minidx, &mut maxidx);
    }
    let range = match rangetype {
        RangeType::Score => AnyRange::Score(ScoreRange::parse(a[minidx], a[maxidx])?),
        RangeType::Lex => AnyRange::Lex(LexRange::parse(a[minidx], a[maxidx])?),
        _ => AnyRange::Rank(args::int(a[minidx])?, args::int(a[maxidx])?),
    };
    let Some(z) = read_zset!(c, a[src]) else {
        match dst {
            Some(dst) => store_result(c, dst, Vec::new(), "zrangestore"),
            None => c.out.array(0),
        }
        return Ok(());
    };
    let items = select_range(z, &range, rev, offset, limit);
    match dst {
        None => reply_items(c.out, &items, withscores),
        Some(dst) => {
            let mut owned: Vec<(Vec<u8>, f64)> =
                items.iter().map(|&(m, s)| (m.to_vec(), s)).collect();
            if rev {
                owned.reverse();
            }
            store_result(c, dst, owned, "zrangestore");
        }
    }
    Ok(())
}

/// The elements a range selects, in reply order.
fn select_range<'z>(
    z: &'z ZSet,
    range: &AnyRange<'_>,
    rev: bool,
    offset: i64,
    limit: i64,
) -> Vec<(&'z [u8], f64)> {
    let len = z.len();
    let take = if limit < 0 {
        usize::MAX
    } else {
        limit as usize
    };
    match range {
        AnyRange::Rank(start, end) => {
            let Some((s, e)) = rank_range(*start, *end, len) else {
                return Vec::new();
            };
            let from = if rev { len - 1 - s } else { s };
            z.iter_from(from, rev).take(e - s + 1).collect()
        }
        AnyRange::Score(r) => {
            if offset > 0 && offset as u64 >= len as u64 {
                return Vec::new();
            }
            if r.is_empty() {
                return Vec::new();
            }
            select_in(
                z,
                rev,
                offset,
                take,
                |s, _| r.gte_min(s),
                |s, _| r.lte_max(s),
            )
        }
        AnyRange::Lex(r) => {
            if r.is_empty() {
                return Vec::new();
            }
            select_in(
                z,
                rev,
                offset,
                take,
                |_, m| r.gte_min(m),
                |_, m| r.lte_max(m),
            )
        }
    }
}

/// The elements of a score or lex range (`gte_min` and `lte_max` on score
/// and member) from its first, or when `rev` its last, element: `offset`
/// skipped, then at most `take` while they stay in the range.
fn select_in(
    z: &ZSet,
    rev: bool,
    offset: i64,
    take: usize,
    gte_min: impl Fn(f64, &[u8]) -> bool,
    lte_max: impl Fn(f64, &[u8]) -> bool,
) -> Vec<(&[u8], f64)> {
    let start = if rev {
        z.last_in_range(&gte_min, &lte_max)
    } else {
        z.first_in_range(&gte_min, &lte_max)
    };
    let Some(from) = skip(start, offset, rev, z.len()) else {
        return Vec::new();
    };
    z.iter_from(from, rev)
        .take_while(|&(m, s)| if rev { gte_min(s, m) } else { lte_max(s, m) })
        .take(take)
        .collect()
}

/// The rank after skipping `offset` elements from `start` (a negative
/// offset walks off the end in Redis, so nothing is left).
fn skip(start: Option<usize>, offset: i64, rev: bool, len: usize) -> Option<usize> {
    let start = start?;
    let offset = usize::try_from(offset).ok()?;
    if rev {
        start.checked_sub(offset)
    } else {
        start.checked_add(offset).filter(|&r| r < len)
    }
}

/// Stores a STORE command's result (ascending, unique members) at `dst`
/// and replies with its size; an empty result deletes `dst` instead.
/// `event` is the keyspace event of a stored result.
fn store_result(c: &mut Ctx<'_>, dst: &[u8], items: Vec<(Vec<u8>, f64)>, event: &str) {
    let n = items.len();
    if n == 0 {
        c.delete(dst);
    } else {
        let z = ZSet::from_sorted(items, limits(c));
        c.ks.set(dst, Value::ZSet(Box::new(z)), false);
        c.notify(ZSET, event, dst);
    }
    c.out.int(n as i64);
}

// ---------------------------------------------------------------------------
// ZREMRANGEBYRANK/SCORE/LEX
// ---------------------------------------------------------------------------

/// ZREMRANGEBYRANK key start stop
pub fn zremrangebyrank(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let range = AnyRange::Rank(args::int(a[2])?, args::int(a[3])?);
    zremrange_generic(c, a[1], range, "zremrangebyrank")
}

/// ZREMRANGEBYSCORE key min max
pub fn zremrangebyscore(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let range = AnyRange::Score(ScoreRange::parse(a[2], a[3])?);
    zremrange_generic(c, a[1], range, "zremrangebyscore")
}

/// ZREMRANGEBYLEX key min max
pub fn zremrangebylex(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let range = AnyRange::Lex(LexRange::parse(a[2], a[3])?);
    zremrange_generic(c, a[1], range, "zremrangebylex")
}

fn zremrange_generic(c: &mut Ctx<'_>, key: &[u8], range: AnyRange<'_>, event: &str) -> CmdResult {
    let Some(e) = c.ks.get(key) else {
        c.out.int(0);
        return Ok(());
    };
    let z = zset_mut(&mut e.value)?;
    let removed = match range {
        AnyRange::Rank(start, end) => match rank_range(start, end, z.len()) {
            Some((s, e)) => z.remove_ranks(s, e),
            None => 0,
        },
        AnyRange::Score(r) if !r.is_empty() => {
            z.remove_in_range(|s, _| r.gte_min(s), |s, _| r.lte_max(s))
        }
        AnyRange::Lex(r) if !r.is_empty() => {
            z.remove_in_range(|_, m| r.gte_min(m), |_, m| r.lte_max(m))
        }
        _ => 0,
    };
    let emptied = z.is_empty();
    if emptied {
        c.ks.remove(key);
    }
    if removed > 0 {
        c.notify(ZSET, event, key);
        if emptied {
            c.notify(GENERIC, "del", key);
        }
    }
    c.out.int(removed as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// ZPOPMIN, ZPOPMAX, ZMPOP
// ---------------------------------------------------------------------------

/// The one pop routine (Redis's `genericZpopCommand`), shared by ZPOPMIN,
/// ZPOPMAX, ZMPOP and the blocking variants.
///
/// Pops from the first of `keys` that exists (WRONGTYPE if that key is not
/// a sorted set). `count` is `None` for a plain single pop. `emit_key`
/// puts the key name in the reply; `nested` writes `[member, score]` pairs
/// (with `emit_key`: `[key, [[member, score]...]]`, as ZMPOP); with
/// `nil_when_empty` a miss replies a null array instead of an empty one.
///
/// # Returns
///
/// Whether something was popped (a blocking caller waits when nothing was).
#[allow(clippy::too_many_arguments)]
pub fn pop_generic(
    c: &mut Ctx<'_>,
    keys: &[&[u8]],
    max: bool,
    emit_key: bool,
    count: Option<i64>,
    nested: bool,
    nil_when_empty: bool,
) -> Result<bool, CmdError> {
    let mut found = None;
    for &k in keys {
        if let Some(e) = c.ks.get(k) {
            zset_ref(&e.value)?;
            found = Some(k);
            break;
        }
    }
    let Some(key) = found else {
        if nil_when_empty {
            c.out.null_array();
        } else {
            c.out.array(0);
        }
        return Ok(false);
    };
    if count == Some(0) {
        c.out.array(0);
        return Ok(false);
    }
    let count = count.unwrap_or(1).max(1) as u64;
    let Some(e) = c.ks.get(key) else {
        return Err(CmdError::msg("ERR internal error"));
    };
    let z = zset_mut(&mut e.value)?;
    let n = count.min(z.len() as u64) as usize;
    match (nested, emit_key) {
        (false, false) => c.out.array(n * 2),
        (true, false) => c.out.array(n),
        (false, true) => {
            c.out.array(n * 2 + 1);
            c.out.bulk(key);
        }
        (true, true) => {
            c.out.array(2);
            c.out.bulk(key);
            c.out.array(n);
        }
    }
    for _ in 0..n {
        let Some((m, s)) = z.pop(max) else { break };
        if nested {
            c.out.array(2);
        }
        c.out.bulk(&m);
        c.out.double(s);
    }
    let emptied = z.is_empty();
    if emptied {
        c.ks.remove(key);
    }
    c.notify(ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
    if emptied {
        c.notify(GENERIC, "del", key);
    }
    Ok(true)
}

/// `ZPOPMIN key [count]`
pub fn zpopmin(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    zpop_minmax(c, a, false)
}

/// `ZPOPMAX key [count]`
pub fn zpopmax(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    zpop_minmax(c, a, true)
}

fn zpop_minmax(c: &mut Ctx<'_>, a: &[&[u8]], max: bool) -> CmdResult {
    if a.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = match a.get(2) {
        Some(n) => Some(positive(n, "ERR value is out of range, must be positive")?),
        None => None,
    };
    let nested = c.out.resp3 && count.is_some();
    pop_generic(c, &a[1..2], max, false, count, nested, false)?;
    Ok(())
}

/// Redis's `getPositiveLongFromObjectOrReply` with its default message,
/// which it also gives for a non-integer.
fn positive(a: &[u8], msg: &'static str) -> Result<i64, CmdError> {
    args::int_in(a, 0, i64::MAX, msg)
}

/// `ZMPOP numkeys key [key ...] MIN | MAX [COUNT count]`
pub fn zmpop(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (keys, max, count) = parse_mpop(a, 1)?;
    pop_generic(c, keys, max, true, Some(count), true, true)?;
    Ok(())
}

/// Parses `numkeys key... MIN|MAX [COUNT n]` starting at `numkeys_idx`
/// (ZMPOP and BZMPOP): the keys, whether MAX, and the count.
pub fn parse_mpop<'a, 'x>(
    a: &'a [&'x [u8]],
    numkeys_idx: usize,
) -> Result<(&'a [&'x [u8]], bool, i64), CmdError> {
    let numkeys = args::int_in(
        a[numkeys_idx],
        1,
        i64::MAX,
        "ERR numkeys should be greater than 0",
    )?;
    let where_idx = (numkeys_idx as u64)
        .saturating_add(numkeys as u64)
        .saturating_add(1);
    if where_idx >= a.len() as u64 {
        return Err(CmdError::Syntax);
    }
    let where_idx = where_idx as usize;
    let max = if is(a[where_idx], "MIN") {
        false
    } else if is(a[where_idx], "MAX") {
        true
    } else {
        return Err(CmdError::Syntax);
    };
    let mut count = -1;
    let mut j = where_idx + 1;
    while j < a.len() {
        let more = a.len() - 1 - j;
        if count == -1 && is(a[j], "COUNT") && more > 0 {
            j += 1;
            count = args::int_in(a[j], 1, i64::MAX, "ERR count should be greater than 0")?;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    if count == -1 {
        count = 1;
    }
    Ok((&a[numkeys_idx + 1..where_idx], max, count))
}

// ---------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// Redis's `zunionInterAggregate`.
#[inline]
fn aggregate(target: &mut f64, val: f64, agg: Aggregate) {
    match agg {
        Aggregate::Sum => {
            *target += val;
            // inf + -inf: Redis keeps 0 by convention.
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// Calls `f(member, score)` for every element of an input (a sorted set,
/// or a set whose members score 1).
fn for_each_input(v: &Value, mut f: impl FnMut(&[u8], f64)) {
    match v {
        Value::ZSet(z) => {
            for (m, s) in z.iter() {
                f(m, s);
            }
        }
        Value::Set(s) => set_for_each(s, |m| f(m, 1.0)),
        _ => {}
    }
}

/// The score of `member` in an input (1 for a set member).
fn input_score(v: &Value, member: &[u8]) -> Option<f64> {
    match v {
        Value::ZSet(z) => z.score(member),
        Value::Set(s) => set_contains(s, member).then_some(1.0),
        _ => None,
    }
}

// The set type's interface as the sorted set commands need it.
fn set_len(s: &Set) -> usize {
    s.len()
}

fn set_contains(s: &Set, member: &[u8]) -> bool {
    s.contains(member)
}

fn set_for_each(s: &Set, mut f: impl FnMut(&[u8])) {
    let mut buf = itoa::Buffer::new();
    for m in s.iter() {
        match m {
            Member::Int(n) => f(buf.format(n).as_bytes()),
            Member::Str(b) => f(b),
        }
    }
}

/// `ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]`
pub fn zunionstore(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    setop_generic(c, a, "zunionstore", Some(a[1]), 2, SetOp::Union, false)
}

/// `ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]`
pub fn zinterstore(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    setop_generic(c, a, "zinterstore", Some(a[1]), 2, SetOp::Inter, false)
}

/// `ZDIFFSTORE destination numkeys key [key ...]`
pub fn zdiffstore(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    setop_generic(c, a, "zdiffstore", Some(a[1]), 2, SetOp::Diff, false)
}

/// `ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`
pub fn zunion(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    setop_generic(c, a, "zunion", None, 1, SetOp::Union, false)
}

/// `ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`
pub fn zinter(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    setop_generic(c, a, "zinter", None, 1, SetOp::Inter, false)
}

/// `ZDIFF numkeys key [key ...] [WITHSCORES]`
pub fn zdiff(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    setop_generic(c, a, "zdiff", None, 1, SetOp::Diff, false)
}

/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]`
pub fn zintercard(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    setop_generic(c, a, "zintercard", None, 1, SetOp::Inter, true)
}

/// Redis's `zunionInterDiffGenericCommand`.
fn setop_generic(
    c: &mut Ctx<'_>,
    a: &[&[u8]],
    name: &str,
    dst: Option<&[u8]>,
    numkeys_idx: usize,
    op: SetOp,
    card_only: bool,
) -> CmdResult {
    let event = match op {
        SetOp::Union => "zunionstore",
        SetOp::Inter => "zinterstore",
        SetOp::Diff => "zdiffstore",
    };
    let setnum = args::int(a[numkeys_idx])?;
    if setnum < 1 {
        return Err(CmdError::msg(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        )));
    }
    if setnum > (a.len() - (numkeys_idx + 1)) as i64 {
        return Err(CmdError::Syntax);
    }
    let setnum = setnum as usize;
    let keys = &a[numkeys_idx + 1..numkeys_idx + 1 + setnum];
    // Look every input up (and type-check it) before parsing the options.
    let mut lens = Vec::with_capacity(setnum);
    for &k in keys {
        let len = match super::lookup_read(&mut c.ks, c.stats, k) {
            None => 0,
            Some(e) => match &e.value {
                Value::ZSet(z) => z.len(),
                Value::Set(s) => set_len(s),
                _ => return Err(CmdError::WrongType),
            },
        };
        lens.push(len);
    }
    let mut weights = vec![1.0f64; setnum];
    let mut agg = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0i64;
    let mut j = numkeys_idx + 1 + setnum;
    while j < a.len() {
        let remaining = a.len() - j;
        if op != SetOp::Diff && !card_only && remaining > setnum && is(a[j], "WEIGHTS") {
            j += 1;
            for w in weights.iter_mut() {
                *w = parse_f64(a[j])
                    .ok_or_else(|| CmdError::msg("ERR weight value is not a float"))?;
                j += 1;
            }
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && is(a[j], "AGGREGATE") {
            agg = match args::lower(a[j + 1]).as_str() {
                "sum" => Aggregate::Sum,
                "min" => Aggregate::Min,
                "max" => Aggregate::Max,
                _ => return Err(CmdError::Syntax),
            };
            j += 2;
        } else if dst.is_none() && !card_only && is(a[j], "WITHSCORES") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && is(a[j], "LIMIT") {
            limit = args::int_in(a[j + 1], 0, i64::MAX, "ERR LIMIT can't be negative")?;
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    // Inputs from the smallest to the largest (a stable sort, as glibc's
    // qsort is for these sizes), except for DIFF whose first input is the
    // one subtracted from.
    let mut order: Vec<usize> = (0..setnum).collect();
    if op != SetOp::Diff {
        order.sort_by_key(|&i| lens[i]);
    }
    let mut result: Vec<(Vec<u8>, f64)> = match op {
        SetOp::Union => {
            let mut acc: HashMap<Vec<u8>, f64, ahash::RandomState> = HashMap::default();
            for &i in &order {
                if lens[i] == 0 {
                    continue;
                }
                let Some(e) = c.ks.get(keys[i]) else { continue };
                let w = weights[i];
                for_each_input(&e.value, |m, s| {
                    let mut score = w * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(m) {
                        Some(t) => aggregate(t, score, agg),
                        None => {
                            acc.insert(m.to_vec(), score);
                        }
                    }
                });
            }
            acc.into_iter().collect()
        }
        SetOp::Inter => {
            let first = order[0];
            if lens[first] == 0 {
                Vec::new()
            } else {
                let mut cand: Vec<(Vec<u8>, f64)> = Vec::with_capacity(lens[first]);
                if let Some(e) = c.ks.get(keys[first]) {
                    let w = weights[first];
                    for_each_input(&e.value, |m, s| {
                        let mut score = w * s;
                        if score.is_nan() {
                            score = 0.0;
                        }
                        cand.push((m.to_vec(), score));
                    });
                }
                for &i in &order[1..] {
                    if cand.is_empty() {
                        break;
                    }
                    let Some(e) = c.ks.get(keys[i]) else {
                        cand.clear();
                        break;
                    };
                    let w = weights[i];
                    cand.retain_mut(|(m, score)| match input_score(&e.value, m) {
                        Some(v) => {
                            aggregate(score, v * w, agg);
                            true
                        }
                        None => false,
                    });
                }
                cand
            }
        }
        SetOp::Diff => {
            if lens[0] == 0 {
                Vec::new()
            } else {
                let mut cand: Vec<(Vec<u8>, f64)> = Vec::with_capacity(lens[0]);
                if let Some(e) = c.ks.get(keys[0]) {
                    for_each_input(&e.value, |m, s| cand.push((m.to_vec(), s)));
                }
                for i in 1..setnum {
                    if cand.is_empty() {
                        break;
                    }
                    if lens[i] == 0 {
                        continue;
                    }
                    let Some(e) = c.ks.get(keys[i]) else { continue };
                    cand.retain(|(m, _)| input_score(&e.value, m).is_none());
                }
                cand
            }
        }
    };
    if card_only {
        let mut n = result.len() as i64;
        if limit > 0 {
            n = n.min(limit);
        }
        c.out.int(n);
        return Ok(());
    }
    result.sort_unstable_by(|x, y| cmp_pair(x.1, &x.0, y.1, &y.0));
    match dst {
        Some(dst) => store_result(c, dst, result, event),
        None => {
            let items: Vec<(&[u8], f64)> = result.iter().map(|(m, s)| (&m[..], *s)).collect();
            reply_items(c.out, &items, withscores);
        }
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

// ---- blocking variants ----

/// The first of `keys` holding a sorted set (WRONGTYPE at the first key
/// holding anything else), as Redis's `blockingGenericZpopCommand` scans.
fn first_zset<'x>(c: &mut Ctx<'_>, keys: &[&'x [u8]]) -> Result<Option<&'x [u8]>, CmdError> {
    for &k in keys {
        match c.ks.get(k).map(|e| &e.value) {
            None => continue,
            Some(Value::ZSet(_)) => return Ok(Some(k)),
            Some(_) => return Err(CmdError::WrongType),
        }
    }
    Ok(None)
}

fn bzpop(c: &mut Ctx<'_>, a: &[&[u8]], max: bool) -> CmdResult {
    let deadline = timeout_arg(a[a.len() - 1], c.ks.now)?;
    let keys = &a[1..a.len() - 1];
    match first_zset(c, keys)? {
        Some(k) => {
            pop_generic(c, &[k], max, true, None, false, false)?;
        }
        None => block(c, keys, Op::ZPop { max }, deadline),
    }
    Ok(())
}

/// BZPOPMIN key [key ...] timeout
pub fn bzpopmin(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    bzpop(c, a, false)
}

/// BZPOPMAX key [key ...] timeout
pub fn bzpopmax(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    bzpop(c, a, true)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
pub fn bzmpop(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let deadline = timeout_arg(a[1], c.ks.now)?;
    let (keys, max, count) = parse_mpop(a, 2)?;
    match first_zset(c, keys)? {
        Some(k) => {
            pop_generic(c, &[k], max, true, Some(count), true, true)?;
        }
        None => {
            let count = usize::try_from(count).unwrap_or(usize::MAX);
            block(c, keys, Op::ZMPop { max, count }, deadline);
        }
    }
    Ok(())
}

// ---- command table rows ----

/// This group's rows of the command table.
#[rustfmt::skip]
pub static COMMANDS: &[Spec] = &[
    Spec { name: "zadd", arity: -4, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zadd, subcommands: &[] },
    Spec { name: "zincrby", arity: 4, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zincrby, subcommands: &[] },
    Spec { name: "zrem", arity: -3, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrem, subcommands: &[] },
    Spec { name: "zscore", arity: 3, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zscore, subcommands: &[] },
    Spec { name: "zmscore", arity: -3, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zmscore, subcommands: &[] },
    Spec { name: "zcard", arity: 2, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zcard, subcommands: &[] },
    Spec { name: "zcount", arity: 4, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zcount, subcommands: &[] },
    Spec { name: "zlexcount", arity: 4, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zlexcount, subcommands: &[] },
    Spec { name: "zrank", arity: 3, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrank, subcommands: &[] },
    Spec { name: "zrevrank", arity: 3, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrevrank, subcommands: &[] },
    Spec { name: "zrange", arity: -4, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrange, subcommands: &[] },
    Spec { name: "zrangestore", arity: -5, flags: WRITE | DENYOOM, keys: Keys::Range(1, 2, 1), group: "sorted-set", handler: zrangestore, subcommands: &[] },
    Spec { name: "zrangebyscore", arity: -4, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrangebyscore, subcommands: &[] },
    Spec { name: "zrevrangebyscore", arity: -4, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrevrangebyscore, subcommands: &[] },
    Spec { name: "zrangebylex", arity: -4, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrangebylex, subcommands: &[] },
    Spec { name: "zrevrangebylex", arity: -4, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrevrangebylex, subcommands: &[] },
    Spec { name: "zrevrange", arity: -4, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrevrange, subcommands: &[] },
    Spec { name: "zpopmin", arity: -2, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zpopmin, subcommands: &[] },
    Spec { name: "zpopmax", arity: -2, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zpopmax, subcommands: &[] },
    Spec { name: "zmpop", arity: -4, flags: WRITE | MOVABLE_KEYS, keys: Keys::Custom(numkeys_at_1, (0, 0, 0)), group: "sorted-set", handler: zmpop, subcommands: &[] },
    Spec { name: "zremrangebyrank", arity: 4, flags: WRITE, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zremrangebyrank, subcommands: &[] },
    Spec { name: "zremrangebyscore", arity: 4, flags: WRITE, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zremrangebyscore, subcommands: &[] },
    Spec { name: "zremrangebylex", arity: 4, flags: WRITE, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zremrangebylex, subcommands: &[] },
    Spec { name: "zunion", arity: -3, flags: READONLY | MOVABLE_KEYS, keys: Keys::Custom(numkeys_at_1, (0, 0, 0)), group: "sorted-set", handler: zunion, subcommands: &[] },
    Spec { name: "zinter", arity: -3, flags: READONLY | MOVABLE_KEYS, keys: Keys::Custom(numkeys_at_1, (0, 0, 0)), group: "sorted-set", handler: zinter, subcommands: &[] },
    Spec { name: "zdiff", arity: -3, flags: READONLY | MOVABLE_KEYS, keys: Keys::Custom(numkeys_at_1, (0, 0, 0)), group: "sorted-set", handler: zdiff, subcommands: &[] },
    Spec { name: "zunionstore", arity: -4, flags: WRITE | DENYOOM | MOVABLE_KEYS, keys: Keys::Custom(store_keys, (1, 1, 1)), group: "sorted-set", handler: zunionstore, subcommands: &[] },
    Spec { name: "zinterstore", arity: -4, flags: WRITE | DENYOOM | MOVABLE_KEYS, keys: Keys::Custom(store_keys, (1, 1, 1)), group: "sorted-set", handler: zinterstore, subcommands: &[] },
    Spec { name: "zdiffstore", arity: -4, flags: WRITE | DENYOOM | MOVABLE_KEYS, keys: Keys::Custom(store_keys, (1, 1, 1)), group: "sorted-set", handler: zdiffstore, subcommands: &[] },
    Spec { name: "zintercard", arity: -3, flags: READONLY | MOVABLE_KEYS, keys: Keys::Custom(numkeys_at_1, (0, 0, 0)), group: "sorted-set", handler: zintercard, subcommands: &[] },
    Spec { name: "zrandmember", arity: -2, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zrandmember, subcommands: &[] },
    Spec { name: "zscan", arity: -3, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "sorted-set", handler: zscan, subcommands: &[] },
    Spec { name: "bzpopmin", arity: -3, flags: WRITE | NOSCRIPT | FAST | BLOCKING, keys: Keys::Range(1, -2, 1), group: "sorted-set", handler: bzpopmin, subcommands: &[] },
    Spec { name: "bzpopmax", arity: -3, flags: WRITE | NOSCRIPT | FAST | BLOCKING, keys: Keys::Range(1, -2, 1), group: "sorted-set", handler: bzpopmax, subcommands: &[] },
    Spec { name: "bzmpop", arity: -5, flags: WRITE | BLOCKING | MOVABLE_KEYS, keys: Keys::Custom(super::list::blmpop_keys, (0, 0, 0)), group: "sorted-set", handler: bzmpop, subcommands: &[] },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtod_reads_ranges_like_redis() {
        assert_eq!(strtod_arg(b""), Some(0.0));
        assert_eq!(strtod_arg(b"  1.5"), Some(1.5));
        assert_eq!(strtod_arg(b"1.5 "), None);
        assert_eq!(strtod_arg(b"   "), None);
        assert_eq!(strtod_arg(b"1\0junk"), Some(1.0));
        assert_eq!(strtod_arg(b"1e400"), Some(f64::INFINITY));
        assert_eq!(strtod_arg(b"-1e400"), Some(f64::NEG_INFINITY));
        assert_eq!(strtod_arg(b"1e-400"), Some(0.0));
        assert_eq!(strtod_arg(b"0x10"), Some(16.0));
        assert_eq!(strtod_arg(b"0x1p99999"), Some(f64::INFINITY));
        assert_eq!(strtod_arg(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(strtod_arg(b"nan"), None);
        assert_eq!(strtod_arg(b"abc"), None);
    }

    #[test]
    fn lex_items_order_like_sdscmplex() {
        use LexItem::*;
        assert_eq!(cmp_lex(Min, Min), Ordering::Equal);
        assert_eq!(cmp_lex(Max, Min), Ordering::Greater);
        assert_eq!(cmp_lex(Str(b""), Min), Ordering::Greater);
        assert_eq!(cmp_lex(Str(b"\xff"), Max), Ordering::Less);
        let r = LexRange::parse(b"-", b"+").unwrap();
        assert!(r.gte_min(b"") && r.lte_max(b"zzz") && !r.is_empty());
        assert!(LexRange::parse(b"+", b"-").unwrap().is_empty());
        assert!(LexRange::parse(b"[a", b"(a").unwrap().is_empty());
        assert!(LexRange::parse(b"a", b"+").is_err());
        assert!(LexRange::parse(b"", b"+").is_err());
        assert!(LexRange::parse(b"+x", b"+").is_err());
    }

    #[test]
    fn rank_ranges_clamp_like_redis() {
        assert_eq!(rank_range(0, -1, 3), Some((0, 2)));
        assert_eq!(rank_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(rank_range(2, 1, 3), None);
        assert_eq!(rank_range(3, 5, 3), None);
        assert_eq!(rank_range(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(rank_range(0, 0, 0), None);
    }

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
