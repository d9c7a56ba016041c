// SPDX-License-Identifier: GPL-2.0
/*
 * `criu restore`: recreate a dumped process tree, every process with all
 * its threads, with their PIDs.
 *
 *  1. read and validate every image, plan sessions and groups, check every
 *     PID is free, open the files the restorers map and every file
 *     description once (restore-images.c, restore-tree.c, files.c);
 *  2. map and fill one restorer area per process (restore-area.c);
 *  3. clone3 the root with set_tid and trace it; every process forks its
 *     children (traced from birth), sets its session and group at the
 *     tree's barriers, sets up fds, cwd, and jumps into its restorer blob
 *     (restore-child.c), which rebuilds the memory and enters the target
 *     with rt_sigreturn;
 *  4. at the restorers' int3s, criu finishes each process through ptrace:
 *     unmaps the area and sets the signal masks (restore-ptrace.c), then
 *     detaches.
 *
 * Until the detach, any failure kills and reaps every process created:
 * nothing of a failed restore is left behind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clone3.h"
#include "image-sums.h"
#include "log.h"
#include "proc-parse.h"
#include "restore.h"
#include "util.h"
#include "validate-pstree.h"

#define NS_LAST_PID "/proc/sys/kernel/ns_last_pid"

/*
 * Kernels without clone3: ask for pid - 1 as the last allocated pid, then
 * fork. The lock keeps other criu instances from racing us; anything else
 * forking meanwhile makes us get the wrong pid, which we detect.
 */
static pid_t fork_with_ns_last_pid(pid_t pid)
{
	char buf[32];
	pid_t child;
	int fd, len;

	fd = open(NS_LAST_PID, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s", NS_LAST_PID);
		return -1;
	}
	if (flock(fd, LOCK_EX)) {
		pr_perror("can't lock %s", NS_LAST_PID);
		close(fd);
		return -1;
	}
	len = snprintf(buf, sizeof(buf), "%d", pid - 1);
	if (write(fd, buf, len) != len) {
		pr_perror("can't write %s", NS_LAST_PID);
		close(fd);
		return -1;
	}
	child = fork();
	if (child == 0)
		return 0;
	close(fd); /* drops the lock */
	if (child > 0 && child != pid) {
		pr_err("another process took pid %d first (we got %d)\n", pid, child);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		errno = EEXIST;
		return -1;
	}
	return child;
}

/*
 * A pid with no process of its own is still taken while some process has
 * it as its process group or session id: say which.
 */
static void explain_pid_in_use(pid_t pid)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	int saved = errno;

	while (d && (de = readdir(d))) {
		char path[300], *buf, *p;
		int pgid, sid;

		if (atoi(de->d_name) <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		buf = read_file_at(AT_FDCWD, path, NULL);
		p = buf ? strrchr(buf, ')') : NULL;
		if (p && sscanf(p + 2, "%*c %*d %d %d", &pgid, &sid) == 2 && (pgid == pid || sid == pid)) {
			pr_err("pid %d is the %s id of process %s, which still exists: it can't be given back\n", pid,
			       sid == pid ? "session" : "process group", de->d_name);
			free(buf);
			break;
		}
		free(buf);
	}
	if (d)
		closedir(d);
	errno = saved;
}

pid_t restore_clone_with_pid(pid_t pid, int exit_signal)
{
	pid_t child = clone3_with_pid(pid, exit_signal);

	if (child < 0 && errno == ENOSYS) {
		pr_info("no clone3 here: asking for pid %d through %s\n", pid, NS_LAST_PID);
		return fork_with_ns_last_pid(pid);
	}
	if (child < 0)
		pr_perror("can't create process %d with clone3", pid);
	if (child < 0 && errno == EEXIST)
		explain_pid_in_use(pid);
	return child;
}

/* Ours: traced by criu, or a child of criu or of a process of the tree (whose pids were free). */
static bool tree_owns(const struct restore_tree *tree, pid_t pid)
{
	struct proc_stat st;
	const char *tracer;
	char *status;
	bool ours;

	/* already gone (a process that failed and exited): nothing to kill, nothing to say */
	if (kill(pid, 0) && errno == ESRCH)
		return false;
	if (parse_proc_stat(pid, &st))
		return false;
	if (st.ppid == getpid() || restore_tree_find(tree, st.ppid))
		return true;
	status = read_task_status(pid, pid);
	if (!status)
		return false;
	tracer = proc_status_field(status, "TracerPid");
	ours = tracer && atoi(tracer) == getpid();
	free(status);
	return ours;
}

static void kill_if_ours(const struct restore_tree *tree, pid_t pid)
{
	if (tree_owns(tree, pid))
		kill(pid, SIGKILL);
}

