//! Keyspace notifications (`notify-keyspace-events`): events published on
//! `__keyspace@<db>__:<key>` (message: the event) and
//! `__keyevent@<db>__:<event>` (message: the key), as Redis does.

use std::sync::atomic::Ordering;

use crate::db::KeyEvent;
use crate::pubsub::{Delivery, Outbox, Space};
use crate::shared::Shared;

/// Generic commands (DEL, EXPIRE, RENAME...): `g`.
pub const GENERIC: u32 = 1 << 2;
/// String commands: `$`.
pub const STRING: u32 = 1 << 3;
/// List commands: `l`.
pub const LIST: u32 = 1 << 4;
/// Set commands: `s`.
pub const SET: u32 = 1 << 5;
/// Hash commands: `h`.
pub const HASH: u32 = 1 << 6;
/// Sorted set commands: `z`.
pub const ZSET: u32 = 1 << 7;
/// Expired keys: `x`.
pub const EXPIRED: u32 = 1 << 8;
/// Evicted keys: `e` (soquete never evicts).
pub const EVICTED: u32 = 1 << 9;
/// Stream commands: `t`.
pub const STREAM: u32 = 1 << 10;
/// Key misses: `m`.
pub const KEY_MISS: u32 = 1 << 11;
/// Module events: `d`.
pub const MODULE: u32 = 1 << 12;
/// New keys: `n`.
pub const NEW: u32 = 1 << 13;
/// `__keyspace@...` channel: `K`.
pub const KEYSPACE: u32 = 1 << 0;
/// `__keyevent@...` channel: `E`.
pub const KEYEVENT: u32 = 1 << 1;
/// `A`: every class but `m` and `n`.
pub const ALL: u32 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// Parses the option's value as Redis's `keyspaceEventsStringToFlags`.
pub fn parse(s: &str) -> Option<u32> {
    let mut f = 0;
    for c in s.chars() {
        f |= match c {
            'A' => ALL,
            'g' => GENERIC,
            '$' => STRING,
            'l' => LIST,
            's' => SET,
            'h' => HASH,
            'z' => ZSET,
            'x' => EXPIRED,
            'e' => EVICTED,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            't' => STREAM,
            'm' => KEY_MISS,
            'd' => MODULE,
            'n' => NEW,
            _ => return None,
        };
    }
    Some(f)
}

/// The flags as CONFIG GET shows them (`keyspaceEventsFlagsToString`).
pub fn show(f: u32) -> String {
    let mut s = String::new();
    if f & ALL == ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if f & bit != 0 {
                s.push(c);
            }
        }
    }
    for (bit, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// True when events of `class` are published at all (a relaxed load: the
/// common case, notifications off, costs nothing more).
pub fn wanted(shared: &Shared, class: u32) -> bool {
    let f = shared.hot.notify.load(Ordering::Relaxed);
    f & class != 0 && f & (KEYSPACE | KEYEVENT) != 0
}

/// Publishes one event about `key` in database `db`. Messages for `own`
/// (the client whose command caused the event) are returned for the caller
/// to write before the command's reply.
pub fn publish_for(
    shared: &Shared,
    outbox: &mut Outbox,
    own: Option<u64>,
    class: u32,
    event: &str,
    db: usize,
    key: &[u8],
) -> Vec<Delivery> {
    let f = shared.hot.notify.load(Ordering::Relaxed);
    let limit = shared.hot.pubsub_hard_limit();
    let mut mine = Vec::new();
    if f & class == 0 {
        return mine;
    }
    if f & KEYSPACE != 0 {
        let mut ch = format!("__keyspace@{db}__:").into_bytes();
        ch.extend_from_slice(key);
        let (_, m) =
            shared
                .pubsub
                .publish(outbox, limit, Space::Channel, &ch, event.as_bytes(), own);
        mine.extend(m);
    }
    if f & KEYEVENT != 0 {
        let ch = format!("__keyevent@{db}__:{event}");
        let (_, m) = shared
            .pubsub
            .publish(outbox, limit, Space::Channel, ch.as_bytes(), key, own);
        mine.extend(m);
    }
    mine
}

/// [`publish_for`] on behalf of no client in particular.
pub fn publish(
    shared: &Shared,
    outbox: &mut Outbox,
    class: u32,
    event: &str,
    db: usize,
    key: &[u8],
) {
    publish_for(shared, outbox, None, class, event, db, key);
}

/// Publishes the new/expired key events shards logged (see
/// [`crate::db::LOG_EVENTS`]).
pub fn publish_logged(
    shared: &Shared,
    outbox: &mut Outbox,
    events: Vec<(usize, KeyEvent, Box<[u8]>)>,
) {
    for (db, e, key) in events {
        match e {
            KeyEvent::New => publish(shared, outbox, NEW, "new", db, &key),
            KeyEvent::Expired => publish(shared, outbox, EXPIRED, "expired", db, &key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_like_redis() {
        // Pairs checked against redis-server 7.0.15's CONFIG SET/GET.
        for (set, get) in [
            ("Kx", "xK"),
            ("gK", "gK"),
            ("KEA", "AKE"),
            ("Eg$lshzxetd", "AE"),
            ("Km", "Km"),
            ("n", "n"),
            ("", ""),
        ] {
            assert_eq!(show(parse(set).unwrap()), get, "{set}");
        }
        assert_eq!(parse("xyz"), None);
    }
}
