//! Bitmap commands (Redis's `bitops.c`): SETBIT GETBIT BITCOUNT BITPOS
//! BITOP BITFIELD BITFIELD_RO.
//!
//! Bitmaps are string values. Reads take the string as it is (an
//! int-encoded string as its digits); writes in place turn it raw first,
//! as Redis's `dbUnshareStringValue` does, and grow it with zeros up to the
//! highest bit written. The bit work itself is in [`crate::util::bits`].

use std::sync::atomic::Ordering;

use super::args::{self, is};
use super::flags::*;
use super::string::{bytes_of, raw_mut};
use super::{cat, ks, lookup_read, Ctx, Keys, Spec};
use crate::db::Locked;
use crate::error::{CmdError, CmdResult};
use crate::notify::STRING;
use crate::util::bits::{self, BitOp, Overflow};
use crate::util::num::parse_i64;
use crate::value::Value;

const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";

/// A bit offset argument, as Redis's `getBitOffsetFromArgument`: a
/// non-negative integer whose byte is below `proto-max-bulk-len` (the
/// append-only file's replay is exempt, as Redis exempts clients it must
/// obey). With `hash_bits` > 0 (BITFIELD), `#N` means `N * hash_bits`,
/// multiplied as Redis does, with two's complement wrap-around.
fn bit_offset(c: &Ctx<'_>, arg: &[u8], hash_bits: u32) -> Result<u64, CmdError> {
    let (hash, digits) = match arg.split_first() {
        Some((b'#', rest)) if hash_bits > 0 => (true, rest),
        _ => (false, arg),
    };
    let mut n = parse_i64(digits).ok_or(CmdError::msg(BAD_OFFSET))?;
    if hash {
        n = n.wrapping_mul(hash_bits as i64);
    }
    let max = c.shared.hot.proto_max_bulk_len.load(Ordering::Relaxed);
    if n < 0 || (!c.client.replaying && (n >> 3) as u64 >= max) {
        return Err(CmdError::msg(BAD_OFFSET));
    }
    Ok(n as u64)
}

/// Grows a bitmap with zero bytes to `len` bytes, reserving as Redis's
/// `sdsMakeRoomFor` does (double up to 1 MiB, then 1 MiB more), so that
/// SETBITs at rising offsets do not copy the string each time. True when
/// it grew.
fn grow_zero(s: &mut Vec<u8>, len: usize) -> bool {
    if s.len() >= len {
        return false;
    }
    if s.capacity() < len {
        let room = if len < 1 << 20 {
            len * 2
        } else {
            len + (1 << 20)
        };
        s.reserve_exact(room - s.len());
    }
    s.resize(len, 0);
    true
}

/// The string of `key` made raw and at least `len` bytes long, created
/// (zeroed) when missing; WRONGTYPE for another type. The flag says
/// whether it was created or grew (Redis's `lookupStringForBitCommand`).
fn string_for_write<'k>(
    ks: &'k mut Locked<'_>,
    key: &[u8],
    len: usize,
) -> Result<(&'k mut Vec<u8>, bool), CmdError> {
    let created = match ks.get(key) {
        None => true,
        Some(e) if !e.value.is_string() => return Err(CmdError::WrongType),
        Some(_) => false,
    };
    if created {
        ks.set(key, Value::Raw(vec![0; len]), false);
    }
    let e = ks.peek(key).ok_or(CmdError::WrongType)?;
    let s = raw_mut(&mut e.value)?;
    let grew = grow_zero(s, len);
    Ok((s, created || grew))
}

/// SETBIT key offset value
pub fn setbit(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let offset = bit_offset(c, a[2], 0)?;
    let on = match parse_i64(a[3]) {
        Some(v @ (0 | 1)) => v == 1,
        _ => return Err(CmdError::msg("ERR bit is not an integer or out of range")),
    };
    let byte = (offset >> 3) as usize;
    let mask = 0x80u8 >> (offset & 7);
    let (s, dirty) = string_for_write(&mut c.ks, a[1], byte + 1)?;
    let old = s[byte] & mask != 0;
    let changed = dirty || old != on;
    if changed {
        if on {
            s[byte] |= mask;
        } else {
            s[byte] &= !mask;
        }
    }
    if changed {
        c.notify(STRING, "setbit", a[1]);
    }
    c.out.int(old as i64);
    Ok(())
}

