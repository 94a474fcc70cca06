//! DEBUG (refused by dispatch unless `enable-debug-command` allows it): the
//! sense without persistence or replicas (PROTOCOL, DIGEST, DIGEST-VALUE,
//! OBJECT, SLEEP, SET-ACTIVE-EXPIRE, QUICKLIST-PACKED-THRESHOLD,
//! CHANGE-REPL-ID, STRINGMATCH-TEST, ERROR, HELP), each replying as Redis
//! 7.0 does.

use std::time::Duration;

use crate::cmd::args::{self, is};
use crate::cmd::Ctx;
use crate::db::{shard_of, SHARDS};
use crate::digest;
use crate::error::{CmdError, CmdResult};
use crate::util::hash::hash_key;
use crate::value::Value;

/// Redis's help lines for the subcommands soquete has, in Redis's order.
const DEBUG_HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "HELP",
    "    Prints this help.",
];

/// DEBUG subcommand [arg ...]
pub fn debug(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let sub = args::lower(a[1]);
    match (sub.as_str(), a.len()) {
        ("help", 2) => c.out.help(DEBUG_HELP),
        ("sleep", 3) => {
            // Redis: strtod, no error; zero, negative or unparsable do not sleep.
            let secs = strtod_prefix(a[2]);
            if let Ok(d) = Duration::try_from_secs_f64(secs) {
                std::thread::sleep(d);
            }
            c.out.ok();
        }
        ("set-active-expire", 3) => {
            c.shared.set_active_expire(atoi(a[2]) != 0);
            c.out.ok();
        }
        ("quicklist-packed-threshold", 3) => {
            // Redis's memtoull: digits and a unit; "" is 0, which restores
            // the default.
            let size = std::str::from_utf8(a[2])
                .ok()
                .and_then(crate::config::params::parse_memory);
            if !size.is_some_and(crate::types::list::set_packed_threshold) {
                return Err(CmdError::msg(
                    "ERR argument must be a memory value bigger than 1 and smaller than 4gb",
                ));
            }
            c.out.ok();
        }
        ("object", 3) => debug_object(c, a[2])?,
        ("reload", _) => debug_reload(c, a)?,
        ("loadaof", 2) => debug_loadaof(c)?,
        ("digest", 2) => {
            let d = dataset_digest(c);
            c.out.simple(&digest::hex(&d));
        }
        ("digest-value", _) => {
            // DEBUG has no key positions: each key's shard is locked for
            // its own look-up (or found held, inside EXEC).
            let (db, now) = (c.ks.db, c.ks.now);
            c.out.array(a.len() - 2);
            for key in &a[2..] {
                let hash = hash_key(key);
                let mut shard = c.ks.shard_at(db, shard_of(hash));
                let d = match shard.get_mut(hash, key, now) {
                    Some(e) => digest::value_digest(&e.value, e.expire_at() != 0),
                    None => [0; 20],
                };
                drop(shard);
                c.out.simple(&digest::hex(&d));
            }
        }
        ("protocol", 3) => protocol(c, a[2])?,
        ("change-repl-id", 2) => {
            crate::log::log(
                crate::config::LogLevel::Warning,
                "Changing replication IDs after receiving DEBUG change-repl-id",
            );
            c.shared.change_repl_id();
            c.out.ok();
        }
        ("stringmatch-test", 2) => {
            stringmatch_fuzz();
            c.out.simple("Apparently Redis did not crash: test passed");
        }
        ("error", 3) => {
            // The argument is the whole error line, code included.
            return Err(CmdError::Line(a[2].to_vec()));
        }
        _ => {
            return Err(CmdError::quoting(
                "ERR unknown subcommand or wrong number of arguments for '",
                a[1],
                "'. Try DEBUG HELP.",
            ))
        }
    }
    Ok(())
}

