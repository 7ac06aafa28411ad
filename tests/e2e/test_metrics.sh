#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# test_metrics.sh - the observability surface: `xtwamp stats` shows the
# daemon (running, XDP mode, T2 source, control-plane counters), `xtwamp
# sessions` lists a live negotiated session with its SID, mode and path,
# `xtwampd --metrics` serves an exposition that `promtool check metrics`
# accepts, and a real Prometheus server (own config and data directory,
# loopback of the reflector's namespace, 1 s scrape interval) scrapes it so
# that a counter comes back through its HTTP API.  After a clean stop both
# commands say xtwampd is not running.

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null 2>&1 || xt_skip "promtool not installed (run scripts/deps.sh: package prometheus)"
command -v prometheus >/dev/null 2>&1 || xt_skip "prometheus not installed (run scripts/deps.sh)"
xt_init

METRICS_PORT=9862
PROM_PORT=9090
PROM_PID=
stop_prometheus() {
	[[ -n $PROM_PID ]] || return 0
	kill "$PROM_PID" 2>/dev/null
	wait "$PROM_PID" 2>/dev/null
	PROM_PID=
}
trap 'stop_prometheus; xt_cleanup' EXIT

# fetch URL: GET from inside the reflector's namespace (its loopback).
fetch() {
	xt_in_r python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1"
}

# A cap of 2 per-session series against 3 sessions: the cap must hold.
xt_start_daemon generic --metrics "127.0.0.1:$METRICS_PORT" --metrics-sessions 2 ||
	xt_die "xtwampd did not start"

xt_section "xtwamp stats with the daemon running"
out=$XT_WORK/stats.txt
sleep 1.2 # first state-file rewrite by the 1 s tick
if timeout 10 "$XTWAMP" stats --pin-path "$PIN_DIR" >"$out" 2>&1 &&
	grep -q '^xtwampd:  running' "$out" && grep -qE "^iface: +$IF_R +XDP generic +T2 software" "$out" &&
	grep -q 'control_connections_accepted_total' "$out" && grep -q 'drop_not_allowed_total' "$out"; then
	xt_ok "stats: running, $IF_R generic/software, control-plane and drop counters"
else
	xt_fail "stats does not show the daemon, interface or control plane"
	xt_indent "$out"
fi

xt_section "xtwamp sessions during a full TWAMP session"
xt_in_s "$XTWAMP" ping "$ADDR4_R" --sessions 3 -c 300 -i 0.01 -q >"$XT_WORK/ping-bg.out" 2>&1 &
ping_pid=$!
ok=0
for ((i = 0; i < 30; i++)); do
	sleep 0.2
	timeout 10 "$XTWAMP" sessions --json --pin-path "$PIN_DIR" >"$XT_WORK/sessions.json" 2>&1 || continue
	if python3 - "$XT_WORK/sessions.json" 2>/dev/null <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
s = [x for x in d["sessions"] if x["sid"] and x["rx_packets"] > 0]
assert d["daemon_running"] and s, d
x = s[0]
assert x["mode"] == "unauthenticated" and x["path"] == "xdp" and x["state"] == "started", x
assert x["sender"].startswith("192.0.2.2:") and x["reflector"].startswith("192.0.2.1:"), x
assert x["control_peer"] == "192.0.2.2" and x["last_rx_seq"] is not None and x["age_s"] >= 0, x
PY
		ok=1
		break
	fi
done
if ((ok)); then
	xt_ok "sessions: live session with SID, mode unauthenticated, path xdp, started, counters"
	timeout 10 "$XTWAMP" sessions --pin-path "$PIN_DIR" >"$XT_WORK/sessions.txt" 2>&1
	xt_quote '|' "$(head -n 3 "$XT_WORK/sessions.txt")"
else
	xt_fail "sessions: no live session with control-plane details"
	xt_indent "$XT_WORK/sessions.json"
fi
ms=$XT_WORK/metrics-session.txt
fetch "http://127.0.0.1:$METRICS_PORT/metrics" >"$ms" 2>&1
rx=$(grep -c '^xtwamp_session_rx_packets_total{sender="192.0.2.2"' "$ms")
tx=$(grep -c '^xtwamp_session_tx_packets_total{sender="192.0.2.2"' "$ms")
dropped=$(awk '$1 == "xtwamp_session_series_dropped" {print $2}' "$ms")
if ((rx == 2 && tx == 2)) && [[ $dropped == 1 ]]; then
	xt_ok "metrics: 3 sessions, --metrics-sessions 2: 2 rx and 2 tx series, session_series_dropped 1"
