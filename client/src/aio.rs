//! The async multiplexed client (feature `tokio`).
//!
//! # How it works
//!
//! ```text
//!  task ─┐  lock; encode request into `out`; push its reply slot; unlock; wake driver
//!  task ─┼─────────────────────────────▶ Shared { out: Vec<u8>, queued: Vec<Slot> }
//!  task ─┘                                           │ driver swaps both out at once
//!                                                    ▼
//!        driver task: one write() of the whole batch; slots move to the in-flight FIFO;
//!        reads replies, decodes them, pops the FIFO front and completes its slot
//! ```
//!
//! Every request waiting at a moment goes out in the same write (automatic
//! pipelining); replies are matched in FIFO order. A semaphore bounds the
//! requests in flight: past [`Config::max_in_flight`] a caller waits.
//! When the connection dies, every request in flight gets
//! [`Error::ConnectionLost`] (the caller resends those that are safe to resend),
//! requests still queued go out on the next connection, and the driver
//! connects again with backoff.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{ready, Context, Poll, Waker};

use bytes::BytesMut;
use soquete_resp::{Decoder, Frame};
use tokio::sync::{oneshot, Semaphore};

use crate::args::ToArgs;
use crate::blocking::refuse_on_multiplexed;
use crate::cmd::{write_array_header, ArgCounter, BulkWriter, Cmd};
use crate::config::{Addr, Config, IntoConfig, Protocol};
use crate::conn::handshake;
use crate::error::{Error, Result};
use crate::pipeline::Pipeline;
use crate::pubsub::{
    expected_confirmations, parse_event, Event, Family, KeyspaceEvent, Message, Subscriptions,
};
use crate::value::FromValue;
use crate::AsyncConnection;

// ---------------------------------------------------------------- the socket

/// A tokio socket, TCP or Unix.
pub(crate) enum AsyncStream {
    Tcp(tokio::net::TcpStream),
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
}

impl AsyncStream {
    async fn connect(cfg: &Config) -> Result<AsyncStream> {
        let fut = async {
            match &cfg.addr {
                Addr::Tcp { host, port } => {
                    let s = tokio::net::TcpStream::connect((host.as_str(), *port)).await?;
                    s.set_nodelay(true)?;
                    Ok(AsyncStream::Tcp(s))
                }
                #[cfg(unix)]
                Addr::Unix(p) => Ok(AsyncStream::Unix(tokio::net::UnixStream::connect(p).await?)),
                #[cfg(not(unix))]
                Addr::Unix(_) => Err(Error::Client("Unix sockets need a Unix system".into())),
            }
        };
        match cfg.connect_timeout {
            Some(t) => tokio::time::timeout(t, fut).await.map_err(|_| {
                Error::Io(io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))
            })?,
            None => fut.await,
        }
    }

    /// Reads what is available into `buf` (0 means end of stream).
    fn poll_read_buf(&self, cx: &mut Context<'_>, buf: &mut BytesMut) -> Poll<io::Result<usize>> {
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(64 * 1024);
        }
        loop {
            let r = match self {
                AsyncStream::Tcp(s) => {
                    ready!(s.poll_read_ready(cx))?;
                    s.try_read_buf(buf)
                }
                #[cfg(unix)]
                AsyncStream::Unix(s) => {
                    ready!(s.poll_read_ready(cx))?;
                    s.try_read_buf(buf)
                }
            };
            match r {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                r => return Poll::Ready(r),
            }
        }
    }

    fn poll_write(&self, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        loop {
            let r = match self {
                AsyncStream::Tcp(s) => {
                    ready!(s.poll_write_ready(cx))?;
                    s.try_write(b)
                }
                #[cfg(unix)]
                AsyncStream::Unix(s) => {
                    ready!(s.poll_write_ready(cx))?;
                    s.try_write(b)
                }
            };
            match r {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                r => return Poll::Ready(r),
            }
        }
    }
}

/// A connected, set-up async connection.
pub(crate) struct AsyncConn {
    stream: AsyncStream,
    rbuf: BytesMut,
    decoder: Decoder,
    pub(crate) protocol: Protocol,
}

