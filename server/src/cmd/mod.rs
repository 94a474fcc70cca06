//! Commands: the static table, dispatch, and one file per group.
//!
//! The table ([`table::commands`]) is the single source of truth: name,
//! arity, flags, key positions, group and handler. Arity errors, COMMAND
//! INFO/DOCS/COUNT, key extraction for locking and MULTI/EXEC all read it. To
//! add a command: write its handler in the group's file, add one row to the
//! `COMMANDS` list at the end of that file, add its tests (a differential script in `server/tests/diff/`).

pub mod args;
pub mod blocking;
pub mod connection;
pub mod docs;
pub mod hash;
pub mod keys;
pub mod list;
pub mod pubsub;
pub mod server;
pub mod set;
pub mod string;
pub mod table;
pub mod transaction;
pub mod zset;

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::client::Client;
use crate::db::{hash_key, shard_of, Locked, ShardId};
use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::server::{LoopStats, Shared};

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
    /// The triple is the first/last/step COMMAND INFO shows, as Redis's.
    Custom(KeyFinder, (i32, i32, i32)),
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
    /// May replicate even when read-only.
    pub const MAY_REPLICATE: u32 = 1 << 13;
    /// Not allowed inside MULTI.
    pub const NO_MULTI: u32 = 1 << 14;
    /// Keys cannot be found by a fixed range.
    pub const MOVABLE_KEYS: u32 = 1 << 15;
    /// Allowed while a script is busy.
    pub const ALLOW_BUSY: u32 = 1 << 16;
    /// Key arguments are optional.
    pub const NO_MANDATORY_KEYS: u32 = 1 << 17;
    /// soquete: reads or writes the keyspace beyond its key arguments
    /// (KEYS, SCAN, DBSIZE, FLUSHDB, INFO...): EXEC locks every shard when
    /// one of these is queued.
    pub const WHOLE_KEYSPACE: u32 = 1 << 24;

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
        (MAY_REPLICATE, "may_replicate"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
    ];
}

/// One row of the command table.
pub struct Spec {
    /// Lower-case name.
    pub name: &'static str,
    /// Redis arity: N exactly N arguments (name included), -N at least N.
    pub arity: i32,
    /// [`flags`] bits.
    pub flags: u32,
    /// Key positions.
    pub keys: Keys,
    /// Command group (`string`, `generic`, `server`...).
    pub group: &'static str,
    /// Redis version that introduced it.
    pub since: &'static str,
    /// One-line summary (COMMAND DOCS).
    pub summary: &'static str,
    /// Time complexity (COMMAND DOCS).
    pub complexity: &'static str,
    /// The handler; container commands dispatch to `subcommands` instead.
    pub handler: Handler,
    /// Subcommands of a container command (CONFIG GET, CLIENT LIST...).
    pub subcommands: &'static [Spec],
}

impl Spec {
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
            Keys::Custom(f, _) => f(argv, db, out),
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

/// Looks a command up by name, case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static Spec> {
    lookup_index(name).map(|i| table::commands()[i])
}

/// The position of a command in [`table::commands`], by name.
fn lookup_index(name: &[u8]) -> Option<usize> {
    static INDEX: OnceLock<HashMap<&'static [u8], usize, ahash::RandomState>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        table::commands()
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_bytes(), i))
            .collect()
    });
    let mut lower = [0u8; 32];
    if name.len() > lower.len() {
        return None;
    }
    let lower = &mut lower[..name.len()];
    for (d, s) in lower.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    index.get(&*lower).copied()
}

