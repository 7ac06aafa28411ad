// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* daemon_opts.c - see daemon_opts.h */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "config_file.h"
#include "daemon_opts.h"
#include "metrics.h"
#include "xtwamp_wire.h"

enum {
	OPT_XDP_MODE = 256,
	OPT_LIGHT_PORT,
	OPT_STAMP_PORT,
	OPT_STATELESS,
	OPT_ALLOW,
	OPT_DEFAULT_DENY,
	OPT_RATE_LIMIT,
	OPT_RATE_BURST,
	OPT_PIN_PATH,
	OPT_RX_TS,
	OPT_NO_RESERVE,
	OPT_VERSION,
	OPT_CONTROL_PORT,
	OPT_CONTROL_ADDR,
	OPT_NO_CONTROL,
	OPT_MODES,
	OPT_KEYS,
	OPT_MAX_COUNT_EXP,
	OPT_REFWAIT,
	OPT_SERVWAIT,
	OPT_MAX_CONNECTIONS,
	OPT_MAX_CONN_PER_CLIENT,
	OPT_MAX_SESSIONS,
	OPT_MAX_SESS_PER_CONN,
	OPT_CONTROL_ALLOW,
	OPT_REQUIRE_AUTH,
	OPT_METRICS,
	OPT_CONFIG,
	OPT_METRICS_SESSIONS,
};

