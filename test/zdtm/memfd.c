// SPDX-License-Identifier: GPL-2.0
/*
 * memfds. "zdtm-a" at fd 42: 3 pages written (a hole in the middle page
 * range left unwritten), offset 100, sealed F_SEAL_SHRINK | F_SEAL_GROW,
 * mapped MAP_SHARED too; a second description of it at fd 43 (opened
 * through /proc/self/fd, read-only, offset 7) and a dup of fd 42 at 44.
 * "zdtm-b" at fd 200: never sealable (no MFD_ALLOW_SEALING), empty.
 * After restore: names in /proc/self/fd, sizes, seals, offsets and flags
 * as before; the content reads back through the fd and through the
 * mapping, and a write through one shows through the other and through
 * fd 43 (one memfd, not copies); the seals still refuse growing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PAGE 4096
#define SIZE (4 * PAGE)

static void expect_link(int fd, const char *name)
{
	char path[64], link[256], want[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	snprintf(want, sizeof(want), "/memfd:%s (deleted)", name);
	if (strcmp(link, want))
		fail("fd %d is %s, expected %s", fd, link, want);
}

int main(int argc, char **argv)
{
	char path[64], buf[PAGE], *map;
	struct stat st;
	int fd, i;

	test_init(argc, argv);
	fd = memfd_create("zdtm-a", MFD_ALLOW_SEALING);
	if (fd < 0 || dup2(fd, 42) != 42 || ftruncate(42, SIZE))
		fail_errno("memfd a");
	close(fd);
	for (i = 0; i < 4; i++) {
		if (i == 2)
			continue; /* a hole */
		memset(buf, 'a' + i, PAGE);
		if (pwrite(42, buf, PAGE, i * PAGE) != PAGE)
			fail_errno("pwrite");
	}
	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, 42, 0);
	if (map == MAP_FAILED)
		fail_errno("mmap");
	if (fcntl(42, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) || lseek(42, 100, SEEK_SET) != 100)
		fail_errno("seal");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", 42);
	fd = open(path, O_RDONLY);
	if (fd < 0 || dup2(fd, 43) != 43 || lseek(43, 7, SEEK_SET) != 7 || dup2(42, 44) != 44)
		fail_errno("second description");
	close(fd);
	fd = memfd_create("zdtm-b", 0);
	if (fd < 0 || dup2(fd, 200) != 200)
		fail_errno("memfd b");
	close(fd);

	test_daemon();
	test_waitsig();

	expect_link(42, "zdtm-a");
	expect_link(43, "zdtm-a");
	expect_link(200, "zdtm-b");
	if (fstat(42, &st) || st.st_size != SIZE || fstat(200, &st) || st.st_size)
		fail("sizes changed");
	if (fcntl(42, F_GET_SEALS) != (F_SEAL_SHRINK | F_SEAL_GROW) || fcntl(200, F_GET_SEALS) != F_SEAL_SEAL)
		fail("seals changed: 0x%x 0x%x", fcntl(42, F_GET_SEALS), fcntl(200, F_GET_SEALS));
	if (lseek(42, 0, SEEK_CUR) != 100 || lseek(44, 0, SEEK_CUR) != 100 || lseek(43, 0, SEEK_CUR) != 7)
		fail("offsets changed");
	if ((fcntl(43, F_GETFL) & O_ACCMODE) != O_RDONLY || (fcntl(42, F_GETFL) & O_ACCMODE) != O_RDWR)
		fail("access modes changed");
	for (i = 0; i < 4; i++)
		if (map[i * PAGE] != (i == 2 ? 0 : 'a' + i) || map[i * PAGE + PAGE - 1] != map[i * PAGE])
			fail("page %d of the mapping reads 0x%x", i, map[i * PAGE]);
	map[5] = 'Z';
	if (pread(43, buf, 8, 0) != 8 || buf[5] != 'Z')
		fail("a write through the mapping does not show through fd 43");
	if (pwrite(44, "Q", 1, PAGE + 1) != 1 || map[PAGE + 1] != 'Q')
		fail("a write through fd 44 does not show in the mapping");
	if (ftruncate(42, 2 * SIZE) != -1 || errno != EPERM)
		fail("the memfd can grow: its seals are gone");
	pass();
}
