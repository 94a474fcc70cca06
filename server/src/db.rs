//! The keyspace: databases split into locked shards.
//!
//! A key's 64-bit hash picks its shard (high bits) and its bucket inside the
//! shard's [`Dict`] (low bits). A command locks the shards of its keys before
//! its handler runs — in ascending `(db, shard)` order, so two commands can
//! never deadlock — and the handler sees them through a [`Locked`] view.
//! MULTI/EXEC locks the union of its commands' shards the same way.
//!
//! Expiry: an [`Entry`] carries an absolute deadline in Unix milliseconds (0 =
//! none). Every read checks it (lazy expiry) and each shard keeps a min-heap of
//! deadlines so the active cycle ([`Shard::expire_cycle`]) removes keys nobody
//! reads, in bounded slices of work.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::dict::{Dict, Node};
use crate::value::Value;

/// Number of shards per database (a power of two).
pub const SHARDS: usize = 256;
const SHARD_SHIFT: u32 = 64 - SHARDS.trailing_zeros();

/// When set, shards log new and expired keys (drained after each command
/// and each active-expiry step): for keyspace notifications, or expired
/// keys for the append-only file, which logs their deletion.
pub static LOG_EVENTS: AtomicBool = AtomicBool::new(false);

/// Keyspace notifications want new/expired keys logged.
static LOG_FOR_NOTIFY: AtomicBool = AtomicBool::new(false);
/// The append-only file wants expired keys logged.
static LOG_FOR_AOF: AtomicBool = AtomicBool::new(false);

/// Sets whether notifications want key events (see [`LOG_EVENTS`]).
pub fn set_log_for_notify(on: bool) {
    LOG_FOR_NOTIFY.store(on, Ordering::Relaxed);
    refresh_logging();
}

/// Sets whether the append-only file wants expired keys (see
/// [`LOG_EVENTS`]).
pub fn set_log_expired_for_aof(on: bool) {
    LOG_FOR_AOF.store(on, Ordering::Relaxed);
    refresh_logging();
}

fn refresh_logging() {
    let on = LOG_FOR_NOTIFY.load(Ordering::Relaxed) || LOG_FOR_AOF.load(Ordering::Relaxed);
    LOG_EVENTS.store(on, Ordering::Relaxed);
}

/// Set while CLIENT PAUSE is in force: expired keys read as missing but
/// are not deleted, and the active cycle does not run, so the dataset
/// stays as it is (Redis's `checkClientPauseTimeoutAndReturnIfPaused`).
pub static HOLD_EXPIRED: AtomicBool = AtomicBool::new(false);

/// Keys removed by lazy expiry (a read found them past their deadline);
/// INFO adds the active cycle's count to it.
pub static LAZY_EXPIRED: AtomicU64 = AtomicU64::new(0);

/// A keyspace event a shard logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEvent {
    /// A key was created.
    New,
    /// A key was removed because its deadline passed.
    Expired,
}

/// The most databases a config may ask for (bounds key extraction for MOVE
/// and COPY before the database index is validated).
pub const MAX_DATABASES: usize = i32::MAX as usize;

use crate::util::hash::hash_key;

/// The shard a hash belongs to.
pub fn shard_of(hash: u64) -> usize {
    (hash >> SHARD_SHIFT) as usize
}

/// A value with its expiry deadline.
#[derive(Debug)]
pub struct Entry {
    /// The value.
    pub value: Value,
    expire_at: u64,
    /// Last access, Unix seconds (OBJECT IDLETIME), or under an LFU
    /// policy Redis's 24-bit LFU field: minutes (16 bits) and counter (8
    /// bits), see [`crate::evict`]. Fits in the padding after
    /// `expire_at`, so it costs no memory.
    access: u32,
}

impl Entry {
    /// An entry without expiry.
    pub fn new(value: Value) -> Entry {
        Entry {
            value,
            expire_at: 0,
            access: 0,
        }
    }

    /// Seconds since the key was last read or written, at `now` (ms).
    /// Meaningless under an LFU policy, where Redis refuses to tell it.
    pub fn idle_seconds(&self, now: u64) -> u64 {
        (now / 1000).saturating_sub(self.access as u64)
    }

    /// The raw access field: Unix seconds, or the LFU minutes and counter
    /// (see [`crate::evict`]).
    pub fn access(&self) -> u32 {
        self.access
    }

    /// Sets the access field as a key loaded with RDB's IDLE/FREQ (or
    /// RESTORE's IDLETIME/FREQ) at `now` (ms), see [`crate::evict::loaded`].
    pub fn set_loaded_access(&mut self, now: u64, idle: Option<u64>, freq: Option<u8>) {
        self.access = crate::evict::loaded(now, idle, freq);
    }

    /// The absolute deadline in Unix ms, or 0 when the key is persistent.
    pub fn expire_at(&self) -> u64 {
        self.expire_at
    }

    fn expired(&self, now: u64) -> bool {
        self.expire_at != 0 && self.expire_at <= now
    }
}

/// One shard of one database.
#[derive(Debug, Default)]
pub struct Shard {
    dict: Dict<Entry>,
    /// (deadline, key) for keys with a deadline; may hold stale pairs for keys
    /// since deleted, persisted or re-timed: they are skipped when popped and
    /// the heap is rebuilt when they outnumber the live ones.
    deadlines: BinaryHeap<Reverse<(u64, Box<[u8]>)>>,
    /// Keys with a deadline (INFO keyspace `expires=`).
    volatile: usize,
    /// Keys some client WATCHes, each with its watchers (Redis's
    /// `db->watched_keys`). Belongs to the (db, shard) slot, not to the
    /// data: SWAPDB leaves it.
    watched: HashMap<Box<[u8]>, Vec<Watcher>, ahash::RandomState>,
    /// New/expired keys since the last drain, when [`LOG_EVENTS`] is set.
    events: Vec<(KeyEvent, Box<[u8]>)>,
}

/// One client's WATCH of one key (Redis 7.0's `watchedKey`).
#[derive(Debug, Clone, Copy)]
struct Watcher {
    /// The watching client's id.
    client: u64,
    /// The key was there but logically expired when watched: its deletion
    /// (lazy or active expiry, DEL, a flush) is no change for this watcher,
    /// and the flag then clears.
    expired: bool,
    /// The key was modified since it was watched: EXEC must fail
    /// (Redis's `CLIENT_DIRTY_CAS`, kept per key).
    dirty: bool,
}

