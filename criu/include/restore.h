/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_RESTORE_H
#define CR_RESTORE_H

/*
 * Internals of `criu restore`, shared by cr-restore.c (the driver) and
 * restore-*.c. One struct restore_task carries everything about the
 * process being restored from reading its images to detaching from it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cr-context.h"
#include "files.h"
#include "restorer-args.h"
#include "validate.h"

/* A range of this process's own address space, from /proc/self/maps. */
struct self_map {
	uint64_t start;
	uint64_t end;
};

/*
 * The restorer area, mapped in criu at the address the child will use: the
 * child inherits it with fork semantics and only adds its fd numbers.
 */
struct restore_area {
	uint8_t *base;
	size_t size;
	bool mapped; /* in criu; the child keeps its copy either way */
	struct restorer_args *args;
	struct restorer_vma *vmas;
	int32_t *close_fds;
	uint32_t max_close_fds;
	uint64_t stack_top;
	uint64_t entry;	       /* __export_restore_task */
	uint64_t syscall_insn; /* the restorer's syscall instruction, right after its int3 */
};

/* One thread of the process as criu drives it through the end of the restore. */
struct restore_thread {
	pid_t tid;
	const ThreadCoreEntry *core; /* its entry in core-PID.img */
	bool at_int3;		     /* stopped at the restorer's int3 */
	bool dead;
};

struct restore_tree;

enum { PREMAP_NONE, PREMAP_WANTED, PREMAP_FRESH, PREMAP_INHERIT };

/* How a process gets its session and group (restore-tree.c). */
struct task_plan {
	uint32_t born_sid;    /* the session it is forked in (0: criu's) */
	bool do_setsid;	      /* leads its session: setsid() between its two fork steps */
	bool lead_group;      /* setpgid(0, 0) in the leaders' stage */
	bool join_root_group; /* in the root's group, which is criu's: joins whatever the root has */
	bool via_helper;      /* forked by a session helper, then reparented to its subreaper parent */
	uint32_t *children;   /* task indexes, in fork order */
	size_t nr_children;
	size_t nr_before_setsid; /* children forked before do_setsid */
};

/*
 * A process the tree needs only while it is built, with the pid of one
 * that is gone: a dead group leader (the members join its group), or a
 * dead session leader (it calls setsid() and forks the orphans its
 * subreaper host adopted, which the host adopts again when it exits).
 */
struct restore_helper {
	uint32_t pid;
	bool session;
	struct restore_task *host; /* forks it, reaps it */
	uint32_t *children;	   /* task indexes a session helper forks */
	size_t nr_children;
};

struct restore_task {
	struct cr_ctx *ctx;
	struct restore_tree *tree;
	size_t index; /* in tree->tasks, pstree.img order */
	pid_t pid;
	const struct validate_env *env;
	bool zombie; /* exits with pstree->zombie_status once the groups are set */
	bool is_root;
	struct task_plan plan;

	/* Decoded images; every entry has passed validate.c. Zombies have only pstree. */
	PstreeEntry *pstree;
	TaskCoreEntry *core;
	MmEntry *mm;
	PagemapHead *pm_head;
	PagemapEntry **pm; /* PE_PRESENT entries: in this process's pages image */
	size_t nr_pm;
	PagemapEntry **cow_pm; /* PE_COW entries: in an ancestor's */
	size_t nr_cow_pm;
	/* Where the PE_COW pages are (restore-cow.c): runs in the ancestors' pages images. */
	struct restorer_run *xruns;
	size_t nr_xruns, xruns_cap;
	pid_t srcs[RESTORER_MAX_SOURCES]; /* ancestors, by index of xruns[].src */
	uint64_t *pm_off;		  /* offset of each pm entry in the pages image */
	/* Premapped VMAs (restore-premap.c): PREMAP_* and arena address per vma of mm; NULL: none. */
	uint8_t *premap;
	uint64_t *premap_addr;
	int src_fds[RESTORER_MAX_SOURCES]; /* criu's dups of their pages images */
	size_t nr_srcs;
	uint64_t pages_size;
	struct task_files files;
	bool have_files;
	struct fs_state fs;
	bool have_fs;

	/* Opened by criu before the child exists, inherited by it. */
	int pages_fd;
	int exe_fd;
	int *vma_fds; /* per vma of mm; -1: anonymous or special */

	struct restore_area area;
	pid_t child; /* 0 until cloned (the root), or known to be created (others) */
	/* Every thread, the leader first, in pstree.img order. */
	struct restore_thread *threads;
	size_t nr_threads;
};

/*
 * The whole tree being restored. The processes meet at barriers in a
 * shared page (struct tree_sync, restore-tree.c) while they set sessions
 * and groups; criu only drives them through ptrace.
 */
