//! Generic key commands (Redis's `db.c` and `expire.c`).

use super::args::{self, is};
use super::flags::*;
use super::Ctx;
use super::{cat, ks};
use super::{Keys, Spec};
use crate::db::{Entry, SHARDS};
use crate::error::{CmdError, CmdResult};
use crate::notify::GENERIC;
use crate::util::glob::glob_match;
use crate::util::rand::rand_u64;

/// DEL key [key ...] (and UNLINK: memory is freed the same way)
pub fn del(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let mut n = 0;
    for key in &a[1..] {
        if c.delete(key) {
            n += 1;
        }
    }
    c.out.int(n);
    Ok(())
}

/// EXISTS key [key ...] — a key named twice counts twice.
pub fn exists(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let n = a[1..].iter().filter(|k| c.ks.peek(k).is_some()).count();
    c.out.int(n as i64);
    Ok(())
}

/// TOUCH key [key ...]
pub fn touch(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let n = a[1..].iter().filter(|k| c.ks.get(k).is_some()).count();
    c.out.int(n as i64);
    Ok(())
}

/// TYPE key
pub fn type_(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let name = c.ks.peek(a[1]).map_or("none", |e| e.value.type_name());
    c.out.simple(name);
    Ok(())
}

fn rename_generic(c: &mut Ctx<'_>, a: &[&[u8]], nx: bool) -> CmdResult {
    let (src, dst) = (a[1], a[2]);
    if c.ks.peek(src).is_none() {
        return Err(CmdError::NoSuchKey);
    }
    if src == dst {
        if nx {
            c.out.int(0);
        } else {
            c.out.ok();
        }
        return Ok(());
    }
    if nx && c.ks.peek(dst).is_some() {
        c.out.int(0);
        return Ok(());
    }
    let Some(entry) = c.ks.remove(src) else {
        return Err(CmdError::NoSuchKey);
    };
    let at = entry.expire_at();
    c.ks.set(dst, entry.value, false);
    if at != 0 {
        c.ks.set_expire(dst, at);
    }
    c.notify(GENERIC, "rename_from", src);
    c.notify(GENERIC, "rename_to", dst);
    if nx {
        c.out.int(1);
    } else {
        c.out.ok();
    }
    Ok(())
}

/// RENAME key newkey
pub fn rename(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    rename_generic(c, a, false)
}

/// RENAMENX key newkey
pub fn renamenx(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    rename_generic(c, a, true)
}

/// A database index argument: `ERR value is not an integer or out of range`
/// when it does not parse as an int, `ERR DB index is out of range` when no
/// such database exists.
fn db_index(c: &Ctx<'_>, arg: &[u8]) -> Result<usize, CmdError> {
    let n = args::int32(arg)?;
    if n < 0 || n as usize >= c.shared.keyspace.databases() {
        return Err(CmdError::msg("ERR DB index is out of range"));
    }
    Ok(n as usize)
}

/// The keys COPY touches, including its destination database.
pub fn copy_keys<'x>(a: &[&'x [u8]], db: usize, out: &mut Vec<(usize, &'x [u8])>) {
    let mut dst_db = db;
    let mut j = 3;
    while j < a.len() {
        if is(a[j], "DB") && j + 1 < a.len() {
            if let Some(n) = crate::util::num::parse_i64(a[j + 1]) {
                if n >= 0 {
                    dst_db = n as usize;
                }
            }
            j += 1;
        }
        j += 1;
    }
    out.push((db, a[1]));
    if dst_db < crate::db::MAX_DATABASES {
        out.push((dst_db, a[2]));
    }
}

