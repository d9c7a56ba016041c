/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_CONTEXT_H
#define CR_CONTEXT_H

#include "options.h"

/* What every command gets: its options and the directories it works in. */
struct cr_ctx {
	struct cr_options *opts;
	int imgdir_fd;	/* images directory */
	int workdir_fd; /* work directory (logs, pidfile default), images dir if unset */
};

int cr_dump(struct cr_ctx *ctx);
int cr_restore(struct cr_ctx *ctx);
int cr_check(struct cr_ctx *ctx);
int cr_show(struct cr_ctx *ctx, const char *path);

#endif
