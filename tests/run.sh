#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# run.sh - run xtwamp's tests and summarise them.
#
# Usage: tests/run.sh [-v] [lint|unit|xdp|e2e|fuzz-short|sanitize|valgrind|all]...
#        (default: all)
#
#   lint  clang-format --dry-run --Werror over the C sources (.clang-format)
#   unit  build/tests/test_*      cmocka unit tests of the user-space code
#   xdp   build/tests/xdp_test    the XDP program through BPF_PROG_TEST_RUN
#   e2e   tests/e2e/test_*.sh     daemon + client in network namespaces (root)
#   fuzz-short  build/tests/xdp_fuzz (FUZZ_SHORT_FRAMES frames) and each
#         libFuzzer target of build-fuzz/ for FUZZ_SHORT_SECONDS
#   sanitize  build-asan/tests/test_*: the unit tests under ASan + UBSan
#   valgrind  xtwampd's start/session/stop cycle under valgrind (~10 s)
#
# Each test prints PASS, FAIL or SKIP with its name; exit status 77 means
# SKIP (the test's last line says why).  A failing test's output is shown;
# -v (or V=1) shows every test's output.  Every test is bounded by
# `timeout` (UNIT_TIMEOUT, XDP_TIMEOUT, E2E_TIMEOUT seconds).  The last
# line is "N passed, N failed, N skipped"; the exit status is 1 if anything
# failed.  Build first: make tests-build.
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
export BUILD

UNIT_TIMEOUT=${UNIT_TIMEOUT:-120}
XDP_TIMEOUT=${XDP_TIMEOUT:-600}
E2E_TIMEOUT=${E2E_TIMEOUT:-600}
FUZZ_SHORT_FRAMES=${FUZZ_SHORT_FRAMES:-200000}
FUZZ_SHORT_SECONDS=${FUZZ_SHORT_SECONDS:-5}
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
ASAN_BUILD=${ASAN_BUILD:-build-asan}
VERBOSE=0
[[ ${V:-0} == 1 ]] && VERBOSE=1

passed=0
failed=0
skipped=0
failed_names=()

LOGDIR=$(mktemp -d /tmp/xtwamp-tests.XXXXXX) || exit 1
trap 'rm -rf -- "$LOGDIR"' EXIT
# On a signal, stop the running test (its own traps clean up) and summarise.
trap 'interrupted=1' INT TERM
interrupted=0

indent() { sed 's/^/    /' "$1"; }

# A kernel whose network-configuration lock (RTNL) is stuck, e.g. after an
# oops in a netdev notifier, puts every `ip link`, netns or XDP-attach
# operation into an uninterruptible sleep that no timeout can end.  Probe it
# once without waiting on the probe, and skip the tests that need it (named
# by NEEDS_NETCONF) instead of hanging the whole run.
NEEDS_NETCONF='^(e2e/|(unit|sanitize)/test_session_table|(unit|sanitize)/test_control_server|valgrind|soak)'
NO_NETCONF='^e2e/test_packaging$' # files and promtool only
netconf_stuck=
netconf_probe() {
	local pid i
	ip link show lo >/dev/null 2>&1 &
	pid=$!
	for i in $(seq 100); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			return 0
		fi
		sleep 0.1
	done
	netconf_stuck="the kernel's network configuration (RTNL) is not responding: \`ip link\` hangs; reboot the machine (see dmesg for an oops)"
	echo "WARNING: $netconf_stuck" >&2
}
netconf_probe

# run_one NAME TIMEOUT CMD...
run_one() {
	local name=$1 limit=$2 log rc start secs reason
	shift 2
	if [[ -n $netconf_stuck && $name =~ $NEEDS_NETCONF && ! $name =~ $NO_NETCONF ]]; then
		skipped=$((skipped + 1))
		printf 'SKIP %s: %s\n' "$name" "$netconf_stuck"
		return
	fi
	log=$LOGDIR/$(tr -c 'A-Za-z0-9_.-' _ <<<"$name").log
	start=$(date +%s)
	if ((VERBOSE)); then
		echo "---- $name"
		timeout -k 10 "$limit" "$@" </dev/null 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
	else
		timeout -k 10 "$limit" "$@" </dev/null >"$log" 2>&1
		rc=$?
	fi
	secs=$(($(date +%s) - start))
	case $rc in
	0)
		passed=$((passed + 1))
		printf 'PASS %s (%ds)\n' "$name" "$secs"
		;;
	77)
		skipped=$((skipped + 1))
		reason=$(grep -v '^[[:space:]]*$' "$log" | tail -n 1)
		reason=${reason#SKIP: }
		printf 'SKIP %s: %s\n' "$name" "${reason:-no reason given}"
		;;
	124 | 137)
		failed=$((failed + 1))
		failed_names+=("$name")
		printf 'FAIL %s: timed out after %ds\n' "$name" "$limit"
		((VERBOSE)) || indent "$log"
		;;
	*)
		failed=$((failed + 1))
		failed_names+=("$name")
		printf 'FAIL %s (exit %d, %ds)\n' "$name" "$rc" "$secs"
		((VERBOSE)) || indent "$log"
		;;
	esac
}

