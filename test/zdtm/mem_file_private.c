// SPDX-License-Identifier: GPL-2.0
/*
 * A private (copy-on-write) file mapping. The test makes a 16-page file
 * with pattern A and maps it MAP_PRIVATE read-write; pages 2, 5 and 9 are
 * rewritten with pattern B and one byte of page 12 is changed; pages 0 and
 * 1 are only read. A second, read-only private mapping covers pages 4..7
 * (a non-zero file offset). After restore:
 *   - the modified pages hold the new data, the others the file's data;
 *   - the file on disk is unchanged (pread);
 *   - both mappings are still of that file, at the right offsets;
 *   - a new write through the private mapping does not reach the file.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PAGE 4096UL
#define NR_PAGES 16
#define SEED_A 0xf11e
#define SEED_B(p) (0xc0c0 + (p))

static uint8_t expect[NR_PAGES * PAGE];
static uint8_t file_data[NR_PAGES * PAGE];

static int modified(int page)
{
	return page == 2 || page == 5 || page == 9;
}

static void check_file(const char *path, const char *when)
{
	uint8_t buf[NR_PAGES * PAGE];
	ssize_t off;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		fail_errno("open %s", path);
	if (pread(fd, buf, sizeof(buf), 0) != sizeof(buf))
		fail_errno("pread %s", path);
	close(fd);
	off = check_pattern(buf, sizeof(buf), SEED_A);
	if (off >= 0)
		fail("%s: the file changed at offset %zd", when, off);
}

/* Check that the maps line for addr names path at file offset pgoff. */
static void check_maps(void *addr, const char *path, unsigned long pgoff)
{
	static char maps[1 << 16];
	unsigned long start, end, off;
	char *line, name[4096];

	if (read_file("/proc/self/maps", maps, sizeof(maps)) < 0)
		fail_errno("read /proc/self/maps");
	for (line = strtok(maps, "\n"); line; line = strtok(NULL, "\n")) {
		name[0] = '\0';
		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %4095s", &start, &end, &off, name) < 3)
			continue;
		if ((unsigned long)addr < start || (unsigned long)addr >= end)
			continue;
		if (strcmp(name, path))
			fail("%p is mapped from \"%s\", expected %s", addr, name, path);
		if (off + ((unsigned long)addr - start) != pgoff)
			fail("%p maps file offset %#lx, expected %#lx", addr, off + ((unsigned long)addr - start),
			     pgoff);
		return;
	}
	fail("%p is not mapped", addr);
}

int main(int argc, char **argv)
{
	char path[4200];
	uint8_t *map, *ro;
	volatile uint8_t sink;
	int fd, i;

	test_init(argc, argv);

	snprintf(path, sizeof(path), "%s/mem_file_private.data", test_dir());
	fill_pattern(file_data, sizeof(file_data), SEED_A);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		fail_errno("open %s", path);
	if (write(fd, file_data, sizeof(file_data)) != sizeof(file_data))
		fail_errno("write %s", path);

	map = mmap(NULL, NR_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ro = mmap(NULL, 4 * PAGE, PROT_READ, MAP_PRIVATE, fd, 4 * PAGE);
	if (map == MAP_FAILED || ro == MAP_FAILED)
		fail_errno("mmap");
	close(fd);

	memcpy(expect, file_data, sizeof(expect));
	for (i = 0; i < NR_PAGES; i++) {
		if (!modified(i))
			continue;
		fill_pattern(map + i * PAGE, PAGE, SEED_B(i));
		fill_pattern(expect + i * PAGE, PAGE, SEED_B(i));
	}
	map[12 * PAGE + 100] ^= 0xff;
	expect[12 * PAGE + 100] ^= 0xff;
	sink = map[0] + map[PAGE] + ro[0];
	(void)sink;

	test_daemon();
	test_waitsig();

	for (i = 0; i < NR_PAGES; i++) {
		if (memcmp(map + i * PAGE, expect + i * PAGE, PAGE))
			fail("private mapping page %d (%s) has wrong data", i,
			     modified(i) || i == 12 ? "modified" : "file data");
	}
	if (memcmp(ro, file_data + 4 * PAGE, 4 * PAGE))
		fail("read-only mapping of pages 4..7 has wrong data");
	check_file(path, "after restore");
	check_maps(map, path, 0);
	check_maps(map + 9 * PAGE, path, 9 * PAGE);
	check_maps(ro, path, 4 * PAGE);
	if (!access_faults(ro, 1))
		fail("the read-only mapping is writable");

	/* still private: new writes stay in memory */
	map[0] ^= 0xff;
	map[3 * PAGE + 5] ^= 0xff;
	check_file(path, "after writing to the private mapping");
	if (map[0] != (uint8_t)(file_data[0] ^ 0xff))
		fail("a write to the private mapping was lost");
	pass();
}
