// SPDX-License-Identifier: GPL-2.0
/*
 * The shape of a restored tree: who forks whom, in which order, and how
 * every process gets its session and group back (the reasoning is in
 * Documentation/trees.md, "Restoring sessions and process groups").
 *
 * criu plans everything before the first process exists. Then each new
 * process, still a copy of criu, runs restore_tree_build(): it forks its
 * children (with their pids), calling setsid() between the children born
 * in its old session and those born in its new one; forks the helpers
 * that stand in for dead group leaders; and meets all the others at
 * barriers in a shared page for the group stages: leaders, members, then
 * zombies and helpers exit.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image.h"
#include "log.h"
#include "restore.h"
#include "tty.h"
#include "util.h"
#include "validate-pstree.h"

/* Shared by every process of the tree until its restorer unmaps criu's memory. */
struct tree_sync {
	uint32_t stage; /* futex word */
	uint32_t pending;
	uint32_t nr;
};

struct restore_task *restore_tree_find(const struct restore_tree *tree, pid_t pid)
{
	size_t i;

	for (i = 0; i < tree->nr; i++)
		if (tree->tasks[i].pid == pid)
			return &tree->tasks[i];
	return NULL;
}

struct restore_helper *restore_tree_find_helper(const struct restore_tree *tree, pid_t pid)
{
	size_t i;

	for (i = 0; i < tree->nr_helpers; i++)
		if (tree->helpers[i].pid == (uint32_t)pid)
			return &tree->helpers[i];
	return NULL;
}

size_t restore_tree_nr_processes(const struct restore_tree *tree)
{
	return tree->nr + tree->nr_helpers;
}

/* ---- reading ---- */

static int read_pstree_entries(struct restore_tree *tree)
{
	struct cr_img *img;
	PstreeEntry *e;
	size_t cap = 0;
	int ret;

	img = img_open(tree->ctx->imgdir_fd, CR_IMG_PSTREE, false, 0);
	if (!img)
		return -ENOENT;
	while ((ret = img_read_entry(img, &pstree_entry__descriptor, (ProtobufCMessage **)&e)) > 0) {
		if (xgrow(&tree->entries, &cap, tree->nr, sizeof(*tree->entries))) {
			img_free_entry(&e->base);
			ret = -ENOMEM;
			break;
		}
		tree->entries[tree->nr++] = e;
	}
	img_close(img);
	if (ret < 0)
		return ret;
	return validate_pstree(tree->entries, tree->nr, tree->inventory->root_pid, &tree->env);
}

static int read_task(struct restore_tree *tree, size_t i)
{
	struct restore_task *rt = &tree->tasks[i];

	rt->ctx = tree->ctx;
	rt->tree = tree;
	rt->index = i;
	rt->env = &tree->env;
	rt->pstree = tree->entries[i];
	rt->pid = rt->pstree->pid;
	rt->is_root = i == 0;
	rt->zombie = rt->pstree->has_zombie_status;
	rt->pages_fd = -1;
	rt->exe_fd = -1;
	rt->files.max_fd = -1;
	for (size_t k = 0; k < RESTORER_MAX_SOURCES; k++)
		rt->src_fds[k] = -1;
	if (rt->zombie)
		return 0;
	return restore_read_images(rt);
}

int restore_tree_read(struct restore_tree *tree)
{
	size_t i;
	int ret;

	ret = validate_env_init(&tree->env);
	ret = ret ?: restore_read_inventory(tree);
	ret = ret ?: read_pstree_entries(tree);
	ret = ret ?: files_read_set(tree->ctx->imgdir_fd, &tree->files);
	if (ret)
		return ret;
	tree->files.root = tree->inventory->root_pid;
	tree->tasks = xzalloc(tree->nr * sizeof(*tree->tasks));
	if (!tree->tasks)
		return -ENOMEM;
	tree->max_fd = -1;
	for (i = 0; i < tree->nr; i++) {
		ret = read_task(tree, i);
		if (ret)
			return ret;
		tree->max_fd = max(tree->max_fd, tree->tasks[i].files.max_fd);
	}
	return 0;
}

