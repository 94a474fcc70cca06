//! Set commands (Redis's `t_set.c`).
//!
//! Commands over several sets (SINTER, SUNION, SDIFF...) visit the keys one
//! at a time: they first check every key's type (Redis answers WRONGTYPE for
//! any non-set key, even after a missing one), then copy the members of the
//! set they iterate and filter that copy against each other set in turn.
//! That keeps Redis's O(N*M) bounds with no more than one key borrowed at
//! once.

use std::sync::atomic::Ordering;

use super::args::{self, is};
use super::flags::*;
use super::{cat, ks};
use super::{lookup_read, Ctx, Keys, Spec};
use crate::db::{Entry, Locked};
use crate::error::{CmdError, CmdResult};
use crate::notify::{GENERIC, SET};
use crate::reply::Reply;
use crate::shared::LoopStats;
use crate::types::set::{Limits, Member, OwnedMember, Set};
use crate::util::glob::glob_match;
use crate::value::Value;

/// The intset limit in force (`set-max-intset-entries`, read from the
/// config's lock-free mirror).
pub(crate) fn limits(c: &Ctx<'_>) -> Limits {
    let n = c.shared.hot.set_max_intset_entries.load(Ordering::Relaxed);
    Limits {
        intset_entries: usize::try_from(n).unwrap_or(usize::MAX),
    }
}

/// The set in `entry`; WRONGTYPE for another type.
fn as_set(entry: &mut Entry) -> Result<&mut Set, CmdError> {
    match &mut entry.value {
        Value::Set(s) => Ok(s),
        _ => Err(CmdError::WrongType),
    }
}

/// The set at `key` for a read command, counting a keyspace hit or miss;
/// WRONGTYPE for another type.
fn read<'k>(
    ks: &'k mut Locked<'_>,
    stats: &LoopStats,
    key: &[u8],
) -> Result<Option<&'k mut Set>, CmdError> {
    lookup_read(ks, stats, key).map(as_set).transpose()
}

/// The set at `key` for a write command (no stats).
fn write<'k>(ks: &'k mut Locked<'_>, key: &[u8]) -> Result<Option<&'k mut Set>, CmdError> {
    ks.get(key).map(as_set).transpose()
}

/// Writes a member as a bulk string.
fn bulk_member(out: &mut Reply, m: Member<'_>) {
    match m {
        Member::Int(n) => out.bulk_int(n),
        Member::Str(s) => out.bulk(s),
    }
}

/// Writes a whole set as a set reply, in its iteration order.
fn reply_set(out: &mut Reply, s: &Set) {
    out.set(s.len());
    for m in s.iter() {
        bulk_member(out, m);
    }
}

/// SADD key member [member ...]
pub fn sadd(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let l = limits(c);
    let members = &a[2..];
    let add_all = |s: &mut Set| members.iter().filter(|m| s.add(m, l)).count() as i64;
    let added = match write(&mut c.ks, a[1])? {
        Some(s) => add_all(s),
        None => {
            let mut s = Set::for_member(a[2]);
            let n = add_all(&mut s);
            c.ks.set(a[1], Value::Set(Box::new(s)), false);
            n
        }
    };
    if added > 0 {
        c.notify(SET, "sadd", a[1]);
    }
    c.out.int(added);
    Ok(())
}

