// SPDX-License-Identifier: GPL-2.0
/*
 * Integrity of an images directory. The dump ends by writing
 * checksums.img: an XXH64 sum (libxxhash) of every 64 KiB block of every
 * image file, and a seal over all of that. It is written under a temporary
 * name and renamed, so it exists only for a dump that completed: a dump
 * that failed, ran out of space or was killed leaves none. Restore checks
 * the seal, then every file against its sums, before it reads anything
 * else, and refuses image files the dump did not write. Any flipped byte
 * gives "FILE: checksum mismatch at offset N" (the block's offset).
 * XXH64 hashes at memory speed, so the pages of a big process cost little
 * more than reading them once from the page cache; big files are hashed
 * by one thread per CPU.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "checksums.pb-c.h"
#include "image.h"
#include "image-sums.h"
#include "log.h"
#include "util.h"

#define SUMS_MAGIC (img_descs[CR_IMG_CHECKSUMS].magic) /* "CRI:" */
#define SUMS_TMP IMAGE_SUMS_NAME ".tmp"
#define BLOCK_SIZE (64u << 10)
#define PARALLEL_MIN (4u << 20)
#define MAX_THREADS 8
#define SUMS_MAX_SIZE (256u << 20)
#define NAME_MAX_LEN 255

struct hash_job {
	int fd;
	size_t size; /* of the file */
	uint64_t *sums;
	size_t first, last; /* blocks [first, last) */
	int error;
};

/* Each thread maps its own slice: faulting the page cache in is half the work, and it is shared too. */
static void *hash_blocks(void *arg)
{
	struct hash_job *j = arg;
	size_t start = j->first * BLOCK_SIZE, end = j->last * BLOCK_SIZE, b;
	const uint8_t *map;

	if (end > j->size)
		end = j->size;
	if (start >= end)
		return NULL;
	map = mmap(NULL, end - start, PROT_READ, MAP_PRIVATE, j->fd, start);
	if (map == MAP_FAILED) {
		j->error = -errno;
		return NULL;
	}
	madvise((void *)map, end - start, MADV_SEQUENTIAL);
	for (b = j->first; b < j->last; b++) {
		size_t off = b * BLOCK_SIZE, len = end - off < BLOCK_SIZE ? end - off : BLOCK_SIZE;

		j->sums[b] = XXH64(map + (off - start), len, 0);
	}
	munmap((void *)map, end - start);
	return NULL;
}

static int hash_all(int fd, size_t size, uint64_t *sums, size_t nblocks)
{
	struct hash_job jobs[MAX_THREADS];
	pthread_t threads[MAX_THREADS];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = size < PARALLEL_MIN || cpus < 2 ? 1 : (size_t)(cpus < MAX_THREADS ? cpus : MAX_THREADS);
	bool started[MAX_THREADS] = {};
	size_t i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		jobs[i] = (struct hash_job){ fd, size, sums, nblocks * i / n, nblocks * (i + 1) / n, 0 };
		/* the last slice in this thread; any other in its own, or here if none can start */
		if (i + 1 < n && !pthread_create(&threads[i], NULL, hash_blocks, &jobs[i]))
			started[i] = true;
		else
			hash_blocks(&jobs[i]);
	}
	for (i = 0; i < n; i++) {
		if (started[i])
			pthread_join(threads[i], NULL);
		ret = ret ?: jobs[i].error;
	}
	return ret;
}

