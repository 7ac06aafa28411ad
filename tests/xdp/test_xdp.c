// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_xdp.c - table-driven BPF_PROG_TEST_RUN tests of the XDP reflector.
 *
 * Every row of the table is one cmocka test: a map setup (ports, config,
 * allow-list, sessions) and up to MAX_STEPS frames, each with the verdict,
 * the counter deltas and the reply it must produce.  Rows that differ only
 * in a size or an offset (IPv4 option lengths, payload sizes, truncation
 * points) are generated at start-up so that each case still reports on its
 * own.  Replies are checked field by field against the request and against
 * an independent checksum recomputation (checksum.c), never against the
 * program's own arithmetic.
 *
 * The BPF rows need root (or at least the right to load the program): as
 * any other user, or when loading fails with EPERM, they skip and only the
 * self-tests of the checksum code and the packet builder run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xtwamp_maps.h"
#include "xtwamp_wire.h"
#include "xtwamp.skel.h"

#include "checksum.h"
#include "pktbuild.h"

/* ---- constants of the table ---------------------------------------------- */

#define MAX_STEPS 8
#define MAX_PORTS 4
#define MAX_ALLOW 4
#define MAX_SESS 2
#define ALLOW_VALUE_MAX 64

/* The program may grow a frame by up to 27 octets; leave far more room. */
#define OUT_MAX 8192

/* Slack on the T2/T3 window: the two clock reads bracket the run. */
#define TS_SLACK_NS 5000ULL

#define TEST_PORT 862
#define OTHER_PORT 863
#define SENDER_PORT 40001

#define V4_SENDER "192.0.2.10"
#define V4_SENDER_B "192.0.2.11"
#define V4_REFLECTOR "198.51.100.1"
#define V6_SENDER "2001:db8:1::10"
#define V6_SENDER_B "2001:db8:1::11"
#define V6_REFLECTOR "2001:db8:2::1"

#define CFG_ERROR_ESTIMATE 0x8587 /* S bit, scale 5, multiplier 0x87 */
#define DEF_TOS 0xb9		  /* DSCP 46 (EF) + ECN 01: both parts visible */
#define DEF_TTL4 61
#define DEF_HLIM6 59
#define SENDER_T1_HI 0xe8f0a1b2u
#define SENDER_T1_LO 0x3c4d5e6fu
#define SENDER_EE 0x0a0b

#define PLEN_NONE (-1) /* a UDP datagram with no payload at all */
#define RSEQ_COPY (-1) /* reflector seq must equal the sender's */

static const uint8_t sender_mac[6] = { 0x02, 0x00, 0x5e, 0x00, 0x53, 0x01 };
static const uint8_t reflector_mac[6] = { 0x02, 0x00, 0x5e, 0x00, 0x53, 0x02 };

/* ---- the table's types ----------------------------------------------------- */

/* One request frame.  Zero fields mean "the usual" (see build_request()). */
struct pkt_spec {
	uint8_t family;	       /* 4 (default) or 6 */
	uint8_t nvlan;	       /* 0..2: one 802.1Q, or 802.1ad outer + 802.1Q inner */
	uint8_t opt_len;       /* IPv4 options, octets */
	const char *src, *dst; /* default V4_/V6_SENDER -> V4_/V6_REFLECTOR */
	uint16_t sport, dport; /* default SENDER_PORT -> TEST_PORT */
	bool sport_zero;       /* really send from port 0 */
	uint8_t tos;	       /* default DEF_TOS */
	uint8_t ttl;	       /* default DEF_TTL4 / DEF_HLIM6 */
	uint8_t proto;	       /* 0 = UDP, else a raw header of that protocol */
	bool ext;	       /* IPv6 extension header of type ext_type before L4 */
	uint8_t ext_type;
	uint16_t ethertype; /* non-IP frame of this EtherType */
	int plen;	    /* UDP payload octets; 0 = 41 (TWAMP) / 44 (STAMP) */
	bool stamp;	    /* lay out the payload as a STAMP sender (SSID at 14) */
	uint32_t seq;	    /* sender sequence number */
	uint16_t ssid;
	unsigned breaks; /* PB_BAD_IP_CSUM | PB_UDP_CSUM_ZERO */
	uint16_t frag;	 /* IPv4 flags + fragment offset */
	int udp_len_delta, ip_len_delta;
	uint16_t pad_to;   /* Ethernet trailer up to this frame length */
	uint16_t truncate; /* cut the frame to this many octets */
};

/* Where the reflector must keep state for a reflected packet. */
enum where {
	W_UNSET = 0, /* table error for an XDP_TX step */
	W_NONE,	     /* stateless: xtwamp_flows must stay empty */
	W_FLOW,	     /* stateful light: entry in xtwamp_flows */
	W_SESSION,   /* negotiated: counted in the xtwamp_sessions entry, no flow */
};

struct step {
	struct pkt_spec pkt;
	int verdict;	 /* XDP_PASS / XDP_TX / XDP_DROP; 0 ends the steps */
	int drop;	 /* XT_CNT_DROP_* for XDP_DROP */
	bool frag_cnt;	 /* PASS also bumps PASSED_FRAGMENT */
	bool ext_cnt;	 /* PASS also bumps PASSED_IPV6_EXT */
	bool grown;	 /* TWAMP reply grown to 41 octets */
	bool ip_surplus; /* IP payload longer than the UDP datagram: the
				* reply's frame and IP lengths are not checked */
	uint8_t fmt;	 /* reply format, enum xt_format */
	int64_t rseq;	 /* reflector seq, or RSEQ_COPY */
	bool dscp_set;	 /* reply DSCP = dscp (ECN kept); else TOS unchanged */
	uint8_t dscp;
	enum where where;
	uint32_t count; /* W_FLOW / W_SESSION: packets in the entry afterwards */
	bool userspace; /* XT_SESS_USERSPACE: handed to xtwampd with struct xt_xsk_meta
			 * in front (XDP_PASS: the test run's XSKMAP is empty); count =
			 * the session's rx_packets afterwards */
};

struct port_cfg {
	uint16_t port;
	uint8_t flags;
	uint8_t format;
};

struct sess_cfg {
	bool used;
	bool v6; /* default addresses of that family */
	const char *sender, *reflector;
	uint16_t sport, rport, ssid; /* default SENDER_PORT, TEST_PORT, 0 */
	uint8_t format, flags, dscp, state;
	int stop; /* 0: no deadline; -1: a second ago; +1: in an hour */
};

struct row {
	const char *desc;
	struct port_cfg ports[MAX_PORTS]; /* none: TEST_PORT light TWAMP, stateful */
	bool clock_unset;
	bool allowlist;		      /* XT_CFG_ALLOWLIST_ENFORCED */
	const char *allow[MAX_ALLOW]; /* "addr/len" prefixes */
	uint32_t rate_pps, rate_burst;
	int64_t clock_shift_s; /* published offset = measured + this */
	struct sess_cfg sess[MAX_SESS];
	struct step steps[MAX_STEPS];
};

/* ---- shortcuts for the table ---------------------------------------------- */

#define PORT(p, fl, fm)                                    \
	{                                                  \
		.port = (p), .flags = (fl), .format = (fm) \
	}
#define LIGHT_TWAMP PORT(TEST_PORT, XT_PORT_LIGHT, XT_FMT_TWAMP)
#define LIGHT_STAMP PORT(TEST_PORT, XT_PORT_LIGHT, XT_FMT_STAMP)
#define STATELESS_TWAMP PORT(TEST_PORT, XT_PORT_LIGHT | XT_PORT_STATELESS, XT_FMT_TWAMP)
#define STATELESS_STAMP PORT(TEST_PORT, XT_PORT_LIGHT | XT_PORT_STATELESS, XT_FMT_STAMP)

#define REFLECT .verdict = XDP_TX
#define PASSES .verdict = XDP_PASS
#define DROPS(c) .verdict = XDP_DROP, .drop = XT_CNT_DROP_##c
#define FLOW(n) .rseq = (n), .where = W_FLOW, .count = (n) + 1
#define NOSTATE .rseq = RSEQ_COPY, .where = W_NONE
#define SESS(n) .rseq = (n), .where = W_SESSION, .count = (n) + 1
#define SESS_COPY(n) .rseq = RSEQ_COPY, .where = W_SESSION, .count = (n)
#define STAMPFMT .fmt = XT_FMT_STAMP
#define SET_DSCP(d) .dscp_set = true, .dscp = (d)
/* Authenticated/encrypted session: n-th request (from 1) handed to user space. */
#define TO_USERSPACE(n) .verdict = XDP_PASS, .userspace = true, .where = W_SESSION, .count = (n)
#define USERSPACE_PORT PORT(TEST_PORT, XT_PORT_SESSIONS, XT_FMT_TWAMP)
/* An authenticated/encrypted session; the arguments add to the defaults of sess_cfg. */
#define USERSPACE_SESS(...)                                                                   \
	{                                                                                     \
		.used = true, .format = XT_FMT_TWAMP, .flags = XT_SESS_USERSPACE, __VA_ARGS__ \
	}

/* ---- global state ---------------------------------------------------------- */

static struct {
	struct xtwamp *skel;
	const char *skip_reason;
	char load_error[256];
	int prog_fd;
	int fd_config, fd_ports, fd_sessions, fd_flows, fd_allow, fd_rate, fd_counters;
	int ncpus;
	bool counters_struct; /* one per-CPU struct of counters instead of one entry each */
	int64_t clock_offset_ns;
	uint16_t ports_set[64];
	int nports_set;
	unsigned rows_run, rows_failed, runs;
} g;

static const char *const counter_names[XT_CNT__COUNT] = {
#define XT_COUNTER_NAME(id, name, help) [XT_CNT_##id] = "XT_CNT_" #id,
	XT_COUNTERS(XT_COUNTER_NAME)
#undef XT_COUNTER_NAME
};

/* Per-row bookkeeping: mismatches are collected, not fatal, to see them all. */
struct rctx {
	const struct row *row;
	int step;
	int nerr;
	uint64_t first_rx[MAX_STEPS]; /* first_rx_ns seen per step's state entry */
};

