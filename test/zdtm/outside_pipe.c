// SPDX-License-Identifier: GPL-2.0
/*
 * A pipe between the test P and its child C: C writes numbered lines
 * ("1\n", "2\n", ...) every millisecond to its fd 5, the write end; P has
 * the read end only and reads them. Dumped whole, the pipe is inside the
 * tree. The harness also dumps C alone (neg_outside_pipe_external): P is
 * then outside, the pipe is named with --external and given back to the
 * restored C with --inherit-fd. Either way P must read every number in
 * order, none twice, and new ones must keep coming after the restore (a
 * C restored with another pipe would leave P's pipe without a writer: EOF).
 * P kills C at the end, by pid: after a restore of C alone it is no longer
 * P's child.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define WRITE_FD 5

static void child(int wfd)
{
	char line[32];
	unsigned long n = 0;

	if (dup2(wfd, WRITE_FD) != WRITE_FD)
		_exit(2);
	if (wfd != WRITE_FD)
		close(wfd);
	signal(SIGPIPE, SIG_DFL);
	for (;;) {
		int len = snprintf(line, sizeof(line), "%lu\n", ++n);

		if (write(WRITE_FD, line, len) != len)
			_exit(3);
		usleep(1000);
	}
}

struct reader {
	int fd;
	unsigned long last;
	char partial[32];
	size_t plen;
};

/* Read what is there; -1 at EOF or a number out of order. */
static int drain(struct reader *r, const char **why)
{
	char buf[4096];
	ssize_t n, i;

	while ((n = read(r->fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (r->plen < sizeof(r->partial) - 1)
					r->partial[r->plen++] = buf[i];
				continue;
			}
			r->partial[r->plen] = 0;
			r->plen = 0;
			if (strtoul(r->partial, NULL, 10) != r->last + 1) {
				*why = "a number out of order";
				return -1;
			}
			r->last++;
		}
	}
	if (n == 0) {
		*why = "EOF: no writer left on the pipe";
		return -1;
	}
	return errno == EAGAIN ? 0 : (*why = "read failed", -1);
}

int main(int argc, char **argv)
{
	struct reader r = { 0 };
	const char *why = NULL;
	unsigned long at_term;
	int p[2], i;
	pid_t c;

	test_init(argc, argv);
	/* C's end must not leave a zombie holding its pid when it is dumped alone */
	signal(SIGCHLD, SIG_IGN);
	if (pipe(p))
		fail_errno("pipe");
	c = fork();
	if (c < 0)
		fail_errno("fork");
	if (c == 0) {
		close(p[0]);
		child(p[1]);
	}
	close(p[1]);
	r.fd = p[0];
	fcntl(r.fd, F_SETFL, O_NONBLOCK);
	test_daemon();
	while (!test_sigterm) {
		if (drain(&r, &why)) {
			kill(c, SIGKILL);
			fail("before SIGTERM: %s after %lu", why, r.last);
		}
		usleep(1000);
	}
	at_term = r.last;
	for (i = 0; i < 2000 && r.last < at_term + 20; i++) {
		if (drain(&r, &why)) {
			kill(c, SIGKILL);
			fail("after SIGTERM: %s after %lu", why, r.last);
		}
		usleep(1000);
	}
	kill(c, SIGKILL);
	if (r.last < at_term + 20)
		fail("only %lu numbers came in 2 s after SIGTERM", r.last - at_term);
	pass();
}
