// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's target: a zdtm-protocol test holding BENCH_MB MiB
 * (default 1024) of private anonymous memory, every page non-zero and
 * different. On SIGTERM it checks a sample of every page and passes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "zdtmtst.h"

#define PAGE 4096UL

static uint64_t page_word(size_t page)
{
	return 0x9e3779b97f4a7c15ULL * (page + 1) | 1;
}

int main(int argc, char **argv)
{
	size_t size = 1024UL << 20, npages, i, j;
	const char *env;
	uint64_t *mem;

	test_init(argc, argv);
	env = getenv("BENCH_MB");
	if (env)
		size = strtoul(env, NULL, 10) << 20;
	npages = size / PAGE;

	if (npages) {
		mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem == MAP_FAILED)
			fail_errno("mmap %zu", size);
		for (i = 0; i < npages; i++)
			for (j = 0; j < PAGE / 8; j++)
				mem[i * PAGE / 8 + j] = page_word(i) + j;
	}
	test_daemon();
	test_waitsig();

	for (i = 0; i < npages; i++)
		for (j = 0; j < PAGE / 8; j += 61)
			if (mem[i * PAGE / 8 + j] != page_word(i) + j)
				fail("page %zu: wrong data at word %zu", i, j);
	pass();
}
