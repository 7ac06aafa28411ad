/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* bench.h - what bench.bpf.c and xtbench.c share. */
#ifndef XTWAMP_BENCH_H
#define XTWAMP_BENCH_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define XB_PAYLOAD_LEN 64 /* the 64-octet TWAMP Light payload the issue asks for */
#define XB_FRAME_LEN (14 + 20 + 8 + XB_PAYLOAD_LEN)
/* Room for the longest reply sampled by the sink: an authenticated one (112). */
#define XB_SAMPLE_LEN (14 + 20 + 8 + 112)

/* Runtime settings, written through the skeleton's mmapped .bss. */
struct xb_config {
	__u16 port; /* UDP test port, network order */
	__u16 pad[3];
	__s64 clock_offset_ns; /* realtime - TAI, as xtwampd publishes it */
	/*
	 * xb_gen: picoseconds between two frames sent, 0 = flat out.  The
	 * generator paces itself in the kernel because each BPF_PROG_TEST_RUN
	 * call costs about a millisecond of setup here: pacing from userspace
	 * means bursts of hundreds of frames, which overflow the veth ring and
	 * the socket path's receive buffer at any average rate.
	 */
	__u64 gen_interval_ps;
};

#endif /* XTWAMP_BENCH_H */
