// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's target: a zdtm-protocol test holding BENCH_MB MiB
 * (default 1024) of private anonymous memory, every page non-zero and
 * different. On SIGTERM it checks a sample of every page and passes.
 * With BENCH_FORKS=N it forks N children first, which share that memory
 * copy-on-write and check it too on SIGTERM; it passes if they all did.
 * With BENCH_FDS=N it holds N more fds: pipe ends, /dev/null and eventfds
 * in turn (for the cost of comparing them with the rest of the system).
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PAGE 4096UL

static uint64_t page_word(size_t page)
{
	return 0x9e3779b97f4a7c15ULL * (page + 1) | 1;
}

static int check(const uint64_t *mem, size_t npages)
{
	size_t i, j;

	for (i = 0; i < npages; i++)
		for (j = 0; j < PAGE / 8; j += 61)
			if (mem[i * PAGE / 8 + j] != page_word(i) + j)
				return -1;
	return 0;
}

/* Children sharing the memory: each checks it on SIGTERM and exits 0 if right. */
static pid_t *fork_children(const uint64_t *mem, size_t npages, size_t n)
{
	pid_t *kids = calloc(n ? n : 1, sizeof(*kids));
	size_t k;

	if (!kids)
		fail("calloc");
	for (k = 0; k < n; k++) {
		kids[k] = fork();
		if (kids[k] < 0)
			fail_errno("fork");
		if (kids[k] == 0) {
			test_waitsig();
			_exit(check(mem, npages) ? 1 : 0);
		}
	}
	return kids;
}

static int reap_children(pid_t *kids, size_t n)
{
	int status, bad = 0;
	size_t k;

	for (k = 0; k < n; k++) {
		kill(kids[k], SIGTERM);
		if (reap_child(kids[k], &status, 10000) || !WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	}
	return bad;
}

/* n fds: a pipe's two ends, /dev/null, an eventfd, ... */
static void open_fds(size_t n)
{
	size_t i = 0;
	int p[2];

	while (i < n) {
		if (i % 4 == 0 && i + 1 < n) {
			if (pipe(p))
				fail_errno("pipe");
			i += 2;
		} else if (i % 4 == 2) {
			if (open("/dev/null", O_RDONLY) < 0)
				fail_errno("open");
			i++;
		} else {
			if (eventfd(0, 0) < 0)
				fail_errno("eventfd");
			i++;
		}
	}
}

int main(int argc, char **argv)
{
	size_t size = 1024UL << 20, npages, i, j, nkids = 0;
	const char *env;
	uint64_t *mem = NULL;
	pid_t *kids;

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
	env = getenv("BENCH_FORKS");
	if (env)
		nkids = strtoul(env, NULL, 10);
	env = getenv("BENCH_FDS");
	if (env)
		open_fds(strtoul(env, NULL, 10));
	kids = fork_children(mem, npages, nkids);
	test_daemon();
	test_waitsig();

	if (check(mem, npages))
		fail("wrong data in memory");
	if (reap_children(kids, nkids))
		fail("a child found wrong data or did not end");
	pass();
}
