// SPDX-License-Identifier: GPL-2.0
/*
 * Restore, step 2: the restorer area (layout in restorer-args.h). criu maps
 * it before creating the child, at an address free in its own layout and
 * in the target's, and fills everything but the child's fd numbers: the
 * relocated blob, the VMA list, the page runs, auxv, and a ready signal
 * frame with the target's registers and FPU state.
 */
#include <errno.h>
#include <sched.h>
#include <sys/auxv.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "creds.h"
#include "log.h"
#include "restore.h"
#include "ldt.h"
#include "rlimits.h"
#include "thread-state.h"
#include "restorer-blob.h"
#include "restore-vdso.h"
#include "sigframe.h"
#include "util.h"

#define AREA_SEARCH_FLOOR 0x100000000ULL /* above the low addresses non-PIE binaries use */
#define AREA_GUARD PAGE_SIZE

struct area_layout {
	size_t blob, stack, args, vmas, runs, xruns, locks, nr_locks, sigs, nr_sigs, timers, ldt, close_fds, auxv,
		names, groups, frame, proxy, park, total;
	size_t threads, thread_frames, thread_frame_size, thread_stacks;
	size_t nr_vmas, nr_runs, nr_close_fds, nr_threads;
	uint64_t park_span_start; /* lowest current special moved into the park */
};

/* What the target had and what this kernel gave criu, per special kind. */
struct specials_plan {
	const VmaEntry *target[RESTORER_SPECIAL_MAX];
	struct self_map cur[RESTORER_SPECIAL_MAX];
	bool keep; /* the target had specials: move ours there */
	/*
	 * The target's vDSO is another one than this kernel's: ours go to
	 * new_base (all of them, keeping their distances), the old image stays
	 * at the target's [vdso] as a proxy (restore-vdso.c).
	 */
	bool proxy;
	uint64_t new_base;
	uint64_t cur_lo, cur_hi; /* the span of this kernel's specials */
};

static const struct {
	VmaKind kind;
	const char *label;
} special_kinds[RESTORER_SPECIAL_MAX] = {
	[RESTORER_SPECIAL_VVAR] = { VMA_KIND__VMA_VVAR, "[vvar]" },
	[RESTORER_SPECIAL_VVAR_VCLOCK] = { VMA_KIND__VMA_VVAR_VCLOCK, "[vvar_vclock]" },
	[RESTORER_SPECIAL_VDSO] = { VMA_KIND__VMA_VDSO, "[vdso]" },
};

/* ---- /proc/self/maps ---- */

static int add_self_map(struct self_map **maps, size_t *nr, size_t *cap, uint64_t start, uint64_t end)
{
	if (xgrow(maps, cap, *nr, sizeof(**maps)))
		return -ENOMEM;
	(*maps)[*nr].start = start;
	(*maps)[*nr].end = end;
	(*nr)++;
	return 0;
}

static void note_special(struct specials_plan *sp, const char *line, uint64_t start, uint64_t end)
{
	int k;

	for (k = 0; k < RESTORER_SPECIAL_MAX; k++) {
		const char *label = strstr(line, special_kinds[k].label);

		if (label && label[strlen(special_kinds[k].label)] == '\n') {
			sp->cur[k].start = start;
			sp->cur[k].end = end;
		}
	}
}

static int read_self_maps(struct self_map **maps, size_t *nr, struct specials_plan *sp)
{
	char *buf, *line, *next;
	size_t cap = 0;
	int ret = 0;

	*maps = NULL;
	*nr = 0;
	buf = read_file_at(AT_FDCWD, "/proc/self/maps", NULL);
	if (!buf) {
		pr_perror("can't read /proc/self/maps");
		return -errno;
	}
	for (line = buf; *line && !ret; line = next) {
		unsigned long long start, end;

		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (sscanf(line, "%llx-%llx", &start, &end) != 2) {
			pr_err("/proc/self/maps: can't parse \"%.*s\"\n", (int)(next - line), line);
			ret = -EINVAL;
			break;
		}
		if (end > TASK_SIZE_MAX)
			continue; /* [vsyscall] */
		note_special(sp, line, start, end);
		ret = add_self_map(maps, nr, &cap, start, end);
	}
	free(buf);
	return ret;
}

/* ---- vDSO and friends ---- */

static int special_index(VmaKind kind)
{
	int k;

	for (k = 0; k < RESTORER_SPECIAL_MAX; k++)
		if (special_kinds[k].kind == kind)
			return k;
	return -1;
}

