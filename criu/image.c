// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <endian.h>

#include "image.h"
#include "log.h"
#include "util.h"
#include "inventory.pb-c.h"
#include "pstree.pb-c.h"
#include "core.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "files.pb-c.h"
#include "checksums.pb-c.h"

#define IMG_WBUF_SIZE (64 << 10)

const struct img_desc img_descs[CR_IMG_MAX] = {
	[CR_IMG_INVENTORY] = { "inventory.img", 0x43524931, NULL, &inventory_entry__descriptor },
	[CR_IMG_PSTREE] = { "pstree.img", 0x43524932, NULL, &pstree_entry__descriptor },
	[CR_IMG_CORE] = { "core-%u.img", 0x43524933, NULL, &task_core_entry__descriptor },
	[CR_IMG_MM] = { "mm-%u.img", 0x43524934, NULL, &mm_entry__descriptor },
	[CR_IMG_PAGEMAP] = { "pagemap-%u.img", 0x43524935, &pagemap_head__descriptor, &pagemap_entry__descriptor },
	[CR_IMG_PAGES] = { "pages-%u.img", 0, NULL, NULL },
	[CR_IMG_FILES] = { "files.img", 0x43524937, NULL, &file_entry__descriptor },
	[CR_IMG_FDINFO] = { "fdinfo-%u.img", 0x43524938, NULL, &fdinfo_entry__descriptor },
	[CR_IMG_FS] = { "fs-%u.img", 0x43524939, NULL, &fs_entry__descriptor },
	[CR_IMG_MEMFD] = { "memfd-%u.img", 0, NULL, NULL },
	[CR_IMG_GHOST] = { "ghost-%u.img", 0, NULL, NULL },
	[CR_IMG_CHECKSUMS] = { "checksums.img", 0x4352493a, &checksums_seal__descriptor, &image_sum__descriptor },
};

static void img_set_name(struct cr_img *img, unsigned id)
{
	const char *fmt = img_descs[img->type].fmt;

	if (strstr(fmt, "%u"))
		snprintf(img->name, sizeof(img->name), fmt, id);
	else
		snprintf(img->name, sizeof(img->name), "%s", fmt);
}

static int img_check_magic(struct cr_img *img)
{
	uint32_t magic;
	int ret;

	ret = read_all(img->fd, &magic, sizeof(magic));
	if (ret < 0) {
		pr_err("%s: can't read magic: %s\n", img->name, strerror(-ret));
		return -1;
	}
	if (ret != sizeof(magic)) {
		pr_err("%s: file is truncated: no magic\n", img->name);
		return -1;
	}
	if (le32toh(magic) != img_descs[img->type].magic) {
		pr_err("%s: bad magic 0x%08x, expected 0x%08x\n", img->name, le32toh(magic),
		       img_descs[img->type].magic);
		return -1;
	}
	img->off = sizeof(magic);
	return 0;
}

static struct cr_img *img_do_open(int dirfd, int type, bool write, unsigned id, bool optional)
{
	struct cr_img *img;
	uint32_t magic;
	int flags = write ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY;

	img = xzalloc(sizeof(*img));
	if (!img)
		return NULL;
	img->type = type;
	img->write = write;
	img_set_name(img, id);
	img->fd = openat(dirfd, img->name, flags | O_CLOEXEC, 0600);
	if (img->fd < 0) {
		int err = errno;

		if (!(optional && err == ENOENT))
			pr_err("%s: can't open image: %s\n", img->name, strerror(err));
		free(img);
		errno = err;
		return NULL;
	}
	if (!img_descs[type].magic)
		return img;
	if (!write) {
		if (img_check_magic(img))
			goto err;
		return img;
	}
	img->buf_size = IMG_WBUF_SIZE;
	img->buf = xmalloc(img->buf_size);
	if (!img->buf)
		goto err;
	magic = htole32(img_descs[type].magic);
	memcpy(img->buf, &magic, sizeof(magic));
	img->buf_len = sizeof(magic);
	return img;
err:
	close(img->fd);
	free(img->buf);
	free(img);
	errno = EINVAL;
	return NULL;
}

struct cr_img *img_open(int dirfd, int type, bool write, unsigned id)
{
	return img_do_open(dirfd, type, write, id, false);
}

struct cr_img *img_open_optional(int dirfd, int type, unsigned id)
{
	return img_do_open(dirfd, type, false, id, true);
}

static int img_flush(struct cr_img *img)
{
	int ret;

	if (!img->buf_len)
		return 0;
	ret = write_all(img->fd, img->buf, img->buf_len);
	if (ret) {
		pr_err("%s: can't write image: %s\n", img->name, strerror(-ret));
		img->error = ret;
		return ret;
	}
	img->buf_len = 0;
	return 0;
}

int img_close(struct cr_img *img)
{
	int ret = 0;

	if (!img)
		return 0;
	if (img->write) {
		ret = img_flush(img);
		if (!ret && img->error)
			ret = img->error;
		if (close(img->fd) && !ret) {
			pr_perror("%s: can't close image", img->name);
			ret = -EIO;
		}
	} else {
		close(img->fd);
	}
	free(img->buf);
	free(img);
	return ret;
}

