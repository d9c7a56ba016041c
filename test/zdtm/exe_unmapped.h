/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Code running from anonymous memory with the executable unmapped: the
 * test copies every mapping of its executable (code, data) into anonymous
 * memory and moves the copies over the originals with mremap, so the same
 * code runs at the same addresses but no mapping of the executable is
 * left; /proc/self/exe stays set (the mm keeps its exe file). A thread
 * runs a loop in that copied code, counting. After restore no mapping of
 * the executable may be back, the copied code must still run (the loop
 * counts on, the check itself runs from it), the mappings must still be
 * anonymous and executable, and /proc/self/exe must name the same file.
 *
 * With EXE_DELETED (exe_unmapped_deleted.c) the test first runs itself
 * from a copy of its binary and deletes the copy: /proc/self/exe then
 * names a deleted file that nothing maps, and must name it the same way
 * after restore.
 */
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MAX_MAPS 16

struct map {
	unsigned long start, end;
	char perms[5];
};

static volatile uint64_t counter;
static volatile int stop;

static void *count(void *arg)
{
	while (!stop)
		__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* The path of a maps line, which may have spaces (" (deleted)"). */
static const char *maps_path(char *line)
{
	int off = 0;

	line[strcspn(line, "\n")] = 0;
	sscanf(line, "%*x-%*x %*s %*s %*s %*s %n", &off);
	return off ? line + off : "";
}

static int maps_of(const char *path, struct map *m, int max)
{
	char line[PATH_MAX + 128];
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0;

	while (f && fgets(line, sizeof(line), f) && n < max) {
		if (sscanf(line, "%lx-%lx %4s", &m[n].start, &m[n].end, m[n].perms) == 3 &&
		    !strcmp(maps_path(line), path))
			n++;
	}
	if (f)
		fclose(f);
	return n;
}

/* Is [start, end) anonymous now, with these permissions? */
static int anon_with(unsigned long start, unsigned long end, const char *perms)
{
	char line[PATH_MAX + 128], p[5], name[PATH_MAX];
	unsigned long s, e;
	FILE *f = fopen("/proc/self/maps", "r");
	int ok = 0;

	while (f && fgets(line, sizeof(line), f)) {
		name[0] = 0;
		if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %4095s", &s, &e, p, name) < 3)
			continue;
		if (s <= start && e >= end && !strncmp(p, perms, 3) && (!name[0] || name[0] == '['))
			ok = 1;
	}
	if (f)
		fclose(f);
	return ok;
}

static int prot_of(const char *perms)
{
	return (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
	       (perms[2] == 'x' ? PROT_EXEC : 0);
}

/* Replace each mapping with an anonymous copy at the same place. */
static void replace_with_copies(struct map *m, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		size_t len = m[i].end - m[i].start;
		void *copy = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (copy == MAP_FAILED)
			fail_errno("mmap");
		if (!strchr(m[i].perms, 'r'))
			mprotect((void *)m[i].start, len, PROT_READ);
		memcpy(copy, (void *)m[i].start, len);
		if (mprotect(copy, len, prot_of(m[i].perms)))
			fail_errno("mprotect");
		/* libc's mremap runs from libc: the code being replaced is not running now */
		if (mremap(copy, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)m[i].start) == MAP_FAILED)
			fail_errno("mremap over 0x%lx", m[i].start);
	}
}

#ifdef EXE_DELETED
#include <fcntl.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#define COPY_ENV "ZDTM_EXE_COPY"

/* Run again from a copy of the binary, which the copy then deletes. */
static void run_from_deleted_copy(char **argv)
{
	char path[PATH_MAX];
	const char *copy = getenv(COPY_ENV);
	struct stat st;
	int in, out;

	if (copy) {
		unlink(copy);
		return;
	}
	/* before test_init(), which daemonizes: the launcher must wait for this process */
	snprintf(path, sizeof(path), "/tmp/zdtm-exe-copy-XXXXXX");
	in = open("/proc/self/exe", O_RDONLY);
	out = mkstemp(path);
	if (in < 0 || out < 0 || fstat(in, &st) || sendfile(out, in, NULL, st.st_size) != st.st_size ||
	    fchmod(out, 0700)) {
		perror("copying the binary");
		exit(1);
	}
	close(in);
	close(out);
	setenv(COPY_ENV, path, 1);
	execv(path, argv);
	perror("exec the copy");
	unlink(path);
	exit(1);
}
#endif

int main(int argc, char **argv)
{
	char exe[PATH_MAX], now[PATH_MAX];
	struct map m[MAX_MAPS], left[MAX_MAPS];
	uint64_t before;
	pthread_t th;
	ssize_t len;
	int n, i;

#ifdef EXE_DELETED
	run_from_deleted_copy(argv);
#endif
	test_init(argc, argv);
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		fail_errno("readlink /proc/self/exe");
	exe[len] = 0;
	n = maps_of(exe, m, MAX_MAPS);
	if (!n)
		fail("no mapping of %s", exe);
	replace_with_copies(m, n);
	if (maps_of(exe, left, MAX_MAPS))
		fail("%s is still mapped", exe);
	test_sigterm_to_main_thread(true);
	if (pthread_create(&th, NULL, count, NULL))
		fail("pthread_create");
	test_sigterm_to_main_thread(false);

	test_daemon();
	test_waitsig();

	before = counter;
	usleep(20000);
	if (counter == before)
		fail("the loop in the copied code stopped counting");
	stop = 1;
	pthread_join(th, NULL);
	if (maps_of(exe, left, MAX_MAPS))
		fail("%s is mapped again after restore (0x%lx)", exe, left[0].start);
	for (i = 0; i < n; i++)
		if (!anon_with(m[i].start, m[i].end, m[i].perms))
			fail("0x%lx-0x%lx is not anonymous %s after restore", m[i].start, m[i].end, m[i].perms);
	len = readlink("/proc/self/exe", now, sizeof(now) - 1);
	if (len <= 0 || (now[len] = 0, strcmp(now, exe)))
		fail("/proc/self/exe is \"%s\", was \"%s\"", len > 0 ? now : "", exe);
	pass();
}
