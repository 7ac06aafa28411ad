// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* metrics.c - see metrics.h */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "addr.h"
#include "log.h"
#include "metrics.h"
#include "stats.h"

#define PREFIX "xtwamp_"
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics {
	struct MHD_Daemon *mhd;
	const struct daemon_view *view;
	__u32 max_sessions;
	__u64 scrapes;
};

int metrics_parse_listen(const char *text, union xt_addr *addr, bool *any, __u16 *port)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	char *end;
	unsigned long p;
	size_t hlen;

	colon = strrchr(text, ':');
	if (!colon)
		return -EINVAL;
	hlen = (size_t)(colon - text);
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || p == 0 || p > 65535)
		return -EINVAL;
	*port = (__u16)p;
	*any = hlen == 0;
	if (*any)
		return 0;
	if (host[0] == '[') {
		if (hlen < 3 || host[hlen - 1] != ']')
			return -EINVAL;
		host[hlen - 1] = '\0';
		if (!strchr(host + 1, ':'))
			return -EINVAL;
		return xt_addr_parse(host + 1, addr) ? -EINVAL : 0;
	}
	if (strchr(host, ':')) /* IPv6 needs brackets: [2001:db8::1]:9862 */
		return -EINVAL;
	return xt_addr_parse(host, addr) ? -EINVAL : 0;
}

/* ---- the exposition ------------------------------------------------------ */

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name, help, name, type);
}

static void sample(FILE *f, const char *name, const char *labels, __u64 value)
{
	fprintf(f, PREFIX "%s%s%s%s %llu\n", name, *labels ? "{" : "", labels, *labels ? "}" : "",
		(unsigned long long)value);
}

static void sink_family(void *arg, const char *name, const char *type, const char *help)
{
	family(arg, name, type, help);
}

static void sink_sample(void *arg, const char *name, const char *labels, __u64 value)
{
	sample(arg, name, labels, value);
}

static void write_residence(FILE *f, const struct xt_stats *st)
{
	__u64 cum = 0, sum_ns = 0;
	char le[32];

	family(f, "residence_time_seconds", "histogram",
	       "reflector residence time T3 - T2 of packets reflected in XDP");
	for (int b = 0; b < XT_RES_BUCKETS; b++) {
		cum += st->residence[b].count;
		sum_ns += st->residence[b].sum_ns;
		if (b == XT_RES_BUCKETS - 1)
			snprintf(le, sizeof(le), "le=\"+Inf\"");
		else
			snprintf(le, sizeof(le), "le=\"%g\"",
				 (double)stats_residence_bounds_ns[b] / 1e9);
		sample(f, "residence_time_seconds_bucket", le, cum);
	}
	fprintf(f, PREFIX "residence_time_seconds_sum %.9f\n", (double)sum_ns / 1e9);
	sample(f, "residence_time_seconds_count", "", cum);
}

static void write_maps(FILE *f, const struct xt_stats *st)
{
	for (unsigned id = 0; id < XT_CNT__COUNT; id++) {
		family(f, stats_counter_name(id), "counter", stats_counter_help(id));
		sample(f, stats_counter_name(id), "", st->counters[id]);
	}
	if (st->has_flows) {
		family(f, "light_flows", "gauge", "stateful TWAMP Light senders in xtwamp_flows");
		sample(f, "light_flows", "", st->flows);
	}
	if (st->has_sessions) {
		family(f, "session_entries", "gauge", "entries in xtwamp_sessions");
		sample(f, "session_entries", "", st->sessions);
	}
	if (st->has_config) {
		family(f, "clock_published", "gauge",
		       "1 when xtwampd has published the clock to the data path");
		sample(f, "clock_published", "", st->clock_published);
		family(f, "clock_synchronised", "gauge",
		       "1 when the clock is synchronised (S bit of the Error Estimate)");
		sample(f, "clock_synchronised", "", st->clock_synchronised);
		family(f, "clock_error_seconds", "gauge",
		       "the Error Estimate sent in replies, in seconds (+Inf: unbounded)");
		if (st->clock_error_ns == UINT64_MAX)
			fputs(PREFIX "clock_error_seconds +Inf\n", f);
		else
			fprintf(f, PREFIX "clock_error_seconds %.9f\n",
				(double)st->clock_error_ns / 1e9);
	}
	if (st->has_residence)
		write_residence(f, st);
}

struct session_series {
	FILE *f;
	const char *what; /* "rx" or "tx" */
	__u32 n, max;
};

