// SPDX-License-Identifier: GPL-2.0
/*
 * The parasite: runs inside the dumped task, connected to the dumper by a
 * unix socket. It answers commands until the dumper stops it with
 * PTRACE_INTERRUPT. If the dumper goes away, it returns to the interrupted
 * code by itself through the prepared signal frame.
 */
#include <stdint.h>
#include <stddef.h>
#include <linux/prctl.h>
#include <linux/socket.h>
#include <sys/uio.h>

#include "pie-lib.h"
#include "pie-syscall.h"
#include "compel/rpc.h"
#include "sigframe.h"
#include "parasite.h"

#define AF_UNIX_ 1
#define SOCK_SEQPACKET_ 5
#define SOCK_CLOEXEC_ 02000000
#define SOL_SOCKET_ 1
#define SCM_RIGHTS_ 1
#define UIO_MAXIOV_ 1024

struct pcmsg {
	uint64_t len;
	int32_t level;
	int32_t type;
	int32_t fd[PARASITE_MAX_PIPES];
};

struct pmsghdr {
	void *name;
	int32_t namelen;
	void *iov;
	uint64_t iovlen;
	void *control;
	uint64_t controllen;
	int32_t flags;
};

long parasite_main(struct compel_parasite_hdr *hdr);

asm(".section .head.text,\"ax\"\n"
    ".globl __export_parasite_entry\n"
    "__export_parasite_entry:\n"
    "	call parasite_main\n"
    "	int3\n"
    ".previous\n");

