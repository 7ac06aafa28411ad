// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Restart without losing measurement, the map half (the link half needs an
 * interface: tests/e2e/test_restart.sh): a loader that "dies" (its pins
 * stay, nothing is unpinned) is followed by one that adopts the maps:
 * counters, flows and unauthenticated sessions carry on, authenticated
 * sessions and stale light ports and allow-list prefixes go, the clock
 * stays published; orphaned sessions are swept after their stop deadline
 * or REFWAIT; a clean close removes every pin.  Needs root and bpffs;
 * skipped otherwise.  Loads the real program (no attach, no RTNL).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clock.h"
#include "daemon_opts.h"
#include "loader.h"
#include "log.h"
#include "stats.h"
#include "xtwamp.skel.h"

static char pin[128];

static void make_opts(struct xtwampd_opts *o, __u16 port, const char *allow)
{
	char err[256];
	char *argv[] = { "xtwampd",    "-i", "lo", "--light-port", NULL, "--allow", NULL,
			 "--pin-path", pin,  NULL };
	char portbuf[8];

	snprintf(portbuf, sizeof(portbuf), "%u", port);
	argv[4] = portbuf;
	argv[6] = (char *)allow;
	assert_int_equal(xtwampd_parse_args(9, argv, o, err, sizeof(err)), 0);
}

/* Needs root (bpffs, BPF): skipped otherwise.  Fresh options and pin path. */
static struct xtwampd_opts *begin(void)
{
	struct xtwampd_opts *o;

	if (geteuid() != 0)
		skip();
	o = calloc(1, sizeof(*o));
	assert_non_null(o);
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/xtwamp-unit-%d", (int)getpid());
	return o;
}

/* What a SIGKILLed xtwampd leaves: pins, no unpinning. */
static void die(struct xt_loader *l)
{
	xtwamp__destroy(l->skel);
	l->skel = NULL;
	close(l->lock_fd);
	free(l->orphans);
}

static struct xt_session_key session_key(__u8 last, __u16 sport)
{
	struct xt_session_key k = { 0 };

	k.sender_addr.b[10] = k.sender_addr.b[11] = 0xff;
	k.sender_addr.b[12] = 192;
	k.sender_addr.b[14] = 2;
	k.sender_addr.b[15] = last;
	k.reflector_addr = k.sender_addr;
	k.reflector_addr.b[15] = 1;
	k.sender_port = htons(sport);
	k.reflector_port = htons(50000);
	return k;
}

static __u8 port_flags(struct xt_loader *l, __u32 port)
{
	struct xt_port pe;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.xtwamp_ports), &port, &pe),
			 0);
	return pe.flags;
}

static int count_allow(struct xt_loader *l)
{
	int fd = bpf_map__fd(l->skel->maps.xtwamp_allow), n = 0;
	struct xt_allow_key k, next;

	if (bpf_map_get_next_key(fd, NULL, &next))
		return 0;
	do {
		k = next;
		n++;
	} while (!bpf_map_get_next_key(fd, &k, &next));
	return n;
}