static const struct option long_options[] = {
	{ "iface", required_argument, NULL, 'i' },
	{ "xdp-mode", required_argument, NULL, OPT_XDP_MODE },
	{ "light-port", required_argument, NULL, OPT_LIGHT_PORT },
	{ "stamp-port", required_argument, NULL, OPT_STAMP_PORT },
	{ "stateless", no_argument, NULL, OPT_STATELESS },
	{ "allow", required_argument, NULL, OPT_ALLOW },
	{ "default-deny", no_argument, NULL, OPT_DEFAULT_DENY },
	{ "rate-limit", required_argument, NULL, OPT_RATE_LIMIT },
	{ "rate-burst", required_argument, NULL, OPT_RATE_BURST },
	{ "pin-path", required_argument, NULL, OPT_PIN_PATH },
	{ "rx-timestamp", required_argument, NULL, OPT_RX_TS },
	{ "no-reserve-ports", no_argument, NULL, OPT_NO_RESERVE },
	{ "control-port", required_argument, NULL, OPT_CONTROL_PORT },
	{ "control-addr", required_argument, NULL, OPT_CONTROL_ADDR },
	{ "no-control", no_argument, NULL, OPT_NO_CONTROL },
	{ "modes", required_argument, NULL, OPT_MODES },
	{ "keys", required_argument, NULL, OPT_KEYS },
	{ "max-count-exponent", required_argument, NULL, OPT_MAX_COUNT_EXP },
	{ "refwait", required_argument, NULL, OPT_REFWAIT },
	{ "servwait", required_argument, NULL, OPT_SERVWAIT },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
	{ "max-connections-per-client", required_argument, NULL, OPT_MAX_CONN_PER_CLIENT },
	{ "max-sessions", required_argument, NULL, OPT_MAX_SESSIONS },
	{ "max-sessions-per-connection", required_argument, NULL, OPT_MAX_SESS_PER_CONN },
	{ "control-allow", required_argument, NULL, OPT_CONTROL_ALLOW },
	{ "require-auth", required_argument, NULL, OPT_REQUIRE_AUTH },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "metrics-sessions", required_argument, NULL, OPT_METRICS_SESSIONS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

void xtwampd_usage(FILE *out)
{
	fprintf(out,
		"Usage: xtwampd --iface IF [--iface IF2 ...] [options]\n"
		"\n"
		"TWAMP-Test / STAMP reflector in XDP.  Loads the reflector, attaches it to each\n"
		"interface, pins its maps for `xtwamp stats`, keeps the clock offset and Error\n"
		"Estimate current, and detaches cleanly on SIGINT/SIGTERM.  Needs root\n"
		"(CAP_BPF, CAP_NET_ADMIN).\n"
		"\n"
		"Interfaces:\n"
		"  -i, --iface IF           attach to IF (repeat for more; up to %d)\n"
		"      --xdp-mode MODE      auto (default: native, else generic with a warning),\n"
		"                           native (driver mode only), generic (skb mode)\n"
		"      --rx-timestamp MODE  sw (default: the kernel clock), auto (NIC RX timestamps\n"
		"                           for T2 where the driver offers them, native mode only;\n"
		"                           loads a device-bound program), hw (require them)\n"
		"\n"
		"Test traffic:\n"
		"      --light-port PORT    reflect TWAMP Light (RFC 5357 App. I) on UDP PORT\n"
		"                           (repeatable; default 862 when no port is given)\n"
		"      --stamp-port PORT    reflect STAMP (RFC 8762, SSID of RFC 8972) on UDP PORT\n"
		"      --stateless          copy the sender's sequence number (default: stateful,\n"
		"                           own sequence 0,1,2... per sender, so loss direction shows)\n"
		"      --no-reserve-ports   do not bind the test ports (by default xtwampd binds\n"
		"                           them so no other program can claim them)\n"
		"\n"
		"Admission (RFC 8545 §6: limit who can use a well-known reflector port):\n"
		"      --allow PREFIX       reflect only sources in PREFIX (IPv4 or IPv6, repeatable,\n"
		"                           comma-separated lists accepted); no --allow = everyone\n"
		"      --default-deny       enforce the allow-list even when it is empty\n"
		"      --rate-limit PPS     per-source packet rate (default %d; 0 = unlimited)\n"
		"      --rate-burst N       packets a source may send back to back\n"
		"                           (default: a tenth of a second's worth, at least 10)\n"
		"\n"
		"TWAMP-Control server (RFC 5357 §3; negotiated sessions):\n"
		"      --control-port PORT  TCP port of TWAMP-Control (default %d)\n"
		"      --control-addr ADDR  listen on ADDR only (repeatable; default: one\n"
		"                           dual-stack [::] socket, or 0.0.0.0 without IPv6;\n"
		"                           an explicit :: is IPv6 only)\n"
		"      --no-control         no TWAMP-Control server: TWAMP Light / STAMP only\n"
		"      --modes LIST         modes offered: comma list of unauthenticated,\n"
		"                           authenticated, encrypted, mixed, individual,\n"
		"                           reflect-octets, symmetrical-size, or a number\n"
		"                           (default: unauthenticated,individual,reflect-octets,\n"
		"                           symmetrical-size, plus authenticated,encrypted,mixed\n"
		"                           with --keys)\n"
		"      --keys FILE          shared secrets for authenticated/encrypted/mixed\n"
		"                           modes: lines of \"KeyID hex-passphrase\"; keep it\n"
		"                           chmod 600\n"
		"      --max-count-exponent E  PBKDF2 Count in the greeting is 2^E (10-31,\n"
		"                           default %d: RFC 8913)\n"
		"      --servwait S         close a control connection idle S seconds, or one\n"
		"                           stuck inside a message (default %d; paused while its\n"
		"                           sessions run, RFC 5357 §3.1)\n"
		"      --refwait S          end a started session that received nothing for S\n"
		"                           seconds (default %d, RFC 5357 §4.2)\n"
		"      --max-connections N  control connections at once (default %d)\n"
		"      --max-connections-per-client N  from one address (default %d)\n"
		"      --max-sessions N     negotiated sessions at once (default %d)\n"
		"      --max-sessions-per-connection N  (default %d)\n"
		"      --control-allow PREFIX  accept control connections only from PREFIX\n"
		"                           (repeatable, comma lists; default everyone)\n"
		"      --require-auth PREFIX  offer clients in PREFIX only authenticated and\n"
		"                           encrypted modes (not unauthenticated, not mixed,\n"
		"                           whose test packets are unauthenticated); needs --keys\n"
		"\n"
		"Configuration:\n"
		"      --config FILE        read options from an INI file (keys are the long\n"
		"                           options, e.g. iface = eth0); the command line\n"
		"                           overrides it.  SIGHUP re-reads it: keys, allow-list,\n"
		"                           rate limit, control limits and prefixes, without\n"
		"                           dropping sessions\n"
		"\n"
		"Observability:\n"
		"      --metrics ADDR:PORT  serve Prometheus metrics at http://ADDR:PORT/metrics\n"
		"                           ([IPV6]:PORT, or :PORT for every address)\n"
		"      --metrics-sessions N  also per-session series, for at most N sessions\n"
		"                           (default 0: none; each session is 2 series)\n"
		"      State for `xtwamp stats` / `xtwamp sessions`: " DS_RUN_DIR
		"/<pin dir name>.state\n"
		"\n"
		"Other:\n"
		"      --pin-path DIR       where maps and links are pinned (default %s)\n"
		"  -v, --verbose            more detail (-vv: libbpf debug output and verifier logs)\n"
		"  -h, --help               this text\n"
		"      --version            print the version\n"
		"\n"
		"Examples:\n"
		"  xtwampd --iface eth0\n"
		"  xtwampd --iface eth0 --allow 192.0.2.0/24,2001:db8::/32 --rate-limit 2000\n"
		"  xtwampd --iface eth0 --stamp-port 862 --light-port 8620 --xdp-mode generic\n"
		"  xtwampd --iface eth0 --keys /etc/xtwamp/keys --require-auth 0.0.0.0/0,::/0\n"
		"  xtwampd --iface eth0 --metrics 127.0.0.1:9862\n",
		XT_MAX_IFACES, XT_DEFAULT_RATE_PPS, XT_DEFAULT_CONTROL_PORT,
		XT_DEFAULT_COUNT_EXPONENT, XT_DEFAULT_SERVWAIT_S, XT_DEFAULT_REFWAIT_S,
		XT_DEFAULT_MAX_CONNECTIONS, XT_DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
		XT_DEFAULT_MAX_SESSIONS, XT_DEFAULT_MAX_SESSIONS_PER_CONNECTION,
		XT_PIN_PATH_DEFAULT);
}

__u32 xtwampd_default_burst(__u32 rate_pps)
{
	__u32 burst = rate_pps / 10;

	return burst < 10 ? 10 : burst;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_u32(const char *text, unsigned long max, __u32 *out)
{
	unsigned long v;
	char *end;

	if (!*text || *text == '-' || *text == '+')
		return -EINVAL;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = (__u32)v;
	return 0;
}

static int add_port(struct xtwampd_opts *o, const char *text, __u8 format, char *err, size_t errlen)
{
	const char *opt = format == XT_FMT_STAMP ? "--stamp-port" : "--light-port";
	__u32 port;
	int i;

	if (parse_u32(text, 65535, &port) || port == 0)
		return fail(err, errlen, "%s: '%s' is not a UDP port (1-65535)", opt, text);
	for (i = 0; i < o->n_ports; i++)
		if (o->ports[i].port == port)
			return fail(err, errlen, "%s %u: port already given%s", opt, port,
				    o->ports[i].format != format ? " with the other format" : "");
	if (o->n_ports == XT_MAX_PORTS)
		return fail(err, errlen, "%s: at most %d test ports", opt, XT_MAX_PORTS);
	o->ports[o->n_ports].port = (__u16)port;
	o->ports[o->n_ports].format = format;
	o->n_ports++;
	return 0;
}

/* A comma/space separated list of prefixes for opt into arr (n of max used). */
static int add_prefixes(struct xt_allow_key *arr, int *n, int max, const char *opt,
			const char *list, char *err, size_t errlen)
{
	char buf[4096], *item, *save = NULL;

	if (strlen(list) >= sizeof(buf))
		return fail(err, errlen, "%s: list too long; repeat %s instead", opt, opt);
	strcpy(buf, list);
	for (item = strtok_r(buf, ", ", &save); item; item = strtok_r(NULL, ", ", &save)) {
		if (*n == max)
			return fail(err, errlen, "%s: at most %d prefixes", opt, max);
		if (xt_prefix_parse(item, &arr[*n]))
			return fail(err, errlen,
				    "%s: '%s' is not an IPv4/IPv6 address or prefix "
				    "(host bits must be zero, e.g. 192.0.2.0/24)",
				    opt, item);
		(*n)++;
	}
	return 0;
}

static const struct {
	const char *name;
	__u32 bit;
} mode_names[] = {
	{ "unauthenticated", XT_MODE_UNAUTHENTICATED },
	{ "authenticated", XT_MODE_AUTHENTICATED },
	{ "encrypted", XT_MODE_ENCRYPTED },
	{ "mixed", XT_MODE_MIXED },
	{ "individual", XT_MODE_INDIVIDUAL_SESSIONS },
	{ "reflect-octets", XT_MODE_REFLECT_OCTETS },
	{ "symmetrical-size", XT_MODE_SYMMETRICAL_SIZE },
};

/* snprintf at buf + *used that keeps counting past the end without writing there. */
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	char dummy[1];

	va_start(ap, fmt);
	if (*used < len)
		*used += vsnprintf(buf + *used, len - *used, fmt, ap);
	else
		*used += vsnprintf(dummy, 0, fmt, ap);
	va_end(ap);
}

const char *xt_modes_format(__u32 modes, char *buf, size_t len)
{
	size_t used = 0, i;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (!(modes & mode_names[i].bit))
			continue;
		append(buf, len, &used, "%s%s", used ? "," : "", mode_names[i].name);
		modes &= ~mode_names[i].bit;
	}
	if (modes)
		append(buf, len, &used, "%s0x%x", used ? "," : "", modes);
	if (!used)
		snprintf(buf, len, "none");
	return buf;
}

