// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Key file parsing (user/keyfile.c): the accepted syntax, every rejection
 * with its exact message (which must never contain the secret), file
 * errors, the permissions flag and the KeyID lookup.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "keyfile.h"

static char dir[] = "/tmp/xtwamp-test-keyfile-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

/* Write len octets to dir/name with the given mode; the path goes in path. */
static void write_file(const char *name, const void *data, size_t len, mode_t mode, char *path,
		       size_t pathlen)
{
	FILE *f;

	snprintf(path, pathlen, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Test that comments, blank lines, tabs, CRLF and hex case are all accepted. */
static void test_good_file(void **state)
{
	static const char text[] = "# xtwamp keys\r\n"
				   "\r\n"
				   "   # indented comment\n"
				   "alice\t616263 # trailing comment\r\n"
				   "  bob    00FFa0\t\n"
				   "\t\n"
				   "carol 0102030405060708090a0b0c0d0e0f10#no blank before\n"
				   "dave 00"; /* no final newline */
	char path[256], err[256];
	struct tw_keyring ring;
	const __u8 bob[] = { 0x00, 0xff, 0xa0 };
	(void)state;

	write_file("good.conf", text, strlen(text), 0600, path, sizeof(path));
	assert_int_equal(tw_keyring_load(path, &ring, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(ring.n_keys, 4);
	assert_false(ring.loose_permissions);

	assert_string_equal(ring.keys[0].identity, "alice");
	assert_int_equal(ring.keys[0].secret_len, 3);
	assert_memory_equal(ring.keys[0].secret, "abc", 3);
	assert_string_equal(ring.keys[1].identity, "bob");
	assert_int_equal(ring.keys[1].secret_len, 3);
	assert_memory_equal(ring.keys[1].secret, bob, 3);
	assert_string_equal(ring.keys[2].identity, "carol");
	assert_int_equal(ring.keys[2].secret_len, 16);
	assert_int_equal(ring.keys[2].secret[15], 0x10);
	assert_string_equal(ring.keys[3].identity, "dave");
	assert_int_equal(ring.keys[3].secret_len, 1);

	tw_keyring_free(&ring);
	assert_null(ring.keys);
	assert_int_equal(ring.n_keys, 0);
	tw_keyring_free(&ring); /* harmless twice */
}

/* Test the longest identity (80 octets) and the longest secret (1024 octets). */
static void test_limits_accepted(void **state)
{
	static char text[80 + 1 + 2 * TW_MAX_SECRET_LEN + 2];
	char path[256], err[256];
	struct tw_keyring ring;
	size_t n = 0;
	(void)state;

	memset(text, 'i', 80);
	n = 80;
	text[n++] = ' ';
	memset(text + n, 'f', 2 * TW_MAX_SECRET_LEN);
	n += 2 * TW_MAX_SECRET_LEN;
	text[n++] = '\n';
	write_file("limits.conf", text, n, 0600, path, sizeof(path));
	assert_int_equal(tw_keyring_load(path, &ring, err, sizeof(err)), 0);
	assert_int_equal(ring.n_keys, 1);
	assert_int_equal(strlen(ring.keys[0].identity), 80);
	assert_int_equal(ring.keys[0].secret_len, TW_MAX_SECRET_LEN);
	assert_int_equal(ring.keys[0].secret[TW_MAX_SECRET_LEN - 1], 0xff);
	tw_keyring_free(&ring);
}

/*
 * Test each malformed line: -EINVAL, the exact "PATH:LINE: reason" message,
 * the secret nowhere in it, and an empty ring.
 */
static void test_malformed(void **state)
{
	static char long_id[256], long_secret[2 * TW_MAX_SECRET_LEN + 64];
	static const struct {
		const char *text;
		const char *secret;  /* must not appear in the message */
		const char *message; /* after "PATH:" */
	} cases[] = {
		{ "alice\n", "alice", "1: identity without a secret" },
		{ "# c\nalice   # 00112233\n", "00112233", "2: identity without a secret" },
		{ "alice 0011deadbeef extra\n", "deadbeef", "1: unexpected text after the secret" },
		{ "bob 00zz11cafe\n", "cafe", "1: secret is not hexadecimal" },
		{ "bob 0x1122\n", "1122", "1: secret is not hexadecimal" },
		{ "bob c0ffee5\n", "c0ffee", "1: secret has an odd number of hex digits" },
		{ "ok 00\r\nbob\x01x 5ec2e7\r\n", "5ec2e7",
		  "2: identity contains a control character" },
		{ "ok 00\nbob 5ec2e7 \rx\n", "5ec2e7", "2: unexpected text after the secret" },
		{ "a 5ec2e701\n# comment\n\nb 2233\na 4455\n", "5ec2e701",
		  "5: duplicate identity (first on line 1)" },
		{ NULL, NULL, "1: identity is longer than 80 octets" },
		{ NULL, NULL, "3: secret is longer than 1024 octets" },
	};
	char path[256], err[256];
	struct tw_keyring ring;
	unsigned int i;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *text = cases[i].text, *secret = cases[i].secret;
		char expect[300];
		int ret;

		if (i == 9) {
			memset(long_id, 'x', 81);
			strcpy(long_id + 81, " 5ec2e7\n");
			text = long_id;
			secret = "5ec2e7";
		} else if (i == 10) {
			strcpy(long_secret, "ok 00\n#\nbig ");
			memset(long_secret + strlen(long_secret), 'a', 2 * TW_MAX_SECRET_LEN + 2);
			strcat(long_secret, "\n");
			text = long_secret;
			secret = "aaaa";
		}
		write_file("bad.conf", text, strlen(text), 0600, path, sizeof(path));
		memset(&ring, 0x5a, sizeof(ring));
		ret = tw_keyring_load(path, &ring, err, sizeof(err));
		snprintf(expect, sizeof(expect), "%s:%s", path, cases[i].message);
		assert_int_equal(ret, -EINVAL);
		assert_string_equal(err, expect);
		assert_null(strstr(err, secret));
		assert_null(ring.keys);
		assert_int_equal(ring.n_keys, 0);
		tw_keyring_free(&ring);
	}
}

/* Test that a NUL octet inside a line is refused rather than truncating it. */
static void test_nul_octet(void **state)
{
	static const char text[] = "ok 00\nbob\0x 5ec2e7\n";
	char path[256], err[256], expect[300];
	struct tw_keyring ring;
	(void)state;

	write_file("nul.conf", text, sizeof(text) - 1, 0600, path, sizeof(path));
	assert_int_equal(tw_keyring_load(path, &ring, err, sizeof(err)), -EINVAL);
	snprintf(expect, sizeof(expect), "%s:2: NUL octet in the line", path);
	assert_string_equal(err, expect);
}

/* Test that a file without keys (empty, or only comments) is an error. */
static void test_no_keys(void **state)
{
	static const char *const texts[] = { "", "# only\n\n   \r\n\t# comments\n" };
	char path[256], err[256], expect[300];
	struct tw_keyring ring;
	unsigned int i;
	(void)state;

	for (i = 0; i < 2; i++) {
		write_file("empty.conf", texts[i], strlen(texts[i]), 0600, path, sizeof(path));
		assert_int_equal(tw_keyring_load(path, &ring, err, sizeof(err)), -EINVAL);
		snprintf(expect, sizeof(expect), "%s: no keys", path);
		assert_string_equal(err, expect);
		assert_null(ring.keys);
	}
}

/* Test that an unreadable path gives -errno and a message naming it. */
static void test_missing_file(void **state)
{
	char path[256], err[256], expect[300];
	struct tw_keyring ring;
	(void)state;

	snprintf(path, sizeof(path), "%s/does-not-exist.conf", dir);
	assert_int_equal(tw_keyring_load(path, &ring, err, sizeof(err)), -ENOENT);
	snprintf(expect, sizeof(expect), "%s: %s", path, strerror(ENOENT));
	assert_string_equal(err, expect);
	assert_null(ring.keys);

	assert_int_equal(tw_keyring_load(dir, &ring, err, sizeof(err)), -EISDIR);
	assert_non_null(strstr(err, dir));

	/* No error buffer at all is fine too. */
	assert_int_equal(tw_keyring_load(path, &ring, NULL, 0), -ENOENT);
}

/* Test that group or world access bits set loose_permissions. */
static void test_permissions(void **state)
{
	static const struct {
		mode_t mode;
		bool loose;
	} cases[] = {
		{ 0600, false }, { 0400, false }, { 0640, true }, { 0604, true },
		{ 0660, true },	 { 0644, true },  { 0601, true },
	};
	static const char text[] = "alice 00\n";
	char path[256], err[256];
	struct tw_keyring ring;
	unsigned int i;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file("perm.conf", text, strlen(text), cases[i].mode, path, sizeof(path));
		assert_int_equal(tw_keyring_load(path, &ring, err, sizeof(err)), 0);
		assert_int_equal(ring.loose_permissions, cases[i].loose);
		tw_keyring_free(&ring);
	}
}

/* Test that lookup compares the whole 80-octet NUL-padded KeyID field. */
static void test_find(void **state)
{
	char text[256], path[256], err[256];
	char id80[XT_KEYID_LEN + 1];
	__u8 key_id[XT_KEYID_LEN];
	struct tw_keyring ring;
	const struct tw_key *k;
	(void)state;

	memset(id80, 'z', XT_KEYID_LEN);
	id80[XT_KEYID_LEN] = '\0';
	snprintf(text, sizeof(text), "alice 01\nalice2 02\n%s 03\n", id80);
	write_file("find.conf", text, strlen(text), 0600, path, sizeof(path));
	assert_int_equal(tw_keyring_load(path, &ring, err, sizeof(err)), 0);
	assert_int_equal(ring.n_keys, 3);

	memset(key_id, 0, sizeof(key_id));
	memcpy(key_id, "alice", 5);
	k = tw_keyring_find(&ring, key_id);
	assert_non_null(k);
	assert_string_equal(k->identity, "alice");
	assert_int_equal(k->secret[0], 0x01);

	memcpy(key_id, "alice2", 6);
	k = tw_keyring_find(&ring, key_id);
	assert_non_null(k);
	assert_int_equal(k->secret[0], 0x02);

	/* A prefix, a longer name, and octets after the padding NUL do not match. */
	memset(key_id, 0, sizeof(key_id));
	memcpy(key_id, "alic", 4);
	assert_null(tw_keyring_find(&ring, key_id));
	memcpy(key_id, "alice23", 7);
	assert_null(tw_keyring_find(&ring, key_id));
	memset(key_id, 0, sizeof(key_id));
	memcpy(key_id, "alice", 5);
	key_id[79] = 'x';
	assert_null(tw_keyring_find(&ring, key_id));

	/* 80 octets, no NUL at all: the 80-octet identity. */
	memcpy(key_id, id80, XT_KEYID_LEN);
	k = tw_keyring_find(&ring, key_id);
	assert_non_null(k);
	assert_int_equal(k->secret[0], 0x03);
	key_id[79] = '\0';
	assert_null(tw_keyring_find(&ring, key_id));

	/* An all-zero KeyID names nobody. */
	memset(key_id, 0, sizeof(key_id));
	assert_null(tw_keyring_find(&ring, key_id));

	tw_keyring_free(&ring);
	assert_null(tw_keyring_find(&ring, key_id));
}

/* Test a file with more keys than the first allocation holds (the ring grows). */
static void test_many_keys(void **state)
{
	static char text[100 * 32];
	char path[256], err[256];
	__u8 key_id[XT_KEYID_LEN];
	struct tw_keyring ring;
	const struct tw_key *k;
	size_t n = 0;
	unsigned int i;
	(void)state;

	for (i = 0; i < 100; i++)
		n += snprintf(text + n, sizeof(text) - n, "host-%u %02x%02x\n", i, i, 255 - i);
	write_file("many.conf", text, n, 0600, path, sizeof(path));
	assert_int_equal(tw_keyring_load(path, &ring, err, sizeof(err)), 0);
	assert_int_equal(ring.n_keys, 100);
	for (i = 0; i < 100; i++) {
		memset(key_id, 0, sizeof(key_id));
		snprintf((char *)key_id, sizeof(key_id), "host-%u", i);
		k = tw_keyring_find(&ring, key_id);
		assert_non_null(k);
		assert_int_equal(k->secret_len, 2);
		assert_int_equal(k->secret[0], i);
		assert_int_equal(k->secret[1], 255 - i);
	}
	tw_keyring_free(&ring);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),   cmocka_unit_test(test_limits_accepted),
		cmocka_unit_test(test_malformed),   cmocka_unit_test(test_nul_octet),
		cmocka_unit_test(test_no_keys),	    cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_permissions), cmocka_unit_test(test_find),
		cmocka_unit_test(test_many_keys),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
