// SPDX-License-Identifier: GPL-2.0
/*
 * The restorer's page filling: every run of the pages image goes to its
 * address, once.
 *
 * Private anonymous runs use UFFDIO_COPY from a read-only mapping of the
 * image: the kernel allocates each page and copies into it, without zeroing
 * it first or taking a fault per page. Everything else (private file COW
 * pages, shared memory, or all of it without userfaultfd) is read with
 * preadv in batches of up to RESTORER_IOV_BATCH iovecs, the large pieces
 * populated first, which again beats a fault per page inside the copy.
 *
 * With more than one CPU and enough to copy, a helper thread (sharing the
 * memory, fds and signal handlers, as any thread) takes every other window
 * of the image; the main thread waits for it before going on.
 */
#include <linux/fcntl.h>
#include <linux/ioctl.h>
#include <linux/mman.h>
#include <linux/userfaultfd.h>

#include "pie-lib.h"
#include "pie-syscall.h"
#include "restorer-int.h"

#define FILL_CHUNK (4UL << 20)
#define POPULATE_MIN (64UL << 10)
#define HELPER_MIN_BYTES (4 * RESTORER_UFFD_WINDOW)
#define RST_FUTEX_WAIT 0
/*
 * UNTRACED: criu traces new threads (PTRACE_O_TRACECLONE) to catch the
 * target's; this short-lived helper must not become one it has to reap.
 */
#define RST_CLONE_THREAD_FLAGS                                                                           \
	(0x00000100 /* VM */ | 0x00000200 /* FS */ | 0x00000400 /* FILES */ | 0x00000800 /* SIGHAND */ | \
	 0x00010000 /* THREAD */ | 0x00040000 /* SYSVSEM */ | 0x00200000 /* CHILD_CLEARTID */ |          \
	 0x00800000 /* UNTRACED */)

struct fill_state {
	struct restorer_args *args;
	struct restorer_run *runs;
	long uffd;		     /* < 0: no userfaultfd, everything is read */
	unsigned worker, nr_workers; /* this one copies windows k with k % nr_workers == worker */
	uint64_t win_off;	     /* pages image offset mapped at win_addr */
	uint64_t win_len;
	uint64_t win_addr;
	uint64_t copied;
	uint64_t read;
};

/*
 * Start fn(arg) in a new thread on stack_top; *ctid is cleared and woken
 * when it exits. Returns its tid or -errno. The child pops fn and arg from
 * its new stack, so it touches nothing of the caller's.
 */
long restorer_clone_thread(unsigned long flags, uint64_t stack_top, int32_t *ctid, long (*fn)(void *), void *arg);
asm(".text\n"
    ".type restorer_clone_thread, @function\n"
    "restorer_clone_thread:\n"
    "	subq $16, %rsi\n"
    "	movq %rcx, 0(%rsi)\n"
    "	movq %r8, 8(%rsi)\n"
    "	movq %rdx, %r10\n"
    "	xorl %edx, %edx\n"
    "	xorl %r8d, %r8d\n"
    "	movl $" RST_STR(__NR_clone) ", %eax\n"
				    "	syscall\n"
				    "	testq %rax, %rax\n"
				    "	jz 1f\n"
				    "	ret\n"
				    "1:	popq %rax\n"
				    "	popq %rdi\n"
				    "	callq *%rax\n"
				    "	movq %rax, %rdi\n"
				    "	movl $" RST_STR(
					    __NR_exit) ", %eax\n"
						       "	syscall\n"
						       "	ud2\n"
						       ".size restorer_clone_thread, . - restorer_clone_thread\n");

/* ---- userfaultfd ---- */

static long uffd_open(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	long fd;

	/* USER_MODE_ONLY needs no privilege; older kernels know only the plain form. */
	fd = sys_userfaultfd(O_CLOEXEC | UFFD_USER_MODE_ONLY);
	if (fd == -RST_EINVAL)
		fd = sys_userfaultfd(O_CLOEXEC);
	if (fd < 0)
		return fd;
	if (sys_ioctl(fd, UFFDIO_API, &api)) {
		sys_close(fd);
		return -RST_EINVAL;
	}
	return fd;
}

