/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_VDSO_H
#define CR_VDSO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VDSO_MAX_SYMBOLS 32
#define VDSO_NAME_MAX 32

struct vdso_symbol {
	char name[VDSO_NAME_MAX];
	uint64_t offset; /* from the start of the vDSO */
	uint64_t size;
};

/* What a vDSO exports: its functions, by name, as its dynamic symbol table says. */
struct vdso_symtab {
	struct vdso_symbol syms[VDSO_MAX_SYMBOLS];
	size_t nr;
};

/*
 * Parse a vDSO image of size bytes as untrusted input: every header,
 * section and symbol is checked against size. Returns 0, or -EINVAL with
 * a line naming what is wrong.
 */
int vdso_parse(const uint8_t *img, size_t size, struct vdso_symtab *out);

#define VDSO_IMAGE_MAX (64 << 10)

struct proc_vmas;
struct MmEntry;
/* Dump: the bytes of pid's [vdso] into mm->vdso_image (malloc'ed; none if it has no vDSO). */
int vdso_read_image(pid_t pid, const struct proc_vmas *vmas, struct MmEntry *mm);

/* For `criu check`: this kernel's vDSO and vvar areas and what the vDSO exports. */
int vdso_report(void);

#endif
