#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# demo.sh - show xtwamp measuring through its XDP reflector
# (`make demo`, as root, after scripts/deps.sh and make).
#
# Builds two network namespaces joined by a veth pair (documentation
# addresses only: 192.0.2.0/24 and 2001:db8::/64, nothing leaves the pair),
# runs xtwampd on one end with a key file the demo writes (mode 0600,
# removed afterwards), and from the other end `xtwamp ping`: full TWAMP
# unauthenticated (reflected in XDP), authenticated (reflected through
# AF_XDP in user space, where the HMAC is checked), TWAMP Light, STAMP and
# one --json run; then the reflector's counters.  Everything is removed on
# exit, also on Ctrl-C or SIGTERM.

# The e2e harness has the test bed; reuse it.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/../tests/e2e/lib.sh"

# In a demo a missing prerequisite is an error, not a skipped test.
xt_skip() {
	echo "demo: $*" >&2
	exit 1
}
xt_die() { xt_skip "$@"; }

PIN_DIR=/sys/fs/bpf/xtwamp-demo-$$

if [[ -t 1 ]]; then
	say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi
# show CMD...: the command line as it is run in the sender's namespace.
show() {
	printf '[%s]$ %s\n' "$NS_S" "${*#"$XT_ROOT"/}"
}

# sender CMD...: show and run a command in the sender's namespace; a failure
# ends the demo (with the cleanup).
sender() {
	show "$@"
	xt_in_s "$@" || xt_die "failed (exit $?): ${*#"$XT_ROOT"/}"
}

# start MODE: start xtwampd on veth-r, wait for "ready"; 0 on success.
start() {
	local mode=$1 i
	XT_DAEMON_LOG=$XT_WORK/xtwampd-$mode.log
	printf '$ nsenter --net=/run/netns/%s %s --iface %s --xdp-mode %s --pin-path %s --keys %s --light-port 8620 --stamp-port 863 -v &\n' \
		"$NS_R" "${XTWAMPD#"$XT_ROOT"/}" "$IF_R" "$mode" "$PIN_DIR" "$KEYFILE"
	nsenter --net="/run/netns/$NS_R" "$XTWAMPD" --iface "$IF_R" --xdp-mode "$mode" \
		--pin-path "$PIN_DIR" --keys "$KEYFILE" --light-port 8620 --stamp-port 863 \
		-v >"$XT_DAEMON_LOG" 2>&1 </dev/null &
	XT_DAEMON_PID=$!
	for ((i = 0; i < XT_READY_TIMEOUT * 10; i++)); do
		if grep -qw ready "$XT_DAEMON_LOG"; then
			sed 's/^/  xtwampd| /' "$XT_DAEMON_LOG" | grep -v -i debug | tail -n 8
			return 0
		fi
		kill -0 "$XT_DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "xtwampd did not start in $mode mode:"
	sed 's/^/  xtwampd| /' "$XT_DAEMON_LOG" | tail -n 20
	xt_stop_daemon quiet
	return 1
}

[[ -x $XTWAMPD && -x $XTWAMP ]] || xt_skip "build first: make"
xt_init >/dev/null

# The shared secret of the authenticated run; never left behind.
KEYFILE=$(umask 077 && mktemp /tmp/xtwamp-demo-keys.XXXXXX) || xt_die "mktemp failed"
demo_cleanup() {
	local rc=$?
	rm -f -- "$KEYFILE"
	(exit "$rc")
	xt_cleanup
}
trap demo_cleanup EXIT
trap 'echo "demo: interrupted: stopping xtwampd, removing the namespaces, pins and key file" >&2; exit 130' INT
trap 'echo "demo: terminated: cleaning up" >&2; exit 143' TERM
printf 'demo %s\n' "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" >"$KEYFILE"
chmod 600 "$KEYFILE"

say "Test bed"
cat <<EOT
  namespace $NS_R: $IF_R $ADDR4_R/24 $ADDR6_R/64   <- xtwampd (reflector, XDP)
  namespace $NS_S: $IF_S $ADDR4_S/24 $ADDR6_S/64   <- xtwamp ping (sender)
EOT

say "Starting the reflector"
mode=native
if xt_sender_stub on >/dev/null 2>&1; then
	echo "(an XDP_PASS stub on $IF_S lets native XDP_TX frames into the sender's veth)"
	start native || {
		echo "native mode failed: falling back to generic (skb) mode"
		xt_sender_stub off 2>/dev/null
		mode=generic
		start generic || xt_skip "xtwampd does not start (log above)"
	}