/// What one step of the active expiry cycle did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExpireStats {
    /// Keys removed because their deadline passed.
    pub expired: usize,
    /// True when expired keys remain (the budget ran out).
    pub more: bool,
}

impl Shard {
    /// Number of keys (expired ones that were not yet removed included).
    pub fn len(&self) -> usize {
        self.dict.len()
    }

    /// True when the shard holds no key.
    pub fn is_empty(&self) -> bool {
        self.dict.is_empty()
    }

    /// Number of keys with a deadline.
    pub fn volatile(&self) -> usize {
        self.volatile
    }

    /// The live entry of `key`, leaving an expired one for expiry to
    /// remove (and log).
    pub fn peek_live(&self, hash: u64, key: &[u8], now: u64) -> Option<&Entry> {
        let e = &self.dict.get(hash, key)?.value;
        (!e.expired(now)).then_some(e)
    }

    /// The live entry of `key`; removes it if it has expired.
    pub fn get_mut(&mut self, hash: u64, key: &[u8], now: u64) -> Option<&mut Entry> {
        let expired = self.dict.get(hash, key)?.value.expired(now);
        if expired {
            if HOLD_EXPIRED.load(Ordering::Relaxed) {
                return None;
            }
            self.remove(hash, key);
            LAZY_EXPIRED.fetch_add(1, Ordering::Relaxed);
            self.log(KeyEvent::Expired, key);
            return None;
        }
        self.dict.get_mut(hash, key).map(|n| &mut n.value)
    }

    /// Inserts or replaces `key`. With `keep_ttl` an existing deadline is kept,
    /// otherwise the key becomes persistent. Returns the previous live value.
    pub fn set(
        &mut self,
        hash: u64,
        key: &[u8],
        value: Value,
        keep_ttl: bool,
        now: u64,
    ) -> Option<Value> {
        if let Some(node) = self.dict.get_mut(hash, key) {
            let entry = &mut node.value;
            let was_live = !entry.expired(now);
            let old = std::mem::replace(&mut entry.value, value);
            // A new value is a new object in Redis, idle since now; under
            // LFU it inherits the old one's counter (`dbSetValue`), which
            // the write's lookup (the handler's `get`) touched.
            if !crate::evict::lfu() {
                entry.access = (now / 1000) as u32;
            }
            if !(keep_ttl && was_live) && entry.expire_at != 0 {
                entry.expire_at = 0;
                self.volatile -= 1;
            }
            if !was_live {
                // Redis deletes an expired key before writing it again:
                // for its watchers that is a deletion, then a change.
                self.touch_watchers(key, false);
            }
            self.touch_watchers(key, true);
            return was_live.then_some(old);
        }
        let mut entry = Entry::new(value);
        entry.access = crate::evict::fresh(now);
        self.dict.insert_new(hash, key, entry, hash_key);
        self.touch_watchers(key, true);
        self.log(KeyEvent::New, key);
        None
    }

    /// Adds a key read from a snapshot (an RDB file) with its deadline (0:
    /// none) and last access (Unix seconds). False, and nothing changed,
    /// when the key is already there.
    pub fn insert_loaded(
        &mut self,
        hash: u64,
        key: &[u8],
        value: Value,
        expire_at: u64,
        access: u32,
    ) -> bool {
        if self.dict.get(hash, key).is_some() {
            return false;
        }
        let mut entry = Entry::new(value);
        entry.access = access;
        entry.expire_at = expire_at;
        self.dict.insert_new(hash, key, entry, hash_key);
        if expire_at != 0 {
            self.volatile += 1;
            self.deadlines.push(Reverse((expire_at, key.into())));
        }
        true
    }

    /// Sets the deadline of an existing key (0 makes it persistent). Returns
    /// false when the key does not exist.
    pub fn set_expire(&mut self, hash: u64, key: &[u8], at: u64, now: u64) -> bool {
        let Some(entry) = self.get_mut(hash, key, now) else {
            return false;
        };
        let before = entry.expire_at;
        entry.expire_at = at;
        if before != at {
            self.touch_watchers(key, true);
        }
        match (before != 0, at != 0) {
            (false, true) => self.volatile += 1,
            (true, false) => self.volatile -= 1,
            _ => {}
        }
        if at != 0 && at != before {
            self.deadlines.push(Reverse((at, key.into())));
            self.maybe_rebuild_deadlines();
        }
        true
    }

    /// Removes `key` whether or not it expired; returns its entry.
    pub fn remove(&mut self, hash: u64, key: &[u8]) -> Option<Entry> {
        let node = self.dict.remove(hash, key, hash_key)?;
        self.touch_watchers(key, false);
        if node.value.expire_at != 0 {
            self.volatile -= 1;
        }
        Some(node.value)
    }

    /// Samples up to `n` keys for eviction (Redis's `dictGetSomeKeys`),
    /// handing each to `f`: any key, or with `volatile` only keys with a
    /// deadline (drawn from the deadline heap; stale pairs are skipped).
    pub fn sample(
        &self,
        n: usize,
        volatile: bool,
        mut rand: impl FnMut() -> u64,
        mut f: impl FnMut(&[u8], &Entry),
    ) {
        if !volatile {
            for _ in 0..n {
                if let Some(node) = self.dict.random(&mut rand) {
                    f(&node.key, &node.value);
                }
            }
            return;
        }
        let heap = self.deadlines.as_slice();
        if heap.is_empty() {
            return;
        }
        let live = |i: usize| {
            let Reverse((at, key)) = &heap[i];
            self.dict
                .get(hash_key(key), key)
                .filter(|node| node.value.expire_at == *at)
        };
        let mut found = false;
        for _ in 0..n {
            if let Some(node) = live((rand() % heap.len() as u64) as usize) {
                f(&node.key, &node.value);
                found = true;
            }
        }
        if !found && self.volatile > 0 {
            // Every draw hit a stale pair: walk the heap from a random
            // point to the first live one, so that a shard with keys
            // with a deadline always yields one.
            let start = (rand() % heap.len() as u64) as usize;
            if let Some(node) = (0..heap.len()).find_map(|i| live((start + i) % heap.len())) {
                f(&node.key, &node.value);
            }
        }
    }

