// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xtwampd - the xtwamp reflector daemon: loads the XDP reflector, attaches
 * it, serves TWAMP-Control (negotiated sessions, authenticated ones through
 * the AF_XDP path), keeps the clock current and detaches on SIGINT/SIGTERM;
 * SIGUSR2 exits for a restart (upgrade) and leaves the reflector to the
 * next xtwampd (XTWAMPD_EXIT_HANDOVER).
 *
 * One thread, one epoll loop: a signalfd (SIGINT/SIGTERM stop, SIGHUP
 * reloads), a 1 s timerfd (clock refresh, session sweep, control timers,
 * state file), the control server's epoll descriptor, the auth path's and
 * the metrics exporter's.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "auth_path.h"
#include "clock.h"
#include "control_server.h"
#include "daemon_opts.h"
#include "daemon_state.h"
#include "keyfile.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "session_table.h"
#include "xtwamp.skel.h"

#ifndef XTWAMP_VERSION
#define XTWAMP_VERSION "0.1.0"
#endif

/*
 * Exit status after SIGUSR2: the program stays attached and the maps
 * pinned, as after a crash, for the next xtwampd to adopt without a gap
 * (loader.h); the unit restarts on it (RestartForceExitStatus=).  75 is
 * EX_TEMPFAIL: "try again".
 */
#define XTWAMPD_EXIT_HANDOVER 75

/* What an epoll event of the main loop is for (data.u32). */
enum { EV_SIGNAL, EV_TIMER, EV_CONTROL, EV_METRICS, EV_AUTH };

struct daemon {
	struct xtwampd_opts *opts;
	struct xt_loader loader;
	bool loader_open;
	struct tw_keyring keys;
	bool have_keys;
	struct auth_path *auth;
	struct session_table *sessions;
	struct control_server *control;
	struct daemon_view view; /* what the state file and /metrics show */
	struct metrics *metrics; /* --metrics, or NULL */
	bool state_write_warned;
	bool state_written; /* ours to remove at exit */
	int argc;	    /* for SIGHUP */
	char **argv;
	__u32 modes; /* offered on TWAMP-Control */
	int epfd, sigfd, timerfd;
	int auth_fds[4];
	int n_auth_fds;
	bool ran;	    /* reached "ready": the counters are worth a log line */
	bool no_iface_left; /* every --iface was deleted: run() ends, exit status 1 */
};

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

/*
 * Every session port and control connection is a descriptor: the default
 * soft limit (1024) is below --max-sessions + --max-connections.
 */
static void raise_nofile_limit(const struct xtwampd_opts *o)
{
	rlim_t want = (rlim_t)o->max_sessions + o->max_connections + 256;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < want)
		log_warn(
			"only %llu file descriptors allowed (ulimit -n), fewer than --max-sessions "
			"+ --max-connections need: raise the hard limit or lower those",
			(unsigned long long)rl.rlim_cur);
}

/* At start and on every SIGHUP that re-reads the file. */
static void warn_loose_keys(const struct tw_keyring *keys, const char *path)
{
	if (keys->loose_permissions)
		log_warn("--keys %s can be read or written by group or others: the shared secrets "
			 "should be private (chmod 600 %s)",
			 path, path);
}

static int load_keys(struct daemon *d)
{
	char err[512];
	int rc;

	if (!d->opts->keys_path[0])
		return 0;
	rc = tw_keyring_load(d->opts->keys_path, &d->keys, err, sizeof(err));
	if (rc) {
		log_error("--keys %s%s", err,
			  rc == -EINVAL ?
				  " (format: one \"KeyID hex-passphrase\" per line, # comments)" :
			  rc == -EACCES ? " (run as root, or let xtwampd's user read it)" :
					  "");
		return rc;
	}
	d->have_keys = true;
	warn_loose_keys(&d->keys, d->opts->keys_path);
	log_info("%zu key%s loaded from %s", d->keys.n_keys, d->keys.n_keys == 1 ? "" : "s",
		 d->opts->keys_path);
	return 0;
}

