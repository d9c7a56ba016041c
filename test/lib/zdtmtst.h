/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ZDTMTST_H
#define ZDTMTST_H

/*
 * The zdtm test library.
 *
 * A test is run as
 *	NAME --pidfile=P --outfile=O [--dir=D]
 * and goes through these steps:
 *
 *	test_init(argc, argv);	parse the arguments and daemonize: the
 *				original process waits until the test is
 *				ready, then exits 0 (1 if the test died)
 *	...set up state...
 *	test_daemon();		write the pid file: "ready to be dumped"
 *	test_waitsig();		sleep until SIGTERM (survives C/R)
 *	...check state...
 *	pass(); or fail("what went wrong: %d", x);
 *
 * pass() and fail() write the verdict to the out file, opened only then,
 * so a restored test needs no descriptor besides its own.
 */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

/* Set by the SIGTERM handler that test_init() installs. */
extern volatile sig_atomic_t test_sigterm;

/* The test's name: basename of argv[0]. */
extern const char *test_name;

void test_init(int argc, char **argv);
void test_daemon(void);
void test_waitsig(void);
/*
 * Block (true) SIGTERM around creating threads, so that they inherit the
 * block and the harness's SIGTERM reaches the main thread; then unblock.
 */
void test_sigterm_to_main_thread(bool block);

/*
 * A directory the test may create files in: --dir if given (created if
 * missing), else a new unique directory under /tmp. Absolute path.
 */
const char *test_dir(void);

/*
 * Give the directories of the pid file and the out file to uid:gid, for a
 * test that drops root before test_daemon(): it must still be able to
 * write both. Call it while still root.
 */
void test_files_owner(uid_t uid, gid_t gid);

void test_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pass(void) __attribute__((noreturn));
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* fail() with ": strerror(errno)" appended. */
#define fail_errno(fmt, ...) fail(fmt ": %m", ##__VA_ARGS__)

/*
 * Helpers used by several tests.
 */

/* Read a whole (small, e.g. /proc) file into buf, NUL-terminated. Returns length or -1. */
ssize_t read_file(const char *path, char *buf, size_t size);

/* A small deterministic pseudo-random generator (xorshift64*). */
static inline uint64_t zdtm_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Fill len bytes (multiple of 8) with the pattern of seed; check it. */
void fill_pattern(void *buf, size_t len, uint64_t seed);
/* Returns the offset of the first wrong byte, or -1 if all are right. */
ssize_t check_pattern(const void *buf, size_t len, uint64_t seed);

/*
 * Access one byte at addr (a read, or a write of its own value) under a
 * temporary SIGSEGV/SIGBUS handler. Returns the signal that the access
 * raised, or 0 if it went through.
 */
int access_faults(volatile void *addr, int write);

/* FNV-1a over len bytes. */
uint64_t checksum(const void *buf, size_t len, uint64_t h);

/*
 * For tests with more than one process. A child of the test must never
 * call pass() or fail(), which write the test's verdict: it reports with
 * test_msg() and its exit code, and ends with _exit().
 */

/* The state letter of /proc/PID/stat (R, S, Z, ...), or 0 if there is no such process. */
char proc_state_of(pid_t pid);
/* The parent of pid from /proc/PID/stat, or -1. */
pid_t proc_ppid_of(pid_t pid);
/*
 * Reap the child pid: wait up to timeout_ms for it to end, then SIGKILL it
 * and reap it. Returns 0 if it ended in time (its wait status in *status),
 * 1 if it had to be killed, -1 if pid is not a child of ours.
 */
int reap_child(pid_t pid, int *status, int timeout_ms);
/* "exit code N", "killed by signal N", ... for a wait status */
const char *wait_status_str(int status);

#endif
