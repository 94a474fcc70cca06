//! `redis.call` and `redis.pcall`: a script's commands, and the locks a
//! script holds.
//!
//! # Locking: atomic, parallel, and free of deadlocks
//!
//! A script is atomic: no command of any other client, on any loop, sees
//! or changes its keys between two of its commands. It starts holding the
//! shards of the keys it declared (EVAL's `KEYS`), locked as any command's
//! are, so scripts on different keys run in parallel on different loops.
//! Each `redis.call` first makes sure the shards of its keys are held
//! (every shard, for a command that walks the keyspace) and keeps them
//! until the script ends:
//!
//! 1. A shard already held, or free now (`try_lock`), is simply taken.
//! 2. A shard someone else holds, while the script has not written
//!    anything yet: the attempt is abandoned (its reply discarded, every
//!    lock let go) and the script starts again holding that shard too,
//!    all of them locked together in order. A script that only read has
//!    nothing to undo.
//! 3. A shard someone else holds, after the script wrote: it waits for
//!    it. This cannot deadlock with a command, because no command ever
//!    waits while holding a shard ([`crate::db::Keyspace::lock`] backs off
//!    instead), so whoever holds the shard finishes. Only two scripts
//!    waiting for each other's shards could; every such wait is recorded
//!    ([`WAITS`]), and a script whose wait would close a cycle gets an
//!    error from that `redis.call` instead (its earlier writes stay, as
//!    after any script error in Redis). This needs two scripts, both
//!    touching keys they did not declare, each after writing, at once.

use std::sync::Mutex;

use crate::acl::log::Context;
use crate::client::Client;
use crate::cmd::{flags, Ctx};
use crate::db::ShardId;
use crate::reply::Reply;

/// A script waiting for a shard it did not declare, after writing.
struct Waiting {
    run: u64,
    held: Vec<ShardId>,
    wants: ShardId,
}

/// Every script waiting as in step 3 of the module docs.
static WAITS: Mutex<Vec<Waiting>> = Mutex::new(Vec::new());

static NEXT_RUN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The error a `redis.call` gets when waiting for its shard would close a
/// cycle of scripts waiting for one another.
pub const DEADLOCK: &str = "ERR script attempted to access a key it did not declare while another script holding it waits for this one's keys";

/// How a script runs: what it may do, and where it stands.
pub struct Run<'c, 'a> {
    /// The caller's context: its locks, its reply.
    pub ctx: &'c mut Ctx<'a>,
    /// The client the script's commands run as (swapped into `ctx` for
    /// each call).
    pub script_client: Client,
    /// No writes (EVAL_RO, FCALL_RO, `no-writes`).
    pub read_only: bool,
    /// `allow-oom`.
    pub allow_oom: bool,
    /// Memory was over `maxmemory` when the script started.
    pub oom_at_start: bool,
    /// A write command ran (Redis's `SCRIPT_WRITE_DIRTY`).
    pub dirty: bool,
    /// Whether an attempt may be abandoned and started again (not inside
    /// EXEC, whose earlier commands already ran under these locks).
    pub may_restart: bool,
    /// Set when this attempt must start again holding this shard too.
    pub restart: Option<ShardId>,
    /// An EVAL script (false: a function).
    pub eval: bool,
    /// This run's entry in [`WAITS`], numbered on its first wait (0
    /// before: most runs never wait).
    run_id: u64,
}

impl<'c, 'a> Run<'c, 'a> {
    /// A run for the caller in `ctx`, its commands in the caller's
    /// database.
    pub fn new(ctx: &'c mut Ctx<'a>, script_client: Client) -> Self {
        let may_restart = !ctx.client.in_exec;
        Run {
            ctx,
            script_client,
            read_only: false,
            allow_oom: false,
            oom_at_start: false,
            dirty: false,
            may_restart,
            restart: None,
            eval: true,
            run_id: 0,
        }
    }

