#!/usr/bin/env python3
"""Cross-checks the glibc vectors (f64.txt, ld.txt) against a live
redis-server 7.0.x, to show that gen.c models Redis exactly.

Usage: check_redis.py PORT /path/to/numgen   (the server's data is flushed!)

* every "d" input: ZADD z <input> m, then ZSCORE (expected: the %.17g text
  of the vector's bits, "0" for -0 because listpack stores it as integer 0)
  or "ERR value is not a valid float";
* every "l" input: INCRBYFLOAT of a fresh key by <input> (expected: the
  human text of the bits, computed by numgen; an infinity gives the
  NaN-or-Infinity error) or "ERR value is not a valid float";
* every "a" pair with finite operands: SET k <a as hex float>, INCRBYFLOAT
  k <b as hex float> (expected: numgen's human text of the sum).
"""
import os
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    def send(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)

    def read(self):
        line = self.f.readline()
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest
        if t == b"-":
            return b"-" + rest
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2]
        if t == b"*":
            return [self.read() for _ in range(int(rest))]
        raise ValueError(line)


def oracle(numgen, lines):
    p = subprocess.run([numgen], input="\n".join(lines) + "\n", capture_output=True, text=True,
                       check=True)
    return [l.split("\t")[-1] for l in p.stdout.splitlines()]


def hexfloat(x87):
    se, mant = int(x87[:4], 16), int(x87[4:], 16)
    neg, biased = se >> 15, se & 0x7FFF
    e = (biased if biased else 1) - 16383 - 63
    return ("-" if neg else "") + "0x%xp%d" % (mant, e)


def main():
    port, numgen = int(sys.argv[1]), sys.argv[2]
    c = Conn(port)
    c.send(b"FLUSHALL")
    c.read()
    bad = 0
    checked = 0
    notfloat = b"-ERR value is not a valid float"
    infnan = b"-ERR increment would produce NaN or Infinity"

    d = [l.split("\t") for l in open(os.path.join(HERE, "f64.txt")) if l.startswith("d\t")]
    texts = oracle(numgen, ["g " + f[2].strip() for f in d if f[2].strip() != "-"])
    it = iter(texts)
    for f in d:
        inp, bits = bytes.fromhex(f[1]), f[2].strip()
        want = notfloat if bits == "-" else next(it).encode()
        if bits == "8000000000000000":
            want = b"0"
        c.send(b"ZADD", b"z", inp, b"m")
        r = c.read()
        got = r if isinstance(r, bytes) else None
        if r == 1:
            c.send(b"ZSCORE", b"z", b"m")
            got = c.read()
            c.send(b"DEL", b"z")
            c.read()
        checked += 1
        if got != want:
            bad += 1
            print("ZADD", inp[:80], "got", got, "want", want)

    ls = [l.split("\t") for l in open(os.path.join(HERE, "ld.txt")) if l.startswith("l\t")]
    texts = oracle(numgen, ["h " + f[2].strip() for f in ls if f[2].strip() != "-"])
    it = iter(texts)
    for f in ls:
        inp, bits = bytes.fromhex(f[1]), f[2].strip()
        want = notfloat if bits == "-" else next(it).encode()
        if want in (b"inf", b"-inf"):
            want = infnan
        c.send(b"DEL", b"k")
        c.read()
        c.send(b"INCRBYFLOAT", b"k", inp)
        got = c.read()
        checked += 1
        if got != want:
            bad += 1
            print("INCRBYFLOAT", inp[:80], "got", got[:80], "want", want[:80])

    adds = [l.rstrip("\n").split("\t") for l in open(os.path.join(HERE, "ld.txt"))
            if l.startswith("a\t")]
    adds = [f for f in adds if f[1][:4] not in ("7fff", "ffff") and f[2][:4] not in ("7fff", "ffff")]
    texts = oracle(numgen, ["h " + f[3] for f in adds])
    for f, want in zip(adds, texts):
        want = want.encode()
        if want in (b"inf", b"-inf"):
            want = infnan
        c.send(b"SET", b"k", hexfloat(f[1]).encode())
        c.read()
        c.send(b"INCRBYFLOAT", b"k", hexfloat(f[2]).encode())
        got = c.read()
        checked += 1
        if got != want:
            bad += 1
            print("ADD", f[1], f[2], "got", got[:80], "want", want[:80])
    print("%d checked, %d mismatches" % (checked, bad))
    sys.exit(1 if bad else 0)


main()
