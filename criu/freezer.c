// SPDX-License-Identifier: GPL-2.0
/*
 * The cgroup freezer of --freeze-cgroup (see freezer.h).
 *
 * cgroup v1: freezer.state reads THAWED, FREEZING or FROZEN, the effective
 * state (a frozen ancestor freezes it too); writing FROZEN starts freezing
 * and THAWED thaws. cgroup v2: writing 1 to cgroup.freeze starts freezing,
 * and cgroup.events says "frozen 1" once every task is frozen (also when an
 * ancestor is). Either way a cgroup freezes with all the cgroups below it,
 * and no task in it can fork, clone or return to user space once frozen;
 * a task already inside exit() may still finish it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compel/infect.h"
#include "freezer.h"
#include "log.h"
#include "util.h"

#define FREEZER_MAX_DEPTH 64
#define FREEZER_POLL_MAX_NS 10000000L /* 10 ms */

enum fz_state { FZ_THAWED, FZ_FREEZING, FZ_FROZEN };

static const char *state_file(const struct freezer *fz)
{
	return fz->v2 ? "cgroup.freeze" : "freezer.state";
}

static const char *state_value(const struct freezer *fz, bool freeze)
{
	if (fz->v2)
		return freeze ? "1" : "0";
	return freeze ? "FROZEN" : "THAWED";
}

static char *read_cgroup_file(const struct freezer *fz, const char *name)
{
	char *buf = read_file_at(fz->dirfd, name, NULL);

	if (!buf)
		pr_perror("can't read %s of cgroup %s", name, fz->path);
	return buf;
}

/* "frozen N" of cgroup.events: 0, 1, or -EINVAL */
static int v2_frozen(const struct freezer *fz, const char *events)
{
	const char *p;

	for (p = events; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, "frozen ", 7) && (p[7] == '0' || p[7] == '1'))
			return p[7] - '0';
	}
	pr_err("cgroup %s: no \"frozen\" line in cgroup.events\n", fz->path);
	return -EINVAL;
}

static int read_state(const struct freezer *fz)
{
	char *buf, *events;
	int ret, frozen;

	buf = read_cgroup_file(fz, state_file(fz));
	if (!buf)
		return -EIO;
	if (!fz->v2) {
		buf[strcspn(buf, "\n")] = 0;
		if (!strcmp(buf, "THAWED"))
			ret = FZ_THAWED;
		else if (!strcmp(buf, "FREEZING"))
			ret = FZ_FREEZING;
		else if (!strcmp(buf, "FROZEN"))
			ret = FZ_FROZEN;
		else {
			pr_err("cgroup %s: unknown freezer.state \"%s\"\n", fz->path, buf);
			ret = -EINVAL;
		}
		free(buf);
		return ret;
	}
	events = read_cgroup_file(fz, "cgroup.events");
	frozen = events ? v2_frozen(fz, events) : -EIO;
	if (frozen < 0)
		ret = frozen;
	else if (frozen)
		ret = FZ_FROZEN;
	else
		ret = buf[0] == '1' ? FZ_FREEZING : FZ_THAWED;
	free(events);
	free(buf);
	return ret;
}

