//! Number parsing and formatting that match Redis 7.0 byte for byte.
//!
//! | function | Redis 7.0 original | used by (in Redis) |
//! | --- | --- | --- |
//! | [`parse_i64`] | `string2ll` (util.c) | every integer argument and value: `INCR`, `EXPIRE`, `LRANGE`, `SETRANGE`, … |
//! | [`parse_u64`] | `string2ull` (t_stream.c) | the two halves of a stream ID (`XADD s 5-3`) |
//! | [`parse_f64`] | `string2d` via `getDoubleFromObject` | `ZADD`/`ZINCRBY` scores, `INCRBYFLOAT`-free double arguments |
//! | [`fmt_double`] | `addReplyDouble` (`"%.17g"`) | `ZSCORE`, `ZMSCORE`, `ZINCRBY`, `ZADD … INCR`, `ZRANGE … WITHSCORES`, `ZRANDMEMBER … WITHSCORES`, `ZPOPMIN`, … |
//! | [`double_to_i64_exact`] | `double2ll` (util.h) | storing a score in a listpack zset |
//!
//! Long-double work (`INCRBYFLOAT`, `HINCRBYFLOAT`, `GEOPOS`'s coordinates) is
//! in [`super::ldouble`].
//!
//! # Which formatter produces which reply (checked on redis-server 7.0.15)
//!
//! * Every double score reply goes through `addReplyDouble`, i.e.
//!   `"%.17g"`: `ZSCORE` of 1.1 is `1.1000000000000001`, of 1e16 is
//!   `10000000000000000`, of 1e17 is `1e+17`, also for `ZRANDMEMBER … WITHSCORES`
//!   (it parses the listpack entry back to a double first). RESP3 uses the
//!   same digits after `,`. Infinities are `inf` / `-inf`.
//! * Redis's `d2string` (integers printed as integers, otherwise `%.17g`) only
//!   writes the score strings kept *inside* a listpack; they are never sent
//!   as they are. Its one visible trace is that a listpack zset stores an
//!   integral score as an integer ([`double_to_i64_exact`]), so `-0` comes
//!   back as `0`: `ZADD z -0 m` then `ZSCORE z m` gives `0`, while a
//!   skiplist-encoded zset gives `-0`, and `ZINCRBY z2 -0 m` on a new member
//!   replies `-0` (the computed double) but a later `ZSCORE` gives `0`.
//! * `INCRBYFLOAT`/`HINCRBYFLOAT` compute in `long double` and print with
//!   `ld2string(LD_STR_HUMAN)` (`"%.17Lf"`, trailing zeros trimmed):
//!   [`super::ldouble::LongDouble::fmt_human`]. `GEOPOS` prints its doubles the
//!   same way (`addReplyHumanLongDouble`).

use std::fmt::Write as _;

