//! [`RequestDecoder`]: the server's side, one command at a time.

use std::fmt;

use crate::number::{fast_len, parse_i64};
use crate::{Error, Limits};

/// Where the decoder is inside the request that starts at `buf[0]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Nothing of the request is known yet, except that `scan` bytes were
    /// already searched for the CR of its `*len` line.
    Start,
    /// Inside a multibulk: `left` arguments to go; the next one starts at
    /// `pos` (its `$len` line searched up to `scan`).
    Args { left: u64 },
    /// Inside a multibulk: the `$len` line of the next argument was read;
    /// its `len` payload bytes start at `pos`.
    Payload { left: u64, len: usize },
    /// An inline command line, searched for its LF up to `scan`.
    Inline,
}

/// Decodes client requests: RESP multibulk (`*3\r\n$3\r\nSET\r\n...`) and
/// inline commands (`SET "a b" 1\r\n`, as typed into `nc` or telnet).
///
/// This is what a server runs for every command, so it is built to be fast:
/// arguments are slices of the caller's buffer (no allocation per argument,
/// one reused span vector), a request already complete in the buffer is
/// decoded in one pass, and a request that arrives in pieces is resumed
/// where the last call stopped: no byte is parsed twice, and the payload
/// of an argument whose `$len` was read is never searched.
///
/// # Contract
///
/// Call [`decode`](RequestDecoder::decode) with the bytes not yet consumed
/// by a returned request, front first. Between calls the caller may only
/// append to those bytes (it may move them, as a buffer compaction does,
/// but not change them).
///
/// * `Ok(None)`: incomplete; read more bytes and call again.
/// * `Ok(Some(req))`: one request; its first [`consumed`](Request::consumed)
///   bytes belong to it. The arguments borrow the buffer, so drop those
///   bytes only after using them.
/// * An empty request (`*0\r\n`, `*-5\r\n`, a blank inline line) comes
///   back with `len() == 0`: skip it, as Redis does.
/// * `Err(e)`: a protocol error (see [`Error`]); it is sticky until
///   [`reset`](RequestDecoder::reset). Reply `-ERR Protocol error: {e}` and
///   close the connection.
///
/// # Example
///
/// ```
/// use soquete_resp::RequestDecoder;
///
/// let mut dec = RequestDecoder::new();
/// let mut buf = b"*2\r\n$3\r\nGET\r\n$1".to_vec();
/// assert!(dec.decode(&buf).unwrap().is_none()); // incomplete
/// buf.extend_from_slice(b"\r\nk\r\nPING\r\n");
///
/// let req = dec.decode(&buf).unwrap().unwrap();
/// assert_eq!(req.args().collect::<Vec<_>>(), [&b"GET"[..], b"k"]);
/// let n = req.consumed();
/// buf.drain(..n);
///
/// let req = dec.decode(&buf).unwrap().unwrap(); // an inline command
/// assert!(req.is_inline());
/// assert_eq!(req.arg(0), b"PING");
/// ```
///
/// # Inline commands
///
/// A request whose first byte is not `*` is an inline command, split like
/// Redis's `sdssplitargs`: the line ends at LF (a CR before it is dropped);
/// arguments are separated by whitespace; `"double quotes"` understand
/// `\n \r \t \b \a \\ \" \xHH`; `'single quotes'` understand only `\'`; a
/// closing quote must be followed by whitespace or the end of the line,
/// else `unbalanced quotes in request`. A line longer than
/// [`Limits::max_inline_len`] is `too big inline request`, however its
/// bytes arrive (Redis accepts a longer line when its end arrives in the
/// same read as the bytes past the limit).
///
/// ```
/// use soquete_resp::RequestDecoder;
///
/// let mut dec = RequestDecoder::new();
/// let req = dec.decode(b"SET \"a b\" 'it\\'s' \"\\x41\\n\"\r\n").unwrap().unwrap();
/// assert_eq!(req.args().collect::<Vec<_>>(), [&b"SET"[..], b"a b", b"it's", b"A\n"]);
/// ```
///
/// # NUL bytes
///
/// Redis searches request lines with `strchr`, which stops at a NUL byte:
/// a NUL in an inline line or in a `*len`/`$len` line makes Redis wait for
/// a line end it can never see, until the buffered bytes pass 64 KiB and it
/// replies `too big inline request` (or `too big mbulk count string`, `too
/// big bulk count string`). This decoder returns that same error as soon
/// as it meets the NUL. NUL bytes inside bulk payloads are data, as always.
pub struct RequestDecoder {
    limits: Limits,
    state: State,
    /// Bytes of the current request already parsed.
    pos: usize,
    /// Where the search for the end of the current line resumes.
    scan: usize,
    /// Minimum buffer length the next call needs to finish a request.
    wants: usize,
    /// Argument spans of the current request, into the buffer or `scratch`.
    spans: Vec<(usize, usize)>,
    /// Unescaped arguments of an inline command.
    scratch: Vec<u8>,
    error: Option<Error>,
}

