// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: one image file of an images directory replaced by the
 * input, then everything restore does before it creates anything (criu
 * restore --check-only): checksums, decoding, validation, planning.
 *
 * FUZZ_FILE (at build time) is the file's name prefix ("core-", "mm-",
 * "pstree.img", ...). The other files come from a real dump, FUZZ_BASE_DIR
 * (copied to a private directory under /dev/shm at start). checksums.img
 * is rewritten for each input, so the input reaches the decoders behind
 * the checksums; the "checksums.img" target fuzzes that file itself.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cr-context.h"
#include "image-sums.h"
#include "log.h"
#include "options.h"

#ifndef FUZZ_FILE
#error "FUZZ_FILE: the name (or prefix) of the image file to fuzz"
#endif

static int dir_fd = -1;
static char target[256];

static int copy_file(int from_dir, int to_dir, const char *name)
{
	struct stat st;
	int in = openat(from_dir, name, O_RDONLY), out, ret = -1;

	if (in < 0 || fstat(in, &st))
		goto out;
	out = openat(to_dir, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (out >= 0) {
		ret = sendfile(out, in, NULL, st.st_size) == st.st_size ? 0 : -1;
		close(out);
	}
out:
	if (in >= 0)
		close(in);
	return ret;
}

/* The base dump's image files in a private directory; the first whose name starts with FUZZ_FILE is the target. */
static int setup(void)
{
	const char *base = getenv("FUZZ_BASE_DIR");
	char tmp[] = "/dev/shm/criu-fuzz-XXXXXX";
	struct dirent **list;
	int from, n, i;

	if (!base || !mkdtemp(tmp)) {
		fprintf(stderr, "fuzz: set FUZZ_BASE_DIR to an images directory\n");
		return -1;
	}
	from = open(base, O_RDONLY | O_DIRECTORY);
	dir_fd = open(tmp, O_RDONLY | O_DIRECTORY);
	n = from >= 0 ? scandir(base, &list, NULL, alphasort) : -1;
	for (i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		size_t len = strlen(name);

		if (len > 4 && !strcmp(name + len - 4, ".img")) {
			if (copy_file(from, dir_fd, name))
				return -1;
			if (!target[0] && !strncmp(name, FUZZ_FILE, strlen(FUZZ_FILE)))
				snprintf(target, sizeof(target), "%s", name);
		}
		free(list[i]);
	}
	if (n >= 0)
		free(list);
	if (from >= 0)
		close(from);
	if (!target[0]) {
		fprintf(stderr, "fuzz: no %s* in %s\n", FUZZ_FILE, base);
		return -1;
	}
	fprintf(stderr, "fuzz: %s of %s, in %s\n", target, base, tmp);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_loglevel(getenv("FUZZ_VERBOSE") ? LOG_DEBUG : LOG_MSG - 1);
	if (setup())
		exit(1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cr_options opts;
	struct cr_ctx ctx = { .opts = &opts, .imgdir_fd = dir_fd, .workdir_fd = dir_fd };
	int fd;

	fd = openat(dir_fd, target, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (strcmp(target, IMAGE_SUMS_NAME) && image_sums_write(dir_fd))
		abort();
	options_init(&opts);
	opts.command = CMD_RESTORE;
	opts.check_only = true;
	cr_restore(&ctx);
	return 0;
}
