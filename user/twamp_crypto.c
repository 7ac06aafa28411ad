// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * twamp_crypto.c - see twamp_crypto.h.
 *
 * Everything goes through OpenSSL 3 EVP.  The cipher and MAC algorithms are
 * fetched once per process (pthread_once) rather than through the legacy
 * EVP_aes_128_cbc() getters: with those, OpenSSL 3 looks the provider
 * implementation up again on every init, which would be paid per test
 * packet.  The fetched objects live until exit on purpose.
 *
 * Intermediate plaintext, digests and key copies on the stack are wiped with
 * OPENSSL_cleanse before returning, on success and on failure alike.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "twamp_crypto.h"
#include "xtwamp_wire.h"

#define AES_BLOCK 16
#define SHA1_LEN 20

/* Test packet geometry (RFC 4656 §4.1.2; RFC 5357 §4.2.1 with erratum 5045). */
#define SENDER_MIN_LEN 48
#define SENDER_HMAC_OFF 32
#define SENDER_ENC_LEN 32 /* encrypted mode: blocks 0-1 */
#define REFLECTOR_MIN_LEN 112
#define REFLECTOR_HMAC_OFF 96
#define REFLECTOR_ENC_LEN 96 /* encrypted mode: blocks 0-5 */

/* EVP takes int lengths; larger buffers are fed in pieces. */
#define EVP_CHUNK (1U << 30)

enum aes_mode { AES_CBC_IV0, AES_ECB };

static EVP_CIPHER *aes_cbc;
static EVP_CIPHER *aes_ecb;
static EVP_MAC *hmac_alg;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_algorithms(void)
{
	aes_cbc = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL);
	aes_ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
	hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static int algorithms_ready(void)
{
	if (pthread_once(&fetch_once, fetch_algorithms))
		return -EIO;
	return aes_cbc && aes_ecb && hmac_alg ? 0 : -EIO;
}

int tw_derive_key(const void *secret, size_t secret_len, const __u8 salt[16], __u32 count,
		  __u8 key[TW_AES_KEY_LEN])
{
	/*
	 * RFC 4656 §3.1 wants count >= 1024 and a power of 2; enforcing that
	 * is the caller's policy (a client may refuse the greeting).  Here
	 * only what PBKDF2 itself cannot take is refused.
	 */
	if ((!secret && secret_len) || !salt || !key || count == 0 || count > INT_MAX ||
	    secret_len > INT_MAX)
		return -EINVAL;
	/* dkLen 16: an AES-128 key; PRF HMAC-SHA1 (RFC 4656 §3.1). */
	if (!PKCS5_PBKDF2_HMAC(secret_len ? secret : "", (int)secret_len, salt, 16, (int)count,
			       EVP_sha1(), TW_AES_KEY_LEN, key))
		return -EIO;
	return 0;
}

/* in and out may be the same buffer (EVP allows exact overlap). */
static int cipher_update(EVP_CIPHER_CTX *ctx, const __u8 *in, __u8 *out, size_t len)
{
	while (len) {
		int chunk = (int)(len < EVP_CHUNK ? len : EVP_CHUNK);
		int outl = 0;

		if (!EVP_CipherUpdate(ctx, out, &outl, in, chunk) || outl != chunk)
			return -EIO;
		in += chunk;
		out += chunk;
		len -= chunk;
	}
	return 0;
}

