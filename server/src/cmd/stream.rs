//! Stream commands (Redis's `t_stream.c`); those of consumer groups are
//! in `consumer_group`, but for XREADGROUP, which is XREAD's handler.
//!
//! Each handler follows its Redis 7.0.15 counterpart in the order of its
//! checks, which is visible: arguments are parsed before the key is looked
//! up, so a bad ID beats WRONGTYPE. The stream itself is
//! [`crate::types::stream::Stream`].
//!
//! What the append-only file logs is what Redis propagates: XADD with the
//! ID it generated, and an approximate trim (`~`) as the exact one it
//! amounted to (`MAXLEN = <length after>`, `MINID = <first ID after>`).

use super::args::{self, is};
use super::blocking::deadline_after;
use super::consumer_group::{deliver, no_key_or_group, GroupRead};
use super::flags::*;
use super::{cat, ks};
use super::{Ctx, Keys, Spec};
use crate::blocking::Op;
use crate::error::{CmdError, CmdResult};
use crate::notify::STREAM;
use crate::reply::Reply;
use crate::types::stream::{
    parse_id, AppendError, Entry, IdForm, Limits, Stream, StreamId, Trim, Val,
};
use crate::value::Value;

/// The most entries a blocked XREAD without COUNT gets (Redis's
/// `XREAD_BLOCKED_DEFAULT_COUNT`).
const XREAD_BLOCKED_COUNT: usize = 1000;

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

/// `-`/`+` accepted, a missing sequence is `missing_seq`.
pub(super) const fn lax(missing_seq: u64) -> IdForm {
    IdForm {
        strict: false,
        seq_auto: false,
        missing_seq,
    }
}

/// `-`/`+` refused, a missing sequence is 0.
pub(super) const STRICT: IdForm = IdForm {
    strict: true,
    seq_auto: false,
    missing_seq: 0,
};

pub(super) fn id_arg(a: &[u8], form: IdForm) -> Result<(StreamId, bool), CmdError> {
    parse_id(a, form).ok_or(CmdError::msg(INVALID_ID))
}

pub(super) fn stream_ref(v: &Value) -> Result<&Stream, CmdError> {
    match v {
        Value::Stream(x) => Ok(x),
        _ => Err(CmdError::WrongType),
    }
}

pub(super) fn stream_mut(v: &mut Value) -> Result<&mut Stream, CmdError> {
    match v {
        Value::Stream(x) => Ok(x),
        _ => Err(CmdError::WrongType),
    }
}

/// The node limits currently configured (mirrored in
/// [`crate::shared::Hot`], so reading them takes no lock).
fn limits(c: &Ctx<'_>) -> Limits {
    let [entries, bytes] = &c.shared.hot.stream_node_max;
    let get = |v: &std::sync::atomic::AtomicU64| {
        usize::try_from(v.load(std::sync::atomic::Ordering::Relaxed)).unwrap_or(usize::MAX)
    };
    Limits {
        entries: get(entries),
        bytes: get(bytes),
    }
}

/// Whether the running client is a script's (Redis's `CLIENT_SCRIPT`).
fn in_script(c: &Ctx<'_>) -> bool {
    c.client.meta.fd == -1 && c.client.meta.addr == "lua"
}

// ---------------------------------------------------------------------------
// replies
// ---------------------------------------------------------------------------

/// One entry: `[id, [field, value, ...]]`.
pub(super) fn reply_item(out: &mut Reply, item: &Entry<'_>) {
    out.array(2);
    out.bulk(&item.id.to_bytes());
    out.array(item.fields.len() * 2);
    for &(f, v) in &item.fields {
        out.bulk(f);
        match v {
            Val::Bytes(b) => out.bulk(b),
            Val::Int(n) => out.bulk_int(n),
        }
    }
}

