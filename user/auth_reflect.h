/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * auth_reflect.h - the Session-Reflector's answer to one authenticated or
 * encrypted TWAMP-Test packet (RFC 5357 §4.2.1 with erratum 5045, RFC 4656
 * §4.1.2), as pure functions: octets in, octets out, no I/O, no state.
 *
 * Two steps, so that T3 is taken as late as the mode allows:
 *   auth_reflect_build()  verify/decrypt the request, write every field of
 *                         the 112-octet reflector header but T3, and the
 *                         padding;
 *   auth_reflect_seal()   take T3, HMAC and encrypt.  Authenticated mode
 *                         protects block 0 only, so it is sealed first and
 *                         T3 (clear text at 16) written last; encrypted mode
 *                         covers octets 0-95, so T3 goes in before sealing.
 *
 * auth_frame_parse() / auth_frame_reflect() do the same for a whole
 * Ethernet frame in place (the AF_XDP path), headers and checksums included.
 *
 * Packet size (RFC 5357 §4.2.1, protocol-notes §3.6): the reply is
 * max(112, request length) octets.  Its padding, from octet 112 on, is the
 * request's own padding (request octets 48..) truncated at the end: a
 * request of 112 + N octets gets a reply of the same size; shorter requests
 * get the bare 112-octet header.  Padding is neither encrypted nor HMACed.
 *
 * Functions return 0 or -errno: -EBADMSG (the HMAC does not verify: drop
 * silently), -EMSGSIZE (request shorter than 48 octets, or reply shorter
 * than 112), -ENOBUFS (reply buffer too small), -EINVAL (bad mode or
 * argument), -EIO (crypto library failure).
 */
#ifndef XTWAMP_AUTH_REFLECT_H
#define XTWAMP_AUTH_REFLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "twamp_crypto.h"
#include "xtwamp_maps.h"

#define AUTH_SENDER_HDR_LEN 48	   /* sizeof(struct xt_twamp_sender_auth) */
#define AUTH_REFLECTOR_HDR_LEN 112 /* sizeof(struct xt_twamp_reflector_auth) */

/* Reply payload length for a request of req_len octets: max(112, req_len). */
static inline size_t auth_reflect_reply_len(size_t req_len)
{
	return req_len < AUTH_REFLECTOR_HDR_LEN ? AUTH_REFLECTOR_HDR_LEN : req_len;
}

/* What the reflector knows about a request besides its octets. */
struct auth_reflect_rx {
	__u32 reflector_seq;  /* the session's own counter: 0, 1, 2, ... */
	__u64 t2_realtime_ns; /* T2, CLOCK_REALTIME ns since the Unix epoch */
	__u16 error_estimate; /* RFC 4656 Error Estimate of our clock, host order */
	__u8 sender_ttl;      /* TTL / Hop Limit of the received packet (255 if unknown) */
};

/*
 * Decrypt and verify a Session-Sender packet (req, req_len octets: the UDP
 * payload, never modified) and write the reflector packet into reply:
 * Sequence Number, MBZ, Error Estimate, Receive Timestamp (T2), Sender
 * Sequence Number / Timestamp / Error Estimate (copies of the decrypted
 * request), Sender TTL, padding; T3 and HMAC zero.  *reply_len is set to
 * auth_reflect_reply_len(req_len).  reply may be the same buffer as req
 * (in place, as long as reply_cap allows the growth); on error nothing was
 * written to reply unless it is req.
 */
int auth_reflect_build(__u32 mode, const struct tw_test_keys *keys, const __u8 *req, size_t req_len,
		       const struct auth_reflect_rx *rx, __u8 *reply, size_t reply_cap,
		       size_t *reply_len);

/* CLOCK_REALTIME in ns; a parameter so that tests can pin T3. */
typedef __u64 (*auth_reflect_clock_fn)(void);

/*
 * Take T3 (from now_ns, or CLOCK_REALTIME when NULL) and seal a reply
 * built by auth_reflect_build(): HMAC over the plaintext of the protected
 * region into octets 96-111, then encrypt it.  In authenticated mode T3 is
 * read after block 0 is sealed; in encrypted mode just before.  *t3_ns (may
 * be NULL) receives the T3 written.  The caller computes the UDP checksum
 * afterwards: only octets 0-111 change here.
 */
int auth_reflect_seal(__u32 mode, const struct tw_test_keys *keys, __u8 *reply, size_t reply_len,
		      auth_reflect_clock_fn now_ns, __u64 *t3_ns);

/*
 * The same under a session's tw_test_ctx (mode and keys set up once by
 * tw_test_ctx_init()): what the daemon uses per packet.  The keyed
 * functions above and below are these with a context for one packet.
 */
int auth_reflect_build_ctx(struct tw_test_ctx *c, const __u8 *req, size_t req_len,
			   const struct auth_reflect_rx *rx, __u8 *reply, size_t reply_cap,
			   size_t *reply_len);
int auth_reflect_seal_ctx(struct tw_test_ctx *c, __u8 *reply, size_t reply_len,
			  auth_reflect_clock_fn now_ns, __u64 *t3_ns);

/*
 * Whole frames, for AF_XDP (no kernel stack in between): Ethernet with up
 * to two VLAN tags, IPv4 (any IHL, no fragments) or IPv6 (no extension
 * headers), UDP.
 */
struct auth_frame {
	size_t l3;	   /* IP header, from the start of the frame */
	size_t l4;	   /* UDP header */
	size_t ip_hdr_len; /* IPv4: IHL * 4; IPv6: 40 */
	size_t udp_len;	   /* UDP header + payload, as the UDP header says */
	bool v6;
	__u8 ttl;		   /* received TTL / Hop Limit: the Sender TTL */
	__u8 tos;		   /* received TOS / Traffic Class */
	struct xt_session_key key; /* sender = source, reflector = destination, ssid 0 */
};

/*
 * Parse a received frame and check it: every length against the frame and
 * against each other, the IPv4 header checksum, the UDP checksum (optional
 * over IPv4, mandatory over IPv6).  The frame bypassed the kernel, and the
 * reply gets a fresh UDP checksum that would launder a corrupted request.
 * -EINVAL for anything else.
 */
int auth_frame_parse(const __u8 *frame, size_t len, struct auth_frame *fr);

/*
 * The reply to a parsed frame, in place (cap: octets available from the
 * frame's start): auth_reflect_build() on the UDP payload; MACs, addresses
 * and ports swapped, TTL / Hop Limit 255, the DSCP dscp with the request's
 * ECN bits, IP and UDP lengths, IPv4 header checksum; then
 * auth_reflect_seal() (T3) and the full UDP checksum last (a computed 0 is
 * sent as 0xffff).  IPv4 options, VLAN tags and the IPv6 flow label are
 * kept.  *frame_len = the reply frame's length.  Errors as
 * auth_reflect_build(); the frame is unchanged after -EBADMSG / -EMSGSIZE /
 * -ENOBUFS.
 */
int auth_frame_reflect(__u8 *frame, size_t cap, const struct auth_frame *fr, __u32 mode,
		       const struct tw_test_keys *keys, const struct auth_reflect_rx *rx, __u8 dscp,
		       auth_reflect_clock_fn now_ns, size_t *frame_len);
int auth_frame_reflect_ctx(__u8 *frame, size_t cap, const struct auth_frame *fr,
			   struct tw_test_ctx *c, const struct auth_reflect_rx *rx, __u8 dscp,
			   auth_reflect_clock_fn now_ns, size_t *frame_len);

#endif /* XTWAMP_AUTH_REFLECT_H */
