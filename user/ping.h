/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ping.h - `xtwamp ping`: a TWAMP Light (RFC 5357 App. I) / STAMP (RFC 8762)
 * Session-Sender, and without --light a full TWAMP Control-Client +
 * Session-Sender (RFC 5357: control connection through control_client.h,
 * one or more test sessions, unauthenticated, authenticated, encrypted or
 * mixed mode).
 *
 * Contract: everything except ping_run() and ping_main() is pure - no
 * sockets, no clocks, no printing to the terminal - so the unit tests can
 * feed it hand-built bytes.  The pieces, in the order a run uses them:
 *
 *   ping_parse_args()     argv -> struct ping_opts (-EINVAL + one-line err)
 *   ping_build_request()  the request bytes for one sequence number
 *   ping_stamp_request()  writes T1 + Error Estimate just before sendto()
 *   ping_parse_reply()    reply bytes -> struct ping_reply (-EINVAL/-EBADMSG)
 *   ping_session_*()      what was sent, duplicates, late and bogus replies
 *   ping_compute()        RTT = (T4-T1)-(T3-T2), fwd T2-T1, bwd T4-T3, T3-T2
 *   ping_stats.h          every statistic of the summary and of --json
 *
 * Times are Unix ns of CLOCK_REALTIME (UTC); differences are signed and
 * never clamped: a negative one-way delay is a clock offset worth seeing.
 * Functions return 0 (or a non-negative verdict) or -errno.
 */
#ifndef XTWAMP_PING_H
#define XTWAMP_PING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <linux/types.h>

#include "twamp_crypto.h"
#include "xtwamp_maps.h" /* enum xt_format */
#include "xtwamp_wire.h"

#define PING_HOST_MAX 256
#define PING_COUNT_MAX 10000000U
/* One unfragmented IPv4 datagram on a 1500-octet link: 1500 - 20 - 8. */
#define PING_UDP_PAYLOAD_MAX 1472
#define PING_TWAMP_PAD_DEFAULT 27    /* 14 + 27 = 41: request as long as the reply */
#define PING_TLV_HDR 4		     /* RFC 8972 §4: flags, type, length */
#define PING_TLV_EXTRA_PADDING 1     /* RFC 8972 §4.1 */
#define PING_TLV_FLAG_U 0x80	     /* a Session-Sender sets U (RFC 8972 §4) */
#define PING_INTERVAL_MIN_NS 1000ULL /* 1 us: below that we only measure ourselves */
#define PING_SECONDS_MAX 3600ULL
#define PING_AUTH_PAD_DEFAULT 64 /* 48 + 64 = 112: authenticated request as long as the reply */
#define PING_SESSIONS_MAX 256	 /* --sessions: one UDP socket each */
#define PING_PATH_MAX 4096
#define PING_SESSION_TIMEOUT_DEFAULT_NS (2 * 1000000000ULL)
#define PING_CONTROL_TIMEOUT_MS 10000 /* bound on each TWAMP-Control message */
#define PING_REFLECT_OFF 41	      /* RFC 6038: reflected padding in an unauthenticated reply */

/* Exit codes of `xtwamp ping` (and of the xtwamp client generally). */
#define PING_EXIT_OK 0	    /* run completed, at least one valid reply */
#define PING_EXIT_NOREPLY 1 /* nothing (valid) came back, or a run-time failure */
#define PING_EXIT_USAGE 2   /* bad arguments, unresolvable host */

