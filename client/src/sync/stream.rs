//! The socket of a blocking connection: TCP or Unix.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::time::Duration;

use crate::config::{Addr, Config};
use crate::error::{Error, Result};

pub(crate) enum Stream {
    Tcp(TcpStream),
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
                            return Ok(Stream::Tcp(s));
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
            #[cfg(unix)]
            Stream::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