/* Closing the uffd unregisters every range, so a failure just falls back to reading. */
static void uffd_setup(struct fill_state *fs)
{
	struct restorer_vma *vmas = ptr(fs->args->vmas);
	uint64_t i;
	long fd;

	fs->uffd = -1;
	fd = uffd_open();
	if (fd < 0) {
		restorer_debug(fs->args, "restorer: no userfaultfd, reading all pages:", fd);
		return;
	}
	for (i = 0; i < fs->args->nr_vmas; i++) {
		struct uffdio_register reg = {
			.range = { .start = vmas[i].start, .len = vmas[i].end - vmas[i].start },
			.mode = UFFDIO_REGISTER_MODE_MISSING,
		};

		if (!(vmas[i].how & RVMA_UFFD))
			continue;
		if (sys_ioctl(fd, UFFDIO_REGISTER, &reg)) {
			restorer_debug(fs->args,
				       "restorer: can't register with userfaultfd, reading all pages:", vmas[i].start);
			sys_close(fd);
			return;
		}
	}
	fs->uffd = fd;
}

static void unmap_window(struct fill_state *fs)
{
	if (fs->win_len)
		sys_munmap(fs->win_addr, fs->win_len);
	fs->win_len = 0;
}

/* Map window k of the pages image, populated: it is read right away. */
static void map_window(struct fill_state *fs, uint64_t off)
{
	uint64_t len = fs->args->pages_size - off;
	long addr;

	unmap_window(fs);
	/* The kernel picks the address: the target's VMAs are all in place by now. */
	if (len > RESTORER_UFFD_WINDOW)
		len = RESTORER_UFFD_WINDOW;
	addr = sys_mmap(0, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fs->args->pages_fd, off);
	if (addr < 0)
		restorer_fail(fs->args, RESTORE_EXIT_COPY_PAGES, "Error (restorer): can't map the pages image:", addr);
	fs->win_addr = addr;
	fs->win_off = off;
	fs->win_len = len;
}

static uint64_t window_src(struct fill_state *fs, uint64_t off, uint64_t *avail)
{
	if (!fs->win_len || off < fs->win_off || off >= fs->win_off + fs->win_len)
		map_window(fs, off - off % RESTORER_UFFD_WINDOW);
	*avail = fs->win_off + fs->win_len - off;
	return fs->win_addr + (off - fs->win_off);
}

/* One UFFDIO_COPY; returns the bytes placed. A page already there is read over instead. */
static uint64_t copy_piece(struct fill_state *fs, uint64_t dst, uint64_t off, uint64_t len)
{
	uint64_t avail, src = window_src(fs, off, &avail);
	struct uffdio_copy c = {
		.dst = dst,
		.src = src,
		.len = len < avail ? len : avail,
		.mode = UFFDIO_COPY_MODE_DONTWAKE,
	};
	long ret;

	ret = sys_ioctl(fs->uffd, UFFDIO_COPY, &c);
	if (!ret)
		return c.len;
	if (c.copy > 0)
		return c.copy;
	if (ret == -RST_EAGAIN || ret == -RST_EINTR)
		return 0;
	if (ret == -RST_EEXIST) {
		ret = sys_pread64(fs->args->pages_fd, dst, RST_PAGE_SIZE, off);
		if (ret == RST_PAGE_SIZE)
			return RST_PAGE_SIZE;
	}
	pie_log(fs->args->log_fd, "Error (restorer): UFFDIO_COPY failed at", dst);
	restorer_fail(fs->args, RESTORE_EXIT_COPY_PAGES, "Error (restorer): UFFDIO_COPY returned", ret);
}

static bool my_window(const struct fill_state *fs, uint64_t off)
{
	return (off / RESTORER_UFFD_WINDOW) % fs->nr_workers == fs->worker;
}

/* The parts of the run that lie in this worker's windows. */
static void copy_run(struct fill_state *fs, const struct restorer_run *run)
{
	uint64_t done = 0;

	while (done < run->len) {
		uint64_t off = run->off + done;
		uint64_t len = RESTORER_UFFD_WINDOW - off % RESTORER_UFFD_WINDOW;

		if (len > run->len - done)
			len = run->len - done;
		if (!my_window(fs, off)) {
			done += len;
			continue;
		}
		while (len) {
			uint64_t n = copy_piece(fs, run->base + done, off, len);

			done += n;
			off += n;
			len -= n;
			fs->copied += n;
		}
	}
}

