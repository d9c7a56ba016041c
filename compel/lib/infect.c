// SPDX-License-Identifier: GPL-2.0
/*
 * Parasite injection. The target is seized and stopped by the caller.
 * System calls are run in the target through a `syscall` instruction that
 * already exists in its vDSO, stepping with PTRACE_SYSCALL to the
 * syscall-exit stop: no byte of the target's code is ever changed. The
 * parasite lives in a memfd mapped shared by both sides, so arguments are
 * written directly; commands and fds go over a unix socket.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compel/infect.h"
#include "log.h"
#include "util.h"

#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

#define PARASITE_STACK_SIZE (64 << 10)

void compel_regs_restart_fixup(struct x86_user_regs *r, bool keep_restart_block)
{
	if ((int64_t)r->orig_ax < 0)
		return;
	switch ((int64_t)r->ax) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
		r->ax = r->orig_ax;
		r->ip -= 2;
		break;
	case -ERESTART_RESTARTBLOCK:
		/* The kernel's restart block only exists in the live task. */
		if (keep_restart_block) {
			r->ax = __NR_restart_syscall;
			r->ip -= 2;
		} else {
			r->ax = -EINTR;
		}
		break;
	default:
		return;
	}
	r->orig_ax = -1;
}

int compel_wait_stop(pid_t pid, int *status)
{
	pid_t ret;

	do {
		ret = waitpid(pid, status, __WALL);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0) {
		pr_perror("waitpid(%d)", pid);
		return -errno;
	}
	if (WIFEXITED(*status) || WIFSIGNALED(*status)) {
		pr_err("task %d died during the dump (status 0x%x)\n", pid, *status);
		return -ESRCH;
	}
	return 0;
}

static int get_regs(pid_t pid, struct x86_user_regs *regs)
{
	struct iovec iov = { regs, sizeof(*regs) };

	if (ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &iov)) {
		pr_perror("can't get registers of %d", pid);
		return -errno;
	}
	return 0;
}

static int set_regs(pid_t pid, const struct x86_user_regs *regs)
{
	struct iovec iov = { (void *)regs, sizeof(*regs) };

	if (ptrace(PTRACE_SETREGSET, pid, NT_PRSTATUS, &iov)) {
		pr_perror("can't set registers of %d", pid);
		return -errno;
	}
	return 0;
}

static int get_xsave(struct infect_ctx *ctx)
{
	struct iovec iov;

	ctx->xsave = aligned_alloc(64, COMPEL_XSAVE_MAX);
	if (!ctx->xsave)
		return -ENOMEM;
	memset(ctx->xsave, 0, COMPEL_XSAVE_MAX);
	iov.iov_base = ctx->xsave;
	iov.iov_len = COMPEL_XSAVE_MAX;
	if (ptrace(PTRACE_GETREGSET, ctx->pid, NT_X86_XSTATE, &iov)) {
		pr_perror("can't get XSAVE state of %d", ctx->pid);
		return -errno;
	}
	ctx->xsave_size = iov.iov_len;
	return 0;
}

static int set_xsave(struct infect_ctx *ctx)
{
	struct iovec iov = { ctx->xsave, ctx->xsave_size };

	if (ptrace(PTRACE_SETREGSET, ctx->pid, NT_X86_XSTATE, &iov)) {
		pr_perror("can't set XSAVE state of %d", ctx->pid);
		return -errno;
	}
	return 0;
}

#define SYSCALL_SCAN_CHUNK (64 << 10)

/* Search [start, end) of the target for the bytes 0f 05; 0 if absent. */
static uint64_t scan_for_syscall(pid_t pid, uint64_t start, uint64_t end, uint8_t *buf)
{
	uint64_t addr;

	for (addr = start; addr < end; addr += SYSCALL_SCAN_CHUNK - 1) {
		size_t len = min(end - addr, (uint64_t)SYSCALL_SCAN_CHUNK);
		struct iovec local = { buf, len }, remote = { (void *)addr, len };
		ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		ssize_t i;

		for (i = 0; i + 1 < n; i++)
			if (buf[i] == 0x0f && buf[i + 1] == 0x05)
				return addr + i;
		if (n < (ssize_t)len)
			break;
	}
	return 0;
}

/*
 * A `syscall` instruction (0f 05) already in the target: in its vDSO if it
 * has one, else in any executable mapping. Only the two bytes matter: the
 * task always stops at syscall exit before running what follows.
 */
