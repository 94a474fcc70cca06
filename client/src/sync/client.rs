//! The blocking [`Client`]: one socket, requests written and replies read in
//! the caller's thread.

use soquete_resp::Frame;

use super::connection::{reconnect, Connection};
use crate::cmd::Cmd;
use crate::config::{Config, IntoConfig, Protocol};
use crate::error::Result;
use crate::proto::resend::Resend;
use crate::proto::session::Session;
use crate::value::FromValue;

/// A blocking connection to a Redis-protocol server.
///
/// Requests are written and replies read in the calling thread. After a
/// connection failure the next request connects again (with backoff, see
/// [`Config`]); a request that only reads is resent once, anything else gets
/// [`Error::ConnectionLost`](crate::Error::ConnectionLost) (see the crate docs, "Reconnection policy").
///
/// ```no_run
/// use soquete_client::Client;
/// let mut c = Client::connect("redis://127.0.0.1:6379/0")?;
/// let _: () = c.set("counter", 10)?;
/// let n: i64 = c.incr("counter")?;
/// assert_eq!(n, 11);
/// # Ok::<(), soquete_client::Error>(())
/// ```
pub struct Client {
    pub(crate) cfg: Config,
    /// The connection, its number, the transaction helper's watch guard.
    pub(crate) session: Session<Connection>,
    out: Vec<u8>,
    /// Reused by the typed helpers so that a request allocates nothing.
    pub(crate) scratch: Cmd,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let protocol = self.protocol();
        self.session
            .fmt_client(f, "Client", &self.cfg.addr, protocol)
    }
}

impl Client {
    /// Connects to the server named by a URL (`redis://...`, `unix://...`),
    /// a [`Config`], an [`Addr`](crate::Addr), or a `(host, port)` pair, with default settings.
    pub fn connect<C: IntoConfig>(target: C) -> Result<Client> {
        Client::with_config(target.into_config()?)
    }

    /// A builder for timeouts, client name, protocol...
    pub fn builder<C: IntoConfig>(target: C) -> crate::ClientBuilder {
        crate::ClientBuilder::new(target)
    }

    /// Connects with the given settings.
    pub fn with_config(cfg: Config) -> Result<Client> {
        let conn = Connection::open(&cfg)?;
        Ok(Client {
            cfg,
            session: Session::new(conn),
            out: Vec::with_capacity(1024),
            scratch: Cmd::with_capacity(128),
        })
    }

    /// The settings this client connects with.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The protocol in use: RESP3 only when asked for and the server agreed.
    pub fn protocol(&self) -> Protocol {
        self.session
            .connection_ref()
            .map(|c| c.protocol)
            .unwrap_or(self.cfg.protocol)
    }

    /// True while the client holds an open connection (it drops it after an
    /// I/O or protocol error, and connects again on the next request).
    pub fn is_connected(&self) -> bool {
        self.session.is_connected()
    }

    /// Closes the current connection and opens a new one now.
    pub fn reconnect(&mut self) -> Result<()> {
        self.session.disconnect();
        self.session.install(Connection::open(&self.cfg)?);
        Ok(())
    }

    /// Connects with backoff when there is no connection.
    pub(crate) fn ensure_connected(&mut self) -> Result<()> {
        if !self.session.is_connected() {
            let conn = reconnect(&self.cfg, || Connection::open(&self.cfg))?;
            self.session.install(conn);
        }
        Ok(())
    }

