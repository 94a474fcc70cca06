//! String commands (Redis's `t_string.c`).

use super::args::{self, is};
use super::flags::*;
use super::{cat, ks};
use super::{lookup_read, Ctx};
use super::{Keys, Spec};
use crate::error::{CmdError, CmdResult};
use crate::notify::{GENERIC, STRING};
use crate::reply::Reply;
use crate::util::ldouble::LongDouble;
use crate::util::num::parse_i64;
use crate::value::Value;

/// Writes a string value as a bulk reply, or fails with WRONGTYPE.
pub fn reply_string(out: &mut Reply, v: &Value) -> CmdResult {
    match v {
        Value::Str(s) | Value::Raw(s) => out.bulk(s),
        Value::Int(n) => out.bulk_int(*n),
        #[allow(unreachable_patterns)]
        _ => return Err(CmdError::WrongType),
    }
    Ok(())
}

/// The bytes of a string value (ints formatted into `scratch`), or WRONGTYPE.
pub(super) fn bytes_of<'v>(
    v: &'v Value,
    scratch: &'v mut itoa::Buffer,
) -> Result<&'v [u8], CmdError> {
    v.as_bytes(scratch).ok_or(CmdError::WrongType)
}

/// Turns a string value into its raw form for in-place edits (APPEND,
/// SETRANGE), or fails with WRONGTYPE.
pub(super) fn raw_mut(v: &mut Value) -> Result<&mut Vec<u8>, CmdError> {
    match v {
        Value::Int(n) => *v = Value::Raw(itoa::Buffer::new().format(*n).as_bytes().to_vec()),
        Value::Str(s) => *v = Value::Raw(std::mem::take(s)),
        _ => {}
    }
    match v {
        Value::Raw(s) => Ok(s),
        #[allow(unreachable_patterns)]
        _ => Err(CmdError::WrongType),
    }
}

fn check_len(c: &Ctx<'_>, total: u64) -> CmdResult {
    if total > c.shared.config().proto_max_bulk_len {
        return Err(CmdError::msg(
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
        ));
    }
    Ok(())
}

/// GET key
pub fn get(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    match lookup_read(&mut c.ks, c.stats, a[1]) {
        None => c.out.null(),
        Some(e) => reply_string(c.out, &e.value)?,
    }
    Ok(())
}

/// Which expiry option a SET/GETEX call gave.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpireKind {
    Ex,
    Px,
    ExAt,
    PxAt,
}

#[derive(Default)]
struct SetOptions<'x> {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    persist: bool,
    expire: Option<(ExpireKind, &'x [u8])>,
}

