//! Encoders: a whole [`Frame`], or one reply piece at a time, appended to a
//! caller's `Vec<u8>`.
//!
//! Every function reserves the exact number of bytes it writes before
//! writing them, so a buffer grows at most once per call. A server writes
//! replies piece by piece (`array_header` then `bulk`s) with no `Frame` tree
//! on its hot path; a client writes commands with [`command`].
//!
//! ```
//! use soquete_resp::encode;
//!
//! let mut out = Vec::new();
//! encode::array_header(&mut out, 2);
//! encode::bulk(&mut out, b"hello");
//! encode::integer(&mut out, -7);
//! assert_eq!(out, b"*2\r\n$5\r\nhello\r\n:-7\r\n");
//! ```
//!
//! Text that cannot hold CR or LF on the wire (simple strings, error lines)
//! has them replaced by spaces, so user text can never break the framing.

use crate::number::{digits_u64, len_i64, write_i64, write_u64, DoubleText};
use crate::Frame;

const CRLF: &[u8] = b"\r\n";

/// Length of a `<type><n>\r\n` header.
#[inline]
fn header_len(n: u64) -> usize {
    1 + digits_u64(n) + 2
}

#[inline]
fn put_header(out: &mut Vec<u8>, ty: u8, n: u64) {
    out.push(ty);
    write_u64(out, n);
    out.extend_from_slice(CRLF);
}

#[inline]
fn bulk_len(ty_len: u64) -> usize {
    header_len(ty_len) + ty_len as usize + 2
}

