//! The append-only file, as Redis 7.0's multi-part AOF: a directory
//! (`appenddirname`) holding a base file (an RDB snapshot, or commands
//! without `aof-use-rdb-preamble`), incremental files of commands, and
//! the manifest that lists them ([`manifest`]).
//!
//! Commands reach the log in the form they took effect (`Record`s a
//! command's call collects: relative expiries as absolute `PXAT`, SPOP
//! as SREMs, blocking pops as the pops they became, expired keys as DEL),
//! appended to one shared buffer **while the command still holds its
//! shard locks**: two commands that touch the same key are logged in the
//! order they ran, and commands that touch none in common in some order
//! they could have run in. A loop writes the buffer (and with
//! `appendfsync always` syncs it) before it sends the replies of the
//! commands it appended, so no client sees a write acknowledged before
//! the log holds it; loops that finish together share one `write` and
//! one `fdatasync`. With `everysec` a thread of its own syncs once a
//! second.
//!
//! A rewrite (BGREWRITEAOF, `CONFIG SET appendonly yes`, the automatic
//! growth trigger) opens a new incremental file and forks, both with
//! every shard locked: the child writes the new base from the keyspace as
//! of that instant, and everything after it goes to the new incremental
//! file. When the child succeeds the manifest names the new base and the
//! new file, and the files before them are deleted.

pub mod manifest;
pub mod replay;

use std::cell::Cell;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use manifest::Manifest;

use crate::db::Locked;
use crate::persist::snapshot::{self, ChildKind, Outcome, SaveError, SaveOptions};
use crate::shared::{unix_ms, Shared};
use crate::{notice, warning};

/// One command as logged: its database and arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The database it ran in.
    pub db: usize,
    /// Its arguments, command name first.
    pub argv: Vec<Vec<u8>>,
}

impl Record {
    /// A record of `argv` in `db`.
    pub fn new(db: usize, argv: &[&[u8]]) -> Record {
        Record {
            db,
            argv: argv.iter().map(|a| a.to_vec()).collect(),
        }
    }
}

/// `appendfsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// Sync before replying.
    Always,
    /// Sync once a second.
    Everysec,
    /// Leave it to the kernel.
    No,
}

impl Fsync {
    fn from_u8(v: u8) -> Fsync {
        match v {
            0 => Fsync::Always,
            1 => Fsync::Everysec,
            _ => Fsync::No,
        }
    }

    /// Parses the configuration value.
    pub fn parse(s: &str) -> Fsync {
        match s {
            "always" => Fsync::Always,
            "no" => Fsync::No,
            _ => Fsync::Everysec,
        }
    }
}

thread_local! {
    /// The log offset this thread's last append ended at, not yet known
    /// to be written (0: nothing pending).
    static MINE: Cell<u64> = const { Cell::new(0) };
}

/// Bytes appended but not yet written.
#[derive(Debug, Default)]
struct Pending {
    bytes: Vec<u8>,
    /// Offset of the end of `bytes` in the whole log.
    end: u64,
    /// The database the log last selected.
    db: Option<usize>,
    /// The second of the last `#TS:` annotation.
    ts: u64,
}

/// The files and the rewrite state.
#[derive(Debug, Default)]
struct Files {
    /// `dir/appenddirname`.
    dir: PathBuf,
    /// `appendfilename`.
    filename: String,
    manifest: Manifest,
    /// The first rewrite after `appendonly yes` at run time: its
    /// increments go to a temporary file until the base exists.
    first: Option<String>,
    /// Bytes in the base file and in the increments at the last rewrite
    /// (the automatic rewrite compares growth with this).
    base_size: u64,
    rewrite_base: u64,
}

/// The append-only file's state (one per server).
#[derive(Debug)]
pub struct Aof {
    /// Commands are appended (the dispatch path's one check).
    on: AtomicBool,
    pending: Mutex<Pending>,
    /// The open incremental file; held while writing and syncing.
    file: Mutex<Option<File>>,
    /// Log offsets known written and known synced.
    written: AtomicU64,
    synced: AtomicU64,
    fsync: AtomicU8,
    timestamps: AtomicBool,
    files: Mutex<Files>,
    /// INFO persistence.
    rewrites: AtomicU64,
    last_rewrite_secs: AtomicI64,
    rewrite_failed: AtomicBool,
    write_failed: AtomicBool,
    last_cow: AtomicU64,
    scheduled: AtomicBool,
    /// Bytes written to the increments since the last rewrite.
    grown: AtomicU64,
    /// The once-a-second thread runs.
    sync_thread: AtomicBool,
    /// The last write error, as `strerror` words it.
    last_error: Mutex<String>,
    /// `no-appendfsync-on-rewrite`.
    no_sync_on_rewrite: AtomicBool,
    /// A child (BGSAVE or rewrite) runs: with `no-appendfsync-on-rewrite`
    /// the log is not synced meanwhile.
    pub child_active: AtomicBool,
}

