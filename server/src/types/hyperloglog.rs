//! HyperLogLog: Redis 7.0's representation, byte for byte.
//!
//! A HyperLogLog is a plain string value, so whatever Redis writes (GET,
//! DUMP, an RDB file) must be what soquete writes, and the reverse. This
//! module is `hyperloglog.c` of Redis 7.0.15 read for its format and
//! rewritten over a `Vec<u8>`: the same header, the same two encodings, the
//! same hash and estimator, so counts are Redis's counts.
//!
//! # Format
//!
//! ```text
//! +------+---+-----+----------+--------------------------------+
//! | HYLL | E | N/U | Cardin.  |  registers (sparse or dense)   |
//! +------+---+-----+----------+--------------------------------+
//!   4 B   1 B  3 B    8 B LE
//! ```
//!
//! * `E` is the encoding: 0 dense, 1 sparse. The 3 bytes after it are
//!   unused (zero when we write them; never checked).
//! * The cached cardinality is little endian; its most significant bit set
//!   means "stale" (every change sets it, PFCOUNT clears it by writing a
//!   fresh value).
//! * **Dense**: 16384 registers of 6 bits, 12288 bytes, register `i` from
//!   bit `6 i` on, least significant bits first.
//! * **Sparse**: run-length opcodes. `00xxxxxx` ZERO: 1–64 zero registers.
//!   `01xxxxxx yyyyyyyy` XZERO: 1–16384 zero registers (14 bits). `1vvvvvxx`
//!   VAL: 1–4 registers of value 1–32. A value above 32, or a string that
//!   would grow past `hll-sparse-max-bytes`, turns it dense.
//!
//! # Corrupted values
//!
//! Anything can be SET into a key and then handed to PFADD, so every
//! function here takes arbitrary bytes without panicking. Where Redis reads
//! one byte past the end of the string (its implicit NUL terminator: an
//! XZERO opcode cut in half, the last dense register's neighbour), these
//! functions read a zero, as Redis does. A sparse walk whose register count
//! does not come out at exactly 16384 is [`Corrupt`], Redis's
//! `-INVALIDOBJ Corrupted HLL object detected`.

/// Bytes of the header: magic, encoding, 3 unused, cached cardinality.
pub const HDR_SIZE: usize = 16;
/// Bits of the hash that choose a register.
pub const P: u32 = 14;
/// Bits left to count the run of zeroes in.
pub const Q: u32 = 64 - P;
/// Number of registers.
pub const REGISTERS: usize = 1 << P;
/// Bits of one dense register.
pub const BITS: u32 = 6;
/// Largest value a dense register holds.
pub const REGISTER_MAX: u8 = (1 << BITS) - 1;
/// Length of a dense HyperLogLog string, header included.
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * BITS as usize).div_ceil(8);
/// The dense encoding byte.
pub const DENSE: u8 = 0;
/// The sparse encoding byte.
pub const SPARSE: u8 = 1;
/// The seed Redis hashes elements with (MurmurHash64A).
pub const SEED: u64 = 0xadc8_3b19;

