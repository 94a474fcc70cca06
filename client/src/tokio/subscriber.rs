//! The async pub/sub [`AsyncSubscriber`].

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::connection::{reconnect, Connection};
use crate::args::ToArgs;
use crate::config::{Config, IntoConfig};
use crate::error::{Error, Result};
use crate::proto::subscription::{Family, SubscriberState, Subscriptions};
use crate::pubsub::{KeyspaceEvent, Message};

/// A connection being restored: connected again and resubscribed, with the
/// messages that arrived meanwhile.
type Restore = Pin<Box<dyn Future<Output = Result<(Connection, VecDeque<Message>)>> + Send>>;

/// An async pub/sub subscriber: [`next_message`](Self::next_message), or use
/// it as a [`Stream`](futures_core::Stream) of `Result<Message>`.
///
/// It owns its connection. After the connection drops it connects again with
/// backoff and restores its subscriptions (messages published meanwhile are
/// lost); the stream yields an error and ends only when that fails.
///
/// ```no_run
/// # async fn demo() -> soquete_client::Result<()> {
/// use soquete_client::AsyncSubscriber;
/// let mut sub = AsyncSubscriber::connect("redis://127.0.0.1").await?;
/// sub.subscribe(("news", "sport")).await?;
/// let msg = sub.next_message().await?;
/// println!("{}: {}", msg.channel_str(), msg.payload::<String>()?);
/// # Ok(())
/// # }
/// ```
pub struct AsyncSubscriber {
    cfg: Config,
    conn: Option<Connection>,
    state: SubscriberState,
    out: Vec<u8>,
    restoring: Option<Restore>,
    done: bool,
}

impl std::fmt::Debug for AsyncSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.state
            .fmt_subscriber(f, "AsyncSubscriber", &self.cfg.addr)
    }
}

/// Connects again (with backoff) and subscribes again to everything in
/// `subs`; returns the connection and the messages that arrived meanwhile.
async fn restore(cfg: Config, subs: Subscriptions) -> Result<(Connection, VecDeque<Message>)> {
    reconnect(&cfg, || resubscribe(&cfg, &subs)).await
}

/// One attempt of [`restore`].
async fn resubscribe(
    cfg: &Config,
    subs: &Subscriptions,
) -> Result<(Connection, VecDeque<Message>)> {
    let mut state = SubscriberState::with(subs.clone());
    let mut conn = Connection::open(cfg).await?;
    let mut out = Vec::new();
    state.resubscribe(&mut out);
    conn.write_all(&out).await?;
    while state.awaiting() {
        state.receive(conn.read_frame().await?)?;
    }
    Ok((conn, state.into_messages()))
}

impl AsyncSubscriber {
    /// Connects a new subscriber.
    pub async fn connect<C: IntoConfig>(target: C) -> Result<AsyncSubscriber> {
        let cfg = target.into_config()?;
        let conn = Connection::open(&cfg).await?;
        Ok(AsyncSubscriber {
            cfg,
            conn: Some(conn),
            state: SubscriberState::default(),
            out: Vec::new(),
            restoring: None,
            done: false,
        })
    }

    /// `SUBSCRIBE` to one or more channels; returns once confirmed.
    pub async fn subscribe<C: ToArgs>(&mut self, channels: C) -> Result<()> {
        self.control(Family::Channel, true, channels).await
    }
    /// `PSUBSCRIBE` to one or more patterns.
    pub async fn psubscribe<C: ToArgs>(&mut self, patterns: C) -> Result<()> {
        self.control(Family::Pattern, true, patterns).await
    }
    /// `SSUBSCRIBE` to one or more shard channels.
    pub async fn ssubscribe<C: ToArgs>(&mut self, channels: C) -> Result<()> {
        self.control(Family::Shard, true, channels).await
    }
    /// `UNSUBSCRIBE` (all channels when `channels` writes no argument, e.g. `()`).
    pub async fn unsubscribe<C: ToArgs>(&mut self, channels: C) -> Result<()> {
        self.control(Family::Channel, false, channels).await
    }
    /// `PUNSUBSCRIBE` (all patterns when none given).
    pub async fn punsubscribe<C: ToArgs>(&mut self, patterns: C) -> Result<()> {
        self.control(Family::Pattern, false, patterns).await
    }
    /// `SUNSUBSCRIBE` (all shard channels when none given).
    pub async fn sunsubscribe<C: ToArgs>(&mut self, channels: C) -> Result<()> {
        self.control(Family::Shard, false, channels).await
    }