/// Parses SET's or GETEX's options as Redis's
/// `parseExtendedStringArgumentsOrReply` does, accepting the same
/// combinations and repeats.
fn parse_options<'x>(
    a: &[&'x [u8]],
    from: usize,
    is_set: bool,
) -> Result<SetOptions<'x>, CmdError> {
    let mut o = SetOptions::default();
    let mut j = from;
    while j < a.len() {
        let opt = a[j];
        let next = a.get(j + 1).copied();
        let has_expire = o.expire.is_some();
        let expire_kind = |k: ExpireKind| matches!(o.expire, Some((x, _)) if x != k);
        if is(opt, "NX") && !o.xx && is_set {
            o.nx = true;
        } else if is(opt, "XX") && !o.nx && is_set {
            o.xx = true;
        } else if is(opt, "GET") && is_set {
            o.get = true;
        } else if is(opt, "KEEPTTL") && !o.persist && !has_expire && is_set {
            o.keep_ttl = true;
        } else if is(opt, "PERSIST") && !is_set && !has_expire && !o.keep_ttl {
            o.persist = true;
        } else if let (Some(kind), Some(n)) = (expire_word(opt), next) {
            if o.keep_ttl || o.persist || expire_kind(kind) {
                return Err(CmdError::Syntax);
            }
            o.expire = Some((kind, n));
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

fn expire_word(opt: &[u8]) -> Option<ExpireKind> {
    if is(opt, "EX") {
        Some(ExpireKind::Ex)
    } else if is(opt, "PX") {
        Some(ExpireKind::Px)
    } else if is(opt, "EXAT") {
        Some(ExpireKind::ExAt)
    } else if is(opt, "PXAT") {
        Some(ExpireKind::PxAt)
    } else {
        None
    }
}

/// The absolute deadline in ms for an expiry option, with Redis's checks
/// (`getExpireMillisecondsOrReply`).
fn deadline(c: &Ctx<'_>, kind: ExpireKind, arg: &[u8], cmd: &str) -> Result<u64, CmdError> {
    let n = args::int(arg)?;
    let invalid = || CmdError::msg(format!("ERR invalid expire time in '{cmd}' command"));
    let seconds = matches!(kind, ExpireKind::Ex | ExpireKind::ExAt);
    if n <= 0 || (seconds && n > i64::MAX / 1000) {
        return Err(invalid());
    }
    let mut ms = if seconds { n * 1000 } else { n };
    if matches!(kind, ExpireKind::Ex | ExpireKind::Px) {
        ms = ms.checked_add(c.ks.now as i64).ok_or_else(invalid)?;
    }
    Ok(ms as u64)
}

/// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ms-ts | KEEPTTL]
pub fn set(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let o = parse_options(a, 3, true)?;
    let at = match o.expire {
        Some((kind, arg)) => Some(deadline(c, kind, arg, "set")?),
        None => None,
    };
    set_generic(
        c,
        a[1],
        a[2],
        o.nx,
        o.xx,
        o.get,
        o.keep_ttl,
        at,
        SetReply::Ok,
    )?;
    if o.get && at.is_none() && c.propagating() {
        // Logged without its GET arguments, as Redis does.
        let argv: Vec<&[u8]> = a
            .iter()
            .enumerate()
            .filter(|(i, w)| *i < 3 || !w.eq_ignore_ascii_case(b"get"))
            .map(|(_, w)| *w)
            .collect();
        c.propagate_as(&argv);
    }
    Ok(())
}

/// What a successful or aborted SET-like command replies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SetReply {
    /// `+OK`, or null when NX/XX aborted.
    Ok,
    /// `:1`, or `:0` when aborted (SETNX).
    One,
}

#[allow(clippy::too_many_arguments)]
fn set_generic(
    c: &mut Ctx<'_>,
    key: &[u8],
    val: &[u8],
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    at: Option<u64>,
    reply: SetReply,
) -> CmdResult {
    let found = match c.ks.get(key) {
        Some(e) => {
            if get {
                reply_string(c.out, &e.value)?;
            }
            true
        }
        None => {
            if get {
                c.out.null();
            }
            false
        }
    };
    if (nx && found) || (xx && !found) {
        if !get {
            match reply {
                SetReply::Ok => c.out.null(),
                SetReply::One => c.out.int(0),
            }
        }
        return Ok(());
    }
    c.ks.set(key, Value::string(val), keep_ttl);
    c.notify(STRING, "set", key);
    if let Some(at) = at {
        c.ks.set_expire(key, at);
        c.notify(GENERIC, "expire", key);
        // Logged with its absolute deadline, as Redis logs it.
        let ms = at.to_string();
        c.propagate_as(&[b"SET", key, val, b"PXAT", ms.as_bytes()]);
    }
    if !get {
        match reply {
            SetReply::Ok => c.out.ok(),
            SetReply::One => c.out.int(1),
        }
    }
    Ok(())
}

/// SETNX key value
pub fn setnx(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    set_generic(
        c,
        a[1],
        a[2],
        true,
        false,
        false,
        false,
        None,
        SetReply::One,
    )
}

/// SETEX key seconds value
pub fn setex(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let at = deadline(c, ExpireKind::Ex, a[2], "setex")?;
    set_generic(
        c,
        a[1],
        a[3],
        false,
        false,
        false,
        false,
        Some(at),
        SetReply::Ok,
    )
}

/// PSETEX key milliseconds value
pub fn psetex(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let at = deadline(c, ExpireKind::Px, a[2], "psetex")?;
    set_generic(
        c,
        a[1],
        a[3],
        false,
        false,
        false,
        false,
        Some(at),
        SetReply::Ok,
    )
}

/// GETSET key value
pub fn getset(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    set_generic(c, a[1], a[2], false, false, true, false, None, SetReply::Ok)?;
    c.propagate_as(&[b"SET", a[1], a[2]]);
    Ok(())
}

/// GETDEL key
pub fn getdel(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    match lookup_read(&mut c.ks, c.stats, a[1]) {
        None => {
            c.out.null();
            return Ok(());
        }
        Some(e) => reply_string(c.out, &e.value)?,
    }
    if c.delete(a[1]) {
        c.propagate_as(&[b"DEL", a[1]]);
    }
    Ok(())
}

/// GETEX key [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST]
pub fn getex(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    // Redis's order: options, then the key (a missing key is nil even with a
    // bad expire time), then its type, then the expire time.
    let o = parse_options(a, 2, false)?;
    match c.ks.get(a[1]) {
        None => {
            c.stats.miss();
            c.out.null();
            return Ok(());
        }
        Some(e) if !e.value.is_string() => return Err(CmdError::WrongType),
        Some(_) => c.stats.hit(),
    }
    let at = match o.expire {
        Some((kind, arg)) => Some(deadline(c, kind, arg, "getex")?),
        None => None,
    };
    if let Some(e) = c.ks.get(a[1]) {
        reply_string(c.out, &e.value)?;
    }
    if let Some(at) = at {
        if at <= c.ks.now {
            c.delete(a[1]);
            c.propagate_as(&[b"DEL", a[1]]);
        } else {
            c.ks.set_expire(a[1], at);
            c.notify(GENERIC, "expire", a[1]);
            let ms = at.to_string();
            c.propagate_as(&[b"PEXPIREAT", a[1], ms.as_bytes()]);
        }
    } else if o.persist && c.ks.peek(a[1]).is_some_and(|e| e.expire_at() != 0) {
        c.ks.set_expire(a[1], 0);
        c.notify(GENERIC, "persist", a[1]);
        c.propagate_as(&[b"PERSIST", a[1]]);
    }
    Ok(())
}

/// MGET key [key ...]
pub fn mget(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    c.out.array(a.len() - 1);
    for key in &a[1..] {
        match c.ks.get(key) {
            Some(e) if e.value.is_string() => {
                c.stats.hit();
                reply_string(c.out, &e.value)?;
            }
            found => {
                if found.is_some() {
                    c.stats.hit();
                } else {
                    c.stats.miss();
                }
                c.out.null();
            }
        }
    }
    Ok(())
}

/// MSET key value [key value ...]
pub fn mset(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() % 2 == 0 {
        return Err(CmdError::arity("mset"));
    }
    for kv in a[1..].chunks_exact(2) {
        c.ks.set(kv[0], Value::string(kv[1]), false);
        c.notify(STRING, "set", kv[0]);
    }
    c.out.ok();
    Ok(())
}

/// MSETNX key value [key value ...]
pub fn msetnx(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() % 2 == 0 {
        return Err(CmdError::arity("msetnx"));
    }
    if a[1..].chunks_exact(2).any(|kv| c.ks.exists(kv[0])) {
        c.out.int(0);
        return Ok(());
    }
    for kv in a[1..].chunks_exact(2) {
        c.ks.set(kv[0], Value::string(kv[1]), false);
        c.notify(STRING, "set", kv[0]);
    }
    c.out.int(1);
    Ok(())
}

/// APPEND key value
pub fn append(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let limit = c.shared.config().proto_max_bulk_len;
    let len = match c.ks.get(a[1]) {
        None => {
            c.ks.set(a[1], Value::string(a[2]), false);
            a[2].len()
        }
        Some(e) => {
            let mut scratch = itoa::Buffer::new();
            let cur = bytes_of(&e.value, &mut scratch)?.len();
            if (cur + a[2].len()) as u64 > limit {
                return Err(CmdError::msg(
                    "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
                ));
            }
            let s = raw_mut(&mut e.value)?;
            s.extend_from_slice(a[2]);
            s.len()
        }
    };
    c.notify(STRING, "append", a[1]);
    c.out.int(len as i64);
    Ok(())
}

/// STRLEN key
pub fn strlen(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let n = match c.ks.get(a[1]) {
        None => 0,
        Some(e) => {
            let mut scratch = itoa::Buffer::new();
            bytes_of(&e.value, &mut scratch)?.len()
        }
    };
    c.out.int(n as i64);
    Ok(())
}

/// The shared core of INCR, DECR, INCRBY and DECRBY.
fn incr_by(c: &mut Ctx<'_>, key: &[u8], delta: i64) -> CmdResult {
    let n = match c.ks.get(key) {
        None => {
            c.ks.set(key, Value::Int(delta), false);
            delta
        }
        Some(e) => {
            let cur = match &e.value {
                Value::Int(n) => *n,
                Value::Str(s) | Value::Raw(s) => parse_i64(s).ok_or(CmdError::NotInteger)?,
                #[allow(unreachable_patterns)]
                _ => return Err(CmdError::WrongType),
            };
            let n = cur.checked_add(delta).ok_or(CmdError::Overflow)?;
            e.value = Value::Int(n);
            n
        }
    };
    c.notify(STRING, "incrby", key);
    c.out.int(n);
    Ok(())
}

/// INCR key
pub fn incr(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    incr_by(c, a[1], 1)
}

/// DECR key
pub fn decr(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    incr_by(c, a[1], -1)
}

/// INCRBY key increment
pub fn incrby(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let delta = args::int(a[2])?;
    incr_by(c, a[1], delta)
}

/// DECRBY key decrement
pub fn decrby(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let delta = args::int(a[2])?;
    if delta == i64::MIN {
        return Err(CmdError::msg("ERR decrement would overflow"));
    }
    incr_by(c, a[1], -delta)
}

/// INCRBYFLOAT key increment — computed in x87 extended precision and
/// printed as Redis does (`%.17Lf`, trailing zeros trimmed).
pub fn incrbyfloat(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let key = a[1];
    let cur = match c.ks.get(key) {
        None => LongDouble::from_i64(0),
        Some(e) => {
            let mut scratch = itoa::Buffer::new();
            let b = bytes_of(&e.value, &mut scratch)?;
            LongDouble::parse(b).ok_or(CmdError::NotFloat)?
        }
    };
    let incr = LongDouble::parse(a[2]).ok_or(CmdError::NotFloat)?;
    let sum = cur.add(incr);
    if !sum.is_finite() {
        return Err(CmdError::msg("ERR increment would produce NaN or Infinity"));
    }
    let mut text = Vec::with_capacity(32);
    sum.fmt_human(&mut text);
    c.out.bulk(&text);
    // Logged as a SET of the result, so that float formatting can never
    // make a replay differ.
    c.propagate_as(&[b"SET", key, &text, b"KEEPTTL"]);
    c.ks.set(key, Value::Str(text), true);
    c.notify(STRING, "incrbyfloat", key);
    Ok(())
}

/// The bytes `start..=end` of a string of `len` bytes, with Redis's
/// GETRANGE index rules; `None` for an empty result.
fn range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

/// GETRANGE key start end (and its old name SUBSTR)
pub fn getrange(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let start = args::int(a[2])?;
    let end = args::int(a[3])?;
    let Some(e) = c.ks.get(a[1]) else {
        c.out.bulk(b"");
        return Ok(());
    };
    let mut scratch = itoa::Buffer::new();
    let s = bytes_of(&e.value, &mut scratch)?;
    match range(start, end, s.len()) {
        Some((from, to)) => c.out.bulk(&s[from..=to]),
        None => c.out.bulk(b""),
    }
    Ok(())
}

/// SETRANGE key offset value
pub fn setrange(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let offset = args::int(a[2])?;
    if offset < 0 {
        return Err(CmdError::msg("ERR offset is out of range"));
    }
    let value = a[3];
    let total = offset as u64 + value.len() as u64;
    let len = match c.ks.get(a[1]) {
        None => {
            if value.is_empty() {
                c.out.int(0);
                return Ok(());
            }
            check_len(c, total)?;
            let mut s = vec![0u8; total as usize];
            s[offset as usize..].copy_from_slice(value);
            c.ks.set(a[1], Value::Raw(s), false);
            total as usize
        }
        Some(e) => {
            if !e.value.is_string() {
                return Err(CmdError::WrongType);
            }
            let mut scratch = itoa::Buffer::new();
            let cur = bytes_of(&e.value, &mut scratch)?.len();
            if value.is_empty() {
                c.out.int(cur as i64);
                return Ok(());
            }
            if total > c.shared.config().proto_max_bulk_len {
                return Err(CmdError::msg(
                    "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
                ));
            }
            let s = raw_mut(&mut e.value)?;
            let end = offset as usize + value.len();
            if s.len() < end {
                s.resize(end, 0);
            }
            s[offset as usize..end].copy_from_slice(value);
            s.len()
        }
    };
    c.notify(STRING, "setrange", a[1]);
    c.out.int(len as i64);
    Ok(())
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
pub fn lcs(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let not_string = || CmdError::msg("ERR The specified keys must contain string values");
    let fetch = |c: &mut Ctx<'_>, key: &[u8]| -> Result<Vec<u8>, CmdError> {
        match c.ks.get(key) {
            None => Ok(Vec::new()),
            Some(e) => {
                let mut scratch = itoa::Buffer::new();
                e.value
                    .as_bytes(&mut scratch)
                    .map(<[u8]>::to_vec)
                    .ok_or_else(not_string)
            }
        }
    };
    let x = fetch(c, a[1]);
    let y = fetch(c, a[2]);
    let (x, y) = (x?, y?);
    let (mut get_len, mut get_idx, mut with_len) = (false, false, false);
    let mut min_len = 0i64;
    let mut j = 3;
    while j < a.len() {
        let more = j + 1 < a.len();
        if is(a[j], "IDX") {
            get_idx = true;
        } else if is(a[j], "LEN") {
            get_len = true;
        } else if is(a[j], "WITHMATCHLEN") {
            with_len = true;
        } else if is(a[j], "MINMATCHLEN") && more {
            min_len = args::int(a[j + 1])?.max(0);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    if get_idx && get_len {
        return Err(CmdError::msg(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    let (alen, blen) = (x.len(), y.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells * 4 > c.shared.config().proto_max_bulk_len {
        return Err(CmdError::msg(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    // table[i][j] = LCS length of x[..i] and y[..j]
    let w = blen + 1;
    let mut t = vec![0u32; cells as usize];
    for i in 1..=alen {
        for j in 1..=blen {
            t[i * w + j] = if x[i - 1] == y[j - 1] {
                t[(i - 1) * w + j - 1] + 1
            } else {
                t[(i - 1) * w + j].max(t[i * w + j - 1])
            };
        }
    }
    let total = t[alen * w + blen];
    if get_len {
        c.out.int(total as i64);
        return Ok(());
    }
    // Walk back from the end, collecting the LCS and (for IDX) the ranges
    // of contiguous matches, exactly in the order Redis emits them.
    let mut result = vec![0u8; total as usize];
    let mut idx = total as usize;
    let mut ranges: Vec<[usize; 4]> = Vec::new();
    let mut cur: Option<[usize; 4]> = None; // a_start, a_end, b_start, b_end
    let (mut i, mut j) = (alen, blen);
    while i > 0 && j > 0 {
        let mut emit = false;
        if x[i - 1] == y[j - 1] {
            result[idx - 1] = x[i - 1];
            match &mut cur {
                None => cur = Some([i - 1, i - 1, j - 1, j - 1]),
                Some(r) if r[0] == i && r[2] == j => {
                    r[0] -= 1;
                    r[2] -= 1;
                }
                Some(_) => emit = true,
            }
            if let Some(r) = cur {
                if r[0] == 0 || r[2] == 0 {
                    emit = true;
                }
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if t[(i - 1) * w + j] > t[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            emit = cur.is_some();
        }
        if emit {
            if let Some(r) = cur.take() {
                let len = r[1] - r[0] + 1;
                if min_len == 0 || len as i64 >= min_len {
                    ranges.push(r);
                }
            }
        }
    }
    if !get_idx {
        c.out.bulk(&result);
        return Ok(());
    }
    c.out.map(2);
    c.out.bulk(b"matches");
    c.out.array(ranges.len());
    for r in &ranges {
        c.out.array(if with_len { 3 } else { 2 });
        c.out.array(2);
        c.out.int(r[0] as i64);
        c.out.int(r[1] as i64);
        c.out.array(2);
        c.out.int(r[2] as i64);
        c.out.int(r[3] as i64);
        if with_len {
            c.out.int((r[1] - r[0] + 1) as i64);
        }
    }
    c.out.bulk(b"len");
    c.out.int(total as i64);
    Ok(())
}

// ---- command table rows ----

/// This group's rows of the command table.
pub static COMMANDS: &[Spec] = &[
    Spec {
        name: "get",
        arity: 2,
        flags: READONLY | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "string",
        handler: get,
        acl: cat::STRING,
        key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "set",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: Keys::Range(1, 1, 1),
        group: "string",
        handler: set,
        acl: cat::STRING,
        key_specs: &[
            ks::key(ks::RW | ks::ACCESS | ks::UPDATE | ks::VARIABLE_FLAGS, 1)
                .notes("RW and ACCESS due to the optional `GET` argument"),
        ],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "setnx",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "string",
        handler: setnx,
        acl: cat::STRING,
        key_specs: &[ks::key(ks::OW | ks::INSERT, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "setex",
        arity: 4,
        flags: WRITE | DENYOOM,
        keys: Keys::Range(1, 1, 1),
        group: "string",
        handler: setex,
        acl: cat::STRING,
        key_specs: &[ks::key(ks::OW | ks::UPDATE, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "psetex",
        arity: 4,
        flags: WRITE | DENYOOM,
        keys: Keys::Range(1, 1, 1),
        group: "string",
        handler: psetex,
        acl: cat::STRING,
        key_specs: &[ks::key(ks::OW | ks::UPDATE, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "mget",
        arity: -2,
        flags: READONLY | FAST,
        keys: Keys::Range(1, -1, 1),
        group: "string",
        handler: mget,
        acl: cat::STRING,
        key_specs: &[ks::spec(
            ks::RO | ks::ACCESS,
            ks::Index(1),
            ks::Range(-1, 1, 0),
        )],
        tips: &["request_policy:multi_shard"],
        subcommands: &[],
    },
    Spec {
        name: "mset",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: Keys::Range(1, -1, 2),
        group: "string",
        handler: mset,
        acl: cat::STRING,
        key_specs: &[ks::spec(
            ks::OW | ks::UPDATE,
            ks::Index(1),
            ks::Range(-1, 2, 0),
        )],
        tips: &[
            "request_policy:multi_shard",
            "response_policy:all_succeeded",
        ],
        subcommands: &[],
    },
    Spec {
        name: "msetnx",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: Keys::Range(1, -1, 2),
        group: "string",
        handler: msetnx,
        acl: cat::STRING,
        key_specs: &[ks::spec(
            ks::OW | ks::INSERT,
            ks::Index(1),
            ks::Range(-1, 2, 0),
        )],
        tips: &["request_policy:multi_shard", "response_policy:agg_min"],
        subcommands: &[],
    },
    Spec {
        name: "getset",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "string",
        handler: getset,
        acl: cat::STRING,
        key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::UPDATE, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "getdel",
        arity: 2,
        flags: WRITE | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "string",
        handler: getdel,
        acl: cat::STRING,
        key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::DELETE, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "getex",
        arity: -2,
        flags: WRITE | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "string",
        handler: getex,
        acl: cat::STRING,
        key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::UPDATE, 1)
            .notes("RW and UPDATE because it changes the TTL")],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "append",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "string",
        handler: append,
        acl: cat::STRING,
        key_specs: &[ks::key(ks::RW | ks::INSERT, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "strlen",
        arity: 2,
        flags: READONLY | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "string",
        handler: strlen,
        acl: cat::STRING,
        key_specs: &[ks::key(ks::RO, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "incr",
        arity: 2,
        flags: WRITE | DENYOOM | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "string",
        handler: incr,
        acl: cat::STRING,
        key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::UPDATE, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "decr",
        arity: 2,
        flags: WRITE | DENYOOM | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "string",
        handler: decr,
        acl: cat::STRING,
        key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::UPDATE, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "incrby",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "string",
        handler: incrby,
        acl: cat::STRING,
        key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::UPDATE, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "decrby",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "string",
        handler: decrby,
        acl: cat::STRING,
        key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::UPDATE, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "incrbyfloat",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "string",
        handler: incrbyfloat,
        acl: cat::STRING,
        key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::UPDATE, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "getrange",
        arity: 4,
        flags: READONLY,
        keys: Keys::Range(1, 1, 1),
        group: "string",
        handler: getrange,
        acl: cat::STRING,
        key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "setrange",
        arity: 4,
        flags: WRITE | DENYOOM,
        keys: Keys::Range(1, 1, 1),
        group: "string",
        handler: setrange,
        acl: cat::STRING,
        key_specs: &[ks::key(ks::RW | ks::UPDATE, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "substr",
        arity: 4,
        flags: READONLY,
        keys: Keys::Range(1, 1, 1),
        group: "string",
        handler: getrange,
        acl: cat::STRING,
        key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "lcs",
        arity: -3,
        flags: READONLY,
        keys: Keys::Range(1, 2, 1),
        group: "string",
        handler: lcs,
        acl: cat::STRING,
        key_specs: &[ks::spec(
            ks::RO | ks::ACCESS,
            ks::Index(1),
            ks::Range(1, 1, 0),
        )],
        tips: &[],
        subcommands: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::range;

    #[test]
    fn getrange_index_rules_match_redis() {
        // "Hello World" cases from Redis's GETRANGE docs and string.tcl.
        assert_eq!(range(0, 3, 11), Some((0, 3)));
        assert_eq!(range(-3, -1, 11), Some((8, 10)));
        assert_eq!(range(0, -1, 11), Some((0, 10)));
        assert_eq!(range(10, 100, 11), Some((10, 10)));
        assert_eq!(range(5, 3, 11), None);
        assert_eq!(range(-1, -5, 11), None);
        assert_eq!(range(0, 0, 0), None);
        assert_eq!(range(i64::MIN, i64::MAX, 5), Some((0, 4)));
    }
}
