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

#endif /* XTWAMP_TIMESTAMP_H */
