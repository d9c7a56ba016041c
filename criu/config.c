// SPDX-License-Identifier: GPL-2.0
/*
 * Configuration files, as CRIU reads them: /etc/criu/default.conf and
 * ~/.criu/default.conf (skipped with --no-default-config), then the file of
 * --config FILE. One option per line, its long name with or without the
 * leading dashes, then its value; '#' starts a comment. The options read
 * here come before those of the command line, which therefore win.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "util.h"

struct argv_builder {
	char **argv;
	int argc;
	size_t cap;
};

static int argv_push(struct argv_builder *b, const char *s)
{
	/* room for this one and the NULL after it */
	if (xgrow(&b->argv, &b->cap, b->argc + 1, sizeof(char *)))
		return -ENOMEM;
	b->argv[b->argc] = xstrdup(s);
	if (!b->argv[b->argc])
		return -ENOMEM;
	b->argv[++b->argc] = NULL;
	return 0;
}

static char *strip(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = 0;
	return s;
}

static int parse_line(struct argv_builder *b, char *line, const char *path, int lineno)
{
	char opt[4200], *name, *value;
	size_t len;

	if (strchr(line, '#'))
		*strchr(line, '#') = 0;
	name = strip(line);
	if (!*name)
		return 0;
	value = name + strcspn(name, " \t");
	if (*value)
		*value++ = 0;
	value = strip(value);
	len = strlen(value);
	if (len >= 2 && (value[0] == '"' || value[0] == '\'') && value[len - 1] == value[0]) {
		value[len - 1] = 0;
		value++;
	}
	while (*name == '-')
		name++;
	if (!*name) {
		pr_err("%s:%d: bad option\n", path, lineno);
		return -EINVAL;
	}
	/* --name=value suits options with required and optional arguments alike */
	if (*value)
		snprintf(opt, sizeof(opt), "--%s=%s", name, value);
	else
		snprintf(opt, sizeof(opt), "--%s", name);
	return argv_push(b, opt);
}

static int read_config(struct argv_builder *b, const char *path, bool must_exist)
{
	char line[4096];
	int lineno = 0, ret = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		if (!must_exist && errno == ENOENT)
			return 0;
		pr_perror("can't read configuration file %s", path);
		return -errno;
	}
	while (!ret && fgets(line, sizeof(line), f))
		ret = parse_line(b, line, path, ++lineno);
	fclose(f);
	return ret;
}

static bool argv_has(int argc, char **argv, const char *opt, const char **value)
{
	size_t len = strlen(opt);
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (strncmp(argv[i], opt, len))
			continue;
		if (argv[i][len] == '=') {
			if (value)
				*value = argv[i] + len + 1;
			return true;
		}
		if (!argv[i][len]) {
			if (value)
				*value = i + 1 < argc ? argv[i + 1] : NULL;
			return true;
		}
	}
	return false;
}

int config_build_argv(int argc, char **argv, int *new_argc, char ***new_argv)
{
	struct argv_builder b = {};
	const char *home = getenv("HOME"), *cfg = NULL;
	char path[4096];
	int i, ret = 0;

	ret = argv_push(&b, argv[0]);
	if (!ret && !argv_has(argc, argv, "--no-default-config", NULL)) {
		ret = read_config(&b, "/etc/criu/default.conf", false);
		if (!ret && home) {
			snprintf(path, sizeof(path), "%s/.criu/default.conf", home);
			ret = read_config(&b, path, false);
		}
	}
	if (!ret && argv_has(argc, argv, "--config", &cfg)) {
		if (!cfg) {
			pr_err("option '--config' needs an argument\n");
			ret = -EINVAL;
		} else {
			ret = read_config(&b, cfg, true);
		}
	}
	for (i = 1; !ret && i < argc; i++)
		ret = argv_push(&b, argv[i]);
	if (ret)
		return ret;
	*new_argc = b.argc;
	*new_argv = b.argv;
	return 0;
}