/// COPY source destination [DB destination-db] [REPLACE]
pub fn copy(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let src_db = c.ks.db;
    let mut dst_db = src_db;
    let mut replace = false;
    let mut j = 3;
    while j < a.len() {
        if is(a[j], "REPLACE") {
            replace = true;
        } else if is(a[j], "DB") && j + 1 < a.len() {
            dst_db = db_index(c, a[j + 1])?;
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let (key, newkey) = (a[1], a[2]);
    if src_db == dst_db && key == newkey {
        return Err(CmdError::msg(
            "ERR source and destination objects are the same",
        ));
    }
    let Some(e) = c.ks.get(key) else {
        c.out.int(0);
        return Ok(());
    };
    let (value, at) = (e.value.clone(), e.expire_at());
    if c.ks.peek_in(dst_db, newkey).is_some() && !replace {
        c.out.int(0);
        return Ok(());
    }
    c.ks.set_in(dst_db, newkey, value, false);
    if at != 0 {
        c.ks.set_expire_in(dst_db, newkey, at);
    }
    c.notify_in(dst_db, GENERIC, "copy_to", newkey);
    c.out.int(1);
    Ok(())
}

/// The encoding limits RESTORE rebuilds containers under.
fn load_limits(c: &Ctx<'_>) -> crate::rdb::value::Limits {
    crate::rdb::value::Limits::of(c.shared)
}

/// DUMP key
pub fn dump(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let Some(e) = c.ks.get(a[1]) else {
        c.out.null();
        return Ok(());
    };
    let value = e.value.clone();
    let compress = c.shared.config().get_by_name("rdbcompression").as_deref() == Some("yes");
    let payload = crate::rdb::make_payload(crate::rdb::value::encode(&value, compress));
    c.out.bulk(&payload);
    Ok(())
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds]
/// [FREQ frequency]
pub fn restore(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut j = 4;
    while j < a.len() {
        let more = j + 1 < a.len();
        if is(a[j], "REPLACE") {
            replace = true;
        } else if is(a[j], "ABSTTL") {
            absttl = true;
        } else if is(a[j], "IDLETIME") && more && freq.is_none() {
            let n = args::int(a[j + 1])?;
            if n < 0 {
                return Err(CmdError::msg("ERR Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(n);
            j += 1;
        } else if is(a[j], "FREQ") && more && idle.is_none() {
            let n = args::int(a[j + 1])?;
            if !(0..=255).contains(&n) {
                return Err(CmdError::msg(
                    "ERR Invalid FREQ value, must be >= 0 and <= 255",
                ));
            }
            freq = Some(n);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let key = a[1];
    if !replace && c.ks.get(key).is_some() {
        return Err(CmdError::msg("BUSYKEY Target key name already exists."));
    }
    let mut ttl = args::int(a[2])?;
    if ttl < 0 {
        return Err(CmdError::msg("ERR Invalid TTL value, must be >= 0"));
    }
    let Some(body) = crate::rdb::check_payload(a[3]) else {
        return Err(CmdError::msg(
            "ERR DUMP payload version or checksum are wrong",
        ));
    };
    let Ok(value) = crate::rdb::value::decode(body, load_limits(c)) else {
        return Err(CmdError::msg("ERR Bad data format"));
    };
    let deleted = replace && c.ks.remove(key).is_some();
    let now = c.ks.now;
    if ttl != 0 && !absttl {
        // Redis adds without an overflow check; a wrapped time is past.
        ttl = ttl.wrapping_add(now as i64);
    }
    if ttl != 0 && ttl <= now as i64 {
        if deleted {
            c.notify(GENERIC, "del", key);
        }
        c.out.ok();
        return Ok(());
    }
    c.ks.set(key, value, false);
    if ttl != 0 {
        c.ks.set_expire(key, ttl as u64);
    }
    // Redis's objectSetLRUOrLFU: IDLETIME counts under the LRU-clock
    // policies, FREQ under the LFU ones.
    let (idle, freq) = (idle.map(|s| s as u64), freq.map(|f| f as u8));
    if (crate::evict::lfu() && freq.is_some()) || (!crate::evict::lfu() && idle.is_some()) {
        if let Some(e) = c.ks.peek(key) {
            e.set_loaded_access(now, idle, freq);
        }
    }
    c.notify(GENERIC, "restore", key);
    c.out.ok();
    Ok(())
}

/// The keys MOVE touches: the key in the current and in the target database.
pub fn move_keys<'x>(a: &[&'x [u8]], db: usize, out: &mut Vec<(usize, &'x [u8])>) {
    out.push((db, a[1]));
    if let Some(n) = crate::util::num::parse_i64(a[2]) {
        if n >= 0 && (n as usize) < crate::db::MAX_DATABASES {
            out.push((n as usize, a[1]));
        }
    }
}

/// MOVE key db
pub fn move_(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let dst = db_index(c, a[2])?;
    if dst == c.ks.db {
        return Err(CmdError::msg(
            "ERR source and destination objects are the same",
        ));
    }
    if c.ks.peek(a[1]).is_none() || c.ks.peek_in(dst, a[1]).is_some() {
        c.out.int(0);
        return Ok(());
    }
    let Some(entry) = c.ks.remove(a[1]) else {
        c.out.int(0);
        return Ok(());
    };
    let at = entry.expire_at();
    c.ks.set_in(dst, a[1], entry.value, false);
    if at != 0 {
        c.ks.set_expire_in(dst, a[1], at);
    }
    c.notify(GENERIC, "move_from", a[1]);
    c.notify_in(dst, GENERIC, "move_to", a[1]);
    c.out.int(1);
    Ok(())
}

/// SWAPDB index1 index2
pub fn swapdb(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let parse = |arg: &[u8], which: &'static str| {
        crate::util::num::parse_i64(arg)
            .filter(|n| (i32::MIN as i64..=i32::MAX as i64).contains(n))
            .ok_or(CmdError::msg(which))
    };
    let x = parse(a[1], "ERR invalid first DB index")?;
    let y = parse(a[2], "ERR invalid second DB index")?;
    let dbs = c.shared.keyspace.databases() as i64;
    if x < 0 || x >= dbs || y < 0 || y >= dbs {
        return Err(CmdError::msg("ERR DB index is out of range"));
    }
    c.ks.swap_dbs(x as usize, y as usize);
    // Clients blocked on keys of either database may have data now.
    for db in [x as usize, y as usize] {
        for key in c.shared.blocking.keys_in_db(db) {
            c.ready_later.push((db, key));
        }
    }
    crate::stats::bump(&c.stats.dirty, 1);
    c.out.ok();
    Ok(())
}

/// RANDOMKEY
pub fn randomkey(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let db = c.ks.db;
    let now = c.ks.now;
    // Pick a shard with probability proportional to its size, then a key in
    // it; an expired pick is deleted and we try again (bounded, as Redis).
    for _ in 0..100 {
        let sizes: Vec<usize> = (0..SHARDS).map(|s| c.ks.shard_at(db, s).len()).collect();
        let total: usize = sizes.iter().sum();
        if total == 0 {
            break;
        }
        let mut r = (rand_u64() % total as u64) as usize;
        let mut shard = 0;
        while r >= sizes[shard] {
            r -= sizes[shard];
            shard += 1;
        }
        let mut s = c.ks.shard_at(db, shard);
        let Some(node) = s.random(rand_u64) else {
            continue;
        };
        let key = node.key.to_vec();
        let expired = node.value.expire_at() != 0 && node.value.expire_at() <= now;
        if !expired {
            c.out.bulk(&key);
            return Ok(());
        }
        let h = crate::util::hash::hash_key(&key);
        s.remove(h, &key);
    }
    c.out.null();
    Ok(())
}

fn live(e: &Entry, now: u64) -> bool {
    e.expire_at() == 0 || e.expire_at() > now
}

/// KEYS pattern
pub fn keys(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let pattern = a[1];
    let all = pattern == b"*";
    let (db, now) = (c.ks.db, c.ks.now);
    let mut found: Vec<Box<[u8]>> = Vec::new();
    for s in 0..SHARDS {
        let shard = c.ks.shard_at(db, s);
        for node in shard.iter() {
            if live(&node.value, now) && (all || glob_match(pattern, &node.key, false)) {
                found.push(Box::from(&*node.key));
            }
        }
    }
    c.out.array(found.len());
    for k in &found {
        c.out.bulk(k);
    }
    Ok(())
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
///
/// The cursor packs the shard (low 8 bits) and that shard's table cursor
/// (the rest). Each shard is walked with Redis's reverse-binary cursor, so a
/// full scan returns every key present throughout, however tables resize.
pub fn scan(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let cursor = args::parse_cursor(a[1])?;
    let mut pattern: Option<&[u8]> = None;
    let mut count: i64 = 10;
    let mut type_filter: Option<&[u8]> = None;
    let mut j = 2;
    while j < a.len() {
        let more = j + 1 < a.len();
        if is(a[j], "COUNT") && more {
            count = args::int(a[j + 1])?;
            if count < 1 {
                return Err(CmdError::Syntax);
            }
        } else if is(a[j], "MATCH") && more {
            pattern = Some(a[j + 1]).filter(|p| *p != b"*");
        } else if is(a[j], "TYPE") && more {
            type_filter = Some(a[j + 1]);
        } else {
            return Err(CmdError::Syntax);
        }
        j += 2;
    }
    let (db, now) = (c.ks.db, c.ks.now);
    let shard_bits = SHARDS.trailing_zeros();
    let mut shard = (cursor as usize) & (SHARDS - 1);
    let mut inner = cursor >> shard_bits;
    let mut keys: Vec<Box<[u8]>> = Vec::new();
    let mut budget = count.saturating_mul(10);
    let next = loop {
        // Empty shards cost nothing: skipping them here also lets a scan
        // that has seen the last key answer cursor 0 at once, as Redis does
        // for a small keyspace.
        while shard < SHARDS && inner == 0 && c.ks.shard_at(db, shard).is_empty() {
            shard += 1;
        }
        if shard == SHARDS {
            break 0;
        }
        if budget <= 0 || keys.len() as i64 >= count {
            break (inner << shard_bits) | shard as u64;
        }
        let s = c.ks.shard_at(db, shard);
        inner = s.scan(inner, |node| {
            let e = &node.value;
            if !live(e, now) {
                return;
            }
            if let Some(t) = type_filter {
                if !t.eq_ignore_ascii_case(e.value.type_name().as_bytes()) {
                    return;
                }
            }
            if let Some(p) = pattern {
                if !glob_match(p, &node.key, false) {
                    return;
                }
            }
            keys.push(Box::from(&*node.key));
        });
        drop(s);
        if inner == 0 {
            shard += 1;
        }
        budget -= 1;
    };
    c.out.array(2);
    c.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    c.out.array(keys.len());
    for k in &keys {
        c.out.bulk(k);
    }
    Ok(())
}

/// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT: `base` is added to the time
/// (now for the relative forms, 0 for the absolute ones), `ms_unit` says the
/// argument is in milliseconds.
fn expire_generic(
    c: &mut Ctx<'_>,
    a: &[&[u8]],
    relative: bool,
    ms_unit: bool,
    name: &str,
) -> CmdResult {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &a[3..] {
        if is(opt, "NX") {
            nx = true;
        } else if is(opt, "XX") {
            xx = true;
        } else if is(opt, "GT") {
            gt = true;
        } else if is(opt, "LT") {
            lt = true;
        } else {
            return Err(CmdError::quoting("ERR Unsupported option ", opt, ""));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CmdError::msg(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(CmdError::msg(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    let invalid = || CmdError::msg(format!("ERR invalid expire time in '{name}' command"));
    let mut when = args::int(a[2])?;
    if !ms_unit {
        when = when.checked_mul(1000).ok_or_else(invalid)?;
    }
    let base = if relative { c.ks.now as i64 } else { 0 };
    when = when.checked_add(base).ok_or_else(invalid)?;
    let Some(e) = c.ks.get(a[1]) else {
        c.out.int(0);
        return Ok(());
    };
    let current = match e.expire_at() {
        0 => -1,
        at => at as i64,
    };
    let refuse = (nx && current != -1)
        || (xx && current == -1)
        || (gt && (when <= current || current == -1))
        || (lt && current != -1 && when >= current);
    if refuse {
        c.out.int(0);
        return Ok(());
    }
    if when <= c.ks.now as i64 {
        c.delete(a[1]);
        c.propagate_as(&[b"DEL", a[1]]);
    } else {
        c.ks.set_expire(a[1], when as u64);
        c.notify(GENERIC, "expire", a[1]);
        // Logged as PEXPIREAT with the absolute deadline (options kept).
        let ms = when.to_string();
        let mut argv: Vec<&[u8]> = vec![b"PEXPIREAT", a[1], ms.as_bytes()];
        argv.extend_from_slice(&a[3..]);
        c.propagate_as(&argv);
    }
    c.out.int(1);
    Ok(())
}

/// EXPIRE key seconds [NX | XX | GT | LT]
pub fn expire(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    expire_generic(c, a, true, false, "expire")
}

/// PEXPIRE key milliseconds [NX | XX | GT | LT]
pub fn pexpire(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    expire_generic(c, a, true, true, "pexpire")
}

/// EXPIREAT key unix-time-seconds [NX | XX | GT | LT]
pub fn expireat(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    expire_generic(c, a, false, false, "expireat")
}

/// PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]
pub fn pexpireat(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    expire_generic(c, a, false, true, "pexpireat")
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for a missing key, -1 without a
/// deadline; seconds are rounded as Redis rounds them.
fn ttl_generic(c: &mut Ctx<'_>, key: &[u8], ms: bool, absolute: bool) -> CmdResult {
    let now = c.ks.now;
    let n = match c.ks.peek(key) {
        None => -2,
        Some(e) if e.expire_at() == 0 => -1,
        Some(e) => {
            let v = if absolute {
                e.expire_at() as i64
            } else {
                (e.expire_at() as i64 - now as i64).max(0)
            };
            if ms {
                v
            } else {
                // Rounded to the nearest second without overflow near i64::MAX.
                ((v as i128 + 500) / 1000) as i64
            }
        }
    };
    c.out.int(n);
    Ok(())
}

/// TTL key
pub fn ttl(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    ttl_generic(c, a[1], false, false)
}

/// PTTL key
pub fn pttl(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    ttl_generic(c, a[1], true, false)
}

/// EXPIRETIME key
pub fn expiretime(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    ttl_generic(c, a[1], false, true)
}

/// PEXPIRETIME key
pub fn pexpiretime(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    ttl_generic(c, a[1], true, true)
}

/// PERSIST key
pub fn persist(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let had = c.ks.get(a[1]).is_some_and(|e| e.expire_at() != 0);
    if had {
        c.ks.set_expire(a[1], 0);
        c.notify(GENERIC, "persist", a[1]);
    }
    c.out.int(had as i64);
    Ok(())
}

/// DBSIZE
pub fn dbsize(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let db = c.ks.db;
    let n: usize = (0..SHARDS).map(|s| c.ks.shard_at(db, s).len()).sum();
    c.out.int(n as i64);
    Ok(())
}

/// Parses FLUSHDB/FLUSHALL's optional ASYNC|SYNC; true for ASYNC.
fn flush_mode(c: &Ctx<'_>, a: &[&[u8]]) -> Result<bool, CmdError> {
    match a {
        [_] => Ok(c.shared.config().lazyfree_lazy_user_flush),
        [_, m] if is(m, "ASYNC") => Ok(true),
        [_, m] if is(m, "SYNC") => Ok(false),
        _ => Err(CmdError::Syntax),
    }
}

/// Empties database `db`, counting the keys removed as changes (Redis's
/// `server.dirty += emptyData(...)`).
fn flush_db(c: &mut Ctx<'_>, db: usize, lazy: bool) {
    crate::tracking::note_flush();
    let mut old = Vec::new();
    let mut removed = 0;
    for s in 0..SHARDS {
        let mut shard = c.ks.shard_at(db, s);
        if !shard.is_empty() {
            removed += shard.len() as u64;
            old.push(shard.take_all());
        }
    }
    crate::stats::bump(&c.stats.dirty, removed);
    if c.shared.blocking.group_readers() > 0 {
        // Clients blocked in XREADGROUP on a stream now gone are told so
        // (Redis's `scanDatabaseForDeletedStreams`).
        for key in c.shared.blocking.keys_in_db(db) {
            c.ready_later.push((db, key));
        }
    }
    if lazy && !old.is_empty() {
        // Free the memory off the event loop, as Redis's lazyfree thread.
        std::thread::spawn(move || drop(old));
    }
}

/// FLUSHDB [ASYNC | SYNC]
pub fn flushdb(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let lazy = flush_mode(c, a)?;
    let db = c.ks.db;
    flush_db(c, db, lazy);
    // Logged even when the database was empty, as Redis does.
    c.force_propagation();
    c.out.ok();
    Ok(())
}

/// FLUSHALL [ASYNC | SYNC]
pub fn flushall(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let lazy = flush_mode(c, a)?;
    for db in 0..c.shared.keyspace.databases() {
        flush_db(c, db, lazy);
    }
    // Redis's flushAllDataAndResetRDB: a running background save is
    // stopped, and with save points the (now empty) snapshot is written.
    crate::persist::snapshot::kill_rdb_child(c.shared);
    if !c.shared.config().save.is_empty() {
        crate::persist::snapshot::with_all_shards(c.shared, &mut c.ks, |shared, ks| {
            let _ = crate::persist::snapshot::save(shared, ks);
        });
    }
    crate::stats::bump(&c.stats.dirty, 1);
    c.force_propagation();
    c.out.ok();
    Ok(())
}

/// OBJECT HELP text, line for line as Redis 7.0 prints it.
const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// OBJECT HELP
pub fn object_help(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.help(OBJECT_HELP);
    Ok(())
}

/// OBJECT ENCODING key
pub fn object_encoding(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    match c.ks.peek(a[2]) {
        None => c.out.null(),
        Some(e) => {
            let enc = e.value.encoding();
            c.out.bulk(enc.as_bytes())
        }
    }
    Ok(())
}

/// OBJECT REFCOUNT key — Redis shares small integers (0..10000) between
/// keys and reports them with its "shared" refcount, INT_MAX.
pub fn object_refcount(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    match c.ks.peek(a[2]) {
        None => c.out.null(),
        Some(e) => {
            let shared = matches!(e.value, crate::value::Value::Int(n) if (0..10_000).contains(&n));
            c.out.int(if shared { i32::MAX as i64 } else { 1 })
        }
    }
    Ok(())
}

/// OBJECT IDLETIME key — refused under an LFU policy, as in Redis.
pub fn object_idletime(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let now = c.ks.now;
    let Some(e) = c.ks.peek(a[2]) else {
        c.out.null();
        return Ok(());
    };
    if crate::evict::lfu() {
        return Err(CmdError::msg(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. \
             Please note that when switching between policies at runtime LRU and LFU data \
             will take some time to adjust.",
        ));
    }
    c.out.int(e.idle_seconds(now) as i64);
    Ok(())
}

/// OBJECT FREQ key — the key's LFU counter, decayed; refused unless an
/// LFU policy is selected, as in Redis.
pub fn object_freq(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let now = c.ks.now;
    let Some(e) = c.ks.peek(a[2]) else {
        c.out.null();
        return Ok(());
    };
    if !crate::evict::lfu() {
        return Err(CmdError::msg(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
             Please note that when switching between policies at runtime LRU and LFU data \
             will take some time to adjust.",
        ));
    }
    c.out.int(crate::evict::freq(e.access(), now) as i64);
    Ok(())
}

// ---- command table rows ----

static OBJECT_SUBCOMMANDS: &[Spec] = &[
    Spec {
        name: "encoding",
        arity: 3,
        flags: READONLY,
        keys: Keys::Range(2, 2, 1),
        group: "generic",
        handler: object_encoding,
        acl: cat::KEYSPACE,
        key_specs: &[ks::key(ks::RO, 2)],
        tips: &["nondeterministic_output"],
        subcommands: &[],
    },
    Spec {
        name: "refcount",
        arity: 3,
        flags: READONLY,
        keys: Keys::Range(2, 2, 1),
        group: "generic",
        handler: object_refcount,
        acl: cat::KEYSPACE,
        key_specs: &[ks::key(ks::RO, 2)],
        tips: &["nondeterministic_output"],
        subcommands: &[],
    },
    Spec {
        name: "idletime",
        arity: 3,
        flags: READONLY,
        keys: Keys::Range(2, 2, 1),
        group: "generic",
        handler: object_idletime,
        acl: cat::KEYSPACE,
        key_specs: &[ks::key(ks::RO, 2)],
        tips: &["nondeterministic_output"],
        subcommands: &[],
    },
    Spec {
        name: "freq",
        arity: 3,
        flags: READONLY,
        keys: Keys::Range(2, 2, 1),
        group: "generic",
        handler: object_freq,
        acl: cat::KEYSPACE,
        key_specs: &[ks::key(ks::RO, 2)],
        tips: &["nondeterministic_output"],
        subcommands: &[],
    },
    Spec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "generic",
        handler: object_help,
        acl: cat::KEYSPACE,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
];

/// This group's rows of the command table.
pub static COMMANDS: &[Spec] = &[
    Spec {
        name: "del",
        arity: -2,
        flags: WRITE,
        keys: Keys::Range(1, -1, 1),
        group: "generic",
        handler: del,
        acl: cat::KEYSPACE,
        key_specs: &[ks::spec(
            ks::RM | ks::DELETE,
            ks::Index(1),
            ks::Range(-1, 1, 0),
        )],
        tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
        subcommands: &[],
    },
    Spec {
        name: "unlink",
        arity: -2,
        flags: WRITE | FAST,
        keys: Keys::Range(1, -1, 1),
        group: "generic",
        handler: del,
        acl: cat::KEYSPACE,
        key_specs: &[ks::spec(
            ks::RM | ks::DELETE,
            ks::Index(1),
            ks::Range(-1, 1, 0),
        )],
        tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
        subcommands: &[],
    },
    Spec {
        name: "exists",
        arity: -2,
        flags: READONLY | FAST,
        keys: Keys::Range(1, -1, 1),
        group: "generic",
        handler: exists,
        acl: cat::KEYSPACE,
        key_specs: &[ks::spec(ks::RO, ks::Index(1), ks::Range(-1, 1, 0))],
        tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
        subcommands: &[],
    },
    Spec {
        name: "touch",
        arity: -2,
        flags: READONLY | FAST,
        keys: Keys::Range(1, -1, 1),
        group: "generic",
        handler: touch,
        acl: cat::KEYSPACE,
        key_specs: &[ks::spec(ks::RO, ks::Index(1), ks::Range(-1, 1, 0))],
        tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
        subcommands: &[],
    },
    Spec {
        name: "type",
        arity: 2,
        flags: READONLY | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "generic",
        handler: type_,
        acl: cat::KEYSPACE,
        key_specs: &[ks::key(ks::RO, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "rename",
        arity: 3,
        flags: WRITE,
        keys: Keys::Range(1, 2, 1),
        group: "generic",
        handler: rename,
        acl: cat::KEYSPACE,
        key_specs: &[
            ks::key(ks::RW | ks::ACCESS | ks::DELETE, 1),
            ks::key(ks::OW | ks::UPDATE, 2),
        ],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "renamenx",
        arity: 3,
        flags: WRITE | FAST,
        keys: Keys::Range(1, 2, 1),
        group: "generic",
        handler: renamenx,
        acl: cat::KEYSPACE,
        key_specs: &[
            ks::key(ks::RW | ks::ACCESS | ks::DELETE, 1),
            ks::key(ks::OW | ks::INSERT, 2),
        ],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "copy",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: Keys::Custom(copy_keys),
        group: "generic",
        handler: copy,
        acl: cat::KEYSPACE,
        key_specs: &[
            ks::key(ks::RO | ks::ACCESS, 1),
            ks::key(ks::OW | ks::UPDATE, 2),
        ],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "dump",
        arity: 2,
        flags: READONLY,
        keys: Keys::Range(1, 1, 1),
        group: "generic",
        handler: dump,
        acl: cat::KEYSPACE,
        key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)],
        tips: &["nondeterministic_output"],
        subcommands: &[],
    },
    Spec {
        name: "restore",
        arity: -4,
        flags: WRITE | DENYOOM,
        keys: Keys::Range(1, 1, 1),
        group: "generic",
        handler: restore,
        acl: cat::KEYSPACE | cat::DANGEROUS,
        key_specs: &[ks::key(ks::OW | ks::UPDATE, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "migrate",
        arity: -6,
        flags: WRITE | MOVABLE_KEYS,
        keys: Keys::Custom(super::migrate::migrate_keys),
        group: "generic",
        handler: super::migrate::migrate,
        acl: cat::KEYSPACE | cat::DANGEROUS,
        key_specs: &[
            ks::key(ks::RW | ks::ACCESS | ks::DELETE, 3),
            ks::spec(
                ks::RW | ks::ACCESS | ks::DELETE | ks::INCOMPLETE,
                ks::Keyword("KEYS", -2),
                ks::Range(-1, 1, 0),
            ),
        ],
        tips: &["nondeterministic_output"],
        subcommands: &[],
    },
    Spec {
        name: "move",
        arity: 3,
        flags: WRITE | FAST,
        keys: Keys::Custom(move_keys),
        group: "generic",
        handler: move_,
        acl: cat::KEYSPACE,
        key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::UPDATE, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "swapdb",
        arity: 3,
        flags: WRITE | FAST | WHOLE_KEYSPACE,
        keys: Keys::None,
        group: "server",
        handler: swapdb,
        acl: cat::KEYSPACE | cat::DANGEROUS,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "randomkey",
        arity: 1,
        flags: READONLY | WHOLE_KEYSPACE,
        keys: Keys::None,
        group: "generic",
        handler: randomkey,
        acl: cat::KEYSPACE,
        key_specs: &[],
        tips: &["request_policy:all_shards", "nondeterministic_output"],
        subcommands: &[],
    },
    Spec {
        name: "keys",
        arity: 2,
        flags: READONLY | WHOLE_KEYSPACE,
        keys: Keys::None,
        group: "generic",
        handler: keys,
        acl: cat::KEYSPACE | cat::DANGEROUS,
        key_specs: &[],
        tips: &["request_policy:all_shards", "nondeterministic_output_order"],
        subcommands: &[],
    },
    Spec {
        name: "scan",
        arity: -2,
        flags: READONLY | WHOLE_KEYSPACE,
        keys: Keys::None,
        group: "generic",
        handler: scan,
        acl: cat::KEYSPACE,
        key_specs: &[],
        tips: &["nondeterministic_output", "request_policy:special"],
        subcommands: &[],
    },
    Spec {
        name: "expire",
        arity: -3,
        flags: WRITE | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "generic",
        handler: expire,
        acl: cat::KEYSPACE,
        key_specs: &[ks::key(ks::RW | ks::UPDATE, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "pexpire",
        arity: -3,
        flags: WRITE | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "generic",
        handler: pexpire,
        acl: cat::KEYSPACE,
        key_specs: &[ks::key(ks::RW | ks::UPDATE, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "expireat",
        arity: -3,
        flags: WRITE | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "generic",
        handler: expireat,
        acl: cat::KEYSPACE,
        key_specs: &[ks::key(ks::RW | ks::UPDATE, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "pexpireat",
        arity: -3,
        flags: WRITE | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "generic",
        handler: pexpireat,
        acl: cat::KEYSPACE,
        key_specs: &[ks::key(ks::RW | ks::UPDATE, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "ttl",
        arity: 2,
        flags: READONLY | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "generic",
        handler: ttl,
        acl: cat::KEYSPACE,
        key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)],
        tips: &["nondeterministic_output"],
        subcommands: &[],
    },
    Spec {
        name: "pttl",
        arity: 2,
        flags: READONLY | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "generic",
        handler: pttl,
        acl: cat::KEYSPACE,
        key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)],
        tips: &["nondeterministic_output"],
        subcommands: &[],
    },
    Spec {
        name: "expiretime",
        arity: 2,
        flags: READONLY | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "generic",
        handler: expiretime,
        acl: cat::KEYSPACE,
        key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "pexpiretime",
        arity: 2,
        flags: READONLY | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "generic",
        handler: pexpiretime,
        acl: cat::KEYSPACE,
        key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "persist",
        arity: 2,
        flags: WRITE | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "generic",
        handler: persist,
        acl: cat::KEYSPACE,
        key_specs: &[ks::key(ks::RW | ks::UPDATE, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "dbsize",
        arity: 1,
        flags: READONLY | FAST | WHOLE_KEYSPACE,
        keys: Keys::None,
        group: "server",
        handler: dbsize,
        acl: cat::KEYSPACE,
        key_specs: &[],
        tips: &["request_policy:all_shards", "response_policy:agg_sum"],
        subcommands: &[],
    },
    Spec {
        name: "flushdb",
        arity: -1,
        flags: WRITE | WHOLE_KEYSPACE,
        keys: Keys::None,
        group: "server",
        handler: flushdb,
        acl: cat::KEYSPACE | cat::DANGEROUS,
        key_specs: &[],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        subcommands: &[],
    },
    Spec {
        name: "flushall",
        arity: -1,
        flags: WRITE | WHOLE_KEYSPACE,
        keys: Keys::None,
        group: "server",
        handler: flushall,
        acl: cat::KEYSPACE | cat::DANGEROUS,
        key_specs: &[],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        subcommands: &[],
    },
    Spec {
        name: "object",
        arity: -2,
        flags: 0,
        keys: Keys::None,
        group: "generic",
        handler: super::table::container,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: OBJECT_SUBCOMMANDS,
    },
];
