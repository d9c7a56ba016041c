// SPDX-License-Identifier: GPL-2.0
/*
 * criu check: does this kernel give us what checkpoint/restore needs?
 * `--feature NAME` asks about one feature by CRIU's name (exit 0 when it
 * is supported by this kernel and by this criu).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/file.h>
#include <sys/timerfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "cr-context.h"
#include "log.h"
#include "vdso.h"
#include "util.h"

#define PTRACE_GET_RSEQ_CONFIGURATION_ 0x420f

struct rseq_conf_ {
	uint64_t abi_pointer;
	uint32_t abi_size, signature, flags, pad;
};

/* Seize a paused child and ask what want_rseq says: the signal mask, or also the rseq registration. */
static int check_ptrace_child(bool want_rseq)
{
	struct rseq_conf_ conf;
	uint64_t mask;
	int status, ret = -1;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		pause();
		_exit(0);
	}
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) || ptrace(PTRACE_INTERRUPT, pid, NULL, NULL))
		goto out;
	if (waitpid(pid, &status, __WALL) != pid || status >> 16 != PTRACE_EVENT_STOP)
		goto out;
	if (ptrace(PTRACE_GETSIGMASK, pid, sizeof(mask), &mask))
		goto out;
	if (want_rseq && ptrace(PTRACE_GET_RSEQ_CONFIGURATION_, pid, sizeof(conf), &conf) <= 0)
		goto out;
	ret = 0;
out:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, __WALL);
	return ret;
}

static int check_ptrace_seize(void)
{
	return check_ptrace_child(false);
}

static int check_rseq_conf(void)
{
	return check_ptrace_child(true);
}

static int check_timerfd(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* File locks are read from /proc/PID/fdinfo (--file-locks). */
static int check_fdinfo_lock(void)
{
	char path[64], *info;
	int fd, ret = -1;

	fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX))
		goto out;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	info = read_file_at(AT_FDCWD, path, NULL);
	ret = info && strstr(info, "lock:") ? 0 : -1;
	free(info);
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* The network lock of --tcp-established is an nftables table. */
static int check_nftables(void)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);

	if (!nft)
		return -1;
	nft_ctx_free(nft);
	return 0;
}

static int check_kcmp(void)
{
	return syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, 0, 0) < 0 && errno == ENOSYS ? -1 : 0;
}

static int check_prctl_mm_map(void)
{
	unsigned int size = 0;

	return prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, &size, 0, 0) || !size ? -1 : 0;
}

static int check_clone3(void)
{
	/* clone3 with a NULL argument fails with EFAULT if it exists */
	return syscall(435, NULL, 0) < 0 && errno == ENOSYS ? -1 : 0;
}

static int check_map_files(void)
{
	char path[96];
	void *p = mmap(NULL, PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int fd;

	if (p == MAP_FAILED)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)p, (unsigned long)p + PAGE_SIZE);
	fd = open(path, O_RDONLY);
	munmap(p, PAGE_SIZE);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* A plain `criu check` also parses it and reports what it found (vdso_report). */
static int check_vdso(void)
{
	return getauxval(AT_SYSINFO_EHDR) ? 0 : -1;
}

static int check_vmsplice(void)
{
	char buf[16] = "x";
	struct iovec iov = { buf, sizeof(buf) };
	int p[2], ret;

	if (pipe(p))
		return -1;
	ret = vmsplice(p[1], &iov, 1, 0) == sizeof(buf) ? 0 : -1;
	close(p[0]);
	close(p[1]);
	return ret;
}

static int check_process_vm_readv(void)
{
	char a = 1, b = 0;
	struct iovec l = { &b, 1 }, r = { &a, 1 };

	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == 1 && b == 1 ? 0 : -1;
}

static int check_unsupported(void)
{
	return -1;
}

struct feature {
	const char *name;
	int (*check)(void);
	bool required; /* part of the plain `criu check` */
};

static const struct feature features[] = {
	{ "ptrace_seize", check_ptrace_seize, true },
	{ "kcmp", check_kcmp, true },
	{ "prctl_mm_map", check_prctl_mm_map, true },
	{ "map_files", check_map_files, true },
	{ "vdso", check_vdso, true },
	{ "vmsplice", check_vmsplice, true },
	{ "process_vm_readv", check_process_vm_readv, true },
	{ "clone3_set_tid", check_clone3, false },
	{ "timerfd", check_timerfd, false },
	{ "fdinfo_lock", check_fdinfo_lock, false },
	{ "network_lock_nftables", check_nftables, false },
	{ "get_rseq_conf", check_rseq_conf, false },
	/* CRIU feature names this criu can't use yet */
	{ "mem_dirty_track", check_unsupported, false },
	{ "uffd", check_unsupported, false },
	{ "uffd-noncoop", check_unsupported, false },
	{ "timens", check_unsupported, false },
	{ "tun", check_unsupported, false },
	{ "userns", check_unsupported, false },
	{ "seccomp_suspend", check_unsupported, false },
	{ "seccomp_filters", check_unsupported, false },
	{ "loginuid", check_unsupported, false },
	{ "cgroupns", check_unsupported, false },
	{ "autofs", check_unsupported, false },
	{ "compat_cr", check_unsupported, false },
	{ "sk_ns", check_unsupported, false },
	{ "sk_unix_file", check_unsupported, false },
	{ "net_diag_raw", check_unsupported, false },
	{ "nsid", check_unsupported, false },
	{ "link_nsid", check_unsupported, false },
	{ "kcmp_epoll", check_unsupported, false },
	{ "external_net_ns", check_unsupported, false },
	{ "newifindex", check_unsupported, false },
	{ "pidfd_store", check_unsupported, false },
	{ "ns_pid", check_unsupported, false },
	{ "apparmor_stacking", check_unsupported, false },
	{ "sockopt_buf_lock", check_unsupported, false },
	{ "memfd_hugetlb", check_unsupported, false },
	{ "move_mount_set_group", check_unsupported, false },
	{ "openat2", check_unsupported, false },
	{ "ipv6_freebind", check_unsupported, false },
	{ "can_map_vdso", check_unsupported, false },
	{ "aio_remap", check_unsupported, false },
	{ "lazy_pages", check_unsupported, false },
};

static const struct feature *find_feature(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(features); i++)
		if (!strcmp(features[i].name, name))
			return &features[i];
	return NULL;
}

int cr_check(struct cr_ctx *ctx)
{
	struct cr_options *opts = ctx->opts;
	int i, failed = 0;
	size_t j;

	if (opts->nr_features) {
		for (i = 0; i < opts->nr_features; i++) {
			const struct feature *f = find_feature(opts->features[i]);

			if (!f) {
				pr_err("unknown feature %s\n", opts->features[i]);
				return -EINVAL;
			}
			if (f->check()) {
				pr_msg("%s is not supported\n", f->name);
				failed++;
			} else {
				pr_msg("%s is supported\n", f->name);
			}
		}
		return failed ? -ENOTSUP : 0;
	}
	for (j = 0; j < ARRAY_SIZE(features); j++) {
		if (!features[j].required && !opts->check_all)
			continue;
		if (features[j].check()) {
			if (features[j].required) {
				pr_msg("Error: %s is not available\n", features[j].name);
				failed++;
			} else {
				pr_msg("Warn: %s is not supported\n", features[j].name);
			}
		}
	}
	if (vdso_report())
		failed++;
	if (failed)
		return -ENOTSUP;
	pr_msg("Looks good.\n");
	return 0;
}
