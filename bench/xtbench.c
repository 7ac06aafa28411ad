// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xtbench - the measuring half of `make bench` (bench/run.sh is the other).
 *
 *   xtbench testrun                per-packet cost in BPF_PROG_TEST_RUN (repeat)
 *                                  of xtwamp_reflect, xb_bare and xb_floor, and
 *                                  of xtwamp_reflect with 1..65536 sessions and
 *                                  1 / 10,000 allow-list prefixes
 *   xtbench serve PROG IFACE PORT  attach xb_bare or xb_floor until SIGTERM
 *   xtbench flood [OPTIONS]        in-kernel generator + reply sink on the
 *                                  sender's veth; optionally over a keyed
 *                                  TWAMP session it sets up itself
 *   xtbench stub IFACE             leave a pass-everything program on IFACE
 *   xtbench ctrl [OPTIONS]         TWAMP-Control load: many connections and
 *                                  sessions, set up, started, torn down
 *   xtbench rtt [OPTIONS]          round trips to xb_bare, which xtwamp ping
 *                                  cannot match (it fills in no field)
 *
 * Every command prints one JSON object on stdout; run.sh assembles them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "xtwamp_maps.h"
#include "xtwamp_wire.h"
#include "control_client.h"
#include "twamp_crypto.h"
#include "clock.h"
#include "bench.h"
#include "xtwamp.skel.h"
#include "bench.skel.h"

#define FRAME_LEN XB_FRAME_LEN
#define PAYLOAD_LEN XB_PAYLOAD_LEN

#ifndef BPF_F_TEST_XDP_LIVE_FRAMES
#define BPF_F_TEST_XDP_LIVE_FRAMES (1U << 1)
#endif

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "xtbench: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

static __u32 csum_add(__u32 sum, const void *buf, size_t len)
{
	const __u8 *p = buf;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

/*
 * A complete IPv4/UDP frame with valid checksums: the generator only
 * copies it, so it must be right as sent.
 */
static void build_frame(__u8 *f, const __u8 smac[6], const __u8 dmac[6], struct in_addr src,
			struct in_addr dst, __u16 sport, __u16 dport,
			const __u8 payload[PAYLOAD_LEN])
{
	__u8 *ip = f + 14, *udp = ip + 20;
	__u16 c;
	__u32 sum;

	memset(f, 0, FRAME_LEN);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (20 + 8 + PAYLOAD_LEN) >> 8;
	ip[3] = (20 + 8 + PAYLOAD_LEN) & 0xff;
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	c = ~csum_fold(csum_add(0, ip, 20));
	ip[10] = c >> 8;
	ip[11] = c & 0xff;
	udp[0] = sport >> 8;
	udp[1] = sport & 0xff;
	udp[2] = dport >> 8;
	udp[3] = dport & 0xff;
	udp[4] = (8 + PAYLOAD_LEN) >> 8;
	udp[5] = (8 + PAYLOAD_LEN) & 0xff;
	memcpy(udp + 8, payload, PAYLOAD_LEN);
	sum = csum_add(0, ip + 12, 8) + IPPROTO_UDP + 8 + PAYLOAD_LEN;
	sum = csum_add(sum, udp, 8 + PAYLOAD_LEN);
	c = ~csum_fold(sum);
	if (!c)
		c = 0xffff;
	udp[6] = c >> 8;
	udp[7] = c & 0xff;
}

/* A TWAMP Light request: sequence number, T1 now, Error Estimate, zero padding. */
static void light_payload(__u8 p[PAYLOAD_LEN])
{
	__u64 ntp = xt_unix_ns_to_ntp64(xt_realtime_ns());

	memset(p, 0, PAYLOAD_LEN);
	p[4] = ntp >> 56;
	p[5] = ntp >> 48;
	p[6] = ntp >> 40;
	p[7] = ntp >> 32;
	p[12] = 0x80; /* Error Estimate: S=1, scale 0, multiplier 1 */
	p[13] = 1;
}

static void set_mapped(union xt_addr *a, struct in_addr v4)
{
	memset(a, 0, sizeof(*a));
	a->b[10] = a->b[11] = 0xff;
	memcpy(&a->b[12], &v4, 4);
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* ---- testrun ------------------------------------------------------------ */

#define TR_REPS 5
#define TR_REPEAT 1000000

/*
 * ns per run of prog on a frame that reflects onto itself: source and
 * destination port are both the test port, so every repeat (which runs on
 * the buffer the previous one left) is again a request.  Any other verdict
 * than XDP_TX means we measured something else: fail.
 */
static double test_run_ns(int prog_fd, const __u8 *frame)
{
	__u8 out[256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = FRAME_LEN,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = TR_REPEAT);
	int err = bpf_prog_test_run_opts(prog_fd, &o);

	if (err)
		die("BPF_PROG_TEST_RUN", err);
	if (o.retval != XDP_TX) {
		fprintf(stderr, "xtbench: test run returned %u, not XDP_TX\n", o.retval);
		exit(1);
	}
	return o.duration;
}

static void print_stat(const char *name, double *v, int n, bool comma)
{
	__u64 s[TR_REPS];

	for (int i = 0; i < n; i++)
		s[i] = (__u64)(v[i] * 100);
	qsort(s, n, sizeof(s[0]), cmp_u64);
	printf("\"%s\": {\"median\": %.2f, \"min\": %.2f, \"max\": %.2f, \"n\": %d}%s\n", name,
	       s[n / 2] / 100.0, s[0] / 100.0, s[n - 1] / 100.0, n, comma ? "," : "");
}

static __u64 counter_sum(struct xtwamp *x, __u32 id)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 v[ncpu], sum = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(x->maps.xtwamp_counters), &id, v))
		return 0;
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}

/*
 * Grow xtwamp_sessions to n entries: first our frame's own session (it
 * reflects onto itself, so one key serves every repeat), then filler.
 * Returns how many the map holds: it stops at max_entries.
 */
