//! Writing the keyspace to an RDB file: in the foreground (SAVE,
//! shutdown) or in a forked child (BGSAVE, the save points).
//!
//! Why fork: the child's memory is the keyspace at the instant of the
//! fork, kept by the kernel's copy-on-write while the event loops go on
//! writing; the loops pay the fork itself (page tables, measured in INFO's
//! `latest_fork_usec`) and a page copy on the first write to each page
//! during the save, exactly Redis's costs. The alternative, a versioned
//! copy-on-write per bucket as Dragonfly does, costs a version check on
//! every write for ever and a serializer inside the loops; see
//! `docs/architecture.md` for the measurements that decided it.
//!
//! The forking thread holds every shard's lock across `fork()`: the
//! child's copy of each lock is held by the child's only thread (the
//! copy of the forking one), so the child reads every shard through the
//! guards it holds and never waits on a lock another thread held at the
//! fork. The child touches nothing else that another thread may have held
//! (no logging, no configuration lock: what it needs is read before the
//! fork), reports to its parent through a socket, and leaves with
//! `_exit`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::Persistence;
use crate::db::{Locked, SHARDS};
use crate::rdb::file::{encode_key, Aux, RdbWriter};
use crate::shared::unix_ms;
use crate::shared::Shared;
use crate::{notice, warning};

/// A running background save.
#[derive(Debug)]
pub struct Child {
    /// Its process id.
    pub pid: i32,
    /// When it started, Unix seconds.
    pub started_secs: u64,
    /// What it does.
    pub kind: ChildKind,
}

/// Why a save did not start or did not finish.
#[derive(Debug)]
pub enum SaveError {
    /// A background save is already running.
    InProgress,
    /// Writing failed (the message was logged).
    Failed(String),
}

/// Everything a save needs, read before it starts (a forked child must
/// not take the configuration's lock).
#[derive(Debug, Clone)]
pub struct SaveOptions {
    /// The final file.
    pub path: PathBuf,
    /// The directory temporary files go to.
    pub dir: PathBuf,
    /// `rdbcompression`.
    pub compress: bool,
    /// `rdbchecksum`.
    pub checksum: bool,
    /// `rdb-key-save-delay`, microseconds per key (tests).
    pub key_delay_us: u64,
    /// The auxiliary fields.
    pub aux: Aux,
    /// The function libraries.
    pub functions: Vec<Vec<u8>>,
}

impl SaveOptions {
    /// The options the configuration asks for now.
    pub fn from_config(shared: &Shared) -> SaveOptions {
        let c = shared.config();
        let yes = |name: &str| c.get_by_name(name).as_deref() == Some("yes");
        let key_delay_us = c
            .get_by_name("rdb-key-save-delay")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
            .max(0) as u64;
        SaveOptions {
            path: c.dir.join(&c.dbfilename),
            dir: c.dir.clone(),
            compress: yes("rdbcompression"),
            checksum: yes("rdbchecksum"),
            key_delay_us,
            aux: Aux {
                ctime: unix_ms() / 1000,
                used_mem: crate::cmd::server::memory::allocator().allocated,
                aof_base: false,
            },
            functions: shared.functions.codes(),
        }
    }
}

/// What writing a snapshot did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Written {
    /// Keys written.
    pub keys: u64,
}

/// Writes the whole keyspace, seen through `ks` (which must hold every
/// shard, or be able to lock each), to `out`.
pub fn write_keyspace<W: Write>(
    ks: &mut Locked<'_>,
    out: W,
    opts: &SaveOptions,
) -> io::Result<(W, Written)> {
    let mut w = RdbWriter::new(out, opts.checksum);
    w.header(&opts.aux)?;
    w.functions(&opts.functions, opts.compress)?;
    let mut buf = Vec::with_capacity(4096);
    let mut keys = 0u64;
    let now = ks.now;
    for db in 0..ks.keyspace().databases() {
        let (size, volatile) = ks.db_sizes(db);
        if size == 0 {
            continue;
        }
        w.select_db(db, size, volatile)?;
        for s in 0..SHARDS {
            let shard = ks.shard_at(db, s);
            for node in shard.iter() {
                buf.clear();
                encode_key(&mut buf, &node.key, &node.value, opts.compress, now);
                w.put(&buf)?;
                keys += 1;
                if keys % 1024 == 0 {
                    progress(keys);
                }
                if opts.key_delay_us > 0 {
                    std::thread::sleep(std::time::Duration::from_micros(opts.key_delay_us));
                }
            }
        }
    }
    let out = w.finish()?;
    Ok((out, Written { keys }))
}