/// GETBIT key offset
pub fn getbit(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let offset = bit_offset(c, a[2], 0)?;
    let bit = match lookup_read(&mut c.ks, c.stats, a[1]) {
        None => false,
        Some(e) => {
            let mut scratch = itoa::Buffer::new();
            let s = bytes_of(&e.value, &mut scratch)?;
            s.get((offset >> 3) as usize)
                .is_some_and(|b| b & (0x80 >> (offset & 7)) != 0)
        }
    };
    c.out.int(bit as i64);
    Ok(())
}

/// `BIT` or `BYTE` (true for BIT), else a syntax error.
fn unit(arg: &[u8]) -> Result<bool, CmdError> {
    if is(arg, "BIT") {
        Ok(true)
    } else if is(arg, "BYTE") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// The bits `first..=last` that `start..=end` name in a string of `len`
/// bytes, with Redis's index rules for BITCOUNT and BITPOS (negative from
/// the end, clamped to the string, in bytes or in bits); `None` when the
/// range is empty.
fn bit_range(start: i64, end: i64, len: usize, in_bits: bool) -> Option<(u64, u64)> {
    let total = if in_bits { len as i64 * 8 } else { len as i64 };
    let start = if start < 0 { total + start } else { start }.max(0);
    let end = if end < 0 { total + end } else { end }
        .max(0)
        .min(total - 1);
    if start > end {
        return None;
    }
    let (start, end) = (start as u64, end as u64);
    Some(if in_bits {
        (start, end)
    } else {
        (start * 8, end * 8 + 7)
    })
}

/// BITCOUNT key [start end [BYTE | BIT]]
pub fn bitcount(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    // Redis's order: the key (missing: 0 whatever the arguments), its type,
    // then the range.
    let Some(e) = lookup_read(&mut c.ks, c.stats, a[1]) else {
        c.out.int(0);
        return Ok(());
    };
    let mut scratch = itoa::Buffer::new();
    let s = bytes_of(&e.value, &mut scratch)?;
    let range = match a.len() {
        2 => bit_range(0, -1, s.len(), false),
        4 | 5 => {
            let start = args::int(a[2])?;
            let end = args::int(a[3])?;
            if start < 0 && end < 0 && start > end {
                c.out.int(0);
                return Ok(());
            }
            let in_bits = a.len() == 5 && unit(a[4])?;
            bit_range(start, end, s.len(), in_bits)
        }
        _ => return Err(CmdError::Syntax),
    };
    let n = range.map_or(0, |(first, last)| bits::count_range(s, first, last));
    c.out.int(n as i64);
    Ok(())
}

/// BITPOS key bit [start [end [BYTE | BIT]]]
pub fn bitpos(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let bit = match args::int(a[2])? {
        0 => false,
        1 => true,
        _ => return Err(CmdError::msg("ERR The bit argument must be 1 or 0.")),
    };
    // A missing key is an endless run of zeros.
    let Some(e) = lookup_read(&mut c.ks, c.stats, a[1]) else {
        c.out.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let mut scratch = itoa::Buffer::new();
    let s = bytes_of(&e.value, &mut scratch)?;
    let (range, end_given) = match a.len() {
        3 => (bit_range(0, -1, s.len(), false), false),
        4..=6 => {
            let start = args::int(a[3])?;
            let in_bits = a.len() == 6 && unit(a[5])?;
            let (end, given) = match a.get(4) {
                Some(end) => (args::int(end)?, true),
                None => (i64::MAX, false),
            };
            (bit_range(start, end, s.len(), in_bits), given)
        }
        _ => return Err(CmdError::Syntax),
    };
    let pos = match range {
        None => -1,
        Some((first, last)) => match bits::first_bit_in(s, first, last, bit) {
            Some(p) => p as i64,
            // Looking for a zero without an explicit end: the string is
            // taken as padded with zeros on the right.
            None if !bit && !end_given => last as i64 + 1,
            None => -1,
        },
    };
    c.out.int(pos);
    Ok(())
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]
pub fn bitop(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let op = match args::lower(a[1]).as_str() {
        "and" => BitOp::And,
        "or" => BitOp::Or,
        "xor" => BitOp::Xor,
        "not" => BitOp::Not,
        _ => return Err(CmdError::Syntax),
    };
    if op == BitOp::Not && a.len() != 4 {
        return Err(CmdError::msg(
            "ERR BITOP NOT must be called with a single source key.",
        ));
    }
    let (dest, srcs) = (a[2], &a[3..]);
    // First the lookups, in order (keyspace hits and misses as Redis counts
    // them, the first wrong type fails), and the longest length.
    let mut lens = Vec::with_capacity(srcs.len());
    for key in srcs {
        lens.push(match lookup_read(&mut c.ks, c.stats, key) {
            None => None,
            Some(e) => {
                let mut scratch = itoa::Buffer::new();
                Some(bytes_of(&e.value, &mut scratch)?.len())
            }
        });
    }
    let max = lens.iter().flatten().copied().max().unwrap_or(0);
    if max == 0 {
        c.delete(dest);
        c.out.int(0);
        return Ok(());
    }
    // Then the operation, a word at a time, into one buffer: a missing key
    // or the bytes past a shorter string count as zeros. The buffer starts
    // as the first source and is not allocated zeroed: jemalloc zeroes a
    // recycled large extent by handing its pages back to the kernel
    // (`madvise`), and every page then faults in again, which cost more
    // than the operation itself over a 1 MiB value.
    let mut res = Vec::with_capacity(max);
    for (i, (key, len)) in srcs.iter().zip(&lens).enumerate() {
        let mut scratch = itoa::Buffer::new();
        let src = match len {
            Some(_) => {
                c.ks.peek(key)
                    .map(|e| bytes_of(&e.value, &mut scratch))
                    .transpose()?
            }
            None => None,
        };
        match (i, src) {
            (0, Some(src)) if op == BitOp::Not => bits::push_not(&mut res, src),
            (0, Some(src)) => res.extend_from_slice(src),
            (0, None) => {}
            (_, Some(src)) => {
                bits::apply(op, &mut res, src);
                if op == BitOp::And {
                    bits::clear_from(&mut res, src.len());
                }
            }
            (_, None) => {
                if op == BitOp::And {
                    bits::clear_from(&mut res, 0);
                }
            }
        }
        if i == 0 {
            res.resize(max, 0);
        }
    }
    c.ks.set(dest, Value::Raw(res), false);
    c.notify(STRING, "set", dest);
    c.out.int(max as i64);
    Ok(())
}

/// One BITFIELD operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FieldOp {
    Get,
    Set,
    IncrBy,
}

struct Field {
    op: FieldOp,
    offset: u64,
    /// SET's value or INCRBY's increment.
    value: i64,
    overflow: Overflow,
    bits: u32,
    signed: bool,
}

/// A BITFIELD type, `i1`..`i64` or `u1`..`u63`: (signed, bits). Redis
/// reads the width as a C string, so it ends at a NUL byte.
fn field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let err = || {
        CmdError::msg(
            "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
        )
    };
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(err()),
    };
    let rest = &arg[1..];
    let rest = &rest[..rest.iter().position(|&b| b == 0).unwrap_or(rest.len())];
    match parse_i64(rest) {
        Some(n) if n >= 1 && n <= if signed { 64 } else { 63 } => Ok((signed, n as u32)),
        _ => Err(err()),
    }
}

