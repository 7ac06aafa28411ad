// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ping.c - see ping.h.  The pure parts come first; the socket loop
 * (ping_run) is at the end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/errqueue.h>
#include <openssl/crypto.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "clock.h"
#include "control_client.h"
#include "keyfile.h"
#include "log.h"
#include "ping.h"
#include "ping_stats.h"
#include "xtwamp_wire.h"

_Static_assert(sizeof(((struct ping_opts *)0)->modes) / sizeof(__u32) == CC_MAX_MODES,
	       "one slot per security mode");

#define NS_PER_SEC XT_NSEC_PER_SEC

/* ---- arguments ---------------------------------------------------------- */

void ping_opts_default(struct ping_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->port = XT_DEFAULT_TEST_PORT;
	o->count = 5;
	o->interval_ns = NS_PER_SEC;
	o->timeout_ns = 2 * NS_PER_SEC;
	o->padding = PING_TWAMP_PAD_DEFAULT;
	o->format = XT_FMT_TWAMP;
	o->family = AF_UNSPEC;
	o->dscp = -1;
	o->ttl = 255;
	o->sessions = 1;
	o->max_count_exponent = CC_MAX_COUNT_EXP_DEFAULT;
	o->session_timeout_ns = PING_SESSION_TIMEOUT_DEFAULT_NS;
	o->test_port = XT_DEFAULT_TEST_PORT;
}

/* Strict decimal: digits only, no sign, no spaces, at most max. */
static int parse_uint(const char *text, __u64 max, __u64 *out)
{
	__u64 v = 0;
	const char *p = text;

	if (!*p)
		return -EINVAL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (v > (max - (__u64)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (__u64)(*p - '0');
	}
	*out = v;
	return 0;
}

int ping_parse_seconds(const char *text, __u64 *ns)
{
	__u64 sec = 0, frac = 0;
	int nfrac = 0;
	bool digits = false;
	const char *p = text;

	/* By hand rather than strtod(): no locale, no "inf"/"nan"/hex, exact ns. */
	for (; *p >= '0' && *p <= '9'; p++) {
		sec = sec * 10 + (__u64)(*p - '0');
		if (sec > 1000000000ULL) /* keeps sec * 1e9 inside 64 bits */
			return -ERANGE;
		digits = true;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (nfrac < 9) { /* finer than 1 ns is dropped */
				frac = frac * 10 + (__u64)(*p - '0');
				nfrac++;
			}
			digits = true;
		}
	}
	if (!digits || *p)
		return -EINVAL;
	for (; nfrac < 9; nfrac++)
		frac *= 10;
	*ns = sec * NS_PER_SEC + frac;
	return 0;
}

int ping_parse_target(const char *text, char *host, size_t hostlen, __u16 *port, char *err,
		      size_t errlen)
{
	const char *h = text, *port_text = NULL, *colon;
	size_t hlen;
	__u64 v;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close) {
			snprintf(err, errlen, "'%s': missing ']' after the IPv6 address", text);
			return -EINVAL;
		}
		h = text + 1;
		hlen = (size_t)(close - h);
		if (close[1] == ':')
			port_text = close + 2;
		else if (close[1]) {
			snprintf(err, errlen, "'%s': expected ':PORT' after ']'", text);
			return -EINVAL;
		}
	} else {
		colon = strchr(text, ':');
		if (colon && !strchr(colon + 1, ':')) {
			/* exactly one colon: HOST:PORT */
			hlen = (size_t)(colon - text);
			port_text = colon + 1;
		} else {
			/* none, or a bare IPv6 literal (which cannot carry a port) */
			hlen = strlen(text);
		}
	}
	if (hlen == 0) {
		snprintf(err, errlen, "'%s': empty host", text);
		return -EINVAL;
	}
	if (hlen >= hostlen) {
		snprintf(err, errlen, "host name too long (%zu characters)", hlen);
		return -EINVAL;
	}
	if (port_text) {
		if (parse_uint(port_text, 65535, &v) || v == 0) {
			snprintf(err, errlen, "'%s': port must be a number from 1 to 65535", text);
			return -EINVAL;
		}
		*port = (__u16)v;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	return 0;
}

enum opt_id {
	OPT_LIGHT,
	OPT_COUNT,
	OPT_INTERVAL,
	OPT_PADDING,
	OPT_STAMP,
	OPT_SSID,
	OPT_TIMEOUT,
	OPT_IPV4,
	OPT_IPV6,
	OPT_RAW,
	OPT_QUIET,
	OPT_VERBOSE,
	OPT_HELP,
	OPT_DSCP,
	OPT_JSON,
	OPT_PROGRESS,
	OPT_POISSON,
	OPT_SIZE,
	OPT_TTL,
	OPT_DF,
	OPT_SENDER_PORT,
	OPT_START_DELAY,
	OPT_DURATION,
	OPT_REFLECTOR_STATEFUL,
	/* full TWAMP only */
	OPT_MODES,
	OPT_USER,
	OPT_KEYFILE,
	OPT_SESSIONS,
	OPT_MAX_COUNT_EXP,
	OPT_SESSION_TIMEOUT,
	OPT_TEST_PORT,
	OPT_INDIVIDUAL,
	OPT_SYMMETRICAL,
	OPT_REFLECT_OCTETS,
};

struct opt_def {
	const char *long_name;
	char short_name;
	bool has_arg;
	enum opt_id id;
};

/* clang-format off */
static const struct opt_def opt_defs[] = {
	{ "light",    0,   false, OPT_LIGHT },
	{ "count",    'c', true,  OPT_COUNT },
	{ "interval", 'i', true,  OPT_INTERVAL },
	{ "padding",  's', true,  OPT_PADDING },
	{ "stamp",    0,   false, OPT_STAMP },
	{ "ssid",     0,   true,  OPT_SSID },
	{ "timeout",  'W', true,  OPT_TIMEOUT },
	{ "ipv4",     '4', false, OPT_IPV4 },
	{ "ipv6",     '6', false, OPT_IPV6 },
	{ "raw",      0,   false, OPT_RAW },
	{ "quiet",    'q', false, OPT_QUIET },
	{ "verbose",  'v', false, OPT_VERBOSE },
	{ "help",     'h', false, OPT_HELP },
	{ "dscp",     'D', true,  OPT_DSCP },
	{ "json",     0,   false, OPT_JSON },
	{ "progress", 0,   false, OPT_PROGRESS },
	{ "poisson",  0,   false, OPT_POISSON },
	{ "size",     0,   true,  OPT_SIZE },
	{ "ttl",      0,   true,  OPT_TTL },
	{ "df",       0,   false, OPT_DF },
	{ "sender-port", 0, true, OPT_SENDER_PORT },
	{ "start-delay", 0, true, OPT_START_DELAY },
	{ "duration", 0,   true,  OPT_DURATION },
	{ "reflector-stateful", 0, false, OPT_REFLECTOR_STATEFUL },
	{ "modes",    'A', true,  OPT_MODES },
	{ "user",     'u', true,  OPT_USER },
	{ "keyfile",  'k', true,  OPT_KEYFILE },
	{ "sessions", 0,   true,  OPT_SESSIONS },
	{ "max-count-exponent", 0, true, OPT_MAX_COUNT_EXP },
	{ "session-timeout",    0, true, OPT_SESSION_TIMEOUT },
	{ "test-port",          0, true, OPT_TEST_PORT },
	{ "individual",         0, false, OPT_INDIVIDUAL },
	{ "symmetrical",        0, false, OPT_SYMMETRICAL },
	{ "reflect-octets",     0, true,  OPT_REFLECT_OCTETS },
};
/* clang-format on */

#define N_OPT_DEFS (sizeof(opt_defs) / sizeof(opt_defs[0]))

struct parse_state {
	const char *target;
	__u64 padding;
	bool padding_set, v4, v6, count_set;
	const struct opt_def *full_only; /* the first option that needs TWAMP-Control */
};

static int parse_duration(const char *what, const char *val, __u64 *ns, char *err, size_t errlen)
{
	__u64 v;
	int ret = ping_parse_seconds(val, &v);

	if (ret == -EINVAL || (ret == 0 && v == 0)) {
		snprintf(err, errlen,
			 "%s must be a number of seconds > 0 (like 1 or 0.01), not '%s'", what,
			 val);
		return -EINVAL;
	}
	if (ret == -ERANGE || v > PING_SECONDS_MAX * NS_PER_SEC) {
		snprintf(err, errlen, "%s '%s' is too long: at most %llu s", what, val,
			 PING_SECONDS_MAX);
		return -EINVAL;
	}
	*ns = v;
	return 0;
}

/* The options of full TWAMP (the control connection and its sessions). */
static int apply_full_opt(const struct opt_def *d, const char *val, struct ping_opts *o, char *err,
			  size_t errlen)
{
	__u64 v;

	switch (d->id) {
	case OPT_MODES:
		return cc_parse_modes(val, o->modes, &o->n_modes, err, errlen);
	case OPT_USER:
		if (!*val || strlen(val) > XT_KEYID_LEN) {
			snprintf(err, errlen,
				 "identity must be 1 to %d octets (the KeyID of RFC 4656 §3.1)",
				 XT_KEYID_LEN);
			return -EINVAL;
		}
		strcpy(o->identity, val);
		return 0;
	case OPT_KEYFILE:
		if (!*val || strlen(val) >= sizeof(o->keyfile)) {
			snprintf(err, errlen, "key file name empty or too long");
			return -EINVAL;
		}
		strcpy(o->keyfile, val);
		return 0;
	case OPT_SESSIONS:
		if (parse_uint(val, PING_SESSIONS_MAX, &v) || v == 0) {
			snprintf(err, errlen,
				 "sessions must be a whole number from 1 to %d, not '%s'",
				 PING_SESSIONS_MAX, val);
			return -EINVAL;
		}
		o->sessions = (__u32)v;
		return 0;
	case OPT_MAX_COUNT_EXP:
		if (parse_uint(val, CC_MAX_COUNT_EXP_MAX, &v) || v < CC_MAX_COUNT_EXP_MIN) {
			snprintf(err, errlen,
				 "max-count-exponent must be from %d (Count 1024) to %d, not '%s'",
				 CC_MAX_COUNT_EXP_MIN, CC_MAX_COUNT_EXP_MAX, val);
			return -EINVAL;
		}
		o->max_count_exponent = (unsigned)v;
		return 0;
	case OPT_SESSION_TIMEOUT:
		return parse_duration("session timeout", val, &o->session_timeout_ns, err, errlen);
	case OPT_TEST_PORT:
		if (parse_uint(val, 65535, &v) || v == 0) {
			snprintf(err, errlen,
				 "test port must be a number from 1 to 65535, not '%s'", val);
			return -EINVAL;
		}
		o->test_port = (__u16)v;
		return 0;
	case OPT_INDIVIDUAL:
		o->individual = true;
		return 0;
	case OPT_SYMMETRICAL:
		o->symmetrical = true;
		return 0;
	case OPT_REFLECT_OCTETS:
		if (parse_uint(val, PING_UDP_PAYLOAD_MAX - PING_REFLECT_OFF, &v) || v == 0) {
			snprintf(
				err, errlen,
				"reflect-octets must be a whole number of octets from 1 to %d, not '%s'",
				PING_UDP_PAYLOAD_MAX - PING_REFLECT_OFF, val);
			return -EINVAL;
		}
		o->reflect_octets = (__u16)v;
		return 0;
	default:
		return -EINVAL;
	}
}

static bool opt_needs_control(enum opt_id id)
{
	return id >= OPT_MODES;
}

static int apply_opt(const struct opt_def *d, const char *val, struct ping_opts *o,
		     struct parse_state *ps, char *err, size_t errlen)
{
	__u64 v;
	int ret;