static int find_syscall_ip(struct infect_ctx *ctx)
{
	char path[64], line[512], perms[8];
	unsigned long start, end;
	uint64_t found = 0, fallback = 0;
	uint8_t *buf;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", ctx->pid);
	f = fopen(path, "re");
	buf = xmalloc(SYSCALL_SCAN_CHUNK);
	if (!f || !buf) {
		pr_perror("can't scan %s", path);
		if (f)
			fclose(f);
		free(buf);
		return -EIO;
	}
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) != 3 || perms[0] != 'r' || perms[2] != 'x')
			continue;
		if (strstr(line, "[vdso]"))
			found = scan_for_syscall(ctx->pid, start, end, buf);
		else if (!fallback && !strstr(line, "[vsyscall]"))
			fallback = scan_for_syscall(ctx->pid, start, end, buf);
	}
	fclose(f);
	free(buf);
	if (!found)
		found = fallback;
	if (!found) {
		pr_err("no syscall instruction found in the executable memory of %d\n", ctx->pid);
		return -ENOENT;
	}
	ctx->syscall_ip = found;
	pr_debug("compel: syscall instruction of %d at 0x%lx\n", ctx->pid, (unsigned long)found);
	return 0;
}

int compel_prepare(struct infect_ctx *ctx, pid_t pid, struct compel_journal *journal)
{
	uint64_t all = ~0ULL;
	int ret;

	memset(ctx, 0, sizeof(*ctx));
	ctx->pid = pid;
	ctx->memfd = ctx->listen_sock = ctx->sock = -1;
	ctx->journal = journal;
	ret = get_regs(pid, &ctx->regs);
	if (ret)
		return ret;
	ret = get_xsave(ctx);
	if (ret)
		return ret;
	if (ptrace(PTRACE_GETSIGMASK, pid, sizeof(uint64_t), &ctx->sigmask)) {
		pr_perror("can't get the signal mask of %d", pid);
		return -errno;
	}
	ret = find_syscall_ip(ctx);
	if (ret)
		return ret;
	/* Nothing may interrupt injected code; SIGKILL and SIGSTOP still can. */
	if (ptrace(PTRACE_SETSIGMASK, pid, sizeof(uint64_t), &all)) {
		pr_perror("can't block signals of %d", pid);
		return -errno;
	}
	ctx->sigmask_blocked = true;
	if (journal) {
		journal->pid = pid;
		journal->syscall_ip = ctx->syscall_ip;
	}
	return 0;
}

static int step_to_syscall_stop(pid_t pid)
{
	int status, ret;

	if (ptrace(PTRACE_SYSCALL, pid, NULL, NULL)) {
		pr_perror("can't resume %d to a syscall stop", pid);
		return -errno;
	}
	ret = compel_wait_stop(pid, &status);
	if (ret)
		return ret;
	if (!WIFSTOPPED(status) || WSTOPSIG(status) != (SIGTRAP | 0x80)) {
		pr_err("task %d stopped with status 0x%x instead of at a syscall\n", pid, status);
		return -EIO;
	}
	return 0;
}

int compel_syscall(struct infect_ctx *ctx, long *result, long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	struct x86_user_regs r = ctx->regs;
	int ret;

	r.ip = ctx->syscall_ip;
	r.ax = nr;
	r.orig_ax = -1; /* keep the kernel's restart logic away from these regs */
	r.di = a1;
	r.si = a2;
	r.dx = a3;
	r.r10 = a4;
	r.r8 = a5;
	r.r9 = a6;
	ret = set_regs(ctx->pid, &r);
	if (ret)
		return ret;
	ret = step_to_syscall_stop(ctx->pid); /* entry */
	if (!ret)
		ret = step_to_syscall_stop(ctx->pid); /* exit */
	if (!ret)
		ret = get_regs(ctx->pid, &r);
	if (ret)
		return ret;
	*result = r.ax;
	return 0;
}

static int make_listen_socket(struct infect_ctx *ctx, struct compel_parasite_hdr *hdr)
{
	static unsigned counter;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	socklen_t len;
	int sk;

	sk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sk < 0) {
		pr_perror("can't create the parasite control socket");
		return -errno;
	}
	/* abstract name: nothing to clean up on disk if we die */
	len = snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "criu-parasite-%d-%d-%u", getpid(), ctx->pid,
		       counter++);
	len += offsetof(struct sockaddr_un, sun_path) + 1;
	if (bind(sk, (struct sockaddr *)&addr, len) || listen(sk, 1)) {
		pr_perror("can't bind the parasite control socket");
		close(sk);
		return -errno;
	}
	ctx->listen_sock = sk;
	hdr->addr.family = AF_UNIX;
	memcpy(hdr->addr.path, addr.sun_path, sizeof(addr.sun_path));
	hdr->addr_len = len;
	hdr->sock_fd = -1;
	return 0;
}

/*
 * Shared anonymous memory in the target, reached from here through
 * /proc/PID/map_files: nothing has to be written into the target first.
 */
