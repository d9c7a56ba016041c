// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "cr-context.h"
#include "log.h"
#include "options.h"
#include "util.h"

static bool command_needs_images(enum cr_command cmd)
{
	return cmd == CMD_DUMP || cmd == CMD_RESTORE || cmd == CMD_PRE_DUMP;
}

static int open_dir(const char *path, bool create, const char *what)
{
	int fd;

	if (create && mkdir(path, 0700) && errno != EEXIST) {
		pr_perror("can't create %s %s", what, path);
		return -1;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		pr_perror("can't open %s %s", what, path);
	return fd;
}

static int setup_dirs(struct cr_ctx *ctx)
{
	struct cr_options *opts = ctx->opts;
	bool create = opts->command == CMD_DUMP || opts->command == CMD_PRE_DUMP;

	ctx->imgdir_fd = -1;
	ctx->workdir_fd = -1;
	if (!command_needs_images(opts->command))
		return 0;
	/* as in CRIU, the images directory defaults to the current one */
	if (!opts->images_dir)
		opts->images_dir = ".";
	ctx->imgdir_fd = open_dir(opts->images_dir, create, "images directory");
	if (ctx->imgdir_fd < 0)
		return -1;
	if (opts->work_dir) {
		ctx->workdir_fd = open_dir(opts->work_dir, create, "work directory");
		if (ctx->workdir_fd < 0)
			return -1;
	} else {
		ctx->workdir_fd = fcntl(ctx->imgdir_fd, F_DUPFD_CLOEXEC, 3);
		if (ctx->workdir_fd < 0) {
			pr_perror("can't duplicate the images directory fd");
			return -1;
		}
	}
	return 0;
}

static const char *const command_names[] = {
	[CMD_DUMP] = "dump",
	[CMD_RESTORE] = "restore",
	[CMD_CHECK] = "check",
	[CMD_SHOW] = "show",
};

static int run_command(struct cr_ctx *ctx)
{
	switch (ctx->opts->command) {
	case CMD_DUMP:
		if (ctx->opts->check_only) {
			pr_err("--check-only is supported with restore only (it checks an images directory)\n");
			return -1;
		}
		if (ctx->opts->tree_pid <= 0) {
			pr_err("dump needs the PID of the tree's root: use -t PID\n");
			return -1;
		}
		return cr_dump(ctx);
	case CMD_RESTORE:
		return cr_restore(ctx);
	case CMD_CHECK:
		return cr_check(ctx);
	case CMD_SHOW:
		if (!ctx->opts->command_arg) {
			pr_err("show needs an image file: criu show FILE\n");
			return -1;
		}
		return cr_show(ctx, ctx->opts->command_arg);
	default:
		pr_err("command not supported yet\n");
		return -1;
	}
}

int main(int argc, char **argv)
{
	struct cr_options opts;
	struct cr_ctx ctx = { .opts = &opts };
	uint64_t start;
	int ret;

	options_init(&opts);
	log_set_loglevel(LOG_WARN);
	if (config_build_argv(argc, argv, &argc, &argv))
		return 1;
	ret = parse_options(argc, argv, &opts);
	if (ret)
		return ret > 0 ? 0 : 1;
	log_set_loglevel(opts.log_level);
	if (setup_dirs(&ctx))
		return 1;
	if (log_init(opts.log_file, ctx.workdir_fd >= 0 ? ctx.workdir_fd : AT_FDCWD))
		return 1;
	start = now_ns(CLOCK_MONOTONIC);
	ret = run_command(&ctx);
	if (opts.display_stats)
		pr_msg("%s: %s in %.1f ms\n",
		       opts.command < ARRAY_SIZE(command_names) && command_names[opts.command]
			       ? command_names[opts.command]
			       : "criu",
		       ret ? "failed" : "done", (now_ns(CLOCK_MONOTONIC) - start) / 1e6);
	log_close();
	/* restore without -d exits with the status of the restored process */
	if (opts.command == CMD_RESTORE && ret > 0)
		return ret;
	return ret ? 1 : 0;
}
