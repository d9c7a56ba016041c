/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_LDT_H
#define CR_LDT_H

#include <stddef.h>
#include <sys/types.h>

#include "core.pb-c.h"

struct infect_ctx;

struct ldt_dump {
	LdtEntry *entries;
	LdtEntry **ptrs;
	size_t nr;
};

/* The process's LDT, read by the parasite (modify_ldt(0)) and converted to modify_ldt(1)'s form. */
int ldt_from_parasite(struct infect_ctx *ic, pid_t pid, struct ldt_dump *ld);
void ldt_to_image(struct ldt_dump *ld, TaskCoreEntry *core);
void ldt_free(struct ldt_dump *ld);

/* Checked before restore: entry numbers, limits, contents. */
int ldt_validate(const TaskCoreEntry *core, pid_t pid);
/* After the threads are validated: ds, es, fs and gs of each are null, or user selectors into the LDT's entries. */
int ldt_validate_selectors(const TaskCoreEntry *core, pid_t pid);
/* struct user_desc for each entry, at out (16 bytes each). */
void ldt_fill_restorer(const TaskCoreEntry *core, void *out);
#define LDT_USER_DESC_SIZE 16

#endif