    /// Removes `key` for eviction (with `volatile`, only if it still has a
    /// deadline): its entry, or `None` when it went since it was sampled.
    pub fn evict(&mut self, hash: u64, key: &[u8], volatile: bool) -> Option<Entry> {
        let e = self.dict.get(hash, key)?;
        if volatile && e.value.expire_at == 0 {
            return None;
        }
        self.remove(hash, key)
    }

    /// Removes every key, returning the old table so the caller can drop it
    /// wherever suits (FLUSHALL ASYNC drops it on another thread).
    pub fn take_all(&mut self) -> Dict<Entry> {
        self.touch_all(None, 0);
        self.volatile = 0;
        self.deadlines = BinaryHeap::new();
        std::mem::take(&mut self.dict)
    }

    /// Swaps the data with another shard (SWAPDB) at `now`; the watch
    /// lists stay put, and their keys are touched as Redis 7.0's
    /// `touchAllWatchedKeysInDb` does (see [`Shard::touch_all`]).
    pub fn swap(&mut self, other: &mut Shard, now: u64) {
        self.touch_all(Some(&other.dict), now);
        other.touch_all(Some(&self.dict), now);
        std::mem::swap(&mut self.dict, &mut other.dict);
        std::mem::swap(&mut self.deadlines, &mut other.deadlines);
        std::mem::swap(&mut self.volatile, &mut other.volatile);
    }

    fn log(&mut self, event: KeyEvent, key: &[u8]) {
        if LOG_EVENTS.load(Ordering::Relaxed)
            && (event == KeyEvent::Expired || LOG_FOR_NOTIFY.load(Ordering::Relaxed))
        {
            self.events.push((event, key.into()));
        }
    }

    /// Takes the logged new/expired keys.
    pub fn take_events(&mut self) -> Vec<(KeyEvent, Box<[u8]>)> {
        std::mem::take(&mut self.events)
    }

    /// Marks `key` modified for its watchers, as Redis's
    /// `touchWatchedKey` (cheap when nobody watches in this shard).
    pub fn touch(&mut self, hash: u64, key: &[u8]) {
        if !self.watched.is_empty() || crate::tracking::active() {
            let present = self.dict.get(hash, key).is_some();
            self.touch_watchers(key, present);
        }
    }

    /// [`Shard::touch`] when the caller knows whether `key` is in the table
    /// now (after the change). A watcher that saw the key already expired
    /// takes its deletion as no change (and from then on watches a missing
    /// key); every other watcher is marked dirty.
    ///
    /// This is the keyspace's one "key modified" point: while some client
    /// tracks keys it also notes the key for invalidation (one relaxed
    /// load otherwise).
    fn touch_watchers(&mut self, key: &[u8], present: bool) {
        if crate::tracking::active() {
            crate::tracking::note(key);
        }
        if self.watched.is_empty() {
            return;
        }
        let Some(list) = self.watched.get_mut(key) else {
            return;
        };
        for w in list {
            if w.expired {
                if !present {
                    w.expired = false;
                }
                // Redis 7.0 leaves such a watcher alone while the key is
                // still there (it cannot be, after the lazy deletion that
                // precedes every write to an expired key).
                continue;
            }
            w.dirty = true;
        }
    }

    /// Touches the watched keys of a shard whose data is being emptied
    /// (FLUSHDB, FLUSHALL: `replaced` is `None`) or replaced by `replaced`
    /// (SWAPDB), as Redis 7.0's `touchAllWatchedKeysInDb`: only keys in
    /// the table on either side count, and expired keys on both sides are
    /// no change. `now` judges expiry in `replaced`.
    fn touch_all(&mut self, replaced: Option<&Dict<Entry>>, now: u64) {
        if self.watched.is_empty() {
            return;
        }
        let dict = &self.dict;
        for (key, list) in self.watched.iter_mut() {
            let hash = hash_key(key);
            let here = dict.get(hash, key).is_some();
            let there = replaced.and_then(|d| d.get(hash, key));
            if !here && there.is_none() {
                continue;
            }
            let there_expired = there.is_some_and(|n| n.value.expired(now));
            for w in list.iter_mut() {
                if w.expired {
                    if there.is_none() {
                        // An expired key deleted: no change.
                        w.expired = false;
                        continue;
                    }
                    if there_expired {
                        // Expired, and replaced by an expired key.
                        continue;
                    }
                } else if !here && there_expired {
                    // A missing key replaced by an expired one.
                    w.expired = true;
                    continue;
                }
                w.dirty = true;
            }
        }
    }

    /// Adds `client` as a watcher of `key` at `now`.
    pub fn watch(&mut self, hash: u64, key: &[u8], client: u64, now: u64) {
        let expired = self
            .dict
            .get(hash, key)
            .is_some_and(|n| n.value.expired(now));
        self.watched.entry(key.into()).or_default().push(Watcher {
            client,
            expired,
            dirty: false,
        });
    }

    /// Removes `client`'s watch of `key`; true when EXEC must fail because
    /// of it: the key was modified since, or it has expired since it was
    /// watched (Redis 7.0's `isWatchedKeyExpired`, which judges without
    /// deleting the key).
    pub fn unwatch(&mut self, hash: u64, key: &[u8], client: u64, now: u64) -> bool {
        let Some(list) = self.watched.get_mut(key) else {
            return false;
        };
        let Some(i) = list.iter().position(|w| w.client == client) else {
            return false;
        };
        let w = list.swap_remove(i);
        if list.is_empty() {
            self.watched.remove(key);
        }
        w.dirty
            || (!w.expired
                && self
                    .dict
                    .get(hash, key)
                    .is_some_and(|n| n.value.expired(now)))
    }

    /// Iterates over all nodes, expired or not.
    pub fn iter(&self) -> impl Iterator<Item = &Node<Entry>> {
        self.dict.iter()
    }

    /// One SCAN step over this shard (see [`Dict::scan`]).
    pub fn scan(&self, cursor: u64, f: impl FnMut(&Node<Entry>)) -> u64 {
        self.dict.scan(cursor, f)
    }

    /// A key picked at random.
    pub fn random(&self, rand: impl FnMut() -> u64) -> Option<&Node<Entry>> {
        self.dict.random(rand)
    }

