//! Clients blocked on keys, the command side: blocking a client (its
//! timeout argument, its registration), noting the keys a write made ready,
//! serving their waiters under the writer's locks (or right after, for
//! BLMOVE), and sending each served client its reply. The handlers (BLPOP,
//! BZPOPMIN...) live with their groups, `list` and `zset`; the registry of
//! waiters is [`crate::blocking`].

use super::list::{pop_event, push_event};
use super::{Ctx, Spec};
use crate::blocking::{Op, Waiter};
use crate::client::Blocked;
use crate::db::{shard_of, Locked};
use crate::error::CmdError;
use crate::inbox::LoopMsg;
use crate::notify::{self, GENERIC, LIST, STREAM, ZSET};
use crate::pubsub::Outbox;
use crate::reply::Reply;
use crate::shared::{LoopStats, Shared};
use crate::types::list::End;
use crate::types::list::{Fill, List};
use crate::util::hash::hash_key;
use crate::util::ldouble::LongDouble;
use crate::util::num::parse_f64_range_bound;
use crate::value::Value;

/// Parses a blocking timeout (seconds, fractions allowed) into an absolute
/// deadline in ms, 0 meaning forever — Redis 7.0.15's
/// `getTimeoutFromObjectOrReply`, including its quirks: the value is read
/// as a long double, multiplied by 1000 and rounded up (so any positive
/// timeout, however small, is at least 1 ms); anything that does not fit a
/// 64-bit integer comes out negative; and a deadline past the clock's range
/// wraps around in Redis and never comes, so it is "forever" here.
pub fn timeout_arg(a: &[u8], now: u64) -> Result<u64, CmdError> {
    let Some(exact) = LongDouble::parse(a) else {
        return Err(CmdError::msg("ERR timeout is not a float or out of range"));
    };
    // C's (long long) conversion of an out-of-range value gives LLONG_MIN.
    const LIMIT: f64 = 9.223_372_036_854_776e18;
    let tval: i64 = match parse_f64_range_bound(a).map(|s| (s * 1000.0).ceil()) {
        Some(v) if (-LIMIT..LIMIT).contains(&v) => v as i64,
        _ => i64::MIN,
    };
    // The product is taken in double precision (Redis: long double), which
    // differs only within a few ms of 2^63. A positive value too small for
    // a double (1e-400) is still positive as a long double: its ceiling is 1.
    let tval = if tval == 0 && exact.is_positive() {
        1
    } else {
        tval
    };
    if tval < 0 {
        return Err(CmdError::msg("ERR timeout is negative"));
    }
    Ok(deadline_after(now, tval))
}

/// The absolute deadline `ms` (not negative) after `now`, 0 meaning
/// forever: for a timeout of 0, and for one past the clock's range, whose
/// deadline wraps around in Redis 7.0.15 and never comes.
pub fn deadline_after(now: u64, ms: i64) -> u64 {
    (now as i64)
        .checked_add(ms)
        .filter(|_| ms > 0)
        .map_or(0, |d| d as u64)
}

/// Blocks the client on `keys` (or, inside EXEC, replies as a timeout would,
/// since a transaction never blocks).
pub(crate) fn block(c: &mut Ctx<'_>, keys: &[&[u8]], op: Op, deadline: u64) {
    if c.client.in_exec {
        op.empty_reply(c.out);
        return;
    }
    c.client.blocked = Some(Blocked { deadline });
    c.shared.blocking.block(Waiter {
        client: c.client.id(),
        loop_index: c.client.meta.loop_index,
        db: c.ks.db,
        keys: keys.iter().map(|k| k.to_vec()).collect(),
        op,
        resp3: c.out.resp3,
        cmd: c
            .client
            .meta
            .last_cmd
            .load(std::sync::atomic::Ordering::Relaxed),
        seq: 0,
    });
    // Shown (CLIENT LIST flag `b`) only once registered: whoever sees it
    // and then pushes is sure to find this waiter.
    c.client
        .meta
        .blocked
        .store(true, std::sync::atomic::Ordering::Release);
}

pub(crate) fn send_reply(shared: &Shared, w: &Waiter, reply: Vec<u8>) {
    if let Some(loops) = shared.loops() {
        loops[w.loop_index].send(LoopMsg::Unblock {
            client: w.client,
            reply,
        });
    }
}

