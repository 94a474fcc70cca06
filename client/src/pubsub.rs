//! Pub/sub: [`Message`], [`KeyspaceEvent`], and what a subscriber's
//! connection receives.
//!
//! A subscriber owns its connection: once subscribed, a RESP2 connection can
//! only (un)subscribe and ping. Over RESP3 the same messages arrive as push
//! frames; both shapes are read the same way.

use std::collections::HashSet;

use bytes::Bytes;
use soquete_resp::Frame;

use crate::args::ToArgs;
use crate::cmd::{ArgCounter, Cmd};
use crate::error::{Error, Result};
use crate::value::FromValue;

/// Which subscription a message came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// `SUBSCRIBE channel`.
    Message,
    /// `PSUBSCRIBE pattern`: [`Message::pattern`] says which pattern matched.
    PMessage,
    /// `SSUBSCRIBE shardchannel`.
    SMessage,
}

/// A published message.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// How the subscriber receives it.
    pub kind: MessageKind,
    /// The channel it was published on.
    pub channel: Bytes,
    /// For pattern subscriptions, the pattern that matched.
    pub pattern: Option<Bytes>,
    /// The message itself.
    pub payload: Bytes,
}

impl Message {
    /// The channel name, lossily as text.
    pub fn channel_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.channel)
    }

    /// The payload converted to `T` (`String`, `i64`, `Vec<u8>`...).
    pub fn payload<T: FromValue>(&self) -> Result<T> {
        T::from_value(Frame::Bulk(self.payload.clone()))
    }
}

impl Message {
    /// The keyspace notification this message carries, if it came from a
    /// `__keyspace@<db>__:` or `__keyevent@<db>__:` channel. See
    /// [`KeyspaceEvent`].
    pub fn keyspace_event(&self) -> Option<KeyspaceEvent> {
        KeyspaceEvent::from_message(self)
    }
}

/// Which of the two channels a keyspace notification came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyspaceKind {
    /// `__keyspace@<db>__:<key>`, the event as payload (`notify-keyspace-events` flag `K`).
    Keyspace,
    /// `__keyevent@<db>__:<event>`, the key as payload (flag `E`).
    Keyevent,
}

/// A keyspace notification: the server tells subscribers that `event`
/// (`set`, `del`, `expired`, `lpush`...) happened to `key` in database `db`.
///
/// Servers send none unless asked: `CONFIG SET notify-keyspace-events KEA`
/// (or a subset of the flags: `K`/`E` for the two channel kinds, then the
/// classes, `A` for all). [`Subscriber::subscribe_keyspace`](crate::Subscriber::subscribe_keyspace) and
/// [`Subscriber::subscribe_keyevent`](crate::Subscriber::subscribe_keyevent) subscribe to the channels of the
/// subscriber's database; [`Message::keyspace_event`] reads them.
///
/// ```
/// use soquete_client::{Bytes, KeyspaceEvent, KeyspaceKind, Message, MessageKind};
/// let m = Message {
///     kind: MessageKind::PMessage,
///     channel: Bytes::from_static(b"__keyspace@0__:user:42"),
///     pattern: Some(Bytes::from_static(b"__keyspace@0__:user:*")),
///     payload: Bytes::from_static(b"expired"),
/// };
/// let e = m.keyspace_event().unwrap();
/// assert_eq!((e.kind, e.db), (KeyspaceKind::Keyspace, 0));
/// assert_eq!((&e.key[..], &e.event[..]), (&b"user:42"[..], &b"expired"[..]));
/// assert_eq!(KeyspaceEvent::keyspace_pattern(0, "user:*"), b"__keyspace@0__:user:*");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyspaceEvent {
    /// The channel it came through.
    pub kind: KeyspaceKind,
    /// The database of the key.
    pub db: i64,
    /// The key.
    pub key: Bytes,
    /// The event's name, as Redis spells it (`set`, `del`, `expire`, `expired`, `lpush`...).
    pub event: Bytes,
}

impl KeyspaceEvent {
    /// Reads a message from a keyspace or keyevent channel; `None` for any
    /// other message.
    pub fn from_message(m: &Message) -> Option<KeyspaceEvent> {
        let ch = &m.channel[..];
        let (kind, rest) = if let Some(r) = ch.strip_prefix(b"__keyspace@") {
            (KeyspaceKind::Keyspace, r)
        } else if let Some(r) = ch.strip_prefix(b"__keyevent@") {
            (KeyspaceKind::Keyevent, r)
        } else {
            return None;
        };
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let db = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
        rest[digits..].strip_prefix(b"__:")?;
        let start = ch.len() - (rest.len() - digits - 3);
        let name = m.channel.slice(start..);
        let (key, event) = match kind {
            KeyspaceKind::Keyspace => (name, m.payload.clone()),
            KeyspaceKind::Keyevent => (m.payload.clone(), name),
        };
        Some(KeyspaceEvent {
            kind,
            db,
            key,
            event,
        })
    }

