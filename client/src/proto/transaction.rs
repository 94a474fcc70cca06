//! Optimistic transactions: `WATCH` keys, read them, queue writes in an
//! atomic pipeline, `EXEC`; when a watched key changed in between, `EXEC`
//! refuses (returns null) and the whole attempt runs again. Here: the retry
//! policies ([`TxPolicy`], [`TxRetry`]) and [`Transaction`], the state
//! machine of the helper both drivers run (`sync::transaction`,
//! `tokio::transaction`).
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
//! [`Client::transaction`]: crate::Client::transaction
//! [`transaction`]: crate::transaction

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use crate::args::ToArgs;
use crate::cmd::Cmd;
use crate::error::{Error, Result};
use crate::pipeline::Pipeline;
use crate::proto::session::Session;

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
        let cap = crate::proto::reconnect::backoff(attempt - 1, self.backoff_min, self.backoff_max);
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

/// A client the transaction helper runs on: `Client` or `AsyncConnection`.
pub(crate) trait Watching {
    /// The driver's connection type.
    type Conn;
    /// Its connection, the watch guard, the `EXEC` count.
    fn session(&mut self) -> &mut Session<Self::Conn>;
}

/// Keeps a client's watch guard honest: when the helper is left without
/// clearing it (the closure panicked, or the async form was cancelled), the
/// connection may still hold the `WATCH`, so it is dropped.
pub(crate) struct WatchScope<'a, C: Watching>(pub(crate) &'a mut C);

impl<C: Watching> Drop for WatchScope<'_, C> {
    fn drop(&mut self) {
        let s = self.0.session();
        if s.watch_guard().take().is_some() {
            s.disconnect();
        }
    }
}

/// One run of the transaction helper, as a state machine: what to send
/// before each attempt, the pipeline the closure fills, whether `UNWATCH` is
/// due after it, and whether to try again.
///
/// ```text
/// let mut tx = Transaction::new(keys, policy);
/// loop {
///     if let Some(watch) = tx.watch() {
///         send(watch)?;
///     }
///     let pipe = tx.begin(session);
///     let r = f(client, pipe);
///     if tx.unwatch_due(session) && send(UNWATCH).is_err() {
///         session.disconnect();
///     }
///     match tx.outcome(r)? {
///         Next::Done(v) => return Ok(v),
///         Next::RetryAfter(wait) => sleep(wait),
///         Next::Retry => {}
///     }
/// }
/// ```
pub(crate) struct Transaction<P> {
    /// `WATCH keys`.
    watch: Cmd,
    /// False when there are no keys: no `WATCH` is sent.
    watched: bool,
    policy: P,
    /// The current attempt, from 1.
    attempt: u32,
    /// The connection and `EXEC` count when the closure started.
    conn_id: Option<u64>,
    execs: u64,
    /// The atomic pipeline handed to the closure, emptied for each attempt.
    pipe: Pipeline,
}

/// What the helper does after an attempt.
#[derive(Debug, PartialEq)]
pub(crate) enum Next<T> {
    /// The closure is done: return its value.
    Done(T),
    /// `EXEC` was refused: run the next attempt now.
    Retry,
    /// `EXEC` was refused: run the next attempt after this wait.
    RetryAfter(Duration),
}

impl<P: TxPolicy> Transaction<P> {
    /// A transaction on `keys` (no `WATCH` when they write no argument),
    /// retried as `policy` says.
    pub(crate) fn new<K: ToArgs>(keys: K, policy: P) -> Transaction<P> {
        let watch = Cmd::from_args(("WATCH", keys));
        Transaction {
            watched: watch.arg_count() > 1,
            watch,
            policy,
            attempt: 0,
            conn_id: None,
            execs: 0,
            pipe: Pipeline::new(),
        }
    }

    /// Starts the next attempt: the `WATCH` to send first, if there are keys.
    pub(crate) fn watch(&mut self) -> Option<&Cmd> {
        self.attempt = self.attempt.saturating_add(1);
        self.watched.then_some(&self.watch)
    }

    /// Once `WATCH` is answered: arms the watch guard on the session's
    /// connection, and hands out the empty atomic pipeline the closure fills.
    pub(crate) fn begin<C>(&mut self, s: &mut Session<C>) -> &mut Pipeline {
        self.conn_id = s.conn_id();
        self.execs = s.execs();
        if self.watched {
            *s.watch_guard() = self.conn_id;
        }
        self.pipe.clear();
        self.pipe.atomic();
        &mut self.pipe
    }

