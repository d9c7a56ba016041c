/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_RESTORER_INT_H
#define CR_RESTORER_INT_H

/* Shared by the files of the restorer blob (criu/pie/restorer*.c). */
#include <stdbool.h>

#include "restorer-args.h"

#define RST_PAGE_SIZE 4096UL
#define RST_EINTR 4
#define RST_EAGAIN 11
#define RST_EEXIST 17
#define RST_EINVAL 22

#define ptr(addr) ((void *)(unsigned long)(addr))
#define RST_STR_(x) #x
#define RST_STR(x) RST_STR_(x)

/* Log what failed (and err) to the log fd, then exit_group(code). */
void restorer_fail(const struct restorer_args *args, int code, const char *what, long err) __attribute__((noreturn));
/* Log at -v4 only. */
void restorer_debug(const struct restorer_args *args, const char *what, long num);

/*
 * restorer-task.c, in this order after the memory exists; restorer-creds.c
 * between. Every thread runs the per-thread ones (t: its own state).
 */
void restorer_set_sched(struct restorer_args *args, const struct restorer_thread_state *t);
void restorer_set_thread_state(struct restorer_args *args, const struct restorer_thread_state *t);
void restorer_set_rlimits(struct restorer_args *args);
void restorer_set_creds(struct restorer_args *args);
void restorer_set_final_attrs(struct restorer_args *args);
void restorer_set_dumpable(struct restorer_args *args);
void restorer_register_rseq(struct restorer_args *args, const struct restorer_thread_state *t);

/* restorer.c: load rsp with the frame, stop on int3, rt_sigreturn. */
void restorer_sigreturn(uint64_t frame_sp) __attribute__((noreturn));

/* restorer-threads.c: create the other threads; wait until they are ready. */
void restorer_create_threads(struct restorer_args *args);
void restorer_wait_threads(struct restorer_args *args);

/* restorer-pages.c: put the page data of the pages image into place. */
void restorer_fill_pages(struct restorer_args *args);
void restorer_fill_cow_pages(struct restorer_args *args);
void restorer_queue_signals(struct restorer_args *args, uint64_t sigs, uint64_t nr, int whole_process);

/* restorer-timers.c: interval and POSIX timers, armed last. */
void restorer_set_itimers(struct restorer_args *args);
void restorer_set_posix_timers(struct restorer_args *args);

#endif
