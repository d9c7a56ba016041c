// SPDX-License-Identifier: GPL-2.0
/* zdtm: pages-min=45 pages-max=48 */
/*
 * 64 MiB of private anonymous memory (ZDTM_MEM_MB overrides the size),
 * made of 4 MiB chunks. In each chunk:
 *   - pages 0..1023: a pseudo-random pattern seeded by the page number,
 *     except every 8th page, which is never touched;
 *   - chunk 3 is never touched at all;
 *   - chunks 5 and 6 are filled, then dropped with MADV_DONTNEED.
 * After restore the pattern pages must match (and the checksum over them),
 * the others must read as zero.
 *
 * With the default size, 13 chunks * 896 pages = 45.5 MiB are present, so
 * the harness checks (pages-min/pages-max, in MiB) that the pages images
 * hold between 45 and 48 MiB: the pattern pages plus what the rest of the
 * process uses (libc data, stack, heap: well under 2.5 MiB). A dump that
 * saved the untouched or dropped pages too would be over 64 MiB.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PAGE 4096UL
#define CHUNK (4UL << 20)
#define CHUNK_PAGES (CHUNK / PAGE)

enum { UNTOUCHED, PATTERN, DROPPED };

static int page_kind(size_t page)
{
	size_t chunk = page / CHUNK_PAGES;

	if (chunk == 3 || page % 8 == 7)
		return UNTOUCHED;
	if (chunk == 5 || chunk == 6)
		return DROPPED;
	return PATTERN;
}

static uint64_t page_seed(size_t page)
{
	return 0x9e3779b97f4a7c15ULL * (page + 1);
}

static const char *kind_name[] = { "untouched", "pattern", "dropped" };

int main(int argc, char **argv)
{
	size_t size = 64UL << 20, npages, i, present = 0;
	uint64_t sum_before = 0, sum_after = 0;
	const char *env;
	uint8_t *mem;

	test_init(argc, argv);

	env = getenv("ZDTM_MEM_MB");
	if (env && atol(env) > 0)
		size = atol(env) << 20;
	size = (size + CHUNK - 1) / CHUNK * CHUNK;
	npages = size / PAGE;

	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fail_errno("mmap %zu", size);
	/* no transparent huge pages: untouched pages must stay absent */
	madvise(mem, size, MADV_NOHUGEPAGE);

	for (i = 0; i < npages; i++) {
		if (page_kind(i) == UNTOUCHED)
			continue;
		fill_pattern(mem + i * PAGE, PAGE, page_seed(i));
		if (page_kind(i) == PATTERN) {
			sum_before = checksum(mem + i * PAGE, PAGE, sum_before);
			present++;
		}
	}
	for (i = 0; i < npages; i += CHUNK_PAGES) {
		if (page_kind(i) != DROPPED)
			continue;
		if (madvise(mem + i * PAGE, CHUNK, MADV_DONTNEED))
			fail_errno("madvise(MADV_DONTNEED)");
	}
	test_msg("%zu MiB at %p, %zu pattern pages (%zu MiB)", size >> 20, mem, present, present * PAGE >> 20);

	test_daemon();
	test_waitsig();

	for (i = 0; i < npages; i++) {
		uint8_t *page = mem + i * PAGE;
		int kind = page_kind(i);
		ssize_t off;

		if (kind == PATTERN) {
			off = check_pattern(page, PAGE, page_seed(i));
			sum_after = checksum(page, PAGE, sum_after);
		} else {
			for (off = 0; off < (ssize_t)PAGE; off++)
				if (page[off])
					break;
			if (off == PAGE)
				off = -1;
		}
		if (off >= 0)
			fail("page %zu (%s) at %p: wrong byte at offset %zd (%#x)", i, kind_name[kind], page, off,
			     page[off]);
	}
	if (sum_after != sum_before)
		fail("checksum %#lx, expected %#lx", sum_after, sum_before);
	pass();
}
