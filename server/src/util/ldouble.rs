//! A software x87 80-bit extended double ("`long double`" on x86-64 Linux).
//!
//! Redis 7.0 computes `INCRBYFLOAT` and `HINCRBYFLOAT` in C `long double`
//! (64-bit mantissa, 15-bit exponent) and prints the result with
//! `ld2string(LD_STR_HUMAN)`, i.e. `"%.17Lf"` with trailing zeros trimmed.
//! That is why `INCRBYFLOAT` of 10.5 by 0.1 answers `10.6` (an `f64` sum would
//! print `10.59999999999999964`) and why `INCRBYFLOAT k 1e400` succeeds.
//! `GEOPOS` prints its (double) coordinates through the same formatter
//! (`addReplyHumanLongDouble`), see [`LongDouble::from_f64`].
//!
//! Everything here is exact: parsing is correctly rounded like glibc's
//! `strtold`, addition is correctly rounded like the x87 FPU (round to
//! nearest, ties to even, gradual underflow), and formatting produces the
//! exact digits glibc's `printf` does. The golden vectors in
//! `testdata/num/ld.txt` come from glibc itself (`testdata/num/gen.c`).
//!
//! # Cost
//!
//! Addition and formatting of values below 2^64 use only 128-bit integers.
//! Parsing a long decimal, or printing a value above 2^64, uses a small
//! bignum whose size is bounded by the format (about 34 000 bits at worst,
//! since inputs are capped at 5119 bytes): well under a millisecond even
//! for `1e4932`.

use super::num::{round_binary, scan_float, Kind, Rounded};

/// Longest input [`LongDouble::parse`] accepts, plus one (Redis's
/// `MAX_LONG_DOUBLE_CHARS`, the size of the buffer `string2ld` copies into).
const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;
/// Exponent of the least significant bit of the smallest subnormal (2^-16445).
const MIN_EXP: i64 = -16445;
/// Every finite value is below 2^16384.
const TOP_EXP: i64 = 16384;
/// Bits of precision (the x87 mantissa, explicit integer bit included).
const PREC: u32 = 64;
/// Exponent bias of the x87 format.
const BIAS: i64 = 16383;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Zero,
    Finite,
    Inf,
    Nan,
}

/// An x87 80-bit extended-precision value, as C's `long double` on x86-64.
///
/// The representation is canonical (a finite value is `mant * 2^exp` with
/// the top mantissa bit set, or with the minimum exponent when subnormal), so
/// the derived `PartialEq` compares values, except that it tells `0` from
/// `-0` and calls two NaNs equal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LongDouble {
    neg: bool,
    class: Class,
    mant: u64,
    exp: i32,
}

impl LongDouble {
    const NAN: LongDouble = LongDouble {
        // The x87 "real indefinite" that inf + -inf produces is negative.
        neg: true,
        class: Class::Nan,
        mant: 0,
        exp: 0,
    };

    fn zero(neg: bool) -> LongDouble {
        LongDouble {
            neg,
            class: Class::Zero,
            mant: 0,
            exp: 0,
        }
    }

    fn inf(neg: bool) -> LongDouble {
        LongDouble {
            neg,
            class: Class::Inf,
            mant: 0,
            exp: 0,
        }
    }

    fn from_rounded(neg: bool, r: Rounded) -> LongDouble {
        match r {
            Rounded::Zero => LongDouble::zero(neg),
            Rounded::Overflow => LongDouble::inf(neg),
            Rounded::Finite { mant, exp } => LongDouble {
                neg,
                class: Class::Finite,
                mant,
                exp: exp as i32,
            },
        }
    }