/// After a successful write command, notes its keys that blocked clients
/// wait on (nothing to do when nobody is blocked).
pub fn note_ready(spec: &Spec, argv: &[&[u8]], ctx: &mut Ctx<'_>) {
    if !spec.has(super::flags::WRITE) || ctx.shared.blocking.count() == 0 {
        return;
    }
    let mut keys = Vec::new();
    spec.keys_of(argv, ctx.ks.db, &mut keys);
    for (db, key) in keys {
        if ctx.shared.blocking.has_waiters(db, key)
            && !ctx.ready.iter().any(|(d, k)| *d == db && k == key)
        {
            ctx.ready.push((db, key.to_vec()));
        }
    }
}

/// Serves the waiters of keys a command made ready, under its locks. A
/// key whose first waiter is a BLMOVE is left for [`serve_deferred`]: its
/// destination's shard may be outside these locks, and taking it now could
/// deadlock. Those keys are added to `later`.
pub fn serve(
    ks: &mut Locked<'_>,
    shared: &Shared,
    stats: &LoopStats,
    outbox: &mut Outbox,
    ready: &[(usize, Vec<u8>)],
    later: &mut Vec<(usize, Vec<u8>)>,
) {
    for (db, key) in ready {
        serve_key(ks, shared, stats, outbox, *db, key, None, later);
    }
}

