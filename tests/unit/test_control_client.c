// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the TWAMP Control-Client (user/control_client.c): message
 * encodings against octets written out by hand from the RFC figures, the
 * greeting checks (Modes 0, the Count limit), mode choice and parsing, the
 * Accept texts, and whole exchanges against a scripted server on a
 * socketpair, in unauthenticated and encrypted mode, whose side is computed
 * here with twamp_crypto.h directly (not with control_client.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "control_client.h"
#include "twamp_crypto.h"
#include "xtwamp_wire.h"

/*
 * Hand-written expected octets: hex pairs, spaces ignored, "HH*N " = N
 * octets HH (the long MBZ runs; a space ends the count, also before the
 * next string literal).  Returns the length.
 */
static size_t hex(const char *s, __u8 *out, size_t max)
{
	size_t n = 0;

	while (*s) {
		unsigned v, rep = 1;

		if (*s == ' ') {
			s++;
			continue;
		}
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		s += 2;
		if (*s == '*') {
			char *end;

			rep = (unsigned)strtoul(s + 1, &end, 10);
			s = end;
		}
		while (rep--) {
			assert_true(n < max);
			out[n++] = (__u8)v;
		}
	}
	return n;
}

static void assert_bytes(const void *got, size_t len, const char *expect_hex)
{
	__u8 want[512];
	size_t n = hex(expect_hex, want, sizeof(want));

	assert_int_equal(len, n);
	for (size_t i = 0; i < n; i++)
		if (((const __u8 *)got)[i] != want[i])
			fail_msg("octet %zu: got 0x%02x, want 0x%02x", i, ((const __u8 *)got)[i],
				 want[i]);
}

/* ---- pure message layer ------------------------------------------------- */

/* Test that Set-Up-Response encodes as RFC 4656 §3.1 draws it, unkeyed and keyed. */
static void test_setup_response_bytes(void **state)
{
	struct xt_setup_response r;
	__u8 token[64], iv[16];

	(void)state;
	/* unauthenticated: Mode 1, KeyID/Token/Client-IV all zero */
	assert_int_equal(cc_build_setup_response(&r, XT_MODE_UNAUTHENTICATED, NULL, NULL, NULL), 0);
	assert_bytes(&r, sizeof(r), "00000001 00*160 ");
	/* the client quitting: Mode 0 */
	assert_int_equal(cc_build_setup_response(&r, 0, NULL, NULL, NULL), 0);
	assert_bytes(&r, sizeof(r), "00*164 ");

	for (int i = 0; i < 64; i++)
		token[i] = (__u8)i;
	for (int i = 0; i < 16; i++)
		iv[i] = (__u8)(0xa0 + i);
	assert_int_equal(cc_build_setup_response(&r,
						 XT_MODE_ENCRYPTED | XT_MODE_INDIVIDUAL_SESSIONS,
						 "alice", token, iv),
			 0);
	assert_bytes(&r, sizeof(r),
		     "00000014"				/* Mode: encrypted | individual */
		     "616c696365 00*75 "		/* KeyID "alice", NUL padded to 80 */
		     "000102030405060708090a0b0c0d0e0f" /* Token (64) */
		     "101112131415161718191a1b1c1d1e1f"
		     "202122232425262728292a2b2c2d2e2f"
		     "303132333435363738393a3b3c3d3e3f"
		     "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"); /* Client-IV */

	/* an 81-octet KeyID does not fit */
	{
		char id[82];

		memset(id, 'x', 81);
		id[81] = '\0';
		assert_int_equal(cc_build_setup_response(&r, XT_MODE_ENCRYPTED, id, token, iv),
				 -EINVAL);
	}
}

/* Test that Request-TW-Session matches RFC 5357 §3.5 field by field (IPv4, IPv6, RFC 6038). */
static void test_request_session_bytes(void **state)
{
	struct xt_request_tw_session m;
	struct cc_session_params p;
	struct sockaddr_storage s, r;
	struct sockaddr_in *s4 = (void *)&s, *r4 = (void *)&r;
	struct sockaddr_in6 *s6 = (void *)&s, *r6 = (void *)&r;

	(void)state;
	memset(&s, 0, sizeof(s));
	memset(&r, 0, sizeof(r));
	s4->sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.2", &s4->sin_addr);
	s4->sin_port = htons(40000);
	r4->sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &r4->sin_addr);
	r4->sin_port = htons(862);
	memset(&p, 0, sizeof(p));
	assert_int_equal(cc_params_set_endpoints(&p, &s, &r), 0);
	p.padding_length = 27;
	p.start_time_ntp = 0xe000000180000000ULL;
	p.timeout_ns = 2500000000ULL; /* 2.5 s */
	p.dscp = 46;		      /* EF */
	p.octets_to_reflect = 0x1234; /* ignored: RFC 6038 not negotiated */
	p.padding_to_reflect_len = 8;
	cc_build_request_session(&m, &p, XT_MODE_UNAUTHENTICATED);
	assert_bytes(&m, sizeof(m),
		     "05"		 /* Request-TW-Session */
		     "04"		 /* MBZ | IPVN 4 */
		     "00 00"		 /* Conf-Sender, Conf-Receiver */
		     "00000000"		 /* Number of Schedule Slots */
		     "00000000"		 /* Number of Packets */
		     "9c40 035e"	 /* Sender Port 40000, Receiver Port 862 */
		     "c0000202 00*12 "	 /* Sender Address 192.0.2.2 */
		     "c0000201 00*12 "	 /* Receiver Address 192.0.2.1 */
		     "00*16 "		 /* SID: zero, the server assigns it */
		     "0000001b"		 /* Padding Length 27 */
		     "e0000001 80000000" /* Start Time */
		     "00000002 80000000" /* Timeout 2.5 s: seconds . fraction */
		     "2e000000"		 /* Type-P: bits 0-1 00, bits 2-7 DSCP 46 (101110) */
		     "00*8 "		 /* MBZ (RFC 6038 not in use) */
		     "00*16 ");		 /* HMAC: unused in unauthenticated mode */

	/* IPv6, and RFC 6038 Reflect Octets negotiated: octets 88-91 carry its fields */
	memset(&s, 0, sizeof(s));
	memset(&r, 0, sizeof(r));
	s6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::2", &s6->sin6_addr);
	s6->sin6_port = htons(5000);
	r6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", &r6->sin6_addr);
	r6->sin6_port = htons(8620);
	assert_int_equal(cc_params_set_endpoints(&p, &s, &r), 0);
	assert_int_equal(p.ipvn, 6);
	p.padding_length = 1000;
	p.start_time_ntp = 0;
	p.timeout_ns = 1; /* 1 ns = 4.29 fraction units, rounded */
	p.dscp = 0;
	cc_build_request_session(&m, &p, XT_MODE_UNAUTHENTICATED | XT_MODE_REFLECT_OCTETS);
	assert_bytes(&m, sizeof(m),
		     "05 06 00 00 00000000 00000000"
		     "1388 21ac"			/* ports 5000, 8620 */
		     "20010db8000000000000000000000002" /* Sender Address */
		     "20010db8000000000000000000000001" /* Receiver Address */
		     "00*16 "
		     "000003e8"		 /* Padding Length 1000 */
		     "00000000 00000000" /* Start Time */
		     "00000000 00000004" /* Timeout */
		     "00000000"		 /* Type-P: best effort */
		     "1234 0008"	 /* Octets to be reflected, padding to reflect */
		     "00000000"		 /* MBZ */
		     "00*16 ");

	/* mixed families cannot be one session */
	r4->sin_family = AF_INET;
	assert_int_equal(cc_params_set_endpoints(&p, &s, &r), -EINVAL);
}