const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;
/// 0.5 / ln 2, the estimator's constant for an infinite number of registers.
// Redis's literal (0.721347520444481703680) as the nearest double.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// A HyperLogLog whose sparse opcodes do not add up to 16384 registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// MurmurHash2, 64-bit version (`MurmurHash64A`), as Redis modified it to
/// read blocks little endian on every machine.
///
/// ```
/// use soquete_server::types::hyperloglog::{murmur64a, SEED};
/// assert_eq!(murmur64a(b"a", SEED), 0x53d2_470a_9b43_b1a7);
/// ```
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut blocks = key.chunks_exact(8);
    for block in &mut blocks {
        let mut k = u64::from_le_bytes(block.try_into().unwrap_or([0; 8]));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element goes to and the length of its `00..1` pattern
/// (1 to [`Q`] + 1): Redis's `hllPatLen`.
pub fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    // The bit above the Q used ones ends the run at Q + 1 at most.
    let rest = (hash >> P) | (1 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// The new, empty HyperLogLog Redis creates: sparse, one XZERO covering
/// every register, cached cardinality 0.
pub fn new_sparse() -> Vec<u8> {
    let mut v = vec![0u8; HDR_SIZE];
    v[..4].copy_from_slice(b"HYLL");
    v[4] = SPARSE;
    let mut left = REGISTERS;
    while left > 0 {
        let n = left.min(SPARSE_XZERO_MAX_LEN);
        let l = n - 1;
        v.push((l >> 8) as u8 | 0x40);
        v.push((l & 0xff) as u8);
        left -= n;
    }
    v
}

/// True when `bytes` pass Redis's `isHLLObjectOrReply` checks: the header
/// is there, the magic is `HYLL`, the encoding is known, and a dense one
/// has exactly its size. (An int-encoded string never passes; the caller
/// knows that.)
pub fn is_valid(bytes: &[u8]) -> bool {
    bytes.len() >= HDR_SIZE
        && &bytes[..4] == b"HYLL"
        && bytes[4] <= SPARSE
        && (bytes[4] != DENSE || bytes.len() == DENSE_SIZE)
}

/// The encoding byte of a valid HyperLogLog.
pub fn encoding(bytes: &[u8]) -> u8 {
    bytes[4]
}

/// The cached cardinality, if it is valid (its top bit clear).
pub fn cached(bytes: &[u8]) -> Option<u64> {
    let card = u64::from_le_bytes(bytes[8..16].try_into().unwrap_or([0xff; 8]));
    (card >> 63 == 0).then_some(card)
}

/// Stores `card` as the cached cardinality (a value with its top bit set
/// stays stale, as in Redis).
pub fn set_cached(bytes: &mut [u8], card: u64) {
    bytes[8..16].copy_from_slice(&card.to_le_bytes());
}

/// Marks the cached cardinality stale.
pub fn invalidate(bytes: &mut [u8]) {
    bytes[15] |= 0x80;
}

/// Byte `i` of `b`, or 0 past its end (Redis's NUL terminator).
fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// Register `i` of dense `regs` (12288 bytes).
pub fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS as usize / 8;
    let fb = (i * BITS as usize) & 7;
    let b0 = u32::from(at(regs, byte));
    let b1 = u32::from(at(regs, byte + 1));
    (((b0 >> fb) | (b1 << (8 - fb))) & u32::from(REGISTER_MAX)) as u8
}

/// Sets register `i` of dense `regs` to `val` (at most 63).
pub fn dense_set_register(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * BITS as usize / 8;
    let fb = (i * BITS as usize) & 7;
    let fb8 = 8 - fb;
    let v = u32::from(val);
    let max = u32::from(REGISTER_MAX);
    if let Some(b) = regs.get_mut(byte) {
        *b &= !(max << fb) as u8;
        *b |= (v << fb) as u8;
    }
    if let Some(b) = regs.get_mut(byte + 1) {
        *b &= !(max >> fb8) as u8;
        *b |= (v >> fb8) as u8;
    }
}

/// Raises register `i` of dense `regs` to `count`; true when it grew.
pub fn dense_set(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_set_register(regs, i, count);
        true
    } else {
        false
    }
}

/// One sparse opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `len` zero registers, one byte.
    Zero(usize),
    /// `len` zero registers, two bytes.
    XZero(usize),
    /// `len` registers of value `value`.
    Val(u8, usize),
}

/// The opcode at `p` of `b` and its length in bytes (reading a zero past
/// the end, as Redis reads its terminator).
fn op_at(b: &[u8], p: usize) -> (Op, usize) {
    let x = at(b, p);
    if x & 0xc0 == 0 {
        (Op::Zero(usize::from(x & 0x3f) + 1), 1)
    } else if x & 0x80 == 0 {
        let len = ((usize::from(x & 0x3f) << 8) | usize::from(at(b, p + 1))) + 1;
        (Op::XZero(len), 2)
    } else {
        (Op::Val(((x >> 2) & 0x1f) + 1, usize::from(x & 3) + 1), 1)
    }
}

/// The opcodes of a sparse HyperLogLog (header included in `bytes`), as
/// PFDEBUG DECODE lists them.
pub fn sparse_ops(bytes: &[u8]) -> Vec<Op> {
    let mut ops = Vec::new();
    let mut p = HDR_SIZE;
    while p < bytes.len() {
        let (op, n) = op_at(bytes, p);
        ops.push(op);
        p += n;
    }
    ops
}

fn val_op(value: u8, len: usize) -> u8 {
    ((value - 1) << 2 | (len as u8 - 1)) | 0x80
}

/// Calls `f(first, len, value)` for each run of a sparse HyperLogLog
/// (zero runs included) and checks that the opcodes cover exactly 16384
/// registers: an opcode that would pass the end stops the walk as
/// corrupt. That is Redis 7.0.15 as shipped with the fix for
/// CVE-2025-32023 (Debian's 7.0.15-1~deb12u10, our reference), which
/// checks every opcode where 7.0.15's tag checked only VAL.
fn walk_sparse(bytes: &[u8], mut f: impl FnMut(usize, usize, u8)) -> Result<(), Corrupt> {
    let mut idx = 0usize;
    let mut p = HDR_SIZE;
    while p < bytes.len() {
        let (op, n) = op_at(bytes, p);
        let (value, len) = match op {
            Op::Zero(len) | Op::XZero(len) => (0, len),
            Op::Val(value, len) => (value, len),
        };
        if idx + len > REGISTERS {
            return Err(Corrupt);
        }
        f(idx, len, value);
        idx += len;
        p += n;
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// Turns a sparse HyperLogLog into a dense one in place (`hllSparseToDense`);
/// a dense one is left alone. The header, cached cardinality included, is
/// kept. On [`Corrupt`] the value is unchanged.
pub fn sparse_to_dense(v: &mut Vec<u8>) -> Result<(), Corrupt> {
    if v[4] == DENSE {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR_SIZE].copy_from_slice(&v[..HDR_SIZE]);
    dense[4] = DENSE;
    let regs = &mut dense[HDR_SIZE..];
    walk_sparse(v, |first, len, value| {
        if value > 0 {
            for i in first..first + len {
                dense_set_register(regs, i, value);
            }
        }
    })?;
    *v = dense;
    Ok(())
}

/// What the in-place part of [`sparse_set`] decided.
enum SparseStep {
    /// Done: the string's new length, and whether a register grew.
    Done(usize, bool),
    /// The register needs the dense encoding.
    Promote,
    /// The opcodes do not reach the register.
    Corrupt,
}

/// Raises register `index` of the sparse HyperLogLog `v` to `count`
/// (`hllSparseSet`), splitting and merging opcodes in place, or promoting
/// to dense when `count` is above 32 or the string would pass
/// `max_bytes`. True when a register grew.
pub fn sparse_set(
    v: &mut Vec<u8>,
    index: usize,
    count: u8,
    max_bytes: u64,
) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(v, index, count);
    }
    let len = v.len();
    // Room for Redis's terminator and the 3 bytes it reserves: the C code
    // below reads and writes there exactly as Redis does in its buffer.
    v.resize(len + 8, 0);
    let step = sparse_set_in(v, len, index, count, max_bytes);
    match step {
        SparseStep::Done(new_len, changed) => {
            v.truncate(new_len);
            Ok(changed)
        }
        SparseStep::Promote => {
            v.truncate(len);
            promote(v, index, count)
        }
        SparseStep::Corrupt => {
            v.truncate(len);
            Err(Corrupt)
        }
    }
}

