/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_LOG_H
#define CR_LOG_H

#include <errno.h>

/* Verbosity levels follow CRIU's -v0..-v4. */
enum {
	LOG_MSG = 0, /* always printed, on stdout-ish channel */
	LOG_ERROR = 1,
	LOG_WARN = 2,
	LOG_INFO = 3,
	LOG_DEBUG = 4,
};

int log_init(const char *path, int dirfd);
int log_get_fd(void);
/* From now on log only to fd (a restored child whose fds 1 and 2 are the target's). */
void log_set_fd(int fd);
void log_set_loglevel(int level);
int log_get_loglevel(void);
void log_set_prefix(const char *prefix);
void log_close(void);
void print_on_level(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifndef LOG_PREFIX
#define LOG_PREFIX
#endif

#define pr_msg(fmt, ...) print_on_level(LOG_MSG, fmt, ##__VA_ARGS__)
#define pr_err(fmt, ...) print_on_level(LOG_ERROR, "Error (%s:%d): " LOG_PREFIX fmt, __FILE__, __LINE__, ##__VA_ARGS__)
#define pr_warn(fmt, ...) print_on_level(LOG_WARN, "Warn  (%s:%d): " LOG_PREFIX fmt, __FILE__, __LINE__, ##__VA_ARGS__)
#define pr_info(fmt, ...) print_on_level(LOG_INFO, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) print_on_level(LOG_DEBUG, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_perror(fmt, ...) pr_err(fmt ": %m\n", ##__VA_ARGS__)

#endif