static int write_state(const struct freezer *fz, bool freeze)
{
	const char *val = state_value(fz, freeze);
	int fd, ret;

	fd = openat(fz->dirfd, state_file(fz), O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_perror("can't open %s of cgroup %s", state_file(fz), fz->path);
		return ret;
	}
	ret = write_all(fd, val, strlen(val));
	if (ret)
		pr_err("can't %s cgroup %s: %s\n", freeze ? "freeze" : "thaw", fz->path, strerror(-ret));
	close(fd);
	return ret;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

static int add_tid_list(struct freezer *fz, int cgfd, const char *path)
{
	const char *name = fz->v2 ? "cgroup.threads" : "tasks";
	char *buf, *p, *end;
	int ret = 0;

	buf = read_file_at(cgfd, name, NULL);
	if (!buf) {
		ret = -errno;
		pr_perror("can't read %s/%s", path, name);
		return ret;
	}
	for (p = buf;; p = end) {
		long tid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (tid <= 0)
			continue;
		ret = xgrow(&fz->tids, &fz->tids_cap, fz->nr_tids, sizeof(pid_t));
		if (ret)
			break;
		fz->tids[fz->nr_tids++] = tid;
	}
	free(buf);
	return ret;
}

/* The threads of the cgroup open at cgfd, whose path is path[0..len), and of every cgroup below it. */
static int add_tids(struct freezer *fz, int cgfd, char *path, size_t len, int depth)
{
	struct dirent *de;
	int fd, ret;
	DIR *d;

	if (depth > FREEZER_MAX_DEPTH) {
		pr_err("cgroup %s: more than %d levels of cgroups below it\n", fz->path, FREEZER_MAX_DEPTH);
		return -ELOOP;
	}
	ret = add_tid_list(fz, cgfd, path);
	if (ret)
		return ret;
	/* an open file of its own, so that readdir() has its own position */
	fd = openat(cgfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		ret = -errno;
		pr_perror("can't list %s", path);
		if (fd >= 0)
			close(fd);
		return ret;
	}
	while (!ret && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		int sub;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		if (len + 1 + n >= PATH_MAX) {
			pr_err("cgroup %s: the path of a cgroup below it is too long\n", fz->path);
			ret = -ENAMETOOLONG;
			break;
		}
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			/* a file, or a cgroup removed meanwhile */
			if (errno != ENOTDIR && errno != ENOENT) {
				ret = -errno;
				pr_perror("can't open %s/%s", path, de->d_name);
			}
			continue;
		}
		path[len] = '/';
		memcpy(path + len + 1, de->d_name, n + 1);
		ret = add_tids(fz, sub, path, len + 1 + n, depth + 1);
		path[len] = 0;
		close(sub);
	}
	closedir(d);
	return ret;
}

static int load_tids(struct freezer *fz)
{
	char *path;
	int ret;

	path = xmalloc(PATH_MAX);
	if (!path)
		return -ENOMEM;
	snprintf(path, PATH_MAX, "%s", fz->path);
	fz->nr_tids = 0;
	ret = add_tids(fz, fz->dirfd, path, strlen(path), 0);
	free(path);
	if (!ret)
		xqsort(fz->tids, fz->nr_tids, sizeof(pid_t), cmp_pid);
	return ret;
}

static bool listed(const struct freezer *fz, pid_t tid)
{
	return fz->nr_tids && bsearch(&tid, fz->tids, fz->nr_tids, sizeof(pid_t), cmp_pid);
}

bool freezer_has_thread(struct freezer *fz, pid_t tid)
{
	if (listed(fz, tid))
		return true;
	/* while frozen the lists can't change; once thawed, new tasks can have appeared */
	if (!fz->frozen && !load_tids(fz))
		return listed(fz, tid);
	return false;
}

int freezer_open(struct freezer *fz, const char *path, struct compel_journal *journal)
{
	memset(fz, 0, sizeof(*fz));
	fz->dirfd = -1;
	fz->path = path;
	fz->journal = journal;
	if (path[0] != '/') {
		pr_err("--freeze-cgroup %s: give the absolute path of a cgroup directory\n", path);
		return -EINVAL;
	}
	/* the guard thaws through the path of the state file: it must fit its journal */
	if (strlen(path) + sizeof("/freezer.state") > COMPEL_UNDO_PATH_MAX) {
		pr_err("--freeze-cgroup %s: the path is too long\n", path);
		return -ENAMETOOLONG;
	}
	fz->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fz->dirfd < 0) {
		pr_perror("can't open cgroup %s", path);
		return -errno;
	}
	if (!faccessat(fz->dirfd, "cgroup.freeze", F_OK, 0)) {
		fz->v2 = true;
	} else if (faccessat(fz->dirfd, "freezer.state", F_OK, 0)) {
		pr_err("%s is not a freezer cgroup: it has neither freezer.state (cgroup v1) nor cgroup.freeze "
		       "(cgroup v2; a root cgroup has neither)\n",
		       path);
		return -EINVAL;
	}
	pr_info("freezer: %s is a cgroup v%d freezer\n", path, fz->v2 ? 2 : 1);
	return 0;
}

static int wait_frozen(struct freezer *fz, unsigned timeout)
{
	uint64_t start = now_ns(CLOCK_MONOTONIC), deadline = start + timeout * 1000000000ULL;
	struct timespec ts = { 0, 100000 };
	int state;

	for (;;) {
		state = read_state(fz);
		if (state < 0 || state == FZ_FROZEN)
			break;
		if (state == FZ_THAWED) {
			pr_err("cgroup %s was thawed by someone else while criu froze it\n", fz->path);
			return -EAGAIN;
		}
		if (now_ns(CLOCK_MONOTONIC) > deadline) {
			pr_err("cgroup %s did not freeze within %u s: a task in it may be stuck in the kernel\n",
			       fz->path, timeout);
			return -ETIMEDOUT;
		}
		nanosleep(&ts, NULL);
		ts.tv_nsec = min(ts.tv_nsec * 2, FREEZER_POLL_MAX_NS);
	}
	if (state == FZ_FROZEN)
		pr_info("freezer: cgroup %s frozen in %.2f ms\n", fz->path, (now_ns(CLOCK_MONOTONIC) - start) / 1e6);
	return state < 0 ? state : 0;
}

