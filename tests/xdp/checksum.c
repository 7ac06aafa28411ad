// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * checksum.c - see checksum.h.  Straight from the RFC text: sum 16-bit
 * big-endian words in a wide accumulator, fold the carries back in at the
 * end (end-around carry, RFC 1071 §2(B)), complement.  Slow and obvious on
 * purpose.
 */
#include <string.h>

#include "checksum.h"

#define IPPROTO_UDP_NUM 17

uint16_t ck_sum(uint16_t start, const uint8_t *data, size_t len)
{
	uint64_t sum = start;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint64_t)(data[i] << 8 | data[i + 1]);
	if (len & 1)
		sum += (uint64_t)data[len - 1] << 8; /* pad with a zero octet */
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t ck_ipv4_header(const uint8_t *iph, size_t hlen)
{
	uint16_t sum;

	/* Sum the header around octets 10-11 instead of copying it. */
	sum = ck_sum(0, iph, 10);
	sum = ck_sum(sum, iph + 12, hlen - 12);
	return (uint16_t)~sum;
}

bool ck_ipv4_header_ok(const uint8_t *iph, size_t hlen)
{
	return ck_sum(0, iph, hlen) == 0xffff;
}

/* Sum of the UDP header and payload with the checksum field (octets 6-7) as 0. */
static uint16_t udp_part(uint16_t sum, const uint8_t *udp, size_t udp_len)
{
	sum = ck_sum(sum, udp, 6);
	if (udp_len > 8)
		sum = ck_sum(sum, udp + 8, udp_len - 8);
	return sum;
}

/* 0 is "no checksum"; its one's-complement twin 0xffff is sent instead. */
static uint16_t udp_final(uint16_t sum)
{
	uint16_t ck = (uint16_t)~sum;

	return ck == 0 ? 0xffff : ck;
}

uint16_t ck_udp4(const uint8_t src[4], const uint8_t dst[4], const uint8_t *udp, size_t udp_len)
{
	/* RFC 768 pseudo-header: src, dst, zero, protocol, UDP length. */
	uint8_t ph[12];

	memcpy(ph, src, 4);
	memcpy(ph + 4, dst, 4);
	ph[8] = 0;
	ph[9] = IPPROTO_UDP_NUM;
	ck_put16(ph + 10, (uint16_t)udp_len);
	return udp_final(udp_part(ck_sum(0, ph, sizeof(ph)), udp, udp_len));
}

uint16_t ck_udp6(const uint8_t src[16], const uint8_t dst[16], const uint8_t *udp, size_t udp_len)
{
	/* RFC 8200 §8.1 pseudo-header: src, dst, 32-bit length, 3 zeros, next header. */
	uint8_t ph[40];

	memcpy(ph, src, 16);
	memcpy(ph + 16, dst, 16);
	ph[32] = (uint8_t)(udp_len >> 24);
	ph[33] = (uint8_t)(udp_len >> 16);
	ph[34] = (uint8_t)(udp_len >> 8);
	ph[35] = (uint8_t)udp_len;
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = IPPROTO_UDP_NUM;
	return udp_final(udp_part(ck_sum(0, ph, sizeof(ph)), udp, udp_len));
}