struct ping_opts {
	char host[PING_HOST_MAX]; /* name or literal, without brackets/port */
	__u16 port;		  /* host order */
	__u32 count;		  /* 1..PING_COUNT_MAX */
	__u64 interval_ns;
	__u64 timeout_ns; /* wait for replies after the last request; late threshold */
	__u32 padding;	  /* TWAMP: octets after the 14-octet header; STAMP: after 44 */
	enum xt_format format;
	__u16 ssid;	  /* STAMP SSID (RFC 8972), 0 = none */
	int family;	  /* AF_UNSPEC, AF_INET (-4), AF_INET6 (-6) */
	bool light;	  /* --light: no TWAMP-Control; else full TWAMP, port = control port */
	bool raw;	  /* CSV, one line per reply */
	bool quiet;	  /* summary only */
	bool help;	  /* --help seen: print usage, nothing else parsed */
	int verbose;	  /* -v count: invalid-reply reasons at 1 */
	bool padding_set; /* -s given; else the mode's default (27, or 64 when keyed) */
	int dscp;	  /* -D: DSCP of the test packets (and Type-P), -1 = not set */
	bool json;	  /* --json: one JSON document on stdout (README "JSON output") */
	bool progress;	  /* --progress: a progress line on stderr even if not a tty */
	bool poisson;	  /* --poisson: exponential gaps, mean interval_ns (RFC 2330) */
	__u32 size;	  /* --size: total UDP payload, 0 = use padding */
	int ttl;	  /* --ttl: TTL / hop limit of the requests (default 255) */
	bool df;	  /* --df: don't fragment (IP_PMTUDISC_DO / IPV6_DONTFRAG) */
	__u16 sport_lo, sport_hi; /* --sender-port P[-Q], 0 = ephemeral */
	__u64 start_delay_ns;	  /* --start-delay: wait before the first packet */
	__u64 duration_ns;	  /* --duration: send for this long instead of -c */
	bool reflector_stateful;  /* --reflector-stateful: light reflector numbers per sender */

	/* Full TWAMP only (without --light). */
	__u32 modes[4];			 /* -A: XT_MODE_* security bits, preferred first */
	size_t n_modes;			 /* 1..4 after parsing */
	char identity[XT_KEYID_LEN + 1]; /* -u: KeyID, "" = none */
	char keyfile[PING_PATH_MAX];	 /* -k: key file ("identity hex-secret" lines) */
	__u32 sessions;			 /* --sessions: parallel test sessions */
	unsigned max_count_exponent;	 /* --max-count-exponent (default 15) */
	__u64 session_timeout_ns;	 /* --session-timeout: the Timeout field */
	__u16 test_port;		 /* --test-port: Receiver Port requested */
	bool individual;		 /* --individual: Start-N/Stop-N (RFC 5938) */
	bool symmetrical;		 /* --symmetrical: Symmetrical Size (RFC 6038) */
	__u16 reflect_octets;		 /* --reflect-octets: Length of padding to reflect */
};

/*
 * Defaults: port 862, 5 packets, 1 s apart, TWAMP with 27 octets padding,
 * 2 s; full TWAMP: unauthenticated, 1 session, Count up to 2^15, session
 * Timeout 2 s, Receiver Port 862.
 */
void ping_opts_default(struct ping_opts *o);

/*
 * Parse `ping` arguments; argv[0] is the subcommand name and is skipped.
 * Returns 0, or -EINVAL with a one-line message (no trailing newline) in err.
 * With --help, returns 0 and sets o->help without checking the rest.
 */
int ping_parse_args(int argc, char **argv, struct ping_opts *o, char *err, size_t errlen);

/*
 * "HOST", "HOST:PORT", "[V6]", "[V6]:PORT" or a bare IPv6 literal (two or
 * more colons: no port).  *port is left alone when the text has none.
 */
int ping_parse_target(const char *text, char *host, size_t hostlen, __u16 *port, char *err,
		      size_t errlen);

/* Decimal seconds ("1", "0.01", ".5") to ns; no signs, exponents or junk. */
int ping_parse_seconds(const char *text, __u64 *ns);

/* Size of the request for these options (header + padding or TLV). */
size_t ping_request_len(const struct ping_opts *o);

/*
 * Padding and request size of a full-TWAMP session in test mode (the
 * security bit): 14 + padding (unauthenticated, mixed) or 48 + padding
 * (authenticated, encrypted); without -s the padding makes the request as
 * long as the reply (27, 64).
 */
__u32 ping_session_padding(const struct ping_opts *o, __u32 test_mode);

/*
 * RFC 6038 Reflect Octets: the n octets of padding to reflect for sequence
 * number seq.  The first two are the server's octets from Accept-Session
 * when it sent any (§4.3: the sender MUST put them there); the rest vary
 * with seq, so a reflector returning another packet's octets is caught.
 */
void ping_reflect_fill(__u8 *dst, size_t n, __u32 seq, __u16 server_octets);

/*
 * The reply (len octets) carries the padding to reflect of seq at octet
 * PING_REFLECT_OFF (RFC 6038 §5.2.1); false if short or different.
 */
