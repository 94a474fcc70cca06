#!/usr/bin/env python3
"""Writes the inputs for gen.c (the glibc oracle) to stdout, deterministically.

    python3 gen_inputs.py | /tmp/numgen | awk '/^file /{f=$2; next} {print > f}'

Decimal midpoints between adjacent doubles / x87 long doubles are produced
exactly with Python integers, so the oracle sees true rounding ties.
"""
import random
import struct
import sys

sys.set_int_max_str_digits(0)
from decimal import Decimal, getcontext

getcontext().prec = 6000
rng = random.Random(70015)
out = []


def emit(*parts):
    out.append(" ".join(parts))


def hx(s):
    if isinstance(s, str):
        s = s.encode("utf-8")
    return s.hex()


def exact_decimal(num, exp2):
    """Exact decimal string of num * 2**exp2 (num > 0 integer)."""
    if exp2 >= 0:
        return str(num << exp2)
    k = -exp2
    digits = str(num * 5**k)
    if len(digits) <= k:
        digits = "0" * (k - len(digits) + 1) + digits
    s = digits[:-k] + "." + digits[-k:]
    s = s.rstrip("0").rstrip(".")
    return s


def perturb(s, up):
    """A decimal string a hair above (up) or below the exact value s."""
    d = Decimal(s)
    tiny = Decimal(1).scaleb(d.adjusted() - 60)
    v = d + tiny if up else d - tiny
    return format(v, "f") if abs(d.adjusted()) < 40 else format(v, "e")


def sci(s):
    """Scientific form of a plain decimal string, to keep lines short."""
    return format(Decimal(s), "e")


def rand_decimal(max_digits, exp_lo, exp_hi):
    n = rng.randint(1, max_digits)
    digits = "".join(rng.choice("0123456789") for _ in range(n))
    if rng.random() < 0.7:
        digits = rng.choice("123456789") + digits[1:]
    point = rng.randint(0, n)
    s = digits[:point] + ("." if point < n or rng.random() < 0.2 else "") + digits[point:]
    if s.startswith(".") and rng.random() < 0.5:
        s = "0" + s
    if rng.random() < 0.8:
        s += rng.choice("eE") + rng.choice(["", "+", "-"] if True else [""]) + str(rng.randint(0, max(abs(exp_lo), abs(exp_hi))))
        if "-" in s.split("e")[-1].split("E")[-1]:
            pass
    sign = rng.choice(["", "", "-", "+"])
    return sign + s


def rand_hex(max_digits, exp_range):
    n = rng.randint(1, max_digits)
    digits = "".join(rng.choice("0123456789abcdefABCDEF") for _ in range(n))
    point = rng.randint(0, n)
    s = digits[:point] + ("." if point < n else "") + digits[point:]
    s = rng.choice(["0x", "0X"]) + s
    if rng.random() < 0.8:
        s += rng.choice("pP") + rng.choice(["", "+", "-"]) + str(rng.randint(0, exp_range))
    return rng.choice(["", "-", "+"]) + s


JUNK = "0123456789.eE+-xXpPabcfinatyINFATY \t\0"


def junk():
    return "".join(rng.choice(JUNK) for _ in range(rng.randint(0, 12)))


# ---------------------------------------------------------------- doubles
def f64_parts(bits):
    e = (bits >> 52) & 0x7FF
    m = bits & ((1 << 52) - 1)
    if e == 0:
        return m, -1074
    return m | (1 << 52), e - 1075


def rand_f64_bits(kind):
    if kind == "any":
        return rng.getrandbits(64)
    if kind == "finite":
        return (rng.getrandbits(1) << 63) | (rng.randint(0, 2046) << 52) | rng.getrandbits(52)
    if kind == "sub":
        return (rng.getrandbits(1) << 63) | rng.getrandbits(52)
    if kind == "mid":
        return (rng.randint(1023 - 70, 1023 + 70) << 52) | rng.getrandbits(52)
    raise ValueError