/// Writes `s`, turning CR and LF into spaces.
#[inline]
fn put_line_text(out: &mut Vec<u8>, s: &[u8]) {
    if memchr::memchr2(b'\r', b'\n', s).is_none() {
        out.extend_from_slice(s);
    } else {
        out.extend(
            s.iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
    }
}

/// The exact number of bytes [`frame`] writes for `f`.
///
/// ```
/// use soquete_resp::{encode, Bytes, Frame};
///
/// let f = Frame::Bulk(Bytes::from_static(b"foo"));
/// assert_eq!(encode::encoded_len(&f), b"$3\r\nfoo\r\n".len());
/// ```
pub fn encoded_len(f: &Frame) -> usize {
    match f {
        Frame::Simple(b) | Frame::Error(b) | Frame::BigNumber(b) => 1 + b.len() + 2,
        Frame::Integer(n) => 1 + len_i64(*n) + 2,
        Frame::Bulk(b) | Frame::BlobError(b) => bulk_len(b.len() as u64),
        Frame::Null => 3,
        Frame::NullBulk | Frame::NullArray => 5,
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => {
            header_len(v.len() as u64) + v.iter().map(encoded_len).sum::<usize>()
        }
        Frame::Map(v) => header_len(v.len() as u64) + pairs_len(v),
        Frame::Attribute { attrs, value } => {
            header_len(attrs.len() as u64) + pairs_len(attrs) + encoded_len(value)
        }
        Frame::Double(d) => 1 + DoubleText::new(*d).as_bytes().len() + 2,
        Frame::Boolean(_) => 4,
        Frame::Verbatim { text, .. } => bulk_len(4 + text.len() as u64),
    }
}

fn pairs_len(v: &[(Frame, Frame)]) -> usize {
    v.iter().map(|(k, v)| encoded_len(k) + encoded_len(v)).sum()
}

/// Appends `f`, reserving [`encoded_len`] bytes first.
///
/// Nested frames are written recursively; frames from the decoders are at
/// most [`Limits::max_depth`](crate::Limits) deep.
///
/// ```
/// use soquete_resp::{encode, Bytes, Frame};
///
/// let mut out = Vec::new();
/// encode::frame(&mut out, &Frame::Map(vec![(Frame::Simple(Bytes::from_static(b"k")), Frame::Boolean(true))]));
/// assert_eq!(out, b"%1\r\n+k\r\n#t\r\n");
/// ```
pub fn frame(out: &mut Vec<u8>, f: &Frame) {
    out.reserve(encoded_len(f));
    put_frame(out, f);
}

fn put_frame(out: &mut Vec<u8>, f: &Frame) {
    match f {
        Frame::Simple(b) => put_simple(out, b'+', b),
        Frame::Error(b) => put_simple(out, b'-', b),
        Frame::BigNumber(b) => put_simple(out, b'(', b),
        Frame::Integer(n) => put_integer(out, *n),
        Frame::Bulk(b) => put_bulk(out, b'$', b),
        Frame::BlobError(b) => put_bulk(out, b'!', b),
        Frame::Null => out.extend_from_slice(b"_\r\n"),
        Frame::NullBulk => out.extend_from_slice(b"$-1\r\n"),
        Frame::NullArray => out.extend_from_slice(b"*-1\r\n"),
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => {
            let ty = match f {
                Frame::Array(_) => b'*',
                Frame::Set(_) => b'~',
                _ => b'>',
            };
            put_header(out, ty, v.len() as u64);
            for x in v {
                put_frame(out, x);
            }
        }
        Frame::Map(v) => {
            put_header(out, b'%', v.len() as u64);
            put_pairs(out, v);
        }
        Frame::Attribute { attrs, value } => {
            put_header(out, b'|', attrs.len() as u64);
            put_pairs(out, attrs);
            put_frame(out, value);
        }
        Frame::Double(d) => put_double(out, *d),
        Frame::Boolean(b) => put_boolean(out, *b),
        Frame::Verbatim { format, text } => put_verbatim(out, format, text),
    }
}

fn put_pairs(out: &mut Vec<u8>, v: &[(Frame, Frame)]) {
    for (k, x) in v {
        put_frame(out, k);
        put_frame(out, x);
    }
}

#[inline]
fn put_simple(out: &mut Vec<u8>, ty: u8, s: &[u8]) {
    out.push(ty);
    put_line_text(out, s);
    out.extend_from_slice(CRLF);
}

#[inline]
fn put_integer(out: &mut Vec<u8>, n: i64) {
    out.push(b':');
    write_i64(out, n);
    out.extend_from_slice(CRLF);
}

#[inline]
fn put_bulk(out: &mut Vec<u8>, ty: u8, b: &[u8]) {
    put_header(out, ty, b.len() as u64);
    out.extend_from_slice(b);
    out.extend_from_slice(CRLF);
}

fn put_double(out: &mut Vec<u8>, d: f64) {
    out.push(b',');
    out.extend_from_slice(DoubleText::new(d).as_bytes());
    out.extend_from_slice(CRLF);
}

fn put_boolean(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
}

fn put_verbatim(out: &mut Vec<u8>, format: &[u8; 3], text: &[u8]) {
    put_header(out, b'=', 4 + text.len() as u64);
    out.extend_from_slice(format);
    out.push(b':');
    out.extend_from_slice(text);
    out.extend_from_slice(CRLF);
}

/// `+s\r\n`, with CR and LF in `s` written as spaces.
///
/// ```
/// let mut out = Vec::new();
/// soquete_resp::encode::simple(&mut out, b"OK");
/// assert_eq!(out, b"+OK\r\n");
/// ```
pub fn simple(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 3);
    put_simple(out, b'+', s);
}

/// `-msg\r\n`, with CR and LF in `msg` written as spaces. `msg` starts with
/// the error code: `b"ERR syntax error"`.
///
/// ```
/// let mut out = Vec::new();
/// soquete_resp::encode::error(&mut out, b"ERR bad\r\nthing");
/// assert_eq!(out, b"-ERR bad  thing\r\n");
/// ```
pub fn error(out: &mut Vec<u8>, msg: &[u8]) {
    out.reserve(msg.len() + 3);
    put_simple(out, b'-', msg);
}

/// `:n\r\n`.
///
/// ```
/// let mut out = Vec::new();
/// soquete_resp::encode::integer(&mut out, i64::MIN);
/// assert_eq!(out, b":-9223372036854775808\r\n");
/// ```
pub fn integer(out: &mut Vec<u8>, n: i64) {
    out.reserve(len_i64(n) + 3);
    put_integer(out, n);
}

/// `$len\r\nb\r\n`.
///
/// ```
/// let mut out = Vec::new();
/// soquete_resp::encode::bulk(&mut out, b"");
/// assert_eq!(out, b"$0\r\n\r\n");
/// ```
pub fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    out.reserve(bulk_len(b.len() as u64));
    put_bulk(out, b'$', b);
}

