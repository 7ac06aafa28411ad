// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xdp_fuzz.c - random and mutated frames through the real XDP program
 * (BPF_PROG_TEST_RUN), with invariants checked on every one.
 *
 * Usage: xdp_fuzz [-n FRAMES] [-t SECONDS] [-s SEED] [-c CORPUS_DIR] [-v]
 *        xdp_fuzz --write-seeds DIR
 *        xdp_fuzz --bench             ns per reflected packet (small, full size)
 *
 * The maps hold light TWAMP (stateful and stateless) and STAMP ports and
 * negotiated sessions (TWAMP and STAMP, one with a DSCP, one not started);
 * rate limit off, allow-list off, clock valid.  Frames come from the test
 * packet builder (tests/xdp/pktbuild.c: random VLAN stacks, IPv4 options,
 * IPv6 extension headers, bogus lengths, fragments, trailers, bad
 * checksums), then get bit flips, byte overwrites and truncations; a few
 * are pure noise.  Before the random phase every seed of the corpus is run
 * truncated at every offset and with every single bit flipped.
 *
 * Invariants, judged by an independent parser below (not the program's):
 *  - every frame is counted once in rx_frames_total and ends in XDP_PASS,
 *    XDP_TX or XDP_DROP;
 *  - XDP_PASS: the frame is byte-identical, nothing is counted as dropped or
 *    reflected;
 *  - XDP_DROP: exactly one drop counter moved;
 *  - XDP_TX only for a well-formed UDP packet to a configured light port or
 *    to a session's 5-tuple (+SSID); a UDP packet to any other port passes;
 *  - a reply is never longer than the request, except a TWAMP request of
 *    14..40 octets that grows to the 41-octet reflector header (README
 *    "What the reflector does with a packet");
 *  - in the reply: MACs, addresses and ports swapped, VLAN tags and IPv4
 *    options unchanged, TTL 255, lengths consistent, IPv4 header checksum
 *    correct, UDP checksum correct whenever the request's was (zero stays
 *    zero on IPv4), payload octets after the reflector header unchanged.
 *
 * A failing frame is printed in hex (and the run fails); put it in
 * tests/fuzz/corpus/xdp/ to keep it as a regression seed.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xtwamp_maps.h"
#include "xtwamp_wire.h"
#include "xtwamp.skel.h"

#include "checksum.h"
#include "pktbuild.h"

#define OUT_MAX 4096
#define FRAME_MAX 1600 /* test_run takes at most a page minus head/tailroom */
#define MAX_FAILURES 10

/* Ports of the fuzz configuration. */
#define P_LIGHT 862	      /* light TWAMP, stateful */
#define P_LIGHT_STATELESS 863 /* light TWAMP, stateless */
#define P_STAMP 8620	      /* light STAMP, stateful */
#define P_SESS 8630	      /* negotiated TWAMP sessions only */
#define P_SESS_STAMP 8631     /* negotiated STAMP sessions only */
#define SENDER_PORT 40001
#define SESS_SSID 7

#define V4_SENDER "192.0.2.10"
#define V4_REFL "198.51.100.1"
#define V6_SENDER "2001:db8:1::10"
#define V6_REFL "2001:db8:2::1"

static const uint8_t mac_a[6] = { 0x02, 0x00, 0x5e, 0x00, 0x53, 0x01 };
static const uint8_t mac_b[6] = { 0x02, 0x00, 0x5e, 0x00, 0x53, 0x02 };

static struct {
	struct xtwamp *skel;
	int prog_fd, fd_counters, ncpus;
	bool verbose;
	uint64_t rng;
	unsigned long frames, failures, skipped_small;
	unsigned long verdicts[8], grown, ours, not_ours_udp;
	uint64_t cnt[XT_CNT__COUNT];
	struct pkt seeds[64];
	int nseeds;
} g;

/* ---- randomness (xorshift64*: reproducible from -s) ------------------------- */

static uint64_t rnd(void)
{
	g.rng ^= g.rng >> 12;
	g.rng ^= g.rng << 25;
	g.rng ^= g.rng >> 27;
	return g.rng * 0x2545f4914f6cdd1dULL;
}

static uint32_t below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

static bool chance(unsigned percent)
{
	return below(100) < percent;
}

/* ---- counters ------------------------------------------------------------------ */

static int read_counters(uint64_t *out)
{
	static uint64_t vals[512];
	__u32 key;
	int c, i;

	memset(out, 0, sizeof(*out) * XT_CNT__COUNT);
	for (i = 0; i < XT_CNT__COUNT; i++) {
		key = (__u32)i;
		if (bpf_map_lookup_elem(g.fd_counters, &key, vals))
			return -errno;
		for (c = 0; c < g.ncpus; c++)
			out[i] += vals[c];
	}
	return 0;
}