static int map_parasite(struct infect_ctx *ctx)
{
	char path[96];
	long raddr;
	int ret, fd;

	ret = compel_syscall(ctx, &raddr, __NR_mmap, 0, ctx->size, PROT_READ | PROT_WRITE | PROT_EXEC,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ret)
		return ret;
	if (raddr < 0 && raddr > -4096) {
		pr_err("mmap of the parasite area in %d failed: %s\n", ctx->pid, strerror(-raddr));
		return raddr;
	}
	ctx->remote = raddr;
	if (ctx->journal) {
		ctx->journal->remote = raddr;
		ctx->journal->size = ctx->size;
		__atomic_store_n(&ctx->journal->state, COMPEL_J_MAPPED, __ATOMIC_SEQ_CST);
	}
	snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", ctx->pid, (unsigned long)raddr,
		 (unsigned long)(raddr + ctx->size));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s", path);
		return -errno;
	}
	ctx->local = mmap(NULL, ctx->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (ctx->local == MAP_FAILED) {
		ctx->local = NULL;
		pr_perror("can't map the parasite area of %d", ctx->pid);
		return -errno;
	}
	return 0;
}

static int accept_parasite(struct infect_ctx *ctx)
{
	struct timeval tv = { .tv_sec = 10 };
	int sk;

	/* The parasite connects at once; a stuck one must not hang us. */
	setsockopt(ctx->listen_sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	sk = accept4(ctx->listen_sock, NULL, NULL, SOCK_CLOEXEC);
	if (sk < 0) {
		pr_perror("the parasite in %d did not connect", ctx->pid);
		return -errno;
	}
	setsockopt(sk, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	close(ctx->listen_sock);
	ctx->listen_sock = -1;
	ctx->sock = sk;
	return 0;
}

int compel_infect(struct infect_ctx *ctx, const struct compel_blob *blob, uint64_t entry, size_t args_size)
{
	struct compel_parasite_hdr *hdr;
	struct x86_user_regs r, cure = ctx->regs;
	size_t blob_size = ALIGN_UP(blob->mem_size, 64);
	size_t frame_size = ALIGN_UP(SIGFRAME_SIZE(ctx->xsave_size), 64);
	int ret;

	ctx->args_off = blob_size;
	ctx->frame_off = ALIGN_UP(ctx->args_off + COMPEL_ARGS_OFFSET + args_size, 64);
	ctx->stack_top = ALIGN_UP(ctx->frame_off + frame_size + PARASITE_STACK_SIZE, PAGE_SIZE);
	ctx->size = ctx->stack_top;
	ret = map_parasite(ctx);
	if (ret)
		return ret;
	memcpy(ctx->local, blob->image, blob->image_size);
	compel_blob_relocate(ctx->local, ctx->remote, blob);
	hdr = (void *)(ctx->local + ctx->args_off);
	ret = make_listen_socket(ctx, hdr);
	if (ret)
		return ret;
	/* If we vanish, the parasite returns to the interrupted code by itself. */
	compel_regs_restart_fixup(&cure, true);
	hdr->self_cure_sp = sigframe_build(ctx->local + ctx->frame_off, ctx->remote + ctx->frame_off, &cure,
					   ctx->sigmask, ctx->xsave, ctx->xsave_size);

	r = ctx->regs;
	r.ip = ctx->remote + entry;
	r.sp = ctx->remote + ctx->stack_top - 16;
	r.di = ctx->remote + ctx->args_off;
	r.orig_ax = -1;
	r.flags &= ~(1UL << 10); /* DF clear, as the ABI wants */
	ret = set_regs(ctx->pid, &r);
	if (ret)
		return ret;
	if (ptrace(PTRACE_CONT, ctx->pid, NULL, NULL)) {
		pr_perror("can't start the parasite in %d", ctx->pid);
		return -errno;
	}
	ctx->running = true;
	ret = accept_parasite(ctx);
	if (ret)
		return ret;
	pr_info("parasite: infected %d, daemon at 0x%lx\n", ctx->pid, (unsigned long)ctx->remote);
	return 0;
}

int compel_rpc_send(struct infect_ctx *ctx, uint32_t cmd, uint64_t arg, int fd)
{
	return compel_rpc_send_fds(ctx, cmd, arg, &fd, fd >= 0 ? 1 : 0);
}

int compel_rpc_send_fds(struct infect_ctx *ctx, uint32_t cmd, uint64_t arg, const int *fds, int nr_fds)
{
	struct compel_msg m = { .cmd = cmd, .arg = arg };
	struct iovec iov = { &m, sizeof(m) };
	char cbuf[CMSG_SPACE(sizeof(int) * COMPEL_MAX_FDS)];
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *ch;

	if (nr_fds > COMPEL_MAX_FDS)
		return -E2BIG;
	if (nr_fds > 0) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
		ch = CMSG_FIRSTHDR(&mh);
		ch->cmsg_level = SOL_SOCKET;
		ch->cmsg_type = SCM_RIGHTS;
		ch->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
		memcpy(CMSG_DATA(ch), fds, sizeof(int) * nr_fds);
	}
	if (sendmsg(ctx->sock, &mh, MSG_NOSIGNAL) != sizeof(m)) {
		pr_perror("can't send command %u to the parasite in %d", cmd, ctx->pid);
		return -EIO;
	}
	return 0;
}

int compel_rpc_recv(struct infect_ctx *ctx, int32_t *result)
{
	struct compel_msg m;
	ssize_t n;

	do {
		n = recv(ctx->sock, &m, sizeof(m), 0);
	} while (n < 0 && errno == EINTR);
	if (n != sizeof(m)) {
		if (n < 0)
			pr_perror("no answer from the parasite in %d", ctx->pid);
		else
			pr_err("the parasite in %d closed its socket\n", ctx->pid);
		return -EIO;
	}
	*result = m.ret;
	return 0;
}

int compel_rpc_call(struct infect_ctx *ctx, uint32_t cmd, uint64_t arg, int fd, int32_t *result)
{
	int ret = compel_rpc_send(ctx, cmd, arg, fd);

	return ret ? ret : compel_rpc_recv(ctx, result);
}

/* Bring a running parasite to a ptrace stop; it waits in recvmsg, never mid-command. */
static int stop_parasite(struct infect_ctx *ctx)
{
	int status, ret;

	if (ptrace(PTRACE_INTERRUPT, ctx->pid, NULL, NULL)) {
		pr_perror("can't interrupt the parasite in %d", ctx->pid);
		return -errno;
	}
	for (;;) {
		ret = compel_wait_stop(ctx->pid, &status);
		if (ret)
			return ret;
		if (status >> 16 == PTRACE_EVENT_STOP)
			break;
		/* A signal-delivery stop (SIGKILL/SIGSTOP cannot be blocked): drop it for now. */
		if (ptrace(PTRACE_CONT, ctx->pid, NULL, NULL))
			return -errno;
	}
	ctx->running = false;
	return 0;
}

static int restore_task_state(struct infect_ctx *ctx)
{
	struct x86_user_regs r = ctx->regs;
	int ret;

	/*
	 * The task resumes from a syscall-exit stop, where the kernel no
	 * longer restarts an interrupted call: do what it would have done.
	 */
	compel_regs_restart_fixup(&r, true);
	ret = set_regs(ctx->pid, &r);
	if (!ret)
		ret = set_xsave(ctx);
	if (!ret && ctx->sigmask_blocked) {
		if (ptrace(PTRACE_SETSIGMASK, ctx->pid, sizeof(uint64_t), &ctx->sigmask)) {
			pr_perror("can't restore the signal mask of %d", ctx->pid);
			ret = -errno;
		} else {
			ctx->sigmask_blocked = false;
		}
	}
	return ret;
}

int compel_cure(struct infect_ctx *ctx)
{
	struct compel_parasite_hdr *hdr;
	long res;
	int ret = 0;

	if (ctx->running)
		ret = stop_parasite(ctx);
	if (ctx->sock >= 0) {
		hdr = (void *)(ctx->local + ctx->args_off);
		if (!ret && hdr->sock_fd >= 0)
			ret = compel_syscall(ctx, &res, __NR_close, hdr->sock_fd, 0, 0, 0, 0, 0);
		close(ctx->sock);
		ctx->sock = -1;
	}
	close_safe(&ctx->listen_sock);
	if (ctx->local) {
		munmap(ctx->local, ctx->size);
		ctx->local = NULL;
	}
	if (!ret && ctx->remote) {
		ret = compel_syscall(ctx, &res, __NR_munmap, ctx->remote, ctx->size, 0, 0, 0, 0);
		if (!ret && res) {
			pr_err("can't unmap the parasite from %d: %s\n", ctx->pid, strerror(-res));
			ret = res;
		}
		if (!ret) {
			ctx->remote = 0;
			if (ctx->journal)
				__atomic_store_n(&ctx->journal->state, COMPEL_J_IDLE, __ATOMIC_SEQ_CST);
		}
	}
	if (!ret)
		ret = restore_task_state(ctx);
	if (ret)
		pr_err("cure of %d failed\n", ctx->pid);
	else
		pr_info("parasite: cured %d\n", ctx->pid);
	return ret;
}

void compel_release(struct infect_ctx *ctx)
{
	free(ctx->xsave);
	ctx->xsave = NULL;
}
