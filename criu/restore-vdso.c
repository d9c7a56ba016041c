// SPDX-License-Identifier: GPL-2.0
/*
 * Restoring on a kernel whose vDSO is not the one the process had (another
 * kernel version: other size, layout, symbol addresses). The process holds
 * pointers into its old vDSO (glibc resolves clock_gettime and friends
 * once, at start), so the new vDSO can't simply take its place. Instead:
 *  - this kernel's [vvar], [vvar_vclock] and [vdso] go to a free place of
 *    the process's layout, keeping their distances, and AT_SYSINFO_EHDR
 *    points there (code that looks the vDSO up from now on finds it);
 *  - the old image, saved by the dump, comes back at the old address as
 *    anonymous read-only executable memory, with each exported function's
 *    first bytes replaced by a jump to the same function of the new vDSO
 *    (jmp *0(%rip), then the address: 14 bytes, no register touched). The
 *    old code behind the jumps, which would read the old [vvar], never runs.
 * Both images are parsed as untrusted input (vdso.c). A function of the
 * old vDSO that the new one lacks refuses the restore, naming it: calling
 * it would fault.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "restore-vdso.h"
#include "vdso.h"

#define JMP_SIZE 14

bool vdso_needs_proxy(const MmEntry *mm, const uint8_t *cur, size_t cur_size)
{
	if (!mm->has_vdso_image || !cur)
		return false;
	/* for the tests: this kernel's vDSO taken for another one */
	if (getenv("CRIU_FAULT_VDSO_PROXY"))
		return true;
	return mm->vdso_image.len != cur_size || memcmp(mm->vdso_image.data, cur, cur_size);
}

static const struct vdso_symbol *find_symbol(const struct vdso_symtab *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->nr; i++)
		if (!strcmp(st->syms[i].name, name))
			return &st->syms[i];
	return NULL;
}

static bool offset_done(const struct vdso_symtab *st, size_t upto, uint64_t offset)
{
	size_t i;

	for (i = 0; i < upto; i++)
		if (st->syms[i].offset == offset)
			return true;
	return false;
}

/* jmp *0(%rip); .quad to */
static void write_jump(uint8_t *at, uint64_t to)
{
	static const uint8_t jmp[6] = { 0xff, 0x25, 0, 0, 0, 0 };

	memcpy(at, jmp, sizeof(jmp));
	memcpy(at + sizeof(jmp), &to, sizeof(to));
}

int vdso_build_proxy(const MmEntry *mm, pid_t pid, const uint8_t *cur, size_t cur_size, uint64_t new_start,
		     uint8_t *out)
{
	struct vdso_symtab *old_st, *new_st;
	size_t i, patched = 0;
	int ret = -ENOMEM;

	old_st = malloc(sizeof(*old_st));
	new_st = malloc(sizeof(*new_st));
	if (!old_st || !new_st)
		goto out;
	memcpy(out, mm->vdso_image.data, mm->vdso_image.len);
	ret = vdso_parse(out, mm->vdso_image.len, old_st);
	if (ret) {
		pr_err("mm-%d.img: vdso_image is not a vDSO this restore can read\n", pid);
		goto out;
	}
	ret = vdso_parse(cur, cur_size, new_st);
	if (ret)
		goto out;
	for (i = 0; i < old_st->nr; i++) {
		const struct vdso_symbol *o = &old_st->syms[i], *n = find_symbol(new_st, o->name);

		if (!n) {
			pr_err("mm-%d.img: the process's vDSO has %s, which this kernel's vDSO lacks: it can't be "
			       "restored here\n",
			       pid, o->name);
			ret = -ENOTSUP;
			goto out;
		}
		if (offset_done(old_st, i, o->offset))
			continue;
		if (o->size < JMP_SIZE || o->offset + JMP_SIZE > mm->vdso_image.len) {
			pr_err("mm-%d.img: vDSO function %s is %llu bytes, too short for a jump\n", pid, o->name,
			       (unsigned long long)o->size);
			ret = -ENOTSUP;
			goto out;
		}
		write_jump(out + o->offset, new_start + n->offset);
		patched++;
	}
	pr_info("vDSO of %d differs from this kernel's: its %zu functions jump to the new one at 0x%llx\n", pid,
		patched, (unsigned long long)new_start);
	ret = 0;
out:
	free(old_st);
	free(new_st);
	return ret;
}
