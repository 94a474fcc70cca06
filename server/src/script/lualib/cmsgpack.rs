//! `cmsgpack`: MessagePack for Lua (lua-cmsgpack 0.4.0, as Redis carries
//! it).
//!
//! # Encoding
//!
//! Numbers that are whole and fit in 64 bits are the smallest msgpack
//! integer that holds them; other numbers a 32-bit float when that is
//! exact, else a double. Strings are str8/16/32 (never bin). A table whose
//! keys are exactly `1..n` (the empty table too) is an array, any other a
//! map; tables nested 16 deep become nil, as does every value of another
//! type.
//!
//! # Decoding
//!
//! Every msgpack type but bin, ext and fixext (a "Bad data format"). A
//! uint64 above 2^63 comes back negative, as Redis's does (it goes
//! through a signed integer).

use mlua::{Lua, MultiValue, Table, Value};

use super::{
    arg_fail, check_bytes, check_integer, fail, function, opt_integer, Fail, LibResult, MAX_C_STACK,
};

/// Tables nested this deep are encoded as nil.
const MAX_NESTING: usize = 16;

/// Builds the `cmsgpack` table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("pack", function(lua, "pack", |l, a| pack(l, &a))?)?;
    t.raw_set("unpack", function(lua, "unpack", |l, a| unpack(l, &a))?)?;
    t.raw_set(
        "unpack_one",
        function(lua, "unpack_one", |l, a| unpack_one(l, &a))?,
    )?;
    t.raw_set(
        "unpack_limit",
        function(lua, "unpack_limit", |l, a| unpack_limit(l, &a))?,
    )?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}

fn pack(lua: &Lua, args: &MultiValue) -> LibResult<MultiValue> {
    if args.is_empty() {
        return arg_fail(0, "MessagePack pack needs input.");
    }
    if args.len() * 2 > MAX_C_STACK {
        return arg_fail(0, "Too many arguments for MessagePack pack.");
    }
    let mut out = Vec::new();
    for v in args.iter() {
        encode(v, 0, &mut out)?;
    }
    Ok(super::one(Value::String(lua.create_string(&out)?)))
}

/// Whole numbers that survive a round trip through `int64_t`.
fn as_i64(n: f64) -> Option<i64> {
    let i = super::c_f64_to_i64(n);
    (!n.is_infinite() && i as f64 == n).then_some(i)
}

fn encode(v: &Value, level: usize, out: &mut Vec<u8>) -> LibResult<()> {
    match v {
        Value::String(s) => encode_bytes(&s.as_bytes(), out),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => encode_number(*i as f64, out),
        Value::Number(n) => encode_number(*n, out),
        Value::Table(t) if level < MAX_NESTING => encode_table(t, level, out)?,
        _ => out.push(0xc0),
    }
    Ok(())
}

fn encode_number(n: f64, out: &mut Vec<u8>) {
    match as_i64(n) {
        Some(i) => encode_int(i, out),
        None => {
            let f = n as f32;
            if f64::from(f) == n {
                out.push(0xca);
                out.extend_from_slice(&f.to_be_bytes());
            } else {
                out.push(0xcb);
                out.extend_from_slice(&n.to_be_bytes());
            }
        }
    }
}

fn encode_int(n: i64, out: &mut Vec<u8>) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_bytes(s: &[u8], out: &mut Vec<u8>) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

/// Array (0x90/0xdc/0xdd) or map (0x80/0xde/0xdf) header for `n` entries.
fn encode_len(n: usize, fix: u8, b16: u8, out: &mut Vec<u8>) {
    if n <= 15 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(b16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(b16 + 1);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// Whether the keys are exactly `1..n`: positive whole numbers that fit
/// in an int, as many as the largest. Gives `n`.
fn array_len(t: &Table) -> LibResult<Option<usize>> {
    let mut max: i64 = 0;
    let mut count: usize = 0;
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(None),
        };
        let as_int = super::c_f64_to_i32(n);
        if n.is_nan() || n <= 0.0 || n.is_infinite() || f64::from(as_int) != n {
            return Ok(None);
        }
        max = max.max(i64::from(as_int));
        count += 1;
    }
    Ok((max == count as i64).then_some(count))
}

fn encode_table(t: &Table, level: usize, out: &mut Vec<u8>) -> LibResult<()> {
    if let Some(len) = array_len(t)? {
        encode_len(len, 0x90, 0xdc, out);
        for i in 1..=len {
            let v: Value = t.raw_get(i as f64)?;
            encode(&v, level + 1, out)?;
        }
    } else {
        let len = t.pairs::<Value, Value>().count();
        encode_len(len, 0x80, 0xde, out);
        for pair in t.pairs::<Value, Value>() {
            let (k, v) = pair?;
            encode(&k, level + 1, out)?;
            encode(&v, level + 1, out)?;
        }
    }
    Ok(())
}

