// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xdp_pass.bpf.c - XDP_PASS stub for the sender-side veth of the e2e tests.
 *
 * Frames sent with native XDP_TX (or redirected) into a veth are delivered
 * only when the peer veth runs an XDP program too: without one veth has no
 * NAPI instance to receive xdp_frames and they are dropped.  This program
 * gives it one and changes nothing.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