/* --modes: names and numbers (decimal or 0x hex), OR-ed together. */
static int parse_modes(const char *list, __u32 *out, char *err, size_t errlen)
{
	char buf[512], *item, *save = NULL;
	__u32 modes = 0;
	size_t i;

	if (strlen(list) >= sizeof(buf))
		return fail(err, errlen, "--modes: list too long");
	strcpy(buf, list);
	for (item = strtok_r(buf, ", ", &save); item; item = strtok_r(NULL, ", ", &save)) {
		if (*item >= '0' && *item <= '9') {
			unsigned long v;
			char *end;

			errno = 0;
			v = strtoul(item, &end, 0);
			if (errno || *end || v > 0xffffffffUL)
				return fail(err, errlen,
					    "--modes: '%s' is not a number or a mode name", item);
			modes |= (__u32)v;
			continue;
		}
		for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
			if (!strcasecmp(item, mode_names[i].name))
				break;
		if (i == sizeof(mode_names) / sizeof(mode_names[0]))
			return fail(
				err, errlen,
				"--modes: unknown mode '%s' (unauthenticated, authenticated, "
				"encrypted, mixed, individual, reflect-octets, symmetrical-size, "
				"or a number)",
				item);
		modes |= mode_names[i].bit;
	}
	if (modes & ~XT_MODES_SUPPORTED)
		return fail(
			err, errlen,
			"--modes: mode bits 0x%x are not supported by xtwampd (supported: 0x%x)",
			modes & ~XT_MODES_SUPPORTED, XT_MODES_SUPPORTED);
	if (!(modes & XT_MODE_SECURITY_MASK))
		return fail(err, errlen,
			    "--modes: '%s' offers no security mode; add unauthenticated, "
			    "authenticated, encrypted or mixed",
			    list);
	*out = modes;
	return 0;
}