static void test_adopt(void **state)
{
	struct xtwampd_opts *o = begin();
	struct xt_loader l;
	struct xt_session s = { .state = XT_SESS_STARTED }, got;
	struct xt_session_key k1 = session_key(2, 40000), k2 = session_key(3, 40001),
			      k3 = session_key(4, 40002);
	struct xt_port port;
	struct xt_config cfg;
	struct xt_stats st;
	__u64 *vals;
	__u32 key, zero = 0;
	int ncpu = libbpf_num_possible_cpus();

	(void)state;

	/* first life: counters, sessions (one authenticated), port 8620, allow 192.0.2.0/24 */
	make_opts(o, 8620, "192.0.2.0/24");
	assert_int_equal(loader_open(&l, o), 0);
	vals = calloc((size_t)ncpu, sizeof(*vals));
	vals[0] = 41;
	key = XT_CNT_REFLECTED;
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(l.skel->maps.xtwamp_counters), &key, vals,
					     BPF_ANY),
			 0);
	s.first_rx_ns = s.last_rx_ns = xt_tai_ns();
	s.rx_packets = s.tx_packets = 7;
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(l.skel->maps.xtwamp_sessions), &k1, &s,
					     BPF_ANY),
			 0);
	s.stop_deadline_ns = xt_tai_ns() - 1; /* stopped, deadline passed */
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(l.skel->maps.xtwamp_sessions), &k3, &s,
					     BPF_ANY),
			 0);
	/* the sessions' port, and a port whose sessions are all gone */
	port = (struct xt_port){ .flags = XT_PORT_SESSIONS };
	for (key = 50000; key <= 50001; key++)
		assert_int_equal(bpf_map_update_elem(bpf_map__fd(l.skel->maps.xtwamp_ports), &key,
						     &port, BPF_ANY),
				 0);
	s.stop_deadline_ns = 0;
	s.flags = XT_SESS_USERSPACE;
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(l.skel->maps.xtwamp_sessions), &k2, &s,
					     BPF_ANY),
			 0);
	die(&l);

	/* second life, another port and allow-list */
	make_opts(o, 8621, "198.51.100.0/24");
	assert_int_equal(loader_open(&l, o), 0);
	assert_true(l.n_adopted_maps > 0);
	assert_int_equal(stats_read(pin, &st), 0);
	assert_int_equal(st.counters[XT_CNT_REFLECTED], 41);
	assert_true(st.has_residence);
	assert_int_equal(st.sessions, 2); /* the authenticated one is gone */
	assert_int_equal(l.n_orphans, 2);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(l.skel->maps.xtwamp_sessions), &k1, &got),
			 0);
	assert_int_equal(got.rx_packets, 7);
	key = 8620;
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(l.skel->maps.xtwamp_ports), &key, &port),
			 0);
	assert_int_equal(port.flags & XT_PORT_LIGHT, 0);
	key = 8621;
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(l.skel->maps.xtwamp_ports), &key, &port),
			 0);
	assert_true(port.flags & XT_PORT_LIGHT);
	assert_int_equal(count_allow(&l), 1);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(l.skel->maps.xtwamp_config), &zero, &cfg),
			 0);
	assert_true(cfg.flags & XT_CFG_CLOCK_VALID);
	assert_true(cfg.flags & XT_CFG_ALLOWLIST_ENFORCED);

	/* the orphans' port keeps its session flag, the unused one loses it */
	assert_int_equal(port_flags(&l, 50000), XT_PORT_SESSIONS);
	assert_int_equal(port_flags(&l, 50001), 0);
	/* no state file of the dead daemon named them */
	assert_string_equal(l.orphans[0].sid, "-");

	/* the sweep: k3's deadline passed; k1 is idle for less than REFWAIT */
	loader_sweep_orphans(&l, 900ULL * 1000000000ULL);
	assert_int_equal(l.n_orphans, 1);
	assert_int_not_equal(
		bpf_map_lookup_elem(bpf_map__fd(l.skel->maps.xtwamp_sessions), &k3, &got), 0);
	assert_int_equal(port_flags(&l, 50000), XT_PORT_SESSIONS);
	/* ... and with a REFWAIT of 1 ns k1 goes too, and the port is free again */
	loader_sweep_orphans(&l, 1);
	assert_int_equal(l.n_orphans, 0);
	assert_int_equal(port_flags(&l, 50000), 0);
	assert_int_not_equal(
		bpf_map_lookup_elem(bpf_map__fd(l.skel->maps.xtwamp_sessions), &k1, &got), 0);

	/* SIGHUP: the allow-list follows the options, no gap */
	o->n_allow = 0;
	o->default_deny = false;
	assert_int_equal(loader_sync_allow(&l, o), 0);
	assert_int_equal(count_allow(&l), 0);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(l.skel->maps.xtwamp_config), &zero, &cfg),
			 0);
	assert_false(cfg.flags & XT_CFG_ALLOWLIST_ENFORCED);

	/* a clean close removes every pin and the directory */
	loader_close(&l);
	assert_int_not_equal(access(pin, F_OK), 0);
	free(vals);
	free(o);
}

