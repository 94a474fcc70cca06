//! How a request runs: resolving it to a command, the policy around the
//! call (authentication, subscribed context, MULTI queueing, EXECABORT),
//! locking the keyspace as the command's keys require, the handler, and
//! what follows a write (WATCH, blocked clients, notifications, SLOWLOG).

use std::sync::atomic::{AtomicU64, Ordering};

use super::{blocking, flags, lookup_index, lookup_sub_index, table, Ctx, Spec};
use crate::acl::log::{Context, Reason};
use crate::acl::Denial;
use crate::client::Client;
use crate::db::{shard_of, ShardId};
use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::shared::{LoopStats, Shared};
use crate::util::hash::hash_key;

/// The reply to a protocol error: Redis's words, with the offending byte
/// as sent (not re-encoded), CR/LF made harmless by the error writer.
pub fn protocol_error(e: &soquete_resp::Error) -> CmdError {
    let mut line = b"ERR Protocol error: ".to_vec();
    e.write_message(&mut line);
    CmdError::Line(line)
}

/// Runs one request: resolves the command, checks authentication, queues it
/// inside MULTI, or runs it.
#[inline]
pub fn execute(argv: &[&[u8]], client: &mut Client, out: &mut Reply, env: &mut Env<'_>) {
    let shared = env.shared;
    let r = match resolve(argv) {
        Ok(r) => r,
        Err(e) => {
            let id = matches!(e, CmdError::Arity(_))
                .then(|| found_id(argv))
                .flatten();
            return reject(argv, client, out, env, e, id);
        }
    };
    client.meta.last_cmd.store(r.id, Ordering::Relaxed);
    if r.spec.flags & flags::PROTECTED != 0 {
        if let Some(e) = protected_refusal(&r, client, shared) {
            return reject(argv, client, out, env, e, Some(r.id));
        }
    }
    if !client.authenticated && !r.spec.has(flags::NO_AUTH) {
        if shared.acl.auth_required() {
            return reject(argv, client, out, env, CmdError::NoAuth, Some(r.id));
        }
        client.authenticated = true;
    }
    // ACL: one atomic load and two tests for a user that may run anything.
    // Written out rather than through `acl_check`, whose call here cost
    // ~7 more instructions per command (callgrind) in the code around it.
    if let Err(d) = client
        .acl
        .check(&shared.acl, || client.meta.user(), r.spec, r.id, argv)
    {
        let context = if client.multi.is_some() {
            Context::Multi
        } else {
            Context::Toplevel
        };
        acl_log(shared, client, argv, &r, d, context);
        return reject(argv, client, out, env, noperm(&r, d), Some(r.id));
    }
    // A script past busy-reply-threshold: one relaxed load otherwise.
    if crate::script::busy::busy_count() != 0 && !r.spec.has(flags::ALLOW_BUSY) {
        return reject(
            argv,
            client,
            out,
            env,
            crate::script::busy::busy_error(),
            Some(r.id),
        );
    }
    // The memory ceiling: one relaxed load while `maxmemory` is 0.
    if crate::evict::maxmemory() != 0 && !client.replaying && out_of_memory(&r, argv, client, env) {
        return reject(argv, client, out, env, CmdError::msg(OOM), Some(r.id));
    }
    // Snapshots: refusals while loading or after a failed background
    // save; two relaxed loads otherwise.
    if shared.persist.refusing() && !client.replaying {
        if let Some(e) = persistence_refusal(&r, argv, client, shared) {
            return reject(argv, client, out, env, e, Some(r.id));
        }
    }
    if !out.resp3 && client.subs.active() {
        let name = r.parent.unwrap_or(r.spec).name;
        if !super::pubsub::allowed_when_subscribed(name) {
            return reject(
                argv,
                client,
                out,
                env,
                CmdError::msg(format!(
                    "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                    r.full_name()
                )),
                Some(r.id),
            );
        }
    }
    if client.monitor && r.spec.flags & (flags::READONLY | flags::WRITE | flags::MAY_REPLICATE) != 0
    {
        // Redis refuses a replica (a monitor is one) the keyspace.
        return reject(
            argv,
            client,
            out,
            env,
            CmdError::msg("ERR Replica can't interact with the keyspace"),
            Some(r.id),
        );
    }
    // CLIENT PAUSE: one relaxed load unless a pause is set.
    if shared.pause.active() && paused(&r, argv, client, env.now, shared) {
        client.postponed = true;
        client.meta.blocked.store(true, Ordering::Relaxed);
        return;
    }
    if let Some(m) = &mut client.multi {
        if !super::transaction::controls_multi(r.spec) {
            // Redis counts an argument's bytes and a pointer per argument.
            let mem = argv.iter().map(|a| a.len() + 8).sum::<usize>();
            m.queue.push(crate::client::Queued {
                argv: argv.iter().map(|a| a.to_vec()).collect(),
            });
            client.meta.multi_count.fetch_add(1, Ordering::Relaxed);
            client.meta.multi_mem.fetch_add(mem, Ordering::Relaxed);
            out.buf.extend_from_slice(b"+QUEUED\r\n");
            return;
        }
    }
    call(&r, argv, out, client, env);
}

