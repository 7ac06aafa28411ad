/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xtwamp_wire.h - TWAMP-Test and STAMP packet layouts, exactly as on the wire.
 *
 * Contract: every struct here is packed and every multi-octet field is in
 * network byte order.  Sizes and the offsets that senders and reflectors rely
 * on are pinned with _Static_assert, so a wrong layout fails the build, not
 * the measurement.  Included by the BPF program and by user space alike: it
 * needs nothing but the kernel's __u8/__be32 types.
 *
 * References: RFC 4656 §4.1.2 (timestamp, Error Estimate, sender packet),
 * RFC 5357 §4.1.2/§4.2.1 (+ erratum 5045: authenticated reflector = 112),
 * RFC 8762 §4.2/§4.3 (STAMP), RFC 8972 §3 (SSID).
 */
#ifndef XTWAMP_WIRE_H
#define XTWAMP_WIRE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define XT_PACKED __attribute__((packed))

/* Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch). */
#define XT_NTP_UNIX_OFFSET 2208988800ULL
#define XT_NSEC_PER_SEC 1000000000ULL

/* UDP port of TWAMP-Test / STAMP (RFC 8545, RFC 8762 §4) and TWAMP-Control. */
#define XT_DEFAULT_TEST_PORT 862
#define XT_DEFAULT_CONTROL_PORT 862

/* 64-bit NTP timestamp: seconds since 1900 and a 2^-32 s fraction. */
struct xt_ntp_ts {
	__be32 sec;
	__be32 frac;
} XT_PACKED;

/* Error Estimate bits (RFC 4656 §4.1.2, RFC 8186 §2.3), host order. */
#define XT_EE_SYNC 0x8000 /* S: clock synchronised to UTC */
#define XT_EE_PTP 0x4000  /* Z: PTP timestamp format (we always send NTP) */
#define XT_EE_SCALE_MASK 0x3f00
#define XT_EE_MULT_MASK 0x00ff

/* RFC 4656 §4.1.2 / RFC 5357 §4.1.2: unauthenticated Session-Sender packet. */
struct xt_twamp_sender {
	__be32 seq;
	struct xt_ntp_ts timestamp;
	__be16 error_estimate;
	/* __u8 padding[]; */
} XT_PACKED;

/* RFC 5357 §4.2.1: unauthenticated Session-Reflector packet. */
struct xt_twamp_reflector {
	__be32 seq;
	struct xt_ntp_ts timestamp; /* T3 */
	__be16 error_estimate;
	__be16 mbz1;
	struct xt_ntp_ts receive_timestamp; /* T2 */
	__be32 sender_seq;
	struct xt_ntp_ts sender_timestamp; /* T1 */
	__be16 sender_error_estimate;
	__be16 mbz2;
	__u8 sender_ttl;
	/* __u8 padding[]; */
} XT_PACKED;

/* RFC 4656 §4.1.2: authenticated/encrypted Session-Sender packet. */
struct xt_twamp_sender_auth {
	__be32 seq;
	__u8 mbz1[12];
	struct xt_ntp_ts timestamp;
	__be16 error_estimate;
	__u8 mbz2[6];
	__u8 hmac[16];
} XT_PACKED;

/* RFC 5357 §4.2.1 with erratum 5045: authenticated/encrypted reflector. */
struct xt_twamp_reflector_auth {
	__be32 seq;
	__u8 mbz1[12];
	struct xt_ntp_ts timestamp;
	__be16 error_estimate;
	__u8 mbz2[6];
	struct xt_ntp_ts receive_timestamp;
	__u8 mbz3[8];
	__be32 sender_seq;
	__u8 mbz4[12];
	struct xt_ntp_ts sender_timestamp;
	__be16 sender_error_estimate;
	__u8 mbz5[6];
	__u8 sender_ttl;
	__u8 mbz6[15];
	__u8 hmac[16];
} XT_PACKED;