/* Test Start-Sessions, Stop-Sessions and Start-N/Stop-N (RFC 4656 §3.7, 5357 §3.8, 5938 §3.2). */
static void test_start_stop_bytes(void **state)
{
	struct xt_start_sessions start;
	struct xt_stop_sessions stop;
	__u8 sids[2][XT_SID_LEN], buf[128];

	(void)state;
	cc_build_start_sessions(&start);
	assert_bytes(&start, sizeof(start), "02 00*15 00*16 ");
	cc_build_stop_sessions(&stop, XT_ACCEPT_OK, 3);
	assert_bytes(&stop, sizeof(stop),
		     "03"	/* Stop-Sessions */
		     "00"	/* Accept: normal end */
		     "0000"	/* MBZ */
		     "00000003" /* Number of Sessions */
		     "00*8 "	/* MBZ */
		     "00*16 "); /* HMAC */
	cc_build_stop_sessions(&stop, XT_ACCEPT_FAILURE, 0x01020304);
	assert_bytes(&stop, sizeof(stop), "03 01 0000 01020304 00*8 00*16 ");

	for (int i = 0; i < XT_SID_LEN; i++) {
		sids[0][i] = (__u8)(0x10 + i);
		sids[1][i] = (__u8)(0xf0 + i);
	}
	assert_int_equal(cc_build_n_sessions(buf, sizeof(buf), XT_CMD_START_N_SESSIONS,
					     (const __u8(*)[XT_SID_LEN])sids, 2),
			 64);
	assert_bytes(buf, 64,
		     "07 00*11 00000002"		/* Start-N-Sessions, N = 2 */
		     "101112131415161718191a1b1c1d1e1f" /* SID 1 */
		     "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff" /* SID 2 */
		     "00*16 ");				/* HMAC */
	assert_int_equal(cc_build_n_sessions(buf, sizeof(buf), XT_CMD_STOP_N_SESSIONS,
					     (const __u8(*)[XT_SID_LEN])sids, 1),
			 48);
	assert_bytes(buf, 48, "09 00*11 00000001 101112131415161718191a1b1c1d1e1f 00*16 ");
	assert_int_equal(cc_build_n_sessions(buf, sizeof(buf), 7, NULL, 0), -EINVAL);
	assert_int_equal(cc_build_n_sessions(buf, 40, 7, (const __u8(*)[XT_SID_LEN])sids, 1),
			 -ENOSPC);
}

/* Test decoding Accept-Session and Server-Start at the RFC offsets. */
static void test_parse_server_messages(void **state)
{
	__u8 raw[48];
	struct cc_accept a;
	struct cc_server_start ss;

	(void)state;
	hex("00 00 2710"		       /* Accept 0, MBZ, Port 10000 */
	    "000102030405060708090a0b0c0d0e0f" /* SID */
	    "abcd 0007"			       /* Reflected octets, Server octets (RFC 6038) */
	    "00*8 ff*16 ",
	    raw, sizeof(raw));
	cc_parse_accept_session((const void *)raw, &a);
	assert_int_equal(a.accept, 0);
	assert_int_equal(a.port, 10000);
	assert_int_equal(a.sid[0], 0x00);
	assert_int_equal(a.sid[15], 0x0f);
	assert_int_equal(a.reflected_octets, 0xabcd);
	assert_int_equal(a.server_octets, 7);

	hex("00*15 05 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf 00*16 ", raw, sizeof(raw));
	cc_parse_server_start((const void *)raw, &ss);
	assert_int_equal(ss.accept, 5);
	assert_int_equal(ss.server_iv[0], 0xa0);
	assert_int_equal(ss.server_iv[15], 0xaf);
}

