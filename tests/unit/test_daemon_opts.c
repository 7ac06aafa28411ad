// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xtwampd's command line and the allow-list prefix parser: what is accepted,
 * what is refused, and that every refusal names the culprit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"
#include "daemon_opts.h"

static struct xtwampd_opts opts;
static char err[256];

#define PARSE(...)                                                                              \
	({                                                                                      \
		char *argv[] = { "xtwampd", __VA_ARGS__, NULL };                                \
		xtwampd_parse_args((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, &opts, err, \
				   sizeof(err));                                                \
	})

/* Test that one interface gives the documented defaults. */
static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--iface", "eth0"), 0);
	assert_int_equal(opts.n_ifaces, 1);
	assert_string_equal(opts.ifaces[0], "eth0");
	assert_int_equal(opts.xdp_mode, XT_XDP_AUTO);
	assert_int_equal(opts.rx_ts, XT_RXTS_SW);
	assert_int_equal(opts.n_ports, 1);
	assert_int_equal(opts.ports[0].port, 862);
	assert_int_equal(opts.ports[0].format, XT_FMT_TWAMP);
	assert_false(opts.stateless);
	assert_int_equal(opts.rate_limit_pps, 10000);
	assert_int_equal(opts.rate_burst, 1000);
	assert_string_equal(opts.pin_path, "/sys/fs/bpf/xtwamp");
	assert_int_equal(opts.n_allow, 0);
	assert_true(opts.reserve_ports);
	/* TWAMP-Control */
	assert_true(opts.control);
	assert_int_equal(opts.control_port, 862);
	assert_int_equal(opts.n_control_addrs, 0);
	assert_int_equal(opts.modes, XT_MODE_UNAUTHENTICATED | XT_MODE_INDIVIDUAL_SESSIONS |
					     XT_MODE_REFLECT_OCTETS | XT_MODE_SYMMETRICAL_SIZE);
	assert_string_equal(opts.keys_path, "");
	assert_int_equal(opts.count_exponent, 15);
	assert_int_equal(opts.servwait_s, 900);
	assert_int_equal(opts.refwait_s, 900);
	assert_int_equal(opts.max_connections, 256);
	assert_int_equal(opts.max_connections_per_client, 16);
	assert_int_equal(opts.max_sessions, 4096);
	assert_int_equal(opts.max_sessions_per_connection, 64);
	assert_int_equal(opts.n_control_allow, 0);
	assert_int_equal(opts.n_require_auth, 0);
}

/* Test that --keys adds the modes that need them to the default offer. */
static void test_keys_default_modes(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--iface", "eth0", "--keys", "/etc/xtwamp/keys"), 0);
	assert_string_equal(opts.keys_path, "/etc/xtwamp/keys");
	assert_int_equal(opts.modes, 0x7f);
	/* --modes overrides the default, with or without keys */
	assert_int_equal(PARSE("--iface", "eth0", "--keys", "k", "--modes", "encrypted"), 0);
	assert_int_equal(opts.modes, XT_MODE_ENCRYPTED);
}