emit("file f64.txt")
emit("# string2d: d<TAB>hex input<TAB>f64 bits or -")
fixed_d = [
    "0x10", "0X1p4", "0x1.8p1", "0x", "0x.8", "0x.", "0x1p", "0x1p+", "0xp1", "1e400", "1e-400",
    "1e-310", " 1", "1 ", "\t1", "inf", "+inf", "-inf", "infinity", "INFINITY", "Inf", "-Infinity",
    "infinit", "infinityy", "infin", "nan", "NaN", "-nan", "nan(123)", "1.", ".5", "-.5", "+.5e-2",
    ".", "-", "+", "", "e5", ".e5", "1e", "1e+", "1e-", "1E5", "1.e5", "\0", "1\0", "1\0" + "2",
    "1.1", "1e20", "1.5e-7", "3", "-0", "0", "+0", "-0.0", "0.1", "123456789012345678",
    "1e17", "4611686018427387904", "1e16", "100000000000000005", "1000000000000000.25",
    "2.4703282292062327e-324", "2.4703282292062328e-324", "4.9406564584124654e-324",
    "2.2250738585072011e-308", "2.2250738585072014e-308", "1.7976931348623157e308",
    "1.7976931348623158e308", "1.7976931348623159e308", "0x1p-1074", "0x1p-1075",
    "0x1.0000000000001p-1075", "0x1.8p-1075", "0x1p1023", "0x1p1024", "0x1.fffffffffffffp1023",
    "0x1.fffffffffffff7ffffffp1023", "0x1.fffffffffffff8p1023", "0x1.00000000000008p0",
    "0x1.00000000000018p0", "0x1.000000000000080000000001p0", "0x0.0000000000001p-1022",
    "0x00000000000000000000000000000000001p0", "0x1" + "0" * 40 + "p-160", "1" + "0" * 400 + "e-400",
    "0." + "0" * 400 + "1e400", "0e999999999999999999999999", "0x0p99999999999999999999",
    "1e-99999999999999999999", "1e99999999999999999999", "00000000000000000001", "007", "-007",
    "0x1.0000000000000800000000000000000000001p0", "0x1.00000000000008000000000000000000000000p0",
    "0x1.0000000000001800000000000000000000000p0", "0x0.0000000000000000000000000000000000000000000001p0",
    "0x1.00000000000007ffffffffffffffffffffffffp0", "0x8.00000000000040000000000000000000001p-3",
    "1_000", "1,5", "١", "0.0000000000000000000000000000000000001", "9007199254740993",
    "9007199254740992.5", "18446744073709551616", "-9223372036854775809", "1e+00000000000000000000005",
]
for s in fixed_d:
    emit("d", hx(s))
for _ in range(1200):
    emit("d", hx(rand_decimal(20, -30, 30)))
for _ in range(600):
    emit("d", hx(rand_decimal(40, -340, 340)))
for _ in range(300):
    emit("d", hx(rand_hex(20, 1100)))
for _ in range(100):
    emit("d", hx(rand_hex(45, 200)))
for _ in range(300):
    emit("d", hx(junk()))
# Midpoints between adjacent doubles, exactly and a hair either side.
long_budget = 12
for _ in range(450):
    bits = rand_f64_bits(rng.choice(["finite", "mid", "mid", "mid", "sub"])) & ~(1 << 63)
    if bits >= 0x7FEFFFFFFFFFFFFF:
        continue
    m, e = f64_parts(bits)
    mid = sci(exact_decimal(2 * m + 1, e - 1))
    if len(mid) > 200:
        if long_budget == 0:
            continue
        long_budget -= 1
    for s in (mid, perturb(mid, True), perturb(mid, False)):
        emit("d", hx(rng.choice(["", "-"]) + s))
# Shortest and 17-digit spellings of random doubles.
for _ in range(300):
    d = struct.unpack("<d", struct.pack("<Q", rand_f64_bits("finite")))[0]
    emit("d", hx(repr(d)))
    emit("d", hx("%.17g" % d))

emit("# %.17g: g<TAB>f64 bits<TAB>text")
fixed_g = [
    1.1, 3.0, 1e20, 1.5e-7, 0.0, -0.0, 0.1, 1e16, 1e17, 99999999999999999.0, 1e-4, 1e-5, 0.5,
    1000000000000000.25, 1000000000000000.75, 1e15 + 0.375, 123456789012345678.0, 2.0**53,
    2.0**53 + 2, 2.0**62, 2.0**63, 2.0**64, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
    float("inf"), float("-inf"), 1e100, 1e-100, 12345.678, -12345.678, 0.30000000000000004,
]
for d in fixed_g:
    emit("g", "%016x" % struct.unpack("<Q", struct.pack("<d", d))[0])
for _ in range(1500):
    emit("g", "%016x" % rand_f64_bits(rng.choice(["any", "finite", "mid", "mid", "sub"])))
for k in range(-325, 310):
    for v in (float("1e%d" % k), float("1.5e%d" % k)):
        emit("g", "%016x" % struct.unpack("<Q", struct.pack("<d", v))[0])
# Exact ties at the 17th digit: k/4 in 1e15..4.5e15, k/8 in 5.7e14..1.1e15.
for _ in range(300):
    k = rng.randint(4 * 10**15, 18 * 10**15)
    emit("g", "%016x" % struct.unpack("<Q", struct.pack("<d", k / 4))[0])
for _ in range(300):
    k = rng.randint(8 * 57 * 10**13, 8 * 112 * 10**13)
    emit("g", "%016x" % struct.unpack("<Q", struct.pack("<d", k / 8))[0])
