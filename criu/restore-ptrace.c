// SPDX-License-Identifier: GPL-2.0
/*
 * Restore, step 4: criu traces the new process from its first instruction,
 * and with PTRACE_O_TRACECLONE every thread the restorer creates from its
 * first instruction too. Each thread stops at the restorer's int3, right
 * before its rt_sigreturn. Once all of them are there, criu lets each
 * rt_sigreturn load that thread's registers, borrows the leader for one
 * more syscall to unmap the restorer area, puts the registers and every
 * thread's signal mask back, and leaves the threads stopped for the caller
 * to detach. So nothing of the restore stays in the restored process.
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
	[RESTORE_EXIT_THREADS] = "restorer: creating or setting up a thread",
	[RESTORE_EXIT_TIMERS] = "restorer: creating a POSIX timer with its id",
	[RESTORE_EXIT_LDT] = "restorer: installing an LDT entry (modify_ldt)",
};

const char *restore_exit_code_name(int code)
{
	if (code >= 0 && code < RESTORE_EXIT_MAX && exit_code_names[code])
		return exit_code_names[code];
	return "unknown step";
}

int restore_seize(pid_t pid)
{
	/*
	 * EXITKILL: if criu dies mid-restore, the half-built tree dies with
	 * it. TRACECLONE and TRACEFORK: the threads the restorers create and
	 * the processes of the tree are traced before they run (with these
	 * same options), so none can pass its int3 unseen.
	 */
	if (ptrace(PTRACE_SEIZE, pid, 0,
		   PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK)) {
		pr_perror("can't trace the new process %d", pid);
		return -errno;
	}
	return 0;
}

/* The leader first, then the others in pstree.img order, each with its core entry. */
int restore_threads_init(struct restore_task *rt)
{
	size_t i, nr = rt->pstree->n_threads;

	rt->threads = xzalloc(nr * sizeof(*rt->threads));
	if (!rt->threads)
		return -ENOMEM;
	rt->nr_threads = nr;
	for (i = 0; i < nr; i++) {
		rt->threads[i].tid = rt->pstree->threads[i];
		rt->threads[i].core = i ? rt->core->other_threads[i - 1] : rt->core->thread;
	}
	return 0;
}

static struct restore_thread *find_thread(const struct restore_task *rt, pid_t tid)
{
	size_t i;

	for (i = 0; i < rt->nr_threads; i++)
		if (rt->threads[i].tid == tid)
			return &rt->threads[i];
	return NULL;
}

static int report_death(const struct restore_task *rt, pid_t tid, int status)
{
	if (WIFEXITED(status))
		pr_err("process %d (thread %d) died during restore with exit code %d: %s\n", rt->pid, tid,
		       WEXITSTATUS(status), restore_exit_code_name(WEXITSTATUS(status)));
	else
		pr_err("process %d (thread %d) was killed by signal %d during restore\n", rt->pid, tid,
		       WTERMSIG(status));
	return -ECHILD;
}

static pid_t wait_any(pid_t tid, int *status)
{
	pid_t ret;

	do
		ret = waitpid(tid, status, __WALL);
	while (ret < 0 && errno == EINTR);
	return ret;
}

/* Wait for the next stop of tid; a death is an error (logged). */
static int wait_stopped(const struct restore_task *rt, pid_t tid, int *status)
{
	if (wait_any(tid, status) < 0) {
		pr_perror("can't wait for thread %d of process %d", tid, rt->pid);
		return -errno;
	}
	if (WIFSTOPPED(*status))
		return 0;
	return report_death(rt, tid, *status);
}

static int get_regs(pid_t pid, struct x86_user_regs *regs)
{
	if (ptrace(PTRACE_GETREGS, pid, 0, regs)) {
		pr_perror("can't get the registers of thread %d", pid);
		return -errno;
	}
	return 0;
}

static int set_regs(pid_t pid, const struct x86_user_regs *regs)
{
	if (ptrace(PTRACE_SETREGS, pid, 0, regs)) {
		pr_perror("can't set the registers of thread %d", pid);
		return -errno;
	}
	return 0;
}

/* Signals a bug in the restorer raises; everything else stays blocked there. */
static bool sig_is_fault(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGSYS;
}