    /// The key, lossily as text.
    pub fn key_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.key)
    }

    /// The event name as text.
    pub fn event_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.event)
    }

    /// The channel pattern for events on keys matching the glob
    /// `key_pattern` in `db`: `__keyspace@<db>__:<key_pattern>`.
    pub fn keyspace_pattern(db: i64, key_pattern: impl AsRef<[u8]>) -> Vec<u8> {
        channel(b"__keyspace@", db, key_pattern.as_ref())
    }

    /// The channel pattern for events whose name matches the glob
    /// `event_pattern` in `db`: `__keyevent@<db>__:<event_pattern>`.
    pub fn keyevent_pattern(db: i64, event_pattern: impl AsRef<[u8]>) -> Vec<u8> {
        channel(b"__keyevent@", db, event_pattern.as_ref())
    }
}

fn channel(prefix: &[u8], db: i64, tail: &[u8]) -> Vec<u8> {
    let mut b = itoa::Buffer::new();
    let db = b.format(db).as_bytes();
    let mut v = Vec::with_capacity(prefix.len() + db.len() + 3 + tail.len());
    v.extend_from_slice(prefix);
    v.extend_from_slice(db);
    v.extend_from_slice(b"__:");
    v.extend_from_slice(tail);
    v
}

/// The three subscription families.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Channel,
    Pattern,
    Shard,
}

impl Family {
    pub(crate) fn subscribe(self) -> &'static str {
        match self {
            Family::Channel => "SUBSCRIBE",
            Family::Pattern => "PSUBSCRIBE",
            Family::Shard => "SSUBSCRIBE",
        }
    }
    pub(crate) fn unsubscribe(self) -> &'static str {
        match self {
            Family::Channel => "UNSUBSCRIBE",
            Family::Pattern => "PUNSUBSCRIBE",
            Family::Shard => "SUNSUBSCRIBE",
        }
    }
}

/// What a pub/sub connection receives.
#[derive(Debug)]
pub(crate) enum Event {
    Message(Message),
    /// A (un)subscribe confirmation: family, subscribed or not, channel (None
    /// for "unsubscribed from nothing").
    Confirm(Family, bool, Option<Bytes>),
    /// The answer to PING.
    Pong,
    /// An error reply (to a command sent while subscribed).
    Error(Error),
}

fn bytes_of(f: Frame) -> Option<Bytes> {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) => Some(b),
        Frame::Verbatim { text, .. } => Some(text),
        _ => None,
    }
}

/// Reads one frame of a pub/sub connection.
pub(crate) fn parse_event(f: Frame) -> Result<Event> {
    let items = match f {
        Frame::Array(v) | Frame::Push(v) => v,
        Frame::Simple(s) if s.eq_ignore_ascii_case(b"PONG") => return Ok(Event::Pong),
        Frame::Error(e) | Frame::BlobError(e) => {
            return Ok(Event::Error(Error::Server(crate::ServerError::new(e))))
        }
        f => return Err(Error::conversion("a pub/sub message", &f)),
    };
    let desc = format!("array of {} elements", items.len());
    let mut it = items.into_iter();
    let kind = it.next().and_then(bytes_of).unwrap_or_default();
    let kind = kind.to_ascii_lowercase();
    let bad = || Error::conversion_msg("a pub/sub message", desc.clone());
    let ev = match &kind[..] {
        b"message" | b"smessage" => {
            let channel = it.next().and_then(bytes_of).ok_or_else(bad)?;
            let payload = it.next().and_then(bytes_of).ok_or_else(bad)?;
            Event::Message(Message {
                kind: if kind[0] == b's' {
                    MessageKind::SMessage
                } else {
                    MessageKind::Message
                },
                channel,
                pattern: None,
                payload,
            })
        }
        b"pmessage" => {
            let pattern = it.next().and_then(bytes_of).ok_or_else(bad)?;
            let channel = it.next().and_then(bytes_of).ok_or_else(bad)?;
            let payload = it.next().and_then(bytes_of).ok_or_else(bad)?;
            Event::Message(Message {
                kind: MessageKind::PMessage,
                channel,
                pattern: Some(pattern),
                payload,
            })
        }
        b"subscribe" => Event::Confirm(Family::Channel, true, it.next().and_then(bytes_of)),
        b"psubscribe" => Event::Confirm(Family::Pattern, true, it.next().and_then(bytes_of)),
        b"ssubscribe" => Event::Confirm(Family::Shard, true, it.next().and_then(bytes_of)),
        b"unsubscribe" => Event::Confirm(Family::Channel, false, it.next().and_then(bytes_of)),
        b"punsubscribe" => Event::Confirm(Family::Pattern, false, it.next().and_then(bytes_of)),
        b"sunsubscribe" => Event::Confirm(Family::Shard, false, it.next().and_then(bytes_of)),
        b"pong" => Event::Pong,
        _ => return Err(bad()),
    };
    Ok(ev)
}

/// The channels, patterns and shard channels a subscriber is subscribed to,
/// so that it can subscribe again after reconnecting.
#[derive(Clone, Debug, Default)]
pub(crate) struct Subscriptions {
    sets: [HashSet<Bytes>; 3],
}

