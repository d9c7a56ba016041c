// SPDX-License-Identifier: GPL-2.0
/*
 * A shared file mapping. The test makes an 8-page file and maps it
 * MAP_SHARED read-write; page 1 is rewritten through the mapping and
 * msync'ed, page 3 rewritten and left dirty. After restore:
 *   - the mapping and the file (pread) hold the same data;
 *   - a write through the mapping, after msync, is read back by pread;
 *   - a pwrite to the file is seen through the mapping;
 *   - /proc/self/maps shows the file mapped shared (rw-s).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PAGE 4096UL
#define NR_PAGES 8

static uint8_t expect[NR_PAGES * PAGE], buf[NR_PAGES * PAGE];

static void read_back(const char *path)
{
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		fail_errno("open %s", path);
	if (pread(fd, buf, sizeof(buf), 0) != sizeof(buf))
		fail_errno("pread %s", path);
	close(fd);
}

static void check_maps(void *addr, const char *path)
{
	static char maps[1 << 16];
	unsigned long start, end;
	char *line, perms[8], name[4096];

	if (read_file("/proc/self/maps", maps, sizeof(maps)) < 0)
		fail_errno("read /proc/self/maps");
	for (line = strtok(maps, "\n"); line; line = strtok(NULL, "\n")) {
		name[0] = '\0';
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %4095s", &start, &end, perms, name) < 3)
			continue;
		if ((unsigned long)addr < start || (unsigned long)addr >= end)
			continue;
		if (strcmp(name, path) || strcmp(perms, "rw-s"))
			fail("%p is mapped %s from \"%s\", expected rw-s from %s", addr, perms, name, path);
		return;
	}
	fail("%p is not mapped", addr);
}

int main(int argc, char **argv)
{
	char path[4200];
	uint8_t *map;
	int fd, i;

	test_init(argc, argv);

	snprintf(path, sizeof(path), "%s/mem_file_shared.data", test_dir());
	fill_pattern(expect, sizeof(expect), 0x5a7ed);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		fail_errno("open %s", path);
	if (write(fd, expect, sizeof(expect)) != sizeof(expect))
		fail_errno("write %s", path);
	map = mmap(NULL, sizeof(expect), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		fail_errno("mmap");
	close(fd);

	fill_pattern(map + 1 * PAGE, PAGE, 0x5a7e1);
	fill_pattern(expect + 1 * PAGE, PAGE, 0x5a7e1);
	if (msync(map, sizeof(expect), MS_SYNC))
		fail_errno("msync");
	fill_pattern(map + 3 * PAGE, PAGE, 0x5a7e3);
	fill_pattern(expect + 3 * PAGE, PAGE, 0x5a7e3);

	test_daemon();
	test_waitsig();

	check_maps(map, path);
	read_back(path);
	for (i = 0; i < NR_PAGES; i++) {
		if (memcmp(buf + i * PAGE, expect + i * PAGE, PAGE))
			fail("file page %d has wrong data", i);
		if (memcmp(map + i * PAGE, expect + i * PAGE, PAGE))
			fail("mapping page %d has wrong data", i);
	}

	/* through the mapping to the file */
	fill_pattern(map + 5 * PAGE, PAGE, 0x5a7e5);
	fill_pattern(expect + 5 * PAGE, PAGE, 0x5a7e5);
	if (msync(map, sizeof(expect), MS_SYNC))
		fail_errno("msync");
	read_back(path);
	if (memcmp(buf, expect, sizeof(buf)))
		fail("a write through the mapping did not reach the file");

	/* through the file to the mapping */
	fill_pattern(expect + 6 * PAGE, PAGE, 0x5a7e6);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		fail_errno("open %s", path);
	if (pwrite(fd, expect + 6 * PAGE, PAGE, 6 * PAGE) != PAGE)
		fail_errno("pwrite");
	close(fd);
	if (memcmp(map + 6 * PAGE, expect + 6 * PAGE, PAGE))
		fail("a write to the file is not seen through the mapping");
	pass();
}
