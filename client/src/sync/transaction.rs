//! Optimistic transactions on a blocking [`Client`].

use super::client::Client;
use super::connection::Connection;
use crate::args::ToArgs;
use crate::error::Result;
use crate::pipeline::Pipeline;
use crate::proto::session::Session;
use crate::proto::transaction::{Next, Transaction, TxPolicy, TxRetry, WatchScope, Watching};

impl Watching for Client {
    type Conn = Connection;
    fn session(&mut self) -> &mut Session<Connection> {
        &mut self.session
    }
}

impl Client {
    /// Runs an optimistic transaction on `keys`, trying again while a watched
    /// key changes under it, with the default [`TxRetry`] policy (100
    /// attempts). See [`transaction_with`](Self::transaction_with).
    ///
    /// ```no_run
    /// use soquete_client::Client;
    /// let mut c = Client::connect("redis://127.0.0.1")?;
    /// // Move 10 from one balance to another, unless the first is short.
    /// let moved: bool = c.transaction(("alice", "bob"), |con, pipe| {
    ///     let alice: i64 = con.get::<_, Option<i64>>("alice")?.unwrap_or(0);
    ///     if alice < 10 {
    ///         return Ok(Some(false)); // the helper sends UNWATCH
    ///     }
    ///     // MULTI ... EXEC; `None` (a watched key changed) runs all this again.
    ///     let done: Option<(i64, i64)> = pipe.decr_by("alice", 10).incr_by("bob", 10).query(con)?;
    ///     Ok(done.map(|_| true))
    /// })?;
    /// # Ok::<(), soquete_client::Error>(())
    /// ```
    pub fn transaction<K, T, F>(&mut self, keys: K, f: F) -> Result<T>
    where
        K: ToArgs,
        F: FnMut(&mut Client, &mut Pipeline) -> Result<Option<T>>,
    {
        self.transaction_with(keys, TxRetry::default(), f)
    }

    /// Runs an optimistic transaction on `keys`, as often as `policy` allows.
    ///
    /// Each attempt sends `WATCH keys`, then calls `f` with this client and
    /// an empty atomic [`Pipeline`]. `f` reads what it needs through the
    /// client, queues its writes in the pipeline and sends it with
    /// `pipe.query(con)` (`MULTI ... EXEC`), asking for an `Option`: `EXEC`
    /// returns null, so `None`, when a watched key changed after `WATCH`.
    /// `f` returns:
    ///
    /// * `Ok(Some(v))`: done, the helper returns `Ok(v)`.
    /// * `Ok(None)`: try again: the helper asks `policy`, waits, and runs a
    ///   new attempt, or returns [`Error::WatchConflict`](crate::Error::WatchConflict) when the policy
    ///   gives up.
    /// * `Err(e)`: the helper returns `Err(e)`.
    ///
    /// Whenever `f` ends without having sent `EXEC` (an early return, an
    /// error) the helper sends `UNWATCH`, or when that fails drops the
    /// connection, so no watch is left behind. With no keys (`keys` writes no
    /// argument, e.g. `()`), no `WATCH` is sent.
    ///
    /// `f` may run several times: it must not have effects outside the
    /// pipeline that cannot be repeated. It should send no `WATCH`, `MULTI`
    /// or `EXEC` of its own.
    ///
    /// # Lost connections
    ///
    /// The keys are watched on one connection only. When it is lost during an
    /// attempt, the requests `f` still makes fail with
    /// [`Error::ConnectionLost`](crate::Error::ConnectionLost) (none is resent on a new connection, where
    /// the keys would not be watched) and the helper returns that error. If
    /// the loss happened before `EXEC` was written, nothing was applied.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use soquete_client::{Client, TxRetry};
    /// let mut c = Client::connect("redis://127.0.0.1")?;
    /// let policy = TxRetry::attempts(10).backoff(Duration::from_millis(1), Duration::from_millis(20));
    /// let (n,): (i64,) = c.transaction_with("counter", policy, |con, pipe| {
    ///     let n: i64 = con.get::<_, Option<i64>>("counter")?.unwrap_or(0);
    ///     pipe.set("counter", n * 2 + 1).ignore().get("counter").query(con)
    /// })?;
    /// # Ok::<(), soquete_client::Error>(())
    /// ```
    pub fn transaction_with<K, T, P, F>(&mut self, keys: K, policy: P, mut f: F) -> Result<T>
    where
        K: ToArgs,
        P: TxPolicy,
        F: FnMut(&mut Client, &mut Pipeline) -> Result<Option<T>>,
    {
        let mut tx = Transaction::new(keys, policy);
        let scope = WatchScope(self);
        loop {
            if let Some(watch) = tx.watch() {
                scope.0.req_command(watch)?;
            }
            let pipe = tx.begin(&mut scope.0.session);
            let r = f(scope.0, pipe);
            if tx.unwatch_due(&mut scope.0.session) && scope.0.unwatch().is_err() {
                scope.0.session.disconnect();
            }
            match tx.outcome(r)? {
                Next::Done(v) => return Ok(v),
                Next::RetryAfter(wait) => std::thread::sleep(wait),
                Next::Retry => {}
            }
        }
    }
}

