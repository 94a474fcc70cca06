//! The sans-I/O core shared by the blocking and the async drivers: state
//! machines that take decoded frames and return bytes to write and
//! decisions, with no socket in sight. Each driver (`sync/`, `tokio/`) is a
//! thin loop that moves bytes between its sockets and these.
//!
//! * [`inbox`]: bytes received, decoded into frames and replies.
//! * [`handshake`]: `HELLO`/`AUTH`/`CLIENT SETNAME`/`SELECT` on a new connection.
//! * [`session`]: the connection a client owns, its number, the watch guard.
//! * [`resend`]: whether a request whose connection failed is sent again.
//! * [`reconnect`]: the connect attempts after a lost connection, with backoff.
//! * [`subscription`]: what a subscriber sends and receives, its subscriptions.
//! * [`transaction`]: the `WATCH`/`MULTI`/`EXEC` helper's attempts and retry policies.
//! * [`multiplexing`]: the commands a shared connection refuses.

pub(crate) mod handshake;
pub(crate) mod inbox;
#[cfg(feature = "tokio")]
pub(crate) mod multiplexing;
pub(crate) mod reconnect;
pub(crate) mod resend;
pub(crate) mod session;
pub(crate) mod subscription;
pub(crate) mod transaction;
