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

#include <stdbool.h>
#include <linux/types.h>

#include "twamp_crypto.h"
#include "xtwamp_maps.h"

struct xt_loader;
struct auth_path;

enum xt_session_path {
	XT_PATH_XDP = 0, /* unauthenticated / mixed: reflected in XDP */
	XT_PATH_AF_XDP,	 /* authenticated / encrypted via AF_XDP */
	XT_PATH_SOCKET,	 /* authenticated / encrypted via a UDP socket (fallback) */
};

struct auth_session {
	struct xt_session_key key; /* sender/reflector address and port */
	__u8 sid[16];
	__u32 mode;		  /* XT_MODE_AUTHENTICATED or XT_MODE_ENCRYPTED */
	struct tw_test_keys keys; /* from tw_test_keys_derive() */
	__u8 dscp;		  /* Type-P DSCP for the replies */
	__u64 stop_deadline_ns;	  /* TAI ns; 0 = running; later packets are dropped */
};

/* Per-path counters, for stats and tests. */
struct auth_path_stats {
	__u64 rx_packets;
	__u64 reflected;
	__u64 drop_hmac;    /* HMAC did not verify: never reflected */
	__u64 drop_short;   /* shorter than 48 octets */
	__u64 drop_unknown; /* no such session (or stopped) */
	__u64 tx_errors;
	/* added with the implementation */
	__u64 drop_malformed; /* AF_XDP frame: bad lengths or UDP/IPv4 checksum */
	__u64 no_metadata;    /* AF_XDP frame without struct xt_xsk_meta: T2 read late */
};

/* What one session saw (auth_path_session_stats). */
struct auth_session_stats {
	enum xt_session_path path; /* where its packets are expected (auth_path_add) */
	__u32 next_seq;		   /* reflector sequence number of the next reply */
	__u64 rx_packets;	   /* requests that reached the session (any path) */
	__u64 reflected_af_xdp;	   /* replies sent through AF_XDP */
	__u64 reflected_socket;	   /* replies sent through the UDP socket */
	__u64 drop_hmac;
	__u64 drop_stopped; /* after the stop deadline */
};

/* Knobs of auth_path_open_opts(); all false = auth_path_open(). */
struct auth_path_opts {
	bool no_af_xdp;	  /* UDP sockets only (tests, or an operator's choice) */
	bool no_zerocopy; /* copy mode even where the driver offers zero-copy */
};

/*
 * Set up AF_XDP sockets on every interface the loader attached to (all
 * receive queues, up to XT_MAX_QUEUES) and insert them into the xtwamp_xsks
 * map.  Never fails because AF_XDP is unavailable: it logs one line per
 * interface and falls back to sockets.
 */
int auth_path_open(struct auth_path **out, struct xt_loader *loader);
int auth_path_open_opts(struct auth_path **out, struct xt_loader *loader,
			const struct auth_path_opts *o);

/*
 * Multi-interface limit: xtwamp_xsks is keyed by receive queue only, so one
 * XSKMAP cannot tell two interfaces' queue 0 apart (a frame redirected to
 * another device's socket is dropped by the kernel).  With more than one
 * attached interface AF_XDP is therefore not used at all and every
 * interface is served by UDP sockets (logged per interface).
 */

/*
 * Serve a session; *path says which path does.  The caller has written (or
 * will write) the xtwamp_sessions entry with XT_SESS_USERSPACE.
 *
 * *path is XT_PATH_AF_XDP when the session's reflector address is on an
 * interface with AF_XDP sockets, else XT_PATH_SOCKET (the per-session
 * counters of auth_path_session_stats() show what really served it).  In
 * both cases a UDP socket on the reflector port catches what the XDP
 * program passes to the stack (no AF_XDP socket on that queue, address on
 * an interface without XDP).  That socket is shared by every session on the
 * port (dispatched by source and destination address) and closed with the
 * last one.  -EADDRINUSE: another socket holds the port and the session
 * needs the socket path: hand that socket over with
 * auth_path_set_port_socket() first.  -EEXIST: same SID or same key.
 * The reflector sequence numbers start at 0; tx_packets and next_seq of
 * the xtwamp_sessions entry stay 0 for these sessions (the XDP program
 * counts rx_packets / first_rx_ns / last_rx_ns there).
 */
int auth_path_add(struct auth_path *p, const struct auth_session *s, enum xt_session_path *path);

/*
 * Lend the UDP socket that already holds port (e.g. the control server's
 * reservation of the port it returned in Accept-Session, or one of
 * loader->port_fds) so that the fallback path reads and answers through
 * it.  auth_path sets its receive options and never closes it; the caller
 * closes it after the last session on the port is removed (or after
 * auth_path_close()).  -EEXIST if auth_path already has a socket there.
 */
int auth_path_set_port_socket(struct auth_path *p, __u16 port, int fd);
/* Stop-Sessions: reflect until deadline, then drop. */
int auth_path_stop(struct auth_path *p, const __u8 sid[16], __u64 stop_deadline_ns);
void auth_path_remove(struct auth_path *p, const __u8 sid[16]);

/*
 * File descriptors to poll for input (EPOLLIN); returns how many (<= max).
 * Implementation: exactly one, an epoll instance over every AF_XDP and UDP
 * socket of the module, valid from open to close: register it once, even
 * though sockets come and go with sessions.
 */
int auth_path_fds(struct auth_path *p, int *fds, int max);
/* Process what is ready on fd (drain RX, reflect, kick TX); never blocks. */
void auth_path_handle(struct auth_path *p, int fd);

/* Totals over both paths. */
void auth_path_get_stats(const struct auth_path *p, struct auth_path_stats *st);
/* One path's counters (XT_PATH_AF_XDP or XT_PATH_SOCKET; zeros for XT_PATH_XDP). */
void auth_path_get_path_stats(const struct auth_path *p, enum xt_session_path path,
			      struct auth_path_stats *st);
/* -ENOENT if no session has that SID. */
int auth_path_session_stats(const struct auth_path *p, const __u8 sid[16],
			    struct auth_session_stats *st);
/* How many interfaces / receive queues have AF_XDP sockets, and how many are zero-copy. */
void auth_path_af_xdp_info(const struct auth_path *p, int *ifaces, int *queues, int *zerocopy);
void auth_path_close(struct auth_path *p);

/* The interface with this index was deleted: close its AF_XDP queues. */
void auth_path_iface_gone(struct auth_path *p, int ifindex);

#endif /* XTWAMP_AUTH_PATH_H */