impl AsyncConn {
    pub(crate) async fn open(cfg: &Config) -> Result<AsyncConn> {
        let stream = AsyncStream::connect(cfg).await?;
        let mut c = AsyncConn {
            stream,
            rbuf: BytesMut::with_capacity(64 * 1024),
            decoder: Decoder::new(),
            protocol: Protocol::Resp2,
        };
        let hs = async {
            let mut hello_done = false;
            if let Some(h) = handshake::hello(cfg) {
                c.write_all(&h.to_packed()).await?;
                hello_done = handshake::hello_outcome(c.read_frame().await?)?;
                if hello_done {
                    c.protocol = Protocol::Resp3;
                }
            }
            let setup = handshake::setup(cfg, hello_done);
            if !setup.is_empty() {
                let mut out = Vec::new();
                for s in &setup {
                    s.write_packed(&mut out);
                }
                c.write_all(&out).await?;
                let mut first = None;
                for _ in 0..setup.len() {
                    let f = c.read_reply().await?;
                    if let Err(e) = handshake::check(f) {
                        first.get_or_insert(e);
                    }
                }
                if let Some(e) = first {
                    return Err(e);
                }
            }
            Ok(())
        };
        match cfg.read_timeout {
            Some(t) => tokio::time::timeout(t, hs).await.map_err(|_| {
                Error::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "handshake timed out",
                ))
            })??,
            None => hs.await?,
        }
        Ok(c)
    }

    pub(crate) async fn write_all(&mut self, mut b: &[u8]) -> Result<()> {
        while !b.is_empty() {
            let n = poll_fn(|cx| self.stream.poll_write(cx, b)).await?;
            if n == 0 {
                return Err(Error::ConnectionLost);
            }
            b = &b[n..];
        }
        Ok(())
    }

    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Result<Frame>> {
        loop {
            if let Some(f) = self.decoder.decode(&mut self.rbuf)? {
                return Poll::Ready(Ok(f));
            }
            match ready!(self.stream.poll_read_buf(cx, &mut self.rbuf)) {
                Ok(0) => return Poll::Ready(Err(Error::ConnectionLost)),
                Ok(_) => {}
                Err(e) => return Poll::Ready(Err(Error::Io(e))),
            }
        }
    }

    async fn read_frame(&mut self) -> Result<Frame> {
        poll_fn(|cx| self.poll_frame(cx)).await
    }

    pub(crate) async fn read_reply(&mut self) -> Result<Frame> {
        loop {
            match self.read_frame().await? {
                Frame::Push(_) => continue,
                f => return Ok(f),
            }
        }
    }
}

/// Connects with backoff: up to `reconnect_attempts` attempts (at least one).
pub(crate) async fn connect_with_backoff(cfg: &Config) -> Result<AsyncConn> {
    let mut last = Error::Closed;
    for attempt in 0..cfg.reconnect_attempts.max(1) {
        let wait = crate::retry::backoff(attempt, cfg.backoff_min, cfg.backoff_max);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        match AsyncConn::open(cfg).await {
            Ok(c) => return Ok(c),
            Err(e @ Error::Server(_)) => return Err(e),
            Err(e) => last = e,
        }
    }
    Err(last)
}

// ---------------------------------------------------------------- shared state

/// Where a request's replies go.
enum Slot {
    One(oneshot::Sender<Result<Frame>>),
    Many {
        want: usize,
        got: Vec<Frame>,
        tx: oneshot::Sender<Result<Vec<Frame>>>,
    },
}

impl Slot {
    fn fail(self, e: Error) {
        match self {
            Slot::One(tx) => {
                let _ = tx.send(Err(e));
            }
            Slot::Many { tx, .. } => {
                let _ = tx.send(Err(e));
            }
        }
    }
}

