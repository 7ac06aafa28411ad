/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * daemon_opts.h - xtwampd's command line.
 *
 * xtwampd_parse_args() never exits or prints: it returns 0, XT_OPTS_HELP
 * (print xtwampd_usage() and exit 0) or -EINVAL with a one-line reason in
 * err, so the rules are unit-tested.
 */
#ifndef XTWAMP_DAEMON_OPTS_H
#define XTWAMP_DAEMON_OPTS_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "xtwamp_maps.h"
#include "xtwamp_wire.h"

#define XT_MAX_IFACES 16
#define XT_MAX_PORTS 64
#define XT_MAX_ALLOW_ARGS 1024
#define XT_DEFAULT_RATE_PPS 10000
#define XT_MAX_CONTROL_ADDRS 16
#define XT_MAX_CONTROL_PREFIXES 1024

/* TWAMP-Control defaults (RFC 5357 §3.1 SERVWAIT, §4.2 REFWAIT; RFC 8913 Count). */
#define XT_DEFAULT_COUNT_EXPONENT 15 /* Count 32768: RFC 8913's default "count" */
#define XT_MIN_COUNT_EXPONENT 10     /* Count 1024: RFC 4656 §3.1 minimum */
#define XT_MAX_COUNT_EXPONENT 31
#define XT_DEFAULT_SERVWAIT_S 900
#define XT_DEFAULT_REFWAIT_S 900
#define XT_MAX_WAIT_S 604800 /* a week: longer is a typo, not a policy */
#define XT_DEFAULT_MAX_CONNECTIONS 256
#define XT_DEFAULT_MAX_CONNECTIONS_PER_CLIENT 16
#define XT_DEFAULT_MAX_SESSIONS 4096
#define XT_DEFAULT_MAX_SESSIONS_PER_CONNECTION 64

/* Modes xtwampd implements, and what it offers by default (without / with --keys). */
#define XT_MODES_SUPPORTED 0x07f
#define XT_MODES_DEFAULT                                                                  \
	(XT_MODE_UNAUTHENTICATED | XT_MODE_INDIVIDUAL_SESSIONS | XT_MODE_REFLECT_OCTETS | \
	 XT_MODE_SYMMETRICAL_SIZE)
#define XT_MODES_NEED_KEYS (XT_MODE_AUTHENTICATED | XT_MODE_ENCRYPTED | XT_MODE_MIXED)
/*
 * What a client under --require-auth is not offered: unauthenticated, and
 * mixed too, because mixed mode (RFC 5618) leaves the test packets
 * unauthenticated; only the control stream would be protected.
 */
#define XT_MODES_UNPROTECTED_TEST (XT_MODE_UNAUTHENTICATED | XT_MODE_MIXED)

#define XT_OPTS_HELP 1
#define XT_OPTS_VERSION 2

enum xt_xdp_mode {
	XT_XDP_AUTO = 0, /* native, falling back to generic with a warning */
	XT_XDP_NATIVE,
	XT_XDP_GENERIC,
};

enum xt_rx_ts_mode {
	XT_RXTS_AUTO = 0, /* NIC timestamps where the driver offers them (native mode) */
	/* (the default is XT_RXTS_SW: see xtwampd_parse_args) */
	XT_RXTS_HW, /* insist on a device-bound program with the RX-timestamp kfunc */
	XT_RXTS_SW, /* kernel clock only */
};

struct xt_light_port {
	__u16 port;
	__u8 format; /* enum xt_format */
};

struct xtwampd_opts {
	char ifaces[XT_MAX_IFACES][IF_NAMESIZE];
	int n_ifaces;
	enum xt_xdp_mode xdp_mode;
	enum xt_rx_ts_mode rx_ts;
	struct xt_light_port ports[XT_MAX_PORTS];
	int n_ports;
	bool stateless;
	struct xt_allow_key allow[XT_MAX_ALLOW_ARGS];
	int n_allow;
	bool default_deny;    /* enforce the allow-list even when empty */
	__u32 rate_limit_pps; /* 0 = unlimited */
	__u32 rate_burst;     /* 0 = derive from the rate */
	bool reserve_ports;   /* bind the light ports so no other program takes them */
	char pin_path[256];
	int verbosity; /* 0 = info, 1 = debug, 2 = trace */

	/* TWAMP-Control server (RFC 5357 §3) */
	bool control;	    /* false with --no-control */
	__u16 control_port; /* TCP */
	union xt_addr control_addrs[XT_MAX_CONTROL_ADDRS];
	int n_control_addrs;	  /* 0: one dual-stack [::] socket (0.0.0.0 without IPv6) */
	__u32 modes;		  /* XT_MODE_* offered in the Server-Greeting */
	char keys_path[PATH_MAX]; /* "" = no key file: unauthenticated modes only */
	__u8 count_exponent;	  /* Server-Greeting Count = 2^count_exponent */
	__u32 servwait_s;
	__u32 refwait_s;
	__u32 max_connections;
	__u32 max_connections_per_client;
	__u32 max_sessions;
	__u32 max_sessions_per_connection;
	struct xt_allow_key control_allow[XT_MAX_CONTROL_PREFIXES]; /* empty = everyone */
	int n_control_allow;
	struct xt_allow_key require_auth[XT_MAX_CONTROL_PREFIXES];
	int n_require_auth;

	/* Prometheus exporter (metrics.h) */
	char metrics_listen[64];    /* "" = off; ADDR:PORT, [IPV6]:PORT or :PORT */
	__u32 metrics_sessions;	    /* cap on per-session series; 0 = none */
	char config_path[PATH_MAX]; /* --config FILE, "" = none (SIGHUP re-reads it) */
};

int xtwampd_parse_args(int argc, char **argv, struct xtwampd_opts *o, char *err, size_t errlen);
void xtwampd_usage(FILE *out);

/* Burst the rate limiter allows when --rate-burst is not given. */
__u32 xtwampd_default_burst(__u32 rate_pps);

/* "unauthenticated,individual,..." for a Modes value (unknown bits as 0x...). */
const char *xt_modes_format(__u32 modes, char *buf, size_t len);

#endif /* XTWAMP_DAEMON_OPTS_H */
