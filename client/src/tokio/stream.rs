//! The socket of an async connection: TCP or Unix, on tokio.

use std::io;
use std::task::{ready, Context, Poll};

use bytes::BytesMut;

use crate::config::{Addr, Config};
use crate::error::{Error, Result};

/// A tokio socket, TCP or Unix.
pub(crate) enum Stream {
    Tcp(tokio::net::TcpStream),
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
                    Ok(Stream::Tcp(s))
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
        &self,
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

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        loop {
            let r = match self {
                Stream::Tcp(s) => {
                    ready!(s.poll_write_ready(cx))?;
                    s.try_write(b)
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
}
