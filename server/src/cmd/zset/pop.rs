//! Popping the lowest or highest members: ZPOPMIN, ZPOPMAX, ZMPOP and
//! their blocking variants BZPOPMIN, BZPOPMAX, BZMPOP.

use super::*;
use crate::blocking::Op;
use crate::cmd::args::{self, is};
use crate::cmd::blocking::{block, timeout_arg};
use crate::cmd::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::notify::{GENERIC, ZSET};
use crate::value::Value;

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
    if emit_key {
        // ZMPOP and the blocking forms are logged as the ZPOPMIN/ZPOPMAX
        // they amount to (with the count taken, for the M forms).
        let name: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
        let taken = n.to_string();
        if nil_when_empty {
            c.propagate_as(&[name, key, taken.as_bytes()]);
        } else {
            c.propagate_as(&[name, key]);
        }
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
