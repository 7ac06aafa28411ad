// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_keyfile.c - libFuzzer target: key files (user/keyfile.c) from a
 * buffer, and lookups of KeyIDs taken from the input in what was parsed.
 * The error text must be a terminated string that never quotes a secret.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tw_keyring ring;
	__u8 id[XT_KEYID_LEN];
	char err[256];
	size_t i;

	memset(err, 'x', sizeof(err));
	if (tw_keyring_parse_buffer((const char *)data, size, "fuzz.keys", &ring, err,
				    sizeof(err)) == 0) {
		if (!ring.n_keys)
			abort();
		for (i = 0; i < ring.n_keys; i++) {
			const struct tw_key *k = &ring.keys[i];

			if (strlen(k->identity) > XT_KEYID_LEN || k->secret_len > TW_MAX_SECRET_LEN)
				abort();
			memset(id, 0, sizeof(id));
			memcpy(id, k->identity, strlen(k->identity));
			if (tw_keyring_find(&ring, id) == NULL)
				abort(); /* every identity parsed must be found */
		}
		memset(id, 0, sizeof(id));
		memcpy(id, data, size < sizeof(id) ? size : sizeof(id));
		(void)tw_keyring_find(&ring, id);
		tw_keyring_free(&ring);
	} else if (!memchr(err, '\0', sizeof(err))) {
		abort();
	}
	return 0;
}
