// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* auth_reflect.c - see auth_reflect.h */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>

#include "auth_reflect.h"
#include "xtwamp_wire.h"

_Static_assert(sizeof(struct xt_twamp_sender_auth) == AUTH_SENDER_HDR_LEN, "RFC 4656 4.1.2");
_Static_assert(sizeof(struct xt_twamp_reflector_auth) == AUTH_REFLECTOR_HDR_LEN,
	       "RFC 5357 erratum 5045");

static bool mode_ok(__u32 mode)
{
	return mode == XT_MODE_AUTHENTICATED || mode == XT_MODE_ENCRYPTED;
}

static void store_ntp(struct xt_ntp_ts *ts, __u64 unix_ns)
{
	__u64 ntp = xt_unix_ns_to_ntp64(unix_ns);

	ts->sec = htonl((__u32)(ntp >> 32));
	ts->frac = htonl((__u32)ntp);
}

static __u64 realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * XT_NSEC_PER_SEC + (__u64)ts.tv_nsec;
}

int auth_reflect_build_ctx(struct tw_test_ctx *c, const __u8 *req, size_t req_len,
			   const struct auth_reflect_rx *rx, __u8 *reply, size_t reply_cap,
			   size_t *reply_len)
{
	struct xt_twamp_sender_auth plain;
	struct xt_twamp_reflector_auth hdr;
	size_t len, pad;
	int err;

	if (!c || !mode_ok(c->mode) || !req || !rx || !reply || !reply_len)
		return -EINVAL;
	if (req_len < sizeof(plain))
		return -EMSGSIZE;
	len = auth_reflect_reply_len(req_len);
	if (reply_cap < len)
		return -ENOBUFS;

	/* Decrypt a copy: the request stays as received until it is known to be good. */
	memcpy(&plain, req, sizeof(plain));
	err = tw_test_ctx_open_sender(c, (__u8 *)&plain, sizeof(plain));
	if (err)
		return err;

	memset(&hdr, 0, sizeof(hdr));
	hdr.seq = htonl(rx->reflector_seq);
	hdr.error_estimate = htons(rx->error_estimate);
	store_ntp(&hdr.receive_timestamp, rx->t2_realtime_ns);
	hdr.sender_seq = plain.seq;
	hdr.sender_timestamp = plain.timestamp; /* exact copies, RFC 5357 §4.2.1 */
	hdr.sender_error_estimate = plain.error_estimate;
	hdr.sender_ttl = rx->sender_ttl;

	/*
	 * Padding: the request's octets 48.. move to 112.., keeping the first
	 * ones (RFC 5357 §4.2.1: truncate the end).  memmove first, because in
	 * place the header below overwrites request octets 48-111.
	 */
	pad = len - sizeof(hdr);
	if (pad)
		memmove(reply + sizeof(hdr), req + sizeof(plain), pad);
	memcpy(reply, &hdr, sizeof(hdr));
	*reply_len = len;
	/* Decrypted sender fields: a plain memset here is a dead store the compiler may drop. */
	OPENSSL_cleanse(&plain, sizeof(plain));
	return 0;
}

int auth_reflect_seal_ctx(struct tw_test_ctx *c, __u8 *reply, size_t reply_len,
			  auth_reflect_clock_fn now_ns, __u64 *t3_ns)
{
	struct xt_twamp_reflector_auth *hdr = (void *)reply;
	__u64 t3;
	int err;

	if (!c || !mode_ok(c->mode) || !reply)
		return -EINVAL;
	if (reply_len < sizeof(*hdr))
		return -EMSGSIZE;
	if (!now_ns)
		now_ns = realtime_ns;

	if (c->mode == XT_MODE_AUTHENTICATED) {
		/* Block 0 (the sequence number) is all that is protected: seal, then T3. */
		err = tw_test_ctx_seal_reflector(c, reply, reply_len);
		if (err)
			return err;
		t3 = now_ns();
		store_ntp(&hdr->timestamp, t3);
	} else {
		t3 = now_ns();
		store_ntp(&hdr->timestamp, t3);
		err = tw_test_ctx_seal_reflector(c, reply, reply_len);
		if (err)
			return err;
	}
	if (t3_ns)
		*t3_ns = t3;
	return 0;
}

/* The keyed entry points: a context for just this packet (tests, one-off use). */
static int oneshot_ctx(struct tw_test_ctx *c, __u32 mode, const struct tw_test_keys *keys)
{
	if (!mode_ok(mode) || !keys)
		return -EINVAL;
	return tw_test_ctx_init(c, mode, keys);
}

