/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_PROC_PARSE_H
#define CR_PROC_PARSE_H

#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>

#define PF_KTHREAD_FLAG 0x00200000
#define PF_EXITING_FLAG 0x00000004

struct proc_stat {
	pid_t pid;
	char comm[64];
	char state;
	pid_t ppid, pgid, sid;
	uint32_t tty_nr; /* the controlling terminal's device (encoded as by the kernel), 0: none */
	unsigned long flags;
	long num_threads;
	int exit_signal;
	int exit_code; /* of a zombie, in waitpid() format */
	uint64_t start_code, end_code, start_stack;
	uint64_t start_data, end_data, start_brk;
	uint64_t arg_start, arg_end, env_start, env_end;
};

struct proc_status {
	pid_t tgid, ppid, tracer_pid;
	int threads;
	uint64_t sig_blk;
};

/* smaps VmFlags we care about */
#define VMF_GROWSDOWN (1u << 0)	 /* gd */
#define VMF_SHARED (1u << 1)	 /* sh */
#define VMF_DONTCOPY (1u << 2)	 /* dc */
#define VMF_DONTDUMP (1u << 3)	 /* dd */
#define VMF_HUGEPAGE (1u << 4)	 /* hg */
#define VMF_NOHUGEPAGE (1u << 5) /* nh */
#define VMF_MERGEABLE (1u << 6)	 /* mg */
#define VMF_WIPEONFORK (1u << 7) /* wf */
#define VMF_LOCKED (1u << 8)	 /* lo */
#define VMF_IO (1u << 9)	 /* io */
#define VMF_PFNMAP (1u << 10)	 /* pf */
#define VMF_MIXEDMAP (1u << 11)	 /* mm */
#define VMF_MAYWRITE (1u << 12)	 /* mw */

struct proc_vma {
	uint64_t start, end, pgoff;
	uint32_t prot;
	bool shared;
	unsigned dev_major, dev_minor;
	uint64_t ino;
	uint32_t vmflags;
	char *path; /* maps label or path, "" for anonymous */
};

struct proc_vmas {
	struct proc_vma *v;
	size_t nr;
};

int parse_proc_stat(pid_t pid, struct proc_stat *st);
int parse_proc_status(pid_t pid, struct proc_status *st);
/* /proc/PID/task/TID/status, malloc'ed; NULL (logged) on failure. */
char *read_task_status(pid_t pid, pid_t tid);
/* The text after "key:" in a status buffer, or NULL. */
const char *proc_status_field(const char *buf, const char *key);
/* A hex field (signal and capability masks) of a status buffer, 0 if absent. */
uint64_t proc_status_hex(const char *buf, const char *key);
int parse_proc_smaps(pid_t pid, struct proc_vmas *vmas);
void proc_vmas_free(struct proc_vmas *vmas);
/* /proc/PID/fdinfo/FD: pos, flags (octal, as shown) and mnt_id */
int parse_fdinfo(pid_t pid, int fd, uint64_t *pos, uint32_t *flags, int *mnt_id);
/* /proc/PID/fdinfo/FD as text (malloc'ed; NULL, logged, on failure); look keys up with proc_status_field(). */
char *read_fdinfo(pid_t pid, int fd);
int read_proc_link(pid_t pid, const char *name, char *buf, size_t size);

#endif