    /// Removes up to `budget` keys whose deadline is at or before `now`.
    pub fn expire_cycle(&mut self, now: u64, budget: usize) -> ExpireStats {
        let mut stats = ExpireStats::default();
        let mut work = 0;
        while let Some(Reverse((at, _))) = self.deadlines.peek() {
            if *at > now {
                break;
            }
            if work == budget {
                stats.more = true;
                break;
            }
            work += 1;
            let Some(Reverse((at, key))) = self.deadlines.pop() else {
                break;
            };
            let hash = hash_key(&key);
            // Only remove if this heap pair is still the key's deadline.
            let current = self.dict.get(hash, &key).map(|n| n.value.expire_at);
            if current == Some(at) {
                self.remove(hash, &key);
                stats.expired += 1;
                self.log(KeyEvent::Expired, &key);
            }
        }
        stats
    }

    fn maybe_rebuild_deadlines(&mut self) {
        if self.deadlines.len() > 2 * self.volatile + 64 {
            self.deadlines = self
                .dict
                .iter()
                .filter(|n| n.value.expire_at != 0)
                .map(|n| Reverse((n.value.expire_at, Box::from(&*n.key))))
                .collect();
        }
    }
}

/// One logical database (SELECT n).
#[derive(Debug)]
pub struct Db {
    shards: Box<[Mutex<Shard>]>,
    /// Per shard, where its bucket array was when a command last released
    /// it: read without the lock, only to aim prefetches (a stale hint
    /// costs a wasted prefetch, never a wrong answer).
    hints: Box<[TableHint]>,
}

/// A shard table's address and mask, as last published.
#[derive(Debug, Default)]
struct TableHint {
    base: AtomicUsize,
    mask: AtomicUsize,
}

impl TableHint {
    fn publish(&self, shard: &Shard) {
        let (base, mask) = shard.dict.table();
        // Stores only on change: other loops read this line.
        if self.base.load(Ordering::Relaxed) != base {
            self.base.store(base, Ordering::Relaxed);
        }
        if self.mask.load(Ordering::Relaxed) != mask {
            self.mask.store(mask, Ordering::Relaxed);
        }
    }
}

impl Db {
    fn new() -> Db {
        Db {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hints: (0..SHARDS).map(|_| TableHint::default()).collect(),
        }
    }

    /// Locks one shard. A panic while a shard was locked cannot leave it
    /// half-updated in a way later commands must not see (every mutation is
    /// a single table operation), so a poisoned lock is taken over.
    pub fn lock(&self, shard: usize) -> MutexGuard<'_, Shard> {
        self.shards[shard]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Locks one shard if nobody holds it (a poisoned lock is taken over,
    /// as in [`Db::lock`]).
    pub fn try_lock(&self, shard: usize) -> Option<MutexGuard<'_, Shard>> {
        match self.shards[shard].try_lock() {
            Ok(g) => Some(g),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }
}

/// All databases.
#[derive(Debug)]
pub struct Keyspace {
    dbs: Box<[Db]>,
    /// (client, key) WATCHes in force: while there are none, writes need
    /// not mark their keys.
    watches: AtomicUsize,
}

/// A `(db, shard)` pair to lock.
pub type ShardId = (u32, u32);

impl Keyspace {
    /// `databases` empty databases.
    pub fn new(databases: usize) -> Keyspace {
        Keyspace {
            dbs: (0..databases).map(|_| Db::new()).collect(),
            watches: AtomicUsize::new(0),
        }
    }

    /// True when some client WATCHes some key or tracks keys: writes must
    /// then mark the keys they change.
    pub fn watched(&self) -> bool {
        self.watches.load(Ordering::Relaxed) != 0
    }

    /// Counts a tracking client in (`on`) or out of [`Keyspace::watched`],
    /// so that [`Locked::signal`] stays one load while nobody watches or
    /// tracks.
    pub fn interest(&self, on: bool) {
        if on {
            self.watches.fetch_add(1, Ordering::Relaxed);
        } else {
            self.watches.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Removes `client`'s watch of `key` of database `db`, locking its
    /// shard on its own (a client forgetting its WATCHes outside any
    /// command).
    pub fn unwatch(&self, db: usize, key: &[u8], client: u64) {
        let hash = hash_key(key);
        self.db(db)
            .lock(shard_of(hash))
            .unwatch(hash, key, client, 0);
        self.watches.fetch_sub(1, Ordering::Relaxed);
    }

    /// Number of databases.
    pub fn databases(&self) -> usize {
        self.dbs.len()
    }

    /// Database `i`.
    pub fn db(&self, i: usize) -> &Db {
        &self.dbs[i]
    }

    /// Starts loading the bucket slot `hash` falls in, without locking:
    /// the first step of prefetching a pipelined batch's keys.
    pub fn prefetch_slot(&self, db: usize, hash: u64) {
        let Some(d) = self.dbs.get(db) else {
            return;
        };
        let hint = &d.hints[shard_of(hash)];
        let base = hint.base.load(Ordering::Relaxed);
        if base != 0 {
            let i = hash as usize & hint.mask.load(Ordering::Relaxed);
            crate::dict::prefetch(base.wrapping_add(i * std::mem::size_of::<usize>()));
        }
    }

    /// Starts loading the first node of `hash`'s chain: the second step,
    /// once [`Keyspace::prefetch_slot`] had time to bring the slot in. Takes
    /// the shard's lock only if it is free, for a moment.
    pub fn prefetch_node(&self, db: usize, hash: u64) {
        if let Some(d) = self.dbs.get(db) {
            if let Ok(shard) = d.shards[shard_of(hash)].try_lock() {
                shard.dict.prefetch_chain(hash);
            }
        }
    }

    /// Starts loading the value stored under `key`, if the key is there:
    /// the third step, once [`Keyspace::prefetch_node`] brought the node in.
    /// Like it, skips a shard whose lock is taken.
    pub fn prefetch_value(&self, db: usize, hash: u64, key: &[u8]) {
        if let Some(d) = self.dbs.get(db) {
            if let Ok(shard) = d.shards[shard_of(hash)].try_lock() {
                if let Some(node) = shard.dict.get(hash, key) {
                    node.value.value.prefetch();
                }
            }
        }
    }

    /// Locks the given shards in ascending order (sorting and deduplicating
    /// `ids` in place) and returns a view for database `db` at time `now`.
    pub fn lock<'a>(&'a self, ids: &mut Vec<ShardId>, db: usize, now: u64) -> Locked<'a> {
        // Keys named in a database that does not exist (COPY ... DB 99)
        // lock nothing: the handler rejects the index.
        ids.retain(|&(d, _)| (d as usize) < self.dbs.len());
        ids.sort_unstable();
        ids.dedup();
        let guards = match ids.len() {
            0 => Guards::None,
            1 => {
                let (d, s) = ids[0];
                Guards::One(d, s, self.dbs[d as usize].lock(s as usize))
            }
            _ => Guards::Many(self.lock_many(ids)),
        };
        Locked {
            ks: self,
            db,
            now,
            guards,
        }
    }

