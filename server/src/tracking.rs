//! Server-assisted client-side caching (CLIENT TRACKING), as Redis 7.0's
//! `tracking.c`.
//!
//! A tracking client's reads are remembered in one table shared by all
//! loops (key → ids of the clients that may cache it); when any client
//! changes such a key, each remembering client is sent an invalidation and
//! forgotten for that key. BCAST clients instead subscribe to key prefixes
//! and hear of every modified key under them.
//!
//! # Where keys are seen to change
//!
//! The keyspace marks a changed key in one place (`Shard::touch_watchers`,
//! reached from its own writes and from `Locked::signal`). While some
//! client tracks ([`active`], one relaxed load), it also notes the key in a
//! per-thread list; the command that ran (or the expiry cycle) then hands
//! the list to [`Tracking::invalidate`] on the same thread, which knows the
//! writer (for NOLOOP). Messages for other clients travel through the
//! running loop's [`Outbox`]; the writer's own invalidations follow its
//! reply, as Redis defers them.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::client::ClientMeta;
use crate::pubsub::Outbox;
use crate::shared::Shared;

/// Tracking clients in this process, all servers together: the gate that
/// keeps the write path at one relaxed load while nobody tracks.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Keys changed on this thread since the last drain, and whether a
    /// database was flushed.
    static NOTED: RefCell<(Vec<Box<[u8]>>, bool)> = const { RefCell::new((Vec::new(), false)) };
}

/// True while some client tracks keys.
#[inline]
pub fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed) != 0
}

/// Notes that `key` changed (the caller checked [`active`]).
pub fn note(key: &[u8]) {
    NOTED.with(|n| n.borrow_mut().0.push(key.into()));
}

/// Notes that a database was flushed: every tracking client is told that
/// all its keys are invalid.
pub fn note_flush() {
    if active() {
        NOTED.with(|n| n.borrow_mut().1 = true);
    }
}

fn take_noted() -> (Vec<Box<[u8]>>, bool) {
    NOTED.with(|n| {
        let mut n = n.borrow_mut();
        if n.0.is_empty() && !n.1 {
            return (Vec::new(), false);
        }
        (std::mem::take(&mut n.0), std::mem::replace(&mut n.1, false))
    })
}

/// A client's tracking mode, kept by the client (CLIENT TRACKINGINFO).
#[derive(Debug, Default, Clone)]
pub struct ClientTracking {
    /// Where invalidations go (0: the client itself).
    pub redirect: u64,
    /// BCAST mode.
    pub bcast: bool,
    /// OPTIN mode.
    pub optin: bool,
    /// OPTOUT mode.
    pub optout: bool,
    /// NOLOOP: not told about its own writes.
    pub noloop: bool,
    /// CLIENT CACHING was given for the next command.
    pub caching: bool,
    /// The redirection client went away.
    pub broken: bool,
    /// BCAST prefixes.
    pub prefixes: BTreeSet<Vec<u8>>,
}

impl ClientTracking {
    /// Whether the keys of the command that runs now are remembered:
    /// Redis's OPTIN/OPTOUT test in `trackingRememberKeys`.
    pub fn remembers(&self) -> bool {
        let skip = if self.optin {
            !self.caching
        } else {
            self.optout && self.caching
        };
        !self.bcast && !skip
    }
}

/// What a writer needs to know of a tracking client.
struct Target {
    meta: Arc<ClientMeta>,
    redirect: u64,
    bcast: bool,
    noloop: bool,
}

/// One invalidation for a client of some loop.
#[derive(Debug, Clone)]
pub enum Note {
    /// Keys (a RESP array, or a null after a flush), for `client` itself
    /// (`redirected` false: shown only to RESP3) or as the redirection
    /// target of another (also shown to a RESP2 client in pub/sub mode).
    Keys {
        /// The receiving client.
        client: u64,
        /// The RESP value sent after the header.
        body: Arc<[u8]>,
        /// Sent on behalf of another client.
        redirected: bool,
    },
    /// `client`'s redirection target `to` is gone.
    RedirBroken {
        /// The tracking client.
        client: u64,
        /// The missing redirection.
        to: u64,
    },
}

impl Note {
    /// The receiving client.
    pub fn client(&self) -> u64 {
        match self {
            Note::Keys { client, .. } | Note::RedirBroken { client, .. } => *client,
        }
    }

    /// Frames the note for a receiver speaking RESP3 (`resp3`) or not,
    /// in pub/sub mode (`subscribed`) or not; nothing when it cannot be
    /// shown. Returns whether a RedirBroken flag must be set.
    pub fn write_to(&self, out: &mut Vec<u8>, resp3: bool, subscribed: bool) -> bool {
        match self {
            Note::Keys {
                body, redirected, ..
            } => {
                if resp3 {
                    out.extend_from_slice(b">2\r\n$10\r\ninvalidate\r\n");
                } else if *redirected && subscribed {
                    out.extend_from_slice(
                        b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n",
                    );
                } else {
                    return false;
                }
                out.extend_from_slice(body);
                false
            }
            Note::RedirBroken { to, .. } => {
                if resp3 {
                    out.extend_from_slice(b">2\r\n$21\r\ntracking-redir-broken\r\n:");
                    out.extend_from_slice(itoa::Buffer::new().format(*to).as_bytes());
                    out.extend_from_slice(b"\r\n");
                }
                true
            }
        }
    }
}

