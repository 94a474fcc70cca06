//! Reading the append-only log back: the base (an RDB snapshot, or
//! commands) and each incremental file replayed through the command path
//! by a client of its own, as Redis's fake client replays it; and writing
//! a base in command form (`aof-use-rdb-preamble no`).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use super::manifest::Manifest;
use crate::db::{Locked, SHARDS};
use crate::rdb::file::{load as load_rdb, LoadOptions};
use crate::rdb::value::Limits;
use crate::session::Session;
use crate::shared::{unix_ms, Shared};
use crate::types::list::Elem;
use crate::types::set::Member;
use crate::util::hash::hash_key;
use crate::value::Value;
use crate::{notice, warning};

/// Items per command when a container is written as commands (Redis's
/// `AOF_REWRITE_ITEMS_PER_CMD`).
const ITEMS_PER_CMD: usize = 64;

/// Writes the keyspace as commands: per database a SELECT, per key the
/// commands that build it (at most 64 items each) and its PEXPIREAT.
pub fn write_commands(
    ks: &mut Locked<'_>,
    functions: &[Vec<u8>],
    w: &mut impl Write,
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    // The libraries first, as Redis's `rewriteFunctions`.
    for code in functions {
        super::encode(&mut buf, &[b"FUNCTION".as_slice(), b"LOAD", code]);
    }
    for db in 0..ks.keyspace().databases() {
        let mut selected = false;
        for s in 0..SHARDS {
            let shard = ks.shard_at(db, s);
            for node in shard.iter() {
                if !selected {
                    let n = db.to_string();
                    super::encode(&mut buf, &[b"SELECT".as_slice(), n.as_bytes()]);
                    selected = true;
                }
                write_key(&mut buf, &node.key, &node.value.value);
                let at = node.value.expire_at();
                if at != 0 {
                    let t = at.to_string();
                    super::encode(
                        &mut buf,
                        &[b"PEXPIREAT".as_slice(), &node.key, t.as_bytes()],
                    );
                }
                if buf.len() > 1 << 16 {
                    w.write_all(&buf)?;
                    buf.clear();
                }
            }
        }
    }
    w.write_all(&buf)
}

fn write_key(buf: &mut Vec<u8>, key: &[u8], v: &Value) {
    let batched = |buf: &mut Vec<u8>, cmd: &[u8], items: Vec<Vec<u8>>, per: usize| {
        for chunk in items.chunks(ITEMS_PER_CMD * per) {
            let mut argv: Vec<&[u8]> = vec![cmd, key];
            argv.extend(chunk.iter().map(Vec::as_slice));
            super::encode(buf, &argv);
        }
    };
    match v {
        Value::Int(n) => {
            let t = n.to_string();
            super::encode(buf, &[b"SET".as_slice(), key, t.as_bytes()]);
        }
        Value::Str(s) | Value::Raw(s) => super::encode(buf, &[b"SET".as_slice(), key, s]),
        Value::List(l) => {
            let items = l
                .iter()
                .map(|e| match e {
                    Elem::Int(n) => n.to_string().into_bytes(),
                    Elem::Bytes(b) => b.to_vec(),
                })
                .collect();
            batched(buf, b"RPUSH", items, 1);
        }
        Value::Set(s) => {
            let items = s
                .iter()
                .map(|m| match m {
                    Member::Int(n) => n.to_string().into_bytes(),
                    Member::Str(b) => b.to_vec(),
                })
                .collect();
            batched(buf, b"SADD", items, 1);
        }
        Value::Hash(h) => {
            let items = h
                .iter()
                .flat_map(|(f, v)| [f.to_vec(), v.to_vec()])
                .collect();
            batched(buf, b"HMSET", items, 2);
        }
        Value::ZSet(z) => {
            let mut text = Vec::new();
            let items = z
                .iter()
                .flat_map(|(m, s)| {
                    text.clear();
                    crate::util::num::fmt_double(&mut text, s);
                    [text.clone(), m.to_vec()]
                })
                .collect();
            batched(buf, b"ZADD", items, 2);
        }
        Value::Stream(x) => write_stream(buf, key, x),
    }
}

