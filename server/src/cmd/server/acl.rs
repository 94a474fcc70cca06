//! ACL and its subcommands: users and their rules (`crate::acl`), and the
//! ACL LOG of refusals (`crate::acl::log`), and ACL LOAD / SAVE of the
//! `aclfile` (`crate::acl::file`).

use std::io::Read;

use crate::acl::{describe, Denial, User};
use crate::cmd::flags::*;
use crate::cmd::{cat, table, Ctx, Spec};
use crate::error::{CmdError, CmdResult};

/// `acl-pubsub-default` is `allchannels`.
fn pubsub_all(c: &Ctx<'_>) -> bool {
    c.shared.config().acl_pubsub_all
}

/// ACL SETUSER username [rule ...]
pub fn acl_setuser(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    // Rules hold passwords: hidden from SLOWLOG and MONITOR, as Redis does.
    for i in 2..a.len() {
        c.client.redact(i);
    }
    let name = a[2];
    if crate::acl::user::has_spaces(name) {
        return Err(CmdError::msg(
            "ERR Usernames can't contain spaces or null characters",
        ));
    }
    let old = c.shared.acl.get(name);
    let all = pubsub_all(c);
    let user = match &old {
        Some(u) => (**u).clone(),
        None => User::new(name, all),
    };
    match user.with_rules(&a[3..], all) {
        Ok(u) => {
            let narrowed = old
                .as_deref()
                .and_then(|old| crate::acl::check::narrowed_channels(&u, old));
            c.shared.acl.put(u);
            if let Some(allowed) = narrowed {
                // Subscribers to what the user may no longer use go, at
                // once (Redis frees them, the caller included).
                let refused = c.shared.pubsub.subscribers_refused(name, |ch, pattern| {
                    crate::acl::check::channel_in(&allowed, ch, pattern)
                });
                let me = c.client.id();
                for id in refused {
                    if id == me {
                        c.client.close = crate::client::Close::AfterReply;
                    } else {
                        c.shared.kill_client(id);
                    }
                }
            }
            c.out.ok();
            Ok(())
        }
        Err(text) => {
            let mut line = b"ERR ".to_vec();
            line.extend_from_slice(&text);
            Err(CmdError::Line(line))
        }
    }
}

/// ACL DELUSER username [username ...]
pub fn acl_deluser(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a[2..].iter().any(|n| *n == b"default") {
        return Err(CmdError::msg("ERR The 'default' user cannot be removed"));
    }
    let mut deleted = 0;
    for name in &a[2..] {
        if c.shared.acl.remove(name) {
            deleted += 1;
            disconnect_clients(c, |user| user == *name);
        }
    }
    c.out.int(deleted);
    Ok(())
}

/// Closes the connections authenticated as users that `gone` says are
/// gone, the caller's own after this reply (Redis's
/// `ACLFreeUserAndKillClients`).
fn disconnect_clients(c: &mut Ctx<'_>, gone: impl Fn(&[u8]) -> bool) {
    let me = c.client.id();
    for m in c.shared.client_list() {
        if !gone(&m.user()) {
            continue;
        }
        if m.id == me {
            c.client.close = crate::client::Close::AfterReply;
        } else {
            c.shared.kill_client(m.id);
        }
    }
}

/// One selector's `commands`, `keys` and `channels` fields.
fn selector_fields(c: &mut Ctx<'_>, s: &crate::acl::Selector) {
    c.out.bulk(b"commands");
    c.out.bulk(&describe::command_rules(s));
    c.out.bulk(b"keys");
    c.out.bulk(&describe::keys_field(s));
    c.out.bulk(b"channels");
    c.out.bulk(&describe::channels_field(s));
}

/// ACL GETUSER username
pub fn acl_getuser(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let Some(u) = c.shared.acl.get(a[2]) else {
        c.out.null();
        return Ok(());
    };
    c.out.map(6);
    c.out.bulk(b"flags");
    let flags = describe::flags(&u);
    c.out.set(flags.len());
    for f in flags {
        c.out.bulk(f.as_bytes());
    }
    c.out.bulk(b"passwords");
    c.out.array(u.passwords.len());
    for p in &u.passwords {
        c.out.bulk(p);
    }
    selector_fields(c, u.root());
    c.out.bulk(b"selectors");
    c.out.array(u.selectors.len() - 1);
    for s in &u.selectors[1..] {
        c.out.map(3);
        selector_fields(c, s);
    }
    Ok(())
}

/// ACL LIST
pub fn acl_list(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let users = c.shared.acl.users().clone();
    c.out.array(users.len());
    for u in users.values() {
        c.out.bulk(&crate::acl::file::user_line(u));
    }
    Ok(())
}

