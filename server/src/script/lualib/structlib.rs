//! `struct`: Roberto Ierusalimschy's library for packing and unpacking
//! binary data (the 2018 version Redis carries), with C `long` as its
//! integer type and x86-64's sizes and native little-endian order.
//!
//! # Format
//!
//! `>` big endian, `<` little endian, `![n]` maximum alignment (default
//! 8), `x` a zero byte, `b/B` `h/H` `l/L` signed/unsigned 1, 2 and 8-byte
//! integers, `T` an 8-byte size, `i/In` `I/In` integers of `n` bytes
//! (default 4, at most 32), `cn` `n` bytes (`c0`: the whole string when
//! packing, the previous number as a length when unpacking), `s` a
//! zero-terminated string, `f` float, `d` double, space ignored. There is
//! no `=` in this version: it is an invalid option, as in Redis.

use mlua::{Lua, MultiValue, Table, Value};

use super::{
    arg_fail, c_f64_to_i64, c_f64_to_u64, check_bytes, check_number, fail, function, one,
    opt_integer, to_number, LibResult, MAX_C_STACK,
};

/// Largest integer size, `MAXINTSIZE`.
const MAX_INT_SIZE: u64 = 32;
/// Default of `!`: the alignment of a double on x86-64.
const MAX_ALIGN: i32 = 8;

/// Builds the `struct` table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("pack", function(lua, "pack", |l, a| pack(l, &a))?)?;
    t.raw_set("unpack", function(lua, "unpack", |l, a| unpack(l, &a))?)?;
    t.raw_set("size", function(lua, "size", |l, a| size(l, &a))?)?;
    Ok(t)
}

/// Byte order and maximum alignment, changed by `<`, `>` and `!`.
struct Header {
    little: bool,
    align: u64,
}

impl Header {
    fn new() -> Self {
        Header {
            little: true,
            align: 1,
        }
    }
}

/// A format string as C walks it: up to its first zero byte.
struct Fmt<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Fmt<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        let end = memchr::memchr(0, bytes).unwrap_or(bytes.len());
        Fmt {
            bytes: &bytes[..end],
            at: 0,
        }
    }

    fn next(&mut self) -> Option<u8> {
        let c = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(c)
    }

    /// `getnum`: digits at the cursor, or `default`.
    fn num(&mut self, default: i32) -> LibResult<i32> {
        if !self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: i32 = 0;
        while let Some(&c) = self.bytes.get(self.at).filter(|c| c.is_ascii_digit()) {
            let d = i32::from(c - b'0');
            if a > i32::MAX / 10 || a * 10 > i32::MAX - d {
                return fail("integral size overflow");
            }
            a = a * 10 + d;
            self.at += 1;
        }
        Ok(a)
    }

    /// `optsize`: the size of option `opt`, reading its number if it
    /// takes one; 0 for options without a size.
    fn size(&mut self, opt: u8) -> LibResult<u64> {
        Ok(match opt {
            b'B' | b'b' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'x' => 1,
            b'c' => self.num(1)? as u64,
            b'i' | b'I' => {
                let sz = self.num(4)?;
                if sz as u64 > MAX_INT_SIZE {
                    return fail(format!(
                        "integral size {sz} is larger than limit of {MAX_INT_SIZE}"
                    ));
                }
                sz as u64
            }
            _ => 0,
        })
    }

    /// `controloptions`: endianness, alignment, spaces; anything else is
    /// an invalid option.
    fn control(&mut self, opt: u8, h: &mut Header) -> LibResult<()> {
        match opt {
            b' ' => {}
            b'>' => h.little = false,
            b'<' => h.little = true,
            b'!' => {
                let a = self.num(MAX_ALIGN)?;
                if !(a > 0 && a & (a - 1) == 0) {
                    return fail(format!("alignment {a} is not a power of 2"));
                }
                h.align = a as u64;
            }
            _ => {
                let mut msg = b"invalid format option '".to_vec();
                msg.push(opt);
                msg.push(b'\'');
                return arg_fail(1, msg);
            }
        }
        Ok(())
    }
}

/// `gettoalign`: padding before an element of `size` bytes at `len`.
fn to_align(len: u64, h: &Header, opt: u8, size: u64) -> u64 {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size.wrapping_sub(len & size.wrapping_sub(1))) & size.wrapping_sub(1)
}

fn is_int_option(opt: u8) -> bool {
    matches!(
        opt,
        b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I'
    )
}

/// Puts `bytes` (least significant first) in the order asked.
fn ordered(mut bytes: Vec<u8>, little: bool) -> Vec<u8> {
    if !little {
        bytes.reverse();
    }
    bytes
}