static EVP_CIPHER_CTX *cipher_new(const EVP_CIPHER *cipher, const __u8 key[TW_AES_KEY_LEN],
				  const __u8 *iv, bool encrypt)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	if (!ctx)
		return NULL;
	/*
	 * Padding off: every TWAMP ciphertext has exactly the length of its
	 * plaintext, and a decrypting context with padding off hands out
	 * every block at once instead of holding the last one back.
	 */
	if (!EVP_CipherInit_ex2(ctx, cipher, key, iv, encrypt ? 1 : 0, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(ctx, 0)) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* One-shot AES-128 over whole blocks: CBC with IV 0, or ECB. */
static int aes_oneshot(enum aes_mode mode, const __u8 key[TW_AES_KEY_LEN], const __u8 *in,
		       __u8 *out, size_t len, bool encrypt)
{
	static const __u8 zero_iv[AES_BLOCK];
	EVP_CIPHER_CTX *ctx;
	int err;

	if (len % AES_BLOCK)
		return -EINVAL;
	err = algorithms_ready();
	if (err)
		return err;
	if (mode == AES_ECB)
		ctx = cipher_new(aes_ecb, key, NULL, encrypt);
	else
		ctx = cipher_new(aes_cbc, key, zero_iv, encrypt);
	if (!ctx)
		return -EIO;
	err = cipher_update(ctx, in, out, len);
	/* EVP_CIPHER_CTX_free cleanses the key schedule. */
	EVP_CIPHER_CTX_free(ctx);
	return err;
}

int tw_token_encrypt(const __u8 key[TW_AES_KEY_LEN], const __u8 plain[64], __u8 token[64])
{
	if (!key || !plain || !token)
		return -EINVAL;
	return aes_oneshot(AES_CBC_IV0, key, plain, token, 64, true);
}

int tw_token_decrypt(const __u8 key[TW_AES_KEY_LEN], const __u8 token[64], __u8 plain[64])
{
	if (!key || !token || !plain)
		return -EINVAL;
	return aes_oneshot(AES_CBC_IV0, key, token, plain, 64, false);
}

int tw_stream_init(struct tw_cbc_stream *s, const __u8 key[TW_AES_KEY_LEN], const __u8 iv[16],
		   bool encrypt)
{
	int err;

	if (!s)
		return -EINVAL;
	s->ctx = NULL;
	if (!key || !iv)
		return -EINVAL;
	err = algorithms_ready();
	if (err)
		return err;
	/*
	 * One context for the whole direction: EVP keeps the last ciphertext
	 * block as the chaining value between updates, which is exactly the
	 * continuous CBC stream of RFC 4656 §3.4.
	 */
	s->ctx = cipher_new(aes_cbc, key, iv, encrypt);
	return s->ctx ? 0 : -EIO;
}

int tw_stream_update(struct tw_cbc_stream *s, const __u8 *in, __u8 *out, size_t len)
{
	if (!s || !s->ctx || (len && (!in || !out)) || len % AES_BLOCK)
		return -EINVAL;
	return cipher_update(s->ctx, in, out, len);
}

void tw_stream_free(struct tw_cbc_stream *s)
{
	if (!s)
		return;
	EVP_CIPHER_CTX_free(s->ctx);
	s->ctx = NULL;
}

/* (Re)start an HMAC-SHA1 computation under key in ctx. */
static int hmac_start(EVP_MAC_CTX *ctx, const __u8 key[TW_HMAC_KEY_LEN])
{
	char digest[] = "SHA1";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};

	return EVP_MAC_init(ctx, key, TW_HMAC_KEY_LEN, params) ? 0 : -EIO;
}

/* Finish the computation in ctx; out gets the first 16 of the 20 octets. */
static int hmac_finish(EVP_MAC_CTX *ctx, __u8 out[TW_HMAC_LEN])
{
	__u8 full[EVP_MAX_MD_SIZE];
	size_t outl = 0;
	int err = 0;

	if (!EVP_MAC_final(ctx, full, &outl, sizeof(full)) || outl != SHA1_LEN)
		err = -EIO;
	else
		memcpy(out, full, TW_HMAC_LEN);
	OPENSSL_cleanse(full, sizeof(full));
	return err;
}

int tw_hmac_init(struct tw_hmac *h, const __u8 key[TW_HMAC_KEY_LEN])
{
	int err;

	if (!h)
		return -EINVAL;
	memset(h, 0, sizeof(*h));
	if (!key)
		return -EINVAL;
	err = algorithms_ready();
	if (err)
		return err;
	if (!EVP_MAC_up_ref(hmac_alg))
		return -EIO;
	h->mac = hmac_alg;
	h->ctx = EVP_MAC_CTX_new(hmac_alg);
	if (!h->ctx) {
		err = -ENOMEM;
		goto err_free;
	}
	/*
	 * The key is kept so that each span restarts with a full init under
	 * it, instead of relying on how an OpenSSL version treats a NULL key
	 * in EVP_MAC_init after EVP_MAC_final; the cost is negligible.
	 */
	memcpy(h->key, key, TW_HMAC_KEY_LEN);
	err = hmac_start(h->ctx, h->key);
	if (err)
		goto err_free;
	return 0;

err_free:
	tw_hmac_free(h);
	return err;
}

