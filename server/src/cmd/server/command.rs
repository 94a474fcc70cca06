//! COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS): all
//! read from the command table, with Redis's own documentation.

use crate::cmd::args::is;
use crate::cmd::flags::*;
use crate::cmd::{docs, flags, table, Ctx};
use crate::cmd::{Keys, Spec};
use crate::error::{CmdError, CmdResult};
use crate::util::glob::glob_match;

/// Redis's ACL categories, in the order of their bits (COMMAND INFO lists
/// a command's categories in this order).
const CATEGORY_ORDER: &[&str] = &[
    "@keyspace",
    "@read",
    "@write",
    "@set",
    "@sortedset",
    "@list",
    "@hash",
    "@string",
    "@bitmap",
    "@hyperloglog",
    "@geo",
    "@stream",
    "@pubsub",
    "@admin",
    "@fast",
    "@slow",
    "@blocking",
    "@dangerous",
    "@connection",
    "@transaction",
    "@scripting",
];

/// Categories Redis's command table gives a command explicitly where its
/// group's category does not apply (WAIT is a `generic` command in the
/// `@connection` category; ROLE is `@admin` without the admin flag).
fn explicit_categories(name: &str) -> Option<&'static [&'static str]> {
    match name {
        "role" => Some(&["@admin", "@dangerous"]),
        "wait" => Some(&["@connection"]),
        _ => None,
    }
}

/// ACL categories a command belongs to, derived from its group and flags as
/// Redis derives them, in Redis's order.
fn categories(s: &Spec, parent: Option<&Spec>) -> Vec<&'static str> {
    let mut v = Vec::new();
    let group = parent.map_or(s.group, |p| p.group);
    if s.has(flags::WRITE) {
        v.push("@write");
    }
    if s.has(flags::READONLY) && group != "scripting" {
        v.push("@read");
    }
    if s.has(flags::ADMIN) {
        v.push("@admin");
        v.push("@dangerous");
    }
    if s.has(flags::PUBSUB) {
        v.push("@pubsub");
    }
    if s.has(flags::FAST) {
        v.push("@fast");
    }
    if s.has(flags::BLOCKING) {
        v.push("@blocking");
    }
    if !s.has(flags::FAST) {
        v.push("@slow");
    }
    if let Some(explicit) = explicit_categories(s.name).filter(|_| parent.is_none()) {
        v.extend_from_slice(explicit);
    } else {
        match group {
            "generic" => v.push("@keyspace"),
            "string" => v.push("@string"),
            "list" => v.push("@list"),
            "hash" => v.push("@hash"),
            "set" => v.push("@set"),
            "sorted-set" => v.push("@sortedset"),
            "connection" => v.push("@connection"),
            "transactions" => v.push("@transaction"),
            _ => {}
        }
    }
    let rank = |c: &&str| CATEGORY_ORDER.iter().position(|o| o == c);
    v.sort_by_key(rank);
    v.dedup();
    v
}

fn key_positions(s: &Spec) -> (i64, i64, i64) {
    match s.keys {
        Keys::None => (0, 0, 0),
        Keys::Range(f, l, st) => (f as i64, l as i64, st as i64),
        Keys::Custom(_, (f, l, st)) => (f as i64, l as i64, st as i64),
    }
}