static int fill_sessions(struct xtwamp *x, struct in_addr a, __u16 port, int n)
{
	int fd = bpf_map__fd(x->maps.xtwamp_sessions), done;
	struct xt_session v = { .format = XT_FMT_TWAMP, .state = XT_SESS_STARTED };
	struct xt_session_key k;

	for (done = 0; done < n; done++) {
		memset(&k, 0, sizeof(k));
		k.sender_port = k.reflector_port = htons(port);
		set_mapped(&k.sender_addr, a);
		set_mapped(&k.reflector_addr, a);
		if (done) {
			/* 2001:db8::/32 senders, distinct per entry */
			memset(&k.sender_addr, 0, sizeof(k.sender_addr));
			k.sender_addr.w[0] = htonl(0x20010db8);
			k.sender_addr.w[3] = htonl(done);
			k.sender_port = htons(1024 + done % 60000);
		}
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			break; /* full: the map's max_entries */
	}
	return done;
}

/* Allow-list prefixes that match nobody here: /64s in 2001:db8::/32, from..n-1. */
static int add_allow_fillers(int fd, int from, int n)
{
	struct xt_allow_key k;
	__u8 one = 1;
	int done;

	for (done = from; done < n; done++) {
		memset(&k, 0, sizeof(k));
		k.prefixlen = 64;
		k.addr.w[0] = htonl(0x20010db8);
		k.addr.w[1] = htonl(done * 2654435761u);
		if (bpf_map_update_elem(fd, &k, &one, BPF_ANY))
			break;
	}
	return done;
}

static int fill_allow(struct xtwamp *x, struct in_addr sender, int n)
{
	int fd = bpf_map__fd(x->maps.xtwamp_allow);
	struct xt_allow_key k;
	__u8 one = 1;

	memset(&k, 0, sizeof(k));
	k.prefixlen = 96 + 24;
	set_mapped(&k.addr, sender);
	k.addr.b[15] = 0;
	if (bpf_map_update_elem(fd, &k, &one, BPF_ANY))
		return 0;
	return add_allow_fillers(fd, 1, n);
}

static int cmd_testrun(void)
{
	struct in_addr a, b;
	__u8 smac[6] = { 2, 0, 0, 0, 0, 2 }, dmac[6] = { 2, 0, 0, 0, 0, 1 };
	__u8 payload[PAYLOAD_LEN], frame[FRAME_LEN];
	struct xt_config cfg = { .flags = XT_CFG_CLOCK_VALID, .error_estimate = 0x8001 };
	struct xt_port port = { .flags = XT_PORT_LIGHT };
	__u32 zero = 0, p862 = 862;
	double x[TR_REPS], bare[TR_REPS], flr[TR_REPS];
	struct xtwamp *xs;
	struct bench *bs;
	int sess_n[] = { 1, 100, 10000, 100000 };

	inet_pton(AF_INET, "192.0.2.2", &a);
	inet_pton(AF_INET, "192.0.2.1", &b);
	light_payload(payload);
	/* From and to 192.0.2.1: the reply is again the same request. */
	build_frame(frame, smac, dmac, b, b, 862, 862, payload);

	xs = xtwamp__open_and_load();
	bs = bench__open_and_load();
	if (!xs || !bs)
		die("load", errno);
	bs->bss->xb_cfg.port = htons(862);
	bpf_map_update_elem(bpf_map__fd(xs->maps.xtwamp_config), &zero, &cfg, BPF_ANY);
	bpf_map_update_elem(bpf_map__fd(xs->maps.xtwamp_ports), &p862, &port, BPF_ANY);

	/* Alternate the three programs within each repetition: the box is shared. */
	for (int r = 0; r < TR_REPS; r++) {
		x[r] = test_run_ns(bpf_program__fd(xs->progs.xtwamp_reflect), frame);
		bare[r] = test_run_ns(bpf_program__fd(bs->progs.xb_bare), frame);
		flr[r] = test_run_ns(bpf_program__fd(bs->progs.xb_floor), frame);
	}
	if (counter_sum(xs, XT_CNT_REFLECTED) != (__u64)TR_REPS * TR_REPEAT) {
		fprintf(stderr, "xtbench: xtwamp_reflect did not reflect every run\n");
		return 1;
	}
	printf("{\"repeat\": %d,\n", TR_REPEAT);
	print_stat("xdp", x, TR_REPS, true);
	print_stat("bare", bare, TR_REPS, true);
	print_stat("floor", flr, TR_REPS, true);

	/* Scaling: the frame is now a negotiated session's, among n others. */
	port.flags = XT_PORT_LIGHT | XT_PORT_SESSIONS;
	bpf_map_update_elem(bpf_map__fd(xs->maps.xtwamp_ports), &p862, &port, BPF_ANY);
	printf("\"sessions\": [\n");
	for (size_t i = 0; i < sizeof(sess_n) / sizeof(sess_n[0]); i++) {
		double v[TR_REPS];
		int got = fill_sessions(xs, b, 862, sess_n[i]);

		for (int r = 0; r < TR_REPS; r++)
			v[r] = test_run_ns(bpf_program__fd(xs->progs.xtwamp_reflect), frame);
		printf("{\"requested\": %d, \"entries\": %d, ", sess_n[i], got);
		print_stat("ns", v, TR_REPS, false);
		printf("}%s\n", i + 1 < sizeof(sess_n) / sizeof(sess_n[0]) ? "," : "");
	}
	printf("],\n\"allow\": [\n");
	cfg.flags |= XT_CFG_ALLOWLIST_ENFORCED;
	bpf_map_update_elem(bpf_map__fd(xs->maps.xtwamp_config), &zero, &cfg, BPF_ANY);
	for (int i = 0; i < 2; i++) {
		int want = i ? 10000 : 1, got = fill_allow(xs, b, want);
		double v[TR_REPS];

		for (int r = 0; r < TR_REPS; r++)
			v[r] = test_run_ns(bpf_program__fd(xs->progs.xtwamp_reflect), frame);
		printf("{\"prefixes\": %d, ", got);
		print_stat("ns", v, TR_REPS, false);
		printf("}%s\n", i ? "" : ",");
	}
	printf("]}\n");
	xtwamp__destroy(xs);
	bench__destroy(bs);
	return 0;
}