bool ping_reflect_ok(const __u8 *reply, size_t len, size_t n, __u32 seq, __u16 server_octets);
size_t ping_session_request_len(const struct ping_opts *o, __u32 test_mode);

/*
 * Build the request for sequence number seq into buf (zero padding; for
 * STAMP, -s N becomes one Extra Padding TLV of N octets in total).  The
 * timestamp is left 0: ping_stamp_request() fills it last.  Returns the
 * length or -ENOSPC.
 */
int ping_build_request(const struct ping_opts *o, __u32 seq, void *buf, size_t buflen);

/* Write T1 (Unix ns -> NTP) and the sender Error Estimate; returns the NTP64. */
__u64 ping_stamp_request(void *buf, __u64 t1_unix_ns, __u16 error_estimate);

/*
 * Authenticated/encrypted Session-Sender packet (RFC 4656 §4.1.2): 48 +
 * padding octets, sequence number at 0, zero MBZ, HMAC and padding.
 * ping_stamp_request_auth() writes T1 at 16 and the Error Estimate at 24;
 * then tw_test_seal_sender() HMACs and encrypts it.  Returns the length or
 * -ENOSPC.
 */
int ping_build_request_auth(__u32 seq, __u32 padding, void *buf, size_t buflen);
__u64 ping_stamp_request_auth(void *buf, __u64 t1_unix_ns, __u16 error_estimate);

/* A reflected packet, decoded; timestamps are Unix ns (CLOCK_REALTIME). */
struct ping_reply {
	size_t length;
	int reply_ttl;	  /* TTL/Hop Limit of the reply here, -1 unknown (set by the caller) */
	int reply_tos;	  /* TOS/Traffic Class of the reply here, -1 unknown (ditto) */
	__u32 seq;	  /* reflector's sequence number */
	__u32 sender_seq; /* ours, echoed */
	__u64 t1_ntp;	  /* Sender Timestamp exactly as echoed (NTP64, host order) */
	__u64 t1_ns, t2_ns, t3_ns;
	__u16 error_estimate;	     /* reflector's, for T2 and T3 */
	__u16 sender_error_estimate; /* ours, echoed */
	__u16 ssid;		     /* STAMP only, else 0 */
	__u8 sender_ttl;	     /* TTL/Hop Limit the reflector saw */
};

/*
 * Decode and sanity-check a reply of the given format: length >= 41 (TWAMP)
 * or >= 44 (STAMP) -> else -EINVAL; zero Error Estimate multiplier, zero
 * timestamp or bad PTP nanoseconds -> -EBADMSG.  A reflector that sets the Z
 * bit (RFC 8186) sent PTP (TAI) timestamps: they are converted to UTC with
 * realtime_minus_tai_ns (struct xt_clock_state).  MBZ fields are ignored.
 */
int ping_parse_reply(const void *buf, size_t len, enum xt_format fmt, __s64 realtime_minus_tai_ns,
		     struct ping_reply *out, char *err, size_t errlen);

/*
 * The same for an authenticated/encrypted reflector packet (>= 112 octets,
 * RFC 5357 §4.2.1 with erratum 5045) that tw_test_open_reflector() has
 * already decrypted and verified.  -EINVAL if shorter than 112.
 */
int ping_parse_reply_auth(const void *buf, size_t len, __s64 realtime_minus_tai_ns,
			  struct ping_reply *out, char *err, size_t errlen);

/* The four delays of one reply, signed ns. */
struct ping_times {
	__s64 rtt_ns;	    /* (T4 - T1) - (T3 - T2) */
	__s64 fwd_ns;	    /* T2 - T1 */
	__s64 bwd_ns;	    /* T4 - T3 */
	__s64 residence_ns; /* T3 - T2 */
};

void ping_compute(const struct ping_reply *r, __u64 t4_ns, struct ping_times *t);

/* What is kept per accepted reply for the summary. */
struct ping_sample {
	__s64 rtt_ns;
	__s64 residence_ns;
	__u32 seq;
	__u32 rseq;	 /* the reflector's sequence number: loss direction */
	__s64 fwd_ns;	 /* T2 - T1, signed, never clamped */
	__s64 bwd_ns;	 /* T4 - T3 */
	__s16 reply_ttl; /* -1 unknown */
	__s16 reply_tos; /* -1 unknown */
	__u8 sender_ttl; /* as the reflector saw our request */
};