/*
 * Kill every process the tree created so far and reap them all: criu is
 * their tracer and their subreaper, so each ends up here. A process
 * created but not yet seen shows up as a stop: it is killed then.
 */
static void kill_tree(struct restore_tree *tree)
{
	size_t i;
	pid_t ret;
	int status;

	for (i = 0; i < tree->nr; i++)
		kill_if_ours(tree, tree->tasks[i].pid);
	for (i = 0; i < tree->nr_helpers; i++)
		kill_if_ours(tree, tree->helpers[i].pid);
	for (;;) {
		ret = waitpid(-1, &status, __WALL);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			break;
		if (WIFSTOPPED(status))
			kill(ret, SIGKILL);
	}
}

/*
 * criu becomes the subreaper of the tree while it builds it, so that a
 * failure can reap everything: orphans of killed processes come back here.
 */
static int subreaper_set(struct restore_tree *tree, bool on)
{
	if (on == tree->subreaper_set)
		return 0;
	if (prctl(PR_SET_CHILD_SUBREAPER, on, 0, 0, 0)) {
		pr_perror("can't %s criu as child subreaper", on ? "set" : "clear");
		return -errno;
	}
	tree->subreaper_set = on;
	return 0;
}

/*
 * The root waits on sync until criu traces it, so that the restorer's
 * int3 always finds a tracer; every other process is traced from birth.
 */
static int create_root(struct restore_tree *tree)
{
	struct restore_task *root = &tree->tasks[0];
	int sync[2], ret;
	pid_t child;

	if (pipe2(sync, O_CLOEXEC)) {
		pr_perror("can't create a pipe");
		return -errno;
	}
	child = restore_clone_with_pid(root->pid, SIGCHLD);
	if (child == 0) {
		close(sync[1]);
		restore_child_run(root, sync[0]);
	}
	close(sync[0]);
	if (child < 0) {
		close(sync[1]);
		return errno == EEXIST ? -EEXIST : -ECHILD;
	}
	root->child = child;
	ret = restore_seize(child);
	if (!ret && write(sync[1], "g", 1) != 1) {
		pr_perror("can't wake process %d", child);
		ret = -EPIPE;
	}
	close(sync[1]);
	return ret;
}

static int pidfile_dirfd(const struct cr_ctx *ctx, const char *path)
{
	if (path[0] == '/' || ctx->workdir_fd < 0)
		return AT_FDCWD;
	return ctx->workdir_fd;
}

/* As criu does: a new file, relative to the work dir, holding the root's pid. */
static int write_pidfile(const struct restore_tree *tree)
{
	const char *path = tree->ctx->opts->pidfile;
	char buf[16];
	int fd, len, ret = 0;

	if (!path)
		return 0;
	fd = openat(pidfile_dirfd(tree->ctx, path), path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		pr_perror("can't create pidfile %s", path);
		return -errno;
	}
	len = snprintf(buf, sizeof(buf), "%d", tree->tasks[0].pid);
	ret = write_all(fd, buf, len);
	if (ret)
		pr_err("can't write pidfile %s: %s\n", path, strerror(-ret));
	if (close(fd) && !ret) {
		pr_perror("can't write pidfile %s", path);
		ret = -EIO;
	}
	return ret;
}

static void remove_pidfile(const struct restore_tree *tree)
{
	const char *path = tree->ctx->opts->pidfile;

	if (path)
		unlinkat(pidfile_dirfd(tree->ctx, path), path, 0);
}

static int detach(struct restore_task *rt)
{
	/* dumped in a job-control stop: it enters the stop as soon as it is let go */
	if (rt->core->has_stopped && rt->core->stopped && kill(rt->pid, SIGSTOP)) {
		pr_perror("can't stop process %d", rt->pid);
		return -errno;
	}
	return restore_detach_threads(rt);
}

/* Without -d criu stays the root's parent and passes its end on as its own. */
static int wait_restored(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			pr_perror("can't wait for process %d", pid);
			return -errno;
		}
	}
	if (WIFEXITED(status)) {
		pr_info("process %d exited with %d\n", pid, WEXITSTATUS(status));
		return WEXITSTATUS(status);
	}
	pr_info("process %d was killed by signal %d\n", pid, WTERMSIG(status));
	return 128 + WTERMSIG(status);
}

static int prepare_task(struct restore_tree *tree, struct restore_task *rt)
{
	int ret;

	if (rt->zombie)
		return 0;
	ret = restore_threads_init(rt);
	ret = ret ?: restore_open_helpers(rt);
	return ret ?: files_open_masters(&tree->files, &rt->files, rt->pid, max(tree->max_fd + 1, 3), tree->ctx->opts);
}

