// SPDX-License-Identifier: GPL-2.0
/*
 * A tree of 13 processes, 4 levels deep, made with every way of creating a
 * process, in two sessions and three process groups, with a zombie:
 *
 *	root				session root, group root (test_init's setsid)
 *	+- A		fork
 *	|  +- A1	clone		own stack; setpgid(0, 0): group A1
 *	|  +- A2	clone3		setpgid(0, A1): joins its sibling's group
 *	|  +- A3	fork
 *	|     +- A3a	vfork+exec	setpgid(0, A1): joins its uncle's group
 *	+- B		fork		setsid(): session B, group B
 *	|  +- B1	vfork+exec
 *	|  +- B2	fork		with a second thread
 *	|     +- B2a	clone3
 *	|     +- B2b	clone		own stack
 *	+- C		vfork+exec
 *	+- Z		fork		exits with 7, not reaped: a zombie
 *
 * "clone" is the raw clone syscall with SIGCHLD on a stack of its own,
 * "clone3" the raw clone3 syscall without CLONE_VM, "vfork+exec" a vfork
 * whose child runs this binary again (/proc/self/exe --tree-node N FD) as
 * the same node. Every process fills a buffer with a pattern of its own.
 *
 * Set-up: each process creates its children and waits until each of them
 * (with its subtree) is set up: the children hold the write end of a pipe
 * and close it when ready. The parent then records each child's pid, pgid,
 * sid and parent (and checks them against the table); each process
 * records its own too. The root writes the pid file when the whole tree is
 * set up; no pipe is left open by then.
 *
 * After restore, on SIGTERM, each process checks its own pid, parent, group,
 * session, pattern and threads against what it recorded, then checks each
 * child (parent, group, session; the zombie must still be a zombie with
 * status 7 for waitid(WNOWAIT), then reaped with status 7), SIGTERMs its
 * live children, reaps them and requires exit code 0 from each. It exits 0
 * if all is right, 1 if not; the root passes or fails. On any failure every
 * process still SIGTERMs and reaps its children, and kills one that does
 * not end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

enum how { ROOT, FORK, VFORK_EXEC, CLONE_STACK, CLONE3, ZOMBIE };
enum act { NONE, SETSID, OWN_GROUP, JOIN_GROUP };

struct node {
	const char *name;
	int parent;
	enum how how;
	enum act act;
	int peer; /* JOIN_GROUP: the node whose group it joins */
	bool thread;
};

static const struct node nodes[] = {
	{ "root", -1, ROOT },
	{ "A", 0, FORK },
	{ "A1", 1, CLONE_STACK, OWN_GROUP },
	{ "A2", 1, CLONE3, JOIN_GROUP, 2 },
	{ "A3", 1, FORK },
	{ "A3a", 4, VFORK_EXEC, JOIN_GROUP, 2 },
	{ "B", 0, FORK, SETSID },
	{ "B1", 6, VFORK_EXEC },
	{ "B2", 6, FORK, NONE, 0, true },
	{ "B2a", 8, CLONE3 },
	{ "B2b", 8, CLONE_STACK },
	{ "C", 0, VFORK_EXEC },
	{ "Z", 0, ZOMBIE },
};

#define NR_NODES (int)(sizeof(nodes) / sizeof(nodes[0]))
#define ZOMBIE_CODE 7
#define SEED(n) (0x7ee50000ULL + (n))

struct ids {
	pid_t pid, ppid, pgid, sid;
};

/* Each process has its own copy of these. */
static int me;			       /* its node */
static pid_t pid_of[NR_NODES];	       /* of the nodes created so far by it or its ancestors */
static struct ids rec[NR_NODES];       /* its own and its children's, recorded before the dump */
static int up_fd = -1;		       /* closed when it and its subtree are set up */
static int down_rd = -1, down_wr = -1; /* the pipe its children close */
static volatile pid_t thread_tid;
static uint64_t mem[4096];
static char why[512];
static const char *argv0;
static char clone_stack[64 * 1024] __attribute__((aligned(16)));

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void problem(const char *fmt, ...)
{
	char msg[256];
	va_list args;

	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	test_msg("%s: %s", nodes[me].name, msg);
	if (!why[0])
		snprintf(why, sizeof(why), "%s: %s", nodes[me].name, msg);
}

static int depth(int n)
{
	int d = 0;

	while (nodes[n].parent >= 0) {
		n = nodes[n].parent;
		d++;
	}
	return d;
}

/* Deeper processes give up on a child sooner than their parents on them. */
static int reap_timeout_ms(void)
{
	return 1000 * (5 - depth(me));
}

