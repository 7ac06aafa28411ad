// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* clock.c - see clock.h */
#include <errno.h>
#include <stdint.h>
#include <sys/timex.h>
#include <time.h>

#include "clock.h"
#include "xtwamp_wire.h"

/* What we claim for a clock that says it is unsynchronised and gives no bound. */
#define UNSYNC_DEFAULT_ERROR_NS (16ULL * XT_NSEC_PER_SEC) /* NTP_PHASE_LIMIT, 16 s */

__u16 xt_error_estimate_encode(bool synchronised, __u64 err_ns)
{
	/* error in 2^-32 s units, rounded up: ceil(err_ns * 2^32 / 1e9) */
	unsigned __int128 x = ((unsigned __int128)err_ns << 32) + XT_NSEC_PER_SEC - 1;
	unsigned scale = 0;

	x /= XT_NSEC_PER_SEC;
	if (x == 0)
		x = 1;
	/* Shift until the multiplier fits in 8 bits; +1 covers the bits shifted off. */
	while (x > 0xff) {
		x = (x + 1) >> 1;
		scale++;
	}
	if (scale > 63) {
		scale = 63;
		x = 0xff;
	}
	return (synchronised ? XT_EE_SYNC : 0) | (__u16)(scale << 8) | (__u16)x;
}

__u64 xt_error_estimate_decode_ns(__u16 ee)
{
	unsigned scale = (ee & XT_EE_SCALE_MASK) >> 8;
	unsigned __int128 mult = ee & XT_EE_MULT_MASK;
	unsigned __int128 ns = (mult * XT_NSEC_PER_SEC) << scale;

	ns >>= 32;
	return ns > UINT64_MAX ? UINT64_MAX : (__u64)ns;
}

static __u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * XT_NSEC_PER_SEC + (__u64)ts.tv_nsec;
}

__u64 xt_realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

__u64 xt_tai_ns(void)
{
	return clock_ns(CLOCK_TAI);
}

int xt_clock_read(struct xt_clock_state *st)
{
	struct timex tx = { 0 };
	int state = adjtimex(&tx);

	if (state < 0)
		return -errno;
	st->synchronised = !(tx.status & STA_UNSYNC) && state != TIME_ERROR;
	if (st->synchronised)
		st->error_ns = (__u64)(tx.esterror > 0 ? tx.esterror : 1) * 1000;
	else
		st->error_ns = tx.maxerror > 0 ? (__u64)tx.maxerror * 1000 :
						 UNSYNC_DEFAULT_ERROR_NS;
	st->error_estimate = xt_error_estimate_encode(st->synchronised, st->error_ns);
	/* The kernel keeps CLOCK_TAI = CLOCK_REALTIME + tai exactly. */
	st->realtime_minus_tai_ns = -(__s64)tx.tai * (__s64)XT_NSEC_PER_SEC;
	return 0;
}
