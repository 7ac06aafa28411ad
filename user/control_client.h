/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * control_client.h - the TWAMP Control-Client (RFC 4656 §3.1-3.4 connection
 * setup and control-stream crypto, RFC 5357 §3 commands, RFC 5618 mixed
 * mode, RFC 5938 Start-N/Stop-N, RFC 6038 reflect octets) over a connected
 * TCP socket.
 *
 * Two layers:
 *  - cc_build_* / cc_parse_* / cc_choose_mode / cc_check_count / the name
 *    helpers are pure: bytes in, bytes or values out, no I/O, no clocks, no
 *    randomness, so the unit tests compare them with octets computed by hand
 *    from the RFC figures;
 *  - struct cc_conn and cc_open() ... cc_close() run the exchange over a
 *    file descriptor (blocking, each read bounded by a timeout), doing the
 *    stream encryption and the running HMACs of both directions.  On failure
 *    they return -errno and leave one line in c->err that names the step and,
 *    where the server sent one, its Accept value, e.g. "Request-TW-Session:
 *    session refused: Accept 5 (temporary resource limit)".
 *
 * Return values: 0 or -errno.  The errors a caller may want to tell apart:
 *   -ECONNREFUSED  the server offers no mode (Modes 0) or none we allow
 *   -E2BIG         the greeting's Count exceeds 2^max_count_exponent
 *   -EACCES        Server-Start Accept != 0 (in a keyed mode: authentication
 *                  failed), or a session / Start refused (c->last_accept)
 *   -EBADMSG       an HMAC did not verify
 *   -EPROTO        a malformed or unexpected message
 *   -ETIMEDOUT, -ECONNABORTED (EOF), other -errno from the socket
 */
#ifndef XTWAMP_CONTROL_CLIENT_H
#define XTWAMP_CONTROL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <linux/types.h>

#include "twamp_crypto.h"
#include "xtwamp_wire.h"

/* RFC 5357 §6: default maximum Count 32768 = 2^15; RFC 8913 names the exponent. */
#define CC_MAX_COUNT_EXP_DEFAULT 15
#define CC_MAX_COUNT_EXP_MIN 10 /* Count is at least 1024 (RFC 4656 §3.1) */
#define CC_MAX_COUNT_EXP_MAX 31 /* the largest power of 2 in 32 bits */
#define CC_MAX_MODES 4		/* unauthenticated, authenticated, encrypted, mixed */
#define CC_ERR_LEN 256

/* ---- names -------------------------------------------------------------- */

/* "unauthenticated", "authenticated", "encrypted", "mixed" for one security bit. */
const char *cc_mode_name(__u32 mode);
/* The meaning of an Accept value: "OK", ..., "temporary resource limit". */
const char *cc_accept_str(unsigned accept);

/*
 * Parse a mode preference list: names separated by commas (or spaces),
 * case-insensitive ("unauthenticated", "authenticated", "encrypted",
 * "mixed", also "open", "auth", "unauth"), or letters O A E M, one per mode
 * ("AEO" = authenticated, then encrypted, then unauthenticated, as twping's
 * -A).  Fills modes[] with XT_MODE_* security bits in order.  A mode given
 * twice or an unknown word is -EINVAL with a message in err.
 */
int cc_parse_modes(const char *text, __u32 modes[CC_MAX_MODES], size_t *n, char *err,
		   size_t errlen);

/* ---- pure message layer -------------------------------------------------- */

struct cc_greeting {
	__u32 modes;
	__u8 challenge[16];
	__u8 salt[16];
	__u32 count;
};

/*
 * Decode a Server-Greeting.  -ECONNREFUSED for Modes 0 (the server does
 * not want us), -E2BIG for a Count above 2^max_count_exp (RFC 5357 §6: the
 * client SHOULD close; it would stall us in PBKDF2).
 */
int cc_parse_greeting(const void *buf, size_t len, unsigned max_count_exp, struct cc_greeting *g,
		      char *err, size_t errlen);

/*
 * Count is used for PBKDF2 only in the keyed modes; there it must also be a
 * power of 2 and at least 1024 (RFC 4656 §3.1).  -EPROTO otherwise.
 */
int cc_check_count(__u32 count, char *err, size_t errlen);

/* The first security mode of prefs[] that offered has, or 0. */
__u32 cc_choose_mode(__u32 offered, const __u32 *prefs, size_t n);

/*
 * Token = AES-128-CBC(K, IV 0) of Challenge | AES key | HMAC key, with
 * K = PBKDF2-HMAC-SHA1(secret, Salt, Count, 16) (RFC 4656 §3.1).
 */
int cc_make_token(const void *secret, size_t secret_len, const struct cc_greeting *g,
		  const __u8 aes_key[TW_AES_KEY_LEN], const __u8 hmac_key[TW_HMAC_KEY_LEN],
		  __u8 token[64]);

/*
 * Set-Up-Response.  key_id NULL (unauthenticated, or Mode 0 = "quitting"):
 * KeyID, Token and Client-IV are zero.  key_id is at most 80 octets.
 */
int cc_build_setup_response(struct xt_setup_response *r, __u32 mode, const char *key_id,
			    const __u8 token[64], const __u8 client_iv[16]);

/* The clear part of Server-Start (octets 0..31). */
struct cc_server_start {
	__u8 accept;
	__u8 server_iv[16];
};
void cc_parse_server_start(const struct xt_server_start *m, struct cc_server_start *out);