    /// Parses `s` exactly as Redis 7.0's `string2ld` does (the parser behind
    /// `getLongDoubleFromObject`, used by `INCRBYFLOAT` and `HINCRBYFLOAT`).
    ///
    /// The input must be 1 to 5119 bytes and be one `strtold` number in the
    /// "C" locale from its first byte to its last: decimal
    /// (`[+-]digits[.digits][e[+-]digits]`), glibc hexadecimal (`0x1.8p3`),
    /// or `inf`/`infinity` in any case. Decimals and hex are correctly
    /// rounded to the 64-bit mantissa (ties to even).
    ///
    /// Rejected (`None`), all checked against redis-server 7.0.15: leading
    /// or trailing whitespace, an embedded or trailing NUL (`"1\0abc"`),
    /// `nan`, a finite number that overflows (`1.19e4932`) or underflows to
    /// zero (`1e-4951`, `0x1p-16446`). Subnormal results (`1e-4950`) and a
    /// zero written as zero (`0e-5000`) are accepted.
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS {
            return None;
        }
        let scanned = scan_float(s)?;
        let neg = scanned.neg;
        let rounded = match scanned.kind {
            Kind::Inf => return Some(LongDouble::inf(neg)),
            Kind::Hex { int, frac, exp } => {
                let (m, e, sticky) = super::num::hex_mantissa(int, frac, exp);
                if m == 0 {
                    return Some(LongDouble::zero(neg));
                }
                round_binary(m, e, sticky, PREC, MIN_EXP, TOP_EXP)
            }
            Kind::Dec { int, frac, exp } => match decimal_to_binary(int, frac, exp) {
                None => return Some(LongDouble::zero(neg)),
                Some(r) => r,
            },
        };
        match rounded {
            // strtold sets ERANGE and Redis rejects the input.
            Rounded::Zero | Rounded::Overflow => None,
            r => Some(LongDouble::from_rounded(neg, r)),
        }
    }

    /// The exact value of `v` (every `i64` fits in a 64-bit mantissa), as C's
    /// `(long double)v`. Zero is positive zero.
    pub fn from_i64(v: i64) -> LongDouble {
        if v == 0 {
            return LongDouble::zero(false);
        }
        let r = round_binary(
            u128::from(v.unsigned_abs()),
            0,
            false,
            PREC,
            MIN_EXP,
            TOP_EXP,
        );
        LongDouble::from_rounded(v < 0, r)
    }

    /// The exact value of `d`, as C's `(long double)d`. Redis's `GEOPOS`
    /// prints coordinates this way: `LongDouble::from_f64(x).fmt_human(out)`
    /// is `addReplyHumanLongDouble(c, x)`.
    pub fn from_f64(d: f64) -> LongDouble {
        if d.is_nan() {
            return LongDouble::NAN;
        }
        let neg = d.is_sign_negative();
        if d.is_infinite() {
            return LongDouble::inf(neg);
        }
        let bits = d.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1 << 52) - 1);
        let (m, e) = if biased == 0 {
            (frac, -1074)
        } else {
            (frac | (1 << 52), biased - 1075)
        };
        if m == 0 {
            return LongDouble::zero(neg);
        }
        LongDouble::from_rounded(
            neg,
            round_binary(u128::from(m), e, false, PREC, MIN_EXP, TOP_EXP),
        )
    }

    /// Builds a value from its 80-bit x87 encoding: bit 79 the sign, bits
    /// 64–78 the biased exponent, bits 0–63 the mantissa with its explicit
    /// integer bit. Non-canonical encodings (unnormals, pseudo-denormals,
    /// pseudo-infinities) are read by value; every NaN becomes the default
    /// NaN.
    pub fn from_x87_bits(bits: u128) -> LongDouble {
        let neg = (bits >> 79) & 1 == 1;
        let biased = ((bits >> 64) & 0x7fff) as i64;
        let mant = bits as u64;
        if biased == 0x7fff {
            return if mant << 1 == 0 {
                LongDouble::inf(neg)
            } else {
                LongDouble::NAN
            };
        }
        if mant == 0 {
            return LongDouble::zero(neg);
        }
        let e = biased.max(1) - BIAS - 63;
        LongDouble::from_rounded(
            neg,
            round_binary(u128::from(mant), e, false, PREC, MIN_EXP, TOP_EXP),
        )
    }

    /// The 80-bit x87 encoding of the value (see [`LongDouble::from_x87_bits`]);
    /// NaN is the x87 default NaN `0xffff_c000000000000000`.
    pub fn to_x87_bits(self) -> u128 {
        let sign = u128::from(self.neg) << 79;
        match self.class {
            Class::Zero => sign,
            Class::Inf => sign | (0x7fff << 64) | (1 << 63),
            Class::Nan => sign | (0x7fff << 64) | (0b11 << 62),
            Class::Finite => {
                let biased = if self.mant >> 63 == 1 {
                    i64::from(self.exp) + 63 + BIAS
                } else {
                    0 // subnormal: exp is MIN_EXP
                };
                sign | ((biased as u128) << 64) | u128::from(self.mant)
            }
        }
    }

    /// `self + other`, correctly rounded to the 64-bit mantissa (round to
    /// nearest, ties to even), as the x87 FPU computes C's `a + b`.
    /// Overflow gives an infinity, `inf + -inf` gives NaN, and `x + -x` is
    /// `+0`. (`a + b` works too, through [`std::ops::Add`].)
    // The callers' API is a method named `add`; the trait is implemented too.
    #[allow(clippy::should_implement_trait)]
    pub fn add(self, other: LongDouble) -> LongDouble {
        use Class::*;
        match (self.class, other.class) {
            (Nan, _) | (_, Nan) => LongDouble::NAN,
            (Inf, Inf) if self.neg != other.neg => LongDouble::NAN,
            (Inf, _) => self,
            (_, Inf) => other,
            (Zero, Zero) => LongDouble::zero(self.neg && other.neg),
            (Zero, _) => other,
            (_, Zero) => self,
            (Finite, Finite) => add_finite(self, other),
        }
    }

    /// Whether the value is neither infinite nor NaN.
    pub fn is_finite(self) -> bool {
        matches!(self.class, Class::Zero | Class::Finite)
    }

    /// Whether the value is greater than zero.
    pub fn is_positive(self) -> bool {
        !self.neg && matches!(self.class, Class::Finite | Class::Inf)
    }

    /// Whether the value is NaN (only `inf + -inf` produces one).
    pub fn is_nan(self) -> bool {
        self.class == Class::Nan
    }

    /// Appends the value as Redis 7.0's `ld2string(…, LD_STR_HUMAN)`:
    /// `printf("%.17Lf")` (exact digits, the 17th fractional digit rounded
    /// to nearest, ties to even), then trailing zeros after the point
    /// removed, a bare point removed, and `-0` turned into `0`.
    ///
    /// So 10.6 prints `10.6`, 1e400 prints all of its 401 integer digits,
    /// and anything smaller in magnitude than 5e-18 prints `0`. Infinities
    /// print `inf`/`-inf` (Redis handles them before calling `printf`), NaN
    /// prints `-nan` as glibc does for the x87 default NaN.
    pub fn fmt_human(self, out: &mut Vec<u8>) {
        match self.class {
            Class::Nan => out.extend_from_slice(if self.neg { b"-nan" } else { b"nan" }),
            Class::Inf => out.extend_from_slice(if self.neg { b"-inf" } else { b"inf" }),
            Class::Zero => out.push(b'0'),
            Class::Finite => self.fmt_finite(out),
        }
    }

    fn fmt_finite(self, out: &mut Vec<u8>) {
        let mant = self.mant;
        let exp = i64::from(self.exp);
        if exp >= 0 {
            // An integer: "%.17Lf" adds ".00000000000000000", all trimmed.
            if self.neg {
                out.push(b'-');
            }
            if exp < 64 {
                let mut buf = itoa::Buffer::new();
                out.extend_from_slice(buf.format(u128::from(mant) << exp).as_bytes());
            } else {
                let mut big = BigUint::from_u64(mant);
                big.shl(exp as u64);
                big.write_decimal(out);
            }
            return;
        }
        let k = (-exp) as u32;
        let (mut int, frac) = if k >= 64 {
            (0u64, mant)
        } else {
            (mant >> k, mant & ((1u64 << k) - 1))
        };
        // The 17 fractional digits: round(frac * 10^17 / 2^k), ties to even.
        const SCALE: u64 = 100_000_000_000_000_000;
        let scaled = u128::from(frac) * u128::from(SCALE); // < 2^121
        let mut q: u64 = if k < 128 {
            let q0 = (scaled >> k) as u64;
            let r = scaled & ((1u128 << k) - 1);
            let half = 1u128 << (k - 1);
            q0 + u64::from(r > half || (r == half && q0 & 1 == 1))
        } else {
            0 // scaled < 2^121 <= half of 2^k: rounds down
        };
        if q == SCALE {
            q = 0;
            int += 1;
        }
        if int == 0 && q == 0 {
            out.push(b'0'); // "-0.00000000000000000" becomes "0"
            return;
        }
        if self.neg {
            out.push(b'-');
        }
        let mut buf = itoa::Buffer::new();
        out.extend_from_slice(buf.format(int).as_bytes());
        if q != 0 {
            let mut digits = [b'0'; 17];
            let mut v = q;
            for d in digits.iter_mut().rev() {
                *d = b'0' + (v % 10) as u8;
                v /= 10;
            }
            let len = 17 - digits.iter().rev().take_while(|&&d| d == b'0').count();
            out.push(b'.');
            out.extend_from_slice(&digits[..len]);
        }
    }
}

