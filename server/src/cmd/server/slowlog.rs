//! SLOWLOG GET, LEN, RESET.

use crate::cmd::args::{self};
use crate::cmd::flags::*;
use crate::cmd::Ctx;
use crate::cmd::{Keys, Spec};
use crate::error::{CmdError, CmdResult};

/// SLOWLOG GET [count]
pub fn slowlog_get(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() > 3 {
        return Err(CmdError::subcommand_syntax(a[0], a[1]));
    }
    let count = match a.get(2) {
        None => 10,
        Some(x) => {
            let n = args::int_in(
                x,
                -1,
                i64::MAX,
                "ERR count should be greater than or equal to -1",
            )?;
            if n == -1 {
                usize::MAX
            } else {
                n as usize
            }
        }
    };
    let entries = c.shared.slowlog_entries(count);
    c.out.array(entries.len());
    for e in entries {
        c.out.array(6);
        c.out.int(e.id as i64);
        c.out.int(e.time as i64);
        c.out.int(e.micros as i64);
        c.out.array(e.args.len());
        for arg in &e.args {
            c.out.bulk(arg);
        }
        c.out.bulk(e.addr.as_bytes());
        c.out.bulk(&e.name);
    }
    Ok(())
}

/// SLOWLOG LEN
pub fn slowlog_len(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.int(c.shared.slowlog_len() as i64);
    Ok(())
}

/// SLOWLOG RESET
pub fn slowlog_reset(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.shared.slowlog_reset();
    c.out.ok();
    Ok(())
}

const SLOWLOG_HELP: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

/// SLOWLOG HELP
pub fn slowlog_help(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.help(SLOWLOG_HELP);
    Ok(())
}

pub(super) static SLOWLOG_SUBCOMMANDS: &[Spec] = &[
    Spec {
        name: "get",
        arity: -2,
        flags: ADMIN | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: slowlog_get,
        acl: 0,
        key_specs: &[],
        tips: &["request_policy:all_nodes", "nondeterministic_output"],
        subcommands: &[],
    },
    Spec {
        name: "len",
        arity: 2,
        flags: ADMIN | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: slowlog_len,
        acl: 0,
        key_specs: &[],
        tips: &[
            "request_policy:all_nodes",
            "response_policy:agg_sum",
            "nondeterministic_output",
        ],
        subcommands: &[],
    },
    Spec {
        name: "reset",
        arity: 2,
        flags: ADMIN | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: slowlog_reset,
        acl: 0,
        key_specs: &[],
        tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
        subcommands: &[],
    },
    Spec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: slowlog_help,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
];
