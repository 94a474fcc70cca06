//! Optimistic transactions: `WATCH` keys, read them, queue writes in an
//! atomic pipeline, `EXEC`; when a watched key changed in between, `EXEC`
//! refuses (returns null) and the whole attempt runs again.
//!
//! [`Client::transaction`] (and the redis-rs-style free function
//! [`transaction`]) for the blocking client, [`AsyncConnection::transaction`]
//! for async code; [`TxRetry`] and [`TxPolicy`] say how often to try.
//!
//! # Why not on `MultiplexedClient`
//!
//! `WATCH` is state of a connection, and a [`MultiplexedClient`] shares its
//! connection between all its tasks, so there it would belong to all of
//! them: another task's atomic pipeline would `EXEC` against this task's
//! watched keys (and fail when they change), its `EXEC` would clear this
//! task's watch, and requests of other tasks would run between this task's
//! `WATCH` and `EXEC`. Use an [`AsyncConnection`] (for example from
//! [`MultiplexedClient::dedicated_connection`]) for transactions that watch
//! keys; atomic pipelines without `WATCH` are fine on a `MultiplexedClient`.
//!
//! [`MultiplexedClient`]: crate::MultiplexedClient
//! [`MultiplexedClient::dedicated_connection`]: crate::MultiplexedClient::dedicated_connection
//! [`AsyncConnection`]: crate::AsyncConnection
//! [`AsyncConnection::transaction`]: crate::AsyncConnection::transaction

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use crate::args::ToArgs;
use crate::cmd::Cmd;
use crate::conn::Client;
use crate::error::{Error, Result};
use crate::pipeline::Pipeline;

/// Decides whether a transaction helper tries again after an attempt lost to
/// a concurrent change (its `EXEC` returned null), and after how long.
///
/// [`TxRetry`] is the usual policy; any `FnMut(u32) -> Option<Duration>` is
/// one too:
///
/// ```
/// use std::time::Duration;
/// use soquete_client::TxPolicy;
/// // Three attempts, 5 ms apart.
/// let mut p = |attempt: u32| (attempt < 3).then_some(Duration::from_millis(5));
/// assert_eq!(p.retry_after(1), Some(Duration::from_millis(5)));
/// assert_eq!(p.retry_after(3), None);
/// ```
pub trait TxPolicy {
    /// `attempt` attempts (counting from 1) have failed because a watched key
    /// changed: `Some(wait)` runs one more after `wait`, `None` gives up
    /// (the helper returns [`Error::WatchConflict`]).
    fn retry_after(&mut self, attempt: u32) -> Option<Duration>;
}

impl<F: FnMut(u32) -> Option<Duration>> TxPolicy for F {
    fn retry_after(&mut self, attempt: u32) -> Option<Duration> {
        self(attempt)
    }
}

/// The standard retry policy: at most `max_attempts` attempts; the second
/// runs at once, later ones after a random wait ("full jitter") below a cap
/// that starts at `backoff_min` and doubles up to `backoff_max`, so that
/// clients that keep colliding spread out.
///
/// The default is 100 attempts with waits capped from 1 ms up to 100 ms.
///
/// ```
/// use std::time::Duration;
/// use soquete_client::{TxPolicy, TxRetry};
/// let mut p = TxRetry::attempts(4).backoff(Duration::from_millis(2), Duration::from_millis(3));
/// assert_eq!(p.retry_after(1), Some(Duration::ZERO));
/// assert!(p.retry_after(2).unwrap() <= Duration::from_millis(2));
/// assert!(p.retry_after(3).unwrap() <= Duration::from_millis(3));
/// assert_eq!(p.retry_after(4), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxRetry {
    max_attempts: u32,
    backoff_min: Duration,
    backoff_max: Duration,
}

impl Default for TxRetry {
    fn default() -> Self {
        TxRetry {
            max_attempts: 100,
            backoff_min: Duration::from_millis(1),
            backoff_max: Duration::from_millis(100),
        }
    }
}

impl TxRetry {
    /// At most `max_attempts` attempts (at least one always runs), default waits.
    pub fn attempts(max_attempts: u32) -> TxRetry {
        TxRetry {
            max_attempts: max_attempts.max(1),
            ..TxRetry::default()
        }
    }

    /// The cap on the wait before the third attempt is `min`; it doubles for
    /// each later attempt, up to `max`. Zero for both: no waiting at all.
    pub fn backoff(mut self, min: Duration, max: Duration) -> TxRetry {
        self.backoff_min = min;
        self.backoff_max = max.max(min);
        self
    }

    /// The most attempts this policy allows.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
}

impl TxPolicy for TxRetry {
    fn retry_after(&mut self, attempt: u32) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        if attempt <= 1 {
            // Most collisions are one-off: try again at once.
            return Some(Duration::ZERO);
        }
        let cap = crate::retry::backoff(attempt - 1, self.backoff_min, self.backoff_max);
        Some(jitter(cap))
    }
}

