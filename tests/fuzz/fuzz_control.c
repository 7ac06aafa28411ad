// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_control.c - libFuzzer target: TWAMP-Control bytes into one server
 * connection (user/control_conn.c), built once per mode:
 *
 *   FUZZ_MODE_SETUP  everything after the Server-Greeting is fuzzed: the
 *                    Set-Up-Response (mode, KeyID lookup, Token) and on;
 *                    keys configured, every mode offered.
 *   FUZZ_MODE_OPEN   a valid unauthenticated Set-Up-Response is sent
 *                    first; the commands after it are fuzzed.
 *   FUZZ_MODE_ENC    an encrypted-mode setup with a fixed key is done
 *                    first (Token computed from the greeting), then the
 *                    input is a list of records, each one command the
 *                    harness HMACs and encrypts as a client would, so the
 *                    fuzzer reaches the command parsers behind the HMAC.
 *
 * Input layout (OPEN/SETUP): octet 0 picks the split (how many octets each
 * ctl_conn_input() call gets, and whether the output is drained); the rest
 * is the byte stream.  ENC: records of [n][16 * (1 + n % 80) octets] (bit 7
 * of n: send it without a valid HMAC).  The owner accepts every session
 * and every SID, so the whole command set stays reachable.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "control_conn.h"
#include "keyfile.h"
#include "twamp_crypto.h"

#define FUZZ_MODE_SETUP 0
#define FUZZ_MODE_OPEN 1
#define FUZZ_MODE_ENC 2
#ifndef FUZZ_MODE
#define FUZZ_MODE FUZZ_MODE_OPEN
#endif

#define COUNT 1024
#define KEY_ID "fuzz"
#define SECRET "fuzzing secret"

struct owner {
	__u32 accepted, running;
	__u8 next;
};

static void own_request(void *owner, struct ctl_conn *c, const struct ctl_session_request *req,
			struct ctl_session_reply *rep)
{
	struct owner *o = owner;

	(void)c;
	memset(rep, 0, sizeof(*rep));
	/* Privileged ports arrive as 0 (control_conn.c): refuse an odd one instead. */
	rep->accept = req->receiver_port == 1025 ? XT_ACCEPT_FAILURE : XT_ACCEPT_OK;
	rep->port = req->receiver_port ? req->receiver_port : 50000;
	rep->sid[0] = 0xc0;
	rep->sid[15] = ++o->next;
	if (rep->accept == XT_ACCEPT_OK)
		o->accepted++;
}

static void own_sids(const __u8 (*sids)[XT_SID_LEN], __u32 n, __u8 *accepts)
{
	__u32 i;

	for (i = 0; sids && i < n; i++)
		accepts[i] = sids[i][0] == 0xc0 ? XT_ACCEPT_OK : XT_ACCEPT_FAILURE;
}

static __u8 own_start(void *owner, struct ctl_conn *c, const __u8 (*sids)[XT_SID_LEN], __u32 n,
		      __u8 *accepts)
{
	struct owner *o = owner;

	(void)c;
	own_sids(sids, n, accepts);
	if (!sids) {
		o->running += o->accepted;
		o->accepted = 0;
	}
	return XT_ACCEPT_OK;
}

