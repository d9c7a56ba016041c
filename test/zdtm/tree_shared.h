/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory shared by a parent and its child, for tree_shared_anon and
 * tree_memfd_shared: the test maps NR_PAGES pages MAP_SHARED, then calls
 * shared_mem_test(). Page by page:
 *
 *	0..11	written by the parent before the fork; 0..3 then dropped
 *		by the child (MADV_DONTNEED: unmapped there, data kept)
 *	12..19	written by the child; 12..15 then dropped by the parent
 *	20..27	never touched: zero
 *	28	written by the parent after restore: the child must see it
 *	29	written by the child after restore: the parent must see it
 *	30..31	never touched
 *
 * Before the dump each process checks every page. After restore, on SIGTERM,
 * the parent checks every page, writes page 28 and SIGTERMs the child; the
 * child checks every page (28 included), writes page 29 and exits 0 if all
 * was right; the parent reaps it and checks page 29. A mapping that came
 * back private in either process loses the write the other made.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PAGE 4096UL
#define NR_PAGES 32
#define PARENT_AFTER 28
#define CHILD_AFTER 29
#define SHARED_SEED 0x5a4ed000ULL

static void write_page(unsigned char *mem, int p)
{
	fill_pattern(mem + p * PAGE, PAGE, SHARED_SEED + p);
}

/*
 * Every page as it must be; parent_after and child_after: whether pages 28
 * and 29 are written by now. Returns 0, or -1 with the first wrong page in why.
 */
static int check_pages(const unsigned char *mem, bool parent_after, bool child_after, char *why, size_t len)
{
	size_t i;
	int p;

	for (p = 0; p < NR_PAGES; p++) {
		bool written = p < 20 || (p == PARENT_AFTER && parent_after) || (p == CHILD_AFTER && child_after);
		ssize_t off = -1;

		if (written) {
			off = check_pattern(mem + p * PAGE, PAGE, SHARED_SEED + p);
		} else {
			for (i = 0; i < PAGE && off < 0; i++)
				if (mem[p * PAGE + i])
					off = i;
		}
		if (off >= 0) {
			snprintf(why, len, "page %d (%s) differs at byte %zd", p, written ? "written" : "never written",
				 off);
			return -1;
		}
	}
	return 0;
}

static void shared_child(unsigned char *mem, int ready_fd) __attribute__((noreturn));
static void shared_child(unsigned char *mem, int ready_fd)
{
	char why[128];
	int p;

	for (p = 12; p < 20; p++)
		write_page(mem, p);
	if (madvise(mem, 4 * PAGE, MADV_DONTNEED) || check_pages(mem, false, false, why, sizeof(why))) {
		test_msg("child, set-up: %s", why);
		_exit(1);
	}
	close(ready_fd);

	test_waitsig();
	if (check_pages(mem, true, false, why, sizeof(why))) {
		test_msg("child: %s", why);
		_exit(1);
	}
	write_page(mem, CHILD_AFTER);
	_exit(0);
}

static void shared_mem_test(unsigned char *mem) __attribute__((noreturn));
static void shared_mem_test(unsigned char *mem)
{
	int fds[2], status, p;
	char why[128], c;
	pid_t child;

	for (p = 0; p < 12; p++)
		write_page(mem, p);
	if (pipe2(fds, O_CLOEXEC))
		fail_errno("pipe");
	child = fork();
	if (child < 0)
		fail_errno("fork");
	if (child == 0) {
		close(fds[0]);
		shared_child(mem, fds[1]);
	}
	close(fds[1]);
	/* EOF: the child wrote its pages and checked */
	if (read(fds[0], &c, 1) != 0 || proc_state_of(child) == 'Z') {
		reap_child(child, &status, 0);
		fail("set-up: the child failed (%s)", wait_status_str(status));
	}
	close(fds[0]);
	if (madvise(mem + 12 * PAGE, 4 * PAGE, MADV_DONTNEED) || check_pages(mem, false, false, why, sizeof(why))) {
		reap_child(child, NULL, 0);
		fail("set-up: %s", why);
	}

	test_daemon();
	test_waitsig();

	if (check_pages(mem, false, false, why, sizeof(why))) {
		reap_child(child, NULL, 0);
		fail("%s", why);
	}
	write_page(mem, PARENT_AFTER);
	kill(child, SIGTERM);
	if (reap_child(child, &status, 3000) || status)
		fail("the child did not end well (%s): see the test log", wait_status_str(status));
	if (check_pages(mem, true, true, why, sizeof(why)))
		fail("after the child's write: %s", why);
	pass();
}