/* The block sums of dirfd/name: *sums malloc'ed (NULL for an empty file). */
static int sum_file(int dirfd, const char *name, uint64_t *size, uint64_t **sums, size_t *nblocks)
{
	struct stat st;
	int fd, ret = 0;

	*sums = NULL;
	*nblocks = 0;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		pr_perror("%s: can't open", name);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		pr_err("%s: not a regular file\n", name);
		ret = -EINVAL;
		goto out;
	}
	*size = st.st_size;
	*nblocks = (st.st_size + BLOCK_SIZE - 1) / BLOCK_SIZE;
	if (!*nblocks)
		goto out;
	*sums = xmalloc(*nblocks * sizeof(**sums));
	ret = *sums ? hash_all(fd, st.st_size, *sums, *nblocks) : -ENOMEM;
	if (ret) {
		pr_err("%s: can't read it to sum it: %s\n", name, strerror(-ret));
		free(*sums);
		*sums = NULL;
	}
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static bool is_image_name(const char *name)
{
	size_t len = strlen(name);

	return len > 4 && !strcmp(name + len - 4, ".img") && strcmp(name, IMAGE_SUMS_NAME);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every image file of the dir but checksums.img, sorted; *names and each name malloc'ed. */
static int list_images(int dirfd, char ***names, size_t *nr)
{
	size_t cap = 0;
	struct dirent *de;
	DIR *d;
	int fd = dup(dirfd);

	*names = NULL;
	*nr = 0;
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		pr_perror("can't list the images dir");
		return -errno;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (!is_image_name(de->d_name))
			continue;
		if (xgrow(names, &cap, *nr, sizeof(**names)) || !((*names)[*nr] = xstrdup(de->d_name))) {
			closedir(d);
			return -ENOMEM;
		}
		(*nr)++;
	}
	closedir(d);
	if (*nr)
		xqsort(*names, *nr, sizeof(**names), cmp_names);
	return 0;
}

static void free_names(char **names, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		free(names[i]);
	free(names);
}

int image_sums_forget(int imgdir_fd)
{
	if (unlinkat(imgdir_fd, IMAGE_SUMS_NAME, 0) && errno != ENOENT) {
		pr_perror("can't remove the old %s", IMAGE_SUMS_NAME);
		return -errno;
	}
	unlinkat(imgdir_fd, SUMS_TMP, 0);
	return 0;
}

struct buf {
	uint8_t *data;
	size_t len, cap;
};

static int buf_put_entry(struct buf *b, const ProtobufCMessage *msg)
{
	size_t size = protobuf_c_message_get_packed_size(msg);
	uint32_t len = htole32(size);

	while (b->len + sizeof(len) + size > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64 << 10;
		uint8_t *n = realloc(b->data, cap);

		if (!n)
			return -ENOMEM;
		b->data = n;
		b->cap = cap;
	}
	memcpy(b->data + b->len, &len, sizeof(len));
	protobuf_c_message_pack(msg, b->data + b->len + sizeof(len));
	b->len += sizeof(len) + size;
	return 0;
}

static int put_file_sum(int dirfd, const char *name, struct buf *b)
{
	ImageSum is = IMAGE_SUM__INIT;
	uint64_t *sums;
	size_t nblocks;
	int ret;

	ret = sum_file(dirfd, name, &is.size, &sums, &nblocks);
	if (ret)
		return ret;
	is.name = (char *)name;
	is.n_blocks = nblocks;
	is.blocks = sums;
	ret = buf_put_entry(b, &is.base);
	free(sums);
	return ret;
}

static int write_sums_file(int dirfd, const struct buf *rest)
{
	ChecksumsSeal seal = CHECKSUMS_SEAL__INIT;
	struct buf head = {};
	uint32_t magic = htole32(SUMS_MAGIC);
	int fd, ret;

	seal.sum = XXH64(rest->data, rest->len, 0);
	seal.block_size = BLOCK_SIZE;
	ret = buf_put_entry(&head, &seal.base);
	if (ret)
		return ret;
	fd = openat(dirfd, SUMS_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		pr_perror("can't create %s", SUMS_TMP);
		goto out;
	}
	ret = write_all(fd, &magic, sizeof(magic));
	ret = ret ?: write_all(fd, head.data, head.len);
	ret = ret ?: write_all(fd, rest->data, rest->len);
	/*
	 * No fsync: after a crash the name may be there before the data, but
	 * then the sums don't match and restore says so.
	 */
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && renameat(dirfd, SUMS_TMP, dirfd, IMAGE_SUMS_NAME))
		ret = -errno;
	if (ret) {
		pr_err("can't write %s: %s\n", IMAGE_SUMS_NAME, strerror(-ret));
		unlinkat(dirfd, SUMS_TMP, 0);
	}
