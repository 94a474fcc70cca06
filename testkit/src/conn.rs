//! A raw, blocking test connection that keeps the exact bytes of every reply.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use soquete_resp::{encode, BytesMut, Decoder, Frame};

/// How long a read may wait before the test fails instead of hanging.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// One reply: its exact bytes and the decoded frame.
#[derive(Clone, PartialEq)]
pub struct Reply {
    /// The bytes of the reply exactly as they came off the wire.
    pub raw: Vec<u8>,
    /// The decoded value.
    pub frame: Frame,
}

impl Reply {
    /// Whether the reply is an error (`-ERR ...` or a RESP3 blob error).
    pub fn is_error(&self) -> bool {
        matches!(self.frame, Frame::Error(_) | Frame::BlobError(_))
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reply({})", crate::render::escape(&self.raw, 200))
    }
}

/// A blocking connection for tests: write any bytes, read replies as
/// [`Frame`]s or as their exact bytes. Reads time out after
/// [`DEFAULT_TIMEOUT`], so a hung server fails the test instead of hanging it.
///
/// The panicking methods (`send`, `cmd`, `read_frame`, ...) suit tests; the
/// `try_` ones return the I/O error instead.
///
/// ```no_run
/// use soquete_testkit::{Conn, ServerProcess};
/// use soquete_resp::Frame;
///
/// let redis = ServerProcess::redis();
/// let mut c = redis.connect();
/// assert_eq!(c.cmd(&["SET", "k", "v"]), Frame::Simple("OK".into()));
/// c.send(b"GET k\r\n");
/// assert_eq!(c.read_raw_reply(), b"$1\r\nv\r\n");
/// ```
pub struct Conn {
    stream: TcpStream,
    addr: SocketAddr,
    /// Bytes read but not yet decoded (the decoder consumes from the front).
    buf: BytesMut,
    /// The same bytes, kept to hand out each reply's exact bytes.
    raw: Vec<u8>,
    decoder: Decoder,
    timeout: Duration,
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("addr", &self.addr)
            .field("buffered", &self.raw.len())
            .finish()
    }
}

impl Conn {
    /// Connects to `addr` with the default read timeout.
    pub fn connect(addr: SocketAddr) -> io::Result<Conn> {
        Conn::from_stream(TcpStream::connect_timeout(&addr, DEFAULT_TIMEOUT)?)
    }

    /// Wraps a socket connected by other means (from a chosen local
    /// address, say), with the default read timeout.
    pub fn from_stream(stream: TcpStream) -> io::Result<Conn> {
        let addr = stream.peer_addr()?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(DEFAULT_TIMEOUT))?;
        Ok(Conn {
            stream,
            addr,
            buf: BytesMut::with_capacity(16 * 1024),
            raw: Vec::with_capacity(16 * 1024),
            decoder: Decoder::new(),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// The server address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The underlying socket (to shut it down half-way, read its local address...).
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Changes how long a read may wait.
    pub fn set_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        self.stream.set_read_timeout(Some(timeout))?;
        self.timeout = timeout;
        Ok(())
    }

    /// Writes raw bytes.
    ///
    /// # Panics
    ///
    /// When the write fails.
    pub fn send(&mut self, bytes: &[u8]) {
        self.try_send(bytes)
            .unwrap_or_else(|e| panic!("write to {} failed: {e}", self.addr));
    }

    /// Writes raw bytes, returning the error.
    pub fn try_send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Writes a command as a RESP array of bulk strings, without reading the reply.
    pub fn send_cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        self.send(&command_bytes(args));
    }

    /// Sends a command and reads its reply.
    ///
    /// # Panics
    ///
    /// On I/O errors, timeouts, or when the server closes the connection.
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Frame {
        self.send_cmd(args);
        self.read_frame()
    }

    /// Sends a command and returns its reply, or the I/O error.
    pub fn try_cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Reply> {
        self.try_send(&command_bytes(args))?;
        self.try_read_reply()?
            .ok_or_else(|| closed_error(self.addr))
    }

    /// Sends `line` as an inline command (`line` + CRLF, as typed into `nc`) and
    /// reads the reply.
    pub fn inline(&mut self, line: &str) -> Frame {
        let mut bytes = line.as_bytes().to_vec();
        bytes.extend_from_slice(b"\r\n");
        self.send(&bytes);
        self.read_frame()
    }

