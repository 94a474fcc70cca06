//! A set-up blocking connection: the socket, the read buffer, the decoder.

use std::io::{self, Read, Write};

use bytes::BytesMut;
use soquete_resp::{Decoder, Frame};

use super::stream::Stream;
use crate::config::{Config, Protocol};
use crate::error::{Error, Result};
use crate::proto::handshake;

/// Bytes read per `read` call at most.
const READ_CHUNK: usize = 32 * 1024;

/// An open, set-up connection: the socket, the read buffer and the decoder.
pub(crate) struct Connection {
    pub(crate) stream: Stream,
    rbuf: BytesMut,
    scratch: Box<[u8]>,
    decoder: Decoder,
    pub(crate) protocol: Protocol,
}

impl Connection {
    /// Connects and runs the handshake (HELLO / AUTH / CLIENT SETNAME / SELECT).
    pub(crate) fn open(cfg: &Config) -> Result<Connection> {
        let stream = Stream::connect(cfg)?;
        let mut c = Connection {
            stream,
            rbuf: BytesMut::with_capacity(READ_CHUNK),
            scratch: vec![0u8; READ_CHUNK].into_boxed_slice(),
            decoder: Decoder::new(),
            protocol: Protocol::Resp2,
        };
        c.handshake(cfg)?;
        Ok(c)
    }

    fn handshake(&mut self, cfg: &Config) -> Result<()> {
        let mut out = Vec::new();
        let mut hello_done = false;
        if let Some(hello) = handshake::hello(cfg) {
            hello.write_packed(&mut out);
            self.write_all(&out)?;
            out.clear();
            hello_done = handshake::hello_outcome(self.read_frame()?)?;
            if hello_done {
                self.protocol = Protocol::Resp3;
            }
        }
        let setup = handshake::setup(cfg, hello_done);
        for c in &setup {
            c.write_packed(&mut out);
        }
        if !setup.is_empty() {
            self.write_all(&out)?;
            let mut first_err = None;
            for _ in 0..setup.len() {
                let r = handshake::check(self.read_reply()?);
                if first_err.is_none() {
                    first_err = r.err();
                }
            }
            if let Some(e) = first_err {
                return Err(e);
            }
        }
        Ok(())
    }

    #[inline]
    pub(crate) fn write_all(&mut self, buf: &[u8]) -> Result<()> {
        self.stream.write_all(buf).map_err(Error::Io)
    }

    /// Reads more bytes into the read buffer. End of stream is an error.
    fn fill(&mut self) -> Result<()> {
        let n = loop {
            match self.stream.read(&mut self.scratch) {
                Ok(0) => return Err(Error::ConnectionLost),
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::Io(e)),
            }
        };
        self.rbuf.extend_from_slice(&self.scratch[..n]);
        Ok(())
    }

    /// The next frame, push frames included.
    #[inline]
    pub(crate) fn read_frame(&mut self) -> Result<Frame> {
        loop {
            if let Some(f) = self.decoder.decode(&mut self.rbuf)? {
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
            match self.read_frame()? {
                Frame::Push(_) => continue,
                f => return Ok(f),
            }
        }
    }
}