/// DEBUG PROTOCOL <type>: one test value of each RESP type, degraded in
/// RESP2 exactly as Redis degrades it.
// 3.141 is Redis's test value, not an approximation of pi.
#[allow(clippy::approx_constant)]
fn protocol(c: &mut Ctx<'_>, name: &[u8]) -> CmdResult {
    let out = &mut *c.out;
    if is(name, "string") {
        out.bulk(b"Hello World");
    } else if is(name, "integer") {
        out.int(12345);
    } else if is(name, "double") {
        out.double(3.141);
    } else if is(name, "bignum") {
        out.big_number(b"1234567999999999999999999999999999999");
    } else if is(name, "null") {
        out.null();
    } else if is(name, "array") {
        out.array(3);
        (0..3).for_each(|j| out.int(j));
    } else if is(name, "set") {
        out.set(3);
        (0..3).for_each(|j| out.int(j));
    } else if is(name, "map") {
        out.map(3);
        for j in 0..3 {
            out.int(j);
            out.boolean(j == 1);
        }
    } else if is(name, "attrib") {
        if out.resp3 {
            out.attribute(1);
            out.bulk(b"key-popularity");
            out.array(2);
            out.bulk(b"key:123");
            out.int(90);
        }
        out.bulk(b"Some real reply following the attribute");
    } else if is(name, "push") {
        if !out.resp3 {
            return Err(CmdError::msg("ERR RESP2 is not supported by this command"));
        }
        out.push(2);
        out.bulk(b"server-cpu-usage");
        out.int(42);
        out.bulk(b"Some real reply following the push reply");
    } else if is(name, "true") {
        out.boolean(true);
    } else if is(name, "false") {
        out.boolean(false);
    } else if is(name, "verbatim") {
        out.verbatim(b"This is a verbatim\nstring");
    } else {
        return Err(CmdError::msg(
            "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
        ));
    }
    Ok(())
}

/// The digest of every database, as Redis's `computeDatasetDigest`. Shards
/// are visited one at a time (all of them are held inside EXEC).
fn dataset_digest(c: &mut Ctx<'_>) -> digest::Digest {
    let mut dataset = [0u8; 20];
    let now = c.ks.now;
    for db in 0..c.ks.keyspace().databases() {
        let mut acc = [0u8; 20];
        let mut keys = 0usize;
        for s in 0..SHARDS {
            let shard = c.ks.shard_at(db, s);
            for node in shard.iter() {
                let e = &node.value;
                // A key past its deadline is gone for every reader; Redis
                // may still hold it until it is touched, but reports it the
                // same way only until then.
                if e.expire_at() != 0 && e.expire_at() <= now {
                    continue;
                }
                keys += 1;
                let kd = digest::key_digest(&node.key, &e.value, e.expire_at() != 0);
                digest::xor(&mut acc, &kd);
            }
        }
        if keys > 0 {
            digest::mix_db(&mut dataset, db);
            dataset.iter_mut().zip(acc).for_each(|(a, b)| *a ^= b);
        }
    }
    dataset
}

/// Redis's refcount of shared small integers (`OBJ_SHARED_REFCOUNT`).
const SHARED_REFCOUNT: u32 = i32::MAX as u32;
/// Integers below this are shared objects in Redis (`OBJ_SHARED_INTEGERS`).
const SHARED_INTEGERS: i64 = 10000;

/// DEBUG OBJECT key: Redis's fields. The address is the value's own;
/// `serializedlength` is what Redis's RDB writer would take without LZF
/// compression (see [`serialized_len`]).
/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: saves the snapshot, empties
/// the keyspace and loads the file back, every loop waiting.
fn debug_reload(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (mut merge, mut flush, mut save) = (false, true, true);
    for opt in &a[2..] {
        if args::is(opt, "MERGE") {
            merge = true;
        } else if args::is(opt, "NOFLUSH") {
            flush = false;
        } else if args::is(opt, "NOSAVE") {
            save = false;
        } else {
            return Err(CmdError::msg(
                "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
            ));
        }
    }
    let path = crate::persist::rdb_path(c.shared);
    let r = crate::persist::snapshot::with_all_shards(c.shared, &mut c.ks, |shared, ks| {
        if save && crate::persist::snapshot::save(shared, ks).is_err() {
            return Err(CmdError::msg("ERR"));
        }
        crate::persist::load::reload(shared, ks, &path, flush, merge).map_err(|e| {
            crate::warning!("Error loading the RDB dump: {e}");
            CmdError::msg("ERR Error trying to load the RDB dump, check server logs.")
        })
    });
    r?;
    crate::warning!("DB reloaded by DEBUG RELOAD");
    c.out.ok();
    Ok(())
}