    /// One request/reply exchange with the reconnection policy: `write`
    /// encodes the request, `read` reads its replies. On a connection
    /// failure the connection is dropped and the request is sent again on a
    /// new one if [`Resend`] allows (`safe` says whether it only reads; it
    /// is asked only after a failure, so the happy path never pays for it).
    fn roundtrip<R>(
        &mut self,
        write: impl Fn(&mut Vec<u8>),
        safe: impl Fn() -> bool,
        mut read: impl FnMut(&mut Connection) -> Result<R>,
    ) -> Result<R> {
        let mut resend = Resend::new(self.cfg.reconnect_attempts > 0);
        loop {
            self.ensure_connected()?;
            self.session.encode(&mut self.out, &write)?;
            let conn = self.session.connection().expect("connected above");
            match conn.write_all(&self.out).and_then(|()| read(conn)) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    // Any failure here leaves the connection out of step: drop it.
                    self.session.disconnect();
                    resend.after_failure(e, &safe)?;
                }
            }
        }
    }

    /// Sends one command and returns its raw reply (a server error is `Err`).
    pub fn req_command(&mut self, cmd: &Cmd) -> Result<Frame> {
        let f = self.roundtrip(
            |out| cmd.write_packed(out),
            || cmd.is_safe_to_resend(),
            Connection::read_reply,
        )?;
        Frame::from_value(f)
    }

    /// Sends a pipeline's commands in one write and returns all its replies,
    /// errors included as `Frame::Error`.
    pub(crate) fn req_pipeline(&mut self, p: &crate::Pipeline) -> Result<Vec<Frame>> {
        let count = p.reply_count();
        if p.is_atomic() {
            self.session.count_exec();
        }
        self.roundtrip(
            |out| p.write_packed(out),
            || p.is_safe_to_resend(),
            |conn| {
                let mut replies = Vec::with_capacity(count);
                for _ in 0..count {
                    replies.push(conn.read_reply()?);
                }
                Ok(replies)
            },
        )
    }

    /// Sends a command built from `args` (the name first) and converts the reply.
    ///
    /// ```no_run
    /// # let mut c = soquete_client::Client::connect("redis://127.0.0.1")?;
    /// let n: i64 = c.query(("INCRBY", "counter", 5))?;
    /// # Ok::<(), soquete_client::Error>(())
    /// ```
    pub fn query<A: crate::ToArgs, T: FromValue>(&mut self, args: A) -> Result<T> {
        let mut c = std::mem::take(&mut self.scratch);
        c.clear();
        args.write_args(&mut c);
        let r = self.req_command(&c);
        self.scratch = c;
        T::from_value(r?)
    }

    /// Sends a waiting pop (`BLPOP`...) built from `args` whose own timeout is
    /// `timeout` seconds, with the socket's read timeout stretched to cover
    /// it (see [`reply_wait`](crate::waiting_pops::reply_wait)) for this request.
    pub(crate) fn query_waiting<A: crate::ToArgs, T: FromValue>(
        &mut self,
        args: A,
        timeout: f64,
    ) -> Result<T> {
        let Some(wait) = crate::waiting_pops::reply_wait(self.cfg.read_timeout, timeout) else {
            return self.query(args);
        };
        self.ensure_connected()?;
        if let Some(c) = self.session.connection() {
            c.stream.set_read_timeout(wait)?;
        }
        let r = self.query(args);
        if let Some(c) = self.session.connection() {
            if c.stream.set_read_timeout(self.cfg.read_timeout).is_err() {
                self.session.disconnect();
            }
        }
        r
    }

    /// Sends `WATCH keys`: the next atomic pipeline on this client fails
    /// (returns null) if any of them changed.
    pub fn watch<K: crate::ToArgs>(&mut self, keys: K) -> Result<()> {
        self.query(("WATCH", keys))
    }

    /// Sends `UNWATCH`.
    pub fn unwatch(&mut self) -> Result<()> {
        self.query(("UNWATCH",))
    }

    /// Turns this connection into a pub/sub [`Subscriber`](crate::Subscriber).
    pub fn into_subscriber(self) -> Result<crate::Subscriber> {
        crate::Subscriber::from_client(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::fake::{expect, req, send, trickle, FakePeer, Step};
    use crate::{pipe, ClientBuilder};
    use std::time::Duration;

    fn quick(url: &str) -> ClientBuilder {
        ClientBuilder::new(url)
            .read_timeout(Duration::from_secs(10))
            .backoff(Duration::from_millis(1), Duration::from_millis(5))
    }

    #[test]
    fn reply_split_into_many_reads_is_reassembled() {
        let peer = FakePeer::start(vec![vec![
            expect(req(&["GET", "k"])),
            trickle("$11\r\nhello world\r\n"),
            expect(req(&["MGET", "a", "b"])),
            trickle("*2\r\n$1\r\nx\r\n$-1\r\n"),
        ]]);
        let mut c = quick(&peer.url()).connect().unwrap();
        let v: String = c.get("k").unwrap();
        assert_eq!(v, "hello world");
        let v: Vec<Option<String>> = c.mget(("a", "b")).unwrap();
        assert_eq!(v, [Some("x".to_string()), None]);
        drop(c);
        peer.finish();
    }

    #[test]
    fn pipeline_reports_an_error_mid_batch_per_command() {
        let mut p = pipe();
        p.incr("n").incr("s").get("n");
        let mut wire = Vec::new();
        p.write_packed(&mut wire);
        let peer = FakePeer::start(vec![vec![
            expect(&wire),
            send(":1\r\n-ERR value is not an integer or out of range\r\n$1\r\n1\r\n"),
            expect(&wire),
            send(":2\r\n-ERR value is not an integer or out of range\r\n$1\r\n2\r\n"),
            expect(req(&["PING"])),
            send("+PONG\r\n"),
        ]]);
        let mut c = quick(&peer.url()).connect().unwrap();
        let r: Vec<Result<i64>> = p.query(&mut c).unwrap();
        assert_eq!(*r[0].as_ref().unwrap(), 1);
        assert_eq!(r[1].as_ref().unwrap_err().code(), Some("ERR"));
        assert_eq!(*r[2].as_ref().unwrap(), 1);
        // Plain types: the first error is returned, the batch is still read whole.
        let e = p.query::<(i64, i64, i64)>(&mut c).unwrap_err();
        assert_eq!(e.code(), Some("ERR"));
        let pong: String = c.ping().unwrap();
        assert_eq!(pong, "PONG");
        drop(c);
        peer.finish();
    }

    #[test]
    fn cut_mid_reply_fails_a_write_and_resends_a_read() {
        let peer = FakePeer::start(vec![
            vec![expect(req(&["INCR", "n"])), send(":4"), Step::Close],
            vec![expect(req(&["GET", "k"])), send("$10\r\nhel"), Step::Close],
            vec![expect(req(&["GET", "k"])), send("$2\r\nok\r\n")],
        ]);
        let mut c = quick(&peer.url()).connect().unwrap();
        // Not safe to resend: the server may have executed it.
        assert!(matches!(c.incr::<_, i64>("n"), Err(Error::ConnectionLost)));
        assert!(!c.is_connected());
        // Safe to resend: sent on a new connection (2), cut mid-reply there,
        // resent once on connection 3.
        let v: String = c.get("k").unwrap();
        assert_eq!(v, "ok");
        drop(c);
        peer.finish();
    }

    #[test]
    fn resend_happens_at_most_once() {
        let peer = FakePeer::start(vec![
            vec![expect(req(&["GET", "k"])), Step::Close],
            vec![expect(req(&["GET", "k"])), Step::Close],
        ]);
        let mut c = quick(&peer.url()).connect().unwrap();
        assert!(matches!(
            c.get::<_, String>("k"),
            Err(Error::ConnectionLost)
        ));
        drop(c);
        peer.finish();
    }

    #[test]
    fn resp3_falls_back_to_resp2_when_hello_is_refused() {
        let peer = FakePeer::start(vec![vec![
            expect(req(&[
                "HELLO", "3", "AUTH", "default", "pw", "SETNAME", "app",
            ])),
            send("-ERR unknown command 'HELLO', with args beginning with: '3'\r\n"),
            expect(
                [
                    req(&["AUTH", "pw"]),
                    req(&["CLIENT", "SETNAME", "app"]),
                    req(&["SELECT", "2"]),
                ]
                .concat(),
            ),
            send("+OK\r\n+OK\r\n+OK\r\n"),
            expect(req(&["GET", "k"])),
            send("$-1\r\n"),
        ]]);
        let url = format!("{}/2?protocol=resp3&password=pw&name=app", peer.url());
        let mut c = quick(&url).connect().unwrap();
        assert_eq!(c.protocol(), Protocol::Resp2);
        let v: Option<String> = c.get("k").unwrap();
        assert_eq!(v, None);
        drop(c);
        peer.finish();
    }

    #[test]
    fn resp3_push_frames_are_skipped_between_replies() {
        let peer = FakePeer::start(vec![vec![
            expect(req(&["HELLO", "3"])),
            send("%1\r\n+proto\r\n:3\r\n"),
            expect(req(&["GET", "k"])),
            send(">2\r\n+invalidate\r\n*1\r\n$1\r\nk\r\n$1\r\nv\r\n"),
        ]]);
        let mut c = quick(&peer.url())
            .protocol(Protocol::Resp3)
            .connect()
            .unwrap();
        assert_eq!(c.protocol(), Protocol::Resp3);
        let v: String = c.get("k").unwrap();
        assert_eq!(v, "v");
        drop(c);
        peer.finish();
    }

    #[test]
    fn handshake_error_fails_connect() {
        let peer = FakePeer::start(vec![vec![
            expect(req(&["AUTH", "bad"])),
            send("-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
        ]]);
        let e = quick(&format!("{}?password=bad", peer.url()))
            .connect()
            .unwrap_err();
        assert_eq!(e.code(), Some("WRONGPASS"));
        peer.finish();
    }

    #[test]
    fn garbage_is_a_protocol_error_and_drops_the_connection() {
        let peer = FakePeer::start(vec![vec![expect(req(&["GET", "k"])), send("?what\r\n")]]);
        let mut c = quick(&peer.url()).connect().unwrap();
        assert!(matches!(c.get::<_, String>("k"), Err(Error::Protocol(_))));
        assert!(!c.is_connected());
        drop(c);
        peer.finish();
    }

    #[test]
    fn read_timeout_is_reported_and_not_resent() {
        let peer = FakePeer::start(vec![vec![expect(req(&["GET", "k"]))]]);
        let mut c = ClientBuilder::new(peer.url())
            .read_timeout(Duration::from_millis(50))
            .connect()
            .unwrap();
        let e = c.get::<_, String>("k").unwrap_err();
        assert!(e.is_timeout(), "{e}");
        drop(c);
        peer.finish();
    }

    #[test]
    fn reconnect_disabled_reports_closed() {
        let peer = FakePeer::start(vec![vec![expect(req(&["GET", "k"])), Step::Close]]);
        let mut c = quick(&peer.url()).reconnect_attempts(0).connect().unwrap();
        assert!(matches!(
            c.get::<_, String>("k"),
            Err(Error::ConnectionLost)
        ));
        assert!(matches!(c.get::<_, String>("k"), Err(Error::Closed)));
        drop(c);
        peer.finish();
    }
}