/// Serves waiters on `key` in order while it holds elements. A BLMOVE
/// waiter is served only when its destination is `held_dest` (locked by
/// the caller); otherwise the key goes to `later` and serving stops, so
/// that nobody overtakes that waiter. Destinations that become ready go to
/// `later` as well.
#[allow(clippy::too_many_arguments)]
fn serve_key(
    ks: &mut Locked<'_>,
    shared: &Shared,
    stats: &LoopStats,
    outbox: &mut Outbox,
    db: usize,
    key: &[u8],
    held_dest: Option<&[u8]>,
    later: &mut Vec<(usize, Vec<u8>)>,
) {
    if shared.blocking.group_readers() > 0
        && !matches!(
            ks.peek_in(db, key).map(|e| &e.value),
            Some(Value::Stream(_))
        )
    {
        unblock_group_readers(shared, stats, db, key);
    }
    loop {
        let is_list = match ks.peek_in(db, key).map(|e| &e.value) {
            Some(Value::List(l)) if !l.is_empty() => true,
            Some(Value::ZSet(z)) if !z.is_empty() => false,
            Some(Value::Stream(_)) => {
                serve_stream(ks, shared, stats, outbox, db, key);
                return;
            }
            _ => return,
        };
        let Some(first) = shared.blocking.peek_first(db, key, is_list) else {
            return;
        };
        if let Op::Move { dest, .. } = &first.op {
            if held_dest != Some(dest.as_slice()) {
                if !later.iter().any(|(d, k)| *d == db && k == key) {
                    later.push((db, key.to_vec()));
                }
                return;
            }
        }
        // Claimed by a timeout or CLIENT UNBLOCK in the meantime (and
        // maybe blocked again, on other keys): look again.
        let Some(w) = shared.blocking.claim_exact(first.client, first.seq) else {
            continue;
        };
        let mut out = Reply {
            buf: Vec::new(),
            resp3: w.resp3,
        };
        if let Op::Move { dest, .. } = &w.op {
            // Redis checks the destination before taking the element: a
            // wrong type costs this waiter an error, not the element.
            let wrong = ks
                .peek_in(db, dest)
                .is_some_and(|e| !matches!(e.value, Value::List(_)));
            if wrong {
                out.error(&CmdError::WrongType, stats);
                stats.cmd_unblocked(w.cmd, true, shared);
                send_reply(shared, &w, out.buf);
                continue;
            }
        }
        let Some(value) = ks.peek_in(db, key).map(|e| &mut e.value) else {
            return;
        };
        let mut moved = None;
        let mut popped = 0;
        let (class, event, emptied) = match (value, &w.op) {
            (Value::List(l), Op::Pop(end)) => {
                let elem = l.pop(*end).unwrap_or_default();
                out.array(2);
                out.bulk(key);
                out.bulk(&elem);
                (LIST, pop_event(*end), l.is_empty())
            }
            (Value::List(l), Op::MPop { end, count }) => {
                let n = (*count).min(l.len());
                popped = n;
                out.array(2);
                out.bulk(key);
                out.array(n);
                for _ in 0..n {
                    out.bulk(&l.pop(*end).unwrap_or_default());
                }
                (LIST, pop_event(*end), l.is_empty())
            }
            (Value::List(l), Op::Move { from, .. }) => {
                let elem = l.pop(*from).unwrap_or_default();
                out.bulk(&elem);
                moved = Some(elem);
                (LIST, pop_event(*from), l.is_empty())
            }
            (Value::ZSet(z), Op::ZPop { max }) => {
                let (m, score) = z.pop(*max).unwrap_or_default();
                out.array(3);
                out.bulk(key);
                out.bulk(&m);
                out.double(score);
                (ZSET, zpop_event(*max), z.is_empty())
            }
            (Value::ZSet(z), Op::ZMPop { max, count }) => {
                let n = (*count).min(z.len());
                popped = n;
                out.array(2);
                out.bulk(key);
                out.array(n);
                for _ in 0..n {
                    let (m, score) = z.pop(*max).unwrap_or_default();
                    out.array(2);
                    out.bulk(&m);
                    out.double(score);
                }
                (ZSET, zpop_event(*max), z.is_empty())
            }
            _ => {
                // The key changed type under a waiter of another kind
                // (peek_first matched the kind, so this cannot happen);
                // put the waiter back rather than lose it.
                shared.blocking.block(w);
                return;
            }
        };
        if emptied {
            ks.remove_in(db, key);
        }
        if shared.persist.aof.on() {
            // The pop this waiter's command became, logged under the
            // locks (after the write that served it) and written before
            // the waiter hears of it.
            log_pop(shared, db, key, &w.op, popped);
        }
        ks.signal(db, key);
        if notify::wanted(shared, class | GENERIC) {
            notify::publish(shared, outbox, class, event, db, key);
            if emptied {
                notify::publish(shared, outbox, GENERIC, "del", db, key);
            }
        }
        if let (Some(elem), Op::Move { to, dest, .. }) = (moved, &w.op) {
            let fill = fill(shared);
            match ks.get_in(db, dest).map(|e| &mut e.value) {
                Some(Value::List(l)) => l.push(*to, &elem, fill),
                _ => {
                    let mut l = List::new();
                    l.push(*to, &elem, fill);
                    ks.set_in(db, dest, Value::List(Box::new(l)), false);
                }
            }
            ks.signal(db, dest);
            notify::publish(shared, outbox, LIST, push_event(*to), db, dest);
            if shared.blocking.has_waiters(db, dest)
                && !later.iter().any(|(d, k)| *d == db && k == dest)
            {
                later.push((db, dest.clone()));
            }
        }
        stats.cmd_unblocked(w.cmd, false, shared);
        shared.persist.aof.flush_mine();
        send_reply(shared, &w, out.buf);
    }
}

