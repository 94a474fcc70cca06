//! Connection commands: PING, ECHO, QUIT, AUTH, HELLO, SELECT, RESET, CLIENT.

use super::cat;
use super::flags::*;
use super::{Keys, Spec};
use crate::acl::log::{Context, Reason};
use std::sync::atomic::Ordering;

use super::args::{self, is};
use super::blocking::send_reply;
use super::Ctx;
use crate::client::{ClientMeta, Close, ReplyMode};
use crate::error::{CmdError, CmdResult};
use crate::inbox::LoopMsg;
use crate::pause::PauseKind;
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

/// Authenticates the client as `user` if `pass` lets it in (the ACL
/// registry; `requirepass` is the default user's password). A failure is
/// logged in the ACL LOG under the command's name as sent (`argv[0]`).
fn authenticate(c: &mut Ctx<'_>, argv: &[&[u8]], user: &[u8], pass: &[u8]) -> CmdResult {
    if c.shared.acl.authenticate(user, pass).is_none() {
        let context = if c.client.multi.is_some() || c.client.in_exec {
            Context::Multi
        } else {
            Context::Toplevel
        };
        crate::cmd::dispatch::acl_log_entry(
            c.shared,
            c.client,
            argv,
            Reason::Auth,
            context,
            argv[0].to_vec(),
            Some(user.to_vec()),
        );
        return Err(wrongpass());
    }
    c.client.authenticated = true;
    c.client.meta.set_user(user);
    c.client.acl.reload();
    Ok(())
}

fn wrongpass() -> CmdError {
    CmdError::msg("WRONGPASS invalid username-password pair or user is disabled.")
}

/// AUTH [username] password
pub fn auth(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() > 3 {
        return Err(CmdError::Syntax);
    }
    // Hidden from SLOWLOG and MONITOR, as Redis hides them.
    for i in 1..a.len() {
        c.client.redact(i);
    }
    let (user, pass): (&[u8], &[u8]) = match a {
        [_, p] => {
            if c.shared.acl.default_nopass() {
                return Err(CmdError::msg(
                    "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
                ));
            }
            (b"default", p)
        }
        [_, u, p] => (u, p),
        _ => return Err(CmdError::Syntax),
    };
    authenticate(c, a, user, pass)?;
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
            c.client.redact(j + 1);
            c.client.redact(j + 2);
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
        authenticate(c, a, u, p)?;
    }
    if !c.client.authenticated && c.shared.acl.auth_required() {
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
    super::server::monitor::stop(c.client, c.shared);
    super::pubsub::unsubscribe_all(c.client, c.shared);
    super::transaction::unwatch_all(c.client, c.shared);
    if let Some(t) = c.client.tracking.take() {
        c.shared.tracking.disable(c.shared, c.client.id(), &t);
        c.client.meta.show_tracking(None);
    }
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
    c.client.authenticated = !c.shared.acl.auth_required();
    c.client.meta.set_user(b"default");
    c.client.acl.reload();
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

/// The client types of CLIENT LIST TYPE and CLIENT KILL TYPE, as Redis's
/// `getClientTypeByName`: soquete has no replicas or masters, so only
/// `normal` and `pubsub` clients exist.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    Pubsub,
    Master,
}

fn client_type(name: &[u8]) -> Result<ClientType, CmdError> {
    match args::lower(name).as_str() {
        "normal" => Ok(ClientType::Normal),
        "slave" | "replica" => Ok(ClientType::Replica),
        "pubsub" => Ok(ClientType::Pubsub),
        "master" => Ok(ClientType::Master),
        _ => Err(CmdError::quoting("ERR Unknown client type '", name, "'")),
    }
}

fn type_of(m: &ClientMeta) -> ClientType {
    if m.is_pubsub() {
        ClientType::Pubsub
    } else {
        ClientType::Normal
    }
}

/// The bytes of the arguments of the command running (CLIENT LIST's
/// `argv-mem` for the caller itself).
fn argv_mem(a: &[&[u8]]) -> usize {
    a.iter().map(|x| x.len()).sum()
}