#[derive(Default)]
struct Inner {
    /// Key → ids of the clients that may cache it.
    table: HashMap<Box<[u8]>, Vec<u64>, ahash::RandomState>,
    /// Ids stored across the table (INFO `tracking_total_items`).
    items: usize,
    /// Tracking clients by id.
    clients: HashMap<u64, Target, ahash::RandomState>,
    /// BCAST prefix → subscribed client ids.
    prefixes: BTreeMap<Vec<u8>, BTreeSet<u64>>,
}

/// The server's tracking table and tracking clients.
#[derive(Default)]
pub struct Tracking {
    inner: Mutex<Inner>,
}

/// A writer's own pending messages and the sender of the others.
struct Sink<'a> {
    shared: &'a Shared,
    outbox: &'a mut Outbox,
    current: u64,
    own: Vec<Note>,
}

impl Sink<'_> {
    /// Redis's `sendTrackingMessage` for target `t`.
    fn send(&mut self, t: &Target, body: &Arc<[u8]>) {
        if t.redirect != 0 {
            match self.shared.client_meta(t.redirect) {
                Some(r) => self.post(
                    r.loop_index,
                    Note::Keys {
                        client: r.id,
                        body: body.clone(),
                        redirected: true,
                    },
                ),
                None => self.post(
                    t.meta.loop_index,
                    Note::RedirBroken {
                        client: t.meta.id,
                        to: t.redirect,
                    },
                ),
            }
            return;
        }
        self.post(
            t.meta.loop_index,
            Note::Keys {
                client: t.meta.id,
                body: body.clone(),
                redirected: false,
            },
        );
    }

    fn post(&mut self, l: usize, n: Note) {
        if n.client() == self.current {
            self.own.push(n);
        } else {
            self.outbox.post_tracking(l, n);
        }
    }
}

fn key_array<'k>(keys: impl ExactSizeIterator<Item = &'k [u8]>) -> Arc<[u8]> {
    let mut b = Vec::new();
    let mut n = itoa::Buffer::new();
    b.push(b'*');
    b.extend_from_slice(n.format(keys.len()).as_bytes());
    b.extend_from_slice(b"\r\n");
    for k in keys {
        b.push(b'$');
        b.extend_from_slice(n.format(k.len()).as_bytes());
        b.extend_from_slice(b"\r\n");
        b.extend_from_slice(k);
        b.extend_from_slice(b"\r\n");
    }
    b.into()
}

impl Tracking {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Turns tracking on for `meta` with mode `t` (Redis's `enableTracking`;
    /// the caller checked the options). New prefixes are added to those the
    /// client has.
    pub fn enable(
        &self,
        shared: &Shared,
        meta: &Arc<ClientMeta>,
        t: &ClientTracking,
        was_on: bool,
    ) {
        let mut g = self.lock();
        if !was_on {
            ACTIVE.fetch_add(1, Ordering::Relaxed);
            shared.keyspace.interest(true);
        }
        g.clients.insert(
            meta.id,
            Target {
                meta: meta.clone(),
                redirect: t.redirect,
                bcast: t.bcast,
                noloop: t.noloop,
            },
        );
        for p in &t.prefixes {
            g.prefixes.entry(p.clone()).or_default().insert(meta.id);
        }
    }

    /// Turns tracking off for client `id` (CLIENT TRACKING off, or the
    /// client left). Its ids stay in the table and are skipped, as Redis
    /// forgets them lazily.
    pub fn disable(&self, shared: &Shared, id: u64, t: &ClientTracking) {
        let mut g = self.lock();
        if g.clients.remove(&id).is_some() {
            ACTIVE.fetch_sub(1, Ordering::Relaxed);
            shared.keyspace.interest(false);
        }
        for p in &t.prefixes {
            if let Some(set) = g.prefixes.get_mut(p) {
                set.remove(&id);
                if set.is_empty() {
                    g.prefixes.remove(p);
                }
            }
        }
    }

    /// Remembers that client `id` read `keys` (Redis's
    /// `trackingRememberKeys`), then keeps the table within `max_keys`
    /// (0: unlimited) by invalidating keys as if they changed.
    pub fn remember<'k>(
        &self,
        keys: impl Iterator<Item = &'k [u8]>,
        id: u64,
        max_keys: usize,
        shared: &Shared,
        outbox: &mut Outbox,
    ) -> Vec<Note> {
        let mut g = self.lock();
        for k in keys {
            let ids = match g.table.get_mut(k) {
                Some(ids) => ids,
                None => g.table.entry(k.into()).or_default(),
            };
            if !ids.contains(&id) {
                ids.push(id);
                g.items += 1;
            }
        }
        let mut sink = Sink {
            shared,
            outbox,
            current: id,
            own: Vec::new(),
        };
        if max_keys > 0 && g.table.len() > max_keys {
            let over = g.table.len() - max_keys;
            let victims: Vec<Box<[u8]>> = g.table.keys().take(over).cloned().collect();
            for k in victims {
                invalidate_key(&mut g, &mut sink, &k, None);
            }
        }
        sink.own
    }