static int check_special_sizes(const struct restore_task *rt, const struct specials_plan *sp)
{
	int k;

	for (k = 0; k < RESTORER_SPECIAL_MAX; k++) {
		const VmaEntry *t = sp->target[k];
		uint64_t cur_size = sp->cur[k].end - sp->cur[k].start;

		if (t && !sp->cur[k].start) {
			pr_err("mm-%d.img: the image has %s at 0x%llx but this kernel maps none: restoring on another "
			       "kernel is not supported yet\n",
			       rt->pid, special_kinds[k].label, (unsigned long long)t->start);
			return -ENOTSUP;
		}
		if (t && t->end - t->start != cur_size) {
			pr_err("mm-%d.img: %s is %llu bytes in the image but %llu on this kernel: restoring on another "
			       "kernel is not supported yet\n",
			       rt->pid, special_kinds[k].label, (unsigned long long)(t->end - t->start),
			       (unsigned long long)cur_size);
			return -ENOTSUP;
		}
		if (!t && sp->keep && sp->cur[k].start) {
			pr_err("mm-%d.img: the image lacks %s, which this kernel's vDSO needs: restoring on another "
			       "kernel is not supported yet\n",
			       rt->pid, special_kinds[k].label);
			return -ENOTSUP;
		}
	}
	return 0;
}

/* The vDSO reaches its data at fixed offsets: the pieces must keep their distances. */
static int check_special_layout(const struct restore_task *rt, const struct specials_plan *sp)
{
	int k, anchor = -1;

	for (k = 0; k < RESTORER_SPECIAL_MAX; k++) {
		if (!sp->target[k])
			continue;
		if (anchor < 0) {
			anchor = k;
			continue;
		}
		if (sp->target[k]->start - sp->target[anchor]->start != sp->cur[k].start - sp->cur[anchor].start) {
			pr_err("mm-%d.img: %s and %s are laid out differently than on this kernel: restoring on "
			       "another kernel is not supported yet\n",
			       rt->pid, special_kinds[anchor].label, special_kinds[k].label);
			return -ENOTSUP;
		}
	}
	return 0;
}

static int plan_specials(const struct restore_task *rt, struct specials_plan *sp)
{
	size_t i;
	int ret, k;

	for (i = 0; i < rt->mm->n_vmas; i++) {
		int k = special_index(rt->mm->vmas[i]->kind);

		if (k >= 0) {
			sp->target[k] = rt->mm->vmas[i];
			sp->keep = true;
		}
	}
	sp->cur_lo = UINT64_MAX;
	for (k = 0; k < RESTORER_SPECIAL_MAX; k++) {
		if (!sp->cur[k].start)
			continue;
		sp->cur_lo = min(sp->cur_lo, sp->cur[k].start);
		sp->cur_hi = max(sp->cur_hi, sp->cur[k].end);
	}
	k = RESTORER_SPECIAL_VDSO;
	sp->proxy = sp->target[k] && sp->cur[k].start &&
		    vdso_needs_proxy(rt->mm, (const uint8_t *)(uintptr_t)sp->cur[k].start,
				     sp->cur[k].end - sp->cur[k].start);
	if (sp->proxy) {
		pr_info("process %d: its vDSO is not this kernel's: kept at 0x%llx as a proxy to the new one\n",
			rt->pid, (unsigned long long)sp->target[k]->start);
		return 0;
	}
	ret = check_special_sizes(rt, sp);
	if (!ret)
		ret = check_special_layout(rt, sp);
	return ret;
}

/* Is this kernel's special k moved into the target, and where (new_base known in proxy mode)? */
static bool special_wanted(const struct specials_plan *sp, int k)
{
	return sp->proxy ? sp->cur[k].start != 0 : sp->target[k] != NULL;
}

static uint64_t special_target(const struct specials_plan *sp, int k)
{
	return sp->proxy ? sp->new_base + (sp->cur[k].start - sp->cur_lo) : sp->target[k]->start;
}

/* ---- layout ---- */

static uint64_t area_addr(const struct restore_task *rt, size_t off);

/* Every queued signal of the process and its threads. */
static size_t count_queued(const struct restore_task *rt)
{
	size_t i, n = rt->core->n_shared_pending + rt->core->thread->n_pending;

	for (i = 0; i < rt->core->n_other_threads; i++)
		n += rt->core->other_threads[i]->n_pending;
	return n;
}

/* Copies n siginfos to the area at *next; returns where they are. */
static uint64_t put_sigs(struct restore_task *rt, size_t *next, ProtobufCBinaryData *si, size_t n)
{
	uint64_t at = area_addr(rt, *next);
	size_t i;

	for (i = 0; i < n; i++) {
		memcpy(rt->area.base + *next, si[i].data, RESTORER_SIGINFO_SIZE);
		*next += RESTORER_SIGINFO_SIZE;
	}
	return at;
}

