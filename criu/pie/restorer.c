// SPDX-License-Identifier: GPL-2.0
/*
 * The restorer: runs inside the process being restored, on the stack of the
 * restorer area criu prepared (see restorer-args.h). It throws criu's memory
 * away, builds the target's address space, sets the per-process state that
 * only the process itself can set, and enters the target through
 * rt_sigreturn. criu, tracing the process, then unmaps the area.
 *
 * Freestanding: raw syscalls only, and nothing outside the area may be used
 * once the old memory is gone. A failure logs one line and exits with a
 * code naming the step; the target's code never runs half-restored.
 */
#include <linux/mman.h>
#include <linux/prctl.h>
#include <asm/prctl.h>

#include "pie-lib.h"
#include "pie-syscall.h"
#include "restorer-int.h"

#define RST_TASK_SIZE_MAX 0x7ffffffff000ULL
#define RST_SIGKILL 9
#define RST_SIGSTOP 19

/* madvise advice that are only hints: a kernel without the feature says EINVAL. */
#define RST_MADV_HINTS ((1ULL << MADV_MERGEABLE) | (1ULL << MADV_HUGEPAGE) | (1ULL << MADV_NOHUGEPAGE))

/*
 * Loads rsp with the sigframe, stops on int3 so that criu (the tracer) takes
 * over, then issues rt_sigreturn. criu reuses that same syscall instruction
 * to unmap this area, so its address is exported.
 */
asm(".text\n"
    ".globl restorer_sigreturn\n"
    ".hidden restorer_sigreturn\n"
    ".type restorer_sigreturn, @function\n"
    "restorer_sigreturn:\n"
    "	movq %rdi, %rsp\n"
    "	movl $" RST_STR(__NR_rt_sigreturn) ", %eax\n"
					   "	int3\n"
					   ".globl __export_restore_syscall\n"
					   ".type __export_restore_syscall, @function\n"
					   "__export_restore_syscall:\n"
					   "	syscall\n"
					   "	ud2\n"
					   ".size restorer_sigreturn, . - restorer_sigreturn\n");

void restorer_fail(const struct restorer_args *args, int code, const char *what, long err)
{
	pie_log(args->log_fd, what, err);
	sys_exit_group(code);
	for (;;)
		;
}

void restorer_debug(const struct restorer_args *args, const char *what, long num)
{
	if (args->log_level >= 4)
		pie_log(args->log_fd, what, num);
}

/* Move criu's vvar/vdso into the park region so the big unmap spares them. */
static void park_specials(struct restorer_args *args)
{
	int i;

	for (i = 0; i < RESTORER_SPECIAL_MAX; i++) {
		struct restorer_special *sp = &args->specials[i];
		long ret;

		if (!sp->cur_start)
			continue;
		ret = sys_mremap(sp->cur_start, sp->size, sp->size, MREMAP_MAYMOVE | MREMAP_FIXED, sp->park_start);
		if (ret != (long)sp->park_start)
			restorer_fail(args, RESTORE_EXIT_PARK_SPECIAL,
				      "Error (restorer): can't park special mapping, kind", i);
	}
}

static void unmap_range(struct restorer_args *args, uint64_t start, uint64_t end)
{
	long ret;

	if (start >= end)
		return;
	ret = sys_munmap(start, end - start);
	if (ret)
		restorer_fail(args, RESTORE_EXIT_UNMAP, "Error (restorer): can't unmap criu's memory at", start);
}

/* Everything outside the area (and the arena of premapped memory) is criu's, not the target's. */
static void unmap_old_memory(struct restorer_args *args)
{
	uint64_t a0 = args->area_start, a1 = a0 + args->area_size;
	uint64_t b0 = args->arena_start, b1 = b0 + args->arena_size;

	if (!args->arena_size) {
		unmap_range(args, 0, a0);
		unmap_range(args, a1, RST_TASK_SIZE_MAX);
		return;
	}
	if (b0 < a0) {
		unmap_range(args, 0, b0);
		unmap_range(args, b1, a0);
		unmap_range(args, a1, RST_TASK_SIZE_MAX);
	} else {
		unmap_range(args, 0, a0);
		unmap_range(args, a1, b0);
		unmap_range(args, b1, RST_TASK_SIZE_MAX);
	}
}

