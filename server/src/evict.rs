//! The memory ceiling: `maxmemory`, the eight eviction policies, the
//! per-key access clock (LRU) or Morris counter (LFU), and eviction itself
//! (Redis 7.0's `evict.c` and the LFU half of `object.c`).
//!
//! # The memory figure
//!
//! What is compared with `maxmemory` is the allocator's count of allocated
//! bytes (jemalloc's `stats.allocated`, INFO's `used_memory`). Reading it
//! means advancing jemalloc's statistics epoch, which merges every arena's
//! counters: about 7 µs, far too dear before every command. So the figure
//! is an estimate kept in three parts: `BASE`, the last full reading;
//! `DRIFT`, what the event loops allocated minus what they freed since,
//! from jemalloc's per-thread `thread.allocated`/`thread.deallocated`
//! counters (two loads, ~2 ns), which each loop adds to `DRIFT` whenever
//! its own share moved by more than [`publish_step`]; and the calling
//! loop's own unpublished share, which it knows exactly. A full reading is
//! taken at most once a millisecond, and only when the estimate says the
//! limit is passed (then the figure must be right), or from the cron.
//!
//! # Eviction across shards
//!
//! Redis samples `maxmemory-samples` keys of every database into a pool of
//! 16 candidates ordered by score (idle time, inverse frequency, or
//! nearness of the deadline) and evicts the best. Here each database is
//! sampled in one shard picked at random (keys are spread over shards by
//! hash, so a shard's keys are a random sample of the database's), one
//! shard lock at a time; the chosen key is removed under its shard's lock,
//! where its DEL goes to the append-only file, so every loop sees it gone
//! at once. Each loop keeps its own pool.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use crate::config::Config;
use crate::db::{shard_of, Entry, SHARDS};
use crate::shared::Shared;
use crate::util::hash::hash_key;
use crate::util::rand::{rand_below, rand_u64};
use crate::value::Value;

/// An eviction policy (`maxmemory-policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Policy {
    /// Refuse writes over the limit.
    NoEviction,
    /// The least recently used key.
    AllkeysLru,
    /// The least frequently used key.
    AllkeysLfu,
    /// Any key.
    AllkeysRandom,
    /// The least recently used key with a deadline.
    VolatileLru,
    /// The least frequently used key with a deadline.
    VolatileLfu,
    /// Any key with a deadline.
    VolatileRandom,
    /// The key whose deadline is nearest.
    VolatileTtl,
}

impl Policy {
    const ALL: [Policy; 8] = [
        Policy::NoEviction,
        Policy::AllkeysLru,
        Policy::AllkeysLfu,
        Policy::AllkeysRandom,
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
    ];

    /// The policy named `s` (lower case), as `maxmemory-policy` spells it.
    pub fn parse(s: &str) -> Option<Policy> {
        Some(match s {
            "noeviction" => Policy::NoEviction,
            "allkeys-lru" => Policy::AllkeysLru,
            "allkeys-lfu" => Policy::AllkeysLfu,
            "allkeys-random" => Policy::AllkeysRandom,
            "volatile-lru" => Policy::VolatileLru,
            "volatile-lfu" => Policy::VolatileLfu,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            _ => return None,
        })
    }

    /// True for the LFU policies (Redis's `MAXMEMORY_FLAG_LFU`).
    pub fn lfu(self) -> bool {
        matches!(self, Policy::AllkeysLfu | Policy::VolatileLfu)
    }

    /// True for the LRU policies (Redis's `MAXMEMORY_FLAG_LRU`).
    pub fn lru(self) -> bool {
        matches!(self, Policy::AllkeysLru | Policy::VolatileLru)
    }

    /// True when any key may go, not only keys with a deadline.
    pub fn allkeys(self) -> bool {
        matches!(
            self,
            Policy::AllkeysLru | Policy::AllkeysLfu | Policy::AllkeysRandom
        )
    }
}