/// DEBUG LOADAOF: writes out the append-only file, empties the keyspace
/// and replays the log. Other clients are not held back meanwhile (Redis,
/// single-threaded, serves none); the replay runs outside any lock, so not
/// inside a transaction.
fn debug_loadaof(c: &mut Ctx<'_>) -> CmdResult {
    if c.ks.holds_all() {
        return Err(CmdError::msg(
            "ERR DEBUG LOADAOF is not supported inside a transaction",
        ));
    }
    let Some(shared) = c.shared.arc() else {
        return Err(CmdError::msg("ERR DEBUG LOADAOF needs a running server"));
    };
    let aof = &c.shared.persist.aof;
    if aof.on() {
        aof.flush_all(true);
    }
    {
        let mut all = c.shared.keyspace.lock_all(0, c.ks.now);
        // Redis's emptyData: the log loads the functions again.
        c.shared.functions.flush();
        crate::tracking::note_flush();
        for db in 0..c.shared.keyspace.databases() {
            for s in 0..crate::db::SHARDS {
                drop(all.shard_at(db, s).take_all());
            }
        }
    }
    let loaded = match crate::persist::aof::read_manifest(&shared) {
        Ok(Some((dir, m))) => crate::persist::aof::replay::load(&shared, &dir, &m),
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = loaded {
        crate::warning!("Error loading the AOF by DEBUG LOADAOF: {e}");
        return Err(CmdError::msg(
            "ERR Error loading the AOF, check server logs.",
        ));
    }
    crate::notice!("Append Only File loaded by DEBUG LOADAOF");
    c.out.ok();
    Ok(())
}

fn debug_object(c: &mut Ctx<'_>, key: &[u8]) -> CmdResult {
    let now = c.ks.now;
    let fill = c
        .shared
        .hot
        .list_max_listpack_size
        .load(std::sync::atomic::Ordering::Relaxed);
    let compress = c
        .shared
        .config()
        .int_option("list-compress-depth")
        .unwrap_or(0);
    let Some(e) = c.ks.peek(key) else {
        return Err(CmdError::NoSuchKey);
    };
    let shared_int = matches!(e.value, Value::Int(n) if (0..SHARED_INTEGERS).contains(&n));
    let refcount = if shared_int { SHARED_REFCOUNT } else { 1 };
    let mut text = format!(
        "Value at:{:p} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
        &e.value as *const Value,
        refcount,
        e.value.encoding(),
        serialized_len(&e.value),
        ((now / 1000) - e.idle_seconds(now)) & ((1 << 24) - 1),
        e.idle_seconds(now)
    );
    if let Value::List(l) = &e.value {
        let nodes = l.chunk_count();
        let avg = if nodes == 0 {
            0.0
        } else {
            l.len() as f64 / nodes as f64
        };
        text.push_str(&format!(
            " ql_nodes:{nodes} ql_avg_node:{avg:.2} ql_listpack_max:{fill} ql_compressed:{} ql_uncompressed_size:{}",
            u8::from(compress != 0),
            l.listpack_sizes().sum::<usize>()
        ));
    }
    c.out.simple(&text);
    Ok(())
}

/// The length of an RDB length prefix for `n`.
fn rdb_len_len(n: usize) -> usize {
    match n {
        0..=63 => 1,
        64..=16383 => 2,
        _ if n as u64 <= u32::MAX as u64 => 5,
        _ => 9,
    }
}

/// An RDB string as Redis writes it uncompressed: integers that fit 32 bits
/// in their compact forms, anything else as length and bytes.
fn rdb_string_len(s: &[u8]) -> usize {
    if s.len() <= 11 {
        if let Some(n) = crate::util::num::parse_i64(s) {
            if let Some(l) = rdb_int_len(n) {
                return l;
            }
        }
    }
    rdb_len_len(s.len()) + s.len()
}

fn rdb_int_len(n: i64) -> Option<usize> {
    if i8::try_from(n).is_ok() {
        Some(2)
    } else if i16::try_from(n).is_ok() {
        Some(3)
    } else if i32::try_from(n).is_ok() {
        Some(5)
    } else {
        None
    }
}

/// An estimate of Redis's `rdbSavedObjectLen`: exact for strings and
/// integers that Redis would not LZF-compress (20 bytes or less); for
/// containers, their elements as RDB strings.
fn serialized_len(v: &Value) -> usize {
    let mut ints = itoa::Buffer::new();
    match v {
        Value::Int(n) => rdb_int_len(*n).unwrap_or_else(|| {
            let t = ints.format(*n);
            rdb_len_len(t.len()) + t.len()
        }),
        Value::Str(s) | Value::Raw(s) => rdb_string_len(s),
        Value::List(l) => {
            // A quicklist: node count, then per node its container kind
            // and its listpack as a string.
            rdb_len_len(l.chunk_count())
                + l.listpack_sizes()
                    .map(|n| 1 + rdb_len_len(n) + n)
                    .sum::<usize>()
        }
        Value::Set(s) => {
            rdb_len_len(s.len())
                + s.iter()
                    .map(|m| match m {
                        crate::types::set::Member::Int(n) => {
                            rdb_string_len(ints.format(n).as_bytes())
                        }
                        crate::types::set::Member::Str(b) => rdb_string_len(b),
                    })
                    .sum::<usize>()
        }
        Value::ZSet(z) => {
            rdb_len_len(z.len()) + z.iter().map(|(m, _)| rdb_string_len(m) + 8).sum::<usize>()
        }
        Value::Hash(h) => {
            rdb_len_len(h.len())
                + h.iter()
                    .map(|(f, v)| rdb_string_len(f) + rdb_string_len(v))
                    .sum::<usize>()
        }
        Value::Stream(_) => {
            let mut body = Vec::new();
            crate::rdb::value::encode_body(&mut body, v, true);
            body.len()
        }
    }
}

/// C's `atoi`: optional blanks and sign, then digits up to the first other
/// byte; 0 when there are none (DEBUG SET-ACTIVE-EXPIRE parses this way).
fn atoi(a: &[u8]) -> i64 {
    let s = a.trim_ascii_start();
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i64, |n, d| {
            n.wrapping_mul(10).wrapping_add((d - b'0') as i64)
        });
    if neg {
        n.wrapping_neg()
    } else {
        n
    }
}

