// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xtwampd - the xtwamp reflector daemon: loads the XDP reflector, attaches
 * it, keeps its clock current and detaches on SIGINT/SIGTERM.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "daemon_opts.h"
#include "loader.h"
#include "log.h"

#ifndef XTWAMP_VERSION
#define XTWAMP_VERSION "0.1.0"
#endif

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void install_signal_handlers(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Old kernels charge BPF maps to RLIMIT_MEMLOCK; 5.11+ charge memcg.  Raising
 * the limit fails without CAP_SYS_RESOURCE, which is fine on those kernels.
 */
static void raise_memlock_limit(void)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };

	if (setrlimit(RLIMIT_MEMLOCK, &unlimited))
		log_debug("cannot raise RLIMIT_MEMLOCK (%s); fine on Linux 5.11+", strerror(errno));
}

int main(int argc, char **argv)
{
	struct xtwampd_opts *opts = calloc(1, sizeof(*opts));
	struct xt_loader loader;
	char err[256];
	int rc, i;

	log_init("xtwampd", LOG_LEVEL_INFO);
	if (!opts) {
		log_error("out of memory");
		return 1;
	}
	rc = xtwampd_parse_args(argc, argv, opts, err, sizeof(err));
	if (rc == XT_OPTS_HELP) {
		xtwampd_usage(stdout);
		return 0;
	}
	if (rc == XT_OPTS_VERSION) {
		printf("xtwampd %s\n", XTWAMP_VERSION);
		return 0;
	}
	if (rc) {
		log_error("%s", err);
		return 2;
	}
	log_set_level(LOG_LEVEL_INFO + (opts->verbosity > 2 ? 2 : opts->verbosity));
	log_route_libbpf();
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	raise_memlock_limit();
	install_signal_handlers();

	rc = loader_open(&loader, opts);
	for (i = 0; !rc && i < opts->n_ifaces; i++)
		rc = loader_attach(&loader, opts->ifaces[i], opts);
	if (!rc && opts->reserve_ports)
		rc = loader_reserve_ports(&loader, opts);
	if (rc) {
		loader_close(&loader);
		free(opts);
		return 1;
	}

	{
		char ports[512] = "";
		size_t len = 0;

		for (i = 0; i < opts->n_ports && len < sizeof(ports) - 32; i++)
			len += snprintf(ports + len, sizeof(ports) - len, "%s%s %u", i ? ", " : "",
					opts->ports[i].format == XT_FMT_STAMP ? "STAMP" :
										"TWAMP Light",
					opts->ports[i].port);
		log_info("ready: reflecting %s (%s, rate limit %u pps/source%s); maps pinned in %s",
			 ports, opts->stateless ? "stateless" : "stateful", opts->rate_limit_pps,
			 opts->n_allow || opts->default_deny ? ", allow-list enforced" : "",
			 opts->pin_path);
	}

	/* Keep the clock offset and Error Estimate current, about once a second. */
	while (!stop_signal) {
		struct timespec one_second = { 1, 0 };

		nanosleep(&one_second, NULL);
		if (stop_signal)
			break;
		if (loader_refresh_clock(&loader))
			log_warn("clock refresh failed; replies keep the previous Error Estimate");
	}
	log_info("%s: detaching", strsignal(stop_signal));
	loader_close(&loader);
	free(opts);
	return 0;
}