/// Whether two prefixes would invalidate some same key (Redis's
/// `stringCheckPrefix`).
fn prefixes_overlap(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

fn overlap_error(p: &[u8], what: &str, q: &[u8]) -> CmdError {
    let mut line = b"ERR Prefix '".to_vec();
    line.extend_from_slice(p);
    line.extend_from_slice(b"' overlaps with ");
    line.extend_from_slice(what.as_bytes());
    line.extend_from_slice(b" '");
    line.extend_from_slice(q);
    line.extend_from_slice(b"'. Prefixes for a single client must not overlap.");
    CmdError::Line(line)
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX prefix ...] [BCAST]
/// [OPTIN] [OPTOUT] [NOLOOP]
pub fn client_tracking(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let mut redirect = 0i64;
    let (mut bcast, mut optin, mut optout, mut noloop) = (false, false, false, false);
    let mut prefixes: Vec<&[u8]> = Vec::new();
    let mut j = 3;
    while j < a.len() {
        let more = j + 1 < a.len();
        if is(a[j], "redirect") && more {
            j += 1;
            if redirect != 0 {
                return Err(CmdError::msg(
                    "ERR A client can only redirect to a single other client",
                ));
            }
            redirect = args::int(a[j])?;
            if u64::try_from(redirect)
                .ok()
                .and_then(|id| c.shared.client_meta(id))
                .is_none()
            {
                return Err(CmdError::msg(
                    "ERR The client ID you want redirect to does not exist",
                ));
            }
        } else if is(a[j], "bcast") {
            bcast = true;
        } else if is(a[j], "optin") {
            optin = true;
        } else if is(a[j], "optout") {
            optout = true;
        } else if is(a[j], "noloop") {
            noloop = true;
        } else if is(a[j], "prefix") && more {
            j += 1;
            prefixes.push(a[j]);
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    if is(a[2], "off") {
        if let Some(t) = c.client.tracking.take() {
            c.shared.tracking.disable(c.shared, c.client.id(), &t);
            c.client.meta.show_tracking(None);
        }
        c.out.ok();
        return Ok(());
    }
    if !is(a[2], "on") {
        return Err(CmdError::Syntax);
    }
    if !bcast && !prefixes.is_empty() {
        return Err(CmdError::msg(
            "ERR PREFIX option requires BCAST mode to be enabled",
        ));
    }
    let old = c.client.tracking.as_deref();
    if old.is_some_and(|t| t.bcast != bcast) {
        return Err(CmdError::msg("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."));
    }
    if bcast && (optin || optout) {
        return Err(CmdError::msg(
            "ERR OPTIN and OPTOUT are not compatible with BCAST",
        ));
    }
    if optin && optout {
        return Err(CmdError::msg(
            "ERR You can't specify both OPTIN mode and OPTOUT mode",
        ));
    }
    if old.is_some_and(|t| (optin && t.optout) || (optout && t.optin)) {
        return Err(CmdError::msg("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."));
    }
    let mut double_reply = None;
    if bcast {
        for (i, p) in prefixes.iter().enumerate() {
            if let Some(q) = old
                .into_iter()
                .flat_map(|t| t.prefixes.iter())
                .find(|q| prefixes_overlap(q, p))
            {
                return Err(overlap_error(p, "an existing prefix", q));
            }
            if let Some(q) = prefixes[i + 1..].iter().find(|q| prefixes_overlap(p, q)) {
                let e = overlap_error(p, "another provided prefix", q);
                if i == 0 {
                    return Err(e);
                }
                // Redis 7.0 replies the error and then goes on, enabling
                // tracking and replying OK too (its check returns the
                // index, taken as success when not 0).
                double_reply = Some(e);
                break;
            }
        }
    }
    let was_on = old.is_some();
    let mut t = c.client.tracking.take().unwrap_or_default();
    t.redirect = redirect as u64;
    t.bcast = bcast;
    t.optin = optin;
    t.optout = optout;
    t.noloop = noloop;
    t.broken = false;
    let mut added = std::collections::BTreeSet::new();
    if bcast {
        if prefixes.is_empty() {
            added.insert(Vec::new());
        }
        added.extend(prefixes.iter().map(|p| p.to_vec()));
    }
    let new = crate::tracking::ClientTracking {
        prefixes: added.clone(),
        ..(*t).clone()
    };
    c.shared
        .tracking
        .enable(c.shared, &c.client.meta, &new, was_on);
    t.prefixes.extend(added);
    c.client.meta.show_tracking(Some(&t));
    c.client.tracking = Some(t);
    if let Some(e) = double_reply {
        c.out.error(&e, c.stats);
    }
    c.out.ok();
    Ok(())
}

/// CLIENT CACHING YES|NO
pub fn client_caching(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let Some(t) = c.client.tracking.as_deref_mut() else {
        return Err(CmdError::msg("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"));
    };
    if is(a[2], "yes") {
        if !t.optin {
            return Err(CmdError::msg(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ));
        }
    } else if is(a[2], "no") {
        if !t.optout {
            return Err(CmdError::msg(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ));
        }
    } else {
        return Err(CmdError::Syntax);
    }
    t.caching = true;
    c.out.ok();
    Ok(())
}

/// CLIENT GETREDIR
pub fn client_getredir(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let r = c
        .client
        .tracking
        .as_deref()
        .map_or(-1, |t| t.redirect as i64);
    c.out.int(r);
    Ok(())
}

/// CLIENT TRACKINGINFO
pub fn client_trackinginfo(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let t = c.client.tracking.as_deref();
    let mut flags: Vec<&[u8]> = vec![if t.is_some() { b"on" } else { b"off" }];
    if let Some(t) = t {
        if t.bcast {
            flags.push(b"bcast");
        }
        if t.optin {
            flags.push(b"optin");
            if t.caching {
                flags.push(b"caching-yes");
            }
        }
        if t.optout {
            flags.push(b"optout");
            if t.caching {
                flags.push(b"caching-no");
            }
        }
        if t.noloop {
            flags.push(b"noloop");
        }
        if t.broken {
            flags.push(b"broken_redirect");
        }
    }
    c.out.map(3);
    c.out.bulk(b"flags");
    c.out.set(flags.len());
    for f in flags {
        c.out.bulk(f);
    }
    c.out.bulk(b"redirect");
    c.out.int(t.map_or(-1, |t| t.redirect as i64));
    c.out.bulk(b"prefixes");
    let prefixes = t.map(|t| &t.prefixes);
    c.out.array(prefixes.map_or(0, |p| p.len()));
    for p in prefixes.into_iter().flatten() {
        c.out.bulk(p);
    }
    Ok(())
}

/// CLIENT LIST [TYPE type] [ID id [id ...]]
pub fn client_list(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let now = unix_ms();
    let me = c.client.id();
    let line = |m: &ClientMeta, text: &mut String| {
        let mem = if m.id == me { argv_mem(a) } else { 0 };
        text.push_str(&m.info_line(now, mem, command_name));
        text.push('\n');
    };
    let mut text = String::new();
    if a.len() == 4 && is(a[2], "TYPE") {
        let t = client_type(a[3])?;
        for m in c.shared.client_list() {
            if type_of(&m) == t {
                line(&m, &mut text);
            }
        }
    } else if a.len() > 3 && is(a[2], "ID") {
        // Each id in the order given (repeats included); unknown ones
        // are skipped, a non-integer is an error.
        let mut ids = Vec::with_capacity(a.len() - 3);
        for x in &a[3..] {
            ids.push(parse_i64(x).ok_or(CmdError::msg("ERR Invalid client ID"))?);
        }
        let clients = c.shared.client_list();
        for id in ids {
            if let Some(m) = clients.iter().find(|m| m.id as i64 == id) {
                line(m, &mut text);
            }
        }
    } else if a.len() != 2 {
        return Err(CmdError::Syntax);
    } else {
        for m in c.shared.client_list() {
            line(&m, &mut text);
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
pub fn client_info(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let mut line = c
        .client
        .meta
        .info_line(unix_ms(), argv_mem(a), command_name);
    line.push('\n');
    c.out.verbatim(line.as_bytes());
    Ok(())
}

/// What CLIENT KILL's filters select; every filter given must match.
#[derive(Default)]
struct KillFilter<'a> {
    addr: Option<&'a [u8]>,
    laddr: Option<&'a [u8]>,
    kind: Option<ClientType>,
    id: Option<u64>,
    user: Option<&'a [u8]>,
    skipme: bool,
}

impl KillFilter<'_> {
    fn matches(&self, m: &ClientMeta, me: u64) -> bool {
        self.addr.is_none_or(|x| x == m.addr.as_bytes())
            && self.laddr.is_none_or(|x| x == m.laddr.as_bytes())
            && self.kind.is_none_or(|t| t == type_of(m))
            && self.id.is_none_or(|i| i == m.id)
            && self.user.is_none_or(|u| u == m.user().as_slice())
            && !(self.skipme && m.id == me)
    }
}

/// Parses CLIENT KILL's `<option> <value>` pairs, with Redis's errors in
/// Redis's order (the first bad pair decides).
fn kill_filter<'a>(c: &Ctx<'_>, a: &[&'a [u8]]) -> Result<KillFilter<'a>, CmdError> {
    let mut f = KillFilter {
        skipme: true,
        ..KillFilter::default()
    };
    let mut i = 2;
    while i < a.len() {
        let Some(&v) = a.get(i + 1) else {
            return Err(CmdError::Syntax);
        };
        let opt = a[i];
        if is(opt, "ID") {
            match parse_i64(v) {
                Some(n) if n >= 1 => f.id = Some(n as u64),
                _ => return Err(CmdError::msg("ERR client-id should be greater than 0")),
            }
        } else if is(opt, "TYPE") {
            f.kind = Some(client_type(v)?);
        } else if is(opt, "ADDR") {
            f.addr = Some(v);
        } else if is(opt, "LADDR") {
            f.laddr = Some(v);
        } else if is(opt, "USER") {
            if c.shared.acl.get(v).is_none() {
                return Err(CmdError::quoting("ERR No such user '", v, "'"));
            }
            f.user = Some(v);
        } else if is(opt, "SKIPME") {
            if is(v, "YES") {
                f.skipme = true;
            } else if is(v, "NO") {
                f.skipme = false;
            } else {
                return Err(CmdError::Syntax);
            }
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    Ok(f)
}

/// CLIENT KILL ip:port | CLIENT KILL [ID id] [ADDR ip:port] [LADDR ip:port]
/// [TYPE type] [USER username] [SKIPME yes/no]
///
/// A client of another event loop is closed by its loop (a message to its
/// inbox); the reply counts the clients matched, as Redis's.
pub fn client_kill(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let old_form = a.len() == 3;
    let f = if old_form {
        // CLIENT KILL addr: the caller may kill itself.
        KillFilter {
            addr: Some(a[2]),
            ..KillFilter::default()
        }
    } else {
        kill_filter(c, a)?
    };
    let me = c.client.id();
    let mut killed = 0;
    for m in c.shared.client_list() {
        if !f.matches(&m, me) {
            continue;
        }
        if m.id == me {
            // Closing ourselves: after this reply, as Redis does.
            c.client.close = Close::AfterReply;
        } else {
            c.shared.kill_client(m.id);
        }
        killed += 1;
    }
    if !old_form {
        c.out.int(killed);
    } else if killed == 0 {
        return Err(CmdError::msg("ERR No such client"));
    } else {
        c.out.ok();
    }
    Ok(())
}

/// CLIENT REPLY ON|OFF|SKIP. OFF and SKIP send nothing back; pushes
/// (pub/sub messages, subscription confirmations) still go out.
pub fn client_reply(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let v = a[2];
    if is(v, "ON") {
        c.client.reply = ReplyMode::On;
        c.out.ok();
    } else if is(v, "OFF") {
        c.client.reply = ReplyMode::Off;
    } else if is(v, "SKIP") {
        if c.client.reply != ReplyMode::Off {
            c.client.reply = ReplyMode::SkipNext;
        }
    } else {
        return Err(CmdError::Syntax);
    }
    Ok(())
}

/// CLIENT PAUSE timeout [WRITE|ALL]: every event loop holds the commands
/// the pause covers until CLIENT UNPAUSE or the timeout.
pub fn client_pause(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() > 4 {
        return Err(CmdError::subcommand_syntax(a[0], a[1]));
    }
    let kind = match a.get(3) {
        None => PauseKind::All,
        Some(m) if is(m, "WRITE") => PauseKind::Write,
        Some(m) if is(m, "ALL") => PauseKind::All,
        Some(_) => return Err(CmdError::msg("ERR CLIENT PAUSE mode must be WRITE or ALL")),
    };
    let ms = parse_i64(a[2]).ok_or(CmdError::msg(
        "ERR timeout is not an integer or out of range",
    ))?;
    if ms < 0 {
        return Err(CmdError::msg("ERR timeout is negative"));
    }
    let now = unix_ms();
    // As Redis: 0 is an end time in the past (the pause is over at
    // once), and so is a sum past i64 (Redis's overflows to negative).
    let end = match ms {
        0 => 0,
        ms => u64::try_from(ms.wrapping_add(now as i64)).unwrap_or(0),
    };
    c.shared.pause.pause(now, end, kind);
    c.out.ok();
    Ok(())
}

/// CLIENT UNPAUSE: ends the pause; every loop runs its held clients.
pub fn client_unpause(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    if c.shared.pause.unpause() {
        c.shared.broadcast(|| LoopMsg::Unpause);
    }
    c.out.ok();
    Ok(())
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

/// CLIENT NO-EVICT ON|OFF — exempts the client from `maxmemory-clients`
/// (see [`crate::client_eviction`]); CLIENT LIST shows it as flag `e`.
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

/// Redis 7.0.15's CLIENT HELP, word for word (SETINFO and NO-TOUCH, from
/// Redis 7.2, are accepted but not listed, as 7.0 lists neither).
const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
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
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
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
        name: "pause",
        arity: -3,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_pause,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "unpause",
        arity: 2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_unpause,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "reply",
        arity: 3,
        flags: NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_reply,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "getredir",
        arity: 2,
        flags: NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_getredir,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "unblock",
        arity: -3,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_unblock,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "id",
        arity: 2,
        flags: NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_id,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "setname",
        arity: 3,
        flags: NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_setname,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "tracking",
        arity: -3,
        flags: NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_tracking,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "caching",
        arity: 3,
        flags: NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_caching,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "trackinginfo",
        arity: 2,
        flags: NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_trackinginfo,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "getname",
        arity: 2,
        flags: NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_getname,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "list",
        arity: -2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_list,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &["nondeterministic_output"],
        subcommands: &[],
    },
    Spec {
        name: "info",
        arity: 2,
        flags: NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_info,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &["nondeterministic_output"],
        subcommands: &[],
    },
    Spec {
        name: "kill",
        arity: -3,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_kill,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "no-evict",
        arity: 3,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_no_evict,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "no-touch",
        arity: 3,
        flags: NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_no_touch,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "setinfo",
        arity: 4,
        flags: NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_setinfo,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "connection",
        handler: client_help,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
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
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        subcommands: &[],
    },
    Spec {
        name: "echo",
        arity: 2,
        flags: LOADING | STALE | FAST,
        keys: Keys::None,
        group: "connection",
        handler: echo,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "quit",
        arity: -1,
        flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        keys: Keys::None,
        group: "connection",
        handler: quit,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "auth",
        arity: -2,
        flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        keys: Keys::None,
        group: "connection",
        handler: auth,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "hello",
        arity: -1,
        flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        keys: Keys::None,
        group: "connection",
        handler: hello,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "select",
        arity: 2,
        flags: LOADING | STALE | FAST,
        keys: Keys::None,
        group: "connection",
        handler: select,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "reset",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        keys: Keys::None,
        group: "connection",
        handler: reset,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "client",
        arity: -2,
        flags: 0,
        keys: Keys::None,
        group: "connection",
        handler: super::table::container,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: CLIENT_SUBCOMMANDS,
    },
];