fn command_info(c: &mut Ctx<'_>, s: &Spec, parent: Option<&Spec>) {
    let name = match parent {
        Some(p) => format!("{}|{}", p.name, s.name),
        None => s.name.to_string(),
    };
    c.out.array(10);
    c.out.bulk(name.as_bytes());
    c.out.int(s.arity as i64);
    let fl: Vec<&str> = flags::NAMES
        .iter()
        .filter(|(bit, _)| s.flags & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    c.out.set(fl.len());
    for f in fl {
        c.out.simple(f);
    }
    let (first, last, step) = key_positions(s);
    c.out.int(first);
    c.out.int(last);
    c.out.int(step);
    let cats = categories(s, parent);
    c.out.set(cats.len());
    for cat in cats {
        c.out.simple(cat);
    }
    c.out.set(0); // tips
    c.out.array(0); // key specs
    c.out.array(s.subcommands.len());
    for sub in s.subcommands {
        command_info(c, sub, Some(s));
    }
}

/// Docs for a command `docs.resp` lacks (see [`docs::NEWER`]).
fn command_docs(c: &mut Ctx<'_>, s: &Spec, parent: Option<&Spec>) {
    let group = parent.map_or(s.group, |p| p.group);
    let full = match parent {
        Some(p) => format!("{}|{}", p.name, s.name),
        None => s.name.to_string(),
    };
    let (_, summary, since, complexity) = docs::NEWER
        .iter()
        .find(|d| d.0 == full)
        .copied()
        .unwrap_or_default();
    let n = 4 + usize::from(!s.subcommands.is_empty());
    c.out.map(n);
    c.out.bulk(b"summary");
    c.out.bulk(summary.as_bytes());
    c.out.bulk(b"since");
    c.out.bulk(since.as_bytes());
    c.out.bulk(b"group");
    c.out.bulk(group.as_bytes());
    c.out.bulk(b"complexity");
    c.out.bulk(complexity.as_bytes());
    if !s.subcommands.is_empty() {
        c.out.bulk(b"subcommands");
        c.out.map(s.subcommands.len());
        for sub in s.subcommands {
            c.out.bulk(format!("{}|{}", s.name, sub.name).as_bytes());
            command_docs(c, sub, Some(s));
        }
    }
}

/// COMMAND (all commands' info)
pub fn command(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.array(table::commands().len());
    for s in table::commands() {
        command_info(c, s, None);
    }
    Ok(())
}

/// COMMAND COUNT
pub fn command_count(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.int(table::commands().len() as i64);
    Ok(())
}

/// Finds `name` or `parent|sub`.
fn find_spec(name: &[u8]) -> Option<(&'static Spec, Option<&'static Spec>)> {
    if let Some(p) = name.iter().position(|&b| b == b'|') {
        let parent = crate::cmd::lookup(&name[..p])?;
        let sub = crate::cmd::lookup_sub(parent, &name[p + 1..])?;
        return Some((sub, Some(parent)));
    }
    crate::cmd::lookup(name).map(|s| (s, None))
}

/// COMMAND INFO [name ...]
pub fn command_info_cmd(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() == 2 {
        return command(c, a);
    }
    c.out.array(a.len() - 2);
    for name in &a[2..] {
        match find_spec(name) {
            Some((s, p)) => command_info(c, s, p),
            None => c.out.null(),
        }
    }
    Ok(())
}

/// COMMAND DOCS [name ...]
pub fn command_docs_cmd(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let specs: Vec<(&Spec, Option<&Spec>)> = if a.len() == 2 {
        table::commands().iter().map(|s| (*s, None)).collect()
    } else {
        a[2..].iter().filter_map(|n| find_spec(n)).collect()
    };
    c.out.map(specs.len());
    for (s, p) in specs {
        let name = match p {
            Some(p) => format!("{}|{}", p.name, s.name),
            None => s.name.to_string(),
        };
        c.out.bulk(name.as_bytes());
        match crate::cmd::docs::find(&name) {
            Some(doc) => crate::cmd::docs::write_frame(c.out, doc),
            None => command_docs(c, s, p),
        }
    }
    Ok(())
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]
pub fn command_list(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let mut names: Vec<String> = Vec::new();
    for s in table::commands() {
        names.push(s.name.to_string());
        for sub in s.subcommands {
            names.push(format!("{}|{}", s.name, sub.name));
        }
    }
    match a.len() {
        2 => {}
        5 if is(a[2], "FILTERBY") => {
            let v = a[4];
            if is(a[3], "PATTERN") {
                names.retain(|n| glob_match(v, n.as_bytes(), true));
            } else if is(a[3], "MODULE") {
                names.clear();
            } else if is(a[3], "ACLCAT") {
                let cat = format!("@{}", String::from_utf8_lossy(v).to_ascii_lowercase());
                names.retain(|n| {
                    find_spec(n.as_bytes())
                        .is_some_and(|(s, p)| categories(s, p).contains(&cat.as_str()))
                });
            } else {
                return Err(CmdError::Syntax);
            }
        }
        _ => return Err(CmdError::Syntax),
    }
    c.out.array(names.len());
    for n in names {
        c.out.bulk(n.as_bytes());
    }
    Ok(())
}

/// COMMAND GETKEYS command [arg ...]
pub fn command_getkeys(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let argv = &a[2..];
    let Some((spec, _)) = crate::cmd::resolve(argv).ok().map(|r| (r.spec, r.parent)) else {
        return Err(match crate::cmd::lookup(argv[0]) {
            None => CmdError::msg("ERR Invalid command specified"),
            Some(_) => CmdError::msg("ERR Invalid number of arguments specified for command"),
        });
    };
    let mut keys = Vec::new();
    spec.keys_of(argv, 0, &mut keys);
    if keys.is_empty() {
        return Err(CmdError::msg("ERR The command has no key arguments"));
    }
    c.out.array(keys.len());
    for (_, k) in keys {
        c.out.bulk(k);
    }
    Ok(())
}

const COMMAND_HELP: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
];

/// COMMAND HELP
pub fn command_help(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.help(COMMAND_HELP);
    Ok(())
}

pub(super) static COMMAND_SUBCOMMANDS: &[Spec] = &[
    Spec {
        name: "count",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: command_count,
        subcommands: &[],
    },
    Spec {
        name: "info",
        arity: -2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: command_info_cmd,
        subcommands: &[],
    },
    Spec {
        name: "docs",
        arity: -2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: command_docs_cmd,
        subcommands: &[],
    },
    Spec {
        name: "list",
        arity: -2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: command_list,
        subcommands: &[],
    },
    Spec {
        name: "getkeys",
        arity: -4,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: command_getkeys,
        subcommands: &[],
    },
    Spec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: command_help,
        subcommands: &[],
    },
];