/// redis-rs's form of [`Client::transaction`]: `transaction(&mut con, keys, |con, pipe| ...)`.
///
/// ```no_run
/// let mut con = soquete_client::Client::connect("redis://127.0.0.1")?;
/// let (v,): (i64,) = soquete_client::transaction(&mut con, &["key"], |con, pipe| {
///     let old: i64 = con.get::<_, Option<i64>>("key")?.unwrap_or(0);
///     pipe.set("key", old + 1).ignore().get("key").query(con)
/// })?;
/// # Ok::<(), soquete_client::Error>(())
/// ```
pub fn transaction<K, T, F>(client: &mut Client, keys: K, f: F) -> Result<T>
where
    K: ToArgs,
    F: FnMut(&mut Client, &mut Pipeline) -> Result<Option<T>>,
{
    client.transaction(keys, f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::fake::{expect, req, send, watch_get_exec, FakePeer};
    use crate::pipe;
    use std::time::Duration;

    fn atomic_incr_wire() -> Vec<u8> {
        let mut p = pipe();
        p.atomic().set("k", 2).ignore().get("k");
        let mut wire = Vec::new();
        p.write_packed(&mut wire);
        wire
    }

    #[test]
    fn a_refused_exec_runs_the_attempt_again() {
        let wire = atomic_incr_wire();
        // EXEC unwatched everything: the next attempt watches again.
        let peer = FakePeer::start(vec![[
            watch_get_exec("$1\r\n0\r\n", &wire, "*-1\r\n"),
            watch_get_exec("$1\r\n1\r\n", &wire, "*2\r\n+OK\r\n$1\r\n2\r\n"),
        ]
        .concat()]);
        let mut c = Client::connect(peer.url()).unwrap();
        let mut runs = 0;
        let (v,): (i64,) = c
            .transaction("k", |con, pipe| {
                runs += 1;
                let _old: i64 = con.get("k")?;
                pipe.set("k", 2).ignore().get("k").query(con)
            })
            .unwrap();
        assert_eq!((v, runs), (2, 2));
        assert_eq!(*c.session.watch_guard(), None);
        drop(c);
        peer.finish();
    }

    #[test]
    fn an_early_return_or_an_error_unwatches() {
        let peer = FakePeer::start(vec![vec![
            expect(req(&["WATCH", "a", "b"])),
            send("+OK\r\n"),
            expect(req(&["UNWATCH"])),
            send("+OK\r\n"),
            expect(req(&["WATCH", "a", "b"])),
            send("+OK\r\n"),
            expect(req(&["GET", "a"])),
            send("$3\r\nabc\r\n"),
            expect(req(&["UNWATCH"])),
            send("+OK\r\n"),
        ]]);
        let mut c = Client::connect(peer.url()).unwrap();
        let v: &str = c
            .transaction(("a", "b"), |_, _| Ok(Some("nothing to do")))
            .unwrap();
        assert_eq!(v, "nothing to do");
        let e = c
            .transaction(["a", "b"], |con, _| {
                let n: i64 = con.get("a")?; // not an integer: an error
                Ok(Some(n))
            })
            .unwrap_err();
        assert!(matches!(e, Error::Conversion(_)), "{e}");
        drop(c);
        peer.finish();
    }

    #[test]
    fn the_policy_bounds_the_attempts() {
        let wire = atomic_incr_wire();
        let mut script = Vec::new();
        for _ in 0..3 {
            script.push(expect(req(&["WATCH", "k"])));
            script.push(send("+OK\r\n"));
            script.push(expect(&wire[..]));
            script.push(send("+OK\r\n+QUEUED\r\n+QUEUED\r\n*-1\r\n"));
        }
        let peer = FakePeer::start(vec![script]);
        let mut c = Client::connect(peer.url()).unwrap();
        let mut asked = Vec::new();
        let e = c
            .transaction_with(
                "k",
                |attempt: u32| {
                    asked.push(attempt);
                    (attempt < 3).then_some(Duration::ZERO)
                },
                |con, pipe| {
                    pipe.set("k", 2)
                        .ignore()
                        .get("k")
                        .query::<Option<(i64,)>>(con)
                },
            )
            .unwrap_err();
        assert!(matches!(e, Error::WatchConflict { attempts: 3 }), "{e}");
        assert_eq!(asked, [1, 2, 3]);
        drop(c);
        peer.finish();
    }

    #[test]
    fn no_keys_means_no_watch() {
        let mut p = pipe();
        p.atomic().incr("n");
        let mut wire = Vec::new();
        p.write_packed(&mut wire);
        let peer = FakePeer::start(vec![vec![
            expect(&wire[..]),
            send("+OK\r\n+QUEUED\r\n*1\r\n:1\r\n"),
        ]]);
        let mut c = Client::connect(peer.url()).unwrap();
        let (n,): (i64,) = c
            .transaction((), |con, pipe| pipe.incr("n").query(con))
            .unwrap();
        assert_eq!(n, 1);
        drop(c);
        peer.finish();
    }

    #[test]
    fn a_lost_connection_is_not_bridged_while_watching() {
        let peer = FakePeer::start(vec![
            vec![
                expect(req(&["WATCH", "k"])),
                send("+OK\r\n"),
                expect(req(&["GET", "k"])),
                crate::fake::Step::Close,
            ],
            // GET is safe to resend, but not on a connection without the watch:
            // the client reconnects and sends nothing.
            vec![],
        ]);
        let mut c = crate::ClientBuilder::new(peer.url())
            .backoff(Duration::from_millis(1), Duration::from_millis(2))
            .connect()
            .unwrap();
        let e = c
            .transaction("k", |con, pipe| {
                let _: Option<i64> = con.get("k")?;
                pipe.incr("k").query::<Option<(i64,)>>(con)
            })
            .unwrap_err();
        assert!(matches!(e, Error::ConnectionLost), "{e}");
        assert_eq!(*c.session.watch_guard(), None);
        drop(c);
        peer.finish();
    }

    #[test]
    fn a_panicking_closure_leaves_no_watch_behind() {
        let peer = FakePeer::start(vec![vec![expect(req(&["WATCH", "k"])), send("+OK\r\n")]]);
        let mut c = Client::connect(peer.url()).unwrap();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = c.transaction("k", |_, _| -> Result<Option<()>> { panic!("boom") });
        }));
        assert!(r.is_err());
        // The connection that held the watch is gone.
        assert!(!c.is_connected());
        assert_eq!(*c.session.watch_guard(), None);
        drop(c);
        peer.finish();
    }
}