static void report(struct rctx *rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report(struct rctx *rc, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	print_error("    step %d: %s\n", rc->step, msg);
	rc->nerr++;
}

#define CHECK_EQ(rc, what, exp, got)                                                              \
	do {                                                                                      \
		unsigned long long e_ = (unsigned long long)(exp);                                \
		unsigned long long g_ = (unsigned long long)(got);                                \
		if (e_ != g_)                                                                     \
			report(rc, "%s: expected %llu (0x%llx), got %llu (0x%llx)", what, e_, e_, \
			       g_, g_);                                                           \
	} while (0)

static const char *verdict_name(int v)
{
	switch (v) {
	case XDP_ABORTED:
		return "XDP_ABORTED";
	case XDP_DROP:
		return "XDP_DROP";
	case XDP_PASS:
		return "XDP_PASS";
	case XDP_TX:
		return "XDP_TX";
	case XDP_REDIRECT:
		return "XDP_REDIRECT";
	default:
		return "unknown verdict";
	}
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * XT_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* ---- building requests ----------------------------------------------------- */

static int spec_family(const struct pkt_spec *s)
{
	return s->family == 6 ? 6 : 4;
}

static int spec_plen(const struct pkt_spec *s)
{
	if (s->plen == PLEN_NONE)
		return 0;
	if (s->plen)
		return s->plen;
	return s->stamp ? XT_STAMP_BASE : XT_TWAMP_REFLECTOR_MIN;
}

/*
 * Sender payload: the RFC 4656 / RFC 8762 header as far as it fits, the
 * rest a pattern with bit 7 always set.  A non-zero pattern makes "octets
 * 41.. unchanged" and "octets 41..43 zeroed" observable, and the pattern
 * also fills the MBZ octets of STAMP requests, which a reflector must
 * overwrite rather than copy.
 */
static void fill_payload(uint8_t *pl, size_t len, const struct pkt_spec *s)
{
	uint8_t hdr[16];
	size_t i;

	for (i = 0; i < len; i++)
		pl[i] = (uint8_t)(0x80 | ((i * 13 + 5) & 0x7f));
	put32(hdr, s->seq);
	put32(hdr + 4, SENDER_T1_HI);
	put32(hdr + 8, SENDER_T1_LO);
	ck_put16(hdr + 12, SENDER_EE);
	ck_put16(hdr + 14, s->ssid);
	for (i = 0; i < len && i < (s->stamp ? 16u : 14u); i++)
		pl[i] = hdr[i];
}

static void build_request(const struct pkt_spec *s, struct pkt *p)
{
	static const uint16_t tpid[2][2] = { { PB_ETH_P_8021Q, 0 },
					     { PB_ETH_P_8021AD, PB_ETH_P_8021Q } };
	static const uint16_t tci[2][2] = { { 0xe00a, 0 }, { 0x2064, 0xa0c8 } };
	int fam = spec_family(s);
	const char *src = s->src ? s->src : fam == 4 ? V4_SENDER : V6_SENDER;
	const char *dst = s->dst ? s->dst : fam == 4 ? V4_REFLECTOR : V6_REFLECTOR;
	uint16_t sport = s->sport_zero ? 0 : s->sport ? s->sport : SENDER_PORT;
	uint16_t dport = s->dport ? s->dport : TEST_PORT;
	uint8_t tos = s->tos ? s->tos : DEF_TOS;
	uint8_t ttl = s->ttl ? s->ttl : fam == 4 ? DEF_TTL4 : DEF_HLIM6;
	uint8_t pl[PKT_MAX];
	size_t plen = (size_t)spec_plen(s);
	int i, err;

	pb_init(p);
	pb_eth(p, reflector_mac, sender_mac);
	for (i = 0; i < s->nvlan; i++)
		pb_vlan(p, tpid[s->nvlan - 1][i], tci[s->nvlan - 1][i]);
	if (s->ethertype) {
		/* an ARP-sized body whose octets would read as UDP port 862 if misparsed */
		memset(pl, 0, 28);
		ck_put16(pl + 22, TEST_PORT);
		pb_ethertype_raw(p, s->ethertype, pl, 28);
		pb_finish(p);
		return;
	}
	if (fam == 4)
		err = pb_ipv4(p, src, dst, tos, ttl, s->opt_len);
	else
		err = pb_ipv6(p, src, dst, tos, ttl, 0x12345);
	assert_int_equal(err, 0); /* a typo in the table */
	if (s->ext)
		pb_ipv6_ext(p, s->ext_type, 8);
	fill_payload(pl, plen, s);
	if (s->proto) {
		/*
		 * Transport headers that start with the same two ports as a
		 * request, so that a program which does not look at the
		 * protocol field would take them for TWAMP.
		 */
		uint8_t l4[20] = { 0 };
		size_t l4len = 8;

		ck_put16(l4, sport);
		ck_put16(l4 + 2, dport);
		if (s->proto == 6) {
			l4len = 20;
			l4[12] = 0x50; /* data offset 5 */
			l4[13] = 0x02; /* SYN */
		}
		pb_l4_raw(p, s->proto, l4, l4len);
	} else {
		pb_udp(p, sport, dport);
	}
	pb_payload(p, pl, plen);
	p->breaks = s->breaks;
	p->frag = s->frag;
	p->udp_len_delta = s->udp_len_delta;
	p->ip_len_delta = s->ip_len_delta;
	p->pad_to = s->pad_to;
	p->pad_byte = 0xee;
	p->truncate = s->truncate;
	pb_finish(p);
}

/* IPv4 becomes ::ffff:a.b.c.d, as in the map ABI. */
static void map_addr(union xt_addr *a, int family, const uint8_t *raw)
{
	memset(a, 0, sizeof(*a));
	if (family == 4) {
		a->b[10] = 0xff;
		a->b[11] = 0xff;
		memcpy(a->b + 12, raw, 4);
	} else {
		memcpy(a->b, raw, 16);
	}
}

static int parse_addr(const char *text, union xt_addr *a)
{
	uint8_t raw[16];

	if (inet_pton(AF_INET, text, raw) == 1) {
		map_addr(a, 4, raw);
		return 4;
	}
	if (inet_pton(AF_INET6, text, raw) == 1) {
		map_addr(a, 6, raw);
		return 6;
	}
	return -1;
}

/* The flow / session key the reflector should use for a request. */
static void request_key(const struct pkt *p, uint8_t fmt, struct xt_session_key *k)
{
	const uint8_t *udp = p->data + p->l4_off;

	memset(k, 0, sizeof(*k));
	map_addr(&k->sender_addr, p->family, p->saddr);
	map_addr(&k->reflector_addr, p->family, p->daddr);
	memcpy(&k->sender_port, udp, 2);
	memcpy(&k->reflector_port, udp + 2, 2);
	if (fmt == XT_FMT_STAMP)
		memcpy(&k->ssid, p->data + p->payload_off + 14, 2);
}

/* ---- maps -------------------------------------------------------------------- */

static int delete_all(int fd)
{
	uint8_t key[64];

	while (bpf_map_get_next_key(fd, NULL, key) == 0) {
		if (bpf_map_delete_elem(fd, key))
			return -errno;
	}
	return 0;
}

static int count_entries(int fd)
{
	uint8_t key[64], next[64];
	int n = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
}

/* Sum the per-CPU counters into out[XT_CNT__COUNT]. */
static int read_counters(uint64_t *out)
{
	static uint64_t vals[XT_CNT__COUNT * 512];
	__u32 key;
	int c, i;

	memset(out, 0, sizeof(*out) * XT_CNT__COUNT);
	if (g.counters_struct) {
		key = 0;
		if (bpf_map_lookup_elem(g.fd_counters, &key, vals))
			return -errno;
		for (c = 0; c < g.ncpus; c++)
			for (i = 0; i < XT_CNT__COUNT; i++)
				out[i] += vals[c * XT_CNT__COUNT + i];
		return 0;
	}
	for (i = 0; i < XT_CNT__COUNT; i++) {
		key = (__u32)i;
		if (bpf_map_lookup_elem(g.fd_counters, &key, vals))
			return -errno;
		for (c = 0; c < g.ncpus; c++)
			out[i] += vals[c];
	}
	return 0;
}

static int write_config(const struct row *r)
{
	struct xt_config cfg = {
		.clock_offset_ns = g.clock_offset_ns + r->clock_shift_s * (int64_t)XT_NSEC_PER_SEC,
		.clock_updated_ns = clock_ns(CLOCK_TAI),
		.rate_limit_pps = r->rate_pps,
		.rate_burst = r->rate_burst,
		.error_estimate = CFG_ERROR_ESTIMATE,
		.flags = (uint8_t)((r->clock_unset ? 0 : XT_CFG_CLOCK_VALID) |
				   (r->allowlist ? XT_CFG_ALLOWLIST_ENFORCED : 0)),
	};
	__u32 key = 0;

	return bpf_map_update_elem(g.fd_config, &key, &cfg, BPF_ANY) ? -errno : 0;
}

static int set_port(uint16_t port, uint8_t flags, uint8_t format)
{
	struct xt_port v = { .flags = flags, .format = format };
	__u32 key = port;

	return bpf_map_update_elem(g.fd_ports, &key, &v, BPF_ANY) ? -errno : 0;
}

static int add_allow(const char *text)
{
	struct xt_allow_key k = { 0 };
	uint8_t value[ALLOW_VALUE_MAX] = { 1 }; /* "allowed"; the kernel reads value_size */
	char buf[64];
	char *slash;
	int fam;

	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	fam = parse_addr(buf, &k.addr);
	if (fam < 0)
		return -EINVAL;
	k.prefixlen = (__u32)atoi(slash + 1) + (fam == 4 ? 96 : 0);
	return bpf_map_update_elem(g.fd_allow, &k, value, BPF_ANY) ? -errno : 0;
}

static int add_session(const struct sess_cfg *s)
{
	const char *sender = s->sender ? s->sender : s->v6 ? V6_SENDER : V4_SENDER;
	const char *refl = s->reflector ? s->reflector : s->v6 ? V6_REFLECTOR : V4_REFLECTOR;
	struct xt_session_key k = { 0 };
	struct xt_session v = {
		.format = s->format,
		.flags = s->flags,
		.dscp = s->dscp,
		.state = s->state,
	};

	if (parse_addr(sender, &k.sender_addr) < 0 || parse_addr(refl, &k.reflector_addr) < 0)
		return -EINVAL;
	k.sender_port = htons(s->sport ? s->sport : SENDER_PORT);
	k.reflector_port = htons(s->rport ? s->rport : TEST_PORT);
	k.ssid = htons(s->ssid);
	if (s->stop < 0)
		v.stop_deadline_ns = clock_ns(CLOCK_TAI) - XT_NSEC_PER_SEC;
	else if (s->stop > 0)
		v.stop_deadline_ns = clock_ns(CLOCK_TAI) + 3600 * XT_NSEC_PER_SEC;
	return bpf_map_update_elem(g.fd_sessions, &k, &v, BPF_NOEXIST) ? -errno : 0;
}

/* Bring every map to the state the row describes, from whatever came before. */
static int setup_row(const struct row *r)
{
	static const struct port_cfg def_port = LIGHT_TWAMP;
	int i, err;

	for (i = 0; i < g.nports_set; i++) {
		err = set_port(g.ports_set[i], 0, 0);
		if (err)
			return err;
	}
	g.nports_set = 0;
	if ((err = delete_all(g.fd_flows)) || (err = delete_all(g.fd_sessions)) ||
	    (err = delete_all(g.fd_rate)) || (err = delete_all(g.fd_allow)))
		return err;
	err = write_config(r);
	if (err)
		return err;
	for (i = 0; i < MAX_PORTS; i++) {
		const struct port_cfg *pc = &r->ports[i];

		if (!pc->port) {
			if (i)
				break;
			pc = &def_port;
		}
		err = set_port(pc->port, pc->flags, pc->format);
		if (err)
			return err;
		g.ports_set[g.nports_set++] = pc->port;
		if (!r->ports[i].port)
			break;
	}
	for (i = 0; i < MAX_ALLOW && r->allow[i]; i++) {
		err = add_allow(r->allow[i]);
		if (err)
			return err;
	}
	for (i = 0; i < MAX_SESS && r->sess[i].used; i++) {
		err = add_session(&r->sess[i]);
		if (err)
			return err;
	}
	return 0;
}

/* ---- checks -------------------------------------------------------------------- */

static void check_counters(struct rctx *rc, const struct step *st, const uint64_t *before,
			   const uint64_t *after)
{
	uint64_t exp[XT_CNT__COUNT] = { 0 };
	bool optional[XT_CNT__COUNT] = { false };
	int i;

	exp[XT_CNT_RX_FRAMES] = 1;
	switch (st->verdict) {
	case XDP_PASS:
		if (st->userspace) {
			exp[XT_CNT_REDIRECTED_USERSPACE] = 1;
			exp[XT_CNT_RX_TIMESTAMP_SW] = 1;
			break;
		}
		exp[XT_CNT_PASSED] = 1;
		exp[XT_CNT_PASSED_FRAGMENT] = st->frag_cnt;
		exp[XT_CNT_PASSED_IPV6_EXT] = st->ext_cnt;
		break;
	case XDP_TX:
		exp[XT_CNT_REFLECTED] = 1;
		exp[XT_CNT_REFLECTED_GROWN] = st->grown;
		exp[XT_CNT_RX_TIMESTAMP_SW] = 1;
		break;
	case XDP_DROP:
		exp[st->drop] = 1;
		break;
	}
	/*
	 * Whether a frame that is not reflected "got a T2" depends on where
	 * the program reads the clock (RFC 5357 wants it as early as
	 * possible), and nothing in the frame shows it: allow 0 or 1 there.
	 */
	if (st->verdict != XDP_TX && !st->userspace)
		optional[XT_CNT_RX_TIMESTAMP_SW] = true;
	for (i = 0; i < XT_CNT__COUNT; i++) {
		uint64_t d = after[i] - before[i];

		if (optional[i] ? d > 1 : d != exp[i])
			report(rc, "counter %s: expected delta %s%" PRIu64 ", got %" PRIu64,
			       counter_names[i], optional[i] ? "0 or " : "",
			       optional[i] ? (uint64_t)1 : exp[i], d);
	}
}

static void check_timestamp(struct rctx *rc, const char *what, uint64_t ntp, uint64_t lo,
			    uint64_t hi)
{
	uint64_t ns = xt_ntp64_to_unix_ns(ntp);

	if (ns + TS_SLACK_NS < lo || ns > hi + TS_SLACK_NS)
		report(rc,
		       "%s: %" PRIu64 " ns is outside the run's CLOCK_REALTIME window "
		       "[%" PRIu64 ", %" PRIu64 "] (off by %+" PRId64 " ns)",
		       what, ns, lo, hi, ns < lo ? (int64_t)(ns - lo) : (int64_t)(ns - hi));
}

/*
 * The reply to req, field by field.  rt0/rt1 bracket the test run on
 * CLOCK_REALTIME, which is what T2 and T3 must show if the program adds
 * the published offset to the TAI clock correctly.
 */
static void check_reply(struct rctx *rc, const struct step *st, const struct pkt *req,
			const uint8_t *out, size_t out_len, uint64_t rt0, uint64_t rt1)
{
	const size_t l2 = req->ip_off, hl = req->ip_hlen;
	const size_t L = ck_get16(req->data + req->l4_off + 4) - 8u; /* as the request says */
	const size_t Lr = st->grown ? XT_TWAMP_REFLECTOR_MIN : L;
	const size_t exp_len = l2 + hl + 8 + Lr;
	const uint8_t *rip = req->data + l2, *ip = out + l2;
	const uint8_t *rudp = rip + hl, *udp = ip + hl;
	const uint8_t *rq = rudp + 8, *pl = udp + 8;
	uint8_t req_tos, exp_tos, got_tos;
	uint16_t ck;
	uint64_t t2, t3;

	if (!st->ip_surplus)
		CHECK_EQ(rc, "reply frame length", exp_len, out_len);
	if (out_len < exp_len) {
		report(rc, "reply of %zu octets is shorter than %zu", out_len, exp_len);
		return; /* nothing below can be read safely */
	}

	/* L2: MACs swapped, tags and EtherTypes kept. */
	if (memcmp(out, req->data + 6, 6) || memcmp(out + 6, req->data, 6))
		report(rc, "Ethernet addresses are not swapped");
	if (memcmp(out + 12, req->data + 12, l2 - 12))
		report(rc, "VLAN tags / EtherType changed (%zu octets at 12)", l2 - 12);

	if (req->family == 4) {
		CHECK_EQ(rc, "IPv4 version/IHL", rip[0], ip[0]);
		req_tos = rip[1];
		got_tos = ip[1];
		if (!st->ip_surplus)
			CHECK_EQ(rc, "IPv4 total length", hl + 8 + Lr, ck_get16(ip + 2));
		CHECK_EQ(rc, "IPv4 MF/fragment offset", 0, ck_get16(ip + 6) & 0x3fff);
		CHECK_EQ(rc, "IPv4 TTL", 255, ip[8]);
		CHECK_EQ(rc, "IPv4 protocol", 17, ip[9]);
		CHECK_EQ(rc, "IPv4 header checksum (vs full recomputation)", ck_ipv4_header(ip, hl),
			 ck_get16(ip + 10));
		if (memcmp(ip + 12, rip + 16, 4) || memcmp(ip + 16, rip + 12, 4))
			report(rc, "IPv4 addresses are not swapped");
		if (memcmp(ip + 20, rip + 20, hl - 20))
			report(rc, "IPv4 options changed");
	} else {
		CHECK_EQ(rc, "IPv6 version", 6, ip[0] >> 4);
		req_tos = (uint8_t)((rip[0] & 0x0f) << 4 | rip[1] >> 4);
		got_tos = (uint8_t)((ip[0] & 0x0f) << 4 | ip[1] >> 4);
		if (!st->ip_surplus)
			CHECK_EQ(rc, "IPv6 payload length", 8 + Lr, ck_get16(ip + 4));
		CHECK_EQ(rc, "IPv6 flow label", get32(rip) & 0xfffff, get32(ip) & 0xfffff);
		CHECK_EQ(rc, "IPv6 next header", 17, ip[6]);
		CHECK_EQ(rc, "IPv6 hop limit", 255, ip[7]);
		if (memcmp(ip + 8, rip + 24, 16) || memcmp(ip + 24, rip + 8, 16))
			report(rc, "IPv6 addresses are not swapped");
	}
	exp_tos = st->dscp_set ? (uint8_t)(st->dscp << 2 | (req_tos & 0x03)) : req_tos;
	CHECK_EQ(rc, req->family == 4 ? "IPv4 TOS" : "IPv6 traffic class", exp_tos, got_tos);

	CHECK_EQ(rc, "UDP source port", ck_get16(rudp + 2), ck_get16(udp));
	CHECK_EQ(rc, "UDP destination port", ck_get16(rudp), ck_get16(udp + 2));
	CHECK_EQ(rc, "UDP length", 8 + Lr, ck_get16(udp + 4));
	if (req->family == 4 && ck_get16(rudp + 6) == 0)
		ck = 0; /* "no checksum" must stay so */
	else if (req->family == 4)
		ck = ck_udp4(ip + 12, ip + 16, udp, 8 + Lr);
	else
		ck = ck_udp6(ip + 8, ip + 24, udp, 8 + Lr);
	CHECK_EQ(rc, "UDP checksum (vs full recomputation)", ck, ck_get16(udp + 6));

	/* The reflector header, RFC 5357 §4.2.1 / RFC 8762 §4.3.1. */
	CHECK_EQ(rc, "reflector sequence number", st->rseq == RSEQ_COPY ? get32(rq) : st->rseq,
		 get32(pl));
	CHECK_EQ(rc, "error estimate", CFG_ERROR_ESTIMATE, ck_get16(pl + 12));
	if (st->fmt == XT_FMT_STAMP)
		CHECK_EQ(rc, "SSID (copy of request octets 14-15)", ck_get16(rq + 14),
			 ck_get16(pl + 14));
	else
		CHECK_EQ(rc, "MBZ at 14-15", 0, ck_get16(pl + 14));
	if (memcmp(pl + 24, rq, 14))
		report(rc,
		       "octets 24-37 are not a copy of request octets 0-13 "
		       "(seq %08x/%08x, T1 %016" PRIx64 "/%016" PRIx64 ", EE %04x/%04x)",
		       get32(pl + 24), get32(rq), get64(pl + 28), get64(rq + 4), ck_get16(pl + 36),
		       ck_get16(rq + 12));
	CHECK_EQ(rc, "MBZ at 38-39", 0, ck_get16(pl + 38));
	CHECK_EQ(rc, "sender TTL", req->family == 4 ? rip[8] : rip[7], pl[40]);
	if (st->fmt == XT_FMT_STAMP) {
		CHECK_EQ(rc, "STAMP MBZ at 41-43", 0,
			 (uint32_t)pl[41] << 16 | pl[42] << 8 | pl[43]);
		if (L > 44 && memcmp(pl + 44, rq + 44, L - 44))
			report(rc, "STAMP octets 44..%zu (TLVs) changed", L - 1);
	} else if (L > 41 && memcmp(pl + 41, rq + 41, L - 41)) {
		report(rc, "TWAMP padding octets 41..%zu changed", L - 1);
	}

	t3 = get64(pl + 4);
	t2 = get64(pl + 16);
	check_timestamp(rc, "T2 (receive timestamp)", t2, rt0, rt1);
	check_timestamp(rc, "T3 (timestamp)", t3, rt0, rt1);
	if (t2 > t3)
		report(rc, "T2 %016" PRIx64 " is later than T3 %016" PRIx64, t2, t3);
}

/* State the reflector keeps for a reflected packet (flows / sessions maps). */
static void check_state(struct rctx *rc, const struct step *st, const struct pkt *req,
			uint64_t tai0, uint64_t tai1)
{
	struct xt_session_key k;
	struct xt_session v;
	int fd = st->where == W_SESSION ? g.fd_sessions : g.fd_flows;
	const char *map = st->where == W_SESSION ? "xtwamp_sessions" : "xtwamp_flows";
	int n;

	request_key(req, st->fmt, &k);
	switch (st->where) {
	case W_UNSET:
		report(rc, "table error: XDP_TX step without FLOW/NOSTATE/SESS");
		return;
	case W_NONE:
		n = count_entries(g.fd_flows);
		if (n)
			report(rc, "stateless reply created %d xtwamp_flows entr%s", n,
			       n == 1 ? "y" : "ies");
		return;
	case W_SESSION:
		if (bpf_map_lookup_elem(g.fd_flows, &k, &v) == 0)
			report(rc, "a negotiated session's packet created an xtwamp_flows entry");
		break;
	case W_FLOW:
		break;
	}
	if (bpf_map_lookup_elem(fd, &k, &v)) {
		report(rc, "no %s entry for the request's key (ssid %04x)", map, ntohs(k.ssid));
		return;
	}
	CHECK_EQ(rc, "state rx_packets", st->count, v.rx_packets);
	CHECK_EQ(rc, "state tx_packets", st->count, v.tx_packets);
	if (st->rseq != RSEQ_COPY)
		CHECK_EQ(rc, "state next_seq", st->count, v.next_seq);
	CHECK_EQ(rc, "state last_sender_seq", get32(req->data + req->payload_off),
		 v.last_sender_seq);
	if (v.last_rx_ns + TS_SLACK_NS < tai0 || v.last_rx_ns > tai1 + TS_SLACK_NS)
		report(rc,
		       "state last_rx_ns %" PRIu64 " outside the run's TAI window [%" PRIu64
		       ", %" PRIu64 "]",
		       (uint64_t)v.last_rx_ns, tai0, tai1);
	if (st->count == 1) {
		CHECK_EQ(rc, "state first_rx_ns of the first packet", v.last_rx_ns, v.first_rx_ns);
	} else if (v.first_rx_ns == 0 || v.first_rx_ns > v.last_rx_ns) {
		report(rc, "state first_rx_ns %" PRIu64 " not set / after last_rx_ns %" PRIu64,
		       (uint64_t)v.first_rx_ns, (uint64_t)v.last_rx_ns);
	}
}

/*
 * A request of an authenticated/encrypted session, as user space gets it:
 * struct xt_xsk_meta (T2 on the TAI clock, received TTL and TOS, magic) in
 * front of the unchanged frame, and the session counting the packet but
 * leaving the sequence numbers alone (the sender's is encrypted).
 */
static void check_userspace(struct rctx *rc, const struct step *st, const struct pkt *req,
			    const uint8_t *out, size_t out_len, uint64_t tai0, uint64_t tai1)
{
	const uint8_t *rip = req->data + req->ip_off;
	struct xt_session_key k;
	struct xt_xsk_meta meta;
	struct xt_session v;

	CHECK_EQ(rc, "frame length with metadata", req->len + sizeof(meta), out_len);
	if (out_len < req->len + sizeof(meta))
		return;
	memcpy(&meta, out, sizeof(meta));
	CHECK_EQ(rc, "metadata magic", XT_XSK_META_MAGIC, meta.magic);
	CHECK_EQ(rc, "metadata TTL", req->family == 4 ? rip[8] : rip[7], meta.ttl);
	CHECK_EQ(rc, "metadata TOS", req->family == 4 ? rip[1] : (rip[0] & 0x0f) << 4 | rip[1] >> 4,
		 meta.tos);
	CHECK_EQ(rc, "metadata pad", 0, meta.pad);
	if (meta.t2_tai_ns + TS_SLACK_NS < tai0 || meta.t2_tai_ns > tai1 + TS_SLACK_NS)
		report(rc,
		       "metadata T2 %" PRIu64 " outside the run's TAI window [%" PRIu64 ", %" PRIu64
		       "]",
		       (uint64_t)meta.t2_tai_ns, tai0, tai1);
	if (memcmp(out + sizeof(meta), req->data, req->len))
		report(rc, "frame behind the metadata differs from the request");

	request_key(req, XT_FMT_TWAMP, &k);
	if (bpf_map_lookup_elem(g.fd_sessions, &k, &v)) {
		report(rc, "no xtwamp_sessions entry for the request's key");
		return;
	}
	CHECK_EQ(rc, "state rx_packets", st->count, v.rx_packets);
	CHECK_EQ(rc, "state tx_packets (user space replies)", 0, v.tx_packets);
	CHECK_EQ(rc, "state next_seq (user space's)", 0, v.next_seq);
	CHECK_EQ(rc, "state last_sender_seq (encrypted: untouched)", 0, v.last_sender_seq);
	CHECK_EQ(rc, "state last_rx_ns = metadata T2", meta.t2_tai_ns, v.last_rx_ns);
	if (st->count == 1)
		CHECK_EQ(rc, "state first_rx_ns of the first packet", v.last_rx_ns, v.first_rx_ns);
	else if (v.first_rx_ns == 0 || v.first_rx_ns > v.last_rx_ns)
		report(rc, "state first_rx_ns %" PRIu64 " not set / after last_rx_ns %" PRIu64,
		       (uint64_t)v.first_rx_ns, (uint64_t)v.last_rx_ns);
}

/* ---- running a row --------------------------------------------------------------- */

static void run_step(struct rctx *rc, const struct step *st)
{
	static uint8_t out[OUT_MAX];
	uint64_t before[XT_CNT__COUNT], after[XT_CNT__COUNT];
	uint64_t rt0, rt1, tai0, tai1;
	struct pkt req;
	int err;

	build_request(&st->pkt, &req);
	memset(out, 0x5a, sizeof(out));
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = req.data, .data_size_in = (__u32)req.len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	if ((err = read_counters(before))) {
		report(rc, "reading xtwamp_counters: %s", strerror(-err));
		return;
	}
	tai0 = clock_ns(CLOCK_TAI);
	rt0 = clock_ns(CLOCK_REALTIME);
	err = bpf_prog_test_run_opts(g.prog_fd, &opts);
	rt1 = clock_ns(CLOCK_REALTIME);
	tai1 = clock_ns(CLOCK_TAI);
	g.runs++;
	if (err) {
		report(rc, "bpf_prog_test_run_opts: %s (frame of %zu octets)", strerror(errno),
		       req.len);
		return;
	}
	if ((err = read_counters(after))) {
		report(rc, "reading xtwamp_counters: %s", strerror(-err));
		return;
	}

	if ((int)opts.retval != st->verdict)
		report(rc, "verdict: expected %s, got %s (%u)", verdict_name(st->verdict),
		       verdict_name((int)opts.retval), opts.retval);
	check_counters(rc, st, before, after);

	if (st->userspace && (int)opts.retval == XDP_PASS) {
		check_userspace(rc, st, &req, out, opts.data_size_out, tai0, tai1);
	} else if (st->verdict == XDP_PASS && (int)opts.retval == XDP_PASS) {
		size_t i, n = opts.data_size_out < req.len ? opts.data_size_out : req.len;

		CHECK_EQ(rc, "passed frame length", req.len, opts.data_size_out);
		for (i = 0; i < n && out[i] == req.data[i]; i++)
			;
		if (i < n)
			report(rc, "passed frame modified at octet %zu: 0x%02x -> 0x%02x", i,
			       req.data[i], out[i]);
	} else if (st->verdict == XDP_TX && (int)opts.retval == XDP_TX) {
		int64_t shift = rc->row->clock_shift_s * (int64_t)XT_NSEC_PER_SEC;

		check_reply(rc, st, &req, out, opts.data_size_out, rt0 + (uint64_t)shift,
			    rt1 + (uint64_t)shift);
		check_state(rc, st, &req, tai0, tai1);
	}
}

static void test_row(void **state)
{
	const struct row *r = *state;
	struct rctx rc = { .row = r };
	int i, err;

	if (g.skip_reason)
		skip(); /* the reason was printed once by group_setup() */
	if (g.load_error[0])
		fail_msg("%s", g.load_error);
	g.rows_run++;
	err = setup_row(r);
	if (err) {
		g.rows_failed++;
		fail_msg("map setup for \"%s\" failed: %s", r->desc, strerror(-err));
	}
	for (i = 0; i < MAX_STEPS && r->steps[i].verdict; i++) {
		rc.step = i + 1;
		run_step(&rc, &r->steps[i]);
	}
	if (rc.nerr) {
		g.rows_failed++;
		fail_msg("%d mismatch(es) in: %s", rc.nerr, r->desc);
	}
}

/* ---- the table ----------------------------------------------------------------- */

static const struct row static_rows[] = {
	/* -- reflected requests: encapsulations and formats -- */
	{
		.desc = "Test that an IPv4 TWAMP request with 41 octets of payload is reflected "
			"with every reflector field set",
		.steps = { { .pkt = { .seq = 7 }, REFLECT, FLOW(0) } },
	},
	{
		.desc = "Test that an IPv6 TWAMP request with 41 octets of payload is reflected "
			"with every reflector field set",
		.steps = { { .pkt = { .family = 6, .seq = 7 }, REFLECT, FLOW(0) } },
	},
	{
		.desc = "Test that an IPv4 request behind one 802.1Q tag is reflected with the "
			"tag kept",
		.steps = { { .pkt = { .nvlan = 1, .seq = 1 }, REFLECT, FLOW(0) } },
	},
	{
		.desc = "Test that an IPv4 request behind 802.1ad + 802.1Q tags is reflected "
			"with both tags kept",
		.steps = { { .pkt = { .nvlan = 2, .seq = 2 }, REFLECT, FLOW(0) } },
	},
	{
		.desc = "Test that an IPv6 request behind one 802.1Q tag is reflected",
		.steps = { { .pkt = { .family = 6, .nvlan = 1 }, REFLECT, FLOW(0) } },
	},
	{
		.desc = "Test that an IPv6 request behind 802.1ad + 802.1Q tags is reflected",
		.steps = { { .pkt = { .family = 6, .nvlan = 2 }, REFLECT, FLOW(0) } },
	},
	{
		.desc = "Test that an IPv4 STAMP request of 44 octets gets a 44-octet STAMP "
			"reply with the SSID copied",
		.ports = { LIGHT_STAMP },
		.steps = { { .pkt = { .stamp = true, .ssid = 0x1234, .seq = 9 },
			     REFLECT,
			     STAMPFMT,
			     FLOW(0) } },
	},
	{
		.desc = "Test that an IPv6 STAMP request of 44 octets gets a 44-octet STAMP "
			"reply with the SSID copied",
		.ports = { LIGHT_STAMP },
		.steps = { { .pkt = { .family = 6, .stamp = true, .ssid = 0xfedc },
			     REFLECT,
			     STAMPFMT,
			     FLOW(0) } },
	},
	{
		.desc = "Test that a STAMP request behind two VLAN tags is reflected",
		.ports = { LIGHT_STAMP },
		.steps = { { .pkt = { .nvlan = 2, .stamp = true, .ssid = 3 },
			     REFLECT,
			     STAMPFMT,
			     FLOW(0) } },
	},
	{
		.desc = "Test that the TLV octets after a STAMP header (100-octet request) come "
			"back unchanged",
		.ports = { LIGHT_STAMP },
		.steps = { { .pkt = { .stamp = true, .ssid = 5, .plen = 100 },
			     REFLECT,
			     STAMPFMT,
			     FLOW(0) } },
	},
	{
		.desc = "Test that an unpadded 14-octet IPv4 TWAMP request grows to a 41-octet "
			"reply",
		.steps = { { .pkt = { .plen = 14, .seq = 0x01020304 },
			     REFLECT,
			     .grown = true,
			     FLOW(0) } },
	},
	{
		.desc = "Test that an unpadded 14-octet IPv6 TWAMP request grows to a 41-octet "
			"reply",
		.steps = { { .pkt = { .family = 6, .plen = 14 }, REFLECT, .grown = true, FLOW(0) } },
	},
	{
		.desc = "Test that a 14-octet request behind two VLAN tags grows to 41 octets "
			"with the tags kept",
		.steps = { { .pkt = { .nvlan = 2, .plen = 14 }, REFLECT, .grown = true, FLOW(0) } },
	},
	{
		.desc = "Test that a 14-octet request with 40 octets of IPv4 options grows to "
			"41 octets with the options kept",
		.steps = { { .pkt = { .opt_len = 40, .plen = 14 },
			     REFLECT,
			     .grown = true,
			     FLOW(0) } },
	},
	{
		.desc = "Test that a request with DF set (not a fragment) is reflected",
		.steps = { { .pkt = { .frag = PB_IP_DF }, REFLECT, FLOW(0) } },
	},
	{
		.desc = "Test that a request with TOS 0x03 (DSCP 0, ECN CE) keeps its TOS on "
			"a light port",
		.steps = { { .pkt = { .tos = 0x03, .plen = 14 }, REFLECT, .grown = true, FLOW(0) } },
	},

	/* -- Ethernet trailer padding -- */
	{
		.desc = "Test that a 56-octet IPv4 frame padded to 60 octets loses the trailer "
			"and grows to an 83-octet reply",
		.steps = { { .pkt = { .plen = 14, .pad_to = 60 }, REFLECT, .grown = true, FLOW(0) } },
	},
	{
		.desc = "Test that 12 octets of Ethernet trailer after a 41-octet request are "
			"removed from the reply",
		.steps = { { .pkt = { .pad_to = 83 + 12 }, REFLECT, FLOW(0) } },
	},
	{
		.desc = "Test that Ethernet trailer after an IPv6 STAMP request is removed from "
			"the reply",
		.ports = { LIGHT_STAMP },
		.steps = { { .pkt = { .family = 6, .stamp = true, .pad_to = 14 + 40 + 8 + 44 + 8 },
			     REFLECT,
			     STAMPFMT,
			     FLOW(0) } },
	},
	{
		.desc = "Test that a padded short frame behind a VLAN tag loses the trailer and "
			"grows",
		.steps = { { .pkt = { .nvlan = 1, .plen = 14, .pad_to = 64 },
			     REFLECT,
			     .grown = true,
			     FLOW(0) } },
	},
	{
		.desc = "Test that a padded frame to a port that is not ours is passed unchanged, "
			"trailer included",
		.steps = { { .pkt = { .dport = OTHER_PORT, .plen = 14, .pad_to = 60 }, PASSES } },
	},

	/* -- not ours: passed unchanged -- */
	{
		.desc = "Test that an ARP frame is passed unchanged",
		.steps = { { .pkt = { .ethertype = PB_ETH_P_ARP }, PASSES } },
	},
	{
		.desc = "Test that an ARP frame behind a VLAN tag is passed unchanged",
		.steps = { { .pkt = { .nvlan = 1, .ethertype = PB_ETH_P_ARP }, PASSES } },
	},
	{
		.desc = "Test that an unknown EtherType behind two VLAN tags is passed unchanged",
		.steps = { { .pkt = { .nvlan = 2, .ethertype = 0x88b5 }, PASSES } },
	},
	{
		.desc = "Test that IPv4 UDP to a port whose flags are 0 is passed unchanged",
		.steps = { { .pkt = { .dport = OTHER_PORT }, PASSES } },
	},
	{
		.desc = "Test that IPv6 UDP to a port whose flags are 0 is passed unchanged",
		.steps = { { .pkt = { .family = 6, .dport = OTHER_PORT }, PASSES } },
	},
	{
		.desc = "Test that UDP to an unconfigured port behind two VLAN tags is passed "
			"unchanged",
		.steps = { { .pkt = { .nvlan = 2, .dport = OTHER_PORT }, PASSES } },
	},
	{
		.desc = "Test that a port with a format but no flags is not ours",
		.ports = { PORT(TEST_PORT, 0, XT_FMT_STAMP) },
		.steps = { { .pkt = { .stamp = true }, PASSES } },
	},
	{
		.desc = "Test that ICMP over IPv4 (bytes 2-3 = 862) is passed unchanged",
		.steps = { { .pkt = { .proto = 1 }, PASSES } },
	},
	{
		.desc = "Test that TCP over IPv4 to port 862 is passed unchanged",
		.steps = { { .pkt = { .proto = 6 }, PASSES } },
	},
	{
		.desc = "Test that ICMPv6 (bytes 2-3 = 862) is passed unchanged",
		.steps = { { .pkt = { .family = 6, .proto = 58 }, PASSES } },
	},
	{
		.desc = "Test that TCP over IPv6 to port 862 is passed unchanged",
		.steps = { { .pkt = { .family = 6, .proto = 6 }, PASSES } },
	},
	{
		.desc = "Test that a first IPv4 fragment (MF set, offset 0) is passed and counted "
			"as a fragment",
		.steps = { { .pkt = { .frag = PB_IP_MF }, PASSES, .frag_cnt = true } },
	},
	{
		.desc = "Test that a last IPv4 fragment (offset 185, MF clear) is passed and "
			"counted as a fragment",
		.steps = { { .pkt = { .frag = 185 }, PASSES, .frag_cnt = true } },
	},
	{
		.desc = "Test that a middle IPv4 fragment (MF + offset 1) is passed and counted "
			"as a fragment",
		.steps = { { .pkt = { .frag = PB_IP_MF | 1 }, PASSES, .frag_cnt = true } },
	},
	{
		.desc = "Test that an IPv4 fragment with DF and the highest offset behind a VLAN "
			"tag is passed as a fragment",
		.steps = { { .pkt = { .nvlan = 1, .frag = PB_IP_DF | 0x1fff },
			     PASSES,
			     .frag_cnt = true } },
	},
	{
		.desc = "Test that an IPv4 fragment with a bad header checksum is still just a "
			"passed fragment",
		.steps = { { .pkt = { .frag = PB_IP_MF, .breaks = PB_BAD_IP_CSUM },
			     PASSES,
			     .frag_cnt = true } },
	},
	{
		.desc = "Test that IPv6 with a Hop-by-Hop header before UDP to 862 is passed as "
			"an extension-header packet",
		.steps = { { .pkt = { .family = 6, .ext = true, .ext_type = PB_IPV6_HOPOPTS },
			     PASSES,
			     .ext_cnt = true } },
	},
	{
		.desc = "Test that IPv6 with a Routing header before UDP to 862 is passed as an "
			"extension-header packet",
		.steps = { { .pkt = { .family = 6, .ext = true, .ext_type = PB_IPV6_ROUTING },
			     PASSES,
			     .ext_cnt = true } },
	},
	{
		.desc = "Test that IPv6 with a Destination Options header before UDP to 862 is "
			"passed as an extension-header packet",
		.steps = { { .pkt = { .family = 6, .ext = true, .ext_type = PB_IPV6_DSTOPTS },
			     PASSES,
			     .ext_cnt = true } },
	},
	{
		.desc = "Test that IPv6 with a Fragment header before UDP to 862 is passed as an "
			"extension-header packet (not an IPv4 fragment)",
		.steps = { { .pkt = { .family = 6, .ext = true, .ext_type = PB_IPV6_FRAGMENT },
			     PASSES,
			     .ext_cnt = true } },
	},
	{
		.desc = "Test that IPv6 with an extension header behind a VLAN tag is passed as "
			"an extension-header packet",
		.steps = { { .pkt = { .family = 6,
				      .nvlan = 1,
				      .ext = true,
				      .ext_type = PB_IPV6_HOPOPTS },
			     PASSES,
			     .ext_cnt = true } },
	},
	{
		.desc = "Test that a bad IPv4 header checksum on a port that is not ours is "
			"passed unchanged",
		.steps = { { .pkt = { .dport = OTHER_PORT, .breaks = PB_BAD_IP_CSUM }, PASSES } },
	},

	/* -- malformed -- */
	{
		.desc = "Test that a bad IPv4 header checksum is dropped as malformed",
		.steps = { { .pkt = { .breaks = PB_BAD_IP_CSUM }, DROPS(MALFORMED) } },
	},
	{
		.desc = "Test that a bad IPv4 header checksum over a header with options is "
			"dropped as malformed",
		.steps = { { .pkt = { .opt_len = 12, .breaks = PB_BAD_IP_CSUM },
			     DROPS(MALFORMED) } },
	},
	{
		.desc = "Test that an IPv4 UDP length of 7 is dropped as malformed",
		.steps = { { .pkt = { .udp_len_delta = -(8 + 41) + 7 }, DROPS(MALFORMED) } },
	},
	{
		.desc = "Test that an IPv6 UDP length of 0 is dropped as malformed",
		.steps = { { .pkt = { .family = 6, .udp_len_delta = -(8 + 41) },
			     DROPS(MALFORMED) } },
	},
	{
		.desc = "Test that an IPv4 UDP length one octet beyond the IP payload is dropped "
			"as malformed",
		.steps = { { .pkt = { .udp_len_delta = 1 }, DROPS(MALFORMED) } },
	},
	{
		.desc = "Test that an IPv6 UDP length one octet beyond the IP payload is dropped "
			"as malformed",
		.steps = { { .pkt = { .family = 6, .udp_len_delta = 1 }, DROPS(MALFORMED) } },
	},
	{
		.desc = "Test that an IPv4 total length one octet short of the UDP length is "
			"dropped as malformed",
		.steps = { { .pkt = { .ip_len_delta = -1 }, DROPS(MALFORMED) } },
	},
	{
		.desc = "Test that an IPv6 payload length one octet short of the UDP length is "
			"dropped as malformed",
		.steps = { { .pkt = { .family = 6, .ip_len_delta = -1 }, DROPS(MALFORMED) } },
	},
	{
		.desc = "Test that an IPv4 total length beyond the end of the frame is dropped as "
			"malformed",
		.steps = { { .pkt = { .ip_len_delta = 10, .udp_len_delta = 10 },
			     DROPS(MALFORMED) } },
	},
	{
		.desc = "Test that an IPv4 UDP length 3 octets short of the IP payload (it fits) "
			"is reflected",
		.steps = { { .pkt = { .plen = 44, .udp_len_delta = -3 },
			     REFLECT,
			     .ip_surplus = true,
			     FLOW(0) } },
	},
	{
		.desc = "Test that an IPv6 UDP length 3 octets short of the IP payload (it fits) "
			"is reflected",
		.steps = { { .pkt = { .family = 6, .plen = 44, .udp_len_delta = -3 },
			     REFLECT,
			     .ip_surplus = true,
			     FLOW(0) } },
	},
	{
		.desc = "Test that an IPv6 request with UDP checksum 0 is dropped as malformed",
		.steps = { { .pkt = { .family = 6, .breaks = PB_UDP_CSUM_ZERO },
			     DROPS(MALFORMED) } },
	},
	{
		.desc = "Test that an IPv4 request from UDP source port 0 is dropped as malformed",
		.steps = { { .pkt = { .sport_zero = true }, DROPS(MALFORMED) } },
	},
	{
		.desc = "Test that an IPv6 request from UDP source port 0 is dropped as malformed",
		.steps = { { .pkt = { .family = 6, .sport_zero = true }, DROPS(MALFORMED) } },
	},
	{
		.desc = "Test that an IPv4 request with UDP checksum 0 is reflected and the reply "
			"checksum stays 0",
		.steps = { { .pkt = { .breaks = PB_UDP_CSUM_ZERO }, REFLECT, FLOW(0) } },
	},
	{
		.desc = "Test that a grown 14-octet IPv4 request with UDP checksum 0 keeps "
			"checksum 0",
		.steps = { { .pkt = { .plen = 14, .breaks = PB_UDP_CSUM_ZERO },
			     REFLECT,
			     .grown = true,
			     FLOW(0) } },
	},

	/* -- not unicast -- */
	{
		.desc = "Test that a request to 224.0.0.1 is dropped as not unicast",
		.steps = { { .pkt = { .dst = "224.0.0.1" }, DROPS(NOT_UNICAST) } },
	},
	{
		.desc = "Test that a request to 239.255.255.250 is dropped as not unicast",
		.steps = { { .pkt = { .dst = "239.255.255.250" }, DROPS(NOT_UNICAST) } },
	},
	{
		.desc = "Test that a request to 255.255.255.255 is dropped as not unicast",
		.steps = { { .pkt = { .dst = "255.255.255.255" }, DROPS(NOT_UNICAST) } },
	},
	{
		.desc = "Test that a request to 240.0.0.1 (>= 224.0.0.0) is dropped as not unicast",
		.steps = { { .pkt = { .dst = "240.0.0.1" }, DROPS(NOT_UNICAST) } },
	},
	{
		.desc = "Test that a request from 224.0.0.9 is dropped as not unicast",
		.steps = { { .pkt = { .src = "224.0.0.9" }, DROPS(NOT_UNICAST) } },
	},
	{
		.desc = "Test that a request from 255.255.255.255 is dropped as not unicast",
		.steps = { { .pkt = { .src = "255.255.255.255" }, DROPS(NOT_UNICAST) } },
	},
	{
		.desc = "Test that a request to 223.255.255.255 (below 224/4) is reflected",
		.steps = { { .pkt = { .dst = "223.255.255.255" }, REFLECT, FLOW(0) } },
	},
	{
		.desc = "Test that a request to ff02::1 is dropped as not unicast",
		.steps = { { .pkt = { .family = 6, .dst = "ff02::1" }, DROPS(NOT_UNICAST) } },
	},
	{
		.desc = "Test that a request to ff05::1:3 behind a VLAN tag is dropped as not "
			"unicast",
		.steps = { { .pkt = { .family = 6, .nvlan = 1, .dst = "ff05::1:3" },
			     DROPS(NOT_UNICAST) } },
	},
	{
		.desc = "Test that a request from ff0e::1 is dropped as not unicast",
		.steps = { { .pkt = { .family = 6, .src = "ff0e::1" }, DROPS(NOT_UNICAST) } },
	},
	{
		.desc = "Test that a request to fe80::1 (not ff00::/8) is reflected",
		.steps = { { .pkt = { .family = 6, .dst = "fe80::1" }, REFLECT, FLOW(0) } },
	},

	/* -- clock -- */
	{
		.desc = "Test that an IPv4 request is dropped while the clock is unset",
		.clock_unset = true,
		.steps = { { .pkt = { 0 }, DROPS(CLOCK_UNSET) } },
	},
	{
		.desc = "Test that an IPv6 STAMP request is dropped while the clock is unset",
		.clock_unset = true,
		.ports = { LIGHT_STAMP },
		.steps = { { .pkt = { .family = 6, .stamp = true }, DROPS(CLOCK_UNSET) } },
	},

	{
		.desc = "Test that T2 and T3 follow a published clock offset of +1000 s (the "
			"program adds clock_offset_ns to the TAI clock)",
		.clock_shift_s = 1000,
		.steps = { { .pkt = { 0 }, REFLECT, FLOW(0) },
			   { .pkt = { .family = 6, .plen = 14 }, REFLECT, .grown = true, FLOW(0) } },
	},
	{
		.desc = "Test that T2 and T3 follow a published clock offset of -37 s (a TAI "
			"clock ahead of UTC)",
		.clock_shift_s = -37,
		.steps = { { .pkt = { 0 }, REFLECT, FLOW(0) } },
	},

	/* -- allow-list -- */
	{
		.desc = "Test that an IPv4 source inside an allowed /28 is reflected",
		.allowlist = true,
		.allow = { "192.0.2.0/28" },
		.steps = { { .pkt = { .src = "192.0.2.10" }, REFLECT, FLOW(0) } },
	},
	{
		.desc = "Test that an IPv4 source outside the allowed /28 is dropped as not "
			"allowed",
		.allowlist = true,
		.allow = { "192.0.2.0/28" },
		.steps = { { .pkt = { .src = "192.0.2.77" }, DROPS(NOT_ALLOWED) } },
	},
	{
		.desc = "Test that an IPv6 source inside an allowed /48 is reflected",
		.allowlist = true,
		.allow = { "2001:db8:1::/48" },
		.steps = { { .pkt = { .family = 6, .src = "2001:db8:1::5" }, REFLECT, FLOW(0) } },
	},
	{
		.desc = "Test that an IPv6 source outside the allowed /48 is dropped as not "
			"allowed",
		.allowlist = true,
		.allow = { "2001:db8:1::/48" },
		.steps = { { .pkt = { .family = 6, .src = "2001:db8:99::1" }, DROPS(NOT_ALLOWED) } },
	},
	{
		.desc = "Test that an enforced but empty allow-list drops every source",
		.allowlist = true,
		.steps = { { .pkt = { 0 }, DROPS(NOT_ALLOWED) },
			   { .pkt = { .family = 6 }, DROPS(NOT_ALLOWED) } },
	},
	{
		.desc = "Test that an allow-list that is not enforced drops nobody",
		.allow = { "203.0.113.0/24" },
		.steps = { { .pkt = { 0 }, REFLECT, FLOW(0) } },
	},
	{
		.desc = "Test that an IPv4 /32 allows exactly that host",
		.allowlist = true,
		.allow = { "192.0.2.10/32" },
		.steps = { { .pkt = { .src = "192.0.2.10" }, REFLECT, FLOW(0) },
			   { .pkt = { .src = "192.0.2.11" }, DROPS(NOT_ALLOWED) } },
	},
	{
		.desc = "Test that IPv4 and IPv6 prefixes in one allow-list each allow only "
			"their own family",
		.allowlist = true,
		.allow = { "192.0.2.0/24", "2001:db8:1::/64" },
		.steps = { { .pkt = { .src = "192.0.2.10" }, REFLECT, FLOW(0) },
			   { .pkt = { .family = 6, .src = "2001:db8:1::10" }, REFLECT, FLOW(0) },
			   { .pkt = { .src = "198.18.0.1" }, DROPS(NOT_ALLOWED) },
			   { .pkt = { .family = 6, .src = "2001:db8:5::1" }, DROPS(NOT_ALLOWED) } },
	},
	{
		.desc = "Test that ::ffff:0:0/96 (all IPv4-mapped) allows IPv4 sources but no "
			"IPv6 one",
		.allowlist = true,
		.allow = { "::ffff:0:0/96" },
		.steps = { { .pkt = { .src = "203.0.113.9" }, REFLECT, FLOW(0) },
			   { .pkt = { .family = 6 }, DROPS(NOT_ALLOWED) } },
	},

	/* -- rate limit -- */
	{
		.desc = "Test that at 1 pps with a burst of 3 an IPv4 source gets 3 replies, then "
			"a drop, while another source is still reflected",
		.rate_pps = 1,
		.rate_burst = 3,
		.steps = { { .pkt = { .seq = 1 }, REFLECT, FLOW(0) },
			   { .pkt = { .seq = 2 }, REFLECT, FLOW(1) },
			   { .pkt = { .seq = 3 }, REFLECT, FLOW(2) },
			   { .pkt = { .seq = 4 }, DROPS(RATE_LIMITED) },
			   { .pkt = { .src = V4_SENDER_B, .seq = 1 }, REFLECT, FLOW(0) } },
	},
	{
		.desc = "Test that at 1 pps with a burst of 3 an IPv6 source gets 3 replies, then "
			"a drop, while another source is still reflected",
		.rate_pps = 1,
		.rate_burst = 3,
		.steps = { { .pkt = { .family = 6 }, REFLECT, FLOW(0) },
			   { .pkt = { .family = 6 }, REFLECT, FLOW(1) },
			   { .pkt = { .family = 6 }, REFLECT, FLOW(2) },
			   { .pkt = { .family = 6 }, DROPS(RATE_LIMITED) },
			   { .pkt = { .family = 6, .src = V6_SENDER_B }, REFLECT, FLOW(0) } },
	},
	{
		.desc = "Test that the rate limit is per source address, not per flow: a new "
			"sender port does not get a new burst",
		.rate_pps = 1,
		.rate_burst = 2,
		.steps = { { .pkt = { .sport = 1001 }, REFLECT, FLOW(0) },
			   { .pkt = { .sport = 1002 }, REFLECT, FLOW(0) },
			   { .pkt = { .sport = 1003 }, DROPS(RATE_LIMITED) } },
	},
	{
		.desc = "Test that rate_limit_pps 0 means unlimited even with a burst of 1",
		.rate_pps = 0,
		.rate_burst = 1,
		.steps = { { .pkt = { 0 }, REFLECT, FLOW(0) },
			   { .pkt = { 0 }, REFLECT, FLOW(1) },
			   { .pkt = { 0 }, REFLECT, FLOW(2) },
			   { .pkt = { 0 }, REFLECT, FLOW(3) } },
	},

	/* -- too short -- */
	{
		.desc = "Test that a 13-octet IPv4 TWAMP request is dropped as too short",
		.steps = { { .pkt = { .plen = 13 }, DROPS(TOO_SHORT) } },
	},
	{
		.desc = "Test that a 13-octet IPv6 TWAMP request is dropped as too short",
		.steps = { { .pkt = { .family = 6, .plen = 13 }, DROPS(TOO_SHORT) } },
	},
	{
		.desc = "Test that a UDP datagram with no payload to a TWAMP port is dropped as "
			"too short",
		.steps = { { .pkt = { .plen = PLEN_NONE }, DROPS(TOO_SHORT) } },
	},
	{
		.desc = "Test that a 43-octet IPv4 STAMP request is dropped as too short",
		.ports = { LIGHT_STAMP },
		.steps = { { .pkt = { .stamp = true, .plen = 43 }, DROPS(TOO_SHORT) } },
	},
	{
		.desc = "Test that a 43-octet IPv6 STAMP request is dropped as too short",
		.ports = { LIGHT_STAMP },
		.steps = { { .pkt = { .family = 6, .stamp = true, .plen = 43 }, DROPS(TOO_SHORT) } },
	},
	{
		.desc = "Test that a 14-octet TWAMP-sized request to a STAMP port is dropped as "
			"too short",
		.ports = { LIGHT_STAMP },
		.steps = { { .pkt = { .plen = 14 }, DROPS(TOO_SHORT) } },
	},

	/* -- the order of the checks: the first failing one decides -- */
	{
		.desc = "Test that a bad IPv4 header checksum wins over a multicast destination "
			"(malformed first)",
		.steps = { { .pkt = { .dst = "224.0.0.1", .breaks = PB_BAD_IP_CSUM },
			     DROPS(MALFORMED) } },
	},
	{
		.desc = "Test that a bad UDP length wins over a multicast destination",
		.steps = { { .pkt = { .dst = "239.1.1.1", .udp_len_delta = 1 }, DROPS(MALFORMED) } },
	},
	{
		.desc = "Test that a zero IPv6 UDP checksum wins over a multicast destination",
		.steps = { { .pkt = { .family = 6, .dst = "ff02::1", .breaks = PB_UDP_CSUM_ZERO },
			     DROPS(MALFORMED) } },
	},
	{
		.desc = "Test that source port 0 wins over a multicast source",
		.steps = { { .pkt = { .src = "224.0.0.9", .sport_zero = true }, DROPS(MALFORMED) } },
	},
	{
		.desc = "Test that a multicast destination wins over an unset clock",
		.clock_unset = true,
		.steps = { { .pkt = { .dst = "224.0.0.1" }, DROPS(NOT_UNICAST) } },
	},
	{
		.desc = "Test that an unset clock wins over a source that is not allowed",
		.clock_unset = true,
		.allowlist = true,
		.steps = { { .pkt = { 0 }, DROPS(CLOCK_UNSET) } },
	},
	{
		.desc = "Test that an unset clock wins over a too-short request",
		.clock_unset = true,
		.steps = { { .pkt = { .plen = 13 }, DROPS(CLOCK_UNSET) } },
	},
	{
		.desc = "Test that a source that is not allowed wins over a too-short request",
		.allowlist = true,
		.allow = { "203.0.113.0/24" },
		.steps = { { .pkt = { .plen = 13 }, DROPS(NOT_ALLOWED) } },
	},
	{
		.desc = "Test that a source that is not allowed does not use up its rate budget",
		.allowlist = true,
		.allow = { "192.0.2.10/32" },
		.rate_pps = 1,
		.rate_burst = 1,
		.steps = { { .pkt = { .src = "192.0.2.11" }, DROPS(NOT_ALLOWED) },
			   { .pkt = { .src = "192.0.2.10" }, REFLECT, FLOW(0) } },
	},
	{
		.desc = "Test that the rate check comes before the length check: a too-short "
			"request uses up a burst of 1",
		.rate_pps = 1,
		.rate_burst = 1,
		.steps = { { .pkt = { .plen = 13 }, DROPS(TOO_SHORT) },
			   { .pkt = { 0 }, DROPS(RATE_LIMITED) } },
	},
	{
		.desc = "Test that a bad IPv4 header checksum wins over a too-short request",
		.steps = { { .pkt = { .plen = 5, .breaks = PB_BAD_IP_CSUM }, DROPS(MALFORMED) } },
	},

	/* -- stateful and stateless light reflectors -- */
	{
		.desc = "Test that a stateful port numbers replies 0,1,2 per sender flow and a "
			"second sender, sender port or reflector address starts again at 0",
		.steps = { { .pkt = { .seq = 1000 }, REFLECT, FLOW(0) },
			   { .pkt = { .seq = 1001 }, REFLECT, FLOW(1) },
			   { .pkt = { .seq = 5 }, REFLECT, FLOW(2) },
			   { .pkt = { .src = V4_SENDER_B, .seq = 1002 }, REFLECT, FLOW(0) },
			   { .pkt = { .seq = 1003 }, REFLECT, FLOW(3) },
			   { .pkt = { .sport = 40002, .seq = 1004 }, REFLECT, FLOW(0) },
			   { .pkt = { .dst = "198.51.100.2", .seq = 1005 }, REFLECT, FLOW(0) },
			   { .pkt = { .src = V4_SENDER_B, .seq = 1006 }, REFLECT, FLOW(1) } },
	},
	{
		.desc = "Test that an IPv6 stateful port numbers replies 0,1,2 and a second "
			"sender starts at 0",
		.steps = { { .pkt = { .family = 6, .seq = 77 }, REFLECT, FLOW(0) },
			   { .pkt = { .family = 6, .seq = 78 }, REFLECT, FLOW(1) },
			   { .pkt = { .family = 6, .seq = 79 }, REFLECT, FLOW(2) },
			   { .pkt = { .family = 6, .src = V6_SENDER_B }, REFLECT, FLOW(0) } },
	},
	{
		.desc = "Test that grown 14-octet requests are numbered like any other",
		.steps = { { .pkt = { .plen = 14, .seq = 3 }, REFLECT, .grown = true, FLOW(0) },
			   { .pkt = { .plen = 41, .seq = 4 }, REFLECT, FLOW(1) },
			   { .pkt = { .plen = 14, .seq = 5 }, REFLECT, .grown = true, FLOW(2) } },
	},
	{
		.desc = "Test that an IPv4 and an IPv6 sender on one port are separate flows",
		.steps = { { .pkt = { 0 }, REFLECT, FLOW(0) },
			   { .pkt = { .family = 6 }, REFLECT, FLOW(0) },
			   { .pkt = { 0 }, REFLECT, FLOW(1) } },
	},
	{
		.desc = "Test that a stateless IPv4 port copies the sender's sequence number and "
			"creates no flow",
		.ports = { STATELESS_TWAMP },
		.steps = { { .pkt = { .seq = 0xdeadbeef }, REFLECT, NOSTATE },
			   { .pkt = { .seq = 0xdeadbef0 }, REFLECT, NOSTATE },
			   { .pkt = { .plen = 14, .seq = 42 }, REFLECT, .grown = true, NOSTATE } },
	},
	{
		.desc = "Test that a stateless IPv6 port copies the sender's sequence number and "
			"creates no flow",
		.ports = { STATELESS_TWAMP },
		.steps = { { .pkt = { .family = 6, .seq = 0x80000001 }, REFLECT, NOSTATE },
			   { .pkt = { .family = 6, .seq = 3 }, REFLECT, NOSTATE } },
	},
	{
		.desc = "Test that a stateless STAMP port copies the sender's sequence number and "
			"creates no flow",
		.ports = { STATELESS_STAMP },
		.steps = { { .pkt = { .stamp = true, .ssid = 9, .seq = 12345 },
			     REFLECT,
			     STAMPFMT,
			     NOSTATE } },
	},
	{
		.desc = "Test that two STAMP SSIDs from one sender are two flows with their own "
			"sequence numbers",
		.ports = { LIGHT_STAMP },
		.steps = { { .pkt = { .stamp = true, .ssid = 1, .seq = 10 },
			     REFLECT,
			     STAMPFMT,
			     FLOW(0) },
			   { .pkt = { .stamp = true, .ssid = 2, .seq = 20 },
			     REFLECT,
			     STAMPFMT,
			     FLOW(0) },
			   { .pkt = { .stamp = true, .ssid = 1, .seq = 11 },
			     REFLECT,
			     STAMPFMT,
			     FLOW(1) },
			   { .pkt = { .stamp = true, .ssid = 2, .seq = 21 },
			     REFLECT,
			     STAMPFMT,
			     FLOW(1) },
			   { .pkt = { .stamp = true, .ssid = 1, .seq = 12 },
			     REFLECT,
			     STAMPFMT,
			     FLOW(2) } },
	},
	{
		.desc = "Test that two ports of different formats keep separate flows",
		.ports = { LIGHT_TWAMP, PORT(OTHER_PORT, XT_PORT_LIGHT, XT_FMT_STAMP) },
		.steps = { { .pkt = { 0 }, REFLECT, FLOW(0) },
			   { .pkt = { .dport = OTHER_PORT, .stamp = true },
			     REFLECT,
			     STAMPFMT,
			     FLOW(0) },
			   { .pkt = { 0 }, REFLECT, FLOW(1) } },
	},

	/* -- negotiated sessions -- */
	{
		.desc = "Test that a negotiated session hit sets the session's DSCP, keeps ECN "
			"and counts into the session entry",
		.ports = { PORT(TEST_PORT, XT_PORT_SESSIONS, XT_FMT_TWAMP) },
		.sess = { { .used = true,
			    .format = XT_FMT_TWAMP,
			    .flags = XT_SESS_SET_DSCP,
			    .dscp = 34,
			    .state = XT_SESS_STARTED } },
		.steps = { { .pkt = { .seq = 100 }, REFLECT, SET_DSCP(34), SESS(0) },
			   { .pkt = { .seq = 101 }, REFLECT, SET_DSCP(34), SESS(1) },
			   { .pkt = { .seq = 102, .plen = 14 },
			     REFLECT,
			     .grown = true,
			     SET_DSCP(34),
			     SESS(2) } },
	},
	{
		.desc = "Test that an IPv6 session hit sets the traffic class DSCP and keeps ECN",
		.ports = { PORT(TEST_PORT, XT_PORT_SESSIONS, XT_FMT_TWAMP) },
		.sess = { { .used = true,
			    .v6 = true,
			    .format = XT_FMT_TWAMP,
			    .flags = XT_SESS_SET_DSCP,
			    .dscp = 10,
			    .state = XT_SESS_STARTED } },
		.steps = { { .pkt = { .family = 6, .tos = 0x02 }, REFLECT, SET_DSCP(10), SESS(0) },
			   { .pkt = { .family = 6 }, REFLECT, SET_DSCP(10), SESS(1) } },
	},
	{
		.desc = "Test that a session without XT_SESS_SET_DSCP keeps the received TOS",
		.ports = { PORT(TEST_PORT, XT_PORT_SESSIONS, XT_FMT_TWAMP) },
		.sess = { { .used = true,
			    .format = XT_FMT_TWAMP,
			    .dscp = 34,
			    .state = XT_SESS_STARTED } },
		.steps = { { .pkt = { 0 }, REFLECT, SESS(0) } },
	},
	{
		.desc = "Test that a stateless session copies the sender's sequence number and "
			"still counts packets",
		.ports = { PORT(TEST_PORT, XT_PORT_SESSIONS, XT_FMT_TWAMP) },
		.sess = { { .used = true,
			    .format = XT_FMT_TWAMP,
			    .flags = XT_SESS_STATELESS,
			    .state = XT_SESS_STARTED } },
		.steps = { { .pkt = { .seq = 555 }, REFLECT, SESS_COPY(1) },
			   { .pkt = { .seq = 556 }, REFLECT, SESS_COPY(2) } },
	},
	{
		.desc = "Test that a STAMP session on a TWAMP-format port gets STAMP replies (the "
			"session's format wins)",
		.ports = { PORT(TEST_PORT, XT_PORT_SESSIONS | XT_PORT_LIGHT, XT_FMT_TWAMP) },
		.sess = { { .used = true, .format = XT_FMT_STAMP, .state = XT_SESS_STARTED } },
		.steps = { { .pkt = { .stamp = true, .ssid = 0 }, REFLECT, STAMPFMT, SESS(0) },
			   { .pkt = { .stamp = true, .ssid = 0, .plen = 20 }, DROPS(TOO_SHORT) } },
	},
	{
		.desc = "Test that a TWAMP session on a STAMP-format port gets TWAMP replies (the "
			"session's format wins)",
		.ports = { PORT(TEST_PORT, XT_PORT_SESSIONS | XT_PORT_LIGHT, XT_FMT_STAMP) },
		.sess = { { .used = true, .format = XT_FMT_TWAMP, .state = XT_SESS_STARTED } },
		.steps = { { .pkt = { .stamp = true, .ssid = 0 }, REFLECT, SESS(0) } },
	},
	{
		.desc = "Test that a STAMP session is keyed by its SSID: another SSID misses "
			"and is passed on a sessions-only port",
		.ports = { PORT(TEST_PORT, XT_PORT_SESSIONS, XT_FMT_STAMP) },
		.sess = { { .used = true,
			    .ssid = 0x0102,
			    .format = XT_FMT_STAMP,
			    .state = XT_SESS_STARTED } },
		.steps = { { .pkt = { .stamp = true, .ssid = 0x0102 }, REFLECT, STAMPFMT, SESS(0) },
			   { .pkt = { .stamp = true, .ssid = 0x0103 }, PASSES },
			   { .pkt = { .stamp = true, .ssid = 0x0102 }, REFLECT, STAMPFMT, SESS(1) } },
	},
	{
		.desc = "Test that a session miss on a sessions-only port is passed unchanged",
		.ports = { PORT(TEST_PORT, XT_PORT_SESSIONS, XT_FMT_TWAMP) },
		.sess = { { .used = true,
			    .sport = 1234,
			    .format = XT_FMT_TWAMP,
			    .state = XT_SESS_STARTED } },
		.steps = { { .pkt = { 0 }, PASSES }, { .pkt = { .family = 6 }, PASSES } },
	},
	{
		.desc = "Test that a session miss on a sessions + light port falls back to the "
			"light reflector",
		.ports = { PORT(TEST_PORT, XT_PORT_SESSIONS | XT_PORT_LIGHT, XT_FMT_TWAMP) },
		.sess = { { .used = true,
			    .sport = 1234,
			    .format = XT_FMT_TWAMP,
			    .flags = XT_SESS_SET_DSCP,
			    .dscp = 8,
			    .state = XT_SESS_STARTED } },
		.steps = { { .pkt = { 0 }, REFLECT, FLOW(0) }, { .pkt = { 0 }, REFLECT, FLOW(1) } },
	},
	{
		.desc = "Test that a session hit on a sessions + light port uses the session, "
			"not a light flow",
		.ports = { PORT(TEST_PORT, XT_PORT_SESSIONS | XT_PORT_LIGHT, XT_FMT_TWAMP) },
		.sess = { { .used = true,
			    .format = XT_FMT_TWAMP,
			    .flags = XT_SESS_SET_DSCP,
			    .dscp = 8,
			    .state = XT_SESS_STARTED } },
		.steps = { { .pkt = { 0 }, REFLECT, SET_DSCP(8), SESS(0) },
			   { .pkt = { .sport = 1234 }, REFLECT, FLOW(0) },
			   { .pkt = { 0 }, REFLECT, SET_DSCP(8), SESS(1) } },
	},
	{
		.desc = "Test that a light stateless port's flag does not make a stateful "
			"session stateless",
		.ports = { PORT(TEST_PORT, XT_PORT_SESSIONS | XT_PORT_LIGHT | XT_PORT_STATELESS,
				XT_FMT_TWAMP) },
		.sess = { { .used = true, .format = XT_FMT_TWAMP, .state = XT_SESS_STARTED } },
		.steps = { { .pkt = { .seq = 900 }, REFLECT, SESS(0) },
			   { .pkt = { .seq = 901 }, REFLECT, SESS(1) } },
	},
	{
		.desc = "Test that a session that is accepted but not started drops its packets",
		.ports = { PORT(TEST_PORT, XT_PORT_SESSIONS | XT_PORT_LIGHT, XT_FMT_TWAMP) },
		.sess = { { .used = true, .format = XT_FMT_TWAMP, .state = XT_SESS_ACCEPTED } },
		.steps = { { .pkt = { 0 }, DROPS(SESSION_STOPPED) } },
	},
	{
		.desc = "Test that a session whose stop deadline has passed drops its packets",
		.ports = { PORT(TEST_PORT, XT_PORT_SESSIONS, XT_FMT_TWAMP) },
		.sess = { { .used = true,
			    .format = XT_FMT_TWAMP,
			    .state = XT_SESS_STARTED,
			    .stop = -1 } },
		.steps = { { .pkt = { 0 }, DROPS(SESSION_STOPPED) } },
	},
	{
		.desc = "Test that an IPv6 session whose stop deadline has passed drops its "
			"packets",
		.ports = { PORT(TEST_PORT, XT_PORT_SESSIONS | XT_PORT_LIGHT, XT_FMT_TWAMP) },
		.sess = { { .used = true,
			    .v6 = true,
			    .format = XT_FMT_TWAMP,
			    .state = XT_SESS_STARTED,
			    .stop = -1 } },
		.steps = { { .pkt = { .family = 6 }, DROPS(SESSION_STOPPED) } },
	},
	{
		.desc = "Test that a session whose stop deadline is still ahead is reflected",
		.ports = { PORT(TEST_PORT, XT_PORT_SESSIONS, XT_FMT_TWAMP) },
		.sess = { { .used = true,
			    .format = XT_FMT_TWAMP,
			    .state = XT_SESS_STARTED,
			    .stop = 1 } },
		.steps = { { .pkt = { 0 }, REFLECT, SESS(0) } },
	},

	/* -- authenticated/encrypted sessions: handed to xtwampd (XT_SESS_USERSPACE) -- */
	{
		.desc = "Test that an authenticated/encrypted IPv4 session's requests go to user "
			"space with T2/TTL/TOS metadata, unchanged and counted, and that requests "
			"under 48 octets are dropped as too short",
		.ports = { USERSPACE_PORT },
		.sess = { USERSPACE_SESS(.state = XT_SESS_STARTED) },
		.steps = { { .pkt = { .plen = 48, .seq = 1 }, TO_USERSPACE(1) },
			   { .pkt = { .plen = 112, .seq = 2, .ttl = 255, .tos = 0x04 },
			     TO_USERSPACE(2) },
			   { .pkt = { .plen = 47 }, DROPS(TOO_SHORT) },
			   { .pkt = { .plen = 14 }, DROPS(TOO_SHORT) },
			   { .pkt = { .plen = PLEN_NONE }, DROPS(TOO_SHORT) },
			   { .pkt = { .plen = 1400, .seq = 3 }, TO_USERSPACE(3) } },
	},
	{
		.desc = "Test that an authenticated/encrypted IPv6 session behind 802.1ad + 802.1Q "
			"tags goes to user space with the hop limit and traffic class in the "
			"metadata",
		.ports = { USERSPACE_PORT },
		.sess = { { .used = true,
			    .v6 = true,
			    .format = XT_FMT_TWAMP,
			    .flags = XT_SESS_USERSPACE | XT_SESS_SET_DSCP,
			    .dscp = 46,
			    .state = XT_SESS_STARTED } },
		.steps = { { .pkt = { .family = 6, .nvlan = 2, .plen = 64 }, TO_USERSPACE(1) },
			   { .pkt = { .family = 6, .plen = 112, .tos = 0x01 }, TO_USERSPACE(2) },
			   { .pkt = { .family = 6, .plen = 40 }, DROPS(TOO_SHORT) } },
	},
	{
		.desc = "Test that an authenticated/encrypted session not started, or past its "
			"stop deadline, drops its packets before user space sees them",
		.ports = { USERSPACE_PORT },
		.sess = { USERSPACE_SESS(.state = XT_SESS_ACCEPTED),
			  USERSPACE_SESS(.sport = 1234, .state = XT_SESS_STARTED, .stop = -1) },
		.steps = { { .pkt = { .plen = 48 }, DROPS(SESSION_STOPPED) },
			   { .pkt = { .plen = 48, .sport = 1234 }, DROPS(SESSION_STOPPED) },
			   { .pkt = { .plen = 20, .sport = 1234 }, DROPS(SESSION_STOPPED) } },
	},
	{
		.desc = "Test that an authenticated/encrypted session with its deadline ahead goes "
			"to user space, and a light sender on the same port is still reflected",
		.ports = { PORT(TEST_PORT, XT_PORT_SESSIONS | XT_PORT_LIGHT, XT_FMT_TWAMP) },
		.sess = { USERSPACE_SESS(.state = XT_SESS_STARTED, .stop = 1) },
		.steps = { { .pkt = { .plen = 48 }, TO_USERSPACE(1) },
			   { .pkt = { .sport = 1234 }, REFLECT, FLOW(0) },
			   { .pkt = { .plen = 60 }, TO_USERSPACE(2) } },
	},
	{
		.desc = "Test that the checks before user space still apply to an authenticated "
			"session: malformed and not allowed",
		.ports = { USERSPACE_PORT },
		.allowlist = true,
		.allow = { "192.0.2.10/32" },
		.sess = { USERSPACE_SESS(.state = XT_SESS_STARTED),
			  USERSPACE_SESS(.sender = V4_SENDER_B, .state = XT_SESS_STARTED) },
		.steps = { { .pkt = { .plen = 48, .breaks = PB_BAD_IP_CSUM }, DROPS(MALFORMED) },
			   { .pkt = { .plen = 48, .udp_len_delta = 4 }, DROPS(MALFORMED) },
			   { .pkt = { .plen = 48, .src = V4_SENDER_B }, DROPS(NOT_ALLOWED) },
			   { .pkt = { .plen = 48 }, TO_USERSPACE(1) } },
	},
	{
		.desc = "Test that an authenticated session's requests are dropped while the "
			"clock is unset",
		.clock_unset = true,
		.ports = { USERSPACE_PORT },
		.sess = { USERSPACE_SESS(.state = XT_SESS_STARTED) },
		.steps = { { .pkt = { .plen = 48 }, DROPS(CLOCK_UNSET) } },
	},
};

/* ---- generated rows ------------------------------------------------------------------ */

static struct row *rows;
static size_t nrows, rows_cap;

static struct row *new_row(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static struct row *new_row(const char *fmt, ...)
{
	struct row *r;
	va_list ap;
	char *desc;

	if (nrows == rows_cap) {
		rows_cap = rows_cap ? rows_cap * 2 : 256;
		rows = realloc(rows, rows_cap * sizeof(*rows));
		if (!rows)
			abort();
	}
	va_start(ap, fmt);
	if (vasprintf(&desc, fmt, ap) < 0)
		abort();
	va_end(ap);
	r = &rows[nrows++];
	memset(r, 0, sizeof(*r));
	r->desc = desc;
	return r;
}

static const char *stack_name(const struct pkt_spec *s)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "%s%s%s%s", s->family == 6 ? "IPv6" : "IPv4",
		 s->opt_len ? " with options" : "",
		 s->nvlan == 1 ? " (802.1Q)" :
		 s->nvlan == 2 ? " (802.1ad + 802.1Q)" :
				 "",
		 s->stamp ? " STAMP" : "");
	return buf;
}

static void gen_ihl_rows(void)
{
	int ihl;

	/* Every IHL with options, TWAMP 41 and STAMP 44, to check options are skipped. */
	for (ihl = 6; ihl <= 15; ihl++) {
		struct row *r = new_row("Test that an IPv4 TWAMP request with IHL %d (%d octets "
					"of options) is reflected with the options kept",
					ihl, (ihl - 5) * 4);

		r->steps[0] = (struct step){ .pkt = { .opt_len = (uint8_t)((ihl - 5) * 4),
						      .seq = (uint32_t)ihl },
					     REFLECT,
					     FLOW(0) };
	}
	for (ihl = 6; ihl <= 15; ihl += 9) {
		struct row *r = new_row("Test that an IPv4 STAMP request with IHL %d is "
					"reflected with the options kept",
					ihl);

		r->ports[0] = (struct port_cfg)LIGHT_STAMP;
		r->steps[0] = (struct step){ .pkt = { .opt_len = (uint8_t)((ihl - 5) * 4),
						      .stamp = true,
						      .ssid = 0x55aa },
					     REFLECT,
					     STAMPFMT,
					     FLOW(0) };
	}
}

static void gen_size_rows(void)
{
	static const int twamp4[] = {
		42, 43, 44, 45, 64, 100, 255, 256, 511, 512, 1000, 1471, 1472
	};
	static const int twamp6[] = { 15, 27, 40, 42, 100, 1000, 1451, 1452 };
	static const int stamp4[] = { 45, 47, 48, 100, 1000, 1471, 1472 };
	static const int stamp6[] = { 45, 1452 };
	struct row *r;
	size_t i;
	int L;

	/* Every short TWAMP length grows to 41; odd lengths also exercise checksum padding. */
	for (L = 14; L < 41; L++) {
		r = new_row("Test that a %d-octet IPv4 TWAMP request grows to a 41-octet reply", L);
		r->steps[0] = (struct step){
			.pkt = { .plen = L, .seq = (uint32_t)L }, REFLECT, .grown = true, FLOW(0)
		};
	}
	for (i = 0; i < sizeof(twamp4) / sizeof(twamp4[0]); i++) {
		r = new_row("Test that a %d-octet IPv4 TWAMP request gets a reply of the same "
			    "length with its padding kept",
			    twamp4[i]);
		r->steps[0] = (struct step){ .pkt = { .plen = twamp4[i] }, REFLECT, FLOW(0) };
	}
	for (i = 0; i < sizeof(twamp6) / sizeof(twamp6[0]); i++) {
		r = new_row("Test that a %d-octet IPv6 TWAMP request gets a %s reply", twamp6[i],
			    twamp6[i] < 41 ? "grown 41-octet" : "same-length");
		r->steps[0] = (struct step){ .pkt = { .family = 6, .plen = twamp6[i] },
					     REFLECT,
					     .grown = twamp6[i] < 41,
					     FLOW(0) };
	}
	for (i = 0; i < sizeof(stamp4) / sizeof(stamp4[0]); i++) {
		r = new_row("Test that a %d-octet IPv4 STAMP request gets a same-length reply "
			    "with its TLV octets kept",
			    stamp4[i]);
		r->ports[0] = (struct port_cfg)LIGHT_STAMP;
		r->steps[0] = (struct step){ .pkt = { .stamp = true, .ssid = 7, .plen = stamp4[i] },
					     REFLECT,
					     STAMPFMT,
					     FLOW(0) };
	}
	for (i = 0; i < sizeof(stamp6) / sizeof(stamp6[0]); i++) {
		r = new_row("Test that a %d-octet IPv6 STAMP request gets a same-length reply "
			    "with its TLV octets kept",
			    stamp6[i]);
		r->ports[0] = (struct port_cfg)LIGHT_STAMP;
		r->steps[0] = (struct step){
			.pkt = { .family = 6, .stamp = true, .ssid = 7, .plen = stamp6[i] },
			REFLECT,
			STAMPFMT,
			FLOW(0)
		};
	}
	r = new_row("Test that a 1472-octet IPv4 request behind two VLAN tags is reflected");
	r->steps[0] = (struct step){ .pkt = { .nvlan = 2, .plen = 1472 }, REFLECT, FLOW(0) };
	r = new_row("Test that a 1452-octet IPv6 request behind two VLAN tags is reflected");
	r->steps[0] =
		(struct step){ .pkt = { .family = 6, .nvlan = 2, .plen = 1452 }, REFLECT, FLOW(0) };
	r = new_row("Test that a 1432-octet IPv4 request with 40 octets of options (a full "
		    "1500-octet packet) is reflected");
	r->steps[0] = (struct step){ .pkt = { .opt_len = 40, .plen = 1432 }, REFLECT, FLOW(0) };
}

static const char *layer_at(const struct pkt *p, size_t off)
{
	if (off < 14)
		return "Ethernet";
	if (off < p->ip_off)
		return "VLAN";
	if (off < p->ip_off + p->ip_hlen)
		return p->family == 4 ? "IPv4" : "IPv6";
	if (off < p->payload_off)
		return "UDP";
	return "UDP payload";
}

/*
 * A frame cut inside any header must be passed untouched; cut inside the
 * UDP payload (UDP length > what is there) it is ours and malformed.
 * BPF_PROG_TEST_RUN refuses XDP frames shorter than ETH_HLEN (EINVAL), so
 * cuts inside the Ethernet header itself cannot be submitted.
 */
static void gen_truncation_rows(void)
{
	static const struct pkt_spec bases[] = {
		{ .family = 4, .plen = 14 },
		{ .family = 4, .nvlan = 1, .plen = 14 },
		{ .family = 4, .nvlan = 2, .plen = 14 },
		{ .family = 4, .opt_len = 40, .plen = 14 },
		{ .family = 6, .plen = 14 },
		{ .family = 6, .nvlan = 1, .plen = 14 },
		{ .family = 6, .nvlan = 2, .plen = 14 },
		{ .family = 4, .stamp = true, .plen = 44 },
		{ .family = 6, .stamp = true, .plen = 44 },
	};
	size_t b, t;

	for (b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		struct pkt p;

		build_request(&bases[b], &p);
		for (t = 14; t < p.len; t++) {
			bool in_hdr = t < p.payload_off;
			struct row *r;

			r = new_row(
				"Test that an %s frame cut at %zu of %zu octets (inside the %s) "
				"is %s",
				stack_name(&bases[b]), t, p.len, layer_at(&p, t),
				in_hdr ? "passed unchanged" : "dropped as malformed");
			if (bases[b].stamp)
				r->ports[0] = (struct port_cfg)LIGHT_STAMP;
			r->steps[0].pkt = bases[b];
			r->steps[0].pkt.truncate = (uint16_t)t;
			if (in_hdr) {
				r->steps[0].verdict = XDP_PASS;
			} else {
				r->steps[0].verdict = XDP_DROP;
				r->steps[0].drop = XT_CNT_DROP_MALFORMED;
			}
		}
	}
}

static void build_rows(void)
{
	size_t i;

	for (i = 0; i < sizeof(static_rows) / sizeof(static_rows[0]); i++) {
		struct row *r = new_row("%s", static_rows[i].desc);
		const char *desc = r->desc;

		*r = static_rows[i];
		r->desc = desc;
	}
	gen_ihl_rows();
	gen_size_rows();
	gen_truncation_rows();
}

/* ---- tests that need no BPF: the reference code itself ---------------------------------- */

static void test_checksum_rfc1071_example(void **state)
{
	/* RFC 1071 §3: the sum of these octets is ddf2 (before complementing). */
	static const uint8_t d[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	(void)state;
	assert_int_equal(ck_sum(0, d, sizeof(d)), 0xddf2);
	/* an odd tail octet is the high half of a zero-padded word */
	assert_int_equal(ck_sum(0, d, 7), (0xddf2 - 0xf7 + 0xffff) % 0xffff);
}

static void test_checksum_ipv4_known_header(void **state)
{
	/* A classic worked example: 192.168.0.1 -> 192.168.0.199, UDP, checksum b861. */
	static const uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
				       0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	uint8_t bad[20];

	(void)state;
	assert_int_equal(ck_ipv4_header(h, 20), 0xb861);
	assert_true(ck_ipv4_header_ok(h, 20));
	memcpy(bad, h, sizeof(bad));
	bad[8] = 0x3f;
	assert_false(ck_ipv4_header_ok(bad, 20));
}

static void test_checksum_udp_known(void **state)
{
	/*
	 * 192.0.2.10:40001 -> 198.51.100.1:862 (and 2001:db8:1::10 ->
	 * 2001:db8:2::1), payload "TWAMP!": both values were confirmed with
	 * tshark 4.0 (-o udp.check_checksum:TRUE, udp.checksum.status Good).
	 */
	static const uint8_t src[4] = { 192, 0, 2, 10 }, dst[4] = { 198, 51, 100, 1 };
	static const uint8_t udp[14] = { 0x9c, 0x41, 0x03, 0x5e, 0x00, 0x0e, 0x00,
					 0x00, 'T',  'W',  'A',	 'M',  'P',  '!' };
	static const uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x10 };
	static const uint8_t dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x01 };

	(void)state;
	assert_int_equal(ck_udp4(src, dst, udp, sizeof(udp)), 0x8e2d);
	assert_int_equal(ck_udp6(src6, dst6, udp, sizeof(udp)), 0x1ee7);
}

