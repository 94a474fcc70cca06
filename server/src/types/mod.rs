//! The container types a key can hold besides strings: hashes, lists,
//! sets, sorted sets and streams; and the HyperLogLog encoding that lives
//! inside strings.

pub mod consumer_group;
pub mod geohash;
pub mod hash;
pub mod hyperloglog;
pub mod list;
pub mod pack;
pub mod set;
pub mod stream;
pub mod zset;