/// Writes the snapshot to `tmp`, syncs it, and renames it over
/// `opts.path` (then syncs the directory), as Redis's `rdbSave`. The
/// temporary file is removed on failure.
pub fn write_file(ks: &mut Locked<'_>, tmp: &Path, opts: &SaveOptions) -> io::Result<Written> {
    let attempt = (|| {
        let f = File::create(tmp)?;
        let (buffered, written) = write_keyspace(ks, BufWriter::with_capacity(1 << 20, f), opts)?;
        let f = buffered.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(tmp, &opts.path)?;
        if let Ok(d) = File::open(&opts.dir) {
            let _ = d.sync_all();
        }
        Ok(written)
    })();
    if attempt.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    attempt
}

/// Runs `f` with a view that holds every shard: `ks` itself when it does
/// (inside EXEC), else every shard locked here. `ks` must then hold none
/// (a keyless command outside a transaction), or this would deadlock.
pub fn with_all_shards<'a, R>(
    shared: &'a Shared,
    ks: &mut Locked<'a>,
    f: impl FnOnce(&'a Shared, &mut Locked<'a>) -> R,
) -> R {
    if ks.holds_all() {
        f(shared, ks)
    } else {
        let mut all = shared.keyspace.lock_all(ks.db, ks.now);
        f(shared, &mut all)
    }
}

/// The temporary file of process `pid` (Redis's `temp-<pid>.rdb`).
fn temp_path(dir: &Path, pid: u32) -> PathBuf {
    dir.join(format!("temp-{pid}.rdb"))
}

/// SAVE: writes the snapshot now, on this thread. `ks` must hold every
/// shard (callers lock them all, or are inside a transaction that did).
pub fn save(shared: &Shared, ks: &mut Locked<'_>) -> Result<(), SaveError> {
    let p = &shared.persist;
    if p.child_running() {
        return Err(SaveError::InProgress);
    }
    if p.load_failed.load(Ordering::Relaxed) {
        return Err(SaveError::Failed("the dataset failed to load".into()));
    }
    p.rdb_saves.fetch_add(1, Ordering::Relaxed);
    let dirty = super::dirty_total(shared);
    let opts = SaveOptions::from_config(shared);
    let tmp = temp_path(&opts.dir, std::process::id());
    match write_file(ks, &tmp, &opts) {
        Ok(_) => {
            notice!("DB saved on disk");
            p.dirty_base.store(dirty, Ordering::Relaxed);
            p.lastsave.store(unix_ms() / 1000, Ordering::Relaxed);
            p.last_bgsave_ok.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => {
            warning!("Write error saving DB on disk: {e}");
            Err(SaveError::Failed(e.to_string()))
        }
    }
}

/// What a child reports to its parent before it exits.
const REPORT_OK: u8 = b'+';

/// What kind of work a child does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildKind {
    /// BGSAVE: the RDB snapshot.
    Rdb,
    /// BGREWRITEAOF: a new base for the append-only file.
    AofRewrite,
}

/// How a child ended, for the parent's handler.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// It reported success and exited with 0.
    pub ok: bool,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
    /// Its copy-on-write bytes (reported by the child).
    pub cow: u64,
    /// Its error message, when it reported one.
    pub error: Option<String>,
    /// How long it ran.
    pub secs: u64,
    /// Its pid.
    pub pid: i32,
}