out:
	free(head.data);
	return ret;
}

int image_sums_write(int imgdir_fd)
{
	struct buf rest = {};
	char **names;
	size_t nr, i;
	int ret;

	ret = list_images(imgdir_fd, &names, &nr);
	for (i = 0; i < nr && !ret; i++)
		ret = put_file_sum(imgdir_fd, names[i], &rest);
	ret = ret ?: write_sums_file(imgdir_fd, &rest);
	if (!ret)
		pr_info("%s: %zu image files summed\n", IMAGE_SUMS_NAME, nr);
	free_names(names, nr);
	free(rest.data);
	return ret;
}

/* ---- restore ---- */

static int read_sums_file(int dirfd, uint8_t **data, size_t *len)
{
	struct stat st;
	int fd, ret;

	fd = openat(dirfd, IMAGE_SUMS_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		ret = -errno;
		if (errno == ENOENT)
			pr_err("%s is missing: the dump did not complete (failed, killed, or out of space), or the "
			       "images were not all copied\n",
			       IMAGE_SUMS_NAME);
		else
			pr_perror("can't open %s", IMAGE_SUMS_NAME);
		return ret;
	}
	if (fstat(fd, &st) || st.st_size < 8 || st.st_size > SUMS_MAX_SIZE) {
		pr_err("%s: %lld bytes: not a checksums file\n", IMAGE_SUMS_NAME, (long long)st.st_size);
		close(fd);
		return -EINVAL;
	}
	*len = st.st_size;
	*data = xmalloc(*len);
	ret = *data ? read_all(fd, *data, *len) : -ENOMEM;
	close(fd);
	if (ret != (int)*len) {
		pr_err("%s: can't read it\n", IMAGE_SUMS_NAME);
		free(*data);
		return ret < 0 ? ret : -EIO;
	}
	return 0;
}

/* The entry at *off: its message bytes (len); *off moves past it. */
static int next_entry(const uint8_t *data, size_t size, size_t *off, const uint8_t **msg, uint32_t *len)
{
	if (size - *off < sizeof(*len)) {
		pr_err("%s: truncated entry at offset %zu\n", IMAGE_SUMS_NAME, *off);
		return -EINVAL;
	}
	memcpy(len, data + *off, sizeof(*len));
	*len = le32toh(*len);
	if (*len > size - *off - sizeof(*len)) {
		pr_err("%s: entry at offset %zu claims %u bytes, past the end\n", IMAGE_SUMS_NAME, *off, *len);
		return -EINVAL;
	}
	*msg = data + *off + sizeof(*len);
	*off += sizeof(*len) + *len;
	return 0;
}

static bool name_is_plain(const char *name)
{
	return is_image_name(name) && strlen(name) <= NAME_MAX_LEN && !strchr(name, '/');
}

static int verify_file(int dirfd, const ImageSum *is)
{
	uint64_t size, *sums;
	size_t nblocks, b;
	int ret;

	if (!name_is_plain(is->name)) {
		pr_err("%s: lists \"%.60s\", which is not an image file name\n", IMAGE_SUMS_NAME, is->name);
		return -EINVAL;
	}
	if (faccessat(dirfd, is->name, F_OK, AT_SYMLINK_NOFOLLOW)) {
		pr_err("%s: missing (%s lists it)\n", is->name, IMAGE_SUMS_NAME);
		return -ENOENT;
	}
	ret = sum_file(dirfd, is->name, &size, &sums, &nblocks);
	if (ret)
		return ret;
	if (size != is->size || nblocks != is->n_blocks) {
		pr_err("%s: %llu bytes, %s says %llu: truncated or replaced\n", is->name, (unsigned long long)size,
		       IMAGE_SUMS_NAME, (unsigned long long)is->size);
		ret = -EINVAL;
	}
	for (b = 0; b < nblocks && !ret; b++) {
		if (sums[b] == is->blocks[b])
			continue;
		pr_err("%s: checksum mismatch at offset %zu\n", is->name, b * (size_t)BLOCK_SIZE);
		ret = -EINVAL;
	}
	free(sums);
	return ret;
}

