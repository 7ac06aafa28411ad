// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* addr.c - see addr.h */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

static const __u8 v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

void xt_addr_from_in(union xt_addr *a, const struct in_addr *in)
{
	memcpy(a->b, v4_mapped_prefix, sizeof(v4_mapped_prefix));
	memcpy(&a->b[12], &in->s_addr, 4);
}

void xt_addr_from_in6(union xt_addr *a, const struct in6_addr *in6)
{
	memcpy(a->b, in6->s6_addr, 16);
}

bool xt_addr_is_v4(const union xt_addr *a)
{
	return memcmp(a->b, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0;
}

int xt_addr_parse(const char *text, union xt_addr *a)
{
	struct in_addr in;
	struct in6_addr in6;

	if (inet_pton(AF_INET, text, &in) == 1) {
		xt_addr_from_in(a, &in);
		return 0;
	}
	if (inet_pton(AF_INET6, text, &in6) == 1) {
		xt_addr_from_in6(a, &in6);
		return 0;
	}
	return -EINVAL;
}

int xt_prefix_parse(const char *text, struct xt_allow_key *key)
{
	char buf[XT_ADDR_STRLEN];
	const char *slash = strchr(text, '/');
	unsigned long len;
	unsigned max_len, bit;
	char *end;
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	int err;

	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	memset(key, 0, sizeof(*key));
	err = xt_addr_parse(buf, &key->addr);
	if (err)
		return err;
	max_len = xt_addr_is_v4(&key->addr) ? 32 : 128;
	if (slash) {
		if (!slash[1] || slash[1] == '-' || slash[1] == '+')
			return -EINVAL;
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || *end || len > max_len)
			return -EINVAL;
	} else {
		len = max_len;
	}
	key->prefixlen = (__u32)len + (128 - max_len);
	for (bit = key->prefixlen; bit < 128; bit++)
		if (key->addr.b[bit / 8] & (0x80 >> (bit % 8)))
			return -EINVAL; /* host bits set */
	return 0;
}

const char *xt_addr_format(const union xt_addr *a, char *buf, size_t len)
{
	if (xt_addr_is_v4(a))
		inet_ntop(AF_INET, &a->b[12], buf, len);
	else
		inet_ntop(AF_INET6, a->b, buf, len);
	return buf;
}

const char *xt_prefix_format(const struct xt_allow_key *key, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	bool v4 = xt_addr_is_v4(&key->addr) && key->prefixlen >= 96;

	xt_addr_format(&key->addr, addr, sizeof(addr));
	snprintf(buf, len, "%s/%u", addr, v4 ? key->prefixlen - 96 : key->prefixlen);
	return buf;
}

socklen_t xt_addr_to_sockaddr(const union xt_addr *a, __u16 port_host, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (xt_addr_is_v4(a)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port_host);
		memcpy(&sin->sin_addr, &a->b[12], 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port_host);
	memcpy(&sin6->sin6_addr, a->b, 16);
	return sizeof(*sin6);
}
