// SPDX-License-Identifier: GPL-2.0
/* The core of a task: registers, FPU/vector state, signal dispositions. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compel/infect.h"
#include "core.h"
#include "image.h"
#include "ldt.h"
#include "log.h"
#include "proc-parse.h"
#include "posix-timers.h"
#include "signals.h"
#include "util.h"

void core_regs_to_entry(const struct x86_user_regs *r, UserRegsX86Entry *e)
{
	e->r15 = r->r15;
	e->r14 = r->r14;
	e->r13 = r->r13;
	e->r12 = r->r12;
	e->bp = r->bp;
	e->bx = r->bx;
	e->r11 = r->r11;
	e->r10 = r->r10;
	e->r9 = r->r9;
	e->r8 = r->r8;
	e->ax = r->ax;
	e->cx = r->cx;
	e->dx = r->dx;
	e->si = r->si;
	e->di = r->di;
	e->orig_ax = r->orig_ax;
	e->ip = r->ip;
	e->cs = r->cs;
	e->flags = r->flags;
	e->sp = r->sp;
	e->ss = r->ss;
	e->fs_base = r->fs_base;
	e->gs_base = r->gs_base;
	e->ds = r->ds;
	e->es = r->es;
	e->fs = r->fs;
	e->gs = r->gs;
}

static int read_personality(pid_t pid, uint32_t *pers)
{
	char path[64], *buf;

	snprintf(path, sizeof(path), "/proc/%d/personality", pid);
	buf = read_file_at(AT_FDCWD, path, NULL);
	if (!buf) {
		pr_perror("can't read %s", path);
		return -errno;
	}
	*pers = strtoul(buf, NULL, 16);
	free(buf);
	return 0;
}

int task_state_collect(pid_t pid, struct task_state_dump *ts)
{
	int ret;

	ret = creds_collect(pid, &ts->creds);
	ret = ret ?: rlimits_collect(pid, &ts->rlimits);
	ret = ret ?: thread_state_collect(pid, &ts->thread);
	return ret;
}

static int parasite_call(struct infect_ctx *ic, pid_t pid, uint32_t cmd, const char *what)
{
	int32_t result;
	int ret;

	ret = compel_rpc_call(ic, cmd, 0, -1, &result);
	if (!ret && result) {
		pr_err("the parasite in %d can't read %s: %s\n", pid, what, strerror(-result));
		ret = result;
	}
	return ret;
}

int task_state_from_parasite(struct infect_ctx *ic, pid_t pid, struct task_state_dump *ts)
{
	struct parasite_args *args = compel_args(ic);
	int ret;

	ret = parasite_call(ic, pid, PARASITE_CMD_GET_TASK_ATTRS, "its prctl attributes");
	if (ret)
		return ret;
	ts->attrs = args->task_attrs;
	ret = parasite_call(ic, pid, PARASITE_CMD_GET_THREAD_STATE, "its sigaltstack, clear_tid or timer slack");
	if (ret)
		return ret;
	ts->thread.from_parasite = args->thread_state;
	return 0;
}

void task_state_free(struct task_state_dump *ts)
{
	creds_free(&ts->creds);
}

static void task_attrs_to_image(const struct parasite_task_attrs *a, TaskCoreEntry *core)
{
	core->has_dumpable = true;
	core->dumpable = a->dumpable;
	core->has_pdeathsig = true;
	core->pdeathsig = a->pdeathsig;
	core->has_child_subreaper = true;
	core->child_subreaper = a->child_subreaper;
	core->has_thp_disable = true;
	core->thp_disable = a->thp_disable;
}

/* The signals queued for each thread and for the process (signals.c collected them). */
static void pending_to_image(const struct signals_dump *sig, TaskCoreEntry *core)
{
	const struct pending_sigs *q;
	size_t i;

	if (!sig->nr)
		return;
	core->n_shared_pending = sig->queues[0].nr;
	core->shared_pending = sig->queues[0].si;
	q = signals_pending_of(sig, core->thread->tid);
	if (q) {
		core->thread->n_pending = q->nr;
		core->thread->pending = q->si;
	}
	for (i = 0; i < core->n_other_threads; i++) {
		q = signals_pending_of(sig, core->other_threads[i]->tid);
		if (q) {
			core->other_threads[i]->n_pending = q->nr;
			core->other_threads[i]->pending = q->si;
		}
	}
}

