#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""What a reflector does with test packets after Stop-Sessions.

  twamp_stop_probe.py SERVER --timeout S [--close] [--control-port P] [--test-port P]

An unauthenticated TWAMP Control-Client + Session-Sender, written apart from
xtwamp on purpose (an independent encoder of the RFC 5357 messages), that
does what `xtwamp ping` never does: keep sending after Stop-Sessions.  It
negotiates one session with Timeout S, sends one packet, sends
Stop-Sessions, then (with --close) closes the control connection as most
clients do, and sends a packet every 0.2 s until S + 1.5 s have passed.

RFC 5357 §3.5: packets arriving within Timeout after Stop-Sessions MUST be
reflected, later ones MUST NOT.  Prints one line

  before=1/1 within=N/M after=K/L

(replies / packets sent before Stop, within Timeout - 0.3 s, after
Timeout + 0.3 s) and exits 0; 2 on a protocol error.
"""
import argparse
import select
import socket
import struct
import sys
import time

NTP_UNIX = 2208988800


def ntp_now():
    sec, ns = divmod(time.time_ns(), 10**9)
    return ((sec + NTP_UNIX) << 32) | ((ns << 32) // 10**9)


def recvn(s, n):
    b = b""
    while len(b) < n:
        x = s.recv(n - len(b))
        if not x:
            raise EOFError("server closed the connection")
        b += x
    return b


def addr16(family, text):
    raw = socket.inet_pton(family, text)
    return raw + b"\0" * (16 - len(raw))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server")
    ap.add_argument("--timeout", type=float, required=True)
    ap.add_argument("--close", action="store_true")
    ap.add_argument("--control-port", type=int, default=862)
    ap.add_argument("--test-port", type=int, default=862)
    a = ap.parse_args()

    c = socket.create_connection((a.server, a.control_port), timeout=10)
    fam = c.family
    local, peer = c.getsockname()[0], c.getpeername()[0]
    greeting = recvn(c, 64)
    if not struct.unpack("!I", greeting[12:16])[0] & 1:
        print("server does not offer unauthenticated mode")
        return 2
    c.sendall(struct.pack("!I", 1) + b"\0" * 160)  # Set-Up-Response, Mode 1
    if recvn(c, 48)[15] != 0:
        print("Server-Start refused")
        return 2
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.bind((local, 0))
    sport = u.getsockname()[1]
    timeout = int(a.timeout * 2**32)
    req = (bytes([5, 4 if fam == socket.AF_INET else 6, 0, 0]) + b"\0" * 8 +
           struct.pack("!HH", sport, a.test_port) + addr16(fam, local) + addr16(fam, peer) +
           b"\0" * 16 + struct.pack("!IQQI", 27, 0, timeout, 0) + b"\0" * 8 + b"\0" * 16)
    assert len(req) == 112
    c.sendall(req)
    acc = recvn(c, 48)
    if acc[0] != 0:
        print("session refused: Accept %d" % acc[0])
        return 2
    port = struct.unpack("!H", acc[2:4])[0]
    c.sendall(bytes([2]) + b"\0" * 31)  # Start-Sessions
    if recvn(c, 32)[0] != 0:
        print("Start-Sessions refused")
        return 2

    seq = 0

    def ping():
        nonlocal seq
        pkt = struct.pack("!IQH", seq, ntp_now(), 0x3fff) + b"\0" * 27
        seq += 1
        u.sendto(pkt, (peer, port))
        r, _, _ = select.select([u], [], [], 0.15)
        if r:
            u.recv(4096)
            return True
        return False

    before = ping()
    c.sendall(bytes([3, 0, 0, 0]) + struct.pack("!I", 1) + b"\0" * 24)  # Stop-Sessions
    t0 = time.monotonic()
    if a.close:
        c.close()
    within = [0, 0]
    after = [0, 0]
    while True:
        time.sleep(0.05)
        t = time.monotonic() - t0
        if t > a.timeout + 1.5:
            break
        got = ping()
        if t < a.timeout - 0.3:
            within[0] += got
            within[1] += 1
        elif t > a.timeout + 0.3:
            after[0] += got
            after[1] += 1
    print("before=%d/1 within=%d/%d after=%d/%d" % (before, within[0], within[1], after[0],
                                                   after[1]))
    if not a.close:
        c.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, EOFError, AssertionError) as e:
        print("protocol error: %s" % e)
        sys.exit(2)
