/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * control_conn.h - one TWAMP-Control connection, server side, as a state
 * machine over bytes (RFC 4656 §3.1 setup, RFC 5357 §3 commands, RFC 5618
 * mixed mode, RFC 5938 Start-N/Stop-N, RFC 6038 reflect octets/symmetrical
 * size).
 *
 * No sockets, no clocks, no maps: the owner feeds received bytes with
 * ctl_conn_input(), sends what ctl_conn_output() holds, and decides about
 * sessions through the ops callbacks.  This makes every path, refusal and
 * hostile input testable byte for byte.  Crypto via twamp_crypto.h.
 *
 * Memory is bounded per connection: one receive buffer for the largest
 * message (Start-N/Stop-N with CTL_MAX_N_SESSIONS SIDs) and an output queue
 * of at most CTL_OUTPUT_MAX octets that grows only with replies.
 *
 * When ctl_conn_input()/ctl_conn_eof() return a close reason, the owner
 * should still send what ctl_conn_output() holds (a refusing Server-Start or
 * Accept-Session) before closing the socket; no further input is processed.
 * Callbacks must not free the connection.
 */
#ifndef XTWAMP_CONTROL_CONN_H
#define XTWAMP_CONTROL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "keyfile.h"
#include "twamp_crypto.h"
#include "xtwamp_maps.h"
#include "xtwamp_wire.h"

struct ctl_conn;

/* Largest Number of Sessions accepted in Start-N/Stop-N (RFC 5938); more closes. */
#define CTL_MAX_N_SESSIONS 1024
/* Receiver ports below this are never granted; the owner picks another one. */
#define CTL_MIN_RECEIVER_PORT 1024
/*
 * Output queue bounds.  Stop reading from the client while more than
 * CTL_OUTPUT_HIGH_WATER octets wait to be sent (TCP then throttles it); a
 * reply that would take the queue beyond CTL_OUTPUT_MAX closes the connection
 * (CTL_CLOSE_PROTOCOL): a client that sends commands without reading the
 * answers must not make the server buffer without limit.  The largest reply
 * set to one command (Start-N-Acks for CTL_MAX_N_SESSIONS SIDs) is < 25 KiB.
 */
#define CTL_OUTPUT_HIGH_WATER 32768
#define CTL_OUTPUT_MAX 65536

/* Server-wide settings the connection needs (owned by the server). */
struct ctl_conn_config {
	__u32 modes_offered;	       /* XT_MODE_* bits for the greeting */
	__u32 count;		       /* PBKDF2 Count in the greeting (power of 2, >= 1024) */
	const struct tw_keyring *keys; /* NULL: no authenticated/encrypted/mixed modes */
	__u64 server_start_ntp;	       /* Server-Start Start-Time: when xtwampd started (NTP64) */
};

/* A Request-TW-Session that passed the message-level checks. */
struct ctl_session_request {
	__u8 ipvn;		     /* 4 or 6 */
	union xt_addr sender_addr;   /* zero in the request => the control peer's address */
	union xt_addr receiver_addr; /* zero in the request => our address on this connection */
	__u16 sender_port;	     /* host order */
	__u16 receiver_port;	     /* host order; 0 = server chooses (also for < 1024) */
	__u32 padding_length;
	__u64 start_time_ntp;	      /* NTP64 */
	__u64 timeout_ns;	      /* Timeout field converted to ns */
	__u8 dscp;		      /* from Type-P (DSCP form only) */
	__u16 octets_to_reflect;      /* RFC 6038 (0 unless that mode was chosen) */
	__u16 padding_to_reflect_len; /* RFC 6038 */
	__u32 mode;		      /* the connection's chosen Mode (all bits) */
	/* authenticated/encrypted: the test keys need the SID, so the owner derives
	 * them with tw_test_keys_derive(sid, aes_session_key, hmac_session_key) */
	const __u8 *aes_session_key;  /* 16 octets, NULL in unauthenticated mode */
	const __u8 *hmac_session_key; /* 32 octets, NULL in unauthenticated mode */
};

/* The owner's answer, sent as Accept-Session. */
struct ctl_session_reply {
	__u8 accept; /* enum xt_accept */
	__u16 port;  /* host order; the receiver port (maybe an alternative) */
	__u8 sid[XT_SID_LEN];
	__u16 server_octets; /* RFC 6038, usually 0 */
};

