// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xtwamp.bpf.c - the TWAMP-Test / STAMP Session-Reflector at the XDP layer.
 *
 * Reads top to bottom like RFC 5357 §4.2 / RFC 8762 §4.3: find the test
 * packet, take T2, decide whether to answer, build the reply in place, take
 * T3 as late as possible and send it back out of the same interface.
 * Everything that is not a test packet for us leaves with XDP_PASS, unchanged.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xtwamp_wire.h"
#include "xtwamp_maps.h"
#include "maps.bpf.h"
#include "parse.bpf.h"
#include "csum.bpf.h"
#include "policy.bpf.h"
#include "timestamp.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* NIC receive timestamp (device-bound programs only, Linux 6.3+). */
extern int bpf_xdp_metadata_rx_timestamp(const struct xdp_md *ctx, __u64 *timestamp) __ksym __weak;

static __always_inline int pass(void)
{
	count(XT_CNT_PASSED);
	return XDP_PASS;
}

static __always_inline int drop(enum xt_counter why)
{
	count(why);
	return XDP_DROP;
}

/* T2: the NIC's timestamp where the driver offers a plausible one. */
static __always_inline __u64 receive_time_tai(struct xdp_md *ctx, const bool use_hw)
{
	__u64 sw_ns = bpf_ktime_get_tai_ns();
	__u64 hw_ns = 0;
	int hw_rc = -1;

	if (use_hw)
		hw_rc = bpf_xdp_metadata_rx_timestamp(ctx, &hw_ns);
	switch (xt_choose_rx_timestamp(hw_rc, hw_ns, sw_ns)) {
	case XT_TS_HARDWARE:
		count(XT_CNT_RX_TIMESTAMP_HW);
		return hw_ns;
	case XT_TS_HW_REJECTED:
		count(XT_CNT_RX_TIMESTAMP_HW_REJECTED);
		break;
	default:
		break;
	}
	count(XT_CNT_RX_TIMESTAMP_SW);
	return sw_ns;
}

/* An NTP timestamp into two 32-bit words (seconds, fraction), network order. */
static __always_inline void store_ntp(__u32 *ts, __u64 tai_ns, const struct xt_config *cfg)
{
	__u64 ntp = xt_unix_ns_to_ntp64_fast(tai_ns + cfg->clock_offset_ns);

	ts[0] = bpf_htonl(ntp >> 32);
	ts[1] = bpf_htonl((__u32)ntp);
}

/*
 * The unauthenticated reflector header (TWAMP and STAMP agree on octets
 * 0..40, RFC 8762 §4.6) as 32-bit words: index = octet offset / 4.
 */
enum {
	W_SEQ = XT_OFF(xt_twamp_reflector, seq) / 4,
	W_T3_SEC = XT_OFF(xt_twamp_reflector, timestamp) / 4,
	W_T3_FRAC = W_T3_SEC + 1,
	W_EE = XT_OFF(xt_twamp_reflector, error_estimate) / 4,
	W_T2_SEC = XT_OFF(xt_twamp_reflector, receive_timestamp) / 4,
	W_T2_FRAC = W_T2_SEC + 1,
	W_SENDER_SEQ = XT_OFF(xt_twamp_reflector, sender_seq) / 4,
	W_T1_SEC = XT_OFF(xt_twamp_reflector, sender_timestamp) / 4,
	W_T1_FRAC = W_T1_SEC + 1,
	W_SENDER_EE = XT_OFF(xt_twamp_reflector, sender_error_estimate) / 4,
	W_TTL = XT_OFF(xt_twamp_reflector, sender_ttl) / 4,
};

/*
 * Per-sender state of a stateful light port, created on the first packet.
 * Two CPUs may race to create it: the loser's BPF_NOEXIST insert fails and
 * it looks up the winner's entry, so the sequence still starts at 0 once.
 */