	if (opt_needs_control(d->id) && !ps->full_only)
		ps->full_only = d;
	switch (d->id) {
	case OPT_LIGHT:
		o->light = true;
		return 0;
	case OPT_COUNT:
		if (parse_uint(val, PING_COUNT_MAX, &v) || v == 0) {
			snprintf(err, errlen, "count must be a whole number from 1 to %u, not '%s'",
				 PING_COUNT_MAX, val);
			return -EINVAL;
		}
		o->count = (__u32)v;
		ps->count_set = true;
		return 0;
	case OPT_INTERVAL:
		ret = parse_duration("interval", val, &o->interval_ns, err, errlen);
		if (ret)
			return ret;
		if (o->interval_ns < PING_INTERVAL_MIN_NS) {
			snprintf(err, errlen, "interval '%s' is below the minimum of 0.000001 s",
				 val);
			return -EINVAL;
		}
		return 0;
	case OPT_TIMEOUT:
		return parse_duration("timeout", val, &o->timeout_ns, err, errlen);
	case OPT_PADDING:
		/* The upper bound depends on --stamp, which may come later. */
		if (parse_uint(val, PING_UDP_PAYLOAD_MAX, &v)) {
			snprintf(err, errlen,
				 "padding must be a whole number of octets from 0 to %d, not '%s'",
				 PING_UDP_PAYLOAD_MAX - XT_TWAMP_SENDER_MIN, val);
			return -EINVAL;
		}
		ps->padding = v;
		ps->padding_set = true;
		return 0;
	case OPT_STAMP:
		o->format = XT_FMT_STAMP;
		return 0;
	case OPT_SSID:
		if (parse_uint(val, 65535, &v) || v == 0) {
			snprintf(
				err, errlen,
				"SSID must be a whole number from 1 to 65535, not '%s' (omit --ssid for none)",
				val);
			return -EINVAL;
		}
		o->ssid = (__u16)v;
		return 0;
	case OPT_IPV4:
		ps->v4 = true;
		return 0;
	case OPT_IPV6:
		ps->v6 = true;
		return 0;
	case OPT_RAW:
		o->raw = true;
		return 0;
	case OPT_QUIET:
		o->quiet = true;
		return 0;
	case OPT_VERBOSE:
		o->verbose++;
		return 0;
	case OPT_HELP:
		o->help = true;
		return 0;
	case OPT_DSCP:
		o->dscp = ps_parse_dscp(val);
		if (o->dscp < 0) {
			snprintf(
				err, errlen,
				"DSCP must be 0 to 63 or a name (EF, AF11..AF43, CS0..CS7, LE, VA), not '%s'",
				val);
			return -EINVAL;
		}
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_PROGRESS:
		o->progress = true;
		return 0;
	case OPT_POISSON:
		o->poisson = true;
		return 0;
	case OPT_SIZE:
		if (parse_uint(val, PING_UDP_PAYLOAD_MAX, &v) || v == 0) {
			snprintf(
				err, errlen,
				"size must be a whole number of octets from the header length to %d, not '%s'",
				PING_UDP_PAYLOAD_MAX, val);
			return -EINVAL;
		}
		o->size = (__u32)v;
		return 0;
	case OPT_TTL:
		if (parse_uint(val, 255, &v) || v == 0) {
			snprintf(err, errlen, "TTL must be a number from 1 to 255, not '%s'", val);
			return -EINVAL;
		}
		o->ttl = (int)v;
		return 0;
	case OPT_DF:
		o->df = true;
		return 0;
	case OPT_SENDER_PORT: {
		const char *dash = strchr(val, '-');
		char lo[8] = "";
		__u64 hi;

		if (dash && (size_t)(dash - val) < sizeof(lo))
			memcpy(lo, val, (size_t)(dash - val));
		if ((dash ? parse_uint(lo, 65535, &v) || parse_uint(dash + 1, 65535, &hi) :
			    parse_uint(val, 65535, &v)) ||
		    v == 0 || (dash && hi < v)) {
			snprintf(err, errlen,
				 "sender port must be P or P-Q with 1 <= P <= Q <= 65535, not '%s'",
				 val);
			return -EINVAL;
		}
		o->sport_lo = (__u16)v;
		o->sport_hi = dash ? (__u16)hi : (__u16)v;
		return 0;
	}
	case OPT_START_DELAY:
		return parse_duration("start delay", val, &o->start_delay_ns, err, errlen);
	case OPT_DURATION:
		return parse_duration("duration", val, &o->duration_ns, err, errlen);
	case OPT_REFLECTOR_STATEFUL:
		o->reflector_stateful = true;
		return 0;
	default:
		return apply_full_opt(d, val, o, err, errlen);
	}
}

static bool modes_keyed(const struct ping_opts *o)
{
	for (size_t i = 0; i < o->n_modes; i++)
		if (o->modes[i] & XT_MODE_CONTROL_CIPHER)
			return true;
	return false;
}

static bool modes_test_keyed(const struct ping_opts *o)
{
	for (size_t i = 0; i < o->n_modes; i++)
		if (o->modes[i] & XT_MODE_TEST_CIPHER)
			return true;
	return false;
}

/* Cross-option checks of full TWAMP. */
static int finish_full_opts(struct ping_opts *o, char *err, size_t errlen)
{
	if (o->format == XT_FMT_STAMP || o->ssid) {
		snprintf(err, errlen,
			 "%s needs --light: STAMP sessions are not negotiated over TWAMP-Control",
			 o->ssid ? "--ssid" : "--stamp");
		return -EINVAL;
	}
	if (!o->identity[0] != !o->keyfile[0]) {
		snprintf(err, errlen, "-u IDENTITY and -k KEYFILE go together");
		return -EINVAL;
	}
	if (o->n_modes == 0) {
		/* With a key: the keyed modes only, strongest first; never a silent downgrade. */
		if (o->identity[0]) {
			o->modes[0] = XT_MODE_ENCRYPTED;
			o->modes[1] = XT_MODE_AUTHENTICATED;
			o->modes[2] = XT_MODE_MIXED;
			o->n_modes = 3;
		} else {
			o->modes[0] = XT_MODE_UNAUTHENTICATED;
			o->n_modes = 1;
		}
	}
	if (modes_keyed(o) && !o->identity[0]) {
		for (size_t i = 0; i < o->n_modes; i++) {
			if (o->modes[i] & XT_MODE_CONTROL_CIPHER) {
				snprintf(err, errlen, "mode %s needs -u IDENTITY -k KEYFILE",
					 cc_mode_name(o->modes[i]));
				break;
			}
		}
		return -EINVAL;
	}
	return 0;
}

/*
 * RFC 6038 on unauthenticated test packets: the padding to reflect follows
 * the 27 octets the 41-octet reply header needs (§4.2: Padding Length >=
 * 27 + Length of padding to reflect), and Symmetrical Size needs requests
 * at least as long as that header.  Keyed test modes are checked per
 * session (ping_session_check_6038()).
 */
static int finish_rfc6038(struct ping_opts *o, const struct parse_state *ps, char *err,
			  size_t errlen)
{
	__u32 need = PING_TWAMP_PAD_DEFAULT + o->reflect_octets;

	if (!o->symmetrical && !o->reflect_octets)
		return 0;
	if (o->reflect_octets && modes_test_keyed(o)) {
		snprintf(
			err, errlen,
			"--reflect-octets works with unauthenticated or mixed test packets only (-A)");
		return -EINVAL;
	}
	if (modes_test_keyed(o) && !o->reflect_octets)
		return 0;
	if (!ps->padding_set) {
		o->padding = need; /* the smallest request that carries it all */
		o->padding_set = true;
	} else if (o->padding < need) {
		snprintf(
			err, errlen,
			"padding %u is too short for %s: at least %u octets after the 14-octet header (RFC 6038)",
			o->padding,
			o->reflect_octets ? "--reflect-octets" : "--symmetrical (41-octet replies)",
			need);
		return -EINVAL;
	}
	return 0;
}

/* Cross-option checks, once every option is known. */
static int finish_opts(struct ping_opts *o, struct parse_state *ps, char *err, size_t errlen)
{
	int hdr = o->format == XT_FMT_STAMP ? XT_STAMP_BASE : XT_TWAMP_SENDER_MIN;
	const char *hdr_name = o->format == XT_FMT_STAMP ? "STAMP" : "TWAMP";
	unsigned char addr[sizeof(struct in6_addr)];
	__u64 max_pad;

	if (!ps->target) {
		snprintf(err, errlen, "missing HOST");
		return -EINVAL;
	}
	if (o->light && ps->full_only) {
		snprintf(err, errlen, "--%s needs TWAMP-Control: drop --light",
			 ps->full_only->long_name);
		return -EINVAL;
	}
	if (!o->light && o->reflector_stateful) {
		snprintf(
			err, errlen,
			"--reflector-stateful is for --light: a full TWAMP reflector always keeps its own sequence numbers (RFC 5357 §4.2.1)");
		return -EINVAL;
	}
	if (!o->light && finish_full_opts(o, err, errlen))
		return -EINVAL;
	if (!o->light && modes_test_keyed(o)) {
		/* the largest header of the modes we may end up in */
		hdr = (int)sizeof(struct xt_twamp_sender_auth);
		hdr_name = "authenticated TWAMP";
	}
	max_pad = (__u64)(PING_UDP_PAYLOAD_MAX - hdr);
	if (ps->v4 && ps->v6) {
		snprintf(err, errlen, "-4 and -6 exclude each other");
		return -EINVAL;
	}
	o->family = ps->v4 ? AF_INET : ps->v6 ? AF_INET6 : AF_UNSPEC;
	if (o->ssid && o->format != XT_FMT_STAMP) {
		snprintf(err, errlen, "--ssid needs --stamp (the SSID is a STAMP field, RFC 8972)");
		return -EINVAL;
	}
	if (o->format == XT_FMT_STAMP)
		o->padding = 0; /* the 44-octet base packet is already symmetric */
	if (o->size && ps->padding_set) {
		snprintf(err, errlen, "-s (padding) and --size (total) exclude each other");
		return -EINVAL;
	}
	if (o->duration_ns && ps->count_set) {
		snprintf(err, errlen, "-c and --duration exclude each other");
		return -EINVAL;
	}
	if (o->duration_ns)
		o->count = PING_COUNT_MAX; /* the clock ends the run, not the count */
	if (o->json && o->raw) {
		snprintf(err, errlen, "--json and --raw exclude each other");
		return -EINVAL;
	}
	if (!o->light && o->sport_lo && (__u32)o->sport_hi - o->sport_lo + 1 < o->sessions) {
		snprintf(err, errlen, "--sender-port %u-%u has fewer ports than the %u sessions",
			 o->sport_lo, o->sport_hi, o->sessions);
		return -EINVAL;
	}
	if (o->size) {
		/* total UDP payload: the padding is what the header leaves */
		if (o->size < (__u32)hdr) {
			snprintf(err, errlen, "size %u is below the %d-octet %s header", o->size,
				 hdr, hdr_name);
			return -EINVAL;
		}
		ps->padding = o->size - (__u32)hdr;
		ps->padding_set = true;
		if (!o->light && modes_test_keyed(o))
			ps->padding_set = false; /* per session: ping_session_padding() */
	}
	if (ps->padding_set) {
		if (ps->padding > max_pad) {
			snprintf(
				err, errlen,
				"padding %llu is too large: at most %llu octets after the %d-octet %s header",
				(unsigned long long)ps->padding, (unsigned long long)max_pad, hdr,
				hdr_name);
			return -EINVAL;
		}
		if (o->format == XT_FMT_STAMP && ps->padding && ps->padding < PING_TLV_HDR) {
			snprintf(
				err, errlen,
				"STAMP padding is sent as an Extra Padding TLV (RFC 8972): -s must be 0 or at least %d",
				PING_TLV_HDR);
			return -EINVAL;
		}
		o->padding = (__u32)ps->padding;
		o->padding_set = true;
	}
	if (!o->light && finish_rfc6038(o, ps, err, errlen))
		return -EINVAL;
	if (ping_parse_target(ps->target, o->host, sizeof(o->host), &o->port, err, errlen))
		return -EINVAL;
	/* A literal of the other family would only fail later, in getaddrinfo. */
	if (o->family == AF_INET && inet_pton(AF_INET6, o->host, addr) == 1) {
		snprintf(err, errlen, "-4 given, but %s is an IPv6 address", o->host);
		return -EINVAL;
	}
	if (o->family == AF_INET6 && inet_pton(AF_INET, o->host, addr) == 1) {
		snprintf(err, errlen, "-6 given, but %s is an IPv4 address", o->host);
		return -EINVAL;
	}
	return 0;
}

int ping_parse_args(int argc, char **argv, struct ping_opts *o, char *err, size_t errlen)
{
	struct parse_state ps = { 0 };
	bool only_positional = false;
	const struct opt_def *d;
	const char *a, *val;
	size_t k;
	int i, ret;

	ping_opts_default(o);
	err[0] = '\0';
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (!only_positional && strcmp(a, "--") == 0) {
			only_positional = true;
		} else if (!only_positional && a[0] == '-' && a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t nlen = eq ? (size_t)(eq - name) : strlen(name);

			for (d = NULL, k = 0; k < N_OPT_DEFS; k++)
				if (strlen(opt_defs[k].long_name) == nlen &&
				    !strncmp(opt_defs[k].long_name, name, nlen))
					d = &opt_defs[k];
			if (!d) {
				snprintf(err, errlen, "unknown option '%.*s'", (int)nlen + 2, a);
				return -EINVAL;
			}
			val = NULL;
			if (d->has_arg) {
				if (eq)
					val = eq + 1;
				else if (i + 1 < argc)
					val = argv[++i];
				else {
					snprintf(err, errlen, "option '--%s' needs a value",
						 d->long_name);
					return -EINVAL;
				}
			} else if (eq) {
				snprintf(err, errlen, "option '--%s' takes no value", d->long_name);
				return -EINVAL;
			}
			ret = apply_opt(d, val, o, &ps, err, errlen);
			if (ret)
				return ret;
		} else if (!only_positional && a[0] == '-' && a[1]) {
			/* a cluster of short options: -q4, -c10, -c 10 */
			for (const char *p = a + 1; *p; p++) {
				for (d = NULL, k = 0; k < N_OPT_DEFS; k++)
					if (opt_defs[k].short_name == *p)
						d = &opt_defs[k];
				if (!d) {
					snprintf(err, errlen, "unknown option '-%c'", *p);
					return -EINVAL;
				}
				val = NULL;
				if (d->has_arg) {
					if (p[1])
						val = p + 1;
					else if (i + 1 < argc)
						val = argv[++i];
					else {
						snprintf(err, errlen, "option '-%c' needs a value",
							 *p);
						return -EINVAL;
					}
				}
				ret = apply_opt(d, val, o, &ps, err, errlen);
				if (ret)
					return ret;
				if (d->has_arg)
					break;
			}
		} else if (ps.target) {
			snprintf(err, errlen, "unexpected argument '%s': only one HOST", a);
			return -EINVAL;
		} else {
			ps.target = a;
		}
		if (o->help)
			return 0;
	}
	return finish_opts(o, &ps, err, errlen);
}