/*
 * criu holds every process's helper fds and every master at once: a big
 * tree needs more than the usual soft limit. Raising it to the hard limit
 * needs no privilege; each restorer sets its process's own limits later.
 */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		pr_warn("can't raise the fd limit to %lu: %s\n", (unsigned long)rl.rlim_max, strerror(errno));
}

/* Read, verify and validate every image, and plan: nothing is created yet (all of --check-only). */
static int check_images(struct restore_tree *tree)
{
	int ret;

	/* before anything is read: every image file as the dump wrote it */
	ret = image_sums_verify(tree->ctx->imgdir_fd);
	ret = ret ?: restore_tree_read(tree);
	ret = ret ?: restore_tree_plan(tree);
	ret = ret ?: restore_cow_resolve(tree);
	/* before the areas: they must avoid the arena */
	return ret ?: restore_premap_plan(tree);
}

/* Everything that can fail without a process to clean up. */
static int prepare(struct restore_tree *tree)
{
	size_t i;
	int ret;

	raise_nofile();
	ret = check_images(tree);
	ret = ret ?: restore_shm_collect(tree);
	ret = ret ?: restore_shm_create(tree);
	for (i = 0; i < tree->nr && !ret; i++)
		ret = prepare_task(tree, &tree->tasks[i]);
	files_masters_done(&tree->files);
	/* Each area is placed after the others: all of them are distinct in criu. */
	for (i = 0; i < tree->nr && !ret; i++)
		if (!tree->tasks[i].zombie)
			ret = restore_area_create(&tree->tasks[i]);
	return ret ?: restore_tree_sync_create(tree);
}

/* The processes have their own copies of the areas, helper fds and masters. */
static void drop_criu_copies(struct restore_tree *tree)
{
	size_t i;

	for (i = 0; i < tree->nr; i++) {
		restore_area_destroy(&tree->tasks[i]);
		restore_close_helpers(&tree->tasks[i]);
		restore_cow_close(&tree->tasks[i]);
	}
	files_close_masters(&tree->files);
	restore_shm_close(tree);
	restore_premap_release(tree);
}

static int finish_tree(struct restore_tree *tree)
{
	size_t i;
	int ret;

	ret = restore_wait_tree_int3s(tree);
	for (i = 0; i < tree->nr && !ret; i++)
		if (!tree->tasks[i].zombie)
			ret = restore_finish_task(&tree->tasks[i]);
	return ret;
}

/* Children before parents, so that no restored parent sees a child still traced. */
static int detach_tree(struct restore_tree *tree)
{
	size_t i;
	int ret;

	for (i = tree->nr; i-- > 0;) {
		if (tree->tasks[i].zombie)
			continue;
		ret = detach(&tree->tasks[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static int restore_and_detach(struct restore_tree *tree)
{
	int ret;

	ret = subreaper_set(tree, true);
	ret = ret ?: create_root(tree);
	drop_criu_copies(tree);
	ret = ret ?: finish_tree(tree);
	ret = ret ?: write_pidfile(tree);
	if (ret)
		goto fail;
	ret = detach_tree(tree);
	if (ret) {
		remove_pidfile(tree);
		goto fail;
	}
	return subreaper_set(tree, false);
fail:
	kill_tree(tree);
	subreaper_set(tree, false);
	return ret;
}

/*
 * Returns a negative errno on failure. On success: 0 with -d, else the exit
 * status criu should end with (the root's, or 128 + signal).
 */
int cr_restore(struct cr_ctx *ctx)
{
	struct restore_tree tree = { .ctx = ctx };
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	pid_t root;
	size_t nr;
	int ret;

	if (ctx->opts->check_only) {
		ret = check_images(&tree);
		nr = tree.nr;
		restore_tree_free(&tree);
		if (!ret)
			pr_msg("The images are complete, intact and valid: %zu processes.\n", nr);
		return ret;
	}
	ret = prepare(&tree);
	ret = ret ?: restore_and_detach(&tree);
	root = tree.nr ? tree.tasks ? tree.tasks[0].pid : 0 : 0;
	nr = tree.nr;
	/* Nothing of the images is needed any more, even while waiting. */
	restore_tree_free(&tree);
	if (ret) {
		if (root)
			pr_err("restore of process %d failed\n", root);
		return ret;
	}
	pr_info("process %d restored (%zu processes) in %llu us\n", root, nr,
		(unsigned long long)(now_ns(CLOCK_MONOTONIC) - t0) / 1000);
	if (ctx->opts->restore_detached)
		return 0;
	return wait_restored(root);
}
