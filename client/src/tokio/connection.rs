//! A set-up async connection, and connecting with backoff.

use std::future::poll_fn;
use std::io;
use std::task::{ready, Context, Poll};

use bytes::BytesMut;
use soquete_resp::{Decoder, Frame};

use super::stream::Stream;
use crate::config::{Config, Protocol};
use crate::error::{Error, Result};
use crate::proto::handshake;

/// A connected, set-up async connection.
pub(crate) struct Connection {
    pub(crate) stream: Stream,
    pub(crate) rbuf: BytesMut,
    pub(crate) decoder: Decoder,
    pub(crate) protocol: Protocol,
}

impl Connection {
    pub(crate) async fn open(cfg: &Config) -> Result<Connection> {
        let stream = Stream::connect(cfg).await?;
        let mut c = Connection {
            stream,
            rbuf: BytesMut::with_capacity(64 * 1024),
            decoder: Decoder::new(),
            protocol: Protocol::Resp2,
        };
        let hs = async {
            let mut hello_done = false;
            if let Some(h) = handshake::hello(cfg) {
                c.write_all(&h.to_packed()).await?;
                hello_done = handshake::hello_outcome(c.read_frame().await?)?;
                if hello_done {
                    c.protocol = Protocol::Resp3;
                }
            }
            let setup = handshake::setup(cfg, hello_done);
            if !setup.is_empty() {
                let mut out = Vec::new();
                for s in &setup {
                    s.write_packed(&mut out);
                }
                c.write_all(&out).await?;
                let mut first = None;
                for _ in 0..setup.len() {
                    let f = c.read_reply().await?;
                    if let Err(e) = handshake::check(f) {
                        first.get_or_insert(e);
                    }
                }
                if let Some(e) = first {
                    return Err(e);
                }
            }
            Ok(())
        };
        match cfg.read_timeout {
            Some(t) => tokio::time::timeout(t, hs).await.map_err(|_| {
                Error::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "handshake timed out",
                ))
            })??,
            None => hs.await?,
        }
        Ok(c)
    }

    pub(crate) async fn write_all(&mut self, mut b: &[u8]) -> Result<()> {
        while !b.is_empty() {
            let n = poll_fn(|cx| self.stream.poll_write(cx, b)).await?;
            if n == 0 {
                return Err(Error::ConnectionLost);
            }
            b = &b[n..];
        }
        Ok(())
    }

    pub(crate) fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Result<Frame>> {
        loop {
            if let Some(f) = self.decoder.decode(&mut self.rbuf)? {
                return Poll::Ready(Ok(f));
            }
            match ready!(self.stream.poll_read_buf(cx, &mut self.rbuf)) {
                Ok(0) => return Poll::Ready(Err(Error::ConnectionLost)),
                Ok(_) => {}
                Err(e) => return Poll::Ready(Err(Error::Io(e))),
            }
        }
    }

    pub(crate) async fn read_frame(&mut self) -> Result<Frame> {
        poll_fn(|cx| self.poll_frame(cx)).await
    }

    pub(crate) async fn read_reply(&mut self) -> Result<Frame> {
        loop {
            match self.read_frame().await? {
                Frame::Push(_) => continue,
                f => return Ok(f),
            }
        }
    }
}

/// Connects with backoff: up to `reconnect_attempts` attempts (at least one).
pub(crate) async fn connect_with_backoff(cfg: &Config) -> Result<Connection> {
    let mut last = Error::Closed;
    for attempt in 0..cfg.reconnect_attempts.max(1) {
        let wait = crate::retry::backoff(attempt, cfg.backoff_min, cfg.backoff_max);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        match Connection::open(cfg).await {
            Ok(c) => return Ok(c),
            Err(e @ Error::Server(_)) => return Err(e),
            Err(e) => last = e,
        }
    }
    Err(last)
}
