//! List commands (Redis's `t_list.c`).
//!
//! Every push (LPUSH, RPUSH, LPUSHX, RPUSHX, and the destination side of
//! LMOVE and RPOPLPUSH) goes through [`push`]: that is the one place where
//! clients blocked on the key (BLPOP & co.) are to be woken. The blocking
//! variants (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) are at the end.

use std::sync::atomic::Ordering;

use super::args::{self, is};
use super::blocking::{block, timeout_arg};
use super::flags::*;
use super::{cat, ks};
use super::{lookup_read, Ctx, Keys, Spec};
use crate::blocking::Op;
use crate::db::{Entry, Locked};
use crate::error::{CmdError, CmdResult};
use crate::notify::LIST;
use crate::reply::Reply;
use crate::shared::LoopStats;
use crate::types::list::{Elem, End, Fill, List};
use crate::util::num::parse_i64;
use crate::value::Value;

/// The list in `entry`, or WRONGTYPE.
fn as_list(entry: &mut Entry) -> Result<&mut List, CmdError> {
    match &mut entry.value {
        Value::List(l) => Ok(l),
        _ => Err(CmdError::WrongType),
    }
}

/// The chunk limits from `list-max-listpack-size` (from its atomic mirror:
/// the config lock would bounce between cores on every push).
pub(crate) fn fill(c: &Ctx<'_>) -> Fill {
    Fill::from_config(c.shared.hot.list_max_listpack_size.load(Ordering::Relaxed))
}

/// Writes one element as a bulk string.
fn reply_elem(out: &mut Reply, e: Elem<'_>) {
    match e {
        Elem::Bytes(b) => out.bulk(b),
        Elem::Int(n) => out.bulk_int(n),
    }
}

/// The keyspace event of a push at `end`.
pub fn push_event(end: End) -> &'static str {
    match end {
        End::Front => "lpush",
        End::Back => "rpush",
    }
}

/// The keyspace event of a pop at `end`.
pub fn pop_event(end: End) -> &'static str {
    match end {
        End::Front => "lpop",
        End::Back => "rpop",
    }
}

/// `LEFT` or `RIGHT` (Redis's `getListPositionFromObjectOrReply`).
pub fn end_arg(a: &[u8]) -> Result<End, CmdError> {
    if is(a, "LEFT") {
        Ok(End::Front)
    } else if is(a, "RIGHT") {
        Ok(End::Back)
    } else {
        Err(CmdError::Syntax)
    }
}

/// Pushes `elems` at `end` of the list at `key`, creating it unless
/// `only_existing`. Returns the new length, or `None` when the key is
/// absent and `only_existing`. Every push in the server goes through here;
/// it publishes the `lpush`/`rpush` keyspace event.
pub fn push(
    c: &mut Ctx<'_>,
    key: &[u8],
    end: End,
    elems: &[&[u8]],
    only_existing: bool,
) -> Result<Option<usize>, CmdError> {
    let fill = fill(c);
    let len = match c.ks.get(key) {
        Some(e) => {
            let l = as_list(e)?;
            l.push_all(end, elems, fill);
            l.len()
        }
        None if only_existing => return Ok(None),
        None => {
            let mut l = List::new();
            l.push_all(end, elems, fill);
            let len = l.len();
            c.ks.set(key, Value::List(Box::new(l)), false);
            len
        }
    };
    c.notify(LIST, push_event(end), key);
    Ok(Some(len))
}

fn push_command(c: &mut Ctx<'_>, a: &[&[u8]], end: End, only_existing: bool) -> CmdResult {
    let len = push(c, a[1], end, &a[2..], only_existing)?;
    c.out.int(len.map_or(0, |n| n as i64));
    Ok(())
}

/// LPUSH key element [element ...]
pub fn lpush(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    push_command(c, a, End::Front, false)
}

/// RPUSH key element [element ...]
pub fn rpush(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    push_command(c, a, End::Back, false)
}

/// LPUSHX key element [element ...]
pub fn lpushx(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    push_command(c, a, End::Front, true)
}