/// Parses BITFIELD's operations as Redis's `bitfieldGeneric` does (errors
/// in argument order); also says the highest bit a SET or INCRBY writes.
fn parse_fields(c: &Ctx<'_>, a: &[&[u8]]) -> Result<(Vec<Field>, Option<u64>), CmdError> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut highest: Option<u64> = None;
    let mut j = 2;
    while j < a.len() {
        let rest = a.len() - j - 1;
        let sub = a[j];
        let op = if is(sub, "GET") && rest >= 2 {
            FieldOp::Get
        } else if is(sub, "SET") && rest >= 3 {
            FieldOp::Set
        } else if is(sub, "INCRBY") && rest >= 3 {
            FieldOp::IncrBy
        } else if is(sub, "OVERFLOW") && rest >= 1 {
            let kind = a[j + 1];
            overflow = if is(kind, "WRAP") {
                Overflow::Wrap
            } else if is(kind, "SAT") {
                Overflow::Sat
            } else if is(kind, "FAIL") {
                Overflow::Fail
            } else {
                return Err(CmdError::msg("ERR Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(CmdError::Syntax);
        };
        let (signed, bits) = field_type(a[j + 1])?;
        let offset = bit_offset(c, a[j + 2], bits)?;
        let mut value = 0;
        if op != FieldOp::Get {
            let top = offset + bits as u64 - 1;
            highest = Some(highest.map_or(top, |h| h.max(top)));
            value = args::int(a[j + 3])?;
        }
        fields.push(Field {
            op,
            offset,
            value,
            overflow,
            bits,
            signed,
        });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }
    Ok((fields, highest))
}

/// A GET's reply: the field read from `s` (zeros past its end).
fn field_get(out: &mut crate::reply::Reply, s: &[u8], f: &Field) {
    if f.signed {
        out.int(bits::get_signed(s, f.offset, f.bits));
    } else {
        out.int(bits::get_unsigned(s, f.offset, f.bits) as i64);
    }
}

/// A SET or INCRBY on `s` (long enough for it): replies, writes unless it
/// failed, and says whether it counts as a change.
fn field_write(out: &mut crate::reply::Reply, s: &mut [u8], f: &Field, dirty: bool) -> bool {
    let (reply, new, changed) = if f.signed {
        let old = bits::get_signed(s, f.offset, f.bits);
        let (overflow, new, reply) = if f.op == FieldOp::IncrBy {
            let (o, limit) = bits::check_signed(old, f.value, f.bits, f.overflow);
            let new = if o != 0 {
                limit
            } else {
                old.wrapping_add(f.value)
            };
            (o, new, new)
        } else {
            let (o, limit) = bits::check_signed(f.value, 0, f.bits, f.overflow);
            (o, if o != 0 { limit } else { f.value }, old)
        };
        if overflow != 0 && f.overflow == Overflow::Fail {
            out.null();
            return false;
        }
        (reply, new as u64, dirty || old != new)
    } else {
        let old = bits::get_unsigned(s, f.offset, f.bits);
        let (overflow, new, reply) = if f.op == FieldOp::IncrBy {
            let (o, limit) = bits::check_unsigned(old, f.value, f.bits, f.overflow);
            let new = if o != 0 {
                limit
            } else {
                old.wrapping_add(f.value as u64)
            };
            (o, new, new)
        } else {
            let v = f.value as u64;
            let (o, limit) = bits::check_unsigned(v, 0, f.bits, f.overflow);
            (o, if o != 0 { limit } else { v }, old)
        };
        if overflow != 0 && f.overflow == Overflow::Fail {
            out.null();
            return false;
        }
        (reply as i64, new, dirty || old != new)
    };
    out.int(reply);
    bits::set_unsigned(s, f.offset, f.bits, new);
    changed
}

/// BITFIELD and BITFIELD_RO (`read_only`: GET only).
fn bitfield_generic(c: &mut Ctx<'_>, a: &[&[u8]], read_only: bool) -> CmdResult {
    let (fields, highest) = parse_fields(c, a)?;
    let Some(highest) = highest else {
        // Only GETs: a read, and a missing key reads as zeros.
        let e = lookup_read(&mut c.ks, c.stats, a[1]);
        let mut scratch = itoa::Buffer::new();
        let s: &[u8] = match &e {
            None => &[],
            Some(e) => bytes_of(&e.value, &mut scratch)?,
        };
        c.out.array(fields.len());
        for f in &fields {
            field_get(c.out, s, f);
        }
        return Ok(());
    };
    if read_only {
        return Err(CmdError::msg(
            "ERR BITFIELD_RO only supports the GET subcommand",
        ));
    }
    // The string grows to the highest bit written before any operation
    // runs, even one that then fails (as in Redis).
    let key = a[1];
    let len = (highest >> 3) as usize + 1;
    let mut changes = 0u64;
    let (s, dirty) = string_for_write(&mut c.ks, key, len)?;
    c.out.array(fields.len());
    for f in &fields {
        if f.op == FieldOp::Get {
            field_get(c.out, s, f);
        } else if field_write(c.out, s, f, dirty) {
            changes += 1;
        }
    }
    if changes > 0 {
        c.notify(STRING, "setbit", key);
        // Each write counts as a change for the save points, as in Redis.
        crate::stats::bump(&c.stats.dirty, changes - 1);
    }
    Ok(())
}

/// BITFIELD key [GET type offset | SET type offset value | INCRBY type
/// offset increment | OVERFLOW WRAP|SAT|FAIL ...]
pub fn bitfield(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    bitfield_generic(c, a, false)
}

/// BITFIELD_RO key [GET type offset ...]
pub fn bitfield_ro(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    bitfield_generic(c, a, true)
}

// ---- command table rows ----

/// This group's rows of the command table.
pub static COMMANDS: &[Spec] = &[
    Spec {
        name: "setbit",
        arity: 4,
        flags: WRITE | DENYOOM,
        keys: Keys::Range(1, 1, 1),
        group: "bitmap",
        handler: setbit,
        acl: cat::BITMAP,
        key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::UPDATE, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "getbit",
        arity: 3,
        flags: READONLY | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "bitmap",
        handler: getbit,
        acl: cat::BITMAP,
        key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "bitcount",
        arity: -2,
        flags: READONLY,
        keys: Keys::Range(1, 1, 1),
        group: "bitmap",
        handler: bitcount,
        acl: cat::BITMAP,
        key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "bitpos",
        arity: -3,
        flags: READONLY,
        keys: Keys::Range(1, 1, 1),
        group: "bitmap",
        handler: bitpos,
        acl: cat::BITMAP,
        key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "bitop",
        arity: -4,
        flags: WRITE | DENYOOM,
        keys: Keys::Range(2, -1, 1),
        group: "bitmap",
        handler: bitop,
        acl: cat::BITMAP,
        key_specs: &[
            ks::key(ks::OW | ks::UPDATE, 2),
            ks::spec(ks::RO | ks::ACCESS, ks::Index(3), ks::Range(-1, 1, 0)),
        ],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "bitfield",
        arity: -2,
        flags: WRITE | DENYOOM,
        keys: Keys::Range(1, 1, 1),
        group: "bitmap",
        handler: bitfield,
        acl: cat::BITMAP,
        key_specs: &[
            ks::key(ks::RW | ks::ACCESS | ks::UPDATE | ks::VARIABLE_FLAGS, 1)
                .notes("This command allows both access and modification of the key"),
        ],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "bitfield_ro",
        arity: -2,
        flags: READONLY | FAST,
        keys: Keys::Range(1, 1, 1),
        group: "bitmap",
        handler: bitfield_ro,
        acl: cat::BITMAP,
        key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)],
        tips: &[],
        subcommands: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_and_bit_ranges_follow_redis_index_rules() {
        assert_eq!(bit_range(0, -1, 3, false), Some((0, 23)));
        assert_eq!(bit_range(1, 1, 3, false), Some((8, 15)));
        assert_eq!(bit_range(-2, -1, 3, false), Some((8, 23)));
        assert_eq!(bit_range(5, 100, 2, true), Some((5, 15)));
        assert_eq!(bit_range(-100, 3, 2, true), Some((0, 3)));
        assert_eq!(bit_range(2, 1, 3, false), None);
        assert_eq!(bit_range(0, -1, 0, false), None);
        assert_eq!(bit_range(i64::MIN, i64::MAX, 1, true), Some((0, 7)));
    }

    #[test]
    fn bitfield_types_are_i1_to_i64_and_u1_to_u63() {
        assert_eq!(field_type(b"i64").ok(), Some((true, 64)));
        assert_eq!(field_type(b"u63").ok(), Some((false, 63)));
        assert_eq!(field_type(b"u1").ok(), Some((false, 1)));
        assert_eq!(field_type(b"u8\0junk").ok(), Some((false, 8)));
        for bad in [
            &b"u64"[..],
            b"i65",
            b"i0",
            b"u",
            b"",
            b"x8",
            b"i08",
            b"I8",
            b"i+8",
        ] {
            assert!(field_type(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn growth_reserves_like_sds() {
        let mut s = Vec::new();
        assert!(grow_zero(&mut s, 10));
        assert!(s.capacity() >= 20 && s.iter().all(|&b| b == 0));
        assert!(!grow_zero(&mut s, 5));
        assert_eq!(s.len(), 10);
    }
}
