// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xdp_drop_nth.bpf.c - for the sender-side veth of tests/e2e/test_ping.sh:
 * drops every DROP_NTH-th UDP datagram arriving there (the reflector's
 * replies, never the TCP of TWAMP-Control nor ARP/ND) and passes the rest,
 * so the test knows exactly how many replies were lost on the way back.
 *
 * It sits where lib.sh's XDP_PASS stub would: native XDP_TX frames from
 * the reflector's veth are delivered only into a peer that runs XDP, so
 * this program both plays the stub's part and does the dropping.  A fresh
 * attach starts the count at zero (the counter lives in .bss).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#ifndef DROP_NTH
#define DROP_NTH 10
#endif

__u64 udp_seen;
__u64 udp_dropped;

SEC("xdp")
int xdp_drop_nth(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 proto;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end)
			return XDP_PASS;
		proto = ip->protocol;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return XDP_PASS;
		proto = ip6->nexthdr;
	} else {
		return XDP_PASS;
	}
	if (proto != IPPROTO_UDP)
		return XDP_PASS;
	/* one CPU delivers a veth's frames in order; the atomic is for safety */
	if (__sync_add_and_fetch(&udp_seen, 1) % DROP_NTH == 0) {
		__sync_fetch_and_add(&udp_dropped, 1);
		return XDP_DROP;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
