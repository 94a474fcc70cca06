//! Persistence: RDB snapshots written by SAVE, BGSAVE, the `save` points
//! and shutdown, and loaded at start-up.
//!
//! A background save forks, as Redis does ([`snapshot`]): the forking
//! thread holds every shard's lock across `fork()`, so the child sees a
//! consistent keyspace whose locks it owns, and the operating system's
//! copy-on-write keeps that image while the loops go on writing. The
//! parent watches the child from a thread of its own and records how the
//! save ended.
//!
//! Changes are counted per event loop (`LoopStats::dirty`, one per
//! keyspace event a command raises, plus the flushes): the save points and
//! INFO's `rdb_changes_since_last_save` compare their sum with the sum at
//! the last successful save.

pub mod aof;
pub mod load;
pub mod snapshot;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

use crate::shared::Shared;

/// Seconds to wait after a failed background save before a save point
/// tries again (Redis's `CONFIG_BGSAVE_RETRY_DELAY`).
const RETRY_DELAY_SECS: u64 = 5;

/// What the running child reported so far (INFO persistence's `current_*`
/// fields).
#[derive(Debug, Default)]
pub struct Current {
    keys_total: AtomicU64,
    keys_done: AtomicU64,
    cow: AtomicU64,
    cow_peak: AtomicU64,
    /// When `cow` was reported, Unix seconds.
    cow_at: AtomicU64,
}

impl Current {
    /// A child starts with `total` keys to write (0: none runs).
    pub fn begin(&self, total: u64) {
        self.keys_total.store(total, Ordering::Relaxed);
        self.keys_done.store(0, Ordering::Relaxed);
        self.cow.store(0, Ordering::Relaxed);
        self.cow_peak.store(0, Ordering::Relaxed);
        self.cow_at.store(0, Ordering::Relaxed);
    }

    /// The child wrote `keys` keys; its copy-on-write is `cow` bytes.
    pub fn update(&self, keys: u64, cow: u64) {
        self.keys_done.store(keys, Ordering::Relaxed);
        self.cow.store(cow, Ordering::Relaxed);
        self.cow_peak.fetch_max(cow, Ordering::Relaxed);
        self.cow_at
            .store(crate::shared::unix_ms() / 1000, Ordering::Relaxed);
    }
}

/// Persistence state (one per server, in `Shared`).
#[derive(Debug)]
pub struct Persistence {
    /// The change count at the last successful save.
    dirty_base: AtomicU64,
    /// The change count when the running background save forked.
    dirty_at_fork: AtomicU64,
    /// The last successful save, Unix seconds (LASTSAVE).
    lastsave: AtomicU64,
    /// Whether the last background save succeeded.
    last_bgsave_ok: AtomicBool,
    /// When a background save was last started, Unix seconds.
    last_bgsave_try: AtomicU64,
    /// How long the last background save took, seconds (-1: none yet).
    last_bgsave_secs: AtomicI64,
    /// Saves started (SAVE and BGSAVE).
    rdb_saves: AtomicU64,
    /// Copy-on-write bytes of the last background save.
    last_cow: AtomicU64,
    /// How long the last fork took, microseconds.
    latest_fork_usec: AtomicU64,
    /// Forks so far.
    total_forks: AtomicU64,
    /// The running background save.
    child: Mutex<Option<snapshot::Child>>,
    /// A BGSAVE SCHEDULE waiting for the running child.
    scheduled: AtomicBool,
    /// True while the dataset is loading: commands without the `loading`
    /// flag are refused.
    loading: AtomicBool,
    /// Keys loaded and skipped as expired by the last load.
    last_load_loaded: AtomicU64,
    last_load_expired: AtomicU64,
    /// Set when loading failed: nothing may overwrite the file then.
    load_failed: AtomicBool,
    /// Why loading at start-up failed.
    load_error: Mutex<Option<String>>,
    /// The append-only file.
    pub aof: aof::Aof,
    /// The running child's progress.
    pub current: Current,
}

impl Persistence {
    /// The state of a server that saved nothing yet, started at `start_secs`.
    pub fn new(start_secs: u64) -> Persistence {
        Persistence {
            dirty_base: AtomicU64::new(0),
            dirty_at_fork: AtomicU64::new(0),
            lastsave: AtomicU64::new(start_secs),
            last_bgsave_ok: AtomicBool::new(true),
            last_bgsave_try: AtomicU64::new(0),
            last_bgsave_secs: AtomicI64::new(-1),
            rdb_saves: AtomicU64::new(0),
            last_cow: AtomicU64::new(0),
            latest_fork_usec: AtomicU64::new(0),
            total_forks: AtomicU64::new(0),
            child: Mutex::new(None),
            scheduled: AtomicBool::new(false),
            loading: AtomicBool::new(false),
            last_load_loaded: AtomicU64::new(0),
            last_load_expired: AtomicU64::new(0),
            load_failed: AtomicBool::new(false),
            load_error: Mutex::new(None),
            aof: aof::Aof::default(),
            current: Current::default(),
        }
    }

