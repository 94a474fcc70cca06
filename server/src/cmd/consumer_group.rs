//! Consumer group commands (Redis's `t_stream.c`): XGROUP, XACK,
//! XPENDING, XCLAIM, XAUTOCLAIM, XINFO GROUPS and CONSUMERS, the groups
//! part of XINFO STREAM FULL, and the delivery XREADGROUP makes (its
//! handler is XREAD's, in `stream`; a blocked one is served by
//! `cmd::blocking` through [`deliver`]).
//!
//! Each handler follows its Redis 7.0.15 counterpart in the order of its
//! checks. What the append-only file logs is what Redis propagates: a
//! delivery or a claim as `XCLAIM key group consumer 0 id TIME ms
//! RETRYCOUNT n FORCE JUSTID LASTID group-last-id` per entry (idempotent
//! when replayed), a NOACK read's progress as `XGROUP SETID ... ENTRIESREAD
//! n`, and the XGROUP subcommands as sent. Group changes raise their
//! events without marking the key modified: in Redis they fail no WATCH.
//!
//! A handler that reads entries while it changes a group takes the group
//! out of the stream for the while ([`with_group`]), so the stream can be
//! read as the group is written.

use std::sync::Arc;

use super::args::{self, is};
use super::flags::*;
use super::stream::{
    id_arg, interval_id, lax, reply_item, stream_mut, stream_ref, stream_sub, STRICT,
};
use super::{cat, ks};
use super::{Ctx, Keys, Spec};
use crate::db::Locked;
use crate::error::{c_str, CmdError, CmdResult};
use crate::notify::STREAM;
use crate::reply::Reply;
use crate::types::consumer_group::{Counters, Group, Nack, ENTRIES_READ_INVALID};
use crate::types::stream::{Stream, StreamId};
use crate::value::Value;

/// An error line built from literal parts and quoted arguments (as C's
/// `%s` prints them).
fn error_line(parts: &[(&[u8], bool)]) -> CmdError {
    let mut v = Vec::new();
    for &(p, quoted) in parts {
        v.extend_from_slice(if quoted { c_str(p) } else { p });
    }
    CmdError::Line(v)
}

/// `NOGROUP No such key '<key>' or consumer group '<group>'<suffix>`
pub(crate) fn no_key_or_group(key: &[u8], group: &[u8], suffix: &str) -> CmdError {
    error_line(&[
        (b"NOGROUP No such key '", false),
        (key, true),
        (b"' or consumer group '", false),
        (group, true),
        (b"'", false),
        (suffix.as_bytes(), false),
    ])
}

/// `NOGROUP No such consumer group '<group>' for key name '<key>'`
fn no_group_for_key(group: &[u8], key: &[u8]) -> CmdError {
    error_line(&[
        (b"NOGROUP No such consumer group '", false),
        (group, true),
        (b"' for key name '", false),
        (key, true),
        (b"'", false),
    ])
}

/// The command's clock as Redis's `mstime()`.
fn now(c: &Ctx<'_>) -> i64 {
    c.ks.now as i64
}

/// Runs `f` with the group `name` taken out of `x` (put back after), so
/// `f` can read the stream while it changes the group. Nothing runs when
/// there is no such group (callers have checked that there is).
fn with_group(x: &mut Stream, name: &[u8], f: impl FnOnce(&Stream, &mut Group)) {
    if let Some((k, mut g)) = x.groups.remove_entry(name) {
        f(x, &mut g);
        x.groups.insert(k, g);
    }
}

/// The record Redis's `streamPropagateXCLAIM` logs for the pending entry
/// `id` (its argument text, as the command gave it or as printed).
#[allow(clippy::too_many_arguments)]
fn xclaim_record(
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    id: &[u8],
    delivery_time: i64,
    delivery_count: u64,
    last_id: StreamId,
) -> Vec<Vec<u8>> {
    vec![
        b"XCLAIM".to_vec(),
        key.to_vec(),
        group.to_vec(),
        consumer.to_vec(),
        b"0".to_vec(),
        id.to_vec(),
        b"TIME".to_vec(),
        delivery_time.to_string().into_bytes(),
        b"RETRYCOUNT".to_vec(),
        delivery_count.to_string().into_bytes(),
        b"FORCE".to_vec(),
        b"JUSTID".to_vec(),
        b"LASTID".to_vec(),
        last_id.to_bytes(),
    ]
}

/// Commands to log, gathered only when something takes them (the
/// append-only file is on): a read or a claim builds no record otherwise.
#[derive(Default)]
pub struct Records {
    on: bool,
    /// The records, in order.
    pub list: Vec<Vec<Vec<u8>>>,
}

