//! A set-up async connection, and connecting with backoff.

use std::future::{poll_fn, Future};
use std::io;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use soquete_resp::Frame;

use super::stream::{io_error, Stream};
use crate::config::{Config, Protocol};
use crate::error::{Error, Result};
use crate::proto::handshake::Handshake;
use crate::proto::inbox::Inbox;
use crate::proto::reconnect::Reconnect;

/// A connected, set-up async connection: the socket and what it received.
pub(crate) struct Connection {
    pub(crate) stream: Stream,
    pub(crate) inbox: Inbox,
    pub(crate) protocol: Protocol,
}

impl Connection {
    /// Connects and runs the handshake (HELLO / AUTH / CLIENT SETNAME /
    /// SELECT), within the read timeout.
    pub(crate) async fn open(cfg: &Config) -> Result<Connection> {
        let mut c = Connection {
            stream: Stream::connect(cfg).await?,
            inbox: Inbox::with_capacity(64 * 1024),
            protocol: Protocol::Resp2,
        };
        let mut hs = Handshake::new(cfg);
        let run = async {
            while let Some(request) = hs.next_request() {
                c.write_all(&request).await?;
                while !hs.receive(c.read_frame().await?)? {}
            }
            Ok::<(), Error>(())
        };
        match cfg.read_timeout {
            Some(t) => tokio::time::timeout(t, run).await.map_err(|_| {
                Error::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "handshake timed out",
                ))
            })??,
            None => run.await?,
        }
        c.protocol = hs.protocol();
        Ok(c)
    }

    pub(crate) async fn write_all(&mut self, mut b: &[u8]) -> Result<()> {
        while !b.is_empty() {
            let n = poll_fn(|cx| self.stream.poll_write(cx, b))
                .await
                .map_err(io_error)?;
            if n == 0 {
                return Err(Error::ConnectionLost);
            }
            b = &b[n..];
        }
        poll_fn(|cx| self.stream.poll_flush(cx))
            .await
            .map_err(io_error)
    }

    /// Reads more bytes into the inbox. End of stream is an error.
    pub(crate) fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        match ready!(self.stream.poll_read_buf(cx, self.inbox.buf())) {
            Ok(0) => Poll::Ready(Err(Error::ConnectionLost)),
            Ok(_) => Poll::Ready(Ok(())),
            Err(e) => Poll::Ready(Err(io_error(e))),
        }
    }

    /// The next frame, push frames included.
    pub(crate) fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Result<Frame>> {
        loop {
            if let Some(f) = self.inbox.frame()? {
                return Poll::Ready(Ok(f));
            }
            ready!(self.poll_fill(cx))?;
        }
    }

    /// [`poll_frame`](Self::poll_frame) as a future.
    pub(crate) async fn read_frame(&mut self) -> Result<Frame> {
        poll_fn(|cx| self.poll_frame(cx)).await
    }

    /// The next reply to a request: push frames are skipped.
    pub(crate) async fn read_reply(&mut self) -> Result<Frame> {
        poll_fn(|cx| loop {
            if let Some(f) = self.inbox.reply()? {
                return Poll::Ready(Ok(f));
            }
            ready!(self.poll_fill(cx))?;
        })
        .await
    }
}

/// Connects again after a lost connection: `open` makes each attempt, with
/// the backoff and the number of attempts `cfg` sets (see [`Reconnect`]).
pub(crate) async fn reconnect<C, F>(cfg: &Config, open: impl Fn() -> F) -> Result<C>
where
    F: Future<Output = Result<C>>,
{
    let mut round = Reconnect::new(cfg);
    loop {
        if let Some(wait) = round.next_wait()? {
            tokio::time::sleep(wait).await;
        }
        if let Some(c) = round.outcome(open().await)? {
            return Ok(c);
        }
    }
}

/// Runs `io`, bounded by `wait` when there is one: past it, the request
/// fails with [`reply_timed_out`].
pub(crate) async fn within<T>(
    wait: Option<Duration>,
    io: impl Future<Output = Result<T>>,
) -> Result<T> {
    match wait {
        Some(t) => tokio::time::timeout(t, io)
            .await
            .map_err(|_| reply_timed_out())?,
        None => io.await,
    }
}

/// The error of a request whose reply did not come within the read timeout.
pub(crate) fn reply_timed_out() -> Error {
    Error::Io(io::Error::new(
        io::ErrorKind::TimedOut,
        "no reply within the read timeout",
    ))
}
