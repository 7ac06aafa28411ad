// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_auth_reflect.c - the authenticated/encrypted Session-Reflector packet
 * (user/auth_reflect.c): a sender built and sealed as a client would
 * (tw_test_seal_sender), reflected, opened as the client would
 * (tw_test_open_reflector) and checked field by field; tampered, short and
 * mis-keyed requests; sizes and padding; and the reply's crypto checked once
 * more with OpenSSL directly, so that a mistake shared by both directions
 * of twamp_crypto.c cannot hide.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "auth_reflect.h"
#include "twamp_crypto.h"
#include "xtwamp_wire.h"

#define T1_NTP 0xe8f0a1b23c4d5e6fULL
#define SENDER_EE 0x0a0b
#define OUR_EE 0x8587
#define T2_NS 1700000000123456789ULL
#define T3_NS 1700000000123460000ULL
#define TTL 61

static const __u8 sid[16] = { 0x0a, 0xb1, 0x0c, 0x9d, 0x11, 0x22, 0x33, 0x44,
			      0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc };
static const __u8 control_aes[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const __u8 control_hmac[32] = { 0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87,
				       0x78, 0x69, 0x5a, 0x4b, 0x3c, 0x2d, 0x1e, 0x0f,
				       0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80,
				       0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0, 0x01 };

static struct tw_test_keys keys, other_keys;

static __u64 fixed_t3(void)
{
	return T3_NS;
}

static __u32 get32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

static __u64 get64(const __u8 *p)
{
	return (__u64)get32(p) << 32 | get32(p + 4);
}

static void put32(__u8 *p, __u32 v)
{
	p[0] = (__u8)(v >> 24);
	p[1] = (__u8)(v >> 16);
	p[2] = (__u8)(v >> 8);
	p[3] = (__u8)v;
}

static bool all_zero(const __u8 *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* A Session-Sender packet of len octets (RFC 4656 §4.1.2), sealed; padding = i * 7 + 3. */
static void make_request(__u32 mode, __u32 seq, __u8 *pkt, size_t len)
{
	size_t i;

	memset(pkt, 0, len);
	put32(pkt, seq);
	put32(pkt + 16, (__u32)(T1_NTP >> 32));
	put32(pkt + 20, (__u32)T1_NTP);
	pkt[24] = SENDER_EE >> 8;
	pkt[25] = SENDER_EE & 0xff;
	for (i = 48; i < len; i++)
		pkt[i] = (__u8)(i * 7 + 3);
	assert_int_equal(tw_test_seal_sender(mode, &keys, pkt, len), 0);
}

static const struct auth_reflect_rx rx_default = {
	.reflector_seq = 7,
	.t2_realtime_ns = T2_NS,
	.error_estimate = OUR_EE,
	.sender_ttl = TTL,
};

/* Reflect a request of req_len octets and open the reply as the Session-Sender would. */
static void reflect_and_check(__u32 mode, size_t req_len)
{
	__u8 req[1500], orig[1500], reply[1600], opened[1600];
	size_t reply_len = 0, exp_len = req_len < 112 ? 112 : req_len;
	__u64 t3 = 0;

	make_request(mode, 0x01020304, req, req_len);
	memcpy(orig, req, req_len);
	memset(reply, 0xa5, sizeof(reply));
	assert_int_equal(auth_reflect_build(mode, &keys, req, req_len, &rx_default, reply,
					    sizeof(reply), &reply_len),
			 0);
	assert_memory_equal(req, orig, req_len); /* the request is never touched */
	assert_int_equal(reply_len, exp_len);
	assert_int_equal(auth_reflect_seal(mode, &keys, reply, reply_len, fixed_t3, &t3), 0);
	assert_int_equal(t3, T3_NS);
	assert_int_equal(reply[reply_len], 0xa5); /* nothing written past the reply */

	memcpy(opened, reply, reply_len);
	assert_int_equal(tw_test_open_reflector(mode, &keys, opened, reply_len), 0);

	/* RFC 5357 §4.2.1 (erratum 5045), field by field. */
	assert_int_equal(get32(opened), 7);				  /* Sequence Number */
	assert_true(all_zero(opened + 4, 12));				  /* MBZ */
	assert_int_equal(xt_ntp64_to_unix_ns(get64(opened + 16)), T3_NS); /* Timestamp */
	assert_int_equal(get32(opened + 24) >> 16, OUR_EE);		  /* Error Estimate */
	assert_true(all_zero(opened + 26, 6));				  /* MBZ */
	assert_int_equal(xt_ntp64_to_unix_ns(get64(opened + 32)), T2_NS); /* Receive Timestamp */
	assert_true(all_zero(opened + 40, 8));				  /* MBZ */
	assert_int_equal(get32(opened + 48), 0x01020304);      /* Sender Sequence Number */
	assert_true(all_zero(opened + 52, 12));		       /* MBZ */
	assert_int_equal(get64(opened + 64), T1_NTP);	       /* Sender Timestamp */
	assert_int_equal(get32(opened + 72) >> 16, SENDER_EE); /* Sender Error Estimate */
	assert_true(all_zero(opened + 74, 6));		       /* MBZ */
	assert_int_equal(opened[80], TTL);		       /* Sender TTL */
	assert_true(all_zero(opened + 81, 15));		       /* MBZ */
	/* Padding: the request's padding from its start, truncated at the end. */
	if (reply_len > 112)
		assert_memory_equal(opened + 112, orig + 48, reply_len - 112);
	/* Padding is sent in clear (never encrypted). */
	if (reply_len > 112)
		assert_memory_equal(reply + 112, orig + 48, reply_len - 112);
}

/* Test that an authenticated request of 48 octets gets a 112-octet reply that opens. */
static void test_round_trip_authenticated(void **state)
{
	(void)state;
	reflect_and_check(XT_MODE_AUTHENTICATED, 48);
}

/* Test that an encrypted request of 48 octets gets a 112-octet reply that opens. */
static void test_round_trip_encrypted(void **state)
{
	(void)state;
	reflect_and_check(XT_MODE_ENCRYPTED, 48);
}

/* Test that the reply is as long as the request from 112 octets on, padding reused. */
static void test_sizes_and_padding(void **state)
{
	static const size_t sizes[] = { 48, 49, 63, 64, 100, 111, 112, 113, 176, 1000, 1472 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		reflect_and_check(XT_MODE_AUTHENTICATED, sizes[i]);
		reflect_and_check(XT_MODE_ENCRYPTED, sizes[i]);
	}
}

/* Test that a request damaged in any protected octet, or its HMAC, is rejected. */
static void test_tampered_request_rejected(void **state)
{
	static const __u32 modes[] = { XT_MODE_AUTHENTICATED, XT_MODE_ENCRYPTED };
	__u8 req[112], reply[112];
	size_t reply_len = 0, i, m;

	(void)state;
	for (m = 0; m < 2; m++) {
		/* Authenticated: block 0 + HMAC; encrypted: blocks 0-1 + HMAC. */
		size_t protected = modes[m] == XT_MODE_ENCRYPTED ? 48 : 16;

		for (i = 0; i < 48; i++) {
			int rc;

			if (i >= protected && i < 32)
				continue;
			make_request(modes[m], 99, req, sizeof(req));
			req[i] ^= 0x10;
			memset(reply, 0x5a, sizeof(reply));
			rc = auth_reflect_build(modes[m], &keys, req, sizeof(req), &rx_default,
						reply, sizeof(reply), &reply_len);
			if (rc != -EBADMSG)
				fail_msg("mode %u, octet %zu flipped: expected -EBADMSG, got %d",
					 modes[m], i, rc);
			/* Nothing reaches the reply of a packet that does not verify. */
			assert_int_equal(reply[0], 0x5a);
			assert_int_equal(reply[111], 0x5a);
		}
	}
}

/* Test that authenticated mode does not protect T1 (RFC 4656 §6.6): it opens. */
static void test_authenticated_t1_unprotected(void **state)
{
	__u8 req[48], reply[112];
	size_t reply_len;

	(void)state;
	make_request(XT_MODE_AUTHENTICATED, 1, req, sizeof(req));
	req[20] ^= 0xff; /* T1 fraction, block 1: clear text in authenticated mode */
	assert_int_equal(auth_reflect_build(XT_MODE_AUTHENTICATED, &keys, req, sizeof(req),
					    &rx_default, reply, sizeof(reply), &reply_len),
			 0);
}

/* Test that a request sealed with other keys, or in the other mode, is rejected. */
static void test_wrong_keys_or_mode_rejected(void **state)
{
	struct tw_test_keys other = keys;
	__u8 req[64], reply[112];
	size_t reply_len;

	(void)state;
	other.hmac[5] ^= 1;
	make_request(XT_MODE_AUTHENTICATED, 1, req, sizeof(req));
	assert_int_equal(auth_reflect_build(XT_MODE_AUTHENTICATED, &other, req, sizeof(req),
					    &rx_default, reply, sizeof(reply), &reply_len),
			 -EBADMSG);
	other = keys;
	other.aes[0] ^= 1;
	assert_int_equal(auth_reflect_build(XT_MODE_AUTHENTICATED, &other, req, sizeof(req),
					    &rx_default, reply, sizeof(reply), &reply_len),
			 -EBADMSG);
	assert_int_equal(auth_reflect_build(XT_MODE_ENCRYPTED, &keys, req, sizeof(req), &rx_default,
					    reply, sizeof(reply), &reply_len),
			 -EBADMSG);
}

/* Test that requests under 48 octets, small buffers and bad modes are refused. */
static void test_bad_arguments(void **state)
{
	__u8 req[200], reply[200];
	size_t reply_len = 12345;

	(void)state;
	make_request(XT_MODE_ENCRYPTED, 1, req, 48);
	assert_int_equal(auth_reflect_build(XT_MODE_ENCRYPTED, &keys, req, 47, &rx_default, reply,
					    sizeof(reply), &reply_len),
			 -EMSGSIZE);
	assert_int_equal(auth_reflect_build(XT_MODE_ENCRYPTED, &keys, req, 0, &rx_default, reply,
					    sizeof(reply), &reply_len),
			 -EMSGSIZE);
	assert_int_equal(auth_reflect_build(XT_MODE_ENCRYPTED, &keys, req, 48, &rx_default, reply,
					    111, &reply_len),
			 -ENOBUFS);
	make_request(XT_MODE_ENCRYPTED, 1, req, 200);
	assert_int_equal(auth_reflect_build(XT_MODE_ENCRYPTED, &keys, req, 200, &rx_default, reply,
					    199, &reply_len),
			 -ENOBUFS);
	assert_int_equal(reply_len, 12345);
	assert_int_equal(auth_reflect_build(XT_MODE_UNAUTHENTICATED, &keys, req, 200, &rx_default,
					    reply, sizeof(reply), &reply_len),
			 -EINVAL);
	assert_int_equal(auth_reflect_build(XT_MODE_MIXED, &keys, req, 200, &rx_default, reply,
					    sizeof(reply), &reply_len),
			 -EINVAL);
	assert_int_equal(auth_reflect_seal(XT_MODE_ENCRYPTED, &keys, reply, 111, fixed_t3, NULL),
			 -EMSGSIZE);
	assert_int_equal(auth_reflect_seal(0, &keys, reply, 112, fixed_t3, NULL), -EINVAL);
}

/* Test that the reply can be built in the request's own buffer (the AF_XDP frame). */
static void test_in_place(void **state)
{
	static const __u32 modes[] = { XT_MODE_AUTHENTICATED, XT_MODE_ENCRYPTED };
	static const size_t sizes[] = { 48, 80, 112, 300 };
	__u8 buf[400], orig[400];
	size_t reply_len, m, i;

	(void)state;
	for (m = 0; m < 2; m++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			make_request(modes[m], 42, buf, sizes[i]);
			memcpy(orig, buf, sizes[i]);
			assert_int_equal(auth_reflect_build(modes[m], &keys, buf, sizes[i],
							    &rx_default, buf, sizeof(buf),
							    &reply_len),
					 0);
			assert_int_equal(auth_reflect_seal(modes[m], &keys, buf, reply_len,
							   fixed_t3, NULL),
					 0);
			assert_int_equal(tw_test_open_reflector(modes[m], &keys, buf, reply_len),
					 0);
			assert_int_equal(get32(buf + 48), 42);
			assert_int_equal(get64(buf + 64), T1_NTP);
			if (reply_len > 112)
				assert_memory_equal(buf + 112, orig + 48, reply_len - 112);
		}
	}
}

/* Test that consecutive replies carry the reflector's own sequence numbers. */
static void test_reflector_sequence(void **state)
{
	struct auth_reflect_rx rx = rx_default;
	__u8 req[48], reply[112];
	size_t reply_len;
	__u32 seq;

	(void)state;
	for (seq = 0; seq < 5; seq++) {
		rx.reflector_seq = seq;
		make_request(XT_MODE_ENCRYPTED, 1000 - seq, req, sizeof(req));
		assert_int_equal(auth_reflect_build(XT_MODE_ENCRYPTED, &keys, req, sizeof(req), &rx,
						    reply, sizeof(reply), &reply_len),
				 0);
		assert_int_equal(auth_reflect_seal(XT_MODE_ENCRYPTED, &keys, reply, reply_len, NULL,
						   NULL),
				 0);
		assert_int_equal(tw_test_open_reflector(XT_MODE_ENCRYPTED, &keys, reply, reply_len),
				 0);
		assert_int_equal(get32(reply), seq);
		assert_int_equal(get32(reply + 48), 1000 - seq);
	}
}

/*
 * Test that T3 is outside the protected region in authenticated mode (it
 * can be written after sealing) and inside it in encrypted mode.
 */
static void test_t3_coverage(void **state)
{
	__u8 req[48], reply[112];
	size_t reply_len;

	(void)state;
	make_request(XT_MODE_AUTHENTICATED, 1, req, sizeof(req));
	assert_int_equal(auth_reflect_build(XT_MODE_AUTHENTICATED, &keys, req, sizeof(req),
					    &rx_default, reply, sizeof(reply), &reply_len),
			 0);
	assert_int_equal(auth_reflect_seal(XT_MODE_AUTHENTICATED, &keys, reply, reply_len, fixed_t3,
					   NULL),
			 0);
	reply[23] ^= 1;
	assert_int_equal(tw_test_open_reflector(XT_MODE_AUTHENTICATED, &keys, reply, reply_len), 0);
	reply[3] ^= 1; /* block 0 is protected */
	assert_int_equal(tw_test_open_reflector(XT_MODE_AUTHENTICATED, &keys, reply, reply_len),
			 -EBADMSG);

	make_request(XT_MODE_ENCRYPTED, 1, req, sizeof(req));
	assert_int_equal(auth_reflect_build(XT_MODE_ENCRYPTED, &keys, req, sizeof(req), &rx_default,
					    reply, sizeof(reply), &reply_len),
			 0);
	assert_int_equal(
		auth_reflect_seal(XT_MODE_ENCRYPTED, &keys, reply, reply_len, fixed_t3, NULL), 0);
	reply[23] ^= 1;
	assert_int_equal(tw_test_open_reflector(XT_MODE_ENCRYPTED, &keys, reply, reply_len),
			 -EBADMSG);
}

/* The reflector's clock as a test steps it: auth_reflect_seal() reads it for T3. */
static __u64 stepped_now;

static __u64 stepped_clock(void)
{
	return stepped_now;
}

/*
 * Test a clock step between receive (T2) and send (T3), as settimeofday()
 * or an NTP step would make one: back an hour, forward an hour, and forward
 * across the NTP era boundary (2036-02-07 06:28:16 UTC, NTP seconds wrap to
 * 0).  T3 follows the new clock exactly, T2 stays what was received, the
 * reply still opens (HMAC, and decryption in encrypted mode), nothing else
 * moves.  The system clock is never touched: the step is injected.
 */
static void test_clock_step(void **state)
{
	static const __u32 modes[] = { XT_MODE_AUTHENTICATED, XT_MODE_ENCRYPTED };
	const __u64 era1_ns = 2085978496ULL * XT_NSEC_PER_SEC; /* NTP 2^32 s */
	const struct {
		__u64 t2, t3;
	} steps[] = {
		{ T2_NS, T2_NS - 3600 * XT_NSEC_PER_SEC + 5000 },
		{ T2_NS, T2_NS + 3600 * XT_NSEC_PER_SEC + 5000 },
		{ era1_ns - 1000, era1_ns + 3600 * XT_NSEC_PER_SEC },
		{ era1_ns + 1000, era1_ns - 1 },
	};
	__u8 req[48], reply[112];
	struct auth_reflect_rx rx = rx_default;
	size_t reply_len, i, m;
	__u64 t3;

	(void)state;
	for (m = 0; m < 2; m++) {
		for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
			make_request(modes[m], (__u32)i, req, sizeof(req));
			rx.t2_realtime_ns = steps[i].t2;
			assert_int_equal(auth_reflect_build(modes[m], &keys, req, sizeof(req), &rx,
							    reply, sizeof(reply), &reply_len),
					 0);
			stepped_now = steps[i].t3;
			assert_int_equal(auth_reflect_seal(modes[m], &keys, reply, reply_len,
							   stepped_clock, &t3),
					 0);
			assert_int_equal(t3, steps[i].t3);
			assert_int_equal(tw_test_open_reflector(modes[m], &keys, reply, reply_len),
					 0);
			assert_int_equal(get32(reply), 7);
			/* Both decode to the instants given, era 1 included (no wrap). */
			assert_int_equal(xt_ntp64_to_unix_ns(get64(reply + 16)), steps[i].t3);
			assert_int_equal(xt_ntp64_to_unix_ns(get64(reply + 32)), steps[i].t2);
			assert_int_equal(get32(reply + 48), (__u32)i);
			assert_int_equal(get64(reply + 64), T1_NTP);
		}
	}
	/* Past the era boundary the NTP seconds field restarts from 0. */
	assert_int_equal(get32(reply + 32) < 3600U, true);
}

