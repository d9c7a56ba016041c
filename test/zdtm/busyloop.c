// SPDX-License-Identifier: GPL-2.0
/* zdtm: spin=1 */
/*
 * A CPU-bound loop, written in assembly so that known values live in
 * registers for the whole run and are never reloaded from memory:
 *
 *   rbx, r8-r11, r14, r15	constants
 *   r12, r13			r12 counts iterations, r12 + r13 is constant,
 *				and r12 equals the counter kept in memory
 *   xmm0-15 / ymm0-15		constant 128/256-bit patterns (ymm with AVX)
 *   %fs:0			the TCB self pointer, equal to the fs base
 *   eflags			DF stays clear; CF carries a bit across a
 *				long spin of flag-preserving dec/jnz
 *
 * Every iteration checks all of them. SIGTERM sets a flag that the loop
 * reads from memory; the loop then stores its registers and the C code
 * checks them once more, along with a __thread variable and the fs/gs base.
 */
#include <asm/prctl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define K_RBX 0x0123456789abcdefULL
#define K_R8 0x8888888811111111ULL
#define K_R9 0x9999999922222222ULL
#define K_R10 0xaaaaaaaa33333333ULL
#define K_R11 0xbbbbbbbb44444444ULL
#define K_R14 0xeeeeeeee77777777ULL
#define K_R15 0xf0f0f0f00f0f0f0fULL
#define K_SUM 0x5a5a5a5aa5a5a5a5ULL /* r12 + r13 */
#define K_TLS 0x7165746c6f6f7073ULL

#define SPIN 20000

enum {
	BAD_NONE,
	BAD_GPR,
	BAD_SUM,
	BAD_COUNTER,
	BAD_FS,
	BAD_DF,
	BAD_CF_SET,
	BAD_CF_CLEAR,
	BAD_VEC,
};

static const char *const bad_names[] = {
	[BAD_NONE] = "none",
	[BAD_GPR] = "a constant general register changed",
	[BAD_SUM] = "r12 + r13 changed",
	[BAD_COUNTER] = "r12 differs from the counter in memory",
	[BAD_FS] = "%fs:0 differs from the fs base",
	[BAD_DF] = "the direction flag got set",
	[BAD_CF_SET] = "the carry flag was lost (set)",
	[BAD_CF_CLEAR] = "the carry flag appeared (clear)",
	[BAD_VEC] = "a vector register changed",
};

