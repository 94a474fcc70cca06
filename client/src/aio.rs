//! The async multiplexed client (feature `tokio`).
