//! Clients blocked on keys (BLPOP, BLMOVE, BLMPOP, BZPOPMIN...): the
//! registry of waiters. Blocking a client and serving waiters when a key
//! becomes ready is [`crate::cmd::blocking`]; a waiter's deadline is kept
//! by its own event loop.
//!
//! A blocked client waits in a FIFO per key. When a write command (or a
//! whole EXEC) has made one of those keys non-empty, the thread that ran it
//! serves the waiters right away, still holding that command's shard locks:
//! first come, first served, and no other client can take the element in
//! between, exactly as in Redis. The waiter's reply travels to its own event
//! loop as a message. A waiter is *claimed* (removed from the registry)
//! under the registry's lock by exactly one party — the serving thread, its
//! loop on timeout, CLIENT UNBLOCK, or a disconnect — so a reply is never
//! sent twice and a timed-out client never consumes an element.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::reply::Reply;
use crate::types::list::End;

/// What a blocked client is waiting to do.
#[derive(Debug, Clone)]
pub enum Op {
    /// BLPOP / BRPOP: pop one element, reply `[key, element]`.
    Pop(End),
    /// BLMOVE / BRPOPLPUSH: pop from `from`, push at `to` of `dest`, reply
    /// with the element.
    Move {
        /// Side popped.
        from: End,
        /// Side pushed.
        to: End,
        /// Destination key.
        dest: Vec<u8>,
    },
    /// BLMPOP: pop up to `count`, reply `[key, [elements]]`.
    MPop {
        /// Side popped.
        end: End,
        /// Most elements.
        count: usize,
    },
    /// BZPOPMIN / BZPOPMAX: reply `[key, member, score]`.
    ZPop {
        /// Highest scores first.
        max: bool,
    },
    /// BZMPOP: reply `[key, [[member, score] ...]]`.
    ZMPop {
        /// Highest scores first.
        max: bool,
        /// Most members.
        count: usize,
    },
    /// XREAD BLOCK: served when a stream's last ID passes the one given
    /// for it, reply `[[key, entries]]` (a map in RESP3).
    XRead {
        /// The ID to read after, per key (in the order of `keys`).
        ids: Vec<crate::types::stream::StreamId>,
        /// Most entries (Redis's default for a blocked read is 1000).
        count: usize,
        /// XREADGROUP: the group read (its IDs are all `>`, the greatest
        /// ID, and each is the group's last ID when served).
        group: Option<ReadGroup>,
    },
    /// WAIT numreplicas: no keys; there are no replicas to acknowledge, so
    /// it only ends by timeout (or CLIENT UNBLOCK), replying 0.
    WaitReplicas,
}

/// The group and consumer of a blocked XREADGROUP.
#[derive(Debug, Clone)]
pub struct ReadGroup {
    /// The group's name.
    pub group: Vec<u8>,
    /// The consumer's name.
    pub consumer: Vec<u8>,
    /// NOACK: what it reads does not become pending.
    pub noack: bool,
}

impl Op {
    /// True when the op waits for a list (else a sorted set, or a stream
    /// for [`Op::XRead`]).
    pub fn wants_list(&self) -> bool {
        matches!(self, Op::Pop(_) | Op::Move { .. } | Op::MPop { .. })
    }

    /// True for a blocked XREADGROUP.
    pub fn reads_group(&self) -> bool {
        matches!(self, Op::XRead { group: Some(_), .. })
    }

    /// Writes the reply a timed-out waiter gets: a null array for every
    /// op on keys (BLMOVE included), as Redis 7.0 sends; for WAIT the
    /// number of replicas that acknowledged, 0.
    pub fn timeout_reply(&self, out: &mut Reply) {
        match self {
            Op::WaitReplicas => out.int(0),
            _ => out.null_array(),
        }
    }

    /// Writes the reply of a blocking command that found nothing inside
    /// MULTI (where it cannot block): BLMOVE/BRPOPLPUSH a null bulk, the
    /// others a null array.
    pub fn empty_reply(&self, out: &mut Reply) {
        match self {
            Op::Move { .. } => out.null(),
            Op::WaitReplicas => out.int(0),
            _ => out.null_array(),
        }
    }
}

/// One blocked client.
#[derive(Debug, Clone)]
pub struct Waiter {
    /// Client id.
    pub client: u64,
    /// Its event loop.
    pub loop_index: usize,
    /// Its database.
    pub db: usize,
    /// The keys it waits on, in the order it gave them.
    pub keys: Vec<Vec<u8>>,
    /// What to do when served.
    pub op: Op,
    /// Its protocol, for the reply.
    pub resp3: bool,
    /// The command that blocked (its id in the table), for its statistics
    /// when it is served or times out.
    pub cmd: u16,
    /// Which wait of this client this is (set by [`Blocking::block`]): a
    /// client that timed out and blocked again is a new waiter, which a
    /// server that looked at the old one must not take.
    pub seq: u64,
}

#[derive(Default)]
struct Inner {
    by_key: HashMap<(usize, Vec<u8>), VecDeque<u64>, ahash::RandomState>,
    waiters: HashMap<u64, Waiter, ahash::RandomState>,
}

