/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * daemon_state.h - what xtwampd knows that the maps do not: its interfaces
 * (XDP mode, timestamp source), control-server and session-table counters,
 * and the control-plane side of every negotiated session (SID, mode, path,
 * parent connection).
 *
 * Published two ways from one emitter (daemon_state_emit):
 * - the state file, /run/xtwamp/<basename of the pin path>.state, rewritten
 *   atomically (write a temporary file, rename) once a second by xtwampd
 *   and removed on clean exit.  bpffs holds only BPF objects, and a plain
 *   text file needs no JSON parser in the readers.  `xtwamp stats` and
 *   `xtwamp sessions` read it next to the maps; a file older than
 *   DS_STALE_S seconds, or whose pid is gone, means xtwampd is not running.
 *   Lines (fields separated by one space, values never contain spaces):
 *     xtwampd pid=N version=V started=UNIX updated=UNIX pin_path=DIR
 *     iface name=IF ifindex=N xdp_mode=native|generic rx_timestamps=hardware|software
 *     metric NAME{LABELS} VALUE     (NAME without the xtwamp_ prefix)
 *     session sid=HEX sender=ADDR:PORT reflector=ADDR:PORT ssid=N mode=M
 *             path=xdp|af_xdp|socket state=S in_kernel=0|1 control_peer=ADDR
 *   Sessions adopted from an xtwampd that died (loader.h) have
 *   state=orphaned, and the SID, mode and peer its state file gave them
 *   ("-" when it had none).
 * - the Prometheus exporter (metrics.h), which formats the same samples.
 */
#ifndef XTWAMP_DAEMON_STATE_H
#define XTWAMP_DAEMON_STATE_H

#include <stdio.h>
#include <time.h>
#include <linux/types.h>

#include "xtwamp_maps.h"

#define DS_RUN_DIR "/run/xtwamp"
#define DS_STALE_S 5

struct xt_loader;
struct control_server;
struct session_table;
struct auth_path;

struct daemon_view {
	const char *pin_path;
	const char *version;
	time_t started;
	const struct xt_loader *loader;
	const struct control_server *control; /* NULL: --no-control */
	const struct session_table *sessions; /* NULL: --no-control */
	const struct auth_path *auth;	      /* NULL: no authenticated modes */
};

/* Where the state file of a pin path lives; returns buf. */
const char *daemon_state_path(const char *pin_path, char *buf, size_t len);

struct ds_sink {
	/* a metric family: name without prefix, "counter" or "gauge", help */
	void (*family)(void *arg, const char *name, const char *type, const char *help);
	/* one sample of the last family; labels "" or `k="v",k2="v2"` */
	void (*sample)(void *arg, const char *name, const char *labels, __u64 value);
	void *arg;
};

/* Interface and control-plane metrics, in family order. */
void daemon_state_emit(const struct daemon_view *v, const struct ds_sink *sink);

/* ADDR:PORT as the state file writes it ([ADDR]:PORT for IPv6); returns buf. */
const char *ds_format_endpoint(const union xt_addr *a, __be16 port, char *buf, size_t len);

/* Names used in the labels. */
const char *ds_mode_name(__u32 mode); /* "unauthenticated", "authenticated", ... */
const char *ds_path_name(int path);   /* "xdp", "af_xdp", "socket" */

/* Write the state file atomically; 0 or -errno. */
int daemon_state_write(const struct daemon_view *v);
void daemon_state_remove(const char *pin_path);

#endif /* XTWAMP_DAEMON_STATE_H */