/// Refuses a request before it runs (Redis's `rejectCommand` and
/// `execCommandAbort`): the error counts, and so does a rejected call of
/// the command when one was found (`id`); a transaction in progress is
/// flagged, and a refused EXEC ends the transaction.
fn reject(
    argv: &[&[u8]],
    client: &mut Client,
    out: &mut Reply,
    env: &mut Env<'_>,
    e: CmdError,
    id: Option<u16>,
) {
    let (shared, stats) = (env.shared, env.stats);
    // The command found, not its name: a renamed EXEC aborts, an unknown
    // `exec` (EXEC renamed away) does not.
    let exec = id.is_some_and(|id| {
        id >> 9 == 0
            && table::commands()
                .get(usize::from(id))
                .is_some_and(|s| s.name == "exec")
    });
    if exec {
        // Redis's execCommandAbort: a refused EXEC ends the transaction.
        client.multi = None;
        client.meta.multi.store(false, Ordering::Relaxed);
        super::transaction::unwatch_all(client, shared);
        let mut line = b"EXECABORT Transaction discarded because of: ".to_vec();
        let mut text = Vec::new();
        e.write_to(&mut text);
        let text = text
            .get(1..text.len().saturating_sub(2))
            .unwrap_or_default();
        // Errors Redis formats on the spot carry no code word here;
        // shared error objects (NOAUTH) keep theirs.
        line.extend_from_slice(text.strip_prefix(b"ERR ").unwrap_or(text));
        out.error(&CmdError::Line(line), stats);
        // Monitors saw MULTI: they see the EXEC that ended it.
        if shared.monitors.any() {
            shared
                .monitors
                .feed(env.outbox, client.db, &client.meta, argv, &[]);
        }
    } else {
        if let Some(m) = &mut client.multi {
            m.dirty = true;
        }
        out.error(&e, stats);
    }
    match id {
        Some(id) => stats.cmd_rejected(id),
        None => stats.mark_errors(),
    }
}

/// The -NOPERM reply to a command its user may not run (Redis's
/// `processCommand`).
#[cold]
fn noperm(r: &Resolved, d: Denial) -> CmdError {
    match d {
        Denial::Command => CmdError::msg(format!(
            "NOPERM this user has no permissions to run the '{}' command",
            r.full_name()
        )),
        Denial::Key(_) => CmdError::msg(
            "NOPERM this user has no permissions to access one of the keys used as arguments",
        ),
        Denial::Channel(_) => CmdError::msg(
            "NOPERM this user has no permissions to access one of the channels used as arguments",
        ),
    }
}

/// The -NOPERM reply to a queued command its user may no longer run when
/// EXEC runs it (Redis's `execCommand`).
#[cold]
pub fn noperm_at_exec(d: Denial) -> CmdError {
    let reason = match d {
        Denial::Command => "no permission to execute the command or subcommand",
        Denial::Key(_) => "no permission to touch the specified keys",
        Denial::Channel(_) => "no permission to access one of the channels used as arguments",
    };
    CmdError::msg(format!(
        "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {reason}"
    ))
}

/// Whether the client's ACL user may run `r` with `argv`; a refusal is
/// logged in the ACL LOG, under `context` (`Toplevel` becomes `Multi` for
/// a client inside MULTI or running EXEC). Every place a command runs asks
/// it: EXEC for each queued command, and scripts' calls (dispatch writes
/// the same check out, see `execute`).
#[inline]
pub fn acl_check(
    shared: &Shared,
    client: &mut Client,
    argv: &[&[u8]],
    r: &Resolved,
    context: Context,
) -> Result<(), Denial> {
    match client
        .acl
        .check(&shared.acl, || client.meta.user(), r.spec, r.id, argv)
    {
        Ok(()) => Ok(()),
        Err(d) => Err(acl_refused(shared, client, argv, r, d, context)),
    }
}