static __always_inline struct xt_session *light_flow(const struct xt_session_key *key, __u8 format)
{
	struct xt_session *flow = bpf_map_lookup_elem(&xtwamp_flows, key);

	if (flow)
		return flow;
	struct xt_session fresh = { .format = format, .state = XT_SESS_STARTED };

	bpf_map_update_elem(&xtwamp_flows, key, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&xtwamp_flows, key);
}

/*
 * Make a frame grow_by octets longer when the driver has no tailroom (veth
 * hands XDP tightly sized buffers): claim headroom, which XDP guarantees,
 * and move the headers (hdrs_len octets, up to the end of UDP) to the new
 * front.  The payload octets between headers and old payload are rewritten
 * by the caller.  Returns 0 or a negative error.
 */
static __always_inline int grow_at_front(struct xdp_md *ctx, __u32 hdrs_len, int grow_by)
{
	__u8 hdrs[MAX_HDRS_LEN];

	if (hdrs_len > MAX_HDRS_LEN || hdrs_len < 1 || grow_by <= 0 || grow_by > 64)
		return -1;
	if (bpf_xdp_load_bytes(ctx, 0, hdrs, hdrs_len))
		return -1;
	if (bpf_xdp_adjust_head(ctx, -grow_by))
		return -1;
	return bpf_xdp_store_bytes(ctx, 0, hdrs, hdrs_len) ? -1 : 0;
}

/* Length rules of the port/session format; false = too short to answer. */
static __always_inline bool reply_payload_len(__u8 format, __u32 req_len, __u32 *reply_len)
{
	if (format == XT_FMT_STAMP) {
		*reply_len = req_len;
		return req_len >= XT_STAMP_BASE;
	}
	/* RFC 5357 §4.2.1: the reply carries the 41-octet header whatever the request. */
	*reply_len = req_len < XT_TWAMP_REFLECTOR_MIN ? XT_TWAMP_REFLECTOR_MIN : req_len;
	return req_len >= XT_TWAMP_SENDER_MIN;
}

/* Received after Stop-Sessions' deadline, or before Start-Sessions. */
static __always_inline bool session_stopped(const struct xt_session *sess, __u64 t2)
{
	return sess->state != XT_SESS_STARTED ||
	       (sess->stop_deadline_ns && t2 > sess->stop_deadline_ns);
}

/*
 * Authenticated/encrypted sessions (XT_SESS_USERSPACE): AES and HMAC-SHA1
 * are xtwampd's job.  Count the request here (its sequence number is
 * encrypted: last_sender_seq and next_seq belong to user space), put T2 and
 * the received TTL/TOS in front of the frame (struct xt_xsk_meta) and hand
 * it to the AF_XDP socket of this receive queue.  With no socket in that
 * slot the redirect returns XDP_PASS and xtwampd's UDP socket gets it.  A
 * driver without metadata support still gets the frame: user space sees no
 * magic and takes its own clock.
 */
static __always_inline int to_userspace(struct xdp_md *ctx, struct xt_session *sess,
					const struct pkt *pkt, __u32 req_len, __u64 t2)
{
	__u32 ifindex, queue, *slot;
	struct xt_xsk_meta *meta;
	void *data;

	if (session_stopped(sess, t2))
		return drop(XT_CNT_DROP_SESSION_STOPPED);
	if (req_len < sizeof(struct xt_twamp_sender_auth))
		return drop(XT_CNT_DROP_TOO_SHORT);
	__sync_fetch_and_add(&sess->rx_packets, 1);
	if (!sess->first_rx_ns)
		sess->first_rx_ns = t2;
	sess->last_rx_ns = t2;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta)) == 0) {
		meta = (void *)(long)ctx->data_meta;
		data = (void *)(long)ctx->data;
		if ((void *)(meta + 1) <= data) {
			meta->t2_tai_ns = t2;
			meta->ttl = pkt->ttl;
			meta->tos = pkt->tos;
			meta->magic = XT_XSK_META_MAGIC;
			meta->pad = 0;
		}
	}
	count(XT_CNT_REDIRECTED_USERSPACE);
	ifindex = ctx->ingress_ifindex;
	slot = bpf_map_lookup_elem(&xtwamp_ifslots, &ifindex);
	queue = ctx->rx_queue_index;
	if (!slot || *slot >= XT_MAX_IFSLOTS || queue >= XT_MAX_QUEUES)
		return XDP_PASS; /* no AF_XDP socket can be there: the UDP socket answers */
	return bpf_redirect_map(&xtwamp_xsks, XT_XSK_KEY(*slot, queue), XDP_PASS);
}