/// A random duration in `0..=cap`.
fn jitter(cap: Duration) -> Duration {
    let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        return Duration::ZERO;
    }
    // Each `RandomState` gets fresh random keys: a cheap random number
    // without a dependency (quality does not matter, only spread).
    let r = RandomState::new().hash_one(nanos);
    Duration::from_nanos(r % nanos.saturating_add(1))
}

/// What the helper does after one attempt of the closure.
enum Next<T> {
    Done(T),
    Retry,
}

/// Keeps a client's watch guard honest: when the helper is left without
/// clearing it (the closure panicked, or the async form was cancelled), the
/// connection may still hold the `WATCH`, so it is dropped.
struct WatchScope<'a, C: Watching>(&'a mut C);

impl<C: Watching> Drop for WatchScope<'_, C> {
    fn drop(&mut self) {
        if self.0.guard().take().is_some() {
            self.0.disconnect();
        }
    }
}

/// The transaction bookkeeping shared by [`Client`] and `AsyncConnection`.
trait Watching {
    fn guard(&mut self) -> &mut Option<u64>;
    fn conn_id(&self) -> Option<u64>;
    fn execs(&self) -> u64;
    fn disconnect(&mut self);
}

impl Watching for Client {
    fn guard(&mut self) -> &mut Option<u64> {
        &mut self.watch_guard
    }
    fn conn_id(&self) -> Option<u64> {
        self.conn.as_ref().map(|_| self.conn_id)
    }
    fn execs(&self) -> u64 {
        self.execs
    }
    fn disconnect(&mut self) {
        self.conn = None;
    }
}

/// The state of one attempt, taken before the closure runs.
struct Attempt {
    watched: bool,
    conn_id: Option<u64>,
    execs: u64,
}

impl Attempt {
    fn start<C: Watching>(c: &mut C, watched: bool) -> Attempt {
        let conn_id = c.conn_id();
        if watched {
            *c.guard() = conn_id;
        }
        Attempt {
            watched,
            conn_id,
            execs: c.execs(),
        }
    }

    /// Clears the guard; true when the connection still holds this attempt's
    /// `WATCH` (the closure did not send `EXEC` and the connection is the
    /// same), so that `UNWATCH` is due.
    fn still_watching<C: Watching>(&self, c: &mut C) -> bool {
        let guarded = c.guard().take().is_some();
        guarded
            && self.watched
            && c.execs() == self.execs
            && c.conn_id().is_some()
            && c.conn_id() == self.conn_id
    }

