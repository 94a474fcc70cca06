//! [`Frame`]: one RESP2 or RESP3 value.

use bytes::Bytes;

/// One RESP2 or RESP3 value, with owned, cheap-to-clone bytes.
///
/// Byte payloads are [`Bytes`]: a frame from [`Decoder`](crate::Decoder)
/// shares the input buffer instead of copying it, and cloning a frame only
/// bumps reference counts.
///
/// # Wire format
///
/// | variant | bytes on the wire |
/// | --- | --- |
/// | `Simple(b"OK")` | `+OK\r\n` |
/// | `Error(b"ERR x")` | `-ERR x\r\n` (text without `-` and CRLF) |
/// | `Integer(1)` | `:1\r\n` |
/// | `Bulk(b"foo")` | `$3\r\nfoo\r\n` |
/// | `Null` | `_\r\n` (RESP3) |
/// | `NullBulk` | `$-1\r\n` (RESP2) |
/// | `NullArray` | `*-1\r\n` (RESP2) |
/// | `Array(..)` | `*N\r\n` then N values |
/// | `Map(..)` | `%N\r\n` then N key-value pairs |
/// | `Set(..)` | `~N\r\n` then N values |
/// | `Push(..)` | `>N\r\n` then N values |
/// | `Attribute { .. }` | `\|N\r\n` then N pairs, then the value they annotate |
/// | `Double(1.5)` | `,1.5\r\n` (also `,inf`, `,-inf`, `,nan`) |
/// | `BigNumber(b"3492890328409238509324850943850943825024385")` | `(3492...\r\n` |
/// | `Boolean(true)` | `#t\r\n` |
/// | `Verbatim { format: *b"txt", text: b"Some string" }` | `=15\r\ntxt:Some string\r\n` |
/// | `BlobError(b"SYNTAX invalid syntax")` | `!21\r\nSYNTAX invalid syntax\r\n` |
///
/// # Equality
///
/// `PartialEq` is structural, except that doubles compare by bit pattern
/// with every NaN equal to every NaN (so `0.0 != -0.0`, and a decoded frame
/// always equals the frame that was encoded). That makes it an equivalence,
/// hence `Eq`.
///
/// ```
/// use soquete_resp::{Bytes, Frame};
///
/// let f = Frame::Array(vec![Frame::Bulk(Bytes::from_static(b"GET")), Frame::Double(f64::NAN)]);
/// assert_eq!(f.clone(), f);
/// assert_eq!(f.kind(), "array");
/// ```
#[derive(Clone, Debug)]
pub enum Frame {
    /// `+OK\r\n`: a short status line, no CR or LF inside.
    Simple(Bytes),
    /// `-ERR x\r\n`: an error line; holds the text without `-` and CRLF.
    Error(Bytes),
    /// `:1\r\n`: a signed 64-bit integer.
    Integer(i64),
    /// `$3\r\nfoo\r\n`: a binary-safe string.
    Bulk(Bytes),
    /// `_\r\n`: the RESP3 null.
    Null,
    /// `$-1\r\n`: the RESP2 null bulk string.
    NullBulk,
    /// `*-1\r\n`: the RESP2 null array.
    NullArray,
    /// `*N\r\n`: an ordered sequence of values.
    Array(Vec<Frame>),
    /// `%N\r\n`: key-value pairs, in wire order.
    Map(Vec<(Frame, Frame)>),
    /// `~N\r\n`: an unordered collection, in wire order.
    Set(Vec<Frame>),
    /// `>N\r\n`: out-of-band data (pub/sub messages, invalidations).
    Push(Vec<Frame>),
    /// `|N\r\n`: key-value pairs that annotate the value that follows them.
    Attribute {
        /// The annotations.
        attrs: Vec<(Frame, Frame)>,
        /// The value they annotate.
        value: Box<Frame>,
    },
    /// `,1.5\r\n`: a double, including infinities and NaN.
    Double(f64),
    /// `(123...\r\n`: an integer of any size, as its decimal digits (with an
    /// optional leading `-`).
    BigNumber(Bytes),
    /// `#t\r\n` / `#f\r\n`.
    Boolean(bool),
    /// `=15\r\ntxt:Some string\r\n`: a string with a 3-byte format hint.
    Verbatim {
        /// The format, such as `txt` or `mkd`.
        format: [u8; 3],
        /// The text after `fmt:`.
        text: Bytes,
    },
    /// `!21\r\nSYNTAX invalid syntax\r\n`: a binary-safe error.
    BlobError(Bytes),
}

