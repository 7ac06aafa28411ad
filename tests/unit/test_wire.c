// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Wire formats, NTP conversions, Error Estimate encoding and the choice of
 * the receive timestamp, against values computed by hand from the RFCs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "clock.h"
#include "xtwamp_wire.h"
#include "../bpf/timestamp.h"

/* Test that a reflector header encodes to the RFC 5357 §4.2.1 octets. */
static void test_twamp_reflector_bytes(void **state)
{
	struct xt_twamp_reflector r;
	const uint8_t expect[41] = {
		0x00, 0x00, 0x00, 0x07,				/* seq */
		0xe0, 0x00, 0x00, 0x01, 0x80, 0x00, 0x00, 0x00, /* T3 */
		0x85, 0x87,					/* EE: S, 1 us */
		0x00, 0x00,					/* MBZ */
		0xe0, 0x00, 0x00, 0x01, 0x40, 0x00, 0x00, 0x00, /* T2 */
		0x00, 0x00, 0x00, 0x2a,				/* sender seq */
		0xe0, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, /* T1 */
		0x3f, 0xff,					/* sender EE */
		0x00, 0x00,					/* MBZ */
		0xfd,						/* sender TTL */
	};
	(void)state;

	memset(&r, 0, sizeof(r));
	r.seq = htonl(7);
	r.timestamp.sec = htonl(0xe0000001);
	r.timestamp.frac = htonl(0x80000000);
	r.error_estimate = htons(0x8587);
	r.receive_timestamp.sec = htonl(0xe0000001);
	r.receive_timestamp.frac = htonl(0x40000000);
	r.sender_seq = htonl(42);
	r.sender_timestamp.sec = htonl(0xe0000000);
	r.sender_timestamp.frac = htonl(0xc0000000);
	r.sender_error_estimate = htons(0x3fff);
	r.sender_ttl = 253;
	assert_int_equal(sizeof(r), 41);
	assert_memory_equal(&r, expect, sizeof(expect));
}

/* Test that STAMP puts the SSID at 14 and has 3 MBZ octets after the TTL. */
static void test_stamp_layout(void **state)
{
	struct xt_stamp_reflector r;
	uint8_t *b = (uint8_t *)&r;
	(void)state;

	memset(&r, 0, sizeof(r));
	r.ssid = htons(0xbeef);
	r.sender_ttl = 64;
	assert_int_equal(sizeof(r), 44);
	assert_int_equal(b[14], 0xbe);
	assert_int_equal(b[15], 0xef);
	assert_int_equal(b[40], 64);
	assert_int_equal(offsetof(struct xt_stamp_sender, ssid), 14);
	assert_int_equal(sizeof(struct xt_twamp_reflector_auth), 112);
}

/* Test that the Unix epoch is NTP second 2208988800 with a zero fraction. */
static void test_ntp_epoch(void **state)
{
	(void)state;
	assert_int_equal(xt_unix_ns_to_ntp64(0) >> 32, 2208988800ULL);
	assert_int_equal(xt_unix_ns_to_ntp64(0) & 0xffffffff, 0);
	assert_int_equal(xt_ntp64_to_unix_ns(2208988800ULL << 32), 0);
}

/* Test that fractions are rounded to nearest, not truncated. */
static void test_ntp_fraction_rounding(void **state)
{
	(void)state;
	/* 0.5 s is exactly 2^31 */
	assert_int_equal(xt_unix_ns_to_ntp64(500000000ULL) & 0xffffffff, 0x80000000U);
	/* 1 ns = 4.294967296 units: rounds to 4 (truncation also 4) */
	assert_int_equal(xt_unix_ns_to_ntp64(1) & 0xffffffff, 4);
	/* 3 ns = 12.88 units: rounds to 13 (truncation would give 12) */
	assert_int_equal(xt_unix_ns_to_ntp64(3) & 0xffffffff, 13);
	/* 999999999 ns = 4294967291.7: rounds to 4294967292, never overflows */
	assert_int_equal(xt_unix_ns_to_ntp64(999999999ULL) & 0xffffffff, 4294967292U);
	assert_int_equal(xt_unix_ns_to_ntp64(999999999ULL) >> 32, 2208988800ULL);
}

/* Test that ns -> NTP -> ns is exact over a spread of values. */
static void test_ntp_round_trip(void **state)
{
	uint64_t base = 1795300000ULL * 1000000000ULL; /* 2026 */
	uint64_t ns;
	(void)state;

	for (ns = 0; ns < 2000000000ULL; ns += 7919 * 13) {
		uint64_t t = base + ns;

		assert_int_equal(xt_ntp64_to_unix_ns(xt_unix_ns_to_ntp64(t)), t);
	}
	/* a nanosecond before and after a second boundary */
	assert_int_equal(xt_ntp64_to_unix_ns(xt_unix_ns_to_ntp64(base + 999999999)),
			 base + 999999999);
}

/*
 * Test that the data path's division-free conversion gives the same octets
 * as xt_unix_ns_to_ntp64(): fractions on a stride, the fractions closest to
 * a rounding boundary (where an inexact reciprocal first goes wrong), second
 * boundaries from 1970 to past the fast path's bound, and the extremes.
 */