    /// Sends the invalidations for what this thread noted since the last
    /// call: changed keys (by client `writer`, 0 for the server itself)
    /// and flushes. Returns the messages for `writer` itself, which follow
    /// its reply.
    pub fn invalidate(&self, shared: &Shared, outbox: &mut Outbox, writer: u64) -> Vec<Note> {
        let (keys, flushed) = take_noted();
        if keys.is_empty() && !flushed {
            return Vec::new();
        }
        let mut g = self.lock();
        let mut sink = Sink {
            shared,
            outbox,
            current: writer,
            own: Vec::new(),
        };
        let g = &mut *g;
        for k in &keys {
            invalidate_key(g, &mut sink, k, Some(writer));
        }
        let mut bcast: BTreeMap<&[u8], BTreeSet<&[u8]>> = BTreeMap::new();
        for k in &keys {
            for p in g.prefixes.keys() {
                if k.starts_with(p) {
                    bcast.entry(p).or_default().insert(k);
                }
            }
        }
        for (p, ks) in &bcast {
            let body = key_array(ks.iter().copied());
            for id in &g.prefixes[*p] {
                let Some(t) = g.clients.get(id) else { continue };
                if t.noloop && *id == writer {
                    // Every key of this batch is the writer's own.
                    continue;
                }
                sink.send(t, &body);
            }
        }
        if flushed {
            for t in g.clients.values() {
                let null: &[u8] = if t.meta.resp.load(Ordering::Relaxed) >= 3 {
                    b"_\r\n"
                } else {
                    b"$-1\r\n"
                };
                sink.send(t, &Arc::from(null));
            }
            g.table.clear();
            g.items = 0;
        }
        sink.own
    }

    /// INFO: tracking clients, keys, items, prefixes.
    pub fn stats(&self) -> (usize, usize, usize, usize) {
        let g = self.lock();
        (g.clients.len(), g.table.len(), g.items, g.prefixes.len())
    }
}

/// Redis's `trackingInvalidateKey` for the default mode: every client that
/// may cache `key` is told, and the key is forgotten.
fn invalidate_key(g: &mut Inner, sink: &mut Sink<'_>, key: &[u8], writer: Option<u64>) {
    let Some(ids) = g.table.remove(key) else {
        return;
    };
    g.items -= ids.len();
    let body = key_array(std::iter::once(key));
    for id in ids {
        let Some(t) = g.clients.get(&id) else {
            continue;
        };
        if t.bcast || (t.noloop && Some(id) == writer) {
            continue;
        }
        sink.send(t, &body);
    }
}

/// Writes the writer's own notes (after its reply) into `out`, setting the
/// broken-redirection flag where one says so.
pub fn write_own(notes: &[Note], out: &mut Vec<u8>, resp3: bool, t: Option<&mut ClientTracking>) {
    let mut broken = false;
    for n in notes {
        broken |= n.write_to(out, resp3, false);
    }
    if let (true, Some(t)) = (broken, t) {
        t.broken = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_array_frames_keys_as_resp() {
        let b = key_array([&b"a"[..], b"bc"].into_iter());
        assert_eq!(&*b, b"*2\r\n$1\r\na\r\n$2\r\nbc\r\n");
    }

    #[test]
    fn invalidation_frames_as_push_or_pubsub_message() {
        let n = Note::Keys {
            client: 1,
            body: key_array(std::iter::once(&b"k"[..])),
            redirected: true,
        };
        let mut out = Vec::new();
        n.write_to(&mut out, true, false);
        assert_eq!(out, b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
        out.clear();
        n.write_to(&mut out, false, true);
        assert_eq!(
            out,
            b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n"
        );
        out.clear();
        n.write_to(&mut out, false, false);
        assert!(out.is_empty(), "RESP2 outside pub/sub cannot be told");
    }

    #[test]
    fn caching_flag_follows_optin_and_optout() {
        let mut t = ClientTracking::default();
        assert!(t.remembers());
        t.optin = true;
        assert!(!t.remembers());
        t.caching = true;
        assert!(t.remembers());
        t = ClientTracking {
            optout: true,
            ..Default::default()
        };
        assert!(t.remembers());
        t.caching = true;
        assert!(!t.remembers());
    }
}
