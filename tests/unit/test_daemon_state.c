// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The daemon's state file and the exposition: what xtwampd writes,
 * `xtwamp stats` reads back (running, interfaces, fields), a stale or
 * missing file reads as "not running", and metrics_write() without maps
 * still says xtwamp_up 0 with the interface series.  A session adopted
 * from a daemon that died is written as "orphaned" and counted.  Writes under
 * /run/xtwamp: needs root, skipped otherwise.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "daemon_state.h"
#include "loader.h"
#include "metrics.h"
#include "stats.h"

static void test_round_trip(void **state)
{
	struct xt_loader *l = calloc(1, sizeof(*l));
	struct daemon_view v = { 0 };
	struct xt_daemon_state ds;
	char pin[96], buf[64], *text = NULL;
	const char *line;
	size_t len = 0;
	FILE *f;

	(void)state;
	if (geteuid() != 0) {
		free(l);
		skip();
	}
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/xtwamp-unitstate-%d", (int)getpid());
	snprintf(l->ifaces[0].name, sizeof(l->ifaces[0].name), "veth-r");
	l->ifaces[0].ifindex = 7;
	l->ifaces[0].native = true;
	l->n_ifaces = 1;
	v.pin_path = pin;
	v.version = "9.9.9";
	v.started = time(NULL) - 5;
	v.loader = l;
	/* one session adopted from a daemon that died, as the loader names it */
	struct xt_orphan orphan = { .sid = "c0000201eebb8e5cdcc8c1982a528a64",
				    .mode = "unauthenticated",
				    .peer = "192.0.2.2" };
	orphan.key.sender_addr.b[10] = orphan.key.sender_addr.b[11] = 0xff;
	orphan.key.sender_addr.b[12] = 192;
	orphan.key.sender_addr.b[14] = 2;
	orphan.key.sender_addr.b[15] = 2;
	orphan.key.reflector_addr = orphan.key.sender_addr;
	orphan.key.reflector_addr.b[15] = 1;
	orphan.key.sender_port = htons(40000);
	orphan.key.reflector_port = htons(50000);
	l->orphans = &orphan;
	l->n_orphans = 1;

	assert_int_equal(stats_read_daemon(pin, &ds), 0);
	assert_false(ds.present);
	assert_false(ds.running);

	assert_int_equal(daemon_state_write(&v), 0);
	assert_int_equal(stats_read_daemon(pin, &ds), 0);
	assert_true(ds.present);
	assert_true(ds.running);
	assert_int_equal(ds.pid, getpid());
	assert_string_equal(ds.version, "9.9.9");
	assert_true(ds.n_lines >= 2);
	assert_string_equal(stats_field(ds.lines[0], "name", buf, sizeof(buf)), "veth-r");
	assert_string_equal(stats_field(ds.lines[0], "xdp_mode", buf, sizeof(buf)), "native");
	assert_string_equal(stats_field(ds.lines[0], "rx_timestamps", buf, sizeof(buf)),
			    "software");
	assert_string_equal(stats_field(ds.lines[0], "nothing", buf, sizeof(buf)), "");
	line = stats_session_line(&ds, &orphan.key);
	assert_non_null(line);
	assert_string_equal(line,
			    "session sid=c0000201eebb8e5cdcc8c1982a528a64 sender=192.0.2.2:40000 "
			    "reflector=192.0.2.1:50000 ssid=0 mode=unauthenticated path=xdp "
			    "state=orphaned in_kernel=1 control_peer=192.0.2.2");
	stats_free_daemon(&ds);

	f = open_memstream(&text, &len);
	assert_int_equal(metrics_write(f, &v, 0), 0);
	fclose(f);
	assert_non_null(strstr(text, "\nxtwamp_up 0\n"));
	assert_non_null(strstr(text,
			       "xtwamp_interface_info{interface=\"veth-r\",xdp_mode=\"native\","
			       "rx_timestamps=\"software\"} 1\n"));
	assert_non_null(strstr(text, "# TYPE xtwamp_interface_info gauge\n"));
	assert_non_null(strstr(text, "\nxtwamp_sessions_orphaned 1\n"));
	free(text);

	daemon_state_remove(pin);
	assert_int_equal(stats_read_daemon(pin, &ds), 0);
	assert_false(ds.present);
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
