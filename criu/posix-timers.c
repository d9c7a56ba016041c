// SPDX-License-Identifier: GPL-2.0
/*
 * POSIX timers (timer_create). /proc/PID/timers tells each timer's id,
 * clock, signal, value and how it notifies; the parasite asks the task
 * what each has left, its interval and overrun. On restore the restorer
 * creates them again with the same ids (prctl PR_TIMER_CREATE_RESTORE_IDS,
 * kernel 6.16 and newer: timer_create() then takes the id it is given)
 * and arms them relative to now: the time the process was away does not
 * count. The overrun count can't be given back to the kernel: saved, not
 * restored.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compel/infect.h"
#include "log.h"
#include "parasite.h"
#include "posix-timers.h"
#include "util.h"

#define SIGEV_THREAD_ID_ 4

/* "signal/pid.123", "none/pid.123", "thread/pid.123" or "signal/tid.124" (SIGEV_THREAD_ID) */
static int parse_notify(const char *v, PosixTimerEntry *t, pid_t pid)
{
	char kind[16], whom[4];
	int who;

	if (sscanf(v, " %15[a-z]/%3[a-z].%d", kind, whom, &who) != 3) {
		pr_err("/proc/%d/timers: can't parse notify \"%.40s\"\n", pid, v);
		return -EIO;
	}
	if (!strcmp(kind, "signal")) {
		t->notify = SIGEV_SIGNAL;
	} else if (!strcmp(kind, "none")) {
		t->notify = SIGEV_NONE;
	} else if (!strcmp(kind, "thread")) {
		/* SIGEV_THREAD given to the system call itself: the kernel treats it as SIGEV_SIGNAL */
		t->notify = SIGEV_THREAD;
	} else {
		pr_err("/proc/%d/timers: timer %d notifies as \"%s\", not supported yet\n", pid, t->id, kind);
		return -ENOTSUP;
	}
	if (!strcmp(whom, "tid")) {
		t->notify |= SIGEV_THREAD_ID_;
		t->has_notify_tid = true;
		t->notify_tid = who;
	}
	return 0;
}

/* One line of a timer: "signal: 14/0000000000000000", "notify: ...", "ClockID: 1". */
static int parse_timer_line(const char *line, PosixTimerEntry *t, pid_t pid)
{
	unsigned long long sival;

	if (!strncmp(line, "signal:", 7)) {
		if (sscanf(line + 7, " %u/%llx", &t->signo, &sival) != 2)
			goto bad;
		t->sival = sival;
		return 0;
	}
	if (!strncmp(line, "notify:", 7))
		return parse_notify(line + 7, t, pid);
	if (!strncmp(line, "ClockID:", 8)) {
		if (sscanf(line + 8, " %d", &t->clockid) != 1)
			goto bad;
		return 0;
	}
	return 0; /* lines a newer kernel may add */
bad:
	pr_err("/proc/%d/timers: can't parse \"%.60s\"\n", pid, line);
	return -EIO;
}

/* "ID: 0" starts each timer; its other lines follow. */
static int parse_timers(pid_t pid, char *buf, struct posix_timers_dump *pt)
{
	PosixTimerEntry *t = NULL;
	char *line, *save = NULL;
	int ret;

	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "ID:", 3)) {
			if (pt->nr == PARASITE_MAX_TIMERS) {
				pr_err("process %d has more than %d POSIX timers, not supported\n", pid,
				       PARASITE_MAX_TIMERS);
				return -ENOTSUP;
			}
			t = &pt->entries[pt->nr];
			posix_timer_entry__init(t);
			t->id = atoi(line + 3);
			pt->ptrs[pt->nr++] = t;
			continue;
		}
		if (!t) {
			pr_err("/proc/%d/timers: \"%.60s\" before any ID line\n", pid, line);
			return -EIO;
		}
		ret = parse_timer_line(line, t, pid);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * A CLOCK_THREAD_CPUTIME_ID timer counts the CPU time of the thread that
 * created it, and the kernel does not say which thread that was: with
 * one thread there is no doubt, with more the timer can't be rebuilt
 * faithfully.
 */
