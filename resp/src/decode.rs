//! [`Decoder`]: any RESP2 or RESP3 value, incrementally (the client's side).

use bytes::{Buf, Bytes, BytesMut};

use crate::number::{fast_i64, fast_len, parse_f64, parse_i64};
use crate::{Error, Frame, Limits};

/// One parsed value, with byte ranges relative to the start of the frame.
/// The parse pass writes these; the build pass turns them into [`Frame`]s
/// once the whole frame has arrived and its bytes can be frozen.
#[derive(Clone, Copy, Debug)]
enum Node {
    Simple(usize, usize),
    Error(usize, usize),
    Integer(i64),
    Bulk(usize, usize),
    Null,
    NullBulk,
    NullArray,
    Array(usize),
    Map(usize),
    Set(usize),
    Push(usize),
    Attribute(usize),
    Double(f64),
    BigNumber(usize, usize),
    Boolean(bool),
    /// The whole payload, `fmt:text`.
    Verbatim(usize, usize),
    BlobError(usize, usize),
}

/// The resumable parse pass: explicit state, no recursion.
#[derive(Debug, Default)]
struct Parser {
    /// Bytes of the current frame parsed so far.
    pos: usize,
    /// Where the search for the CR of the line at `pos` resumes (0: not
    /// searched yet).
    scan: usize,
    /// A blob (`$`, `!`, `=`) whose length line was read: its type byte and
    /// payload length; the payload starts at `pos`.
    blob: Option<(u8, usize)>,
    /// For each open aggregate, the values it still needs.
    open: Vec<u64>,
    /// The values parsed so far, in wire order.
    tape: Vec<Node>,
}

/// What a line holds, for its length limit.
#[derive(Clone, Copy)]
enum LineKind {
    Text,
    Number,
}

impl Parser {
    fn clear(&mut self) {
        self.pos = 0;
        self.scan = 0;
        self.blob = None;
        self.open.clear();
        self.tape.clear();
    }

