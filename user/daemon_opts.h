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

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "xtwamp_maps.h"

#define XT_MAX_IFACES 16
#define XT_MAX_PORTS 64
#define XT_MAX_ALLOW_ARGS 1024
#define XT_DEFAULT_RATE_PPS 10000
#define XT_OPTS_HELP 1
#define XT_OPTS_VERSION 2

enum xt_xdp_mode {
	XT_XDP_AUTO = 0, /* native, falling back to generic with a warning */
	XT_XDP_NATIVE,
	XT_XDP_GENERIC,
};

enum xt_rx_ts_mode {
	XT_RXTS_AUTO = 0, /* NIC timestamps where the driver offers them (native mode) */
	XT_RXTS_HW,	  /* insist on a device-bound program with the RX-timestamp kfunc */
	XT_RXTS_SW,	  /* kernel clock only */
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
};

int xtwampd_parse_args(int argc, char **argv, struct xtwampd_opts *o, char *err, size_t errlen);
void xtwampd_usage(FILE *out);

/* Burst the rate limiter allows when --rate-burst is not given. */
__u32 xtwampd_default_burst(__u32 rate_pps);

#endif /* XTWAMP_DAEMON_OPTS_H */
