//! [`Reconnect`]: connecting again after a lost connection, with backoff.
//!
//! Connecting again waits `backoff_min`, doubling up to `backoff_max`, for at
//! most `reconnect_attempts` attempts (see [`Config`]); the first attempt does
//! not wait. When they all fail, the requests waiting for the connection get
//! the last connect error, and the next request starts a new round. A server
//! error (a refused password) or a TLS error (an untrusted certificate) ends
//! the round at once: retrying will not help.
//! With `reconnect_attempts` 0 nothing is attempted: [`Error::Closed`].

use std::time::Duration;

use crate::config::Config;
use crate::error::{Error, Result};

/// One round of connect attempts, as a schedule: the driver asks how long
/// to wait, makes an attempt, and reports how it went.
///
/// ```text
/// let mut round = Reconnect::new(cfg);
/// loop {
///     if let Some(wait) = round.next_wait()? {
///         sleep(wait);
///     }
///     if let Some(conn) = round.outcome(open(cfg))? {
///         return Ok(conn);
///     }
/// }
/// ```
#[derive(Debug)]
pub(crate) struct Reconnect {
    attempt: u32,
    attempts: u32,
    min: Duration,
    max: Duration,
    last: Error,
}

impl Reconnect {
    /// A round of at most `cfg.reconnect_attempts` attempts.
    pub(crate) fn new(cfg: &Config) -> Reconnect {
        Reconnect {
            attempt: 0,
            attempts: cfg.reconnect_attempts,
            min: cfg.backoff_min,
            max: cfg.backoff_max,
            last: Error::Closed,
        }
    }

    /// The wait before the next attempt (`None`: go at once), or, when no
    /// attempt is left, the error that ends the round (the last attempt's).
    pub(crate) fn next_wait(&mut self) -> Result<Option<Duration>> {
        if self.attempt >= self.attempts {
            return Err(std::mem::replace(&mut self.last, Error::Closed));
        }
        let wait = backoff(self.attempt, self.min, self.max);
        self.attempt += 1;
        Ok((!wait.is_zero()).then_some(wait))
    }

    /// What an attempt's result means: `Ok(Some(conn))` connected,
    /// `Ok(None)` try again, `Err` give up now.
    pub(crate) fn outcome<C>(&mut self, r: Result<C>) -> Result<Option<C>> {
        match r {
            Ok(c) => Ok(Some(c)),
            Err(e @ (Error::Server(_) | Error::Tls(_))) => Err(e),
            Err(e) => {
                self.last = e;
                Ok(None)
            }
        }
    }
}

/// The wait before connect attempt `attempt` (0 is the first, which does not wait).
pub(crate) fn backoff(attempt: u32, min: Duration, max: Duration) -> Duration {
    if attempt == 0 {
        return Duration::ZERO;
    }
    let factor = 1u32.checked_shl(attempt - 1).unwrap_or(u32::MAX);
    min.saturating_mul(factor).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Addr;
    use crate::error::ServerError;

    fn cfg(attempts: u32) -> Config {
        let mut c = Config::new(Addr::Unix("/nowhere".into()));
        c.reconnect_attempts = attempts;
        c.backoff_min = Duration::from_millis(10);
        c.backoff_max = Duration::from_millis(25);
        c
    }

    fn refused() -> Error {
        Error::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "refused",
        ))
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let (lo, hi) = (Duration::from_millis(10), Duration::from_millis(100));
        let waits: Vec<u64> = (0..7)
            .map(|i| backoff(i, lo, hi).as_millis() as u64)
            .collect();
        assert_eq!(waits, [0, 10, 20, 40, 80, 100, 100]);
        assert_eq!(backoff(200, lo, hi), hi);
    }

    #[test]
    fn a_round_waits_more_each_time_then_reports_the_last_error() {
        let mut round = Reconnect::new(&cfg(4));
        let mut waits = Vec::new();
        let e = loop {
            match round.next_wait() {
                Ok(w) => waits.push(w.unwrap_or_default().as_millis()),
                Err(e) => break e,
            }
            assert!(round.outcome::<()>(Err(refused())).unwrap().is_none());
        };
        assert_eq!(waits, [0, 10, 20, 25]);
        assert!(matches!(e, Error::Io(_)), "{e}");
    }

    #[test]
    fn a_connection_ends_the_round() {
        let mut round = Reconnect::new(&cfg(3));
        assert_eq!(round.next_wait().unwrap(), None);
        assert_eq!(round.outcome(Ok(7)).unwrap(), Some(7));
    }

    #[test]
    fn a_refused_password_ends_the_round_at_once() {
        let mut round = Reconnect::new(&cfg(3));
        round.next_wait().unwrap();
        let e = round
            .outcome::<()>(Err(Error::Server(ServerError::new("WRONGPASS no"))))
            .unwrap_err();
        assert_eq!(e.code(), Some("WRONGPASS"));
    }

    #[test]
    fn no_attempt_at_all_is_closed() {
        let e = Reconnect::new(&cfg(0)).next_wait().unwrap_err();
        assert!(matches!(e, Error::Closed), "{e}");
    }
}
