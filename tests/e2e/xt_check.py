#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Checks for the e2e tests: parse what xtwamp and tshark print.

  xt_check.py csv FILE --count N [--stateless] [--ttl 255] [--length L | --min-length L]
      FILE is the output of `xtwamp ping ... --raw`: a CSV header
      seq,rseq,t1_ns,t2_ns,t3_ns,t4_ns,sender_ttl,reply_ttl,reflector_ee,length
      then one row per reply (other lines are ignored).
  xt_check.py counter FILE NAME
      FILE is `xtwamp stats --json`; prints counters.NAME (exit 1 if absent).
  xt_check.py tshark FILE --replies N [--ttl 255]
      FILE is tshark -T fields output (see lib.sh xt_tshark_check).

Prints one line per problem and exits 1 if there is any.
"""
import argparse
import csv
import json
import sys

CSV_FIELDS = ["seq", "rseq", "t1_ns", "t2_ns", "t3_ns", "t4_ns",
              "sender_ttl", "reply_ttl", "reflector_ee", "length"]


def as_int(s):
    s = s.strip()
    if s == "":
        return None  # e.g. reply_ttl when the kernel did not report it
    try:
        return int(s, 0)
    except ValueError:
        return int(s)


def problems_csv(args):
    probs = []
    with open(args.file) as f:
        lines = f.read().splitlines()
    try:
        start = next(i for i, l in enumerate(lines)
                     if l.replace(" ", "").startswith("seq,rseq,"))
    except StopIteration:
        return ["no CSV header 'seq,rseq,...' in the output"], []
    header = [h.strip() for h in lines[start].split(",")]
    missing = [h for h in CSV_FIELDS if h not in header]
    if missing:
        probs.append("CSV header lacks %s: %s" % (",".join(missing), lines[start]))
        return probs, []
    rows = []
    for line in csv.reader(lines[start + 1:]):
        if len(line) != len(header):
            continue  # summary or log line
        try:
            row = {h: as_int(v) for h, v in zip(header, line)}
        except ValueError:
            continue
        if any(row[h] is None for h in CSV_FIELDS if h not in ("reply_ttl", "reflector_ee")):
            probs.append("row with empty fields: %s" % ",".join(line))
            continue
        rows.append(row)
    if len(rows) != args.count:
        probs.append("%d replies, expected %d" % (len(rows), args.count))
    seqs = [r["seq"] for r in rows]
    if len(set(seqs)) != len(seqs):
        probs.append("duplicate sender sequence numbers: %s" % seqs)
    for i, r in enumerate(rows):
        tag = "seq %d" % r["seq"]
        if not r["t1_ns"] <= r["t2_ns"] <= r["t3_ns"] <= r["t4_ns"]:
            probs.append("%s: timestamps not ordered: t1 %d t2 %d t3 %d t4 %d "
                         "(t2-t1 %d, t3-t2 %d, t4-t3 %d ns)" %
                         (tag, r["t1_ns"], r["t2_ns"], r["t3_ns"], r["t4_ns"],
                          r["t2_ns"] - r["t1_ns"], r["t3_ns"] - r["t2_ns"],
                          r["t4_ns"] - r["t3_ns"]))
        if args.ttl is not None and r["sender_ttl"] != args.ttl:
            probs.append("%s: sender_ttl %d, expected %d" % (tag, r["sender_ttl"], args.ttl))
        if args.length is not None and r["length"] != args.length:
            probs.append("%s: length %d, expected %d" % (tag, r["length"], args.length))
        if args.min_length is not None and r["length"] < args.min_length:
            probs.append("%s: length %d < %d" % (tag, r["length"], args.min_length))
    if args.length is None and len({r["length"] for r in rows}) > 1:
        probs.append("reply lengths differ: %s" % sorted({r["length"] for r in rows}))
    if args.stateless:
        bad = [(r["seq"], r["rseq"]) for r in rows if r["rseq"] != r["seq"]]
        if bad:
            probs.append("stateless: rseq != seq for (seq, rseq) %s" % bad[:5])
    else:
        got = [r["rseq"] for r in rows]
        if got != list(range(len(rows))):
            probs.append("stateful: rseq should run 0..%d in order, got %s" %
                         (len(rows) - 1, got))
    return probs, rows


def cmd_csv(args):
    probs, rows = problems_csv(args)
    if rows:
        rtt = sorted((r["t4_ns"] - r["t1_ns"]) - (r["t3_ns"] - r["t2_ns"]) for r in rows)
        res = sorted(r["t3_ns"] - r["t2_ns"] for r in rows)
        print("%d replies, length %s, rtt min/median/max %.1f/%.1f/%.1f us, "
              "residence median %d ns" %
              (len(rows), ",".join(str(x) for x in sorted({r["length"] for r in rows})),
               rtt[0] / 1e3, rtt[len(rtt) // 2] / 1e3, rtt[-1] / 1e3, res[len(res) // 2]))
    for p in probs:
        print(p)
    return 1 if probs else 0


def cmd_counter(args):
    try:
        with open(args.file) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print("cannot parse %s: %s" % (args.file, e))
        return 1
    counters = doc.get("counters", {}) if isinstance(doc, dict) else {}
    if args.name not in counters:
        print("no counters.%s in the stats JSON" % args.name)
        return 1
    print(counters[args.name])
    return 0


# Columns written by lib.sh xt_tshark_check, in this order.
TS_FIELDS = ["frame", "ip_src", "ip6_src", "sport", "dport", "udp_len", "udp_ck",
             "ip_ck", "seq", "sender_seq", "sender_ttl", "proto"]


def cmd_tshark(args):
    probs = {}  # problem -> frames

    def bad(what, frame):
        probs.setdefault(what, []).append(frame)

    reqs = {}
    replies = []
    with open(args.file) as f:
        for line in f:
            v = line.rstrip("\n").split("\t")
            if len(v) < len(TS_FIELDS):
                v += [""] * (len(TS_FIELDS) - len(v))
            r = dict(zip(TS_FIELDS, v))
            if r["sport"] in args.ports:
                replies.append(r)
            elif r["dport"] in args.ports:
                reqs[(r["sport"], r["dport"], r["seq"])] = r
    for r in replies:
        fr = r["frame"]
        if not any(p.startswith("twamp") for p in r["proto"].split(":")):
            bad("not decoded as TWAMP-Test (%s)" % r["proto"], fr)
        if r["udp_ck"] != "1":
            bad("UDP checksum status %r, not 1 (good)" % r["udp_ck"], fr)
        if r["ip_src"] and r["ip_ck"] != "1":
            bad("IPv4 header checksum status %r, not 1 (good)" % r["ip_ck"], fr)
        if args.ttl is not None and r["sender_ttl"] != str(args.ttl):
            bad("Sender TTL %r, expected %d" % (r["sender_ttl"], args.ttl), fr)
        # its request: the reverse direction, with seq = our sender seq
        req = reqs.get((r["dport"], r["sport"], r["sender_seq"]))
        if req is None:
            bad("no captured request for this reply", fr)
        elif req["udp_len"] != r["udp_len"]:
            bad("UDP length differs from the request's (reply %s, request %s)" %
                (r["udp_len"], req["udp_len"]), fr)
    print("%d requests, %d reflected packets decoded" % (len(reqs), len(replies)))
    answered = {(r["dport"], r["sport"], r["sender_seq"]) for r in replies}
    unanswered = [q["frame"] for k, q in reqs.items() if k not in answered]
    for fr in unanswered:
        bad("captured request without a captured reply", fr)
    ok = True
    # The capture is a sample: on this VM a packet socket has been seen to
    # miss a request and its reply now and then (both directions at once,
    # while the client got the reply).  Every captured reply is checked
    # strictly; the count only has to come close to what the client saw.
    need = args.replies - max(2, args.replies // 20)
    if len(replies) < max(1, need):
        print("%d reflected packets captured, the client received %d" %
              (len(replies), args.replies))
        ok = False
    elif len(replies) < args.replies:
        print("note: capture missed %d of the %d replies the client received" %
              (args.replies - len(replies), args.replies))
    for what, frames in probs.items():
        print("%s: %d packets (frames %s%s)" %
              (what, len(frames), ",".join(frames[:10]),
               ",..." if len(frames) > 10 else ""))
        ok = False
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("csv")
    c.add_argument("file")
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--stateless", action="store_true")
    c.add_argument("--ttl", type=int)
    c.add_argument("--length", type=int)
    c.add_argument("--min-length", type=int)
    c.set_defaults(fn=cmd_csv)
    c = sub.add_parser("counter")
    c.add_argument("file")
    c.add_argument("name")
    c.set_defaults(fn=cmd_counter)
    c = sub.add_parser("tshark")
    c.add_argument("file")
    c.add_argument("--replies", type=int, required=True)
    c.add_argument("--ttl", type=int)
    c.add_argument("--ports", nargs="+", default=["862", "863"])
    c.set_defaults(fn=cmd_tshark)
    args = ap.parse_args()
    sys.exit(args.fn(args))


if __name__ == "__main__":
    main()
