#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# valgrind_daemon.sh - xtwampd's start / session / stop cycle under
# valgrind (memcheck) in the e2e test bed: start, one unauthenticated and
# one encrypted session with `xtwamp ping`, SIGTERM.  Passes with zero
# memcheck errors and no definite leaks (the daemon's exit status under
# --error-exitcode, and the log's ERROR SUMMARY).  Bounded by XT_VG_TIMEOUT.

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

command -v valgrind >/dev/null 2>&1 || xt_skip "valgrind not installed (scripts/deps.sh)"
xt_init

SECRET=0123456789abcdef0123456789abcdef
KEYS=$XT_WORK/keys
(
	umask 077
	printf 'alice %s\n' "$SECRET" >"$KEYS"
)
VG_LOG=$XT_WORK/valgrind.log
REAL=$XTWAMPD
# xt_start_daemon runs $XTWAMPD: make that valgrind (exec keeps the pid).
XTWAMPD=$XT_WORK/xtwampd-valgrind
cat >"$XTWAMPD" <<WRAP
#!/bin/sh
exec valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite --suppressions="$XT_ROOT/tests/fuzz/valgrind.supp" \
	--log-file="$VG_LOG" "$REAL" "\$@"
WRAP
chmod +x "$XTWAMPD"
XT_READY_TIMEOUT=120
XT_STOP_TIMEOUT=60

xt_start_daemon generic --keys "$KEYS" || {
	xt_indent "$VG_LOG" 40
	xt_finish
}
xt_check "unauthenticated session" xt_in_s "$XTWAMP" ping "$ADDR4_R" -c 3 -i 0.05 -W 2 \
	--session-timeout 1
xt_check "encrypted session" xt_in_s "$XTWAMP" ping "$ADDR4_R" -A encrypted -u alice -k "$KEYS" \
	-c 3 -i 0.05 -W 2 --session-timeout 1
xt_stop_daemon
summary=$(grep -m1 'ERROR SUMMARY' "$VG_LOG")
if [[ $summary == *"ERROR SUMMARY: 0 errors"* ]] && ! grep -q 'definitely lost: [1-9]' "$VG_LOG"; then
	xt_ok "valgrind: ${summary#==*== }"
else
	xt_fail "valgrind: ${summary:-no summary}"
	xt_indent "$VG_LOG" 60
fi
xt_finish
