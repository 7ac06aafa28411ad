/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * clock.h - the host clock as TWAMP needs it: realtime in NTP format, the
 * RFC 4656 Error Estimate from the kernel's clock discipline (adjtimex), and
 * the offset the XDP program adds to bpf_ktime_get_tai_ns().
 */
#ifndef XTWAMP_CLOCK_H
#define XTWAMP_CLOCK_H

#include <stdbool.h>
#include <linux/types.h>

struct xt_clock_state {
	bool synchronised;	     /* adjtimex: no STA_UNSYNC and not TIME_ERROR */
	__u64 error_ns;		     /* estimated error (maxerror when unsynchronised) */
	__u16 error_estimate;	     /* RFC 4656 encoding of the above, host order */
	__s64 realtime_minus_tai_ns; /* CLOCK_REALTIME - CLOCK_TAI (-TAI offset) */
};

/*
 * RFC 4656 §4.1.2 Error Estimate for an error of err_ns nanoseconds: the
 * smallest Scale whose Multiplier (never 0) covers the error, rounded up.
 * err_ns = 0 is encoded as the smallest non-zero error.
 */
__u16 xt_error_estimate_encode(bool synchronised, __u64 err_ns);

/* The error (ns, rounded down) an Error Estimate claims. UINT64_MAX if huge. */
__u64 xt_error_estimate_decode_ns(__u16 ee);

/* Read the kernel clock state.  Returns 0 or -errno. */
int xt_clock_read(struct xt_clock_state *st);

/* CLOCK_REALTIME / CLOCK_TAI now, in ns since their epochs. */
__u64 xt_realtime_ns(void);
__u64 xt_tai_ns(void);

#endif /* XTWAMP_CLOCK_H */
