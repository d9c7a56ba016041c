// SPDX-License-Identifier: GPL-2.0
/*
 * criu dump: freeze the task, read what /proc shows, inject the parasite
 * for what only the task can see and for its pages, cure it, write the
 * images (inventory.img last: a directory without it is not a dump), then
 * kill the task or let it go on. On any failure the task goes on as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <cpuid.h>

#include "compel/infect.h"
#include "core.h"
#include "cr-context.h"
#include "files.h"
#include "freezer.h"
#include "image.h"
#include "inventory.pb-c.h"
#include "fault.h"
#include "image-sums.h"
#include "ldt.h"
#include "vdso.h"
#include "log.h"
#include "mem.h"
#include "namespaces.h"
#include "parasite-blob.h"
#include "parasite.h"
#include "proc-parse.h"
#include "posix-timers.h"
#include "pstree.h"
#include "pstree.pb-c.h"
#include "seize.h"
#include "shared-res.h"
#include "signals.h"
#include "tty.h"
#include "util.h"

#define IMG_VERSION 1

/* One process of the tree, from its collection to its images. */
struct proc_dump {
	struct pstree_item *item;
	pid_t pid;
	struct proc_stat stat;
	struct proc_vmas vmas;
	struct mm_dump mm;
	struct infect_ctx ic;
	struct parasite_misc misc;
	struct task_state_dump task_state;
	struct threads_dump threads;
	struct signals_dump sig;
	struct posix_timers_dump timers;
	struct ldt_dump ldt;
	bool prepared, cured;
};

struct dump_ctx {
	struct cr_ctx *cr;
	pid_t root;
	struct file_desc_table *fdt;
	struct compel_journal *journal;
	struct freezer freezer; /* --freeze-cgroup */
	struct pstree tree;
	struct shm_dumped shm;	 /* shared memory ranges saved so far */
	struct proc_dump *procs; /* tree order: parents first */
	size_t nr_procs;
	bool seized;
};

static int read_auxv(pid_t pid, MmEntry *mm)
{
	char path[64];
	uint64_t *buf;
	size_t len, i;

	snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
	buf = (uint64_t *)read_file_at(AT_FDCWD, path, &len);
	if (!buf) {
		pr_perror("can't read %s", path);
		return -errno;
	}
	len /= sizeof(uint64_t);
	/* keep everything up to and including the AT_NULL pair */
	for (i = 0; i + 1 < len; i += 2)
		if (buf[i] == 0) {
			i += 2;
			break;
		}
	mm->n_auxv = min(i, len);
	mm->auxv = buf;
	return 0;
}

static int collect_mm(struct dump_ctx *dc, struct proc_dump *pd)
{
	char exe[PATH_MAX];
	MmEntry *mm;
	int ret;

	ret = parse_proc_smaps(pd->pid, &pd->vmas);
	if (ret)
		return ret;
	ret = mem_collect_vmas(pd->pid, &pd->vmas, dc->fdt, &pd->mm);
	if (ret)
		return ret;
	mm = &pd->mm.mm;
	mm->start_code = pd->stat.start_code;
	mm->end_code = pd->stat.end_code;
	mm->start_data = pd->stat.start_data;
	mm->end_data = pd->stat.end_data;
	mm->start_brk = pd->stat.start_brk;
	mm->start_stack = pd->stat.start_stack;
	mm->arg_start = pd->stat.arg_start;
	mm->arg_end = pd->stat.arg_end;
	mm->env_start = pd->stat.env_start;
	mm->env_end = pd->stat.env_end;
	ret = read_auxv(pd->pid, mm);
	ret = ret ?: vdso_read_image(pd->pid, &pd->vmas, mm);
	if (ret)
		return ret;
	ret = read_proc_link(pd->pid, "exe", exe, sizeof(exe));
	if (ret)
		return ret;
	if (link_is_deleted(exe)) {
		char path[64], what[64];

		snprintf(path, sizeof(path), "/proc/%d/exe", pd->pid);
		snprintf(what, sizeof(what), "the executable of process %d", pd->pid);
		ret = fdt_add_deleted(dc->fdt, path, exe, what, O_RDONLY, &mm->exe_file_id);
	} else {
		ret = fdt_add_path(dc->fdt, exe, O_RDONLY, &mm->exe_file_id);
	}
	if (ret) {
		pr_err("process %d: its executable %s can't be found\n", pd->pid, exe);
		return ret;
	}
	mm->has_exe_file_id = true;
	return 0;
}