    /// Parses on from `self.pos`. `Ok(Some(n))`: a frame of `n` bytes is
    /// complete and described by `self.tape`.
    fn parse(&mut self, buf: &[u8], limits: &Limits) -> Result<Option<usize>, Error> {
        loop {
            if let Some((ty, len)) = self.blob {
                let start = self.pos;
                let end = start.saturating_add(len);
                if buf.len() < end.saturating_add(2) {
                    return Ok(None);
                }
                if buf[end] != b'\r' || buf[end + 1] != b'\n' {
                    return Err(Error::ExpectedCrlf);
                }
                let node = match ty {
                    b'$' => Node::Bulk(start, end),
                    b'!' => Node::BlobError(start, end),
                    _ => {
                        if len < 4 || buf[start + 3] != b':' {
                            return Err(Error::InvalidVerbatim);
                        }
                        Node::Verbatim(start, end)
                    }
                };
                self.blob = None;
                self.pos = end + 2;
                self.tape.push(node);
                if self.value_done() {
                    return Ok(Some(self.pos));
                }
                continue;
            }
            let pos = self.pos;
            let Some(&ty) = buf.get(pos) else {
                return Ok(None);
            };
            match ty {
                b'$' | b'!' | b'=' => {
                    let fast = if self.scan == 0 {
                        fast_len(buf, pos + 1)
                    } else {
                        None
                    };
                    let (len, next) = match fast {
                        Some((len, next)) => (len as i64, next),
                        None => match self.number_line(buf, limits, Error::InvalidBulkLength)? {
                            Some(x) => x,
                            None => return Ok(None),
                        },
                    };
                    self.pos = next;
                    if len == -1 && ty == b'$' {
                        self.tape.push(Node::NullBulk);
                        if self.value_done() {
                            return Ok(Some(next));
                        }
                        continue;
                    }
                    if len < 0 || len as u64 > limits.max_bulk_len {
                        return Err(Error::InvalidBulkLength);
                    }
                    let len = usize::try_from(len).map_err(|_| Error::InvalidBulkLength)?;
                    self.blob = Some((ty, len));
                }
                b'*' | b'%' | b'~' | b'>' | b'|' => {
                    let fast = if self.scan == 0 {
                        fast_len(buf, pos + 1)
                    } else {
                        None
                    };
                    let (n, next) = match fast {
                        Some((n, next)) => (n as i64, next),
                        None => match self.number_line(buf, limits, Error::InvalidLength)? {
                            Some(x) => x,
                            None => return Ok(None),
                        },
                    };
                    self.pos = next;
                    if n == -1 && ty == b'*' {
                        self.tape.push(Node::NullArray);
                        if self.value_done() {
                            return Ok(Some(next));
                        }
                        continue;
                    }
                    if n < 0 || n as u64 > limits.max_multibulk_len {
                        return Err(Error::InvalidLength);
                    }
                    let n = n as u64;
                    // Values this aggregate needs.
                    let need = match ty {
                        b'%' => n * 2,
                        b'|' => n * 2 + 1,
                        _ => n,
                    };
                    let count = usize::try_from(n).map_err(|_| Error::InvalidLength)?;
                    self.tape.push(match ty {
                        b'*' => Node::Array(count),
                        b'%' => Node::Map(count),
                        b'~' => Node::Set(count),
                        b'>' => Node::Push(count),
                        _ => Node::Attribute(count),
                    });
                    if need == 0 {
                        if self.value_done() {
                            return Ok(Some(next));
                        }
                        continue;
                    }
                    if self.open.len() >= limits.max_depth {
                        return Err(Error::TooDeep);
                    }
                    self.open.push(need);
                }
                b':' => {
                    let fast = if self.scan == 0 {
                        fast_i64(buf, pos + 1)
                    } else {
                        None
                    };
                    let (n, next) = match fast {
                        Some(x) => x,
                        None => match self.number_line(buf, limits, Error::InvalidInteger)? {
                            Some(x) => x,
                            None => return Ok(None),
                        },
                    };
                    self.pos = next;
                    self.tape.push(Node::Integer(n));
                    if self.value_done() {
                        return Ok(Some(next));
                    }
                }
                b'+' | b'-' | b'(' | b',' | b'#' | b'_' => {
                    let kind = match ty {
                        b'+' | b'-' | b'(' => LineKind::Text,
                        _ => LineKind::Number,
                    };
                    let Some(cr) = self.line(buf, limits, kind)? else {
                        return Ok(None);
                    };
                    let (s, e) = (pos + 1, cr);
                    let text = &buf[s..e];
                    let node = match ty {
                        b'+' => Node::Simple(s, e),
                        b'-' => Node::Error(s, e),
                        b'(' => {
                            let digits = text.strip_prefix(b"-").unwrap_or(text);
                            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                                return Err(Error::InvalidBigNumber);
                            }
                            Node::BigNumber(s, e)
                        }
                        b',' => Node::Double(parse_f64(text).ok_or(Error::InvalidDouble)?),
                        b'#' => match text {
                            b"t" => Node::Boolean(true),
                            b"f" => Node::Boolean(false),
                            _ => return Err(Error::InvalidBoolean),
                        },
                        _ => {
                            if !text.is_empty() {
                                return Err(Error::InvalidNull);
                            }
                            Node::Null
                        }
                    };
                    self.pos = cr + 2;
                    self.tape.push(node);
                    if self.value_done() {
                        return Ok(Some(self.pos));
                    }
                }
                other => return Err(Error::InvalidTypeByte(other)),
            }
        }
    }

    /// A value was completed: count it against the open aggregates, closing
    /// those it fills. Returns whether the whole frame is complete.
    #[inline]
    fn value_done(&mut self) -> bool {
        while let Some(top) = self.open.last_mut() {
            *top -= 1;
            if *top > 0 {
                return false;
            }
            self.open.pop();
        }
        true
    }

    /// The exact path for a numeric line at `self.pos` (after the type
    /// byte): the value and the index after its LF, or `None` when
    /// incomplete.
    #[cold]
    fn number_line(
        &mut self,
        buf: &[u8],
        limits: &Limits,
        invalid: Error,
    ) -> Result<Option<(i64, usize)>, Error> {
        let start = self.pos + 1;
        let Some(cr) = self.line(buf, limits, LineKind::Number)? else {
            return Ok(None);
        };
        let n = parse_i64(&buf[start..cr]).ok_or(invalid)?;
        Ok(Some((n, cr + 2)))
    }

    /// Finds the CRLF ending the line at `self.pos`, resuming the search at
    /// `self.scan`; returns the index of the CR.
    fn line(
        &mut self,
        buf: &[u8],
        limits: &Limits,
        kind: LineKind,
    ) -> Result<Option<usize>, Error> {
        let start = self.pos + 1;
        let from = self.scan.max(start);
        let limit = match kind {
            LineKind::Text => usize::try_from(limits.max_bulk_len).unwrap_or(usize::MAX),
            LineKind::Number => limits.max_inline_len,
        };
        match memchr::memchr2(b'\r', b'\n', &buf[from..]) {
            // Judged by where the line ends, so that the outcome does not
            // depend on how the bytes were split.
            Some(i) if from + i - start > limit => Err(Error::LineTooLong),
            // No line holds a LF: it would be a line end without its CR.
            Some(i) if buf[from + i] == b'\n' => Err(Error::ExpectedCrlf),
            Some(i) => {
                let cr = from + i;
                if cr + 1 >= buf.len() {
                    self.scan = cr;
                    return Ok(None);
                }
                if buf[cr + 1] != b'\n' {
                    return Err(Error::ExpectedCrlf);
                }
                self.scan = 0;
                Ok(Some(cr))
            }
            None => {
                if buf.len() - start > limit {
                    return Err(Error::LineTooLong);
                }
                self.scan = buf.len();
                Ok(None)
            }
        }
    }
}