/// Entries as XRANGE replies them: `[[id, [field, value, ...]], ...]`.
pub(crate) fn reply_entries(out: &mut Reply, items: &[Entry<'_>]) {
    reply_items(out, items);
}

fn reply_items(out: &mut Reply, items: &[Entry<'_>]) {
    out.array(items.len());
    for item in items {
        reply_item(out, item);
    }
}

// ---------------------------------------------------------------------------
// XADD, XTRIM: options
// ---------------------------------------------------------------------------

/// What XADD and XTRIM were asked (Redis's `streamAddTrimArgs`).
#[derive(Default)]
struct AddTrim {
    trim: Option<Trim>,
    approx: bool,
    limit: u64,
    /// The index of the trim strategy's value (MAXLEN's count, MINID's ID).
    trim_arg: usize,
    nomkstream: bool,
    id: Option<(StreamId, bool)>,
}

/// Parses XADD/XTRIM options from argument 2 (Redis's
/// `streamParseAddOrTrimArgsOrReply`); for XADD, returns the ID's index.
fn parse_add_trim(c: &Ctx<'_>, a: &[&[u8]], xadd: bool) -> Result<(AddTrim, usize), CmdError> {
    let mut o = AddTrim::default();
    let mut limit_given = false;
    let mut limit: i64 = 0;
    let mut i = 2;
    while i < a.len() {
        let more = a.len() - 1 - i;
        let opt = a[i];
        if xadd && opt == b"*" {
            break;
        } else if (is(opt, "maxlen") || is(opt, "minid")) && more > 0 {
            if o.trim.is_some() {
                return Err(CmdError::msg(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            o.approx = false;
            let next = a[i + 1];
            if more >= 2 && next == b"~" {
                o.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            if is(opt, "maxlen") {
                let n = args::int(a[i + 1])?;
                if n < 0 {
                    return Err(CmdError::msg("ERR The MAXLEN argument must be >= 0."));
                }
                o.trim = Some(Trim::MaxLen(n as u64));
            } else {
                let (id, _) = id_arg(a[i + 1], STRICT)?;
                o.trim = Some(Trim::MinId(id));
            }
            i += 1;
            o.trim_arg = i;
        } else if is(opt, "limit") && more > 0 {
            limit = args::int(a[i + 1])?;
            if limit < 0 {
                return Err(CmdError::msg("ERR The LIMIT argument must be >= 0."));
            }
            limit_given = true;
            i += 1;
        } else if xadd && is(opt, "nomkstream") {
            o.nomkstream = true;
        } else if xadd {
            let form = IdForm {
                strict: true,
                seq_auto: true,
                missing_seq: 0,
            };
            o.id = Some(id_arg(opt, form)?);
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if limit != 0 && o.trim.is_none() {
        return Err(CmdError::msg(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && o.trim.is_none() {
        return Err(CmdError::msg(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if c.client.replaying {
        // The log holds the exact trim it amounted to: no limit.
        o.limit = 0;
    } else if limit_given {
        if !o.approx {
            return Err(CmdError::msg(
                "ERR syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
        o.limit = limit as u64;
    } else if o.approx {
        o.limit = limits(c).default_trim_limit();
    }
    Ok((o, i))
}

/// After an approximate trim, the form Redis propagates: `~` becomes `=`
/// and the strategy's value what the trim left (Redis's
/// `streamRewriteTrimArgument`).
fn rewrite_trim(argv: &mut [Vec<u8>], o: &AddTrim, x: &Stream) {
    argv[o.trim_arg - 1] = b"=".to_vec();
    argv[o.trim_arg] = match o.trim {
        Some(Trim::MaxLen(_)) => x.len().to_string().into_bytes(),
        _ => x.edge_id(false).unwrap_or(StreamId::MIN).to_bytes(),
    };
}

// ---------------------------------------------------------------------------
// XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID
// ---------------------------------------------------------------------------

/// `XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]]
/// *|id field value [field value ...]`
pub fn xadd(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (o, idpos) = parse_add_trim(c, a, true)?;
    let field_pos = idpos + 1;
    let rest = a.len() as i64 - field_pos as i64;
    if rest < 2 || rest % 2 == 1 {
        return Err(CmdError::arity("xadd"));
    }
    if let Some((id, true)) = o.id {
        if id == StreamId::MIN {
            return Err(CmdError::msg(
                "ERR The ID specified in XADD must be greater than 0-0",
            ));
        }
    }
    let key = a[1];
    let lim = limits(c);
    match c.ks.get(key) {
        Some(e) => {
            stream_ref(&e.value)?;
        }
        None if o.nomkstream => {
            c.out.null();
            return Ok(());
        }
        None => {
            c.ks.set(key, Value::Stream(Box::default()), false);
        }
    }
    let Some(e) = c.ks.get(key) else {
        return Err(CmdError::msg("ERR internal error"));
    };
    let x = stream_mut(&mut e.value)?;
    if x.last_id == StreamId::MAX {
        return Err(CmdError::msg(
            "ERR The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    let fields: Vec<(&[u8], &[u8])> = a[field_pos..]
        .chunks_exact(2)
        .map(|p| (p[0], p[1]))
        .collect();
    let (want, seq_given) = match o.id {
        Some((id, given)) => (Some(id), given),
        None => (None, false),
    };
    let id =
        match x.append(want, seq_given, &fields, lim) {
            Ok(id) => id,
            Err(AppendError::NotGreater) => return Err(CmdError::msg(
                "ERR The ID specified in XADD is equal or smaller than the target stream top item",
            )),
            Err(AppendError::TooLarge) => {
                return Err(CmdError::msg("ERR Elements are too large to be stored"))
            }
        };
    let idtext = id.to_bytes();
    let mut trimmed = false;
    let mut argv: Option<Vec<Vec<u8>>> = None;
    if let Some(how) = o.trim {
        trimmed = x.trim(how, o.approx, o.limit) > 0;
        if o.approx {
            let mut v: Vec<Vec<u8>> = a.iter().map(|s| s.to_vec()).collect();
            rewrite_trim(&mut v, &o, x);
            argv = Some(v);
        }
    }
    if !matches!(o.id, Some((_, true))) {
        let v = argv.get_or_insert_with(|| a.iter().map(|s| s.to_vec()).collect());
        v[idpos] = idtext.clone();
    }
    c.out.bulk(&idtext);
    c.notify(STREAM, "xadd", key);
    if trimmed {
        c.notify(STREAM, "xtrim", key);
    }
    if let Some(v) = argv {
        let v: Vec<&[u8]> = v.iter().map(Vec::as_slice).collect();
        c.propagate_as(&v);
    }
    Ok(())
}

/// XLEN key
pub fn xlen(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let n = match super::lookup_read(&mut c.ks, c.stats, a[1]) {
        None => 0,
        Some(e) => stream_ref(&e.value)?.len(),
    };
    c.out.int(n as i64);
    Ok(())
}

/// An interval bound (Redis's `streamParseIntervalIDOrReply`): `(id` is
/// exclusive.
pub(super) fn interval_id(a: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CmdError> {
    if a.len() > 1 && a[0] == b'(' {
        let (id, _) = id_arg(
            &a[1..],
            IdForm {
                missing_seq,
                ..STRICT
            },
        )?;
        Ok((id, true))
    } else {
        let (id, _) = id_arg(a, lax(missing_seq))?;
        Ok((id, false))
    }
}

/// `XRANGE key start end [COUNT count]`
pub fn xrange(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    range_generic(c, a, false)
}

/// `XREVRANGE key end start [COUNT count]`
pub fn xrevrange(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    range_generic(c, a, true)
}

fn range_generic(c: &mut Ctx<'_>, a: &[&[u8]], rev: bool) -> CmdResult {
    let (startarg, endarg) = if rev { (a[3], a[2]) } else { (a[2], a[3]) };
    let (mut start, startex) = interval_id(startarg, 0)?;
    if startex {
        start = start
            .incr()
            .ok_or(CmdError::msg("ERR invalid start ID for the interval"))?;
    }
    let (mut end, endex) = interval_id(endarg, u64::MAX)?;
    if endex {
        end = end
            .decr()
            .ok_or(CmdError::msg("ERR invalid end ID for the interval"))?;
    }
    let mut count: i64 = -1;
    let mut j = 4;
    while j < a.len() {
        if is(a[j], "count") && j + 1 < a.len() {
            count = args::int(a[j + 1])?.max(0);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let Some(e) = super::lookup_read(&mut c.ks, c.stats, a[1]) else {
        c.out.array(0);
        return Ok(());
    };
    let x = stream_ref(&e.value)?;
    if count == 0 {
        c.out.null_array();
        return Ok(());
    }
    let count = if count < 0 { 0 } else { count as usize };
    let items = x.range(start, end, count, rev);
    reply_items(c.out, &items);
    Ok(())
}

/// `XDEL key id [id ...]`
pub fn xdel(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let key = a[1];
    let Some(e) = c.ks.get(key) else {
        c.out.int(0);
        return Ok(());
    };
    let x = stream_mut(&mut e.value)?;
    let mut ids = Vec::with_capacity(a.len() - 2);
    for id in &a[2..] {
        ids.push(id_arg(id, STRICT)?.0);
    }
    let deleted = x.delete_ids(&ids);
    if deleted > 0 {
        c.notify(STREAM, "xdel", key);
        crate::stats::bump(&c.stats.dirty, deleted - 1);
    }
    c.out.int(deleted as i64);
    Ok(())
}

/// `XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]`
pub fn xtrim(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (o, _) = parse_add_trim(c, a, false)?;
    let key = a[1];
    let Some(e) = c.ks.get(key) else {
        c.out.int(0);
        return Ok(());
    };
    let x = stream_mut(&mut e.value)?;
    let Some(how) = o.trim else {
        return Err(CmdError::Syntax);
    };
    let deleted = x.trim(how, o.approx, o.limit);
    if deleted > 0 {
        if o.approx {
            let mut v: Vec<Vec<u8>> = a.iter().map(|s| s.to_vec()).collect();
            rewrite_trim(&mut v, &o, x);
            let v: Vec<&[u8]> = v.iter().map(Vec::as_slice).collect();
            c.propagate_as(&v);
        }
        c.notify(STREAM, "xtrim", key);
        crate::stats::bump(&c.stats.dirty, deleted - 1);
    }
    c.out.int(deleted as i64);
    Ok(())
}

/// `XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID
/// max-deleted-id]`
pub fn xsetid(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (id, _) = id_arg(a[2], STRICT)?;
    let mut entries_added: i64 = -1;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < a.len() {
        let more = a.len() - 1 - i;
        if is(a[i], "entriesadded") && more > 0 {
            entries_added = args::int(a[i + 1])?;
            if entries_added < 0 {
                return Err(CmdError::msg("ERR entries_added must be positive"));
            }
            i += 2;
        } else if is(a[i], "maxdeletedid") && more > 0 {
            max_deleted = id_arg(a[i + 1], STRICT)?.0;
            if id < max_deleted {
                return Err(CmdError::msg(
                    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let key = a[1];
    let Some(e) = c.ks.get(key) else {
        return Err(CmdError::NoSuchKey);
    };
    let x = stream_mut(&mut e.value)?;
    if !x.is_empty() {
        if id < x.last_valid_id() {
            return Err(CmdError::msg(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            ));
        }
        if entries_added != -1 && x.len() > entries_added as u64 {
            return Err(CmdError::msg(
                "ERR The entries_added specified in XSETID is smaller than the target stream length",
            ));
        }
    }
    x.last_id = id;
    if entries_added != -1 {
        x.entries_added = entries_added as u64;
    }
    if max_deleted != StreamId::MIN {
        x.max_deleted = max_deleted;
    }
    c.out.ok();
    c.notify(STREAM, "xsetid", key);
    Ok(())
}

// ---------------------------------------------------------------------------
// XREAD
// ---------------------------------------------------------------------------

/// `XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id
/// ...]`
///
/// With BLOCK, a read that finds nothing blocks until a write makes one
/// of its streams' last ID pass the ID given for it (served by
/// `cmd::blocking`), or until the timeout.
pub fn xread(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    read_streams(c, a, false)
}

/// `XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds]
/// [NOACK] STREAMS key [key ...] id [id ...]`
///
/// `>` reads entries never delivered to the group, which become pending
/// for the consumer (unless NOACK); another ID reads the consumer's own
/// pending entries after it. A blocked read waits for new entries; it is
/// told NOGROUP if its group is destroyed, UNBLOCKED if its stream is
/// deleted.
pub fn xreadgroup(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    read_streams(c, a, true)
}

/// XREAD and XREADGROUP (one handler in Redis, `xreadCommand`).
fn read_streams(c: &mut Ctx<'_>, a: &[&[u8]], grouped: bool) -> CmdResult {
    let mut block: Option<u64> = None;
    let mut count: i64 = 0;
    let mut streams_arg = 0;
    let mut group: Option<(&[u8], &[u8])> = None;
    let mut noack = false;
    let mut i = 1;
    while i < a.len() {
        let more = a.len() - i - 1;
        let o = a[i];
        if is(o, "block") && more > 0 {
            if in_script(c) {
                return Err(CmdError::Other(
                    format!(
                        "ERR {} command is not allowed with BLOCK option from scripts",
                        String::from_utf8_lossy(a[0])
                    )
                    .into(),
                ));
            }
            i += 1;
            let ms = args::int(a[i])
                .map_err(|_| CmdError::msg("ERR timeout is not an integer or out of range"))?;
            if ms < 0 {
                return Err(CmdError::msg("ERR timeout is negative"));
            }
            block = Some(deadline_after(c.ks.now, ms));
        } else if is(o, "count") && more > 0 {
            i += 1;
            count = args::int(a[i])?.max(0);
        } else if is(o, "streams") && more > 0 {
            streams_arg = i + 1;
            if (a.len() - streams_arg) % 2 != 0 {
                return Err(CmdError::msg(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            break;
        } else if is(o, "group") && more >= 2 {
            if !grouped {
                return Err(CmdError::msg(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            group = Some((a[i + 1], a[i + 2]));
            i += 2;
        } else if is(o, "noack") {
            if !grouped {
                return Err(CmdError::msg(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            noack = true;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if streams_arg == 0 {
        return Err(CmdError::Syntax);
    }
    if grouped && group.is_none() {
        return Err(CmdError::msg("ERR Missing GROUP option for XREADGROUP"));
    }
    let n = (a.len() - streams_arg) / 2;
    let mut ids = Vec::with_capacity(n);
    for k in 0..n {
        let key = a[streams_arg + k];
        let idarg = a[streams_arg + n + k];
        // Redis looks each key up (a hit or a miss) here and again when
        // serving it.
        let x = match super::lookup_read(&mut c.ks, c.stats, key) {
            Some(e) => Some(stream_ref(&e.value)?),
            None => None,
        };
        if let Some((name, _)) = group {
            if !x.is_some_and(|x| x.groups.contains_key(name)) {
                return Err(no_key_or_group(
                    key,
                    name,
                    " in XREADGROUP with GROUP option",
                ));
            }
        }
        let last = x.map(|x| x.last_id);
        if idarg == b"$" {
            if grouped {
                return Err(CmdError::msg(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                ));
            }
            ids.push(last.unwrap_or(StreamId::MIN));
            continue;
        }
        if idarg == b">" {
            if !grouped {
                return Err(CmdError::msg(
                    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                ));
            }
            // The greatest ID stands for `>`.
            ids.push(StreamId::MAX);
            continue;
        }
        ids.push(id_arg(idarg, STRICT)?.0);
    }
    let count = usize::try_from(count).unwrap_or(0);
    let now = c.ks.now as i64;
    // Each served stream's part of the reply, rendered while its entry is
    // borrowed, and what a group read did besides.
    let mut served: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut deliveries = Vec::new();
    for (k, gt) in ids.iter().enumerate() {
        let key = a[streams_arg + k];
        let Some(e) = super::lookup_read(&mut c.ks, c.stats, key) else {
            continue;
        };
        let mut part = Reply {
            buf: Vec::new(),
            resp3: c.out.resp3,
        };
        if let Some((name, consumer)) = group {
            let x = stream_mut(&mut e.value)?;
            let history = *gt != StreamId::MAX;
            let after = if history {
                *gt
            } else {
                let Some(g) = x.groups.get(name) else {
                    continue;
                };
                if x.is_empty() || x.last_valid_id() <= g.last_id {
                    continue;
                }
                g.last_id
            };
            let read = GroupRead {
                group: name,
                consumer,
                noack,
                history,
                log: c.propagating,
            };
            let start = after.incr().unwrap_or(after);
            deliveries.push((key, deliver(&mut part, x, key, &read, start, count, now)));
        } else {
            let x = stream_ref(&e.value)?;
            if x.is_empty() || x.last_valid_id() <= *gt {
                continue;
            }
            let Some(start) = gt.incr() else { continue };
            reply_items(&mut part, &x.range(start, StreamId::MAX, count, false));
        }
        served.push((k, part.buf));
    }
    for (key, d) in &deliveries {
        super::consumer_group::delivered(c, key, d);
        // Every stream a group read serves is a change (Redis's dirty++),
        // though only what the delivery logged reaches the AOF.
        crate::stats::bump(&c.stats.dirty, 1);
    }
    if grouped {
        c.prevent_propagation();
    }
    if served.is_empty() {
        match block {
            Some(deadline) => {
                let keys = &a[streams_arg..streams_arg + n];
                let count = if count == 0 {
                    XREAD_BLOCKED_COUNT
                } else {
                    count
                };
                let group = group.map(|(name, consumer)| crate::blocking::ReadGroup {
                    group: name.to_vec(),
                    consumer: consumer.to_vec(),
                    noack,
                });
                super::blocking::block(c, keys, Op::XRead { ids, count, group }, deadline);
            }
            None => c.out.null_array(),
        }
        return Ok(());
    }
    if c.out.resp3 {
        c.out.map(served.len());
    } else {
        c.out.array(served.len());
    }
    for (k, part) in served {
        if !c.out.resp3 {
            c.out.array(2);
        }
        c.out.bulk(a[streams_arg + k]);
        c.out.buf.extend_from_slice(&part);
    }
    Ok(())
}

/// Keys of XREAD: after the first `STREAMS`, the first half of the rest.
pub fn xread_keys<'x>(a: &[&'x [u8]], db: usize, out: &mut Vec<(usize, &'x [u8])>) {
    let Some(at) = a.iter().skip(1).position(|x| is(x, "streams")) else {
        return;
    };
    let first = at + 2;
    let n = (a.len() - first) / 2;
    out.extend(a[first..first + n].iter().map(|k| (db, *k)));
}

// ---------------------------------------------------------------------------
// XINFO
// ---------------------------------------------------------------------------

const XINFO_HELP: &[&str] = &[
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
];

/// XINFO HELP
pub fn xinfo_help(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.help(XINFO_HELP);
    Ok(())
}

/// `XINFO STREAM key [FULL [COUNT count]]`
pub fn xinfo_stream(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let x = match super::lookup_read(&mut c.ks, c.stats, a[2]) {
        None => return Err(CmdError::NoSuchKey),
        Some(e) => stream_ref(&e.value)?,
    };
    let opts = &a[3..];
    let mut full = false;
    let mut count: i64 = 10;
    if !opts.is_empty() {
        if (opts.len() != 1 && opts.len() != 3) || !is(opts[0], "full") {
            return Err(CmdError::subcommand_syntax(a[0], a[1]));
        }
        full = true;
        if opts.len() == 3 {
            if !is(opts[1], "count") {
                return Err(CmdError::subcommand_syntax(a[0], a[1]));
            }
            count = args::int(opts[2])?;
            if count < 0 {
                count = 10;
            }
        }
    }
    let out = &mut *c.out;
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(x.len() as i64);
    out.bulk(b"radix-tree-keys");
    out.int(x.node_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(rax_nodes(x) as i64);
    out.bulk(b"last-generated-id");
    out.bulk(&x.last_id.to_bytes());
    out.bulk(b"max-deleted-entry-id");
    out.bulk(&x.max_deleted.to_bytes());
    out.bulk(b"entries-added");
    out.int(x.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    out.bulk(&x.first_id.to_bytes());
    if full {
        out.bulk(b"entries");
        let items = x.range(StreamId::MIN, StreamId::MAX, count as usize, false);
        reply_items(out, &items);
        out.bulk(b"groups");
        super::consumer_group::reply_full_groups(out, x, count as usize);
    } else {
        out.bulk(b"groups");
        out.int(x.groups.len() as i64);
        for (name, last) in [(&b"first-entry"[..], false), (b"last-entry", true)] {
            out.bulk(name);
            match x.range(StreamId::MIN, StreamId::MAX, 1, last).first() {
                Some(item) => reply_item(out, item),
                None => out.null(),
            }
        }
    }
    Ok(())
}

/// The number of nodes Redis's rax holds for the stream's node keys
/// (XINFO's `radix-tree-nodes`), counted on the keys as a compressed trie
/// built by insertions: one node per branching point and per compressed
/// run, plus the leaves.
fn rax_nodes(x: &Stream) -> usize {
    let keys: Vec<[u8; 16]> = x.nodes().map(|(id, _)| id.encode()).collect();
    rax_count(&keys)
}

/// Nodes of a rax holding `keys` (sorted, distinct, all 16 bytes).
fn rax_count(keys: &[[u8; 16]]) -> usize {
    fn sub(keys: &[[u8; 16]], depth: usize) -> usize {
        // `keys` share their first `depth` bytes; one node stands here.
        if keys.len() == 1 {
            // A compressed run to the end (if any bytes remain), then the
            // key's leaf.
            return if depth < 16 { 2 } else { 1 };
        }
        // Find how far they all agree.
        let mut d = depth;
        while d < 16 && keys.iter().all(|k| k[d] == keys[0][d]) {
            d += 1;
        }
        if d > depth {
            // A compressed node for the common run, then the branch.
            return 1 + sub(keys, d);
        }
        // A branching node, with a child per distinct byte.
        let mut n = 1;
        let mut start = 0;
        while start < keys.len() {
            let b = keys[start][depth];
            let end = start + keys[start..].iter().take_while(|k| k[depth] == b).count();
            n += sub(&keys[start..end], depth + 1);
            start = end;
        }
        n
    }
    if keys.is_empty() {
        return 1;
    }
    sub(keys, 0)
}

// ---------------------------------------------------------------------------
// the table
// ---------------------------------------------------------------------------

/// A subcommand row of the stream group (XINFO's, XGROUP's).
pub(super) const fn stream_sub(
    name: &'static str,
    arity: i32,
    flags: u32,
    handler: super::Handler,
    keys: Keys,
    key_specs: &'static [ks::KeySpec],
) -> Spec {
    Spec {
        name,
        arity,
        flags,
        keys,
        group: "stream",
        handler,
        acl: cat::STREAM,
        key_specs,
        tips: &[],
        subcommands: &[],
    }
}

/// The stream group's rows.
#[rustfmt::skip]
pub static COMMANDS: &[Spec] = &[
    Spec { name: "xadd", arity: -5, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "stream", handler: xadd, acl: cat::STREAM, key_specs: &[ks::key(ks::RW | ks::UPDATE, 1).notes("UPDATE instead of INSERT because of the optional trimming feature")], tips: &["nondeterministic_output"], subcommands: &[] },
    Spec { name: "xlen", arity: 2, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "stream", handler: xlen, acl: cat::STREAM, key_specs: &[ks::key(ks::RO, 1)], tips: &[], subcommands: &[] },
    Spec { name: "xrange", arity: -4, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "stream", handler: xrange, acl: cat::STREAM, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "xrevrange", arity: -4, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "stream", handler: xrevrange, acl: cat::STREAM, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "xdel", arity: -3, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "stream", handler: xdel, acl: cat::STREAM, key_specs: &[ks::key(ks::RW | ks::DELETE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "xtrim", arity: -4, flags: WRITE, keys: Keys::Range(1, 1, 1), group: "stream", handler: xtrim, acl: cat::STREAM, key_specs: &[ks::key(ks::RW | ks::DELETE, 1)], tips: &["nondeterministic_output"], subcommands: &[] },
    Spec { name: "xread", arity: -4, flags: READONLY | BLOCKING | MOVABLE_KEYS, keys: Keys::Custom(xread_keys), group: "stream", handler: xread, acl: cat::STREAM, key_specs: &[ks::spec(ks::RO | ks::ACCESS, ks::Keyword("STREAMS", 1), ks::Range(-1, 1, 2))], tips: &[], subcommands: &[] },
    Spec { name: "xreadgroup", arity: -7, flags: WRITE | BLOCKING | MOVABLE_KEYS, keys: Keys::Custom(xread_keys), group: "stream", handler: xreadgroup, acl: cat::STREAM, key_specs: &[ks::spec(ks::RO | ks::ACCESS, ks::Keyword("STREAMS", 4), ks::Range(-1, 1, 2))], tips: &[], subcommands: &[] },
    Spec { name: "xsetid", arity: -3, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "stream", handler: xsetid, acl: cat::STREAM, key_specs: &[ks::key(ks::RW | ks::UPDATE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "xinfo", arity: -2, flags: 0, keys: Keys::None, group: "stream", handler: super::table::container, acl: 0, key_specs: &[], tips: &[], subcommands: &[
        stream_sub("help", 2, LOADING | STALE, xinfo_help, Keys::None, &[]),
        stream_sub("stream", -3, READONLY, xinfo_stream, Keys::Range(2, 2, 1), &[ks::key(ks::RO | ks::ACCESS, 2)]),
        super::consumer_group::XINFO_GROUPS,
        super::consumer_group::XINFO_CONSUMERS,
    ] },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xread_keys_are_the_first_half_after_streams() {
        let a: Vec<&[u8]> = vec![b"xread", b"COUNT", b"2", b"streams", b"a", b"b", b"0", b"0"];
        let mut out = Vec::new();
        xread_keys(&a, 0, &mut out);
        assert_eq!(out, vec![(0, &b"a"[..]), (0, b"b")]);
        let a: Vec<&[u8]> = vec![b"xread", b"streams"];
        out.clear();
        xread_keys(&a, 0, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn rax_of_one_key_has_two_nodes() {
        assert_eq!(rax_count(&[]), 1);
        assert_eq!(rax_count(&[StreamId::new(1, 0).encode()]), 2);
    }
}