/// `_\r\n`, the RESP3 null.
pub fn null(out: &mut Vec<u8>) {
    out.extend_from_slice(b"_\r\n");
}

/// `$-1\r\n`, the RESP2 null bulk string.
pub fn null_bulk(out: &mut Vec<u8>) {
    out.extend_from_slice(b"$-1\r\n");
}

/// `*-1\r\n`, the RESP2 null array.
pub fn null_array(out: &mut Vec<u8>) {
    out.extend_from_slice(b"*-1\r\n");
}

fn aggregate_header(out: &mut Vec<u8>, ty: u8, n: usize) {
    out.reserve(header_len(n as u64));
    put_header(out, ty, n as u64);
}

/// `*n\r\n`: the caller writes the `n` elements next.
pub fn array_header(out: &mut Vec<u8>, n: usize) {
    aggregate_header(out, b'*', n);
}

/// `%n\r\n`: the caller writes `n` key-value pairs next.
pub fn map_header(out: &mut Vec<u8>, n: usize) {
    aggregate_header(out, b'%', n);
}

/// `~n\r\n`: the caller writes the `n` elements next.
pub fn set_header(out: &mut Vec<u8>, n: usize) {
    aggregate_header(out, b'~', n);
}

/// `>n\r\n`: the caller writes the `n` elements next.
pub fn push_header(out: &mut Vec<u8>, n: usize) {
    aggregate_header(out, b'>', n);
}

/// `|n\r\n`: the caller writes `n` key-value pairs, then the value they
/// annotate.
pub fn attribute_header(out: &mut Vec<u8>, n: usize) {
    aggregate_header(out, b'|', n);
}

/// `,d\r\n` with the shortest text that reads back as `d` exactly (an
/// exponent for very large or small magnitudes), or `inf`, `-inf`, `nan`.
///
/// ```
/// let mut out = Vec::new();
/// soquete_resp::encode::double(&mut out, 1.5);
/// soquete_resp::encode::double(&mut out, f64::NEG_INFINITY);
/// assert_eq!(out, b",1.5\r\n,-inf\r\n");
/// ```
pub fn double(out: &mut Vec<u8>, d: f64) {
    let t = DoubleText::new(d);
    out.reserve(t.as_bytes().len() + 3);
    out.push(b',');
    out.extend_from_slice(t.as_bytes());
    out.extend_from_slice(CRLF);
}

/// `,text\r\n` with text the caller formatted (a server that matches Redis
/// formats with `%.17g`). CR and LF in `text` are written as spaces.
pub fn double_text(out: &mut Vec<u8>, text: &[u8]) {
    out.reserve(text.len() + 3);
    put_simple(out, b',', text);
}

/// `#t\r\n` or `#f\r\n`.
pub fn boolean(out: &mut Vec<u8>, b: bool) {
    put_boolean(out, b);
}

/// `(digits\r\n`. CR and LF in `digits` are written as spaces.
pub fn big_number(out: &mut Vec<u8>, digits: &[u8]) {
    out.reserve(digits.len() + 3);
    put_simple(out, b'(', digits);
}

/// `=len\r\nfmt:text\r\n`.
///
/// ```
/// let mut out = Vec::new();
/// soquete_resp::encode::verbatim(&mut out, b"txt", b"Some string");
/// assert_eq!(out, b"=15\r\ntxt:Some string\r\n");
/// ```
pub fn verbatim(out: &mut Vec<u8>, format: &[u8; 3], text: &[u8]) {
    out.reserve(bulk_len(4 + text.len() as u64));
    put_verbatim(out, format, text);
}

/// `!len\r\nmsg\r\n`: a binary-safe error.
pub fn blob_error(out: &mut Vec<u8>, msg: &[u8]) {
    out.reserve(bulk_len(msg.len() as u64));
    put_bulk(out, b'!', msg);
}

