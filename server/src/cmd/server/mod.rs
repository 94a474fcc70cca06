//! Server commands: TIME here; SAVE, BGSAVE, LASTSAVE and SHUTDOWN in
//! `persistence`; INFO, COMMAND,
//! CONFIG, DEBUG, SLOWLOG, LATENCY, MONITOR, MEMORY, MODULE, LOLWUT and
//! the replication commands (ROLE, REPLICAOF, WAIT) in their own files.

mod acl;
mod command;
mod config;
mod debug;
mod info;
mod latency;
mod lolwut;
pub mod memory;
mod module;
pub mod monitor;
mod persistence;
mod replication;
mod slowlog;

use acl::ACL_SUBCOMMANDS;
pub use command::categories;
use command::{command, COMMAND_SUBCOMMANDS};
use config::CONFIG_SUBCOMMANDS;
use debug::debug;
use info::info;
use latency::LATENCY_SUBCOMMANDS;
use lolwut::lolwut;
use memory::MEMORY_SUBCOMMANDS;
use module::MODULE_SUBCOMMANDS;
use persistence::{bgrewriteaof, bgsave, lastsave, save, shutdown};
use replication::{replicaof, role, wait};
use slowlog::SLOWLOG_SUBCOMMANDS;

use super::cat;
use super::flags::*;
use super::{Keys, Spec};

use super::args::is;
use super::Ctx;
use crate::error::CmdResult;

/// TIME
pub fn time(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    c.out.array(2);
    c.out.bulk(d.as_secs().to_string().as_bytes());
    c.out.bulk(d.subsec_micros().to_string().as_bytes());
    Ok(())
}

// ---- command table rows ----

/// This group's rows of the command table.
pub static COMMANDS: &[Spec] = &[
    Spec {
        name: "info",
        arity: -1,
        flags: LOADING | STALE | WHOLE_KEYSPACE,
        keys: Keys::None,
        group: "server",
        handler: info,
        acl: cat::DANGEROUS,
        key_specs: &[],
        tips: &[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ],
        subcommands: &[],
    },
    Spec {
        name: "time",
        arity: 1,
        flags: LOADING | STALE | FAST,
        keys: Keys::None,
        group: "server",
        handler: time,
        acl: 0,
        key_specs: &[],
        tips: &["nondeterministic_output"],
        subcommands: &[],
    },
    Spec::keyless_server(
        "save",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        save,
        &[],
    ),
    Spec::keyless_server(
        "bgsave",
        -1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        bgsave,
        &[],
    ),
    Spec::keyless_server(
        "bgrewriteaof",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        bgrewriteaof,
        &[],
    ),
    Spec {
        name: "lastsave",
        arity: 1,
        flags: LOADING | STALE | FAST,
        keys: Keys::None,
        group: "server",
        handler: lastsave,
        acl: cat::ADMIN | cat::DANGEROUS,
        key_specs: &[],
        tips: &["nondeterministic_output"],
        subcommands: &[],
    },
    Spec {
        name: "shutdown",
        arity: -1,
        flags: ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        keys: Keys::None,
        group: "server",
        handler: shutdown,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "debug",
        arity: -2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE | WHOLE_KEYSPACE | PROTECTED,
        keys: Keys::None,
        group: "server",
        handler: debug,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "command",
        arity: -1,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: command,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &["nondeterministic_output_order"],
        subcommands: COMMAND_SUBCOMMANDS,
    },
    Spec {
        name: "acl",
        arity: -2,
        flags: 0,
        keys: Keys::None,
        group: "server",
        handler: super::table::container,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: ACL_SUBCOMMANDS,
    },
    Spec {
        name: "config",
        arity: -2,
        flags: 0,
        keys: Keys::None,
        group: "server",
        handler: super::table::container,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: CONFIG_SUBCOMMANDS,
    },
    Spec {
        name: "slowlog",
        arity: -2,
        flags: 0,
        keys: Keys::None,
        group: "server",
        handler: super::table::container,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: SLOWLOG_SUBCOMMANDS,
    },
    Spec {
        name: "latency",
        arity: -2,
        flags: 0,
        keys: Keys::None,
        group: "server",
        handler: super::table::container,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: LATENCY_SUBCOMMANDS,
    },
    Spec {
        name: "monitor",
        arity: 1,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: monitor::monitor,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "memory",
        arity: -2,
        flags: 0,
        keys: Keys::None,
        group: "server",
        handler: super::table::container,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: MEMORY_SUBCOMMANDS,
    },
    Spec {
        name: "role",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST,
        keys: Keys::None,
        group: "server",
        handler: role,
        acl: cat::ADMIN | cat::DANGEROUS,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "replicaof",
        arity: 3,
        flags: ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING,
        keys: Keys::None,
        group: "server",
        handler: replicaof,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "slaveof",
        arity: 3,
        flags: ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING,
        keys: Keys::None,
        group: "server",
        handler: replicaof,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "wait",
        arity: 3,
        flags: NOSCRIPT,
        keys: Keys::None,
        group: "generic",
        handler: wait,
        acl: cat::CONNECTION,
        key_specs: &[],
        tips: &["request_policy:all_shards", "response_policy:agg_min"],
        subcommands: &[],
    },
    Spec {
        name: "module",
        arity: -2,
        flags: 0,
        keys: Keys::None,
        group: "server",
        handler: super::table::container,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: MODULE_SUBCOMMANDS,
    },
    Spec {
        name: "lolwut",
        arity: -1,
        flags: READONLY | FAST,
        keys: Keys::None,
        group: "server",
        handler: lolwut,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
];