int auth_reflect_build(__u32 mode, const struct tw_test_keys *keys, const __u8 *req, size_t req_len,
		       const struct auth_reflect_rx *rx, __u8 *reply, size_t reply_cap,
		       size_t *reply_len)
{
	struct tw_test_ctx c;
	int err = oneshot_ctx(&c, mode, keys);

	if (err)
		return err;
	err = auth_reflect_build_ctx(&c, req, req_len, rx, reply, reply_cap, reply_len);
	tw_test_ctx_free(&c);
	return err;
}

int auth_reflect_seal(__u32 mode, const struct tw_test_keys *keys, __u8 *reply, size_t reply_len,
		      auth_reflect_clock_fn now_ns, __u64 *t3_ns)
{
	struct tw_test_ctx c;
	int err = oneshot_ctx(&c, mode, keys);

	if (err)
		return err;
	err = auth_reflect_seal_ctx(&c, reply, reply_len, now_ns, t3_ns);
	tw_test_ctx_free(&c);
	return err;
}

/* ---- AF_XDP frames ------------------------------------------------------------------- */

#define ETH_HLEN_ 14
#define ETH_P_IP_ 0x0800
#define ETH_P_IPV6_ 0x86dd
#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88a8
#define IPPROTO_UDP_ 17

static __u16 get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

static void swap_octets(__u8 *a, __u8 *b, size_t n)
{
	__u8 t[16];

	memcpy(t, a, n);
	memcpy(a, b, n);
	memcpy(b, t, n);
}

/* One's-complement sum of len octets as big-endian 16-bit words (RFC 1071). */
static __u64 csum_add(__u64 sum, const __u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (__u32)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (__u32)p[len - 1] << 8;
	return sum;
}

