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

struct restore_task {
	struct cr_ctx *ctx;
	pid_t pid;
	struct validate_env env;

	/* Decoded images; every entry has passed validate.c. */
	InventoryEntry *inventory;
	PstreeEntry *pstree;
	TaskCoreEntry *core;
	MmEntry *mm;
	PagemapHead *pm_head;
	PagemapEntry **pm;
	size_t nr_pm;
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
	pid_t child; /* 0 until cloned */
	/* Every thread, the leader first, in pstree.img order. */
	struct restore_thread *threads;
	size_t nr_threads;
};

/* restore-images.c */
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

/* restore-child.c: runs in the new process; never returns. */
void restore_child_run(struct restore_task *rt, int sync_fd) __attribute__((noreturn));

/* restore-ptrace.c */
int restore_seize(pid_t pid);
int restore_threads_init(struct restore_task *rt);
int restore_finish_task(struct restore_task *rt);
int restore_detach_threads(const struct restore_task *rt);
const char *restore_exit_code_name(int code);

#endif