#[derive(Default)]
struct State {
    /// Encoded requests the driver has not taken yet.
    out: Vec<u8>,
    /// Their slots, in the same order.
    queued: Vec<Slot>,
    /// Set while the driver waits for work; taken by the first submitter.
    driver: Option<Waker>,
    /// No handle is left: the driver finishes and exits.
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    permits: Semaphore,
    cfg: Config,
    resp3: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues an encoded request and wakes the driver if it sleeps.
    fn submit(&self, encode: impl FnOnce(&mut Vec<u8>), slot: Slot) -> Result<()> {
        let waker = {
            let mut st = self.lock();
            if st.closed {
                drop(st);
                self.permits.add_permits(1);
                return Err(Error::Closed);
            }
            encode(&mut st.out);
            st.queued.push(slot);
            st.driver.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Fails every queued (never written) request.
    fn fail_queued(&self, e: &Error) {
        let slots = {
            let mut st = self.lock();
            st.out.clear();
            std::mem::take(&mut st.queued)
        };
        let n = slots.len();
        for s in slots {
            s.fail(e.duplicate());
        }
        self.permits.add_permits(n);
    }
}

/// Ends the driver when the last handle goes.
struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        let waker = {
            let mut st = self.shared.lock();
            st.closed = true;
            st.driver.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

// ---------------------------------------------------------------- the driver

/// The I/O half the driver runs while connected.
struct Driver {
    shared: Arc<Shared>,
    conn: AsyncConn,
    /// The batch being written, and how much of it is written.
    wbuf: Vec<u8>,
    wpos: usize,
    inflight: VecDeque<Slot>,
    /// New work was seen and the driver yielded once before taking it.
    deferred: bool,
}

enum Stop {
    /// Every handle is gone and nothing is in flight.
    Closed,
    /// The connection failed.
    Failed(Error),
}

impl Driver {
    fn poll_io(&mut self, cx: &mut Context<'_>) -> Poll<Stop> {
        loop {
            let mut progress = false;
            let mut yielded = false;
            // 1. Take every request queued since the last batch. The first
            //    time new work is seen, yield once instead: the tasks that are
            //    ready to run (typically those just handed their replies) get
            //    to queue their next requests, and they all share one write.
            if self.wpos == self.wbuf.len() {
                self.wbuf.clear();
                self.wpos = 0;
                let mut st = self.shared.lock();
                if !st.out.is_empty() {
                    if self.deferred {
                        self.deferred = false;
                        std::mem::swap(&mut st.out, &mut self.wbuf);
                        self.inflight.extend(st.queued.drain(..));
                        progress = true;
                    } else {
                        self.deferred = true;
                        yielded = true;
                        drop(st);
                        cx.waker().wake_by_ref();
                    }
                } else if st.closed {
                    if self.inflight.is_empty() {
                        return Poll::Ready(Stop::Closed);
                    }
                } else {
                    match &st.driver {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => st.driver = Some(cx.waker().clone()),
                    }
                }
            }
            // 2. Write as much of the batch as the socket takes.
            while self.wpos < self.wbuf.len() {
                match self.conn.stream.poll_write(cx, &self.wbuf[self.wpos..]) {
                    Poll::Ready(Ok(0)) => return Poll::Ready(Stop::Failed(Error::ConnectionLost)),
                    Poll::Ready(Ok(n)) => {
                        self.wpos += n;
                        progress = true;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Stop::Failed(Error::Io(e))),
                    Poll::Pending => break,
                }
            }
            // 3. Read and deliver every reply that arrived.
            let mut done = 0;
            let r = loop {
                match self.conn.decoder.decode(&mut self.conn.rbuf) {
                    Ok(Some(f)) => {
                        if let Err(e) = self.deliver(f, &mut done) {
                            break Some(e);
                        }
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => break Some(Error::Protocol(e)),
                }
                match self.conn.stream.poll_read_buf(cx, &mut self.conn.rbuf) {
                    Poll::Ready(Ok(0)) => break Some(Error::ConnectionLost),
                    Poll::Ready(Ok(_)) => progress = true,
                    Poll::Ready(Err(e)) => break Some(Error::Io(e)),
                    Poll::Pending => break None,
                }
            };
            if done > 0 {
                self.shared.permits.add_permits(done);
            }
            if let Some(e) = r {
                return Poll::Ready(Stop::Failed(e));
            }
            if yielded || !progress {
                return Poll::Pending;
            }
        }
    }

    fn deliver(&mut self, f: Frame, done: &mut usize) -> Result<()> {
        if let Frame::Push(_) = f {
            // Out-of-band RESP3 message (tracking, pub/sub): not a reply.
            return Ok(());
        }
        match self.inflight.front_mut() {
            None => Err(Error::Client(format!(
                "unexpected reply with no request waiting: {}",
                crate::error::describe(&f)
            ))),
            Some(Slot::One(_)) => {
                if let Some(Slot::One(tx)) = self.inflight.pop_front() {
                    let _ = tx.send(Ok(f));
                }
                *done += 1;
                Ok(())
            }
            Some(Slot::Many { want, got, .. }) => {
                got.push(f);
                if got.len() == *want {
                    if let Some(Slot::Many { got, tx, .. }) = self.inflight.pop_front() {
                        let _ = tx.send(Ok(got));
                    }
                    *done += 1;
                }
                Ok(())
            }
        }
    }
}

/// The driver task: runs the connection, reconnects, exits when every handle is gone.
async fn run(shared: Arc<Shared>, first: AsyncConn) {
    let mut conn = Some(first);
    loop {
        let c = match conn.take() {
            Some(c) => c,
            None => {
                // Wait until a request needs the connection (or all handles are gone).
                let closed = poll_fn(|cx| {
                    let mut st = shared.lock();
                    if st.closed {
                        Poll::Ready(true)
                    } else if !st.out.is_empty() {
                        Poll::Ready(false)
                    } else {
                        st.driver = Some(cx.waker().clone());
                        Poll::Pending
                    }
                })
                .await;
                if closed {
                    shared.fail_queued(&Error::Closed);
                    return;
                }
                if shared.cfg.reconnect_attempts == 0 {
                    shared.fail_queued(&Error::Closed);
                    continue;
                }
                match connect_with_backoff(&shared.cfg).await {
                    Ok(c) => c,
                    Err(e) => {
                        shared.fail_queued(&e);
                        continue;
                    }
                }
            }
        };
        shared
            .resp3
            .store(c.protocol == Protocol::Resp3, Ordering::Relaxed);
        let mut d = Driver {
            shared: shared.clone(),
            conn: c,
            wbuf: Vec::with_capacity(16 * 1024),
            wpos: 0,
            inflight: VecDeque::new(),
            deferred: false,
        };
        let stop = poll_fn(|cx| d.poll_io(cx)).await;
        // Everything in flight may or may not have run: the callers decide
        // (they resend what is safe to resend on ConnectionLost). A protocol
        // error is reported as itself, and never resent.
        let reason = match &stop {
            Stop::Failed(e @ (Error::Protocol(_) | Error::Client(_))) => e.duplicate(),
            _ => Error::ConnectionLost,
        };
        let n = d.inflight.len();
        for s in d.inflight.drain(..) {
            s.fail(reason.duplicate());
        }
        shared.permits.add_permits(n);
        if let Stop::Closed = stop {
            return;
        }
    }
}

// ---------------------------------------------------------------- the client

/// An async client shared by many tasks over one connection.
///
/// Cheap to [`Clone`]: clones share the connection. Requests from all tasks
/// are batched into one write (automatic pipelining) and replies are matched
/// in FIFO order by a driver task spawned on the current tokio runtime. At
/// most [`Config::max_in_flight`] requests wait for replies at once; more
/// callers wait for room. The driver ends when the last clone is dropped.
///
/// Requests in flight when the connection dies get
/// [`Error::ConnectionLost`], except those safe to resend, which are resent
/// once on the new connection (see the crate docs, "Reconnection policy").
/// With a read timeout set, each request waits at most that long for its reply.
///
/// Commands that would hold or change the shared connection for every task
/// are refused with [`Error::Client`] before anything is sent: the blocking
/// ones (`BLPOP`, `BLMOVE`, `BZPOPMIN`...: use
/// [`dedicated_connection`](Self::dedicated_connection)), `WATCH` and `MULTI`
/// (use an atomic [`Pipeline`], or [`AsyncConnection::transaction`]), the
/// `SUBSCRIBE` family and `MONITOR` (use [`AsyncSubscriber`]). Avoid `SELECT`
/// (set the database in the URL) and `XREAD ... BLOCK` too.
///
/// ```no_run
/// # async fn demo() -> soquete_client::Result<()> {
/// use soquete_client::{cmd, pipe, MultiplexedClient};
/// let c = MultiplexedClient::connect("redis://127.0.0.1").await?;
/// let _: () = c.set("k", 1).await?;
/// let n: i64 = c.incr("k").await?;
/// let v: String = cmd("GET").arg("k").query_async(&c).await?;
/// let (a, b): (i64, i64) = pipe().incr("k").incr("k").query_async(&c).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct MultiplexedClient {
    handle: Arc<Handle>,
}

impl std::fmt::Debug for MultiplexedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiplexedClient")
            .field("addr", &self.handle.shared.cfg.addr)
            .field("protocol", &self.protocol())
            .finish()
    }
}

impl MultiplexedClient {
    /// Connects (URL, [`Config`], address) with default settings and starts
    /// the driver task on the current tokio runtime.
    pub async fn connect<C: IntoConfig>(target: C) -> Result<MultiplexedClient> {
        MultiplexedClient::with_config(target.into_config()?).await
    }