    /// Makes sure the view holds shard `id`, as the module docs explain.
    fn acquire(&mut self, id: ShardId, wrote: bool) -> Result<(), String> {
        let (db, shard) = (id.0 as usize, id.1 as usize);
        if self.ctx.ks.holds(db, shard) {
            return Ok(());
        }
        let shared: &'a crate::shared::Shared = self.ctx.shared;
        let ks = &shared.keyspace;
        if let Some(g) = ks.try_lock(db, shard) {
            self.ctx.ks.adopt(db, shard, g);
            return Ok(());
        }
        if !wrote && self.may_restart {
            self.restart = Some(id);
            return Err(RESTART.into());
        }
        let held = self.ctx.ks.held_ids();
        if self.run_id == 0 {
            self.run_id = NEXT_RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        {
            let mut waits = WAITS.lock().unwrap_or_else(|p| p.into_inner());
            if closes_cycle(&waits, &held, id) {
                return Err(DEADLOCK.into());
            }
            waits.push(Waiting {
                run: self.run_id,
                held,
                wants: id,
            });
        }
        let g = ks.lock_one(db, shard);
        WAITS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|w| w.run != self.run_id);
        self.ctx.ks.adopt(db, shard, g);
        Ok(())
    }
}

/// The text of the error that abandons an attempt (the script never sees
/// it used: its reply is discarded).
const RESTART: &str = "ERR script restarted to lock a key it did not declare";

/// Whether a script holding `held` and waiting for `wants` would close a
/// cycle of waiting scripts.
fn closes_cycle(waits: &[Waiting], held: &[ShardId], wants: ShardId) -> bool {
    let mut cur = wants;
    for _ in 0..=waits.len() {
        if held.binary_search(&cur).is_ok() {
            return true;
        }
        match waits.iter().find(|w| w.held.binary_search(&cur).is_ok()) {
            Some(w) => cur = w.wants,
            None => return false,
        }
    }
    false
}

/// The shards a script's command needs: what EXEC would lock for it
/// (its keys', or every shard for a command that walks the keyspace).
fn shards_for(
    spec: &crate::cmd::Spec,
    argv: &[&[u8]],
    db: usize,
    keyspace: &crate::db::Keyspace,
) -> Vec<ShardId> {
    let mut plan = crate::cmd::LockPlan::default();
    plan.add(spec, argv, db, true);
    if plan.all {
        return keyspace.all_ids();
    }
    let dbs = keyspace.databases() as u32;
    let mut ids = plan.shards;
    ids.retain(|&(d, _)| d < dbs);
    ids.sort_unstable();
    ids.dedup();
    ids
}

impl super::engine::Host for Run<'_, '_> {
    fn call(&mut self, argv: &[&[u8]], resp3: bool) -> Result<Vec<u8>, String> {
        if self.restart.is_some() {
            return Err(RESTART.into());
        }
        let result = self.checked_call(argv, resp3);
        if let Err(text) = &result {
            if text != RESTART && text != DEADLOCK {
                // A refusal is an error reply of the script's client, and
                // the command's rejected call (Redis's afterErrorReply and
                // incrCommandStatsOnError in scriptCall).
                let stats = self.ctx.stats;
                let line = if text.starts_with('-') {
                    text.clone().into_bytes()
                } else {
                    format!("-ERR {text}").into_bytes()
                };
                stats.count_error(&line);
                match crate::cmd::resolve(argv) {
                    Ok(r) => stats.cmd_rejected(r.id),
                    Err(_) => stats.mark_errors(),
                }
            }
        }
        result
    }

    fn out(&mut self) -> &mut Reply {
        self.ctx.out
    }

    fn eval_mode(&self) -> bool {
        self.eval
    }
}

