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
