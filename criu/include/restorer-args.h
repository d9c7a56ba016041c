/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_RESTORER_ARGS_H
#define CR_RESTORER_ARGS_H

/*
 * The contract between the restore driver (criu, with libc) and the
 * restorer blob (freestanding, criu/pie/restorer*.c).
 *
 * criu maps one "restorer area" at an address that is free both in its own
 * layout and in the target's, and lays it out as:
 *
 *   [blob][stack][helper stack][args | vmas | runs | close_fds | auxv | names | groups | sigframe | xsave]
 *   [threads | their sigframes][their stacks][park]
 *
 * The restored child inherits the area, fills in the fd numbers it ends up
 * with, switches to the stack and calls restorer_sym_restore_task(args).
 * Every address below is absolute and points inside the area, so the
 * restorer can use it after everything outside the area is gone. Only
 * fixed-size integer types are used so that both sides agree on the layout.
 */
#include <stdint.h>
#include <linux/prctl.h>

#define RESTORER_ARGS_MAGIC 0x5253544f52455231ULL /* "RSTORER1" */
#define RESTORER_STACK_SIZE (128u << 10)
/* A second thread copies pages on a second CPU when there are many. */
#define RESTORER_HELPER_STACK_SIZE (64u << 10)
/* Each thread but the leader runs its part of the restorer on a stack of its own. */
#define RESTORER_THREAD_STACK_SIZE (64u << 10)
#define RESTORER_NR_SIGNALS 64
/* preadv takes at most IOV_MAX (1024) iovecs per call. */
#define RESTORER_IOV_BATCH 1024
/* Part of the pages image mapped at a time as the source of UFFDIO_COPY. */
#define RESTORER_UFFD_WINDOW (64ULL << 20)

/* Kernel special mappings that follow the process rather than its images. */
enum restorer_special_kind {
	RESTORER_SPECIAL_VVAR,
	RESTORER_SPECIAL_VVAR_VCLOCK,
	RESTORER_SPECIAL_VDSO,
	RESTORER_SPECIAL_MAX,
};

struct restorer_special {
	uint64_t cur_start; /* where criu (and so the child) has it; 0: absent */
	uint64_t size;
	uint64_t park_start;   /* inside the area's park region */
	uint64_t target_start; /* where the target had it; 0: drop it */
};

/* How the restorer builds a VMA (restorer_vma.how). */
#define RVMA_FILL 0x1 /* page data lands here: map it writable until filled */
/*
 * The VMA must own an anon_vma before it meets its neighbour: in the target
 * the kernel kept the two apart (fork-inherited anon_vmas, for instance),
 * while fresh twins would merge into one and change /proc/PID/maps.
 */
#define RVMA_TOUCH 0x2
/* Build it in the scratch range, touch it there, then mremap it into place. */
#define RVMA_ISOLATE 0x4
/* Private anonymous memory to fill: registered with userfaultfd for UFFDIO_COPY. */
#define RVMA_UFFD 0x8
/*
 * Built and filled before the fork at premap (in the arena), shared
 * copy-on-write with the parent's: mremap it into place, nothing to fill.
 */
#define RVMA_PREMAP 0x10

/* One VMA of the target, mapped by the restorer exactly once. */
struct restorer_vma {
	uint64_t start;
	uint64_t end;
	uint64_t pgoff;	    /* bytes */
	uint64_t madv;	    /* bit n set: madvise(start, len, n) */
	uint64_t anon_name; /* address of a NUL-terminated name or 0 */
	uint32_t prot;	    /* final protection */
	uint32_t map_flags; /* MAP_* for mmap, without MAP_FIXED */
	int32_t fd;	    /* -1 for anonymous memory; set by the child */
	uint32_t how;	    /* RVMA_* */
	uint32_t lock;	    /* mlock() it once its pages are in (it was VM_LOCKED) */
	uint32_t pad;
	uint64_t premap; /* RVMA_PREMAP: where it is, in the arena */
};

/* Same layout as struct iovec, for preadv. */
struct restorer_iov {
	uint64_t base;
	uint64_t len;
};

/* The run may be filled with UFFDIO_COPY: it lies in one RVMA_UFFD VMA. */
#define RRUN_UFFD 0x1

/* One run of pages: consecutive in memory and in the pages image. */
struct restorer_run {
	uint64_t base;
	uint64_t len;
	uint64_t off; /* in the pages image */
	uint32_t how; /* RRUN_* */
	uint32_t src; /* xruns only: index in src_fds */
};

