/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_PARASITE_H
#define CR_PARASITE_H

/* Commands criu's parasite answers, and its argument area. Freestanding. */
#include <stdint.h>

enum {
	PARASITE_CMD_GET_MISC = 1,
	PARASITE_CMD_MPROTECT,	       /* arg = number of regions in args->iovs (base, len, prot) */
	PARASITE_CMD_DUMP_PAGES,       /* arg = number of iovs; the pipes come with the command */
	PARASITE_CMD_GET_TASK_ATTRS,   /* fills args->task_attrs */
	PARASITE_CMD_GET_THREAD_STATE, /* fills args->thread_state for the calling thread */
	PARASITE_CMD_GET_TIMERS,       /* arg = number of args->timers, whose ids are set */
	PARASITE_CMD_GET_LDT,	       /* fills args->ldt; returns its size in bytes */
};

#define PARASITE_LDT_ENTRIES 8192 /* the kernel's LDT_ENTRIES */
#define PARASITE_LDT_DESC_SIZE 8

#define PARASITE_MAX_TIMERS 256

/* A POSIX timer as timer_gettime() and timer_getoverrun() tell it. */
struct parasite_posix_timer {
	int32_t id;
	int32_t overrun;
	int64_t interval_sec, interval_nsec;
	int64_t value_sec, value_nsec;
};

struct parasite_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

#define PARASITE_NSIG 64

/* struct itimerval: interval then value, each seconds and microseconds */
struct parasite_itimer {
	int64_t interval_sec, interval_usec;
	int64_t value_sec, value_usec;
};

#define PARASITE_NR_ITIMERS 3 /* ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF */

struct parasite_misc {
	uint64_t brk;
	uint32_t umask;
	uint32_t pad;
	struct parasite_sigaction sa[PARASITE_NSIG];
	struct parasite_itimer itimers[PARASITE_NR_ITIMERS];
};

/* Per-process state only prctl() in the task itself tells. */
struct parasite_task_attrs {
	uint32_t securebits;
	uint32_t dumpable;
	uint32_t pdeathsig;
	uint32_t child_subreaper;
	uint32_t thp_disable;
	uint32_t pad;
};

/* Per-thread state only the thread itself tells. */
struct parasite_thread_state {
	uint64_t altstack_sp;
	uint64_t altstack_size;
	int32_t altstack_flags;
	uint32_t pad;
	uint64_t clear_tid_addr;
	uint64_t timer_slack_ns;
};

struct parasite_iov {
	uint64_t base;
	uint64_t len;
	uint64_t prot; /* PARASITE_CMD_MPROTECT only */
};

#define PARASITE_MAX_IOVS 8192

/*
 * PARASITE_CMD_DUMP_PAGES deals the stream of pages in chunks of
 * chunk_bytes to the pipes that come with the command, in turn: chunk j
 * goes to pipe j % nr_pipes, so each of the dumper's consumers knows which
 * bytes it gets and where they go in the image.
 */
#define PARASITE_MAX_PIPES 2

struct parasite_args {
	uint64_t chunk_bytes;
	struct parasite_misc misc;
	struct parasite_task_attrs task_attrs;
	struct parasite_thread_state thread_state;
	struct parasite_posix_timer timers[PARASITE_MAX_TIMERS];
	/* The LDT as modify_ldt(0) reads it: raw descriptors. */
	uint8_t ldt[PARASITE_LDT_ENTRIES * PARASITE_LDT_DESC_SIZE];
	struct parasite_iov iovs[PARASITE_MAX_IOVS];
};

#endif
