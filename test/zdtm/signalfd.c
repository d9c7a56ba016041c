// SPDX-License-Identifier: GPL-2.0
/*
 * A signalfd at fd 42 for SIGUSR1 and SIGRTMIN+3 (O_NONBLOCK), one at
 * fd 3 for SIGUSR2 (blocking). After restore each reads exactly its own
 * signals, sent then, and nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "zdtmtst.h"

static int make(int at, int flags, int s1, int s2)
{
	sigset_t m;
	int fd;

	sigemptyset(&m);
	sigaddset(&m, s1);
	if (s2)
		sigaddset(&m, s2);
	fd = signalfd(-1, &m, flags);
	if (fd < 0 || dup2(fd, at) != at)
		fail_errno("signalfd");
	if (fd != at)
		close(fd);
	return at;
}

static void expect(int fd, int sig)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si) || (int)si.ssi_signo != sig)
		fail("fd %d: expected signal %d", fd, sig);
}

int main(int argc, char **argv)
{
	struct signalfd_siginfo si;
	sigset_t all;

	test_init(argc, argv);
	sigemptyset(&all);
	sigaddset(&all, SIGUSR1);
	sigaddset(&all, SIGUSR2);
	sigaddset(&all, SIGRTMIN + 3);
	sigprocmask(SIG_BLOCK, &all, NULL);
	make(42, SFD_NONBLOCK, SIGUSR1, SIGRTMIN + 3);
	make(3, 0, SIGUSR2, 0);

	test_daemon();
	test_waitsig();

	if (!(fcntl(42, F_GETFL) & O_NONBLOCK) || (fcntl(3, F_GETFL) & O_NONBLOCK))
		fail("O_NONBLOCK is not as it was");
	if (read(42, &si, sizeof(si)) != -1 || errno != EAGAIN)
		fail("fd 42 reads a signal before any was sent");
	kill(getpid(), SIGRTMIN + 3);
	kill(getpid(), SIGUSR2);
	kill(getpid(), SIGUSR1);
	expect(42, SIGUSR1);
	expect(42, SIGRTMIN + 3);
	if (read(42, &si, sizeof(si)) != -1 || errno != EAGAIN)
		fail("fd 42 reads a signal that is not in its mask");
	expect(3, SIGUSR2);
	pass();
}