static void get_ids(pid_t pid, struct ids *ids)
{
	ids->pid = pid;
	ids->ppid = proc_ppid_of(pid);
	ids->pgid = getpgid(pid);
	ids->sid = getsid(pid);
}

/* setsid/setpgid as the table says: only system calls, as it also runs in a vfork child. */
static int do_act(int n)
{
	switch (nodes[n].act) {
	case SETSID:
		return setsid() < 0 ? -1 : 0;
	case OWN_GROUP:
		return setpgid(0, 0);
	case JOIN_GROUP:
		return setpgid(0, pid_of[nodes[n].peer]);
	default:
		return 0;
	}
}

static void *thread_main(void *arg)
{
	thread_tid = syscall(SYS_gettid);
	for (;;)
		pause();
	return NULL;
}

static int start_thread(void)
{
	sigset_t term, old;
	pthread_t t;
	int ret;

	/* the thread never takes the SIGTERM meant for the main thread */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, &old);
	ret = pthread_create(&t, NULL, thread_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		problem("pthread_create: %s", strerror(ret));
		return -1;
	}
	while (!thread_tid)
		usleep(1000);
	return 0;
}

static void node_main(void) __attribute__((noreturn));

/* The first code of a new process that did not exec: adopt the pipes. */
static int child_start(void *arg)
{
	me = (int)(long)arg;
	if (up_fd >= 0)
		close(up_fd);
	close(down_rd);
	up_fd = down_wr;
	down_rd = down_wr = -1;
	if (nodes[me].how == ZOMBIE)
		_exit(ZOMBIE_CODE);
	if (do_act(me)) {
		problem("set-up: %s: %m", nodes[me].act == SETSID ? "setsid" : "setpgid");
		_exit(1);
	}
	node_main();
}

/* The raw clone syscall, SIGCHLD only, the child on clone_stack calling fn(arg). */
static pid_t clone_on_stack(int (*fn)(void *), void *arg)
{
#ifdef __x86_64__
	register long r10 asm("r10") = 0;
	register long r8 asm("r8") = 0;
	register void *r12 asm("r12") = (void *)fn;
	register void *r13 asm("r13") = arg;
	long ret;

	asm volatile("syscall\n\t"
		     "test %%rax, %%rax\n\t"
		     "jnz 1f\n\t"
		     "xor %%ebp, %%ebp\n\t"
		     "mov %%r13, %%rdi\n\t"
		     "call *%%r12\n\t"
		     "mov %%eax, %%edi\n\t"
		     "mov %[nr_exit], %%eax\n\t"
		     "syscall\n\t"
		     "hlt\n"
		     "1:"
		     : "=a"(ret)
		     : "0"((long)SYS_clone), "D"((long)SIGCHLD), "S"(clone_stack + sizeof(clone_stack)), "d"(0L),
		       "r"(r10), "r"(r8), "r"(r12), "r"(r13), [nr_exit] "i"(SYS_exit)
		     : "rcx", "r11", "memory");
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
#else
	return clone(fn, clone_stack + sizeof(clone_stack), SIGCHLD, arg);
#endif
}

static pid_t clone3_novm(void)
{
	/* struct clone_args, version 0 */
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	} args = { .exit_signal = SIGCHLD };

	return syscall(SYS_clone3, &args, sizeof(args));
}

static pid_t spawn(int n)
{
	extern char **environ;
	char idx[16], fd[16];
	char *argv[] = { (char *)argv0, "--tree-node", idx, fd, NULL };
	pid_t pid;

	switch (nodes[n].how) {
	case FORK:
	case ZOMBIE:
		pid = fork();
		break;
	case CLONE3:
		pid = clone3_novm();
		break;
	case CLONE_STACK:
		return clone_on_stack(child_start, (void *)(long)n);
	case VFORK_EXEC:
		snprintf(idx, sizeof(idx), "%d", n);
		snprintf(fd, sizeof(fd), "%d", down_wr);
		pid = vfork();
		if (pid == 0) {
			/* only system calls here: the memory is the parent's */
			if (!do_act(n) && !fcntl(down_wr, F_SETFD, 0))
				execve("/proc/self/exe", argv, environ);
			_exit(127);
		}
		return pid;
	default:
		errno = EINVAL;
		return -1;
	}
	if (pid == 0)
		child_start((void *)(long)n);
	return pid;
}

static bool is_child(int n)
{
	return nodes[n].parent == me && pid_of[n] > 0;
}