static bool is_drop_counter(int i)
{
	switch (i) {
	case XT_CNT_DROP_TOO_SHORT:
	case XT_CNT_DROP_MALFORMED:
	case XT_CNT_DROP_NOT_UNICAST:
	case XT_CNT_DROP_NOT_ALLOWED:
	case XT_CNT_DROP_RATE_LIMITED:
	case XT_CNT_DROP_SESSION_STOPPED:
	case XT_CNT_DROP_CLOCK_UNSET:
	case XT_CNT_DROP_RESIZE_FAILED:
	case XT_CNT_DROP_FLOW_TABLE:
		return true;
	default:
		return false;
	}
}

/* ---- the independent parser ------------------------------------------------------ */

struct view {
	bool udp; /* a complete UDP header of an unfragmented IPv4/IPv6 packet */
	int family;
	size_t l3, ihl, l4;
	uint16_t sport, dport, udp_len, ip_len; /* ip_len: total (v4) / payload (v6) */
	const uint8_t *saddr, *daddr;
	bool v4_hdr_ok;
};

static void parse(const uint8_t *f, size_t len, struct view *v)
{
	size_t off = 12;
	uint16_t type;
	int tags = 0;

	memset(v, 0, sizeof(*v));
	if (len < 14)
		return;
	type = ck_get16(f + off);
	while (type == PB_ETH_P_8021Q || type == PB_ETH_P_8021AD) {
		if (++tags > 2 || off + 6 > len)
			return; /* a third tag is passed (README) */
		off += 4;
		type = ck_get16(f + off);
	}
	off += 2;
	v->l3 = off;
	if (type == PB_ETH_P_IPV4) {
		if (off + 20 > len || (f[off] >> 4) != 4)
			return;
		v->ihl = (size_t)(f[off] & 0x0f) * 4;
		if (v->ihl < 20 || off + v->ihl > len)
			return;
		if (ck_get16(f + off + 6) & 0x3fff)
			return; /* MF or an offset: a fragment */
		if (f[off + 9] != 17)
			return;
		v->family = 4;
		v->ip_len = ck_get16(f + off + 2);
		v->saddr = f + off + 12;
		v->daddr = f + off + 16;
		v->v4_hdr_ok = ck_ipv4_header_ok(f + off, v->ihl);
	} else if (type == PB_ETH_P_IPV6) {
		if (off + 40 > len || (f[off] >> 4) != 6 || f[off + 6] != 17)
			return;
		v->ihl = 40;
		v->family = 6;
		v->ip_len = ck_get16(f + off + 4);
		v->saddr = f + off + 8;
		v->daddr = f + off + 24;
	} else {
		return;
	}
	v->l4 = off + v->ihl;
	if (v->l4 + 8 > len)
		return;
	v->sport = ck_get16(f + v->l4);
	v->dport = ck_get16(f + v->l4 + 2);
	v->udp_len = ck_get16(f + v->l4 + 4);
	v->udp = true;
}

static bool addr_is(const struct view *v, const uint8_t *a, const char *text)
{
	uint8_t b[16];

	if (inet_pton(v->family == 4 ? AF_INET : AF_INET6, text, b) != 1)
		return false;
	return memcmp(a, b, v->family == 4 ? 4 : 16) == 0;
}

/* Which format the frame is reflected in if ours; -1: not ours. */
static int ours(const uint8_t *f, size_t len, const struct view *v)
{
	const char *snd = v->family == 4 ? V4_SENDER : V6_SENDER;
	const char *refl = v->family == 4 ? V4_REFL : V6_REFL;
	bool tuple;
	uint16_t ssid = 0;

	if (!v->udp)
		return -1;
	switch (v->dport) {
	case P_LIGHT:
	case P_LIGHT_STATELESS:
		return XT_FMT_TWAMP;
	case P_STAMP:
		return XT_FMT_STAMP;
	case P_SESS:
	case P_SESS_STAMP:
		tuple = v->sport == SENDER_PORT && addr_is(v, v->saddr, snd) &&
			addr_is(v, v->daddr, refl);
		if (v->dport == P_SESS)
			return tuple ? XT_FMT_TWAMP : -1;
		if (v->l4 + 8 + 16 <= len)
			ssid = ck_get16(f + v->l4 + 8 + 14);
		return tuple && ssid == SESS_SSID ? XT_FMT_STAMP : -1;
	default:
		return -1;
	}
}

static bool udp_csum_ok(const uint8_t *f, size_t len, const struct view *v)
{
	uint16_t want;

	if (v->l4 + v->udp_len > len || v->udp_len < 8)
		return false;
	if (v->family == 4)
		want = ck_udp4(v->saddr, v->daddr, f + v->l4, v->udp_len);
	else
		want = ck_udp6(v->saddr, v->daddr, f + v->l4, v->udp_len);
	return ck_get16(f + v->l4 + 6) == want;
}

