// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* stats.c - see stats.h */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "clock.h"
#include "daemon_state.h"
#include "log.h"
#include "stats.h"
#include "xtwamp_wire.h"

#define STATS_EXIT_OK 0
#define STATS_EXIT_FAIL 1
#define STATS_EXIT_USAGE 2

static const char *const counter_names[XT_CNT__COUNT] = {
#define XT_COUNTER_NAME(id, name, help) [XT_CNT_##id] = name,
	XT_COUNTERS(XT_COUNTER_NAME)
#undef XT_COUNTER_NAME
};

static const char *const counter_help[XT_CNT__COUNT] = {
#define XT_COUNTER_HELP(id, name, help) [XT_CNT_##id] = help,
	XT_COUNTERS(XT_COUNTER_HELP)
#undef XT_COUNTER_HELP
};

const char *stats_counter_name(unsigned id)
{
	return id < XT_CNT__COUNT ? counter_names[id] : NULL;
}

const char *stats_counter_help(unsigned id)
{
	return id < XT_CNT__COUNT ? counter_help[id] : NULL;
}

/* Open DIR/NAME; returns an fd or -errno. */
static int open_pin(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

static int map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

static int read_counters(int fd, struct xt_stats *out)
{
	struct bpf_map_info info;
	__u64 *vals;
	int ret, ncpus;

	ret = map_info(fd, &info);
	if (ret)
		return ret;
	if (info.type != BPF_MAP_TYPE_PERCPU_ARRAY || info.key_size != 4 || info.value_size != 8)
		return -EPROTO;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0)
		return ncpus;
	out->ncpus = ncpus;
	/* a per-CPU lookup returns one 8-octet-aligned value per possible CPU */
	vals = calloc((size_t)ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	/* An older data path may have fewer counters: those stay 0. */
	for (__u32 id = 0; id < XT_CNT__COUNT && id < info.max_entries; id++) {
		if (bpf_map_lookup_elem(fd, &id, vals)) {
			ret = -errno;
			break;
		}
		for (int cpu = 0; cpu < ncpus; cpu++)
			out->counters[id] += vals[cpu];
	}
	free(vals);
	return ret;
}

/*
 * Walk the keys.  An entry deleted under us restarts the walk at the first
 * key, so stop after max_entries steps: a busy table gives an estimate
 * rather than a hang.
 */
static int count_entries(int fd, __u64 *n)
{
	struct bpf_map_info info;
	void *key, *next;
	int ret;

	*n = 0;
	ret = map_info(fd, &info);
	if (ret)
		return ret;
	key = calloc(1, info.key_size ? info.key_size : 1);
	next = calloc(1, info.key_size ? info.key_size : 1);
	if (!key || !next) {
		free(key);
		free(next);
		return -ENOMEM;
	}
	ret = bpf_map_get_next_key(fd, NULL, next) ? -errno : 0;
	while (!ret && *n < info.max_entries) {
		(*n)++;
		memcpy(key, next, info.key_size);
		ret = bpf_map_get_next_key(fd, key, next) ? -errno : 0;
	}
	free(key);
	free(next);
	return ret == -ENOENT || ret == 0 ? 0 : ret;
}

const __u64 stats_residence_bounds_ns[XT_RES_BUCKETS] = XT_RES_BOUNDS_NS;

static int read_residence(int fd, struct xt_stats *out)
{
	struct bpf_map_info info;
	struct xt_res_bucket *vals;
	int ret, ncpus = libbpf_num_possible_cpus();

	ret = map_info(fd, &info);
	if (ret)
		return ret;
	if (info.type != BPF_MAP_TYPE_PERCPU_ARRAY || info.key_size != 4 ||
	    info.value_size != sizeof(struct xt_res_bucket) || info.max_entries != XT_RES_BUCKETS)
		return -EPROTO;
	if (ncpus < 0)
		return ncpus;
	vals = calloc((size_t)ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 b = 0; b < XT_RES_BUCKETS; b++) {
		if (bpf_map_lookup_elem(fd, &b, vals)) {
			ret = -errno;
			break;
		}
		for (int cpu = 0; cpu < ncpus; cpu++) {
			out->residence[b].count += vals[cpu].count;
			out->residence[b].sum_ns += vals[cpu].sum_ns;
		}
	}
	free(vals);
	return ret;
}

static int residence_cb(int fd, void *arg)
{
	return read_residence(fd, arg);
}

int stats_foreach_entry(const char *pin_path, const char *name, __u32 max,
			int (*fn)(const struct xt_session_key *k, const struct xt_session *v,
				  void *arg),
			void *arg)
{
	struct xt_session_key key, next;
	struct bpf_map_info info;
	struct xt_session val;
	__u32 n = 0;
	int fd, ret;

	fd = open_pin(pin_path ? pin_path : XT_PIN_PATH_DEFAULT, name);
	if (fd < 0)
		return fd;
	ret = map_info(fd, &info);
	if (!ret && (info.key_size != sizeof(key) || info.value_size != sizeof(val)))
		ret = -EPROTO;
	if (!ret)
		ret = bpf_map_get_next_key(fd, NULL, &next) ? -errno : 0;
	/* bounded like count_entries(): deletions under us restart the walk */
	while (!ret && n < info.max_entries && (!max || n < max)) {
		key = next;
		n++;
		if (!bpf_map_lookup_elem(fd, &key, &val) && fn(&key, &val, arg))
			break;
		ret = bpf_map_get_next_key(fd, &key, &next) ? -errno : 0;
	}
	close(fd);
	return ret == -ENOENT ? 0 : ret;
}

static int read_config(int fd, struct xt_stats *out)
{
	struct bpf_map_info info;
	__u32 zero = 0;
	int ret;

	ret = map_info(fd, &info);
	if (ret)
		return ret;
	if (info.key_size != 4 || info.value_size != sizeof(struct xt_config))
		return -EPROTO;
	if (bpf_map_lookup_elem(fd, &zero, &out->config))
		return -errno;
	out->clock_published = out->config.flags & XT_CFG_CLOCK_VALID;
	out->clock_synchronised = out->config.error_estimate & XT_EE_SYNC;
	out->clock_error_ns = xt_error_estimate_decode_ns(out->config.error_estimate);
	return 0;
}

/* An optional map: absent is fine, anything else is an error. */
static int read_optional(const char *dir, const char *name, bool *present,
			 int (*fn)(int fd, void *arg), void *arg)
{
	int fd = open_pin(dir, name), ret;

	*present = false;
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	ret = fn(fd, arg);
	close(fd);
	if (!ret)
		*present = true;
	return ret;
}

static int count_cb(int fd, void *arg)
{
	return count_entries(fd, arg);
}

static int config_cb(int fd, void *arg)
{
	return read_config(fd, arg);
}

int stats_read(const char *pin_path, struct xt_stats *out)
{
	int fd, ret;

	if (!pin_path)
		pin_path = XT_PIN_PATH_DEFAULT;
	memset(out, 0, sizeof(*out));
	fd = open_pin(pin_path, XT_MAP_COUNTERS);
	if (fd < 0)
		return fd;
	ret = read_counters(fd, out);
	close(fd);
	if (ret)
		return ret;
	ret = read_optional(pin_path, XT_MAP_FLOWS, &out->has_flows, count_cb, &out->flows);
	if (ret)
		return ret;
	ret = read_optional(pin_path, XT_MAP_SESSIONS, &out->has_sessions, count_cb,
			    &out->sessions);
	if (ret)
		return ret;
	ret = read_optional(pin_path, XT_MAP_RESIDENCE, &out->has_residence, residence_cb, out);
	if (ret)
		return ret;
	return read_optional(pin_path, XT_MAP_CONFIG, &out->has_config, config_cb, out);
}

const char *stats_strerror(int err, const char *pin_path, char *buf, size_t len)
{
	if (!pin_path)
		pin_path = XT_PIN_PATH_DEFAULT;
	switch (err) {
	case -ENOENT:
	case -ENOTDIR:
		snprintf(
			buf, len,
			"no xtwamp maps at %s: is xtwampd running? (bpffs mounted? different --pin-path?)",
			pin_path);
		break;
	case -EPERM:
	case -EACCES: {
		struct statfs sfs;

		/* The kernel answers EACCES for a file that is not on bpffs, too. */
		if (!statfs(pin_path, &sfs) && sfs.f_type != BPF_FS_MAGIC)
			snprintf(
				buf, len,
				"no xtwamp maps at %s: it is not on bpffs (bpffs mounted? different --pin-path?)",
				pin_path);
		else
			snprintf(buf, len,
				 "cannot open the xtwamp maps at %s: run as root (needs CAP_BPF)",
				 pin_path);
		break;
	}
	case -EINVAL:
		snprintf(buf, len, "%s/%s is not a BPF pin: is %s on bpffs?", pin_path,
			 XT_MAP_COUNTERS, pin_path);
		break;
	case -EPROTO:
		snprintf(
			buf, len,
			"the maps at %s do not have the layout this xtwamp expects: xtwampd from another version?",
			pin_path);
		break;
	default:
		snprintf(buf, len, "cannot read the xtwamp maps at %s: %s", pin_path,
			 strerror(-err));
	}
	return buf;
}

static const char *format_error(__u64 ns, char *buf, size_t len)
{
	if (ns == UINT64_MAX)
		snprintf(buf, len, "unbounded");
	else if (ns < 1000)
		snprintf(buf, len, "%llu ns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.3f us", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.3f ms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.3f s", (double)ns / 1e9);
	return buf;
}

/* Counters; with prev (an earlier reading secs ago) a per-second rate column. */
static void print_counters(FILE *f, const struct xt_stats *st, const struct xt_stats *prev,
			   double secs)
{
	if (prev)
		fprintf(f, "\n%-32s %20s %12s  %s\n", "COUNTER", "VALUE", "PER SECOND", "HELP");
	else
		fprintf(f, "\n%-32s %20s  %s\n", "COUNTER", "VALUE", "HELP");
	for (unsigned id = 0; id < XT_CNT__COUNT; id++) {
		if (prev)
			fprintf(f, "%-32s %20llu %12.1f  %s\n", counter_names[id],
				(unsigned long long)st->counters[id],
				secs > 0 ? (double)(st->counters[id] - prev->counters[id]) / secs :
					   0.0,
				counter_help[id]);
		else
			fprintf(f, "%-32s %20llu  %s\n", counter_names[id],
				(unsigned long long)st->counters[id], counter_help[id]);
	}
}

void stats_print_table(FILE *f, const char *pin_path, const struct xt_stats *st)
{
	char err[32];

	fprintf(f, "xtwamp maps at %s (counters summed over %d CPUs)\n",
		pin_path ? pin_path : XT_PIN_PATH_DEFAULT, st->ncpus);
	if (!st->has_config)
		fprintf(f, "clock:    unknown (no %s map)\n", XT_MAP_CONFIG);
	else if (!st->clock_published)
		fprintf(f,
			"clock:    not published yet: test packets are dropped until xtwampd sets it\n");
	else
		fprintf(f, "clock:    published, %s, error %s (Error Estimate 0x%04x)\n",
			st->clock_synchronised ? "synchronised" : "unsynchronised",
			format_error(st->clock_error_ns, err, sizeof(err)),
			st->config.error_estimate);
	if (st->has_flows)
		fprintf(f, "flows:    %llu\n", (unsigned long long)st->flows);
	else
		fprintf(f, "flows:    n/a (no %s map)\n", XT_MAP_FLOWS);
	if (st->has_sessions)
		fprintf(f, "sessions: %llu\n", (unsigned long long)st->sessions);
	else
		fprintf(f, "sessions: n/a (no %s map)\n", XT_MAP_SESSIONS);
	if (st->has_residence) {
		__u64 total = 0, sum = 0;

		for (int b = 0; b < XT_RES_BUCKETS; b++) {
			total += st->residence[b].count;
			sum += st->residence[b].sum_ns;
		}
		fprintf(f, "residence (T3-T2, XDP): %llu packets, mean %s; ",
			(unsigned long long)total,
			format_error(total ? sum / total : 0, err, sizeof(err)));
		for (int b = 0; b < XT_RES_BUCKETS; b++) {
			if (b == XT_RES_BUCKETS - 1)
				fprintf(f, ">%s: %llu\n",
					format_error(stats_residence_bounds_ns[b - 1], err,
						     sizeof(err)),
					(unsigned long long)st->residence[b].count);
			else
				fprintf(f, "<=%s: %llu, ",
					format_error(stats_residence_bounds_ns[b], err,
						     sizeof(err)),
					(unsigned long long)st->residence[b].count);
		}
	}
	print_counters(f, st, NULL, 0);
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_labels(FILE *f, const char *labels)
{
	/* k="v",k2="v2": values are names xtwampd chose, never with quotes */
	const char *p = labels;
	bool first = true;

	fputc('{', f);
	while (p && *p) {
		const char *eq = strchr(p, '='), *end;

		if (!eq || eq[1] != '"')
			break;
		end = strchr(eq + 2, '"');
		if (!end)
			break;
		fprintf(f, "%s\"%.*s\": \"%.*s\"", first ? "" : ", ", (int)(eq - p), p,
			(int)(end - eq - 2), eq + 2);
		first = false;
		p = end[1] == ',' ? end + 2 : NULL;
	}
	fputc('}', f);
}

static void json_daemon(FILE *f, const struct xt_daemon_state *ds)
{
	char a[64], b[64], c[64], d[64];
	bool first = true;

	if (!ds || !ds->present) {
		fputs("null", f);
		return;
	}
	fprintf(f, "{\"running\": %s, \"pid\": %d, \"version\": ", ds->running ? "true" : "false",
		ds->pid);
	json_string(f, ds->version);
	fprintf(f, ", \"started\": %lld, \"updated\": %lld, \"interfaces\": [", ds->started,
		ds->updated);
	for (size_t i = 0; i < ds->n_lines; i++) {
		const char *l = ds->lines[i];

		if (strncmp(l, "iface ", 6))
			continue;
		fprintf(f, "%s{\"name\": ", first ? "" : ", ");
		json_string(f, stats_field(l, "name", a, sizeof(a)));
		fprintf(f, ", \"ifindex\": %d, \"xdp_mode\": \"%s\", \"rx_timestamps\": \"%s\"}",
			atoi(stats_field(l, "ifindex", b, sizeof(b))),
			stats_field(l, "xdp_mode", c, sizeof(c)),
			stats_field(l, "rx_timestamps", d, sizeof(d)));
		first = false;
	}
	fputs("], \"metrics\": [", f);
	first = true;
	for (size_t i = 0; i < ds->n_lines; i++) {
		const char *l = ds->lines[i], *name, *brace, *sp;
		char labels[256] = "";

		if (strncmp(l, "metric ", 7))
			continue;
		name = l + 7;
		sp = strrchr(name, ' ');
		if (!sp)
			continue;
		brace = memchr(name, '{', (size_t)(sp - name));
		fprintf(f, "%s{\"name\": \"%.*s\", \"labels\": ", first ? "" : ", ",
			(int)((brace ? brace : sp) - name), name);
		if (brace && sp - brace >= 2)
			snprintf(labels, sizeof(labels), "%.*s", (int)(sp - brace - 2), brace + 1);
		json_labels(f, labels);
		fprintf(f, ", \"value\": %s}", sp + 1);
		first = false;
	}
	fputs("]}", f);
}

void stats_print_json(FILE *f, const char *pin_path, const struct xt_stats *st,
		      const struct xt_daemon_state *ds)
{
	fputs("{\"pin_path\": ", f);
	json_string(f, pin_path ? pin_path : XT_PIN_PATH_DEFAULT);
	fputs(", \"counters\": {", f);
	for (unsigned id = 0; id < XT_CNT__COUNT; id++) {
		fputs(id ? ", " : "", f);
		json_string(f, counter_names[id]);
		fprintf(f, ": %llu", (unsigned long long)st->counters[id]);
	}
	fputs("}, \"flows\": ", f);
	if (st->has_flows)
		fprintf(f, "%llu", (unsigned long long)st->flows);
	else
		fputs("null", f);
	fputs(", \"sessions\": ", f);
	if (st->has_sessions)
		fprintf(f, "%llu", (unsigned long long)st->sessions);
	else
		fputs("null", f);
	fputs(", \"clock\": ", f);
	if (st->has_config)
		fprintf(f,
			"{\"published\": %s, \"synchronised\": %s, \"error_estimate\": %u, \"error_ns\": %llu}",
			st->clock_published ? "true" : "false",
			st->clock_synchronised ? "true" : "false", st->config.error_estimate,
			(unsigned long long)st->clock_error_ns);
	else
		fputs("null", f);
	fputs(", \"residence\": ", f);
	if (st->has_residence) {
		__u64 sum = 0;

		fputs("{\"le_ns\": [", f);
		for (int b = 0; b < XT_RES_BUCKETS; b++) {
			if (b == XT_RES_BUCKETS - 1)
				fputs(", null", f);
			else
				fprintf(f, "%s%llu", b ? ", " : "",
					(unsigned long long)stats_residence_bounds_ns[b]);
		}
		fputs("], \"count\": [", f);
		for (int b = 0; b < XT_RES_BUCKETS; b++) {
			fprintf(f, "%s%llu", b ? ", " : "",
				(unsigned long long)st->residence[b].count);
			sum += st->residence[b].sum_ns;
		}
		fprintf(f, "], \"sum_ns\": %llu}", (unsigned long long)sum);
	} else {
		fputs("null", f);
	}
	fputs(", \"daemon\": ", f);
	json_daemon(f, ds);
	fputs("}\n", f);
}

/* ---- the daemon's state file -------------------------------------------- */

const char *stats_field(const char *line, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	const char *p = line;

	buf[0] = '\0';
	while ((p = strchr(p, ' '))) {
		p++;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, " \n");

			snprintf(buf, len, "%.*s", (int)n, p + klen + 1);
			break;
		}
	}
	return buf;
}

void stats_free_daemon(struct xt_daemon_state *ds)
{
	for (size_t i = 0; i < ds->n_lines; i++)
		free(ds->lines[i]);
	free(ds->lines);
	ds->lines = NULL;
	ds->n_lines = 0;
}

int stats_read_daemon(const char *pin_path, struct xt_daemon_state *ds)
{
	char *line = NULL, buf[64];
	size_t cap = 0, alloc = 0;
	ssize_t n;
	FILE *f;
	int ret = 0;

	memset(ds, 0, sizeof(*ds));
	daemon_state_path(pin_path ? pin_path : XT_PIN_PATH_DEFAULT, ds->path, sizeof(ds->path));
	f = fopen(ds->path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (!strncmp(line, "xtwampd ", 8)) {
			ds->present = true;
			ds->pid = atoi(stats_field(line, "pid", buf, sizeof(buf)));
			ds->started = atoll(stats_field(line, "started", buf, sizeof(buf)));
			ds->updated = atoll(stats_field(line, "updated", buf, sizeof(buf)));
			stats_field(line, "version", ds->version, sizeof(ds->version));
			continue;
		}
		if (ds->n_lines == alloc) {
			char **more = realloc(ds->lines,
					      (alloc = alloc ? 2 * alloc : 64) * sizeof(*more));

			if (!more) {
				ret = -ENOMEM;
				break;
			}
			ds->lines = more;
		}
		ds->lines[ds->n_lines] = strdup(line);
		if (!ds->lines[ds->n_lines]) {
			ret = -ENOMEM;
			break;
		}
		ds->n_lines++;
	}
	free(line);
	fclose(f);
	if (ret) {
		stats_free_daemon(ds);
		return ret;
	}
	ds->running = ds->present && ds->pid > 0 && (!kill(ds->pid, 0) || errno == EPERM) &&
		      llabs((long long)time(NULL) - ds->updated) <= DS_STALE_S;
	return 0;
}

void stats_print_daemon_table(FILE *f, const struct xt_daemon_state *ds)
{
	char a[64], b[64], c[64];
	time_t now = time(NULL);

	if (!ds->present) {
		fprintf(f,
			"xtwampd:  not running (no state file %s); the counters above are what "
			"the pinned maps hold\n",
			ds->path);
		return;
	}
	if (!ds->running) {
		fprintf(f,
			"xtwampd:  NOT RUNNING: pid %d gone or state file %s last written %llds "
			"ago; the pinned program may still reflect TWAMP Light (restart xtwampd "
			"to adopt it)\n",
			ds->pid, ds->path, (long long)(now - ds->updated));
		return;
	}
	fprintf(f, "xtwampd:  running, pid %d, version %s, up %llds\n", ds->pid, ds->version,
		(long long)(now - ds->started));
	for (size_t i = 0; i < ds->n_lines; i++) {
		if (strncmp(ds->lines[i], "iface ", 6))
			continue;
		fprintf(f, "iface:    %-16s XDP %-8s T2 %s\n",
			stats_field(ds->lines[i], "name", a, sizeof(a)),
			stats_field(ds->lines[i], "xdp_mode", b, sizeof(b)),
			stats_field(ds->lines[i], "rx_timestamps", c, sizeof(c)));
	}
	fprintf(f, "\n%-72s %s\n", "CONTROL PLANE", "VALUE");
	for (size_t i = 0; i < ds->n_lines; i++) {
		const char *l = ds->lines[i], *sp;

		if (strncmp(l, "metric ", 7) || !(sp = strrchr(l, ' ')) ||
		    !strncmp(l + 7, "interface_info", 14))
			continue;
		fprintf(f, "%-72.*s %s\n", (int)(sp - l - 7), l + 7, sp + 1);
	}
}

/* ---- xtwamp stats --------------------------------------------------------- */

void stats_usage(FILE *f)
{
	fprintf(f,
		"Usage: xtwamp stats [--json] [--watch SECONDS] [--pin-path DIR]\n"
		"\n"
		"Show the XDP reflector's counters (summed over all CPUs) with the drop\n"
		"reasons, the number of stateful light flows and negotiated sessions, the\n"
		"clock state and the residence-time histogram (T3 - T2) from the maps\n"
		"xtwampd pinned, and from xtwampd's state file (%s/<pin dir name>.state):\n"
		"whether it runs, the XDP mode and T2 source of each interface, and the\n"
		"control-server counters (connections, refusals by reason, sessions by\n"
		"mode and path).  Needs root (CAP_BPF).\n"
		"\n"
		"Options:\n"
		"  --json            one JSON object:\n"
		"                    {\"pin_path\": ..., \"counters\": {\"rx_frames_total\": N, ...},\n"
		"                     \"flows\": N, \"sessions\": N, \"clock\": {\"published\": true,\n"
		"                     \"synchronised\": false, \"error_estimate\": N, \"error_ns\": N},\n"
		"                     \"residence\": {\"le_ns\": [...], \"count\": [...], \"sum_ns\": N},\n"
		"                     \"daemon\": {\"running\": true, \"pid\": N, \"interfaces\": [...],\n"
		"                     \"metrics\": [{\"name\": ..., \"labels\": {...}, \"value\": N}]}}\n"
		"                    (null for a map or state file that is not there)\n"
		"  --watch SECONDS   repeat every SECONDS until interrupted; the table gets a\n"
		"                    per-second rate column, --json prints one object per line\n"
		"  --pin-path DIR    where xtwampd pinned its maps (default %s)\n"
		"  -h, --help        this text\n"
		"\n"
		"Examples:\n"
		"  xtwamp stats\n"
		"  xtwamp stats --watch 1\n"
		"  xtwamp stats --json | jq .counters.reflected_total\n"
		"\n"
		"Exit status: 0 read, 1 maps missing or unreadable, 2 usage error.\n",
		DS_RUN_DIR, XT_PIN_PATH_DEFAULT);
}

static volatile sig_atomic_t stop_watch;

static void on_sigint(int sig)
{
	(void)sig;
	stop_watch = 1;
}

/* Common options of stats and sessions; returns -1 to go on, else an exit code. */
static int parse_common(int argc, char **argv, const char *cmd, void (*usage)(FILE *), bool *json,
			double *watch, const char **pin_path)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--json")) {
			*json = true;
		} else if (watch && (!strcmp(a, "--watch") || !strncmp(a, "--watch=", 8))) {
			const char *v = a[7] == '=' ? a + 8 : i + 1 < argc ? argv[++i] : NULL;
			char *end;

			if (!v) {
				log_error("option '--watch' needs SECONDS (see 'xtwamp %s --help')",
					  cmd);
				return STATS_EXIT_USAGE;
			}
			*watch = strtod(v, &end);
			if (*end || !(*watch >= 0.1 && *watch <= 86400)) {
				log_error("--watch '%s': give seconds between 0.1 and 86400", v);
				return STATS_EXIT_USAGE;
			}
		} else if (!strcmp(a, "--pin-path")) {
			if (i + 1 >= argc) {
				log_error(
					"option '--pin-path' needs a directory (see 'xtwamp %s --help')",
					cmd);
				return STATS_EXIT_USAGE;
			}
			*pin_path = argv[++i];
		} else if (!strncmp(a, "--pin-path=", 11)) {
			*pin_path = a + 11;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return STATS_EXIT_OK;
		} else {
			log_error("unexpected argument '%s' (see 'xtwamp %s --help')", a, cmd);
			return STATS_EXIT_USAGE;
		}
	}
	if (!**pin_path) {
		log_error("--pin-path must not be empty");
		return STATS_EXIT_USAGE;
	}
	return -1;
}