static void copy_runs(struct fill_state *fs)
{
	uint64_t i;

	for (i = 0; i < fs->args->nr_runs; i++)
		if (fs->runs[i].how & RRUN_UFFD)
			copy_run(fs, &fs->runs[i]);
	unmap_window(fs);
}

static long helper_main(void *arg)
{
	copy_runs(arg);
	return 0;
}

static uint64_t uffd_bytes(const struct fill_state *fs)
{
	uint64_t i, total = 0;

	for (i = 0; i < fs->args->nr_runs; i++)
		if (fs->runs[i].how & RRUN_UFFD)
			total += fs->runs[i].len;
	return total;
}

/* A helper thread takes half of the windows, if it is worth one. */
static void start_helper(struct fill_state *fs, struct fill_state *helper)
{
	struct restorer_args *args = fs->args;
	long tid;

	if (fs->uffd < 0 || args->nr_cpus < 2 || uffd_bytes(fs) < HELPER_MIN_BYTES)
		return;
	*helper = *fs;
	helper->worker = 1;
	fs->nr_workers = helper->nr_workers = 2;
	args->helper_tid = 1;
	tid = restorer_clone_thread(RST_CLONE_THREAD_FLAGS, args->helper_stack_top, &args->helper_tid, helper_main,
				    helper);
	if (tid < 0) {
		restorer_debug(args, "restorer: no helper thread, copying alone:", tid);
		args->helper_tid = 0;
		fs->nr_workers = 1;
		helper->nr_workers = 0;
	}
}

static void wait_helper(struct fill_state *fs, struct fill_state *helper)
{
	int32_t *tid = &fs->args->helper_tid;
	int32_t val;

	while ((val = __atomic_load_n(tid, __ATOMIC_ACQUIRE)) != 0)
		sys_futex(tid, RST_FUTEX_WAIT, val, 0, 0, 0);
	if (helper->nr_workers)
		fs->copied += helper->copied;
}

/* ---- preadv ---- */

/* Consecutive runs that are not copied, cut into batches of at most FILL_CHUNK bytes. */
struct read_cursor {
	uint64_t idx;  /* current run */
	uint64_t end;  /* first run not to read */
	uint64_t done; /* bytes of the current run already batched */
};

static unsigned long build_batch(struct fill_state *fs, struct read_cursor *c, struct restorer_iov *batch)
{
	unsigned long n = 0;
	uint64_t total = 0;

	while (c->idx < c->end && n < RESTORER_IOV_BATCH && total < FILL_CHUNK) {
		const struct restorer_run *run = &fs->runs[c->idx];
		uint64_t take = run->len - c->done;

		if (take > FILL_CHUNK - total)
			take = FILL_CHUNK - total;
		batch[n].base = run->base + c->done;
		batch[n].len = take;
		n++;
		total += take;
		c->done += take;
		if (c->done == run->len) {
			c->idx++;
			c->done = 0;
		}
	}
	return n;
}

static void populate_batch(const struct restorer_iov *batch, unsigned long n)
{
	unsigned long i;

	/* Only a hint: without MADV_POPULATE_WRITE the copy faults the pages in. */
	for (i = 0; i < n; i++)
		if (batch[i].len >= POPULATE_MIN)
			sys_madvise(batch[i].base, batch[i].len, MADV_POPULATE_WRITE);
}

/* Skip the iovecs a (possibly short) read has filled; trim a partly filled one. */
static struct restorer_iov *iov_advance(struct restorer_iov *iov, unsigned long *left, uint64_t done)
{
	while (done && done >= iov->len) {
		done -= iov->len;
		iov++;
		(*left)--;
	}
	if (done) {
		iov->base += done;
		iov->len -= done;
	}
	return iov;
}

