//! COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS,
//! GETKEYSANDFLAGS): all read from the command table (flags, ACL
//! categories, tips, key specifications), with Redis's own documentation.

use crate::cmd::flags::*;
use crate::cmd::{cat, docs, flags, ks, table, Ctx};
use crate::cmd::{Keys, Spec};
use crate::error::{CmdError, CmdResult};
use crate::util::glob::glob_match;

/// ACL categories of a command ([`cat`] bits): the row's explicit ones and
/// those its flags imply, as Redis's `setImplicitACLCategories` adds them.
pub fn categories(s: &Spec) -> u32 {
    let mut c = s.acl;
    if s.has(flags::WRITE) {
        c |= cat::WRITE;
    }
    if s.has(flags::READONLY) && c & cat::SCRIPTING == 0 {
        c |= cat::READ;
    }
    if s.has(flags::ADMIN) {
        c |= cat::ADMIN | cat::DANGEROUS;
    }
    if s.has(flags::PUBSUB) {
        c |= cat::PUBSUB;
    }
    if s.has(flags::FAST) {
        c |= cat::FAST;
    }
    if s.has(flags::BLOCKING) {
        c |= cat::BLOCKING;
    }
    if c & cat::FAST == 0 {
        c |= cat::SLOW;
    }
    c
}

/// The flags COMMAND INFO shows: the row's, with `movablekeys` as the key
/// specs make it (Redis derives it; a unit test keeps the rows agreeing).
fn shown_flags(s: &Spec) -> u32 {
    let movable = ks::legacy_range(s.key_specs).3;
    (s.flags & !MOVABLE_KEYS) | if movable { MOVABLE_KEYS } else { 0 }
}

fn full_name(s: &Spec, parent: Option<&Spec>) -> String {
    match parent {
        Some(p) => format!("{}|{}", p.name, s.name),
        None => s.name.to_string(),
    }
}

fn key_spec_flags(c: &mut Ctx<'_>, bits: u16) {
    let names = ks::NAMES.iter().filter(|(b, _)| bits & b != 0);
    c.out.set(names.clone().count());
    for (_, n) in names {
        c.out.simple(n);
    }
}

fn key_spec(c: &mut Ctx<'_>, k: &ks::KeySpec) {
    c.out.map(3 + usize::from(k.notes.is_some()));
    if let Some(notes) = k.notes {
        c.out.bulk(b"notes");
        c.out.bulk(notes.as_bytes());
    }
    c.out.bulk(b"flags");
    key_spec_flags(c, k.flags);
    c.out.bulk(b"begin_search");
    c.out.map(2);
    c.out.bulk(b"type");
    match k.begin {
        ks::Begin::Index(pos) => {
            c.out.bulk(b"index");
            c.out.bulk(b"spec");
            c.out.map(1);
            c.out.bulk(b"index");
            c.out.int(pos.into());
        }
        ks::Begin::Keyword(word, from) => {
            c.out.bulk(b"keyword");
            c.out.bulk(b"spec");
            c.out.map(2);
            c.out.bulk(b"keyword");
            c.out.bulk(word.as_bytes());
            c.out.bulk(b"startfrom");
            c.out.int(from.into());
        }
        ks::Begin::Unknown => {
            c.out.bulk(b"unknown");
            c.out.bulk(b"spec");
            c.out.map(0);
        }
    }
    c.out.bulk(b"find_keys");
    c.out.map(2);
    c.out.bulk(b"type");
    let (kind, fields) = match k.find {
        ks::Find::Range(last, step, limit) => (
            "range",
            [("lastkey", last), ("keystep", step), ("limit", limit)],
        ),
        ks::Find::Keynum(idx, first, step) => (
            "keynum",
            [("keynumidx", idx), ("firstkey", first), ("keystep", step)],
        ),
        ks::Find::Unknown => {
            c.out.bulk(b"unknown");
            c.out.bulk(b"spec");
            c.out.map(0);
            return;
        }
    };
    c.out.bulk(kind.as_bytes());
    c.out.bulk(b"spec");
    c.out.map(3);
    for (name, v) in fields {
        c.out.bulk(name.as_bytes());
        c.out.int(v.into());
    }
}

