//! Loading an RDB file into the keyspace: at start-up, while clients are
//! answered `-LOADING`, and for DEBUG RELOAD.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use crate::db::{shard_of, Keyspace, Locked};
use crate::rdb::file::{load, LoadError, LoadOptions, Loaded};
use crate::rdb::value::Limits;
use crate::shared::{unix_ms, Shared};
use crate::util::hash::hash_key;
use crate::value::Value;
use crate::{notice, warning};

/// How to load a file the server reads now.
fn options(shared: &Shared, drop_expired: bool) -> LoadOptions {
    LoadOptions {
        limits: Limits::of(shared),
        now: unix_ms(),
        drop_expired,
        verify_checksum: shared.config().get_by_name("rdbchecksum").as_deref() != Some("no"),
        databases: shared.keyspace.databases(),
    }
}

/// Inserts into the keyspace, locking one shard per key.
fn into_keyspace(ks: &Keyspace) -> impl FnMut(usize, &[u8], Value, u64, u32) -> bool + '_ {
    move |db, key, value, at, access| {
        let h = hash_key(key);
        ks.db(db)
            .lock(shard_of(h))
            .insert_loaded(h, key, value, at, access)
    }
}

/// Creates the function libraries a file held, as Redis does while
/// reading it (`replace`: DEBUG RELOAD MERGE, a library may replace one
/// of the same name); a library that fails fails the load.
pub fn load_functions(shared: &Shared, codes: &[Vec<u8>], replace: bool) -> Result<(), LoadError> {
    if codes.is_empty() {
        return Ok(());
    }
    shared
        .functions
        .load_all(codes, replace)
        .map_err(|e| LoadError::Format(format!("Failed loading library, {e}")))
}

/// Records what a load found, and logs it as Redis does.
fn loaded(shared: &Shared, l: &Loaded, started: Instant) {
    let p = &shared.persist;
    p.last_load_loaded.store(l.keys_loaded, Ordering::Relaxed);
    p.last_load_expired.store(l.keys_expired, Ordering::Relaxed);
    if l.empty_skipped > 0 {
        warning!(
            "Done loading RDB, keys loaded: {}, keys expired: {}, empty keys skipped: {}.",
            l.keys_loaded,
            l.keys_expired,
            l.empty_skipped
        );
    } else {
        notice!(
            "Done loading RDB, keys loaded: {}, keys expired: {}.",
            l.keys_loaded,
            l.keys_expired
        );
    }
    notice!(
        "DB loaded from disk: {:.3} seconds",
        started.elapsed().as_secs_f64()
    );
}

/// Starts loading the RDB file at start-up, if there is one, on a thread
/// of its own: the event loops answer `-LOADING` meanwhile (the flag is
/// set before this returns, so no client sees a partial dataset). A
/// failed load is logged and shuts the server down with the error.
pub fn start(shared: &Arc<Shared>) -> io::Result<Option<std::thread::JoinHandle<()>>> {
    if shared.config().appendonly {
        return start_aof(shared).map(Some);
    }
    let path = super::rdb_path(shared);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(io::Error::new(
                e.kind(),
                format!("Fatal error loading the DB: {e}. Exiting."),
            ))
        }
    };
    shared.persist.loading.store(true, Ordering::SeqCst);
    let shared = shared.clone();
    std::thread::Builder::new()
        .name("soquete-load".into())
        .spawn(move || {
            if let Err(e) = at_startup(&shared, file) {
                let msg = format!("Fatal error loading the DB: {e}. Exiting.");
                warning!("{msg}");
                *shared
                    .persist
                    .load_error
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = Some(msg);
                shared.request_shutdown();
            }
        })
        .map(Some)
}

