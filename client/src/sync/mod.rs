//! The blocking driver: [`Client`], [`Subscriber`] and the transaction
//! helper over `std` sockets, one request at a time in the caller's thread.

mod client;
mod connection;
mod stream;
mod subscriber;
mod transaction;

pub use client::Client;
pub use subscriber::{Messages, Subscriber};
pub use transaction::transaction;