impl Default for RequestDecoder {
    fn default() -> Self {
        RequestDecoder::new()
    }
}

impl fmt::Debug for RequestDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestDecoder")
            .field("limits", &self.limits)
            .field("state", &self.state)
            .field("pos", &self.pos)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// Spans reserved up front for a multibulk, whatever its claimed length
/// (Redis reserves `min(len, 1024)` argument slots the same way).
const SPANS_RESERVE: u64 = 1024;

impl RequestDecoder {
    /// A decoder with [`Limits::default`].
    pub fn new() -> Self {
        RequestDecoder::with_limits(Limits::default())
    }

    /// A decoder with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        RequestDecoder {
            limits,
            state: State::Start,
            pos: 0,
            scan: 0,
            wants: 1,
            spans: Vec::new(),
            scratch: Vec::new(),
            error: None,
        }
    }

    /// Replaces the limits (for instance when a client authenticates). They
    /// apply to the lengths read from now on.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Forgets the request in progress and any sticky error. The next call
    /// starts a new request at the front of its buffer.
    pub fn reset(&mut self) {
        self.state = State::Start;
        self.pos = 0;
        self.scan = 0;
        self.wants = 1;
        self.spans.clear();
        self.scratch.clear();
        self.error = None;
    }

    /// At least how many bytes the buffer must hold before the next call
    /// can return a request (after `Ok(None)`). Exact inside an argument
    /// whose `$len` was read; a lower bound elsewhere.
    ///
    /// The number comes from the peer: it can be up to
    /// [`Limits::max_bulk_len`] before any of those bytes arrived. Grow the
    /// buffer by what actually arrives (for instance at most doubling it),
    /// never by the claim alone.
    ///
    /// ```
    /// use soquete_resp::RequestDecoder;
    ///
    /// let mut dec = RequestDecoder::new();
    /// assert!(dec.decode(b"*1\r\n$100\r\nabc").unwrap().is_none());
    /// assert_eq!(dec.wants(), 10 + 100 + 2);
    /// ```
    pub fn wants(&self) -> usize {
        self.wants
    }

    /// Decodes the next request from the front of `buf`. See the
    /// [type docs](RequestDecoder) for the contract.
    #[inline]
    pub fn decode<'a>(&'a mut self, buf: &'a [u8]) -> Result<Option<Request<'a>>, Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        match self.step(buf) {
            Ok(Some(consumed)) => {
                let inline = self.state == State::Inline;
                self.state = State::Start;
                self.pos = 0;
                self.scan = 0;
                self.wants = 1;
                let base = if inline { &self.scratch[..] } else { buf };
                Ok(Some(Request {
                    base,
                    spans: &self.spans,
                    consumed,
                    inline,
                }))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                self.error = Some(e.clone());
                Err(e)
            }
        }
    }

    /// Advances the state machine; `Ok(Some(n))` when a request of `n`
    /// bytes is complete (its arguments in `spans`, or `scratch` when the
    /// state is `Inline`).
    #[inline]
    fn step(&mut self, buf: &[u8]) -> Result<Option<usize>, Error> {
        let left = match self.state {
            State::Start => {
                let Some(&first) = buf.first() else {
                    return Ok(None);
                };
                if first != b'*' {
                    self.state = State::Inline;
                    self.spans.clear();
                    return self.inline(buf);
                }
                let fast = if self.scan == 0 {
                    fast_len(buf, 1)
                } else {
                    None
                };
                let (n, next) = match fast {
                    Some((n, next)) => (n as i64, next),
                    None => match self.multibulk_line(buf)? {
                        Some(x) => x,
                        None => return Ok(None),
                    },
                };
                if n as u64 > self.limits.max_multibulk_len && n > 0 {
                    return Err(Error::InvalidMultibulkLength);
                }
                if self.limits.unauthenticated
                    && n > Limits::UNAUTHENTICATED_MAX_MULTIBULK_LEN as i64
                {
                    return Err(Error::UnauthenticatedMultibulkLength);
                }
                self.spans.clear();
                self.scan = 0;
                if n <= 0 {
                    return Ok(Some(next));
                }
                self.spans.reserve((n as u64).min(SPANS_RESERVE) as usize);
                self.pos = next;
                n as u64
            }
            State::Args { left } => left,
            State::Payload { left, len } => {
                let end = self.pos.saturating_add(len);
                if buf.len() < end.saturating_add(2) {
                    self.wants = end.saturating_add(2);
                    return Ok(None);
                }
                if buf[end] != b'\r' || buf[end + 1] != b'\n' {
                    return Err(Error::ExpectedCrlf);
                }
                self.spans.push((self.pos, end));
                self.pos = end + 2;
                left - 1
            }
            State::Inline => return self.inline(buf),
        };
        self.args(buf, left)
    }

    /// Reads the arguments of a multibulk, `left` of them from `self.pos`.
    #[inline]
    fn args(&mut self, buf: &[u8], mut left: u64) -> Result<Option<usize>, Error> {
        let mut pos = self.pos;
        let max_bulk = if self.limits.unauthenticated {
            self.limits
                .max_bulk_len
                .min(Limits::UNAUTHENTICATED_MAX_BULK_LEN)
        } else {
            self.limits.max_bulk_len
        };
        while left > 0 {
            // The `$len` line: the common case in one pass, else the exact path.
            let fast = if self.scan == 0 && buf.get(pos) == Some(&b'$') {
                fast_len(buf, pos + 1)
            } else {
                None
            };
            let (len, next) = match fast {
                Some((len, next)) if len <= max_bulk => (len, next),
                _ => {
                    self.pos = pos;
                    match self.bulk_line(buf)? {
                        Some(x) => x,
                        None => {
                            self.state = State::Args { left };
                            self.wants = self.wants.max(pos + 6 * left.min(1 << 20) as usize);
                            return Ok(None);
                        }
                    }
                }
            };
            // `len <= max_bulk_len`, which fits memory when it fits a u64 on
            // this machine; on 32-bit targets a huge limit could not.
            let Ok(len) = usize::try_from(len) else {
                return Err(Error::InvalidBulkLength);
            };
            let end = next.saturating_add(len);
            if buf.len() < end.saturating_add(2) {
                self.pos = next;
                self.state = State::Payload { left, len };
                self.wants = end.saturating_add(2);
                return Ok(None);
            }
            if buf[end] != b'\r' || buf[end + 1] != b'\n' {
                return Err(Error::ExpectedCrlf);
            }
            self.spans.push((next, end));
            pos = end + 2;
            left -= 1;
        }
        Ok(Some(pos))
    }

    /// The exact path for a request's `*len` line at `buf[0]`: returns the
    /// length and the index after its LF, or `None` when incomplete.
    #[cold]
    fn multibulk_line(&mut self, buf: &[u8]) -> Result<Option<(i64, usize)>, Error> {
        let Some(cr) = self.find_cr(buf, 0, Error::TooBigMultibulkCount)? else {
            return Ok(None);
        };
        let n = parse_i64(&buf[1..cr]).ok_or(Error::InvalidMultibulkLength)?;
        if n > 0 && n as u64 > self.limits.max_multibulk_len {
            return Err(Error::InvalidMultibulkLength);
        }
        if buf[cr + 1] != b'\n' {
            return Err(Error::ExpectedCrlf);
        }
        Ok(Some((n, cr + 2)))
    }

    /// The exact path for an argument's `$len` line at `buf[self.pos]`.
    #[cold]
    fn bulk_line(&mut self, buf: &[u8]) -> Result<Option<(u64, usize)>, Error> {
        let start = self.pos;
        let Some(cr) = self.find_cr(buf, start, Error::TooBigBulkCount)? else {
            return Ok(None);
        };
        if buf[start] != b'$' {
            return Err(Error::ExpectedDollar(buf[start]));
        }
        let len = parse_i64(&buf[start + 1..cr]).ok_or(Error::InvalidBulkLength)?;
        if len < 0 || len as u64 > self.limits.max_bulk_len {
            return Err(Error::InvalidBulkLength);
        }
        if self.limits.unauthenticated && len as u64 > Limits::UNAUTHENTICATED_MAX_BULK_LEN {
            return Err(Error::UnauthenticatedBulkLength);
        }
        if buf[cr + 1] != b'\n' {
            return Err(Error::ExpectedCrlf);
        }
        self.scan = 0;
        Ok(Some((len as u64, cr + 2)))
    }

    /// Finds the CR ending the line that starts at `buf[start]`, with a byte
    /// after it, resuming the search at `self.scan`. A NUL byte before it,
    /// or more than `max_inline_len` bytes without it, is `too_big`.
    fn find_cr(
        &mut self,
        buf: &[u8],
        start: usize,
        too_big: Error,
    ) -> Result<Option<usize>, Error> {
        let from = self.scan.max(start);
        let max = self.limits.max_inline_len;
        match memchr::memchr2(b'\r', 0, &buf[from..]) {
            Some(i) if buf[from + i] == 0 => Err(too_big),
            // Judged by where the line ends, not by how much has arrived, so
            // the outcome does not depend on how the bytes were split.
            Some(i) if from + i - start > max => Err(too_big),
            Some(i) => {
                let cr = from + i;
                if cr + 1 < buf.len() {
                    Ok(Some(cr))
                } else {
                    self.scan = cr;
                    self.wants = cr + 2;
                    Ok(None)
                }
            }
            None => {
                if buf.len() - start > max {
                    return Err(too_big);
                }
                self.scan = buf.len();
                self.wants = buf.len() + 1;
                Ok(None)
            }
        }
    }

    /// An inline command at `buf[0]`, searched for its LF from `self.scan`.
    #[cold]
    fn inline(&mut self, buf: &[u8]) -> Result<Option<usize>, Error> {
        let from = self.scan;
        let lf = match memchr::memchr2(b'\n', 0, &buf[from..]) {
            Some(i) if buf[from + i] == 0 => return Err(Error::TooBigInline),
            // A line longer than the limit is too big even when its LF came
            // in the same read (Redis accepts it then): the outcome does
            // not depend on how the bytes were split.
            Some(i) if from + i > self.limits.max_inline_len => return Err(Error::TooBigInline),
            Some(i) => from + i,
            None => {
                if buf.len() > self.limits.max_inline_len {
                    return Err(Error::TooBigInline);
                }
                self.scan = buf.len();
                self.wants = buf.len() + 1;
                return Ok(None);
            }
        };
        let end = if lf > 0 && buf[lf - 1] == b'\r' {
            lf - 1
        } else {
            lf
        };
        split_args(&buf[..end], &mut self.scratch, &mut self.spans)?;
        Ok(Some(lf + 1))
    }
}