static void make_greeting(__u8 buf[64], __u32 modes, __u32 count)
{
	struct xt_server_greeting *g = (void *)buf;

	memset(buf, 0, 64);
	g->modes = htonl(modes);
	for (int i = 0; i < 16; i++) {
		g->challenge[i] = (__u8)(0x40 + i);
		g->salt[i] = (__u8)(0x80 + i);
	}
	g->count = htonl(count);
}

/* Test the Server-Greeting checks: Modes 0, the Count limit (RFC 5357 §6), its form. */
static void test_greeting(void **state)
{
	__u8 buf[64];
	struct cc_greeting g;
	char err[CC_ERR_LEN];

	(void)state;
	make_greeting(buf, 0x1f, 32768);
	assert_int_equal(cc_parse_greeting(buf, 64, 15, &g, err, sizeof(err)), 0);
	assert_int_equal(g.modes, 0x1f);
	assert_int_equal(g.count, 32768);
	assert_int_equal(g.challenge[0], 0x40);
	assert_int_equal(g.salt[15], 0x8f);

	/* one above 2^15: refused, and the message says how to allow it */
	make_greeting(buf, 0x1f, 65536);
	assert_int_equal(cc_parse_greeting(buf, 64, 15, &g, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "Count 65536"));
	assert_non_null(strstr(err, "--max-count-exponent"));
	assert_int_equal(cc_parse_greeting(buf, 64, 16, &g, err, sizeof(err)), 0);
	/* 2^32 - 1: the DoS RFC 5357 §6 is about */
	make_greeting(buf, 0x1f, 0xffffffffU);
	assert_int_equal(cc_parse_greeting(buf, 64, 31, &g, err, sizeof(err)), -E2BIG);

	/* Modes 0: the server does not want us */
	make_greeting(buf, 0, 1024);
	assert_int_equal(cc_parse_greeting(buf, 64, 15, &g, err, sizeof(err)), -ECONNREFUSED);
	assert_non_null(strstr(err, "server refused"));
	/* only feature bits, no security mode: just as useless */
	make_greeting(buf, XT_MODE_INDIVIDUAL_SESSIONS, 1024);
	assert_int_equal(cc_parse_greeting(buf, 64, 15, &g, err, sizeof(err)), -ECONNREFUSED);
	assert_int_equal(cc_parse_greeting(buf, 63, 15, &g, err, sizeof(err)), -EPROTO);

	/* where Count is used (keyed modes): a power of 2, at least 1024 */
	assert_int_equal(cc_check_count(1024, err, sizeof(err)), 0);
	assert_int_equal(cc_check_count(2048, err, sizeof(err)), 0);
	assert_int_equal(cc_check_count(512, err, sizeof(err)), -EPROTO);
	assert_int_equal(cc_check_count(3000, err, sizeof(err)), -EPROTO);
	assert_int_equal(cc_check_count(0, err, sizeof(err)), -EPROTO);
}

/* Test choosing the first preferred mode the server offers. */
static void test_choose_mode(void **state)
{
	const __u32 pref[] = { XT_MODE_ENCRYPTED, XT_MODE_AUTHENTICATED, XT_MODE_MIXED };
	const __u32 open[] = { XT_MODE_UNAUTHENTICATED };

	(void)state;
	assert_int_equal(cc_choose_mode(0x1f, pref, 3), XT_MODE_ENCRYPTED);
	assert_int_equal(cc_choose_mode(XT_MODE_AUTHENTICATED | XT_MODE_MIXED, pref, 3),
			 XT_MODE_AUTHENTICATED);
	assert_int_equal(cc_choose_mode(XT_MODE_MIXED | XT_MODE_UNAUTHENTICATED, pref, 3),
			 XT_MODE_MIXED);
	assert_int_equal(cc_choose_mode(XT_MODE_UNAUTHENTICATED, pref, 3), 0);
	assert_int_equal(cc_choose_mode(XT_MODE_UNAUTHENTICATED | 0x10, open, 1),
			 XT_MODE_UNAUTHENTICATED);
	assert_int_equal(cc_choose_mode(XT_MODE_ENCRYPTED, open, 1), 0);
}

