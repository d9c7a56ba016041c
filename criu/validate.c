// SPDX-License-Identifier: GPL-2.0
/*
 * Validation of decoded restore images (see validate.h). Nothing here has
 * side effects beyond reading this machine's limits: a failed check only
 * logs which file and field is wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "ldt.h"
#include "vdso.h"
#include "log.h"
#include "util.h"
#include "validate.h"
#include "validate-pstree.h"
#include "tty.h"

#define bad(fmt, ...) (pr_err(fmt "\n", ##__VA_ARGS__), -EINVAL)

#define USER_CS 0x33
#define USER_SS 0x2b
#define NR_SIGNALS 64
#define SA_KNOWN_FLAGS 0xdc000c07ULL /* SA_NOCLDSTOP..SA_RESETHAND as in the uapi */
#define PER_KNOWN_FLAGS 0x0ffe0000U  /* UNAME26 .. ADDR_LIMIT_3GB */
#define PER_LINUX_MASK 0xffU
#define VMA_KNOWN_MAP_FLAGS \
	(MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE)
#define VMA_KNOWN_MADV                                                                                            \
	((1ULL << MADV_RANDOM) | (1ULL << MADV_SEQUENTIAL) | (1ULL << MADV_DONTFORK) | (1ULL << MADV_MERGEABLE) | \
	 (1ULL << MADV_HUGEPAGE) | (1ULL << MADV_NOHUGEPAGE) | (1ULL << MADV_DONTDUMP) | (1ULL << MADV_WIPEONFORK))
#define ANON_NAME_MAX 80 /* the kernel's ANON_VMA_NAME_MAX_LEN */
#define PAGEMAP_MAX_ENTRIES (16u << 20)

bool vma_kind_holds_pages(VmaKind kind)
{
	switch (kind) {
	case VMA_KIND__VMA_ANON_PRIVATE:
	case VMA_KIND__VMA_ANON_SHARED:
	case VMA_KIND__VMA_MEMFD_SHARED:
	case VMA_KIND__VMA_FILE_PRIVATE:
	case VMA_KIND__VMA_HEAP:
	case VMA_KIND__VMA_STACK:
		return true;
	default:
		/* A shared file's data is the file; specials belong to the kernel. */
		return false;
	}
}

bool vma_kind_is_file(VmaKind kind)
{
	return kind == VMA_KIND__VMA_FILE_PRIVATE || kind == VMA_KIND__VMA_FILE_SHARED;
}

bool vma_kind_is_special(VmaKind kind)
{
	return kind == VMA_KIND__VMA_VDSO || kind == VMA_KIND__VMA_VVAR || kind == VMA_KIND__VMA_VVAR_VCLOCK ||
	       kind == VMA_KIND__VMA_VSYSCALL;
}

static bool vma_kind_valid(int kind)
{
	return kind >= VMA_KIND__VMA_ANON_PRIVATE && kind <= VMA_KIND__VMA_MEMFD_SHARED;
}

const char *vma_anon_name(const VmaEntry *vma, size_t *len)
{
	const char *prefix = vma->kind == VMA_KIND__VMA_ANON_SHARED ? "[anon_shmem:" : "[anon:";
	size_t plen = strlen(prefix), nlen;

	if (!vma->name || (vma->kind != VMA_KIND__VMA_ANON_PRIVATE && vma->kind != VMA_KIND__VMA_ANON_SHARED))
		return NULL;
	nlen = strlen(vma->name);
	if (nlen <= plen + 1 || strncmp(vma->name, prefix, plen) || vma->name[nlen - 1] != ']')
		return NULL;
	*len = nlen - plen - 1;
	return vma->name + plen;
}

/* ---- this machine ---- */

static int read_sysctl_u64(const char *path, uint64_t *val)
{
	char *buf, *end;

	buf = read_file_at(AT_FDCWD, path, NULL);
	if (!buf) {
		pr_perror("can't read %s", path);
		return -errno;
	}
	errno = 0;
	*val = strtoull(buf, &end, 10);
	if (errno || end == buf) {
		pr_err("%s: can't parse \"%s\"\n", path, buf);
		free(buf);
		return -EINVAL;
	}
	free(buf);
	return 0;
}

/*
 * The kernel's own signal frame is the exact statement of what it accepts
 * back in rt_sigreturn (sizes and features vary with CPU, kernel options
 * and per-process permissions), so take one and read its sw_reserved bytes.
 * A handler can only report through a static.
 */
static volatile struct cpu_xstate probed_xstate;

static void xstate_probe_handler(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	const uint8_t *fx = (const uint8_t *)uc->uc_mcontext.fpregs;
	uint32_t magic1 = 0, size = 0, mask = 0;
	uint64_t xfeatures = 0;

	if (!fx)
		return;
	memcpy(&mask, fx + XSAVE_MXCSR_MASK_OFF, sizeof(mask));
	probed_xstate.mxcsr_mask = mask ? mask : 0xffbf;
	if (uc->uc_flags & 1 /* UC_FP_XSTATE */)
		memcpy(&magic1, fx + XSAVE_SW_RESERVED_OFF, sizeof(magic1));
	if (magic1 != FP_XSTATE_MAGIC1) {
		probed_xstate.size = XSAVE_LEGACY_SIZE;
		probed_xstate.xfeatures = 3; /* x87 and SSE */
		return;
	}
	memcpy(&xfeatures, fx + XSAVE_SW_RESERVED_OFF + 8, sizeof(xfeatures));
	memcpy(&size, fx + XSAVE_SW_RESERVED_OFF + 16, sizeof(size));
	probed_xstate.xfeatures = xfeatures;
	probed_xstate.size = size;
	probed_xstate.has_xsave = true;
}

static int probe_xstate(struct cpu_xstate *xs)
{
	struct sigaction sa = { .sa_sigaction = xstate_probe_handler, .sa_flags = SA_SIGINFO }, old_sa;
	sigset_t unblock, old_mask;

	memset((void *)&probed_xstate, 0, sizeof(probed_xstate));
	sigemptyset(&unblock);
	sigaddset(&unblock, SIGUSR2);
	if (sigaction(SIGUSR2, &sa, &old_sa)) {
		pr_perror("can't install the xstate probe handler");
		return -errno;
	}
	sigprocmask(SIG_UNBLOCK, &unblock, &old_mask);
	raise(SIGUSR2);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	sigaction(SIGUSR2, &old_sa, NULL);
	memcpy(xs, (const void *)&probed_xstate, sizeof(*xs));
	if (!xs->size) {
		pr_err("can't learn this CPU's FPU state layout from a signal frame\n");
		return -EIO;
	}
	pr_debug("cpu: xstate size %u, xfeatures 0x%llx, mxcsr mask 0x%x\n", xs->size,
		 (unsigned long long)xs->xfeatures, xs->mxcsr_mask);
	return 0;
}