impl Default for Aof {
    fn default() -> Aof {
        Aof {
            on: AtomicBool::new(false),
            pending: Mutex::new(Pending::default()),
            file: Mutex::new(None),
            written: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            fsync: AtomicU8::new(1),
            timestamps: AtomicBool::new(false),
            files: Mutex::new(Files::default()),
            rewrites: AtomicU64::new(0),
            last_rewrite_secs: AtomicI64::new(-1),
            rewrite_failed: AtomicBool::new(false),
            write_failed: AtomicBool::new(false),
            last_cow: AtomicU64::new(0),
            scheduled: AtomicBool::new(false),
            grown: AtomicU64::new(0),
            sync_thread: AtomicBool::new(false),
            last_error: Mutex::new(String::new()),
            no_sync_on_rewrite: AtomicBool::new(false),
            child_active: AtomicBool::new(false),
        }
    }
}

/// An I/O error in `strerror`'s words ("No space left on device"), as
/// Redis's messages quote it.
fn strerror(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Appends one command in RESP, as Redis's `catAppendOnlyGenericCommand`.
fn encode(out: &mut Vec<u8>, argv: &[impl AsRef<[u8]>]) {
    let mut n = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(n.format(argv.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in argv {
        let a = a.as_ref();
        out.push(b'$');
        out.extend_from_slice(n.format(a.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

impl Aof {
    /// True while commands are appended.
    #[inline(always)]
    pub fn on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// Takes the configuration's `appendfsync` and
    /// `aof-timestamp-enabled`.
    pub fn configure(&self, shared: &Shared) {
        let c = shared.config();
        let fsync = Fsync::parse(
            c.get_by_name("appendfsync")
                .as_deref()
                .unwrap_or("everysec"),
        );
        self.fsync.store(fsync as u8, Ordering::Relaxed);
        self.timestamps.store(
            c.get_by_name("aof-timestamp-enabled").as_deref() == Some("yes"),
            Ordering::Relaxed,
        );
        self.no_sync_on_rewrite.store(
            c.get_by_name("no-appendfsync-on-rewrite").as_deref() == Some("yes"),
            Ordering::Relaxed,
        );
    }

    fn policy(&self) -> Fsync {
        Fsync::from_u8(self.fsync.load(Ordering::Relaxed))
    }

    /// Whether syncs are skipped now (`no-appendfsync-on-rewrite` while a
    /// child runs, as in Redis).
    fn sync_paused(&self) -> bool {
        self.no_sync_on_rewrite.load(Ordering::Relaxed) && self.child_active.load(Ordering::Relaxed)
    }

    /// The bytes the pending buffer holds allocated (Redis's
    /// `sdsAllocSize(server.aof_buf)`, left out of the `maxmemory`
    /// comparison).
    pub fn pending_capacity(&self) -> usize {
        lock(&self.pending).bytes.capacity()
    }

    /// Appends `records` (wrapped in MULTI/EXEC when `multi`). The caller
    /// still holds the shard locks of the commands they come from.
    pub fn append(&self, records: &[Record], multi: bool) {
        if records.is_empty() {
            return;
        }
        let mut p = lock(&self.pending);
        let before = p.bytes.len();
        if self.timestamps.load(Ordering::Relaxed) {
            let secs = unix_ms() / 1000;
            if secs != p.ts {
                p.ts = secs;
                p.bytes
                    .extend_from_slice(format!("#TS:{secs}\r\n").as_bytes());
            }
        }
        let select = |p: &mut Pending, db: usize| {
            if p.db != Some(db) {
                let n = db.to_string();
                encode(&mut p.bytes, &[b"SELECT".as_slice(), n.as_bytes()]);
                p.db = Some(db);
            }
        };
        if multi {
            select(&mut p, records[0].db);
            encode(&mut p.bytes, &[b"MULTI"]);
        }
        for r in records {
            select(&mut p, r.db);
            encode(&mut p.bytes, &r.argv);
        }
        if multi {
            encode(&mut p.bytes, &[b"EXEC"]);
        }
        p.end += (p.bytes.len() - before) as u64;
        MINE.with(|m| m.set(p.end));
    }

    /// Makes what this thread appended durable as the policy promises
    /// before its replies go out: written (and synced with `always`).
    /// Loops call this after each batch; one that finds another already
    /// wrote (or synced) past its records returns without a system call.
    #[inline(always)]
    pub fn flush_mine(&self) {
        if self.on() {
            self.flush_mine_now();
        }
    }

    #[inline(never)]
    fn flush_mine_now(&self) {
        let target = MINE.with(|m| m.replace(0));
        if target == 0 {
            return;
        }
        let always = self.policy() == Fsync::Always && !self.sync_paused();
        let done = |a: &Aof| {
            if always {
                a.synced.load(Ordering::Acquire) >= target
            } else {
                a.written.load(Ordering::Acquire) >= target
            }
        };
        if done(self) {
            return;
        }
        let mut file = lock(&self.file);
        if done(self) {
            return;
        }
        self.write_locked(&mut file, always);
    }

    /// Writes everything appended so far (and syncs when `sync`), with
    /// the file lock held.
    fn write_locked(&self, file: &mut Option<File>, sync: bool) {
        let (bytes, end) = {
            let mut p = lock(&self.pending);
            (std::mem::take(&mut p.bytes), p.end)
        };
        let Some(f) = file.as_mut() else {
            return;
        };
        if !bytes.is_empty() {
            match f.write_all(&bytes) {
                Ok(()) => {
                    self.grown.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                    self.written.store(end, Ordering::Release);
                    self.write_failed.store(false, Ordering::Relaxed);
                }
                Err(e) => {
                    warning!("Error writing to the AOF file: {e}");
                    *lock(&self.last_error) = strerror(&e);
                    self.write_failed.store(true, Ordering::Relaxed);
                    // Keep the bytes for the next try, in front of newer ones.
                    let mut p = lock(&self.pending);
                    let newer = std::mem::replace(&mut p.bytes, bytes);
                    p.bytes.extend_from_slice(&newer);
                    return;
                }
            }
        }
        if sync && self.synced.load(Ordering::Acquire) < end {
            if let Err(e) = f.sync_data() {
                warning!("Error syncing the AOF file: {e}");
                *lock(&self.last_error) = strerror(&e);
                self.write_failed.store(true, Ordering::Relaxed);
                return;
            }
            self.synced.store(end, Ordering::Release);
        }
    }

    /// Writes what is pending, and syncs unless the policy is `no`
    /// (the once-a-second thread, shutdown).
    pub fn flush_all(&self, sync: bool) {
        let mut file = lock(&self.file);
        self.write_locked(&mut file, sync);
    }

    /// True when the last write or sync failed (Redis refuses writes
    /// then, with MISCONF).
    #[inline(always)]
    pub fn write_failed(&self) -> bool {
        self.write_failed.load(Ordering::Relaxed) && self.on()
    }

    /// The last write error's text (`strerror`).
    pub fn last_error(&self) -> String {
        lock(&self.last_error).clone()
    }

    /// Opens the incremental file `name` in `dir` for appending and makes
    /// it the one written; what was pending goes to the old one first.
    fn switch_to(&self, path: &Path) -> io::Result<()> {
        let f = OpenOptions::new().create(true).append(true).open(path)?;
        let mut file = lock(&self.file);
        self.write_locked(&mut file, true);
        *file = Some(f);
        // The new file starts with its own SELECT.
        lock(&self.pending).db = None;
        Ok(())
    }
}

/// The append-only directory of the configuration now.
fn aof_dir(shared: &Shared) -> (PathBuf, String) {
    let c = shared.config();
    let dirname = c
        .get_by_name("appenddirname")
        .unwrap_or_else(|| "appendonlydir".into());
    let filename = c
        .get_by_name("appendfilename")
        .unwrap_or_else(|| "appendonly.aof".into());
    (c.dir.join(dirname), filename)
}

/// Writes the manifest atomically (a temporary file renamed over it).
fn persist_manifest(files: &Files) -> io::Result<()> {
    let path = files.dir.join(format!("{}.manifest", files.filename));
    let tmp = files.dir.join(format!("temp-{}.manifest", files.filename));
    let mut f = File::create(&tmp)?;
    f.write_all(files.manifest.format().as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    if let Ok(d) = File::open(&files.dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Deletes the files the manifest marks as history.
fn delete_history(files: &mut Files) {
    for h in files.manifest.history.drain(..) {
        notice!("Removing the history file {} in the background", h.name);
        let _ = std::fs::remove_file(files.dir.join(&h.name));
    }
    let _ = persist_manifest(files);
}

/// Moves an old-style single append-only file (`dir/appendfilename`, as
/// Redis before 7.0 wrote it) into the directory as the base of a new
/// manifest, as Redis 7.0's `aofUpgradePrepare` does at start-up.
pub fn upgrade_old_style(shared: &Shared) -> io::Result<()> {
    let (dir, filename) = aof_dir(shared);
    let old = shared.config().dir.join(&filename);
    let manifest = dir.join(format!("{filename}.manifest"));
    if manifest.exists() || !old.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(&dir)?;
    let files = Files {
        dir: dir.clone(),
        filename: filename.clone(),
        manifest: Manifest {
            base: Some(manifest::FileInfo {
                name: filename.clone(),
                seq: 1,
                kind: b'b',
            }),
            base_seq: 1,
            ..Manifest::default()
        },
        ..Files::default()
    };
    persist_manifest(&files)?;
    std::fs::rename(&old, dir.join(&filename))?;
    notice!(
        "Successfully migrated an old-style AOF file ({filename}) into the AOF directory ({}).",
        dir.display()
    );
    Ok(())
}

/// The manifest on disk, if the directory has one.
pub fn read_manifest(shared: &Shared) -> Result<Option<(PathBuf, Manifest)>, String> {
    let (dir, filename) = aof_dir(shared);
    let path = dir.join(format!("{filename}.manifest"));
    match std::fs::read_to_string(&path) {
        Ok(text) => Manifest::parse(&text).map(|m| Some((dir, m))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!(
            "Can't open the AOF manifest {}: {e}",
            path.display()
        )),
    }
}

/// Start-up with `appendonly yes`, after the log (if any) was loaded:
/// writes a base when there is none (Redis's
/// `aofOpenIfNeededOnServerStart`), opens the last incremental file and
/// starts appending.
pub fn open_at_startup(shared: &Shared, manifest: Manifest) -> io::Result<()> {
    let aof = &shared.persist.aof;
    aof.configure(shared);
    let (dir, filename) = aof_dir(shared);
    std::fs::create_dir_all(&dir)?;
    let mut files = lock(&aof.files);
    files.dir = dir.clone();
    files.filename = filename.clone();
    files.manifest = manifest;
    if files.manifest.base.is_none() && files.manifest.incr.is_empty() {
        let preamble = use_preamble(shared);
        let name = files.manifest.new_base(&filename, preamble);
        let mut all = shared.keyspace.lock_all(0, unix_ms());
        write_base(shared, &mut all, &dir.join(&name), preamble)?;
        notice!("Creating AOF base file {name} on server start");
    }
    let incr = files.manifest.last_incr(&filename);
    aof.switch_to(&dir.join(&incr))?;
    persist_manifest(&files)?;
    files.base_size = file_size(&dir, files.manifest.base.as_ref().map(|b| b.name.as_str()));
    files.rewrite_base = files.base_size + incr_sizes(&files);
    drop(files);
    aof.on.store(true, Ordering::SeqCst);
    crate::db::set_log_expired_for_aof(true);
    start_sync_thread(shared);
    Ok(())
}

fn use_preamble(shared: &Shared) -> bool {
    shared
        .config()
        .get_by_name("aof-use-rdb-preamble")
        .as_deref()
        != Some("no")
}

fn file_size(dir: &Path, name: Option<&str>) -> u64 {
    name.and_then(|n| std::fs::metadata(dir.join(n)).ok())
        .map_or(0, |m| m.len())
}

fn incr_sizes(files: &Files) -> u64 {
    files
        .manifest
        .incr
        .iter()
        .map(|f| file_size(&files.dir, Some(&f.name)))
        .sum()
}

/// Writes a base file: an RDB snapshot marked `aof-base`, or commands.
fn write_base(shared: &Shared, ks: &mut Locked<'_>, path: &Path, preamble: bool) -> io::Result<()> {
    let mut opts = SaveOptions::from_config(shared);
    opts.aux.aof_base = true;
    write_base_with(ks, path, preamble, &opts)
}

fn write_base_with(
    ks: &mut Locked<'_>,
    path: &Path,
    preamble: bool,
    opts: &SaveOptions,
) -> io::Result<()> {
    let f = File::create(path)?;
    let mut w = io::BufWriter::with_capacity(1 << 20, f);
    if preamble {
        let (bw, _) = snapshot::write_keyspace(ks, w, opts)?;
        w = bw;
    } else {
        replay::write_commands(ks, &opts.functions, &mut w)?;
    }
    let f = w.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()
}

/// The thread that, once a second, writes what is pending (expired keys
/// the cron deleted, or a loop's records if it could not) and, with
/// `everysec`, syncs.
fn start_sync_thread(shared: &Shared) {
    let state = shared.persist_handle();
    if state.aof.sync_thread.swap(true, Ordering::SeqCst) {
        return;
    }
    let _ = std::thread::Builder::new()
        .name("soquete-aof".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_secs(1));
            // The server is gone when this thread holds the last handle.
            if Arc::strong_count(&state) == 1 {
                return;
            }
            let aof = &state.aof;
            if aof.on() {
                aof.flush_all(aof.policy() != Fsync::No && !aof.sync_paused());
            }
        });
}

/// Turns appending off (`CONFIG SET appendonly no`): what is pending is
/// written and synced, the file closed, a rewrite in progress stopped.
pub fn stop(shared: &Shared) {
    let aof = &shared.persist.aof;
    aof.flush_all(true);
    aof.on.store(false, Ordering::SeqCst);
    crate::db::set_log_expired_for_aof(false);
    *lock(&aof.file) = None;
    if shared.persist.child_kind() == Some(ChildKind::AofRewrite) {
        snapshot::kill_child(shared);
    }
    notice!("Background append only file rewriting stopped");
}

/// What a rewrite does to the log around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The log is on: a new incremental file takes what follows.
    On,
    /// `appendonly yes` at run time: the log starts with this rewrite
    /// (its increments wait in a temporary file until the base exists).
    Enable,
    /// The log is off (BGREWRITEAOF without `appendonly`): only a new
    /// base and manifest are written.
    Off,
}

/// The mode a rewrite started now takes.
pub fn mode_now(shared: &Shared) -> Mode {
    if shared.persist.aof.on() {
        Mode::On
    } else if shared.config().appendonly {
        Mode::Enable
    } else {
        Mode::Off
    }
}

/// Why a rewrite did not start.
#[derive(Debug)]
pub enum RewriteError {
    /// A rewrite is already running.
    InProgress,
    /// Another child (a BGSAVE) is running.
    OtherChild,
    /// It failed to start.
    Failed(String),
}

/// Starts a rewrite: opens a new incremental file and forks a child that
/// writes the new base (Redis's `rewriteAppendOnlyFileBackground`).
/// `first` is the rewrite that turns the log on at run time. `ks` holds
/// every shard already, or `None` to lock them here.
pub fn rewrite<'a>(
    shared: &'a Shared,
    ks: Option<&mut Locked<'a>>,
    mode: Mode,
) -> Result<(), RewriteError> {
    let p = &shared.persist;
    match p.child_kind() {
        Some(ChildKind::AofRewrite) => return Err(RewriteError::InProgress),
        Some(ChildKind::Rdb) => return Err(RewriteError::OtherChild),
        None => {}
    }
    let aof = &p.aof;
    aof.configure(shared);
    let (dir, filename) = aof_dir(shared);
    std::fs::create_dir_all(&dir).map_err(|e| {
        warning!(
            "Can't open or create append-only dir {}: {e}",
            dir.display()
        );
        aof.rewrite_failed.store(true, Ordering::Relaxed);
        RewriteError::Failed(e.to_string())
    })?;
    let preamble = use_preamble(shared);
    let mut opts = SaveOptions::from_config(shared);
    opts.aux.aof_base = true;
    let state = shared.persist_handle();
    let base_dir = opts.dir.clone();
    let before = || -> io::Result<()> {
        let mut files = lock(&aof.files);
        files.dir = dir.clone();
        files.filename = filename.clone();
        if mode != Mode::On && files.manifest.base.is_none() && files.manifest.incr.is_empty() {
            if let Ok(Some((_, m))) = read_manifest(shared) {
                files.manifest = m;
            }
        }
        match mode {
            Mode::Enable => {
                let temp = format!("temp-{filename}.incr");
                aof.switch_to(&dir.join(&temp))?;
                files.first = Some(temp);
                aof.on.store(true, Ordering::SeqCst);
                crate::db::set_log_expired_for_aof(true);
            }
            Mode::On => {
                let name = files.manifest.new_incr(&filename);
                persist_manifest(&files)?;
                aof.switch_to(&dir.join(&name))?;
            }
            Mode::Off => {}
        }
        aof.rewrites.fetch_add(1, Ordering::Relaxed);
        Ok(())
    };
    let job = move |ks: &mut Locked<'a>| {
        let tmp = base_dir.join(format!("temp-rewriteaof-bg-{}.aof", std::process::id()));
        write_base_with(ks, &tmp, preamble, &opts)?;
        Ok(snapshot::Written::default())
    };
    let done = move |o: Outcome| rewrite_done(&state, o, preamble, mode);
    match snapshot::fork_child(shared, ks, ChildKind::AofRewrite, before, job, done) {
        Ok(pid) => {
            aof.scheduled.store(false, Ordering::Relaxed);
            notice!("Background append only file rewriting started by pid {pid}");
            if mode == Mode::Enable {
                start_sync_thread(shared);
            }
            Ok(())
        }
        Err(SaveError::InProgress) => Err(RewriteError::OtherChild),
        Err(SaveError::Failed(e)) => {
            aof.rewrite_failed.store(true, Ordering::Relaxed);
            warning!("Can't rewrite append only file in background: {e}");
            Err(RewriteError::Failed(e))
        }
    }
}

/// The parent's end of a rewrite (Redis's `backgroundRewriteDoneHandler`):
/// the new base and increment take their names, the manifest says so,
/// the older files go.
fn rewrite_done(p: &crate::persist::Persistence, o: Outcome, preamble: bool, mode: Mode) {
    let aof = &p.aof;
    aof.last_rewrite_secs
        .store(o.secs as i64, Ordering::Relaxed);
    let mut files = lock(&aof.files);
    let base_dir = files
        .dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let tmp = base_dir.join(format!("temp-rewriteaof-bg-{}.aof", o.pid));
    if !o.ok {
        let _ = std::fs::remove_file(&tmp);
        match o.signal {
            Some(sig) => warning!("Background AOF rewrite terminated by signal {sig}"),
            None => warning!(
                "Background AOF rewrite terminated with error{}",
                o.error.map(|e| format!(": {e}")).unwrap_or_default()
            ),
        }
        if o.signal != Some(libc::SIGUSR1) {
            aof.rewrite_failed.store(true, Ordering::Relaxed);
        }
        if mode == Mode::Enable {
            // The log was not on yet: its increments since the fork sit in
            // a file no manifest names. Turn it off again and try anew
            // (the next base will hold everything written meanwhile).
            if let Some(temp) = files.first.take() {
                aof.on.store(false, Ordering::SeqCst);
                crate::db::set_log_expired_for_aof(false);
                *lock(&aof.file) = None;
                let _ = std::fs::remove_file(files.dir.join(temp));
                // Stopped on purpose (SIGUSR1: `appendonly no`, shutdown)
                // is not retried.
                if o.signal != Some(libc::SIGUSR1) {
                    aof.scheduled.store(true, Ordering::Relaxed);
                }
            }
        }
        return;
    }
    let installed = (|| -> io::Result<()> {
        let filename = files.filename.clone();
        let dir = files.dir.clone();
        let mut m = files.manifest.clone();
        let base = m.new_base(&filename, preamble);
        std::fs::rename(&tmp, dir.join(&base))?;
        if mode == Mode::Enable {
            if let Some(temp) = files.first.take() {
                let incr = m.new_incr(&filename);
                std::fs::rename(dir.join(&temp), dir.join(&incr))?;
            }
        }
        if mode == Mode::Off {
            // No file is written now: every increment is history.
            for mut f in m.incr.drain(..).rev() {
                f.kind = b'h';
                m.history.insert(0, f);
            }
        } else {
            m.retire_rewritten();
        }
        files.manifest = m;
        persist_manifest(&files)?;
        Ok(())
    })();
    match installed {
        Ok(()) => {
            notice!("Background AOF rewrite terminated with success");
            aof.rewrite_failed.store(false, Ordering::Relaxed);
            aof.last_cow.store(o.cow, Ordering::Relaxed);
            delete_history(&mut files);
            let base = files.manifest.base.as_ref().map(|b| b.name.clone());
            files.base_size = file_size(&files.dir, base.as_deref());
            files.rewrite_base = files.base_size + incr_sizes(&files);
            aof.grown.store(0, Ordering::Relaxed);
            notice!("Background AOF rewrite finished successfully");
        }
        Err(e) => {
            warning!("Error trying to install the rewritten AOF: {e}");
            aof.rewrite_failed.store(true, Ordering::Relaxed);
        }
    }
}

/// BGREWRITEAOF SCHEDULE-like state: a rewrite waits for the running
/// child.
pub fn schedule(shared: &Shared) {
    shared.persist.aof.scheduled.store(true, Ordering::Relaxed);
}

/// The cron's part: a scheduled rewrite, or the automatic one when the
/// log grew past `auto-aof-rewrite-percentage` of its size at the last
/// rewrite (and at least `auto-aof-rewrite-min-size`).
pub fn cron(shared: &Shared) {
    let p = &shared.persist;
    let aof = &p.aof;
    if p.child_running() || p.loading() {
        return;
    }
    if aof.scheduled.load(Ordering::Relaxed) {
        let _ = rewrite(shared, None, mode_now(shared));
        return;
    }
    if !aof.on() {
        return;
    }
    let (pct, min) = {
        let c = shared.config();
        (
            c.get_by_name("auto-aof-rewrite-percentage")
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(100),
            c.get_by_name("auto-aof-rewrite-min-size")
                .and_then(|v| crate::config::params::parse_memory(&v))
                .unwrap_or(64 << 20),
        )
    };
    if pct == 0 {
        return;
    }
    let base = lock(&aof.files).rewrite_base.max(1);
    let size = base + aof.grown.load(Ordering::Relaxed);
    if size > min && (size - base) * 100 / base >= pct {
        notice!(
            "Starting automatic rewriting of AOF on {}% growth",
            (size - base) * 100 / base
        );
        let _ = rewrite(shared, None, Mode::On);
    }
}

/// INFO persistence's AOF lines.
pub fn info(shared: &Shared, out: &mut Vec<String>) {
    let p = &shared.persist;
    let aof = &p.aof;
    let rewriting = p.child_kind() == Some(ChildKind::AofRewrite);
    let started = p.child_started();
    let now = unix_ms() / 1000;
    out.push(format!("aof_enabled:{}", aof.on() as u8));
    out.push(format!("aof_rewrite_in_progress:{}", rewriting as u8));
    out.push(format!(
        "aof_rewrite_scheduled:{}",
        aof.scheduled.load(Ordering::Relaxed) as u8
    ));
    out.push(format!(
        "aof_last_rewrite_time_sec:{}",
        aof.last_rewrite_secs.load(Ordering::Relaxed)
    ));
    out.push(format!(
        "aof_current_rewrite_time_sec:{}",
        match (rewriting, started) {
            (true, Some(s)) => now.saturating_sub(s) as i64,
            _ => -1,
        }
    ));
    let ok = |failed: &AtomicBool| {
        if failed.load(Ordering::Relaxed) {
            "err"
        } else {
            "ok"
        }
    };
    out.push(format!(
        "aof_last_bgrewrite_status:{}",
        ok(&aof.rewrite_failed)
    ));
    out.push(format!(
        "aof_rewrites:{}",
        aof.rewrites.load(Ordering::Relaxed)
    ));
    out.push("aof_rewrites_consecutive_failures:0".into());
    out.push(format!("aof_last_write_status:{}", ok(&aof.write_failed)));
    out.push(format!(
        "aof_last_cow_size:{}",
        aof.last_cow.load(Ordering::Relaxed)
    ));
    out.push("module_fork_in_progress:0".into());
    out.push("module_fork_last_cow_size:0".into());
    if aof.on() {
        let files = lock(&aof.files);
        let current = files.rewrite_base + aof.grown.load(Ordering::Relaxed);
        out.push(format!("aof_current_size:{current}"));
        out.push(format!("aof_base_size:{}", files.base_size));
        out.push("aof_pending_rewrite:0".into());
        out.push(format!(
            "aof_buffer_length:{}",
            lock(&aof.pending).bytes.len()
        ));
        out.push("aof_pending_bio_fsync:0".into());
        out.push("aof_delayed_fsync:0".into());
    }
}
