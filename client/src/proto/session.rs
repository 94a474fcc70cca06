//! [`Session`]: the connection a client owns, if it has one, and what the
//! client keeps across reconnects (which connection is current, the watch
//! guard of a transaction, how many `EXEC`s it sent).

use std::fmt;

use crate::config::{Addr, Protocol};
use crate::error::{Error, Result};

/// The connection of a [`Client`](crate::Client) or an
/// [`AsyncConnection`](crate::AsyncConnection) (`C` is the driver's
/// connection type), and the bookkeeping of the transaction helper.
///
/// Connections are numbered from 1 in the order they are opened. While the
/// transaction helper has keys watched on connection `n` (the watch guard),
/// no request may go out on another one: the keys are not watched there.
#[derive(Debug)]
pub(crate) struct Session<C> {
    conn: Option<C>,
    /// The current connection's number (or the last one's).
    id: u64,
    /// The number of the connection holding the transaction helper's
    /// `WATCH`, while it runs.
    watch_guard: Option<u64>,
    /// How many atomic pipelines (`MULTI ... EXEC`) were sent.
    execs: u64,
}

impl<C> Session<C> {
    /// A session on its first connection.
    pub(crate) fn new(conn: C) -> Session<C> {
        Session {
            conn: Some(conn),
            id: 1,
            watch_guard: None,
            execs: 0,
        }
    }

    /// True while a connection is open.
    #[inline]
    pub(crate) fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    /// The open connection.
    #[inline]
    pub(crate) fn connection(&mut self) -> Option<&mut C> {
        self.conn.as_mut()
    }

    /// The open connection, to look at.
    #[inline]
    pub(crate) fn connection_ref(&self) -> Option<&C> {
        self.conn.as_ref()
    }

    /// Replaces the connection (if any) with a new one, which gets the next
    /// number.
    pub(crate) fn install(&mut self, conn: C) {
        self.conn = Some(conn);
        self.id += 1;
    }

    /// Drops the connection: it failed, or it may be out of step with its
    /// replies. The next request connects again.
    #[inline]
    pub(crate) fn disconnect(&mut self) {
        self.conn = None;
    }

    /// Takes the connection out for the length of one request; a request
    /// that completes gives it back with [`put_back`](Self::put_back), one
    /// that fails or is cancelled drops it.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    #[inline]
    pub(crate) fn take(&mut self) -> Option<C> {
        self.conn.take()
    }

    /// Gives back the connection [`take`](Self::take) lent (same number).
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    #[inline]
    pub(crate) fn put_back(&mut self, conn: C) {
        self.conn = Some(conn);
    }

    /// The connection, for good.
    pub(crate) fn into_connection(self) -> Option<C> {
        self.conn
    }

    /// Encodes a request with `write` into `out` (cleared first), for the
    /// current connection. While a watch guard holds another connection the
    /// request is refused with [`Error::ConnectionLost`] and nothing is
    /// written.
    #[inline]
    pub(crate) fn encode(&self, out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) -> Result<()> {
        if self.watch_guard.is_some_and(|id| id != self.id) {
            return Err(Error::ConnectionLost);
        }
        out.clear();
        write(out);
        Ok(())
    }

    /// Counts an atomic pipeline about to be sent.
    #[inline]
    pub(crate) fn count_exec(&mut self) {
        self.execs += 1;
    }

    /// The number of the open connection, `None` without one.
    pub(crate) fn conn_id(&self) -> Option<u64> {
        self.conn.as_ref().map(|_| self.id)
    }

    /// How many atomic pipelines were sent.
    pub(crate) fn execs(&self) -> u64 {
        self.execs
    }

    /// The `Debug` output of a client over this session, named `name`,
    /// connecting to `addr`, speaking `protocol`.
    pub(crate) fn fmt_client(
        &self,
        f: &mut fmt::Formatter<'_>,
        name: &str,
        addr: &Addr,
        protocol: Protocol,
    ) -> fmt::Result {
        f.debug_struct(name)
            .field("addr", addr)
            .field("connected", &self.is_connected())
            .field("protocol", &protocol)
            .finish()
    }

    /// The watch guard: the connection a transaction's `WATCH` lives on.
    pub(crate) fn watch_guard(&mut self) -> &mut Option<u64> {
        &mut self.watch_guard
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(s: &Session<u8>) -> Result<Vec<u8>> {
        let mut out = b"stale".to_vec();
        s.encode(&mut out, |o| o.extend_from_slice(b"PING"))?;
        Ok(out)
    }

    #[test]
    fn connections_are_numbered_in_the_order_they_open() {
        let mut s = Session::new(1);
        assert_eq!(s.conn_id(), Some(1));
        s.disconnect();
        assert_eq!(s.conn_id(), None);
        s.install(2);
        assert_eq!(s.conn_id(), Some(2));
        let c = s.take().unwrap();
        s.put_back(c);
        assert_eq!(s.conn_id(), Some(2));
    }

    #[test]
    fn a_watch_guard_keeps_requests_on_the_watched_connection() {
        let mut s = Session::new(1);
        *s.watch_guard() = s.conn_id();
        assert_eq!(encoded(&s).unwrap(), b"PING");
        s.disconnect();
        s.install(2);
        assert!(matches!(encoded(&s), Err(Error::ConnectionLost)));
        *s.watch_guard() = None;
        assert_eq!(encoded(&s).unwrap(), b"PING");
    }
}