/* RFC 8762 §4.2.1 + RFC 8972 §3: unauthenticated STAMP Session-Sender. */
struct xt_stamp_sender {
	__be32 seq;
	struct xt_ntp_ts timestamp;
	__be16 error_estimate;
	__be16 ssid;
	__u8 mbz[28];
	/* TLVs follow */
} XT_PACKED;

/* RFC 8762 §4.3.1 + RFC 8972 §3: unauthenticated STAMP Session-Reflector. */
struct xt_stamp_reflector {
	__be32 seq;
	struct xt_ntp_ts timestamp; /* T3 */
	__be16 error_estimate;
	__be16 ssid;
	struct xt_ntp_ts receive_timestamp; /* T2 */
	__be32 sender_seq;
	struct xt_ntp_ts sender_timestamp; /* T1 */
	__be16 sender_error_estimate;
	__be16 mbz1;
	__u8 sender_ttl;
	__u8 mbz2[3];
	/* TLVs follow, copied from the request */
} XT_PACKED;

/* Minimum request sizes the reflector accepts, per port format. */
#define XT_TWAMP_SENDER_MIN ((int)sizeof(struct xt_twamp_sender))	/* 14 */
#define XT_TWAMP_REFLECTOR_MIN ((int)sizeof(struct xt_twamp_reflector)) /* 41 */
#define XT_STAMP_BASE ((int)sizeof(struct xt_stamp_sender))		/* 44 */
/* Largest reflector header of the unauthenticated formats (STAMP). */
#define XT_REFLECTOR_HDR_MAX 44

#define XT_OFF(type, field) __builtin_offsetof(struct type, field)

_Static_assert(sizeof(struct xt_ntp_ts) == 8, "NTP timestamp is 8 octets");
_Static_assert(sizeof(struct xt_twamp_sender) == 14, "RFC 4656 4.1.2");
_Static_assert(sizeof(struct xt_twamp_reflector) == 41, "RFC 5357 4.2.1");
_Static_assert(sizeof(struct xt_twamp_sender_auth) == 48, "RFC 4656 4.1.2");
_Static_assert(sizeof(struct xt_twamp_reflector_auth) == 112, "RFC 5357 erratum 5045");
_Static_assert(sizeof(struct xt_stamp_sender) == 44, "RFC 8762 4.2.1");
_Static_assert(sizeof(struct xt_stamp_reflector) == 44, "RFC 8762 4.3.1");

_Static_assert(XT_OFF(xt_twamp_sender, timestamp) == 4, "T1 at 4");
_Static_assert(XT_OFF(xt_twamp_sender, error_estimate) == 12, "EE at 12");
_Static_assert(XT_OFF(xt_twamp_reflector, timestamp) == 4, "T3 at 4");
_Static_assert(XT_OFF(xt_twamp_reflector, error_estimate) == 12, "EE at 12");
_Static_assert(XT_OFF(xt_twamp_reflector, receive_timestamp) == 16, "T2 at 16");
_Static_assert(XT_OFF(xt_twamp_reflector, sender_seq) == 24, "sender seq at 24");
_Static_assert(XT_OFF(xt_twamp_reflector, sender_timestamp) == 28, "T1 at 28");
_Static_assert(XT_OFF(xt_twamp_reflector, sender_error_estimate) == 36, "sender EE at 36");
_Static_assert(XT_OFF(xt_twamp_reflector, sender_ttl) == 40, "sender TTL at 40");
_Static_assert(XT_OFF(xt_twamp_sender_auth, timestamp) == 16, "auth T1 at 16");
_Static_assert(XT_OFF(xt_twamp_sender_auth, hmac) == 32, "auth HMAC at 32");
_Static_assert(XT_OFF(xt_twamp_reflector_auth, timestamp) == 16, "auth T3 at 16");
_Static_assert(XT_OFF(xt_twamp_reflector_auth, receive_timestamp) == 32, "auth T2 at 32");
_Static_assert(XT_OFF(xt_twamp_reflector_auth, sender_seq) == 48, "auth sender seq at 48");
_Static_assert(XT_OFF(xt_twamp_reflector_auth, sender_timestamp) == 64, "auth T1 at 64");
_Static_assert(XT_OFF(xt_twamp_reflector_auth, sender_ttl) == 80, "auth TTL at 80");
_Static_assert(XT_OFF(xt_twamp_reflector_auth, hmac) == 96, "auth HMAC at 96");
_Static_assert(XT_OFF(xt_stamp_sender, ssid) == 14, "SSID at 14");
_Static_assert(XT_OFF(xt_stamp_reflector, ssid) == 14, "SSID at 14");
_Static_assert(XT_OFF(xt_stamp_reflector, receive_timestamp) == 16, "T2 at 16");
_Static_assert(XT_OFF(xt_stamp_reflector, sender_ttl) == 40, "sender TTL at 40");
/* The two unauthenticated reflector formats agree on octets 0..40 (RFC 8762 §4.6). */
_Static_assert(XT_OFF(xt_stamp_reflector, sender_timestamp) ==
		       XT_OFF(xt_twamp_reflector, sender_timestamp),
	       "TWAMP and STAMP interwork");