impl std::ops::Add for LongDouble {
    type Output = LongDouble;

    /// See [`LongDouble::add`].
    fn add(self, other: LongDouble) -> LongDouble {
        LongDouble::add(self, other)
    }
}

/// Adds two finite nonzero values.
fn add_finite(a: LongDouble, b: LongDouble) -> LongDouble {
    // Normalize subnormals so both mantissas have their top bit set.
    let norm = |x: LongDouble| {
        let lz = x.mant.leading_zeros();
        (x.mant << lz, i64::from(x.exp) - i64::from(lz))
    };
    let (mut ma, mut ea) = norm(a);
    let (mut mb, mut eb) = norm(b);
    let (mut na, mut nb) = (a.neg, b.neg);
    if (eb, mb) > (ea, ma) {
        std::mem::swap(&mut ma, &mut mb);
        std::mem::swap(&mut ea, &mut eb);
        std::mem::swap(&mut na, &mut nb);
    }
    // 62 guard bits below each mantissa; b is aligned to a's exponent and
    // whatever falls off the end is kept as a sticky bit.
    const GUARD: u32 = 62;
    let wa = u128::from(ma) << GUARD;
    let wb_full = u128::from(mb) << GUARD;
    let gap = (ea - eb) as u64;
    let (wb, sticky) = if gap == 0 {
        (wb_full, false)
    } else if gap < 128 {
        let wb = wb_full >> gap;
        (wb, wb << gap != wb_full)
    } else {
        (0, true)
    };
    let e = ea - i64::from(GUARD);
    let (sum, sticky) = if na == nb {
        (wa + wb, sticky)
    } else if sticky {
        // a - (wb + f) with 0 < f < 1 is (wa - wb - 1) + (1 - f).
        (wa - wb - 1, true)
    } else {
        (wa - wb, false)
    };
    if sum == 0 && !sticky {
        return LongDouble::zero(false);
    }
    LongDouble::from_rounded(na, round_binary(sum, e, sticky, PREC, MIN_EXP, TOP_EXP))
}

