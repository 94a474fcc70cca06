//! The pub/sub registry: which clients listen to which channels, patterns
//! and shard channels, and delivery across event loops.
//!
//! A subscriber's connection belongs to one event loop; PUBLISH, on any loop,
//! finds the receivers and hands each owning loop one batch of deliveries
//! through its inbox (queued in the publishing loop's [`Outbox`] until the
//! loop flushes it). A loop's inbox is a FIFO, so messages from one
//! publisher reach every subscriber in the order they were published.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use crate::client::ClientMeta;
use crate::inbox::{LoopHandle, LoopMsg};
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

/// Messages produced while commands run, per destination loop: sent as
/// one inbox message (and one wake-up) per loop when its owner flushes it.
/// Each event loop has one, and so has a [`Session`](crate::session::Session).
#[derive(Default)]
pub struct Outbox {
    per_loop: Vec<Vec<Delivery>>,
    /// Receivers closed for their output limit: (loop, client id).
    kills: Vec<(usize, u64)>,
    /// MONITOR lines, per destination loop: (monitor's id, line).
    monitor: Vec<Vec<(u64, Arc<[u8]>)>>,
    /// Tracking invalidations, per destination loop.
    tracking: Vec<Vec<crate::tracking::Note>>,
}

impl Outbox {
    /// Queues one delivery for loop `l`.
    pub fn post(&mut self, l: usize, d: Delivery) {
        if self.per_loop.len() <= l {
            self.per_loop.resize_with(l + 1, Vec::new);
        }
        self.per_loop[l].push(d);
    }

    /// Queues one MONITOR line for client `id` of loop `l`.
    pub fn post_monitor(&mut self, l: usize, id: u64, line: Arc<[u8]>) {
        if self.monitor.len() <= l {
            self.monitor.resize_with(l + 1, Vec::new);
        }
        self.monitor[l].push((id, line));
    }

    /// Queues one tracking invalidation for loop `l`.
    pub fn post_tracking(&mut self, l: usize, n: crate::tracking::Note) {
        if self.tracking.len() <= l {
            self.tracking.resize_with(l + 1, Vec::new);
        }
        self.tracking[l].push(n);
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.kills.is_empty()
            && self.per_loop.iter().all(Vec::is_empty)
            && self.monitor.iter().all(Vec::is_empty)
            && self.tracking.iter().all(Vec::is_empty)
    }

    /// Sends what was queued to `loops`: one message per loop, a wake-up
    /// only for other loops than `me` (a loop drains its own inbox itself).
    /// Without loops (a server that is not running) the messages are
    /// dropped: nobody could receive them.
    pub fn flush(&mut self, loops: Option<&[LoopHandle]>, me: Option<usize>) {
        let Some(loops) = loops else {
            self.per_loop.iter_mut().for_each(Vec::clear);
            self.monitor.iter_mut().for_each(Vec::clear);
            self.tracking.iter_mut().for_each(Vec::clear);
            self.kills.clear();
            return;
        };
        let send = |l: usize, msg: LoopMsg| match loops.get(l) {
            Some(h) if Some(l) == me => h.queue(msg),
            Some(h) => h.send(msg),
            None => {}
        };
        for (l, batch) in self.per_loop.iter_mut().enumerate() {
            if !batch.is_empty() {
                send(l, LoopMsg::Deliver(std::mem::take(batch)));
            }
        }
        for (l, batch) in self.monitor.iter_mut().enumerate() {
            if !batch.is_empty() {
                send(l, LoopMsg::Monitor(std::mem::take(batch)));
            }
        }
        for (l, batch) in self.tracking.iter_mut().enumerate() {
            if !batch.is_empty() {
                send(l, LoopMsg::Tracking(std::mem::take(batch)));
            }
        }
        for (l, id) in self.kills.drain(..) {
            send(l, LoopMsg::Kill(id));
        }
    }
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

impl Delivery {
    /// True when the receiving client still holds the subscription this
    /// message was routed by.
    pub fn still_subscribed(&self, subs: &crate::client::Subscriptions) -> bool {
        match (&self.pattern, self.kind) {
            (Some(p), _) => subs.contains(Space::Pattern, p),
            (None, "smessage") => subs.contains(Space::Shard, &self.channel),
            (None, _) => subs.contains(Space::Channel, &self.channel),
        }
    }

    /// What the message takes in a receiver's output, near enough: the
    /// publisher adds it to the receiver's bytes in flight, its loop takes
    /// the same amount off when it appends the message.
    pub fn size(&self) -> usize {
        const FRAMING: usize = 48;
        self.payload.len()
            + self.channel.len()
            + self.pattern.as_ref().map_or(0, |p| p.len())
            + FRAMING
    }