    /// Connects with the given settings.
    pub async fn with_config(cfg: Config) -> Result<MultiplexedClient> {
        let conn = AsyncConn::open(&cfg).await?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            permits: Semaphore::new(cfg.max_in_flight.clamp(1, Semaphore::MAX_PERMITS)),
            resp3: AtomicBool::new(conn.protocol == Protocol::Resp3),
            cfg,
        });
        tokio::spawn(run(shared.clone(), conn));
        Ok(MultiplexedClient {
            handle: Arc::new(Handle { shared }),
        })
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.handle.shared.cfg
    }

    /// Opens a new connection with the same settings, owned by the caller:
    /// for what must not run on the shared one, `WATCH` transactions
    /// ([`AsyncConnection::transaction`]) and blocking commands
    /// ([`AsyncConnection::blpop`]...). Keep it for as many such requests as
    /// suit (it is a connection: opening one per request costs a handshake).
    ///
    /// ```no_run
    /// # async fn demo() -> soquete_client::Result<()> {
    /// use soquete_client::MultiplexedClient;
    /// let shared = MultiplexedClient::connect("redis://127.0.0.1").await?;
    /// let mut worker = shared.dedicated_connection().await?;
    /// let consumer = tokio::spawn(async move {
    ///     // Waits on its own connection: `shared` stays free for everyone.
    ///     worker.blpop::<_, Option<(String, String)>>("jobs", 0.0).await
    /// });
    /// let _: () = shared.set("k", "v").await?; // not delayed by the BLPOP
    /// let _: i64 = shared.rpush("jobs", "j1").await?;
    /// assert!(consumer.await.unwrap()?.is_some());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn dedicated_connection(&self) -> Result<AsyncConnection> {
        AsyncConnection::with_config(self.config().clone()).await
    }

    /// The protocol of the current connection.
    pub fn protocol(&self) -> Protocol {
        if self.handle.shared.resp3.load(Ordering::Relaxed) {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        }
    }

    fn shared(&self) -> &Shared {
        &self.handle.shared
    }

    /// Waits for the reply with the configured timeout.
    async fn wait<T>(&self, rx: oneshot::Receiver<Result<T>>) -> Result<T> {
        let r = match self.shared().cfg.read_timeout {
            Some(t) => match tokio::time::timeout(t, rx).await {
                Ok(r) => r,
                Err(_) => {
                    return Err(Error::Io(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "no reply within the read timeout",
                    )))
                }
            },
            None => rx.await,
        };
        r.unwrap_or(Err(Error::Closed))
    }

    async fn acquire(&self) -> Result<()> {
        self.shared()
            .permits
            .acquire()
            .await
            .map_err(|_| Error::Closed)?
            .forget();
        Ok(())
    }

    /// Sends one request encoded by `encode` (called again for a resend).
    /// `safe` is asked only after the connection was lost.
    async fn request_one(
        &self,
        encode: impl Fn(&mut Vec<u8>),
        safe: impl Fn() -> bool,
    ) -> Result<Frame> {
        let mut resent = false;
        loop {
            self.acquire().await?;
            let (tx, rx) = oneshot::channel();
            self.shared().submit(&encode, Slot::One(tx))?;
            match self.wait(rx).await {
                Err(Error::ConnectionLost) if !resent && safe() => resent = true,
                r => return r,
            }
        }
    }

    /// Sends a command built from `args` (the name first) and converts its reply.
    ///
    /// ```no_run
    /// # async fn demo(c: soquete_client::MultiplexedClient) -> soquete_client::Result<()> {
    /// let n: i64 = c.query(("INCRBY", "counter", 5)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn query<A: ToArgs, T: FromValue>(&self, args: A) -> Result<T> {
        let mut n = ArgCounter::default();
        args.write_args(&mut n);
        if let Some(e) = refuse_on_multiplexed(n.name()) {
            return Err(e);
        }
        let argc = n.count;
        let f = self
            .request_one(
                |out| {
                    write_array_header(out, argc);
                    args.write_args(&mut BulkWriter { out, count: 0 });
                },
                || crate::retry::is_safe_to_resend(n.name()),
            )
            .await?;
        T::from_value(f)
    }

    /// Sends one command and returns its raw reply (a server error is `Err`).
    pub async fn req_command(&self, cmd: &Cmd) -> Result<Frame> {
        if let Some(e) = cmd.name().and_then(refuse_on_multiplexed) {
            return Err(e);
        }
        let f = self
            .request_one(|out| cmd.write_packed(out), || cmd.is_safe_to_resend())
            .await?;
        Frame::from_value(f)
    }

    /// Sends a pipeline's commands together (never interleaved with other
    /// tasks' commands) and returns every reply, errors included.
    pub(crate) async fn req_pipeline(&self, p: &Pipeline) -> Result<Vec<Frame>> {
        // Inside MULTI nothing blocks and WATCH/MULTI are refused by the server.
        if !p.is_atomic() {
            if let Some(e) = p.names().find_map(refuse_on_multiplexed) {
                return Err(e);
            }
        }
        let want = p.reply_count();
        let mut resent = false;
        loop {
            self.acquire().await?;
            let (tx, rx) = oneshot::channel();
            let slot = Slot::Many {
                want,
                got: Vec::with_capacity(want),
                tx,
            };
            self.shared().submit(|out| p.write_packed(out), slot)?;
            match self.wait(rx).await {
                Err(Error::ConnectionLost) if !resent && p.is_safe_to_resend() => resent = true,
                r => return r,
            }
        }
    }
}

