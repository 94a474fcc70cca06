//! The blocking pub/sub [`Subscriber`].

use std::time::Duration;

use soquete_resp::Frame;

use super::client::Client;
use super::connection::{reconnect, Connection};
use crate::args::ToArgs;
use crate::config::{Config, IntoConfig};
use crate::error::{Error, Result};
use crate::proto::subscription::{Family, SubscriberState};
use crate::pubsub::{KeyspaceEvent, Message};

/// A blocking pub/sub subscriber.
///
/// It owns a connection of its own. `subscribe` and friends return once the
/// server confirmed; messages that arrive meanwhile are kept for
/// [`next_message`](Self::next_message). When the connection drops, the
/// subscriber connects again (with backoff) and restores its subscriptions;
/// messages published while it was away are lost, as pub/sub delivers only to
/// connected subscribers.
///
/// ```no_run
/// use soquete_client::Subscriber;
/// let mut sub = Subscriber::connect("redis://127.0.0.1")?;
/// sub.subscribe("news")?;
/// sub.psubscribe("alerts.*")?;
/// for msg in sub.messages().take(3) {
///     let msg = msg?;
///     println!("{}: {}", msg.channel_str(), msg.payload::<String>()?);
/// }
/// # Ok::<(), soquete_client::Error>(())
/// ```
pub struct Subscriber {
    cfg: Config,
    conn: Option<Connection>,
    state: SubscriberState,
    out: Vec<u8>,
}

impl std::fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.state.fmt_subscriber(f, "Subscriber", &self.cfg.addr)
    }
}

impl Subscriber {
    /// Connects a new subscriber.
    pub fn connect<C: IntoConfig>(target: C) -> Result<Subscriber> {
        let cfg = target.into_config()?;
        let conn = Connection::open(&cfg)?;
        Ok(Subscriber::new(cfg, conn))
    }

    fn new(cfg: Config, conn: Connection) -> Subscriber {
        Subscriber {
            cfg,
            conn: Some(conn),
            state: SubscriberState::default(),
            out: Vec::new(),
        }
    }

    pub(crate) fn from_client(c: Client) -> Result<Subscriber> {
        let Client { cfg, session, .. } = c;
        let conn = match session.into_connection() {
            Some(c) => c,
            None => Connection::open(&cfg)?,
        };
        Ok(Subscriber::new(cfg, conn))
    }

    /// `SUBSCRIBE` to one or more channels.
    pub fn subscribe<C: ToArgs>(&mut self, channels: C) -> Result<()> {
        self.control(Family::Channel, true, channels)
    }
    /// `PSUBSCRIBE` to one or more glob patterns.
    pub fn psubscribe<C: ToArgs>(&mut self, patterns: C) -> Result<()> {
        self.control(Family::Pattern, true, patterns)
    }
    /// `SSUBSCRIBE` to one or more shard channels.
    pub fn ssubscribe<C: ToArgs>(&mut self, channels: C) -> Result<()> {
        self.control(Family::Shard, true, channels)
    }
    /// `UNSUBSCRIBE` from channels (all of them when `channels` writes no argument, e.g. `()`).
    pub fn unsubscribe<C: ToArgs>(&mut self, channels: C) -> Result<()> {
        self.control(Family::Channel, false, channels)
    }
    /// `PUNSUBSCRIBE` from patterns (all when none given).
    pub fn punsubscribe<C: ToArgs>(&mut self, patterns: C) -> Result<()> {
        self.control(Family::Pattern, false, patterns)
    }
    /// `SUNSUBSCRIBE` from shard channels (all when none given).
    pub fn sunsubscribe<C: ToArgs>(&mut self, channels: C) -> Result<()> {
        self.control(Family::Shard, false, channels)
    }

    /// Subscribes (`PSUBSCRIBE`) to the keyspace notifications of the keys
    /// matching the glob `key_pattern` in this subscriber's database (the
    /// `db` it was configured with): one message per event on such a key,
    /// the event as payload. Read them with [`Message::keyspace_event`]. The
    /// server must have them enabled (`notify-keyspace-events` with `K`).
    ///
    /// ```no_run
    /// use soquete_client::{cmd, Client, Subscriber};
    /// let mut admin = Client::connect("redis://127.0.0.1")?;
    /// cmd("CONFIG").arg(("SET", "notify-keyspace-events", "KEA")).exec(&mut admin)?;
    /// let mut sub = Subscriber::connect("redis://127.0.0.1")?;
    /// sub.subscribe_keyspace("session:*")?;
    /// for msg in sub.messages() {
    ///     if let Some(e) = msg?.keyspace_event() {
    ///         println!("{} on {}", e.event_str(), e.key_str()); // "expired on session:7"
    ///     }
    /// }
    /// # Ok::<(), soquete_client::Error>(())
    /// ```
    pub fn subscribe_keyspace(&mut self, key_pattern: impl AsRef<[u8]>) -> Result<()> {
        let p = KeyspaceEvent::keyspace_pattern(self.cfg.db, key_pattern);
        self.psubscribe(&p[..])
    }