int tw_hmac_add(struct tw_hmac *h, const void *data, size_t len)
{
	const __u8 *p = data;

	if (!h || !h->ctx || (len && !data))
		return -EINVAL;
	while (len) {
		size_t chunk = len < EVP_CHUNK ? len : EVP_CHUNK;

		if (!EVP_MAC_update(h->ctx, p, chunk))
			return -EIO;
		p += chunk;
		len -= chunk;
	}
	return 0;
}

int tw_hmac_final(struct tw_hmac *h, __u8 out[TW_HMAC_LEN])
{
	int err;

	if (!h || !h->ctx || !out)
		return -EINVAL;
	err = hmac_finish(h->ctx, out);
	/*
	 * The next span starts right after this HMAC (RFC 4656 §3.2), also
	 * when this one failed: the caller drops the connection then anyway.
	 */
	if (hmac_start(h->ctx, h->key) && !err)
		err = -EIO;
	return err;
}

int tw_hmac_verify(struct tw_hmac *h, const __u8 expected[TW_HMAC_LEN])
{
	__u8 mac[TW_HMAC_LEN];
	int err;

	if (!expected)
		return -EINVAL;
	err = tw_hmac_final(h, mac);
	if (!err && CRYPTO_memcmp(mac, expected, TW_HMAC_LEN))
		err = -EBADMSG;
	OPENSSL_cleanse(mac, sizeof(mac));
	return err;
}

void tw_hmac_free(struct tw_hmac *h)
{
	if (!h)
		return;
	EVP_MAC_CTX_free(h->ctx);
	EVP_MAC_free(h->mac);
	OPENSSL_cleanse(h->key, sizeof(h->key));
	h->ctx = NULL;
	h->mac = NULL;
}

int tw_hmac_oneshot(const __u8 key[TW_HMAC_KEY_LEN], const void *data, size_t len,
		    __u8 out[TW_HMAC_LEN])
{
	EVP_MAC_CTX *ctx;
	int err;

	if (!key || !out || (len && !data))
		return -EINVAL;
	err = algorithms_ready();
	if (err)
		return err;
	ctx = EVP_MAC_CTX_new(hmac_alg);
	if (!ctx)
		return -ENOMEM;
	err = hmac_start(ctx, key);
	if (!err && len && !EVP_MAC_update(ctx, data, len))
		err = -EIO;
	if (!err)
		err = hmac_finish(ctx, out);
	/* EVP_MAC_CTX_free cleanses the HMAC state, key pads included. */
	EVP_MAC_CTX_free(ctx);
	return err;
}

int tw_test_keys_derive(const __u8 sid[16], const __u8 control_aes_key[TW_AES_KEY_LEN],
			const __u8 control_hmac_key[TW_HMAC_KEY_LEN], struct tw_test_keys *out)
{
	struct tw_test_keys k;
	int err;

	if (!sid || !control_aes_key || !control_hmac_key || !out)
		return -EINVAL;
	/*
	 * The SID is the AES key and the control session keys are the data
	 * (RFC 4656 §4.1.2): one ECB block for the AES key, two CBC blocks
	 * with IV 0 for the HMAC key.
	 */
	err = aes_oneshot(AES_ECB, sid, control_aes_key, k.aes, TW_AES_KEY_LEN, true);
	if (!err)
		err = aes_oneshot(AES_CBC_IV0, sid, control_hmac_key, k.hmac, TW_HMAC_KEY_LEN,
				  true);
	if (!err)
		memcpy(out, &k, sizeof(k));
	OPENSSL_cleanse(&k, sizeof(k));
	return err;
}

/*
 * How much of a test packet the mode protects: authenticated mode
 * encrypts and HMACs block 0 only (ECB); encrypted mode everything before
 * the HMAC field (CBC, IV 0, restarted per packet so that loss and
 * reordering do not matter).
 */
