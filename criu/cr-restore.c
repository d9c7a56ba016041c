// SPDX-License-Identifier: GPL-2.0
/*
 * `criu restore`: recreate a dumped process, with all its threads, with its PID.
 *
 *  1. read and validate every image, check the PID is free, open the files
 *     the restorer maps (restore-images.c);
 *  2. map and fill the restorer area (restore-area.c);
 *  3. clone3 with set_tid, trace the child; the child sets up fds, cwd,
 *     session and jumps into the restorer blob (restore-child.c), which
 *     rebuilds the memory and enters the target with rt_sigreturn;
 *  4. at the restorer's int3, criu finishes through ptrace: unmaps the area
 *     and sets the signal mask (restore-ptrace.c), then detaches.
 *
 * Until the detach, any failure kills and reaps the child: nothing of a
 * failed restore is left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clone3.h"
#include "log.h"
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

static pid_t clone_with_pid(pid_t pid)
{
	pid_t child = clone3_with_pid(pid, SIGCHLD);

	if (child < 0 && errno == ENOSYS) {
		pr_info("no clone3 here: asking for pid %d through %s\n", pid, NS_LAST_PID);
		return fork_with_ns_last_pid(pid);
	}
	if (child < 0)
		pr_perror("can't create process %d with clone3", pid);
	return child;
}

/*
 * Traced threads stay zombies until their tracer reaps them, and the
 * leader is not reaped before the last of them: reap them all.
 */
static void kill_child(struct restore_task *rt)
{
	pid_t ret;

	if (rt->child <= 0)
		return;
	kill(rt->child, SIGKILL);
	do
		ret = waitpid(-1, NULL, __WALL);
	while (ret != rt->child && (ret >= 0 || errno == EINTR));
	rt->child = 0;
}

/*
 * The child waits on sync until criu traces it, so that the restorer's
 * int3 always finds a tracer.
 */
static int create_task(struct restore_task *rt)
{
	int sync[2], ret;
	pid_t child;

	if (pipe2(sync, O_CLOEXEC)) {
		pr_perror("can't create a pipe");
		return -errno;
	}
	child = clone_with_pid(rt->pid);
	if (child == 0) {
		close(sync[1]);
		restore_child_run(rt, sync[0]);
	}
	close(sync[0]);
	if (child < 0) {
		close(sync[1]);
		return errno == EEXIST ? -EEXIST : -ECHILD;
	}
	rt->child = child;
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

/* As criu does: a new file, relative to the work dir, holding the pid. */
static int write_pidfile(const struct restore_task *rt)
{
	const char *path = rt->ctx->opts->pidfile;
	char buf[16];
	int fd, len, ret = 0;

	if (!path)
		return 0;
	fd = openat(pidfile_dirfd(rt->ctx, path), path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		pr_perror("can't create pidfile %s", path);
		return -errno;
	}
	len = snprintf(buf, sizeof(buf), "%d", rt->pid);
	ret = write_all(fd, buf, len);
	if (ret)
		pr_err("can't write pidfile %s: %s\n", path, strerror(-ret));
	if (close(fd) && !ret) {
		pr_perror("can't write pidfile %s", path);
		ret = -EIO;
	}
	return ret;
}

static void remove_pidfile(const struct restore_task *rt)
{
	const char *path = rt->ctx->opts->pidfile;

	if (path)
		unlinkat(pidfile_dirfd(rt->ctx, path), path, 0);
}

static int detach(struct restore_task *rt)
{
	/* dumped in a job-control stop: it enters the stop as soon as it is let go */
	if (rt->core->has_stopped && rt->core->stopped && kill(rt->child, SIGSTOP)) {
		pr_perror("can't stop process %d", rt->pid);
		return -errno;
	}
	return restore_detach_threads(rt);
}

/* Without -d criu stays the parent and passes the process's end on as its own. */
static int wait_restored(const struct restore_task *rt)
{
	int status;

	while (waitpid(rt->child, &status, 0) < 0) {
		if (errno != EINTR) {
			pr_perror("can't wait for process %d", rt->pid);
			return -errno;
		}
	}
	if (WIFEXITED(status)) {
		pr_info("process %d exited with %d\n", rt->pid, WEXITSTATUS(status));
		return WEXITSTATUS(status);
	}
	pr_info("process %d was killed by signal %d\n", rt->pid, WTERMSIG(status));
	return 128 + WTERMSIG(status);
}

/* Everything that can fail without a process to clean up. */
static int prepare(struct restore_task *rt)
{
	int ret;

	ret = validate_env_init(&rt->env);
	ret = ret ?: restore_read_images(rt);
	/* every pid and tid of the image must be free here */
	ret = ret ?: validate_pstree_ids_free(&rt->pstree, 1);
	ret = ret ?: restore_threads_init(rt);
	ret = ret ?: restore_open_helpers(rt);
	ret = ret ?: restore_area_create(rt);
	return ret;
}

static int restore_and_detach(struct restore_task *rt)
{
	int ret;

	ret = create_task(rt);
	/* The child has its own copies of the area and the helper fds. */
	restore_area_destroy(rt);
	restore_close_helpers(rt);
	ret = ret ?: restore_finish_task(rt);
	ret = ret ?: write_pidfile(rt);
	if (ret)
		goto fail;
	ret = detach(rt);
	if (ret) {
		remove_pidfile(rt);
		goto fail;
	}
	return 0;
fail:
	kill_child(rt);
	return ret;
}

/*
 * Returns a negative errno on failure. On success: 0 with -d, else the exit
 * status criu should end with (the process's, or 128 + signal).
 */
int cr_restore(struct cr_ctx *ctx)
{
	struct restore_task rt = { .ctx = ctx, .pages_fd = -1, .exe_fd = -1 };
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	int ret;

	ret = prepare(&rt);
	ret = ret ?: restore_and_detach(&rt);
	/* Nothing of the images is needed any more, even while waiting. */
	restore_area_destroy(&rt);
	restore_free_images(&rt);
	if (ret) {
		if (rt.pid)
			pr_err("restore of process %d failed\n", rt.pid);
		return ret;
	}
	pr_info("process %d restored in %llu us\n", rt.pid, (unsigned long long)(now_ns(CLOCK_MONOTONIC) - t0) / 1000);
	if (ctx->opts->restore_detached)
		return 0;
	return wait_restored(&rt);
}