/* Whatever the builder makes, the sums over it must verify (RFC 1071 §1). */
static void test_pktbuild_valid_frames(void **state)
{
	static const struct pkt_spec specs[] = {
		{ .family = 4 },
		{ .family = 4, .nvlan = 2, .opt_len = 8, .plen = 17 },
		{ .family = 6 },
		{ .family = 6, .nvlan = 1, .plen = 14 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		struct pkt p;
		uint8_t *ip, *udp;
		size_t ulen;
		uint16_t s;

		build_request(&specs[i], &p);
		ip = p.data + p.ip_off;
		udp = p.data + p.l4_off;
		ulen = p.len - p.l4_off;
		assert_int_equal(ck_get16(udp + 4), ulen);
		assert_int_equal(ulen, 8 + (size_t)spec_plen(&specs[i]));
		if (p.family == 4) {
			assert_true(ck_ipv4_header_ok(ip, p.ip_hlen));
			assert_int_equal(ck_get16(ip + 2), p.len - p.ip_off);
			assert_int_equal(ip[0] & 0x0f, p.ip_hlen / 4);
			s = ck_sum(ck_sum(ck_sum(0, ip + 12, 8), (const uint8_t[]){ 0, 17 }, 2),
				   udp + 4, 2); /* pseudo-header: addrs, proto, length */
		} else {
			uint8_t tail[4] = { 0, 0, 0, 17 };

			assert_int_equal(ck_get16(ip + 4), p.len - p.ip_off - 40);
			s = ck_sum(ck_sum(ck_sum(0, ip + 8, 32), tail, 4), udp + 4, 2);
		}
		/* the whole datagram, checksum included, sums to all ones */
		assert_int_equal(ck_sum(s, udp, ulen), 0xffff);
		assert_int_equal(ck_get16(p.data + p.type_off),
				 p.family == 4 ? PB_ETH_P_IPV4 : PB_ETH_P_IPV6);
	}
}

static void test_pktbuild_damage(void **state)
{
	struct pkt p;

	(void)state;
	build_request(&(struct pkt_spec){ .breaks = PB_BAD_IP_CSUM | PB_UDP_CSUM_ZERO,
					  .frag = PB_IP_MF | 3,
					  .pad_to = 200 },
		      &p);
	assert_false(ck_ipv4_header_ok(p.data + p.ip_off, p.ip_hlen));
	assert_int_equal(ck_get16(p.data + p.l4_off + 6), 0);
	assert_int_equal(ck_get16(p.data + p.ip_off + 6), 0x2003);
	assert_int_equal(p.len, 200);
	assert_int_equal(ck_get16(p.data + p.ip_off + 2), p.ip_end - p.ip_off);
	assert_int_equal(p.data[199], 0xee);

	build_request(
		&(struct pkt_spec){
			.family = 6, .ext = true, .ext_type = PB_IPV6_HOPOPTS, .truncate = 50 },
		&p);
	assert_int_equal(p.len, 50);
	assert_int_equal(p.data[p.ip_off + 6], PB_IPV6_HOPOPTS);
	assert_int_equal(p.data[p.ip_off + 40], 17);
	assert_int_equal(ck_get16(p.data + p.ip_off + 4), 8 + 8 + 41);
}

/* ---- setup / main ------------------------------------------------------------------------ */

/* The map ABI of include/xtwamp_maps.h, checked once so rows fail for a reason. */
static int check_map(struct bpf_map *m, size_t key, size_t value)
{
	if (bpf_map__key_size(m) != key || (value && bpf_map__value_size(m) != value)) {
		snprintf(g.load_error, sizeof(g.load_error),
			 "map %s: key/value size %u/%u, the ABI says %zu/%zu", bpf_map__name(m),
			 bpf_map__key_size(m), bpf_map__value_size(m), key, value);
		return -1;
	}
	return bpf_map__fd(m);
}

static int group_setup(void **state)
{
	struct bpf_program *prog;
	struct xtwamp *skel;
	uint64_t tai0, rt, tai1;
	int64_t off;
	int err;

	(void)state;
	if (geteuid() != 0) {
		g.skip_reason = "not root: loading the XDP program needs CAP_BPF/CAP_SYS_ADMIN";
		print_message("xdp_test: skipping every BPF row: %s\n", g.skip_reason);
		return 0;
	}
	skel = xtwamp__open();
	if (!skel) {
		snprintf(g.load_error, sizeof(g.load_error), "xtwamp__open: %s", strerror(errno));
		return 0;
	}
	/*
	 * Only the generic program can be test-run: anything else in the
	 * object (the device-bound hardware-timestamp variant needs an
	 * ifindex at load time) stays unloaded.
	 */
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, prog == skel->progs.xtwamp_reflect);
	err = xtwamp__load(skel);
	if (err) {
		if (err == -EPERM || errno == EPERM) {
			g.skip_reason = "loading the XDP program failed with EPERM";
			print_message("xdp_test: skipping every BPF row: %s\n", g.skip_reason);
		} else {
			snprintf(g.load_error, sizeof(g.load_error), "xtwamp__load: %s",
				 strerror(-err));
		}
		xtwamp__destroy(skel);
		return 0;
	}
	g.skel = skel;
	g.prog_fd = bpf_program__fd(skel->progs.xtwamp_reflect);
	g.ncpus = libbpf_num_possible_cpus();
	if (g.ncpus <= 0 || g.ncpus > 512) {
		snprintf(g.load_error, sizeof(g.load_error), "libbpf_num_possible_cpus: %d",
			 g.ncpus);
		return 0;
	}
	if ((g.fd_config = check_map(skel->maps.xtwamp_config, 4, sizeof(struct xt_config))) < 0 ||
	    (g.fd_ports = check_map(skel->maps.xtwamp_ports, 4, sizeof(struct xt_port))) < 0 ||
	    (g.fd_sessions = check_map(skel->maps.xtwamp_sessions, sizeof(struct xt_session_key),
				       sizeof(struct xt_session))) < 0 ||
	    (g.fd_flows = check_map(skel->maps.xtwamp_flows, sizeof(struct xt_session_key),
				    sizeof(struct xt_session))) < 0 ||
	    (g.fd_allow = check_map(skel->maps.xtwamp_allow, sizeof(struct xt_allow_key), 0)) < 0 ||
	    (g.fd_rate = check_map(skel->maps.xtwamp_ratelim, sizeof(union xt_addr),
				   sizeof(struct xt_rate_state))) < 0 ||
	    (g.fd_counters = check_map(skel->maps.xtwamp_counters, 4, 0)) < 0)
		return 0;
	/* The ABI leaves the allow-list value open; add_allow() writes up to ALLOW_VALUE_MAX. */
	if (bpf_map__value_size(skel->maps.xtwamp_allow) > ALLOW_VALUE_MAX) {
		snprintf(g.load_error, sizeof(g.load_error), "xtwamp_allow: value size %u > %d",
			 bpf_map__value_size(skel->maps.xtwamp_allow), ALLOW_VALUE_MAX);
		return 0;
	}
	/* Either one entry per counter, or one struct holding all of them. */
	if (bpf_map__value_size(skel->maps.xtwamp_counters) == 8 &&
	    bpf_map__max_entries(skel->maps.xtwamp_counters) >= XT_CNT__COUNT) {
		g.counters_struct = false;
	} else if (bpf_map__value_size(skel->maps.xtwamp_counters) == 8 * XT_CNT__COUNT) {
		g.counters_struct = true;
	} else {
		snprintf(g.load_error, sizeof(g.load_error),
			 "xtwamp_counters: value size %u, max_entries %u fit no known layout",
			 bpf_map__value_size(skel->maps.xtwamp_counters),
			 bpf_map__max_entries(skel->maps.xtwamp_counters));
		return 0;
	}
	/*
	 * CLOCK_REALTIME - CLOCK_TAI, measured between two TAI reads.  The
	 * kernel keeps the two a whole number of seconds apart (the TAI
	 * offset), so rounding removes the read-to-read jitter exactly.
	 */
	tai0 = clock_ns(CLOCK_TAI);
	rt = clock_ns(CLOCK_REALTIME);
	tai1 = clock_ns(CLOCK_TAI);
	off = (int64_t)(rt - (tai0 + (tai1 - tai0) / 2));
	g.clock_offset_ns = (int64_t)llround((double)off / 1e9) * (int64_t)XT_NSEC_PER_SEC;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (g.skel)
		xtwamp__destroy(g.skel);
	return 0;
}

