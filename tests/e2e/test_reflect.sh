#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# test_reflect.sh - TWAMP Light and STAMP test packets are reflected in XDP,
# in native and generic mode, over IPv4 and IPv6.
#
# For each mode: start xtwampd on veth-r (TWAMP Light on 862, STAMP on 863),
# send with `xtwamp ping --raw` from the other namespace, and check every
# reply: count, t1 <= t2 <= t3 <= t4 (both namespaces share one clock),
# Sender TTL 255 (the client sends with 255, no router in between),
# reflector sequence 0..N-1 (stateful default), reply length = request
# length.  tshark, when installed, decodes the capture independently.  The
# counters must account for the replies, and SIGTERM must leave no pins and
# no XDP program behind.
#
# Modes to run: XT_MODES="native generic" (default).

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

xt_init

COUNT=20
for mode in ${XT_MODES:-native generic}; do
	xt_section "$mode mode"
	XT_REPLIES_TOTAL=0
	xt_start_daemon "$mode" --light-port 862 --stamp-port 863 || continue
	xt_check_attached "$mode"

	capturing=
	if xt_have_tshark; then
		xt_capture_start "$XT_WORK/$mode.pcapng" && capturing=1
	else
		xt_log "tshark not installed: skipping the independent decode"
	fi

	# Request lengths (UDP payload): TWAMP 14 + padding (default 27), STAMP 44.
	xt_twamp_ping "TWAMP Light IPv4" $COUNT --ttl 255 --length 41 -- \
		--light "$ADDR4_R" -c $COUNT -i 0.01
	xt_twamp_ping "TWAMP Light IPv6" $COUNT --ttl 255 --length 41 -- \
		--light "[$ADDR6_R]" -c $COUNT -i 0.01
	xt_twamp_ping "TWAMP Light IPv4, 100 octets of padding" 5 --ttl 255 --length 114 -- \
		--light "$ADDR4_R" -c 5 -i 0.01 -s 100
	xt_twamp_ping "STAMP IPv4 (port 863)" $COUNT --ttl 255 --length 44 -- \
		--light "$ADDR4_R:863" --stamp -c $COUNT -i 0.01
	xt_twamp_ping "STAMP IPv6 (port 863)" $COUNT --ttl 255 --length 44 -- \
		--light "[$ADDR6_R]:863" --stamp -c $COUNT -i 0.01

	if [[ -n $capturing ]]; then
		if xt_capture_stop; then
			xt_tshark_check "$XT_WORK/$mode.pcapng" "$XT_REPLIES_TOTAL"
		else
			xt_fail "tshark wrote no capture"
			xt_indent "$XT_WORK/$mode.pcapng.log"
		fi
	fi

	xt_check_counters "$XT_REPLIES_TOTAL"
	xt_stop_daemon
	if [[ $mode == native ]]; then
		xt_sender_stub off
	fi
done

xt_finish
