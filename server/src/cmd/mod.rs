//! Commands: the static table, dispatch, and one file per group.
//!
//! The table ([`table::commands`]) is the single source of truth: name,
//! arity, flags, key positions, group, handler, and Redis 7.0's ACL
//! categories, key specifications ([`ks`]) and tips. Arity errors, COMMAND
//! INFO/DOCS/COUNT/GETKEYS, key extraction for locking and MULTI/EXEC all
//! read it. To
//! add a command: write its handler in the group's file, add one row to the
//! `COMMANDS` list at the end of that file, add its tests (a differential script in `server/tests/diff/`).

pub mod args;
pub mod bitmap;
pub mod blocking;
pub mod connection;
pub mod consumer_group;
pub mod dispatch;
pub mod docs;
pub mod function;
pub mod geo;
pub mod hash;
pub mod hyperloglog;
pub mod keys;
pub mod ks;
pub mod list;
pub mod migrate;
pub mod names;
pub mod propagate;
pub mod pubsub;
pub mod scripting;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod table;
pub mod transaction;
pub mod zset;

use crate::client::Client;
use crate::db::Locked;
use crate::error::CmdResult;
use crate::reply::Reply;
use crate::shared::{LoopStats, Shared};

pub use dispatch::{
    call, execute, panics, protocol_error, resolve, run_handler, signal_writes, Env, LockPlan,
    Resolved,
};

/// What a handler gets: the locked keyspace view, the reply buffer, the
/// client's state and the server's shared state.
pub struct Ctx<'a> {
    /// The shards this command locked, the selected db and the clock.
    pub ks: Locked<'a>,
    /// Where the reply goes.
    pub out: &'a mut Reply,
    /// The calling client.
    pub client: &'a mut Client,
    /// Server-wide state: config, stats, client registry.
    pub shared: &'a Shared,
    /// Counters of the event loop running the command.
    pub stats: &'a LoopStats,
    /// Keys written by this command (or EXEC's queue) that clients are
    /// blocked on: served before the locks are released.
    pub ready: Vec<(usize, Vec<u8>)>,
    /// Pub/sub messages for this very client (a RESP3 subscriber that
    /// publishes, or whose command raises a keyspace event it listens to):
    /// written before the command's reply, as Redis 7.0 orders them.
    pub pushes: Vec<crate::pubsub::Delivery>,
    /// Keys to serve blocked clients on after the locks are released
    /// (SWAPDB, which holds no key locks).
    pub ready_later: Vec<(usize, Vec<u8>)>,
    /// Where pub/sub messages for other clients wait until the running
    /// loop sends them.
    pub outbox: &'a mut crate::pubsub::Outbox,
    /// The append-only file takes this call's effects (see
    /// [`propagate`]).
    pub propagating: bool,
}

/// Keyspace notifications from a handler: events about its keys.
impl Ctx<'_> {
    /// Deletes `key` from the selected database and publishes its `del`
    /// event; false (and no event) when it was not there.
    pub fn delete(&mut self, key: &[u8]) -> bool {
        let removed = self.ks.remove(key).is_some();
        if removed {
            self.notify(crate::notify::GENERIC, "del", key);
        }
        removed
    }

    /// Publishes a keyspace event about `key` in the selected database, as
    /// Redis's `notifyKeyspaceEvent` (a no-op unless enabled).
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        let db = self.ks.db;
        self.notify_in(db, class, event, key);
    }

    /// [`Ctx::notify`] for a key of another database.
    ///
    /// Every event a command raises about a key says that it changed the
    /// key, so this is also where the key is marked modified for WATCH
    /// ([`Locked::signal`], Redis's `signalModifiedKey`), notifications on
    /// or off: a write that changes nothing raises no event and touches no
    /// watched key, as in Redis.
    pub fn notify_in(&mut self, db: usize, class: u32, event: &str, key: &[u8]) {
        self.ks.signal(db, key);
        self.event_in(db, class, event, key);
    }

    /// A keyspace event about `key` that does not mark it modified: one
    /// change for the save points and the event, as Redis raises its
    /// consumer group events (XGROUP, a consumer created by XREADGROUP),
    /// which fail no WATCH and invalidate no tracked read.
    pub fn event(&mut self, class: u32, event: &str, key: &[u8]) {
        let db = self.ks.db;
        self.event_in(db, class, event, key);
    }

    fn event_in(&mut self, db: usize, class: u32, event: &str, key: &[u8]) {
        // Each event is one change for the save points (`server.dirty`).
        crate::stats::bump(&self.stats.dirty, 1);
        if crate::notify::wanted(self.shared, class) {
            let own = Some(self.client.id());
            let mine =
                crate::notify::publish_for(self.shared, self.outbox, own, class, event, db, key);
            self.pushes.extend(mine);
        }
    }
}

