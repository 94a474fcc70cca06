//! Waiting pops: `BLPOP`, `BRPOP`, `BLMOVE`, `BRPOPLPUSH`, `BLMPOP`,
//! `BZPOPMIN`, `BZPOPMAX`, `BZMPOP`, the commands Redis calls "blocking":
//! they wait on the server for an element. (In this crate "blocking" names
//! the synchronous [`Client`], hence the other name.)
//!
//! The server holds the reply to one of these until an element can be
//! served or the command's own timeout passes (then the reply is null, read
//! as `None`). Two consequences for a client:
//!
//! * **The reply wait follows the command.** The typed helpers on
//!   [`Client`] and [`AsyncConnection`] stretch the wait for this one reply
//!   to the configured read timeout *plus* the command's timeout plus one
//!   second (no bound at all for a timeout of 0, which waits for ever), so
//!   that the read timeout never fires while the server is still within its
//!   rights to wait. (The second is for the server's clock: Redis checks
//!   blocked clients' deadlines on its `hz` timer, so its null reply comes up
//!   to 100 ms late by default, up to 1 s with `hz 1`.) The same command sent
//!   raw (`cmd("BLPOP")`, a pipeline) keeps the plain read timeout.
//! * **The connection is taken while it waits.** Nothing else can use it, so
//!   they run on a connection of their own: a [`Client`], or an
//!   [`AsyncConnection`] in async code (for example from
//!   [`MultiplexedClient::dedicated_connection`]). A [`MultiplexedClient`]
//!   has no helpers for them and refuses these commands when sent raw: one
//!   `BLPOP` on it would hold up every other task's requests queued behind
//!   it. It refuses `WATCH`, `MULTI` (outside atomic pipelines), the
//!   `SUBSCRIBE` family and `MONITOR` for the same reason: they change the
//!   shared connection for every task. (`XREAD ... BLOCK` and `WAIT` are not
//!   recognised; do not send them on a `MultiplexedClient` either.)
//!
//! Timeouts are seconds as `f64`, as Redis takes them (fractions allowed, 0
//! waits for ever). A waiting pop is never resent after a lost
//! connection (the server may have popped the element already).
//!
//! [`Client`]: crate::Client
//! [`AsyncConnection`]: crate::AsyncConnection
//! [`MultiplexedClient`]: crate::MultiplexedClient
//! [`MultiplexedClient::dedicated_connection`]: crate::MultiplexedClient::dedicated_connection

use std::time::Duration;

use crate::args::{ArgSink, ToArgs};
use crate::cmd::{ArgCounter, Cmd};
use crate::error::Result;
use crate::pipeline::Pipeline;
use crate::sync::Client;
use crate::value::FromValue;

/// An end of a list: where `BLMOVE`/`LMOVE` take from and put to, where
/// `BLMPOP` pops.
///
/// ```
/// use soquete_client::{Cmd, Direction};
/// let c = Cmd::blmove("src", "dst", Direction::Right, Direction::Left, 1.5);
/// assert_eq!(c.to_packed(), soquete_client::cmd("BLMOVE")
///     .arg(("src", "dst", "RIGHT", "LEFT", "1.5")).to_packed());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The head: `LEFT`.
    Left,
    /// The tail: `RIGHT`.
    Right,
}

impl ToArgs for Direction {
    fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S) {
        out.push_arg(match self {
            Direction::Left => b"LEFT",
            Direction::Right => b"RIGHT",
        })
    }
}

/// How many arguments `keys` writes: the `numkeys` of `BLMPOP`/`BZMPOP`.
fn numkeys<K: ToArgs>(keys: &K) -> usize {
    let mut n = ArgCounter::default();
    keys.write_args(&mut n);
    n.count
}

/// The wait for the reply to a waiting pop with `timeout` seconds,
/// given the configured read timeout: `None` to keep the read timeout as it
/// is, `Some(None)` to wait without bound, `Some(Some(d))` to wait `d`.
///
/// Without a read timeout nothing changes. A timeout of 0 (for ever) lifts
/// the bound. Otherwise the wait is the read timeout plus the command's plus
/// [`SERVER_CLOCK_SLACK`]. A timeout Redis refuses (negative, not a number,
/// infinite) changes nothing: the server answers it with an error at once.
pub(crate) fn reply_wait(read_timeout: Option<Duration>, timeout: f64) -> Option<Option<Duration>> {
    let rt = read_timeout?;
    if timeout == 0.0 {
        return Some(None);
    }
    let t = Duration::try_from_secs_f64(timeout).ok()?;
    Some(
        rt.checked_add(t)
            .and_then(|w| w.checked_add(SERVER_CLOCK_SLACK)),
    )
}