/// Start-up with `appendonly yes`: the log (not `dump.rdb`) is the
/// dataset, as in Redis. Loads what the manifest lists, then opens the log
/// for appending (writing a first base when there was none).
fn start_aof(shared: &Arc<Shared>) -> io::Result<std::thread::JoinHandle<()>> {
    shared.persist.loading.store(true, Ordering::SeqCst);
    let shared = shared.clone();
    std::thread::Builder::new()
        .name("soquete-load".into())
        .spawn(move || {
            let result = (|| -> Result<(), String> {
                super::aof::upgrade_old_style(&shared)
                    .map_err(|e| format!("Can't upgrade the old-style AOF: {e}"))?;
                let manifest = match super::aof::read_manifest(&shared)? {
                    Some((dir, m)) => {
                        super::aof::replay::load(&shared, &dir, &m)?;
                        m
                    }
                    None => Default::default(),
                };
                super::aof::open_at_startup(&shared, manifest)
                    .map_err(|e| format!("Can't open the append-only file: {e}"))
            })();
            if let Err(e) = result {
                let msg = format!("Fatal error loading the DB: {e}. Exiting.");
                warning!("{msg}");
                shared.persist.load_failed.store(true, Ordering::SeqCst);
                *shared
                    .persist
                    .load_error
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = Some(msg);
                shared.request_shutdown();
            }
            shared.persist.loading.store(false, Ordering::SeqCst);
        })
}

fn at_startup(shared: &Shared, file: File) -> Result<(), LoadError> {
    let p = &shared.persist;
    let started = Instant::now();
    let opts = options(shared, true);
    // `key-load-delay` (tests): microseconds per key.
    let delay = shared
        .config()
        .get_by_name("key-load-delay")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0)
        .max(0) as u64;
    let mut insert = into_keyspace(&shared.keyspace);
    let result = load(
        io::BufReader::with_capacity(1 << 20, file),
        &opts,
        |db, key, value, at, access| {
            if delay > 0 {
                std::thread::sleep(std::time::Duration::from_micros(delay));
            }
            insert(db, key, value, at, access)
        },
    );
    match result {
        Ok(l) => {
            if let Some(v) = &l.redis_ver {
                notice!("Loading RDB produced by version {v}");
            }
            if let Err(e) = load_functions(shared, &l.functions, false) {
                p.load_failed.store(true, Ordering::SeqCst);
                p.loading.store(false, Ordering::SeqCst);
                return Err(e);
            }
            loaded(shared, &l, started);
            p.loading.store(false, Ordering::SeqCst);
            Ok(())
        }
        Err(e) => {
            p.load_failed.store(true, Ordering::SeqCst);
            p.loading.store(false, Ordering::SeqCst);
            Err(e)
        }
    }
}

/// DEBUG RELOAD's load: empties the keyspace seen through `view` (which
/// holds every shard) unless `!flush`, and loads `path` into it; with
/// `merge` a key in the file replaces one already there (else the file
/// is refused, as Redis refuses duplicates).
pub fn reload(
    shared: &Shared,
    view: &mut Locked<'_>,
    path: &Path,
    flush: bool,
    merge: bool,
) -> Result<Loaded, LoadError> {
    let file = File::open(path)?;
    if flush {
        // Redis's emptyData: the functions go too (the file has them).
        shared.functions.flush();
        crate::tracking::note_flush();
        for db in 0..shared.keyspace.databases() {
            for s in 0..crate::db::SHARDS {
                drop(view.shard_at(db, s).take_all());
            }
        }
    }
    let started = Instant::now();
    let opts = options(shared, true);
    let insert = |db: usize, key: &[u8], value: Value, at: u64, access: u32| {
        let h = hash_key(key);
        let mut shard = view.shard_at(db, shard_of(h));
        if merge {
            shard.remove(h, key);
        }
        shard.insert_loaded(h, key, value, at, access)
    };
    let l = load(io::BufReader::with_capacity(1 << 20, file), &opts, insert)?;
    load_functions(shared, &l.functions, merge)?;
    loaded(shared, &l, started);
    Ok(l)
}