/// A command handler. It writes its reply into `ctx.out` and returns Ok, or
/// returns the error to reply with (having written nothing).
pub type Handler = fn(&mut Ctx<'_>, &[&[u8]]) -> CmdResult;

/// Finds the `(db, key)` pairs of a call from its arguments and the
/// selected database.
pub type KeyFinder = for<'x> fn(&[&'x [u8]], usize, &mut Vec<(usize, &'x [u8])>);

/// Where a command's keys are.
#[derive(Clone, Copy)]
pub enum Keys {
    /// No keys.
    None,
    /// Keys at `first..=last` (negative `last` counts from the end) every
    /// `step` arguments.
    Range(i32, i32, i32),
    /// Keys found by a function (keys whose position depends on other
    /// arguments, or keys in another database). It appends `(db, key)`.
    Custom(KeyFinder),
}

/// Command flags, as COMMAND INFO reports them.
pub mod flags {
    /// May modify the keyspace.
    pub const WRITE: u32 = 1 << 0;
    /// Only reads.
    pub const READONLY: u32 = 1 << 1;
    /// May grow memory (refused under OOM in Redis).
    pub const DENYOOM: u32 = 1 << 2;
    /// Administrative.
    pub const ADMIN: u32 = 1 << 3;
    /// Pub/sub related.
    pub const PUBSUB: u32 = 1 << 4;
    /// Not allowed in scripts.
    pub const NOSCRIPT: u32 = 1 << 5;
    /// May block the client.
    pub const BLOCKING: u32 = 1 << 6;
    /// Allowed while loading.
    pub const LOADING: u32 = 1 << 7;
    /// Allowed on a stale replica.
    pub const STALE: u32 = 1 << 8;
    /// Not shown by MONITOR.
    pub const SKIP_MONITOR: u32 = 1 << 9;
    /// Not logged by SLOWLOG.
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    /// O(1) or O(log n).
    pub const FAST: u32 = 1 << 11;
    /// Allowed before authentication.
    pub const NO_AUTH: u32 = 1 << 12;
    /// May replicate even when read-only (PUBLISH, EVAL...): refused to a
    /// monitor, held by CLIENT PAUSE WRITE like a write. Hidden from
    /// COMMAND INFO, as Redis hides it.
    pub const MAY_REPLICATE: u32 = 1 << 13;
    /// Not allowed inside MULTI.
    pub const NO_MULTI: u32 = 1 << 14;
    /// Keys cannot be found by a fixed range.
    pub const MOVABLE_KEYS: u32 = 1 << 15;
    /// Allowed while a script is busy.
    pub const ALLOW_BUSY: u32 = 1 << 16;
    /// Key arguments are optional.
    pub const NO_MANDATORY_KEYS: u32 = 1 << 17;
    /// Refused while a replica loads its dataset asynchronously.
    pub const NO_ASYNC_LOADING: u32 = 1 << 18;
    /// Refused unless `enable-debug-command` (DEBUG) or
    /// `enable-module-command` (MODULE LOAD, LOADEX, UNLOAD) allows it.
    /// Hidden from COMMAND INFO, as Redis hides it.
    pub const PROTECTED: u32 = 1 << 19;
    /// soquete: reads or writes the keyspace beyond its key arguments
    /// (KEYS, SCAN, DBSIZE, FLUSHDB, INFO...): EXEC locks every shard when
    /// one of these is queued.
    pub const WHOLE_KEYSPACE: u32 = 1 << 24;
    /// soquete: may read keys named by patterns in its arguments (SORT's
    /// BY and GET): the lock plan asks [`crate::cmd::sort::reads_patterns`]
    /// whether this call does, and then locks every shard of the database.
    pub const KEY_PATTERNS: u32 = 1 << 25;

    /// Names of the flags COMMAND INFO shows, in Redis's order.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        // MAY_REPLICATE and PROTECTED are hidden on purpose, as in Redis.
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// ACL categories a row names explicitly, as Redis's command table does
/// (`@write`, `@read`, `@admin`, `@dangerous`, `@pubsub`, `@fast`,
/// `@blocking` and `@slow` follow from the flags). The bits are in
/// Redis's order, the order COMMAND INFO lists them in.
pub mod cat {
    /// `@keyspace`
    pub const KEYSPACE: u32 = 1 << 0;
    /// `@read`
    pub const READ: u32 = 1 << 1;
    /// `@write`
    pub const WRITE: u32 = 1 << 2;
    /// `@set`
    pub const SET: u32 = 1 << 3;
    /// `@sortedset`
    pub const SORTEDSET: u32 = 1 << 4;
    /// `@list`
    pub const LIST: u32 = 1 << 5;
    /// `@hash`
    pub const HASH: u32 = 1 << 6;
    /// `@string`
    pub const STRING: u32 = 1 << 7;
    /// `@bitmap`
    pub const BITMAP: u32 = 1 << 8;
    /// `@hyperloglog`
    pub const HYPERLOGLOG: u32 = 1 << 9;
    /// `@geo`
    pub const GEO: u32 = 1 << 10;
    /// `@stream`
    pub const STREAM: u32 = 1 << 11;
    /// `@pubsub`
    pub const PUBSUB: u32 = 1 << 12;
    /// `@admin`
    pub const ADMIN: u32 = 1 << 13;
    /// `@fast`
    pub const FAST: u32 = 1 << 14;
    /// `@slow`
    pub const SLOW: u32 = 1 << 15;
    /// `@blocking`
    pub const BLOCKING: u32 = 1 << 16;
    /// `@dangerous`
    pub const DANGEROUS: u32 = 1 << 17;
    /// `@connection`
    pub const CONNECTION: u32 = 1 << 18;
    /// `@transaction`
    pub const TRANSACTION: u32 = 1 << 19;
    /// `@scripting`
    pub const SCRIPTING: u32 = 1 << 20;

    /// Category names without the `@`, by bit.
    pub const NAMES: &[&str] = &[
        "keyspace",
        "read",
        "write",
        "set",
        "sortedset",
        "list",
        "hash",
        "string",
        "bitmap",
        "hyperloglog",
        "geo",
        "stream",
        "pubsub",
        "admin",
        "fast",
        "slow",
        "blocking",
        "dangerous",
        "connection",
        "transaction",
        "scripting",
    ];

    /// The bit of a category name (without `@`, any case), 0 if unknown.
    pub fn by_name(name: &[u8]) -> u32 {
        NAMES
            .iter()
            .position(|n| n.as_bytes().eq_ignore_ascii_case(name))
            .map_or(0, |i| 1 << i)
    }
}

/// One row of the command table.
pub struct Spec {
    /// Lower-case name.
    pub name: &'static str,
    /// Redis arity: N exactly N arguments (name included), -N at least N.
    pub arity: i32,
    /// [`flags`] bits.
    pub flags: u32,
    /// Key positions, for locking (and MULTI, prefetching). They find the
    /// same keys as `key_specs` (a unit test holds them together) and,
    /// where a command reaches another database, the database too.
    pub keys: Keys,
    /// Command group (`string`, `generic`, `server`...). Its summary,
    /// version and complexity are Redis's own documentation, in
    /// [`docs`].
    pub group: &'static str,
    /// The handler; container commands dispatch to `subcommands` instead.
    pub handler: Handler,
    /// ACL categories named explicitly ([`cat`] bits), as in Redis's table.
    pub acl: u32,
    /// Redis 7.0's key specifications ([`ks`]): COMMAND INFO, GETKEYS,
    /// the legacy key range and `movablekeys` come from them.
    pub key_specs: &'static [ks::KeySpec],
    /// Redis's command tips (`nondeterministic_output`,
    /// `request_policy:all_shards`...).
    pub tips: &'static [&'static str],
    /// Subcommands of a container command (CONFIG GET, CLIENT LIST...).
    pub subcommands: &'static [Spec],
}

impl Spec {
    /// The row of a keyless `server` group command or subcommand (SAVE,
    /// LATENCY's, MODULE's...), its ACL categories all implied by its
    /// flags.
    pub const fn keyless_server(
        name: &'static str,
        arity: i32,
        flags: u32,
        handler: Handler,
        tips: &'static [&'static str],
    ) -> Spec {
        Spec {
            name,
            arity,
            flags,
            keys: Keys::None,
            group: "server",
            handler,
            acl: 0,
            key_specs: &[],
            tips,
            subcommands: &[],
        }
    }

    /// True when `argc` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let a = self.arity as i64;
        if a >= 0 {
            argc == a
        } else {
            argc >= -a
        }
    }

    /// True when the flag bit(s) are set.
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// Appends the `(db, key)` pairs this call touches.
    pub fn keys_of<'x>(&self, argv: &[&'x [u8]], db: usize, out: &mut Vec<(usize, &'x [u8])>) {
        match self.keys {
            Keys::None => {}
            Keys::Range(first, last, step) => {
                let argc = argv.len() as i32;
                let last = if last < 0 {
                    argc + last
                } else {
                    last.min(argc - 1)
                };
                let mut i = first;
                while i <= last && i < argc {
                    out.push((db, argv[i as usize]));
                    i += step.max(1);
                }
            }
            Keys::Custom(f) => f(argv, db, out),
        }
    }
}

