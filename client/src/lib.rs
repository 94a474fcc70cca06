//! soquete-client: a Redis-protocol client. Blocking with pipelines, and (with
//! the `tokio` feature) async and multiplexed with automatic pipelining.
//!
//! The API is redis-rs's shape: [`cmd`]`("NAME").arg(..).query(&mut client)`
//! for any command, typed helpers (`client.get(k)`, `client.set(k, v)`...) for
//! the common ones, [`pipe`]`()` for batches, [`ToArgs`]/[`FromValue`] for
//! conversions. Replies are decoded by `soquete-resp` without copying bulk
//! strings, requests are packed in one buffer with exact reservations.
//!
//! # Quick start
//!
//! ```no_run
//! use soquete_client::{cmd, pipe, Client};
//!
//! let mut c = Client::connect("redis://127.0.0.1:6379/0")?;
//! let _: () = c.set("greeting", "hello")?;
//! let v: String = c.get("greeting")?;
//! assert_eq!(v, "hello");
//!
//! // Any command, reply converted to the type asked for.
//! let n: i64 = cmd("INCRBY").arg("counter").arg(5).query(&mut c)?;
//!
//! // Many commands, one write, one read.
//! let (a, b): (i64, Option<String>) = pipe().incr("counter").get("greeting").query(&mut c)?;
//! # Ok::<(), soquete_client::Error>(())
//! ```
//!
//! With the `tokio` feature, a [`MultiplexedClient`] is shared by any number
//! of tasks; whatever they ask at the same moment goes out in one write:
//!
//! ```no_run
//! # #[cfg(feature = "tokio")]
//! # async fn demo() -> soquete_client::Result<()> {
//! let client = soquete_client::MultiplexedClient::connect("redis://127.0.0.1").await?;
//! let mut tasks = Vec::new();
//! for i in 0..1000 {
//!     let c = client.clone();
//!     tasks.push(tokio::spawn(async move { c.incr::<_, i64>(format!("k{}", i % 10)).await }));
//! }
//! for t in tasks {
//!     t.await.unwrap()?;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Transactions
//!
//! [`pipe`]`().atomic()` wraps a batch in `MULTI`/`EXEC`. For the
//! read-then-write kind (optimistic locking), [`Client::transaction`] watches
//! keys, runs a closure that reads and queues writes into an atomic pipeline,
//! and runs it again when `EXEC` is refused because a watched key changed, as
//! often as a [`TxRetry`] (or any [`TxPolicy`]) allows:
//!
//! ```no_run
//! # let mut c = soquete_client::Client::connect("redis://127.0.0.1")?;
//! let (n,): (i64,) = c.transaction("counter", |con, pipe| {
//!     let n: i64 = con.get::<_, Option<i64>>("counter")?.unwrap_or(0);
//!     pipe.set("counter", n * 2).ignore().get("counter").query(con)
//! })?;
//! # Ok::<(), soquete_client::Error>(())
//! ```
//!
//! A [`MultiplexedClient`] shares one connection between tasks, so `WATCH`
//! cannot belong to one of them there: async transactions run on an
//! [`AsyncConnection`] ([`MultiplexedClient::dedicated_connection`]).
//!
//! # Waiting pops
//!
//! `BLPOP`, `BRPOP`, `BLMOVE`, `BRPOPLPUSH`, `BLMPOP`, `BZPOPMIN`, `BZPOPMAX`
//! and `BZMPOP` (what Redis calls blocking commands; in this crate
//! "blocking" names the synchronous [`Client`]) hold their connection until
//! they are served or their own timeout (seconds, fractions allowed, 0 for
//! ever) passes, then reply null (`None`). Their typed helpers on [`Client`] and [`AsyncConnection`]
//! ([`Client::blpop`], [`Client::blmove`], [`Client::bzmpop_min`]...) wait for
//! that reply as long as the command may take: the configured read timeout is
//! stretched by the command's timeout and a second for the server's clock, for
//! that request (lifted for 0), so it never fires while the server is still
//! waiting for an element.
//!
//! A [`MultiplexedClient`] has no helpers for them and refuses these commands
//! sent raw (with [`Error::Client`]): a `BLPOP` on the shared connection would
//! hold up every other task's requests queued behind it. Run them on an
//! [`AsyncConnection`] of their own ([`MultiplexedClient::dedicated_connection`]):
//!
//! ```no_run
//! # #[cfg(feature = "tokio")]
//! # async fn demo() -> soquete_client::Result<()> {
//! use soquete_client::{Direction, MultiplexedClient};
//! let shared = MultiplexedClient::connect("redis://127.0.0.1").await?;
//! let mut worker = shared.dedicated_connection().await?;
//! tokio::spawn(async move {
//!     // Waits on its own connection; `shared` serves everyone else meanwhile.
//!     while let Ok(Some(job)) = worker
//!         .blmove::<_, _, Option<String>>("jobs", "doing", Direction::Right, Direction::Left, 0.0)
//!         .await
//!     {
//!         println!("working on {job}");
//!     }
//! });
//! let _: i64 = shared.lpush("jobs", "j1").await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Connecting
//!
//! `redis://[[user]:password@]host[:port][/db][?protocol=resp3]`,
//! `rediss://...` (TLS, below) or `unix:///path/to.sock[?db=N]`, see [`Config::from_url`]; a
//! [`ClientBuilder`] sets timeouts, client name, protocol. Asking for
//! [`Protocol::Resp3`] sends `HELLO 3`, and falls back to RESP2 when the server
//! refuses it.
//!
//! # TLS
//!
//! With the `tls` feature, `rediss://` (or `valkeys://`) URLs and
//! [`ClientBuilder::tls`] connect over TLS (rustls, ring provider), blocking
//! and async alike. The server's certificate is verified against a CA file
//! (`?ca_file=`, [`ClientBuilder::tls_ca_file`]) or else Mozilla's roots
//! (compiled in, from `webpki-roots`), for the URL's host: a DNS name or an
//! IP address. A client certificate (`?cert_file=&key_file=`,
//! [`ClientBuilder::tls_client_cert`]) answers servers that ask for one
//! (`tls-auth-clients yes`). Failures are [`Error::Tls`], saying what went
//! wrong: an untrusted certificate, a refused or missing client certificate,
//! an unreadable file.
//!
//! **`?insecure=true`, a `#insecure` URL fragment (redis-rs's form) or
//! [`ClientBuilder::tls_insecure`] turn certificate verification off**: the
//! traffic is encrypted, but anyone on the network path can pose as the
//! server. Only ever for tests and self-signed development servers.
//!
//! ```
//! use soquete_client::{Client, Config};
//!
//! // A server with a certificate from a private CA, and mutual TLS:
//! let url = "rediss://:secret@cache.internal:6380/0\
//!            ?ca_file=/etc/redis/ca.crt&cert_file=/etc/app/client.crt&key_file=/etc/app/client.key";
//! let tls = Config::from_url(url)?.tls.expect("rediss:// is TLS");
//! assert_eq!(tls.ca_file.as_deref(), Some("/etc/redis/ca.crt".as_ref()));
//! assert!(!tls.insecure);
//!
//! // The same with the builder; `.connect()` would open it.
//! let b = Client::builder("redis://cache.internal:6380")
//!     .tls_ca_file("/etc/redis/ca.crt")
//!     .tls_client_cert("/etc/app/client.crt", "/etc/app/client.key");
//! assert_eq!(b.config()?.tls.as_ref(), Some(&tls));
//! # Ok::<(), soquete_client::Error>(())
//! ```
//!
//! `client/examples/tls.rs` connects for real (see its header).
//!
//! # RESP3 push messages
//!
//! Over RESP3 a server may send out-of-band push frames (pub/sub messages,
//! client-side caching invalidations). [`Subscriber`] and [`AsyncSubscriber`]
//! read them as messages; [`Client`] and [`MultiplexedClient`] skip them, so
//! they never take the place of a reply.
//!
//! # Errors
//!
//! [`Error::Server`] keeps the server's error code word (`WRONGTYPE`, `MOVED`,
//! `NOAUTH`...) as data, apart from I/O ([`Error::Io`]), protocol
//! ([`Error::Protocol`]) and conversion ([`Error::Conversion`]) errors.
//! Inside a [`Pipeline`], each command's error is its own: ask for
//! `Vec<Result<T>>` to see every command's outcome.
//!
//! # Reconnection policy
//!
//! When a connection breaks, the client connects again with exponential
//! backoff ([`Config::reconnect_attempts`], [`Config::backoff_min`],
//! [`Config::backoff_max`]). A request that was never written is sent on the
//! new connection. A request that was written but not answered is resent, once,
//! only if every command in it only reads ([`is_safe_to_resend`]: `GET`,
//! `MGET`, `HGETALL`, `LRANGE`, `EXISTS`, `TTL`, `PING`...); anything else fails
//! with [`Error::ConnectionLost`], because the server may have executed it.
//! Transactions, waiting pops and timed-out requests are never resent.
//! A request in flight when the connection dies always gets an answer or an
//! error, never silence.
//!
//! # Layout
//!
//! Requests and replies, shared by every client:
//!
//! * `config`, `builder`: URLs and settings ([`Config`], [`ClientBuilder`]).
//! * `args` ([`ToArgs`]): Rust values to arguments; `value` ([`FromValue`]):
//!   replies to Rust values; `error` ([`Error`]).
//! * `cmd` ([`Cmd`]), `pipeline` ([`Pipeline`]): requests; `commands`: the
//!   typed helpers (one list, four front ends); `waiting_pops`: `BLPOP` and
//!   family, and how long their replies may take.
//! * `pubsub`: [`Message`] and [`KeyspaceEvent`].
//!
//! `proto/`, the sans-I/O core: state machines that take decoded frames and
//! give back bytes to write and decisions, unit-tested without sockets.
//!
//! * `inbox`: received bytes, decoded into frames and replies.
//! * `handshake`: `HELLO`/`AUTH`/`CLIENT SETNAME`/`SELECT` on a new connection.
//! * `session`: the connection a client owns, its number, the watch guard.
//! * `resend`: whether a request whose connection failed goes out again
//!   ([`is_safe_to_resend`]); `reconnect`: the connect attempts, with backoff.
//! * `subscription`: what a subscriber sends, receives and restores.
//! * `transaction`: the `WATCH`/`MULTI`/`EXEC` helper's attempts, and
//!   [`TxPolicy`], [`TxRetry`].
//! * `multiplexing`: the commands a shared connection refuses.
//!
//! The drivers, thin loops that move bytes between sockets and the core:
//!
//! * `tls` (feature `tls`): the rustls configuration a [`TlsConfig`] asks
//!   for, the `insecure` verifier, what rustls's errors mean.
//! * `sync/`: `stream` (TCP, TLS or Unix), `connection` (a set-up socket and its
//!   inbox), `client` ([`Client`]), `subscriber` ([`Subscriber`]),
//!   `transaction` ([`Client::transaction`]).
//! * `tokio/` (feature `tokio`): `stream`, `connection`, `multiplexed`
//!   ([`MultiplexedClient`] and its driver task), `dedicated`
//!   ([`AsyncConnection`]), `subscriber` ([`AsyncSubscriber`]),
//!   `transaction` ([`AsyncConnection::transaction`]), `target`
//!   ([`AsyncTarget`]).

