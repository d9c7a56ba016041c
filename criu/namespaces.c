// SPDX-License-Identifier: GPL-2.0
/* Namespaces: for now, only the check that the target shares criu's. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "log.h"
#include "namespaces.h"
#include "util.h"

static const char *const ns_names[] = { "mnt", "pid", "net", "ipc", "uts", "user", "cgroup", "time" };

int ns_check_same_as_criu(pid_t pid)
{
	struct stat mine, theirs;
	char path[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ns_names); i++) {
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns_names[i]);
		if (stat(path, &mine))
			continue; /* a kernel without this namespace */
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns_names[i]);
		if (stat(path, &theirs)) {
			pr_perror("can't read %s", path);
			return -errno;
		}
		if (mine.st_dev != theirs.st_dev || mine.st_ino != theirs.st_ino) {
			pr_err("process %d is in another %s namespace than criu: dumping namespaces is not supported "
			       "yet\n",
			       pid, ns_names[i]);
			return -ENOTSUP;
		}
	}
	return 0;
}