/* Queued again by the restorer, in order: the process's queue and the leader's, then each thread's. */
static void fill_queued(struct restore_task *rt, const struct area_layout *l)
{
	struct restorer_thread *threads = (struct restorer_thread *)(rt->area.base + l->threads);
	struct restorer_args *a = rt->area.args;
	size_t next = l->sigs, i;

	a->sigs = put_sigs(rt, &next, rt->core->shared_pending, rt->core->n_shared_pending);
	a->nr_shared_sigs = rt->core->n_shared_pending;
	put_sigs(rt, &next, rt->core->thread->pending, rt->core->thread->n_pending);
	a->nr_sigs = rt->core->thread->n_pending;
	for (i = 0; i < l->nr_threads; i++) {
		threads[i].sigs =
			put_sigs(rt, &next, rt->core->other_threads[i]->pending, rt->core->other_threads[i]->n_pending);
		threads[i].nr_sigs = rt->core->other_threads[i]->n_pending;
	}
}

/* Validated: ids increasing, times normalized, notify threads of this process. */
static void fill_posix_timers(struct restore_task *rt, const struct area_layout *l)
{
	struct restorer_posix_timer *out = (struct restorer_posix_timer *)(rt->area.base + l->timers);
	const TaskCoreEntry *core = rt->core;
	size_t i;

	for (i = 0; i < core->n_posix_timers; i++) {
		const PosixTimerEntry *t = core->posix_timers[i];

		memset(&out[i], 0, sizeof(out[i]));
		out[i].id = t->id;
		out[i].clockid = t->clockid;
		out[i].notify = t->notify;
		out[i].signo = t->signo;
		out[i].sival = t->sival;
		out[i].notify_tid = t->has_notify_tid ? t->notify_tid : 0;
		out[i].interval_sec = t->interval_sec;
		out[i].interval_nsec = t->interval_nsec;
		out[i].value_sec = t->value_sec;
		out[i].value_nsec = t->value_nsec;
	}
	rt->area.args->posix_timers = area_addr(rt, l->timers);
	rt->area.args->nr_posix_timers = core->n_posix_timers;
	rt->area.args->timers_in_order = getenv("CRIU_FAULT_NO_TIMER_RESTORE_IDS") != NULL;
}

static size_t count_posix_locks(const struct restore_task *rt)
{
	size_t i, j, n = 0;

	for (i = 0; i < rt->files.nr_fds; i++)
		for (j = 0; j < rt->files.fds[i]->n_locks; j++)
			n += rt->files.fds[i]->locks[j]->kind == FILE_LOCK_POSIX;
	return n;
}

static void fill_posix_locks(struct restore_task *rt, const struct area_layout *l)
{
	struct restorer_lock *out = (struct restorer_lock *)(rt->area.base + l->locks);
	size_t i, j, n = 0;

	for (i = 0; i < rt->files.nr_fds; i++) {
		const FdinfoEntry *e = rt->files.fds[i];

		for (j = 0; j < e->n_locks; j++) {
			const FileLockEntry *k = e->locks[j];

			if (k->kind != FILE_LOCK_POSIX)
				continue;
			memset(&out[n], 0, sizeof(out[n]));
			out[n].type = k->write ? F_WRLCK : F_RDLCK;
			out[n].whence = SEEK_SET;
			out[n].start = k->start;
			out[n].len = k->has_end ? k->end - k->start + 1 : 0;
			out[n].fd = e->fd;
			n++;
		}
	}
	rt->area.args->posix_locks = area_addr(rt, l->locks);
	rt->area.args->nr_posix_locks = n;
}

