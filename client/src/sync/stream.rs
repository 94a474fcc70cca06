//! The socket of a blocking connection: TCP, TLS over TCP, or Unix.
//!
//! The variant is matched once per `read`/`write` call, that is per system
//! call on the plain paths (a pipeline is one write, replies come in 32 KiB
//! reads), never per command.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::time::Duration;

use crate::config::{Addr, Config};
use crate::error::{Error, Result};

pub(crate) enum Stream {
    Tcp(TcpStream),
    /// Boxed: rustls's connection state is large, and the plain variants
    /// should not carry its size.
    #[cfg(feature = "tls")]
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
    #[cfg(unix)]
    Unix(UnixStream),
}

impl Stream {
    pub(crate) fn connect(cfg: &Config) -> Result<Stream> {
        match &cfg.addr {
            Addr::Tcp { host, port } => {
                let mut last = None;
                for sa in (host.as_str(), *port).to_socket_addrs()? {
                    let r = match cfg.connect_timeout {
                        Some(t) => TcpStream::connect_timeout(&sa, t),
                        None => TcpStream::connect(sa),
                    };
                    match r {
                        Ok(s) => {
                            s.set_nodelay(true)?;
                            s.set_read_timeout(cfg.read_timeout)?;
                            s.set_write_timeout(cfg.write_timeout)?;
                            return match &cfg.tls {
                                None => Ok(Stream::Tcp(s)),
                                Some(tls) => tls_handshake(s, host, tls),
                            };
                        }
                        Err(e) => last = Some(e),
                    }
                }
                Err(Error::Io(last.unwrap_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("{host} resolved to no address"),
                    )
                })))
            }
            #[cfg(unix)]
            Addr::Unix(path) => {
                let s = UnixStream::connect(path)?;
                s.set_read_timeout(cfg.read_timeout)?;
                s.set_write_timeout(cfg.write_timeout)?;
                Ok(Stream::Unix(s))
            }
            #[cfg(not(unix))]
            Addr::Unix(_) => Err(Error::Client("Unix sockets need a Unix system".into())),
        }
    }

    pub(crate) fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(t),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.sock.set_read_timeout(t),
            #[cfg(unix)]
            Stream::Unix(s) => s.set_read_timeout(t),
        }
    }
}

impl Read for Stream {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.read(buf),
            #[cfg(unix)]
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.write(buf),
            #[cfg(unix)]
            Stream::Unix(s) => s.write(buf),
        }
    }
    /// Sockets write at once; TLS may hold encrypted records rustls has not
    /// sent yet.
    #[inline]
    fn flush(&mut self) -> io::Result<()> {
        match self {
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.flush(),
            _ => Ok(()),
        }
    }
}

/// Runs the TLS handshake on `sock` for `host`, so that an untrusted
/// certificate fails the connect, not the first command.
#[cfg(feature = "tls")]
fn tls_handshake(
    mut sock: TcpStream,
    host: &str,
    tls: &crate::config::TlsConfig,
) -> Result<Stream> {
    let config = crate::tls::client_config(tls)?;
    let mut conn = rustls::ClientConnection::new(config, crate::tls::server_name(host)?)
        .map_err(|e| Error::Tls(e.to_string()))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(crate::tls::io_error)?;
    }
    Ok(Stream::Tls(Box::new(rustls::StreamOwned::new(conn, sock))))
}

#[cfg(not(feature = "tls"))]
fn tls_handshake(_: TcpStream, _: &str, _: &crate::config::TlsConfig) -> Result<Stream> {
    Err(Error::Tls(
        "TLS (rediss://) needs soquete-client's `tls` feature".into(),
    ))
}
