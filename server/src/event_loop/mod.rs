//! The event loops: threads that own their connections outright.
//!
//! Each loop is a thread with its own mio `Poll`. Loop 0 also owns the
//! listeners (and the signal pipe) and hands accepted sockets round-robin to
//! every loop through the loops' inboxes ([`crate::inbox`]). Other threads
//! reach a loop only through its inbox and `Waker`.
//!
//! A readable connection is read in chunks; after every chunk, its
//! [`Connection`] runs all complete requests (arguments are slices of the
//! input buffer) and appends their replies to its output, which is written
//! once per batch. Sockets are registered for both readiness kinds once
//! (edge-triggered), so steady-state traffic costs no `epoll_ctl` calls.

mod accept;
mod conn;

use std::io::{self, Read};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::UnixStream;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::connection::output::OverLimit;
use crate::connection::Scratch;
use crate::inbox::{LoopHandle, LoopMsg};
use crate::pause::PauseKind;
use crate::server::Listener;
use crate::shared::{unix_ms, LoopStats, Shared};
use crate::{notice, verbose, warning};
use conn::Conn;
pub use conn::Sock;

/// A client that sent nothing for longer than this has its input buffer
/// cut to what is pending (Redis: idle for more than 2 seconds).
const IDLE_MS: u64 = 2000;

/// Reads per readiness event before other connections get a turn.
const READS_PER_EVENT: usize = 16;

