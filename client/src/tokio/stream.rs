//! The socket of an async connection: TCP, TLS over TCP, or Unix, on tokio.
//!
//! The variant is matched once per poll of a read or a write, that is per
//! system call (the multiplexed driver writes a whole batch at once and
//! reads 64 KiB at a time), never per command.

use std::io;
use std::task::{ready, Context, Poll};

use bytes::BytesMut;

use crate::config::{Addr, Config};
use crate::error::{Error, Result};

/// A tokio socket, TCP, TLS or Unix.
pub(crate) enum Stream {
    Tcp(tokio::net::TcpStream),
    /// Boxed: rustls's state is large, the plain variants stay small.
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>),
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
}

impl Stream {
    pub(crate) async fn connect(cfg: &Config) -> Result<Stream> {
        let fut = async {
            match &cfg.addr {
                Addr::Tcp { host, port } => {
                    let s = tokio::net::TcpStream::connect((host.as_str(), *port)).await?;
                    s.set_nodelay(true)?;
                    match &cfg.tls {
                        None => Ok(Stream::Tcp(s)),
                        Some(tls) => tls_handshake(s, host, tls).await,
                    }
                }
                #[cfg(unix)]
                Addr::Unix(p) => Ok(Stream::Unix(tokio::net::UnixStream::connect(p).await?)),
                #[cfg(not(unix))]
                Addr::Unix(_) => Err(Error::Client("Unix sockets need a Unix system".into())),
            }
        };
        match cfg.connect_timeout {
            Some(t) => tokio::time::timeout(t, fut).await.map_err(|_| {
                Error::Io(io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))
            })?,
            None => fut.await,
        }
    }

    /// Reads what is available into `buf` (0 means end of stream).
    pub(crate) fn poll_read_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
    ) -> Poll<io::Result<usize>> {
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(64 * 1024);
        }
        loop {
            let r = match self {
                Stream::Tcp(s) => {
                    ready!(s.poll_read_ready(cx))?;
                    s.try_read_buf(buf)
                }
                // `read_buf`'s future holds nothing but its borrows: polled
                // once here and dropped, it loses no data.
                #[cfg(feature = "tls")]
                Stream::Tls(s) => {
                    use std::future::Future;
                    use tokio::io::AsyncReadExt;
                    return std::pin::pin!(s.read_buf(buf)).poll(cx);
                }
                #[cfg(unix)]
                Stream::Unix(s) => {
                    ready!(s.poll_read_ready(cx))?;
                    s.try_read_buf(buf)
                }
            };
            match r {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                r => return Poll::Ready(r),
            }
        }
    }

    /// Writes some of `b`. TLS may keep encrypted records back when the
    /// socket is full: [`poll_flush`](Self::poll_flush) sends them.
    pub(crate) fn poll_write(&mut self, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        loop {
            let r = match self {
                Stream::Tcp(s) => {
                    ready!(s.poll_write_ready(cx))?;
                    s.try_write(b)
                }
                #[cfg(feature = "tls")]
                Stream::Tls(s) => {
                    return tokio::io::AsyncWrite::poll_write(std::pin::Pin::new(&mut **s), cx, b)
                }
                #[cfg(unix)]
                Stream::Unix(s) => {
                    ready!(s.poll_write_ready(cx))?;
                    s.try_write(b)
                }
            };
            match r {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                r => return Poll::Ready(r),
            }
        }
    }

    /// Sends what [`poll_write`](Self::poll_write) accepted and kept back
    /// (TLS only; sockets have nothing to flush).
    #[inline]
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            #[cfg(feature = "tls")]
            Stream::Tls(s) => tokio::io::AsyncWrite::poll_flush(std::pin::Pin::new(&mut **s), cx),
            _ => {
                let _ = cx;
                Poll::Ready(Ok(()))
            }
        }
    }
}

/// Runs the TLS handshake on `sock` for `host`, so that an untrusted
/// certificate fails the connect, not the first command.
#[cfg(feature = "tls")]
async fn tls_handshake(
    sock: tokio::net::TcpStream,
    host: &str,
    tls: &crate::config::TlsConfig,
) -> Result<Stream> {
    let config = crate::tls::client_config(tls)?;
    let name = crate::tls::server_name(host)?;
    let s = tokio_rustls::TlsConnector::from(config)
        .connect(name, sock)
        .await
        .map_err(crate::tls::io_error)?;
    Ok(Stream::Tls(Box::new(s)))
}

#[cfg(not(feature = "tls"))]
async fn tls_handshake(
    _: tokio::net::TcpStream,
    _: &str,
    _: &crate::config::TlsConfig,
) -> Result<Stream> {
    Err(Error::Tls(
        "TLS (rediss://) needs soquete-client's `tls` feature".into(),
    ))
}

/// A socket error as the client reports it: TLS failures (an alert from
/// the server) as [`Error::Tls`].
#[cold]
pub(crate) fn io_error(e: io::Error) -> Error {
    #[cfg(feature = "tls")]
    return crate::tls::io_error(e);
    #[cfg(not(feature = "tls"))]
    Error::Io(e)
}
