//! Strict integer parsing, line scanning and number formatting shared by
//! the decoders and the encoders.

/// Parses a strict 64-bit integer exactly as Redis's `string2ll`: an
/// optional `-`, then `0` alone or a non-zero digit followed by digits. No
/// `+`, no spaces, no leading zeros, no `-0`; overflow is `None`.
pub(crate) fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    // 19 digits always fit a u64 without overflow; 20 never fit an i64.
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    if digits[0] == b'0' {
        return (digits.len() == 1 && !neg).then_some(0);
    }
    let mut v: u64 = 0;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u64::from(d);
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// The common case of a length line: up to 18 digits, no sign, no leading
/// zero, then CRLF, starting at `buf[i]`. Returns the value and the index
/// after the LF. `None` means "not that simple": incomplete, negative,
/// malformed or long. The caller then takes the exact, slow path.
#[inline(always)]
pub(crate) fn fast_len(buf: &[u8], i: usize) -> Option<(u64, usize)> {
    let mut j = i;
    let mut v: u64 = 0;
    loop {
        let b = *buf.get(j)?;
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v * 10 + u64::from(d);
        j += 1;
        if j - i > 18 {
            return None; // Long: the slow path checks overflow.
        }
    }
    let n = j - i;
    // No digits or a leading zero: slow path.
    if n == 0 || (n > 1 && buf[i] == b'0') {
        return None;
    }
    if *buf.get(j)? == b'\r' && *buf.get(j + 1)? == b'\n' {
        Some((v, j + 2))
    } else {
        None
    }
}

/// Like [`fast_len`], with an optional leading `-` (for `:` integers).
#[inline(always)]
pub(crate) fn fast_i64(buf: &[u8], i: usize) -> Option<(i64, usize)> {
    if *buf.get(i)? == b'-' {
        let (v, next) = fast_len(buf, i + 1)?;
        if v == 0 {
            return None; // "-0" is not strict; the slow path rejects it.
        }
        Some((-(v as i64), next))
    } else {
        let (v, next) = fast_len(buf, i)?;
        Some((v as i64, next))
    }
}

/// Number of decimal digits of `n`.
#[inline]
pub(crate) fn digits_u64(mut n: u64) -> usize {
    let mut d = 1;
    while n >= 10_000 {
        n /= 10_000;
        d += 4;
    }
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// Length of `n` in decimal, sign included.
#[inline]
pub(crate) fn len_i64(n: i64) -> usize {
    digits_u64(n.unsigned_abs()) + usize::from(n < 0)
}

/// Appends `n` in decimal.
#[inline]
pub(crate) fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `n` in decimal.
#[inline]
pub(crate) fn write_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    write_u64(out, n.unsigned_abs());
}

/// The text of a double as RESP3 writes it: `inf`, `-inf`, `nan`, or the
/// shortest text that parses back to the same value (Rust's `{:?}`, which
/// uses an exponent for very large and very small magnitudes).
pub(crate) struct DoubleText {
    buf: [u8; 40],
    len: usize,
}

impl DoubleText {
    pub(crate) fn new(d: f64) -> DoubleText {
        use std::fmt::Write;
        let mut t = DoubleText {
            buf: [0; 40],
            len: 0,
        };
        if d.is_nan() {
            t.push_str("nan");
        } else if d == f64::INFINITY {
            t.push_str("inf");
        } else if d == f64::NEG_INFINITY {
            t.push_str("-inf");
        } else {
            // At most 24 bytes ("-2.2250738585072014e-308"): cannot fail.
            let _ = write!(t, "{d:?}");
        }
        t
    }

    fn push_str(&mut self, s: &str) {
        let end = (self.len + s.len()).min(self.buf.len());
        let n = end - self.len;
        self.buf[self.len..end].copy_from_slice(&s.as_bytes()[..n]);
        self.len = end;
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl std::fmt::Write for DoubleText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.len + s.len() > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.push_str(s);
        Ok(())
    }
}

/// Parses a RESP3 double as hiredis does: `inf`, `-inf`, `nan`, `-nan`
/// (any case), or a number made of digits, `.`, `e`, `E`, `+`, `-`.
pub(crate) fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.eq_ignore_ascii_case(b"inf") || s.eq_ignore_ascii_case(b"+inf") {
        return Some(f64::INFINITY);
    }
    if s.eq_ignore_ascii_case(b"-inf") {
        return Some(f64::NEG_INFINITY);
    }
    if s.eq_ignore_ascii_case(b"nan") || s.eq_ignore_ascii_case(b"-nan") {
        return Some(f64::NAN);
    }
    if s.is_empty()
        || !s
            .iter()
            .all(|&b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    // Only ASCII bytes passed the check above.
    std::str::from_utf8(s).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_i64_is_strict_like_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"+1",
            b" 1",
            b"1 ",
            b"01",
            b"00",
            b"-0",
            b"-01",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"99999999999999999999",
            b"1x",
            b"1\0",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", bad.escape_ascii().to_string());
        }
    }

    #[test]
    fn fast_len_takes_the_common_case_and_defers_the_rest() {
        assert_eq!(fast_len(b"3\r\nfoo", 0), Some((3, 3)));
        assert_eq!(fast_len(b"$0\r\n", 1), Some((0, 4)));
        assert_eq!(
            fast_len(b"123456789012345678\r\n", 0),
            Some((123456789012345678, 20))
        );
        for slow in [
            &b"1234567890123456789\r\n"[..],
            b"01\r\n",
            b"-1\r\n",
            b"3\r",
            b"3",
            b"3\rx",
            b"\r\n",
        ] {
            assert_eq!(fast_len(slow, 0), None);
        }
        assert_eq!(fast_i64(b"-42\r\n", 0), Some((-42, 5)));
        assert_eq!(fast_i64(b"-0\r\n", 0), None);
    }

    #[test]
    fn formats_numbers() {
        for n in [0, 1, -1, 9, 10, 99, 100, 12345, i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            write_i64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
            assert_eq!(len_i64(n), out.len());
        }
    }

    #[test]
    fn doubles_round_trip_through_text() {
        for d in [
            0.0,
            -0.0,
            1.5,
            -2.25,
            1e300,
            1e-300,
            f64::MIN_POSITIVE,
            f64::MAX,
            0.1,
            3.0,
        ] {
            let t = DoubleText::new(d);
            assert_eq!(parse_f64(t.as_bytes()).unwrap().to_bits(), d.to_bits());
        }
        assert_eq!(DoubleText::new(f64::INFINITY).as_bytes(), b"inf");
        assert_eq!(DoubleText::new(f64::NEG_INFINITY).as_bytes(), b"-inf");
        assert_eq!(DoubleText::new(f64::NAN).as_bytes(), b"nan");
        assert!(parse_f64(b"nan").unwrap().is_nan());
        assert_eq!(parse_f64(b"1.0000000000000001e+300"), Some(1e300));
        for bad in [&b""[..], b"infinity", b"1.5x", b" 1", b"0x10", b"."] {
            assert_eq!(parse_f64(bad), None);
        }
    }
}
