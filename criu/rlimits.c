// SPDX-License-Identifier: GPL-2.0
/*
 * Resource limits. The dumper reads them from /proc/PID/limits. The restorer
 * sets them with prlimit64 at its very end, once the memory is built and
 * its helper fds are closed: RLIMIT_AS, RLIMIT_DATA or RLIMIT_NOFILE of
 * the target could otherwise stop the restore itself. validate.c already
 * refused a hard limit above criu's own (raising it needs CAP_SYS_RESOURCE).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "log.h"
#include "rlimits.h"
#include "util.h"

/*
 * The kernel prints each limit as "%-25s %-20s %-20s %-10s": soft and hard
 * are at fixed columns, "unlimited" or a number.
 */
#define LIMITS_SOFT_COL 26
#define LIMITS_HARD_COL 47

static int parse_limit(const char *s, uint64_t *val)
{
	char *end;

	if (!strncmp(s, "unlimited", 9)) {
		*val = RLIM64_INFINITY;
		return 0;
	}
	*val = strtoull(s, &end, 10);
	return end == s ? -EINVAL : 0;
}

static int parse_limits_line(const char *line, size_t len, RlimitEntry *e)
{
	rlimit_entry__init(e);
	if (len < LIMITS_HARD_COL + 1)
		return -EINVAL;
	if (parse_limit(line + LIMITS_SOFT_COL, &e->cur) || parse_limit(line + LIMITS_HARD_COL, &e->max))
		return -EINVAL;
	return 0;
}

/*
 * /proc/PID/limits rather than prlimit(pid): prlimit() on a task of
 * another uid needs CAP_SYS_RESOURCE, which criu may not have.
 */
int rlimits_collect(pid_t pid, struct dump_rlimits *r)
{
	char path[64], *buf, *line, *next;
	size_t i = 0;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/limits", pid);
	buf = read_file_at(AT_FDCWD, path, NULL);
	if (!buf) {
		pr_perror("can't read %s", path);
		return -errno;
	}
	line = strchr(buf, '\n'); /* the header */
	for (line = line ? line + 1 : NULL; line && *line && i < RESTORER_NR_RLIMITS; line = next, i++) {
		next = strchr(line, '\n');
		if (!next)
			next = line + strlen(line);
		if (parse_limits_line(line, next - line, &r->entries[i])) {
			pr_err("%s: can't parse \"%.*s\"\n", path, (int)(next - line), line);
			ret = -EINVAL;
			break;
		}
		r->ptrs[i] = &r->entries[i];
		if (*next)
			next++;
	}
	free(buf);
	r->nr = i;
	return ret;
}

void rlimits_to_image(struct dump_rlimits *r, TaskCoreEntry *core)
{
	core->n_rlimits = r->nr;
	core->rlimits = r->ptrs;
}

void rlimits_fill_restorer(const TaskCoreEntry *core, struct restorer_task_attrs *ta)
{
	size_t i;

	ta->nr_rlimits = core->n_rlimits;
	for (i = 0; i < core->n_rlimits; i++) {
		ta->rlimits[i].cur = core->rlimits[i]->cur;
		ta->rlimits[i].max = core->rlimits[i]->max;
	}
}
