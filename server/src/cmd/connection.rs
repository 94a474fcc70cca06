//! Connection commands: PING, ECHO, QUIT, AUTH, HELLO, SELECT, RESET, CLIENT.

use super::flags::*;
use super::{Keys, Spec};
use std::sync::atomic::Ordering;

use super::args::{self, is};
use super::blocking::send_reply;
use super::Ctx;
use crate::client::Close;
use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::shared::unix_ms;
use crate::util::num::parse_i64;

/// The Redis version whose behaviour we match, as HELLO and INFO report it.
pub use crate::REDIS_VERSION;

/// PING [message]
pub fn ping(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() > 2 {
        return Err(CmdError::arity("ping"));
    }
    if !c.out.resp3 && c.client.subs.active() {
        // Subscribed RESP2 clients get ["pong", message].
        c.out.array(2);
        c.out.bulk(b"pong");
        c.out.bulk(a.get(1).copied().unwrap_or_default());
        return Ok(());
    }
    match a.get(1) {
        None => c.out.simple("PONG"),
        Some(m) => c.out.bulk(m),
    }
    Ok(())
}

/// ECHO message
pub fn echo(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    c.out.bulk(a[1]);
    Ok(())
}

/// QUIT
pub fn quit(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.ok();
    c.client.close = Close::AfterReply;
    Ok(())
}

/// Checks a username/password pair against `requirepass` (the only user is
/// `default`). With no password set, `default` accepts any password.
fn check_password(c: &Ctx<'_>, user: &[u8], pass: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    match &c.shared.config().requirepass {
        None => true,
        Some(p) => constant_time_eq(p, pass),
    }
}

/// Compares without an early exit, so timing does not reveal a prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn wrongpass() -> CmdError {
    CmdError::msg("WRONGPASS invalid username-password pair or user is disabled.")
}

/// AUTH [username] password
pub fn auth(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let (user, pass): (&[u8], &[u8]) = match a {
        [_, p] => {
            if c.shared.config().requirepass.is_none() {
                return Err(CmdError::msg(
                    "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
                ));
            }
            (b"default", p)
        }
        [_, u, p] => (u, p),
        _ => return Err(CmdError::Syntax),
    };
    if !check_password(c, user, pass) {
        return Err(wrongpass());
    }
    c.client.authenticated = true;
    c.out.ok();
    Ok(())
}

/// Checks a client name as Redis does (printable, no spaces).
fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

