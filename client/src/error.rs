//! Errors: what went wrong, kept apart by where it went wrong.
//!
//! * [`Error::Server`]: the server answered with an error line. Its code word
//!   (`WRONGTYPE`, `MOVED`, `NOAUTH`...) is data: [`ServerError::code`],
//!   [`ServerError::kind`].
//! * [`Error::Io`]: the socket failed (connect, read, write, timeout).
//! * [`Error::Protocol`]: the peer sent bytes that are not RESP.
//! * [`Error::Conversion`]: a reply arrived but is not the Rust type asked
//!   for; the message says what was expected and what came.
//! * [`Error::ConnectionLost`], [`Error::Closed`], [`Error::Url`],
//!   [`Error::Client`]: the client's own conditions.
//! * [`Error::Tls`]: certificates, keys and TLS handshakes.
//! * [`Error::WatchConflict`]: a transaction helper ran out of attempts.

use std::fmt;
use std::io;

use bytes::Bytes;
use soquete_resp::Frame;

/// The result type of every fallible call in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to a server.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The server replied with an error (`-WRONGTYPE ...`, `!...` blob error).
    Server(ServerError),
    /// A socket error: connecting, reading, writing, or a timeout
    /// (`io::ErrorKind::TimedOut` / `WouldBlock` for read and write timeouts).
    Io(io::Error),
    /// The server sent bytes that are not valid RESP. The connection is closed.
    Protocol(soquete_resp::Error),
    /// A reply could not be converted into the requested Rust type.
    Conversion(Box<ConversionError>),
    /// The connection closed after the request was written and before its
    /// reply arrived: the server may or may not have executed it. Requests
    /// that are safe to resend are retried before this error is returned
    /// (see the crate docs, "Reconnection policy").
    ConnectionLost,
    /// The client was shut down or the connection was closed on purpose.
    Closed,
    /// A connection URL could not be parsed; the text says why.
    Url(String),
    /// TLS failed: a certificate or key file could not be read, the server's
    /// certificate was not trusted, the server refused the client's
    /// certificate (or its absence), or the `tls` feature is off. The text
    /// says which. Not retried by reconnection: trying again will not help.
    Tls(String),
    /// A misuse of the client or an unexpected reply to a handshake or control
    /// command; the text says what.
    Client(String),
    /// A transaction helper ([`Client::transaction`](crate::Client::transaction))
    /// gave up: `EXEC` was refused `attempts` times because a watched key
    /// changed, and the retry policy allowed no more attempts. Nothing of
    /// the transaction was applied.
    WatchConflict {
        /// How many attempts ran, every one ending in a refused `EXEC`.
        attempts: u32,
    },
}

impl Error {
    /// The server error, if this is one.
    pub fn as_server_error(&self) -> Option<&ServerError> {
        match self {
            Error::Server(e) => Some(e),
            _ => None,
        }
    }

    /// The server error's code word (`"WRONGTYPE"`, `"ERR"`...), if this is a
    /// server error.
    pub fn code(&self) -> Option<&str> {
        self.as_server_error().map(ServerError::code)
    }

    /// True when the error means the connection is unusable (I/O, protocol,
    /// TLS, lost or closed connection) rather than a problem with one request.
    pub fn is_connection_error(&self) -> bool {
        matches!(
            self,
            Error::Io(_)
                | Error::Protocol(_)
                | Error::Tls(_)
                | Error::ConnectionLost
                | Error::Closed
        )
    }

