#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""hostile_client.py - misbehaving TWAMP peers for tests/e2e/test_hostile.sh.

  slowloris HOST PORT N HOLD   N control connections at once: a third never
                               read the greeting, a third stop after 10
                               octets of the Set-Up-Response, a third after
                               a whole one and 50 octets of a command; hold
                               them HOLD seconds.  Prints "opened N refused N
                               closed_by_server N".
  requests HOST PORT N         unauthenticated, Individual mode if offered:
                               N Request-TW-Session (in-use, privileged, zero
                               and random ports, alternating), Start-N and
                               Stop-N for unknown SIDs, Stop-Sessions; prints
                               the Accept codes seen.
  udpflood SRC DST PORT SECS   TWAMP Light requests from SRC as fast as a
                               socket goes for SECS seconds; prints "sent N".
  badserver ADDR PORT EXP      a fake server whose greeting offers encrypted
                               mode with Count 2^EXP; accepts one
                               connection, prints how long the client stayed.
Every mode is bounded in time.
"""
import random
import socket
import struct
import sys
import time


def connect(host, port, timeout=5.0):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def setup_response(mode):
    return struct.pack(">I", mode) + bytes(160)


def request(rport, ipvn=4):
    m = bytearray(112)
    m[0], m[1] = 5, ipvn
    struct.pack_into(">HH", m, 12, random.randint(20000, 60000), rport)
    struct.pack_into(">I", m, 64, 27)
    struct.pack_into(">QQ", m, 68, 0, 0x0000000200000000)
    return bytes(m)


def slowloris(host, port, n, hold):
    conns, refused, closed = [], 0, 0
    deadline = time.monotonic() + 60
    for i in range(n):
        if time.monotonic() > deadline:
            break
        try:
            s = connect(host, port, 2.0)
        except OSError:
            refused += 1
            continue
        try:
            kind = i % 3
            if kind >= 1:
                recv_exact(s, 64)
            if kind == 1:
                s.sendall(setup_response(1)[:10])
            elif kind == 2:
                s.sendall(setup_response(1))
                recv_exact(s, 48)
                s.sendall(request(0)[:50])
        except OSError:
            closed += 1
            s.close()
            continue
        conns.append(s)
    print(f"opened {len(conns)} refused {refused} closed_by_server {closed}", flush=True)
    end = time.monotonic() + hold
    while time.monotonic() < end:
        time.sleep(0.2)
    alive = 0
    for s in conns:
        s.setblocking(False)
        # Unread data (a greeting never read) comes before the server's FIN.
        try:
            for _ in range(64):
                if s.recv(4096) == b"":
                    break
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
        s.close()
    print(f"still_open_after_hold {alive}", flush=True)


def requests(host, port, n):
    s = connect(host, port)
    greeting = recv_exact(s, 64)
    modes = struct.unpack(">I", greeting[12:16])[0]
    indiv = 0x10 if modes & 0x10 else 0
    s.sendall(setup_response(1 | indiv))
    start = recv_exact(s, 48)
    if start[15] != 0:
        print(f"server-start accept {start[15]}")
        return
    accepts = {}
    sids = []
    ports = [862, 22, 1, 0, random.randint(1024, 65535)]
    try:
        for i in range(n):
            s.sendall(request(ports[i % len(ports)]))
            a = recv_exact(s, 48)
            # Accept-Session: Accept, MBZ, Port, SID (RFC 4656 3.5).
            port = struct.unpack(">H", a[2:4])[0]
            want = ports[i % len(ports)]
            key = f"{a[0]}" if a[0] else ("0/same" if port == want else "0/alt")
            if a[0] == 0 and port < 1024:
                key = f"0/privileged-{port}"
            accepts[key] = accepts.get(key, 0) + 1
            if a[0] == 0:
                sids.append(a[4:20])
    except (ConnectionError, OSError) as e:
        print(f"connection ended after {sum(accepts.values())} requests: {e}", flush=True)
    print("accepts " + " ".join(f"{k}:{v}" for k, v in sorted(accepts.items())), flush=True)
    if indiv:
        # Start-N / Stop-N naming SIDs the server never gave out: whatever
        # comes back (an ack refusing them, or a close) is printed.
        for cmd in (7, 9):
            m = bytearray(32 + 16 * 4)
            m[0] = cmd
            struct.pack_into(">I", m, 12, 4)
            for i in range(4):
                m[16 + 16 * i:32 + 16 * i] = random.randbytes(16)
            try:
                s.sendall(bytes(m))
                s.settimeout(2)
                ack = s.recv(4096)
                desc = f"{len(ack)} octets, type {ack[0]} accept {ack[1]}" if ack else "closed"
            except OSError as e:
                desc = f"error {e}"
            print(f"cmd {cmd} for unknown SIDs: {desc}", flush=True)
    # Stop-Sessions with a wrong Number of Sessions, then quit.
    m = bytearray(32)
    m[0] = 3
    struct.pack_into(">I", m, 4, 12345)
    try:
        s.sendall(bytes(m))
        s.settimeout(2)
        s.recv(64)
    except OSError:
        pass
    s.close()
    print(f"sessions_accepted {len(sids)}", flush=True)


def udpflood(src, dst, port, secs):
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((src, 40999))
    s.setblocking(False)
    pkt = bytes(41)
    sent = 0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        for _ in range(256):
            try:
                s.sendto(pkt, (dst, port))
                sent += 1
            except BlockingIOError:
                break
            except OSError:
                break
    print(f"sent {sent}", flush=True)


def badserver(addr, port, exp):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    ls.settimeout(20)
    print("listening", flush=True)
    c, _ = ls.accept()
    t0 = time.monotonic()
    g = bytearray(64)
    struct.pack_into(">I", g, 12, 0x6)  # authenticated + encrypted
    g[16:48] = random.randbytes(32)  # Challenge, Salt
    struct.pack_into(">I", g, 48, 1 << exp)
    c.sendall(bytes(g))
    c.settimeout(20)
    try:
        while c.recv(4096):
            pass
    except OSError:
        pass
    print(f"client_left_after {time.monotonic() - t0:.2f}", flush=True)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "slowloris":
        slowloris(args[0], int(args[1]), int(args[2]), float(args[3]))
    elif cmd == "requests":
        requests(args[0], int(args[1]), int(args[2]))
    elif cmd == "udpflood":
        udpflood(args[0], args[1], int(args[2]), float(args[3]))
    elif cmd == "badserver":
        badserver(args[0], int(args[1]), int(args[2]))
    else:
        sys.exit(f"unknown mode {cmd}")


if __name__ == "__main__":
    main()
