//! Finds where one RESP reply ends without building it: the load generator
//! only needs to count replies and notice errors, so it must not spend the
//! CPU that a full decoder (allocation, a frame tree) would take from the
//! server under test.

/// What [`scan`] found at the start of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scan {
    /// One whole reply of `len` bytes; `error` when it is an error reply
    /// (`-...` or a RESP3 blob error at top level).
    Complete {
        /// Length of the reply in bytes.
        len: usize,
        /// Whether the reply is an error.
        error: bool,
    },
    /// The buffer holds only the beginning of a reply.
    Incomplete,
    /// The bytes are not RESP: the generator stops and reports it.
    Invalid,
}

/// Scans one reply at the start of `buf`.
///
/// Handles every RESP2 type and the RESP3 ones (null, double, boolean, big
/// number, map, set, push, verbatim string, blob error); an attribute (`|`)
/// is `Invalid`, since the benches never ask for RESP3.
pub fn scan(buf: &[u8]) -> Scan {
    let error = matches!(buf.first(), Some(b'-' | b'!'));
    let mut pos = 0;
    // Values still to read: 1 for the reply, plus the elements of every
    // aggregate header seen so far.
    let mut remaining: u64 = 1;
    while remaining > 0 {
        let Some(&kind) = buf.get(pos) else {
            return Scan::Incomplete;
        };
        let Some(nl) = memchr::memchr(b'\n', &buf[pos..]) else {
            return Scan::Incomplete;
        };
        if nl < 2 || buf[pos + nl - 1] != b'\r' {
            return Scan::Invalid;
        }
        let line = &buf[pos + 1..pos + nl - 1];
        pos += nl + 1;
        remaining -= 1;
        match kind {
            b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => {}
            b'$' | b'=' | b'!' => match parse_len(line) {
                Some(None) => {}
                Some(Some(n)) => {
                    let Some(end) = pos.checked_add(n).and_then(|e| e.checked_add(2)) else {
                        return Scan::Invalid;
                    };
                    if end > buf.len() {
                        return Scan::Incomplete;
                    }
                    if &buf[end - 2..end] != b"\r\n" {
                        return Scan::Invalid;
                    }
                    pos = end;
                }
                None => return Scan::Invalid,
            },
            b'*' | b'~' | b'>' | b'%' => match parse_len(line) {
                Some(None) => {}
                Some(Some(n)) => {
                    let n = if kind == b'%' { 2 * n as u64 } else { n as u64 };
                    remaining += n;
                }
                None => return Scan::Invalid,
            },
            _ => return Scan::Invalid,
        }
    }
    Scan::Complete { len: pos, error }
}

/// A length header: `Some(None)` for `-1` (null), `Some(Some(n))` for `n >= 0`.
fn parse_len(line: &[u8]) -> Option<Option<usize>> {
    if line == b"-1" {
        return Some(None);
    }
    if line.is_empty() || line.len() > 18 || !line.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut n = 0usize;
    for &d in line {
        n = n * 10 + usize::from(d - b'0');
    }
    Some(Some(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(buf: &[u8]) -> (usize, bool) {
        match scan(buf) {
            Scan::Complete { len, error } => (len, error),
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(buf)),
        }
    }

    #[test]
    fn simple_replies_end_after_their_line() {
        assert_eq!(complete(b"+OK\r\n+OK\r\n"), (5, false));
        assert_eq!(complete(b":42\r\n"), (5, false));
        assert_eq!(complete(b"-ERR x\r\n"), (8, true));
    }

    #[test]
    fn bulk_and_null_bulk() {
        assert_eq!(complete(b"$3\r\nabc\r\n:1\r\n"), (9, false));
        assert_eq!(complete(b"$-1\r\n"), (5, false));
        assert_eq!(complete(b"$0\r\n\r\n"), (6, false));
        // The payload may hold CR LF: only the length counts.
        assert_eq!(complete(b"$4\r\n\r\n\r\n\r\n"), (10, false));
    }

    #[test]
    fn nested_arrays_count_every_element() {
        let buf = b"*3\r\n$1\r\na\r\n*2\r\n:1\r\n$-1\r\n*0\r\n+next\r\n";
        assert_eq!(complete(buf), (buf.len() - 7, false));
        assert_eq!(complete(b"*-1\r\n"), (5, false));
        assert_eq!(complete(b"%1\r\n+a\r\n:1\r\n"), (12, false));
    }

    #[test]
    fn every_proper_prefix_is_incomplete() {
        let buf = b"*2\r\n$5\r\nhello\r\n*1\r\n:7\r\n";
        assert_eq!(complete(buf), (buf.len(), false));
        for cut in 0..buf.len() {
            assert_eq!(scan(&buf[..cut]), Scan::Incomplete, "cut at {cut}");
        }
    }

    #[test]
    fn garbage_is_invalid() {
        assert_eq!(scan(b"hello\r\n"), Scan::Invalid);
        assert_eq!(scan(b"+OK\n"), Scan::Invalid);
        assert_eq!(scan(b"$x\r\n"), Scan::Invalid);
        assert_eq!(scan(b"$-2\r\n"), Scan::Invalid);
        assert_eq!(scan(b"$3\r\nabcd\r\n"), Scan::Invalid);
        assert_eq!(scan(b"*99999999999999999999\r\n"), Scan::Invalid);
    }
}