/* criu's own capabilities and limits: a restored task can't get more from it. */
static int read_own_privileges(struct validate_env *env)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	struct rlimit rl;
	uint32_t cap;
	int i;

	if (syscall(SYS_capget, &hdr, data)) {
		pr_perror("can't read criu's own capabilities");
		return -errno;
	}
	env->own_cap_prm = data[0].permitted | ((uint64_t)data[1].permitted << 32);
	env->own_cap_bnd = 0;
	for (cap = 0; cap <= env->cap_last_cap && cap < 64; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			env->own_cap_bnd |= 1ULL << cap;
	for (i = 0; i < (int)ARRAY_SIZE(env->own_rlim_max); i++) {
		if (getrlimit(i, &rl)) {
			pr_perror("can't read criu's own resource limit %d", i);
			return -errno;
		}
		env->own_rlim_max[i] = rl.rlim_max;
	}
	return 0;
}

int validate_env_init(struct validate_env *env)
{
	uint64_t last_cap;
	int ret;

	ret = read_sysctl_u64("/proc/sys/vm/mmap_min_addr", &env->mmap_min_addr);
	if (!ret)
		ret = read_sysctl_u64("/proc/sys/kernel/pid_max", &env->pid_max);
	if (!ret)
		ret = read_sysctl_u64("/proc/sys/vm/max_map_count", &env->max_map_count);
	if (!ret)
		ret = probe_xstate(&env->xstate);
	if (!ret)
		ret = read_sysctl_u64("/proc/sys/kernel/cap_last_cap", &last_cap);
	if (!ret) {
		env->cap_last_cap = min(last_cap, 63ULL);
		ret = read_own_privileges(env);
	}
	if (!ret && env->mmap_min_addr < PAGE_SIZE)
		env->mmap_min_addr = PAGE_SIZE;
	return ret;
}

/* ---- inventory and pstree ---- */

static int check_pid(const char *img, const char *field, uint64_t pid, bool zero_ok, const struct validate_env *env)
{
	if (pid == 0 && zero_ok)
		return 0;
	if (pid == 0 || pid >= env->pid_max)
		return bad("%s: %s %llu is outside 1..%llu (kernel.pid_max)", img, field, (unsigned long long)pid,
			   (unsigned long long)env->pid_max - 1);
	return 0;
}

int validate_inventory(const InventoryEntry *inv, const struct validate_env *env)
{
	return check_pid("inventory.img", "root_pid", inv->root_pid, false, env);
}

int validate_pstree(PstreeEntry *const *entries, size_t nr, uint32_t root_pid, const struct validate_env *env)
{
	int ret;

	ret = validate_pstree_shape(entries, nr, root_pid, env);
	return ret ?: validate_pstree_zombies(entries, nr);
}

/* ---- core ---- */

static int validate_sigactions(const TaskCoreEntry *core, pid_t pid)
{
	size_t i;

	if (core->n_sigactions > NR_SIGNALS)
		return bad("core-%d.img: %zu sigactions, at most %d signals exist", pid, core->n_sigactions,
			   NR_SIGNALS);
	for (i = 0; i < core->n_sigactions; i++) {
		const SigactionEntry *sa = core->sigactions[i];

		if (sa->handler >= TASK_SIZE_MAX)
			return bad("core-%d.img: sigactions[%zu] handler 0x%llx is not a user address", pid, i,
				   (unsigned long long)sa->handler);
		if (sa->restorer >= TASK_SIZE_MAX)
			return bad("core-%d.img: sigactions[%zu] restorer 0x%llx is not a user address", pid, i,
				   (unsigned long long)sa->restorer);
		if (sa->flags & ~SA_KNOWN_FLAGS)
			return bad("core-%d.img: sigactions[%zu] flags 0x%llx has unknown bits", pid, i,
				   (unsigned long long)sa->flags);
	}
	return 0;
}

static int validate_gpregs(const UserRegsX86Entry *r, pid_t pid, const char *name)
{
	if (r->cs != USER_CS || r->ss != USER_SS)
		return bad("core-%d.img: %s.gpregs cs 0x%llx ss 0x%llx: only 64-bit tasks (cs 0x33, ss 0x2b) are "
			   "supported",
			   pid, name, (unsigned long long)r->cs, (unsigned long long)r->ss);
	if (r->ip >= TASK_SIZE_MAX)
		return bad("core-%d.img: %s.gpregs ip 0x%llx is not a user address", pid, name,
			   (unsigned long long)r->ip);
	if (r->sp >= TASK_SIZE_MAX)
		return bad("core-%d.img: %s.gpregs sp 0x%llx is not a user address", pid, name,
			   (unsigned long long)r->sp);
	if (r->fs_base >= TASK_SIZE_MAX)
		return bad("core-%d.img: %s.gpregs fs_base 0x%llx is not a user address", pid, name,
			   (unsigned long long)r->fs_base);
	if (r->gs_base >= TASK_SIZE_MAX)
		return bad("core-%d.img: %s.gpregs gs_base 0x%llx is not a user address", pid, name,
			   (unsigned long long)r->gs_base);
	return 0;
}

/*
 * The area goes to XRSTOR through rt_sigreturn: anything XRSTOR faults on
 * would kill the target after its memory is gone, so refuse it here.
 */
