// SPDX-License-Identifier: GPL-2.0
/* zdtm: refused=events */
/*
 * An inotify whose queue holds an event not read yet: the event could not
 * be put back, so the dump must be refused; at the check the event is
 * still there and names the file created.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char path[4096], buf[4096];
	struct inotify_event *ev = (struct inotify_event *)buf;
	int fd, wd;

	test_init(argc, argv);
	fd = inotify_init1(IN_NONBLOCK);
	wd = fd < 0 ? -1 : inotify_add_watch(fd, test_dir(), IN_CREATE);
	snprintf(path, sizeof(path), "%s/made", test_dir());
	if (wd < 0 || close(open(path, O_CREAT | O_WRONLY, 0600)))
		fail_errno("set-up");

	test_daemon();
	test_waitsig();

	if (read(fd, buf, sizeof(buf)) <= 0 || ev->wd != wd || !(ev->mask & IN_CREATE) || strcmp(ev->name, "made"))
		fail("the queued event is gone");
	pass();
}
