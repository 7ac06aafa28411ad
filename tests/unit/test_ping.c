// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the pure parts of `xtwamp ping` (user/ping.c): argument
 * parsing, request building, reply parsing from hand-built bytes, delay
 * arithmetic, session bookkeeping and summary statistics.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ping.h"
#include "twamp_crypto.h"
#include "xtwamp_wire.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* A realistic Unix time: 2025-11-21 00:00:00 UTC. */
#define BASE_NS (1763683200ULL * 1000000000ULL)

static int parse(int argc, char **argv, struct ping_opts *o, char *err, size_t errlen)
{
	return ping_parse_args(argc, argv, o, err, errlen);
}

/* ---- arguments ---------------------------------------------------------- */

static void test_args_defaults(void **state)
{
	char *argv[] = { "ping", "--light", "192.0.2.1" };
	struct ping_opts o;
	char err[256];

	(void)state;
	assert_int_equal(parse(ARGC(argv), argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.host, "192.0.2.1");
	assert_int_equal(o.port, 862);
	assert_int_equal(o.count, 5);
	assert_true(o.interval_ns == 1000000000ULL);
	assert_true(o.timeout_ns == 2000000000ULL);
	assert_int_equal(o.padding, 27);
	assert_int_equal(o.format, XT_FMT_TWAMP);
	assert_int_equal(o.ssid, 0);
	assert_int_equal(o.family, AF_UNSPEC);
	assert_true(o.light);
	assert_false(o.raw);
	assert_false(o.quiet);
	assert_false(o.help);
	assert_int_equal(ping_request_len(&o), 41); /* as long as the reply */
}

static void test_args_all_options(void **state)
{
	char *argv[] = { "ping",  "-c",	 "100", "-i",	   "0.01",
			 "-s",	  "100", "-W",	"0.5",	   "-6",
			 "--raw", "-q",	 "-v",	"--light", "[2001:db8::1]:8620" };
	struct ping_opts o;
	char err[256];

	(void)state;
	assert_int_equal(parse(ARGC(argv), argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.host, "2001:db8::1");
	assert_int_equal(o.port, 8620);
	assert_int_equal(o.count, 100);
	assert_true(o.interval_ns == 10000000ULL);
	assert_true(o.timeout_ns == 500000000ULL);
	assert_int_equal(o.padding, 100);
	assert_int_equal(o.family, AF_INET6);
	assert_true(o.raw);
	assert_true(o.quiet);
	assert_int_equal(o.verbose, 1);
}

static void test_args_long_and_clustered(void **state)
{
	char *a1[] = { "ping",	    "--light", "--count=7",    "--interval=.5",
		       "--timeout", "3",       "host.example", "-4" };
	char *a2[] = { "ping", "-qc10", "--light", "-i2.", "--", "h" };
	struct ping_opts o;
	char err[256];

	(void)state;
	assert_int_equal(parse(ARGC(a1), a1, &o, err, sizeof(err)), 0);
	assert_int_equal(o.count, 7);
	assert_true(o.interval_ns == 500000000ULL);
	assert_true(o.timeout_ns == 3000000000ULL);
	assert_string_equal(o.host, "host.example");
	assert_int_equal(o.family, AF_INET);

	assert_int_equal(parse(ARGC(a2), a2, &o, err, sizeof(err)), 0);
	assert_true(o.quiet);
	assert_int_equal(o.count, 10);
	assert_true(o.interval_ns == 2000000000ULL);
	assert_string_equal(o.host, "h");
}

static void test_args_stamp(void **state)
{
	char *a1[] = { "ping", "--light", "--stamp", "192.0.2.1" };
	char *a2[] = { "ping", "--light", "-s", "20", "--ssid", "7", "--stamp", "192.0.2.1:9" };
	char *a3[] = { "ping", "--light", "--stamp", "-s", "1428", "192.0.2.1" };
	struct ping_opts o;
	char err[256];

	(void)state;
	assert_int_equal(parse(ARGC(a1), a1, &o, err, sizeof(err)), 0);
	assert_int_equal(o.format, XT_FMT_STAMP);
	assert_int_equal(o.padding, 0); /* the 44-octet base is already symmetric */
	assert_int_equal(ping_request_len(&o), 44);

	/* -s before --stamp still means "after the 44" */
	assert_int_equal(parse(ARGC(a2), a2, &o, err, sizeof(err)), 0);
	assert_int_equal(o.padding, 20);
	assert_int_equal(o.ssid, 7);
	assert_int_equal(o.port, 9);
	assert_int_equal(ping_request_len(&o), 64);

	assert_int_equal(parse(ARGC(a3), a3, &o, err, sizeof(err)), 0);
	assert_int_equal(ping_request_len(&o), 1472);
}

static void test_args_help(void **state)
{
	char *a1[] = { "ping", "--help" };
	char *a2[] = { "ping", "-c", "3", "-h", "--bogus" };
	struct ping_opts o;
	char err[256];

	(void)state;
	assert_int_equal(parse(ARGC(a1), a1, &o, err, sizeof(err)), 0);
	assert_true(o.help);
	assert_int_equal(parse(ARGC(a2), a2, &o, err, sizeof(err)), 0);
	assert_true(o.help);
}

/* Test that a HOST without --light means full TWAMP, with its defaults. */
static void test_args_full_defaults(void **state)
{
	char *argv[] = { "ping", "192.0.2.1" };
	struct ping_opts o;
	char err[256];

	(void)state;
	assert_int_equal(parse(ARGC(argv), argv, &o, err, sizeof(err)), 0);
	assert_false(o.light);
	assert_string_equal(o.host, "192.0.2.1");
	assert_int_equal(o.port, 862); /* the TWAMP-Control port */
	assert_int_equal(o.n_modes, 1);
	assert_int_equal(o.modes[0], XT_MODE_UNAUTHENTICATED);
	assert_int_equal(o.sessions, 1);
	assert_int_equal(o.max_count_exponent, 15);
	assert_true(o.session_timeout_ns == 2000000000ULL);
	assert_int_equal(o.test_port, 862);
	assert_int_equal(o.dscp, -1);
	assert_false(o.individual);
	assert_false(o.padding_set);
	assert_string_equal(o.identity, "");
	/* the request is as long as the reply in each test mode */
	assert_int_equal(ping_session_padding(&o, 0), 27);
	assert_int_equal(ping_session_request_len(&o, 0), 41);
	assert_int_equal(ping_session_padding(&o, XT_MODE_AUTHENTICATED), 64);
	assert_int_equal(ping_session_request_len(&o, XT_MODE_ENCRYPTED), 112);
}

/* Test every full-TWAMP option, and the keyed default mode list. */
static void test_args_full_options(void **state)
{
	char *a1[] = { "ping",
		       "-A",
		       "auth,E",
		       "-u",
		       "alice",
		       "-k",
		       "/etc/xtwamp/keys",
		       "--sessions",
		       "3",
		       "--max-count-exponent=20",
		       "-D",
		       "46",
		       "--session-timeout",
		       "0.5",
		       "--test-port",
		       "8620",
		       "--individual",
		       "-s",
		       "100",
		       "[2001:db8::1]:8862" };
	char *a2[] = { "ping", "-u", "bob", "-k", "keys", "h" };
	char *a3[] = { "ping", "-A", "o", "h", "-D0" };
	char *a4[] = { "ping", "--light", "-D", "10", "h" };
	struct ping_opts o;
	char err[256];

	(void)state;
	assert_int_equal(parse(ARGC(a1), a1, &o, err, sizeof(err)), 0);
	assert_false(o.light);
	assert_int_equal(o.n_modes, 2);
	assert_int_equal(o.modes[0], XT_MODE_AUTHENTICATED);
	assert_int_equal(o.modes[1], XT_MODE_ENCRYPTED);
	assert_string_equal(o.identity, "alice");
	assert_string_equal(o.keyfile, "/etc/xtwamp/keys");
	assert_int_equal(o.sessions, 3);
	assert_int_equal(o.max_count_exponent, 20);
	assert_int_equal(o.dscp, 46);
	assert_true(o.session_timeout_ns == 500000000ULL);
	assert_int_equal(o.test_port, 8620);
	assert_true(o.individual);
	assert_string_equal(o.host, "2001:db8::1");
	assert_int_equal(o.port, 8862);
	assert_true(o.padding_set);
	assert_int_equal(ping_session_request_len(&o, 0), 114);
	assert_int_equal(ping_session_request_len(&o, XT_MODE_AUTHENTICATED), 148);

	/* a key and no -A: keyed modes only, strongest first, never unauthenticated */
	assert_int_equal(parse(ARGC(a2), a2, &o, err, sizeof(err)), 0);
	assert_int_equal(o.n_modes, 3);
	assert_int_equal(o.modes[0], XT_MODE_ENCRYPTED);
	assert_int_equal(o.modes[1], XT_MODE_AUTHENTICATED);
	assert_int_equal(o.modes[2], XT_MODE_MIXED);

	assert_int_equal(parse(ARGC(a3), a3, &o, err, sizeof(err)), 0);
	assert_int_equal(o.n_modes, 1);
	assert_int_equal(o.modes[0], XT_MODE_UNAUTHENTICATED);
	assert_int_equal(o.dscp, 0);

	/* -D also marks TWAMP Light packets */
	assert_int_equal(parse(ARGC(a4), a4, &o, err, sizeof(err)), 0);
	assert_true(o.light);
	assert_int_equal(o.dscp, 10);
}

struct bad_case {
	const char *args[10];
	const char *needle; /* must appear in the message */
};

static const struct bad_case bad_cases[] = {
	{ { "--light" }, "missing HOST" },
	/* full TWAMP (no --light) */
	{ { "--light", "--sessions", "2", "h" }, "--sessions needs TWAMP-Control: drop --light" },
	{ { "--light", "-A", "O", "h" }, "--modes needs TWAMP-Control" },
	{ { "--light", "--individual", "h" }, "--individual needs" },
	{ { "h", "--stamp" }, "--stamp needs --light" },
	{ { "h", "--ssid", "3" }, "--ssid needs --light" },
	{ { "h", "-A", "E" }, "mode encrypted needs -u IDENTITY -k KEYFILE" },
	{ { "h", "-A", "O,M" }, "mode mixed needs -u" },
	{ { "h", "-u", "alice" }, "go together" },
	{ { "h", "-k", "/etc/keys" }, "go together" },
	{ { "h", "-A", "bogus" }, "unknown mode 'bogus'" },
	{ { "h", "-A", "O,open" }, "twice" },
	{ { "h", "-A", "" }, "no mode" },
	{ { "h", "--sessions", "0" }, "sessions" },
	{ { "h", "--sessions", "257" }, "from 1 to 256" },
	{ { "h", "--max-count-exponent", "9" }, "max-count-exponent" },
	{ { "h", "--max-count-exponent", "32" }, "max-count-exponent" },
	{ { "h", "-D", "64" }, "DSCP" },
	{ { "h", "-D", "ef2" }, "DSCP" },
	{ { "h", "-D", "AF44" }, "DSCP" },
	{ { "--light", "h", "-s", "10", "--size", "60" }, "exclude" },
	{ { "--light", "h", "-c", "10", "--duration", "5" }, "exclude" },
	{ { "--light", "h", "--json", "--raw" }, "exclude" },
	{ { "--light", "h", "--size", "13" }, "below the 14-octet" },
	{ { "--light", "h", "--stamp", "--size", "43" }, "below the 44-octet" },
	{ { "--light", "h", "--ttl", "0" }, "TTL" },
	{ { "--light", "h", "--ttl", "256" }, "TTL" },
	{ { "--light", "h", "--sender-port", "0" }, "sender port" },
	{ { "--light", "h", "--sender-port", "5000-4000" }, "sender port" },
	{ { "--light", "h", "--sender-port", "5000-" }, "sender port" },
	{ { "h", "--sessions", "3", "--sender-port", "5000-5001" }, "fewer ports" },
	{ { "--light", "h", "--duration", "0" }, "duration" },
	{ { "--light", "h", "--start-delay", "x" }, "start delay" },
	{ { "h", "--session-timeout", "0" }, "session timeout" },
	{ { "h", "--test-port", "0" }, "test port" },
	{ { "h", "-A", "A", "-u", "a", "-k", "f", "-s", "1425" }, "at most 1424" },
	{ { "h", "-u",
	    "012345678901234567890123456789012345678901234567890123456789012345678901234567890",
	    "-k", "f" },
	  "1 to 80 octets" },
	{ { "--light", "192.0.2.1", "192.0.2.2" }, "only one HOST" },
	{ { "--light", "-i", "0", "h" }, "interval" },
	{ { "--light", "-i", "0.0", "h" }, "> 0" },
	{ { "--light", "-i", "-1", "h" }, "'-1'" },
	{ { "--light", "-i", "abc", "h" }, "'abc'" },
	{ { "--light", "-i", "1e-3", "h" }, "'1e-3'" },
	{ { "--light", "-i", "", "h" }, "interval" },
	{ { "--light", "-i", "0.0000001", "h" }, "minimum" },
	{ { "--light", "-i", "3601", "h" }, "at most 3600" },
	{ { "--light", "-W", "0", "h" }, "timeout" },
	{ { "--light", "-W", "x", "h" }, "timeout" },
	{ { "--light", "-c", "0", "h" }, "count" },
	{ { "--light", "-c", "10000001", "h" }, "10000000" },
	{ { "--light", "-c", "5x", "h" }, "'5x'" },
	{ { "--light", "-c", "-5", "h" }, "count" },
	{ { "--light", "-s", "1459", "h" }, "at most 1458" },
	{ { "--light", "-s", "99999", "h" }, "padding" },
	{ { "--light", "--stamp", "-s", "1429", "h" }, "at most 1428" },
	{ { "--light", "--stamp", "-s", "3", "h" }, "Extra Padding TLV" },
	{ { "--light", "--ssid", "7", "h" }, "--stamp" },
	{ { "--light", "--stamp", "--ssid", "0", "h" }, "SSID" },
	{ { "--light", "--stamp", "--ssid", "65536", "h" }, "SSID" },
	{ { "--light", "-4", "-6", "h" }, "-4 and -6" },
	{ { "--light", "-4", "2001:db8::1" }, "IPv6 address" },
	{ { "--light", "-6", "192.0.2.1" }, "IPv4 address" },
	{ { "--light", "--bogus", "h" }, "unknown option '--bogus'" },
	{ { "--light", "-x", "h" }, "unknown option '-x'" },
	{ { "--light", "h", "-c" }, "needs a value" },
	{ { "--light", "h", "--count" }, "needs a value" },
	{ { "--light=yes", "h" }, "takes no value" },
	{ { "h", "--reflector-stateful" }, "--reflector-stateful is for --light" },
	{ { "--light", "h", "--symmetrical" }, "--symmetrical needs TWAMP-Control" },
	{ { "--light", "h", "--reflect-octets", "4" }, "--reflect-octets needs TWAMP-Control" },
	{ { "h", "--symmetrical", "-s", "26" }, "padding 26 is too short for --symmetrical" },
	{ { "h", "--symmetrical", "--size", "40" }, "at least 27 octets" },
	{ { "h", "--reflect-octets", "16", "-s", "42" },
	  "too short for --reflect-octets: at least 43" },
	{ { "h", "--reflect-octets", "0" }, "reflect-octets must be" },
	{ { "h", "--reflect-octets", "1432" }, "from 1 to 1431" },
	{ { "h", "-A", "A", "-u", "a", "-k", "f", "--reflect-octets", "4" },
	  "unauthenticated or mixed test packets only" },
	{ { "--light", "h:0" }, "port" },
	{ { "--light", "h:70000" }, "port" },
	{ { "--light", "h:" }, "port" },
	{ { "--light", "[2001:db8::1" }, "']'" },
	{ { "--light", "[2001:db8::1]x" }, "':PORT'" },
	{ { "--light", ":862" }, "empty host" },
};

/* The options added for the statistics issue: sizes, TTL, DF, ports, timing. */
static void test_args_new_options(void **state)
{
	char *a1[] = {
		"ping", "--light",    "h",	   "--size",	    "100",	   "--ttl",
		"64",	"--df",	      "--poisson", "--sender-port", "40000-40009", "--start-delay",
		"0.5",	"--duration", "2.5",	   "--json",	    "--progress",  "-D",
		"af41"
	};
	char *a2[] = { "ping", "--light", "h", "--stamp", "--size", "60", "-D", "Cs5" };
	char *a3[] = { "ping", "h",	 "-A",	"E",	      "-u", "alice",	     "-k",
		       "keys", "--size", "120", "--sessions", "2",  "--sender-port", "5000-5001" };
	char *a4[] = { "ping", "h", "--sender-port", "6000", "-D", "EF" };
	struct ping_opts o;
	char err[256];

	(void)state;
	assert_int_equal(
		ping_parse_args((int)(sizeof(a1) / sizeof(a1[0])), a1, &o, err, sizeof(err)), 0);
	assert_int_equal(o.size, 100);
	assert_int_equal(o.padding, 100 - 14);
	assert_int_equal(ping_request_len(&o), 100);
	assert_int_equal(o.ttl, 64);
	assert_true(o.df && o.poisson && o.json && o.progress);
	assert_int_equal(o.sport_lo, 40000);
	assert_int_equal(o.sport_hi, 40009);
	assert_true(o.start_delay_ns == 500000000ULL);
	assert_true(o.duration_ns == 2500000000ULL);
	assert_int_equal(o.count, PING_COUNT_MAX); /* the duration ends the run */
	assert_int_equal(o.dscp, 34);

	assert_int_equal(
		ping_parse_args((int)(sizeof(a2) / sizeof(a2[0])), a2, &o, err, sizeof(err)), 0);
	assert_int_equal(ping_request_len(&o), 60); /* 44 + a 16-octet Extra Padding TLV */
	assert_int_equal(o.dscp, 40);
	assert_int_equal(o.ttl, 255); /* default */

	/* keyed: the size holds for whichever header the negotiated mode has */
	assert_int_equal(
		ping_parse_args((int)(sizeof(a3) / sizeof(a3[0])), a3, &o, err, sizeof(err)), 0);
	assert_int_equal(ping_session_request_len(&o, XT_MODE_ENCRYPTED), 120);
	assert_int_equal(ping_session_request_len(&o, XT_MODE_MIXED), 120);
	assert_int_equal(ping_session_padding(&o, XT_MODE_ENCRYPTED), 120 - 48);

	assert_int_equal(
		ping_parse_args((int)(sizeof(a4) / sizeof(a4[0])), a4, &o, err, sizeof(err)), 0);
	assert_int_equal(o.sport_lo, 6000);
	assert_int_equal(o.sport_hi, 6000);
	assert_int_equal(o.dscp, 46);
	assert_false(o.reflector_stateful); /* unless the operator says so */

	{
		char *a5[] = { "ping", "--light", "h", "--stamp", "--reflector-stateful" };

		assert_int_equal(ping_parse_args(ARGC(a5), a5, &o, err, sizeof(err)), 0);
		assert_true(o.reflector_stateful && o.light);
	}
}

/* RFC 6038: the request grows to carry the 27 MBZ octets and the octets to reflect. */
static void test_args_rfc6038(void **state)
{
	char *a1[] = { "ping", "h", "--symmetrical" };
	char *a2[] = { "ping", "h", "--symmetrical", "--reflect-octets", "16" };
	char *a3[] = { "ping", "h", "--reflect-octets", "4", "-s", "100" };
	char *a4[] = { "ping", "h", "-A", "M", "-u", "a", "-k", "f", "--reflect-octets", "8" };
	char *a5[] = { "ping", "h", "-A", "E", "-u", "a", "-k", "f", "--symmetrical" };
	struct ping_opts o;
	char err[256];

	(void)state;
	assert_int_equal(parse(ARGC(a1), a1, &o, err, sizeof(err)), 0);
	assert_true(o.symmetrical);
	assert_int_equal(o.reflect_octets, 0);
	assert_int_equal(ping_session_request_len(&o, 0), 41); /* already as long as the reply */

	assert_int_equal(parse(ARGC(a2), a2, &o, err, sizeof(err)), 0);
	assert_int_equal(o.reflect_octets, 16);
	assert_int_equal(o.padding, 27 + 16);
	assert_int_equal(ping_session_request_len(&o, 0), 57);

	/* a padding of its own is kept when it is long enough */
	assert_int_equal(parse(ARGC(a3), a3, &o, err, sizeof(err)), 0);
	assert_int_equal(o.padding, 100);
	assert_false(o.symmetrical);

	/* mixed mode: unauthenticated test packets */
	assert_int_equal(parse(ARGC(a4), a4, &o, err, sizeof(err)), 0);
	assert_int_equal(ping_session_request_len(&o, 0), 14 + 27 + 8);

	/* keyed: the default 48 + 64 = 112 equals the reply, checked per session */
	assert_int_equal(parse(ARGC(a5), a5, &o, err, sizeof(err)), 0);
	assert_int_equal(ping_session_request_len(&o, XT_MODE_ENCRYPTED), 112);
}

/* The padding to reflect, worked out by hand for seq 0x01020304. */
static void test_reflect_octets(void **state)
{
	static const __u8 with_server[6] = { 0xbe,	  0xef,	       0x02 ^ 0xa7,
					     0x01 ^ 0xa8, 0x04 ^ 0xa9, 0x03 ^ 0xaa };
	static const __u8 plain[3] = { 0x04 ^ 0xa5, 0x03 ^ 0xa6, 0x02 ^ 0xa7 };
	__u8 b[64], reply[47];

	(void)state;
	ping_reflect_fill(b, 6, 0x01020304, 0xbeef);
	assert_memory_equal(b, with_server, 6);
	ping_reflect_fill(b, 3, 0x01020304, 0);
	assert_memory_equal(b, plain, 3);
	/* one octet and the server's octets have no room for both: ours only */
	ping_reflect_fill(b, 1, 0x01020304, 0xbeef);
	assert_int_equal(b[0], 0x04 ^ 0xa5);

	memset(reply, 0, sizeof(reply));
	memcpy(reply + 41, with_server, 6);
	assert_true(ping_reflect_ok(reply, 47, 6, 0x01020304, 0xbeef));
	assert_false(ping_reflect_ok(reply, 46, 6, 0x01020304, 0xbeef)); /* cut short */
	assert_false(ping_reflect_ok(reply, 47, 6, 0x01020305, 0xbeef)); /* another packet's */
	assert_false(ping_reflect_ok(reply, 47, 6, 0x01020304, 0));	 /* server octets lost */
	reply[46] ^= 1;
	assert_false(ping_reflect_ok(reply, 47, 6, 0x01020304, 0xbeef));
}

static void test_args_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		char *argv[12] = { "ping" };
		struct ping_opts o;
		char err[256];
		int argc = 1;

		for (int k = 0; k < 10 && bad_cases[i].args[k]; k++)
			argv[argc++] = (char *)bad_cases[i].args[k];
		err[0] = '\0';
		if (parse(argc, argv, &o, err, sizeof(err)) != -EINVAL ||
		    !strstr(err, bad_cases[i].needle))
			fail_msg("case %zu (%s ...): got '%s', wanted '%s'", i, argv[1], err,
				 bad_cases[i].needle);
		assert_null(strchr(err, '\n')); /* one line */
	}
}

