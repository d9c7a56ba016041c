// SPDX-License-Identifier: GPL-2.0
/*
 * Restore, step 4: criu traces the new process from its first instruction
 * and takes over at the restorer's int3, right before rt_sigreturn. It lets
 * rt_sigreturn load the target's registers, borrows the thread for one more
 * syscall to unmap the restorer area, puts the registers and the signal
 * mask back, and leaves the process stopped for the caller to detach. So
 * nothing of the restore stays in the restored process.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "log.h"
#include "restore.h"
#include "sigframe.h"
#include "util.h"

static const char *const exit_code_names[RESTORE_EXIT_MAX] = {
	[RESTORE_EXIT_CHILD] = "setting up the process (see the restore log)",
	[RESTORE_EXIT_BAD_ARGS] = "restorer: bad arguments",
	[RESTORE_EXIT_PARK_SPECIAL] = "restorer: parking the vDSO",
	[RESTORE_EXIT_UNMAP] = "restorer: unmapping criu's memory",
	[RESTORE_EXIT_MOVE_SPECIAL] = "restorer: moving the vDSO to its address",
	[RESTORE_EXIT_MAP_VMA] = "restorer: mapping a vma",
	[RESTORE_EXIT_MADVISE] = "restorer: madvise",
	[RESTORE_EXIT_READ_PAGES] = "restorer: reading the pages image",
	[RESTORE_EXIT_COPY_PAGES] = "restorer: copying pages with userfaultfd",
	[RESTORE_EXIT_PROTECT] = "restorer: setting vma protection",
	[RESTORE_EXIT_CLOSE_FD] = "restorer: closing helper fds",
	[RESTORE_EXIT_SET_MM] = "restorer: prctl(PR_SET_MM_MAP)",
	[RESTORE_EXIT_SIGACTION] = "restorer: setting signal actions",
	[RESTORE_EXIT_ARCH_PRCTL] = "restorer: setting fs/gs bases",
	[RESTORE_EXIT_SCHED] = "restorer: setting the scheduling policy and nice value",
	[RESTORE_EXIT_RLIMIT] = "restorer: setting resource limits",
	[RESTORE_EXIT_THREAD_STATE] = "restorer: setting rseq, clear_child_tid or the robust list",
	[RESTORE_EXIT_PRCTL] = "restorer: setting prctl attributes (timer slack, pdeathsig)",
	[RESTORE_EXIT_CREDS] = "restorer: setting credentials",
};

const char *restore_exit_code_name(int code)
{
	if (code >= 0 && code < RESTORE_EXIT_MAX && exit_code_names[code])
		return exit_code_names[code];
	return "unknown step";
}

int restore_seize(pid_t pid)
{
	/* EXITKILL: if criu dies mid-restore, the half-built process dies with it. */
	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL)) {
		pr_perror("can't trace the new process %d", pid);
		return -errno;
	}
	return 0;
}

static int report_death(const struct restore_task *rt, int status)
{
	if (WIFEXITED(status))
		pr_err("process %d died during restore with exit code %d: %s\n", rt->pid, WEXITSTATUS(status),
		       restore_exit_code_name(WEXITSTATUS(status)));
	else
		pr_err("process %d was killed by signal %d during restore\n", rt->pid, WTERMSIG(status));
	return -ECHILD;
}

/* Wait for the next stop; a death is an error (logged) and leaves nothing to reap. */
static int wait_stopped(const struct restore_task *rt, int *status)
{
	pid_t ret;

	do
		ret = waitpid(rt->child, status, __WALL);
	while (ret < 0 && errno == EINTR);
	if (ret < 0) {
		pr_perror("can't wait for process %d", rt->pid);
		return -errno;
	}
	if (WIFSTOPPED(*status))
		return 0;
	return report_death(rt, *status);
}

static int get_regs(pid_t pid, struct x86_user_regs *regs)
{
	if (ptrace(PTRACE_GETREGS, pid, 0, regs)) {
		pr_perror("can't get the registers of process %d", pid);
		return -errno;
	}
	return 0;
}

static int set_regs(pid_t pid, const struct x86_user_regs *regs)
{
	if (ptrace(PTRACE_SETREGS, pid, 0, regs)) {
		pr_perror("can't set the registers of process %d", pid);
		return -errno;
	}
	return 0;
}

/* Signals a bug in the restorer raises; everything else stays blocked there. */
static bool sig_is_fault(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGSYS;
}

