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
#include "image.h"
#include "inventory.pb-c.h"
#include "log.h"
#include "mem.h"
#include "namespaces.h"
#include "parasite-blob.h"
#include "parasite.h"
#include "proc-parse.h"
#include "pstree.h"
#include "pstree.pb-c.h"
#include "seize.h"
#include "signals.h"
#include "util.h"

#define IMG_VERSION 1

struct dump_ctx {
	struct cr_ctx *cr;
	pid_t pid;
	struct proc_stat stat;
	struct proc_status status;
	struct proc_vmas vmas;
	struct mm_dump mm;
	struct file_desc_table *fdt;
	struct infect_ctx ic;
	struct compel_journal *journal;
	struct parasite_misc misc;
	struct task_state_dump task_state;
	struct threads_dump threads;
	struct pstree tree;
	bool seized, prepared, cured;
};

/* What this criu can't dump yet is refused once the whole tree is frozen. */
static int check_tree_supported(const struct pstree *tree)
{
	const struct pstree_item *root = tree->items[0];

	if (tree->nr > 1) {
		pr_err("process %d has %zu descendants (child %d): dumping process trees is not supported yet\n",
		       root->pid, tree->nr - 1, tree->items[1]->pid);
		return -ENOTSUP;
	}
	return 0;
}

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

static int collect_task(struct dump_ctx *dc)
{
	struct cr_options *opts = dc->cr->opts;
	char exe[PATH_MAX];
	MmEntry *mm;
	int ret;

	ret = parse_proc_stat(dc->pid, &dc->stat);
	if (!ret)
		ret = parse_proc_status(dc->pid, &dc->status);
	if (ret)
		return ret;
	ret = check_tree_supported(&dc->tree);
	ret = ret ?: ns_check_same_as_criu(dc->pid);
	ret = ret ?: signals_check_pending(dc->tree.items[0]);
	ret = ret ?: timers_check_posix(dc->tree.items[0]);
	ret = ret ?: task_state_collect(dc->pid, &dc->task_state);
	if (ret)
		return ret;
	ret = parse_proc_smaps(dc->pid, &dc->vmas);
	if (ret)
		return ret;
	ret = mem_collect_vmas(dc->pid, &dc->vmas, dc->fdt, &dc->mm);
	if (ret)
		return ret;
	mm = &dc->mm.mm;
	mm->start_code = dc->stat.start_code;
	mm->end_code = dc->stat.end_code;
	mm->start_data = dc->stat.start_data;
	mm->end_data = dc->stat.end_data;
	mm->start_brk = dc->stat.start_brk;
	mm->start_stack = dc->stat.start_stack;
	mm->arg_start = dc->stat.arg_start;
	mm->arg_end = dc->stat.arg_end;
	mm->env_start = dc->stat.env_start;
	mm->env_end = dc->stat.env_end;
	ret = read_auxv(dc->pid, mm);
	if (ret)
		return ret;
	ret = read_proc_link(dc->pid, "exe", exe, sizeof(exe));
	if (ret)
		return ret;
	ret = fdt_add_path(dc->fdt, exe, O_RDONLY, &mm->exe_file_id);
	if (ret) {
		pr_err("process %d: its executable %s can't be found\n", dc->pid, exe);
		return ret;
	}
	mm->has_exe_file_id = true;
	ret = files_dump_task(dc->fdt, dc->pid, dc->cr->imgdir_fd, opts);
	if (!ret)
		ret = fs_dump_task(dc->pid, dc->cr->imgdir_fd);
	return ret;
}

static int run_parasite(struct dump_ctx *dc)
{
	struct parasite_args *args;
	int32_t result;
	int ret;

	ret = compel_prepare(&dc->ic, dc->pid, dc->journal);
	if (ret)
		return ret;
	dc->prepared = true;
	ret = compel_infect(&dc->ic, &parasite_blob, parasite_sym_parasite_entry, sizeof(struct parasite_args));
	if (ret)
		return ret;
	args = compel_args(&dc->ic);
	ret = compel_rpc_call(&dc->ic, PARASITE_CMD_GET_MISC, 0, -1, &result);
	if (!ret && result) {
		pr_err("the parasite in %d can't read signal state: %s\n", dc->pid, strerror(-result));
		ret = result;
	}
	if (ret)
		return ret;
	dc->misc = args->misc;
	ret = timers_check_itimers(dc->tree.items[0], &dc->misc);
	if (ret)
		return ret;
	dc->mm.mm.brk = args->misc.brk;
	ret = task_state_from_parasite(&dc->ic, dc->pid, &dc->task_state);
	ret = ret ?: threads_collect(&dc->ic, dc->tree.items[0], &dc->threads);
	if (ret)
		return ret;
	ret = mem_scan_pages(dc->pid, &dc->mm);
	if (!ret)
		ret = mem_dump_pages(&dc->ic, dc->pid, dc->cr->imgdir_fd, &dc->mm);
	return ret;
}