static int check_outside(struct freezer *fz, pid_t pid, const char *who)
{
	if (!listed(fz, pid))
		return 0;
	pr_err("%s (%d) is in cgroup %s: freezing it would freeze criu itself\n", who, pid, fz->path);
	return -EINVAL;
}

int freezer_freeze(struct freezer *fz, unsigned timeout)
{
	char undo[COMPEL_UNDO_PATH_MAX];
	int ret;

	ret = read_state(fz);
	if (ret < 0)
		return ret;
	if (ret != FZ_THAWED) {
		/* its owner froze it for a reason: criu would have to thaw it to seize the tasks */
		pr_err("cgroup %s is %s already: thaw it first, criu freezes it for the seize and thaws it after\n",
		       fz->path, ret == FZ_FROZEN ? "frozen" : "freezing");
		return -EBUSY;
	}
	ret = load_tids(fz);
	ret = ret ?: check_outside(fz, getpid(), "criu");
	ret = ret ?: check_outside(fz, fz->journal ? fz->journal->guard_pid : 0, "criu's guard");
	if (ret)
		return ret;
	snprintf(undo, sizeof(undo), "%s/%s", fz->path, state_file(fz));
	if (fz->journal) {
		ret = compel_guard_arm_undo(fz->journal, undo, state_value(fz, false));
		if (ret) {
			pr_err("can't hand %s over to the guard: %s\n", undo, strerror(-ret));
			return ret;
		}
	}
	/* a failed write may still have started freezing: thaw in any case */
	fz->frozen = true;
	ret = write_state(fz, true);
	ret = ret ?: wait_frozen(fz, timeout);
	/* stable now: nothing can join or leave the cgroup but by a write to it */
	ret = ret ?: load_tids(fz);
	if (ret) {
		freezer_thaw(fz);
		return ret;
	}
	pr_info("freezer: %zu threads in cgroup %s\n", fz->nr_tids, fz->path);
	return 0;
}

int freezer_thaw(struct freezer *fz)
{
	int ret;

	if (!fz->frozen)
		return 0;
	ret = write_state(fz, false);
	if (ret)
		return ret; /* the guard stays armed: it tries again when criu exits */
	fz->frozen = false;
	if (fz->journal)
		compel_guard_disarm_undo(fz->journal);
	pr_info("freezer: cgroup %s thawed\n", fz->path);
	return 0;
}

/* wchan of a thread that may be in a job-control stop, or that can't be told */
static bool maybe_stopped(const char *wchan)
{
	/* do_signal_stop() may be inlined into get_signal() */
	return !wchan[0] || !strcmp(wchan, "0") || !strcmp(wchan, "do_signal_stop") || !strcmp(wchan, "get_signal");
}

bool freezer_seize_blocks(const struct freezer *fz, pid_t pid)
{
	char path[96], *wchan;
	struct dirent *de;
	bool ret = false;
	DIR *d;

	if (fz->v2)
		return false; /* a v2-frozen task in a stop re-traps at once */
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return false; /* gone: the seize will tell */
	while (!ret && (de = readdir(d))) {
		pid_t tid = atoi(de->d_name);

		if (tid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", pid, tid);
		wchan = read_file_at(AT_FDCWD, path, NULL);
		/* no wchan (no kallsyms): assume the worst, seizing it later is always safe */
		ret = !wchan || maybe_stopped(wchan);
		if (ret)
			pr_info("freezer: thread %d of %d sleeps in %s: it may be in a job-control stop\n", tid, pid,
				wchan ? (wchan[0] ? wchan : "?") : "(no wchan)");
		free(wchan);
	}
	closedir(d);
	return ret;
}

void freezer_close(struct freezer *fz)
{
	freezer_thaw(fz);
	if (fz->dirfd >= 0)
		close(fz->dirfd);
	free(fz->tids);
	memset(fz, 0, sizeof(*fz));
	fz->dirfd = -1;
}
