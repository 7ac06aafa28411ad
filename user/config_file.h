/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * config_file.h - xtwampd's INI configuration file (parsed with inih).
 *
 * Every key is the name of a long command-line option without the dashes
 * (underscores accepted for dashes), in any section; sections only group:
 *
 *   [reflector]
 *   iface = eth0
 *   light-port = 862
 *   allow = 192.0.2.0/24, 2001:db8::/32
 *   rate-limit = 2000
 *   [control]
 *   keys = /etc/xtwamp/keys
 *   max-sessions = 1024
 *   [metrics]
 *   metrics = 127.0.0.1:9862
 *
 * A key may repeat (iface, light-port, stamp-port, allow, control-addr,
 * control-allow, require-auth add up).  Flags without a value (stateless,
 * default-deny, no-control, no-reserve-ports) take true/false, yes/no, 1/0.
 * `config` and `help`/`version` are not allowed in the file.
 *
 * The file becomes "--key=value" arguments placed before the command line,
 * so the command line overrides it: a single-valued option given on both
 * takes the command line's value, and a list option given on the command
 * line replaces the file's list (config_file_merge).
 */
#ifndef XTWAMP_CONFIG_FILE_H
#define XTWAMP_CONFIG_FILE_H

#include <stddef.h>

struct config_args {
	char **argv; /* "--key=value" or "--flag" */
	int argc;
};

/*
 * Read path into args; known(name) says whether a long option exists and
 * whether it takes a value (1 value, 0 flag, -1 unknown).  0 or -errno with
 * a one-line reason ("FILE:LINE: ...") in err.
 */
int config_file_load(const char *path, int (*known)(const char *name), struct config_args *args,
		     char *err, size_t errlen);
void config_args_free(struct config_args *args);

/*
 * argv for getopt: argv[0], the file's arguments minus the list options
 * that cmdline also gives (is_list(name)), then cmdline (without argv[0]).
 * The strings are borrowed; free the array with free().  NULL on ENOMEM.
 */
char **config_file_merge(const struct config_args *file, int argc, char **argv,
			 int (*is_list)(const char *name), int *out_argc);

#endif /* XTWAMP_CONFIG_FILE_H */