// ---------------------------------------------------------------- pub/sub

type Restore = Pin<Box<dyn Future<Output = Result<(AsyncConn, Vec<Message>)>> + Send>>;

/// An async pub/sub subscriber: [`next_message`](Self::next_message), or use
/// it as a [`Stream`](futures_core::Stream) of `Result<Message>`.
///
/// It owns its connection. After the connection drops it connects again with
/// backoff and restores its subscriptions (messages published meanwhile are
/// lost); the stream yields an error and ends only when that fails.
///
/// ```no_run
/// # async fn demo() -> soquete_client::Result<()> {
/// use soquete_client::AsyncSubscriber;
/// let mut sub = AsyncSubscriber::connect("redis://127.0.0.1").await?;
/// sub.subscribe(("news", "sport")).await?;
/// let msg = sub.next_message().await?;
/// println!("{}: {}", msg.channel_str(), msg.payload::<String>()?);
/// # Ok(())
/// # }
/// ```
pub struct AsyncSubscriber {
    cfg: Config,
    conn: Option<AsyncConn>,
    subs: Subscriptions,
    pending: VecDeque<Message>,
    restoring: Option<Restore>,
    done: bool,
}

impl std::fmt::Debug for AsyncSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncSubscriber")
            .field("addr", &self.cfg.addr)
            .field("subscriptions", &self.subs)
            .finish()
    }
}

async fn restore(cfg: Config, subs: Subscriptions) -> Result<(AsyncConn, Vec<Message>)> {
    let mut last = Error::Closed;
    for attempt in 0..cfg.reconnect_attempts {
        let wait = crate::retry::backoff(attempt, cfg.backoff_min, cfg.backoff_max);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let r = async {
            let mut conn = AsyncConn::open(&cfg).await?;
            let mut out = Vec::new();
            let mut want = 0;
            for (_, c, n) in subs.restore_cmds() {
                c.write_packed(&mut out);
                want += n;
            }
            conn.write_all(&out).await?;
            let mut msgs = Vec::new();
            let mut got = 0;
            while got < want {
                match parse_event(conn.read_frame().await?)? {
                    Event::Confirm(_, true, _) => got += 1,
                    Event::Message(m) => msgs.push(m),
                    Event::Error(e) => return Err(e),
                    _ => {}
                }
            }
            Ok((conn, msgs))
        }
        .await;
        match r {
            Ok(v) => return Ok(v),
            Err(e @ Error::Server(_)) => return Err(e),
            Err(e) => last = e,
        }
    }
    Err(last)
}

