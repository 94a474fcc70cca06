#!/usr/bin/env python3
"""Regenerates server/src/cmd/docs.resp: Redis's own COMMAND DOCS (argument
specifications included, which redis-cli turns into hints) for every
top-level command soquete implements.

    python3 server/tools/gen_docs.py REDIS_PORT SOQUETE_PORT
    python3 server/tools/gen_docs.py REDIS_PORT --add NAME [NAME ...]

REDIS_PORT: a redis-server 7.0.15; SOQUETE_PORT: a soquete-server built from
this tree (its COMMAND LIST says which commands to keep). The output is one
RESP3 map, name -> docs, read once at start-up by cmd/docs.rs.
"""
import socket
import sys


def request(port, *args, resp3=False):
    s = socket.create_connection(("127.0.0.1", port))
    out = b""
    if resp3:
        out += b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"
    out += b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
    out += b"*1\r\n$4\r\nPING\r\n"
    s.sendall(out)
    data = b""
    while not data.endswith(b"+PONG\r\n"):
        chunk = s.recv(1 << 20)
        if not chunk:
            raise SystemExit("connection closed")
        data += chunk
    s.close()
    data = data[: -len(b"+PONG\r\n")]
    if resp3:  # drop the HELLO reply: everything before the last top-level reply
        data = data[data.index(b"\r\n%", 3) + 2 :] if data.startswith(b"%7") else data
    return data


def parse(buf, i=0):
    """Minimal RESP parser returning (value, next index); enough for COMMAND DOCS."""
    t = buf[i : i + 1]
    j = buf.index(b"\r\n", i)
    line = buf[i + 1 : j]
    i = j + 2
    if t in (b"+", b"-", b":"):
        return line, i
    if t == b"$":
        n = int(line)
        return buf[i : i + n], i + n + 2
    if t in (b"*", b"~"):
        items = []
        for _ in range(int(line)):
            v, i = parse(buf, i)
            items.append(v)
        return items, i
    if t == b"%":
        items = []
        for _ in range(int(line) * 2):
            v, i = parse(buf, i)
            items.append(v)
        return items, i
    if t == b"_":
        return None, i
    raise SystemExit("unexpected type %r" % t)


def add(redis_port, names):
    """Splices the docs of `names` into the existing map, leaving every other
    entry's bytes (and Redis's random subcommand order in them) as they are."""
    path = "server/src/cmd/docs.resp"
    old = open(path, "rb").read()
    head_end = old.index(b"\r\n")
    count = int(old[1:head_end])
    raw = request(redis_port, b"COMMAND", b"DOCS", *[n.encode() for n in names], resp3=True)
    j = raw.index(b"\r\n")
    new_count = int(raw[1:j])
    body = old[head_end + 2 :] + raw[j + 2 :]
    with open(path, "wb") as f:
        f.write(b"%%%d\r\n" % (count + new_count) + body)
    print("added %d commands to %s" % (new_count, path))


def main():
    if sys.argv[2] == "--add":
        return add(int(sys.argv[1]), sys.argv[3:])
    redis_port, soquete_port = int(sys.argv[1]), int(sys.argv[2])
    names, _ = parse(request(soquete_port, b"COMMAND", b"LIST"))
    top = sorted(n for n in names if b"|" not in n)
    raw = request(redis_port, b"COMMAND", b"DOCS", *top, resp3=True)
    # Keep Redis's bytes as they are: the reply is already one RESP3 map.
    path = "server/src/cmd/docs.resp"
    with open(path, "wb") as f:
        f.write(raw)
    print("wrote %s: %d commands, %d bytes" % (path, len(top), len(raw)))


if __name__ == "__main__":
    main()