/* ---- serve -------------------------------------------------------------- */

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int cmd_serve(int argc, char **argv)
{
	struct bench *bs;
	struct bpf_program *prog;
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int ifindex, err;

	if (argc != 4)
		die("usage: serve bare|floor IFACE PORT", EINVAL);
	ifindex = if_nametoindex(argv[2]);
	if (!ifindex)
		die(argv[2], errno);
	bs = bench__open_and_load();
	if (!bs)
		die("load", errno);
	bs->bss->xb_cfg.port = htons(atoi(argv[3]));
	prog = strcmp(argv[1], "bare") ? bs->progs.xb_floor : bs->progs.xb_bare;
	err = bpf_xdp_attach(ifindex, bpf_program__fd(prog), XDP_FLAGS_DRV_MODE, NULL);
	if (err)
		die("attach", err);
	bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len);
	printf("%u\n", info.id);
	fflush(stdout);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	while (!stop)
		pause();
	bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	bench__destroy(bs);
	return 0;
}

/* ---- flood -------------------------------------------------------------- */

enum check_kind { CHECK_NONE, CHECK_BARE, CHECK_FLOOR, CHECK_LIGHT, CHECK_KEYED };

struct flood_opts {
	const char *ifname, *dst_mac, *mode, *identity, *secret_hex;
	const char *counters_pin, *sessions_pin, *allow_pin;
	int allow_prefixes; /* with allow_pin: grow the allow-list to this many */
	struct in_addr src, dst;
	__u16 sport, dport;
	double seconds;
	double rates[16];
	int n_rates;
	double search_hi; /* > 0: bisect for the highest rate with <= 0.1 % loss */
	int search_steps;
	int sessions[8]; /* with sessions_pin: saturate with this many entries each */
	int n_sessions;
	int cpu;
	__u32 prog_id;
	enum check_kind check;
	/* what the checks compare replies with */
	__u8 smac[6], dmac[6];
	__u8 payload[PAYLOAD_LEN]; /* as sent (sealed for keyed modes) */
	__u64 t1_ntp;		   /* the request's T1 */
	__u32 mode_bits;
	struct tw_test_keys keys;
};

static __u64 sink_count(struct bench *bs)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 v[ncpu], sum = 0;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(bs->maps.xb_count), &zero, v))
		return 0;
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}

/* One of xtwamp's per-CPU counters, summed, from the pinned map (fd < 0: 0). */
static __u64 pinned_counter(int fd, __u32 id)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 v[ncpu], sum = 0;

	if (fd < 0 || bpf_map_lookup_elem(fd, &id, v))
		return 0;
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}

static void prog_stats(int fd, __u64 *ns, __u64 *cnt)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	*ns = *cnt = 0;
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len)) {
		*ns = info.run_time_ns;
		*cnt = info.run_cnt;
	}
}

static int parse_mac(const char *s, __u8 mac[6])
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6 ?
		       0 :
		       -EINVAL;
}

static int hex_decode(const char *hex, __u8 *out, size_t max)
{
	size_t n = strlen(hex) / 2;

	if (n > max)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (sscanf(hex + 2 * i, "%2hhx", &out[i]) != 1)
			return -EINVAL;
	return (int)n;
}

