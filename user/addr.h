/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * addr.h - addresses and prefixes in the map ABI's 16-octet form.
 *
 * IPv4 is held as IPv4-mapped IPv6 (::ffff:a.b.c.d); an IPv4 prefix /n
 * becomes /(96 + n) over the mapped address.  Functions return 0 or -errno.
 */
#ifndef XTWAMP_ADDR_H
#define XTWAMP_ADDR_H

#include <stdbool.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "xtwamp_maps.h"

/* Textual form of an address or prefix: enough for IPv6 + "/128". */
#define XT_ADDR_STRLEN (INET6_ADDRSTRLEN + 4)

void xt_addr_from_in(union xt_addr *a, const struct in_addr *in);
void xt_addr_from_in6(union xt_addr *a, const struct in6_addr *in6);
bool xt_addr_is_v4(const union xt_addr *a);

/* Parse a literal IPv4 or IPv6 address (no names, no brackets). */
int xt_addr_parse(const char *text, union xt_addr *a);

/*
 * Parse "ADDR" or "ADDR/LEN" into an LPM key.  A bare address is a host
 * prefix.  Host bits set beyond LEN are an error (-EINVAL): "192.0.2.1/24"
 * is almost always a typo for 192.0.2.0/24 or 192.0.2.1/32.
 */
int xt_prefix_parse(const char *text, struct xt_allow_key *key);

/* Format an address ("192.0.2.1" / "2001:db8::1") or prefix into buf. */
const char *xt_addr_format(const union xt_addr *a, char *buf, size_t len);
const char *xt_prefix_format(const struct xt_allow_key *key, char *buf, size_t len);

/* Convert to a sockaddr for the family it encodes; returns its length. */
socklen_t xt_addr_to_sockaddr(const union xt_addr *a, __u16 port_host, struct sockaddr_storage *ss);

#endif /* XTWAMP_ADDR_H */
