// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * control_client.c - see control_client.h.  The pure message layer comes
 * first, then the connection: blocking socket I/O bounded by poll(), the
 * control-stream cipher and the running HMACs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>

#include "control_client.h"

/* ---- names -------------------------------------------------------------- */

const char *cc_mode_name(__u32 mode)
{
	switch (mode & XT_MODE_SECURITY_MASK) {
	case XT_MODE_UNAUTHENTICATED:
		return "unauthenticated";
	case XT_MODE_AUTHENTICATED:
		return "authenticated";
	case XT_MODE_ENCRYPTED:
		return "encrypted";
	case XT_MODE_MIXED:
		return "mixed";
	default:
		return "none";
	}
}

const char *cc_accept_str(unsigned accept)
{
	/* RFC 4656 §3.3; any other value MUST be treated as 1 (failure). */
	static const char *const names[] = {
		[XT_ACCEPT_OK] = "OK",
		[XT_ACCEPT_FAILURE] = "failure",
		[XT_ACCEPT_INTERNAL_ERROR] = "internal error",
		[XT_ACCEPT_NOT_SUPPORTED] = "not supported",
		[XT_ACCEPT_PERMANENT_LIMIT] = "permanent resource limit",
		[XT_ACCEPT_TEMPORARY_LIMIT] = "temporary resource limit",
	};

	if (accept < sizeof(names) / sizeof(names[0]))
		return names[accept];
	return "unknown value, taken as failure";
}

struct mode_word {
	const char *name;
	__u32 mode;
};

static const struct mode_word mode_words[] = {
	{ "unauthenticated", XT_MODE_UNAUTHENTICATED },
	{ "unauth", XT_MODE_UNAUTHENTICATED },
	{ "open", XT_MODE_UNAUTHENTICATED },
	{ "authenticated", XT_MODE_AUTHENTICATED },
	{ "auth", XT_MODE_AUTHENTICATED },
	{ "encrypted", XT_MODE_ENCRYPTED },
	{ "mixed", XT_MODE_MIXED },
};

static __u32 mode_letter(char ch)
{
	switch (ch) {
	case 'o':
	case 'O':
		return XT_MODE_UNAUTHENTICATED;
	case 'a':
	case 'A':
		return XT_MODE_AUTHENTICATED;
	case 'e':
	case 'E':
		return XT_MODE_ENCRYPTED;
	case 'm':
	case 'M':
		return XT_MODE_MIXED;
	default:
		return 0;
	}
}

static int add_mode(__u32 mode, __u32 *modes, size_t *n, char *err, size_t errlen)
{
	for (size_t i = 0; i < *n; i++) {
		if (modes[i] == mode) {
			snprintf(err, errlen, "mode '%s' given twice", cc_mode_name(mode));
			return -EINVAL;
		}
	}
	/* Four distinct modes exist, so a fifth would have been a duplicate. */
	modes[(*n)++] = mode;
	return 0;
}

int cc_parse_modes(const char *text, __u32 modes[CC_MAX_MODES], size_t *n, char *err, size_t errlen)
{
	const char *p = text;
	int ret;

	*n = 0;
	while (*p) {
		size_t len = strcspn(p, ", ");
		__u32 mode = 0;
		size_t k;

		if (len == 0) {
			p++;
			continue;
		}
		for (k = 0; k < sizeof(mode_words) / sizeof(mode_words[0]); k++)
			if (strlen(mode_words[k].name) == len &&
			    !strncasecmp(mode_words[k].name, p, len))
				mode = mode_words[k].mode;
		if (mode) {
			ret = add_mode(mode, modes, n, err, errlen);
			if (ret)
				return ret;
		} else {
			/* twping style: one letter per mode, "AEO" */
			for (k = 0; k < len; k++) {
				if (!mode_letter(p[k])) {
					snprintf(
						err, errlen,
						"unknown mode '%.*s': use unauthenticated, authenticated, encrypted, mixed (or O, A, E, M)",
						(int)len, p);
					return -EINVAL;
				}
			}
			for (k = 0; k < len; k++) {
				ret = add_mode(mode_letter(p[k]), modes, n, err, errlen);
				if (ret)
					return ret;
			}
		}
		p += len;
	}
	if (*n == 0) {
		snprintf(err, errlen, "no mode given");
		return -EINVAL;
	}
	return 0;
}