/// C's `isspace` in the "C" locale.
#[inline]
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits an inline line (no NUL inside) into arguments exactly as Redis's
/// `sdssplitargs`, unescaped into `out`, their spans into `spans`.
fn split_args(
    line: &[u8],
    out: &mut Vec<u8>,
    spans: &mut Vec<(usize, usize)>,
) -> Result<(), Error> {
    out.clear();
    spans.clear();
    // The C code reads a NUL terminator past the end of the line.
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut p = 0;
    loop {
        while p < line.len() && is_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Ok(());
        }
        let start = out.len();
        let (mut in_dq, mut in_sq) = (false, false);
        loop {
            let c = at(p);
            if in_dq {
                if c == b'\\' && at(p + 1) == b'x' {
                    if let (Some(h), Some(l)) = (hex_value(at(p + 2)), hex_value(at(p + 3))) {
                        out.push(h * 16 + l);
                        p += 4;
                        continue;
                    }
                }
                if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    out.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    // A closing quote must be followed by a space or nothing.
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return Err(Error::UnbalancedQuotes);
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return Err(Error::UnbalancedQuotes);
                } else {
                    out.push(c);
                }
            } else if in_sq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    out.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return Err(Error::UnbalancedQuotes);
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return Err(Error::UnbalancedQuotes);
                } else {
                    out.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        if c != 0 {
                            p += 1;
                        }
                        break;
                    }
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    _ => out.push(c),
                }
            }
            p += 1;
        }
        spans.push((start, out.len()));
    }
}