static int validate_xsave(const ProtobufCBinaryData *xs, pid_t pid, const char *name, const struct cpu_xstate *cpu)
{
	uint64_t xstate_bv, xcomp_bv;
	uint32_t mxcsr;
	size_t i;

	if (xs->len < cpu->size || xs->len > XSAVE_MAX_SIZE)
		return bad("core-%d.img: %s.xsave is %zu bytes, this CPU needs %u..%u", pid, name, xs->len, cpu->size,
			   XSAVE_MAX_SIZE);
	memcpy(&mxcsr, xs->data + XSAVE_MXCSR_OFF, sizeof(mxcsr));
	if (mxcsr & ~cpu->mxcsr_mask)
		return bad("core-%d.img: %s.xsave mxcsr 0x%x has bits this CPU rejects (mask 0x%x)", pid, name, mxcsr,
			   cpu->mxcsr_mask);
	if (!cpu->has_xsave)
		return 0;
	memcpy(&xstate_bv, xs->data + XSAVE_HDR_OFF, sizeof(xstate_bv));
	memcpy(&xcomp_bv, xs->data + XSAVE_HDR_OFF + 8, sizeof(xcomp_bv));
	if (xstate_bv & ~cpu->xfeatures)
		return bad("core-%d.img: %s.xsave xstate_bv 0x%llx has features this CPU does not restore "
			   "(0x%llx): not supported yet",
			   pid, name, (unsigned long long)xstate_bv, (unsigned long long)cpu->xfeatures);
	if (xcomp_bv)
		return bad("core-%d.img: %s.xsave xcomp_bv 0x%llx: the compacted format is not supported", pid, name,
			   (unsigned long long)xcomp_bv);
	for (i = 16; i < XSAVE_HDR_SIZE; i++)
		if (xs->data[XSAVE_HDR_OFF + i])
			return bad("core-%d.img: %s.xsave header byte %zu is not zero", pid, name, i);
	return 0;
}

#define RSEQ_MIN_SIZE 32 /* the original struct rseq */
#define RSEQ_MAX_SIZE 4096
#define SS_KNOWN_FLAGS (1U | 2U | (1U << 31)) /* SS_ONSTACK, SS_DISABLE, SS_AUTODISARM */
#define ROBUST_LIST_HEAD_SIZE 24	      /* struct robust_list_head on x86_64 */

static bool user_range(uint64_t start, uint64_t len)
{
	return start < TASK_SIZE_MAX && len <= TASK_SIZE_MAX - start;
}

static int validate_rseq(const RseqEntry *r, pid_t pid, const char *name)
{
	if (r->abi_size < RSEQ_MIN_SIZE || r->abi_size > RSEQ_MAX_SIZE)
		return bad("core-%d.img: %s.rseq abi_size %u is outside %d..%d", pid, name, r->abi_size, RSEQ_MIN_SIZE,
			   RSEQ_MAX_SIZE);
	if (!r->abi_pointer || r->abi_pointer % RSEQ_MIN_SIZE || !user_range(r->abi_pointer, r->abi_size))
		return bad("core-%d.img: %s.rseq abi_pointer 0x%llx is not a 32-byte aligned user address", pid, name,
			   (unsigned long long)r->abi_pointer);
	if (r->has_flags && r->flags)
		return bad("core-%d.img: %s.rseq flags 0x%x: only 0 is supported", pid, name, r->flags);
	return 0;
}

static int validate_altstack(const SigaltstackEntry *ss, pid_t pid, const char *name)
{
	if (ss->flags & ~SS_KNOWN_FLAGS)
		return bad("core-%d.img: %s.sigaltstack flags 0x%x has unknown bits", pid, name, ss->flags);
	if (!(ss->flags & SS_DISABLE) && !user_range(ss->sp, ss->size))
		return bad("core-%d.img: %s.sigaltstack 0x%llx size %llu is not a user range", pid, name,
			   (unsigned long long)ss->sp, (unsigned long long)ss->size);
	return 0;
}

static int validate_sched(const SchedEntry *s, pid_t pid, const char *name)
{
	bool rt = s->policy == SCHED_FIFO || s->policy == SCHED_RR;

	if (s->policy != SCHED_OTHER && s->policy != SCHED_BATCH && s->policy != SCHED_IDLE && !rt)
		return bad("core-%d.img: %s.sched policy %u is not OTHER, FIFO, RR, BATCH or IDLE", pid, name,
			   s->policy);
	if (rt ? (s->priority < 1 || s->priority > 99) : s->priority != 0)
		return bad("core-%d.img: %s.sched priority %u is invalid for policy %u", pid, name, s->priority,
			   s->policy);
	if (s->nice < -20 || s->nice > 19)
		return bad("core-%d.img: %s.sched nice %d is outside -20..19", pid, name, s->nice);
	return 0;
}

/* The state besides registers; every part is optional (older images lack them). */
static int validate_thread_state(const ThreadCoreEntry *th, pid_t pid, const char *name)
{
	int ret = 0;

	if (th->rseq)
		ret = validate_rseq(th->rseq, pid, name);
	if (!ret && th->sigaltstack)
		ret = validate_altstack(th->sigaltstack, pid, name);
	if (ret)
		return ret;
	if (th->has_clear_tid_addr && th->clear_tid_addr >= TASK_SIZE_MAX)
		return bad("core-%d.img: %s.clear_tid_addr 0x%llx is not a user address", pid, name,
			   (unsigned long long)th->clear_tid_addr);
	if (th->robust_list && th->robust_list->len != ROBUST_LIST_HEAD_SIZE)
		return bad("core-%d.img: %s.robust_list len %llu, the kernel takes only %d", pid, name,
			   (unsigned long long)th->robust_list->len, ROBUST_LIST_HEAD_SIZE);
	if (th->robust_list && th->robust_list->head >= TASK_SIZE_MAX)
		return bad("core-%d.img: %s.robust_list head 0x%llx is not a user address", pid, name,
			   (unsigned long long)th->robust_list->head);
	if (th->sched)
		return validate_sched(th->sched, pid, name);
	return 0;
}

/* name: "thread" for the leader, "other_threads[i]" for the others, as in the messages. */
#define PENDING_MAX 65536

/* Queued signals: whole siginfos of signals that can be queued (not SIGKILL or SIGSTOP). */
static int validate_pending(const ProtobufCBinaryData *si, size_t nr, pid_t pid, const char *name)
{
	size_t i;

	if (nr > PENDING_MAX)
		return bad("core-%d.img: %s has %zu queued signals, more than %d", pid, name, nr, PENDING_MAX);
	for (i = 0; i < nr; i++) {
		int signo;

		if (si[i].len != 128)
			return bad("core-%d.img: %s queued signal %zu has a siginfo of %zu bytes, not 128", pid, name,
				   i, si[i].len);
		memcpy(&signo, si[i].data, sizeof(signo));
		if (signo < 1 || signo > NR_SIGNALS || signo == SIGKILL || signo == SIGSTOP)
			return bad("core-%d.img: %s queued signal %zu is signal %d, which can't be queued", pid, name,
				   i, signo);
	}
	return 0;
}