/* ---- packets ------------------------------------------------------------ */

size_t ping_request_len(const struct ping_opts *o)
{
	if (o->format == XT_FMT_STAMP)
		return (size_t)XT_STAMP_BASE + o->padding;
	return (size_t)XT_TWAMP_SENDER_MIN + o->padding;
}

int ping_build_request(const struct ping_opts *o, __u32 seq, void *buf, size_t buflen)
{
	size_t len = ping_request_len(o);
	__u8 *p = buf;

	if (len > buflen)
		return -ENOSPC;
	/* Zero padding: RFC 5357 §4.1.2 lets a sender send all-zero padding. */
	memset(buf, 0, len);
	if (o->format == XT_FMT_STAMP) {
		struct xt_stamp_sender *s = buf;

		s->seq = htonl(seq);
		s->ssid = htons(o->ssid);
		if (o->padding >= PING_TLV_HDR) {
			/* Plain octets after 44 would be parsed as TLVs by an RFC 8972 reflector. */
			p[XT_STAMP_BASE] = PING_TLV_FLAG_U;
			p[XT_STAMP_BASE + 1] = PING_TLV_EXTRA_PADDING;
			p[XT_STAMP_BASE + 2] = (__u8)((o->padding - PING_TLV_HDR) >> 8);
			p[XT_STAMP_BASE + 3] = (__u8)(o->padding - PING_TLV_HDR);
		}
	} else {
		struct xt_twamp_sender *s = buf;

		s->seq = htonl(seq);
	}
	return (int)len;
}

/*
 * Write T1 and, right after it in every sender format, the sender's Error
 * Estimate at octet off of the packet; returns T1 as NTP64.
 */
_Static_assert(XT_OFF(xt_twamp_sender, error_estimate) == XT_OFF(xt_twamp_sender, timestamp) + 8 &&
		       XT_OFF(xt_twamp_sender_auth, error_estimate) ==
			       XT_OFF(xt_twamp_sender_auth, timestamp) + 8,
	       "the Error Estimate follows T1 in both sender formats");
static __u64 stamp_t1(void *buf, size_t off, __u64 t1_unix_ns, __u16 error_estimate)
{
	__u64 ntp = xt_unix_ns_to_ntp64(t1_unix_ns);
	struct xt_ntp_ts ts = { htonl((__u32)(ntp >> 32)), htonl((__u32)ntp) };
	__be16 ee = htons(error_estimate);

	memcpy((__u8 *)buf + off, &ts, sizeof(ts));
	memcpy((__u8 *)buf + off + sizeof(ts), &ee, sizeof(ee));
	return ntp;
}

__u64 ping_stamp_request(void *buf, __u64 t1_unix_ns, __u16 error_estimate)
{
	/* Timestamp at 4 and Error Estimate at 12 in both sender formats. */
	return stamp_t1(buf, XT_OFF(xt_twamp_sender, timestamp), t1_unix_ns, error_estimate);
}

/* The Session-Sender header of the test mode (RFC 4656 §4.1.2). */
static __u32 sender_header_len(__u32 test_mode)
{
	return (test_mode & XT_MODE_TEST_CIPHER) ? (__u32)sizeof(struct xt_twamp_sender_auth) :
						   (__u32)sizeof(struct xt_twamp_sender);
}

__u32 ping_session_padding(const struct ping_opts *o, __u32 test_mode)
{
	if (o->size) {
		__u32 hdr = sender_header_len(test_mode);

		return o->size > hdr ? o->size - hdr : 0;
	}
	if (o->padding_set)
		return o->padding;
	/* RFC 5357 §4.1.2: enough padding for equal sizes both ways (erratum 5045: 64) */
	return (test_mode & XT_MODE_TEST_CIPHER) ? PING_AUTH_PAD_DEFAULT : PING_TWAMP_PAD_DEFAULT;
}

void ping_reflect_fill(__u8 *dst, size_t n, __u32 seq, __u16 server_octets)
{
	size_t i = 0;

	if (server_octets && n >= 2) {
		dst[0] = (__u8)(server_octets >> 8);
		dst[1] = (__u8)server_octets;
		i = 2;
	}
	for (; i < n; i++)
		dst[i] = (__u8)(seq >> (8 * (i % 4))) ^ (__u8)(0xa5 + i);
}

bool ping_reflect_ok(const __u8 *reply, size_t len, size_t n, __u32 seq, __u16 server_octets)
{
	__u8 want[PING_UDP_PAYLOAD_MAX];

	if (n > sizeof(want) || len < PING_REFLECT_OFF + n)
		return false;
	ping_reflect_fill(want, n, seq, server_octets);
	return memcmp(reply + PING_REFLECT_OFF, want, n) == 0;
}

size_t ping_session_request_len(const struct ping_opts *o, __u32 test_mode)
{
	return sender_header_len(test_mode) + ping_session_padding(o, test_mode);
}

int ping_build_request_auth(__u32 seq, __u32 padding, void *buf, size_t buflen)
{
	size_t len = sizeof(struct xt_twamp_sender_auth) + padding;
	struct xt_twamp_sender_auth *s = buf;

	if (len > buflen)
		return -ENOSPC;
	memset(buf, 0, len);
	s->seq = htonl(seq);
	return (int)len;
}

__u64 ping_stamp_request_auth(void *buf, __u64 t1_unix_ns, __u16 error_estimate)
{
	return stamp_t1(buf, XT_OFF(xt_twamp_sender_auth, timestamp), t1_unix_ns, error_estimate);
}

static __u64 ntp_load(const struct xt_ntp_ts *ts)
{
	return ((__u64)ntohl(ts->sec) << 32) | ntohl(ts->frac);
}

/* A reflector timestamp, NTP or (Z bit) PTP truncated, to Unix ns UTC. */
static int reflector_ts(const struct xt_ntp_ts *ts, __u16 ee, __s64 realtime_minus_tai_ns,
			__u64 *ns)
{
	__u64 raw = ntp_load(ts);

	if (raw == 0)
		return -EBADMSG;
	if (ee & XT_EE_PTP) {
		__u64 sec = raw >> 32, nsec = raw & 0xffffffffULL;

		if (nsec >= NS_PER_SEC)
			return -EBADMSG;
		*ns = (__u64)((__s64)(sec * NS_PER_SEC + nsec) + realtime_minus_tai_ns);
		return 0;
	}
	*ns = xt_ntp64_to_unix_ns(raw);
	return 0;
}

int ping_parse_reply(const void *buf, size_t len, enum xt_format fmt, __s64 realtime_minus_tai_ns,
		     struct ping_reply *out, char *err, size_t errlen)
{
	/* TWAMP and STAMP agree on octets 0..40 (RFC 8762 §4.6). */
	const struct xt_twamp_reflector *h = buf;
	size_t min = fmt == XT_FMT_STAMP ? (size_t)XT_STAMP_BASE : (size_t)XT_TWAMP_REFLECTOR_MIN;

	memset(out, 0, sizeof(*out));
	out->reply_ttl = -1;
	out->reply_tos = -1;
	if (len < min) {
		snprintf(err, errlen, "%zu octets, shorter than the %zu-octet %s reflector packet",
			 len, min, fmt == XT_FMT_STAMP ? "STAMP" : "TWAMP");
		return -EINVAL;
	}
	out->length = len;
	out->seq = ntohl(h->seq);
	out->sender_seq = ntohl(h->sender_seq);
	out->error_estimate = ntohs(h->error_estimate);
	out->sender_error_estimate = ntohs(h->sender_error_estimate);
	out->sender_ttl = h->sender_ttl;
	if (fmt == XT_FMT_STAMP)
		out->ssid = ntohs(((const struct xt_stamp_reflector *)buf)->ssid);

	/* RFC 4656 §4.1.2: a zero multiplier means the packet is corrupt. */
	if (!(out->error_estimate & XT_EE_MULT_MASK)) {
		snprintf(err, errlen, "reflector Error Estimate 0x%04x has multiplier 0",
			 out->error_estimate);
		return -EBADMSG;
	}
	if (!(out->sender_error_estimate & XT_EE_MULT_MASK)) {
		snprintf(err, errlen, "echoed sender Error Estimate 0x%04x has multiplier 0",
			 out->sender_error_estimate);
		return -EBADMSG;
	}
	/* Our own T1 is always NTP format; compared exactly later. */
	out->t1_ntp = ntp_load(&h->sender_timestamp);
	if (out->t1_ntp == 0) {
		snprintf(err, errlen, "zero Sender Timestamp");
		return -EBADMSG;
	}
	out->t1_ns = xt_ntp64_to_unix_ns(out->t1_ntp);
	if (reflector_ts(&h->receive_timestamp, out->error_estimate, realtime_minus_tai_ns,
			 &out->t2_ns)) {
		snprintf(err, errlen, "Receive Timestamp (T2) is zero or not a valid %s timestamp",
			 out->error_estimate & XT_EE_PTP ? "PTP" : "NTP");
		return -EBADMSG;
	}
	if (reflector_ts(&h->timestamp, out->error_estimate, realtime_minus_tai_ns, &out->t3_ns)) {
		snprintf(err, errlen, "Timestamp (T3) is zero or not a valid %s timestamp",
			 out->error_estimate & XT_EE_PTP ? "PTP" : "NTP");
		return -EBADMSG;
	}
	return 0;
}

int ping_parse_reply_auth(const void *buf, size_t len, __s64 realtime_minus_tai_ns,
			  struct ping_reply *out, char *err, size_t errlen)
{
	const struct xt_twamp_reflector_auth *a = buf;
	struct xt_twamp_reflector u;
	int ret;

	if (len < sizeof(*a)) {
		memset(out, 0, sizeof(*out));
		snprintf(
			err, errlen,
			"%zu octets, shorter than the %zu-octet authenticated TWAMP reflector packet",
			len, sizeof(*a));
		return -EINVAL;
	}
	/* Same fields, other offsets: gather them into the 41-octet layout and share the checks. */
	memset(&u, 0, sizeof(u));
	u.seq = a->seq;
	u.timestamp = a->timestamp;
	u.error_estimate = a->error_estimate;
	u.receive_timestamp = a->receive_timestamp;
	u.sender_seq = a->sender_seq;
	u.sender_timestamp = a->sender_timestamp;
	u.sender_error_estimate = a->sender_error_estimate;
	u.sender_ttl = a->sender_ttl;
	ret = ping_parse_reply(&u, sizeof(u), XT_FMT_TWAMP, realtime_minus_tai_ns, out, err,
			       errlen);
	out->length = len;
	return ret;
}

void ping_compute(const struct ping_reply *r, __u64 t4_ns, struct ping_times *t)
{
	/* Unsigned wrap then signed: exact for any two times within 292 years. */
	t->fwd_ns = (__s64)(r->t2_ns - r->t1_ns);
	t->bwd_ns = (__s64)(t4_ns - r->t3_ns);
	t->residence_ns = (__s64)(r->t3_ns - r->t2_ns);
	t->rtt_ns = (__s64)(t4_ns - r->t1_ns) - t->residence_ns;
}

/* ---- session state ------------------------------------------------------ */

void ping_session_init(struct ping_session *s, __u64 timeout_ns, __u16 ssid)
{
	memset(s, 0, sizeof(*s));
	s->timeout_ns = timeout_ns;
	s->ssid = ssid;
}

void ping_session_free(struct ping_session *s)
{
	free(s->t1_ntp);
	free(s->answered);
	free(s->samples);
	free(s->late);
	s->t1_ntp = NULL;
	s->answered = NULL;
	s->samples = NULL;
	s->late = NULL;
	s->cap = s->nsamples = s->samples_cap = 0;
	s->nlate = s->late_cap = 0;
}

int ping_session_sent(struct ping_session *s, __u64 t1_ntp)
{
	if (s->nsent >= PING_COUNT_MAX)
		return -E2BIG;
	/* Grow with what is actually sent: a 10M-packet run costs memory only as it goes. */
	if (s->nsent == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 1024;
		__u64 *t1 = realloc(s->t1_ntp, ncap * sizeof(*t1));
		__u8 *bits;

		if (!t1)
			return -ENOMEM;
		s->t1_ntp = t1;
		bits = realloc(s->answered, ncap / 8);
		if (!bits)
			return -ENOMEM;
		memset(bits + s->cap / 8, 0, (ncap - s->cap) / 8);
		s->answered = bits;
		s->cap = ncap;
	}
	s->t1_ntp[s->nsent++] = t1_ntp;
	s->cnt.sent++;
	return 0;
}

static int sample_push(struct ping_sample **arr, size_t *n, size_t *cap,
		       const struct ping_sample *smp)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 1024;
		struct ping_sample *a = realloc(*arr, ncap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		*arr = a;
		*cap = ncap;
	}
	(*arr)[(*n)++] = *smp;
	return 0;
}