static int read_all(const char *pin_path, struct xt_stats *st, struct xt_daemon_state *ds)
{
	char msg[512];
	int ret = stats_read(pin_path, st);

	if (ret) {
		log_error("%s", stats_strerror(ret, pin_path, msg, sizeof(msg)));
		return ret;
	}
	ret = stats_read_daemon(pin_path, ds);
	if (ret)
		log_warn("cannot read xtwampd's state file %s: %s", ds->path, strerror(-ret));
	return 0;
}

int stats_main(int argc, char **argv)
{
	const char *pin_path = XT_PIN_PATH_DEFAULT;
	struct xt_stats st, prev;
	struct xt_daemon_state ds;
	double watch = 0;
	bool json = false, have_prev = false;
	int ret;

	ret = parse_common(argc, argv, "stats", stats_usage, &json, &watch, &pin_path);
	if (ret >= 0)
		return ret;
	if (watch > 0) {
		signal(SIGINT, on_sigint);
		signal(SIGTERM, on_sigint);
	}
	do {
		if (read_all(pin_path, &st, &ds))
			return STATS_EXIT_FAIL;
		if (json) {
			stats_print_json(stdout, pin_path, &st, &ds);
		} else {
			if (watch > 0) {
				time_t now = time(NULL);

				printf("\n==== %s", ctime(&now));
			}
			stats_print_table(stdout, pin_path, &st);
			if (have_prev) {
				printf("\nrates over the last %.1f s:", watch);
				print_counters(stdout, &st, &prev, watch);
			}
			printf("\n");
			stats_print_daemon_table(stdout, &ds);
		}
		fflush(stdout);
		stats_free_daemon(&ds);
		prev = st;
		have_prev = true;
		if (watch > 0 && !stop_watch) {
			struct timespec ts = { (time_t)watch,
					       (long)((watch - (double)(time_t)watch) * 1e9) };

			while (nanosleep(&ts, &ts) && errno == EINTR && !stop_watch)
				;
		}
	} while (watch > 0 && !stop_watch);
	return STATS_EXIT_OK;
}

