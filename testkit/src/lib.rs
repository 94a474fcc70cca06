//! Test support for soquete: real servers on ephemeral ports, raw test
//! connections, and the differential harness that runs the same commands against
//! real Redis and soquete and compares the replies byte for byte.
//!
//! ```no_run
//! use soquete_testkit::{diff::Runner, ServerKind, ServerProcess};
//!
//! // Real redis-server (persistence off) and ours, each on 127.0.0.1:<free port>.
//! let redis = ServerProcess::redis();
//! let soquete = ServerProcess::builder(ServerKind::Soquete).args(["--threads", "2"]).start();
//!
//! // Raw connections: frames, or the exact bytes of each reply.
//! let mut c = soquete.connect();
//! c.send(b"SET k v\r\nGET k\r\n");
//! assert_eq!(c.read_raw_reply(), b"+OK\r\n");
//! assert_eq!(c.read_raw_reply(), b"$1\r\nv\r\n");
//!
//! // The differential net: every script in a directory, reply for reply.
//! let report = Runner::between(&redis, &soquete).run_dir("server/tests/diff".as_ref(), None);
//! assert!(report.is_ok(), "{report}");
//!
//! // Accounting for benches.
//! let usage = soquete.usage().unwrap();
//! println!("cpu {:?}, rss {} bytes", usage.cpu, usage.rss_bytes);
//! // Both servers are stopped (SIGTERM, then SIGKILL) when they go out of scope.
//! ```
//!
//! # Layout
//!
//! * [`server`] — [`ServerProcess`]: start `redis-server` or `soquete-server` on
//!   `127.0.0.1:<ephemeral>` (or with exact arguments), wait until it is
//!   ready, read its log, signal it, stop it on drop.
//! * [`procfs`] — CPU time, resident memory and listening ports of a process.
//! * [`conn`] — [`Conn`]: a blocking test connection that reads replies as
//!   frames or as their exact bytes, with a read timeout.
//! * [`frames`] — reply accessors for assertions (`int`, `text`, `items`,
//!   INFO fields).
//! * [`clients`] — `CLIENT ID`/`CLIENT LIST`, and waiting until a client is
//!   blocked or gone.
//! * [`wait`] — [`eventually`](wait::eventually) (bounded polling instead of
//!   sleeps), [`together`](wait::together) (threads that start at once), and
//!   the tests' [`DEADLINE`](wait::DEADLINE).
//! * [`transcript`] — one scenario against two servers, replies recorded and
//!   compared line by line.
//! * [`tools`] — external tools (`redis-cli`, `redis-benchmark`, `nc`) run
//!   with a deadline.
//! * [`script`] — the `.redis` differential script format (see
//!   `server/tests/diff/README.md`).
//! * [`diff`] — the differential [`Runner`](diff::Runner): scripts and command
//!   sequences against two servers, replies compared byte for byte.
//! * [`gen`] — proptest-generated random command sequences from a table of
//!   command templates.
//! * [`render`] — readable renderings of replies for failure messages.

#![warn(missing_docs)]

pub mod certs;
pub mod clients;
pub mod conn;
pub mod diff;
pub mod frames;
pub mod gen;
pub mod procfs;
pub mod render;
pub mod script;
pub mod server;
pub mod templates_bitmap;
pub mod templates_hash;
pub mod templates_list;
pub mod templates_set;
pub mod templates_stream;
pub mod templates_zset;
pub mod tools;
pub mod transcript;
pub mod wait;

pub use conn::{Conn, Reply};
pub use server::{ServerBuilder, ServerKind, ServerProcess, Signal, StartError};
