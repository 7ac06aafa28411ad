#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# test_hostile.sh - xtwampd under hostile clients (issue 7), bounded to a few
# minutes.  Attackers are tests/e2e/hostile_client.py, run in the sender
# namespace while a well-behaved `xtwamp ping` keeps using the server:
#
#   - 1,000 concurrent control connections that stop mid-message or never
#     finish the greeting (slowloris), with --max-connections and
#     --max-connections-per-client set high enough to let them all in;
#   - wrong keys, repeated quickly;
#   - Request-TW-Session floods for ports in use, privileged ports, port 0,
#     Start-N/Stop-N for unknown SIDs, Stop-Sessions with a wrong count;
#   - a fake server offering a huge PBKDF2 Count (the client refuses it:
#     --max-count-exponent);
#   - a UDP flood from one source far above --rate-limit while another
#     source is still answered.
#
# Prints the good client's setup time before and under attack, xtwampd's
# RSS and open fds at the start and the end, the refusal counters; checks
# that the sessions map is empty afterwards and the daemon exits cleanly.

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

HOSTILE=$XT_E2E/hostile_client.py
CONNS=${XT_HOSTILE_CONNS:-1000}
ADDR4_FLOOD=192.0.2.3

xt_init

# Not `--help | grep -q`: under pipefail grep's early exit SIGPIPEs the
# daemon and the pipeline fails even when the option is there.
help=$("$XTWAMPD" --help 2>&1)
[[ $help == *--max-connections-per-client* ]] ||
	xt_skip "this xtwampd has no control-connection limits"
# 1,000 attacker sockets plus the daemon's own: both inherit this.
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null ||
	xt_skip "cannot raise RLIMIT_NOFILE for $CONNS connections"

SECRET=0123456789abcdef0123456789abcdef
KEYS=$XT_WORK/keys
CLIENT_KEYS=$XT_WORK/client-keys
WRONG_KEYS=$XT_WORK/wrong-keys
(
	umask 077
	printf 'alice %s\n' "$SECRET" >"$KEYS"
	printf 'alice %s\n' "$SECRET" >"$CLIENT_KEYS"
	printf 'alice 00112233445566778899aabbccddeeff\n' >"$WRONG_KEYS"
)

# rss_kb / fds: of the daemon.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$XT_DAEMON_PID/status" 2>/dev/null; }
fds() { find "/proc/$XT_DAEMON_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# daemon_metric FILE NAME [REASON]: a counter of the daemon's own section of
# `xtwamp stats --json` (control connections and sessions).
daemon_metric() {
	python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for m in (d.get("daemon") or {}).get("metrics", []) or []:
    if m.get("name") == sys.argv[2] and \
            (len(sys.argv) < 4 or m.get("labels", {}).get("reason") == sys.argv[3]):
        print(m.get("value"))
        break
PY
}

sessions_now() {
	local f=$XT_WORK/stats.sessions.json
	xt_stats_json "$f" || return 1
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("sessions", ""))' "$f"
}

# good_ping WHAT ARGS...: one well-behaved session; prints its wall time.
good_ping() {
	local what=$1 out t0 t1 rc
	shift
	out=$XT_WORK/good.$((++GOOD)).out
	t0=$(date +%s%N)
	xt_in_s "$XTWAMP" ping "$ADDR4_R" -c 3 -i 0.01 -W 1 --session-timeout 1 "$@" >"$out" 2>&1
	rc=$?
	t1=$(date +%s%N)
	if ((rc == 0)); then
		xt_ok "$what: xtwamp ping ok in $(((t1 - t0) / 1000000)) ms"
	else
		xt_fail "$what: xtwamp ping exit $rc after $(((t1 - t0) / 1000000)) ms"
		xt_indent "$out" 20
	fi
}
GOOD=0

xt_section "hostile control clients"
xt_start_daemon generic --keys "$KEYS" --max-connections $((CONNS + 100)) \
	--max-connections-per-client $((CONNS + 50)) --max-sessions-per-connection 16 \
	--servwait 60 --rate-limit 100 --rate-burst 20 || xt_finish