/* Test every TWAMP-Control option and the forms --modes accepts. */
static void test_control_options(void **state)
{
	char buf[128];
	(void)state;

	assert_int_equal(PARSE("-i", "eth0", "--control-port", "8620", "--control-addr",
			       "192.0.2.1", "--control-addr", "2001:db8::1", "--keys", "k",
			       "--modes", "unauthenticated,Authenticated mixed,reflect-octets",
			       "--max-count-exponent", "20", "--refwait", "60", "--servwait", "120",
			       "--max-connections", "10", "--max-connections-per-client", "2",
			       "--max-sessions", "100", "--max-sessions-per-connection", "5",
			       "--control-allow", "192.0.2.0/24,2001:db8::/32", "--control-allow",
			       "198.51.100.7", "--require-auth", "198.51.100.0/24"),
			 0);
	assert_true(opts.control);
	assert_int_equal(opts.control_port, 8620);
	assert_int_equal(opts.n_control_addrs, 2);
	assert_string_equal(xt_addr_format(&opts.control_addrs[0], buf, sizeof(buf)), "192.0.2.1");
	assert_string_equal(xt_addr_format(&opts.control_addrs[1], buf, sizeof(buf)),
			    "2001:db8::1");
	assert_int_equal(opts.modes, XT_MODE_UNAUTHENTICATED | XT_MODE_AUTHENTICATED |
					     XT_MODE_MIXED | XT_MODE_REFLECT_OCTETS);
	assert_int_equal(opts.count_exponent, 20);
	assert_int_equal(opts.refwait_s, 60);
	assert_int_equal(opts.servwait_s, 120);
	assert_int_equal(opts.max_connections, 10);
	assert_int_equal(opts.max_connections_per_client, 2);
	assert_int_equal(opts.max_sessions, 100);
	assert_int_equal(opts.max_sessions_per_connection, 5);
	assert_int_equal(opts.n_control_allow, 3);
	assert_int_equal(opts.control_allow[0].prefixlen, 96 + 24);
	assert_int_equal(opts.control_allow[1].prefixlen, 32);
	assert_int_equal(opts.n_require_auth, 1);
	assert_int_equal(opts.require_auth[0].prefixlen, 96 + 24);

	/* numbers, decimal or hex, OR-ed with names */
	assert_int_equal(PARSE("-i", "eth0", "--modes", "1"), 0);
	assert_int_equal(opts.modes, XT_MODE_UNAUTHENTICATED);
	assert_int_equal(PARSE("-i", "eth0", "--keys", "k", "--modes", "0x7f"), 0);
	assert_int_equal(opts.modes, 0x7f);
	assert_int_equal(PARSE("-i", "eth0", "--modes", "0x10,unauthenticated"), 0);
	assert_int_equal(opts.modes, 0x11);

	/* the per-connection limit never exceeds the overall one */
	assert_int_equal(PARSE("-i", "eth0", "--max-sessions", "8"), 0);
	assert_int_equal(opts.max_sessions_per_connection, 8);

	assert_int_equal(PARSE("-i", "eth0", "--no-control"), 0);
	assert_false(opts.control);
}

/* Test the text form of Modes used in logs. */
static void test_modes_format(void **state)
{
	char buf[128];
	(void)state;

	assert_string_equal(xt_modes_format(0x71, buf, sizeof(buf)),
			    "unauthenticated,individual,reflect-octets,symmetrical-size");
	assert_string_equal(xt_modes_format(0x0e, buf, sizeof(buf)),
			    "authenticated,encrypted,mixed");
	assert_string_equal(xt_modes_format(0x101, buf, sizeof(buf)), "unauthenticated,0x100");
	assert_string_equal(xt_modes_format(0, buf, sizeof(buf)), "none");
	/* truncation is safe */
	assert_string_equal(xt_modes_format(0x01, buf, 6), "unaut");
}

/* Test that every option is understood. */
static void test_all_options(void **state)
{
	(void)state;
	assert_int_equal(PARSE("-i", "eth0", "--iface", "eth1", "--xdp-mode", "generic",
			       "--light-port", "8620", "--stamp-port", "862", "--stateless",
			       "--allow", "192.0.2.0/24,2001:db8::/32", "--allow", "198.51.100.7",
			       "--rate-limit", "500", "--rate-burst", "20", "--pin-path",
			       "/sys/fs/bpf/x", "--rx-timestamp", "sw", "--no-reserve-ports", "-v",
			       "-v"),
			 0);
	assert_int_equal(opts.n_ifaces, 2);
	assert_int_equal(opts.xdp_mode, XT_XDP_GENERIC);
	assert_int_equal(opts.rx_ts, XT_RXTS_SW);
	assert_int_equal(opts.n_ports, 2);
	assert_int_equal(opts.ports[1].port, 862);
	assert_int_equal(opts.ports[1].format, XT_FMT_STAMP);
	assert_true(opts.stateless);
	assert_int_equal(opts.n_allow, 3);
	assert_int_equal(opts.allow[0].prefixlen, 96 + 24);
	assert_int_equal(opts.allow[1].prefixlen, 32);
	assert_int_equal(opts.allow[2].prefixlen, 128);
	assert_int_equal(opts.rate_limit_pps, 500);
	assert_int_equal(opts.rate_burst, 20);
	assert_string_equal(opts.pin_path, "/sys/fs/bpf/x");
	assert_false(opts.reserve_ports);
	assert_int_equal(opts.verbosity, 2);
}

/* Test that --help and --version are reported, not treated as errors. */
static void test_help_version(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--help"), XT_OPTS_HELP);
	assert_int_equal(PARSE("-h"), XT_OPTS_HELP);
	assert_int_equal(PARSE("--version"), XT_OPTS_VERSION);
}

