//! [`AsyncConnection`]: one async connection owned by one task (feature
//! `tokio`), for what a shared [`MultiplexedClient`] cannot carry: `WATCH`
//! transactions and blocking commands.
//!
//! A [`MultiplexedClient`] interleaves every task's requests on one
//! connection. Any state a command leaves on that connection belongs to
//! everyone: a task's `WATCH` would watch keys for the other tasks' atomic
//! pipelines too (their `EXEC` could fail on its keys, and the first `EXEC`
//! of anyone clears it), and a `BLPOP` holds the connection until it is
//! served, so every request queued behind it waits as long. An
//! `AsyncConnection` is the same protocol on a socket of its own, driven by
//! its owner's `&mut self` calls: no driver task, no sharing, one request at a
//! time.

use std::time::Duration;

use soquete_resp::Frame;

use super::connection::{reconnect, within, Connection};
use crate::args::ToArgs;
use crate::cmd::{ArgsCommand, Cmd};
use crate::config::{Config, IntoConfig, Protocol};
use crate::error::{Error, Result};
use crate::pipeline::Pipeline;
use crate::proto::resend::Resend;
use crate::proto::session::Session;
use crate::value::FromValue;

/// One async connection owned by one task: `WATCH` transactions, blocking
/// commands (`BLPOP`...), and anything else that keeps state on a
/// connection.
///
/// Methods take `&mut self`: one request at a time, on a socket no other
/// task uses. It has the same typed helpers as
/// [`MultiplexedClient`](crate::MultiplexedClient), plus
/// [`transaction`](Self::transaction) and the blocking pops
/// ([`blpop`](Self::blpop), [`blmove`](Self::blmove), [`bzpopmin`](Self::bzpopmin)...),
/// whose reply wait is stretched to the command's own timeout.
/// [`MultiplexedClient::dedicated_connection`](crate::MultiplexedClient::dedicated_connection)
/// opens one with the multiplexed client's settings.
///
/// Reconnection follows the crate's policy (see the crate docs): after a
/// lost connection the next request connects again with backoff, and a
/// request that only reads is resent once. With a read timeout set, each
/// request waits that long for its reply at most; a request that timed out
/// closes the connection (its reply may still come, and would be taken for
/// the next request's).
///
/// # Cancellation
///
/// Dropping a request's future before it completes (in `tokio::select!`, or
/// under `tokio::time::timeout`) closes the connection at once: a reply
/// that is still due can never be mistaken for the next request's, and a
/// cancelled `BLPOP` stops waiting on the server as soon as it sees the
/// connection close. The next request connects again. (An element the
/// server popped for it in the instant before the close is lost with the
/// connection, as with any connection lost mid-reply.)
///
/// ```no_run
/// # async fn demo() -> soquete_client::Result<()> {
/// use soquete_client::AsyncConnection;
/// let mut conn = AsyncConnection::connect("redis://127.0.0.1").await?;
/// let _: () = conn.rpush("jobs", "j1").await?;
/// let job: Option<(String, String)> = conn.blpop("jobs", 5.0).await?;
/// assert_eq!(job, Some(("jobs".to_string(), "j1".to_string())));
/// # Ok(())
/// # }
/// ```
pub struct AsyncConnection {
    cfg: Config,
    /// The connection, its number, the transaction helper's watch guard.
    pub(crate) session: Session<Connection>,
    protocol: Protocol,
    out: Vec<u8>,
}

impl std::fmt::Debug for AsyncConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let protocol = self.protocol;
        self.session
            .fmt_client(f, "AsyncConnection", &self.cfg.addr, protocol)
    }
}

/// What a request reads: one reply, or a pipeline's `n`.
enum Got {
    One(Frame),
    Many(Vec<Frame>),
}

/// Writes a request and reads its replies.
async fn exchange(conn: &mut Connection, out: &[u8], many: Option<usize>) -> Result<Got> {
    conn.write_all(out).await?;
    match many {
        None => Ok(Got::One(conn.read_reply().await?)),
        Some(n) => {
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(conn.read_reply().await?);
            }
            Ok(Got::Many(v))
        }
    }
}

impl AsyncConnection {
    /// Connects (URL, [`Config`], address) with default settings.
    pub async fn connect<C: IntoConfig>(target: C) -> Result<AsyncConnection> {
        AsyncConnection::with_config(target.into_config()?).await
    }