    /// True for a read or write timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Io(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock))
    }

    /// A copy of this error for another waiter (`io::Error` is not `Clone`:
    /// its kind and text are kept).
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn duplicate(&self) -> Error {
        match self {
            Error::Server(e) => Error::Server(e.clone()),
            Error::Io(e) => Error::Io(io::Error::new(e.kind(), e.to_string())),
            Error::Protocol(e) => Error::Protocol(e.clone()),
            Error::Conversion(e) => Error::Conversion(e.clone()),
            Error::ConnectionLost => Error::ConnectionLost,
            Error::Closed => Error::Closed,
            Error::Url(m) => Error::Url(m.clone()),
            Error::Tls(m) => Error::Tls(m.clone()),
            Error::Client(m) => Error::Client(m.clone()),
            Error::WatchConflict { attempts } => Error::WatchConflict {
                attempts: *attempts,
            },
        }
    }

    pub(crate) fn conversion(expected: impl Into<String>, got: &Frame) -> Error {
        Error::Conversion(Box::new(ConversionError::new(expected, got)))
    }

    pub(crate) fn conversion_msg(expected: impl Into<String>, got: impl Into<String>) -> Error {
        Error::Conversion(Box::new(ConversionError {
            expected: expected.into(),
            got: got.into(),
        }))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Server(e) => fmt::Display::fmt(e, f),
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::Protocol(e) => write!(f, "protocol error: {e}"),
            Error::Conversion(e) => fmt::Display::fmt(e, f),
            Error::ConnectionLost => f.write_str(
                "connection lost after the request was sent; it may or may not have been executed",
            ),
            Error::Closed => f.write_str("the client is closed"),
            Error::Url(m) => write!(f, "invalid connection URL: {m}"),
            Error::Tls(m) => write!(f, "TLS: {m}"),
            Error::Client(m) => f.write_str(m),
            Error::WatchConflict { attempts } => write!(
                f,
                "transaction abandoned: a watched key changed before each of {attempts} attempts"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Protocol(e) => Some(e),
            Error::Server(e) => Some(e),
            Error::Conversion(e) => Some(&**e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<soquete_resp::Error> for Error {
    fn from(e: soquete_resp::Error) -> Self {
        Error::Protocol(e)
    }
}

impl From<ServerError> for Error {
    fn from(e: ServerError) -> Self {
        Error::Server(e)
    }
}

/// The well-known server error code words, for matching; anything else is
/// [`ServerErrorKind::Other`] (the word itself is in [`ServerError::code`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServerErrorKind {
    /// `ERR`: the generic error.
    Err,
    /// `WRONGTYPE`: the key holds another type.
    WrongType,
    /// `MOVED slot host:port` (cluster).
    Moved,
    /// `ASK slot host:port` (cluster).
    Ask,
    /// `NOAUTH`: authentication required.
    NoAuth,
    /// `WRONGPASS`: bad user name or password.
    WrongPass,
    /// `NOPERM`: the ACL forbids it.
    NoPerm,
    /// `NOPROTO`: the protocol version asked in `HELLO` is not supported.
    NoProto,
    /// `EXECABORT`: a transaction was discarded because a command failed to queue.
    ExecAbort,
    /// `LOADING`: the server is loading its dataset.
    Loading,
    /// `BUSY`: a script is running.
    Busy,
    /// `NOSCRIPT`: no script with that SHA1.
    NoScript,
    /// `READONLY`: write against a read-only replica.
    ReadOnly,
    /// `OOM`: over `maxmemory`.
    Oom,
    /// `CROSSSLOT` (cluster).
    CrossSlot,
    /// `TRYAGAIN` (cluster).
    TryAgain,
    /// `CLUSTERDOWN` (cluster).
    ClusterDown,
    /// `MASTERDOWN`: the replica lost its master.
    MasterDown,
    /// Any other code word.
    Other,
}

/// An error reply from the server, such as
/// `WRONGTYPE Operation against a key holding the wrong kind of value`.
///
/// The first word is the code ([`code`](Self::code)); the rest is the
/// message ([`message`](Self::message)).
///
/// ```
/// use soquete_client::{ServerError, ServerErrorKind};
/// let e = ServerError::new("MOVED 3999 127.0.0.1:6381");
/// assert_eq!(e.code(), "MOVED");
/// assert_eq!(e.kind(), ServerErrorKind::Moved);
/// assert_eq!(e.message(), "3999 127.0.0.1:6381");
/// assert_eq!(e.redirect(), Some((3999, "127.0.0.1:6381")));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ServerError {
    text: Bytes,
}

impl ServerError {
    /// An error from its full text (code word, a space, the message).
    pub fn new(text: impl Into<Bytes>) -> Self {
        ServerError { text: text.into() }
    }

    /// The whole error line as the server sent it (without `-` and CRLF).
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.text).unwrap_or("(error text is not UTF-8)")
    }

    /// The raw bytes of the error line.
    pub fn as_bytes(&self) -> &[u8] {
        &self.text
    }

    /// The code word: the text up to the first space (`"ERR"`, `"WRONGTYPE"`).
    pub fn code(&self) -> &str {
        let t = self.text();
        t.split(' ').next().unwrap_or("")
    }

    /// The text after the code word.
    pub fn message(&self) -> &str {
        let t = self.text();
        match t.find(' ') {
            Some(i) => &t[i + 1..],
            None => "",
        }
    }

    /// The code word as a [`ServerErrorKind`].
    pub fn kind(&self) -> ServerErrorKind {
        match self.code() {
            "ERR" => ServerErrorKind::Err,
            "WRONGTYPE" => ServerErrorKind::WrongType,
            "MOVED" => ServerErrorKind::Moved,
            "ASK" => ServerErrorKind::Ask,
            "NOAUTH" => ServerErrorKind::NoAuth,
            "WRONGPASS" => ServerErrorKind::WrongPass,
            "NOPERM" => ServerErrorKind::NoPerm,
            "NOPROTO" => ServerErrorKind::NoProto,
            "EXECABORT" => ServerErrorKind::ExecAbort,
            "LOADING" => ServerErrorKind::Loading,
            "BUSY" => ServerErrorKind::Busy,
            "NOSCRIPT" => ServerErrorKind::NoScript,
            "READONLY" => ServerErrorKind::ReadOnly,
            "OOM" => ServerErrorKind::Oom,
            "CROSSSLOT" => ServerErrorKind::CrossSlot,
            "TRYAGAIN" => ServerErrorKind::TryAgain,
            "CLUSTERDOWN" => ServerErrorKind::ClusterDown,
            "MASTERDOWN" => ServerErrorKind::MasterDown,
            _ => ServerErrorKind::Other,
        }
    }

    /// For `MOVED` and `ASK`: the hash slot and the address to go to.
    pub fn redirect(&self) -> Option<(u16, &str)> {
        if !matches!(self.kind(), ServerErrorKind::Moved | ServerErrorKind::Ask) {
            return None;
        }
        let mut parts = self.message().split(' ');
        let slot = parts.next()?.parse().ok()?;
        let addr = parts.next()?;
        Some((slot, addr))
    }
}