#define ITIMER_SEC_MAX (1ULL << 40)

static int validate_itimers(const TaskCoreEntry *core, pid_t pid)
{
	size_t i;

	if (core->n_itimers > 3)
		return bad("core-%d.img: %zu interval timers, there are 3", pid, core->n_itimers);
	for (i = 0; i < core->n_itimers; i++) {
		const ItimerEntry *t = core->itimers[i];

		if (t->interval_usec >= 1000000 || t->value_usec >= 1000000 || t->interval_sec > ITIMER_SEC_MAX ||
		    t->value_sec > ITIMER_SEC_MAX)
			return bad("core-%d.img: interval timer %zu has a bad time", pid, i);
	}
	return 0;
}

static int validate_thread(const ThreadCoreEntry *th, pid_t pid, const char *name, uint32_t tid,
			   const struct validate_env *env)
{
	int ret;

	ret = validate_pending(th->pending, th->n_pending, pid, name);
	ret = ret ?: validate_thread_state(th, pid, name);
	if (ret)
		return ret;
	if (th->tid != tid)
		return bad("core-%d.img: %s.tid %u is not %u, the tid pstree.img lists for it", pid, name, th->tid,
			   tid);
	if (th->comm && strlen(th->comm) > 15)
		return bad("core-%d.img: %s.comm \"%s\" is longer than 15 characters", pid, name, th->comm);
	ret = validate_gpregs(th->gpregs, pid, name);
	if (ret)
		return ret;
	return validate_xsave(&th->xsave, pid, name, &env->xstate);
}

#define SECUREBITS_KNOWN 0xffU /* the three SECURE_* bits pairs and NO_CAP_AMBIENT_RAISE, with locks */
#define GROUPS_MAX 65536       /* NGROUPS_MAX */
#define THP_DISABLE_KNOWN 3U   /* PR_GET_THP_DISABLE: disabled, except-advised */

static int check_caps(const char *name, uint64_t caps, pid_t pid, const struct validate_env *env)
{
	uint64_t known = env->cap_last_cap >= 63 ? ~0ULL : (1ULL << (env->cap_last_cap + 1)) - 1;

	if (caps & ~known)
		return bad("core-%d.img: creds.%s 0x%llx has capabilities this kernel does not know (last is %u)", pid,
			   name, (unsigned long long)caps, env->cap_last_cap);
	return 0;
}

/* Restore must not give a task privileges it did not have, nor more than criu has. */
static int check_caps_restorable(const CredsEntry *c, pid_t pid, const struct validate_env *env)
{
	if (c->cap_eff & ~c->cap_prm)
		return bad("core-%d.img: creds.cap_eff 0x%llx is not within cap_prm 0x%llx", pid,
			   (unsigned long long)c->cap_eff, (unsigned long long)c->cap_prm);
	if (c->cap_amb & ~(c->cap_prm & c->cap_inh))
		return bad("core-%d.img: creds.cap_amb 0x%llx is not within cap_prm & cap_inh", pid,
			   (unsigned long long)c->cap_amb);
	if (c->cap_prm & ~env->own_cap_prm)
		return bad("core-%d.img: creds.cap_prm 0x%llx has capabilities criu lacks (0x%llx)", pid,
			   (unsigned long long)c->cap_prm, (unsigned long long)(c->cap_prm & ~env->own_cap_prm));
	/* capset() takes no inheritable capability outside the (still criu's) bounding set. */
	if (c->cap_inh & ~env->own_cap_bnd)
		return bad("core-%d.img: creds.cap_inh 0x%llx has capabilities outside criu's bounding set", pid,
			   (unsigned long long)c->cap_inh);
	if (c->cap_bnd & ~env->own_cap_bnd)
		return bad("core-%d.img: creds.cap_bnd 0x%llx has capabilities outside criu's bounding set (0x%llx)",
			   pid, (unsigned long long)c->cap_bnd, (unsigned long long)(c->cap_bnd & ~env->own_cap_bnd));
	return 0;
}

static int validate_creds(const CredsEntry *c, pid_t pid, const struct validate_env *env)
{
	int ret;

	if (c->n_groups > GROUPS_MAX)
		return bad("core-%d.img: creds.groups has %zu entries, at most %d", pid, c->n_groups, GROUPS_MAX);
	if (c->securebits & ~SECUREBITS_KNOWN)
		return bad("core-%d.img: creds.securebits 0x%x has unknown bits", pid, c->securebits);
	ret = check_caps("cap_inh", c->cap_inh, pid, env);
	ret = ret ?: check_caps("cap_prm", c->cap_prm, pid, env);
	ret = ret ?: check_caps("cap_eff", c->cap_eff, pid, env);
	ret = ret ?: check_caps("cap_bnd", c->cap_bnd, pid, env);
	ret = ret ?: check_caps("cap_amb", c->cap_amb, pid, env);
	return ret ?: check_caps_restorable(c, pid, env);
}

static const char *const rlimit_names[16] = {
	"RLIMIT_CPU",	   "RLIMIT_FSIZE",  "RLIMIT_DATA",    "RLIMIT_STACK",  "RLIMIT_CORE",  "RLIMIT_RSS",
	"RLIMIT_NPROC",	   "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS",     "RLIMIT_LOCKS", "RLIMIT_SIGPENDING",
	"RLIMIT_MSGQUEUE", "RLIMIT_NICE",   "RLIMIT_RTPRIO",  "RLIMIT_RTTIME",
};

static int validate_rlimits(const TaskCoreEntry *core, pid_t pid, const struct validate_env *env)
{
	size_t i;

	if (core->n_rlimits > ARRAY_SIZE(rlimit_names))
		return bad("core-%d.img: %zu rlimits, at most %zu", pid, core->n_rlimits, ARRAY_SIZE(rlimit_names));
	for (i = 0; i < core->n_rlimits; i++) {
		const RlimitEntry *r = core->rlimits[i];

		if (r->cur > r->max)
			return bad("core-%d.img: rlimits[%zu] (%s) cur %llu is above max %llu", pid, i, rlimit_names[i],
				   (unsigned long long)r->cur, (unsigned long long)r->max);
		if (r->max > env->own_rlim_max[i])
			return bad("core-%d.img: rlimits[%zu] (%s) max %llu is above criu's own hard limit %llu: "
				   "raising it needs CAP_SYS_RESOURCE",
				   pid, i, rlimit_names[i], (unsigned long long)r->max,
				   (unsigned long long)env->own_rlim_max[i]);
	}
	return 0;
}

