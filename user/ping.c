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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "clock.h"
#include "log.h"
#include "ping.h"
#include "xtwamp_wire.h"

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
};
/* clang-format on */

#define N_OPT_DEFS (sizeof(opt_defs) / sizeof(opt_defs[0]))

struct parse_state {
	const char *target;
	__u64 padding;
	bool padding_set, v4, v6;
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

static int apply_opt(const struct opt_def *d, const char *val, struct ping_opts *o,
		     struct parse_state *ps, char *err, size_t errlen)
{
	__u64 v;
	int ret;

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
	}
	return -EINVAL;
}

/* Cross-option checks, once every option is known. */
static int finish_opts(struct ping_opts *o, struct parse_state *ps, char *err, size_t errlen)
{
	int hdr = o->format == XT_FMT_STAMP ? XT_STAMP_BASE : XT_TWAMP_SENDER_MIN;
	__u64 max_pad = (__u64)(PING_UDP_PAYLOAD_MAX - hdr);
	unsigned char addr[sizeof(struct in6_addr)];

	if (!ps->target) {
		snprintf(err, errlen, "missing HOST");
		return -EINVAL;
	}
	if (!o->light) {
		snprintf(
			err, errlen,
			"only TWAMP Light / STAMP sessions are implemented so far: use 'xtwamp ping --light %s'",
			ps->target);
		return -EINVAL;
	}
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
	if (ps->padding_set) {
		if (ps->padding > max_pad) {
			snprintf(
				err, errlen,
				"padding %llu is too large: at most %llu octets after the %d-octet %s header",
				(unsigned long long)ps->padding, (unsigned long long)max_pad, hdr,
				o->format == XT_FMT_STAMP ? "STAMP" : "TWAMP");
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
	}
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

__u64 ping_stamp_request(void *buf, __u64 t1_unix_ns, __u16 error_estimate)
{
	/* Timestamp at 4 and Error Estimate at 12 in both sender formats. */
	struct xt_twamp_sender *s = buf;
	__u64 ntp = xt_unix_ns_to_ntp64(t1_unix_ns);

	s->timestamp.sec = htonl((__u32)(ntp >> 32));
	s->timestamp.frac = htonl((__u32)ntp);
	s->error_estimate = htons(error_estimate);
	return ntp;
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
	s->t1_ntp = NULL;
	s->answered = NULL;
	s->samples = NULL;
	s->cap = s->nsamples = s->samples_cap = 0;
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

static int session_add_sample(struct ping_session *s, const struct ping_sample *smp)
{
	if (s->nsamples == s->samples_cap) {
		size_t ncap = s->samples_cap ? s->samples_cap * 2 : 1024;
		struct ping_sample *n = realloc(s->samples, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->samples = n;
		s->samples_cap = ncap;
	}
	s->samples[s->nsamples++] = *smp;
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
	if ((__s64)(t4_ns - r->t1_ns) > (__s64)s->timeout_ns) {
		s->cnt.late++; /* RFC 7680: arriving after the waiting time = lost */
		return PING_LATE;
	}
	smp.rtt_ns = times->rtt_ns;
	smp.residence_ns = times->residence_ns;
	smp.seq = seq;
	ret = session_add_sample(s, &smp);
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

/* ---- statistics --------------------------------------------------------- */

static int cmp_s64(const void *a, const void *b)
{
	__s64 x = *(const __s64 *)a, y = *(const __s64 *)b;

	return (x > y) - (x < y);
}

static int cmp_sample_seq(const void *a, const void *b)
{
	__u32 x = ((const struct ping_sample *)a)->seq, y = ((const struct ping_sample *)b)->seq;

	return (x > y) - (x < y);
}

__s64 ping_percentile(const __s64 *sorted, size_t n, unsigned permille)
{
	/* nearest rank: the smallest value with at least p of the sample at or below it */
	unsigned __int128 rank = ((unsigned __int128)permille * n + 999) / 1000;

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[(size_t)rank - 1];
}

__s64 ping_median(const __s64 *sorted, size_t n)
{
	if (n % 2)
		return sorted[n / 2];
	return (__s64)(((__int128)sorted[n / 2 - 1] + sorted[n / 2]) / 2);
}

int ping_summarize(const struct ping_sample *samples, size_t n, struct ping_summary *out)
{
	struct ping_sample *by_seq;
	__s64 *rtt, *res;
	__int128 sum = 0, jsum = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->n = n;
	if (n == 0)
		return 0;
	by_seq = malloc(n * sizeof(*by_seq));
	rtt = malloc(n * sizeof(*rtt));
	res = malloc(n * sizeof(*res));
	if (!by_seq || !rtt || !res) {
		free(by_seq);
		free(rtt);
		free(res);
		return -ENOMEM;
	}
	/* IPDV pairs are consecutive sequence numbers (RFC 5481 §4.1), not arrival order. */
	memcpy(by_seq, samples, n * sizeof(*by_seq));
	qsort(by_seq, n, sizeof(*by_seq), cmp_sample_seq);
	for (i = 0; i < n; i++) {
		rtt[i] = by_seq[i].rtt_ns;
		res[i] = by_seq[i].residence_ns;
		sum += rtt[i];
		if (i && by_seq[i].seq == by_seq[i - 1].seq + 1) {
			__int128 d = (__int128)rtt[i] - rtt[i - 1];

			jsum += d < 0 ? -d : d;
			out->jitter_pairs++;
		}
	}
	if (out->jitter_pairs)
		out->jitter_ns = (__s64)(jsum / (__int128)out->jitter_pairs);
	out->rtt_mean_ns = (__s64)(sum / (__int128)n);
	qsort(rtt, n, sizeof(*rtt), cmp_s64);
	qsort(res, n, sizeof(*res), cmp_s64);
	out->rtt_min_ns = rtt[0];
	out->rtt_max_ns = rtt[n - 1];
	out->rtt_median_ns = ping_median(rtt, n);
	out->rtt_p99_ns = ping_percentile(rtt, n, 990);
	out->res_min_ns = res[0];
	out->res_max_ns = res[n - 1];
	out->res_median_ns = ping_median(res, n);
	free(by_seq);
	free(rtt);
	free(res);
	return 0;
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

void ping_print_summary(FILE *f, const char *peer, const struct ping_opts *o,
			const struct ping_counters *c, const struct ping_summary *sum)
{
	__u64 lost = c->sent - c->received;

	fprintf(f, "--- %s %s ping statistics ---\n", peer, format_name(o));
	fprintf(f,
		"%llu sent, %llu received, %llu lost (%.1f%%), %llu duplicates, %llu invalid replies",
		(unsigned long long)c->sent, (unsigned long long)c->received,
		(unsigned long long)lost, c->sent ? 100.0 * (double)lost / (double)c->sent : 0.0,
		(unsigned long long)c->duplicates, (unsigned long long)c->invalid);
	if (c->late)
		fprintf(f, ", %llu late (counted as lost)", (unsigned long long)c->late);
	if (c->send_errors)
		fprintf(f, ", %llu send errors", (unsigned long long)c->send_errors);
	if (c->icmp_errors)
		fprintf(f, ", %llu ICMP errors", (unsigned long long)c->icmp_errors);
	fputc('\n', f);
	if (!sum->n)
		return;
	fprintf(f, "rtt min/median/mean/max/p99 = %.3f/%.3f/%.3f/%.3f/%.3f ms, ",
		ms(sum->rtt_min_ns), ms(sum->rtt_median_ns), ms(sum->rtt_mean_ns),
		ms(sum->rtt_max_ns), ms(sum->rtt_p99_ns));
	if (sum->jitter_pairs)
		fprintf(f, "jitter %.3f ms\n", ms(sum->jitter_ns));
	else
		fprintf(f, "jitter n/a\n");
	fprintf(f, "reflector residence min/median/max = %.1f/%.1f/%.1f us\n", us(sum->res_min_ns),
		us(sum->res_median_ns), us(sum->res_max_ns));
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
		"Usage: xtwamp ping --light HOST[:PORT] [OPTIONS]\n"
		"\n"
		"Send TWAMP Light (RFC 5357 Appendix I) or STAMP (RFC 8762) test packets to a\n"
		"reflector and report round-trip and one-way delays per reply, then a summary.\n"
		"\n"
		"HOST is an IPv4/IPv6 address or a name; write IPv6 with a port as\n"
		"[2001:db8::1]:862.  PORT defaults to 862.\n"
		"\n"
		"Options:\n"
		"  --light             stateless test session, no TWAMP-Control (required for now)\n"
		"  -c, --count N       packets to send (default 5, at most %u)\n"
		"  -i, --interval S    seconds between packets, fractions allowed (default 1,\n"
		"                      at least 0.000001)\n"
		"  -s, --padding N     TWAMP: octets after the 14-octet header (default 27, so\n"
		"                      request and reply are 41 octets); STAMP: extra octets\n"
		"                      after the 44-octet base, sent as an Extra Padding TLV\n"
		"                      (default 0; else at least 4)\n"
		"      --stamp         send STAMP packets (44-octet base) instead of TWAMP\n"
		"      --ssid N        STAMP Session Identifier 1..65535 (RFC 8972)\n"
		"  -W, --timeout S     wait this long for replies after the last packet; later\n"
		"                      replies count as lost (default 2)\n"
		"  -4, -6              use IPv4 / IPv6 only\n"
		"      --raw           CSV instead: one line per reply, Unix ns timestamps:\n"
		"                      " PING_CSV_HEADER "\n"
		"                      (reply_ttl empty if unknown; summary goes to stderr)\n"
		"  -q, --quiet         print the summary only\n"
		"  -v, --verbose       say why replies were rejected\n"
		"  -h, --help          this text\n"
		"\n"
		"Per reply:\n"
		"  41 octets from 192.0.2.1:862: seq=0 rseq=0 rtt=0.123 ms fwd=0.050 ms bwd=0.073 ms residence=0.4 us ttl=64/255\n"
		"  rtt = (T4-T1)-(T3-T2), fwd = T2-T1, bwd = T4-T3, residence = T3-T2;\n"
		"  ttl = our TTL as the reflector saw it / the reply's TTL here (we send 255).\n"
		"  fwd and bwd need synchronised clocks; they are shown as measured, even when\n"
		"  negative, with a warning if either clock says it is unsynchronised.\n"
		"\n"
		"Examples:\n"
		"  xtwamp ping --light 192.0.2.1\n"
		"  xtwamp ping --light [2001:db8::1]:862 -c 1000 -i 0.01 -q\n"
		"  xtwamp ping --light reflector.example.net:8620 --stamp --ssid 7\n"
		"  xtwamp ping --light 127.0.0.1 -c 3 --raw > samples.csv\n"
		"\n"
		"Exit status: 0 at least one valid reply, 1 none, 2 usage error.\n",
		PING_COUNT_MAX);
}

/* ---- the socket loop ---------------------------------------------------- */

#define RX_BUF 4096
#define RX_BATCH 64 /* replies per wake-up before checking the send clock again */

struct ping_run_state {
	const struct ping_opts *o;
	int fd;
	struct sockaddr_storage target;
	socklen_t target_len;
	char peer[INET6_ADDRSTRLEN + 16];
	struct ping_session sess;
	__s64 realtime_minus_tai_ns;
	int last_send_errno;
	char last_icmp[160];
	bool fatal;
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
	int one = 1, ttl = 255;
	bool v6 = st->target.ss_family == AF_INET6;
	int fd = socket(st->target.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);

	if (fd < 0)
		return -errno;
	/* RFC 4656 §4.1.2: senders use TTL 255 so the reflector can count hops. */
	if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL, &ttl,
		       sizeof(ttl)))
		log_warn("cannot set %s 255: %s", v6 ? "hop limit" : "TTL", strerror(errno));
	if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVHOPLIMIT : IP_RECVTTL,
		       &one, sizeof(one)))
		log_debug("cannot ask for the received TTL: %s", strerror(errno));
	/* T4 from the kernel's receive timestamp, not from when we got scheduled. */
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)))
		log_debug("no SO_TIMESTAMPNS (%s): T4 from clock_gettime", strerror(errno));
	/* ICMP errors (port unreachable) explain a silent run. */
	if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVERR : IP_RECVERR, &one,
		       sizeof(one)))
		log_debug("cannot enable ICMP error reporting: %s", strerror(errno));
	st->fd = fd;
	return 0;
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

	len = ping_build_request(o, st->sess.nsent, buf, sizeof(buf));
	if (len < 0) {
		st->fatal = true;
		return;
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
		/* T1: the last thing before sendto() */
		ntp = ping_stamp_request(buf, xt_realtime_ns(), ee);
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
			 const struct sockaddr_storage *src, int reply_ttl)
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
	if (ping_parse_reply(buf, len, o->format, st->realtime_minus_tai_ns, &r, why,
			     sizeof(why))) {
		st->sess.cnt.invalid++;
		log_debug("invalid reply from %s: %s", st->peer, why);
		return;
	}
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
		if (o->raw || o->quiet)
			return;
		ping_format_line(line, sizeof(line), st->peer, &r, &t, reply_ttl, " (DUP!)");
		break;
	case PING_LATE:
	case PING_VALID:
		if (o->quiet)
			return;
		if (o->raw)
			ping_format_csv(line, sizeof(line), &r, t4, reply_ttl);
		else
			ping_format_line(line, sizeof(line), st->peer, &r, &t, reply_ttl,
					 v == PING_LATE ? " (late)" : "");
		break;
	default:
		return;
	}
	puts(line);
}