static MAXMEMORY: AtomicU64 = AtomicU64::new(0);
static POLICY: AtomicU8 = AtomicU8::new(Policy::NoEviction as u8);
/// The policy is an LFU one: read on every key access.
static LFU: AtomicBool = AtomicBool::new(false);
static SAMPLES: AtomicU32 = AtomicU32::new(5);
static TENACITY: AtomicU32 = AtomicU32::new(10);
static LFU_LOG_FACTOR: AtomicU32 = AtomicU32::new(10);
static LFU_DECAY_TIME: AtomicU32 = AtomicU32::new(1);
static LAZY: AtomicBool = AtomicBool::new(false);
/// Eviction must go on outside commands (Redis's `evictionTimeProc`):
/// after CONFIG SET maxmemory, or when a command's time ran out.
static PENDING: AtomicBool = AtomicBool::new(false);

/// Held by the loop that is evicting.
static EVICTING: Mutex<()> = Mutex::new(());

/// Keys evicted since start (INFO `evicted_keys`).
pub static EVICTED: AtomicU64 = AtomicU64::new(0);

/// Redis's `LFU_INIT_VAL`: a new key's counter.
pub const LFU_INIT_VAL: u8 = 5;
/// Redis's `EVPOOL_SIZE`.
const POOL_SIZE: usize = 16;

/// Takes the eviction parameters from `c` (at start-up and on every
/// CONFIG SET). A non-zero `maxmemory` arms the eviction timer, as Redis's
/// `updateMaxmemory` does.
pub fn configure(c: &Config) {
    let policy = Policy::parse(&c.maxmemory_policy).unwrap_or(Policy::NoEviction);
    MAXMEMORY.store(c.maxmemory, Ordering::Relaxed);
    POLICY.store(policy as u8, Ordering::Relaxed);
    LFU.store(policy.lfu(), Ordering::Relaxed);
    let int = |name: &str, default: u32| {
        c.int_option(name)
            .map_or(default, |v| u32::try_from(v).unwrap_or(u32::MAX))
    };
    SAMPLES.store(int("maxmemory-samples", 5).max(1), Ordering::Relaxed);
    TENACITY.store(int("maxmemory-eviction-tenacity", 10), Ordering::Relaxed);
    LFU_LOG_FACTOR.store(int("lfu-log-factor", 10), Ordering::Relaxed);
    LFU_DECAY_TIME.store(int("lfu-decay-time", 1), Ordering::Relaxed);
    LAZY.store(
        c.get_by_name("lazyfree-lazy-eviction").as_deref() == Some("yes"),
        Ordering::Relaxed,
    );
    if c.maxmemory != 0 {
        // The estimate was left alone while there was no limit.
        refresh(crate::shared::unix_ms());
        PENDING.store(true, Ordering::Relaxed);
    }
}

/// `maxmemory` in bytes (0: no limit). One relaxed load: the dispatch
/// path's only cost while there is no limit.
#[inline]
pub fn maxmemory() -> u64 {
    MAXMEMORY.load(Ordering::Relaxed)
}

/// The policy in force.
pub fn policy() -> Policy {
    Policy::ALL[POLICY.load(Ordering::Relaxed) as usize & 7]
}

/// True when the policy is an LFU one: keys carry a counter, not a clock.
#[inline]
pub fn lfu() -> bool {
    LFU.load(Ordering::Relaxed)
}

/// True when the eviction timer is armed (see [`perform`]).
#[inline]
pub fn pending() -> bool {
    PENDING.load(Ordering::Relaxed)
}

// ---- the per-key access field ------------------------------------------
//
// `Entry::access` is 32 bits: under an LFU policy Redis's 24-bit layout
// (16 bits of minutes, 8 bits of counter); otherwise the access time in
// Unix seconds (Redis's 24-bit LRU clock, unwrapped).

/// Redis's `LFUGetTimeInMinutes` at `now` (Unix ms).
pub fn lfu_minutes(now: u64) -> u32 {
    ((now / 60_000) & 0xffff) as u32
}

/// Redis's `LFUTimeElapsed`: minutes since `ldt`, across the 16-bit wrap.
pub fn lfu_elapsed(ldt: u32, now_min: u32) -> u32 {
    if now_min >= ldt {
        now_min - ldt
    } else {
        65535 - ldt + now_min
    }
}

/// Redis's `LFULogIncr`: the counter grows with probability
/// `1 / ((counter - LFU_INIT_VAL) * factor + 1)`; `r` is uniform in [0, 1).
pub fn lfu_log_incr(counter: u8, factor: u32, r: f64) -> u8 {
    if counter == 255 {
        return 255;
    }
    let base = (counter as f64 - LFU_INIT_VAL as f64).max(0.0);
    let p = 1.0 / (base * factor as f64 + 1.0);
    if r < p {
        counter + 1
    } else {
        counter
    }
}

