/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_OPTIONS_H
#define CR_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Largest deleted file saved by default. CRIU's default is 1 MiB; a
 * larger one costs only image space here, since the content is saved
 * sparse.
 */
#define DEFAULT_GHOST_LIMIT (64ULL << 20)

enum cr_command {
	CMD_NONE,
	CMD_DUMP,
	CMD_PRE_DUMP,
	CMD_RESTORE,
	CMD_CHECK,
	CMD_SHOW,
	CMD_PAGE_SERVER,
	CMD_SERVICE,
	CMD_SWRK,
	CMD_DEDUP,
	CMD_LAZY_PAGES,
	CMD_CPUINFO,
	CMD_EXEC,
};

/* --inherit-fd fd[N]:KEY: criu's fd N stands for the external resource KEY. */
struct inherit_fd {
	int fd;
	char *key;
};

/*
 * Every option of a run, filled by the command line (and later by an RPC
 * request). Nothing else keeps run-wide settings.
 */
struct cr_options {
	enum cr_command command;
	char *command_arg; /* e.g. the fd of `swrk FD`, the file of `show` */
	char *images_dir;
	char *work_dir;
	char *log_file;
	int log_level;
	bool log_pid;
	char *pidfile;
	pid_t tree_pid;
	bool leave_running;
	bool leave_stopped;
	bool shell_job;
	bool file_locks;	 /* --file-locks */
	bool allow_file_changes; /* --allow-file-changes: restore over files changed since the dump */
	bool tcp_established;	 /* --tcp-established */
	uint64_t ghost_limit;	 /* --ghost-limit: largest deleted file whose content a dump saves */
	/* restore: --inherit-fd, in the order given */
	struct inherit_fd *inherit_fds;
	int nr_inherit_fds;
	/* dump: --external KEY, resources the tree shares with outsiders that are allowed (pipe:[N], socket:[N]) */
	char **externals;
	int nr_externals;
	bool check_only;	    /* restore --check-only: verify and validate the images, restore nothing */
	bool allow_outside_sharing; /* --allow-outside-sharing: dump what outsiders share as the tree's own */
	/* dump: -x, --ext-unix-sk: unix sockets connected outside are external (all, or these inodes) */
	bool ext_unix_sk_all;
	uint32_t *ext_unix_inos;
	int nr_ext_unix_inos;
	bool restore_detached;
	bool restore_sibling;
	char *root;
	unsigned int timeout; /* seconds to wait for the tree to freeze */
	char *freeze_cgroup;  /* dump: the cgroup holding the tree, frozen while it is seized */
	bool no_default_config;
	bool display_stats;
	char **features; /* criu check --feature NAME (repeatable) */
	int nr_features;
	bool check_all;
	/* Options we know but cannot honour yet: first one seen, for the message. */
	const char *unsupported;
};

int parse_options(int argc, char **argv, struct cr_options *opts);
void options_init(struct cr_options *opts);
void usage(void);

#endif