/// Returns the value of `s` if it is a canonical signed 64-bit decimal, as
/// Redis's `string2ll` accepts it.
///
/// Accepted: an optional `-`, then `0` alone or a digit `1`–`9` followed by
/// digits, within `i64` range. Rejected: empty input, `+`, spaces anywhere,
/// leading zeros (`01`), `-0`, anything over 20 bytes, overflow.
///
/// # Examples
///
/// ```ignore
/// assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
/// assert_eq!(parse_i64(b"007"), None);
/// ```
#[inline]
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some(_) => (false, s),
        None => return None,
    };
    match digits.first() {
        Some(b'1'..=b'9') if digits.len() <= 19 => {}
        // "0" alone; "-0", "00", "01" are all rejected.
        Some(b'0') if s.len() == 1 => return Some(0),
        _ => return None,
    }
    // At most 19 digits: 9_999_999_999_999_999_999 < 2^64, no overflow.
    let mut v: u64 = 0;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u64::from(d);
    }
    if neg {
        if v > 1 << 63 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses an unsigned 64-bit integer exactly as Redis 7.0's `string2ull`
/// (t_stream.c), which reads each half of a stream ID.
///
/// `string2ull` works on a C string, so bytes from the first NUL on are
/// ignored. It first tries [`parse_i64`] (negative results rejected), then
/// falls back to `strtoull(s, &end, 10)` and accepts whatever that converts
/// without error when the conversion reaches the end. That fallback makes
/// these accepted (checked with `XADD s <id> f v` on redis-server 7.0.15):
/// leading C whitespace (`" 1"`, `"\t2"`), a leading `+`, leading zeros
/// (`"007"`), and a `-` that wraps modulo 2^64 (`" -3"` is
/// 18446744073709551613, `" -18446744073709551615"` is 1). Rejected: empty,
/// no digits, trailing bytes (`"2 "`), values above `u64::MAX`, and a plain
/// negative such as `"-3"` (it parses as an `i64` first).
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    let s = match memchr::memchr(0, s) {
        Some(nul) => &s[..nul],
        None => s,
    };
    if let Some(v) = parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let mut i = s.iter().take_while(|&&b| is_c_space(b)).count();
    let mut neg = false;
    if let Some(&(b'+' | b'-')) = s.get(i) {
        neg = s[i] == b'-';
        i += 1;
    }
    let digits = &s[i..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &b in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// C's `isspace()` in the "C" locale.
#[inline]
pub(crate) fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Parses a double exactly as Redis 7.0's `string2d` (the parser behind
/// `getDoubleFromObject`, used for `ZADD`/`ZINCRBY` scores and similar).
///
/// The whole input must be one `strtod` number in the "C" locale:
///
/// * decimal: `[+-]digits[.digits][e[+-]digits]` (`1.`, `.5`, `1E+5` are
///   fine), correctly rounded to nearest, ties to even;
/// * hexadecimal as glibc reads it: `0x10`, `0X1p4`, `0x1.8p1`, `0x.8`;
/// * `inf` or `infinity` in any case, with an optional sign.
///
/// Rejected (`None`): empty input, leading or trailing whitespace, any other
/// trailing byte (including NUL), `nan` in every spelling, and a finite
/// number whose magnitude overflows to infinity (`1e400`) or underflows to
/// zero (`1e-400`, `0x1p-1075`); a result that is merely subnormal
/// (`1e-310`) is accepted. Zero written as zero (`0e-999`) is accepted.
///
/// # Examples
///
/// ```ignore
/// assert_eq!(parse_f64(b"0x10"), Some(16.0));
/// assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
/// assert_eq!(parse_f64(b" 1"), None);
/// ```
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    // Fast path: a short run of digits is an exact integer.
    if (1..=15).contains(&s.len()) {
        let (neg, digits) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
            let v = digits
                .iter()
                .fold(0u64, |v, &b| v * 10 + u64::from(b - b'0')) as f64;
            return Some(if neg { -v } else { v });
        }
    }
    let scanned = scan_float(s)?;
    let v = match scanned.kind {
        Kind::Inf => f64::INFINITY,
        Kind::Dec { int, frac, .. } => {
            // The grammar was checked above and is a subset of Rust's, whose
            // parser is correctly rounded (ties to even) like glibc's.
            let text = std::str::from_utf8(s).ok()?;
            let v: f64 = text.parse().ok()?;
            let v = v.abs();
            if v.is_infinite() {
                return None; // ERANGE overflow
            }
            if v == 0.0 && int.iter().chain(frac).any(|&b| b != b'0') {
                return None; // ERANGE underflow to zero
            }
            v
        }
        Kind::Hex { int, frac, exp } => {
            let (m, e, sticky) = hex_mantissa(int, frac, exp);
            match round_binary(m, e, sticky, 53, F64_MIN_EXP, F64_TOP_EXP) {
                Rounded::Zero if m == 0 => 0.0,
                Rounded::Zero | Rounded::Overflow => return None,
                Rounded::Finite { mant, exp } => f64_from_parts(mant, exp),
            }
        }
    };
    Some(if scanned.neg { -v } else { v })
}

/// Exponent of the least significant bit of the smallest f64 subnormal.
const F64_MIN_EXP: i64 = -1074;
/// Every finite f64 is below 2^1024.
const F64_TOP_EXP: i64 = 1024;

/// Builds a positive f64 from `mant * 2^exp` as returned by [`round_binary`]
/// with 53 bits of precision.
fn f64_from_parts(mant: u64, exp: i64) -> f64 {
    if mant >> 52 != 0 {
        let biased = (exp + 52 + 1023) as u64;
        f64::from_bits((biased << 52) | (mant & ((1 << 52) - 1)))
    } else {
        // Subnormal: exp is F64_MIN_EXP, the fraction field is the mantissa.
        f64::from_bits(mant)
    }
}