/* ---- pure message layer -------------------------------------------------- */

static __u64 load_ntp(const struct xt_ntp_ts *ts)
{
	return ((__u64)ntohl(ts->sec) << 32) | ntohl(ts->frac);
}

static void store_ntp(struct xt_ntp_ts *ts, __u64 v)
{
	ts->sec = htonl((__u32)(v >> 32));
	ts->frac = htonl((__u32)v);
}

int cc_parse_greeting(const void *buf, size_t len, unsigned max_count_exp, struct cc_greeting *g,
		      char *err, size_t errlen)
{
	const struct xt_server_greeting *m = buf;

	memset(g, 0, sizeof(*g));
	if (len < sizeof(*m)) {
		snprintf(err, errlen, "Server-Greeting: %zu octets, expected %zu", len, sizeof(*m));
		return -EPROTO;
	}
	g->modes = ntohl(m->modes);
	memcpy(g->challenge, m->challenge, sizeof(g->challenge));
	memcpy(g->salt, m->salt, sizeof(g->salt));
	g->count = ntohl(m->count);
	/* RFC 4656 §3.1: Modes 0 means the server will not serve this client. */
	if (!(g->modes & XT_MODE_SECURITY_MASK)) {
		snprintf(err, errlen,
			 "server refused: its Server-Greeting offers no mode (Modes 0x%x)",
			 g->modes);
		return -ECONNREFUSED;
	}
	if (max_count_exp > CC_MAX_COUNT_EXP_MAX)
		max_count_exp = CC_MAX_COUNT_EXP_MAX;
	if ((__u64)g->count > (1ULL << max_count_exp)) {
		snprintf(
			err, errlen,
			"Server-Greeting: Count %u exceeds the limit 2^%u = %llu (RFC 5357 §6; raise it with --max-count-exponent)",
			g->count, max_count_exp, 1ULL << max_count_exp);
		return -E2BIG;
	}
	return 0;
}

int cc_check_count(__u32 count, char *err, size_t errlen)
{
	if (count < XT_MIN_COUNT || (count & (count - 1))) {
		snprintf(
			err, errlen,
			"Server-Greeting: Count %u is not a power of 2 of at least %u (RFC 4656 §3.1)",
			count, XT_MIN_COUNT);
		return -EPROTO;
	}
	return 0;
}

__u32 cc_choose_mode(__u32 offered, const __u32 *prefs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (prefs[i] & offered & XT_MODE_SECURITY_MASK)
			return prefs[i] & XT_MODE_SECURITY_MASK;
	return 0;
}

int cc_make_token(const void *secret, size_t secret_len, const struct cc_greeting *g,
		  const __u8 aes_key[TW_AES_KEY_LEN], const __u8 hmac_key[TW_HMAC_KEY_LEN],
		  __u8 token[64])
{
	__u8 k[TW_AES_KEY_LEN], plain[64];
	int ret;

	ret = tw_derive_key(secret, secret_len, g->salt, g->count, k);
	if (!ret) {
		memcpy(plain, g->challenge, 16);
		memcpy(plain + 16, aes_key, TW_AES_KEY_LEN);
		memcpy(plain + 32, hmac_key, TW_HMAC_KEY_LEN);
		ret = tw_token_encrypt(k, plain, token);
	}
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(plain, sizeof(plain));
	return ret;
}

int cc_build_setup_response(struct xt_setup_response *r, __u32 mode, const char *key_id,
			    const __u8 token[64], const __u8 client_iv[16])
{
	size_t idlen = key_id ? strlen(key_id) : 0;

	memset(r, 0, sizeof(*r));
	if (idlen > XT_KEYID_LEN)
		return -EINVAL;
	r->mode = htonl(mode);
	/* Unauthenticated: KeyID, Token and Client-IV are unused and sent as zeros. */
	if (!key_id)
		return 0;
	memcpy(r->key_id, key_id, idlen); /* NUL padded to 80 octets */
	if (token)
		memcpy(r->token, token, sizeof(r->token));
	if (client_iv)
		memcpy(r->client_iv, client_iv, sizeof(r->client_iv));
	return 0;
}

