//! MEMORY USAGE.

use crate::cmd::args::{self, is};
use crate::cmd::flags::*;
use crate::cmd::ks;
use crate::cmd::Ctx;
use crate::cmd::{Keys, Spec};
use crate::error::{CmdError, CmdResult};

/// MEMORY USAGE key [SAMPLES count] — our own accounting: the key, the
/// value's heap bytes and the table node.
pub fn memory_usage(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    match a {
        [_, _, _] => {}
        [_, _, _, opt, n] if is(opt, "SAMPLES") => {
            args::int(n)?;
        }
        _ => return Err(CmdError::Syntax),
    }
    let key_len = a[2].len();
    match c.ks.peek(a[2]) {
        None => c.out.null(),
        Some(e) => {
            let node = std::mem::size_of::<crate::dict::Node<crate::db::Entry>>() + 8;
            c.out.int((node + key_len + e.value.heap_size()) as i64)
        }
    }
    Ok(())
}

const MEMORY_HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
];

/// MEMORY HELP
pub fn memory_help(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.help(MEMORY_HELP);
    Ok(())
}

pub(super) static MEMORY_SUBCOMMANDS: &[Spec] = &[
    Spec {
        name: "usage",
        arity: -3,
        flags: READONLY,
        keys: Keys::Range(2, 2, 1),
        group: "server",
        handler: memory_usage,
        acl: 0,
        key_specs: &[ks::key(ks::RO, 2)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: memory_help,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
];