    /// Writes the message as the receiver's protocol wants it.
    pub fn write_to(&self, out: &mut crate::reply::Reply) {
        out.push(if self.pattern.is_some() { 4 } else { 3 });
        out.bulk(self.kind.as_bytes());
        if let Some(p) = &self.pattern {
            out.bulk(p);
        }
        out.bulk(&self.channel);
        out.bulk(&self.payload);
    }
}

type Subs = HashMap<Vec<u8>, Vec<Arc<ClientMeta>>, ahash::RandomState>;

/// Channel -> subscribers, per namespace.
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
    pub fn subscribe(&self, space: Space, name: &[u8], client: &Arc<ClientMeta>) {
        lock(self.map(space))
            .entry(name.to_vec())
            .or_default()
            .push(client.clone());
    }

    /// Removes a subscription.
    pub fn unsubscribe(&self, space: Space, name: &[u8], client: u64) {
        let mut m = lock(self.map(space));
        if let Some(v) = m.get_mut(name) {
            v.retain(|m| m.id != client);
            if v.is_empty() {
                m.remove(name);
            }
        }
    }

    /// Publishes `payload` on `channel` (or a shard channel) and returns the
    /// number of clients that will receive it. Messages for `own` (the
    /// publishing client itself, a RESP3 subscriber) are returned, so that
    /// the caller writes them before its own reply, as Redis does; the rest
    /// go to their loops through `outbox`.
    ///
    /// A receiver whose pending output and messages in flight would pass
    /// the pub/sub hard output limit gets no more: it is closed, as its own
    /// loop would close it on appending the message, and still counted, as
    /// Redis counts a client past its limit until it is freed. So a
    /// subscriber that never reads costs about its limit however fast
    /// others publish.
    pub fn publish(
        &self,
        outbox: &mut Outbox,
        hard_limit: usize,
        space: Space,
        channel: &[u8],
        payload: &[u8],
        own: Option<u64>,
    ) -> (usize, Vec<Delivery>) {
        let channel: Arc<[u8]> = channel.into();
        let payload: Arc<[u8]> = payload.into();
        let mut out: Vec<(&Arc<ClientMeta>, Delivery)> = Vec::new();
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
        let direct = lock(direct);
        let patterns = lock(&self.patterns);
        if let Some(subs) = direct.get(&*channel) {
            for meta in subs {
                out.push((
                    meta,
                    Delivery {
                        client: meta.id,
                        kind,
                        pattern: None,
                        channel: channel.clone(),
                        payload: payload.clone(),
                    },
                ));
            }
        }
        if space == Space::Channel {
            for (pattern, subs) in patterns.iter() {
                if !glob_match(pattern, &channel, false) {
                    continue;
                }
                let pattern: Arc<[u8]> = pattern.as_slice().into();
                for meta in subs {
                    out.push((
                        meta,
                        Delivery {
                            client: meta.id,
                            kind: "pmessage",
                            pattern: Some(pattern.clone()),
                            channel: channel.clone(),
                            payload: payload.clone(),
                        },
                    ));
                }
            }
        }
        let n = out.len();
        let mut mine = Vec::new();
        for (meta, d) in out {
            if Some(d.client) == own {
                mine.push(d);
                continue;
            }
            let size = d.size();
            let queued = meta.output_pending() + meta.inflight.load(Ordering::Relaxed);
            if hard_limit > 0 && queued + size > hard_limit {
                if !meta.kill.swap(true, Ordering::Relaxed) {
                    crate::warning!(
                        "Client {} closed for overcoming of output buffer limits.",
                        meta.addr
                    );
                    outbox.kills.push((meta.loop_index, meta.id));
                }
                continue;
            }
            meta.inflight.fetch_add(size, Ordering::Relaxed);
            outbox.post(meta.loop_index, d);
        }
        (n, mine)
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

    /// The clients of user `user` subscribed to something `allowed` (given
    /// the name, and whether it is a pattern) refuses.
    pub fn subscribers_refused(
        &self,
        user: &[u8],
        allowed: impl Fn(&[u8], bool) -> bool,
    ) -> Vec<u64> {
        let mut ids = Vec::new();
        for space in [Space::Channel, Space::Pattern, Space::Shard] {
            let pattern = space == Space::Pattern;
            for (name, subs) in lock(self.map(space)).iter() {
                if allowed(name, pattern) {
                    continue;
                }
                ids.extend(subs.iter().filter(|m| m.user() == user).map(|m| m.id));
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids
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
