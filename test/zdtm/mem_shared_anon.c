// SPDX-License-Identifier: GPL-2.0
/*
 * Shared anonymous memory (MAP_SHARED | MAP_ANONYMOUS). Its data lives in
 * a shmem object: MADV_DONTNEED only unmaps pages from this process and
 * their content stays, so pages the process does not map at the moment of
 * the dump must be saved too. After restore: every page written before
 * reads back its pattern (mapped or not at the dump), pages never written
 * read zero, and the mapping is still shared: a child forked after the
 * restore writes into it and the parent sees the write.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PAGE 4096UL
#define NR_PAGES 64
#define WRITTEN 48 /* pages 0..47 written, the rest never touched */
#define DROP_FIRST 8
#define DROP_PAGES 24 /* pages 8..31 unmapped with MADV_DONTNEED, data kept */

static unsigned char pattern(size_t page, size_t off)
{
	return (unsigned char)(page * 37 + off * 11 + 5);
}

static int check_pages(const unsigned char *mem, char *why, size_t len)
{
	size_t p, o;

	for (p = 0; p < NR_PAGES; p++)
		for (o = 0; o < PAGE; o += 97) {
			unsigned char want = p < WRITTEN ? pattern(p, o) : 0;

			if (mem[p * PAGE + o] != want) {
				snprintf(why, len, "page %zu byte %zu is 0x%02x, expected 0x%02x", p, o,
					 mem[p * PAGE + o], want);
				return -1;
			}
		}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char *mem;
	char why[128];
	size_t p, o;
	pid_t child;
	int status;

	test_init(argc, argv);
	mem = mmap(NULL, NR_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fail("mmap: %m");
	for (p = 0; p < WRITTEN; p++)
		for (o = 0; o < PAGE; o++)
			mem[p * PAGE + o] = pattern(p, o);
	if (madvise(mem + DROP_FIRST * PAGE, DROP_PAGES * PAGE, MADV_DONTNEED))
		fail("madvise: %m");
	if (check_pages(mem, why, sizeof(why)))
		fail("before the dump: %s", why);
	/* drop them once more: at the dump they are not mapped in this process */
	if (madvise(mem + DROP_FIRST * PAGE, DROP_PAGES * PAGE, MADV_DONTNEED))
		fail("madvise: %m");

	test_daemon();
	test_waitsig();

	if (check_pages(mem, why, sizeof(why)))
		fail("%s", why);
	child = fork();
	if (child < 0)
		fail("fork: %m");
	if (child == 0) {
		mem[(NR_PAGES - 1) * PAGE] = 0x5a;
		_exit(0);
	}
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status))
		fail("the child did not end well");
	if (mem[(NR_PAGES - 1) * PAGE] != 0x5a)
		fail("a write by a child is not seen: the mapping is not shared any more");
	pass();
	return 0;
}