/// [`acl_check`]'s refusal, out of the way of the allowed path: logged,
/// then handed back.
#[cold]
#[inline(never)]
fn acl_refused(
    shared: &Shared,
    client: &Client,
    argv: &[&[u8]],
    r: &Resolved,
    d: Denial,
    context: Context,
) -> Denial {
    let context = match context {
        Context::Toplevel if client.multi.is_some() || client.in_exec => Context::Multi,
        other => other,
    };
    acl_log(shared, client, argv, r, d, context);
    d
}

/// Logs a refused command in the ACL LOG (Redis's `addACLLogEntry`): the
/// object is the command's full name, or the key or channel at fault.
#[cold]
fn acl_log(
    shared: &Shared,
    client: &Client,
    argv: &[&[u8]],
    r: &Resolved,
    d: Denial,
    context: Context,
) {
    let object = match d {
        Denial::Command => r.full_name().into_bytes(),
        Denial::Key(i) | Denial::Channel(i) => argv.get(i).map_or(Vec::new(), |a| a.to_vec()),
    };
    acl_log_entry(shared, client, argv, Reason::from(d), context, object, None);
}

/// Adds an entry to the ACL LOG for `client` running `argv`: `username`
/// is the client's user unless given (a failed AUTH names the user it
/// tried).
pub fn acl_log_entry(
    shared: &Shared,
    client: &Client,
    argv: &[&[u8]],
    reason: Reason,
    context: Context,
    object: Vec<u8>,
    username: Option<Vec<u8>>,
) {
    let now = crate::shared::unix_ms();
    let argv_mem = argv.iter().map(|a| a.len()).sum();
    let client_info = client.meta.info_line(now, argv_mem, |id| {
        table::full_name_by_index(usize::from(id))
    });
    let max_len = shared
        .config()
        .get_by_name("acllog-max-len")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(128);
    let entry = crate::acl::log::Entry {
        count: 1,
        reason,
        context,
        object,
        username: username.unwrap_or_else(|| client.meta.user()),
        ctime: now,
        client_info,
    };
    shared.acl.log().add(entry, max_len);
}

/// Redis's refusal of a `PROTECTED` command (DEBUG; MODULE LOAD, LOADEX,
/// UNLOAD) that `enable-debug-command` or `enable-module-command` does not
/// allow this client, before authentication and MULTI queueing, as in
/// Redis's `processCommand`.
#[cold]
#[inline(never)]
fn protected_refusal(r: &Resolved, client: &Client, shared: &Shared) -> Option<CmdError> {
    let debug = r.parent.is_none() && r.spec.name == "debug";
    let (allow, what, option) = {
        let config = shared.config();
        if debug {
            (config.enable_debug_command, "DEBUG", "enable-debug-command")
        } else {
            (
                config.enable_module_command,
                "MODULE",
                "enable-module-command",
            )
        }
    };
    if allow.permits(client.meta.is_local()) {
        return None;
    }
    Some(CmdError::msg(format!(
        "ERR {what} command not allowed. If the {option} option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."
    )))
}

/// Redis's `shared.oomerr`.
const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Redis's `processCommand` under `maxmemory`: evicts what the policy
/// allows (before every command, as Redis does), and says whether this
/// command must be refused: a `denyoom` command (an EXEC by what it
/// queued), or inside MULTI anything but EXEC, DISCARD, QUIT and RESET,
/// when memory is still over the limit and nothing could be evicted.
#[cold]
#[inline(never)]
fn out_of_memory(r: &Resolved, argv: &[&[u8]], client: &Client, env: &mut Env<'_>) -> bool {
    if crate::evict::perform(env.shared, env.outbox, env.now) != crate::evict::Outcome::Fail {
        return false;
    }
    let name = r.parent.unwrap_or(r.spec).name;
    if client.multi.is_some() && !matches!(name, "exec" | "discard" | "quit" | "reset") {
        return true;
    }
    let shared = env.shared;
    if crate::script::command_flags(r.spec, argv, shared) & flags::DENYOOM != 0 {
        return true;
    }
    let exec = r.parent.is_none() && name == "exec";
    exec && queued_has(client, flags::DENYOOM, shared)
}

