#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""A TWAMP Light reflector that also answers wrongly, for test_ping.sh.

  bad_reflector.py ADDR PORT OTHER_PORT COUNT

Answers the first COUNT requests on ADDR:PORT (UDP) each with a good
RFC 5357 §4.2.1 reply (41 octets + the request's padding), sent twice but
for the last request (the second copy is a duplicate), and three replies that a Session-Sender must
count as invalid, not trust:
  - 20 octets, shorter than any reflector packet;
  - a correct reply, but from OTHER_PORT (a wrong source);
  - a correct reply with a Sender Sequence Number never sent (seq + 1000000).
The good replies to requests 0, 2, 4, ... are held until the next request
has been answered (arrival order 1 0 3 2 ...: reordered), except the last.
Then it exits (or after 20 s without requests).  Prints "ready" once bound.
"""
import socket
import struct
import sys
import time

NTP_OFFSET = 2208988800


def ntp_now():
    t = time.time()
    sec = int(t)
    return ((sec + NTP_OFFSET) << 32) | int((t - sec) * (1 << 32))


def reply(req, rseq, sender_seq):
    # request: seq(4) T1(8) EE(2) ...
    seq, t1, ee = struct.unpack_from("!IQH", req)
    t2 = ntp_now()
    head = struct.pack("!IQHHQIQHHB", rseq, ntp_now(), 0x0001, 0, t2, sender_seq,
                       t1, ee, 0, 255)
    pad = req[len(head):] if len(req) > len(head) else b""
    return head + pad, seq


def main():
    addr, port, other, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, port))
    o = socket.socket(fam, socket.SOCK_DGRAM)
    o.bind((addr, other))
    s.settimeout(20)
    print("ready", flush=True)
    held = None
    for n in range(count):
        try:
            req, peer = s.recvfrom(2048)
        except socket.timeout:
            break
        if len(req) < 14:
            continue
        good, seq = reply(req, n, struct.unpack_from("!I", req)[0])
        s.sendto(b"\0" * 20, peer)
        o.sendto(good, peer)
        bogus, _ = reply(req, n, seq + 1000000)
        s.sendto(bogus, peer)
        if n % 2 == 0 and n + 1 < count:
            held = good
            continue
        # no duplicate of the last reply: the sender may be gone by then
        dup = n + 1 < count
        for r in (good,) * (1 + dup) + ((held, held) if held else ()):
            s.sendto(r, peer)
        held = None


if __name__ == "__main__":
    main()
