// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xtwamp.c - the `xtwamp` client: a thin dispatcher.  Each subcommand lives
 * in its own file with a NAME_main(argc, argv) taking argv[0] = NAME, so new
 * ones (an exporter) only add a table row.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "ping.h"
#include "stats.h"

#define EXIT_USAGE 2

struct subcommand {
	const char *name;
	const char *summary;
	int (*main)(int argc, char **argv);
	void (*usage)(FILE *f);
};

static const struct subcommand subcommands[] = {
	{ "ping", "run TWAMP (full or Light) / STAMP test sessions, report delays and loss",
	  ping_main, ping_usage },
	{ "stats", "show the XDP reflector's counters, tables and clock state", stats_main,
	  stats_usage },
	{ "sessions", "list the reflector's negotiated test sessions (RFC 8913 state)",
	  sessions_main, sessions_usage },
};

#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *f)
{
	fprintf(f, "Usage: xtwamp [-v] COMMAND [ARGS]\n"
		   "\n"
		   "Client of xtwamp, a TWAMP (RFC 5357) / STAMP (RFC 8762) reflector whose\n"
		   "test-packet path runs in XDP.\n"
		   "\n"
		   "Commands:\n");
	for (size_t i = 0; i < N_SUBCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(f,
		"  %-8s %s\n"
		"\n"
		"Options:\n"
		"  -v, --verbose   more detail on stderr (twice: libbpf debug output)\n"
		"  -h, --help      this text\n"
		"\n"
		"Examples:\n"
		"  xtwamp ping 192.0.2.1                          full TWAMP: TWAMP-Control, 5 packets\n"
		"  xtwamp ping 192.0.2.1 -A E -u alice -k keys    the same, encrypted\n"
		"  xtwamp ping --light 192.0.2.1                  5 TWAMP Light packets to port 862\n"
		"  xtwamp ping --light [2001:db8::1]:862 -c 100 -i 0.01 -q\n"
		"  xtwamp ping --light 192.0.2.1 --stamp --ssid 7 STAMP with an RFC 8972 SSID\n"
		"  xtwamp ping 192.0.2.1 -D EF --duration 60 -i 0.01 --json > run.json\n"
		"                                                 a minute at 100/s, for scripts\n"
		"  xtwamp stats                                   counters of the local reflector\n"
		"  xtwamp stats --json\n"
		"  xtwamp sessions                                test sessions of the local reflector\n"
		"  xtwamp help ping                               all options of ping\n"
		"\n"
		"Exit status: 0 success, 1 no reply / maps missing, 2 usage error.\n",
		"help", "show the help of a command (xtwamp help ping)");
}

static const struct subcommand *find(const char *name)
{
	for (size_t i = 0; i < N_SUBCOMMANDS; i++)
		if (!strcmp(subcommands[i].name, name))
			return &subcommands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct subcommand *cmd;
	int verbose = 0, i;

	log_init("xtwamp", LOG_LEVEL_INFO);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose++;
		} else if (!strcmp(argv[i], "-vv")) {
			verbose += 2;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			log_error("unknown option '%s' (see 'xtwamp --help')", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (verbose)
		log_set_level(verbose > 1 ? LOG_LEVEL_TRACE : LOG_LEVEL_DEBUG);
	log_route_libbpf();

	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 >= argc) {
			usage(stdout);
			return 0;
		}
		cmd = find(argv[i + 1]);
		if (!cmd) {
			log_error("no command '%s' (see 'xtwamp --help')", argv[i + 1]);
			return EXIT_USAGE;
		}
		cmd->usage(stdout);
		return 0;
	}
	cmd = find(argv[i]);
	if (!cmd) {
		log_error("unknown command '%s' (see 'xtwamp --help')", argv[i]);
		return EXIT_USAGE;
	}
	return cmd->main(argc - i, argv + i);
}
