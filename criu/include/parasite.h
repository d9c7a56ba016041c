/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_PARASITE_H
#define CR_PARASITE_H

/* Commands criu's parasite answers, and its argument area. Freestanding. */
#include <stdint.h>

enum {
	PARASITE_CMD_GET_MISC = 1,
	PARASITE_CMD_MPROTECT,	 /* arg = number of regions in args->iovs (base, len, prot) */
	PARASITE_CMD_DUMP_PAGES, /* arg = number of iovs; the pipe comes with the command */
};

struct parasite_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

#define PARASITE_NSIG 64

struct parasite_misc {
	uint64_t brk;
	uint32_t umask;
	uint32_t pad;
	struct parasite_sigaction sa[PARASITE_NSIG];
};

struct parasite_iov {
	uint64_t base;
	uint64_t len;
	uint64_t prot; /* PARASITE_CMD_MPROTECT only */
};

#define PARASITE_MAX_IOVS 8192

struct parasite_args {
	struct parasite_misc misc;
	struct parasite_iov iovs[PARASITE_MAX_IOVS];
};

#endif