/// A stream as Redis's `rewriteStreamObject` writes it: an XADD per
/// entry (or `XADD key MAXLEN 0 0-1 x y` for an empty stream), an XSETID
/// with the counters, then per group an XGROUP CREATE with its read
/// counter and, per consumer, an XCLAIM of each entry it has pending (or
/// an XGROUP CREATECONSUMER when it has none).
fn write_stream(buf: &mut Vec<u8>, key: &[u8], x: &crate::types::stream::Stream) {
    use crate::types::stream::StreamId;
    if x.is_empty() {
        super::encode(
            buf,
            &[b"XADD".as_slice(), key, b"MAXLEN", b"0", b"0-1", b"x", b"y"],
        );
    } else {
        for item in x.range(StreamId::MIN, StreamId::MAX, 0, false) {
            let id = item.id.to_bytes();
            let values: Vec<_> = item.fields.iter().map(|(_, v)| v.to_bytes()).collect();
            let mut argv: Vec<&[u8]> = vec![b"XADD", key, &id];
            for ((f, _), v) in item.fields.iter().zip(&values) {
                argv.push(f);
                argv.push(v);
            }
            super::encode(buf, &argv);
        }
    }
    let last = x.last_id.to_bytes();
    let added = x.entries_added.to_string();
    let maxdel = x.max_deleted.to_bytes();
    super::encode(
        buf,
        &[
            b"XSETID".as_slice(),
            key,
            &last,
            b"ENTRIESADDED",
            added.as_bytes(),
            b"MAXDELETEDID",
            &maxdel,
        ],
    );
    for (name, g) in &x.groups {
        let last = g.last_id.to_bytes();
        let read = g.entries_read.to_string();
        super::encode(
            buf,
            &[
                b"XGROUP".as_slice(),
                b"CREATE",
                key,
                name,
                &last,
                b"ENTRIESREAD",
                read.as_bytes(),
            ],
        );
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                super::encode(
                    buf,
                    &[b"XGROUP".as_slice(), b"CREATECONSUMER", key, name, cname],
                );
                continue;
            }
            for id in &c.pel {
                let Some(n) = g.pel.get(id) else { continue };
                let (id, time, count) = (
                    id.to_bytes(),
                    n.delivery_time.to_string(),
                    n.delivery_count.to_string(),
                );
                super::encode(
                    buf,
                    &[
                        b"XCLAIM".as_slice(),
                        key,
                        name,
                        cname,
                        b"0",
                        &id,
                        b"TIME",
                        time.as_bytes(),
                        b"RETRYCOUNT",
                        count.as_bytes(),
                        b"JUSTID",
                        b"FORCE",
                    ],
                );
            }
        }
    }
}

/// Where one command ends, if `buf` holds a whole one at its start:
/// `Ok(Some(len))`, `Ok(None)` when it is cut short, `Err` when the bytes
/// are not a command. `#` lines (annotations) count as commands of their
/// own.
fn command_len(buf: &[u8]) -> Result<Option<usize>, ()> {
    let line = |from: usize| -> Option<usize> {
        memchr::memchr(b'\n', &buf[from..]).map(|i| from + i + 1)
    };
    match buf.first() {
        None => return Ok(None),
        Some(b'#') => return Ok(line(0)),
        Some(b'*') => {}
        Some(_) => return Err(()),
    }
    let Some(end) = line(0) else {
        return Ok(None);
    };
    let count = parse_len(&buf[1..end]).ok_or(())?;
    let mut at = end;
    for _ in 0..count {
        if at >= buf.len() {
            return Ok(None);
        }
        if buf[at] != b'$' {
            return Err(());
        }
        let Some(end) = line(at) else {
            return Ok(None);
        };
        let len = parse_len(&buf[at + 1..end]).ok_or(())?;
        at = end + len + 2;
        if at > buf.len() {
            return Ok(None);
        }
    }
    Ok(Some(at))
}

fn parse_len(b: &[u8]) -> Option<usize> {
    let b = b.strip_suffix(b"\r\n")?;
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// How a file's replay ended.
enum Replayed {
    /// Every command ran.
    Whole,
    /// It ends in a cut-short command or an unfinished MULTI: the valid
    /// part ends at this offset.
    Truncated(u64),
}

/// Replays the commands of `file` from `offset`, through a client of its
/// own. Returns how it ended, or the error that makes the file unusable.
fn replay_commands(
    shared: &Arc<Shared>,
    mut file: File,
    offset: u64,
    name: &str,
) -> Result<Replayed, String> {
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| format!("Can't seek in the append only file {name}: {e}"))?;
    let mut session = Session::replayer(shared);
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut start = 0usize;
    let mut pos = offset;
    let mut eof = false;
    let mut before_multi: Option<u64> = None;
    loop {
        match command_len(&buf[start..]) {
            Ok(Some(n)) => {
                let cmd = &buf[start..start + n];
                if cmd[0] == b'*' {
                    let upper: Vec<u8> = command_name(cmd);
                    if upper == b"MULTI" {
                        before_multi = Some(pos);
                    } else if upper == b"EXEC" {
                        before_multi = None;
                    }
                    session.feed(cmd);
                }
                start += n;
                pos += n as u64;
            }
            Ok(None) if !eof => {
                buf.drain(..start);
                start = 0;
                let want = buf.len().max(1 << 20);
                let base = buf.len();
                buf.resize(base + want, 0);
                let got = file
                    .read(&mut buf[base..])
                    .map_err(|e| format!("Error reading the append only file {name}: {e}"))?;
                buf.truncate(base + got);
                eof = got == 0;
            }
            Ok(None) => {
                if let Some(at) = before_multi {
                    notice!("Revert incomplete MULTI/EXEC transaction in AOF file {name}");
                    return Ok(Replayed::Truncated(at));
                }
                return Ok(if start == buf.len() {
                    Replayed::Whole
                } else {
                    Replayed::Truncated(pos)
                });
            }
            Err(()) => {
                return Err(format!(
                    "Bad file format reading the append only file {name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"
                ))
            }
        }
    }
}

