// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: the vDSO ELF parser, on any bytes (8-byte aligned, as the restore gives it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "vdso.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_loglevel(LOG_MSG - 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vdso_symtab st;
	uint8_t *copy = aligned_alloc(8, (size + 8) & ~(size_t)7);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	vdso_parse(copy, size, &st);
	free(copy);
	return 0;
}
