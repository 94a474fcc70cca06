//! The reconnection policy: which requests may be sent again after the
//! connection was lost, and how long to wait between connect attempts.
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
//!   decides. Transactions (`MULTI`/`EXEC`) and blocking commands (`BLPOP`)
//!   are never resent; neither is a request that timed out (the server may
//!   still be working on it).
//!
//! Connecting again waits `backoff_min`, doubling up to `backoff_max`, for at
//! most `reconnect_attempts` attempts (see [`Config`](crate::Config)); when they
//! all fail, the requests waiting for the connection get the connect error,
//! and the next request starts a new round.

use std::time::Duration;

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

/// The wait before connect attempt `attempt` (0 is the first, which does not wait).
pub(crate) fn backoff(attempt: u32, min: Duration, max: Duration) -> Duration {
    if attempt == 0 {
        return Duration::ZERO;
    }
    let factor = 1u32.checked_shl(attempt - 1).unwrap_or(u32::MAX);
    min.saturating_mul(factor).min(max)
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

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let (lo, hi) = (Duration::from_millis(10), Duration::from_millis(100));
        let waits: Vec<u64> = (0..7)
            .map(|i| backoff(i, lo, hi).as_millis() as u64)
            .collect();
        assert_eq!(waits, [0, 10, 20, 40, 80, 100, 100]);
        assert_eq!(backoff(200, lo, hi), hi);
    }
}
