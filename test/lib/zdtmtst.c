// SPDX-License-Identifier: GPL-2.0
/*
 * The zdtm test library: argument parsing, daemonizing, the ready/pidfile
 * handshake, waiting for SIGTERM and reporting the verdict.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

volatile sig_atomic_t test_sigterm;
const char *test_name = "zdtm";

static char pidfile[PATH_MAX];
static char outfile[PATH_MAX];
static char dirarg[PATH_MAX];
static char tmpdir[PATH_MAX];

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s --pidfile=FILE --outfile=FILE [--dir=DIR]\n", prog);
	exit(2);
}

/* Store path in dst, made absolute against the current directory. */
static void set_abs_path(char *dst, const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/') {
		snprintf(dst, PATH_MAX, "%s", path);
		return;
	}
	if (!getcwd(cwd, sizeof(cwd))) {
		perror("getcwd");
		exit(2);
	}
	if (snprintf(dst, PATH_MAX, "%s/%s", cwd, path) >= PATH_MAX) {
		fprintf(stderr, "path too long: %s\n", path);
		exit(2);
	}
}

static void parse_args(int argc, char **argv)
{
	static const char *const names[] = { "--pidfile", "--outfile", "--dir" };
	char *dsts[] = { pidfile, outfile, dirarg };
	int i, n;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL;

		for (n = 0; n < 3; n++) {
			size_t len = strlen(names[n]);

			if (strncmp(arg, names[n], len))
				continue;
			if (arg[len] == '=')
				val = arg + len + 1;
			else if (arg[len] == '\0' && i + 1 < argc)
				val = argv[++i];
			else
				continue;
			break;
		}
		if (!val || !*val)
			usage(argv[0]);
		set_abs_path(dsts[n], val);
	}
	if (!pidfile[0] || !outfile[0])
		usage(argv[0]);
}

static void sigterm_handler(int sig)
{
	test_sigterm = 1;
}

/*
 * The original process stays in the foreground until the test is ready,
 * that is until the pid file appears. It polls rather than waits on a
 * pipe, so the test never has a descriptor of its own besides 0, 1, 2.
 */
static void wait_ready(pid_t child)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int status;
	pid_t ret;

	for (;;) {
		ret = waitpid(child, &status, WNOHANG);
		if (ret == child)
			break;
		if (ret < 0) {
			fprintf(stderr, "%s: waitpid: %s\n", test_name, strerror(errno));
			_exit(1);
		}
		if (access(pidfile, F_OK) == 0)
			_exit(0);
		nanosleep(&ts, NULL);
	}
	if (WIFEXITED(status))
		fprintf(stderr, "%s: test exited with %d during set-up\n", test_name, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		fprintf(stderr, "%s: test killed by signal %d during set-up\n", test_name, WTERMSIG(status));
	_exit(1);
}

void test_init(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = sigterm_handler };
	const char *slash;
	pid_t pid;

	if (argc > 0 && argv[0]) {
		slash = strrchr(argv[0], '/');
		test_name = slash ? slash + 1 : argv[0];
	}
	parse_args(argc, argv);
	unlink(pidfile);
	unlink(outfile);

	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid > 0)
		wait_ready(pid);

	setsid();

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL))
		fail_errno("sigaction(SIGTERM)");
}

void test_daemon(void)
{
	char tmp[PATH_MAX + 8], buf[32];
	int fd, len;

	snprintf(tmp, sizeof(tmp), "%s.tmp", pidfile);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail_errno("open %s", tmp);
	len = snprintf(buf, sizeof(buf), "%d\n", getpid());
	if (write(fd, buf, len) != len)
		fail_errno("write %s", tmp);
	close(fd);
	/* atomic: the pid file appears complete */
	if (rename(tmp, pidfile))
		fail_errno("rename %s", tmp);
}

/*
 * Sleep in sigsuspend with SIGTERM blocked outside of it, so a SIGTERM can
 * not slip in between the check and the sleep. Being dumped and restored
 * makes sigsuspend return or restart; either way the loop goes on.
 */
void test_waitsig(void)
{
	sigset_t block, old, wait;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	wait = old;
	sigdelset(&wait, SIGTERM);
	while (!test_sigterm)
		sigsuspend(&wait);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

const char *test_dir(void)
{
	if (dirarg[0]) {
		if (mkdir(dirarg, 0755) && errno != EEXIST)
			fail_errno("mkdir %s", dirarg);
		return dirarg;
	}
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/zdtm-%s-XXXXXX", test_name);
		if (!mkdtemp(tmpdir))
			fail_errno("mkdtemp %s", tmpdir);
	}
	return tmpdir;
}

static void chown_parent(const char *path, uid_t uid, gid_t gid)
{
	char dir[PATH_MAX], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		fail("%s has no directory of its own to give away", path);
	*slash = '\0';
	if (chown(dir, uid, gid))
		fail_errno("chown %s to %d:%d", dir, (int)uid, (int)gid);
}