    /// What the closure's result means.
    fn outcome<T, P: TxPolicy>(
        r: Result<Option<T>>,
        attempt: u32,
        policy: &mut P,
    ) -> Result<(Next<T>, Duration)> {
        match r? {
            Some(v) => Ok((Next::Done(v), Duration::ZERO)),
            None => match policy.retry_after(attempt) {
                Some(wait) => Ok((Next::Retry, wait)),
                None => Err(Error::WatchConflict { attempts: attempt }),
            },
        }
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
    ///   new attempt, or returns [`Error::WatchConflict`] when the policy
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
    /// [`Error::ConnectionLost`] (none is resent on a new connection, where
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
    pub fn transaction_with<K, T, P, F>(&mut self, keys: K, mut policy: P, mut f: F) -> Result<T>
    where
        K: ToArgs,
        P: TxPolicy,
        F: FnMut(&mut Client, &mut Pipeline) -> Result<Option<T>>,
    {
        let watch = Cmd::from_args(("WATCH", &keys));
        let watched = watch.arg_count() > 1;
        let mut pipe = Pipeline::new();
        let scope = WatchScope(self);
        let mut attempt = 0u32;
        loop {
            attempt = attempt.saturating_add(1);
            if watched {
                scope.0.req_command(&watch)?;
            }
            let state = Attempt::start(scope.0, watched);
            pipe.clear();
            pipe.atomic();
            let r = f(scope.0, &mut pipe);
            if state.still_watching(scope.0) && scope.0.unwatch().is_err() {
                scope.0.disconnect();
            }
            match Attempt::outcome(r, attempt, &mut policy)? {
                (Next::Done(v), _) => return Ok(v),
                (Next::Retry, wait) => {
                    if !wait.is_zero() {
                        std::thread::sleep(wait);
                    }
                }
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

#[cfg(feature = "tokio")]
mod async_tx {
    use std::ops::AsyncFnMut;

    use super::*;
    use crate::AsyncConnection;

    impl Watching for AsyncConnection {
        fn guard(&mut self) -> &mut Option<u64> {
            &mut self.watch_guard
        }
        fn conn_id(&self) -> Option<u64> {
            self.is_connected().then_some(self.conn_id)
        }
        fn execs(&self) -> u64 {
            self.execs
        }
        fn disconnect(&mut self) {
            AsyncConnection::disconnect(self)
        }
    }

    impl AsyncConnection {
        /// Runs an optimistic transaction on `keys` with the default
        /// [`TxRetry`] policy: the async form of [`Client::transaction`].
        ///
        /// The closure is an async closure; write it `async move |con, pipe| ...`
        /// so that the future it returns owns what it captured, which is what
        /// lets the whole transaction run in a spawned task.
        ///
        /// ```no_run
        /// # async fn demo() -> soquete_client::Result<()> {
        /// use soquete_client::AsyncConnection;
        /// let mut con = AsyncConnection::connect("redis://127.0.0.1").await?;
        /// let key = String::from("counter");
        /// let (n,): (i64,) = con
        ///     .transaction(&key, async move |con, pipe| {
        ///         let n: i64 = con.get::<_, Option<i64>>("counter").await?.unwrap_or(0);
        ///         pipe.set("counter", n + 1).ignore().get("counter").query_async(con).await
        ///     })
        ///     .await?;
        /// # Ok(())
        /// # }
        /// ```
        pub async fn transaction<K, T, F>(&mut self, keys: K, f: F) -> Result<T>
        where
            K: ToArgs,
            F: AsyncFnMut(&mut AsyncConnection, &mut Pipeline) -> Result<Option<T>>,
        {
            self.transaction_with(keys, TxRetry::default(), f).await
        }

        /// Runs an optimistic transaction on `keys`, as often as `policy`
        /// allows: the async form of [`Client::transaction_with`], with the
        /// same contract. Cancelling it (dropping its future) drops the
        /// connection when it may still hold the `WATCH`.
        pub async fn transaction_with<K, T, P, F>(
            &mut self,
            keys: K,
            mut policy: P,
            mut f: F,
        ) -> Result<T>
        where
            K: ToArgs,
            P: TxPolicy,
            F: AsyncFnMut(&mut AsyncConnection, &mut Pipeline) -> Result<Option<T>>,
        {
            let watch = Cmd::from_args(("WATCH", &keys));
            let watched = watch.arg_count() > 1;
            let mut pipe = Pipeline::new();
            let scope = WatchScope(self);
            let mut attempt = 0u32;
            loop {
                attempt = attempt.saturating_add(1);
                if watched {
                    scope.0.req_command(&watch).await?;
                }
                let state = Attempt::start(scope.0, watched);
                pipe.clear();
                pipe.atomic();
                let r = f(scope.0, &mut pipe).await;
                if state.still_watching(scope.0) && scope.0.unwatch().await.is_err() {
                    scope.0.disconnect();
                }
                match Attempt::outcome(r, attempt, &mut policy)? {
                    (Next::Done(v), _) => return Ok(v),
                    (Next::Retry, wait) => {
                        if !wait.is_zero() {
                            tokio::time::sleep(wait).await;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::{expect, req, send, FakePeer};
    use crate::pipe;

    #[test]
    fn default_policy_retries_at_once_then_spreads_out() {
        let mut p = TxRetry::default();
        assert_eq!(p.max_attempts(), 100);
        assert_eq!(p.retry_after(1), Some(Duration::ZERO));
        for attempt in 2..100 {
            let cap = crate::retry::backoff(
                attempt - 1,
                Duration::from_millis(1),
                Duration::from_millis(100),
            );
            assert!(p.retry_after(attempt).unwrap() <= cap, "{attempt}");
        }
        assert_eq!(p.retry_after(100), None);
        assert_eq!(TxRetry::attempts(0).max_attempts(), 1);
        assert_eq!(TxRetry::attempts(1).retry_after(1), None);
    }

    #[test]
    fn jitter_stays_below_its_cap_and_varies() {
        let cap = Duration::from_millis(10);
        let waits: Vec<Duration> = (0..64).map(|_| jitter(cap)).collect();
        assert!(waits.iter().all(|w| *w <= cap));
        assert!(waits.iter().any(|w| *w != waits[0]), "{waits:?}");
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
    }

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
        let peer = FakePeer::start(vec![vec![
            expect(req(&["WATCH", "k"])),
            send("+OK\r\n"),
            expect(req(&["GET", "k"])),
            send("$1\r\n0\r\n"),
            expect(&wire[..]),
            send("+OK\r\n+QUEUED\r\n+QUEUED\r\n*-1\r\n"),
            // EXEC unwatched everything: the next attempt watches again.
            expect(req(&["WATCH", "k"])),
            send("+OK\r\n"),
            expect(req(&["GET", "k"])),
            send("$1\r\n1\r\n"),
            expect(&wire[..]),
            send("+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n$1\r\n2\r\n"),
        ]]);
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
        assert_eq!(c.watch_guard, None);
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
        assert_eq!(c.watch_guard, None);
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
        assert_eq!(c.watch_guard, None);
        drop(c);
        peer.finish();
    }
}
