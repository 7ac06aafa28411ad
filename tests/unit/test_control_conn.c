// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The TWAMP-Control server state machine (control_conn.c), driven through a
 * socketpair by a Control-Client written here.  The client builds and parses
 * every message at the octet offsets of the RFC figures (RFC 4656 §3.1-3.8,
 * RFC 5357 §3.5/§3.8, RFC 5938 §3.2-3.5, RFC 6038 §4.2-4.3), not with
 * xtwamp_wire.h, and does its own crypto with twamp_crypto.h: one CBC stream
 * and one running HMAC per direction, plus one-shot HMACs over the expected
 * plaintext where a test checks what an HMAC covers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "addr.h"
#include "control_conn.h"
#include "keyfile.h"
#include "twamp_crypto.h"

#define COUNT 1024 /* the smallest legal PBKDF2 Count keeps the tests fast */
#define START_NTP 0xe8f1a2b3c4d5e6f7ULL
#define KEY_ID "alice"
#define SECRET "correct horse battery staple"

#define ALL_MODES 0x7f
#define M_OPEN 0x01
#define M_AUTH 0x02
#define M_ENC 0x04
#define M_MIXED 0x08
#define M_INDIV 0x10
#define M_REFLECT 0x20
#define M_SYMM 0x40

/* SID the test owner hands out: 192.0.2.1 | NTP | random, last octet counts up. */
static const __u8 sid_template[16] = { 0xc0, 0x00, 0x02, 0x01, 0xe8, 0xf1, 0xa2, 0xb3,
				       0x00, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0x00 };

/* ---- the owner: records what the connection asks, answers as told ------ */

struct owner {
	int requests, starts, stops;
	struct ctl_session_request req; /* the last one, key pointers cleared */
	__u8 req_aes[16], req_hmac[32];
	bool req_has_keys;
	struct ctl_session_reply reply; /* template of the answer */
	__u8 next_sid;
	/* ops->derive_key of async_ops: what it was asked, what it answers */
	int kdf_calls;
	int kdf_ret;
	__u8 kdf_secret[64];
	size_t kdf_secret_len;
	__u8 kdf_salt[16];
	__u32 kdf_count;
	__u32 accepted; /* accepted, not started */
	__u32 running;
	__u8 start_accept;
	__u8 sid_accept[256]; /* Accept per SID (by last octet); 0xff: unknown SID */
	bool prefilled;	      /* accepts[] arrived as XT_ACCEPT_FAILURE */
	bool last_sids_null;
	__u32 last_n;
	__u8 last_accept;
	__u8 last_sids[8][16];
};

static void own_request(void *owner, struct ctl_conn *c, const struct ctl_session_request *req,
			struct ctl_session_reply *rep)
{
	struct owner *o = owner;

	(void)c;
	o->requests++;
	o->req = *req;
	o->req_has_keys = req->aes_session_key != NULL;
	if (req->aes_session_key) {
		memcpy(o->req_aes, req->aes_session_key, 16);
		memcpy(o->req_hmac, req->hmac_session_key, 32);
	}
	o->req.aes_session_key = o->req.hmac_session_key = NULL;
	*rep = o->reply;
	rep->sid[15] = ++o->next_sid;
	if (rep->accept == XT_ACCEPT_OK)
		o->accepted++;
}

static void own_sids(struct owner *o, const __u8 (*sids)[XT_SID_LEN], __u32 n, __u8 *accepts)
{
	__u32 i;

	o->last_sids_null = !sids;
	o->last_n = n;
	if (!sids)
		return;
	o->prefilled = true;
	for (i = 0; i < n; i++) {
		if (i < 8)
			memcpy(o->last_sids[i], sids[i], 16);
		o->prefilled &= accepts[i] == XT_ACCEPT_FAILURE;
		if (o->sid_accept[sids[i][15]] != 0xff)
			accepts[i] = o->sid_accept[sids[i][15]];
	}
}

static __u8 own_start(void *owner, struct ctl_conn *c, const __u8 (*sids)[XT_SID_LEN], __u32 n,
		      __u8 *accepts)
{
	struct owner *o = owner;

	(void)c;
	o->starts++;
	own_sids(o, sids, n, accepts);
	if (!sids && o->start_accept == XT_ACCEPT_OK) {
		o->running += o->accepted;
		o->accepted = 0;
	}
	return o->start_accept;
}

static __u8 own_stop(void *owner, struct ctl_conn *c, const __u8 (*sids)[XT_SID_LEN], __u32 n,
		     __u8 accept, __u8 *accepts)
{
	struct owner *o = owner;

	(void)c;
	o->stops++;
	o->last_accept = accept;
	own_sids(o, sids, n, accepts);
	if (!sids)
		o->running = 0;
	return XT_ACCEPT_OK;
}

static __u32 own_running(void *owner, struct ctl_conn *c)
{
	(void)c;
	return ((struct owner *)owner)->running;
}

static const struct ctl_conn_ops ops = {
	.request_session = own_request,
	.start_sessions = own_start,
	.stop_sessions = own_stop,
	.running_sessions = own_running,
};

static int own_derive_key(void *owner, struct ctl_conn *c, const void *secret, size_t secret_len,
			  const __u8 salt[16], __u32 count)
{
	struct owner *o = owner;

	(void)c;
	o->kdf_calls++;
	assert_true(secret_len <= sizeof(o->kdf_secret));
	memcpy(o->kdf_secret, secret, secret_len);
	o->kdf_secret_len = secret_len;
	memcpy(o->kdf_salt, salt, 16);
	o->kdf_count = count;
	return o->kdf_ret;
}

static const struct ctl_conn_ops async_ops = {
	.request_session = own_request,
	.start_sessions = own_start,
	.stop_sessions = own_stop,
	.running_sessions = own_running,
	.derive_key = own_derive_key,
};

/* ---- test context: the server end, the client end and the client ------- */

struct client {
	__u8 greeting[64];
	__u32 mode;
	bool cipher;
	__u8 aes[16], hmac[32], client_iv[16], server_iv[16];
	__u8 start_block[16]; /* Server-Start octets 32-47, plaintext */
	struct tw_cbc_stream tx, rx;
	struct tw_hmac tx_mac, rx_mac;
};

struct tc {
	int cfd, sfd; /* client end, server end of the socketpair */
	struct ctl_conn *c;
	struct ctl_conn_config cfg;
	struct tw_key key;
	struct tw_keyring ring;
	union xt_addr peer, local;
	struct owner o;
	enum ctl_close_reason r; /* what the server said last */
	size_t chunk;		 /* feed the server this many octets at a time (0: all) */
	size_t max_out;		 /* largest output queue seen */
	struct client cl;
	const struct ctl_conn_ops *ops; /* NULL: ops (derivation in place) */
};

static void owner_reset(struct owner *o)
{
	memset(o, 0, sizeof(*o));
	memset(o->sid_accept, 0xff, sizeof(o->sid_accept));
	o->reply.port = 5001;
	memcpy(o->reply.sid, sid_template, 16);
}

static int tc_setup(void **state)
{
	struct tc *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	t->cfd = t->sfd = -1;
	strcpy(t->key.identity, KEY_ID);
	memcpy(t->key.secret, SECRET, strlen(SECRET));
	t->key.secret_len = strlen(SECRET);
	t->ring.keys = &t->key;
	t->ring.n_keys = 1;
	t->cfg.modes_offered = ALL_MODES;
	t->cfg.count = COUNT;
	t->cfg.keys = &t->ring;
	t->cfg.server_start_ntp = START_NTP;
	if (xt_addr_parse("192.0.2.1", &t->peer) || xt_addr_parse("192.0.2.2", &t->local))
		return -1;
	owner_reset(&t->o);
	*state = t;
	return 0;
}

static void conn_drop(struct tc *t)
{
	ctl_conn_free(t->c);
	t->c = NULL;
	if (t->cfd >= 0)
		close(t->cfd);
	if (t->sfd >= 0)
		close(t->sfd);
	t->cfd = t->sfd = -1;
	tw_stream_free(&t->cl.tx);
	tw_stream_free(&t->cl.rx);
	tw_hmac_free(&t->cl.tx_mac);
	tw_hmac_free(&t->cl.rx_mac);
	memset(&t->cl, 0, sizeof(t->cl));
	t->r = CTL_OPEN;
	t->max_out = 0;
	owner_reset(&t->o);
}

static int tc_teardown(void **state)
{
	struct tc *t = *state;

	conn_drop(t);
	free(t);
	return 0;
}

/* What the daemon's event loop does: read, feed, write what is queued. */
static void feed(struct tc *t, const __u8 *p, size_t n)
{
	const void *out;
	size_t len;

	while (n && t->r == CTL_OPEN) {
		size_t k = t->chunk && t->chunk < n ? t->chunk : n;

		t->r = ctl_conn_input(t->c, p, k);
		p += k;
		n -= k;
		len = ctl_conn_output(t->c, &out);
		if (len > t->max_out)
			t->max_out = len;
	}
}