int main(void)
{
	static const struct CMUnitTest self_tests[] = {
		cmocka_unit_test(test_checksum_rfc1071_example),
		cmocka_unit_test(test_checksum_ipv4_known_header),
		cmocka_unit_test(test_checksum_udp_known),
		cmocka_unit_test(test_pktbuild_valid_frames),
		cmocka_unit_test(test_pktbuild_damage),
	};
	const size_t nself = sizeof(self_tests) / sizeof(self_tests[0]);
	struct CMUnitTest *tests;
	size_t i;
	int failed;

	build_rows();
	tests = calloc(nself + nrows, sizeof(*tests));
	if (!tests)
		return 1;
	memcpy(tests, self_tests, sizeof(self_tests));
	for (i = 0; i < nrows; i++) {
		tests[nself + i].name = rows[i].desc;
		tests[nself + i].test_func = test_row;
		tests[nself + i].initial_state = &rows[i];
	}
	failed = _cmocka_run_group_tests("xdp", tests, nself + nrows, group_setup, group_teardown);
	printf("xdp_test: %u of %zu table rows run (%u BPF test runs), %u failed%s%s\n", g.rows_run,
	       nrows, g.runs, g.rows_failed, g.skip_reason ? "; skipped: " : "",
	       g.skip_reason ? g.skip_reason : "");
	free(tests);
	if (failed)
		return 1;
	/* Nothing of the XDP program was tested: say so to the runner (SKIP), not PASS. */
	if (g.rows_run == 0) {
		printf("SKIP: %s\n", g.skip_reason ? g.skip_reason : "no table row could run");
		return 77;
	}
	return 0;
}
