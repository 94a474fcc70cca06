//! A stream's consumer groups (Redis's `streamCG`, `streamConsumer` and
//! `streamNACK`): who read what and has not acknowledged it yet.
//!
//! A group holds its last delivered ID, its read counter (the logical
//! position of that ID among every entry ever added, for the lag), its
//! pending entries list (the PEL: an entry delivered and not acknowledged,
//! with its owner, last delivery time and delivery count) and its
//! consumers, each with the IDs it owns. Redis shares one NACK between the
//! group's PEL and the owner's; here the group's PEL holds the NACK (with
//! the owner's name) and the consumer holds the IDs, and the two are kept
//! in step by the methods below, which are the only writers.
//!
//! Groups and consumers are ordered by name bytes, as Redis's radix trees
//! order them, so listings (XINFO, XPENDING, the RDB and AOF) come out in
//! Redis's order.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::stream::{Stream, StreamId};

/// The read counter of a group whose position is unknown (Redis's
/// `SCG_INVALID_ENTRIES_READ`).
pub const ENTRIES_READ_INVALID: i64 = -1;

/// A pending entry: delivered, not acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nack {
    /// Unix time of the last delivery, in ms.
    pub delivery_time: i64,
    /// Times delivered.
    pub delivery_count: u64,
    /// The owner's name (a key of [`Group::consumers`]).
    pub consumer: Arc<[u8]>,
}

/// A consumer of a group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Consumer {
    /// Unix time it was last seen (read or claimed), in ms.
    pub seen_time: i64,
    /// The pending entries it owns.
    pub pel: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The last ID delivered to the group.
    pub last_id: StreamId,
    /// How many entries the group has read, counted from the first entry
    /// ever added; [`ENTRIES_READ_INVALID`] when unknown.
    pub entries_read: i64,
    /// Pending entries by ID.
    pub pel: BTreeMap<StreamId, Nack>,
    /// Consumers by name.
    pub consumers: BTreeMap<Arc<[u8]>, Consumer>,
}

impl Group {
    /// A group without consumers, at `last_id` (Redis's `streamCreateCG`).
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// The consumer `name`, its seen time refreshed to `now` (Redis's
    /// `streamLookupConsumer`, or `streamCreateConsumer` when it is new).
    /// True in the second place when it was created.
    pub fn consumer(&mut self, name: &[u8], now: i64) -> (Arc<[u8]>, bool) {
        if let Some((k, _)) = self.consumers.get_key_value(name) {
            let k = k.clone();
            if let Some(c) = self.consumers.get_mut(name) {
                c.seen_time = now;
            }
            return (k, false);
        }
        let k: Arc<[u8]> = Arc::from(name);
        self.consumers.insert(
            k.clone(),
            Consumer {
                seen_time: now,
                pel: BTreeSet::new(),
            },
        );
        (k, true)
    }

    /// Creates the consumer `name` if it does not exist (XGROUP
    /// CREATECONSUMER); true when it was created.
    pub fn create_consumer(&mut self, name: &[u8], now: i64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumer(name, now);
        true
    }

    /// Deletes the consumer `name` and its pending entries (XGROUP
    /// DELCONSUMER); the number of entries it had pending, `None` when
    /// there is no such consumer.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }

