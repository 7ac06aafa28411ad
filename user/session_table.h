/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * session_table.h - the daemon's authoritative list of negotiated TWAMP-Test
 * sessions (RFC 5357 §3.5-3.8), and what each one holds in the kernel: its
 * xtwamp_sessions entry, the XT_PORT_SESSIONS flag of its receiver port, a
 * UDP socket that keeps the port from other programs, and (authenticated and
 * encrypted modes) its place in the AF_XDP path.
 *
 * Life of a session:
 *   request  -> ACCEPTED: SID chosen, port claimed, map entry written with
 *               state XT_SESS_ACCEPTED (the data path drops its packets);
 *   start    -> STARTED: state XT_SESS_STARTED, reflected;
 *   stop     -> STOPPING: stop_deadline_ns = now + the session's Timeout,
 *               after which the data path drops and the sweep deletes it;
 *   REFWAIT  -> EXPIRED: a started session that received nothing for
 *               REFWAIT (RFC 5357 §4.2) loses everything it held in the
 *               kernel but stays on record, so the client's Stop-Sessions
 *               still counts it (RFC 5357 §3.8 Number of Sessions);
 *   owner closes -> everything of that connection is removed at once.
 *
 * Decisions (see the RFC references at each):
 * - Receiver port: the one requested when free, 862 included (RFC 8545
 *   §5.1).  "Free" means no other program has it bound: the table binds a
 *   UDP socket on (receiver address, port) and keeps it for as long as a
 *   session uses the pair.  Ports of xtwampd itself are not "taken": its
 *   own TWAMP Light ports, and ports that other sessions use (the data path
 *   tells sessions apart by the sender's address and port).  Otherwise, and
 *   when the request says port 0, an alternative from the dynamic range
 *   49152-65535 is proposed with Accept 0 (RFC 5357 §3.5 as corrected by
 *   erratum 1587, restated in RFC 8545 §5.1).  STAMP light ports are never
 *   used: the data path would read a SSID out of a TWAMP packet's padding.
 * - Limits (RFC 4656 §3.3 wording): the overall --max-sessions is a
 *   temporary resource limitation (Accept 5: other clients' sessions end
 *   and free it); --max-sessions-per-connection is a permanent one for the
 *   asking connection (Accept 4: asking again on it cannot succeed until it
 *   gives up sessions of its own).  No free port: Accept 5.
 * - Policy refusals, Accept 1: test traffic towards anyone but the control
 *   client (RFC 4656 §6.2, also checked by control_conn), a receiver
 *   address that is not on this host.
 * - Accept 3: authenticated/encrypted without an auth path; a sender port
 *   of 0 (the data path drops it); RFC 6038 Reflect Octets without
 *   Symmetrical Size on the XDP path, whose padding to reflect starts at
 *   octet 14 where the XDP reply header goes (RFC 6038 §4.3: Accept 3 when
 *   the reflector cannot produce it); with Symmetrical Size it starts at
 *   octet 41 and XDP returns it unchanged.
 * - Start-Sessions starts at once rather than at the requested Start Time:
 *   a reflector that answers a little early harms no measurement, and the
 *   client's own senders follow Start Time (RFC 4656 §3.7).
 *
 * Authenticated/encrypted sessions and the port sockets: the auth path
 * keeps one UDP socket per port on every address (its fallback, and the
 * safety net behind AF_XDP), which must be the socket that receives what
 * the data path passes up.  So the ports of authenticated/encrypted
 * sessions and the ports this table reserves per address are kept apart: a
 * request that would mix them gets an alternative port.  The auth path's
 * socket then is the reservation of its ports, and goes with its last
 * session (auth_path_remove()).  TWAMP Light ports are shared by both
 * kinds: xtwampd lends the loader's sockets on them to the auth path with
 * auth_path_set_port_socket() at start-up.
 *
 * Map writes are read-modify-write of the whole value (no spin lock in
 * struct xt_session): a packet reflected in the microseconds between the
 * read and the write of Stop-Sessions may go uncounted.
 *
 * Single-threaded, like the daemon.  Functions return 0 or -errno.
 */
#ifndef XTWAMP_SESSION_TABLE_H
#define XTWAMP_SESSION_TABLE_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#include "auth_path.h"
#include "control_conn.h"
#include "xtwamp_maps.h"

struct session_table;
struct st_session;

/* Dynamic ports (RFC 6335 §6) for alternative receiver ports. */
#define ST_DYN_PORT_MIN 49152
#define ST_DYN_PORT_MAX 65535

/*
 * A control connection as the table sees it; the control server embeds one
 * per connection.  The caller sets peer and local and zeroes the rest.
 */
struct st_owner {
	union xt_addr peer;  /* the Control-Client: test packets may only go there */
	union xt_addr local; /* our end of the control connection */
	/* maintained by the table */
	struct st_session *sessions; /* this connection's records */
	__u32 n_sessions;	     /* records: accepted, started, stopping, expired */
	__u32 n_active;		     /* started, not stopped, not expired: SERVWAIT paused */
	__u32 n_running;	     /* started, not stopped (expired included): Stop-Sessions N */
};

/* Why a request was refused, for counters and the rate-limited log line. */
#define ST_REFUSALS(X)                                                                 \
	X(LIMIT_TOTAL, "limit_total", "--max-sessions reached (Accept 5)")             \
	X(LIMIT_CONNECTION, "limit_connection",                                        \
	  "--max-sessions-per-connection reached (Accept 4)")                          \
	X(THIRD_PARTY, "third_party", "sender is not the control client (Accept 1)")   \
	X(NOT_LOCAL, "not_local", "receiver address is not on this host (Accept 1)")   \
	X(UNSUPPORTED, "unsupported", "mode or request not supported here (Accept 3)") \
	X(NO_PORT, "no_port", "no free receiver port (Accept 5)")                      \
	X(INTERNAL, "internal", "map, socket or AF_XDP failure (Accept 2)")

enum st_refusal {
#define ST_ENUM(id, name, help) ST_REFUSE_##id,
	ST_REFUSALS(ST_ENUM)
#undef ST_ENUM
		ST_REFUSE__COUNT
};

/* Why a session went away. */
#define ST_REMOVALS(X)                                                                  \
	X(STOPPED, "stopped", "Stop-Sessions and its Timeout passed")                   \
	X(REFWAIT, "refwait", "started, nothing received for --refwait (RFC 5357 4.2)") \
	X(CONNECTION_CLOSED, "connection_closed", "its control connection closed")      \
	X(SHUTDOWN, "shutdown", "xtwampd stopping")

enum st_removal {
#define ST_ENUM(id, name, help) ST_REMOVE_##id,
	ST_REMOVALS(ST_ENUM)
#undef ST_ENUM
		ST_REMOVE__COUNT
};

enum st_mode_class {
	ST_MODE_UNAUTHENTICATED = 0,
	ST_MODE_AUTHENTICATED,
	ST_MODE_ENCRYPTED,
	ST_MODE_MIXED,
	ST_MODE__COUNT,
};

struct session_table_stats {
	__u64 accepted;		/* Accept 0 answers */
	__u64 alternative_port; /* ... of which proposed another port */
	__u64 refused[ST_REFUSE__COUNT];
	__u64 by_mode[ST_MODE__COUNT]; /* accepted sessions by security mode */
	__u64 by_path[3];	       /* ... and by enum xt_session_path */
	__u64 started;
	__u64 stopped;
	__u64 removed[ST_REMOVE__COUNT];
	__u32 live;    /* sessions in xtwamp_sessions now */
	__u32 records; /* records, expired ones included */
	__u32 ports;   /* receiver ports in use */
};

struct session_table_config {
	int sessions_fd;	/* xtwamp_sessions */
	int ports_fd;		/* xtwamp_ports */
	struct auth_path *auth; /* NULL: authenticated/encrypted sessions refused (Accept 3) */
	__u32 max_sessions;
	__u32 max_per_owner;
	__u64 refwait_ns; /* 0: never */
	/* CLOCK_TAI ns, the data path's clock; NULL = the real one (tests pass a fake) */
	__u64 (*now_tai_ns)(void);
	/* range of alternative ports; 0/0 = ST_DYN_PORT_MIN..ST_DYN_PORT_MAX */
	__u16 port_min;
	__u16 port_max;
};

int session_table_new(const struct session_table_config *cfg, struct session_table **out);
/* Remove every session (maps, ports, sockets) and free the table. */
void session_table_free(struct session_table *t);

/* Request-TW-Session: decide and fill rep (ctl_conn_ops.request_session). */
void session_table_request(struct session_table *t, struct st_owner *o,
			   const struct ctl_session_request *req, struct ctl_session_reply *rep);
/* Start-Sessions (sids NULL: every accepted session of o) / Start-N-Sessions. */
__u8 session_table_start(struct session_table *t, struct st_owner *o,
			 const __u8 (*sids)[XT_SID_LEN], __u32 n, __u8 *accepts);
/* Stop-Sessions (sids NULL: every running session of o) / Stop-N-Sessions. */
__u8 session_table_stop(struct session_table *t, struct st_owner *o, const __u8 (*sids)[XT_SID_LEN],
			__u32 n, __u8 *accepts);
/* The connection closed: remove all its sessions now. */
void session_table_close_owner(struct session_table *t, struct st_owner *o);
/*
 * Delete sessions whose stop deadline passed and expire started ones idle
 * for REFWAIT.  Call about once a second.  At most ST_SWEEP_BUDGET sessions
 * are removed or expired per call: each one is several syscalls (map entry,
 * port flag, reservation socket), and 10,000 stopped at once held the
 * daemon's only loop, every other client's control and authenticated test
 * traffic with it, for 80 ms.  The data path already drops their packets
 * (the stop deadline is in the map), so the rest waits for the next call.
 */
#define ST_SWEEP_BUDGET 1024
void session_table_sweep(struct session_table *t);

void session_table_get_stats(const struct session_table *t, struct session_table_stats *st);

/* One record as the daemon's state file and metrics show it (session_table_foreach). */
struct st_session_info {
	struct xt_session_key key;
	__u8 sid[XT_SID_LEN];
	__u32 mode;		   /* the connection's Mode */
	const char *state;	   /* "accepted", "started", "stopping", "expired" */
	enum xt_session_path path; /* XDP, AF_XDP or socket */
	bool in_kernel;		   /* has its xtwamp_sessions entry */
	union xt_addr owner_peer;  /* the control connection's client */
	union xt_addr owner_local; /* ... and our end of it */
};
/* SIGHUP: new limits; sessions over them are kept (only new requests see them). */
void session_table_set_limits(struct session_table *t, __u32 max_sessions, __u32 max_per_owner,
			      __u64 refwait_ns);
/* Call fn for every record; stops early when fn returns non-zero. */
void session_table_foreach(const struct session_table *t,
			   int (*fn)(const struct st_session_info *s, void *arg), void *arg);
/* Counters as "name value" lines (Prometheus-style names), and in the log. */
/*
 * The reservation of a receiver port: a UDP socket bound to (addr, port),
 * IPv6-only for IPv6 addresses, with a minimal receive buffer (the XDP
 * program answers the test packets; nothing is ever read from it).
 * 0 with *fd_out, or -errno.  The loader reserves adopted sessions' ports
 * with it too.
 */
int session_table_bind_port(const union xt_addr *addr, __u16 port, int *fd_out);

void session_table_print_stats(const struct session_table *t, FILE *out);
void session_table_log_stats(const struct session_table *t);

/*
 * At most one log line per reason every ST_LOG_INTERVAL_NS: refusals come
 * in floods when a client misbehaves.  True when a line may be logged now;
 * *suppressed is how many were held back since the previous one.
 */
#define ST_LOG_INTERVAL_NS (10ULL * 1000000000ULL)
struct st_log_limit {
	__u64 next_ns;
	__u64 suppressed;
};
bool st_log_limit_ok(struct st_log_limit *l, __u64 now_ns, __u64 *suppressed);

#endif /* XTWAMP_SESSION_TABLE_H */
