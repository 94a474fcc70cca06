//! Event loops and connections.
//!
//! Each loop is a thread with its own mio `Poll` that owns its connections
//! outright. Loop 0 also owns the listeners (and the signal pipe) and hands
//! accepted sockets round-robin to every loop through the loops' inboxes.
//! Other threads reach a loop only through its inbox and `Waker`.
//!
//! A readable connection is read in chunks; after every chunk, all complete
//! requests are decoded (arguments are slices of the input buffer), executed
//! in order, and their replies appended to the output buffer, which is written
//! once per batch. Sockets are registered for both readiness kinds once
//! (edge-triggered), so steady-state traffic costs no `epoll_ctl` calls.

mod output;

use std::io::{self, Read, Write};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mio::net::{TcpStream, UnixStream};
use mio::{Events, Interest, Poll, Registry, Token, Waker};
use soquete_resp::{Limits, RequestDecoder};

use crate::client::{Client, ClientMeta, Close};
use crate::cmd::{self, LockPlan};
use crate::error::CmdError;
use crate::reply::Reply;
use crate::server::{unix_ms, Listener, LoopStats, Shared};
use crate::{notice, verbose, warning};
use output::{Output, OutputLimit, OverLimit};

const WAKER: Token = Token(usize::MAX);
const SIGNALS: Token = Token(usize::MAX - 1);
const LISTENER_BASE: usize = usize::MAX - 1024;

/// Bytes we try to read at once.
const READ_CHUNK: usize = 16 * 1024;
/// Reads per readiness event before other connections get a turn.
const READS_PER_EVENT: usize = 16;
/// Idle input buffers above this size are given back.
const IDLE_BUF_MAX: usize = 256 * 1024;
/// A request at least this long gets an input buffer of its exact size
/// (Redis's `PROTO_MBULK_BIG_ARG`).
const BIG_REQUEST: usize = 32 * 1024;
/// At most this much of a big request is read at once (and the input
/// buffer initialised ahead of the data).
const READ_AHEAD: usize = 1 << 20;

/// A message for an event loop.
pub enum LoopMsg {
    /// Take over a newly accepted connection.
    Accept(Sock, Arc<ClientMeta>),
    /// Close client `id` (CLIENT KILL).
    Kill(u64),
    /// Pub/sub messages for clients of this loop.
    Deliver(Vec<crate::pubsub::Delivery>),
    /// A blocked client was served (or unblocked): its reply.
    Unblock {
        /// The client.
        client: u64,
        /// The reply bytes, in its protocol.
        reply: Vec<u8>,
    },
    /// Stop: accept nothing more, write what is pending, exit.
    Shutdown,
}

/// How other threads reach an event loop.
pub struct LoopHandle {
    waker: Waker,
    inbox: Mutex<Vec<LoopMsg>>,
}

impl LoopHandle {
    /// Queues `msg` and wakes the loop.
    pub fn send(&self, msg: LoopMsg) {
        self.queue(msg);
        if let Err(e) = self.waker.wake() {
            warning!("waking an event loop failed: {e}");
        }
    }

    /// Queues `msg` without waking the loop: for a loop sending to itself,
    /// which drains its inbox after every batch anyway.
    pub fn queue(&self, msg: LoopMsg) {
        self.inbox
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(msg);
    }

    fn is_empty(&self) -> bool {
        self.inbox
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }
}

/// A client socket.
pub enum Sock {
    /// TCP.
    Tcp(TcpStream),
    /// Unix domain socket.
    Unix(UnixStream),
}

impl Sock {
    fn register(&mut self, r: &Registry, t: Token) -> io::Result<()> {
        let i = Interest::READABLE | Interest::WRITABLE;
        match self {
            Sock::Tcp(s) => r.register(s, t, i),
            Sock::Unix(s) => r.register(s, t, i),
        }
    }

    fn deregister(&mut self, r: &Registry) {
        let _ = match self {
            Sock::Tcp(s) => r.deregister(s),
            Sock::Unix(s) => r.deregister(s),
        };
    }
}

impl Read for Sock {
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.read(b),
            Sock::Unix(s) => s.read(b),
        }
    }
}

impl Write for Sock {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.write(b),
            Sock::Unix(s) => s.write(b),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct Conn {
    sock: Sock,
    /// Input: `buf[start..end]` is received and not yet consumed. The whole
    /// Vec is initialised, so reads need no unsafe.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    decoder: RequestDecoder,
    /// Whether the decoder has the authenticated limits.
    decoder_auth: bool,
    /// Replies waiting for the socket.
    output: Output,
    client: Client,
    /// The peer shut down its sending side (read returned end-of-file):
    /// nothing more will arrive, so the connection ends once what it sent
    /// has run and the replies are written.
    eof: bool,
}

impl Conn {
    fn new(sock: Sock, client: Client) -> Conn {
        let limits = limits_for(client.authenticated);
        Conn {
            sock,
            buf: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
            decoder: RequestDecoder::with_limits(limits),
            decoder_auth: client.authenticated,
            output: Output::default(),
            client,
            eof: false,
        }
    }

    /// True when the connection ends as soon as its pending replies are
    /// written: QUIT or a protocol error asked for it, or the peer has sent
    /// all it ever will.
    fn ends_after_reply(&self) -> bool {
        self.client.close != Close::No || self.eof
    }

    /// The `client-output-buffer-limit` of this client's class.
    fn output_limit(&self, hot: &crate::server::Hot) -> OutputLimit {
        OutputLimit::of(&hot.output_limits, self.client.subs.active())
    }

