#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# test_control.sh - full TWAMP: `xtwamp ping` negotiates sessions with
# xtwampd's TWAMP-Control server (TCP 862) and the negotiated sessions are
# reflected, unauthenticated and mixed ones in XDP, authenticated and
# encrypted ones in user space (AF_XDP).
#
# For each XDP mode: a session in each security mode over IPv4 and IPv6
# (every reply checked: count, T1 <= T2 <= T3 <= T4, Sender TTL 255, length,
# reflector sequence 0..N-1); three sessions on one connection and, where
# offered, the same with Start-N/Stop-N (RFC 5938); the counters of the path
# that served them; the Type-P DSCP on the replies of both paths (tshark);
# an empty session table once the sessions' Timeout has passed; tshark's
# TWAMP-Control decoder on the control connection.  Then,
# once: the refusals (a wrong secret, a mode the server does not offer, a
# session over --max-sessions-per-connection, each with its reason and a
# non-zero exit), the session Timeout after Stop-Sessions (packets in
# transit are reflected for Timeout, none later; twamp_stop_probe.py is a
# separate client that keeps sending after Stop-Sessions) and REFWAIT (a
# session that stops sending disappears while its control connection stays
# open).
#
# Modes to run: XT_MODES="native generic" (default).

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

xt_init

# Not `--help | grep -q`: under pipefail grep's early exit SIGPIPEs the
# daemon and the pipeline fails even when the option is there.
help=$("$XTWAMPD" --help 2>&1)
[[ $help == *--keys* ]] ||
	xt_skip "this xtwampd has no TWAMP-Control server (no --keys option)"

COUNT=10
SECRET=0123456789abcdef0123456789abcdef
KEYS=$XT_WORK/keys
CLIENT_KEYS=$XT_WORK/client-keys
WRONG_KEYS=$XT_WORK/wrong-keys
(
	umask 077
	printf '# test keys\nalice %s\n' "$SECRET" >"$KEYS"
	printf 'alice %s\n' "$SECRET" >"$CLIENT_KEYS"
	printf 'alice 00112233445566778899aabbccddeeff\n' >"$WRONG_KEYS"
)

# ping_args MODE: the -A/-u/-k arguments of a security mode.
ping_args() {
	case $1 in
	unauthenticated) echo "-A unauthenticated" ;;
	*) echo "-A $1 -u alice -k $CLIENT_KEYS" ;;
	esac
}

# reply_len MODE: request = reply length with ping's default padding.
reply_len() {
	case $1 in
	authenticated | encrypted) echo 112 ;;
	*) echo 41 ;;
	esac
}

# sessions_now: the "sessions" field of xtwamp stats --json ("" if unreadable).
sessions_now() {
	local f=$XT_WORK/stats.sessions.json
	xt_stats_json "$f" || return 1
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("sessions", ""))' "$f"
}

# wait_sessions N SECONDS: poll until the session table holds N entries.
wait_sessions() {
	local want=$1 limit=$2 i got=
	for ((i = 0; i < limit * 10; i++)); do
		got=$(sessions_now)
		[[ $got == "$want" ]] && { echo "$got"; return 0; }
		sleep 0.1
	done
	echo "$got"
	return 1
}

# check_sessions WHAT N COUNT LEN FILE: a --raw run of N sessions, each checked on its own.
check_sessions() {
	local what=$1 n=$2 count=$3 len=$4 out=$5 s res ok=1 msgs=
	for ((s = 1; s <= n; s++)); do
		# the header, then this session's rows (the last column is the session)
		awk -F, -v s="$s" 'NR == 1 || /^seq,/ { print; next } $NF == s' "$out" \
			>"$out.s$s"
		if res=$(python3 "$XT_E2E/xt_check.py" csv "$out.s$s" --count "$count" \
			--ttl 255 --length "$len" 2>&1); then
			msgs+="session $s: ${res%%$'\n'*}"$'\n'
		else
			ok=0
			msgs+="session $s: $res"$'\n'
		fi
	done
	if ((ok)); then
		xt_ok "$what: $n sessions of $count replies each, all checks passed"
	else
		xt_fail "$what"
		xt_quote '>' "${msgs%$'\n'}"
		xt_indent "$out" 30
	fi
}