const WAKER: Token = Token(usize::MAX);
const SIGNALS: Token = Token(usize::MAX - 1);
const LISTENER_BASE: usize = usize::MAX - 1024;

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
    /// Clients whose command CLIENT PAUSE holds, by id.
    postponed: std::collections::HashSet<u64, ahash::RandomState>,
    /// The strictest pause the held clients saw: they run again once the
    /// pause in force is less strict.
    postponed_under: PauseKind,
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
    /// Connections whose replies wait for the append-only file: written
    /// once this iteration's commands are in the log (one write, and one
    /// sync with `appendfsync always`, for all of them, as Redis's
    /// `beforeSleep` does).
    awaiting_log: Vec<usize>,
    scratch: Scratch,
    expire_shard: usize,
    /// The second (Unix) of the last resize of input buffers.
    resized_second: u64,
    stopping: bool,
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
        handles.push(LoopHandle::new(Waker::new(poll.registry(), WAKER)?));
        polls.push(poll);
    }
    if !shared.install_loops(handles) {
        return Err(io::Error::other("this server is already running"));
    }
    crate::cmd::server::memory::note_startup();
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
            postponed: Default::default(),
            postponed_under: PauseKind::Off,
            delivered: Vec::new(),
            listeners: Vec::new(),
            signals: None,
            spare_fd: None,
            next_loop: 0,
            again: Vec::new(),
            awaiting_log: Vec::new(),
            scratch: Scratch::default(),
            expire_shard: index,
            resized_second: 0,
            stopping: false,
        })
        .collect();
    let first = &mut loops[0];
    first.spare_fd = Some(std::fs::File::open("/dev/null")?);
    for (i, mut l) in listeners.into_iter().enumerate() {
        let t = Token(LISTENER_BASE + i);
        match &mut l {
            Listener::Tcp(x) | Listener::Tls(x) => {
                first.poll.registry().register(x, t, Interest::READABLE)?
            }
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
    // Loop 0 runs on this thread: INFO's main-thread CPU time is its.
    if let Some(stat) = crate::util::proc::thread_stat_path() {
        let _ = first.shared.main_thread_stat.set(stat);
    }
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

    fn run(self) -> io::Result<()> {
        crate::script::busy::set_loop_index(self.index);
        // While a script of this loop is busy, its hook hands the
        // connections dealt to this loop to the others and (loop 0, which
        // owns the listeners) accepts new ones for them.
        let mut acceptor = if self.listeners.is_empty() {
            None
        } else {
            Some(accept::BusyAcceptor::new(
                self.shared.clone(),
                &self.listeners,
            )?)
        };
        let (shared, index, mut next) = (self.shared.clone(), self.index, self.index + 1);
        crate::script::busy::set_acceptor(Some(Box::new(move || {
            if let Some(a) = &mut acceptor {
                a.accept_waiting();
            }
            accept::redirect_pending(&shared, index, &mut next);
        })));
        let result = self.run_events();
        crate::script::busy::set_acceptor(None);
        result
    }

    fn run_events(mut self) -> io::Result<()> {
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
            // Redis's eviction timer: the first loop evicts a slice per
            // iteration, between its clients' commands, while memory is
            // over `maxmemory` with no command to trigger eviction.
            if self.index == 0 && crate::evict::pending() {
                crate::evict::timer(&self.shared, &mut self.scratch.outbox, unix_ms());
                if crate::evict::pending() {
                    timeout = Duration::ZERO;
                }
            }
            if let Some(&(deadline, _)) = self.deadlines.first() {
                let wait = deadline.saturating_sub(unix_ms());
                timeout = timeout.min(Duration::from_millis(wait));
            }
            if !self.postponed.is_empty() {
                // Wake when the pause ends (just after its last ms).
                if let Some(end) = self.shared.pause.end_ms() {
                    let wait = (end + 1).saturating_sub(unix_ms());
                    timeout = timeout.min(Duration::from_millis(wait));
                }
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
                if self
                    .conns
                    .iter()
                    .flatten()
                    .all(|c| c.conn.output.is_empty())
                    || Instant::now() >= d
                {
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
                            if self.shared.persist.aof.on() {
                                // Written with the others once the log
                                // holds this iteration's commands.
                                self.awaiting_log.push(i);
                            } else {
                                self.on_writable(i);
                            }
                        }
                    }
                }
            }
            for i in std::mem::take(&mut self.again) {
                self.on_readable(i, false);
            }
            self.release_awaiting_log();
            // Send what this iteration's commands published (one message
            // and one wake-up per loop), then take what others and this loop
            // itself queued, until nothing is left: a client resumed here
            // may publish again.
            loop {
                self.flush_outbox();
                self.drain_inbox();
                self.expire_blocked();
                self.release_postponed();
                self.flush_outbox();
                if self.inbox().is_empty() {
                    break;
                }
            }
            self.flush_delivered();
            // Connections first read in this iteration's inbox work.
            self.release_awaiting_log();
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
                Listener::Tcp(x) | Listener::Tls(x) => self.poll.registry().deregister(x),
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
        if crate::persist::prepare_shutdown(&self.shared, false, false, false).is_ok() {
            self.shared.request_shutdown();
        } else {
            warning!("SIGTERM received but errors trying to shut down the server, check the logs for more information");
        }
    }

    /// Sends what this loop's commands published: one message per loop,
    /// no wake-up for this one (it drains its own inbox after every batch).
    fn flush_outbox(&mut self) {
        if !self.scratch.outbox.is_empty() {
            let loops = self.shared.loops();
            self.scratch.outbox.flush(loops, Some(self.index));
        }
    }

    /// This loop's inbox.
    fn inbox(&self) -> &LoopHandle {
        &self.shared.loops().expect("loops are set before running")[self.index]
    }

    fn drain_inbox(&mut self) {
        for m in self.inbox().take() {
            match m {
                LoopMsg::Accept(sock, meta) => self.add_conn(sock, meta),
                LoopMsg::Kill(id) => {
                    if let Some(&i) = self.ids.get(&id) {
                        self.close(i);
                    }
                }
                LoopMsg::Deliver(batch) => self.deliver(batch),
                LoopMsg::Monitor(lines) => self.deliver_monitor(lines),
                LoopMsg::Tracking(notes) => self.deliver_tracking(notes),
                LoopMsg::Unblock { client, reply } => self.unblock(client, &reply),
                LoopMsg::Unpause => {} // release_postponed runs next
                LoopMsg::Shutdown => self.stopping = true,
            }
        }
    }

    /// Delivers a blocked client's reply and resumes its input.
    fn unblock(&mut self, client: u64, reply: &[u8]) {
        let Some((i, conn)) = conn_of(&self.ids, &mut self.conns, client) else {
            return;
        };
        if let Some(b) = conn.conn.client.blocked.take() {
            self.deadlines.remove(&(b.deadline, client));
        }
        conn.conn
            .client
            .meta
            .blocked
            .store(false, Ordering::Relaxed);
        let mark = conn.conn.output.reply.buf.len();
        conn.conn.output.reply.buf.extend_from_slice(reply);
        // The blocked command is complete: CLIENT REPLY applies now.
        conn.conn
            .client
            .settle_reply(&mut conn.conn.output.reply.buf, mark);
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
            let Some((i, conn)) = conn_of(&self.ids, &mut self.conns, client) else {
                continue;
            };
            conn.conn.client.blocked = None;
            conn.conn
                .client
                .meta
                .blocked
                .store(false, Ordering::Relaxed);
            let mark = conn.conn.output.reply.buf.len();
            w.op.timeout_reply(&mut conn.conn.output.reply);
            conn.conn
                .client
                .settle_reply(&mut conn.conn.output.reply.buf, mark);
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
        let limit = conn.conn.output_limit(&self.shared);
        let checked = conn.conn.output.after_reply(&limit);
        let stats = &self.shared.loop_stats[self.index];
        let ran = checked.and_then(|()| conn.conn.run(&self.shared, stats, &mut self.scratch));
        // The log holds what these commands changed before their replies
        // leave.
        self.shared.persist.aof.flush_mine();
        let input = &conn.conn.input;
        conn.conn.client.meta.set_input(input.len(), input.free());
        let keep = match ran {
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

    /// Runs again the clients CLIENT PAUSE held, once the pause in force
    /// is less strict than the one they saw (ended, or ALL became WRITE);
    /// those it still holds are held again.
    fn release_postponed(&mut self) {
        if self.postponed.is_empty() {
            return;
        }
        let now = self.shared.pause.current(unix_ms());
        if now >= self.postponed_under {
            return;
        }
        self.postponed_under = PauseKind::Off;
        let ids: Vec<u64> = self.postponed.drain().collect();
        for id in ids {
            let Some((i, conn)) = conn_of(&self.ids, &mut self.conns, id) else {
                continue;
            };
            conn.conn.client.postponed = false;
            conn.conn
                .client
                .meta
                .blocked
                .store(false, Ordering::Relaxed);
            self.resume(i);
        }
    }

    /// Remembers the deadline of a client that just blocked, or that
    /// CLIENT PAUSE holds it.
    fn track_blocked(&mut self, conn: &Conn) {
        if conn.conn.client.postponed && self.postponed.insert(conn.conn.client.id()) {
            let kind = self.shared.pause.current(unix_ms());
            self.postponed_under = self.postponed_under.max(kind.max(PauseKind::Write));
        }
        if let Some(b) = conn.conn.client.blocked {
            if b.deadline != 0 {
                self.deadlines.insert((b.deadline, conn.conn.client.id()));
            }
        }
    }

    /// Appends pub/sub messages to their clients' output and writes it.
    fn deliver(&mut self, batch: Vec<crate::pubsub::Delivery>) {
        for d in batch {
            let Some((i, conn)) = conn_of(&self.ids, &mut self.conns, d.client) else {
                continue;
            };
            conn.client()
                .meta
                .inflight
                .fetch_sub(d.size(), Ordering::Relaxed);
            if !d.still_subscribed(&conn.conn.client.subs) {
                // Published before the client unsubscribed, delivered after
                // its confirmation: Redis would never send it now.
                continue;
            }
            let limit = conn.conn.output_limit(&self.shared);
            d.write_to(&mut conn.conn.output.reply);
            // The limit is checked per message, so a stalled subscriber's
            // buffer never outgrows it by more than one message.
            if conn.conn.output.after_reply(&limit).is_err() {
                output_limit_warning(conn);
                self.close(i);
                continue;
            }
            if self.delivered.last() != Some(&i) {
                self.delivered.push(i);
            }
        }
    }

    /// Appends tracking invalidations to their receivers' output, framed
    /// for each receiver's protocol as Redis's `sendTrackingMessage`.
    fn deliver_tracking(&mut self, notes: Vec<crate::tracking::Note>) {
        for n in notes {
            let Some((i, conn)) = conn_of(&self.ids, &mut self.conns, n.client()) else {
                continue;
            };
            let c = &mut conn.conn;
            let (resp3, subscribed) = (c.output.reply.resp3, c.client.subs.active());
            let broken = n.write_to(&mut c.output.reply.buf, resp3, subscribed);
            if broken {
                if let Some(t) = c.client.tracking.as_deref_mut() {
                    t.broken = true;
                    c.client.meta.show_tracking(Some(t));
                }
            }
            let limit = c.output_limit(&self.shared);
            if c.output.after_reply(&limit).is_err() {
                output_limit_warning(conn);
                self.close(i);
                continue;
            }
            if self.delivered.last() != Some(&i) {
                self.delivered.push(i);
            }
        }
    }

    /// Appends MONITOR lines to their monitors' output (written with the
    /// pub/sub messages, once per connection).
    fn deliver_monitor(&mut self, lines: Vec<(u64, std::sync::Arc<[u8]>)>) {
        for (id, line) in lines {
            let Some((i, conn)) = conn_of(&self.ids, &mut self.conns, id) else {
                continue;
            };
            if !conn.conn.client.monitor {
                // Queued before the client left MONITOR mode (RESET).
                continue;
            }
            let limit = conn.conn.output_limit(&self.shared);
            conn.conn.output.reply.buf.extend_from_slice(&line);
            if conn.conn.output.after_reply(&limit).is_err() {
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

    fn close(&mut self, i: usize) {
        let Some(mut conn) = self.conns.get_mut(i).and_then(Option::take) else {
            return;
        };
        conn.sock.close();
        conn.sock.deregister(self.poll.registry());
        if let Some(b) = conn.client().blocked {
            self.deadlines.remove(&(b.deadline, conn.client().id()));
        }
        conn.conn.disconnect(&self.shared);
        self.postponed.remove(&conn.client().id());
        self.ids.remove(&conn.client().id());
        self.forget(&conn.conn.client.meta);
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
                conn.conn.client.meta.addr
            );
            false
        });
        self.conns[i] = Some(conn);
        if !keep {
            self.close(i);
        }
    }

    fn on_writable(&mut self, i: usize) {
        // Nothing leaves before the log holds what this loop's commands
        // changed (a no-op unless the append-only file is on and this
        // loop appended since its last write of the log).
        self.shared.persist.aof.flush_mine();
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
        let closing = conn.ends_after_reply() || conn.conn.client.meta.kill.load(Ordering::Relaxed);
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
            if conn.conn.client.meta.kill.load(Ordering::Relaxed) {
                return false;
            }
            crate::stats::bump(&self.stats().reads, 1);
            match conn.read() {
                Ok((0, _)) => {
                    // What arrived before the end-of-file has run; its
                    // replies are written below, then the connection ends
                    // (at once for a blocked client, as Redis does).
                    conn.eof = true;
                    if conn.conn.client.blocked.is_some() {
                        return false;
                    }
                    break;
                }
                Ok((n, drained)) => {
                    // A short read drained the socket: the next arrival
                    // raises a new edge, so skip the read that would only
                    // say WouldBlock (one syscall per request saved) —
                    // unless the end-of-file came with the data, which
                    // raises no edge of its own: read on to see it.
                    let drained = drained && !read_closed;
                    self.stats().net_in.fetch_add(n as u64, Ordering::Relaxed);
                    let stats = &self.shared.loop_stats[self.index];
                    let ran = conn.conn.run(&self.shared, stats, &mut self.scratch);
                    if ran.is_err() {
                        output_limit_warning(conn);
                        return false;
                    }
                    self.track_blocked(conn);
                    // What this chunk published leaves now: subscribers get
                    // it sooner and payloads do not pile up in the outbox.
                    self.flush_outbox();
                    if conn.conn.input.len() > limit {
                        warning!(
                            "Closing client {} that reached max query buffer length",
                            conn.conn.client.meta.addr
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
        let input = &conn.conn.input;
        conn.client().meta.set_input(input.len(), input.free());
        if self.shared.persist.aof.on() {
            // The replies leave once the log holds these commands (at the
            // end of this iteration), together with everyone else's.
            self.awaiting_log.push(i);
            return true;
        }
        match conn.flush(&self.shared.loop_stats[self.index]) {
            Ok(done) => !(done && conn.ends_after_reply()),
            Err(_) => false,
        }
    }

    /// Puts what this loop's commands appended into the append-only file
    /// (synced with `appendfsync always`), then writes the replies that
    /// waited for it.
    fn release_awaiting_log(&mut self) {
        if self.awaiting_log.is_empty() {
            return;
        }
        self.shared.persist.aof.flush_mine();
        for i in std::mem::take(&mut self.awaiting_log) {
            self.on_writable(i);
        }
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
            crate::evict::cron(now);
            crate::persist::cron(&self.shared);
            // Redis closes idle MIGRATE connections in its cron.
            self.shared.migrate.close_idle(now / 1000);
        }
        // A pause keeps the dataset as it is (and ends here when its time
        // is up, if no command noticed).
        let paused = self.shared.pause.active() && self.shared.pause.current(now) != PauseKind::Off;
        let active = self.shared.active_expire() && !paused;
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
            // A shard someone holds (a long script, a big command) is left
            // for the next round: the cron never waits for a shard.
            let Some(mut s) = ks.db(db).try_lock(shard) else {
                continue;
            };
            if s.volatile() > 0 {
                expired += s.expire_cycle(now, 200).expired as u64;
            }
            let events = s.take_events();
            if self.shared.persist.aof.on() && !events.is_empty() {
                // Logged with the shard still locked, so a write of the
                // same key on another loop is logged after the DEL.
                let dels: Vec<_> = events
                    .iter()
                    .filter(|(e, _)| *e == crate::db::KeyEvent::Expired)
                    .map(|(_, k)| crate::persist::aof::Record::new(db, &[b"DEL", k]))
                    .collect();
                self.shared.persist.aof.append(&dels, false);
            }
            drop(s);
            if !events.is_empty() {
                let events = events.into_iter().map(|(e, k)| (db, e, k)).collect();
                crate::notify::publish_logged(&self.shared, &mut self.scratch.outbox, events);
            }
            if visited % 64 == 0 && started.elapsed() > Duration::from_millis(1) {
                break;
            }
        }
        if self.index == 0 && self.shared.blocking.group_readers() > 0 {
            crate::cmd::blocking::unblock_vanished_group_readers(&self.shared, self.stats(), now);
        }
        if crate::tracking::active() {
            // What expiry removed, told to the clients that cache it.
            let shared = &*self.shared;
            let own = shared
                .tracking
                .invalidate(shared, &mut self.scratch.outbox, 0);
            debug_assert!(own.is_empty(), "no client has id 0");
        }
        if active {
            // The clock was read anyway: the cycle samples itself for
            // LATENCY as Redis's does.
            let ms = started.elapsed().as_millis() as u64;
            self.shared.latency.sample("expire-cycle", ms);
        }
        if expired > 0 {
            self.stats().expired.fetch_add(expired, Ordering::Relaxed);
        }
        let peaks = self.shared.client_peaks();
        peaks.clear_next(now);
        let mut clients_memory = 0u64;
        // Input buffers are resized once a second, as Redis's clientsCron
        // visits each client about once a second.
        let resize = now / 1000 != self.resized_second;
        self.resized_second = now / 1000;
        for c in self.conns.iter_mut().flatten() {
            peaks.note(
                now,
                c.conn.input.len() as u64,
                c.conn.output.pending() as u64,
            );
            clients_memory += c.conn.client.meta.memory();
            if resize {
                let meta = &c.conn.client.meta;
                let idle = now.saturating_sub(meta.last_ms.load(Ordering::Relaxed)) > IDLE_MS;
                // With nothing pending no request is under way (the
                // decoder's 1 byte is only a lower bound).
                let request = if c.conn.input.is_empty() {
                    0
                } else {
                    c.conn.request_len()
                };
                let input = &mut c.conn.input;
                input.resize_periodically(idle, request);
                meta.set_input(input.len(), input.free());
            }
        }
        crate::client_eviction::check(&self.shared, self.index, clients_memory);
        let timeout = self.shared.config().timeout;
        if timeout > 0 {
            let idle: Vec<usize> = self
                .conns
                .iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    let c = c.as_ref()?;
                    let last = c.conn.client.meta.last_ms.load(Ordering::Relaxed);
                    (now.saturating_sub(last) > timeout * 1000 && c.conn.client.multi.is_none())
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
        conn.conn.client.meta.addr
    );
}

/// The connection of client `id`, if it is one of the loop's (`ids`
/// indexes `conns`): its index and itself. A function of the two fields,
/// not a method, so that the loop's other fields stay free to borrow.
fn conn_of<'a>(
    ids: &std::collections::HashMap<u64, usize, ahash::RandomState>,
    conns: &'a mut [Option<Box<Conn>>],
    id: u64,
) -> Option<(usize, &'a mut Conn)> {
    let i = *ids.get(&id)?;
    Some((i, conns.get_mut(i)?.as_deref_mut()?))
}