/// Redis's `LFUDecrAndReturn`: the counter of `access`, less one per
/// `decay` minutes since it was last touched.
pub fn lfu_decr(access: u32, now: u64, decay: u32) -> u8 {
    let ldt = (access >> 8) & 0xffff;
    let counter = (access & 255) as u8;
    let periods = lfu_elapsed(ldt, lfu_minutes(now))
        .checked_div(decay)
        .unwrap_or(0);
    counter.saturating_sub(periods.min(255) as u8)
}

/// The access field of a key created at `now` (Unix ms).
#[inline]
pub fn fresh(now: u64) -> u32 {
    if lfu() {
        lfu_minutes(now) << 8 | LFU_INIT_VAL as u32
    } else {
        (now / 1000) as u32
    }
}

/// Marks a key accessed at `now` (Redis's `lookupKey` touch: the LRU
/// clock, or `updateLFU`).
#[inline]
pub fn touch(access: &mut u32, now: u64) {
    if lfu() {
        touch_lfu(access, now);
    } else {
        *access = (now / 1000) as u32;
    }
}

#[cold]
fn touch_lfu(access: &mut u32, now: u64) {
    let counter = lfu_decr(*access, now, LFU_DECAY_TIME.load(Ordering::Relaxed));
    let r = (rand_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let counter = lfu_log_incr(counter, LFU_LOG_FACTOR.load(Ordering::Relaxed), r);
    *access = lfu_minutes(now) << 8 | counter as u32;
}

/// The LFU counter of `access` at `now`, decayed (OBJECT FREQ).
pub fn freq(access: u32, now: u64) -> u8 {
    lfu_decr(access, now, LFU_DECAY_TIME.load(Ordering::Relaxed))
}

/// The access field of a key loaded (RDB, RESTORE) at `now` with the
/// file's IDLE seconds and FREQ counter, as Redis's `objectSetLRUOrLFU`
/// applies them: only the one the policy keeps counts.
pub fn loaded(now: u64, idle: Option<u64>, freq: Option<u8>) -> u32 {
    if lfu() {
        lfu_minutes(now) << 8 | freq.unwrap_or(LFU_INIT_VAL) as u32
    } else {
        let secs = now / 1000;
        secs.saturating_sub(idle.unwrap_or(0)) as u32
    }
}

/// What an RDB file records for a key's access at `now` (Redis's
/// `rdbSaveKeyValuePair`): `(Some(idle seconds), None)` under an LRU
/// policy, `(None, Some(counter))` under an LFU one, nothing otherwise.
pub fn saved(entry: &Entry, now: u64) -> (Option<u64>, Option<u8>) {
    let p = policy();
    if p.lru() {
        (Some(entry.idle_seconds(now)), None)
    } else if p.lfu() {
        (None, Some(freq(entry.access(), now)))
    } else {
        (None, None)
    }
}

// ---- the memory figure ---------------------------------------------------

static BASE: AtomicU64 = AtomicU64::new(0);
static DRIFT: AtomicI64 = AtomicI64::new(0);
static GENERATION: AtomicU64 = AtomicU64::new(0);
static REFRESHED_AT: AtomicU64 = AtomicU64::new(0);

type Counter = tikv_jemalloc_ctl::thread::ThreadLocal<u64>;

struct Local {
    /// This thread's allocated/deallocated counters (None: not jemalloc).
    counters: Option<(Counter, Counter)>,
    /// The generation `published` belongs to.
    generation: u64,
    /// This thread's net allocation when it last added to `DRIFT`.
    published: u64,
}

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
    /// Per database, until when (Unix ms) it is taken to be empty when
    /// sampling (see [`sample_db`]).
    static EMPTY_UNTIL: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
    static POOL: RefCell<Vec<Candidate>> = const { RefCell::new(Vec::new()) };
    static NEXT_DB: Cell<usize> = const { Cell::new(0) };
}

fn jemalloc() -> bool {
    crate::shared::allocator_name().starts_with("jemalloc")
}