static int validate_task_attrs(const TaskCoreEntry *core, pid_t pid)
{
	if (core->has_dumpable && core->dumpable > 2)
		return bad("core-%d.img: dumpable %u is not 0, 1 or 2", pid, core->dumpable);
	if (core->has_pdeathsig && core->pdeathsig > NR_SIGNALS)
		return bad("core-%d.img: pdeathsig %u is not a signal", pid, core->pdeathsig);
	if (core->has_thp_disable && core->thp_disable & ~THP_DISABLE_KNOWN)
		return bad("core-%d.img: thp_disable 0x%x has unknown bits", pid, core->thp_disable);
	/* that files.img has this pair is checked with the tree (tty_validate_tree) */
	if (core->has_ctty_pty && core->ctty_pty >= PTY_INDEX_MAX)
		return bad("core-%d.img: ctty_pty %u is not a pts number", pid, core->ctty_pty);
	return 0;
}

int validate_core(const TaskCoreEntry *core, pid_t pid, const struct validate_env *env)
{
	size_t len = strlen(core->comm);
	int ret;

	if (len == 0 || len > 15)
		return bad("core-%d.img: comm \"%s\" must have 1..15 characters", pid, core->comm);
	if ((core->personality & PER_LINUX_MASK) || (core->personality & ~(PER_KNOWN_FLAGS | PER_LINUX_MASK)))
		return bad("core-%d.img: personality 0x%x is not PER_LINUX with known flags", pid, core->personality);
	if (core->umask & ~0777U)
		return bad("core-%d.img: umask 0%o has bits outside 0777", pid, core->umask);
	if (core->has_exit_signal && (core->exit_signal < 0 || core->exit_signal > NR_SIGNALS))
		return bad("core-%d.img: exit_signal %d is not a signal", pid, core->exit_signal);
	ret = validate_sigactions(core, pid);
	ret = ret ?: validate_pending(core->shared_pending, core->n_shared_pending, pid, "shared_pending");
	ret = ret ?: validate_itimers(core, pid);
	ret = ret ?: ldt_validate(core, pid);
	ret = ret ?: validate_task_attrs(core, pid);
	ret = ret ?: validate_rlimits(core, pid, env);
	if (!ret && core->creds)
		ret = validate_creds(core->creds, pid, env);
	if (ret)
		return ret;
	return validate_thread(core->thread, pid, "thread", pid, env);
}

#define POSIX_TIMERS_MAX 65536
#define SIGEV_THREAD_ID_ 4
#define CLOCKS_FOR_TIMERS                                                                          \
	((1U << CLOCK_REALTIME) | (1U << CLOCK_MONOTONIC) | (1U << CLOCK_PROCESS_CPUTIME_ID) |     \
	 (1U << CLOCK_THREAD_CPUTIME_ID) | (1U << CLOCK_BOOTTIME) | (1U << CLOCK_REALTIME_ALARM) | \
	 (1U << CLOCK_BOOTTIME_ALARM) | (1U << CLOCK_TAI))

static bool pstree_has_thread(const PstreeEntry *pe, uint32_t tid)
{
	size_t i;

	for (i = 0; i < pe->n_threads; i++)
		if (pe->threads[i] == tid)
			return true;
	return false;
}

static int validate_posix_timer(const PosixTimerEntry *t, const PstreeEntry *pe, size_t i)
{
	pid_t pid = pe->pid;

	/* negative clocks are CPU-time clocks of a pid or tid; the kernel checks them when it creates the timer */
	if (t->clockid >= 0 && (t->clockid >= 32 || !(CLOCKS_FOR_TIMERS & (1U << t->clockid))))
		return bad("core-%d.img: posix_timers[%zu] (id %d) has clock %d, which timers can't use", pid, i, t->id,
			   t->clockid);
	if (t->notify != SIGEV_SIGNAL && t->notify != SIGEV_NONE && t->notify != SIGEV_THREAD &&
	    t->notify != SIGEV_THREAD_ID_)
		return bad("core-%d.img: posix_timers[%zu] (id %d) has notify %u, not SIGEV_SIGNAL, SIGEV_NONE, "
			   "SIGEV_THREAD or SIGEV_THREAD_ID",
			   pid, i, t->id, t->notify);
	if (t->notify != SIGEV_NONE && (t->signo < 1 || t->signo > NR_SIGNALS))
		return bad("core-%d.img: posix_timers[%zu] (id %d) signal %u is not a signal", pid, i, t->id, t->signo);
	if (t->notify == SIGEV_THREAD_ID_ && (!t->has_notify_tid || !pstree_has_thread(pe, t->notify_tid)))
		return bad("core-%d.img: posix_timers[%zu] (id %d) notifies thread %u, which is not a thread of the "
			   "process",
			   pid, i, t->id, t->notify_tid);
	if (t->interval_nsec >= 1000000000ULL || t->value_nsec >= 1000000000ULL || t->interval_sec > ITIMER_SEC_MAX ||
	    t->value_sec > ITIMER_SEC_MAX)
		return bad("core-%d.img: posix_timers[%zu] (id %d) has a bad time", pid, i, t->id);
	return 0;
}

/* Created again by increasing id: each id once, none negative. */
static int validate_posix_timers(const TaskCoreEntry *core, const PstreeEntry *pe)
{
	size_t i;
	int ret;

	if (core->n_posix_timers > POSIX_TIMERS_MAX)
		return bad("core-%d.img: %zu POSIX timers, more than %d", pe->pid, core->n_posix_timers,
			   POSIX_TIMERS_MAX);
	for (i = 0; i < core->n_posix_timers; i++) {
		const PosixTimerEntry *t = core->posix_timers[i];

		if (t->id < 0 || (i && t->id <= core->posix_timers[i - 1]->id))
			return bad("core-%d.img: posix_timers[%zu] has id %d: ids must be non-negative and increasing",
				   pe->pid, i, t->id);
		ret = validate_posix_timer(t, pe, i);
		if (ret)
			return ret;
	}
	return 0;
}