int ping_session_match(struct ping_session *s, const struct ping_reply *r, __u64 t4_ns,
		       struct ping_times *times, char *why, size_t whylen)
{
	__u32 seq = r->sender_seq;
	struct ping_sample smp;
	__u8 bit;
	int ret;

	if (seq >= s->nsent) {
		snprintf(why, whylen, "sender sequence number %u was never sent (%u sent)", seq,
			 s->nsent);
		goto invalid;
	}
	if (r->t1_ntp != s->t1_ntp[seq]) {
		snprintf(why, whylen, "Sender Timestamp of seq %u is not the one we sent", seq);
		goto invalid;
	}
	/* RFC 8972 §3: the SSID is copied; 0 back means "SSID not supported". */
	if (r->ssid != s->ssid && r->ssid != 0) {
		snprintf(why, whylen, "SSID %u is not ours (%u)", r->ssid, s->ssid);
		goto invalid;
	}
	if (s->ssid && r->ssid == 0)
		s->reflector_no_ssid = true;
	ping_compute(r, t4_ns, times);

	/* RFC 4737 §3.6: only the first copy counts. */
	bit = (__u8)(1u << (seq % 8));
	if (s->answered[seq / 8] & bit) {
		s->cnt.duplicates++;
		return PING_DUPLICATE;
	}
	s->answered[seq / 8] |= bit;
	memset(&smp, 0, sizeof(smp));
	smp.rtt_ns = times->rtt_ns;
	smp.residence_ns = times->residence_ns;
	smp.fwd_ns = times->fwd_ns;
	smp.bwd_ns = times->bwd_ns;
	smp.seq = seq;
	smp.rseq = r->seq;
	smp.sender_ttl = r->sender_ttl;
	smp.reply_ttl = (__s16)(r->reply_ttl >= 0 && r->reply_ttl <= 255 ? r->reply_ttl : -1);
	smp.reply_tos = (__s16)(r->reply_tos >= 0 && r->reply_tos <= 255 ? r->reply_tos : -1);
	if ((__s64)(t4_ns - r->t1_ns) > (__s64)s->timeout_ns) {
		/* RFC 7680: arriving after the waiting time = lost; kept for the loss split */
		ret = sample_push(&s->late, &s->nlate, &s->late_cap, &smp);
		if (ret)
			return ret;
		s->cnt.late++;
		return PING_LATE;
	}
	ret = sample_push(&s->samples, &s->nsamples, &s->samples_cap, &smp);
	if (ret)
		return ret;
	s->cnt.received++;
	if (!(r->error_estimate & XT_EE_SYNC))
		s->reflector_unsync = true;
	if (!(r->sender_error_estimate & XT_EE_SYNC))
		s->sender_unsync = true;
	return PING_VALID;

invalid:
	s->cnt.invalid++;
	return PING_INVALID;
}

/* ---- output ------------------------------------------------------------- */

static double ms(__s64 ns)
{
	return (double)ns / 1e6;
}

static double us(__s64 ns)
{
	return (double)ns / 1e3;
}

int ping_format_line(char *buf, size_t len, const char *peer, const struct ping_reply *r,
		     const struct ping_times *t, int reply_ttl, const char *suffix)
{
	char ttl[12] = "?";

	if (reply_ttl >= 0)
		snprintf(ttl, sizeof(ttl), "%d", reply_ttl);
	return snprintf(
		buf, len,
		"%zu octets from %s: seq=%u rseq=%u rtt=%.3f ms fwd=%.3f ms bwd=%.3f ms residence=%.1f us ttl=%u/%s%s",
		r->length, peer, r->sender_seq, r->seq, ms(t->rtt_ns), ms(t->fwd_ns), ms(t->bwd_ns),
		us(t->residence_ns), r->sender_ttl, ttl, suffix);
}

int ping_format_csv(char *buf, size_t len, const struct ping_reply *r, __u64 t4_ns, int reply_ttl)
{
	char ttl[12] = "";

	if (reply_ttl >= 0)
		snprintf(ttl, sizeof(ttl), "%d", reply_ttl);
	return snprintf(buf, len, "%u,%u,%llu,%llu,%llu,%llu,%u,%s,%u,%zu", r->sender_seq, r->seq,
			(unsigned long long)r->t1_ns, (unsigned long long)r->t2_ns,
			(unsigned long long)r->t3_ns, (unsigned long long)t4_ns, r->sender_ttl, ttl,
			r->error_estimate, r->length);
}

static const char *format_name(const struct ping_opts *o)
{
	return o->format == XT_FMT_STAMP ? "STAMP" : "TWAMP light";
}

const char *ping_sync_warning(const struct ping_session *s)
{
	if (s->reflector_unsync && s->sender_unsync)
		return "one-way delays assume synchronised clocks; reflector and sender clocks report unsynchronised";
	if (s->reflector_unsync)
		return "one-way delays assume synchronised clocks; reflector clock reports unsynchronised";
	if (s->sender_unsync)
		return "one-way delays assume synchronised clocks; sender clock reports unsynchronised";
	return NULL;
}

void ping_usage(FILE *f)
{
	fprintf(f,
		"Usage: xtwamp ping HOST[:PORT] [OPTIONS]          full TWAMP (RFC 5357)\n"
		"       xtwamp ping --light HOST[:PORT] [OPTIONS]  TWAMP Light / STAMP\n"
		"\n"
		"Send TWAMP test packets to a reflector and report round-trip and one-way\n"
		"delays per reply, then a summary.  Without --light, a TWAMP-Control\n"
		"connection to HOST (TCP PORT, default 862) negotiates the mode and the test\n"
		"sessions first (RFC 5357 §3); with --light, TWAMP Light (RFC 5357 Appendix I)\n"
		"or STAMP (RFC 8762) packets go straight to UDP PORT (default 862).\n"
		"\n"
		"HOST is an IPv4/IPv6 address or a name; write IPv6 with a port as\n"
		"[2001:db8::1]:862.\n"
		"\n"
		"Options:\n"
		"  --light             stateless test session, no TWAMP-Control\n"
		"  -c, --count N       packets to send per session (default 5, at most %u)\n"
		"      --duration S    send for S seconds instead of a count\n"
		"  -i, --interval S    seconds between packets, fractions allowed (default 1,\n"
		"                      at least 0.000001)\n"
		"      --poisson       exponential gaps with mean -i (RFC 2330 Poisson\n"
		"                      sampling) instead of a fixed interval\n"
		"  -s, --padding N     TWAMP: octets after the 14-octet header (default 27, so\n"
		"                      request and reply are 41 octets; authenticated and\n"
		"                      encrypted: after the 48-octet header, default 64 = 112);\n"
		"                      STAMP: extra octets after the 44-octet base, sent as an\n"
		"                      Extra Padding TLV (default 0; else at least 4)\n"
		"      --size N        total UDP payload of a request instead of -s\n"
		"      --stamp         send STAMP packets (44-octet base) instead of TWAMP\n"
		"      --ssid N        STAMP Session Identifier 1..65535 (RFC 8972)\n"
		"  -W, --timeout S     wait this long for replies after the last packet; later\n"
		"                      replies count as lost (default 2)\n"
		"  -D, --dscp D        DSCP of the test packets: 0..63 or a name (EF, AF11..\n"
		"                      AF43, CS0..CS7, LE, VA; any case); full TWAMP: also\n"
		"                      asked of the reflector (Type-P)\n"
		"      --ttl N         TTL / hop limit of the requests (default 255, which\n"
		"                      forward hop counts assume)\n"
		"      --df            don't fragment (IPv4 DF bit, IPv6 no fragmentation)\n"
		"      --sender-port P[-Q]  send from UDP port P (full TWAMP: one port of\n"
		"                      P..Q per session)\n"
		"      --start-delay S wait S seconds before the first packet\n"
		"      --reflector-stateful  with --light: the reflector numbers its replies\n"
		"                      per sender (xtwampd does unless --stateless), so loss\n"
		"                      splits forward/backward even when its numbers equal\n"
		"                      ours; without it such a split is only shown as what a\n"
		"                      stateful reflector would imply\n"
		"  -4, -6              use IPv4 / IPv6 only\n"
		"      --raw           CSV instead: one line per reply, Unix ns timestamps:\n"
		"                      " PING_CSV_HEADER "\n"
		"                      (full TWAMP adds a last column, session = 1..N;\n"
		"                      reply_ttl empty if unknown; summary goes to stderr)\n"
		"      --json          one JSON document with every statistic, per session\n"
		"                      and overall (schema in README.md, \"JSON output\")\n"
		"  -q, --quiet         print the summary only\n"
		"  -v, --verbose       a line per reply even on long runs; why replies were\n"
		"                      rejected\n"
		"      --progress      progress line on stderr (default: runs of more than\n"
		"                      100 packets when stderr is a terminal)\n"
		"  -h, --help          this text\n"
		"\n"
		"Full TWAMP only:\n"
		"  -A, --modes LIST    security modes to accept, preferred first: names\n"
		"                      separated by commas (unauthenticated, authenticated,\n"
		"                      encrypted, mixed; any case) or letters O A E M (\"AEO\");\n"
		"                      default unauthenticated, or with -u\n"
		"                      encrypted,authenticated,mixed\n"
		"  -u, --user ID       identity (KeyID) of the shared secret\n"
		"  -k, --keyfile FILE  key file, lines \"identity hex-secret\" (as xtwampd's\n"
		"                      --keys); keep it mode 0600\n"
		"      --sessions N    test sessions in parallel on one control connection,\n"
		"                      each from its own UDP port (default 1, at most %d)\n"
		"      --session-timeout S  how long the reflector keeps answering after\n"
		"                      Stop-Sessions (the Timeout field; default 2)\n"
		"      --test-port P   UDP port to ask the reflector to receive on (default\n"
		"                      862; the server may propose another)\n"
		"      --max-count-exponent E  refuse a server whose PBKDF2 Count exceeds\n"
		"                      2^E (default 15, RFC 5357 §6)\n"
		"      --individual    start and stop the sessions with Start-N/Stop-N\n"
		"                      (RFC 5938; the server must offer it)\n"
		"      --symmetrical   Symmetrical Size (RFC 6038): the reflector must answer\n"
		"                      with replies as long as the requests; others are\n"
		"                      counted invalid (the server must offer it)\n"
		"      --reflect-octets N  Reflect Octets (RFC 6038): N octets of our padding\n"
		"                      must come back at octet 41 of each reply; others are\n"
		"                      counted invalid (unauthenticated or mixed test packets)\n"
		"\n"
		"Per reply:\n"
		"  41 octets from 192.0.2.1:862: seq=0 rseq=0 rtt=0.123 ms fwd=0.050 ms bwd=0.073 ms residence=0.4 us ttl=64/255\n"
		"  rtt = (T4-T1)-(T3-T2), fwd = T2-T1, bwd = T4-T3, residence = T3-T2;\n"
		"  ttl = our TTL as the reflector saw it / the reply's TTL here (we send 255).\n"
		"  fwd and bwd need synchronised clocks; they are shown as measured, even when\n"
		"  negative, with a warning if either clock says it is unsynchronised.\n"
		"  Runs of up to 100 packets print a line per reply; longer ones a progress\n"
		"  line (-v: lines anyway).\n"
		"\n"
		"Summary: loss (split forward/backward from the reflector's sequence numbers\n"
		"when it keeps its own), duplicates, reordering (RFC 4737), min/median/mean/\n"
		"max and p90/p95/p99/p99.9 of rtt, forward, backward and residence, jitter as\n"
		"mean |IPDV| (RFC 5481, consecutive sequence numbers) and RFC 3550 interarrival\n"
		"jitter, hop counts from TTL, DSCP of the replies.\n"
		"  Authenticated and encrypted replies whose HMAC does not verify count as\n"
		"  invalid and are never used.\n"
		"\n"
		"Examples:\n"
		"  xtwamp ping 192.0.2.1                          full TWAMP, unauthenticated\n"
		"  xtwamp ping 192.0.2.1 -A encrypted -u alice -k /etc/xtwamp/keys\n"
		"  xtwamp ping [2001:db8::1] --sessions 3 -c 100 -i 0.01 -q\n"
		"  xtwamp ping --light 192.0.2.1\n"
		"  xtwamp ping --light [2001:db8::1]:862 -c 1000 -i 0.01 -q\n"
		"  xtwamp ping --light reflector.example.net:8620 --stamp --ssid 7\n"
		"  xtwamp ping --light 127.0.0.1 -c 3 --raw > samples.csv\n"
		"\n"
		"Exit status: 0 at least one valid reply (in every session), 1 none, or the\n"
		"server refused the mode, the authentication or a session (the reason is on\n"
		"the last line), 2 usage error.\n",
		PING_COUNT_MAX, PING_SESSIONS_MAX);
}

/* ---- the socket loop ---------------------------------------------------- */

#define RX_BUF 4096
#define RX_BATCH 64 /* replies per recvmmsg() */
#define TX_BURST 16 /* due packets sent per round before the replies are read */

