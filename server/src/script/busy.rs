//! Long scripts: `busy-reply-threshold`, the BUSY refusal, SCRIPT KILL and
//! FUNCTION KILL.
//!
//! Every 100,000 Lua instructions a script's hook looks at its clock. Past
//! `busy-reply-threshold` (`lua-time-limit`) milliseconds the script
//! becomes *busy*: it is entered in [`BUSY`] and counted in
//! [`busy_count`], which dispatch reads (one relaxed load per command) to
//! refuse other clients' commands without the `allow-busy` flag with
//! Redis's `-BUSY` error. A kill marks busy scripts; their hook then
//! raises "Script killed by user with SCRIPT KILL..." at its next check,
//! and again at every later one, so `pcall` cannot hold it off for long.
//! A script that wrote cannot be killed (UNKILLABLE), as in Redis; SHUTDOWN
//! NOSAVE stops it anyway, since the process is going away.
//!
//! Clients of the event loop running the busy script wait for it instead
//! of getting BUSY: that loop is inside the script. Clients of every other
//! loop, and new connections dealt to them, get BUSY and can kill it.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::error::CmdError;

/// `busy-reply-threshold` in milliseconds (0: scripts never become busy).
static THRESHOLD_MS: AtomicI64 = AtomicI64::new(5000);

/// How many scripts are busy now.
static BUSY_COUNT: AtomicUsize = AtomicUsize::new(0);

/// Set once shutdown begins: busy scripts stop, written or not.
static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);

/// A script past the threshold.
#[derive(Debug)]
pub struct Busy {
    /// The event loop running it.
    pub loop_index: usize,
    /// An EVAL script (not a function).
    pub eval: bool,
    /// The script's SHA or the function's name.
    pub name: String,
    /// The command that runs it (FUNCTION STATS shows it).
    pub command: Vec<Vec<u8>>,
    /// When it started.
    pub started: Instant,
    /// It wrote (it cannot be killed).
    pub dirty: AtomicBool,
    /// A kill was asked for.
    pub killed: AtomicBool,
}

/// The busy scripts.
static BUSY: Mutex<Vec<Arc<Busy>>> = Mutex::new(Vec::new());

thread_local! {
    /// Set when this thread's script was stopped because the server is
    /// shutting down (its effects are not logged, as in Redis, which
    /// exits without finishing the command).
    static STOPPED_FOR_SHUTDOWN: Cell<bool> = const { Cell::new(false) };
    /// The event loop this thread runs (`usize::MAX` for other threads).
    static LOOP_INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
    /// What accepts connections while this thread's script is busy (loop
    /// 0, which owns the listeners, so that new clients still reach the
    /// other loops).
    static ACCEPTOR: RefCell<Option<Box<dyn FnMut()>>> = const { RefCell::new(None) };
    /// The script running on this thread: when it started, whether it is
    /// an EVAL, its name, whether it wrote, and its entry once busy.
    static CURRENT: Current = const {
        Current {
            running: Cell::new(false),
            started: Cell::new(None),
            eval: Cell::new(true),
            name: RefCell::new(String::new()),
            command: RefCell::new((Vec::new(), Vec::new())),
            dirty: Cell::new(false),
            busy: RefCell::new(None),
        }
    };
}

struct Current {
    running: Cell<bool>,
    started: Cell<Option<Instant>>,
    eval: Cell<bool>,
    name: RefCell<String>,
    /// The running command's arguments, flat, and their lengths: kept
    /// without allocating per script, read only if it becomes busy.
    command: RefCell<(Vec<u8>, Vec<usize>)>,
    dirty: Cell<bool>,
    busy: RefCell<Option<Arc<Busy>>>,
}

/// Notes that this thread runs event loop `index`.
pub fn set_loop_index(index: usize) {
    LOOP_INDEX.with(|l| l.set(index));
}

/// Installs (or, with `None`, removes) what accepts connections on this
/// thread while its script is busy.
pub fn set_acceptor(accept: Option<Box<dyn FnMut()>>) {
    ACCEPTOR.with(|a| *a.borrow_mut() = accept);
}

/// True when event loop `index` is running a busy script (new
/// connections go elsewhere).
pub fn loop_is_busy(index: usize) -> bool {
    BUSY.lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .any(|b| b.loop_index == index)
}

/// Redis's `shared.slowevalerr`: the refusal while an EVAL script is busy.
const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
/// Redis's `shared.slowscripterr`: the refusal while a function is busy.
const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// Sets `busy-reply-threshold`.
pub fn configure(threshold_ms: i64) {
    THRESHOLD_MS.store(threshold_ms, Ordering::Relaxed);
}

/// How many scripts are busy: dispatch refuses commands while this is not
/// 0.
#[inline]
pub fn busy_count() -> usize {
    BUSY_COUNT.load(Ordering::Relaxed)
}

/// The BUSY error for a command refused while a script is busy: it names
/// SCRIPT KILL while an EVAL is busy, FUNCTION KILL otherwise.
pub fn busy_error() -> CmdError {
    let eval = BUSY
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .any(|b| b.eval);
    CmdError::msg(if eval { BUSY_EVAL } else { BUSY_FUNCTION })
}

/// True when this thread is running a script (its own commands are not
/// refused as BUSY).
pub fn in_script() -> bool {
    CURRENT.with(|c| c.running.get())
}

