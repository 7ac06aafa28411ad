#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# test_restart.sh - restart without losing measurement.  A TWAMP Light
# sender pings every 10 ms; xtwampd is killed with SIGKILL mid-run, so its
# pinned XDP link and maps stay; `xtwamp stats` then says xtwampd is not
# running but still shows the counters; a new xtwampd adopts the pins
# (program replaced on the link with bpf_link_update) and the sender sees
# every reply.  The counters carry on, and a clean SIGTERM afterwards still
# detaches and unpins everything.  The same with a negotiated (full TWAMP,
# unauthenticated) session: it keeps being reflected, the new xtwampd lists
# it as orphaned and ends it after --refwait.  Then SIGHUP with a --config
# file: the allow-list is reloaded without a restart, and a live session
# runs through a reload of keys, limits and allow-list.  SIGUSR2 (the
# planned restart of an upgrade) hands over the same way.  Last, the systemd
# unit's capability set is enough for all of it, and each one is needed.

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

xt_init

COUNT=800 # 8 s: the restart must fall inside the run even on a loaded machine

# crash_daemon: SIGKILL, as a crash or the OOM killer would; the pins stay.
crash_daemon() {
	kill -KILL "$XT_DAEMON_PID"
	wait "$XT_DAEMON_PID" 2>/dev/null
	XT_DAEMON_PID=
}

# session_sid FILE: wait until `xtwamp sessions --json` (into FILE) names a
# session (the state file behind the SID is rewritten once a second); print
# its SID.
session_sid() {
	local i
	for ((i = 0; i < 30; i++)); do
		sleep 0.1
		timeout 10 "$XTWAMP" sessions --json --pin-path "$PIN_DIR" >"$1" 2>&1 &&
			grep -q '"sid": "[0-9a-f]' "$1" && break
	done
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sessions"][0]["sid"])' "$1" 2>/dev/null
}
# --rx-timestamp sw: no device-bound program (the oops this kernel had in
# bpf_dev_bound_netdev_unregister while tearing down a test namespace with
# one made the whole machine's RTNL hang).
for mode in generic native; do
	xt_section "kill -9 and restart, $mode mode"
	xt_start_daemon "$mode" --rx-timestamp sw || continue
	first_log=$XT_DAEMON_LOG
	out=$XT_WORK/ping-$mode.out
	xt_in_s "$XTWAMP" ping --light "$ADDR4_R" -c "$COUNT" -i 0.01 --raw >"$out" 2>&1 &
	ping_pid=$!
	sleep 1.5
	crash_daemon
	xt_check_attached "$mode"
	st=$XT_WORK/stats-dead-$mode.txt
	if timeout 10 "$XTWAMP" stats --pin-path "$PIN_DIR" >"$st" 2>&1 &&
		grep -q 'NOT RUNNING' "$st" && grep -qE '^reflected_total +[1-9]' "$st"; then
		xt_ok "stats while xtwampd is dead: NOT RUNNING, counters still there"
	else
		xt_fail "stats while xtwampd is dead"
		xt_indent "$st"
	fi
	xt_stats_json "$XT_WORK/before-$mode.json"
	before=$(xt_counter "$XT_WORK/before-$mode.json" reflected_total)
	sleep 0.5
	xt_start_daemon "$mode" --rx-timestamp sw || { kill "$ping_pid" 2>/dev/null; continue; }
	# Otherwise COUNT/COUNT below would prove nothing about the restart window.
	if kill -0 "$ping_pid" 2>/dev/null; then
		xt_ok "the new xtwampd took over while the sender was still pinging"
	else
		xt_fail "the sender finished before the restart: the test proves nothing (slow machine?)"
	fi
	if grep -q 'adopting' "$XT_DAEMON_LOG" && grep -q 'adopted the pinned XDP link' "$XT_DAEMON_LOG"; then
		xt_ok "new xtwampd adopted the maps and the link"
	else
		xt_fail "new xtwampd did not adopt"
		xt_indent "$XT_DAEMON_LOG" 20
	fi
	wait "$ping_pid"
	rc=$?
	replies=$(grep -cE '^[0-9]+,' "$out")
	if ((replies == COUNT)); then
		xt_ok "sender saw no loss across kill -9 + restart ($replies/$COUNT replies, ping exit $rc)"
	else
		xt_fail "sender lost $((COUNT - replies)) of $COUNT replies across the restart"
		xt_indent "$out" 10
		xt_indent "$first_log" 10
		xt_indent "$XT_DAEMON_LOG" 10
	fi
	# A test packet the program passes meets no socket (none between the
	# two daemons' port reservations): the sender gets port unreachable.
	if ! grep -q 'ICMP errors' "$out"; then
		xt_ok "no ICMP errors: no test packet reached the stack during the restart"
	else
		xt_fail "the sender got ICMP errors: test packets were passed to the stack"
		xt_indent "$out" 12
	fi
	xt_stats_json "$XT_WORK/after-$mode.json"
	after=$(xt_counter "$XT_WORK/after-$mode.json" reflected_total)
	if ((after >= COUNT && after > before)); then
		xt_ok "counters carried on: reflected_total $before at the kill, $after now"
	else
		xt_fail "reflected_total $after after the restart (was $before, want >= $COUNT)"
	fi
	sleep 1.2
	if timeout 10 "$XTWAMP" stats --pin-path "$PIN_DIR" >"$st" 2>&1 && grep -q '^xtwampd:  running' "$st"; then
		xt_ok "stats: the restarted daemon is running"
	else
		xt_fail "stats after restart"
		xt_indent "$st"
	fi
	xt_stop_daemon