/* ---- xtwamp sessions ------------------------------------------------------ */

void sessions_usage(FILE *f)
{
	fprintf(f,
		"Usage: xtwamp sessions [--json] [--pin-path DIR]\n"
		"\n"
		"The session-reflector state (RFC 8913 §4.3) of every negotiated test\n"
		"session in the xtwamp_sessions map, joined with xtwampd's state file for\n"
		"the control-plane side: sender and reflector address:port, SSID, SID,\n"
		"mode, path (xdp, af_xdp, socket), state, DSCP of the replies, packets\n"
		"received and reflected, last received and sent sequence numbers, age\n"
		"(since the first packet) and idle time (since the latest), and the\n"
		"parent control connection's client.  Sessions of the authenticated and\n"
		"encrypted modes count replies in xtwampd, not in the map (tx shows -).\n"
		"\n"
		"Options:\n"
		"  --json            {\"daemon_running\": b, \"sessions\": [{\"sender\": \"ADDR:PORT\",\n"
		"                     \"reflector\": ..., \"ssid\": N, \"sid\": HEX|null, \"mode\": ...,\n"
		"                     \"path\": ..., \"state\": ..., \"dscp\": N|null (null: copied),\n"
		"                     \"rx_packets\": N, \"tx_packets\": N|null, \"last_rx_seq\": N|null,\n"
		"                     \"last_tx_seq\": N|null, \"age_s\": X|null, \"idle_s\": X|null,\n"
		"                     \"control_peer\": ADDR|null}]}\n"
		"  --pin-path DIR    where xtwampd pinned its maps (default %s)\n"
		"  -h, --help        this text\n"
		"\n"
		"Exit status: 0 read, 1 maps missing or unreadable, 2 usage error.\n",
		XT_PIN_PATH_DEFAULT);
}