/* One test session: its socket, its reflector and what was sent and received. */
struct ping_run_state {
	const struct ping_opts *o;
	int fd;
	struct sockaddr_storage target;
	socklen_t target_len;
	char peer[INET6_ADDRSTRLEN + 32];
	struct ping_session sess;
	__s64 realtime_minus_tai_ns;
	int last_send_errno;
	char last_icmp[160];
	bool fatal;
	/* schedule */
	__u64 next_send, last_send;
	__u32 attempts;
	__u64 first_tx_ns, last_tx_ns; /* monotonic, right after the first/last sendto() */
	/* full TWAMP */
	int index;	 /* session number 1..N; 0 = light (no session column) */
	__u32 test_mode; /* XT_MODE_AUTHENTICATED/ENCRYPTED, or 0: no test crypto */
	__u32 padding;	 /* octets after the sender header */
	struct tw_test_keys keys;
	__u8 sid[XT_SID_LEN];
	/* RFC 6038, negotiated */
	size_t request_len;  /* Symmetrical Size: every reply this long; 0 = no check */
	__u16 reflect_len;   /* Length of padding to reflect, 0 = none */
	__u16 server_octets; /* from Accept-Session, first two octets reflected */
	/* output */
	bool lines;    /* a line per reply (short runs, or -v) */
	bool stateful; /* the reflector numbers its replies itself (full TWAMP) */
	char sender[INET6_ADDRSTRLEN + 16]; /* our address:port */
};

/* The control connection, watched while the test runs (the server sends nothing then). */
struct ping_ctl_watch {
	int fd; /* -1: none */
	bool gone;
};

static volatile sig_atomic_t ping_stop;

static void on_signal(int sig)
{
	(void)sig;
	ping_stop = 1;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * NS_PER_SEC + (__u64)ts.tv_nsec;
}

bool ping_same_endpoint(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return false;
}

const char *ping_format_endpoint(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		snprintf(buf, len, "%s:%u", addr, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		snprintf(buf, len, "[%s]:%u", addr, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, len, "(family %u)", ss->ss_family);
	}
	return buf;
}

static int open_socket(struct ping_run_state *st)
{
	int one = 1, ttl = st->o->ttl;
	bool v6 = st->target.ss_family == AF_INET6;
	int fd = socket(st->target.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);

	if (fd < 0)
		return -errno;
	/* RFC 4656 §4.1.2: senders use TTL 255 so the reflector can count hops. */
	if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL, &ttl,
		       sizeof(ttl)))
		log_warn("cannot set %s %d: %s", v6 ? "hop limit" : "TTL", ttl, strerror(errno));
	if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVHOPLIMIT : IP_RECVTTL,
		       &one, sizeof(one)))
		log_debug("cannot ask for the received TTL: %s", strerror(errno));
	/* the DSCP the replies arrive with: did the path (or reflector) keep ours? */
	if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVTCLASS : IP_RECVTOS, &one,
		       sizeof(one)))
		log_debug("cannot ask for the received TOS: %s", strerror(errno));
	/* T4 from the kernel's receive timestamp, not from when we got scheduled. */
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)))
		log_debug("no SO_TIMESTAMPNS (%s): T4 from clock_gettime", strerror(errno));
	/* ICMP errors (port unreachable) explain a silent run. */
	if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVERR : IP_RECVERR, &one,
		       sizeof(one)))
		log_debug("cannot enable ICMP error reporting: %s", strerror(errno));
	if (st->o->dscp >= 0) {
		int tos = st->o->dscp << 2; /* DSCP in the upper six bits, ECN left 0 */

		if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_TCLASS : IP_TOS, &tos,
			       sizeof(tos)))
			log_warn("cannot set DSCP %d: %s", st->o->dscp, strerror(errno));
	}
	if (st->o->df) {
		/* a too-large request fails with EMSGSIZE instead of leaving in fragments */
		int pmtu = v6 ? IPV6_PMTUDISC_DO : IP_PMTUDISC_DO;

		if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
			       v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER, &pmtu, sizeof(pmtu)) ||
		    (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &one, sizeof(one))))
			log_warn("cannot set don't-fragment: %s", strerror(errno));
	}
	/* a burst of replies at 10 us intervals must not overflow the default buffer */
	{
		int rcvbuf = 4 << 20;

		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	}
	st->fd = fd;
	return 0;
}

/*
 * Bind fd to addr (its port ignored) with a port from lo..hi, the first
 * free one from lo + offset on; lo == 0: an ephemeral port.  0 or -errno.
 */
static int bind_port(int fd, const struct sockaddr_storage *addr, __u16 lo, __u16 hi, __u32 offset)
{
	struct sockaddr_storage a = *addr;
	socklen_t len = a.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
						 sizeof(struct sockaddr_in6);
	__u32 span = lo ? (__u32)hi - lo + 1 : 1;
	int err = -EADDRINUSE;

	for (__u32 k = 0; k < span; k++) {
		__u16 port = lo ? (__u16)(lo + (offset + k) % span) : 0;

		if (a.ss_family == AF_INET)
			((struct sockaddr_in *)&a)->sin_port = htons(port);
		else
			((struct sockaddr_in6 *)&a)->sin6_port = htons(port);
		if (bind(fd, (struct sockaddr *)&a, len) == 0)
			return 0;
		err = -errno;
		if (errno != EADDRINUSE)
			break;
	}
	return err;
}

static int resolve(const struct ping_opts *o, struct ping_run_state *st)
{
	struct addrinfo hints = {
		.ai_family = o->family,
		.ai_socktype = SOCK_DGRAM,
		.ai_protocol = IPPROTO_UDP,
	};
	struct addrinfo *res;
	char port[8];
	int rc;

	/* No AI_ADDRCONFIG: it hides ::1 in a namespace with only loopback. */
	snprintf(port, sizeof(port), "%u", o->port);
	rc = getaddrinfo(o->host, port, &hints, &res);
	if (rc) {
		log_error("cannot resolve '%s'%s: %s", o->host,
			  o->family == AF_INET	? " (IPv4)" :
			  o->family == AF_INET6 ? " (IPv6)" :
						  "",
			  gai_strerror(rc));
		return -EINVAL;
	}
	memset(&st->target, 0, sizeof(st->target));
	memcpy(&st->target, res->ai_addr, res->ai_addrlen);
	st->target_len = res->ai_addrlen;
	freeaddrinfo(res);
	ping_format_endpoint(&st->target, st->peer, sizeof(st->peer));
	return 0;
}

static void send_one(struct ping_run_state *st)
{
	const struct ping_opts *o = st->o;
	__u8 buf[PING_UDP_PAYLOAD_MAX];
	struct xt_clock_state cs;
	__u16 ee;
	__u64 ntp = 0;
	ssize_t n = -1;
	int len, try, ret;

	if (st->test_mode)
		len = ping_build_request_auth(st->sess.nsent, st->padding, buf, sizeof(buf));
	else
		len = ping_build_request(o, st->sess.nsent, buf, sizeof(buf));
	if (len < 0) {
		st->fatal = true;
		return;
	}
	if (st->reflect_len) {
		/*
		 * RFC 6038 §5.1.5: with Symmetrical Size after the 27 MBZ octets
		 * (where the reply keeps it), else (§5.1.2) first in the padding.
		 */
		size_t off = o->symmetrical ? PING_REFLECT_OFF : sizeof(struct xt_twamp_sender);

		ping_reflect_fill(buf + off, st->reflect_len, st->sess.nsent, st->server_octets);
	}
	if (xt_clock_read(&cs) == 0) {
		ee = cs.error_estimate;
		st->realtime_minus_tai_ns = cs.realtime_minus_tai_ns;
	} else {
		ee = xt_error_estimate_encode(false, 16 * NS_PER_SEC);
	}
	/*
	 * An ICMP error for an earlier packet is reported by the next sendto()
	 * (sk_err) and the datagram is not sent: try once more.
	 */
	for (try = 0; try < 2; try++) {
		/* T1: the last thing before sendto() (and, keyed, before the sealing) */
		if (st->test_mode) {
			ntp = ping_stamp_request_auth(buf, xt_realtime_ns(), ee);
			ret = tw_test_seal_sender(st->test_mode, &st->keys, buf, (size_t)len);
			if (ret) {
				log_error("cannot seal a test packet: %s", strerror(-ret));
				st->fatal = true;
				return;
			}
		} else {
			ntp = ping_stamp_request(buf, xt_realtime_ns(), ee);
		}
		n = sendto(st->fd, buf, (size_t)len, 0, (struct sockaddr *)&st->target,
			   st->target_len);
		if (n >= 0 || (errno != ECONNREFUSED && errno != EHOSTUNREACH &&
			       errno != ENETUNREACH && errno != EHOSTDOWN && errno != EPROTO))
			break;
	}
	if (n < 0) {
		if (!st->sess.cnt.send_errors || errno != st->last_send_errno)
			log_warn("sendto %s: %s", st->peer, strerror(errno));
		st->last_send_errno = errno;
		st->sess.cnt.send_errors++;
		return;
	}
	ret = ping_session_sent(&st->sess, ntp);
	if (ret) {
		log_error("cannot track sent packets: %s", strerror(-ret));
		st->fatal = true;
	}
}

static void drain_errqueue(struct ping_run_state *st)
{
	for (int i = 0; i < RX_BATCH; i++) {
		char data[64], ctrl[512], from[INET6_ADDRSTRLEN] = "?";
		struct iovec iov = { data, sizeof(data) };
		struct msghdr msg = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctrl,
			.msg_controllen = sizeof(ctrl),
		};
		struct cmsghdr *cm;

		if (recvmsg(st->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct sock_extended_err *ee = (struct sock_extended_err *)CMSG_DATA(cm);
			struct sockaddr *off = SO_EE_OFFENDER(ee);

			if (!((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR) ||
			      (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
				continue;
			if (ee->ee_origin != SO_EE_ORIGIN_ICMP &&
			    ee->ee_origin != SO_EE_ORIGIN_ICMP6)
				continue;
			/* the kernel puts the ICMP sender right after the struct */
			if (cm->cmsg_len >= CMSG_LEN(sizeof(*ee) + sizeof(struct sockaddr_in)) &&
			    off->sa_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)off)->sin_addr, from,
					  sizeof(from));
			else if (cm->cmsg_len >=
					 CMSG_LEN(sizeof(*ee) + sizeof(struct sockaddr_in6)) &&
				 off->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)off)->sin6_addr, from,
					  sizeof(from));
			st->sess.cnt.icmp_errors++;
			snprintf(st->last_icmp, sizeof(st->last_icmp), "ICMP: %s (from %s)",
				 strerror((int)ee->ee_errno), from);
			log_debug("%s", st->last_icmp);
		}
	}
}

static void handle_reply(struct ping_run_state *st, const __u8 *buf, size_t len, __u64 t4,
			 const struct sockaddr_storage *src, int reply_ttl, int reply_tos)
{
	const struct ping_opts *o = st->o;
	struct ping_reply r;
	struct ping_times t;
	char why[160], line[512], from[INET6_ADDRSTRLEN + 16];
	int v;

	if (!ping_same_endpoint(src, &st->target)) {
		st->sess.cnt.invalid++;
		log_debug("invalid reply: from unexpected source %s",
			  ping_format_endpoint(src, from, sizeof(from)));
		return;
	}
	if (st->test_mode) {
		__u8 plain[RX_BUF];

		/* Never trust a keyed reply before its HMAC verified (RFC 4656 §4.2). */
		memcpy(plain, buf, len);
		v = tw_test_open_reflector(st->test_mode, &st->keys, plain, len);
		if (v) {
			st->sess.cnt.invalid++;
			log_debug("invalid reply from %s: %s", st->peer,
				  v == -EBADMSG ? "HMAC does not verify" :
				  v == -EINVAL	? "shorter than 112 octets" :
						  strerror(-v));
			return;
		}
		v = ping_parse_reply_auth(plain, len, st->realtime_minus_tai_ns, &r, why,
					  sizeof(why));
	} else {
		v = ping_parse_reply(buf, len, o->format, st->realtime_minus_tai_ns, &r, why,
				     sizeof(why));
	}
	if (!v && st->request_len && len != st->request_len) {
		v = -EINVAL;
		snprintf(
			why, sizeof(why),
			"%zu octets, not the %zu of the request (Symmetrical Size, RFC 6038 §5.2.2)",
			len, st->request_len);
	}
	if (!v && st->reflect_len && !st->test_mode &&
	    !ping_reflect_ok(buf, len, st->reflect_len, r.sender_seq, st->server_octets)) {
		v = -EINVAL;
		snprintf(why, sizeof(why),
			 "the %u octets to reflect of seq %u are not at octet %d (RFC 6038 §5.2.1)",
			 st->reflect_len, r.sender_seq, PING_REFLECT_OFF);
	}
	if (v) {
		st->sess.cnt.invalid++;
		log_debug("invalid reply from %s: %s", st->peer, why);
		return;
	}
	r.reply_ttl = reply_ttl;
	r.reply_tos = reply_tos;
	v = ping_session_match(&st->sess, &r, t4, &t, why, sizeof(why));
	if (v < 0) {
		log_error("cannot keep reply: %s", strerror(-v));
		st->fatal = true;
		return;
	}
	switch (v) {
	case PING_INVALID:
		log_debug("invalid reply from %s: %s", st->peer, why);
		return;
	case PING_DUPLICATE:
		if (o->raw || !st->lines)
			return;
		ping_format_line(line, sizeof(line), st->peer, &r, &t, reply_ttl, " (DUP!)");
		break;
	case PING_LATE:
	case PING_VALID:
		if (!o->raw && !st->lines)
			return;
		if (o->raw) {
			int off = ping_format_csv(line, sizeof(line), &r, t4, reply_ttl);

			if (st->index && off > 0 && (size_t)off < sizeof(line))
				snprintf(line + off, sizeof(line) - (size_t)off, ",%d", st->index);
		} else
			ping_format_line(line, sizeof(line), st->peer, &r, &t, reply_ttl,
					 v == PING_LATE ? " (late)" : "");
		break;
	default:
		return;
	}
	puts(line);
}