/// One decoded request: the command's arguments, as slices of the caller's
/// buffer (or, for an inline command, of the decoder's unescaping buffer).
#[derive(Clone, Copy)]
pub struct Request<'a> {
    base: &'a [u8],
    spans: &'a [(usize, usize)],
    consumed: usize,
    inline: bool,
}

impl<'a> Request<'a> {
    /// Number of arguments, the command name included. Zero for an empty
    /// request, which a server skips.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether the request has no arguments (see [`len`](Request::len)).
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Argument `i` (0 is the command name).
    ///
    /// # Panics
    ///
    /// If `i >= self.len()`; see [`get`](Request::get).
    pub fn arg(&self, i: usize) -> &'a [u8] {
        let (s, e) = self.spans[i];
        &self.base[s..e]
    }

    /// Argument `i`, or `None` when `i >= self.len()`.
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        let &(s, e) = self.spans.get(i)?;
        Some(&self.base[s..e])
    }

    /// The arguments in order.
    pub fn args(&self) -> Args<'a> {
        Args {
            base: self.base,
            spans: self.spans.iter(),
        }
    }

    /// How many bytes at the front of the buffer this request used.
    pub fn consumed(&self) -> usize {
        self.consumed
    }

    /// Whether it was an inline command rather than a RESP multibulk.
    pub fn is_inline(&self) -> bool {
        self.inline
    }
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field(
                "args",
                &self
                    .args()
                    .map(|a| a.escape_ascii().to_string())
                    .collect::<Vec<_>>(),
            )
            .field("consumed", &self.consumed)
            .field("inline", &self.inline)
            .finish()
    }
}

