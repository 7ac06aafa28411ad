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


def read(name):
    try:
        with open(os.path.join(work, name)) as f:
            return f.read()
    except OSError:
        return None


def steps_of(name):
    d = load(name)
    return d.get("steps", []) if d else []


def per_sec(step, key):
    v = step.get(key)
    return v / step["seconds"] if v is not None and step.get("seconds") else None


def checks(steps):
    """Replies sampled and checked in these steps, and what was wrong."""
    done = [s for s in steps if s.get("reply_checked")]
    bad = sorted({s["reply_problem"] for s in done if s.get("reply_problem")})
    return {"checked": len(done), "ok": sum(1 for s in done if not s.get("reply_problem")),
            "problems": bad}


res = {"schema": 2, "host": os.uname().nodename, "kernel": os.uname().release,
       "cpus": os.cpu_count(), "repetitions": reps,
       "duration_s": int((read("duration") or "0").strip() or 0),
       "napi_threads": [l.split() for l in (read("napi.txt") or "").splitlines() if l.strip()],
       # per flood invocation: the veths' nonzero ethtool counter deltas
       "veth_deltas": [{"flood": l.split(": ", 1)[0],
                        "counters": {k: int(v) for k, v in
                                     (kv.split("=") for kv in l.split(": ", 1)[1].split())}}
                       for l in (read("veth-deltas.txt") or "").splitlines() if ": " in l],
       "test_run": load("testrun.json"), "throughput": {}, "scaling": {}, "latency": {},
       "control": {}}

for c, name in NAMES.items():
    steps = [s for r in range(1, reps + 1) for s in steps_of(f"sat-{c}-{r}.json")[:1]]
    loss = steps_of(f"loss-{c}.json")
    ok = [s["offered_pps"] for s in loss if s["loss"] <= LOSS_MAX]
    # What the reflector's XDP program ran on (bare/floor reflect every one of
    # those), and what xtwamp's own counters say it reflected or handed to
    # xtwampd: sent >= reflector input >= reflector output >= received.
    counted = "xdp_reflected" if c == "a" else (
        "xdp_redirected_userspace" if c in "dc" else "prog_run_cnt")
    res["throughput"][name] = {
        "reflected_pps": stat([s["reflected_pps"] for s in steps]),
        "offered_pps": stat([s["offered_pps"] for s in steps]),
        "reflector_input_pps": stat([per_sec(s, "prog_run_cnt") for s in steps]),
        "reflector_counted_pps": stat([per_sec(s, counted) for s in steps]),
        "reflector_counter": counted,
        "live_ns_per_packet": stat([s["prog_ns_per_run"] or None for s in steps]),
        "max_rate_loss_0_1pct_pps": max(ok) if ok else None,
        "loss_steps": loss or None,
        "reply_checks": checks(steps + loss),
    }

sess, allow = {}, {}
for r in range(1, reps + 1):
    for s in steps_of(f"scale-sessions-{r}.json"):
        sess.setdefault(s["sessions_in_map"], []).append(s)
    for n in (1, 10000):
        for s in steps_of(f"scale-allow-{n}-{r}.json")[:1]:
            allow.setdefault(n, []).append(s)


def scale_row(steps):
    return {"reflected_pps": stat([s["reflected_pps"] for s in steps]),
            "live_ns_per_packet": stat([s["prog_ns_per_run"] or None for s in steps]),
            "reply_checks": checks(steps)}


res["scaling"] = {
    "sessions": [dict(entries=n, **scale_row(v)) for n, v in sorted(sess.items())],
    "allow": [dict(prefixes=n, **scale_row(v)) for n, v in sorted(allow.items())],
}

