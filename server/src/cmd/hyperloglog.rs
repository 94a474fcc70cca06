//! HyperLogLog commands (Redis's `hyperloglog.c`): PFADD, PFCOUNT,
//! PFMERGE, PFDEBUG, PFSELFTEST. The representation is
//! [`crate::types::hyperloglog`]; a HyperLogLog is a string value, so these
//! handlers work on the string's bytes in place, as Redis does (a PFADD
//! that meets a corrupted value keeps what it changed before the error).

use std::fmt::Write;
use std::sync::atomic::Ordering;

use super::flags::*;
use super::{cat, ks};
use super::{lookup_read, Ctx, Keys, Spec};
use crate::error::{CmdError, CmdResult};
use crate::notify::STRING;
use crate::types::hyperloglog::{self as hll, Raw, DENSE, HDR_SIZE, REGISTERS, SPARSE};
use crate::value::Value;

/// A string that is not a HyperLogLog (Redis's `isHLLObjectOrReply`).
const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
/// Sparse opcodes that do not add up (Redis's `invalid_hll_err`).
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

fn corrupt(_: hll::Corrupt) -> CmdError {
    CmdError::msg(CORRUPT)
}

/// Checks that `v` holds a valid HyperLogLog: WRONGTYPE for other types,
/// Redis's HyperLogLog WRONGTYPE for strings that are not one (an
/// int-encoded string never is).
fn check(v: &Value) -> CmdResult {
    match v {
        Value::Str(s) | Value::Raw(s) if hll::is_valid(s) => Ok(()),
        Value::Str(_) | Value::Raw(_) | Value::Int(_) => Err(CmdError::msg(NOT_HLL)),
        _ => Err(CmdError::WrongType),
    }
}

/// The bytes of a checked HyperLogLog, to modify in place: an `embstr`
/// becomes `raw` first, as Redis's `dbUnshareStringValue` does.
fn bytes_mut(v: &mut Value) -> &mut Vec<u8> {
    if let Value::Str(s) = v {
        *v = Value::Raw(std::mem::take(s));
    }
    match v {
        Value::Raw(s) => s,
        // `check` let only strings with bytes through.
        _ => unreachable!("bytes_mut on a value check() refused"),
    }
}

/// The bytes of a checked HyperLogLog.
fn bytes_of(v: &Value) -> &[u8] {
    match v {
        Value::Str(s) | Value::Raw(s) => s,
        _ => &[],
    }
}

fn sparse_max_bytes(c: &Ctx<'_>) -> u64 {
    c.shared.hot.hll_sparse_max_bytes.load(Ordering::Relaxed)
}

/// Adds `elements` to `v`, counting registers that grew.
fn add_all(v: &mut Vec<u8>, elements: &[&[u8]], max: u64) -> Result<u64, CmdError> {
    let mut updated = 0;
    for e in elements {
        if hll::add(v, e, max).map_err(corrupt)? {
            updated += 1;
        }
    }
    Ok(updated)
}

/// Counts `n` changes for the save points (Redis's `server.dirty += n`).
fn dirty(c: &Ctx<'_>, n: u64) {
    crate::stats::bump(&c.stats.dirty, n);
}

/// PFADD key [element ...]
pub fn pfadd(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let key = a[1];
    let max = sparse_max_bytes(c);
    let updated = match c.ks.get(key) {
        None => {
            let mut v = hll::new_sparse();
            let updated = 1 + add_all(&mut v, &a[2..], max)?;
            hll::invalidate(&mut v);
            c.ks.set(key, Value::Raw(v), false);
            updated
        }
        Some(e) => {
            check(&e.value)?;
            let v = bytes_mut(&mut e.value);
            let updated = add_all(v, &a[2..], max)?;
            if updated > 0 {
                hll::invalidate(v);
            }
            updated
        }
    };
    if updated > 0 {
        // One change per register that grew, as Redis counts them.
        c.notify(STRING, "pfadd", key);
        dirty(c, updated - 1);
    }
    c.out.int(i64::from(updated > 0));
    Ok(())
}