impl Records {
    /// Records that are kept when `on`.
    pub fn new(on: bool) -> Records {
        Records {
            on,
            list: Vec::new(),
        }
    }

    fn push(&mut self, record: impl FnOnce() -> Vec<Vec<u8>>) {
        if self.on {
            self.list.push(record());
        }
    }
}

fn log_all(c: &mut Ctx<'_>, records: &Records) {
    let db = c.ks.db;
    for r in &records.list {
        let argv: Vec<&[u8]> = r.iter().map(Vec::as_slice).collect();
        c.also_propagate(db, &argv);
    }
}

// ---------------------------------------------------------------------------
// XREADGROUP's delivery
// ---------------------------------------------------------------------------

/// What a group read did besides its reply: whether it created the
/// consumer, and the records to log, in order.
pub struct Delivery {
    /// The consumer did not exist and was created.
    pub created: bool,
    /// Commands to log (Redis's propagation of the read).
    pub records: Records,
}

/// How a group read reads.
pub struct GroupRead<'a> {
    /// The group.
    pub group: &'a [u8],
    /// The consumer reading.
    pub consumer: &'a [u8],
    /// NOACK: nothing becomes pending.
    pub noack: bool,
    /// Read the consumer's own pending entries from `start` instead of new
    /// ones (an ID other than `>`).
    pub history: bool,
    /// Build the records of what the read did (the log is on).
    pub log: bool,
}

/// Reads `key`'s stream `x` for a consumer of a group (Redis's
/// `streamReplyWithRange` with a group, or
/// `streamReplyWithRangeFromConsumerPEL` for history), replying with the
/// entries into `out`: new entries from `start` (at most `count`, 0 for
/// all) become pending for the consumer and move the group on; history
/// entries are delivered again, an entry deleted since shown as `[id,
/// nil]`. The group must exist.
pub fn deliver(
    out: &mut Reply,
    x: &mut Stream,
    key: &[u8],
    r: &GroupRead<'_>,
    start: StreamId,
    count: usize,
    now: i64,
) -> Delivery {
    let mut d = Delivery {
        created: false,
        records: Records::new(r.log),
    };
    with_group(x, r.group, |x, g| {
        let (owner, created) = g.consumer(r.consumer, now);
        d.created = created;
        if created && r.noack {
            d.records.push(|| {
                vec![
                    b"XGROUP".to_vec(),
                    b"CREATECONSUMER".to_vec(),
                    key.to_vec(),
                    r.group.to_vec(),
                    r.consumer.to_vec(),
                ]
            });
        }
        if r.history {
            let ids: Vec<StreamId> = g
                .consumers
                .get(&*owner)
                .map(|c| {
                    c.pel
                        .range(start..)
                        .take(if count == 0 { usize::MAX } else { count })
                        .copied()
                        .collect()
                })
                .unwrap_or_default();
            out.array(ids.len());
            for id in ids {
                match x.range(id, id, 1, false).first() {
                    Some(item) => {
                        reply_item(out, item);
                        if let Some(n) = g.pel.get_mut(&id) {
                            n.delivery_time = now;
                            n.delivery_count += 1;
                        }
                    }
                    None => {
                        out.array(2);
                        out.bulk(&id.to_bytes());
                        out.null_array();
                    }
                }
            }
            return;
        }
        let counters = Counters::of(x);
        let items = x.range(start, StreamId::MAX, count, false);
        out.array(items.len());
        let mut moved = false;
        for item in &items {
            moved |= counters.advance(g, item.id);
            reply_item(out, item);
            if !r.noack {
                let n = g.deliver(item.id, &owner, now);
                let (time, times, last) = (n.delivery_time, n.delivery_count, g.last_id);
                d.records.push(|| {
                    xclaim_record(
                        key,
                        r.group,
                        r.consumer,
                        &item.id.to_bytes(),
                        time,
                        times,
                        last,
                    )
                });
            }
        }
        if r.noack && moved {
            d.records.push(|| setid_record(key, r.group, g));
        }
    });
    d
}

/// `XGROUP SETID key group last-id ENTRIESREAD n`: how Redis logs a
/// group's progress that no XCLAIM carries.
fn setid_record(key: &[u8], group: &[u8], g: &Group) -> Vec<Vec<u8>> {
    vec![
        b"XGROUP".to_vec(),
        b"SETID".to_vec(),
        key.to_vec(),
        group.to_vec(),
        g.last_id.to_bytes(),
        b"ENTRIESREAD".to_vec(),
        g.entries_read.to_string().into_bytes(),
    ]
}