static void pump(struct tc *t)
{
	__u8 buf[8192];
	const void *out;
	size_t len;
	ssize_t n;

	for (;;) {
		n = read(t->sfd, buf, sizeof(buf));
		if (n > 0) {
			feed(t, buf, (size_t)n);
			continue;
		}
		if (n == 0 && t->r == CTL_OPEN)
			t->r = ctl_conn_eof(t->c);
		break;
	}
	len = ctl_conn_output(t->c, &out);
	if (len) {
		n = write(t->sfd, out, len);
		if (n > 0)
			ctl_conn_output_done(t->c, (size_t)n);
	}
}

/* A connection whose greeting offers modes (0: the configured ones). */
static void conn_open_modes(struct tc *t, __u32 modes)
{
	int fds[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
	t->cfd = fds[0];
	t->sfd = fds[1];
	t->c = ctl_conn_new(&t->cfg, t->ops ? t->ops : &ops, &t->o, &t->peer, &t->local);
	assert_non_null(t->c);
	if (modes)
		ctl_conn_set_modes(t->c, modes);
	assert_int_equal(ctl_conn_start(t->c), 0);
	pump(t);
}

static void conn_open(struct tc *t)
{
	conn_open_modes(t, 0);
}

static void csend(struct tc *t, const void *buf, size_t len)
{
	const __u8 *p = buf;

	while (len) {
		ssize_t n = write(t->cfd, p, len);

		if (n < 0) {
			assert_int_equal(errno, EAGAIN);
			n = 0;
		}
		p += n;
		len -= (size_t)n;
		pump(t);
	}
	pump(t);
}

static size_t cpending(struct tc *t)
{
	int n = 0;

	pump(t);
	assert_int_equal(ioctl(t->cfd, FIONREAD, &n), 0);
	return (size_t)n;
}

static void crecv(struct tc *t, void *buf, size_t len)
{
	size_t got = 0;

	pump(t);
	while (got < len) {
		ssize_t n = recv(t->cfd, (__u8 *)buf + got, len - got, MSG_DONTWAIT);

		assert_true(n > 0);
		got += (size_t)n;
	}
}

static void cshutdown(struct tc *t)
{
	shutdown(t->cfd, SHUT_WR);
	pump(t);
}

/* ---- encoding by hand ------------------------------------------------------ */

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = (__u8)v;
}

static void put32(__u8 *p, __u32 v)
{
	p[0] = v >> 24;
	p[1] = (__u8)(v >> 16);
	p[2] = (__u8)(v >> 8);
	p[3] = (__u8)v;
}

static void put64(__u8 *p, __u64 v)
{
	put32(p, (__u32)(v >> 32));
	put32(p + 4, (__u32)v);
}

static __u16 get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static __u32 get32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