/// RPUSHX key element [element ...]
pub fn rpushx(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    push_command(c, a, End::Back, true)
}

/// Removes the key when its list became empty (with the `del` event).
fn remove_if_empty(c: &mut Ctx<'_>, key: &[u8]) {
    if let Some(Entry {
        value: Value::List(l),
        ..
    }) = c.ks.peek(key)
    {
        if l.is_empty() {
            c.delete(key);
        }
    }
}

/// Pops up to `count` elements from `end` of the list `l` as an array.
fn pop_into(out: &mut Reply, l: &mut List, end: End, count: usize) {
    let n = count.min(l.len());
    out.array(n);
    for _ in 0..n {
        l.pop_with(end, |e| reply_elem(out, e));
    }
}

fn pop_command(c: &mut Ctx<'_>, a: &[&[u8]], end: End, name: &str) -> CmdResult {
    if a.len() > 3 {
        return Err(CmdError::arity(name));
    }
    let count = match a.get(2) {
        Some(arg) => match parse_i64(arg) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => return Err(CmdError::msg("ERR value is out of range, must be positive")),
        },
        None => None,
    };
    let key = a[1];
    let Some(e) = c.ks.get(key) else {
        match count {
            Some(_) => c.out.null_array(),
            None => c.out.null(),
        }
        return Ok(());
    };
    let l = as_list(e)?;
    match count {
        None => {
            if l.pop_with(end, |e| reply_elem(c.out, e)).is_none() {
                c.out.null();
            }
        }
        // Redis's fast exit: no event.
        Some(0) => {
            c.out.array(0);
            return Ok(());
        }
        Some(n) => pop_into(c.out, l, end, n),
    }
    c.notify(LIST, pop_event(end), key);
    remove_if_empty(c, key);
    Ok(())
}

/// LPOP key [count]
pub fn lpop(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    pop_command(c, a, End::Front, "lpop")
}

/// RPOP key [count]
pub fn rpop(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    pop_command(c, a, End::Back, "rpop")
}

/// Looks a key up for a read-only command, counting the keyspace hit or
/// miss as Redis's `lookupKeyRead` does.
fn read_list<'k>(
    ks: &'k mut Locked<'_>,
    stats: &LoopStats,
    key: &[u8],
) -> Result<Option<&'k mut List>, CmdError> {
    lookup_read(ks, stats, key).map(as_list).transpose()
}

/// LLEN key
pub fn llen(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let n = read_list(&mut c.ks, c.stats, a[1])?.map_or(0, |l| l.len());
    c.out.int(n as i64);
    Ok(())
}

/// Resolves a `start`/`stop` pair against a list of `len` elements as
/// LRANGE and LTRIM do; `None` when the range is empty.
fn clamp_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut stop = if stop < 0 { len + stop } else { stop };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len {
        return None;
    }
    if stop >= len {
        stop = len - 1;
    }
    Some((start as usize, stop as usize))
}

/// LRANGE key start stop
pub fn lrange(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let start = args::int(a[2])?;
    let stop = args::int(a[3])?;
    let Some(l) = read_list(&mut c.ks, c.stats, a[1])? else {
        c.out.array(0);
        return Ok(());
    };
    let Some((from, to)) = clamp_range(start, stop, l.len()) else {
        c.out.array(0);
        return Ok(());
    };
    let n = to - from + 1;
    c.out.array(n);
    for e in l.iter_from(from).take(n) {
        reply_elem(c.out, e);
    }
    Ok(())
}

/// An index argument resolved against a list of `len` elements (negative
/// counts from the tail); `None` when out of range.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 {
        index.checked_add(len as i64)?
    } else {
        index
    };
    (0..len as i64).contains(&i).then_some(i as usize)
}

/// LINDEX key index
pub fn lindex(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let Some(l) = read_list(&mut c.ks, c.stats, a[1])? else {
        c.out.null();
        return Ok(());
    };
    let index = args::int(a[2])?;
    match resolve_index(index, l.len()).and_then(|i| l.get(i)) {
        Some(e) => reply_elem(c.out, e),
        None => c.out.null(),
    }
    Ok(())
}