static int test_region(__u32 mode, size_t enc_len, enum aes_mode *aes, size_t *region)
{
	switch (mode) {
	case XT_MODE_AUTHENTICATED:
		*aes = AES_ECB;
		*region = AES_BLOCK;
		return 0;
	case XT_MODE_ENCRYPTED:
		*aes = AES_CBC_IV0;
		*region = enc_len;
		return 0;
	default:
		/* Unauthenticated and mixed test packets carry no crypto. */
		return -EINVAL;
	}
}

int tw_test_ctx_init(struct tw_test_ctx *c, __u32 mode, const struct tw_test_keys *keys)
{
	static const __u8 zero_iv[AES_BLOCK];
	const EVP_CIPHER *cipher;
	enum aes_mode aes;
	size_t region;
	int err;

	if (!c)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	if (!keys)
		return -EINVAL;
	err = test_region(mode, AES_BLOCK, &aes, &region);
	if (!err)
		err = algorithms_ready();
	if (err)
		return err;
	c->mode = mode;
	cipher = aes == AES_ECB ? aes_ecb : aes_cbc;
	/* The key schedules and the HMAC pads are computed here, once per session. */
	c->dec = cipher_new(cipher, keys->aes, aes == AES_ECB ? NULL : zero_iv, false);
	c->enc = cipher_new(cipher, keys->aes, aes == AES_ECB ? NULL : zero_iv, true);
	c->mac = EVP_MAC_CTX_new(hmac_alg);
	if (!c->dec || !c->enc || !c->mac)
		err = -ENOMEM;
	else
		err = hmac_start(c->mac, keys->hmac);
	if (err)
		tw_test_ctx_free(c);
	return err;
}

void tw_test_ctx_free(struct tw_test_ctx *c)
{
	if (!c)
		return;
	/* Both free functions cleanse the key schedule and the HMAC state. */
	EVP_CIPHER_CTX_free(c->dec);
	EVP_CIPHER_CTX_free(c->enc);
	EVP_MAC_CTX_free(c->mac);
	memset(c, 0, sizeof(*c));
}

/* AES over whole blocks under the context's key; CBC restarts from IV 0 on every packet. */
static int ctx_aes(struct tw_test_ctx *c, bool encrypt, const __u8 *in, __u8 *out, size_t len)
{
	static const __u8 zero_iv[AES_BLOCK];
	EVP_CIPHER_CTX *ctx = encrypt ? c->enc : c->dec;

	if (len % AES_BLOCK)
		return -EINVAL;
	/* NULL cipher and key: only the IV is reset, the key schedule stays (ECB has none). */
	if (c->mode == XT_MODE_ENCRYPTED && !EVP_CipherInit_ex2(ctx, NULL, NULL, zero_iv, -1, NULL))
		return -EIO;
	return cipher_update(ctx, in, out, len);
}

/* HMAC-SHA1/128 under the context's key: a NULL key re-initialises without re-keying. */
static int ctx_hmac(struct tw_test_ctx *c, const __u8 *data, size_t len, __u8 out[TW_HMAC_LEN])
{
	if (!EVP_MAC_init(c->mac, NULL, 0, NULL))
		return -EIO;
	if (len && !EVP_MAC_update(c->mac, data, len))
		return -EIO;
	return hmac_finish(c->mac, out);
}

/*
 * HMAC the plaintext, then encrypt it (RFC 5357 §4.2).  The HMAC field
 * and the padding stay in clear.  Both results are computed aside and
 * written together, so a failure leaves the packet as it was.
 */
static int test_seal(struct tw_test_ctx *c, __u8 *pkt, size_t len, size_t min_len, size_t hmac_off)
{
	__u8 cipher[REFLECTOR_ENC_LEN];
	__u8 mac[TW_HMAC_LEN];
	enum aes_mode aes;
	size_t region;
	int err;

	if (!c || !c->mac || !pkt || len < min_len)
		return -EINVAL;
	err = test_region(c->mode, hmac_off, &aes, &region);
	if (err)
		return err;
	err = ctx_hmac(c, pkt, region, mac);
	if (!err)
		err = ctx_aes(c, true, pkt, cipher, region);
	if (!err) {
		memcpy(pkt, cipher, region);
		memcpy(pkt + hmac_off, mac, TW_HMAC_LEN);
	}
	OPENSSL_cleanse(cipher, sizeof(cipher));
	OPENSSL_cleanse(mac, sizeof(mac));
	return err;
}