else
	xt_fail "metrics: per-session series rx $rx, tx $tx, dropped '$dropped' (want 2, 2, 1)"
	grep session "$ms" | head -n 20 | sed 's/^/       | /'
fi
if promtool check metrics <"$ms" >"$XT_WORK/promtool-session.out" 2>&1; then
	xt_ok "promtool check metrics with per-session series and live counters"
else
	xt_fail "promtool check metrics (per-session series)"
	xt_indent "$XT_WORK/promtool-session.out"
fi
# Conventions promtool does not check: prefix, _total on counters only,
# base units, a HELP for every family, no family twice.
if res=$(python3 - "$ms" <<'PY'
import re, sys
types, helps, probs = {}, set(), []
for line in open(sys.argv[1]):
    m = re.match(r"# (TYPE|HELP) (\S+) ?(\S*)", line)
    if not m:
        continue
    kind, name, t = m.groups()
    if kind == "HELP":
        helps.add(name)
        continue
    if name in types:
        probs.append(f"{name}: TYPE twice")
    types[name] = t
    if not name.startswith("xtwamp_"):
        probs.append(f"{name}: no xtwamp_ prefix")
    if (t == "counter") != name.endswith("_total"):
        probs.append(f"{name}: {t} {'without' if t == 'counter' else 'with'} _total")
    if re.search(r"_(ms|us|ns|milliseconds|microseconds|nanoseconds)(_|$)", name):
        probs.append(f"{name}: not a base unit")
    if t == "histogram" and not name.endswith("_seconds"):
        probs.append(f"{name}: histogram without its unit")
probs += [f"{n}: no HELP" for n in types if n not in helps]
print("\n".join(probs) if probs else f"{len(types)} families")
sys.exit(1 if probs else 0)
PY
); then
	xt_ok "metric naming: $res, xtwamp_ prefix, _total exactly on counters, base units, HELP"
else
	xt_fail "metric naming"
	xt_quote '>' "$res"
fi
wait "$ping_pid"
rc=$?
((rc == 0)) && xt_ok "background TWAMP ping exit 0" || { xt_fail "background TWAMP ping exit $rc"; xt_indent "$XT_WORK/ping-bg.out"; }

xt_section "xtwamp stats --watch"
w=$XT_WORK/watch.txt
timeout --preserve-status -s INT 2.7 "$XTWAMP" stats --watch 1 --pin-path "$PIN_DIR" >"$w" 2>&1
rc=$?
blocks=$(grep -c '^==== ' "$w")
if ((rc == 0 && blocks >= 2)) && grep -q '^rates over the last 1.0 s:' "$w"; then
	xt_ok "stats --watch 1: $blocks readouts in 2.7 s with a rate column, exit 0 on SIGINT"
else
	xt_fail "stats --watch 1: exit $rc, $blocks readouts"
	xt_indent "$w" 20
