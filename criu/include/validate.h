/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_VALIDATE_H
#define CR_VALIDATE_H

/*
 * The one validation layer of restore: every decoded image entry goes
 * through here before restore code uses it, so the rest of restore may
 * trust ranges, counts and enum values. Each check that fails logs the
 * image file and the field ("mm-1234.img: vma[3] start 0x... is not
 * page-aligned") and returns -EINVAL.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "files.h"
#include "inventory.pb-c.h"
#include "pstree.pb-c.h"
#include "core.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"

/* What the kernel will accept in a signal frame's FPU state on this machine. */
struct cpu_xstate {
	uint32_t size;	     /* bytes of the standard-format XSAVE area the kernel restores */
	uint64_t xfeatures;  /* features the kernel restores from a signal frame */
	uint32_t mxcsr_mask; /* MXCSR bits XRSTOR accepts */
	bool has_xsave;	     /* false: the legacy 512-byte FXSAVE area only */
};

/* Limits of this machine that images must respect. */
struct validate_env {
	uint64_t mmap_min_addr;
	uint64_t pid_max;
	uint64_t max_map_count;
	struct cpu_xstate xstate;
	uint32_t cap_last_cap;	   /* /proc/sys/kernel/cap_last_cap */
	uint64_t own_cap_prm;	   /* criu's permitted set: the most a restored task may get */
	uint64_t own_cap_bnd;	   /* criu's bounding set: it can only shrink */
	uint64_t own_rlim_max[16]; /* criu's hard limits: raising one needs CAP_SYS_RESOURCE */
};

/* Offsets inside an XSAVE area (Intel SDM vol. 1, 13.4). */
#define XSAVE_MXCSR_OFF 24
#define XSAVE_MXCSR_MASK_OFF 28
#define XSAVE_SW_RESERVED_OFF 464 /* struct _fpx_sw_bytes, written by the kernel */
#define XSAVE_HDR_OFF 512
#define XSAVE_HDR_SIZE 64
#define XSAVE_LEGACY_SIZE 512
#define XSAVE_MAX_SIZE (64u << 10)
#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U

/* Most auxv words we pass on; the kernel keeps fewer and refuses more. */
#define AUXV_MAX_WORDS 128
#define VSYSCALL_START 0xffffffffff600000ULL

int validate_env_init(struct validate_env *env);

int validate_inventory(const InventoryEntry *inv, const struct validate_env *env);
int validate_pstree(PstreeEntry *const *entries, size_t nr, uint32_t root_pid, const struct validate_env *env);
int validate_core(const TaskCoreEntry *core, pid_t pid, const struct validate_env *env);
/* core's other_threads against the process's pstree.img entry, and each as the leader's thread. */
int validate_core_threads(const TaskCoreEntry *core, const PstreeEntry *pe, const struct validate_env *env);
int validate_mm(const MmEntry *mm, pid_t pid, const struct task_files *tf, const struct validate_env *env);
int validate_pagemap(const PagemapHead *head, PagemapEntry *const *pes, size_t nr, const MmEntry *mm,
		     uint64_t pages_size, pid_t pid);

bool vma_kind_holds_pages(VmaKind kind);
bool vma_kind_is_file(VmaKind kind);
/* vDSO, vvar and friends: they follow the kernel, not the images. */
bool vma_kind_is_special(VmaKind kind);
/* The anonymous VMA name inside a "[anon:NAME]" label, or NULL. */
const char *vma_anon_name(const VmaEntry *vma, size_t *len);

#endif