/// Applies a handler's [`Delivery`]: the consumer's creation event, then
/// the records.
pub(crate) fn delivered(c: &mut Ctx<'_>, key: &[u8], d: &Delivery) {
    if d.created {
        c.event(STREAM, "xgroup-createconsumer", key);
    }
    log_all(c, &d.records);
}

// ---------------------------------------------------------------------------
// XGROUP
// ---------------------------------------------------------------------------

const XGROUP_HELP: &[&str] = &[
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
];

/// XGROUP HELP
pub fn xgroup_help(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.help(XGROUP_HELP);
    Ok(())
}

/// What every XGROUP subcommand but HELP checks first (the start of
/// Redis's `xgroupCommand`): options (for CREATE and SETID), the key (a
/// stream; it must exist unless MKSTREAM), and for SETID, CREATECONSUMER
/// and DELCONSUMER the group. Returns MKSTREAM, ENTRIESREAD, and whether
/// the key exists.
fn xgroup_prelude(c: &mut Ctx<'_>, a: &[&[u8]]) -> Result<(bool, i64, bool), CmdError> {
    let create = is(a[1], "create");
    let setid = is(a[1], "setid");
    let (mut mkstream, mut entries_read) = (false, ENTRIES_READ_INVALID);
    let mut i = 5;
    while i < a.len() {
        if create && is(a[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && is(a[i], "entriesread") && i + 1 < a.len() {
            entries_read = args::int(a[i + 1])?;
            if entries_read < 0 && entries_read != ENTRIES_READ_INVALID {
                return Err(CmdError::msg(
                    "ERR value for ENTRIESREAD must be positive or -1",
                ));
            }
            i += 2;
        } else {
            return Err(CmdError::subcommand_syntax(a[0], a[1]));
        }
    }
    let (key, group) = (a[2], a[3]);
    let has_group = match c.ks.get(key) {
        Some(e) => Some(stream_ref(&e.value)?.groups.contains_key(group)),
        None => None,
    };
    if !mkstream {
        let Some(has_group) = has_group else {
            return Err(CmdError::msg(
                "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
            ));
        };
        let needs_group = !create && !is(a[1], "destroy");
        if needs_group && !has_group {
            return Err(no_group_for_key(group, key));
        }
    }
    Ok((mkstream, entries_read, has_group.is_some()))
}

/// The stream at `key`, which the caller found.
fn the_stream<'k>(ks: &'k mut Locked<'_>, key: &[u8]) -> Result<&'k mut Stream, CmdError> {
    match ks.get(key) {
        Some(e) => stream_mut(&mut e.value),
        None => Err(CmdError::msg("ERR internal error: the stream went away")),
    }
}

/// `XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]`
pub fn xgroup_create(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (_, entries_read, exists) = xgroup_prelude(c, a)?;
    if a.len() > 8 {
        return Err(CmdError::subcommand_syntax(a[0], a[1]));
    }
    let (key, name) = (a[2], a[3]);
    let id = if a[4] == b"$" {
        if exists {
            the_stream(&mut c.ks, key)?.last_id
        } else {
            StreamId::MIN
        }
    } else {
        id_arg(a[4], STRICT)?.0
    };
    if !exists {
        // MKSTREAM: the key is written whole, which marks it modified.
        c.ks.set(key, Value::Stream(Box::default()), false);
    }
    let x = the_stream(&mut c.ks, key)?;
    if x.groups.contains_key(name) {
        return Err(CmdError::msg(
            "BUSYGROUP Consumer Group name already exists",
        ));
    }
    x.groups.insert(name.to_vec(), Group::new(id, entries_read));
    c.out.ok();
    c.event(STREAM, "xgroup-create", key);
    Ok(())
}

/// `XGROUP SETID key group id|$ [ENTRIESREAD entries-read]`
pub fn xgroup_setid(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (_, entries_read, _) = xgroup_prelude(c, a)?;
    if a.len() != 5 && a.len() != 7 {
        return Err(CmdError::subcommand_syntax(a[0], a[1]));
    }
    let (key, name) = (a[2], a[3]);
    let x = the_stream(&mut c.ks, key)?;
    let id = if a[4] == b"$" {
        x.last_id
    } else {
        id_arg(a[4], lax(0))?.0
    };
    if let Some(g) = x.groups.get_mut(name) {
        g.last_id = id;
        g.entries_read = entries_read;
    }
    c.out.ok();
    c.event(STREAM, "xgroup-setid", key);
    Ok(())
}

/// `XGROUP DESTROY key group`: a client blocked reading the group gets
/// NOGROUP (the key is served as ready after any write to it).
pub fn xgroup_destroy(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    xgroup_prelude(c, a)?;
    let (key, name) = (a[2], a[3]);
    if the_stream(&mut c.ks, key)?.groups.remove(name).is_some() {
        c.out.int(1);
        c.event(STREAM, "xgroup-destroy", key);
    } else {
        c.out.int(0);
    }
    Ok(())
}

/// `XGROUP CREATECONSUMER key group consumer`
pub fn xgroup_createconsumer(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    xgroup_prelude(c, a)?;
    let (key, name) = (a[2], a[3]);
    let now = now(c);
    let created = the_stream(&mut c.ks, key)?
        .groups
        .get_mut(name)
        .is_some_and(|g| g.create_consumer(a[4], now));
    c.out.int(i64::from(created));
    if created {
        c.event(STREAM, "xgroup-createconsumer", key);
    }
    Ok(())
}

/// `XGROUP DELCONSUMER key group consumer`: the number of entries it had
/// pending, which are acknowledged with it.
pub fn xgroup_delconsumer(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    xgroup_prelude(c, a)?;
    let (key, name) = (a[2], a[3]);
    let pending = the_stream(&mut c.ks, key)?
        .groups
        .get_mut(name)
        .and_then(|g| g.delete_consumer(a[4]));
    c.out.int(pending.unwrap_or(0) as i64);
    if pending.is_some() {
        c.event(STREAM, "xgroup-delconsumer", key);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// XACK, XPENDING
// ---------------------------------------------------------------------------

/// `XACK key group id [id ...]`
pub fn xack(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (key, name) = (a[1], a[2]);
    let has_group = match super::lookup_read(&mut c.ks, c.stats, key) {
        Some(e) => stream_ref(&e.value)?.groups.contains_key(name),
        None => false,
    };
    if !has_group {
        c.out.int(0);
        return Ok(());
    }
    // All or nothing: every ID parses before any is acknowledged.
    let mut ids = Vec::with_capacity(a.len() - 3);
    for arg in &a[3..] {
        ids.push(id_arg(arg, STRICT)?.0);
    }
    let g = the_stream(&mut c.ks, key)?
        .groups
        .get_mut(name)
        .ok_or(CmdError::msg("ERR internal error: the group went away"))?;
    let acked = ids.into_iter().filter(|id| g.ack(*id)).count();
    crate::stats::bump(&c.stats.dirty, acked as u64);
    c.out.int(acked as i64);
    Ok(())
}

/// `XPENDING key group [[IDLE min-idle-time] start end count [consumer]]`
pub fn xpending(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let argc = a.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(CmdError::Syntax);
    }
    let (key, name) = (a[1], a[2]);
    let mut range = None;
    if argc >= 6 {
        let mut at = 3;
        let mut min_idle = 0i64;
        if is(a[3], "idle") {
            min_idle = args::int(a[4])?;
            if argc < 8 {
                return Err(CmdError::Syntax);
            }
            at += 2;
        }
        let count = args::int(a[at + 2])?.max(0);
        let (mut start, startex) = interval_id(a[at], 0)?;
        if startex {
            start = start
                .incr()
                .ok_or(CmdError::msg("ERR invalid start ID for the interval"))?;
        }
        let (mut end, endex) = interval_id(a[at + 1], u64::MAX)?;
        if endex {
            end = end
                .decr()
                .ok_or(CmdError::msg("ERR invalid end ID for the interval"))?;
        }
        let consumer = a.get(at + 3).copied();
        range = Some((min_idle, start, end, count, consumer));
    }
    let now = now(c);
    let e = super::lookup_read(&mut c.ks, c.stats, key);
    let x = match e {
        Some(e) => Some(stream_ref(&e.value)?),
        None => None,
    };
    let Some(g) = x.and_then(|x| x.groups.get(name)) else {
        return Err(no_key_or_group(key, name, ""));
    };
    let out = &mut *c.out;
    let Some((min_idle, start, end, count, consumer)) = range else {
        out.array(4);
        out.int(g.pel.len() as i64);
        match (g.pel.keys().next(), g.pel.keys().next_back()) {
            (Some(first), Some(last)) => {
                out.bulk(&first.to_bytes());
                out.bulk(&last.to_bytes());
                let owners: Vec<_> = g
                    .consumers
                    .iter()
                    .filter(|(_, c)| !c.pel.is_empty())
                    .collect();
                out.array(owners.len());
                for (name, cons) in owners {
                    out.array(2);
                    out.bulk(name);
                    out.bulk(itoa::Buffer::new().format(cons.pel.len()).as_bytes());
                }
            }
            _ => {
                out.null();
                out.null();
                out.null_array();
            }
        }
        return Ok(());
    };
    let only: Option<&crate::types::consumer_group::Consumer> = match consumer {
        Some(cn) => match g.consumers.get(cn) {
            Some(cons) => Some(cons),
            None => {
                out.array(0);
                return Ok(());
            }
        },
        None => None,
    };
    let ids: Box<dyn Iterator<Item = StreamId> + '_> = match only {
        Some(cons) if start <= end => Box::new(cons.pel.range(start..=end).copied()),
        None if start <= end => Box::new(g.pel.range(start..=end).map(|(id, _)| *id)),
        _ => Box::new(std::iter::empty()),
    };
    let mut rows = Reply {
        buf: Vec::new(),
        resp3: out.resp3,
    };
    let mut n = 0usize;
    let mut left = count;
    for id in ids {
        if left == 0 {
            break;
        }
        let Some(nack) = g.pel.get(&id) else { continue };
        if min_idle != 0 && now.wrapping_sub(nack.delivery_time) < min_idle {
            continue;
        }
        left -= 1;
        n += 1;
        rows.array(4);
        rows.bulk(&id.to_bytes());
        rows.bulk(&nack.consumer);
        rows.int(now.wrapping_sub(nack.delivery_time).max(0));
        rows.int(nack.delivery_count as i64);
    }
    out.array(n);
    out.buf.extend_from_slice(&rows.buf);
    Ok(())
}

// ---------------------------------------------------------------------------
// XCLAIM, XAUTOCLAIM
// ---------------------------------------------------------------------------

/// `XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms]
/// [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID]
/// [LASTID lastid]`
pub fn xclaim(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (key, name, consumer) = (a[1], a[2], a[3]);
    let has_group = match super::lookup_read(&mut c.ks, c.stats, key) {
        Some(e) => stream_ref(&e.value)?.groups.contains_key(name),
        None => false,
    };
    if !has_group {
        return Err(no_key_or_group(key, name, ""));
    }
    let min_idle = args::int(a[4])
        .map_err(|_| CmdError::msg("ERR Invalid min-idle-time argument for XCLAIM"))?
        .max(0);
    // IDs first, up to the first argument that is not one; options after.
    let mut ids = Vec::new();
    let mut j = 5;
    while j < a.len() {
        match crate::types::stream::parse_id(a[j], STRICT) {
            Some((id, _)) => ids.push((id, a[j])),
            None => break,
        }
        j += 1;
    }
    let now = now(c);
    let (mut force, mut justid) = (false, false);
    let mut retrycount: i64 = -1;
    let mut delivery: i64 = -1;
    let mut last_id = StreamId::MIN;
    while j < a.len() {
        let more = j + 1 < a.len();
        let o = a[j];
        if is(o, "force") {
            force = true;
        } else if is(o, "justid") {
            justid = true;
        } else if is(o, "idle") && more {
            j += 1;
            let idle = args::int(a[j])
                .map_err(|_| CmdError::msg("ERR Invalid IDLE option argument for XCLAIM"))?;
            delivery = now.wrapping_sub(idle);
        } else if is(o, "time") && more {
            j += 1;
            delivery = args::int(a[j])
                .map_err(|_| CmdError::msg("ERR Invalid TIME option argument for XCLAIM"))?;
        } else if is(o, "retrycount") && more {
            j += 1;
            retrycount = args::int(a[j])
                .map_err(|_| CmdError::msg("ERR Invalid RETRYCOUNT option argument for XCLAIM"))?;
        } else if is(o, "lastid") && more {
            j += 1;
            last_id = id_arg(a[j], STRICT)?.0;
        } else {
            return Err(CmdError::quoting(
                "ERR Unrecognized XCLAIM option '",
                o,
                "'",
            ));
        }
        j += 1;
    }
    if delivery < 0 || delivery > now {
        delivery = now;
    }
    let mut records = Records::new(c.propagating());
    let x = the_stream(&mut c.ks, key)?;
    let mut claimer = Claimer::new(consumer);
    let mut claimed: Vec<StreamId> = Vec::new();
    let mut dirty = 0u64;
    with_group(x, name, |x, g| {
        let mut propagate_last_id = false;
        if last_id > g.last_id {
            g.last_id = last_id;
            propagate_last_id = true;
        }
        for &(id, text) in &ids {
            if !x.contains(id) {
                if drop_gone(g, &mut records, key, name, id, text) {
                    propagate_last_id = false;
                    dirty += 1;
                }
                continue;
            }
            match g.pel.get(&id) {
                None if !force => continue,
                Some(n) if min_idle != 0 && now.wrapping_sub(n.delivery_time) < min_idle => {
                    continue
                }
                _ => {}
            }
            let n = claimer.take(g, id, now);
            n.delivery_time = delivery;
            if retrycount >= 0 {
                n.delivery_count = retrycount as u64;
            } else if !justid {
                n.delivery_count += 1;
            }
            let (time, times, last) = (n.delivery_time, n.delivery_count, g.last_id);
            claimed.push(id);
            records.push(|| xclaim_record(key, name, consumer, text, time, times, last));
            propagate_last_id = false;
            dirty += 1;
        }
        if propagate_last_id {
            records.push(|| setid_record(key, name, g));
            dirty += 1;
        }
    });
    reply_claimed(c.out, x, &claimed, justid);
    if claimer.created {
        c.event(STREAM, "xgroup-createconsumer", key);
    }
    crate::stats::bump(&c.stats.dirty, dirty);
    log_all(c, &records);
    c.prevent_propagation();
    Ok(())
}

/// The claiming consumer, looked up (or created) on the first claim of a
/// call only, as XCLAIM and XAUTOCLAIM do; `created` says it was new.
struct Claimer<'a> {
    name: &'a [u8],
    owner: Option<Arc<[u8]>>,
    created: bool,
}

impl<'a> Claimer<'a> {
    fn new(name: &'a [u8]) -> Claimer<'a> {
        Claimer {
            name,
            owner: None,
            created: false,
        }
    }

    /// Makes the claimer own the pending entry `id` (created if FORCE
    /// made it), as of `now`.
    fn take<'g>(&mut self, g: &'g mut Group, id: StreamId, now: i64) -> &'g mut Nack {
        let who = match &self.owner {
            Some(k) => k.clone(),
            None => {
                let (k, new) = g.consumer(self.name, now);
                self.created = new;
                self.owner = Some(k.clone());
                k
            }
        };
        g.take(id, &who, now)
    }
}