/// Serves the XREAD and XREADGROUP waiters on stream `key` that it has
/// entries for (Redis's `serveClientsBlockedOnStreamKey`): every one of
/// them, in the order they blocked. An XREAD takes nothing away; an
/// XREADGROUP reads after its group's last ID, which the reads before it
/// moved on, so a group's new entries go to its first waiter. A waiter
/// whose group is gone is told NOGROUP.
fn serve_stream(
    ks: &mut Locked<'_>,
    shared: &Shared,
    stats: &LoopStats,
    outbox: &mut Outbox,
    db: usize,
    key: &[u8],
) {
    use super::consumer_group::{deliver, GroupRead};
    use crate::types::stream::StreamId;
    let now = ks.now as i64;
    for first in shared.blocking.stream_waiters(db, key) {
        let Op::XRead { ids, count, group } = &first.op else {
            continue;
        };
        let Some(at) = first.keys.iter().position(|k| k == key) else {
            continue;
        };
        let Some(Value::Stream(x)) = ks.peek_in(db, key).map(|e| &mut e.value) else {
            return;
        };
        let gt = match group {
            None => ids[at],
            Some(rg) => match x.groups.get(rg.group.as_slice()) {
                Some(g) => g.last_id,
                None => {
                    let Some(w) = shared.blocking.claim_exact(first.client, first.seq) else {
                        continue;
                    };
                    let gone = CmdError::msg(
                        "NOGROUP the consumer group this client was blocked on no longer exists",
                    );
                    fail(shared, stats, &w, &gone);
                    continue;
                }
            },
        };
        if x.last_id <= gt {
            continue;
        }
        let Some(w) = shared.blocking.claim_exact(first.client, first.seq) else {
            continue;
        };
        let mut out = Reply {
            buf: Vec::new(),
            resp3: w.resp3,
        };
        if out.resp3 {
            out.map(1);
        } else {
            out.array(1);
            out.array(2);
        }
        out.bulk(key);
        let start = gt.incr().unwrap_or(gt);
        match group {
            None => {
                let items = x.range(start, StreamId::MAX, *count, false);
                super::stream::reply_entries(&mut out, &items);
            }
            Some(rg) => {
                let read = GroupRead {
                    group: &rg.group,
                    consumer: &rg.consumer,
                    noack: rg.noack,
                    history: false,
                    log: shared.persist.aof.on(),
                };
                let d = deliver(&mut out, x, key, &read, start, *count, now);
                if d.created {
                    crate::stats::bump(&stats.dirty, 1);
                    notify::publish(shared, outbox, STREAM, "xgroup-createconsumer", db, key);
                }
                if !d.records.list.is_empty() {
                    // What the read did, logged as Redis logs it after
                    // serving a client (one transaction when it is more
                    // than one command), before the client hears of it.
                    let records: Vec<crate::persist::aof::Record> = d
                        .records
                        .list
                        .iter()
                        .map(|r| {
                            let argv: Vec<&[u8]> = r.iter().map(Vec::as_slice).collect();
                            crate::persist::aof::Record::new(db, &argv)
                        })
                        .collect();
                    shared.persist.aof.append(&records, records.len() > 1);
                    shared.persist.aof.flush_mine();
                }
            }
        }
        stats.cmd_unblocked(w.cmd, false, shared);
        send_reply(shared, &w, out.buf);
    }
}

/// Replies `err` to a claimed waiter.
fn fail(shared: &Shared, stats: &LoopStats, w: &Waiter, err: &CmdError) {
    let mut out = Reply {
        buf: Vec::new(),
        resp3: w.resp3,
    };
    out.error(err, stats);
    stats.cmd_unblocked(w.cmd, true, shared);
    send_reply(shared, w, out.buf);
}

/// Tells blocked XREADGROUPs whose stream went away without a command
/// naming it (it expired) that it is gone: the event loop's cron calls
/// this while any XREADGROUP is blocked. A shard someone holds is looked
/// at on a later tick.
pub fn unblock_vanished_group_readers(shared: &Shared, stats: &LoopStats, now: u64) {
    for (db, key) in shared.blocking.group_reader_keys() {
        let hash = hash_key(&key);
        let Some(shard) = shared.keyspace.try_lock(db, shard_of(hash)) else {
            continue;
        };
        let is_stream = matches!(
            shard.peek_live(hash, &key, now).map(|e| &e.value),
            Some(Value::Stream(_))
        );
        drop(shard);
        if !is_stream {
            unblock_group_readers(shared, stats, db, &key);
        }
    }
}

/// Tells the XREADGROUP waiters on `key`, no longer a stream, that it is
/// gone (Redis's `unblockDeletedStreamReadgroupClients`): the group they
/// read went with it.
fn unblock_group_readers(shared: &Shared, stats: &LoopStats, db: usize, key: &[u8]) {
    for first in shared.blocking.stream_waiters(db, key) {
        if !first.op.reads_group() {
            continue;
        }
        if let Some(w) = shared.blocking.claim_exact(first.client, first.seq) {
            let gone = CmdError::msg("UNBLOCKED the stream key no longer exists");
            fail(shared, stats, &w, &gone);
        }
    }
}

