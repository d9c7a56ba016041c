// SPDX-License-Identifier: GPL-2.0
/*
 * Per-thread state that differs between threads: the name (comm), the
 * alternate signal stack, the blocked signal mask, the scheduling policy
 * and nice value, and the rseq registration glibc made in every thread.
 * After restore each thread checks its own, and that the kernel still
 * updates its rseq area: moved to another CPU, the thread must find that
 * CPU's number in rseq's cpu_id.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NR_WORKERS 4
#define ALTSTACK_SIZE (64 << 10)

struct worker {
	pthread_t thread;
	int index;
	char name[16];
	int policy;
	int nice;
	sigset_t blocked;
	char altstack[ALTSTACK_SIZE] __attribute__((aligned(16)));
	char error[160]; /* empty: every check passed */
};

static struct worker workers[NR_WORKERS + 1]; /* [0]: the main thread */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int nr_ready, checking;

static const int policies[NR_WORKERS + 1] = { SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, SCHED_OTHER, SCHED_BATCH };
static const int nices[NR_WORKERS + 1] = { 0, 3, 0, 7, 12 };

static void plan(struct worker *w, int i)
{
	w->index = i;
	snprintf(w->name, sizeof(w->name), "state-%d", i);
	w->policy = policies[i];
	w->nice = nices[i];
	sigemptyset(&w->blocked);
	sigaddset(&w->blocked, SIGTERM); /* SIGTERM goes to the main thread only */
	sigaddset(&w->blocked, i % 2 ? SIGUSR1 : SIGUSR2);
	sigaddset(&w->blocked, SIGRTMIN + i);
	if (i == 0)
		sigemptyset(&w->blocked);
}

static void set_up(struct worker *w)
{
	stack_t ss = { .ss_sp = w->altstack, .ss_size = ALTSTACK_SIZE - 4096 * w->index };
	struct sched_param sp = { 0 };

	if (pthread_setname_np(pthread_self(), w->name))
		fail("pthread_setname_np %s", w->name);
	if (sigaltstack(&ss, NULL))
		fail_errno("sigaltstack in thread %d", w->index);
	if (pthread_sigmask(SIG_SETMASK, &w->blocked, NULL))
		fail("pthread_sigmask in thread %d", w->index);
	if (sched_setscheduler(gettid(), w->policy, &sp))
		fail_errno("sched_setscheduler %d in thread %d", w->policy, w->index);
	if (setpriority(PRIO_PROCESS, gettid(), w->nice))
		fail_errno("setpriority %d in thread %d", w->nice, w->index);
}

#define CHECK(w, cond, ...)                                                    \
	do {                                                                   \
		if (!(cond) && !(w)->error[0])                                 \
			snprintf((w)->error, sizeof((w)->error), __VA_ARGS__); \
	} while (0)

static volatile struct rseq *my_rseq(void)
{
	return (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
}

/* The kernel writes the CPU number into a registered area on the way back to user space. */
static void check_rseq(struct worker *w)
{
	long nr_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	uint32_t cpu;
	cpu_set_t set;

	CHECK(w, __rseq_size > 0, "glibc registered no rseq area");
	if (!__rseq_size || nr_cpus < 2)
		return;
	cpu = (my_rseq()->cpu_id + 1) % nr_cpus;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return; /* that CPU is not ours to use: nothing to check with */
	usleep(1000);
	CHECK(w, my_rseq()->cpu_id == cpu, "rseq cpu_id is %u after moving to CPU %u: not registered",
	      my_rseq()->cpu_id, cpu);
}

static void check_signals(struct worker *w)
{
	stack_t ss;
	sigset_t cur;
	int sig;

	if (sigaltstack(NULL, &ss))
		fail_errno("sigaltstack");
	CHECK(w, ss.ss_sp == w->altstack && ss.ss_size == ALTSTACK_SIZE - 4096 * (size_t)w->index && ss.ss_flags == 0,
	      "sigaltstack %p size %zu flags %d, expected %p size %zu", ss.ss_sp, ss.ss_size, ss.ss_flags,
	      (void *)w->altstack, ALTSTACK_SIZE - 4096 * (size_t)w->index);
	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	for (sig = 1; sig < SIGRTMIN + NR_WORKERS + 2; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || (sig >= 32 && sig < SIGRTMIN))
			continue;
		CHECK(w, sigismember(&cur, sig) == sigismember(&w->blocked, sig), "signal %d is %sblocked", sig,
		      sigismember(&cur, sig) ? "" : "not ");
	}
}

static void check_state(struct worker *w)
{
	char name[16] = "";
	int nice;

	prctl(PR_GET_NAME, name);
	CHECK(w, !strcmp(name, w->name), "comm is \"%s\", expected \"%s\"", name, w->name);
	check_signals(w);
	CHECK(w, sched_getscheduler(0) == w->policy, "policy %d, expected %d", sched_getscheduler(0), w->policy);
	nice = getpriority(PRIO_PROCESS, gettid());
	CHECK(w, nice == w->nice, "nice %d, expected %d", nice, w->nice);
	check_rseq(w);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	set_up(w);
	pthread_mutex_lock(&lock);
	nr_ready++;
	pthread_cond_broadcast(&cond);
	while (!checking)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	check_state(w);
	return NULL;
}

int main(int argc, char **argv)
{
	int i;

	test_init(argc, argv);

	for (i = 0; i <= NR_WORKERS; i++)
		plan(&workers[i], i);
	for (i = 1; i <= NR_WORKERS; i++)
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]))
			fail("pthread_create %d", i);
	set_up(&workers[0]);
	pthread_mutex_lock(&lock);
	while (nr_ready < NR_WORKERS)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);

	test_daemon();
	test_waitsig();

	pthread_mutex_lock(&lock);
	checking = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	check_state(&workers[0]);
	for (i = 1; i <= NR_WORKERS; i++)
		if (pthread_join(workers[i].thread, NULL))
			fail("pthread_join %d", i);
	for (i = 0; i <= NR_WORKERS; i++)
		if (workers[i].error[0])
			fail("thread %d (%s): %s", i, workers[i].name, workers[i].error);
	pass();
}