    /// Switches the connection to RESP3 with `HELLO 3` and returns the reply.
    ///
    /// # Panics
    ///
    /// When the server answers with an error.
    pub fn hello3(&mut self) -> Frame {
        let reply = self.cmd(&["HELLO", "3"]);
        if let Frame::Error(e) = &reply {
            panic!("HELLO 3 failed: {}", String::from_utf8_lossy(e));
        }
        reply
    }

    /// Reads the next reply as a frame.
    ///
    /// # Panics
    ///
    /// On I/O errors, timeouts, malformed replies, or when the server closes
    /// the connection.
    pub fn read_frame(&mut self) -> Frame {
        self.read_reply().frame
    }

    /// Reads the next reply and returns its exact bytes.
    ///
    /// # Panics
    ///
    /// As [`read_frame`](Self::read_frame).
    pub fn read_raw_reply(&mut self) -> Vec<u8> {
        self.read_reply().raw
    }

    /// Reads the next reply, bytes and frame.
    ///
    /// # Panics
    ///
    /// As [`read_frame`](Self::read_frame).
    pub fn read_reply(&mut self) -> Reply {
        match self.try_read_reply() {
            Ok(Some(reply)) => reply,
            Ok(None) => panic!("{}", closed_error(self.addr)),
            Err(e) => panic!("{e}"),
        }
    }

    /// Reads the next reply. `Ok(None)` when the server closed the connection
    /// cleanly before a reply began; an error on timeouts, malformed replies,
    /// or a close in the middle of a reply.
    pub fn try_read_reply(&mut self) -> io::Result<Option<Reply>> {
        loop {
            let before = self.buf.len();
            match self.decoder.decode(&mut self.buf) {
                Ok(Some(frame)) => {
                    let used = before - self.buf.len();
                    let raw: Vec<u8> = self.raw.drain(..used).collect();
                    return Ok(Some(Reply { raw, frame }));
                }
                Ok(None) => {}
                Err(e) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "malformed reply from {}: {e}; bytes: {}",
                            self.addr,
                            crate::render::escape(&self.raw, 300)
                        ),
                    ))
                }
            }
            if self.fill()? == 0 {
                return if self.raw.is_empty() {
                    Ok(None)
                } else {
                    Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "{} closed the connection in the middle of a reply: {}",
                            self.addr,
                            crate::render::escape(&self.raw, 300)
                        ),
                    ))
                };
            }
        }
    }

    /// Waits until the server closes the connection. Fails if a reply (or any
    /// byte) arrives instead, or on timeout. A reset counts as closed.
    pub fn expect_closed(&mut self) -> io::Result<()> {
        if !self.raw.is_empty() {
            return Err(unexpected_data(self.addr, &self.raw));
        }
        match self.fill() {
            Ok(0) => Ok(()),
            Ok(_) => Err(unexpected_data(self.addr, &self.raw)),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Closes the writing half, as a client that is done sending.
    pub fn shutdown_write(&mut self) -> io::Result<()> {
        self.stream.shutdown(Shutdown::Write)
    }

    /// Reads once from the socket into both buffers; returns the byte count.
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    self.raw.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "no reply from {} within {:?} (have {})",
                            self.addr,
                            self.timeout,
                            crate::render::escape(&self.raw, 300)
                        ),
                    ))
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Connects to `addr` with [`Conn::connect`].
///
/// # Panics
///
/// When the connection fails, naming `addr`: in a test, a server that does
/// not accept is a failure.
pub fn connect(addr: SocketAddr) -> Conn {
    Conn::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"))
}

/// A command as RESP: an array of bulk strings.
pub fn command_bytes<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = Vec::new();
    encode::command(&mut out, args.iter().map(AsRef::as_ref));
    out
}

/// A bulk string as RESP (`$<len>\r\n<bytes>\r\n`): the bytes of a reply
/// to compare with [`Conn::read_raw_reply`].
///
/// ```
/// assert_eq!(soquete_testkit::conn::bulk_bytes(b"v"), b"$1\r\nv\r\n");
/// ```
pub fn bulk_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 16);
    encode::bulk(&mut out, bytes);
    out
}

fn closed_error(addr: SocketAddr) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("{addr} closed the connection instead of replying"),
    )
}

fn unexpected_data(addr: SocketAddr, raw: &[u8]) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "expected {addr} to close the connection, got {}",
            crate::render::escape(raw, 300)
        ),
    )
}