/// True when a command queued in the client's transaction runs with one
/// of `flag` (as [`crate::script::command_flags`] sees it).
fn queued_has(client: &Client, flag: u32, shared: &Shared) -> bool {
    client.multi.as_ref().is_some_and(|m| {
        m.queue.iter().any(|q| {
            let argv: Vec<&[u8]> = q.argv.iter().map(Vec::as_slice).collect();
            resolve(&argv)
                .is_ok_and(|q| crate::script::command_flags(q.spec, &argv, shared) & flag != 0)
        })
    })
}

/// Whether CLIENT PAUSE holds this command now: under WRITE, commands
/// that write or may replicate (an EXEC by what it queued), as Redis's
/// `processCommand`; under ALL, everything.
#[cold]
#[inline(never)]
fn paused(r: &Resolved, argv: &[&[u8]], client: &Client, now: u64, shared: &Shared) -> bool {
    let risky = flags::WRITE | flags::MAY_REPLICATE;
    shared.pause.holds(now, || {
        if crate::script::command_flags(r.spec, argv, shared) & risky != 0 {
            return true;
        }
        let exec = r.parent.is_none() && r.spec.name == "exec";
        exec && queued_has(client, risky, shared)
    })
}

/// Redis's MISCONF and LOADING refusals: writes (and PING) while the last
/// background save failed, with `stop-writes-on-bgsave-error` and save
/// points set; any command without the `loading` flag while the dataset
/// loads.
fn persistence_refusal(
    r: &Resolved,
    argv: &[&[u8]],
    client: &Client,
    shared: &Shared,
) -> Option<CmdError> {
    let p = &shared.persist;
    let spec = r.parent.unwrap_or(r.spec);
    if (p.bgsave_failed() || p.aof.write_failed())
        && (writes(r, argv, client, shared) || spec.name == "ping")
    {
        if let Some(e) = disk_error(shared) {
            return Some(e);
        }
    }
    if p.loading() && !r.spec.has(flags::LOADING) {
        return Some(CmdError::msg(
            "LOADING Redis is loading the dataset in memory",
        ));
    }
    None
}

/// Redis's `writeCommandsDeniedByDiskError` with its message: the last
/// background save failed (with `stop-writes-on-bgsave-error` and save
/// points set), or writing the append-only file failed.
pub fn disk_error(shared: &Shared) -> Option<CmdError> {
    let p = &shared.persist;
    if p.bgsave_failed() {
        let config = shared.config();
        let stop = config.get_by_name("stop-writes-on-bgsave-error").as_deref() == Some("yes");
        if stop && !config.save.is_empty() {
            return Some(CmdError::msg(
                "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.",
            ));
        }
    }
    if p.aof.write_failed() {
        return Some(CmdError::msg(format!(
            "MISCONF Errors writing to the AOF file: {}",
            p.aof.last_error()
        )));
    }
    None
}

