/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_FILES_TABLE_H
#define CR_FILES_TABLE_H

/*
 * The dump side's table of file descriptions, shared by files.c, which
 * fills it, and outside.c, which checks it against the processes outside
 * the tree. Nothing else looks inside.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "files.pb-c.h"
#include "sk-diag.h"

struct compel_journal;
struct pty_scan;

struct fd_desc {
	FileEntry *fe;
	pid_t pid;
	int fd; /* -1 for descriptions that only name a path (mappings, exe) */
	dev_t dev;
	ino_t ino;
};

/* A deleted file met in the tree, and the id of the entry that describes it. */
struct ghost_seen {
	uint64_t dev, ino;
	uint32_t id;
};

struct file_desc_table {
	const struct cr_options *opts;
	int imgdir_fd;	   /* for kinds that save content images of their own */
	struct fd_desc *d; /* in id order, as files.img lists them */
	size_t nr, cap;
	uint32_t next_id;
	/*
	 * Descriptions reached through an fd, sorted by device, inode and the
	 * kernel's own order of open files (kcmp): finding whether an fd
	 * shares a description already seen costs log(n) kcmp calls.
	 */
	size_t *by_file;
	size_t nr_by_file, by_file_cap;
	/* objects behind descriptions (pipes) already described */
	uint64_t *seen;
	size_t nr_seen, seen_cap;
	/* memfds already described (their inodes) */
	uint64_t *memfds;
	size_t nr_memfds, memfds_cap;
	/* deleted files already described */
	struct ghost_seen *ghosts;
	size_t nr_ghosts, ghosts_cap;
	/* unix sockets of the system, read the first time one is met; the tree's */
	struct unix_diag_table unix_diag;
	uint32_t *unix_inos;
	size_t nr_unix, unix_cap;
	/* copies of the TCP sockets put in repair mode */
	int *tcp_repair;
	size_t nr_tcp_repair, tcp_repair_cap;
	struct compel_journal *journal;
	/* entries finished once every fd of the tree is dumped */
	struct fd_desc *deferred;
	size_t nr_deferred, deferred_cap;
	/* the ptys of the tree, known before any fd is dumped */
	struct pty_scan *ptys;
};

/*
 * The tree's description that pid's fd (with stat st) is, or NULL; works
 * for any process. *err is set if kcmp fails.
 */
struct fd_desc *fdt_lookup(const struct file_desc_table *t, pid_t pid, int fd, const struct stat *st, int *err);

#endif
