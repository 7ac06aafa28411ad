// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xtwampd --config: the INI file becomes options before the command line,
 * which overrides single values and replaces lists; bad files are refused
 * with FILE and the culprit in the message.  Also --metrics parsing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "addr.h"
#include "daemon_opts.h"
#include "metrics.h"

static struct xtwampd_opts opts;
static char err[512];
static char path[64];

#define PARSE(...)                                                                              \
	({                                                                                      \
		char *argv[] = { "xtwampd", __VA_ARGS__, NULL };                                \
		xtwampd_parse_args((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, &opts, err, \
				   sizeof(err));                                                \
	})

static void write_file(const char *text)
{
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/xtwamp-conf.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Test that every kind of key maps to its option. */
static void test_file_options(void **state)
{
	(void)state;
	write_file("# comment\n"
		   "[reflector]\n"
		   "iface = eth0\n"
		   "iface = eth1\n"
		   "light_port = 8620\n"
		   "allow = 192.0.2.0/24, 2001:db8::/32\n"
		   "stateless = true\n"
		   "default-deny = no\n"
		   "rate-limit = 500\n"
		   "[control]\n"
		   "max-sessions = 100\n"
		   "[metrics]\n"
		   "metrics = 127.0.0.1:9862\n");
	assert_int_equal(PARSE("--config", path), 0);
	assert_int_equal(opts.n_ifaces, 2);
	assert_string_equal(opts.ifaces[1], "eth1");
	assert_int_equal(opts.n_ports, 1);
	assert_int_equal(opts.ports[0].port, 8620);
	assert_int_equal(opts.n_allow, 2);
	assert_true(opts.stateless);
	assert_false(opts.default_deny);
	assert_int_equal(opts.rate_limit_pps, 500);
	assert_int_equal(opts.max_sessions, 100);
	assert_string_equal(opts.metrics_listen, "127.0.0.1:9862");
	assert_string_equal(opts.config_path, path);
	unlink(path);
}

/* Test that the command line overrides values and replaces lists. */
static void test_override(void **state)
{
	(void)state;
	write_file("iface = eth0\nrate-limit = 500\nallow = 192.0.2.0/24\n");
	assert_int_equal(PARSE("--rate-limit", "7", "--config", path, "-i", "veth9",
			       "--allow=198.51.100.0/24,2001:db8::/48"),
			 0);
	assert_int_equal(opts.rate_limit_pps, 7);
	assert_int_equal(opts.n_ifaces, 1);
	assert_string_equal(opts.ifaces[0], "veth9");
	assert_int_equal(opts.n_allow, 2);
	/* lists the command line does not give come from the file */
	assert_int_equal(PARSE("--config="
			       "/dev/null",
			       "--iface", "eth5"),
			 0);
	assert_int_equal(PARSE("--config", path, "--max-sessions", "9"), 0);
	assert_int_equal(opts.n_ifaces, 1);
	assert_string_equal(opts.ifaces[0], "eth0");
	assert_int_equal(opts.n_allow, 1);
	assert_int_equal(opts.max_sessions, 9);
	unlink(path);
}

/* Test that bad files are refused with the file and the key in the message. */
static void test_bad_files(void **state)
{
	(void)state;
	write_file("iface = eth0\nno-such-option = 1\n");
	assert_int_equal(PARSE("--config", path), -EINVAL);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "no-such-option"));
	unlink(path);

	write_file("iface = eth0\nstateless = maybe\n");
	assert_int_equal(PARSE("--config", path), -EINVAL);
	assert_non_null(strstr(err, "true or false"));
	unlink(path);

	write_file("iface = eth0\nconfig = /etc/other\n");
	assert_int_equal(PARSE("--config", path), -EINVAL);
	unlink(path);

	write_file("iface eth0\n");
	assert_int_equal(PARSE("--config", path), -EINVAL);
	assert_non_null(strstr(err, ":1"));
	unlink(path);

	write_file("rate-limit = lots\n");
	assert_int_equal(PARSE("--config", path, "-i", "eth0"), -EINVAL);
	assert_non_null(strstr(err, "--rate-limit"));
	assert_non_null(strstr(err, "--config"));
	unlink(path);

	assert_true(PARSE("--config", "/nonexistent/xtwamp.conf") < 0);
	assert_non_null(strstr(err, "/nonexistent/xtwamp.conf"));
}

/* Test --metrics and --metrics-sessions. */
static void test_metrics_options(void **state)
{
	union xt_addr a;
	__u16 port;
	bool any;

	(void)state;
	assert_int_equal(metrics_parse_listen("127.0.0.1:9862", &a, &any, &port), 0);
	assert_false(any);
	assert_int_equal(port, 9862);
	assert_int_equal(metrics_parse_listen("[2001:db8::1]:80", &a, &any, &port), 0);
	assert_int_equal(metrics_parse_listen(":9862", &a, &any, &port), 0);
	assert_true(any);
	assert_int_equal(metrics_parse_listen("2001:db8::1:80", &a, &any, &port), -EINVAL);
	assert_int_equal(metrics_parse_listen("127.0.0.1", &a, &any, &port), -EINVAL);
	assert_int_equal(metrics_parse_listen("127.0.0.1:0", &a, &any, &port), -EINVAL);
	assert_int_equal(metrics_parse_listen("127.0.0.1:65536", &a, &any, &port), -EINVAL);
	assert_int_equal(metrics_parse_listen("host.example:80", &a, &any, &port), -EINVAL);

	assert_int_equal(PARSE("-i", "eth0", "--metrics", "[::1]:9862", "--metrics-sessions", "50"),
			 0);
	assert_string_equal(opts.metrics_listen, "[::1]:9862");
	assert_int_equal(opts.metrics_sessions, 50);
	assert_int_equal(PARSE("-i", "eth0", "--metrics-sessions", "5"), -EINVAL);
	assert_non_null(strstr(err, "--metrics"));
	assert_int_equal(PARSE("-i", "eth0", "--metrics", "nowhere"), -EINVAL);
	assert_non_null(strstr(err, "nowhere"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_options),
		cmocka_unit_test(test_override),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_metrics_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