/// The value of argument `narg` of `pack`. Redis's pack pushes a nil
/// after its arguments before it reads them, so the first missing one is
/// "nil" in errors rather than "no value".
fn pack_arg(args: &MultiValue, narg: i32) -> MultiValue {
    let mut padded = args.clone();
    if narg as usize == args.len() + 1 {
        padded.push_back(Value::Nil);
    }
    padded
}

fn pack(lua: &Lua, args: &MultiValue) -> LibResult<MultiValue> {
    let fmt_bytes = check_bytes(lua, args, 1)?;
    let mut fmt = Fmt::new(&fmt_bytes);
    let mut h = Header::new();
    let mut narg = 2;
    let mut out = Vec::new();
    let mut total: u64 = 0;
    while let Some(opt) = fmt.next() {
        let mut size = fmt.size(opt)?;
        let pad = to_align(total, &h, opt, size);
        total = total.wrapping_add(pad);
        out.resize(out.len() + pad as usize, 0);
        match opt {
            _ if is_int_option(opt) => {
                let n = check_number(lua, &pack_arg(args, narg), narg)?;
                narg += 1;
                let mut value = if n < 0.0 {
                    c_f64_to_i64(n) as u64
                } else {
                    c_f64_to_u64(n)
                };
                let mut le = Vec::with_capacity(size as usize);
                for _ in 0..size {
                    le.push((value & 0xff) as u8);
                    value >>= 8;
                }
                out.extend_from_slice(&ordered(le, h.little));
            }
            b'x' => out.push(0),
            b'f' => {
                let f = check_number(lua, &pack_arg(args, narg), narg)? as f32;
                narg += 1;
                out.extend_from_slice(&ordered(f.to_le_bytes().to_vec(), h.little));
            }
            b'd' => {
                let d = check_number(lua, &pack_arg(args, narg), narg)?;
                narg += 1;
                out.extend_from_slice(&ordered(d.to_le_bytes().to_vec(), h.little));
            }
            b'c' | b's' => {
                let s = check_bytes(lua, &pack_arg(args, narg), narg)?;
                narg += 1;
                let l = s.len() as u64;
                if size == 0 {
                    size = l;
                }
                if l < size {
                    // Redis reports the argument after the string.
                    return arg_fail(narg, "string too short");
                }
                out.extend_from_slice(&s[..size as usize]);
                if opt == b's' {
                    out.push(0);
                    size += 1;
                }
            }
            _ => fmt.control(opt, &mut h)?,
        }
        total = total.wrapping_add(size);
    }
    Ok(one(Value::String(lua.create_string(&out)?)))
}

/// `getinteger`: `bytes` as an integer of `long` width (only the low
/// eight bytes survive in longer sizes), sign-extended when signed.
fn get_integer(bytes: &[u8], little: bool, signed: bool) -> f64 {
    let size = bytes.len() as u32;
    let mut l: u64 = 0;
    let mut push = |b: u8| l = (l << 8) | u64::from(b);
    if little {
        bytes.iter().rev().for_each(|&b| push(b));
    } else {
        bytes.iter().for_each(|&b| push(b));
    }
    if !signed {
        return l as f64;
    }
    // C shifts by (size*8 - 1); x86 takes the count modulo 64.
    let mask = u64::MAX << ((size * 8).wrapping_sub(1) & 63);
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

fn unpack(lua: &Lua, args: &MultiValue) -> LibResult<MultiValue> {
    let fmt_bytes = check_bytes(lua, args, 1)?;
    let data = check_bytes(lua, args, 2)?;
    let ld = data.len() as u64;
    let mut pos = opt_integer(lua, args, 3, 1)? as u64;
    if pos == 0 {
        return arg_fail(3, "offset must be 1 or greater");
    }
    pos -= 1;
    let nargs = args.len();
    let mut fmt = Fmt::new(&fmt_bytes);
    let mut h = Header::new();
    let mut results: Vec<Value> = Vec::new();
    let short = || arg_fail(2, "data string too short");
    while let Some(opt) = fmt.next() {
        let mut size = fmt.size(opt)?;
        pos = pos.wrapping_add(to_align(pos, &h, opt, size));
        if !(size <= ld && pos <= ld - size) {
            return short();
        }
        if nargs + results.len() + 2 > MAX_C_STACK {
            return fail("stack overflow (too many results)");
        }
        let at = pos as usize;
        match opt {
            _ if is_int_option(opt) => {
                let bytes = &data[at..at + size as usize];
                let n = get_integer(bytes, h.little, opt.is_ascii_lowercase());
                results.push(Value::Number(n));
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[at..at + 4]);
                let f = if h.little {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                };
                results.push(Value::Number(f64::from(f)));
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[at..at + 8]);
                let d = if h.little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                };
                results.push(Value::Number(d));
            }
            b'c' => {
                if size == 0 {
                    let prev = match results.last() {
                        Some(v) => to_number(lua, Some(v))?,
                        None => None,
                    };
                    let Some(n) = prev else {
                        return fail("format 'c0' needs a previous size");
                    };
                    size = c_f64_to_u64(n);
                    results.pop();
                    if !(size <= ld && pos <= ld - size) {
                        return short();
                    }
                }
                let s = lua.create_string(&data[at..at + size as usize])?;
                results.push(Value::String(s));
            }
            b's' => {
                let Some(len) = memchr::memchr(0, &data[at..]) else {
                    return fail("unfinished string in data");
                };
                size = len as u64 + 1;
                results.push(Value::String(lua.create_string(&data[at..at + len])?));
            }
            _ => fmt.control(opt, &mut h)?,
        }
        pos = pos.wrapping_add(size);
    }
    results.push(Value::Number(pos.wrapping_add(1) as i64 as f64));
    Ok(MultiValue::from_vec(results))
}

