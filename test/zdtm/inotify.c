// SPDX-License-Identifier: GPL-2.0
/*
 * An inotify at fd 42 (O_NONBLOCK) with watches whose numbers have gaps:
 * wd 1 removed, wd 2 on a directory (IN_CREATE | IN_DELETE, given with
 * IN_ONLYDIR, which the kernel does not keep), wd 3 removed, wd 4 on a file
 * (IN_ATTRIB | IN_CLOSE_WRITE | IN_EXCL_UNLINK, then IN_MODIFY added with
 * IN_MASK_ADD), wd 5 and 6 removed, wd 7 on another file (IN_OPEN |
 * IN_ONESHOT). The IN_IGNORED events of the removals are read before the
 * dump: the queue is empty.
 *
 * After restore: fdinfo lists the same watches (number, mask, inode), the
 * queue is still empty, writing and chmod'ing the file, creating a file in
 * the directory and opening the other file give the expected events with
 * the right numbers and name (the one-shot watch then goes away), the
 * next watch gets number 8, and inotify_rm_watch() takes the saved
 * numbers and refuses the removed ones.
 *
 * A second inotify, blocking, at fd 43 and 44 (one description) with one
 * watch: after restore it is still blocking, still one description (a
 * watch added through fd 44 shows at fd 43) and apart from the first.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define FD 42
#define MAX_WATCHES 16

struct watch {
	unsigned wd, mask;
	unsigned long ino;
};

/* the IN_IGNORED events of the removals before the dump, and after */
static const struct inotify_event removed[] = {
	{ .wd = 1, .mask = IN_IGNORED },
	{ .wd = 5, .mask = IN_IGNORED },
	{ .wd = 3, .mask = IN_IGNORED },
	{ .wd = 6, .mask = IN_IGNORED },
};
static const struct inotify_event gone[] = {
	{ .wd = 2, .mask = IN_IGNORED },
	{ .wd = 4, .mask = IN_IGNORED },
	{ .wd = 8, .mask = IN_IGNORED },
};

static char dir[PATH_MAX], file[PATH_MAX], once[PATH_MAX], scratch[PATH_MAX], created[PATH_MAX + 8];

static int watch(const char *path, unsigned mask)
{
	int wd = inotify_add_watch(FD, path, mask);

	if (wd < 0)
		fail_errno("inotify_add_watch %s", path);
	return wd;
}

static void unwatch(int wd)
{
	if (inotify_rm_watch(FD, wd))
		fail_errno("inotify_rm_watch %d", wd);
}

static void make_file(const char *path)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);

	if (fd < 0)
		fail_errno("create %s", path);
	close(fd);
}