/// ACL USERS
pub fn acl_users(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let names: Vec<Vec<u8>> = c.shared.acl.users().keys().cloned().collect();
    c.out.array(names.len());
    for n in &names {
        c.out.bulk(n);
    }
    Ok(())
}

/// ACL WHOAMI
pub fn acl_whoami(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let user = c.client.meta.user();
    c.out.bulk(&user);
    Ok(())
}

/// ACL CAT [category]
pub fn acl_cat(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    match a.get(2) {
        None => {
            c.out.array(cat::NAMES.len());
            for n in cat::NAMES {
                c.out.bulk(n.as_bytes());
            }
        }
        Some(name) => {
            let bit = cat::by_name(name);
            if bit == 0 {
                let n = &name[..name.len().min(128)];
                return Err(CmdError::quoting("ERR Unknown category '", n, "'"));
            }
            let names: Vec<String> = crate::acl::index::index()
                .entries
                .iter()
                .filter(|e| e.cats & bit != 0)
                .map(|e| e.full_name())
                .collect();
            c.out.array(names.len());
            for n in &names {
                c.out.bulk(n.as_bytes());
            }
        }
    }
    Ok(())
}

/// ACL GENPASS [bits]
pub fn acl_genpass(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    const MAX_BITS: i64 = 4096;
    let bits = match a.get(2) {
        Some(b) => crate::cmd::args::int(b)?,
        None => 256,
    };
    if bits <= 0 || bits > MAX_BITS {
        return Err(CmdError::msg(format!(
            "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to {MAX_BITS}"
        )));
    }
    let chars = ((bits + 3) / 4) as usize;
    let mut raw = vec![0u8; chars.div_ceil(2)];
    // The kernel's generator, as Redis seeds its own from /dev/urandom.
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut raw))
        .map_err(|_| CmdError::msg("ERR Failed to read random bytes"))?;
    let mut hex = Vec::with_capacity(raw.len() * 2);
    for b in raw {
        hex.push(b"0123456789abcdef"[(b >> 4) as usize]);
        hex.push(b"0123456789abcdef"[(b & 15) as usize]);
    }
    hex.truncate(chars);
    c.out.bulk(&hex);
    Ok(())
}

/// ACL DRYRUN username command [arg ...]
pub fn acl_dryrun(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let Some(user) = c.shared.acl.get(a[2]) else {
        return Err(CmdError::quoting("ERR User '", a[2], "' not found"));
    };
    let argv = &a[3..];
    let not_found = || CmdError::quoting("ERR Command '", argv[0], "' not found");
    // Redis's lookupCommand: a container without a known subcommand
    // argument is the container itself.
    let i = crate::cmd::lookup_index(argv[0]).ok_or_else(not_found)?;
    let top = table::commands()[i];
    let (spec, id, name) = if !top.subcommands.is_empty() && argv.len() >= 2 {
        let j = crate::cmd::lookup_sub_index(top, argv[1]).ok_or_else(not_found)?;
        let sub = &top.subcommands[j];
        (
            sub,
            table::command_id(i, Some(j)),
            format!("{}|{}", top.name, sub.name),
        )
    } else {
        (top, table::command_id(i, None), top.name.to_string())
    };
    if !spec.arity_ok(argv.len()) {
        return Err(CmdError::msg(format!(
            "ERR wrong number of arguments for '{name}' command"
        )));
    }
    let mut text = Vec::new();
    match user.check(spec, id, argv) {
        Ok(()) => {
            c.out.ok();
            return Ok(());
        }
        Err(Denial::Command) => {
            text.extend_from_slice(b"This user has no permissions to run the '");
            text.extend_from_slice(name.as_bytes());
            text.extend_from_slice(b"' command");
        }
        Err(Denial::Key(i)) => {
            text.extend_from_slice(b"This user has no permissions to access the '");
            text.extend_from_slice(c_str(argv[i]));
            text.extend_from_slice(b"' key");
        }
        Err(Denial::Channel(i)) => {
            text.extend_from_slice(b"This user has no permissions to access the '");
            text.extend_from_slice(c_str(argv[i]));
            text.extend_from_slice(b"' channel");
        }
    }
    c.out.bulk(&text);
    Ok(())
}

/// The bytes C's `%s` shows: up to the first NUL.
fn c_str(s: &[u8]) -> &[u8] {
    s.split(|&b| b == 0).next().unwrap_or_default()
}

