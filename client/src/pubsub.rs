//! Pub/sub messages: [`Message`] and the [`KeyspaceEvent`] notifications.
//! How a subscriber's connection is read is `proto::subscription`'s part.

use bytes::Bytes;
use soquete_resp::Frame;

use crate::error::Result;
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