#![warn(missing_docs)]

mod args;
mod builder;
mod cmd;
mod commands;
mod config;
mod error;
mod pipeline;
mod proto;
mod pubsub;
mod sync;
#[cfg(feature = "tls")]
mod tls;
mod value;
mod waiting_pops;

#[cfg(test)]
mod fake;

#[cfg(feature = "tokio")]
mod tokio;

pub use args::{ArgSink, ToArgs};
pub use builder::ClientBuilder;
pub use cmd::{cmd, Cmd};
pub use config::{Addr, Config, IntoConfig, Protocol, TlsConfig};
pub use error::{ConversionError, Error, Result, ServerError, ServerErrorKind};
pub use pipeline::{pipe, Pipeline};
pub use proto::resend::is_safe_to_resend;
pub use proto::transaction::{TxPolicy, TxRetry};
pub use pubsub::{KeyspaceEvent, KeyspaceKind, Message, MessageKind};
pub use sync::transaction;
pub use sync::{Client, Messages, Subscriber};
pub use value::{from_value, FromValue};
pub use waiting_pops::Direction;

#[cfg(feature = "tokio")]
pub use crate::tokio::{AsyncConnection, AsyncSubscriber, AsyncTarget, MultiplexedClient};

pub use bytes::Bytes;
/// The reply type: a decoded RESP2/RESP3 value (from `soquete-resp`).
pub use soquete_resp::Frame;