/* The other threads follow pstree.img's threads list, one entry each, in order. */
int validate_core_threads(const TaskCoreEntry *core, const PstreeEntry *pe, const struct validate_env *env)
{
	pid_t pid = pe->pid;
	char name[48];
	size_t i;
	int ret;

	if (core->n_other_threads != pe->n_threads - 1)
		return bad("core-%d.img: %zu other_threads, but pstree.img lists %zu threads besides the leader", pid,
			   core->n_other_threads, pe->n_threads - 1);
	for (i = 0; i < core->n_other_threads; i++) {
		snprintf(name, sizeof(name), "other_threads[%zu]", i);
		ret = validate_thread(core->other_threads[i], pid, name, pe->threads[i + 1], env);
		if (ret)
			return ret;
	}
	ret = validate_posix_timers(core, pe);
	return ret ?: ldt_validate_selectors(core, pid);
}

/* ---- mm ---- */

struct mm_field {
	const char *name;
	uint64_t val;
};

/* The same rules prctl(PR_SET_MM_MAP) applies, checked before anything runs. */
static int validate_mm_fields(const MmEntry *mm, pid_t pid, const struct validate_env *env)
{
	const struct mm_field f[] = {
		{ "start_code", mm->start_code },   { "end_code", mm->end_code },   { "start_data", mm->start_data },
		{ "end_data", mm->end_data },	    { "start_brk", mm->start_brk }, { "brk", mm->brk },
		{ "start_stack", mm->start_stack }, { "arg_start", mm->arg_start }, { "arg_end", mm->arg_end },
		{ "env_start", mm->env_start },	    { "env_end", mm->env_end },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(f); i++)
		if (f[i].val < env->mmap_min_addr || f[i].val >= TASK_SIZE_MAX)
			return bad("mm-%d.img: %s 0x%llx is outside [0x%llx, 0x%llx)", pid, f[i].name,
				   (unsigned long long)f[i].val, (unsigned long long)env->mmap_min_addr, TASK_SIZE_MAX);
	/* f[] holds pairs (start, end) at 0/1, 2/3, 4/5, 7/8, 9/10. */
	if (mm->start_code >= mm->end_code)
		return bad("mm-%d.img: start_code 0x%llx is not below end_code 0x%llx", pid,
			   (unsigned long long)mm->start_code, (unsigned long long)mm->end_code);
	for (i = 2; i < ARRAY_SIZE(f); i += 2) {
		if (i == 6)
			i++; /* start_stack has no pair */
		if (f[i].val > f[i + 1].val)
			return bad("mm-%d.img: %s 0x%llx is above %s 0x%llx", pid, f[i].name,
				   (unsigned long long)f[i].val, f[i + 1].name, (unsigned long long)f[i + 1].val);
	}
	return 0;
}

static int validate_auxv(const MmEntry *mm, pid_t pid)
{
	if (mm->n_auxv < 2 || mm->n_auxv % 2 || mm->n_auxv > AUXV_MAX_WORDS)
		return bad("mm-%d.img: auxv has %zu words, expected an even count in 2..%d", pid, mm->n_auxv,
			   AUXV_MAX_WORDS);
	if (mm->auxv[mm->n_auxv - 2] != 0)
		return bad("mm-%d.img: auxv does not end with AT_NULL", pid);
	return 0;
}

/* field names the referring field in messages, e.g. "vma[3] file_id" or "exe_file_id". */
static int validate_file_ref(const char *field, uint32_t id, pid_t pid, const struct task_files *tf)
{
	const FileEntry *fe = files_find(tf, id);

	if (!fe)
		return bad("mm-%d.img: %s %u is not in files.img", pid, field, id);
	/* a deleted file: regular, as its describing entry says (files.img validation) */
	if (fe->type == FD_TYPE__FD_GHOST && fe->ghost) {
		if (fe->ghost->flags & O_PATH)
			return bad("mm-%d.img: %s %u (%s) is an O_PATH description", pid, field, id, fe->ghost->path);
		return 0;
	}
	if (fe->type != FD_TYPE__FD_REG || !fe->reg)
		return bad("mm-%d.img: %s %u is not a regular file", pid, field, id);
	/* Mappings and the executable are regular files; devices are refused at dump. */
	if (fe->reg->has_mode && !S_ISREG(fe->reg->mode))
		return bad("mm-%d.img: %s %u (%s) has mode 0%o, not a regular file", pid, field, id, fe->reg->path,
			   fe->reg->mode);
	return 0;
}

static int validate_vma_range(const VmaEntry *v, size_t i, pid_t pid, const struct validate_env *env)
{
	if (v->kind == VMA_KIND__VMA_VSYSCALL) {
		if (v->start != VSYSCALL_START || v->end != VSYSCALL_START + PAGE_SIZE)
			return bad("mm-%d.img: vma[%zu] vsyscall at 0x%llx-0x%llx, expected 0x%llx", pid, i,
				   (unsigned long long)v->start, (unsigned long long)v->end, VSYSCALL_START);
		return 0;
	}
	if (v->start & ~PAGE_MASK)
		return bad("mm-%d.img: vma[%zu] start 0x%llx is not page-aligned", pid, i,
			   (unsigned long long)v->start);
	if (v->end & ~PAGE_MASK)
		return bad("mm-%d.img: vma[%zu] end 0x%llx is not page-aligned", pid, i, (unsigned long long)v->end);
	if (v->start >= v->end)
		return bad("mm-%d.img: vma[%zu] start 0x%llx is not below end 0x%llx", pid, i,
			   (unsigned long long)v->start, (unsigned long long)v->end);
	if (v->start < env->mmap_min_addr || v->end > TASK_SIZE_MAX)
		return bad("mm-%d.img: vma[%zu] 0x%llx-0x%llx is outside [0x%llx, 0x%llx)", pid, i,
			   (unsigned long long)v->start, (unsigned long long)v->end,
			   (unsigned long long)env->mmap_min_addr, TASK_SIZE_MAX);
	if (v->pgoff & ~PAGE_MASK)
		return bad("mm-%d.img: vma[%zu] pgoff 0x%llx is not page-aligned", pid, i,
			   (unsigned long long)v->pgoff);
	return 0;
}

