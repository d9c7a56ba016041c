// SPDX-License-Identifier: GPL-2.0
/* zdtm: refused=namespace */
/*
 * A process in a UTS namespace of its own, with its own host name.
 * Namespaces are not dumped yet: the dump must be refused, and the process
 * still has its host name at the check.
 */
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NAME "zdtm-uts-ns"

int main(int argc, char **argv)
{
	char name[64];

	test_init(argc, argv);
	if (unshare(CLONE_NEWUTS) || sethostname(NAME, strlen(NAME)))
		fail("can't set up a UTS namespace: %m");
	test_daemon();
	test_waitsig();
	if (gethostname(name, sizeof(name)) || strcmp(name, NAME))
		fail("the host name is not %s any more", NAME);
	pass();
	return 0;
}