    /// Once the closure returned: clears the watch guard, and says whether
    /// the connection still holds this attempt's `WATCH` (no `EXEC` was sent
    /// and the connection is the same), so that `UNWATCH` is due.
    pub(crate) fn unwatch_due<C>(&self, s: &mut Session<C>) -> bool {
        let guarded = s.watch_guard().take().is_some();
        guarded
            && self.watched
            && s.execs() == self.execs
            && s.conn_id().is_some()
            && s.conn_id() == self.conn_id
    }

    /// What the closure's result means: `Ok(Some(v))` is done, `Ok(None)` (a
    /// refused `EXEC`) is another attempt if the policy allows, else
    /// [`Error::WatchConflict`]; an error is returned as it is.
    pub(crate) fn outcome<T>(&mut self, r: Result<Option<T>>) -> Result<Next<T>> {
        match r? {
            Some(v) => Ok(Next::Done(v)),
            None => match self.policy.retry_after(self.attempt) {
                Some(wait) if wait.is_zero() => Ok(Next::Retry),
                Some(wait) => Ok(Next::RetryAfter(wait)),
                None => Err(Error::WatchConflict {
                    attempts: self.attempt,
                }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_retries_at_once_then_spreads_out() {
        let mut p = TxRetry::default();
        assert_eq!(p.max_attempts(), 100);
        assert_eq!(p.retry_after(1), Some(Duration::ZERO));
        for attempt in 2..100 {
            let cap = crate::proto::reconnect::backoff(
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

    fn refused() -> Result<Option<()>> {
        Ok(None)
    }

    #[test]
    fn each_attempt_watches_again_and_no_keys_watch_nothing() {
        let mut tx = Transaction::new(("a", "b"), TxRetry::default());
        assert_eq!(
            tx.watch().map(Cmd::to_packed),
            Some(crate::fake::req(&["WATCH", "a", "b"]))
        );
        assert_eq!(tx.outcome(refused()).unwrap(), Next::Retry);
        assert!(tx.watch().is_some());
        let mut none = Transaction::new((), TxRetry::default());
        assert!(none.watch().is_none());
    }

    #[test]
    fn the_pipeline_is_atomic_and_empty_for_every_attempt() {
        let mut s = Session::new(());
        let mut tx = Transaction::new("k", TxRetry::default());
        tx.watch();
        tx.begin(&mut s).incr("k");
        tx.unwatch_due(&mut s);
        tx.watch();
        let pipe = tx.begin(&mut s);
        assert!(pipe.is_atomic() && pipe.is_empty());
    }

    #[test]
    fn unwatch_is_due_unless_exec_was_sent_or_the_connection_changed() {
        let mut s = Session::new(());
        let mut tx = Transaction::new("k", TxRetry::default());
        tx.watch();
        tx.begin(&mut s);
        assert_eq!(*s.watch_guard(), Some(1));
        assert!(tx.unwatch_due(&mut s));
        assert_eq!(*s.watch_guard(), None);
        // EXEC went out: it unwatched everything.
        tx.watch();
        tx.begin(&mut s);
        s.count_exec();
        assert!(!tx.unwatch_due(&mut s));
        // The connection was lost: the watch went with it.
        tx.watch();
        tx.begin(&mut s);
        s.disconnect();
        s.install(());
        assert!(!tx.unwatch_due(&mut s));
        // No keys: nothing to unwatch, no guard.
        let mut none = Transaction::new((), TxRetry::default());
        none.watch();
        none.begin(&mut s);
        assert_eq!(*s.watch_guard(), None);
        assert!(!none.unwatch_due(&mut s));
    }

    #[test]
    fn the_policy_decides_retries_and_gives_up_with_a_watch_conflict() {
        let mut asked = Vec::new();
        let policy = |attempt: u32| {
            asked.push(attempt);
            match attempt {
                1 => Some(Duration::ZERO),
                2 => Some(Duration::from_millis(3)),
                _ => None,
            }
        };
        let mut tx = Transaction::new("k", policy);
        tx.watch();
        assert_eq!(tx.outcome(refused()).unwrap(), Next::Retry);
        tx.watch();
        assert_eq!(
            tx.outcome(refused()).unwrap(),
            Next::RetryAfter(Duration::from_millis(3))
        );
        tx.watch();
        let e = tx.outcome(refused()).unwrap_err();
        assert!(matches!(e, Error::WatchConflict { attempts: 3 }), "{e}");
        tx.watch();
        assert_eq!(tx.outcome(Ok(Some(7))).unwrap(), Next::Done(7));
        assert!(tx.outcome::<()>(Err(Error::Closed)).is_err());
        drop(tx);
        assert_eq!(asked, [1, 2, 3]);
    }
}