/// PFCOUNT key [key ...]
///
/// One key: its cached cardinality, or the estimate, which is then cached
/// in the value. That write is a change like any other in Redis: the key
/// is signalled modified (WATCH, tracking), it counts for the save points,
/// and PFCOUNT is logged to the append-only file although it is a read.
/// Several keys: the cardinality of their union, nothing written.
pub fn pfcount(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() > 2 {
        let mut max = Raw::default();
        for key in &a[1..] {
            let Some(e) = lookup_read(&mut c.ks, c.stats, key) else {
                continue;
            };
            check(&e.value)?;
            max.merge(bytes_of(&e.value)).map_err(corrupt)?;
        }
        c.out.int(max.count() as i64);
        return Ok(());
    }
    let key = a[1];
    let Some(e) = lookup_read(&mut c.ks, c.stats, key) else {
        c.out.int(0);
        return Ok(());
    };
    check(&e.value)?;
    let v = bytes_mut(&mut e.value);
    if let Some(card) = hll::cached(v) {
        c.out.int(card as i64);
        return Ok(());
    }
    let card = hll::count(v).map_err(corrupt)?;
    hll::set_cached(v, card);
    let db = c.ks.db;
    c.ks.signal(db, key);
    dirty(c, 1);
    c.force_propagation();
    c.out.int(card as i64);
    Ok(())
}

/// Raises the registers of HyperLogLog `v` to `max`'s (PFMERGE's write),
/// dense first when `dense`; marks the cache stale.
fn store_max(v: &mut Vec<u8>, max: &Raw, dense: bool, max_bytes: u64) -> CmdResult {
    if dense {
        hll::sparse_to_dense(v).map_err(corrupt)?;
    }
    if hll::encoding(v) == DENSE {
        max.raise_dense(&mut v[HDR_SIZE..]);
        hll::invalidate(v);
        return Ok(());
    }
    for (i, &m) in max.registers().iter().enumerate() {
        if m == 0 {
            continue;
        }
        match hll::encoding(v) {
            DENSE => {
                hll::dense_set(&mut v[HDR_SIZE..], i, m);
            }
            // The destination was merged above, so it is not corrupt;
            // Redis ignores the result here too.
            _ => {
                let _ = hll::sparse_set(v, i, m, max_bytes);
            }
        }
    }
    hll::invalidate(v);
    Ok(())
}

/// PFMERGE destkey [sourcekey ...]
pub fn pfmerge(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let mut max = Raw::default();
    let mut dense = false;
    // The destination is read first, as one of the inputs.
    for key in &a[1..] {
        let Some(e) = lookup_read(&mut c.ks, c.stats, key) else {
            continue;
        };
        check(&e.value)?;
        let v = bytes_of(&e.value);
        dense |= hll::encoding(v) == DENSE;
        max.merge(v).map_err(corrupt)?;
    }
    let max_bytes = sparse_max_bytes(c);
    let key = a[1];
    match c.ks.get(key) {
        None => {
            let mut v = hll::new_sparse();
            store_max(&mut v, &max, dense, max_bytes)?;
            c.ks.set(key, Value::Raw(v), false);
        }
        Some(e) => store_max(bytes_mut(&mut e.value), &max, dense, max_bytes)?,
    }
    // Redis raises `pfadd` for PFMERGE: in theory it is a mass add.
    c.notify(STRING, "pfadd", key);
    c.out.ok();
    Ok(())
}