/*
 * Read what is queued, RX_BATCH datagrams per recvmmsg(): at 10 us
 * intervals one system call per reply would cost as much as the sending.
 */
static void drain_replies(struct ping_run_state *st)
{
	typedef union {
		char buf[CMSG_SPACE(sizeof(struct timespec)) + 3 * CMSG_SPACE(sizeof(int)) + 64];
		struct cmsghdr align;
	} ctrl_t;
	static __u8 bufs[RX_BATCH][RX_BUF];
	static ctrl_t ctrl[RX_BATCH];
	static struct sockaddr_storage src[RX_BATCH];
	static struct iovec iov[RX_BATCH];
	static struct mmsghdr msgs[RX_BATCH];

	for (int round = 0; round < 4; round++) {
		int got;

		for (int i = 0; i < RX_BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], RX_BUF };
			memset(&src[i], 0, sizeof(src[i]));
			msgs[i].msg_hdr = (struct msghdr){
				.msg_name = &src[i],
				.msg_namelen = sizeof(src[i]),
				.msg_iov = &iov[i],
				.msg_iovlen = 1,
				.msg_control = ctrl[i].buf,
				.msg_controllen = sizeof(ctrl[i].buf),
			};
		}
		got = recvmmsg(st->fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		if (got < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			/* a pending ICMP error (sk_err); details come from the error queue */
			if (errno == ECONNREFUSED || errno == EHOSTUNREACH ||
			    errno == ENETUNREACH || errno == EHOSTDOWN || errno == EPROTO ||
			    errno == EMSGSIZE)
				continue;
			log_warn("recvmmsg: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < got; i++) {
			struct msghdr *msg = &msgs[i].msg_hdr;
			struct cmsghdr *cm;
			__u64 t4 = 0;
			int reply_ttl = -1, reply_tos = -1;

			for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
				if (cm->cmsg_level == SOL_SOCKET &&
				    cm->cmsg_type == SCM_TIMESTAMPNS) {
					struct timespec ts;

					memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
					t4 = (__u64)ts.tv_sec * NS_PER_SEC + (__u64)ts.tv_nsec;
				} else if ((cm->cmsg_level == IPPROTO_IP &&
					    cm->cmsg_type == IP_TTL) ||
					   (cm->cmsg_level == IPPROTO_IPV6 &&
					    cm->cmsg_type == IPV6_HOPLIMIT)) {
					memcpy(&reply_ttl, CMSG_DATA(cm), sizeof(reply_ttl));
				} else if (cm->cmsg_level == IPPROTO_IP &&
					   cm->cmsg_type == IP_TOS) {
					/* one octet for IPv4, an int for IPv6 */
					reply_tos = *(const __u8 *)CMSG_DATA(cm);
				} else if (cm->cmsg_level == IPPROTO_IPV6 &&
					   cm->cmsg_type == IPV6_TCLASS) {
					memcpy(&reply_tos, CMSG_DATA(cm), sizeof(reply_tos));
				}
			}
			if (!t4)
				t4 = xt_realtime_ns();
			if (msg->msg_flags & MSG_TRUNC) {
				st->sess.cnt.invalid++;
				log_debug("invalid reply from %s: larger than %d octets", st->peer,
					  RX_BUF);
				continue;
			}
			handle_reply(st, bufs[i], msgs[i].msg_len, t4, &src[i], reply_ttl,
				     reply_tos);
			if (st->fatal)
				return;
		}
		if (got < RX_BATCH)
			return;
	}
}

/*
 * Watch the control connection while the test runs: in TWAMP the server
 * sends nothing then, so readable means it closed (or broke the protocol).
 * Either way it is said once and the connection is no longer watched.
 */
static void check_ctl(struct ping_ctl_watch *ctl)
{
	char b;
	ssize_t n = recv(ctl->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n > 0)
		log_warn(
			"unexpected data from the server on the TWAMP-Control connection during the test");
	else
		log_warn("the server closed the TWAMP-Control connection during the test%s%s",
			 n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
	ctl->gone = true;
}

static bool any_fatal(const struct ping_run_state *sts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sts[i].fatal)
			return true;
	return false;
}

/* xorshift64*: Poisson gaps need no cryptographic randomness, only independence. */
static __u64 rng_state;

static double rng_uniform(void)
{
	if (!rng_state)
		rng_state = xt_realtime_ns() | 1;
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	/* (0, 1]: never 0, so the log below is finite */
	return ((double)((rng_state * 2685821657736338717ULL) >> 11) + 1.0) / 9007199254740992.0;
}

/* The gap to the next packet: fixed, or exponential with that mean (RFC 2330 §11.1.1). */
static __u64 next_gap(const struct ping_opts *o)
{
	double g;

	if (!o->poisson)
		return o->interval_ns;
	g = -log(rng_uniform()) * (double)o->interval_ns;
	/* bounded, so one unlucky draw cannot stall a run for hours */
	if (g > 50.0 * (double)o->interval_ns)
		g = 50.0 * (double)o->interval_ns;
	return (__u64)g;
}

static bool done_sending(const struct ping_run_state *st, __u64 now, __u64 end)
{
	return st->attempts >= st->o->count || (end && now >= end);
}

/* The progress line: at most once a second, overwritten in place on a tty. */
static void progress(const struct ping_run_state *sts, size_t n, bool tty, bool last)
{
	__u64 sent = 0, recv = 0, late = 0;
	__s64 rtt = 0;
	bool have = false;

	for (size_t i = 0; i < n; i++) {
		sent += sts[i].sess.cnt.sent;
		recv += sts[i].sess.cnt.received;
		late += sts[i].sess.cnt.late;
		if (sts[i].sess.nsamples) {
			rtt = sts[i].sess.samples[sts[i].sess.nsamples - 1].rtt_ns;
			have = true;
		}
	}
	fprintf(stderr, "%ssent %llu, received %llu, late %llu, unanswered %llu", tty ? "\r" : "",
		(unsigned long long)sent, (unsigned long long)recv, (unsigned long long)late,
		(unsigned long long)(sent - recv - late));
	if (have)
		fprintf(stderr, ", last rtt %.3f ms", (double)rtt / 1e6);
	fputs(tty ? "\033[K" : "\n", stderr);
	if (tty && last)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

/*
 * Send each session's packets on its own grid (fixed or Poisson) and read
 * the replies, until every session has all its answers or sat out the
 * timeout after its last packet (or SIGINT).  The sessions run side by
 * side.  Replies are read before every send (ppoll with a zero timeout when
 * a send is due), so a 10 us interval cannot starve the reader.
 */
static void loop(struct ping_run_state *sts, size_t n, struct ping_ctl_watch *ctl,
		 const sigset_t *waitmask)
{
	const struct ping_opts *o = sts[0].o;
	struct pollfd pfd[PING_SESSIONS_MAX + 1];
	__u64 now = mono_ns(), end = 0, next_progress;
	bool tty = isatty(STDERR_FILENO);
	bool show_progress = !o->verbose && !o->quiet && (o->progress || tty) && !sts[0].lines;
	size_t i;

	for (i = 0; i < n; i++) {
		sts[i].next_send = now + o->start_delay_ns;
		sts[i].last_send = now;
		sts[i].attempts = 0;
	}
	if (o->duration_ns)
		end = now + o->start_delay_ns + o->duration_ns;
	next_progress = now + NS_PER_SEC;
	while (!ping_stop && !any_fatal(sts, n)) {
		__u64 deadline = UINT64_MAX, wait;
		bool busy = false;
		struct timespec ts;
		nfds_t nfds = 0;

		now = mono_ns();
		for (i = 0; i < n; i++) {
			struct ping_run_state *st = &sts[i];
			const struct ping_counters *c = &st->sess.cnt;
			__u64 dl;

			/*
			 * At 10 us a round of this loop (ppoll, recvmmsg) can take longer
			 * than the interval: send what is due, up to TX_BURST, to keep
			 * the rate; further behind than that (a stall), restart the grid
			 * from now rather than burst.  Replies are read every round.
			 */
			for (int b = 0;
			     b < TX_BURST && !done_sending(st, now, end) && now >= st->next_send;
			     b++) {
				send_one(st);
				/* what was achieved, not asked: reported as the mean interval */
				st->last_tx_ns = mono_ns();
				if (!st->attempts)
					st->first_tx_ns = st->last_tx_ns;
				st->attempts++;
				st->last_send = now;
				st->next_send += next_gap(o);
			}
			if (!done_sending(st, now, end) && now >= st->next_send)
				st->next_send = now;
			if (done_sending(st, now, end)) {
				if (c->received + c->late >= st->sess.nsent)
					continue; /* all answered: no need to sit out the timeout */
				dl = st->last_send + o->timeout_ns;
				if (now >= dl)
					continue;
			} else {
				dl = st->next_send;
				if (end && end < dl)
					dl = end;
			}
			busy = true;
			if (dl < deadline)
				deadline = dl;
		}
		if (!busy)
			break;
		if (show_progress && now >= next_progress) {
			progress(sts, n, tty, false);
			next_progress = now + NS_PER_SEC;
		}
		if (show_progress && next_progress < deadline)
			deadline = next_progress;
		for (i = 0; i < n; i++)
			pfd[nfds++] = (struct pollfd){ .fd = sts[i].fd, .events = POLLIN };
		if (ctl && ctl->fd >= 0 && !ctl->gone)
			pfd[nfds++] =
				(struct pollfd){ .fd = ctl->fd, .events = POLLIN | POLLRDHUP };
		/* Poll even when already due, so a fast sender still reads replies. */
		wait = deadline > now ? deadline - now : 0;
		ts.tv_sec = (time_t)(wait / NS_PER_SEC);
		ts.tv_nsec = (long)(wait % NS_PER_SEC);
		if (ppoll(pfd, nfds, &ts, waitmask) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			sts[0].fatal = true;
			break;
		}
		for (i = 0; i < n; i++) {
			if (pfd[i].revents & POLLERR)
				drain_errqueue(&sts[i]);
			if (pfd[i].revents & POLLIN)
				drain_replies(&sts[i]);
		}
		if (nfds > n && pfd[n].revents)
			check_ctl(ctl);
	}
	if (show_progress)
		progress(sts, n, tty, true);
}

static const char *no_reply_reason(const struct ping_run_state *st, char *buf, size_t len)
{
	const struct ping_counters *c = &st->sess.cnt;

	if (!c->sent && c->send_errors)
		snprintf(buf, len, "no packet could be sent to %s: %s", st->peer,
			 strerror(st->last_send_errno));
	else if (c->invalid)
		snprintf(buf, len, "no valid reply from %s: %llu invalid replies (-v shows why)",
			 st->peer, (unsigned long long)c->invalid);
	else if (c->icmp_errors)
		snprintf(buf, len, "no reply from %s: %s; is a reflector listening there?",
			 st->peer, st->last_icmp);
	else if (c->late)
		snprintf(buf, len, "no reply from %s within the %.3f s timeout (%llu late)",
			 st->peer, (double)st->o->timeout_ns / 1e9, (unsigned long long)c->late);
	else
		snprintf(
			buf, len,
			"no reply from %s: is a reflector running there (port, firewall, allow-list)?",
			st->peer);
	return buf;
}

/* SIGINT/SIGTERM end the test early with a summary; only delivered inside ppoll(). */
struct ping_signals {
	struct sigaction old_int, old_term;
	sigset_t oldmask, waitmask;
};

static void signals_catch(struct ping_signals *ps)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	ping_stop = 0;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &ps->oldmask);
	sigaction(SIGINT, &sa, &ps->old_int);
	sigaction(SIGTERM, &sa, &ps->old_term);
	ps->waitmask = ps->oldmask;
	sigdelset(&ps->waitmask, SIGINT);
	sigdelset(&ps->waitmask, SIGTERM);
}

static void signals_restore(struct ping_signals *ps)
{
	sigaction(SIGINT, &ps->old_int, NULL);
	sigaction(SIGTERM, &ps->old_term, NULL);
	sigprocmask(SIG_SETMASK, &ps->oldmask, NULL);
}

static void input_of(const struct ping_run_state *st, struct ps_input *in)
{
	memset(in, 0, sizeof(*in));
	in->samples = st->sess.samples;
	in->n = st->sess.nsamples;
	in->late = st->sess.late;
	in->nlate = st->sess.nlate;
	in->cnt = &st->sess.cnt;
	in->stateful = st->stateful;
	in->sent_ttl = st->o->ttl;
	in->sender_unsync = st->sess.sender_unsync;
	in->reflector_unsync = st->sess.reflector_unsync;
}

/*
 * Exit code of one session; with say, the reason is logged (after the
 * summary, so that a failed run ends with its one-line reason).
 */