done

# A negotiated (unauthenticated) session: the TWAMP-Control connection dies
# with xtwampd, the session's map entry keeps being reflected, the new
# xtwampd adopts it as "orphaned" (SID, mode and peer from the old state
# file) and ends it after --refwait once the sender stops.
xt_section "kill -9 mid-session, full TWAMP (unauthenticated)"
NCOUNT=600
if xt_start_daemon generic --rx-timestamp sw --refwait 2; then
	out=$XT_WORK/ping-twamp.out
	xt_in_s "$XTWAMP" ping "$ADDR4_R" -c "$NCOUNT" -i 0.01 --raw >"$out" 2>"$out.err" &
	ping_pid=$!
	sj=$XT_WORK/sessions-first.json
	sid=$(session_sid "$sj")
	sleep 0.5
	crash_daemon
	sj=$XT_WORK/sessions-dead.json
	if timeout 10 "$XTWAMP" sessions --pin-path "$PIN_DIR" >"$sj" 2>&1 &&
		grep -q 'NOT running' "$sj" && grep -q "$sid" "$sj"; then
		xt_ok "xtwamp sessions while xtwampd is dead: NOT running, session $sid still listed"
	else
		xt_fail "xtwamp sessions while xtwampd is dead"
		xt_indent "$sj"
	fi
	sleep 0.3
	xt_start_daemon generic --rx-timestamp sw --refwait 2 || { kill "$ping_pid" 2>/dev/null; }
	if kill -0 "$ping_pid" 2>/dev/null; then
		xt_ok "the sender was still running when the new xtwampd adopted its session"
	else
		xt_fail "the sender finished before the adoption: the test proves nothing"
	fi
	if grep -q 'adopted 1 negotiated sessions' "$XT_DAEMON_LOG"; then
		xt_ok "new xtwampd adopted the negotiated session"
	else
		xt_fail "no negotiated session adopted"
		xt_indent "$XT_DAEMON_LOG" 10
	fi
	sleep 1.2 # one state-file tick
	sj=$XT_WORK/sessions-adopted.json
	timeout 10 "$XTWAMP" sessions --json --pin-path "$PIN_DIR" >"$sj" 2>&1
	if res=$(python3 - "$sj" "$sid" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["sessions"]
assert d["daemon_running"], "daemon_running is false"
assert len(s) == 1, f"{len(s)} sessions"
s = s[0]
assert s["state"] == "orphaned", f"state {s['state']}"
assert s["sid"] == sys.argv[2] and len(s["sid"]) == 32, f"sid {s['sid']} (was {sys.argv[2]})"
assert s["mode"] == "unauthenticated" and s["control_peer"] == "192.0.2.2", s
assert s["tx_packets"] > 0, s
print(f"sid {s['sid']}, {s['rx_packets']} received, {s['tx_packets']} reflected")
PY
	); then
		xt_ok "xtwamp sessions after the restart: orphaned, $res"
	else
		xt_fail "xtwamp sessions after the restart: $res"
		xt_indent "$sj"
	fi
	wait "$ping_pid"
	rc=$?
	replies=$(grep -cE '^[0-9]+,' "$out")
	if ((replies == NCOUNT && rc == 0)); then
		xt_ok "full TWAMP sender saw no loss across kill -9 + restart ($replies/$NCOUNT, exit $rc)"
	else
		xt_fail "full TWAMP sender: $replies/$NCOUNT replies, exit $rc"
		xt_indent "$out" 8
		xt_indent "$out.err" 8
	fi
	if grep -q 'closed the TWAMP-Control connection during the test' "$out.err"; then
		xt_ok "the client warned that the control connection closed"
	else
		xt_fail "no warning about the lost control connection"
		xt_indent "$out.err" 8
	fi
	port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sessions"][0]["reflector"].rsplit(":",1)[1])' "$sj" 2>/dev/null)
	# the dead daemon's socket that kept the port from other programs is renewed
	if [[ -n $port ]] && xt_in_r ss -Hulpn "sport = :$port" | grep -q xtwampd; then
		xt_ok "the adopted session's port $port is reserved again by the new xtwampd"
	else
		xt_fail "port ${port:-?} of the adopted session not reserved"
		xt_in_r ss -Hulpn | sed 's/^/       | /'
	fi
	# nothing more arrives: --refwait 2 ends the orphan, its port loses the session flag
	for ((i = 0; i < 60; i++)); do
		grep -q 'the last adopted session ended' "$XT_DAEMON_LOG" && break
		sleep 0.1
	done
	sleep 1.2 # the state file and the map after the sweep
	sj=$XT_WORK/sessions-end.json
	timeout 10 "$XTWAMP" sessions --json --pin-path "$PIN_DIR" >"$sj" 2>&1
	if grep -q 'ended (--refwait idle)' "$XT_DAEMON_LOG" && grep -q '"sessions": \[\]' "$sj"; then
		xt_ok "the orphan ended after --refwait: $(grep -o 'adopted session .*' "$XT_DAEMON_LOG" | head -n 1)"
	else
		xt_fail "the orphan did not end cleanly"
		xt_indent "$sj"
		xt_indent "$XT_DAEMON_LOG" 10
	fi
	flags=
	if [[ -n $port ]]; then
		flags=$(bpftool -j map lookup pinned "$PIN_DIR/xtwamp_ports" key $((port & 255)) $((port >> 8)) 0 0 2>&1 |
			python3 -c 'import json,sys; print(int(json.load(sys.stdin)["value"][0],0))' 2>&1)
	fi
	if [[ $flags == 0 ]] && ! xt_in_r ss -Hulpn "sport = :$port" | grep -q xtwampd; then
		xt_ok "session port $port: flag cleared in xtwamp_ports, reservation closed"
	else
		xt_fail "session port ${port:-?}: flags '$flags' after the orphan ended"
	fi
	xt_stats_json "$XT_WORK/orphan-stats.json"
	if grep -q '"sessions_orphaned"' "$XT_WORK/orphan-stats.json"; then
		xt_ok "stats --json carries the sessions_orphaned gauge"
	else
		xt_fail "no sessions_orphaned gauge in stats --json"
	fi
	xt_stop_daemon