int img_write_entry(struct cr_img *img, const ProtobufCMessage *msg)
{
	size_t size = protobuf_c_message_get_packed_size(msg);
	uint32_t len = htole32(size);
	uint8_t *tmp = NULL;
	int ret;

	if (img->error)
		return img->error;
	if (size > IMG_MAX_ENTRY_SIZE) {
		pr_err("%s: entry of %zu bytes is too large\n", img->name, size);
		return -EFBIG;
	}
	if (img->buf_len + sizeof(len) + size > img->buf_size) {
		ret = img_flush(img);
		if (ret)
			return ret;
	}
	if (sizeof(len) + size > img->buf_size) {
		/* A big entry: write it directly rather than grow the buffer. */
		tmp = xmalloc(size);
		if (!tmp)
			return -ENOMEM;
		protobuf_c_message_pack(msg, tmp);
		ret = write_all(img->fd, &len, sizeof(len));
		if (!ret)
			ret = write_all(img->fd, tmp, size);
		free(tmp);
		if (ret) {
			pr_err("%s: can't write image: %s\n", img->name, strerror(-ret));
			img->error = ret;
		}
		return ret;
	}
	memcpy(img->buf + img->buf_len, &len, sizeof(len));
	protobuf_c_message_pack(msg, img->buf + img->buf_len + sizeof(len));
	img->buf_len += sizeof(len) + size;
	img->off += sizeof(len) + size;
	return 0;
}

int img_read_entry(struct cr_img *img, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg)
{
	uint32_t len;
	uint8_t *buf;
	int ret;

	ret = read_all(img->fd, &len, sizeof(len));
	if (ret < 0) {
		pr_err("%s: read error at offset %llu: %s\n", img->name, (unsigned long long)img->off, strerror(-ret));
		return -EIO;
	}
	if (ret == 0)
		return 0;
	if (ret != sizeof(len)) {
		pr_err("%s: truncated entry header at offset %llu\n", img->name, (unsigned long long)img->off);
		return -EINVAL;
	}
	len = le32toh(len);
	if (len > IMG_MAX_ENTRY_SIZE) {
		pr_err("%s: entry at offset %llu claims %u bytes, more than the %u allowed\n", img->name,
		       (unsigned long long)img->off, len, IMG_MAX_ENTRY_SIZE);
		return -EINVAL;
	}
	buf = xmalloc(len);
	if (!buf)
		return -ENOMEM;
	ret = read_all(img->fd, buf, len);
	if (ret != (int)len) {
		pr_err("%s: entry at offset %llu is truncated (%d of %u bytes)\n", img->name,
		       (unsigned long long)img->off, ret < 0 ? 0 : ret, len);
		free(buf);
		return -EINVAL;
	}
	*msg = protobuf_c_message_unpack(desc, NULL, len, buf);
	free(buf);
	if (!*msg) {
		pr_err("%s: entry at offset %llu does not decode as %s\n", img->name, (unsigned long long)img->off,
		       desc->name);
		return -EINVAL;
	}
	img->off += sizeof(len) + len;
	return 1;
}

int img_read_one(int dirfd, int type, unsigned id, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg)
{
	ProtobufCMessage *extra = NULL;
	struct cr_img *img;
	int ret;

	img = img_open(dirfd, type, false, id);
	if (!img)
		return -ENOENT;
	ret = img_read_entry(img, desc, msg);
	if (ret == 0) {
		pr_err("%s: image holds no entry\n", img->name);
		ret = -EINVAL;
	} else if (ret > 0) {
		ret = img_read_entry(img, desc, &extra);
		if (ret > 0) {
			pr_err("%s: image holds more than the one entry expected\n", img->name);
			img_free_entry(extra);
			ret = -EINVAL;
		}
		if (ret < 0) {
			img_free_entry(*msg);
			*msg = NULL;
		}
	}
	img_close(img);
	return ret < 0 ? ret : 0;
}

int img_write_one(int dirfd, int type, unsigned id, const ProtobufCMessage *msg)
{
	struct cr_img *img;
	int ret;

	img = img_open(dirfd, type, true, id);
	if (!img)
		return -EIO;
	ret = img_write_entry(img, msg);
	if (img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

void img_free_entry(ProtobufCMessage *msg)
{
	if (msg)
		protobuf_c_message_free_unpacked(msg, NULL);
}

int img_type_by_name(const char *name)
{
	const char *base = strrchr(name, '/');
	int i;

	base = base ? base + 1 : name;
	for (i = 0; i < CR_IMG_MAX; i++) {
		const char *fmt = img_descs[i].fmt;
		const char *pct = strstr(fmt, "%u");
		size_t plen = pct ? (size_t)(pct - fmt) : strlen(fmt);

		if (strncmp(base, fmt, plen))
			continue;
		if (!pct) {
			if (!strcmp(base, fmt))
				return i;
			continue;
		}
		if (strlen(base) > plen && base[plen] >= '0' && base[plen] <= '9')
			return i;
	}
	return -1;
}

int img_type_by_magic(uint32_t magic)
{
	int i;

	for (i = 0; i < CR_IMG_MAX; i++)
		if (img_descs[i].magic && img_descs[i].magic == magic)
			return i;
	return -1;
}