/// The ACL file's path and its name as given, or Redis's error when no
/// `aclfile` is set.
fn acl_file(c: &Ctx<'_>) -> Result<(std::path::PathBuf, String), CmdError> {
    let cfg = c.shared.config();
    match cfg.aclfile_path() {
        Some(path) => Ok((path, cfg.aclfile.clone())),
        None => Err(CmdError::msg(
            "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.",
        )),
    }
}

/// ACL LOAD: replaces every user with the file's, or changes nothing and
/// says what is wrong with the file. As in Redis, every client of a user
/// other than `default` is then closed (the users it knew are gone, even
/// when the file defines them again), the caller's own after this reply.
pub fn acl_load(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let (path, name) = acl_file(c)?;
    let users = crate::acl::file::load(&path, &name, pubsub_all(c)).map_err(|e| {
        // addReplyError: a text starting with `-` is sent as it is.
        match e.strip_prefix(b"-") {
            Some(rest) => CmdError::Line(rest.to_vec()),
            None => {
                let mut line = b"ERR ".to_vec();
                line.extend_from_slice(&e);
                CmdError::Line(line)
            }
        }
    })?;
    c.shared.acl.replace_all(users);
    disconnect_clients(c, |user| user != b"default");
    c.out.ok();
    Ok(())
}

/// ACL SAVE: writes every user to the ACL file, as ACL LIST shows them.
pub fn acl_save(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let (path, _) = acl_file(c)?;
    let text = crate::acl::file::file_text(c.shared.acl.users().values().map(|u| &**u));
    if crate::acl::file::save(&path, &text).is_err() {
        return Err(CmdError::msg(
            "ERR There was an error trying to save the ACLs. Please check the server logs for more information",
        ));
    }
    c.out.ok();
    Ok(())
}

const ACL_HELP: &[&str] = &[
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Prints this help.",
];

/// ACL LOG [count | RESET]
pub fn acl_log(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() > 3 {
        return Err(CmdError::msg(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try ACL HELP.",
            String::from_utf8_lossy(a[1])
        )));
    }
    let mut count = 10;
    if let Some(arg) = a.get(2) {
        if arg.eq_ignore_ascii_case(b"reset") {
            c.shared.acl.log().clear();
            c.out.ok();
            return Ok(());
        }
        count = crate::cmd::args::int(arg)?.max(0);
    }
    let entries = c
        .shared
        .acl
        .log()
        .newest(usize::try_from(count).unwrap_or(usize::MAX));
    let now = crate::shared::unix_ms();
    c.out.array(entries.len());
    for e in entries {
        c.out.map(7);
        c.out.bulk(b"count");
        c.out.int(e.count as i64);
        c.out.bulk(b"reason");
        c.out.bulk(e.reason.name().as_bytes());
        c.out.bulk(b"context");
        c.out.bulk(e.context.name().as_bytes());
        c.out.bulk(b"object");
        c.out.bulk(&e.object);
        c.out.bulk(b"username");
        c.out.bulk(&e.username);
        c.out.bulk(b"age-seconds");
        c.out.double(now.saturating_sub(e.ctime) as f64 / 1000.0);
        c.out.bulk(b"client-info");
        c.out.bulk(e.client_info.as_bytes());
    }
    Ok(())
}

/// ACL HELP
pub fn acl_help(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.help(ACL_HELP);
    Ok(())
}

const fn sub(name: &'static str, arity: i32, flags: u32, handler: crate::cmd::Handler) -> Spec {
    Spec::keyless_server(name, arity, flags, handler, &[])
}

const ADMIN_SUB: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

/// ACL's subcommands, Redis 7.0's rows.
pub(super) static ACL_SUBCOMMANDS: &[Spec] = &[
    sub("cat", -2, NOSCRIPT | LOADING | STALE, acl_cat),
    sub("deluser", -3, ADMIN_SUB, acl_deluser),
    sub("dryrun", -4, ADMIN_SUB, acl_dryrun),
    sub("genpass", -2, NOSCRIPT | LOADING | STALE, acl_genpass),
    sub("getuser", 3, ADMIN_SUB, acl_getuser),
    sub("help", 2, LOADING | STALE, acl_help),
    sub("list", 2, ADMIN_SUB, acl_list),
    sub("load", 2, ADMIN_SUB, acl_load),
    sub("log", -2, ADMIN_SUB, acl_log),
    sub("save", 2, ADMIN_SUB, acl_save),
    sub("setuser", -3, ADMIN_SUB, acl_setuser),
    sub("users", 2, ADMIN_SUB, acl_users),
    sub("whoami", 2, NOSCRIPT | LOADING | STALE, acl_whoami),
];
