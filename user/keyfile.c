// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * keyfile.c - see keyfile.h.
 *
 * Grammar, per line (lines end in LF; a CR right before it is dropped):
 *   line     = [blank] [identity blank secret [blank]] [comment]
 *   identity = 1*80 octets, no blank, no '#', no control character
 *   secret   = an even number (2..2048) of hex digits, either case
 *   comment  = '#' and everything after it
 * where blank is spaces and tabs.  A '#' therefore always starts a comment,
 * also inside what would otherwise be an identity.
 *
 * Secrets pass through three places: the file buffer, the key array and
 * nothing else.  The file is read with read(2) into one buffer that is
 * wiped before it is freed (no stdio buffers, no getline reallocations),
 * and the key array grows by copy-and-wipe rather than realloc(), which
 * would leave the old copy in freed memory.  Error messages quote the path
 * and the line number only, never the line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "keyfile.h"

/* A key file is a handful of lines; anything bigger is not one. */
#define KEYFILE_MAX_SIZE (1U << 20)

#define STR_(x) #x
#define STR(x) STR_(x)

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Move *buf into a bigger buffer of size cap, wiping the old one. */
static int grow_buffer(char **buf, size_t used, size_t cap)
{
	char *bigger = malloc(cap);

	if (!bigger)
		return -ENOMEM;
	if (*buf) {
		memcpy(bigger, *buf, used);
		OPENSSL_cleanse(*buf, used);
		free(*buf);
	}
	*buf = bigger;
	return 0;
}

