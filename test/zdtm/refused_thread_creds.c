// SPDX-License-Identifier: GPL-2.0
/* zdtm: refused=credentials */
/*
 * A thread that changed its own effective uid with the raw syscall (glibc
 * would change every thread). Per-thread credentials are not dumped: the
 * dump must be refused, and the thread keeps its uid at the check.
 */
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

static volatile long thread_euid = -1;

static void *odd_thread(void *arg)
{
	if (syscall(SYS_setresuid, -1, 1000, -1))
		return NULL;
	for (;;) {
		thread_euid = syscall(SYS_geteuid);
		usleep(10000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	test_init(argc, argv);
	test_sigterm_to_main_thread(true);
	if (pthread_create(&t, NULL, odd_thread, NULL))
		fail("pthread_create");
	test_sigterm_to_main_thread(false);
	while (thread_euid != 1000)
		usleep(1000);
	test_daemon();
	test_waitsig();
	usleep(50000);
	if (thread_euid != 1000 || geteuid() != 0)
		fail("thread euid %ld, main euid %d", thread_euid, (int)geteuid());
	pass();
	return 0;
}