static int write_pstree(struct dump_ctx *dc)
{
	const struct pstree_item *item = dc->tree.items[0];
	PstreeEntry pe = PSTREE_ENTRY__INIT;
	uint32_t *tids;
	size_t i;
	int ret;

	tids = xmalloc(item->nr_threads * sizeof(*tids));
	if (!tids)
		return -ENOMEM;
	/* the leader first, then the others in the order of core's other_threads */
	for (i = 0; i < item->nr_threads; i++)
		tids[i] = item->threads[i];
	pe.pid = dc->pid;
	pe.ppid = dc->stat.ppid;
	pe.pgid = dc->stat.pgid;
	pe.sid = dc->stat.sid;
	pe.n_threads = item->nr_threads;
	pe.threads = tids;
	ret = img_write_one(dc->cr->imgdir_fd, CR_IMG_PSTREE, 0, &pe.base);
	free(tids);
	return ret;
}

static int write_inventory(struct dump_ctx *dc)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	unsigned int eax, ebx, ecx, edx;
	struct utsname u;

	inv.img_version = IMG_VERSION;
	inv.root_pid = dc->pid;
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
		inv.xsave_size = dc->ic.xsave_size;
	}
	return img_write_one(dc->cr->imgdir_fd, CR_IMG_INVENTORY, 0, &inv.base);
}

static int write_images(struct dump_ctx *dc)
{
	int ret;

	ret = core_dump_task(dc->cr->imgdir_fd, dc->pid, &dc->ic, &dc->misc, &dc->stat, &dc->task_state, &dc->threads,
			     dc->tree.items[0]->was_stopped);
	if (!ret)
		ret = mem_write_mm(dc->cr->imgdir_fd, dc->pid, &dc->mm);
	if (!ret)
		ret = files_write_image(dc->fdt, dc->cr->imgdir_fd);
	if (!ret)
		ret = write_pstree(dc);
	if (!ret)
		ret = write_inventory(dc);
	return ret;
}

static enum unseize_mode final_mode(const struct cr_options *opts)
{
	if (opts->leave_stopped)
		return UNSEIZE_STOP;
	return opts->leave_running ? UNSEIZE_RUN : UNSEIZE_KILL;
}

static void dump_cleanup(struct dump_ctx *dc, bool ok)
{
	if (dc->prepared) {
		if (!dc->cured && compel_cure(&dc->ic))
			ok = false;
		compel_release(&dc->ic);
		dc->prepared = false;
	}
	if (dc->seized)
		pstree_unseize(&dc->tree, ok ? final_mode(dc->cr->opts) : UNSEIZE_RUN);
	threads_dump_free(&dc->threads);
	pstree_free(&dc->tree);
	compel_guard_finish(dc->journal);
	fdt_destroy(dc->fdt);
	mem_dump_free(&dc->mm);
	task_state_free(&dc->task_state);
	proc_vmas_free(&dc->vmas);
}

int cr_dump(struct cr_ctx *cr)
{
	struct dump_ctx dc = { .cr = cr, .pid = cr->opts->tree_pid };
	uint64_t start = now_ns(CLOCK_MONOTONIC);
	int ret;

	pr_info("dumping process %d\n", dc.pid);
	/* no stale marker of an earlier dump may make a failed one look complete */
	unlinkat(cr->imgdir_fd, "inventory.img", 0);
	ret = seize_check_target(dc.pid);
	if (ret)
		return ret;
	dc.fdt = fdt_create();
	dc.journal = compel_guard_start();
	if (!dc.fdt || !dc.journal) {
		dump_cleanup(&dc, false);
		return -ENOMEM;
	}
	ret = pstree_seize(dc.pid, cr->opts->timeout, &dc.tree);
	if (ret) {
		dump_cleanup(&dc, false);
		return ret;
	}
	dc.seized = true;
	ret = collect_task(&dc);
	if (!ret)
		ret = run_parasite(&dc);
	if (!ret) {
		ret = compel_cure(&dc.ic);
		dc.cured = true;
	}
	if (!ret)
		ret = write_images(&dc);
	if (ret) {
		unlinkat(cr->imgdir_fd, "inventory.img", 0);
		pr_err("dump of process %d failed; it goes on running\n", dc.pid);
	}
	dump_cleanup(&dc, !ret);
	if (!ret)
		pr_info("dump of %d done in %.1f ms\n", dc.pid, (now_ns(CLOCK_MONOTONIC) - start) / 1e6);
	return ret;
}