# check_refused WHAT NEEDLE OUT RC: a run that must fail with NEEDLE on its last line.
check_refused() {
	local what=$1 needle=$2 out=$3 rc=$4 last
	last=$(grep -E 'xtwamp: error' "$out" | tail -n 1)
	if ((rc != 0)) && [[ $last == *"$needle"* ]]; then
		xt_ok "$what: exit $rc, '${last#xtwamp: error: }'"
	else
		xt_fail "$what: exit $rc, wanted non-zero and '$needle'"
		xt_indent "$out" 20
	fi
}

# counter NAME: a counter from a fresh stats --json (empty if absent).
counter() {
	local f=$XT_WORK/stats.counters.json
	xt_stats_json "$f" || return 1
	xt_counter "$f" "$1"
}

# The control connection as tshark's TWAMP-Control dissector sees it.
check_control_capture() {
	local cap=$1 fields=$XT_WORK/ctl.fields malformed cmds
	local opts=(-n -r "$cap" -d 'tcp.port==862,twamp.control')
	malformed=$(tshark "${opts[@]}" -Y '_ws.malformed || _ws.expert.severity >= error' \
		-T fields -e frame.number -e _ws.expert.message 2>/dev/null)
	if [[ -z $malformed ]]; then
		xt_ok "tshark: TWAMP-Control decoded without malformed packets or expert errors"
	else
		xt_fail "tshark: malformed TWAMP-Control packets:"
		xt_quote '|' "$(head -n 20 <<<"$malformed")"
	fi
	tshark "${opts[@]}" -Y twamp.control -T fields -e twamp.control.command \
		-e twamp.control.mode -e twamp.control.padding_length \
		-e twamp.control.numsessions >"$fields" 2>/dev/null
	cmds=$(awk -F'\t' '$1 != "" { printf "%s ", $1 }' "$fields")
	# Request-TW-Session x3 (5), Start-Sessions (2), Stop-Sessions (3) with N = 3
	if [[ $cmds == "5 5 5 2 3 " ]] && grep -qP '^\t1\t' "$fields" &&
		grep -qP '^5\t\t27\t' "$fields" && grep -qP '^3\t\t\t3$' "$fields"; then
		xt_ok "tshark: Mode 1, 3 x Request-TW-Session (padding 27), Start, Stop-Sessions N=3"
	else
		xt_fail "tshark: commands '$cmds', expected '5 5 5 2 3 ' with Mode 1, padding 27, N 3"
		xt_indent "$fields"
	fi
}

# ---- per XDP mode: every security mode, both families, concurrency ------