/// Looks `key` up for a read command, counting a keyspace hit or miss as
/// Redis's `lookupKeyRead` does. Each type's group downcasts the entry.
pub fn lookup_read<'k>(
    ks: &'k mut Locked<'_>,
    stats: &LoopStats,
    key: &[u8],
) -> Option<&'k mut crate::db::Entry> {
    let entry = ks.get(key);
    match entry {
        None => stats.miss(),
        Some(_) => stats.hit(),
    }
    entry
}

/// Looks a command up by the name clients call it, case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static Spec> {
    lookup_index(name).map(|i| table::commands()[i])
}

/// The position of a command in [`table::commands`], by the name clients
/// call it (after `rename-command`, see [`names`]).
#[inline]
pub(crate) fn lookup_index(name: &[u8]) -> Option<usize> {
    names::index(name)
}

/// The position of a command in [`table::commands`] by its own name,
/// renamed or not (ACL rules use it).
pub(crate) fn original_index(name: &[u8]) -> Option<usize> {
    names::original_index(name)
}

/// Finds a subcommand of `parent` by name, case-insensitively.
pub fn lookup_sub(parent: &'static Spec, name: &[u8]) -> Option<&'static Spec> {
    lookup_sub_index(parent, name).map(|j| &parent.subcommands[j])
}

pub(crate) fn lookup_sub_index(parent: &'static Spec, name: &[u8]) -> Option<usize> {
    parent
        .subcommands
        .iter()
        .position(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
}
