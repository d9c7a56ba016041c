// SPDX-License-Identifier: GPL-2.0
/*
 * The LDT (x86 modify_ldt). The kernel reads it back as raw 8-byte
 * segment descriptors but takes struct user_desc to write it, so the dump
 * converts each descriptor field by field, refusing any it could not
 * write back. The restorer installs the entries before the threads exist
 * (the LDT belongs to the mm); criu puts the segment selectors that point
 * into it back by ptrace once the registers are the target's.
 */
#include <asm/ldt.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compel/infect.h"
#include "ldt.h"
#include "log.h"
#include "parasite.h"
#include "util.h"

#define bad(fmt, ...) (pr_err(fmt "\n", ##__VA_ARGS__), -EINVAL)

/* Bits of a descriptor's high dword. */
#define DESC_TYPE_SHIFT 8
#define DESC_S (1U << 12)
#define DESC_DPL_SHIFT 13
#define DESC_P (1U << 15)
#define DESC_AVL (1U << 20)
#define DESC_L (1U << 21)
#define DESC_DB (1U << 22)
#define DESC_G (1U << 23)
/* type: accessed (bit 0), writable/readable (bit 1), expand-down/conforming and code (bits 2-3) */
#define TYPE_RW (1U << 1)

/*
 * The inverse of what modify_ldt(1) does: user descriptors are always
 * S=1 (code or data), DPL 3, accessed; anything else the kernel would
 * not have made from a user_desc.
 */
static int desc_to_entry(const uint8_t *raw, uint32_t index, LdtEntry *e, pid_t pid)
{
	uint32_t lo, hi, type;

	memcpy(&lo, raw, 4);
	memcpy(&hi, raw + 4, 4);
	if (!(hi & DESC_S) || ((hi >> DESC_DPL_SHIFT) & 3) != 3) {
		pr_err("process %d: LDT entry %u (0x%08x%08x) is not a user code or data segment: not supported\n", pid,
		       index, hi, lo);
		return -ENOTSUP;
	}
	type = (hi >> DESC_TYPE_SHIFT) & 0xf;
	ldt_entry__init(e);
	e->entry_number = index;
	e->base_addr = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000U);
	e->limit = (lo & 0xffff) | (hi & 0xf0000);
	e->seg_32bit = !!(hi & DESC_DB);
	e->contents = type >> 2;
	e->read_exec_only = !(type & TYPE_RW);
	e->limit_in_pages = !!(hi & DESC_G);
	e->seg_not_present = !(hi & DESC_P);
	e->useable = !!(hi & DESC_AVL);
	e->lm = !!(hi & DESC_L);
	return 0;
}

static bool desc_is_empty(const uint8_t *raw)
{
	static const uint8_t zero[PARASITE_LDT_DESC_SIZE];

	return !memcmp(raw, zero, sizeof(zero));
}

static int convert_ldt(const uint8_t *raw, size_t size, pid_t pid, struct ldt_dump *ld)
{
	size_t n = size / PARASITE_LDT_DESC_SIZE, i;
	int ret;

	ld->entries = xzalloc(n * sizeof(*ld->entries));
	ld->ptrs = xzalloc(n * sizeof(*ld->ptrs));
	if (!ld->entries || !ld->ptrs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const uint8_t *d = raw + i * PARASITE_LDT_DESC_SIZE;

		if (desc_is_empty(d))
			continue;
		ret = desc_to_entry(d, i, &ld->entries[ld->nr], pid);
		if (ret)
			return ret;
		ld->ptrs[ld->nr] = &ld->entries[ld->nr];
		ld->nr++;
	}
	return 0;
}

int ldt_from_parasite(struct infect_ctx *ic, pid_t pid, struct ldt_dump *ld)
{
	struct parasite_args *args = compel_args(ic);
	int32_t result;
	int ret;

	memset(ld, 0, sizeof(*ld));
	ret = compel_rpc_call(ic, PARASITE_CMD_GET_LDT, 0, -1, &result);
	if (ret)
		return ret;
	if (result < 0) {
		pr_err("the parasite in %d can't read its LDT: %s\n", pid, strerror(-result));
		return result;
	}
	if ((size_t)result > sizeof(args->ldt) || result % PARASITE_LDT_DESC_SIZE) {
		pr_err("process %d: modify_ldt(0) returned %d bytes\n", pid, result);
		return -EIO;
	}
	if (!result)
		return 0;
	ret = convert_ldt(args->ldt, result, pid, ld);
	if (!ret && ld->nr)
		pr_info("process %d: %zu LDT entries\n", pid, ld->nr);
	return ret;
}

