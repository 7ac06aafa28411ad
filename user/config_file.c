// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* config_file.c - see config_file.h */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ini.h>

#include "config_file.h"

struct load_ctx {
	const char *path;
	int (*known)(const char *name);
	struct config_args *args;
	char *err;
	size_t errlen;
	int rc;
	int line;
};

static int push(struct config_args *a, char *s)
{
	char **more;

	if (!s)
		return -ENOMEM;
	more = realloc(a->argv, (size_t)(a->argc + 1) * sizeof(*more));
	if (!more) {
		free(s);
		return -ENOMEM;
	}
	a->argv = more;
	a->argv[a->argc++] = s;
	return 0;
}

static int parse_bool(const char *v)
{
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1") ||
	    !strcasecmp(v, "on"))
		return 1;
	if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0") ||
	    !strcasecmp(v, "off"))
		return 0;
	return -1;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *c = user;
	char key[64], *arg;
	int kind, b;

	(void)section;
	c->line++;
	if (strlen(name) >= sizeof(key)) {
		snprintf(c->err, c->errlen, "%s: key '%.40s...' is too long", c->path, name);
		c->rc = -EINVAL;
		return 0;
	}
	for (size_t i = 0; (key[i] = name[i] == '_' ? '-' : name[i]); i++)
		;
	kind = strcmp(key, "config") && strcmp(key, "help") && strcmp(key, "version") ?
		       c->known(key) :
		       -1;
	if (kind < 0) {
		snprintf(c->err, c->errlen,
			 "%s: unknown key '%s' (keys are xtwampd's long options, "
			 "see xtwampd --help)",
			 c->path, name);
		c->rc = -EINVAL;
		return 0;
	}
	if (kind == 0) {
		b = parse_bool(value);
		if (b < 0) {
			snprintf(c->err, c->errlen, "%s: '%s = %s': give true or false", c->path,
				 name, value);
			c->rc = -EINVAL;
			return 0;
		}
		if (!b)
			return 1;
		if (asprintf(&arg, "--%s", key) < 0)
			arg = NULL;
	} else {
		if (!*value) {
			snprintf(c->err, c->errlen, "%s: '%s' needs a value", c->path, name);
			c->rc = -EINVAL;
			return 0;
		}
		if (asprintf(&arg, "--%s=%s", key, value) < 0)
			arg = NULL;
	}
	c->rc = push(c->args, arg);
	return c->rc ? 0 : 1;
}

int config_file_load(const char *path, int (*known)(const char *name), struct config_args *args,
		     char *err, size_t errlen)
{
	struct load_ctx c = { path, known, args, err, errlen, 0, 0 };
	int rc;

	memset(args, 0, sizeof(*args));
	err[0] = '\0';
	rc = ini_parse(path, on_key, &c);
	if (rc == -1) {
		snprintf(err, errlen, "--config %s: %s", path, strerror(errno));
		return -errno ? -errno : -ENOENT;
	}
	if (c.rc) {
		config_args_free(args);
		return c.rc;
	}
	if (rc) {
		snprintf(err, errlen,
			 "--config %s:%d: not INI syntax (key = value, [section], "
			 "# comments)",
			 path, rc);
		config_args_free(args);
		return -EINVAL;
	}
	return 0;
}

void config_args_free(struct config_args *args)
{
	for (int i = 0; i < args->argc; i++)
		free(args->argv[i]);
	free(args->argv);
	args->argv = NULL;
	args->argc = 0;
}

/* The option name of "--name=value" / "--name" into buf. */
static const char *opt_name(const char *arg, char *buf, size_t len)
{
	size_t n;

	if (strncmp(arg, "--", 2))
		return "";
	arg += 2;
	n = strcspn(arg, "=");
	snprintf(buf, len, "%.*s", (int)n, arg);
	return buf;
}

static bool cmdline_has(int argc, char **argv, const char *name)
{
	char buf[64];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(opt_name(argv[i], buf, sizeof(buf)), name))
			return true;
		/* -i IF is --iface */
		if (!strcmp(name, "iface") && !strncmp(argv[i], "-i", 2))
			return true;
	}
	return false;
}

char **config_file_merge(const struct config_args *file, int argc, char **argv,
			 int (*is_list)(const char *name), int *out_argc)
{
	char **out = calloc((size_t)(argc + file->argc + 1), sizeof(*out));
	char buf[64];
	int n = 0;

	if (!out)
		return NULL;
	out[n++] = argc ? argv[0] : "xtwampd";
	for (int i = 0; i < file->argc; i++) {
		const char *name = opt_name(file->argv[i], buf, sizeof(buf));

		if (is_list(name) && cmdline_has(argc, argv, name))
			continue;
		out[n++] = file->argv[i];
	}
	for (int i = 1; i < argc; i++)
		out[n++] = argv[i];
	out[n] = NULL;
	*out_argc = n;
	return out;
}
