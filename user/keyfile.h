/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * keyfile.h - shared secrets for authenticated/encrypted TWAMP-Control.
 *
 * Format (perfSONAR's pass-phrase store): one key per line,
 * "identity<whitespace>hex-secret", '#' starts a comment, blank lines are
 * ignored.  The identity is the KeyID of the Set-Up-Response (at most 80
 * octets, UTF-8); the secret is the passphrase in hexadecimal.  Secrets
 * never appear in messages; tw_keyring_free() wipes them.
 */
#ifndef XTWAMP_KEYFILE_H
#define XTWAMP_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "xtwamp_wire.h"

#define TW_MAX_SECRET_LEN 1024

struct tw_key {
	char identity[XT_KEYID_LEN + 1];
	__u8 secret[TW_MAX_SECRET_LEN];
	size_t secret_len;
};

struct tw_keyring {
	struct tw_key *keys;
	size_t n_keys;
	bool loose_permissions; /* group/world could read the file */
};

/*
 * Load a key file.  -ENOENT/-EACCES for an unreadable file, -EINVAL for a
 * malformed one; err names the file and line ("keys.conf:7: secret is not
 * hexadecimal") without quoting any secret.
 */
int tw_keyring_load(const char *path, struct tw_keyring *ring, char *err, size_t errlen);

/*
 * The same from len octets in memory (no NUL needed); name stands for the
 * file in err ("(buffer)" when NULL).  The caller wipes buf.
 */
int tw_keyring_parse_buffer(const char *buf, size_t len, const char *name, struct tw_keyring *ring,
			    char *err, size_t errlen);
/* The key whose identity equals the KeyID field (80 octets, NUL padded), or NULL. */
const struct tw_key *tw_keyring_find(const struct tw_keyring *ring,
				     const __u8 key_id[XT_KEYID_LEN]);

void tw_keyring_free(struct tw_keyring *ring);

#endif /* XTWAMP_KEYFILE_H */