impl fmt::Debug for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerError({:?})", self.text())
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl std::error::Error for ServerError {}

/// A reply that is not the type asked for: what was expected, and what came.
///
/// ```
/// use soquete_client::{FromValue, Frame};
/// let err = i64::from_value(Frame::Bulk("abc".into())).unwrap_err();
/// assert_eq!(err.to_string(), r#"conversion error: expected an integer (i64), got bulk string "abc""#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversionError {
    /// What the conversion wanted ("an integer", "an array of 2 elements"...).
    pub expected: String,
    /// What the reply was: its RESP kind and a short preview of its content.
    pub got: String,
}

impl ConversionError {
    /// An error for `got` not being `expected`; the reply is described by its
    /// kind and, for strings and numbers, its first 40 bytes.
    pub fn new(expected: impl Into<String>, got: &Frame) -> Self {
        ConversionError {
            expected: expected.into(),
            got: describe(got),
        }
    }
}

impl fmt::Display for ConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "conversion error: expected {}, got {}",
            self.expected, self.got
        )
    }
}

impl std::error::Error for ConversionError {}

/// A short human description of a reply: kind plus a preview.
pub(crate) fn describe(f: &Frame) -> String {
    const MAX: usize = 40;
    fn preview(b: &[u8]) -> String {
        let cut = &b[..b.len().min(MAX)];
        let s = String::from_utf8_lossy(cut);
        if b.len() > MAX {
            format!("{s:?}...")
        } else {
            format!("{s:?}")
        }
    }
    match f {
        Frame::Simple(b) => format!("simple string {}", preview(b)),
        Frame::Error(b) | Frame::BlobError(b) => format!("error {}", preview(b)),
        Frame::Bulk(b) => format!("bulk string {}", preview(b)),
        Frame::Verbatim { text, .. } => format!("verbatim string {}", preview(text)),
        Frame::BigNumber(b) => format!(
            "big number {}",
            String::from_utf8_lossy(&b[..b.len().min(MAX)])
        ),
        Frame::Integer(n) => format!("integer {n}"),
        Frame::Double(d) => format!("double {d}"),
        Frame::Boolean(b) => format!("boolean {b}"),
        Frame::Null | Frame::NullBulk | Frame::NullArray => "null".to_string(),
        Frame::Array(v) => format!("array of {} elements", v.len()),
        Frame::Set(v) => format!("set of {} elements", v.len()),
        Frame::Push(v) => format!("push of {} elements", v.len()),
        Frame::Map(v) => format!("map of {} entries", v.len()),
        Frame::Attribute { value, .. } => describe(value),
    }
}