fn counters() -> Option<(Counter, Counter)> {
    if !jemalloc() {
        return None;
    }
    let a = tikv_jemalloc_ctl::thread::allocatedp::read().ok()?;
    let d = tikv_jemalloc_ctl::thread::deallocatedp::read().ok()?;
    Some((a, d))
}

/// This thread's bytes allocated minus bytes freed (wrapping), when the
/// allocator counts them.
fn thread_net() -> Option<u64> {
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        let l = l.get_or_insert_with(|| Local {
            counters: counters(),
            generation: u64::MAX,
            published: 0,
        });
        l.counters.map(|(a, d)| a.get().wrapping_sub(d.get()))
    })
}

/// How far a loop's own allocations may move before it tells the others:
/// 64 KiB, less under a small limit.
fn publish_step() -> i64 {
    (maxmemory() / 512).clamp(4096, 64 * 1024) as i64
}

/// The estimated `used_memory` (see the module docs), cheap enough for
/// every command.
pub fn used_memory() -> u64 {
    let own = LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        let l = l.get_or_insert_with(|| Local {
            counters: counters(),
            generation: u64::MAX,
            published: 0,
        });
        let Some((a, d)) = l.counters else {
            return 0;
        };
        let net = a.get().wrapping_sub(d.get());
        let generation = GENERATION.load(Ordering::Relaxed);
        if l.generation != generation {
            l.generation = generation;
            l.published = net;
        }
        let delta = net.wrapping_sub(l.published) as i64;
        if delta.abs() > publish_step() {
            DRIFT.fetch_add(delta, Ordering::Relaxed);
            l.published = net;
            0
        } else {
            delta
        }
    });
    let est = BASE.load(Ordering::Relaxed) as i64 + DRIFT.load(Ordering::Relaxed) + own;
    est.max(0) as u64
}

/// Adds this thread's unpublished drift to `DRIFT` now (after evicting,
/// so that other loops see the room made at once).
fn publish_own() {
    LOCAL.with(|l| {
        if let Some(l) = l.borrow_mut().as_mut() {
            if let Some((a, d)) = l.counters {
                let net = a.get().wrapping_sub(d.get());
                if l.generation == GENERATION.load(Ordering::Relaxed) {
                    DRIFT.fetch_add(net.wrapping_sub(l.published) as i64, Ordering::Relaxed);
                }
                l.published = net;
            }
        }
    });
}

/// The allocator's count of allocated bytes, read now (~7 µs with
/// jemalloc: an epoch advance merges every arena's statistics); the
/// resident set size without jemalloc (the library in tests).
fn allocated_now() -> u64 {
    if jemalloc() && tikv_jemalloc_ctl::epoch::advance().is_ok() {
        if let Ok(n) = tikv_jemalloc_ctl::stats::allocated::read() {
            return n as u64;
        }
    }
    crate::util::proc::rss_bytes()
}

/// Reads the allocator's figure now and restarts the estimate from it.
pub fn refresh(now: u64) -> u64 {
    let used = allocated_now();
    GENERATION.fetch_add(1, Ordering::Relaxed);
    BASE.store(used, Ordering::Relaxed);
    DRIFT.store(0, Ordering::Relaxed);
    REFRESHED_AT.store(now, Ordering::Relaxed);
    used
}

/// Memory Redis leaves out of the comparison (`mem_not_counted_for_evict`):
/// the append-only file's pending buffer.
pub fn not_counted(shared: &Shared) -> u64 {
    if shared.persist.aof.on() {
        shared.persist.aof.pending_capacity() as u64
    } else {
        0
    }
}

/// True when memory is over `maxmemory` (after what eviction could do):
/// Redis's `pre_command_oom_state`, which scripts consult.
pub fn over_limit(shared: &Shared, now: u64) -> bool {
    to_free(shared, now).is_some()
}

/// Redis's `getMaxmemoryState`: how many bytes must go, or `None` when
/// under the limit.
fn to_free(shared: &Shared, now: u64) -> Option<u64> {
    let max = maxmemory();
    if max == 0 {
        return None;
    }
    let mut used = used_memory();
    if used <= max {
        return None;
    }
    let last = REFRESHED_AT.load(Ordering::Relaxed);
    if now > last
        && REFRESHED_AT
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        used = refresh(now);
        if used <= max {
            return None;
        }
    }
    let used = used.saturating_sub(not_counted(shared));
    (used > max).then(|| used - max)
}