/* AES-128 ECB/CBC(IV 0) decryption of n octets with OpenSSL, no padding. */
static void aes_decrypt(const EVP_CIPHER *cipher, const __u8 *key, const __u8 *in, __u8 *out, int n)
{
	static const __u8 iv[16];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len = 0, fin = 0;

	assert_non_null(ctx);
	assert_int_equal(EVP_DecryptInit_ex(ctx, cipher, NULL, key, iv), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	assert_int_equal(EVP_DecryptUpdate(ctx, out, &len, in, n), 1);
	assert_int_equal(EVP_DecryptFinal_ex(ctx, out + len, &fin), 1);
	assert_int_equal(len + fin, n);
	EVP_CIPHER_CTX_free(ctx);
}

/*
 * Test that the reply's crypto is what RFC 5357 §4.2.1 says, checked with
 * OpenSSL directly: authenticated = AES-ECB of block 0 and HMAC-SHA1/128
 * over its plaintext; encrypted = AES-CBC (IV 0) of octets 0-95 and the
 * HMAC over their plaintext.  Keys derived per RFC 4656 §4.1.2 by hand too.
 */
static void test_reply_crypto_independent(void **state)
{
	static const __u8 iv[16];
	__u8 req[48], reply[112], plain[96], mac[EVP_MAX_MD_SIZE], aes[16], hmac_key[32];
	size_t mac_len = 0;
	EVP_CIPHER_CTX *ctx;
	size_t reply_len;
	int len = 0;

	(void)state;
	/* test AES key = AES-ECB(SID, control AES key); HMAC key = AES-CBC(SID, IV 0, ...) */
	ctx = EVP_CIPHER_CTX_new();
	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, sid, NULL), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	assert_int_equal(EVP_EncryptUpdate(ctx, aes, &len, control_aes, 16), 1);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, sid, iv), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	assert_int_equal(EVP_EncryptUpdate(ctx, hmac_key, &len, control_hmac, 32), 1);
	EVP_CIPHER_CTX_free(ctx);
	assert_memory_equal(aes, keys.aes, 16);
	assert_memory_equal(hmac_key, keys.hmac, 32);

	make_request(XT_MODE_AUTHENTICATED, 77, req, sizeof(req));
	assert_int_equal(auth_reflect_build(XT_MODE_AUTHENTICATED, &keys, req, sizeof(req),
					    &rx_default, reply, sizeof(reply), &reply_len),
			 0);
	assert_int_equal(auth_reflect_seal(XT_MODE_AUTHENTICATED, &keys, reply, reply_len, fixed_t3,
					   NULL),
			 0);
	aes_decrypt(EVP_aes_128_ecb(), aes, reply, plain, 16);
	assert_int_equal(get32(plain), 7);
	assert_true(all_zero(plain + 4, 12));
	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, hmac_key, 32, plain, 16, mac,
				  sizeof(mac), &mac_len));
	assert_memory_equal(mac, reply + 96, 16);
	/* Everything else is clear text. */
	assert_int_equal(xt_ntp64_to_unix_ns(get64(reply + 16)), T3_NS);
	assert_int_equal(get32(reply + 48), 77);

	make_request(XT_MODE_ENCRYPTED, 78, req, sizeof(req));
	assert_int_equal(auth_reflect_build(XT_MODE_ENCRYPTED, &keys, req, sizeof(req), &rx_default,
					    reply, sizeof(reply), &reply_len),
			 0);
	assert_int_equal(
		auth_reflect_seal(XT_MODE_ENCRYPTED, &keys, reply, reply_len, fixed_t3, NULL), 0);
	aes_decrypt(EVP_aes_128_cbc(), aes, reply, plain, 96);
	assert_int_equal(get32(plain), 7);
	assert_int_equal(xt_ntp64_to_unix_ns(get64(plain + 16)), T3_NS);
	assert_int_equal(xt_ntp64_to_unix_ns(get64(plain + 32)), T2_NS);
	assert_int_equal(get32(plain + 48), 78);
	assert_int_equal(plain[80], TTL);
	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, hmac_key, 32, plain, 96, mac,
				  sizeof(mac), &mac_len));
	assert_memory_equal(mac, reply + 96, 16);
}