rss0=$(rss_kb)
fd0=$(fds)
xt_log "xtwampd start: RSS ${rss0} kB, ${fd0} fds"
good_ping "before the attack (unauthenticated)"
good_ping "before the attack (encrypted)" -A encrypted -u alice -k "$CLIENT_KEYS"

# Slowloris: hold CONNS connections for 25 s while everything else runs.
slow_out=$XT_WORK/slowloris.out
nsenter --net="/run/netns/$NS_S" timeout -k 5 120 python3 "$HOSTILE" slowloris \
	"$ADDR4_R" 862 "$CONNS" 25 >"$slow_out" 2>&1 &
slow_pid=$!
for ((i = 0; i < 600; i++)); do
	grep -q '^opened' "$slow_out" && break
	kill -0 "$slow_pid" 2>/dev/null || break
	sleep 0.1
done
xt_log "slowloris: $(head -n 1 "$slow_out")"
read -r _ opened _ refused _ closed <<<"$(head -n 1 "$slow_out")"
if [[ ${opened:-0} -ge $((CONNS * 9 / 10)) ]]; then
	xt_ok "slowloris: ${opened} of $CONNS connections held open (refused ${refused}, closed ${closed})"
else
	xt_fail "slowloris: only ${opened:-0} of $CONNS connections opened"
	xt_indent "$slow_out"
fi
xt_log "xtwampd under $CONNS stalled connections: RSS $(rss_kb) kB, $(fds) fds"

# Wrong keys, quickly, in the background.
(
	for ((i = 0; i < 15; i++)); do
		xt_in_s "$XTWAMP" ping "$ADDR4_R" -A encrypted -u alice -k "$WRONG_KEYS" -c 1 \
			>/dev/null 2>&1 && echo "wrong key accepted"
	done
) >"$XT_WORK/wrongkeys.out" 2>&1 &
wrong_pid=$!

# Request floods: every kind of refusal on a few connections.
req_out=$XT_WORK/requests.out
for ((i = 0; i < 3; i++)); do
	xt_in_s python3 "$HOSTILE" requests "$ADDR4_R" 862 60 >>"$req_out" 2>&1
done
xt_log "request floods: $(tr '\n' ';' <"$req_out")"
if grep -q '^accepts' "$req_out" && ! grep -qi 'traceback' "$req_out"; then
	xt_ok "Request-TW-Session floods answered (Accept codes: $(grep -m1 '^accepts' "$req_out"))"
else
	xt_fail "Request-TW-Session floods"
	xt_indent "$req_out"
fi
# Ports 862 (TWAMP Light), 22 and 1 were asked for: never granted as such.
if grep -q 'privileged' "$req_out"; then
	xt_fail "a privileged receiver port was granted: $(grep -m1 '^accepts' "$req_out")"
else
	xt_ok "no privileged receiver port granted (alternate ports suggested instead)"
fi
# --max-sessions-per-connection 16: the rest get Accept 4 (temporary limit).
if grep -Eq '^accepts.* 4:[0-9]+' "$req_out" && grep -q '^sessions_accepted 16$' "$req_out"; then
	xt_ok "per-connection session limit: 16 accepted, the rest refused with Accept 4"
else
	xt_fail "per-connection session limit not applied"
	xt_indent "$req_out"
fi

good_ping "under attack (unauthenticated)"
good_ping "under attack (encrypted)" -A encrypted -u alice -k "$CLIENT_KEYS"

wait "$wrong_pid"
if grep -q 'wrong key accepted' "$XT_WORK/wrongkeys.out"; then
	xt_fail "a wrong key was accepted"
else
	xt_ok "15 wrong-key attempts refused"
fi
wait "$slow_pid"
xt_log "slowloris end: $(tail -n 1 "$slow_out")"

good_ping "after the attack"

# Everything torn down: connections closed, sessions gone.
got=
for ((i = 0; i < 100; i++)); do
	got=$(sessions_now) && [[ $got == 0 ]] && break
	sleep 0.1
done
if [[ $got == 0 ]]; then
	xt_ok "sessions map empty after the attack"
else
	xt_fail "sessions map holds '${got}' entries after the attack"
