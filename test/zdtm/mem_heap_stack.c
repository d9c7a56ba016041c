// SPDX-License-Identifier: GPL-2.0
/*
 * Heap and stack:
 *   - malloc'ed blocks with a pattern (small ones come from the brk heap);
 *   - the brk grown directly with sbrk by 8 MiB, filled with a pattern;
 *     sbrk(0) must be the same after restore;
 *   - 64 recursive frames of 16 KiB locals each with a pattern, checked
 *     while the recursion unwinds after restore;
 *   - the mm fields of /proc/self/stat (code, data, brk, stack, argument
 *     and environment bounds) must not change;
 *   - argv and environ strings, and /proc/self/cmdline and environ, must
 *     read the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NR_BLOCKS 32
#define SBRK_SIZE (8UL << 20)
#define DEPTH 64
#define FRAME_SIZE (16 << 10)

extern char **environ;

/* /proc/self/stat fields 26-28 and 45-51 (1-based, as in proc(5)) */
static const int stat_fields[] = { 26, 27, 28, 45, 46, 47, 48, 49, 50, 51 };
static const char *const stat_names[] = { "start_code", "end_code",  "start_stack", "start_data", "end_data",
					  "start_brk",	"arg_start", "arg_end",	    "env_start",  "env_end" };
#define NR_STAT ((int)(sizeof(stat_fields) / sizeof(stat_fields[0])))

static void *blocks[NR_BLOCKS];
static size_t block_size[NR_BLOCKS];
static char *sbrk_area;
static void *brk_before;
static unsigned long stat_before[NR_STAT];
static char cmdline_before[65536], environ_before[65536];
static ssize_t cmdline_len, environ_len;
static char **argv_copy, **env_copy;
static int argc_saved, envc;

static void read_stat(unsigned long *vals)
{
	char buf[4096], *p;
	int field, i;

	if (read_file("/proc/self/stat", buf, sizeof(buf)) < 0)
		fail_errno("read /proc/self/stat");
	/* comm may contain spaces: fields are counted from the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		fail("bad /proc/self/stat: %s", buf);
	p += 2;
	for (field = 3, i = 0; *p && i < NR_STAT; field++) {
		if (field == stat_fields[i])
			vals[i++] = strtoul(p, NULL, 10);
		p = strchr(p, ' ');
		if (!p)
			break;
		p++;
	}
	if (i != NR_STAT)
		fail("only %d fields found in /proc/self/stat", i);
}

static char **copy_strings(char **src, int *count)
{
	char **dst;
	int n, i;

	for (n = 0; src[n]; n++)
		;
	dst = calloc(n + 1, sizeof(*dst));
	if (!dst)
		fail("out of memory");
	for (i = 0; i < n; i++)
		dst[i] = strdup(src[i]);
	*count = n;
	return dst;
}

static void check_strings(const char *what, char **cur, char **saved, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (!cur[i])
			fail("%s[%d] is NULL, expected \"%s\"", what, i, saved[i]);
		if (strcmp(cur[i], saved[i]))
			fail("%s[%d] is \"%s\", expected \"%s\"", what, i, cur[i], saved[i]);
	}
	if (cur[n])
		fail("%s[%d] is \"%s\", expected NULL", what, n, cur[n]);
}

static void wait_and_check_heap(void)
{
	unsigned long stat_after[NR_STAT];
	char buf[65536];
	ssize_t len, off;
	void *brk_after;
	int i;

	test_daemon();
	test_waitsig();

	brk_after = sbrk(0);
	if (brk_after != brk_before)
		fail("sbrk(0) is %p, expected %p", brk_after, brk_before);
	off = check_pattern(sbrk_area, SBRK_SIZE, 0x5b4b);
	if (off >= 0)
		fail("sbrk area %p: wrong data at offset %zd", sbrk_area, off);
	for (i = 0; i < NR_BLOCKS; i++) {
		off = check_pattern(blocks[i], block_size[i], 0x4ea9 + i);
		if (off >= 0)
			fail("malloc block %d (%p, %zu bytes): wrong data at offset %zd", i, blocks[i], block_size[i],
			     off);
	}

	read_stat(stat_after);
	for (i = 0; i < NR_STAT; i++)
		if (stat_after[i] != stat_before[i])
			fail("/proc/self/stat %s is %#lx, expected %#lx", stat_names[i], stat_after[i], stat_before[i]);

	len = read_file("/proc/self/cmdline", buf, sizeof(buf));
	if (len != cmdline_len || memcmp(buf, cmdline_before, len))
		fail("/proc/self/cmdline changed (%zd bytes, expected %zd)", len, cmdline_len);
	len = read_file("/proc/self/environ", buf, sizeof(buf));
	if (len != environ_len || memcmp(buf, environ_before, len))
		fail("/proc/self/environ changed (%zd bytes, expected %zd)", len, environ_len);
}

/* Each frame keeps a pattern in its locals until the recursion unwinds. */
static void __attribute__((noinline)) recurse(int depth, char **argv)
{
	volatile uint64_t frame[FRAME_SIZE / 8];
	ssize_t off;

	fill_pattern((void *)frame, sizeof(frame), 0x57ac0000 + depth);
	if (depth + 1 < DEPTH)
		recurse(depth + 1, argv);
	else
		wait_and_check_heap();

	off = check_pattern((void *)frame, sizeof(frame), 0x57ac0000 + depth);
	if (off >= 0)
		fail("stack frame %d at %p: wrong data at offset %zd", depth, (void *)frame, off);
}

int main(int argc, char **argv)
{
	int i;

	test_init(argc, argv);

	for (i = 0; i < NR_BLOCKS; i++) {
		block_size[i] = 64 + i * 512;
		blocks[i] = malloc(block_size[i]);
		if (!blocks[i])
			fail("malloc");
		fill_pattern(blocks[i], block_size[i], 0x4ea9 + i);
	}

	sbrk_area = sbrk(SBRK_SIZE);
	if (sbrk_area == (void *)-1)
		fail_errno("sbrk");
	fill_pattern(sbrk_area, SBRK_SIZE, 0x5b4b);

	argv_copy = copy_strings(argv, &argc_saved);
	env_copy = copy_strings(environ, &envc);
	cmdline_len = read_file("/proc/self/cmdline", cmdline_before, sizeof(cmdline_before));
	environ_len = read_file("/proc/self/environ", environ_before, sizeof(environ_before));
	if (cmdline_len <= 0 || environ_len < 0)
		fail_errno("read /proc/self/cmdline or environ");
	read_stat(stat_before);
	/* last, after every malloc: malloc may move the brk too */
	brk_before = sbrk(0);
	test_msg("brk %p, sbrk area %p, arg_start %#lx", brk_before, sbrk_area, stat_before[6]);

	recurse(0, argv);

	check_strings("argv", argv, argv_copy, argc_saved);
	check_strings("environ", environ, env_copy, envc);
	pass();
}