static int report_fault(const struct restore_task *rt, int sig)
{
	struct x86_user_regs regs;
	siginfo_t si = {};
	uint64_t base = (uintptr_t)rt->area.base;

	ptrace(PTRACE_GETSIGINFO, rt->child, 0, &si);
	if (get_regs(rt->child, &regs))
		return -EFAULT;
	pr_err("process %d: signal %d in the restorer at ip 0x%llx (area offset 0x%llx), fault address %p\n", rt->pid,
	       sig, (unsigned long long)regs.ip, (unsigned long long)(regs.ip - base), si.si_addr);
	return -EFAULT;
}

/* Run until the restorer's int3. Only it may stop the process with SIGTRAP. */
static int wait_for_int3(const struct restore_task *rt)
{
	struct x86_user_regs regs;
	int status, ret, sig;

	for (;;) {
		ret = wait_stopped(rt, &status);
		if (ret)
			return ret;
		sig = WSTOPSIG(status);
		if (status >> 16 == PTRACE_EVENT_STOP || (sig != SIGTRAP && !sig_is_fault(sig))) {
			/* A group stop or a signal that stays blocked: let it run on. */
			if (ptrace(PTRACE_CONT, rt->child, 0, status >> 16 ? 0 : sig))
				return -errno;
			continue;
		}
		if (sig != SIGTRAP)
			return report_fault(rt, sig);
		ret = get_regs(rt->child, &regs);
		if (ret)
			return ret;
		if (regs.ip != rt->area.syscall_insn) {
			pr_err("process %d: unexpected SIGTRAP at 0x%llx during restore\n", rt->pid,
			       (unsigned long long)regs.ip);
			return -EINVAL;
		}
		return 0;
	}
}

/* The restorer registered the image's rseq area, and only that one (never criu's). */
static int check_rseq_registration(const struct restore_task *rt)
{
	const RseqEntry *want = rt->core->thread->rseq;
	struct __ptrace_rseq_configuration conf = {};
	long ret;

	ret = ptrace(PTRACE_GET_RSEQ_CONFIGURATION, rt->child, sizeof(conf), &conf);
	if (ret < 0)
		return 0; /* an older kernel: nothing to check with */
	if (!want && conf.rseq_abi_pointer) {
		pr_err("process %d has an rseq area registered at 0x%llx, the image has none\n", rt->pid,
		       (unsigned long long)conf.rseq_abi_pointer);
		return -EINVAL;
	}
	if (want && (conf.rseq_abi_pointer != want->abi_pointer || conf.rseq_abi_size != want->abi_size ||
		     conf.signature != want->signature)) {
		pr_err("process %d: rseq area 0x%llx size %u signature 0x%x, core-%d.img has thread.rseq 0x%llx size "
		       "%u signature 0x%x\n",
		       rt->pid, (unsigned long long)conf.rseq_abi_pointer, conf.rseq_abi_size, conf.signature, rt->pid,
		       (unsigned long long)want->abi_pointer, want->abi_size, want->signature);
		return -EINVAL;
	}
	return 0;
}

/* Resume to the next syscall entry or exit, which must be op (and nr at entry). */
static int syscall_stop(const struct restore_task *rt, uint8_t op, uint64_t nr, struct __ptrace_syscall_info *info)
{
	int status, ret, sig;

	if (ptrace(PTRACE_SYSCALL, rt->child, 0, 0)) {
		pr_perror("can't resume process %d to its next syscall stop", rt->pid);
		return -errno;
	}
	ret = wait_stopped(rt, &status);
	if (ret)
		return ret;
	sig = WSTOPSIG(status);
	if (sig != (SIGTRAP | 0x80)) {
		if (sig_is_fault(sig))
			return report_fault(rt, sig);
		pr_err("process %d: stopped by signal %d instead of a syscall stop\n", rt->pid, sig);
		return -EINVAL;
	}
	if (ptrace(PTRACE_GET_SYSCALL_INFO, rt->child, sizeof(*info), info) <= 0) {
		pr_perror("can't get the syscall of process %d", rt->pid);
		return -errno;
	}
	if (info->op != op || (op == PTRACE_SYSCALL_INFO_ENTRY && info->entry.nr != nr)) {
		pr_err("process %d: unexpected syscall stop (op %u, ip 0x%llx)\n", rt->pid, info->op,
		       (unsigned long long)info->instruction_pointer);
		return -EINVAL;
	}
	return 0;
}

