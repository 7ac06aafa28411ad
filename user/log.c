// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* log.c - see log.h */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "log.h"

static const char *log_prog = "xtwamp";
static enum log_level log_threshold = LOG_LEVEL_INFO;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error", [LOG_LEVEL_WARN] = "warning", [LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug", [LOG_LEVEL_TRACE] = "trace",
};

void log_init(const char *prog, enum log_level level)
{
	log_prog = prog;
	log_threshold = level;
}

void log_set_level(enum log_level level)
{
	log_threshold = level;
}

enum log_level log_get_level(void)
{
	return log_threshold;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[1024];
	size_t len;

	if (level > log_threshold)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	len = strlen(line);
	while (len && line[len - 1] == '\n')
		line[--len] = '\0';
	fprintf(stderr, "%s: %s: %s\n", log_prog, level_names[level], line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/* libbpf's warnings are mostly probes that fail harmlessly: one level down. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level ours = level == LIBBPF_WARN ? LOG_LEVEL_INFO :
			      level == LIBBPF_INFO ? LOG_LEVEL_DEBUG :
						     LOG_LEVEL_TRACE;

	if (ours > log_threshold)
		return 0;
	log_vmsg(ours, fmt, ap);
	return 0;
}

void log_route_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