/// True for a write command (a script by its flags), or an EXEC whose
/// queue holds one.
fn writes(r: &Resolved, argv: &[&[u8]], client: &Client, shared: &Shared) -> bool {
    if crate::script::command_flags(r.spec, argv, shared) & flags::WRITE != 0 {
        return true;
    }
    let exec = r.parent.is_none() && r.spec.name == "exec";
    exec && queued_has(client, flags::WRITE, shared)
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

/// The id of the command argv names, even with the wrong number of
/// arguments (what Redis's `lookupCommand` finds): `None` for an unknown
/// command or subcommand.
fn found_id(argv: &[&[u8]]) -> Option<u16> {
    let i = lookup_index(argv[0])?;
    let spec = table::commands()[i];
    if spec.subcommands.is_empty() || argv.len() < 2 {
        return Some(table::command_id(i, None));
    }
    let j = lookup_sub_index(spec, argv[1])?;
    Some(table::command_id(i, Some(j)))
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
        // Redis names the container as typed (a renamed CONFIG is CFG).
        return Err(CmdError::unknown_subcommand(
            &String::from_utf8_lossy(argv[0]),
            argv[1],
        ));
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
    /// Whole-keyspace commands lock everything inside a transaction
    /// (`in_multi`) and when they write (FLUSHALL, SWAPDB: the
    /// append-only file must see them in an order they could have run
    /// in); read-only ones outside a transaction walk shards one at a
    /// time.
    pub fn add(&mut self, spec: &Spec, argv: &[&[u8]], db: usize, in_multi: bool) {
        if self.all {
            return;
        }
        if spec.flags & (flags::WHOLE_KEYSPACE | flags::KEY_PATTERNS) != 0
            && self.add_special(spec, argv, db, in_multi)
        {
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

impl LockPlan {
    /// The plans of the rare commands that need more than their keys:
    /// whole-keyspace commands (everything, see [`LockPlan::add`]) and
    /// SORT with BY/GET patterns (every shard of database `db`, see
    /// [`super::sort`]). True when the plan is complete.
    #[cold]
    #[inline(never)]
    fn add_special(&mut self, spec: &Spec, argv: &[&[u8]], db: usize, in_multi: bool) -> bool {
        if spec.has(flags::WHOLE_KEYSPACE) {
            if in_multi || spec.has(flags::WRITE) {
                self.all = true;
                return true;
            }
            return false;
        }
        if super::sort::reads_patterns(argv) {
            let db = db as u32;
            self.shards
                .extend((0..crate::db::SHARDS as u32).map(|s| (db, s)));
        }
        false
    }
}

static PANICS: AtomicU64 = AtomicU64::new(0);

/// How many command handlers panicked (and were answered with an internal
/// error) in this process: always 0 unless there is a bug. The command
/// fuzz target watches it.
pub fn panics() -> u64 {
    PANICS.load(Ordering::Relaxed)
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
            PANICS.fetch_add(1, Ordering::Relaxed);
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

/// After a successful command, notes the keys it wrote that clients are
/// blocked on. (WATCH is not done here: a handler marks a key modified
/// where it changes it, through [`super::Ctx::notify`] or the keyspace's
/// own writes, so a write that changed nothing touches nothing.)
pub fn signal_writes(spec: &Spec, argv: &[&[u8]], ctx: &mut Ctx<'_>) {
    blocking::note_ready(spec, argv, ctx);
}

/// What follows a command while some client tracks keys (Redis's
/// `trackingInvalidateKey` for what it changed, then
/// `trackingRememberKeys` for what it read): invalidations go out, those
/// for the caller itself wait in its `tracking_pending` until its reply is
/// written.
pub fn track(
    spec: &Spec,
    argv: &[&[u8]],
    client: &mut Client,
    shared: &Shared,
    outbox: &mut crate::pubsub::Outbox,
) {
    let id = client.id();
    let mut own = shared.tracking.invalidate(shared, outbox, id);
    if let Some(t) = client.tracking.as_deref() {
        if spec.has(flags::READONLY) && !spec.has(flags::PUBSUB) && t.remembers() {
            let mut keys = Vec::new();
            spec.keys_of(argv, client.db, &mut keys);
            if !keys.is_empty() {
                let max = shared.config().tracking_table_max_keys as usize;
                own.extend(shared.tracking.remember(
                    keys.iter().map(|(_, k)| *k),
                    id,
                    max,
                    shared,
                    outbox,
                ));
            }
        }
    }
    if !own.is_empty() {
        let resp3 = client.meta.resp.load(Ordering::Relaxed) >= 3;
        crate::tracking::write_own(
            &own,
            &mut client.tracking_pending,
            resp3,
            client.tracking.as_deref_mut(),
        );
        client.meta.show_tracking(client.tracking.as_deref());
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
    /// Where pub/sub messages wait until the running loop sends them.
    pub outbox: &'a mut crate::pubsub::Outbox,
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
        outbox,
    } = env;
    let (shared, stats, now) = (*shared, *stats, *now);
    stats.mark_errors();
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
    // The append-only file: one relaxed load when it is off.
    let aof_on = shared.persist.aof.on() && !client.replaying;
    let dirty_before = if aof_on {
        stats.dirty.load(Ordering::Relaxed)
    } else {
        0
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
        outbox,
        propagating: aof_on,
    };
    let result = run_handler(r.spec, &mut ctx, argv);
    // Whether this command failed is decided before clients blocked on
    // its keys are served: their errors are theirs (Redis serves them
    // after call() returns).
    let failed = stats.errors_since_mark() || result.is_err();
    if result.is_ok() {
        signal_writes(r.spec, argv, &mut ctx);
    }
    let events = if crate::db::LOG_EVENTS.load(Ordering::Relaxed) {
        ctx.ks.take_events()
    } else {
        Vec::new()
    };
    if aof_on {
        // Logged while this command's locks are held: commands on the
        // same keys reach the log in the order they ran. EXEC finished
        // its queued commands itself.
        let changed = stats.dirty.load(Ordering::Relaxed) != dirty_before;
        let db = ctx.ks.db;
        let is_write = r.spec.has(flags::WRITE) && result.is_ok();
        super::propagate::finish(db, argv, is_write, changed, &events);
        super::propagate::flush_to(&shared.persist.aof);
    }
    if !events.is_empty() {
        crate::notify::publish_logged(shared, ctx.outbox, events);
    }
    let mut later = std::mem::take(&mut ctx.ready_later);
    if !ctx.ready.is_empty() {
        let ready = std::mem::take(&mut ctx.ready);
        blocking::serve(&mut ctx.ks, shared, stats, ctx.outbox, &ready, &mut later);
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
        // A silenced client (CLIENT REPLY OFF) still gets its pushes.
        client.keep = reply_start + before.buf.len();
        out.buf.splice(reply_start..reply_start, before.buf);
    }
    if !later.is_empty() {
        blocking::serve_deferred(shared, stats, outbox, later, now);
    }
    if let Err(e) = result {
        out.error(&e, stats);
    }
    if crate::tracking::active() {
        track(r.spec, argv, client, shared, outbox);
        out.buf.append(&mut client.tracking_pending);
        if let Some(t) = client.tracking.as_deref_mut() {
            if client.multi.is_none() && r.parent.unwrap_or(r.spec).name != "client" {
                t.caching = false;
            }
        }
    }
    let ended = std::time::Instant::now();
    let took = ended.saturating_duration_since(*clock).as_micros() as u64;
    *clock = ended;
    // A client that blocked records its latency when it is served, as in
    // Redis.
    let latency = shared.hot.latency_tracking.load(Ordering::Relaxed) && client.blocked.is_none();
    stats.cmd_called(r.id, took, latency, failed);
    observe(r.spec, argv, client, shared, outbox, took);
}
/// Runs one command inside another's locks — a queued command of EXEC, a
/// script's `redis.call` — as a call of its own: its handler, the blocked
/// clients its writes make ready, its record in the append-only file (with
/// the expired keys it met before it), its keyspace events and tracking,
/// and its statistics, SLOWLOG and MONITOR line, as Redis's `call()` does
/// for each.
pub fn run_nested(c: &mut Ctx<'_>, r: &Resolved, argv: &[&[u8]], latency: bool) {
    let started = std::time::Instant::now();
    c.stats.mark_errors();
    let dirty_before = c.stats.dirty.load(Ordering::Relaxed);
    let result = run_handler(r.spec, c, argv);
    if result.is_ok() {
        signal_writes(r.spec, argv, c);
    }
    if c.propagating {
        let events = if crate::db::LOG_EVENTS.load(Ordering::Relaxed) {
            c.ks.take_events()
        } else {
            Vec::new()
        };
        let changed = c.stats.dirty.load(Ordering::Relaxed) != dirty_before;
        let is_write = r.spec.has(flags::WRITE) && result.is_ok();
        let db = c.ks.db;
        super::propagate::finish(db, argv, is_write, changed, &events);
        if !events.is_empty() {
            crate::notify::publish_logged(c.shared, c.outbox, events);
        }
    }
    if crate::tracking::active() {
        track(r.spec, argv, c.client, c.shared, c.outbox);
    }
    let failed = c.stats.errors_since_mark() || result.is_err();
    if let Err(e) = result {
        c.out.error(&e, c.stats);
    }
    let us = started.elapsed().as_micros() as u64;
    c.stats.cmd_called(r.id, us, latency, failed);
    observe(r.spec, argv, c.client, c.shared, c.outbox, us);
    // The caller fails only by errors after its last nested command, as in
    // Redis, whose every call() marks the error count afresh.
    c.stats.mark_errors();
}

/// What follows every command that ran (Redis's `call()` after the
/// handler): a latency sample, a SLOWLOG entry, the MONITOR line, each if
/// enabled and the command's flags allow it; arguments the handler marked
/// secret are shown as `(redacted)`. With all three off this costs three
/// relaxed atomic loads.
#[inline]
pub fn observe(
    spec: &Spec,
    argv: &[&[u8]],
    client: &mut Client,
    shared: &Shared,
    outbox: &mut crate::pubsub::Outbox,
    micros: u64,
) {
    shared.latency.command(spec.has(flags::FAST), micros);
    if !spec.has(flags::SKIP_SLOWLOG) {
        shared.slowlog_maybe(micros, argv, &client.meta, &client.redacted);
    }
    if shared.monitors.any() && spec.flags & (flags::SKIP_MONITOR | flags::ADMIN) == 0 {
        shared
            .monitors
            .feed(outbox, client.db, &client.meta, argv, &client.redacted);
    }
    if !client.redacted.is_empty() {
        client.redacted.clear();
    }
}
