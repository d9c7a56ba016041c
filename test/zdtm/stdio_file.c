// SPDX-License-Identifier: GPL-2.0
/* zdtm: stdio=file */
/*
 * stdin, stdout and stderr on regular files (the harness starts the test
 * so): stdin is a read-only file whose first line is read before the dump,
 * stdout and stderr are the test log, opened O_APPEND. After restore the
 * three are the same files with the same flags and offsets, stdin goes on
 * with the second line, and a write to stdout lands at the end of the log.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

struct stdio_state {
	char path[4096];
	int fl;
	off_t pos;
	dev_t dev;
	ino_t ino;
};

static void get_state(int fd, struct stdio_state *s)
{
	char link[64];
	struct stat st;
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, s->path, sizeof(s->path) - 1);
	if (len < 0)
		fail_errno("fd %d: readlink", fd);
	s->path[len] = '\0';
	if (fstat(fd, &st))
		fail_errno("fd %d: fstat", fd);
	if (!S_ISREG(st.st_mode))
		fail("fd %d (%s) is not a regular file", fd, s->path);
	s->fl = fcntl(fd, F_GETFL);
	s->pos = lseek(fd, 0, SEEK_CUR);
	s->dev = st.st_dev;
	s->ino = st.st_ino;
}

int main(int argc, char **argv)
{
	struct stdio_state before[3], after[3];
	static const char msg[] = "stdio_file: a line written after restore\n";
	char line[64];
	struct stat st;
	int fd;

	test_init(argc, argv);

	/* "line1\n" */
	if (read(0, line, 6) != 6 || memcmp(line, "line1\n", 6))
		fail("stdin does not start with \"line1\"");
	if (!(fcntl(1, F_GETFL) & O_APPEND))
		fail("set-up: stdout is not O_APPEND");
	test_msg("stdin at offset 6");
	for (fd = 0; fd < 3; fd++)
		get_state(fd, &before[fd]);

	test_daemon();
	test_waitsig();

	for (fd = 0; fd < 3; fd++) {
		get_state(fd, &after[fd]);
		if (strcmp(after[fd].path, before[fd].path) || after[fd].dev != before[fd].dev ||
		    after[fd].ino != before[fd].ino)
			fail("fd %d is %s, expected %s", fd, after[fd].path, before[fd].path);
		if (after[fd].fl != before[fd].fl)
			fail("fd %d: F_GETFL %#o, expected %#o", fd, after[fd].fl, before[fd].fl);
		if (after[fd].pos != before[fd].pos)
			fail("fd %d: offset %ld, expected %ld", fd, (long)after[fd].pos, (long)before[fd].pos);
	}
	memset(line, 0, sizeof(line));
	if (read(0, line, 6) != 6 || memcmp(line, "line2\n", 6))
		fail("stdin goes on with \"%.6s\", expected \"line2\"", line);

	if (write(1, msg, sizeof(msg) - 1) != sizeof(msg) - 1)
		fail_errno("write to stdout");
	if (fstat(1, &st))
		fail_errno("fstat");
	if (lseek(1, 0, SEEK_CUR) != st.st_size)
		fail("the write to stdout did not go to the end of the log");
	fd = open(before[1].path, O_RDONLY);
	if (fd < 0 || pread(fd, line, sizeof(msg) - 1, st.st_size - (sizeof(msg) - 1)) != sizeof(msg) - 1 ||
	    memcmp(line, msg, sizeof(msg) - 1))
		fail("the line written to stdout is not at the end of the log");
	close(fd);
	pass();
}