/// How late a server may answer a waiting pop that timed out: Redis
/// checks the deadlines on its `hz` timer (10 per second by default, 1 at
/// the least).
const SERVER_CLOCK_SLACK: Duration = Duration::from_secs(1);

macro_rules! waiting_pops {
    ($(
        $(#[$attr:meta])*
        fn $name:ident<$($tp:ident: $bound:ident),*>($($arg:ident: $argty:ty),*) waits $timeout:ident => $args:expr;
    )*) => {
        /// Constructors for the waiting pops.
        impl Cmd {$(
            $(#[$attr])*
            #[allow(clippy::new_ret_no_self)]
            pub fn $name<$($tp: $bound),*>($($arg: $argty),*) -> Cmd {
                Cmd::from_args($args)
            }
        )*}

        /// Waiting pops: send the command, wait for the reply as long as the
        /// command may take (see the crate docs, "Waiting pops"), convert it
        /// to `RV`.
        impl Client {$(
            $(#[$attr])*
            pub fn $name<$($tp: $bound,)* RV: FromValue>(&mut self, $($arg: $argty),*) -> Result<RV> {
                let t = $timeout;
                self.query_waiting($args, t)
            }
        )*}

        /// Waiting pops: add the command to the batch (where it does not
        /// stretch the read timeout; inside `MULTI` it does not block).
        impl Pipeline {$(
            $(#[$attr])*
            pub fn $name<$($tp: $bound),*>(&mut self, $($arg: $argty),*) -> &mut Self {
                self.push_args($args)
            }
        )*}

        /// Waiting pops: send the command, wait for the reply as long as the
        /// command may take, convert it to `RV`.
        #[cfg(feature = "tokio")]
        impl crate::AsyncConnection {$(
            $(#[$attr])*
            pub async fn $name<$($tp: $bound,)* RV: FromValue>(&mut self, $($arg: $argty),*) -> Result<RV> {
                let t = $timeout;
                self.query_waiting($args, t).await
            }
        )*}
    };
}

waiting_pops! {
    /// `BLPOP key [key ...] timeout`: pops the head of the first non-empty
    /// list, waiting up to `timeout` seconds (0: for ever) for one. Reply:
    /// `Option<(key, element)>`, `None` at the timeout.
    ///
    /// ```no_run
    /// # let mut c = soquete_client::Client::connect("redis://127.0.0.1")?;
    /// let job: Option<(String, String)> = c.blpop(("urgent", "normal"), 2.5)?;
    /// # Ok::<(), soquete_client::Error>(())
    /// ```
    fn blpop<K: ToArgs>(keys: K, timeout: f64) waits timeout => ("BLPOP", keys, timeout);
    /// `BRPOP key [key ...] timeout`: as [`blpop`](Self::blpop), from the tail.
    fn brpop<K: ToArgs>(keys: K, timeout: f64) waits timeout => ("BRPOP", keys, timeout);
    /// `BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout`: moves an
    /// element from one end of `source` to one end of `destination`, waiting
    /// up to `timeout` seconds for `source` to have one. Reply:
    /// `Option<element>`.
    ///
    /// ```no_run
    /// use soquete_client::Direction::{Left, Right};
    /// # let mut c = soquete_client::Client::connect("redis://127.0.0.1")?;
    /// // A reliable queue: take the oldest job into a processing list.
    /// let job: Option<String> = c.blmove("jobs", "processing", Right, Left, 0.0)?;
    /// # Ok::<(), soquete_client::Error>(())
    /// ```
    fn blmove<S: ToArgs, D: ToArgs>(source: S, destination: D, from: Direction, to: Direction, timeout: f64)
        waits timeout => ("BLMOVE", source, destination, from, to, timeout);
    /// `BRPOPLPUSH source destination timeout`: `BLMOVE source destination
    /// RIGHT LEFT timeout`. Reply: `Option<element>`.
    fn brpoplpush<S: ToArgs, D: ToArgs>(source: S, destination: D, timeout: f64)
        waits timeout => ("BRPOPLPUSH", source, destination, timeout);
    /// `BLMPOP timeout numkeys key [key ...] LEFT|RIGHT COUNT count`: pops up
    /// to `count` elements from one end of the first non-empty list (`numkeys`
    /// is counted from `keys`). Reply: `Option<(key, Vec<element>)>`.
    ///
    /// ```no_run
    /// use soquete_client::Direction;
    /// # let mut c = soquete_client::Client::connect("redis://127.0.0.1")?;
    /// let batch: Option<(String, Vec<String>)> = c.blmpop(1.0, ["a", "b"], Direction::Left, 10)?;
    /// # Ok::<(), soquete_client::Error>(())
    /// ```
    fn blmpop<K: ToArgs>(timeout: f64, keys: K, direction: Direction, count: usize)
        waits timeout => ("BLMPOP", timeout, numkeys(&keys), keys, direction, "COUNT", count);
    /// `BZPOPMIN key [key ...] timeout`: pops the lowest-scored member of the
    /// first non-empty sorted set. Reply: `Option<(key, member, score)>`.
    ///
    /// ```no_run
    /// # let mut c = soquete_client::Client::connect("redis://127.0.0.1")?;
    /// let next: Option<(String, String, f64)> = c.bzpopmin("tasks", 0.5)?;
    /// # Ok::<(), soquete_client::Error>(())
    /// ```
    fn bzpopmin<K: ToArgs>(keys: K, timeout: f64) waits timeout => ("BZPOPMIN", keys, timeout);
    /// `BZPOPMAX key [key ...] timeout`: as [`bzpopmin`](Self::bzpopmin), the highest score.
    fn bzpopmax<K: ToArgs>(keys: K, timeout: f64) waits timeout => ("BZPOPMAX", keys, timeout);
    /// `BZMPOP timeout numkeys key [key ...] MIN COUNT count`: pops up to
    /// `count` lowest-scored members of the first non-empty sorted set.
    /// Reply: `Option<(key, Vec<(member, score)>)>`.
    fn bzmpop_min<K: ToArgs>(timeout: f64, keys: K, count: usize)
        waits timeout => ("BZMPOP", timeout, numkeys(&keys), keys, "MIN", "COUNT", count);
    /// `BZMPOP timeout numkeys key [key ...] MAX COUNT count`: as
    /// [`bzmpop_min`](Self::bzmpop_min), the highest scores.
    fn bzmpop_max<K: ToArgs>(timeout: f64, keys: K, count: usize)
        waits timeout => ("BZMPOP", timeout, numkeys(&keys), keys, "MAX", "COUNT", count);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(c: Cmd) -> Vec<String> {
        c.args()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    }

    #[test]
    fn constructors_count_keys_and_spell_directions() {
        assert_eq!(
            args(Cmd::blpop(["a", "b"], 0.0)),
            ["BLPOP", "a", "b", "0.0"]
        );
        assert_eq!(
            args(Cmd::blmpop(0.5, ("a", "b", "c"), Direction::Right, 3)),
            ["BLMPOP", "0.5", "3", "a", "b", "c", "RIGHT", "COUNT", "3"]
        );
        assert_eq!(
            args(Cmd::bzmpop_max(1.0, "z", 2)),
            ["BZMPOP", "1.0", "1", "z", "MAX", "COUNT", "2"]
        );
        assert_eq!(
            args(Cmd::brpoplpush("s", "d", 2.0)),
            ["BRPOPLPUSH", "s", "d", "2.0"]
        );
    }

    #[test]
    fn reply_wait_follows_the_command_timeout() {
        let rt = Some(Duration::from_millis(100));
        assert_eq!(reply_wait(None, 5.0), None);
        assert_eq!(reply_wait(rt, 0.0), Some(None));
        assert_eq!(
            reply_wait(rt, 0.25),
            Some(Some(Duration::from_millis(1350)))
        );
        for refused in [-1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(reply_wait(rt, refused), None, "{refused}");
        }
        assert_eq!(reply_wait(Some(Duration::MAX), 1.0), Some(None));
    }
}
