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
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use soquete_resp::Frame;
use tokio::sync::{oneshot, Semaphore};

use super::connection::{reconnect, reply_timed_out, Connection};
use super::dedicated::AsyncConnection;
use super::stream::io_error;
use crate::args::ToArgs;
use crate::cmd::{ArgsCommand, Cmd};
use crate::config::{Config, IntoConfig, Protocol};
use crate::error::{Error, Result};
use crate::pipeline::Pipeline;
use crate::proto::multiplexing::refuse_on_multiplexed;
use crate::proto::resend::Resend;
use crate::value::FromValue;

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
    conn: Connection,
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
                    Poll::Ready(Err(e)) => return Poll::Ready(Stop::Failed(io_error(e))),
                    Poll::Pending => break,
                }
            }
            // TLS may hold back records of a batch it took whole: send them
            // (a no-op on plain sockets). Pending leaves the waker to the
            // socket's write readiness, and the next poll flushes again.
            if self.wpos == self.wbuf.len() {
                if let Poll::Ready(Err(e)) = self.conn.stream.poll_flush(cx) {
                    return Poll::Ready(Stop::Failed(io_error(e)));
                }
            }
            // 3. Read and deliver every reply that arrived.
            let mut done = 0;
            let r = loop {
                match self.conn.inbox.reply() {
                    Ok(Some(f)) => {
                        if let Err(e) = self.deliver(f, &mut done) {
                            break Some(e);
                        }
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => break Some(Error::Protocol(e)),
                }
                match self.conn.poll_fill(cx) {
                    Poll::Ready(Ok(())) => progress = true,
                    Poll::Ready(Err(e)) => break Some(e),
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

    /// Hands a reply (never a push frame: the inbox skips those) to the
    /// request at the front of the FIFO.
    fn deliver(&mut self, f: Frame, done: &mut usize) -> Result<()> {
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
async fn run(shared: Arc<Shared>, first: Connection) {
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
                match reconnect(&shared.cfg, || Connection::open(&shared.cfg)).await {
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
        // or TLS error is reported as itself, and never resent.
        let reason = match &stop {
            Stop::Failed(e @ (Error::Protocol(_) | Error::Client(_) | Error::Tls(_))) => {
                e.duplicate()
            }
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
/// `SUBSCRIBE` family and `MONITOR` (use [`AsyncSubscriber`](crate::AsyncSubscriber)). Avoid `SELECT`
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
        let conn = Connection::open(&cfg).await?;
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

    /// Waits for the reply with the configured timeout. (Not with
    /// [`within`](super::connection::within): one future fewer per request
    /// measurably counts on this path.)
    async fn wait<T>(&self, rx: oneshot::Receiver<Result<T>>) -> Result<T> {
        let r = match self.shared().cfg.read_timeout {
            Some(t) => tokio::time::timeout(t, rx)
                .await
                .map_err(|_| reply_timed_out())?,
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

    /// Sends one request encoded by `encode` (called again for a resend),
    /// its replies going to the slot `slot` makes. A request lost in flight
    /// is sent again once if [`Resend`] allows (`safe` is asked only then).
    /// (The driver fails a resend with [`Error::Closed`] when reconnecting is
    /// off.)
    async fn request<T>(
        &self,
        encode: impl Fn(&mut Vec<u8>),
        safe: impl Fn() -> bool,
        slot: impl Fn(oneshot::Sender<Result<T>>) -> Slot,
    ) -> Result<T> {
        let mut resend = Resend::new(true);
        loop {
            self.acquire().await?;
            let (tx, rx) = oneshot::channel();
            self.shared().submit(&encode, slot(tx))?;
            match self.wait(rx).await {
                Err(Error::ConnectionLost) => resend.after_failure(Error::ConnectionLost, &safe)?,
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
        let c = ArgsCommand::new(&args);
        if let Some(e) = refuse_on_multiplexed(c.name()) {
            return Err(e);
        }
        let f = self
            .request(
                |out| c.write_packed(out),
                || c.is_safe_to_resend(),
                Slot::One,
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
            .request(
                |out| cmd.write_packed(out),
                || cmd.is_safe_to_resend(),
                Slot::One,
            )
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
        self.request(
            |out| p.write_packed(out),
            || p.is_safe_to_resend(),
            |tx| Slot::Many {
                want,
                got: Vec::with_capacity(want),
                tx,
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use super::*;
    use crate::fake::{expect, req, send, trickle, FakePeer, Step};
    use crate::{pipe, ClientBuilder};
    use std::time::Duration;

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
        peer.finish_async().await;
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
        peer.finish_async().await;
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
        peer.finish_async().await;
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
        peer.finish_async().await;
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
        peer.finish_async().await;
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
        peer.finish_async().await;
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
        peer.finish_async().await;
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
        peer.finish_async().await;
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
        peer.finish_async().await;
    }
}
