/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * log.h - the one logger of xtwamp's user-space programs.
 *
 * Messages go to stderr as "prog: level: text".  libbpf's own messages are
 * routed through it one level down (its warnings become our info), and the
 * verifier log only shows at -vv or when a load fails.
 */
#ifndef XTWAMP_LOG_H
#define XTWAMP_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN = 1,
	LOG_LEVEL_INFO = 2,  /* default */
	LOG_LEVEL_DEBUG = 3, /* -v */
	LOG_LEVEL_TRACE = 4, /* -vv: libbpf debug output, verifier logs */
};

/* Set the program name shown in front of every line and the threshold. */
void log_init(const char *prog, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap);

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Route libbpf's print callback through this logger. */
void log_route_libbpf(void);

#endif /* XTWAMP_LOG_H */
