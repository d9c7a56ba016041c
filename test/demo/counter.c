// SPDX-License-Identifier: GPL-2.0
/*
 * The demo's live program: once a second it prints its pid and a counter
 * that only lives in its memory, so a restored copy goes on from where the
 * dumped one was.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	struct timespec ts = { 1, 0 };
	unsigned long count = 0;

	/* only stdin, stdout and stderr: drop whatever the shell leaked */
	close_range(3, ~0U, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		printf("pid %d: count %lu\n", getpid(), ++count);
		while (nanosleep(&ts, &ts))
			;
		ts.tv_sec = 1;
		ts.tv_nsec = 0;
	}
}
