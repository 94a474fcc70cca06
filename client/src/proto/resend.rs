//! The resend policy: which requests may be sent again after the connection
//! carrying them was lost ([`Resend`], [`is_safe_to_resend`]).
//!
//! A request is in one of two states when a connection dies:
//!
//! * **Not written yet** (still queued in the client): it cannot have run, so
//!   it is sent on the next connection, whatever it is.
//! * **Written, reply not read**: the server may or may not have executed it.
//!   It is sent again, once, only if every command in it is read-only and has
//!   no side effect ([`is_safe_to_resend`]): reading twice is harmless, while
//!   `INCR`, `LPUSH`, `SET` ... could apply twice. Anything else fails with
//!   [`Error::ConnectionLost`](crate::Error::ConnectionLost) and the caller
//!   decides. Transactions (`MULTI`/`EXEC`) and waiting pops (`BLPOP`) are
//!   never resent; neither is a request that timed out (the server may still
//!   be working on it), nor one that got bytes that are not RESP.
//!
//! How the new connection is made is [`reconnect`](super::reconnect)'s business.

use crate::error::Error;

/// Commands that only read and have no side effect on data or on the
/// connection: resending one after a lost connection is harmless. Sorted.
const SAFE: &[&[u8]] = &[
    b"BITCOUNT",
    b"BITPOS",
    b"DBSIZE",
    b"DUMP",
    b"ECHO",
    b"EXISTS",
    b"EXPIRETIME",
    b"GEODIST",
    b"GEOHASH",
    b"GEOPOS",
    b"GET",
    b"GETBIT",
    b"GETRANGE",
    b"HEXISTS",
    b"HGET",
    b"HGETALL",
    b"HKEYS",
    b"HLEN",
    b"HMGET",
    b"HRANDFIELD",
    b"HSCAN",
    b"HSTRLEN",
    b"HVALS",
    b"INFO",
    b"KEYS",
    b"LASTSAVE",
    b"LCS",
    b"LINDEX",
    b"LLEN",
    b"LPOS",
    b"LRANGE",
    b"MGET",
    b"PEXPIRETIME",
    b"PFCOUNT",
    b"PING",
    b"PTTL",
    b"PUBSUB",
    b"RANDOMKEY",
    b"SCAN",
    b"SCARD",
    b"SDIFF",
    b"SINTER",
    b"SINTERCARD",
    b"SISMEMBER",
    b"SMEMBERS",
    b"SMISMEMBER",
    b"SRANDMEMBER",
    b"SSCAN",
    b"STRLEN",
    b"SUBSTR",
    b"SUNION",
    b"TIME",
    b"TTL",
    b"TYPE",
    b"XLEN",
    b"XRANGE",
    b"XREVRANGE",
    b"ZCARD",
    b"ZCOUNT",
    b"ZLEXCOUNT",
    b"ZMSCORE",
    b"ZRANDMEMBER",
    b"ZRANGE",
    b"ZRANGEBYLEX",
    b"ZRANGEBYSCORE",
    b"ZRANK",
    b"ZREVRANGE",
    b"ZREVRANGEBYLEX",
    b"ZREVRANGEBYSCORE",
    b"ZREVRANK",
    b"ZSCAN",
    b"ZSCORE",
];

/// True when a command named `name` (any case) may be resent after the
/// connection carrying it was lost: it only reads data.
///
/// ```
/// use soquete_client::is_safe_to_resend;
/// assert!(is_safe_to_resend(b"get"));
/// assert!(is_safe_to_resend(b"HGETALL"));
/// assert!(!is_safe_to_resend(b"INCR"));
/// assert!(!is_safe_to_resend(b"BLPOP"));
/// ```
pub fn is_safe_to_resend(name: &[u8]) -> bool {
    if name.len() > 24 {
        return false;
    }
    let mut up = [0u8; 24];
    for (d, s) in up.iter_mut().zip(name) {
        *d = s.to_ascii_uppercase();
    }
    SAFE.binary_search(&&up[..name.len()]).is_ok()
}

