/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_TTY_H
#define CR_TTY_H

/*
 * Terminals. tty.c: the shell's terminal (--shell-job), a terminal from
 * outside the tree. tty-pty.c: pseudo-terminal pairs of the tree, both
 * ends and their state. tty-queue.c: the data queued in a pair.
 * tty-ctty.c: controlling terminals, foreground groups.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "files.pb-c.h"

struct file_desc_table;
struct file_set;
struct pty_scan;
struct restore_task;
struct restore_tree;
struct stat;

/* NR_UNIX98_PTY_MAX: the kernel never numbers a pts beyond it. */
#define PTY_INDEX_MAX (1U << 20)
/* The pts driver's major: /dev/pts/N is (136, N). */
#define PTS_MAJOR 136
/*
 * Most bytes a queue may hold in an image: what the kernel's line
 * discipline buffer takes back (N_TTY_BUF_SIZE - 1), as restore puts it
 * back in one go.
 */
#define PTY_QUEUE_MAX 4095
/* NCCS of struct termios2 */
#define PTY_NCCS 19

/* ---- dump ---- */

/*
 * Before any fd of the tree is dumped: which ptmx masters the tree holds
 * (with their pts numbers) and which slaves, so that a slave can be told
 * from a terminal of the outside whichever process is dumped first.
 */
int pty_scan_tree(struct file_desc_table *t, const pid_t *pids, size_t nr);
void pty_scan_free(struct pty_scan *s);
bool pty_is_master(const struct stat *st);
/* A slave (a pts of /dev/pts) whose master the tree holds. */
bool pty_is_tree_slave(struct file_desc_table *t, const struct stat *st);
/* The pair whose slave is /dev/pts/index, once its master is dumped; NULL if the tree has none. */
const PtyPairEntry *pty_dump_pair(struct file_desc_table *t, uint32_t index);
/* Every pts number seen, the i-th with its pair (NULL: no master of the tree dumped). */
size_t pty_dump_nr(struct file_desc_table *t);
const PtyPairEntry *pty_dump_nth(struct file_desc_table *t, size_t i, uint32_t *index);
/* Refuse a pair of the tree with an end held by a process outside it. */
int pty_check_outside(const struct file_desc_table *t, const pid_t *tree, size_t nr);

/* The controlling terminal of each process, for core-PID.img (tty-ctty.c). */
struct ctty_proc {
	pid_t pid, sid, pgid;
	uint32_t tty_nr; /* /proc/PID/stat, 0: none */
	bool zombie;
	int32_t ctty_pty; /* out: the index of the tree's pair, -1 if none is restored */
};
/*
 * Once every fd is dumped: each process's controlling terminal must be a
 * slave of the tree (its session's) or the terminal of a session that is
 * not restored; each pair's session and foreground group must be the
 * tree's. procs[0] is the root.
 */
int tty_dump_cttys(struct file_desc_table *t, struct ctty_proc *procs, size_t nr, bool shell_job);

/* ---- tty-queue.c ---- */

struct termios2;
/* How many bytes fd's input queue holds (for a slave in canonical mode: complete lines only). */
int tty_queued(int fd, const char *what);
/* Can criu put data back into a terminal's input (TIOCSTI needs CAP_SYS_ADMIN)? */
bool tty_can_stuff(void);
/*
 * Read what fd's input queue holds (at most max bytes) without waiting.
 * packet: fd is a master in packet mode, whose reads start with a status byte.
 */
int tty_drain(int fd, bool packet, uint8_t *buf, size_t max, size_t *len, const char *what);
/* Put len bytes back at the end of fd's input queue, as if received. */
int tty_stuff(int fd, const uint8_t *data, size_t len, const char *what);
/*
 * Put data into the input of a slave in non-canonical mode whose settings
 * are t: the line discipline must neither echo, translate nor signal it
 * again, so t is relaxed meanwhile and set back after.
 */
int tty_stuff_slave(int sfd, const struct termios2 *t, const uint8_t *data, size_t len, const char *what);
/* Would the input flags of t swallow one of these bytes (IXON's start and stop characters)? */
bool tty_flow_char_in(const struct termios2 *t, const uint8_t *data, size_t len);

/* ---- restore ---- */

/* files.img's pair dumped with this pts number, or NULL. */
const PtyPairEntry *pty_restore_pair(const struct file_set *set, uint32_t index);
/* criu's fd of the slave of the pair dumped as index, inherited by the new processes; -1 if none. */
int pty_helper_fd(const struct file_set *set, uint32_t index);
/* Close criu's slaves: in criu once the tree is created, in each process once its terminal is set. */
void pty_release_helpers(struct file_set *set);
/* files.img's ptys against each other, pstree.img and the cores; after the plan. */
int tty_validate_tree(const struct restore_tree *tree);
/* In a new session leader, right after setsid(): take its controlling terminal back. */
int tty_restore_session(const struct restore_task *rt);
/*
 * In every new process once all groups exist: the leader sets the
 * foreground group, the others drop a terminal they must not have; then
 * the slaves criu gave them go.
 */
int tty_restore_fg(struct restore_task *rt);

#endif
