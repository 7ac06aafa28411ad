#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""report.py WORKDIR REPS OUT - turn run.sh's raw files into one table on
stdout and the JSON of bench/README.md.  Missing pieces (a step that failed)
become null and "n/a": a partial run still reports what it measured."""
import json
import os
import statistics
import sys

work, reps, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
NAMES = {"a": "xdp", "b": "bare", "f": "floor", "d": "af_xdp", "c": "socket"}
LOSS_MAX = 0.001  # the "<= 0.1% loss"


def load(name):
    try:
        with open(os.path.join(work, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def stat(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    k = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * (len(sorted_vals) - 1)))))
    return sorted_vals[k]


res = {"schema": 1, "host": os.uname().nodename, "kernel": os.uname().release,
       "cpus": os.cpu_count(), "repetitions": reps,
       "test_run": load("testrun.json"), "throughput": {}, "latency": {}, "control": {}}

for c, name in NAMES.items():
    sat = [load(f"sat-{c}-{r}.json") for r in range(1, reps + 1)]
    steps = [s["steps"][0] for s in sat if s]
    loss = load(f"loss-{c}.json")
    ok = [s["offered_pps"] for s in (loss or {}).get("steps", []) if s["loss"] <= LOSS_MAX]
    res["throughput"][name] = {
        "reflected_pps": stat([s["reflected_pps"] for s in steps]),
        "offered_pps": stat([s["offered_pps"] for s in steps]),
        "live_ns_per_packet": stat([s["prog_ns_per_run"] or None for s in steps]),
        "max_rate_loss_0_1pct_pps": max(ok) if ok else None,
        "loss_steps": (loss or {}).get("steps"),
    }

for name in ("xdp_light", "xdp_twamp", "af_xdp", "socket"):
    rtt, res_t = [], []
    try:
        with open(os.path.join(work, f"lat-{name}.csv")) as f:
            for line in f:
                p = line.strip().split(",")
                if len(p) < 6 or not p[0].isdigit():
                    continue
                t1, t2, t3, t4 = (int(x) for x in p[2:6])
                rtt.append(((t4 - t1) - (t3 - t2)) / 1000.0)
                res_t.append((t3 - t2) / 1000.0)
    except OSError:
        pass
    rtt.sort()
    res_t.sort()
    res["latency"][name] = {
        "replies": len(rtt),
        "rtt_us": {f"p{p}": pct(rtt, p) for p in (50, 90, 99, 99.9)},
        "residence_us": {f"p{p}": pct(res_t, p) for p in (50, 99)},
    }

for name in ("unauthenticated", "encrypted"):
    c = load(f"ctrl-{name}.json")
    try:
        with open(os.path.join(work, f"ctrl-{name}.hwm")) as f:
            hwm = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        hwm = None
    if c is not None:
        c["daemon_vmhwm_kib"] = hwm
    res["control"][name] = c


def med(name, key="reflected_pps"):
    s = res["throughput"][name][key]
    return s["median"] if s else None


def ratio(x, y):
    return round(x / y, 3) if x and y else None


tr = res["test_run"] or {}
trm = {k: tr[k]["median"] for k in ("xdp", "bare", "floor") if k in tr}
lat = res["latency"]
ctl = res["control"].get("unauthenticated") or {}
targets = [
    ("xdp pps >= 0.9 x floor", ratio(med("xdp"), med("floor")), 0.9, ">="),
    ("xdp pps >= 8 x socket", ratio(med("xdp"), med("socket")), 8, ">="),
    ("live ns/pkt xdp <= 1.2 x floor",
     ratio(med("xdp", "live_ns_per_packet"), med("floor", "live_ns_per_packet")), 1.2, "<="),
    ("test-run ns/pkt xdp <= 1.2 x floor", ratio(trm.get("xdp"), trm.get("floor")), 1.2, "<="),
    ("residence p50 <= 0.2 us (xdp light)", lat["xdp_light"]["residence_us"]["p50"], 0.2, "<="),
    ("residence p99 <= 1 us (xdp light)", lat["xdp_light"]["residence_us"]["p99"], 1.0, "<="),
    ("rtt p50 xdp <= 0.6 x socket",
     ratio(lat["xdp_twamp"]["rtt_us"]["p50"], lat["socket"]["rtt_us"]["p50"]), 0.6, "<="),
    ("af_xdp pps >= 3 x socket", ratio(med("af_xdp"), med("socket")), 3, ">="),
    ("10,000 sessions set up <= 5 s", ctl.get("setup_s"), 5, "<="),
    ("xtwampd RSS <= 64 MB", (ctl.get("daemon_vmhwm_kib") or 0) / 1024 or None, 64, "<="),
]
res["targets"] = []
for what, value, limit, op in targets:
    met = None if value is None else (value >= limit if op == ">=" else value <= limit)
    res["targets"].append({"target": what, "value": value, "limit": limit, "met": met})

os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    json.dump(res, f, indent=1)


def fmt(v, d=0):
    return "n/a" if v is None else f"{v:,.{d}f}"


print()
print("Throughput (64-octet TWAMP payloads, reflector on its own CPU), medians of "
      f"{reps}, min-max; ratios are within this run")
print(f"{'config':8} {'reflected pps':>14} {'min-max':>22} {'<=0.1% loss':>12} "
      f"{'live ns/pkt':>11} {'test-run ns':>11} {'x floor':>7} {'x socket':>8}")
for name in NAMES.values():
    t = res["throughput"][name]
    s = t["reflected_pps"]
    print(f"{name:8} {fmt(med(name)):>14} "
          f"{(fmt(s['min']) + '-' + fmt(s['max'])) if s else 'n/a':>22} "
          f"{fmt(t['max_rate_loss_0_1pct_pps']):>12} "
          f"{fmt(med(name, 'live_ns_per_packet'), 1):>11} {fmt(trm.get(name), 1):>11} "
          f"{fmt(ratio(med(name), med('floor')), 2):>7} "
          f"{fmt(ratio(med(name), med('socket')), 2):>8}")
print()
print("Latency, xtwamp ping at 1,000 pps (us)")
print(f"{'path':10} {'replies':>7} {'rtt p50':>8} {'p90':>8} {'p99':>8} {'p99.9':>8} "
      f"{'res p50':>8} {'res p99':>8}")
for name, l in lat.items():
    r, t = l["rtt_us"], l["residence_us"]
    print(f"{name:10} {l['replies']:>7} {fmt(r['p50'], 1):>8} {fmt(r['p90'], 1):>8} "
          f"{fmt(r['p99'], 1):>8} {fmt(r['p99.9'], 1):>8} {fmt(t['p50'], 2):>8} "
          f"{fmt(t['p99'], 2):>8}")
print()
print("Scaling (BPF_PROG_TEST_RUN ns/packet, median)")
for s in tr.get("sessions", []):
    print(f"  sessions map {s['requested']:>7} requested, {s['entries']:>6} held: "
          f"{s['ns']['median']:.1f} ns")
for s in tr.get("allow", []):
    print(f"  allow-list {s['prefixes']:>6} prefixes: {s['ns']['median']:.1f} ns")
print()
print("Control plane")
for name, c in res["control"].items():
    if not c:
        print(f"  {name}: n/a")
        continue
    print(f"  {name}: {c['sessions']} sessions over {c['connections']} connections, "
          f"set up {c['setup_s']:.2f} s, start {c['start_s']:.2f} s, "
          f"teardown {c['teardown_s']:.2f} s, failed {c['failed']}, xtwampd VmHWM "
          f"{fmt((c.get('daemon_vmhwm_kib') or 0) / 1024, 1)} MB, client PBKDF2 "
          f"{c['client_pbkdf2_ms']:.1f} ms")
print()
print("Targets")
for t in res["targets"]:
    state = "n/a " if t["met"] is None else ("met " if t["met"] else "MISS")
    print(f"  {state} {t['target']}: {fmt(t['value'], 3)}")
print(f"\nJSON: {out}")
