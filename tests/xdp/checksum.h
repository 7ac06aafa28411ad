/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * checksum.h - reference Internet checksums for the XDP tests.
 *
 * Written from RFC 1071 (the one's-complement sum), RFC 791 (IPv4 header),
 * RFC 768 (UDP over IPv4) and RFC 8200 §8.1 (UDP over IPv6), deliberately
 * without looking at the data path's incremental updates: the tests compare
 * what the XDP program wrote against a full recomputation from the octets,
 * so a shared bug cannot cancel out.
 *
 * All functions take raw octets and return the 16-bit field value as it is
 * read from the wire, most significant octet first (0x1234 means octets
 * 0x12, 0x34), so no byte-order conversion is involved anywhere.
 */
#ifndef XDP_TEST_CHECKSUM_H
#define XDP_TEST_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * RFC 1071 one's-complement sum of len octets (not complemented, folded to
 * 16 bits).  An odd final octet is padded with a zero octet on the right.
 * start is a previous partial sum to continue from (0 to begin).
 */
uint16_t ck_sum(uint16_t start, const uint8_t *data, size_t len);

/*
 * Checksum field value for an IPv4 header of hlen octets (IHL * 4): the
 * complement of the sum with the checksum field (octets 10-11) taken as 0.
 */
uint16_t ck_ipv4_header(const uint8_t *iph, size_t hlen);

/* True if the header sums to 0xffff including its stored checksum. */
bool ck_ipv4_header_ok(const uint8_t *iph, size_t hlen);

/*
 * UDP checksum field value over the pseudo-header, the UDP header (with
 * the checksum field taken as 0) and the payload: udp_len octets starting
 * at udp.  udp_len is also the length put in the pseudo-header.  A computed
 * 0 is returned as 0xffff (RFC 768: 0 means "no checksum" on IPv4, and
 * RFC 8200 forbids 0 on IPv6).
 */
uint16_t ck_udp4(const uint8_t src[4], const uint8_t dst[4], const uint8_t *udp, size_t udp_len);
uint16_t ck_udp6(const uint8_t src[16], const uint8_t dst[16], const uint8_t *udp, size_t udp_len);

/* Read / write a 16-bit big-endian field. */
static inline uint16_t ck_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void ck_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

#endif /* XDP_TEST_CHECKSUM_H */
