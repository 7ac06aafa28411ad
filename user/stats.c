// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* stats.c - see stats.h */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clock.h"
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
	fprintf(f, "\n%-32s %20s  %s\n", "COUNTER", "VALUE", "HELP");
	for (unsigned id = 0; id < XT_CNT__COUNT; id++)
		fprintf(f, "%-32s %20llu  %s\n", counter_names[id],
			(unsigned long long)st->counters[id], counter_help[id]);
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

void stats_print_json(FILE *f, const char *pin_path, const struct xt_stats *st)
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
	fputs("}\n", f);
}

void stats_usage(FILE *f)
{
	fprintf(f,
		"Usage: xtwamp stats [--json] [--pin-path DIR]\n"
		"\n"
		"Show the XDP reflector's counters (summed over all CPUs), the number of\n"
		"stateful light flows and negotiated sessions, and whether xtwampd has\n"
		"published the clock.  Reads the maps xtwampd pinned; needs root (CAP_BPF).\n"
		"\n"
		"Options:\n"
		"  --json            one JSON object:\n"
		"                    {\"pin_path\": ..., \"counters\": {\"rx_frames_total\": N, ...},\n"
		"                     \"flows\": N, \"sessions\": N, \"clock\": {\"published\": true,\n"
		"                     \"synchronised\": false, \"error_estimate\": N, \"error_ns\": N}}\n"
		"                    (null for a map that is not there)\n"
		"  --pin-path DIR    where xtwampd pinned its maps (default %s)\n"
		"  -h, --help        this text\n"
		"\n"
		"Examples:\n"
		"  xtwamp stats\n"
		"  xtwamp stats --json | jq .counters.reflected_total\n"
		"\n"
		"Exit status: 0 read, 1 maps missing or unreadable, 2 usage error.\n",
		XT_PIN_PATH_DEFAULT);
}

int stats_main(int argc, char **argv)
{
	const char *pin_path = XT_PIN_PATH_DEFAULT;
	struct xt_stats st;
	bool json = false;
	char msg[512];
	int ret;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--pin-path")) {
			if (i + 1 >= argc) {
				log_error(
					"option '--pin-path' needs a directory (see 'xtwamp stats --help')");
				return STATS_EXIT_USAGE;
			}
			pin_path = argv[++i];
		} else if (!strncmp(a, "--pin-path=", 11)) {
			pin_path = a + 11;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			stats_usage(stdout);
			return STATS_EXIT_OK;
		} else {
			log_error("unexpected argument '%s' (see 'xtwamp stats --help')", a);
			return STATS_EXIT_USAGE;
		}
	}
	if (!*pin_path) {
		log_error("--pin-path must not be empty");
		return STATS_EXIT_USAGE;
	}
	ret = stats_read(pin_path, &st);
	if (ret) {
		log_error("%s", stats_strerror(ret, pin_path, msg, sizeof(msg)));
		return STATS_EXIT_FAIL;
	}
	if (json)
		stats_print_json(stdout, pin_path, &st);
	else
		stats_print_table(stdout, pin_path, &st);
	return STATS_EXIT_OK;
}