/* ---- reporting ------------------------------------------------------------------- */

static void hexdump(const char *what, const uint8_t *f, size_t len)
{
	size_t i;

	fprintf(stderr, "  %s (%zu octets):", what, len);
	for (i = 0; i < len; i++)
		fprintf(stderr, "%s%02x", i % 32 ? "" : "\n    ", f[i]);
	fprintf(stderr, "\n");
}

static bool failed_frame;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xdp_fuzz: frame %lu: ", g.frames);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failed_frame = true;
}

/* ---- one frame ------------------------------------------------------------------- */

static void check_reply(const uint8_t *in, size_t in_len, const struct view *rq, int fmt,
			const uint8_t *out, size_t out_len, const uint64_t *d)
{
	size_t req_len = (size_t)rq->udp_len - 8, reply_len, hdr_len, i;
	struct view rp;

	hdr_len = fmt == XT_FMT_STAMP ? XT_STAMP_BASE : XT_TWAMP_REFLECTOR_MIN;
	reply_len = req_len < hdr_len && fmt == XT_FMT_TWAMP ? hdr_len : req_len;
	if (out_len != rq->l4 + 8 + reply_len)
		fail("reply of %zu octets, expected %zu", out_len, rq->l4 + 8 + reply_len);
	if (out_len > in_len && !(fmt == XT_FMT_TWAMP && req_len >= XT_TWAMP_SENDER_MIN &&
				  req_len < hdr_len && d[XT_CNT_REFLECTED_GROWN] == 1))
		fail("reply of %zu octets is longer than the request (%zu)", out_len, in_len);
	if (d[XT_CNT_REFLECTED_GROWN] != (reply_len != req_len))
		fail("reflected_grown_total moved by %" PRIu64, d[XT_CNT_REFLECTED_GROWN]);
	if (out_len < rq->l4 + 8)
		return;
	parse(out, out_len, &rp);
	if (!rp.udp || rp.family != rq->family || rp.l4 != rq->l4) {
		fail("the reply does not parse as the request's UDP packet");
		return;
	}
	if (memcmp(out, in + 6, 6) || memcmp(out + 6, in, 6))
		fail("MAC addresses not swapped");
	if (memcmp(out + 12, in + 12, rq->l3 - 12))
		fail("VLAN tags / EtherType changed");
	if (memcmp(rp.saddr, rq->daddr, rq->family == 4 ? 4 : 16) ||
	    memcmp(rp.daddr, rq->saddr, rq->family == 4 ? 4 : 16))
		fail("addresses not swapped");
	if (rp.sport != rq->dport || rp.dport != rq->sport)
		fail("ports not swapped");
	if (rp.udp_len != 8 + reply_len)
		fail("UDP length %u, expected %zu", rp.udp_len, 8 + reply_len);
	if (rq->family == 4) {
		if (!ck_ipv4_header_ok(out + rq->l3, rq->ihl))
			fail("IPv4 header checksum of the reply is wrong");
		if (rp.ip_len != rq->ihl + 8 + reply_len)
			fail("IPv4 total length %u, expected %zu", rp.ip_len,
			     rq->ihl + 8 + reply_len);
		if (out[rq->l3 + 8] != 255)
			fail("TTL %u, expected 255", out[rq->l3 + 8]);
		if (memcmp(out + rq->l3 + 20, in + rq->l3 + 20, rq->ihl - 20))
			fail("IPv4 options changed");
		if (ck_get16(in + rq->l4 + 6) == 0) {
			if (ck_get16(out + rq->l4 + 6) != 0)
				fail("a zero IPv4 UDP checksum did not stay zero");
		} else if (udp_csum_ok(in, in_len, rq) && !udp_csum_ok(out, out_len, &rp)) {
			fail("UDP checksum of the reply is wrong (the request's was right)");
		}
	} else {
		if (rp.ip_len != 8 + reply_len)
			fail("IPv6 payload length %u, expected %zu", rp.ip_len, 8 + reply_len);
		if (out[rq->l3 + 7] != 255)
			fail("Hop Limit %u, expected 255", out[rq->l3 + 7]);
		if (udp_csum_ok(in, in_len, rq) && !udp_csum_ok(out, out_len, &rp))
			fail("UDP checksum of the reply is wrong (the request's was right)");
	}
	for (i = hdr_len; i < reply_len; i++) {
		if (out[rq->l4 + 8 + i] != in[rq->l4 + 8 + i]) {
			fail("payload octet %zu changed", i);
			break;
		}
	}
}

