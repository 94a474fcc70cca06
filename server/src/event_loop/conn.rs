//! A connection as its event loop holds it: the socket around a
//! [`Connection`], and whether the peer has finished sending.

use std::io::{self, Read, Write};

use mio::net::{TcpStream, UnixStream};
use mio::{Interest, Registry, Token};

use crate::client::{Client, Close};
use crate::connection::Connection;
use crate::shared::LoopStats;

/// A client socket.
pub enum Sock {
    /// TCP.
    Tcp(TcpStream),
    /// Unix domain socket.
    Unix(UnixStream),
}

impl Sock {
    /// Registers for both readiness kinds, once (edge-triggered).
    pub(super) fn register(&mut self, r: &Registry, t: Token) -> io::Result<()> {
        let i = Interest::READABLE | Interest::WRITABLE;
        match self {
            Sock::Tcp(s) => r.register(s, t, i),
            Sock::Unix(s) => r.register(s, t, i),
        }
    }

    pub(super) fn deregister(&mut self, r: &Registry) {
        let _ = match self {
            Sock::Tcp(s) => r.deregister(s),
            Sock::Unix(s) => r.deregister(s),
        };
    }
}

impl Read for Sock {
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.read(b),
            Sock::Unix(s) => s.read(b),
        }
    }
}

impl Write for Sock {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.write(b),
            Sock::Unix(s) => s.write(b),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A connected client: its socket and its [`Connection`].
pub(super) struct Conn {
    pub(super) sock: Sock,
    pub(super) conn: Connection,
    /// CLIENT LIST shows output pending for this client (so a write that
    /// empties it must say so; while it shows none and none is left, the
    /// record needs no update).
    shows_output: bool,
    /// The peer shut down its sending side (read returned end-of-file):
    /// nothing more will arrive, so the connection ends once what it sent
    /// has run and the replies are written.
    pub(super) eof: bool,
}

impl Conn {
    pub(super) fn new(sock: Sock, client: Client) -> Conn {
        Conn {
            sock,
            conn: Connection::new(client),
            shows_output: false,
            eof: false,
        }
    }

    /// The client's state.
    pub(super) fn client(&self) -> &Client {
        &self.conn.client
    }

    /// True when the connection ends as soon as its pending replies are
    /// written: QUIT or a protocol error asked for it, or the peer has sent
    /// all it ever will.
    pub(super) fn ends_after_reply(&self) -> bool {
        self.conn.client.close != Close::No || self.eof
    }

    /// Reads once into the input: Ok((bytes read, room there was)), with
    /// no bytes at end-of-file.
    pub(super) fn read(&mut self) -> io::Result<(usize, usize)> {
        let want = self.conn.request_len();
        let room = self.conn.input.room(want);
        let len = room.len();
        let n = self.sock.read(room)?;
        self.conn.input.filled(n);
        Ok((n, len))
    }

    /// Writes what is pending; Ok(true) when all of it went out. Mirrors
    /// the output's shape for CLIENT LIST either way.
    pub(super) fn flush(&mut self, stats: &LoopStats) -> io::Result<bool> {
        if self.conn.output.is_empty() {
            // Nothing to write, and CLIENT LIST already shows it so (the
            // write that emptied the output said so).
            return Ok(true);
        }
        crate::stats::bump(&stats.writes, 1);
        let done = self.conn.output.write_to(&mut self.sock, stats);
        let pending = !self.conn.output.is_empty();
        if pending || self.shows_output {
            self.conn.client.meta.set_output(self.conn.output.shape());
            self.shows_output = pending;
        }
        done
    }
}