    /// Makes room for a read: a chunk, or up to [`READ_AHEAD`] of the rest
    /// of a big request the decoder is waiting for.
    ///
    /// Memory follows the bytes that arrive, not a length a header merely
    /// announced: a big request (Redis's threshold, 32 KB) gets capacity for
    /// all of it at once, which costs nothing until written, so it is never
    /// copied into a larger buffer while it arrives; the buffer's initialised
    /// part (reads need no unsafe) runs at most one step ahead of the data.
    /// A big buffer is given back once its request has run.
    fn make_room(&mut self) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.capacity() > IDLE_BUF_MAX {
                self.buf = vec![0; READ_CHUNK];
            }
        }
        let pending = self.end - self.start;
        let request = self.decoder.wants();
        let room = request
            .saturating_sub(pending)
            .clamp(READ_CHUNK, READ_AHEAD);
        if self.buf.len() - self.end >= room {
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end = pending;
            self.start = 0;
        }
        if request >= BIG_REQUEST && self.buf.capacity() < request {
            // Where the system refuses that much at once, the buffer
            // grows as the data comes instead.
            let _ = self
                .buf
                .try_reserve_exact(request.saturating_sub(self.buf.len()));
        }
        self.buf.resize(self.end + room, 0);
    }

    /// Writes what is pending; Ok(true) when all of it went out. Mirrors
    /// the output's shape for CLIENT LIST either way.
    fn flush(&mut self, stats: &LoopStats) -> io::Result<bool> {
        let done = self.output.write_to(&mut self.sock, stats);
        self.client.meta.set_output(self.output.shape());
        done
    }
}

/// The protocol limits for a client that has (or has not) authenticated.
pub(crate) fn limits_for(authenticated: bool) -> Limits {
    Limits {
        unauthenticated: !authenticated,
        ..Limits::default()
    }
}

