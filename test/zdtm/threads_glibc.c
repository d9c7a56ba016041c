// SPDX-License-Identifier: GPL-2.0
/*
 * A plain pthread program: four threads pass a token around with a mutex
 * and a condition variable, each counting its turns, and each keeps a
 * __thread value of its own (distinct fs_base). After restore the token
 * must keep going round, every thread must see its own thread-local value
 * at its own address, and all threads must join.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "zdtmtst.h"

#define NR_WORKERS 4

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_changed = PTHREAD_COND_INITIALIZER;
static unsigned int turn; /* which worker holds the token */
static volatile int stop;
static unsigned long turns[NR_WORKERS];

static __thread uint64_t tls_value;
static __thread int tls_index = -1;

struct worker {
	pthread_t thread;
	int index;
	uint64_t *tls_addr; /* where this thread's tls_value lives */
	int bad_tls;
};

static struct worker workers[NR_WORKERS];

static uint64_t expected_tls(int i)
{
	return 0x7e570000u + 0x1111u * (i + 1);
}

static void check_tls(struct worker *w)
{
	if (tls_index != w->index || tls_value != expected_tls(w->index) || &tls_value != w->tls_addr)
		w->bad_tls = 1;
}

/* Wait for the token, take a turn, pass it on. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;

	tls_index = w->index;
	tls_value = expected_tls(w->index);
	w->tls_addr = &tls_value;
	pthread_mutex_lock(&lock);
	while (!stop) {
		if (turn % NR_WORKERS != (unsigned int)w->index) {
			pthread_cond_wait(&turn_changed, &lock);
			continue;
		}
		check_tls(w);
		turns[w->index]++;
		turn++;
		pthread_cond_broadcast(&turn_changed);
		/* Let the others run now and then without the lock. */
		pthread_mutex_unlock(&lock);
		usleep(200);
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	check_tls(w);
	return NULL;
}

static void snapshot(unsigned long *out)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < NR_WORKERS; i++)
		out[i] = turns[i];
	pthread_mutex_unlock(&lock);
}

int main(int argc, char **argv)
{
	unsigned long before[NR_WORKERS], after[NR_WORKERS];
	int i;

	test_init(argc, argv);

	test_sigterm_to_main_thread(true);
	for (i = 0; i < NR_WORKERS; i++) {
		workers[i].index = i;
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]))
			fail("pthread_create %d", i);
	}
	test_sigterm_to_main_thread(false);
	tls_value = 42;

	test_daemon();
	test_waitsig();

	snapshot(before);
	usleep(300 * 1000);
	snapshot(after);
	for (i = 0; i < NR_WORKERS; i++)
		if (after[i] <= before[i])
			fail("worker %d took no turn after restore (%lu turns)", i, after[i]);
	pthread_mutex_lock(&lock);
	stop = 1;
	pthread_cond_broadcast(&turn_changed);
	pthread_mutex_unlock(&lock);
	for (i = 0; i < NR_WORKERS; i++) {
		if (pthread_join(workers[i].thread, NULL))
			fail("pthread_join %d", i);
		if (workers[i].bad_tls)
			fail("worker %d saw a wrong thread-local value or address", i);
	}
	if (tls_value != 42)
		fail("the main thread's tls_value is %llu, expected 42", (unsigned long long)tls_value);
	pass();
}
