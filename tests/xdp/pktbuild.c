// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* pktbuild.c - see pktbuild.h */
#include <arpa/inet.h>
#include <assert.h>
#include <string.h>

#include "checksum.h"
#include "pktbuild.h"

#define PB_IPPROTO_UDP 17

void pb_init(struct pkt *p)
{
	memset(p, 0, sizeof(*p));
}

/* Append n octets (zeroed when src is NULL) and return where they start. */
static uint8_t *put(struct pkt *p, const void *src, size_t n)
{
	uint8_t *at = p->data + p->len;

	/* Rows are written by hand: an oversized one is a bug in the table. */
	assert(p->len + n <= sizeof(p->data));
	if (src)
		memcpy(at, src, n);
	else
		memset(at, 0, n);
	p->len += n;
	return at;
}

void pb_eth(struct pkt *p, const uint8_t dst[6], const uint8_t src[6])
{
	put(p, dst, 6);
	put(p, src, 6);
	p->type_off = p->len;
	put(p, NULL, 2);
}

void pb_vlan(struct pkt *p, uint16_t tpid, uint16_t tci)
{
	uint8_t *tag;

	assert(p->nvlan < 2);
	ck_put16(p->data + p->type_off, tpid);
	p->vlan_off[p->nvlan++] = p->len;
	tag = put(p, NULL, 4);
	ck_put16(tag, tci);
	p->type_off = p->len - 2;
}

void pb_ethertype_raw(struct pkt *p, uint16_t ethertype, const uint8_t *data, size_t len)
{
	ck_put16(p->data + p->type_off, ethertype);
	put(p, data, len);
}

int pb_ipv4(struct pkt *p, const char *src, const char *dst, uint8_t tos, uint8_t ttl,
	    size_t opt_len)
{
	uint8_t *ip;
	size_t i;

	assert(opt_len % 4 == 0 && opt_len <= 40);
	if (inet_pton(AF_INET, src, p->saddr) != 1 || inet_pton(AF_INET, dst, p->daddr) != 1)
		return -1;
	ck_put16(p->data + p->type_off, PB_ETH_P_IPV4);
	p->family = 4;
	p->ip_off = p->len;
	p->ip_hlen = 20 + opt_len;
	ip = put(p, NULL, p->ip_hlen);
	ip[0] = (uint8_t)(0x40 | (p->ip_hlen / 4));
	ip[1] = tos;
	ck_put16(ip + 4, 0x1c46); /* identification: any non-zero value */
	ip[8] = ttl;
	memcpy(ip + 12, p->saddr, 4);
	memcpy(ip + 16, p->daddr, 4);
	/*
	 * Options: one Router Alert (RFC 2113, 4 octets) so the block is a
	 * real option list, then NOPs.  The reflector must keep them verbatim.
	 */
	if (opt_len >= 4) {
		ip[20] = 0x94;
		ip[21] = 4;
		for (i = 24; i < p->ip_hlen; i++)
			ip[i] = 1; /* NOP */
	}
	p->nh_off = p->ip_off + 9;
	return 0;
}

int pb_ipv6(struct pkt *p, const char *src, const char *dst, uint8_t tclass, uint8_t hlim,
	    uint32_t flow)
{
	uint8_t *ip;

	if (inet_pton(AF_INET6, src, p->saddr) != 1 || inet_pton(AF_INET6, dst, p->daddr) != 1)
		return -1;
	ck_put16(p->data + p->type_off, PB_ETH_P_IPV6);
	p->family = 6;
	p->ip_off = p->len;
	p->ip_hlen = 40;
	ip = put(p, NULL, 40);
	/* version 6, traffic class across octets 0-1, 20-bit flow label */
	ip[0] = (uint8_t)(0x60 | (tclass >> 4));
	ip[1] = (uint8_t)((tclass << 4) | ((flow >> 16) & 0x0f));
	ip[2] = (uint8_t)(flow >> 8);
	ip[3] = (uint8_t)flow;
	ip[7] = hlim;
	memcpy(ip + 8, p->saddr, 16);
	memcpy(ip + 24, p->daddr, 16);
	p->nh_off = p->ip_off + 6;
	return 0;
}

