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
 *
 * Every command prints one JSON object on stdout; run.sh assembles them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
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

static int fill_allow(struct xtwamp *x, struct in_addr sender, int n)
{
	int fd = bpf_map__fd(x->maps.xtwamp_allow), done = 0;
	struct xt_allow_key k;
	__u8 one = 1;

	memset(&k, 0, sizeof(k));
	k.prefixlen = 96 + 24;
	set_mapped(&k.addr, sender);
	k.addr.b[15] = 0;
	if (bpf_map_update_elem(fd, &k, &one, BPF_ANY))
		return 0;
	for (done = 1; done < n; done++) {
		memset(&k, 0, sizeof(k));
		k.prefixlen = 64;
		k.addr.w[0] = htonl(0x20010db8);
		k.addr.w[1] = htonl(done * 2654435761u);
		if (bpf_map_update_elem(fd, &k, &one, BPF_ANY))
			break;
	}
	return done;
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

struct flood_opts {
	const char *ifname, *dst_mac, *mode, *identity, *secret_hex;
	struct in_addr src, dst;
	__u16 sport, dport;
	double seconds;
	double rates[16];
	int n_rates;
	int cpu;
	__u32 prog_id;
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

/*
 * A keyed session, set up like `xtwamp ping -A MODE` would, whose keys we
 * keep: the generator replays one sealed request, which xtwampd verifies
 * (and for encrypted mode decrypts) and answers in full on every copy.
 */
static int keyed_session(struct flood_opts *o, struct cc_conn *cc, __u8 payload[PAYLOAD_LEN])
{
	struct sockaddr_in srv = { .sin_family = AF_INET,
				   .sin_port = htons(XT_DEFAULT_CONTROL_PORT) };
	struct sockaddr_storage snd = {}, rcv = {};
	__u32 modes[1] = { strcmp(o->mode, "encrypted") ? XT_MODE_AUTHENTICATED :
							  XT_MODE_ENCRYPTED };
	__u8 secret[256];
	int n = hex_decode(o->secret_hex, secret, sizeof(secret)), fd, err;
	struct cc_config cfg = { .modes = modes,
				 .n_modes = 1,
				 .identity = o->identity,
				 .secret = secret,
				 .secret_len = n > 0 ? n : 0,
				 .max_count_exponent = CC_MAX_COUNT_EXP_DEFAULT,
				 .timeout_ms = 5000 };
	struct cc_session_params p = {};
	struct cc_accept a;
	struct tw_test_keys keys;

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
	p.padding_length = PAYLOAD_LEN - sizeof(struct xt_twamp_sender_auth);
	p.start_time_ntp = xt_unix_ns_to_ntp64(xt_realtime_ns());
	p.timeout_ns = 1000000000ull;
	if (cc_request_session(cc, &p, &a) || cc_start_sessions(cc) ||
	    cc_test_keys(cc, a.sid, &keys)) {
		fprintf(stderr, "xtbench: session: %s\n", cc->err);
		exit(1);
	}
	o->dport = a.port;
	light_payload(payload);
	memset(payload, 0, 4);			/* seq 0; the MBZ after it in the keyed format */
	memmove(payload + 16, payload + 4, 10); /* timestamp and Error Estimate at 16 */
	memset(payload + 4, 0, 12);
	if (tw_test_seal_sender(modes[0], &keys, payload, PAYLOAD_LEN))
		die("seal", EINVAL);
	return 0;
}

static int cmd_flood(int argc, char **argv)
{
	static const struct option lo[] = { { "iface", 1, 0, 'i' },   { "dst-mac", 1, 0, 'm' },
					    { "src", 1, 0, 's' },     { "dst", 1, 0, 'd' },
					    { "sport", 1, 0, 'S' },   { "dport", 1, 0, 'D' },
					    { "seconds", 1, 0, 't' }, { "rates", 1, 0, 'r' },
					    { "cpu", 1, 0, 'c' },     { "prog-id", 1, 0, 'p' },
					    { "mode", 1, 0, 'A' },    { "user", 1, 0, 'u' },
					    { "secret", 1, 0, 'k' },  {} };
	struct flood_opts o = { .sport = 862, .dport = 862, .seconds = 2, .cpu = -1 };
	__u8 smac[6], dmac[6], payload[PAYLOAD_LEN], frame[FRAME_LEN];
	struct cc_conn cc = { .fd = -1 };
	struct ifreq ifr = {};
	struct bench *bs;
	int c, ifindex, sfd, prog_fd = -1, err;

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
		case 'r':
			for (char *t = strtok(optarg, ","); t && o.n_rates < 16;
			     t = strtok(NULL, ","))
				o.rates[o.n_rates++] = atof(t);
			break;
		default:
			die("flood: bad option", EINVAL);
		}
	}
	if (!o.ifname || !o.dst_mac || parse_mac(o.dst_mac, dmac))
		die("flood: --iface and --dst-mac are needed", EINVAL);
	if (!o.n_rates)
		o.rates[o.n_rates++] = 0;
	ifindex = if_nametoindex(o.ifname);
	sfd = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o.ifname);
	if (!ifindex || ioctl(sfd, SIOCGIFHWADDR, &ifr))
		die(o.ifname, errno);
	memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
	close(sfd);
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	if (o.prog_id)
		prog_fd = bpf_prog_get_fd_by_id(o.prog_id);

	if (o.mode)
		keyed_session(&o, &cc, payload);
	else
		light_payload(payload);
	build_frame(frame, smac, dmac, o.src, o.dst, o.sport, o.dport, payload);

	bs = bench__open_and_load();
	if (!bs)
		die("load", errno);
	/* The sink counts replies: they come from the reflector's test port. */
	bs->bss->xb_cfg.port = htons(o.dport);
	memcpy(bs->bss->xb_template, frame, FRAME_LEN);
	err = bpf_xdp_attach(ifindex, bpf_program__fd(bs->progs.xb_sink), XDP_FLAGS_DRV_MODE, NULL);
	if (err)
		die("attach sink", err);

	printf("{\"steps\": [\n");
	for (int i = 0; i < o.n_rates; i++) {
		double rate = o.rates[i];
		__u64 sent = 0, rx0 = sink_count(bs), ns0, cnt0, ns1, cnt1, t0, t, end;
		__u32 chunk = rate > 0 ? (rate / 2000 < 64 ? 64 : (__u32)(rate / 2000)) : 65536;
		struct xdp_md ctx_in = { .data_end = FRAME_LEN, .ingress_ifindex = ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, to, .data_in = frame, .data_size_in = FRAME_LEN,
			    .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in),
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);

		prog_stats(prog_fd, &ns0, &cnt0);
		t0 = now_ns();
		end = t0 + (__u64)(o.seconds * 1e9);
		while ((t = now_ns()) < end) {
			/* pace in chunks of half a millisecond's worth */
			if (rate > 0 && sent >= (t - t0) * rate / 1e9) {
				struct timespec d = { 0, 50000 };

				nanosleep(&d, NULL);
				continue;
			}
			to.repeat = chunk;
			err = bpf_prog_test_run_opts(bpf_program__fd(bs->progs.xb_gen), &to);
			if (err)
				die("generator test run", err);
			sent += chunk;
		}
		t = now_ns() - t0;
		usleep(200000); /* replies still in flight */
		prog_stats(prog_fd, &ns1, &cnt1);
		{
			__u64 rx = sink_count(bs) - rx0;
			double secs = t / 1e9;

			printf("{\"rate\": %.0f, \"sent\": %llu, \"received\": %llu, \"seconds\": %.3f, "
			       "\"offered_pps\": %.0f, \"reflected_pps\": %.0f, \"loss\": %.6f, "
			       "\"prog_run_cnt\": %llu, \"prog_ns_per_run\": %.2f}%s\n",
			       rate, (unsigned long long)sent, (unsigned long long)rx, secs,
			       sent / secs, rx / secs, sent ? 1.0 - (double)rx / sent : 0,
			       (unsigned long long)(cnt1 - cnt0),
			       cnt1 > cnt0 ? (double)(ns1 - ns0) / (cnt1 - cnt0) : 0.0,
			       i + 1 < o.n_rates ? "," : "");
			fflush(stdout);
		}
	}
	printf("]}\n");
	/*
	 * Leave the sink attached, counting nothing (no reply comes from port
	 * 0): detaching would delete the veth's NAPI instance and its pinned
	 * thread, and XDP_TX towards a veth needs a program on the peer anyway.
	 */
	bs->bss->xb_cfg.port = 0;
	bench__destroy(bs);
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
	if (!strcmp(argv[1], "ctrl"))
		return cmd_ctrl(argc - 1, argv + 1);
	fprintf(stderr, "xtbench: unknown command %s\n", argv[1]);
	return 2;
}