/// Correctly rounds the decimal `int.frac * 10^exp` (digits only, at most
/// 5119 of them) to the x87 format. `None` means the digits are all zero.
fn decimal_to_binary(int: &[u8], frac: &[u8], exp: i64) -> Option<Rounded> {
    // Significant digits: drop leading zeros, move trailing zeros into the
    // exponent. value = D * 10^e10 with D the integer made of `digits`.
    let all = || int.iter().chain(frac.iter()).copied();
    let total = int.len() + frac.len();
    let lead = all().take_while(|&b| b == b'0').count();
    if lead == total {
        return None;
    }
    let trail = all().rev().take_while(|&b| b == b'0').count();
    let nd = (total - lead - trail) as i64;
    let e10 = exp - frac.len() as i64 + trail as i64;
    // value is in [10^(e10+nd-1), 10^(e10+nd)).
    if e10 + nd > 4933 {
        return Some(Rounded::Overflow); // >= 1e4933 > LDBL_MAX (1.19e4932)
    }
    if e10 + nd <= -4952 {
        return Some(Rounded::Zero); // < 1e-4952 < half the smallest subnormal
    }
    if nd <= 19 {
        let d = all()
            .skip(lead)
            .take(nd as usize)
            .fold(0u64, |d, b| d * 10 + u64::from(b - b'0'));
        if let Some(r) = small_decimal_to_binary(d, e10) {
            return Some(r);
        }
    }
    let mut d = BigUint::zero();
    let mut chunk = 0u32;
    let mut chunk_len = 0;
    for b in all().skip(lead).take(nd as usize) {
        chunk = chunk * 10 + u32::from(b - b'0');
        chunk_len += 1;
        if chunk_len == 9 {
            d.mul_add_small(1_000_000_000, chunk);
            chunk = 0;
            chunk_len = 0;
        }
    }
    if chunk_len > 0 {
        d.mul_add_small(10u32.pow(chunk_len), chunk);
    }
    if e10 >= 0 {
        d.mul_pow10(e10 as u64);
        let (m, e, sticky) = d.top128();
        return Some(round_binary(m, e, sticky, PREC, MIN_EXP, TOP_EXP));
    }
    // value = D / 10^k: take a 126- or 127-bit quotient plus a sticky
    // remainder, which leaves 60+ guard bits below the 64-bit mantissa.
    let mut b = BigUint::from_u64(1);
    b.mul_pow10((-e10) as u64);
    let s = 126 + b.bit_len() as i64 - d.bit_len() as i64;
    if s >= 0 {
        d.shl(s as u64);
    } else {
        b.shl((-s) as u64);
    }
    let (q, rem_nonzero) = d.div_small_quotient(&b, 127);
    Some(round_binary(q, -s, rem_nonzero, PREC, MIN_EXP, TOP_EXP))
}

