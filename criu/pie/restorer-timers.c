// SPDX-License-Identifier: GPL-2.0
/*
 * Timers, armed last, just before criu lets the process go: what was left
 * at the dump is left now, so the time the process was away does not count.
 */
#include <stdint.h>

#include "pie-lib.h"
#include "pie-syscall.h"
#include "restorer-int.h"

#define RST_PR_TIMER_CREATE_RESTORE_IDS 77 /* linux 6.16 */
#define RST_RESTORE_IDS_OFF 0
#define RST_RESTORE_IDS_ON 1
#define RST_SIGEV_THREAD_ID 4
#define RST_MAX_FILLERS 4096

/* The kernel's struct sigevent: 64 bytes. */
struct rst_sigevent {
	uint64_t value;
	int32_t signo;
	int32_t notify;
	int32_t tid;
	int32_t pad[11];
};

void restorer_set_itimers(struct restorer_args *args)
{
	int i;
	long ret;

	for (i = 0; i < 3; i++) {
		const struct restorer_itimer *t = &args->task.itimers[i];

		if (!t->value_sec && !t->value_usec)
			continue;
		ret = sys_setitimer(i, t, 0);
		if (ret)
			restorer_fail(args, RESTORE_EXIT_PRCTL, "Error (restorer): setitimer failed:", ret);
	}
}

static long create_timer(const struct restorer_posix_timer *t, int32_t *id)
{
	struct rst_sigevent ev = {
		.value = t->sival,
		.signo = t->signo,
		.notify = t->notify,
		.tid = t->notify == RST_SIGEV_THREAD_ID ? t->notify_tid : 0,
	};

	return sys_timer_create(t->clockid, &ev, id);
}

/*
 * Kernels before 6.16 hand out ids in increasing order: create and delete
 * fillers until the next id is the wanted one.
 */
static void create_timer_in_order(struct restorer_args *args, const struct restorer_posix_timer *t)
{
	int32_t id;
	long ret;
	int n;

	for (n = 0; n < RST_MAX_FILLERS; n++) {
		ret = create_timer(t, &id);
		if (ret)
			restorer_fail(args, RESTORE_EXIT_TIMERS, "Error (restorer): timer_create failed:", ret);
		if (id == t->id)
			return;
		sys_timer_delete(id);
		if (id > t->id)
			break;
	}
	pie_log(args->log_fd, "Error (restorer): this kernel can't give back POSIX timer id", t->id);
	restorer_fail(args, RESTORE_EXIT_TIMERS, "Error (restorer): it gave id", id);
}

static void create_posix_timers(struct restorer_args *args, const struct restorer_posix_timer *timers, uint64_t nr)
{
	long restore_ids;
	uint64_t i;

	restore_ids = args->timers_in_order ? -RST_EINVAL
					    : sys_prctl(RST_PR_TIMER_CREATE_RESTORE_IDS, RST_RESTORE_IDS_ON, 0, 0, 0);
	if (restore_ids)
		restorer_debug(args, "restorer: POSIX timers created in id order, with fillers; prctl said",
			       restore_ids);
	for (i = 0; i < nr; i++) {
		int32_t id = timers[i].id;
		long ret;

		if (restore_ids) {
			create_timer_in_order(args, &timers[i]);
			continue;
		}
		ret = create_timer(&timers[i], &id);
		if (ret || id != timers[i].id) {
			pie_log(args->log_fd, "Error (restorer): can't create POSIX timer", timers[i].id);
			restorer_fail(args, RESTORE_EXIT_TIMERS, "Error (restorer): timer_create returned", ret);
		}
	}
	if (!restore_ids)
		sys_prctl(RST_PR_TIMER_CREATE_RESTORE_IDS, RST_RESTORE_IDS_OFF, 0, 0, 0);
}

/*
 * After the threads exist (a timer may notify one of them) and after the
 * credentials, so that the timers' queued signals are counted against the
 * process's own user.
 */
void restorer_set_posix_timers(struct restorer_args *args)
{
	const struct restorer_posix_timer *timers = ptr(args->posix_timers);
	uint64_t i;
	long ret;

	if (!args->nr_posix_timers)
		return;
	create_posix_timers(args, timers, args->nr_posix_timers);
	for (i = 0; i < args->nr_posix_timers; i++) {
		const struct restorer_posix_timer *t = &timers[i];

		if (!t->value_sec && !t->value_nsec)
			continue;
		ret = sys_timer_settime(t->id, 0, &t->interval_sec, 0);
		if (ret) {
			pie_log(args->log_fd, "Error (restorer): can't arm POSIX timer", t->id);
			restorer_fail(args, RESTORE_EXIT_TIMERS, "Error (restorer): timer_settime failed:", ret);
		}
	}
}
