/* SPDX-License-Identifier: GPL-2.0 */
#ifndef COMPEL_INFECT_H
#define COMPEL_INFECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "compel/blob.h"
#include "compel/rpc.h"
#include "sigframe.h"

#define COMPEL_XSAVE_MAX (16 << 10)

#define COMPEL_UNDO_PATH_MAX 2048
#define COMPEL_UNDO_SOCKETS 256

/*
 * Shared with the guard process (see guard.c), which cleans up after a
 * dumper that died with a parasite inside the target.
 */
struct compel_journal {
	volatile int state; /* COMPEL_J_* */
	pid_t pid;
	uint64_t remote;
	uint64_t size;
	uint64_t syscall_ip;
	/*
	 * A change the dumper made outside the target that must not outlive
	 * it (a frozen cgroup): while armed, the guard undoes it by writing
	 * undo_value to undo_path if the dumper goes away.
	 */
	volatile int undo_armed;
	char undo_path[COMPEL_UNDO_PATH_MAX];
	char undo_value[16];
	/*
	 * TCP sockets of the target the dumper put in repair mode: a dumper
	 * that goes away before deciding their fate leaves them broken, so
	 * the guard takes them out of repair mode (with undo_sockets_hook,
	 * the dumper's own code: the guard is its fork) and lifts the lock.
	 */
	volatile int nr_undo_sockets;
	struct {
		pid_t pid;
		int fd;
	} undo_sockets[COMPEL_UNDO_SOCKETS];
	pid_t undo_sockets_root; /* the dumped tree's root: names its network lock */
	void (*undo_sockets_hook)(struct compel_journal *j);
	/* dumper side only */
	int guard_fd;
	pid_t guard_pid;
};

enum {
	COMPEL_J_IDLE,
	COMPEL_J_MAPPED, /* parasite area exists in the target */
	COMPEL_J_DONE,	 /* dumper finished: nothing to clean */
};

struct infect_ctx {
	pid_t pid;
	struct x86_user_regs regs; /* as the task was stopped */
	uint64_t sigmask;	   /* as the task was stopped */
	uint8_t *xsave;
	uint32_t xsave_size;
	uint64_t syscall_ip; /* a syscall instruction inside the target */
	bool sigmask_blocked;

	/* the parasite */
	int memfd;
	uint8_t *local;
	uint64_t remote;
	size_t size;
	size_t args_off, frame_off, stack_top;
	int listen_sock, sock;
	bool running;
	struct compel_journal *journal;
};

/* Registers of a task stopped after a syscall the kernel would restart. */
void compel_regs_restart_fixup(struct x86_user_regs *regs, bool keep_restart_block);

/*
 * Save regs, XSAVE state and signal mask of a seized, stopped task, find a
 * syscall instruction in it, and block its signals.
 */
int compel_prepare(struct infect_ctx *ctx, pid_t pid, struct compel_journal *journal);
int compel_syscall(struct infect_ctx *ctx, long *ret, long nr, long a1, long a2, long a3, long a4, long a5, long a6);
/* Map the blob plus args_size bytes of arguments and a stack, then start it. */
int compel_infect(struct infect_ctx *ctx, const struct compel_blob *blob, uint64_t entry, size_t args_size);
static inline void *compel_args(struct infect_ctx *ctx)
{
	return ctx->local + ctx->args_off + COMPEL_ARGS_OFFSET;
}
static inline uint64_t compel_args_remote(struct infect_ctx *ctx)
{
	return ctx->remote + ctx->args_off + COMPEL_ARGS_OFFSET;
}
/* Send a command (and optionally an fd) and wait for its reply. */
int compel_rpc_send(struct infect_ctx *ctx, uint32_t cmd, uint64_t arg, int fd);
#define COMPEL_MAX_FDS 4
int compel_rpc_send_fds(struct infect_ctx *ctx, uint32_t cmd, uint64_t arg, const int *fds, int nr_fds);
int compel_rpc_recv(struct infect_ctx *ctx, int32_t *ret);
int compel_rpc_call(struct infect_ctx *ctx, uint32_t cmd, uint64_t arg, int fd, int32_t *ret);
/*
 * Stop the parasite, unmap it, put back registers, XSAVE state and signal
 * mask. The task stays stopped under ptrace. Safe to call at any stage.
 */
int compel_cure(struct infect_ctx *ctx);
void compel_release(struct infect_ctx *ctx);

/* Wait for a ptrace stop of pid; returns the raw status or negative errno. */
int compel_wait_stop(pid_t pid, int *status);

/* Guard process: start before seizing; finish once the target is clean. */
struct compel_journal *compel_guard_start(void);
void compel_guard_finish(struct compel_journal *j);
/*
 * Have the guard write value to path if the dumper dies before
 * compel_guard_disarm_undo(). -ENAMETOOLONG if they don't fit the journal.
 */
int compel_guard_arm_undo(struct compel_journal *j, const char *path, const char *value);
void compel_guard_disarm_undo(struct compel_journal *j);
/*
 * A socket (fd of pid) the guard must give to hook if the dumper goes away;
 * -ENOSPC when the journal is full. Cleared with compel_guard_forget_sockets().
 */
int compel_guard_note_socket(struct compel_journal *j, pid_t root, pid_t pid, int fd,
			     void (*hook)(struct compel_journal *j));
void compel_guard_forget_sockets(struct compel_journal *j);

#endif
