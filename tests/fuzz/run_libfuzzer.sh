#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# run_libfuzzer.sh SECONDS TARGET... - run libFuzzer targets for a bounded time.
#
# Each target (FUZZ_BUILD/fuzz_TARGET, default build-fuzz/) first replays its
# regression inputs (tests/fuzz/regress/TARGET/, crashers found earlier: each
# must pass), then fuzzes for SECONDS from a scratch copy of the seed corpus
# (tests/fuzz/corpus/TARGET/; the work corpus lives in FUZZ_BUILD/corpus/).
# A crash is left in FUZZ_BUILD/ as crash-* and fails the run; prints
# executions per target.  Exit 77 (skip) when nothing is built.
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
secs=${1:?usage: run_libfuzzer.sh SECONDS TARGET...}
shift
rc=0
ran=0
# Leaks are errors too; UBSan reports abort.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for t in "$@"; do
	t=${t#fuzz_}
	bin=$FUZZ_BUILD/fuzz_$t
	if [[ ! -x $bin ]]; then
		echo "run_libfuzzer: $bin not built (make fuzz-build)"
		rc=1
		continue
	fi
	ran=$((ran + 1))
	reg=tests/fuzz/regress/$t
	if compgen -G "$reg/*" >/dev/null; then
		if ! "$bin" -runs=1 "$reg"/* >"$FUZZ_BUILD/$t.regress.log" 2>&1; then
			echo "FAIL fuzz_$t: a regression input crashes again:"
			tail -n 30 "$FUZZ_BUILD/$t.regress.log"
			rc=1
			continue
		fi
		echo "fuzz_$t: $(find "$reg" -type f | wc -l) regression inputs pass"
	fi
	work=$FUZZ_BUILD/corpus/$t
	mkdir -p "$work"
	cp -n tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null
	log=$FUZZ_BUILD/$t.log
	if (cd "$FUZZ_BUILD" && "./fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 "corpus/$t") >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "fuzz_$t: ${execs:-?} executions in ${secs}s, corpus $(find "$work" -type f | wc -l), no crash"
	else
		echo "FAIL fuzz_$t: (reproduce with $bin FILE; keep it in $reg/)"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -n 10
		tail -n 40 "$log"
		rc=1
	fi
done
((ran)) || {
	echo "SKIP: no libFuzzer target built"
	exit 77
}
exit $rc
