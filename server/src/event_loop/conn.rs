//! A connection as its event loop holds it: the socket around a
//! [`Connection`], and whether the peer has finished sending.

use std::io::{self, Read, Write};

use mio::net::{TcpStream, UnixStream};
use mio::{Interest, Registry, Token};

use crate::client::{Client, Close};
use crate::connection::Connection;
use crate::shared::LoopStats;
use crate::tls::TlsStream;

/// A client socket. Plain TCP is the first variant: the match that every
/// read and write makes costs it one predictable branch, and the TLS
/// state, boxed, makes the enum no larger.
pub enum Sock {
    /// TCP.
    Tcp(TcpStream),
    /// Unix domain socket.
    Unix(UnixStream),
    /// TLS over TCP (the `tls-port` listener).
    Tls(Box<TlsStream>),
}

impl Sock {
    /// Registers for both readiness kinds, once (edge-triggered).
    pub(super) fn register(&mut self, r: &Registry, t: Token) -> io::Result<()> {
        let i = Interest::READABLE | Interest::WRITABLE;
        match self {
            Sock::Tcp(s) => r.register(s, t, i),
            Sock::Unix(s) => r.register(s, t, i),
            Sock::Tls(s) => r.register(&mut s.tcp, t, i),
        }
    }

    pub(super) fn deregister(&mut self, r: &Registry) {
        let _ = match self {
            Sock::Tcp(s) => r.deregister(s),
            Sock::Unix(s) => r.deregister(s),
            Sock::Tls(s) => r.deregister(&mut s.tcp),
        };
    }

    /// True for a TLS client.
    pub(super) fn is_tls(&self) -> bool {
        matches!(self, Sock::Tls(_))
    }

    /// Reads once: (bytes read, whether the socket is now known to be
    /// drained). A plain socket is drained by a short read; a TLS one when
    /// its own last socket read was short and it gave all the plaintext it
    /// had ([`crate::tls::TlsStream::drained`]): a short read of plaintext
    /// alone may leave records in the socket (and its next edge would
    /// never come).
    #[inline]
    fn read_some(&mut self, b: &mut [u8]) -> io::Result<(usize, bool)> {
        match self {
            Sock::Tcp(s) => s.read(b).map(|n| (n, n < b.len())),
            Sock::Unix(s) => s.read(b).map(|n| (n, n < b.len())),
            Sock::Tls(s) => {
                let n = s.read(b)?;
                Ok((n, s.drained(n, b.len())))
            }
        }
    }

    /// Sends what the TLS layer holds already encrypted (a plain socket
    /// holds nothing): Ok(true) when nothing is left.
    #[inline]
    fn flush_pending(&mut self) -> io::Result<bool> {
        match self {
            Sock::Tls(s) => s.write_out(),
            _ => Ok(true),
        }
    }

    /// Says goodbye before the socket is dropped: TLS's close_notify,
    /// written if the socket takes it at once.
    pub(super) fn close(&mut self) {
        if let Sock::Tls(s) = self {
            s.close();
        }
    }
}

impl Read for Sock {
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.read(b),
            Sock::Unix(s) => s.read(b),
            Sock::Tls(s) => s.read(b),
        }
    }
}

impl Write for Sock {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.write(b),
            Sock::Unix(s) => s.write(b),
            Sock::Tls(s) => s.write(b),
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

    /// Reads once into the input: Ok((bytes read, whether the socket is
    /// drained)), with no bytes at end-of-file.
    pub(super) fn read(&mut self) -> io::Result<(usize, bool)> {
        let want = self.conn.request_len();
        let room = self.conn.input.room(want);
        let (n, drained) = self.sock.read_some(room)?;
        self.conn.input.filled(n);
        Ok((n, drained))
    }

    /// Writes what is pending; Ok(true) when all of it went out. Mirrors
    /// the output's shape for CLIENT LIST either way.
    pub(super) fn flush(&mut self, stats: &LoopStats) -> io::Result<bool> {
        if self.conn.output.is_empty() {
            // Nothing to write, and CLIENT LIST already shows it so (the
            // write that emptied the output said so); a TLS socket may
            // still hold records encrypted before its socket filled up.
            return self.sock.flush_pending();
        }
        crate::stats::bump(&stats.writes, 1);
        // One match per flush, not one per write: each kind gets its own
        // copy of the write loop.
        let out = &mut self.conn.output;
        let done = match &mut self.sock {
            Sock::Tcp(s) => out.write_to(s, stats),
            Sock::Unix(s) => out.write_to(s, stats),
            // What the last write encrypted may still wait for room.
            Sock::Tls(s) => match out.write_to(&mut **s, stats) {
                Ok(true) => s.write_out(),
                other => other,
            },
        };
        let pending = !self.conn.output.is_empty();
        if pending || self.shows_output {
            self.conn.client.meta.set_output(self.conn.output.shape());
            self.shows_output = pending;
        }
        done
    }
}
