/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PIE_SYSCALL_H
#define PIE_SYSCALL_H

/*
 * Raw system calls for freestanding code (parasite and restorer). They
 * return the kernel's value: negative errno on failure.
 */
#include <asm/unistd.h>

static inline long pie_syscall0(long nr)
{
	long ret;

	asm volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
	return ret;
}

static inline long pie_syscall1(long nr, long a1)
{
	long ret;

	asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a1) : "rcx", "r11", "memory");
	return ret;
}

static inline long pie_syscall2(long nr, long a1, long a2)
{
	long ret;

	asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a1), "S"(a2) : "rcx", "r11", "memory");
	return ret;
}

static inline long pie_syscall3(long nr, long a1, long a2, long a3)
{
	long ret;

	asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a1), "S"(a2), "d"(a3) : "rcx", "r11", "memory");
	return ret;
}

static inline long pie_syscall4(long nr, long a1, long a2, long a3, long a4)
{
	register long r10 asm("r10") = a4;
	long ret;

	asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10) : "rcx", "r11", "memory");
	return ret;
}

static inline long pie_syscall5(long nr, long a1, long a2, long a3, long a4, long a5)
{
	register long r10 asm("r10") = a4;
	register long r8 asm("r8") = a5;
	long ret;

	asm volatile("syscall"
		     : "=a"(ret)
		     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
		     : "rcx", "r11", "memory");
	return ret;
}

static inline long pie_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 asm("r10") = a4;
	register long r8 asm("r8") = a5;
	register long r9 asm("r9") = a6;
	long ret;

	asm volatile("syscall"
		     : "=a"(ret)
		     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
		     : "rcx", "r11", "memory");
	return ret;
}

#define sys_read(fd, buf, n) pie_syscall3(__NR_read, (long)(fd), (long)(buf), (long)(n))
#define sys_write(fd, buf, n) pie_syscall3(__NR_write, (long)(fd), (long)(buf), (long)(n))
#define sys_close(fd) pie_syscall1(__NR_close, (long)(fd))
#define sys_mmap(a, l, p, f, fd, o) \
	pie_syscall6(__NR_mmap, (long)(a), (long)(l), (long)(p), (long)(f), (long)(fd), (long)(o))
#define sys_munmap(a, l) pie_syscall2(__NR_munmap, (long)(a), (long)(l))
#define sys_mprotect(a, l, p) pie_syscall3(__NR_mprotect, (long)(a), (long)(l), (long)(p))
#define sys_mremap(o, ol, nl, f, na) pie_syscall5(__NR_mremap, (long)(o), (long)(ol), (long)(nl), (long)(f), (long)(na))
#define sys_madvise(a, l, adv) pie_syscall3(__NR_madvise, (long)(a), (long)(l), (long)(adv))
#define sys_preadv(fd, iov, n, off) pie_syscall4(__NR_preadv, (long)(fd), (long)(iov), (long)(n), (long)(off))
#define sys_pread64(fd, buf, n, off) pie_syscall4(__NR_pread64, (long)(fd), (long)(buf), (long)(n), (long)(off))
#define sys_vmsplice(fd, iov, n, f) pie_syscall4(__NR_vmsplice, (long)(fd), (long)(iov), (long)(n), (long)(f))
#define sys_rt_sigaction(s, a, o, sz) pie_syscall4(__NR_rt_sigaction, (long)(s), (long)(a), (long)(o), (long)(sz))
#define sys_rt_sigprocmask(h, s, o, sz) pie_syscall4(__NR_rt_sigprocmask, (long)(h), (long)(s), (long)(o), (long)(sz))
#define sys_socket(d, t, p) pie_syscall3(__NR_socket, (long)(d), (long)(t), (long)(p))
#define sys_connect(fd, a, l) pie_syscall3(__NR_connect, (long)(fd), (long)(a), (long)(l))
#define sys_sendmsg(fd, m, f) pie_syscall3(__NR_sendmsg, (long)(fd), (long)(m), (long)(f))
#define sys_recvmsg(fd, m, f) pie_syscall3(__NR_recvmsg, (long)(fd), (long)(m), (long)(f))
#define sys_brk(a) pie_syscall1(__NR_brk, (long)(a))
#define sys_umask(m) pie_syscall1(__NR_umask, (long)(m))
#define sys_prctl(o, a2, a3, a4, a5) pie_syscall5(__NR_prctl, (long)(o), (long)(a2), (long)(a3), (long)(a4), (long)(a5))
#define sys_modify_ldt(f, p, n) pie_syscall3(__NR_modify_ldt, (long)(f), (long)(p), (long)(n))
#define sys_arch_prctl(c, a) pie_syscall2(__NR_arch_prctl, (long)(c), (long)(a))
#define sys_personality(p) pie_syscall1(__NR_personality, (long)(p))
#define sys_getpid() pie_syscall0(__NR_getpid)
#define sys_rt_sigqueueinfo(p, s, i) pie_syscall3(__NR_rt_sigqueueinfo, (long)(p), (long)(s), (long)(i))
#define sys_rt_tgsigqueueinfo(g, t, s, i) \
	pie_syscall4(__NR_rt_tgsigqueueinfo, (long)(g), (long)(t), (long)(s), (long)(i))