/* A memfd held as an fd is saved whole by files-memfd.c: its mappings save no pages of it. */
static int memfds_saved_whole(struct dump_ctx *dc)
{
	const uint64_t *inos;
	size_t n = fdt_memfd_inodes(dc->fdt, &inos), i;

	for (i = 0; i < n; i++) {
		if (xgrow(&dc->shm.r, &dc->shm.cap, dc->shm.nr, sizeof(*dc->shm.r)))
			return -ENOMEM;
		dc->shm.r[dc->shm.nr].shmid = inos[i];
		dc->shm.r[dc->shm.nr].start = 0;
		dc->shm.r[dc->shm.nr].end = UINT64_MAX;
		dc->shm.nr++;
	}
	return 0;
}

static int collect_task(struct dump_ctx *dc, struct proc_dump *pd)
{
	int ret;

	ret = parse_proc_stat(pd->pid, &pd->stat);
	ret = ret ?: ns_check_same_as_criu(pd->pid);
	ret = ret ?: signals_collect_pending(pd->item, &pd->sig);
	ret = ret ?: posix_timers_collect(pd->pid, pd->item->nr_threads, &pd->timers);
	ret = ret ?: task_state_collect(pd->pid, &pd->task_state);
	ret = ret ?: collect_mm(dc, pd);
	ret = ret ?: files_dump_task(dc->fdt, pd->pid, dc->cr->imgdir_fd, dc->cr->opts);
	ret = ret ?: memfds_saved_whole(dc);
	return ret ?: fs_dump_task(pd->pid, dc->cr->imgdir_fd);
}

/* A restore reads a page left in an ancestor from that one's images: keep the chains short. */
#define COW_DEPTH_MAX 16

/* The parent, dumped already, whose pages this process may still share; NULL for none. */
static const struct cow_parent *cow_parent_of(const struct dump_ctx *dc, const struct proc_dump *pd,
					      struct cow_parent *cp)
{
	const struct pstree_item *it;
	size_t i, depth = 0;

	for (it = pd->item->parent; it; it = it->parent)
		depth++;
	if (!pd->item->parent || depth > COW_DEPTH_MAX)
		return NULL;
	for (i = 0; i < dc->nr_procs; i++) {
		if (dc->procs[i].item != pd->item->parent)
			continue;
		cp->pid = dc->procs[i].pid;
		cp->md = &dc->procs[i].mm;
		return cp;
	}
	return NULL;
}

static int run_parasite(struct dump_ctx *dc, struct proc_dump *pd)
{
	struct cow_parent cp;
	struct parasite_args *args;
	int32_t result;
	int ret;

	ret = compel_prepare(&pd->ic, pd->pid, dc->journal);
	if (ret)
		return ret;
	pd->prepared = true;
	ret = compel_infect(&pd->ic, &parasite_blob, parasite_sym_parasite_entry, sizeof(struct parasite_args));
	if (ret)
		return ret;
	fault_pause("parasite");
	args = compel_args(&pd->ic);
	ret = compel_rpc_call(&pd->ic, PARASITE_CMD_GET_MISC, 0, -1, &result);
	if (!ret && result) {
		pr_err("the parasite in %d can't read signal state: %s\n", pd->pid, strerror(-result));
		ret = result;
	}
	if (ret)
		return ret;
	pd->misc = args->misc;
	pd->mm.mm.brk = args->misc.brk;
	ret = task_state_from_parasite(&pd->ic, pd->pid, &pd->task_state);
	ret = ret ?: posix_timers_from_parasite(&pd->ic, pd->pid, &pd->timers);
	ret = ret ?: ldt_from_parasite(&pd->ic, pd->pid, &pd->ldt);
	ret = ret ?: threads_collect(&pd->ic, pd->item, &pd->threads);
	ret = ret ?: mem_scan_pages(pd->pid, &pd->mm, &dc->shm, cow_parent_of(dc, pd, &cp));
	return ret ?: mem_dump_pages(&pd->ic, pd->pid, dc->cr->imgdir_fd, &pd->mm);
}

