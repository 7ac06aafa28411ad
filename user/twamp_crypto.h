/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * twamp_crypto.h - the cryptography of TWAMP-Control and TWAMP-Test
 * (RFC 4656 §3.1, §3.4, §4.1.2, §6; RFC 5357 §3.2, §4.1.2, §4.2.1), on
 * OpenSSL 3 EVP.  Nothing here does I/O or logs; secrets are wiped with
 * OPENSSL_cleanse when a context is freed.  Functions return 0 or -errno
 * (-EBADMSG for an HMAC that does not verify, -EINVAL for bad arguments,
 * -EIO for an OpenSSL failure).
 */
#ifndef XTWAMP_TWAMP_CRYPTO_H
#define XTWAMP_TWAMP_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define TW_AES_KEY_LEN 16
#define TW_HMAC_KEY_LEN 32
#define TW_HMAC_LEN 16 /* HMAC-SHA1 truncated to its first 128 bits */

/* K = PBKDF2-HMAC-SHA1(secret, salt, count, dkLen 16) (RFC 4656 §3.1). */
int tw_derive_key(const void *secret, size_t secret_len, const __u8 salt[16], __u32 count,
		  __u8 key[TW_AES_KEY_LEN]);

/* Token = AES-128-CBC(K, IV = 0) of challenge(16) | AES key(16) | HMAC key(32). */
int tw_token_encrypt(const __u8 key[TW_AES_KEY_LEN], const __u8 plain[64], __u8 token[64]);
int tw_token_decrypt(const __u8 key[TW_AES_KEY_LEN], const __u8 token[64], __u8 plain[64]);

/*
 * One direction of the control stream: AES-128-CBC, one continuous chain
 * from the IV over every block sent (RFC 4656 §3.4), no padding.
 */
struct tw_cbc_stream {
	void *ctx; /* EVP_CIPHER_CTX */
};
int tw_stream_init(struct tw_cbc_stream *s, const __u8 key[TW_AES_KEY_LEN], const __u8 iv[16],
		   bool encrypt);
/* len must be a multiple of 16; in and out may be the same buffer. */
int tw_stream_update(struct tw_cbc_stream *s, const __u8 *in, __u8 *out, size_t len);
void tw_stream_free(struct tw_cbc_stream *s);

/*
 * The running HMAC of one direction (RFC 4656 §3.2): it covers everything
 * sent since the previous HMAC.  tw_hmac_final() writes the 16-octet value
 * and starts the next span; tw_hmac_verify() compares in constant time.
 */
struct tw_hmac {
	void *ctx; /* EVP_MAC_CTX */
	void *mac; /* EVP_MAC */
	__u8 key[TW_HMAC_KEY_LEN];
};
int tw_hmac_init(struct tw_hmac *h, const __u8 key[TW_HMAC_KEY_LEN]);
int tw_hmac_add(struct tw_hmac *h, const void *data, size_t len);
int tw_hmac_final(struct tw_hmac *h, __u8 out[TW_HMAC_LEN]);
int tw_hmac_verify(struct tw_hmac *h, const __u8 expected[TW_HMAC_LEN]); /* 0 or -EBADMSG */
void tw_hmac_free(struct tw_hmac *h);

/* One-shot HMAC-SHA1/128 (test packets). */
int tw_hmac_oneshot(const __u8 key[TW_HMAC_KEY_LEN], const void *data, size_t len,
		    __u8 out[TW_HMAC_LEN]);

/*
 * TWAMP-Test session keys (RFC 5357 §4.1.2, RFC 4656 §4.1.2): the SID is
 * the AES key; the control session keys are the plaintext.
 *   test AES key  = AES-128-ECB(key = SID, control AES session key)
 *   test HMAC key = AES-128-CBC(key = SID, IV = 0, control HMAC session key)
 */
struct tw_test_keys {
	__u8 aes[TW_AES_KEY_LEN];
	__u8 hmac[TW_HMAC_KEY_LEN];
};
int tw_test_keys_derive(const __u8 sid[16], const __u8 control_aes_key[TW_AES_KEY_LEN],
			const __u8 control_hmac_key[TW_HMAC_KEY_LEN], struct tw_test_keys *out);

/*
 * Test packets in authenticated (XT_MODE_AUTHENTICATED) and encrypted
 * (XT_MODE_ENCRYPTED) mode, in place:
 * - tw_test_open_sender(): a received Session-Sender packet (>= 48 octets):
 *   decrypt block 0 (AES-ECB, authenticated) or blocks 0-1 (AES-CBC IV 0,
 *   encrypted), verify the HMAC at 32 over the same octets. -EBADMSG = drop.
 * - tw_test_seal_reflector(): a Session-Reflector packet (>= 112 octets)
 *   whose fields are all written: HMAC over octets 0-15 (authenticated) or
 *   0-95 (encrypted) into octets 96-111, then encrypt block 0 (ECB) or
 *   blocks 0-5 (CBC IV 0).
 * And their mirror images for a Session-Sender (the client side).
 */
int tw_test_open_sender(__u32 mode, const struct tw_test_keys *keys, __u8 *pkt, size_t len);
int tw_test_seal_reflector(__u32 mode, const struct tw_test_keys *keys, __u8 *pkt, size_t len);
int tw_test_seal_sender(__u32 mode, const struct tw_test_keys *keys, __u8 *pkt, size_t len);
int tw_test_open_reflector(__u32 mode, const struct tw_test_keys *keys, __u8 *pkt, size_t len);

/*
 * The same for many packets of one test session: the AES key schedules and
 * the keyed HMAC state are set up once by tw_test_ctx_init() (a fresh
 * context per packet costs more than the packet's cryptography), and each
 * packet only resets the CBC IV and re-initialises the HMAC.  Results are
 * those of tw_test_open_sender() / tw_test_seal_reflector() under the keys
 * and mode given to tw_test_ctx_init().  Not thread-safe: one context per
 * thread.  tw_test_ctx_free() wipes the key material.
 */
struct tw_test_ctx {
	__u32 mode;
	void *dec; /* EVP_CIPHER_CTX: AES-128-ECB (authenticated) or -CBC (encrypted) */
	void *enc;
	void *mac; /* EVP_MAC_CTX, HMAC-SHA1 keyed with the test HMAC key */
};
int tw_test_ctx_init(struct tw_test_ctx *c, __u32 mode, const struct tw_test_keys *keys);
int tw_test_ctx_open_sender(struct tw_test_ctx *c, __u8 *pkt, size_t len);
int tw_test_ctx_seal_reflector(struct tw_test_ctx *c, __u8 *pkt, size_t len);
void tw_test_ctx_free(struct tw_test_ctx *c);

/* Cryptographically strong random octets (RAND_bytes). */
int tw_random(void *buf, size_t len);

#endif /* XTWAMP_TWAMP_CRYPTO_H */
