#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# test_lifecycle.sh - xtwampd starts, fails and stops cleanly: --help, an
# unknown option and a missing interface exit non-zero (--help: zero)
# without leaving pins or programs; SIGINT cleans up like SIGTERM; the
# daemon can be started again on the same pin path afterwards.

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

xt_init

out=$XT_WORK/out
if xt_in_r "$XTWAMPD" --help >"$out" 2>&1 && grep -q -- --iface "$out"; then
	xt_ok "xtwampd --help exits 0 and lists --iface"
else
	xt_fail "xtwampd --help should exit 0 and list --iface"
	xt_indent "$out" 20
fi

xt_in_r "$XTWAMPD" --no-such-option >"$out" 2>&1
rc=$?
if ((rc != 0 && rc != 124)) && [[ -s $out ]]; then
	xt_ok "unknown option: exit $rc with a message"
else
	xt_fail "unknown option: exit $rc (want non-zero, with a message)"
	xt_indent "$out" 10
fi

xt_in_r "$XTWAMPD" --iface xtw-missing0 --pin-path "$PIN_DIR" >"$out" 2>&1
rc=$?
if ((rc != 0 && rc != 124)) && [[ -s $out ]]; then
	xt_ok "missing interface: exit $rc with a message: $(grep -m1 xtw-missing0 "$out" || grep -m1 -i 'error' "$out")"
else
	xt_fail "missing interface: exit $rc (want non-zero, with a message)"
	xt_indent "$out" 10
fi
if [[ ! -e $PIN_DIR || -z $(ls -A "$PIN_DIR" 2>/dev/null) ]]; then
	xt_ok "no pins left after the failed start"
else
	xt_fail "pins left after the failed start: $(find "$PIN_DIR" -mindepth 1 | tr '\n' ' ')"
fi
rm -rf -- "$PIN_DIR"

xt_section "SIGINT"
if xt_start_daemon generic; then
	XT_STOP_SIGNAL=INT xt_stop_daemon
fi

xt_section "second start on the same pin path"
for i in 1 2; do
	xt_start_daemon generic || break
	xt_twamp_ping "run $i: TWAMP Light IPv4" 3 --ttl 255 -- --light "$ADDR4_R" -c 3 -i 0.01
	xt_stop_daemon
done

xt_finish
