//! MIGRATE, as Redis 7.0's `migrateCommand` (`cluster.c`): DUMP the keys,
//! RESTORE them on another server over a cached connection, and delete
//! them here once the target acknowledged each (unless COPY).
//!
//! Like Redis, MIGRATE talks to the target synchronously: the event loop
//! running it waits (at most the timeout per connect, write and read) with
//! the shards of the migrated keys locked, so the keys cannot change while
//! they travel. Other loops carry on, except those that need one of those
//! shards, which wait for the lock. The connections live in
//! [`crate::migrate`].

use super::args::{self, is};
use super::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::migrate::{Failure, Target};
use crate::notify::GENERIC;

/// MIGRATE's options, as `migrateCommand` parses them.
struct Options<'a> {
    copy: bool,
    replace: bool,
    username: Option<&'a [u8]>,
    password: Option<&'a [u8]>,
    /// Index of the first key, and how many (KEYS: all the arguments after
    /// it; otherwise the key argument).
    first_key: usize,
    num_keys: usize,
}

fn parse<'a>(c: &mut Ctx<'_>, a: &[&'a [u8]]) -> Result<Options<'a>, CmdError> {
    let mut o = Options {
        copy: false,
        replace: false,
        username: None,
        password: None,
        first_key: 3,
        num_keys: 1,
    };
    let mut j = 6;
    while j < a.len() {
        let more = a.len() - 1 - j;
        if is(a[j], "COPY") {
            o.copy = true;
        } else if is(a[j], "REPLACE") {
            o.replace = true;
        } else if is(a[j], "AUTH") {
            if more == 0 {
                return Err(CmdError::Syntax);
            }
            j += 1;
            o.password = Some(a[j]);
            c.client.redact(j);
        } else if is(a[j], "AUTH2") {
            if more < 2 {
                return Err(CmdError::Syntax);
            }
            o.username = Some(a[j + 1]);
            o.password = Some(a[j + 2]);
            c.client.redact(j + 1);
            c.client.redact(j + 2);
            j += 2;
        } else if is(a[j], "KEYS") {
            if !a[3].is_empty() {
                return Err(CmdError::msg(
                    "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
                ));
            }
            o.first_key = j + 1;
            o.num_keys = a.len() - j - 1;
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// Where MIGRATE's keys are (Redis's `migrateGetKeys`): `(first, count)`.
/// The key argument, or every argument after KEYS when the key argument
/// is empty; none when KEYS follows a non-empty key argument (the command
/// then fails). AUTH and AUTH2 skip their arguments.
pub fn key_range(a: &[&[u8]]) -> (usize, usize) {
    let mut i = 6;
    while i < a.len() {
        if is(a[i], "KEYS") {
            if !a[3].is_empty() {
                return (3, 0);
            }
            return (i + 1, a.len() - i - 1);
        }
        if is(a[i], "AUTH") {
            i += 1;
        } else if is(a[i], "AUTH2") {
            i += 2;
        }
        i += 1;
    }
    (3, 1)
}

/// The keys MIGRATE locks: those of [`key_range`].
pub fn migrate_keys<'x>(a: &[&'x [u8]], db: usize, out: &mut Vec<(usize, &'x [u8])>) {
    let (first, n) = key_range(a);
    out.extend(a.iter().skip(first).take(n).map(|k| (db, *k)));
}

/// Appends `*n\r\n`.
fn count(buf: &mut Vec<u8>, n: usize) {
    buf.push(b'*');
    buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    buf.extend_from_slice(b"\r\n");
}

/// Appends a bulk string.
fn bulk(buf: &mut Vec<u8>, s: &[u8]) {
    buf.push(b'$');
    buf.extend_from_slice(itoa::Buffer::new().format(s.len()).as_bytes());
    buf.extend_from_slice(b"\r\n");
    buf.extend_from_slice(s);
    buf.extend_from_slice(b"\r\n");
}

/// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
/// [AUTH password | AUTH2 username password] [KEYS key [key ...]]
///
/// # Replies
///
/// `+OK` when every key sent was restored; `+NOKEY` when none of the keys
/// exists; the target's first error as `-ERR Target instance replied with
/// error: ...` (keys it acknowledged before are deleted all the same);
/// `-IOERR error or timeout connecting to the client` when the target
/// cannot be reached, `-IOERR error or timeout writing/reading to target
/// instance` when the exchange fails (after one retry on a fresh
/// connection where nothing was acknowledged and the failure was not a
/// timeout).
pub fn migrate(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    // MIGRATE itself is never logged: only the DELs of what moved.
    c.prevent_propagation();
    let o = parse(c, a)?;
    let mut timeout = args::int(a[5])?;
    let dbid = args::int(a[4])?;
    if timeout <= 0 {
        timeout = 1000;
    }
    let timeout = timeout as u64;
    let mut keys: Vec<&[u8]> = Vec::with_capacity(o.num_keys);
    for &k in &a[o.first_key..o.first_key + o.num_keys] {
        if super::lookup_read(&mut c.ks, c.stats, k).is_some() {
            keys.push(k);
        }
    }
    if keys.is_empty() {
        c.out.simple("NOKEY");
        return Ok(());
    }
    let compress = c.shared.config().get_by_name("rdbcompression").as_deref() == Some("yes");
    let (host, port_arg) = (a[1], a[2]);
    // Redis passes atoi(port) to getaddrinfo, whose port is 16 bits.
    let port = super::ks::atoi(port_arg) as u16;
    let name = crate::migrate::name(host, port_arg);
    let shared = c.shared;
    let sockets = &shared.migrate;
    let mut may_retry = true;
    loop {
        let now_secs = crate::shared::unix_ms() / 1000;
        let mut target = match sockets.take(&name, now_secs) {
            Some(t) => t,
            None => match Target::connect(host, port, timeout) {
                Some(t) => t,
                None => {
                    return Err(CmdError::msg(
                        "IOERR error or timeout connecting to the client",
                    ))
                }
            },
        };
        let mut cmd = Vec::new();
        if let Some(password) = o.password {
            count(&mut cmd, if o.username.is_some() { 3 } else { 2 });
            bulk(&mut cmd, b"AUTH");
            if let Some(user) = o.username {
                bulk(&mut cmd, user);
            }
            bulk(&mut cmd, password);
        }
        let select = target.last_dbid != dbid;
        if select {
            count(&mut cmd, 2);
            bulk(&mut cmd, b"SELECT");
            bulk(&mut cmd, itoa::Buffer::new().format(dbid).as_bytes());
        }
        // Keys still live now (serializing takes time): their TTLs are
        // relative to this moment, as Redis's mstime().
        let mut sent: Vec<&[u8]> = Vec::with_capacity(keys.len());
        for &k in &keys {
            let now = crate::shared::unix_ms() as i64;
            let Some(e) = c.ks.peek(k) else { continue };
            let mut ttl = 0i64;
            if e.expire_at() != 0 {
                ttl = e.expire_at() as i64 - now;
                if ttl < 0 {
                    continue;
                }
                ttl = ttl.max(1);
            }
            let payload = crate::rdb::make_payload(crate::rdb::value::encode(&e.value, compress));
            count(&mut cmd, if o.replace { 5 } else { 4 });
            bulk(&mut cmd, b"RESTORE");
            bulk(&mut cmd, k);
            bulk(&mut cmd, itoa::Buffer::new().format(ttl).as_bytes());
            bulk(&mut cmd, &payload);
            if o.replace {
                bulk(&mut cmd, b"REPLACE");
            }
            sent.push(k);
        }
        // What failed, and whether that was a write.
        let (f, write_error): (Failure, bool) = 'exchange: {
            if let Err(f) = target.write_all(&cmd, timeout) {
                break 'exchange (f, true);
            }
            let mut auth_reply = None;
            if o.password.is_some() {
                match target.read_line(timeout) {
                    Ok(Some(l)) => auth_reply = Some(l),
                    Ok(None) => break 'exchange (Failure::Broken, false),
                    Err(f) => break 'exchange (f, false),
                }
            }
            let mut select_reply = None;
            if select {
                match target.read_line(timeout) {
                    Ok(Some(l)) => select_reply = Some(l),
                    Ok(None) => break 'exchange (Failure::Broken, false),
                    Err(f) => break 'exchange (f, false),
                }
            }
            let mut error_from_target = false;
            let mut socket_error = None;
            for (j, &k) in sent.iter().enumerate() {
                let line = match target.read_line(timeout) {
                    Ok(Some(l)) => l,
                    Ok(None) => {
                        socket_error = Some((Failure::Broken, j));
                        break;
                    }
                    Err(f) => {
                        socket_error = Some((f, j));
                        break;
                    }
                };
                let failed =
                    |l: &Option<Vec<u8>>| l.as_ref().is_some_and(|l| l.first() == Some(&b'-'));
                if failed(&auth_reply) || failed(&select_reply) || line.first() == Some(&b'-') {
                    if !error_from_target {
                        target.last_dbid = -1;
                        let text = if failed(&auth_reply) {
                            auth_reply.as_deref().unwrap_or_default()
                        } else if failed(&select_reply) {
                            select_reply.as_deref().unwrap_or_default()
                        } else {
                            &line
                        };
                        error_from_target = true;
                        let e = CmdError::quoting(
                            "ERR Target instance replied with error: ",
                            &text[1..],
                            "",
                        );
                        c.out.error(&e, c.stats);
                    }
                } else if !o.copy {
                    c.ks.remove(k);
                    c.notify(GENERIC, "del", k);
                    // The keys that left are logged as their DELs.
                    let db = c.ks.db;
                    c.also_propagate(db, &[b"DEL", k]);
                }
            }
            if let Some((f, j)) = socket_error {
                if !error_from_target && j == 0 && may_retry && f != Failure::TimedOut {
                    break 'exchange (f, false);
                }
                // The connection is dropped (not put back).
                if error_from_target {
                    return Ok(());
                }
                may_retry = false;
                break 'exchange (f, false);
            }
            if !error_from_target {
                target.last_dbid = dbid;
                c.out.ok();
            }
            sockets.put(name, target, now_secs);
            return Ok(());
        };
        // Redis's socket_err: the connection is closed (dropped here).
        if f != Failure::TimedOut && may_retry {
            may_retry = false;
            continue;
        }
        return Err(CmdError::msg(if write_error {
            "IOERR error or timeout writing to target instance"
        } else {
            "IOERR error or timeout reading to target instance"
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<&[u8]> {
        s.split(' ')
            .map(|a| if a == "''" { &b""[..] } else { a.as_bytes() })
            .collect()
    }

    #[test]
    fn key_range_reads_like_migrate_get_keys() {
        assert_eq!(key_range(&argv("migrate h p k 0 5")), (3, 1));
        assert_eq!(key_range(&argv("migrate h p '' 0 5 copy keys a b")), (8, 2));
        assert_eq!(key_range(&argv("migrate h p k 0 5 keys a b")), (3, 0));
        assert_eq!(key_range(&argv("migrate h p k 0 5 auth keys a b")), (3, 1));
        assert_eq!(
            key_range(&argv("migrate h p '' 0 5 auth2 keys x keys a")),
            (10, 1)
        );
        assert_eq!(key_range(&argv("migrate h p '' 0 5 keys")), (7, 0));
    }
}