/* What only the task can tell, and its memory; it is cured before the next one. */
static int dump_one(struct dump_ctx *dc, struct proc_dump *pd)
{
	int ret;

	ret = run_parasite(dc, pd);
	if (!ret) {
		ret = compel_cure(&pd->ic);
		pd->cured = true;
	}
	return ret;
}

static int write_pstree(struct dump_ctx *dc)
{
	struct cr_img *img;
	size_t i, j;
	int ret = 0;

	img = img_open(dc->cr->imgdir_fd, CR_IMG_PSTREE, true, 0);
	if (!img)
		return -EIO;
	for (i = 0; i < dc->nr_procs && !ret; i++) {
		const struct pstree_item *item = dc->procs[i].item;
		PstreeEntry pe = PSTREE_ENTRY__INIT;
		uint32_t *tids = xmalloc((item->nr_threads + 1) * sizeof(*tids));

		if (!tids) {
			ret = -ENOMEM;
			break;
		}
		/* the leader first, then the others in the order of core's other_threads */
		for (j = 0; j < item->nr_threads; j++)
			tids[j] = item->threads[j];
		pe.pid = item->pid;
		pe.ppid = dc->procs[i].stat.ppid;
		pe.pgid = dc->procs[i].stat.pgid;
		pe.sid = dc->procs[i].stat.sid;
		pe.n_threads = item->nr_threads;
		pe.threads = tids;
		if (item->zombie) {
			tids[0] = item->pid;
			pe.n_threads = 1;
			pe.has_zombie_status = true;
			pe.zombie_status = item->exit_status;
			pe.zombie_comm = dc->procs[i].stat.comm;
			pe.has_zombie_exit_signal = true;
			pe.zombie_exit_signal = dc->procs[i].stat.exit_signal;
		}
		ret = img_write_entry(img, &pe.base);
		free(tids);
	}
	if (img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

static int write_inventory(struct dump_ctx *dc)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	unsigned int eax, ebx, ecx, edx;
	struct utsname u;

	inv.img_version = IMG_VERSION;
	inv.root_pid = dc->root;
	inv.has_shell_job = true;
	inv.shell_job = dc->cr->opts->shell_job;
	uname(&u);
	inv.kernel_release = u.release;
	inv.has_dump_time_ns = true;
	inv.dump_time_ns = now_ns(CLOCK_REALTIME);
	inv.criu_version = CRIU_VERSION;
	if (__get_cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx)) {
		inv.has_xfeatures = inv.has_xsave_size = true;
		inv.xfeatures = ((uint64_t)edx << 32) | eax;
		inv.xsave_size = dc->procs[0].ic.xsave_size;
	}
	return img_write_one(dc->cr->imgdir_fd, CR_IMG_INVENTORY, 0, &inv.base);
}

static int write_images(struct dump_ctx *dc)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < dc->nr_procs && !ret; i++) {
		struct proc_dump *pd = &dc->procs[i];

		if (pd->item->zombie)
			continue;
		struct core_sources src = {
			.ic = &pd->ic,
			.misc = &pd->misc,
			.st = &pd->stat,
			.ts = &pd->task_state,
			.sig = &pd->sig,
			.timers = &pd->timers,
			.ldt = &pd->ldt,
			.threads = &pd->threads,
			.stopped = pd->item->was_stopped,
		};

		ret = core_dump_task(dc->cr->imgdir_fd, pd->pid, &src);
		ret = ret ?: mem_write_mm(dc->cr->imgdir_fd, pd->pid, &pd->mm);
	}
	ret = ret ?: files_write_image(dc->fdt, dc->cr->imgdir_fd);
	ret = ret ?: write_pstree(dc);
	return ret ?: write_inventory(dc);
}

static enum unseize_mode final_mode(const struct cr_options *opts)
{
	if (opts->leave_stopped)
		return UNSEIZE_STOP;
	return opts->leave_running ? UNSEIZE_RUN : UNSEIZE_KILL;
}

static bool proc_cleanup(struct proc_dump *pd)
{
	bool ok = true;

	if (pd->prepared) {
		if (!pd->cured && compel_cure(&pd->ic))
			ok = false;
		compel_release(&pd->ic);
		pd->prepared = false;
	}
	threads_dump_free(&pd->threads);
	signals_dump_free(&pd->sig);
	posix_timers_free(&pd->timers);
	ldt_free(&pd->ldt);
	mem_dump_free(&pd->mm);
	task_state_free(&pd->task_state);
	proc_vmas_free(&pd->vmas);
	return ok;
}
/*
 * For the tests: hold the dump here, everything read and nothing written
 * (TCP connections in repair mode), so that a test can kill criu and see
 * the tree, and its connections, go on.
 */