else
	echo "cannot attach the XDP_PASS stub to $IF_S (clang missing?): using generic mode"
	mode=generic
	start generic || xt_skip "xtwampd does not start (log above)"
fi
echo "XDP on $IF_R: $(xt_xdp_attached "$NS_R" "$IF_R") mode"

say "Full TWAMP, unauthenticated: TWAMP-Control on TCP 862, test packets reflected in XDP"
cat <<'EOT'
One line per reply. rtt = (T4-T1) - (T3-T2): the round trip without the
reflector's residence time T3-T2, which the XDP program stamps into the
reply (a few microseconds: it never reaches user space). fwd/bwd are the
one-way delays; they are exact here because both namespaces read the same
clock, whatever the "unsynchronised" warning says. ttl=255/255 is our TTL
as the reflector saw it / the reply's: no router in between.  The summary
gives percentiles from exact values, jitter both as mean |IPDV| (RFC 5481)
and RFC 3550, loss split by direction from the reflector's own sequence
numbers, reordering (RFC 4737), hop counts and the DSCP of the replies.
EOT
sender "$XTWAMP" ping "$ADDR4_R" -c 10 -i 0.1 -D EF

say "Full TWAMP, authenticated (key file $KEYFILE, mode 0600): reflected through AF_XDP"
cat <<'EOT'
Authenticated test packets carry an HMAC the reflector must check, so XDP
hands them to xtwampd over AF_XDP instead of answering itself; the residence
time shows the detour through user space.
EOT
sender "$XTWAMP" ping "$ADDR4_R" -A authenticated -u demo -k "$KEYFILE" -c 10 -i 0.1 -q

say "Full TWAMP, encrypted and mixed: the same key, control connection encrypted"
cat <<'EOT'
Encrypted mode encrypts the test packets too (AF_XDP again); mixed mode
(RFC 5618) encrypts only TWAMP-Control and sends unauthenticated test
packets, which XDP reflects itself.
EOT
sender "$XTWAMP" ping "$ADDR4_R" -A encrypted -u demo -k "$KEYFILE" -c 10 -i 0.05 -q
sender "$XTWAMP" ping "$ADDR4_R" -A mixed -u demo -k "$KEYFILE" -c 10 -i 0.05 -q

say "Full TWAMP over IPv6, 3 parallel sessions, 3000 packets at 1 ms, summary only"
sender "$XTWAMP" ping "[$ADDR6_R]" --sessions 3 -c 1000 -i 0.001 -q

say "TWAMP Light (port 8620) and STAMP (port 863): no control connection"
sender "$XTWAMP" ping --light "$ADDR4_R:8620" -c 5 -i 0.1 -q
sender "$XTWAMP" ping --light "[$ADDR6_R]:863" --stamp --ssid 7 -c 5 -i 0.1 -q

say "The same for scripts: --json (schema in README.md, \"JSON output\")"
show "$XTWAMP" ping --light "$ADDR4_R:8620" -c 20 -i 0.01 --json
xt_in_s "$XTWAMP" ping --light "$ADDR4_R:8620" -c 20 -i 0.01 --json >"$XT_WORK/demo.json" ||
	xt_die "xtwamp ping --json failed (exit $?)"
# one line on the wire; indented here for reading (xt_init checked for python3)
python3 -m json.tool "$XT_WORK/demo.json" || xt_die "xtwamp ping --json printed no valid JSON"


say "Reflector counters (read from the pinned maps under $PIN_DIR)"
cat <<'EOT'
rx_frames_total counts every frame the XDP program saw on the interface
(ARP, neighbour discovery, ...); reflected_total the test packets it
answered with XDP_TX without ever waking up user space.
EOT
printf '$ %s stats --pin-path %s\n' "${XTWAMP#"$XT_ROOT"/}" "$PIN_DIR"
timeout 30 "$XTWAMP" stats --pin-path "$PIN_DIR"

say "Stopping the reflector (SIGTERM: it detaches XDP and removes its pins)"
kill -TERM "$XT_DAEMON_PID"
wait "$XT_DAEMON_PID"
echo "xtwampd exited with status $?; XDP on $IF_R now: $(xt_xdp_attached "$NS_R" "$IF_R")"
XT_DAEMON_PID=
rm -f -- "$KEYFILE"
echo
echo "Done (key file removed). To run it on a real interface: sudo build/xtwampd --iface eth0 (see README.md)."