static int ep_add(int epfd, int fd, __u32 tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* SIGINT/SIGTERM as events of the loop, never as asynchronous handlers. */
static int open_signalfd(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int open_timerfd(void)
{
	struct itimerspec one_second = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (timerfd_settime(fd, 0, &one_second, NULL)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/*
 * The auth path serves its sessions on TWAMP Light ports through the
 * loader's reserving sockets (session_table.h): lend them.
 */
static void lend_light_sockets(struct daemon *d)
{
	int i, err;

	if (!d->auth || !d->opts->reserve_ports)
		return;
	for (i = 0; i < d->opts->n_ports && i < d->loader.n_port_fds; i++) {
		if (d->opts->ports[i].format != XT_FMT_TWAMP)
			continue;
		err = auth_path_set_port_socket(d->auth, d->opts->ports[i].port,
						d->loader.port_fds[i]);
		if (err)
			log_debug("UDP %u: not lent to the auth path: %s", d->opts->ports[i].port,
				  strerror(-err));
	}
}

static int start_control(struct daemon *d, __u64 start_ntp)
{
	const struct xtwampd_opts *o = d->opts;
	struct session_table_config st = {
		.sessions_fd = bpf_map__fd(d->loader.skel->maps.xtwamp_sessions),
		.ports_fd = bpf_map__fd(d->loader.skel->maps.xtwamp_ports),
		.max_sessions = o->max_sessions,
		.max_per_owner = o->max_sessions_per_connection,
		.refwait_ns = (__u64)o->refwait_s * XT_NSEC_PER_SEC,
	};
	struct control_server_config cs = {
		.opts = o,
		.keys = d->have_keys ? &d->keys : NULL,
		.server_start_ntp = start_ntp,
	};
	int err;

	d->modes = o->modes;
	if (d->modes & XT_MODE_TEST_CIPHER) {
		/*
		 * XTWAMPD_NO_AF_XDP=1 serves keyed sessions through the UDP socket
		 * fallback only, so bench/ can measure that path on a machine where
		 * AF_XDP works.
		 */
		struct auth_path_opts ao = { .no_af_xdp = getenv("XTWAMPD_NO_AF_XDP") != NULL };

		err = auth_path_open_opts(&d->auth, &d->loader, &ao);
		if (err) {
			log_error(
				"cannot set up the path for authenticated/encrypted test packets: "
				"%s (offer --modes without authenticated,encrypted)",
				strerror(-err));
			return err;
		}
		lend_light_sockets(d);
	}
	st.auth = d->auth;
	err = session_table_new(&st, &d->sessions);
	if (err) {
		log_error("cannot create the session table: %s", strerror(-err));
		return err;
	}
	cs.modes = d->modes;
	cs.sessions = d->sessions;
	return control_server_open(&cs, &d->control);
}

static void log_ready(const struct daemon *d)
{
	const struct xtwampd_opts *o = d->opts;
	char ports[512] = "", control[512], modes[128];
	size_t len = 0;
	int i;

	for (i = 0; i < o->n_ports && len < sizeof(ports) - 32; i++)
		len += snprintf(ports + len, sizeof(ports) - len, "%s%s %u", i ? ", " : "",
				o->ports[i].format == XT_FMT_STAMP ? "STAMP" : "TWAMP Light",
				o->ports[i].port);
	if (d->control) {
		char where[256];

		snprintf(control, sizeof(control), "TWAMP-Control on %s (modes %s)",
			 control_server_describe(d->control, where, sizeof(where)),
			 xt_modes_format(d->modes, modes, sizeof(modes)));
	} else {
		snprintf(control, sizeof(control), "no TWAMP-Control (--no-control)");
	}
	log_info("ready: reflecting %s (%s, rate limit %u pps/source%s); %s; maps pinned in %s",
		 ports, o->stateless ? "stateless" : "stateful", o->rate_limit_pps,
		 o->n_allow || o->default_deny ? ", allow-list enforced" : "", control,
		 o->pin_path);
}

/* The state file of `xtwamp stats` / `xtwamp sessions` (daemon_state.h). */
static void publish_state(struct daemon *d)
{
	int err;

	d->view.pin_path = d->opts->pin_path;
	d->view.version = XTWAMP_VERSION;
	d->view.loader = &d->loader;
	d->view.control = d->control;
	d->view.sessions = d->sessions;
	d->view.auth = d->auth;
	err = daemon_state_write(&d->view);
	if (!err)
		d->state_written = true;
	if (err && !d->state_write_warned) {
		char path[256];

		log_warn("cannot write %s: %s; `xtwamp stats` will not show the control plane "
			 "(is " DS_RUN_DIR " writable? systemd: RuntimeDirectory=xtwamp)",
			 daemon_state_path(d->opts->pin_path, path, sizeof(path)), strerror(-err));
		d->state_write_warned = true;
	}
}

static void iface_gone(void *ctx, int ifindex)
{
	struct daemon *d = ctx;

	auth_path_iface_gone(d->auth, ifindex);
}

/* The 1 s tick: interfaces, clock, sessions, control timers. */
static void on_timer(struct daemon *d)
{
	__u64 expirations;

	if (read(d->timerfd, &expirations, sizeof(expirations)) < 0)
		return;
	/*
	 * A deleted interface takes its program along; the others keep
	 * reflecting.  With none left there is nothing to serve: stop cleanly
	 * and exit 1, so a service manager's restart policy decides.
	 */
	if (!loader_check_ifaces(&d->loader, iface_gone, d)) {
		log_error("no --iface left to reflect on (all deleted); exiting");
		d->no_iface_left = true;
		return;
	}
	loader_check_pins(&d->loader);
	if (loader_refresh_clock(&d->loader))
		log_warn("clock refresh failed; replies keep the previous Error Estimate");
	if (d->sessions)
		session_table_sweep(d->sessions);
	if (d->control)
		control_server_tick(d->control);
	loader_sweep_orphans(&d->loader, (__u64)d->opts->refwait_s * XT_NSEC_PER_SEC);
	publish_state(d);
	metrics_handle(d->metrics); /* connection timeouts */
}

/* What differs between two option sets that SIGHUP cannot change; "" if nothing. */
static const char *needs_restart(const struct xtwampd_opts *a, const struct xtwampd_opts *b)
{
	if (a->n_ifaces != b->n_ifaces || memcmp(a->ifaces, b->ifaces, sizeof(a->ifaces)))
		return "--iface";
	if (a->n_ports != b->n_ports || memcmp(a->ports, b->ports, sizeof(a->ports)) ||
	    a->stateless != b->stateless || a->reserve_ports != b->reserve_ports)
		return "test ports";
	if (a->xdp_mode != b->xdp_mode || a->rx_ts != b->rx_ts)
		return "--xdp-mode/--rx-timestamp";
	if (strcmp(a->pin_path, b->pin_path))
		return "--pin-path";
	if (a->control != b->control || a->control_port != b->control_port ||
	    a->n_control_addrs != b->n_control_addrs ||
	    memcmp(a->control_addrs, b->control_addrs, sizeof(a->control_addrs)) ||
	    a->modes != b->modes || a->count_exponent != b->count_exponent)
		return "control port, addresses or modes";
	if (strcmp(a->metrics_listen, b->metrics_listen) ||
	    a->metrics_sessions != b->metrics_sessions)
		return "--metrics";
	if (!a->keys_path[0] != !b->keys_path[0])
		return "--keys on/off";
	return "";
}

/*
 * SIGHUP: parse the command line (and --config file) again and apply what
 * can change without touching sessions: keys, allow-list, rate limit,
 * control limits, prefixes and timers.  Anything else needs a restart
 * (logged).  A file that does not parse changes nothing.
 */
static void reload(struct daemon *d)
{
	struct xtwampd_opts *n = calloc(1, sizeof(*n));
	struct xtwampd_opts *o = d->opts;
	struct tw_keyring keys;
	const char *fixed;
	char err[512];
	int rc;

	if (!n) {
		log_error("SIGHUP: out of memory; nothing reloaded");
		return;
	}
	rc = xtwampd_parse_args(d->argc, d->argv, n, err, sizeof(err));
	if (rc) {
		log_error("SIGHUP: %s; nothing reloaded (fix it and send SIGHUP again)",
			  rc > 0 ? "unexpected --help/--version" : err);
		free(n);
		return;
	}
	if (o->control && n->keys_path[0]) {
		rc = tw_keyring_load(n->keys_path, &keys, err, sizeof(err));
		if (rc) {
			log_error("SIGHUP: --keys %s; nothing reloaded", err);
			free(n);
			return;
		}
		if (d->have_keys) /* the control server holds &d->keys: replace in place */
			tw_keyring_free(&d->keys);
		d->keys = keys;
		d->have_keys = true;
		warn_loose_keys(&d->keys, n->keys_path);
	}
	fixed = needs_restart(o, n);
	if (*fixed)
		log_warn("SIGHUP: %s changed: that needs a restart (kept as is)", fixed);
	memcpy(o->allow, n->allow, sizeof(o->allow));
	o->n_allow = n->n_allow;
	o->default_deny = n->default_deny;
	o->rate_limit_pps = n->rate_limit_pps;
	o->rate_burst = n->rate_burst;
	o->servwait_s = n->servwait_s;
	o->refwait_s = n->refwait_s;
	o->max_connections = n->max_connections;
	o->max_connections_per_client = n->max_connections_per_client;
	o->max_sessions = n->max_sessions;
	o->max_sessions_per_connection = n->max_sessions_per_connection;
	memcpy(o->control_allow, n->control_allow, sizeof(o->control_allow));
	o->n_control_allow = n->n_control_allow;
	memcpy(o->require_auth, n->require_auth, sizeof(o->require_auth));
	o->n_require_auth = n->n_require_auth;
	o->verbosity = n->verbosity;
	log_set_level(LOG_LEVEL_INFO + (o->verbosity > 2 ? 2 : o->verbosity));
	free(n);
	rc = loader_sync_allow(&d->loader, o);
	if (rc)
		log_error("SIGHUP: cannot update the allow-list/rate limit in the maps: %s",
			  strerror(-rc));
	if (d->sessions)
		session_table_set_limits(d->sessions, o->max_sessions,
					 o->max_sessions_per_connection,
					 (__u64)o->refwait_s * XT_NSEC_PER_SEC);
	log_info("SIGHUP: reloaded%s%s: %d allow-list prefixes%s, rate limit %u pps/source, "
		 "max %u connections, %u sessions%s",
		 o->config_path[0] ? " " : "", o->config_path, o->n_allow,
		 o->n_allow || o->default_deny ? " (enforced)" : "", o->rate_limit_pps,
		 o->max_connections, o->max_sessions, d->have_keys ? ", keys re-read" : "");
}

/*
 * SIGUSR2: leave for the next xtwampd.  The state file is brought up to
 * date (the next one names the sessions it adopts from it) and left; the
 * loader, the session table and the control server are not torn down, so
 * the link, the pins and the negotiated sessions' map entries stay.  The
 * control connections, the AF_XDP sockets and the pin-directory lock go
 * with the process.
 */
static int hand_over(struct daemon *d)
{
	publish_state(d);
	metrics_close(d->metrics);
	if (d->control)
		control_server_log_stats(d->control);
	if (d->sessions)
		session_table_log_stats(d->sessions);
	log_info("exiting for a restart: the XDP program stays attached and the maps pinned in "
		 "%s; the next xtwampd adopts them (exit status %d)",
		 d->opts->pin_path, XTWAMPD_EXIT_HANDOVER);
	return XTWAMPD_EXIT_HANDOVER;
}

/* Run until a signal; returns the signal number, 0 when no interface is left. */
static int run(struct daemon *d)
{
	struct epoll_event ev[16];
	struct signalfd_siginfo si;
	int n, i;

	for (;;) {
		n = epoll_wait(d->epfd, ev, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("epoll_wait: %s", strerror(errno));
			return SIGTERM;
		}
		for (i = 0; i < n; i++) {
			__u32 tag = ev[i].data.u32;

			if (tag == EV_SIGNAL) {
				if (read(d->sigfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP)
					reload(d);
				else
					return (int)si.ssi_signo;
			} else if (tag == EV_TIMER) {
				on_timer(d);
				if (d->no_iface_left)
					return 0;
			} else if (tag == EV_CONTROL) {
				control_server_handle(d->control);
			} else if (tag == EV_METRICS) {
				metrics_handle(d->metrics);
			} else if (tag >= EV_AUTH && tag < EV_AUTH + (__u32)d->n_auth_fds) {
				auth_path_handle(d->auth, d->auth_fds[tag - EV_AUTH]);
			}
		}
	}
}

static int setup_loop(struct daemon *d)
{
	int err, i;

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		return -errno;
	d->timerfd = open_timerfd();
	if (d->timerfd < 0)
		return d->timerfd;
	err = ep_add(d->epfd, d->sigfd, EV_SIGNAL);
	if (!err)
		err = ep_add(d->epfd, d->timerfd, EV_TIMER);
	if (!err && d->control)
		err = ep_add(d->epfd, control_server_fd(d->control), EV_CONTROL);
	if (!err && d->metrics)
		err = ep_add(d->epfd, metrics_fd(d->metrics), EV_METRICS);
	if (d->auth)
		d->n_auth_fds = auth_path_fds(d->auth, d->auth_fds, 4);
	for (i = 0; !err && i < d->n_auth_fds; i++)
		err = ep_add(d->epfd, d->auth_fds[i], EV_AUTH + i);
	return err;
}

/* Undo whatever start-up did, in reverse; safe on a partial start. */
static void teardown(struct daemon *d)
{
	metrics_close(d->metrics);
	if (d->state_written)
		daemon_state_remove(d->opts->pin_path);
	if (d->control) {
		if (d->ran)
			control_server_log_stats(d->control);
		control_server_close(d->control); /* each connection's sessions go with it */
	}
	if (d->sessions) {
		if (d->ran)
			session_table_log_stats(d->sessions);
		session_table_free(d->sessions); /* what is left (none, normally) */
	}
	auth_path_close(d->auth);
	if (d->loader_open)
		loader_close(&d->loader);
	if (d->have_keys)
		tw_keyring_free(&d->keys);
	if (d->timerfd >= 0)
		close(d->timerfd);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->epfd >= 0)
		close(d->epfd);
}

int main(int argc, char **argv)
{
	struct daemon d = { .epfd = -1, .sigfd = -1, .timerfd = -1 };
	__u64 start_ntp = xt_unix_ns_to_ntp64(xt_realtime_ns()); /* Server-Start Start-Time */
	char err[256];
	int rc, i, sig;

	log_init("xtwampd", LOG_LEVEL_INFO);
	d.argc = argc;
	d.argv = argv;
	d.opts = calloc(1, sizeof(*d.opts));
	if (!d.opts) {
		log_error("out of memory");
		return 1;
	}
	rc = xtwampd_parse_args(argc, argv, d.opts, err, sizeof(err));
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
	log_set_level(LOG_LEVEL_INFO + (d.opts->verbosity > 2 ? 2 : d.opts->verbosity));
	log_route_libbpf();
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	raise_memlock_limit();
	raise_nofile_limit(d.opts);

	d.sigfd = open_signalfd();
	if (d.sigfd < 0) {
		log_error("cannot set up signal handling: %s", strerror(-d.sigfd));
		return 1;
	}
	rc = d.opts->control ? load_keys(&d) : 0;
	if (!rc) {
		rc = loader_open(&d.loader, d.opts);
		d.loader_open = true; /* loader_close() undoes a partial open too */
	}
	for (i = 0; !rc && i < d.opts->n_ifaces; i++)
		rc = loader_attach(&d.loader, d.opts->ifaces[i], d.opts);
	if (!rc)
		loader_finish_adoption(&d.loader);
	if (!rc && d.opts->reserve_ports)
		rc = loader_reserve_ports(&d.loader, d.opts);
	if (!rc && d.opts->control)
		rc = start_control(&d, start_ntp);
	d.view.started = time(NULL);
	if (!rc) {
		publish_state(&d);
		if (d.opts->metrics_listen[0])
			rc = metrics_open(d.opts->metrics_listen, &d.view, d.opts->metrics_sessions,
					  &d.metrics);
	}
	if (!rc) {
		rc = setup_loop(&d);
		if (rc)
			log_error("cannot set up the event loop: %s", strerror(-rc));
	}
	if (rc) {
		teardown(&d);
		free(d.opts);
		return 1;
	}

	log_ready(&d);
	if (d.metrics)
		log_info("Prometheus metrics on http://%s/metrics", d.opts->metrics_listen);
	d.ran = true;
	sig = run(&d);
	if (sig == SIGUSR2)
		return hand_over(&d);
	log_info("%s: shutting down", sig ? strsignal(sig) : "no interface left");
	teardown(&d);
	free(d.opts);
	return sig ? 0 : 1;
}
