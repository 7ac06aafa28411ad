#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# soak.sh - `make soak`: xtwampd with SOAK_SESSIONS (100) concurrent
# negotiated sessions for SOAK_SECONDS (600), in the e2e test bed.  Prints
# xtwampd's RSS, open fds, the map occupancy (sessions, flows) and the drop
# counters once the sessions run and again just before they end; fails if
# RSS grew by more than SOAK_RSS_SLACK_KB, fds grew, the sessions map changed
# or drops appeared.

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

SECS=${SOAK_SECONDS:-600}
N=${SOAK_SESSIONS:-100}
SLACK=${SOAK_RSS_SLACK_KB:-16384}
XT_CMD_TIMEOUT=$((SECS + 60))

xt_init
xt_start_daemon generic --max-sessions-per-connection "$N" --rate-limit 0 || xt_finish

snapshot() {
	local f=$XT_WORK/soak.$1.json rss fds
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$XT_DAEMON_PID/status" 2>/dev/null)
	fds=$(find "/proc/$XT_DAEMON_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	xt_stats_json "$f" || true
	python3 - "$f" "$1" "$rss" "$fds" <<'PY'
import json, sys
f, when, rss, fds = sys.argv[1:5]
try:
    d = json.load(open(f))
except Exception:
    d = {}
c = d.get("counters") or {}
drops = {k: v for k, v in c.items() if k.startswith("drop_") and v}
print(f"# soak {when}: RSS {rss} kB, fds {fds}, sessions {d.get('sessions')}, "
      f"flows {d.get('flows')}, reflected {c.get('reflected_total')}, drops {drops or 0}")
print(f"{rss} {fds} {d.get('sessions')} {sum(drops.values())}")
PY
}

out=$XT_WORK/soak-ping.out
xt_log "$N sessions for $SECS s"
xt_in_s "$XTWAMP" ping "$ADDR4_R" --sessions "$N" --duration "$SECS" -i 0.1 -W 1 \
	--session-timeout 1 >"$out" 2>&1 &
ping_pid=$!
sleep 10
read -r rss0 fd0 sess0 drop0 < <(snapshot start | tee /dev/stderr | tail -n 1)
sleep $((SECS > 30 ? SECS - 20 : 10))
read -r rss1 fd1 sess1 drop1 < <(snapshot end | tee /dev/stderr | tail -n 1)
wait "$ping_pid"
rc=$?
tail -n 5 "$out" | sed 's/^/# /'
((rc == 0)) && xt_ok "xtwamp ping --sessions $N ran for $SECS s" ||
	xt_fail "xtwamp ping --sessions $N: exit $rc"
[[ $sess0 == "$N" ]] && xt_ok "sessions map held $N sessions" ||
	xt_fail "sessions map held '$sess0' sessions, expected $N"
((rss1 <= rss0 + SLACK)) && xt_ok "RSS $rss0 -> $rss1 kB" || xt_fail "RSS grew: $rss0 -> $rss1 kB"
((fd1 <= fd0)) && xt_ok "fds $fd0 -> $fd1" || xt_fail "fds grew: $fd0 -> $fd1"
[[ $sess1 == "$sess0" ]] && xt_ok "sessions map $sess0 -> $sess1" ||
	xt_fail "sessions map changed: $sess0 -> $sess1"
# Well-formed traffic, no rate limit: no drop at all, so none may appear.
((drop1 == drop0)) && xt_ok "drops $drop0 -> $drop1" || xt_fail "drops grew: $drop0 -> $drop1"
xt_stop_daemon
xt_finish