static int validate_vma_flags(const VmaEntry *v, size_t i, pid_t pid)
{
	bool shared = v->kind == VMA_KIND__VMA_ANON_SHARED || v->kind == VMA_KIND__VMA_FILE_SHARED ||
		      v->kind == VMA_KIND__VMA_MEMFD_SHARED;
	bool anon = !vma_kind_is_file(v->kind) && v->kind != VMA_KIND__VMA_MEMFD_SHARED;
	uint32_t share = v->flags & (MAP_SHARED | MAP_PRIVATE);

	if (v->prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
		return bad("mm-%d.img: vma[%zu] prot 0x%x has unknown bits", pid, i, v->prot);
	if (v->flags & ~VMA_KNOWN_MAP_FLAGS)
		return bad("mm-%d.img: vma[%zu] flags 0x%x has unsupported bits 0x%x", pid, i, v->flags,
			   v->flags & ~VMA_KNOWN_MAP_FLAGS);
	if (vma_kind_is_special(v->kind))
		return 0;
	if (share != (shared ? MAP_SHARED : MAP_PRIVATE))
		return bad("mm-%d.img: vma[%zu] flags 0x%x do not match kind %d (%s expected)", pid, i, v->flags,
			   v->kind, shared ? "MAP_SHARED" : "MAP_PRIVATE");
	if (!!(v->flags & MAP_ANONYMOUS) != anon)
		return bad("mm-%d.img: vma[%zu] flags 0x%x: MAP_ANONYMOUS does not match kind %d", pid, i, v->flags,
			   v->kind);
	if (v->has_madv && (v->madv & ~VMA_KNOWN_MADV))
		return bad("mm-%d.img: vma[%zu] madv 0x%llx has unsupported advice", pid, i,
			   (unsigned long long)v->madv);
	return 0;
}

#define SHM_SIZE_MAX (1ULL << 47)
#define MEMFD_NAME_MAX 249 /* the kernel's limit for memfd_create() */

/* A shared memory object: an id, a sane size, and a memfd's name. */
static int validate_vma_shm(const VmaEntry *v, size_t i, pid_t pid)
{
	bool memfd = v->kind == VMA_KIND__VMA_MEMFD_SHARED;

	if (v->kind != VMA_KIND__VMA_ANON_SHARED && !memfd) {
		if (v->has_shmid || v->memfd_name)
			return bad("mm-%d.img: vma[%zu] of kind %d has a shared object id or name", pid, i, v->kind);
		return 0;
	}
	if (memfd && (!v->has_shmid || !v->has_shm_size || !v->memfd_name))
		return bad("mm-%d.img: vma[%zu] maps a memfd without shmid, shm_size or memfd_name", pid, i);
	if (v->has_shmid != v->has_shm_size)
		return bad("mm-%d.img: vma[%zu] has only one of shmid and shm_size", pid, i);
	if (v->has_shm_size && v->shm_size > SHM_SIZE_MAX)
		return bad("mm-%d.img: vma[%zu] shm_size %llu is beyond %llu", pid, i, (unsigned long long)v->shm_size,
			   SHM_SIZE_MAX);
	if (v->pgoff > SHM_SIZE_MAX || v->pgoff % PAGE_SIZE)
		return bad("mm-%d.img: vma[%zu] pgoff 0x%llx is not a page offset in an object", pid, i,
			   (unsigned long long)v->pgoff);
	if (v->memfd_name && (!memfd || strlen(v->memfd_name) > MEMFD_NAME_MAX || strchr(v->memfd_name, '/')))
		return bad("mm-%d.img: vma[%zu] memfd_name is not a memfd name", pid, i);
	return 0;
}

static bool anon_name_char_ok(char c)
{
	/* The kernel's rule for PR_SET_VMA_ANON_NAME. */
	return c >= 0x20 && c < 0x7f && c != '[' && c != ']' && c != '\\' && c != '$' && c != '`';
}

static int validate_vma_name(const VmaEntry *v, size_t i, pid_t pid)
{
	const char *name;
	size_t len, j;

	name = vma_anon_name(v, &len);
	if (!name)
		return 0;
	if (len >= ANON_NAME_MAX)
		return bad("mm-%d.img: vma[%zu] name \"%s\" is longer than %d", pid, i, v->name, ANON_NAME_MAX - 1);
	for (j = 0; j < len; j++)
		if (!anon_name_char_ok(name[j]))
			return bad("mm-%d.img: vma[%zu] name \"%s\" has a character the kernel refuses", pid, i,
				   v->name);
	return 0;
}

static int validate_vma(const MmEntry *mm, size_t i, pid_t pid, const struct task_files *tf,
			const struct validate_env *env, unsigned *seen_kinds)
{
	const VmaEntry *v = mm->vmas[i];
	char field[48];
	int ret;

	if (!vma_kind_valid(v->kind))
		return bad("mm-%d.img: vma[%zu] kind %d is unknown", pid, i, v->kind);
	ret = validate_vma_range(v, i, pid, env);
	ret = ret ?: validate_vma_flags(v, i, pid);
	ret = ret ?: validate_vma_name(v, i, pid);
	ret = ret ?: validate_vma_shm(v, i, pid);
	if (ret)
		return ret;
	if (i && v->start < mm->vmas[i - 1]->end)
		return bad("mm-%d.img: vma[%zu] 0x%llx-0x%llx overlaps or precedes vma[%zu] ending at 0x%llx", pid, i,
			   (unsigned long long)v->start, (unsigned long long)v->end, i - 1,
			   (unsigned long long)mm->vmas[i - 1]->end);
	if (v->kind != VMA_KIND__VMA_ANON_PRIVATE && v->kind != VMA_KIND__VMA_ANON_SHARED &&
	    v->kind != VMA_KIND__VMA_MEMFD_SHARED && !vma_kind_is_file(v->kind)) {
		if (*seen_kinds & (1u << v->kind))
			return bad("mm-%d.img: vma[%zu] is a second vma of kind %d", pid, i, v->kind);
		*seen_kinds |= 1u << v->kind;
	}
	if (!vma_kind_is_file(v->kind))
		return 0;
	if (!v->has_file_id)
		return bad("mm-%d.img: vma[%zu] is a file mapping without file_id", pid, i);
	snprintf(field, sizeof(field), "vma[%zu] file_id", i);
	return validate_file_ref(field, v->file_id, pid, tf);
}

/* The old vDSO's bytes are as big as its [vdso] VMA; what they say is parsed, checked, only if used. */
static int validate_vdso_image(const MmEntry *mm, pid_t pid)
{
	size_t i;

	if (!mm->has_vdso_image)
		return 0;
	if (mm->vdso_image.len > VDSO_IMAGE_MAX)
		return bad("mm-%d.img: vdso_image of %zu bytes, more than %d", pid, mm->vdso_image.len, VDSO_IMAGE_MAX);
	for (i = 0; i < mm->n_vmas; i++)
		if (mm->vmas[i]->kind == VMA_KIND__VMA_VDSO)
			return mm->vmas[i]->end - mm->vmas[i]->start == mm->vdso_image.len
				       ? 0
				       : bad("mm-%d.img: vdso_image is %zu bytes, its [vdso] vma %llu", pid,
					     mm->vdso_image.len,
					     (unsigned long long)(mm->vmas[i]->end - mm->vmas[i]->start));
	return bad("mm-%d.img: vdso_image without a [vdso] vma", pid);
}

int validate_mm(const MmEntry *mm, pid_t pid, const struct task_files *tf, const struct validate_env *env)
{
	unsigned seen_kinds = 0;
	size_t i;
	int ret;

	ret = validate_mm_fields(mm, pid, env);
	ret = ret ?: validate_auxv(mm, pid);
	if (ret)
		return ret;
	if (mm->has_exe_file_id) {
		ret = validate_file_ref("exe_file_id", mm->exe_file_id, pid, tf);
		if (ret)
			return ret;
	}
	if (mm->n_vmas == 0 || mm->n_vmas > env->max_map_count)
		return bad("mm-%d.img: %zu vmas, expected 1..%llu (vm.max_map_count)", pid, mm->n_vmas,
			   (unsigned long long)env->max_map_count);
	for (i = 0; i < mm->n_vmas; i++) {
		ret = validate_vma(mm, i, pid, tf, env, &seen_kinds);
		if (ret)
			return ret;
	}
	return validate_vdso_image(mm, pid);
}

/* ---- pagemap ---- */

/*
 * Every page of [start, end) must lie in VMAs that can hold pages; a run may
 * cross from one VMA into an adjacent one. *vi walks the VMAs once.
 */
static int pagemap_check_cover(const MmEntry *mm, size_t *vi, uint64_t start, uint64_t end, size_t idx, pid_t pid)
{
	uint64_t addr = start;

	while (*vi < mm->n_vmas && mm->vmas[*vi]->end <= addr)
		(*vi)++;
	while (addr < end) {
		const VmaEntry *v = *vi < mm->n_vmas ? mm->vmas[*vi] : NULL;

		if (!v || v->start > addr)
			return bad("pagemap-%d.img: entry[%zu] page 0x%llx is not inside any vma of mm-%d.img", pid,
				   idx, (unsigned long long)addr, pid);
		if (!vma_kind_holds_pages(v->kind))
			return bad("pagemap-%d.img: entry[%zu] page 0x%llx is inside vma[%zu] of kind %d, which holds "
				   "no pages",
				   pid, idx, (unsigned long long)addr, *vi, v->kind);
		addr = min(end, (uint64_t)v->end);
		if (addr < end)
			(*vi)++;
	}
	return 0;
}

static int validate_pagemap_entry(const PagemapEntry *pe, size_t i, uint64_t prev_end, pid_t pid)
{
	if (pe->flags != PAGEMAP_FLAGS__PE_PRESENT && pe->flags != PAGEMAP_FLAGS__PE_COW) {
		if (pe->flags & ~(PAGEMAP_FLAGS__PE_PRESENT | PAGEMAP_FLAGS__PE_PARENT | PAGEMAP_FLAGS__PE_LAZY |
				  PAGEMAP_FLAGS__PE_COW))
			return bad("pagemap-%d.img: entry[%zu] flags 0x%x has unknown bits", pid, i, pe->flags);
		return bad("pagemap-%d.img: entry[%zu] flags 0x%x: only PE_PRESENT and PE_COW pages are supported yet",
			   pid, i, pe->flags);
	}
	if (pe->vaddr & ~PAGE_MASK)
		return bad("pagemap-%d.img: entry[%zu] vaddr 0x%llx is not page-aligned", pid, i,
			   (unsigned long long)pe->vaddr);
	/* nr_pages is 32-bit: its byte count cannot wrap a 64-bit address. */
	if (pe->nr_pages == 0 || pe->vaddr > TASK_SIZE_MAX - ((uint64_t)pe->nr_pages << PAGE_SHIFT))
		return bad("pagemap-%d.img: entry[%zu] vaddr 0x%llx nr_pages %u is not a user range", pid, i,
			   (unsigned long long)pe->vaddr, pe->nr_pages);
	if (pe->vaddr < prev_end)
		return bad("pagemap-%d.img: entry[%zu] vaddr 0x%llx overlaps or precedes the previous entry ending at "
			   "0x%llx",
			   pid, i, (unsigned long long)pe->vaddr, (unsigned long long)prev_end);
	return 0;
}

int validate_pagemap(const PagemapHead *head, PagemapEntry *const *pes, size_t nr, const MmEntry *mm,
		     uint64_t pages_size, pid_t pid)
{
	uint64_t prev_end = 0, total = 0;
	size_t i, vi = 0;
	int ret;

	if (nr > PAGEMAP_MAX_ENTRIES)
		return bad("pagemap-%d.img: %zu entries, more than %u", pid, nr, PAGEMAP_MAX_ENTRIES);
	for (i = 0; i < nr; i++) {
		const PagemapEntry *pe = pes[i];
		uint64_t end;

		ret = validate_pagemap_entry(pe, i, prev_end, pid);
		if (ret)
			return ret;
		end = pe->vaddr + ((uint64_t)pe->nr_pages << PAGE_SHIFT);
		ret = pagemap_check_cover(mm, &vi, pe->vaddr, end, i, pid);
		if (ret)
			return ret;
		if (pe->flags == PAGEMAP_FLAGS__PE_PRESENT)
			total += pe->nr_pages;
		prev_end = end;
	}
	if (total << PAGE_SHIFT != pages_size)
		return bad("pages-%u.img: holds %llu bytes but pagemap-%d.img lists %llu pages (%llu bytes)",
			   head->pages_id, (unsigned long long)pages_size, pid, (unsigned long long)total,
			   (unsigned long long)(total << PAGE_SHIFT));
	return 0;
}
