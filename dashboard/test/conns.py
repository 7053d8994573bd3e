#!/usr/bin/python3
"""Misbehaving HTTP clients, for test/e2e/91_dashboard_security.sh.

  conns.py hold PORT SRC N OUT   open N event streams (GET /api/stream) from
                                 the local source address SRC (any 127.x.y.z:
                                 one "client" per address); once each is
                                 answered or closed, write "open=A refused=R
                                 other=O" to OUT, then keep the open ones,
                                 reading their heartbeats, until killed
  conns.py partial PORT SRC      send half a request head, then nothing;
                                 print "closed_after=SECONDS"
  conns.py trickle PORT SRC      send a request head one byte every 0.5 s
                                 (never idle); print "closed_after=SECONDS
                                 sent=BYTES"

The server under test listens on 127.0.0.1:PORT.  Standard library only.
"""
import os
import select
import socket
import sys
import time


def connect(port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def head(port, path):
    return b"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (path.encode(), port)


def first_bytes(s, timeout):
    """What the server sends first: bytes, b"" when it closed, None if nothing."""
    r, _, _ = select.select([s], [], [], timeout)
    if not r:
        return None
    try:
        return s.recv(4096)
    except (ConnectionResetError, BrokenPipeError):
        return b""


def hold(port, src, n, out):
    socks = []
    for _ in range(n):
        s = connect(port, src)
        s.sendall(head(port, "/api/stream") + b"\r\n")
        socks.append(s)
    kept, refused, other = [], 0, 0
    for s in socks:
        data = first_bytes(s, 5)
        if data and data.startswith(b"HTTP/1.1 200"):
            kept.append(s)
        elif not data:
            refused += 1
        else:
            other += 1
    with open(out + ".tmp", "w") as f:
        f.write("open=%d refused=%d other=%d\n" % (len(kept), refused, other))
    os.replace(out + ".tmp", out)
    while kept:
        r, _, _ = select.select(kept, [], [], 1)
        for s in r:
            try:
                if not s.recv(4096):
                    kept.remove(s)
            except OSError:
                kept.remove(s)


def partial(port, src):
    s = connect(port, src)
    t0 = time.monotonic()
    s.sendall(head(port, "/"))
    data = first_bytes(s, 60)
    if data == b"":
        print("closed_after=%.1f" % (time.monotonic() - t0))
    else:
        print("not_closed" if data is None else "answered")


def trickle(port, src):
    s = connect(port, src)
    t0 = time.monotonic()
    req = head(port, "/") + b"X-Slow: " + b"a" * 10000
    sent, data = 0, None
    while sent < len(req) and data is None and time.monotonic() - t0 < 60:
        try:
            sent += s.send(req[sent:sent + 1])
        except OSError:
            data = b""
            break
        data = first_bytes(s, 0.5)
    if data == b"":
        print("closed_after=%.1f sent=%d" % (time.monotonic() - t0, sent))
    else:
        print("not_closed" if data is None else "answered")


def main():
    mode, port, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode == "hold":
        hold(port, src, int(sys.argv[4]), sys.argv[5])
    elif mode == "partial":
        partial(port, src)
    elif mode == "trickle":
        trickle(port, src)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
