//! soquete-server: a multi-threaded, in-memory, Redis-compatible server.
//!
//! # Layout
//!
//! * [`server`] — shared state, listeners, start-up and shutdown.
//! * [`event_loop`] — the event loops (one mio `Poll` per thread), each
//!   owning its sockets: accept, read, run, write once per batch;
//!   [`inbox`] — the messages by which other threads reach a loop.
//! * `connection` — a client connection without its socket (input, request
//!   decoding, output and its limits, prefetching), shared by the event
//!   loop and [`session`].
//! * [`cmd`] — the command table ([`cmd::table`]), dispatch
//!   ([`cmd::dispatch`]: resolve, policy, locking, call), and one file per
//!   command group (`string`, `keys`, `connection`, `server`, ...).
//! * [`db`] — the keyspace: databases of locked shards, expiry; [`dict`] is
//!   the chained hash table inside each shard; [`value`] is what a key holds,
//!   [`types`] the containers (hash, list, set, sorted set) it may be.
//! * [`reply`] — writing RESP2/RESP3 replies into the output buffer;
//!   [`error`] — command errors worded exactly as Redis words them.
//! * [`pubsub`] — the subscription registry and cross-loop delivery
//!   ([`notify`]: keyspace notifications published through it);
//!   [`blocking`] — clients blocked on keys (BLPOP...) and serving them.
//! * [`client`] — per-connection state; [`config`] — options, config files and
//!   the command line; [`log`] — log lines.
//! * [`session`] — a connection without a socket (fuzzing, embedding).
//! * [`util`] — Redis-exact number parsing/formatting, glob matching, `/proc`
//!   accounting, random numbers.
//!
//! # Running one in a test
//!
//! ```no_run
//! use soquete_server::{Config, Server};
//! let handle = Server::bind_ephemeral(Config::default())?.spawn();
//! let addr = handle.addr().unwrap(); // 127.0.0.1:<ephemeral port>
//! // ... talk RESP to `addr` ...
//! handle.shutdown()?;
//! # Ok::<(), std::io::Error>(())
//! ```

#![warn(missing_docs)]

pub mod blocking;
pub mod client;
pub mod cmd;
pub mod config;
pub(crate) mod connection;
pub mod db;
pub mod dict;
pub mod error;
pub mod event_loop;
pub mod inbox;
pub mod log;
pub mod notify;
pub mod pubsub;
pub mod reply;
pub mod server;
pub mod session;
pub mod shared;
pub mod types;
pub mod util;
pub mod value;

pub use config::Config;
pub use server::{Server, ServerHandle};

/// The Redis version whose behaviour soquete matches; HELLO and INFO report
/// it as `redis_version`, since clients gate features on it.
pub const REDIS_VERSION: &str = "7.0.15";