fi
rss1=$(rss_kb)
fd1=$(fds)
xt_log "xtwampd end: RSS ${rss1} kB, ${fd1} fds (start ${rss0} kB, ${fd0} fds)"
if [[ -n $rss0 && -n $rss1 ]] && ((rss1 < rss0 + 8192)); then
	xt_ok "RSS bounded: ${rss0} -> ${rss1} kB"
else
	xt_fail "RSS grew: ${rss0:-?} -> ${rss1:-?} kB"
fi
if ((fd1 <= fd0 + 4)); then
	xt_ok "open fds back to ${fd1} (start ${fd0})"
else
	xt_fail "fds leaked: ${fd0} -> ${fd1}"
fi
xt_stats_json "$XT_WORK/stats.json"
python3 - "$XT_WORK/stats.json" <<'PY' | sed 's/^/# /'
import json, sys
d = json.load(open(sys.argv[1]))
for m in (d.get("daemon") or {}).get("metrics", []) or []:
    if "refus" in m.get("name", "") or "closed" in m.get("name", ""):
        print(m["name"], m.get("labels", {}), m.get("value"))
PY
nref=$(grep -c 'refused' "$XT_DAEMON_LOG")
if ((nref <= 10)); then
	xt_ok "refusal log lines rate-limited: $nref lines"
else
	xt_fail "$nref refusal log lines (not rate-limited)"
fi
# Over a thousand connections opened and closed: their log lines are capped
# (20 per 10 s) and the rest summed up in one line per interval.
accepted=$(daemon_metric "$XT_WORK/stats.json" control_connections_accepted_total)
nconn=$(grep -cE 'control: .* (connected|closed)' "$XT_DAEMON_LOG")
if ((${accepted:-0} >= CONNS && nconn <= 200)) && grep -q 'lines left out' "$XT_DAEMON_LOG"; then
	xt_ok "connection log lines capped: $nconn lines for $accepted connections ($(grep -m1 'lines left out' "$XT_DAEMON_LOG" | sed 's/^xtwampd: info: //'))"
else
	xt_fail "connection log lines: $nconn for ${accepted:-?} connections"
fi

# ---- the rate limit: one source flooding, another still answered ---------
xt_section "flood from one source"
ip -n "$NS_S" addr add "$ADDR4_FLOOD/24" dev "$IF_S" 2>/dev/null
flood_out=$XT_WORK/flood.out
nsenter --net="/run/netns/$NS_S" timeout -k 5 30 python3 "$HOSTILE" udpflood \
	"$ADDR4_FLOOD" "$ADDR4_R" 862 5 >"$flood_out" 2>&1 &
flood_pid=$!
sleep 0.5
out=$XT_WORK/light-under-flood.out
n=$(xt_count_replies "$out" --light "$ADDR4_R" -c 50 -i 0.02 -W 1)
wait "$flood_pid"
xt_log "flood: $(cat "$flood_out")"
if ((n >= 45)); then
	xt_ok "another source answered during the flood: $n of 50 replies"
else
	xt_fail "another source got $n of 50 replies during the flood"
	xt_indent "$out" 10
fi
xt_stats_json "$XT_WORK/stats2.json"
rl=$(xt_counter "$XT_WORK/stats2.json" drop_rate_limited_total 2>/dev/null || echo 0)
if [[ ${rl:-0} -gt 0 ]]; then
	xt_ok "flood drops counted: drop_rate_limited_total $rl"
else
	xt_fail "drop_rate_limited_total is '${rl}' after the flood"
fi

xt_stop_daemon