/// PFSELFTEST
pub fn pfselftest(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let max = sparse_max_bytes(c);
    // C's rand(): 31 random bits.
    let rand = || (crate::util::rand::rand_u64() >> 33) as u32;
    match hll::self_test(max, rand) {
        Ok(()) => {
            c.out.ok();
            Ok(())
        }
        Err(e) => Err(CmdError::msg(format!("ERR {e}"))),
    }
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key
pub fn pfdebug(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let sub = a[1];
    let Some(e) = c.ks.get(a[2]) else {
        return Err(CmdError::msg("ERR The specified key does not exist"));
    };
    check(&e.value)?;
    let v = bytes_mut(&mut e.value);
    if sub.eq_ignore_ascii_case(b"getreg") {
        let converted = hll::encoding(v) == SPARSE;
        hll::sparse_to_dense(v).map_err(corrupt)?;
        let regs: Vec<u8> = (0..REGISTERS)
            .map(|i| hll::dense_get(&v[HDR_SIZE..], i))
            .collect();
        if converted {
            // Redis forces propagation of the new encoding this way.
            dirty(c, 1);
        }
        c.out.array(REGISTERS);
        for r in regs {
            c.out.int(i64::from(r));
        }
    } else if sub.eq_ignore_ascii_case(b"decode") {
        if hll::encoding(v) != SPARSE {
            return Err(CmdError::msg("ERR HLL encoding is not sparse"));
        }
        let mut text = String::new();
        for op in hll::sparse_ops(v) {
            let _ = match op {
                hll::Op::Zero(n) => write!(text, "z:{n} "),
                hll::Op::XZero(n) => write!(text, "Z:{n} "),
                hll::Op::Val(value, n) => write!(text, "v:{value},{n} "),
            };
        }
        c.out.bulk(text.trim_matches(' ').as_bytes());
    } else if sub.eq_ignore_ascii_case(b"encoding") {
        let name = if hll::encoding(v) == DENSE {
            "dense"
        } else {
            "sparse"
        };
        c.out.simple(name);
    } else if sub.eq_ignore_ascii_case(b"todense") {
        let converted = hll::encoding(v) == SPARSE;
        hll::sparse_to_dense(v).map_err(corrupt)?;
        if converted {
            dirty(c, 1);
        }
        c.out.int(i64::from(converted));
    } else {
        return Err(CmdError::quoting(
            "ERR Unknown PFDEBUG subcommand '",
            sub,
            "'",
        ));
    }
    Ok(())
}

/// The group's rows, as Redis 7.0's COMMAND INFO shows them.
#[rustfmt::skip]
pub static COMMANDS: &[Spec] = &[
    Spec { name: "pfadd", arity: -2, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "hyperloglog", handler: pfadd, acl: cat::HYPERLOGLOG, key_specs: &[ks::key(ks::RW | ks::INSERT, 1)], tips: &[], subcommands: &[] },
    Spec { name: "pfcount", arity: -2, flags: READONLY, keys: Keys::Range(1, -1, 1), group: "hyperloglog", handler: pfcount, acl: cat::HYPERLOGLOG, key_specs: &[ks::spec(ks::RW | ks::ACCESS, ks::Index(1), ks::Range(-1, 1, 0)).notes("RW because it may change the internal representation of the key, and propagate to replicas")], tips: &[], subcommands: &[] },
    Spec { name: "pfmerge", arity: -2, flags: WRITE | DENYOOM, keys: Keys::Range(1, -1, 1), group: "hyperloglog", handler: pfmerge, acl: cat::HYPERLOGLOG, key_specs: &[ks::key(ks::RW | ks::ACCESS | ks::INSERT, 1), ks::spec(ks::RO | ks::ACCESS, ks::Index(2), ks::Range(-1, 1, 0))], tips: &[], subcommands: &[] },
    Spec { name: "pfdebug", arity: 3, flags: WRITE | DENYOOM | ADMIN, keys: Keys::Range(2, 2, 1), group: "hyperloglog", handler: pfdebug, acl: cat::HYPERLOGLOG, key_specs: &[ks::key(ks::RW | ks::ACCESS, 2)], tips: &[], subcommands: &[] },
    Spec { name: "pfselftest", arity: 1, flags: ADMIN, keys: Keys::None, group: "hyperloglog", handler: pfselftest, acl: cat::HYPERLOGLOG, key_specs: &[], tips: &[], subcommands: &[] },
];
