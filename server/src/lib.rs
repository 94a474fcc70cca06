//! soquete-server: a multi-threaded, in-memory, Redis-compatible server.
//!
//! # Layout
//!
//! The way in, top to bottom (`docs/architecture.md` in the repository
//! walks the data path, the threads and who owns what):
//!
//! * [`server`] — the process: listeners, start-up (the open-file limit),
//!   the loop threads, shutdown; [`shared`] — the state every loop shares
//!   (keyspace and subsystems, configuration, client registry, counters);
//!   [`stats`] — per-command, per-error and latency statistics (INFO
//!   commandstats, errorstats, latencystats), kept per loop.
//! * [`event_loop`] — the event loops (one mio `Poll` per thread), each
//!   owning its sockets: accept, read, run, write once per batch;
//!   [`tls`] — the `tls-port` listener's TLS (rustls) setup and streams;
//!   [`inbox`] — the messages by which other threads reach a loop.
//! * `connection` — a client connection without its socket: input,
//!   request decoding, the one decode-and-run loop, output and its limits,
//!   prefetching, and the one disconnect; shared by the event loop and
//!   [`session`] (a connection fed from memory: fuzzing, embedding).
//! * [`cmd`] — the command table ([`cmd::table`]), dispatch
//!   ([`cmd::dispatch`]: resolve, policy, locking, call), shared argument
//!   parsing ([`cmd::args`]), and one file (or folder) per command group.
//! * [`db`] — the keyspace: databases of locked shards, expiry, WATCH
//!   versions; [`dict`] is the chained hash table inside each shard;
//!   [`value`] is what a key holds, [`types`] the containers (hash, list,
//!   set, sorted set, stream) it may be; [`digest`] — DEBUG DIGEST's SHA1
//!   signatures of values and of the dataset, as Redis computes them.
//! * [`evict`] — the memory ceiling: `maxmemory`, the eviction policies,
//!   the per-key LRU clock / LFU counter, and the cheap memory estimate.
//! * [`reply`] — writing RESP2/RESP3 replies; [`error`] — command errors
//!   worded exactly as Redis words them.
//! * [`pubsub`] — the subscription registry and the outbox that carries
//!   messages to other loops ([`notify`]: keyspace notifications published
//!   through it); [`monitor`] — MONITOR's registry and lines, carried by
//!   the same outbox; [`blocking`] — the registry of clients blocked on keys
//!   (serving them is [`cmd::blocking`]).
//! * [`rdb`] — Redis's serialized value format and RDB files;
//!   [`persist`] — snapshots: SAVE, BGSAVE (a forked child), the save
//!   points, loading at start-up.
//! * [`latency`] — the latency monitor (LATENCY); SLOWLOG lives in
//!   [`shared`]; [`pause`] — CLIENT PAUSE's state; [`migrate`] — MIGRATE's
//!   cached connections to other servers.
//! * [`acl`] — users, their rules and the registry of users (AUTH,
//!   the ACL command); not yet enforced per command.
//! * [`client`] — per-client state; [`config`] — options, config files and
//!   the command line; [`log`] — log lines.
//! * [`util`] — what every layer may use: the key hash, varints,
//!   Redis-exact number parsing/formatting, glob matching, `/proc`
//!   accounting, the open-file limit, random numbers.
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

pub mod acl;
pub mod blocking;
pub mod client;
pub mod client_eviction;
pub mod cmd;
pub mod config;
pub(crate) mod connection;
pub mod db;
pub mod dict;
pub mod digest;
pub mod error;
pub mod event_loop;
pub mod evict;
pub mod inbox;
pub mod latency;
pub mod log;
pub mod migrate;
pub mod monitor;
pub mod notify;
pub mod pause;
pub mod persist;
pub mod pubsub;
pub mod rdb;
pub mod reply;
pub mod script;
pub mod server;
pub mod session;
pub mod shared;
pub mod stats;
pub mod tls;
pub mod tracking;
pub mod types;
pub mod util;
pub mod value;

pub use config::Config;
pub use server::{Server, ServerHandle};

/// The Redis version whose behaviour soquete matches; HELLO and INFO report
/// it as `redis_version`, since clients gate features on it.
pub const REDIS_VERSION: &str = "7.0.15";

/// [`REDIS_VERSION`] as Redis's `REDIS_VERSION_NUM` (`0x00MMmmpp`).
pub const REDIS_VERSION_NUM: i64 = 0x0007_000f;