/*
 * Decrypt, then verify the HMAC over the plaintext in constant time
 * (RFC 4656 §4.2).  The plaintext is built aside and copied into the
 * packet only when the HMAC verifies: on -EBADMSG (and any other error)
 * the packet is left exactly as received.
 */
static int test_open(struct tw_test_ctx *c, __u8 *pkt, size_t len, size_t min_len, size_t hmac_off)
{
	__u8 plain[REFLECTOR_ENC_LEN];
	__u8 mac[TW_HMAC_LEN];
	enum aes_mode aes;
	size_t region;
	int err;

	if (!c || !c->mac || !pkt || len < min_len)
		return -EINVAL;
	err = test_region(c->mode, hmac_off, &aes, &region);
	if (err)
		return err;
	err = ctx_aes(c, false, pkt, plain, region);
	if (!err)
		err = ctx_hmac(c, plain, region, mac);
	if (!err && CRYPTO_memcmp(mac, pkt + hmac_off, TW_HMAC_LEN))
		err = -EBADMSG;
	if (!err)
		memcpy(pkt, plain, region);
	OPENSSL_cleanse(plain, sizeof(plain));
	OPENSSL_cleanse(mac, sizeof(mac));
	return err;
}

/* One packet under keys: a context for just this packet. */
static int with_keys(__u32 mode, const struct tw_test_keys *keys, __u8 *pkt, size_t len,
		     size_t min_len, size_t hmac_off, bool seal)
{
	struct tw_test_ctx c;
	int err;

	if (!keys || !pkt || len < min_len)
		return -EINVAL;
	err = tw_test_ctx_init(&c, mode, keys);
	if (err)
		return err;
	err = seal ? test_seal(&c, pkt, len, min_len, hmac_off) :
		     test_open(&c, pkt, len, min_len, hmac_off);
	tw_test_ctx_free(&c);
	return err;
}

int tw_test_open_sender(__u32 mode, const struct tw_test_keys *keys, __u8 *pkt, size_t len)
{
	return with_keys(mode, keys, pkt, len, SENDER_MIN_LEN, SENDER_HMAC_OFF, false);
}

int tw_test_seal_reflector(__u32 mode, const struct tw_test_keys *keys, __u8 *pkt, size_t len)
{
	return with_keys(mode, keys, pkt, len, REFLECTOR_MIN_LEN, REFLECTOR_HMAC_OFF, true);
}

int tw_test_seal_sender(__u32 mode, const struct tw_test_keys *keys, __u8 *pkt, size_t len)
{
	return with_keys(mode, keys, pkt, len, SENDER_MIN_LEN, SENDER_HMAC_OFF, true);
}

int tw_test_open_reflector(__u32 mode, const struct tw_test_keys *keys, __u8 *pkt, size_t len)
{
	return with_keys(mode, keys, pkt, len, REFLECTOR_MIN_LEN, REFLECTOR_HMAC_OFF, false);
}

int tw_test_ctx_open_sender(struct tw_test_ctx *c, __u8 *pkt, size_t len)
{
	/*
	 * 32 octets in encrypted mode, not the 96 of RFC 5357 §4.2's text: a
	 * Session-Sender packet has only two encrypted blocks (RFC 4656
	 * §4.1.2, adopted by RFC 5357 §4.1.2).
	 */
	return test_open(c, pkt, len, SENDER_MIN_LEN, SENDER_HMAC_OFF);
}

int tw_test_ctx_seal_reflector(struct tw_test_ctx *c, __u8 *pkt, size_t len)
{
	return test_seal(c, pkt, len, REFLECTOR_MIN_LEN, REFLECTOR_HMAC_OFF);
}

int tw_random(void *buf, size_t len)
{
	__u8 *p = buf;

	if (len && !buf)
		return -EINVAL;
	while (len) {
		int chunk = (int)(len < EVP_CHUNK ? len : EVP_CHUNK);

		if (RAND_bytes(p, chunk) != 1)
			return -EIO;
		p += chunk;
		len -= chunk;
	}
	return 0;
}