struct sess_walk {
	const struct xt_daemon_state *ds;
	bool json;
	int n;
	__u64 now_tai;
};

const char *stats_session_line(const struct xt_daemon_state *ds, const struct xt_session_key *k)
{
	char sender[80], refl[80], a[80], b[80], c[16];

	ds_format_endpoint(&k->sender_addr, k->sender_port, sender, sizeof(sender));
	ds_format_endpoint(&k->reflector_addr, k->reflector_port, refl, sizeof(refl));
	for (size_t i = 0; ds && i < ds->n_lines; i++) {
		const char *l = ds->lines[i];

		if (strncmp(l, "session ", 8))
			continue;
		if (!strcmp(stats_field(l, "sender", a, sizeof(a)), sender) &&
		    !strcmp(stats_field(l, "reflector", b, sizeof(b)), refl) &&
		    (unsigned)atoi(stats_field(l, "ssid", c, sizeof(c))) == ntohs(k->ssid))
			return l;
	}
	return NULL;
}

/* A state-file field where "-" means unknown: "" then. */
static void known_field(const char *line, const char *key, char *buf, size_t len)
{
	if (!strcmp(stats_field(line, key, buf, len), "-"))
		buf[0] = '\0';
}

static void json_str_or_null(FILE *f, const char *s)
{
	if (*s)
		fprintf(f, "\"%s\"", s);
	else
		fputs("null", f);
}

