// SPDX-License-Identifier: GPL-2.0
/*
 * Pages go target -> vmsplice -> pipe -> splice -> pages image: one copy,
 * into the page cache, never through a buffer of the dumper. That copy is
 * the cost of a dump, so it is spread over the CPUs: the parasite deals the
 * stream of pages in pipe-sized chunks to one pipe per consumer in turn,
 * and each consumer (the main thread, and one more thread per extra pipe)
 * splices its chunks to their fixed offsets in the image. When writing the
 * image fails, a consumer keeps draining its pipe into /dev/null until the
 * parasite is done: closing a pipe under it would raise SIGPIPE in the task.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compel/infect.h"
#include "fault.h"
#include "log.h"
#include "mem.h"
#include "page-xfer.h"
#include "parasite.h"
#include "util.h"

#define PAGES_BATCH_BYTES (256ULL << 20)
#define PAGES_STALL_NS (30ULL * 1000000000ULL)
#define CONSUMER_POLL_MS 100

struct xfer {
	struct infect_ctx *ic;
	int img_fd;
	const char *img_name;
	int nr_pipes;
	int pipes[PARASITE_MAX_PIPES][2];
	uint64_t chunk;
	int abort;     /* any consumer or the reply says stop: atomic */
	int write_err; /* first error writing the image: atomic */
};

struct consumer {
	struct xfer *x;
	int index;
	uint64_t base, bytes; /* the batch: where it starts in the image, its size */
	bool watch_reply;     /* the main consumer also waits for the parasite's answer */
	bool replied;
	int err;
};

static bool xfer_aborted(struct xfer *x)
{
	return __atomic_load_n(&x->abort, __ATOMIC_SEQ_CST);
}

static void xfer_abort(struct xfer *x)
{
	__atomic_store_n(&x->abort, 1, __ATOMIC_SEQ_CST);
}

/* The parasite answered: its error, if any, stops every consumer. */
static int take_reply(struct consumer *c)
{
	int32_t result;

	c->replied = true;
	if (compel_rpc_recv(c->x->ic, &result)) {
		xfer_abort(c->x);
		return -EIO;
	}
	if (result < 0) {
		pr_err("the parasite in %d can't send pages: %s\n", c->x->ic->pid, strerror(-result));
		xfer_abort(c->x);
		return result;
	}
	return 0;
}