    /// Connects with the given settings.
    pub async fn with_config(cfg: Config) -> Result<AsyncConnection> {
        let conn = Connection::open(&cfg).await?;
        Ok(AsyncConnection {
            protocol: conn.protocol,
            cfg,
            session: Session::new(conn),
            out: Vec::with_capacity(256),
        })
    }

    /// The settings this connection connects with.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The protocol of the last connection: RESP3 only when asked for and the
    /// server agreed.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// True while a connection is open (it is dropped after an I/O or
    /// protocol error, a timeout or a cancelled request, and opened again by
    /// the next request).
    pub fn is_connected(&self) -> bool {
        self.session.is_connected()
    }

    /// Closes the current connection and opens a new one now.
    pub async fn reconnect(&mut self) -> Result<()> {
        self.session.disconnect();
        self.install(Connection::open(&self.cfg).await?);
        Ok(())
    }

    fn install(&mut self, c: Connection) {
        self.protocol = c.protocol;
        self.session.install(c);
    }

    async fn ensure_connected(&mut self) -> Result<()> {
        if !self.session.is_connected() {
            let conn = reconnect(&self.cfg, || Connection::open(&self.cfg)).await?;
            self.install(conn);
        }
        Ok(())
    }

    /// One request/reply exchange with the reconnection policy (as
    /// [`Client`](crate::Client)'s): `write` encodes the request, `many` is
    /// the pipeline's reply count (`None`: one reply), `wait` bounds the wait
    /// for the replies.
    async fn roundtrip(
        &mut self,
        write: impl Fn(&mut Vec<u8>),
        safe: impl Fn() -> bool,
        many: Option<usize>,
        wait: Option<Duration>,
    ) -> Result<Got> {
        let mut resend = Resend::new(self.cfg.reconnect_attempts > 0);
        loop {
            self.ensure_connected().await?;
            self.session.encode(&mut self.out, &write)?;
            // The connection is held by this future while the request runs:
            // if the future is dropped, so is the connection, which can then
            // never deliver a stale reply to the next request.
            let mut conn = self.session.take().expect("connected above");
            match within(wait, exchange(&mut conn, &self.out, many)).await {
                Ok(v) => {
                    self.session.put_back(conn);
                    return Ok(v);
                }
                // Out of step or broken: the connection stays dropped.
                Err(e) => resend.after_failure(e, &safe)?,
            }
        }
    }

    /// Sends one command, waiting at most `wait` for its reply.
    async fn command_within(
        &mut self,
        write: impl Fn(&mut Vec<u8>),
        safe: impl Fn() -> bool,
        wait: Option<Duration>,
    ) -> Result<Frame> {
        match self.roundtrip(write, safe, None, wait).await? {
            Got::One(f) => Frame::from_value(f),
            Got::Many(_) => Err(Error::Client("one reply expected".into())),
        }
    }

    /// Sends one command and returns its raw reply (a server error is `Err`).
    pub async fn req_command(&mut self, cmd: &Cmd) -> Result<Frame> {
        let wait = self.cfg.read_timeout;
        self.command_within(
            |out| cmd.write_packed(out),
            || cmd.is_safe_to_resend(),
            wait,
        )
        .await
    }

    /// Sends a pipeline's commands in one write and returns every reply,
    /// errors included.
    pub(crate) async fn req_pipeline(&mut self, p: &Pipeline) -> Result<Vec<Frame>> {
        if p.is_atomic() {
            self.session.count_exec();
        }
        let wait = self.cfg.read_timeout;
        match self
            .roundtrip(
                |out| p.write_packed(out),
                || p.is_safe_to_resend(),
                Some(p.reply_count()),
                wait,
            )
            .await?
        {
            Got::Many(v) => Ok(v),
            Got::One(_) => Err(Error::Client("replies expected".into())),
        }
    }

    /// Sends `args` as one command with the wait for its reply bounded by
    /// `wait` instead of the read timeout.
    pub(crate) async fn query_within<A: ToArgs, T: FromValue>(
        &mut self,
        args: A,
        wait: Option<Duration>,
    ) -> Result<T> {
        let c = ArgsCommand::new(&args);
        let f = self
            .command_within(|out| c.write_packed(out), || c.is_safe_to_resend(), wait)
            .await?;
        T::from_value(f)
    }

