// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench.bpf.c - the programs xtwamp's XDP reflector is measured against,
 * and the traffic generator and sink that drive the measurement.
 *
 *  xb_bare   swaps MACs, IPv4 addresses and UDP ports of a packet to the
 *            test port and returns XDP_TX: the ceiling of XDP_TX on this box.
 *  xb_floor  xb_bare plus the two clock reads no reflector can do without
 *            (T2, T3), stored as NTP timestamps where TWAMP puts them, and
 *            the UDP checksum cleared (legal over IPv4): the limit for any
 *            correct reflector.
 *  xb_gen    run by BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES on
 *            the sender: writes the whole template frame on every run
 *            (live-frame pages come back as the last run left them) and
 *            sends it with XDP_TX, paced by the clock when a rate is set
 *            (runs that are not due yet return XDP_DROP), counting what
 *            it sent.
 *  xb_sink   on the sender's veth: counts and drops replies from the test
 *            port, keeping a copy of one when asked; everything else (ARP,
 *            TWAMP-Control) passes.
 *
 * IPv4 with a 20-octet header only: the benchmark sends nothing else.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xtwamp_wire.h"
#include "../bpf/timestamp.h"
#include "bench.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_P_IP 0x0800

/* Set after load through the mmapped .bss (.rodata would be const-folded at load). */
struct xb_config xb_cfg;
__u8 xb_template[XB_FRAME_LEN];
/* xb_gen runs on one CPU only (the test run's): plain increments suffice. */
__u64 xb_gen_next_ps, xb_gen_sent;
/* xb_sink copies the next reply here when xb_sample_want is set, then clears it. */
__u32 xb_sample_want, xb_sample_len;
__u8 xb_sample[XB_SAMPLE_LEN];

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} xb_count SEC(".maps");

struct l4 {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
} __attribute__((packed));

/* The test packet's headers when it is one for us, else NULL. */
static __always_inline struct l4 *test_packet(struct xdp_md *ctx, __u32 payload)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct l4 *h = data;

	if ((void *)(h + 1) + payload > data_end)
		return NULL;
	if (h->eth.h_proto != bpf_htons(ETH_P_IP) || h->ip.ihl != 5 ||
	    h->ip.protocol != IPPROTO_UDP || h->udp.dest != xb_cfg.port)
		return NULL;
	return h;
}

static __always_inline void swap(struct l4 *h)
{
	__u8 mac[6];
	__be32 a;
	__be16 p;

	__builtin_memcpy(mac, h->eth.h_dest, 6);
	__builtin_memcpy(h->eth.h_dest, h->eth.h_source, 6);
	__builtin_memcpy(h->eth.h_source, mac, 6);
	a = h->ip.saddr;
	h->ip.saddr = h->ip.daddr;
	h->ip.daddr = a;
	p = h->udp.source;
	h->udp.source = h->udp.dest;
	h->udp.dest = p;
}

SEC("xdp")
int xb_bare(struct xdp_md *ctx)
{
	struct l4 *h = test_packet(ctx, 0);

	if (!h)
		return XDP_PASS;
	swap(h);
	return XDP_TX;
}

/* The same division-free conversion as the reflector: the floor must not be
 * made dearer than the cheapest correct reflector. */
static __always_inline void store_ntp(struct xt_ntp_ts *ts, __u64 tai_ns)
{
	__u64 ntp = xt_unix_ns_to_ntp64_fast(tai_ns + xb_cfg.clock_offset_ns);

	ts->sec = bpf_htonl(ntp >> 32);
	ts->frac = bpf_htonl((__u32)ntp);
}

SEC("xdp")
int xb_floor(struct xdp_md *ctx)
{
	struct l4 *h = test_packet(ctx, sizeof(struct xt_twamp_reflector));
	struct xt_twamp_reflector *r;
	__u64 t2;

	if (!h)
		return XDP_PASS;
	t2 = bpf_ktime_get_tai_ns();
	swap(h);
	h->udp.check = 0;
	r = (void *)(h + 1);
	store_ntp(&r->receive_timestamp, t2);
	store_ntp(&r->timestamp, bpf_ktime_get_tai_ns());
	return XDP_TX;
}

SEC("xdp")
int xb_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	__u64 gap = xb_cfg.gen_interval_ps;

	if (data + XB_FRAME_LEN > data_end)
		return XDP_DROP;
	if (gap) {
		__u64 now = bpf_ktime_get_ns() * 1000;

		if (now < xb_gen_next_ps)
			return XDP_DROP; /* not due: the page goes straight back to the pool */
		/*
		 * After a stall (preempted, or between two test runs) catch up by
		 * 128 frames at most: half the veth ring, so no burst overflows it.
		 */
		xb_gen_next_ps = now - xb_gen_next_ps > 128 * gap ? now : xb_gen_next_ps + gap;
	}
	__builtin_memcpy(data, xb_template, XB_FRAME_LEN);
	xb_gen_sent++;
	return XDP_TX;
}

/* A copy of one reply for xtbench to check (addresses, checksums, fields). */
static __always_inline void sample(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;

	if (len >= XB_SAMPLE_LEN)
		len = XB_SAMPLE_LEN;
	else if (len >= XB_FRAME_LEN)
		len = XB_FRAME_LEN;
	else
		return;
	if (bpf_xdp_load_bytes(ctx, 0, xb_sample, len))
		return;
	xb_sample_len = len;
	xb_sample_want = 0;
}

SEC("xdp")
int xb_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct l4 *h = data;
	__u32 zero = 0;
	__u64 *n;

	if ((void *)(h + 1) > data_end || h->eth.h_proto != bpf_htons(ETH_P_IP) ||
	    h->ip.protocol != IPPROTO_UDP || h->udp.source != xb_cfg.port)
		return XDP_PASS;
	n = bpf_map_lookup_elem(&xb_count, &zero);
	if (n)
		*n += 1;
	if (xb_sample_want)
		sample(ctx);
	return XDP_DROP;
}