/// Drops the pending entry `id`, whose entry left the stream, logging the
/// drop as the claim Redis propagates (it re-creates nothing on replay);
/// false when it was not pending.
fn drop_gone(
    g: &mut Group,
    records: &mut Records,
    key: &[u8],
    name: &[u8],
    id: StreamId,
    text: &[u8],
) -> bool {
    let Some(n) = g.pel.get(&id) else {
        return false;
    };
    records.push(|| {
        xclaim_record(
            key,
            name,
            &n.consumer,
            text,
            n.delivery_time,
            n.delivery_count,
            g.last_id,
        )
    });
    g.ack(id);
    true
}

/// The claimed entries: their IDs (JUSTID), or the entries themselves.
fn reply_claimed(out: &mut Reply, x: &Stream, claimed: &[StreamId], justid: bool) {
    out.array(claimed.len());
    for &id in claimed {
        if justid {
            out.bulk(&id.to_bytes());
        } else if let Some(item) = x.range(id, id, 1, false).first() {
            reply_item(out, item);
        } else {
            out.null_array();
        }
    }
}

/// `XAUTOCLAIM key group consumer min-idle-time start [COUNT count]
/// [JUSTID]`
pub fn xautoclaim(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (key, name, consumer) = (a[1], a[2], a[3]);
    const ATTEMPTS_FACTOR: i64 = 10;
    let min_idle = args::int(a[4])
        .map_err(|_| CmdError::msg("ERR Invalid min-idle-time argument for XAUTOCLAIM"))?
        .max(0);
    let (mut start, startex) = interval_id(a[5], 0)?;
    if startex {
        start = start
            .incr()
            .ok_or(CmdError::msg("ERR invalid start ID for the interval"))?;
    }
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < a.len() {
        let more = j + 1 < a.len();
        if is(a[j], "count") && more {
            count = args::int_in(a[j + 1], 1, i64::MAX / 16, "ERR COUNT must be > 0")?;
            j += 1;
        } else if is(a[j], "justid") {
            justid = true;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let has_group = match super::lookup_read(&mut c.ks, c.stats, key) {
        Some(e) => stream_ref(&e.value)?.groups.contains_key(name),
        None => false,
    };
    if !has_group {
        return Err(no_key_or_group(key, name, ""));
    }
    let now = now(c);
    let mut records = Records::new(c.propagating());
    let mut changes = 0u64;
    let x = the_stream(&mut c.ks, key)?;
    let mut claimer = Claimer::new(consumer);
    let mut claimed: Vec<StreamId> = Vec::new();
    let mut deleted: Vec<StreamId> = Vec::new();
    let mut cursor = StreamId::MIN;
    with_group(x, name, |x, g| {
        let mut attempts = count.saturating_mul(ATTEMPTS_FACTOR);
        let mut next = g.pel.range(start..).next().map(|(id, _)| *id);
        while attempts > 0 && count > 0 {
            attempts -= 1;
            let Some(id) = next else { break };
            let after = |g: &Group| {
                g.pel
                    .range((std::ops::Bound::Excluded(id), std::ops::Bound::Unbounded))
                    .next()
                    .map(|(id, _)| *id)
            };
            if !x.contains(id) {
                drop_gone(g, &mut records, key, name, id, &id.to_bytes());
                changes += 1;
                deleted.push(id);
                count -= 1;
                next = after(g);
                continue;
            }
            if min_idle != 0
                && g.pel
                    .get(&id)
                    .is_some_and(|n| now.wrapping_sub(n.delivery_time) < min_idle)
            {
                next = after(g);
                continue;
            }
            let n = claimer.take(g, id, now);
            n.delivery_time = now;
            if !justid {
                n.delivery_count += 1;
            }
            let (time, times, last) = (n.delivery_time, n.delivery_count, g.last_id);
            claimed.push(id);
            count -= 1;
            changes += 1;
            records.push(|| xclaim_record(key, name, consumer, &id.to_bytes(), time, times, last));
            next = after(g);
        }
        // The cursor: the entry after the last one looked at, 0-0 at the
        // end of the PEL.
        cursor = next.unwrap_or(StreamId::MIN);
    });
    let out = &mut *c.out;
    out.array(3);
    out.bulk(&cursor.to_bytes());
    reply_claimed(out, x, &claimed, justid);
    out.array(deleted.len());
    for id in &deleted {
        out.bulk(&id.to_bytes());
    }
    if claimer.created {
        c.event(STREAM, "xgroup-createconsumer", key);
    }
    crate::stats::bump(&c.stats.dirty, changes);
    log_all(c, &records);
    c.prevent_propagation();
    Ok(())
}

// ---------------------------------------------------------------------------
// XINFO GROUPS, CONSUMERS, and STREAM FULL's groups
// ---------------------------------------------------------------------------

fn reply_entries_read(out: &mut Reply, g: &Group) {
    if g.entries_read == ENTRIES_READ_INVALID {
        out.null();
    } else {
        out.int(g.entries_read);
    }
}

fn reply_lag(out: &mut Reply, counters: &Counters, g: &Group) {
    match counters.lag(g) {
        Some(lag) => out.int(lag),
        None => out.null(),
    }
}

/// `XINFO GROUPS key`
pub fn xinfo_groups(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let x = match super::lookup_read(&mut c.ks, c.stats, a[2]) {
        None => return Err(CmdError::NoSuchKey),
        Some(e) => stream_ref(&e.value)?,
    };
    let counters = Counters::of(x);
    let out = &mut *c.out;
    out.array(x.groups.len());
    for (name, g) in &x.groups {
        out.map(6);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"consumers");
        out.int(g.consumers.len() as i64);
        out.bulk(b"pending");
        out.int(g.pel.len() as i64);
        out.bulk(b"last-delivered-id");
        out.bulk(&g.last_id.to_bytes());
        out.bulk(b"entries-read");
        reply_entries_read(out, g);
        out.bulk(b"lag");
        reply_lag(out, &counters, g);
    }
    Ok(())
}

/// `XINFO CONSUMERS key group`
pub fn xinfo_consumers(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let now = now(c);
    let x = match super::lookup_read(&mut c.ks, c.stats, a[2]) {
        None => return Err(CmdError::NoSuchKey),
        Some(e) => stream_ref(&e.value)?,
    };
    let Some(g) = x.groups.get(a[3]) else {
        return Err(no_group_for_key(a[3], a[2]));
    };
    let out = &mut *c.out;
    out.array(g.consumers.len());
    for (name, cons) in &g.consumers {
        out.map(3);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"pending");
        out.int(cons.pel.len() as i64);
        out.bulk(b"idle");
        out.int(now.wrapping_sub(cons.seen_time).max(0));
    }
    Ok(())
}