static void compute_layout(const struct restore_task *rt, const struct specials_plan *sp, struct area_layout *l)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	size_t off, i;
	int k;

	l->nr_vmas = 0;
	for (i = 0; i < rt->mm->n_vmas; i++)
		l->nr_vmas += !vma_kind_is_special(rt->mm->vmas[i]->kind);
	l->nr_runs = restore_count_runs(rt);
	l->nr_close_fds = restore_count_vma_fds(rt) + 1 + rt->nr_srcs; /* + the pages images */

	l->blob = 0;
	l->stack = ALIGN_UP((size_t)restorer_blob.mem_size, PAGE_SIZE);
	l->args = l->stack + RESTORER_STACK_SIZE + RESTORER_HELPER_STACK_SIZE;
	off = l->args + ALIGN_UP(sizeof(struct restorer_args), 64);
	l->vmas = off;
	off += l->nr_vmas * sizeof(struct restorer_vma);
	l->runs = ALIGN_UP(off, 16);
	off = l->runs + l->nr_runs * sizeof(struct restorer_run);
	l->xruns = ALIGN_UP(off, 16);
	off = l->xruns + rt->nr_xruns * sizeof(struct restorer_run);
	l->nr_locks = count_posix_locks(rt);
	l->locks = ALIGN_UP(off, 16);
	off = l->locks + l->nr_locks * sizeof(struct restorer_lock);
	l->close_fds = off;
	off += l->nr_close_fds * sizeof(int32_t);
	l->auxv = ALIGN_UP(off, 8);
	off = l->auxv + rt->mm->n_auxv * sizeof(uint64_t);
	l->names = off;
	off += restore_names_size(rt);
	l->groups = ALIGN_UP(off, 8);
	off = l->groups + (rt->core->creds ? rt->core->creds->n_groups * sizeof(uint32_t) : 0);
	l->nr_sigs = count_queued(rt);
	l->sigs = ALIGN_UP(off, 8);
	off = l->sigs + l->nr_sigs * RESTORER_SIGINFO_SIZE;
	l->timers = ALIGN_UP(off, 8);
	off = l->timers + rt->core->n_posix_timers * sizeof(struct restorer_posix_timer);
	l->ldt = ALIGN_UP(off, 8);
	off = l->ldt + rt->core->n_ldt * LDT_USER_DESC_SIZE;
	l->frame = ALIGN_UP(off, 64);
	off = l->frame + SIGFRAME_SIZE(rt->env->xstate.size);
	/* The other threads: their descriptions, their frames (64-byte aligned XSAVE), their stacks. */
	l->nr_threads = rt->core->n_other_threads;
	l->threads = ALIGN_UP(off, 64);
	off = l->threads + l->nr_threads * sizeof(struct restorer_thread);
	l->thread_frame_size = ALIGN_UP(SIGFRAME_SIZE(rt->env->xstate.size), 64);
	l->thread_frames = ALIGN_UP(off, 64);
	off = l->thread_frames + l->nr_threads * l->thread_frame_size;
	l->thread_stacks = ALIGN_UP(off, PAGE_SIZE);
	off = l->thread_stacks + l->nr_threads * RESTORER_THREAD_STACK_SIZE;
	l->proxy = ALIGN_UP(off, PAGE_SIZE);
	off = l->proxy + (sp->proxy ? ALIGN_UP(rt->mm->vdso_image.len, PAGE_SIZE) : 0);
	l->park = ALIGN_UP(off, PAGE_SIZE);

	for (k = 0; k < RESTORER_SPECIAL_MAX; k++) {
		if (!special_wanted(sp, k))
			continue;
		lo = min(lo, sp->cur[k].start);
		hi = max(hi, sp->cur[k].end);
	}
	l->park_span_start = lo;
	l->total = l->park + (hi > lo ? hi - lo : 0);
}

/* ---- where ---- */