static int run_frame(const uint8_t *in, size_t len)
{
	static uint8_t out[OUT_MAX];
	uint64_t after[XT_CNT__COUNT], d[XT_CNT__COUNT], drops = 0;
	struct view v;
	int fmt, i, verdict;
	bool was_failed;

	if (len < 14) {
		g.skipped_small++; /* test_run refuses frames without an Ethernet header */
		return 0;
	}
	memset(out, 0x5a, 64);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	g.frames++;
	failed_frame = false;
	if (bpf_prog_test_run_opts(g.prog_fd, &opts)) {
		fail("bpf_prog_test_run_opts: %s", strerror(errno));
		goto out;
	}
	if (read_counters(after)) {
		fail("reading counters: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < XT_CNT__COUNT; i++) {
		d[i] = after[i] - g.cnt[i];
		if (is_drop_counter(i))
			drops += d[i];
	}
	memcpy(g.cnt, after, sizeof(after));
	verdict = (int)opts.retval;
	g.verdicts[verdict >= 0 && verdict < 8 ? verdict : 7]++;
	parse(in, len, &v);
	fmt = ours(in, len, &v);
	if (fmt >= 0)
		g.ours++;

	if (d[XT_CNT_RX_FRAMES] != 1)
		fail("rx_frames_total moved by %" PRIu64, d[XT_CNT_RX_FRAMES]);
	switch (verdict) {
	case XDP_PASS:
		if (opts.data_size_out != len || memcmp(in, out, len))
			fail("XDP_PASS with a modified frame (%u octets out)", opts.data_size_out);
		if (d[XT_CNT_PASSED] != 1 || drops || d[XT_CNT_REFLECTED])
			fail("XDP_PASS: passed %" PRIu64 ", drops %" PRIu64 ", reflected %" PRIu64,
			     d[XT_CNT_PASSED], drops, d[XT_CNT_REFLECTED]);
		break;
	case XDP_DROP:
		if (drops != 1 || d[XT_CNT_REFLECTED] || d[XT_CNT_PASSED])
			fail("XDP_DROP: drops %" PRIu64 ", reflected %" PRIu64 ", passed %" PRIu64,
			     drops, d[XT_CNT_REFLECTED], d[XT_CNT_PASSED]);
		if (v.udp && fmt < 0)
			fail("XDP_DROP of a UDP packet to port %u, which is not ours", v.dport);
		break;
	case XDP_TX:
		if (d[XT_CNT_REFLECTED] != 1 || drops || d[XT_CNT_PASSED])
			fail("XDP_TX: reflected %" PRIu64 ", drops %" PRIu64 ", passed %" PRIu64,
			     d[XT_CNT_REFLECTED], drops, d[XT_CNT_PASSED]);
		if (fmt < 0) {
			fail("XDP_TX of a frame that is not for a configured port or session");
			break;
		}
		if (v.family == 4 && !v.v4_hdr_ok)
			fail("XDP_TX of a request with a bad IPv4 header checksum");
		if (v.udp_len < 8 || v.l4 + v.udp_len > len) {
			fail("XDP_TX of a request whose UDP length %u does not fit", v.udp_len);
			break;
		}
		check_reply(in, len, &v, fmt, out, opts.data_size_out, d);
		break;
	default:
		fail("verdict %d", verdict);
	}
	if (v.udp && fmt < 0 && verdict != XDP_PASS && v.dport != P_SESS && v.dport != P_SESS_STAMP)
		g.not_ours_udp++;
out:
	was_failed = failed_frame;
	if (was_failed) {
		g.failures++;
		hexdump("request", in, len);
		if (opts.data_size_out && opts.data_size_out <= sizeof(out))
			hexdump("output", out, opts.data_size_out);
	}
	return was_failed ? -1 : 0;
}

/* ---- frame generation --------------------------------------------------------------- */

static void rand_bytes(uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)rnd();
}

