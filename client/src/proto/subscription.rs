//! A subscriber's connection, without the connection: the subscription
//! families, what arrives ([`parse_event`]), the channels to subscribe again
//! after a reconnect ([`Subscriptions`]), and [`SubscriberState`], the state
//! machine both subscribers (`sync`, `tokio`) run.
//!
//! A subscriber owns its connection: once subscribed, a RESP2 connection can
//! only (un)subscribe and ping. Over RESP3 the same messages arrive as push
//! frames; both shapes are read the same way.

use std::collections::{HashSet, VecDeque};

use bytes::Bytes;
use soquete_resp::Frame;

use crate::args::ToArgs;
use crate::cmd::{ArgCounter, Cmd};
use crate::error::{Error, Result};
use crate::pubsub::{Message, MessageKind};

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

/// What a subscriber knows apart from its socket: its subscriptions, the
/// messages received and not handed out yet, and the confirmations due for
/// its last (un)subscribe.
///
/// ```text
/// state.request(Family::Channel, true, "news", &mut out);   // SUBSCRIBE news
/// write(out);
/// while state.awaiting() {
///     state.receive(read_frame())?;
/// }
/// ...
/// let msg = loop {
///     if let Some(m) = state.next_message() { break m; }
///     state.receive(read_frame())?;
/// };
/// ```
#[derive(Debug, Default)]
pub(crate) struct SubscriberState {
    subs: Subscriptions,
    pending: VecDeque<Message>,
    due: Option<Due>,
}

/// Confirmations a subscriber still waits for.
#[derive(Debug)]
struct Due {
    /// Their family; `None` for any (restoring every family at once).
    family: Option<Family>,
    /// Subscribe (`true`) or unsubscribe confirmations.
    on: bool,
    count: usize,
}

impl SubscriberState {
    /// The state of a new subscriber on `subs` (empty for a new one; a copy
    /// for a connection being restored).
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn with(subs: Subscriptions) -> SubscriberState {
        SubscriberState {
            subs,
            ..SubscriberState::default()
        }
    }

    /// The `Debug` output of a subscriber in this state, named `name`,
    /// connecting to `addr`.
    pub(crate) fn fmt_subscriber(
        &self,
        f: &mut std::fmt::Formatter<'_>,
        name: &str,
        addr: &crate::config::Addr,
    ) -> std::fmt::Result {
        f.debug_struct(name)
            .field("addr", addr)
            .field("subscriptions", &self.subs)
            .finish()
    }

    /// Its subscriptions.
    pub(crate) fn subscriptions(&self) -> &Subscriptions {
        &self.subs
    }

    /// Encodes `SUBSCRIBE names` (or another command of the families, `on`
    /// false for the unsubscribe ones) into `out`, cleared first; its
    /// confirmations are due.
    pub(crate) fn request<C: ToArgs>(&mut self, f: Family, on: bool, names: C, out: &mut Vec<u8>) {
        let count = expected_confirmations(&names, &self.subs, f, on);
        let name = if on { f.subscribe() } else { f.unsubscribe() };
        out.clear();
        Cmd::from_args((name, names)).write_packed(out);
        self.due = Some(Due {
            family: Some(f),
            on,
            count,
        });
    }

    /// Encodes into `out` (cleared first) the commands that subscribe a new
    /// connection to everything again; their confirmations are due.
    pub(crate) fn resubscribe(&mut self, out: &mut Vec<u8>) {
        out.clear();
        let mut count = 0;
        for (_, c, n) in self.subs.restore_cmds() {
            c.write_packed(out);
            count += n;
        }
        self.due = Some(Due {
            family: None,
            on: true,
            count,
        });
    }

    /// True while confirmations of the last request are due.
    pub(crate) fn awaiting(&self) -> bool {
        self.due.as_ref().is_some_and(|d| d.count > 0)
    }

