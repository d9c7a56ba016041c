/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_SIGFRAME_H
#define CR_SIGFRAME_H

/*
 * The x86_64 frame rt_sigreturn consumes, in the kernel's layout (glibc's
 * ucontext_t differs). Used by the restorer to jump into the restored
 * registers, and by the parasite to return to the interrupted code on its
 * own when the dumper disappears. Freestanding: usable in blobs.
 */
#include <stdint.h>

#define SIGFRAME_UC_FP_XSTATE 0x1
#define SIGFRAME_UC_SIGCONTEXT_SS 0x2
#define SIGFRAME_UC_STRICT_RESTORE_SS 0x4
#define SIGFRAME_FP_XSTATE_MAGIC1 0x46505853U
#define SIGFRAME_FP_XSTATE_MAGIC2 0x46505845U
#define SIGFRAME_USER_CS 0x33
#define SIGFRAME_USER_DS 0x2b
#define SIGFRAME_SS_DISABLE 2

/* struct user_regs_struct, as PTRACE_GETREGS and NT_PRSTATUS give it */
struct x86_user_regs {
	uint64_t r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	uint64_t ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
	uint64_t fs_base, gs_base, ds, es, fs, gs;
};

struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t di, si, bp, bx, dx, ax, cx, sp, ip, flags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved1[8];
};

struct k_stack {
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t pad;
	uint64_t ss_size;
};

struct k_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct k_stack uc_stack;
	struct k_sigcontext uc_mcontext;
	uint64_t uc_sigmask;
};

/* sw_reserved area of the FXSAVE header (offset 464) */
struct fpx_sw_bytes {
	uint32_t magic1;
	uint32_t extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size;
	uint32_t padding[7];
};

#define FXSAVE_SW_BYTES_OFFSET 464

struct rt_sigframe {
	uint64_t pretcode;
	struct k_ucontext uc;
	uint8_t info[128];
};

/* Room for a frame followed by its 64-byte aligned XSAVE area. */
#define SIGFRAME_FPSTATE_OFFSET ((sizeof(struct rt_sigframe) + 63) & ~63UL)
#define SIGFRAME_SIZE(xsave_size) (SIGFRAME_FPSTATE_OFFSET + (xsave_size) + 4 + 64)

/*
 * Fill the frame at local (which will live at remote, 64-byte aligned) with
 * regs, the signal mask and the XSAVE image. xsave must carry valid
 * sw_reserved bytes (as NT_X86_XSTATE returns them). Returns the stack
 * pointer to load before the rt_sigreturn syscall.
 */
static inline uint64_t sigframe_build(void *local, uint64_t remote, const struct x86_user_regs *r, uint64_t sigmask,
				      const void *xsave, uint32_t xsave_size)
{
	struct rt_sigframe *f = local;
	struct k_sigcontext *sc = &f->uc.uc_mcontext;
	uint8_t *fp = (uint8_t *)local + SIGFRAME_FPSTATE_OFFSET;
	const struct fpx_sw_bytes *sw = (const void *)((const uint8_t *)xsave + FXSAVE_SW_BYTES_OFFSET);
	uint32_t magic2 = SIGFRAME_FP_XSTATE_MAGIC2, i;

	for (i = 0; i < sizeof(*f); i++)
		((uint8_t *)f)[i] = 0;
	for (i = 0; i < xsave_size; i++)
		fp[i] = ((const uint8_t *)xsave)[i];
	for (i = 0; i < 4; i++)
		fp[xsave_size + i] = ((uint8_t *)&magic2)[i];

	f->uc.uc_flags = SIGFRAME_UC_SIGCONTEXT_SS | SIGFRAME_UC_STRICT_RESTORE_SS;
	if (sw->magic1 == SIGFRAME_FP_XSTATE_MAGIC1 && sw->xstate_size <= xsave_size)
		f->uc.uc_flags |= SIGFRAME_UC_FP_XSTATE;
	f->uc.uc_stack.ss_flags = SIGFRAME_SS_DISABLE;
	f->uc.uc_sigmask = sigmask;
	sc->r8 = r->r8;
	sc->r9 = r->r9;
	sc->r10 = r->r10;
	sc->r11 = r->r11;
	sc->r12 = r->r12;
	sc->r13 = r->r13;
	sc->r14 = r->r14;
	sc->r15 = r->r15;
	sc->di = r->di;
	sc->si = r->si;
	sc->bp = r->bp;
	sc->bx = r->bx;
	sc->dx = r->dx;
	sc->ax = r->ax;
	sc->cx = r->cx;
	sc->sp = r->sp;
	sc->ip = r->ip;
	sc->flags = r->flags;
	sc->cs = SIGFRAME_USER_CS;
	sc->ss = SIGFRAME_USER_DS;
	sc->fpstate = remote + SIGFRAME_FPSTATE_OFFSET;
	return remote + sizeof(uint64_t);
}

/* Jump into the frame: never returns. */
static inline void __attribute__((noreturn)) sigframe_sigreturn(uint64_t sp)
{
	asm volatile("movq %0, %%rsp\n\t"
		     "movl $15, %%eax\n\t" /* __NR_rt_sigreturn */
		     "syscall\n\t"
		     :
		     : "r"(sp)
		     : "memory");
	__builtin_unreachable();
}

#endif
