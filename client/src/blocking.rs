//! Blocking commands: `BLPOP`, `BRPOP`, `BLMOVE`, `BRPOPLPUSH`, `BLMPOP`,
//! `BZPOPMIN`, `BZPOPMAX`, `BZMPOP`.
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
//!   has no blocking helpers and refuses these commands when sent raw: one
//!   `BLPOP` on it would hold up every other task's requests queued behind
//!   it. It refuses `WATCH`, `MULTI` (outside atomic pipelines), the
//!   `SUBSCRIBE` family and `MONITOR` for the same reason: they change the
//!   shared connection for every task. (`XREAD ... BLOCK` and `WAIT` are not
//!   recognised; do not send them on a `MultiplexedClient` either.)
//!
//! Timeouts are seconds as `f64`, as Redis takes them (fractions allowed, 0
//! waits for ever). A blocking command is never resent after a lost
//! connection (the server may have popped the element already).
//!
//! [`Client`]: crate::Client
//! [`AsyncConnection`]: crate::AsyncConnection
//! [`MultiplexedClient`]: crate::MultiplexedClient
//! [`MultiplexedClient::dedicated_connection`]: crate::MultiplexedClient::dedicated_connection

use std::time::Duration;

use crate::args::{ArgSink, ToArgs};
use crate::cmd::{ArgCounter, Cmd};
#[cfg(feature = "tokio")]
use crate::error::Error;
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

/// The wait for the reply to a blocking command with `timeout` seconds,
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

/// How late a server may answer a blocking command that timed out: Redis
/// checks the deadlines on its `hz` timer (10 per second by default, 1 at
/// the least).
const SERVER_CLOCK_SLACK: Duration = Duration::from_secs(1);

/// Commands a [`MultiplexedClient`](crate::MultiplexedClient) refuses, and why. Sorted.
#[cfg(feature = "tokio")]
const UNFIT_FOR_MULTIPLEXING: &[(&[u8], Unfit)] = &[
    (b"BLMOVE", Unfit::Blocks),
    (b"BLMPOP", Unfit::Blocks),
    (b"BLPOP", Unfit::Blocks),
    (b"BRPOP", Unfit::Blocks),
    (b"BRPOPLPUSH", Unfit::Blocks),
    (b"BZMPOP", Unfit::Blocks),
    (b"BZPOPMAX", Unfit::Blocks),
    (b"BZPOPMIN", Unfit::Blocks),
    (b"MONITOR", Unfit::Streams),
    (b"MULTI", Unfit::Transaction),
    (b"PSUBSCRIBE", Unfit::Streams),
    (b"SSUBSCRIBE", Unfit::Streams),
    (b"SUBSCRIBE", Unfit::Streams),
    (b"WATCH", Unfit::Transaction),
];

#[cfg(feature = "tokio")]
#[derive(Clone, Copy, Debug)]
enum Unfit {
    Blocks,
    Transaction,
    Streams,
}

/// The error a multiplexed client returns for a command named `name` (any
/// case) that would stall or change its shared connection, if it is one.
#[cfg(feature = "tokio")]
pub(crate) fn refuse_on_multiplexed(name: &[u8]) -> Option<Error> {
    if name.len() > 16 {
        return None;
    }
    let mut up = [0u8; 16];
    for (d, s) in up.iter_mut().zip(name) {
        *d = s.to_ascii_uppercase();
    }
    let up = &up[..name.len()];
    let i = UNFIT_FOR_MULTIPLEXING
        .binary_search_by(|(n, _)| (*n).cmp(up))
        .ok()?;
    let (name, why) = UNFIT_FOR_MULTIPLEXING[i];
    let name = String::from_utf8_lossy(name);
    Some(Error::Client(match why {
        Unfit::Blocks => format!(
            "{name} would block the MultiplexedClient's shared connection, and every task's \
             requests behind it; send it on a dedicated connection \
             (MultiplexedClient::dedicated_connection)"
        ),
        Unfit::Transaction => format!(
            "{name} would put transaction state on the MultiplexedClient's shared connection, \
             for every task; use an atomic pipeline, or AsyncConnection::transaction on a \
             dedicated connection"
        ),
        Unfit::Streams => format!(
            "{name} would turn the MultiplexedClient's shared connection into a message \
             stream; use an AsyncSubscriber"
        ),
    }))
}

macro_rules! blocking_commands {
    ($(
        $(#[$attr:meta])*
        fn $name:ident<$($tp:ident: $bound:ident),*>($($arg:ident: $argty:ty),*) waits $timeout:ident => $args:expr;
    )*) => {
        /// Constructors for the blocking commands.
        impl Cmd {$(
            $(#[$attr])*
            #[allow(clippy::new_ret_no_self)]
            pub fn $name<$($tp: $bound),*>($($arg: $argty),*) -> Cmd {
                Cmd::from_args($args)
            }
        )*}

        /// Blocking commands: send the command, wait for the reply as long as
        /// the command may take (see the crate docs, "Blocking commands"),
        /// convert it to `RV`.
        impl Client {$(
            $(#[$attr])*
            pub fn $name<$($tp: $bound,)* RV: FromValue>(&mut self, $($arg: $argty),*) -> Result<RV> {
                let t = $timeout;
                self.query_blocking($args, t)
            }
        )*}

        /// Blocking commands: add the command to the batch (where it does not
        /// stretch the read timeout; inside `MULTI` it does not block).
        impl Pipeline {$(
            $(#[$attr])*
            pub fn $name<$($tp: $bound),*>(&mut self, $($arg: $argty),*) -> &mut Self {
                self.push_args($args)
            }
        )*}

        /// Blocking commands: send the command, wait for the reply as long as
        /// the command may take, convert it to `RV`.
        #[cfg(feature = "tokio")]
        impl crate::AsyncConnection {$(
            $(#[$attr])*
            pub async fn $name<$($tp: $bound,)* RV: FromValue>(&mut self, $($arg: $argty),*) -> Result<RV> {
                let t = $timeout;
                self.query_blocking($args, t).await
            }
        )*}
    };
}

blocking_commands! {
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

    #[cfg(feature = "tokio")]
    #[test]
    fn multiplexed_refusals_cover_blocking_and_stateful_commands() {
        assert!(UNFIT_FOR_MULTIPLEXING.windows(2).all(|w| w[0].0 < w[1].0));
        for name in ["blpop", "BZMPOP", "Watch", "multi", "subscribe", "MONITOR"] {
            assert!(refuse_on_multiplexed(name.as_bytes()).is_some(), "{name}");
        }
        for name in [
            "GET",
            "LPOP",
            "EXEC",
            "UNWATCH",
            "PUBLISH",
            "XREAD",
            "averyveryverylongcommandname",
        ] {
            assert!(refuse_on_multiplexed(name.as_bytes()).is_none(), "{name}");
        }
        let e = refuse_on_multiplexed(b"blpop").unwrap();
        assert!(e.to_string().starts_with("BLPOP would block"), "{e}");
    }
}