void ldt_to_image(struct ldt_dump *ld, TaskCoreEntry *core)
{
	core->n_ldt = ld->nr;
	core->ldt = ld->ptrs;
}

void ldt_free(struct ldt_dump *ld)
{
	free(ld->entries);
	free(ld->ptrs);
	memset(ld, 0, sizeof(*ld));
}

int ldt_validate(const TaskCoreEntry *core, pid_t pid)
{
	size_t i;

	if (core->n_ldt > LDT_ENTRIES)
		return bad("core-%d.img: %zu LDT entries, at most %d exist", pid, core->n_ldt, LDT_ENTRIES);
	for (i = 0; i < core->n_ldt; i++) {
		const LdtEntry *e = core->ldt[i];

		if (e->entry_number >= LDT_ENTRIES || (i && e->entry_number <= core->ldt[i - 1]->entry_number))
			return bad("core-%d.img: ldt[%zu] entry_number %u: must be below %d and increasing", pid, i,
				   e->entry_number, LDT_ENTRIES);
		if (e->limit > 0xfffff)
			return bad("core-%d.img: ldt[%zu] limit 0x%x has more than 20 bits", pid, i, e->limit);
		if (e->contents > 3 || (e->contents == 3 && !e->seg_not_present))
			return bad(
				"core-%d.img: ldt[%zu] contents %u: modify_ldt can't make it (3 only when not present)",
				pid, i, e->contents);
	}
	return 0;
}

static bool ldt_has(const TaskCoreEntry *core, uint32_t index)
{
	size_t i;

	for (i = 0; i < core->n_ldt; i++)
		if (core->ldt[i]->entry_number == index)
			return true;
	return false;
}

/* A data segment selector: null, or RPL 3 and, in the LDT, an entry the image has. */
static int check_selector(const TaskCoreEntry *core, pid_t pid, const char *thread, const char *reg, uint64_t sel)
{
	if (sel <= 3)
		return 0;
	if (sel > 0xffff || (sel & 3) != 3)
		return bad("core-%d.img: %s.gpregs %s 0x%llx is not a user selector", pid, thread, reg,
			   (unsigned long long)sel);
	if ((sel & 4) && !ldt_has(core, sel >> 3))
		return bad("core-%d.img: %s.gpregs %s 0x%llx points to LDT entry %llu, which the image lacks", pid,
			   thread, reg, (unsigned long long)sel, (unsigned long long)(sel >> 3));
	return 0;
}

static int check_thread_selectors(const TaskCoreEntry *core, pid_t pid, const char *thread, const UserRegsX86Entry *r)
{
	int ret;

	ret = check_selector(core, pid, thread, "ds", r->ds);
	ret = ret ?: check_selector(core, pid, thread, "es", r->es);
	ret = ret ?: check_selector(core, pid, thread, "fs", r->fs);
	return ret ?: check_selector(core, pid, thread, "gs", r->gs);
}

int ldt_validate_selectors(const TaskCoreEntry *core, pid_t pid)
{
	char name[48];
	size_t i;
	int ret;

	ret = check_thread_selectors(core, pid, "thread", core->thread->gpregs);
	for (i = 0; i < core->n_other_threads && !ret; i++) {
		snprintf(name, sizeof(name), "other_threads[%zu]", i);
		ret = check_thread_selectors(core, pid, name, core->other_threads[i]->gpregs);
	}
	return ret;
}

void ldt_fill_restorer(const TaskCoreEntry *core, void *out)
{
	size_t i;

	for (i = 0; i < core->n_ldt; i++) {
		const LdtEntry *e = core->ldt[i];
		struct user_desc d;

		memset(&d, 0, sizeof(d));
		d.entry_number = e->entry_number;
		d.base_addr = e->base_addr;
		d.limit = e->limit;
		d.seg_32bit = e->seg_32bit;
		d.contents = e->contents;
		d.read_exec_only = e->read_exec_only;
		d.limit_in_pages = e->limit_in_pages;
		d.seg_not_present = e->seg_not_present;
		d.useable = e->useable;
		d.lm = e->lm;
		memcpy((uint8_t *)out + i * LDT_USER_DESC_SIZE, &d, LDT_USER_DESC_SIZE);
	}
}