/* A bounded unsigned option: fails naming the option and the value. */
static int parse_range(const char *opt, const char *text, __u32 min, __u32 max, __u32 *out,
		       char *err, size_t errlen)
{
	if (parse_u32(text, max, out) || *out < min)
		return fail(err, errlen, "%s: '%s' is not a number from %u to %u", opt, text, min,
			    max);
	return 0;
}

/* Cross-checks of the control options, once all of them are known. */
static int check_control(struct xtwampd_opts *o, bool modes_given, bool control_addr_given,
			 char *err, size_t errlen)
{
	bool keys = o->keys_path[0] != '\0';
	char names[128];

	if (!o->control) {
		if (control_addr_given)
			return fail(err, errlen,
				    "--control-addr/--control-port with --no-control: drop one");
		return 0;
	}
	if (!modes_given)
		o->modes = XT_MODES_DEFAULT | (keys ? XT_MODES_NEED_KEYS : 0);
	if (!keys && (o->modes & XT_MODES_NEED_KEYS))
		return fail(err, errlen,
			    "--modes %s needs --keys FILE (the shared secrets of those modes)",
			    xt_modes_format(o->modes & XT_MODES_NEED_KEYS, names, sizeof(names)));
	if (o->n_require_auth && !(o->modes & XT_MODE_TEST_CIPHER))
		return fail(err, errlen,
			    "--require-auth: clients there would be offered no mode; give --keys "
			    "and offer authenticated or encrypted in --modes");
	if (o->max_sessions_per_connection > o->max_sessions)
		o->max_sessions_per_connection = o->max_sessions;
	return 0;
}

