//! Test support for soquete: real servers on ephemeral ports, raw test
//! connections, and the differential harness that runs the same commands against
//! real Redis and soquete and compares the replies byte for byte.
//!
//! # Layout
//!
//! * [`server`] — [`ServerProcess`]: start `redis-server` or `soquete-server` on
//!   `127.0.0.1:<ephemeral>`, wait until it answers `PING`, stop it on drop.
//! * [`procfs`] — CPU time and resident memory of a process (for the benches).
//! * [`script`] — the `.redis` differential script format (see
//!   `server/tests/diff/README.md`).

pub mod procfs;
pub mod script;
pub mod server;

pub use server::{ServerBuilder, ServerKind, ServerProcess, StartError};
