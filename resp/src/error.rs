//! Decoding errors.

use std::fmt;

/// What was wrong with the input.
///
/// `Display` gives the words Redis uses where Redis has them (`invalid
/// multibulk length`, `expected '$', got 'x'`, ...); a server prefixes them
/// with `Protocol error: ` when it replies. [`Error::write_message`] gives
/// the exact bytes Redis sends, including an offending byte that is not
/// ASCII.
///
/// Errors are sticky: once a decoder returned one, it returns the same error
/// on every call until `reset()`. The stream is out of sync and the
/// connection should be closed.
///
/// ```
/// use soquete_resp::{Error, RequestDecoder};
///
/// let mut dec = RequestDecoder::new();
/// let err = dec.decode(b"*1\r\nfoo\r\n").unwrap_err();
/// assert_eq!(err, Error::ExpectedDollar(b'f'));
/// assert_eq!(err.to_string(), "expected '$', got 'f'");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// `invalid multibulk length`: a request's `*len` is not a strict
    /// integer or is above [`Limits::max_multibulk_len`](crate::Limits).
    InvalidMultibulkLength,
    /// `invalid bulk length`: a `$len` that is not a strict integer, is
    /// negative where no null is allowed, or is above the bulk limit.
    InvalidBulkLength,
    /// `too big mbulk count string`: no CR after a request's `*` within
    /// [`Limits::max_inline_len`](crate::Limits) bytes (or a NUL byte,
    /// which Redis never reads past, came first).
    TooBigMultibulkCount,
    /// `too big bulk count string`: as above, for a `$len` line of a request.
    TooBigBulkCount,
    /// `expected '$', got 'x'`: a request's argument does not start with
    /// `$`. Holds the byte found.
    ExpectedDollar(u8),
    /// `unbalanced quotes in request`: an inline command with an open quote,
    /// or a closing quote followed by something other than a space.
    UnbalancedQuotes,
    /// `too big inline request`: no newline within
    /// [`Limits::max_inline_len`](crate::Limits) bytes of an inline command
    /// (or a NUL byte, which Redis never reads past, came first).
    TooBigInline,
    /// `unauthenticated multibulk length`: more than 10 arguments while
    /// [`Limits::unauthenticated`](crate::Limits) is set.
    UnauthenticatedMultibulkLength,
    /// `unauthenticated bulk length`: an argument longer than 16384 bytes
    /// while [`Limits::unauthenticated`](crate::Limits) is set.
    UnauthenticatedBulkLength,
    /// `invalid type byte 'x'`: a value starts with a byte that is no RESP2
    /// or RESP3 type. Holds the byte.
    InvalidTypeByte(u8),
    /// `invalid integer`: a `:` line that is not a strict 64-bit integer.
    InvalidInteger,
    /// `invalid double`: a `,` line that is not a number, `inf`, `-inf` or
    /// `nan`.
    InvalidDouble,
    /// `invalid boolean`: a `#` line other than `t` or `f`.
    InvalidBoolean,
    /// `invalid null`: a `_` line with something before its CRLF.
    InvalidNull,
    /// `invalid big number`: a `(` line that is not an optional `-` and
    /// one or more digits.
    InvalidBigNumber,
    /// `invalid verbatim string`: an `=` payload shorter than 4 bytes or
    /// without `:` after its 3-byte format.
    InvalidVerbatim,
    /// `invalid aggregate length`: the length of an array, map, set, push or
    /// attribute that is not a strict integer, is negative (other than the
    /// RESP2 null array `*-1`) or is above the limit.
    InvalidLength,
    /// `expected CRLF`: a CR not followed by LF, a LF without its CR in a
    /// line of the general decoder, or a bulk payload not followed by CRLF.
    ExpectedCrlf,
    /// `line too long`: no CR within the limit for that line (general
    /// decoder: [`Limits::max_bulk_len`](crate::Limits) for simple strings,
    /// errors and big numbers, [`Limits::max_inline_len`](crate::Limits) for
    /// numeric lines).
    LineTooLong,
    /// `too deep nesting`: aggregates nested deeper than
    /// [`Limits::max_depth`](crate::Limits).
    TooDeep,
}