/* Ancestors whose pages images hold pages a process still shared copy-on-write at dump. */
#define RESTORER_MAX_SOURCES 16

/* The kernel's struct flock on x86_64, and the fd to take it through. */
struct restorer_lock {
	int16_t type; /* F_RDLCK or F_WRLCK */
	int16_t whence;
	int32_t pad;
	int64_t start;
	int64_t len;
	int32_t pid;
	int32_t fd;
};

/* The kernel's struct sigaction for rt_sigaction on x86_64. */
struct restorer_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

/* Which parts of struct restorer_thread_state the image had (old images lack them). */
#define RTS_RSEQ 0x1
#define RTS_CLEAR_TID 0x2
#define RTS_ROBUST_LIST 0x4
#define RTS_SCHED 0x8
#define RTS_TIMER_SLACK 0x10

/* Per-thread state the restorer sets in the thread itself, just before rt_sigreturn. */
struct restorer_thread_state {
	uint32_t present; /* RTS_* */
	uint32_t rseq_size;
	uint64_t rseq_pointer;
	uint32_t rseq_signature;
	uint32_t rseq_flags;
	uint64_t clear_tid_addr;
	uint64_t robust_head;
	uint64_t robust_len;
	uint32_t sched_policy;
	uint32_t sched_priority;
	int32_t sched_nice;
	uint32_t sched_reset_on_fork;
	uint64_t timer_slack_ns;
};

/* Credentials, applied last (criu/pie/restorer-creds.c). Ids: real, effective, saved, fs. */
struct restorer_creds {
	uint32_t present;
	uint32_t nr_groups;
	uint64_t groups; /* uint32_t[nr_groups] in the area */
	uint32_t uids[4];
	uint32_t gids[4];
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	uint32_t cap_last_cap; /* highest capability this kernel knows */
	uint32_t securebits;
	uint32_t no_new_privs;
	int32_t dumpable; /* -1: leave it as the credential change made it */
};

/* One thread besides the leader, created by the restorer with its own tid. */
struct restorer_thread {
	int32_t tid;
	uint32_t pad;
	uint64_t stack_top; /* 16-byte aligned */
	uint64_t sigframe;  /* like restorer_args.sigframe: every signal blocked */
	uint64_t fs_base;
	uint64_t gs_base;
	char comm[16]; /* NUL-terminated; empty: keep the leader's */
	struct restorer_thread_state state;
	uint64_t sigs; /* siginfo_t[nr_sigs] queued for this thread, in order */
	uint64_t nr_sigs;
};

#define RESTORER_SIGINFO_SIZE 128

#define RESTORER_NR_RLIMITS 16

/* Same layout as struct rlimit64 for prlimit64. */
struct restorer_rlimit {
	uint64_t cur;
	uint64_t max;
};

/* Same layout as struct itimerval: interval then value, seconds and microseconds. */
struct restorer_itimer {
	int64_t interval_sec, interval_usec;
	int64_t value_sec, value_usec;
};

/* A POSIX timer to create with its id, then arm relative to now. */
struct restorer_posix_timer {
	int32_t id;
	int32_t clockid;
	int32_t notify; /* SIGEV_SIGNAL, SIGEV_NONE or SIGEV_THREAD_ID */
	int32_t signo;
	uint64_t sival;
	int32_t notify_tid;
	int32_t pad;
	/* Same layout as struct itimerspec: interval then value. */
	int64_t interval_sec, interval_nsec;
	int64_t value_sec, value_nsec;
};

/* Process attributes set with prctl(); -1: the image does not say, leave it. */
struct restorer_task_attrs {
	struct restorer_itimer itimers[3]; /* ITIMER_REAL, _VIRTUAL, _PROF; all zero: disarmed */
	int32_t pdeathsig;
	uint32_t nr_rlimits; /* rlimits[i] is resource i */
	struct restorer_rlimit rlimits[RESTORER_NR_RLIMITS];
};

struct restorer_args {
	uint64_t magic;
	uint64_t area_start;
	uint64_t area_size;
	/* Premapped memory of the tree (RVMA_PREMAP), spared by the big unmap; 0: none. */
	uint64_t arena_start;
	uint64_t arena_size;