static int switch_to_null(struct consumer *c, int err, int *null_fd)
{
	int expected = 0;

	if (__atomic_compare_exchange_n(&c->x->write_err, &expected, err, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		pr_err("%s: can't write pages: %s\n", c->x->img_name, strerror(-err));
	*null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	return *null_fd < 0 ? -errno : 0;
}

/* Wait for data on the pipe (and for the reply); 0 to go on, <0 to stop. */
static int consumer_wait(struct consumer *c, int pipe_rd, uint64_t *last_progress)
{
	struct pollfd pf[2] = { { pipe_rd, POLLIN, 0 }, { c->x->ic->sock, POLLIN, 0 } };
	int nfds = (c->watch_reply && !c->replied) ? 2 : 1, ret;

	if (poll(pf, nfds, CONSUMER_POLL_MS) < 0 && errno != EINTR)
		return -errno;
	if (nfds == 2 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
		ret = take_reply(c);
		if (ret)
			return ret;
	}
	if (xfer_aborted(c->x))
		return -ECANCELED;
	if (now_ns(CLOCK_MONOTONIC) - *last_progress > PAGES_STALL_NS) {
		pr_err("the parasite in %d stalled while sending pages\n", c->x->ic->pid);
		xfer_abort(c->x);
		return -ETIMEDOUT;
	}
	return 0;
}

/* Drain one chunk of the batch from this consumer's pipe. */
static int consume_chunk(struct consumer *c, int pipe_rd, loff_t off, uint64_t len, int *null_fd)
{
	uint64_t last_progress = now_ns(CLOCK_MONOTONIC);
	ssize_t n;
	int ret;

	while (len) {
		if (*null_fd >= 0)
			n = splice(pipe_rd, NULL, *null_fd, NULL, len, SPLICE_F_NONBLOCK);
		else
			n = splice(pipe_rd, NULL, c->x->img_fd, &off, len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			len -= n;
			last_progress = now_ns(CLOCK_MONOTONIC);
			continue;
		}
		if (n < 0 && errno != EAGAIN) {
			if (*null_fd >= 0)
				return -errno;
			ret = switch_to_null(c, -errno, null_fd);
			if (ret)
				return ret;
			continue;
		}
		ret = consumer_wait(c, pipe_rd, &last_progress);
		if (ret)
			return ret;
	}
	return 0;
}

/* Chunks index, index + nr_pipes, ... of the batch. */
static int consume(struct consumer *c)
{
	struct xfer *x = c->x;
	int pipe_rd = x->pipes[c->index][0], null_fd = -1, ret = 0;
	uint64_t j;

	for (j = c->index; j * x->chunk < c->bytes && !ret; j += x->nr_pipes)
		ret = consume_chunk(c, pipe_rd, c->base + j * x->chunk, min(x->chunk, c->bytes - j * x->chunk),
				    &null_fd);
	close_safe(&null_fd);
	if (ret)
		xfer_abort(x);
	return ret;
}

static void *consumer_thread(void *arg)
{
	struct consumer *c = arg;

	c->err = consume(c);
	return NULL;
}

/* The main consumer, once its chunks are in, waits for the parasite's answer. */
static int wait_reply(struct consumer *c)
{
	uint64_t since = now_ns(CLOCK_MONOTONIC);
	int ret;

	while (!c->replied) {
		ret = consumer_wait(c, -1, &since);
		if (ret)
			return ret;
	}
	return 0;
}

static void join_consumers(pthread_t *threads, int started)
{
	int i;

	for (i = 1; i < started; i++)
		pthread_join(threads[i], NULL);
}

static int xfer_batch(struct xfer *x, size_t nr_iovs, uint64_t base, uint64_t bytes)
{
	struct consumer cons[PARASITE_MAX_PIPES] = {};
	pthread_t threads[PARASITE_MAX_PIPES];
	int fds[PARASITE_MAX_PIPES], i, started = 1, ret;

	if (!nr_iovs)
		return 0;
	for (i = 0; i < x->nr_pipes; i++) {
		fds[i] = x->pipes[i][1];
		cons[i] = (struct consumer){ .x = x, .index = i, .base = base, .bytes = bytes };
	}
	cons[0].watch_reply = true;
	/* every consumer exists before the parasite starts dealing chunks to it */
	for (i = 1; i < x->nr_pipes; i++, started++) {
		if (pthread_create(&threads[i], NULL, consumer_thread, &cons[i])) {
			pr_err("can't start a pages consumer thread\n");
			xfer_abort(x);
			join_consumers(threads, started);
			return -EAGAIN;
		}
	}
	ret = compel_rpc_send_fds(x->ic, PARASITE_CMD_DUMP_PAGES, nr_iovs, fds, x->nr_pipes);
	if (ret)
		xfer_abort(x);
	else
		ret = consume(&cons[0]);
	if (!ret)
		ret = wait_reply(&cons[0]);
	join_consumers(threads, started);
	for (i = 1; i < started && !ret; i++)
		ret = cons[i].err;
	/* a failed image write was drained into /dev/null meanwhile: report it now */
	return ret ?: __atomic_load_n(&x->write_err, __ATOMIC_SEQ_CST);
}

static int xfer_open_pipes(struct xfer *x)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int i, size, max;
	char *buf;

	buf = read_file_at(AT_FDCWD, "/proc/sys/fs/pipe-max-size", NULL);
	max = buf ? atoi(buf) : (1 << 20);
	free(buf);
	x->nr_pipes = cpus > 1 ? PARASITE_MAX_PIPES : 1;
	x->chunk = UINT64_MAX;
	for (i = 0; i < x->nr_pipes; i++) {
		if (pipe2(x->pipes[i], O_CLOEXEC)) {
			pr_perror("can't create the pages pipes");
			x->nr_pipes = i;
			return -errno;
		}
		size = fcntl(x->pipes[i][1], F_SETPIPE_SZ, max);
		if (size <= 0)
			size = fcntl(x->pipes[i][1], F_GETPIPE_SZ);
		x->chunk = min(x->chunk, (uint64_t)(size > 0 ? size : PAGE_SIZE));
	}
	return 0;
}

int page_xfer_dump(struct infect_ctx *ic, const struct page_run *runs, size_t nr_runs, int img_fd, const char *img_name)
{
	struct parasite_args *args = compel_args(ic);
	struct xfer x = { .ic = ic, .img_fd = img_fd, .img_name = img_name };
	uint64_t batch_bytes = 0, base = 0;
	size_t i, nr = 0;
	int ret;

	ret = xfer_open_pipes(&x);
	args->chunk_bytes = x.chunk;
	for (i = 0; i < nr_runs && !ret; i++) {
		uint64_t len = runs[i].nr_pages * PAGE_SIZE;

		args->iovs[nr].base = runs[i].vaddr;
		args->iovs[nr].len = len;
		nr++;
		batch_bytes += len;
		if (nr == PARASITE_MAX_IOVS || batch_bytes >= PAGES_BATCH_BYTES) {
			ret = xfer_batch(&x, nr, base, batch_bytes);
			base += batch_bytes;
			nr = 0;
			batch_bytes = 0;
			/* some pages written, more to come */
			if (!ret)
				fault_pause("pages");
		}
	}
	if (!ret)
		ret = xfer_batch(&x, nr, base, batch_bytes);
	for (i = 0; i < (size_t)x.nr_pipes; i++) {
		close(x.pipes[i][0]);
		close(x.pipes[i][1]);
	}
	return ret;
}