/// The cron's part: the estimate restarts from a full reading (which also
/// brings in what threads other than the loops freed).
pub fn cron(now: u64) {
    if maxmemory() != 0 {
        refresh(now);
    }
}

// ---- eviction --------------------------------------------------------------

/// What [`perform`] achieved (Redis's `EVICT_OK`, `EVICT_RUNNING`,
/// `EVICT_FAIL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Under the limit (or eviction is not safe now).
    Ok,
    /// Keys went, and more must: the timer goes on.
    Running,
    /// Over the limit and nothing can be evicted.
    Fail,
}

/// A key in the pool.
#[derive(Debug)]
struct Candidate {
    /// Higher is a better candidate.
    score: u64,
    db: usize,
    key: Box<[u8]>,
}

/// Redis's `evictionTimeLimitUs`.
fn time_limit_us(tenacity: u32) -> u64 {
    if tenacity <= 10 {
        50 * tenacity as u64
    } else if tenacity < 100 {
        (500.0 * 1.15f64.powf(tenacity as f64 - 10.0)) as u64
    } else {
        u64::MAX
    }
}

/// The score of a sampled key under `p` (Redis's `evictionPoolPopulate`).
fn score(p: Policy, e: &Entry, now: u64) -> u64 {
    if p.lru() {
        e.idle_seconds(now)
    } else if p.lfu() {
        255 - freq(e.access(), now) as u64
    } else {
        u64::MAX - e.expire_at()
    }
}

/// Inserts a sample into the pool as Redis does: kept sorted by score, at
/// most [`POOL_SIZE`], a full pool drops its worst.
fn pool_insert(pool: &mut Vec<Candidate>, c: Candidate) {
    let k = pool.partition_point(|x| x.score < c.score);
    if pool.len() == POOL_SIZE {
        if k == 0 {
            return;
        }
        pool.remove(0);
        pool.insert(k - 1, c);
    } else {
        pool.insert(k, c);
    }
}

/// Samples database `db` in a random shard that has candidates, feeding
/// each sample to `f`; false when the database has none. A database found
/// empty is skipped for 100 ms unless `thorough`.
fn sample_db(
    shared: &Shared,
    db: usize,
    volatile: bool,
    now: u64,
    thorough: bool,
    f: &mut dyn FnMut(&[u8], &Entry),
) -> bool {
    let skip = EMPTY_UNTIL.with(|e| e.borrow().get(db).is_some_and(|&t| t > now));
    if skip && !thorough {
        return false;
    }
    let d = shared.keyspace.db(db);
    let n = SAMPLES.load(Ordering::Relaxed) as usize;
    let has = |s: &crate::db::Shard| {
        if volatile {
            s.volatile() > 0
        } else {
            !s.is_empty()
        }
    };
    let start = rand_below(SHARDS as u64) as usize;
    // A few random shards, then a sweep: a sparse database still yields.
    let order = (0..8)
        .map(|_| rand_below(SHARDS as u64) as usize)
        .chain((0..SHARDS).map(|i| (start + i) % SHARDS));
    for s in order {
        let shard = d.lock(s);
        if has(&shard) {
            shard.sample(n, volatile, rand_u64, |k, e| f(k, e));
            return true;
        }
    }
    EMPTY_UNTIL.with(|e| {
        let mut e = e.borrow_mut();
        if e.len() <= db {
            e.resize(db + 1, 0);
        }
        e[db] = now + 100;
    });
    false
}

