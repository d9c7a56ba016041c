// SPDX-License-Identifier: GPL-2.0
/* zdtm: dump-opts=--freeze-cgroup=/sys/fs/cgroup/freezer/zdtm_tree_freeze_cgroup churner=churner */
/*
 * A tree dumped with --freeze-cgroup, in a cgroup v1 freezer of its own:
 *
 *	root	makes the cgroup CG and moves into it before any fork
 *	+- E1	echo: copies the root's ping into its pong (shared memory)
 *	+- E2	echo, likewise
 *	+- C	"churner": forks children that exit at once with 7, reaps
 *		each; counts them and those that did not exit with 7
 *
 * The dump freezes CG, seizes the whole tree while nothing in it can fork
 * or exit, and thaws it; C is caught in any state (a child being born,
 * running, exiting, or a zombie not reaped yet). After restore the root
 * checks every process of the tree: present, not stopped or traced, not in
 * a frozen cgroup (nor in D state, which is how /proc shows a v1-frozen
 * task); E1 and E2 answer a ping and C keeps forking. On SIGTERM all must
 * end with 0, C having seen every child it reaped exit with 7.
 *
 * CG is removed on the way out: the root kills and reaps its children,
 * leaves CG if it is still in it (without C/R) and rmdir()s it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define FREEZER_ROOT "/sys/fs/cgroup/freezer"
#define CG_NAME "zdtm_tree_freeze_cgroup"
#define CG FREEZER_ROOT "/" CG_NAME
#define NR_ECHO 2
#define WAIT_MS 5000

struct shared {
	unsigned long ping[NR_ECHO]; /* written by the root */
	unsigned long pong[NR_ECHO]; /* copied by echo child i */
	unsigned long forks;	     /* children the churner reaped */
	unsigned long bad;	     /* ... that did not exit with 7 */
};

static struct shared *sh;
static pid_t kids[NR_ECHO + 1]; /* E1, E2, C */
static const char *const kid_names[] = { "E1", "E2", "C" };

