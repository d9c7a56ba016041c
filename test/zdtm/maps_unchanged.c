// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/self/maps must read the same after restore, line by line. Lines
 * without a path (anonymous memory) are compared without their device and
 * inode columns; every other line, [heap], [stack], [vdso] and the like
 * included, must be identical.
 *
 * Besides what the program and libc map, the test adds private anonymous
 * areas with different protections and a private file mapping. Both reads
 * are done the same way from the same function into static buffers, so
 * the test itself does not change its maps in between.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PAGE 4096UL

static char before[1 << 17], after[1 << 17];

/* Split a maps line into the part to compare; returns its length. */
static size_t key_len(const char *line, size_t len, int *anon)
{
	const char *p = line, *end = line + len;
	const char *range_end = NULL;
	int field;

	/* fields: range perms offset dev inode [path] */
	for (field = 0; field < 5 && p < end; field++) {
		while (p < end && *p != ' ')
			p++;
		if (field == 2)
			range_end = p;
		while (p < end && *p == ' ')
			p++;
	}
	*anon = (p == end);
	return *anon && range_end ? (size_t)(range_end - line) : len;
}

static const char *next_line(const char *p, size_t *len)
{
	const char *nl = strchr(p, '\n');

	*len = nl ? (size_t)(nl - p) : strlen(p);
	return nl ? nl + 1 : p + *len;
}

static void print_maps(const char *label, const char *buf)
{
	test_msg("%s", label);
	if (write(2, buf, strlen(buf)) < 0)
		;
}

static void read_maps(char *buf, size_t size)
{
	if (read_file("/proc/self/maps", buf, size) < 0)
		fail_errno("read /proc/self/maps");
}

int main(int argc, char **argv)
{
	const char *a, *b, *na, *nb;
	size_t la, lb, ka, kb;
	char path[4200];
	void *rw, *ro, *none, *file;
	int fd, anon_a, anon_b, line = 0;

	test_init(argc, argv);

	rw = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, 3 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	none = mmap(NULL, 5 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rw == MAP_FAILED || ro == MAP_FAILED || none == MAP_FAILED)
		fail_errno("mmap");
	memset(rw, 0x11, 8 * PAGE);
	/* split the rw area: its middle becomes executable */
	if (mprotect((char *)rw + 2 * PAGE, 2 * PAGE, PROT_READ | PROT_EXEC))
		fail_errno("mprotect");

	snprintf(path, sizeof(path), "%s/maps_unchanged.data", test_dir());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, 4 * PAGE))
		fail_errno("create %s", path);
	file = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 2 * PAGE);
	if (file == MAP_FAILED)
		fail_errno("mmap %s", path);
	close(fd);

	test_daemon();
	read_maps(before, sizeof(before));
	test_waitsig();
	read_maps(after, sizeof(after));

	a = before;
	b = after;
	while (*a || *b) {
		line++;
		na = next_line(a, &la);
		nb = next_line(b, &lb);
		ka = key_len(a, la, &anon_a);
		kb = key_len(b, lb, &anon_b);
		if (ka != kb || anon_a != anon_b || memcmp(a, b, ka)) {
			print_maps("maps before:", before);
			print_maps("maps after:", after);
			fail("maps line %d differs: \"%.*s\", expected \"%.*s\"", line, (int)lb, b, (int)la, a);
		}
		a = na;
		b = nb;
	}
	pass();
}