for name in ("xdp_light", "xdp_light_rtt", "bare", "xdp_twamp", "af_xdp", "socket"):
    d = load(f"lat-{name}.json") or {}
    o = d.get("overall") or {}
    rtt, rt = o.get("rtt_ns") or {}, o.get("residence_ns") or {}
    us = lambda v: None if v is None else v / 1000.0  # noqa: E731
    res["latency"][name] = {
        "sent": o.get("sent"), "replies": o.get("received"),
        "rtt_us": {"p50": us(rtt.get("median")), "p90": us(rtt.get("p90")),
                   "p99": us(rtt.get("p99")), "p99.9": us(rtt.get("p99_9"))},
        "residence_us": {"p50": us(rt.get("median")), "p99": us(rt.get("p99"))},
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
        # One PBKDF2 on each side per connection, one after the other in the
        # handshake: their share of the set-up time.
        if c.get("client_pbkdf2_ms") and c.get("setup_s"):
            c["pbkdf2_share"] = round(min(1.0, 2 * c["connections"] * c["client_pbkdf2_ms"]
                                          / 1000.0 / c["setup_s"]), 3)
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
print(f"Throughput (64-octet TWAMP payloads, reflector on its own CPU), medians of "
      f"{reps} [min-max]; ratios are within this run")
print(f"{'config':8} {'reflected pps [min-max]':>36} {'refl. input pps':>15} {'<=0.1% loss':>12} "
      f"{'live ns/pkt':>11} {'test-run ns':>11} {'x floor':>7} {'x socket':>8} {'checked':>8}")
for name in NAMES.values():
    t = res["throughput"][name]
    s = t["reflected_pps"]
    ck = t["reply_checks"]
    print(f"{name:8} {fmt(med(name)):>10} "
          f"{('[' + fmt(s['min']) + '-' + fmt(s['max']) + ']') if s else '':>25} "
          f"{fmt(med(name, 'reflector_input_pps')):>15} "
          f"{fmt(t['max_rate_loss_0_1pct_pps']):>12} "
          f"{fmt(med(name, 'live_ns_per_packet'), 1):>11} {fmt(trm.get(name), 1):>11} "
          f"{fmt(ratio(med(name), med('floor')), 2):>7} "
          f"{fmt(ratio(med(name), med('socket')), 2):>8} {str(ck['ok']) + '/' + str(ck['checked']):>8}")
    for p in ck["problems"]:
        print(f"         reply check failed: {p}")
print()
print("Latency at 1,000 pps (us). xtwamp ping: rtt = (T4-T1)-(T3-T2), residence = T3-T2; "
      "bare and xdp_light_rtt: xtbench rtt, rtt = T4-T1")
print(f"{'path':13} {'replies':>7} {'rtt p50':>8} {'p90':>8} {'p99':>8} {'p99.9':>8} "
      f"{'res p50':>8} {'res p99':>8}")
for name, l in lat.items():
    r, t = l["rtt_us"], l["residence_us"]
    print(f"{name:13} {fmt(l['replies']):>7} {fmt(r['p50'], 1):>8} {fmt(r['p90'], 1):>8} "
          f"{fmt(r['p99'], 1):>8} {fmt(r['p99.9'], 1):>8} {fmt(t['p50'], 2):>8} "
          f"{fmt(t['p99'], 2):>8}")
print()
print("Scaling: live, flat out (median reflected pps, live ns/packet) and "
      "BPF_PROG_TEST_RUN ns/packet")
ts = {s["entries"]: s["ns"]["median"] for s in tr.get("sessions", [])}
for s in res["scaling"]["sessions"]:
    print(f"  sessions in map {s['entries']:>6}: {fmt(s['reflected_pps'] and s['reflected_pps']['median']):>10} pps, "
          f"{fmt(s['live_ns_per_packet'] and s['live_ns_per_packet']['median'], 1):>6} ns live, "
          f"{fmt(ts.get(s['entries']), 1):>6} ns test run")
ta = {s["prefixes"]: s["ns"]["median"] for s in tr.get("allow", [])}
for s in res["scaling"]["allow"]:
    print(f"  allow-list {s['prefixes']:>6} prefixes: "
          f"{fmt(s['reflected_pps'] and s['reflected_pps']['median']):>10} pps, "
          f"{fmt(s['live_ns_per_packet'] and s['live_ns_per_packet']['median'], 1):>6} ns live, "
          f"{fmt(ta.get(s['prefixes']), 1):>6} ns test run")
if not res["scaling"]["sessions"]:
    for s in tr.get("sessions", []):
        print(f"  sessions map {s['requested']:>7} requested, {s['entries']:>6} held: "
              f"{s['ns']['median']:.1f} ns test run")
print()
print("Control plane")
for name, c in res["control"].items():
    if not c:
        print(f"  {name}: n/a")
        continue
    share = c.get("pbkdf2_share")
    print(f"  {name}: {c['sessions']} sessions over {c['connections']} connections, "
          f"set up {c['setup_s']:.2f} s, start {c['start_s']:.2f} s, "
          f"teardown {c['teardown_s']:.2f} s, failed {c['failed']}, xtwampd VmHWM "
          f"{fmt((c.get('daemon_vmhwm_kib') or 0) / 1024, 1)} MB"
          + (f", PBKDF2 {c['client_pbkdf2_ms']:.1f} ms per side per connection, "
             f"{share * 100:.0f}% of set-up" if share is not None else ""))
print()
print("Targets")
for t in res["targets"]:
    state = "n/a " if t["met"] is None else ("met " if t["met"] else "MISS")
    print(f"  {state} {t['target']}: {fmt(t['value'], 3)}")
print(f"\nmake bench took {res['duration_s']} s; NAPI threads: "
      + "; ".join(" ".join(x) for x in res["napi_threads"][:4]))
print(f"JSON: {out}")
