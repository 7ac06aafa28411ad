#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""make_seeds.py - (re)write the libFuzzer seed corpora in tests/fuzz/corpus/.

One valid conversation per target, so the fuzzers start past the framing.
The XDP seeds are written by `build/tests/xdp_fuzz --write-seeds DIR`.
"""
import os
import struct
import sys

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def request(rport=5001, ipvn=4):
    m = bytearray(112)
    m[0], m[1] = 5, ipvn
    struct.pack_into(">HH", m, 12, 5000, rport)
    struct.pack_into(">I", m, 64, 27)
    struct.pack_into(">QQ", m, 68, 0xE8F1A2B400000000, 0x0000000280000000)
    return bytes(m)


def start():
    return bytes([2]) + bytes(31)


def stop(n=1):
    return bytes([3, 0, 0, 0]) + struct.pack(">I", n) + bytes(24)


def n_cmd(cmd, n=1):
    m = bytearray(32 + 16 * n)
    m[0] = cmd
    struct.pack_into(">I", m, 12, n)
    for i in range(n):
        m[16 + 16 * i] = 0xC0
        m[16 + 16 * i + 15] = i + 1
    return bytes(m)


def setup(mode=1):
    return struct.pack(">I", mode) + bytes(160)


def records(*msgs):
    out = b""
    for m in msgs:
        out += bytes([len(m) // 16 - 1]) + m
    return out


def udp_frame():
    payload = bytes(range(48))
    udp = struct.pack(">HHHH", 40001, 862, 8 + len(payload), 0) + payload
    ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                               bytes([192, 0, 2, 10]), bytes([198, 51, 100, 1])))
    s = sum(struct.unpack(">10H", ip))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    struct.pack_into(">H", ip, 10, ~s & 0xFFFF)
    eth = bytes.fromhex("02005e00530202005e0053010800")
    return eth + bytes(ip) + udp


SEEDS = {
    "control_open": {
        "session": b"\x00" + request() + start() + stop(),
        "n-sessions": b"\x01" + request() + request(0) + n_cmd(7, 2) + n_cmd(9, 2),
        "byte-by-byte": b"\x01" + request(862, 6) + start(),
    },
    "control_setup": {
        "open": b"\x00" + setup(1) + request() + start() + stop(),
        "keyid": b"\x00" + struct.pack(">I", 4) + b"fuzz".ljust(80, b"\0") + bytes(80),
    },
    "control_enc": {
        "session": records(request(), start(), stop()),
        "n-sessions": records(request(), request(0), n_cmd(7, 2), n_cmd(9, 2)),
    },
    "keyfile": {
        "keys": b"# perfSONAR style\nalice 0123456789abcdef\nbob\tDEADBEEF\r\n\n",
    },
    "auth_frame": {
        "frame": b"\x00" + udp_frame(),
        "sealed-enc": b"\x03" + bytes(range(112)),
        "sealed-auth": b"\x02" + bytes(range(48)),
    },
}


def main():
    for target, seeds in SEEDS.items():
        d = os.path.join(HERE, target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
    print(f"make_seeds: wrote {sum(len(s) for s in SEEDS.values())} seeds under {HERE}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