    /// Subscribes (`PSUBSCRIBE`) to the keyevent notifications whose event
    /// name matches the glob `event_pattern` (`"del"`, `"expired"`, `"*"`) in
    /// this subscriber's database: the key as payload. Needs
    /// `notify-keyspace-events` with `E`.
    pub fn subscribe_keyevent(&mut self, event_pattern: impl AsRef<[u8]>) -> Result<()> {
        let p = KeyspaceEvent::keyevent_pattern(self.cfg.db, event_pattern);
        self.psubscribe(&p[..])
    }

    /// How many channels, patterns and shard channels are subscribed.
    pub fn subscription_count(&self) -> usize {
        let subs = self.state.subscriptions();
        subs.len(Family::Channel) + subs.len(Family::Pattern) + subs.len(Family::Shard)
    }

    fn control<C: ToArgs>(&mut self, f: Family, on: bool, names: C) -> Result<()> {
        self.ensure_connected()?;
        self.state.request(f, on, names, &mut self.out);
        let conn = self.conn.as_mut().expect("connected");
        if let Err(e) = conn.write_all(&self.out) {
            self.conn = None;
            return Err(e);
        }
        while self.state.awaiting() {
            let frame = self.read_frame()?;
            self.state.receive(frame)?;
        }
        Ok(())
    }

    fn read_frame(&mut self) -> Result<Frame> {
        let conn = self.conn.as_mut().ok_or(Error::ConnectionLost)?;
        conn.read_frame().inspect_err(|e| {
            // A read timeout consumed nothing (partial input stays buffered):
            // the connection is still good. Anything else breaks it.
            if !e.is_timeout() {
                self.conn = None;
            }
        })
    }

    fn ensure_connected(&mut self) -> Result<()> {
        if self.conn.is_none() {
            let (cfg, state, out) = (&self.cfg, &mut self.state, &mut self.out);
            self.conn = Some(reconnect(cfg, || restore(cfg, state, out))?);
        }
        Ok(())
    }

    /// Waits for the next message. After a lost connection it reconnects and
    /// resubscribes first (an error is returned only when that fails).
    pub fn next_message(&mut self) -> Result<Message> {
        loop {
            if let Some(m) = self.state.next_message() {
                return Ok(m);
            }
            self.ensure_connected()?;
            match self.read_frame() {
                Ok(frame) => self.state.receive(frame)?,
                Err(e) if e.is_connection_error() && !e.is_timeout() => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Like [`next_message`](Self::next_message), giving up after `timeout`
    /// with `Ok(None)`.
    pub fn next_message_timeout(&mut self, timeout: Duration) -> Result<Option<Message>> {
        if let Some(m) = self.state.next_message() {
            return Ok(Some(m));
        }
        self.ensure_connected()?;
        let conn = self.conn.as_mut().expect("connected");
        conn.stream.set_read_timeout(Some(timeout))?;
        let r = self.next_message();
        if let Some(c) = self.conn.as_mut() {
            c.stream.set_read_timeout(self.cfg.read_timeout)?;
        }
        match r {
            Ok(m) => Ok(Some(m)),
            Err(e) if e.is_timeout() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A blocking iterator over messages; it ends only after an error that
    /// reconnecting could not fix (which it yields last).
    pub fn messages(&mut self) -> Messages<'_> {
        Messages {
            sub: self,
            done: false,
        }
    }
}

/// Opens a new connection and subscribes it again to everything `state`
/// holds (messages that arrive meanwhile stay in `state`).
fn restore(cfg: &Config, state: &mut SubscriberState, out: &mut Vec<u8>) -> Result<Connection> {
    let mut conn = Connection::open(cfg)?;
    state.resubscribe(out);
    conn.write_all(out)?;
    while state.awaiting() {
        state.receive(conn.read_frame()?)?;
    }
    Ok(conn)
}

/// The iterator of [`Subscriber::messages`].
#[derive(Debug)]
pub struct Messages<'a> {
    sub: &'a mut Subscriber,
    done: bool,
}

impl Iterator for Messages<'_> {
    type Item = Result<Message>;
    fn next(&mut self) -> Option<Result<Message>> {
        if self.done {
            return None;
        }
        let r = self.sub.next_message();
        if r.is_err() {
            self.done = true;
        }
        Some(r)
    }
}