static int cmp_map(const void *a, const void *b)
{
	const struct self_map *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/* All ranges the area must avoid: criu's mappings and the target's VMAs. */
static int collect_busy(const struct restore_task *rt, struct self_map **busy, size_t *nr)
{
	size_t cap = *nr, i;
	int ret;

	for (i = 0; i < rt->mm->n_vmas; i++) {
		const VmaEntry *v = rt->mm->vmas[i];

		if (v->kind == VMA_KIND__VMA_VSYSCALL)
			continue;
		ret = add_self_map(busy, nr, &cap, v->start, v->end);
		if (ret)
			return ret;
	}
	xqsort(*busy, *nr, sizeof(**busy), cmp_map);
	return 0;
}

static uint64_t find_gap(const struct self_map *busy, size_t nr, uint64_t floor, size_t size)
{
	uint64_t cand = floor;
	size_t i;

	for (i = 0; i <= nr; i++) {
		uint64_t next = i < nr ? busy[i].start : TASK_SIZE_MAX;

		if (next >= cand + AREA_GUARD && next - cand - AREA_GUARD >= size + AREA_GUARD)
			return cand + AREA_GUARD;
		if (i < nr)
			cand = max(cand, busy[i].end);
	}
	return 0;
}

static int map_area(struct restore_task *rt, struct self_map **busy, size_t *nr, const struct area_layout *l)
{
	uint64_t addr;
	void *p;
	int ret;

	ret = collect_busy(rt, busy, nr);
	if (ret)
		return ret;
	addr = find_gap(*busy, *nr, max(AREA_SEARCH_FLOOR, rt->env->mmap_min_addr), l->total);
	if (!addr)
		addr = find_gap(*busy, *nr, rt->env->mmap_min_addr, l->total);
	if (!addr) {
		pr_err("no room for a %zu-byte restorer area free in both criu's and the target's layout\n", l->total);
		return -ENOMEM;
	}
	/* NOREPLACE: criu may have mapped something since maps was read. */
	p = mmap((void *)addr, l->total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
		 0);
	if (p == MAP_FAILED) {
		pr_perror("can't map the restorer area at 0x%llx", (unsigned long long)addr);
		return -errno;
	}
	if (p != (void *)addr) {
		pr_err("the restorer area landed at %p, not 0x%llx (no MAP_FIXED_NOREPLACE?)\n", p,
		       (unsigned long long)addr);
		munmap(p, l->total);
		return -EEXIST;
	}
	rt->area.base = p;
	rt->area.size = l->total;
	rt->area.mapped = true;
	pr_info("restorer area at %p, %zu bytes\n", p, l->total);
	return 0;
}

/* ---- contents ---- */

static uint64_t area_addr(const struct restore_task *rt, size_t off)
{
	return (uint64_t)(uintptr_t)rt->area.base + off;
}

static size_t copy_xruns(const struct restore_task *rt, struct restorer_run *out)
{
	size_t i, n = 0;

	for (i = 0; i < rt->nr_xruns; i++) {
		uint64_t addr;
		size_t j;
		bool skip = false;

		/* xruns never cross a VMA (restore-cow.c follows pagemap entries, which don't on dump) */
		for (j = 0; j < rt->mm->n_vmas && !skip; j++) {
			const VmaEntry *v = rt->mm->vmas[j];

			if (v->start <= rt->xruns[i].base && rt->xruns[i].base < v->end)
				skip = restore_premapped(rt, v, &addr);
		}
		if (!skip)
			out[n++] = rt->xruns[i];
	}
	return n;
}

static int fill_vmas_and_runs(struct restore_task *rt, const struct area_layout *l)
{
	struct restorer_args *a = rt->area.args;
	struct vma_list_dest d = {
		.vmas = (struct restorer_vma *)(rt->area.base + l->vmas),
		.names = (char *)rt->area.base + l->names,
		.names_addr = area_addr(rt, l->names),
	};
	int ret;

	ret = restore_build_vmas(rt, &d);
	if (ret)
		return ret;
	rt->area.vmas = d.vmas;
	a->vmas = area_addr(rt, l->vmas);
	a->nr_vmas = d.nr;
	a->scratch_size = d.scratch_size;
	a->runs = area_addr(rt, l->runs);
	a->nr_runs =
		restore_build_runs(rt, d.vmas, d.nr, (struct restorer_run *)(rt->area.base + l->runs), &a->pages_bytes);
	/* Pages in ancestors' images, but for premapped VMAs; the child puts its fd numbers in src_fds. */
	a->xruns = area_addr(rt, l->xruns);
	a->nr_xruns = copy_xruns(rt, (struct restorer_run *)(rt->area.base + l->xruns));
	a->nr_srcs = rt->nr_srcs;
	return 0;
}

static void fill_mm_map(struct restore_task *rt, const struct area_layout *l)
{
	struct prctl_mm_map *m = &rt->area.args->mm_map;
	const MmEntry *mm = rt->mm;

	m->start_code = mm->start_code;
	m->end_code = mm->end_code;
	m->start_data = mm->start_data;
	m->end_data = mm->end_data;
	m->start_brk = mm->start_brk;
	m->brk = mm->brk;
	m->start_stack = mm->start_stack;
	m->arg_start = mm->arg_start;
	m->arg_end = mm->arg_end;
	m->env_start = mm->env_start;
	m->env_end = mm->env_end;
	memcpy(rt->area.base + l->auxv, mm->auxv, mm->n_auxv * sizeof(uint64_t));
	m->auxv = (__u64 *)(uintptr_t)area_addr(rt, l->auxv);
	m->auxv_size = mm->n_auxv * sizeof(uint64_t);
	/* criu's fd number, or "keep" (-1); the child translates it. */
	m->exe_fd = rt->exe_fd;
}

static void fill_signals(struct restore_task *rt)
{
	struct restorer_args *a = rt->area.args;
	size_t i;

	/* Signals the image does not list keep the default action. */
	memset(a->sigactions, 0, sizeof(a->sigactions));
	for (i = 0; i < rt->core->n_sigactions; i++) {
		const SigactionEntry *sa = rt->core->sigactions[i];

		a->sigactions[i].handler = sa->handler;
		a->sigactions[i].flags = sa->flags;
		a->sigactions[i].restorer = sa->restorer;
		a->sigactions[i].mask = sa->mask;
	}
	a->fs_base = rt->core->thread->gpregs->fs_base;
	a->gs_base = rt->core->thread->gpregs->gs_base;
}

static void regs_from_image(const UserRegsX86Entry *e, struct x86_user_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->r15 = e->r15;
	r->r14 = e->r14;
	r->r13 = e->r13;
	r->r12 = e->r12;
	r->bp = e->bp;
	r->bx = e->bx;
	r->r11 = e->r11;
	r->r10 = e->r10;
	r->r9 = e->r9;
	r->r8 = e->r8;
	r->ax = e->ax;
	r->cx = e->cx;
	r->dx = e->dx;
	r->si = e->si;
	r->di = e->di;
	r->orig_ax = e->orig_ax;
	r->ip = e->ip;
	r->cs = e->cs;
	r->flags = e->flags;
	r->sp = e->sp;
	r->ss = e->ss;
	r->fs_base = e->fs_base;
	r->gs_base = e->gs_base;
}

/*
 * The dumped area with sw_reserved rewritten for this CPU: the kernel
 * checks those bytes, not the dumping kernel's, before XRSTOR.
 */
static uint8_t *xsave_for_this_cpu(const struct restore_task *rt, const ThreadCoreEntry *th)
{
	const struct cpu_xstate *cpu = &rt->env->xstate;
	struct fpx_sw_bytes sw = {};
	uint8_t *buf;

	buf = xmalloc(cpu->size);
	if (!buf)
		return NULL;
	memcpy(buf, th->xsave.data, cpu->size);
	if (cpu->has_xsave) {
		sw.magic1 = SIGFRAME_FP_XSTATE_MAGIC1;
		sw.extended_size = cpu->size + sizeof(uint32_t);
		sw.xfeatures = cpu->xfeatures;
		sw.xstate_size = cpu->size;
	}
	memcpy(buf + FXSAVE_SW_BYTES_OFFSET, &sw, sizeof(sw));
	return buf;
}

/*
 * Every signal stays blocked through rt_sigreturn: criu sets the target's
 * mask with PTRACE_SETSIGMASK once the area is gone, so no pending signal
 * can be delivered while the registers still point into the area.
 */
static int build_thread_frame(const struct restore_task *rt, const ThreadCoreEntry *th, size_t off)
{
	struct x86_user_regs regs;
	uint8_t *xsave;

	xsave = xsave_for_this_cpu(rt, th);
	if (!xsave)
		return -ENOMEM;
	regs_from_image(th->gpregs, &regs);
	sigframe_build(rt->area.base + off, area_addr(rt, off), &regs, ~0ULL, xsave, rt->env->xstate.size);
	free(xsave);
	thread_state_fill_sigframe(th, (struct rt_sigframe *)(rt->area.base + off));
	return 0;
}

static int fill_sigframe(struct restore_task *rt, const struct area_layout *l)
{
	int ret;

	ret = build_thread_frame(rt, rt->core->thread, l->frame);
	if (ret)
		return ret;
	rt->area.args->sigframe = area_addr(rt, l->frame);
	return 0;
}

/* Each other thread: its frame, stack and state, for the restorer to clone it with. */
static int fill_threads(struct restore_task *rt, const struct area_layout *l)
{
	struct restorer_thread *threads = (struct restorer_thread *)(rt->area.base + l->threads);
	struct restorer_args *a = rt->area.args;
	size_t i;
	int ret;

	a->threads = area_addr(rt, l->threads);
	a->nr_threads = l->nr_threads;
	a->threads_ready = 0;
	for (i = 0; i < l->nr_threads; i++) {
		const ThreadCoreEntry *th = rt->core->other_threads[i];
		struct restorer_thread *t = &threads[i];
		size_t frame = l->thread_frames + i * l->thread_frame_size;

		memset(t, 0, sizeof(*t));
		t->tid = th->tid;
		t->stack_top = area_addr(rt, l->thread_stacks + (i + 1) * RESTORER_THREAD_STACK_SIZE);
		t->fs_base = th->gpregs->fs_base;
		t->gs_base = th->gpregs->gs_base;
		if (th->comm)
			snprintf(t->comm, sizeof(t->comm), "%s", th->comm);
		thread_state_fill_restorer(th, &t->state);
		ret = build_thread_frame(rt, th, frame);
		if (ret)
			return ret;
		t->sigframe = area_addr(rt, frame);
	}
	return 0;
}

/*
 * The parent-death signal fires when the parent dies, and the restored
 * root's parent is criu. With -d criu exits at once: the signal would
 * end a process just restored, for the death of a parent that was never
 * part of the dump. Leave it unset then, and say so.
 */
static int32_t restore_pdeathsig(const struct restore_task *rt)
{
	const TaskCoreEntry *core = rt->core;

	if (!core->has_pdeathsig || !core->pdeathsig)
		return core->has_pdeathsig ? 0 : -1;
	if (rt->is_root && rt->ctx->opts->restore_detached) {
		pr_warn("process %d: its parent-death signal %u is not restored: with -d its parent is criu, which "
			"exits now\n",
			rt->pid, core->pdeathsig);
		return 0;
	}
	return core->pdeathsig;
}

/* Attributes the restorer sets at its end; -1 and absent parts mean "leave as is". */
static void fill_task_state(struct restore_task *rt, const struct area_layout *l)
{
	struct restorer_args *a = rt->area.args;
	const TaskCoreEntry *core = rt->core;

	thread_state_fill_restorer(core->thread, &a->thread);
	memset(&a->task, 0, sizeof(a->task));
	a->task.pdeathsig = restore_pdeathsig(rt);
	for (size_t i = 0; i < core->n_itimers && i < 3; i++) {
		a->task.itimers[i].interval_sec = core->itimers[i]->interval_sec;
		a->task.itimers[i].interval_usec = core->itimers[i]->interval_usec;
		a->task.itimers[i].value_sec = core->itimers[i]->value_sec;
		a->task.itimers[i].value_usec = core->itimers[i]->value_usec;
	}
	rlimits_fill_restorer(core, &a->task);
	memset(&a->creds, 0, sizeof(a->creds));
	if (core->creds)
		creds_fill_restorer(core->creds, &a->creds, (uint32_t *)(rt->area.base + l->groups),
				    area_addr(rt, l->groups));
	a->creds.cap_last_cap = rt->env->cap_last_cap;
	a->creds.dumpable = core->has_dumpable ? (int32_t)core->dumpable : -1;
}

static void fill_specials(struct restore_task *rt, const struct specials_plan *sp, const struct area_layout *l)
{
	int k;

	for (k = 0; k < RESTORER_SPECIAL_MAX; k++) {
		struct restorer_special *rs = &rt->area.args->specials[k];

		memset(rs, 0, sizeof(*rs));
		/* Specials the target lacks are not parked: the big unmap drops them. */
		if (!special_wanted(sp, k))
			continue;
		rs->cur_start = sp->cur[k].start;
		rs->size = sp->cur[k].end - sp->cur[k].start;
		rs->park_start = area_addr(rt, l->park) + (sp->cur[k].start - l->park_span_start);
		rs->target_start = special_target(sp, k);
	}
}

static uint32_t cpus_available(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	return CPU_COUNT(&set);
}

static void fill_header(struct restore_task *rt, const struct area_layout *l)
{
	struct restorer_args *a = rt->area.args;

	a->magic = RESTORER_ARGS_MAGIC;
	a->area_start = area_addr(rt, 0);
	a->area_size = rt->area.size;
	a->log_fd = -1;
	a->log_level = log_get_loglevel();
	a->pages_fd = rt->pages_fd;
	a->pages_size = rt->pages_size;
	a->arena_start = rt->tree->arena_start;
	a->arena_size = rt->tree->arena_size;
	a->close_fds = area_addr(rt, l->close_fds);
	a->nr_close_fds = 0;
	rt->area.close_fds = (int32_t *)(rt->area.base + l->close_fds);
	rt->area.max_close_fds = l->nr_close_fds;
	rt->area.stack_top = area_addr(rt, l->stack + RESTORER_STACK_SIZE);
	a->helper_stack_top = area_addr(rt, l->stack + RESTORER_STACK_SIZE + RESTORER_HELPER_STACK_SIZE);
	a->nr_cpus = cpus_available();
	rt->area.entry = area_addr(rt, l->blob + restorer_sym_restore_task);
	rt->area.syscall_insn = area_addr(rt, l->blob + restorer_sym_restore_syscall);
}

/* The blob's code must not stay writable: relocate, then make it read-only and executable. */
static int load_blob(struct restore_task *rt, const struct area_layout *l)
{
	size_t len = ALIGN_UP((size_t)restorer_blob.mem_size, PAGE_SIZE);

	memcpy(rt->area.base + l->blob, restorer_blob.image, restorer_blob.image_size);
	memset(rt->area.base + l->blob + restorer_blob.image_size, 0,
	       restorer_blob.mem_size - restorer_blob.image_size);
	compel_blob_relocate(rt->area.base + l->blob, area_addr(rt, l->blob), &restorer_blob);
	if (mprotect(rt->area.base + l->blob, len, PROT_READ | PROT_EXEC)) {
		pr_perror("can't make the restorer blob executable");
		return -errno;
	}
	return 0;
}

/* Ranges to keep clear of from now on: the area, and where this kernel's specials go in proxy mode. */
static int add_busy(struct self_map **busy, size_t *nr, uint64_t start, uint64_t end)
{
	size_t cap = *nr;
	int ret = add_self_map(busy, nr, &cap, start, end);

	if (!ret)
		xqsort(*busy, *nr, sizeof(**busy), cmp_map);
	return ret;
}

/* A free place of the target's layout for this kernel's vvar and vDSO, which keep their distances. */
static int place_new_specials(struct restore_task *rt, struct self_map **busy, size_t *nr, struct specials_plan *sp)
{
	uint64_t span = sp->cur_hi - sp->cur_lo;

	if (!sp->proxy)
		return 0;
	sp->new_base = find_gap(*busy, *nr, max(AREA_SEARCH_FLOOR, rt->env->mmap_min_addr), span);
	if (!sp->new_base) {
		pr_err("no room for this kernel's vDSO (%llu bytes) in the layout of process %d\n",
		       (unsigned long long)span, rt->pid);
		return -ENOMEM;
	}
	pr_info("process %d: this kernel's vvar and vDSO go to 0x%llx\n", rt->pid, (unsigned long long)sp->new_base);
	return add_busy(busy, nr, sp->new_base, sp->new_base + span);
}

/* The old vDSO image with its functions sent to the new one, and the auxv pointing at the new one. */
static int fill_vdso_proxy(struct restore_task *rt, const struct specials_plan *sp, const struct area_layout *l)
{
	const struct self_map *cur = &sp->cur[RESTORER_SPECIAL_VDSO];
	uint64_t new_vdso = special_target(sp, RESTORER_SPECIAL_VDSO);
	struct restorer_args *a = rt->area.args;
	uint64_t *auxv = (uint64_t *)(rt->area.base + l->auxv);
	size_t i;
	int ret;

	a->vdso_proxy_start = 0;
	if (!sp->proxy)
		return 0;
	ret = vdso_build_proxy(rt->mm, rt->pid, (const uint8_t *)(uintptr_t)cur->start, cur->end - cur->start, new_vdso,
			       rt->area.base + l->proxy);
	if (ret)
		return ret;
	a->vdso_proxy_start = sp->target[RESTORER_SPECIAL_VDSO]->start;
	a->vdso_proxy_size = rt->mm->vdso_image.len;
	a->vdso_proxy_image = area_addr(rt, l->proxy);
	for (i = 0; i + 1 < rt->mm->n_auxv; i += 2)
		if (auxv[i] == AT_SYSINFO_EHDR)
			auxv[i + 1] = new_vdso;
	return 0;
}

static int fill_area(struct restore_task *rt, const struct specials_plan *sp, const struct area_layout *l)
{
	int ret;

	rt->area.args = (struct restorer_args *)(rt->area.base + l->args);
	fill_header(rt, l);
	fill_specials(rt, sp, l);
	fill_mm_map(rt, l);
	ret = fill_vdso_proxy(rt, sp, l);
	if (ret)
		return ret;
	fill_signals(rt);
	fill_task_state(rt, l);
	fill_posix_locks(rt, l);
	fill_posix_timers(rt, l);
	ldt_fill_restorer(rt->core, rt->area.base + l->ldt);
	rt->area.args->ldt = area_addr(rt, l->ldt);
	rt->area.args->nr_ldt = rt->core->n_ldt;
	ret = fill_vmas_and_runs(rt, l);
	ret = ret ?: fill_sigframe(rt, l);
	ret = ret ?: fill_threads(rt, l);
	if (!ret)
		fill_queued(rt, l);
	ret = ret ?: load_blob(rt, l);
	return ret;
}

/* The scratch range is used after criu's memory is gone: it avoids the target and the area. */
static int place_scratch(struct restore_task *rt, struct self_map **busy, size_t *nr)
{
	struct restorer_args *a = rt->area.args;

	if (!a->scratch_size)
		return 0;
	a->scratch_start = find_gap(*busy, *nr, max(AREA_SEARCH_FLOOR, rt->env->mmap_min_addr), a->scratch_size);
	if (!a->scratch_start) {
		pr_err("no room for a %llu-byte scratch range free in the target's layout\n",
		       (unsigned long long)a->scratch_size);
		return -ENOMEM;
	}
	pr_debug("scratch range for isolated vmas at 0x%llx\n", (unsigned long long)a->scratch_start);
	return 0;
}

int restore_area_create(struct restore_task *rt)
{
	struct specials_plan sp = {};
	struct self_map *busy = NULL;
	struct area_layout l;
	size_t nr = 0;
	int ret;

	ret = read_self_maps(&busy, &nr, &sp);
	ret = ret ?: plan_specials(rt, &sp);
	if (ret)
		goto out;
	compute_layout(rt, &sp, &l);
	ret = map_area(rt, &busy, &nr, &l);
	if (ret)
		goto out;
	ret = add_busy(&busy, &nr, area_addr(rt, 0), area_addr(rt, rt->area.size));
	ret = ret ?: place_new_specials(rt, &busy, &nr, &sp);
	ret = ret ?: fill_area(rt, &sp, &l);
	ret = ret ?: place_scratch(rt, &busy, &nr);
	if (ret)
		restore_area_destroy(rt);
out:
	free(busy);
	return ret;
}

/* Unmaps criu's copy only; the addresses stay known for the child's sake. */
void restore_area_destroy(struct restore_task *rt)
{
	if (rt->area.mapped)
		munmap(rt->area.base, rt->area.size);
	rt->area.mapped = false;
	rt->area.args = NULL;
	rt->area.vmas = NULL;
	rt->area.close_fds = NULL;
}
