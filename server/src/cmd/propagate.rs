//! What a command logs to the append-only file: Redis's propagation.
//!
//! A write that changed something (the change counter moved, see
//! `Ctx::notify_in`) is logged as it was sent, unless its handler said
//! otherwise: [`Ctx::propagate_as`] logs another form instead (relative
//! expiries as absolute `PXAT`, INCRBYFLOAT as SET...), which is Redis's
//! `rewriteClientCommandVector`; [`Ctx::also_propagate`] logs extra
//! commands before it (SPOP's SREMs), Redis's `alsoPropagate`; and
//! [`Ctx::prevent_propagation`] / [`Ctx::force_propagation`] drop it or
//! keep it regardless of changes. Keys that a command found expired are
//! logged as DELs before it.
//!
//! The state lives in the running thread (a command runs on one thread
//! from start to end), so a command pays one `bool` in its context when
//! the log is off, and its buffers are reused from command to command
//! when it is on.

use std::cell::RefCell;

use super::Ctx;
use crate::db::KeyEvent;
use crate::persist::aof::{Aof, Record};

/// The running command's propagation state.
#[derive(Debug, Default)]
struct State {
    also: Vec<Record>,
    rewrite: Option<Vec<Vec<u8>>>,
    prevent: bool,
    force: bool,
    /// Records of the commands finished so far in this call.
    done: Vec<Record>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// Closes one command: the DELs of keys it found expired, what it logged
/// explicitly, then the command itself (or its rewritten form) when it is
/// a write that changed something, or was forced (a write, or a read
/// that wrote: PFCOUNT).
pub fn finish(
    db: usize,
    argv: &[&[u8]],
    is_write: bool,
    changed: bool,
    events: &[(usize, KeyEvent, Box<[u8]>)],
) {
    STATE.with(|s| {
        let s = &mut *s.borrow_mut();
        for (edb, e, key) in events {
            if *e == KeyEvent::Expired {
                s.done.push(Record::new(*edb, &[b"DEL", key]));
            }
        }
        s.done.append(&mut s.also);
        let rewrite = s.rewrite.take();
        // Forced is logged even from a read: PFCOUNT that cached its
        // estimate in the value is propagated, as Redis propagates any
        // call that moved `server.dirty`.
        if ((is_write && changed) || s.force) && !s.prevent {
            s.done.push(match rewrite {
                Some(argv) => Record { db, argv },
                None => Record::new(db, argv),
            });
        }
        s.prevent = false;
        s.force = false;
    });
}

/// Appends what the call logged (wrapped in MULTI/EXEC when it is more
/// than one command, as Redis 7.0 wraps it) and starts afresh.
pub fn flush_to(aof: &Aof) {
    STATE.with(|s| {
        let s = &mut *s.borrow_mut();
        aof.append(&s.done, s.done.len() > 1);
        s.done.clear();
    });
}

/// Forgets what this call would log (a script stopped by SHUTDOWN NOSAVE:
/// Redis exits without logging it).
pub fn discard() {
    STATE.with(|s| *s.borrow_mut() = State::default());
}

fn with(f: impl FnOnce(&mut State)) {
    STATE.with(|s| f(&mut s.borrow_mut()));
}

impl Ctx<'_> {
    /// Logs `argv` instead of the command as sent, in the selected
    /// database (Redis's `rewriteClientCommandVector`).
    pub fn propagate_as(&mut self, argv: &[&[u8]]) {
        if self.propagating {
            with(|s| s.rewrite = Some(argv.iter().map(|a| a.to_vec()).collect()));
        }
    }

    /// Logs `argv` in database `db`, before the command itself (Redis's
    /// `alsoPropagate`).
    pub fn also_propagate(&mut self, db: usize, argv: &[&[u8]]) {
        if self.propagating {
            with(|s| s.also.push(Record::new(db, argv)));
        }
    }

    /// The command itself is not logged (what it did was logged with
    /// [`Ctx::also_propagate`]).
    pub fn prevent_propagation(&mut self) {
        if self.propagating {
            with(|s| s.prevent = true);
        }
    }

    /// The command is logged even if it changed nothing (FLUSHDB of an
    /// empty database, as Redis's `forceCommandPropagation`), or though it
    /// is a read (PFCOUNT writing its cached estimate).
    pub fn force_propagation(&mut self) {
        if self.propagating {
            with(|s| s.force = true);
        }
    }

    /// True when the append-only file takes this command's effects.
    pub fn propagating(&self) -> bool {
        self.propagating
    }
}