static int parse_args(int argc, char **argv, struct xtwampd_opts *o, char *err, size_t errlen);

/* config_file.h callbacks: 1 takes a value, 0 flag, -1 no such option. */
static int option_kind(const char *name)
{
	for (const struct option *op = long_options; op->name; op++)
		if (!strcmp(op->name, name))
			return op->has_arg == no_argument ? 0 : 1;
	return -1;
}

static int option_is_list(const char *name)
{
	static const char *const lists[] = { "iface",	    "light-port",   "stamp-port",
					     "allow",	    "control-addr", "control-allow",
					     "require-auth" };

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (!strcmp(lists[i], name))
			return 1;
	return 0;
}

/*
 * --config FILE: the file's options go before the command line's (which
 * therefore override them, see config_file.h), then the usual parse.
 */
int xtwampd_parse_args(int argc, char **argv, struct xtwampd_opts *o, char *err, size_t errlen)
{
	struct config_args file = { 0 };
	const char *path = NULL;
	char **merged, **rest;
	int i, n_rest = 0, n_merged, rc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			path = argv[i + 1];
		else if (!strncmp(argv[i], "--config=", 9))
			path = argv[i] + 9;
	}
	if (!path) {
		rc = parse_args(argc, argv, o, err, errlen);
		o->config_path[0] = '\0';
		return rc;
	}
	if (!*path || strlen(path) >= sizeof(o->config_path)) {
		memset(o, 0, sizeof(*o));
		return fail(err, errlen, "--config: '%s' is not a file name", path);
	}
	rc = config_file_load(path, option_kind, &file, err, errlen);
	if (rc) {
		memset(o, 0, sizeof(*o));
		return rc;
	}
	/* the command line without --config */
	rest = calloc((size_t)argc + 1, sizeof(*rest));
	if (!rest) {
		config_args_free(&file);
		return fail(err, errlen, "out of memory");
	}
	for (i = 0; i < argc; i++) {
		if (i > 0 && !strcmp(argv[i], "--config") && i + 1 < argc) {
			i++;
			continue;
		}
		if (i > 0 && !strncmp(argv[i], "--config=", 9))
			continue;
		rest[n_rest++] = argv[i];
	}
	merged = config_file_merge(&file, n_rest, rest, option_is_list, &n_merged);
	if (!merged) {
		rc = fail(err, errlen, "out of memory");
	} else {
		char path_copy[PATH_MAX];

		snprintf(path_copy, sizeof(path_copy), "%s", path);
		rc = parse_args(n_merged, merged, o, err, errlen);
		if (rc && rc != XT_OPTS_HELP && rc != XT_OPTS_VERSION) {
			char inner[512];

			snprintf(inner, sizeof(inner), "%s", err);
			snprintf(err, errlen, "%s (options from --config %s and the command line)",
				 inner, path_copy);
		}
		snprintf(o->config_path, sizeof(o->config_path), "%s", path_copy);
	}
	free(merged);
	free(rest);
	config_args_free(&file);
	return rc;
}

