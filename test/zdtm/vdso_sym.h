/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ZDTM_VDSO_SYM_H
#define ZDTM_VDSO_SYM_H

/* The address of a function of the vDSO mapped at base, by its dynamic symbol table (the kernel's: trusted). */
#include <elf.h>
#include <string.h>

static inline void *vdso_sym(unsigned long base, const char *want)
{
	const Elf64_Ehdr *eh = (const void *)base;
	const Elf64_Shdr *sh = (const void *)(base + eh->e_shoff);
	int i;

	for (i = 0; i < eh->e_shnum; i++) {
		const Elf64_Sym *sym;
		const char *str;
		size_t j;

		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		sym = (const void *)(base + sh[i].sh_offset);
		str = (const char *)(base + sh[sh[i].sh_link].sh_offset);
		for (j = 0; j < sh[i].sh_size / sizeof(*sym); j++)
			if (sym[j].st_shndx && !strcmp(str + sym[j].st_name, want))
				return (void *)(base + sym[j].st_value);
	}
	return NULL;
}

#endif