impl Run<'_, '_> {
    /// `redis.call`'s checks, locks and command (see [`Host::call`]).
    ///
    /// [`Host::call`]: super::engine::Host::call
    fn checked_call(&mut self, argv: &[&[u8]], resp3: bool) -> Result<Vec<u8>, String> {
        let r = match crate::cmd::resolve(argv) {
            Ok(r) => r,
            Err(crate::error::CmdError::Arity(_)) => {
                return Err("Wrong number of args calling Redis command from script".into())
            }
            Err(_) => {
                // An unknown subcommand of a known container is unknown
                // too, and its arity error is the container's.
                return Err(match crate::cmd::lookup(argv[0]) {
                    Some(spec) if !spec.arity_ok(argv.len()) => {
                        "Wrong number of args calling Redis command from script".into()
                    }
                    _ => "Unknown Redis command called from script".into(),
                });
            }
        };
        let spec = r.spec;
        if spec.has(flags::NOSCRIPT) {
            return Err("This Redis command is not allowed from script".into());
        }
        let shared = self.ctx.shared;
        if let Err(d) =
            crate::cmd::dispatch::acl_check(shared, self.ctx.client, argv, &r, Context::Lua)
        {
            return Err(format!(
                "The user executing the script {}",
                crate::acl::check::refusal(d)
            ));
        }
        if self.read_only && spec.has(flags::WRITE | flags::MAY_REPLICATE) {
            return Err("Write commands are not allowed from read-only scripts.".into());
        }
        if spec.has(flags::WRITE) && !self.dirty {
            if let Some(e) = crate::cmd::dispatch::disk_error(shared) {
                let mut text = Vec::new();
                e.write_to(&mut text);
                let text = String::from_utf8_lossy(&text);
                return Err(text.trim_end().to_string());
            }
        }
        if crate::evict::maxmemory() != 0
            && !self.allow_oom
            && !self.dirty
            && self.oom_at_start
            && spec.has(flags::DENYOOM)
            && !self.ctx.client.replaying
        {
            return Err("-OOM command not allowed when used memory > 'maxmemory'.".into());
        }
        let wrote = self.dirty;
        if spec.has(flags::WRITE) {
            self.dirty = true;
            super::busy::mark_dirty();
        }
        for id in shards_for(spec, argv, self.script_client.db, &shared.keyspace) {
            self.acquire(id, wrote)?;
        }
        // The command runs as the script's client, into a reply of its own.
        let mut reply = Reply {
            buf: Vec::new(),
            resp3,
        };
        std::mem::swap(self.ctx.client, &mut self.script_client);
        // It runs as the caller's user (SORT asks it of BY and GET).
        std::mem::swap(&mut self.ctx.client.acl, &mut self.script_client.acl);
        std::mem::swap(self.ctx.out, &mut reply);
        let caller_db = self.ctx.ks.db;
        self.ctx.ks.db = self.ctx.client.db;
        let propagating = self.ctx.propagating;
        self.ctx.propagating = propagating && super::engine::repl_flags() & 1 != 0;
        let latency = shared
            .hot
            .latency_tracking
            .load(std::sync::atomic::Ordering::Relaxed);
        crate::cmd::dispatch::run_nested(self.ctx, &r, argv, latency);
        self.ctx.propagating = propagating;
        self.ctx.ks.db = caller_db;
        std::mem::swap(self.ctx.out, &mut reply);
        std::mem::swap(&mut self.ctx.client.acl, &mut self.script_client.acl);
        std::mem::swap(self.ctx.client, &mut self.script_client);
        Ok(reply.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_closes_a_cycle_only_through_waiting_scripts() {
        let waits = vec![Waiting {
            run: 1,
            held: vec![(0, 5)],
            wants: (0, 9),
        }];
        // Holding 9 and wanting 5, held by a script that wants 9: a cycle.
        assert!(closes_cycle(&waits, &[(0, 9)], (0, 5)));
        // Wanting a shard no waiting script holds: whoever has it runs.
        assert!(!closes_cycle(&waits, &[(0, 9)], (0, 7)));
        // Wanting 5 while holding nothing the waiter wants.
        assert!(!closes_cycle(&waits, &[(0, 3)], (0, 5)));
    }
}