/* Premapped VMAs go first, from the arena; what is left of the arena goes. */
static void move_premapped(struct restorer_args *args)
{
	struct restorer_vma *vmas = ptr(args->vmas);
	uint64_t i;
	long ret;

	for (i = 0; i < args->nr_vmas; i++) {
		struct restorer_vma *v = &vmas[i];

		if (!(v->how & RVMA_PREMAP))
			continue;
		ret = sys_mremap(v->premap, v->end - v->start, v->end - v->start, MREMAP_MAYMOVE | MREMAP_FIXED,
				 v->start);
		if (ret != (long)v->start) {
			pie_log(args->log_fd, "Error (restorer): can't move premapped vma to", v->start);
			restorer_fail(args, RESTORE_EXIT_MAP_VMA, "Error (restorer): mremap returned", ret);
		}
	}
	if (args->arena_size)
		unmap_range(args, args->arena_start, args->arena_start + args->arena_size);
}

static void place_specials(struct restorer_args *args)
{
	int i;

	for (i = 0; i < RESTORER_SPECIAL_MAX; i++) {
		struct restorer_special *sp = &args->specials[i];
		long ret;

		/* Absent from the target: it goes away with the area. */
		if (!sp->cur_start || !sp->target_start)
			continue;
		ret = sys_mremap(sp->park_start, sp->size, sp->size, MREMAP_MAYMOVE | MREMAP_FIXED, sp->target_start);
		if (ret != (long)sp->target_start)
			restorer_fail(args, RESTORE_EXIT_MOVE_SPECIAL,
				      "Error (restorer): can't move special mapping to its target address, kind", i);
	}
}