for mode in ${XT_MODES:-native generic}; do
	xt_section "$mode mode"
	xt_start_daemon "$mode" --keys "$KEYS" --max-sessions-per-connection 8 || continue
	xdp_replies=0
	user_replies=0
	redirected_before=$(counter redirected_userspace_total 2>/dev/null) || redirected_before=0
	for sec in unauthenticated authenticated encrypted mixed; do
		len=$(reply_len "$sec")
		# shellcheck disable=SC2046 # word splitting of ping_args intended
		xt_twamp_ping "$sec IPv4" $COUNT --ttl 255 --length "$len" -- \
			"$ADDR4_R" $(ping_args "$sec") -c $COUNT -i 0.01 --session-timeout 1
		r4=$XT_REPLIES
		# shellcheck disable=SC2046
		xt_twamp_ping "$sec IPv6" $COUNT --ttl 255 --length "$len" -- \
			"[$ADDR6_R]" $(ping_args "$sec") -c $COUNT -i 0.01 --session-timeout 1
		case $sec in
		authenticated | encrypted) user_replies=$((user_replies + r4 + XT_REPLIES)) ;;
		*) xdp_replies=$((xdp_replies + r4 + XT_REPLIES)) ;;
		esac
	done

	# Three sessions in parallel on one connection, with tshark on the control connection.
	capturing=
	if xt_have_tshark; then
		cap=$XT_WORK/control-$mode.pcapng
		nsenter --net="/run/netns/$NS_S" tshark -q -n -i "$IF_S" -f 'tcp port 862' \
			-w "$cap" -a duration:60 >"$cap.log" 2>&1 </dev/null &
		XT_TSHARK_PID=$!
		for ((i = 0; i < 100; i++)); do
			grep -q "Capturing on" "$cap.log" && { sleep 0.5; capturing=1; break; }
			sleep 0.1
		done
		[[ -n $capturing ]] || xt_log "tshark did not start: no decode of the control connection"
	fi
	out=$XT_WORK/sessions3-$mode.out
	xt_in_s "$XTWAMP" ping "$ADDR4_R" --sessions 3 -c $COUNT -i 0.01 --session-timeout 1 \
		--raw >"$out" 2>&1
	rc=$?
	if ((rc == 0)); then
		check_sessions "3 sessions on one connection, unauthenticated" 3 $COUNT 41 "$out"
		xdp_replies=$((xdp_replies + $(grep -cE '^[0-9]+,' "$out")))
	else
		xt_fail "3 sessions on one connection: exit $rc"
		xt_indent "$out" 30
	fi
	if [[ -n $capturing ]]; then
		sleep 0.3
		kill -INT "$XT_TSHARK_PID" 2>/dev/null
		wait "$XT_TSHARK_PID" 2>/dev/null
		XT_TSHARK_PID=
		check_control_capture "$cap"
	fi

	out=$XT_WORK/sessions3e-$mode.out
	xt_in_s "$XTWAMP" ping "[$ADDR6_R]" --sessions 3 -c $COUNT -i 0.01 --session-timeout 1 \
		-A encrypted -u alice -k "$CLIENT_KEYS" --raw >"$out" 2>&1
	rc=$?
	if ((rc == 0)); then
		check_sessions "3 encrypted sessions on one connection, IPv6" 3 $COUNT 112 "$out"
		user_replies=$((user_replies + $(grep -cE '^[0-9]+,' "$out")))
	else
		xt_fail "3 encrypted sessions on one connection, IPv6: exit $rc"
		xt_indent "$out" 30
	fi

	# Type-P: the reflector answers with the DSCP the request asked for (RFC
	# 5357 §3.5), on both paths.
	if xt_have_tshark && xt_capture_start "$XT_WORK/dscp-$mode.pcapng"; then
		xt_twamp_ping "DSCP 46 (EF) in Type-P, unauthenticated IPv4" 5 --ttl 255 \
			--length 41 -- "$ADDR4_R" -D 46 -c 5 -i 0.01 --session-timeout 1
		xdp_replies=$((xdp_replies + XT_REPLIES))
		xt_twamp_ping "DSCP 10 (AF11) in Type-P, encrypted IPv6" 5 --ttl 255 \
			--length 112 -- "[$ADDR6_R]" -D 10 -c 5 -i 0.01 --session-timeout 1 \
			-A encrypted -u alice -k "$CLIENT_KEYS"
		user_replies=$((user_replies + XT_REPLIES))
		if xt_capture_stop; then
			dscps=$(tshark -n -r "$XT_WORK/dscp-$mode.pcapng" -Y "ip.src == $ADDR4_R && udp" \
				-T fields -e ip.dsfield.dscp 2>/dev/null | sort | uniq -c | xargs)
			dscps6=$(tshark -n -r "$XT_WORK/dscp-$mode.pcapng" \
				-Y "ipv6.src == $ADDR6_R && udp" -T fields -e ipv6.tclass.dscp \
				2>/dev/null | sort | uniq -c | xargs)
			if [[ $dscps =~ ^[0-9]+\ 46$ && $dscps6 =~ ^[0-9]+\ 10$ ]]; then
				xt_ok "tshark: replies carry the DSCP asked for (IPv4 XDP: $dscps; IPv6 user space: $dscps6)"
			else
				xt_fail "tshark: reply DSCPs IPv4 '$dscps' (want 46), IPv6 '$dscps6' (want 10)"
			fi
		fi
	fi

	# RFC 5938 Start-N/Stop-N, when the server offers it.
	out=$XT_WORK/individual-$mode.out
	xt_in_s "$XTWAMP" ping "$ADDR4_R" --sessions 2 --individual -c $COUNT -i 0.01 \
		--session-timeout 1 --raw >"$out" 2>&1
	rc=$?
	if ((rc == 0)); then
		check_sessions "2 sessions with Start-N/Stop-N (RFC 5938)" 2 $COUNT 41 "$out"
		xdp_replies=$((xdp_replies + $(grep -cE '^[0-9]+,' "$out")))
	elif grep -q 'does not offer Individual Session Control' "$out"; then
		xt_log "xtwampd does not offer Individual Session Control: Start-N/Stop-N not tested"
	else
		xt_fail "2 sessions with Start-N/Stop-N: exit $rc"
		xt_indent "$out" 30
	fi

	# Which path served them: XDP for unauthenticated/mixed, user space for the keyed modes.
	xt_check_counters "$xdp_replies"
	if redirected=$(counter redirected_userspace_total); then
		if ((redirected - redirected_before >= user_replies)); then
			xt_ok "stats: redirected_userspace_total grew by $((redirected - redirected_before)) >= $user_replies authenticated/encrypted replies"
		else
			xt_fail "stats: redirected_userspace_total grew by $((redirected - redirected_before)), fewer than the $user_replies authenticated/encrypted replies"
		fi
	else
		xt_fail "stats: no redirected_userspace_total counter: $redirected"
	fi

	# Teardown: Stop-Sessions + Timeout (1 s) later, the session table is empty.
	if got=$(wait_sessions 0 5); then
		xt_ok "stats: \"sessions\": 0 once the clients are done and the Timeout passed"
	else
		xt_fail "stats: \"sessions\": '$got' 5 s after the last client, expected 0"
		xt_indent "$XT_DAEMON_LOG" 20
	fi
	xt_stop_daemon
	[[ $mode == native ]] && xt_sender_stub off