struct ping_counters {
	__u64 sent;
	__u64 received;	  /* distinct sequence numbers answered in time */
	__u64 late;	  /* answered after the timeout: counted as lost too */
	__u64 duplicates; /* further replies for an answered sequence number */
	__u64 invalid;	  /* replies we refused to trust */
	__u64 send_errors;
	__u64 icmp_errors; /* ICMP errors reported for our requests */
};

enum ping_verdict {
	PING_VALID = 0,
	PING_DUPLICATE = 1,
	PING_LATE = 2,
	PING_INVALID = 3,
};

/* Sender state: what was sent with which T1, and which replies came back. */
struct ping_session {
	__u64 timeout_ns;
	__u16 ssid;
	__u32 nsent;	/* sequence numbers 0 .. nsent-1 were sent */
	__u64 *t1_ntp;	/* per sequence number, as sent */
	__u8 *answered; /* bitmap */
	size_t cap;
	struct ping_sample *samples;
	size_t nsamples, samples_cap;
	struct ping_sample *late; /* first copies that came after the timeout */
	size_t nlate, late_cap;
	struct ping_counters cnt;
	bool reflector_unsync;	/* some accepted reply had the reflector's S bit clear */
	bool sender_unsync;	/* ... or our own (echoed) S bit clear */
	bool reflector_no_ssid; /* STAMP reflector returned SSID 0 for our non-zero one */
};

void ping_session_init(struct ping_session *s, __u64 timeout_ns, __u16 ssid);
void ping_session_free(struct ping_session *s);

/* Record that sequence number s->nsent went out with this T1; 0 or -ENOMEM. */
int ping_session_sent(struct ping_session *s, __u64 t1_ntp);

/*
 * Match a parsed reply (arriving at t4_ns) against what was sent, update the
 * counters and, for PING_VALID, keep a sample.  Returns the verdict, with a
 * reason in why for PING_INVALID, or -ENOMEM.  Checks: the sender sequence
 * number was sent, its Sender Timestamp is the one we sent (a reflector must
 * copy it exactly), a STAMP SSID is ours (or 0: no RFC 8972 support), the
 * sequence number was not answered before, and the reply is not later than
 * the timeout (RFC 7680: a late packet is lost).  times gets the delays.
 */
int ping_session_match(struct ping_session *s, const struct ping_reply *r, __u64 t4_ns,
		       struct ping_times *times, char *why, size_t whylen);

/*
 * Output.  peer is "192.0.2.1:862" or "[2001:db8::1]:862"; reply_ttl < 0 when
 * unknown.  suffix is "", " (DUP!)" or " (late)".
 */
int ping_format_line(char *buf, size_t len, const char *peer, const struct ping_reply *r,
		     const struct ping_times *t, int reply_ttl, const char *suffix);
#define PING_CSV_HEADER "seq,rseq,t1_ns,t2_ns,t3_ns,t4_ns,sender_ttl,reply_ttl,reflector_ee,length"
int ping_format_csv(char *buf, size_t len, const struct ping_reply *r, __u64 t4_ns, int reply_ttl);
/* CSV of a full-TWAMP run: the light columns and the session number (1..N). */
#define PING_CSV_HEADER_SESSIONS PING_CSV_HEADER ",session"
/* The one-line clock warning, or NULL when both clocks claim synchronisation. */
const char *ping_sync_warning(const struct ping_session *s);

/* Address and port equal (IPv4 or IPv6; scope and flow label ignored). */
bool ping_same_endpoint(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
/* "192.0.2.1:862" or "[2001:db8::1]:862" into buf; returns buf. */
const char *ping_format_endpoint(const struct sockaddr_storage *ss, char *buf, size_t len);

void ping_usage(FILE *f);

/* Run a parsed ping (light or full TWAMP); returns a PING_EXIT_* code. */
int ping_run(const struct ping_opts *o);

/* `xtwamp ping ...`: parse, run, return the exit code. */
int ping_main(int argc, char **argv);

#endif /* XTWAMP_PING_H */