void test_files_owner(uid_t uid, gid_t gid)
{
	chown_parent(pidfile, uid, gid);
	chown_parent(outfile, uid, gid);
}

static void vmsg(const char *prefix, const char *fmt, va_list args)
{
	char buf[1024];
	int off, len;
	int saved_errno = errno;

	off = snprintf(buf, sizeof(buf), "[%s %d] %s", test_name, getpid(), prefix);
	errno = saved_errno;
	len = vsnprintf(buf + off, sizeof(buf) - off - 1, fmt, args);
	len += off;
	if (len > (int)sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	if (buf[len - 1] != '\n')
		buf[len++] = '\n';
	if (write(2, buf, len) < 0)
		;
	errno = saved_errno;
}

void test_msg(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vmsg("", fmt, args);
	va_end(args);
}

static void write_outfile(const char *text, size_t len)
{
	int fd;

	fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		test_msg("can't open %s: %m", outfile);
		return;
	}
	if (write(fd, text, len) != (ssize_t)len)
		test_msg("can't write %s: %m", outfile);
	close(fd);
}

void pass(void)
{
	test_msg("PASS");
	write_outfile("PASS\n", 5);
	exit(0);
}

void fail(const char *fmt, ...)
{
	char buf[1024];
	va_list args;
	int len;

	va_start(args, fmt);
	len = snprintf(buf, sizeof(buf), "FAIL: ");
	len += vsnprintf(buf + len, sizeof(buf) - len - 1, fmt, args);
	va_end(args);
	if (len > (int)sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	buf[len++] = '\n';
	test_msg("%.*s", len - 1, buf);
	write_outfile(buf, len);
	exit(1);
}

ssize_t read_file(const char *path, char *buf, size_t size)
{
	size_t off = 0;
	ssize_t ret;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (off < size - 1) {
		ret = read(fd, buf + off, size - 1 - off);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		if (ret == 0)
			break;
		off += ret;
	}
	close(fd);
	buf[off] = '\0';
	return off;
}

void fill_pattern(void *buf, size_t len, uint64_t seed)
{
	uint64_t *p = buf, state = seed | 1;
	size_t i;

	for (i = 0; i < len / 8; i++)
		p[i] = zdtm_rand(&state);
}

ssize_t check_pattern(const void *buf, size_t len, uint64_t seed)
{
	const uint64_t *p = buf;
	uint64_t state = seed | 1, want;
	size_t i, j;

	for (i = 0; i < len / 8; i++) {
		want = zdtm_rand(&state);
		if (p[i] == want)
			continue;
		for (j = 0; j < 8; j++)
			if (((const uint8_t *)&p[i])[j] != ((const uint8_t *)&want)[j])
				break;
		return i * 8 + j;
	}
	return -1;
}

uint64_t checksum(const void *buf, size_t len, uint64_t h)
{
	const uint8_t *p = buf;
	size_t i;

	if (!h)
		h = 0xcbf29ce484222325ULL;
	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static sigjmp_buf fault_jmp;

static void fault_handler(int sig)
{
	siglongjmp(fault_jmp, sig);
}

int access_faults(volatile void *addr, int write)
{
	struct sigaction sa = { .sa_handler = fault_handler }, old_segv, old_bus;
	volatile uint8_t *p = addr;
	int sig;

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	sig = sigsetjmp(fault_jmp, 1);
	if (!sig) {
		if (write)
			*p = *p;
		else
			(void)*p;
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return sig;
}

void test_sigterm_to_main_thread(bool block)
{
	sigset_t term;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	if (pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &term, NULL))
		fail("pthread_sigmask");
}

/* The fields of /proc/PID/stat after the comm: "S 1234 ..." */
static int proc_stat_tail(pid_t pid, char *buf, size_t size, char **tail)
{
	char path[64], *paren;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file(path, buf, size) < 0)
		return -1;
	paren = strrchr(buf, ')');
	if (!paren || paren[1] != ' ' || !paren[2])
		return -1;
	*tail = paren + 2;
	return 0;
}

char proc_state_of(pid_t pid)
{
	char buf[1024], *tail;

	return proc_stat_tail(pid, buf, sizeof(buf), &tail) ? 0 : tail[0];
}

pid_t proc_ppid_of(pid_t pid)
{
	char buf[1024], *tail;
	int ppid;

	if (proc_stat_tail(pid, buf, sizeof(buf), &tail) || sscanf(tail, "%*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

int reap_child(pid_t pid, int *status, int timeout_ms)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int waited, tmp;
	pid_t ret;

	if (!status)
		status = &tmp;
	for (waited = 0;; waited += 5) {
		ret = waitpid(pid, status, WNOHANG);
		if (ret == pid)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -1;
		if (waited >= timeout_ms)
			break;
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 1;
}

const char *wait_status_str(int status)
{
	static char buf[64];

	if (WIFEXITED(status))
		snprintf(buf, sizeof(buf), "exit code %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, sizeof(buf), "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, sizeof(buf), "wait status %#x", status);
	return buf;
}
