// SPDX-License-Identifier: GPL-2.0
/*
 * compel-blob: turn a freestanding position-independent ELF (linked with
 * -pie, see pie.lds) into a C header: the flat memory image, the list of
 * R_X86_64_RELATIVE relocations to apply at load time, and the offsets of
 * its global symbols. Any other kind of relocation is refused: the blob
 * must not depend on anything outside itself.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct elf_file {
	const unsigned char *data;
	size_t size;
	const Elf64_Ehdr *ehdr;
	const char *path;
};

static int fail(const struct elf_file *f, const char *what)
{
	fprintf(stderr, "compel-blob: %s: %s\n", f->path, what);
	return -1;
}

static const void *elf_at(const struct elf_file *f, Elf64_Off off, size_t len)
{
	if (off > f->size || len > f->size - off)
		return NULL;
	return f->data + off;
}

static const Elf64_Shdr *elf_shdr(const struct elf_file *f, unsigned idx)
{
	const Elf64_Ehdr *e = f->ehdr;

	if (idx >= e->e_shnum)
		return NULL;
	return elf_at(f, e->e_shoff + (Elf64_Off)idx * e->e_shentsize, sizeof(Elf64_Shdr));
}

static int elf_check(struct elf_file *f)
{
	const Elf64_Ehdr *e = elf_at(f, 0, sizeof(Elf64_Ehdr));

	if (!e || memcmp(e->e_ident, ELFMAG, SELFMAG))
		return fail(f, "not an ELF file");
	if (e->e_ident[EI_CLASS] != ELFCLASS64 || e->e_machine != EM_X86_64)
		return fail(f, "not an x86_64 ELF64 file");
	if (e->e_type != ET_DYN)
		return fail(f, "not linked with -pie (ET_DYN expected)");
	if (e->e_phentsize != sizeof(Elf64_Phdr) || e->e_shentsize != sizeof(Elf64_Shdr))
		return fail(f, "unexpected header entry sizes");
	f->ehdr = e;
	return 0;
}

/* Lay the PT_LOAD segments out flat from address 0. */
static unsigned char *build_image(const struct elf_file *f, size_t *file_size, size_t *mem_size)
{
	const Elf64_Ehdr *e = f->ehdr;
	size_t fsz = 0, msz = 0;
	unsigned char *img;
	int i;

	for (i = 0; i < e->e_phnum; i++) {
		const Elf64_Phdr *p = elf_at(f, e->e_phoff + i * sizeof(*p), sizeof(*p));

		if (!p || p->p_type != PT_LOAD)
			continue;
		if (p->p_vaddr + p->p_filesz > fsz)
			fsz = p->p_vaddr + p->p_filesz;
		if (p->p_vaddr + p->p_memsz > msz)
			msz = p->p_vaddr + p->p_memsz;
	}
	if (!msz || msz > (64 << 20)) {
		fail(f, "no loadable segment or blob too large");
		return NULL;
	}
	img = calloc(1, msz);
	if (!img)
		return NULL;
	for (i = 0; i < e->e_phnum; i++) {
		const Elf64_Phdr *p = elf_at(f, e->e_phoff + i * sizeof(*p), sizeof(*p));
		const void *src;

		if (!p || p->p_type != PT_LOAD)
			continue;
		src = elf_at(f, p->p_offset, p->p_filesz);
		if (!src) {
			fail(f, "segment outside the file");
			free(img);
			return NULL;
		}
		memcpy(img + p->p_vaddr, src, p->p_filesz);
	}
	*file_size = fsz;
	*mem_size = msz;
	return img;
}