/// Appends the record of a served waiter: the pop (or move) its blocking
/// command performed, as Redis propagates it.
fn log_pop(shared: &Shared, db: usize, key: &[u8], op: &Op, count: usize) {
    use crate::persist::aof::Record;
    let side = |end: End| -> &'static [u8] {
        match end {
            End::Front => b"LEFT",
            End::Back => b"RIGHT",
        }
    };
    let pop = |end: End| -> &'static [u8] {
        match end {
            End::Front => b"LPOP",
            End::Back => b"RPOP",
        }
    };
    let zpop = |max: bool| -> &'static [u8] {
        if max {
            b"ZPOPMAX"
        } else {
            b"ZPOPMIN"
        }
    };
    let n = count.to_string();
    let record = match op {
        Op::Pop(end) => Record::new(db, &[pop(*end), key]),
        Op::MPop { end, .. } => Record::new(db, &[pop(*end), key, n.as_bytes()]),
        Op::Move { from, to, dest } => {
            Record::new(db, &[b"LMOVE", key, dest, side(*from), side(*to)])
        }
        Op::ZPop { max } => Record::new(db, &[zpop(*max), key]),
        Op::ZMPop { max, .. } => Record::new(db, &[zpop(*max), key, n.as_bytes()]),
        Op::WaitReplicas | Op::XRead { .. } => return,
    };
    shared.persist.aof.append(&[record], false);
}

fn zpop_event(max: bool) -> &'static str {
    if max {
        "zpopmax"
    } else {
        "zpopmin"
    }
}

fn fill(shared: &Shared) -> Fill {
    Fill::from_config(
        shared
            .hot
            .list_max_listpack_size
            .load(std::sync::atomic::Ordering::Relaxed),
    )
}

/// Serves, after the serving command released its locks, the keys whose
/// first waiter is a BLMOVE (and destinations that became ready): each step
/// locks the key and that waiter's destination together, so the element
/// moves atomically — no observer sees it in neither list.
pub fn serve_deferred(
    shared: &Shared,
    stats: &LoopStats,
    outbox: &mut Outbox,
    mut keys: Vec<(usize, Vec<u8>)>,
    now: u64,
) {
    let mut ids = Vec::new();
    let mut rounds = 0usize;
    while let Some((db, key)) = keys.pop() {
        // Bound the work (a waiter cycle through BLMOVEs re-readies keys);
        // what remains is served by the next write to those keys.
        rounds += 1;
        if rounds > 10_000 {
            break;
        }
        loop {
            let dest = match shared.blocking.peek_first(db, &key, true).map(|w| w.op) {
                Some(Op::Move { dest, .. }) => Some(dest),
                _ => None,
            };
            ids.clear();
            ids.push((db as u32, shard_of(hash_key(&key)) as u32));
            if let Some(d) = &dest {
                ids.push((db as u32, shard_of(hash_key(d)) as u32));
            }
            let mut ks = shared.keyspace.lock(&mut ids, db, now);
            let mut more = Vec::new();
            serve_key(
                &mut ks,
                shared,
                stats,
                outbox,
                db,
                &key,
                dest.as_deref(),
                &mut more,
            );
            drop(ks);
            let again = more.iter().any(|(d, k)| *d == db && *k == key);
            keys.extend(more.into_iter().filter(|(d, k)| !(*d == db && *k == key)));
            if !again {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::timeout_arg;

    fn deadline(a: &str, now: u64) -> Result<u64, String> {
        timeout_arg(a.as_bytes(), now).map_err(|e| format!("{e:?}"))
    }

    #[test]
    fn timeouts_round_up_to_whole_milliseconds_as_redis_7_0() {
        assert_eq!(deadline("0", 5_000), Ok(0));
        assert_eq!(deadline("0.0001", 5_000), Ok(5_001));
        assert_eq!(deadline("0.0015", 5_000), Ok(5_002));
        assert_eq!(
            deadline("1e-400", 5_000),
            Ok(5_001),
            "positive as a long double"
        );
        assert_eq!(deadline("2", 5_000), Ok(7_000));
    }

    #[test]
    fn timeouts_past_the_clock_are_forever_and_past_i64_are_negative() {
        assert_eq!(deadline("9223372036854774", 5_000), Ok(0));
        for negative in ["-1", "-0.5", "1e16", "inf", "-inf"] {
            assert!(
                deadline(negative, 5_000).unwrap_err().contains("negative"),
                "{negative}"
            );
        }
        for junk in ["x", "1e5000", "nan", ""] {
            assert!(
                deadline(junk, 5_000).unwrap_err().contains("not a float"),
                "{junk}"
            );
        }
    }
}
