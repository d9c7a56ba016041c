/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_UTIL_H
#define CR_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/types.h>

#define PAGE_SIZE 4096UL
#define PAGE_SHIFT 12
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a)-1) & ~((typeof(x))(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((typeof(x))(a)-1))
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))

/* Highest user address on x86_64 with 4-level paging. */
#define TASK_SIZE_MAX 0x7ffffffff000ULL

#define CRIU_VERSION "4.2"
#define CRIU_VERSION_MAJOR 4
#define CRIU_VERSION_MINOR 2
#define CRIU_VERSION_SUBLEVEL 0

#define xfree(p) free(p)
void *xmalloc(size_t size);
void *xzalloc(size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
/*
 * Make room for element nr in the growable array *arr_ptr (elements of
 * elem bytes, room for *cap of them): 0, or -ENOMEM, logged.
 */
int xgrow(void *arr_ptr, size_t *cap, size_t nr, size_t elem);

/* Read a whole small file (procfs) into a malloc'ed NUL-terminated buffer. */
char *read_file_at(int dirfd, const char *path, size_t *len);
int write_all(int fd, const void *buf, size_t len);
int read_all(int fd, void *buf, size_t len);
int move_fd_above(int fd, int min_fd);
/* A copy of fd of process pid (pidfd_getfd); logged on failure. */
int grab_fd(pid_t pid, int fd);
int close_safe(int *fd);
uint64_t now_ns(int clock);
/* Copy the data of src (size bytes) to the same offsets of dst, keeping holes; dst ends up size long. */
int copy_sparse(int src, uint64_t size, int dst, const char *what);

/* qsort() that takes an empty array as it may come (NULL, 0): calling qsort() with NULL is undefined. */
static inline void xqsort(void *base, size_t nmemb, size_t size, int (*cmp)(const void *, const void *))
{
	if (nmemb > 1)
		qsort(base, nmemb, size, cmp);
}

#endif