    /// Acknowledges `id`: removes it from the PEL and its owner's; false
    /// when it was not pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        let Some(nack) = self.pel.remove(&id) else {
            return false;
        };
        if let Some(c) = self.consumers.get_mut(&*nack.consumer) {
            c.pel.remove(&id);
        }
        true
    }

    /// Makes `owner` (an existing consumer) the owner of the pending entry
    /// `id`, creating the entry if it is not pending (delivered now, once,
    /// as Redis's `streamCreateNACK` makes it for XCLAIM's FORCE). Returns
    /// the entry.
    pub fn take(&mut self, id: StreamId, owner: &Arc<[u8]>, now: i64) -> &mut Nack {
        let nack = self.pel.entry(id).or_insert_with(|| Nack {
            delivery_time: now,
            delivery_count: 1,
            consumer: owner.clone(),
        });
        if nack.consumer != *owner {
            if let Some(c) = self.consumers.get_mut(&*nack.consumer) {
                c.pel.remove(&id);
            }
            nack.consumer = owner.clone();
        }
        if let Some(c) = self.consumers.get_mut(&**owner) {
            c.pel.insert(id);
        }
        nack
    }

    /// Records that `id` was delivered to `owner` for the first time
    /// (XREADGROUP with `>`): a new pending entry, or one reassigned and
    /// reset if it was pending already (after XGROUP SETID moved the group
    /// back).
    pub fn deliver(&mut self, id: StreamId, owner: &Arc<[u8]>, now: i64) -> &Nack {
        let nack = self.take(id, owner, now);
        nack.delivery_time = now;
        nack.delivery_count = 1;
        nack
    }

    /// Approximate heap bytes (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        let pel = self.pel.len() * (16 + std::mem::size_of::<Nack>() + 8);
        let consumers: usize = self
            .consumers
            .iter()
            .map(|(k, c)| k.len() + 16 + std::mem::size_of::<Consumer>() + c.pel.len() * 24)
            .sum();
        std::mem::size_of::<Group>() + pel + consumers
    }

    /// True when the group's PEL and its consumers' agree: every pending
    /// entry is owned by an existing consumer that lists it, and every ID a
    /// consumer lists is pending and owned by it (what loading checks).
    pub fn is_consistent(&self) -> bool {
        let owned: usize = self.consumers.values().map(|c| c.pel.len()).sum();
        owned == self.pel.len()
            && self.pel.iter().all(|(id, n)| {
                self.consumers
                    .get(&*n.consumer)
                    .is_some_and(|c| c.pel.contains(id))
            })
    }
}

/// What the lag arithmetic needs of a stream, copied out so that a group
/// can be changed while it is consulted.
#[derive(Debug, Clone, Copy)]
pub struct Counters {
    length: u64,
    last_id: StreamId,
    first_id: StreamId,
    max_deleted: StreamId,
    entries_added: u64,
}

impl Counters {
    /// The stream's counters.
    pub fn of(x: &Stream) -> Counters {
        Counters {
            length: x.len(),
            last_id: x.last_id,
            first_id: x.first_id,
            max_deleted: x.max_deleted,
            entries_added: x.entries_added,
        }
    }