static int report_fault(const struct restore_task *rt, pid_t tid, int sig)
{
	struct x86_user_regs regs;
	siginfo_t si = {};
	uint64_t base = (uintptr_t)rt->area.base;

	ptrace(PTRACE_GETSIGINFO, tid, 0, &si);
	if (get_regs(tid, &regs))
		return -EFAULT;
	pr_err("process %d: signal %d in the restorer in thread %d at ip 0x%llx (area offset 0x%llx), fault address "
	       "%p\n",
	       rt->pid, sig, tid, (unsigned long long)regs.ip, (unsigned long long)(regs.ip - base), si.si_addr);
	return -EFAULT;
}

/* Only the restorer's int3 may stop one of the process's threads with SIGTRAP. */
static int note_int3(const struct restore_task *rt, struct restore_thread *th, pid_t tid)
{
	struct x86_user_regs regs;
	int ret;

	if (!th) {
		pr_err("process %d: SIGTRAP in thread %d, which the images do not have\n", rt->pid, tid);
		return -EINVAL;
	}
	ret = get_regs(tid, &regs);
	if (ret)
		return ret;
	if (regs.ip != rt->area.syscall_insn) {
		pr_err("process %d: unexpected SIGTRAP in thread %d at 0x%llx during restore\n", rt->pid, tid,
		       (unsigned long long)regs.ip);
		return -EINVAL;
	}
	th->at_int3 = true;
	return 1;
}

/*
 * One report while the threads run to their int3: 1 when a thread got
 * there, 0 to go on waiting, < 0 on failure.
 */
static int handle_run_event(const struct restore_task *rt, pid_t tid, int status)
{
	struct restore_thread *th = find_thread(rt, tid);
	int sig;

	if (!WIFSTOPPED(status)) {
		if (tid == rt->pid)
			return report_death(rt, tid, status);
		/* A thread dies alone only through exit_group: the leader's exit tells why. */
		if (th)
			th->dead = true;
		pr_debug("process %d: thread %d ended during restore\n", rt->pid, tid);
		return 0;
	}
	sig = WSTOPSIG(status);
	/* A new thread's first stop, the leader's clone event, a group stop, a blocked signal: run on. */
	if (status >> 16 || (sig != SIGTRAP && !sig_is_fault(sig))) {
		if (ptrace(PTRACE_CONT, tid, 0, status >> 16 ? 0 : sig)) {
			pr_perror("can't resume thread %d of process %d", tid, rt->pid);
			return -errno;
		}
		return 0;
	}
	if (sig != SIGTRAP)
		return report_fault(rt, tid, sig);
	return note_int3(rt, th, tid);
}

static struct restore_task *task_of_thread(const struct restore_tree *tree, pid_t tid)
{
	size_t i;

	for (i = 0; i < tree->nr; i++)
		if (!tree->tasks[i].zombie && find_thread(&tree->tasks[i], tid))
			return &tree->tasks[i];
	return NULL;
}

static bool is_helper(const struct restore_tree *tree, pid_t pid)
{
	return restore_tree_find_helper(tree, pid) != NULL;
}

/* A zombie's death by a signal leaves no core: the core flag can't be restored. */
static bool zombie_status_matches(uint32_t want, int status)
{
	if (WIFEXITED(want))
		return status == (int)want;
	return WIFSIGNALED(status) && WTERMSIG(status) == WTERMSIG(want);
}

/* Zombies-to-be and helpers end on their own; their signals (a zombie's death) pass. */
static int handle_passing_event(const struct restore_tree *tree, pid_t pid, int status)
{
	const struct restore_task *z = restore_tree_find(tree, pid);
	bool helper = is_helper(tree, pid);

	if (!helper && !(z && z->zombie)) {
		pr_err("restore: unexpected stop or exit of %d, which the images do not have\n", pid);
		return -EINVAL;
	}
	if (!WIFSTOPPED(status)) {
		if (helper && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			pr_err("helper %d failed: %s\n", pid,
			       WIFEXITED(status) ? restore_exit_code_name(WEXITSTATUS(status)) : "killed by a signal");
			return -ECHILD;
		}
		if (z && !zombie_status_matches(z->pstree->zombie_status, status))
			return report_death(z, pid, status);
		pr_debug("restore: %s %d ended\n", helper ? "helper" : "zombie", pid);
		return 0;
	}
	if (ptrace(PTRACE_CONT, pid, 0, status >> 16 ? 0 : WSTOPSIG(status))) {
		pr_perror("can't resume %d", pid);
		return -errno;
	}
	return 0;
}