static int session_line(const struct xt_session_key *k, const struct xt_session *v, void *arg)
{
	struct session_series *s = arg;
	char sa[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN];

	if (s->n >= s->max)
		return 1;
	s->n++;
	xt_addr_format(&k->sender_addr, sa, sizeof(sa));
	xt_addr_format(&k->reflector_addr, ra, sizeof(ra));
	fprintf(s->f,
		PREFIX "session_%s_packets_total{sender=\"%s\",sender_port=\"%u\","
		       "reflector=\"%s\",reflector_port=\"%u\",ssid=\"%u\"} %llu\n",
		s->what, sa, ntohs(k->sender_port), ra, ntohs(k->reflector_port), ntohs(k->ssid),
		(unsigned long long)(s->what[0] == 'r' ? v->rx_packets : v->tx_packets));
	return 0;
}

static void write_sessions(FILE *f, const char *pin_path, const struct xt_stats *st, __u32 max)
{
	struct session_series s = { .f = f, .max = max };
	__u64 total = st->has_sessions ? st->sessions : 0;

	family(f, "session_rx_packets_total", "counter",
	       "test packets received per negotiated session (--metrics-sessions)");
	s.what = "rx";
	stats_foreach_entry(pin_path, XT_MAP_SESSIONS, max, session_line, &s);
	family(f, "session_tx_packets_total", "counter",
	       "test packets reflected per negotiated session (--metrics-sessions)");
	s.what = "tx";
	s.n = 0;
	stats_foreach_entry(pin_path, XT_MAP_SESSIONS, max, session_line, &s);
	family(f, "session_series_dropped", "gauge",
	       "sessions left out of the per-session series by the --metrics-sessions cap");
	sample(f, "session_series_dropped", "", total > s.n ? total - s.n : 0);
}

int metrics_write(FILE *f, const struct daemon_view *view, __u32 max_sessions)
{
	struct ds_sink sink = { sink_family, sink_sample, f };
	struct xt_stats st;
	int ret;

	ret = stats_read(view->pin_path, &st);
	family(f, "up", "gauge", "1 when the reflector's maps could be read");
	sample(f, "up", "", ret == 0);
	if (!ret)
		write_maps(f, &st);
	daemon_state_emit(view, &sink);
	if (!ret && max_sessions)
		write_sessions(f, view->pin_path, &st, max_sessions);
	return ferror(f) ? -EIO : 0;
}

/* ---- HTTP ---------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **req_cls)
{
	static char not_found[] = "xtwampd serves /metrics only\n";
	static char bad_method[] = "use GET\n";
	struct metrics *m = cls;
	char *body = NULL;
	size_t len = 0;
	FILE *f;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", bad_method,
			     sizeof(bad_method) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", not_found, sizeof(not_found) - 1,
			     MHD_RESPMEM_PERSISTENT);
	f = open_memstream(&body, &len);
	if (!f)
		return MHD_NO;
	m->scrapes++;
	metrics_write(f, m->view, m->max_sessions);
	if (fclose(f)) {
		free(body);
		return MHD_NO;
	}
	return reply(c, MHD_HTTP_OK, CONTENT_TYPE, body, len, MHD_RESPMEM_MUST_FREE);
}

int metrics_open(const char *listen, const struct daemon_view *view, __u32 max_sessions,
		 struct metrics **out)
{
	struct sockaddr_storage ss = { 0 };
	union xt_addr addr = { 0 };
	struct metrics *m;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	bool any;
	__u16 port;

	if (metrics_parse_listen(listen, &addr, &any, &port)) {
		log_error("--metrics %s: expected ADDR:PORT, [IPV6]:PORT or :PORT", listen);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->view = view;
	m->max_sessions = max_sessions;
	if (any) {
		flags |= MHD_USE_DUAL_STACK;
		m->mhd = MHD_start_daemon(flags, port, NULL, NULL, on_request, m,
					  MHD_OPTION_CONNECTION_LIMIT, 16U,
					  MHD_OPTION_CONNECTION_TIMEOUT, 10U, MHD_OPTION_END);
	} else {
		xt_addr_to_sockaddr(&addr, port, &ss);
		if (ss.ss_family == AF_INET6)
			flags |= MHD_USE_IPv6;
		m->mhd = MHD_start_daemon(flags, port, NULL, NULL, on_request, m,
					  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
					  MHD_OPTION_CONNECTION_LIMIT, 16U,
					  MHD_OPTION_CONNECTION_TIMEOUT, 10U, MHD_OPTION_END);
	}
	if (!m->mhd) {
		log_error("--metrics %s: cannot listen there (port taken? address not on this "
			  "host?): pick another ADDR:PORT",
			  listen);
		free(m);
		return -EADDRINUSE;
	}
	*out = m;
	return 0;
}

int metrics_fd(const struct metrics *m)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);

	return info ? info->epoll_fd : -1;
}

void metrics_handle(struct metrics *m)
{
	if (m)
		MHD_run(m->mhd);
}

void metrics_close(struct metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->mhd);
	free(m);
}