/// SREM key member [member ...]
pub fn srem(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let Some(s) = write(&mut c.ks, a[1])? else {
        c.out.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    for m in &a[2..] {
        if s.remove(m) {
            deleted += 1;
            if s.is_empty() {
                break;
            }
        }
    }
    let emptied = s.is_empty();
    if deleted > 0 {
        c.notify(SET, "srem", a[1]);
    }
    if emptied {
        c.delete(a[1]);
    }
    c.out.int(deleted);
    Ok(())
}

/// SMOVE source destination member
pub fn smove(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (src, dst, m) = (a[1], a[2], a[3]);
    let l = limits(c);
    let Some(s) = write(&mut c.ks, src)? else {
        c.out.int(0);
        return Ok(());
    };
    if src == dst {
        let found = s.contains(m);
        c.out.int(found as i64);
        return Ok(());
    }
    write(&mut c.ks, dst)?;
    let Some(s) = write(&mut c.ks, src)? else {
        c.out.int(0);
        return Ok(());
    };
    if !s.remove(m) {
        c.out.int(0);
        return Ok(());
    }
    let emptied = s.is_empty();
    c.notify(SET, "srem", src);
    if emptied {
        c.delete(src);
    }
    let added = match write(&mut c.ks, dst)? {
        Some(d) => d.add(m, l),
        None => {
            let mut d = Set::for_member(m);
            d.add(m, l);
            c.ks.set(dst, Value::Set(Box::new(d)), false);
            true
        }
    };
    if added {
        c.notify(SET, "sadd", dst);
    }
    c.out.int(1);
    Ok(())
}

/// SISMEMBER key member
pub fn sismember(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let found = read(&mut c.ks, c.stats, a[1])?.is_some_and(|s| s.contains(a[2]));
    c.out.int(found as i64);
    Ok(())
}

/// SMISMEMBER key member [member ...]
pub fn smismember(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let s = read(&mut c.ks, c.stats, a[1])?;
    c.out.array(a.len() - 2);
    for m in &a[2..] {
        let found = s.as_ref().is_some_and(|s| s.contains(m));
        c.out.int(found as i64);
    }
    Ok(())
}

/// SCARD key
pub fn scard(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let n = read(&mut c.ks, c.stats, a[1])?.map_or(0, |s| s.len());
    c.out.int(n as i64);
    Ok(())
}

/// SMEMBERS key
pub fn smembers(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    match read(&mut c.ks, c.stats, a[1])? {
        Some(s) => reply_set(c.out, s),
        None => c.out.set(0),
    }
    Ok(())
}

/// A member's bytes (integers as their decimal text).
fn member_bytes(m: Member<'_>) -> Vec<u8> {
    match m {
        Member::Int(n) => itoa::Buffer::new().format(n).as_bytes().to_vec(),
        Member::Str(b) => b.to_vec(),
    }
}

/// SPOP key [count]
pub fn spop(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    match a.len() {
        2 => {}
        3 => return spop_count(c, a),
        _ => return Err(CmdError::Syntax),
    }
    let Some(s) = write(&mut c.ks, a[1])? else {
        c.out.null();
        return Ok(());
    };
    let popped = s.pop();
    match &popped {
        Some(m) => bulk_member(c.out, m.as_member()),
        None => c.out.null(),
    }
    let emptied = s.is_empty();
    if let Some(m) = &popped {
        // Logged as the SREM it amounts to.
        let m = member_bytes(m.as_member());
        c.propagate_as(&[b"SREM", a[1], &m]);
    }
    c.notify(SET, "spop", a[1]);
    if emptied {
        c.delete(a[1]);
    }
    Ok(())
}

/// How much bigger than what stays a pop must be for SPOP to rebuild the set
/// from what stays rather than remove what goes (Redis's
/// `SPOP_MOVE_STRATEGY_MUL`). The choice shows: the rebuilt set's encoding
/// starts over (an all-integer remainder becomes an intset again).
const SPOP_MOVE_STRATEGY_MUL: u64 = 5;

fn spop_count(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let count = args::int_in(
        a[2],
        0,
        i64::MAX,
        "ERR value is out of range, must be positive",
    )? as u64;
    let l = limits(c);
    let logging = c.propagating();
    let Some(s) = write(&mut c.ks, a[1])? else {
        c.out.set(0);
        return Ok(());
    };
    if count == 0 {
        c.out.set(0);
        return Ok(());
    }
    let size = s.len() as u64;
    if count >= size {
        reply_set(c.out, s);
        c.ks.remove(a[1]);
        c.notify(SET, "spop", a[1]);
        c.notify(GENERIC, "del", a[1]);
        c.propagate_as(&[b"DEL", a[1]]);
        return Ok(());
    }
    c.out.set(count as usize);
    let remaining = size - count;
    // Logged as one SREM per member popped, as Redis logs it.
    let mut gone: Vec<Vec<u8>> = Vec::new();
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        for _ in 0..count {
            if let Some(m) = s.pop() {
                bulk_member(c.out, m.as_member());
                if logging {
                    gone.push(member_bytes(m.as_member()));
                }
            }
        }
    } else {
        let keep = s.random_distinct(remaining as usize);
        let kept = Set::from_members(keep.iter().map(OwnedMember::as_member), l);
        for m in s.iter() {
            if !kept.contains_member(m) {
                bulk_member(c.out, m);
                if logging {
                    gone.push(member_bytes(m));
                }
            }
        }
        *s = kept;
    }
    let db = c.ks.db;
    for m in &gone {
        c.also_propagate(db, &[b"SREM", a[1], m]);
    }
    c.prevent_propagation();
    c.notify(SET, "spop", a[1]);
    Ok(())
}

/// SRANDMEMBER key [count]
pub fn srandmember(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    match a.len() {
        2 => {}
        3 => return srandmember_count(c, a),
        _ => return Err(CmdError::Syntax),
    }
    match read(&mut c.ks, c.stats, a[1])?.and_then(|s| s.random()) {
        Some(m) => bulk_member(c.out, m.as_member()),
        None => c.out.null(),
    }
    Ok(())
}