#define CPUCLOCK_PERTHREAD 4

/*
 * CLOCK_THREAD_CPUTIME_ID itself, or a thread CPU clock of "the calling
 * thread" (tid 0 in the kernel's encoding: ~tid << 3 | flags), which is
 * what glibc passes for CLOCK_THREAD_CPUTIME_ID.
 */
static bool clock_is_creators_thread(int32_t clockid)
{
	if (clockid == CLOCK_THREAD_CPUTIME_ID)
		return true;
	return clockid < 0 && (clockid & CPUCLOCK_PERTHREAD) && ~(clockid >> 3) == 0;
}

static int refuse_thread_clock(pid_t pid, size_t nr_threads, const struct posix_timers_dump *pt)
{
	size_t i;

	if (nr_threads < 2)
		return 0;
	for (i = 0; i < pt->nr; i++) {
		if (!clock_is_creators_thread(pt->entries[i].clockid))
			continue;
		pr_err("process %d: POSIX timer %d counts the CPU time of the thread that created it, and the kernel "
		       "does not tell which of the %zu threads that is: not supported\n",
		       pid, pt->entries[i].id, nr_threads);
		return -ENOTSUP;
	}
	return 0;
}

int posix_timers_collect(pid_t pid, size_t nr_threads, struct posix_timers_dump *pt)
{
	char path[64], *buf;
	int ret;

	memset(pt, 0, sizeof(*pt));
	snprintf(path, sizeof(path), "/proc/%d/timers", pid);
	buf = read_file_at(AT_FDCWD, path, NULL);
	if (!buf) {
		pr_perror("can't read %s", path);
		return -errno;
	}
	pt->entries = xzalloc(PARASITE_MAX_TIMERS * sizeof(*pt->entries));
	pt->ptrs = xzalloc(PARASITE_MAX_TIMERS * sizeof(*pt->ptrs));
	ret = pt->entries && pt->ptrs ? parse_timers(pid, buf, pt) : -ENOMEM;
	free(buf);
	return ret ?: refuse_thread_clock(pid, nr_threads, pt);
}

int posix_timers_from_parasite(struct infect_ctx *ic, pid_t pid, struct posix_timers_dump *pt)
{
	struct parasite_args *args = compel_args(ic);
	int32_t result;
	size_t i;
	int ret;

	if (!pt->nr)
		return 0;
	for (i = 0; i < pt->nr; i++)
		args->timers[i].id = pt->entries[i].id;
	ret = compel_rpc_call(ic, PARASITE_CMD_GET_TIMERS, pt->nr, -1, &result);
	if (!ret && result) {
		pr_err("the parasite in %d can't read its POSIX timers: %s\n", pid, strerror(-result));
		ret = result;
	}
	for (i = 0; i < pt->nr && !ret; i++) {
		PosixTimerEntry *t = &pt->entries[i];

		t->interval_sec = args->timers[i].interval_sec;
		t->interval_nsec = args->timers[i].interval_nsec;
		t->value_sec = args->timers[i].value_sec;
		t->value_nsec = args->timers[i].value_nsec;
		t->has_overrun = true;
		t->overrun = args->timers[i].overrun;
	}
	if (!ret)
		pr_info("process %d: %zu POSIX timers\n", pid, pt->nr);
	return ret;
}

static int cmp_id(const void *a, const void *b)
{
	const PosixTimerEntry *x = *(PosixTimerEntry *const *)a, *y = *(PosixTimerEntry *const *)b;

	return (x->id > y->id) - (x->id < y->id);
}

/* By increasing id: the restorer creates them in that order. */
void posix_timers_to_image(struct posix_timers_dump *pt, TaskCoreEntry *core)
{
	xqsort(pt->ptrs, pt->nr, sizeof(*pt->ptrs), cmp_id);
	core->n_posix_timers = pt->nr;
	core->posix_timers = pt->ptrs;
}

void posix_timers_free(struct posix_timers_dump *pt)
{
	free(pt->entries);
	free(pt->ptrs);
	memset(pt, 0, sizeof(*pt));
}