fi

# A planned restart (upgrade): SIGUSR2 exits with status 75 leaving the
# link and the pins; the next xtwampd adopts them; a light sender and a
# negotiated session running across it lose nothing.
xt_section "SIGUSR2: exit for an upgrade, the next xtwampd adopts"
if xt_start_daemon native --rx-timestamp sw --refwait 5; then
	lout=$XT_WORK/ping-usr2-light.out
	tout=$XT_WORK/ping-usr2-twamp.out
	xt_in_s "$XTWAMP" ping --light "$ADDR4_R" -c "$COUNT" -i 0.01 --raw >"$lout" 2>&1 &
	lpid=$!
	xt_in_s "$XTWAMP" ping "$ADDR4_R" -c "$COUNT" -i 0.01 --raw >"$tout" 2>"$tout.err" &
	tpid=$!
	sid=$(session_sid "$XT_WORK/sessions-usr2.json")
	sleep 0.5
	kill -USR2 "$XT_DAEMON_PID"
	wait "$XT_DAEMON_PID"
	rc=$?
	XT_DAEMON_PID=
	if ((rc == 75)) && grep -q 'exiting for a restart' "$XT_DAEMON_LOG" &&
		[[ -e $PIN_DIR/link_$IF_R ]]; then
		xt_ok "SIGUSR2: exit status 75, link and maps left pinned"
	else
		xt_fail "SIGUSR2: exit status $rc"
		xt_indent "$XT_DAEMON_LOG" 8
	fi
	xt_check_attached native
	xt_start_daemon native --rx-timestamp sw --refwait 5
	if kill -0 "$lpid" 2>/dev/null && grep -q 'adopted the pinned XDP link' "$XT_DAEMON_LOG" &&
		grep -q 'adopted 1 negotiated sessions' "$XT_DAEMON_LOG"; then
		xt_ok "the next xtwampd adopted the link and the session while the senders ran"
	else
		xt_fail "no adoption after SIGUSR2 (or the senders had finished)"
		xt_indent "$XT_DAEMON_LOG" 8
	fi
	sleep 1.2
	if timeout 10 "$XTWAMP" sessions --json --pin-path "$PIN_DIR" >"$XT_WORK/s-usr2.json" 2>&1 &&
		[[ -n $sid ]] && grep -q "\"sid\": \"$sid\", \"mode\": \"unauthenticated\", \"path\": \"xdp\", \"state\": \"orphaned\"" "$XT_WORK/s-usr2.json"; then
		xt_ok "xtwamp sessions: $sid orphaned, named from the state file written at SIGUSR2"
	else
		xt_fail "session after SIGUSR2 (sid '$sid')"
		xt_indent "$XT_WORK/s-usr2.json"
	fi
	wait "$lpid"
	lrc=$?
	wait "$tpid"
	trc=$?
	nl=$(grep -cE '^[0-9]+,' "$lout")
	nt=$(grep -cE '^[0-9]+,' "$tout")
	if ((nl == COUNT && nt == COUNT && lrc == 0 && trc == 0)); then
		xt_ok "no loss across SIGUSR2 + restart: light $nl/$COUNT, full TWAMP $nt/$COUNT"
	else
		xt_fail "across SIGUSR2: light $nl/$COUNT (exit $lrc), full TWAMP $nt/$COUNT (exit $trc)"
		xt_indent "$lout" 8
		xt_indent "$tout" 8
	fi
	xt_stop_daemon