fn srandmember_count(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let l = args::random_count(a[2])?;
    let Some(s) = read(&mut c.ks, c.stats, a[1])? else {
        c.out.array(0);
        return Ok(());
    };
    let count = l.unsigned_abs();
    if count == 0 {
        c.out.array(0);
    } else if l < 0 {
        if count > args::MAX_RANDOM_REPLY {
            return Err(CmdError::msg("ERR value is out of range"));
        }
        c.out.array(count as usize);
        s.random_repeated(count, |m| bulk_member(c.out, m));
    } else if count >= s.len() as u64 {
        c.out.array(s.len());
        for m in s.iter() {
            bulk_member(c.out, m);
        }
    } else {
        let picks = s.random_distinct(count as usize);
        c.out.array(picks.len());
        for m in &picks {
            bulk_member(c.out, m.as_member());
        }
    }
    Ok(())
}

// ---- SINTER, SUNION, SDIFF and friends

/// Checks the type of every key (missing keys are empty sets) and returns
/// each one's size, `None` for a missing key. Every lookup counts a keyspace
/// hit or miss, the STORE forms' too (Redis 7.0 reads their sources with
/// `lookupKeyRead`).
fn sizes(c: &mut Ctx<'_>, keys: &[&[u8]]) -> Result<Vec<Option<usize>>, CmdError> {
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        out.push(read(&mut c.ks, c.stats, k)?.map(|s| s.len()));
    }
    Ok(out)
}