for _ in range(300):
    v = float(rng.randint(-(10**19), 10**19))
    emit("g", "%016x" % struct.unpack("<Q", struct.pack("<d", v))[0])

# ---------------------------------------------------------------- x87
LD_MIN_EXP = -16445


def ld_hex(neg, biased, mant):
    return "%04x%016x" % ((neg << 15) | biased, mant)


def rand_ld(kind):
    neg = rng.getrandbits(1)
    if kind == "normal":
        return ld_hex(neg, rng.randint(1, 32766), (1 << 63) | rng.getrandbits(63))
    if kind == "mid":
        return ld_hex(neg, rng.randint(16383 - 70, 16383 + 70), (1 << 63) | rng.getrandbits(63))
    if kind == "small":
        return ld_hex(neg, rng.randint(16383 - 200, 16383 + 64), (1 << 63) | rng.getrandbits(63))
    if kind == "sub":
        return ld_hex(neg, 0, rng.getrandbits(rng.randint(1, 63)))
    if kind == "short":
        # Few significant bits: sums are often exact, ties are common.
        m = (1 << 63) | (rng.getrandbits(8) << 55)
        return ld_hex(neg, rng.randint(16383 - 10, 16383 + 10), m)
    raise ValueError


def ld_value(h):
    se, mant = int(h[:4], 16), int(h[4:], 16)
    neg, biased = se >> 15, se & 0x7FFF
    e = (biased if biased else 1) - 16383 - 63
    return neg, mant, e


emit("file ld.txt")
emit("# string2ld: l<TAB>hex input<TAB>x87 bits or -")
fixed_l = [
    "10.5", "0.1", "1e400", "\0", "1\0abc", "-\0", " 1", "1 ", "0x10", "1e-5000", "0e-5000",
    "-1e-30", "1e-4940", "inf", "-inf", "infinity", "nan", "1.18e4932", "1.19e4932", "-0", "3.0",
    "1e17", "123456789.123456789123", "0x1p-16445", "0x1p-16446", "0x1.8p-16446", "1e-4950",
    "1e-4951", "1e-4952", "1.18973149535723176502e+4932", "1.18973149535723176508e+4932",
    "1.189731495357231765085759326628007e4932", "3.64519953188247460253e-4951",
    "1.82259976594123730126e-4951", "1.8225997659412373012642029668e-4951", "0x1.fffffffffffffffep16383",
    "0x1.ffffffffffffffffp16383", "0x1p16384", "0x8p-3", "0x.1", "0x", "1e", "", ".", "+.",
    "4.9406564584124654e-324", "1.7976931348623157e308", "2e308", "1" + "0" * 5000,
    "1" + "0" * 5118, "1" + "0" * 5119, "0." + "0" * 5100 + "1", "0." + "0" * 5000 + "1e5000",
    "1" * 5119, "1" * 5120, "0x1" + "0" * 30 + "p-120", "0" * 5118 + "1", "0" * 5119 + "1",
    "0x1.0000000000000001" + "0" * 20 + "1p0", "0x1.0000000000000001p0", "0x1.0000000000000003p0",
    "0x1.0000000000000000" + "f" * 25 + "p0", "0x8.0000000000000008" + "0" * 20 + "1p-3",
    "0x8.0000000000000008" + "0" * 30 + "p-3", "0x1.0000000000000001" + "0" * 20 + "1p-16383",
    "0x0.00000000000000000000000000000000000000001p-16300",
]
for s in fixed_l:
    emit("l", hx(s))
for _ in range(1000):
    emit("l", hx(rand_decimal(25, -30, 30)))
for _ in range(500):
    emit("l", hx(rand_decimal(45, -5000, 5000)))
for _ in range(200):
    emit("l", hx(rand_hex(24, 17000)))
for _ in range(100):
    emit("l", hx(rand_hex(45, 200)))
for _ in range(200):
    emit("l", hx(junk()))
long_budget = 8
for _ in range(600):
    h = rand_ld(rng.choice(["normal", "mid", "mid", "mid", "small", "sub"]))
    neg, m, e = ld_value(h)
    if m == 0 or int(h[:4], 16) & 0x7FFF == 0x7FFE and m == (1 << 64) - 1:
        continue
    mid = sci(exact_decimal(2 * m + 1, e - 1))
    if len(mid) > 250:
        if long_budget == 0 or len(mid) > 5000:
            continue
        long_budget -= 1
    for s in (mid, perturb(mid, True), perturb(mid, False)):
        emit("l", hx(("-" if neg else "") + s))

