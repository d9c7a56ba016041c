/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_IMAGE_H
#define CR_IMAGE_H

#include <stdint.h>
#include <stdbool.h>
#include <protobuf-c/protobuf-c.h>

/*
 * Image files: a 32-bit magic, then entries, each a 32-bit little-endian
 * length followed by that many bytes of one protobuf message. The pages
 * image and the content images of memfds and deleted files are the
 * exception: raw data, no magic.
 */
enum cr_img_type {
	CR_IMG_INVENTORY,
	CR_IMG_PSTREE,
	CR_IMG_CORE,
	CR_IMG_MM,
	CR_IMG_PAGEMAP,
	CR_IMG_PAGES,
	CR_IMG_FILES,
	CR_IMG_FDINFO,
	CR_IMG_FS,
	CR_IMG_MEMFD,
	CR_IMG_GHOST,
	CR_IMG_CHECKSUMS, /* written and read by image-sums.c; here for `criu show` */
	CR_IMG_MAX,
};

/* Entries larger than this are refused as corrupt. */
#define IMG_MAX_ENTRY_SIZE (64u << 20)

struct cr_img {
	int fd;
	int type;
	bool write;
	char name[64]; /* file name inside the images dir, for messages */
	uint64_t off;  /* offset of the next entry, for messages */
	/* write buffering */
	uint8_t *buf;
	size_t buf_len;
	size_t buf_size;
	int error;
};

struct img_desc {
	const char *fmt; /* file name, with %u for the id when per-object */
	uint32_t magic;
	const ProtobufCMessageDescriptor *head; /* first entry, if different */
	const ProtobufCMessageDescriptor *entry;
};

extern const struct img_desc img_descs[CR_IMG_MAX];

/* Open an image in dirfd; id is used when the name has a %u. */
struct cr_img *img_open(int dirfd, int type, bool write, unsigned id);
/* Like img_open for reading, but a missing file returns NULL with errno ENOENT and no error log. */
struct cr_img *img_open_optional(int dirfd, int type, unsigned id);
int img_close(struct cr_img *img);

int img_write_entry(struct cr_img *img, const ProtobufCMessage *msg);
/*
 * Read the next entry. Returns 1 and sets *msg, 0 at a clean end of file,
 * negative on error (already logged with file name and offset).
 */
int img_read_entry(struct cr_img *img, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg);
/* Exactly one entry is expected. */
int img_read_one(int dirfd, int type, unsigned id, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg);
int img_write_one(int dirfd, int type, unsigned id, const ProtobufCMessage *msg);
void img_free_entry(ProtobufCMessage *msg);

/* Find an image type by its file name (for `criu show`). */
int img_type_by_name(const char *name);
int img_type_by_magic(uint32_t magic);

#endif