static size_t threads_to_stop(const struct restore_tree *tree)
{
	size_t i, nr = 0;

	for (i = 0; i < tree->nr; i++)
		if (!tree->tasks[i].zombie)
			nr += tree->tasks[i].nr_threads;
	return nr;
}

/*
 * Run every process until each of its threads is at its int3: the
 * processes create their children, meet at the group stages, and each
 * leader creates its threads and reaches its own int3 last.
 */
int restore_wait_tree_int3s(struct restore_tree *tree)
{
	size_t want = threads_to_stop(tree), stopped = 0;
	int status, ret;
	pid_t tid;

	while (stopped < want) {
		struct restore_task *rt;

		tid = wait_any(-1, &status);
		if (tid < 0) {
			pr_perror("can't wait for the processes being restored");
			return -errno;
		}
		rt = task_of_thread(tree, tid);
		if (rt)
			ret = handle_run_event(rt, tid, status);
		else
			ret = handle_passing_event(tree, tid, status);
		if (ret < 0)
			return ret;
		stopped += ret;
	}
	pr_debug("all %zu threads of %zu processes at the restorer's int3\n", want, tree->nr);
	return 0;
}

/* The restorer registered the image's rseq area, and only that one (never criu's). */
static int check_rseq_registration(const struct restore_task *rt, const struct restore_thread *th)
{
	const RseqEntry *want = th->core->rseq;
	struct __ptrace_rseq_configuration conf = {};
	long ret;

	ret = ptrace(PTRACE_GET_RSEQ_CONFIGURATION, th->tid, sizeof(conf), &conf);
	if (ret < 0)
		return 0; /* an older kernel: nothing to check with */
	if (!want && conf.rseq_abi_pointer) {
		pr_err("process %d: thread %d has an rseq area registered at 0x%llx, the image has none\n", rt->pid,
		       th->tid, (unsigned long long)conf.rseq_abi_pointer);
		return -EINVAL;
	}
	if (want && (conf.rseq_abi_pointer != want->abi_pointer || conf.rseq_abi_size != want->abi_size ||
		     conf.signature != want->signature)) {
		pr_err("process %d: thread %d rseq area 0x%llx size %u signature 0x%x, core-%d.img has 0x%llx size %u "
		       "signature 0x%x\n",
		       rt->pid, th->tid, (unsigned long long)conf.rseq_abi_pointer, conf.rseq_abi_size, conf.signature,
		       rt->pid, (unsigned long long)want->abi_pointer, want->abi_size, want->signature);
		return -EINVAL;
	}
	return 0;
}

/* Resume tid to its next syscall entry or exit, which must be op (and nr at entry). */
static int syscall_stop(const struct restore_task *rt, pid_t tid, uint8_t op, uint64_t nr,
			struct __ptrace_syscall_info *info)
{
	int status, ret, sig;

