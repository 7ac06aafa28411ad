// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * control_conn.c - see control_conn.h.
 *
 * The server side of one TWAMP-Control connection:
 *
 *   NEW --start--> SETUP --164 octets--> [DERIVING] --> COMMANDS --> CLOSED
 *
 * DERIVING: with ops->derive_key the PBKDF2 of the keyed modes runs on the
 * owner's worker thread; input that arrives meanwhile is held (the owner
 * stops reading) and processed once the key is there.
 *
 * In COMMANDS the connection reads one 16-octet block, decrypts it (modes
 * 2/4/8), learns the message length from its command number (RFC 4656 §3:
 * "the type of each message can be found after reading the first 16
 * octets"), reads and decrypts the remaining blocks, verifies the HMAC over
 * the plaintext and only then acts (RFC 4656 §3.2).  Blocks are decrypted as
 * they complete, so input may arrive split anywhere.
 *
 * Decisions where the RFCs leave room (each also at its code):
 * - A refused Set-Up-Response answers Server-Start with Accept 3 ("not
 *   supported") for a mode problem and Accept 1 for failed authentication
 *   (RFC 4656 §3.1 only asks for non-zero; §3.3 reserves 3 for "some aspect
 *   of the request is not supported").
 * - An unexpected command number answers Accept-Session with Accept 3 (RFC
 *   5357 §3.5) and then closes: its length is unknown, so the rest of the
 *   stream cannot be parsed.  Commands of the other session-control style
 *   (2/3 with mode 16, 7/9 without, RFC 5938 §3.1) count as unexpected.
 * - Request-TW-Session refusals that the connection decides itself keep the
 *   connection open (RFC 4656 §3.5: the server SHOULD not close).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <openssl/crypto.h>

#include "addr.h"
#include "control_conn.h"

/* IANA TWAMP-Modes bits 0-9 are assigned; a client setting a higher one is ignored there. */
#define CTL_MODES_ASSIGNED 0x3ffU
/* What this connection implements: security modes, RFC 5938 and RFC 6038. */
#define CTL_MODES_IMPLEMENTED                                                           \
	(XT_MODE_SECURITY_MASK | XT_MODE_INDIVIDUAL_SESSIONS | XT_MODE_REFLECT_OCTETS | \
	 XT_MODE_SYMMETRICAL_SIZE)

#define CTL_MAX_MSG \
	(sizeof(struct xt_n_sessions_header) + CTL_MAX_N_SESSIONS * XT_SID_LEN + XT_HMAC_LEN)

enum ctl_state {
	ST_NEW,	     /* greeting not queued yet */
	ST_SETUP,    /* waiting for the Set-Up-Response */
	ST_DERIVING, /* Set-Up-Response received; waiting for ctl_conn_key_derived() */
	ST_COMMANDS, /* set up; reading commands */
	ST_CLOSED,
};

struct ctl_conn {
	struct ctl_conn_config cfg;
	const struct ctl_conn_ops *ops;
	void *owner;
	union xt_addr peer;
	union xt_addr local;
	__u32 modes_offered;
	enum ctl_state state;
	enum ctl_close_reason closed;
	const char *detail;
	__u32 mode;    /* chosen Mode, 0 until the Set-Up-Response is accepted */
	bool cipher;   /* control stream encrypted and HMACed (modes 2, 4, 8) */
	bool active;   /* Start-Sessions accepted, no Stop-Sessions since (not mode 16) */
	__u32 pending; /* sessions accepted since the last accepted Start-Sessions */

	/* ST_DERIVING: the Set-Up-Response, its Mode and its key (NULL: unknown KeyID) */
	struct xt_setup_response setup;
	__u32 setup_mode;
	const struct tw_key *setup_key;

	__u8 challenge[16];
	__u8 salt[16];
	__u8 aes_key[TW_AES_KEY_LEN];
	__u8 hmac_key[TW_HMAC_KEY_LEN];
	struct tw_cbc_stream rx;
	struct tw_cbc_stream tx;
	struct tw_hmac rx_mac;
	struct tw_hmac tx_mac;

	__u8 *out; /* queued output: out[out_head .. out_len) */
	size_t out_head;
	size_t out_len;
	size_t out_cap;

	/* The message being received; in[0 .. in_plain) is decrypted already. */
	size_t in_len;
	size_t in_need;
	size_t in_plain;
	__u8 accepts[CTL_MAX_N_SESSIONS];
	__u8 in[CTL_MAX_MSG];
};

static __u32 sanitize_modes(const struct ctl_conn *c, __u32 modes)
{
	modes &= CTL_MODES_IMPLEMENTED;
	/* No key, no way to authenticate anyone: do not offer it (RFC 4656 §3.1). */
	if (!c->cfg.keys || !c->cfg.keys->n_keys)
		modes &= ~(__u32)XT_MODE_CONTROL_CIPHER;
	if (!(modes & XT_MODE_SECURITY_MASK))
		modes = 0;
	return modes;
}

struct ctl_conn *ctl_conn_new(const struct ctl_conn_config *cfg, const struct ctl_conn_ops *ops,
			      void *owner, const union xt_addr *peer, const union xt_addr *local)
{
	struct ctl_conn *c;

	if (!cfg || !ops || !peer || !local || !ops->request_session || !ops->start_sessions ||
	    !ops->stop_sessions || !ops->running_sessions) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cfg = *cfg;
	c->ops = ops;
	c->owner = owner;
	c->peer = *peer;
	c->local = *local;
	c->modes_offered = sanitize_modes(c, cfg->modes_offered);
	c->detail = "";
	return c;
}

void ctl_conn_set_modes(struct ctl_conn *c, __u32 modes_offered)
{
	if (c->state == ST_NEW)
		c->modes_offered = sanitize_modes(c, modes_offered);
}

/* ---- output ------------------------------------------------------------ */

/* Room for n more octets at the end of the queue, or NULL beyond CTL_OUTPUT_MAX. */
static __u8 *out_reserve(struct ctl_conn *c, size_t n)
{
	size_t queued = c->out_len - c->out_head;
	__u8 *p;

	if (queued + n > CTL_OUTPUT_MAX)
		return NULL;
	if (c->out_len + n > c->out_cap && c->out_head) {
		memmove(c->out, c->out + c->out_head, queued);
		c->out_head = 0;
		c->out_len = queued;
	}
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 256;

		while (cap < c->out_len + n)
			cap *= 2;
		if (cap > CTL_OUTPUT_MAX)
			cap = CTL_OUTPUT_MAX;
		p = realloc(c->out, cap);
		if (!p)
			return NULL;
		c->out = p;
		c->out_cap = cap;
	}
	p = c->out + c->out_len;
	c->out_len += n;
	memset(p, 0, n);
	return p;
}

size_t ctl_conn_output(struct ctl_conn *c, const void **buf)
{
	*buf = c->out + c->out_head;
	return c->out_len - c->out_head;
}

void ctl_conn_output_done(struct ctl_conn *c, size_t n)
{
	size_t queued = c->out_len - c->out_head;

	c->out_head += n < queued ? n : queued;
	if (c->out_head == c->out_len)
		c->out_head = c->out_len = 0;
}

/* ---- closing ----------------------------------------------------------- */

static enum ctl_close_reason conn_close(struct ctl_conn *c, enum ctl_close_reason r,
					const char *detail)
{
	c->state = ST_CLOSED;
	c->closed = r;
	c->detail = detail;
	c->in_len = 0;
	return r;
}

/* An OpenSSL or allocation failure: nothing the client did, but we cannot go on. */
static enum ctl_close_reason internal_error(struct ctl_conn *c, const char *detail)
{
	return conn_close(c, CTL_CLOSE_PROTOCOL, detail);
}

/*
 * A reply queued in place at msg (its last XT_HMAC_LEN octets are the HMAC
 * field): in modes 2/4/8 compute the HMAC over everything sent since the
 * previous one, then encrypt the whole message, HMAC included (RFC 4656 §3.2).
 */
static enum ctl_close_reason seal(struct ctl_conn *c, __u8 *msg, size_t len)
{
	size_t body = len - XT_HMAC_LEN;

	if (!c->cipher)
		return CTL_OPEN;
	if (tw_hmac_add(&c->tx_mac, msg, body) || tw_hmac_final(&c->tx_mac, msg + body) ||
	    tw_stream_update(&c->tx, msg, msg, len))
		return internal_error(c, "internal error: sealing a reply");
	return CTL_OPEN;
}

static enum ctl_close_reason output_full(struct ctl_conn *c)
{
	return conn_close(c, CTL_CLOSE_PROTOCOL, "output queue full: the client does not read");
}

/* ---- connection setup (RFC 4656 §3.1) ------------------------------------ */

int ctl_conn_start(struct ctl_conn *c)
{
	struct xt_server_greeting *g;
	__u32 count = c->cfg.count;

	if (c->state != ST_NEW || count < XT_MIN_COUNT || (count & (count - 1)))
		return -EINVAL;
	/* A fresh Challenge per connection: the server must never reuse one. */
	if (tw_random(c->challenge, sizeof(c->challenge)) || tw_random(c->salt, sizeof(c->salt)))
		return -EIO;
	g = (struct xt_server_greeting *)out_reserve(c, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->modes = htonl(c->modes_offered);
	memcpy(g->challenge, c->challenge, sizeof(g->challenge));
	memcpy(g->salt, c->salt, sizeof(g->salt));
	g->count = htonl(count);
	c->state = ST_SETUP;
	c->in_need = sizeof(struct xt_setup_response);
	return 0;
}

/*
 * Server-Start.  Octets 0-31 travel in clear; in modes 2/4/8 with Accept 0
 * octets 32-47 are the first block of our cipher stream and the start of the
 * span the first Accept-Session's HMAC covers (RFC 5357 §3.2).  A refusal
 * carries zero Start-Time and Server-IV (RFC 4656 §3.1 "SHOULD be zero").
 */
static enum ctl_close_reason send_server_start(struct ctl_conn *c, __u8 accept,
					       const __u8 server_iv[16])
{
	struct xt_server_start *s = (struct xt_server_start *)out_reserve(c, sizeof(*s));
	__u8 *block;

	if (!s)
		return output_full(c);
	s->accept = accept;
	if (accept != XT_ACCEPT_OK)
		return CTL_OPEN;
	if (server_iv)
		memcpy(s->server_iv, server_iv, sizeof(s->server_iv));
	s->start_time.sec = htonl((__u32)(c->cfg.server_start_ntp >> 32));
	s->start_time.frac = htonl((__u32)c->cfg.server_start_ntp);
	if (!c->cipher)
		return CTL_OPEN;
	block = (__u8 *)&s->start_time;
	if (tw_hmac_add(&c->tx_mac, block, XT_BLOCK) ||
	    tw_stream_update(&c->tx, block, block, XT_BLOCK))
		return internal_error(c, "internal error: sealing Server-Start");
	return CTL_OPEN;
}

static enum ctl_close_reason refuse_setup(struct ctl_conn *c, __u8 accept, enum ctl_close_reason r,
					  const char *detail)
{
	if (send_server_start(c, accept, NULL) != CTL_OPEN)
		return c->closed;
	return conn_close(c, r, detail);
}

/* The rest of a Set-Up-Response once the Mode is accepted (and keyed: checked). */
static enum ctl_close_reason setup_done(struct ctl_conn *c, __u32 mode)
{
	c->mode = mode;
	c->state = ST_COMMANDS;
	c->in_len = 0;
	c->in_need = XT_BLOCK;
	c->in_plain = 0;
	return CTL_OPEN;
}

/*
 * Authenticated, encrypted and mixed modes, second half: with K derived,
 * check the Token, take the session keys and set up both directions.
 */
static enum ctl_close_reason authenticate_finish(struct ctl_conn *c, int err,
						 const __u8 k[TW_AES_KEY_LEN])
{
	const struct xt_setup_response *m = &c->setup;
	const struct tw_key *key = c->setup_key;
	__u8 plain[64], server_iv[16];
	enum ctl_close_reason r;
	int differ;

	if (!err)
		err = tw_token_decrypt(k, m->token, plain);
	if (err) {
		OPENSSL_cleanse(plain, sizeof(plain));
		return refuse_setup(c, XT_ACCEPT_INTERNAL_ERROR, CTL_CLOSE_PROTOCOL,
				    "internal error: key derivation");
	}
	differ = CRYPTO_memcmp(plain, c->challenge, sizeof(c->challenge));
	if (!key || differ) {
		OPENSSL_cleanse(plain, sizeof(plain));
		return refuse_setup(c, XT_ACCEPT_FAILURE, CTL_CLOSE_AUTH_FAILED,
				    key ? "Set-Up-Response: Token does not match the Challenge" :
					  "Set-Up-Response: unknown KeyID");
	}
	memcpy(c->aes_key, plain + 16, sizeof(c->aes_key));
	memcpy(c->hmac_key, plain + 32, sizeof(c->hmac_key));
	OPENSSL_cleanse(plain, sizeof(plain));

	if (tw_random(server_iv, sizeof(server_iv)) ||
	    tw_stream_init(&c->rx, c->aes_key, m->client_iv, false) ||
	    tw_stream_init(&c->tx, c->aes_key, server_iv, true) ||
	    tw_hmac_init(&c->rx_mac, c->hmac_key) || tw_hmac_init(&c->tx_mac, c->hmac_key))
		return refuse_setup(c, XT_ACCEPT_INTERNAL_ERROR, CTL_CLOSE_PROTOCOL,
				    "internal error: control stream setup");
	c->cipher = true;
	r = send_server_start(c, XT_ACCEPT_OK, server_iv);
	if (r != CTL_OPEN)
		return r;
	return setup_done(c, c->setup_mode);
}

/*
 * Authenticated, encrypted and mixed modes, first half: derive K from the
 * KeyID's secret, in place or through ops->derive_key.  An unknown KeyID
 * costs the same PBKDF2 and decryption as a known one (with a dummy secret)
 * so that response timing does not tell which KeyIDs exist.
 */
static enum ctl_close_reason authenticate(struct ctl_conn *c, __u32 mode)
{
	static const __u8 dummy_secret[16] = "no such key id!";
	const struct tw_key *key = tw_keyring_find(c->cfg.keys, c->setup.key_id);
	const void *secret = key ? (const void *)key->secret : dummy_secret;
	size_t secret_len = key ? key->secret_len : sizeof(dummy_secret);
	enum ctl_close_reason r;
	__u8 k[TW_AES_KEY_LEN];
	int err;

	c->setup_key = key;
	c->setup_mode = mode;
	if (c->ops->derive_key) {
		c->state = ST_DERIVING;
		if (c->ops->derive_key(c->owner, c, secret, secret_len, c->salt, c->cfg.count)) {
			c->state = ST_SETUP;
			return refuse_setup(c, XT_ACCEPT_TEMPORARY_LIMIT, CTL_CLOSE_BUSY,
					    "Set-Up-Response: too many key derivations pending");
		}
		return CTL_OPEN;
	}
	err = tw_derive_key(secret, secret_len, c->salt, c->cfg.count, k);
	r = authenticate_finish(c, err, k);
	OPENSSL_cleanse(k, sizeof(k));
	return r;
}

static enum ctl_close_reason setup_response(struct ctl_conn *c)
{
	__u32 mode, security;
	enum ctl_close_reason r;

	/* Kept apart from in[]: input arriving while the key is derived is held there. */
	memcpy(&c->setup, c->in, sizeof(c->setup));
	c->in_len = 0;
	/* Unassigned bits: "receivers ignore them" (RFC 4656 §3.1, RFC 5618 §3.1). */
	mode = ntohl(c->setup.mode) & CTL_MODES_ASSIGNED;
	security = mode & XT_MODE_SECURITY_MASK;
	/* No security mode: "the client will not continue" (RFC 4656 §3.1). */
	if (!security)
		return conn_close(c, CTL_CLOSE_CLIENT_QUIT,
				  "Set-Up-Response: Mode 0 (client quits)");
	if (security & (security - 1))
		return refuse_setup(c, XT_ACCEPT_NOT_SUPPORTED, CTL_CLOSE_MODE_REFUSED,
				    "Set-Up-Response: more than one security mode");
	if (mode & ~c->modes_offered)
		return refuse_setup(c, XT_ACCEPT_NOT_SUPPORTED, CTL_CLOSE_MODE_REFUSED,
				    "Set-Up-Response: mode not offered");
	if (security & XT_MODE_CONTROL_CIPHER)
		return authenticate(c, mode);
	r = send_server_start(c, XT_ACCEPT_OK, NULL);
	if (r != CTL_OPEN)
		return r;
	return setup_done(c, mode);
}

/* ---- replies ------------------------------------------------------------- */

static enum ctl_close_reason send_accept_session(struct ctl_conn *c, __u8 accept, __u16 port,
						 const __u8 *sid, __u16 reflected,
						 __u16 server_octets)
{
	struct xt_accept_session *a = (struct xt_accept_session *)out_reserve(c, sizeof(*a));

	if (!a)
		return output_full(c);
	a->accept = accept;
	/* Refused: Port MUST be 0 (RFC 5357 §3.5), and there is no session to name. */
	if (accept == XT_ACCEPT_OK) {
		a->port = htons(port);
		memcpy(a->sid, sid, XT_SID_LEN);
	}
	/* RFC 6038 §4.3: fields only in that mode, otherwise MBZ. */
	if (c->mode & XT_MODE_REFLECT_OCTETS) {
		a->reflected_octets = htons(reflected);
		if (accept == XT_ACCEPT_OK)
			a->server_octets = htons(server_octets);
	}
	return seal(c, (__u8 *)a, sizeof(*a));
}

static enum ctl_close_reason send_start_ack(struct ctl_conn *c, __u8 accept)
{
	struct xt_start_ack *a = (struct xt_start_ack *)out_reserve(c, sizeof(*a));

	if (!a)
		return output_full(c);
	a->accept = accept;
	return seal(c, (__u8 *)a, sizeof(*a));
}

/*
 * RFC 5357 §3.5: an unexpected command number is answered with an
 * Accept-Session carrying Accept 3.  Its length is unknown (or, for a
 * command of the wrong control style, it must not be used), so nothing after
 * it can be parsed: close.
 */
static enum ctl_close_reason unexpected_command(struct ctl_conn *c, const char *detail)
{
	if (send_accept_session(c, XT_ACCEPT_NOT_SUPPORTED, 0, NULL, 0, 0) != CTL_OPEN)
		return c->closed;
	return conn_close(c, CTL_CLOSE_PROTOCOL, detail);
}

/* ---- Request-TW-Session (RFC 5357 §3.5, RFC 4656 §3.5, RFC 6038 §4.2) ---- */

static bool all_zero(const __u8 *p, size_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

/* Sender/Receiver Address field: IPv4 in the first 4 octets, the other 12 ignored. */
static void request_addr(__u8 ipvn, const __u8 field[16], const union xt_addr *dflt,
			 union xt_addr *a)
{
	struct in_addr in;

	if (ipvn == 4) {
		memcpy(&in.s_addr, field, 4);
		if (!in.s_addr) {
			*a = *dflt;
			return;
		}
		xt_addr_from_in(a, &in);
		return;
	}
	if (all_zero(field, 16))
		*a = *dflt;
	else
		memcpy(a->b, field, 16);
}

/* NTP-format interval to ns, rounded to nearest. */
static __u64 ntp_interval_ns(const struct xt_ntp_ts *t)
{
	__u64 frac = ntohl(t->frac);

	return (__u64)ntohl(t->sec) * XT_NSEC_PER_SEC +
	       ((frac * XT_NSEC_PER_SEC + (1ULL << 31)) >> 32);
}

/* Fill req from the message; XT_ACCEPT_OK or the Accept value of the refusal. */
static __u8 check_request(struct ctl_conn *c, const struct xt_request_tw_session *m,
			  struct ctl_session_request *req)
{
	__u32 type_p = ntohl(m->type_p);
	__u8 ipvn = m->ipvn & 0x0f; /* the high nibble is MBZ */
	bool v4 = xt_addr_is_v4(&c->peer);

	/* RFC 4656 §3.4: while sessions run, Stop-Sessions is the only command. */
	if (c->active) {
		c->detail = "Request-TW-Session: sessions are running";
		return XT_ACCEPT_NOT_SUPPORTED;
	}
	if (ipvn != 4 && ipvn != 6) {
		c->detail = "Request-TW-Session: IPVN is neither 4 nor 6";
		return XT_ACCEPT_NOT_SUPPORTED;
	}
	/* RFC 5357 §3.5: non-zero "MUST" be answered with Accept 3. */
	if (m->conf_sender || m->conf_receiver) {
		c->detail = "Request-TW-Session: Conf-Sender or Conf-Receiver is not 0";
		return XT_ACCEPT_NOT_SUPPORTED;
	}
	/* RFC 5357 §3.5 "MUST be set to 0"; a schedule is something we do not do. */
	if (m->schedule_slots || m->packets) {
		c->detail = "Request-TW-Session: Schedule Slots or Number of Packets is not 0";
		return XT_ACCEPT_NOT_SUPPORTED;
	}
	/* RFC 5357 §3.5: the SID "MUST be set to 0"; treated like Conf-Sender. */
	if (!all_zero(m->sid, XT_SID_LEN)) {
		c->detail = "Request-TW-Session: SID is not 0";
		return XT_ACCEPT_NOT_SUPPORTED;
	}
	/* Only the DSCP form can be honoured by the reflector (RFC 5357 §3.5). */
	if (type_p & 0xc0ffffffU) {
		c->detail = "Request-TW-Session: Type-P is not a DSCP";
		return XT_ACCEPT_NOT_SUPPORTED;
	}
	/*
	 * The DoS guard below ties the sender to the control peer, so the test
	 * runs over the control connection's address family.
	 */
	if ((ipvn == 4) != v4) {
		c->detail = "Request-TW-Session: IPVN differs from the control connection's";
		return XT_ACCEPT_NOT_SUPPORTED;
	}
	req->ipvn = ipvn;
	request_addr(ipvn, m->sender_address, &c->peer, &req->sender_addr);
	request_addr(ipvn, m->receiver_address, &c->local, &req->receiver_addr);
	if (xt_addr_is_v4(&req->receiver_addr) != v4) {
		c->detail = "Request-TW-Session: Receiver Address of the other family";
		return XT_ACCEPT_NOT_SUPPORTED;
	}
	/*
	 * RFC 4656 §6.2: by default decline test traffic aimed at anyone but the
	 * control client.  In TWAMP the reflector sends to the Sender Address.
	 * A policy refusal, not an unsupported feature: Accept 1.
	 */
	if (memcmp(&req->sender_addr, &c->peer, sizeof(c->peer))) {
		c->detail = "Request-TW-Session: Sender Address is not the control client";
		return XT_ACCEPT_FAILURE;
	}
	req->sender_port = ntohs(m->sender_port);
	req->receiver_port = ntohs(m->receiver_port);
	/*
	 * Never hand a privileged UDP port to a session: the reflector binds
	 * the port it grants so nothing else can take it, and any peer allowed
	 * to open a session could otherwise hold e.g. 53 or 123 away from the
	 * service that owns it.  Asking for 0 makes the owner pick one from its
	 * dynamic range, which the client gets as an alternate port (RFC 5357
	 * §3.5 lets the Server suggest one).
	 */
	if (req->receiver_port < CTL_MIN_RECEIVER_PORT)
		req->receiver_port = 0;
	req->padding_length = ntohl(m->padding_length);
	req->start_time_ntp = (__u64)ntohl(m->start_time.sec) << 32 | ntohl(m->start_time.frac);
	req->timeout_ns = ntp_interval_ns(&m->timeout);
	req->dscp = (__u8)(type_p >> 24);
	/* RFC 6038 §4.2: octets 88-91 mean something only in that mode (MBZ otherwise). */
	if (c->mode & XT_MODE_REFLECT_OCTETS) {
		req->octets_to_reflect = ntohs(m->octets_to_reflect);
		req->padding_to_reflect_len = ntohs(m->padding_to_reflect_len);
		/*
		 * "Padding Length SHALL be > the Length of padding to reflect":
		 * the reflected octets are part of the sender's padding, which in
		 * Symmetrical Size mode starts after the 41-octet base.
		 */
		if (req->padding_to_reflect_len &&
		    req->padding_length <= req->padding_to_reflect_len) {
			c->detail =
				"Request-TW-Session: Padding Length too short for the padding to reflect";
			return XT_ACCEPT_NOT_SUPPORTED;
		}
	}
	req->mode = c->mode;
	if (c->cipher) {
		req->aes_session_key = c->aes_key;
		req->hmac_session_key = c->hmac_key;
	}
	return XT_ACCEPT_OK;
}

static enum ctl_close_reason handle_request(struct ctl_conn *c)
{
	const struct xt_request_tw_session *m = (const struct xt_request_tw_session *)c->in;
	struct ctl_session_request req;
	struct ctl_session_reply rep;
	__u16 reflected = 0;
	enum ctl_close_reason r;

	memset(&req, 0, sizeof(req));
	memset(&rep, 0, sizeof(rep));
	/* Echoed even in a refusal: it is how the client matches replies (RFC 6038 §4.3). */
	if (c->mode & XT_MODE_REFLECT_OCTETS)
		reflected = ntohs(m->octets_to_reflect);
	rep.accept = check_request(c, m, &req);
	if (rep.accept == XT_ACCEPT_OK) {
		c->detail = "";
		c->ops->request_session(c->owner, c, &req, &rep);
	}
	r = send_accept_session(c, rep.accept, rep.port, rep.sid, reflected, rep.server_octets);
	if (r == CTL_OPEN && rep.accept == XT_ACCEPT_OK)
		c->pending++;
	return r;
}

/* ---- Start-Sessions / Stop-Sessions (RFC 4656 §3.7, RFC 5357 §3.8) ----- */

static enum ctl_close_reason handle_start(struct ctl_conn *c)
{
	__u8 accept;

	/*
	 * RFC 4656 §3.7 starts sessions that were requested and accepted; with
	 * none waiting the command is refused (Accept 1: nothing to start is no
	 * missing feature).  The connection stays usable, the client decides.
	 */
	if (!c->pending) {
		c->detail = "Start-Sessions: no accepted session waits to be started";
		return send_start_ack(c, XT_ACCEPT_FAILURE);
	}
	accept = c->ops->start_sessions(c->owner, c, NULL, 0, NULL);
	if (accept == XT_ACCEPT_OK) {
		c->active = true;
		c->pending = 0;
	}
	return send_start_ack(c, accept);
}

static enum ctl_close_reason handle_stop(struct ctl_conn *c)
{
	const struct xt_stop_sessions *m = (const struct xt_stop_sessions *)c->in;
	__u32 running = c->ops->running_sessions(c->owner, c);

	/*
	 * RFC 5357 §3.8: a count that does not match makes the message invalid;
	 * close, with the results marked invalid (Accept at least 1).
	 */
	if (ntohl(m->number_of_sessions) != running) {
		c->ops->stop_sessions(c->owner, c, NULL, 0,
				      m->accept ? m->accept : XT_ACCEPT_FAILURE, NULL);
		return conn_close(
			c, CTL_CLOSE_PROTOCOL,
			"Stop-Sessions: Number of Sessions differs from the running sessions");
	}
	c->ops->stop_sessions(c->owner, c, NULL, 0, m->accept, NULL);
	c->active = false;
	if (m->accept)
		return conn_close(c, CTL_CLOSE_STOP_FAILURE,
				  "Stop-Sessions with a non-zero Accept");
	return CTL_OPEN;
}

/* ---- Start-N-Sessions / Stop-N-Sessions (RFC 5938 §3.2-3.5) ------------ */

/*
 * One ack per distinct Accept value, in the order the values first appear;
 * the SIDs of each ack in the order of the request (RFC 5938 §3.3 example).
 */
static enum ctl_close_reason send_n_acks(struct ctl_conn *c, __u8 cmd,
					 const __u8 (*sids)[XT_SID_LEN], __u32 n)
{
	bool done[256] = { false };
	__u32 i, j, k;

	for (i = 0; i < n; i++) {
		__u8 accept = c->accepts[i];
		struct xt_n_sessions_header *h;
		enum ctl_close_reason r;
		__u8 *msg, *sid;

		if (done[accept])
			continue;
		done[accept] = true;
		for (k = 0, j = i; j < n; j++)
			k += c->accepts[j] == accept;
		msg = out_reserve(c, sizeof(*h) + k * XT_SID_LEN + XT_HMAC_LEN);
		if (!msg)
			return output_full(c);
		h = (struct xt_n_sessions_header *)msg;
		h->command = cmd;
		h->accept = accept;
		h->number_of_sessions = htonl(k);
		sid = msg + sizeof(*h);
		for (j = i; j < n; j++) {
			if (c->accepts[j] != accept)
				continue;
			memcpy(sid, sids[j], XT_SID_LEN);
			sid += XT_SID_LEN;
		}
		r = seal(c, msg, sizeof(*h) + k * XT_SID_LEN + XT_HMAC_LEN);
		if (r != CTL_OPEN)
			return r;
	}
	return CTL_OPEN;
}

static enum ctl_close_reason handle_n(struct ctl_conn *c)
{
	const struct xt_n_sessions_header *h = (const struct xt_n_sessions_header *)c->in;
	const __u8(*sids)[XT_SID_LEN] = (const __u8(*)[XT_SID_LEN])(c->in + sizeof(*h));
	__u32 n = ntohl(h->number_of_sessions);
	bool start = h->command == XT_CMD_START_N_SESSIONS;

	/* "MUST be one or greater", and an ack cannot name zero SIDs either. */
	if (!n)
		return conn_close(c, CTL_CLOSE_PROTOCOL,
				  start ? "Start-N-Sessions with no SID" :
					  "Stop-N-Sessions with no SID");
	memset(c->accepts, XT_ACCEPT_FAILURE, n);
	if (start)
		c->ops->start_sessions(c->owner, c, sids, n, c->accepts);
	else
		c->ops->stop_sessions(c->owner, c, sids, n, XT_ACCEPT_OK, c->accepts);
	return send_n_acks(c, start ? XT_CMD_START_N_ACK : XT_CMD_STOP_N_ACK, sids, n);
}

/* ---- command framing ------------------------------------------------------ */

/* The first block is in: how long is the message?  Unexpected commands close. */
static enum ctl_close_reason command_length(struct ctl_conn *c)
{
	bool individual = c->mode & XT_MODE_INDIVIDUAL_SESSIONS;
	__u32 n;

	switch (c->in[0]) {
	case XT_CMD_REQUEST_TW_SESSION:
		c->in_need = sizeof(struct xt_request_tw_session);
		return CTL_OPEN;
	case XT_CMD_START_SESSIONS:
	case XT_CMD_STOP_SESSIONS:
		/* RFC 5938 §3.1: with mode 16 these MUST NOT be used. */
		if (individual)
			return unexpected_command(
				c, "Start/Stop-Sessions in individual session control mode");
		c->in_need = sizeof(struct xt_start_sessions);
		return CTL_OPEN;
	case XT_CMD_START_N_SESSIONS:
	case XT_CMD_STOP_N_SESSIONS:
		if (!individual)
			return unexpected_command(
				c, "Start/Stop-N-Sessions without individual session control");
		n = ntohl(((const struct xt_n_sessions_header *)c->in)->number_of_sessions);
		if (n > CTL_MAX_N_SESSIONS)
			return conn_close(
				c, CTL_CLOSE_PROTOCOL,
				"Start/Stop-N-Sessions: Number of Sessions above the limit");
		c->in_need = sizeof(struct xt_n_sessions_header) + n * XT_SID_LEN + XT_HMAC_LEN;
		return CTL_OPEN;
	default:
		/* 0 and 4 reserved, 1 forbidden, 6 experimentation, 8/10 are acks, 11+ unknown. */
		return unexpected_command(c, "unexpected command number");
	}
}

static enum ctl_close_reason command_complete(struct ctl_conn *c)
{
	size_t body = c->in_need - XT_HMAC_LEN;
	int err;

	if (c->cipher) {
		err = tw_hmac_add(&c->rx_mac, c->in, body);
		if (!err)
			err = tw_hmac_verify(&c->rx_mac, c->in + body);
		if (err == -EBADMSG)
			return conn_close(c, CTL_CLOSE_BAD_HMAC, "command HMAC does not verify");
		if (err)
			return internal_error(c, "internal error: verifying a command HMAC");
	}
	switch (c->in[0]) {
	case XT_CMD_REQUEST_TW_SESSION:
		return handle_request(c);
	case XT_CMD_START_SESSIONS:
		return handle_start(c);
	case XT_CMD_STOP_SESSIONS:
		return handle_stop(c);
	default: /* command_length() let only these through */
		return handle_n(c);
	}
}

/* Called whenever octets were added to in[]. */
static enum ctl_close_reason command_progress(struct ctl_conn *c)
{
	enum ctl_close_reason r;

	if (c->in_len % XT_BLOCK)
		return CTL_OPEN;
	if (c->cipher && tw_stream_update(&c->rx, c->in + c->in_plain, c->in + c->in_plain,
					  c->in_len - c->in_plain))
		return internal_error(c, "internal error: decrypting");
	c->in_plain = c->in_len;
	if (c->in_len == XT_BLOCK) {
		r = command_length(c);
		if (r != CTL_OPEN)
			return r;
	}
	if (c->in_len < c->in_need)
		return CTL_OPEN;
	r = command_complete(c);
	if (c->state == ST_COMMANDS) {
		c->in_len = c->in_plain = 0;
		c->in_need = XT_BLOCK;
	}
	return r;
}

enum ctl_close_reason ctl_conn_input(struct ctl_conn *c, const void *buf, size_t len)
{
	const __u8 *p = buf;
	enum ctl_close_reason r;

	if (c->state == ST_CLOSED)
		return c->closed;
	if (c->state == ST_NEW)
		return conn_close(c, CTL_CLOSE_PROTOCOL, "data before the Server-Greeting");
	while (len) {
		size_t n = c->in_need - c->in_len;

		if (c->state == ST_DERIVING) {
			/* Held until the key is there; the owner stops reading meanwhile. */
			if (len > sizeof(c->in) - c->in_len)
				return conn_close(c, CTL_CLOSE_PROTOCOL,
						  "too much input before Server-Start");
			memcpy(c->in + c->in_len, p, len);
			c->in_len += len;
			return CTL_OPEN;
		}

		if (n > len)
			n = len;
		memcpy(c->in + c->in_len, p, n);
		c->in_len += n;
		p += n;
		len -= n;
		if (c->state == ST_SETUP)
			r = c->in_len == c->in_need ? setup_response(c) : CTL_OPEN;
		else
			r = command_progress(c);
		if (r != CTL_OPEN)
			return r;
	}
	return CTL_OPEN;
}

enum ctl_close_reason ctl_conn_key_derived(struct ctl_conn *c, int err,
					   const __u8 k[TW_AES_KEY_LEN])
{
	enum ctl_close_reason r;
	size_t held = c->in_len;
	__u8 *copy = NULL;

	if (c->state != ST_DERIVING)
		return c->state == ST_CLOSED ? c->closed :
					       internal_error(c, "internal error: unexpected key");
	if (held) {
		copy = malloc(held);
		if (!copy)
			return internal_error(c, "internal error: out of memory");
		memcpy(copy, c->in, held);
	}
	c->state = ST_SETUP;
	c->in_len = 0;
	r = authenticate_finish(c, err, k);
	if (r == CTL_OPEN && held)
		r = ctl_conn_input(c, copy, held);
	if (copy) {
		OPENSSL_cleanse(copy, held);
		free(copy);
	}
	return r;
}

bool ctl_conn_deriving(const struct ctl_conn *c)
{
	return c->state == ST_DERIVING;
}

enum ctl_close_reason ctl_conn_eof(struct ctl_conn *c)
{
	if (c->state == ST_CLOSED)
		return c->closed;
	if (c->in_len)
		return conn_close(c, CTL_CLOSE_TRUNCATED, "EOF inside a message");
	return conn_close(c, CTL_CLOSE_CLIENT_QUIT, "EOF");
}

/* ---- accessors ------------------------------------------------------------ */

bool ctl_conn_mid_message(const struct ctl_conn *c)
{
	/* While deriving, in[] holds early input, not a partial message. */
	return c->state != ST_CLOSED && c->state != ST_DERIVING && c->in_len;
}

__u32 ctl_conn_mode(const struct ctl_conn *c)
{
	return c->mode;
}

const union xt_addr *ctl_conn_peer(const struct ctl_conn *c)
{
	return &c->peer;
}

const union xt_addr *ctl_conn_local(const struct ctl_conn *c)
{
	return &c->local;
}

const char *ctl_conn_detail(const struct ctl_conn *c)
{
	return c->detail;
}

const char *ctl_close_reason_str(enum ctl_close_reason r)
{
	switch (r) {
	case CTL_OPEN:
		return "open";
	case CTL_CLOSE_CLIENT_QUIT:
		return "client quit";
	case CTL_CLOSE_MODE_REFUSED:
		return "mode refused";
	case CTL_CLOSE_AUTH_FAILED:
		return "authentication failed";
	case CTL_CLOSE_BAD_HMAC:
		return "bad HMAC";
	case CTL_CLOSE_PROTOCOL:
		return "protocol error";
	case CTL_CLOSE_TRUNCATED:
		return "truncated message";
	case CTL_CLOSE_STOP_FAILURE:
		return "Stop-Sessions reported a failure";
	case CTL_CLOSE_BUSY:
		return "too many key derivations pending";
	}
	return "unknown";
}

void ctl_conn_free(struct ctl_conn *c)
{
	if (!c)
		return;
	tw_stream_free(&c->rx);
	tw_stream_free(&c->tx);
	tw_hmac_free(&c->rx_mac);
	tw_hmac_free(&c->tx_mac);
	free(c->out);
	/* Session keys, the Challenge and any decrypted command. */
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}