static int emit_relocs(const struct elf_file *f, FILE *out, const char *prefix, size_t mem_size)
{
	const Elf64_Ehdr *e = f->ehdr;
	unsigned nr = 0;
	int i;

	fprintf(out, "static const struct compel_reloc %s_relocs[] = {\n", prefix);
	for (i = 0; i < e->e_shnum; i++) {
		const Elf64_Shdr *s = elf_shdr(f, i);
		const Elf64_Rela *r;
		size_t j, n;

		if (!s)
			return fail(f, "bad section header");
		if (s->sh_type == SHT_REL)
			return fail(f, "REL relocations are not supported");
		if (s->sh_type != SHT_RELA)
			continue;
		r = elf_at(f, s->sh_offset, s->sh_size);
		if (!r)
			return fail(f, "relocation section outside the file");
		n = s->sh_size / sizeof(*r);
		for (j = 0; j < n; j++) {
			if (ELF64_R_TYPE(r[j].r_info) == R_X86_64_NONE)
				continue;
			if (ELF64_R_TYPE(r[j].r_info) != R_X86_64_RELATIVE) {
				fprintf(stderr,
					"compel-blob: %s: relocation type %lu at 0x%lx: only R_X86_64_RELATIVE is "
					"allowed\n",
					f->path, (unsigned long)ELF64_R_TYPE(r[j].r_info),
					(unsigned long)r[j].r_offset);
				return -1;
			}
			if (r[j].r_offset + 8 > mem_size)
				return fail(f, "relocation outside the image");
			fprintf(out, "\t{ 0x%lx, 0x%lx },\n", (unsigned long)r[j].r_offset,
				(unsigned long)r[j].r_addend);
			nr++;
		}
	}
	if (!nr)
		fprintf(out, "\t{ 0, 0 },\n");
	fprintf(out, "};\n#define %s_nr_relocs %u\n\n", prefix, nr);
	return 0;
}

static int emit_symbols(const struct elf_file *f, FILE *out, const char *prefix)
{
	const Elf64_Ehdr *e = f->ehdr;
	int i;

	for (i = 0; i < e->e_shnum; i++) {
		const Elf64_Shdr *s = elf_shdr(f, i), *strs;
		const Elf64_Sym *sym;
		const char *names;
		size_t j, n;

		if (!s || s->sh_type != SHT_SYMTAB)
			continue;
		strs = elf_shdr(f, s->sh_link);
		sym = elf_at(f, s->sh_offset, s->sh_size);
		names = strs ? elf_at(f, strs->sh_offset, strs->sh_size) : NULL;
		if (!sym || !names)
			return fail(f, "bad symbol table");
		n = s->sh_size / sizeof(*sym);
		for (j = 0; j < n; j++) {
			const char *name;

			if (ELF64_ST_BIND(sym[j].st_info) != STB_GLOBAL || sym[j].st_shndx == SHN_UNDEF)
				continue;
			if (sym[j].st_name >= strs->sh_size)
				return fail(f, "symbol name outside the string table");
			name = names + sym[j].st_name;
			if (strncmp(name, "__export_", 9))
				continue;
			fprintf(out, "#define %s_sym%s 0x%lx\n", prefix, name + 8, (unsigned long)sym[j].st_value);
		}
		return 0;
	}
	return fail(f, "no symbol table");
}

int main(int argc, char **argv)
{
	struct elf_file f = {};
	size_t fsz, msz, i;
	unsigned char *img;
	const char *prefix;
	struct stat st;
	FILE *out;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: compel-blob IN.elf OUT.h PREFIX\n");
		return 2;
	}
	f.path = argv[1];
	prefix = argv[3];
	fd = open(f.path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		perror(f.path);
		return 1;
	}
	f.size = st.st_size;
	f.data = mmap(NULL, f.size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (f.data == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	if (elf_check(&f))
		return 1;
	img = build_image(&f, &fsz, &msz);
	if (!img)
		return 1;
	out = fopen(argv[2], "w");
	if (!out) {
		perror(argv[2]);
		return 1;
	}
	fprintf(out, "/* Generated by compel-blob from %s. Do not edit. */\n", f.path);
	fprintf(out, "#include \"compel/blob.h\"\n\n");
	if (emit_symbols(&f, out, prefix))
		goto err;
	fprintf(out, "\nstatic const unsigned char %s_image[] __attribute__((aligned(64))) = {", prefix);
	for (i = 0; i < fsz; i++)
		fprintf(out, "%s0x%02x,", (i % 16) ? " " : "\n\t", img[i]);
	fprintf(out, "\n};\n\n");
	if (emit_relocs(&f, out, prefix, msz))
		goto err;
	fprintf(out, "static const struct compel_blob %s_blob = {\n", prefix);
	fprintf(out, "\t.image = %s_image,\n\t.image_size = %zu,\n\t.mem_size = %zu,\n", prefix, fsz, msz);
	fprintf(out, "\t.relocs = %s_relocs,\n\t.nr_relocs = %s_nr_relocs,\n};\n", prefix, prefix);
	if (fclose(out)) {
		perror(argv[2]);
		return 1;
	}
	return 0;
err:
	fclose(out);
	unlink(argv[2]);
	return 1;
}