static void drain_replies(struct ping_run_state *st)
{
	for (int i = 0; i < RX_BATCH; i++) {
		__u8 buf[RX_BUF];
		union {
			char buf[CMSG_SPACE(sizeof(struct timespec)) + 2 * CMSG_SPACE(sizeof(int)) +
				 64];
			struct cmsghdr align;
		} ctrl;
		struct sockaddr_storage src;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr msg = {
			.msg_name = &src,
			.msg_namelen = sizeof(src),
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctrl.buf,
			.msg_controllen = sizeof(ctrl.buf),
		};
		struct cmsghdr *cm;
		__u64 t4 = 0;
		int reply_ttl = -1;
		ssize_t n;

		memset(&src, 0, sizeof(src));
		n = recvmsg(st->fd, &msg, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			/* a pending ICMP error (sk_err); details come from the error queue */
			if (errno == ECONNREFUSED || errno == EHOSTUNREACH ||
			    errno == ENETUNREACH || errno == EHOSTDOWN || errno == EPROTO ||
			    errno == EMSGSIZE)
				continue;
			log_warn("recvmsg: %s", strerror(errno));
			return;
		}
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec ts;

				memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
				t4 = (__u64)ts.tv_sec * NS_PER_SEC + (__u64)ts.tv_nsec;
			} else if ((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL) ||
				   (cm->cmsg_level == IPPROTO_IPV6 &&
				    cm->cmsg_type == IPV6_HOPLIMIT)) {
				memcpy(&reply_ttl, CMSG_DATA(cm), sizeof(reply_ttl));
			}
		}
		if (!t4)
			t4 = xt_realtime_ns();
		if (msg.msg_flags & MSG_TRUNC) {
			st->sess.cnt.invalid++;
			log_debug("invalid reply from %s: larger than %d octets", st->peer, RX_BUF);
			continue;
		}
		handle_reply(st, buf, (size_t)n, t4, &src, reply_ttl);
		if (st->fatal)
			return;
	}
}

