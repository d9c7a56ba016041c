// SPDX-License-Identifier: GPL-2.0
/*
 * Identity: the pid (getpid(), the raw syscall, gettid(), /proc/self/stat),
 * the name set with PR_SET_NAME (prctl and /proc/self/comm) and the
 * executable (/proc/self/exe) are the same after restore.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define COMM "zdtm-comm-x"

static void get_exe(char *buf, size_t size)
{
	ssize_t len = readlink("/proc/self/exe", buf, size - 1);

	if (len < 0)
		fail_errno("readlink /proc/self/exe");
	buf[len] = '\0';
}

int main(int argc, char **argv)
{
	char exe_before[PATH_MAX], exe_after[PATH_MAX], comm[32], buf[512];
	pid_t pid;

	test_init(argc, argv);

	pid = getpid();
	if (prctl(PR_SET_NAME, COMM))
		fail_errno("PR_SET_NAME");
	get_exe(exe_before, sizeof(exe_before));

	test_daemon();
	test_waitsig();

	if (getpid() != pid)
		fail("getpid() is %d, expected %d", getpid(), pid);
	if (syscall(SYS_getpid) != pid)
		fail("getpid syscall gives %ld, expected %d", syscall(SYS_getpid), pid);
	if (syscall(SYS_gettid) != pid)
		fail("gettid gives %ld, expected %d", syscall(SYS_gettid), pid);
	if (read_file("/proc/self/stat", buf, sizeof(buf)) < 0)
		fail_errno("read /proc/self/stat");
	if (atoi(buf) != pid)
		fail("/proc/self/stat pid is %d, expected %d", atoi(buf), pid);

	memset(comm, 0, sizeof(comm));
	if (prctl(PR_GET_NAME, comm))
		fail_errno("PR_GET_NAME");
	if (strcmp(comm, COMM))
		fail("comm is \"%s\", expected \"%s\"", comm, COMM);
	if (read_file("/proc/self/comm", buf, sizeof(buf)) < 0)
		fail_errno("read /proc/self/comm");
	if (strcmp(buf, COMM "\n"))
		fail("/proc/self/comm is \"%s\", expected \"%s\"", buf, COMM);

	get_exe(exe_after, sizeof(exe_after));
	if (strcmp(exe_after, exe_before))
		fail("/proc/self/exe is %s, expected %s", exe_after, exe_before);
	pass();
}
