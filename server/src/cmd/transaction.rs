//! MULTI, EXEC, DISCARD.
//!
//! EXEC locks the union of its queued commands' shards (every shard when
//! one of them walks the keyspace) and runs the whole queue under those
//! locks, so no other client observes a half-applied transaction.

use std::sync::atomic::Ordering;

use super::flags::*;
use super::{cat, ks};
use super::{resolve, Ctx, Keys, LockPlan, Spec};
use crate::acl::log::Context;
use crate::client::Multi;
use crate::error::{CmdError, CmdResult};

/// Commands that act on the transaction instead of being queued.
pub fn controls_multi(spec: &Spec) -> bool {
    matches!(
        spec.name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// WATCH key [key ...]
pub fn watch(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if c.client.multi.is_some() {
        return Err(CmdError::msg("ERR WATCH inside MULTI is not allowed"));
    }
    let (db, id) = (c.client.db, c.client.id());
    for key in &a[1..] {
        if c.client.watched.iter().any(|(d, k)| *d == db && k == key) {
            continue;
        }
        c.ks.watch(db, key, id);
        c.client.watched.push((db, key.to_vec()));
    }
    c.out.ok();
    Ok(())
}

/// UNWATCH
pub fn unwatch(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    unwatch_all(c.client, c.shared);
    c.out.ok();
    Ok(())
}

/// Forgets a client's WATCHes (UNWATCH, EXEC, DISCARD, RESET, disconnect),
/// locking each key's shard on its own.
pub fn unwatch_all(client: &mut crate::client::Client, shared: &crate::shared::Shared) {
    let id = client.id();
    for (db, key) in client.watched.drain(..) {
        shared.keyspace.unwatch(db, &key, id);
    }
}

/// MULTI
pub fn multi(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    if c.client.multi.is_some() {
        return Err(CmdError::msg("ERR MULTI calls can not be nested"));
    }
    c.client.multi = Some(Multi::default());
    c.client.meta.multi_count.store(0, Ordering::Relaxed);
    c.client.meta.multi_mem.store(0, Ordering::Relaxed);
    c.client.meta.multi.store(true, Ordering::Relaxed);
    c.out.ok();
    Ok(())
}

/// DISCARD
pub fn discard(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    if c.client.multi.take().is_none() {
        return Err(CmdError::msg("ERR DISCARD without MULTI"));
    }
    unwatch_all(c.client, c.shared);
    c.client.meta.multi.store(false, Ordering::Relaxed);
    c.out.ok();
    Ok(())
}

/// EXEC
pub fn exec(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let Some(multi) = c.client.multi.take() else {
        return Err(CmdError::msg("ERR EXEC without MULTI"));
    };
    // CLIENT LIST shows the transaction (`x`, `multi=N`) while its queue
    // runs, as Redis does.
    let meta = c.client.meta.clone();
    let _in_multi = scopeguard(move || meta.multi.store(false, Ordering::Relaxed));
    let watched = std::mem::take(&mut c.client.watched);
    if multi.dirty {
        c.client.watched = watched;
        unwatch_all(c.client, c.shared);
        return Err(CmdError::msg(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    let argvs: Vec<Vec<&[u8]>> = multi
        .queue
        .iter()
        .map(|q| q.argv.iter().map(Vec::as_slice).collect())
        .collect();
    // Plan the locks, following SELECTs inside the transaction.
    let mut plan = LockPlan::default();
    let mut db = c.client.db;
    let dbs = c.shared.keyspace.databases();
    let mut resolved = Vec::with_capacity(argvs.len());
    for argv in &argvs {
        let r = resolve(argv);
        if let Ok(r) = &r {
            plan.add(r.spec, argv, db, true);
            if r.spec.name == "select" {
                if let Some(n) = crate::util::num::parse_i64(argv[1]) {
                    if n >= 0 && (n as usize) < dbs {
                        db = n as usize;
                    }
                }
            }
        }
        resolved.push(r);
    }
    // The watched keys' shards are locked too, so checking them and running
    // the queue is one atomic step.
    for (db, key) in &watched {
        let shard = crate::db::shard_of(crate::util::hash::hash_key(key));
        plan.shards.push((*db as u32, shard as u32));
    }
    let (start_db, now) = (c.client.db, c.ks.now);
    c.ks = if plan.all {
        c.shared.keyspace.lock_all(start_db, now)
    } else {
        c.shared.keyspace.lock(&mut plan.shards, start_db, now)
    };
    let mut touched = false;
    let id = c.client.id();
    for (db, key) in &watched {
        // Every watch is removed, as Redis's unwatchAllKeys.
        touched |= c.ks.unwatch(*db, key, id);
    }
    if touched {
        c.out.null_array();
        return Ok(());
    }
    c.out.array(argvs.len());
    c.client.in_exec = true;
    let latency = c.shared.hot.latency_tracking.load(Ordering::Relaxed);
    for (r, argv) in resolved.iter().zip(&argvs) {
        // Each queued command is a call of its own in the statistics, as
        // Redis's execCommand calls call() for each.
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                c.out.error(e, c.stats);
                continue;
            }
        };
        // ACL rules are checked again, in case they changed since the
        // command was queued (Redis's execCommand).
        match super::dispatch::acl_check(c.shared, c.client, argv, r, Context::Multi) {
            Ok(()) => super::dispatch::run_nested(c, r, argv, latency),
            Err(d) => c.out.error(&super::dispatch::noperm_at_exec(d), c.stats),
        }
    }
    c.client.in_exec = false;
    Ok(())
}

/// Runs `f` when dropped.
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}

// ---- command table rows ----

/// This group's rows of the command table.
pub static COMMANDS: &[Spec] = &[
    Spec {
        name: "watch",
        arity: -2,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        keys: Keys::Range(1, -1, 1),
        group: "transactions",
        handler: watch,
        acl: cat::TRANSACTION,
        key_specs: &[ks::spec(ks::RO, ks::Index(1), ks::Range(-1, 1, 0))],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "unwatch",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        keys: Keys::None,
        group: "transactions",
        handler: unwatch,
        acl: cat::TRANSACTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "multi",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        keys: Keys::None,
        group: "transactions",
        handler: multi,
        acl: cat::TRANSACTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "exec",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
        keys: Keys::None,
        group: "transactions",
        handler: exec,
        acl: cat::TRANSACTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "discard",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        keys: Keys::None,
        group: "transactions",
        handler: discard,
        acl: cat::TRANSACTION,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
];
