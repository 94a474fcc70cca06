//! The one hash of keys and members: shard selection, the shards' tables
//! and the containers' own tables all use it, so a key is hashed once.

use std::sync::OnceLock;

/// The hash of a key (or of a member inside a container): ahash, keyed
/// once per process at random.
pub fn hash_key(key: &[u8]) -> u64 {
    static STATE: OnceLock<ahash::RandomState> = OnceLock::new();
    STATE.get_or_init(ahash::RandomState::new).hash_one(key)
}