static __u64 load_be64(const __u8 *p)
{
	__u64 v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static __u16 load_be16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

/* An NTP timestamp a reflector wrote just now: within a minute of our clock. */
static bool plausible_ntp(const __u8 *p)
{
	__u64 ntp = load_be64(p), now = xt_realtime_ns(), t;

	if (!ntp)
		return false;
	t = xt_ntp64_to_unix_ns(ntp);
	return (t > now ? t - now : now - t) < 60000000000ull;
}

/*
 * Is this sampled frame a real reply to what the generator sent?  Headers
 * swapped, checksums right, and the reflector's fields filled in as the
 * configuration must: NULL if so, else what is wrong.
 */
static const char *check_reply(const struct flood_opts *o, const __u8 *f, __u32 len)
{
	const __u8 *ip = f + 14, *udp = ip + 20, *pl = udp + 8;
	__u32 sum, ulen;
	__u8 buf[XB_SAMPLE_LEN];

	if (len < FRAME_LEN)
		return "no reply sampled";
	if (memcmp(f, o->smac, 6) || memcmp(f + 6, o->dmac, 6))
		return "MAC addresses not swapped";
	if (f[12] != 0x08 || f[13] || ip[0] != 0x45 || ip[9] != IPPROTO_UDP)
		return "not IPv4/UDP";
	if (csum_fold(csum_add(0, ip, 20)) != 0xffff)
		return "bad IPv4 header checksum";
	if (memcmp(ip + 12, &o->dst, 4) || memcmp(ip + 16, &o->src, 4))
		return "IPv4 addresses not swapped";
	if (load_be16(udp) != o->dport || load_be16(udp + 2) != o->sport)
		return "UDP ports not swapped";
	ulen = load_be16(udp + 4);
	if (ulen < 8 + PAYLOAD_LEN || ulen != load_be16(ip + 2) - 20u)
		return "bad UDP length";
	if (ulen > len - 34) {
		if (o->check != CHECK_KEYED)
			return "reply longer than the request";
	} else if (load_be16(udp + 6)) {
		sum = csum_add(0, ip + 12, 8) + IPPROTO_UDP + ulen;
		if (csum_fold(csum_add(sum, udp, ulen)) != 0xffff)
			return "bad UDP checksum";
	}
	switch (o->check) {
	case CHECK_BARE:
		return memcmp(pl, o->payload, PAYLOAD_LEN) ? "payload changed" : NULL;
	case CHECK_FLOOR:
		if (!plausible_ntp(pl + 16) || !plausible_ntp(pl + 4) ||
		    load_be64(pl + 4) < load_be64(pl + 16))
			return "T2/T3 missing or implausible";
		return NULL;
	case CHECK_LIGHT:
		if (!plausible_ntp(pl + 16) || !plausible_ntp(pl + 4) ||
		    load_be64(pl + 4) < load_be64(pl + 16))
			return "T2/T3 missing or implausible";
		if (memcmp(pl + 24, o->payload, 4) || load_be64(pl + 28) != o->t1_ntp ||
		    load_be16(pl + 36) != load_be16(o->payload + 12))
			return "sender fields not echoed";
		return NULL;
	case CHECK_KEYED:
		if (len - 42 < sizeof(struct xt_twamp_reflector_auth))
			return "keyed reply shorter than 112 octets";
		memcpy(buf, pl, sizeof(struct xt_twamp_reflector_auth));
		if (tw_test_open_reflector(o->mode_bits, &o->keys, buf,
					   sizeof(struct xt_twamp_reflector_auth)))
			return "reply HMAC does not verify";
		if (!plausible_ntp(buf + 32) || !plausible_ntp(buf + 16) ||
		    load_be64(buf + 16) < load_be64(buf + 32))
			return "T2/T3 missing or implausible";
		if (load_be64(buf + 64) != o->t1_ntp)
			return "sender timestamp not echoed";
		return NULL;
	case CHECK_NONE:
		break;
	}
	return NULL;
}

/*
 * A negotiated session, set up like `xtwamp ping [-A MODE]` would, whose
 * keys we keep: the generator replays one request (sealed in keyed modes),
 * which xtwampd verifies (and for encrypted mode decrypts) and answers in
 * full on every copy.
 */
static int negotiated_session(struct flood_opts *o, struct cc_conn *cc)
{
	struct sockaddr_in srv = { .sin_family = AF_INET,
				   .sin_port = htons(XT_DEFAULT_CONTROL_PORT) };
	struct sockaddr_storage snd = {}, rcv = {};
	__u32 modes[1] = { !strcmp(o->mode, "unauthenticated") ? XT_MODE_UNAUTHENTICATED :
			   !strcmp(o->mode, "encrypted")       ? XT_MODE_ENCRYPTED :
								 XT_MODE_AUTHENTICATED };
	bool keyed = modes[0] != XT_MODE_UNAUTHENTICATED;
	__u8 secret[256];
	int n = o->secret_hex ? hex_decode(o->secret_hex, secret, sizeof(secret)) : 0, fd, err;
	struct cc_config cfg = { .modes = modes,
				 .n_modes = 1,
				 .identity = o->identity,
				 .secret = secret,
				 .secret_len = n > 0 ? n : 0,
				 .max_count_exponent = CC_MAX_COUNT_EXP_DEFAULT,
				 .timeout_ms = 5000 };
	struct cc_session_params p = {};
	struct cc_accept a;
	__u8 *pl = o->payload;

	srv.sin_addr = o->dst;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&srv, sizeof(srv)))
		die("control connect", errno);
	err = cc_open(cc, fd, &cfg);
	if (err) {
		fprintf(stderr, "xtbench: %s\n", cc->err);
		exit(1);
	}
	((struct sockaddr_in *)&snd)->sin_family = AF_INET;
	((struct sockaddr_in *)&snd)->sin_addr = o->src;
	((struct sockaddr_in *)&snd)->sin_port = htons(o->sport);
	((struct sockaddr_in *)&rcv)->sin_family = AF_INET;
	((struct sockaddr_in *)&rcv)->sin_addr = o->dst;
	((struct sockaddr_in *)&rcv)->sin_port = htons(o->dport);
	cc_params_set_endpoints(&p, &snd, &rcv);
	p.padding_length = PAYLOAD_LEN - (keyed ? sizeof(struct xt_twamp_sender_auth) :
						  sizeof(struct xt_twamp_sender));
	p.start_time_ntp = xt_unix_ns_to_ntp64(xt_realtime_ns());
	p.timeout_ns = 1000000000ull;
	if (cc_request_session(cc, &p, &a) || cc_start_sessions(cc) ||
	    (keyed && cc_test_keys(cc, a.sid, &o->keys))) {
		fprintf(stderr, "xtbench: session: %s\n", cc->err);
		exit(1);
	}
	o->dport = a.port;
	o->mode_bits = modes[0];
	light_payload(pl);
	o->t1_ntp = load_be64(pl + 4);
	if (!keyed)
		return 0;
	memset(pl, 0, 4);	      /* seq 0; the MBZ after it in the keyed format */
	memmove(pl + 16, pl + 4, 10); /* timestamp and Error Estimate at 16 */
	memset(pl + 4, 0, 12);
	if (tw_test_seal_sender(modes[0], &o->keys, pl, PAYLOAD_LEN))
		die("seal", EINVAL);
	return 0;
}

/* Entries in a hash map (iterated: the kernel keeps no count). */
static int map_entries(int fd)
{
	struct xt_session_key k, next;
	int n = 0;

	if (bpf_map_get_next_key(fd, NULL, &next))
		return 0;
	do {
		k = next;
		n++;
	} while (!bpf_map_get_next_key(fd, &k, &next) && n < 10000000);
	return n;
}

/*
 * Filler sessions in xtwampd's pinned map up to n entries (started, from
 * 2001:db8::/32 senders that never send): the lookup of the real session
 * then runs in a map of n.  Stops when the map is full.
 */
static int grow_sessions(int fd, int n, int *next_filler)
{
	struct xt_session v = { .format = XT_FMT_TWAMP, .state = XT_SESS_STARTED };
	struct xt_session_key k;
	int have = map_entries(fd);

	while (have < n) {
		int i = ++*next_filler;

		memset(&k, 0, sizeof(k));
		k.sender_addr.w[0] = htonl(0x20010db8);
		k.sender_addr.w[3] = htonl(i);
		k.sender_port = htons(1024 + i % 60000);
		k.reflector_addr.w[0] = htonl(0x20010db8);
		k.reflector_addr.w[3] = htonl(1);
		k.reflector_port = htons(862);
		if (bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST))
			break; /* full: the map's max_entries */
		have++;
	}
	return map_entries(fd);
}

