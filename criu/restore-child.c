// SPDX-License-Identifier: GPL-2.0
/*
 * Restore, step 3: the new process, still a copy of criu. It sets what is
 * easiest to set from C (session, name, fds, root, cwd, umask), moves the
 * fds the restorer needs out of the target's way, then jumps into the
 * restorer blob on the area's stack. Any failure exits with
 * RESTORE_EXIT_CHILD; the parent, tracing it, reports and reaps it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "restore.h"
#include "util.h"

/* fds criu opened for the restorer, and where the child moved them. */
struct fd_move {
	int old_fd;
	int new_fd;
};

struct child_fds {
	struct fd_move *moves;
	size_t nr;
	int log_fd;
	int cwd_fd; /* closed by fs_apply before the restorer runs */
};

static int wait_for_parent(int sync_fd)
{
	char go;
	ssize_t ret;

	do
		ret = read(sync_fd, &go, 1);
	while (ret < 0 && errno == EINTR);
	close(sync_fd);
	/* EOF: criu failed to trace us and is about to reap us. */
	return ret == 1 ? 0 : -EPIPE;
}

/*
 * All 64, by the system call: glibc's sigfillset() and sigprocmask() leave
 * out the two signals glibc keeps for itself (32 and 33), which a restored
 * process uses like any other (glibc's SIGEV_THREAD timers send 32).
 */
static int block_all_signals(void)
{
	uint64_t all = ~0ULL;

	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, sizeof(all))) {
		pr_perror("can't block signals");
		return -errno;
	}
	return 0;
}

static int set_identity(const struct restore_task *rt)
{
	if (prctl(PR_SET_NAME, rt->core->comm, 0, 0, 0)) {
		pr_perror("can't set comm to %s", rt->core->comm);
		return -errno;
	}
	/* Before any mapping: READ_IMPLIES_EXEC and friends change what mmap does. */
	if (personality(rt->core->personality) < 0) {
		pr_perror("can't set personality 0x%x", rt->core->personality);
		return -errno;
	}
	return 0;
}

/*
 * Per-process prctl attributes that nothing later resets. THP before the
 * restorer maps memory, so that the filled pages follow it already.
 */
static int set_process_attrs(const struct restore_task *rt)
{
	const TaskCoreEntry *core = rt->core;

	if (core->has_thp_disable && prctl(PR_SET_THP_DISABLE, core->thp_disable & 1, core->thp_disable & ~1U, 0, 0)) {
		pr_perror("core-%d.img: can't set thp_disable 0x%x", rt->pid, core->thp_disable);
		return -errno;
	}
	if (core->has_child_subreaper && prctl(PR_SET_CHILD_SUBREAPER, core->child_subreaper, 0, 0, 0)) {
		pr_perror("core-%d.img: can't set child_subreaper %d", rt->pid, core->child_subreaper);
		return -errno;
	}
	return 0;
}

static int note_fd(struct child_fds *cf, int fd)
{
	size_t i;

	if (fd < 0)
		return 0;
	for (i = 0; i < cf->nr; i++)
		if (cf->moves[i].old_fd == fd)
			return 0;
	cf->moves[cf->nr].old_fd = fd;
	cf->moves[cf->nr].new_fd = fd;
	cf->nr++;
	return 0;
}

static int collect_helper_fds(struct restore_task *rt, struct child_fds *cf)
{
	size_t i;

	cf->moves = xzalloc((rt->mm->n_vmas + 4 + rt->nr_srcs) * sizeof(*cf->moves));
	if (!cf->moves)
		return -ENOMEM;
	for (i = 0; i < rt->nr_srcs; i++)
		note_fd(cf, rt->src_fds[i]);
	note_fd(cf, rt->pages_fd);
	note_fd(cf, rt->exe_fd);
	note_fd(cf, rt->fs.cwd_fd);
	note_fd(cf, log_get_fd());
	for (i = 0; i < rt->mm->n_vmas; i++)
		note_fd(cf, rt->vma_fds[i]);
	return 0;
}

static int translate_fd(const struct child_fds *cf, int fd)
{
	size_t i;

	for (i = 0; i < cf->nr; i++)
		if (cf->moves[i].old_fd == fd)
			return cf->moves[i].new_fd;
	return fd;
}