    /// True while the dataset loads (the dispatch path's one cheap test).
    #[inline(always)]
    pub fn loading(&self) -> bool {
        self.loading.load(Ordering::Relaxed)
    }

    /// True when some command may be refused: the dataset loads, the
    /// last background save failed, or the append-only file cannot be
    /// written (dispatch looks further only then).
    #[inline(always)]
    pub fn refusing(&self) -> bool {
        self.loading() || self.bgsave_failed() || self.aof.write_failed()
    }

    /// LASTSAVE: the last successful save, Unix seconds.
    pub fn lastsave(&self) -> u64 {
        self.lastsave.load(Ordering::Relaxed)
    }

    /// True when the last background save failed: with
    /// `stop-writes-on-bgsave-error` writes are refused (MISCONF).
    pub fn bgsave_failed(&self) -> bool {
        !self.last_bgsave_ok.load(Ordering::Relaxed)
    }

    /// `f` of the running child, if one runs.
    fn with_child<R>(&self, f: impl FnOnce(&snapshot::Child) -> R) -> Option<R> {
        self.child
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(f)
    }

    /// True while a child (BGSAVE or AOF rewrite) runs.
    pub fn child_running(&self) -> bool {
        self.with_child(|_| ()).is_some()
    }

    /// What the running child does, if one runs.
    pub fn child_kind(&self) -> Option<snapshot::ChildKind> {
        self.with_child(|c| c.kind)
    }

    /// When the running child started, Unix seconds.
    pub fn child_started(&self) -> Option<u64> {
        self.with_child(|c| c.started_secs)
    }

    /// The running child's pid, if any.
    pub fn child_pid(&self) -> Option<i32> {
        self.with_child(|c| c.pid)
    }

