// SPDX-License-Identifier: GPL-2.0
/* zdtm: pages-min=32 pages-max=40 */
/*
 * Private memory shared copy-on-write after fork. The root fills 32 MiB of
 * private anonymous memory with a pattern (one seed per page), then forks
 * three children, which only read it, except C1, which rewrites a few
 * pages with a pattern of its own; after the forks the root rewrites two
 * other pages with a third pattern. So each of the 4 processes sees its
 * own content: C1 its pages, the root its pages, everyone the original
 * everywhere else (the root's rewritten pages too, for the children).
 *
 * Each process checks every page before the dump and after restore (the
 * children on SIGTERM from the root, exiting 0 if all is right). The pages
 * images must hold less than 40 MiB: the 32 MiB that all processes still
 * share are stored once; a copy per process would be 128 MiB, a single
 * extra copy 64 MiB. They must hold at least 32 MiB, the pattern itself.
 *
 * And the memory must still be shared after restore, not copied: the
 * root's mapping must have at least 30 MiB of Shared_Dirty pages in
 * /proc/self/smaps while the children live (a restore giving each process
 * its own copy would use 4 times the memory).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PAGE 4096UL
#define SIZE (32UL << 20)
#define NR_PAGES (SIZE / PAGE)
#define NR_CHILDREN 3
#define MODIFIER 1 /* C1 */

#define SEED_ORIG 0xc0e00000ULL
#define SEED_CHILD 0xc0e10000ULL
#define SEED_ROOT 0xc0e20000ULL

static const size_t child_pages[] = { 0, 1000, 4097, NR_PAGES - 1 };
static const size_t root_pages[] = { 2, 5000 };

static unsigned char *mem;
static pid_t children[NR_CHILDREN];

static bool in(size_t p, const size_t *set, size_t nr)
{
	while (nr--)
		if (set[nr] == p)
			return true;
	return false;
}

/* The seed page p must have in process who (-1: the root, else child who). */
static uint64_t seed_of(int who, size_t p)
{
	if (who == MODIFIER && in(p, child_pages, sizeof(child_pages) / sizeof(child_pages[0])))
		return SEED_CHILD + p;
	if (who < 0 && in(p, root_pages, sizeof(root_pages) / sizeof(root_pages[0])))
		return SEED_ROOT + p;
	return SEED_ORIG + p;
}

static int check_mem(int who, char *why, size_t len)
{
	static const char *const names[] = { "root", "C0", "C1", "C2" };
	ssize_t off;
	size_t p;

	for (p = 0; p < NR_PAGES; p++) {
		off = check_pattern(mem + p * PAGE, PAGE, seed_of(who, p));
		if (off >= 0) {
			snprintf(why, len, "%s: page %zu differs at byte %zd", names[who + 1], p, off);
			return -1;
		}
	}
	return 0;
}

/* Shared_Dirty of the mapping at mem, in kB, from /proc/self/smaps; -1 if not found. */
static long shared_dirty_kb(void)
{
	char line[256], head[32];
	long kb = -1;
	bool ours = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	snprintf(head, sizeof(head), "%lx-", (unsigned long)mem);
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' ') && line[0] != ' ')
			ours = !strncmp(line, head, strlen(head));
		if (ours && sscanf(line, "Shared_Dirty: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static void check_shared(char *why, size_t len)
{
	long kb = shared_dirty_kb();

	if (!why[0] && kb < 30 * 1024)
		snprintf(why, len, "the root's memory is not shared with its children: Shared_Dirty %ld kB", kb);
}

static void child(int who, int ready_fd) __attribute__((noreturn));
static void child(int who, int ready_fd)
{
	char why[128];
	size_t i;

	if (who == MODIFIER)
		for (i = 0; i < sizeof(child_pages) / sizeof(child_pages[0]); i++)
			fill_pattern(mem + child_pages[i] * PAGE, PAGE, seed_of(who, child_pages[i]));
	if (check_mem(who, why, sizeof(why))) {
		test_msg("set-up: %s", why);
		_exit(1);
	}
	close(ready_fd);

	test_waitsig();
	if (check_mem(who, why, sizeof(why))) {
		test_msg("%s", why);
		_exit(1);
	}
	_exit(0);
}

/* SIGTERM and reap every child; the first one that did not exit 0 goes to why. */
static void stop_children(char *why, size_t len)
{
	int i, status;

	for (i = 0; i < NR_CHILDREN; i++)
		if (children[i] > 0)
			kill(children[i], SIGTERM);
	for (i = 0; i < NR_CHILDREN; i++)
		if (children[i] > 0 && (reap_child(children[i], &status, 3000) || status) && !why[0])
			snprintf(why, len, "C%d (%d) did not end well (%s): see the test log", i, children[i],
				 wait_status_str(status));
}

int main(int argc, char **argv)
{
	char why[160] = "", c;
	int fds[2], i;
	size_t p;

	test_init(argc, argv);
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fail_errno("mmap");
	for (p = 0; p < NR_PAGES; p++)
		fill_pattern(mem + p * PAGE, PAGE, SEED_ORIG + p);
	if (pipe2(fds, O_CLOEXEC))
		fail_errno("pipe");
	for (i = 0; i < NR_CHILDREN; i++) {
		children[i] = fork();
		if (children[i] == 0) {
			close(fds[0]);
			child(i, fds[1]);
		}
		if (children[i] < 0) {
			snprintf(why, sizeof(why), "fork: %m");
			break;
		}
	}
	close(fds[1]);
	/* EOF: every child is set up (or gone) */
	if (read(fds[0], &c, 1) != 0 && !why[0])
		snprintf(why, sizeof(why), "a child wrote to the pipe");
	close(fds[0]);
	for (i = 0; i < NR_CHILDREN && !why[0]; i++)
		if (proc_state_of(children[i]) == 'Z')
			snprintf(why, sizeof(why), "C%d failed: see the test log", i);
	for (i = 0; i < (int)(sizeof(root_pages) / sizeof(root_pages[0])); i++)
		fill_pattern(mem + root_pages[i] * PAGE, PAGE, seed_of(-1, root_pages[i]));
	if (!why[0])
		check_mem(-1, why, sizeof(why));
	if (why[0]) {
		stop_children(why, sizeof(why));
		fail("set-up: %s", why);
	}

	check_shared(why, sizeof(why));
	if (why[0]) {
		stop_children(why, sizeof(why));
		fail("set-up: %s", why);
	}

	test_daemon();
	test_waitsig();

	check_shared(why, sizeof(why));
	check_mem(-1, why, sizeof(why));
	stop_children(why, sizeof(why));
	if (why[0])
		fail("%s", why);
	pass();
}
