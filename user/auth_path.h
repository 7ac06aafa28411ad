/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * auth_path.h - the reflector for authenticated and encrypted TWAMP-Test
 * sessions, which XDP cannot serve (AES and HMAC-SHA1 per packet).
 *
 * The XDP program redirects packets of sessions flagged XT_SESS_USERSPACE to
 * an AF_XDP socket per receive queue, with T2 in the frame metadata (struct
 * xt_xsk_meta).  This module owns those sockets (libxdp xsk API, copy mode
 * everywhere, zero-copy where the driver offers it, need-wakeup), decrypts
 * and verifies each request, builds the 112-octet reflector packet (RFC 5357
 * §4.2.1, erratum 5045), takes T3 as late as possible, seals it and
 * transmits it on the same socket.  Where AF_XDP cannot be set up on an
 * interface it says so once and serves the sessions through a UDP socket
 * bound to the session's receiver port instead (T2 from SO_TIMESTAMPNS).
 *
 * Single-threaded: the daemon's event loop calls auth_path_handle() when one
 * of auth_path_fds() is readable.  Functions return 0 or -errno.
 */
#ifndef XTWAMP_AUTH_PATH_H
#define XTWAMP_AUTH_PATH_H

#include <linux/types.h>

#include "twamp_crypto.h"
#include "xtwamp_maps.h"

struct xt_loader;
struct auth_path;

enum xt_session_path {
	XT_PATH_XDP = 0, /* unauthenticated / mixed: reflected in XDP */
	XT_PATH_AF_XDP,  /* authenticated / encrypted via AF_XDP */
	XT_PATH_SOCKET,  /* authenticated / encrypted via a UDP socket (fallback) */
};

struct auth_session {
	struct xt_session_key key; /* sender/reflector address and port */
	__u8 sid[16];
	__u32 mode;                /* XT_MODE_AUTHENTICATED or XT_MODE_ENCRYPTED */
	struct tw_test_keys keys;  /* from tw_test_keys_derive() */
	__u8 dscp;                 /* Type-P DSCP for the replies */
	__u64 stop_deadline_ns;    /* TAI ns; 0 = running; later packets are dropped */
};

/* Per-path counters, for stats and tests. */
struct auth_path_stats {
	__u64 rx_packets;
	__u64 reflected;
	__u64 drop_hmac;      /* HMAC did not verify: never reflected */
	__u64 drop_short;     /* shorter than 48 octets */
	__u64 drop_unknown;   /* no such session (or stopped) */
	__u64 tx_errors;
};

/*
 * Set up AF_XDP sockets on every interface the loader attached to (all
 * receive queues, up to XT_MAX_QUEUES) and insert them into the xtwamp_xsks
 * map.  Never fails because AF_XDP is unavailable: it logs one line per
 * interface and falls back to sockets.
 */
int auth_path_open(struct auth_path **out, struct xt_loader *loader);

/*
 * Serve a session; *path says which path does.  The caller has written (or
 * will write) the xtwamp_sessions entry with XT_SESS_USERSPACE.
 */
int auth_path_add(struct auth_path *p, const struct auth_session *s, enum xt_session_path *path);
/* Stop-Sessions: reflect until deadline, then drop. */
int auth_path_stop(struct auth_path *p, const __u8 sid[16], __u64 stop_deadline_ns);
void auth_path_remove(struct auth_path *p, const __u8 sid[16]);

/* File descriptors to poll for input (EPOLLIN); returns how many (<= max). */
int auth_path_fds(struct auth_path *p, int *fds, int max);
/* Process what is ready on fd (drain RX, reflect, kick TX). */
void auth_path_handle(struct auth_path *p, int fd);

void auth_path_get_stats(const struct auth_path *p, struct auth_path_stats *st);
void auth_path_close(struct auth_path *p);

#endif /* XTWAMP_AUTH_PATH_H */