static __u16 csum_fold(__u64 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

static void map_v4(union xt_addr *a, const void *v4)
{
	memset(a, 0, sizeof(*a));
	a->b[10] = 0xff;
	a->b[11] = 0xff;
	memcpy(a->b + 12, v4, 4);
}

/*
 * Ethernet, up to two VLAN tags, IPv4 (no fragments) or IPv6 (no extension
 * headers), UDP, every length checked against the frame and the checksums
 * verified: the frame bypassed the kernel stack, and a reply computes a
 * fresh UDP checksum, which would launder a corrupted request.
 */
int auth_frame_parse(const __u8 *f, size_t len, struct auth_frame *fi)
{
	size_t off = ETH_HLEN_, ip_end;
	__u16 proto;
	__u64 sum;
	int i;

	memset(fi, 0, sizeof(*fi));
	if (len < ETH_HLEN_)
		return -EINVAL;
	proto = get16(f + 12);
	for (i = 0; i < 2 && (proto == ETH_P_8021Q_ || proto == ETH_P_8021AD_); i++) {
		if (off + 4 > len)
			return -EINVAL;
		proto = get16(f + off + 2);
		off += 4;
	}
	fi->l3 = off;
	if (proto == ETH_P_IP_) {
		const __u8 *ip = f + off;

		if (off + 20 > len || ip[0] >> 4 != 4 || (ip[0] & 0x0f) < 5)
			return -EINVAL;
		fi->ip_hdr_len = (size_t)(ip[0] & 0x0f) * 4;
		if (off + fi->ip_hdr_len > len || ip[9] != IPPROTO_UDP_ ||
		    (get16(ip + 6) & 0x3fff) != 0)
			return -EINVAL;
		if (csum_fold(csum_add(0, ip, fi->ip_hdr_len)) != 0xffff)
			return -EINVAL;
		ip_end = off + get16(ip + 2);
		fi->ttl = ip[8];
		fi->tos = ip[1];
		map_v4(&fi->key.sender_addr, ip + 12);
		map_v4(&fi->key.reflector_addr, ip + 16);
	} else if (proto == ETH_P_IPV6_) {
		const __u8 *ip6 = f + off;

		if (off + 40 > len || ip6[0] >> 4 != 6 || ip6[6] != IPPROTO_UDP_)
			return -EINVAL;
		fi->v6 = true;
		fi->ip_hdr_len = 40;
		ip_end = off + 40 + get16(ip6 + 4);
		fi->ttl = ip6[7];
		fi->tos = (__u8)((ip6[0] & 0x0f) << 4 | ip6[1] >> 4);
		memcpy(fi->key.sender_addr.b, ip6 + 8, 16);
		memcpy(fi->key.reflector_addr.b, ip6 + 24, 16);
	} else {
		return -EINVAL;
	}
	fi->l4 = off + fi->ip_hdr_len;
	if (ip_end > len || fi->l4 + 8 > ip_end)
		return -EINVAL;
	fi->udp_len = get16(f + fi->l4 + 4);
	if (fi->udp_len < 8 || fi->l4 + fi->udp_len > ip_end)
		return -EINVAL;
	memcpy(&fi->key.sender_port, f + fi->l4, 2);
	memcpy(&fi->key.reflector_port, f + fi->l4 + 2, 2);

	/* UDP checksum: optional over IPv4 (0 = none), mandatory over IPv6. */
	if (get16(f + fi->l4 + 6) == 0)
		return fi->v6 ? -EINVAL : 0;
	if (fi->v6)
		sum = csum_add(0, f + fi->l3 + 8, 32);
	else
		sum = csum_add(0, f + fi->l3 + 12, 8);
	sum += IPPROTO_UDP_ + fi->udp_len;
	sum = csum_add(sum, f + fi->l4, fi->udp_len);
	return csum_fold(sum) == 0xffff ? 0 : -EINVAL;
}

/*
 * The reply's headers, in place: MACs, addresses and ports swapped, TTL /
 * Hop Limit 255, the session's DSCP with the request's ECN, new lengths,
 * IPv4 header checksum, UDP checksum field 0 (filled by finish_udp_csum()).
 * Returns the new frame length.
 */
static size_t rewrite_headers(__u8 *f, const struct auth_frame *fi, size_t reply_len, __u8 dscp)
{
	__u8 *ip = f + fi->l3, *udp = f + fi->l4;
	__u8 tos = (__u8)(dscp << 2 | (fi->tos & 0x03));

	swap_octets(f, f + 6, 6);
	if (fi->v6) {
		swap_octets(ip + 8, ip + 24, 16);
		ip[0] = (__u8)(0x60 | tos >> 4);
		ip[1] = (__u8)((tos & 0x0f) << 4 | (ip[1] & 0x0f));
		put16(ip + 4, (__u16)(8 + reply_len));
		ip[7] = 255;
	} else {
		swap_octets(ip + 12, ip + 16, 4);
		ip[1] = tos;
		put16(ip + 2, (__u16)(fi->ip_hdr_len + 8 + reply_len));
		ip[8] = 255;
		put16(ip + 10, 0);
		put16(ip + 10, (__u16)~csum_fold(csum_add(0, ip, fi->ip_hdr_len)));
	}
	swap_octets(udp, udp + 2, 2);
	put16(udp + 4, (__u16)(8 + reply_len));
	put16(udp + 6, 0);
	return fi->l4 + 8 + reply_len;
}

/* Pseudo-header + UDP header + padding (octets 112..): everything sealing leaves alone. */
static __u64 udp_sum_outside_seal(const __u8 *f, const struct auth_frame *fi, size_t reply_len)
{
	__u64 sum;

	if (fi->v6)
		sum = csum_add(0, f + fi->l3 + 8, 32);
	else
		sum = csum_add(0, f + fi->l3 + 12, 8);
	sum += IPPROTO_UDP_ + 8 + reply_len;
	sum = csum_add(sum, f + fi->l4, 8);
	return csum_add(sum, f + fi->l4 + 8 + AUTH_REFLECTOR_HDR_LEN,
			reply_len - AUTH_REFLECTOR_HDR_LEN);
}

static void finish_udp_csum(__u8 *f, const struct auth_frame *fi, __u64 sum)
{
	__u16 ck = (__u16)~csum_fold(csum_add(sum, f + fi->l4 + 8, AUTH_REFLECTOR_HDR_LEN));

	put16(f + fi->l4 + 6, ck ? ck : 0xffff); /* RFC 768: 0 means "no checksum" */
}

int auth_frame_reflect_ctx(__u8 *frame, size_t cap, const struct auth_frame *fr,
			   struct tw_test_ctx *c, const struct auth_reflect_rx *rx, __u8 dscp,
			   auth_reflect_clock_fn now_ns, size_t *frame_len)
{
	size_t payload = fr->l4 + 8, reply_len;
	__u64 sum;
	int err;

	if (!frame || !fr || !frame_len || cap < payload)
		return -EINVAL;
	err = auth_reflect_build_ctx(c, frame + payload, fr->udp_len - 8, rx, frame + payload,
				     cap - payload, &reply_len);
	if (err)
		return err;
	*frame_len = rewrite_headers(frame, fr, reply_len, dscp);
	sum = udp_sum_outside_seal(frame, fr, reply_len);
	err = auth_reflect_seal_ctx(c, frame + payload, reply_len, now_ns, NULL);
	if (err)
		return err;
	finish_udp_csum(frame, fr, sum);
	return 0;
}

int auth_frame_reflect(__u8 *frame, size_t cap, const struct auth_frame *fr, __u32 mode,
		       const struct tw_test_keys *keys, const struct auth_reflect_rx *rx, __u8 dscp,
		       auth_reflect_clock_fn now_ns, size_t *frame_len)
{
	struct tw_test_ctx c;
	int err = oneshot_ctx(&c, mode, keys);

	if (err)
		return err;
	err = auth_frame_reflect_ctx(frame, cap, fr, &c, rx, dscp, now_ns, frame_len);
	tw_test_ctx_free(&c);
	return err;
}
