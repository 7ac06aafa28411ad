/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * timestamp.h - which receive timestamp becomes T2.
 *
 * Pure logic with no BPF dependencies, so user-space unit tests include it
 * as well.  A NIC timestamp (bpf_xdp_metadata_rx_timestamp) is used only when
 * the kfunc succeeded, gave a non-zero value, and lies within
 * XT_HW_TS_MAX_SKEW_NS of the kernel's TAI clock.  That guard catches a PHC
 * that runs on its own timescale (not disciplined by ptp4l/phc2sys), where a
 * "hardware" T2 would be wrong by seconds or years.
 */
#ifndef XTWAMP_TIMESTAMP_H
#define XTWAMP_TIMESTAMP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define XT_HW_TS_MAX_SKEW_NS 1000000ULL /* 1 ms */

enum xt_ts_choice {
	XT_TS_SOFTWARE = 0,    /* no NIC timestamp offered */
	XT_TS_HARDWARE = 1,    /* NIC timestamp used */
	XT_TS_HW_REJECTED = 2, /* NIC timestamp offered but implausible */
};

/* hw_rc: the kfunc's return value (0 = timestamp present). */
static inline enum xt_ts_choice xt_choose_rx_timestamp(int hw_rc, __u64 hw_ns, __u64 sw_ns)
{
	__u64 skew;

	if (hw_rc != 0 || hw_ns == 0)
		return XT_TS_SOFTWARE;
	skew = hw_ns > sw_ns ? hw_ns - sw_ns : sw_ns - hw_ns;
	return skew <= XT_HW_TS_MAX_SKEW_NS ? XT_TS_HARDWARE : XT_TS_HW_REJECTED;
}

/*
 * Unix ns -> 64-bit NTP timestamp without division, bit for bit what
 * xt_unix_ns_to_ntp64() (include/xtwamp_wire.h) returns: the data path
 * converts two timestamps per packet, and BPF has no multiply-high, so each
 * 64-bit "/ 1e9" is a hardware divide (tens of cycles) after JIT.
 *
 * Seconds: (ns >> 29) * floor(2^61 / 1e9) >> 32 is never above ns / 1e9 and,
 * below XT_NTP_FAST_MAX_NS, at most 0.91 below it, so one correction step
 * makes it exact.  Beyond that bound (year 2096) the product could overflow:
 * divide as before.
 *
 * Fraction: round(nsec * 2^32 / 1e9) = floor((nsec * K + 2^51) / 2^52) with
 * K = round(2^84 / 1e9).  K's error moves nsec * K / 2^52 by at most 1.2e-7,
 * less than the 2.6e-7 that separates any nsec * 2^32 / 1e9 (a multiple of
 * 1 / 1953125) from a rounding boundary, so the result is the correctly
 * rounded one.  nsec * K needs 84 bits: it is split at bit 32 of K, and
 * dropping the low 32 bits before the final shift cannot change the floor.
 * Unit tests compare it with xt_unix_ns_to_ntp64() for every nanosecond of
 * a second's fraction on a stride and around every boundary.
 */
#define XT_NTP_FAST_MAX_NS 4000000000000000000ULL /* 2096-10-02 */
#define XT_NTP_SEC_RECIP 2305843009ULL		  /* floor(2^61 / 1e9) */
#define XT_NTP_FRAC_K_HI 4503599ULL		  /* round(2^84 / 1e9) >> 32 */
#define XT_NTP_FRAC_K_LO 2694535763ULL		  /* round(2^84 / 1e9) & 0xffffffff */

static inline __u64 xt_unix_ns_to_ntp64_fast(__u64 unix_ns)
{
	__u64 sec, nsec, frac;

	if (unix_ns >= XT_NTP_FAST_MAX_NS) {
		sec = unix_ns / 1000000000ULL;
	} else {
		sec = ((unix_ns >> 29) * XT_NTP_SEC_RECIP) >> 32;
		if (unix_ns - sec * 1000000000ULL >= 1000000000ULL)
			sec++;
	}
	nsec = unix_ns - sec * 1000000000ULL;
	frac = (nsec * XT_NTP_FRAC_K_HI + ((nsec * XT_NTP_FRAC_K_LO + (1ULL << 51)) >> 32)) >> 20;
	return ((sec + 2208988800ULL) << 32) | frac;
}

#endif /* XTWAMP_TIMESTAMP_H */