/* The old vDSO's image, its functions patched to jump to the new one: read-only and executable, as it was. */
static void map_vdso_proxy(struct restorer_args *args)
{
	long ret;

	if (!args->vdso_proxy_start)
		return;
	ret = sys_mmap(args->vdso_proxy_start, args->vdso_proxy_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (ret != (long)args->vdso_proxy_start)
		restorer_fail(args, RESTORE_EXIT_MOVE_SPECIAL,
			      "Error (restorer): can't map the old vDSO's place:", ret);
	memcpy(ptr(args->vdso_proxy_start), ptr(args->vdso_proxy_image), args->vdso_proxy_size);
	ret = sys_mprotect(args->vdso_proxy_start, args->vdso_proxy_size, PROT_READ | PROT_EXEC);
	if (ret)
		restorer_fail(args, RESTORE_EXIT_MOVE_SPECIAL, "Error (restorer): can't protect the old vDSO:", ret);
}

static uint32_t initial_prot(const struct restorer_vma *v)
{
	/* Filling and touching write to the VMA: it stays writable until protect_vmas(). */
	if (v->how & (RVMA_FILL | RVMA_TOUCH))
		return v->prot | PROT_READ | PROT_WRITE;
	/* premapped memory was filled read-write */
	if (v->how & RVMA_PREMAP)
		return PROT_READ | PROT_WRITE;
	return v->prot;
}

static void map_vma_at(struct restorer_args *args, const struct restorer_vma *v, uint64_t addr, uint32_t fixed)
{
	long ret;

	ret = sys_mmap(addr, v->end - v->start, initial_prot(v), v->map_flags | fixed, v->fd, v->pgoff);
	if (ret != (long)addr) {
		pie_log(args->log_fd, "Error (restorer): can't map vma at", v->start);
		restorer_fail(args, RESTORE_EXIT_MAP_VMA, "Error (restorer): mmap returned", ret);
	}
}

/*
 * A write fault gives the VMA an anon_vma of its own. Writing back the byte
 * just read keeps the content (zero, or the file's), and dropping the page
 * again keeps the memory use as it was.
 */
static void touch_vma(uint64_t addr)
{
	volatile char *p = ptr(addr);

	*p = *p;
	sys_madvise(addr, RST_PAGE_SIZE, MADV_DONTNEED);
}

static void map_in_place(struct restorer_args *args, const struct restorer_vma *v)
{
	/* NOREPLACE: any overlap is a bug and must not silently eat a mapping. */
	map_vma_at(args, v, v->start, MAP_FIXED_NOREPLACE);
	if (v->how & RVMA_TOUCH)
		touch_vma(v->start);
}

/*
 * Built inside a PROT_NONE reservation, whose edges keep it from merging
 * with anything while it gets its anon_vma; then moved into place, where
 * its own anon_vma keeps it apart from its neighbour.
 */
static void map_isolated(struct restorer_args *args, const struct restorer_vma *v)
{
	uint64_t len = v->end - v->start, tmp = args->scratch_start + RST_PAGE_SIZE;
	long ret;

	if (len + 2 * RST_PAGE_SIZE > args->scratch_size)
		restorer_fail(args, RESTORE_EXIT_MAP_VMA, "Error (restorer): scratch range too small for vma at",
			      v->start);
	ret = sys_mmap(args->scratch_start, args->scratch_size, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (ret != (long)args->scratch_start)
		restorer_fail(args, RESTORE_EXIT_MAP_VMA, "Error (restorer): can't reserve the scratch range:", ret);
	map_vma_at(args, v, tmp, MAP_FIXED);
	touch_vma(tmp);
	ret = sys_mremap(tmp, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, v->start);
	if (ret != (long)v->start) {
		pie_log(args->log_fd, "Error (restorer): can't move vma into place at", v->start);
		restorer_fail(args, RESTORE_EXIT_MAP_VMA, "Error (restorer): mremap returned", ret);
	}
	ret = sys_munmap(args->scratch_start, args->scratch_size);
	if (ret)
		restorer_fail(args, RESTORE_EXIT_MAP_VMA, "Error (restorer): can't drop the scratch range:", ret);
}

static void advise_vma(struct restorer_args *args, const struct restorer_vma *v)
{
	long ret;
	int adv;

	for (adv = 0; adv < 64; adv++) {
		if (!(v->madv & (1ULL << adv)))
			continue;
		ret = sys_madvise(v->start, v->end - v->start, adv);
		if (!ret)
			continue;
		if ((RST_MADV_HINTS & (1ULL << adv)) && ret == -RST_EINVAL) {
			restorer_debug(args, "restorer: kernel ignores madvise hint", adv);
			continue;
		}
		pie_log(args->log_fd, "Error (restorer): madvise failed for vma at", v->start);
		restorer_fail(args, RESTORE_EXIT_MADVISE, "Error (restorer): madvise advice", adv);
	}
	if (v->lock) {
		ret = sys_mlock(v->start, v->end - v->start);
		if (ret) {
			pie_log(args->log_fd, "Error (restorer): mlock failed for vma at", v->start);
			restorer_fail(args, RESTORE_EXIT_MADVISE, "Error (restorer): mlock:", ret);
		}
	}
}

static void name_vma(struct restorer_args *args, const struct restorer_vma *v)
{
	long ret;

	if (!v->anon_name)
		return;
	ret = sys_prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, v->start, v->end - v->start, v->anon_name);
	/* Names are cosmetic: a kernel without CONFIG_ANON_VMA_NAME loses them. */
	if (ret)
		pie_log(args->log_fd, "Warn  (restorer): can't name anonymous vma at", v->start);
}

/* Isolated VMAs go last, when only their own target ranges are still free. */
static void map_vmas(struct restorer_args *args)
{
	struct restorer_vma *vmas = ptr(args->vmas);
	uint64_t i;

	move_premapped(args);
	for (i = 0; i < args->nr_vmas; i++)
		if (!(vmas[i].how & (RVMA_ISOLATE | RVMA_PREMAP)))
			map_in_place(args, &vmas[i]);
	for (i = 0; i < args->nr_vmas; i++)
		if ((vmas[i].how & RVMA_ISOLATE) && !(vmas[i].how & RVMA_PREMAP))
			map_isolated(args, &vmas[i]);
	for (i = 0; i < args->nr_vmas; i++) {
		advise_vma(args, &vmas[i]);
		name_vma(args, &vmas[i]);
	}
	restorer_debug(args, "restorer: vmas mapped:", args->nr_vmas);
}

static void protect_vmas(struct restorer_args *args)
{
	struct restorer_vma *vmas = ptr(args->vmas);
	uint64_t i;
	long ret;

	for (i = 0; i < args->nr_vmas; i++) {
		const struct restorer_vma *v = &vmas[i];

		if (initial_prot(v) == v->prot)
			continue;
		ret = sys_mprotect(v->start, v->end - v->start, v->prot);
		if (ret) {
			pie_log(args->log_fd, "Error (restorer): can't set protection of vma at", v->start);
			restorer_fail(args, RESTORE_EXIT_PROTECT, "Error (restorer): mprotect returned", ret);
		}
	}
}

static void close_helper_fds(struct restorer_args *args)
{
	int32_t *fds = ptr(args->close_fds);
	uint32_t i;
	long ret;

	for (i = 0; i < args->nr_close_fds; i++) {
		ret = sys_close(fds[i]);
		if (ret)
			restorer_fail(args, RESTORE_EXIT_CLOSE_FD, "Error (restorer): can't close helper fd", fds[i]);
	}
}

/*
 * The signals that were queued, queued again in order, by the task itself:
 * the kernel lets a task queue any siginfo to itself. Every signal is
 * blocked until criu sets the real masks, so none is delivered before.
 */
void restorer_queue_signals(struct restorer_args *args, uint64_t sigs, uint64_t nr, int whole_process)
{
	uint64_t i;
	long pid = sys_getpid(), tid = sys_gettid(), ret;

	for (i = 0; i < nr; i++) {
		void *si = ptr(sigs + i * RESTORER_SIGINFO_SIZE);
		int signo = *(int *)si;

		ret = whole_process ? sys_rt_sigqueueinfo(pid, signo, si) : sys_rt_tgsigqueueinfo(pid, tid, signo, si);
		if (ret) {
			pie_log(args->log_fd, "Error (restorer): can't queue signal", signo);
			restorer_fail(args, RESTORE_EXIT_SIGACTION, "Error (restorer): rt_sigqueueinfo returned", ret);
		}
	}
}

/* The fd goes in the kernel's l_pid slot's place only in our copy: pass the kernel a clean struct. */
static void take_posix_locks(struct restorer_args *args)
{
	struct restorer_lock *locks = ptr(args->posix_locks);
	uint64_t i;
	long ret;

	for (i = 0; i < args->nr_posix_locks; i++) {
		struct restorer_lock l = locks[i];

		l.pid = 0;
		l.fd = 0;
		ret = sys_fcntl(locks[i].fd, 6 /* F_SETLK */, &l);
		if (ret) {
			pie_log(args->log_fd, "Error (restorer): can't take a POSIX lock back through fd", locks[i].fd);
			restorer_fail(args, RESTORE_EXIT_CLOSE_FD, "Error (restorer): fcntl(F_SETLK) returned", ret);
		}
	}
}

/* Needs the old executable unmapped: the kernel refuses to switch exe while it is mapped. */
static void set_mm(struct restorer_args *args)
{
	long ret;

	ret = sys_prctl(PR_SET_MM, PR_SET_MM_MAP, (long)&args->mm_map, sizeof(args->mm_map), 0);
	if (ret)
		restorer_fail(args, RESTORE_EXIT_SET_MM, "Error (restorer): prctl(PR_SET_MM_MAP) failed:", ret);
	if (args->mm_map.exe_fd == (uint32_t)-1)
		return;
	ret = sys_close(args->mm_map.exe_fd);
	if (ret)
		restorer_fail(args, RESTORE_EXIT_CLOSE_FD, "Error (restorer): can't close exe fd", args->mm_map.exe_fd);
}

static void set_sigactions(struct restorer_args *args)
{
	int sig;
	long ret;

	for (sig = 1; sig <= RESTORER_NR_SIGNALS; sig++) {
		if (sig == RST_SIGKILL || sig == RST_SIGSTOP)
			continue;
		ret = sys_rt_sigaction(sig, &args->sigactions[sig - 1], 0, sizeof(uint64_t));
		if (ret) {
			pie_log(args->log_fd, "Error (restorer): rt_sigaction failed for signal", sig);
			restorer_fail(args, RESTORE_EXIT_SIGACTION, "Error (restorer): rt_sigaction returned", ret);
		}
	}
}

/* The LDT belongs to the mm: once, before the threads; criu loads the selectors by ptrace at the end. */
static void install_ldt(struct restorer_args *args)
{
	const uint8_t *desc = ptr(args->ldt);
	uint64_t i;
	long ret;

	for (i = 0; i < args->nr_ldt; i++) {
		ret = sys_modify_ldt(0x11, desc + i * 16, 16);
		if (ret)
			restorer_fail(args, RESTORE_EXIT_LDT, "Error (restorer): modify_ldt failed:", ret);
	}
}

static void set_tls_bases(struct restorer_args *args)
{
	long ret;

	ret = sys_arch_prctl(ARCH_SET_FS, args->fs_base);
	if (ret)
		restorer_fail(args, RESTORE_EXIT_ARCH_PRCTL, "Error (restorer): can't set fs_base:", ret);
	ret = sys_arch_prctl(ARCH_SET_GS, args->gs_base);
	if (ret)
		restorer_fail(args, RESTORE_EXIT_ARCH_PRCTL, "Error (restorer): can't set gs_base:", ret);
}

__attribute__((visibility("default"), noreturn)) void __export_restore_task(struct restorer_args *args)
{
	if (args->magic != RESTORER_ARGS_MAGIC)
		restorer_fail(args, RESTORE_EXIT_BAD_ARGS, "Error (restorer): bad args magic", 0);
	park_specials(args);
	unmap_old_memory(args);
	place_specials(args);
	map_vmas(args);
	map_vdso_proxy(args);
	restorer_fill_pages(args);
	restorer_fill_cow_pages(args);
	protect_vmas(args);
	close_helper_fds(args);
	set_mm(args);
	/* after every helper fd and the old executable are closed */
	take_posix_locks(args);
	set_sigactions(args);
	restorer_queue_signals(args, args->sigs, args->nr_shared_sigs, 1);
	restorer_queue_signals(args, args->sigs + args->nr_shared_sigs * RESTORER_SIGINFO_SIZE, args->nr_sigs, 0);
	install_ldt(args);
	set_tls_bases(args);
	/* With criu's credentials still: each thread then changes its own. */
	restorer_create_threads(args);
	/* Privileged steps first: the credentials take criu's privileges away. */
	restorer_set_sched(args, &args->thread);
	restorer_set_thread_state(args, &args->thread);
	restorer_set_rlimits(args);
	restorer_set_creds(args);
	restorer_set_final_attrs(args);
	/* Every thread must exist and be past its credential change before criu sees the int3. */
	restorer_wait_threads(args);
	restorer_set_posix_timers(args);
	restorer_set_itimers(args);
	restorer_set_dumpable(args);
	restorer_register_rseq(args, &args->thread);
	restorer_debug(args, "restorer: entering the target, sigframe at", args->sigframe);
	if (args->log_fd >= 0)
		sys_close(args->log_fd);
	restorer_sigreturn(args->sigframe + sizeof(uint64_t));
}