static void test_parse_target(void **state)
{
	char host[PING_HOST_MAX], err[256];
	__u16 port;

	(void)state;
	port = 1;
	assert_int_equal(
		ping_parse_target("r.example:80", host, sizeof(host), &port, err, sizeof(err)), 0);
	assert_string_equal(host, "r.example");
	assert_int_equal(port, 80);
	port = 1;
	assert_int_equal(ping_parse_target("[::1]:9", host, sizeof(host), &port, err, sizeof(err)),
			 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 9);
	port = 1;
	assert_int_equal(
		ping_parse_target("2001:db8::1", host, sizeof(host), &port, err, sizeof(err)), 0);
	assert_string_equal(host, "2001:db8::1");
	assert_int_equal(port, 1); /* untouched: a bare IPv6 literal has no port */
	assert_int_equal(ping_parse_target("[fe80::1%eth0]", host, sizeof(host), &port, err,
					   sizeof(err)),
			 0);
	assert_string_equal(host, "fe80::1%eth0");
	assert_int_equal(
		ping_parse_target("192.0.2.1", host, sizeof(host), &port, err, sizeof(err)), 0);
	assert_string_equal(host, "192.0.2.1");
	assert_int_equal(ping_parse_target("abcdefgh", host, 4, &port, err, sizeof(err)), -EINVAL);
}

