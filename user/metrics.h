/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * metrics.h - xtwampd's Prometheus exporter: GET /metrics in the text
 * exposition format (version 0.0.4), served by libmicrohttpd.
 *
 * Everything is read at scrape time: the data-path counters, table sizes,
 * clock and residence-time histogram straight from the pinned maps
 * (stats_read), the control plane from the daemon's own structures
 * (daemon_state_emit).  Nothing is added to the data path.
 *
 * libmicrohttpd runs without threads of its own (MHD_USE_EPOLL, external
 * polling): the daemon adds metrics_fd() to its epoll loop and calls
 * metrics_handle() when it is readable and once a second, so scrapes run in
 * the daemon's thread and read its structures without locks.
 *
 * Per-session series (xtwamp_session_*{sender,reflector,ssid}) only when
 * max_sessions > 0, and for at most that many sessions; the rest are
 * counted in xtwamp_session_series_dropped.
 */
#ifndef XTWAMP_METRICS_H
#define XTWAMP_METRICS_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#include "daemon_state.h"
#include "xtwamp_maps.h"

struct metrics;

/* ADDR:PORT, [ADDR6]:PORT or :PORT (every address); 0 or -EINVAL. */
int metrics_parse_listen(const char *text, union xt_addr *addr, bool *any, __u16 *port);

/* Listen on text (see metrics_parse_listen); logs what went wrong. */
int metrics_open(const char *listen, const struct daemon_view *view, __u32 max_sessions,
		 struct metrics **out);
int metrics_fd(const struct metrics *m);
/* Serve whatever is ready; never blocks. */
void metrics_handle(struct metrics *m);
void metrics_close(struct metrics *m);

/* The whole exposition, as served (tests, promtool). 0 or -errno. */
int metrics_write(FILE *f, const struct daemon_view *view, __u32 max_sessions);

#endif /* XTWAMP_METRICS_H */