/// Notes the start of a script on this thread.
pub(crate) fn start(eval: bool, name: &str) {
    CURRENT.with(|c| {
        c.running.set(true);
        c.started.set(Some(Instant::now()));
        c.eval.set(eval);
        let mut n = c.name.borrow_mut();
        n.clear();
        n.push_str(name);
        c.dirty.set(false);
    });
}

/// Notes the command about to run a script on this thread (EVAL's or
/// FCALL's arguments), for FUNCTION STATS should the script become busy.
pub fn note_command(argv: &[&[u8]]) {
    CURRENT.with(|c| {
        let mut cmd = c.command.borrow_mut();
        let (bytes, lens) = &mut *cmd;
        bytes.clear();
        lens.clear();
        for a in argv {
            bytes.extend_from_slice(a);
            lens.push(a.len());
        }
    });
}

/// Notes the end of the script on this thread.
pub(crate) fn end() {
    CURRENT.with(|c| {
        c.running.set(false);
        if let Some(b) = c.busy.borrow_mut().take() {
            let mut all = BUSY.lock().unwrap_or_else(|p| p.into_inner());
            all.retain(|x| !Arc::ptr_eq(x, &b));
            BUSY_COUNT.fetch_sub(1, Ordering::Relaxed);
        }
    });
}

/// Notes that the running script wrote: it can no longer be killed.
pub(crate) fn mark_dirty() {
    CURRENT.with(|c| {
        c.dirty.set(true);
        if let Some(b) = &*c.busy.borrow() {
            b.dirty.store(true, Ordering::Relaxed);
        }
    });
}

/// The hook's question, every 100,000 instructions: should the script
/// stop? Makes it busy once past the threshold.
pub(crate) fn interrupted() -> bool {
    CURRENT.with(|c| {
        if !c.running.get() {
            return false;
        }
        if let Some(b) = &*c.busy.borrow() {
            accept_waiting();
            if b.killed.load(Ordering::Relaxed) {
                return true;
            }
            let stop = SHUTTING_DOWN.load(Ordering::Relaxed);
            if stop {
                STOPPED_FOR_SHUTDOWN.with(|s| s.set(true));
            }
            return stop;
        }
        let now = Instant::now();
        let started = c.started.get().unwrap_or(now);
        let threshold = THRESHOLD_MS.load(Ordering::Relaxed);
        if threshold <= 0 || (now - started).as_millis() < threshold as u128 {
            return false;
        }
        let name = c.name.borrow().clone();
        let eval = c.eval.get();
        crate::warning!(
            "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the {} command. Script name is: {}.",
            (now - started).as_millis(),
            if eval { "SCRIPT KILL" } else { "FUNCTION KILL" },
            name
        );
        let command = {
            let cmd = c.command.borrow();
            let (bytes, lens) = &*cmd;
            let mut at = 0;
            lens.iter()
                .map(|&n| {
                    let arg = bytes.get(at..at + n).unwrap_or_default().to_vec();
                    at += n;
                    arg
                })
                .collect()
        };
        let b = Arc::new(Busy {
            loop_index: LOOP_INDEX.with(|l| l.get()),
            eval,
            name,
            command,
            started,
            dirty: AtomicBool::new(c.dirty.get()),
            killed: AtomicBool::new(false),
        });
        BUSY.lock().unwrap_or_else(|p| p.into_inner()).push(b.clone());
        BUSY_COUNT.fetch_add(1, Ordering::Relaxed);
        *c.busy.borrow_mut() = Some(b);
        accept_waiting();
        SHUTTING_DOWN.load(Ordering::Relaxed)
    })
}

fn accept_waiting() {
    ACCEPTOR.with(|a| {
        if let Ok(mut a) = a.try_borrow_mut() {
            if let Some(accept) = a.as_mut() {
                accept();
            }
        }
    });
}

/// SCRIPT KILL (`eval`) or FUNCTION KILL: Redis's `scriptKill`.
pub fn kill(eval: bool) -> Result<(), CmdError> {
    let all = BUSY.lock().unwrap_or_else(|p| p.into_inner());
    if all.is_empty() {
        return Err(CmdError::msg("NOTBUSY No scripts in execution right now."));
    }
    if all.iter().all(|b| b.dirty.load(Ordering::Relaxed)) {
        return Err(CmdError::msg(
            "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
        ));
    }
    let mut killed = false;
    for b in all.iter() {
        if b.eval == eval && !b.dirty.load(Ordering::Relaxed) {
            b.killed.store(true, Ordering::Relaxed);
            killed = true;
        }
    }
    if !killed {
        // The busy script is of the other kind: its own KILL is named.
        return Err(CmdError::msg(if eval { BUSY_FUNCTION } else { BUSY_EVAL }));
    }
    Ok(())
}

/// True (once) when this thread's last script was stopped by shutdown.
pub fn take_stopped_for_shutdown() -> bool {
    STOPPED_FOR_SHUTDOWN.with(|s| s.replace(false))
}

/// Shutdown began: busy scripts stop at their next check, killable or
/// not.
pub fn shutting_down() {
    SHUTTING_DOWN.store(true, Ordering::Relaxed);
}

/// The busy scripts now (FUNCTION STATS).
pub fn busy_scripts() -> Vec<Arc<Busy>> {
    BUSY.lock().unwrap_or_else(|p| p.into_inner()).clone()
}