impl AsyncSubscriber {
    /// Connects a new subscriber.
    pub async fn connect<C: IntoConfig>(target: C) -> Result<AsyncSubscriber> {
        let cfg = target.into_config()?;
        let conn = AsyncConn::open(&cfg).await?;
        Ok(AsyncSubscriber {
            cfg,
            conn: Some(conn),
            subs: Subscriptions::default(),
            pending: VecDeque::new(),
            restoring: None,
            done: false,
        })
    }

    /// `SUBSCRIBE` to one or more channels; returns once confirmed.
    pub async fn subscribe<C: ToArgs>(&mut self, channels: C) -> Result<()> {
        self.control(Family::Channel, true, channels).await
    }
    /// `PSUBSCRIBE` to one or more patterns.
    pub async fn psubscribe<C: ToArgs>(&mut self, patterns: C) -> Result<()> {
        self.control(Family::Pattern, true, patterns).await
    }
    /// `SSUBSCRIBE` to one or more shard channels.
    pub async fn ssubscribe<C: ToArgs>(&mut self, channels: C) -> Result<()> {
        self.control(Family::Shard, true, channels).await
    }
    /// `UNSUBSCRIBE` (all channels when `channels` writes no argument, e.g. `()`).
    pub async fn unsubscribe<C: ToArgs>(&mut self, channels: C) -> Result<()> {
        self.control(Family::Channel, false, channels).await
    }
    /// `PUNSUBSCRIBE` (all patterns when none given).
    pub async fn punsubscribe<C: ToArgs>(&mut self, patterns: C) -> Result<()> {
        self.control(Family::Pattern, false, patterns).await
    }
    /// `SUNSUBSCRIBE` (all shard channels when none given).
    pub async fn sunsubscribe<C: ToArgs>(&mut self, channels: C) -> Result<()> {
        self.control(Family::Shard, false, channels).await
    }

    /// Subscribes to the keyspace notifications of keys matching
    /// `key_pattern` in this subscriber's database: the async form of
    /// [`Subscriber::subscribe_keyspace`](crate::Subscriber::subscribe_keyspace).
    ///
    /// ```no_run
    /// # async fn demo() -> soquete_client::Result<()> {
    /// let mut sub = soquete_client::AsyncSubscriber::connect("redis://127.0.0.1/2").await?;
    /// sub.subscribe_keyspace("cart:*").await?; // __keyspace@2__:cart:*
    /// let e = sub.next_message().await?.keyspace_event();
    /// # Ok(())
    /// # }
    /// ```
    pub async fn subscribe_keyspace(&mut self, key_pattern: impl AsRef<[u8]>) -> Result<()> {
        let p = KeyspaceEvent::keyspace_pattern(self.cfg.db, key_pattern);
        self.psubscribe(&p[..]).await
    }

    /// Subscribes to the keyevent notifications whose event name matches
    /// `event_pattern` in this subscriber's database: the async form of
    /// [`Subscriber::subscribe_keyevent`](crate::Subscriber::subscribe_keyevent).
    pub async fn subscribe_keyevent(&mut self, event_pattern: impl AsRef<[u8]>) -> Result<()> {
        let p = KeyspaceEvent::keyevent_pattern(self.cfg.db, event_pattern);
        self.psubscribe(&p[..]).await
    }

    async fn ensure_connected(&mut self) -> Result<()> {
        if self.conn.is_none() {
            let fut = match self.restoring.take() {
                Some(f) => f,
                None => Box::pin(restore(self.cfg.clone(), self.subs.clone())),
            };
            let (conn, msgs) = fut.await?;
            self.pending.extend(msgs);
            self.conn = Some(conn);
        }
        Ok(())
    }