struct flood_ctx {
	struct flood_opts *o;
	struct bench *bs;
	int prog_fd, counters_fd;
	struct xdp_md ctx_in;
};

/* One step: offer `rate` frames/s (0: flat out) for o->seconds, print it as JSON. */
static double flood_step(struct flood_ctx *fc, double rate, int sessions, bool last)
{
	struct flood_opts *o = fc->o;
	struct bench *bs = fc->bs;
	__u64 rx0 = sink_count(bs), sent0 = bs->bss->xb_gen_sent, ns0, cnt0, ns1, cnt1, t0, t, end;
	__u64 refl0 = pinned_counter(fc->counters_fd, XT_CNT_REFLECTED);
	__u64 redir0 = pinned_counter(fc->counters_fd, XT_CNT_REDIRECTED_USERSPACE);
	LIBBPF_OPTS(bpf_test_run_opts, to, .data_in = bs->bss->xb_template,
		    .data_size_in = FRAME_LEN, .ctx_in = &fc->ctx_in,
		    .ctx_size_in = sizeof(fc->ctx_in), .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		    .batch_size = 64);
	const char *why;
	__u64 rx, sent, refl, redir;
	double secs, loss;
	int err;

	bs->bss->xb_cfg.gen_interval_ps = rate > 0 ? (__u64)(1e12 / rate) : 0;
	bs->bss->xb_gen_next_ps = 0;
	bs->bss->xb_sample_len = 0;
	bs->bss->xb_sample_want = 1;
	prog_stats(fc->prog_fd, &ns0, &cnt0);
	t0 = now_ns();
	end = t0 + (__u64)(o->seconds * 1e9);
	/*
	 * Each call sets up a page pool (a millisecond or more here, during
	 * which nothing is sent and the pacer's deficit is forgiven): make the
	 * calls last about 50 ms, whatever one run costs at this rate.
	 */
	to.repeat = 1u << 16;
	while ((t = now_ns()) < end) {
		__u64 d;

		err = bpf_prog_test_run_opts(bpf_program__fd(bs->progs.xb_gen), &to);
		if (err)
			die("generator test run", err);
		d = now_ns() - t;
		if (d > 0) {
			double want = (double)to.repeat * 50e6 / d;

			to.repeat = want > (1u << 26) ? 1u << 26 : want < 4096 ? 4096 : (__u32)want;
		}
	}
	t = now_ns() - t0;
	usleep(200000); /* replies still in flight */
	prog_stats(fc->prog_fd, &ns1, &cnt1);
	rx = sink_count(bs) - rx0;
	sent = bs->bss->xb_gen_sent - sent0;
	refl = pinned_counter(fc->counters_fd, XT_CNT_REFLECTED) - refl0;
	redir = pinned_counter(fc->counters_fd, XT_CNT_REDIRECTED_USERSPACE) - redir0;
	secs = t / 1e9;
	loss = sent ? 1.0 - (double)rx / sent : 1.0;
	why = o->check == CHECK_NONE ? NULL :
				       check_reply(o, bs->bss->xb_sample, bs->bss->xb_sample_len);
	printf("{\"rate\": %.0f, \"sent\": %llu, \"received\": %llu, \"seconds\": %.3f, "
	       "\"offered_pps\": %.0f, \"reflected_pps\": %.0f, \"loss\": %.6f, "
	       "\"prog_run_cnt\": %llu, \"prog_ns_per_run\": %.2f, "
	       "\"xdp_reflected\": %llu, \"xdp_redirected_userspace\": %llu",
	       rate, (unsigned long long)sent, (unsigned long long)rx, secs, sent / secs, rx / secs,
	       loss, (unsigned long long)(cnt1 - cnt0),
	       cnt1 > cnt0 ? (double)(ns1 - ns0) / (cnt1 - cnt0) : 0.0, (unsigned long long)refl,
	       (unsigned long long)redir);
	if (sessions >= 0)
		printf(", \"sessions_in_map\": %d", sessions);
	printf(", \"reply_checked\": %s, \"reply_problem\": ",
	       o->check == CHECK_NONE ? "false" : "true");
	if (why)
		printf("\"%s\"", why);
	else
		printf("null");
	printf("}%s\n", last ? "" : ",");
	fflush(stdout);
	return loss;
}

static enum check_kind parse_check(const char *s)
{
	if (!strcmp(s, "bare"))
		return CHECK_BARE;
	if (!strcmp(s, "floor"))
		return CHECK_FLOOR;
	if (!strcmp(s, "light"))
		return CHECK_LIGHT;
	if (!strcmp(s, "keyed"))
		return CHECK_KEYED;
	if (!strcmp(s, "none"))
		return CHECK_NONE;
	die("flood: --check bare|floor|light|keyed|none", EINVAL);
	return CHECK_NONE;
}