/* ---- whole frames (the AF_XDP path) ------------------------------------------------------- */

static const __u8 mac_refl[6] = { 0x02, 0, 0x5e, 0, 0x53, 0x01 };
static const __u8 mac_send[6] = { 0x02, 0, 0x5e, 0, 0x53, 0x02 };
static const __u8 v4_send[4] = { 198, 51, 100, 2 }, v4_refl[4] = { 198, 51, 100, 1 };
static const __u8 v6_send[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const __u8 v6_refl[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

#define REQ_TOS 0xba /* DSCP 46, ECN 10 (a swapped or truncated ECN mask shows) */
#define REQ_TTL 61
#define SPORT 40001
#define DPORT 862

/* RFC 1071 over the concatenation of two buffers, folded, not inverted. */
static __u16 ck_sum2(const __u8 *a, size_t alen, const __u8 *b, size_t blen)
{
	__u8 buf[4096];
	__u32 sum = 0;
	size_t i, n = alen + blen;

	memcpy(buf, a, alen);
	if (blen) /* b may be NULL: memcpy(.., NULL, 0) is undefined (UBSan) */
		memcpy(buf + alen, b, blen);
	if (n & 1)
		buf[n++] = 0;
	for (i = 0; i < n; i += 2)
		sum += (__u32)(buf[i] << 8 | buf[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* The UDP checksum of the datagram at udp (udp_len octets) between the given addresses. */
static __u16 udp_csum(bool v6, const __u8 *src, const __u8 *dst, const __u8 *udp, size_t udp_len)
{
	__u8 ph[40] = { 0 };
	size_t phlen = v6 ? 40 : 12;

	if (v6) {
		memcpy(ph, src, 16);
		memcpy(ph + 16, dst, 16);
		put32(ph + 32, (__u32)udp_len);
		ph[39] = 17;
	} else {
		memcpy(ph, src, 4);
		memcpy(ph + 4, dst, 4);
		ph[9] = 17;
		ph[10] = (__u8)(udp_len >> 8);
		ph[11] = (__u8)udp_len;
	}
	return (__u16)~ck_sum2(ph, phlen, udp, udp_len);
}

struct fspec {
	bool v6;
	int nvlan;
	int opt_len; /* IPv4 options */
	size_t plen;
	__u32 mode;
	bool zero_csum; /* IPv4: no UDP checksum */
	size_t trailer; /* Ethernet padding after the IP packet */
};

/* A request frame; returns its length.  *l3 / *l4 = header offsets. */
static size_t build_frame(__u8 *f, const struct fspec *s, size_t *l3, size_t *l4)
{
	size_t off = 12, ip, udp, iplen, i;

	memcpy(f, mac_refl, 6);
	memcpy(f + 6, mac_send, 6);
	for (i = 0; i < (size_t)s->nvlan; i++) {
		f[off] = s->nvlan == 2 && i == 0 ? 0x88 : 0x81;
		f[off + 1] = s->nvlan == 2 && i == 0 ? 0xa8 : 0x00;
		f[off + 2] = 0x20;
		f[off + 3] = (__u8)(10 + i);
		off += 4;
	}
	f[off] = s->v6 ? 0x86 : 0x08;
	f[off + 1] = s->v6 ? 0xdd : 0x00;
	ip = off + 2;
	if (s->v6) {
		f[ip] = 0x60 | REQ_TOS >> 4;
		f[ip + 1] = (__u8)((REQ_TOS & 0x0f) << 4 | 0x1);
		f[ip + 2] = 0x23;
		f[ip + 3] = 0x45; /* flow label 0x12345 */
		f[ip + 4] = (__u8)((8 + s->plen) >> 8);
		f[ip + 5] = (__u8)(8 + s->plen);
		f[ip + 6] = 17;
		f[ip + 7] = REQ_TTL;
		memcpy(f + ip + 8, v6_send, 16);
		memcpy(f + ip + 24, v6_refl, 16);
		udp = ip + 40;
		iplen = 40 + 8 + s->plen;
	} else {
		size_t hl = 20 + (size_t)s->opt_len;

		iplen = hl + 8 + s->plen;
		memset(f + ip, 0, hl);
		f[ip] = (__u8)(0x40 | hl / 4);
		f[ip + 1] = REQ_TOS;
		f[ip + 2] = (__u8)(iplen >> 8);
		f[ip + 3] = (__u8)iplen;
		f[ip + 4] = 0xab;
		f[ip + 5] = 0xcd;
		f[ip + 6] = 0x40; /* DF */
		f[ip + 8] = REQ_TTL;
		f[ip + 9] = 17;
		memcpy(f + ip + 12, v4_send, 4);
		memcpy(f + ip + 16, v4_refl, 4);
		for (i = 20; i < hl; i++)
			f[ip + i] = 1; /* NOP options */
		udp = ip + hl;
	}
	f[udp] = SPORT >> 8;
	f[udp + 1] = SPORT & 0xff;
	f[udp + 2] = DPORT >> 8;
	f[udp + 3] = DPORT & 0xff;
	f[udp + 4] = (__u8)((8 + s->plen) >> 8);
	f[udp + 5] = (__u8)(8 + s->plen);
	f[udp + 6] = f[udp + 7] = 0;
	make_request(s->mode, 0x0a0b0c0d, f + udp + 8, s->plen);
	if (!s->v6) {
		__u16 ck = (__u16)~ck_sum2(f + ip, udp - ip, NULL, 0);

		f[ip + 10] = (__u8)(ck >> 8);
		f[ip + 11] = (__u8)ck;
	}
	if (!s->zero_csum) {
		__u16 ck = udp_csum(s->v6, f + ip + (s->v6 ? 8 : 12), f + ip + (s->v6 ? 24 : 16),
				    f + udp, 8 + s->plen);

		if (!ck)
			ck = 0xffff;
		f[udp + 6] = (__u8)(ck >> 8);
		f[udp + 7] = (__u8)ck;
	}
	memset(f + ip + iplen, 0xee, s->trailer);
	*l3 = ip;
	*l4 = udp;
	return ip + iplen + s->trailer;
}

/* Build, parse, reflect and check a reply frame field by field. */
static void frame_round_trip(const struct fspec *s)
{
	__u8 req[2048], f[2048];
	size_t l3, l4, len = build_frame(req, s, &l3, &l4), out_len = 0, rl;
	size_t exp_pl = s->plen < 112 ? 112 : s->plen;
	struct auth_reflect_rx rx = rx_default;
	struct auth_frame fr;
	const __u8 *ip, *udp;

	memcpy(f, req, len);
	assert_int_equal(auth_frame_parse(f, len, &fr), 0);
	assert_int_equal(fr.l3, l3);
	assert_int_equal(fr.l4, l4);
	assert_int_equal(fr.udp_len, 8 + s->plen);
	assert_int_equal(fr.v6, s->v6);
	assert_int_equal(fr.ttl, REQ_TTL);
	assert_int_equal(fr.tos, REQ_TOS);
	if (s->v6) {
		assert_memory_equal(fr.key.sender_addr.b, v6_send, 16);
		assert_memory_equal(fr.key.reflector_addr.b, v6_refl, 16);
	} else {
		assert_int_equal(fr.key.sender_addr.b[10], 0xff);
		assert_memory_equal(fr.key.sender_addr.b + 12, v4_send, 4);
		assert_memory_equal(fr.key.reflector_addr.b + 12, v4_refl, 4);
	}
	assert_int_equal(ntohs(fr.key.sender_port), SPORT);
	assert_int_equal(ntohs(fr.key.reflector_port), DPORT);
	assert_int_equal(fr.key.ssid, 0);

	rx.sender_ttl = fr.ttl;
	assert_int_equal(auth_frame_reflect(f, sizeof(f), &fr, s->mode, &keys, &rx, 10, fixed_t3,
					    &out_len),
			 0);
	assert_int_equal(out_len, l4 + 8 + exp_pl);
	ip = f + l3;
	udp = f + l4;

	assert_memory_equal(f, mac_send, 6);
	assert_memory_equal(f + 6, mac_refl, 6);
	assert_memory_equal(f + 12, req + 12, l3 - 12); /* tags and EtherType */
	if (s->v6) {
		__u8 tc = (__u8)((ip[0] & 0x0f) << 4 | ip[1] >> 4);

		assert_int_equal(ip[0] >> 4, 6);
		assert_int_equal(tc, 10 << 2 | (REQ_TOS & 3));
		assert_int_equal(get32(ip) & 0xfffff, 0x12345); /* flow label kept */
		assert_int_equal(ip[4] << 8 | ip[5], 8 + exp_pl);
		assert_int_equal(ip[6], 17);
		assert_int_equal(ip[7], 255);
		assert_memory_equal(ip + 8, v6_refl, 16);
		assert_memory_equal(ip + 24, v6_send, 16);
	} else {
		size_t hl = (size_t)(ip[0] & 0x0f) * 4;

		assert_int_equal(hl, 20 + (size_t)s->opt_len);
		assert_int_equal(ip[1], 10 << 2 | (REQ_TOS & 3));
		assert_int_equal(ip[2] << 8 | ip[3], hl + 8 + exp_pl);
		assert_memory_equal(ip + 4, req + l3 + 4, 4); /* ID, DF */
		assert_int_equal(ip[8], 255);
		assert_int_equal(ck_sum2(ip, hl, NULL, 0), 0xffff); /* header checksum */
		assert_memory_equal(ip + 12, v4_refl, 4);
		assert_memory_equal(ip + 16, v4_send, 4);
		assert_memory_equal(ip + 20, req + l3 + 20, hl - 20); /* options kept */
	}
	assert_int_equal(udp[0] << 8 | udp[1], DPORT);
	assert_int_equal(udp[2] << 8 | udp[3], SPORT);
	assert_int_equal(udp[4] << 8 | udp[5], 8 + exp_pl);
	assert_true(udp[6] || udp[7]); /* always computed, also for a request without one */
	assert_int_equal(
		udp_csum(s->v6, ip + (s->v6 ? 8 : 12), ip + (s->v6 ? 24 : 16), udp, 8 + exp_pl), 0);

	/* The payload is the reply auth_reflect_build() + _seal() would make. */
	rl = exp_pl;
	assert_int_equal(tw_test_open_reflector(s->mode, &keys, f + l4 + 8, rl), 0);
	assert_int_equal(get32(f + l4 + 8), 7);
	assert_int_equal(get32(f + l4 + 8 + 48), 0x0a0b0c0d);
	assert_int_equal(f[l4 + 8 + 80], REQ_TTL);
	assert_int_equal(xt_ntp64_to_unix_ns(get64(f + l4 + 8 + 16)), T3_NS);
	assert_int_equal(xt_ntp64_to_unix_ns(get64(f + l4 + 8 + 32)), T2_NS);
	if (exp_pl > 112)
		assert_memory_equal(f + l4 + 8 + 112, req + l4 + 8 + 48, exp_pl - 112);
}

/* Test that IPv4 frames are reflected in place with every header field right. */
static void test_frame_ipv4(void **state)
{
	(void)state;
	frame_round_trip(&(struct fspec){ .plen = 48, .mode = XT_MODE_AUTHENTICATED });
	frame_round_trip(&(struct fspec){ .plen = 48, .mode = XT_MODE_ENCRYPTED });
	frame_round_trip(&(struct fspec){ .plen = 113, .mode = XT_MODE_ENCRYPTED });
	frame_round_trip(&(struct fspec){ .plen = 1472, .mode = XT_MODE_AUTHENTICATED });
}

/* Test that VLAN tags and IPv4 options are kept and lengths/checksums follow them. */
static void test_frame_vlan_options(void **state)
{
	(void)state;
	frame_round_trip(&(struct fspec){
		.nvlan = 1, .opt_len = 8, .plen = 200, .mode = XT_MODE_ENCRYPTED });
	frame_round_trip(&(struct fspec){
		.nvlan = 2, .opt_len = 40, .plen = 49, .mode = XT_MODE_AUTHENTICATED });
}

/* Test that IPv6 frames get the traffic class DSCP, keep ECN and the flow label. */
static void test_frame_ipv6(void **state)
{
	(void)state;
	frame_round_trip(&(struct fspec){ .v6 = true, .plen = 64, .mode = XT_MODE_AUTHENTICATED });
	frame_round_trip(
		&(struct fspec){ .v6 = true, .nvlan = 2, .plen = 300, .mode = XT_MODE_ENCRYPTED });
}

/* Test that an IPv4 request without UDP checksum, or with a trailer, is answered. */
static void test_frame_zero_csum_and_trailer(void **state)
{
	(void)state;
	frame_round_trip(
		&(struct fspec){ .plen = 48, .zero_csum = true, .mode = XT_MODE_AUTHENTICATED });
	frame_round_trip(&(struct fspec){ .plen = 48, .trailer = 6, .mode = XT_MODE_ENCRYPTED });
}

/* Test that malformed frames are refused before any crypto is done. */
static void test_frame_malformed(void **state)
{
	const struct fspec v4 = { .plen = 64, .mode = XT_MODE_AUTHENTICATED };
	const struct fspec v6 = { .v6 = true, .plen = 64, .mode = XT_MODE_AUTHENTICATED };
	struct auth_frame fr;
	size_t l3, l4, len, i;
	__u8 f[2048];

	(void)state;
	/* bad UDP checksum (one payload octet changed) */
	len = build_frame(f, &v4, &l3, &l4);
	f[l4 + 8 + 60] ^= 0x01;
	assert_int_equal(auth_frame_parse(f, len, &fr), -EINVAL);
	/* bad IPv4 header checksum */
	len = build_frame(f, &v4, &l3, &l4);
	f[l3 + 10] ^= 0x01;
	assert_int_equal(auth_frame_parse(f, len, &fr), -EINVAL);
	/* IPv4 fragment (MF) */
	len = build_frame(f, &v4, &l3, &l4);
	f[l3 + 6] |= 0x20;
	f[l3 + 10] = f[l3 + 11] = 0;
	{
		__u16 ck = (__u16)~ck_sum2(f + l3, 20, NULL, 0);

		f[l3 + 10] = (__u8)(ck >> 8);
		f[l3 + 11] = (__u8)ck;
	}
	assert_int_equal(auth_frame_parse(f, len, &fr), -EINVAL);
	/* not UDP */
	len = build_frame(f, &v6, &l3, &l4);
	f[l3 + 6] = 6;
	assert_int_equal(auth_frame_parse(f, len, &fr), -EINVAL);
	/* IPv6 without UDP checksum */
	len = build_frame(f, &v6, &l3, &l4);
	f[l4 + 6] = f[l4 + 7] = 0;
	assert_int_equal(auth_frame_parse(f, len, &fr), -EINVAL);
	/* UDP length beyond the IP payload */
	len = build_frame(f, &v6, &l3, &l4);
	f[l4 + 5] += 2;
	assert_int_equal(auth_frame_parse(f, len, &fr), -EINVAL);
	/* not IP */
	len = build_frame(f, &v4, &l3, &l4);
	f[12] = 0x08;
	f[13] = 0x06;
	assert_int_equal(auth_frame_parse(f, len, &fr), -EINVAL);
	/* every truncation of a valid frame */
	len = build_frame(f, &v4, &l3, &l4);
	for (i = 0; i < len; i++)
		assert_int_equal(auth_frame_parse(f, i, &fr), -EINVAL);
	assert_int_equal(auth_frame_parse(f, len, &fr), 0);
}

/* Test that a frame that fails verification or does not fit is left as it was. */
static void test_frame_refused_unchanged(void **state)
{
	const struct fspec s = { .plen = 48, .mode = XT_MODE_ENCRYPTED };
	struct auth_frame fr;
	__u8 f[2048], orig[2048];
	size_t l3, l4, len, out_len;

	(void)state;
	len = build_frame(f, &s, &l3, &l4);
	assert_int_equal(auth_frame_parse(f, len, &fr), 0);
	memcpy(orig, f, len);
	/* room for the request but not for the 112-octet reply */
	assert_int_equal(auth_frame_reflect(f, len + 10, &fr, s.mode, &keys, &rx_default, 0,
					    fixed_t3, &out_len),
			 -ENOBUFS);
	assert_memory_equal(f, orig, len);
	assert_int_equal(auth_frame_reflect(f, sizeof(f), &fr, s.mode, &other_keys, &rx_default, 0,
					    fixed_t3, &out_len),
			 -EBADMSG);
	assert_memory_equal(f, orig, len);
}

static int setup(void **state)
{
	(void)state;
	return tw_test_keys_derive(sid, control_aes, control_hmac, &keys) ||
	       tw_test_keys_derive(control_aes, control_aes, control_hmac, &other_keys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_authenticated),
		cmocka_unit_test(test_round_trip_encrypted),
		cmocka_unit_test(test_sizes_and_padding),
		cmocka_unit_test(test_tampered_request_rejected),
		cmocka_unit_test(test_authenticated_t1_unprotected),
		cmocka_unit_test(test_wrong_keys_or_mode_rejected),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_in_place),
		cmocka_unit_test(test_reflector_sequence),
		cmocka_unit_test(test_t3_coverage),
		cmocka_unit_test(test_clock_step),
		cmocka_unit_test(test_reply_crypto_independent),
		cmocka_unit_test(test_frame_ipv4),
		cmocka_unit_test(test_frame_vlan_options),
		cmocka_unit_test(test_frame_ipv6),
		cmocka_unit_test(test_frame_zero_csum_and_trailer),
		cmocka_unit_test(test_frame_malformed),
		cmocka_unit_test(test_frame_refused_unchanged),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