# ---- default limits: one address opening far more than it may ------------
xt_section "per-client connection limit (default 16); a key file others can read"
LOOSE_KEYS=$XT_WORK/loose-keys
printf 'alice %s\n' "$SECRET" >"$LOOSE_KEYS"
chmod 644 "$LOOSE_KEYS"
xt_start_daemon generic --keys "$LOOSE_KEYS" --servwait 2 || xt_finish
lim_out=$XT_WORK/limit.out
# Held 4 s: --servwait 2 must close the 16 let in (idle or stuck mid-message).
xt_in_s python3 "$HOSTILE" slowloris "$ADDR4_R" 862 100 4 >"$lim_out" 2>&1
xt_log "100 connections from one address: $(tr '\n' ';' <"$lim_out")"
xt_stats_json "$XT_WORK/stats3.json"
lim=$(daemon_metric "$XT_WORK/stats3.json" control_connections_refused_total limit_client)
nlim=$(grep -c 'refused: ' "$XT_DAEMON_LOG")
if ((${lim:-0} >= 80 && nlim >= 1 && nlim <= 2)); then
	xt_ok "per-client limit: $lim connections refused and counted, $nlim log line(s)"
else
	xt_fail "per-client limit: refused counter '${lim}', $nlim log lines"
	xt_indent "$XT_DAEMON_LOG" 20
fi
idle=$(daemon_metric "$XT_WORK/stats3.json" control_connections_closed_total servwait)
stalled=$(daemon_metric "$XT_WORK/stats3.json" control_connections_closed_total stalled_message)
if grep -q '^still_open_after_hold 0$' "$lim_out" && ((${idle:-0} + ${stalled:-0} >= 16)); then
	xt_ok "--servwait 2 closed the held connections: $idle idle, $stalled stuck mid-message"
else
	xt_fail "--servwait 2: closed ${idle:-?} idle, ${stalled:-?} stalled; $(tail -n 1 "$lim_out")"
fi
good_ping "right after the per-client flood"
# The warning comes at start and again when SIGHUP re-reads the file.
kill -HUP "$XT_DAEMON_PID"
for ((i = 0; i < 30; i++)); do
	grep -q 'SIGHUP\|reloaded\|re-read' "$XT_DAEMON_LOG" && break
	sleep 0.1
done
nwarn=$(grep -c 'can be read or written by group or others' "$XT_DAEMON_LOG")
if ((nwarn == 2)); then
	xt_ok "key file mode 0644 warned about at start and on SIGHUP"
else
	xt_fail "key file mode 0644: $nwarn warnings (expected 2)"
	xt_indent "$XT_DAEMON_LOG" 10
fi
xt_stop_daemon

# Secrets never reach a log: the shared secrets of every key file used, in
# the daemon's logs (-v) and the clients' output.
leaks=$(grep -l -i -e "$SECRET" -e 00112233445566778899aabbccddeeff \
	"$XT_WORK"/xtwampd-*.log "$XT_WORK"/good.*.out "$XT_WORK"/wrongkeys.out 2>/dev/null)
if [[ -z $leaks ]]; then
	xt_ok "no shared secret in $(ls "$XT_WORK"/xtwampd-*.log "$XT_WORK"/good.*.out | wc -l) logs and outputs"
else
	xt_fail "a shared secret appears in: $leaks"
fi

# ---- the client against a hostile server: oversized Count ---------------
xt_section "client: oversized PBKDF2 Count"
bad_out=$XT_WORK/badserver.out
nsenter --net="/run/netns/$NS_R" timeout -k 5 40 python3 "$HOSTILE" badserver \
	"$ADDR4_R" 8862 30 >"$bad_out" 2>&1 &
bad_pid=$!
for ((i = 0; i < 50; i++)); do
	grep -q listening "$bad_out" && break
	sleep 0.1
done
t0=$(date +%s%N)
xt_in_s "$XTWAMP" ping "$ADDR4_R:8862" -A encrypted -u alice -k "$CLIENT_KEYS" \
	--max-count-exponent 15 -c 1 >"$XT_WORK/bigcount.out" 2>&1
rc=$?
t1=$(date +%s%N)
wait "$bad_pid"
if ((rc != 0 && (t1 - t0) < 5000000000)); then
	xt_ok "Count 2^30 refused by the client in $(((t1 - t0) / 1000000)) ms: $(head -n 1 "$XT_WORK/bigcount.out")"
else
	xt_fail "client with --max-count-exponent 15 against Count 2^30: exit $rc after $(((t1 - t0) / 1000000)) ms"
	xt_indent "$XT_WORK/bigcount.out" 10
fi

xt_finish
