/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_PAGE_XFER_H
#define CR_PAGE_XFER_H

#include <stddef.h>

struct infect_ctx;
struct page_run;

/*
 * Move the pages of runs from the task (its parasite vmsplices them) into
 * img_fd, in order, through pipes drained by as many consumers.
 */
int page_xfer_dump(struct infect_ctx *ic, const struct page_run *runs, size_t nr_runs, int img_fd,
		   const char *img_name);

#endif