/// A syntactically valid `strtod`/`strtold` number covering a whole input.
#[derive(Debug)]
pub(crate) struct Scanned<'a> {
    /// A leading `-` was present.
    pub(crate) neg: bool,
    /// What was written after the sign.
    pub(crate) kind: Kind<'a>,
}

/// The body of a [`Scanned`] number.
#[derive(Debug)]
pub(crate) enum Kind<'a> {
    /// `inf` or `infinity`.
    Inf,
    /// Decimal: value is `int.frac * 10^exp`; `exp` is saturated at
    /// ±[`EXP_LIMIT`].
    Dec {
        int: &'a [u8],
        frac: &'a [u8],
        exp: i64,
    },
    /// Hexadecimal: value is `0xint.frac * 2^exp`; `exp` is saturated at
    /// ±[`EXP_LIMIT`].
    Hex {
        int: &'a [u8],
        frac: &'a [u8],
        exp: i64,
    },
}

/// Exponents are saturated here: far beyond any representable range, and far
/// from overflowing an `i64` once digit counts are added.
pub(crate) const EXP_LIMIT: i64 = 1 << 50;

/// Matches the whole of `s` against the C-locale `strtod` grammar. Returns
/// `None` if `strtod` would stop before the end, would skip leading space,
/// or would read a NaN.
pub(crate) fn scan_float(s: &[u8]) -> Option<Scanned<'_>> {
    let (neg, body) = match s.first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some(Scanned {
            neg,
            kind: Kind::Inf,
        });
    }
    let hex = body.len() >= 2 && body[0] == b'0' && (body[1] | 0x20) == b'x';
    let (digits_start, is_digit, exp_char): (usize, fn(&u8) -> bool, u8) = if hex {
        (2, u8::is_ascii_hexdigit, b'p')
    } else {
        (0, u8::is_ascii_digit, b'e')
    };
    let rest = &body[digits_start..];
    let int_len = rest.iter().take_while(|b| is_digit(b)).count();
    let int = &rest[..int_len];
    let mut i = int_len;
    let mut frac: &[u8] = &[];
    if rest.get(i) == Some(&b'.') {
        let f = rest[i + 1..].iter().take_while(|b| is_digit(b)).count();
        frac = &rest[i + 1..i + 1 + f];
        i += 1 + f;
    }
    if int.is_empty() && frac.is_empty() {
        // "0x" alone converts as "0" and stops at 'x'; "." or "" convert
        // nothing. Either way the input is not fully consumed.
        return None;
    }
    let mut exp: i64 = 0;
    if i < rest.len() {
        if rest[i] | 0x20 != exp_char {
            return None;
        }
        i += 1;
        let exp_neg = match rest.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let exp_digits = &rest[i..];
        if exp_digits.is_empty() || !exp_digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        for &b in exp_digits {
            exp = (exp * 10 + i64::from(b - b'0')).min(EXP_LIMIT);
        }
        if exp_neg {
            exp = -exp;
        }
    }
    let kind = if hex {
        Kind::Hex { int, frac, exp }
    } else {
        Kind::Dec { int, frac, exp }
    };
    Some(Scanned { neg, kind })
}

fn hex_value(b: u8) -> u128 {
    u128::from(match b {
        b'0'..=b'9' => b - b'0',
        _ => (b | 0x20) - b'a' + 10,
    })
}

/// Reduces the hex digits `int.frac` times `2^exp` to `m * 2^e` plus a
/// sticky flag for nonzero digits beyond the 30 (120 bits) kept in `m`.
pub(crate) fn hex_mantissa(int: &[u8], frac: &[u8], exp: i64) -> (u128, i64, bool) {
    let mut m: u128 = 0;
    let mut kept = 0usize;
    let mut dropped = 0i64;
    let mut sticky = false;
    for &b in int.iter().chain(frac) {
        let d = hex_value(b);
        if m == 0 && d == 0 {
            continue; // leading zero
        }
        if kept < 30 {
            m = (m << 4) | d;
            kept += 1;
        } else {
            dropped += 1;
            sticky |= d != 0;
        }
    }
    let e = exp - 4 * frac.len() as i64 + 4 * dropped;
    (m, e, sticky)
}

