//! Argument parsing shared by handlers, with Redis's error replies.

use crate::error::CmdError;
use crate::util::num::{parse_f64, parse_i64};

/// An integer argument (`ERR value is not an integer or out of range`).
pub fn int(a: &[u8]) -> Result<i64, CmdError> {
    parse_i64(a).ok_or(CmdError::NotInteger)
}

/// A 32-bit integer argument, as Redis's `getIntFromObjectOrReply`: a
/// non-integer is `value is not an integer or out of range`, an integer
/// outside i32 is `value is out of range, value must between ...`.
pub fn int32(a: &[u8]) -> Result<i32, CmdError> {
    let n = int(a)?;
    i32::try_from(n).map_err(|_| {
        CmdError::msg("ERR value is out of range, value must between -2147483648 and 2147483647")
    })
}

/// A float argument (`ERR value is not a valid float`).
pub fn float(a: &[u8]) -> Result<f64, CmdError> {
    parse_f64(a).ok_or(CmdError::NotFloat)
}

/// An integer argument with a custom error line for values that do not parse
/// or fall outside `min..=max` (Redis's `getRangeLongFromObjectOrReply`).
pub fn int_in(a: &[u8], min: i64, max: i64, err: &'static str) -> Result<i64, CmdError> {
    match parse_i64(a) {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(CmdError::msg(err)),
    }
}

/// True when `a` equals `word`, ignoring ASCII case. `word` is upper case.
pub fn is(a: &[u8], word: &str) -> bool {
    a.eq_ignore_ascii_case(word.as_bytes())
}

/// A lower-case copy of an option name for `match` (at most 32 bytes; longer
/// names become empty and match nothing).
pub fn lower(a: &[u8]) -> LowerBuf {
    let mut buf = LowerBuf {
        bytes: [0; 32],
        len: 0,
    };
    if a.len() <= buf.bytes.len() {
        for (d, s) in buf.bytes.iter_mut().zip(a) {
            *d = s.to_ascii_lowercase();
        }
        buf.len = a.len();
    }
    buf
}

/// A short lower-cased argument, see [`lower`].
pub struct LowerBuf {
    bytes: [u8; 32],
    len: usize,
}

impl LowerBuf {
    /// The lower-cased text (empty if not UTF-8 or too long).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

/// Parses a SCAN cursor as Redis does (`strtoul`: an optional sign, digits,
/// no leading space, no trailing bytes, no overflow; "-1" wraps).
pub fn parse_cursor(a: &[u8]) -> Result<u64, CmdError> {
    let invalid = || CmdError::msg("ERR invalid cursor");
    let (neg, digits) = match a.first() {
        Some(b'-') => (true, &a[1..]),
        Some(b'+') => (false, &a[1..]),
        _ => (false, a),
    };
    if a.first().is_some_and(|b| b.is_ascii_whitespace()) {
        return Err(invalid());
    }
    let mut n: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(invalid());
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add((d - b'0') as u64))
            .ok_or_else(invalid)?;
    }
    if digits.is_empty() && !a.is_empty() {
        return Err(invalid());
    }
    Ok(if neg { n.wrapping_neg() } else { n })
}

/// The options of HSCAN/SSCAN/ZSCAN after the cursor.
pub struct ScanOpts<'x> {
    /// MATCH pattern (None for none or `*`).
    pub pattern: Option<&'x [u8]>,
    /// COUNT (default 10).
    pub count: usize,
}

/// Parses `[MATCH pattern] [COUNT count]` from `a[from..]` as Redis's
/// `scanGenericCommand` does for a key's scan.
pub fn scan_opts<'x>(a: &[&'x [u8]], from: usize) -> Result<ScanOpts<'x>, CmdError> {
    let mut o = ScanOpts {
        pattern: None,
        count: 10,
    };
    let mut j = from;
    while j < a.len() {
        if j + 1 >= a.len() {
            return Err(CmdError::Syntax);
        }
        if is(a[j], "COUNT") {
            let n = int(a[j + 1])?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            o.count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if is(a[j], "MATCH") {
            o.pattern = Some(a[j + 1]).filter(|p| *p != b"*");
        } else {
            return Err(CmdError::Syntax);
        }
        j += 2;
    }
    Ok(o)
}

/// The largest reply HRANDFIELD/SRANDMEMBER with a negative count may build:
/// Redis streams any size (and can be killed for it); we refuse counts whose
/// reply could not fit in memory anyway.
pub const MAX_RANDOM_REPLY: u64 = 1 << 26;

/// The count of HRANDFIELD/SRANDMEMBER: an integer in
/// `-i64::MAX..=i64::MAX` (Redis negates it, so `i64::MIN` is refused).
pub fn random_count(a: &[u8]) -> Result<i64, CmdError> {
    match int(a)? {
        i64::MIN => Err(CmdError::msg(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        )),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_parses_like_strtoul() {
        assert_eq!(parse_cursor(b"0"), Ok(0));
        assert_eq!(parse_cursor(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_cursor(b"-1"), Ok(u64::MAX));
        assert_eq!(parse_cursor(b"+7"), Ok(7));
        assert_eq!(parse_cursor(b""), Ok(0));
        assert!(parse_cursor(b"18446744073709551616").is_err());
        assert!(parse_cursor(b" 1").is_err());
        assert!(parse_cursor(b"1x").is_err());
        assert!(parse_cursor(b"-").is_err());
    }
}
