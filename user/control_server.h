/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * control_server.h - the TWAMP-Control server (RFC 5357 §3): listening TCP
 * sockets and the connections accepted on them, each driven by a
 * struct ctl_conn (control_conn.h) whose session decisions go to the
 * session table.
 *
 * Event driven: no thread or process per connection.  The one exception is
 * the PBKDF2 of the keyed modes (~9 ms at Count 2^15): it runs on a single
 * worker thread with at most 64 jobs pending (CS_KDF_JOBS) (more are refused with
 * Accept 5 and counted as kdf_busy), and its results come back through an
 * eventfd in the server's epoll set, so a burst of keyed handshakes does not
 * stall the loop.
 * Every socket is non-blocking and registered in the server's own epoll
 * instance; the daemon watches that one descriptor (control_server_fd())
 * and calls control_server_handle() when it is readable, and
 * control_server_tick() about once a second for the timers.
 *
 * Policy:
 * - at accept: --control-allow (peers outside are refused), --max-connections
 *   overall and --max-connections-per-client per peer address; a refused
 *   connection is closed at once, counted and logged (at most one line per
 *   reason every 10 s);
 * - --require-auth: peers in those prefixes are offered only authenticated
 *   and encrypted modes (ctl_conn_set_modes());
 * - SERVWAIT (RFC 5357 §3.1): a connection with no input for --servwait is
 *   closed; the clock is paused while it has started sessions and restarts
 *   when the last of them is stopped or expired by REFWAIT ("as though a
 *   Stop-Sessions command had been received").  A message that stays
 *   incomplete for --servwait closes the connection whether or not sessions
 *   run (RFC 4656 §3: expected messages must complete in reasonable time;
 *   no slowloris);
 * - the DSCP of the client's SYN is used for our packets of the connection
 *   (RFC 5357 §3.1 SHOULD), read with TCP_SAVE_SYN;
 * - while more than CTL_OUTPUT_HIGH_WATER octets wait to be sent, the
 *   connection is not read: a client that does not read its answers is
 *   throttled by TCP instead of growing our buffers.
 *
 * One info line per connection opened and closed (peer and reason, never a
 * key or a message's contents).  Functions return 0 or -errno.
 */
#ifndef XTWAMP_CONTROL_SERVER_H
#define XTWAMP_CONTROL_SERVER_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#include "daemon_opts.h"
#include "keyfile.h"
#include "session_table.h"

struct control_server;

/* Connections refused at accept. */
#define CS_REFUSALS(X)                                                          \
	X(NOT_ALLOWED, "not_allowed", "outside --control-allow")                \
	X(LIMIT_TOTAL, "limit_total", "--max-connections reached")              \
	X(LIMIT_CLIENT, "limit_client", "--max-connections-per-client reached") \
	X(NO_RESOURCES, "no_resources", "out of file descriptors or memory")

enum cs_refusal {
#define CS_ENUM(id, name, help) CS_REFUSE_##id,
	CS_REFUSALS(CS_ENUM)
#undef CS_ENUM
		CS_REFUSE__COUNT
};

/* Why connections ended: the state machine's reasons, then the server's own. */
#define CS_CLOSES(X)                    \
	X(CLIENT_QUIT, "client_quit")   \
	X(MODE_REFUSED, "mode_refused") \
	X(AUTH_FAILED, "auth_failed")   \
	X(BAD_HMAC, "bad_hmac")         \
	X(PROTOCOL, "protocol")         \
	X(TRUNCATED, "truncated")       \
	X(STOP_FAILURE, "stop_failure") \
	X(KDF_BUSY, "kdf_busy")         \
	X(SERVWAIT, "servwait")         \
	X(STALLED, "stalled_message")   \
	X(IO_ERROR, "io_error")         \
	X(SHUTDOWN, "shutdown")

enum cs_close {
#define CS_ENUM(id, name) CS_CLOSE_##id,
	CS_CLOSES(CS_ENUM)
#undef CS_ENUM
		CS_CLOSE__COUNT
};

struct control_server_stats {
	__u64 accepted;
	__u64 refused[CS_REFUSE__COUNT];
	__u64 closed[CS_CLOSE__COUNT];
	__u64 require_auth; /* connections offered authenticated/encrypted modes only */
	__u32 open;
};

struct control_server_config {
	const struct xtwampd_opts *opts; /* port, addresses, limits, timers, prefixes */
	__u32 modes;			 /* Modes offered (opts->modes as the daemon can serve) */
	const struct tw_keyring *keys;	 /* NULL without --keys */
	__u64 server_start_ntp;		 /* Server-Start Start-Time: when xtwampd started */
	struct session_table *sessions;
	/* CLOCK_MONOTONIC ns for SERVWAIT; NULL = the real clock (tests pass a fake) */
	__u64 (*now_ns)(void);
};

/*
 * Listen on every address of the options (or the default dual-stack
 * socket).  Logs one line that says what to do when a port is taken.
 */
int control_server_open(const struct control_server_config *cfg, struct control_server **out);
/* The descriptor to watch for EPOLLIN: the server's own epoll instance. */
int control_server_fd(const struct control_server *s);
/* Accept, read and write whatever is ready; never blocks. */
void control_server_handle(struct control_server *s);
/* SERVWAIT and stalled-message timers; call about once a second. */
void control_server_tick(struct control_server *s);
/* Where it listens, e.g. "[::]:862" or "192.0.2.1:862, [2001:db8::1]:862". */
const char *control_server_describe(const struct control_server *s, char *buf, size_t len);
void control_server_get_stats(const struct control_server *s, struct control_server_stats *st);
void control_server_print_stats(const struct control_server *s, FILE *out);
/* Connection counters in the log (the session table logs its own). */
void control_server_log_stats(const struct control_server *s);
/* Close every connection (removing its sessions) and the listening sockets. */
void control_server_close(struct control_server *s);

#endif /* XTWAMP_CONTROL_SERVER_H */