fi

xt_section "--config and SIGHUP reload"
cfg=$XT_WORK/xtwampd.conf
cat >"$cfg" <<CONF
# test configuration
[reflector]
allow = 198.51.100.0/24
rate-limit = 0
[control]
max-sessions = 100
CONF
if xt_start_daemon generic --config "$cfg"; then
	n=$(xt_count_replies "$XT_WORK/denied.out" --light "$ADDR4_R" -c 3 -i 0.01 -W 0.3)
	((n == 0)) && xt_ok "config allow-list 198.51.100.0/24: 192.0.2.2 not reflected" ||
		xt_fail "config allow-list: $n replies to a source outside it"
	sed -i 's|^allow = .*|allow = 192.0.2.0/24|' "$cfg"
	kill -HUP "$XT_DAEMON_PID"
	for ((i = 0; i < 30; i++)); do
		grep -q 'SIGHUP: reloaded' "$XT_DAEMON_LOG" && break
		sleep 0.1
	done
	grep -q 'SIGHUP: reloaded' "$XT_DAEMON_LOG" && xt_ok "SIGHUP: reloaded" ||
		{ xt_fail "no reload logged"; xt_indent "$XT_DAEMON_LOG" 10; }
	xt_twamp_ping "after SIGHUP, allow 192.0.2.0/24" 5 --ttl 255 -- --light "$ADDR4_R" -c 5 -i 0.01
	echo 'bogus-key = 1' >>"$cfg"
	kill -HUP "$XT_DAEMON_PID"
	sleep 0.5
	grep -q "unknown key 'bogus-key'" "$XT_DAEMON_LOG" && kill -0 "$XT_DAEMON_PID" &&
		xt_ok "SIGHUP with a broken file: error logged, daemon keeps running" ||
		{ xt_fail "broken config on SIGHUP"; xt_indent "$XT_DAEMON_LOG" 10; }
	xt_stop_daemon
fi

