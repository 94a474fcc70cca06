//! The container types a key can hold besides strings: hashes, lists,
//! sets, sorted sets and streams.

pub mod geohash;
pub mod hash;
pub mod list;
pub mod pack;
pub mod set;
pub mod stream;
pub mod zset;