static int cmd_flood(int argc, char **argv)
{
	static const struct option lo[] = { { "iface", 1, 0, 'i' },
					    { "dst-mac", 1, 0, 'm' },
					    { "src", 1, 0, 's' },
					    { "dst", 1, 0, 'd' },
					    { "sport", 1, 0, 'S' },
					    { "dport", 1, 0, 'D' },
					    { "seconds", 1, 0, 't' },
					    { "rates", 1, 0, 'r' },
					    { "cpu", 1, 0, 'c' },
					    { "prog-id", 1, 0, 'p' },
					    { "mode", 1, 0, 'A' },
					    { "user", 1, 0, 'u' },
					    { "secret", 1, 0, 'k' },
					    { "search", 1, 0, 'H' },
					    { "steps", 1, 0, 'N' },
					    { "counters", 1, 0, 'C' },
					    { "check", 1, 0, 'K' },
					    { "sessions-map", 1, 0, 'M' },
					    { "sessions", 1, 0, 'n' },
					    { "allow-map", 1, 0, 'L' },
					    { "allow-prefixes", 1, 0, 'P' },
					    {} };
	struct flood_opts o = {
		.sport = 862, .dport = 862, .seconds = 2, .cpu = -1, .search_steps = 7
	};
	__u8 frame[FRAME_LEN];
	struct cc_conn cc = { .fd = -1 };
	struct flood_ctx fc = { .o = &o, .prog_fd = -1, .counters_fd = -1 };
	struct ifreq ifr = {};
	int c, ifindex, sfd, err;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			o.ifname = optarg;
			break;
		case 'm':
			o.dst_mac = optarg;
			break;
		case 's':
			inet_pton(AF_INET, optarg, &o.src);
			break;
		case 'd':
			inet_pton(AF_INET, optarg, &o.dst);
			break;
		case 'S':
			o.sport = atoi(optarg);
			break;
		case 'D':
			o.dport = atoi(optarg);
			break;
		case 't':
			o.seconds = atof(optarg);
			break;
		case 'c':
			o.cpu = atoi(optarg);
			break;
		case 'p':
			o.prog_id = strtoul(optarg, NULL, 0);
			break;
		case 'A':
			o.mode = optarg;
			break;
		case 'u':
			o.identity = optarg;
			break;
		case 'k':
			o.secret_hex = optarg;
			break;
		case 'H':
			o.search_hi = atof(optarg);
			break;
		case 'N':
			o.search_steps = atoi(optarg);
			break;
		case 'C':
			o.counters_pin = optarg;
			break;
		case 'K':
			o.check = parse_check(optarg);
			break;
		case 'M':
			o.sessions_pin = optarg;
			break;
		case 'L':
			o.allow_pin = optarg;
			break;
		case 'P':
			o.allow_prefixes = atoi(optarg);
			break;
		case 'n':
			for (char *t = strtok(optarg, ","); t && o.n_sessions < 8;
			     t = strtok(NULL, ","))
				o.sessions[o.n_sessions++] = atoi(t);
			break;
		case 'r':
			for (char *t = strtok(optarg, ","); t && o.n_rates < 16;
			     t = strtok(NULL, ","))
				o.rates[o.n_rates++] = atof(t);
			break;
		default:
			die("flood: bad option", EINVAL);
		}
	}
	if (!o.ifname || !o.dst_mac || parse_mac(o.dst_mac, o.dmac))
		die("flood: --iface and --dst-mac are needed", EINVAL);
	if (!o.n_rates)
		o.rates[o.n_rates++] = 0;
	ifindex = if_nametoindex(o.ifname);
	sfd = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o.ifname);
	if (!ifindex || ioctl(sfd, SIOCGIFHWADDR, &ifr))
		die(o.ifname, errno);
	memcpy(o.smac, ifr.ifr_hwaddr.sa_data, 6);
	close(sfd);
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	if (o.prog_id)
		fc.prog_fd = bpf_prog_get_fd_by_id(o.prog_id);
	/*
	 * run_time_ns / run_cnt of the reflector's program: BPF_ENABLE_STATS
	 * counts while we hold its descriptor (until we exit), so, unlike
	 * writing kernel.bpf_stats_enabled, it needs no restoring and cannot
	 * switch off someone else's statistics.
	 */
	if (fc.prog_fd >= 0 && bpf_enable_stats(BPF_STATS_RUN_TIME) < 0)
		fprintf(stderr, "xtbench: BPF_ENABLE_STATS: %s: no live ns per packet\n",
			strerror(errno));
	if (o.counters_pin) {
		fc.counters_fd = bpf_obj_get(o.counters_pin);
		if (fc.counters_fd < 0)
			die(o.counters_pin, errno);
	}

	if (o.mode) {
		negotiated_session(&o, &cc);
	} else {
		light_payload(o.payload);
		o.t1_ntp = load_be64(o.payload + 4);
	}
	build_frame(frame, o.smac, o.dmac, o.src, o.dst, o.sport, o.dport, o.payload);

	fc.bs = bench__open_and_load();
	if (!fc.bs)
		die("load", errno);
	/* The sink counts replies: they come from the reflector's test port. */
	fc.bs->bss->xb_cfg.port = htons(o.dport);
	memcpy(fc.bs->bss->xb_template, frame, FRAME_LEN);
	fc.ctx_in = (struct xdp_md){ .data_end = FRAME_LEN, .ingress_ifindex = ifindex };
	err = bpf_xdp_attach(ifindex, bpf_program__fd(fc.bs->progs.xb_sink), XDP_FLAGS_DRV_MODE,
			     NULL);
	if (err)
		die("attach sink", err);

	if (o.allow_pin) {
		/*
		 * xtwampd takes at most 1,024 --allow prefixes; its map holds
		 * XT_MAX_ALLOW.  It already holds our sender's prefix: add fillers
		 * behind its back (it rewrites the map only on SIGHUP).
		 */
		int fd = bpf_obj_get(o.allow_pin);

		if (fd < 0)
			die(o.allow_pin, errno);
		if (add_allow_fillers(fd, 1, o.allow_prefixes) != o.allow_prefixes)
			die("allow-list fillers", errno);
		close(fd);
	}
	printf("{\"steps\": [\n");
	if (o.sessions_pin) {
		/* Scaling: flat out with the session among more and more others. */
		int fd = bpf_obj_get(o.sessions_pin), filler = 0;

		if (fd < 0)
			die(o.sessions_pin, errno);
		for (int i = 0; i < o.n_sessions; i++)
			flood_step(&fc, 0, grow_sessions(fd, o.sessions[i], &filler),
				   i + 1 == o.n_sessions);
		close(fd);
	} else if (o.search_hi > 0) {
		/*
		 * Bisection for the highest offered rate with <= 0.1 % loss: the
		 * top first (it may pass), then halves between the best rate that
		 * passed and the lowest that failed.
		 */
		double lo = 0, hi = o.search_hi, rate = hi;

		for (int i = 0; i < o.search_steps; i++) {
			if (flood_step(&fc, rate, -1, i + 1 == o.search_steps) <= 0.001) {
				lo = rate;
				if (rate >= hi)
					hi = rate * 2; /* the top passed: look above it */
			} else {
				hi = rate;
			}
			rate = (lo + hi) / 2;
		}
	} else {
		for (int i = 0; i < o.n_rates; i++)
			flood_step(&fc, o.rates[i], -1, i + 1 == o.n_rates);
	}
	printf("]}\n");
	/*
	 * Leave the sink attached, counting nothing (no reply comes from port
	 * 0): detaching would delete the veth's NAPI instance and its pinned
	 * thread, and XDP_TX towards a veth needs a program on the peer anyway.
	 */
	fc.bs->bss->xb_cfg.port = 0;
	bench__destroy(fc.bs);
	if (o.mode) {
		cc_stop_sessions(&cc, 0);
		cc_close(&cc);
	}
	return 0;
}

