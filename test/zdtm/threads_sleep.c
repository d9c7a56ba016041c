// SPDX-License-Identifier: GPL-2.0
/*
 * Threads blocked in the kernel when dumped: one in FUTEX_WAIT without a
 * timeout (woken only by the main thread after restore), one in FUTEX_WAIT
 * with a timeout, one in nanosleep, one in clock_nanosleep. After restore
 * each call must return as the kernel lets it after a stop: restarted
 * (0, or the futex's EAGAIN/ETIMEDOUT) or EINTR, never anything else, and
 * every thread must go on working: each counts its wake-ups, and each
 * count must grow after restore.
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NAP_NS (300 * 1000 * 1000L)

enum sleeper_kind {
	SLEEP_FUTEX,
	SLEEP_FUTEX_TIMED,
	SLEEP_NANOSLEEP,
	SLEEP_CLOCK_NANOSLEEP,
	NR_SLEEPERS,
};

static const char *const kind_names[NR_SLEEPERS] = {
	"futex wait",
	"timed futex wait",
	"nanosleep",
	"clock_nanosleep",
};

struct sleeper {
	pthread_t thread;
	enum sleeper_kind kind;
	volatile unsigned long wakeups;
	volatile int bad_errno; /* an error the kernel would not give */
	volatile uint32_t nap_word;
};

static struct sleeper sleepers[NR_SLEEPERS];
static volatile int stop;
static volatile uint32_t futex_gen; /* bumped by the main thread to wake the untimed waiter */

static long futex(volatile uint32_t *word, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, word, op, val, ts, NULL, 0);
}

/* One blocking call; returns 0 or an errno the test's contract allows, else -errno. */
static int sleep_once(struct sleeper *s, uint32_t *seen)
{
	struct timespec nap = { 0, NAP_NS };
	long ret;

	switch (s->kind) {
	case SLEEP_FUTEX:
		ret = futex(&futex_gen, FUTEX_WAIT_PRIVATE, *seen, NULL);
		if (futex_gen == *seen)
			return ret && errno != EINTR && errno != EAGAIN ? -errno : 1; /* spurious: not a wake-up */
		*seen = futex_gen;
		return ret && errno != EINTR && errno != EAGAIN ? -errno : 0;
	case SLEEP_FUTEX_TIMED:
		/* On a word nobody wakes: it sleeps the whole nap. */
		ret = futex(&s->nap_word, FUTEX_WAIT_PRIVATE, 0, &nap);
		return ret && errno != EINTR && errno != ETIMEDOUT && errno != EAGAIN ? -errno : 0;
	case SLEEP_NANOSLEEP:
		ret = nanosleep(&nap, NULL);
		return ret && errno != EINTR ? -errno : 0;
	default:
		ret = clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, NULL);
		/* clock_nanosleep returns the error instead of setting errno. */
		return ret && ret != EINTR ? -(int)ret : 0;
	}
}

static void *sleeper_main(void *arg)
{
	struct sleeper *s = arg;
	uint32_t seen = futex_gen;
	int ret;

	while (!stop) {
		ret = sleep_once(s, &seen);
		if (ret < 0) {
			s->bad_errno = -ret;
			break;
		}
		if (ret == 0)
			s->wakeups++;
	}
	return NULL;
}

static void wake_futex_waiter(void)
{
	__atomic_add_fetch(&futex_gen, 1, __ATOMIC_SEQ_CST);
	futex(&futex_gen, FUTEX_WAKE_PRIVATE, 1, NULL);
}

/* Every sleeper must wake up again within a few naps. */
static void check_progress(void)
{
	unsigned long before[NR_SLEEPERS];
	int i, tries;

	for (i = 0; i < NR_SLEEPERS; i++)
		before[i] = sleepers[i].wakeups;
	wake_futex_waiter();
	for (tries = 0; tries < 30; tries++) {
		int behind = 0;

		for (i = 0; i < NR_SLEEPERS; i++)
			behind += sleepers[i].wakeups <= before[i];
		if (!behind)
			return;
		usleep(100 * 1000);
	}
	for (i = 0; i < NR_SLEEPERS; i++)
		if (sleepers[i].wakeups <= before[i])
			fail("the %s thread did not wake up after restore (%lu wake-ups, errno %d)", kind_names[i],
			     sleepers[i].wakeups, sleepers[i].bad_errno);
}

int main(int argc, char **argv)
{
	int i;

	test_init(argc, argv);

	test_sigterm_to_main_thread(true);
	for (i = 0; i < NR_SLEEPERS; i++) {
		sleepers[i].kind = i;
		if (pthread_create(&sleepers[i].thread, NULL, sleeper_main, &sleepers[i]))
			fail("pthread_create %d", i);
	}
	test_sigterm_to_main_thread(false);
	/* Let every thread block in its call before the test is dumped. */
	usleep(100 * 1000);

	test_daemon();
	test_waitsig();

	for (i = 0; i < NR_SLEEPERS; i++)
		if (sleepers[i].bad_errno)
			fail("the %s thread got errno %d", kind_names[i], sleepers[i].bad_errno);
	check_progress();
	stop = 1;
	wake_futex_waiter();
	for (i = 0; i < NR_SLEEPERS; i++) {
		if (pthread_join(sleepers[i].thread, NULL))
			fail("pthread_join %d", i);
		if (sleepers[i].bad_errno)
			fail("the %s thread got errno %d", kind_names[i], sleepers[i].bad_errno);
	}
	pass();
}