static int session_code(const struct ping_run_state *st, bool say)
{
	char reason[512];

	if (say && st->sess.reflector_no_ssid)
		log_info("the reflector returned SSID 0: it does not implement RFC 8972");
	if (st->fatal)
		return PING_EXIT_NOREPLY;
	if (!st->sess.cnt.received) {
		if (say)
			log_error("%s", no_reply_reason(st, reason, sizeof(reason)));
		return PING_EXIT_NOREPLY;
	}
	return PING_EXIT_OK;
}

/* What the report says about the run as a whole. */
struct ping_report {
	const char *kind;     /* "TWAMP light", "STAMP", "TWAMP encrypted" */
	const char *mode;     /* JSON: "twamp-light", "stamp", "twamp" */
	const char *security; /* JSON: "unauthenticated", ..., NULL for light/STAMP */
	const char *server;   /* the TWAMP-Control peer, or the reflector */
	size_t request_octets;
	__u64 start_ns, end_ns; /* Unix ns of the first send and of the end */
};

/*
 * The mean interval the packets actually left at (0 with fewer than two):
 * at 10 us a loaded host may not keep the asked one, and must say so.
 */
static __u64 mean_interval_ns(const struct ping_run_state *st)
{
	if (st->attempts < 2)
		return 0;
	return (st->last_tx_ns - st->first_tx_ns) / (st->attempts - 1);
}

static void json_document(const struct ping_opts *o, const struct ping_report *rep,
			  const struct ping_run_state *sts, size_t n, const struct ps_result *res,
			  const struct ps_result *overall, int code)
{
	FILE *f = stdout;

	fprintf(f, "{\"schema\":\"%s\",\"schema_version\":%d,\"mode\":", PS_JSON_SCHEMA,
		PS_JSON_VERSION);
	ps_json_string(f, rep->mode);
	fputs(",\"security\":", f);
	if (rep->security)
		ps_json_string(f, rep->security);
	else
		fputs("null", f);
	fputs(",\"host\":", f);
	ps_json_string(f, o->host);
	fputs(",\"server\":", f);
	ps_json_string(f, rep->server);
	fprintf(f,
		",\"family\":\"%s\",\"start_unix_ns\":%llu,\"end_unix_ns\":%llu,"
		"\"parameters\":{\"count\":%u,\"duration_ns\":%llu,\"interval_ns\":%llu,"
		"\"poisson\":%s,\"request_octets\":%zu,\"dscp\":",
		sts[0].target.ss_family == AF_INET6 ? "ipv6" : "ipv4",
		(unsigned long long)rep->start_ns, (unsigned long long)rep->end_ns,
		o->duration_ns ? 0 : o->count, (unsigned long long)o->duration_ns,
		(unsigned long long)o->interval_ns, o->poisson ? "true" : "false",
		rep->request_octets);
	if (o->dscp >= 0)
		fprintf(f, "%d", o->dscp);
	else
		fputs("null", f);
	fprintf(f,
		",\"ttl\":%d,\"df\":%s,\"timeout_ns\":%llu,\"start_delay_ns\":%llu,"
		"\"sessions\":%zu,\"reflector_stateful\":%s,\"symmetrical_size\":%s,"
		"\"reflect_octets\":%u,\"ssid\":",
		o->ttl, o->df ? "true" : "false", (unsigned long long)o->timeout_ns,
		(unsigned long long)o->start_delay_ns, n, o->reflector_stateful ? "true" : "false",
		o->symmetrical ? "true" : "false", o->reflect_octets);
	if (o->ssid)
		fprintf(f, "%u", o->ssid);
	else
		fputs("null", f);
	fputs("},\"sessions\":[", f);
	for (size_t i = 0; i < n; i++) {
		char ep[INET6_ADDRSTRLEN + 16];

		fprintf(f, "%s{\"session\":%zu,\"sender\":", i ? "," : "", i + 1);
		ps_json_string(f, sts[i].sender);
		fputs(",\"reflector\":", f);
		ps_json_string(f, ping_format_endpoint(&sts[i].target, ep, sizeof(ep)));
		fprintf(f,
			",\"stateful_reflector_known\":%s,\"send_span_ns\":%llu,\"mean_interval_ns\":",
			sts[i].stateful ? "true" : "false",
			(unsigned long long)(sts[i].attempts ?
						     sts[i].last_tx_ns - sts[i].first_tx_ns :
						     0));
		if (sts[i].attempts >= 2)
			fprintf(f, "%llu", (unsigned long long)mean_interval_ns(&sts[i]));
		else
			fputs("null", f);
		fputs(",\"result\":", f);
		ps_json_result(f, &res[i]);
		fputc('}', f);
	}
	fputs("],\"overall\":", f);
	ps_json_result(f, overall);
	fprintf(f, ",\"exit_code\":%d}\n", code);
	fflush(f);
}

/*
 * Statistics and output of every session (and of all of them when there
 * are several); returns the PING_EXIT_* code of the run.
 */
static int report(const struct ping_opts *o, const struct ping_report *rep,
		  struct ping_run_state *sts, size_t n)
{
	struct ps_result *res = calloc(n + 1, sizeof(*res));
	struct ps_input *in = calloc(n, sizeof(*in));
	FILE *out = o->raw ? stderr : stdout;
	int code = PING_EXIT_OK;

	if (!res || !in) {
		free(res);
		free(in);
		log_error("out of memory for the statistics");
		return PING_EXIT_NOREPLY;
	}
	for (size_t i = 0; i < n; i++) {
		input_of(&sts[i], &in[i]);
		if (ps_compute(&in[i], 1, &res[i])) {
			log_error("statistics: out of memory");
			code = PING_EXIT_NOREPLY;
		}
		if (session_code(&sts[i], false) != PING_EXIT_OK)
			code = PING_EXIT_NOREPLY;
	}
	if (n > 1 && ps_compute(in, n, &res[n])) {
		log_error("statistics: out of memory");
		code = PING_EXIT_NOREPLY;
	}
	if (o->json) {
		json_document(o, rep, sts, n, res, n > 1 ? &res[n] : &res[0], code);
		goto out;
	}
	for (size_t i = 0; i <= n; i++) {
		const struct ps_result *r = &res[i];
		const char *warn = ps_sync_warning(r);
		char what[INET6_ADDRSTRLEN + 64];

		if (i == n && n == 1)
			break;
		if (i < n)
			snprintf(what, sizeof(what), "%s", sts[i].peer);
		else
			snprintf(what, sizeof(what), "%s, all %zu sessions,", rep->server, n);
		if (!o->quiet && !o->raw)
			fputc('\n', out);
		if (warn && r->rtt.n && (r->negative_fwd || r->negative_bwd || !o->quiet))
			fprintf(out, "warning: %s\n", warn);
		ps_print(out, what, rep->kind, r);
		/* a run that fell behind its fixed interval says so */
		if (i < n && !o->poisson &&
		    mean_interval_ns(&sts[i]) > o->interval_ns + o->interval_ns / 10)
			fprintf(out,
				"sending    mean interval %.1f us over %u packets, not the %.1f us asked: this host could not keep up\n",
				(double)mean_interval_ns(&sts[i]) / 1e3, sts[i].attempts,
				(double)o->interval_ns / 1e3);
	}
	fflush(out);
out:
	for (size_t i = 0; i < n; i++)
		session_code(&sts[i], true);
	free(res);
	free(in);
	return code;
}

/* "count 5" or "duration 10 s" for the header line. */
static const char *run_length(const struct ping_opts *o, char *buf, size_t len)
{
	if (o->duration_ns)
		snprintf(buf, len, "duration %.6g s", (double)o->duration_ns / 1e9);
	else
		snprintf(buf, len, "count %u", o->count);
	return buf;
}

/* A line per reply for short runs (ping-like), a progress line for long ones. */
static bool want_lines(const struct ping_opts *o)
{
	if (o->json || o->raw)
		return false;
	if (o->verbose)
		return true;
	return !o->quiet && !o->duration_ns && (__u64)o->count * o->sessions <= 100;
}