static void test_ntp_fast_matches_division(void **state)
{
	static const uint64_t near_half[] = { 957386864, 959339989, 961293114, 971058739 };
	uint64_t base = 1795300000ULL * 1000000000ULL, ns, s;
	unsigned int i;
	int d;
	(void)state;

	for (ns = 0; ns < 1000000000ULL; ns += 7919)
		assert_int_equal(xt_unix_ns_to_ntp64_fast(base + ns),
				 xt_unix_ns_to_ntp64(base + ns));
	for (i = 0; i < sizeof(near_half) / sizeof(near_half[0]); i++)
		assert_int_equal(xt_unix_ns_to_ntp64_fast(base + near_half[i]),
				 xt_unix_ns_to_ntp64(base + near_half[i]));
	for (s = 1; s < 4300000000ULL; s += 104729) {
		for (d = -1; d <= 1; d++) {
			uint64_t t = s * 1000000000ULL + d;

			assert_int_equal(xt_unix_ns_to_ntp64_fast(t), xt_unix_ns_to_ntp64(t));
		}
	}
	assert_int_equal(xt_unix_ns_to_ntp64_fast(0), xt_unix_ns_to_ntp64(0));
	assert_int_equal(xt_unix_ns_to_ntp64_fast(XT_NTP_FAST_MAX_NS - 1),
			 xt_unix_ns_to_ntp64(XT_NTP_FAST_MAX_NS - 1));
	assert_int_equal(xt_unix_ns_to_ntp64_fast(XT_NTP_FAST_MAX_NS),
			 xt_unix_ns_to_ntp64(XT_NTP_FAST_MAX_NS));
	assert_int_equal(xt_unix_ns_to_ntp64_fast(~0ULL), xt_unix_ns_to_ntp64(~0ULL));
}

/* Test that NTP era 1 (after 2036-02-07) decodes after era 0. */
static void test_ntp_era_wrap(void **state)
{
	uint64_t after_wrap = (4294967296ULL - 2208988800ULL + 10) * 1000000000ULL;
	uint64_t ntp = xt_unix_ns_to_ntp64(after_wrap);
	(void)state;

	assert_int_equal(ntp >> 32 & 0xffffffff, 10); /* seconds field wrapped */
	assert_int_equal(xt_ntp64_to_unix_ns(ntp & 0xffffffffffffffffULL), after_wrap);
}

/* Test the Error Estimate against the worked values of RFC 4656 §4.1.2 encoding. */
static void test_error_estimate_encoding(void **state)
{
	(void)state;
	assert_int_equal(xt_error_estimate_encode(true, 1000), 0x8587);	    /* 1 us */
	assert_int_equal(xt_error_estimate_encode(true, 1000000), 0x8f84);  /* 1 ms */
	assert_int_equal(xt_error_estimate_encode(true, 10000000), 0x92a4); /* 10 ms */
	assert_int_equal(xt_error_estimate_encode(false, 1000), 0x0587);    /* S clear */
	/* the multiplier is never 0, even for a zero error */
	assert_int_not_equal(xt_error_estimate_encode(true, 0) & 0xff, 0);
	/* huge errors saturate at scale 63, multiplier 255 */
	assert_int_equal(xt_error_estimate_encode(false, UINT64_MAX) & 0x3f00, 0x3b00);
	assert_int_equal(xt_error_estimate_encode(true, 16000000000ULL) & 0x8000, 0x8000);
}

/* Test that the encoding never claims less error than there is. */
static void test_error_estimate_rounds_up(void **state)
{
	uint64_t err;
	(void)state;

	for (err = 1; err < 20000000000ULL; err = err * 3 + 1) {
		uint16_t ee = xt_error_estimate_encode(true, err);
		uint64_t claimed = xt_error_estimate_decode_ns(ee);

		assert_true(claimed + 1 >= err);     /* decode rounds down by < 1 ns */
		assert_true(claimed <= err * 2 + 2); /* and stays within a factor of 2 */
	}
}

/* Test how T2 is chosen between the NIC and the kernel clock. */
static void test_rx_timestamp_choice(void **state)
{
	(void)state;
	assert_int_equal(xt_choose_rx_timestamp(-95, 0, 1000), XT_TS_SOFTWARE); /* -EOPNOTSUPP */
	assert_int_equal(xt_choose_rx_timestamp(-61, 12345, 1000), XT_TS_SOFTWARE); /* -ENODATA */
	assert_int_equal(xt_choose_rx_timestamp(0, 0, 1000), XT_TS_SOFTWARE);	    /* no value */
	assert_int_equal(xt_choose_rx_timestamp(0, 5000000, 5000500), XT_TS_HARDWARE);
	assert_int_equal(xt_choose_rx_timestamp(0, 5000500, 5000000), XT_TS_HARDWARE);
	assert_int_equal(xt_choose_rx_timestamp(0, 1000, 1000 + XT_HW_TS_MAX_SKEW_NS),
			 XT_TS_HARDWARE);
	assert_int_equal(xt_choose_rx_timestamp(0, 1000, 1001 + XT_HW_TS_MAX_SKEW_NS),
			 XT_TS_HW_REJECTED);
	/* a free-running PHC, years away from TAI */
	assert_int_equal(xt_choose_rx_timestamp(0, 12345678, 1795300000ULL * 1000000000ULL),
			 XT_TS_HW_REJECTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_twamp_reflector_bytes),
		cmocka_unit_test(test_stamp_layout),
		cmocka_unit_test(test_ntp_epoch),
		cmocka_unit_test(test_ntp_fraction_rounding),
		cmocka_unit_test(test_ntp_round_trip),
		cmocka_unit_test(test_ntp_era_wrap),
		cmocka_unit_test(test_ntp_fast_matches_division),
		cmocka_unit_test(test_error_estimate_encoding),
		cmocka_unit_test(test_error_estimate_rounds_up),
		cmocka_unit_test(test_rx_timestamp_choice),
	};

	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
