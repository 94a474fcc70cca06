//! MULTI, EXEC, DISCARD.
//!
//! EXEC locks the union of its queued commands' shards (every shard when
//! one of them walks the keyspace) and runs the whole queue under those
//! locks, so no other client observes a half-applied transaction.

use super::flags::*;
use super::{Keys, Spec};
use std::sync::atomic::Ordering;

use super::{resolve, Ctx, LockPlan};
use crate::client::Multi;
use crate::error::{CmdError, CmdResult};

/// Commands that act on the transaction instead of being queued.
pub fn controls_multi(spec: &Spec) -> bool {
    matches!(
        spec.name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// MULTI
pub fn multi(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    if c.client.multi.is_some() {
        return Err(CmdError::msg("ERR MULTI calls can not be nested"));
    }
    c.client.multi = Some(Multi::default());
    c.client.meta.multi.store(true, Ordering::Relaxed);
    c.out.ok();
    Ok(())
}

/// DISCARD
pub fn discard(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    if c.client.multi.take().is_none() {
        return Err(CmdError::msg("ERR DISCARD without MULTI"));
    }
    c.client.meta.multi.store(false, Ordering::Relaxed);
    c.out.ok();
    Ok(())
}

/// EXEC
pub fn exec(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let Some(multi) = c.client.multi.take() else {
        return Err(CmdError::msg("ERR EXEC without MULTI"));
    };
    c.client.meta.multi.store(false, Ordering::Relaxed);
    if multi.dirty {
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
    let (start_db, now) = (c.client.db, c.ks.now);
    c.ks = if plan.all {
        c.shared.keyspace.lock_all(start_db, now)
    } else {
        c.shared.keyspace.lock(&mut plan.shards, start_db, now)
    };
    c.out.array(argvs.len());
    for (r, argv) in resolved.iter().zip(&argvs) {
        c.stats.commands.fetch_add(1, Ordering::Relaxed);
        let result = match r {
            Ok(r) => super::run_handler(r.spec, c, argv),
            Err(e) => Err(e.clone()),
        };
        if let Err(e) = result {
            c.stats.count_error();
            c.out.error(&e);
        }
    }
    Ok(())
}

// ---- command table rows ----

/// This group's rows of the command table.
pub static COMMANDS: &[Spec] = &[
    Spec {
        name: "multi",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        keys: Keys::None,
        group: "transactions",
        since: "1.2.0",
        summary: "Mark the start of a transaction block",
        complexity: "O(1)",
        handler: multi,
        subcommands: &[],
    },
    Spec {
        name: "exec",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
        keys: Keys::None,
        group: "transactions",
        since: "1.2.0",
        summary: "Execute all commands issued after MULTI",
        complexity: "Depends on commands in the transaction",
        handler: exec,
        subcommands: &[],
    },
    Spec {
        name: "discard",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        keys: Keys::None,
        group: "transactions",
        since: "2.0.0",
        summary: "Discard all commands issued after MULTI",
        complexity: "O(N), when N is the number of queued commands",
        handler: discard,
        subcommands: &[],
    },
];