void restore_tree_free(struct restore_tree *tree)
{
	size_t i;

	for (i = 0; tree->tasks && i < tree->nr; i++) {
		struct restore_task *rt = &tree->tasks[i];

		restore_area_destroy(rt);
		restore_free_images(rt);
		free(rt->plan.children);
	}
	for (i = 0; i < tree->nr_helpers; i++)
		free(tree->helpers[i].children);
	free(tree->helpers);
	tree->helpers = NULL;
	tree->nr_helpers = 0;
	free(tree->tasks);
	tree->tasks = NULL;
	files_free_set(&tree->files);
	restore_shm_free(tree);
	restore_premap_release(tree);
	for (i = 0; i < tree->nr; i++)
		img_free_entry(&tree->entries[i]->base);
	free(tree->entries);
	tree->entries = NULL;
	tree->nr = 0;
	img_free_entry(tree->inventory ? &tree->inventory->base : NULL);
	tree->inventory = NULL;
	if (tree->sync)
		munmap(tree->sync, PAGE_SIZE);
	tree->sync = NULL;
}

/* ---- planning sessions ---- */

/*
 * The session a process ends in, with the root's session mapped to 0 when
 * the root does not lead it: that one is criu's, whatever its number was.
 */
static uint32_t eff_sid(const struct restore_tree *tree, const PstreeEntry *e)
{
	const struct restore_task *root = &tree->tasks[0];

	if (e->sid == root->pstree->sid && !root->plan.do_setsid)
		return 0;
	return e->sid;
}

static struct restore_task *parent_of(const struct restore_tree *tree, const struct restore_task *rt)
{
	return rt->is_root ? NULL : restore_tree_find(tree, rt->pstree->ppid);
}

static bool is_subreaper(const struct restore_task *rt)
{
	return !rt->zombie && rt->core->has_child_subreaper && rt->core->child_subreaper;
}

/*
 * A session whose leader is gone, needed by a child of a subreaper: the
 * child was orphaned and adopted. A helper with the leader's pid stands in.
 */
static bool session_helper_can_serve(const struct restore_tree *tree, const struct restore_task *p, uint32_t sid)
{
	return sid && !restore_tree_find(tree, sid) && is_subreaper(p);
}

static struct restore_helper *add_helper(struct restore_tree *tree, struct restore_task *host, uint32_t pid,
					 bool session)
{
	struct restore_helper *h = restore_tree_find_helper(tree, pid);

	/* a group helper serves every member; the first one hosts it */
	if (h && !h->session && !session)
		return h;
	if (h) {
		if (h->host != host || h->session != session) {
			pr_err("pstree.img: processes %d and %d both need a helper with pid %u: restoring such a tree "
			       "is "
			       "not supported yet\n",
			       h->host->pid, host->pid, pid);
			return NULL;
		}
		return h;
	}
	if (xgrow(&tree->helpers, &tree->helpers_cap, tree->nr_helpers, sizeof(*tree->helpers)))
		return NULL;
	h = &tree->helpers[tree->nr_helpers++];
	memset(h, 0, sizeof(*h));
	h->pid = pid;
	h->session = session;
	h->host = host;
	pr_info("%s %u lost its leader: process %d forks a helper with that pid to rebuild it\n",
		session ? "session" : "group", pid, host->pid);
	return h;
}