static int parse_args(int argc, char **argv, struct xtwampd_opts *o, char *err, size_t errlen)
{
	bool burst_given = false, modes_given = false, control_addr_given = false;
	int opt, err_rc;

	memset(o, 0, sizeof(*o));
	o->rate_limit_pps = XT_DEFAULT_RATE_PPS;
	/*
	 * Device-bound programs (needed for NIC RX timestamps) oopsed Linux 6.18
	 * when their veth went away under a running daemon (a use-after-free in
	 * bpf_dev_bound_netdev_unregister that left RTNL held): opt-in only.
	 */
	o->rx_ts = XT_RXTS_SW;
	o->reserve_ports = true;
	o->control = true;
	o->control_port = XT_DEFAULT_CONTROL_PORT;
	o->count_exponent = XT_DEFAULT_COUNT_EXPONENT;
	o->servwait_s = XT_DEFAULT_SERVWAIT_S;
	o->refwait_s = XT_DEFAULT_REFWAIT_S;
	o->max_connections = XT_DEFAULT_MAX_CONNECTIONS;
	o->max_connections_per_client = XT_DEFAULT_MAX_CONNECTIONS_PER_CLIENT;
	o->max_sessions = XT_DEFAULT_MAX_SESSIONS;
	o->max_sessions_per_connection = XT_DEFAULT_MAX_SESSIONS_PER_CONNECTION;
	snprintf(o->pin_path, sizeof(o->pin_path), "%s", XT_PIN_PATH_DEFAULT);
	err[0] = '\0';

	optind = 0; /* GNU: full re-initialisation, so tests can parse repeatedly */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":i:vh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (strlen(optarg) == 0 || strlen(optarg) >= IF_NAMESIZE)
				return fail(err, errlen, "--iface: '%s' is not an interface name",
					    optarg);
			if (o->n_ifaces == XT_MAX_IFACES)
				return fail(err, errlen, "--iface: at most %d interfaces",
					    XT_MAX_IFACES);
			for (int i = 0; i < o->n_ifaces; i++)
				if (!strcmp(o->ifaces[i], optarg))
					return fail(err, errlen, "--iface %s given twice", optarg);
			strcpy(o->ifaces[o->n_ifaces++], optarg);
			break;
		case OPT_XDP_MODE:
			if (!strcmp(optarg, "auto"))
				o->xdp_mode = XT_XDP_AUTO;
			else if (!strcmp(optarg, "native") || !strcmp(optarg, "drv"))
				o->xdp_mode = XT_XDP_NATIVE;
			else if (!strcmp(optarg, "generic") || !strcmp(optarg, "skb"))
				o->xdp_mode = XT_XDP_GENERIC;
			else
				return fail(err, errlen,
					    "--xdp-mode: '%s' is not auto, native or generic",
					    optarg);
			break;
		case OPT_RX_TS:
			if (!strcmp(optarg, "auto"))
				o->rx_ts = XT_RXTS_AUTO;
			else if (!strcmp(optarg, "hw"))
				o->rx_ts = XT_RXTS_HW;
			else if (!strcmp(optarg, "sw"))
				o->rx_ts = XT_RXTS_SW;
			else
				return fail(err, errlen,
					    "--rx-timestamp: '%s' is not auto, hw or sw", optarg);
			break;
		case OPT_LIGHT_PORT:
		case OPT_STAMP_PORT:
			err_rc = add_port(o, optarg,
					  opt == OPT_STAMP_PORT ? XT_FMT_STAMP : XT_FMT_TWAMP, err,
					  errlen);
			if (err_rc)
				return err_rc;
			break;
		case OPT_STATELESS:
			o->stateless = true;
			break;
		case OPT_ALLOW:
			err_rc = add_prefixes(o->allow, &o->n_allow, XT_MAX_ALLOW_ARGS, "--allow",
					      optarg, err, errlen);
			if (err_rc)
				return err_rc;
			break;
		case OPT_DEFAULT_DENY:
			o->default_deny = true;
			break;
		case OPT_RATE_LIMIT:
			if (parse_u32(optarg, 100000000, &o->rate_limit_pps))
				return fail(
					err, errlen,
					"--rate-limit: '%s' is not a packet rate (0-100000000 pps; 0 = off)",
					optarg);
			break;
		case OPT_RATE_BURST:
			if (parse_u32(optarg, 100000000, &o->rate_burst) || o->rate_burst == 0)
				return fail(
					err, errlen,
					"--rate-burst: '%s' is not a packet count (1-100000000)",
					optarg);
			burst_given = true;
			break;
		case OPT_PIN_PATH:
			if (optarg[0] != '/' || strlen(optarg) >= sizeof(o->pin_path) - 32)
				return fail(
					err, errlen,
					"--pin-path: '%s' must be an absolute path under a bpffs mount",
					optarg);
			snprintf(o->pin_path, sizeof(o->pin_path), "%s", optarg);
			break;
		case OPT_NO_RESERVE:
			o->reserve_ports = false;
			break;
		case OPT_CONTROL_PORT: {
			__u32 port;

			if (parse_u32(optarg, 65535, &port) || port == 0)
				return fail(err, errlen,
					    "--control-port: '%s' is not a TCP port (1-65535)",
					    optarg);
			o->control_port = (__u16)port;
			control_addr_given = true;
			break;
		}
		case OPT_CONTROL_ADDR:
			if (o->n_control_addrs == XT_MAX_CONTROL_ADDRS)
				return fail(err, errlen, "--control-addr: at most %d addresses",
					    XT_MAX_CONTROL_ADDRS);
			if (xt_addr_parse(optarg, &o->control_addrs[o->n_control_addrs]))
				return fail(err, errlen,
					    "--control-addr: '%s' is not an IPv4 or IPv6 address "
					    "(no brackets, no port: see --control-port)",
					    optarg);
			for (int i = 0; i < o->n_control_addrs; i++)
				if (!memcmp(&o->control_addrs[i],
					    &o->control_addrs[o->n_control_addrs],
					    sizeof(union xt_addr)))
					return fail(err, errlen, "--control-addr %s given twice",
						    optarg);
			o->n_control_addrs++;
			control_addr_given = true;
			break;
		case OPT_NO_CONTROL:
			o->control = false;
			break;
		case OPT_MODES:
			err_rc = parse_modes(optarg, &o->modes, err, errlen);
			if (err_rc)
				return err_rc;
			modes_given = true;
			break;
		case OPT_KEYS:
			if (!optarg[0] || strlen(optarg) >= sizeof(o->keys_path))
				return fail(err, errlen, "--keys: '%s' is not a file name", optarg);
			snprintf(o->keys_path, sizeof(o->keys_path), "%s", optarg);
			break;
		case OPT_MAX_COUNT_EXP: {
			__u32 e;

			err_rc = parse_range("--max-count-exponent", optarg, XT_MIN_COUNT_EXPONENT,
					     XT_MAX_COUNT_EXPONENT, &e, err, errlen);
			if (err_rc)
				return err_rc;
			o->count_exponent = (__u8)e;
			break;
		}
		case OPT_REFWAIT:
		case OPT_SERVWAIT:
			err_rc = parse_range(opt == OPT_REFWAIT ? "--refwait" : "--servwait",
					     optarg, 1, XT_MAX_WAIT_S,
					     opt == OPT_REFWAIT ? &o->refwait_s : &o->servwait_s,
					     err, errlen);
			if (err_rc)
				return err_rc;
			break;
		case OPT_MAX_CONNECTIONS:
			err_rc = parse_range("--max-connections", optarg, 1, 65536,
					     &o->max_connections, err, errlen);
			if (err_rc)
				return err_rc;
			break;
		case OPT_MAX_CONN_PER_CLIENT:
			err_rc = parse_range("--max-connections-per-client", optarg, 1, 65536,
					     &o->max_connections_per_client, err, errlen);
			if (err_rc)
				return err_rc;
			break;
		case OPT_MAX_SESSIONS:
			err_rc = parse_range("--max-sessions", optarg, 1, XT_MAX_SESSIONS,
					     &o->max_sessions, err, errlen);
			if (err_rc)
				return err_rc;
			break;
		case OPT_MAX_SESS_PER_CONN:
			err_rc = parse_range("--max-sessions-per-connection", optarg, 1,
					     XT_MAX_SESSIONS, &o->max_sessions_per_connection, err,
					     errlen);
			if (err_rc)
				return err_rc;
			break;
		case OPT_CONTROL_ALLOW:
			err_rc = add_prefixes(o->control_allow, &o->n_control_allow,
					      XT_MAX_CONTROL_PREFIXES, "--control-allow", optarg,
					      err, errlen);
			if (err_rc)
				return err_rc;
			break;
		case OPT_REQUIRE_AUTH:
			err_rc = add_prefixes(o->require_auth, &o->n_require_auth,
					      XT_MAX_CONTROL_PREFIXES, "--require-auth", optarg,
					      err, errlen);
			if (err_rc)
				return err_rc;
			break;
		case OPT_METRICS: {
			union xt_addr a;
			bool any;
			__u16 port;

			if (strlen(optarg) >= sizeof(o->metrics_listen) ||
			    metrics_parse_listen(optarg, &a, &any, &port))
				return fail(
					err, errlen,
					"--metrics '%s': expected ADDR:PORT, [IPV6]:PORT or :PORT "
					"(e.g. 127.0.0.1:9862)",
					optarg);
			snprintf(o->metrics_listen, sizeof(o->metrics_listen), "%s", optarg);
			break;
		}
		case OPT_CONFIG:
			return fail(err, errlen, "--config inside a configuration file");
		case OPT_METRICS_SESSIONS:
			err_rc = parse_range("--metrics-sessions", optarg, 0, XT_MAX_SESSIONS,
					     &o->metrics_sessions, err, errlen);
			if (err_rc)
				return err_rc;
			break;
		case 'v':
			o->verbosity++;
			break;
		case 'h':
			return XT_OPTS_HELP;
		case OPT_VERSION:
			return XT_OPTS_VERSION;
		case ':':
			return fail(err, errlen, "%s needs a value (see --help)", argv[optind - 1]);
		default:
			return fail(err, errlen, "unknown option '%s' (see --help)",
				    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fail(err, errlen, "unexpected argument '%s' (interfaces go after --iface)",
			    argv[optind]);
	if (o->n_ifaces == 0)
		return fail(err, errlen, "no interface given: use --iface IF (see `ip link`)");
	if (o->n_ports == 0) {
		o->ports[0].port = XT_DEFAULT_TEST_PORT;
		o->ports[0].format = XT_FMT_TWAMP;
		o->n_ports = 1;
	}
	if (o->metrics_sessions && !o->metrics_listen[0])
		return fail(err, errlen,
			    "--metrics-sessions without --metrics: give --metrics too");
	if (burst_given && o->rate_limit_pps == 0)
		return fail(err, errlen, "--rate-burst without a rate: give --rate-limit too");
	if (!burst_given)
		o->rate_burst = xtwampd_default_burst(o->rate_limit_pps);
	return check_control(o, modes_given, control_addr_given, err, errlen);
}