static __always_inline int reflect(struct xdp_md *ctx, const bool use_hw_ts)
{
	struct pkt pkt = {};
	__u32 zero = 0, dport, req_len, reply_len, old_len, hdr_len, frame_len;
	struct xt_session *sess = NULL;
	struct xt_config *cfg;
	struct xt_port *port;
	__u8 format, sess_flags = 0, dscp = 0;
	__be32 old_hdr[XT_REFLECTOR_HDR_MAX / 4] = {};
	__be32 new_hdr[XT_REFLECTOR_HDR_MAX / 4], *t3_words;
	__u64 t2, t3, sum;
	__be16 old_udp_check, old_udp_len, new_udp_len;
	void *data, *data_end, *payload;
	struct ethhdr *eth;
	struct udphdr *udp;
	int rc;

	count(XT_CNT_RX_FRAMES);

	/* 1. Is this a TWAMP-Test / STAMP packet for us? */
	rc = parse_frame(ctx, &pkt);
	if (rc != PARSE_UDP) {
		if (rc == PARSE_FRAGMENT)
			count(XT_CNT_PASSED_FRAGMENT);
		else if (rc == PARSE_IPV6_EXT)
			count(XT_CNT_PASSED_IPV6_EXT);
		return pass();
	}
	dport = pkt.dport;
	port = bpf_map_lookup_elem(&xtwamp_ports, &dport);
	if (!port || !port->flags)
		return pass();
	format = port->format;
	if (format == XT_FMT_STAMP) {
		/* RFC 8972 §3: the SSID is part of a STAMP session's identity. */
		void *data = (void *)(long)ctx->data;
		void *data_end = (void *)(long)ctx->data_end;
		struct xt_stamp_sender *req = data + L4_OFF(&pkt) + sizeof(struct udphdr);

		if ((void *)req + offsetof(struct xt_stamp_sender, mbz) <= data_end)
			pkt.key.ssid = req->ssid;
	}
	if (port->flags & XT_PORT_SESSIONS)
		sess = bpf_map_lookup_elem(&xtwamp_sessions, &pkt.key);
	if (sess) {
		format = sess->format;
		sess_flags = sess->flags;
		dscp = sess->dscp;
	} else if (!(port->flags & XT_PORT_LIGHT)) {
		return pass(); /* a session port, but not one of its senders */
	} else if (port->flags & XT_PORT_STATELESS) {
		sess_flags = XT_SESS_STATELESS;
	}

	/* 2. T2, as early as we know the packet is ours. */
	t2 = receive_time_tai(ctx, use_hw_ts);

	/* 3. Is it well-formed, and may we answer it? */
	cfg = bpf_map_lookup_elem(&xtwamp_config, &zero);
	if (!cfg)
		return pass();
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (pkt.udp_len < sizeof(struct udphdr) ||
	    pkt.ip_total_len < pkt.ip_hdr_len + pkt.udp_len ||
	    data + L3_OFF(&pkt) + pkt.ip_total_len > data_end || pkt.key.sender_port == 0)
		return drop(XT_CNT_DROP_MALFORMED);
	if (pkt.is_ipv6) {
		/* RFC 8200 §8.1: a zero UDP checksum is invalid over IPv6. */
		udp = data + L4_OFF(&pkt);
		if ((void *)(udp + 1) > data_end || udp->check == 0)
			return drop(XT_CNT_DROP_MALFORMED);
	} else {
		struct iphdr *ip = data + L3_OFF(&pkt);

		if ((void *)(ip + 1) > data_end ||
		    ipv4_header_sum(ip, pkt.ip_hdr_len, data_end) != 0xffff)
			return drop(XT_CNT_DROP_MALFORMED);
	}
	if (!addr_is_unicast(&pkt.key.sender_addr, pkt.is_ipv6) ||
	    !addr_is_unicast(&pkt.key.reflector_addr, pkt.is_ipv6))
		return drop(XT_CNT_DROP_NOT_UNICAST);
	if (!(cfg->flags & XT_CFG_CLOCK_VALID))
		return drop(XT_CNT_DROP_CLOCK_UNSET);
	if (!source_allowed(&pkt.key.sender_addr, cfg))
		return drop(XT_CNT_DROP_NOT_ALLOWED);
	if (!source_within_rate(&pkt.key.sender_addr, t2, cfg))
		return drop(XT_CNT_DROP_RATE_LIMITED);
	req_len = pkt.udp_len - sizeof(struct udphdr);
	if (sess && (sess_flags & XT_SESS_USERSPACE))
		return to_userspace(ctx, sess, &pkt, req_len, t2);
	if (!reply_payload_len(format, req_len, &reply_len))
		return drop(XT_CNT_DROP_TOO_SHORT);
	if (sess && session_stopped(sess, t2))
		return drop(XT_CNT_DROP_SESSION_STOPPED);

	/*
	 * 4. The request's first octets (zero-padded), which the reply header
	 * overwrites, as 32-bit words: the packed wire structs would make the
	 * compiler copy and assemble them octet by octet.
	 */
	old_len = req_len < XT_REFLECTOR_HDR_MAX ? req_len : XT_REFLECTOR_HDR_MAX;
	payload = data + L4_OFF(&pkt) + sizeof(struct udphdr);
	if (old_len == XT_REFLECTOR_HDR_MAX && payload + XT_REFLECTOR_HDR_MAX <= data_end)
		__builtin_memcpy(old_hdr, (const __u32 *)payload, XT_REFLECTOR_HDR_MAX);
	else if (old_len < 1 || old_len > XT_REFLECTOR_HDR_MAX ||
		 bpf_xdp_load_bytes(ctx, pkt.l4_off + sizeof(struct udphdr), old_hdr, old_len))
		return drop(XT_CNT_DROP_MALFORMED); /* short requests: zero-padded copy */

	hdr_len = format == XT_FMT_STAMP ? sizeof(struct xt_stamp_reflector) :
					   sizeof(struct xt_twamp_reflector);
	if (!sess && !(sess_flags & XT_SESS_STATELESS)) {
		sess = light_flow(&pkt.key, format);
		if (!sess)
			return drop(XT_CNT_DROP_FLOW_TABLE);
	}

	/*
	 * 5. The reflector header (RFC 5357 §4.2.1, RFC 8762 §4.3.1); T3 last.
	 * The sequence number is the one atomic: a duplicate would be visible
	 * on the wire.  rx/tx are statistics, bumped with plain adds (a locked
	 * add costs about as much as the rest of this step): a sender's packets
	 * hash to one receive queue, whose NAPI poll runs on one CPU at a time,
	 * so they do not race; a rare cross-queue race loses a count, nothing more.
	 */
	if (sess) {
		sess->rx_packets++;
		sess->last_sender_seq = bpf_ntohl(old_hdr[W_SEQ]);
		if (!sess->first_rx_ns)
			sess->first_rx_ns = t2;
		sess->last_rx_ns = t2;
	}
	if (sess && !(sess_flags & XT_SESS_STATELESS))
		new_hdr[W_SEQ] = bpf_htonl(__sync_fetch_and_add(&sess->next_seq, 1));
	else
		new_hdr[W_SEQ] = old_hdr[W_SEQ]; /* stateless: copy */
	new_hdr[W_T3_SEC] = 0;			 /* T3 joins the checksum when it is taken */
	new_hdr[W_T3_FRAC] = 0;
	/* Error Estimate; octets 14-15 are STAMP's SSID (kept) or MBZ (TWAMP). */
	new_hdr[W_EE] = bpf_htonl((__u32)cfg->error_estimate << 16) |
			(format == XT_FMT_STAMP ? old_hdr[W_EE] & bpf_htonl(0xffff) : 0);
	store_ntp(&new_hdr[W_T2_SEC], t2, cfg);
	new_hdr[W_SENDER_SEQ] = old_hdr[W_SEQ];
	new_hdr[W_T1_SEC] = old_hdr[W_T3_SEC];
	new_hdr[W_T1_FRAC] = old_hdr[W_T3_FRAC];
	/* Sender's Error Estimate, then MBZ. */
	new_hdr[W_SENDER_EE] = old_hdr[W_EE] & bpf_htonl(0xffff0000);
	/* Sender TTL, then STAMP's 3 MBZ octets or (TWAMP) the request's padding. */
	new_hdr[W_TTL] = bpf_htonl((__u32)pkt.ttl << 24) |
			 (format == XT_FMT_STAMP ? 0 : old_hdr[W_TTL] & bpf_htonl(0x00ffffff));

	/* 6. Resize the frame: grow a short TWAMP request, drop Ethernet trailer padding. */
	frame_len = pkt.l3_off + pkt.ip_hdr_len + sizeof(struct udphdr) + reply_len;
	rc = (int)frame_len - (int)(data_end - data);
	if (rc && bpf_xdp_adjust_tail(ctx, rc) &&
	    (rc < 0 || grow_at_front(ctx, L4_OFF(&pkt) + sizeof(struct udphdr), rc)))
		return drop(XT_CNT_DROP_RESIZE_FAILED);
	if (reply_len != req_len)
		count(XT_CNT_REFLECTED_GROWN);

	/* 7. Addresses, ports, TTL and lengths, and the IPv4 header checksum. */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return drop(XT_CNT_DROP_MALFORMED);
	{
		__u8 mac[6];

		__builtin_memcpy(mac, eth->h_dest, 6);
		__builtin_memcpy(eth->h_dest, eth->h_source, 6);
		__builtin_memcpy(eth->h_source, mac, 6);
	}
	new_udp_len = bpf_htons(sizeof(struct udphdr) + reply_len);
	if (pkt.is_ipv6) {
		struct ipv6hdr *ip6 = data + L3_OFF(&pkt);
		struct in6_addr tmp;

		if ((void *)(ip6 + 1) > data_end)
			return drop(XT_CNT_DROP_MALFORMED);
		tmp = ip6->saddr;
		ip6->saddr = ip6->daddr;
		ip6->daddr = tmp;
		ip6->hop_limit = 255;
		ip6->payload_len = new_udp_len;
		if (sess_flags & XT_SESS_SET_DSCP) {
			__u8 tclass = (dscp << 2) | (pkt.tos & 3);

			ip6->priority = tclass >> 4;
			ip6->flow_lbl[0] = (tclass << 4) | (ip6->flow_lbl[0] & 0x0f);
		}
	} else {
		struct iphdr *ip = data + L3_OFF(&pkt);
		__u16 *word = (__u16 *)ip;
		__u16 old_tos_word, old_len_word, old_ttl_word;
		__be32 tmp;

		if ((void *)(ip + 1) > data_end)
			return drop(XT_CNT_DROP_MALFORMED);
		old_tos_word = word[0];
		old_len_word = word[1];
		old_ttl_word = word[4];
		tmp = ip->saddr;
		ip->saddr = ip->daddr;
		ip->daddr = tmp;
		ip->ttl = 255;
		ip->tot_len = bpf_htons(pkt.ip_hdr_len + sizeof(struct udphdr) + reply_len);
		if (sess_flags & XT_SESS_SET_DSCP)
			ip->tos = (dscp << 2) | (pkt.tos & 3);
		/* The request's checksum was verified, so RFC 1624 gives the exact result. */
		ip->check = ~csum_fold_sum((__u16)~ip->check + (__u16)~old_tos_word + word[0] +
					   (__u16)~old_len_word + word[1] + (__u16)~old_ttl_word +
					   word[4]);
	}
	udp = data + L4_OFF(&pkt);
	if ((void *)(udp + 1) > data_end)
		return drop(XT_CNT_DROP_MALFORMED);
	{
		__be16 tmp = udp->source;

		udp->source = udp->dest;
		udp->dest = tmp;
	}
	old_udp_len = udp->len;
	old_udp_check = udp->check;
	udp->len = new_udp_len;

	/*
	 * 8. UDP checksum, incrementally (RFC 1624): swapping addresses and ports
	 * leaves the sum alone; the header octets we rewrote and the length
	 * (counted twice: UDP header and pseudo-header) change it.  Octets past
	 * the request's end are zero in old_hdr and, after a grow, in the frame.
	 */
	sum = (__u16)~old_udp_check;
	sum = csum_replace_words(sum, old_hdr, new_hdr, XT_REFLECTOR_HDR_MAX / 4);
	sum += 2 * ((__u32)(__u16)~old_udp_len + new_udp_len);
	payload = (void *)(udp + 1);
	if (payload + XT_REFLECTOR_HDR_MAX <= data_end) {
		/*
		 * Word stores at the payload's (2-aligned) address: the verifier
		 * allows unaligned packet access where the CPU handles it.
		 */
		__u32 *out = payload;

		out[W_SEQ] = new_hdr[W_SEQ];
		out[W_EE] = new_hdr[W_EE];
		out[W_T2_SEC] = new_hdr[W_T2_SEC];
		out[W_T2_FRAC] = new_hdr[W_T2_FRAC];
		out[W_SENDER_SEQ] = new_hdr[W_SENDER_SEQ];
		out[W_T1_SEC] = new_hdr[W_T1_SEC];
		out[W_T1_FRAC] = new_hdr[W_T1_FRAC];
		out[W_SENDER_EE] = new_hdr[W_SENDER_EE];
		if (format == XT_FMT_STAMP)
			out[W_TTL] = new_hdr[W_TTL];
		else
			*(__u8 *)&out[W_TTL] = pkt.ttl; /* octets 41-43: padding, as received */
	} else if (bpf_xdp_store_bytes(ctx, pkt.l4_off + sizeof(struct udphdr), new_hdr, hdr_len)) {
		return drop(XT_CNT_DROP_MALFORMED);
	}

	/* 9. T3, as late as possible: only the checksum fold remains after it. */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	udp = data + L4_OFF(&pkt);
	t3_words = (__be32 *)(udp + 1) + W_T3_SEC;
	if ((void *)(t3_words + 2) > data_end)
		return drop(XT_CNT_DROP_MALFORMED);
	t3 = bpf_ktime_get_tai_ns();
	store_ntp(t3_words, t3, cfg);
	if (pkt.is_ipv6 || old_udp_check) {
		__u16 check = ~csum_fold_sum(sum + t3_words[0] + t3_words[1]);

		/* RFC 768: a computed zero is sent as all ones (zero means "none"). */
		udp->check = check ? check : 0xffff;
	}
	if (sess)
		sess->tx_packets++; /* plain add: see step 5 */
	count(XT_CNT_REFLECTED);
	count_residence(t2, t3);
	return XDP_TX;
}

SEC("xdp")
int xtwamp_reflect(struct xdp_md *ctx)
{
	return reflect(ctx, false);
}

/*
 * The same reflector taking T2 from the NIC.  Loaded only device-bound to a
 * driver that implements the RX-timestamp kfunc ("?" = not autoloaded).
 */
SEC("?xdp")
int xtwamp_reflect_hwts(struct xdp_md *ctx)
{
	return reflect(ctx, true);
}