#define FAULT_HOLD_ENV "CRIU_FAULT_DUMP_HOLD_MS"

static void fault_hold_before_images(void)
{
	const char *ms = getenv(FAULT_HOLD_ENV);

	if (!ms)
		return;
	pr_info("holding the dump before writing images (%s=%s)\n", FAULT_HOLD_ENV, ms);
	usleep(atoi(ms) * 1000);
}

/* Live processes only: a zombie has no memory or fd table left to share. */
static int check_shared_between(struct dump_ctx *dc)
{
	pid_t *pids = xmalloc(dc->nr_procs * sizeof(*pids));
	size_t i, n = 0;
	int ret;

	if (!pids)
		return -ENOMEM;
	for (i = 0; i < dc->nr_procs; i++)
		if (!dc->procs[i].item->zombie)
			pids[n++] = dc->procs[i].pid;
	ret = check_shared_task_resources(pids, n);
	free(pids);
	return ret;
}

static int check_outside(struct dump_ctx *dc)
{
	pid_t *all = xmalloc(dc->nr_procs * sizeof(*all)), *live = xmalloc(dc->nr_procs * sizeof(*live));
	const struct proc_vmas **vmas = xmalloc(dc->nr_procs * sizeof(*vmas));
	struct tree_pids tp = { .all = all, .live = live, .vmas = vmas, .root = dc->root };
	size_t i;
	int ret = -ENOMEM;

	if (all && live && vmas) {
		for (i = 0; i < dc->nr_procs; i++) {
			all[tp.nr_all++] = dc->procs[i].pid;
			if (dc->procs[i].item->zombie)
				continue;
			vmas[tp.nr_live] = &dc->procs[i].vmas;
			live[tp.nr_live++] = dc->procs[i].pid;
		}
		ret = fdt_check_outside(dc->fdt, &tp, dc->cr->opts);
	}
	free(all);
	free(live);
	free(vmas);
	return ret;
}

/* A zombie is only its place in the tree, its status and its name. */
static int dump_zombie(struct proc_dump *pd)
{
	int ret = parse_proc_stat(pd->pid, &pd->stat);

	if (ret)
		pr_err("can't read the state of zombie %d\n", pd->pid);
	return ret;
}

static void dump_cleanup(struct dump_ctx *dc, bool ok)
{
	size_t i;

	for (i = 0; i < dc->nr_procs; i++)
		if (!proc_cleanup(&dc->procs[i]))
			ok = false;
	/* before the tree goes on: its connections must have left repair mode */
	fdt_tcp_repair_finish(dc->fdt, ok && final_mode(dc->cr->opts) == UNSEIZE_KILL, dc->root);
	if (dc->seized)
		pstree_unseize(&dc->tree, ok ? final_mode(dc->cr->opts) : UNSEIZE_RUN);
	free(dc->procs);
	free(dc->shm.r);
	pstree_free(&dc->tree);
	/* the cgroup is thawed by now, unless a thaw failed: try again (the guard does too) */
	freezer_close(&dc->freezer);
	compel_guard_finish(dc->journal);
	fdt_destroy(dc->fdt);
}

/* Which ptys the tree holds, before any process's fds are dumped: a slave is the tree's or an outsider's. */
static int scan_ptys(struct dump_ctx *dc)
{
	pid_t *pids = xmalloc((dc->nr_procs + 1) * sizeof(*pids));
	size_t i, nr = 0;
	int ret;

	if (!pids)
		return -ENOMEM;
	for (i = 0; i < dc->nr_procs; i++)
		if (!dc->procs[i].item->zombie)
			pids[nr++] = dc->procs[i].pid;
	ret = pty_scan_tree(dc->fdt, pids, nr);
	free(pids);
	return ret;
}