impl Error {
    /// Appends the message to `out` exactly as Redis writes it (an
    /// offending byte is written raw, as Redis's `%c` does). The message has
    /// no `Protocol error: ` prefix and no CRLF; a raw byte may be CR or LF,
    /// so a server must sanitise it like any error text.
    ///
    /// ```
    /// let mut out = Vec::new();
    /// soquete_resp::Error::ExpectedDollar(0xff).write_message(&mut out);
    /// assert_eq!(out, b"expected '$', got '\xff'");
    /// ```
    pub fn write_message(&self, out: &mut Vec<u8>) {
        match *self {
            Error::ExpectedDollar(b) => {
                out.extend_from_slice(b"expected '$', got '");
                out.push(b);
                out.push(b'\'');
            }
            Error::InvalidTypeByte(b) => {
                out.extend_from_slice(b"invalid type byte '");
                out.push(b);
                out.push(b'\'');
            }
            _ => out.extend_from_slice(self.static_message().as_bytes()),
        }
    }

    fn static_message(&self) -> &'static str {
        match self {
            Error::InvalidMultibulkLength => "invalid multibulk length",
            Error::InvalidBulkLength => "invalid bulk length",
            Error::TooBigMultibulkCount => "too big mbulk count string",
            Error::TooBigBulkCount => "too big bulk count string",
            Error::UnbalancedQuotes => "unbalanced quotes in request",
            Error::TooBigInline => "too big inline request",
            Error::UnauthenticatedMultibulkLength => "unauthenticated multibulk length",
            Error::UnauthenticatedBulkLength => "unauthenticated bulk length",
            Error::InvalidInteger => "invalid integer",
            Error::InvalidDouble => "invalid double",
            Error::InvalidBoolean => "invalid boolean",
            Error::InvalidNull => "invalid null",
            Error::InvalidBigNumber => "invalid big number",
            Error::InvalidVerbatim => "invalid verbatim string",
            Error::InvalidLength => "invalid aggregate length",
            Error::ExpectedCrlf => "expected CRLF",
            Error::LineTooLong => "line too long",
            Error::TooDeep => "too deep nesting",
            Error::ExpectedDollar(_) | Error::InvalidTypeByte(_) => "",
        }
    }
}

/// Writes a byte as Redis's `%c` would where that is valid text (ASCII),
/// and as `\xNN` otherwise.
fn fmt_byte(f: &mut fmt::Formatter<'_>, b: u8) -> fmt::Result {
    if b.is_ascii() {
        write!(f, "{}", b as char)
    } else {
        write!(f, "\\x{b:02x}")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::ExpectedDollar(b) => {
                f.write_str("expected '$', got '")?;
                fmt_byte(f, b)?;
                f.write_str("'")
            }
            Error::InvalidTypeByte(b) => {
                f.write_str("invalid type byte '")?;
                fmt_byte(f, b)?;
                f.write_str("'")
            }
            _ => f.write_str(self.static_message()),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_uses_redis_words() {
        assert_eq!(
            Error::InvalidMultibulkLength.to_string(),
            "invalid multibulk length"
        );
        assert_eq!(Error::InvalidBulkLength.to_string(), "invalid bulk length");
        assert_eq!(
            Error::ExpectedDollar(b'f').to_string(),
            "expected '$', got 'f'"
        );
        assert_eq!(
            Error::UnbalancedQuotes.to_string(),
            "unbalanced quotes in request"
        );
        assert_eq!(Error::TooBigInline.to_string(), "too big inline request");
        assert_eq!(
            Error::TooBigMultibulkCount.to_string(),
            "too big mbulk count string"
        );
        assert_eq!(
            Error::TooBigBulkCount.to_string(),
            "too big bulk count string"
        );
        assert_eq!(
            Error::UnauthenticatedMultibulkLength.to_string(),
            "unauthenticated multibulk length"
        );
        assert_eq!(
            Error::UnauthenticatedBulkLength.to_string(),
            "unauthenticated bulk length"
        );
        assert_eq!(
            Error::InvalidTypeByte(b'x').to_string(),
            "invalid type byte 'x'"
        );
    }

    #[test]
    fn display_escapes_non_ascii_but_write_message_is_raw() {
        assert_eq!(
            Error::ExpectedDollar(0x80).to_string(),
            "expected '$', got '\\x80'"
        );
        let mut out = Vec::new();
        Error::InvalidTypeByte(0x80).write_message(&mut out);
        assert_eq!(out, b"invalid type byte '\x80'");
        out.clear();
        Error::TooDeep.write_message(&mut out);
        assert_eq!(out, b"too deep nesting");
    }
}