void pb_ipv6_ext(struct pkt *p, uint8_t type, size_t len)
{
	uint8_t *h;

	assert(p->family == 6 && len >= 8 && len % 8 == 0);
	p->data[p->nh_off] = type;
	h = put(p, NULL, len);
	p->nh_off = (size_t)(h - p->data); /* its first octet is Next Header */
	p->ext_len += len;
	switch (type) {
	case PB_IPV6_FRAGMENT:
		/* RFC 8200 §4.5: offset 0, M = 1: the first fragment */
		h[3] = 1;
		h[7] = 0x2a; /* identification */
		break;
	case PB_IPV6_ROUTING:
		/* RFC 8200 §4.4: type 0 is deprecated; segments left 0 = ignorable */
		h[1] = (uint8_t)(len / 8 - 1);
		h[2] = 4; /* SRH type, with no segment to visit */
		break;
	default:
		/* Hop-by-Hop / Destination Options: one PadN filling the header */
		h[1] = (uint8_t)(len / 8 - 1);
		h[2] = 1;
		h[3] = (uint8_t)(len - 4);
		break;
	}
}

void pb_udp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	uint8_t *u;

	p->data[p->nh_off] = PB_IPPROTO_UDP;
	p->l4_proto = PB_IPPROTO_UDP;
	p->l4_off = p->len;
	u = put(p, NULL, 8);
	ck_put16(u, sport);
	ck_put16(u + 2, dport);
	p->payload_off = p->len;
}

void pb_l4_raw(struct pkt *p, uint8_t proto, const uint8_t *hdr, size_t len)
{
	p->data[p->nh_off] = proto;
	p->l4_proto = proto;
	p->l4_off = p->len;
	put(p, hdr, len);
	p->payload_off = p->len;
}

void pb_payload(struct pkt *p, const void *data, size_t len)
{
	put(p, data, len);
	p->payload_len += len;
}

void pb_finish(struct pkt *p)
{
	uint8_t *ip = p->data + p->ip_off;
	uint8_t *udp = p->data + p->l4_off;

	p->ip_end = p->len;
	if (p->family == 4) {
		ck_put16(ip + 2, (uint16_t)((int)(p->len - p->ip_off) + p->ip_len_delta));
		ck_put16(ip + 6, p->frag);
	} else if (p->family == 6) {
		ck_put16(ip + 4, (uint16_t)((int)(p->len - p->ip_off - 40) + p->ip_len_delta));
	}

	if (p->family && p->l4_proto == PB_IPPROTO_UDP) {
		size_t udp_len = p->len - p->l4_off;
		uint16_t ck;

		ck_put16(udp + 4, (uint16_t)((int)udp_len + p->udp_len_delta));
		/*
		 * The checksum covers the datagram the UDP length describes when
		 * that is shorter (surplus IP payload is not part of it), else
		 * what is really there.
		 */
		if (p->udp_len_delta < 0 && (int)udp_len + p->udp_len_delta >= 8)
			udp_len = (size_t)((int)udp_len + p->udp_len_delta);
		if (p->family == 4)
			ck = ck_udp4(p->saddr, p->daddr, udp, udp_len);
		else
			ck = ck_udp6(p->saddr, p->daddr, udp, udp_len);
		ck_put16(udp + 6, (p->breaks & PB_UDP_CSUM_ZERO) ? 0 : ck);
	}

	/* The header checksum last: it covers the lengths and flags set above. */
	if (p->family == 4) {
		uint16_t ck = ck_ipv4_header(ip, p->ip_hlen);

		if (p->breaks & PB_BAD_IP_CSUM)
			ck = (uint16_t)(ck + 1);
		ck_put16(ip + 10, ck);
	}

	if (p->pad_to > p->len) {
		size_t n = p->pad_to - p->len;

		memset(put(p, NULL, n), p->pad_byte, n);
	}
	if (p->truncate && p->truncate < p->len)
		p->len = p->truncate;
}