/* Read the whole file into a NUL-terminated buffer; *len excludes the NUL. */
static int read_keyfile(const char *path, char **out, size_t *len, bool *loose, char *err,
			size_t errlen)
{
	size_t used = 0, cap;
	char *buf = NULL;
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		set_err(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		set_err(err, errlen, "%s: %s", path, strerror(-ret));
		goto out_close;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		set_err(err, errlen, "%s: %s", path, strerror(-ret));
		goto out_close;
	}
	/* Secrets readable by group or others deserve a warning (the caller's). */
	*loose = (st.st_mode & 077) != 0;

	/*
	 * Regular files say their size (+1 for the NUL, +1 so that the read
	 * which sees EOF needs no growth); pipes and the like grow.
	 */
	cap = S_ISREG(st.st_mode) && (size_t)st.st_size < KEYFILE_MAX_SIZE ? st.st_size + 2 : 4096;
	ret = grow_buffer(&buf, 0, cap);
	if (ret)
		goto out_nomem;
	for (;;) {
		ssize_t n;

		if (used + 1 == cap) {
			if (cap > KEYFILE_MAX_SIZE) {
				ret = -EFBIG;
				set_err(err, errlen, "%s: larger than %u octets, not a key file",
					path, KEYFILE_MAX_SIZE);
				goto out_free;
			}
			ret = grow_buffer(&buf, used, cap * 2);
			if (ret)
				goto out_nomem;
			cap *= 2;
		}
		n = read(fd, buf + used, cap - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			set_err(err, errlen, "%s: %s", path, strerror(-ret));
			goto out_free;
		}
		if (n == 0)
			break;
		used += n;
	}
	if (used > KEYFILE_MAX_SIZE) {
		ret = -EFBIG;
		set_err(err, errlen, "%s: larger than %u octets, not a key file", path,
			KEYFILE_MAX_SIZE);
		goto out_free;
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	close(fd);
	return 0;

out_nomem:
	set_err(err, errlen, "%s: out of memory", path);
out_free:
	if (buf) {
		OPENSSL_cleanse(buf, cap);
		free(buf);
	}
out_close:
	close(fd);
	return ret;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Room for one more key; the array moves by copy-and-wipe (see top). */
static int keyring_reserve(struct tw_keyring *ring, size_t *cap, unsigned int **lines)
{
	size_t new_cap = *cap ? *cap * 2 : 8;
	struct tw_key *keys;
	unsigned int *l;

	if (ring->n_keys < *cap)
		return 0;
	keys = calloc(new_cap, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	l = realloc(*lines, new_cap * sizeof(**lines));
	if (!l) {
		free(keys);
		return -ENOMEM;
	}
	*lines = l;
	if (ring->keys) {
		memcpy(keys, ring->keys, ring->n_keys * sizeof(*keys));
		OPENSSL_cleanse(ring->keys, *cap * sizeof(*keys));
		free(ring->keys);
	}
	ring->keys = keys;
	*cap = new_cap;
	return 0;
}

/*
 * Parse one line [p, end) into ring.  Returns 0 (a key or nothing), or
 * -EINVAL with *why set; -ENOMEM.
 */
static int parse_line(const char *p, const char *end, unsigned int lineno, struct tw_keyring *ring,
		      size_t *cap, unsigned int **lines, const char **why, unsigned int *dup_line)
{
	const char *id, *id_end, *hex, *hex_end, *c;
	struct tw_key *key;
	size_t i, id_len, hex_len;
	int ret;

	if (memchr(p, '\0', end - p)) {
		*why = "NUL octet in the line";
		return -EINVAL;
	}
	c = memchr(p, '#', end - p);
	if (c)
		end = c;

	while (p < end && is_blank(*p))
		p++;
	if (p == end)
		return 0; /* blank or comment only */
	id = p;
	while (p < end && !is_blank(*p))
		p++;
	id_end = p;
	while (p < end && is_blank(*p))
		p++;
	hex = p;
	while (p < end && !is_blank(*p))
		p++;
	hex_end = p;
	while (p < end && is_blank(*p))
		p++;

	id_len = id_end - id;
	hex_len = hex_end - hex;
	if (!hex_len) {
		*why = "identity without a secret";
		return -EINVAL;
	}
	if (p != end) {
		*why = "unexpected text after the secret";
		return -EINVAL;
	}
	if (id_len > XT_KEYID_LEN) {
		*why = "identity is longer than " STR(XT_KEYID_LEN) " octets";
		return -EINVAL;
	}
	for (c = id; c < id_end; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			*why = "identity contains a control character";
			return -EINVAL;
		}
	}
	for (c = hex; c < hex_end; c++) {
		if (hex_value(*c) < 0) {
			*why = "secret is not hexadecimal";
			return -EINVAL;
		}
	}
	if (hex_len % 2) {
		*why = "secret has an odd number of hex digits";
		return -EINVAL;
	}
	if (hex_len / 2 > TW_MAX_SECRET_LEN) {
		*why = "secret is longer than " STR(TW_MAX_SECRET_LEN) " octets";
		return -EINVAL;
	}
	for (i = 0; i < ring->n_keys; i++) {
		if (strlen(ring->keys[i].identity) == id_len &&
		    !memcmp(ring->keys[i].identity, id, id_len)) {
			*why = "duplicate identity";
			*dup_line = (*lines)[i];
			return -EINVAL;
		}
	}

	ret = keyring_reserve(ring, cap, lines);
	if (ret)
		return ret;
	key = &ring->keys[ring->n_keys];
	memset(key, 0, sizeof(*key));
	memcpy(key->identity, id, id_len);
	for (i = 0; i < hex_len / 2; i++)
		key->secret[i] = (__u8)(hex_value(hex[2 * i]) << 4 | hex_value(hex[2 * i + 1]));
	key->secret_len = hex_len / 2;
	(*lines)[ring->n_keys] = lineno;
	ring->n_keys++;
	return 0;
}

int tw_keyring_parse_buffer(const char *buf, size_t len, const char *name, struct tw_keyring *ring,
			    char *err, size_t errlen)
{
	unsigned int lineno = 0, dup_line = 0;
	unsigned int *lines = NULL;
	size_t cap = 0;
	const char *p, *end, *nl, *why = NULL;
	int ret = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!ring)
		return -EINVAL;
	memset(ring, 0, sizeof(*ring));
	if (!buf && len)
		return -EINVAL;
	if (!name)
		name = "(buffer)";

	for (p = buf, end = buf + len; p < end; p = nl + 1) {
		const char *line_end;

		lineno++;
		nl = memchr(p, '\n', end - p);
		if (!nl)
			nl = end;
		line_end = nl;
		/* CRLF files: the CR belongs to the line ending, not to the secret. */
		if (line_end > p && line_end[-1] == '\r')
			line_end--;
		ret = parse_line(p, line_end, lineno, ring, &cap, &lines, &why, &dup_line);
		if (ret == -ENOMEM) {
			set_err(err, errlen, "%s: out of memory", name);
			goto out_fail;
		}
		if (ret && dup_line) {
			set_err(err, errlen, "%s:%u: %s (first on line %u)", name, lineno, why,
				dup_line);
			goto out_fail;
		}
		if (ret) {
			set_err(err, errlen, "%s:%u: %s", name, lineno, why);
			goto out_fail;
		}
	}
	if (!ring->n_keys) {
		ret = -EINVAL;
		set_err(err, errlen, "%s: no keys", name);
		goto out_fail;
	}
	goto out;

out_fail:
	tw_keyring_free(ring);
out:
	free(lines);
	return ret;
}

int tw_keyring_load(const char *path, struct tw_keyring *ring, char *err, size_t errlen)
{
	bool loose = false;
	size_t len = 0;
	char *buf = NULL;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!ring)
		return -EINVAL;
	memset(ring, 0, sizeof(*ring));
	if (!path)
		return -EINVAL;

	ret = read_keyfile(path, &buf, &len, &loose, err, errlen);
	if (ret)
		return ret;
	ret = tw_keyring_parse_buffer(buf, len, path, ring, err, errlen);
	if (!ret)
		ring->loose_permissions = loose;
	OPENSSL_cleanse(buf, len + 1);
	free(buf);
	return ret;
}

const struct tw_key *tw_keyring_find(const struct tw_keyring *ring, const __u8 key_id[XT_KEYID_LEN])
{
	__u8 padded[XT_KEYID_LEN];
	size_t i, n;

	if (!ring || !key_id)
		return NULL;
	/*
	 * Compare all 80 octets of the field with the identity padded the way
	 * RFC 4656 §3.1 pads it: "abc" matches "abc" and zeros only, and an
	 * identity of exactly 80 octets matches a field with no NUL at all.
	 */
	for (i = 0; i < ring->n_keys; i++) {
		n = strlen(ring->keys[i].identity);
		memset(padded, 0, sizeof(padded));
		memcpy(padded, ring->keys[i].identity, n);
		if (!memcmp(padded, key_id, XT_KEYID_LEN))
			return &ring->keys[i];
	}
	return NULL;
}

void tw_keyring_free(struct tw_keyring *ring)
{
	if (!ring)
		return;
	if (ring->keys) {
		OPENSSL_cleanse(ring->keys, ring->n_keys * sizeof(*ring->keys));
		free(ring->keys);
	}
	memset(ring, 0, sizeof(*ring));
}