/* A valid (or deliberately damaged) request from the builder. */
static void gen_frame(struct pkt *p)
{
	static const uint16_t ports[] = {
		P_LIGHT, P_LIGHT_STATELESS, P_STAMP, P_SESS, P_SESS_STAMP, 7, 53, 12345
	};
	static const uint8_t ext_types[] = { PB_IPV6_HOPOPTS, PB_IPV6_ROUTING, PB_IPV6_FRAGMENT,
					     PB_IPV6_DSTOPTS };
	static const size_t sizes[] = { 0, 1, 13, 14, 15, 27, 40, 41, 43, 44, 45, 64, 112, 127 };
	uint8_t payload[1400];
	char src[64], dst[64];
	bool v6 = chance(40);
	uint16_t dport = ports[below(sizeof(ports) / sizeof(ports[0]))];
	size_t plen, i;
	int n;

	pb_init(p);
	pb_eth(p, chance(97) ? mac_b : (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	       mac_a);
	n = chance(70) ? 0 : (int)below(3);
	for (i = 0; i < (size_t)n; i++)
		pb_vlan(p, chance(50) ? PB_ETH_P_8021Q : PB_ETH_P_8021AD, (uint16_t)rnd());
	if (v6) {
		snprintf(src, sizeof(src), "%s", chance(85) ? V6_SENDER : "2001:db8:1::99");
		snprintf(dst, sizeof(dst), "%s", chance(95) ? V6_REFL : "ff02::1");
		pb_ipv6(p, src, dst, (uint8_t)rnd(), (uint8_t)rnd(), (uint32_t)rnd());
		for (n = chance(85) ? 0 : 1 + (int)below(2); n > 0; n--)
			pb_ipv6_ext(p, ext_types[below(4)], 8 * (1 + below(3)));
	} else {
		snprintf(src, sizeof(src), "%s",
			 chance(85) ? V4_SENDER :
			 chance(50) ? "192.0.2.99" :
				      "224.0.0.1");
		snprintf(dst, sizeof(dst), "%s", chance(95) ? V4_REFL : "255.255.255.255");
		pb_ipv4(p, src, dst, (uint8_t)rnd(), (uint8_t)rnd(),
			chance(75) ? 0 : 4 * below(11));
		if (chance(5))
			p->frag = chance(50) ? PB_IP_MF : (uint16_t)(1 + below(0x1fff));
		else if (chance(20))
			p->frag = PB_IP_DF;
	}
	pb_udp(p, chance(90) ? SENDER_PORT : (chance(50) ? 0 : (uint16_t)rnd()), dport);
	if (chance(60))
		plen = sizes[below(sizeof(sizes) / sizeof(sizes[0]))];
	else if (chance(90))
		plen = below(200);
	else
		plen = below(1200);
	rand_bytes(payload, plen);
	if (plen >= 16 && chance(80)) {
		payload[14] = 0;
		payload[15] = SESS_SSID;
	}
	pb_payload(p, payload, plen);
	if (chance(4))
		p->breaks |= PB_BAD_IP_CSUM;
	if (chance(8))
		p->breaks |= PB_UDP_CSUM_ZERO;
	if (chance(8))
		p->udp_len_delta = (int)below(41) - 20;
	if (chance(8))
		p->ip_len_delta = (int)below(41) - 20;
	if (chance(10)) {
		p->pad_to = p->len + below(48);
		p->pad_byte = (uint8_t)rnd();
	}
	pb_finish(p);
}

/* A third VLAN tag in front of the frame's EtherType (the program passes those). */
static void add_tag(struct pkt *p)
{
	if (p->len + 4 > FRAME_MAX)
		return;
	memmove(p->data + 16, p->data + 12, p->len - 12);
	ck_put16(p->data + 12, PB_ETH_P_8021Q);
	ck_put16(p->data + 14, (uint16_t)rnd());
	p->len += 4;
}

static void mutate(struct pkt *p)
{
	int n, i;

	if (chance(3))
		add_tag(p);
	if (chance(35)) {
		/* Bit flips, mostly in the headers where the parser looks. */
		for (n = 1 + (int)below(8); n > 0 && p->len; n--) {
			size_t at = chance(70) && p->len > 80 ? below(80) : below((uint32_t)p->len);

			p->data[at] ^= (uint8_t)(1u << below(8));
		}
	}
	if (chance(5)) {
		for (n = 1 + (int)below(4); n > 0 && p->len; n--) {
			size_t at = below((uint32_t)p->len);

			for (i = 0; i < 2 && at + (size_t)i < p->len; i++)
				p->data[at + (size_t)i] = (uint8_t)rnd();
		}
	}
	if (chance(10))
		p->len = 14 + below((uint32_t)(p->len > 14 ? p->len - 14 : 1));
	else if (chance(3) && p->len + 64 <= FRAME_MAX) {
		/* bytes appended behind the IP packet (trailer) */
		n = 1 + (int)below(64);
		rand_bytes(p->data + p->len, (size_t)n);
		p->len += (size_t)n;
	}
}

static void noise(struct pkt *p)
{
	static const uint16_t types[] = { PB_ETH_P_IPV4, PB_ETH_P_IPV6, PB_ETH_P_8021Q,
					  PB_ETH_P_8021AD, PB_ETH_P_ARP };

	pb_init(p);
	p->len = 14 + below(200);
	rand_bytes(p->data, p->len);
	if (chance(80))
		ck_put16(p->data + 12, types[below(5)]);
	if (chance(50))
		p->data[14] = chance(50) ? 0x45 : 0x60;
}

/* ---- seeds ---------------------------------------------------------------------- */

/* The table tests' shapes, one frame each: a small, readable seed corpus. */
static int make_seeds(struct pkt *s, int max)
{
	static const struct {
		int v6, vlans, opts, ext;
		uint16_t dport;
		size_t plen;
		bool zero_csum;
	} t[] = {
		{ 0, 0, 0, 0, P_LIGHT, 14, false }, { 0, 0, 0, 0, P_LIGHT, 41, false },
		{ 0, 0, 0, 0, P_LIGHT, 100, true }, { 0, 2, 40, 0, P_LIGHT_STATELESS, 27, false },
		{ 0, 1, 4, 0, P_STAMP, 44, false }, { 0, 0, 0, 0, P_STAMP, 60, false },
		{ 0, 0, 0, 0, P_SESS, 41, false },  { 0, 0, 0, 0, P_SESS_STAMP, 44, false },
		{ 0, 0, 0, 0, 53, 20, false },	    { 1, 0, 0, 0, P_LIGHT, 14, false },
		{ 1, 1, 0, 0, P_LIGHT, 64, false }, { 1, 0, 0, 0, P_STAMP, 44, false },
		{ 1, 2, 0, 0, P_SESS, 41, false },  { 1, 0, 0, 0, P_SESS_STAMP, 80, false },
		{ 1, 0, 0, 1, P_LIGHT, 41, false }, { 1, 0, 0, 0, 12345, 10, false },
	};
	uint8_t payload[128];
	int i, n = 0;
	size_t k;

	for (i = 0; i < (int)(sizeof(t) / sizeof(t[0])) && n < max; i++) {
		struct pkt *p = &s[n++];

		for (k = 0; k < sizeof(payload); k++)
			payload[k] = (uint8_t)(k * 7 + 1);
		payload[14] = 0;
		payload[15] = SESS_SSID;
		pb_init(p);
		pb_eth(p, mac_b, mac_a);
		for (k = 0; k < (size_t)t[i].vlans; k++)
			pb_vlan(p, k ? PB_ETH_P_8021Q : PB_ETH_P_8021AD, (uint16_t)(100 + k));
		if (t[i].v6) {
			pb_ipv6(p, V6_SENDER, V6_REFL, 0xb8, 64, 0x12345);
			if (t[i].ext)
				pb_ipv6_ext(p, PB_IPV6_DSTOPTS, 8);
		} else {
			pb_ipv4(p, V4_SENDER, V4_REFL, 0xb8, 64, (size_t)t[i].opts);
		}
		pb_udp(p, SENDER_PORT, t[i].dport);
		pb_payload(p, payload, t[i].plen);
		if (t[i].zero_csum)
			p->breaks |= PB_UDP_CSUM_ZERO;
		pb_finish(p);
	}
	return n;
}

static int write_seeds(const char *dir)
{
	struct pkt s[64];
	char path[512];
	int n = make_seeds(s, 64), i;
	size_t k;
	FILE *f;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/seed-%02d.hex", dir, i);
		f = fopen(path, "w");
		if (!f) {
			perror(path);
			return 1;
		}
		for (k = 0; k < s[i].len; k++)
			fprintf(f, "%02x%s", s[i].data[k],
				(k % 32 == 31 || k + 1 == s[i].len) ? "\n" : "");
		fclose(f);
	}
	printf("xdp_fuzz: %d seeds written to %s\n", n, dir);
	return 0;
}

