//! Per-client state: what the owning event loop keeps ([`Client`]) and what
//! other loops may read for CLIENT LIST / KILL ([`ClientMeta`]).

use std::collections::HashSet;
use std::sync::atomic::{
    AtomicBool, AtomicI64, AtomicU16, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};
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
    /// Room left in the input buffer beyond the pending bytes (CLIENT
    /// LIST `qbuf-free`).
    pub qbuf_free: AtomicUsize,
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
    /// The ACL user it authenticated as (`default` until AUTH names
    /// another): CLIENT LIST's `user=`, ACL WHOAMI.
    pub user: Mutex<Vec<u8>>,
    /// `lib-name` and `lib-ver` (CLIENT SETINFO).
    pub lib: Mutex<(Vec<u8>, Vec<u8>)>,
    /// Inside MULTI (CLIENT LIST flag `x`).
    pub multi: AtomicBool,
    /// Commands queued in MULTI (CLIENT LIST `multi`).
    pub multi_count: AtomicUsize,
    /// Bytes of the queued commands' arguments, as Redis counts them
    /// (CLIENT LIST `multi-mem`).
    pub multi_mem: AtomicUsize,
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
    /// In MONITOR mode (CLIENT LIST flag `O`).
    pub monitor: AtomicBool,
    /// CLIENT TRACKING as CLIENT LIST shows it: [`TRACKING_ON`],
    /// [`TRACKING_BROKEN`], [`TRACKING_BCAST`] bits.
    pub tracking: AtomicU8,
    /// The client tracking redirects to (CLIENT LIST `redir`: -1 without
    /// tracking, 0 without redirection).
    pub redir: AtomicI64,
}

/// [`ClientMeta::tracking`]: tracking is on (flag `t`).
pub const TRACKING_ON: u8 = 1;
/// [`ClientMeta::tracking`]: the redirection target went away (flag `R`).
pub const TRACKING_BROKEN: u8 = 2;
/// [`ClientMeta::tracking`]: broadcasting mode (flag `B`).
pub const TRACKING_BCAST: u8 = 4;