static int session_row(const struct xt_session_key *k, const struct xt_session *v, void *arg)
{
	struct sess_walk *w = arg;
	char sender[80], refl[80], sid[40] = "", mode[24] = "", path[16] = "", state[16] = "",
				   peer[64] = "";
	const char *line;
	bool userspace = v->flags & XT_SESS_USERSPACE;
	bool have_rx = v->rx_packets > 0;
	double age = have_rx && w->now_tai > v->first_rx_ns ?
			     (double)(w->now_tai - v->first_rx_ns) / 1e9 :
			     0,
	       idle = have_rx && w->now_tai > v->last_rx_ns ?
			      (double)(w->now_tai - v->last_rx_ns) / 1e9 :
			      0;

	ds_format_endpoint(&k->sender_addr, k->sender_port, sender, sizeof(sender));
	ds_format_endpoint(&k->reflector_addr, k->reflector_port, refl, sizeof(refl));
	line = stats_session_line(w->ds, k);
	if (line) {
		known_field(line, "sid", sid, sizeof(sid));
		known_field(line, "mode", mode, sizeof(mode));
		stats_field(line, "path", path, sizeof(path));
		stats_field(line, "state", state, sizeof(state));
		known_field(line, "control_peer", peer, sizeof(peer));
	} else {
		snprintf(path, sizeof(path), "%s", userspace ? "userspace" : "xdp");
		snprintf(state, sizeof(state), "%s",
			 v->state == XT_SESS_STARTED ? "started" : "accepted");
	}
	if (w->json) {
		fprintf(stdout,
			"%s{\"sender\": \"%s\", \"reflector\": \"%s\", \"ssid\": %u, \"sid\": ",
			w->n ? ", " : "", sender, refl, ntohs(k->ssid));
		json_str_or_null(stdout, sid);
		fputs(", \"mode\": ", stdout);
		json_str_or_null(stdout, mode);
		fprintf(stdout, ", \"path\": \"%s\", \"state\": \"%s\", \"dscp\": ", path, state);
		if (v->flags & XT_SESS_SET_DSCP)
			fprintf(stdout, "%u", v->dscp);
		else
			fputs("null", stdout);
		fprintf(stdout, ", \"rx_packets\": %llu, \"tx_packets\": ",
			(unsigned long long)v->rx_packets);
		if (userspace)
			fputs("null", stdout);
		else
			fprintf(stdout, "%llu", (unsigned long long)v->tx_packets);
		if (have_rx)
			fprintf(stdout, ", \"last_rx_seq\": %u", v->last_sender_seq);
		else
			fputs(", \"last_rx_seq\": null", stdout);
		if (!userspace && v->tx_packets)
			fprintf(stdout, ", \"last_tx_seq\": %u", v->next_seq - 1);
		else
			fputs(", \"last_tx_seq\": null", stdout);
		if (have_rx)
			fprintf(stdout, ", \"age_s\": %.3f, \"idle_s\": %.3f", age, idle);
		else
			fputs(", \"age_s\": null, \"idle_s\": null", stdout);
		fputs(", \"control_peer\": ", stdout);
		json_str_or_null(stdout, peer);
		fputc('}', stdout);
	} else {
		char dscp[8], tx[24], lrx[12], ltx[12], ages[16], idles[16];

		snprintf(dscp, sizeof(dscp), (v->flags & XT_SESS_SET_DSCP) ? "%u" : "copy",
			 v->dscp);
		snprintf(tx, sizeof(tx), userspace ? "-" : "%llu",
			 (unsigned long long)v->tx_packets);
		snprintf(lrx, sizeof(lrx), have_rx ? "%u" : "-", v->last_sender_seq);
		snprintf(ltx, sizeof(ltx), !userspace && v->tx_packets ? "%u" : "-",
			 v->next_seq - 1);
		snprintf(ages, sizeof(ages), have_rx ? "%.1f" : "-", age);
		snprintf(idles, sizeof(idles), have_rx ? "%.1f" : "-", idle);
		printf("%-26s %-26s %5u %-32s %-15s %-9s %-8s %4s %10llu %10s %10s %10s %8s %8s %s\n",
		       sender, refl, ntohs(k->ssid), sid[0] ? sid : "-", mode[0] ? mode : "-", path,
		       state, dscp, (unsigned long long)v->rx_packets, tx, lrx, ltx, ages, idles,
		       peer[0] ? peer : "-");
	}
	w->n++;
	return 0;
}

