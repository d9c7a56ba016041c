/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_CREDS_H
#define CR_CREDS_H

/*
 * Credentials of a process: ids, groups, capabilities, securebits,
 * no_new_privs and dumpable. Dumped from /proc/PID/status and the parasite,
 * applied last by the restorer (see Documentation/design.md for the order).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.pb-c.h"
#include "parasite.h"
#include "restorer-args.h"

enum { CREDS_REAL, CREDS_EFFECTIVE, CREDS_SAVED, CREDS_FS, CREDS_NR_IDS };

struct dump_creds {
	uint32_t uids[CREDS_NR_IDS];
	uint32_t gids[CREDS_NR_IDS];
	uint32_t *groups;
	size_t nr_groups;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	bool no_new_privs;
};

/* Read /proc/PID/status; a process under seccomp is refused by name. */
int creds_collect(pid_t pid, struct dump_creds *c);
void creds_free(struct dump_creds *c);
/* e->groups points into c: c must outlive e. */
void creds_to_image(const struct dump_creds *c, const struct parasite_task_attrs *attrs, CredsEntry *e);

/* The restorer's copy; groups are stored at groups (at groups_addr in the child). */
void creds_fill_restorer(const CredsEntry *e, struct restorer_creds *rc, uint32_t *groups, uint64_t groups_addr);

#endif