/// An aggregate being assembled by the build pass.
enum Builder {
    /// Array, set or push: `n` elements.
    Seq { ty: u8, items: Vec<Frame>, n: usize },
    /// Map or attribute: `n` pairs (then, for an attribute, one value).
    Pairs {
        attr: bool,
        pairs: Vec<(Frame, Frame)>,
        key: Option<Frame>,
        n: usize,
    },
}

impl Builder {
    /// Adds a child; returns the finished aggregate when that was its last.
    #[inline]
    fn push(&mut self, f: Frame) -> Option<Frame> {
        match self {
            Builder::Seq { ty, items, n } => {
                items.push(f);
                if items.len() < *n {
                    return None;
                }
                let items = std::mem::take(items);
                Some(match ty {
                    b'*' => Frame::Array(items),
                    b'~' => Frame::Set(items),
                    _ => Frame::Push(items),
                })
            }
            Builder::Pairs {
                attr,
                pairs,
                key,
                n,
            } => {
                if pairs.len() == *n {
                    // All pairs read: this is the value an attribute annotates.
                    return Some(Frame::Attribute {
                        attrs: std::mem::take(pairs),
                        value: Box::new(f),
                    });
                }
                match key.take() {
                    None => {
                        *key = Some(f);
                        None
                    }
                    Some(k) => {
                        pairs.push((k, f));
                        if pairs.len() == *n && !*attr {
                            Some(Frame::Map(std::mem::take(pairs)))
                        } else {
                            None
                        }
                    }
                }
            }
        }
    }
}