/* Hex files (whitespace ignored, '#' comments); each is one frame. */
static int load_corpus(const char *dir)
{
	struct dirent **ents;
	char path[512], line[512];
	int n, i;

	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "xdp_fuzz: %s: %s (seeds built in are used)\n", dir,
			strerror(errno));
		return 0;
	}
	for (i = 0; i < n; i++) {
		struct pkt *p;
		FILE *f;
		char *c;
		int hi = -1;

		if (!strstr(ents[i]->d_name, ".hex") || g.nseeds >= 64) {
			free(ents[i]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		free(ents[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		p = &g.seeds[g.nseeds];
		pb_init(p);
		while (fgets(line, sizeof(line), f)) {
			for (c = line; *c && *c != '#'; c++) {
				int x;

				if (*c >= '0' && *c <= '9')
					x = *c - '0';
				else if ((*c | 0x20) >= 'a' && (*c | 0x20) <= 'f')
					x = (*c | 0x20) - 'a' + 10;
				else
					continue;
				if (hi < 0) {
					hi = x;
				} else if (p->len < FRAME_MAX) {
					p->data[p->len++] = (uint8_t)(hi << 4 | x);
					hi = -1;
				}
			}
		}
		fclose(f);
		if (p->len)
			g.nseeds++;
	}
	free(ents);
	return g.nseeds;
}

/* ---- setup ------------------------------------------------------------------------ */

static int map_addr(const char *text, union xt_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET6, text, a->b) == 1)
		return 0;
	a->b[10] = a->b[11] = 0xff;
	return inet_pton(AF_INET, text, a->b + 12) == 1 ? 0 : -1;
}

static int add_session(int fd, bool v6, uint16_t port, uint8_t format, uint16_t ssid, uint8_t flags,
		       uint8_t dscp)
{
	struct xt_session_key k = { 0 };
	struct xt_session s = { .format = format, .flags = flags, .dscp = dscp };

	s.state = XT_SESS_STARTED;
	if (map_addr(v6 ? V6_SENDER : V4_SENDER, &k.sender_addr) ||
	    map_addr(v6 ? V6_REFL : V4_REFL, &k.reflector_addr))
		return -1;
	k.sender_port = htons(SENDER_PORT);
	k.reflector_port = htons(port);
	k.ssid = htons(ssid);
	return bpf_map_update_elem(fd, &k, &s, BPF_ANY);
}

static int setup(void)
{
	struct xt_config cfg = { .error_estimate = 0x8001, .flags = XT_CFG_CLOCK_VALID };
	struct bpf_program *prog;
	struct timespec rt, tai;
	__u32 zero = 0, key;
	int fd_ports, fd_sess, err;
	struct {
		uint16_t port;
		uint8_t flags, format;
	} ports[] = {
		{ P_LIGHT, XT_PORT_LIGHT, XT_FMT_TWAMP },
		{ P_LIGHT_STATELESS, XT_PORT_LIGHT | XT_PORT_STATELESS, XT_FMT_TWAMP },
		{ P_STAMP, XT_PORT_LIGHT, XT_FMT_STAMP },
		{ P_SESS, XT_PORT_SESSIONS, XT_FMT_TWAMP },
		{ P_SESS_STAMP, XT_PORT_SESSIONS, XT_FMT_STAMP },
	};
	size_t i;

	g.skel = xtwamp__open();
	if (!g.skel)
		return -errno;
	bpf_object__for_each_program(prog, g.skel->obj)
		bpf_program__set_autoload(prog, prog == g.skel->progs.xtwamp_reflect);
	err = xtwamp__load(g.skel);
	if (err)
		return err;
	g.prog_fd = bpf_program__fd(g.skel->progs.xtwamp_reflect);
	g.fd_counters = bpf_map__fd(g.skel->maps.xtwamp_counters);
	g.ncpus = libbpf_num_possible_cpus();
	if (g.ncpus <= 0 || g.ncpus > 512 || bpf_map__value_size(g.skel->maps.xtwamp_counters) != 8)
		return -EINVAL;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_TAI, &tai);
	cfg.clock_offset_ns = (int64_t)(rt.tv_sec - tai.tv_sec) * 1000000000LL;
	cfg.clock_updated_ns = (uint64_t)tai.tv_sec * 1000000000ULL;
	if (bpf_map_update_elem(bpf_map__fd(g.skel->maps.xtwamp_config), &zero, &cfg, BPF_ANY))
		return -errno;
	fd_ports = bpf_map__fd(g.skel->maps.xtwamp_ports);
	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		struct xt_port v = { .flags = ports[i].flags, .format = ports[i].format };

		key = ports[i].port;
		if (bpf_map_update_elem(fd_ports, &key, &v, BPF_ANY))
			return -errno;
	}
	fd_sess = bpf_map__fd(g.skel->maps.xtwamp_sessions);
	if (add_session(fd_sess, false, P_SESS, XT_FMT_TWAMP, 0, 0, 0) ||
	    add_session(fd_sess, true, P_SESS, XT_FMT_TWAMP, 0, XT_SESS_SET_DSCP, 46) ||
	    add_session(fd_sess, false, P_SESS_STAMP, XT_FMT_STAMP, SESS_SSID, XT_SESS_STATELESS,
			0) ||
	    add_session(fd_sess, true, P_SESS_STAMP, XT_FMT_STAMP, SESS_SSID, XT_SESS_SET_DSCP, 10))
		return -errno;
	return read_counters(g.cnt);
}