void cc_parse_server_start(const struct xt_server_start *m, struct cc_server_start *out)
{
	out->accept = m->accept;
	memcpy(out->server_iv, m->server_iv, sizeof(out->server_iv));
}

static int set_endpoint(const struct sockaddr_storage *ss, __u8 addr[16], __u16 *port)
{
	memset(addr, 0, 16);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		memcpy(addr, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
		return 4;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		memcpy(addr, &sin6->sin6_addr, 16);
		*port = ntohs(sin6->sin6_port);
		return 6;
	}
	return -EAFNOSUPPORT;
}

int cc_params_set_endpoints(struct cc_session_params *p, const struct sockaddr_storage *sender,
			    const struct sockaddr_storage *receiver)
{
	int vs = set_endpoint(sender, p->sender_addr, &p->sender_port);
	int vr = set_endpoint(receiver, p->receiver_addr, &p->receiver_port);

	if (vs < 0 || vr < 0)
		return -EAFNOSUPPORT;
	if (vs != vr)
		return -EINVAL;
	p->ipvn = (__u8)vs;
	return 0;
}

__u64 cc_ns_to_ntp_interval(__u64 ns)
{
	__u64 sec = ns / XT_NSEC_PER_SEC, nsec = ns % XT_NSEC_PER_SEC;

	if (sec > 0xffffffffULL)
		return ~0ULL;
	return (sec << 32) | (((nsec << 32) + XT_NSEC_PER_SEC / 2) / XT_NSEC_PER_SEC);
}

void cc_build_request_session(struct xt_request_tw_session *m, const struct cc_session_params *p,
			      __u32 mode)
{
	memset(m, 0, sizeof(*m));
	m->command = XT_CMD_REQUEST_TW_SESSION;
	/* MBZ high nibble, IPVN low; Conf-Sender/Receiver, slots, packets are 0 in TWAMP */
	m->ipvn = p->ipvn & 0x0f;
	m->sender_port = htons(p->sender_port);
	m->receiver_port = htons(p->receiver_port);
	memcpy(m->sender_address, p->sender_addr, 16);
	memcpy(m->receiver_address, p->receiver_addr, 16);
	/* SID: MUST be zero, the server assigns it (RFC 5357 §3.5). */
	m->padding_length = htonl(p->padding_length);
	store_ntp(&m->start_time, p->start_time_ntp);
	store_ntp(&m->timeout, cc_ns_to_ntp_interval(p->timeout_ns));
	/* RFC 4656 §3.5 Type-P, DSCP form: bits 0-1 zero, bits 2-7 the DSCP. */
	m->type_p = htonl((__u32)(p->dscp & 0x3f) << 24);
	if (mode & XT_MODE_REFLECT_OCTETS) {
		m->octets_to_reflect = htons(p->octets_to_reflect);
		m->padding_to_reflect_len = htons(p->padding_to_reflect_len);
	}
}

void cc_parse_accept_session(const struct xt_accept_session *m, struct cc_accept *out)
{
	memset(out, 0, sizeof(*out));
	out->accept = m->accept;
	out->port = ntohs(m->port);
	memcpy(out->sid, m->sid, XT_SID_LEN);
	out->reflected_octets = ntohs(m->reflected_octets);
	out->server_octets = ntohs(m->server_octets);
}

void cc_build_start_sessions(struct xt_start_sessions *m)
{
	memset(m, 0, sizeof(*m));
	m->command = XT_CMD_START_SESSIONS;
}

void cc_build_stop_sessions(struct xt_stop_sessions *m, __u8 accept, __u32 nsessions)
{
	memset(m, 0, sizeof(*m));
	m->command = XT_CMD_STOP_SESSIONS;
	m->accept = accept;
	m->number_of_sessions = htonl(nsessions);
}

int cc_build_n_sessions(void *buf, size_t buflen, __u8 command, const __u8 (*sids)[XT_SID_LEN],
			__u32 n)
{
	struct xt_n_sessions_header *h = buf;
	size_t len = sizeof(*h) + (size_t)n * XT_SID_LEN + XT_HMAC_LEN;

	if (n == 0)
		return -EINVAL;
	if (len > buflen || len > (size_t)0x7fffffff)
		return -ENOSPC;
	memset(buf, 0, len);
	h->command = command;
	h->number_of_sessions = htonl(n);
	memcpy((__u8 *)buf + sizeof(*h), sids, (size_t)n * XT_SID_LEN);
	return (int)len;
}