/* The sink as a pass-everything stub on IFACE, left attached (see cmd_flood). */
static int cmd_stub(int argc, char **argv)
{
	struct bench *bs;
	int ifindex, err;

	if (argc != 2)
		die("usage: stub IFACE", EINVAL);
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex)
		die(argv[1], errno);
	bs = bench__open_and_load();
	if (!bs)
		die("load", errno);
	err = bpf_xdp_attach(ifindex, bpf_program__fd(bs->progs.xb_sink), XDP_FLAGS_DRV_MODE, NULL);
	if (err)
		die("attach", err);
	bench__destroy(bs);
	return 0;
}

/* ---- rtt ---------------------------------------------------------------- */

#define RTT_MAX 100000

static __s64 pctl(const __u64 *v, int n, int per10k)
{
	return n ? (__s64)v[(int)((__u64)(n - 1) * per10k / 10000)] : -1;
}

/*
 * Round trips to a reflector that fills in nothing (xb_bare echoes the
 * request): xtwamp ping rejects such replies, so time them here the way it
 * does (T1 from CLOCK_REALTIME just before sending, T4 from the socket's
 * SO_TIMESTAMPNS), matching replies by the sequence number at offset 0.
 */
static int cmd_rtt(int argc, char **argv)
{
	static const struct option lo[] = { { "dst", 1, 0, 'd' },
					    { "port", 1, 0, 'p' },
					    { "count", 1, 0, 'c' },
					    { "interval", 1, 0, 'i' },
					    {} };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(862) };
	int c, fd, on = 1, count = 1000, got = 0, n;
	double interval = 0.001;
	__u64 *t1, *rtt, start, deadline;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			inet_pton(AF_INET, optarg, &sa.sin_addr);
			break;
		case 'p':
			sa.sin_port = htons(atoi(optarg));
			break;
		case 'c':
			count = atoi(optarg);
			break;
		case 'i':
			interval = atof(optarg);
			break;
		default:
			die("rtt: bad option", EINVAL);
		}
	}
	if (count < 1 || count > RTT_MAX || interval <= 0)
		die("rtt: --count 1..100000, --interval > 0", EINVAL);
	t1 = calloc(count, sizeof(*t1));
	rtt = calloc(count, sizeof(*rtt));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (!t1 || !rtt || fd < 0 || setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("rtt: socket", errno);
	start = now_ns();
	for (int i = 0; i <= count; i++) {
		/* after the last request, one second for stragglers */
		deadline = start + (__u64)((i < count ? i : count - 1) * interval * 1e9) +
			   (i < count ? 0 : 1000000000ull);
		for (;;) {
			union {
				char buf[CMSG_SPACE(sizeof(struct timespec))];
				struct cmsghdr align;
			} ctl;
			__u8 pkt[512];
			struct iovec iov = { .iov_base = pkt, .iov_len = sizeof(pkt) };
			struct msghdr msg = { .msg_iov = &iov,
					      .msg_iovlen = 1,
					      .msg_control = &ctl,
					      .msg_controllen = sizeof(ctl) };
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			__u64 t = now_ns();
			__u32 seq;

			if (t >= deadline)
				break;
			if (poll(&pfd, 1, (int)((deadline - t) / 1000000) + 1) <= 0)
				continue;
			n = recvmsg(fd, &msg, MSG_DONTWAIT);
			if (n < 4)
				continue;
			seq = ntohl(*(__be32 *)pkt);
			for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm;
			     cm = CMSG_NXTHDR(&msg, cm)) {
				struct timespec ts;

				if (cm->cmsg_level != SOL_SOCKET ||
				    cm->cmsg_type != SCM_TIMESTAMPNS)
					continue;
				memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
				if (seq < (__u32)count && t1[seq] && !rtt[seq]) {
					rtt[seq] = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec -
						   t1[seq];
					got++;
				}
			}
		}
		if (i < count) {
			__u8 p[PAYLOAD_LEN];

			light_payload(p);
			*(__be32 *)p = htonl(i);
			t1[i] = xt_realtime_ns();
			if (send(fd, p, sizeof(p), 0) < 0)
				t1[i] = 0;
		}
	}
	n = 0;
	for (int i = 0; i < count; i++)
		if (rtt[i])
			rtt[n++] = rtt[i];
	qsort(rtt, n, sizeof(rtt[0]), cmp_u64);
	printf("{\"overall\": {\"sent\": %d, \"received\": %d, \"rtt_ns\": ", count, got);
	if (n)
		printf("{\"n\": %d, \"median\": %lld, \"p90\": %lld, \"p99\": %lld, "
		       "\"p99_9\": %lld}",
		       n, (long long)pctl(rtt, n, 5000), (long long)pctl(rtt, n, 9000),
		       (long long)pctl(rtt, n, 9900), (long long)pctl(rtt, n, 9990));
	else
		printf("null");
	printf(", \"residence_ns\": null}}\n");
	free(t1);
	free(rtt);
	close(fd);
	return n ? 0 : 1;
}

