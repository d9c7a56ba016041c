/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_FILES_H
#define CR_FILES_H

#include <stdbool.h>
#include <sys/types.h>
#include "options.h"
#include "files.pb-c.h"

struct file_desc_table;
struct file_set;
struct stat;

/* An fd of a stopped task being dumped. */
struct fd_dump_ctx {
	pid_t pid;
	int fd;
	const char *link; /* readlink of /proc/PID/fd/FD */
	const struct stat *st;
	const struct cr_options *opts;
	struct file_desc_table *fdt;
	int imgdir_fd; /* for kinds with images of their own (memfd content) */
};

/*
 * Per fd type operations (one file per kind: files-reg.c, tty.c,
 * files-pipe.c, ...). dump fills a FileEntry for an fd of a stopped task;
 * validate checks a decoded entry; open returns a new fd for the
 * described file on restore (criu opens each description once, see
 * struct file_set); open_done lets go of what open kept for later ones.
 * validate_set checks what entries of the kind say of each other, once
 * every entry of files.img is read.
 */
struct fd_ops {
	FdType type;
	const char *name;
	int (*dump)(const struct fd_dump_ctx *c, FileEntry *fe);
	int (*validate)(const FileEntry *fe, size_t idx);
	int (*validate_set)(const struct file_set *set);
	int (*open)(const FileEntry *fe, struct file_set *set, const struct cr_options *opts);
	void (*open_done)(struct file_set *set);
	void (*free)(FileEntry *fe);
};

struct unix_diag_table;
/*
 * Restore: an external datagram socket connected again to its peer's name
 * (sk-unix.c); 0 if fe is not one, else the fd or a negative error.
 */
int unix_open_external(const FileEntry *fe);
/* Dump side: what sock_diag says of unix sockets (sk-unix.c collects it on first use). */
struct unix_diag_table *fdt_unix_diag(struct file_desc_table *t);
/* A unix socket of the tree, for the check against outsiders. */
int fdt_note_unix(struct file_desc_table *t, uint32_t ino);
/* An entry to finish once every fd of the tree is dumped (an epoll's targets). */
int fdt_defer(struct file_desc_table *t, FileEntry *fe, pid_t pid, int fd);
int fdt_resolve_deferred(struct file_desc_table *t);
/* files-epoll.c */
bool epoll_target_is(pid_t pid, int epfd, const EpollEntry *e, size_t i, pid_t dpid, int dfd);
struct task_files;
int epoll_register(const struct task_files *tf, const FileEntry *fe, int epfd, int spare_min);
/* Dump side: a TCP socket (fd of pid) put in repair mode; a copy is kept, and the guard told. */
int fdt_note_tcp_repair(struct file_desc_table *t, int sfd, pid_t root, pid_t pid, int fd);
struct compel_journal;
/* The guard that must undo repair mode if the dumper dies. */
void fdt_set_journal(struct file_desc_table *t, struct compel_journal *j);
/* End of the dump: sockets stay in repair mode (the tree is killed) or leave it, lock lifted. */
void fdt_tcp_repair_finish(struct file_desc_table *t, bool keep, pid_t root);
/* Restore side: a connection made in repair mode; unsent: the bytes to send once it is left. */
int files_note_tcp_repair(struct file_set *set, int fd, const uint8_t *unsent, size_t unsent_len);
/* Dump side: the first time a memfd (by inode) is seen in the tree? And all of them. */
bool fdt_first_memfd(struct file_desc_table *t, uint64_t ino);
size_t fdt_memfd_inodes(const struct file_desc_table *t, const uint64_t **inos);
/* Dump side: the first time an object (a pipe, by inode) is seen in the tree? */
bool fdt_first_sight(struct file_desc_table *t, uint64_t id);
/*
 * Dump side: the id of the entry that describes the deleted file dev:ino
 * (its ghost id): id if the file is met for the first time.
 */