static bool zero(const __u8 *p, size_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

/* RFC 5357 §3.5 Request-TW-Session fields (RFC 6038 §4.2 at 88-91). */
struct rq {
	__u8 cmd, ipvn, conf_sender, conf_receiver;
	__u32 slots, packets;
	__u16 sport, rport;
	__u8 saddr[16], raddr[16], sid[16];
	__u32 padding;
	__u64 start, timeout;
	__u32 type_p;
	__u16 reflect, pad_reflect;
	__u8 hmac_fill; /* unauthenticated mode: whatever the client puts in the HMAC field */
};

static struct rq rq_default(void)
{
	struct rq r;

	memset(&r, 0, sizeof(r));
	r.cmd = 5;
	r.ipvn = 4;
	r.sport = 5000;
	r.rport = 5001;
	r.padding = 27;
	r.start = 0xe8f1a2b400000000ULL;
	r.timeout = 0x0000000280000000ULL; /* 2.5 s */
	return r;
}

static void rq_build(const struct rq *r, __u8 m[112])
{
	memset(m, 0, 112);
	m[0] = r->cmd;
	m[1] = r->ipvn;
	m[2] = r->conf_sender;
	m[3] = r->conf_receiver;
	put32(m + 4, r->slots);
	put32(m + 8, r->packets);
	put16(m + 12, r->sport);
	put16(m + 14, r->rport);
	memcpy(m + 16, r->saddr, 16);
	memcpy(m + 32, r->raddr, 16);
	memcpy(m + 48, r->sid, 16);
	put32(m + 64, r->padding);
	put64(m + 68, r->start);
	put64(m + 76, r->timeout);
	put32(m + 84, r->type_p);
	put16(m + 88, r->reflect);
	put16(m + 90, r->pad_reflect);
	memset(m + 96, r->hmac_fill, 16);
}

/* ---- the client ------------------------------------------------------------ */

static void read_greeting(struct tc *t)
{
	crecv(t, t->cl.greeting, 64);
}

static void send_setup(struct tc *t, __u32 mode, const char *key_id, const char *secret,
		       bool corrupt_token)
{
	const __u8 *g = t->cl.greeting;
	__u8 m[164], k[16], plain[64];

	memset(m, 0, sizeof(m));
	put32(m, mode);
	t->cl.mode = mode;
	if (mode & (M_AUTH | M_ENC | M_MIXED)) {
		strncpy((char *)m + 4, key_id, 80);
		assert_int_equal(tw_random(t->cl.aes, 16), 0);
		assert_int_equal(tw_random(t->cl.hmac, 32), 0);
		assert_int_equal(tw_random(t->cl.client_iv, 16), 0);
		/* RFC 4656 §3.1: K from Salt and Count of the greeting; Token = CBC(K, IV 0). */
		assert_int_equal(tw_derive_key(secret, strlen(secret), g + 32, get32(g + 48), k),
				 0);
		memcpy(plain, g + 16, 16);
		memcpy(plain + 16, t->cl.aes, 16);
		memcpy(plain + 32, t->cl.hmac, 32);
		assert_int_equal(tw_token_encrypt(k, plain, m + 84), 0);
		if (corrupt_token)
			m[84] ^= 0x01;
		memcpy(m + 148, t->cl.client_iv, 16);
	}
	csend(t, m, sizeof(m));
}

/* Server-Start: returns Accept; with 0 in modes 2/4/8 sets up the client's streams. */
static __u8 read_server_start(struct tc *t)
{
	__u8 s[48], start[16] = { 0 };

	crecv(t, s, 48);
	assert_true(zero(s, 15));
	if (s[15]) {
		/* RFC 4656 §3.1: a refusal stays clear, Start-Time zero. */
		assert_true(zero(s + 16, 32));
		return s[15];
	}
	put64(start, START_NTP);
	if (t->cl.mode & (M_AUTH | M_ENC | M_MIXED)) {
		t->cl.cipher = true;
		memcpy(t->cl.server_iv, s + 16, 16);
		assert_false(zero(t->cl.server_iv, 16));
		/* Octets 32-47 are the first block of the server's stream. */
		assert_memory_not_equal(s + 32, start, 16);
		assert_int_equal(tw_stream_init(&t->cl.rx, t->cl.aes, t->cl.server_iv, false), 0);
		assert_int_equal(tw_stream_init(&t->cl.tx, t->cl.aes, t->cl.client_iv, true), 0);
		assert_int_equal(tw_hmac_init(&t->cl.rx_mac, t->cl.hmac), 0);
		assert_int_equal(tw_hmac_init(&t->cl.tx_mac, t->cl.hmac), 0);
		assert_int_equal(tw_stream_update(&t->cl.rx, s + 32, t->cl.start_block, 16), 0);
		/* The first server HMAC covers this block too (RFC 5357 §3.2). */
		assert_int_equal(tw_hmac_add(&t->cl.rx_mac, t->cl.start_block, 16), 0);
	} else {
		assert_true(zero(s + 16, 16)); /* Server-IV unused */
		memcpy(t->cl.start_block, s + 32, 16);
	}
	assert_memory_equal(t->cl.start_block, start, 16);
	return 0;
}

static void setup_mode(struct tc *t, __u32 mode)
{
	conn_open(t);
	read_greeting(t);
	send_setup(t, mode, KEY_ID, SECRET, false);
	assert_int_equal(read_server_start(t), 0);
	assert_int_equal(t->r, CTL_OPEN);
	assert_int_equal(ctl_conn_mode(t->c), mode);
}

/* Modes 2/4/8: HMAC over the plaintext since the last one, then encrypt all. */
static void seal_cmd(struct tc *t, __u8 *m, size_t len)
{
	if (!t->cl.cipher)
		return;
	assert_int_equal(tw_hmac_add(&t->cl.tx_mac, m, len - 16), 0);
	assert_int_equal(tw_hmac_final(&t->cl.tx_mac, m + len - 16), 0);
	assert_int_equal(tw_stream_update(&t->cl.tx, m, m, len), 0);
}

static void send_cmd(struct tc *t, const void *msg, size_t len)
{
	__u8 m[32 + 16 * 16];

	assert_true(len <= sizeof(m));
	memcpy(m, msg, len);
	seal_cmd(t, m, len);
	csend(t, m, len);
}

/* A reply: decrypt and verify its HMAC with the client's own running HMAC. */
static void recv_reply(struct tc *t, __u8 *m, size_t len)
{
	crecv(t, m, len);
	if (!t->cl.cipher) {
		assert_true(zero(m + len - 16, 16)); /* HMAC unused: MBZ */
		return;
	}
	assert_int_equal(tw_stream_update(&t->cl.rx, m, m, len), 0);
	assert_int_equal(tw_hmac_add(&t->cl.rx_mac, m, len - 16), 0);
	assert_int_equal(tw_hmac_verify(&t->cl.rx_mac, m + len - 16), 0);
}

static void request(struct tc *t, const struct rq *r, __u8 a[48])
{
	__u8 m[112];

	rq_build(r, m);
	send_cmd(t, m, sizeof(m));
	recv_reply(t, a, 48);
}

static void start_sessions(struct tc *t, __u8 ack[32])
{
	__u8 m[32] = { 2 };

	send_cmd(t, m, sizeof(m));
	recv_reply(t, ack, 32);
}

static void stop_sessions(struct tc *t, __u8 accept, __u32 n)
{
	__u8 m[32] = { 3, accept };

	put32(m + 4, n);
	send_cmd(t, m, sizeof(m));
}

/* Start-N (7) / Stop-N (9) naming the owner's SIDs by their last octet. */
static void n_sessions(struct tc *t, __u8 cmd, const __u8 *last, __u32 n)
{
	__u8 m[32 + 16 * 16];
	__u32 i;

	memset(m, 0, sizeof(m));
	m[0] = cmd;
	put32(m + 12, n);
	for (i = 0; i < n; i++) {
		memcpy(m + 16 + 16 * i, sid_template, 16);
		m[16 + 16 * i + 15] = last[i];
	}
	send_cmd(t, m, 32 + 16 * n);
}

/* The Accept-Session any refusal by the connection produces: Accept 3, the rest 0. */
static void expect_accept3(struct tc *t)
{
	__u8 a[48];

	recv_reply(t, a, 48);
	assert_int_equal(a[0], XT_ACCEPT_NOT_SUPPORTED);
	assert_true(zero(a + 1, 31));
}

/* ---- connection setup -------------------------------------------------------- */

/* Test that the Server-Greeting has RFC 4656 §3.1's fields at their offsets. */
static void test_greeting_layout(void **state)
{
	struct tc *t = *state;
	__u8 first[64];
	const __u8 *g = t->cl.greeting;

	conn_open(t);
	read_greeting(t);
	assert_int_equal(cpending(t), 0);
	assert_true(zero(g, 12));	       /* Unused */
	assert_int_equal(get32(g + 12), 0x7f); /* Modes */
	assert_false(zero(g + 16, 16));	       /* Challenge */
	assert_false(zero(g + 32, 16));	       /* Salt */
	assert_memory_not_equal(g + 16, g + 32, 16);
	assert_int_equal(get32(g + 48), COUNT);
	assert_true(zero(g + 52, 12)); /* MBZ */
	assert_int_equal(ctl_conn_mode(t->c), 0);
	memcpy(first, g, 64);

	/* Every connection gets its own Challenge and Salt. */
	conn_drop(t);
	conn_open(t);
	read_greeting(t);
	assert_memory_not_equal(first + 16, g + 16, 16);
	assert_memory_not_equal(first + 32, g + 32, 16);
}

/* Test that Modes drop what needs a key without a keyring, and what is not ours. */
static void test_greeting_modes(void **state)
{
	struct tc *t = *state;

	t->cfg.keys = NULL;
	conn_open(t);
	read_greeting(t);
	assert_int_equal(get32(t->cl.greeting + 12), M_OPEN | M_INDIV | M_REFLECT | M_SYMM);
	conn_drop(t);

	/* An empty keyring authenticates nobody either. */
	t->cfg.keys = &t->ring;
	t->ring.n_keys = 0;
	conn_open(t);
	read_greeting(t);
	assert_int_equal(get32(t->cl.greeting + 12), 0x71);
	conn_drop(t);
	t->ring.n_keys = 1;

	/* The client's address policy: authenticated only, plus bits we do not have. */
	conn_open_modes(t, M_AUTH | M_ENC | M_INDIV | 0x300);
	/* Too late once the greeting is queued. */
	ctl_conn_set_modes(t->c, M_OPEN);
	read_greeting(t);
	assert_int_equal(get32(t->cl.greeting + 12), M_AUTH | M_ENC | M_INDIV);
	/* ... and what was offered is what a Set-Up-Response is held against. */
	send_setup(t, M_OPEN, "", "", false);
	assert_int_equal(read_server_start(t), XT_ACCEPT_NOT_SUPPORTED);
	assert_int_equal(t->r, CTL_CLOSE_MODE_REFUSED);
	conn_drop(t);

	/* Feature bits without a security mode are "go away" (Modes 0). */
	t->cfg.keys = NULL;
	t->cfg.modes_offered = M_AUTH | M_REFLECT;
	conn_open(t);
	read_greeting(t);
	assert_int_equal(get32(t->cl.greeting + 12), 0);
}

/* Test that the connection refuses bad arguments and a Count RFC 4656 forbids. */
static void test_start_arguments(void **state)
{
	struct tc *t = *state;
	struct ctl_conn_ops partial = ops;
	static const __u32 bad_counts[] = { 0, 512, 1000, 3072, 0x80000001U };
	size_t i;

	partial.running_sessions = NULL;
	errno = 0;
	assert_null(ctl_conn_new(&t->cfg, &partial, NULL, &t->peer, &t->local));
	assert_int_equal(errno, EINVAL);
	assert_null(ctl_conn_new(&t->cfg, &ops, NULL, NULL, &t->local));
	for (i = 0; i < sizeof(bad_counts) / sizeof(bad_counts[0]); i++) {
		t->cfg.count = bad_counts[i];
		t->c = ctl_conn_new(&t->cfg, &ops, NULL, &t->peer, &t->local);
		assert_non_null(t->c);
		assert_int_equal(ctl_conn_start(t->c), -EINVAL);
		ctl_conn_free(t->c);
		t->c = NULL;
	}
	t->cfg.count = 1U << 31;
	t->c = ctl_conn_new(&t->cfg, &ops, NULL, &t->peer, &t->local);
	assert_int_equal(ctl_conn_start(t->c), 0);
	assert_int_equal(ctl_conn_start(t->c), -EINVAL); /* only once */
	ctl_conn_free(NULL);
}

/* Test that octets before the greeting are a protocol error. */
static void test_input_before_start(void **state)
{
	struct tc *t = *state;
	__u8 b = 1;

	t->c = ctl_conn_new(&t->cfg, &ops, &t->o, &t->peer, &t->local);
	assert_int_equal(ctl_conn_input(t->c, &b, 1), CTL_CLOSE_PROTOCOL);
	/* Closed stays closed, whatever comes. */
	assert_int_equal(ctl_conn_input(t->c, &b, 1), CTL_CLOSE_PROTOCOL);
	assert_int_equal(ctl_conn_eof(t->c), CTL_CLOSE_PROTOCOL);
}

/* Test that the unauthenticated Server-Start is exactly the RFC 4656 §3.1 figure. */
static void test_server_start_unauth_bytes(void **state)
{
	struct tc *t = *state;
	const __u8 expect[48] = {
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* MBZ */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* MBZ */
		0x00,						/* Accept */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* Server-IV (unused) */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* Server-IV, cont. */
		0xe8, 0xf1, 0xa2, 0xb3, 0xc4, 0xd5, 0xe6, 0xf7, /* Start-Time */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* MBZ */
	};
	__u8 m[164] = { 0, 0, 0, 1 }, s[48];

	conn_open(t);
	read_greeting(t);
	/* KeyID, Token and Client-IV are unused: anything goes. */
	memset(m + 4, 0xa5, 160);
	csend(t, m, sizeof(m));
	crecv(t, s, sizeof(s));
	assert_memory_equal(s, expect, sizeof(expect));
	assert_int_equal(t->r, CTL_OPEN);
	assert_int_equal(ctl_conn_mode(t->c), M_OPEN);
	assert_false(ctl_conn_mid_message(t->c));
}

/* Test that Mode 0 (and no security bit at all) means the client quits: no answer. */
static void test_setup_mode_zero(void **state)
{
	struct tc *t = *state;
	static const __u32 modes[] = { 0, M_INDIV, M_REFLECT | M_SYMM };
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		conn_open(t);
		read_greeting(t);
		send_setup(t, modes[i], "", "", false);
		assert_int_equal(t->r, CTL_CLOSE_CLIENT_QUIT);
		assert_int_equal(cpending(t), 0);
		assert_int_equal(ctl_conn_mode(t->c), 0);
		conn_drop(t);
	}
}