/// How decoding stopped short.
enum Stop {
    /// `MP_CUR_ERROR_EOF`.
    Eof,
    /// `MP_CUR_ERROR_BADFMT`.
    BadFormat,
    /// A Lua error raised on the way (stack overflow, nil table index).
    Fail(Fail),
}

impl From<mlua::Error> for Stop {
    fn from(e: mlua::Error) -> Self {
        Stop::Fail(Fail::Lua(e))
    }
}

/// A table being filled. The tables themselves wait in a Lua table (see
/// [`Decoder::value`]).
enum Open {
    Array { left: u64, next: u64 },
    Map { left: u64, has_key: bool },
}

/// What one msgpack item starts: a value, or a table to fill.
enum Item {
    Value(Value),
    Open(Table, Open),
}

/// The input and the Lua stack height Redis's decoder would have.
struct Decoder<'a> {
    data: &'a [u8],
    at: usize,
    top: usize,
}

impl Decoder<'_> {
    fn left(&self) -> usize {
        self.data.len() - self.at
    }

    fn take(&mut self, n: usize) -> Result<&[u8], Stop> {
        if self.left() < n {
            return Err(Stop::Eof);
        }
        let start = self.at;
        self.at += n;
        Ok(&self.data[start..start + n])
    }

    /// A big-endian number of `n` bytes after the type byte, which is
    /// only consumed with them.
    fn be(&mut self, n: usize) -> Result<u64, Stop> {
        let b = self.take(n + 1)?;
        Ok(b[1..].iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)))
    }

    fn overflow(what: &str) -> Stop {
        Stop::Fail(Fail::Msg(format!("stack overflow ({what})").into_bytes()))
    }

    fn string(&mut self, lua: &Lua, header: usize, len: usize) -> Result<Item, Stop> {
        let b = self.take(header.saturating_add(len))?;
        Ok(Item::Value(Value::String(lua.create_string(&b[header..])?)))
    }

    fn open(&mut self, lua: &Lua, array: bool, len: u64) -> Result<Item, Stop> {
        let t = lua.create_table()?;
        self.top += 1;
        if array {
            if self.top + 1 > MAX_C_STACK {
                return Err(Self::overflow("in function mp_decode_to_lua_array"));
            }
            Ok(Item::Open(t, Open::Array { left: len, next: 1 }))
        } else {
            Ok(Item::Open(
                t,
                Open::Map {
                    left: len,
                    has_key: false,
                },
            ))
        }
    }

    /// `mp_decode_to_lua_type` up to the point where it would recurse.
    fn item(&mut self, lua: &Lua) -> Result<Item, Stop> {
        let Some(&b) = self.data.get(self.at) else {
            return Err(Stop::Eof);
        };
        if self.top + 1 > MAX_C_STACK {
            return Err(Self::overflow(
                "too many return values at once; use unpack_one or unpack_limit instead.",
            ));
        }
        let num = |n: f64| Ok(Item::Value(Value::Number(n)));
        let item = match b {
            0xcc => num(self.be(1)? as f64),
            0xd0 => num(f64::from(self.be(1)? as u8 as i8)),
            0xcd => num(self.be(2)? as f64),
            0xd1 => num(f64::from(self.be(2)? as u16 as i16)),
            0xce => num(self.be(4)? as f64),
            0xd2 => num(f64::from(self.be(4)? as u32 as i32)),
            0xcf | 0xd3 => num(self.be(8)? as i64 as f64),
            0xc0 => {
                self.at += 1;
                Ok(Item::Value(Value::Nil))
            }
            0xc2 | 0xc3 => {
                self.at += 1;
                Ok(Item::Value(Value::Boolean(b == 0xc3)))
            }
            0xca => num(f64::from(f32::from_bits(self.be(4)? as u32))),
            0xcb => num(f64::from_bits(self.be(8)?)),
            0xd9..=0xdb => {
                let n = 1 << (b - 0xd9);
                let Some(lenb) = self.data.get(self.at + 1..self.at + 1 + n) else {
                    return Err(Stop::Eof);
                };
                let len = lenb.iter().fold(0usize, |a, &x| (a << 8) | usize::from(x));
                self.string(lua, 1 + n, len)
            }
            0xdc => {
                let len = self.be(2)?;
                self.open(lua, true, len)
            }
            0xdd => {
                let len = self.be(4)?;
                self.open(lua, true, len)
            }
            0xde => {
                let len = self.be(2)?;
                self.open(lua, false, len)
            }
            0xdf => {
                let len = self.be(4)?;
                self.open(lua, false, len)
            }
            _ if b & 0x80 == 0 => {
                self.at += 1;
                num(f64::from(b))
            }
            _ if b & 0xe0 == 0xe0 => {
                self.at += 1;
                num(f64::from(b as i8))
            }
            _ if b & 0xe0 == 0xa0 => self.string(lua, 1, usize::from(b & 0x1f)),
            _ if b & 0xf0 == 0x90 => {
                self.at += 1;
                self.open(lua, true, u64::from(b & 0xf))
            }
            _ if b & 0xf0 == 0x80 => {
                self.at += 1;
                self.open(lua, false, u64::from(b & 0xf))
            }
            _ => Err(Stop::BadFormat),
        }?;
        if let Item::Value(_) = item {
            self.top += 1;
        }
        Ok(item)
    }

    /// Decodes one whole value (with everything nested in it), without
    /// recursion. mlua can hold only about 8000 values at once, so the
    /// tables being filled (and map keys waiting for their values) are
    /// kept in a Lua table, `waiting[2d - 1]` and `waiting[2d]` at depth d.
    fn value(&mut self, lua: &Lua) -> Result<Value, Stop> {
        let mut open: Vec<Open> = Vec::new();
        let mut waiting: Option<Table> = None;
        loop {
            let mut v = match self.item(lua)? {
                Item::Value(v) => v,
                Item::Open(t, Open::Array { left: 0, .. } | Open::Map { left: 0, .. }) => {
                    Value::Table(t)
                }
                Item::Open(t, o) => {
                    if let Open::Array { .. } = o {
                        self.top += 1; // the index pushed before each element
                    }
                    let w = match &waiting {
                        Some(w) => w,
                        None => waiting.insert(lua.create_table()?),
                    };
                    open.push(o);
                    w.raw_set(2 * open.len() - 1, t)?;
                    continue;
                }
            };
            // Hand the finished value to the tables waiting for it.
            loop {
                let depth = open.len();
                let Some(last) = open.last_mut() else {
                    return Ok(v);
                };
                let w = waiting.as_ref().expect("open tables wait somewhere");
                let t: Table = w.raw_get(2 * depth - 1)?;
                match last {
                    Open::Array { left, next } => {
                        t.raw_set(*next as f64, v)?;
                        self.top -= 2;
                        *next += 1;
                        *left -= 1;
                        if *left > 0 {
                            self.top += 1;
                            break;
                        }
                    }
                    Open::Map { left, has_key } => {
                        if !*has_key {
                            *has_key = true;
                            w.raw_set(2 * depth, v)?;
                            break;
                        }
                        *has_key = false;
                        let k: Value = w.raw_get(2 * depth)?;
                        match &k {
                            Value::Nil => {
                                return Err(Stop::Fail(Fail::Raw(b"table index is nil".to_vec())))
                            }
                            Value::Number(n) if n.is_nan() => {
                                return Err(Stop::Fail(Fail::Raw(b"table index is NaN".to_vec())))
                            }
                            _ => {}
                        }
                        t.raw_set(k, v)?;
                        w.raw_set(2 * depth, Value::Nil)?;
                        self.top -= 2;
                        *left -= 1;
                        if *left > 0 {
                            break;
                        }
                    }
                }
                open.pop();
                w.raw_set(2 * depth - 1, Value::Nil)?;
                v = Value::Table(t);
            }
        }
    }
}