# Large integers that sit exactly on a midpoint except for one low bit, placed
# just below and well below a 128-bit window of the top bits.
for _ in range(150):
    m = (1 << 63) | rng.getrandbits(63)
    e = rng.randint(70, 400)
    mid = (2 * m + 1) << (e - 1)
    shift = mid.bit_length() - 128
    j = rng.choice([rng.randint(max(0, shift - 40), shift - 1), rng.randint(0, shift - 1)])
    for v in (mid, mid + (1 << j), mid - (1 << j)):
        emit("l", hx(str(v)))

emit("# ld2string(LD_STR_HUMAN): h<TAB>x87 bits<TAB>text")
for h in ["00000000000000000000", "80000000000000000000", "7fff8000000000000000",
          "ffff8000000000000000", "00000000000000000001", "7ffeffffffffffffffff",
          "4002a800000000000000", "4002a99999999999999a", "3ffbcccccccccccccccd"]:
    emit("h", h)
for _ in range(600):
    emit("h", rand_ld("small"))
for _ in range(300):
    emit("h", rand_ld(rng.choice(["mid", "short"])))
for _ in range(100):
    emit("h", rand_ld("sub"))
for _ in range(40):
    emit("h", rand_ld("normal"))
# Ties at the 17th fractional digit: odd * 2^-k, k in 18..70.
for _ in range(300):
    k = rng.randint(18, 70)
    odd = rng.getrandbits(min(k + 8, 64)) | 1
    bits = odd.bit_length()
    e = -k
    mant = odd << (64 - bits)
    e -= 64 - bits
    emit("h", ld_hex(rng.getrandbits(1), e + 63 + 16383, mant))

# Just below (and above) an integer: the 17th digit rounds into the units.
for _ in range(150):
    se = rng.randint(16383 - 2, 16383 + 60)
    emit("h", ld_hex(rng.getrandbits(1), se, (1 << 64) - rng.randint(1, 1 << rng.randint(0, 12))))
    emit("h", ld_hex(rng.getrandbits(1), se, (1 << 63) + rng.randint(0, 1 << rng.randint(0, 12))))

emit("# human of (long double)double: f<TAB>f64 bits<TAB>text")
for _ in range(300):
    emit("f", "%016x" % rand_f64_bits(rng.choice(["mid", "mid", "finite"])))
for v in (13.361389, 38.115556, 13.36138933897018433, -0.0, 1e-30, 90.0, 180.0):
    emit("f", "%016x" % struct.unpack("<Q", struct.pack("<d", v))[0])

emit("# long double +: a<TAB>x87 a<TAB>x87 b<TAB>x87 sum")
specials = ["00000000000000000000", "80000000000000000000", "7fff8000000000000000",
            "ffff8000000000000000", "7ffeffffffffffffffff", "fffeffffffffffffffff",
            "00000000000000000001", "80000000000000000001", "00007fffffffffffffff",
            "00018000000000000000"]
for a in specials:
    for b in specials:
        emit("a", a, b)
for _ in range(2200):
    kind = rng.choice(["small", "mid", "short", "short", "sub", "normal"])
    a = rand_ld(kind)
    neg, m, e = ld_value(a)
    r = rng.random()
    if r < 0.3:
        b = rand_ld(kind)
    elif r < 0.6:
        # b with a chosen exponent gap below a.
        se = int(a[:4], 16) & 0x7FFF
        gap = rng.choice([0, 1, 2, 3, 62, 63, 64, 65, 66, 67, rng.randint(0, 140), rng.randint(0, 20000)])
        biased = max(0, se - gap)
        mant = rng.getrandbits(64) | ((1 << 63) if biased else 0)
        if biased == 0:
            mant &= (1 << 63) - 1
        b = ld_hex(rng.getrandbits(1), biased, mant)
    elif r < 0.8:
        # Near cancellation: -a nudged by a few ulps.
        se = int(a[:4], 16)
        mant = int(a[4:], 16) + rng.randint(-3, 3)
        if not (1 << 63) <= mant < (1 << 64) or se & 0x7FFF == 0:
            continue
        b = ld_hex(1 - (se >> 15), se & 0x7FFF, mant)
    else:
        b = rand_ld(rng.choice(["small", "mid", "short", "sub", "normal"]))
    emit("a", a, b)

# Ties hidden behind a sticky bit: b's aligned value is half an ulp of a
# (or just above/below it) plus bits that fall off the 128-bit window.
for _ in range(300):
    se = rng.randint(16383 - 40, 16383 + 40)
    ma = rng.choice([1 << 63, (1 << 64) - 1, (1 << 63) | rng.getrandbits(63), (1 << 63) | 1])
    a = ld_hex(rng.getrandbits(1), se, ma)
    gap = rng.choice([62, 63, 64, 65, 66, 127, 128, 129])
    mb = rng.choice([(1 << 63) + rng.randint(1, 7), (1 << 64) - rng.randint(1, 7), 1 << 63])
    emit("a", a, ld_hex(rng.getrandbits(1), se - gap, mb))

print("\n".join(out))
