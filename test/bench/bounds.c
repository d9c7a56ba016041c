// SPDX-License-Identifier: GPL-2.0
/*
 * Lower bounds for the benchmark, each timed without its set-up and
 * printed in seconds:
 *	bounds write FILE MIB	write(2) MIB MiB from a filled buffer to FILE
 *	bounds memcpy MIB	memcpy MIB MiB between two filled buffers
 *	bounds read FILE...	read the files to the end (1 MiB reads)
 *	bounds fdscan PID	stat every fd of every process but PID (/proc/P/fd/N),
 *				which the check against the outside must do at least
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *filled(size_t size, int c)
{
	char *p = malloc(size);
	size_t i;

	if (!p) {
		perror("malloc");
		exit(1);
	}
	memset(p, c, size);
	for (i = 0; i < size; i += 4096)
		p[i] = (char)(i >> 12);
	return p;
}

static int do_write(const char *path, size_t size)
{
	char *buf = filled(size, 0x5a);
	size_t off = 0;
	double t;
	int fd;

	t = now();
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	while (off < size) {
		ssize_t ret = write(fd, buf + off, size - off);

		if (ret <= 0) {
			perror("write");
			return 1;
		}
		off += ret;
	}
	close(fd);
	printf("%.6f\n", now() - t);
	return 0;
}

static int do_memcpy(size_t size)
{
	char *src = filled(size, 0x5a), *dst = filled(size, 0);
	double t;

	t = now();
	memcpy(dst, src, size);
	t = now() - t;
	if (dst[size - 1] != src[size - 1])
		return 1;
	printf("%.6f\n", t);
	return 0;
}

static int do_read(int n, char **files)
{
	size_t bsize = 1 << 20;
	char *buf = filled(bsize, 0);
	double t;
	int i;

	t = now();
	for (i = 0; i < n; i++) {
		int fd = open(files[i], O_RDONLY);
		ssize_t ret;

		if (fd < 0) {
			perror(files[i]);
			return 1;
		}
		while ((ret = read(fd, buf, bsize)) > 0)
			;
		close(fd);
	}
	printf("%.6f\n", now() - t);
	return 0;
}

static int do_fdscan(int skip)
{
	DIR *procs = opendir("/proc"), *fds;
	struct dirent *p, *f;
	unsigned long n = 0;
	char path[300];
	struct stat st;
	double t = now();

	while (procs && (p = readdir(procs))) {
		if (atoi(p->d_name) <= 0 || atoi(p->d_name) == skip || atoi(p->d_name) == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		fds = opendir(path);
		while (fds && (f = readdir(fds)))
			n += f->d_name[0] != '.' && !fstatat(dirfd(fds), f->d_name, &st, 0);
		if (fds)
			closedir(fds);
	}
	if (procs)
		closedir(procs);
	printf("%.6f %lu\n", now() - t, n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "write"))
		return do_write(argv[2], strtoul(argv[3], NULL, 10) << 20);
	if (argc == 3 && !strcmp(argv[1], "memcpy"))
		return do_memcpy(strtoul(argv[2], NULL, 10) << 20);
	if (argc >= 3 && !strcmp(argv[1], "read"))
		return do_read(argc - 2, argv + 2);
	if (argc == 3 && !strcmp(argv[1], "fdscan"))
		return do_fdscan(atoi(argv[2]));
	fprintf(stderr, "usage: bounds write FILE MIB | memcpy MIB | read FILE...\n");
	return 2;
}