/// Forks a child that runs `job` on the keyspace as it is now, then
/// `_exit`s; a thread of the parent's waits for it, clears the child
/// slot and calls `done` with the outcome. `ks` is a view that already
/// holds every shard, or `None` to lock them all here; `before_fork`
/// runs with every shard held, just before the fork (the AOF switches
/// files there).
pub fn fork_child<'a>(
    shared: &'a Shared,
    ks: Option<&mut Locked<'a>>,
    kind: ChildKind,
    before_fork: impl FnOnce() -> io::Result<()>,
    job: impl FnOnce(&mut Locked<'a>) -> io::Result<Written>,
    done: impl FnOnce(Outcome) + Send + 'static,
) -> Result<i32, SaveError> {
    let p = &shared.persist;
    if p.load_failed.load(Ordering::Relaxed) {
        return Err(SaveError::Failed("the dataset failed to load".into()));
    }
    if p.child_running() {
        return Err(SaveError::InProgress);
    }
    let (parent_end, child_end) =
        UnixStream::pair().map_err(|e| SaveError::Failed(e.to_string()))?;
    // Lock order: every shard, then the child slot (INFO inside EXEC
    // holds the shards when it reads the slot).
    let mut own;
    let ks = match ks {
        Some(ks) => ks,
        None => {
            own = shared.keyspace.lock_all(0, unix_ms());
            &mut own
        }
    };
    let mut child = p.child.lock().unwrap_or_else(|e| e.into_inner());
    if child.is_some() {
        return Err(SaveError::InProgress);
    }
    before_fork().map_err(|e| SaveError::Failed(e.to_string()))?;
    let now_secs = unix_ms() / 1000;
    let started = Instant::now();
    // SAFETY: `fork` is called with every shard lock held by this thread
    // (`ks`), so the child's copies of them are consistent and owned by
    // its only thread. The child runs only `job` and `report` (file I/O
    // on data captured before the fork, and the allocator, whose fork
    // handlers jemalloc and glibc both install) and `_exit`; it takes no
    // lock that another thread of the parent could have held at the fork.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        drop(parent_end);
        REPORTER.with(|r| *r.borrow_mut() = Some((child_end, Instant::now())));
        // A panic must end the child here: unwinding further would run
        // the copy of the event loop the child inherited.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(ks)))
            .unwrap_or_else(|_| Err(io::Error::other("the child panicked")));
        let code = report(result);
        // SAFETY: `_exit` ends the child without running the parent's
        // exit handlers or destructors (which could flush or lock state
        // the child only has a copy of); always sound to call.
        unsafe { libc::_exit(code) };
    }
    if pid < 0 {
        let e = io::Error::last_os_error();
        warning!("Can't fork: {e}");
        return Err(SaveError::Failed(e.to_string()));
    }
    let fork_usec = started.elapsed().as_micros() as u64;
    drop(child_end);
    let total: u64 = (0..ks.keyspace().databases())
        .map(|db| ks.db_sizes(db).0)
        .sum();
    p.current.begin(total);
    p.latest_fork_usec.store(fork_usec, Ordering::Relaxed);
    p.total_forks.fetch_add(1, Ordering::Relaxed);
    shared.latency.sample("fork", fork_usec / 1000);
    *child = Some(Child {
        pid,
        started_secs: now_secs,
        kind,
    });
    drop(child);
    p.aof.child_active.store(true, Ordering::Relaxed);
    let state = shared.persist_handle();
    let spawned = std::thread::Builder::new()
        .name("soquete-child".into())
        .spawn(move || {
            let outcome = wait_child(pid, parent_end, started, &state.current);
            // The slot is freed only once the outcome is recorded (a
            // rewrite's files installed): no other child starts before.
            done(outcome);
            *state.child.lock().unwrap_or_else(|e| e.into_inner()) = None;
            state.current.begin(0);
            state.aof.child_active.store(false, Ordering::Relaxed);
        });
    if let Err(e) = spawned {
        warning!("Can't watch the child process: {e}");
    }
    Ok(pid)
}

thread_local! {
    /// In a forked child: the socket to its parent and when it last told
    /// it how far it got (Redis's `sendChildInfo` once a second).
    static REPORTER: std::cell::RefCell<Option<(UnixStream, Instant)>> =
        const { std::cell::RefCell::new(None) };
}

/// In a forked child, at most once a second: tells the parent how many
/// keys are written and the copy-on-write size so far (INFO persistence's
/// `current_*` fields). Nothing elsewhere.
fn progress(keys: u64) {
    REPORTER.with(|r| {
        if let Some((to, last)) = r.borrow_mut().as_mut() {
            if last.elapsed() >= std::time::Duration::from_secs(1) {
                *last = Instant::now();
                let cow = private_dirty_bytes().unwrap_or(0);
                let _ = to.write_all(format!("~{keys} {cow}\n").as_bytes());
            }
        }
    });
}

/// The child's last words: success with its copy-on-write size, or the
/// error; returns the exit code.
fn report(result: io::Result<Written>) -> i32 {
    let (code, msg) = match result {
        Ok(w) => {
            let cow = private_dirty_bytes().unwrap_or(0);
            (0, format!("{}{} {}\n", REPORT_OK as char, w.keys, cow))
        }
        Err(e) => (1, format!("-{e}\n")),
    };
    REPORTER.with(|r| {
        if let Some((to, _)) = r.borrow_mut().as_mut() {
            let _ = to.write_all(msg.as_bytes());
        }
    });
    code
}

