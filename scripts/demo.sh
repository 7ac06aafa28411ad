#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# demo.sh - show xtwamp reflecting TWAMP Light test packets in XDP
# (`make demo`, as root, after scripts/deps.sh and make).
#
# Builds two network namespaces joined by a veth pair (documentation
# addresses only: 192.0.2.0/24 and 2001:db8::/64, nothing leaves the pair),
# runs xtwampd on one end and `xtwamp ping --light` on the other, prints the
# reflector's counters, and removes everything on exit.

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
# sender CMD...: show and run a command in the sender's namespace.
sender() {
	printf '[%s]$ %s\n' "$NS_S" "${*#"$XT_ROOT"/}"
	xt_in_s "$@"
}

# start MODE: start xtwampd on veth-r, wait for "ready"; 0 on success.
start() {
	local mode=$1 i
	XT_DAEMON_LOG=$XT_WORK/xtwampd-$mode.log
	printf '$ nsenter --net=/run/netns/%s %s --iface %s --xdp-mode %s --pin-path %s -v &\n' \
		"$NS_R" "${XTWAMPD#"$XT_ROOT"/}" "$IF_R" "$mode" "$PIN_DIR"
	nsenter --net="/run/netns/$NS_R" "$XTWAMPD" --iface "$IF_R" --xdp-mode "$mode" \
		--pin-path "$PIN_DIR" -v >"$XT_DAEMON_LOG" 2>&1 </dev/null &
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

say "TWAMP Light over IPv4: 10 test packets, one every 0.2 s"
cat <<'EOT'
One line per reply. rtt = (T4-T1) - (T3-T2): the round trip without the
reflector's residence time T3-T2, which the XDP program stamps into the
reply (a few microseconds: it never reaches user space). fwd/bwd are the
one-way delays; they are exact here because both namespaces read the same
clock, whatever the "unsynchronised" warning says. ttl=255/255 is our TTL
as the reflector saw it / the reply's: no router in between.
EOT
sender "$XTWAMP" ping --light "$ADDR4_R" -c 10 -i 0.2

say "TWAMP Light over IPv6"
sender "$XTWAMP" ping --light "[$ADDR6_R]" -c 10 -i 0.2

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
echo
echo "Done. To run it on a real interface: sudo build/xtwampd --iface eth0 (see README.md)."