/// Iterator over a [`Request`]'s arguments.
#[derive(Clone, Debug)]
pub struct Args<'a> {
    base: &'a [u8],
    spans: std::slice::Iter<'a, (usize, usize)>,
}

impl<'a> Iterator for Args<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let &(s, e) = self.spans.next()?;
        Some(&self.base[s..e])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.spans.size_hint()
    }
}

impl DoubleEndedIterator for Args<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        let &(s, e) = self.spans.next_back()?;
        Some(&self.base[s..e])
    }
}

impl ExactSizeIterator for Args<'_> {}

impl std::iter::FusedIterator for Args<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes every request in `input` fed whole; returns their args.
    fn all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, Error> {
        let mut dec = RequestDecoder::new();
        let mut out = Vec::new();
        let mut used = 0;
        while let Some(req) = dec.decode(&input[used..])? {
            used += req.consumed();
            out.push(req.args().map(<[u8]>::to_vec).collect());
        }
        assert_eq!(used, input.len(), "trailing bytes left");
        Ok(out)
    }

    fn one(input: &[u8]) -> Result<Option<Vec<Vec<u8>>>, Error> {
        let mut dec = RequestDecoder::new();
        Ok(dec
            .decode(input)?
            .map(|r| r.args().map(<[u8]>::to_vec).collect()))
    }

    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn decodes_a_multibulk_request() {
        let reqs = all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n").unwrap();
        assert_eq!(reqs, [v(&["SET", "k", ""])]);
    }

    #[test]
    fn decodes_pipelined_requests() {
        let reqs = all(b"*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$1\r\n\0\r\n").unwrap();
        assert_eq!(
            reqs,
            [
                v(&["PING"]),
                v(&["PING"]),
                vec![b"ECHO".to_vec(), b"\0".to_vec()]
            ]
        );
    }

    #[test]
    fn empty_requests_have_no_args() {
        let reqs = all(b"*0\r\n*-1\r\n*-10\r\n\r\n\n   \r\n").unwrap();
        assert_eq!(reqs.len(), 6);
        assert!(reqs.iter().all(Vec::is_empty));
    }

    #[test]
    fn request_accessors() {
        let mut dec = RequestDecoder::new();
        let req = dec
            .decode(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nrest")
            .unwrap()
            .unwrap();
        assert_eq!(req.len(), 2);
        assert!(!req.is_empty() && !req.is_inline());
        assert_eq!(req.consumed(), 20);
        assert_eq!(req.get(1), Some(&b"k"[..]));
        assert_eq!(req.get(2), None);
        assert_eq!(req.args().rev().collect::<Vec<_>>(), [&b"k"[..], b"GET"]);
        assert_eq!(req.args().len(), 2);
        assert_eq!(
            format!("{req:?}"),
            r#"Request { args: ["GET", "k"], consumed: 20, inline: false }"#
        );
    }

    #[test]
    #[should_panic]
    fn arg_out_of_range_panics() {
        let mut dec = RequestDecoder::new();
        let req = dec.decode(b"PING\n").unwrap().unwrap();
        let _ = req.arg(1);
    }

    #[test]
    fn resumes_after_every_split_point() {
        let input = b"*3\r\n$3\r\nSET\r\n$10\r\nkey\r\n:0001\r\n$2\r\nvv\r\nSET a \"b c\"\r\n*1\r\n$4\r\nPING\r\n";
        let whole = all(input).unwrap();
        for split in 0..input.len() {
            let mut dec = RequestDecoder::new();
            let mut got = Vec::new();
            let mut start = 0;
            let mut end = split;
            loop {
                match dec.decode(&input[start..end]).unwrap() {
                    Some(req) => {
                        start += req.consumed();
                        got.push(req.args().map(<[u8]>::to_vec).collect::<Vec<_>>());
                    }
                    None if end == input.len() => break,
                    None => end = input.len(),
                }
            }
            assert_eq!(got, whole, "split at {split}");
        }
    }

    #[test]
    fn resumes_one_byte_at_a_time() {
        let input = b"*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\nECHO 'a b'\n";
        let mut dec = RequestDecoder::new();
        let mut got = Vec::new();
        let (mut start, mut end) = (0, 0);
        while end < input.len() {
            end += 1;
            if let Some(req) = dec.decode(&input[start..end]).unwrap() {
                start += req.consumed();
                got.push(req.args().map(<[u8]>::to_vec).collect::<Vec<_>>());
            }
        }
        assert_eq!(got, [v(&["ECHO", "hello"]), v(&["ECHO", "a b"])]);
    }

    #[test]
    fn wants_is_exact_inside_a_bulk() {
        let mut dec = RequestDecoder::new();
        assert!(dec
            .decode(b"*2\r\n$3\r\nGET\r\n$1000\r\n")
            .unwrap()
            .is_none());
        assert_eq!(dec.wants(), 20 + 1000 + 2);
        assert!(dec
            .decode(b"*2\r\n$3\r\nGET\r\n$1000\r\nxx")
            .unwrap()
            .is_none());
        assert_eq!(dec.wants(), 20 + 1000 + 2);
    }

    #[test]
    fn huge_claimed_lengths_allocate_nothing() {
        let mut dec = RequestDecoder::new();
        assert!(dec
            .decode(b"*2147483647\r\n$536870912\r\nabc")
            .unwrap()
            .is_none());
        assert!(dec.spans.capacity() <= SPANS_RESERVE as usize);
        assert_eq!(dec.wants(), 13 + 12 + 536870912 + 2);
    }

    #[test]
    fn limitless_lengths_wait_without_overflow() {
        let limits = Limits {
            max_bulk_len: u64::MAX,
            ..Limits::default()
        };
        let mut dec = RequestDecoder::with_limits(limits);
        assert!(dec
            .decode(b"*1\r\n$9223372036854775807\r\nab")
            .unwrap()
            .is_none());
        assert!(dec.wants() > 1 << 62);
        let mut dec = crate::Decoder::with_limits(limits);
        let mut buf = bytes::BytesMut::from(&b"$9223372036854775807\r\nab"[..]);
        assert_eq!(dec.decode(&mut buf), Ok(None));
    }

    // ---- Redis's own protocol tests (tests/unit/protocol.tcl) and more.

    #[test]
    fn rejects_out_of_range_multibulk_length() {
        assert_eq!(one(b"*3000000000\r\n"), Err(Error::InvalidMultibulkLength));
        assert_eq!(one(b"*2147483648\r\n"), Err(Error::InvalidMultibulkLength));
        assert_eq!(
            one(b"*99999999999999999999\r\n"),
            Err(Error::InvalidMultibulkLength)
        );
        assert_eq!(one(b"*2147483647\r\n"), Ok(None));
    }

    #[test]
    fn rejects_non_strict_multibulk_length() {
        for bad in [
            &b"*+1\r\n"[..],
            b"*01\r\n",
            b"* 1\r\n",
            b"*1 \r\n",
            b"*x\r\n",
            b"*\r\n",
            b"*-0\r\n",
            b"*1x\r\n",
        ] {
            assert_eq!(
                one(bad),
                Err(Error::InvalidMultibulkLength),
                "{}",
                bad.escape_ascii()
            );
        }
    }

    #[test]
    fn rejects_wrong_multibulk_payload_header() {
        assert_eq!(
            one(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"),
            Err(Error::ExpectedDollar(b'f'))
        );
        assert_eq!(one(b"*1\r\nfoo\r\n"), Err(Error::ExpectedDollar(b'f')));
        assert_eq!(one(b"*1\r\n\r\n"), Err(Error::ExpectedDollar(b'\r')));
        assert_eq!(one(b"*1\r\n:1\r\n"), Err(Error::ExpectedDollar(b':')));
    }

    #[test]
    fn expected_dollar_waits_for_the_line_end_as_redis() {
        assert_eq!(one(b"*1\r\nfoo"), Ok(None));
    }

    #[test]
    fn rejects_negative_bulk_len() {
        assert_eq!(
            one(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n"),
            Err(Error::InvalidBulkLength)
        );
        assert_eq!(one(b"*1\r\n$-1\r\n"), Err(Error::InvalidBulkLength));
    }

    #[test]
    fn rejects_out_of_range_bulk_len() {
        assert_eq!(
            one(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n"),
            Err(Error::InvalidBulkLength)
        );
        assert_eq!(one(b"*1\r\n$536870913\r\n"), Err(Error::InvalidBulkLength));
        assert_eq!(one(b"*1\r\n$536870912\r\n"), Ok(None));
        assert_eq!(
            one(b"*1\r\n$9223372036854775808\r\n"),
            Err(Error::InvalidBulkLength)
        );
    }

    #[test]
    fn rejects_non_number_bulk_len() {
        for bad in [
            &b"*1\r\n$blabla\r\n"[..],
            b"*1\r\n$+1\r\n",
            b"*1\r\n$01\r\n",
            b"*1\r\n$ 1\r\n",
            b"*1\r\n$\r\n",
        ] {
            assert_eq!(
                one(bad),
                Err(Error::InvalidBulkLength),
                "{}",
                bad.escape_ascii()
            );
        }
    }

    #[test]
    fn rejects_missing_cr_or_lf() {
        assert_eq!(
            one(b"*1\n$4\r\nPING\r\n"),
            Err(Error::InvalidMultibulkLength)
        );
        assert_eq!(one(b"*1\r$4\r\nPING\r\n"), Err(Error::ExpectedCrlf));
        assert_eq!(one(b"*1\r\n$4\r$PING\r\n"), Err(Error::ExpectedCrlf));
        assert_eq!(one(b"*1\r\n$4\rPING\r\n"), Err(Error::ExpectedCrlf));
        assert_eq!(one(b"*1\r\n$4\r\nPINGxx"), Err(Error::ExpectedCrlf));
        assert_eq!(one(b"*1\r\n$4\r\nPING\rx"), Err(Error::ExpectedCrlf));
        assert_eq!(one(b"*1\r\n$4\r\nPING\n\r"), Err(Error::ExpectedCrlf));
    }

    #[test]
    fn nul_bytes_in_lines_are_redis_desync_errors() {
        // protocol.tcl "Protocol desync regression test": "\x00", "*\x00", "$\x00".
        assert_eq!(one(b"\x00"), Err(Error::TooBigInline));
        assert_eq!(one(b"*\x00"), Err(Error::TooBigMultibulkCount));
        assert_eq!(one(b"$\x00"), Err(Error::TooBigInline));
        assert_eq!(one(b"PING\x00\r\n"), Err(Error::TooBigInline));
        assert_eq!(one(b"*1\r\n$\x00"), Err(Error::TooBigBulkCount));
        // In a payload a NUL is data.
        assert_eq!(one(b"*1\r\n$1\r\n\x00\r\n"), Ok(Some(vec![vec![0]])));
    }

    #[test]
    fn lines_without_end_are_too_big_past_the_inline_limit() {
        let limits = Limits {
            max_inline_len: 16,
            ..Limits::default()
        };
        // 17 bytes from the start of the line, one past the limit.
        let cases = [
            (b"PINGPINGPINGPINGP".to_vec(), Error::TooBigInline),
            (b"*111111111111111x".to_vec(), Error::TooBigMultibulkCount),
            (b"*1\r\n$111111111111111x".to_vec(), Error::TooBigBulkCount),
        ];
        for (input, err) in cases {
            let input = &input[..];
            let mut dec = RequestDecoder::with_limits(limits);
            assert_eq!(
                dec.decode(&input[..input.len() - 1])
                    .unwrap()
                    .map(|r| r.len()),
                None
            );
            assert_eq!(dec.decode(input).unwrap_err(), err);
        }
    }

    #[test]
    fn line_limits_do_not_depend_on_how_bytes_arrive() {
        let limits = Limits {
            max_inline_len: 16,
            ..Limits::default()
        };
        let long_inline = [&b"ECHO "[..], &[b'x'; 20], b"\r\n"].concat();
        let long_count = [&b"*"[..], &[b'1'; 20], b"\r\n"].concat();
        for (input, err) in [
            (long_inline, Error::TooBigInline),
            (long_count, Error::TooBigMultibulkCount),
        ] {
            let mut dec = RequestDecoder::with_limits(limits);
            assert_eq!(dec.decode(&input).unwrap_err(), err);
        }
        let mut dec = RequestDecoder::with_limits(limits);
        let exact = [&b"ECHO "[..], &[b'x'; 11], b"\n"].concat();
        assert_eq!(dec.decode(&exact).unwrap().unwrap().len(), 2);
    }

    #[test]
    fn errors_are_sticky_until_reset() {
        let mut dec = RequestDecoder::new();
        assert_eq!(
            dec.decode(b"*x\r\n").unwrap_err(),
            Error::InvalidMultibulkLength
        );
        assert_eq!(
            dec.decode(b"PING\r\n").unwrap_err(),
            Error::InvalidMultibulkLength
        );
        dec.reset();
        assert_eq!(dec.decode(b"PING\r\n").unwrap().unwrap().arg(0), b"PING");
    }

    #[test]
    fn unauthenticated_limits() {
        let limits = Limits {
            unauthenticated: true,
            ..Limits::default()
        };
        let mut dec = RequestDecoder::with_limits(limits);
        assert_eq!(
            dec.decode(b"*11\r\n").unwrap_err(),
            Error::UnauthenticatedMultibulkLength
        );
        let mut dec = RequestDecoder::with_limits(limits);
        assert!(dec.decode(b"*10\r\n").unwrap().is_none());
        let mut dec = RequestDecoder::with_limits(limits);
        assert_eq!(
            dec.decode(b"*1\r\n$16385\r\n").unwrap_err(),
            Error::UnauthenticatedBulkLength
        );
        let mut dec = RequestDecoder::with_limits(limits);
        assert!(dec.decode(b"*1\r\n$16384\r\n").unwrap().is_none());
        let mut dec = RequestDecoder::with_limits(limits);
        assert_eq!(
            dec.decode(b"*3000000000\r\n").unwrap_err(),
            Error::InvalidMultibulkLength
        );
        dec.reset();
        dec.set_limits(Limits::default());
        assert!(dec.decode(b"*11\r\n").unwrap().is_none());
        assert_eq!(dec.limits(), &Limits::default());
    }

    // ---- Inline commands: Redis's sdssplitargs.

    #[test]
    fn splits_inline_on_whitespace() {
        assert_eq!(one(b"SET  a\tb \r\n"), Ok(Some(v(&["SET", "a", "b"]))));
        assert_eq!(one(b"  PING\n"), Ok(Some(v(&["PING"]))));
        // Only the CR right before LF is dropped; another CR separates.
        assert_eq!(one(b"a\rb\n"), Ok(Some(v(&["a", "b"]))));
        // \v and \f separate arguments only between them, like C's isspace.
        assert_eq!(one(b"a\x0bb \x0bc\n"), Ok(Some(v(&["a\x0bb", "c"]))));
    }

    #[test]
    fn unquotes_inline_arguments() {
        assert_eq!(one(b"SET \"a b\" 1\r\n"), Ok(Some(v(&["SET", "a b", "1"]))));
        assert_eq!(
            one(b"\"\\n\\r\\t\\b\\a\\\\\\\"\\x41\\x4a\\xzz\\q\"\n"),
            Ok(Some(vec![b"\n\r\t\x08\x07\\\"AJxzzq".to_vec()]))
        );
        assert_eq!(one(b"'a\\'b' 'c\\nd'\n"), Ok(Some(v(&["a'b", "c\\nd"]))));
        assert_eq!(one(b"\"\" ''\n"), Ok(Some(v(&["", ""]))));
        // A quote in the middle of a word opens a quoted part of it.
        assert_eq!(one(b"ab\"c d\"\n"), Ok(Some(v(&["abc d"]))));
        assert_eq!(one(b"\"\\xff\"\n"), Ok(Some(vec![vec![0xff]])));
    }

    #[test]
    fn rejects_unbalanced_quotes() {
        // protocol.tcl: set """test-key""" test-value
        assert_eq!(
            one(b"set \"\"\"test-key\"\"\" test-value\r\n"),
            Err(Error::UnbalancedQuotes)
        );
        for bad in [
            &b"\"abc\n"[..],
            b"'abc\n",
            b"\"a\"b\n",
            b"'a'b\n",
            b"\"a\\\"\n",
            b"\"\\\n",
        ] {
            assert_eq!(
                one(bad),
                Err(Error::UnbalancedQuotes),
                "{}",
                bad.escape_ascii()
            );
        }
    }

    #[test]
    fn inline_request_reports_its_length() {
        let mut dec = RequestDecoder::new();
        let req = dec.decode(b"GET k\r\nGET").unwrap().unwrap();
        assert!(req.is_inline());
        assert_eq!(req.consumed(), 7);
        let req = dec.decode(b"GET k\nGET").unwrap().unwrap();
        assert_eq!(req.consumed(), 6);
    }
}
