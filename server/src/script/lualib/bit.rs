//! `bit`: LuaBitOp 1.0.2, bit operations on Lua numbers taken as 32-bit
//! integers; every result is a signed 32-bit value as a Lua number.

use mlua::{Lua, MultiValue, Table, Value};

use super::{arg, function, one, to_number, type_fail, LibResult};

/// Builds the `bit` table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    type Op = fn(&Lua, &MultiValue) -> LibResult<Value>;
    let ops: [(&'static str, Op); 12] = [
        ("tobit", |l, a| ret(barg(l, a, 1)?)),
        ("bnot", |l, a| ret(!barg(l, a, 1)?)),
        ("band", |l, a| fold(l, a, |x, y| x & y)),
        ("bor", |l, a| fold(l, a, |x, y| x | y)),
        ("bxor", |l, a| fold(l, a, |x, y| x ^ y)),
        ("lshift", |l, a| shift(l, a, |b, n| b << n)),
        ("rshift", |l, a| shift(l, a, |b, n| b >> n)),
        ("arshift", |l, a| {
            shift(l, a, |b, n| ((b as i32) >> n) as u32)
        }),
        ("rol", |l, a| shift(l, a, |b, n| b.rotate_left(n))),
        ("ror", |l, a| shift(l, a, |b, n| b.rotate_right(n))),
        ("bswap", |l, a| ret(barg(l, a, 1)?.swap_bytes())),
        ("tohex", tohex),
    ];
    for (name, op) in ops {
        t.raw_set(name, function(lua, name, move |l, a| Ok(one(op(l, &a)?)))?)?;
    }
    Ok(t)
}

/// The argument as 32 bits: the low word of `n + 2^52 + 2^51`, which
/// rounds to the nearest integer and wraps modulo 2^32.
fn barg(lua: &Lua, args: &MultiValue, narg: i32) -> LibResult<u32> {
    match to_number(lua, arg(args, narg))? {
        Some(n) => Ok(tobit(n)),
        None => type_fail(args, narg, "number"),
    }
}

/// LuaBitOp's number-to-bits conversion.
pub(crate) fn tobit(n: f64) -> u32 {
    (n + 6_755_399_441_055_744.0).to_bits() as u32
}

/// The result as a signed 32-bit Lua number.
fn ret(b: u32) -> LibResult<Value> {
    Ok(Value::Number(f64::from(b as i32)))
}

/// band/bor/bxor: the first argument, then the others from the last.
fn fold(lua: &Lua, args: &MultiValue, op: fn(u32, u32) -> u32) -> LibResult<Value> {
    let mut b = barg(lua, args, 1)?;
    let top = args.len() as i32;
    for i in (2..=top).rev() {
        b = op(b, barg(lua, args, i)?);
    }
    ret(b)
}

fn shift(lua: &Lua, args: &MultiValue, op: fn(u32, u32) -> u32) -> LibResult<Value> {
    let b = barg(lua, args, 1)?;
    let n = barg(lua, args, 2)? & 31;
    ret(op(b, n))
}

fn tohex(lua: &Lua, args: &MultiValue) -> LibResult<Value> {
    let mut b = barg(lua, args, 1)?;
    let mut n = if args.len() < 2 {
        8
    } else {
        barg(lua, args, 2)? as i32
    };
    let mut digits: &[u8; 16] = b"0123456789abcdef";
    if n < 0 {
        n = n.wrapping_neg();
        digits = b"0123456789ABCDEF";
    }
    // n == i32::MIN stays negative: Redis asks for a string of 2^64 - 2^31
    // bytes there and fails; an empty string is the sane answer.
    let n = n.clamp(0, 8) as usize;
    let mut buf = [0u8; 8];
    for i in (0..n).rev() {
        buf[i] = digits[(b & 15) as usize];
        b >>= 4;
    }
    Ok(Value::String(lua.create_string(&buf[..n])?))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{err, eval};

    #[test]
    fn tobit_wraps_and_rounds() {
        assert_eq!(eval("return tostring(bit.tobit(0xffffffff))"), "-1");
        assert_eq!(eval("return tostring(bit.tobit(2^32 + 5))"), "5");
        assert_eq!(eval("return tostring(bit.tobit(1.5))"), "2");
        assert_eq!(eval("return tostring(bit.tobit(2.5))"), "2");
        assert_eq!(eval("return tostring(bit.tobit('12'))"), "12");
    }

    #[test]
    fn shifts_mask_the_count() {
        assert_eq!(eval("return tostring(bit.lshift(1, 33))"), "2");
        assert_eq!(eval("return tostring(bit.arshift(-256, 4))"), "-16");
        assert_eq!(eval("return tostring(bit.rshift(-256, 4))"), "268435440");
        assert_eq!(
            eval("return tostring(bit.rol(0x12345678, 12))"),
            "1164411171"
        );
        assert_eq!(eval("return tostring(bit.ror(0x12345678, 0))"), "305419896");
    }

    #[test]
    fn tohex_widths() {
        assert_eq!(eval("return bit.tohex(255)"), "000000ff");
        assert_eq!(eval("return bit.tohex(255, -4)"), "00FF");
        assert_eq!(eval("return bit.tohex(-1, 12)"), "ffffffff");
        assert_eq!(eval("return bit.tohex(1, 0)"), "");
    }

    #[test]
    fn bad_arguments_are_checked_last_first() {
        assert_eq!(
            err("bit.band(1, 'x', {})"),
            "string:t:1: bad argument #3 to 'band' (number expected, got table)"
        );
        assert_eq!(
            err("bit.tohex(1, nil)"),
            "string:t:1: bad argument #2 to 'tohex' (number expected, got nil)"
        );
        assert_eq!(
            err("bit.bnot()"),
            "string:t:1: bad argument #1 to 'bnot' (number expected, got no value)"
        );
    }
}