fn promote(v: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    sparse_to_dense(v)?;
    // Redis asserts that the register grows here; on a corrupted value it
    // need not, and we do not stop for it.
    dense_set(&mut v[HDR_SIZE..], index, count);
    Ok(true)
}

fn is_zero(x: u8) -> bool {
    x & 0xc0 == 0
}

fn is_xzero(x: u8) -> bool {
    x & 0xc0 == 0x40
}

fn is_val(x: u8) -> bool {
    x & 0x80 != 0
}

/// The body of `hllSparseSet` over a buffer whose logical length is
/// `len` and that has at least 8 spare bytes after it.
fn sparse_set_in(b: &mut [u8], len: usize, index: usize, count: u8, max_bytes: u64) -> SparseStep {
    let sparse = HDR_SIZE;
    let mut end = len;
    // Step 1: find the opcode covering `index`.
    let mut p = sparse;
    let mut first = 0usize;
    let mut prev = None;
    let mut span = 0usize;
    while p < end {
        let (op, oplen) = op_at(b, p);
        span = match op {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        };
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p >= end {
        return SparseStep::Corrupt;
    }
    let next = if is_xzero(b[p]) { p + 2 } else { p + 1 };
    let next = (next < end).then_some(next);
    let (op, _) = op_at(b, p);
    let runlen = span;

    // Cases A, B, C: no split needed.
    let mut trivial = false;
    if let Op::Val(old, _) = op {
        if old >= count {
            return SparseStep::Done(len, false);
        }
        if runlen == 1 {
            b[p] = val_op(count, 1);
            trivial = true;
        }
    }
    if matches!(op, Op::Zero(_)) && runlen == 1 {
        b[p] = val_op(count, 1);
        trivial = true;
    }

    if !trivial {
        // D: split the opcode into up to three.
        let mut seq = [0u8; 5];
        let mut n = 0;
        let last = first + span - 1;
        let zeros = |seq: &mut [u8; 5], n: &mut usize, len: usize| {
            if len > SPARSE_ZERO_MAX_LEN {
                let l = len - 1;
                seq[*n] = (l >> 8) as u8 | 0x40;
                seq[*n + 1] = (l & 0xff) as u8;
                *n += 2;
            } else {
                seq[*n] = (len - 1) as u8;
                *n += 1;
            }
        };
        match op {
            Op::Zero(_) | Op::XZero(_) => {
                if index != first {
                    zeros(&mut seq, &mut n, index - first);
                }
                seq[n] = val_op(count, 1);
                n += 1;
                if index != last {
                    zeros(&mut seq, &mut n, last - index);
                }
            }
            Op::Val(cur, _) => {
                if index != first {
                    seq[n] = val_op(cur, index - first);
                    n += 1;
                }
                seq[n] = val_op(count, 1);
                n += 1;
                if index != last {
                    seq[n] = val_op(cur, last - index);
                    n += 1;
                }
            }
        }
        // Step 3: put the new sequence in the old one's place.
        let oldlen: isize = if matches!(op, Op::XZero(_)) { 2 } else { 1 };
        let delta = n as isize - oldlen;
        if delta > 0 && (len as u64).saturating_add(delta as u64) > max_bytes {
            return SparseStep::Promote;
        }
        if delta != 0 {
            if let Some(next) = next {
                let to = (next as isize + delta) as usize;
                b.copy_within(next..end, to);
            }
        }
        b[p..p + n].copy_from_slice(&seq[..n]);
        end = (end as isize + delta) as usize;
    }

    // Step 4: merge adjacent VALs of equal value, up to 5 opcodes from
    // the one before.
    let mut p = prev.unwrap_or(sparse);
    let mut scanlen = 5;
    while p < end {
        if scanlen == 0 {
            break;
        }
        scanlen -= 1;
        if is_xzero(b[p]) {
            p += 2;
            continue;
        } else if is_zero(b[p]) {
            p += 1;
            continue;
        }
        if p + 1 < end && is_val(b[p + 1]) {
            let (Op::Val(v1, l1), _) = op_at(b, p) else {
                unreachable!("is_val")
            };
            let (Op::Val(v2, l2), _) = op_at(b, p + 1) else {
                unreachable!("is_val")
            };
            if v1 == v2 && l1 + l2 <= SPARSE_VAL_MAX_LEN {
                b[p + 1] = val_op(v1, l1 + l2);
                b.copy_within(p + 1..end + 1, p);
                end -= 1;
                continue;
            }
        }
        p += 1;
    }
    invalidate(b);
    SparseStep::Done(end, true)
}

/// Adds `ele` to the valid HyperLogLog `v` (`hllAdd`): true when a
/// register grew. The sparse encoding may turn dense.
pub fn add(v: &mut Vec<u8>, ele: &[u8], max_bytes: u64) -> Result<bool, Corrupt> {
    let (index, count) = pat_len(ele);
    match v[4] {
        DENSE => Ok(dense_set(&mut v[HDR_SIZE..], index, count)),
        SPARSE => sparse_set(v, index, count, max_bytes),
        _ => Err(Corrupt),
    }
}

/// The histogram of register values.
type Histogram = [i32; 64];

/// Bytes of dense registers that hold [`GROUP`] registers exactly.
const GROUP_BYTES: usize = 6;
/// Registers unpacked at once: 8 registers of 6 bits fill 6 bytes.
const GROUP: usize = 8;

/// The 8 registers packed in 6 bytes (little endian, 6 bits each), one
/// per byte: byte `k` of the result is register `k`.
///
/// The 48 bits are spread in three halvings, each moving the upper half
/// of every field up by the room it needs (24 → 32, 12 → 16, 6 → 8 bits),
/// instead of 8 separate shifts and masks.
#[inline(always)]
fn unpack_group(g: &[u8]) -> [u8; GROUP] {
    let mut w = [0u8; 8];
    w[..GROUP_BYTES].copy_from_slice(&g[..GROUP_BYTES]);
    let x = u64::from_le_bytes(w);
    let x = (x & 0x0000_0000_00ff_ffff) | ((x & 0x0000_ffff_ff00_0000) << 8);
    let x = (x & 0x0000_0fff_0000_0fff) | ((x & 0x00ff_f000_00ff_f000) << 4);
    let x = (x & 0x003f_003f_003f_003f) | ((x & 0x0fc0_0fc0_0fc0_0fc0) << 2);
    x.to_le_bytes()
}

/// The inverse of [`unpack_group`]: 8 registers (at most 63 each) packed
/// into the 6 bytes of `g`.
#[inline(always)]
fn pack_group(regs: [u8; GROUP], g: &mut [u8]) {
    let x = u64::from_le_bytes(regs);
    let x = (x & 0x003f_003f_003f_003f) | ((x >> 2) & 0x0fc0_0fc0_0fc0_0fc0);
    let x = (x & 0x0000_0fff_0000_0fff) | ((x >> 4) & 0x00ff_f000_00ff_f000);
    let x = (x & 0x0000_0000_00ff_ffff) | ((x >> 8) & 0x0000_ffff_ff00_0000);
    g[..GROUP_BYTES].copy_from_slice(&x.to_le_bytes()[..GROUP_BYTES]);
}

/// The byte-wise maximum of `a` and `b`, whose bytes are all below 128
/// (registers are at most 63).
///
/// Setting the top bit of each byte of `a` before subtracting keeps
/// every byte's borrow inside it, and leaves that top bit set exactly
/// where `a`'s byte is at least `b`'s.
#[inline(always)]
fn max_bytes(a: u64, b: u64) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let ge = ((a | HIGH) - b) & HIGH;
    // 0xff in the bytes where a >= b.
    let mask = ge | (ge - (ge >> 7));
    b ^ ((a ^ b) & mask)
}