/// Picks the next key to evict, `None` when there is none.
fn pick(shared: &Shared, p: Policy, now: u64) -> Option<(usize, Box<[u8]>)> {
    let dbs = shared.keyspace.databases();
    let volatile = !p.allkeys();
    if matches!(p, Policy::AllkeysRandom | Policy::VolatileRandom) {
        for thorough in [false, true] {
            for _ in 0..dbs {
                let j = NEXT_DB.with(|n| {
                    let j = (n.get() + 1) % dbs;
                    n.set(j);
                    j
                });
                let mut got = None;
                sample_db(shared, j, volatile, now, thorough, &mut |k, _| {
                    if got.is_none() {
                        got = Some(Box::from(k));
                    }
                });
                if let Some(k) = got {
                    return Some((j, k));
                }
            }
        }
        return None;
    }
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        // Every pick samples anew, as Redis refills its pool before each
        // eviction; a sweep that ignores the empty-database hints runs
        // only when nothing at all was found.
        for thorough in [false, true] {
            let mut total = false;
            for db in 0..dbs {
                total |= sample_db(shared, db, volatile, now, thorough, &mut |k, e| {
                    let c = Candidate {
                        score: score(p, e, now),
                        db,
                        key: Box::from(k),
                    };
                    pool_insert(&mut pool, c);
                });
            }
            if total || !pool.is_empty() {
                break;
            }
        }
        pool.pop().map(|c| (c.db, c.key))
    })
}

/// Runs before commands while `maxmemory` is set (Redis's
/// `performEvictions`): evicts keys until used memory is under the limit,
/// or the tenacity time runs out (the timer then goes on), or nothing is
/// left to evict ([`Outcome::Fail`]: denyoom commands are refused).
/// Holds no lock on entry; locks one shard at a time.
pub fn perform(shared: &Shared, outbox: &mut crate::pubsub::Outbox, now: u64) -> Outcome {
    if shared.persist.loading() || shared.pause.active() {
        return Outcome::Ok;
    }
    if to_free(shared, now).is_none() {
        return Outcome::Ok;
    }
    let p = policy();
    if p == Policy::NoEviction {
        return Outcome::Fail;
    }
    // One loop evicts at a time: two that both saw the same excess would
    // each free all of it. A loop that waited looks again, and usually
    // finds the other made room.
    let _one = EVICTING.lock().unwrap_or_else(|e| e.into_inner());
    let Some(tofree) = to_free(shared, now) else {
        return Outcome::Ok;
    };
    let limit = time_limit_us(TENACITY.load(Ordering::Relaxed));
    let lazy = LAZY.load(Ordering::Relaxed);
    let started = Instant::now();
    let mut freed: i64 = 0;
    let mut keys = 0u64;
    let mut outcome = Outcome::Ok;
    let counted = thread_net().is_some();
    let mut evicted = Vec::new();
    while freed < tofree as i64 {
        let Some((db, key)) = pick(shared, p, now) else {
            outcome = Outcome::Fail;
            break;
        };
        let hash = hash_key(&key);
        let mut shard = shared.keyspace.db(db).lock(shard_of(hash));
        let before = thread_net().unwrap_or(0);
        let Some(entry) = shard.evict(hash, &key, !p.allkeys()) else {
            continue; // a ghost: gone or changed since it was sampled
        };
        let mut delta = before.wrapping_sub(thread_net().unwrap_or(0)) as i64;
        if shared.persist.aof.on() {
            // Under the shard lock: a write of the key on another loop is
            // logged after this DEL.
            let del = crate::persist::aof::Record::new(db, &[b"DEL", &key]);
            shared.persist.aof.append(&[del], false);
        }
        drop(shard);
        let before = thread_net().unwrap_or(0);
        if lazy && !matches!(entry.value, Value::Str(_) | Value::Int(_)) {
            lazy_free(entry.value);
        } else {
            drop(entry);
        }
        delta += before.wrapping_sub(thread_net().unwrap_or(0)) as i64;
        freed += delta;
        keys += 1;
        evicted.push((db, key));
        if keys % 16 == 0 {
            if (lazy || !counted) && to_free(shared, now).is_none() {
                break;
            }
            if started.elapsed().as_micros() as u64 > limit {
                PENDING.store(true, Ordering::Relaxed);
                outcome = Outcome::Running;
                break;
            }
        }
    }
    publish_own();
    if keys > 0 {
        EVICTED.fetch_add(keys, Ordering::Relaxed);
        if crate::notify::wanted(shared, crate::notify::EVICTED) {
            for (db, key) in &evicted {
                crate::notify::publish(shared, outbox, crate::notify::EVICTED, "evicted", *db, key);
            }
        }
        if crate::tracking::active() {
            let own = shared.tracking.invalidate(shared, outbox, 0);
            debug_assert!(own.is_empty(), "no client has id 0");
        }
    }
    let ms = started.elapsed().as_millis() as u64;
    shared.latency.sample("eviction-cycle", ms);
    outcome
}