/*
 * Time conversions, shared by the data path and user space so both round
 * identically.  An "NTP64" is the 32.32 fixed-point value in host order
 * (seconds in the high word); store it with xt_ntp_store().
 *
 * The fraction is rounded to nearest, so ns -> NTP -> ns is exact: one
 * 2^-32 s step (0.23 ns) is finer than a nanosecond.  Seconds wrap modulo
 * 2^32 (NTP era 1 begins 2036-02-07); xt_ntp64_to_unix_ns() maps NTP seconds
 * below the Unix epoch into era 1, which is right from 1968 to 2104.
 */
static inline __u64 xt_unix_ns_to_ntp64(__u64 unix_ns)
{
	__u64 sec = unix_ns / XT_NSEC_PER_SEC;
	__u64 nsec = unix_ns - sec * XT_NSEC_PER_SEC;
	__u64 frac = ((nsec << 32) + XT_NSEC_PER_SEC / 2) / XT_NSEC_PER_SEC;

	return ((sec + XT_NTP_UNIX_OFFSET) << 32) | frac;
}

static inline __u64 xt_ntp64_to_unix_ns(__u64 ntp64)
{
	__u64 sec = ntp64 >> 32;
	__u64 frac = ntp64 & 0xffffffffULL;

	if (sec < XT_NTP_UNIX_OFFSET)
		sec += 1ULL << 32; /* NTP era 1 */
	return (sec - XT_NTP_UNIX_OFFSET) * XT_NSEC_PER_SEC +
	       ((frac * XT_NSEC_PER_SEC + (1ULL << 31)) >> 32);
}

/*
 * TWAMP-Control (RFC 4656 §3.1 connection setup, RFC 5357 §3 commands,
 * RFC 5938 individual session control, RFC 6038 reflect octets).  Every
 * message is a whole number of 16-octet blocks except the Set-Up-Response,
 * which is sent before encryption starts.
 */

/* Modes (Server-Greeting "Modes", Set-Up-Response "Mode"), RFC 4656 §3.1 + IANA. */
#define XT_MODE_UNAUTHENTICATED 0x001
#define XT_MODE_AUTHENTICATED 0x002
#define XT_MODE_ENCRYPTED 0x004
#define XT_MODE_MIXED 0x008		  /* RFC 5618: encrypted control, unauth. test */
#define XT_MODE_INDIVIDUAL_SESSIONS 0x010 /* RFC 5938 */
#define XT_MODE_REFLECT_OCTETS 0x020	  /* RFC 6038 */
#define XT_MODE_SYMMETRICAL_SIZE 0x040	  /* RFC 6038 */
#define XT_MODE_SECURITY_MASK 0x00f
#define XT_MODE_CONTROL_CIPHER 0x00e /* modes whose control stream is encrypted */
#define XT_MODE_TEST_CIPHER 0x006    /* modes whose test packets are HMACed */

