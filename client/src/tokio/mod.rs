//! The async driver (feature `tokio`): [`MultiplexedClient`] shared by many
//! tasks, [`AsyncConnection`] owned by one, [`AsyncSubscriber`], and the
//! [`AsyncTarget`] trait both clients implement.

mod connection;
mod dedicated;
mod multiplexed;
mod stream;
mod subscriber;
mod target;
mod transaction;

pub use dedicated::AsyncConnection;
pub use multiplexed::MultiplexedClient;
pub use subscriber::AsyncSubscriber;
pub use target::AsyncTarget;