static unsigned long get(unsigned long *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static void set(unsigned long *p, unsigned long v)
{
	__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void echo(int i)
{
	while (!test_sigterm) {
		if (get(&sh->pong[i]) != get(&sh->ping[i]))
			set(&sh->pong[i], get(&sh->ping[i]));
		sleep_ms(1);
	}
	_exit(0);
}

static void churn(void)
{
	int status;
	pid_t pid;

	prctl(PR_SET_NAME, "churner", 0, 0, 0);
	while (!test_sigterm) {
		pid = fork();
		if (pid == 0)
			_exit(7);
		if (pid < 0) {
			__atomic_add_fetch(&sh->bad, 1, __ATOMIC_SEQ_CST);
			sleep_ms(1);
			continue;
		}
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 7)
			__atomic_add_fetch(&sh->bad, 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&sh->forks, 1, __ATOMIC_SEQ_CST);
	}
	_exit(get(&sh->bad) ? 1 : 0);
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -1;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		ret = -1;
	close(fd);
	return ret;
}

/* The v1 freezer cgroup of pid, relative to the hierarchy ("/" for the root), or "" if unknown. */
static void freezer_cgroup_of(pid_t pid, char *out, size_t len)
{
	char path[64], buf[4096], *p;

	out[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return;
	for (p = strtok(buf, "\n"); p; p = strtok(NULL, "\n")) {
		char *ctl = strchr(p, ':'), *cg = ctl ? strchr(ctl + 1, ':') : NULL;

		if (!cg || strncmp(ctl + 1, "freezer", cg - ctl - 1))
			continue;
		snprintf(out, len, "%s", cg + 1);
		return;
	}
}

static bool in_cg(pid_t pid)
{
	char cg[256];

	freezer_cgroup_of(pid, cg, sizeof(cg));
	return !strcmp(cg, "/" CG_NAME);
}

/* Leave CG (if still in it) and remove it; children must be gone already. */
static void remove_cg(void)
{
	char pid[32];
	int i;

	if (in_cg(getpid())) {
		snprintf(pid, sizeof(pid), "%d", getpid());
		if (write_str(FREEZER_ROOT "/cgroup.procs", pid))
			test_msg("can't leave %s: %m\n", CG);
	}
	/* a killed child may take a moment to leave the cgroup */
	for (i = 0; i < 200; i++) {
		if (!rmdir(CG) || errno == ENOENT)
			return;
		sleep_ms(10);
	}
	test_msg("can't remove %s: %m\n", CG);
}

static void kill_kids(void)
{
	int i;

	for (i = 0; i <= NR_ECHO; i++) {
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			reap_child(kids[i], NULL, 1000);
			kids[i] = 0;
		}
	}
}

#define bail(...)                  \
	do {                       \
		kill_kids();       \
		remove_cg();       \
		fail(__VA_ARGS__); \
	} while (0)

static void setup_cg(void)
{
	char pid[32];

	if (access(FREEZER_ROOT "/cgroup.procs", F_OK))
		fail("no cgroup v1 freezer hierarchy at %s", FREEZER_ROOT);
	if (mkdir(CG, 0755) && errno != EEXIST)
		fail_errno("mkdir %s", CG);
	/* left over by a killed run: it may have been left frozen */
	if (write_str(CG "/freezer.state", "THAWED"))
		bail("can't thaw %s: %m", CG);
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (write_str(CG "/cgroup.procs", pid))
		bail("can't move into %s: %m", CG);
	if (!in_cg(getpid()))
		bail("not in %s after moving into it", CG);
}

static pid_t start(int i)
{
	pid_t pid = fork();

	if (pid < 0)
		bail("fork: %m");
	if (pid == 0) {
		if (i < NR_ECHO)
			echo(i);
		churn();
	}
	return pid;
}

/* Wait until *p reaches at least want; false on timeout. */
static bool wait_for(unsigned long *p, unsigned long want)
{
	int ms;

	for (ms = 0; ms < WAIT_MS; ms++) {
		if (get(p) >= want)
			return true;
		sleep_ms(1);
	}
	return false;
}

/* pid runs freely: not stopped, traced, frozen or in a frozen cgroup. */
static void check_free(pid_t pid, const char *name, char *why, size_t len)
{
	char path[512], buf[4096], cg[256], fstate[32];
	const char *tracer;
	char state;

	state = proc_state_of(pid);
	if (!state || state == 'Z' || state == 'X' || state == 'T' || state == 't' || state == 'D') {
		snprintf(why, len, "%s (%d) is in state %c", name, pid, state ?: '-');
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file(path, buf, sizeof(buf)) < 0 || !(tracer = strstr(buf, "TracerPid:"))) {
		snprintf(why, len, "%s (%d): can't read its status", name, pid);
		return;
	}
	if (atoi(tracer + strlen("TracerPid:"))) {
		snprintf(why, len, "%s (%d) is traced by %d", name, pid, atoi(tracer + strlen("TracerPid:")));
		return;
	}
	freezer_cgroup_of(pid, cg, sizeof(cg));
	if (!cg[0]) {
		snprintf(why, len, "%s (%d) has no freezer cgroup", name, pid);
		return;
	}
	if (!strcmp(cg, "/"))
		return; /* the root cgroup can't be frozen */
	snprintf(path, sizeof(path), FREEZER_ROOT "%s/freezer.state", cg);
	if (read_file(path, fstate, sizeof(fstate)) < 0)
		snprintf(fstate, sizeof(fstate), "gone");
	fstate[strcspn(fstate, "\n")] = 0;
	if (strcmp(fstate, "THAWED"))
		snprintf(why, len, "%s (%d) is in cgroup %s, which is %s", name, pid, cg, fstate);
}

static void check_tree(char *why, size_t len)
{
	unsigned long f;
	int i;

	check_free(getpid(), "root", why, len);
	for (i = 0; i <= NR_ECHO && !why[0]; i++) {
		if (proc_ppid_of(kids[i]) != getpid())
			snprintf(why, len, "%s (%d) has parent %d, not %d", kid_names[i], kids[i],
				 proc_ppid_of(kids[i]), getpid());
		else
			check_free(kids[i], kid_names[i], why, len);
	}
	for (i = 0; i < NR_ECHO && !why[0]; i++) {
		set(&sh->ping[i], get(&sh->ping[i]) + 1000 + i);
		if (!wait_for(&sh->pong[i], get(&sh->ping[i])))
			snprintf(why, len, "%s (%d) does not answer: pong %lu, ping %lu", kid_names[i], kids[i],
				 get(&sh->pong[i]), get(&sh->ping[i]));
	}
	f = get(&sh->forks);
	if (!why[0] && !wait_for(&sh->forks, f + 20))
		snprintf(why, len, "C (%d) does not fork any more: %lu children, %lu a while ago", kids[NR_ECHO],
			 get(&sh->forks), f);
}

int main(int argc, char **argv)
{
	char why[512] = "";
	int i, status;

	test_init(argc, argv);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		fail_errno("mmap");
	setup_cg();
	for (i = 0; i <= NR_ECHO; i++)
		kids[i] = start(i);
	check_tree(why, sizeof(why));
	for (i = 0; i <= NR_ECHO && !why[0]; i++)
		if (!in_cg(kids[i]))
			snprintf(why, sizeof(why), "%s (%d) is not in %s", kid_names[i], kids[i], CG);
	if (why[0])
		bail("set-up: %s", why);

	test_daemon();
	test_waitsig();

	check_tree(why, sizeof(why));
	for (i = 0; i <= NR_ECHO; i++) {
		status = 0;
		kill(kids[i], SIGTERM);
		if (reap_child(kids[i], &status, WAIT_MS) || !WIFEXITED(status) || WEXITSTATUS(status)) {
			if (!why[0])
				snprintf(why, sizeof(why), "%s (%d) ended with %s", kid_names[i], kids[i],
					 wait_status_str(status));
		}
		kids[i] = 0;
	}
	test_msg("the churner reaped %lu children, %lu of them wrong\n", get(&sh->forks), get(&sh->bad));
	if (!why[0] && get(&sh->bad))
		snprintf(why, sizeof(why), "%lu of the churner's %lu children did not exit with 7", get(&sh->bad),
			 get(&sh->forks));
	remove_cg();
	if (why[0])
		fail("%s", why);
	pass();
}