    /// Sends a waiting pop (`BLPOP`...) built from `args` whose own timeout is
    /// `timeout` seconds, waiting for its reply as long as it may take.
    pub(crate) async fn query_waiting<A: ToArgs, T: FromValue>(
        &mut self,
        args: A,
        timeout: f64,
    ) -> Result<T> {
        let wait = crate::waiting_pops::reply_wait(self.cfg.read_timeout, timeout)
            .unwrap_or(self.cfg.read_timeout);
        self.query_within(args, wait).await
    }

    /// Sends a command built from `args` (the name first) and converts its reply.
    ///
    /// ```no_run
    /// # async fn demo(mut conn: soquete_client::AsyncConnection) -> soquete_client::Result<()> {
    /// let n: i64 = conn.query(("INCRBY", "counter", 5)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn query<A: ToArgs, T: FromValue>(&mut self, args: A) -> Result<T> {
        let wait = self.cfg.read_timeout;
        self.query_within(args, wait).await
    }

    /// Sends `WATCH keys`: the next atomic pipeline on this connection
    /// returns null if any of them changed meanwhile. See
    /// [`transaction`](Self::transaction) for the helper that retries.
    pub async fn watch<K: ToArgs>(&mut self, keys: K) -> Result<()> {
        self.query(("WATCH", keys)).await
    }

    /// Sends `UNWATCH`.
    pub async fn unwatch(&mut self) -> Result<()> {
        self.query(("UNWATCH",)).await
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use super::*;
    use crate::fake::{expect, req, send, FakePeer, Step};
    use crate::{pipe, ClientBuilder};

    fn quick(url: &str) -> ClientBuilder {
        ClientBuilder::new(url).backoff(Duration::from_millis(1), Duration::from_millis(5))
    }

    #[tokio::test]
    async fn commands_pipelines_and_resent_reads() {
        let mut p = pipe();
        p.incr("n").get("k");
        let mut wire = Vec::new();
        p.write_packed(&mut wire);
        let peer = FakePeer::start(vec![
            vec![
                expect(req(&["SET", "k", "v"])),
                send("+OK\r\n"),
                expect(&wire[..]),
                send(":1\r\n$1\r\nv\r\n"),
                expect(req(&["GET", "k"])),
                Step::Close,
            ],
            vec![expect(req(&["GET", "k"])), send("$1\r\nv\r\n")],
        ]);
        let mut c = quick(&peer.url()).connect_async().await.unwrap();
        let _: () = c.set("k", "v").await.unwrap();
        let (n, v): (i64, String) = p.query_async(&mut c).await.unwrap();
        assert_eq!((n, v.as_str()), (1, "v"));
        // Cut mid-request: GET is safe to resend, and is.
        assert_eq!(c.get::<_, String>("k").await.unwrap(), "v");
        drop(c);
        peer.finish_async().await;
    }

    #[tokio::test]
    async fn a_cancelled_request_closes_its_connection_at_once() {
        let peer = FakePeer::start(vec![
            // The request is written (the peer checks it) but never answered;
            // the peer's script ends only when the client closes the socket,
            // and only then does it serve the next connection.
            vec![expect(req(&["BLPOP", "q", "0"]))],
            vec![expect(req(&["GET", "k"])), send("$1\r\nv\r\n")],
        ]);
        let mut c = quick(&peer.url())
            .read_timeout(Duration::from_secs(10))
            .connect_async()
            .await
            .unwrap();
        {
            let mut f = Box::pin(c.query::<_, Option<(String, String)>>(("BLPOP", "q", 0)));
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            for _ in 0..100 {
                assert!(f.as_mut().poll(&mut cx).is_pending());
                tokio::task::yield_now().await;
            }
        }
        assert!(!c.is_connected());
        assert_eq!(c.get::<_, String>("k").await.unwrap(), "v");
        drop(c);
        peer.finish_async().await;
    }

    #[tokio::test]
    async fn a_timed_out_request_drops_the_connection() {
        let peer = FakePeer::start(vec![
            vec![expect(req(&["GET", "slow"]))],
            vec![expect(req(&["GET", "next"])), send("$4\r\nnext\r\n")],
        ]);
        let mut c = quick(&peer.url())
            .read_timeout(Duration::from_millis(50))
            .connect_async()
            .await
            .unwrap();
        let e = c.get::<_, String>("slow").await.unwrap_err();
        assert!(e.is_timeout(), "{e}");
        assert!(!c.is_connected());
        assert_eq!(c.get::<_, String>("next").await.unwrap(), "next");
        drop(c);
        peer.finish_async().await;
    }
}