int fdt_ghost_id(struct file_desc_table *t, uint64_t dev, uint64_t ino, uint32_t id, uint32_t *ghost_id);
/* Dump side: the tree's ptys, scanned before any fd is dumped (tty-pty.c). */
struct pty_scan;
struct pty_scan *fdt_ptys(const struct file_desc_table *t);
void fdt_set_ptys(struct file_desc_table *t, struct pty_scan *s);
/* The processes of the dumped tree, for the check against the outside. */
struct proc_vmas;
struct tree_pids {
	const pid_t *all; /* zombies too */
	size_t nr_all;
	const pid_t *live;
	const struct proc_vmas *const *vmas; /* of each live process */
	size_t nr_live;
	pid_t root;
};

/*
 * What the tree shares with processes outside it (outside.c): refused,
 * or marked external (the root's stdio, --external), or allowed
 * (--allow-outside-sharing).
 */
int fdt_check_outside(struct file_desc_table *t, const struct tree_pids *tp, const struct cr_options *opts);

const struct fd_ops *fd_ops_by_type(FdType type);

/* Dump side: collect every fd of pid into the shared table and fdinfo image. */
struct file_desc_table *fdt_create(const struct cr_options *opts, int imgdir_fd);
int files_dump_task(struct file_desc_table *fdt, pid_t pid, int imgdir_fd, const struct cr_options *opts);
/* A description that only names a path (file mappings, the executable). */
int fdt_add_path(struct file_desc_table *fdt, const char *path, uint32_t flags, uint32_t *id);
/*
 * The same for a deleted file (link ends with " (deleted)"), read through
 * proc_path (/proc/PID/map_files/..., /proc/PID/exe); what names it in
 * messages.
 */
int fdt_add_deleted(struct file_desc_table *fdt, const char *proc_path, const char *link, const char *what,
		    uint32_t flags, uint32_t *id);
int files_write_image(struct file_desc_table *fdt, int imgdir_fd);
void fdt_destroy(struct file_desc_table *fdt);

/* Restore side. */

/*
 * Every description of files.img, read once for the whole tree. While the
 * tree is being created, criu holds each used description open once (its
 * "master"), above every fd number of the tree: the processes inherit the
 * masters and dup their fds from them, so a description shared by several
 * fds or processes is shared again, with one offset and one set of flags.
 */
struct pipe_restore;
struct unix_restore;
struct ghost_set;

/* sk-inet.c: a connection made in repair mode, left once every socket exists */
struct tcp_repair_restore {
	int fd; /* criu's own copy */
	const uint8_t *unsent;
	size_t unsent_len;
};
struct pty_restore;

struct file_set {
	FileEntry **files;
	size_t nr_files;
	int *masters; /* criu's fd per entry, -1 if no process uses it */
	pid_t *owner; /* the first process (tree order) using each entry */
	/* files-pipe.c: the pipes being opened */
	struct pipe_restore *pipes;
	size_t nr_pipes, pipes_cap;
	/* the shared memory object (restore-shm.c) with this inode at dump, or -1: memfds */
	int (*shm_fd)(void *arg, uint64_t shmid);
	void *shm_arg;
	struct tcp_repair_restore *tcp_repair;
	size_t nr_tcp_repair, tcp_repair_cap;
	pid_t root; /* of the tree: names its network lock */
	/* sk-unix.c: the unix sockets being created */
	struct unix_restore *usks;
	size_t nr_usks, usks_cap;
	/* files-ghost.c: deleted files created again, and the names they have while opened */
	struct ghost_set *ghosts;
	int imgdir_fd; /* the images, for kinds that read content images when opened */
	/* tty-pty.c: every pty pair, made at the first open of one */
	struct pty_restore *ptys;
	size_t nr_ptys;
	bool ptys_made;
};

struct task_files {
	const struct file_set *set;
	FdinfoEntry **fds; /* fds of this task, sorted by number */
	size_t nr_fds;
	int max_fd;
};