/// Builds the frame described by a complete tape; `bytes` holds the frame's
/// bytes, which byte payloads share.
fn build(tape: &[Node], bytes: Bytes, stack: &mut Vec<Builder>) -> Frame {
    // A lone value (the common reply) takes the frozen bytes over instead
    // of sharing them: no reference count to bump.
    if let [node] = *tape {
        let (s, e) = match node {
            Node::Bulk(s, e) | Node::Simple(s, e) | Node::Error(s, e) => (s, e),
            _ => (0, 0),
        };
        if e > 0 {
            let mut b = bytes;
            b.truncate(e);
            b.advance(s);
            return match node {
                Node::Bulk(..) => Frame::Bulk(b),
                Node::Simple(..) => Frame::Simple(b),
                _ => Frame::Error(b),
            };
        }
    }
    let bytes = &bytes;
    stack.clear();
    for node in tape {
        let mut value = match *node {
            Node::Simple(s, e) => Frame::Simple(bytes.slice(s..e)),
            Node::Error(s, e) => Frame::Error(bytes.slice(s..e)),
            Node::Integer(n) => Frame::Integer(n),
            Node::Bulk(s, e) => Frame::Bulk(bytes.slice(s..e)),
            Node::Null => Frame::Null,
            Node::NullBulk => Frame::NullBulk,
            Node::NullArray => Frame::NullArray,
            Node::Double(d) => Frame::Double(d),
            Node::BigNumber(s, e) => Frame::BigNumber(bytes.slice(s..e)),
            Node::Boolean(b) => Frame::Boolean(b),
            Node::Verbatim(s, e) => Frame::Verbatim {
                format: [bytes[s], bytes[s + 1], bytes[s + 2]],
                text: bytes.slice(s + 4..e),
            },
            Node::BlobError(s, e) => Frame::BlobError(bytes.slice(s..e)),
            Node::Array(0) => Frame::Array(Vec::new()),
            Node::Set(0) => Frame::Set(Vec::new()),
            Node::Push(0) => Frame::Push(Vec::new()),
            Node::Map(0) => Frame::Map(Vec::new()),
            // The tape is complete, so `n` children follow: `n` is real.
            Node::Array(n) | Node::Set(n) | Node::Push(n) => {
                let ty = match node {
                    Node::Array(_) => b'*',
                    Node::Set(_) => b'~',
                    _ => b'>',
                };
                stack.push(Builder::Seq {
                    ty,
                    items: Vec::with_capacity(n),
                    n,
                });
                continue;
            }
            Node::Map(n) | Node::Attribute(n) => {
                let attr = matches!(node, Node::Attribute(_));
                stack.push(Builder::Pairs {
                    attr,
                    pairs: Vec::with_capacity(n),
                    key: None,
                    n,
                });
                continue;
            }
        };
        loop {
            let Some(top) = stack.last_mut() else {
                return value;
            };
            match top.push(value) {
                Some(done) => {
                    stack.pop();
                    value = done;
                }
                None => break,
            }
        }
    }
    // Unreachable for a tape the parser completed; never panic on input.
    debug_assert!(false, "incomplete tape");
    Frame::Null
}

/// Decodes any RESP2 or RESP3 value, incrementally: the client's side.
///
/// Byte payloads are zero-copy: a complete frame's bytes are split off the
/// front of the caller's [`BytesMut`] and frozen, and every bulk, simple
/// string or error in the frame is a slice of them.
///
/// # Contract
///
/// * `Ok(Some(frame))`: the frame's bytes were removed from the front of
///   `buf`.
/// * `Ok(None)`: incomplete; nothing was removed. Append more bytes to
///   `buf` and call again: parsing resumes where it stopped, so a big or
///   slowly arriving reply costs one pass over its bytes, not one per read.
///   Between calls the caller may only append to `buf`.
/// * `Err(e)`: malformed input (see [`Error`]). Sticky until
///   [`reset`](Decoder::reset); the connection is out of sync.
///
/// Aggregates nest at most [`Limits::max_depth`] deep; the decoder keeps an
/// explicit stack, never recursion.
///
/// # Example
///
/// ```
/// use soquete_resp::{BytesMut, Decoder, Frame};
///
/// let mut dec = Decoder::new();
/// let mut buf = BytesMut::from(&b"*2\r\n$5\r\nhello\r\n:4"[..]);
/// assert_eq!(dec.decode(&mut buf).unwrap(), None);
/// buf.extend_from_slice(b"2\r\n+OK\r\n");
///
/// let f = dec.decode(&mut buf).unwrap().unwrap();
/// assert_eq!(f, Frame::Array(vec![Frame::Bulk("hello".into()), Frame::Integer(42)]));
/// assert_eq!(dec.decode(&mut buf).unwrap(), Some(Frame::Simple("OK".into())));
/// assert!(buf.is_empty());
/// ```
#[derive(Debug, Default)]
pub struct Decoder {
    limits: Limits,
    parser: Parser,
    error: Option<Error>,
    stack: BuildStack,
}