/* The watches of the inotify at fd, by number. */
static int read_watches(int fd, struct watch *w)
{
	char buf[8192], path[64], *p = buf;
	int n = 0, i, j;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (read_file(path, buf, sizeof(buf)) < 0)
		fail_errno("fdinfo of the inotify at fd %d", fd);
	while ((p = strstr(p, "inotify wd:"))) {
		if (n == MAX_WATCHES)
			fail("too many watches in fdinfo");
		if (sscanf(p, "inotify wd:%x ino:%lx %*s mask:%x", &w[n].wd, &w[n].ino, &w[n].mask) != 3)
			fail("can't parse %.80s", p);
		n++;
		p++;
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (w[j].wd < w[i].wd) {
				struct watch t = w[i];

				w[i] = w[j];
				w[j] = t;
			}
	return n;
}

/* Read every queued event; each must be one of want[] (wd, mask, name: none if no names), each once. */
static void expect_events(const struct inotify_event *want, const char **names, int nr)
{
	char buf[4096] __attribute__((aligned(8)));
	int seen[8] = { 0 }, i, got = 0;
	ssize_t n, off;

	while ((n = read(FD, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n;
		     off += sizeof(struct inotify_event) + ((struct inotify_event *)(buf + off))->len) {
			const struct inotify_event *e = (const void *)(buf + off);
			const char *name = e->len ? e->name : "";

			for (i = 0; i < nr; i++)
				if (!seen[i] && want[i].wd == e->wd && want[i].mask == e->mask &&
				    !strcmp(names ? names[i] : "", name))
					break;
			if (i == nr)
				fail("unexpected event wd %d mask 0x%x name \"%s\"", e->wd, e->mask, name);
			seen[i] = 1;
			got++;
		}
	}
	if (n < 0 && errno != EAGAIN)
		fail_errno("read the inotify");
	if (got != nr)
		fail("%d events read, %d expected", got, nr);
}

static void set_up(void)
{
	int fd = inotify_init1(IN_NONBLOCK);

	if (fd < 0 || dup2(fd, FD) != FD)
		fail_errno("inotify at fd %d", FD);
	close(fd);
	snprintf(dir, sizeof(dir), "%s/watched", test_dir());
	snprintf(file, sizeof(file), "%s/file", test_dir());
	snprintf(once, sizeof(once), "%s/once", test_dir());
	snprintf(scratch, sizeof(scratch), "%s/scratch", test_dir());
	snprintf(created, sizeof(created), "%s/new", dir);
	if (mkdir(dir, 0755) && errno != EEXIST)
		fail_errno("mkdir %s", dir);
	unlink(created);
	make_file(file);
	make_file(once);
	make_file(scratch);

	/* each scratch watch is removed before the next: one watch per inode */
	if (watch(scratch, IN_ACCESS) != 1)
		fail("the first watch is not number 1");
	unwatch(1);
	if (watch(dir, IN_CREATE | IN_DELETE | IN_ONLYDIR) != 2 || watch(scratch, IN_ACCESS) != 3 ||
	    watch(file, IN_ATTRIB | IN_CLOSE_WRITE | IN_EXCL_UNLINK) != 4 || watch(file, IN_MODIFY | IN_MASK_ADD) != 4)
		fail("unexpected watch numbers");
	unwatch(3);
	if (watch(scratch, IN_ACCESS) != 5)
		fail("unexpected watch number");
	unwatch(5);
	if (watch(scratch, IN_ACCESS) != 6)
		fail("unexpected watch number");
	unwatch(6);
	if (watch(once, IN_OPEN | IN_ONESHOT) != 7)
		fail("unexpected watch number");
	expect_events(removed, NULL, 4);
}

int main(int argc, char **argv)
{
	struct watch before[MAX_WATCHES], after[MAX_WATCHES];
	struct inotify_event want[] = {
		{ .wd = 4, .mask = IN_MODIFY }, { .wd = 4, .mask = IN_CLOSE_WRITE }, { .wd = 4, .mask = IN_ATTRIB },
		{ .wd = 2, .mask = IN_CREATE }, { .wd = 7, .mask = IN_OPEN },	     { .wd = 7, .mask = IN_IGNORED },
	};
	const char *names[] = { "", "", "", "new", "", "" };
	int n, i, fd;

	test_init(argc, argv);
	set_up();
	fd = inotify_init1(0);
	if (fd < 0 || dup2(fd, 43) != 43 || dup2(fd, 44) != 44)
		fail_errno("the second inotify");
	close(fd);
	if (inotify_add_watch(43, dir, IN_DELETE) != 1)
		fail_errno("a watch of the second inotify");
	n = read_watches(FD, before);
	if (n != 3 || before[0].wd != 2 || before[1].wd != 4 || before[2].wd != 7)
		fail("fdinfo does not list watches 2, 4 and 7 before the dump");

	test_daemon();
	test_waitsig();

	if (!(fcntl(FD, F_GETFL) & O_NONBLOCK))
		fail("the inotify lost O_NONBLOCK");
	if ((fcntl(43, F_GETFL) & O_NONBLOCK) || inotify_add_watch(44, file, IN_ATTRIB) != 2 ||
	    read_watches(43, after) != 2 || after[0].wd != 1 || after[0].mask != IN_DELETE)
		fail("the second inotify is not as it was (blocking, watch 1, at fds 43 and 44)");
	if (read_watches(FD, after) != n)
		fail("fdinfo lists another number of watches");
	for (i = 0; i < n; i++)
		if (after[i].wd != before[i].wd || after[i].mask != before[i].mask || after[i].ino != before[i].ino)
			fail("watch %u (mask 0x%x, inode %lu) is now watch %u (mask 0x%x, inode %lu)", before[i].wd,
			     before[i].mask, before[i].ino, after[i].wd, after[i].mask, after[i].ino);
	expect_events(NULL, NULL, 0);

	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "x", 1) != 1 || close(fd) || chmod(file, 0600))
		fail_errno("touch %s", file);
	make_file(created);
	fd = open(once, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_errno("open %s", once);
	close(fd);
	expect_events(want, names, 6);

	if (watch(scratch, IN_ACCESS) != 8)
		fail("a new watch does not get number 8");
	if (inotify_rm_watch(FD, 3) == 0 || errno != EINVAL || inotify_rm_watch(FD, 7) == 0 || errno != EINVAL)
		fail("watch 3 or 7 (removed, one-shot gone) can still be removed");
	unwatch(2);
	unwatch(4);
	unwatch(8);
	expect_events(gone, NULL, 3);
	pass();
}