/*
 * --bench: the program's cost per reflected packet (BPF_PROG_TEST_RUN
 * repeat) for a small and a full-size TWAMP Light request, to weigh
 * additions such as verifying the request's UDP checksum against it.
 */
static int bench(void)
{
	static const size_t plens[] = { 41, 1472 };
	static uint8_t payload[1500], out[OUT_MAX];
	struct pkt p;
	size_t i;

	for (i = 0; i < sizeof(plens) / sizeof(plens[0]); i++) {
		pb_init(&p);
		pb_eth(&p, mac_b, mac_a);
		pb_ipv4(&p, V4_SENDER, V4_REFL, 0, 64, 0);
		/* test_run repeats on the reply: same ports both ways keep it ours */
		pb_udp(&p, P_LIGHT_STATELESS, P_LIGHT_STATELESS);
		pb_payload(&p, payload, plens[i]);
		pb_finish(&p);
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p.data,
			    .data_size_in = (__u32)p.len, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 200000);
		if (bpf_prog_test_run_opts(g.prog_fd, &opts) || opts.retval != XDP_TX) {
			fprintf(stderr, "xdp_fuzz: bench run failed (verdict %u)\n", opts.retval);
			return 1;
		}
		printf("xdp_fuzz: %zu-octet frame (UDP payload %zu): %u ns per reflected packet\n",
		       p.len, plens[i], opts.duration);
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: xdp_fuzz [-n FRAMES] [-t SECONDS] [-s SEED] [-c CORPUS_DIR] [-v]\n"
			"       xdp_fuzz --write-seeds DIR\n"
			"       xdp_fuzz --bench\n");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = { { "write-seeds", required_argument, NULL, 'W' },
					       { "bench", no_argument, NULL, 'B' },
					       { NULL, 0, NULL, 0 } };
	bool do_bench = false;
	unsigned long want = 1000000, seed_runs = 0;
	const char *corpus = "tests/fuzz/corpus/xdp";
	double limit = 0, t0;
	struct pkt p;
	int opt, i, err;
	size_t k;

	g.rng = 0x7477616d70ULL;
	while ((opt = getopt_long(argc, argv, "n:t:s:c:vh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			want = strtoul(optarg, NULL, 0);
			break;
		case 't':
			limit = strtod(optarg, NULL);
			break;
		case 's':
			g.rng = strtoull(optarg, NULL, 0) | 1;
			break;
		case 'c':
			corpus = optarg;
			break;
		case 'v':
			g.verbose = true;
			break;
		case 'W':
			return write_seeds(optarg);
		case 'B':
			do_bench = true;
			break;
		default:
			usage();
			return opt == 'h' ? 0 : 2;
		}
	}
	if (geteuid() != 0) {
		printf("SKIP: not root: loading the XDP program needs CAP_BPF/CAP_SYS_ADMIN\n");
		return 77;
	}
	libbpf_set_print(NULL);
	err = setup();
	if (err) {
		fprintf(stderr, "xdp_fuzz: loading/configuring the program: %s\n", strerror(-err));
		return 1;
	}
	if (do_bench) {
		err = bench();
		xtwamp__destroy(g.skel);
		return err;
	}
	if (load_corpus(corpus) == 0)
		g.nseeds = make_seeds(g.seeds, 64);
	printf("xdp_fuzz: %d seeds, seed 0x%" PRIx64 ", %lu frames%s\n", g.nseeds, g.rng, want,
	       limit > 0 ? " (or the time limit)" : "");
	t0 = now_s();

	/* Every seed whole, truncated at every offset, and with every bit flipped once. */
	for (i = 0; i < g.nseeds && g.failures < MAX_FAILURES; i++) {
		const struct pkt *s = &g.seeds[i];

		run_frame(s->data, s->len);
		for (k = 14; k < s->len; k++)
			run_frame(s->data, k);
		for (k = 0; k < s->len * 8; k++) {
			p = *s;
			p.data[k / 8] ^= (uint8_t)(1u << (k % 8));
			run_frame(p.data, p.len);
		}
	}
	seed_runs = g.frames;

	while (g.frames < want && g.failures < MAX_FAILURES) {
		unsigned r = below(100);

		if (r < 5)
			noise(&p);
		else if (r < 25 && g.nseeds)
			p = g.seeds[below((uint32_t)g.nseeds)];
		else
			gen_frame(&p);
		if (r >= 5)
			mutate(&p);
		run_frame(p.data, p.len);
		if ((g.frames & 0xfff) == 0 && limit > 0 && now_s() - t0 > limit)
			break;
		if (g.verbose && (g.frames % 100000) == 0)
			printf("  %lu frames, %.1f s\n", g.frames, now_s() - t0);
	}

	printf("xdp_fuzz: %lu frames in %.1f s (%lu from the seeds), %lu failures\n", g.frames,
	       now_s() - t0, seed_runs, g.failures);
	printf("  verdicts: pass %lu, tx %lu, drop %lu, other %lu; %lu for a configured port or "
	       "session\n",
	       g.verdicts[XDP_PASS], g.verdicts[XDP_TX], g.verdicts[XDP_DROP],
	       g.verdicts[XDP_ABORTED] + g.verdicts[XDP_REDIRECT] + g.verdicts[7], g.ours);
	printf("  counters:");
	for (i = 0; i < XT_CNT__COUNT; i++)
		if (g.cnt[i])
			printf(" %d=%" PRIu64, i, g.cnt[i]);
	printf("\n");
	xtwamp__destroy(g.skel);
	return g.failures ? 1 : 0;
}