/* Above the target's highest fd, so that files_install never lands on one. */
static int move_helper_fds(struct restore_task *rt, struct child_fds *cf)
{
	int min_fd = max(rt->files.max_fd + 1, 3);
	size_t i;

	for (i = 0; i < cf->nr; i++) {
		int fd = move_fd_above(cf->moves[i].old_fd, min_fd);

		if (fd < 0)
			return fd;
		cf->moves[i].new_fd = fd;
	}
	cf->log_fd = translate_fd(cf, log_get_fd());
	cf->cwd_fd = translate_fd(cf, rt->fs.cwd_fd);
	rt->fs.cwd_fd = cf->cwd_fd;
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int close_range_fds(unsigned int first, unsigned int last)
{
	if (first > last)
		return 0;
	if (syscall(__NR_close_range, first, last, 0)) {
		pr_perror("can't close fds %u..%u", first, last);
		return -errno;
	}
	return 0;
}

/*
 * Everything criu had open except the helpers and the masters goes: the
 * target gets a clean table.
 */
static int close_other_fds(const struct restore_task *rt, const struct child_fds *cf)
{
	const struct file_set *set = &rt->tree->files;
	unsigned int next = 0;
	size_t i, nr = 0;
	int *keep, ret = 0;

	keep = xmalloc((cf->nr + set->nr_files + 1) * sizeof(*keep));
	if (!keep)
		return -ENOMEM;
	for (i = 0; i < cf->nr; i++)
		keep[nr++] = cf->moves[i].new_fd;
	for (i = 0; i < set->nr_files; i++)
		if (set->masters[i] >= 0)
			keep[nr++] = set->masters[i];
	xqsort(keep, nr, sizeof(*keep), cmp_int);
	for (i = 0; i < nr && !ret; i++) {
		if (keep[i])
			ret = close_range_fds(next, keep[i] - 1);
		next = keep[i] + 1;
	}
	if (!ret)
		ret = close_range_fds(next, ~0U);
	free(keep);
	return ret;
}

/* fds 1 and 2 are about to be the target's: log only to our moved log fd. */
static void follow_log_fd(const struct child_fds *cf)
{
	log_set_fd(cf->log_fd);
}

/* Give the restorer the fd numbers it will find in this process. */
static void patch_area_fds(struct restore_task *rt, const struct child_fds *cf)
{
	struct restorer_args *a = rt->area.args;
	uint32_t i, nr = 0;

	a->pages_fd = translate_fd(cf, rt->pages_fd);
	for (i = 0; i < rt->nr_srcs; i++)
		a->src_fds[i] = translate_fd(cf, rt->src_fds[i]);
	a->log_fd = cf->log_fd;
	a->mm_map.exe_fd = rt->exe_fd >= 0 ? (uint32_t)translate_fd(cf, rt->exe_fd) : (uint32_t)-1;
	for (i = 0; i < a->nr_vmas; i++)
		if (rt->area.vmas[i].fd >= 0)
			rt->area.vmas[i].fd = translate_fd(cf, rt->area.vmas[i].fd);
	/* Each helper once; exe and log are closed at their own time. */
	for (i = 0; i < cf->nr; i++) {
		int fd = cf->moves[i].new_fd;

		if (fd == cf->log_fd || fd == (int)a->mm_map.exe_fd || fd == cf->cwd_fd)
			continue;
		if (nr < rt->area.max_close_fds)
			rt->area.close_fds[nr++] = fd;
	}
	a->nr_close_fds = nr;
}

/*
 * glibc registered criu's rseq area with the kernel, and the child inherits
 * that registration. Once the restorer replaces the memory the kernel
 * would keep writing the CPU number into whatever the target has there.
 */
static int unregister_rseq(void)
{
	void *area;
	long ret;

	if (!__rseq_size)
		return 0;
	area = (char *)__builtin_thread_pointer() + __rseq_offset;
	ret = syscall(__NR_rseq, area, __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
	/* glibc may report a feature size smaller than the registered one. */
	if (ret && errno == EINVAL)
		ret = syscall(__NR_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
	if (ret) {
		pr_perror("can't unregister criu's rseq area");
		return -errno;
	}
	return 0;
}

/* The fds come from criu's masters (above every fd of the tree), which go once every fd is in place. */
static int install_files(struct restore_task *rt)
{
	int ret = files_install(&rt->files);

	ret = ret ?: files_finish_install(&rt->files, rt->pid);
	ret = ret ?: file_locks_restore(&rt->files, rt->pid);
	files_close_masters(&rt->tree->files);
	return ret;
}

static int child_prepare(struct restore_task *rt)
{
	struct child_fds cf = {};
	int ret;

	ret = set_identity(rt);
	ret = ret ?: set_process_attrs(rt);
	ret = ret ?: collect_helper_fds(rt, &cf);
	ret = ret ?: move_helper_fds(rt, &cf);
	ret = ret ?: close_other_fds(rt, &cf);
	if (ret)
		goto out;
	follow_log_fd(&cf);
	ret = install_files(rt);
	if (ret)
		goto out;
	/* fs_apply closes the cwd fd. */
	ret = fs_apply(&rt->fs);
	if (ret)
		goto out;
	umask(rt->core->umask);
	patch_area_fds(rt, &cf);
	ret = unregister_rseq();
out:
	free(cf.moves);
	return ret;
}

static void __attribute__((noreturn)) jump_to_restorer(uint64_t entry, uint64_t stack_top, uint64_t args)
{
	/* call, not jmp: the entry expects the ABI's stack alignment after a call. */
	asm volatile("movq %0, %%rsp\n\t"
		     "xorl %%ebp, %%ebp\n\t"
		     "callq *%1\n\t"
		     "ud2\n\t"
		     :
		     : "r"(stack_top), "r"(entry), "D"(args)
		     : "memory");
	__builtin_unreachable();
}

void restore_child_run(struct restore_task *rt, int sync_fd)
{
	if (sync_fd >= 0 && wait_for_parent(sync_fd))
		_exit(RESTORE_EXIT_CHILD);
	/* Before any child exists: they inherit the mask, and the SIGCHLDs of zombies stay pending to be dropped. */
	if (block_all_signals() || restore_tree_build(rt) || child_prepare(rt)) {
		pr_err("restore of process %d failed before the restorer ran\n", rt->pid);
		_exit(RESTORE_EXIT_CHILD);
	}
	pr_debug("process %d: entering the restorer at 0x%llx\n", rt->pid, (unsigned long long)rt->area.entry);
	jump_to_restorer(rt->area.entry, rt->area.stack_top, (uint64_t)(uintptr_t)rt->area.args);
}
