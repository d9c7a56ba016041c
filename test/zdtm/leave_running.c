// SPDX-License-Identifier: GPL-2.0
/* zdtm: dump-opts=--leave-running */
/*
 * Dumped with --leave-running. The harness checks that the original goes
 * on running (not stopped, not traced, its maps as before the dump) and
 * that it passes this check when told to stop; then it restores the images
 * and the restored copy must pass it too.
 *
 * The state: a page pattern, the pid, and a counter that the wait loop
 * advances in memory; the loop must have run and the pattern be intact,
 * in the original after the parasite has come and gone, and in the copy.
 */
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define SIZE (256 << 10)

static volatile uint64_t loops;

int main(int argc, char **argv)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	uint64_t at_ready;
	pid_t pid;
	uint8_t *mem;
	ssize_t off;

	test_init(argc, argv);
	pid = getpid();

	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fail_errno("mmap");
	fill_pattern(mem, SIZE, 0x1eaf);
	loops = 1000;
	at_ready = loops;

	test_daemon();
	while (!test_sigterm) {
		nanosleep(&ts, NULL);
		loops++;
	}

	if (loops <= at_ready)
		fail("the wait loop never ran (%lu)", loops);
	if (getpid() != pid)
		fail("pid %d, expected %d", getpid(), pid);
	off = check_pattern(mem, SIZE, 0x1eaf);
	if (off >= 0)
		fail("wrong data at offset %zd", off);
	test_msg("%lu loops", loops - at_ready);
	pass();
}