fn set_name(c: &mut Ctx<'_>, name: &[u8]) -> CmdResult {
    if !valid_name(name) {
        return Err(CmdError::msg(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    *c.client.meta.name.lock().unwrap_or_else(|p| p.into_inner()) = name.to_vec();
    Ok(())
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
pub fn hello(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let mut ver = None;
    if a.len() >= 2 {
        let v = crate::util::num::parse_i64(a[1]).ok_or(CmdError::msg(
            "ERR Protocol version is not an integer or out of range",
        ))?;
        if !(2..=3).contains(&v) {
            return Err(CmdError::msg("NOPROTO unsupported protocol version"));
        }
        ver = Some(v as u8);
    }
    let mut auth: Option<(&[u8], &[u8])> = None;
    let mut name: Option<&[u8]> = None;
    let mut j = 2;
    while j < a.len() {
        let more = a.len() - 1 - j;
        if is(a[j], "AUTH") && more >= 2 {
            auth = Some((a[j + 1], a[j + 2]));
            j += 3;
        } else if is(a[j], "SETNAME") && more >= 1 {
            name = Some(a[j + 1]);
            j += 2;
        } else {
            return Err(CmdError::quoting(
                "ERR Syntax error in HELLO option '",
                a[j],
                "'",
            ));
        }
    }
    if let Some((u, p)) = auth {
        if !check_password(c, u, p) {
            return Err(wrongpass());
        }
        c.client.authenticated = true;
    }
    if !c.client.authenticated && c.shared.config().requirepass.is_some() {
        return Err(CmdError::msg(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        ));
    }
    if let Some(n) = name {
        set_name(c, n)?;
    }
    if let Some(v) = ver {
        c.out.resp3 = v == 3;
        c.client.meta.resp.store(v, Ordering::Relaxed);
    }
    let proto = if c.out.resp3 { 3 } else { 2 };
    c.out.map(7);
    c.out.bulk(b"server");
    c.out.bulk(b"redis");
    c.out.bulk(b"version");
    c.out.bulk(REDIS_VERSION.as_bytes());
    c.out.bulk(b"proto");
    c.out.int(proto);
    c.out.bulk(b"id");
    c.out.int(c.client.id() as i64);
    c.out.bulk(b"mode");
    c.out.bulk(b"standalone");
    c.out.bulk(b"role");
    c.out.bulk(b"master");
    c.out.bulk(b"modules");
    c.out.array(0);
    Ok(())
}

/// SELECT index
pub fn select(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let n = args::int32(a[1])?;
    if n < 0 || n as usize >= c.shared.keyspace.databases() {
        return Err(CmdError::msg("ERR DB index is out of range"));
    }
    c.client.select(n as usize);
    c.ks.db = n as usize;
    c.out.ok();
    Ok(())
}

/// RESET: back to a fresh connection's state.
pub fn reset(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    super::pubsub::unsubscribe_all(c.client, c.shared);
    super::transaction::unwatch_all(c.client, c.shared);
    c.client.multi = None;
    c.client.meta.multi.store(false, Ordering::Relaxed);
    c.client.select(0);
    c.ks.db = 0;
    c.out.resp3 = false;
    c.client.meta.resp.store(2, Ordering::Relaxed);
    c.client
        .meta
        .name
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clear();
    c.client.meta.no_evict.store(false, Ordering::Relaxed);
    c.client.meta.no_touch.store(false, Ordering::Relaxed);
    c.client.authenticated = c.shared.config().requirepass.is_none();
    c.out.simple("RESET");
    Ok(())
}

/// CLIENT ID
pub fn client_id(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.int(c.client.id() as i64);
    Ok(())
}

/// CLIENT SETNAME name
pub fn client_setname(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    set_name(c, a[2])?;
    c.out.ok();
    Ok(())
}

/// CLIENT GETNAME
pub fn client_getname(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let name = c.client.meta.name();
    if name.is_empty() {
        c.out.null();
    } else {
        c.out.bulk(&name);
    }
    Ok(())
}

/// CLIENT LIST [TYPE type] [ID id [id ...]]
pub fn client_list(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let mut ids: Option<Vec<u64>> = None;
    let mut only_none = false;
    if a.len() >= 4 && is(a[2], "TYPE") && a.len() == 4 {
        match args::lower(a[3]).as_str() {
            "normal" => {}
            "master" | "replica" | "slave" | "pubsub" => only_none = true,
            _ => return Err(CmdError::quoting("ERR Unknown client type '", a[3], "'")),
        }
    } else if a.len() >= 4 && is(a[2], "ID") {
        let mut v = Vec::new();
        for x in &a[3..] {
            match crate::util::num::parse_i64(x) {
                Some(n) if n > 0 => v.push(n as u64),
                _ => return Err(CmdError::msg("ERR Invalid client ID")),
            }
        }
        ids = Some(v);
    } else if a.len() != 2 {
        return Err(CmdError::Syntax);
    }
    let now = unix_ms();
    let clients = c.shared.client_list();
    let mut text = String::new();
    if !only_none {
        for m in clients {
            if ids.as_ref().is_some_and(|ids| !ids.contains(&m.id)) {
                continue;
            }
            text.push_str(&m.info_line(now, command_name));
            text.push('\n');
        }
    }
    c.out.verbatim(text.as_bytes());
    Ok(())
}

/// A client's last command as CLIENT LIST shows it (`get`, `client|list`).
fn command_name(id: u16) -> String {
    super::table::full_name_by_index(usize::from(id))
}

/// CLIENT INFO
pub fn client_info(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let mut line = c.client.meta.info_line(unix_ms(), command_name);
    line.push('\n');
    c.out.verbatim(line.as_bytes());
    Ok(())
}

/// CLIENT KILL ip:port | CLIENT KILL [ID id] [ADDR ip:port] [LADDR ip:port]
/// [TYPE type] [USER username] [SKIPME yes/no]
pub fn client_kill(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let clients = c.shared.client_list();
    let me = c.client.id();
    if a.len() == 3 {
        // Old form: one address, +OK or an error.
        let Some(m) = clients.iter().find(|m| m.addr.as_bytes() == a[2]) else {
            return Err(CmdError::msg("ERR No such client"));
        };
        kill(c, m.id, me);
        c.out.ok();
        return Ok(());
    }
    let (mut id, mut addr, mut laddr, mut user) = (None, None, None, None);
    let mut skipme = true;
    let mut type_ok = true;
    let mut j = 2;
    while j < a.len() {
        if j + 1 >= a.len() {
            return Err(CmdError::Syntax);
        }
        let v = a[j + 1];
        match args::lower(a[j]).as_str() {
            "id" => match crate::util::num::parse_i64(v) {
                Some(n) if n > 0 => id = Some(n as u64),
                _ => return Err(CmdError::msg("ERR client-id should be greater than 0")),
            },
            "addr" => addr = Some(v),
            "laddr" => laddr = Some(v),
            "user" => user = Some(v),
            "type" => match args::lower(v).as_str() {
                "normal" => {}
                "master" | "replica" | "slave" | "pubsub" => type_ok = false,
                _ => return Err(CmdError::quoting("ERR Unknown client type '", v, "'")),
            },
            "skipme" => {
                if is(v, "YES") {
                    skipme = true
                } else if is(v, "NO") {
                    skipme = false
                } else {
                    return Err(CmdError::Syntax);
                }
            }
            _ => return Err(CmdError::Syntax),
        }
        j += 2;
    }
    let mut killed = 0;
    for m in &clients {
        let hit = type_ok
            && id.is_none_or(|i| i == m.id)
            && addr.is_none_or(|x| x == m.addr.as_bytes())
            && laddr.is_none_or(|x| x == m.laddr.as_bytes())
            && user.is_none_or(|u| u == b"default")
            && !(skipme && m.id == me);
        if hit {
            kill(c, m.id, me);
            killed += 1;
        }
    }
    c.out.int(killed);
    Ok(())
}

fn kill(c: &mut Ctx<'_>, id: u64, me: u64) {
    if id == me {
        // Closing ourselves: after this reply, as Redis does.
        c.client.close = Close::AfterReply;
    } else {
        c.shared.kill_client(id);
    }
}

fn on_off(a: &[u8]) -> Result<bool, CmdError> {
    if is(a, "ON") {
        Ok(true)
    } else if is(a, "OFF") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// CLIENT NO-EVICT ON|OFF — soquete never evicts clients; the flag is kept
/// and shown by CLIENT LIST.
pub fn client_no_evict(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let on = on_off(a[2])?;
    c.client.meta.no_evict.store(on, Ordering::Relaxed);
    c.out.ok();
    Ok(())
}

/// CLIENT NO-TOUCH ON|OFF (Redis 7.2) — accepted and shown by CLIENT LIST.
pub fn client_no_touch(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let on = on_off(a[2])?;
    c.client.meta.no_touch.store(on, Ordering::Relaxed);
    c.out.ok();
    Ok(())
}

/// CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2; client libraries send
/// it on connect).
pub fn client_setinfo(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (attr, v) = (a[2], a[3]);
    let name = if is(attr, "LIB-NAME") {
        "lib-name"
    } else if is(attr, "LIB-VER") {
        "lib-ver"
    } else {
        return Err(CmdError::quoting("ERR Unrecognized option '", attr, "'"));
    };
    if !valid_name(v) {
        return Err(CmdError::msg(format!(
            "ERR {name} cannot contain spaces, newlines or special characters."
        )));
    }
    let mut lib = c.client.meta.lib.lock().unwrap_or_else(|p| p.into_inner());
    if name == "lib-name" {
        lib.0 = v.to_vec();
    } else {
        lib.1 = v.to_vec();
    }
    drop(lib);
    c.out.ok();
    Ok(())
}

const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
    "HELP",
    "    Prints this help.",
];

/// CLIENT HELP
pub fn client_help(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.help(CLIENT_HELP);
    Ok(())
}

/// CLIENT UNBLOCK client-id [TIMEOUT | ERROR]
pub fn client_unblock(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() > 4 {
        return Err(CmdError::subcommand_syntax(a[0], a[1]));
    }
    let id = parse_i64(a[2]).ok_or(CmdError::NotInteger)?;
    let error = match a.get(3) {
        None => false,
        Some(r) if is(r, "TIMEOUT") => false,
        Some(r) if is(r, "ERROR") => true,
        Some(_) => {
            return Err(CmdError::msg(
                "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ))
        }
    };
    let Some(w) = u64::try_from(id)
        .ok()
        .and_then(|id| c.shared.blocking.claim(id))
    else {
        c.out.int(0);
        return Ok(());
    };
    let mut out = Reply {
        buf: Vec::new(),
        resp3: w.resp3,
    };
    if error {
        out.error(
            &CmdError::msg("UNBLOCKED client unblocked via CLIENT UNBLOCK"),
            c.stats,
        );
    } else {
        w.op.timeout_reply(&mut out);
    }
    send_reply(c.shared, &w, out.buf);
    c.out.int(1);
    Ok(())
}

// ---- command table rows ----

static CLIENT_SUBCOMMANDS: &[Spec] = &[
    Spec {
        name: "unblock",
        arity: -3,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_unblock,
        subcommands: &[],
    },
    Spec {
        name: "id",
        arity: 2,
        flags: NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_id,
        subcommands: &[],
    },
    Spec {
        name: "setname",
        arity: 3,
        flags: NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_setname,
        subcommands: &[],
    },
    Spec {
        name: "getname",
        arity: 2,
        flags: NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_getname,
        subcommands: &[],
    },
    Spec {
        name: "list",
        arity: -2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_list,
        subcommands: &[],
    },
    Spec {
        name: "info",
        arity: 2,
        flags: NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_info,
        subcommands: &[],
    },
    Spec {
        name: "kill",
        arity: -3,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_kill,
        subcommands: &[],
    },
    Spec {
        name: "no-evict",
        arity: 3,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_no_evict,
        subcommands: &[],
    },
    Spec {
        name: "no-touch",
        arity: 3,
        flags: NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_no_touch,
        subcommands: &[],
    },
    Spec {
        name: "setinfo",
        arity: 4,
        flags: NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_setinfo,
        subcommands: &[],
    },
    Spec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_help,
        subcommands: &[],
    },
];

/// This group's rows of the command table.
pub static COMMANDS: &[Spec] = &[
    Spec {
        name: "ping",
        arity: -1,
        flags: FAST,
        keys: Keys::None,
        group: "connection",
        handler: ping,
        subcommands: &[],
    },
    Spec {
        name: "echo",
        arity: 2,
        flags: LOADING | STALE | FAST,
        keys: Keys::None,
        group: "connection",
        handler: echo,
        subcommands: &[],
    },
    Spec {
        name: "quit",
        arity: -1,
        flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        keys: Keys::None,
        group: "connection",
        handler: quit,
        subcommands: &[],
    },
    Spec {
        name: "auth",
        arity: -2,
        flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        keys: Keys::None,
        group: "connection",
        handler: auth,
        subcommands: &[],
    },
    Spec {
        name: "hello",
        arity: -1,
        flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        keys: Keys::None,
        group: "connection",
        handler: hello,
        subcommands: &[],
    },
    Spec {
        name: "select",
        arity: 2,
        flags: LOADING | STALE | FAST,
        keys: Keys::None,
        group: "connection",
        handler: select,
        subcommands: &[],
    },
    Spec {
        name: "reset",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        keys: Keys::None,
        group: "connection",
        handler: reset,
        subcommands: &[],
    },
    Spec {
        name: "client",
        arity: -2,
        flags: 0,
        keys: Keys::None,
        group: "connection",
        handler: super::table::container,
        subcommands: CLIENT_SUBCOMMANDS,
    },
];