/// LSET key index element
pub fn lset(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let fill = fill(c);
    let Some(e) = c.ks.get(a[1]) else {
        return Err(CmdError::NoSuchKey);
    };
    let l = as_list(e)?;
    let index = args::int(a[2])?;
    let i = resolve_index(index, l.len()).ok_or(CmdError::OutOfRange)?;
    l.set(i, a[3], fill);
    c.out.ok();
    c.notify(LIST, "lset", a[1]);
    Ok(())
}

/// LINSERT key BEFORE|AFTER pivot element
pub fn linsert(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let after = if is(a[2], "AFTER") {
        true
    } else if is(a[2], "BEFORE") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let fill = fill(c);
    let Some(e) = c.ks.get(a[1]) else {
        c.out.int(0);
        return Ok(());
    };
    let l = as_list(e)?;
    match l.insert(a[3], after, a[4], fill) {
        Some(n) => {
            c.out.int(n as i64);
            c.notify(LIST, "linsert", a[1]);
        }
        None => c.out.int(-1),
    }
    Ok(())
}

/// LREM key count element
pub fn lrem(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let count = args::int(a[2])?;
    let key = a[1];
    let Some(e) = c.ks.get(key) else {
        c.out.int(0);
        return Ok(());
    };
    let l = as_list(e)?;
    // count > 0: the first `count` from the head; < 0: from the tail; 0: all.
    let limit = (count != 0).then(|| usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX));
    let removed = l.remove(a[3], limit, count < 0);
    c.out.int(removed as i64);
    if removed > 0 {
        c.notify(LIST, "lrem", key);
        remove_if_empty(c, key);
    }
    Ok(())
}