/* ---- ctrl --------------------------------------------------------------- */

static int cmd_ctrl(int argc, char **argv)
{
	static const struct option lo[] = { { "server", 1, 0, 's' }, { "src", 1, 0, 'a' },
					    { "conns", 1, 0, 'n' },  { "sessions", 1, 0, 'm' },
					    { "mode", 1, 0, 'A' },   { "user", 1, 0, 'u' },
					    { "secret", 1, 0, 'k' }, {} };
	struct in_addr server = {}, src = {};
	int conns = 10, per = 1, c, failed = 0;
	const char *mode = NULL, *identity = NULL, *secret_hex = NULL;
	__u8 secret[256];
	struct rlimit rl;
	struct cc_conn *cc;
	__u64 t0, t_setup, t_start, t_stop, pbkdf2_ns = 0;
	__u32 modes[1] = { XT_MODE_UNAUTHENTICATED };

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			inet_pton(AF_INET, optarg, &server);
			break;
		case 'a':
			inet_pton(AF_INET, optarg, &src);
			break;
		case 'n':
			conns = atoi(optarg);
			break;
		case 'm':
			per = atoi(optarg);
			break;
		case 'A':
			mode = optarg;
			break;
		case 'u':
			identity = optarg;
			break;
		case 'k':
			secret_hex = optarg;
			break;
		default:
			die("ctrl: bad option", EINVAL);
		}
	}
	if (mode)
		modes[0] = strcmp(mode, "encrypted") ? XT_MODE_AUTHENTICATED : XT_MODE_ENCRYPTED;
	/* 1,000 connections need more descriptors than the default soft limit. */
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	int slen = secret_hex ? hex_decode(secret_hex, secret, sizeof(secret)) : 0;
	struct cc_config cfg = { .modes = modes,
				 .n_modes = 1,
				 .identity = identity,
				 .secret = secret,
				 .secret_len = slen > 0 ? slen : 0,
				 .max_count_exponent = CC_MAX_COUNT_EXP_DEFAULT,
				 .timeout_ms = 30000 };

	if (mode) {
		/* What one side's PBKDF2 at the default Count (2^15) costs here. */
		__u8 salt[16] = {}, key[16];
		__u64 t = now_ns();

		tw_derive_key(secret, slen, salt, 1u << CC_MAX_COUNT_EXP_DEFAULT, key);
		pbkdf2_ns = now_ns() - t;
	}
	cc = calloc(conns, sizeof(*cc));
	t0 = now_ns();
	/* Phase 1: all connections open at once (each one blocking, in turn). */
	for (int i = 0; i < conns; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_port = htons(XT_DEFAULT_CONTROL_PORT),
					  .sin_addr = server };
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		cc[i].fd = -1;
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    cc_open(&cc[i], fd, &cfg)) {
			fprintf(stderr, "xtbench: connection %d: %s %s\n", i, strerror(errno),
				cc[i].err);
			failed++;
			if (cc[i].fd < 0 && fd >= 0)
				close(fd);
			cc[i].fd = -1;
			continue;
		}
		for (int j = 0; j < per; j++) {
			struct sockaddr_storage snd = {}, rcv = {};
			struct cc_session_params p = {};
			struct cc_accept a;
			int idx = i * per + j;

			((struct sockaddr_in *)&snd)->sin_family = AF_INET;
			((struct sockaddr_in *)&snd)->sin_addr = src;
			((struct sockaddr_in *)&snd)->sin_port = htons(20000 + idx % 40000);
			((struct sockaddr_in *)&rcv)->sin_family = AF_INET;
			((struct sockaddr_in *)&rcv)->sin_addr = server;
			((struct sockaddr_in *)&rcv)->sin_port = htons(XT_DEFAULT_TEST_PORT);
			cc_params_set_endpoints(&p, &snd, &rcv);
			p.padding_length = 27;
			p.timeout_ns = 1000000000ull;
			if (cc_request_session(&cc[i], &p, &a)) {
				fprintf(stderr, "xtbench: session %d: %s\n", idx, cc[i].err);
				failed++;
			}
		}
	}
	t_setup = now_ns() - t0;
	t0 = now_ns();
	for (int i = 0; i < conns; i++)
		if (cc[i].fd >= 0 && cc[i].accepted && cc_start_sessions(&cc[i]))
			failed++;
	t_start = now_ns() - t0;
	t0 = now_ns();
	for (int i = 0; i < conns; i++) {
		if (cc[i].fd < 0)
			continue;
		if (cc[i].running)
			cc_stop_sessions(&cc[i], 0);
		cc_close(&cc[i]);
	}
	t_stop = now_ns() - t0;
	printf("{\"mode\": \"%s\", \"connections\": %d, \"sessions\": %d, \"failed\": %d, "
	       "\"setup_s\": %.3f, \"start_s\": %.3f, \"teardown_s\": %.3f, "
	       "\"client_pbkdf2_ms\": %.2f}\n",
	       mode ? mode : "unauthenticated", conns, conns * per, failed, t_setup / 1e9,
	       t_start / 1e9, t_stop / 1e9, pbkdf2_ns / 1e6);
	free(cc);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	libbpf_set_print(NULL);
	if (argc < 2) {
		fprintf(stderr, "usage: xtbench testrun | serve | flood | ctrl ...\n");
		return 2;
	}
	if (!strcmp(argv[1], "testrun"))
		return cmd_testrun();
	if (!strcmp(argv[1], "serve"))
		return cmd_serve(argc - 1, argv + 1);
	if (!strcmp(argv[1], "flood"))
		return cmd_flood(argc - 1, argv + 1);
	if (!strcmp(argv[1], "stub"))
		return cmd_stub(argc - 1, argv + 1);
	if (!strcmp(argv[1], "rtt"))
		return cmd_rtt(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ctrl"))
		return cmd_ctrl(argc - 1, argv + 1);
	fprintf(stderr, "xtbench: unknown command %s\n", argv[1]);
	return 2;
}