int sessions_main(int argc, char **argv)
{
	const char *pin_path = XT_PIN_PATH_DEFAULT;
	struct xt_daemon_state ds;
	struct sess_walk w = { 0 };
	struct timespec ts;
	char msg[512];
	bool json = false;
	int ret;

	ret = parse_common(argc, argv, "sessions", sessions_usage, &json, NULL, &pin_path);
	if (ret >= 0)
		return ret;
	ret = open_pin(pin_path, XT_MAP_SESSIONS);
	if (ret < 0) {
		log_error("%s", stats_strerror(ret, pin_path, msg, sizeof(msg)));
		return STATS_EXIT_FAIL;
	}
	close(ret);
	ret = stats_read_daemon(pin_path, &ds);
	if (ret)
		log_warn("cannot read xtwampd's state file %s: %s", ds.path, strerror(-ret));
	clock_gettime(CLOCK_TAI, &ts);
	w.now_tai = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
	w.ds = &ds;
	w.json = json;
	if (!json) {
		if (!ds.running)
			printf("xtwampd is NOT running (%s): sessions below are what the maps still "
			       "hold; their control connections are gone\n",
			       ds.present ? "stale state file" : "no state file");
		printf("%-26s %-26s %5s %-32s %-15s %-9s %-8s %4s %10s %10s %10s %10s %8s %8s %s\n",
		       "SENDER", "REFLECTOR", "SSID", "SID", "MODE", "PATH", "STATE", "DSCP", "RX",
		       "TX", "LAST_RX_SEQ", "LAST_TX_SEQ", "AGE_S", "IDLE_S", "CONTROL_PEER");
	} else {
		printf("{\"daemon_running\": %s, \"sessions\": [", ds.running ? "true" : "false");
	}
	ret = stats_foreach_entry(pin_path, XT_MAP_SESSIONS, 0, session_row, &w);
	if (json)
		printf("]}\n");
	stats_free_daemon(&ds);
	if (ret) {
		log_error("%s", stats_strerror(ret, pin_path, msg, sizeof(msg)));
		return STATS_EXIT_FAIL;
	}
	return STATS_EXIT_OK;
}