    /// Subscribes to the keyspace notifications of keys matching
    /// `key_pattern` in this subscriber's database: the async form of
    /// [`Subscriber::subscribe_keyspace`](crate::Subscriber::subscribe_keyspace).
    ///
    /// ```no_run
    /// # async fn demo() -> soquete_client::Result<()> {
    /// let mut sub = soquete_client::AsyncSubscriber::connect("redis://127.0.0.1/2").await?;
    /// sub.subscribe_keyspace("cart:*").await?; // __keyspace@2__:cart:*
    /// let e = sub.next_message().await?.keyspace_event();
    /// # Ok(())
    /// # }
    /// ```
    pub async fn subscribe_keyspace(&mut self, key_pattern: impl AsRef<[u8]>) -> Result<()> {
        let p = KeyspaceEvent::keyspace_pattern(self.cfg.db, key_pattern);
        self.psubscribe(&p[..]).await
    }

    /// Subscribes to the keyevent notifications whose event name matches
    /// `event_pattern` in this subscriber's database: the async form of
    /// [`Subscriber::subscribe_keyevent`](crate::Subscriber::subscribe_keyevent).
    pub async fn subscribe_keyevent(&mut self, event_pattern: impl AsRef<[u8]>) -> Result<()> {
        let p = KeyspaceEvent::keyevent_pattern(self.cfg.db, event_pattern);
        self.psubscribe(&p[..]).await
    }

    /// A new restore of the connection and its subscriptions.
    fn restore(&self) -> Restore {
        Box::pin(restore(
            self.cfg.clone(),
            self.state.subscriptions().clone(),
        ))
    }

    async fn ensure_connected(&mut self) -> Result<()> {
        if self.conn.is_none() {
            let restore = match self.restoring.take() {
                Some(r) => r,
                None => self.restore(),
            };
            let (conn, msgs) = restore.await?;
            self.state.keep(msgs);
            self.conn = Some(conn);
        }
        Ok(())
    }

    async fn control<C: ToArgs>(&mut self, f: Family, on: bool, names: C) -> Result<()> {
        self.ensure_connected().await?;
        self.state.request(f, on, names, &mut self.out);
        let conn = self.conn.as_mut().expect("connected");
        if let Err(e) = conn.write_all(&self.out).await {
            self.conn = None;
            return Err(e);
        }
        while self.state.awaiting() {
            let conn = self.conn.as_mut().expect("connected");
            match conn.read_frame().await {
                Ok(frame) => self.state.receive(frame)?,
                Err(e) => {
                    self.conn = None;
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// The next message; reconnects and resubscribes after a lost connection.
    pub async fn next_message(&mut self) -> Result<Message> {
        match poll_fn(|cx| self.poll_message(cx)).await {
            Some(r) => r,
            None => Err(Error::Closed),
        }
    }

    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
        loop {
            if let Some(m) = self.state.next_message() {
                return Poll::Ready(Some(Ok(m)));
            }
            if self.done {
                return Poll::Ready(None);
            }
            if self.conn.is_none() {
                if self.restoring.is_none() {
                    self.restoring = Some(self.restore());
                }
                let restore = self.restoring.as_mut().expect("set above");
                let r = ready!(restore.as_mut().poll(cx));
                self.restoring = None;
                match r {
                    Ok((conn, msgs)) => {
                        self.conn = Some(conn);
                        self.state.keep(msgs);
                        continue;
                    }
                    Err(e) => {
                        self.done = true;
                        return Poll::Ready(Some(Err(e)));
                    }
                }
            }
            let conn = self.conn.as_mut().expect("connected");
            match ready!(conn.poll_frame(cx)) {
                Ok(frame) => {
                    if let Err(e) = self.state.receive(frame) {
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                Err(_) => self.conn = None,
            }
        }
    }
}

impl futures_core::Stream for AsyncSubscriber {
    type Item = Result<Message>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
        self.get_mut().poll_message(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::fake::{expect, req, send, trickle, FakePeer, Step};
    use crate::ClientBuilder;

    #[tokio::test]
    async fn subscriber_reads_split_messages_and_resubscribes_after_a_cut() {
        let peer = FakePeer::start(vec![
            vec![
                expect(req(&["SUBSCRIBE", "ch"])),
                trickle("*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"),
                Step::Close,
            ],
            vec![
                expect(req(&["SUBSCRIBE", "ch"])),
                send(">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nagain\r\n"),
            ],
        ]);
        let mut sub = ClientBuilder::new(peer.url())
            .backoff(Duration::from_millis(1), Duration::from_millis(5))
            .async_subscriber()
            .await
            .unwrap();
        sub.subscribe("ch").await.unwrap();
        let m = sub.next_message().await.unwrap();
        assert_eq!(
            (&m.channel[..], m.payload::<String>().unwrap().as_str()),
            (&b"ch"[..], "hi")
        );
        let m = sub.next_message().await.unwrap();
        assert_eq!(m.payload::<String>().unwrap(), "again");
        drop(sub);
        peer.finish_async().await;
    }
}