/// One command's COMMAND INFO entry, as Redis's `addReplyCommandInfo`.
fn command_info(c: &mut Ctx<'_>, s: &Spec, parent: Option<&Spec>) {
    c.out.array(10);
    c.out.bulk(full_name(s, parent).as_bytes());
    c.out.int(s.arity as i64);
    let shown = shown_flags(s);
    let fl = flags::NAMES.iter().filter(|(bit, _)| shown & bit != 0);
    c.out.set(fl.clone().count());
    for (_, f) in fl {
        c.out.simple(f);
    }
    let (first, last, step, _) = ks::legacy_range(s.key_specs);
    c.out.int(first.into());
    c.out.int(last.into());
    c.out.int(step.into());
    let cats = categories(s);
    c.out.set(cats.count_ones() as usize);
    for (i, name) in cat::NAMES.iter().enumerate() {
        if cats & (1 << i) != 0 {
            c.out.simple(&format!("@{name}"));
        }
    }
    c.out.set(s.tips.len());
    for tip in s.tips {
        c.out.bulk(tip.as_bytes());
    }
    c.out.set(s.key_specs.len());
    for k in s.key_specs {
        key_spec(c, k);
    }
    if s.subcommands.is_empty() {
        c.out.set(0);
    } else {
        c.out.array(s.subcommands.len());
        for sub in s.subcommands {
            command_info(c, sub, Some(s));
        }
    }
}

/// Docs for a command `docs.resp` lacks (see [`docs::NEWER`]).
fn command_docs(c: &mut Ctx<'_>, s: &Spec, parent: Option<&Spec>) {
    let group = parent.map_or(s.group, |p| p.group);
    let full = full_name(s, parent);
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

/// The commands clients can call, in table order: all but those renamed
/// to `""` (a renamed one is listed under its own name, as in Redis).
fn named() -> impl Iterator<Item = &'static Spec> {
    let names = crate::cmd::names::current();
    table::commands()
        .iter()
        .enumerate()
        .filter(|(i, _)| names.has_name(*i))
        .map(|(_, s)| *s)
}

/// COMMAND (all commands' info)
pub fn command(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.array(crate::cmd::names::current().len());
    for s in named() {
        command_info(c, s, None);
    }
    Ok(())
}

/// COMMAND COUNT
pub fn command_count(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.int(crate::cmd::names::current().len() as i64);
    Ok(())
}

/// Finds `name` or `parent|sub` as Redis's `lookupCommandBySds` does:
/// one level of subcommands, and a container's subcommand only by its
/// full name.
fn find_spec(name: &[u8]) -> Option<(&'static Spec, Option<&'static Spec>)> {
    let mut parts = name.split(|&b| b == b'|');
    let top = crate::cmd::lookup(parts.next()?)?;
    match (parts.next(), parts.next()) {
        (None, _) => Some((top, None)),
        (Some(sub), None) => Some((crate::cmd::lookup_sub(top, sub)?, Some(top))),
        (Some(_), Some(_)) => None,
    }
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
        named().map(|s| (s, None)).collect()
    } else {
        a[2..].iter().filter_map(|n| find_spec(n)).collect()
    };
    c.out.map(specs.len());
    for (s, p) in specs {
        let name = full_name(s, p);
        c.out.bulk(name.as_bytes());
        match crate::cmd::docs::find(&name) {
            Some(doc) => crate::cmd::docs::write_frame(c.out, doc),
            None => command_docs(c, s, p),
        }
    }
    Ok(())
}

/// What COMMAND LIST keeps.
enum Filter<'a> {
    All,
    /// No module is loaded: nothing matches.
    Module,
    /// Commands in this ACL category (0 for an unknown one: none).
    AclCat(u32),
    /// Full names matching a glob, case-insensitively.
    Pattern(&'a [u8]),
}