struct bad_case {
	const char *args[8];
	const char *must_mention;
};

/* Test that bad command lines are refused with a message naming the problem. */
static void test_errors(void **state)
{
	static const struct bad_case cases[] = {
		{ { NULL }, "no interface" },
		{ { "--iface", "eth0", "--xdp-mode", "turbo" }, "turbo" },
		{ { "--iface", "eth0", "--light-port", "0" }, "--light-port" },
		{ { "--iface", "eth0", "--light-port", "65536" }, "65536" },
		{ { "--iface", "eth0", "--light-port", "86x" }, "86x" },
		{ { "--iface", "eth0", "--light-port", "-1" }, "-1" },
		{ { "--iface", "eth0", "--light-port", "862", "--stamp-port", "862" },
		  "other format" },
		{ { "--iface", "eth0", "--allow", "192.0.2.1/24" }, "192.0.2.1/24" },
		{ { "--iface", "eth0", "--allow", "192.0.2.0/33" }, "192.0.2.0/33" },
		{ { "--iface", "eth0", "--allow", "2001:db8::/129" }, "2001:db8::/129" },
		{ { "--iface", "eth0", "--allow", "example.com" }, "example.com" },
		{ { "--iface", "eth0", "--rate-limit", "fast" }, "fast" },
		{ { "--iface", "eth0", "--rate-burst", "0" }, "--rate-burst" },
		{ { "--iface", "eth0", "--rate-limit", "0", "--rate-burst", "5" },
		  "without a rate" },
		{ { "--iface", "eth0", "--pin-path", "relative/dir" }, "absolute" },
		{ { "--iface", "eth0", "--rx-timestamp", "ptp" }, "ptp" },
		{ { "--iface", "eth0", "--bogus" }, "--bogus" },
		{ { "--iface" }, "needs a value" },
		{ { "--iface", "eth0", "stray" }, "stray" },
		{ { "--iface", "eth0", "--iface", "eth0" }, "twice" },
		{ { "--iface", "an-interface-name-too-long" }, "interface name" },
		/* TWAMP-Control */
		{ { "-i", "eth0", "--control-port", "0" }, "--control-port" },
		{ { "-i", "eth0", "--control-port", "65536" }, "65536" },
		{ { "-i", "eth0", "--control-addr", "[::1]" }, "[::1]" },
		{ { "-i", "eth0", "--control-addr", "192.0.2.1:862" }, "--control-port" },
		{ { "-i", "eth0", "--control-addr", "::", "--control-addr", "::" }, "twice" },
		{ { "-i", "eth0", "--no-control", "--control-port", "8620" }, "--no-control" },
		{ { "-i", "eth0", "--modes", "telepathic" }, "telepathic" },
		{ { "-i", "eth0", "--modes", "0x80" }, "0x80" },
		{ { "-i", "eth0", "--modes", "12x" }, "12x" },
		{ { "-i", "eth0", "--modes", "individual,reflect-octets" }, "no security mode" },
		{ { "-i", "eth0", "--modes", "authenticated" }, "--keys" },
		{ { "-i", "eth0", "--modes", "unauthenticated,mixed" }, "mixed" },
		{ { "-i", "eth0", "--modes", "0x7f" }, "authenticated,encrypted,mixed" },
		{ { "-i", "eth0", "--keys", "" }, "--keys" },
		{ { "-i", "eth0", "--max-count-exponent", "9" }, "--max-count-exponent" },
		{ { "-i", "eth0", "--max-count-exponent", "32" }, "32" },
		{ { "-i", "eth0", "--refwait", "0" }, "--refwait" },
		{ { "-i", "eth0", "--servwait", "soon" }, "soon" },
		{ { "-i", "eth0", "--servwait", "604801" }, "604801" },
		{ { "-i", "eth0", "--max-connections", "0" }, "--max-connections" },
		{ { "-i", "eth0", "--max-connections-per-client", "-3" }, "-3" },
		{ { "-i", "eth0", "--max-sessions", "65537" }, "--max-sessions" },
		{ { "-i", "eth0", "--max-sessions-per-connection", "x" },
		  "--max-sessions-per-connection" },
		{ { "-i", "eth0", "--control-allow", "192.0.2.1/24" }, "--control-allow" },
		{ { "-i", "eth0", "--control-allow", "10.0.0.0/8,nope" }, "nope" },
		{ { "-i", "eth0", "--require-auth", "2001:db8::/29x" }, "2001:db8::/29x" },
		{ { "-i", "eth0", "--require-auth", "198.51.100.0/24" }, "--require-auth" },
		{ { "-i", "eth0", "--keys", "k", "--modes", "unauthenticated,mixed",
		    "--require-auth", "::/0" },
		  "offered no mode" },
	};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[10] = { "xtwampd" };
		int argc = 1, rc;

		while (argc < 9 && cases[i].args[argc - 1])
			argv[argc] = (char *)cases[i].args[argc - 1], argc++;
		rc = xtwampd_parse_args(argc, argv, &opts, err, sizeof(err));
		if (rc != -22 || !strstr(err, cases[i].must_mention))
			fail_msg("case %zu: rc %d, message '%s' should mention '%s'", i, rc, err,
				 cases[i].must_mention);
	}
}

