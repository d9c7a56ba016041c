// SPDX-License-Identifier: GPL-2.0
/* zdtm: refused=seccomp */
/*
 * A process under a seccomp filter (allow-all BPF). criu can't restore
 * filters yet, so the dump must be refused and the process go on as it
 * was: neg_dump_seccomp in zdtm.py runs it; a plain C/R run skips it.
 * Its own check: the filter is still in force.
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "zdtmtst.h"

static int seccomp_mode(void)
{
	char buf[4096], *p;

	if (read_file("/proc/self/status", buf, sizeof(buf)) < 0)
		fail_errno("read /proc/self/status");
	p = strstr(buf, "\nSeccomp:");
	return p ? atoi(p + strlen("\nSeccomp:")) : -1;
}

int main(int argc, char **argv)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &allow };

	test_init(argc, argv);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		fail_errno("PR_SET_NO_NEW_PRIVS");
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0))
		fail_errno("PR_SET_SECCOMP");

	test_daemon();
	test_waitsig();

	if (seccomp_mode() != SECCOMP_MODE_FILTER)
		fail("Seccomp: %d in /proc/self/status, expected %d", seccomp_mode(), SECCOMP_MODE_FILTER);
	pass();
}
