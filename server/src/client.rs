//! Per-client state: what the owning event loop keeps ([`Client`]) and what
//! other loops may read for CLIENT LIST / KILL ([`ClientMeta`]).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::pubsub::Space;

/// The part of a client other threads may see, updated by its loop with
/// relaxed atomics (values are for display; KILL uses `kill`).
#[derive(Debug)]
pub struct ClientMeta {
    /// Unique, increasing id (CLIENT ID).
    pub id: u64,
    /// Peer address, `ip:port` or `path:0`.
    pub addr: String,
    /// Local address.
    pub laddr: String,
    /// Socket file descriptor.
    pub fd: i32,
    /// True for Unix-socket clients.
    pub unix: bool,
    /// Creation time, Unix ms.
    pub created_ms: u64,
    /// Last command time, Unix ms.
    pub last_ms: AtomicU64,
    /// Selected database.
    pub db: AtomicUsize,
    /// Index in the command table of the last command (u16::MAX = none).
    pub last_cmd: AtomicU16,
    /// Protocol version.
    pub resp: AtomicU8,
    /// Pending input bytes.
    pub qbuf: AtomicUsize,
    /// Output pending in the reply buffer, sealed blocks waiting, and the
    /// bytes those hold (CLIENT LIST `obl`, `oll`, `omem`), as of the last
    /// write.
    pub output: [AtomicUsize; 3],
    /// Set by CLIENT KILL; the owning loop closes the connection.
    pub kill: AtomicBool,
    /// Bytes of pub/sub messages published for this client on other
    /// loops and not yet appended to its output: with the output pending,
    /// what a publisher checks against the pub/sub output limit.
    pub inflight: AtomicUsize,
    /// Which event loop owns the connection.
    pub loop_index: usize,
    /// Name (CLIENT SETNAME / HELLO SETNAME).
    pub name: Mutex<Vec<u8>>,
    /// `lib-name` and `lib-ver` (CLIENT SETINFO).
    pub lib: Mutex<(Vec<u8>, Vec<u8>)>,
    /// Flag letters beyond `N` (e.g. `x` in MULTI), maintained by the loop.
    pub multi: AtomicBool,
    /// CLIENT NO-EVICT on.
    pub no_evict: AtomicBool,
    /// CLIENT NO-TOUCH on.
    pub no_touch: AtomicBool,
    /// Channels subscribed.
    pub sub: AtomicUsize,
    /// Patterns subscribed.
    pub psub: AtomicUsize,
    /// Shard channels subscribed.
    pub ssub: AtomicUsize,
    /// Blocked on keys (CLIENT LIST flag `b`).
    pub blocked: AtomicBool,
}

impl ClientMeta {
    /// A fresh client record.
    pub fn new(
        id: u64,
        addr: String,
        laddr: String,
        fd: i32,
        unix: bool,
        now_ms: u64,
        loop_index: usize,
    ) -> Self {
        ClientMeta {
            id,
            addr,
            laddr,
            fd,
            unix,
            created_ms: now_ms,
            last_ms: AtomicU64::new(now_ms),
            db: AtomicUsize::new(0),
            last_cmd: AtomicU16::new(u16::MAX),
            resp: AtomicU8::new(2),
            qbuf: AtomicUsize::new(0),
            output: Default::default(),
            kill: AtomicBool::new(false),
            inflight: AtomicUsize::new(0),
            loop_index,
            name: Mutex::new(Vec::new()),
            lib: Mutex::new((Vec::new(), Vec::new())),
            multi: AtomicBool::new(false),
            no_evict: AtomicBool::new(false),
            no_touch: AtomicBool::new(false),
            sub: AtomicUsize::new(0),
            psub: AtomicUsize::new(0),
            ssub: AtomicUsize::new(0),
            blocked: AtomicBool::new(false),
        }
    }

    /// Records the output's shape (`obl`, `oll`, `omem`) for CLIENT LIST.
    pub fn set_output(&self, shape: (usize, usize, usize)) {
        self.output[0].store(shape.0, Ordering::Relaxed);
        self.output[1].store(shape.1, Ordering::Relaxed);
        self.output[2].store(shape.2, Ordering::Relaxed);
    }

    /// Output bytes waiting for the socket as of the last write.
    pub fn output_pending(&self) -> usize {
        self.output[0].load(Ordering::Relaxed) + self.output[2].load(Ordering::Relaxed)
    }

