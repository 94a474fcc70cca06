//! The sans-I/O core shared by the blocking and the async drivers: what to
//! send, and what a reply means, with no socket in sight.

pub(crate) mod handshake;
#[cfg(feature = "tokio")]
pub(crate) mod multiplexing;