    /// Reads one frame: a confirmation updates the subscriptions (and
    /// counts if due), a message waits for [`next_message`](Self::next_message),
    /// a `PONG` is dropped. An error reply, or a frame that is no pub/sub
    /// frame, is `Err`.
    pub(crate) fn receive(&mut self, frame: Frame) -> Result<()> {
        match parse_event(frame)? {
            Event::Message(m) => self.pending.push_back(m),
            Event::Confirm(f, on, ch) => {
                self.subs.apply(f, on, ch.as_ref());
                if let Some(d) = &mut self.due {
                    if d.count > 0 && d.on == on && d.family.is_none_or(|df| df == f) {
                        d.count -= 1;
                    }
                }
            }
            Event::Pong => {}
            Event::Error(e) => return Err(e),
        }
        Ok(())
    }

    /// The oldest message received and not handed out.
    #[inline]
    pub(crate) fn next_message(&mut self) -> Option<Message> {
        self.pending.pop_front()
    }

    /// Keeps `msgs` (received on a connection being restored) for
    /// [`next_message`](Self::next_message).
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn keep(&mut self, msgs: VecDeque<Message>) {
        self.pending.extend(msgs);
    }

    /// The messages received and not handed out.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn into_messages(self) -> VecDeque<Message> {
        self.pending
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

    fn frame(wire: &str) -> Frame {
        let mut inbox = crate::proto::inbox::Inbox::with_capacity(64);
        inbox.buf().extend_from_slice(wire.as_bytes());
        inbox.frame().unwrap().expect("a whole frame")
    }

    #[test]
    fn a_subscribe_waits_for_its_confirmations_and_keeps_messages_meanwhile() {
        let mut state = SubscriberState::default();
        let mut out = Vec::new();
        state.request(Family::Channel, true, ("a", "b"), &mut out);
        assert_eq!(out, crate::fake::req(&["SUBSCRIBE", "a", "b"]));
        state
            .receive(frame("*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"))
            .unwrap();
        // Another family's confirmation does not count.
        state
            .receive(frame("*3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:2\r\n"))
            .unwrap();
        state
            .receive(frame(">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n"))
            .unwrap();
        assert!(state.awaiting());
        state
            .receive(frame("*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:3\r\n"))
            .unwrap();
        assert!(!state.awaiting());
        assert_eq!(state.subscriptions().len(Family::Channel), 2);
        assert_eq!(state.subscriptions().len(Family::Pattern), 1);
        assert_eq!(&state.next_message().unwrap().payload[..], b"hi");
        assert_eq!(state.next_message(), None);
    }

    #[test]
    fn unsubscribing_from_all_waits_for_one_confirmation_per_subscription() {
        let mut state = SubscriberState::default();
        let mut out = Vec::new();
        state.request(Family::Channel, false, (), &mut out);
        assert_eq!(out, crate::fake::req(&["UNSUBSCRIBE"]));
        state
            .receive(frame("*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"))
            .unwrap();
        assert!(!state.awaiting());
    }

    #[test]
    fn resubscribing_sends_every_family_and_counts_every_confirmation() {
        let mut subs = Subscriptions::default();
        subs.apply(Family::Channel, true, Some(&Bytes::from_static(b"c")));
        subs.apply(Family::Pattern, true, Some(&Bytes::from_static(b"p*")));
        let mut state = SubscriberState::with(subs);
        let mut out = Vec::new();
        state.resubscribe(&mut out);
        assert_eq!(
            out,
            [
                crate::fake::req(&["SUBSCRIBE", "c"]),
                crate::fake::req(&["PSUBSCRIBE", "p*"])
            ]
            .concat()
        );
        state
            .receive(frame("*3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:1\r\n"))
            .unwrap();
        assert!(state.awaiting());
        state
            .receive(frame("*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:2\r\n"))
            .unwrap();
        assert!(!state.awaiting());
    }

    #[test]
    fn an_error_reply_is_an_error_and_pong_is_nothing() {
        let mut state = SubscriberState::default();
        state.receive(frame("+PONG\r\n")).unwrap();
        let e = state
            .receive(frame(
                "-ERR only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed\r\n",
            ))
            .unwrap_err();
        assert_eq!(e.code(), Some("ERR"));
        assert_eq!(state.next_message(), None);
    }
}