static void test_parse_seconds(void **state)
{
	__u64 ns;

	(void)state;
	assert_int_equal(ping_parse_seconds("1", &ns), 0);
	assert_true(ns == 1000000000ULL);
	assert_int_equal(ping_parse_seconds("0.01", &ns), 0);
	assert_true(ns == 10000000ULL);
	assert_int_equal(ping_parse_seconds(".5", &ns), 0);
	assert_true(ns == 500000000ULL);
	assert_int_equal(ping_parse_seconds("2.", &ns), 0);
	assert_true(ns == 2000000000ULL);
	assert_int_equal(ping_parse_seconds("0.000000001", &ns), 0);
	assert_true(ns == 1);
	assert_int_equal(ping_parse_seconds("1.0000000019", &ns), 0); /* below 1 ns dropped */
	assert_true(ns == 1000000001ULL);
	assert_int_equal(ping_parse_seconds("0", &ns), 0);
	assert_true(ns == 0);
	assert_int_equal(ping_parse_seconds("", &ns), -EINVAL);
	assert_int_equal(ping_parse_seconds(".", &ns), -EINVAL);
	assert_int_equal(ping_parse_seconds("1.2.3", &ns), -EINVAL);
	assert_int_equal(ping_parse_seconds(" 1", &ns), -EINVAL);
	assert_int_equal(ping_parse_seconds("+1", &ns), -EINVAL);
	assert_int_equal(ping_parse_seconds("inf", &ns), -EINVAL);
	assert_int_equal(ping_parse_seconds("99999999999", &ns), -ERANGE);
}

