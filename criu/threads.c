// SPDX-License-Identifier: GPL-2.0
/*
 * Non-leader threads on the dump side. What ptrace shows (registers, XSAVE
 * state, signal mask, rseq, robust list, scheduling) is read from here;
 * what only the thread itself can tell (its alternate signal stack, its
 * clear_child_tid address, its timer slack) is asked with syscalls injected
 * into that thread, writing into the parasite's shared area. Then the
 * thread gets its registers, FPU state and mask back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "compel/infect.h"
#include "core.h"
#include "log.h"
#include "parasite.h"
#include "proc-parse.h"
#include "pstree.h"
#include "threads.h"
#include "util.h"

/* struct stack_t of the kernel, as sigaltstack() writes it */
struct k_stack_t {
	uint64_t sp;
	int32_t flags;
	int32_t pad;
	uint64_t size;
};

/* Scratch in the parasite area: the thread_state slot, unused once the leader's was read. */
struct thread_scratch {
	struct k_stack_t altstack;
	uint64_t tid_address;
};

static int inject(struct infect_ctx *tc, long *res, long nr, long a1, long a2, const char *what)
{
	int ret = compel_syscall(tc, res, nr, a1, a2, 0, 0, 0, 0);

	if (!ret && *res < 0 && *res > -4096) {
		pr_err("thread %d: can't read %s: %s\n", tc->pid, what, strerror(-*res));
		ret = *res;
	}
	return ret;
}

_Static_assert(sizeof(struct thread_scratch) <= sizeof(((struct parasite_args *)0)->thread_state),
	       "the scratch must fit the thread_state slot");

static int ask_thread(struct infect_ctx *tc, struct infect_ctx *leader, struct parasite_thread_state *out)
{
	struct parasite_args *args = compel_args(leader);
	struct thread_scratch *local = (void *)&args->thread_state;
	uint64_t remote = compel_args_remote(leader) + offsetof(struct parasite_args, thread_state);
	long res;
	int ret;

	memset(local, 0, sizeof(*local));
	ret = inject(tc, &res, __NR_sigaltstack, 0, remote + offsetof(struct thread_scratch, altstack),
		     "its alternate signal stack");
	ret = ret
		      ?: inject(tc, &res, __NR_prctl, PR_GET_TID_ADDRESS,
				remote + offsetof(struct thread_scratch, tid_address), "its clear_child_tid address");
	ret = ret ?: inject(tc, &res, __NR_prctl, PR_GET_TIMERSLACK, 0, "its timer slack");
	if (ret)
		return ret;
	out->timer_slack_ns = res;
	out->altstack_sp = local->altstack.sp;
	out->altstack_flags = local->altstack.flags;
	out->altstack_size = local->altstack.size;
	out->clear_tid_addr = local->tid_address;
	return 0;
}

static void read_thread_comm(pid_t pid, pid_t tid, char *comm, size_t size)
{
	char path[64], *buf;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	buf = read_file_at(AT_FDCWD, path, NULL);
	snprintf(comm, size, "%s", buf ? buf : "");
	comm[strcspn(comm, "\n")] = 0;
	free(buf);
}

/* The fields of a thread's status that must match the leader's. */
static char *identity_of(pid_t pid, pid_t tid)
{
	static const char *const keys[] = { "Uid",    "Gid",	"Groups", "CapInh",	"CapPrm",
					    "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp" };
	char *buf = read_task_status(pid, tid), *out;
	size_t i, len = 0;

	out = buf ? xzalloc(strlen(buf) + 1) : NULL;
	for (i = 0; out && i < ARRAY_SIZE(keys); i++) {
		const char *v = proc_status_field(buf, keys[i]);
		size_t n = v ? strcspn(v, "\n") : 0;

		memcpy(out + len, v ? v : "", n);
		len += n;
		out[len++] = '\n';
	}
	free(buf);
	return out;
}