/*
 * The old program keeps reflecting while the new xtwampd fills the adopted
 * maps: a port that stays configured must never read as "not ours" (the
 * packet would be passed to the stack and lost), and the clock must never
 * read as unpublished.  A thread samples both through their pins for the
 * whole of the second loader_open().
 */
struct watch {
	volatile int stop;
	long samples, port_gaps, clock_gaps;
};

static void *watch_maps(void *arg)
{
	struct watch *w = arg;
	char path[256];
	int ports_fd, cfg_fd;
	struct xt_config cfg;
	struct xt_port port;
	__u32 key = 8620, zero = 0;

	snprintf(path, sizeof(path), "%s/" XT_MAP_PORTS, pin);
	ports_fd = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/" XT_MAP_CONFIG, pin);
	cfg_fd = bpf_obj_get(path);
	while (!w->stop && ports_fd >= 0 && cfg_fd >= 0) {
		if (bpf_map_lookup_elem(ports_fd, &key, &port) || !(port.flags & XT_PORT_LIGHT))
			w->port_gaps++;
		if (bpf_map_lookup_elem(cfg_fd, &zero, &cfg) || !(cfg.flags & XT_CFG_CLOCK_VALID))
			w->clock_gaps++;
		w->samples++;
	}
	if (ports_fd >= 0)
		close(ports_fd);
	if (cfg_fd >= 0)
		close(cfg_fd);
	return NULL;
}

static void test_adopt_no_gap(void **state)
{
	struct xtwampd_opts *o = begin();
	struct watch w = { 0 };
	struct xt_loader l;
	pthread_t th;

	(void)state;
	make_opts(o, 8620, "192.0.2.0/24");
	assert_int_equal(loader_open(&l, o), 0);
	die(&l);

	/* same port, another allow-list and rate limit: what a restart after an edit does */
	make_opts(o, 8620, "198.51.100.0/24");
	o->rate_limit_pps = 5;
	assert_int_equal(pthread_create(&th, NULL, watch_maps, &w), 0);
	while (!w.samples)
		usleep(100);
	assert_int_equal(loader_open(&l, o), 0);
	w.stop = 1;
	pthread_join(th, NULL);
	print_message("%ld samples of port 8620 and the clock while the maps were adopted\n",
		      w.samples);
	assert_true(l.n_adopted_maps > 0);
	assert_int_equal(w.port_gaps, 0);
	assert_int_equal(w.clock_gaps, 0);
	loader_close(&l);
	assert_int_not_equal(access(pin, F_OK), 0);
	free(o);
}

/* A layout this build does not know: every pin is removed, nothing adopted. */
static void test_incompatible(void **state)
{
	struct xtwampd_opts *o = begin();
	char path[256];
	struct xt_loader l;
	int fd;

	(void)state;
	mkdir(pin, 0700);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, XT_MAP_COUNTERS, 4, 8, 3, NULL);
	assert_true(fd >= 0);
	snprintf(path, sizeof(path), "%s/%s", pin, XT_MAP_COUNTERS);
	assert_int_equal(bpf_obj_pin(fd, path), 0);
	close(fd);
	make_opts(o, 8620, "192.0.2.0/24");
	assert_int_equal(loader_open(&l, o), 0);
	assert_int_equal(l.n_adopted_maps, 0);
	loader_close(&l);
	assert_int_not_equal(access(pin, F_OK), 0);
	free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adopt),
		cmocka_unit_test(test_adopt_no_gap),
		cmocka_unit_test(test_incompatible),
	};

	log_init("test_loader_adopt", LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