impl Filter<'_> {
    fn keeps(&self, s: &Spec, full: &str) -> bool {
        match self {
            Filter::All => true,
            Filter::Module => false,
            Filter::AclCat(bit) => categories(s) & bit != 0,
            Filter::Pattern(p) => glob_match(p, full.as_bytes(), true),
        }
    }
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]
pub fn command_list(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    // Redis reads options in a loop, but FILTERBY must be followed by
    // exactly its two words: anything else is a syntax error.
    let filter = match a {
        [_, _] => Filter::All,
        [_, _, by, kind, v] if by.eq_ignore_ascii_case(b"FILTERBY") => {
            if kind.eq_ignore_ascii_case(b"MODULE") {
                Filter::Module
            } else if kind.eq_ignore_ascii_case(b"ACLCAT") {
                Filter::AclCat(cat::by_name(v))
            } else if kind.eq_ignore_ascii_case(b"PATTERN") {
                Filter::Pattern(v)
            } else {
                return Err(CmdError::Syntax);
            }
        }
        _ => return Err(CmdError::Syntax),
    };
    let mut names: Vec<String> = Vec::new();
    for s in named() {
        if filter.keeps(s, s.name) {
            names.push(s.name.to_string());
        }
        for sub in s.subcommands {
            let full = full_name(sub, Some(s));
            if filter.keeps(sub, &full) {
                names.push(full);
            }
        }
    }
    c.out.array(names.len());
    for n in names {
        c.out.bulk(n.as_bytes());
    }
    Ok(())
}

/// COMMAND GETKEYS and GETKEYSANDFLAGS, as Redis's
/// `getKeysSubcommandImpl`: the command is looked up as it would run
/// (a container's subcommand by the next argument), checked for keys and
/// arity, then searched with its key specs.
fn getkeys(c: &mut Ctx<'_>, a: &[&[u8]], with_flags: bool) -> CmdResult {
    let argv = &a[2..];
    let invalid = || CmdError::msg("ERR Invalid command specified");
    let top = crate::cmd::lookup(argv[0]).ok_or_else(invalid)?;
    let spec = match argv.get(1) {
        Some(sub) if !top.subcommands.is_empty() => {
            crate::cmd::lookup_sub(top, sub).ok_or_else(invalid)?
        }
        _ => top,
    };
    if !ks::has_keys(spec.key_specs) {
        return Err(CmdError::msg("ERR The command has no key arguments"));
    }
    if !spec.arity_ok(argv.len()) {
        return Err(CmdError::msg(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    let keys = ks::get_keys(spec, argv);
    if keys.is_empty() && !spec.has(NO_MANDATORY_KEYS) {
        return Err(CmdError::msg("ERR Invalid arguments specified for command"));
    }
    c.out.array(keys.len());
    for (pos, bits) in keys {
        if with_flags {
            c.out.array(2);
            c.out.bulk(argv[pos]);
            key_spec_flags(c, bits);
        } else {
            c.out.bulk(argv[pos]);
        }
    }
    Ok(())
}

/// COMMAND GETKEYS command [arg ...]
pub fn command_getkeys(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    getkeys(c, a, false)
}

/// COMMAND GETKEYSANDFLAGS command [arg ...]
pub fn command_getkeysandflags(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    getkeys(c, a, true)
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
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "info",
        arity: -2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: command_info_cmd,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &["nondeterministic_output_order"],
        subcommands: &[],
    },
    Spec {
        name: "docs",
        arity: -2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: command_docs_cmd,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &["nondeterministic_output_order"],
        subcommands: &[],
    },
    Spec {
        name: "list",
        arity: -2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: command_list,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &["nondeterministic_output_order"],
        subcommands: &[],
    },
    Spec {
        name: "getkeys",
        arity: -4,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: command_getkeys,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "getkeysandflags",
        arity: -4,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: command_getkeysandflags,
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
        group: "server",
        handler: command_help,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
];