static void loop(struct ping_run_state *st, const sigset_t *waitmask)
{
	const struct ping_opts *o = st->o;
	__u64 now = mono_ns(), next_send = now, last_send = now, deadline;
	__u32 attempts = 0;

	while (!ping_stop && !st->fatal) {
		struct pollfd pfd = { .fd = st->fd, .events = POLLIN };
		struct timespec ts;
		__u64 wait;

		now = mono_ns();
		if (attempts < o->count && now >= next_send) {
			send_one(st);
			attempts++;
			last_send = now;
			/* Keep the grid, but do not burst to catch up after a stall. */
			next_send += o->interval_ns;
			if (next_send < now)
				next_send = now;
		}
		if (attempts >= o->count) {
			const struct ping_counters *c = &st->sess.cnt;

			if (c->received + c->late >= st->sess.nsent)
				break; /* everything answered: no need to sit out the timeout */
			deadline = last_send + o->timeout_ns;
			if (now >= deadline)
				break;
		} else {
			deadline = next_send;
		}
		/* Poll even when already due, so a fast sender still reads replies. */
		wait = deadline > now ? deadline - now : 0;
		ts.tv_sec = (time_t)(wait / NS_PER_SEC);
		ts.tv_nsec = (long)(wait % NS_PER_SEC);
		if (ppoll(&pfd, 1, &ts, waitmask) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			st->fatal = true;
			break;
		}
		if (pfd.revents & POLLERR)
			drain_errqueue(st);
		if (pfd.revents & POLLIN)
			drain_replies(st);
	}
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

int ping_run(const struct ping_opts *o)
{
	struct ping_run_state st = { .o = o, .fd = -1 };
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
	sigset_t block, oldmask;
	struct ping_summary sum;
	const char *warn;
	FILE *out = o->raw ? stderr : stdout;
	char reason[512];
	int ret, code;

	if (resolve(o, &st))
		return PING_EXIT_USAGE;
	ret = open_socket(&st);
	if (ret) {
		log_error("socket: %s", strerror(-ret));
		return PING_EXIT_NOREPLY;
	}
	ping_session_init(&st.sess, o->timeout_ns, o->ssid);
	setvbuf(stdout, NULL, _IOLBF, 0); /* lines as they happen, also into a pipe */

	/* SIGINT ends the run early with a summary; only delivered inside ppoll(). */
	ping_stop = 0;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &oldmask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	if (o->raw)
		puts(PING_CSV_HEADER);
	else if (!o->quiet)
		printf("XTWAMP PING %s (%s): %s, %zu-octet requests, count %u, interval %.6g s\n",
		       st.peer, o->host, format_name(o), ping_request_len(o), o->count,
		       (double)o->interval_ns / 1e9);

	{
		sigset_t waitmask = oldmask;

		sigdelset(&waitmask, SIGINT);
		sigdelset(&waitmask, SIGTERM);
		loop(&st, &waitmask);
	}

	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	close(st.fd);

	ret = ping_summarize(st.sess.samples, st.sess.nsamples, &sum);
	if (ret) {
		log_error("summary: %s", strerror(-ret));
		memset(&sum, 0, sizeof(sum));
	}
	if (st.sess.reflector_no_ssid)
		log_info("the reflector returned SSID 0: it does not implement RFC 8972");
	warn = ping_sync_warning(&st.sess);
	if (!o->quiet) {
		if (!o->raw)
			putchar('\n');
		if (warn && sum.n)
			fprintf(out, "warning: %s\n", warn);
	}
	ping_print_summary(out, st.peer, o, &st.sess.cnt, &sum);
	fflush(out);

	code = PING_EXIT_OK;
	if (st.fatal) {
		code = PING_EXIT_NOREPLY;
	} else if (!st.sess.cnt.received) {
		log_error("%s", no_reply_reason(&st, reason, sizeof(reason)));
		code = PING_EXIT_NOREPLY;
	}
	ping_session_free(&st.sess);
	return code;
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