/// Folds a 256-entry histogram into 64 entries (values above 63 count as
/// their low 6 bits, like a dense register read).
fn fold(h: &[u32; 256]) -> Histogram {
    let mut out = [0i32; 64];
    for (i, &n) in h.iter().enumerate() {
        out[i & 63] += n as i32;
    }
    out
}

/// The histogram of one-byte registers.
fn histogram_raw(regs: &[u8]) -> Histogram {
    let mut h = [0u32; 256];
    histogram_bytes(&mut h, regs);
    fold(&h)
}

/// Counts one-byte registers into the 256-entry histogram `h`.
#[inline(always)]
fn histogram_bytes(h: &mut [u32; 256], regs: &[u8]) {
    let mut groups = regs.chunks_exact(GROUP);
    for g in &mut groups {
        let mut a = [0u8; GROUP];
        a.copy_from_slice(g);
        if u64::from_ne_bytes(a) == 0 {
            h[0] += GROUP as u32;
            continue;
        }
        // Each register read from memory: one load and one increment.
        for &r in g {
            h[usize::from(r)] += 1;
        }
    }
    for &r in groups.remainder() {
        h[usize::from(r)] += 1;
    }
}

/// The histogram of dense registers `regs` (12288 bytes, or else read
/// one register at a time with [`dense_get`]).
fn histogram_dense(regs: &[u8]) -> Histogram {
    let mut h = [0u32; 256];
    if regs.len() == DENSE_SIZE - HDR_SIZE {
        // 64 registers unpacked to memory at a time, then counted from
        // there: a byte load and an increment each, where picking the
        // bytes out of the unpacked words costs a shift more.
        let mut buf = [0u8; 8 * GROUP];
        for chunk in regs.chunks_exact(8 * GROUP_BYTES) {
            for (g, b) in chunk
                .chunks_exact(GROUP_BYTES)
                .zip(buf.chunks_exact_mut(GROUP))
            {
                b.copy_from_slice(&unpack_group(g));
            }
            histogram_bytes(&mut h, &buf);
        }
    } else {
        for i in 0..REGISTERS {
            h[usize::from(dense_get(regs, i))] += 1;
        }
    }
    fold(&h)
}