/// Reused build stack (a newtype so `Decoder` can derive `Debug`).
#[derive(Default)]
struct BuildStack(Vec<Builder>);

impl std::fmt::Debug for BuildStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BuildStack")
    }
}

impl Decoder {
    /// A decoder with [`Limits::default`].
    pub fn new() -> Self {
        Decoder::default()
    }

    /// A decoder with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        Decoder {
            limits,
            ..Decoder::default()
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Decodes the next complete frame from the front of `buf`. See the
    /// [type docs](Decoder) for the contract.
    #[inline]
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, Error> {
        // Fast path: a whole bulk string at the front of a fresh frame (the
        // most common reply) is split off and trimmed, nothing else. Only
        // when no earlier call left an error or a line search behind.
        if self.error.is_none() && self.parser.pos == 0 && self.parser.scan == 0 {
            if let Some(bytes) = lone_bulk(buf, self.limits.max_bulk_len) {
                return Ok(Some(Frame::Bulk(bytes)));
            }
        }
        self.decode_general(buf)
    }

    #[inline(never)]
    fn decode_general(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        match self.parser.parse(buf, &self.limits) {
            Ok(Some(n)) => {
                let bytes = buf.split_to(n).freeze();
                let frame = build(&self.parser.tape, bytes, &mut self.stack.0);
                self.parser.clear();
                Ok(Some(frame))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                self.error = Some(e.clone());
                Err(e)
            }
        }
    }

    /// Forgets the frame in progress and any sticky error.
    pub fn reset(&mut self) {
        self.parser.clear();
        self.error = None;
    }
}

/// A whole `$len` bulk string with its CRLF at the front of `buf`, split
/// off; `None` for anything else (the general path decides).
#[inline(always)]
fn lone_bulk(buf: &mut BytesMut, max_bulk_len: u64) -> Option<Bytes> {
    if buf.first() != Some(&b'$') {
        return None;
    }
    let (len, start) = fast_len(buf, 1)?;
    if len > max_bulk_len || len >= (buf.len() - start) as u64 {
        return None;
    }
    let end = start + len as usize;
    if buf.get(end..end + 2) != Some(&b"\r\n"[..]) {
        return None;
    }
    let mut bytes = buf.split_to(end + 2).freeze();
    bytes.truncate(end);
    bytes.advance(start);
    Some(bytes)
}

