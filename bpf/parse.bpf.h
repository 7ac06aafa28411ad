/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * parse.bpf.h - find the UDP datagram in a frame: Ethernet, up to two VLAN
 * tags, IPv4 (any IHL, no fragments) or IPv6 (no extension headers), UDP.
 *
 * Contract: parse_frame() never reads past data_end and writes only *pkt.
 * It returns PARSE_UDP with offsets, lengths, the received TTL/TOS and the
 * session key filled in, or why the frame is none of our business (the
 * caller passes those frames on untouched).  Length consistency is checked
 * later, and only for frames that turn out to be ours.
 */
#ifndef XTWAMP_PARSE_BPF_H
#define XTWAMP_PARSE_BPF_H

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define IPPROTO_UDP_NUM 17
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define MAX_VLAN_TAGS 2
/* Ethernet + 2 VLAN tags + IPv4 with 40 octets of options + UDP */
#define MAX_HDRS_LEN (14 + 2 * 4 + 60 + 8)

enum parse_result {
	PARSE_UDP = 0,	/* a complete UDP header: look at the port */
	PARSE_NOT_UDP,	/* something else, or truncated: pass */
	PARSE_FRAGMENT, /* IPv4 fragment: the UDP header may not be here */
	PARSE_IPV6_EXT, /* IPv6 extension headers: not handled, pass */
};

struct pkt {
	__u32 l3_off;	    /* IP header, from the start of the frame */
	__u32 l4_off;	    /* UDP header */
	__u32 ip_hdr_len;   /* 20..60 (IPv4) or 40 */
	__u32 ip_total_len; /* IP header + IP payload, as the IP header says */
	__u16 udp_len;	    /* UDP header + payload, as the UDP header says */
	__u16 dport;	    /* host order */
	__u8 is_ipv6;
	__u8 ttl; /* received TTL / Hop Limit: the Sender TTL */
	__u8 tos; /* received TOS / Traffic Class */
	__u8 pad;
	struct xt_session_key key; /* sender = source, reflector = destination */
};

/*
 * Offsets come back from the stack as plain u32s, and the verifier no longer
 * knows their bounds.  Masking restates them (l3 <= 22, l4 <= 22 + 60) so
 * that "data + offset" stays a packet pointer it can range-check.
 */
#define L3_OFF(pkt) ((pkt)->l3_off & 0x1f)
#define L4_OFF(pkt) ((pkt)->l4_off & 0x7f)

static __always_inline bool ipv6_is_ext_header(__u8 nexthdr)
{
	switch (nexthdr) {
	case 0:	  /* Hop-by-Hop */
	case 43:  /* Routing */
	case 44:  /* Fragment */
	case 50:  /* ESP */
	case 51:  /* AH */
	case 60:  /* Destination Options */
	case 135: /* Mobility */
	case 139: /* HIP */
	case 140: /* Shim6 */
		return true;
	default:
		return false;
	}
}

static __always_inline int parse_frame(struct xdp_md *ctx, struct pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct udphdr *udp;
	__u32 off = sizeof(*eth);
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return PARSE_NOT_UDP;
	proto = eth->h_proto;

	for (i = 0; i < MAX_VLAN_TAGS; i++) {
		struct vlan_hdr *vlan = data + off;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vlan + 1) > data_end)
			return PARSE_NOT_UDP;
		proto = vlan->h_vlan_encapsulated_proto;
		off += sizeof(*vlan);
	}
	pkt->l3_off = off;

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + off;
		__u32 hdr_len;

		if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5)
			return PARSE_NOT_UDP;
		hdr_len = ip->ihl * 4;
		if (data + off + hdr_len > data_end || ip->protocol != IPPROTO_UDP_NUM)
			return PARSE_NOT_UDP;
		if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
			return PARSE_FRAGMENT;
		pkt->ip_hdr_len = hdr_len;
		pkt->ip_total_len = bpf_ntohs(ip->tot_len);
		pkt->ttl = ip->ttl;
		pkt->tos = ip->tos;
		pkt->key.sender_addr.w[2] = bpf_htonl(0xffff);
		pkt->key.sender_addr.w[3] = ip->saddr;
		pkt->key.reflector_addr.w[2] = bpf_htonl(0xffff);
		pkt->key.reflector_addr.w[3] = ip->daddr;
		off += hdr_len;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
			return PARSE_NOT_UDP;
		if (ip6->nexthdr != IPPROTO_UDP_NUM)
			return ipv6_is_ext_header(ip6->nexthdr) ? PARSE_IPV6_EXT : PARSE_NOT_UDP;
		pkt->is_ipv6 = 1;
		pkt->ip_hdr_len = sizeof(*ip6);
		pkt->ip_total_len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		pkt->ttl = ip6->hop_limit;
		pkt->tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
		__builtin_memcpy(&pkt->key.sender_addr, &ip6->saddr, 16);
		__builtin_memcpy(&pkt->key.reflector_addr, &ip6->daddr, 16);
		off += sizeof(*ip6);
	} else {
		return PARSE_NOT_UDP;
	}

	udp = data + off;
	if ((void *)(udp + 1) > data_end)
		return PARSE_NOT_UDP;
	pkt->l4_off = off;
	pkt->udp_len = bpf_ntohs(udp->len);
	pkt->dport = bpf_ntohs(udp->dest);
	pkt->key.sender_port = udp->source;
	pkt->key.reflector_port = udp->dest;
	return PARSE_UDP;
}

#endif /* XTWAMP_PARSE_BPF_H */