/* ---- the connection: errors and socket I/O ------------------------------- */

static int fail(struct cc_conn *c, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct cc_conn *c, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return ret;
}

/* Describe a socket error while doing step ("waiting for Accept-Session"). */
static int fail_io(struct cc_conn *c, int ret, const char *step)
{
	if (ret == -ETIMEDOUT)
		return fail(c, ret, "no answer from the server within %d.%03d s %s",
			    c->timeout_ms / 1000, c->timeout_ms % 1000, step);
	if (ret == -ECONNABORTED)
		return fail(c, ret, "the server closed the connection %s", step);
	return fail(c, ret, "connection error %s: %s", step, strerror(-ret));
}

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n;

	do
		n = poll(&pfd, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	return 0;
}

static int write_all(struct cc_conn *c, const void *buf, size_t len)
{
	const __u8 *p = buf;

	while (len) {
		ssize_t n;
		int ret = wait_fd(c->fd, POLLOUT, c->timeout_ms);

		if (ret)
			return ret;
		/* MSG_NOSIGNAL: a server that went away is an error here, not SIGPIPE. */
		n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_exact(struct cc_conn *c, void *buf, size_t len)
{
	__u8 *p = buf;

	while (len) {
		ssize_t n;
		int ret = wait_fd(c->fd, POLLIN, c->timeout_ms);

		if (ret)
			return ret;
		n = recv(c->fd, p, len, MSG_DONTWAIT);
		if (n == 0)
			return -ECONNABORTED;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Send one command whose last 16 octets are its HMAC.  Keyed modes: the
 * HMAC covers, in plaintext, everything sent since our previous HMAC (RFC
 * 4656 §3.2) - for a client that is exactly this message - and then the
 * whole message, HMAC included, continues the CBC stream.  Unauthenticated:
 * the HMAC field is zero.  msg is scrambled in the keyed modes.
 */
static int send_cmd(struct cc_conn *c, __u8 *msg, size_t len, const char *what)
{
	char step[80];
	int ret;

	if (c->cipher) {
		ret = tw_hmac_add(&c->tx_mac, msg, len - XT_HMAC_LEN);
		if (!ret)
			ret = tw_hmac_final(&c->tx_mac, msg + len - XT_HMAC_LEN);
		if (!ret)
			ret = tw_stream_update(&c->tx, msg, msg, len);
		if (ret)
			return fail(c, ret, "%s: cannot seal the message: %s", what,
				    strerror(-ret));
	}
	ret = write_all(c, msg, len);
	if (ret) {
		snprintf(step, sizeof(step), "sending %s", what);
		return fail_io(c, ret, step);
	}
	return 0;
}

/* Read len octets of the server's stream, decrypted, and add them to its HMAC span. */
static int recv_part(struct cc_conn *c, void *buf, size_t len, const char *what)
{
	char step[80];
	int ret = read_exact(c, buf, len);

	if (ret) {
		snprintf(step, sizeof(step), "while waiting for %s", what);
		return fail_io(c, ret, step);
	}
	if (!c->cipher)
		return 0;
	ret = tw_stream_update(&c->rx, buf, buf, len);
	if (!ret)
		ret = tw_hmac_add(&c->rx_mac, buf, len);
	if (ret)
		return fail(c, ret, "%s: cannot decrypt: %s", what, strerror(-ret));
	return 0;
}

/* Read the HMAC block that ends a server message and verify it. */
static int recv_hmac(struct cc_conn *c, const char *what)
{
	__u8 mac[XT_HMAC_LEN];
	char step[80];
	int ret = read_exact(c, mac, sizeof(mac));

	if (ret) {
		snprintf(step, sizeof(step), "while waiting for %s", what);
		return fail_io(c, ret, step);
	}
	if (!c->cipher)
		return 0; /* unused, MBZ: ignored */
	ret = tw_stream_update(&c->rx, mac, mac, sizeof(mac));
	if (!ret)
		ret = tw_hmac_verify(&c->rx_mac, mac);
	if (ret == -EBADMSG)
		return fail(c, ret,
			    "%s: HMAC does not verify (wrong key or tampered stream); closing",
			    what);
	if (ret)
		return fail(c, ret, "%s: cannot verify the HMAC: %s", what, strerror(-ret));
	return 0;
}

/* A whole fixed-size server message: body, then the HMAC block. */
static int recv_msg(struct cc_conn *c, void *buf, size_t len, const char *what)
{
	int ret = recv_part(c, buf, len - XT_HMAC_LEN, what);

	if (ret)
		return ret;
	return recv_hmac(c, what);
}

/* ---- the connection: the exchange ---------------------------------------- */

__u32 cc_security_mode(const struct cc_conn *c)
{
	return c->mode & XT_MODE_SECURITY_MASK;
}

bool cc_test_keyed(const struct cc_conn *c)
{
	return (c->mode & XT_MODE_TEST_CIPHER) != 0;
}

static const char *mode_list(__u32 modes, char *buf, size_t len)
{
	static const __u32 all[] = { XT_MODE_UNAUTHENTICATED, XT_MODE_AUTHENTICATED,
				     XT_MODE_ENCRYPTED, XT_MODE_MIXED };
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (modes & all[i])
			off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s",
						off ? ", " : "", cc_mode_name(all[i]));
	if (!off)
		snprintf(buf, len, "none");
	return buf;
}

/* "I am quitting" (RFC 4656 §3.1): Mode 0, nothing else. */
static void send_quit(struct cc_conn *c)
{
	struct xt_setup_response r;

	cc_build_setup_response(&r, 0, NULL, NULL, NULL);
	write_all(c, &r, sizeof(r)); /* best effort: we are closing anyway */
}

static int open_keys(struct cc_conn *c, const struct cc_config *cfg, const struct cc_greeting *g,
		     struct xt_setup_response *r)
{
	__u8 token[64], iv[16];
	int ret;

	if (!cfg->identity || !cfg->secret)
		return fail(c, -EINVAL, "mode %s needs an identity and a secret",
			    cc_mode_name(c->mode));
	if (strlen(cfg->identity) > XT_KEYID_LEN)
		return fail(c, -EINVAL, "identity longer than %d octets", XT_KEYID_LEN);
	ret = cc_check_count(g->count, c->err, sizeof(c->err));
	if (ret)
		return ret;
	/* Fresh, independent session keys and Client-IV (RFC 4656 §3.1). */
	ret = tw_random(c->aes_key, sizeof(c->aes_key));
	if (!ret)
		ret = tw_random(c->hmac_key, sizeof(c->hmac_key));
	if (!ret)
		ret = tw_random(iv, sizeof(iv));
	if (ret)
		return fail(c, ret, "no random numbers: %s", strerror(-ret));
	ret = cc_make_token(cfg->secret, cfg->secret_len, g, c->aes_key, c->hmac_key, token);
	if (ret)
		return fail(c, ret, "Set-Up-Response: cannot compute the Token: %s",
			    strerror(-ret));
	ret = cc_build_setup_response(r, c->mode, cfg->identity, token, iv);
	OPENSSL_cleanse(token, sizeof(token));
	if (!ret)
		ret = tw_stream_init(&c->tx, c->aes_key, iv, true);
	if (!ret)
		ret = tw_hmac_init(&c->tx_mac, c->hmac_key);
	if (!ret)
		ret = tw_hmac_init(&c->rx_mac, c->hmac_key);
	if (ret)
		return fail(c, ret, "cannot set up the control-stream crypto: %s", strerror(-ret));
	return 0;
}

static int read_server_start(struct cc_conn *c, const struct cc_config *cfg)
{
	struct xt_server_start m;
	struct cc_server_start ss;
	int ret = read_exact(c, &m, sizeof(m));

	if (ret) {
		if (c->cipher && ret == -ECONNABORTED)
			return fail(
				c, -EACCES,
				"authentication failed: the server closed the connection instead of sending Server-Start (identity '%s')",
				cfg->identity);
		return fail_io(c, ret, "while waiting for Server-Start");
	}
	cc_parse_server_start(&m, &ss);
	if (ss.accept != XT_ACCEPT_OK) {
		c->last_accept = ss.accept;
		/* Everything stays clear when Accept != 0 (RFC 4656 §3.1). */
		if (c->cipher)
			return fail(
				c, -EACCES,
				"authentication failed: Server-Start Accept %u (%s): the server did not accept identity '%s' with this secret in %s mode",
				ss.accept, cc_accept_str(ss.accept), cfg->identity,
				cc_mode_name(c->mode));
		return fail(c, -EACCES,
			    "server refused the connection: Server-Start Accept %u (%s)", ss.accept,
			    cc_accept_str(ss.accept));
	}
	if (c->cipher) {
		/*
		 * Octets 32..47 open the server's CBC stream (IV = Server-IV) and
		 * open its first HMAC span too: the first Accept-Session's HMAC
		 * covers them (RFC 5357 §3.2).
		 */
		ret = tw_stream_init(&c->rx, c->aes_key, ss.server_iv, false);
		if (ret)
			return fail(c, ret, "cannot set up the control-stream crypto: %s",
				    strerror(-ret));
		c->rx_ready = true;
		__u8 *blk = (__u8 *)&m + XT_OFF(xt_server_start, start_time);

		ret = tw_stream_update(&c->rx, blk, blk, XT_BLOCK);
		if (!ret)
			ret = tw_hmac_add(&c->rx_mac, blk, XT_BLOCK);
		if (ret)
			return fail(c, ret, "Server-Start: cannot decrypt: %s", strerror(-ret));
	}
	c->server_start_ntp = load_ntp(&m.start_time);
	return 0;
}

int cc_open(struct cc_conn *c, int fd, const struct cc_config *cfg)
{
	struct xt_server_greeting gm;
	struct xt_setup_response r;
	struct cc_greeting g;
	char offered[96];
	__u32 sec;
	int ret;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 10000;
	c->last_accept = -1;

	ret = read_exact(c, &gm, sizeof(gm));
	if (ret)
		return fail_io(c, ret, "while waiting for Server-Greeting");
	ret = cc_parse_greeting(&gm, sizeof(gm), cfg->max_count_exponent, &g, c->err,
				sizeof(c->err));
	c->offered = g.modes;
	if (ret == -E2BIG)
		send_quit(c);
	if (ret)
		return ret;

	sec = cc_choose_mode(g.modes, cfg->modes, cfg->n_modes);
	if (!sec) {
		char wanted[96];
		__u32 w = 0;

		for (size_t i = 0; i < cfg->n_modes; i++)
			w |= cfg->modes[i];
		send_quit(c);
		return fail(c, -ECONNREFUSED,
			    "server refused the mode: it offers %s; we asked for %s (-A)",
			    mode_list(g.modes, offered, sizeof(offered)),
			    mode_list(w, wanted, sizeof(wanted)));
	}
	if ((cfg->features & g.modes) != cfg->features) {
		__u32 missing = cfg->features & ~g.modes;

		send_quit(c);
		return fail(c, -ECONNREFUSED, "the server does not offer %s (Modes 0x%x)",
			    missing & XT_MODE_INDIVIDUAL_SESSIONS ?
				    "Individual Session Control (RFC 5938)" :
			    missing & XT_MODE_REFLECT_OCTETS   ? "Reflect Octets (RFC 6038)" :
			    missing & XT_MODE_SYMMETRICAL_SIZE ? "Symmetrical Size (RFC 6038)" :
								 "a requested feature",
			    g.modes);
	}
	c->mode = sec | cfg->features;
	c->cipher = (sec & XT_MODE_CONTROL_CIPHER) != 0;

	if (c->cipher) {
		ret = open_keys(c, cfg, &g, &r);
		if (ret) {
			send_quit(c);
			return ret;
		}
	} else {
		cc_build_setup_response(&r, c->mode, NULL, NULL, NULL);
	}
	ret = write_all(c, &r, sizeof(r));
	OPENSSL_cleanse(&r, sizeof(r));
	if (ret)
		return fail_io(c, ret, "sending Set-Up-Response");
	return read_server_start(c, cfg);
}

int cc_request_session(struct cc_conn *c, const struct cc_session_params *p, struct cc_accept *a)
{
	struct xt_request_tw_session req;
	struct xt_accept_session acc;
	int ret;

	memset(a, 0, sizeof(*a));
	cc_build_request_session(&req, p, c->mode);
	ret = send_cmd(c, (__u8 *)&req, sizeof(req), "Request-TW-Session");
	if (ret)
		return ret;
	ret = recv_msg(c, &acc, sizeof(acc), "Accept-Session");
	if (ret)
		return ret;
	cc_parse_accept_session(&acc, a);
	if (a->accept != XT_ACCEPT_OK) {
		c->last_accept = a->accept;
		return fail(c, -EACCES, "session refused: Accept %u (%s)", a->accept,
			    cc_accept_str(a->accept));
	}
	if (a->port == 0)
		return fail(c, -EPROTO, "Accept-Session: Accept 0 but Port 0");
	if ((c->mode & XT_MODE_REFLECT_OCTETS) && a->reflected_octets != p->octets_to_reflect)
		return fail(
			c, -EPROTO,
			"Accept-Session: Reflected octets 0x%04x, not the 0x%04x we sent (RFC 6038 §4.3)",
			a->reflected_octets, p->octets_to_reflect);
	c->accepted++;
	return 0;
}

int cc_start_sessions(struct cc_conn *c)
{
	struct xt_start_sessions m;
	struct xt_start_ack ack;
	int ret;

	if (c->mode & XT_MODE_INDIVIDUAL_SESSIONS)
		return fail(
			c, -EINVAL,
			"Start-Sessions is not allowed in Individual Session Control mode (RFC 5938 §3.1)");
	cc_build_start_sessions(&m);
	ret = send_cmd(c, (__u8 *)&m, sizeof(m), "Start-Sessions");
	if (ret)
		return ret;
	ret = recv_msg(c, &ack, sizeof(ack), "Start-Ack");
	if (ret)
		return ret;
	if (ack.accept != XT_ACCEPT_OK) {
		c->last_accept = ack.accept;
		return fail(c, -EACCES, "Start-Sessions refused: Start-Ack Accept %u (%s)",
			    ack.accept, cc_accept_str(ack.accept));
	}
	c->running = c->accepted;
	return 0;
}

int cc_stop_sessions(struct cc_conn *c, __u8 accept)
{
	struct xt_stop_sessions m;
	int ret;

	if (c->mode & XT_MODE_INDIVIDUAL_SESSIONS)
		return fail(
			c, -EINVAL,
			"Stop-Sessions is not allowed in Individual Session Control mode (RFC 5938 §3.1)");
	/* N must be exactly the sessions started and not stopped (RFC 5357 §3.8). */
	cc_build_stop_sessions(&m, accept, c->running);
	ret = send_cmd(c, (__u8 *)&m, sizeof(m), "Stop-Sessions");
	if (!ret)
		c->running = 0;
	return ret;
}

/* Read one Start-N-Ack / Stop-N-Ack and record its Accept for each SID it names. */
static int read_one_ack(struct cc_conn *c, __u8 ack_cmd, const char *what,
			const __u8 (*sids)[XT_SID_LEN], __u32 n, __u8 *accepts, bool *done,
			__u32 *answered, __u32 *good, int *first_bad)
{
	struct xt_n_sessions_header h;
	__u32 k;
	int ret = recv_part(c, &h, sizeof(h), what);

	if (ret)
		return ret;
	k = ntohl(h.number_of_sessions);
	if (h.command != ack_cmd)
		return fail(c, -EPROTO, "%s: got command %u instead", what, h.command);
	if (k == 0 || k > n - *answered)
		return fail(c, -EPROTO, "%s: Number of Sessions %u, but %u SIDs are unanswered",
			    what, k, n - *answered);
	for (__u32 i = 0; i < k; i++) {
		__u8 sid[XT_SID_LEN];
		__u32 j;

		ret = recv_part(c, sid, sizeof(sid), what);
		if (ret)
			return ret;
		for (j = 0; j < n; j++)
			if (!done[j] && !memcmp(sids[j], sid, XT_SID_LEN))
				break;
		if (j == n)
			return fail(c, -EPROTO, "%s: a SID we did not ask about (or twice)", what);
		done[j] = true;
		accepts[j] = h.accept;
		if (h.accept == XT_ACCEPT_OK)
			(*good)++;
		else if (*first_bad < 0)
			*first_bad = (int)j;
	}
	ret = recv_hmac(c, what);
	if (!ret)
		*answered += k;
	return ret;
}

/*
 * Read acks until each of sids[] has its Accept: the server may split them
 * over several acks, one per Accept value (RFC 5938 §3.3).
 */
static int read_n_acks(struct cc_conn *c, __u8 ack_cmd, const char *what,
		       const __u8 (*sids)[XT_SID_LEN], __u32 n, __u8 *accepts)
{
	__u32 answered = 0, good = 0;
	int first_bad = -1, ret = 0;
	bool *done = calloc(n, sizeof(*done));

	if (!done)
		return fail(c, -ENOMEM, "%s: out of memory", what);
	while (answered < n && !ret)
		ret = read_one_ack(c, ack_cmd, what, sids, n, accepts, done, &answered, &good,
				   &first_bad);
	free(done);
	if (ret)
		return ret;
	if (first_bad >= 0) {
		c->last_accept = accepts[first_bad];
		return fail(c, -EACCES, "%s: %u of %u sessions refused, session %d: Accept %u (%s)",
			    what, n - good, n, first_bad + 1, accepts[first_bad],
			    cc_accept_str(accepts[first_bad]));
	}
	return 0;
}

static int n_command(struct cc_conn *c, __u8 cmd, __u8 ack_cmd, const char *what,
		     const char *ack_what, const __u8 (*sids)[XT_SID_LEN], __u32 n, __u8 *accepts)
{
	size_t len = sizeof(struct xt_n_sessions_header) + (size_t)n * XT_SID_LEN + XT_HMAC_LEN;
	__u8 *buf;
	int ret;

	if (!(c->mode & XT_MODE_INDIVIDUAL_SESSIONS))
		return fail(c, -EINVAL, "%s needs Individual Session Control mode (RFC 5938)",
			    what);
	if (n == 0 || n > 65536)
		return fail(c, -EINVAL, "%s: %u sessions", what, n);
	buf = malloc(len);
	if (!buf)
		return fail(c, -ENOMEM, "%s: out of memory", what);
	ret = cc_build_n_sessions(buf, len, cmd, sids, n);
	if (ret >= 0)
		ret = send_cmd(c, buf, len, what);
	free(buf);
	if (ret)
		return ret;
	return read_n_acks(c, ack_cmd, ack_what, sids, n, accepts);
}

int cc_start_n_sessions(struct cc_conn *c, const __u8 (*sids)[XT_SID_LEN], __u32 n, __u8 *accepts)
{
	int ret = n_command(c, XT_CMD_START_N_SESSIONS, XT_CMD_START_N_ACK, "Start-N-Sessions",
			    "Start-N-Ack", sids, n, accepts);

	for (__u32 i = 0; i < n && (ret == 0 || ret == -EACCES); i++)
		if (accepts[i] == XT_ACCEPT_OK)
			c->running++;
	return ret;
}

int cc_stop_n_sessions(struct cc_conn *c, const __u8 (*sids)[XT_SID_LEN], __u32 n, __u8 *accepts)
{
	int ret = n_command(c, XT_CMD_STOP_N_SESSIONS, XT_CMD_STOP_N_ACK, "Stop-N-Sessions",
			    "Stop-N-Ack", sids, n, accepts);

	for (__u32 i = 0; i < n && (ret == 0 || ret == -EACCES); i++)
		if (accepts[i] == XT_ACCEPT_OK && c->running)
			c->running--;
	return ret;
}

int cc_test_keys(const struct cc_conn *c, const __u8 sid[XT_SID_LEN], struct tw_test_keys *k)
{
	if (!cc_test_keyed(c))
		return -EINVAL;
	return tw_test_keys_derive(sid, c->aes_key, c->hmac_key, k);
}

void cc_close(struct cc_conn *c)
{
	if (c->cipher) {
		tw_stream_free(&c->tx);
		tw_hmac_free(&c->tx_mac);
		tw_hmac_free(&c->rx_mac);
		if (c->rx_ready)
			tw_stream_free(&c->rx);
	}
	c->rx_ready = false;
	c->cipher = false;
	OPENSSL_cleanse(c->aes_key, sizeof(c->aes_key));
	OPENSSL_cleanse(c->hmac_key, sizeof(c->hmac_key));
}