fn size(lua: &Lua, args: &MultiValue) -> LibResult<MultiValue> {
    let fmt_bytes = check_bytes(lua, args, 1)?;
    let mut fmt = Fmt::new(&fmt_bytes);
    let mut h = Header::new();
    let mut pos: u64 = 0;
    while let Some(opt) = fmt.next() {
        let size = fmt.size(opt)?;
        pos = pos.wrapping_add(to_align(pos, &h, opt, size));
        if opt == b's' {
            return arg_fail(1, "option 's' has no fixed size");
        } else if opt == b'c' && size == 0 {
            return arg_fail(1, "option 'c0' has no fixed size");
        }
        if !opt.is_ascii_alphanumeric() {
            fmt.control(opt, &mut h)?;
        }
        pos = pos.wrapping_add(size);
    }
    Ok(one(Value::Number(pos as i64 as f64)))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{err, eval};

    fn hex(code: &str) -> String {
        eval(&format!(
            "local s = {code} return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end))"
        ))
    }

    #[test]
    fn packs_integers_in_both_orders() {
        assert_eq!(hex("struct.pack('>i2<i2', 258, 258)"), "01020201");
        assert_eq!(hex("struct.pack('>I3', -1)"), "ffffff");
        assert_eq!(hex("struct.pack('<l', -2)"), "feffffffffffffff");
        assert_eq!(hex("struct.pack('>i10', -1)"), "0000ffffffffffffffff");
    }

    #[test]
    fn alignment_pads_up_to_the_maximum() {
        assert_eq!(hex("struct.pack('!4bi', 1, 2)"), "0100000002000000");
        assert_eq!(eval("return tostring(struct.size('!bd'))"), "16");
        assert_eq!(eval("return tostring(struct.size('bd'))"), "9");
    }

    #[test]
    fn unpacks_with_offsets_and_counted_strings() {
        assert_eq!(
            eval("return table.concat({struct.unpack('>bc0', '\\3abcd')}, ',')"),
            "abc,5"
        );
        assert_eq!(
            eval("return table.concat({struct.unpack('s', 'xyhi\\0', 3)}, ',')"),
            "hi,6"
        );
        assert_eq!(
            eval("return tostring(struct.unpack('>i9', ('\\255'):rep(9)))"),
            "-1"
        );
    }

    #[test]
    fn error_texts() {
        assert_eq!(
            err("struct.pack('=i', 1)"),
            "string:t:1: bad argument #1 to 'pack' (invalid format option '=')"
        );
        assert_eq!(
            err("struct.pack('c5', 'ab')"),
            "string:t:1: bad argument #3 to 'pack' (string too short)"
        );
        assert_eq!(
            err("struct.size('i33')"),
            "string:t:1: integral size 33 is larger than limit of 32"
        );
        assert_eq!(
            err("struct.size('!3')"),
            "string:t:1: alignment 3 is not a power of 2"
        );
        assert_eq!(
            err("struct.unpack('i', 'ab')"),
            "string:t:1: bad argument #2 to 'unpack' (data string too short)"
        );
        assert_eq!(
            err("struct.unpack('c0', 'ab')"),
            "string:t:1: format 'c0' needs a previous size"
        );
        assert_eq!(
            err("struct.unpack('s', 'ab')"),
            "string:t:1: unfinished string in data"
        );
        assert_eq!(
            err("struct.unpack('b', 'ab', 0)"),
            "string:t:1: bad argument #3 to 'unpack' (offset must be 1 or greater)"
        );
        assert_eq!(
            err("struct.size('i99999999999')"),
            "string:t:1: integral size overflow"
        );
    }
}