    /// Why loading at start-up failed, if it did.
    pub fn load_error(&self) -> Option<String> {
        self.load_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// The total change count: every loop's counter summed.
pub fn dirty_total(shared: &Shared) -> u64 {
    shared
        .loop_stats
        .iter()
        .map(|s| s.dirty.load(Ordering::Relaxed))
        .sum()
}

/// Changes since the last successful save.
pub fn changes_since_save(shared: &Shared) -> u64 {
    dirty_total(shared).saturating_sub(shared.persist.dirty_base.load(Ordering::Relaxed))
}

/// The `save` parameter as (seconds, changes) pairs.
pub fn save_points(save: &str) -> Vec<(u64, u64)> {
    let words: Vec<u64> = save
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    words.chunks_exact(2).map(|p| (p[0], p[1])).collect()
}

/// Where the RDB file lives: `dir`/`dbfilename`.
pub fn rdb_path(shared: &Shared) -> PathBuf {
    let c = shared.config();
    c.dir.join(&c.dbfilename)
}

/// INFO persistence's RDB lines, as Redis 7.0.15 prints them.
pub fn info_rdb(shared: &Shared, out: &mut Vec<String>) {
    let p = &shared.persist;
    let now = crate::shared::unix_ms() / 1000;
    let child = p
        .with_child(|c| (c.kind == snapshot::ChildKind::Rdb).then_some(c.started_secs))
        .flatten();
    out.push(format!("loading:{}", p.loading() as u8));
    out.push("async_loading:0".into());
    let c = &p.current;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let (total, done) = (load(&c.keys_total), load(&c.keys_done));
    let cow_at = load(&c.cow_at);
    out.push(format!("current_cow_peak:{}", load(&c.cow_peak)));
    out.push(format!("current_cow_size:{}", load(&c.cow)));
    out.push(format!(
        "current_cow_size_age:{}",
        if cow_at == 0 {
            0
        } else {
            now.saturating_sub(cow_at)
        }
    ));
    out.push(format!(
        "current_fork_perc:{:.2}",
        if total == 0 {
            0.0
        } else {
            done as f64 * 100.0 / total as f64
        }
    ));
    out.push(format!("current_save_keys_processed:{done}"));
    out.push(format!("current_save_keys_total:{total}"));
    out.push(format!(
        "rdb_changes_since_last_save:{}",
        changes_since_save(shared)
    ));
    out.push(format!("rdb_bgsave_in_progress:{}", child.is_some() as u8));
    out.push(format!("rdb_last_save_time:{}", p.lastsave()));
    out.push(format!(
        "rdb_last_bgsave_status:{}",
        if p.bgsave_failed() { "err" } else { "ok" }
    ));
    out.push(format!(
        "rdb_last_bgsave_time_sec:{}",
        p.last_bgsave_secs.load(Ordering::Relaxed)
    ));
    out.push(format!(
        "rdb_current_bgsave_time_sec:{}",
        child.map_or(-1, |s| now.saturating_sub(s) as i64)
    ));
    out.push(format!("rdb_saves:{}", p.rdb_saves.load(Ordering::Relaxed)));
    out.push(format!(
        "rdb_last_cow_size:{}",
        p.last_cow.load(Ordering::Relaxed)
    ));
    out.push(format!(
        "rdb_last_load_keys_expired:{}",
        p.last_load_expired.load(Ordering::Relaxed)
    ));
    out.push(format!(
        "rdb_last_load_keys_loaded:{}",
        p.last_load_loaded.load(Ordering::Relaxed)
    ));
}

/// INFO stats' fork lines: (`latest_fork_usec`, `total_forks`).
pub fn fork_stats(shared: &Shared) -> (u64, u64) {
    let p = &shared.persist;
    (
        p.latest_fork_usec.load(Ordering::Relaxed),
        p.total_forks.load(Ordering::Relaxed),
    )
}

/// The save points' check, from loop 0's cron (Redis's `serverCron`):
/// starts a background save when a point is reached, or when one was
/// scheduled and no child runs.
pub fn cron(shared: &Shared) {
    aof::cron(shared);
    let p = &shared.persist;
    if p.loading() || p.load_failed.load(Ordering::Relaxed) || p.child_running() {
        return;
    }
    let now = crate::shared::unix_ms() / 1000;
    if p.scheduled.load(Ordering::Relaxed) {
        if snapshot::bgsave(shared, None).is_ok() {
            p.scheduled.store(false, Ordering::Relaxed);
        }
        return;
    }
    let save = shared.config().save.clone();
    if save.is_empty() {
        return;
    }
    let changes = changes_since_save(shared);
    let since = now.saturating_sub(p.lastsave());
    let may_retry = !p.bgsave_failed()
        || now.saturating_sub(p.last_bgsave_try.load(Ordering::Relaxed)) > RETRY_DELAY_SECS;
    for (secs, min_changes) in save_points(&save) {
        if changes >= min_changes && since > secs && may_retry {
            crate::notice!("{min_changes} changes in {secs} seconds. Saving...");
            let _ = snapshot::bgsave(shared, None);
            return;
        }
    }
}

impl Persistence {
    /// BGSAVE SCHEDULE (or BGSAVE inside EXEC): the cron starts the save
    /// as soon as no child runs.
    pub fn schedule(&self) {
        self.scheduled.store(true, Ordering::Relaxed);
    }
}

/// The final save failed: the server keeps running.
#[derive(Debug, Clone, Copy)]
pub struct ShutdownRefused;

/// What has to happen before the process exits (Redis's
/// `prepareForShutdown`/`finishShutdown`): a running background save is
/// stopped, and the final snapshot is written when save points are
/// configured (or `save`), unless `nosave`, or while loading. A failed
/// save stops the shutdown unless `force`. The caller holds no shard
/// lock.
pub fn prepare_shutdown(
    shared: &Shared,
    save: bool,
    nosave: bool,
    force: bool,
) -> Result<(), ShutdownRefused> {
    let p = &shared.persist;
    match p.child_kind() {
        Some(snapshot::ChildKind::Rdb) => {
            crate::warning!("There is a child saving an .rdb. Killing it!");
            snapshot::kill_child(shared);
        }
        Some(snapshot::ChildKind::AofRewrite) => {
            crate::warning!("There is a child rewriting the AOF. Killing it!");
            snapshot::kill_child(shared);
        }
        None => {}
    }
    if p.aof.on() {
        crate::notice!("Calling fsync() on the AOF file.");
        p.aof.flush_all(true);
    }
    let loading = p.loading() || p.load_failed.load(Ordering::Relaxed);
    let points = !shared.config().save.is_empty();
    if loading || !((points && !nosave) || save) {
        return Ok(());
    }
    crate::notice!("Saving the final RDB snapshot before exiting.");
    let mut all = shared.keyspace.lock_all(0, crate::shared::unix_ms());
    let r = wait_for_child(shared).and_then(|()| snapshot::save(shared, &mut all).map_err(|_| ()));
    match r {
        Ok(()) => Ok(()),
        Err(()) if force => {
            crate::warning!("Error trying to save the DB. Exit anyway.");
            Ok(())
        }
        Err(()) => {
            crate::warning!("Error trying to save the DB, can't exit.");
            Err(ShutdownRefused)
        }
    }
}

/// Waits (briefly) for a child that was told to stop.
fn wait_for_child(shared: &Shared) -> Result<(), ()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while shared.persist.child_running() {
        if std::time::Instant::now() > deadline {
            return Err(());
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    Ok(())
}
