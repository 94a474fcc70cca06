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
//!   `127.0.0.1:<ephemeral>`, wait until it answers `PING`, stop it on drop.
//! * [`procfs`] — CPU time and resident memory of a process (for the benches).
//! * [`conn`] — [`Conn`]: a blocking test connection that reads replies as
//!   frames or as their exact bytes, with a read timeout.
//! * [`script`] — the `.redis` differential script format (see
//!   `server/tests/diff/README.md`).
//! * [`diff`] — the differential [`Runner`](diff::Runner): scripts and command
//!   sequences against two servers, replies compared byte for byte.
//! * [`gen`] — proptest-generated random command sequences from a table of
//!   command templates.
//! * [`render`] — readable renderings of replies for failure messages.

#![warn(missing_docs)]

pub mod conn;
pub mod diff;
pub mod gen;
pub mod procfs;
pub mod render;
pub mod script;
pub mod server;
pub mod templates_hash;
pub mod templates_list;
pub mod templates_set;
pub mod templates_zset;

pub use conn::{Conn, Reply};
pub use server::{ServerBuilder, ServerKind, ServerProcess, StartError};