/* Accept values, RFC 4656 §3.3. */
enum xt_accept {
	XT_ACCEPT_OK = 0,
	XT_ACCEPT_FAILURE = 1,
	XT_ACCEPT_INTERNAL_ERROR = 2,
	XT_ACCEPT_NOT_SUPPORTED = 3,
	XT_ACCEPT_PERMANENT_LIMIT = 4,
	XT_ACCEPT_TEMPORARY_LIMIT = 5,
};

/* Command numbers, RFC 5357 §8.4, RFC 5938 §6.4. */
enum xt_command {
	XT_CMD_REQUEST_SESSION_OWAMP = 1, /* forbidden in TWAMP */
	XT_CMD_START_SESSIONS = 2,
	XT_CMD_STOP_SESSIONS = 3,
	XT_CMD_FETCH_SESSION_OWAMP = 4, /* reserved in TWAMP */
	XT_CMD_REQUEST_TW_SESSION = 5,
	XT_CMD_EXPERIMENTATION = 6,
	XT_CMD_START_N_SESSIONS = 7,
	XT_CMD_START_N_ACK = 8,
	XT_CMD_STOP_N_SESSIONS = 9,
	XT_CMD_STOP_N_ACK = 10,
};

#define XT_BLOCK 16
#define XT_HMAC_LEN 16
#define XT_SID_LEN 16
#define XT_KEYID_LEN 80
#define XT_MIN_COUNT 1024 /* RFC 4656 §3.1: Count is a power of 2, at least 1024 */

/* RFC 4656 §3.1, server to client, clear text. */
struct xt_server_greeting {
	__u8 unused[12];
	__be32 modes;
	__u8 challenge[16];
	__u8 salt[16];
	__be32 count;
	__u8 mbz[12];
} XT_PACKED;

/* RFC 4656 §3.1, client to server, clear text. */
struct xt_setup_response {
	__be32 mode;
	__u8 key_id[XT_KEYID_LEN];
	__u8 token[64]; /* AES-CBC(K, IV 0) of challenge | AES session key | HMAC session key */
	__u8 client_iv[16];
} XT_PACKED;

/* RFC 4656 §3.1 / RFC 5357 §3.2; octets 32..47 start the server's cipher stream. */
struct xt_server_start {
	__u8 mbz1[15];
	__u8 accept;
	__u8 server_iv[16];
	struct xt_ntp_ts start_time;
	__u8 mbz2[8];
} XT_PACKED;

/* RFC 5357 §3.5 (+ RFC 6038 §4.1 octets 88..91). */
struct xt_request_tw_session {
	__u8 command; /* 5 */
	__u8 ipvn;    /* low nibble: 4 or 6 */
	__u8 conf_sender;
	__u8 conf_receiver;
	__be32 schedule_slots;
	__be32 packets;
	__be16 sender_port;
	__be16 receiver_port;
	__u8 sender_address[16];
	__u8 receiver_address[16];
	__u8 sid[XT_SID_LEN];
	__be32 padding_length;
	struct xt_ntp_ts start_time;
	struct xt_ntp_ts timeout;
	__be32 type_p;
	__be16 octets_to_reflect;      /* RFC 6038 */
	__be16 padding_to_reflect_len; /* RFC 6038 */
	__u8 mbz[4];
	__u8 hmac[XT_HMAC_LEN];
} XT_PACKED;

/* RFC 5357 §3.5 (+ RFC 6038 §4.2 octets 20..23). */
struct xt_accept_session {
	__u8 accept;
	__u8 mbz1;
	__be16 port;
	__u8 sid[XT_SID_LEN];
	__be16 reflected_octets; /* RFC 6038 */
	__be16 server_octets;	 /* RFC 6038 */
	__u8 mbz2[8];
	__u8 hmac[XT_HMAC_LEN];
} XT_PACKED;