/// The `groups` of XINFO STREAM FULL: each group with at most `count`
/// (0: all) of its pending entries, and its consumers with as many of
/// theirs.
pub(crate) fn reply_full_groups(out: &mut Reply, x: &Stream, count: usize) {
    let counters = Counters::of(x);
    let limit = if count == 0 { usize::MAX } else { count };
    out.array(x.groups.len());
    for (name, g) in &x.groups {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        out.bulk(&g.last_id.to_bytes());
        out.bulk(b"entries-read");
        reply_entries_read(out, g);
        out.bulk(b"lag");
        reply_lag(out, &counters, g);
        out.bulk(b"pel-count");
        out.int(g.pel.len() as i64);
        out.bulk(b"pending");
        out.array(g.pel.len().min(limit));
        for (id, n) in g.pel.iter().take(limit) {
            out.array(4);
            out.bulk(&id.to_bytes());
            out.bulk(&n.consumer);
            out.int(n.delivery_time);
            out.int(n.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumers.len());
        for (cname, cons) in &g.consumers {
            out.map(4);
            out.bulk(b"name");
            out.bulk(cname);
            out.bulk(b"seen-time");
            out.int(cons.seen_time);
            out.bulk(b"pel-count");
            out.int(cons.pel.len() as i64);
            out.bulk(b"pending");
            out.array(cons.pel.len().min(limit));
            for id in cons.pel.iter().take(limit) {
                let n = g.pel.get(id);
                out.array(3);
                out.bulk(&id.to_bytes());
                out.int(n.map_or(0, |n| n.delivery_time));
                out.int(n.map_or(0, |n| n.delivery_count as i64));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// the table
// ---------------------------------------------------------------------------

/// The XGROUP container's subcommands.
#[rustfmt::skip]
pub static XGROUP_SUBCOMMANDS: &[Spec] = &[
    stream_sub("create", -5, WRITE | DENYOOM, xgroup_create, Keys::Range(2, 2, 1), &[ks::key(ks::RW | ks::INSERT, 2)]),
    stream_sub("destroy", 4, WRITE, xgroup_destroy, Keys::Range(2, 2, 1), &[ks::key(ks::RW | ks::DELETE, 2)]),
    stream_sub("createconsumer", 5, WRITE | DENYOOM, xgroup_createconsumer, Keys::Range(2, 2, 1), &[ks::key(ks::RW | ks::INSERT, 2)]),
    stream_sub("help", 2, LOADING | STALE, xgroup_help, Keys::None, &[]),
    stream_sub("delconsumer", 5, WRITE, xgroup_delconsumer, Keys::Range(2, 2, 1), &[ks::key(ks::RW | ks::DELETE, 2)]),
    stream_sub("setid", -5, WRITE, xgroup_setid, Keys::Range(2, 2, 1), &[ks::key(ks::RW | ks::UPDATE, 2)]),
];

/// XINFO's group subcommands.
#[rustfmt::skip]
pub const XINFO_GROUPS: Spec = stream_sub("groups", 3, READONLY, xinfo_groups, Keys::Range(2, 2, 1), &[ks::key(ks::RO | ks::ACCESS, 2)]);

/// `XINFO CONSUMERS`.
#[rustfmt::skip]
pub const XINFO_CONSUMERS: Spec = Spec { tips: &["nondeterministic_output"], ..stream_sub("consumers", 4, READONLY, xinfo_consumers, Keys::Range(2, 2, 1), &[ks::key(ks::RO | ks::ACCESS, 2)]) };

/// The consumer group rows (XREADGROUP is in `stream`'s, beside XREAD).
#[rustfmt::skip]
pub static COMMANDS: &[Spec] = &[
    Spec { name: "xgroup", arity: -2, flags: 0, keys: Keys::None, group: "stream", handler: super::table::container, acl: 0, key_specs: &[], tips: &[], subcommands: XGROUP_SUBCOMMANDS },
    Spec { name: "xack", arity: -4, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "stream", handler: xack, acl: cat::STREAM, key_specs: &[ks::key(ks::RW | ks::UPDATE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "xpending", arity: -3, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "stream", handler: xpending, acl: cat::STREAM, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &["nondeterministic_output"], subcommands: &[] },
    Spec { name: "xclaim", arity: -6, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "stream", handler: xclaim, acl: cat::STREAM, key_specs: &[ks::key(ks::RW | ks::UPDATE, 1)], tips: &["nondeterministic_output"], subcommands: &[] },
    Spec { name: "xautoclaim", arity: -6, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "stream", handler: xautoclaim, acl: cat::STREAM, key_specs: &[ks::key(ks::RW | ks::DELETE, 1)], tips: &["nondeterministic_output"], subcommands: &[] },
];