/* Test the -A syntax: names in any case, twping letters, errors. */
static void test_parse_modes(void **state)
{
	__u32 m[CC_MAX_MODES];
	size_t n;
	char err[CC_ERR_LEN];

	(void)state;
	assert_int_equal(cc_parse_modes("AEO", m, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(m[0], XT_MODE_AUTHENTICATED);
	assert_int_equal(m[1], XT_MODE_ENCRYPTED);
	assert_int_equal(m[2], XT_MODE_UNAUTHENTICATED);
	assert_int_equal(
		cc_parse_modes("Encrypted,MIXED, unauthenticated", m, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(m[0], XT_MODE_ENCRYPTED);
	assert_int_equal(m[1], XT_MODE_MIXED);
	assert_int_equal(m[2], XT_MODE_UNAUTHENTICATED);
	assert_int_equal(cc_parse_modes("m", m, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(m[0], XT_MODE_MIXED);
	assert_int_equal(cc_parse_modes("authenticated,a", m, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(cc_parse_modes("secure", m, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'secure'"));
	assert_int_equal(cc_parse_modes(",", m, &n, err, sizeof(err)), -EINVAL);
	assert_string_equal(cc_mode_name(XT_MODE_MIXED | XT_MODE_INDIVIDUAL_SESSIONS), "mixed");
}

/* Test the Accept texts (RFC 4656 §3.3; unknown values read as failure). */
static void test_accept_strings(void **state)
{
	(void)state;
	assert_string_equal(cc_accept_str(0), "OK");
	assert_string_equal(cc_accept_str(1), "failure");
	assert_string_equal(cc_accept_str(2), "internal error");
	assert_string_equal(cc_accept_str(3), "not supported");
	assert_string_equal(cc_accept_str(4), "permanent resource limit");
	assert_string_equal(cc_accept_str(5), "temporary resource limit");
	assert_non_null(strstr(cc_accept_str(6), "failure"));
	assert_non_null(strstr(cc_accept_str(255), "failure"));
	assert_true(cc_ns_to_ntp_interval(2000000000ULL) == (2ULL << 32));
	assert_true(cc_ns_to_ntp_interval(500000000ULL) == 0x80000000ULL);
}

/* ---- a scripted server on a socketpair ---------------------------------- */

#define SECRET_HEX_LEN 16
static const __u8 secret[SECRET_HEX_LEN] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
					     0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };

/* The server's side of one connection, with its own stream crypto. */
struct fake {
	int fd;
	__u32 modes;  /* greeting */
	__u32 count;  /* greeting */
	int scenario; /* what to script */
	bool cipher;
	__u8 challenge[16], salt[16];
	__u8 aes[TW_AES_KEY_LEN], hmac[TW_HMAC_KEY_LEN];
	struct tw_cbc_stream tx, rx;
	struct tw_hmac txm, rxm;
	__u8 sids[4][XT_SID_LEN];
	struct xt_request_tw_session req; /* the last request, decrypted */
	__u32 stop_n;			  /* Number of Sessions in Stop-Sessions */
	char failed[256];		  /* first problem seen, "" = none */
};

enum {
	SC_PLAIN,	 /* unauth: 1 session, start, stop */
	SC_ENCRYPTED,	 /* 2 requests (2nd refused), start, stop */
	SC_WRONG_SECRET, /* Server-Start Accept 1 */
	SC_BAD_HMAC,	 /* Accept-Session with a wrong HMAC */
	SC_INDIVIDUAL,	 /* unauth + RFC 5938: 3 sessions, split acks, one refused */
};

#define FAKE_CHECK(f, cond)                                                                 \
	do {                                                                                \
		if (!(cond) && !(f)->failed[0])                                             \
			snprintf((f)->failed, sizeof((f)->failed), "line %d: %s", __LINE__, \
				 #cond);                                                    \
	} while (0)

static int fx_read(struct fake *f, void *buf, size_t len)
{
	__u8 *p = buf;

	while (len) {
		ssize_t n = read(f->fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void fx_write(struct fake *f, const void *buf, size_t len)
{
	FAKE_CHECK(f, write(f->fd, buf, len) == (ssize_t)len);
}

/* A client command: decrypt, check its HMAC (keyed), return 0 if all is well. */
static int fx_recv_cmd(struct fake *f, void *buf, size_t len)
{
	__u8 *p = buf;

	if (fx_read(f, buf, len))
		return -1;
	if (!f->cipher)
		return 0;
	FAKE_CHECK(f, tw_stream_update(&f->rx, p, p, len) == 0);
	FAKE_CHECK(f, tw_hmac_add(&f->rxm, p, len - XT_HMAC_LEN) == 0);
	FAKE_CHECK(f, tw_hmac_verify(&f->rxm, p + len - XT_HMAC_LEN) == 0);
	return 0;
}

/* A server message whose last block is the HMAC (corrupted on request). */
static void fx_send_msg(struct fake *f, void *buf, size_t len, bool bad_hmac)
{
	__u8 *p = buf;

	if (f->cipher) {
		FAKE_CHECK(f, tw_hmac_add(&f->txm, p, len - XT_HMAC_LEN) == 0);
		FAKE_CHECK(f, tw_hmac_final(&f->txm, p + len - XT_HMAC_LEN) == 0);
		if (bad_hmac)
			p[len - 1] ^= 0x01;
		FAKE_CHECK(f, tw_stream_update(&f->tx, p, p, len) == 0);
	}
	fx_write(f, p, len);
}

static void fx_greet(struct fake *f)
{
	struct xt_server_greeting g;

	memset(&g, 0, sizeof(g));
	g.modes = htonl(f->modes);
	FAKE_CHECK(f, tw_random(f->challenge, 16) == 0);
	FAKE_CHECK(f, tw_random(f->salt, 16) == 0);
	memcpy(g.challenge, f->challenge, 16);
	memcpy(g.salt, f->salt, 16);
	g.count = htonl(f->count);
	fx_write(f, &g, sizeof(g));
}

/* Set-Up-Response -> Server-Start; returns the client's Mode, or 0 when it quit/failed. */
static __u32 fx_setup(struct fake *f, __u8 accept)
{
	struct xt_setup_response r;
	struct xt_server_start ss;
	__u32 mode;

	if (fx_read(f, &r, sizeof(r)))
		return 0;
	mode = ntohl(r.mode);
	memset(&ss, 0, sizeof(ss));
	f->cipher = (mode & XT_MODE_CONTROL_CIPHER) != 0;
	if (f->cipher) {
		__u8 k[TW_AES_KEY_LEN], plain[64];

		FAKE_CHECK(f, !strcmp((const char *)r.key_id, "alice"));
		FAKE_CHECK(f, tw_derive_key(secret, sizeof(secret), f->salt, f->count, k) == 0);
		FAKE_CHECK(f, tw_token_decrypt(k, r.token, plain) == 0);
		/* the wrong-secret client sends a Token we cannot open properly */
		if (accept == XT_ACCEPT_OK)
			FAKE_CHECK(f, !memcmp(plain, f->challenge, 16));
		memcpy(f->aes, plain + 16, 16);
		memcpy(f->hmac, plain + 32, 32);
		FAKE_CHECK(f, tw_stream_init(&f->rx, f->aes, r.client_iv, false) == 0);
		FAKE_CHECK(f, tw_hmac_init(&f->rxm, f->hmac) == 0);
		FAKE_CHECK(f, tw_hmac_init(&f->txm, f->hmac) == 0);
		FAKE_CHECK(f, tw_random(ss.server_iv, 16) == 0);
		FAKE_CHECK(f, tw_stream_init(&f->tx, f->aes, ss.server_iv, true) == 0);
	} else {
		/* unauthenticated: KeyID, Token, Client-IV all zero */
		static const __u8 zero[160];

		FAKE_CHECK(f, !memcmp(r.key_id, zero, sizeof(zero)));
	}
	ss.accept = accept;
	if (accept != XT_ACCEPT_OK) {
		fx_write(f, &ss, sizeof(ss));
		return 0;
	}
	ss.start_time.sec = htonl(0xe1000000);
	fx_write(f, &ss, 32);
	if (f->cipher) {
		/* the block after the IV opens the stream and the first HMAC span */
		FAKE_CHECK(f, tw_hmac_add(&f->txm, (__u8 *)&ss + 32, 16) == 0);
		FAKE_CHECK(f,
			   tw_stream_update(&f->tx, (__u8 *)&ss + 32, (__u8 *)&ss + 32, 16) == 0);
	}
	fx_write(f, (__u8 *)&ss + 32, 16);
	return mode;
}

static void fx_accept(struct fake *f, __u8 accept, __u16 port, const __u8 *sid, bool bad_hmac)
{
	struct xt_accept_session a;

	memset(&a, 0, sizeof(a));
	a.accept = accept;
	if (accept == XT_ACCEPT_OK) {
		a.port = htons(port);
		memcpy(a.sid, sid, XT_SID_LEN);
	}
	fx_send_msg(f, &a, sizeof(a), bad_hmac);
}

static void fx_request(struct fake *f, __u8 accept, __u16 port, int sid_idx, bool bad_hmac)
{
	if (fx_recv_cmd(f, &f->req, sizeof(f->req))) {
		FAKE_CHECK(f, !"no Request-TW-Session");
		return;
	}
	FAKE_CHECK(f, f->req.command == XT_CMD_REQUEST_TW_SESSION);
	fx_accept(f, accept, port, f->sids[sid_idx], bad_hmac);
}

static void fx_start(struct fake *f)
{
	struct xt_start_sessions s;
	struct xt_start_ack ack;

	if (fx_recv_cmd(f, &s, sizeof(s))) {
		FAKE_CHECK(f, !"no Start-Sessions");
		return;
	}
	FAKE_CHECK(f, s.command == XT_CMD_START_SESSIONS);
	memset(&ack, 0, sizeof(ack));
	fx_send_msg(f, &ack, sizeof(ack), false);
}

static void fx_stop(struct fake *f)
{
	struct xt_stop_sessions s;

	if (fx_recv_cmd(f, &s, sizeof(s))) {
		FAKE_CHECK(f, !"no Stop-Sessions");
		return;
	}
	FAKE_CHECK(f, s.command == XT_CMD_STOP_SESSIONS);
	FAKE_CHECK(f, s.accept == XT_ACCEPT_OK);
	f->stop_n = ntohl(s.number_of_sessions);
}

/* One Start-N-Ack/Stop-N-Ack for the given SIDs (indices into f->sids). */
static void fx_n_ack(struct fake *f, __u8 cmd, __u8 accept, const int *idx, int n)
{
	__u8 buf[16 + 4 * XT_SID_LEN + XT_HMAC_LEN];
	struct xt_n_sessions_header *h = (void *)buf;
	size_t len = 16 + (size_t)n * XT_SID_LEN + XT_HMAC_LEN;

	memset(buf, 0, sizeof(buf));
	h->command = cmd;
	h->accept = accept;
	h->number_of_sessions = htonl((__u32)n);
	for (int i = 0; i < n; i++)
		memcpy(buf + 16 + i * XT_SID_LEN, f->sids[idx[i]], XT_SID_LEN);
	fx_send_msg(f, buf, len, false);
}

/* Read a Start-N/Stop-N for n SIDs and check they are sids[0..n-1]. */
static void fx_recv_n(struct fake *f, __u8 cmd, const int *idx, int n)
{
	__u8 buf[16 + 4 * XT_SID_LEN + XT_HMAC_LEN];
	struct xt_n_sessions_header *h = (void *)buf;
	size_t len = 16 + (size_t)n * XT_SID_LEN + XT_HMAC_LEN;

	if (fx_recv_cmd(f, buf, len)) {
		FAKE_CHECK(f, !"no Start-N/Stop-N");
		return;
	}
	FAKE_CHECK(f, h->command == cmd);
	FAKE_CHECK(f, ntohl(h->number_of_sessions) == (__u32)n);
	for (int i = 0; i < n; i++)
		FAKE_CHECK(f, !memcmp(buf + 16 + i * XT_SID_LEN, f->sids[idx[i]], XT_SID_LEN));
}

static void *fake_server(void *arg)
{
	struct fake *f = arg;
	__u32 mode;

	for (int i = 0; i < 4; i++)
		memset(f->sids[i], 0x11 * (i + 1), XT_SID_LEN);
	fx_greet(f);
	mode = fx_setup(f, f->scenario == SC_WRONG_SECRET ? XT_ACCEPT_FAILURE : XT_ACCEPT_OK);
	if (!mode)
		goto out;
	switch (f->scenario) {
	case SC_PLAIN:
		FAKE_CHECK(f, mode == XT_MODE_UNAUTHENTICATED);
		fx_request(f, XT_ACCEPT_OK, 9000, 0, false);
		fx_start(f);
		fx_stop(f);
		break;
	case SC_ENCRYPTED:
		FAKE_CHECK(f, mode == XT_MODE_ENCRYPTED);
		fx_request(f, XT_ACCEPT_OK, 9001, 0, false);
		fx_request(f, XT_ACCEPT_TEMPORARY_LIMIT, 0, 1, false);
		fx_start(f);
		fx_stop(f);
		break;
	case SC_BAD_HMAC:
		fx_request(f, XT_ACCEPT_OK, 9001, 0, true);
		break;
	case SC_INDIVIDUAL: {
		static const int all[] = { 0, 1, 2 }, ok[] = { 0, 2 }, bad[] = { 1 };

		FAKE_CHECK(f, mode == (XT_MODE_UNAUTHENTICATED | XT_MODE_INDIVIDUAL_SESSIONS));
		for (int i = 0; i < 3; i++)
			fx_request(f, XT_ACCEPT_OK, (__u16)(9100 + i), i, false);
		fx_recv_n(f, XT_CMD_START_N_SESSIONS, all, 3);
		/* RFC 5938 §3.3: one ack per Accept value */
		fx_n_ack(f, XT_CMD_START_N_ACK, XT_ACCEPT_OK, ok, 2);
		fx_n_ack(f, XT_CMD_START_N_ACK, XT_ACCEPT_TEMPORARY_LIMIT, bad, 1);
		fx_recv_n(f, XT_CMD_STOP_N_SESSIONS, ok, 2);
		fx_n_ack(f, XT_CMD_STOP_N_ACK, XT_ACCEPT_OK, ok, 2);
		break;
	}
	}
out:
	if (f->cipher) {
		tw_stream_free(&f->tx);
		tw_stream_free(&f->rx);
		tw_hmac_free(&f->txm);
		tw_hmac_free(&f->rxm);
	}
	shutdown(f->fd, SHUT_RDWR);
	return NULL;
}

struct pair {
	int cfd;
	pthread_t th;
	struct fake f;
};

static void pair_start_count(struct pair *p, int scenario, __u32 modes, __u32 count)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(&p->f, 0, sizeof(p->f));
	p->cfd = sv[0];
	p->f.fd = sv[1];
	p->f.modes = modes;
	p->f.count = count;
	p->f.scenario = scenario;
	assert_int_equal(pthread_create(&p->th, NULL, fake_server, &p->f), 0);
}

static void pair_start(struct pair *p, int scenario, __u32 modes)
{
	pair_start_count(p, scenario, modes, 1024); /* small: the test stays fast */
}

static void pair_finish(struct pair *p)
{
	pthread_join(p->th, NULL);
	close(p->cfd);
	close(p->f.fd);
	if (p->f.failed[0])
		fail_msg("fake server: %s", p->f.failed);
}

static void fill_params(struct cc_session_params *p, __u16 sport)
{
	memset(p, 0, sizeof(*p));
	p->ipvn = 4;
	p->sender_addr[0] = 192;
	p->sender_addr[2] = 2;
	p->sender_addr[3] = 2;
	p->receiver_addr[0] = 192;
	p->receiver_addr[2] = 2;
	p->receiver_addr[3] = 1;
	p->sender_port = sport;
	p->receiver_port = 862;
	p->padding_length = 64;
	p->timeout_ns = 2000000000ULL;
}

/* Test a whole unauthenticated exchange: greeting to Stop-Sessions. */
static void test_exchange_unauthenticated(void **state)
{
	const __u32 modes[] = { XT_MODE_UNAUTHENTICATED };
	struct cc_config cfg = {
		.modes = modes, .n_modes = 1, .max_count_exponent = 15, .timeout_ms = 5000
	};
	struct cc_session_params sp;
	struct cc_accept a;
	struct cc_conn c;
	struct pair p;

	(void)state;
	pair_start(&p, SC_PLAIN, XT_MODE_UNAUTHENTICATED | XT_MODE_ENCRYPTED);
	assert_int_equal(cc_open(&c, p.cfd, &cfg), 0);
	assert_int_equal(c.mode, XT_MODE_UNAUTHENTICATED);
	assert_false(c.cipher);
	assert_false(cc_test_keyed(&c));
	assert_true(c.server_start_ntp == 0xe100000000000000ULL);
	fill_params(&sp, 40000);
	assert_int_equal(cc_request_session(&c, &sp, &a), 0);
	assert_int_equal(a.port, 9000);
	assert_memory_equal(a.sid, p.f.sids[0], XT_SID_LEN);
	assert_int_equal(cc_start_sessions(&c), 0);
	assert_int_equal(c.running, 1);
	assert_int_equal(cc_stop_sessions(&c, XT_ACCEPT_OK), 0);
	assert_int_equal(c.running, 0);
	cc_close(&c);
	pair_finish(&p);
	assert_int_equal(p.f.stop_n, 1);
	/* the request arrived as built */
	assert_int_equal(ntohs(p.f.req.sender_port), 40000);
	assert_int_equal(ntohl(p.f.req.padding_length), 64);
}

/* Test a whole encrypted exchange, a refused session and the test-session keys. */
static void test_exchange_encrypted(void **state)
{
	const __u32 modes[] = { XT_MODE_ENCRYPTED, XT_MODE_UNAUTHENTICATED };
	struct cc_config cfg = { .modes = modes,
				 .n_modes = 2,
				 .identity = "alice",
				 .secret = secret,
				 .secret_len = sizeof(secret),
				 .max_count_exponent = 15,
				 .timeout_ms = 5000 };
	struct tw_test_keys ck, sk;
	__u8 sid[XT_SID_LEN];
	struct cc_session_params sp;
	struct cc_accept a;
	struct cc_conn c;
	struct pair p;
	__u8 pkt[48 + 64];

	(void)state;
	pair_start(&p, SC_ENCRYPTED, 0x1f);
	assert_int_equal(cc_open(&c, p.cfd, &cfg), 0);
	assert_int_equal(cc_security_mode(&c), XT_MODE_ENCRYPTED);
	assert_true(c.cipher);
	assert_true(cc_test_keyed(&c));
	assert_true(c.server_start_ntp == 0xe100000000000000ULL); /* decrypted */
	fill_params(&sp, 40001);
	assert_int_equal(cc_request_session(&c, &sp, &a), 0); /* HMAC covered Server-Start */
	assert_int_equal(a.port, 9001);
	assert_memory_equal(a.sid, p.f.sids[0], XT_SID_LEN);
	memcpy(sid, a.sid, XT_SID_LEN);
	assert_int_equal(ntohl(p.f.req.padding_length), 64); /* decrypted by the server */

	fill_params(&sp, 40002);
	assert_int_equal(cc_request_session(&c, &sp, &a), -EACCES);
	assert_int_equal(a.accept, XT_ACCEPT_TEMPORARY_LIMIT);
	assert_int_equal(c.last_accept, 5);
	assert_string_equal(c.err, "session refused: Accept 5 (temporary resource limit)");

	assert_int_equal(cc_start_sessions(&c), 0);
	assert_int_equal(c.running, 1);

	/* both ends derive the same test keys; a packet sealed here opens there */
	assert_int_equal(cc_test_keys(&c, sid, &ck), 0);
	assert_int_equal(tw_test_keys_derive(p.f.sids[0], p.f.aes, p.f.hmac, &sk), 0);
	assert_memory_equal(&ck, &sk, sizeof(ck));
	memset(pkt, 0, sizeof(pkt));
	pkt[3] = 7;
	assert_int_equal(tw_test_seal_sender(XT_MODE_ENCRYPTED, &ck, pkt, sizeof(pkt)), 0);
	assert_int_equal(tw_test_open_sender(XT_MODE_ENCRYPTED, &sk, pkt, sizeof(pkt)), 0);
	assert_int_equal(pkt[3], 7);

	assert_int_equal(cc_stop_sessions(&c, XT_ACCEPT_OK), 0);
	cc_close(&c);
	pair_finish(&p);
	assert_int_equal(p.f.stop_n, 1); /* only the accepted, started one */
}

/* Test a wrong secret: Server-Start Accept 1 reads as an authentication failure. */
static void test_exchange_wrong_secret(void **state)
{
	static const __u8 wrong[4] = { 1, 2, 3, 4 };
	const __u32 modes[] = { XT_MODE_AUTHENTICATED };
	struct cc_config cfg = { .modes = modes,
				 .n_modes = 1,
				 .identity = "alice",
				 .secret = wrong,
				 .secret_len = sizeof(wrong),
				 .max_count_exponent = 15,
				 .timeout_ms = 5000 };
	struct cc_conn c;
	struct pair p;

	(void)state;
	pair_start(&p, SC_WRONG_SECRET, XT_MODE_AUTHENTICATED);
	assert_int_equal(cc_open(&c, p.cfd, &cfg), -EACCES);
	assert_int_equal(c.last_accept, 1);
	assert_non_null(strstr(c.err, "authentication failed"));
	assert_non_null(strstr(c.err, "Accept 1 (failure)"));
	assert_non_null(strstr(c.err, "'alice'"));
	cc_close(&c);
	pair_finish(&p);
}

/* Test that an Accept-Session whose HMAC does not verify is refused (RFC 4656 §3.2). */
static void test_exchange_bad_hmac(void **state)
{
	const __u32 modes[] = { XT_MODE_MIXED };
	struct cc_config cfg = { .modes = modes,
				 .n_modes = 1,
				 .identity = "alice",
				 .secret = secret,
				 .secret_len = sizeof(secret),
				 .max_count_exponent = 15,
				 .timeout_ms = 5000 };
	struct cc_session_params sp;
	struct cc_accept a;
	struct cc_conn c;
	struct pair p;

	(void)state;
	pair_start(&p, SC_BAD_HMAC, XT_MODE_MIXED);
	assert_int_equal(cc_open(&c, p.cfd, &cfg), 0);
	assert_true(c.cipher);
	assert_false(cc_test_keyed(&c)); /* mixed: test packets carry no crypto */
	fill_params(&sp, 40003);
	assert_int_equal(cc_request_session(&c, &sp, &a), -EBADMSG);
	assert_non_null(strstr(c.err, "Accept-Session: HMAC does not verify"));
	cc_close(&c);
	pair_finish(&p);
}

/* Test refusals before Set-Up-Response: no common mode, Count too large. */
static void test_exchange_refusals(void **state)
{
	const __u32 modes[] = { XT_MODE_ENCRYPTED };
	struct cc_config cfg = { .modes = modes,
				 .n_modes = 1,
				 .identity = "alice",
				 .secret = secret,
				 .secret_len = sizeof(secret),
				 .max_count_exponent = 15,
				 .timeout_ms = 5000 };
	struct cc_conn c;
	struct pair p;

	(void)state;
	/* the server only offers unauthenticated: we send Mode 0 and give up */
	pair_start(&p, SC_PLAIN, XT_MODE_UNAUTHENTICATED);
	assert_int_equal(cc_open(&c, p.cfd, &cfg), -ECONNREFUSED);
	assert_non_null(strstr(c.err, "server refused the mode"));
	assert_non_null(strstr(c.err, "offers unauthenticated"));
	assert_non_null(strstr(c.err, "asked for encrypted"));
	cc_close(&c);
	pair_finish(&p);

	/* Count 2^16 with a limit of 2^15 */
	pair_start_count(&p, SC_PLAIN, 0x1f, 1U << 16);
	assert_int_equal(cc_open(&c, p.cfd, &cfg), -E2BIG);
	cc_close(&c);
	pair_finish(&p);

	/* Individual Session Control wanted but not offered */
	pair_start(&p, SC_PLAIN, XT_MODE_ENCRYPTED);
	cfg.features = XT_MODE_INDIVIDUAL_SESSIONS;
	assert_int_equal(cc_open(&c, p.cfd, &cfg), -ECONNREFUSED);
	assert_non_null(strstr(c.err, "RFC 5938"));
	cc_close(&c);
	pair_finish(&p);
}

/* Test Start-N/Stop-N with acks split by Accept value (RFC 5938 §3.3). */
static void test_exchange_individual(void **state)
{
	const __u32 modes[] = { XT_MODE_UNAUTHENTICATED };
	struct cc_config cfg = { .modes = modes,
				 .n_modes = 1,
				 .features = XT_MODE_INDIVIDUAL_SESSIONS,
				 .max_count_exponent = 15,
				 .timeout_ms = 5000 };
	__u8 sids[3][XT_SID_LEN], ok[2][XT_SID_LEN], acc[3];
	struct cc_session_params sp;
	struct cc_accept a;
	struct cc_conn c;
	struct pair p;

	(void)state;
	pair_start(&p, SC_INDIVIDUAL, XT_MODE_UNAUTHENTICATED | XT_MODE_INDIVIDUAL_SESSIONS);
	assert_int_equal(cc_open(&c, p.cfd, &cfg), 0);
	assert_int_equal(c.mode, XT_MODE_UNAUTHENTICATED | XT_MODE_INDIVIDUAL_SESSIONS);
	for (int i = 0; i < 3; i++) {
		fill_params(&sp, (__u16)(41000 + i));
		assert_int_equal(cc_request_session(&c, &sp, &a), 0);
		assert_int_equal(a.port, 9100 + i);
		memcpy(sids[i], a.sid, XT_SID_LEN);
	}
	/* base Start-Sessions is not allowed in this mode */
	assert_int_equal(cc_start_sessions(&c), -EINVAL);
	assert_int_equal(cc_start_n_sessions(&c, (const __u8(*)[XT_SID_LEN])sids, 3, acc), -EACCES);
	assert_int_equal(acc[0], 0);
	assert_int_equal(acc[1], 5);
	assert_int_equal(acc[2], 0);
	assert_int_equal(c.running, 2);
	assert_non_null(strstr(c.err, "session 2: Accept 5 (temporary resource limit)"));
	memcpy(ok[0], sids[0], XT_SID_LEN);
	memcpy(ok[1], sids[2], XT_SID_LEN);
	assert_int_equal(cc_stop_n_sessions(&c, (const __u8(*)[XT_SID_LEN])ok, 2, acc), 0);
	assert_int_equal(c.running, 0);
	cc_close(&c);
	pair_finish(&p);
}

/* Test that a server that goes silent is reported with the step it was at. */
static void test_exchange_timeout(void **state)
{
	const __u32 modes[] = { XT_MODE_UNAUTHENTICATED };
	struct cc_config cfg = {
		.modes = modes, .n_modes = 1, .max_count_exponent = 15, .timeout_ms = 100
	};
	struct cc_conn c;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(cc_open(&c, sv[0], &cfg), -ETIMEDOUT);
	assert_non_null(strstr(c.err, "Server-Greeting"));
	cc_close(&c);
	close(sv[1]);
	assert_int_equal(cc_open(&c, sv[0], &cfg), -ECONNABORTED);
	assert_non_null(strstr(c.err, "closed the connection"));
	cc_close(&c);
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setup_response_bytes),
		cmocka_unit_test(test_request_session_bytes),
		cmocka_unit_test(test_start_stop_bytes),
		cmocka_unit_test(test_parse_server_messages),
		cmocka_unit_test(test_greeting),
		cmocka_unit_test(test_choose_mode),
		cmocka_unit_test(test_parse_modes),
		cmocka_unit_test(test_accept_strings),
		cmocka_unit_test(test_exchange_unauthenticated),
		cmocka_unit_test(test_exchange_encrypted),
		cmocka_unit_test(test_exchange_wrong_secret),
		cmocka_unit_test(test_exchange_bad_hmac),
		cmocka_unit_test(test_exchange_refusals),
		cmocka_unit_test(test_exchange_individual),
		cmocka_unit_test(test_exchange_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