/* RFC 4656 §3.7. */
struct xt_start_sessions {
	__u8 command; /* 2 */
	__u8 mbz[15];
	__u8 hmac[XT_HMAC_LEN];
} XT_PACKED;

struct xt_start_ack {
	__u8 accept;
	__u8 mbz[15];
	__u8 hmac[XT_HMAC_LEN];
} XT_PACKED;

/* RFC 5357 §3.8: TWAMP form, no session records. */
struct xt_stop_sessions {
	__u8 command; /* 3 */
	__u8 accept;
	__u8 mbz1[2];
	__be32 number_of_sessions;
	__u8 mbz2[8];
	__u8 hmac[XT_HMAC_LEN];
} XT_PACKED;

/* RFC 5938 §3.2..3.5: header of Start-N/Stop-N and their acks; N SIDs + HMAC follow. */
struct xt_n_sessions_header {
	__u8 command; /* 7, 8, 9 or 10 */
	__u8 accept;  /* acks only; MBZ in requests */
	__u8 mbz[10];
	__be32 number_of_sessions;
} XT_PACKED;

_Static_assert(sizeof(struct xt_server_greeting) == 64, "RFC 4656 3.1");
_Static_assert(sizeof(struct xt_setup_response) == 164, "RFC 4656 3.1");
_Static_assert(sizeof(struct xt_server_start) == 48, "RFC 4656 3.1");
_Static_assert(sizeof(struct xt_request_tw_session) == 112, "RFC 5357 3.5");
_Static_assert(sizeof(struct xt_accept_session) == 48, "RFC 5357 3.5");
_Static_assert(sizeof(struct xt_start_sessions) == 32, "RFC 4656 3.7");
_Static_assert(sizeof(struct xt_start_ack) == 32, "RFC 4656 3.7");
_Static_assert(sizeof(struct xt_stop_sessions) == 32, "RFC 5357 3.8");
_Static_assert(sizeof(struct xt_n_sessions_header) == 16, "RFC 5938 3.2");
_Static_assert(XT_OFF(xt_server_greeting, modes) == 12, "Modes at 12");
_Static_assert(XT_OFF(xt_server_greeting, count) == 48, "Count at 48");
_Static_assert(XT_OFF(xt_setup_response, token) == 84, "Token at 84");
_Static_assert(XT_OFF(xt_setup_response, client_iv) == 148, "Client-IV at 148");
_Static_assert(XT_OFF(xt_server_start, accept) == 15, "Accept at 15");
_Static_assert(XT_OFF(xt_server_start, start_time) == 32, "Start-Time at 32");
_Static_assert(XT_OFF(xt_request_tw_session, sender_port) == 12, "Sender Port at 12");
_Static_assert(XT_OFF(xt_request_tw_session, sender_address) == 16, "Sender Address at 16");
_Static_assert(XT_OFF(xt_request_tw_session, sid) == 48, "SID at 48");
_Static_assert(XT_OFF(xt_request_tw_session, padding_length) == 64, "Padding Length at 64");
_Static_assert(XT_OFF(xt_request_tw_session, timeout) == 76, "Timeout at 76");
_Static_assert(XT_OFF(xt_request_tw_session, type_p) == 84, "Type-P at 84");
_Static_assert(XT_OFF(xt_request_tw_session, hmac) == 96, "HMAC at 96");
_Static_assert(XT_OFF(xt_accept_session, sid) == 4, "SID at 4");
_Static_assert(XT_OFF(xt_accept_session, hmac) == 32, "HMAC at 32");
_Static_assert(XT_OFF(xt_stop_sessions, number_of_sessions) == 4, "N at 4");
_Static_assert(XT_OFF(xt_n_sessions_header, number_of_sessions) == 12, "N at 12");

#endif /* XTWAMP_WIRE_H */