/// Decodes one frame from the front of a slice, with [`Limits::default`]:
/// the frame and how many bytes it used, or `None` if `buf` holds only part
/// of a frame. Byte payloads are copied (once, into one buffer that they
/// share).
///
/// ```
/// use soquete_resp::{decode_slice, Frame};
///
/// let (f, n) = decode_slice(b"#t\r\nrest").unwrap().unwrap();
/// assert_eq!((f, n), (Frame::Boolean(true), 4));
/// assert_eq!(decode_slice(b"$5\r\nhel").unwrap(), None);
/// ```
pub fn decode_slice(buf: &[u8]) -> Result<Option<(Frame, usize)>, Error> {
    let mut parser = Parser::default();
    match parser.parse(buf, &Limits::default())? {
        Some(n) => {
            let bytes = Bytes::copy_from_slice(&buf[..n]);
            Ok(Some((build(&parser.tape, bytes, &mut Vec::new()), n)))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    fn one(input: &[u8]) -> Result<Option<Frame>, Error> {
        let mut dec = Decoder::new();
        let mut buf = BytesMut::from(input);
        let f = dec.decode(&mut buf)?;
        if f.is_some() {
            assert!(buf.is_empty(), "left {:?}", &buf[..]);
        }
        Ok(f)
    }

    #[test]
    fn decodes_every_type() {
        let cases: Vec<(&[u8], Frame)> = vec![
            (b"+OK\r\n", Frame::Simple(b("OK"))),
            (b"+\r\n", Frame::Simple(b(""))),
            (b"-ERR x\r\n", Frame::Error(b("ERR x"))),
            (b":0\r\n", Frame::Integer(0)),
            (b":-9223372036854775808\r\n", Frame::Integer(i64::MIN)),
            (b":9223372036854775807\r\n", Frame::Integer(i64::MAX)),
            (b"$3\r\nfoo\r\n", Frame::Bulk(b("foo"))),
            (b"$0\r\n\r\n", Frame::Bulk(b(""))),
            (b"$-1\r\n", Frame::NullBulk),
            (b"*-1\r\n", Frame::NullArray),
            (b"*0\r\n", Frame::Array(vec![])),
            (b"_\r\n", Frame::Null),
            (b",1.5\r\n", Frame::Double(1.5)),
            (b",inf\r\n", Frame::Double(f64::INFINITY)),
            (b",-inf\r\n", Frame::Double(f64::NEG_INFINITY)),
            (b",nan\r\n", Frame::Double(f64::NAN)),
            (b",1.0000000000000001e+300\r\n", Frame::Double(1e300)),
            (
                b"(-3492890328409238509324850943850943825024385\r\n",
                Frame::BigNumber(b("-3492890328409238509324850943850943825024385")),
            ),
            (b"#t\r\n", Frame::Boolean(true)),
            (b"#f\r\n", Frame::Boolean(false)),
            (
                b"=15\r\ntxt:Some string\r\n",
                Frame::Verbatim {
                    format: *b"txt",
                    text: b("Some string"),
                },
            ),
            (
                b"=4\r\nmkd:\r\n",
                Frame::Verbatim {
                    format: *b"mkd",
                    text: b(""),
                },
            ),
            (
                b"!21\r\nSYNTAX invalid syntax\r\n",
                Frame::BlobError(b("SYNTAX invalid syntax")),
            ),
            (
                b"~2\r\n:1\r\n:2\r\n",
                Frame::Set(vec![Frame::Integer(1), Frame::Integer(2)]),
            ),
            (
                b">2\r\n+message\r\n$1\r\nx\r\n",
                Frame::Push(vec![Frame::Simple(b("message")), Frame::Bulk(b("x"))]),
            ),
            (b"%0\r\n", Frame::Map(vec![])),
            (
                b"%2\r\n+a\r\n:1\r\n+b\r\n%1\r\n+c\r\n*1\r\n_\r\n",
                Frame::Map(vec![
                    (Frame::Simple(b("a")), Frame::Integer(1)),
                    (
                        Frame::Simple(b("b")),
                        Frame::Map(vec![(
                            Frame::Simple(b("c")),
                            Frame::Array(vec![Frame::Null]),
                        )]),
                    ),
                ]),
            ),
            (
                b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.1923\r\n*1\r\n:2039123\r\n",
                Frame::Attribute {
                    attrs: vec![(
                        Frame::Simple(b("key-popularity")),
                        Frame::Map(vec![(Frame::Bulk(b("a")), Frame::Double(0.1923))]),
                    )],
                    value: Box::new(Frame::Array(vec![Frame::Integer(2039123)])),
                },
            ),
            (
                b"|0\r\n:1\r\n",
                Frame::Attribute {
                    attrs: vec![],
                    value: Box::new(Frame::Integer(1)),
                },
            ),
            (
                b"*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n",
                Frame::Array(vec![
                    Frame::Attribute {
                        attrs: vec![(Frame::Simple(b("a")), Frame::Simple(b("b")))],
                        value: Box::new(Frame::Integer(1)),
                    },
                    Frame::Integer(2),
                ]),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                one(input),
                Ok(Some(want.clone())),
                "{}",
                input.escape_ascii()
            );
            assert_eq!(decode_slice(input), Ok(Some((want, input.len()))));
        }
    }

    #[test]
    fn bulks_share_the_input_buffer() {
        let mut dec = Decoder::new();
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nfoo\r\n$3\r\nbar\r\n"[..]);
        let start = buf.as_ptr() as usize;
        let Some(Frame::Array(items)) = dec.decode(&mut buf).unwrap() else {
            panic!()
        };
        let Frame::Bulk(foo) = &items[0] else {
            panic!()
        };
        assert_eq!(foo.as_ptr() as usize, start + 8);
    }

    #[test]
    fn decodes_back_to_back_and_leaves_the_tail() {
        let mut dec = Decoder::new();
        let mut buf = BytesMut::from(&b":1\r\n:2\r\n$3\r\nab"[..]);
        assert_eq!(dec.decode(&mut buf), Ok(Some(Frame::Integer(1))));
        assert_eq!(dec.decode(&mut buf), Ok(Some(Frame::Integer(2))));
        assert_eq!(dec.decode(&mut buf), Ok(None));
        assert_eq!(&buf[..], b"$3\r\nab");
    }

    #[test]
    fn resumes_after_every_split_point() {
        let input: &[u8] =
            b"*3\r\n$5\r\nhello\r\n%1\r\n+k\r\n,-1.5\r\n|1\r\n+a\r\n#t\r\n=6\r\ntxt:ab\r\n:-12\r\n";
        let (whole, n) = decode_slice(input).unwrap().unwrap();
        assert_eq!(n, input.len() - 6);
        for split in 0..=input.len() {
            let mut dec = Decoder::new();
            let mut buf = BytesMut::from(&input[..split]);
            let mut got = Vec::new();
            while let Some(f) = dec.decode(&mut buf).unwrap() {
                got.push(f);
            }
            buf.extend_from_slice(&input[split..]);
            while let Some(f) = dec.decode(&mut buf).unwrap() {
                got.push(f);
            }
            assert_eq!(
                got,
                [whole.clone(), Frame::Integer(-12)],
                "split at {split}"
            );
        }
    }

    #[test]
    fn rejects_malformed_values() {
        let cases: Vec<(&[u8], Error)> = vec![
            (b"x\r\n", Error::InvalidTypeByte(b'x')),
            (b"\0", Error::InvalidTypeByte(0)),
            (b":+1\r\n", Error::InvalidInteger),
            (b": 1\r\n", Error::InvalidInteger),
            (b":01\r\n", Error::InvalidInteger),
            (b":-0\r\n", Error::InvalidInteger),
            (b":9223372036854775808\r\n", Error::InvalidInteger),
            (b":\r\n", Error::InvalidInteger),
            (b"$-2\r\n", Error::InvalidBulkLength),
            (b"$1x\r\n", Error::InvalidBulkLength),
            (b"$536870913\r\n", Error::InvalidBulkLength),
            (b"!-1\r\n", Error::InvalidBulkLength),
            (b"=-1\r\n", Error::InvalidBulkLength),
            (b"*-2\r\n", Error::InvalidLength),
            (b"%-1\r\n", Error::InvalidLength),
            (b"~x\r\n", Error::InvalidLength),
            (b"*2147483648\r\n", Error::InvalidLength),
            (b",\r\n", Error::InvalidDouble),
            (b",1.5x\r\n", Error::InvalidDouble),
            (b",infinity\r\n", Error::InvalidDouble),
            (b"#x\r\n", Error::InvalidBoolean),
            (b"#\r\n", Error::InvalidBoolean),
            (b"_x\r\n", Error::InvalidNull),
            (b"(\r\n", Error::InvalidBigNumber),
            (b"(-\r\n", Error::InvalidBigNumber),
            (b"(1.5\r\n", Error::InvalidBigNumber),
            (b"=3\r\ntxt\r\n", Error::InvalidVerbatim),
            (b"=5\r\ntxt-x\r\n", Error::InvalidVerbatim),
            (b"$3\r\nfooxx", Error::ExpectedCrlf),
            (b"+OK\rx", Error::ExpectedCrlf),
            (b":1\r:", Error::ExpectedCrlf),
            (b"-ERR a\nb\r\n", Error::ExpectedCrlf),
            (b"+OK\n", Error::ExpectedCrlf),
        ];
        for (input, err) in cases {
            assert_eq!(one(input), Err(err.clone()), "{}", input.escape_ascii());
            assert_eq!(decode_slice(input), Err(err));
        }
    }

    #[test]
    fn waits_for_incomplete_input() {
        for input in [
            &b""[..],
            b"+OK",
            b"+OK\r",
            b"$3\r\nfo",
            b"$3\r\nfoo\r",
            b"*2\r\n:1\r\n",
            b"|1\r\n+a\r\n+b\r\n",
            b"%1\r\n+a\r\n",
        ] {
            assert_eq!(one(input), Ok(None), "{}", input.escape_ascii());
        }
    }

    #[test]
    fn fast_path_does_not_skip_an_interrupted_line_search() {
        // Found by the decode_split fuzzer: a `$len` line searched up to its
        // end by the slow path, then completed and taken by the fast path,
        // must leave no stale search position for the next frame.
        let mut dec = Decoder::new();
        let mut buf = BytesMut::from(&b"$1\r"[..]);
        assert_eq!(dec.decode(&mut buf), Ok(None));
        buf.extend_from_slice(b"\nx\r\n+");
        assert_eq!(dec.decode(&mut buf), Ok(Some(Frame::Bulk(b("x")))));
        assert_eq!(dec.decode(&mut buf), Ok(None));
        buf.extend_from_slice(b"OK\r\n");
        assert_eq!(dec.decode(&mut buf), Ok(Some(Frame::Simple(b("OK")))));
    }

    #[test]
    fn errors_are_sticky_until_reset() {
        let mut dec = Decoder::new();
        let mut buf = BytesMut::from(&b"?\r\n"[..]);
        assert_eq!(dec.decode(&mut buf), Err(Error::InvalidTypeByte(b'?')));
        let mut good = BytesMut::from(&b":1\r\n"[..]);
        assert_eq!(dec.decode(&mut good), Err(Error::InvalidTypeByte(b'?')));
        dec.reset();
        assert_eq!(dec.decode(&mut good), Ok(Some(Frame::Integer(1))));
    }

    #[test]
    fn nesting_is_bounded() {
        let limits = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        let mut dec = Decoder::with_limits(limits);
        let mut buf = BytesMut::from(&b"*1\r\n*1\r\n*1\r\n:1\r\n"[..]);
        assert!(dec.decode(&mut buf).unwrap().is_some());
        let mut dec = Decoder::with_limits(limits);
        let mut buf = BytesMut::from(&b"*1\r\n*1\r\n*1\r\n*1\r\n"[..]);
        assert_eq!(dec.decode(&mut buf), Err(Error::TooDeep));
        assert_eq!(dec.limits().max_depth, 3);
        // Deep input with the default limit is an error, not a stack overflow.
        let deep = b"*1\r\n".repeat(100_000);
        assert_eq!(decode_slice(&deep), Err(Error::TooDeep));
    }

    #[test]
    fn lines_are_bounded() {
        let limits = Limits {
            max_inline_len: 8,
            max_bulk_len: 16,
            ..Limits::default()
        };
        let mut dec = Decoder::with_limits(limits);
        let mut buf = BytesMut::from(&b":123456789"[..]);
        assert_eq!(dec.decode(&mut buf), Err(Error::LineTooLong));
        let mut dec = Decoder::with_limits(limits);
        let mut buf = BytesMut::from(&b"+12345678901234567"[..]);
        assert_eq!(dec.decode(&mut buf), Err(Error::LineTooLong));
        let mut dec = Decoder::with_limits(limits);
        let mut buf = BytesMut::from(&b"+1234567890123456"[..]);
        assert_eq!(dec.decode(&mut buf), Ok(None));
    }

    #[test]
    fn huge_claims_allocate_nothing() {
        let mut dec = Decoder::new();
        let mut buf = BytesMut::from(&b"*2147483647\r\n$536870912\r\nab"[..]);
        assert_eq!(dec.decode(&mut buf), Ok(None));
        assert!(dec.parser.tape.capacity() < 16);
    }
}