/// The registry of blocked clients.
#[derive(Default)]
pub struct Blocking {
    inner: Mutex<Inner>,
    count: AtomicUsize,
    /// Blocked XREADGROUPs among them.
    group_readers: AtomicUsize,
    next_seq: std::sync::atomic::AtomicU64,
}

impl Blocking {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of blocked clients (0 lets writes skip all of this).
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Number of clients blocked in XREADGROUP (0 lets the serving of
    /// keys that are not streams skip looking for them).
    pub fn group_readers(&self) -> usize {
        self.group_readers.load(Ordering::Relaxed)
    }

    /// Registers a blocked client at the back of each of its keys' queues.
    pub fn block(&self, mut w: Waiter) {
        w.seq = self.next_seq.fetch_add(1, Ordering::Relaxed) + 1;
        let mut g = self.lock();
        for k in &w.keys {
            let q = g.by_key.entry((w.db, k.clone())).or_default();
            if !q.contains(&w.client) {
                q.push_back(w.client);
            }
        }
        let reads_group = w.op.reads_group();
        if let Some(old) = g.waiters.insert(w.client, w) {
            if old.op.reads_group() {
                self.group_readers.fetch_sub(1, Ordering::Relaxed);
            }
        } else {
            self.count.fetch_add(1, Ordering::Relaxed);
        }
        if reads_group {
            self.group_readers.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn remove(&self, g: &mut Inner, client: u64) -> Option<Waiter> {
        let w = g.waiters.remove(&client)?;
        for k in &w.keys {
            let slot = (w.db, k.clone());
            if let Some(q) = g.by_key.get_mut(&slot) {
                q.retain(|&id| id != client);
                if q.is_empty() {
                    g.by_key.remove(&slot);
                }
            }
        }
        self.count.fetch_sub(1, Ordering::Relaxed);
        if w.op.reads_group() {
            self.group_readers.fetch_sub(1, Ordering::Relaxed);
        }
        Some(w)
    }

    /// Claims a waiter (timeout, CLIENT UNBLOCK, disconnect): `None` when it
    /// is not blocked any more — someone else claimed it first.
    pub fn claim(&self, client: u64) -> Option<Waiter> {
        let mut g = self.lock();
        self.remove(&mut g, client)
    }

    /// Claims `client`'s wait `seq` (one [`Blocking::peek_first`]
    /// returned), and nothing if the client's wait is another one by now.
    pub fn claim_exact(&self, client: u64, seq: u64) -> Option<Waiter> {
        let mut g = self.lock();
        if g.waiters.get(&client).is_none_or(|w| w.seq != seq) {
            return None;
        }
        self.remove(&mut g, client)
    }

    /// Claims the first waiter on `(db, key)` whose op wants a list
    /// (`list`) or a sorted set (`!list`).
    pub fn claim_first(&self, db: usize, key: &[u8], list: bool) -> Option<Waiter> {
        let mut g = self.lock();
        let q = g.by_key.get(&(db, key.to_vec()))?;
        let id = q.iter().copied().find(|id| {
            g.waiters
                .get(id)
                .is_some_and(|w| w.op.wants_list() == list && !matches!(w.op, Op::XRead { .. }))
        })?;
        self.remove(&mut g, id)
    }

    /// The first waiter on `(db, key)` whose op wants a list (`list`) or a
    /// sorted set, without claiming it.
    pub fn peek_first(&self, db: usize, key: &[u8], list: bool) -> Option<Waiter> {
        let g = self.lock();
        let q = g.by_key.get(&(db, key.to_vec()))?;
        q.iter()
            .filter_map(|id| g.waiters.get(id))
            .find(|w| w.op.wants_list() == list && !matches!(w.op, Op::XRead { .. }))
            .cloned()
    }

    /// The XREAD waiters on `(db, key)`, in the order they blocked,
    /// without claiming them.
    pub fn stream_waiters(&self, db: usize, key: &[u8]) -> Vec<Waiter> {
        let g = self.lock();
        let Some(q) = g.by_key.get(&(db, key.to_vec())) else {
            return Vec::new();
        };
        q.iter()
            .filter_map(|id| g.waiters.get(id))
            .filter(|w| matches!(w.op, Op::XRead { .. }))
            .cloned()
            .collect()
    }

    /// The keys blocked XREADGROUPs wait on.
    pub fn group_reader_keys(&self) -> Vec<(usize, Vec<u8>)> {
        let g = self.lock();
        let mut keys: Vec<(usize, Vec<u8>)> = g
            .waiters
            .values()
            .filter(|w| w.op.reads_group())
            .flat_map(|w| w.keys.iter().map(|k| (w.db, k.clone())))
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// The keys of database `db` that clients wait on (SWAPDB re-checks
    /// them).
    pub fn keys_in_db(&self, db: usize) -> Vec<Vec<u8>> {
        self.lock()
            .by_key
            .keys()
            .filter(|(d, _)| *d == db)
            .map(|(_, k)| k.clone())
            .collect()
    }

    /// True when someone waits on `(db, key)`.
    pub fn has_waiters(&self, db: usize, key: &[u8]) -> bool {
        self.lock().by_key.contains_key(&(db, key.to_vec()))
    }
}
