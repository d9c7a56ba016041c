// SPDX-License-Identifier: GPL-2.0
/*
 * The guard: a small process forked before the target is seized. It waits
 * on a pipe from the dumper. If the dumper dies while a parasite area is
 * mapped in the target, the kernel detaches the target, the parasite sees
 * its socket close and returns to the interrupted code by itself; the guard
 * then seizes the target once more and unmaps the parasite area, so that no
 * trace is left. It also undoes a change the dumper made outside the target
 * (a frozen cgroup, see compel_guard_arm_undo()).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compel/infect.h"
#include "log.h"
#include "util.h"

#define GUARD_TRIES 500 /* x 10 ms */

static void sleep_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

static int seize_stopped(pid_t pid)
{
	int status;

	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)PTRACE_O_TRACESYSGOOD))
		return -errno;
	if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL))
		goto detach;
	for (;;) {
		if (compel_wait_stop(pid, &status))
			return -ESRCH;
		if (status >> 16 == PTRACE_EVENT_STOP)
			return 0;
		/* a signal arrived meanwhile: let it be delivered */
		if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)WSTOPSIG(status)))
			goto detach;
		if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL))
			goto detach;
	}
detach:
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	return -errno;
}

/* Returns 1 when done, 0 to try again later. */
static int guard_try_clean(struct compel_journal *j)
{
	struct infect_ctx ctx;
	int ret;

	if (seize_stopped(j->pid))
		return kill(j->pid, 0) ? 1 : 0;
	ret = compel_prepare(&ctx, j->pid, NULL);
	if (!ret && ctx.regs.ip >= j->remote && ctx.regs.ip < j->remote + j->size) {
		/* still inside the parasite, on its way out: let it finish */
		ctx.sigmask_blocked = false;
		ptrace(PTRACE_SETSIGMASK, j->pid, sizeof(uint64_t), &ctx.sigmask);
		ptrace(PTRACE_DETACH, j->pid, NULL, NULL);
		compel_release(&ctx);
		return 0;
	}
	if (!ret) {
		ctx.remote = j->remote;
		ctx.size = j->size;
		ret = compel_cure(&ctx);
	}
	ptrace(PTRACE_DETACH, j->pid, NULL, NULL);
	compel_release(&ctx);
	return 1;
}

/* Shared pages: the guard sees what the dumper writes after the fork. */
#define JOURNAL_SIZE ALIGN_UP(sizeof(struct compel_journal), PAGE_SIZE)

/* The dumper went away with its change still in place: undo it. */
static void guard_undo(struct compel_journal *j)
{
	size_t len = strnlen(j->undo_value, sizeof(j->undo_value));
	int fd, ret;

	pr_warn("the dumper is gone: writing \"%.*s\" to %s\n", (int)len, j->undo_value, j->undo_path);
	fd = open(j->undo_path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s", j->undo_path);
		return;
	}
	ret = write_all(fd, j->undo_value, len);
	if (ret)
		pr_err("can't write to %s: %s\n", j->undo_path, strerror(-ret));
	close(fd);
}

static void __attribute__((noreturn)) guard_main(struct compel_journal *j, int rfd)
{
	char c;
	int i;

	setsid();
	prctl(PR_SET_NAME, "criu-guard");
	while (read(rfd, &c, 1) < 0 && errno == EINTR)
		;
	log_set_prefix("guard: ");
	if (__atomic_load_n(&j->undo_armed, __ATOMIC_SEQ_CST))
		guard_undo(j);
	if (__atomic_load_n(&j->nr_undo_sockets, __ATOMIC_SEQ_CST) && j->undo_sockets_hook)
		j->undo_sockets_hook(j);
	if (__atomic_load_n(&j->state, __ATOMIC_SEQ_CST) != COMPEL_J_MAPPED)
		_exit(0);
	pr_warn("the dumper is gone with a parasite in %d: cleaning up\n", j->pid);
	for (i = 0; i < GUARD_TRIES; i++) {
		if (guard_try_clean(j))
			_exit(0);
		sleep_ms(10);
	}
	_exit(1);
}

/* Close every fd from 3 up but keep_a and keep_b. */
static void close_all_but(int keep_a, int keep_b)
{
	int lo = min(keep_a, keep_b), hi = max(keep_a, keep_b);

	if (lo > 3)
		close_range(3, lo - 1, 0);
	if (hi > lo + 1)
		close_range(lo + 1, hi - 1, 0);
	close_range(hi + 1, ~0U, 0);
}

struct compel_journal *compel_guard_start(void)
{
	struct compel_journal *j;
	int p[2];
	pid_t pid;

	j = mmap(NULL, JOURNAL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (j == MAP_FAILED) {
		pr_perror("can't allocate the guard journal");
		return NULL;
	}
	if (pipe2(p, O_CLOEXEC)) {
		pr_perror("can't create the guard pipe");
		munmap(j, JOURNAL_SIZE);
		return NULL;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("can't start the guard");
		close(p[0]);
		close(p[1]);
		munmap(j, JOURNAL_SIZE);
		return NULL;
	}
	if (pid == 0) {
		int rfd = fcntl(p[0], F_DUPFD_CLOEXEC, 3);

		/* keep nothing of the dumper's but the log: the parasite must see its socket close */
		close_all_but(rfd, log_get_fd());
		guard_main(j, rfd);
	}
	close(p[0]);
	j->guard_fd = p[1];
	j->guard_pid = pid;
	return j;
}

void compel_guard_finish(struct compel_journal *j)
{
	if (!j)
		return;
	if (__atomic_load_n(&j->state, __ATOMIC_SEQ_CST) != COMPEL_J_MAPPED)
		__atomic_store_n(&j->state, COMPEL_J_DONE, __ATOMIC_SEQ_CST);
	close(j->guard_fd);
	while (waitpid(j->guard_pid, NULL, 0) < 0 && errno == EINTR)
		;
	munmap(j, JOURNAL_SIZE);
}

int compel_guard_arm_undo(struct compel_journal *j, const char *path, const char *value)
{
	if (strlen(path) >= sizeof(j->undo_path) || strlen(value) >= sizeof(j->undo_value))
		return -ENAMETOOLONG;
	strcpy(j->undo_path, path);
	strcpy(j->undo_value, value);
	__atomic_store_n(&j->undo_armed, 1, __ATOMIC_SEQ_CST);
	return 0;
}

int compel_guard_note_socket(struct compel_journal *j, pid_t root, pid_t pid, int fd,
			     void (*hook)(struct compel_journal *j))
{
	int n = j->nr_undo_sockets;

	if (n >= COMPEL_UNDO_SOCKETS)
		return -ENOSPC;
	j->undo_sockets[n].pid = pid;
	j->undo_sockets[n].fd = fd;
	j->undo_sockets_hook = hook;
	j->undo_sockets_root = root;
	__atomic_store_n(&j->nr_undo_sockets, n + 1, __ATOMIC_SEQ_CST);
	return 0;
}

void compel_guard_forget_sockets(struct compel_journal *j)
{
	__atomic_store_n(&j->nr_undo_sockets, 0, __ATOMIC_SEQ_CST);
}

void compel_guard_disarm_undo(struct compel_journal *j)
{
	__atomic_store_n(&j->undo_armed, 0, __ATOMIC_SEQ_CST);
}
