// SPDX-License-Identifier: GPL-2.0
/*
 * Per-thread kernel state besides registers:
 *   an alternate signal stack (a static 64 KiB buffer) used by a SIGUSR1
 *   handler with SA_ONSTACK,
 *   clear_child_tid set with set_tid_address() to a known word,
 *   the robust futex list set with set_robust_list() to a known head.
 * After restore sigaltstack(), PR_GET_TID_ADDRESS and get_robust_list()
 * must report the same, and the handler must run on the alternate stack.
 */
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define ALTSTACK_SIZE (64 << 10)

static char altstack[ALTSTACK_SIZE] __attribute__((aligned(16)));
static int tid_word;
static struct robust_list_head robust_head;
static volatile sig_atomic_t on_altstack = -1;

static void usr1_handler(int sig)
{
	char here;

	on_altstack = &here >= altstack && &here < altstack + ALTSTACK_SIZE;
}

static void set_up(void)
{
	stack_t ss = { .ss_sp = altstack, .ss_size = ALTSTACK_SIZE, .ss_flags = 0 };
	struct sigaction sa = { .sa_handler = usr1_handler, .sa_flags = SA_ONSTACK };

	if (sigaltstack(&ss, NULL))
		fail_errno("sigaltstack");
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		fail_errno("sigaction SIGUSR1");
	syscall(SYS_set_tid_address, &tid_word);
	robust_head.list.next = &robust_head.list;
	if (syscall(SYS_set_robust_list, &robust_head, sizeof(robust_head)))
		fail_errno("set_robust_list");
}

static void check(char *why, size_t size)
{
	stack_t ss;
	void *tid_addr = NULL, *head = NULL;
	size_t len = 0, off;

	if (sigaltstack(NULL, &ss))
		fail_errno("sigaltstack");
	off = strlen(why);
	if (ss.ss_sp != altstack || ss.ss_size != ALTSTACK_SIZE || ss.ss_flags)
		snprintf(why + off, size - off, "sigaltstack %p size %zu flags %#x, expected %p %d 0; ", ss.ss_sp,
			 ss.ss_size, ss.ss_flags, (void *)altstack, ALTSTACK_SIZE);
	if (prctl(PR_GET_TID_ADDRESS, &tid_addr, 0, 0, 0))
		fail_errno("PR_GET_TID_ADDRESS");
	off = strlen(why);
	if (tid_addr != &tid_word)
		snprintf(why + off, size - off, "clear_child_tid %p, expected %p; ", tid_addr, (void *)&tid_word);
	if (syscall(SYS_get_robust_list, 0, &head, &len))
		fail_errno("get_robust_list");
	off = strlen(why);
	if (head != &robust_head || len != sizeof(robust_head))
		snprintf(why + off, size - off, "robust list %p len %zu, expected %p %zu; ", head, len,
			 (void *)&robust_head, sizeof(robust_head));
	raise(SIGUSR1);
	off = strlen(why);
	if (on_altstack != 1)
		snprintf(why + off, size - off, "the SA_ONSTACK handler ran %s the alternate stack; ",
			 on_altstack < 0 ? "not at all, not even on" : "outside");
}

int main(int argc, char **argv)
{
	char why[1024] = "";

	test_init(argc, argv);
	set_up();
	check(why, sizeof(why));
	if (why[0])
		fail("set-up: %s", why);

	test_daemon();
	test_waitsig();

	check(why, sizeof(why));
	if (why[0])
		fail("after restore: %s", why);
	pass();
}