/* Read and validate files.img; no side effects. */
int files_read_set(int imgdir_fd, struct file_set *set);
void files_free_set(struct file_set *set);
/* Read and validate fdinfo-PID.img against the set. */
int files_read_task(int imgdir_fd, pid_t pid, const struct file_set *set, struct task_files *tf);
const FileEntry *files_find(const struct task_files *tf, uint32_t id);
/* Open the masters of every description tf uses, at min_fd or above. */
int files_open_masters(struct file_set *set, const struct task_files *tf, pid_t pid, int min_fd,
		       const struct cr_options *opts);
/* In the new process, fds installed, masters still open: what only one process must do (epolls). */
int files_finish_install(const struct task_files *tf, pid_t pid);
/* Every master is open: the kinds let go of what they kept for the others. */
void files_masters_done(struct file_set *set);
void files_close_masters(struct file_set *set);
/* Is fd one of the masters? */
bool files_is_master(const struct file_set *set, int fd);
/*
 * Install every fd at its number, dup'ed from its master. The caller has
 * moved its own fds above tf->max_fd and closed everything else.
 */
int files_install(const struct task_files *tf);
void files_free(struct task_files *tf);

/*
 * A file mapped privately (or the executable) must be the one dumped: its
 * unmodified pages are read from it, not from the images.
 */
int reg_file_check_unchanged(const RegFileEntry *rfe, int fd);
/* Open a regular file described by a reg_file_entry (used for mappings and exe too). */
int reg_file_open(const RegFileEntry *rfe, int extra_flags);
/*
 * A new fd (criu's, close-on-exec) of the file a mapping or the
 * executable names: a regular file by path (checked unchanged since the
 * dump if its pages are read from it), or a deleted file created again.
 */
int files_open_mapped(struct file_set *set, const FileEntry *fe, bool unchanged);
/* The path of a regular or deleted file's entry, for messages. */
const char *files_entry_path(const FileEntry *fe);

/* files-ghost.c: deleted regular files. */
bool link_is_deleted(const char *link);
/* Where a dump reads a deleted file, and how one of its descriptions is. */
struct ghost_src {
	const char *proc_path; /* /proc/PID/fd/N, /proc/PID/map_files/A-B, /proc/PID/exe */
	const char *link;      /* "PATH (deleted)" */
	const char *what;      /* "fd 3 of process 42", for messages */
	const struct stat *st;
	uint32_t flags;
	uint64_t pos;
};
int ghost_fill(struct file_desc_table *t, FileEntry *fe, const struct ghost_src *src, const struct cr_options *opts,
	       int imgdir_fd);
/* A new fd of a description of a deleted file, its flags plus extra_flags. */
int ghost_open_flags(const FileEntry *fe, struct file_set *set, int extra_flags);

/* files-memfd.c: fill a new memfd from its content image. */
int memfd_fill(int fd, const MemfdEntry *m, int imgdir_fd);

/* file-lock.c (--file-locks); file_lock_entry.kind */
enum { FILE_LOCK_FLOCK = 1, FILE_LOCK_POSIX = 2, FILE_LOCK_OFD = 3 };
int file_locks_dump(pid_t pid, int fd, const char *link, FdinfoEntry *fdi, const struct cr_options *opts);
void file_locks_free(FdinfoEntry *fdi);
int file_locks_validate(const FdinfoEntry *fdi, pid_t pid);
/*
 * In the new process, its fds in place: take its flock and OFD locks
 * again. POSIX locks are the restorer's (see restorer_lock).
 */
int file_locks_restore(const struct task_files *tf, pid_t pid);

/* cwd and root */
int fs_dump_task(pid_t pid, int imgdir_fd);
struct fs_state {
	int cwd_fd;
	char *root;
};
int fs_prepare_restore(int imgdir_fd, pid_t pid, struct fs_state *fs);
/* chroot then fchdir; call last, after everything is opened. */
int fs_apply(struct fs_state *fs);

#endif
