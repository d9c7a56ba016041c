// SPDX-License-Identifier: GPL-2.0
/*
 * The restorer's other threads. Once the memory is rebuilt, the leader
 * creates every other thread of the target with clone3 and its saved tid.
 * Each thread runs on its own stack in the area and does what only a
 * thread can do for itself: its scheduling, tid address, robust list,
 * timer slack, name and TLS bases, then the credential sequence (the raw
 * set*id syscalls change the calling thread only), pdeathsig and
 * no_new_privs. It then tells the leader it is ready, registers its rseq
 * area and stops on int3 before its own rt_sigreturn, like the leader.
 */
#include <linux/prctl.h>
#include <asm/prctl.h>

#include "clone-args.h"
#include "pie-lib.h"
#include "pie-syscall.h"
#include "restorer-int.h"

#define RST_NR_CLONE3 435
#define RST_FUTEX_WAIT 0
#define RST_FUTEX_WAKE 1
#define RST_INT_MAX 0x7fffffff

#define RST_CLONE_VM 0x00000100
#define RST_CLONE_FS 0x00000200
#define RST_CLONE_FILES 0x00000400
#define RST_CLONE_SIGHAND 0x00000800
#define RST_CLONE_THREAD 0x00010000
#define RST_CLONE_SYSVSEM 0x00040000
#define RST_THREAD_FLAGS \
	(RST_CLONE_VM | RST_CLONE_FS | RST_CLONE_FILES | RST_CLONE_SIGHAND | RST_CLONE_THREAD | RST_CLONE_SYSVSEM)

typedef void (*rst_thread_fn)(struct restorer_args *args, struct restorer_thread *t);

/*
 * clone3(ca, size); in the new thread, which starts on the stack clone3
 * gave it with this function's registers, call fn(args, t) and never come
 * back: the caller's C frame lives on the leader's stack, not on this one.
 * fn, args and t travel in callee-saved registers, which the parent keeps.
 */
long restorer_clone3_thread(struct cr_clone_args *ca, uint64_t size, rst_thread_fn fn, struct restorer_args *args,
			    struct restorer_thread *t);
asm(".text\n"
    ".type restorer_clone3_thread, @function\n"
    "restorer_clone3_thread:\n"
    "	pushq %r12\n"
    "	pushq %r13\n"
    "	pushq %r14\n"
    "	movq %rdx, %r12\n"
    "	movq %rcx, %r13\n"
    "	movq %r8, %r14\n"
    "	movl $" RST_STR(RST_NR_CLONE3) ", %eax\n"
				       "	syscall\n"
				       "	testq %rax, %rax\n"
				       "	jz 1f\n"
				       "	popq %r14\n"
				       "	popq %r13\n"
				       "	popq %r12\n"
				       "	ret\n"
				       "1:	xorl %ebp, %ebp\n"
				       "	movq %r13, %rdi\n"
				       "	movq %r14, %rsi\n"
				       "	callq *%r12\n"
				       "	ud2\n"
				       ".size restorer_clone3_thread, . - restorer_clone3_thread\n");

static void thread_fail(struct restorer_args *args, const struct restorer_thread *t, const char *what, long err)
{
	pie_log(args->log_fd, "Error (restorer): in thread", t->tid);
	restorer_fail(args, RESTORE_EXIT_THREADS, what, err);
}

static void set_thread_identity(struct restorer_args *args, struct restorer_thread *t)
{
	long ret;

	if (t->comm[0]) {
		ret = sys_prctl(PR_SET_NAME, (long)t->comm, 0, 0, 0);
		if (ret)
			thread_fail(args, t, "Error (restorer): PR_SET_NAME failed:", ret);
	}
	/* clone3 without CLONE_SETTLS copied the leader's bases. */
	ret = sys_arch_prctl(ARCH_SET_FS, t->fs_base);
	if (ret)
		thread_fail(args, t, "Error (restorer): can't set fs_base:", ret);
	ret = sys_arch_prctl(ARCH_SET_GS, t->gs_base);
	if (ret)
		thread_fail(args, t, "Error (restorer): can't set gs_base:", ret);
}

static void mark_ready(struct restorer_args *args)
{
	__atomic_add_fetch(&args->threads_ready, 1, __ATOMIC_RELEASE);
	sys_futex(&args->threads_ready, RST_FUTEX_WAKE, RST_INT_MAX, 0, 0, 0);
}

/* The first C code of a new thread; signals stay blocked as the leader had them. */
static void __attribute__((noreturn)) thread_main(struct restorer_args *args, struct restorer_thread *t)
{
	restorer_queue_signals(args, t->sigs, t->nr_sigs, 0);
	/* Privileged steps first, as in the leader. */
	restorer_set_sched(args, &t->state);
	restorer_set_thread_state(args, &t->state);
	set_thread_identity(args, t);
	restorer_set_creds(args);
	restorer_set_final_attrs(args);
	mark_ready(args);
	restorer_register_rseq(args, &t->state);
	restorer_sigreturn(t->sigframe + sizeof(uint64_t));
}

static void create_thread(struct restorer_args *args, struct restorer_thread *t)
{
	int32_t tid = t->tid;
	struct cr_clone_args ca = {
		.flags = RST_THREAD_FLAGS,
		.exit_signal = 0,
		.stack = t->stack_top - RESTORER_THREAD_STACK_SIZE,
		.stack_size = RESTORER_THREAD_STACK_SIZE,
		.set_tid = (uint64_t)(unsigned long)&tid,
		.set_tid_size = 1,
	};
	long ret;

	ret = restorer_clone3_thread(&ca, sizeof(ca), thread_main, args, t);
	if (ret != tid) {
		pie_log(args->log_fd, "Error (restorer): can't create thread", tid);
		restorer_fail(args, RESTORE_EXIT_THREADS, "Error (restorer): clone3 returned", ret);
	}
}

void restorer_create_threads(struct restorer_args *args)
{
	struct restorer_thread *threads = ptr(args->threads);
	uint32_t i;

	for (i = 0; i < args->nr_threads; i++)
		create_thread(args, &threads[i]);
	if (args->nr_threads)
		restorer_debug(args, "restorer: threads created:", args->nr_threads);
}

void restorer_wait_threads(struct restorer_args *args)
{
	int32_t val;

	while ((val = __atomic_load_n(&args->threads_ready, __ATOMIC_ACQUIRE)) != (int32_t)args->nr_threads)
		sys_futex(&args->threads_ready, RST_FUTEX_WAIT, val, 0, 0, 0);
}
