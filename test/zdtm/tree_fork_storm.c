// SPDX-License-Identifier: GPL-2.0
/* zdtm: churner=churner */
/*
 * A tree that forks and exits while it is being frozen: the child "churner"
 * forks short-lived children as fast as it can (each exits with 3 at once,
 * or after a few thousand loops), reaping each; a second child creates and
 * joins threads in a loop. The dump must catch a consistent tree whatever
 * it finds (a child being born, running, exiting or a zombie), and after
 * restore every caught child must end the way it would have: the churner
 * requires status 3 from each of its children, the threader a clean join
 * of each thread, and both go on until SIGTERM. Both are named "churner":
 * the harness leaves their children and threads out of its tree checks.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static void churn(void)
{
	unsigned long rounds = 0, bad = 0;
	volatile unsigned long spin;
	int status;
	pid_t pid;

	prctl(PR_SET_NAME, "churner", 0, 0, 0);
	while (!test_sigterm) {
		pid = fork();
		if (pid == 0) {
			for (spin = 0; spin < (rounds % 4) * 2000; spin++)
				;
			_exit(3);
		}
		if (pid < 0) {
			bad++;
			continue;
		}
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 3)
			bad++;
		rounds++;
	}
	test_msg("churner: %lu children, %lu bad\n", rounds, bad);
	_exit(bad || !rounds ? 1 : 0);
}

static void *thread_fn(void *arg)
{
	return arg;
}

static void thread_churn(void)
{
	unsigned long rounds = 0, bad = 0;
	pthread_t th;
	void *ret;

	prctl(PR_SET_NAME, "churner", 0, 0, 0);
	while (!test_sigterm) {
		if (pthread_create(&th, NULL, thread_fn, (void *)rounds)) {
			bad++;
			continue;
		}
		if (pthread_join(th, &ret) || ret != (void *)rounds)
			bad++;
		rounds++;
	}
	test_msg("threader: %lu threads, %lu bad\n", rounds, bad);
	_exit(bad || !rounds ? 1 : 0);
}

static pid_t start(void (*fn)(void))
{
	pid_t pid = fork();

	if (pid < 0)
		fail_errno("fork");
	if (pid == 0)
		fn();
	return pid;
}

int main(int argc, char **argv)
{
	pid_t kids[2];
	int i, status, ok = 1;

	test_init(argc, argv);
	kids[0] = start(churn);
	kids[1] = start(thread_churn);
	usleep(100000);
	test_daemon();
	test_waitsig();
	for (i = 0; i < 2; i++) {
		kill(kids[i], SIGTERM);
		if (reap_child(kids[i], &status, 5000) || !WIFEXITED(status) || WEXITSTATUS(status)) {
			test_msg("child %d ended with %s\n", kids[i], wait_status_str(status));
			ok = 0;
		}
	}
	if (!ok)
		fail("a churning child found something wrong (see the log)");
	pass();
}