/// The upper-cased command name of a whole RESP command.
fn command_name(cmd: &[u8]) -> Vec<u8> {
    let mut at = memchr::memchr(b'\n', cmd).map_or(cmd.len(), |i| i + 1);
    if at >= cmd.len() {
        return Vec::new();
    }
    let Some(end) = memchr::memchr(b'\n', &cmd[at..]).map(|i| at + i + 1) else {
        return Vec::new();
    };
    let len = parse_len(&cmd[at + 1..end]).unwrap_or(0);
    at = end;
    cmd.get(at..at + len)
        .map(<[u8]>::to_ascii_uppercase)
        .unwrap_or_default()
}

/// Loads one file of the log: an RDB snapshot (then any commands after
/// it), or commands. `last`: the file being written, the one whose tail
/// may be cut short.
fn load_file(shared: &Arc<Shared>, dir: &Path, name: &str, last: bool) -> Result<(), String> {
    let path = dir.join(name);
    let mut file =
        File::open(&path).map_err(|e| format!("Can't open the append-only file {name}: {e}"))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return Ok(());
    }
    let mut magic = [0u8; 5];
    let is_rdb = file.read_exact(&mut magic).is_ok() && &magic == b"REDIS";
    file.seek(SeekFrom::Start(0))
        .map_err(|e| format!("Can't seek in the append only file {name}: {e}"))?;
    let mut offset = 0;
    if is_rdb {
        let opts = LoadOptions {
            limits: Limits::of(shared),
            now: unix_ms(),
            drop_expired: false,
            verify_checksum: shared.config().get_by_name("rdbchecksum").as_deref() != Some("no"),
            databases: shared.keyspace.databases(),
        };
        let ks = &shared.keyspace;
        let loaded = load_rdb(
            io::BufReader::new(&file),
            &opts,
            |db, key, value, at, access| {
                let h = hash_key(key);
                ks.db(db)
                    .lock(crate::db::shard_of(h))
                    .insert_loaded(h, key, value, at, access)
            },
        )
        .map_err(|e| format!("Error reading the RDB base file {name}, AOF loading aborted: {e}"))?;
        crate::persist::load::load_functions(shared, &loaded.functions, false).map_err(|e| {
            format!("Error reading the RDB base file {name}, AOF loading aborted: {e}")
        })?;
        offset = loaded.bytes;
        if offset >= len {
            return Ok(());
        }
    }
    match replay_commands(shared, file, offset, name)? {
        Replayed::Whole => Ok(()),
        Replayed::Truncated(at) => {
            let allowed =
                shared.config().get_by_name("aof-load-truncated").as_deref() != Some("no");
            if !(last && allowed) {
                return Err(format!(
                    "Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."
                ));
            }
            warning!("!!! Warning: short read while loading the AOF file {name}!!!");
            warning!("!!! Truncating the AOF {name} at offset {at} !!!");
            OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_len(at))
                .map_err(|e| format!("Error truncating the AOF file {name}: {e}"))?;
            warning!("AOF {name} loaded anyway because aof-load-truncated is enabled");
            Ok(())
        }
    }
}

/// Loads the whole log the manifest lists (Redis's `loadAppendOnlyFiles`).
pub fn load(shared: &Arc<Shared>, dir: &Path, m: &Manifest) -> Result<(), String> {
    let started = Instant::now();
    let names: Vec<&str> = m
        .base
        .iter()
        .chain(&m.incr)
        .map(|f| f.name.as_str())
        .collect();
    for (i, name) in names.iter().enumerate() {
        let last = i + 1 == names.len();
        load_file(shared, dir, name, last)?;
        let kind = if i == 0 && m.base.is_some() {
            "base"
        } else {
            "incr"
        };
        notice!(
            "DB loaded from {kind} file {name}: {:.3} seconds",
            started.elapsed().as_secs_f64()
        );
    }
    notice!(
        "DB loaded from append only file: {:.3} seconds",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_found_whole_cut_or_bad() {
        let cmd = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
        assert_eq!(command_len(cmd), Ok(Some(cmd.len())));
        for cut in 0..cmd.len() {
            assert_eq!(command_len(&cmd[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(command_len(b"#TS:123\r\n*1"), Ok(Some(9)));
        assert_eq!(command_len(b"GET k\r\n"), Err(()));
        assert_eq!(command_len(b"*1\r\nX3\r\n"), Err(()));
        assert_eq!(command_name(cmd), b"GET");
    }
}