static int helper_add_child(struct restore_helper *h, uint32_t index)
{
	uint32_t *n = xrealloc(h->children, (h->nr_children + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	h->children = n;
	n[h->nr_children++] = index;
	return 0;
}

/*
 * Bottom-up: the session each session leader must be born in for the sake
 * of its own children (0 if any will do). A leader offers its children
 * only the session it was born in and its own.
 */
static int plan_needed_sessions(struct restore_tree *tree, uint32_t *need)
{
	size_t i;

	for (i = tree->nr; i-- > 1;) {
		struct restore_task *c = &tree->tasks[i], *p = parent_of(tree, c);
		uint32_t want = c->plan.do_setsid ? need[i] : eff_sid(tree, c->pstree);
		size_t pi = p->index;

		if (p->plan.do_setsid && want == (uint32_t)p->pid)
			continue;
		if (!p->plan.do_setsid && want == eff_sid(tree, p->pstree))
			continue;
		if (c->plan.do_setsid && !want)
			continue;
		if (session_helper_can_serve(tree, p, want))
			continue;
		if (need[pi] && need[pi] != want) {
			pr_err("pstree.img: process %d has children in sessions %u and %u, but can only give them "
			       "the one it was born in and its own: restoring such a tree (left by reparenting) is not "
			       "supported yet\n",
			       p->pid, need[pi], want);
			return -ENOTSUP;
		}
		need[pi] = want;
	}
	return 0;
}

static int plan_born_sid(struct restore_tree *tree, struct restore_task *c, const uint32_t *need)
{
	struct restore_task *p = parent_of(tree, c);
	uint32_t born;

	born = c->plan.do_setsid ? (need[c->index] ?: p->plan.born_sid) : eff_sid(tree, c->pstree);
	c->plan.born_sid = born;
	if (born == p->plan.born_sid || (p->plan.do_setsid && born == (uint32_t)p->pid))
		return 0;
	if (session_helper_can_serve(tree, p, born)) {
		struct restore_helper *h = add_helper(tree, p, born, true);

		c->plan.via_helper = true;
		return h ? helper_add_child(h, c->index) : -ENOMEM;
	}
	{
		pr_err("pstree.img: process %d must be born in session %u, which its parent %d is not in at any "
		       "time: restoring such a tree (left by reparenting) is not supported yet\n",
		       c->pid, born, p->pid);
		return -ENOTSUP;
	}
}

static int add_child(struct restore_task *p, uint32_t index)
{
	uint32_t *n = xrealloc(p->plan.children, (p->plan.nr_children + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	p->plan.children = n;
	n[p->plan.nr_children++] = index;
	return 0;
}

/* Children born in the parent's old session first, then setsid, then the rest. */
static int plan_fork_order(struct restore_tree *tree)
{
	size_t i, pass;
	int ret;

	for (pass = 0; pass < 2; pass++) {
		for (i = 1; i < tree->nr; i++) {
			struct restore_task *c = &tree->tasks[i], *p = parent_of(tree, c);
			bool early = c->plan.born_sid == p->plan.born_sid;

			if (c->plan.via_helper || early != (pass == 0))
				continue;
			ret = add_child(p, i);
			if (ret)
				return ret;
			if (early)
				p->plan.nr_before_setsid++;
		}
	}
	return 0;
}

static int plan_sessions(struct restore_tree *tree)
{
	struct restore_task *root = &tree->tasks[0];
	uint32_t *need;
	size_t i;
	int ret;

	root->plan.do_setsid = root->pstree->sid == root->pstree->pid && !tree->ctx->opts->shell_job;
	if (!root->plan.do_setsid && !tree->ctx->opts->shell_job)
		pr_warn("process %d was in session %u, which is not restored: it joins criu's (use --shell-job for a "
			"shell job)\n",
			root->pid, root->pstree->sid);
	for (i = 1; i < tree->nr; i++)
		tree->tasks[i].plan.do_setsid = tree->entries[i]->sid == tree->entries[i]->pid;
	need = xzalloc(tree->nr * sizeof(*need));
	if (!need)
		return -ENOMEM;
	ret = plan_needed_sessions(tree, need);
	root->plan.born_sid = 0;
	for (i = 1; i < tree->nr && !ret; i++)
		ret = plan_born_sid(tree, &tree->tasks[i], need);
	free(need);
	return ret ?: plan_fork_order(tree);
}

/* ---- planning groups ---- */

/* The root's group is criu's unless the root leads one of its own. */
static bool root_group_inherited(const struct restore_tree *tree)
{
	const struct restore_task *root = &tree->tasks[0];

	return root->pstree->pgid != root->pstree->pid || tree->ctx->opts->shell_job;
}

static int plan_groups(struct restore_tree *tree)
{
	size_t i;

	for (i = 0; i < tree->nr; i++) {
		struct restore_task *rt = &tree->tasks[i];
		const PstreeEntry *e = rt->pstree;

		if (rt->plan.do_setsid)
			continue;
		if (rt->is_root) {
			rt->plan.lead_group = !root_group_inherited(tree);
			continue;
		}
		if (e->pgid == e->pid) {
			rt->plan.lead_group = true;
		} else if (e->pgid == tree->tasks[0].pstree->pgid && root_group_inherited(tree)) {
			rt->plan.join_root_group = true;
		} else if (!restore_tree_find(tree, e->pgid)) {
			struct restore_helper *h = restore_tree_find_helper(tree, e->pgid);

			/* a session helper leads the group of its pid already */
			if (h && h->session)
				continue;
			if (!add_helper(tree, rt, e->pgid, false))
				return -ENOMEM;
		}
	}
	return 0;
}

static int check_helpers_free(const struct restore_tree *tree)
{
	PstreeEntry pe = PSTREE_ENTRY__INIT, *pes[1] = { &pe };
	uint32_t tid;
	size_t i;
	int ret;

	pe.n_threads = 1;
	pe.threads = &tid;
	for (i = 0; i < tree->nr_helpers; i++) {
		tid = pe.pid = tree->helpers[i].pid;
		ret = validate_pstree_ids_free(pes, 1);
		if (ret) {
			pr_err("%s %u needs a helper process with its pid\n",
			       tree->helpers[i].session ? "session" : "group", pe.pid);
			return ret;
		}
	}
	return 0;
}

int restore_tree_plan(struct restore_tree *tree)
{
	int ret;

	ret = plan_sessions(tree);
	ret = ret ?: plan_groups(tree);
	ret = ret ?: validate_pstree_ids_free(tree->entries, tree->nr);
	ret = ret ?: check_helpers_free(tree);
	/* after the plan: a terminal's session must be one that is made again */
	return ret ?: tty_validate_tree(tree);
}

int restore_tree_sync_create(struct restore_tree *tree)
{
	void *p = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		pr_perror("can't map the tree's barrier page");
		return -errno;
	}
	tree->sync = p;
	tree->sync->nr = restore_tree_nr_processes(tree);
	tree->sync->pending = tree->sync->nr;
	return 0;
}

/* ---- in the new processes ---- */

/*
 * Nobody waits forever: a process that fails exits, criu sees it and
 * kills the whole tree.
 */
static void barrier(struct tree_sync *s)
{
	uint32_t stage = __atomic_load_n(&s->stage, __ATOMIC_ACQUIRE);

	if (__atomic_sub_fetch(&s->pending, 1, __ATOMIC_ACQ_REL) == 0) {
		__atomic_store_n(&s->pending, s->nr, __ATOMIC_RELAXED);
		__atomic_store_n(&s->stage, stage + 1, __ATOMIC_RELEASE);
		syscall(SYS_futex, &s->stage, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
		return;
	}
	while (__atomic_load_n(&s->stage, __ATOMIC_ACQUIRE) == stage)
		syscall(SYS_futex, &s->stage, FUTEX_WAIT, stage, NULL, NULL, 0);
}

static int fork_one(struct restore_tree *tree, pid_t parent, pid_t pid, bool helper);

/*
 * A stand-in for a dead leader: a group's leads it while the members
 * join; a session's calls setsid() and forks the orphans first. It exits
 * once the groups are set, and its host (a subreaper) adopts the orphans.
 */
static void __attribute__((noreturn)) run_helper(struct restore_tree *tree, struct restore_helper *h)
{
	size_t i;

	if (h->session && setsid() < 0) {
		pr_perror("helper %u: can't create session %u", h->pid, h->pid);
		_exit(RESTORE_EXIT_CHILD);
	}
	for (i = 0; i < h->nr_children; i++)
		if (fork_one(tree, h->pid, tree->tasks[h->children[i]].pid, false))
			_exit(RESTORE_EXIT_CHILD);
	barrier(tree->sync);
	if (!h->session && setpgid(0, 0)) {
		pr_perror("helper %u: can't create process group %u", h->pid, h->pid);
		_exit(RESTORE_EXIT_CHILD);
	}
	barrier(tree->sync);
	barrier(tree->sync);
	_exit(0);
}

/* A child's exit signal as it was: a process made by clone() may tell its parent with another signal, or none. */
static int exit_signal_of(const struct restore_task *rt)
{
	if (rt->zombie)
		return rt->pstree->has_zombie_exit_signal ? (int)rt->pstree->zombie_exit_signal : SIGCHLD;
	return rt->core->has_exit_signal ? rt->core->exit_signal : SIGCHLD;
}

static int fork_one(struct restore_tree *tree, pid_t parent, pid_t pid, bool helper)
{
	pid_t child = restore_clone_with_pid(pid, helper ? SIGCHLD : exit_signal_of(restore_tree_find(tree, pid)));

	if (child < 0) {
		pr_err("process %d can't create %s %d\n", parent, helper ? "helper" : "child", pid);
		return -ECHILD;
	}
	if (child > 0)
		return 0;
	if (helper)
		run_helper(tree, restore_tree_find_helper(tree, pid));
	restore_child_run(restore_tree_find(tree, pid), -1);
}

/* Its orphans are adopted when a session helper exits: by this process, a subreaper from now on. */
static int fork_helpers(struct restore_task *rt)
{
	struct restore_tree *tree = rt->tree;
	size_t i;
	int ret;

	for (i = 0; i < tree->nr_helpers; i++) {
		if (tree->helpers[i].host != rt)
			continue;
		if (tree->helpers[i].session && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) {
			pr_perror("process %d: can't become a child subreaper", rt->pid);
			return -errno;
		}
		ret = fork_one(tree, rt->pid, tree->helpers[i].pid, true);
		if (ret)
			return ret;
	}
	return 0;
}

/* Its terminal too, before the children born in the session: they inherit it. */
static int lead_session(const struct restore_task *rt)
{
	if (setsid() < 0) {
		pr_perror("can't make %d a session leader", rt->pid);
		return -errno;
	}
	return tty_restore_session(rt);
}

static int fork_children(struct restore_task *rt)
{
	const struct task_plan *p = &rt->plan;
	size_t i;
	int ret;

	for (i = 0; i < p->nr_children; i++) {
		if (i == p->nr_before_setsid && p->do_setsid) {
			ret = lead_session(rt);
			if (ret)
				return ret;
		}
		ret = fork_one(rt->tree, rt->pid, rt->tree->tasks[p->children[i]].pid, false);
		if (ret)
			return ret;
	}
	if (p->nr_before_setsid == p->nr_children && p->do_setsid) {
		ret = lead_session(rt);
		if (ret)
			return ret;
	}
	return fork_helpers(rt);
}

static int join_group(const struct restore_task *rt)
{
	const struct restore_tree *tree = rt->tree;
	pid_t pgid = rt->pstree->pgid;

	if (rt->plan.do_setsid || rt->plan.lead_group || rt->is_root)
		return 0;
	if (rt->plan.join_root_group) {
		pgid = getpgid(tree->tasks[0].pid);
		if (pgid < 0) {
			pr_perror("process %d: can't get the group of the root %d", rt->pid, tree->tasks[0].pid);
			return -errno;
		}
	}
	if (setpgid(0, pgid)) {
		pr_perror("process %d: can't join process group %d", rt->pid, pgid);
		return -errno;
	}
	return 0;
}

/* Death by the saved signal, without a core file. */
static void __attribute__((noreturn)) become_zombie(const struct restore_task *rt)
{
	uint32_t status = rt->pstree->zombie_status;
	struct rlimit no_core = { 0, 0 };
	sigset_t set;

	if (rt->pstree->zombie_comm)
		prctl(PR_SET_NAME, rt->pstree->zombie_comm, 0, 0, 0);
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	setrlimit(RLIMIT_CORE, &no_core);
	signal(WTERMSIG(status), SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, WTERMSIG(status));
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	kill(getpid(), WTERMSIG(status));
	pr_err("zombie %d survived signal %d\n", rt->pid, WTERMSIG(status));
	_exit(RESTORE_EXIT_CHILD);
}

/*
 * Zombie children must be zombies before this process's memory goes, and
 * helpers reaped. The signals they sent (SIGCHLD or a zombie's own exit
 * signal) were never seen by the original: every signal blocked and
 * pending now is dropped; the restorer queues the dumped ones again.
 */
static int wait_zombies_and_helpers(const struct restore_task *rt)
{
	const struct restore_tree *tree = rt->tree;
	const struct timespec zero = {};
	uint64_t all = ~0ULL;
	siginfo_t si;
	size_t i;

	/* Helpers first: a session helper's exit gives this process its orphans, zombies included. */
	for (i = 0; i < tree->nr_helpers; i++) {
		int status;

		if (tree->helpers[i].host != rt)
			continue;
		if (waitpid(tree->helpers[i].pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			pr_err("process %d: helper %u failed\n", rt->pid, tree->helpers[i].pid);
			return -ECHILD;
		}
	}
	for (i = 0; i < tree->nr; i++) {
		const struct restore_task *c = &tree->tasks[i];

		if (!c->zombie || c->pstree->ppid != (uint32_t)rt->pid)
			continue;
		if (waitid(P_PID, c->pid, &si, WEXITED | WNOWAIT | __WALL)) {
			pr_perror("process %d: can't wait for its zombie %d", rt->pid, c->pid);
			return -errno;
		}
	}
	/* all 64 by the system call: glibc's sigfillset() leaves out 32 and 33 */
	while (syscall(SYS_rt_sigtimedwait, &all, NULL, &zero, sizeof(all)) > 0)
		;
	return 0;
}

/*
 * For the tests: the process with this pid fails once its children exist,
 * as any step of a restore might, to show that nothing is left behind.
 */
#define FAULT_ENV "CRIU_FAULT_RESTORE_PID"

static int injected_fault(const struct restore_task *rt)
{
	const char *f = getenv(FAULT_ENV);

	if (!f || atoi(f) != rt->pid)
		return 0;
	pr_err("process %d: failing on purpose (%s)\n", rt->pid, FAULT_ENV);
	return -EFAULT;
}

int restore_tree_build(struct restore_task *rt)
{
	struct tree_sync *sync = rt->tree->sync;
	int ret;

	/* the children inherit it, shared copy-on-write */
	ret = restore_premap_fill(rt);
	ret = ret ?: fork_children(rt);
	ret = ret ?: injected_fault(rt);
	if (ret)
		return ret;
	barrier(sync);
	if (rt->plan.lead_group && setpgid(0, 0)) {
		pr_perror("can't make %d a process group leader", rt->pid);
		return -errno;
	}
	barrier(sync);
	ret = join_group(rt);
	if (ret)
		return ret;
	barrier(sync);
	if (rt->zombie)
		become_zombie(rt);
	/* every group exists now: the foreground one can be set */
	ret = tty_restore_fg(rt);
	return ret ?: wait_zombies_and_helpers(rt);
}