static __u8 own_stop(void *owner, struct ctl_conn *c, const __u8 (*sids)[XT_SID_LEN], __u32 n,
		     __u8 accept, __u8 *accepts)
{
	struct owner *o = owner;

	(void)c;
	(void)accept;
	own_sids(sids, n, accepts);
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

static struct tw_key key;
static struct tw_keyring ring;

static __attribute__((unused)) void put32(__u8 *p, __u32 v)
{
	p[0] = (__u8)(v >> 24);
	p[1] = (__u8)(v >> 16);
	p[2] = (__u8)(v >> 8);
	p[3] = (__u8)v;
}

static __attribute__((unused)) __u32 get32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/* Consume what the server queued; the greeting / Server-Start are kept. */
static size_t drain(struct ctl_conn *c, __u8 *keep, size_t keep_len)
{
	const void *out;
	size_t n = ctl_conn_output(c, &out);

	if (keep && n >= keep_len)
		memcpy(keep, out, keep_len);
	ctl_conn_output_done(c, n);
	return n;
}

static enum ctl_close_reason feed(struct ctl_conn *c, const __u8 *p, size_t n, size_t chunk,
				  bool drain_output)
{
	enum ctl_close_reason r = CTL_OPEN;

	while (n && r == CTL_OPEN) {
		size_t k = chunk && chunk < n ? chunk : n;

		r = ctl_conn_input(c, p, k);
		p += k;
		n -= k;
		if (drain_output)
			drain(c, NULL, 0);
	}
	return r;
}

#if FUZZ_MODE == FUZZ_MODE_ENC
struct client {
	__u8 aes[16], hmac[32], iv[16];
	struct tw_cbc_stream tx;
	struct tw_hmac tx_mac;
};

/* RFC 4656 §3.1 Set-Up-Response for the encrypted mode, from the greeting. */
static int enc_setup(struct ctl_conn *c, struct client *cl, const __u8 greeting[64])
{
	__u8 m[164] = { 0 }, k[16], plain[64], start[48];

	put32(m, XT_MODE_ENCRYPTED);
	memcpy(m + 4, KEY_ID, strlen(KEY_ID));
	memset(cl->aes, 0x11, sizeof(cl->aes));
	memset(cl->hmac, 0x22, sizeof(cl->hmac));
	memset(cl->iv, 0x33, sizeof(cl->iv));
	if (tw_derive_key(SECRET, strlen(SECRET), greeting + 32, get32(greeting + 48), k))
		return -1;
	memcpy(plain, greeting + 16, 16);
	memcpy(plain + 16, cl->aes, 16);
	memcpy(plain + 32, cl->hmac, 32);
	if (tw_token_encrypt(k, plain, m + 84))
		return -1;
	memcpy(m + 148, cl->iv, 16);
	if (ctl_conn_input(c, m, sizeof(m)) != CTL_OPEN)
		return -1;
	if (drain(c, start, sizeof(start)) < sizeof(start) || start[15] != 0)
		return -1;
	if (tw_stream_init(&cl->tx, cl->aes, cl->iv, true) || tw_hmac_init(&cl->tx_mac, cl->hmac))
		return -1;
	return 0;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_conn_config cfg = {
		.modes_offered = 0x7f,
		.count = COUNT,
		.keys = &ring,
		.server_start_ntp = 0xe8f1a2b3c4d5e6f7ULL,
	};
	union xt_addr peer, local;
	struct owner o = { 0 };
	struct ctl_conn *c;
	__u8 greeting[64];
	enum ctl_close_reason r = CTL_OPEN;

	if (!ring.n_keys) {
		strcpy(key.identity, KEY_ID);
		memcpy(key.secret, SECRET, strlen(SECRET));
		key.secret_len = strlen(SECRET);
		ring.keys = &key;
		ring.n_keys = 1;
	}
	if (size < 1)
		return 0;
	if (xt_addr_parse("192.0.2.1", &peer) || xt_addr_parse("192.0.2.2", &local))
		abort();
	c = ctl_conn_new(&cfg, &ops, &o, &peer, &local);
	if (!c || ctl_conn_start(c))
		abort();
	if (drain(c, greeting, sizeof(greeting)) != sizeof(greeting))
		abort();

#if FUZZ_MODE == FUZZ_MODE_ENC
	{
		struct client cl = { 0 };
		__u8 m[16 * 80];

		if (enc_setup(c, &cl, greeting))
			abort(); /* the harness's own setup must work */
		while (size && r == CTL_OPEN) {
			size_t len = 16 * (1 + (size_t)(data[0] & 0x7f) % 80), n;
			bool raw = data[0] & 0x80;

			data++;
			size--;
			n = size < len ? size : len;
			memset(m, 0, len);
			memcpy(m, data, n);
			data += n;
			size -= n;
			if (!raw) {
				/* HMAC over the plaintext octets before it (RFC 5357 §3.2). */
				if (tw_hmac_add(&cl.tx_mac, m, len - 16) ||
				    tw_hmac_final(&cl.tx_mac, m + len - 16))
					abort();
			}
			if (tw_stream_update(&cl.tx, m, m, len))
				abort();
			r = feed(c, m, len, 0, true);
		}
		tw_stream_free(&cl.tx);
		tw_hmac_free(&cl.tx_mac);
	}
#else
	{
		size_t chunk = data[0] & 0x3f;
		bool drain_output = !(data[0] & 0x40);

		data++;
		size--;
#if FUZZ_MODE == FUZZ_MODE_OPEN
		{
			__u8 m[164] = { 0 }, start[48];

			put32(m, XT_MODE_UNAUTHENTICATED |
					 (chunk & 1 ? XT_MODE_INDIVIDUAL_SESSIONS : 0) |
					 (chunk & 2 ? XT_MODE_REFLECT_OCTETS : 0));
			if (ctl_conn_input(c, m, sizeof(m)) != CTL_OPEN ||
			    drain(c, start, sizeof(start)) < sizeof(start) || start[15] != 0)
				abort();
		}
#endif
		r = feed(c, data, size, chunk, drain_output);
	}
#endif
	if (r == CTL_OPEN)
		(void)ctl_conn_eof(c);
	(void)ctl_conn_detail(c);
	(void)ctl_conn_mid_message(c);
	drain(c, NULL, 0);
	ctl_conn_free(c);
	return 0;
}