/* Test that a mode the server did not offer gets Server-Start Accept 3 and a close. */
static void test_setup_mode_refused(void **state)
{
	struct tc *t = *state;
	static const struct {
		__u32 offered, mode;
	} cases[] = {
		{ ALL_MODES, M_OPEN | M_AUTH },		 /* two security bits */
		{ ALL_MODES, M_AUTH | M_ENC | M_MIXED }, /* three */
		{ M_OPEN, M_OPEN | M_INDIV },		 /* feature not offered */
		{ M_OPEN | M_INDIV, M_OPEN | M_REFLECT },
		{ M_OPEN | M_REFLECT, M_OPEN | M_SYMM },
		{ M_OPEN, M_ENC },	       /* security mode not offered */
		{ ALL_MODES, M_OPEN | 0x80 },  /* assigned (RFC 7717), never offered */
		{ ALL_MODES, M_OPEN | 0x200 }, /* assigned (RFC 8186), never offered */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t->cfg.modes_offered = cases[i].offered;
		conn_open(t);
		read_greeting(t);
		send_setup(t, cases[i].mode, KEY_ID, SECRET, false);
		assert_int_equal(read_server_start(t), XT_ACCEPT_NOT_SUPPORTED);
		assert_int_equal(t->r, CTL_CLOSE_MODE_REFUSED);
		assert_int_equal(cpending(t), 0);
		assert_int_equal(ctl_conn_mode(t->c), 0);
		conn_drop(t);
	}

	/* Authenticated modes without a keyring are simply not offered. */
	t->cfg.modes_offered = ALL_MODES;
	t->cfg.keys = NULL;
	conn_open(t);
	read_greeting(t);
	send_setup(t, M_AUTH, KEY_ID, SECRET, false);
	assert_int_equal(read_server_start(t), XT_ACCEPT_NOT_SUPPORTED);
	assert_int_equal(t->r, CTL_CLOSE_MODE_REFUSED);
	assert_string_equal(ctl_conn_detail(t->c), "Set-Up-Response: mode not offered");
}

/* Test that unassigned Mode bits (10-31) are ignored, not refused (RFC 4656 §3.1). */
static void test_setup_unassigned_bits(void **state)
{
	struct tc *t = *state;

	conn_open(t);
	read_greeting(t);
	send_setup(t, M_OPEN | M_REFLECT | 0xfffffc00U, "", "", false);
	t->cl.mode = M_OPEN | M_REFLECT;
	assert_int_equal(read_server_start(t), 0);
	assert_int_equal(t->r, CTL_OPEN);
	assert_int_equal(ctl_conn_mode(t->c), M_OPEN | M_REFLECT);
}

/* Test that an unknown KeyID, a wrong secret and a corrupted Token get Accept 1. */
static void test_setup_auth_failures(void **state)
{
	struct tc *t = *state;
	static const struct {
		const char *key_id, *secret;
		bool corrupt;
		const char *detail;
	} cases[] = {
		{ "mallory", SECRET, false, "Set-Up-Response: unknown KeyID" },
		{ "alic", SECRET, false, "Set-Up-Response: unknown KeyID" },
		{ KEY_ID, "correct horse battery stapler", false,
		  "Set-Up-Response: Token does not match the Challenge" },
		{ KEY_ID, SECRET, true, "Set-Up-Response: Token does not match the Challenge" },
	};
	static const __u32 modes[] = { M_AUTH, M_ENC, M_MIXED };
	size_t i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (j = 0; j < sizeof(modes) / sizeof(modes[0]); j++) {
			conn_open(t);
			read_greeting(t);
			send_setup(t, modes[j], cases[i].key_id, cases[i].secret, cases[i].corrupt);
			assert_int_equal(read_server_start(t), XT_ACCEPT_FAILURE);
			assert_int_equal(t->r, CTL_CLOSE_AUTH_FAILED);
			assert_string_equal(ctl_conn_detail(t->c), cases[i].detail);
			assert_int_equal(ctl_conn_mode(t->c), 0);
			assert_int_equal(cpending(t), 0);
			conn_drop(t);
		}
	}
}

/* Test that EOF at every point of the Set-Up-Response is told apart from a quit. */
static void test_setup_truncated(void **state)
{
	struct tc *t = *state;
	__u8 m[164] = { 0, 0, 0, M_AUTH };
	size_t len;

	for (len = 0; len < sizeof(m); len++) {
		conn_open(t);
		read_greeting(t);
		if (len)
			csend(t, m, len);
		assert_int_equal(ctl_conn_mid_message(t->c), len != 0);
		cshutdown(t);
		assert_int_equal(t->r, len ? CTL_CLOSE_TRUNCATED : CTL_CLOSE_CLIENT_QUIT);
		assert_int_equal(cpending(t), 0);
		conn_drop(t);
	}
}

/* ---- unauthenticated exchanges, byte for byte ------------------------------ */

/* Test that a hand-written Request-TW-Session (RFC 5357 §3.5) is what rq_build makes. */
static void test_request_encoding(void **state)
{
	const __u8 expect[112] = {
		0x05, 0x04, 0x00, 0x00,				/* Cmd 5, IPVN 4, Conf-S/R 0 */
		0x00, 0x00, 0x00, 0x00,				/* Number of Schedule Slots */
		0x00, 0x00, 0x00, 0x00,				/* Number of Packets */
		0x13, 0x88, 0x13, 0x89,				/* Sender/Receiver Port */
		0xc0, 0x00, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00, /* Sender Address */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* (IPv4: MBZ) */
		0xc0, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, /* Receiver Address */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* (IPv4: MBZ) */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* SID */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* SID, cont. */
		0x00, 0x00, 0x00, 0x1b,				/* Padding Length 27 */
		0xe8, 0xf1, 0xa2, 0xb4, 0x00, 0x00, 0x00, 0x00, /* Start Time */
		0x00, 0x00, 0x00, 0x02, 0x80, 0x00, 0x00, 0x00, /* Timeout 2.5 s */
		0x2e, 0x00, 0x00, 0x00,				/* Type-P: DSCP 46, bits 2-7 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* MBZ */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* HMAC */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* HMAC, cont. */
	};
	struct rq r = rq_default();
	__u8 m[112];

	(void)state;
	memcpy(r.saddr, "\xc0\x00\x02\x01", 4);
	memcpy(r.raddr, "\xc0\x00\x02\x02", 4);
	r.type_p = 46U << 24;
	rq_build(&r, m);
	assert_memory_equal(m, expect, sizeof(expect));
}

/* Test a whole unauthenticated session: every reply against bytes written out. */
static void test_unauth_exchange(void **state)
{
	struct tc *t = *state;
	const __u8 accept_expect[48] = {
		0x00, 0x00, 0x13, 0x89,				/* Accept 0, MBZ, Port 5001 */
		0xc0, 0x00, 0x02, 0x01, 0xe8, 0xf1, 0xa2, 0xb3, /* SID */
		0x00, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0x01, /* SID, cont. */
		0x00, 0x00, 0x00, 0x00,				/* MBZ (RFC 6038 not chosen) */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* MBZ */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* HMAC (unused) */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* HMAC, cont. */
	};
	const __u8 ack_expect[32] = { 0 }; /* Start-Ack, Accept 0 */
	struct rq r = rq_default();
	union xt_addr a;
	__u8 acc[48], ack[32];

	setup_mode(t, M_OPEN);
	r.type_p = 46U << 24;
	r.padding = 64;
	r.hmac_fill = 0x5a; /* MBZ in this mode: ignored */
	request(t, &r, acc);
	assert_memory_equal(acc, accept_expect, sizeof(accept_expect));
	assert_int_equal(t->o.requests, 1);
	/* What the owner was asked, zero addresses replaced by the connection's. */
	assert_int_equal(t->o.req.ipvn, 4);
	assert_memory_equal(&t->o.req.sender_addr, &t->peer, 16);
	assert_memory_equal(&t->o.req.receiver_addr, &t->local, 16);
	assert_int_equal(t->o.req.sender_port, 5000);
	assert_int_equal(t->o.req.receiver_port, 5001);
	assert_int_equal(t->o.req.padding_length, 64);
	assert_int_equal(t->o.req.start_time_ntp, 0xe8f1a2b400000000ULL);
	assert_int_equal(t->o.req.timeout_ns, 2500000000ULL);
	assert_int_equal(t->o.req.dscp, 46);
	assert_int_equal(t->o.req.mode, M_OPEN);
	assert_false(t->o.req_has_keys);

	/* A second session; explicit addresses, the 12 octets after IPv4 ignored. */
	r = rq_default();
	memcpy(r.saddr, "\xc0\x00\x02\x01\xff\xff", 6);
	memcpy(r.raddr, "\xc0\x00\x02\x63\x01", 5);
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_OK);
	assert_int_equal(acc[19], 2);
	assert_memory_equal(&t->o.req.sender_addr, &t->peer, 16);
	assert_int_equal(xt_addr_parse("192.0.2.99", &a), 0);
	assert_memory_equal(&t->o.req.receiver_addr, &a, 16);

	start_sessions(t, ack);
	assert_memory_equal(ack, ack_expect, sizeof(ack_expect));
	assert_int_equal(t->o.starts, 1);
	assert_true(t->o.last_sids_null);
	assert_int_equal(t->o.running, 2);

	/* Stop-Sessions has no reply in TWAMP (RFC 5357 §3.8). */
	stop_sessions(t, XT_ACCEPT_OK, 2);
	assert_int_equal(cpending(t), 0);
	assert_int_equal(t->r, CTL_OPEN);
	assert_int_equal(t->o.stops, 1);
	assert_int_equal(t->o.last_accept, 0);

	/* Back to requesting: the cycle can run again. */
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_OK);
	start_sessions(t, ack);
	assert_int_equal(ack[0], XT_ACCEPT_OK);
	stop_sessions(t, XT_ACCEPT_OK, 1);
	cshutdown(t);
	assert_int_equal(t->r, CTL_CLOSE_CLIENT_QUIT);
}

