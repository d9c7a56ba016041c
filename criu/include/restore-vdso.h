/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_RESTORE_VDSO_H
#define CR_RESTORE_VDSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mm.pb-c.h"

/*
 * Is the vDSO the process had (mm->vdso_image) another one than this
 * kernel's (cur, cur_size bytes)? Then it can't simply be moved back:
 * it is kept at its old address as a proxy (see restore-vdso.c).
 */
bool vdso_needs_proxy(const MmEntry *mm, const uint8_t *cur, size_t cur_size);

/*
 * The proxy: the old image, each exported function's entry a jump to the
 * same function of this kernel's vDSO (cur), which will be at new_start.
 * out has room for mm->vdso_image.len bytes. Errors name mm-PID.img.
 */
int vdso_build_proxy(const MmEntry *mm, pid_t pid, const uint8_t *cur, size_t cur_size, uint64_t new_start,
		     uint8_t *out);

#endif