/* Test prefix parsing into the IPv4-mapped LPM key. */
static void test_prefix_parse(void **state)
{
	struct xt_allow_key key;
	char buf[XT_ADDR_STRLEN];
	(void)state;

	assert_int_equal(xt_prefix_parse("192.0.2.0/24", &key), 0);
	assert_int_equal(key.prefixlen, 120);
	assert_int_equal(key.addr.b[10], 0xff);
	assert_int_equal(key.addr.b[11], 0xff);
	assert_int_equal(key.addr.b[12], 192);
	assert_int_equal(key.addr.b[14], 2);
	assert_string_equal(xt_prefix_format(&key, buf, sizeof(buf)), "192.0.2.0/24");
	assert_int_equal(xt_prefix_parse("0.0.0.0/0", &key), 0);
	assert_int_equal(key.prefixlen, 96);
	assert_int_equal(xt_prefix_parse("2001:db8::/32", &key), 0);
	assert_int_equal(key.prefixlen, 32);
	assert_string_equal(xt_prefix_format(&key, buf, sizeof(buf)), "2001:db8::/32");
	assert_int_equal(xt_prefix_parse("::/0", &key), 0);
	assert_int_equal(key.prefixlen, 0);
	assert_int_equal(xt_prefix_parse("198.51.100.9", &key), 0);
	assert_int_equal(key.prefixlen, 128);
	assert_int_equal(xt_prefix_parse("2001:db8::1/128", &key), 0);

	assert_int_equal(xt_prefix_parse("", &key), -22);
	assert_int_equal(xt_prefix_parse("/24", &key), -22);
	assert_int_equal(xt_prefix_parse("192.0.2.0/", &key), -22);
	assert_int_equal(xt_prefix_parse("192.0.2.0/+8", &key), -22);
	assert_int_equal(xt_prefix_parse("192.0.2.0/24x", &key), -22);
	assert_int_equal(xt_prefix_parse("192.0.2.128/24", &key), -22); /* host bits */
	assert_int_equal(xt_prefix_parse("2001:db8::1/64", &key), -22);
	assert_int_equal(xt_prefix_parse("256.0.0.0/8", &key), -22);
	assert_int_equal(xt_prefix_parse("192.0.2/24", &key), -22);
}

/* Test address parsing and formatting of both families. */
static void test_addr_round_trip(void **state)
{
	union xt_addr a;
	char buf[XT_ADDR_STRLEN];
	(void)state;

	assert_int_equal(xt_addr_parse("192.0.2.1", &a), 0);
	assert_true(xt_addr_is_v4(&a));
	assert_string_equal(xt_addr_format(&a, buf, sizeof(buf)), "192.0.2.1");
	assert_int_equal(xt_addr_parse("2001:db8::2", &a), 0);
	assert_false(xt_addr_is_v4(&a));
	assert_string_equal(xt_addr_format(&a, buf, sizeof(buf)), "2001:db8::2");
	assert_int_equal(xt_addr_parse("[2001:db8::2]", &a), -22);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),	   cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_help_version),	   cmocka_unit_test(test_errors),
		cmocka_unit_test(test_prefix_parse),	   cmocka_unit_test(test_addr_round_trip),
		cmocka_unit_test(test_keys_default_modes), cmocka_unit_test(test_control_options),
		cmocka_unit_test(test_modes_format),
	};

	return cmocka_run_group_tests_name("daemon options and prefixes", tests, NULL, NULL);
}