/// The eviction timer (Redis's `evictionTimeProc`), run by the first loop
/// while [`pending`]: one slice of eviction; disarms once under the limit
/// or nothing is left.
pub fn timer(shared: &Shared, outbox: &mut crate::pubsub::Outbox, now: u64) {
    PENDING.store(false, Ordering::Relaxed);
    if maxmemory() != 0 && perform(shared, outbox, now) == Outcome::Running {
        PENDING.store(true, Ordering::Relaxed);
    }
}

/// Frees a big value on the lazy-free thread (`lazyfree-lazy-eviction`).
fn lazy_free(v: Value) {
    static TX: OnceLock<Mutex<std::sync::mpsc::Sender<Value>>> = OnceLock::new();
    let tx = TX.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Value>();
        let spawned = std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || while rx.recv().is_ok() {});
        if spawned.is_err() {
            crate::warning!("could not start the lazy-free thread: values are freed in place");
        }
        Mutex::new(tx)
    });
    let tx = tx.lock().unwrap_or_else(|p| p.into_inner());
    // A failed send hands the value back, dropped here.
    let _ = tx.send(v);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lfu_counter_grows_more_slowly_as_it_grows() {
        assert_eq!(lfu_log_incr(0, 10, 0.99), 1);
        assert_eq!(lfu_log_incr(255, 10, 0.0), 255);
        // At counter 15 with factor 10 the chance is 1/101.
        assert_eq!(lfu_log_incr(15, 10, 0.5), 15);
        assert_eq!(lfu_log_incr(15, 10, 0.009), 16);
    }

    #[test]
    fn lfu_counter_decays_one_per_period_across_the_minute_wrap() {
        let now = 65_536 * 60_000 + 2 * 60_000; // minute 2 after a wrap
        let access = 65_534 << 8 | 10; // touched at minute 65534
        assert_eq!(lfu_elapsed(65_534, 2), 3);
        assert_eq!(lfu_decr(access, now, 1), 7);
        assert_eq!(lfu_decr(access, now, 2), 9);
        assert_eq!(lfu_decr(access, now, 0), 10);
        assert_eq!(lfu_decr(65_534 << 8 | 2, now, 1), 0);
    }

    #[test]
    fn tenacity_time_limits_match_redis() {
        assert_eq!(time_limit_us(0), 0);
        assert_eq!(time_limit_us(10), 500);
        assert_eq!(time_limit_us(11), 575);
        assert_eq!(time_limit_us(100), u64::MAX);
    }

    #[test]
    fn pool_keeps_the_best_sixteen_in_order() {
        let mut pool = Vec::new();
        for s in [
            5u64, 1, 9, 3, 7, 20, 0, 11, 13, 2, 4, 6, 8, 10, 12, 14, 15, 16, 17,
        ] {
            pool_insert(
                &mut pool,
                Candidate {
                    score: s,
                    db: 0,
                    key: Box::from(&b"k"[..]),
                },
            );
        }
        let scores: Vec<u64> = pool.iter().map(|c| c.score).collect();
        assert_eq!(scores.len(), POOL_SIZE);
        assert!(scores.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*scores.last().unwrap(), 20);
        assert!(!scores.contains(&0));
    }

    #[test]
    fn policies_parse_and_classify() {
        for p in Policy::ALL {
            let name = match p {
                Policy::NoEviction => "noeviction",
                Policy::AllkeysLru => "allkeys-lru",
                Policy::AllkeysLfu => "allkeys-lfu",
                Policy::AllkeysRandom => "allkeys-random",
                Policy::VolatileLru => "volatile-lru",
                Policy::VolatileLfu => "volatile-lfu",
                Policy::VolatileRandom => "volatile-random",
                Policy::VolatileTtl => "volatile-ttl",
            };
            assert_eq!(Policy::parse(name), Some(p));
            assert_eq!(Policy::ALL[p as usize], p);
        }
        assert!(Policy::VolatileLfu.lfu() && !Policy::VolatileLfu.allkeys());
        assert!(Policy::AllkeysLru.lru() && Policy::AllkeysLru.allkeys());
    }
}
