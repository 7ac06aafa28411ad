// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* daemon_opts.c - see daemon_opts.h */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "daemon_opts.h"
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
		"      --rx-timestamp MODE  auto (default: NIC RX timestamps for T2 where the driver\n"
		"                           offers them, native mode only), hw (require them), sw\n"
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
		"Other:\n"
		"      --pin-path DIR       where maps and links are pinned (default %s)\n"
		"  -v, --verbose            more detail (-vv: libbpf debug output and verifier logs)\n"
		"  -h, --help               this text\n"
		"      --version            print the version\n"
		"\n"
		"Examples:\n"
		"  xtwampd --iface eth0\n"
		"  xtwampd --iface eth0 --allow 192.0.2.0/24,2001:db8::/32 --rate-limit 2000\n"
		"  xtwampd --iface eth0 --stamp-port 862 --light-port 8620 --xdp-mode generic\n",
		XT_MAX_IFACES, XT_DEFAULT_RATE_PPS, XT_PIN_PATH_DEFAULT);
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

static int add_allow(struct xtwampd_opts *o, const char *list, char *err, size_t errlen)
{
	char buf[4096], *item, *save = NULL;

	if (strlen(list) >= sizeof(buf))
		return fail(err, errlen, "--allow: list too long; repeat --allow instead");
	strcpy(buf, list);
	for (item = strtok_r(buf, ", ", &save); item; item = strtok_r(NULL, ", ", &save)) {
		if (o->n_allow == XT_MAX_ALLOW_ARGS)
			return fail(err, errlen, "--allow: at most %d prefixes", XT_MAX_ALLOW_ARGS);
		if (xt_prefix_parse(item, &o->allow[o->n_allow]))
			return fail(err, errlen,
				    "--allow: '%s' is not an IPv4/IPv6 address or prefix "
				    "(host bits must be zero, e.g. 192.0.2.0/24)",
				    item);
		o->n_allow++;
	}
	return 0;
}

int xtwampd_parse_args(int argc, char **argv, struct xtwampd_opts *o, char *err, size_t errlen)
{
	bool burst_given = false;
	int opt, err_rc;

	memset(o, 0, sizeof(*o));
	o->rate_limit_pps = XT_DEFAULT_RATE_PPS;
	o->reserve_ports = true;
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
			err_rc = add_allow(o, optarg, err, errlen);
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
	if (burst_given && o->rate_limit_pps == 0)
		return fail(err, errlen, "--rate-burst without a rate: give --rate-limit too");
	if (!burst_given)
		o->rate_burst = xtwampd_default_burst(o->rate_limit_pps);
	return 0;
}