	int32_t log_fd; /* set by the child; -1: no logging */
	int32_t log_level;
	int32_t pages_fd; /* set by the child */
	uint32_t nr_close_fds;
	uint64_t close_fds; /* int32_t[nr_close_fds]: helper fds, closed before return */
	/*
	 * POSIX locks to take once the helper fds are closed: closing any fd
	 * of a file drops the process's POSIX locks on it.
	 */
	uint64_t posix_locks; /* struct restorer_lock[nr_posix_locks] */
	uint64_t nr_posix_locks;
	/* Signals queued: for the whole process, then for the leader (siginfo_t each, in order). */
	uint64_t sigs;
	uint64_t nr_shared_sigs;
	uint64_t nr_sigs;
	uint64_t posix_timers; /* struct restorer_posix_timer[nr_posix_timers], by increasing id */
	uint64_t nr_posix_timers;
	uint64_t ldt; /* struct user_desc (16 bytes)[nr_ldt], installed before the threads exist */
	uint64_t nr_ldt;
	/* Create them in id order even if the kernel can take ids (tests of the old-kernel way). */
	uint32_t timers_in_order;
	uint32_t pad0;

	uint64_t vmas; /* struct restorer_vma[nr_vmas], ascending */
	uint64_t nr_vmas;
	uint64_t runs; /* struct restorer_run[nr_runs], in pages image order */
	uint64_t nr_runs;
	uint64_t pages_bytes; /* sum of the runs' lengths */
	uint64_t pages_size;  /* the pages image's size (premapped pages are in it, not in runs) */
	/* Runs in ancestors' pages images, read once the own runs are in. */
	uint64_t xruns; /* struct restorer_run[nr_xruns] */
	uint64_t nr_xruns;
	int32_t src_fds[RESTORER_MAX_SOURCES]; /* set by the child */
	uint32_t nr_srcs;
	uint64_t helper_stack_top; /* 16-byte aligned */
	int32_t helper_tid;	   /* cleared by the kernel when the helper thread exits */
	uint32_t nr_cpus;	   /* CPUs criu may run on: more than one allows the helper */
	/* Free in the target's layout and outside the area: room to build RVMA_ISOLATE VMAs. */
	uint64_t scratch_start;
	uint64_t scratch_size;

	struct restorer_special specials[RESTORER_SPECIAL_MAX];
	/* The target's old vDSO, rebuilt as a proxy to the new one (0: none; see restore-vdso.c). */
	uint64_t vdso_proxy_start;
	uint64_t vdso_proxy_size;
	uint64_t vdso_proxy_image; /* in the area */

	/* auxv points into the area; exe_fd is set by the child. */
	struct prctl_mm_map mm_map;

	struct restorer_sigaction sigactions[RESTORER_NR_SIGNALS]; /* [i]: signal i + 1 */
	uint64_t fs_base;
	uint64_t gs_base;

	/*
	 * A ready rt_sigframe holding the target's registers and FPU state,
	 * with every signal blocked (criu sets the real mask by ptrace once
	 * the area is gone); rt_sigreturn reads it from rsp - 8.
	 */
	uint64_t sigframe;

	struct restorer_thread_state thread;
	struct restorer_task_attrs task;
	struct restorer_creds creds;

	/* The other threads, in pstree.img order. */
	uint64_t threads; /* struct restorer_thread[nr_threads] */
	uint32_t nr_threads;
	/*
	 * Threads that have set their credentials and per-thread attributes:
	 * the leader waits (futex) for all of them before setting dumpable,
	 * which every credential change resets, and before its int3.
	 */
	int32_t threads_ready;
};

/*
 * Exit codes of the child when the restore fails before the target runs.
 * The details are in the log; the parent names the failing step.
 */
enum restore_exit_code {
	RESTORE_EXIT_CHILD = 70, /* child setup, before the restorer */
	RESTORE_EXIT_BAD_ARGS = 80,
	RESTORE_EXIT_PARK_SPECIAL,
	RESTORE_EXIT_UNMAP,
	RESTORE_EXIT_MOVE_SPECIAL,
	RESTORE_EXIT_MAP_VMA,
	RESTORE_EXIT_MADVISE,
	RESTORE_EXIT_READ_PAGES,
	RESTORE_EXIT_COPY_PAGES,
	RESTORE_EXIT_PROTECT,
	RESTORE_EXIT_CLOSE_FD,
	RESTORE_EXIT_SET_MM,
	RESTORE_EXIT_SIGACTION,
	RESTORE_EXIT_ARCH_PRCTL,
	RESTORE_EXIT_SCHED,
	RESTORE_EXIT_RLIMIT,
	RESTORE_EXIT_THREAD_STATE,
	RESTORE_EXIT_PRCTL,
	RESTORE_EXIT_CREDS,
	RESTORE_EXIT_THREADS,
	RESTORE_EXIT_TIMERS,
	RESTORE_EXIT_LDT,
	RESTORE_EXIT_MAX,
};

#endif