/// Finds a subcommand of `parent` by name, case-insensitively.
pub fn lookup_sub(parent: &'static Spec, name: &[u8]) -> Option<&'static Spec> {
    lookup_sub_index(parent, name).map(|j| &parent.subcommands[j])
}

fn lookup_sub_index(parent: &'static Spec, name: &[u8]) -> Option<usize> {
    parent
        .subcommands
        .iter()
        .position(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
}

/// The command a request resolves to, after container commands picked their
/// subcommand, with its full name (`config|get`).
pub struct Resolved {
    /// The row that runs.
    pub spec: &'static Spec,
    /// The container command, when `spec` is a subcommand.
    pub parent: Option<&'static Spec>,
    /// A compact id of the command (see [`table::full_name_by_index`]).
    pub id: u16,
}

impl Resolved {
    /// `name` or `parent|name`, as Redis's error messages show it.
    pub fn full_name(&self) -> String {
        match self.parent {
            Some(p) => format!("{}|{}", p.name, self.spec.name),
            None => self.spec.name.to_string(),
        }
    }
}

/// Resolves argv to a command, or the error Redis gives: unknown command,
/// unknown subcommand, or wrong number of arguments.
pub fn resolve(argv: &[&[u8]]) -> Result<Resolved, CmdError> {
    let Some(i) = lookup_index(argv[0]) else {
        return Err(CmdError::unknown_command(argv[0], &argv[1..]));
    };
    let spec = table::commands()[i];
    if spec.subcommands.is_empty() || argv.len() < 2 {
        if !spec.arity_ok(argv.len()) {
            return Err(CmdError::arity(spec.name));
        }
        return Ok(Resolved {
            spec,
            parent: None,
            id: table::command_id(i, None),
        });
    }
    let Some(j) = lookup_sub_index(spec, argv[1]) else {
        return Err(CmdError::unknown_subcommand(spec.name, argv[1]));
    };
    let r = Resolved {
        spec: &spec.subcommands[j],
        parent: Some(spec),
        id: table::command_id(i, Some(j)),
    };
    if !r.spec.arity_ok(argv.len()) {
        return Err(CmdError::Arity(r.full_name()));
    }
    Ok(r)
}

/// How to lock the keyspace for one command or a whole transaction.
#[derive(Default)]
pub struct LockPlan {
    /// Lock every shard of every database.
    pub all: bool,
    /// The shards to lock otherwise.
    pub shards: Vec<ShardId>,
}

impl LockPlan {
    /// Empties the plan for reuse.
    pub fn clear(&mut self) {
        self.all = false;
        self.shards.clear();
    }

    /// Adds what `spec` called with `argv` in database `db` needs.
    /// `in_multi` makes whole-keyspace commands lock everything (outside a
    /// transaction they walk shards one at a time).
    pub fn add(&mut self, spec: &Spec, argv: &[&[u8]], db: usize, in_multi: bool) {
        if self.all {
            return;
        }
        if in_multi && spec.has(flags::WHOLE_KEYSPACE) {
            self.all = true;
            return;
        }
        let mut keys = Vec::new();
        spec.keys_of(argv, db, &mut keys);
        for (db, key) in keys {
            self.shards
                .push((db as u32, shard_of(hash_key(key)) as u32));
        }
    }
}

static PANICS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many command handlers panicked (and were answered with an internal
/// error) in this process: always 0 unless there is a bug. The command
/// fuzz target watches it.
pub fn panics() -> u64 {
    PANICS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Calls a handler, turning a panic (a bug: handlers must not panic on any
/// input) into an error reply so that one bad command cannot take the server
/// down. Shard locks are released by unwinding; their poison is ignored
/// because every table mutation completes before it returns.
pub fn run_handler(spec: &Spec, ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let before = ctx.out.buf.len();
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (spec.handler)(ctx, argv))) {
        Ok(r) => r,
        Err(_) => {
            PANICS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            ctx.out.buf.truncate(before);
            crate::warning!(
                "BUG: command '{}' panicked; replied with an error",
                spec.name
            );
            Err(CmdError::msg(
                "ERR internal error (this is a bug in soquete)",
            ))
        }
    }
}

/// After a successful write command, marks its keys modified for the
/// clients WATCHing them (nothing to do, and nothing done, when nobody
/// watches). A write that changed nothing still counts: that is stricter
/// than Redis (EXEC may fail where Redis's would not), never looser.
pub fn signal_writes(spec: &Spec, argv: &[&[u8]], ctx: &mut Ctx<'_>) {
    note_ready(spec, argv, ctx);
    if !spec.has(flags::WRITE)
        || ctx
            .shared
            .watching
            .load(std::sync::atomic::Ordering::Relaxed)
            == 0
    {
        return;
    }
    let mut keys = Vec::new();
    spec.keys_of(argv, ctx.ks.db, &mut keys);
    let dbs = ctx.shared.keyspace.databases();
    for (db, key) in keys {
        if db < dbs {
            ctx.ks.signal(db, key);
        }
    }
}

/// After a successful write command, notes its keys that blocked clients
/// wait on (nothing to do when nobody is blocked).
pub fn note_ready(spec: &Spec, argv: &[&[u8]], ctx: &mut Ctx<'_>) {
    if !spec.has(flags::WRITE) || ctx.shared.blocking.count() == 0 {
        return;
    }
    let mut keys = Vec::new();
    spec.keys_of(argv, ctx.ks.db, &mut keys);
    for (db, key) in keys {
        if ctx.shared.blocking.has_waiters(db, key)
            && !ctx.ready.iter().any(|(d, k)| *d == db && k == key)
        {
            ctx.ready.push((db, key.to_vec()));
        }
    }
}

/// What running a command needs from the event loop.
pub struct Env<'a> {
    /// Server-wide state.
    pub shared: &'a Shared,
    /// The loop's counters.
    pub stats: &'a LoopStats,
    /// A reusable lock plan.
    pub plan: &'a mut LockPlan,
    /// The batch's clock, Unix ms.
    pub now: u64,
    /// When the previous command of the batch ended (or the batch began):
    /// a command's duration for SLOWLOG runs from here to its end, so each
    /// command reads the clock once.
    pub clock: std::time::Instant,
}

/// Runs a resolved command with the keyspace locked as its keys require.
/// The caller handled MULTI queueing, authentication and protocol checks.
pub fn call(r: &Resolved, argv: &[&[u8]], out: &mut Reply, client: &mut Client, env: &mut Env<'_>) {
    let Env {
        shared,
        stats,
        plan,
        now,
        clock,
    } = env;
    let (shared, stats, now) = (*shared, *stats, *now);
    plan.clear();
    plan.add(r.spec, argv, client.db, false);
    let reply_start = out.buf.len();
    let ks = if plan.all {
        shared.keyspace.lock_all(client.db, now)
    } else if plan.shards.is_empty() {
        shared.keyspace.unlocked(client.db, now)
    } else {
        shared.keyspace.lock(&mut plan.shards, client.db, now)
    };
    let mut ctx = Ctx {
        ks,
        out,
        client,
        shared,
        stats,
        ready: Vec::new(),
        pushes: Vec::new(),
        ready_later: Vec::new(),
    };
    let result = run_handler(r.spec, &mut ctx, argv);
    if result.is_ok() {
        signal_writes(r.spec, argv, &mut ctx);
    }
    if crate::db::LOG_EVENTS.load(std::sync::atomic::Ordering::Relaxed) {
        let events = ctx.ks.take_events();
        crate::notify::publish_logged(shared, events);
    }
    let mut later = std::mem::take(&mut ctx.ready_later);
    if !ctx.ready.is_empty() {
        let ready = std::mem::take(&mut ctx.ready);
        blocking::serve(&mut ctx.ks, shared, &ready, &mut later);
    }
    let pushes = std::mem::take(&mut ctx.pushes);
    drop(ctx);
    if !pushes.is_empty() {
        let mut before = Reply {
            buf: Vec::new(),
            resp3: out.resp3,
        };
        for d in &pushes {
            d.write_to(&mut before);
        }
        out.buf.splice(reply_start..reply_start, before.buf);
    }
    if !later.is_empty() {
        blocking::serve_deferred(shared, later, now);
    }
    if let Err(e) = result {
        stats.count_error();
        out.error(&e);
    }
    let ended = std::time::Instant::now();
    let took = ended.saturating_duration_since(*clock);
    *clock = ended;
    shared.slowlog_maybe(took.as_micros() as u64, argv, &client.meta);
}