/// Result of [`round_binary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rounded {
    /// The value rounds to zero (or is zero).
    Zero,
    /// `mant * 2^exp`, `mant < 2^prec`; either `mant >= 2^(prec-1)` or `exp`
    /// is the format's minimum (a subnormal).
    Finite { mant: u64, exp: i64 },
    /// The value rounds to a magnitude of at least `2^top_exp`.
    Overflow,
}

/// Rounds the positive value `m * 2^e` (plus "a little more" when `sticky`)
/// to a binary floating-point format with `prec` bits of precision, whose
/// smallest subnormal is `2^min_exp` and whose finite values are below
/// `2^top_exp`; round to nearest, ties to even.
///
/// When `sticky` is set `m` must carry at least two bits below the rounding
/// position (callers keep it at 100+ bits), so that "more than zero below
/// `m`" never decides a tie on its own.
pub(crate) fn round_binary(
    m: u128,
    e: i64,
    sticky: bool,
    prec: u32,
    min_exp: i64,
    top_exp: i64,
) -> Rounded {
    if m == 0 {
        return Rounded::Zero;
    }
    let bits = i64::from(128 - m.leading_zeros());
    let msb = e + bits - 1;
    let mut lsb = (msb - (i64::from(prec) - 1)).max(min_exp);
    let shift = lsb - e;
    let mut q: u128 = if shift <= 0 {
        debug_assert!(!sticky, "sticky without guard bits");
        // Exact: the value has at most `prec` significant bits from `lsb`.
        m << (-shift)
    } else if shift > 128 {
        // m * 2^e < 2^(lsb - 1): below half of the smallest subnormal.
        return Rounded::Zero;
    } else {
        let (q0, r) = if shift == 128 {
            (0, m)
        } else {
            (m >> shift, m & ((1u128 << shift) - 1))
        };
        let half = 1u128 << (shift - 1);
        let up = r > half || (r == half && (sticky || q0 & 1 == 1));
        q0 + u128::from(up)
    };
    if q >> prec != 0 {
        q >>= 1;
        lsb += 1;
    }
    if q == 0 {
        return Rounded::Zero;
    }
    if lsb + i64::from(128 - q.leading_zeros()) > top_exp {
        return Rounded::Overflow;
    }
    Rounded::Finite {
        mant: q as u64,
        exp: lsb,
    }
}

/// Appends `d` formatted as C's `printf("%.17g", d)`, which is what Redis
/// 7.0's `addReplyDouble` sends: 17 significant digits, correctly rounded
/// (ties to even), trailing zeros and a bare `.` removed, exponent form
/// (`e+XX`, at least two exponent digits) when the decimal exponent is below
/// -4 or at least 17. Infinities are `inf` and `-inf`, NaN is `nan`, and
/// negative zero is `-0`.
///
/// # Examples
///
/// ```ignore
/// let mut out = Vec::new();
/// fmt_double(&mut out, 1.1);
/// assert_eq!(out, b"1.1000000000000001");
/// ```
pub fn fmt_double(out: &mut Vec<u8>, d: f64) {
    if d.is_nan() {
        out.extend_from_slice(b"nan");
        return;
    }
    if d.is_infinite() {
        out.extend_from_slice(if d > 0.0 { b"inf" } else { b"-inf" });
        return;
    }
    if d == 0.0 {
        out.extend_from_slice(if d.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    // Integers below 1e17 have at most 17 digits and print as themselves.
    if d.fract() == 0.0 && d.abs() < 1e17 {
        let mut buf = itoa::Buffer::new();
        out.extend_from_slice(buf.format(d as i64).as_bytes());
        return;
    }
    let mut sci = StackBuf::new();
    // `{:.16e}` is exact and rounds ties to even, like glibc's printf.
    // Shape: "-d.dddddddddddddddde-X".
    let _ = write!(sci, "{d:.16e}");
    let text = sci.as_bytes();
    let (neg, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let mut digits = [0u8; 17];
    digits[0] = text[0];
    digits[1..].copy_from_slice(&text[2..18]);
    let exp: i32 = std::str::from_utf8(&text[19..])
        .ok()
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    let sig = 17 - digits.iter().rev().take_while(|&&b| b == b'0').count();
    if neg {
        out.push(b'-');
    }
    if !(-4..17).contains(&exp) {
        out.push(digits[0]);
        if sig > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..sig]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push(b'0');
        }
        let mut buf = itoa::Buffer::new();
        out.extend_from_slice(buf.format(a).as_bytes());
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        out.extend_from_slice(&digits[..int_len]);
        if sig > int_len {
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..sig]);
        }
    } else {
        out.extend_from_slice(b"0.");
        for _ in 0..(-exp - 1) {
            out.push(b'0');
        }
        out.extend_from_slice(&digits[..sig]);
    }
}