static int check_same_identity(pid_t pid, pid_t tid)
{
	char *leader = identity_of(pid, pid), *thread = identity_of(pid, tid);
	int ret = 0;

	if (!leader || !thread) {
		pr_err("can't read the credentials of thread %d of %d\n", tid, pid);
		ret = -EIO;
	} else if (strcmp(leader, thread)) {
		pr_err("thread %d of process %d has credentials, capabilities or seccomp state of its own: not "
		       "supported yet\n",
		       tid, pid);
		ret = -ENOTSUP;
	}
	free(leader);
	free(thread);
	return ret;
}

static int collect_one(struct infect_ctx *leader, pid_t pid, pid_t tid, struct thread_dump *td)
{
	struct infect_ctx tc;
	int ret, ret2;

	td->tid = tid;
	ret = check_same_identity(pid, tid);
	ret = ret ?: thread_state_collect(tid, &td->state);
	if (ret)
		return ret;
	ret = compel_prepare(&tc, tid, NULL);
	if (!ret) {
		td->regs = tc.regs;
		td->sigmask = tc.sigmask;
		td->xsave_size = tc.xsave_size;
		ret = ask_thread(&tc, leader, &td->state.from_parasite);
	}
	/* registers, FPU state and mask back, whatever happened */
	ret2 = compel_cure(&tc);
	if (!ret && !ret2) {
		td->xsave = tc.xsave;
		tc.xsave = NULL;
	}
	compel_release(&tc);
	read_thread_comm(pid, tid, td->comm, sizeof(td->comm));
	return ret ?: ret2;
}

int threads_collect(struct infect_ctx *leader, const struct pstree_item *item, struct threads_dump *td)
{
	size_t i;
	int ret;

	td->nr = 0;
	td->t = NULL;
	if (item->nr_threads < 2)
		return 0;
	td->t = xzalloc((item->nr_threads - 1) * sizeof(*td->t));
	if (!td->t)
		return -ENOMEM;
	for (i = 1; i < item->nr_threads; i++) {
		ret = collect_one(leader, item->pid, item->threads[i], &td->t[td->nr]);
		td->nr++;
		if (ret) {
			pr_err("can't dump thread %d of process %d\n", item->threads[i], item->pid);
			return ret;
		}
	}
	pr_info("process %d: %zu more threads dumped\n", item->pid, td->nr);
	return 0;
}

int threads_to_image(const struct threads_dump *td, TaskCoreEntry *core, struct threads_image *img)
{
	size_t i;

	memset(img, 0, sizeof(*img));
	if (!td->nr)
		return 0;
	img->entries = xzalloc(td->nr * sizeof(*img->entries));
	img->ptrs = xzalloc(td->nr * sizeof(*img->ptrs));
	img->regs = xzalloc(td->nr * sizeof(*img->regs));
	img->state = xzalloc(td->nr * sizeof(*img->state));
	if (!img->entries || !img->ptrs || !img->regs || !img->state) {
		threads_image_free(img);
		return -ENOMEM;
	}
	for (i = 0; i < td->nr; i++) {
		const struct thread_dump *t = &td->t[i];
		ThreadCoreEntry *e = &img->entries[i];
		struct x86_user_regs r = t->regs;

		thread_core_entry__init(e);
		user_regs_x86_entry__init(&img->regs[i]);
		/* a new process has no restart block: an interrupted call returns EINTR */
		compel_regs_restart_fixup(&r, false);
		core_regs_to_entry(&r, &img->regs[i]);
		e->tid = t->tid;
		e->gpregs = &img->regs[i];
		e->xsave.data = t->xsave;
		e->xsave.len = t->xsave_size;
		e->blocked = t->sigmask;
		e->comm = (char *)t->comm;
		thread_state_to_image(&t->state, &img->state[i], e);
		img->ptrs[i] = e;
	}
	core->n_other_threads = td->nr;
	core->other_threads = img->ptrs;
	return 0;
}

void threads_image_free(struct threads_image *img)
{
	free(img->entries);
	free(img->ptrs);
	free(img->regs);
	free(img->state);
	memset(img, 0, sizeof(*img));
}

void threads_dump_free(struct threads_dump *td)
{
	size_t i;

	for (i = 0; i < td->nr; i++)
		free(td->t[i].xsave);
	free(td->t);
	td->t = NULL;
	td->nr = 0;
}