/// The fast path of [`decimal_to_binary`] for `d * 10^e10` with `d` below
/// 10^19 and `-38 <= e10 <= 19`, in 128-bit integers; `None` outside that
/// range.
fn small_decimal_to_binary(d: u64, e10: i64) -> Option<Rounded> {
    if e10 >= 0 {
        if e10 > 19 {
            return None;
        }
        // d * 10^19 < 10^38 < 2^127: exact.
        let n = u128::from(d) * 10u128.pow(e10 as u32);
        return Some(round_binary(n, 0, false, PREC, MIN_EXP, TOP_EXP));
    }
    let k = u32::try_from(-e10).ok().filter(|&k| k <= 38)?;
    let b = 10u128.pow(k); // < 2^127, so 2 * r below never overflows
    let (mut q, mut r) = (u128::from(d) / b, u128::from(d) % b);
    let mut e = 0i64;
    // Long division, one quotient bit at a time, until q has 126 bits: 62
    // guard bits below the 64-bit mantissa, the rest in the sticky remainder.
    while q < 1 << 125 {
        r <<= 1;
        q <<= 1;
        if r >= b {
            r -= b;
            q |= 1;
        }
        e -= 1;
    }
    Some(round_binary(q, e, r != 0, PREC, MIN_EXP, TOP_EXP))
}

/// Just enough of an arbitrary-precision unsigned integer for exact decimal
/// conversion: little-endian 32-bit limbs, no leading zero limbs.
#[derive(Clone, Debug)]
struct BigUint {
    limbs: Vec<u32>,
}

impl BigUint {
    fn zero() -> BigUint {
        BigUint { limbs: Vec::new() }
    }