static int ping_run_light(const struct ping_opts *o)
{
	struct ping_run_state st = { .o = o, .fd = -1 };
	struct ping_signals sig;
	struct ping_report rep = { 0 };
	struct sockaddr_storage any, bound;
	socklen_t blen = sizeof(bound);
	char len_text[48];
	int ret, code;

	if (resolve(o, &st))
		return PING_EXIT_USAGE;
	ret = open_socket(&st);
	if (ret) {
		log_error("socket: %s", strerror(-ret));
		return PING_EXIT_NOREPLY;
	}
	memset(&any, 0, sizeof(any));
	any.ss_family = st.target.ss_family;
	if (o->sport_lo) {
		ret = bind_port(st.fd, &any, o->sport_lo, o->sport_hi, 0);
		if (ret) {
			log_error("cannot bind a sender port in %u-%u: %s", o->sport_lo,
				  o->sport_hi, strerror(-ret));
			close(st.fd);
			return PING_EXIT_NOREPLY;
		}
	}
	st.lines = want_lines(o);
	/* only the operator knows whether a light reflector numbers its replies */
	st.stateful = o->reflector_stateful;
	ping_session_init(&st.sess, o->timeout_ns, o->ssid);
	setvbuf(stdout, NULL, _IOLBF, 0); /* lines as they happen, also into a pipe */
	signals_catch(&sig);

	if (o->raw)
		puts(PING_CSV_HEADER);
	else if (!o->quiet && !o->json)
		printf("XTWAMP PING %s (%s): %s, %zu-octet requests, %s, interval %.6g s%s\n",
		       st.peer, o->host, format_name(o), ping_request_len(o),
		       run_length(o, len_text, sizeof(len_text)), (double)o->interval_ns / 1e9,
		       o->poisson ? " (Poisson mean)" : "");

	rep.start_ns = xt_realtime_ns() + o->start_delay_ns;
	loop(&st, 1, NULL, &sig.waitmask);
	rep.end_ns = xt_realtime_ns();

	signals_restore(&sig);
	/*
	 * Our address for the report: the port of the (unconnected, so replies
	 * from a wrong source stay visible) test socket, the address the route
	 * to the reflector picks.
	 */
	if (getsockname(st.fd, (struct sockaddr *)&bound, &blen) == 0) {
		struct sockaddr_storage via;
		socklen_t vlen = sizeof(via);
		int probe = socket(st.target.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (probe >= 0 &&
		    connect(probe, (struct sockaddr *)&st.target, st.target_len) == 0 &&
		    getsockname(probe, (struct sockaddr *)&via, &vlen) == 0) {
			if (via.ss_family == AF_INET)
				((struct sockaddr_in *)&via)->sin_port =
					((struct sockaddr_in *)&bound)->sin_port;
			else
				((struct sockaddr_in6 *)&via)->sin6_port =
					((struct sockaddr_in6 *)&bound)->sin6_port;
			bound = via;
		}
		if (probe >= 0)
			close(probe);
		ping_format_endpoint(&bound, st.sender, sizeof(st.sender));
	}
	close(st.fd);
	rep.kind = format_name(o);
	rep.mode = o->format == XT_FMT_STAMP ? "stamp" : "twamp-light";
	rep.server = st.peer;
	rep.request_octets = ping_request_len(o);
	code = report(o, &rep, &st, 1);
	ping_session_free(&st.sess);
	return code;
}

/* ---- full TWAMP: the control connection and its sessions ---------------- */

/* TCP connect bounded by timeout_ms. */
static int connect_bounded(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int soerr = 0, flags = fcntl(fd, F_GETFL);
	socklen_t sl = sizeof(soerr);
	int n;

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	if (connect(fd, sa, len) == 0)
		goto done;
	if (errno != EINPROGRESS)
		return -errno;
	do
		n = poll(&pfd, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		return -errno;
	if (soerr)
		return -soerr;
done:
	/* the control client polls by itself; blocking mode keeps sends simple */
	return fcntl(fd, F_SETFL, flags) < 0 ? -errno : 0;
}

/* Connect to the first address of HOST:PORT that answers; *peer gets its text. */
static int control_connect(const struct ping_opts *o, struct sockaddr_storage *server, char *peer,
			   size_t peerlen)
{
	struct addrinfo hints = {
		.ai_family = o->family,
		.ai_socktype = SOCK_STREAM,
		.ai_protocol = IPPROTO_TCP,
	};
	struct addrinfo *res, *ai;
	char port[8];
	int rc, fd = -1, err = -EHOSTUNREACH;

	snprintf(port, sizeof(port), "%u", o->port);
	rc = getaddrinfo(o->host, port, &hints, &res);
	if (rc) {
		log_error("cannot resolve '%s'%s: %s", o->host,
			  o->family == AF_INET	? " (IPv4)" :
			  o->family == AF_INET6 ? " (IPv6)" :
						  "",
			  gai_strerror(rc));
		return -EINVAL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		memset(server, 0, sizeof(*server));
		memcpy(server, ai->ai_addr, ai->ai_addrlen);
		ping_format_endpoint(server, peer, peerlen);
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		err = connect_bounded(fd, ai->ai_addr, ai->ai_addrlen, PING_CONTROL_TIMEOUT_MS);
		if (!err)
			break;
		log_debug("connect %s: %s", peer, strerror(-err));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		log_error("cannot connect to %s (TWAMP-Control): %s", peer, strerror(-err));
		return err == -EINVAL ? -EIO : err;
	}
	return fd;
}

/* The secret of -u IDENTITY from -k KEYFILE, copied into key (wiped by the caller). */
static int load_key(const struct ping_opts *o, struct tw_key *key)
{
	struct tw_keyring ring = { 0 };
	__u8 key_id[XT_KEYID_LEN] = { 0 };
	const struct tw_key *k;
	char err[256] = "";
	int ret;

	ret = tw_keyring_load(o->keyfile, &ring, err, sizeof(err));
	if (ret) {
		log_error("cannot load the key file: %s", err[0] ? err : strerror(-ret));
		return ret;
	}
	if (ring.loose_permissions)
		log_warn("%s can be read by group or others: chmod 600 it", o->keyfile);
	memcpy(key_id, o->identity, strlen(o->identity));
	k = tw_keyring_find(&ring, key_id);
	if (k)
		memcpy(key, k, sizeof(*key));
	else
		log_error("identity '%s' is not in %s", o->identity, o->keyfile);
	tw_keyring_free(&ring);
	return k ? 0 : -ENOENT;
}

/* One test session's socket, on the control connection's local address. */
static int session_socket(struct ping_run_state *st, const struct sockaddr_storage *local,
			  struct sockaddr_storage *bound)
{
	socklen_t len = sizeof(*bound);
	int ret;

	/* Each session its own Sender Port: ephemeral, or the next of --sender-port. */
	st->target.ss_family = local->ss_family;
	ret = open_socket(st);
	if (ret)
		return ret;
	ret = bind_port(st->fd, local, st->o->sport_lo, st->o->sport_hi, (__u32)(st->index - 1));
	if (ret)
		return ret;
	if (getsockname(st->fd, (struct sockaddr *)bound, &len) < 0)
		return -errno;
	ping_format_endpoint(bound, st->sender, sizeof(st->sender));
	return 0;
}

/* Request session st (1-based index) and remember where and how to send. */
static int request_one(struct cc_conn *cc, struct ping_run_state *st,
		       const struct sockaddr_storage *local, const struct sockaddr_storage *server,
		       __u32 nsessions, const char *ctl_peer)
{
	const struct ping_opts *o = st->o;
	struct sockaddr_storage sender, receiver = *server;
	struct cc_session_params p;
	struct cc_accept a;
	char ep[INET6_ADDRSTRLEN + 16];
	int ret;

	ret = session_socket(st, local, &sender);
	if (ret) {
		log_error("session %d: UDP socket: %s", st->index, strerror(-ret));
		return PING_EXIT_NOREPLY;
	}
	if (receiver.ss_family == AF_INET)
		((struct sockaddr_in *)&receiver)->sin_port = htons(o->test_port);
	else
		((struct sockaddr_in6 *)&receiver)->sin6_port = htons(o->test_port);
	memset(&p, 0, sizeof(p));
	if (cc_params_set_endpoints(&p, &sender, &receiver)) {
		log_error("session %d: address families of the sockets differ", st->index);
		return PING_EXIT_NOREPLY;
	}
	st->test_mode = cc_security_mode(cc) & XT_MODE_TEST_CIPHER;
	st->padding = ping_session_padding(o, st->test_mode);
	p.padding_length = st->padding;
	/* now: the session starts when Start-Sessions arrives (RFC 5357 §3.5) */
	p.start_time_ntp = xt_unix_ns_to_ntp64(xt_realtime_ns());
	p.timeout_ns = o->session_timeout_ns;
	p.dscp = o->dscp > 0 ? (__u8)o->dscp : 0;
	if (o->symmetrical) {
		/* the reply header: 41 octets, or 112 in the keyed test modes */
		size_t reply_min = st->test_mode ? sizeof(struct xt_twamp_sender_auth) + 64 :
						   (size_t)PING_REFLECT_OFF;

		st->request_len = ping_session_request_len(o, st->test_mode);
		if (st->request_len < reply_min) {
			log_error(
				"--symmetrical: %zu-octet requests are shorter than the %zu-octet replies of %s mode",
				st->request_len, reply_min, cc_mode_name(cc_security_mode(cc)));
			return PING_EXIT_USAGE;
		}
	}
	if (o->reflect_octets) {
		/* any value will do: the server must echo it (RFC 6038 §4.3) */
		p.octets_to_reflect = (__u16)(0x5800 | (st->index & 0xff));
		p.padding_to_reflect_len = o->reflect_octets;
	}
	ret = cc_request_session(cc, &p, &a);
	if (ret) {
		log_error("%s: Request-TW-Session %d of %u: %s", ctl_peer, st->index, nsessions,
			  cc->err);
		return PING_EXIT_NOREPLY;
	}
	memcpy(st->sid, a.sid, XT_SID_LEN);
	st->reflect_len = o->reflect_octets;
	st->server_octets = a.server_octets;
	if (st->test_mode) {
		ret = cc_test_keys(cc, a.sid, &st->keys);
		if (ret) {
			log_error("session %d: cannot derive the test keys: %s", st->index,
				  strerror(-ret));
			return PING_EXIT_NOREPLY;
		}
	}
	/* The reflector may have proposed another port: use what it accepted. */
	st->target = receiver;
	if (st->target.ss_family == AF_INET) {
		((struct sockaddr_in *)&st->target)->sin_port = htons(a.port);
		st->target_len = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *)&st->target)->sin6_port = htons(a.port);
		st->target_len = sizeof(struct sockaddr_in6);
	}
	ping_format_endpoint(&st->target, ep, sizeof(ep));
	if (nsessions > 1)
		snprintf(st->peer, sizeof(st->peer), "%s (session %d)", ep, st->index);
	else
		snprintf(st->peer, sizeof(st->peer), "%s", ep);
	ping_format_endpoint(&sender, ep, sizeof(ep));
	log_debug("session %d: %s -> %s, padding %u, accepted", st->index, ep, st->peer,
		  st->padding);
	ping_session_init(&st->sess, o->timeout_ns, 0);
	/* RFC 5357 §4.2.1: a Session-Reflector numbers its own packets */
	st->stateful = true;
	st->lines = want_lines(o);
	return PING_EXIT_OK;
}

/*
 * Start (or stop) every session of the run: Start-Sessions/Stop-Sessions, or
 * with individual session control (RFC 5938) Start-N/Stop-N naming each SID.
 */
static int start_or_stop_all(struct cc_conn *cc, struct ping_run_state *sts, __u32 n, bool start)
{
	__u8(*sids)[XT_SID_LEN];
	__u8 *acc;
	int ret = -ENOMEM;

	if (!(cc->mode & XT_MODE_INDIVIDUAL_SESSIONS))
		return start ? cc_start_sessions(cc) : cc_stop_sessions(cc, XT_ACCEPT_OK);
	sids = calloc(n, XT_SID_LEN);
	acc = calloc(n, 1);
	if (sids && acc) {
		for (__u32 i = 0; i < n; i++)
			memcpy(sids[i], sts[i].sid, XT_SID_LEN);
		ret = start ? cc_start_n_sessions(cc, (const __u8(*)[XT_SID_LEN])sids, n, acc) :
			      cc_stop_n_sessions(cc, (const __u8(*)[XT_SID_LEN])sids, n, acc);
	}
	free(sids);
	free(acc);
	return ret;
}

static int start_all(struct cc_conn *cc, struct ping_run_state *sts, __u32 n, const char *peer)
{
	int ret = start_or_stop_all(cc, sts, n, true);

	if (ret)
		log_error("%s: %s", peer, ret == -ENOMEM ? "out of memory" : cc->err);
	return ret;
}

static void stop_all(struct cc_conn *cc, struct ping_run_state *sts, __u32 n, const char *peer)
{
	int ret = start_or_stop_all(cc, sts, n, false);

	/* The results are ours already: a failed stop is worth a warning, not the run. */
	if (ret)
		log_warn("%s: %s", peer, ret == -ENOMEM ? "out of memory" : cc->err);
}

static int ping_run_twamp(const struct ping_opts *o)
{
	struct ping_run_state *sts = calloc(o->sessions, sizeof(*sts));
	struct sockaddr_storage server, local;
	struct ping_ctl_watch ctl = { .fd = -1 };
	struct tw_key key;
	struct cc_config cfg = {
		.modes = o->modes,
		.n_modes = o->n_modes,
		.features = (o->individual ? XT_MODE_INDIVIDUAL_SESSIONS : 0) |
			    (o->symmetrical ? XT_MODE_SYMMETRICAL_SIZE : 0) |
			    (o->reflect_octets ? XT_MODE_REFLECT_OCTETS : 0),
		.max_count_exponent = o->max_count_exponent,
		.timeout_ms = PING_CONTROL_TIMEOUT_MS,
	};
	struct cc_conn cc;
	struct ping_signals sig;
	struct ping_report rep = { 0 };
	char peer[INET6_ADDRSTRLEN + 16] = "?", kind[64], len_text[48];
	socklen_t len = sizeof(local);
	__u32 i, opened = 0;
	int code = PING_EXIT_NOREPLY, ret;

	memset(&key, 0, sizeof(key));
	memset(&cc, 0, sizeof(cc));
	if (!sts) {
		log_error("out of memory");
		return PING_EXIT_NOREPLY;
	}
	if (o->identity[0]) {
		if (load_key(o, &key)) {
			free(sts);
			return PING_EXIT_USAGE;
		}
		cfg.identity = o->identity;
		cfg.secret = key.secret;
		cfg.secret_len = key.secret_len;
	}
	ctl.fd = control_connect(o, &server, peer, sizeof(peer));
	if (ctl.fd < 0) {
		code = ctl.fd == -EINVAL ? PING_EXIT_USAGE : PING_EXIT_NOREPLY;
		goto out_key;
	}
	if (getsockname(ctl.fd, (struct sockaddr *)&local, &len) < 0) {
		log_error("getsockname: %s", strerror(errno));
		goto out_close;
	}
	ret = cc_open(&cc, ctl.fd, &cfg);
	/* the secret is in the Token now; nothing else needs it */
	OPENSSL_cleanse(&key, sizeof(key));
	if (ret) {
		log_error("%s: %s", peer, cc.err);
		goto out_cc;
	}
	log_debug("%s: TWAMP-Control in %s mode (server offers 0x%x, we chose 0x%x)", peer,
		  cc_mode_name(cc.mode), cc.offered, cc.mode);

	for (i = 0; i < o->sessions; i++) {
		sts[i].o = o;
		sts[i].fd = -1;
		sts[i].index = (int)i + 1;
		opened++;
		code = request_one(&cc, &sts[i], &local, &server, o->sessions, peer);
		if (code != PING_EXIT_OK)
			goto out_sessions;
	}
	if (start_all(&cc, sts, o->sessions, peer)) {
		code = PING_EXIT_NOREPLY;
		goto out_sessions;
	}

	setvbuf(stdout, NULL, _IOLBF, 0); /* lines as they happen, also into a pipe */
	signals_catch(&sig);
	snprintf(kind, sizeof(kind), "TWAMP %s", cc_mode_name(cc.mode));
	if (o->raw)
		puts(PING_CSV_HEADER_SESSIONS);
	else if (!o->quiet && !o->json)
		printf("XTWAMP PING %s (%s): %s, %u session%s, %zu-octet requests, %s, interval %.6g s%s\n",
		       peer, o->host, kind, o->sessions, o->sessions > 1 ? "s" : "",
		       ping_session_request_len(o, sts[0].test_mode),
		       run_length(o, len_text, sizeof(len_text)), (double)o->interval_ns / 1e9,
		       o->poisson ? " (Poisson mean)" : "");
	rep.start_ns = xt_realtime_ns() + o->start_delay_ns;
	loop(sts, o->sessions, &ctl, &sig.waitmask);
	rep.end_ns = xt_realtime_ns();
	signals_restore(&sig);

	if (!ctl.gone)
		stop_all(&cc, sts, o->sessions, peer);

	rep.kind = kind;
	rep.mode = "twamp";
	rep.security = cc_mode_name(cc.mode);
	rep.server = peer;
	rep.request_octets = ping_session_request_len(o, sts[0].test_mode);
	code = report(o, &rep, sts, o->sessions);

out_sessions:
	for (i = 0; i < opened; i++) {
		if (sts[i].fd >= 0)
			close(sts[i].fd);
		ping_session_free(&sts[i].sess);
		OPENSSL_cleanse(&sts[i].keys, sizeof(sts[i].keys));
	}
out_cc:
	cc_close(&cc);
out_close:
	close(ctl.fd);
out_key:
	OPENSSL_cleanse(&key, sizeof(key));
	free(sts);
	return code;
}

int ping_run(const struct ping_opts *o)
{
	return o->light ? ping_run_light(o) : ping_run_twamp(o);
}

int ping_main(int argc, char **argv)
{
	struct ping_opts o;
	char err[256];

	if (ping_parse_args(argc, argv, &o, err, sizeof(err))) {
		log_error("%s (see 'xtwamp ping --help')", err);
		return PING_EXIT_USAGE;
	}
	if (o.help) {
		ping_usage(stdout);
		return PING_EXIT_OK;
	}
	if (o.verbose) {
		enum log_level want = o.verbose > 1 ? LOG_LEVEL_TRACE : LOG_LEVEL_DEBUG;

		if (log_get_level() < want)
			log_set_level(want);
	}
	return ping_run(&o);
}
