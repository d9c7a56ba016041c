// SPDX-License-Identifier: GPL-2.0
/* zdtm: attached=1 */
/*
 * Process attributes set with prctl() and personality():
 *   pdeathsig SIGUSR2 (handled), dumpable 0, timer slack 123457 ns,
 *   THP disabled, child subreaper, personality ADDR_NO_RANDOMIZE.
 * All must read back the same after restore. The parent of the test (the
 * launcher, later criu) goes away, so SIGUSR2 may arrive: it is handled.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>

#include "zdtmtst.h"

#define TIMER_SLACK 123457

struct attrs {
	int pdeathsig, dumpable, subreaper, thp, persona;
	long slack;
};

static volatile sig_atomic_t usr2_count;

static void usr2_handler(int sig)
{
	usr2_count++;
}

static void read_attrs(struct attrs *a)
{
	memset(a, 0, sizeof(*a));
	prctl(PR_GET_PDEATHSIG, &a->pdeathsig, 0, 0, 0);
	prctl(PR_GET_CHILD_SUBREAPER, &a->subreaper, 0, 0, 0);
	a->dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	a->thp = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
	a->slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	a->persona = personality(0xffffffff);
}

static void cmp(char *why, size_t size, const char *name, long before, long after)
{
	size_t len = strlen(why);

	if (before != after)
		snprintf(why + len, size - len, "%s %ld -> %ld; ", name, before, after);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = usr2_handler };
	struct attrs before, after;
	char why[1024] = "";

	test_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR2, &sa, NULL))
		fail_errno("sigaction SIGUSR2");
	if (prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0) || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) ||
	    prctl(PR_SET_TIMERSLACK, TIMER_SLACK, 0, 0, 0) || prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) ||
	    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		fail_errno("prctl");
	if (personality(PER_LINUX | ADDR_NO_RANDOMIZE) < 0)
		fail_errno("personality");
	read_attrs(&before);
	if (before.pdeathsig != SIGUSR2 || before.dumpable || before.slack != TIMER_SLACK || !before.thp ||
	    !before.subreaper || !(before.persona & ADDR_NO_RANDOMIZE))
		fail("set-up: the attributes did not take");

	test_daemon();
	test_waitsig();

	read_attrs(&after);
	cmp(why, sizeof(why), "pdeathsig", before.pdeathsig, after.pdeathsig);
	cmp(why, sizeof(why), "dumpable", before.dumpable, after.dumpable);
	cmp(why, sizeof(why), "child_subreaper", before.subreaper, after.subreaper);
	cmp(why, sizeof(why), "thp_disable", before.thp, after.thp);
	cmp(why, sizeof(why), "timer slack", before.slack, after.slack);
	cmp(why, sizeof(why), "personality", before.persona, after.persona);
	if (why[0])
		fail("attributes changed: %s", why);
	test_msg("SIGUSR2 (pdeathsig) arrived %d times", usr2_count);
	pass();
}