fi
timeout --preserve-status -s INT 2.7 "$XTWAMP" stats --json --watch 1 --pin-path "$PIN_DIR" >"$w" 2>&1
rc=$?
if res=$(python3 -c 'import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(objs) >= 2, f"{len(objs)} objects"
assert all(o["daemon"]["running"] for o in objs)
print(f"{len(objs)} JSON objects, one per line")' "$w" 2>&1) && ((rc == 0)); then
	xt_ok "stats --json --watch 1: $res"
else
	xt_fail "stats --json --watch 1: exit $rc: $res"
	xt_indent "$w" 5
fi

xt_section "/metrics and promtool"
metrics=$XT_WORK/metrics.txt
if fetch "http://127.0.0.1:$METRICS_PORT/metrics" >"$metrics" 2>&1; then
	xt_ok "GET /metrics ($(wc -l <"$metrics") lines)"
else
	xt_fail "GET /metrics"
	xt_indent "$metrics"
fi
if promtool check metrics <"$metrics" >"$XT_WORK/promtool.out" 2>&1; then
	xt_ok "promtool check metrics"
else
	xt_fail "promtool check metrics"
	xt_indent "$XT_WORK/promtool.out"
fi
for want in 'xtwamp_up 1' 'xtwamp_drop_not_allowed_total ' 'xtwamp_residence_time_seconds_bucket{le="+Inf"} ' \
	"xtwamp_interface_info{interface=\"$IF_R\",xdp_mode=\"generic\",rx_timestamps=\"software\"} 1" \
	'xtwamp_sessions_accepted_total{mode="unauthenticated"} ' 'xtwamp_control_connections_refused_total{reason="not_allowed"} ' \
	'xtwamp_clock_synchronised '; do
	if grep -qF "$want" "$metrics"; then
		xt_ok "metrics: $want"
	else
		xt_fail "metrics: no line starting '$want'"
	fi
done
count=$(awk '$1 == "xtwamp_residence_time_seconds_count" {print $2}' "$metrics")
refl=$(awk '$1 == "xtwamp_reflected_total" {print $2}' "$metrics")
if [[ -n $count && $count == "$refl" && $count -gt 0 ]]; then
	xt_ok "residence histogram counts every reflected packet ($count)"
else
	xt_fail "residence _count '$count' != reflected_total '$refl'"
fi

xt_section "a real Prometheus scrapes xtwampd"
prom=$XT_WORK/prometheus
mkdir -p "$prom/data"
cat >"$prom/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: xtwamp
    static_configs:
      - targets: ['127.0.0.1:$METRICS_PORT']
YML
if promtool check config "$prom/prometheus.yml" >"$prom/check.out" 2>&1; then
	xt_ok "promtool check config (test scrape config)"
else
	xt_fail "promtool check config"
	xt_indent "$prom/check.out"
fi
nsenter --net="/run/netns/$NS_R" timeout -k 5 120 prometheus --config.file="$prom/prometheus.yml" \
	--storage.tsdb.path="$prom/data" --web.listen-address="127.0.0.1:$PROM_PORT" \
	--storage.tsdb.retention.time=1h >"$prom/log" 2>&1 </dev/null &
PROM_PID=$!
up=0
for ((i = 0; i < 150; i++)); do
	fetch "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null 2>&1 && { up=1; break; }
	kill -0 "$PROM_PID" 2>/dev/null || break
	sleep 0.2
done
if ((up)); then
	xt_ok "prometheus ready on 127.0.0.1:$PROM_PORT in $NS_R"
else
	xt_fail "prometheus did not become ready"
	xt_indent "$prom/log" 20
fi

xt_twamp_ping "TWAMP Light IPv4, 50 packets" 50 --ttl 255 -- --light "$ADDR4_R" -c 50 -i 0.01
xt_stats_json "$XT_WORK/s.json"
want=$(xt_counter "$XT_WORK/s.json" reflected_total)
got=
for ((i = 0; up && i < 60; i++)); do
	sleep 0.5
	got=$(fetch "http://127.0.0.1:$PROM_PORT/api/v1/query?query=xtwamp_reflected_total" 2>/dev/null |
		python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(int(float(r[0]["value"][1])) if r else "")' 2>/dev/null)
	[[ -n $got && $got -ge $want ]] && break
done
if [[ -n $got && $got -ge $want ]]; then
	xt_ok "Prometheus API: xtwamp_reflected_total = $got (maps: $want)"
else
	xt_fail "Prometheus API: xtwamp_reflected_total '$got', want >= $want"
	xt_indent "$prom/log" 20
fi
stop_prometheus

xt_section "after a clean stop"
xt_stop_daemon
state=/run/xtwamp/$(basename "$PIN_DIR").state
[[ ! -e $state ]] && xt_ok "state file $state removed" || xt_fail "state file $state left behind"
timeout 10 "$XTWAMP" stats --pin-path "$PIN_DIR" >"$out" 2>&1
rc=$?
if ((rc == 1)) && grep -q 'is xtwampd running' "$out"; then
	xt_ok "stats without xtwampd: exit 1, '$(head -n 1 "$out")'"
else
	xt_fail "stats without xtwampd: exit $rc"
	xt_indent "$out"
fi
timeout 10 "$XTWAMP" sessions --pin-path "$PIN_DIR" >"$out" 2>&1
rc=$?
if ((rc == 1)) && grep -q 'is xtwampd running' "$out"; then
	xt_ok "sessions without xtwampd: exit 1 and says so"
else
	xt_fail "sessions without xtwampd: exit $rc"
	xt_indent "$out"
fi

xt_finish