# fail_missing NAME WHY: a test that should exist but was not built.
fail_missing() {
	failed=$((failed + 1))
	failed_names+=("$1")
	printf 'FAIL %s: %s\n' "$1" "$2"
}

run_unit() {
	local src bin found=0
	for src in tests/unit/test_*.c; do
		[[ -e $src ]] || continue
		found=1
		bin=$BUILD/tests/$(basename "$src" .c)
		if [[ -x $bin ]]; then
			run_one "unit/$(basename "$bin")" "$UNIT_TIMEOUT" "$bin"
		else
			fail_missing "unit/$(basename "$bin")" "$bin not built (make tests-build)"
		fi
		((interrupted)) && return
	done
	# Binaries without a source here (an out-of-tree build dir): run them too.
	for bin in "$BUILD"/tests/test_*; do
		[[ -x $bin && -f $bin ]] || continue
		[[ -e tests/unit/$(basename "$bin").c ]] && continue
		found=1
		run_one "unit/$(basename "$bin")" "$UNIT_TIMEOUT" "$bin"
		((interrupted)) && return
	done
	((found)) || echo "(no unit tests)"
}

run_xdp() {
	local bin=$BUILD/tests/xdp_test
	if [[ -x $bin ]]; then
		run_one "xdp/xdp_test" "$XDP_TIMEOUT" "$bin"
	elif compgen -G 'tests/xdp/*.c' >/dev/null; then
		fail_missing "xdp/xdp_test" "$bin not built (make tests-build)"
	else
		echo "(no XDP tests)"
	fi
}

# Style: every C file as .clang-format (kernel style) says; vmlinux.h is generated.
run_lint() {
	local files
	if ! command -v clang-format >/dev/null; then
		echo "SKIP lint/clang-format: clang-format not installed (scripts/deps.sh installs it)"
		skipped=$((skipped + 1))
		return
	fi
	mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null | grep -v '^vmlinux/' ||
		find bpf user include tests -name '*.[ch]')
	run_one "lint/clang-format" "$UNIT_TIMEOUT" clang-format --dry-run --Werror "${files[@]}"
}

run_e2e() {
	local t found=0
	for t in tests/e2e/test_*.sh; do
		[[ -f $t ]] || continue
		found=1
		run_one "e2e/$(basename "$t" .sh)" "$E2E_TIMEOUT" bash "$t"
		((interrupted)) && return
	done
	((found)) || echo "(no e2e tests)"
}

# A bounded fuzzing pass: the XDP frame fuzzer and every libFuzzer target.
run_fuzz-short() {
	local bin=$BUILD/tests/xdp_fuzz
	if [[ -x $bin ]]; then
		run_one "fuzz/xdp_fuzz" "$XDP_TIMEOUT" "$bin" -n "$FUZZ_SHORT_FRAMES" -t 120
	else
		fail_missing "fuzz/xdp_fuzz" "$bin not built (make tests-build)"
	fi
	((interrupted)) && return
	if compgen -G "$FUZZ_BUILD/fuzz_*" >/dev/null; then
		run_one "fuzz/libfuzzer" "$UNIT_TIMEOUT" env FUZZ_BUILD="$FUZZ_BUILD" \
			tests/fuzz/run_libfuzzer.sh "$FUZZ_SHORT_SECONDS" control_open \
			control_setup control_enc keyfile auth_frame
	else
		fail_missing "fuzz/libfuzzer" "$FUZZ_BUILD/fuzz_* not built (make tests-build)"
	fi
}

# The unit tests built with -fsanitize=address,undefined: any report fails
# (UBSan halts, LeakSanitizer is on).
run_sanitize() {
	local src bin
	for src in tests/unit/test_*.c; do
		[[ -e $src ]] || continue
		bin=$ASAN_BUILD/tests/$(basename "$src" .c)
		if [[ -x $bin ]]; then
			run_one "sanitize/$(basename "$bin")" "$UNIT_TIMEOUT" env \
				ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
				UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$bin"
		else
			fail_missing "sanitize/$(basename "$bin")" "$bin not built (make tests-build)"
		fi
		((interrupted)) && return
	done
}

run_valgrind() {
	run_one "valgrind/xtwampd" "$E2E_TIMEOUT" bash tests/fuzz/valgrind_daemon.sh
}

suites=()
for arg in "$@"; do
	case $arg in
	-v) VERBOSE=1 ;;
	lint | unit | xdp | e2e | fuzz-short | sanitize | valgrind) suites+=("$arg") ;;
	all) suites+=(lint unit xdp fuzz-short sanitize valgrind e2e) ;;
	-h | --help)
		sed -n '4,22p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "usage: $0 [-v] [lint|unit|xdp|e2e|fuzz-short|sanitize|valgrind|all]..." >&2
		exit 2
		;;
	esac
done
((${#suites[@]})) || suites=(lint unit xdp fuzz-short sanitize valgrind e2e)

for s in "${suites[@]}"; do
	echo "== $s"
	"run_$s"
	((interrupted)) && break
done

echo
((interrupted)) && echo "interrupted"
((failed)) && echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0 && !interrupted))