/*
 * The three interval timers as the task itself read them: what is left
 * and the interval. Restored relative: the time the task was not running
 * does not count against them (Documentation/design.md, Timers).
 */
static void itimers_to_image(const struct parasite_misc *misc, ItimerEntry *e, ItimerEntry **p, TaskCoreEntry *core)
{
	int i;

	for (i = 0; i < PARASITE_NR_ITIMERS; i++) {
		itimer_entry__init(&e[i]);
		e[i].interval_sec = misc->itimers[i].interval_sec;
		e[i].interval_usec = misc->itimers[i].interval_usec;
		e[i].value_sec = misc->itimers[i].value_sec;
		e[i].value_usec = misc->itimers[i].value_usec;
		p[i] = &e[i];
	}
	core->n_itimers = PARASITE_NR_ITIMERS;
	core->itimers = p;
}

int core_dump_task(int imgdir_fd, pid_t pid, const struct core_sources *src)
{
	const struct infect_ctx *ic = src->ic;
	const struct parasite_misc *misc = src->misc;
	const struct proc_stat *st = src->st;
	const struct task_state_dump *ts = src->ts;
	const struct threads_dump *threads = src->threads;
	bool stopped = src->stopped;
	struct threads_image timg;
	TaskCoreEntry core = TASK_CORE_ENTRY__INIT;
	ThreadCoreEntry thread = THREAD_CORE_ENTRY__INIT;
	CredsEntry creds = CREDS_ENTRY__INIT;
	struct dump_rlimits rlimits = ts->rlimits;
	struct thread_state_image tsi;
	UserRegsX86Entry regs = USER_REGS_X86_ENTRY__INIT;
	SigactionEntry sa[PARASITE_NSIG], *sap[PARASITE_NSIG];
	ItimerEntry it[PARASITE_NR_ITIMERS], *itp[PARASITE_NR_ITIMERS];
	struct x86_user_regs r = ic->regs;
	int i, ret;

	/* A new process has no restart block: an interrupted call returns EINTR. */
	compel_regs_restart_fixup(&r, false);
	core_regs_to_entry(&r, &regs);
	thread.tid = pid;
	thread.gpregs = &regs;
	thread.xsave.data = ic->xsave;
	thread.xsave.len = ic->xsave_size;
	thread.blocked = ic->sigmask;
	thread.comm = (char *)st->comm;
	thread_state_to_image(&ts->thread, &tsi, &thread);

	for (i = 0; i < PARASITE_NSIG; i++) {
		sigaction_entry__init(&sa[i]);
		sa[i].handler = misc->sa[i].handler;
		sa[i].flags = misc->sa[i].flags;
		sa[i].restorer = misc->sa[i].restorer;
		sa[i].mask = misc->sa[i].mask;
		sap[i] = &sa[i];
	}
	core.comm = (char *)st->comm;
	ret = read_personality(pid, &core.personality);
	if (ret)
		return ret;
	core.umask = misc->umask;
	core.n_sigactions = PARASITE_NSIG;
	core.sigactions = sap;
	core.thread = &thread;
	core.has_exit_signal = true;
	core.exit_signal = st->exit_signal;
	core.has_stopped = stopped;
	core.stopped = stopped;
	creds_to_image(&ts->creds, &ts->attrs, &creds);
	core.creds = &creds;
	/* The copy's pointers are its own: ts stays const. */
	for (i = 0; i < (int)rlimits.nr; i++)
		rlimits.ptrs[i] = &rlimits.entries[i];
	rlimits_to_image(&rlimits, &core);
	task_attrs_to_image(&ts->attrs, &core);
	core.has_ctty_pty = ts->has_ctty_pty;
	core.ctty_pty = ts->ctty_pty;
	ret = threads_to_image(threads, &core, &timg);
	if (ret)
		return ret;
	pending_to_image(src->sig, &core);
	itimers_to_image(misc, it, itp, &core);
	posix_timers_to_image(src->timers, &core);
	ldt_to_image(src->ldt, &core);
	ret = img_write_one(imgdir_fd, CR_IMG_CORE, pid, &core.base);
	threads_image_free(&timg);
	return ret;
}