/// C's `strtod` on the longest prefix that parses (DEBUG SLEEP's reading):
/// `"1.5x"` is 1.5, `"x"` is 0.
fn strtod_prefix(a: &[u8]) -> f64 {
    let s = a.trim_ascii_start();
    let mut end = s
        .iter()
        .position(|b| !(b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E')))
        .unwrap_or(s.len());
    while end > 0 {
        if let Some(d) = std::str::from_utf8(&s[..end])
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
        {
            return d;
        }
        end -= 1;
    }
    0.0
}

/// DEBUG STRINGMATCH-TEST: random patterns against random strings through
/// the glob matcher, which must neither panic nor run away.
fn stringmatch_fuzz() {
    use crate::util::rand::rand_below;
    const ALPHABET: &[u8] = b"*?[]^-\\abc";
    let mut pattern = Vec::new();
    let mut string = Vec::new();
    for _ in 0..100_000 {
        pattern.clear();
        string.clear();
        for _ in 0..rand_below(12) {
            pattern.push(ALPHABET[rand_below(ALPHABET.len() as u64) as usize]);
        }
        for _ in 0..rand_below(12) {
            string.push(ALPHABET[rand_below(ALPHABET.len() as u64) as usize]);
        }
        let _ = crate::util::glob::glob_match(&pattern, &string, rand_below(2) == 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_reads_a_prefix_like_c() {
        assert_eq!(atoi(b"1"), 1);
        assert_eq!(atoi(b"  -12abc"), -12);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b""), 0);
    }

    #[test]
    fn strtod_prefix_reads_the_longest_number() {
        assert_eq!(strtod_prefix(b"0"), 0.0);
        assert_eq!(strtod_prefix(b"1.5x"), 1.5);
        assert_eq!(strtod_prefix(b"-2"), -2.0);
        assert_eq!(strtod_prefix(b"x"), 0.0);
        assert_eq!(strtod_prefix(b"1e"), 1.0);
    }

    #[test]
    fn serialized_len_of_strings_matches_redis() {
        // SET k <v>; DEBUG OBJECT k on redis-server 7.0.15.
        assert_eq!(serialized_len(&Value::Int(1)), 2);
        assert_eq!(serialized_len(&Value::Int(1000)), 3);
        assert_eq!(serialized_len(&Value::Int(100000)), 5);
        assert_eq!(serialized_len(&Value::Str(b"hello".to_vec())), 6);
    }
}
