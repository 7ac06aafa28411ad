// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * clock.c against the running kernel: what xtwampd publishes to the XDP
 * program must stay right when the system clock is stepped.  The program
 * takes T2/T3 from bpf_ktime_get_tai_ns() and adds the published
 * realtime_minus_tai_ns; a step (settimeofday, an NTP step) moves
 * CLOCK_REALTIME and CLOCK_TAI together, so the offset is right before and
 * after it as long as it equals CLOCK_REALTIME - CLOCK_TAI, which is what
 * these tests check.  The clock itself is never stepped (shared machine).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"
#include "xtwamp_wire.h"

/* CLOCK_REALTIME - CLOCK_TAI, read back to back (the smaller gap of two tries). */
static __s64 measured_offset(void)
{
	__s64 best = 0;
	__u64 best_gap = UINT64_MAX;
	int i;

	for (i = 0; i < 2; i++) {
		__u64 r0 = xt_realtime_ns(), t = xt_tai_ns(), r1 = xt_realtime_ns();

		if (r1 - r0 < best_gap) {
			best_gap = r1 - r0;
			best = (__s64)(r0 + (r1 - r0) / 2) - (__s64)t;
		}
	}
	return best;
}

/* Test that the published offset is REALTIME - TAI (within 1 ms), a whole number of seconds. */
static void test_offset_matches_clocks(void **state)
{
	struct xt_clock_state st;
	__s64 diff;

	(void)state;
	assert_int_equal(xt_clock_read(&st), 0);
	diff = st.realtime_minus_tai_ns - measured_offset();
	assert_true(diff > -1000000 && diff < 1000000);
	assert_int_equal(st.realtime_minus_tai_ns % (__s64)XT_NSEC_PER_SEC, 0);
	/* TAI is ahead of UTC (37 s since 2017) or, unset, equal: never behind. */
	assert_true(st.realtime_minus_tai_ns <= 0);
}

/*
 * Test that what the XDP program computes, TAI + offset, is the realtime
 * clock, and that a stepped TAI reading gives the equally stepped realtime:
 * nothing in the offset depends on when it was read.
 */
static void test_offset_under_step(void **state)
{
	const __s64 steps[] = { -3600LL * (__s64)XT_NSEC_PER_SEC, 3600LL * (__s64)XT_NSEC_PER_SEC,
				-1, 1 };
	struct xt_clock_state a, b;
	__u64 tai, real;
	size_t i;

	(void)state;
	assert_int_equal(xt_clock_read(&a), 0);
	tai = xt_tai_ns();
	real = xt_realtime_ns();
	assert_true(real - (tai + (__u64)a.realtime_minus_tai_ns) < 1000000ULL);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		__u64 stepped_tai = tai + (__u64)steps[i];

		/* One NTP conversion, no wrap, for either direction. */
		assert_int_equal(xt_ntp64_to_unix_ns(xt_unix_ns_to_ntp64(
					 stepped_tai + (__u64)a.realtime_minus_tai_ns)),
				 stepped_tai + (__u64)a.realtime_minus_tai_ns);
	}
	/* A second read (the daemon's 1 s refresh) publishes the same offset. */
	assert_int_equal(xt_clock_read(&b), 0);
	assert_int_equal(b.realtime_minus_tai_ns, a.realtime_minus_tai_ns);
	/* And an Error Estimate that says what adjtimex says. */
	assert_int_equal(b.error_estimate & XT_EE_SYNC ? 1 : 0, b.synchronised ? 1 : 0);
	assert_true(xt_error_estimate_decode_ns(b.error_estimate) >= b.error_ns / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offset_matches_clocks),
		cmocka_unit_test(test_offset_under_step),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