/// The sparse histogram, or [`Corrupt`].
fn histogram_sparse(bytes: &[u8]) -> Result<Histogram, Corrupt> {
    let mut h = [0i32; 64];
    walk_sparse(bytes, |_, len, value| h[usize::from(value)] += len as i32)?;
    Ok(h)
}

/// Ertl's sigma.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let z_prime = z;
        z += x * y;
        y += y;
        if z_prime == z {
            return z;
        }
    }
}

/// Ertl's tau.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let z_prime = z;
        y *= 0.5;
        let d = 1.0 - x;
        // pow(d, 2) in Redis; compilers turn it into this product.
        z -= d * d * y;
        if z_prime == z {
            return z / 3.0;
        }
    }
}

/// C's `llroundl` on x86-64: half away from zero, and `LLONG_MIN` for a
/// result out of range (or not a number).
fn llround(x: f64) -> i64 {
    let r = x.round();
    // 2^63: the first double past the i64 range.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if r.is_nan() || !(-LIMIT..LIMIT).contains(&r) {
        i64::MIN
    } else {
        r as i64
    }
}

/// Ertl's improved estimator over a register histogram, as Redis 7
/// computes it (`hllCount`), with its conversions: the rounded estimate
/// goes through a double and then to an unsigned 64-bit integer.
fn estimate(h: &Histogram) -> u64 {
    let m = REGISTERS as f64;
    let q = Q as usize;
    let mut z = m * tau((m - f64::from(h[q + 1])) / m);
    for j in (1..=q).rev() {
        z += f64::from(h[j]);
        z *= 0.5;
    }
    z += m * sigma(f64::from(h[0]) / m);
    let e = llround(ALPHA_INF * m * m / z) as f64;
    if e < 0.0 {
        // (uint64_t) of a negative double: x86-64's conversion.
        e as i64 as u64
    } else {
        e as u64
    }
}

/// The estimated cardinality of a valid HyperLogLog, ignoring its cache;
/// [`Corrupt`] when sparse opcodes do not cover 16384 registers.
pub fn count(bytes: &[u8]) -> Result<u64, Corrupt> {
    if bytes[4] == DENSE {
        return Ok(estimate(&histogram_dense(&bytes[HDR_SIZE..])));
    }
    Ok(estimate(&histogram_sparse(bytes)?))
}

/// Registers one byte each: what PFCOUNT of many keys and PFMERGE gather
/// the maximum of the inputs in (Redis's `HLL_RAW` encoding).
///
/// It starts empty (no registers stored, all of them zero): the first
/// dense HyperLogLog merged is unpacked straight into it, so nothing is
/// zeroed only to be overwritten.
#[derive(Default)]
pub struct Raw(Vec<u8>);

impl Raw {
    /// The registers, [`REGISTERS`] of them, or none while nothing was
    /// merged (then every register is zero).
    pub fn registers(&self) -> &[u8] {
        &self.0
    }

    /// Raises each register to the valid HyperLogLog `bytes`'s (`hllMerge`).
    pub fn merge(&mut self, bytes: &[u8]) -> Result<(), Corrupt> {
        let regs = &bytes[HDR_SIZE..];
        if bytes[4] == DENSE && regs.len() == DENSE_SIZE - HDR_SIZE {
            if self.0.is_empty() {
                self.0.reserve_exact(REGISTERS);
                for g in regs.chunks_exact(GROUP_BYTES) {
                    self.0.extend_from_slice(&unpack_group(g));
                }
            } else {
                for (g, m) in regs
                    .chunks_exact(GROUP_BYTES)
                    .zip(self.0.chunks_exact_mut(GROUP))
                {
                    let mut a = [0u8; GROUP];
                    a.copy_from_slice(m);
                    let r = u64::from_le_bytes(unpack_group(g));
                    m.copy_from_slice(&max_bytes(u64::from_le_bytes(a), r).to_le_bytes());
                }
            }
            return Ok(());
        }
        if self.0.is_empty() {
            self.0.resize(REGISTERS, 0);
        }
        let max = &mut self.0;
        if bytes[4] == DENSE {
            // Not reached for a value `is_valid` accepted.
            for (i, m) in max.iter_mut().enumerate() {
                *m = (*m).max(dense_get(regs, i));
            }
            return Ok(());
        }
        walk_sparse(bytes, |first, len, value| {
            for m in &mut max[first..first + len] {
                *m = (*m).max(value);
            }
        })
    }