#define sys_gettid() pie_syscall0(__NR_gettid)
#define sys_exit(c) pie_syscall1(__NR_exit, (long)(c))
#define sys_exit_group(c) pie_syscall1(__NR_exit_group, (long)(c))
#define sys_nanosleep(req, rem) pie_syscall2(__NR_nanosleep, (long)(req), (long)(rem))
#define sys_kill(p, s) pie_syscall2(__NR_kill, (long)(p), (long)(s))
#define sys_sched_yield() pie_syscall0(__NR_sched_yield)
#define sys_fcntl(fd, c, a) pie_syscall3(__NR_fcntl, (long)(fd), (long)(c), (long)(a))
#define sys_open(p, f, m) pie_syscall3(__NR_open, (long)(p), (long)(f), (long)(m))
#define sys_lseek(fd, o, w) pie_syscall3(__NR_lseek, (long)(fd), (long)(o), (long)(w))
#define sys_sigaltstack(n, o) pie_syscall2(__NR_sigaltstack, (long)(n), (long)(o))
#define sys_rt_sigpending(s, sz) pie_syscall2(__NR_rt_sigpending, (long)(s), (long)(sz))
#define sys_rt_sigtimedwait(s, i, t, sz) pie_syscall4(__NR_rt_sigtimedwait, (long)(s), (long)(i), (long)(t), (long)(sz))
#define sys_mlock(a, l) pie_syscall2(__NR_mlock, (long)(a), (long)(l))
#define sys_getitimer(w, v) pie_syscall2(__NR_getitimer, (long)(w), (long)(v))
#define sys_setitimer(w, v, o) pie_syscall3(__NR_setitimer, (long)(w), (long)(v), (long)(o))
#define sys_timer_gettime(id, v) pie_syscall2(__NR_timer_gettime, (long)(id), (long)(v))
#define sys_timer_getoverrun(id) pie_syscall1(__NR_timer_getoverrun, (long)(id))
#define sys_timer_create(c, ev, id) pie_syscall3(__NR_timer_create, (long)(c), (long)(ev), (long)(id))
#define sys_timer_delete(id) pie_syscall1(__NR_timer_delete, (long)(id))
#define sys_timer_settime(id, f, v, o) pie_syscall4(__NR_timer_settime, (long)(id), (long)(f), (long)(v), (long)(o))
#define sys_set_tid_address(p) pie_syscall1(__NR_set_tid_address, (long)(p))

#define sys_ioctl(fd, c, a) pie_syscall3(__NR_ioctl, (long)(fd), (long)(c), (long)(a))
#define sys_userfaultfd(f) pie_syscall1(__NR_userfaultfd, (long)(f))
#define sys_futex(u, op, v, t, u2, v3) \
	pie_syscall6(__NR_futex, (long)(u), (long)(op), (long)(v), (long)(t), (long)(u2), (long)(v3))

/* Per-task state and credentials, set by the restorer at its end. */
#define sys_rseq(p, len, f, sig) pie_syscall4(__NR_rseq, (long)(p), (long)(len), (long)(f), (long)(sig))
#define sys_set_robust_list(h, len) pie_syscall2(__NR_set_robust_list, (long)(h), (long)(len))
#define sys_sched_setattr(pid, attr, f) pie_syscall3(__NR_sched_setattr, (long)(pid), (long)(attr), (long)(f))
#define sys_prlimit64(pid, res, n, o) pie_syscall4(__NR_prlimit64, (long)(pid), (long)(res), (long)(n), (long)(o))
#define sys_setgroups(n, list) pie_syscall2(__NR_setgroups, (long)(n), (long)(list))
#define sys_setresuid(r, e, s) pie_syscall3(__NR_setresuid, (long)(r), (long)(e), (long)(s))
#define sys_setresgid(r, e, s) pie_syscall3(__NR_setresgid, (long)(r), (long)(e), (long)(s))
#define sys_setfsuid(id) pie_syscall1(__NR_setfsuid, (long)(id))
#define sys_setfsgid(id) pie_syscall1(__NR_setfsgid, (long)(id))
#define sys_capget(h, d) pie_syscall2(__NR_capget, (long)(h), (long)(d))
#define sys_capset(h, d) pie_syscall2(__NR_capset, (long)(h), (long)(d))

#endif
