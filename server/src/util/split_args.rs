//! Redis's `sdssplitargs`: a line split into words as Redis splits
//! redis.conf lines, the AOF manifest and ACL selectors.

/// Redis's `sdssplitargs`: words split on white space, `"..."` with
/// escapes (`\xHH`, `\n`...) and `'...'`; `None` for an unbalanced quote
/// or a closing quote followed by something other than a space. A NUL
/// ends the input, as in C.
pub fn split_args(s: &[u8]) -> Option<Vec<Vec<u8>>> {
    let s = s.split(|&b| b == 0).next().unwrap_or_default();
    let space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::new();
    let mut p = 0;
    loop {
        while p < s.len() && space(s[p]) {
            p += 1;
        }
        if p >= s.len() {
            return Some(out);
        }
        let (mut inq, mut insq) = (false, false);
        let mut cur = Vec::new();
        loop {
            let c = s.get(p).copied();
            if inq {
                match c {
                    None => return None,
                    Some(b'\\')
                        if s.get(p + 1) == Some(&b'x')
                            && s.get(p + 2).and_then(|&b| hex(b)).is_some()
                            && s.get(p + 3).and_then(|&b| hex(b)).is_some() =>
                    {
                        let hi = hex(s[p + 2]).unwrap_or(0);
                        let lo = hex(s[p + 3]).unwrap_or(0);
                        cur.push((hi * 16 + lo) as u8);
                        p += 3;
                    }
                    Some(b'\\') if p + 1 < s.len() => {
                        p += 1;
                        cur.push(match s[p] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        });
                    }
                    Some(b'"') => {
                        if s.get(p + 1).is_some_and(|&b| !space(b)) {
                            return None;
                        }
                        p += 1;
                        break;
                    }
                    Some(b) => cur.push(b),
                }
            } else if insq {
                match c {
                    None => return None,
                    Some(b'\\') if s.get(p + 1) == Some(&b'\'') => {
                        p += 1;
                        cur.push(b'\'');
                    }
                    Some(b'\'') => {
                        if s.get(p + 1).is_some_and(|&b| !space(b)) {
                            return None;
                        }
                        p += 1;
                        break;
                    }
                    Some(b) => cur.push(b),
                }
            } else {
                match c {
                    None => break,
                    Some(b' ' | b'\n' | b'\r' | b'\t') => {
                        p += 1;
                        break;
                    }
                    Some(b'"') => inq = true,
                    Some(b'\'') => insq = true,
                    Some(b) => cur.push(b),
                }
            }
            p += 1;
        }
        out.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_escapes_and_c_string_ends_split_as_sdssplitargs() {
        assert_eq!(
            split_args(b"a \"\\x41\\n\" 'it\\'s'").unwrap(),
            vec![b"a".to_vec(), b"A\n".to_vec(), b"it's".to_vec()]
        );
        assert_eq!(
            split_args(b"save \"\" ").unwrap(),
            vec![b"save".to_vec(), Vec::new()]
        );
        assert_eq!(
            split_args(b"a b\0c d").unwrap(),
            vec![b"a".to_vec(), b"b".to_vec()]
        );
        // isspace() skips \v and \f between words; only space, \t, \n
        // and \r end an unquoted word.
        assert_eq!(
            split_args(b"\x0ba\x0c b").unwrap(),
            vec![b"a\x0c".to_vec(), b"b".to_vec()]
        );
        assert_eq!(split_args(b"a \"b\"c"), None);
        assert_eq!(split_args(b"a 'b"), None);
    }
}