struct tree_sync;
struct shm_obj;

struct restore_tree {
	struct cr_ctx *ctx;
	struct validate_env env;
	InventoryEntry *inventory;
	PstreeEntry **entries; /* pstree.img, parents first */
	struct restore_task *tasks;
	size_t nr;
	struct file_set files;
	struct tree_sync *sync;
	struct shm_obj *shm; /* shared memory objects (restore-shm.c) */
	size_t nr_shm;
	struct restore_helper *helpers;
	size_t nr_helpers, helpers_cap;
	uint64_t arena_start, arena_size; /* premapped memory, reserved in criu */
	int max_fd;			  /* highest fd number of any process */
	bool subreaper_set;
};

/* restore-tree.c */
int restore_tree_read(struct restore_tree *tree);
int restore_tree_plan(struct restore_tree *tree);
int restore_tree_sync_create(struct restore_tree *tree);
void restore_tree_free(struct restore_tree *tree);
struct restore_task *restore_tree_find(const struct restore_tree *tree, pid_t pid);
struct restore_helper *restore_tree_find_helper(const struct restore_tree *tree, pid_t pid);
/* In a new process: create its children, then take part in the session and group stages. */
int restore_tree_build(struct restore_task *rt);
/* Every process, zombies and helpers included, the tree creates. */
size_t restore_tree_nr_processes(const struct restore_tree *tree);

/* restore-cow.c */
int restore_cow_resolve(struct restore_tree *tree);
void restore_cow_close(struct restore_task *rt);

/* restore-premap.c */
int restore_premap_plan(struct restore_tree *tree);
void restore_premap_release(struct restore_tree *tree);
/* Is v built before the fork (and where, in the arena)? */
bool restore_premapped(const struct restore_task *rt, const VmaEntry *v, uint64_t *addr);
/* In the new process, before it forks: build and fill its premapped VMAs. */
int restore_premap_fill(struct restore_task *rt);

/* restore-shm.c */
int restore_shm_collect(struct restore_tree *tree);
int restore_shm_create(struct restore_tree *tree);
/* A new fd (criu's) of the object v maps. */
int restore_shm_open(const struct restore_tree *tree, const VmaEntry *v);
void restore_shm_close(struct restore_tree *tree);
void restore_shm_free(struct restore_tree *tree);

/* restore-images.c */
int restore_read_inventory(struct restore_tree *tree);
int restore_read_images(struct restore_task *rt);
int restore_open_helpers(struct restore_task *rt);
void restore_close_helpers(struct restore_task *rt);
void restore_free_images(struct restore_task *rt);

/* restore-area.c */
int restore_area_create(struct restore_task *rt);
void restore_area_destroy(struct restore_task *rt);

/* restore-vmas.c: the restorer's VMA list and page runs. */
struct vma_list_dest {
	struct restorer_vma *vmas; /* in the area */
	char *names;		   /* in the area, at names_addr in the child */
	uint64_t names_addr;
	size_t nr;	       /* out: VMAs listed */
	uint64_t scratch_size; /* out: room RVMA_ISOLATE needs, 0 if none */
};

size_t restore_count_runs(const struct restore_task *rt);
size_t restore_names_size(const struct restore_task *rt);
size_t restore_count_vma_fds(const struct restore_task *rt);
int restore_build_vmas(const struct restore_task *rt, struct vma_list_dest *d);
/* Returns the number of runs; *bytes gets their total, the pages image size. */
size_t restore_build_runs(const struct restore_task *rt, const struct restorer_vma *rv, size_t nr_vmas,
			  struct restorer_run *runs, uint64_t *bytes);

/*
 * restore-child.c: runs in the new process; never returns. sync_fd: the
 * root waits on it until criu traces it; -1 for the others, traced from
 * birth.
 */
void restore_child_run(struct restore_task *rt, int sync_fd) __attribute__((noreturn));
/* clone3 with set_tid (ns_last_pid on older kernels): 0 in the child, as fork(). */
/*
 * exit_signal: what the parent gets when it ends (SIGCHLD for the root,
 * whose parent is criu, and for helpers). Without clone3 it is SIGCHLD.
 */
pid_t restore_clone_with_pid(pid_t pid, int exit_signal);

/* restore-ptrace.c */
int restore_seize(pid_t pid);
int restore_threads_init(struct restore_task *rt);
/* Until every thread of every live process stopped at its restorer's int3. */
int restore_wait_tree_int3s(struct restore_tree *tree);
int restore_finish_task(struct restore_task *rt);
int restore_detach_threads(const struct restore_task *rt);
const char *restore_exit_code_name(int code);

#endif