/// BGSAVE: forks a child that writes the snapshot. `ks` is a view that
/// already holds every shard, or `None` to lock them all here. Returns
/// once the child runs; a thread of the parent's waits for it.
pub fn bgsave<'a>(shared: &'a Shared, ks: Option<&mut Locked<'a>>) -> Result<(), SaveError> {
    let p = &shared.persist;
    let opts = SaveOptions::from_config(shared);
    let dirty = super::dirty_total(shared);
    let dir = opts.dir.clone();
    let state = shared.persist_handle();
    let job = move |ks: &mut Locked<'a>| {
        let tmp = temp_path(&opts.dir, std::process::id());
        write_file(ks, &tmp, &opts)
    };
    let done = move |o: Outcome| rdb_done(&state, o, &dir);
    let before = || {
        p.rdb_saves.fetch_add(1, Ordering::Relaxed);
        p.last_bgsave_try.store(unix_ms() / 1000, Ordering::Relaxed);
        p.dirty_at_fork.store(dirty, Ordering::Relaxed);
        Ok(())
    };
    match fork_child(shared, ks, ChildKind::Rdb, before, job, done) {
        Ok(pid) => {
            notice!("Background saving started by pid {pid}");
            Ok(())
        }
        Err(SaveError::InProgress) => Err(SaveError::InProgress),
        Err(e) => {
            p.last_bgsave_ok.store(false, Ordering::Relaxed);
            warning!("Can't save in background: {e:?}");
            Err(e)
        }
    }
}

/// This process's private dirty memory (`Private_Dirty` summed over
/// `/proc/self/smaps_rollup`): in a forked child, the pages the parent
/// changed since the fork, which the child alone still maps.
fn private_dirty_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/smaps_rollup").ok()?;
    let line = s.lines().find(|l| l.starts_with("Private_Dirty:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Reads the child's progress and last words, and reaps it.
fn wait_child(pid: i32, from: UnixStream, started: Instant, current: &super::Current) -> Outcome {
    use std::io::BufRead;
    let mut msg = String::new();
    for line in io::BufReader::new(from).lines() {
        let Ok(line) = line else { break };
        match line.strip_prefix('~') {
            Some(p) => {
                let mut w = p.split_whitespace().map(|x| x.parse::<u64>().unwrap_or(0));
                current.update(w.next().unwrap_or(0), w.next().unwrap_or(0));
            }
            None => msg = line,
        }
    }
    let status = rustix::process::Pid::from_raw(pid)
        .map(|p| rustix::process::waitpid(Some(p), rustix::process::WaitOptions::empty()));
    let (exit, signal) = match status {
        Some(Ok(Some((_, st)))) => (st.exit_status(), st.terminating_signal()),
        _ => (None, None),
    };
    let reported = msg.as_bytes().first() == Some(&REPORT_OK);
    let cow = if reported {
        msg[1..]
            .split_whitespace()
            .nth(1)
            .and_then(|w| w.parse().ok())
            .unwrap_or(0)
    } else {
        0
    };
    Outcome {
        ok: exit == Some(0) && reported,
        signal,
        cow,
        error: msg.strip_prefix('-').map(str::to_string),
        secs: started.elapsed().as_secs(),
        pid,
    }
}

/// The parent's record of a background save's end, as Redis's
/// `backgroundSaveDoneHandlerDisk`.
fn rdb_done(p: &Persistence, o: Outcome, dir: &Path) {
    p.last_bgsave_secs.store(o.secs as i64, Ordering::Relaxed);
    if o.ok {
        if o.cow > 0 {
            notice!(
                "Fork CoW for RDB: current {} MB, peak {} MB, average {} MB",
                o.cow >> 20,
                o.cow >> 20,
                o.cow >> 20
            );
        }
        notice!("Background saving terminated with success");
        p.last_cow.store(o.cow, Ordering::Relaxed);
        let at_fork = p.dirty_at_fork.load(Ordering::Relaxed);
        p.dirty_base.fetch_max(at_fork, Ordering::Relaxed);
        p.lastsave.store(unix_ms() / 1000, Ordering::Relaxed);
        p.last_bgsave_ok.store(true, Ordering::Relaxed);
    } else if let Some(sig) = o.signal {
        warning!("Background saving terminated by signal {sig}");
        let _ = std::fs::remove_file(temp_path(dir, o.pid as u32));
        if sig != libc::SIGUSR1 {
            p.last_bgsave_ok.store(false, Ordering::Relaxed);
        }
    } else {
        if let Some(err) = &o.error {
            warning!("Write error saving DB on disk: {err}");
        }
        warning!("Background saving error");
        p.last_bgsave_ok.store(false, Ordering::Relaxed);
    }
}

/// Stops a running background save (FLUSHALL, as Redis's
/// `killRDBChild`); an AOF rewrite goes on.
pub fn kill_rdb_child(shared: &Shared) {
    if shared.persist.child_kind() == Some(ChildKind::Rdb) {
        kill_child(shared);
    }
}

/// Stops the running child (shutdown, `appendonly no`): SIGUSR1, which
/// the parent does not count as an error, then its temporary file goes.
pub fn kill_child(shared: &Shared) {
    if let Some(pid) = shared.persist.child_pid() {
        if let Some(pid) = rustix::process::Pid::from_raw(pid) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::USR1);
        }
    }
}