impl ClientMeta {
    /// Redis's `islocalClient`: a Unix socket, or a peer at exactly
    /// 127.0.0.1 or ::1 (see [`crate::config::is_local`]).
    pub fn is_local(&self) -> bool {
        let ip = self
            .addr
            .parse::<std::net::SocketAddr>()
            .ok()
            .map(|a| a.ip());
        crate::config::is_local(self.unix, ip)
    }

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
            qbuf_free: AtomicUsize::new(0),
            output: Default::default(),
            kill: AtomicBool::new(false),
            inflight: AtomicUsize::new(0),
            loop_index,
            name: Mutex::new(Vec::new()),
            user: Mutex::new(b"default".to_vec()),
            lib: Mutex::new((Vec::new(), Vec::new())),
            multi: AtomicBool::new(false),
            multi_count: AtomicUsize::new(0),
            multi_mem: AtomicUsize::new(0),
            no_evict: AtomicBool::new(false),
            no_touch: AtomicBool::new(false),
            sub: AtomicUsize::new(0),
            psub: AtomicUsize::new(0),
            ssub: AtomicUsize::new(0),
            blocked: AtomicBool::new(false),
            monitor: AtomicBool::new(false),
            tracking: AtomicU8::new(0),
            redir: AtomicI64::new(-1),
        }
    }

    /// Shows a client's tracking state (none: off) in CLIENT LIST.
    pub fn show_tracking(&self, t: Option<&crate::tracking::ClientTracking>) {
        let (bits, redir) = t.map_or((0, -1), |t| {
            let mut bits = TRACKING_ON;
            if t.broken {
                bits |= TRACKING_BROKEN;
            }
            if t.bcast {
                bits |= TRACKING_BCAST;
            }
            (bits, t.redirect as i64)
        });
        self.tracking.store(bits, Ordering::Relaxed);
        self.redir.store(redir, Ordering::Relaxed);
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

    /// The ACL user's name.
    pub fn user(&self) -> Vec<u8> {
        self.user.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Records the ACL user the client authenticated as.
    pub fn set_user(&self, name: &[u8]) {
        let mut u = self.user.lock().unwrap_or_else(|p| p.into_inner());
        u.clear();
        u.extend_from_slice(name);
    }

    /// True when subscribed to anything (Redis's `CLIENT_PUBSUB`: the
    /// client's type is then `pubsub`).
    pub fn is_pubsub(&self) -> bool {
        self.sub.load(Ordering::Relaxed)
            + self.psub.load(Ordering::Relaxed)
            + self.ssub.load(Ordering::Relaxed)
            > 0
    }

    /// Records the input buffer's shape (`qbuf`, `qbuf-free`).
    pub fn set_input(&self, pending: usize, free: usize) {
        self.qbuf.store(pending, Ordering::Relaxed);
        self.qbuf_free.store(free, Ordering::Relaxed);
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

    /// One CLIENT LIST line (without the trailing newline): Redis 7.0's
    /// fields in Redis's order (7.0 has no lib-name/lib-ver fields; CLIENT
    /// SETINFO stores them for when we match a later version).
    /// `argv_mem` is the arguments' bytes of the command the client is
    /// running (the caller's own CLIENT LIST/INFO; 0 for the others, whose
    /// arguments are gone). `last_cmd` names the last command from its id
    /// (the command table knows the names; this record only keeps the id).
    pub fn info_line(
        &self,
        now_ms: u64,
        argv_mem: usize,
        last_cmd: impl Fn(u16) -> String,
    ) -> String {
        let name = String::from_utf8_lossy(&self.name()).into_owned();
        let user = String::from_utf8_lossy(&self.user()).into_owned();
        let (sub, psub, ssub) = (
            self.sub.load(Ordering::Relaxed),
            self.psub.load(Ordering::Relaxed),
            self.ssub.load(Ordering::Relaxed),
        );
        let multi = self.multi.load(Ordering::Relaxed);
        // Redis's letters, in Redis's order (catClientInfoString); `T`
        // (no-touch) comes from Redis 7.2.
        let tracking = self.tracking.load(Ordering::Relaxed);
        let mut flags = String::new();
        for (on, letter) in [
            (self.monitor.load(Ordering::Relaxed), 'O'),
            (sub + psub + ssub > 0, 'P'),
            (multi, 'x'),
            (self.blocked.load(Ordering::Relaxed), 'b'),
            (tracking & TRACKING_ON != 0, 't'),
            (tracking & TRACKING_BROKEN != 0, 'R'),
            (tracking & TRACKING_BCAST != 0, 'B'),
            (self.kill.load(Ordering::Relaxed), 'A'),
            (self.unix, 'U'),
            (self.no_evict.load(Ordering::Relaxed), 'e'),
            (self.no_touch.load(Ordering::Relaxed), 'T'),
        ] {
            if on {
                flags.push(letter);
            }
        }
        if flags.is_empty() {
            flags.push('N');
        }
        let cmd = match self.last_cmd.load(Ordering::Relaxed) {
            u16::MAX => "NULL".to_string(),
            id => last_cmd(id),
        };
        let qbuf = self.qbuf.load(Ordering::Relaxed);
        let qbuf_free = self.qbuf_free.load(Ordering::Relaxed);
        let [obl, oll, omem] = self.output.each_ref().map(|a| a.load(Ordering::Relaxed));
        let (multi_count, multi_mem) = if multi {
            (
                self.multi_count.load(Ordering::Relaxed) as i64,
                self.multi_mem.load(Ordering::Relaxed),
            )
        } else {
            (-1, 0)
        };
        // What the client holds: its input buffer, its reply buffer and
        // output blocks, its arguments and queued commands, the record.
        let tot_mem = qbuf
            + qbuf_free
            + REPLY_BUFFER
            + omem
            + argv_mem
            + multi_mem
            + std::mem::size_of::<ClientMeta>()
            + std::mem::size_of::<Client>();
        // `w`: output is waiting for the socket to take it.
        let events = if obl + omem > 0 { "rw" } else { "r" };
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp={} obl={} oll={} omem={} tot-mem={} events={} cmd={} user={} redir={} resp={}",
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
            multi_count,
            qbuf,
            qbuf_free,
            argv_mem,
            multi_mem,
            REPLY_BUFFER,
            REPLY_BUFFER,
            obl,
            oll,
            omem,
            tot_mem,
            events,
            cmd,
            user,
            self.redir.load(Ordering::Relaxed),
            self.resp.load(Ordering::Relaxed),
        )
    }
}

/// The nominal size of a client's reply buffer (CLIENT LIST `rbs`), as
/// Redis's `PROTO_REPLY_CHUNK_BYTES`.
const REPLY_BUFFER: usize = 16 * 1024;

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

/// CLIENT REPLY: whether this client's replies are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyMode {
    /// Replies are sent.
    #[default]
    On,
    /// CLIENT REPLY OFF: no reply is sent until CLIENT REPLY ON.
    Off,
    /// CLIENT REPLY SKIP is running: the next command's reply is dropped.
    SkipNext,
    /// This command's reply is dropped (the one after CLIENT REPLY SKIP).
    Skip,
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
    /// In MONITOR mode: commands that touch the keyspace are refused, as
    /// Redis refuses them to a replica.
    pub monitor: bool,
    /// CLIENT TRACKING mode, when on.
    pub tracking: Option<Box<crate::tracking::ClientTracking>>,
    /// Tracking messages for this client raised by its own command,
    /// written after its reply (it may be another client's redirection
    /// target without tracking itself).
    pub tracking_pending: Vec<u8>,
    /// Positions of the running command's arguments that SLOWLOG and
    /// MONITOR must show as `(redacted)` (passwords: AUTH, HELLO AUTH,
    /// CONFIG SET requirepass), as Redis's `redactClientCommandArgument`.
    /// Set by the handler, cleared after the command.
    pub redacted: Vec<usize>,
    /// CLIENT REPLY's state.
    pub reply: ReplyMode,
    /// Where the reply buffer's pub/sub pushes end for the command
    /// running: a silenced client (CLIENT REPLY OFF/SKIP) still gets those,
    /// as in Redis (`CLIENT_PUSHING`). Only read while silenced.
    pub keep: usize,
    /// CLIENT PAUSE holds this client's command: it stays in the input and
    /// runs again when the pause ends.
    pub postponed: bool,
    /// Replays the append-only log (start-up, DEBUG LOADAOF): refused
    /// nothing while loading, and logs nothing itself.
    pub replaying: bool,
    /// The ACL user's rules its commands are checked against.
    pub acl: crate::acl::ClientAcl,
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
            monitor: false,
            tracking: None,
            tracking_pending: Vec::new(),
            redacted: Vec::new(),
            reply: ReplyMode::On,
            keep: 0,
            postponed: false,
            replaying: false,
            acl: crate::acl::ClientAcl::default(),
        }
    }

    /// Marks argument `i` of the running command as a secret for SLOWLOG
    /// and MONITOR.
    pub fn redact(&mut self, i: usize) {
        if !self.redacted.contains(&i) {
            self.redacted.push(i);
        }
    }

    /// True when this command's reply must not be sent (CLIENT REPLY OFF
    /// or SKIP).
    pub fn silenced(&self) -> bool {
        matches!(self.reply, ReplyMode::Off | ReplyMode::Skip)
    }

    /// After a command's reply is complete (for a blocked command, once it
    /// is served): drops the reply written from `mark` on if the client is
    /// silenced (pushes before [`Client::keep`] stay), then moves CLIENT
    /// REPLY SKIP along, as Redis's `resetClient`.
    pub fn settle_reply(&mut self, buf: &mut Vec<u8>, mark: usize) {
        if self.silenced() {
            buf.truncate(self.keep.max(mark));
        }
        self.keep = 0;
        self.reply = match self.reply {
            ReplyMode::SkipNext => ReplyMode::Skip,
            ReplyMode::Skip => ReplyMode::On,
            m => m,
        };
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