/* ---- requests ----------------------------------------------------------- */

static __u32 get32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

static void test_build_twamp_request(void **state)
{
	struct ping_opts o;
	__u8 buf[PING_UDP_PAYLOAD_MAX], zero[64] = { 0 };
	__u64 ntp, t1 = BASE_NS + 123456789;

	(void)state;
	ping_opts_default(&o);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(ping_build_request(&o, 0x01020304, buf, sizeof(buf)), 41);
	assert_memory_equal(buf, "\x01\x02\x03\x04", 4);
	assert_memory_equal(buf + 4, zero, 41 - 4); /* T1 comes later; zero padding */
	assert_int_equal(buf[41], 0xee);	    /* nothing written past the request */

	ntp = ping_stamp_request(buf, t1, 0x8587);
	assert_true(ntp == xt_unix_ns_to_ntp64(t1));
	assert_int_equal(get32(buf + 4), (__u32)(ntp >> 32));
	assert_int_equal(get32(buf + 8), (__u32)ntp);
	assert_int_equal(buf[12], 0x85);
	assert_int_equal(buf[13], 0x87);
	assert_true(xt_ntp64_to_unix_ns(ntp) == t1); /* exact round trip */

	assert_int_equal(ping_build_request(&o, 0, buf, 40), -ENOSPC);
}