    fn from_u64(v: u64) -> BigUint {
        let mut b = BigUint {
            limbs: vec![v as u32, (v >> 32) as u32],
        };
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    fn bit_len(&self) -> u64 {
        match self.limbs.last() {
            None => 0,
            Some(&top) => 32 * self.limbs.len() as u64 - u64::from(top.leading_zeros()),
        }
    }

    /// self = self * mul + add.
    fn mul_add_small(&mut self, mul: u32, add: u32) {
        let mut carry = u64::from(add);
        for limb in &mut self.limbs {
            let v = u64::from(*limb) * u64::from(mul) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
    }

    fn mul_pow10(&mut self, mut k: u64) {
        while k >= 9 {
            self.mul_add_small(1_000_000_000, 0);
            k -= 9;
        }
        if k > 0 {
            self.mul_add_small(10u32.pow(k as u32), 0);
        }
    }

    fn shl(&mut self, bits: u64) {
        if self.is_zero() {
            return;
        }
        let words = (bits / 32) as usize;
        let rem = (bits % 32) as u32;
        if rem != 0 {
            let mut carry = 0u32;
            for limb in &mut self.limbs {
                let v = (*limb << rem) | carry;
                carry = *limb >> (32 - rem);
                *limb = v;
            }
            if carry != 0 {
                self.limbs.push(carry);
            }
        }
        if words > 0 {
            self.limbs.splice(0..0, std::iter::repeat_n(0, words));
        }
    }

    fn shr1(&mut self) {
        let mut carry = 0u32;
        for limb in self.limbs.iter_mut().rev() {
            let v = (*limb >> 1) | (carry << 31);
            carry = *limb & 1;
            *limb = v;
        }
        self.trim();
    }

    fn cmp(&self, other: &BigUint) -> std::cmp::Ordering {
        self.limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }

    /// self -= other; requires self >= other.
    fn sub_assign(&mut self, other: &BigUint) {
        let mut borrow = 0i64;
        for (i, limb) in self.limbs.iter_mut().enumerate() {
            let o = i64::from(other.limbs.get(i).copied().unwrap_or(0));
            let v = i64::from(*limb) - o - borrow;
            borrow = i64::from(v < 0);
            *limb = v.rem_euclid(1 << 32) as u32;
            if i >= other.limbs.len() && borrow == 0 {
                break;
            }
        }
        self.trim();
    }

    /// The top 128 bits as `m * 2^e`, and whether any lower bit is set.
    fn top128(&self) -> (u128, i64, bool) {
        let bits = self.bit_len();
        if bits <= 128 {
            let mut m = 0u128;
            for &limb in self.limbs.iter().rev() {
                m = (m << 32) | u128::from(limb);
            }
            return (m, 0, false);
        }
        let shift = bits - 128;
        let word = (shift / 32) as usize;
        let rem = (shift % 32) as u32;
        // Gather 160 bits starting at limb `word`, then drop `rem` bits.
        let mut acc = [0u32; 5];
        for (i, a) in acc.iter_mut().enumerate() {
            *a = self.limbs.get(word + i).copied().unwrap_or(0);
        }
        let lo = u128::from(acc[0])
            | u128::from(acc[1]) << 32
            | u128::from(acc[2]) << 64
            | u128::from(acc[3]) << 96;
        let m = (lo >> rem)
            | if rem == 0 {
                0
            } else {
                u128::from(acc[4]) << (128 - rem)
            };
        let dropped_in_word = rem != 0 && acc[0] & ((1u32 << rem) - 1) != 0;
        let sticky = dropped_in_word || self.limbs[..word].iter().any(|&l| l != 0);
        (m, shift as i64, sticky)
    }

    /// Consumes `self` as a dividend: returns `floor(self / d)`, which must
    /// be below `2^qbits` (qbits <= 127), and whether the remainder is
    /// nonzero. Plain binary long division, `qbits` steps.
    fn div_small_quotient(mut self, d: &BigUint, qbits: u32) -> (u128, bool) {
        let mut t = d.clone();
        t.shl(u64::from(qbits - 1));
        let mut q = 0u128;
        for i in (0..qbits).rev() {
            if self.cmp(&t) != std::cmp::Ordering::Less {
                self.sub_assign(&t);
                q |= 1u128 << i;
            }
            t.shr1();
        }
        (q, !self.is_zero())
    }

    /// Appends the decimal digits (no sign, no leading zeros; "0" for zero).
    fn write_decimal(mut self, out: &mut Vec<u8>) {
        const CHUNK: u64 = 1_000_000_000;
        let mut chunks = Vec::with_capacity(self.limbs.len() * 32 / 29 + 1);
        while !self.is_zero() {
            let mut rem = 0u64;
            for limb in self.limbs.iter_mut().rev() {
                let v = (rem << 32) | u64::from(*limb);
                *limb = (v / CHUNK) as u32;
                rem = v % CHUNK;
            }
            self.trim();
            chunks.push(rem as u32);
        }
        let mut buf = itoa::Buffer::new();
        match chunks.pop() {
            None => out.push(b'0'),
            Some(top) => out.extend_from_slice(buf.format(top).as_bytes()),
        }
        for &c in chunks.iter().rev() {
            let s = buf.format(c).as_bytes();
            out.extend(std::iter::repeat_n(b'0', 9 - s.len()));
            out.extend_from_slice(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn human(v: LongDouble) -> String {
        let mut out = Vec::new();
        v.fmt_human(&mut out);
        String::from_utf8(out).unwrap()
    }

    fn p(s: &str) -> LongDouble {
        LongDouble::parse(s.as_bytes()).unwrap_or_else(|| panic!("{s:?} rejected"))
    }

    /// INCRBYFLOAT as Redis does it: parse both, add, reject NaN/inf.
    fn incrbyfloat(init: &str, incr: &str) -> Option<String> {
        let sum = LongDouble::parse(init.as_bytes())?.add(LongDouble::parse(incr.as_bytes())?);
        sum.is_finite().then(|| human(sum))
    }

    #[test]
    fn incrbyfloat_matches_redis() {
        // SET k <init>; INCRBYFLOAT k <incr> on redis-server 7.0.15.
        assert_eq!(incrbyfloat("10.5", "0.1").as_deref(), Some("10.6"));
        assert_eq!(incrbyfloat("0", "0x10").as_deref(), Some("16"));
        assert_eq!(incrbyfloat("0", "0e-5000").as_deref(), Some("0"));
        assert_eq!(incrbyfloat("0", "-1e-30").as_deref(), Some("0"));
        assert_eq!(incrbyfloat("0", "1e-4940").as_deref(), Some("0"));
        assert_eq!(incrbyfloat("0", "-0").as_deref(), Some("0"));
        assert_eq!(incrbyfloat("-0", "-0").as_deref(), Some("0"));
        assert_eq!(incrbyfloat("0", "3.0").as_deref(), Some("3"));
        assert_eq!(incrbyfloat("0", "0.1").as_deref(), Some("0.1"));
        assert_eq!(
            incrbyfloat("0", "1e17").as_deref(),
            Some("100000000000000000")
        );
        assert_eq!(
            incrbyfloat("0", "123456789.123456789123").as_deref(),
            Some("123456789.12345678912242875")
        );
        assert_eq!(incrbyfloat("0", "0x1p-16445").as_deref(), Some("0"));
        assert_eq!(incrbyfloat("0", "1e-4950").as_deref(), Some("0"));
        // "ERR increment would produce NaN or Infinity".
        assert_eq!(incrbyfloat("0", "inf"), None);
        assert_eq!(incrbyfloat("1e4932", "1e4932"), None);
        let big = incrbyfloat("0", "1e400").unwrap();
        assert_eq!(big.len(), 401);
        assert!(big.starts_with(
            "10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317"
        ));
        let max = incrbyfloat("0", "1.18e4932").unwrap();
        assert_eq!(max.len(), 4933);
        assert!(max.starts_with(
            "11800000000000000000006528129180936992026904371401604717298312400618365277284469960120814962661227927667695261973918"
        ));
        // "ERR value is not a valid float".
        for bad in [
            "\0",
            "1\0abc",
            "-\0",
            " 1",
            "1 ",
            "1e-5000",
            "nan",
            "1.19e4932",
            "0x1p-16446",
            "1e-4951",
            "1e-4952",
        ] {
            assert_eq!(LongDouble::parse(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn geopos_prints_doubles_like_redis() {
        // GEOADD g 13.361389 38.115556 p; GEOPOS g p on redis-server 7.0.15
        // -> 13.36138933897018433, 38.11555639549629859 (the stored
        // geohash decodes to these doubles).
        let mut out = Vec::new();
        LongDouble::from_f64(13.361_389_338_970_184).fmt_human(&mut out);
        assert_eq!(out, b"13.36138933897018433");
        out.clear();
        LongDouble::from_f64(38.115_556_395_496_3).fmt_human(&mut out);
        assert_eq!(out, b"38.11555639549629859");
    }

    #[test]
    fn length_limit_is_5119_bytes() {
        let ok = "0".repeat(5118) + "1";
        assert_eq!(
            LongDouble::parse(ok.as_bytes()),
            Some(LongDouble::from_i64(1))
        );
        let too_long = "0".repeat(5119) + "1";
        assert_eq!(LongDouble::parse(too_long.as_bytes()), None);
        assert_eq!(LongDouble::parse(b""), None);
    }

    #[test]
    fn special_values() {
        let inf = p("inf");
        let ninf = p("-Infinity");
        assert!(!inf.is_finite() && !inf.is_nan());
        assert!(inf.add(ninf).is_nan());
        assert!(!inf.add(ninf).is_finite());
        assert_eq!(inf.add(p("1")), inf);
        assert_eq!(p("5").add(p("-5")), LongDouble::from_i64(0));
        assert_eq!(p("1.5") + p("2.25"), p("3.75"));
        assert_eq!(p("-0").add(p("-0")).to_x87_bits(), 1 << 79);
        assert_eq!(
            LongDouble::from_i64(i64::MIN).to_x87_bits(),
            0xc03e_8000_0000_0000_0000
        );
        assert_eq!(
            human(LongDouble::from_i64(i64::MIN)),
            "-9223372036854775808"
        );
        assert_eq!(human(LongDouble::from_i64(-7)), "-7");
        assert_eq!(human(inf), "inf");
        assert_eq!(human(ninf), "-inf");
    }

    #[test]
    fn x87_bits_roundtrip() {
        for bits in [
            0u128,
            1 << 79,
            0x7fff_8000_0000_0000_0000,
            0x0000_0000_0000_0000_0001,
            0x7ffe_ffff_ffff_ffff_ffff,
            0x4002_a800_0000_0000_0000,
            0x0001_8000_0000_0000_0000,
            0x0000_7fff_ffff_ffff_ffff,
        ] {
            assert_eq!(
                LongDouble::from_x87_bits(bits).to_x87_bits(),
                bits,
                "{bits:x}"
            );
        }
    }

    /// Golden vectors from glibc on x86-64 (testdata/num/gen.c): `strtold`
    /// under Redis's `string2ld` rules, `ld2string(LD_STR_HUMAN)` of x87
    /// values and of doubles, and x87 additions.
    #[test]
    fn golden_vectors_from_glibc() {
        let text = include_str!("../../testdata/num/ld.txt");
        let mut counts = [0usize; 4];
        let x87 = |h: &str| u128::from_str_radix(h, 16).unwrap();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&str> = line.split('\t').collect();
            match f[0] {
                "l" => {
                    let input = unhex(f[1]);
                    let got = LongDouble::parse(&input).map(LongDouble::to_x87_bits);
                    let want = (f[2] != "-").then(|| x87(f[2]));
                    assert_eq!(
                        got,
                        want,
                        "parse({:?})",
                        String::from_utf8_lossy(&input[..input.len().min(200)])
                    );
                    counts[0] += 1;
                }
                "h" => {
                    assert_eq!(
                        human(LongDouble::from_x87_bits(x87(f[1]))),
                        f[2],
                        "human({})",
                        f[1]
                    );
                    counts[1] += 1;
                }
                "f" => {
                    let d = f64::from_bits(u64::from_str_radix(f[1], 16).unwrap());
                    assert_eq!(human(LongDouble::from_f64(d)), f[2], "human(f64 {})", f[1]);
                    counts[2] += 1;
                }
                "a" => {
                    let sum = LongDouble::from_x87_bits(x87(f[1]))
                        .add(LongDouble::from_x87_bits(x87(f[2])));
                    assert_eq!(
                        format!("{:020x}", sum.to_x87_bits()),
                        f[3],
                        "{} + {}",
                        f[1],
                        f[2]
                    );
                    counts[3] += 1;
                }
                other => panic!("bad line kind {other:?}"),
            }
        }
        assert!(counts.iter().all(|&n| n > 250), "{counts:?}");
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn any_x87() -> impl Strategy<Value = LongDouble> {
        (any::<bool>(), 0u128..0x7fff, any::<u64>()).prop_map(|(neg, biased, mant)| {
            let mant = if biased == 0 {
                mant >> 1
            } else {
                mant | 1 << 63
            };
            LongDouble::from_x87_bits(u128::from(neg) << 79 | biased << 64 | u128::from(mant))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3_000))]

        #[test]
        fn add_is_commutative_and_zero_is_neutral(a in any_x87(), b in any_x87()) {
            prop_assert_eq!(a.add(b), b.add(a));
            prop_assert_eq!(a.add(LongDouble::from_i64(0)).to_x87_bits() & !(1 << 79),
                            a.to_x87_bits() & !(1 << 79));
        }

        #[test]
        fn add_of_i64s_is_exact_when_it_fits(a in -(1i64 << 62)..(1i64 << 62), b in -(1i64 << 62)..(1i64 << 62)) {
            prop_assert_eq!(LongDouble::from_i64(a).add(LongDouble::from_i64(b)), LongDouble::from_i64(a + b));
        }

        #[test]
        fn from_f64_then_human_has_the_double_digits(d in -1e15f64..1e15) {
            // Integers print as themselves.
            let t = d.trunc();
            let mut out = Vec::new();
            LongDouble::from_f64(t).fmt_human(&mut out);
            prop_assert_eq!(String::from_utf8(out).unwrap(), format!("{}", t as i64));
        }

        #[test]
        fn human_output_reparses_to_a_close_value(v in any_x87()) {
            let mut out = Vec::new();
            v.fmt_human(&mut out);
            prop_assert!(out.len() < MAX_LONG_DOUBLE_CHARS);
            let back = LongDouble::parse(&out);
            // Tiny values print as "0", which parses as +0.
            prop_assert!(back.is_some());
        }

        #[test]
        fn no_panics_on_arbitrary_bytes(s in prop::collection::vec(any::<u8>(), 0..64)) {
            if let Some(v) = LongDouble::parse(&s) {
                prop_assert!(!v.is_nan());
                let mut out = Vec::new();
                v.fmt_human(&mut out);
            }
        }

        #[test]
        fn no_panics_on_number_like_bytes(s in prop::collection::vec(prop::sample::select(b"0123456789abcdefxXpPeE.+-infINF \0".to_vec()), 0..60)) {
            if let Some(v) = LongDouble::parse(&s) {
                let mut out = Vec::new();
                v.add(v).fmt_human(&mut out);
            }
        }
    }
}