/// Reuses a vector's allocation for a vector of a different lifetime.
/// (`collect` into a Vec of the same layout reuses the buffer in place.)
fn recycle<'a, 'b>(mut v: Vec<&'a [u8]>) -> Vec<&'b [u8]> {
    v.clear();
    v.into_iter().map(|_| -> &'b [u8] { &[] }).collect()
}

struct EventLoop {
    index: usize,
    poll: Poll,
    shared: Arc<Shared>,
    conns: Vec<Option<Box<Conn>>>,
    free: Vec<usize>,
    /// Client id -> index in `conns`.
    ids: std::collections::HashMap<u64, usize, ahash::RandomState>,
    /// Blocked clients with a deadline: (deadline ms, client id).
    deadlines: std::collections::BTreeSet<(u64, u64)>,
    /// Connections that received pub/sub messages since the last flush.
    delivered: Vec<usize>,
    listeners: Vec<Listener>,
    signals: Option<UnixStream>,
    /// On the loop that accepts: a descriptor held in reserve, given up for
    /// a moment when the process runs out of them so that a waiting
    /// connection can still be accepted and told why it is refused.
    spare_fd: Option<std::fs::File>,
    next_loop: usize,
    again: Vec<usize>,
    plan: LockPlan,
    argv: Vec<&'static [u8]>,
    prefetcher: Prefetcher,
    expire_shard: usize,
    stopping: bool,
}

/// Requests of a pipelined batch whose keys are prefetched at a time.
const PREFETCH_WINDOW: usize = 32;

/// At most this many keys are prefetched at a time.
const PREFETCH_KEYS: usize = 64;

/// Input shorter than this holds one small request at most: not worth a look.
const PREFETCH_MIN_INPUT: usize = 96;

/// The prefetcher reads at most this much of the input: its work stays a
/// small constant per window, even while a huge request arrives piecemeal
/// (which it would otherwise re-parse from the start on every read).
const PREFETCH_SCAN_MAX: usize = 4096;

/// Finds the keys of the next requests in a connection's input and starts
/// loading their hash-table entries before the first one runs, so that a
/// pipelined batch's cache misses overlap instead of following one another
/// (otherwise they are most of a GET's or SET's time).
#[derive(Default)]
struct Prefetcher {
    decoder: RequestDecoder,
    /// Per key found: its hash and where it lies in the input (an empty
    /// range for an inline request's unescaped key).
    keys: Vec<(u64, usize, usize)>,
    argv: Vec<&'static [u8]>,
    found: Vec<(usize, &'static [u8])>,
}

impl Prefetcher {
    /// Prefetches for the requests at the start of `input`, up to
    /// [`PREFETCH_WINDOW`] requests and [`PREFETCH_KEYS`] keys within its
    /// first [`PREFETCH_SCAN_MAX`] bytes. A request of up to three arguments
    /// is taken to have its key first (GET, SET, INCR, LPUSH...; anything
    /// else costs a wasted prefetch, nothing more); a longer one gets its
    /// keys from the command table when its key positions are a plain range
    /// (MSET, MGET, DEL...). Three rounds, each issued for all the keys
    /// before the next: bucket slots, first nodes of their chains, then the
    /// values of the keys present. Does nothing for a lone key, which would
    /// only wait for its own loads sooner.
    ///
    /// Returns how many requests it looked at: the caller runs that many
    /// before asking again (all of the input, when it is too short to
    /// bother).
    fn run(&mut self, ks: &crate::db::Keyspace, db: usize, input: &[u8]) -> usize {
        self.keys.clear();
        if input.len() < PREFETCH_MIN_INPUT {
            return PREFETCH_WINDOW;
        }
        let input = &input[..input.len().min(PREFETCH_SCAN_MAX)];
        self.decoder.reset();
        let mut at = 0;
        let mut seen = 0;
        while seen < PREFETCH_WINDOW && self.keys.len() < PREFETCH_KEYS {
            let req = match self.decoder.decode(&input[at..]) {
                Ok(Some(req)) => req,
                _ => break,
            };
            seen += 1;
            at += req.consumed();
            if req.len() <= 3 {
                if let Some(key) = req.get(1) {
                    note_key(&mut self.keys, input, key);
                }
                continue;
            }
            let Some(spec) = cmd::lookup(req.arg(0)) else {
                continue;
            };
            if !matches!(spec.keys, cmd::Keys::Range(..)) {
                continue;
            }
            let mut argv = recycle(std::mem::take(&mut self.argv));
            let mut found = recycle_keys(std::mem::take(&mut self.found));
            argv.extend(req.args());
            spec.keys_of(&argv, db, &mut found);
            for &(_, key) in found.iter().take(PREFETCH_KEYS - self.keys.len()) {
                note_key(&mut self.keys, input, key);
            }
            self.argv = recycle(argv);
            self.found = recycle_keys(found);
        }
        if self.keys.len() < 2 {
            return seen;
        }
        for &(h, ..) in &self.keys {
            ks.prefetch_slot(db, h);
        }
        for &(h, ..) in &self.keys {
            ks.prefetch_node(db, h);
        }
        for &(h, from, to) in &self.keys {
            if to > from {
                ks.prefetch_value(db, h, &input[from..to]);
            }
        }
        seen
    }
}

/// Records a key's hash and its place in `input` for [`Prefetcher`].
fn note_key(keys: &mut Vec<(u64, usize, usize)>, input: &[u8], key: &[u8]) {
    let from = (key.as_ptr() as usize).wrapping_sub(input.as_ptr() as usize);
    let span = if from <= input.len() && key.len() <= input.len() - from {
        (from, from + key.len())
    } else {
        (0, 0)
    };
    keys.push((crate::db::hash_key(key), span.0, span.1));
}

/// [`recycle`] for `(db, key)` lists.
fn recycle_keys<'a, 'b>(mut v: Vec<(usize, &'a [u8])>) -> Vec<(usize, &'b [u8])> {
    v.clear();
    v.into_iter()
        .map(|_| -> (usize, &'b [u8]) { (0, &[]) })
        .collect()
}

/// Routes SIGINT and SIGTERM into a pipe whose read end the first event
/// loop polls. Installed before the server says it is ready, so a signal
/// sent right after that line can never kill the process the default way.
pub fn signal_pipe() -> io::Result<std::os::unix::net::UnixStream> {
    let (rx, tx) = std::os::unix::net::UnixStream::pair()?;
    rx.set_nonblocking(true)?;
    tx.set_nonblocking(true)?;
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::low_level::pipe::register(sig, tx.try_clone()?)?;
    }
    Ok(rx)
}

/// Runs `shared`'s event loops until shutdown; the calling thread runs loop
/// 0 (listeners and the signal pipe, if any), the others get their own
/// threads.
pub fn run_loops(
    shared: Arc<Shared>,
    listeners: Vec<Listener>,
    signals: Option<std::os::unix::net::UnixStream>,
) -> io::Result<()> {
    let n = shared.loop_stats.len();
    let mut polls = Vec::with_capacity(n);
    let mut handles = Vec::with_capacity(n);
    for _ in 0..n {
        let poll = Poll::new()?;
        handles.push(LoopHandle {
            waker: Waker::new(poll.registry(), WAKER)?,
            inbox: Mutex::new(Vec::new()),
        });
        polls.push(poll);
    }
    if shared.loops.set(handles).is_err() {
        return Err(io::Error::other("this server is already running"));
    }
    let mut loops: Vec<EventLoop> = polls
        .into_iter()
        .enumerate()
        .map(|(index, poll)| EventLoop {
            index,
            poll,
            shared: shared.clone(),
            conns: Vec::new(),
            free: Vec::new(),
            ids: Default::default(),
            deadlines: Default::default(),
            delivered: Vec::new(),
            listeners: Vec::new(),
            signals: None,
            spare_fd: None,
            next_loop: 0,
            again: Vec::new(),
            plan: LockPlan::default(),
            argv: Vec::new(),
            prefetcher: Prefetcher::default(),
            expire_shard: index,
            stopping: false,
        })
        .collect();
    let first = &mut loops[0];
    first.spare_fd = Some(std::fs::File::open("/dev/null")?);
    for (i, mut l) in listeners.into_iter().enumerate() {
        let t = Token(LISTENER_BASE + i);
        match &mut l {
            Listener::Tcp(x) => first.poll.registry().register(x, t, Interest::READABLE)?,
            Listener::Unix(x, _) => first.poll.registry().register(x, t, Interest::READABLE)?,
        }
        first.listeners.push(l);
    }
    if let Some(rx) = signals {
        let mut rx = UnixStream::from_std(rx);
        first
            .poll
            .registry()
            .register(&mut rx, SIGNALS, Interest::READABLE)?;
        first.signals = Some(rx);
    }
    let mut loops = loops.into_iter();
    let first = loops.next().expect("at least one loop");
    let threads: Vec<_> = loops
        .map(|l| {
            std::thread::Builder::new()
                .name(format!("soquete-loop-{}", l.index))
                .spawn(move || l.run())
        })
        .collect::<io::Result<_>>()?;
    let result = first.run();
    for t in threads {
        match t.join() {
            Ok(r) => r?,
            Err(_) => return Err(io::Error::other("an event loop panicked")),
        }
    }
    result
}

impl EventLoop {
    fn stats(&self) -> &LoopStats {
        &self.shared.loop_stats[self.index]
    }

    fn run(mut self) -> io::Result<()> {
        crate::pubsub::open_outbox(self.shared.loop_stats.len());
        let mut events = Events::with_capacity(1024);
        let mut next_cron = Instant::now();
        let mut shutdown_deadline: Option<Instant> = None;
        let mut last_event = Instant::now();
        loop {
            let now = Instant::now();
            // `events` still holds the last poll's: the clock read above
            // stamps them, so busy-poll costs no clock read of its own.
            if !events.is_empty() {
                last_event = now;
            }
            if now >= next_cron {
                self.cron();
                let hz = self.shared.hot.hz.load(Ordering::Relaxed);
                next_cron = now + Duration::from_millis(1000 / hz as u64);
            }
            let mut timeout = next_cron.saturating_duration_since(now);
            if let Some(&(deadline, _)) = self.deadlines.first() {
                let wait = deadline.saturating_sub(unix_ms());
                timeout = timeout.min(Duration::from_millis(wait));
            }
            // `busy-poll`: for that long after the last event, check the
            // sockets without sleeping, trading a core's idle time for the
            // wake-up latency of a blocking epoll_wait, which a client at
            // pipeline depth 1 waits out on every request. A loop that has
            // seen nothing for that long sleeps again.
            let spin = Duration::from_micros(self.shared.hot.busy_poll.load(Ordering::Relaxed));
            if !self.again.is_empty() || now - last_event < spin {
                timeout = Duration::ZERO;
            }
            if let Some(d) = shutdown_deadline {
                if self.conns.iter().flatten().all(|c| c.output.is_empty()) || Instant::now() >= d {
                    break;
                }
                timeout = timeout.min(Duration::from_millis(10));
            }
            match self.poll.poll(&mut events, Some(timeout)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            for ev in events.iter() {
                match ev.token() {
                    WAKER => self.drain_inbox(),
                    SIGNALS => self.on_signal(),
                    Token(t) if t >= LISTENER_BASE => self.accept(t - LISTENER_BASE),
                    Token(i) => {
                        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                            self.on_readable(i, ev.is_read_closed());
                        }
                        if ev.is_writable() {
                            self.on_writable(i);
                        }
                    }
                }
            }
            for i in std::mem::take(&mut self.again) {
                self.on_readable(i, false);
            }
            // Send what this iteration's commands published (one message
            // and one wake-up per loop), then take what others and this loop
            // itself queued, until nothing is left: a client resumed here
            // may publish again.
            loop {
                crate::pubsub::flush_outbox(&self.shared, self.index);
                self.drain_inbox();
                self.expire_blocked();
                crate::pubsub::flush_outbox(&self.shared, self.index);
                let loops = self
                    .shared
                    .loops
                    .get()
                    .expect("loops are set before running");
                if loops[self.index].is_empty() {
                    break;
                }
            }
            self.flush_delivered();
            if self.stopping && shutdown_deadline.is_none() {
                self.begin_shutdown();
                shutdown_deadline = Some(Instant::now() + Duration::from_secs(2));
            }
        }
        let ids: Vec<usize> = (0..self.conns.len()).collect();
        for i in ids {
            self.close(i);
        }
        Ok(())
    }

    fn begin_shutdown(&mut self) {
        for mut l in self.listeners.drain(..) {
            let _ = match &mut l {
                Listener::Tcp(x) => self.poll.registry().deregister(x),
                Listener::Unix(x, _) => self.poll.registry().deregister(x),
            };
        }
        if self.index == 0 {
            notice!("User requested shutdown...");
        }
        for i in 0..self.conns.len() {
            self.on_writable(i);
        }
    }

    fn on_signal(&mut self) {
        let mut buf = [0u8; 64];
        if let Some(rx) = &mut self.signals {
            while matches!(rx.read(&mut buf), Ok(n) if n > 0) {}
        }
        notice!("Received SIGTERM/SIGINT, scheduling shutdown...");
        self.shared.request_shutdown();
    }

    fn drain_inbox(&mut self) {
        let msgs = {
            let loops = self
                .shared
                .loops
                .get()
                .expect("loops are set before running");
            std::mem::take(
                &mut *loops[self.index]
                    .inbox
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()),
            )
        };
        for m in msgs {
            match m {
                LoopMsg::Accept(sock, meta) => self.add_conn(sock, meta),
                LoopMsg::Kill(id) => {
                    if let Some(&i) = self.ids.get(&id) {
                        self.close(i);
                    }
                }
                LoopMsg::Deliver(batch) => self.deliver(batch),
                LoopMsg::Unblock { client, reply } => self.unblock(client, &reply),
                LoopMsg::Shutdown => self.stopping = true,
            }
        }
    }

    /// Delivers a blocked client's reply and resumes its input.
    fn unblock(&mut self, client: u64, reply: &[u8]) {
        let Some(&i) = self.ids.get(&client) else {
            return;
        };
        let Some(conn) = self.conns[i].as_mut() else {
            return;
        };
        if let Some(b) = conn.client.blocked.take() {
            self.deadlines.remove(&(b.deadline, client));
        }
        conn.client.meta.blocked.store(false, Ordering::Relaxed);
        conn.output.reply.buf.extend_from_slice(reply);
        self.resume(i);
    }

    /// Times out blocked clients whose deadline passed (unless a serving
    /// thread claimed them first: then their reply is on its way).
    fn expire_blocked(&mut self) {
        let now = unix_ms();
        while let Some(&(deadline, client)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            self.deadlines.remove(&(deadline, client));
            let Some(w) = self.shared.blocking.claim(client) else {
                continue;
            };
            let Some(&i) = self.ids.get(&client) else {
                continue;
            };
            let Some(conn) = self.conns[i].as_mut() else {
                continue;
            };
            conn.client.blocked = None;
            conn.client.meta.blocked.store(false, Ordering::Relaxed);
            w.op.timeout_reply(&mut conn.output.reply);
            self.resume(i);
        }
    }

    /// Processes what a client had pipelined behind a command that blocked,
    /// and writes the replies.
    fn resume(&mut self, i: usize) {
        let Some(mut conn) = self.conns.get_mut(i).and_then(Option::take) else {
            return;
        };
        // The reply that resumed it counts against its output limit too.
        let limit = conn.output_limit(&self.shared.hot);
        let checked = conn.output.after_reply(&limit);
        let keep = match checked.and_then(|()| self.process(&mut conn)) {
            Ok(()) => {
                self.track_blocked(&conn);
                match conn.flush(&self.shared.loop_stats[self.index]) {
                    Ok(done) => !(done && conn.ends_after_reply()),
                    Err(_) => false,
                }
            }
            Err(OverLimit) => {
                output_limit_warning(&conn);
                false
            }
        };
        self.conns[i] = Some(conn);
        if !keep {
            self.close(i);
        }
    }

    /// Remembers the deadline of a client that just blocked.
    fn track_blocked(&mut self, conn: &Conn) {
        if let Some(b) = conn.client.blocked {
            if b.deadline != 0 {
                self.deadlines.insert((b.deadline, conn.client.id()));
            }
        }
    }

    /// Appends pub/sub messages to their clients' output and writes it.
    fn deliver(&mut self, batch: Vec<crate::pubsub::Delivery>) {
        for d in batch {
            let Some(&i) = self.ids.get(&d.client) else {
                continue;
            };
            let Some(conn) = self.conns[i].as_mut() else {
                continue;
            };
            if !d.still_subscribed(&conn.client.subs) {
                // Published before the client unsubscribed, delivered after
                // its confirmation: Redis would never send it now.
                continue;
            }
            let limit = conn.output_limit(&self.shared.hot);
            d.write_to(&mut conn.output.reply);
            // The limit is checked per message, so a stalled subscriber's
            // buffer never outgrows it by more than one message.
            if conn.output.after_reply(&limit).is_err() {
                output_limit_warning(conn);
                self.close(i);
                continue;
            }
            if self.delivered.last() != Some(&i) {
                self.delivered.push(i);
            }
        }
    }

    /// Writes out what pub/sub messages added to connections: once per
    /// connection per loop iteration, not once per message.
    fn flush_delivered(&mut self) {
        let mut touched = std::mem::take(&mut self.delivered);
        touched.sort_unstable();
        touched.dedup();
        for i in touched {
            self.on_writable(i);
        }
    }

    fn accept(&mut self, which: usize) {
        loop {
            let accepted = match &self.listeners.get(which) {
                Some(Listener::Tcp(l)) => l.accept().map(|(s, peer)| {
                    let local = s.local_addr().map(|a| a.to_string()).unwrap_or_default();
                    (
                        Sock::Tcp(s),
                        peer.to_string(),
                        local,
                        false,
                        Some(peer.ip()),
                    )
                }),
                Some(Listener::Unix(l, path)) => l.accept().map(|(s, _)| {
                    let p = format!("{}:0", path.display());
                    (Sock::Unix(s), p.clone(), p, true, None)
                }),
                None => return,
            };
            match accepted {
                Ok((sock, addr, laddr, unix, ip)) => self.admit(sock, addr, laddr, unix, ip),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // The peer gave up before we took it: on to the next one.
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(e) if out_of_descriptors(&e) => {
                    warning!("Accepting client connection: {e}");
                    if !self.refuse_one(which) {
                        return;
                    }
                }
                Err(e) => {
                    warning!("Accepting client connection: {e}");
                    return;
                }
            }
        }
    }

    /// Out of descriptors: gives up the spare one for a moment to accept
    /// the next waiting connection and answer it as `maxclients` would, so
    /// that no client waits unanswered (the listener is edge-triggered: a
    /// connection left in its queue is not announced again). True when one
    /// was refused and the spare descriptor is back, so the caller may go
    /// on accepting.
    fn refuse_one(&mut self, which: usize) -> bool {
        let Some(spare) = self.spare_fd.take() else {
            return false;
        };
        drop(spare);
        let refused = match self.listeners.get(which) {
            Some(Listener::Tcp(l)) => l.accept().map(|(mut s, _)| s.write(MAXCLIENTS_ERROR)),
            Some(Listener::Unix(l, _)) => l.accept().map(|(mut s, _)| s.write(MAXCLIENTS_ERROR)),
            None => return false,
        };
        self.spare_fd = std::fs::File::open("/dev/null").ok();
        if refused.is_err() {
            return false;
        }
        self.stats().rejected.fetch_add(1, Ordering::Relaxed);
        self.spare_fd.is_some()
    }

    fn admit(
        &mut self,
        mut sock: Sock,
        addr: String,
        laddr: String,
        unix: bool,
        ip: Option<std::net::IpAddr>,
    ) {
        self.stats().connections.fetch_add(1, Ordering::Relaxed);
        let (maxclients, needs_auth, protected, keepalive) = {
            let c = self.shared.config();
            (
                c.maxclients,
                c.requirepass.is_some(),
                c.protected_mode,
                c.tcp_keepalive,
            )
        };
        if self.shared.client_count() >= maxclients {
            let _ = sock.write(MAXCLIENTS_ERROR);
            self.stats().rejected.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if protected && !needs_auth && ip.is_some_and(|ip| !ip.is_loopback()) {
            let _ = sock.write(PROTECTED_MODE_ERROR.as_bytes());
            self.stats().rejected.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let fd = match &sock {
            Sock::Tcp(s) => {
                let _ = s.set_nodelay(true);
                if keepalive > 0 {
                    let sref = socket2::SockRef::from(s);
                    let ka = socket2::TcpKeepalive::new().with_time(Duration::from_secs(keepalive));
                    let _ = sref.set_tcp_keepalive(&ka);
                }
                std::os::fd::AsRawFd::as_raw_fd(s)
            }
            Sock::Unix(s) => std::os::fd::AsRawFd::as_raw_fd(s),
        };
        let n = self.shared.loop_stats.len();
        let target = self.next_loop % n;
        self.next_loop = self.next_loop.wrapping_add(1);
        let id = self.shared.next_client_id();
        let meta = Arc::new(ClientMeta::new(
            id,
            addr,
            laddr,
            fd,
            unix,
            unix_ms(),
            target,
        ));
        self.shared
            .clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, meta.clone());
        verbose!("Accepted {}", meta.addr);
        if target == self.index {
            self.add_conn(sock, meta);
        } else if let Some(loops) = self.shared.loops.get() {
            loops[target].send(LoopMsg::Accept(sock, meta));
        }
    }

    fn add_conn(&mut self, mut sock: Sock, meta: Arc<ClientMeta>) {
        let authenticated = self.shared.config().requirepass.is_none();
        let i = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        if let Err(e) = sock.register(self.poll.registry(), Token(i)) {
            warning!("Registering client {}: {e}", meta.id);
            self.free.push(i);
            self.forget(&meta);
            return;
        }
        if self.stopping {
            sock.deregister(self.poll.registry());
            self.free.push(i);
            self.forget(&meta);
            return;
        }
        self.ids.insert(meta.id, i);
        self.conns[i] = Some(Box::new(Conn::new(sock, Client::new(meta, authenticated))));
    }

    fn forget(&self, meta: &ClientMeta) {
        self.shared
            .clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&meta.id);
    }

    fn close(&mut self, i: usize) {
        let Some(mut conn) = self.conns.get_mut(i).and_then(Option::take) else {
            return;
        };
        conn.sock.deregister(self.poll.registry());
        if let Some(b) = conn.client.blocked.take() {
            self.shared.blocking.claim(conn.client.id());
            self.deadlines.remove(&(b.deadline, conn.client.id()));
        }
        cmd::pubsub::unsubscribe_all(&mut conn.client, &self.shared);
        cmd::transaction::unwatch_all(&mut conn.client, &self.shared);
        self.ids.remove(&conn.client.id());
        self.forget(&conn.client.meta);
        self.free.push(i);
    }

    /// Serves a readable connection. `read_closed`: the event said the
    /// peer also shut down its sending side, so reading goes on to the
    /// end-of-file even after a short read.
    fn on_readable(&mut self, i: usize, read_closed: bool) {
        let Some(mut conn) = self.conns.get_mut(i).and_then(Option::take) else {
            return;
        };
        // A panic here is a bug; it costs this one connection, never the loop.
        let keep = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.read_and_process(&mut conn, i, read_closed)
        }))
        .unwrap_or_else(|_| {
            warning!(
                "BUG: a panic while serving client {}; closing it",
                conn.client.meta.addr
            );
            false
        });
        self.conns[i] = Some(conn);
        if !keep {
            self.close(i);
        }
    }

    fn on_writable(&mut self, i: usize) {
        let Some(conn) = self.conns.get_mut(i).and_then(Option::as_mut) else {
            return;
        };
        let stats = &self.shared.loop_stats[self.index];
        let done = match conn.flush(stats) {
            Ok(done) => done,
            Err(_) => {
                self.close(i);
                return;
            }
        };
        let closing = conn.ends_after_reply() || conn.client.meta.kill.load(Ordering::Relaxed);
        if done && closing {
            self.close(i);
        }
    }

    /// Reads what is available, runs the requests, writes the replies.
    /// False when the connection must be closed now.
    fn read_and_process(&mut self, conn: &mut Conn, i: usize, read_closed: bool) -> bool {
        let limit = self.shared.hot.query_buffer_limit.load(Ordering::Relaxed) as usize;
        let mut reads = 0;
        while !self.stopping && !conn.ends_after_reply() {
            if conn.client.meta.kill.load(Ordering::Relaxed) {
                return false;
            }
            conn.make_room();
            let room = conn.buf.len() - conn.end;
            match conn.sock.read(&mut conn.buf[conn.end..]) {
                Ok(0) => {
                    // What arrived before the end-of-file has run; its
                    // replies are written below, then the connection ends
                    // (at once for a blocked client, as Redis does).
                    conn.eof = true;
                    if conn.client.blocked.is_some() {
                        return false;
                    }
                    break;
                }
                Ok(n) => {
                    conn.end += n;
                    // A short read drained the socket: the next arrival
                    // raises a new edge, so skip the read that would only
                    // say WouldBlock (one syscall per request saved) —
                    // unless the end-of-file came with the data, which
                    // raises no edge of its own: read on to see it.
                    let drained = n < room && !read_closed;
                    self.stats().net_in.fetch_add(n as u64, Ordering::Relaxed);
                    if self.process(conn).is_err() {
                        output_limit_warning(conn);
                        return false;
                    }
                    self.track_blocked(conn);
                    // What this chunk published leaves now: subscribers get
                    // it sooner and payloads do not pile up in the outbox.
                    crate::pubsub::flush_outbox(&self.shared, self.index);
                    if conn.end - conn.start > limit {
                        warning!(
                            "Closing client {} that reached max query buffer length",
                            conn.client.meta.addr
                        );
                        return false;
                    }
                    if drained {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return false,
            }
            reads += 1;
            if reads == READS_PER_EVENT {
                self.again.push(i);
                break;
            }
        }
        conn.client
            .meta
            .qbuf
            .store(conn.end - conn.start, Ordering::Relaxed);
        match conn.flush(&self.shared.loop_stats[self.index]) {
            Ok(done) => !(done && conn.ends_after_reply()),
            Err(_) => false,
        }
    }

    /// Decodes and executes every complete request in the input buffer.
    /// Stops with `Err` as soon as the replies break the client's output
    /// limit: the connection must then be dropped unwritten.
    fn process(&mut self, conn: &mut Conn) -> Result<(), OverLimit> {
        let now = unix_ms();
        let stats = &self.shared.loop_stats[self.index];
        let mut store = recycle(std::mem::take(&mut self.argv));
        let Conn {
            buf,
            start,
            end,
            decoder,
            decoder_auth,
            output,
            client,
            ..
        } = conn;
        let mut result = Ok(());
        let mut window = 0;
        let mut clock = Instant::now();
        while *start < *end && client.close == Close::No && client.blocked.is_none() {
            if window == 0 {
                let ks = &self.shared.keyspace;
                window = self
                    .prefetcher
                    .run(ks, client.db, &buf[*start..*end])
                    .max(1);
            }
            window -= 1;
            match decoder.decode(&buf[*start..*end]) {
                Ok(None) => break,
                Ok(Some(req)) => {
                    let used = req.consumed();
                    if !req.is_empty() {
                        let mut argv = recycle(store);
                        argv.extend(req.args());
                        let mut env = cmd::Env {
                            shared: &self.shared,
                            stats,
                            plan: &mut self.plan,
                            now,
                            clock,
                        };
                        execute(&argv, client, &mut output.reply, &mut env);
                        clock = env.clock;
                        store = recycle(argv);
                    }
                    *start += used;
                    if client.authenticated != *decoder_auth {
                        *decoder_auth = client.authenticated;
                        decoder.set_limits(limits_for(client.authenticated));
                    }
                    let limit =
                        OutputLimit::of(&self.shared.hot.output_limits, client.subs.active());
                    result = output.after_reply(&limit);
                    if result.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    stats.count_error();
                    protocol_error(&e).write_to(&mut output.reply.buf);
                    verbose!("Protocol error ({e}) from client {}", client.meta.addr);
                    client.close = Close::AfterReply;
                    *start = *end;
                }
            }
        }
        client.meta.last_ms.store(now, Ordering::Relaxed);
        self.argv = recycle(store);
        result
    }

    /// Periodic work: active expiry of this loop's share of shards, idle
    /// client timeouts.
    fn cron(&mut self) {
        let now = unix_ms();
        let n = self.shared.loop_stats.len();
        let ks = &self.shared.keyspace;
        let started = Instant::now();
        let total = ks.databases() * crate::db::SHARDS;
        let mut expired = 0u64;
        if self.index == 0 {
            self.shared.sample_ops();
        }
        let active = self.shared.active_expire.load(Ordering::Relaxed);
        // Visit our shards (every n-th), a bounded slice of work per tick:
        // at most ~1 ms, resuming where we stopped.
        let ours = (total + n - 1 - self.index) / n;
        for visited in (1..=ours).take_while(|_| active) {
            let idx = self.expire_shard;
            self.expire_shard += n;
            if self.expire_shard >= total {
                self.expire_shard = self.index;
            }
            let (db, shard) = (idx / crate::db::SHARDS, idx % crate::db::SHARDS);
            let mut s = ks.db(db).lock(shard);
            if s.volatile() > 0 {
                expired += s.expire_cycle(now, 200).expired as u64;
            }
            let events = s.take_events();
            drop(s);
            if !events.is_empty() {
                let events = events.into_iter().map(|(e, k)| (db, e, k)).collect();
                crate::notify::publish_logged(&self.shared, events);
            }
            if visited % 64 == 0 && started.elapsed() > Duration::from_millis(1) {
                break;
            }
        }
        if expired > 0 {
            self.stats().expired.fetch_add(expired, Ordering::Relaxed);
        }
        let peaks = &self.shared.client_peaks;
        peaks.clear_next(now);
        for c in self.conns.iter().flatten() {
            peaks.note(now, (c.end - c.start) as u64, c.output.pending() as u64);
        }
        let timeout = self.shared.config().timeout;
        if timeout > 0 {
            let idle: Vec<usize> = self
                .conns
                .iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    let c = c.as_ref()?;
                    let last = c.client.meta.last_ms.load(Ordering::Relaxed);
                    (now.saturating_sub(last) > timeout * 1000 && c.client.multi.is_none())
                        .then_some(i)
                })
                .collect();
            for i in idle {
                verbose!("Closing idle client");
                self.close(i);
            }
        }
    }
}

/// Logs a client dropped for its output, in Redis's words.
fn output_limit_warning(conn: &Conn) {
    warning!(
        "Client {} closed for overcoming of output buffer limits.",
        conn.client.meta.addr
    );
}

/// The reply to a protocol error: Redis's words, with the offending byte
/// as sent (not re-encoded), CR/LF made harmless by the error writer.
pub(crate) fn protocol_error(e: &soquete_resp::Error) -> CmdError {
    let mut line = b"ERR Protocol error: ".to_vec();
    e.write_message(&mut line);
    CmdError::Line(line)
}

/// Runs one request: resolves the command, checks authentication, queues it
/// inside MULTI, or runs it.
pub(crate) fn execute(
    argv: &[&[u8]],
    client: &mut Client,
    out: &mut Reply,
    env: &mut cmd::Env<'_>,
) {
    let (shared, stats) = (env.shared, env.stats);
    stats.commands.fetch_add(1, Ordering::Relaxed);
    let reject = |client: &mut Client, out: &mut Reply, e: CmdError| {
        stats.count_error();
        if argv[0].eq_ignore_ascii_case(b"exec") {
            // Redis's execCommandAbort: a refused EXEC ends the transaction.
            client.multi = None;
            client.meta.multi.store(false, Ordering::Relaxed);
            cmd::transaction::unwatch_all(client, shared);
            let mut line = b"EXECABORT Transaction discarded because of: ".to_vec();
            let mut text = Vec::new();
            e.write_to(&mut text);
            let text = text
                .get(1..text.len().saturating_sub(2))
                .unwrap_or_default();
            // Errors Redis formats on the spot carry no code word here;
            // shared error objects (NOAUTH) keep theirs.
            line.extend_from_slice(text.strip_prefix(b"ERR ").unwrap_or(text));
            out.error(&CmdError::Line(line));
            return;
        }
        if let Some(m) = &mut client.multi {
            m.dirty = true;
        }
        out.error(&e);
    };
    let r = match cmd::resolve(argv) {
        Ok(r) => r,
        Err(e) => return reject(client, out, e),
    };
    client.meta.last_cmd.store(r.id, Ordering::Relaxed);
    if !client.authenticated && !r.spec.has(cmd::flags::NO_AUTH) {
        if shared.config().requirepass.is_some() {
            return reject(client, out, CmdError::NoAuth);
        }
        client.authenticated = true;
    }
    if !out.resp3 && client.subs.active() {
        let name = r.parent.unwrap_or(r.spec).name;
        if !cmd::pubsub::allowed_when_subscribed(name) {
            return reject(
                client,
                out,
                CmdError::msg(format!(
                    "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                    r.full_name()
                )),
            );
        }
    }
    if let Some(m) = &mut client.multi {
        if !cmd::transaction::controls_multi(r.spec) {
            m.queue.push(crate::client::Queued {
                argv: argv.iter().map(|a| a.to_vec()).collect(),
            });
            out.buf.extend_from_slice(b"+QUEUED\r\n");
            return;
        }
    }
    cmd::call(&r, argv, out, client, env);
}

/// What a client past `maxclients` is told before it is closed.
const MAXCLIENTS_ERROR: &[u8] = b"-ERR max number of clients reached\r\n";

/// True for "too many open files", in this process or in the system.
fn out_of_descriptors(e: &io::Error) -> bool {
    use rustix::io::Errno;
    matches!(Errno::from_io_error(e), Some(Errno::MFILE | Errno::NFILE))
}

/// What Redis replies to a non-loopback client in protected mode.
const PROTECTED_MODE_ERROR: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

#[cfg(test)]
mod tests {
    use super::{recycle, Prefetcher, PREFETCH_KEYS, PREFETCH_SCAN_MAX, PREFETCH_WINDOW};
    use crate::db::{hash_key, Keyspace};

    fn get(key: &str) -> Vec<u8> {
        format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len()).into_bytes()
    }

    fn prefetched(input: &[u8]) -> Vec<u64> {
        prefetched_counted(input).0
    }

    /// The hashes the prefetcher took, and how many requests it covered.
    fn prefetched_counted(input: &[u8]) -> (Vec<u64>, usize) {
        let ks = Keyspace::new(1);
        let mut p = Prefetcher::default();
        let seen = p.run(&ks, 0, input);
        for &(h, from, to) in &p.keys {
            if to > from {
                assert_eq!(hash_key(&input[from..to]), h, "the span is the key's");
            }
        }
        (p.keys.iter().map(|k| k.0).collect(), seen)
    }

    #[test]
    fn prefetcher_finds_the_keys_of_complete_requests() {
        let keys = ["key:000000000001", "key:000000000002", "key:000000000003"];
        let mut input: Vec<u8> = keys.iter().flat_map(|k| get(k)).collect();
        input.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$16\r\nkey:0000"); // still arriving
        let want: Vec<u64> = keys.iter().map(|k| hash_key(k.as_bytes())).collect();
        assert_eq!(prefetched(&input), want);
        // Inline commands and keyless ones (PING) count as requests too.
        let mut input = b"PING\r\nGET \"a b\"\r\n".to_vec();
        input.extend(get("key:000000000001"));
        input.extend(get("key:000000000002"));
        input.extend(get("key:000000000003"));
        assert_eq!(
            prefetched(&input),
            vec![
                hash_key(b"a b"),
                hash_key(b"key:000000000001"),
                hash_key(b"key:000000000002"),
                hash_key(b"key:000000000003")
            ]
        );
    }

    fn command(args: &[&str]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend(format!("${}\r\n{a}\r\n", a.len()).into_bytes());
        }
        out
    }

    #[test]
    fn prefetcher_takes_multi_key_commands_keys_from_the_table() {
        let mut input = command(&["MSET", "k1", "v1", "k2", "v2", "k3", "v3"]);
        input.extend(command(&["MGET", "k4", "k5", "k6", "k7"]));
        // Odd arity and unknown commands: nothing, and no panic.
        input.extend(command(&["MSET", "k8", "v8", "k9"]));
        input.extend(command(&["NOSUCH", "a", "b", "c"]));
        input.extend(command(&["SET", "k10", "v", "EX", "100"]));
        let want: Vec<u64> = ["k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10"]
            .iter()
            .map(|k| hash_key(k.as_bytes()))
            .collect();
        assert_eq!(prefetched(&input), want);
        // A huge MGET stops at the key limit.
        let keys: Vec<String> = (0..200).map(|i| format!("k{i}")).collect();
        let mut args = vec!["MGET"];
        args.extend(keys.iter().map(String::as_str));
        assert_eq!(prefetched(&command(&args)).len(), PREFETCH_KEYS);
        // A window of MSETs ends where the key limit does, and says so: the
        // loop asks again after those requests.
        let input: Vec<u8> = (0..20)
            .flat_map(|i| {
                let k: Vec<String> = (0..10).map(|j| format!("k{i}-{j}")).collect();
                let mut args = vec!["MSET"];
                for k in &k {
                    args.extend([k.as_str(), "v"]);
                }
                command(&args)
            })
            .collect();
        let (keys, seen) = prefetched_counted(&input);
        assert_eq!(
            (keys.len(), seen),
            (PREFETCH_KEYS, PREFETCH_KEYS.div_ceil(10))
        );
    }

    #[test]
    fn prefetcher_work_is_bounded() {
        // At most a window of requests.
        let input: Vec<u8> = (0..PREFETCH_WINDOW + 10)
            .flat_map(|i| get(&format!("key:{i:012}")))
            .collect();
        assert_eq!(prefetched(&input).len(), PREFETCH_WINDOW);
        // Nothing for a lone small request, and no second look at it.
        assert_eq!(
            prefetched_counted(&get("key:000000000001")),
            (vec![], PREFETCH_WINDOW)
        );
        // A request larger than the scan limit is not parsed to its end.
        let big = format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n", PREFETCH_SCAN_MAX);
        let mut input = big.into_bytes();
        input.resize(input.len() + PREFETCH_SCAN_MAX + 2, b'x');
        assert!(prefetched(&input).is_empty());
        // Garbage stops it quietly.
        assert!(prefetched(&[b'*'; 200]).is_empty());
        assert!(prefetched(&[0u8; 200]).is_empty());
    }

    #[test]
    fn recycle_keeps_the_allocation() {
        let mut v: Vec<&[u8]> = Vec::with_capacity(64);
        v.push(b"x");
        let ptr = v.as_ptr() as usize;
        let w: Vec<&[u8]> = recycle(v);
        assert!(w.is_empty());
        assert_eq!(w.capacity(), 64);
        assert_eq!(w.as_ptr() as usize, ptr);
    }
}