    /// Raises each register of dense `regs` (12288 bytes) to this one's,
    /// as [`dense_set`] of every register would (PFMERGE's write).
    pub fn raise_dense(&self, regs: &mut [u8]) {
        if self.0.is_empty() {
            return;
        }
        if regs.len() != DENSE_SIZE - HDR_SIZE {
            for (i, &m) in self.0.iter().enumerate() {
                dense_set(regs, i, m);
            }
            return;
        }
        for (g, m) in regs
            .chunks_exact_mut(GROUP_BYTES)
            .zip(self.0.chunks_exact(GROUP))
        {
            let mut a = [0u8; GROUP];
            a.copy_from_slice(m);
            let cur = u64::from_le_bytes(unpack_group(g));
            pack_group(max_bytes(cur, u64::from_le_bytes(a)).to_le_bytes(), g);
        }
    }

    /// The estimated cardinality of the union.
    pub fn count(&self) -> u64 {
        if self.0.is_empty() {
            let mut h = [0i32; 64];
            h[0] = REGISTERS as i32;
            return estimate(&h);
        }
        estimate(&histogram_raw(&self.0))
    }
}

/// PFSELFTEST: Redis's two checks. Registers written at random read back
/// the same without touching their neighbours, and dense and sparse
/// HyperLogLogs fed the same 10 million elements agree and stay within
/// six standard errors at every power of ten. `Err` is the failure's
/// message, as Redis words it.
pub fn self_test(max_bytes: u64, mut rand: impl FnMut() -> u32) -> Result<(), String> {
    let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
    let mut bytes = vec![0u8; REGISTERS];
    for _ in 0..1000 {
        for (i, b) in bytes.iter_mut().enumerate() {
            let r = (rand() & u32::from(REGISTER_MAX)) as u8;
            *b = r;
            dense_set_register(&mut regs, i, r);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let val = dense_get(&regs, i);
            if val != b {
                return Err(format!(
                    "TESTFAILED Register {i} should be {b} but is {val}"
                ));
            }
        }
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..4].copy_from_slice(b"HYLL");
    let mut sparse = new_sparse();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed = u64::from(rand()) | u64::from(rand()) << 32;
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_ne_bytes();
        let (index, run) = pat_len(&ele);
        dense_set(&mut dense[HDR_SIZE..], index, run);
        // The sparse one was made here and is valid: it cannot be corrupt.
        let _ = add(&mut sparse, &ele, max_bytes);
        if j != checkpoint {
            continue;
        }
        if j < max_bytes / 2 && sparse[4] != SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let card = count(&dense).unwrap_or(0);
        if Ok(card) != count(&sparse) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = (checkpoint as i64 - card as i64).unsigned_abs();
        let mut maxerr = (relerr * 6.0 * checkpoint as f64).ceil() as u64;
        if j == 10 {
            maxerr = 1;
        }
        if abserr > maxerr {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A naive register reader: bit by bit, least significant first.
    fn naive_get(regs: &[u8], i: usize) -> u8 {
        (0..6).fold(0, |acc, k| {
            let bit = i * 6 + k;
            let set = regs.get(bit / 8).map_or(0, |b| (b >> (bit % 8)) & 1);
            acc | (set << k)
        })
    }

    #[test]
    fn murmur_matches_reference_vectors() {
        // Redis's MurmurHash64A compiled from hyperloglog.c, seed
        // 0xadc83b19: every tail length, one and two blocks. ("a" lands in
        // register 12711 with a run of 2, as PFDEBUG DECODE shows on Redis.)
        let vectors: &[(&[u8], u64)] = &[
            (b"", 0xd8dfea6585bc9732),
            (b"a", 0x53d2470a9b43b1a7),
            (b"ab", 0x0eaed676437142cf),
            (b"abc", 0x77ec90aeb374e502),
            (b"abcdefg", 0x22fe613bb08c9602),
            (b"abcdefgh", 0xf3a65df559914567),
            (b"abcdefghi", 0x834fba4d9152daf7),
            (b"hello world, this is soquete", 0x7d533e7ec846b3de),
        ];
        for &(key, hash) in vectors {
            assert_eq!(murmur64a(key, SEED), hash, "{key:?}");
        }
        assert_eq!(pat_len(b"a"), (12711, 2));
    }

    #[test]
    fn dense_registers_do_not_disturb_neighbours() {
        let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
        let mut want = vec![0u8; REGISTERS];
        let mut x: u32 = 12345;
        for round in 0..4 {
            for (i, w) in want.iter_mut().enumerate() {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let v = if round == 3 {
                    63
                } else {
                    ((x >> 16) & 63) as u8
                };
                *w = v;
                dense_set_register(&mut regs, i, v);
            }
            for (i, &w) in want.iter().enumerate() {
                assert_eq!(dense_get(&regs, i), w, "register {i}");
                assert_eq!(naive_get(&regs, i), w, "register {i} (naive)");
            }
        }
    }

    #[test]
    fn new_sparse_is_redis_empty_hll() {
        let v = new_sparse();
        assert_eq!(
            v,
            b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff".to_vec()
        );
        assert_eq!(sparse_ops(&v), vec![Op::XZero(16384)]);
        assert_eq!(count(&v), Ok(0));
    }

    #[test]
    fn pat_len_counts_trailing_zeroes_after_the_index_bits() {
        for i in 0..1000u32 {
            let ele = i.to_le_bytes();
            let hash = murmur64a(&ele, SEED);
            let (index, count) = pat_len(&ele);
            assert_eq!(index as u64, hash & 0x3fff);
            let mut c = 1;
            let mut h = hash >> 14;
            while h & 1 == 0 && c <= 50 {
                c += 1;
                h >>= 1;
            }
            assert_eq!(count, c);
        }
    }

    #[test]
    fn sparse_and_dense_agree_on_every_register() {
        let mut sparse = new_sparse();
        let mut dense = new_sparse();
        sparse_to_dense(&mut dense).unwrap();
        for i in 0..3000u32 {
            let e = format!("element:{i}");
            let a = add(&mut sparse, e.as_bytes(), 1 << 20).unwrap();
            let b = add(&mut dense, e.as_bytes(), 1 << 20).unwrap();
            assert_eq!(a, b, "element {i}");
        }
        assert_eq!(encoding(&sparse), SPARSE);
        let mut promoted = sparse.clone();
        sparse_to_dense(&mut promoted).unwrap();
        assert_eq!(&promoted[HDR_SIZE..], &dense[HDR_SIZE..]);
        assert_eq!(count(&sparse), count(&dense));
    }

    #[test]
    fn sparse_promotes_past_max_bytes() {
        let mut v = new_sparse();
        let mut i = 0;
        while encoding(&v) == SPARSE {
            add(&mut v, format!("{i}").as_bytes(), 100).unwrap();
            assert!(v.len() <= 100 || encoding(&v) == DENSE);
            i += 1;
        }
        assert_eq!(v.len(), DENSE_SIZE);
    }

    #[test]
    fn corrupted_sparse_is_reported_not_panicking() {
        // Opcodes covering too few registers.
        let mut v = new_sparse();
        v.truncate(HDR_SIZE + 1); // an XZERO cut in half: reads a 0
        assert!(is_valid(&v));
        assert_eq!(count(&v), Err(Corrupt));
        assert!(add(&mut v, b"x", 3000).is_err() || v.len() >= HDR_SIZE);
        let mut raw = Raw::default();
        assert_eq!(raw.merge(&v), Err(Corrupt));
        // Opcodes covering too many.
        let mut v = new_sparse();
        v.extend_from_slice(&[0x7f, 0xff, 0x80]);
        assert_eq!(count(&v), Err(Corrupt));
        assert_eq!(sparse_to_dense(&mut v), Err(Corrupt));
    }

    #[test]
    fn estimator_of_all_max_registers_is_llong_min() {
        let mut v = vec![0xffu8; DENSE_SIZE];
        v[..4].copy_from_slice(b"HYLL");
        v[4] = DENSE;
        assert_eq!(count(&v), Ok(1 << 63));
    }

    /// A dense HyperLogLog holding `regs` (each at most 63).
    fn dense_of(regs: &[u8]) -> Vec<u8> {
        let mut v = vec![0u8; DENSE_SIZE];
        v[..4].copy_from_slice(b"HYLL");
        for (i, &r) in regs.iter().enumerate() {
            dense_set_register(&mut v[HDR_SIZE..], i, r);
        }
        v
    }

    /// The register-at-a-time histogram the fast paths must equal.
    fn naive_histogram(regs: impl Iterator<Item = u8>) -> Histogram {
        let mut h = [0i32; 64];
        for r in regs {
            h[usize::from(r & 63)] += 1;
        }
        h
    }

    /// Registers as a HyperLogLog has them: mostly small, runs of zeros
    /// (whole 8-byte words of them too), now and then the largest values.
    fn registers() -> impl Strategy<Value = Vec<u8>> {
        let reg = prop_oneof![
            4 => Just(0u8),
            4 => 1u8..6,
            1 => 0u8..=REGISTER_MAX,
            1 => Just(REGISTER_MAX),
        ];
        (proptest::collection::vec(reg, 1..64), any::<u64>()).prop_map(|(pattern, seed)| {
            // A pattern repeated with a varying stride fills all 16384.
            let mut x = seed | 1;
            (0..REGISTERS)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    pattern[(x % pattern.len() as u64) as usize]
                })
                .collect()
        })
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn unpacked_groups_equal_register_reads(regs in registers()) {
            let v = dense_of(&regs);
            for (g, chunk) in v[HDR_SIZE..].chunks_exact(GROUP_BYTES).enumerate() {
                let got = unpack_group(chunk);
                for (k, &r) in got.iter().enumerate() {
                    prop_assert_eq!(r, dense_get(&v[HDR_SIZE..], g * GROUP + k));
                }
            }
        }

        #[test]
        fn dense_histogram_equals_register_at_a_time(regs in registers()) {
            let v = dense_of(&regs);
            let want = naive_histogram((0..REGISTERS).map(|i| dense_get(&v[HDR_SIZE..], i)));
            prop_assert_eq!(histogram_dense(&v[HDR_SIZE..]), want);
            prop_assert_eq!(histogram_raw(&regs), want);
        }

        #[test]
        fn packed_groups_unpack_to_the_same_registers(g in any::<[u8; 6]>()) {
            let mut back = [0u8; 6];
            pack_group(unpack_group(&g), &mut back);
            prop_assert_eq!(back, g);
        }

        #[test]
        fn raising_dense_equals_setting_each_register(
            a in registers(),
            b in registers(),
        ) {
            let mut raw = Raw::default();
            raw.merge(&dense_of(&a)).unwrap();
            let mut fast = dense_of(&b);
            raw.raise_dense(&mut fast[HDR_SIZE..]);
            let mut slow = dense_of(&b);
            for (i, &m) in raw.registers().iter().enumerate() {
                dense_set(&mut slow[HDR_SIZE..], i, m);
            }
            prop_assert_eq!(fast, slow);
        }

        #[test]
        fn byte_maximum_equals_per_byte_max(a in any::<u64>(), b in any::<u64>()) {
            let (a, b) = (a & 0x7f7f_7f7f_7f7f_7f7f, b & 0x7f7f_7f7f_7f7f_7f7f);
            let want: Vec<u8> = a.to_le_bytes().iter().zip(b.to_le_bytes()).map(|(&x, y)| x.max(y)).collect();
            prop_assert_eq!(max_bytes(a, b).to_le_bytes().to_vec(), want);
        }

        #[test]
        fn merged_union_equals_register_maximum(
            a in registers(),
            b in registers(),
            sparse_first in any::<bool>(),
        ) {
            // A sparse HyperLogLog (values up to 32; every 16th register
            // set, to keep it quick to build) and a dense one, merged in
            // either order.
            let small: Vec<u8> = a
                .iter()
                .enumerate()
                .map(|(i, &r)| if i % 16 == 0 { r.min(32) } else { 0 })
                .collect();
            let mut sparse = new_sparse();
            for (i, &r) in small.iter().enumerate() {
                if r > 0 {
                    sparse_set(&mut sparse, i, r, u64::MAX).unwrap();
                }
            }
            prop_assert_eq!(encoding(&sparse), SPARSE);
            let mut raw = Raw::default();
            if sparse_first {
                raw.merge(&sparse).unwrap();
                raw.merge(&dense_of(&b)).unwrap();
            } else {
                raw.merge(&dense_of(&b)).unwrap();
                raw.merge(&sparse).unwrap();
            }
            let want: Vec<u8> = small.iter().zip(&b).map(|(&x, &y)| x.max(y)).collect();
            prop_assert_eq!(raw.registers(), &want[..]);
            prop_assert_eq!(raw.count(), estimate(&naive_histogram(want.iter().copied())));
            // Two dense ones.
            raw.merge(&dense_of(&a)).unwrap();
            let want: Vec<u8> = a.iter().zip(&want).map(|(&x, &y)| x.max(y)).collect();
            prop_assert_eq!(raw.registers(), &want[..]);
            // And a union of one dense HyperLogLog counts as that one.
            let mut one = Raw::default();
            one.merge(&dense_of(&b)).unwrap();
            prop_assert_eq!(Ok(one.count()), count(&dense_of(&b)));
        }
    }

    #[test]
    fn empty_union_counts_zero_and_has_no_registers() {
        let raw = Raw::default();
        assert!(raw.registers().is_empty());
        assert_eq!(raw.count(), 0);
        let mut raw = Raw::default();
        raw.merge(&new_sparse()).unwrap();
        assert_eq!(raw.registers(), &[0u8; REGISTERS][..]);
        assert_eq!(raw.count(), 0);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut x: u64 = 7;
        for len in 0..200usize {
            for _ in 0..20 {
                let mut v = new_sparse();
                v.resize(HDR_SIZE + len % 40, 0);
                for b in &mut v[HDR_SIZE..] {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    *b = x as u8;
                }
                let _ = count(&v);
                let _ = sparse_ops(&v);
                let _ = Raw::default().merge(&v);
                for e in 0..5u32 {
                    let _ = add(&mut v, &e.to_le_bytes(), 3000);
                }
                let _ = sparse_to_dense(&mut v);
            }
        }
    }
}