static void test_build_stamp_request(void **state)
{
	struct ping_opts o;
	__u8 buf[PING_UDP_PAYLOAD_MAX], zero[64] = { 0 };

	(void)state;
	ping_opts_default(&o);
	o.format = XT_FMT_STAMP;
	o.padding = 0;
	o.ssid = 0xabcd;
	assert_int_equal(ping_build_request(&o, 7, buf, sizeof(buf)), 44);
	assert_memory_equal(buf, "\x00\x00\x00\x07", 4);
	assert_int_equal(buf[14], 0xab); /* SSID at 14 (RFC 8972 §3) */
	assert_int_equal(buf[15], 0xcd);
	assert_memory_equal(buf + 16, zero, 28);

	/* -s 20: one Extra Padding TLV of 4 + 16 octets, U flag set */
	o.padding = 20;
	assert_int_equal(ping_build_request(&o, 7, buf, sizeof(buf)), 64);
	assert_int_equal(buf[44], 0x80);
	assert_int_equal(buf[45], 1);
	assert_int_equal(buf[46], 0);
	assert_int_equal(buf[47], 16);
	assert_memory_equal(buf + 48, zero, 16);
}

/* ---- replies (hand-built bytes, offsets from RFC 5357 §4.2.1) ----------- */

static void put32(__u8 *p, __u32 v)
{
	p[0] = (__u8)(v >> 24);
	p[1] = (__u8)(v >> 16);
	p[2] = (__u8)(v >> 8);
	p[3] = (__u8)v;
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

static void put_ntp(__u8 *p, __u64 unix_ns)
{
	__u64 ntp = xt_unix_ns_to_ntp64(unix_ns);

	put32(p, (__u32)(ntp >> 32));
	put32(p + 4, (__u32)ntp);
}

/* Reflector packet: rseq, T3 @4, EE @12, (SSID @14), T2 @16, sseq @24, T1 @28, sEE @36, TTL @40 */
static void build_reply(__u8 *b, size_t len, __u32 rseq, __u32 sseq, __u64 t1, __u64 t2, __u64 t3,
			__u16 ee, __u16 see, __u8 ttl)
{
	memset(b, 0, len);
	put32(b, rseq);
	put_ntp(b + 4, t3);
	put16(b + 12, ee);
	put_ntp(b + 16, t2);
	put32(b + 24, sseq);
	put_ntp(b + 28, t1);
	put16(b + 36, see);
	b[40] = ttl;
}

static void test_parse_reply_twamp(void **state)
{
	__u8 b[64];
	struct ping_reply r;
	char err[160];
	__u64 t1 = BASE_NS, t2 = BASE_NS + 50000, t3 = BASE_NS + 50400;

	(void)state;
	build_reply(b, sizeof(b), 9, 3, t1, t2, t3, 0x8587, 0x0587, 62);
	b[14] = 0x12; /* MBZ: ignored, never a reason to reject */
	assert_int_equal(ping_parse_reply(b, 41, XT_FMT_TWAMP, 0, &r, err, sizeof(err)), 0);
	assert_int_equal(r.length, 41);
	assert_int_equal(r.seq, 9);
	assert_int_equal(r.sender_seq, 3);
	assert_true(r.t1_ns == t1);
	assert_true(r.t2_ns == t2);
	assert_true(r.t3_ns == t3);
	assert_true(r.t1_ntp == xt_unix_ns_to_ntp64(t1));
	assert_int_equal(r.error_estimate, 0x8587);
	assert_int_equal(r.sender_error_estimate, 0x0587);
	assert_int_equal(r.sender_ttl, 62);
	assert_int_equal(r.ssid, 0); /* not a TWAMP field */

	/* padding after 41 is fine */
	assert_int_equal(ping_parse_reply(b, 64, XT_FMT_TWAMP, 0, &r, err, sizeof(err)), 0);
	assert_int_equal(r.length, 64);

	assert_int_equal(ping_parse_reply(b, 40, XT_FMT_TWAMP, 0, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "40 octets"));
	assert_int_equal(ping_parse_reply(b, 0, XT_FMT_TWAMP, 0, &r, err, sizeof(err)), -EINVAL);
}

static void test_parse_reply_stamp(void **state)
{
	__u8 b[48];
	struct ping_reply r;
	char err[160];

	(void)state;
	build_reply(b, sizeof(b), 1, 1, BASE_NS, BASE_NS + 1, BASE_NS + 2, 0x8587, 0x8587, 255);
	put16(b + 14, 77);
	assert_int_equal(ping_parse_reply(b, 43, XT_FMT_STAMP, 0, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "44-octet STAMP"));
	assert_int_equal(ping_parse_reply(b, 44, XT_FMT_STAMP, 0, &r, err, sizeof(err)), 0);
	assert_int_equal(r.ssid, 77);
	assert_int_equal(r.sender_ttl, 255);
}

/* Test the authenticated sender packet of RFC 4656 §4.1.2: 48 + padding, T1 at 16. */
static void test_build_auth_request(void **state)
{
	__u8 buf[PING_UDP_PAYLOAD_MAX], zero[128] = { 0 }, plain[112];
	struct tw_test_keys k;
	__u64 ntp, t1 = BASE_NS + 987654321;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(ping_build_request_auth(0x0a0b0c0d, 64, buf, sizeof(buf)), 112);
	assert_memory_equal(buf, "\x0a\x0b\x0c\x0d", 4);
	assert_memory_equal(buf + 4, zero, 112 - 4);
	assert_int_equal(buf[112], 0xee);
	ntp = ping_stamp_request_auth(buf, t1, 0x8f84);
	assert_true(ntp == xt_unix_ns_to_ntp64(t1));
	assert_memory_equal(buf + 4, zero, 12); /* MBZ */
	assert_int_equal(get32(buf + 16), (__u32)(ntp >> 32));
	assert_int_equal(get32(buf + 20), (__u32)ntp);
	assert_int_equal(buf[24], 0x8f);
	assert_int_equal(buf[25], 0x84);
	assert_memory_equal(buf + 26, zero, 112 - 26); /* MBZ, HMAC (not yet), padding */
	assert_int_equal(ping_build_request_auth(0, 0, buf, 47), -ENOSPC);
	assert_int_equal(ping_build_request_auth(0, 0, buf, 48), 48);

	/* sealed in encrypted mode, it opens again with the same keys */
	assert_int_equal(ping_build_request_auth(7, 64, buf, sizeof(buf)), 112);
	ping_stamp_request_auth(buf, t1, 0x8f84);
	memcpy(plain, buf, sizeof(plain));
	memset(&k, 0x5a, sizeof(k));
	assert_int_equal(tw_test_seal_sender(XT_MODE_ENCRYPTED, &k, buf, 112), 0);
	assert_memory_not_equal(buf, plain, 32);
	assert_int_equal(tw_test_open_sender(XT_MODE_ENCRYPTED, &k, buf, 112), 0);
	assert_memory_equal(buf, plain, 32);
}

/* An authenticated reflector packet (RFC 5357 §4.2.1, erratum 5045) by hand. */
static void build_auth_reply(__u8 *b, size_t len, __u32 rseq, __u32 sseq, __u64 t1, __u64 t2,
			     __u64 t3, __u16 ee, __u16 see, __u8 ttl)
{
	memset(b, 0, len);
	put32(b, rseq);
	put_ntp(b + 16, t3);
	put16(b + 24, ee);
	put_ntp(b + 32, t2);
	put32(b + 48, sseq);
	put_ntp(b + 64, t1);
	put16(b + 72, see);
	b[80] = ttl;
}

/* Test decoding a 112-octet reply, and that a tampered one never verifies. */
static void test_parse_reply_auth(void **state)
{
	__u8 b[128], sealed[128];
	struct ping_reply r;
	struct tw_test_keys k;
	char err[160];
	__u64 t1 = BASE_NS, t2 = BASE_NS + 70000, t3 = BASE_NS + 70500;

	(void)state;
	build_auth_reply(b, sizeof(b), 4, 2, t1, t2, t3, 0x8587, 0x0587, 254);
	assert_int_equal(ping_parse_reply_auth(b, 112, 0, &r, err, sizeof(err)), 0);
	assert_int_equal(r.length, 112);
	assert_int_equal(r.seq, 4);
	assert_int_equal(r.sender_seq, 2);
	assert_true(r.t1_ns == t1);
	assert_true(r.t2_ns == t2);
	assert_true(r.t3_ns == t3);
	assert_true(r.t1_ntp == xt_unix_ns_to_ntp64(t1));
	assert_int_equal(r.error_estimate, 0x8587);
	assert_int_equal(r.sender_error_estimate, 0x0587);
	assert_int_equal(r.sender_ttl, 254);
	assert_int_equal(ping_parse_reply_auth(b, 128, 0, &r, err, sizeof(err)), 0);
	assert_int_equal(r.length, 128);
	assert_int_equal(ping_parse_reply_auth(b, 111, 0, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "112-octet"));
	/* the same sanity checks as unauthenticated replies */
	put16(b + 24, 0x8500);
	assert_int_equal(ping_parse_reply_auth(b, 112, 0, &r, err, sizeof(err)), -EBADMSG);

	/* sealed by a reflector in either keyed mode: opens; one flipped bit: never */
	build_auth_reply(b, sizeof(b), 4, 2, t1, t2, t3, 0x8587, 0x0587, 254);
	memset(&k, 0x33, sizeof(k));
	for (__u32 mode = XT_MODE_AUTHENTICATED; mode <= XT_MODE_ENCRYPTED; mode <<= 1) {
		memcpy(sealed, b, sizeof(b));
		assert_int_equal(tw_test_seal_reflector(mode, &k, sealed, 112), 0);
		assert_int_equal(tw_test_open_reflector(mode, &k, sealed, 112), 0);
		assert_memory_equal(sealed, b, 96); /* the HMAC field stays */
		assert_int_equal(tw_test_seal_reflector(mode, &k, sealed, 112), 0);
		sealed[3] ^= 0x01;
		assert_int_equal(tw_test_open_reflector(mode, &k, sealed, 112), -EBADMSG);
	}
}

static void test_parse_reply_corrupt(void **state)
{
	__u8 b[41];
	struct ping_reply r;
	char err[160];

	(void)state;
	/* RFC 4656 §4.1.2: multiplier 0 = corrupt */
	build_reply(b, sizeof(b), 0, 0, BASE_NS, BASE_NS, BASE_NS, 0x8500, 0x8587, 64);
	assert_int_equal(ping_parse_reply(b, 41, XT_FMT_TWAMP, 0, &r, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "multiplier 0"));
	build_reply(b, sizeof(b), 0, 0, BASE_NS, BASE_NS, BASE_NS, 0x8587, 0x0000, 64);
	assert_int_equal(ping_parse_reply(b, 41, XT_FMT_TWAMP, 0, &r, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "sender Error Estimate"));

	/* zero timestamps (a reflector that never filled them in) */
	build_reply(b, sizeof(b), 0, 0, BASE_NS, BASE_NS, BASE_NS, 0x8587, 0x8587, 64);
	memset(b + 16, 0, 8);
	assert_int_equal(ping_parse_reply(b, 41, XT_FMT_TWAMP, 0, &r, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "T2"));
	build_reply(b, sizeof(b), 0, 0, BASE_NS, BASE_NS, BASE_NS, 0x8587, 0x8587, 64);
	memset(b + 4, 0, 8);
	assert_int_equal(ping_parse_reply(b, 41, XT_FMT_TWAMP, 0, &r, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "T3"));
	build_reply(b, sizeof(b), 0, 0, BASE_NS, BASE_NS, BASE_NS, 0x8587, 0x8587, 64);
	memset(b + 28, 0, 8);
	assert_int_equal(ping_parse_reply(b, 41, XT_FMT_TWAMP, 0, &r, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "Sender Timestamp"));
}

static void test_parse_reply_ptp(void **state)
{
	__u8 b[44];
	struct ping_reply r;
	char err[160];
	const __s64 utc_minus_tai = -37LL * 1000000000LL;
	__u64 tai_sec = BASE_NS / 1000000000ULL + 37;

	(void)state;
	/* Z bit: T2/T3 are PTP truncated (TAI seconds + ns since 1970) */
	build_reply(b, sizeof(b), 0, 0, BASE_NS, 0, 0, 0x8000 | 0x4000 | 0x0587, 0x8587, 64);
	put32(b + 16, (__u32)tai_sec);
	put32(b + 20, 1000);
	put32(b + 4, (__u32)tai_sec);
	put32(b + 8, 2000);
	assert_int_equal(ping_parse_reply(b, 44, XT_FMT_STAMP, utc_minus_tai, &r, err, sizeof(err)),
			 0);
	assert_true(r.t2_ns == BASE_NS + 1000);
	assert_true(r.t3_ns == BASE_NS + 2000);

	put32(b + 20, 1000000000); /* nanoseconds out of range */
	assert_int_equal(ping_parse_reply(b, 44, XT_FMT_STAMP, utc_minus_tai, &r, err, sizeof(err)),
			 -EBADMSG);
}

/* ---- delays ------------------------------------------------------------- */

static void test_compute(void **state)
{
	struct ping_reply r = { .t1_ns = BASE_NS, .t2_ns = BASE_NS + 500, .t3_ns = BASE_NS + 600 };
	struct ping_times t;

	(void)state;
	ping_compute(&r, BASE_NS + 2200, &t);
	assert_int_equal(t.fwd_ns, 500);
	assert_int_equal(t.residence_ns, 100);
	assert_int_equal(t.bwd_ns, 1600);
	assert_int_equal(t.rtt_ns, 2100);
	assert_int_equal(t.rtt_ns, t.fwd_ns + t.bwd_ns);

	/* reflector clock 5 ms behind: fwd negative, shown as is; RTT unaffected */
	r.t2_ns = BASE_NS - 5000000 + 500;
	r.t3_ns = BASE_NS - 5000000 + 600;
	ping_compute(&r, BASE_NS + 2200, &t);
	assert_int_equal(t.fwd_ns, -4999500);
	assert_int_equal(t.bwd_ns, 5001600);
	assert_int_equal(t.residence_ns, 100);
	assert_int_equal(t.rtt_ns, 2100);
}

/* ---- session bookkeeping ------------------------------------------------ */

static struct ping_reply reply_for(const struct ping_session *s, __u32 seq, __u16 ee)
{
	struct ping_reply r = { 0 };

	r.length = 41;
	r.seq = seq;
	r.sender_seq = seq;
	r.t1_ntp = s->t1_ntp[seq];
	r.t1_ns = xt_ntp64_to_unix_ns(r.t1_ntp);
	r.t2_ns = r.t1_ns + 40000;
	r.t3_ns = r.t2_ns + 500;
	r.error_estimate = ee;
	r.sender_error_estimate = 0x8587;
	r.sender_ttl = 255;
	return r;
}

static void test_session(void **state)
{
	struct ping_session s;
	struct ping_reply r;
	struct ping_times t;
	char why[160];

	(void)state;
	ping_session_init(&s, 2000000000ULL, 0);
	for (__u32 i = 0; i < 3; i++)
		assert_int_equal(
			ping_session_sent(&s, xt_unix_ns_to_ntp64(BASE_NS + i * 1000000000ULL)), 0);
	assert_int_equal(s.nsent, 3);

	r = reply_for(&s, 1, 0x8587);
	assert_int_equal(ping_session_match(&s, &r, r.t1_ns + 100000, &t, why, sizeof(why)),
			 PING_VALID);
	assert_int_equal(t.rtt_ns, 100000 - 500);
	assert_int_equal(ping_session_match(&s, &r, r.t1_ns + 200000, &t, why, sizeof(why)),
			 PING_DUPLICATE);

	/* a sequence number we never sent */
	r = reply_for(&s, 2, 0x8587);
	r.sender_seq = 3;
	assert_int_equal(ping_session_match(&s, &r, r.t1_ns + 1000, &t, why, sizeof(why)),
			 PING_INVALID);
	assert_non_null(strstr(why, "never sent"));

	/* sent, but the echoed T1 is not ours: not trusted */
	r = reply_for(&s, 2, 0x8587);
	r.t1_ntp += 1;
	assert_int_equal(ping_session_match(&s, &r, r.t1_ns + 1000, &t, why, sizeof(why)),
			 PING_INVALID);
	assert_non_null(strstr(why, "Sender Timestamp"));

	/* after the timeout: late, counted as lost; a later copy is a duplicate */
	r = reply_for(&s, 0, 0x0587);
	assert_int_equal(ping_session_match(&s, &r, r.t1_ns + 2000000001ULL, &t, why, sizeof(why)),
			 PING_LATE);
	assert_int_equal(ping_session_match(&s, &r, r.t1_ns + 2000000002ULL, &t, why, sizeof(why)),
			 PING_DUPLICATE);

	/* seq 2 in time, reflector clock unsynchronised */
	r = reply_for(&s, 2, 0x0587);
	assert_int_equal(ping_session_match(&s, &r, r.t1_ns + 300000, &t, why, sizeof(why)),
			 PING_VALID);

	assert_true(s.cnt.sent == 3);
	assert_true(s.cnt.received == 2);
	assert_true(s.cnt.late == 1);
	assert_true(s.cnt.duplicates == 2);
	assert_true(s.cnt.invalid == 2);
	assert_int_equal(s.nsamples, 2);
	assert_int_equal(s.samples[0].seq, 1);
	assert_int_equal(s.samples[1].seq, 2);
	assert_true(s.reflector_unsync); /* the late reply does not count, seq 2 does */
	assert_false(s.sender_unsync);
	assert_string_equal(
		ping_sync_warning(&s),
		"one-way delays assume synchronised clocks; reflector clock reports unsynchronised");
	ping_session_free(&s);
}

static void test_session_ssid(void **state)
{
	struct ping_session s;
	struct ping_reply r;
	struct ping_times t;
	char why[160];

	(void)state;
	ping_session_init(&s, 2000000000ULL, 7);
	assert_int_equal(ping_session_sent(&s, xt_unix_ns_to_ntp64(BASE_NS)), 0);
	assert_int_equal(ping_session_sent(&s, xt_unix_ns_to_ntp64(BASE_NS + 1)), 0);
	r = reply_for(&s, 0, 0x8587);
	r.ssid = 8;
	assert_int_equal(ping_session_match(&s, &r, r.t1_ns + 1000000, &t, why, sizeof(why)),
			 PING_INVALID);
	assert_non_null(strstr(why, "SSID"));
	r.ssid = 7;
	assert_int_equal(ping_session_match(&s, &r, r.t1_ns + 1000000, &t, why, sizeof(why)),
			 PING_VALID);
	assert_false(s.reflector_no_ssid);
	/* RFC 8972 §3: 0 back = the reflector does not do SSIDs; still a measurement */
	r = reply_for(&s, 1, 0x8587);
	assert_int_equal(ping_session_match(&s, &r, r.t1_ns + 1000000, &t, why, sizeof(why)),
			 PING_VALID);
	assert_true(s.reflector_no_ssid);
	assert_null(ping_sync_warning(&s));
	ping_session_free(&s);
}

static void test_session_grows(void **state)
{
	struct ping_session s;
	struct ping_reply r;
	struct ping_times t;
	char why[160];

	(void)state;
	ping_session_init(&s, 1000000000ULL, 0);
	for (__u32 i = 0; i < 5000; i++)
		assert_int_equal(ping_session_sent(&s, xt_unix_ns_to_ntp64(BASE_NS + i)), 0);
	for (__u32 i = 0; i < 5000; i += 2) {
		r = reply_for(&s, i, 0x8587);
		assert_int_equal(ping_session_match(&s, &r, r.t1_ns + 1000000, &t, why,
						    sizeof(why)),
				 PING_VALID);
	}
	r = reply_for(&s, 4999, 0x8587);
	assert_int_equal(ping_session_match(&s, &r, r.t1_ns + 1000000, &t, why, sizeof(why)),
			 PING_VALID);
	r = reply_for(&s, 4998, 0x8587);
	assert_int_equal(ping_session_match(&s, &r, r.t1_ns + 1000000, &t, why, sizeof(why)),
			 PING_DUPLICATE);
	assert_true(s.cnt.received == 2501);
	ping_session_free(&s);
}

/* ---- output ------------------------------------------------------------- */

static void test_format_line(void **state)
{
	struct ping_reply r = { .length = 41, .seq = 0, .sender_seq = 0, .sender_ttl = 64 };
	struct ping_times t = {
		.rtt_ns = 123000, .fwd_ns = 50000, .bwd_ns = 73400, .residence_ns = 400
	};
	char line[512];

	(void)state;
	ping_format_line(line, sizeof(line), "192.0.2.1:862", &r, &t, 255, "");
	assert_string_equal(line, "41 octets from 192.0.2.1:862: seq=0 rseq=0 rtt=0.123 ms "
				  "fwd=0.050 ms bwd=0.073 ms residence=0.4 us ttl=64/255");
	t.fwd_ns = -50000;
	r.sender_seq = 5;
	r.seq = 3;
	ping_format_line(line, sizeof(line), "[2001:db8::1]:862", &r, &t, -1, " (DUP!)");
	assert_string_equal(line, "41 octets from [2001:db8::1]:862: seq=5 rseq=3 rtt=0.123 ms "
				  "fwd=-0.050 ms bwd=0.073 ms residence=0.4 us ttl=64/? (DUP!)");
}

static void test_format_csv(void **state)
{
	struct ping_reply r = { .length = 44,
				.seq = 2,
				.sender_seq = 1,
				.sender_ttl = 255,
				.t1_ns = 10,
				.t2_ns = 20,
				.t3_ns = 30,
				.error_estimate = 0x8587 };
	char line[512];

	(void)state;
	assert_string_equal(
		PING_CSV_HEADER,
		"seq,rseq,t1_ns,t2_ns,t3_ns,t4_ns,sender_ttl,reply_ttl,reflector_ee,length");
	ping_format_csv(line, sizeof(line), &r, 40, 63);
	assert_string_equal(line, "1,2,10,20,30,40,255,63,34183,44");
	ping_format_csv(line, sizeof(line), &r, 40, -1);
	assert_string_equal(line, "1,2,10,20,30,40,255,,34183,44");
}

static void test_endpoints(void **state)
{
	struct sockaddr_storage a = { 0 }, b = { 0 };
	struct sockaddr_in *a4 = (struct sockaddr_in *)&a, *b4 = (struct sockaddr_in *)&b;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&a;
	char buf[64];

	(void)state;
	a4->sin_family = b4->sin_family = AF_INET;
	a4->sin_port = b4->sin_port = htons(862);
	inet_pton(AF_INET, "192.0.2.1", &a4->sin_addr);
	inet_pton(AF_INET, "192.0.2.1", &b4->sin_addr);
	assert_true(ping_same_endpoint(&a, &b));
	assert_string_equal(ping_format_endpoint(&a, buf, sizeof(buf)), "192.0.2.1:862");
	b4->sin_port = htons(863);
	assert_false(ping_same_endpoint(&a, &b));
	b4->sin_port = htons(862);
	inet_pton(AF_INET, "192.0.2.2", &b4->sin_addr);
	assert_false(ping_same_endpoint(&a, &b));

	memset(&a, 0, sizeof(a));
	a6->sin6_family = AF_INET6;
	a6->sin6_port = htons(8620);
	inet_pton(AF_INET6, "2001:db8::1", &a6->sin6_addr);
	assert_string_equal(ping_format_endpoint(&a, buf, sizeof(buf)), "[2001:db8::1]:8620");
	assert_false(ping_same_endpoint(&a, &b));
	b = a;
	((struct sockaddr_in6 *)&b)->sin6_scope_id = 3; /* ignored */
	assert_true(ping_same_endpoint(&a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args_defaults),
		cmocka_unit_test(test_args_all_options),
		cmocka_unit_test(test_args_long_and_clustered),
		cmocka_unit_test(test_args_stamp),
		cmocka_unit_test(test_args_help),
		cmocka_unit_test(test_args_full_defaults),
		cmocka_unit_test(test_args_full_options),
		cmocka_unit_test(test_args_new_options),
		cmocka_unit_test(test_args_errors),
		cmocka_unit_test(test_args_rfc6038),
		cmocka_unit_test(test_reflect_octets),
		cmocka_unit_test(test_parse_target),
		cmocka_unit_test(test_parse_seconds),
		cmocka_unit_test(test_build_twamp_request),
		cmocka_unit_test(test_build_stamp_request),
		cmocka_unit_test(test_parse_reply_twamp),
		cmocka_unit_test(test_parse_reply_stamp),
		cmocka_unit_test(test_build_auth_request),
		cmocka_unit_test(test_parse_reply_auth),
		cmocka_unit_test(test_parse_reply_corrupt),
		cmocka_unit_test(test_parse_reply_ptp),
		cmocka_unit_test(test_compute),
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_session_ssid),
		cmocka_unit_test(test_session_grows),
		cmocka_unit_test(test_format_line),
		cmocka_unit_test(test_format_csv),
		cmocka_unit_test(test_endpoints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
