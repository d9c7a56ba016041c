// SPDX-License-Identifier: GPL-2.0
/*
 * timerfd: clock, remaining time, interval and expirations not read yet,
 * from fdinfo. The remaining time is restored as relative: the time
 * between dump and restore does not count against the timer (the same
 * choice as for the other timers, see Documentation/design.md). The
 * expirations are put back with TFD_IOC_SET_TICKS.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "log.h"
#include "proc-parse.h"
#include "util.h"

#define NSEC_PER_SEC 1000000000ULL
/* linux/timerfd.h clashes with glibc's fcntl.h */
#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

static int parse_pair(const char *info, const char *key, uint64_t *sec, uint64_t *nsec)
{
	const char *v = proc_status_field(info, key);
	unsigned long long a, b;

	if (!v || sscanf(v, " (%llu, %llu)", &a, &b) != 2)
		return -EIO;
	*sec = a;
	*nsec = b;
	return 0;
}

static int parse_timer(const char *info, TimerfdEntry *e)
{
	const char *clk = proc_status_field(info, "clockid"), *ticks = proc_status_field(info, "ticks");
	const char *fl = proc_status_field(info, "settime flags");

	if (!clk || !ticks || !fl)
		return -EIO;
	e->clockid = atoi(clk);
	e->ticks = strtoull(ticks, NULL, 10);
	e->settime_flags = strtoul(fl, NULL, 8);
	return parse_pair(info, "it_value", &e->value_sec, &e->value_nsec)
		       ?: parse_pair(info, "it_interval", &e->interval_sec, &e->interval_nsec);
}

static int tfd_dump(const struct fd_dump_ctx *c, FileEntry *fe)
{
	uint64_t pos;
	uint32_t flags;
	int mnt_id, ret;
	TimerfdEntry *e;
	char *info;

	ret = parse_fdinfo(c->pid, c->fd, &pos, &flags, &mnt_id);
	if (ret)
		return ret;
	e = xzalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	timerfd_entry__init(e);
	fe->tfd = e;
	e->id = fe->id;
	e->flags = flags & O_NONBLOCK;
	info = read_fdinfo(c->pid, c->fd);
	ret = info ? parse_timer(info, e) : -EIO;
	if (ret)
		pr_err("fd %d of process %d: can't read the timerfd state from fdinfo\n", c->fd, c->pid);
	free(info);
	return ret;
}

static bool clock_ok(uint32_t clk)
{
	return clk == CLOCK_REALTIME || clk == CLOCK_MONOTONIC || clk == CLOCK_BOOTTIME ||
	       clk == CLOCK_REALTIME_ALARM || clk == CLOCK_BOOTTIME_ALARM;
}

static int tfd_validate(const FileEntry *fe, size_t idx)
{
	const TimerfdEntry *e = fe->tfd;

	if (e->id != fe->id || (e->flags & ~O_NONBLOCK) || !clock_ok(e->clockid) ||
	    (e->settime_flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) || e->value_nsec >= NSEC_PER_SEC ||
	    e->interval_nsec >= NSEC_PER_SEC || e->value_sec > INT64_MAX || e->interval_sec > INT64_MAX) {
		pr_err("files.img: entry %zu (id %u): bad timerfd id, flags, clock %u or times\n", idx, fe->id,
		       e->clockid);
		return -EINVAL;
	}
	return 0;
}

static int tfd_open(const FileEntry *fe, struct file_set *set, const struct cr_options *opts)
{
	const TimerfdEntry *e = fe->tfd;
	struct itimerspec its = {
		.it_value = { e->value_sec, e->value_nsec },
		.it_interval = { e->interval_sec, e->interval_nsec },
	};
	uint64_t ticks = e->ticks;
	int fd;

	/*
	 * A periodic timer with expirations not read is stopped with no time
	 * left: the kernel rearms it on the read. Its next expiration is an
	 * interval away, as the read would make it.
	 */
	if (!e->value_sec && !e->value_nsec && (e->interval_sec || e->interval_nsec))
		its.it_value = its.it_interval;
	fd = timerfd_create(e->clockid, TFD_CLOEXEC | ((e->flags & O_NONBLOCK) ? TFD_NONBLOCK : 0));
	if (fd < 0) {
		pr_perror("can't create a timerfd on clock %u (file id %u)", e->clockid, fe->id);
		return -errno;
	}
	/* armed relative to now; disarmed stays disarmed (an all-zero value) */
	if ((its.it_value.tv_sec || its.it_value.tv_nsec) && timerfd_settime(fd, 0, &its, NULL)) {
		pr_perror("can't arm the timerfd (file id %u)", fe->id);
		close(fd);
		return -errno;
	}
	if (ticks && ioctl(fd, TFD_IOC_SET_TICKS, &ticks)) {
		pr_perror("can't give the timerfd (file id %u) its %llu expirations", fe->id,
			  (unsigned long long)ticks);
		close(fd);
		return -errno;
	}
	return fd;
}

static void tfd_free(FileEntry *fe)
{
	free(fe->tfd);
	fe->tfd = NULL;
}

const struct fd_ops timerfd_fd_ops = {
	.type = FD_TYPE__FD_TIMERFD,
	.name = "timerfd",
	.dump = tfd_dump,
	.validate = tfd_validate,
	.open = tfd_open,
	.free = tfd_free,
};