struct reg_pair {
	const char *name;
	uint64_t now;
	uint64_t image;
};

/* rt_sigreturn refuses a bad frame by raising SIGSEGV, not by failing: compare. */
static int check_target_regs(const struct restore_task *rt, const struct x86_user_regs *r)
{
	const UserRegsX86Entry *g = rt->core->thread->gpregs;
	const struct reg_pair p[] = {
		{ "ip", r->ip, g->ip },
		{ "sp", r->sp, g->sp },
		{ "ax", r->ax, g->ax },
		{ "bx", r->bx, g->bx },
		{ "cx", r->cx, g->cx },
		{ "dx", r->dx, g->dx },
		{ "si", r->si, g->si },
		{ "di", r->di, g->di },
		{ "bp", r->bp, g->bp },
		{ "r8", r->r8, g->r8 },
		{ "r9", r->r9, g->r9 },
		{ "r10", r->r10, g->r10 },
		{ "r11", r->r11, g->r11 },
		{ "r12", r->r12, g->r12 },
		{ "r13", r->r13, g->r13 },
		{ "r14", r->r14, g->r14 },
		{ "r15", r->r15, g->r15 },
		{ "fs_base", r->fs_base, g->fs_base },
		{ "gs_base", r->gs_base, g->gs_base },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(p); i++) {
		if (p[i].now == p[i].image)
			continue;
		pr_err("process %d: %s is 0x%llx after rt_sigreturn, the image has 0x%llx\n", rt->pid, p[i].name,
		       (unsigned long long)p[i].now, (unsigned long long)p[i].image);
		return -EINVAL;
	}
	/* The kernel sets orig_ax to -1: no syscall restart may touch these registers. */
	if (r->orig_ax != (uint64_t)-1) {
		pr_err("process %d: orig_ax is %lld after rt_sigreturn\n", rt->pid, (long long)r->orig_ax);
		return -EINVAL;
	}
	return 0;
}

static int run_sigreturn(const struct restore_task *rt, struct x86_user_regs *regs)
{
	struct __ptrace_syscall_info info;
	int ret;

	ret = syscall_stop(rt, PTRACE_SYSCALL_INFO_ENTRY, __NR_rt_sigreturn, &info);
	ret = ret ?: syscall_stop(rt, PTRACE_SYSCALL_INFO_EXIT, 0, &info);
	ret = ret ?: get_regs(rt->child, regs);
	return ret ?: check_target_regs(rt, regs);
}

/*
 * Borrow the thread for munmap(area) through the restorer's own syscall
 * instruction, then give it the target's registers back.
 */
static int unmap_area(const struct restore_task *rt, const struct x86_user_regs *target)
{
	struct x86_user_regs call = *target;
	struct __ptrace_syscall_info info;
	int ret;

	call.ip = rt->area.syscall_insn;
	call.ax = __NR_munmap;
	call.di = (uintptr_t)rt->area.base;
	call.si = rt->area.size;
	ret = set_regs(rt->child, &call);
	ret = ret ?: syscall_stop(rt, PTRACE_SYSCALL_INFO_ENTRY, __NR_munmap, &info);
	ret = ret ?: syscall_stop(rt, PTRACE_SYSCALL_INFO_EXIT, 0, &info);
	if (ret)
		return ret;
	if (info.exit.is_error) {
		pr_err("process %d: can't unmap the restorer area: %s\n", rt->pid, strerror(-info.exit.rval));
		return (int)info.exit.rval;
	}
	return set_regs(rt->child, target);
}

static int set_sigmask(const struct restore_task *rt)
{
	uint64_t blocked = rt->core->thread->blocked;

	if (ptrace(PTRACE_SETSIGMASK, rt->child, sizeof(blocked), &blocked)) {
		pr_perror("can't set the signal mask of process %d", rt->pid);
		return -errno;
	}
	return 0;
}

int restore_finish_task(struct restore_task *rt)
{
	struct x86_user_regs regs;
	int ret;

	ret = wait_for_int3(rt);
	ret = ret ?: check_rseq_registration(rt);
	ret = ret ?: run_sigreturn(rt, &regs);
	ret = ret ?: unmap_area(rt, &regs);
	ret = ret ?: set_sigmask(rt);
	return ret;
}