impl Subscriptions {
    fn idx(f: Family) -> usize {
        match f {
            Family::Channel => 0,
            Family::Pattern => 1,
            Family::Shard => 2,
        }
    }
    pub(crate) fn apply(&mut self, f: Family, on: bool, name: Option<&Bytes>) {
        if let Some(n) = name {
            let s = &mut self.sets[Self::idx(f)];
            if on {
                s.insert(n.clone());
            } else {
                s.remove(n);
            }
        }
    }
    pub(crate) fn len(&self, f: Family) -> usize {
        self.sets[Self::idx(f)].len()
    }
    /// The commands that restore every subscription.
    pub(crate) fn restore_cmds(&self) -> Vec<(Family, Cmd, usize)> {
        [Family::Channel, Family::Pattern, Family::Shard]
            .into_iter()
            .filter(|f| self.len(*f) > 0)
            .map(|f| {
                let names: Vec<&Bytes> = self.sets[Self::idx(f)].iter().collect();
                (f, Cmd::from_args((f.subscribe(), &names)), names.len())
            })
            .collect()
    }
}

/// How many confirmations a (un)subscribe command with these arguments gets.
pub(crate) fn expected_confirmations<C: ToArgs>(
    channels: &C,
    subs: &Subscriptions,
    f: Family,
    on: bool,
) -> usize {
    let mut n = ArgCounter::default();
    channels.write_args(&mut n);
    if n.count == 0 && !on {
        // Unsubscribe from all: one confirmation per subscription, or one
        // (with a null channel) when there is none.
        subs.len(f).max(1)
    } else {
        n.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn parses_resp2_and_resp3_messages() {
        for wrap in [Frame::Array as fn(Vec<Frame>) -> Frame, Frame::Push] {
            match parse_event(wrap(vec![b("message"), b("ch"), b("hi")])).unwrap() {
                Event::Message(m) => {
                    assert_eq!(
                        (m.kind, &m.channel[..], &m.payload[..]),
                        (MessageKind::Message, &b"ch"[..], &b"hi"[..])
                    )
                }
                e => panic!("{e:?}"),
            }
            match parse_event(wrap(vec![b("pmessage"), b("c*"), b("ch"), b("x")])).unwrap() {
                Event::Message(m) => assert_eq!(m.pattern.as_deref(), Some(&b"c*"[..])),
                e => panic!("{e:?}"),
            }
            assert!(matches!(
                parse_event(wrap(vec![b("ssubscribe"), b("s"), Frame::Integer(1)])).unwrap(),
                Event::Confirm(Family::Shard, true, Some(_))
            ));
            assert!(matches!(
                parse_event(wrap(vec![
                    b("unsubscribe"),
                    Frame::NullBulk,
                    Frame::Integer(0)
                ]))
                .unwrap(),
                Event::Confirm(Family::Channel, false, None)
            ));
        }
        assert!(parse_event(Frame::Array(vec![b("message"), b("ch")])).is_err());
        assert!(parse_event(Frame::Integer(3)).is_err());
    }

    #[test]
    fn reads_keyspace_and_keyevent_channels_and_nothing_else() {
        let msg = |ch: &'static str, payload: &'static str| Message {
            kind: MessageKind::PMessage,
            channel: Bytes::from_static(ch.as_bytes()),
            pattern: None,
            payload: Bytes::from_static(payload.as_bytes()),
        };
        let e = msg("__keyevent@15__:del", "a:b").keyspace_event().unwrap();
        assert_eq!(
            (e.kind, e.db, e.key_str().as_ref(), e.event_str().as_ref()),
            (KeyspaceKind::Keyevent, 15, "a:b", "del")
        );
        // A key may hold anything, "__:" included.
        let e = msg("__keyspace@0__:x__:y", "set").keyspace_event().unwrap();
        assert_eq!((&e.key[..], &e.event[..]), (&b"x__:y"[..], &b"set"[..]));
        let e = msg("__keyspace@3__:", "set").keyspace_event().unwrap();
        assert_eq!((e.db, &e.key[..]), (3, &b""[..]));
        for ch in [
            "news",
            "__keyspace@__:k",
            "__keyspace@x__:k",
            "__keyspace@1_:k",
            "__keyspace@1",
            "__keyevent@99999999999999999999__:del",
        ] {
            assert_eq!(msg(ch, "p").keyspace_event(), None, "{ch}");
        }
        assert_eq!(
            KeyspaceEvent::keyevent_pattern(-1, b"exp*"),
            b"__keyevent@-1__:exp*"
        );
    }

    #[test]
    fn counts_confirmations_to_wait_for() {
        let mut subs = Subscriptions::default();
        assert_eq!(
            expected_confirmations(&("a", "b"), &subs, Family::Channel, true),
            2
        );
        assert_eq!(
            expected_confirmations(&(), &subs, Family::Channel, false),
            1
        );
        subs.apply(Family::Channel, true, Some(&Bytes::from_static(b"a")));
        subs.apply(Family::Channel, true, Some(&Bytes::from_static(b"b")));
        assert_eq!(
            expected_confirmations(&(), &subs, Family::Channel, false),
            2
        );
        assert_eq!(subs.restore_cmds().len(), 1);
    }
}