static bool listed(char *const *names, size_t nr, const char *name)
{
	return nr && bsearch(&name, names, nr, sizeof(*names), cmp_names) != NULL;
}

/* Each listed file verified, and their names kept (sorted) to find files the dump did not write. */
static int verify_listed(int dirfd, const uint8_t *data, size_t size, size_t off, char ***names, size_t *nr)
{
	size_t cap = 0;
	int ret = 0;

	*names = NULL;
	*nr = 0;
	while (off < size && !ret) {
		const uint8_t *msg;
		ImageSum *is;
		uint32_t len;

		ret = next_entry(data, size, &off, &msg, &len);
		if (ret)
			break;
		is = image_sum__unpack(NULL, len, msg);
		if (!is) {
			pr_err("%s: an entry does not decode\n", IMAGE_SUMS_NAME);
			return -EINVAL;
		}
		ret = verify_file(dirfd, is);
		if (!ret && (xgrow(names, &cap, *nr, sizeof(**names)) || !((*names)[*nr] = xstrdup(is->name))))
			ret = -ENOMEM;
		if (!ret)
			(*nr)++;
		image_sum__free_unpacked(is, NULL);
	}
	if (*nr)
		xqsort(*names, *nr, sizeof(**names), cmp_names);
	return ret;
}

static int check_seal(const uint8_t *data, size_t size, size_t *rest)
{
	ChecksumsSeal *seal;
	const uint8_t *msg;
	uint32_t magic, len;
	size_t off = sizeof(magic);
	int ret;

	memcpy(&magic, data, sizeof(magic));
	if (le32toh(magic) != SUMS_MAGIC) {
		pr_err("%s: bad magic 0x%08x\n", IMAGE_SUMS_NAME, le32toh(magic));
		return -EINVAL;
	}
	ret = next_entry(data, size, &off, &msg, &len);
	if (ret)
		return ret;
	seal = checksums_seal__unpack(NULL, len, msg);
	if (!seal) {
		pr_err("%s: the seal does not decode\n", IMAGE_SUMS_NAME);
		return -EINVAL;
	}
	if (seal->block_size != BLOCK_SIZE || seal->sum != XXH64(data + off, size - off, 0)) {
		pr_err("%s: checksum mismatch at offset %zu (its own seal)\n", IMAGE_SUMS_NAME, off);
		ret = -EINVAL;
	}
	checksums_seal__free_unpacked(seal, NULL);
	*rest = off;
	return ret;
}

int image_sums_verify(int imgdir_fd)
{
	char **names = NULL, **present = NULL;
	size_t size = 0, off = 0, nr = 0, nr_present = 0, i;
	uint8_t *data = NULL;
	int ret;

	ret = read_sums_file(imgdir_fd, &data, &size);
	if (ret)
		return ret;
	ret = check_seal(data, size, &off);
	ret = ret ?: verify_listed(imgdir_fd, data, size, off, &names, &nr);
	ret = ret ?: list_images(imgdir_fd, &present, &nr_present);
	for (i = 0; i < nr_present && !ret; i++) {
		if (listed(names, nr, present[i]))
			continue;
		pr_err("%s: not written by the dump (%s does not list it)\n", present[i], IMAGE_SUMS_NAME);
		ret = -EINVAL;
	}
	if (!ret)
		pr_info("%s: %zu image files verified\n", IMAGE_SUMS_NAME, nr);
	free_names(names, nr);
	free_names(present, nr_present);
	free(data);
	return ret;
}