/*
 * Test that a privileged Receiver Port (here 53 and 1023) reaches the owner
 * as 0, "server chooses", while 1024 is passed on as asked.
 */
static void test_request_privileged_port(void **state)
{
	struct tc *t = *state;
	struct rq r = rq_default();
	__u8 acc[48];

	setup_mode(t, M_OPEN);
	r.rport = 53;
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_OK);
	assert_int_equal(t->o.req.receiver_port, 0);
	r.rport = 1023;
	request(t, &r, acc);
	assert_int_equal(t->o.req.receiver_port, 0);
	r.rport = 1024;
	request(t, &r, acc);
	assert_int_equal(t->o.req.receiver_port, 1024);
	assert_int_equal(t->o.requests, 3);
}

/* Test that an owner's refusal reaches the client with Port 0 and no SID. */
static void test_owner_refuses(void **state)
{
	struct tc *t = *state;
	struct rq r = rq_default();
	__u8 acc[48], ack[32];

	setup_mode(t, M_OPEN);
	t->o.reply.accept = XT_ACCEPT_TEMPORARY_LIMIT;
	request(t, &r, acc);
	assert_int_equal(t->o.requests, 1);
	assert_int_equal(acc[0], XT_ACCEPT_TEMPORARY_LIMIT);
	assert_true(zero(acc + 1, 47));
	/* Nothing accepted, nothing to start. */
	start_sessions(t, ack);
	assert_int_equal(ack[0], XT_ACCEPT_FAILURE);
	assert_int_equal(t->o.starts, 0);

	/* The owner can refuse Start-Sessions too; the session stays startable. */
	t->o.reply.accept = XT_ACCEPT_OK;
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_OK);
	t->o.start_accept = XT_ACCEPT_INTERNAL_ERROR;
	start_sessions(t, ack);
	assert_int_equal(ack[0], XT_ACCEPT_INTERNAL_ERROR);
	t->o.start_accept = XT_ACCEPT_OK;
	start_sessions(t, ack);
	assert_int_equal(ack[0], XT_ACCEPT_OK);
	assert_int_equal(t->o.starts, 2);
	assert_int_equal(t->r, CTL_OPEN);
}

/* Test that Start-Sessions before any request is refused and the connection lives. */
static void test_start_before_request(void **state)
{
	struct tc *t = *state;
	const __u8 expect[32] = { XT_ACCEPT_FAILURE };
	struct rq r = rq_default();
	__u8 ack[32], acc[48];

	setup_mode(t, M_OPEN);
	start_sessions(t, ack);
	assert_memory_equal(ack, expect, sizeof(expect));
	assert_int_equal(t->o.starts, 0);
	assert_int_equal(t->r, CTL_OPEN);
	request(t, &r, acc);
	start_sessions(t, ack);
	assert_int_equal(ack[0], XT_ACCEPT_OK);
	/* Started: a second Start-Sessions has nothing to start. */
	start_sessions(t, ack);
	assert_int_equal(ack[0], XT_ACCEPT_FAILURE);
	assert_int_equal(t->o.starts, 1);
}

/* Test that requests while sessions run get Accept 3 (RFC 4656 §3.4). */
static void test_request_while_running(void **state)
{
	struct tc *t = *state;
	struct rq r = rq_default();
	__u8 acc[48], ack[32], m[112];

	setup_mode(t, M_OPEN);
	request(t, &r, acc);
	start_sessions(t, ack);
	rq_build(&r, m);
	send_cmd(t, m, sizeof(m));
	expect_accept3(t);
	assert_int_equal(t->o.requests, 1);
	assert_int_equal(t->r, CTL_OPEN);
	stop_sessions(t, XT_ACCEPT_OK, 1);
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_OK);
}

/* Test that Stop-Sessions with the wrong Number of Sessions stops all and closes. */
static void test_stop_wrong_n(void **state)
{
	struct tc *t = *state;
	struct rq r = rq_default();
	__u8 acc[48], ack[32];

	setup_mode(t, M_OPEN);
	request(t, &r, acc);
	start_sessions(t, ack);
	stop_sessions(t, XT_ACCEPT_OK, 2);
	assert_int_equal(t->r, CTL_CLOSE_PROTOCOL);
	assert_int_equal(t->o.stops, 1);
	assert_true(t->o.last_sids_null);
	assert_int_equal(t->o.last_accept, XT_ACCEPT_FAILURE); /* results invalid */
	assert_int_equal(cpending(t), 0);

	/* Also when nothing was started and the client claims one. */
	conn_drop(t);
	setup_mode(t, M_OPEN);
	stop_sessions(t, XT_ACCEPT_TEMPORARY_LIMIT, 1);
	assert_int_equal(t->r, CTL_CLOSE_PROTOCOL);
	assert_int_equal(t->o.last_accept, XT_ACCEPT_TEMPORARY_LIMIT);
}

/* Test that Stop-Sessions with Accept != 0 stops the sessions and closes. */
static void test_stop_failure(void **state)
{
	struct tc *t = *state;
	struct rq r = rq_default();
	__u8 acc[48], ack[32];

	setup_mode(t, M_OPEN);
	request(t, &r, acc);
	start_sessions(t, ack);
	stop_sessions(t, XT_ACCEPT_INTERNAL_ERROR, 1);
	assert_int_equal(t->r, CTL_CLOSE_STOP_FAILURE);
	assert_int_equal(t->o.stops, 1);
	assert_int_equal(t->o.last_accept, XT_ACCEPT_INTERNAL_ERROR);
	assert_int_equal(cpending(t), 0);
}

/* ---- Request-TW-Session checks ------------------------------------------------ */

/* Test each malformed request: Accept 3 (or 1), owner not asked, connection open. */
static void test_request_refusals(void **state)
{
	struct tc *t = *state;
	struct {
		const char *what;
		struct rq r;
		__u8 accept;
	} cases[12];
	size_t i, n = 0;
	__u8 acc[48], m[112];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cases[i].r = rq_default(), cases[i].accept = XT_ACCEPT_NOT_SUPPORTED;
	cases[n].what = "Conf-Sender";
	cases[n++].r.conf_sender = 1;
	cases[n].what = "Conf-Receiver";
	cases[n++].r.conf_receiver = 1;
	cases[n].what = "Schedule Slots";
	cases[n++].r.slots = 1;
	cases[n].what = "Number of Packets";
	cases[n++].r.packets = 100;
	cases[n].what = "IPVN 5";
	cases[n++].r.ipvn = 5;
	cases[n].what = "IPVN 0";
	cases[n++].r.ipvn = 0x40; /* 4 in the MBZ nibble, 0 in IPVN */
	cases[n].what = "SID";
	cases[n++].r.sid[15] = 1;
	cases[n].what = "Type-P PHB form";
	cases[n++].r.type_p = 0x40000000U | (0x2e << 14);
	cases[n].what = "Type-P DSCP form with low bits";
	cases[n++].r.type_p = (46U << 24) | 1;
	cases[n].what = "IPVN 6 on an IPv4 connection";
	cases[n++].r.ipvn = 6;
	cases[n].what = "Sender Address of a third party";
	memcpy(cases[n].r.saddr, "\xc6\x33\x64\x07", 4);
	cases[n++].accept = XT_ACCEPT_FAILURE;

	setup_mode(t, M_OPEN);
	for (i = 0; i < n; i++) {
		rq_build(&cases[i].r, m);
		send_cmd(t, m, sizeof(m));
		recv_reply(t, acc, sizeof(acc));
		if (acc[0] != cases[i].accept)
			fail_msg("%s: Accept %u", cases[i].what, acc[0]);
		assert_true(zero(acc + 1, 31));
		assert_int_equal(t->o.requests, 0);
		assert_int_equal(t->r, CTL_OPEN);
	}
	assert_string_equal(ctl_conn_detail(t->c),
			    "Request-TW-Session: Sender Address is not the control client");

	/* The high nibble of the IPVN octet is MBZ: ignored. */
	cases[0].r = rq_default();
	cases[0].r.ipvn = 0xf4;
	request(t, &cases[0].r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_OK);
	assert_int_equal(t->o.req.ipvn, 4);
	/* Nothing was accepted by the refusals: one session to start. */
	start_sessions(t, acc);
	assert_int_equal(t->o.running, 1);
}

/* Test IPv6: zero addresses become the connection's, IPVN 4 is refused. */
static void test_request_ipv6(void **state)
{
	struct tc *t = *state;
	struct rq r = rq_default();
	__u8 acc[48];

	assert_int_equal(xt_addr_parse("2001:db8::1", &t->peer), 0);
	assert_int_equal(xt_addr_parse("2001:db8::2", &t->local), 0);
	setup_mode(t, M_OPEN);
	r.ipvn = 6;
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_OK);
	assert_int_equal(t->o.req.ipvn, 6);
	assert_memory_equal(&t->o.req.sender_addr, &t->peer, 16);
	assert_memory_equal(&t->o.req.receiver_addr, &t->local, 16);

	memcpy(r.saddr, t->peer.b, 16);
	memcpy(r.raddr, t->local.b, 16);
	r.raddr[15] = 3;
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_OK);
	assert_int_equal(t->o.req.receiver_addr.b[15], 3);

	r.saddr[15] = 9; /* someone else */
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_FAILURE);

	/* An IPv4-mapped receiver in an IPv6 request mixes families. */
	r = rq_default();
	r.ipvn = 6;
	assert_int_equal(xt_addr_parse("192.0.2.2", (union xt_addr *)r.raddr), 0);
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_NOT_SUPPORTED);

	r = rq_default(); /* IPVN 4 */
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_NOT_SUPPORTED);
	assert_int_equal(t->o.requests, 2);
}