/// A command as clients send it: an array of bulk strings, with one exact
/// reserve for the whole command.
///
/// ```
/// let mut out = Vec::new();
/// soquete_resp::encode::command(&mut out, ["SET", "k", "v"]);
/// assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
/// ```
pub fn command<I, A>(out: &mut Vec<u8>, args: I)
where
    I: IntoIterator<Item = A>,
    I::IntoIter: ExactSizeIterator + Clone,
    A: AsRef<[u8]>,
{
    let args = args.into_iter();
    let n = args.len();
    let len = header_len(n as u64)
        + args
            .clone()
            .map(|a| bulk_len(a.as_ref().len() as u64))
            .sum::<usize>();
    out.reserve(len);
    put_header(out, b'*', n as u64);
    for a in args {
        put_bulk(out, b'$', a.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn enc(f: &Frame) -> Vec<u8> {
        let mut out = Vec::new();
        frame(&mut out, f);
        assert_eq!(out.len(), encoded_len(f), "encoded_len of {f:?}");
        out
    }

    fn b(s: &'static [u8]) -> Bytes {
        Bytes::from_static(s)
    }

    #[test]
    fn encodes_every_type() {
        assert_eq!(enc(&Frame::Simple(b(b"OK"))), b"+OK\r\n");
        assert_eq!(enc(&Frame::Error(b(b"ERR x"))), b"-ERR x\r\n");
        assert_eq!(enc(&Frame::Integer(0)), b":0\r\n");
        assert_eq!(enc(&Frame::Integer(i64::MAX)), b":9223372036854775807\r\n");
        assert_eq!(enc(&Frame::Bulk(b(b"foo"))), b"$3\r\nfoo\r\n");
        assert_eq!(enc(&Frame::Null), b"_\r\n");
        assert_eq!(enc(&Frame::NullBulk), b"$-1\r\n");
        assert_eq!(enc(&Frame::NullArray), b"*-1\r\n");
        assert_eq!(enc(&Frame::Array(vec![])), b"*0\r\n");
        assert_eq!(enc(&Frame::Set(vec![Frame::Integer(1)])), b"~1\r\n:1\r\n");
        assert_eq!(enc(&Frame::Push(vec![Frame::Integer(1)])), b">1\r\n:1\r\n");
        assert_eq!(
            enc(&Frame::Attribute {
                attrs: vec![(Frame::Simple(b(b"ttl")), Frame::Integer(3))],
                value: Box::new(Frame::Bulk(b(b"v"))),
            }),
            b"|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n"
        );
        assert_eq!(enc(&Frame::Double(1.5)), b",1.5\r\n");
        assert_eq!(enc(&Frame::Double(f64::NAN)), b",nan\r\n");
        assert_eq!(enc(&Frame::Double(1e300)), b",1e300\r\n");
        assert_eq!(enc(&Frame::BigNumber(b(b"-123"))), b"(-123\r\n");
        assert_eq!(enc(&Frame::Boolean(false)), b"#f\r\n");
        assert_eq!(
            enc(&Frame::Verbatim {
                format: *b"mkd",
                text: b(b"# hi")
            }),
            b"=8\r\nmkd:# hi\r\n"
        );
        assert_eq!(
            enc(&Frame::BlobError(b(b"SYNTAX x"))),
            b"!8\r\nSYNTAX x\r\n"
        );
    }

    #[test]
    fn line_text_never_breaks_framing() {
        assert_eq!(enc(&Frame::Simple(b(b"a\r\nb"))), b"+a  b\r\n");
        let mut out = Vec::new();
        simple(&mut out, b"x\ny");
        double_text(&mut out, b"1\r");
        assert_eq!(out, b"+x y\r\n,1 \r\n");
    }

    #[test]
    fn headers_and_pieces() {
        let mut out = Vec::new();
        map_header(&mut out, 1);
        set_header(&mut out, 10);
        push_header(&mut out, 0);
        attribute_header(&mut out, 2);
        null(&mut out);
        null_bulk(&mut out);
        null_array(&mut out);
        boolean(&mut out, true);
        big_number(&mut out, b"1");
        blob_error(&mut out, b"E");
        assert_eq!(
            out,
            b"%1\r\n~10\r\n>0\r\n|2\r\n_\r\n$-1\r\n*-1\r\n#t\r\n(1\r\n!1\r\nE\r\n"
        );
    }

    #[test]
    fn command_reserves_exactly() {
        let mut out = Vec::new();
        command(&mut out, [&b"GET"[..], b"key"]);
        assert_eq!(out, b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
        assert_eq!(out.capacity(), out.len());
    }
}