struct ctl_conn_ops {
	/* Decide on a session request; fill rep.  The connection sends it. */
	void (*request_session)(void *owner, struct ctl_conn *c,
				const struct ctl_session_request *req,
				struct ctl_session_reply *rep);
	/*
	 * Start-Sessions (sids = NULL: every session accepted on c) or
	 * Start-N-Sessions (n SIDs).  Return the Accept value for the ack; for
	 * Start-N the owner fills accepts[i] per SID (the connection groups them
	 * into Start-N-Acks).  accepts[] arrives filled with XT_ACCEPT_FAILURE,
	 * so a SID the owner does not know stays refused; for Start-N/Stop-N the
	 * return value is not used.  Start-Sessions is only passed on when at
	 * least one session was accepted since the last accepted Start-Sessions.
	 */
	__u8 (*start_sessions)(void *owner, struct ctl_conn *c, const __u8 (*sids)[XT_SID_LEN],
			       __u32 n, __u8 *accepts);
	/*
	 * Stop-Sessions (sids NULL) or Stop-N-Sessions; accept = the client's
	 * Accept (0 for Stop-N, which has none; 1 when a Stop-Sessions with
	 * the wrong Number of Sessions and Accept 0 ends the connection).
	 */
	__u8 (*stop_sessions)(void *owner, struct ctl_conn *c, const __u8 (*sids)[XT_SID_LEN],
			      __u32 n, __u8 accept, __u8 *accepts);
	/*
	 * How many sessions of c are started and not stopped by a Stop-Sessions
	 * (Stop-Sessions N check, RFC 5357 §3.8), REFWAIT expiry included.
	 */
	__u32 (*running_sessions)(void *owner, struct ctl_conn *c);
	/*
	 * Optional: derive K = PBKDF2(secret, salt, count) off the caller's
	 * event loop.  Return 0 when the job is queued: the connection waits
	 * (ctl_conn_deriving()) until the owner hands the result to
	 * ctl_conn_key_derived().  Any other value refuses the Set-Up-Response
	 * with Accept 5 (temporary resource limitation) and CTL_CLOSE_BUSY.
	 * The secret is only valid during the call.  NULL: derive in place.
	 */
	int (*derive_key)(void *owner, struct ctl_conn *c, const void *secret, size_t secret_len,
			  const __u8 salt[16], __u32 count);
};

/* Why a connection ended (for counters and one log line each). */
enum ctl_close_reason {
	CTL_OPEN = 0,
	CTL_CLOSE_CLIENT_QUIT,	/* Set-Up-Response with Mode 0, or EOF between messages */
	CTL_CLOSE_MODE_REFUSED, /* mode not offered */
	CTL_CLOSE_AUTH_FAILED,	/* unknown KeyID or wrong Token (wrong secret) */
	CTL_CLOSE_BAD_HMAC,	/* a command's HMAC did not verify */
	/* malformed/unknown/out-of-order message, wrong N, output overflow, internal error */
	CTL_CLOSE_PROTOCOL,
	CTL_CLOSE_TRUNCATED,	/* EOF inside a message */
	CTL_CLOSE_STOP_FAILURE, /* Stop-Sessions with Accept != 0 */
	CTL_CLOSE_BUSY,		/* ops->derive_key refused: too many derivations pending */
};

/*
 * cfg is copied (cfg->keys must outlive the connection); peer and local are
 * the TCP endpoints in the map ABI form (IPv4-mapped for IPv4).  NULL with
 * errno set (EINVAL: a NULL argument or callback; ENOMEM).
 */
struct ctl_conn *ctl_conn_new(const struct ctl_conn_config *cfg, const struct ctl_conn_ops *ops,
			      void *owner, const union xt_addr *peer, const union xt_addr *local);
/*
 * Greeting sent according to the client's address policy (e.g. no
 * unauthenticated mode).  Before ctl_conn_start() only.  Bits the connection
 * does not implement (above XT_MODE_SYMMETRICAL_SIZE) are dropped, and so are
 * authenticated/encrypted/mixed without a keyring (or with no key in it);
 * Modes without any security mode become 0 ("go away", RFC 4656 §3.1).
 */
void ctl_conn_set_modes(struct ctl_conn *c, __u32 modes_offered);
/*
 * Queue the Server-Greeting (random Challenge and Salt).  -EINVAL when Count
 * is not a power of 2 >= 1024 (RFC 4656 §3.1) or the greeting was queued
 * already; -EIO when no random octets could be had.
 */
int ctl_conn_start(struct ctl_conn *c);
/* Consume received bytes (any split); returns CTL_OPEN or why to close. */
enum ctl_close_reason ctl_conn_input(struct ctl_conn *c, const void *buf, size_t len);
/*
 * The key asked for by ops->derive_key (err != 0: the derivation failed).
 * Finishes the Set-Up-Response (Token, Challenge, session keys, Server-Start)
 * and then processes any input that arrived meanwhile.  Returns CTL_OPEN or
 * why to close, like ctl_conn_input().
 */
enum ctl_close_reason ctl_conn_key_derived(struct ctl_conn *c, int err,
					   const __u8 k[TW_AES_KEY_LEN]);
/* True between ops->derive_key and ctl_conn_key_derived(): do not read the socket. */
bool ctl_conn_deriving(const struct ctl_conn *c);
/* EOF from the peer. */
enum ctl_close_reason ctl_conn_eof(struct ctl_conn *c);
/* Bytes waiting to be sent; mark n of them sent. */
size_t ctl_conn_output(struct ctl_conn *c, const void **buf);
void ctl_conn_output_done(struct ctl_conn *c, size_t n);
/* True while a message is partly received (for the stalled-message timer). */
bool ctl_conn_mid_message(const struct ctl_conn *c);
__u32 ctl_conn_mode(const struct ctl_conn *c); /* 0 until Set-Up-Response accepted */
const union xt_addr *ctl_conn_peer(const struct ctl_conn *c);
const union xt_addr *ctl_conn_local(const struct ctl_conn *c);
const char *ctl_close_reason_str(enum ctl_close_reason r);
/*
 * What the connection itself decided last, for the log line: why it closed
 * ("Set-Up-Response: mode not offered") or why it refused the latest
 * request without asking the owner ("Request-TW-Session: SID is not 0").  A static string, "" when there is nothing to say; it never
 * quotes message contents.
 */
const char *ctl_conn_detail(const struct ctl_conn *c);
void ctl_conn_free(struct ctl_conn *c); /* wipes keys */

#endif /* XTWAMP_CONTROL_CONN_H */