/* ---- RFC 6038 ------------------------------------------------------------------ */

/* Test that Reflect Octets are echoed and Server octets sent, in that mode only. */
static void test_reflect_octets(void **state)
{
	struct tc *t = *state;
	struct rq r = rq_default();
	__u8 acc[48];

	setup_mode(t, M_OPEN | M_REFLECT);
	r.reflect = 0xbeef;
	r.pad_reflect = 16;
	r.padding = 64;
	t->o.reply.server_octets = 0x1234;
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_OK);
	assert_int_equal(get16(acc + 20), 0xbeef);
	assert_int_equal(get16(acc + 22), 0x1234);
	assert_true(zero(acc + 24, 8));
	assert_int_equal(t->o.req.octets_to_reflect, 0xbeef);
	assert_int_equal(t->o.req.padding_to_reflect_len, 16);

	/* Padding Length must exceed the padding to reflect: Accept 3, still echoed. */
	r.padding = 16;
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_NOT_SUPPORTED);
	assert_int_equal(get16(acc + 2), 0);
	assert_int_equal(get16(acc + 20), 0xbeef);
	assert_int_equal(get16(acc + 22), 0);
	assert_int_equal(t->o.requests, 1);
	r.padding = 17;
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_OK);

	/* Nothing to reflect: no constraint. */
	r.pad_reflect = 0;
	r.padding = 0;
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_OK);

	/* Without the mode, octets 88-91 are MBZ and Accept-Session 20-23 too. */
	conn_drop(t);
	setup_mode(t, M_OPEN);
	r = rq_default();
	r.reflect = 0xbeef;
	r.pad_reflect = 100;
	t->o.reply.server_octets = 0x1234;
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_OK);
	assert_true(zero(acc + 20, 12));
	assert_int_equal(t->o.req.octets_to_reflect, 0);
	assert_int_equal(t->o.req.padding_to_reflect_len, 0);
}

/* Test that Symmetrical Size reaches the owner, with the same padding rule. */
static void test_symmetrical_size(void **state)
{
	struct tc *t = *state;
	struct rq r = rq_default();
	__u8 acc[48];

	setup_mode(t, M_OPEN | M_REFLECT | M_SYMM);
	r.padding = 8; /* counted after the 41-octet base */
	r.pad_reflect = 4;
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_OK);
	assert_int_equal(t->o.req.mode, M_OPEN | M_REFLECT | M_SYMM);
	assert_int_equal(t->o.req.padding_length, 8);
	r.pad_reflect = 8;
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_NOT_SUPPORTED);
}

/* ---- RFC 5938 individual session control ------------------------------------ */

/* Test Start-N/Stop-N with mixed Accept values: one ack per value, SIDs in order. */
static void test_start_stop_n(void **state)
{
	struct tc *t = *state;
	static const __u32 modes[] = { M_OPEN | M_INDIV, M_ENC | M_INDIV | M_REFLECT };
	const __u8 first_ack[64] = {
		0x08, 0x00, 0x00, 0x00,				/* Start-N-Ack, Accept 0, MBZ */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* MBZ */
		0x00, 0x00, 0x00, 0x02,				/* Number of Sessions */
		0xc0, 0x00, 0x02, 0x01, 0xe8, 0xf1, 0xa2, 0xb3, /* SID 1 */
		0x00, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0x01, /* SID 1, cont. */
		0xc0, 0x00, 0x02, 0x01, 0xe8, 0xf1, 0xa2, 0xb3, /* SID 2 */
		0x00, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0x02, /* SID 2, cont. */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* HMAC (unused) */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* HMAC, cont. */
	};
	const __u8 start[4] = { 1, 2, 3, 4 }, stop[2] = { 2, 1 };
	struct rq r = rq_default();
	__u8 acc[48], m[96];
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		setup_mode(t, modes[i]);
		request(t, &r, acc);
		request(t, &r, acc);
		request(t, &r, acc);
		t->o.sid_accept[1] = XT_ACCEPT_OK;
		t->o.sid_accept[2] = XT_ACCEPT_OK;
		t->o.sid_accept[3] = XT_ACCEPT_TEMPORARY_LIMIT;
		/* SID 4 is unknown to the owner: left as the connection filled it. */
		n_sessions(t, 7, start, 4);
		assert_int_equal(t->o.starts, 1);
		assert_int_equal(t->o.last_n, 4);
		assert_true(t->o.prefilled);
		recv_reply(t, m, 64);
		if (!t->cl.cipher)
			assert_memory_equal(m, first_ack, sizeof(first_ack));
		else
			assert_memory_equal(m, first_ack, 48);
		recv_reply(t, m, 48);
		assert_int_equal(m[0], 8);
		assert_int_equal(m[1], XT_ACCEPT_TEMPORARY_LIMIT);
		assert_int_equal(get32(m + 12), 1);
		assert_int_equal(m[16 + 15], 3);
		recv_reply(t, m, 48);
		assert_int_equal(m[1], XT_ACCEPT_FAILURE);
		assert_int_equal(m[16 + 15], 4);
		assert_int_equal(cpending(t), 0);

		/* Requests stay allowed while sessions run in this mode. */
		request(t, &r, acc);
		assert_int_equal(acc[0], XT_ACCEPT_OK);

		n_sessions(t, 9, stop, 2);
		assert_int_equal(t->o.stops, 1);
		assert_int_equal(t->o.last_accept, XT_ACCEPT_OK);
		assert_int_equal(t->o.last_sids[0][15], 2);
		assert_int_equal(t->o.last_sids[1][15], 1);
		recv_reply(t, m, 64);
		assert_int_equal(m[0], 10);
		assert_int_equal(m[1], XT_ACCEPT_OK);
		assert_int_equal(get32(m + 12), 2);
		assert_int_equal(m[16 + 15], 2);
		assert_int_equal(m[32 + 15], 1);
		assert_int_equal(cpending(t), 0);
		assert_int_equal(t->r, CTL_OPEN);
		conn_drop(t);
	}
}

/* Test that Start-N with N = 0 or N above the bound is a protocol error. */
static void test_n_bounds(void **state)
{
	struct tc *t = *state;
	__u8 m[32] = { 7 };

	setup_mode(t, M_OPEN | M_INDIV);
	send_cmd(t, m, 32);
	assert_int_equal(t->r, CTL_CLOSE_PROTOCOL);
	assert_int_equal(t->o.starts, 0);
	assert_int_equal(cpending(t), 0);
	conn_drop(t);

	/* Closed on the first block: nothing of the 16 KiB is waited for. */
	setup_mode(t, M_OPEN | M_INDIV);
	m[0] = 9;
	put32(m + 12, CTL_MAX_N_SESSIONS + 1);
	csend(t, m, 16);
	assert_int_equal(t->r, CTL_CLOSE_PROTOCOL);
	assert_int_equal(cpending(t), 0);
	conn_drop(t);

	setup_mode(t, M_OPEN | M_INDIV);
	put32(m + 12, 0xffffffffU);
	csend(t, m, 16);
	assert_int_equal(t->r, CTL_CLOSE_PROTOCOL);
}

