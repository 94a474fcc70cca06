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
//! logged as DELs before it. All of it costs nothing unless the log is on
//! (`Propagation::on`, read once per command).

use super::Ctx;
use crate::db::KeyEvent;
use crate::persist::aof::Record;

/// One command's (or one EXEC's) propagation state.
#[derive(Debug, Default)]
pub struct Propagation {
    /// The append-only file is on and this client is not replaying it.
    pub on: bool,
    also: Vec<Record>,
    rewrite: Option<Vec<Vec<u8>>>,
    prevent: bool,
    force: bool,
    /// Records of the commands finished so far in this call.
    pub done: Vec<Record>,
}

impl Propagation {
    /// The state of a call; `on` when the log takes its effects.
    pub fn new(on: bool) -> Propagation {
        Propagation {
            on,
            ..Propagation::default()
        }
    }

    /// Closes one command: the DELs of keys it found expired, what it
    /// logged explicitly, then the command itself (or its rewritten form)
    /// when it is a write that changed something, or was forced.
    pub fn finish(
        &mut self,
        db: usize,
        argv: &[&[u8]],
        is_write: bool,
        changed: bool,
        events: &[(usize, KeyEvent, Box<[u8]>)],
    ) {
        for (edb, e, key) in events {
            if *e == KeyEvent::Expired {
                self.done.push(Record::new(*edb, &[b"DEL", key]));
            }
        }
        self.done.append(&mut self.also);
        let rewrite = self.rewrite.take();
        if is_write && (changed || self.force) && !self.prevent {
            self.done.push(match rewrite {
                Some(argv) => Record { db, argv },
                None => Record::new(db, argv),
            });
        }
        self.prevent = false;
        self.force = false;
    }
}

impl Ctx<'_> {
    /// Logs `argv` instead of the command as sent, in the selected
    /// database (Redis's `rewriteClientCommandVector`).
    pub fn propagate_as(&mut self, argv: &[&[u8]]) {
        if self.prop.on {
            self.prop.rewrite = Some(argv.iter().map(|a| a.to_vec()).collect());
        }
    }

    /// Logs `argv` in database `db`, before the command itself (Redis's
    /// `alsoPropagate`).
    pub fn also_propagate(&mut self, db: usize, argv: &[&[u8]]) {
        if self.prop.on {
            self.prop.also.push(Record::new(db, argv));
        }
    }

    /// The command itself is not logged (what it did was logged with
    /// [`Ctx::also_propagate`]).
    pub fn prevent_propagation(&mut self) {
        self.prop.prevent = true;
    }

    /// The command is logged even if it changed nothing (FLUSHDB of an
    /// empty database, as Redis's `forceCommandPropagation`).
    pub fn force_propagation(&mut self) {
        self.prop.force = true;
    }

    /// True when the append-only file takes this command's effects.
    pub fn propagating(&self) -> bool {
        self.prop.on
    }
}