/// Redis 7.0's `double2ll`: `Some(i)` when `d` lies within ±2^62 and equals
/// the integer `i` (so `-0.0` gives `Some(0)`), `None` otherwise.
///
/// A listpack-encoded zset stores such a score as an integer, which is why
/// `ZADD z -0 m` followed by `ZSCORE z m` answers `0` in Redis 7.0 (a
/// skiplist-encoded zset keeps the double and answers `-0`).
pub fn double_to_i64_exact(d: f64) -> Option<i64> {
    const LIMIT: f64 = (i64::MAX / 2) as f64; // 2^62 once converted, as in C
    if !(-LIMIT..=LIMIT).contains(&d) {
        return None; // also NaN
    }
    let i = d as i64;
    (i as f64 == d).then_some(i)
}

/// A fixed buffer for `core::fmt` output, so formatting never allocates.
pub(crate) struct StackBuf {
    buf: [u8; 48],
    len: usize,
}

impl StackBuf {
    pub(crate) fn new() -> Self {
        StackBuf {
            buf: [0; 48],
            len: 0,
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fmt(d: f64) -> String {
        let mut out = Vec::new();
        fmt_double(&mut out, d);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn parse_i64_util_c_cases() {
        // The string2ll cases of Redis's util.c test section.
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b"1 "), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"1"), Some(1));
        assert_eq!(parse_i64(b"99"), Some(99));
        assert_eq!(parse_i64(b"-99"), Some(-99));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"-9223372036854775809"), None);
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
    }

    #[test]
    fn parse_i64_rejects_odd_forms() {
        for s in [
            &b""[..],
            b"-",
            b"-0",
            b"00",
            b"-01",
            b"1.0",
            b"1e3",
            b"0x10",
            b"18446744073709551616",
            b"99999999999999999999",
            b"00000000000000000001",
            b"1\0",
            b"\x001",
            b"--1",
            b"\xd9\xa1",
        ] {
            assert_eq!(parse_i64(s), None, "{:?}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn parse_u64_matches_stream_id_parsing() {
        // Each case checked on redis-server 7.0.15 as the sequence half of an
        // ID: XADD s 5-<seq> f v (" -3" -> 5-18446744073709551613, etc.).
        let cases: &[(&[u8], Option<u64>)] = &[
            (b" -3", Some(18446744073709551613)),
            (b"+3", Some(3)),
            (b"007", Some(7)),
            (b" 1", Some(1)),
            (b"18446744073709551615", Some(u64::MAX)),
            (b"18446744073709551616", None),
            (b" -18446744073709551615", Some(1)),
            (b"\t2", Some(2)),
            (b"\x0b3", Some(3)),
            (b"\x0c3", Some(3)),
            (b"\r3", Some(3)),
            (b"\n3", Some(3)),
            (b"2 ", None),
            (b"", None),
            (b"0x5", None),
            (b"+", None),
            (b" ", None),
            (b"1\0", Some(1)),
            (b"-3", None),
            (b"-0", Some(0)),
            (b"0", Some(0)),
            (b"1.5", None),
        ];
        for &(s, want) in cases {
            assert_eq!(parse_u64(s), want, "{:?}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn parse_f64_matches_zadd() {
        // ZADD z <s> m; ZSCORE z m on redis-server 7.0.15.
        let ok: &[(&[u8], &str)] = &[
            (b"0x10", "16"),
            (b"0X1p4", "16"),
            (b"0x1.8p1", "3"),
            (b"0x.8", "0.5"),
            (b"1e-310", "9.9999999999999694e-311"),
            (b"inf", "inf"),
            (b"+inf", "inf"),
            (b"-inf", "-inf"),
            (b"infinity", "inf"),
            (b"INFINITY", "inf"),
            (b"Inf", "inf"),
            (b"1.", "1"),
            (b".5", "0.5"),
            (b"+.5e-2", "0.0050000000000000001"),
            (b"1.1", "1.1000000000000001"),
            (b"1e20", "1e+20"),
            (b"1.5e-7", "1.4999999999999999e-07"),
            (b"3", "3"),
            (b"0.1", "0.10000000000000001"),
            (b"123456789012345678", "1.2345678901234568e+17"),
            (b"1e17", "1e+17"),
            (b"4611686018427387904", "4.6116860184273879e+18"),
            (b"1e16", "10000000000000000"),
            (b"100000000000000005", "1e+17"),
            (b"1000000000000000.25", "1000000000000000.2"),
            (b"2.4703282292062328e-324", "4.9406564584124654e-324"),
            (b"0x1.0000000000001p-1074", "4.9406564584124654e-324"),
        ];
        for &(s, want) in ok {
            let v = parse_f64(s).unwrap_or_else(|| panic!("{s:?} rejected"));
            assert_eq!(fmt(v), want, "{:?}", String::from_utf8_lossy(s));
        }
        // All "ERR value is not a valid float" on redis-server 7.0.15.
        for s in [
            &b"0x"[..],
            b"1e400",
            b"1e-400",
            b" 1",
            b"1 ",
            b"nan",
            b"  .5",
            b"1e",
            b"1e+",
            b"0x1p",
            b"\0",
            b"1\0",
            b"2.4703282292062327e-324",
            b"infin",
            b"0x1p-1075",
            b"0x1p1024",
            b"0x1.fffffffffffff8p1023",
        ] {
            assert_eq!(parse_f64(s), None, "{:?}", String::from_utf8_lossy(s));
        }
    }

    /// Expected strings from redis-server 7.0.15 (ZSCORE) or C's printf.
    #[test]
    fn fmt_double_examples() {
        assert_eq!(fmt(1.1), "1.1000000000000001");
        assert_eq!(fmt(3.0), "3");
        assert_eq!(fmt(1e20), "1e+20");
        assert_eq!(fmt(1.5e-7), "1.4999999999999999e-07");
        assert_eq!(fmt(f64::INFINITY), "inf");
        assert_eq!(fmt(f64::NEG_INFINITY), "-inf");
        assert_eq!(fmt(f64::NAN), "nan");
        assert_eq!(fmt(-0.0), "-0");
        assert_eq!(fmt(0.0), "0");
        assert_eq!(fmt(-2.5), "-2.5");
        assert_eq!(fmt(1e-5), "1.0000000000000001e-05");
        assert_eq!(fmt(1e-4), "0.0001");
        assert_eq!(fmt(99999999999999999.0), "1e+17");
        assert_eq!(fmt(1e100), "1e+100");
        assert_eq!(fmt(-1e-300), "-1e-300");
    }

    #[test]
    fn double_to_i64_exact_is_double2ll() {
        assert_eq!(double_to_i64_exact(-0.0), Some(0));
        assert_eq!(double_to_i64_exact(3.0), Some(3));
        assert_eq!(double_to_i64_exact(-3.0), Some(-3));
        assert_eq!(double_to_i64_exact(1.5), None);
        assert_eq!(double_to_i64_exact(4611686018427387904.0), Some(1 << 62));
        assert_eq!(
            double_to_i64_exact(-4611686018427387904.0),
            Some(-(1 << 62))
        );
        assert_eq!(double_to_i64_exact(4611686018427388928.0), None);
        assert_eq!(double_to_i64_exact(f64::NAN), None);
        assert_eq!(double_to_i64_exact(f64::INFINITY), None);
    }

    #[test]
    fn round_binary_ties_to_even() {
        // 0b1011 with prec 3: 0b101|1 -> tie, 101 is odd -> 110.
        assert_eq!(
            round_binary(0b1011, 0, false, 3, -100, 100),
            Rounded::Finite {
                mant: 0b110,
                exp: 1
            }
        );
        // 0b1001 -> tie, 100 even -> stays.
        assert_eq!(
            round_binary(0b1001, 0, false, 3, -100, 100),
            Rounded::Finite {
                mant: 0b100,
                exp: 1
            }
        );
        // Carry out of the mantissa bumps the exponent.
        assert_eq!(
            round_binary(0b1111, 0, false, 3, -100, 100),
            Rounded::Finite {
                mant: 0b100,
                exp: 2
            }
        );
        assert_eq!(
            round_binary(0b1111, 0, false, 3, -100, 4),
            Rounded::Overflow
        );
        assert_eq!(round_binary(1, -102, false, 3, -100, 100), Rounded::Zero);
        // Exactly half the smallest subnormal: tie to even (zero).
        assert_eq!(round_binary(1, -101, false, 3, -100, 100), Rounded::Zero);
        assert_eq!(
            round_binary(3, -102, false, 3, -100, 100),
            Rounded::Finite { mant: 1, exp: -100 }
        );
    }

    /// Golden vectors from glibc (testdata/num/gen.c): `strtod` under Redis's
    /// `string2d` rules, and `printf("%.17g")`.
    #[test]
    fn golden_strtod_and_printf() {
        let text = include_str!("../../testdata/num/f64.txt");
        let (mut parsed, mut printed) = (0, 0);
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&str> = line.split('\t').collect();
            match f[0] {
                "d" => {
                    let input = unhex(f[1]);
                    let got = parse_f64(&input).map(f64::to_bits);
                    let want = (f[2] != "-").then(|| u64::from_str_radix(f[2], 16).unwrap());
                    assert_eq!(
                        got,
                        want,
                        "parse_f64({:?})",
                        String::from_utf8_lossy(&input)
                    );
                    parsed += 1;
                }
                "g" => {
                    let d = f64::from_bits(u64::from_str_radix(f[1], 16).unwrap());
                    assert_eq!(fmt(d), f[2], "fmt_double of bits {}", f[1]);
                    printed += 1;
                }
                _ => {}
            }
        }
        assert!(
            parsed > 3000 && printed > 3000,
            "{parsed} parsed, {printed} printed"
        );
    }

    pub(crate) fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5_000))]

        #[test]
        fn parse_i64_roundtrips(v: i64) {
            prop_assert_eq!(parse_i64(v.to_string().as_bytes()), Some(v));
            prop_assert_eq!(parse_u64(v.to_string().as_bytes()), u64::try_from(v).ok());
        }

        #[test]
        fn parse_u64_roundtrips(v: u64) {
            prop_assert_eq!(parse_u64(v.to_string().as_bytes()), Some(v));
        }

        #[test]
        fn parse_i64_agrees_with_a_naive_reading(s in "-?[0-9]{0,21}") {
            let naive = if s == "-0" || (s.len() > 1 && s.trim_start_matches('-').starts_with('0')) {
                None
            } else {
                s.parse::<i64>().ok()
            };
            prop_assert_eq!(parse_i64(s.as_bytes()), naive);
        }

        #[test]
        fn fmt_double_roundtrips_through_parse(bits: u64) {
            let d = f64::from_bits(bits);
            let mut out = Vec::new();
            fmt_double(&mut out, d);
            prop_assert!(out.len() <= 24);
            let back = parse_f64(&out);
            if d.is_nan() {
                prop_assert_eq!(back, None);
            } else {
                prop_assert_eq!(back.map(f64::to_bits), Some(bits));
            }
        }

        #[test]
        fn parse_f64_agrees_with_rust_on_plain_decimals(s in "[+-]?[0-9]{0,20}(\\.[0-9]{0,20})?([eE][+-]?[0-9]{1,3})?") {
            let ours = parse_f64(s.as_bytes());
            match s.parse::<f64>() {
                Ok(v) if v.is_finite() && (v != 0.0 || !s.bytes().take_while(|&b| b != b'e' && b != b'E').any(|b| (b'1'..=b'9').contains(&b))) => {
                    prop_assert_eq!(ours.map(f64::to_bits), Some(v.to_bits()));
                }
                _ => prop_assert_eq!(ours, None),
            }
        }

        #[test]
        fn no_panics_on_arbitrary_bytes(s in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_i64(&s);
            let _ = parse_u64(&s);
            if let Some(v) = parse_f64(&s) {
                prop_assert!(!v.is_nan());
            }
        }

        #[test]
        fn no_panics_on_number_like_bytes(s in prop::collection::vec(prop::sample::select(b"0123456789abcdefxXpPeE.+-infINF \0".to_vec()), 0..40)) {
            let _ = parse_i64(&s);
            let _ = parse_u64(&s);
            let _ = parse_f64(&s);
        }
    }
}