    /// A view that holds no lock; keys are locked one shard at a time as
    /// they are touched. For commands with no keys.
    pub fn unlocked(&self, db: usize, now: u64) -> Locked<'_> {
        Locked {
            ks: self,
            db,
            now,
            guards: Guards::None,
        }
    }

    /// Locks the sorted, distinct shards `ids` without ever waiting while
    /// holding one: the first is waited for, the rest are tried; when one
    /// is taken, everything is let go, that one is waited for (and let
    /// go), and the round starts again. A command therefore never holds a
    /// shard while it waits for another, which is what lets a script wait
    /// for a shard it did not declare (`Locked::adopt`) without a
    /// deadlock: whoever holds that shard is running, not waiting.
    fn lock_many(&self, ids: &[ShardId]) -> Vec<(u32, u32, MutexGuard<'_, Shard>)> {
        let mut held = Vec::with_capacity(ids.len());
        let mut first = 0;
        'round: loop {
            // Start where the last round was refused: that shard is waited
            // for, the others tried in ascending order.
            let (d, s) = ids[first];
            held.push((d, s, self.dbs[d as usize].lock(s as usize)));
            for (i, &(d, s)) in ids.iter().enumerate() {
                if i == first {
                    continue;
                }
                match self.dbs[d as usize].try_lock(s as usize) {
                    Some(g) => held.push((d, s, g)),
                    None => {
                        held.clear();
                        first = i;
                        continue 'round;
                    }
                }
            }
            held.sort_unstable_by_key(|(d, s, _)| (*d, *s));
            return held;
        }
    }

    /// Every shard of every database, in lock order.
    pub fn all_ids(&self) -> Vec<ShardId> {
        (0..self.dbs.len() as u32)
            .flat_map(|d| (0..SHARDS as u32).map(move |s| (d, s)))
            .collect()
    }

    /// Shard `shard` of database `db` if nobody holds it now.
    pub fn try_lock(&self, db: usize, shard: usize) -> Option<MutexGuard<'_, Shard>> {
        self.dbs.get(db)?.try_lock(shard)
    }

    /// Shard `shard` of database `db`, waiting for it.
    pub fn lock_one(&self, db: usize, shard: usize) -> MutexGuard<'_, Shard> {
        self.dbs[db].lock(shard)
    }

    /// Locks every shard of every database (MULTI/EXEC with whole-keyspace
    /// commands, FLUSHALL, SWAPDB), as [`Keyspace::lock_many`] does.
    pub fn lock_all(&self, db: usize, now: u64) -> Locked<'_> {
        let guards = self.lock_many(&self.all_ids());
        Locked {
            ks: self,
            db,
            now,
            guards: Guards::Many(guards),
        }
    }
}

enum Guards<'a> {
    None,
    One(u32, u32, MutexGuard<'a, Shard>),
    Many(Vec<(u32, u32, MutexGuard<'a, Shard>)>),
}

/// The keyspace as a command sees it: the shards it locked, the selected
/// database and the time the command runs at.
pub struct Locked<'a> {
    ks: &'a Keyspace,
    /// The selected database.
    pub db: usize,
    /// The command's clock, Unix ms (fixed for the whole command, as in Redis).
    pub now: u64,
    guards: Guards<'a>,
}

impl Drop for Locked<'_> {
    /// Publishes the prefetch hints of the shards this view held.
    fn drop(&mut self) {
        match &self.guards {
            Guards::None => {}
            Guards::One(d, s, g) => self.ks.dbs[*d as usize].hints[*s as usize].publish(g),
            Guards::Many(all) => {
                for (d, s, g) in all {
                    self.ks.dbs[*d as usize].hints[*s as usize].publish(g);
                }
            }
        }
    }
}

