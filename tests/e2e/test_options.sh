#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# test_options.sh - xtwampd's data-path options, end to end: --stateless
# (reflector sequence = sender sequence), --allow (only listed senders are
# answered; the others are counted), --rate-limit (a sender over its rate is
# cut and counted).  Native mode by default (XT_MODES to change).

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

xt_init

counter() { # counter NAME: print a counter of the running daemon
	xt_stats_json "$XT_WORK/opt.json" && xt_counter "$XT_WORK/opt.json" "$1"
}

for mode in ${XT_MODES:-native}; do
	xt_section "$mode mode: --stateless"
	if xt_start_daemon "$mode" --stateless; then
		xt_twamp_ping "stateless TWAMP Light IPv4: rseq = seq" 20 --stateless --ttl 255 -- \
			--light "$ADDR4_R" -c 20 -i 0.01
		xt_twamp_ping "stateless TWAMP Light IPv6: rseq = seq" 20 --stateless --ttl 255 -- \
			--light "[$ADDR6_R]" -c 20 -i 0.01
		xt_stop_daemon
	fi

	xt_section "$mode mode: --allow"
	if xt_start_daemon "$mode" --allow 198.51.100.0/24 --allow 2001:db8::2/128; then
		n=$(xt_count_replies "$XT_WORK/allow4.out" --light "$ADDR4_R" -c 5 -i 0.01)
		d=$(counter drop_not_allowed_total)
		if ((n == 0)) && [[ $d == 5 ]]; then
			xt_ok "IPv4 sender outside the allow-list: 0 replies, drop_not_allowed_total $d"
		else
			xt_fail "IPv4 sender outside the allow-list: $n replies (want 0), drop_not_allowed_total '$d' (want 5)"
			xt_indent "$XT_WORK/allow4.out" 10
		fi
		xt_twamp_ping "IPv6 sender in the allow-list (2001:db8::2/128)" 10 --ttl 255 -- \
			--light "[$ADDR6_R]" -c 10 -i 0.01
		xt_stop_daemon
	fi

	xt_section "$mode mode: --rate-limit"
	if xt_start_daemon "$mode" --rate-limit 10; then
		n=$(xt_count_replies "$XT_WORK/rate.out" --light "$ADDR4_R" -c 100 -i 0.001)
		d=$(counter drop_rate_limited_total)
		if ((n >= 1 && n < 100)) && [[ $d =~ ^[0-9]+$ ]] && ((n + d == 100)); then
			xt_ok "100 requests at ~1000/s against --rate-limit 10: $n replies, drop_rate_limited_total $d"
		else
			xt_fail "100 requests at ~1000/s against --rate-limit 10: $n replies, drop_rate_limited_total '$d' (want 1..99 replies, replies + drops = 100)"
			xt_indent "$XT_WORK/rate.out" 10
		fi
		xt_stop_daemon
	fi
	if [[ $mode == native ]]; then
		xt_sender_stub off
	fi
done

xt_finish