static void read_batch(struct fill_state *fs, struct restorer_iov *iov, unsigned long n, uint64_t off)
{
	long ret;

	while (n) {
		ret = sys_preadv(fs->args->pages_fd, iov, n, off);
		if (ret == -RST_EINTR)
			continue;
		if (ret < 0)
			restorer_fail(fs->args, RESTORE_EXIT_READ_PAGES,
				      "Error (restorer): can't read the pages image:", ret);
		if (ret == 0)
			restorer_fail(fs->args, RESTORE_EXIT_READ_PAGES,
				      "Error (restorer): pages image ends early at offset", off);
		off += ret;
		fs->read += ret;
		iov = iov_advance(iov, &n, ret);
	}
}

/* Read runs [first, end): they follow each other in the image, so one offset walks them. */
static void read_runs(struct fill_state *fs, uint64_t first, uint64_t end)
{
	struct read_cursor c = { .idx = first, .end = end };
	struct restorer_iov batch[RESTORER_IOV_BATCH];
	unsigned long n;

	for (;;) {
		uint64_t off = fs->runs[c.idx].off + c.done;

		n = build_batch(fs, &c, batch);
		if (!n)
			break;
		populate_batch(batch, n);
		read_batch(fs, batch, n, off);
	}
}

static bool read_all_runs(const struct fill_state *fs, uint64_t i)
{
	return fs->uffd < 0 || !(fs->runs[i].how & RRUN_UFFD);
}

/* Runs that are not copied, in groups that follow each other in the image. */
static void read_other_runs(struct fill_state *fs)
{
	uint64_t i = 0, j;

	while (i < fs->args->nr_runs) {
		if (!read_all_runs(fs, i)) {
			i++;
			continue;
		}
		/* a group is read with one offset: it must be contiguous in the image too */
		for (j = i + 1; j < fs->args->nr_runs && read_all_runs(fs, j) &&
				fs->runs[j].off == fs->runs[j - 1].off + fs->runs[j - 1].len;
		     j++)
			;
		read_runs(fs, i, j);
		i = j;
	}
}

void restorer_fill_pages(struct restorer_args *args)
{
	struct fill_state fs = { .args = args, .runs = ptr(args->runs), .nr_workers = 1 };
	struct fill_state helper = {};

	uffd_setup(&fs);
	start_helper(&fs, &helper);
	if (fs.uffd >= 0)
		copy_runs(&fs);
	read_other_runs(&fs);
	wait_helper(&fs, &helper);
	if (fs.uffd >= 0)
		sys_close(fs.uffd);
	if (fs.copied + fs.read != args->pages_bytes)
		restorer_fail(args, RESTORE_EXIT_READ_PAGES,
			      "Error (restorer): pages placed do not add up:", fs.copied + fs.read);
	restorer_debug(args, "restorer: page bytes copied with userfaultfd:", fs.copied);
	restorer_debug(args, "restorer: page bytes read:", fs.read);
}

/*
 * Pages the process still shared copy-on-write with an ancestor at dump
 * time, read from that ancestor's pages image. After the own runs: the
 * userfaultfd is closed by then, so these faults are ordinary ones.
 */
void restorer_fill_cow_pages(struct restorer_args *args)
{
	struct restorer_run *runs = ptr(args->xruns);
	uint64_t i, done, bytes = 0;
	long ret;

	for (i = 0; i < args->nr_xruns; i++) {
		if (runs[i].src >= args->nr_srcs || runs[i].src >= RESTORER_MAX_SOURCES)
			restorer_fail(args, RESTORE_EXIT_BAD_ARGS, "Error (restorer): bad source of run", i);
		for (done = 0; done < runs[i].len; done += ret) {
			ret = sys_pread64(args->src_fds[runs[i].src], ptr(runs[i].base + done), runs[i].len - done,
					  runs[i].off + done);
			if (ret == -RST_EINTR) {
				ret = 0;
				continue;
			}
			if (ret <= 0)
				restorer_fail(args, RESTORE_EXIT_READ_PAGES,
					      "Error (restorer): can't read an ancestor's pages image:", ret);
		}
		bytes += runs[i].len;
	}
	if (bytes)
		restorer_debug(args, "restorer: page bytes read from ancestors' images:", bytes);
}
