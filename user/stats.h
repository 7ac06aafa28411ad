/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * stats.h - read the reflector's pinned maps: counters, table sizes, clock.
 *
 * Contract: stats_read() only reads (never creates, updates or deletes) the
 * pins under a pin directory and fills a struct xt_stats; the printers only
 * format that struct.  That split lets `xtwamp stats` and a later Prometheus
 * exporter share one reader.  The counters map is required; the flows,
 * sessions and config maps are optional (reported as absent).  Functions
 * return 0 or -errno.
 */
#ifndef XTWAMP_STATS_H
#define XTWAMP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#include "xtwamp_maps.h"

struct xt_stats {
	__u64 counters[XT_CNT__COUNT]; /* summed over all possible CPUs */
	int ncpus;
	bool has_flows, has_sessions, has_config;
	__u64 flows;	/* entries in xtwamp_flows (stateful light senders) */
	__u64 sessions; /* entries in xtwamp_sessions (negotiated sessions) */
	struct xt_config config;
	bool clock_published;	 /* XT_CFG_CLOCK_VALID */
	bool clock_synchronised; /* S bit of config.error_estimate */
	__u64 clock_error_ns;	 /* xt_error_estimate_decode_ns(config.error_estimate) */
	bool has_residence;	 /* xtwamp_resid (older data paths lack it) */
	struct xt_res_bucket residence[XT_RES_BUCKETS]; /* summed over CPUs, not cumulative */
};

/* Upper bounds of the residence buckets in ns (the last is ~0: +Inf). */
extern const __u64 stats_residence_bounds_ns[XT_RES_BUCKETS];

/*
 * Call fn for every entry of the pinned hash map name (XT_MAP_SESSIONS or
 * XT_MAP_FLOWS) under pin_path, at most max entries (0: all); fn returning
 * non-zero stops the walk.  0 or -errno (-ENOENT: no such pin).
 */
int stats_foreach_entry(const char *pin_path, const char *name, __u32 max,
			int (*fn)(const struct xt_session_key *k, const struct xt_session *v,
				  void *arg),
			void *arg);

/*
 * xtwampd's state file (daemon_state.h): present when the file exists,
 * running when its pid is alive and it was rewritten within DS_STALE_S
 * seconds.  lines holds every line but the first, as written.
 */
struct xt_daemon_state {
	bool present, running;
	char path[256];
	int pid;
	long long started, updated;
	char version[32];
	char **lines;
	size_t n_lines;
};

int stats_read_daemon(const char *pin_path, struct xt_daemon_state *ds);
void stats_free_daemon(struct xt_daemon_state *ds);
/* The state file's "session" line of this key, or NULL. */
const char *stats_session_line(const struct xt_daemon_state *ds, const struct xt_session_key *k);
/* Value of " key=" in a state-file line, copied to buf ("" when absent); returns buf. */
const char *stats_field(const char *line, const char *key, char *buf, size_t len);

/* Counter metadata from XT_COUNTERS, by enum xt_counter; NULL when out of range. */
const char *stats_counter_name(unsigned id);
const char *stats_counter_help(unsigned id);

/*
 * Read everything under pin_path (NULL: XT_PIN_PATH_DEFAULT).  Errors:
 * -ENOENT no counters pin, -EPERM/-EACCES not privileged, -EPROTO a map
 * whose layout is not what this build expects, other -errno from bpf().
 */
int stats_read(const char *pin_path, struct xt_stats *out);

/* One line saying what went wrong and the likely fix; returns buf. */
const char *stats_strerror(int err, const char *pin_path, char *buf, size_t len);

/* Human table: clock, table sizes, then name / value / help per counter. */
void stats_print_table(FILE *f, const char *pin_path, const struct xt_stats *st);
/* The daemon's part (interfaces, control plane), from its state file. */
void stats_print_daemon_table(FILE *f, const struct xt_daemon_state *ds);
/*
 * {"pin_path": "...", "counters": {"rx_frames_total": N, ...},
 *  "flows": N|null, "sessions": N|null,
 *  "clock": {"published": b, "synchronised": b, "error_estimate": N, "error_ns": N} | null,
 *  "residence": {"le_ns": [...], "count": [...], "sum_ns": N} | null,
 *  "daemon": {"running": b, "pid": N, "version": "...", "started": UNIX, "updated": UNIX,
 *             "interfaces": [{"name", "ifindex", "xdp_mode", "rx_timestamps"}],
 *             "metrics": [{"name": "...", "labels": {...}, "value": N}]} | null}
 * (residence "count" is per bucket, not cumulative; the last bound is +Inf: null)
 */
void stats_print_json(FILE *f, const char *pin_path, const struct xt_stats *st,
		      const struct xt_daemon_state *ds);

void stats_usage(FILE *f);
void sessions_usage(FILE *f);

/* `xtwamp sessions [--json] [--pin-path DIR]`; returns the exit code. */
int sessions_main(int argc, char **argv);

/* `xtwamp stats [--json] [--watch SECONDS] [--pin-path DIR]`; returns the exit code. */
int stats_main(int argc, char **argv);

#endif /* XTWAMP_STATS_H */