    /// The client's name.
    pub fn name(&self) -> Vec<u8> {
        self.name.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The memory the client's buffers take (CLIENT LIST `tot-mem`, INFO
    /// `mem_clients_normal`): a 16 KB read buffer, the query, the output.
    pub fn memory(&self) -> u64 {
        let qbuf = self.qbuf.load(Ordering::Relaxed) as u64;
        let [obl, _, omem] = self
            .output
            .each_ref()
            .map(|a| a.load(Ordering::Relaxed) as u64);
        16384 + qbuf + obl + omem
    }

    /// One CLIENT LIST line (without the trailing newline), Redis 7.0's
    /// fields in Redis's order (7.0 has no lib-name/lib-ver fields; CLIENT
    /// SETINFO stores them for when we match a later version).
    /// `last_cmd` names the last command from its id (the command table
    /// knows the names; this record only keeps the id).
    pub fn info_line(&self, now_ms: u64, last_cmd: impl Fn(u16) -> String) -> String {
        let name = String::from_utf8_lossy(&self.name()).into_owned();
        let mut flags = String::new();
        let (sub, psub, ssub) = (
            self.sub.load(Ordering::Relaxed),
            self.psub.load(Ordering::Relaxed),
            self.ssub.load(Ordering::Relaxed),
        );
        if sub + psub + ssub > 0 {
            flags.push('P');
        }
        if self.multi.load(Ordering::Relaxed) {
            flags.push('x');
        }
        if self.blocked.load(Ordering::Relaxed) {
            flags.push('b');
        }
        if self.unix {
            flags.push('U');
        }
        if self.no_evict.load(Ordering::Relaxed) {
            flags.push('e');
        }
        if self.no_touch.load(Ordering::Relaxed) {
            flags.push('T');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        let cmd = match self.last_cmd.load(Ordering::Relaxed) {
            u16::MAX => "NULL".to_string(),
            id => last_cmd(id),
        };
        let qbuf = self.qbuf.load(Ordering::Relaxed);
        let [obl, oll, omem] = self.output.each_ref().map(|a| a.load(Ordering::Relaxed));
        // `w`: output is waiting for the socket to take it.
        let events = if obl + omem > 0 { "rw" } else { "r" };
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl={} oll={} omem={} tot-mem={} events={} cmd={} user=default redir=-1 resp={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            name,
            now_ms.saturating_sub(self.created_ms) / 1000,
            now_ms.saturating_sub(self.last_ms.load(Ordering::Relaxed)) / 1000,
            flags,
            self.db.load(Ordering::Relaxed),
            sub,
            psub,
            ssub,
            if self.multi.load(Ordering::Relaxed) { 0 } else { -1 },
            qbuf,
            16384usize.saturating_sub(qbuf),
            obl,
            oll,
            omem,
            self.memory(),
            events,
            cmd,
            self.resp.load(Ordering::Relaxed),
        )
    }
}

/// A client's pub/sub subscriptions.
#[derive(Debug, Default)]
pub struct Subscriptions {
    channels: HashSet<Vec<u8>, ahash::RandomState>,
    patterns: HashSet<Vec<u8>, ahash::RandomState>,
    shard: HashSet<Vec<u8>, ahash::RandomState>,
}

impl Subscriptions {
    /// The set for one namespace.
    pub fn set_mut(&mut self, space: Space) -> &mut HashSet<Vec<u8>, ahash::RandomState> {
        match space {
            Space::Channel => &mut self.channels,
            Space::Pattern => &mut self.patterns,
            Space::Shard => &mut self.shard,
        }
    }

    /// The count a (un)subscribe reply shows: channels and patterns
    /// together, shard channels on their own (as Redis counts them).
    pub fn count(&self, space: Space) -> usize {
        match space {
            Space::Shard => self.shard.len(),
            _ => self.channels.len() + self.patterns.len(),
        }
    }

    /// True when subscribed to `name` in `space`.
    pub fn contains(&self, space: Space, name: &[u8]) -> bool {
        match space {
            Space::Channel => self.channels.contains(name),
            Space::Pattern => self.patterns.contains(name),
            Space::Shard => self.shard.contains(name),
        }
    }

    /// True when subscribed to anything: RESP2 clients are then in
    /// subscribed mode.
    pub fn active(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shard.is_empty())
    }

    /// Mirrors the counts into the client's shared record.
    pub fn publish_counts(&self, meta: &ClientMeta) {
        meta.sub.store(self.channels.len(), Ordering::Relaxed);
        meta.psub.store(self.patterns.len(), Ordering::Relaxed);
        meta.ssub.store(self.shard.len(), Ordering::Relaxed);
    }
}

/// A command queued between MULTI and EXEC.
#[derive(Debug)]
pub struct Queued {
    /// Its arguments, owned.
    pub argv: Vec<Vec<u8>>,
}

/// Transaction state.
#[derive(Debug, Default)]
pub struct Multi {
    /// Commands waiting for EXEC.
    pub queue: Vec<Queued>,
    /// A command failed to queue: EXEC must abort.
    pub dirty: bool,
}

/// What the loop does with the connection after this batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Close {
    /// Keep it open.
    #[default]
    No,
    /// Close once the replies so far are written (QUIT, protocol errors).
    AfterReply,
}

/// A client blocked on keys (BLPOP...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked {
    /// Unix ms when it times out, 0 for never.
    pub deadline: u64,
}

/// Connection state owned by the client's event loop.
#[derive(Debug)]
pub struct Client {
    /// Shared view of this client.
    pub meta: Arc<ClientMeta>,
    /// Selected database.
    pub db: usize,
    /// Passed AUTH (or no password is required).
    pub authenticated: bool,
    /// Inside MULTI.
    pub multi: Option<Multi>,
    /// Close after the pending replies.
    pub close: Close,
    /// Pub/sub subscriptions.
    pub subs: Subscriptions,
    /// WATCHed keys: (db, key). What happened to them since is kept
    /// with the keyspace (see [`crate::db::Locked::watch`]).
    pub watched: Vec<(usize, Vec<u8>)>,
    /// Set while blocked: no further input is processed until it clears.
    pub blocked: Option<Blocked>,
    /// True while EXEC runs this client's queue (blocking commands then
    /// answer as on timeout instead of blocking).
    pub in_exec: bool,
}

impl Client {
    /// A client with database 0 selected.
    pub fn new(meta: Arc<ClientMeta>, authenticated: bool) -> Client {
        Client {
            meta,
            db: 0,
            authenticated,
            multi: None,
            close: Close::No,
            subs: Subscriptions::default(),
            watched: Vec::new(),
            blocked: None,
            in_exec: false,
        }
    }

    /// The client id.
    pub fn id(&self) -> u64 {
        self.meta.id
    }

    /// Selects a database (and mirrors it for CLIENT LIST).
    pub fn select(&mut self, db: usize) {
        self.db = db;
        self.meta.db.store(db, Ordering::Relaxed);
    }
}