fn unpack(lua: &Lua, args: &MultiValue) -> LibResult<MultiValue> {
    unpack_full(lua, args, args.len(), 0, 0)
}

fn unpack_one(lua: &Lua, args: &MultiValue) -> LibResult<MultiValue> {
    let offset = opt_integer(lua, args, 2, 0)?;
    unpack_full(lua, args, 1, 1, offset)
}

fn unpack_limit(lua: &Lua, args: &MultiValue) -> LibResult<MultiValue> {
    let limit = check_integer(lua, args, 2)?;
    let offset = opt_integer(lua, args, 3, 0)?;
    unpack_full(lua, args, 1, limit, offset)
}

/// `mp_unpack_full`: up to `limit` values from byte `offset`, followed by
/// the offset to go on from (-1 at the end) unless both are 0.
fn unpack_full(
    lua: &Lua,
    args: &MultiValue,
    nargs: usize,
    limit: i64,
    offset: i64,
) -> LibResult<MultiValue> {
    let s = check_bytes(lua, args, 1)?;
    let len = s.len();
    if offset < 0 || limit < 0 {
        return fail(format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as i32, len as i32
        ));
    } else if offset as u64 > len as u64 {
        return fail(format!(
            "Start offset {} greater than input length {}.",
            offset as i32, len as i32
        ));
    }
    let decode_all = limit == 0 && offset == 0;
    let limit = if decode_all {
        i64::from(i32::MAX)
    } else {
        limit
    };
    let mut d = Decoder {
        data: &s,
        at: offset as usize,
        top: nargs,
    };
    let mut out = MultiValue::new();
    let mut count: i64 = 0;
    while d.left() > 0 && count < limit {
        match d.value(lua) {
            Ok(v) => out.push_back(v),
            Err(Stop::Eof) => return fail("Missing bytes in input."),
            Err(Stop::BadFormat) => return fail("Bad data format in input."),
            Err(Stop::Fail(f)) => return Err(f),
        }
        count += 1;
    }
    if !decode_all {
        if d.top + 1 > MAX_C_STACK {
            return fail("stack overflow (in function mp_unpack_full)");
        }
        let next = if d.left() == 0 { -1.0 } else { d.at as f64 };
        out.push_front(Value::Number(next));
    }
    Ok(out)
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
    fn integers_take_the_smallest_type() {
        assert_eq!(
            hex("cmsgpack.pack(0, 127, 128, 255, 256, 65536)"),
            "007fcc80ccffcd0100ce00010000"
        );
        assert_eq!(
            hex("cmsgpack.pack(-1, -32, -33, -129, -32769)"),
            "ffe0d0dfd1ff7fd2ffff7fff"
        );
        assert_eq!(
            hex("cmsgpack.pack(2^32, -2^63)"),
            "cf0000000100000000d38000000000000000"
        );
    }

    #[test]
    fn floats_are_single_when_exact() {
        assert_eq!(hex("cmsgpack.pack(0.5)"), "ca3f000000");
        assert_eq!(hex("cmsgpack.pack(0.1)"), "cb3fb999999999999a");
        assert_eq!(hex("cmsgpack.pack(2^64)"), "ca5f800000");
    }

    #[test]
    fn tables_are_arrays_only_with_keys_one_to_n() {
        assert_eq!(hex("cmsgpack.pack({})"), "90");
        assert_eq!(hex("cmsgpack.pack({1, 2})"), "920102");
        assert_eq!(hex("cmsgpack.pack({[2] = 1})"), "810201");
        assert_eq!(hex("cmsgpack.pack({a = true})"), "81a161c3");
    }

    #[test]
    fn nesting_past_sixteen_becomes_nil() {
        let code = "local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)";
        let h = hex(&format!("(function() {code} end)()"));
        assert_eq!(h, format!("{}c0", "91".repeat(16)));
    }

    #[test]
    fn unpack_round_trips_and_reports_offsets() {
        assert_eq!(
            eval("local a, b = cmsgpack.unpack(cmsgpack.pack('x', {1, {k = 'v'}})) return a .. b[2].k"),
            "xv"
        );
        assert_eq!(
            eval("return table.concat({cmsgpack.unpack_one(cmsgpack.pack(1, 2))}, ',')"),
            "1,1"
        );
        assert_eq!(
            eval("return table.concat({cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 1)}, ',')"),
            "-1,2,3"
        );
        assert_eq!(
            eval(
                "return tostring(cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255'))"
            ),
            "-1"
        );
    }

    #[test]
    fn unpack_errors() {
        assert_eq!(
            err("cmsgpack.unpack('\\146\\1')"),
            "string:t:1: Missing bytes in input."
        );
        assert_eq!(
            err("cmsgpack.unpack('\\193')"),
            "string:t:1: Bad data format in input."
        );
        assert_eq!(
            err("cmsgpack.unpack('\\129\\192\\1')"),
            "string:table index is nil"
        );
        assert_eq!(
            err("cmsgpack.unpack_one('ab', 5)"),
            "string:t:1: Start offset 5 greater than input length 2."
        );
        assert_eq!(
            err("cmsgpack.pack()"),
            "string:t:1: bad argument #0 to 'pack' (MessagePack pack needs input.)"
        );
        let deep = "cmsgpack.unpack(string.rep('\\145', 5000) .. '\\1')";
        assert_eq!(
            err(deep),
            "string:t:1: stack overflow (in function mp_decode_to_lua_array)"
        );
        let deep = "cmsgpack.unpack(string.rep('\\129\\1', 5000) .. '\\1')";
        assert_eq!(
            err(deep),
            "string:t:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"
        );
    }
}
