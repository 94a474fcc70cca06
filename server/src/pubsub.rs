//! The pub/sub registry: which clients listen to which channels, patterns
//! and shard channels, and delivery across event loops.
//!
//! A subscriber's connection belongs to one event loop; PUBLISH, on any loop,
//! finds the receivers and hands each owning loop one batch of deliveries
//! through its inbox. A loop's inbox is a FIFO, so messages from one
//! publisher reach every subscriber in the order they were published.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::net::LoopMsg;
use crate::server::Shared;
use crate::util::glob::glob_match;

/// The three subscription namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Space {
    /// SUBSCRIBE / PUBLISH.
    Channel,
    /// PSUBSCRIBE (glob patterns over channels).
    Pattern,
    /// SSUBSCRIBE / SPUBLISH.
    Shard,
}

/// One message for one client.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The receiving client.
    pub client: u64,
    /// `message`, `pmessage` or `smessage`.
    pub kind: &'static str,
    /// The pattern that matched (pmessage only).
    pub pattern: Option<Arc<[u8]>>,
    /// The channel.
    pub channel: Arc<[u8]>,
    /// The payload.
    pub payload: Arc<[u8]>,
}

type Subs = HashMap<Vec<u8>, Vec<(u64, usize)>, ahash::RandomState>;

/// Channel -> subscribers `(client id, loop index)`, per namespace.
#[derive(Default)]
pub struct PubSub {
    channels: Mutex<Subs>,
    patterns: Mutex<Subs>,
    shard: Mutex<Subs>,
}

fn lock(m: &Mutex<Subs>) -> std::sync::MutexGuard<'_, Subs> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl PubSub {
    fn map(&self, space: Space) -> &Mutex<Subs> {
        match space {
            Space::Channel => &self.channels,
            Space::Pattern => &self.patterns,
            Space::Shard => &self.shard,
        }
    }

    /// Registers a subscription (the caller tracks the client's own set, so
    /// this is only called for new ones).
    pub fn subscribe(&self, space: Space, name: &[u8], client: u64, loop_index: usize) {
        lock(self.map(space))
            .entry(name.to_vec())
            .or_default()
            .push((client, loop_index));
    }

    /// Removes a subscription.
    pub fn unsubscribe(&self, space: Space, name: &[u8], client: u64) {
        let mut m = lock(self.map(space));
        if let Some(v) = m.get_mut(name) {
            v.retain(|(id, _)| *id != client);
            if v.is_empty() {
                m.remove(name);
            }
        }
    }

    /// Publishes `payload` on `channel` (or a shard channel) and returns the
    /// number of clients that will receive it. `from_loop` is the calling
    /// loop: its own deliveries are queued without a wake-up, since it
    /// drains its inbox after the current batch.
    pub fn publish(
        &self,
        shared: &Shared,
        space: Space,
        channel: &[u8],
        payload: &[u8],
        from_loop: usize,
    ) -> usize {
        let channel: Arc<[u8]> = channel.into();
        let payload: Arc<[u8]> = payload.into();
        let mut per_loop: Vec<Vec<Delivery>> = vec![Vec::new(); shared.loop_stats.len()];
        let kind = if space == Space::Shard {
            "smessage"
        } else {
            "message"
        };
        let direct = if space == Space::Shard {
            &self.shard
        } else {
            &self.channels
        };
        if let Some(subs) = lock(direct).get(&*channel) {
            for &(client, l) in subs {
                per_loop[l].push(Delivery {
                    client,
                    kind,
                    pattern: None,
                    channel: channel.clone(),
                    payload: payload.clone(),
                });
            }
        }
        if space == Space::Channel {
            for (pattern, subs) in lock(&self.patterns).iter() {
                if !glob_match(pattern, &channel, false) {
                    continue;
                }
                let pattern: Arc<[u8]> = pattern.as_slice().into();
                for &(client, l) in subs {
                    per_loop[l].push(Delivery {
                        client,
                        kind: "pmessage",
                        pattern: Some(pattern.clone()),
                        channel: channel.clone(),
                        payload: payload.clone(),
                    });
                }
            }
        }
        let mut n = 0;
        if let Some(loops) = shared.loops.get() {
            for (l, batch) in per_loop.into_iter().enumerate() {
                if batch.is_empty() {
                    continue;
                }
                n += batch.len();
                let msg = LoopMsg::Deliver(batch);
                if l == from_loop {
                    loops[l].queue(msg);
                } else {
                    loops[l].send(msg);
                }
            }
        }
        n
    }

    /// Number of subscribers of `name` (PUBSUB NUMSUB / SHARDNUMSUB).
    pub fn count(&self, space: Space, name: &[u8]) -> usize {
        lock(self.map(space)).get(name).map_or(0, Vec::len)
    }

    /// Names with at least one subscriber that match `pattern` (all when
    /// `None`).
    pub fn names(&self, space: Space, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
        lock(self.map(space))
            .keys()
            .filter(|k| pattern.is_none_or(|p| glob_match(p, k, false)))
            .cloned()
            .collect()
    }

    /// Number of distinct patterns subscribed (PUBSUB NUMPAT).
    pub fn pattern_count(&self) -> usize {
        lock(&self.patterns).len()
    }

    /// Number of channels / shard channels with subscribers (INFO).
    pub fn channel_count(&self, space: Space) -> usize {
        lock(self.map(space)).len()
    }
}
