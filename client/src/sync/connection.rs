//! A set-up blocking connection: the socket, the read buffer, the decoder.

use std::io::{self, Read, Write};

use soquete_resp::Frame;

use super::stream::Stream;
use crate::config::{Config, Protocol};
use crate::error::{Error, Result};
use crate::proto::handshake::Handshake;
use crate::proto::inbox::Inbox;
use crate::proto::reconnect::Reconnect;

/// Bytes read per `read` call at most.
const READ_CHUNK: usize = 32 * 1024;

/// An open, set-up connection: the socket and what it received.
pub(crate) struct Connection {
    pub(crate) stream: Stream,
    inbox: Inbox,
    scratch: Box<[u8]>,
    pub(crate) protocol: Protocol,
}

impl Connection {
    /// Connects and runs the handshake (HELLO / AUTH / CLIENT SETNAME / SELECT).
    pub(crate) fn open(cfg: &Config) -> Result<Connection> {
        let mut c = Connection {
            stream: Stream::connect(cfg)?,
            inbox: Inbox::with_capacity(READ_CHUNK),
            scratch: vec![0u8; READ_CHUNK].into_boxed_slice(),
            protocol: Protocol::Resp2,
        };
        let mut hs = Handshake::new(cfg);
        while let Some(request) = hs.next_request() {
            c.write_all(&request)?;
            while !hs.receive(c.read_frame()?)? {}
        }
        c.protocol = hs.protocol();
        Ok(c)
    }

    #[inline]
    pub(crate) fn write_all(&mut self, buf: &[u8]) -> Result<()> {
        self.stream.write_all(buf).map_err(io_error)?;
        self.stream.flush().map_err(io_error)
    }

    /// Reads more bytes into the inbox. End of stream is an error.
    fn fill(&mut self) -> Result<()> {
        let n = loop {
            match self.stream.read(&mut self.scratch) {
                Ok(0) => return Err(Error::ConnectionLost),
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(e)),
            }
        };
        self.inbox.buf().extend_from_slice(&self.scratch[..n]);
        Ok(())
    }

    /// The next frame, push frames included.
    #[inline]
    pub(crate) fn read_frame(&mut self) -> Result<Frame> {
        loop {
            if let Some(f) = self.inbox.frame()? {
                return Ok(f);
            }
            self.fill()?;
        }
    }

    /// The next reply to a request: RESP3 push frames (out-of-band messages)
    /// are skipped.
    #[inline]
    pub(crate) fn read_reply(&mut self) -> Result<Frame> {
        loop {
            if let Some(f) = self.inbox.reply()? {
                return Ok(f);
            }
            self.fill()?;
        }
    }
}

/// A socket error as the client reports it: TLS failures (an alert from
/// the server) as [`Error::Tls`].
#[cold]
fn io_error(e: io::Error) -> Error {
    #[cfg(feature = "tls")]
    return crate::tls::io_error(e);
    #[cfg(not(feature = "tls"))]
    Error::Io(e)
}

/// Connects again after a lost connection: `open` makes each attempt, with
/// the backoff and the number of attempts `cfg` sets (see [`Reconnect`]).
pub(crate) fn reconnect<C>(cfg: &Config, mut open: impl FnMut() -> Result<C>) -> Result<C> {
    let mut round = Reconnect::new(cfg);
    loop {
        if let Some(wait) = round.next_wait()? {
            std::thread::sleep(wait);
        }
        if let Some(c) = round.outcome(open())? {
            return Ok(c);
        }
    }
}