/// LTRIM key start stop
pub fn ltrim(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let start = args::int(a[2])?;
    let stop = args::int(a[3])?;
    let key = a[1];
    let Some(e) = c.ks.get(key) else {
        c.out.ok();
        return Ok(());
    };
    let l = as_list(e)?;
    let len = l.len();
    match clamp_range(start, stop, len) {
        Some((from, to)) => l.trim(from, len - to - 1),
        None => l.trim(len, 0),
    }
    c.out.ok();
    c.notify(LIST, "ltrim", key);
    remove_if_empty(c, key);
    Ok(())
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
pub fn lpos(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let mut rank: i64 = 1;
    let mut count: Option<i64> = None;
    let mut maxlen: i64 = 0;
    let mut j = 3;
    while j < a.len() {
        let more = j + 1 < a.len();
        if is(a[j], "RANK") && more {
            j += 1;
            rank = args::int(a[j])?;
            if rank == 0 {
                return Err(CmdError::msg(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
        } else if is(a[j], "COUNT") && more {
            j += 1;
            count = Some(non_negative(a[j], "ERR COUNT can't be negative")?);
        } else if is(a[j], "MAXLEN") && more {
            j += 1;
            maxlen = non_negative(a[j], "ERR MAXLEN can't be negative")?;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    // A negative rank searches from the tail. Redis negates it in a C long,
    // so i64::MIN stays negative and then matches from the first hit on.
    let from_tail = rank < 0;
    if from_tail {
        rank = rank.wrapping_neg();
    }
    let Some(l) = read_list(&mut c.ks, c.stats, a[1])? else {
        match count {
            Some(_) => c.out.array(0),
            None => c.out.null(),
        }
        return Ok(());
    };
    let needle = Elem::of(a[2]);
    let len = l.len();
    let limit = if maxlen == 0 {
        len
    } else {
        len.min(usize::try_from(maxlen).unwrap_or(usize::MAX))
    };
    let mut hits: Vec<usize> = Vec::new();
    let mut matches: i64 = 0;
    let mut visit = |index: usize, e: Elem<'_>| -> bool {
        if e != needle {
            return true;
        }
        matches += 1;
        if matches >= rank {
            hits.push(if from_tail { len - index - 1 } else { index });
            match count {
                None => return false,
                Some(n) => {
                    if n != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= n {
                        return false;
                    }
                }
            }
        }
        true
    };
    if from_tail {
        for (i, e) in l.iter_rev().take(limit).enumerate() {
            if !visit(i, e) {
                break;
            }
        }
    } else {
        for (i, e) in l.iter().take(limit).enumerate() {
            if !visit(i, e) {
                break;
            }
        }
    }
    match count {
        Some(_) => {
            c.out.array(hits.len());
            for h in hits {
                c.out.int(h as i64);
            }
        }
        None => match hits.first() {
            Some(&h) => c.out.int(h as i64),
            None => c.out.null(),
        },
    }
    Ok(())
}

/// A non-negative integer argument (`getPositiveLongFromObjectOrReply`),
/// with `err` for anything else.
fn non_negative(a: &[u8], err: &'static str) -> Result<i64, CmdError> {
    match parse_i64(a) {
        Some(n) if n >= 0 => Ok(n),
        _ => Err(CmdError::msg(err)),
    }
}

/// The LMOVE core: pops from `from` of `src`, pushes at `to` of `dst`,
/// replies with the element (null when `src` is absent).
fn lmove_generic(c: &mut Ctx<'_>, src: &[u8], dst: &[u8], from: End, to: End) -> CmdResult {
    let Some(e) = c.ks.get(src) else {
        c.out.null();
        return Ok(());
    };
    if as_list(e)?.is_empty() {
        c.out.null();
        return Ok(());
    }
    if let Some(d) = c.ks.get(dst) {
        as_list(d)?;
    }
    let Some(e) = c.ks.get(src) else {
        unreachable!("the source was just found");
    };
    let Some(value) = as_list(e)?.pop(from) else {
        unreachable!("the source is not empty");
    };
    push(c, dst, to, &[&value], false)?;
    c.out.bulk(&value);
    c.notify(LIST, pop_event(from), src);
    remove_if_empty(c, src);
    Ok(())
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
pub fn lmove(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let from = end_arg(a[3])?;
    let to = end_arg(a[4])?;
    lmove_generic(c, a[1], a[2], from, to)
}

/// RPOPLPUSH source destination
pub fn rpoplpush(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    lmove_generic(c, a[1], a[2], End::Back, End::Front)
}

/// The keys LMPOP touches: `numkeys` keys after the `numkeys` argument.
pub fn lmpop_keys<'x>(a: &[&'x [u8]], db: usize, out: &mut Vec<(usize, &'x [u8])>) {
    mpop_keys_at(a, 1, db, out);
}

/// The keys of an `...MPOP` call whose `numkeys` is argument `at`: none
/// when it is not a positive number of keys that are all present.
pub fn mpop_keys_at<'x>(a: &[&'x [u8]], at: usize, db: usize, out: &mut Vec<(usize, &'x [u8])>) {
    let Some(n) = a.get(at).and_then(|x| parse_i64(x)) else {
        return;
    };
    let Ok(n) = usize::try_from(n) else {
        return;
    };
    if n == 0 || n > a.len().saturating_sub(at + 1) {
        return;
    }
    out.extend(a[at + 1..at + 1 + n].iter().map(|k| (db, *k)));
}

/// Parses `numkeys key... LEFT|RIGHT [COUNT n]` starting at `numkeys_idx`
/// (LMPOP and BLMPOP): the keys, the side, the count.
pub fn parse_mpop<'a, 'x>(
    a: &'a [&'x [u8]],
    numkeys_idx: usize,
) -> Result<(&'a [&'x [u8]], End, usize), CmdError> {
    let numkeys = args::int_in(
        a[numkeys_idx],
        1,
        i64::MAX,
        "ERR numkeys should be greater than 0",
    )?;
    let keys_end = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(numkeys_idx + 1))
        .filter(|&w| w < a.len())
        .ok_or(CmdError::Syntax)?;
    let end = end_arg(a[keys_end])?;
    let mut count: Option<usize> = None;
    let mut j = keys_end + 1;
    while j < a.len() {
        if count.is_none() && is(a[j], "COUNT") && j + 1 < a.len() {
            j += 1;
            let n = args::int_in(a[j], 1, i64::MAX, "ERR count should be greater than 0")?;
            count = Some(usize::try_from(n).unwrap_or(usize::MAX));
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok((&a[numkeys_idx + 1..keys_end], end, count.unwrap_or(1)))
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
pub fn lmpop(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (keys, end, count) = parse_mpop(a, 1)?;
    for &key in keys {
        let Some(e) = c.ks.get(key) else {
            continue;
        };
        let l = as_list(e)?;
        if l.is_empty() {
            continue;
        }
        let taken = count.min(l.len()).to_string();
        c.out.array(2);
        c.out.bulk(key);
        pop_into(c.out, l, end, count);
        // Logged as the LPOP/RPOP with a count it amounts to.
        c.propagate_as(&[pop_name(end), key, taken.as_bytes()]);
        c.notify(LIST, pop_event(end), key);
        remove_if_empty(c, key);
        return Ok(());
    }
    c.out.null_array();
    Ok(())
}

// ---- blocking variants ----

fn blocking_pop(c: &mut Ctx<'_>, a: &[&[u8]], end: End) -> CmdResult {
    let deadline = timeout_arg(a[a.len() - 1], c.ks.now)?;
    let keys = &a[1..a.len() - 1];
    for &key in keys {
        let Some(e) = c.ks.get(key) else { continue };
        let Value::List(l) = &mut e.value else {
            return Err(CmdError::WrongType);
        };
        let Some(elem) = l.pop(end) else { continue };
        let empty = l.is_empty();
        c.out.array(2);
        c.out.bulk(key);
        c.out.bulk(&elem);
        c.propagate_as(&[pop_name(end), key]);
        c.notify(LIST, pop_event(end), key);
        if empty {
            c.delete(key);
        }
        return Ok(());
    }
    block(c, keys, Op::Pop(end), deadline);
    Ok(())
}

/// BLPOP key [key ...] timeout
pub fn blpop(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    blocking_pop(c, a, End::Front)
}

/// BRPOP key [key ...] timeout
pub fn brpop(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    blocking_pop(c, a, End::Back)
}

/// LPOP or RPOP: what a pop at `e` is logged as.
fn pop_name(e: End) -> &'static [u8] {
    match e {
        End::Front => b"LPOP",
        End::Back => b"RPOP",
    }
}

fn side_name(e: End) -> &'static [u8] {
    match e {
        End::Front => b"LEFT",
        End::Back => b"RIGHT",
    }
}

fn blocking_move(
    c: &mut Ctx<'_>,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
    timeout: &[u8],
) -> CmdResult {
    let deadline = timeout_arg(timeout, c.ks.now)?;
    match c.ks.get(src) {
        Some(e) if !matches!(e.value, Value::List(_)) => Err(CmdError::WrongType),
        Some(_) => lmove(c, &[b"lmove", src, dst, side_name(from), side_name(to)]),
        None => {
            block(
                c,
                &[src],
                Op::Move {
                    from,
                    to,
                    dest: dst.to_vec(),
                },
                deadline,
            );
            Ok(())
        }
    }
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
pub fn blmove(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let from = end_arg(a[3])?;
    let to = end_arg(a[4])?;
    blocking_move(c, a[1], a[2], from, to, a[5])?;
    // What a move that happened now is logged as (nothing when it waits).
    c.propagate_as(&[b"LMOVE", a[1], a[2], a[3], a[4]]);
    Ok(())
}

/// BRPOPLPUSH source destination timeout
pub fn brpoplpush(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    blocking_move(c, a[1], a[2], End::Back, End::Front, a[3])?;
    c.propagate_as(&[b"RPOPLPUSH", a[1], a[2]]);
    Ok(())
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
pub fn blmpop(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let deadline = timeout_arg(a[1], c.ks.now)?;
    let (keys, end, count) = parse_mpop(a, 2)?;
    for &key in keys {
        match c.ks.get(key) {
            None => continue,
            Some(e) => match &e.value {
                Value::List(l) if l.is_empty() => continue,
                Value::List(_) => return lmpop(c, &a[1..]),
                _ => return Err(CmdError::WrongType),
            },
        }
    }
    let op = Op::MPop { end, count };
    block(c, keys, op, deadline);
    Ok(())
}

/// The keys of BLMPOP (its numkeys is the second argument).
pub fn blmpop_keys<'x>(a: &[&'x [u8]], db: usize, out: &mut Vec<(usize, &'x [u8])>) {
    mpop_keys_at(a, 2, db, out);
}

// ---- command table rows ----

/// This group's rows of the command table.
#[rustfmt::skip]
pub static COMMANDS: &[Spec] = &[
    Spec { name: "lpush", arity: -3, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "list", handler: lpush, acl: cat::LIST, key_specs: &[ks::key(ks::RW | ks::INSERT, 1)], tips: &[], subcommands: &[] },
    Spec { name: "rpush", arity: -3, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "list", handler: rpush, acl: cat::LIST, key_specs: &[ks::key(ks::RW | ks::INSERT, 1)], tips: &[], subcommands: &[] },
    Spec { name: "lpushx", arity: -3, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "list", handler: lpushx, acl: cat::LIST, key_specs: &[ks::key(ks::RW | ks::INSERT, 1)], tips: &[], subcommands: &[] },
    Spec { name: "rpushx", arity: -3, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "list", handler: rpushx, acl: cat::LIST, key_specs: &[ks::key(ks::RW | ks::INSERT, 1)], tips: &[], subcommands: &[] },
    Spec { name: "lpop", arity: -2, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "list", handler: lpop, acl: cat::LIST, key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::DELETE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "rpop", arity: -2, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "list", handler: rpop, acl: cat::LIST, key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::DELETE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "llen", arity: 2, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "list", handler: llen, acl: cat::LIST, key_specs: &[ks::key(ks::RO, 1)], tips: &[], subcommands: &[] },
    Spec { name: "lrange", arity: 4, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "list", handler: lrange, acl: cat::LIST, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "lindex", arity: 3, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "list", handler: lindex, acl: cat::LIST, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "lset", arity: 4, flags: WRITE | DENYOOM, keys: Keys::Range(1, 1, 1), group: "list", handler: lset, acl: cat::LIST, key_specs: &[ks::key(ks::RW | ks::UPDATE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "linsert", arity: 5, flags: WRITE | DENYOOM, keys: Keys::Range(1, 1, 1), group: "list", handler: linsert, acl: cat::LIST, key_specs: &[ks::key(ks::RW | ks::INSERT, 1)], tips: &[], subcommands: &[] },
    Spec { name: "lrem", arity: 4, flags: WRITE, keys: Keys::Range(1, 1, 1), group: "list", handler: lrem, acl: cat::LIST, key_specs: &[ks::key(ks::RW | ks::DELETE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "ltrim", arity: 4, flags: WRITE, keys: Keys::Range(1, 1, 1), group: "list", handler: ltrim, acl: cat::LIST, key_specs: &[ks::key(ks::RW | ks::DELETE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "lpos", arity: -3, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "list", handler: lpos, acl: cat::LIST, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "lmove", arity: 5, flags: WRITE | DENYOOM, keys: Keys::Range(1, 2, 1), group: "list", handler: lmove, acl: cat::LIST, key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::DELETE, 1), ks::key(ks::RW | ks::INSERT, 2)], tips: &[], subcommands: &[] },
    Spec { name: "rpoplpush", arity: 3, flags: WRITE | DENYOOM, keys: Keys::Range(1, 2, 1), group: "list", handler: rpoplpush, acl: cat::LIST, key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::DELETE, 1), ks::key(ks::RW | ks::INSERT, 2)], tips: &[], subcommands: &[] },
    Spec { name: "lmpop", arity: -4, flags: WRITE | MOVABLE_KEYS, keys: Keys::Custom(lmpop_keys), group: "list", handler: lmpop, acl: cat::LIST, key_specs: &[ks::spec(ks::RW | ks::ACCESS | ks::DELETE, ks::Index(1), ks::Keynum(0, 1, 1))], tips: &[], subcommands: &[] },
    Spec { name: "blpop", arity: -3, flags: WRITE | NOSCRIPT | BLOCKING, keys: Keys::Range(1, -2, 1), group: "list", handler: blpop, acl: cat::LIST, key_specs: &[ks::spec(ks::RW | ks::ACCESS | ks::DELETE, ks::Index(1), ks::Range(-2, 1, 0))], tips: &[], subcommands: &[] },
    Spec { name: "brpop", arity: -3, flags: WRITE | NOSCRIPT | BLOCKING, keys: Keys::Range(1, -2, 1), group: "list", handler: brpop, acl: cat::LIST, key_specs: &[ks::spec(ks::RW | ks::ACCESS | ks::DELETE, ks::Index(1), ks::Range(-2, 1, 0))], tips: &[], subcommands: &[] },
    Spec { name: "blmove", arity: 6, flags: WRITE | DENYOOM | NOSCRIPT | BLOCKING, keys: Keys::Range(1, 2, 1), group: "list", handler: blmove, acl: cat::LIST, key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::DELETE, 1), ks::key(ks::RW | ks::INSERT, 2)], tips: &[], subcommands: &[] },
    Spec { name: "brpoplpush", arity: 4, flags: WRITE | DENYOOM | NOSCRIPT | BLOCKING, keys: Keys::Range(1, 2, 1), group: "list", handler: brpoplpush, acl: cat::LIST, key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::DELETE, 1), ks::key(ks::RW | ks::INSERT, 2)], tips: &[], subcommands: &[] },
    Spec { name: "blmpop", arity: -5, flags: WRITE | BLOCKING | MOVABLE_KEYS, keys: Keys::Custom(blmpop_keys), group: "list", handler: blmpop, acl: cat::LIST, key_specs: &[ks::spec(ks::RW | ks::ACCESS | ks::DELETE, ks::Index(2), ks::Keynum(0, 1, 1))], tips: &[], subcommands: &[] },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn keys<'x>(a: &[&'x [u8]]) -> Vec<&'x [u8]> {
        let mut out = Vec::new();
        lmpop_keys(a, 0, &mut out);
        out.into_iter().map(|(_, k)| k).collect()
    }

    #[test]
    fn lmpop_keys_are_the_numkeys_arguments_after_numkeys() {
        assert_eq!(
            keys(&[b"lmpop", b"2", b"a", b"b", b"LEFT"]),
            vec![&b"a"[..], b"b"]
        );
        assert_eq!(
            keys(&[b"lmpop", b"1", b"a", b"LEFT", b"COUNT", b"2"]),
            vec![&b"a"[..]]
        );
    }

    #[test]
    fn lmpop_keys_are_none_for_a_bad_numkeys() {
        for n in [
            &b"0"[..],
            b"-1",
            b"x",
            b"4",
            b"9223372036854775807",
            b"18446744073709551617",
        ] {
            assert!(
                keys(&[b"lmpop", n, b"a", b"b", b"LEFT"]).is_empty(),
                "{n:?}"
            );
        }
        assert!(keys(&[b"lmpop"]).is_empty());
    }

    #[test]
    fn ranges_clamp_as_redis_does() {
        assert_eq!(clamp_range(0, -1, 5), Some((0, 4)));
        assert_eq!(clamp_range(-100, 100, 5), Some((0, 4)));
        assert_eq!(clamp_range(3, 1, 5), None);
        assert_eq!(clamp_range(5, 10, 5), None);
        assert_eq!(clamp_range(0, -6, 5), None);
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 5), Some((0, 4)));
        assert_eq!(clamp_range(0, 0, 0), None);
    }

    #[test]
    fn indexes_resolve_from_either_end() {
        assert_eq!(resolve_index(0, 3), Some(0));
        assert_eq!(resolve_index(-1, 3), Some(2));
        assert_eq!(resolve_index(-3, 3), Some(0));
        assert_eq!(resolve_index(-4, 3), None);
        assert_eq!(resolve_index(3, 3), None);
        assert_eq!(resolve_index(i64::MIN, 3), None);
        assert_eq!(resolve_index(i64::MAX, 3), None);
    }
}