done

# ---- refusals and limits (generic mode: the control path is the same) ---

xt_section "refusals"
if xt_start_daemon generic --keys "$KEYS" --max-sessions-per-connection 2; then
	out=$XT_WORK/wrong-secret.out
	xt_in_s "$XTWAMP" ping "$ADDR4_R" -A encrypted -u alice -k "$WRONG_KEYS" -c 1 >"$out" 2>&1
	check_refused "wrong secret" "authentication failed" "$out" $?

	out=$XT_WORK/unknown-id.out
	printf 'mallory %s\n' "$SECRET" >"$XT_WORK/mallory-keys"
	chmod 600 "$XT_WORK/mallory-keys"
	xt_in_s "$XTWAMP" ping "$ADDR4_R" -A authenticated -u mallory -k "$XT_WORK/mallory-keys" \
		-c 1 >"$out" 2>&1
	check_refused "unknown identity" "authentication failed" "$out" $?

	out=$XT_WORK/limit.out
	xt_in_s "$XTWAMP" ping "$ADDR4_R" --sessions 3 -c 1 >"$out" 2>&1
	rc=$?
	check_refused "--sessions 3 over --max-sessions-per-connection 2" \
		"Request-TW-Session 3 of 3: session refused: Accept" "$out" $rc
	if got=$(wait_sessions 0 5); then
		xt_ok "stats: \"sessions\": 0 after the refused run (accepted sessions torn down)"
	else
		xt_fail "stats: \"sessions\": '$got' after the refused run, expected 0"
	fi
	# two are fine
	out=$XT_WORK/limit2.out
	xt_in_s "$XTWAMP" ping "$ADDR4_R" --sessions 2 -c 3 -i 0.01 --session-timeout 1 \
		--raw >"$out" 2>&1
	rc=$?
	if ((rc == 0)); then
		check_sessions "--sessions 2 within --max-sessions-per-connection 2" 2 3 41 "$out"
	else
		xt_fail "--sessions 2 within --max-sessions-per-connection 2: exit $rc"
		xt_indent "$out" 20
	fi
	xt_stop_daemon
