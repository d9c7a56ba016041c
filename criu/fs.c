// SPDX-License-Identifier: GPL-2.0
/* Working directory and root of a task. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "image.h"
#include "proc-parse.h"
#include "log.h"
#include "util.h"

static bool path_is_deleted(const char *p)
{
	size_t len = strlen(p);

	return len > 10 && !strcmp(p + len - 10, " (deleted)");
}

int fs_dump_task(pid_t pid, int imgdir_fd)
{
	char cwd[PATH_MAX], root[PATH_MAX];
	FsEntry fe = FS_ENTRY__INIT;
	int ret;

	ret = read_proc_link(pid, "cwd", cwd, sizeof(cwd));
	if (!ret)
		ret = read_proc_link(pid, "root", root, sizeof(root));
	if (ret)
		return ret;
	if (path_is_deleted(cwd) || path_is_deleted(root)) {
		pr_err("process %d: its working directory or root was deleted (cwd %s, root %s)\n", pid, cwd, root);
		return -ENOTSUP;
	}
	fe.cwd = cwd;
	fe.root = root;
	return img_write_one(imgdir_fd, CR_IMG_FS, pid, &fe.base);
}

int fs_prepare_restore(int imgdir_fd, pid_t pid, struct fs_state *fs)
{
	FsEntry *fe;
	int ret;

	fs->cwd_fd = -1;
	fs->root = NULL;
	ret = img_read_one(imgdir_fd, CR_IMG_FS, pid, &fs_entry__descriptor, (ProtobufCMessage **)&fe);
	if (ret)
		return ret;
	if (fe->cwd[0] != '/' || fe->root[0] != '/') {
		pr_err("fs-%d.img: cwd '%s' or root '%s' is not an absolute path\n", pid, fe->cwd, fe->root);
		ret = -EINVAL;
		goto out;
	}
	fs->cwd_fd = open(fe->cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->cwd_fd < 0) {
		pr_perror("can't open the working directory %s", fe->cwd);
		ret = -errno;
		goto out;
	}
	fs->root = xstrdup(fe->root);
	if (!fs->root)
		ret = -ENOMEM;
out:
	img_free_entry(&fe->base);
	return ret;
}

int fs_apply(struct fs_state *fs)
{
	int ret = 0;

	if (fs->root && strcmp(fs->root, "/") && chroot(fs->root)) {
		pr_perror("can't chroot to %s", fs->root);
		ret = -errno;
	}
	if (!ret && fchdir(fs->cwd_fd)) {
		pr_perror("can't change to the working directory");
		ret = -errno;
	}
	close_safe(&fs->cwd_fd);
	free(fs->root);
	fs->root = NULL;
	return ret;
}