/* The group child n must be in once set up, as the table says. */
static pid_t expected_pgid(int n)
{
	switch (nodes[n].act) {
	case SETSID:
	case OWN_GROUP:
		return pid_of[n];
	case JOIN_GROUP:
		return pid_of[nodes[n].peer];
	default:
		return rec[me].pgid;
	}
}

/* Create the children, wait until their subtrees are set up, record them. */
static int spawn_children(void)
{
	int fds[2], n, nr = 0;
	char c;

	for (n = 0; n < NR_NODES; n++)
		nr += nodes[n].parent == me;
	if (!nr)
		return 0;
	if (pipe2(fds, O_CLOEXEC)) {
		problem("set-up: pipe: %m");
		return -1;
	}
	down_rd = fds[0];
	down_wr = fds[1];
	for (n = 0; n < NR_NODES && !test_sigterm; n++) {
		if (nodes[n].parent != me)
			continue;
		pid_of[n] = spawn(n);
		if (pid_of[n] < 0) {
			problem("set-up: creating %s: %m", nodes[n].name);
			pid_of[n] = 0;
			break;
		}
		/* as a shell does, so that a later sibling can join the group at once */
		if (nodes[n].act == OWN_GROUP && nodes[n].how != VFORK_EXEC && setpgid(pid_of[n], pid_of[n])) {
			problem("set-up: setpgid(%d) for %s: %m", pid_of[n], nodes[n].name);
			break;
		}
	}
	close(down_wr);
	down_wr = -1;
	while (read(down_rd, &c, 1) != 0)
		if (errno != EINTR || test_sigterm)
			break;
	close(down_rd);
	down_rd = -1;
	if (why[0] || test_sigterm)
		return -1;

	for (n = 0; n < NR_NODES; n++) {
		siginfo_t si = {};
		pid_t want_sid, want_pgid;

		if (!is_child(n))
			continue;
		if (nodes[n].how == ZOMBIE && waitid(P_PID, pid_of[n], &si, WEXITED | WNOWAIT)) {
			problem("set-up: waitid(%s): %m", nodes[n].name);
			return -1;
		}
		if (nodes[n].how != ZOMBIE && proc_state_of(pid_of[n]) == 'Z') {
			problem("set-up: %s (%d) died", nodes[n].name, pid_of[n]);
			return -1;
		}
		get_ids(pid_of[n], &rec[n]);
		want_sid = nodes[n].act == SETSID ? pid_of[n] : rec[me].sid;
		want_pgid = expected_pgid(n);
		if (rec[n].ppid != getpid() || rec[n].sid != want_sid || rec[n].pgid != want_pgid) {
			problem("set-up: %s (%d): parent %d, session %d, group %d; expected %d, %d, %d", nodes[n].name,
				pid_of[n], rec[n].ppid, rec[n].sid, rec[n].pgid, getpid(), want_sid, want_pgid);
			return -1;
		}
	}
	return 0;
}

static int count_tasks(pid_t *other)
{
	struct dirent *de;
	int nr = 0;
	DIR *d;

	d = opendir("/proc/self/task");
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		pid_t tid = atoi(de->d_name);

		if (tid <= 0)
			continue;
		nr++;
		if (tid != getpid())
			*other = tid;
	}
	closedir(d);
	return nr;
}

static void check_self(void)
{
	pid_t other = 0;
	ssize_t off;
	int nr;

	if (getpid() != rec[me].pid)
		problem("pid %d, was %d", getpid(), rec[me].pid);
	/* the root's parent was test_init's launcher */
	if (me && getppid() != rec[me].ppid)
		problem("parent %d, was %d", getppid(), rec[me].ppid);
	if (getpgrp() != rec[me].pgid)
		problem("group %d, was %d", getpgrp(), rec[me].pgid);
	if (getsid(0) != rec[me].sid)
		problem("session %d, was %d", getsid(0), rec[me].sid);
	off = check_pattern(mem, sizeof(mem), SEED(me));
	if (off >= 0)
		problem("its memory differs at byte %zd", off);
	nr = count_tasks(&other);
	if (nr != (nodes[me].thread ? 2 : 1) || (nodes[me].thread && other != thread_tid))
		problem("%d threads (one is %d), expected %s%d", nr, other,
			nodes[me].thread ? "its main thread and " : "", nodes[me].thread ? thread_tid : getpid());
}