# RFC-style "without dropping sessions": a negotiated session runs across a
# SIGHUP that changes the keys, the limits, the rate limit and the
# allow-list (still allowing the sender); every reply arrives, the control
# connection stays, a key added by the reload works, the counters count it.
xt_section "SIGHUP with a live session: keys, limits and allow-list reloaded"
secret=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
keys=$XT_WORK/keys
bob_keys=$XT_WORK/bob-keys
(
	umask 077
	printf 'alice %s\n' "$secret" >"$keys"
	printf 'bob %s\n' "$secret" >"$bob_keys"
)
cfg2=$XT_WORK/live.conf
cat >"$cfg2" <<CONF
[reflector]
allow = 192.0.2.0/24
rate-limit = 1000
[control]
keys = $keys
max-sessions = 100
CONF
LCOUNT=300
if xt_start_daemon generic --rx-timestamp sw --config "$cfg2"; then
	n=$(xt_count_replies "$XT_WORK/bob-before.out" "$ADDR4_R" -A authenticated -u bob -k "$bob_keys" -c 2 -i 0.01)
	((n == 0)) && xt_ok "before the reload the server does not know bob" ||
		xt_fail "bob got $n replies before his key was loaded"
	out=$XT_WORK/ping-live.out
	xt_in_s "$XTWAMP" ping "$ADDR4_R" -c "$LCOUNT" -i 0.01 --raw >"$out" 2>"$out.err" &
	ping_pid=$!
	sj=$XT_WORK/sessions-live.json
	sid=$(session_sid "$sj")
	cat >"$cfg2" <<CONF
[reflector]
allow = 192.0.2.2/32
allow = 198.51.100.0/24
rate-limit = 500
[control]
keys = $keys
max-sessions = 50
CONF
	printf 'bob %s\n' "$secret" >>"$keys"
	kill -HUP "$XT_DAEMON_PID"
	for ((i = 0; i < 30; i++)); do
		grep -q 'SIGHUP: reloaded' "$XT_DAEMON_LOG" && break
		sleep 0.1
	done
	line=$(grep 'SIGHUP: reloaded' "$XT_DAEMON_LOG")
	if [[ $line == *'2 allow-list prefixes (enforced)'* && $line == *'rate limit 500 pps'* &&
		$line == *'50 sessions'* && $line == *'keys re-read'* ]]; then
		xt_ok "SIGHUP mid-session: ${line#*SIGHUP: }"
	else
		xt_fail "SIGHUP mid-session: '$line'"
		xt_indent "$XT_DAEMON_LOG" 10
	fi
	sleep 0.3
	timeout 10 "$XTWAMP" sessions --json --pin-path "$PIN_DIR" >"$sj" 2>&1
	if [[ -n $sid ]] && grep -q "\"sid\": \"$sid\", \"mode\": \"unauthenticated\", \"path\": \"xdp\", \"state\": \"started\"" "$sj"; then
		xt_ok "the session $sid is still started after the reload"
	else
		xt_fail "session after the reload (sid '$sid')"
		xt_indent "$sj"
	fi
	wait "$ping_pid"
	rc=$?
	replies=$(grep -cE '^[0-9]+,' "$out")
	if ((replies == LCOUNT && rc == 0)) && ! grep -q 'TWAMP-Control connection' "$out.err"; then
		xt_ok "the session ran through the SIGHUP: $replies/$LCOUNT replies, control connection kept, exit 0"
	else
		xt_fail "session across SIGHUP: $replies/$LCOUNT replies, exit $rc"
		xt_indent "$out" 6
		xt_indent "$out.err" 6
	fi
	xt_twamp_ping "bob's key, added by the reload, works" 3 --ttl 255 -- \
		"$ADDR4_R" -A authenticated -u bob -k "$bob_keys" -c 3 -i 0.01
	sleep 1.2 # the state file behind the control-plane counters: once a second
	xt_stats_json "$XT_WORK/live-stats.json"
	if res=$(python3 - "$XT_WORK/live-stats.json" <<'PY'
import json, sys
m = {(x["name"], tuple(sorted(x["labels"].items()))): x["value"]
     for x in json.load(open(sys.argv[1]))["daemon"]["metrics"]}
def get(name, **labels):
    return m.get((name, tuple(sorted(labels.items()))), 0)
acc = get("sessions_accepted_total", mode="unauthenticated")
auth = get("sessions_accepted_total", mode="authenticated")
stopped = get("sessions_removed_total", reason="stopped")
assert acc >= 1 and auth >= 1, f"accepted unauthenticated {acc}, authenticated {auth}"
print(f"sessions_accepted_total unauthenticated {acc}, authenticated {auth}, removed/stopped {stopped}")
PY
	); then
		xt_ok "counted: $res"
	else
		xt_fail "session counters after the reload: $res"
	fi
	xt_stop_daemon
fi