/// The members of the set at `key` (which exists and is a set), copied.
fn members_of(ks: &mut Locked<'_>, key: &[u8]) -> Vec<OwnedMember> {
    match ks.get(key).map(|e| &e.value) {
        Some(Value::Set(s)) => s.iter().map(Member::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// Keeps the members of `v` for which membership in the set at `key`
/// equals `keep_if_member`.
fn filter_by(ks: &mut Locked<'_>, key: &[u8], v: &mut Vec<OwnedMember>, keep_if_member: bool) {
    if let Some(Value::Set(s)) = ks.get(key).map(|e| &e.value) {
        v.retain(|m| s.contains_member(m.as_member()) == keep_if_member);
    }
}

/// What a set-algebra command does with its result.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dest<'x> {
    /// Reply with the members.
    Reply,
    /// Store them at this key and reply with their number.
    Store(&'x [u8]),
    /// Reply with their number, at most `limit` (0: no limit).
    Card(u64),
}

/// Stores `members` at `dst` (deleting it when empty, overwriting any
/// type) and replies with the stored set's size.
fn store(c: &mut Ctx<'_>, dst: &[u8], members: &[OwnedMember], event: &str) {
    let l = limits(c);
    let s = Set::from_members(members.iter().map(OwnedMember::as_member), l);
    store_set(c, dst, s, event);
}

/// Stores `s` at `dst` (deleting `dst` when `s` is empty, overwriting any
/// type), publishes `event` (or `del`), and replies with the size.
fn store_set(c: &mut Ctx<'_>, dst: &[u8], s: Set, event: &str) {
    let n = s.len();
    if n == 0 {
        c.delete(dst);
    } else {
        c.ks.set(dst, Value::Set(Box::new(s)), false);
        c.notify(SET, event, dst);
    }
    c.out.int(n as i64);
}

fn sinter_generic(c: &mut Ctx<'_>, keys: &[&[u8]], dest: Dest<'_>) -> CmdResult {
    let sizes = sizes(c, keys)?;
    if sizes.iter().any(Option::is_none) {
        match dest {
            Dest::Reply => c.out.set(0),
            Dest::Store(dst) => store(c, dst, &[], "sinterstore"),
            Dest::Card(_) => c.out.int(0),
        }
        return Ok(());
    }
    // Smallest first (stable for ties, as the original order is).
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&j| sizes[j]);
    let first = keys[order[0]];
    let mut v = members_of(&mut c.ks, first);
    for &j in &order[1..] {
        if v.is_empty() {
            break;
        }
        if keys[j] != first {
            filter_by(&mut c.ks, keys[j], &mut v, true);
        }
    }
    match dest {
        Dest::Reply => {
            c.out.set(v.len());
            for m in &v {
                bulk_member(c.out, m.as_member());
            }
        }
        Dest::Store(dst) => store(c, dst, &v, "sinterstore"),
        Dest::Card(limit) => {
            let n = v.len() as u64;
            c.out.int(if limit > 0 { n.min(limit) } else { n } as i64);
        }
    }
    Ok(())
}

fn sunion_generic(c: &mut Ctx<'_>, keys: &[&[u8]], dst: Option<&[u8]>) -> CmdResult {
    let sizes = sizes(c, keys)?;
    let l = limits(c);
    let mut result = Set::default();
    for (k, size) in keys.iter().zip(&sizes) {
        if size.is_none() {
            continue;
        }
        if let Some(Value::Set(s)) = c.ks.get(k).map(|e| &e.value) {
            for m in s.iter() {
                result.add_member(m, l);
            }
        }
    }
    finish(c, result, dst, "sunionstore");
    Ok(())
}

/// Replies with a computed set, or stores it at `dst` (publishing
/// `event`).
fn finish(c: &mut Ctx<'_>, result: Set, dst: Option<&[u8]>, event: &str) {
    match dst {
        None => reply_set(c.out, &result),
        Some(dst) => store_set(c, dst, result, event),
    }
}

fn sdiff_generic(c: &mut Ctx<'_>, keys: &[&[u8]], dst: Option<&[u8]>) -> CmdResult {
    let sizes = sizes(c, keys)?;
    let l = limits(c);
    let mut v = if sizes[0].is_some() {
        members_of(&mut c.ks, keys[0])
    } else {
        Vec::new()
    };
    for (k, size) in keys.iter().zip(&sizes).skip(1) {
        if v.is_empty() {
            break;
        }
        if size.is_none() {
            continue;
        }
        if *k == keys[0] {
            v.clear();
        } else {
            filter_by(&mut c.ks, k, &mut v, false);
        }
    }
    let result = Set::from_members(v.iter().map(OwnedMember::as_member), l);
    finish(c, result, dst, "sdiffstore");
    Ok(())
}

/// SINTER key [key ...]
pub fn sinter(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    sinter_generic(c, &a[1..], Dest::Reply)
}

/// SINTERSTORE destination key [key ...]
pub fn sinterstore(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    sinter_generic(c, &a[2..], Dest::Store(a[1]))
}

/// SUNION key [key ...]
pub fn sunion(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    sunion_generic(c, &a[1..], None)
}

/// SUNIONSTORE destination key [key ...]
pub fn sunionstore(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    sunion_generic(c, &a[2..], Some(a[1]))
}

/// SDIFF key [key ...]
pub fn sdiff(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    sdiff_generic(c, &a[1..], None)
}

/// SDIFFSTORE destination key [key ...]
pub fn sdiffstore(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    sdiff_generic(c, &a[2..], Some(a[1]))
}

/// The `numkeys` of SINTERCARD, when it is valid for `a`.
fn sintercard_numkeys(a: &[&[u8]]) -> Result<usize, CmdError> {
    let n = args::int_in(a[1], 1, i64::MAX, "ERR numkeys should be greater than 0")?;
    if n > a.len() as i64 - 2 {
        return Err(CmdError::msg(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    Ok(n as usize)
}

/// The keys SINTERCARD touches: `numkeys` of them after it (none when
/// `numkeys` is invalid: the command fails before touching any).
pub fn sintercard_keys<'x>(a: &[&'x [u8]], db: usize, out: &mut Vec<(usize, &'x [u8])>) {
    if let Ok(n) = sintercard_numkeys(a) {
        out.extend(a[2..2 + n].iter().map(|k| (db, *k)));
    }
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
pub fn sintercard(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let n = sintercard_numkeys(a)?;
    let mut limit = 0u64;
    let mut j = 2 + n;
    while j < a.len() {
        if is(a[j], "LIMIT") && j + 1 < a.len() {
            limit = args::int_in(a[j + 1], 0, i64::MAX, "ERR LIMIT can't be negative")? as u64;
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    sinter_generic(c, &a[2..2 + n], Dest::Card(limit))
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
pub fn sscan(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let cursor = args::parse_cursor(a[2])?;
    let Some(s) = read(&mut c.ks, c.stats, a[1])? else {
        c.out.scan(0, &[]);
        return Ok(());
    };
    let o = args::scan_opts(a, 3)?;
    let mut items: Vec<Vec<u8>> = Vec::new();
    let next = s.scan(cursor, o.count, |m| {
        let bytes = m.to_vec();
        if o.pattern.is_none_or(|p| glob_match(p, &bytes, false)) {
            items.push(bytes);
        }
    });
    let refs: Vec<&[u8]> = items.iter().map(|v| &v[..]).collect();
    c.out.scan(next, &refs);
    Ok(())
}

// ---- command table rows ----

/// This group's rows of the command table.
#[rustfmt::skip]
pub static COMMANDS: &[Spec] = &[
    Spec { name: "sadd", arity: -3, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "set", handler: sadd, acl: cat::SET, key_specs: &[ks::key(ks::RW | ks::INSERT, 1)], tips: &[], subcommands: &[] },
    Spec { name: "srem", arity: -3, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "set", handler: srem, acl: cat::SET, key_specs: &[ks::key(ks::RW | ks::DELETE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "smembers", arity: 2, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "set", handler: smembers, acl: cat::SET, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &["nondeterministic_output_order"], subcommands: &[] },
    Spec { name: "sismember", arity: 3, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "set", handler: sismember, acl: cat::SET, key_specs: &[ks::key(ks::RO, 1)], tips: &[], subcommands: &[] },
    Spec { name: "smismember", arity: -3, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "set", handler: smismember, acl: cat::SET, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "scard", arity: 2, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "set", handler: scard, acl: cat::SET, key_specs: &[ks::key(ks::RO, 1)], tips: &[], subcommands: &[] },
    Spec { name: "spop", arity: -2, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "set", handler: spop, acl: cat::SET, key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::DELETE, 1)], tips: &["nondeterministic_output"], subcommands: &[] },
    Spec { name: "srandmember", arity: -2, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "set", handler: srandmember, acl: cat::SET, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &["nondeterministic_output"], subcommands: &[] },
    Spec { name: "sinter", arity: -2, flags: READONLY, keys: Keys::Range(1, -1, 1), group: "set", handler: sinter, acl: cat::SET, key_specs: &[ks::spec(ks::RO | ks::ACCESS, ks::Index(1), ks::Range(-1, 1, 0))], tips: &["nondeterministic_output_order"], subcommands: &[] },
    Spec { name: "sinterstore", arity: -3, flags: WRITE | DENYOOM, keys: Keys::Range(1, -1, 1), group: "set", handler: sinterstore, acl: cat::SET, key_specs: &[ks::key(ks::RW | ks::UPDATE, 1), ks::spec(ks::RO | ks::ACCESS, ks::Index(2), ks::Range(-1, 1, 0))], tips: &[], subcommands: &[] },
    Spec { name: "sunion", arity: -2, flags: READONLY, keys: Keys::Range(1, -1, 1), group: "set", handler: sunion, acl: cat::SET, key_specs: &[ks::spec(ks::RO | ks::ACCESS, ks::Index(1), ks::Range(-1, 1, 0))], tips: &["nondeterministic_output_order"], subcommands: &[] },
    Spec { name: "sunionstore", arity: -3, flags: WRITE | DENYOOM, keys: Keys::Range(1, -1, 1), group: "set", handler: sunionstore, acl: cat::SET, key_specs: &[ks::key(ks::OW | ks::UPDATE, 1), ks::spec(ks::RO | ks::ACCESS, ks::Index(2), ks::Range(-1, 1, 0))], tips: &[], subcommands: &[] },
    Spec { name: "sdiff", arity: -2, flags: READONLY, keys: Keys::Range(1, -1, 1), group: "set", handler: sdiff, acl: cat::SET, key_specs: &[ks::spec(ks::RO | ks::ACCESS, ks::Index(1), ks::Range(-1, 1, 0))], tips: &["nondeterministic_output_order"], subcommands: &[] },
    Spec { name: "sdiffstore", arity: -3, flags: WRITE | DENYOOM, keys: Keys::Range(1, -1, 1), group: "set", handler: sdiffstore, acl: cat::SET, key_specs: &[ks::key(ks::OW | ks::UPDATE, 1), ks::spec(ks::RO | ks::ACCESS, ks::Index(2), ks::Range(-1, 1, 0))], tips: &[], subcommands: &[] },
    Spec { name: "sintercard", arity: -3, flags: READONLY | MOVABLE_KEYS, keys: Keys::Custom(sintercard_keys), group: "set", handler: sintercard, acl: cat::SET, key_specs: &[ks::spec(ks::RO | ks::ACCESS, ks::Index(1), ks::Keynum(0, 1, 1))], tips: &[], subcommands: &[] },
    Spec { name: "smove", arity: 4, flags: WRITE | FAST, keys: Keys::Range(1, 2, 1), group: "set", handler: smove, acl: cat::SET, key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::DELETE, 1), ks::key(ks::RW | ks::INSERT, 2)], tips: &[], subcommands: &[] },
    Spec { name: "sscan", arity: -3, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "set", handler: sscan, acl: cat::SET, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &["nondeterministic_output"], subcommands: &[] },
];
