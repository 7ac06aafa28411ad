/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pktbuild.h - a tiny frame builder for the XDP tests.
 *
 * Layers are pushed outside-in (Ethernet, 0..2 VLAN tags, IPv4 or IPv6,
 * IPv6 extension headers, UDP or another L4 header, payload); pb_finish()
 * then fills every type / next-header / length field and the checksums, and
 * finally applies the requested damage.  The damage knobs exist so that one
 * table row can describe "a valid frame except for X" and nothing else.
 *
 * Everything is written octet by octet in network order: the builder never
 * casts the buffer to a struct, so it cannot share an alignment or
 * byte-order bug with the program under test.
 */
#ifndef XDP_TEST_PKTBUILD_H
#define XDP_TEST_PKTBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 2048

#define PB_ETH_P_IPV4 0x0800
#define PB_ETH_P_IPV6 0x86dd
#define PB_ETH_P_ARP 0x0806
#define PB_ETH_P_8021Q 0x8100
#define PB_ETH_P_8021AD 0x88a8

/* IPv6 extension header types pb_ipv6_ext() knows how to lay out. */
#define PB_IPV6_HOPOPTS 0
#define PB_IPV6_ROUTING 43
#define PB_IPV6_FRAGMENT 44
#define PB_IPV6_DSTOPTS 60

/* IPv4 flags / fragment offset field (host order). */
#define PB_IP_DF 0x4000
#define PB_IP_MF 0x2000

/* Damage applied by pb_finish(), after the correct values are in place. */
#define PB_BAD_IP_CSUM 0x01   /* IPv4 header checksum off by one */
#define PB_UDP_CSUM_ZERO 0x02 /* UDP checksum field 0 ("none", IPv4 only legal) */

struct pkt {
	uint8_t data[PKT_MAX];
	size_t len; /* octets in data */

	/* Layer offsets, filled in by the push functions. */
	size_t type_off; /* the EtherType field the next layer fills */
	int nvlan;
	size_t vlan_off[2]; /* start of each 4-octet tag (TPID is 2 octets before) */
	int family;	    /* 0 (not IP), 4 or 6 */
	size_t ip_off;
	size_t ip_hlen; /* IPv4: IHL * 4; IPv6: 40 */
	size_t nh_off;	/* the protocol / next-header field the next layer fills */
	size_t ext_len; /* IPv6 extension headers after the fixed header */
	uint8_t l4_proto;
	size_t l4_off;
	size_t payload_off; /* UDP payload */
	size_t payload_len;
	size_t ip_end; /* end of the IP packet (before trailer), set by pb_finish() */
	uint8_t saddr[16], daddr[16]; /* as on the wire (4 or 16 octets used) */

	/* Damage knobs, read by pb_finish(). */
	unsigned breaks;   /* PB_BAD_IP_CSUM | PB_UDP_CSUM_ZERO */
	uint16_t frag;	   /* IPv4 flags + fragment offset (host order) */
	int udp_len_delta; /* added to the correct UDP length */
	int ip_len_delta;  /* added to the correct IPv4 total / IPv6 payload length */
	size_t pad_to;	   /* Ethernet trailer: pad the frame up to this length */
	uint8_t pad_byte;  /* trailer fill (non-zero catches trailer leaks) */
	size_t truncate;   /* if non-zero: cut the frame to this many octets, last */
};

void pb_init(struct pkt *p);

/* Ethernet II header; the EtherType is filled by the next push or pb_finish(). */
void pb_eth(struct pkt *p, const uint8_t dst[6], const uint8_t src[6]);
/* VLAN tag: tpid goes into the previous EtherType field (0x8100 / 0x88a8). */
void pb_vlan(struct pkt *p, uint16_t tpid, uint16_t tci);
/* A non-IP payload behind the current EtherType field. */
void pb_ethertype_raw(struct pkt *p, uint16_t ethertype, const uint8_t *data, size_t len);

/*
 * IPv4 header with opt_len octets of options (a multiple of 4, at most 40,
 * so IHL = 5 + opt_len / 4).  Addresses are literals; returns 0 or -1 if one
 * does not parse.
 */
int pb_ipv4(struct pkt *p, const char *src, const char *dst, uint8_t tos, uint8_t ttl,
	    size_t opt_len);
int pb_ipv6(struct pkt *p, const char *src, const char *dst, uint8_t tclass, uint8_t hlim,
	    uint32_t flow);
/* One IPv6 extension header of the given type (len: multiple of 8, >= 8). */
void pb_ipv6_ext(struct pkt *p, uint8_t type, size_t len);

void pb_udp(struct pkt *p, uint16_t sport, uint16_t dport);
/* A non-UDP transport header (TCP, ICMP, ...) copied verbatim. */
void pb_l4_raw(struct pkt *p, uint8_t proto, const uint8_t *hdr, size_t len);
void pb_payload(struct pkt *p, const void *data, size_t len);

/* Fill types, lengths and checksums, then apply the damage knobs. */
void pb_finish(struct pkt *p);

#endif /* XDP_TEST_PKTBUILD_H */