# The systemd unit's capabilities: xtwampd under exactly its bounding set
# starts, reflects TWAMP Light and an authenticated session over AF_XDP,
# adopts after kill -9 and cleans up on SIGTERM; without any one of them
# something named fails.  (The unit's LimitMEMLOCK=infinity cannot be
# mirrored without CAP_SYS_RESOURCE; one queue's UMEM, 1 MiB, fits the
# usual 8 MiB.)
xt_section "the systemd unit's capabilities: enough, and each one needed"
UNIT_CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' "$XT_ROOT/packaging/systemd/xtwampd.service.in")
(
	umask 077
	printf 'alice %s\n' "$secret" >"$XT_WORK/alice-keys"
)
# start_capped LABEL CAP...: xtwampd (generic, sw timestamps, --keys) in
# the reflector namespace with only CAP...; 0 when ready, 1 when it exited.
start_capped() {
	local label=$1 set=-all c i
	shift
	for c in "$@"; do
		c=${c#CAP_}
		set+=",+${c,,}"
	done
	XT_DAEMON_LOG=$XT_WORK/xtwampd-caps-$label.log
	nsenter --net="/run/netns/$NS_R" setpriv --bounding-set "$set" --inh-caps -all \
		"$XTWAMPD" --iface "$IF_R" --xdp-mode generic --rx-timestamp sw --pin-path "$PIN_DIR" \
		--keys "$XT_WORK/alice-keys" >"$XT_DAEMON_LOG" 2>&1 </dev/null &
	XT_DAEMON_PID=$!
	for ((i = 0; i < XT_READY_TIMEOUT * 10; i++)); do
		grep -qw ready "$XT_DAEMON_LOG" 2>/dev/null && return 0
		kill -0 "$XT_DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	xt_stop_daemon quiet
	return 1
}
# shellcheck disable=SC2086 # the list splits into capabilities on purpose
if start_capped unit $UNIT_CAPS; then
	xt_ok "xtwampd ready with only the unit's capabilities: $UNIT_CAPS"
	grep -q 'via AF_XDP' "$XT_DAEMON_LOG" && xt_ok "AF_XDP path up under them" ||
		{ xt_fail "no AF_XDP under the unit's capabilities"; xt_indent "$XT_DAEMON_LOG" 10; }
	xt_twamp_ping "TWAMP Light under the unit's capabilities" 20 --ttl 255 -- \
		--light "$ADDR4_R" -c 20 -i 0.01
	xt_twamp_ping "authenticated session under the unit's capabilities" 5 --ttl 255 -- \
		"$ADDR4_R" -A authenticated -u alice -k "$XT_WORK/alice-keys" -c 5 -i 0.01
	crash_daemon
	# shellcheck disable=SC2086
	if start_capped unit-restart $UNIT_CAPS && grep -q 'adopted the pinned XDP link' "$XT_DAEMON_LOG"; then
		xt_ok "kill -9 and restart under the unit's capabilities: link adopted"
	else
		xt_fail "restart under the unit's capabilities"
		xt_indent "$XT_DAEMON_LOG" 10
	fi
	xt_twamp_ping "TWAMP Light after the capped restart" 20 --ttl 255 -- \
		--light "$ADDR4_R" -c 20 -i 0.01
	xt_stop_daemon
else
	xt_fail "xtwampd with only the unit's capabilities ($UNIT_CAPS)"
	xt_indent "$XT_DAEMON_LOG" 10
fi
for drop in $UNIT_CAPS; do
	keep=()
	for c in $UNIT_CAPS; do
		[[ $c == "$drop" ]] || keep+=("$c")
	done
	if start_capped "no-$drop" "${keep[@]}"; then
		if grep -q 'AF_XDP unavailable' "$XT_DAEMON_LOG"; then
			xt_ok "without $drop: $(grep -o 'AF_XDP unavailable[^;]*' "$XT_DAEMON_LOG" | head -n 1)"
		else
			xt_fail "without $drop xtwampd runs as well: not needed?"
			xt_indent "$XT_DAEMON_LOG" 6
		fi
		xt_stop_daemon quiet
	elif why=$(grep -m 1 'error:' "$XT_DAEMON_LOG"); then
		xt_ok "without $drop: ${why#xtwampd: error: }"
	else
		xt_fail "without $drop xtwampd did not start, and said nothing"
		xt_indent "$XT_DAEMON_LOG" 6
	fi
done

xt_finish