/// A shard, either held by the view's lock set or locked for this access
/// only.
pub enum ShardRef<'g, 'a> {
    /// A shard of the lock set.
    Held(&'g mut Shard),
    /// A shard locked just now.
    Locked(MutexGuard<'a, Shard>),
}

impl std::ops::Deref for ShardRef<'_, '_> {
    type Target = Shard;
    fn deref(&self) -> &Shard {
        match self {
            ShardRef::Held(s) => s,
            ShardRef::Locked(g) => g,
        }
    }
}

impl std::ops::DerefMut for ShardRef<'_, '_> {
    fn deref_mut(&mut self) -> &mut Shard {
        match self {
            ShardRef::Held(s) => s,
            ShardRef::Locked(g) => g,
        }
    }
}

impl<'a> Locked<'a> {
    /// The keyspace behind the view.
    pub fn keyspace(&self) -> &'a Keyspace {
        self.ks
    }

    /// Where `(db, shard)` is in the lock set: `Ok(index)` when held,
    /// `Err(index)` where it would be inserted.
    /// How many shards are locked.
    fn held(&self) -> usize {
        match &self.guards {
            Guards::None => 0,
            Guards::One(..) => 1,
            Guards::Many(v) => v.len(),
        }
    }

    fn position(&self, id: ShardId) -> Result<usize, usize> {
        match &self.guards {
            Guards::None => Err(0),
            Guards::One(d, s, _) => match (*d, *s).cmp(&id) {
                std::cmp::Ordering::Equal => Ok(0),
                std::cmp::Ordering::Less => Err(1),
                std::cmp::Ordering::Greater => Err(0),
            },
            Guards::Many(v) => v.binary_search_by(|(d, s, _)| (*d, *s).cmp(&id)),
        }
    }

    /// Shard `shard` of database `db`, from the lock set. A shard outside the
    /// set is locked and added to it: that is how keyless commands that touch
    /// a key (RANDOMKEY's pick) work; for a keyed command it means its key
    /// spec missed a key, which debug builds catch.
    ///
    /// # Panics
    ///
    /// In every build, when that shard orders before one already held:
    /// taking it would break the ascending lock order that keeps commands
    /// from deadlocking one another. The command then fails (its handler's
    /// panic becomes an error reply) instead of risking a deadlock.
    fn shard_mut(&mut self, db: usize, shard: usize) -> &mut Shard {
        let id = (db as u32, shard as u32);
        let i = match self.position(id) {
            Ok(i) => i,
            Err(i) => {
                assert!(
                    i == self.held(),
                    "shard {id:?} would be locked out of order (BUG: a key spec misses a key)"
                );
                debug_assert!(
                    matches!(self.guards, Guards::None),
                    "shard {id:?} is not in the command's lock set"
                );
                let g = self.ks.dbs[db].lock(shard);
                self.guards = match std::mem::replace(&mut self.guards, Guards::None) {
                    Guards::None => Guards::One(id.0, id.1, g),
                    Guards::One(d, s, old) => {
                        let mut v = vec![(d, s, old)];
                        v.insert(i, (id.0, id.1, g));
                        Guards::Many(v)
                    }
                    Guards::Many(mut v) => {
                        v.insert(i, (id.0, id.1, g));
                        Guards::Many(v)
                    }
                };
                i
            }
        };
        match &mut self.guards {
            Guards::None => unreachable!("a shard was just added"),
            Guards::One(_, _, g) => g,
            Guards::Many(v) => &mut v[i].2,
        }
    }

    /// True when the view holds shard `shard` of database `db`.
    pub fn holds(&self, db: usize, shard: usize) -> bool {
        self.position((db as u32, shard as u32)).is_ok()
    }

    /// The shards this view holds, in ascending order.
    pub fn held_ids(&self) -> Vec<ShardId> {
        match &self.guards {
            Guards::None => Vec::new(),
            Guards::One(d, s, _) => vec![(*d, *s)],
            Guards::Many(v) => v.iter().map(|(d, s, _)| (*d, *s)).collect(),
        }
    }

    /// Adds a shard the caller locked itself (a script's key it did not
    /// declare) to the lock set, wherever it orders; it is let go with the
    /// rest. A shard already held is not added twice.
    pub fn adopt(&mut self, db: usize, shard: usize, guard: MutexGuard<'a, Shard>) {
        let id = (db as u32, shard as u32);
        let Err(i) = self.position(id) else {
            return;
        };
        self.guards = match std::mem::replace(&mut self.guards, Guards::None) {
            Guards::None => Guards::One(id.0, id.1, guard),
            Guards::One(d, s, old) => {
                let mut v = vec![(d, s, old)];
                v.insert(i, (id.0, id.1, guard));
                Guards::Many(v)
            }
            Guards::Many(mut v) => {
                v.insert(i, (id.0, id.1, guard));
                Guards::Many(v)
            }
        };
    }

    /// Shard `shard` of database `db` for a walk over the keyspace: from the
    /// lock set when held (inside EXEC), else locked for this access only.
    pub fn shard_at(&mut self, db: usize, shard: usize) -> ShardRef<'_, 'a> {
        match self.position((db as u32, shard as u32)) {
            Ok(i) => ShardRef::Held(match &mut self.guards {
                Guards::None => unreachable!("position found a held shard"),
                Guards::One(_, _, g) => g,
                Guards::Many(v) => &mut v[i].2,
            }),
            Err(_) => ShardRef::Locked(self.ks.dbs[db].lock(shard)),
        }
    }

    /// Keys, and keys with a deadline, in database `db` (expired ones not
    /// yet removed included, as Redis's dict sizes include them).
    pub fn db_sizes(&mut self, db: usize) -> (u64, u64) {
        let (mut keys, mut volatile) = (0u64, 0u64);
        for s in 0..SHARDS {
            let shard = self.shard_at(db, s);
            keys += shard.len() as u64;
            volatile += shard.volatile() as u64;
        }
        (keys, volatile)
    }

    /// True when this view holds every shard of every database (EXEC
    /// with a whole-keyspace command, [`Keyspace::lock_all`]).
    pub fn holds_all(&self) -> bool {
        match &self.guards {
            Guards::Many(v) => v.len() == self.ks.dbs.len() * SHARDS,
            _ => false,
        }
    }

    /// Swaps the contents of databases `a` and `b` atomically: every shard of
    /// both is locked (or already held inside EXEC) before anything moves.
    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let (lo, hi, now) = (a.min(b), a.max(b), self.now);
        let held =
            |me: &Self, db: usize| (0..SHARDS).all(|s| me.position((db as u32, s as u32)).is_ok());
        if held(self, lo) && held(self, hi) {
            let Guards::Many(v) = &mut self.guards else {
                unreachable!("two databases of shards are held as Many");
            };
            for s in 0..SHARDS {
                let i = v
                    .binary_search_by(|(d, x, _)| (*d, *x).cmp(&(lo as u32, s as u32)))
                    .unwrap_or_else(|_| unreachable!());
                let j = v
                    .binary_search_by(|(d, x, _)| (*d, *x).cmp(&(hi as u32, s as u32)))
                    .unwrap_or_else(|_| unreachable!());
                let (left, right) = v.split_at_mut(j);
                left[i].2.swap(&mut right[0].2, now);
            }
            return;
        }
        let ks = self.ks;
        let mut first: Vec<_> = (0..SHARDS).map(|s| ks.dbs[lo].lock(s)).collect();
        let mut second: Vec<_> = (0..SHARDS).map(|s| ks.dbs[hi].lock(s)).collect();
        for (x, y) in first.iter_mut().zip(second.iter_mut()) {
            x.swap(y, now);
        }
    }

    /// Takes the new/expired keys logged by the shards this view holds,
    /// as `(db, event, key)`.
    pub fn take_events(&mut self) -> Vec<(usize, KeyEvent, Box<[u8]>)> {
        let mut out = Vec::new();
        let mut take = |d: u32, s: &mut Shard| {
            if !s.events.is_empty() {
                out.extend(s.take_events().into_iter().map(|(e, k)| (d as usize, e, k)));
            }
        };
        match &mut self.guards {
            Guards::None => {}
            Guards::One(d, _, g) => take(*d, g),
            Guards::Many(v) => {
                for (d, _, g) in v.iter_mut() {
                    take(*d, g);
                }
            }
        }
        out
    }