fi

if xt_start_daemon generic --modes unauthenticated; then
	out=$XT_WORK/mode-refused.out
	xt_in_s "$XTWAMP" ping "$ADDR4_R" -A encrypted,authenticated -u alice -k "$CLIENT_KEYS" \
		-c 1 >"$out" 2>&1
	check_refused "a mode the server does not offer" "server refused the mode" "$out" $?
	xt_stop_daemon
fi

# ---- Timeout after Stop-Sessions (RFC 5357 §3.5) -------------------------

# stop_probe WHAT [ARGS]: packets after Stop-Sessions are reflected for the
# session's Timeout (2 s) and not after (tests/e2e/twamp_stop_probe.py).
stop_probe() {
	local what=$1 res
	shift
	res=$(xt_in_s python3 "$XT_E2E/twamp_stop_probe.py" "$ADDR4_R" --timeout 2 "$@" 2>&1)
	if [[ $res =~ ^before=1/1\ within=([0-9]+)/([0-9]+)\ after=0/[0-9]+$ ]] &&
		((BASH_REMATCH[1] == BASH_REMATCH[2] && BASH_REMATCH[2] > 0)); then
		xt_ok "Stop-Sessions, $what: reflected within the Timeout, not after ($res)"
	else
		xt_fail "Stop-Sessions, $what: $res; want all reflected within the Timeout, none after"
	fi
}

xt_section "Timeout after Stop-Sessions"
# TWAMP Light elsewhere, so that UDP 862 carries the negotiated session only
if xt_start_daemon generic --light-port 8620; then
	stop_probe "control connection kept open"
	# clients usually close right after Stop-Sessions: the session outlives it
	stop_probe "control connection closed right after it" --close
	xt_stop_daemon
fi
# the default: TWAMP Light on UDP 862, so a session asking for 862 is given
# another port, and its late packets cannot be answered as TWAMP Light
if xt_start_daemon generic; then
	stop_probe "session that asked for UDP 862, the TWAMP Light port"
	xt_stop_daemon
fi

# ---- REFWAIT: a session that stops sending ends, its connection stays --

xt_section "REFWAIT"
if xt_start_daemon generic --refwait 2; then
	out=$XT_WORK/refwait.out
	# packet 0 at once, packet 1 after 7 s: in between the client sends
	# nothing and keeps the control connection open
	xt_in_s "$XTWAMP" ping "$ADDR4_R" -c 2 -i 7 -W 1 --session-timeout 1 --test-port 8630 \
		--raw >"$out" 2>&1 &
	ping_pid=$!
	if got=$(wait_sessions 1 3); then
		xt_ok "REFWAIT: the session is in the table while packets come"
	else
		xt_fail "REFWAIT: sessions '$got' after start, expected 1"
	fi
	start=$SECONDS
	if got=$(wait_sessions 0 5); then
		xt_ok "REFWAIT 2 s: the idle session left the table after $((SECONDS - start)) s or less"
	else
		xt_fail "REFWAIT 2 s: sessions still '$got' 5 s after the last packet"
		xt_indent "$XT_DAEMON_LOG" 20
	fi
	if kill -0 "$ping_pid" 2>/dev/null; then
		xt_ok "REFWAIT: the client (and its control connection) is still there"
	else
		xt_fail "REFWAIT: the client ended early"
		xt_indent "$out"
	fi
	wait "$ping_pid"
	n=$(grep -cE '^[0-9]+,' "$out")
	if ((n == 1)); then
		xt_ok "REFWAIT: the packet after the expiry was not reflected (1 reply of 2)"
	else
		xt_fail "REFWAIT: $n replies, expected 1 (the second packet came after REFWAIT)"
		xt_indent "$out"
	fi
	xt_stop_daemon
fi

xt_finish