/* Once every fd is dumped: each process's controlling terminal, for its core image. */
static int dump_cttys(struct dump_ctx *dc)
{
	struct ctty_proc *cp = xzalloc((dc->nr_procs + 1) * sizeof(*cp));
	size_t i;
	int ret;

	if (!cp)
		return -ENOMEM;
	for (i = 0; i < dc->nr_procs; i++) {
		const struct proc_dump *pd = &dc->procs[i];

		cp[i].pid = pd->pid;
		cp[i].sid = pd->stat.sid;
		cp[i].pgid = pd->stat.pgid;
		cp[i].tty_nr = pd->stat.tty_nr;
		cp[i].zombie = pd->item->zombie;
	}
	ret = tty_dump_cttys(dc->fdt, cp, dc->nr_procs, dc->cr->opts->shell_job);
	for (i = 0; !ret && i < dc->nr_procs; i++) {
		dc->procs[i].task_state.has_ctty_pty = cp[i].ctty_pty >= 0;
		dc->procs[i].task_state.ctty_pty = cp[i].ctty_pty;
	}
	free(cp);
	return ret;
}

static int dump_tree(struct dump_ctx *dc)
{
	size_t i;
	int ret = 0;

	dc->procs = xzalloc(dc->tree.nr * sizeof(*dc->procs));
	if (!dc->procs)
		return -ENOMEM;
	dc->nr_procs = dc->tree.nr;
	for (i = 0; i < dc->nr_procs; i++) {
		dc->procs[i].item = dc->tree.items[i];
		dc->procs[i].pid = dc->tree.items[i]->pid;
	}
	ret = check_shared_between(dc);
	ret = ret ?: scan_ptys(dc);
	/* Everything /proc tells of every process first: what is refused is refused before any parasite goes in. */
	for (i = 0; i < dc->nr_procs && !ret; i++)
		ret = dc->procs[i].item->zombie ? dump_zombie(&dc->procs[i]) : collect_task(dc, &dc->procs[i]);
	ret = ret ?: fdt_resolve_deferred(dc->fdt);
	ret = ret ?: check_outside(dc);
	for (i = 0; i < dc->nr_procs && !ret; i++)
		if (!dc->procs[i].item->zombie)
			ret = dump_one(dc, &dc->procs[i]);
	ret = ret ?: dump_cttys(dc);
	if (!ret) {
		fault_hold_before_images();
		fault_pause("images");
	}
	return ret ?: write_images(dc);
}

int cr_dump(struct cr_ctx *cr)
{
	struct dump_ctx dc = { .cr = cr, .root = cr->opts->tree_pid, .freezer = { .dirfd = -1 } };
	struct freezer *fz = NULL;
	uint64_t start = now_ns(CLOCK_MONOTONIC);
	size_t nr_procs;
	int ret;

	pr_info("dumping process %d\n", dc.root);
	/* no stale marker of an earlier dump may make a failed one look complete */
	ret = image_sums_forget(cr->imgdir_fd);
	ret = ret ?: seize_check_target(dc.root);
	if (ret)
		return ret;
	dc.fdt = fdt_create(cr->opts, cr->imgdir_fd);
	dc.journal = compel_guard_start();
	if (dc.fdt && dc.journal)
		fdt_set_journal(dc.fdt, dc.journal);
	if (!dc.fdt || !dc.journal) {
		dump_cleanup(&dc, false);
		return -ENOMEM;
	}
	if (cr->opts->freeze_cgroup) {
		ret = freezer_open(&dc.freezer, cr->opts->freeze_cgroup, dc.journal);
		if (ret) {
			dump_cleanup(&dc, false);
			return ret;
		}
		fz = &dc.freezer;
	}
	ret = pstree_seize(dc.root, cr->opts->timeout, fz, &dc.tree);
	if (ret) {
		dump_cleanup(&dc, false);
		return ret;
	}
	dc.seized = true;
	fault_pause("seized");
	ret = dump_tree(&dc);
	if (!ret)
		fault_pause("sums");
	/* while the tree is still frozen: without its sums the images can't be restored */
	ret = ret ?: image_sums_write(cr->imgdir_fd);
	if (ret)
		pr_err("dump of process %d failed; it goes on running\n", dc.root);
	nr_procs = dc.nr_procs;
	dump_cleanup(&dc, !ret);
	if (!ret)
		pr_info("dump of %d (%zu processes) done in %.1f ms\n", dc.root, nr_procs,
			(now_ns(CLOCK_MONOTONIC) - start) / 1e6);
	return ret;
}