    /// Marks `key` of database `db` as modified for its watchers and
    /// tracking clients, as Redis's `signalModifiedKey`: the caller changed
    /// it. While no client watches or tracks anything this is one relaxed
    /// load.
    #[inline]
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        if !self.ks.watched() {
            return;
        }
        let hash = hash_key(key);
        self.shard_mut(db, shard_of(hash)).touch(hash, key);
    }

    /// Makes `client` watch `key` of database `db`.
    pub fn watch(&mut self, db: usize, key: &[u8], client: u64) {
        let (hash, now) = (hash_key(key), self.now);
        self.ks.watches.fetch_add(1, Ordering::Relaxed);
        self.shard_mut(db, shard_of(hash))
            .watch(hash, key, client, now);
    }

    /// Removes `client`'s watch of `key` of database `db`; true when EXEC
    /// must fail because of that key (see [`Shard::unwatch`]).
    pub fn unwatch(&mut self, db: usize, key: &[u8], client: u64) -> bool {
        let (hash, now) = (hash_key(key), self.now);
        let changed = self
            .shard_mut(db, shard_of(hash))
            .unwatch(hash, key, client, now);
        self.ks.watches.fetch_sub(1, Ordering::Relaxed);
        changed
    }

    /// The live entry of `key` in the selected database, marked as accessed.
    pub fn get(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let db = self.db;
        self.get_in(db, key)
    }

    /// The live entry of `key` in database `db`, marked as accessed.
    pub fn get_in(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        let now = self.now;
        let e = self.peek_in(db, key)?;
        crate::evict::touch(&mut e.access, now);
        Some(e)
    }

    /// The live entry of `key` in database `db`, leaving its access time
    /// alone (OBJECT, TTL, TYPE as Redis's LOOKUP_NOTOUCH).
    pub fn peek_in(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        let now = self.now;
        let hash = hash_key(key);
        self.shard_mut(db, shard_of(hash)).get_mut(hash, key, now)
    }

    /// [`Locked::peek_in`] in the selected database.
    pub fn peek(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let db = self.db;
        self.peek_in(db, key)
    }

    /// True when `key` exists (and has not expired) in the selected database.
    pub fn exists(&mut self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` to `value` in the selected database; see [`Shard::set`].
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool) -> Option<Value> {
        let db = self.db;
        self.set_in(db, key, value, keep_ttl)
    }

    /// Sets `key` to `value` in database `db`.
    pub fn set_in(&mut self, db: usize, key: &[u8], value: Value, keep_ttl: bool) -> Option<Value> {
        let now = self.now;
        let hash = hash_key(key);
        self.shard_mut(db, shard_of(hash))
            .set(hash, key, value, keep_ttl, now)
    }

    /// Sets the deadline of `key` (0 = persistent); false when absent.
    pub fn set_expire(&mut self, key: &[u8], at: u64) -> bool {
        let db = self.db;
        self.set_expire_in(db, key, at)
    }

    /// Sets the deadline of `key` in database `db`.
    pub fn set_expire_in(&mut self, db: usize, key: &[u8], at: u64) -> bool {
        let now = self.now;
        let hash = hash_key(key);
        self.shard_mut(db, shard_of(hash))
            .set_expire(hash, key, at, now)
    }

    /// Removes `key` from the selected database; returns its live entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let db = self.db;
        self.remove_in(db, key)
    }

    /// Removes `key` from database `db`; returns its live entry.
    pub fn remove_in(&mut self, db: usize, key: &[u8]) -> Option<Entry> {
        let now = self.now;
        let hash = hash_key(key);
        let entry = self.shard_mut(db, shard_of(hash)).remove(hash, key)?;
        (!entry.expired(now)).then_some(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one<'a>(ks: &'a Keyspace, key: &[u8], now: u64) -> Locked<'a> {
        let mut ids = vec![(0, shard_of(hash_key(key)) as u32)];
        ks.lock(&mut ids, 0, now)
    }

    #[test]
    fn releasing_a_shard_publishes_its_table_for_prefetching() {
        let ks = Keyspace::new(2);
        let s = shard_of(hash_key(b"k"));
        let hint = &ks.db(0).hints[s];
        assert_eq!(hint.base.load(Ordering::Relaxed), 0, "no table yet");
        // Prefetching into an empty shard, an unknown database or a free
        // lock is a no-op, never an error.
        ks.prefetch_slot(0, hash_key(b"k"));
        ks.prefetch_slot(7, hash_key(b"k"));
        ks.prefetch_node(7, hash_key(b"k"));
        let mut v = one(&ks, b"k", 0);
        v.set(b"k", Value::Int(1), false);
        drop(v);
        let (base, mask) = ks.db(0).lock(s).dict.table();
        assert_ne!(base, 0);
        assert_eq!(hint.base.load(Ordering::Relaxed), base);
        assert_eq!(hint.mask.load(Ordering::Relaxed), mask);
        ks.prefetch_slot(0, hash_key(b"k"));
        ks.prefetch_node(0, hash_key(b"k"));
        // While another view holds the shard, the node step skips it.
        let held = one(&ks, b"k", 0);
        ks.prefetch_node(0, hash_key(b"k"));
        drop(held);
    }

    /// Two keys whose shards order (higher, lower).
    fn keys_in_shard_order() -> (Vec<u8>, Vec<u8>) {
        let shard = |k: &[u8]| shard_of(hash_key(k));
        let first = b"k0".to_vec();
        let other = (1..)
            .map(|i| format!("k{i}").into_bytes())
            .find(|k| shard(k) != shard(&first))
            .expect("keys in two shards");
        if shard(&first) > shard(&other) {
            (first, other)
        } else {
            (other, first)
        }
    }

    #[test]
    #[should_panic(expected = "out of order")]
    fn a_shard_before_those_held_is_refused_in_every_build() {
        let (high, low) = keys_in_shard_order();
        let ks = Keyspace::new(1);
        let mut v = one(&ks, &high, 0);
        v.get(&low);
    }

    #[test]
    fn watches_in_force_are_counted_by_the_keyspace() {
        let ks = Keyspace::new(1);
        assert!(!ks.watched());
        let mut v = one(&ks, b"k", 0);
        v.watch(0, b"k", 1);
        v.watch(0, b"k", 2);
        drop(v);
        assert!(ks.watched());
        ks.unwatch(0, b"k", 1);
        assert!(ks.watched());
        let mut v = one(&ks, b"k", 0);
        assert!(!v.unwatch(0, b"k", 2), "nothing changed");
        drop(v);
        assert!(!ks.watched());
    }

    /// A shard holding `key` (deadline `at`, 0 for none) watched by client 1
    /// at `now`.
    fn watched_shard(key: &[u8], at: u64, now: u64) -> Shard {
        let mut s = Shard::default();
        let h = hash_key(key);
        s.set(h, key, Value::Int(1), false, 0);
        if at != 0 {
            s.set_expire(h, key, at, 0);
        }
        s.watch(h, key, 1, now);
        s
    }

    #[test]
    fn only_changes_fail_a_watch() {
        let k = b"k";
        let h = hash_key(k);
        let mut s = watched_shard(k, 0, 10);
        assert!(s.remove(h, b"other").is_none());
        assert!(!s.set_expire(h, b"other", 50, 10));
        assert!(!s.unwatch(h, k, 1, 10), "nothing touched the key");
        s.watch(h, k, 1, 10);
        s.set_expire(h, k, 50, 10);
        assert!(s.unwatch(h, k, 1, 10), "a new deadline is a change");
        s.watch(h, k, 1, 10);
        assert!(s.unwatch(h, k, 1, 60), "expired since watched");
    }

    #[test]
    fn deleting_a_key_stale_when_watched_is_no_change() {
        let k = b"k";
        let h = hash_key(k);
        // Expired at 5, watched at 10: its deletion (lazy here) changes
        // nothing for that watcher; writing it afterwards does.
        let mut s = watched_shard(k, 5, 10);
        assert!(s.get_mut(h, k, 10).is_none());
        assert!(!s.unwatch(h, k, 1, 10));
        let mut s = watched_shard(k, 5, 10);
        s.set(h, k, Value::Int(2), false, 10);
        assert!(s.unwatch(h, k, 1, 10), "written again over the stale key");
        let mut s = watched_shard(k, 5, 10);
        s.take_all();
        assert!(!s.unwatch(h, k, 1, 10), "flushed");
    }

    #[test]
    fn swapping_touches_as_redis_7_0() {
        let k = b"k";
        let h = hash_key(k);
        let stale = || {
            let mut s = Shard::default();
            s.set(h, k, Value::Int(1), false, 0);
            s.set_expire(h, k, 5, 0);
            s
        };
        let live = || {
            let mut s = Shard::default();
            s.set(h, k, Value::Int(1), false, 0);
            s
        };
        // (this side, other side, EXEC fails) for a watch of this side.
        let cases: [(Option<Shard>, Option<Shard>, bool); 6] = [
            (Some(live()), None, true),
            (None, Some(live()), true),
            (Some(stale()), None, false),
            (None, Some(stale()), false),
            (Some(stale()), Some(stale()), false),
            (Some(stale()), Some(live()), true),
        ];
        for (i, (mine, other, fails)) in cases.into_iter().enumerate() {
            let mut mine = mine.unwrap_or_default();
            let mut other = other.unwrap_or_default();
            mine.watch(h, k, 1, 10);
            mine.swap(&mut other, 10);
            assert_eq!(mine.unwatch(h, k, 1, 10), fails, "case {i}");
        }
    }

    #[test]
    fn set_get_remove_with_expiry() {
        let ks = Keyspace::new(2);
        let mut v = one(&ks, b"k", 1000);
        assert_eq!(v.set(b"k", Value::Int(1), false), None);
        assert!(v.set_expire(b"k", 1500));
        assert!(v.exists(b"k"));
        drop(v);
        // At the deadline the key is gone for readers.
        let mut v = one(&ks, b"k", 1500);
        assert!(!v.exists(b"k"));
        assert_eq!(
            v.set(b"k", Value::Int(2), true),
            None,
            "expired value is not returned"
        );
        assert_eq!(v.get(b"k").map(|e| e.expire_at()), Some(0));
    }

    #[test]
    fn keep_ttl_keeps_deadline() {
        let ks = Keyspace::new(1);
        let mut v = one(&ks, b"k", 10);
        v.set(b"k", Value::Int(1), false);
        v.set_expire(b"k", 100);
        assert_eq!(v.set(b"k", Value::Int(2), true), Some(Value::Int(1)));
        assert_eq!(v.get(b"k").unwrap().expire_at(), 100);
        v.set(b"k", Value::Int(3), false);
        assert_eq!(v.get(b"k").unwrap().expire_at(), 0);
    }

    #[test]
    fn active_cycle_removes_only_due_keys_within_budget() {
        let mut s = Shard::default();
        for i in 0..100u32 {
            let k = i.to_be_bytes();
            let h = hash_key(&k);
            s.set(h, &k, Value::Int(i as i64), false, 0);
            s.set_expire(h, &k, 10 + (i as u64 % 2) * 1000, 0);
        }
        assert_eq!(s.volatile(), 100);
        let st = s.expire_cycle(20, 30);
        assert_eq!(
            st,
            ExpireStats {
                expired: 30,
                more: true
            }
        );
        let st = s.expire_cycle(20, 1000);
        assert_eq!(
            st,
            ExpireStats {
                expired: 20,
                more: false
            }
        );
        assert_eq!(s.len(), 50);
        assert_eq!(s.volatile(), 50);
    }

    #[test]
    fn stale_deadlines_are_skipped_and_compacted() {
        let mut s = Shard::default();
        let k = b"key";
        let h = hash_key(k);
        s.set(h, k, Value::Int(1), false, 0);
        for at in 1..1000u64 {
            s.set_expire(h, k, 10_000 + at, 0);
        }
        assert!(s.deadlines.len() <= 2 * s.volatile() + 65);
        // Early stale deadlines do not delete the key.
        assert_eq!(s.expire_cycle(10_500, 10_000).expired, 0);
        assert_eq!(s.len(), 1);
        assert_eq!(s.expire_cycle(20_000, 10_000).expired, 1);
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn multi_shard_lock_dedups_and_finds_keys() {
        let ks = Keyspace::new(1);
        let keys: Vec<Vec<u8>> = (0..50u32).map(|i| format!("k{i}").into_bytes()).collect();
        let mut ids: Vec<ShardId> = keys
            .iter()
            .map(|k| (0, shard_of(hash_key(k)) as u32))
            .collect();
        let mut v = ks.lock(&mut ids, 0, 0);
        for k in &keys {
            v.set(k, Value::Int(7), false);
        }
        for k in &keys {
            assert!(v.exists(k));
        }
    }
}
