// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdbool.h>
#include <time.h>

#include "log.h"

/*
 * One log channel per process. Messages at or below the level go to the
 * log file (stderr when none); errors also go to stderr when a log file is
 * used, so that a user running without -o or -v still sees why it failed.
 */
static int log_fd = 2;
/* Set by log_set_fd(): write to log_fd only, never to fds 1 and 2. */
static bool log_fd_only;
static int log_level = LOG_WARN;
static char log_prefix[32];
static struct timespec log_start;

int log_init(const char *path, int dirfd)
{
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &log_start);
	if (!path || !strcmp(path, "-")) {
		log_fd = 2;
		return 0;
	}
	fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "Error: can't open log file %s: %m\n", path);
		return -1;
	}
	log_fd = fd;
	return 0;
}

void log_set_fd(int fd)
{
	log_fd = fd;
	log_fd_only = true;
}

int log_get_fd(void)
{
	return log_fd;
}

void log_set_loglevel(int level)
{
	log_level = level;
}

int log_get_loglevel(void)
{
	return log_level;
}

void log_set_prefix(const char *prefix)
{
	snprintf(log_prefix, sizeof(log_prefix), "%s", prefix ? prefix : "");
}

void log_close(void)
{
	if (log_fd > 2)
		close(log_fd);
	log_fd = 2;
}

static void log_write(int fd, const char *buf, size_t len)
{
	ssize_t ret = write(fd, buf, len);

	(void)ret;
}

void print_on_level(int level, const char *fmt, ...)
{
	char buf[4096];
	struct timespec ts;
	va_list args;
	int saved_errno = errno;
	int off = 0, len;

	if (level > log_level)
		return;
	if (!log_start.tv_sec && !log_start.tv_nsec)
		clock_gettime(CLOCK_MONOTONIC, &log_start);
	if (level != LOG_MSG) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec -= log_start.tv_sec;
		ts.tv_nsec -= log_start.tv_nsec;
		if (ts.tv_nsec < 0) {
			ts.tv_nsec += 1000000000;
			ts.tv_sec--;
		}
		off = snprintf(buf, sizeof(buf), "(%02ld.%06ld) %s", (long)ts.tv_sec, ts.tv_nsec / 1000, log_prefix);
	}
	va_start(args, fmt);
	errno = saved_errno;
	len = vsnprintf(buf + off, sizeof(buf) - off, fmt, args);
	va_end(args);
	len += off;
	if (len >= (int)sizeof(buf))
		len = sizeof(buf) - 1;

	/* nowhere to report a failed log write: ignore it */
	if (log_fd_only) {
		log_write(log_fd, buf, len);
	} else if (level == LOG_MSG) {
		log_write(1, buf, len);
		if (log_fd > 2)
			log_write(log_fd, buf, len);
	} else {
		log_write(log_fd, buf, len);
		if (level == LOG_ERROR && log_fd > 2)
			log_write(2, buf + off, len - off);
	}
	errno = saved_errno;
}