	if (ptrace(PTRACE_SYSCALL, tid, 0, 0)) {
		pr_perror("can't resume thread %d to its next syscall stop", tid);
		return -errno;
	}
	ret = wait_stopped(rt, tid, &status);
	if (ret)
		return ret;
	sig = WSTOPSIG(status);
	if (sig != (SIGTRAP | 0x80)) {
		if (sig_is_fault(sig))
			return report_fault(rt, tid, sig);
		pr_err("process %d: thread %d stopped by signal %d instead of a syscall stop\n", rt->pid, tid, sig);
		return -EINVAL;
	}
	if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(*info), info) <= 0) {
		pr_perror("can't get the syscall of thread %d", tid);
		return -errno;
	}
	if (info->op != op || (op == PTRACE_SYSCALL_INFO_ENTRY && info->entry.nr != nr)) {
		pr_err("process %d: thread %d: unexpected syscall stop (op %u, ip 0x%llx)\n", rt->pid, tid, info->op,
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
static int check_target_regs(const struct restore_task *rt, const struct restore_thread *th,
			     const struct x86_user_regs *r)
{
	const UserRegsX86Entry *g = th->core->gpregs;
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
		pr_err("process %d: thread %d %s is 0x%llx after rt_sigreturn, the image has 0x%llx\n", rt->pid,
		       th->tid, p[i].name, (unsigned long long)p[i].now, (unsigned long long)p[i].image);
		return -EINVAL;
	}
	/* The kernel sets orig_ax to -1: no syscall restart may touch these registers. */
	if (r->orig_ax != (uint64_t)-1) {
		pr_err("process %d: thread %d orig_ax is %lld after rt_sigreturn\n", rt->pid, th->tid,
		       (long long)r->orig_ax);
		return -EINVAL;
	}
	return 0;
}

/* From the int3 to the syscall-exit stop of rt_sigreturn: the thread holds its target registers. */
static int run_sigreturn(const struct restore_task *rt, const struct restore_thread *th, struct x86_user_regs *regs)
{
	struct __ptrace_syscall_info info;
	int ret;

	ret = check_rseq_registration(rt, th);
	ret = ret ?: syscall_stop(rt, th->tid, PTRACE_SYSCALL_INFO_ENTRY, __NR_rt_sigreturn, &info);
	ret = ret ?: syscall_stop(rt, th->tid, PTRACE_SYSCALL_INFO_EXIT, 0, &info);
	ret = ret ?: get_regs(th->tid, regs);
	return ret ?: check_target_regs(rt, th, regs);
}

/*
 * Borrow the leader for munmap(area) through the restorer's own syscall
 * instruction, then give it the target's registers back. Every other
 * thread has left the area already: it sits in its rt_sigreturn exit stop.
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
	ret = set_regs(rt->pid, &call);
	ret = ret ?: syscall_stop(rt, rt->pid, PTRACE_SYSCALL_INFO_ENTRY, __NR_munmap, &info);
	ret = ret ?: syscall_stop(rt, rt->pid, PTRACE_SYSCALL_INFO_EXIT, 0, &info);
	if (ret)
		return ret;
	if (info.exit.is_error) {
		pr_err("process %d: can't unmap the restorer area: %s\n", rt->pid, strerror(-info.exit.rval));
		return (int)info.exit.rval;
	}
	return set_regs(rt->pid, target);
}

static int set_sigmask(const struct restore_task *rt, const struct restore_thread *th)
{
	uint64_t blocked = th->core->blocked;

	if (ptrace(PTRACE_SETSIGMASK, th->tid, sizeof(blocked), &blocked)) {
		pr_perror("can't set the signal mask of thread %d of process %d", th->tid, rt->pid);
		return -errno;
	}
	return 0;
}

/*
 * rt_sigreturn does not load ds, es, fs or gs on x86_64: a selector into
 * the LDT (or any non-null one) is put back here, with the bases already
 * in place, which the kernel keeps.
 */
static bool take_image_selectors(const struct restore_thread *th, struct x86_user_regs *r)
{
	const UserRegsX86Entry *g = th->core->gpregs;
	bool changed = r->ds != g->ds || r->es != g->es || r->fs != g->fs || r->gs != g->gs;

	r->ds = g->ds;
	r->es = g->es;
	r->fs = g->fs;
	r->gs = g->gs;
	return changed;
}

/* The leader last: its registers stay at hand for the unmap, which sets them. */
static int run_all_sigreturns(const struct restore_task *rt, struct x86_user_regs *leader_regs)
{
	struct x86_user_regs regs;
	size_t i;
	int ret;

	for (i = 1; i < rt->nr_threads; i++) {
		ret = run_sigreturn(rt, &rt->threads[i], &regs);
		if (!ret && take_image_selectors(&rt->threads[i], &regs))
			ret = set_regs(rt->threads[i].tid, &regs);
		if (ret)
			return ret;
	}
	ret = run_sigreturn(rt, &rt->threads[0], leader_regs);
	if (!ret)
		take_image_selectors(&rt->threads[0], leader_regs);
	return ret;
}

int restore_finish_task(struct restore_task *rt)
{
	struct x86_user_regs regs;
	size_t i;
	int ret;

	ret = run_all_sigreturns(rt, &regs);
	ret = ret ?: unmap_area(rt, &regs);
	for (i = 0; i < rt->nr_threads && !ret; i++)
		ret = set_sigmask(rt, &rt->threads[i]);
	return ret;
}

/* The leader last: a detached leader could exit while others are still traced. */
int restore_detach_threads(const struct restore_task *rt)
{
	size_t i;

	for (i = rt->nr_threads; i-- > 0;) {
		if (ptrace(PTRACE_DETACH, rt->threads[i].tid, 0, 0)) {
			pr_perror("can't detach from thread %d of process %d", rt->threads[i].tid, rt->pid);
			return -errno;
		}
	}
	return 0;
}
