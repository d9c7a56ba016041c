/* SPDX-License-Identifier: GPL-2.0 */
#ifndef COMPEL_BLOB_H
#define COMPEL_BLOB_H

#include <stdint.h>

/*
 * A relocation of a position-independent blob: the 64-bit word at offset
 * must become load_base + addend once the blob's final address is known.
 */
struct compel_reloc {
	uint32_t offset;
	int64_t addend;
};

struct compel_blob {
	const unsigned char *image; /* initialised bytes */
	unsigned long image_size;
	unsigned long mem_size; /* image plus zeroed bss */
	const struct compel_reloc *relocs;
	unsigned int nr_relocs;
};

/* Apply relocations to a copy of the blob at local, which will run at load_base. */
static inline void compel_blob_relocate(void *local, unsigned long load_base, const struct compel_blob *b)
{
	unsigned int i;

	for (i = 0; i < b->nr_relocs; i++) {
		uint64_t *word = (uint64_t *)((char *)local + b->relocs[i].offset);

		*word = load_base + b->relocs[i].addend;
	}
}

#endif
