// SPDX-License-Identifier: GPL-2.0
/*
 * The vDSO's ELF image, parsed as untrusted input (it may come from
 * another kernel, in an image): bounds-checked headers, sections and
 * symbols. Its exported functions, by name and offset, are what a restore
 * on a kernel with another vDSO needs to redirect old entry points.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

#include "log.h"
#include "mm.pb-c.h"
#include "proc-parse.h"
#include "vdso.h"

#define bad(fmt, ...) (pr_err("vDSO: " fmt "\n", ##__VA_ARGS__), -EINVAL)

static bool in_image(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

static int check_header(const Elf64_Ehdr *eh, size_t size)
{
	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return bad("no ELF header");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_type != ET_DYN)
		return bad("not a 64-bit little-endian shared object");
	if (eh->e_shentsize != sizeof(Elf64_Shdr) || !eh->e_shnum ||
	    !in_image(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), size))
		return bad("section headers outside the image (%u at 0x%llx)", eh->e_shnum,
			   (unsigned long long)eh->e_shoff);
	if (eh->e_shoff % 8)
		return bad("section headers not aligned");
	return 0;
}

static int add_symbol(struct vdso_symtab *out, const Elf64_Sym *sym, const char *strtab, size_t strsize, size_t size)
{
	struct vdso_symbol *s;
	size_t len;

	if (sym->st_name >= strsize)
		return bad("symbol name at %u outside the string table", sym->st_name);
	len = strnlen(strtab + sym->st_name, strsize - sym->st_name);
	if (len == strsize - sym->st_name)
		return bad("symbol name at %u not terminated", sym->st_name);
	if (!len || len >= VDSO_NAME_MAX)
		return 0; /* not a function we could know of */
	if (!in_image(sym->st_value, sym->st_size, size))
		return bad("symbol %s at 0x%llx outside the image", strtab + sym->st_name,
			   (unsigned long long)sym->st_value);
	if (out->nr == VDSO_MAX_SYMBOLS)
		return bad("more than %d exported functions", VDSO_MAX_SYMBOLS);
	s = &out->syms[out->nr++];
	memcpy(s->name, strtab + sym->st_name, len + 1);
	s->offset = sym->st_value;
	s->size = sym->st_size;
	return 0;
}

static int parse_dynsym(const uint8_t *img, size_t size, const Elf64_Shdr *sh, const Elf64_Shdr *str,
			struct vdso_symtab *out)
{
	const Elf64_Sym *syms;
	size_t i, n;
	int ret;

	if (sh->sh_entsize != sizeof(Elf64_Sym) || sh->sh_offset % 8 || !in_image(sh->sh_offset, sh->sh_size, size) ||
	    !in_image(str->sh_offset, str->sh_size, size) || !str->sh_size)
		return bad("dynamic symbol or string table outside the image");
	syms = (const Elf64_Sym *)(img + sh->sh_offset);
	n = sh->sh_size / sizeof(Elf64_Sym);
	for (i = 0; i < n; i++) {
		if (ELF64_ST_TYPE(syms[i].st_info) != STT_FUNC || syms[i].st_shndx == SHN_UNDEF ||
		    ELF64_ST_BIND(syms[i].st_info) == STB_LOCAL)
			continue;
		ret = add_symbol(out, &syms[i], (const char *)img + str->sh_offset, str->sh_size, size);
		if (ret)
			return ret;
	}
	return 0;
}

int vdso_parse(const uint8_t *img, size_t size, struct vdso_symtab *out)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	const Elf64_Shdr *sh;
	int ret, i;

	memset(out, 0, sizeof(*out));
	if ((uintptr_t)img % 8)
		return bad("image not aligned");
	ret = check_header(eh, size);
	if (ret)
		return ret;
	sh = (const Elf64_Shdr *)(img + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		if (sh[i].sh_link >= eh->e_shnum)
			return bad("dynamic symbol table linked to section %u of %u", sh[i].sh_link, eh->e_shnum);
		return parse_dynsym(img, size, &sh[i], &sh[sh[i].sh_link], out);
	}
	return bad("no dynamic symbol table");
}

int vdso_read_image(pid_t pid, const struct proc_vmas *vmas, MmEntry *mm)
{
	const struct proc_vma *v = NULL;
	char path[64];
	size_t i, size;
	uint8_t *buf;
	ssize_t n;
	int fd;

	for (i = 0; i < vmas->nr && !v; i++)
		if (!strcmp(vmas->v[i].path, "[vdso]"))
			v = &vmas->v[i];
	if (!v)
		return 0;
	size = v->end - v->start;
	if (size > VDSO_IMAGE_MAX) {
		pr_err("process %d: its [vdso] is %zu bytes, more than %d\n", pid, size, VDSO_IMAGE_MAX);
		return -ENOTSUP;
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	buf = malloc(size);
	n = fd >= 0 && buf ? pread(fd, buf, size, v->start) : -1;
	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)size) {
		pr_perror("process %d: can't read its [vdso] at 0x%llx", pid, (unsigned long long)v->start);
		free(buf);
		return -EIO;
	}
	mm->has_vdso_image = true;
	mm->vdso_image.data = buf;
	mm->vdso_image.len = size;
	return 0;
}

struct special_area {
	unsigned long start, end;
	char name[64];
};

static size_t find_special_areas(struct special_area *a, size_t max)
{
	char line[512], name[64];
	FILE *f = fopen("/proc/self/maps", "r");
	size_t n = 0;

	while (f && n < max && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %63s", &a[n].start, &a[n].end, name) != 3)
			continue;
		if (strcmp(name, "[vdso]") && strncmp(name, "[vvar", 5))
			continue;
		snprintf(a[n].name, sizeof(a[n].name), "%s", name);
		n++;
	}
	if (f)
		fclose(f);
	return n;
}

int vdso_report(void)
{
	unsigned long ehdr = getauxval(AT_SYSINFO_EHDR);
	struct special_area a[4];
	struct vdso_symtab st;
	size_t n, i, vdso_size = 0;
	int ret;

	n = find_special_areas(a, 4);
	for (i = 0; i < n; i++) {
		pr_msg("vDSO: %-14s 0x%lx-0x%lx (%lu KiB)%s\n", a[i].name, a[i].start, a[i].end,
		       (a[i].end - a[i].start) >> 10, a[i].start == ehdr ? ", at AT_SYSINFO_EHDR" : "");
		if (!strcmp(a[i].name, "[vdso]") && a[i].start == ehdr)
			vdso_size = a[i].end - a[i].start;
	}
	if (!vdso_size)
		return bad("no [vdso] at AT_SYSINFO_EHDR 0x%lx", ehdr);
	ret = vdso_parse((const uint8_t *)ehdr, vdso_size, &st);
	if (ret)
		return ret;
	pr_msg("vDSO: %zu exported functions:", st.nr);
	for (i = 0; i < st.nr; i++)
		pr_msg(" %s", st.syms[i].name);
	pr_msg("\n");
	return 0;
}