/* A session to request.  Addresses are in network order, IPv4 in octets 0..3. */
struct cc_session_params {
	__u8 ipvn; /* 4 or 6 */
	__u8 sender_addr[16];
	__u8 receiver_addr[16];
	__u16 sender_port;   /* host order */
	__u16 receiver_port; /* host order */
	__u32 padding_length;
	__u64 start_time_ntp;	      /* NTP64: 0 or a past time = when Start-Sessions arrives */
	__u64 timeout_ns;	      /* reflect this long after Stop-Sessions */
	__u8 dscp;		      /* Type-P Descriptor, DSCP form (RFC 4656 §3.5) */
	__u16 octets_to_reflect;      /* RFC 6038, only with XT_MODE_REFLECT_OCTETS */
	__u16 padding_to_reflect_len; /* RFC 6038, only with XT_MODE_REFLECT_OCTETS */
};

/* Fill ipvn and the two addresses (and ports) from socket addresses of one family. */
int cc_params_set_endpoints(struct cc_session_params *p, const struct sockaddr_storage *sender,
			    const struct sockaddr_storage *receiver);

/* A duration as a TWAMP Timeout (RFC 5357 §3.5: seconds . 2^-32 s, not a date). */
__u64 cc_ns_to_ntp_interval(__u64 ns);

/* Request-TW-Session with a zero SID and zero HMAC; mode decides the RFC 6038 octets. */
void cc_build_request_session(struct xt_request_tw_session *m, const struct cc_session_params *p,
			      __u32 mode);

struct cc_accept {
	__u8 accept;
	__u16 port; /* host order */
	__u8 sid[XT_SID_LEN];
	__u16 reflected_octets; /* RFC 6038 */
	__u16 server_octets;	/* RFC 6038 */
};
void cc_parse_accept_session(const struct xt_accept_session *m, struct cc_accept *out);

void cc_build_start_sessions(struct xt_start_sessions *m);
void cc_build_stop_sessions(struct xt_stop_sessions *m, __u8 accept, __u32 nsessions);

/*
 * Start-N-Sessions (cmd 7) or Stop-N-Sessions (cmd 9), RFC 5938 §3.2/§3.4:
 * header, n SIDs, a zero HMAC block.  Returns the length (32 + 16 n) or
 * -ENOSPC / -EINVAL (n == 0).
 */
int cc_build_n_sessions(void *buf, size_t buflen, __u8 command, const __u8 (*sids)[XT_SID_LEN],
			__u32 n);

/* ---- the connection ------------------------------------------------------ */

struct cc_config {
	const __u32 *modes; /* security modes in order of preference */
	size_t n_modes;
	__u32 features;	      /* XT_MODE_INDIVIDUAL_SESSIONS etc.; the server must offer each */
	const char *identity; /* KeyID; needed for the keyed modes */
	const __u8 *secret;
	size_t secret_len;
	unsigned max_count_exponent;
	int timeout_ms; /* bound on each control message */
};

struct cc_conn {
	int fd;
	int timeout_ms;
	__u32 offered; /* Server-Greeting Modes */
	__u32 mode;    /* what we chose: one security bit and the features */
	bool cipher;   /* control stream encrypted (authenticated/encrypted/mixed) */
	__u8 aes_key[TW_AES_KEY_LEN];
	__u8 hmac_key[TW_HMAC_KEY_LEN];
	struct tw_cbc_stream tx, rx;
	struct tw_hmac tx_mac, rx_mac;
	bool rx_ready; /* rx stream set up (after an accepting Server-Start) */
	__u64 server_start_ntp;
	__u32 accepted;	 /* sessions accepted on this connection */
	__u32 running;	 /* started and not stopped (Stop-Sessions' N) */
	int last_accept; /* the last non-zero Accept received, -1 if none */
	char err[CC_ERR_LEN];
};

/*
 * Greeting, Set-Up-Response, Server-Start on the connected socket fd (not
 * owned: the caller closes it).  On a refusal (no acceptable mode, Count too
 * large) a Set-Up-Response with Mode 0 is sent first, so the server sees a
 * client quitting rather than a dropped connection.  cc_close() is needed
 * after any return.
 */
int cc_open(struct cc_conn *c, int fd, const struct cc_config *cfg);

/* Request-TW-Session -> Accept-Session.  Accept != 0 is -EACCES with a->accept set. */
int cc_request_session(struct cc_conn *c, const struct cc_session_params *p, struct cc_accept *a);

/* Start-Sessions -> Start-Ack (not in Individual Session Control mode). */
int cc_start_sessions(struct cc_conn *c);
/* Stop-Sessions with Number of Sessions = c->running; the server does not answer. */
int cc_stop_sessions(struct cc_conn *c, __u8 accept);

/*
 * RFC 5938: Start-N-Sessions / Stop-N-Sessions for n SIDs, then read the
 * acks (one or more, grouped by Accept value) until every SID has one;
 * accepts[i] gets the Accept for sids[i].  Returns 0 when all were
 * accepted, -EACCES when some were not (c->err names the first).
 */
int cc_start_n_sessions(struct cc_conn *c, const __u8 (*sids)[XT_SID_LEN], __u32 n, __u8 *accepts);
int cc_stop_n_sessions(struct cc_conn *c, const __u8 (*sids)[XT_SID_LEN], __u32 n, __u8 *accepts);

/* TWAMP-Test keys of a session (keyed test modes only). */
int cc_test_keys(const struct cc_conn *c, const __u8 sid[XT_SID_LEN], struct tw_test_keys *k);

/* The security bit of the chosen mode, and whether test packets carry crypto. */
__u32 cc_security_mode(const struct cc_conn *c);
bool cc_test_keyed(const struct cc_conn *c);

/* Free the crypto state and wipe the keys (the fd stays open). */
void cc_close(struct cc_conn *c);

#endif /* XTWAMP_CONTROL_CLIENT_H */