/* Test that each style's commands are unexpected in the other style (RFC 5938 §3.1). */
static void test_wrong_control_style(void **state)
{
	struct tc *t = *state;
	static const struct {
		__u32 mode;
		__u8 cmd;
	} cases[] = {
		{ M_OPEN, 7 },		 { M_OPEN, 9 },		  { M_OPEN | M_INDIV, 2 },
		{ M_OPEN | M_INDIV, 3 }, { M_AUTH | M_INDIV, 2 }, { M_AUTH, 7 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		__u8 m[48] = { cases[i].cmd };

		setup_mode(t, cases[i].mode);
		put32(m + 12, 1);
		send_cmd(t, m, 48);
		expect_accept3(t);
		assert_int_equal(t->r, CTL_CLOSE_PROTOCOL);
		assert_int_equal(t->o.starts + t->o.stops, 0);
		conn_drop(t);
	}
}

/* Test that unknown, forbidden and reserved commands get Accept-Session 3, then close. */
static void test_unexpected_commands(void **state)
{
	struct tc *t = *state;
	static const __u8 cmds[] = { 0, 1, 4, 6, 8, 10, 11, 12, 0x80, 0xff };
	const __u8 expect[48] = { 3 };
	size_t i;
	__u8 a[48];

	for (i = 0; i < sizeof(cmds); i++) {
		__u8 m[32] = { cmds[i] };

		setup_mode(t, i % 2 ? M_ENC : M_OPEN);
		send_cmd(t, m, 32);
		recv_reply(t, a, 48);
		if (!t->cl.cipher)
			assert_memory_equal(a, expect, 48);
		else
			assert_memory_equal(a, expect, 32);
		assert_int_equal(t->r, CTL_CLOSE_PROTOCOL);
		assert_string_equal(ctl_conn_detail(t->c), "unexpected command number");
		assert_int_equal(cpending(t), 0);
		conn_drop(t);
	}
}

/* ---- authenticated, encrypted and mixed modes ------------------------------------ */

/* One full exchange; the HMACs checked against one-shot HMACs of the expected plaintext. */
static void secure_exchange(struct tc *t, __u32 mode)
{
	struct rq r = rq_default();
	__u8 acc[48], ack[32], span[48], mac[16];

	setup_mode(t, mode);
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_OK);
	assert_int_equal(get16(acc + 2), 5001);
	assert_int_equal(acc[19], 1);
	/* The first server HMAC covers Server-Start's last block (RFC 5357 §3.2). */
	memcpy(span, t->cl.start_block, 16);
	memcpy(span + 16, acc, 32);
	assert_int_equal(tw_hmac_oneshot(t->cl.hmac, span, 48, mac), 0);
	assert_memory_equal(mac, acc + 32, 16);
	/* The owner gets the session keys for the test keys. */
	assert_true(t->o.req_has_keys);
	assert_memory_equal(t->o.req_aes, t->cl.aes, 16);
	assert_memory_equal(t->o.req_hmac, t->cl.hmac, 32);
	assert_int_equal(t->o.req.mode, mode);
	assert_memory_equal(&t->o.req.sender_addr, &t->peer, 16);
	assert_int_equal(t->o.req.timeout_ns, 2500000000ULL);

	start_sessions(t, ack);
	assert_int_equal(ack[0], XT_ACCEPT_OK);
	assert_true(zero(ack + 1, 15));
	/* The next covers only the Start-Ack's own first block. */
	assert_int_equal(tw_hmac_oneshot(t->cl.hmac, ack, 16, mac), 0);
	assert_memory_equal(mac, ack + 16, 16);

	stop_sessions(t, XT_ACCEPT_OK, 1);
	assert_int_equal(cpending(t), 0);
	assert_int_equal(t->o.stops, 1);
	/* The stream stays in step after a message with no reply. */
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_OK);
	assert_int_equal(acc[19], 2);
	cshutdown(t);
	assert_int_equal(t->r, CTL_CLOSE_CLIENT_QUIT);
}

/* Test a whole authenticated exchange. */
static void test_auth_exchange(void **state)
{
	secure_exchange(*state, M_AUTH);
}

/* Test a whole encrypted exchange. */
static void test_enc_exchange(void **state)
{
	secure_exchange(*state, M_ENC);
}

/* Test a whole mixed-mode exchange (RFC 5618: control as encrypted). */
static void test_mixed_exchange(void **state)
{
	secure_exchange(*state, M_MIXED);
}

/* The owner's worker, done: K from what derive_key was given. */
static void finish_derivation(struct tc *t)
{
	__u8 k[16];

	assert_true(ctl_conn_deriving(t->c));
	assert_int_equal(tw_derive_key(t->o.kdf_secret, t->o.kdf_secret_len, t->o.kdf_salt,
				       t->o.kdf_count, k),
			 0);
	t->r = ctl_conn_key_derived(t->c, 0, k);
	assert_false(ctl_conn_deriving(t->c));
	pump(t);
}

/*
 * Test the derivation through ops->derive_key: the connection waits without
 * answering, holds input meanwhile, completes the handshake once given K;
 * a full queue refuses with Accept 5; freeing it while deriving is clean.
 */
static void test_async_derivation(void **state)
{
	struct tc *t = *state;
	struct rq r = rq_default();
	__u8 acc[48], junk[48] = { 0 };

	t->ops = &async_ops;
	conn_open(t);
	read_greeting(t);
	send_setup(t, M_ENC, KEY_ID, SECRET, false);
	assert_int_equal(t->o.kdf_calls, 1);
	assert_true(ctl_conn_deriving(t->c));
	assert_int_equal(t->r, CTL_OPEN);
	assert_int_equal(cpending(t), 0); /* no Server-Start before K */
	assert_int_equal(t->o.kdf_secret_len, strlen(SECRET));
	assert_memory_equal(t->o.kdf_secret, SECRET, strlen(SECRET));
	assert_memory_equal(t->o.kdf_salt, t->cl.greeting + 32, 16);
	assert_int_equal(t->o.kdf_count, COUNT);
	assert_false(ctl_conn_mid_message(t->c));
	finish_derivation(t);
	assert_int_equal(read_server_start(t), XT_ACCEPT_OK);
	assert_int_equal(ctl_conn_mode(t->c), M_ENC);
	request(t, &r, acc);
	assert_int_equal(acc[0], XT_ACCEPT_OK);
	conn_drop(t);

	/* Input before Server-Start is held, then read as the first command. */
	owner_reset(&t->o);
	conn_open(t);
	read_greeting(t);
	send_setup(t, M_ENC, KEY_ID, SECRET, false);
	csend(t, junk, sizeof(junk));
	assert_int_equal(t->r, CTL_OPEN);
	assert_int_equal(cpending(t), 0);
	finish_derivation(t);
	assert_int_equal(read_server_start(t), XT_ACCEPT_OK);
	assert_int_not_equal(t->r, CTL_OPEN); /* zeros decrypt to nonsense */
	assert_int_equal(t->o.requests, 0);
	conn_drop(t);

	/* A wrong secret still fails after the detour. */
	owner_reset(&t->o);
	conn_open(t);
	read_greeting(t);
	send_setup(t, M_AUTH, KEY_ID, "not the secret", false);
	finish_derivation(t);
	assert_int_equal(read_server_start(t), XT_ACCEPT_FAILURE);
	assert_int_equal(t->r, CTL_CLOSE_AUTH_FAILED);
	conn_drop(t);

	/* The owner's queue is full. */
	owner_reset(&t->o);
	t->o.kdf_ret = -EBUSY;
	conn_open(t);
	read_greeting(t);
	send_setup(t, M_MIXED, KEY_ID, SECRET, false);
	assert_int_equal(read_server_start(t), XT_ACCEPT_TEMPORARY_LIMIT);
	assert_int_equal(t->r, CTL_CLOSE_BUSY);
	assert_false(ctl_conn_deriving(t->c));
	conn_drop(t);

	/* Closed while deriving: nothing left behind (ASan/LSan in sanitize). */
	owner_reset(&t->o);
	conn_open(t);
	read_greeting(t);
	send_setup(t, M_ENC, KEY_ID, SECRET, false);
	assert_true(ctl_conn_deriving(t->c));
	conn_drop(t);
	t->ops = NULL;
}

/* Test that the first reply, even a refusal, carries the HMAC over Server-Start. */
static void test_first_hmac_on_start_ack(void **state)
{
	struct tc *t = *state;
	__u8 ack[32], span[32], mac[16];

	setup_mode(t, M_AUTH);
	start_sessions(t, ack);
	assert_int_equal(ack[0], XT_ACCEPT_FAILURE);
	memcpy(span, t->cl.start_block, 16);
	memcpy(span + 16, ack, 16);
	assert_int_equal(tw_hmac_oneshot(t->cl.hmac, span, 32, mac), 0);
	assert_memory_equal(mac, ack + 16, 16);
}

/* Test that a flipped bit anywhere in a command closes with no reply, owner untouched. */
static void test_bad_hmac(void **state)
{
	struct tc *t = *state;
	static const __u32 modes[] = { M_AUTH, M_ENC, M_MIXED };
	static const size_t flips[] = { 20, 40, 95, 96, 100, 111 };
	struct rq r = rq_default();
	size_t i, j;
	__u8 m[112];

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		for (j = 0; j < sizeof(flips) / sizeof(flips[0]); j++) {
			setup_mode(t, modes[i]);
			rq_build(&r, m);
			seal_cmd(t, m, sizeof(m));
			m[flips[j]] ^= 0x04; /* in the ciphertext; 96+ is the HMAC */
			csend(t, m, sizeof(m));
			assert_int_equal(t->r, CTL_CLOSE_BAD_HMAC);
			assert_int_equal(t->o.requests, 0);
			assert_int_equal(cpending(t), 0);
			conn_drop(t);
		}
	}

	/* Stop-Sessions with a wrong HMAC stops nothing. */
	setup_mode(t, M_ENC);
	{
		__u8 s[32] = { 3 };

		seal_cmd(t, s, sizeof(s));
		s[31] ^= 0x80;
		csend(t, s, sizeof(s));
	}
	assert_int_equal(t->r, CTL_CLOSE_BAD_HMAC);
	assert_int_equal(t->o.stops, 0);
}

/* Test that an HMAC over the wrong span (a skipped message) does not verify. */
static void test_hmac_span(void **state)
{
	struct tc *t = *state;
	__u8 m[32] = { 2 }, junk[16] = { 0 };

	setup_mode(t, M_AUTH);
	/* The client HMACs octets it never sends: the server's span differs. */
	assert_int_equal(tw_hmac_add(&t->cl.tx_mac, junk, sizeof(junk)), 0);
	send_cmd(t, m, sizeof(m));
	assert_int_equal(t->r, CTL_CLOSE_BAD_HMAC);
}

/* ---- framing ------------------------------------------------------------------ */