impl Frame {
    /// Whether this is one of the nulls: `Null`, `NullBulk` or `NullArray`.
    ///
    /// ```
    /// assert!(soquete_resp::Frame::NullBulk.is_null());
    /// ```
    pub fn is_null(&self) -> bool {
        matches!(self, Frame::Null | Frame::NullBulk | Frame::NullArray)
    }

    /// The bytes of a string-like frame: `Simple`, `Bulk`, the text of
    /// `Verbatim`, and the digits of `BigNumber`. `None` for anything else
    /// (errors included: they are not values).
    ///
    /// ```
    /// use soquete_resp::{Bytes, Frame};
    ///
    /// assert_eq!(Frame::Bulk(Bytes::from_static(b"v")).as_bytes(), Some(&b"v"[..]));
    /// assert_eq!(Frame::Integer(1).as_bytes(), None);
    /// ```
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Frame::Simple(b) | Frame::Bulk(b) | Frame::BigNumber(b) => Some(b),
            Frame::Verbatim { text, .. } => Some(text),
            _ => None,
        }
    }

    /// A short human name of the frame's type, for error messages:
    /// `"simple string"`, `"error"`, `"integer"`, `"bulk string"`,
    /// `"null"`, `"null bulk string"`, `"null array"`, `"array"`, `"map"`,
    /// `"set"`, `"push"`, `"attribute"`, `"double"`, `"big number"`,
    /// `"boolean"`, `"verbatim string"`, `"blob error"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Frame::Simple(_) => "simple string",
            Frame::Error(_) => "error",
            Frame::Integer(_) => "integer",
            Frame::Bulk(_) => "bulk string",
            Frame::Null => "null",
            Frame::NullBulk => "null bulk string",
            Frame::NullArray => "null array",
            Frame::Array(_) => "array",
            Frame::Map(_) => "map",
            Frame::Set(_) => "set",
            Frame::Push(_) => "push",
            Frame::Attribute { .. } => "attribute",
            Frame::Double(_) => "double",
            Frame::BigNumber(_) => "big number",
            Frame::Boolean(_) => "boolean",
            Frame::Verbatim { .. } => "verbatim string",
            Frame::BlobError(_) => "blob error",
        }
    }
}

fn double_eq(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

impl PartialEq for Frame {
    fn eq(&self, other: &Frame) -> bool {
        use Frame::*;
        match (self, other) {
            (Simple(a), Simple(b))
            | (Error(a), Error(b))
            | (Bulk(a), Bulk(b))
            | (BigNumber(a), BigNumber(b))
            | (BlobError(a), BlobError(b)) => a == b,
            (Integer(a), Integer(b)) => a == b,
            (Null, Null) | (NullBulk, NullBulk) | (NullArray, NullArray) => true,
            (Array(a), Array(b)) | (Set(a), Set(b)) | (Push(a), Push(b)) => a == b,
            (Map(a), Map(b)) => a == b,
            (Attribute { attrs: a, value: v }, Attribute { attrs: b, value: w }) => {
                a == b && v == w
            }
            (Double(a), Double(b)) => double_eq(*a, *b),
            (Boolean(a), Boolean(b)) => a == b,
            (Verbatim { format: f, text: t }, Verbatim { format: g, text: u }) => f == g && t == u,
            _ => false,
        }
    }
}

impl Eq for Frame {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_compare_by_bits_with_all_nans_equal() {
        assert_eq!(Frame::Double(f64::NAN), Frame::Double(-f64::NAN));
        assert_ne!(Frame::Double(0.0), Frame::Double(-0.0));
        assert_eq!(Frame::Double(1.5), Frame::Double(1.5));
    }

    #[test]
    fn different_variants_differ() {
        assert_ne!(Frame::Null, Frame::NullBulk);
        assert_ne!(Frame::Array(vec![]), Frame::Set(vec![]));
        assert_ne!(
            Frame::Simple(Bytes::from_static(b"x")),
            Frame::Bulk(Bytes::from_static(b"x"))
        );
    }

    #[test]
    fn as_bytes_covers_string_like_frames() {
        let t = Bytes::from_static(b"t");
        assert_eq!(Frame::Simple(t.clone()).as_bytes(), Some(&b"t"[..]));
        assert_eq!(Frame::BigNumber(t.clone()).as_bytes(), Some(&b"t"[..]));
        assert_eq!(
            Frame::Verbatim {
                format: *b"txt",
                text: t.clone()
            }
            .as_bytes(),
            Some(&b"t"[..])
        );
        assert_eq!(Frame::Error(t).as_bytes(), None);
        assert!(!Frame::Integer(0).is_null());
        assert!(Frame::Null.is_null() && Frame::NullArray.is_null());
    }
}