/* After restore (check) or to clean up after a failure: end and reap every child. */
static void stop_children(bool check)
{
	int n, status, ret;

	for (n = 0; n < NR_NODES; n++) {
		struct ids now;
		siginfo_t si = {};

		if (!is_child(n))
			continue;
		if (check) {
			get_ids(pid_of[n], &now);
			if (now.ppid != getpid() || now.pgid != rec[n].pgid || now.sid != rec[n].sid)
				problem("%s (%d): parent %d, group %d, session %d; were %d, %d, %d", nodes[n].name,
					pid_of[n], now.ppid, now.pgid, now.sid, rec[n].ppid, rec[n].pgid, rec[n].sid);
		}
		if (nodes[n].how != ZOMBIE) {
			kill(pid_of[n], SIGTERM);
			continue;
		}
		if (!check)
			continue;
		if (proc_state_of(pid_of[n]) != 'Z')
			problem("%s (%d) is in state %c, not a zombie", nodes[n].name, pid_of[n],
				proc_state_of(pid_of[n]) ?: '-');
		if (waitid(P_PID, pid_of[n], &si, WEXITED | WNOHANG | WNOWAIT))
			problem("waitid(%s, WNOWAIT): %m", nodes[n].name);
		else if (si.si_pid != pid_of[n] || si.si_code != CLD_EXITED || si.si_status != ZOMBIE_CODE)
			problem("waitid(%s, WNOWAIT): pid %d code %d status %d, expected %d exited with %d",
				nodes[n].name, si.si_pid, si.si_code, si.si_status, pid_of[n], ZOMBIE_CODE);
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, pid_of[n], &si, WEXITED | WNOHANG))
			problem("waitid(%s): %m", nodes[n].name);
		else if (si.si_pid != pid_of[n] || si.si_code != CLD_EXITED || si.si_status != ZOMBIE_CODE)
			problem("reaping %s: pid %d code %d status %d, expected %d exited with %d", nodes[n].name,
				si.si_pid, si.si_code, si.si_status, pid_of[n], ZOMBIE_CODE);
		if (si.si_pid == pid_of[n])
			pid_of[n] = 0; /* reaped */
		else
			kill(pid_of[n], SIGKILL); /* alive: it must not be */
	}
	for (n = 0; n < NR_NODES; n++) {
		if (!is_child(n))
			continue;
		ret = reap_child(pid_of[n], &status, reap_timeout_ms());
		if (ret < 0)
			problem("%s (%d) is not a child any more", nodes[n].name, pid_of[n]);
		else if (ret > 0)
			problem("%s (%d) did not end on SIGTERM: killed", nodes[n].name, pid_of[n]);
		else if (check && nodes[n].how != ZOMBIE && status)
			problem("%s (%d) ended: %s", nodes[n].name, pid_of[n], wait_status_str(status));
		pid_of[n] = 0;
	}
}

/* Set up, wait for SIGTERM, check: everything a process but the root does. */
static void node_main(void)
{
	get_ids(getpid(), &rec[me]);
	pid_of[me] = rec[me].pid;
	fill_pattern(mem, sizeof(mem), SEED(me));
	if ((nodes[me].thread && start_thread()) || spawn_children()) {
		stop_children(false);
		_exit(1);
	}
	close(up_fd);
	up_fd = -1;

	test_waitsig();
	check_self();
	stop_children(true);
	_exit(why[0] ? 1 : 0);
}

static void on_sigterm(int sig)
{
	test_sigterm = 1;
}

/* A vfork child went on here after exec: argv0 --tree-node N FD */
static void exec_node_main(char **argv)
{
	struct sigaction sa = { .sa_handler = on_sigterm };
	const char *slash = strrchr(argv[0], '/');

	test_name = slash ? slash + 1 : argv[0];
	prctl(PR_SET_NAME, test_name, 0, 0, 0); /* not "exe" */
	me = atoi(argv[2]);
	up_fd = atoi(argv[3]);
	sigemptyset(&sa.sa_mask);
	if (me <= 0 || me >= NR_NODES || nodes[me].how != VFORK_EXEC || sigaction(SIGTERM, &sa, NULL))
		_exit(2);
	node_main();
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--tree-node"))
		exec_node_main(argv);
	argv0 = argv[0];
	test_init(argc, argv);

	get_ids(getpid(), &rec[0]);
	pid_of[0] = rec[0].pid;
	fill_pattern(mem, sizeof(mem), SEED(0));
	if (rec[0].sid != rec[0].pid || rec[0].pgid != rec[0].pid) {
		problem("set-up: not a session leader after test_init");
	} else if (spawn_children()) {
		stop_children(false);
	}
	if (why[0])
		fail("%s", why);

	test_daemon();
	test_waitsig();

	check_self();
	stop_children(true);
	if (why[0])
		fail("%s", why);
	pass();
}