    /// True when a deleted entry may lie in `start..=end` (Redis's
    /// `streamRangeHasTombstones`).
    pub fn has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.length == 0 || self.max_deleted == StreamId::MIN {
            return false;
        }
        if self.first_id > self.max_deleted {
            return false;
        }
        start <= self.max_deleted && self.max_deleted <= end
    }

    /// The read counter of `id`, its position among every entry ever
    /// added, when it can be known (Redis's
    /// `streamEstimateDistanceFromFirstEverEntry`), else
    /// [`ENTRIES_READ_INVALID`].
    pub fn distance(&self, id: StreamId) -> i64 {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return added;
        }
        if id == self.last_id {
            return added;
        }
        if id > self.last_id {
            return ENTRIES_READ_INVALID;
        }
        if self.max_deleted == StreamId::MIN || self.max_deleted < self.first_id {
            if id < self.first_id {
                return added - self.length as i64;
            }
            if id == self.first_id {
                return added - self.length as i64 + 1;
            }
        }
        ENTRIES_READ_INVALID
    }

    /// The group's lag, entries not delivered to it yet, when it can be
    /// known (Redis's `streamReplyWithCGLag`).
    pub fn lag(&self, g: &Group) -> Option<i64> {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != ENTRIES_READ_INVALID && !self.has_tombstones(g.last_id, StreamId::MAX)
        {
            return Some(added - g.entries_read);
        }
        match self.distance(g.last_id) {
            ENTRIES_READ_INVALID => None,
            read => Some(added - read),
        }
    }

    /// Moves the group past `id`, delivered now, if it is beyond its last
    /// ID, keeping its read counter as Redis does (in
    /// `streamReplyWithRange`); true when the group moved.
    pub fn advance(&self, g: &mut Group, id: StreamId) -> bool {
        if id <= g.last_id {
            return false;
        }
        if g.entries_read != ENTRIES_READ_INVALID && !self.has_tombstones(id, StreamId::MAX) {
            g.entries_read += 1;
        } else if self.entries_added != 0 {
            g.entries_read = self.distance(id);
        }
        g.last_id = id;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64) -> StreamId {
        StreamId::new(ms, 0)
    }

    fn name(s: &str) -> Arc<[u8]> {
        Arc::from(s.as_bytes())
    }

    #[test]
    fn delivering_and_claiming_keep_both_pels_in_step() {
        let mut g = Group::new(StreamId::MIN, 0);
        let (alice, created) = g.consumer(b"alice", 10);
        assert!(created);
        let (bob, _) = g.consumer(b"bob", 10);
        g.deliver(id(1), &alice, 20);
        g.deliver(id(2), &alice, 20);
        assert!(g.is_consistent());
        let n = g.take(id(1), &bob, 30);
        assert_eq!((n.delivery_count, &*n.consumer), (1, &b"bob"[..]));
        assert!(g.is_consistent());
        assert_eq!(g.consumers[&*alice].pel.len(), 1);
        // Delivering again resets the count and moves the owner back.
        assert_eq!(g.deliver(id(1), &alice, 40).delivery_count, 1);
        assert!(g.is_consistent());
        assert!(g.ack(id(1)));
        assert!(!g.ack(id(1)));
        assert_eq!(g.delete_consumer(b"alice"), Some(1));
        assert!(g.pel.is_empty() && g.is_consistent());
        assert_eq!(g.delete_consumer(b"alice"), None);
    }

    #[test]
    fn lookups_refresh_the_seen_time_and_do_not_recreate() {
        let mut g = Group::new(StreamId::MIN, 0);
        assert!(g.create_consumer(b"c", 5));
        assert!(!g.create_consumer(b"c", 9));
        assert_eq!(g.consumers[&b"c"[..]].seen_time, 5);
        assert!(!g.consumer(b"c", 7).1);
        assert_eq!(g.consumers[&b"c"[..]].seen_time, 7);
    }

    #[test]
    fn a_pel_entry_owned_by_a_missing_consumer_is_inconsistent() {
        let mut g = Group::new(StreamId::MIN, 0);
        g.pel.insert(
            id(1),
            Nack {
                delivery_time: 0,
                delivery_count: 1,
                consumer: name("ghost"),
            },
        );
        assert!(!g.is_consistent());
    }

    fn counters(length: u64, first: u64, last: u64, deleted: u64, added: u64) -> Counters {
        Counters {
            length,
            last_id: id(last),
            first_id: id(first),
            max_deleted: id(deleted),
            entries_added: added,
        }
    }

    #[test]
    fn distances_are_known_only_without_fragmentation() {
        // Five entries added, 1..=5, none deleted.
        let c = counters(5, 1, 5, 0, 5);
        assert_eq!(c.distance(id(5)), 5);
        assert_eq!(c.distance(id(1)), 1);
        assert_eq!(c.distance(StreamId::MIN), 0);
        assert_eq!(c.distance(id(3)), ENTRIES_READ_INVALID);
        assert_eq!(c.distance(id(6)), ENTRIES_READ_INVALID);
        // Entry 3 deleted: a tombstone inside the stream.
        let c = counters(4, 1, 5, 3, 5);
        assert_eq!(c.distance(id(1)), ENTRIES_READ_INVALID);
        assert!(c.has_tombstones(id(2), StreamId::MAX));
        assert!(!c.has_tombstones(id(4), StreamId::MAX));
        // Never added: everything is at 0.
        assert_eq!(counters(0, 0, 0, 0, 0).distance(id(9)), 0);
    }

    #[test]
    fn lag_follows_the_read_counter() {
        let c = counters(5, 1, 5, 0, 5);
        let mut g = Group::new(StreamId::MIN, 0);
        assert_eq!(c.lag(&g), Some(5));
        assert!(c.advance(&mut g, id(1)));
        assert!(c.advance(&mut g, id(2)));
        assert!(!c.advance(&mut g, id(2)));
        assert_eq!((g.entries_read, c.lag(&g)), (2, Some(3)));
        g.entries_read = ENTRIES_READ_INVALID;
        assert_eq!(c.lag(&g), None);
        g.last_id = id(5);
        assert_eq!(c.lag(&g), Some(0));
    }
}