/* Test EOF at every octet of every command, in clear and encrypted. */
static void test_commands_truncated(void **state)
{
	struct tc *t = *state;
	static const __u32 modes[] = { M_OPEN | M_INDIV, M_ENC | M_INDIV, M_OPEN, M_AUTH };
	struct rq r = rq_default();
	__u8 m[112], msgs[4][112];
	size_t lens[4] = { 112, 32, 32, 64 };
	size_t i, k, len;

	rq_build(&r, msgs[0]);
	memset(msgs[1], 0, 112);
	msgs[1][0] = 2;
	memset(msgs[2], 0, 112);
	msgs[2][0] = 3;
	memset(msgs[3], 0, 112);
	msgs[3][0] = 7;
	put32(msgs[3] + 12, 2);

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		for (k = 0; k < 4; k++) {
			bool indiv = modes[i] & M_INDIV;

			/* Start/Stop in their own style only. */
			if ((k == 1 || k == 2) == indiv || (k == 3 && !indiv))
				continue;
			for (len = 0; len < lens[k]; len++) {
				setup_mode(t, modes[i]);
				memcpy(m, msgs[k], lens[k]);
				seal_cmd(t, m, lens[k]);
				if (len)
					csend(t, m, len);
				assert_int_equal(ctl_conn_mid_message(t->c), len != 0);
				cshutdown(t);
				assert_int_equal(t->r,
						 len ? CTL_CLOSE_TRUNCATED : CTL_CLOSE_CLIENT_QUIT);
				assert_int_equal(cpending(t), 0);
				assert_int_equal(t->o.requests + t->o.starts + t->o.stops, 0);
				conn_drop(t);
			}
		}
	}
}

/* Test that input split into single octets gives the same exchange. */
static void test_one_octet_chunks(void **state)
{
	struct tc *t = *state;

	t->chunk = 1;
	secure_exchange(t, M_ENC);
	conn_drop(t);
	t->chunk = 1;
	setup_mode(t, M_OPEN | M_INDIV);
	{
		const __u8 sids[2] = { 1, 2 };
		struct rq r = rq_default();
		__u8 acc[48], m[64];

		request(t, &r, acc);
		request(t, &r, acc);
		t->o.sid_accept[1] = t->o.sid_accept[2] = XT_ACCEPT_OK;
		n_sessions(t, 7, sids, 2);
		recv_reply(t, m, 64);
		assert_int_equal(m[0], 8);
		assert_int_equal(get32(m + 12), 2);
	}
	assert_int_equal(t->r, CTL_OPEN);
}

/* Test that a whole conversation in one write is handled message by message. */
static void test_pipelined(void **state)
{
	struct tc *t = *state;
	struct rq r = rq_default();
	__u8 all[112 * 3 + 32], acc[48], ack[32];

	setup_mode(t, M_AUTH);
	rq_build(&r, all);
	seal_cmd(t, all, 112);
	rq_build(&r, all + 112);
	seal_cmd(t, all + 112, 112);
	rq_build(&r, all + 224);
	all[224 + 2] = 1; /* Conf-Sender: refused */
	seal_cmd(t, all + 224, 112);
	memset(all + 336, 0, 32);
	all[336] = 2;
	seal_cmd(t, all + 336, 32);
	csend(t, all, sizeof(all));
	recv_reply(t, acc, 48);
	assert_int_equal(acc[0], 0);
	recv_reply(t, acc, 48);
	assert_int_equal(acc[0], 0);
	recv_reply(t, acc, 48);
	assert_int_equal(acc[0], 3);
	recv_reply(t, ack, 32);
	assert_int_equal(ack[0], 0);
	assert_int_equal(t->o.running, 2);
}

/* Test EOF right after set-up and between commands: the client quit. */
static void test_eof_between_messages(void **state)
{
	struct tc *t = *state;
	struct rq r = rq_default();
	__u8 acc[48];

	setup_mode(t, M_AUTH);
	cshutdown(t);
	assert_int_equal(t->r, CTL_CLOSE_CLIENT_QUIT);
	assert_false(ctl_conn_mid_message(t->c));
	conn_drop(t);

	setup_mode(t, M_OPEN);
	request(t, &r, acc);
	cshutdown(t);
	assert_int_equal(t->r, CTL_CLOSE_CLIENT_QUIT);
	/* EOF again, or more input: the first reason stands. */
	assert_int_equal(ctl_conn_eof(t->c), CTL_CLOSE_CLIENT_QUIT);
	assert_int_equal(ctl_conn_input(t->c, acc, 1), CTL_CLOSE_CLIENT_QUIT);
}

/* ---- hostile input ------------------------------------------------------------ */

static size_t heap_in_use(void)
{
	return mallinfo2().uordblks;
}

/* Test that random octets close the connection without growing memory. */
static void test_garbage_flood(void **state)
{
	struct tc *t = *state;
	static const __u32 modes[] = { 0, M_OPEN, M_ENC, M_OPEN | M_INDIV };
	__u8 junk[4096];
	size_t i, sent, base, peak, queued;
	const void *out;
	int round;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		for (round = 0; round < 16; round++) {
			if (modes[i]) {
				setup_mode(t, modes[i]);
			} else {
				conn_open(t);
				read_greeting(t);
			}
			base = heap_in_use();
			peak = 0;
			for (sent = 0; sent < (1 << 20); sent += sizeof(junk)) {
				assert_int_equal(tw_random(junk, sizeof(junk)), 0);
				feed(t, junk, sizeof(junk));
				if (heap_in_use() > base + peak)
					peak = heap_in_use() - base;
				if (t->r != CTL_OPEN)
					break;
			}
			/* The receive buffer is part of the connection: no growth but replies. */
			assert_true(peak <= CTL_OUTPUT_MAX + 4096);
			assert_true(t->max_out <= CTL_OUTPUT_MAX);
			assert_int_not_equal(t->r, CTL_OPEN);
			assert_false(ctl_conn_mid_message(t->c));
			/* Closed: nothing more is read, nothing more is queued. */
			queued = ctl_conn_output(t->c, &out);
			assert_int_equal(ctl_conn_input(t->c, junk, sizeof(junk)), t->r);
			assert_int_equal(ctl_conn_output(t->c, &out), queued);
			conn_drop(t);
		}
	}
}

/* Test that a client sending requests without reading answers is cut off at the bound. */
static void test_unread_replies_bounded(void **state)
{
	struct tc *t = *state;
	struct rq r = rq_default();
	__u8 batch[112 * 64];
	size_t i, base, peak = 0;
	int rounds;

	setup_mode(t, M_AUTH);
	r.conf_sender = 1; /* refused by the connection: the owner keeps nothing */
	base = heap_in_use();
	for (rounds = 0; rounds < 10000 && t->r == CTL_OPEN; rounds++) {
		for (i = 0; i < 64; i++) {
			rq_build(&r, batch + 112 * i);
			seal_cmd(t, batch + 112 * i, 112);
		}
		csend(t, batch, sizeof(batch));
		if (heap_in_use() > base + peak)
			peak = heap_in_use() - base;
	}
	assert_int_equal(t->r, CTL_CLOSE_PROTOCOL);
	assert_string_equal(ctl_conn_detail(t->c), "output queue full: the client does not read");
	assert_true(t->max_out <= CTL_OUTPUT_MAX);
	assert_true(peak <= CTL_OUTPUT_MAX + 4096);
	assert_int_equal(t->o.requests, 0);
}

/* Test that every close reason has its own name. */
static void test_reason_names(void **state)
{
	enum ctl_close_reason r, s;

	(void)state;
	for (r = CTL_OPEN; r <= CTL_CLOSE_STOP_FAILURE; r++) {
		assert_true(strlen(ctl_close_reason_str(r)) > 0);
		for (s = CTL_OPEN; s < r; s++)
			assert_string_not_equal(ctl_close_reason_str(r), ctl_close_reason_str(s));
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, tc_setup, tc_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_greeting_layout),
		T(test_greeting_modes),
		T(test_async_derivation),
		T(test_start_arguments),
		T(test_input_before_start),
		T(test_server_start_unauth_bytes),
		T(test_setup_mode_zero),
		T(test_setup_mode_refused),
		T(test_setup_unassigned_bits),
		T(test_setup_auth_failures),
		T(test_setup_truncated),
		T(test_request_encoding),
		T(test_unauth_exchange),
		T(test_request_privileged_port),
		T(test_owner_refuses),
		T(test_start_before_request),
		T(test_request_while_running),
		T(test_stop_wrong_n),
		T(test_stop_failure),
		T(test_request_refusals),
		T(test_request_ipv6),
		T(test_reflect_octets),
		T(test_symmetrical_size),
		T(test_start_stop_n),
		T(test_n_bounds),
		T(test_wrong_control_style),
		T(test_unexpected_commands),
		T(test_auth_exchange),
		T(test_enc_exchange),
		T(test_mixed_exchange),
		T(test_first_hmac_on_start_ack),
		T(test_bad_hmac),
		T(test_hmac_span),
		T(test_commands_truncated),
		T(test_one_octet_chunks),
		T(test_pipelined),
		T(test_eof_between_messages),
		T(test_garbage_flood),
		T(test_unread_replies_bounded),
		T(test_reason_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
