//! Test support for soquete: real servers on ephemeral ports, raw test
//! connections, and the differential harness that runs the same commands against
//! real Redis and soquete and compares the replies byte for byte.
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

pub mod conn;
pub mod diff;
pub mod gen;
pub mod procfs;
pub mod render;
pub mod script;
pub mod server;

pub use conn::{Conn, Reply};
pub use server::{ServerBuilder, ServerKind, ServerProcess, StartError};