/* Saved general registers, in this order. */
static const char *const gpr_names[] = { "rbx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };

struct ctl {
	volatile uint64_t counter;
	volatile sig_atomic_t *stop;
	uint64_t use_avx;
	uint64_t fsbase;
	uint64_t bad;
	uint64_t bad_index; /* vector qword index for BAD_VEC */
	uint64_t flags;
	uint64_t gpr[9];
	uint8_t expect[16][32] __attribute__((aligned(32)));
	uint8_t save[16][32] __attribute__((aligned(32)));
};

static struct ctl ctl __attribute__((aligned(64)));
static __thread volatile uint64_t tls_value = K_TLS;

#define VEC8(op, a, b, c, d, e, f, g, h) op(a) op(b) op(c) op(d) op(e) op(f) op(g) op(h)
#define VEC16(op) VEC8(op, 0, 1, 2, 3, 4, 5, 6, 7) VEC8(op, 8, 9, 10, 11, 12, 13, 14, 15)
#define LOAD_YMM(n) "vmovdqu %c[expect]+" #n "*32(%%rdi), %%ymm" #n "\n\t"
#define LOAD_XMM(n) "movdqu %c[expect]+" #n "*32(%%rdi), %%xmm" #n "\n\t"
#define SAVE_YMM(n) "vmovdqu %%ymm" #n ", %c[save]+" #n "*32(%%rdi)\n\t"
#define SAVE_XMM(n) "movdqu %%xmm" #n ", %c[save]+" #n "*32(%%rdi)\n\t"
#define CHECK_K(reg, k)             \
	"movabs $" #k ", %%rax\n\t" \
	"cmp %%rax, %%" #reg "\n\t" \
	"jne 90f\n\t"

static void spin(struct ctl *c)
{
	asm volatile(
		/* the loop pushes; keep clear of the red zone */
		"sub $128, %%rsp\n\t"
		"movabs $0x0123456789abcdef, %%rbx\n\t"
		"movabs $0x8888888811111111, %%r8\n\t"
		"movabs $0x9999999922222222, %%r9\n\t"
		"movabs $0xaaaaaaaa33333333, %%r10\n\t"
		"movabs $0xbbbbbbbb44444444, %%r11\n\t"
		"movabs $0xeeeeeeee77777777, %%r14\n\t"
		"movabs $0xf0f0f0f00f0f0f0f, %%r15\n\t"
		"xor %%r12d, %%r12d\n\t"
		"movabs $0x5a5a5a5aa5a5a5a5, %%r13\n\t"
		"cmpq $0, %c[use_avx](%%rdi)\n\t"
		"je 1f\n\t" VEC16(LOAD_YMM) "jmp 2f\n"
					    "1:\n\t" VEC16(LOAD_XMM) "2:\n\t"
								     "cld\n"

								     "10:\n\t"
		/* general registers */
		CHECK_K(rbx, 0x0123456789abcdef) CHECK_K(r8, 0x8888888811111111) CHECK_K(
			r9, 0x9999999922222222) CHECK_K(r10, 0xaaaaaaaa33333333) CHECK_K(r11, 0xbbbbbbbb44444444)
			CHECK_K(r14, 0xeeeeeeee77777777) CHECK_K(
				r15,
				0xf0f0f0f00f0f0f0f) "lea (%%r12,%%r13), %%rax\n\t"
						    "movabs $0x5a5a5a5aa5a5a5a5, %%rcx\n\t"
						    "cmp %%rcx, %%rax\n\t"
						    "jne 91f\n\t"
						    "cmp %c[counter](%%rdi), %%r12\n\t"
						    "jne 92f\n\t"
						    /* fs base: glibc keeps the TCB address at %fs:0 */
						    "mov %%fs:0, %%rax\n\t"
						    "cmp %c[fsbase](%%rdi), %%rax\n\t"
						    "jne 93f\n\t"
						    /* DF must be clear */
						    "pushfq\n\t"
						    "pop %%rax\n\t"
						    "test $0x400, %%eax\n\t"
						    "jnz 94f\n\t"

						    /* vector registers: store (never load) and compare */
						    "cmpq $0, %c[use_avx](%%rdi)\n\t"
						    "je 3f\n\t" VEC16(
							    SAVE_YMM) "jmp 4f\n"
								      "3:\n\t" VEC16(
									      SAVE_XMM) "4:\n\t"
											"xor %%ecx, %%ecx\n"
											"5:\n\t"
											"mov %c[save](%%rdi,%%rcx,8), "
											"%%rax\n\t"
											"cmp "
											"%c[expect](%%rdi,%%rcx,8), "
											"%%rax\n\t"
											"jne 97f\n\t"
											"inc %%ecx\n\t"
											"cmp $64, %%ecx\n\t"
											"jne 5b\n\t"

											/* CF set must survive a spin of dec/jnz, which keep CF */
											"mov %[spin], %%ecx\n\t"
											"stc\n"
											"6:\n\t"
											"dec %%ecx\n\t"
											"jnz 6b\n\t"
											"jnc 95f\n\t"
											/* and so must CF clear */
											"mov %[spin], %%ecx\n\t"
											"clc\n"
											"7:\n\t"
											"dec %%ecx\n\t"
											"jnz 7b\n\t"
											"jc 96f\n\t"

											/* next iteration */
											"inc %%r12\n\t"
											"dec %%r13\n\t"
											"incq %c[counter](%%rdi)\n\t"
											"mov %c[stop](%%rdi), %%rax\n\t"
											"cmpl $0, (%%rax)\n\t"
											"je 10b\n\t"
											"jmp 99f\n"

											"90: movq %[bad_gpr], "
											"%c[bad](%%rdi)\n\t jmp 99f\n"
											"91: movq %[bad_sum], "
											"%c[bad](%%rdi)\n\t jmp 99f\n"
											"92: movq %[bad_counter], "
											"%c[bad](%%rdi)\n\t jmp 99f\n"
											"93: movq %[bad_fs], "
											"%c[bad](%%rdi)\n\t jmp 99f\n"
											"94: movq %[bad_df], "
											"%c[bad](%%rdi)\n\t jmp 99f\n"
											"95: movq %[bad_cf_set], "
											"%c[bad](%%rdi)\n\t jmp 99f\n"
											"96: movq %[bad_cf_clear], "
											"%c[bad](%%rdi)\n\t jmp 99f\n"
											"97: movq %[bad_vec], "
											"%c[bad](%%rdi)\n\t"
											"mov %%rcx, "
											"%c[bad_index](%%rdi)\n"

											"99:\n\t"
											"pushfq\n\t"
											"popq %c[flags](%%rdi)\n\t"
											"mov %%rbx, "
											"%c[gpr]+0*8(%%rdi)\n\t"
											"mov %%r8, "
											"%c[gpr]+1*8(%%rdi)\n\t"
											"mov %%r9, "
											"%c[gpr]+2*8(%%rdi)\n\t"
											"mov %%r10, "
											"%c[gpr]+3*8(%%rdi)\n\t"
											"mov %%r11, "
											"%c[gpr]+4*8(%%rdi)\n\t"
											"mov %%r12, "
											"%c[gpr]+5*8(%%rdi)\n\t"
											"mov %%r13, "
											"%c[gpr]+6*8(%%rdi)\n\t"
											"mov %%r14, "
											"%c[gpr]+7*8(%%rdi)\n\t"
											"mov %%r15, "
											"%c[gpr]+8*8(%%rdi)\n\t"
											"cmpq $0, "
											"%c[use_avx](%%rdi)\n\t"
											"je 8f\n\t" VEC16(
												SAVE_YMM) "vzeroupper\n"
													  "\t"
													  "jmp 9f\n"
													  "8:"
													  "\n\t" VEC16(
														  SAVE_XMM) "9:\n\t"
															    "add $128, %%rsp\n\t"
		:
		: "D"(c), [counter] "i"(offsetof(struct ctl, counter)), [stop] "i"(offsetof(struct ctl, stop)),
		  [use_avx] "i"(offsetof(struct ctl, use_avx)), [fsbase] "i"(offsetof(struct ctl, fsbase)),
		  [bad] "i"(offsetof(struct ctl, bad)), [bad_index] "i"(offsetof(struct ctl, bad_index)),
		  [flags] "i"(offsetof(struct ctl, flags)), [gpr] "i"(offsetof(struct ctl, gpr)),
		  [expect] "i"(offsetof(struct ctl, expect)), [save] "i"(offsetof(struct ctl, save)), [spin] "i"(SPIN),
		  [bad_gpr] "i"(BAD_GPR), [bad_sum] "i"(BAD_SUM), [bad_counter] "i"(BAD_COUNTER), [bad_fs] "i"(BAD_FS),
		  [bad_df] "i"(BAD_DF), [bad_cf_set] "i"(BAD_CF_SET), [bad_cf_clear] "i"(BAD_CF_CLEAR),
		  [bad_vec] "i"(BAD_VEC)
		: "rax", "rbx", "rcx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "xmm0", "xmm1", "xmm2",
		  "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
		  "xmm15", "cc", "memory");
}

static void dump_vec(int reg)
{
	const uint64_t *e = (const uint64_t *)ctl.expect[reg];
	const uint64_t *s = (const uint64_t *)ctl.save[reg];

	test_msg("%smm%d: expected %016lx %016lx %016lx %016lx", ctl.use_avx ? "y" : "x", reg, e[3], e[2], e[1], e[0]);
	test_msg("%*s       got %016lx %016lx %016lx %016lx", 6, "", s[3], s[2], s[1], s[0]);
}

int main(int argc, char **argv)
{
	static const uint64_t gpr_want[] = { K_RBX, K_R8, K_R9, K_R10, K_R11, 0, 0, K_R14, K_R15 };
	uint64_t fsbase, gsbase, fsbase2, gsbase2, seed = 0x6275737973706e21ULL;
	int i, bad = 0;

	test_init(argc, argv);

	ctl.stop = &test_sigterm;
	ctl.use_avx = !!__builtin_cpu_supports("avx");
	for (i = 0; i < 16; i++) {
		uint64_t *q = (uint64_t *)ctl.expect[i];
		int j;

		for (j = 0; j < 4; j++)
			q[j] = zdtm_rand(&seed);
		if (!ctl.use_avx) /* only the low halves are compared by value */
			q[2] = q[3] = 0;
	}
	memcpy(ctl.save, ctl.expect, sizeof(ctl.save));

	if (syscall(SYS_arch_prctl, ARCH_GET_FS, &fsbase) || syscall(SYS_arch_prctl, ARCH_GET_GS, &gsbase))
		fail_errno("arch_prctl");
	ctl.fsbase = fsbase;
	test_msg("avx %lu, fs base %#lx, tls at %p", ctl.use_avx, fsbase, (void *)&tls_value);

	test_daemon();
	spin(&ctl);

	if (ctl.bad != BAD_NONE) {
		test_msg("check failed after %lu iterations: %s", ctl.counter, bad_names[ctl.bad]);
		if (ctl.bad == BAD_VEC)
			dump_vec(ctl.bad_index / 4);
		bad = 1;
	}
	for (i = 0; i < 9; i++) {
		uint64_t want = gpr_want[i];

		if (i == 5)
			want = ctl.counter;
		else if (i == 6)
			want = K_SUM - ctl.counter;
		if (ctl.gpr[i] != want) {
			test_msg("%s: expected %#lx, got %#lx", gpr_names[i], want, ctl.gpr[i]);
			bad = 1;
		}
	}
	for (i = 0; i < 16; i++) {
		if (memcmp(ctl.expect[i], ctl.save[i], 32)) {
			dump_vec(i);
			bad = 1;
		}
	}
	if (ctl.flags & 0x400) {
		test_msg("eflags %#lx: DF set", ctl.flags);
		bad = 1;
	}
	if (tls_value != K_TLS) {
		test_msg("__thread value: expected %#llx, got %#lx", K_TLS, tls_value);
		bad = 1;
	}
	if (syscall(SYS_arch_prctl, ARCH_GET_FS, &fsbase2) || syscall(SYS_arch_prctl, ARCH_GET_GS, &gsbase2))
		fail_errno("arch_prctl");
	if (fsbase2 != fsbase || gsbase2 != gsbase) {
		test_msg("fs/gs base: expected %#lx/%#lx, got %#lx/%#lx", fsbase, gsbase, fsbase2, gsbase2);
		bad = 1;
	}
	if (ctl.counter == 0) {
		test_msg("the loop never ran");
		bad = 1;
	}
	if (bad)
		fail("register state lost (%s)", bad_names[ctl.bad]);
	test_msg("%lu iterations", ctl.counter);
	pass();
}