    async fn control<C: ToArgs>(&mut self, f: Family, on: bool, names: C) -> Result<()> {
        let want = expected_confirmations(&names, &self.subs, f, on);
        let name = if on { f.subscribe() } else { f.unsubscribe() };
        let packed = Cmd::from_args((name, names)).to_packed();
        self.ensure_connected().await?;
        let conn = self.conn.as_mut().expect("connected");
        if let Err(e) = conn.write_all(&packed).await {
            self.conn = None;
            return Err(e);
        }
        let mut got = 0;
        while got < want {
            let conn = self.conn.as_mut().expect("connected");
            let ev = match conn.read_frame().await {
                Ok(fr) => parse_event(fr)?,
                Err(e) => {
                    self.conn = None;
                    return Err(e);
                }
            };
            match ev {
                Event::Confirm(ff, o, ch) => {
                    self.subs.apply(ff, o, ch.as_ref());
                    if ff == f && o == on {
                        got += 1;
                    }
                }
                Event::Message(m) => self.pending.push_back(m),
                Event::Pong => {}
                Event::Error(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The next message; reconnects and resubscribes after a lost connection.
    pub async fn next_message(&mut self) -> Result<Message> {
        match poll_fn(|cx| self.poll_message(cx)).await {
            Some(r) => r,
            None => Err(Error::Closed),
        }
    }

    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
        loop {
            if let Some(m) = self.pending.pop_front() {
                return Poll::Ready(Some(Ok(m)));
            }
            if self.done {
                return Poll::Ready(None);
            }
            if self.conn.is_none() {
                let fut = self
                    .restoring
                    .get_or_insert_with(|| Box::pin(restore(self.cfg.clone(), self.subs.clone())));
                let r = ready!(fut.as_mut().poll(cx));
                self.restoring = None;
                match r {
                    Ok((conn, msgs)) => {
                        self.conn = Some(conn);
                        self.pending.extend(msgs);
                        continue;
                    }
                    Err(e) => {
                        self.done = true;
                        return Poll::Ready(Some(Err(e)));
                    }
                }
            }
            let conn = self.conn.as_mut().expect("connected");
            match ready!(conn.poll_frame(cx)) {
                Ok(f) => match parse_event(f) {
                    Ok(Event::Message(m)) => return Poll::Ready(Some(Ok(m))),
                    Ok(Event::Confirm(f, on, ch)) => self.subs.apply(f, on, ch.as_ref()),
                    Ok(Event::Pong) => {}
                    Ok(Event::Error(e)) | Err(e) => return Poll::Ready(Some(Err(e))),
                },
                Err(_) => self.conn = None,
            }
        }
    }
}

impl futures_core::Stream for AsyncSubscriber {
    type Item = Result<Message>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
        self.get_mut().poll_message(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::{expect, req, send, trickle, FakePeer, Step};
    use crate::{pipe, ClientBuilder};
    use std::time::Duration;

    /// Waits for the peer's script off the runtime thread, so that the
    /// driver task can still run (and close its socket) meanwhile.
    async fn finish(peer: FakePeer) {
        tokio::task::spawn_blocking(move || peer.finish())
            .await
            .unwrap();
    }

    async fn client(url: &str) -> MultiplexedClient {
        ClientBuilder::new(url)
            .backoff(Duration::from_millis(1), Duration::from_millis(5))
            .connect_multiplexed()
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_batch_and_match_fifo() {
        let batch = [req(&["GET", "a"]), req(&["GET", "b"]), req(&["INCR", "n"])].concat();
        let peer = FakePeer::start(vec![vec![
            expect(&batch),
            trickle("$2\r\nA!\r\n$2\r\nB!\r\n:7\r\n"),
        ]]);
        let c = client(&peer.url()).await;
        // On this single-threaded runtime the driver runs only when the test
        // task yields, after all three are queued: they go out in one write.
        let (a, b, n) = tokio::join!(
            c.get::<_, String>("a"),
            c.get::<_, String>("b"),
            c.incr::<_, i64>("n")
        );
        assert_eq!(
            (a.unwrap(), b.unwrap(), n.unwrap()),
            ("A!".into(), "B!".into(), 7)
        );
        drop(c);
        finish(peer).await;
    }

    #[tokio::test]
    async fn error_mid_batch_stays_with_its_request() {
        let batch = [
            req(&["INCR", "a"]),
            req(&["INCR", "s"]),
            req(&["INCR", "b"]),
        ]
        .concat();
        let peer = FakePeer::start(vec![vec![
            expect(&batch),
            send(":1\r\n-ERR value is not an integer or out of range\r\n:2\r\n"),
        ]]);
        let c = client(&peer.url()).await;
        let (a, s, b) = tokio::join!(
            c.incr::<_, i64>("a"),
            c.incr::<_, i64>("s"),
            c.incr::<_, i64>("b")
        );
        assert_eq!(a.unwrap(), 1);
        assert_eq!(s.unwrap_err().code(), Some("ERR"));
        assert_eq!(b.unwrap(), 2);
        drop(c);
        finish(peer).await;
    }

    #[tokio::test]
    async fn pipelines_are_not_interleaved_with_other_requests() {
        let mut p = pipe();
        p.set("k", 1).ignore().get("k");
        let mut wire = req(&["PING"]);
        p.write_packed(&mut wire);
        wire.extend(req(&["GET", "z"]));
        let peer = FakePeer::start(vec![vec![
            expect(&wire),
            send("+PONG\r\n+OK\r\n$1\r\n1\r\n$-1\r\n"),
        ]]);
        let c = client(&peer.url()).await;
        let (pong, (v,), z) = tokio::join!(
            async { c.ping::<String>().await.unwrap() },
            async { p.query_async::<(i64,)>(&c).await.unwrap() },
            async { c.get::<_, Option<String>>("z").await.unwrap() }
        );
        assert_eq!((pong.as_str(), v, z), ("PONG", 1, None));
        drop(c);
        finish(peer).await;
    }

    #[tokio::test]
    async fn cut_mid_reply_fails_writes_resends_reads_and_reconnects() {
        let batch = [req(&["GET", "a"]), req(&["INCR", "n"])].concat();
        let peer = FakePeer::start(vec![
            vec![expect(&batch), send("$5\r\nhel"), Step::Close],
            vec![
                expect(req(&["GET", "a"])),
                send("$5\r\nhello\r\n"),
                expect(req(&["INCR", "n"])),
                send(":1\r\n"),
            ],
        ]);
        let c = client(&peer.url()).await;
        let (a, n) = tokio::join!(c.get::<_, String>("a"), c.incr::<_, i64>("n"));
        assert_eq!(a.unwrap(), "hello");
        assert!(matches!(n, Err(Error::ConnectionLost)), "{n:?}");
        // The client keeps working on the new connection.
        assert_eq!(c.incr::<_, i64>("n").await.unwrap(), 1);
        drop(c);
        finish(peer).await;
    }

    #[tokio::test]
    async fn a_late_reply_after_a_timeout_does_not_shift_the_others() {
        let peer = FakePeer::start(vec![vec![
            expect(req(&["GET", "slow"])),
            expect(req(&["GET", "next"])),
            send("$4\r\nslow\r\n$4\r\nnext\r\n"),
        ]]);
        let c = ClientBuilder::new(peer.url())
            .read_timeout(Duration::from_millis(100))
            .connect_multiplexed()
            .await
            .unwrap();
        let e = c.get::<_, String>("slow").await.unwrap_err();
        assert!(e.is_timeout(), "{e}");
        assert_eq!(c.get::<_, String>("next").await.unwrap(), "next");
        drop(c);
        finish(peer).await;
    }

    #[tokio::test]
    async fn in_flight_requests_are_bounded() {
        let peer = FakePeer::start(vec![vec![
            expect([req(&["GET", "1"]), req(&["GET", "2"])].concat()),
            send("$1\r\n1\r\n$1\r\n2\r\n"),
            expect(req(&["GET", "3"])),
            send("$1\r\n3\r\n"),
        ]]);
        let c = ClientBuilder::new(peer.url())
            .max_in_flight(2)
            .connect_multiplexed()
            .await
            .unwrap();
        let mut f1 = Box::pin(c.get::<_, String>("1"));
        let mut f2 = Box::pin(c.get::<_, String>("2"));
        let mut f3 = Box::pin(c.get::<_, String>("3"));
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(f1.as_mut().poll(&mut cx).is_pending());
        assert!(f2.as_mut().poll(&mut cx).is_pending());
        assert!(f3.as_mut().poll(&mut cx).is_pending());
        // Only two were queued: the third waits for room.
        assert_eq!(c.shared().lock().queued.len(), 2);
        let (a, b, d) = tokio::join!(f1, f2, f3);
        assert_eq!(
            (a.unwrap(), b.unwrap(), d.unwrap()),
            ("1".into(), "2".into(), "3".into())
        );
        drop(c);
        finish(peer).await;
    }

    #[tokio::test]
    async fn dropping_the_last_clone_closes_the_connection() {
        let peer = FakePeer::start(vec![vec![expect(req(&["PING"])), send("+PONG\r\n")]]);
        let c = client(&peer.url()).await;
        let c2 = c.clone();
        assert_eq!(c2.ping::<String>().await.unwrap(), "PONG");
        drop(c);
        drop(c2);
        // The peer holds the connection until the client closes it: finishing
        // proves the driver closed it.
        finish(peer).await;
    }

    #[tokio::test]
    async fn failed_reconnect_fails_waiting_requests() {
        let peer = FakePeer::start(vec![vec![expect(req(&["INCR", "n"])), Step::Close]]);
        let c = ClientBuilder::new(peer.url())
            .reconnect_attempts(2)
            .backoff(Duration::from_millis(1), Duration::from_millis(2))
            .connect_multiplexed()
            .await
            .unwrap();
        assert!(matches!(
            c.incr::<_, i64>("n").await,
            Err(Error::ConnectionLost)
        ));
        finish(peer).await;
        // Nobody listens any more: the connect attempts fail and so does the request.
        let e = c.get::<_, String>("k").await.unwrap_err();
        assert!(matches!(e, Error::Io(_)), "{e}");
    }

    #[tokio::test]
    async fn garbage_fails_in_flight_requests_with_a_protocol_error() {
        let peer = FakePeer::start(vec![vec![expect(req(&["GET", "k"])), send("?bad\r\n")]]);
        let c = client(&peer.url()).await;
        let e = c.get::<_, String>("k").await.unwrap_err();
        assert!(matches!(e, Error::Protocol(_)), "{e}");
        drop(c);
        finish(peer).await;
    }

    #[tokio::test]
    async fn subscriber_reads_split_messages_and_resubscribes_after_a_cut() {
        let peer = FakePeer::start(vec![
            vec![
                expect(req(&["SUBSCRIBE", "ch"])),
                trickle("*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"),
                Step::Close,
            ],
            vec![
                expect(req(&["SUBSCRIBE", "ch"])),
                send(">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nagain\r\n"),
            ],
        ]);
        let mut sub = ClientBuilder::new(peer.url())
            .backoff(Duration::from_millis(1), Duration::from_millis(5))
            .async_subscriber()
            .await
            .unwrap();
        sub.subscribe("ch").await.unwrap();
        let m = sub.next_message().await.unwrap();
        assert_eq!(
            (&m.channel[..], m.payload::<String>().unwrap().as_str()),
            (&b"ch"[..], "hi")
        );
        let m = sub.next_message().await.unwrap();
        assert_eq!(m.payload::<String>().unwrap(), "again");
        drop(sub);
        finish(peer).await;
    }
}