/// The resend decision for one request, across the connections it goes
/// out on: at most one resend, and only of a request that only reads.
///
/// ```text
/// let mut resend = Resend::new(reconnecting);
/// loop {
///     match send_and_read(request) {
///         Ok(reply) => return Ok(reply),
///         Err(e) => resend.after_failure(e, || request.is_safe_to_resend())?,
///     }
/// }
/// ```
#[derive(Debug)]
pub(crate) struct Resend {
    allowed: bool,
    resent: bool,
}

impl Resend {
    /// A request not sent yet; `allowed` is false when the client does not
    /// reconnect at all.
    #[inline]
    pub(crate) fn new(allowed: bool) -> Resend {
        Resend {
            allowed,
            resent: false,
        }
    }

    /// The request's connection failed with `e` after the request was
    /// (perhaps) written. `Ok(())`: send it again, on a new connection.
    /// `Err`: the error to report: a timeout or a protocol error as itself,
    /// a TLS error (the server refused the client's certificate: a new
    /// connection fares no better) as itself, an I/O error as [`Error::ConnectionLost`] (the server may have run
    /// the request), any other as itself. `safe` (does the request only
    /// read?) is asked only when a resend is still possible.
    pub(crate) fn after_failure(
        &mut self,
        e: Error,
        safe: impl FnOnce() -> bool,
    ) -> Result<(), Error> {
        if e.is_timeout() || matches!(e, Error::Protocol(_) | Error::Tls(_)) {
            return Err(e);
        }
        if !self.resent && self.allowed && safe() {
            self.resent = true;
            return Ok(());
        }
        Err(match e {
            Error::Io(_) => Error::ConnectionLost,
            e => e,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(SAFE.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn writes_and_blocking_commands_are_not_resent() {
        for c in [
            "SET", "INCR", "DEL", "LPUSH", "EXEC", "MULTI", "BLPOP", "PUBLISH", "EVAL",
        ] {
            assert!(!is_safe_to_resend(c.as_bytes()), "{c}");
        }
        assert!(!is_safe_to_resend(&[b'G'; 40]));
    }

    fn io(kind: std::io::ErrorKind) -> Error {
        Error::Io(std::io::Error::new(kind, "test"))
    }

    #[test]
    fn a_read_is_resent_once_and_a_write_never() {
        let mut read = Resend::new(true);
        assert!(read
            .after_failure(io(std::io::ErrorKind::ConnectionReset), || true)
            .is_ok());
        let e = read
            .after_failure(Error::ConnectionLost, || true)
            .unwrap_err();
        assert!(matches!(e, Error::ConnectionLost), "{e}");
        let mut write = Resend::new(true);
        let e = write
            .after_failure(io(std::io::ErrorKind::BrokenPipe), || false)
            .unwrap_err();
        assert!(matches!(e, Error::ConnectionLost), "{e}");
    }

    #[test]
    fn timeouts_and_garbage_are_reported_as_themselves() {
        let mut r = Resend::new(true);
        let e = r
            .after_failure(io(std::io::ErrorKind::TimedOut), || panic!("not asked"))
            .unwrap_err();
        assert!(e.is_timeout(), "{e}");
        let garbage = soquete_resp::Decoder::new()
            .decode(&mut bytes::BytesMut::from(&b"?x\r\n"[..]))
            .unwrap_err();
        let e = r
            .after_failure(Error::Protocol(garbage), || panic!("not asked"))
            .unwrap_err();
        assert!(matches!(e, Error::Protocol(_)), "{e}");
    }

    #[test]
    fn nothing_is_resent_when_reconnecting_is_off() {
        let mut r = Resend::new(false);
        let e = r.after_failure(Error::ConnectionLost, || true).unwrap_err();
        assert!(matches!(e, Error::ConnectionLost), "{e}");
        let e = r.after_failure(Error::Closed, || true).unwrap_err();
        assert!(matches!(e, Error::Closed), "{e}");
    }
}
