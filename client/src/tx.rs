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
//! [`Client::transaction`]: crate::Client::transaction
//! [`transaction`]: crate::transaction

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use crate::error::{Error, Result};
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

/// What the helper does after one attempt of the closure.
pub(crate) enum Next<T> {
    Done(T),
    Retry,
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

/// A client the transaction helper runs on: `Client` or `AsyncConnection`.
pub(crate) trait Watching {
    /// The driver's connection type.
    type Conn;
    /// Its connection, the watch guard, the `EXEC` count.
    fn session(&mut self) -> &mut Session<Self::Conn>;
}

/// The state of one attempt, taken before the closure runs.
pub(crate) struct Attempt {
    watched: bool,
    conn_id: Option<u64>,
    execs: u64,
}

impl Attempt {
    pub(crate) fn start<C>(s: &mut Session<C>, watched: bool) -> Attempt {
        let conn_id = s.conn_id();
        if watched {
            *s.watch_guard() = conn_id;
        }
        Attempt {
            watched,
            conn_id,
            execs: s.execs(),
        }
    }

    /// Clears the guard; true when the connection still holds this attempt's
    /// `WATCH` (the closure did not send `EXEC` and the connection is the
    /// same), so that `UNWATCH` is due.
    pub(crate) fn still_watching<C>(&self, s: &mut Session<C>) -> bool {
        let guarded = s.watch_guard().take().is_some();
        guarded
            && self.watched
            && s.execs() == self.execs
            && s.conn_id().is_some()
            && s.conn_id() == self.conn_id
    }

    /// What the closure's result means.
    pub(crate) fn outcome<T, P: TxPolicy>(
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
}
