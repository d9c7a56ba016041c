// SPDX-License-Identifier: GPL-2.0
/*
 * criu show FILE: print any image as JSON, one object per entry, by
 * walking the protobuf descriptors: no per-image printing code.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <endian.h>

#include "cr-context.h"
#include "image.h"
#include "log.h"
#include "util.h"

static void print_indent(int depth)
{
	printf("%*s", depth * 4, "");
}

static void print_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_message(const ProtobufCMessage *m, int depth);

static bool field_is_hex(const ProtobufCFieldDescriptor *f)
{
	static const char *const hex[] = { "start",    "end",	     "vaddr",	 "ip",		"sp",
					   "handler",  "restorer",   "mask",	 "blocked",	"flags",
					   "fs_base",  "gs_base",    "brk",	 "start_brk",	"start_code",
					   "end_code", "start_data", "end_data", "start_stack", "arg_start",
					   "arg_end",  "env_start",  "env_end",	 "madv",	"xfeatures" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(hex); i++)
		if (!strcmp(f->name, hex[i]))
			return true;
	return false;
}

static void print_value(const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		printf("%d", *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		printf(field_is_hex(f) ? "\"0x%x\"" : "%u", *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		printf("%lld", (long long)*(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		printf(field_is_hex(f) ? "\"0x%llx\"" : "%llu", (unsigned long long)*(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		printf("%s", *(const protobuf_c_boolean *)p ? "true" : "false");
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p);

		if (ev)
			print_string(ev->name);
		else
			printf("%d", *(const int *)p);
		break;
	}
	case PROTOBUF_C_TYPE_STRING:
		print_string(*(char *const *)p ? *(char *const *)p : "");
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;

		printf("\"<%zu bytes>\"", b->len);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		print_message(*(ProtobufCMessage *const *)p, depth);
		break;
	default:
		printf("null");
	}
}

static size_t field_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	default:
		return 4;
	}
}

static bool field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;

	if (f->label == PROTOBUF_C_LABEL_REQUIRED)
		return true;
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(base + f->quantifier_offset) > 0;
	if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(void *const *)(base + f->offset) != NULL;
	return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
}

static void print_message(const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	bool first = true;
	unsigned i;
	size_t j;

	printf("{");
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (!field_present(m, f))
			continue;
		printf("%s\n", first ? "" : ",");
		first = false;
		print_indent(depth + 1);
		printf("\"%s\": ", f->name);
		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			print_value(f, base + f->offset, depth + 1);
			continue;
		}
		printf("[");
		for (j = 0; j < *(const size_t *)(base + f->quantifier_offset); j++) {
			const char *arr = *(const char *const *)(base + f->offset);

			printf("%s", j ? ", " : "");
			print_value(f, arr + j * field_size(f), depth + 1);
		}
		printf("]");
	}
	printf("\n");
	print_indent(depth);
	printf("}");
}

static int show_pages(const char *path, int fd)
{
	off_t size = lseek(fd, 0, SEEK_END);

	printf("{\n    \"file\": \"%s\",\n    \"kind\": \"raw pages\",\n    \"bytes\": %lld,\n    \"pages\": %lld\n}\n",
	       path, (long long)size, (long long)(size / PAGE_SIZE));
	return 0;
}

/* The content of a memfd or a deleted file: its size, and how much of it is data. */
static int show_content(const char *path, int fd)
{
	off_t size = lseek(fd, 0, SEEK_END), pos = 0, data, hole, bytes = 0;

	while (pos < size && (data = lseek(fd, pos, SEEK_DATA)) >= 0) {
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			hole = size;
		bytes += hole - data;
		pos = hole;
	}
	printf("{\n    \"file\": \"%s\",\n    \"kind\": \"raw content\",\n    \"size\": %lld,\n    \"data_bytes\": "
	       "%lld\n}\n",
	       path, (long long)size, (long long)bytes);
	return 0;
}

int cr_show(struct cr_ctx *ctx, const char *path)
{
	const ProtobufCMessageDescriptor *desc;
	ProtobufCMessage *msg;
	struct cr_img img = {};
	uint32_t magic;
	int type, ret, n = 0;

	img.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (img.fd < 0) {
		pr_perror("can't open %s", path);
		return -errno;
	}
	snprintf(img.name, sizeof(img.name), "%s", strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	type = img_type_by_name(path);
	if (type == CR_IMG_PAGES || type == CR_IMG_MEMFD || type == CR_IMG_GHOST) {
		ret = type == CR_IMG_PAGES ? show_pages(path, img.fd) : show_content(path, img.fd);
		close(img.fd);
		return ret;
	}
	if (read_all(img.fd, &magic, sizeof(magic)) != sizeof(magic)) {
		pr_err("%s: too short to be an image\n", path);
		close(img.fd);
		return -EINVAL;
	}
	type = img_type_by_magic(le32toh(magic));
	if (type < 0) {
		pr_err("%s: unknown magic 0x%08x\n", path, le32toh(magic));
		close(img.fd);
		return -EINVAL;
	}
	img.type = type;
	img.off = sizeof(magic);
	printf("{\n    \"magic\": \"0x%08x\",\n    \"entries\": [\n", le32toh(magic));
	for (;;) {
		desc = (n == 0 && img_descs[type].head) ? img_descs[type].head : img_descs[type].entry;
		ret = img_read_entry(&img, desc, &msg);
		if (ret <= 0)
			break;
		printf("%s        ", n ? ",\n" : "");
		print_message(msg, 2);
		img_free_entry(msg);
		n++;
	}
	printf("\n    ]\n}\n");
	close(img.fd);
	return ret < 0 ? ret : 0;
}
