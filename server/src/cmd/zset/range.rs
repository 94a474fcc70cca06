//! Ranges of a sorted set: by score, by lex, by rank, and the commands
//! that read or remove one (ZCOUNT, ZLEXCOUNT, ZRANGE and its older
//! forms, ZRANGESTORE, ZREMRANGEBY*).

use std::cmp::Ordering;

use super::*;
use crate::cmd::args::{self, is};
use crate::cmd::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::notify::{GENERIC, ZSET};
use crate::types::zset::ZSet;
use crate::util::num::{
    hex_mantissa, is_c_space, parse_f64, round_binary, scan_float, Kind, Rounded,
};
use crate::value::Value;

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
pub(super) fn store_result(c: &mut Ctx<'_>, dst: &[u8], items: Vec<(Vec<u8>, f64)>, event: &str) {
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
}