static long get_misc(struct parasite_misc *m)
{
	long ret;
	int i;

	m->brk = sys_brk(0);
	m->umask = sys_umask(0);
	sys_umask(m->umask);
	for (i = 0; i < PARASITE_NSIG; i++) {
		ret = sys_rt_sigaction(i + 1, 0, &m->sa[i], 8);
		if (ret && i + 1 != 9 && i + 1 != 19)
			return ret;
	}
	for (i = 0; i < PARASITE_NR_ITIMERS; i++) {
		ret = sys_getitimer(i, &m->itimers[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* What each timer has left, its interval and overrun: only the task can ask. */
static long get_timers(struct parasite_args *args, uint64_t nr)
{
	uint64_t i;
	long ret;

	if (nr > PARASITE_MAX_TIMERS)
		return -22;
	for (i = 0; i < nr; i++) {
		struct parasite_posix_timer *t = &args->timers[i];
		int64_t its[4];

		ret = sys_timer_gettime(t->id, its);
		if (ret)
			return ret;
		t->interval_sec = its[0];
		t->interval_nsec = its[1];
		t->value_sec = its[2];
		t->value_nsec = its[3];
		ret = sys_timer_getoverrun(t->id);
		if (ret < 0)
			return ret;
		t->overrun = ret;
	}
	return 0;
}

/* prctl() "get" options that return the value rather than store it. */
static long prctl_value(int option, uint32_t *val)
{
	long ret = sys_prctl(option, 0, 0, 0, 0);

	if (ret < 0)
		return ret;
	*val = (uint32_t)ret;
	return 0;
}

static long get_task_attrs(struct parasite_task_attrs *a)
{
	int32_t sig = 0, subreaper = 0;
	long ret;

	ret = prctl_value(PR_GET_SECUREBITS, &a->securebits);
	ret = ret ?: prctl_value(PR_GET_DUMPABLE, &a->dumpable);
	ret = ret ?: prctl_value(PR_GET_THP_DISABLE, &a->thp_disable);
	ret = ret ?: sys_prctl(PR_GET_PDEATHSIG, (long)&sig, 0, 0, 0);
	ret = ret ?: sys_prctl(PR_GET_CHILD_SUBREAPER, (long)&subreaper, 0, 0, 0);
	a->pdeathsig = sig;
	a->child_subreaper = subreaper;
	return ret;
}

/* The kernel's stack_t on x86_64. */
struct pie_stack {
	uint64_t sp;
	int32_t flags;
	int32_t pad;
	uint64_t size;
};

static long get_thread_state(struct parasite_thread_state *t)
{
	struct pie_stack ss = {};
	uint64_t tid_addr = 0;
	long ret;

	/* The parasite runs on its own stack: SS_ONSTACK can't show up here. */
	ret = sys_sigaltstack(0, &ss);
	if (ret)
		return ret;
	t->altstack_sp = ss.sp;
	t->altstack_size = ss.size;
	t->altstack_flags = ss.flags;
	ret = sys_prctl(PR_GET_TID_ADDRESS, (long)&tid_addr, 0, 0, 0);
	if (ret)
		return ret;
	t->clear_tid_addr = tid_addr;
	ret = sys_prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (ret < 0)
		return ret;
	t->timer_slack_ns = ret;
	return 0;
}

static long do_mprotect(struct parasite_args *a, uint64_t nr)
{
	uint64_t i;
	long ret;

	if (nr > PARASITE_MAX_IOVS)
		return -22;
	for (i = 0; i < nr; i++) {
		ret = sys_mprotect(a->iovs[i].base, a->iovs[i].len, a->iovs[i].prot);
		if (ret)
			return ret;
	}
	return 0;
}

#define SIGPIPE_BIT (1UL << (13 - 1))

/*
 * A write to a pipe the dumper gave up on raises SIGPIPE in the task; it is
 * blocked now and would kill the task once its mask is back. Take back the
 * one we caused, never one that was already pending.
 */
static void drop_own_sigpipe(uint64_t pending_before)
{
	uint64_t set = SIGPIPE_BIT;
	struct {
		long sec, nsec;
	} zero = { 0, 0 };

	if (!(pending_before & SIGPIPE_BIT))
		sys_rt_sigtimedwait(&set, 0, &zero, 8);
}

#define VMSPLICE_BATCH 64

/* Where the stream of pages stands: iov index and offset inside it. */
struct page_cursor {
	struct iovec *iov;
	uint64_t nr, i, off;
};

static void cursor_advance(struct page_cursor *c, uint64_t bytes)
{
	while (bytes && c->i < c->nr) {
		uint64_t left = c->iov[c->i].iov_len - c->off;

		if (bytes < left) {
			c->off += bytes;
			return;
		}
		bytes -= left;
		c->i++;
		c->off = 0;
	}
}

/* Push the next len bytes of the stream into one pipe. */
static long splice_chunk(int fd, struct page_cursor *c, uint64_t len, uint64_t pending)
{
	struct iovec part[VMSPLICE_BATCH];
	long ret;

	while (len) {
		uint64_t j = c->i, off = c->off, take = 0;
		int n = 0;

		while (n < VMSPLICE_BATCH && j < c->nr && take < len) {
			uint64_t piece = c->iov[j].iov_len - off;

			if (piece > len - take)
				piece = len - take;
			part[n].iov_base = (char *)c->iov[j].iov_base + off;
			part[n].iov_len = piece;
			n++;
			take += piece;
			off += piece;
			if (off == c->iov[j].iov_len) {
				j++;
				off = 0;
			}
		}
		if (!n)
			return -22;
		ret = sys_vmsplice(fd, part, n, 0);
		if (ret == -32 /* EPIPE */)
			drop_own_sigpipe(pending);
		if (ret < 0)
			return ret;
		cursor_advance(c, ret);
		len -= ret;
	}
	return 0;
}

/*
 * Push the pages into the pipes, chunk by chunk in turn; the dumper drains
 * every pipe into the image at the same time.
 */
static long dump_pages(struct parasite_args *a, uint64_t nr, const int *fds, int nr_fds)
{
	struct page_cursor c = { .iov = (struct iovec *)a->iovs, .nr = nr };
	uint64_t i, total = 0, chunk = a->chunk_bytes, pending = 0, j;
	long ret;

	if (nr_fds < 1 || nr > PARASITE_MAX_IOVS || !chunk)
		return -22;
	sys_rt_sigpending(&pending, 8);
	/* compact (base, len, prot) triples into struct iovec in place */
	for (i = 0; i < nr; i++) {
		c.iov[i].iov_base = (void *)a->iovs[i].base;
		c.iov[i].iov_len = a->iovs[i].len;
		total += c.iov[i].iov_len;
	}
	for (j = 0; j * chunk < total; j++) {
		uint64_t len = total - j * chunk < chunk ? total - j * chunk : chunk;

		ret = splice_chunk(fds[j % nr_fds], &c, len, pending);
		if (ret)
			return ret;
	}
	return total > 0x7fffffff ? 0x7fffffff : (long)total;
}

static long recv_cmd(int sk, struct compel_msg *m, int *fds, int *nr_fds)
{
	struct iovec iov = { m, sizeof(*m) };
	struct pcmsg cm;
	struct pmsghdr mh = {
		.iov = &iov,
		.iovlen = 1,
		.control = &cm,
		.controllen = sizeof(cm),
	};
	long ret;
	int i;

	memset(&cm, 0, sizeof(cm));
	*nr_fds = 0;
	ret = sys_recvmsg(sk, &mh, 0x40000000 /* MSG_CMSG_CLOEXEC */);
	if (ret != sizeof(*m))
		return ret < 0 ? ret : -1;
	if (mh.controllen >= 20 && cm.level == SOL_SOCKET_ && cm.type == SCM_RIGHTS_) {
		*nr_fds = (cm.len - 16) / sizeof(int);
		if (*nr_fds > PARASITE_MAX_PIPES)
			*nr_fds = PARASITE_MAX_PIPES;
		for (i = 0; i < *nr_fds; i++)
			fds[i] = cm.fd[i];
	}
	return 0;
}

static long send_reply(int sk, struct compel_msg *m)
{
	struct iovec iov = { m, sizeof(*m) };
	struct pmsghdr mh = { .iov = &iov, .iovlen = 1 };

	return sys_sendmsg(sk, &mh, 0x4000 /* MSG_NOSIGNAL */);
}

static void __attribute__((noreturn)) self_cure(struct compel_parasite_hdr *hdr, int sk)
{
	if (sk >= 0)
		sys_close(sk);
	sigframe_sigreturn(hdr->self_cure_sp);
}

long parasite_main(struct compel_parasite_hdr *hdr)
{
	struct parasite_args *args = (void *)((char *)hdr + COMPEL_ARGS_OFFSET);
	struct compel_msg m;
	long sk, ret;
	int fds[PARASITE_MAX_PIPES], nr_fds, i;

	sk = sys_socket(AF_UNIX_, SOCK_SEQPACKET_ | SOCK_CLOEXEC_, 0);
	if (sk < 0)
		self_cure(hdr, -1);
	hdr->sock_fd = sk;
	if (sys_connect(sk, &hdr->addr, hdr->addr_len))
		self_cure(hdr, sk);

	for (;;) {
		if (recv_cmd(sk, &m, fds, &nr_fds))
			self_cure(hdr, sk);
		switch (m.cmd) {
		case PARASITE_CMD_GET_MISC:
			ret = get_misc(&args->misc);
			break;
		case PARASITE_CMD_MPROTECT:
			ret = do_mprotect(args, m.arg);
			break;
		case PARASITE_CMD_DUMP_PAGES:
			ret = dump_pages(args, m.arg, fds, nr_fds);
			break;
		case PARASITE_CMD_GET_TASK_ATTRS:
			ret = get_task_attrs(&args->task_attrs);
			break;
		case PARASITE_CMD_GET_THREAD_STATE:
			ret = get_thread_state(&args->thread_state);
			break;
		case PARASITE_CMD_GET_TIMERS:
			ret = get_timers(args, m.arg);
			break;
		case PARASITE_CMD_GET_LDT:
			/* the LDT belongs to the mm; only the task can read it */
			ret = sys_modify_ldt(0, args->ldt, sizeof(args->ldt));
			break;
		default:
			ret = -22;
		}
		for (i = 0; i < nr_fds; i++)
			sys_close(fds[i]);
		m.ret = ret;
		if (send_reply(sk, &m) != sizeof(m))
			self_cure(hdr, sk);
	}
	return 0;
}
