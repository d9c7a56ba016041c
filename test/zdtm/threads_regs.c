// SPDX-License-Identifier: GPL-2.0
/* zdtm: spin=1 */
/*
 * Registers of many threads: the main thread and six others each load
 * distinct values into thirteen general registers and every vector
 * register (zmm0-31 with AVX-512, else ymm0-15), then spin in an asm loop
 * that never reloads them until SIGTERM. Each then stores what its
 * registers hold and compares with what it loaded: every thread's
 * registers must survive the dump and restore, none mixed with another's.
 */
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "zdtmtst.h"

#define NR_THREADS 7 /* the main thread included */
#define NR_GPRS 13
#define NR_VREGS 32
#define VREG_BYTES 64

/* Offsets the asm below uses. */
struct regs_ctx {
	uint64_t gpr_in[NR_GPRS]; /* 0 */
	uint64_t pad0[16 - NR_GPRS];
	uint64_t gpr_out[NR_GPRS]; /* 128 */
	uint64_t pad1[16 - NR_GPRS];
	uint8_t vec_in[NR_VREGS][VREG_BYTES] __attribute__((aligned(64)));  /* 256 */
	uint8_t vec_out[NR_VREGS][VREG_BYTES] __attribute__((aligned(64))); /* 2304 */
	int index;
	pthread_t thread;
} __attribute__((aligned(64)));

_Static_assert(offsetof(struct regs_ctx, gpr_out) == 128, "gpr_out offset");
_Static_assert(offsetof(struct regs_ctx, vec_in) == 256, "vec_in offset");
_Static_assert(offsetof(struct regs_ctx, vec_out) == 2304, "vec_out offset");

static const char *const gpr_names[NR_GPRS] = {
	"rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* Read by the asm loops by name, RIP-relative: no register is spent on it. */
volatile int stop_flag __attribute__((used));
static int have_avx512;
static struct regs_ctx ctxs[NR_THREADS];

static void term_handler(int sig)
{
	stop_flag = 1;
	test_sigterm = 1;
}

__attribute__((target("avx512f"), noinline)) static void spin_avx512(struct regs_ctx *c)
{
	asm volatile("vmovdqu64 256(%%rax), %%zmm0\n"
		     "vmovdqu64 320(%%rax), %%zmm1\n"
		     "vmovdqu64 384(%%rax), %%zmm2\n"
		     "vmovdqu64 448(%%rax), %%zmm3\n"
		     "vmovdqu64 512(%%rax), %%zmm4\n"
		     "vmovdqu64 576(%%rax), %%zmm5\n"
		     "vmovdqu64 640(%%rax), %%zmm6\n"
		     "vmovdqu64 704(%%rax), %%zmm7\n"
		     "vmovdqu64 768(%%rax), %%zmm8\n"
		     "vmovdqu64 832(%%rax), %%zmm9\n"
		     "vmovdqu64 896(%%rax), %%zmm10\n"
		     "vmovdqu64 960(%%rax), %%zmm11\n"
		     "vmovdqu64 1024(%%rax), %%zmm12\n"
		     "vmovdqu64 1088(%%rax), %%zmm13\n"
		     "vmovdqu64 1152(%%rax), %%zmm14\n"
		     "vmovdqu64 1216(%%rax), %%zmm15\n"
		     "vmovdqu64 1280(%%rax), %%zmm16\n"
		     "vmovdqu64 1344(%%rax), %%zmm17\n"
		     "vmovdqu64 1408(%%rax), %%zmm18\n"
		     "vmovdqu64 1472(%%rax), %%zmm19\n"
		     "vmovdqu64 1536(%%rax), %%zmm20\n"
		     "vmovdqu64 1600(%%rax), %%zmm21\n"
		     "vmovdqu64 1664(%%rax), %%zmm22\n"
		     "vmovdqu64 1728(%%rax), %%zmm23\n"
		     "vmovdqu64 1792(%%rax), %%zmm24\n"
		     "vmovdqu64 1856(%%rax), %%zmm25\n"
		     "vmovdqu64 1920(%%rax), %%zmm26\n"
		     "vmovdqu64 1984(%%rax), %%zmm27\n"
		     "vmovdqu64 2048(%%rax), %%zmm28\n"
		     "vmovdqu64 2112(%%rax), %%zmm29\n"
		     "vmovdqu64 2176(%%rax), %%zmm30\n"
		     "vmovdqu64 2240(%%rax), %%zmm31\n"
		     "movq 0(%%rax), %%rbx\n"
		     "movq 8(%%rax), %%rcx\n"
		     "movq 16(%%rax), %%rdx\n"
		     "movq 24(%%rax), %%rsi\n"
		     "movq 32(%%rax), %%rdi\n"
		     "movq 40(%%rax), %%r8\n"
		     "movq 48(%%rax), %%r9\n"
		     "movq 56(%%rax), %%r10\n"
		     "movq 64(%%rax), %%r11\n"
		     "movq 72(%%rax), %%r12\n"
		     "movq 80(%%rax), %%r13\n"
		     "movq 88(%%rax), %%r14\n"
		     "movq 96(%%rax), %%r15\n"
		     "1:\tpause\n"
		     "cmpl $0, stop_flag(%%rip)\n"
		     "je 1b\n"
		     "movq %%rbx, 128(%%rax)\n"
		     "movq %%rcx, 136(%%rax)\n"
		     "movq %%rdx, 144(%%rax)\n"
		     "movq %%rsi, 152(%%rax)\n"
		     "movq %%rdi, 160(%%rax)\n"
		     "movq %%r8, 168(%%rax)\n"
		     "movq %%r9, 176(%%rax)\n"
		     "movq %%r10, 184(%%rax)\n"
		     "movq %%r11, 192(%%rax)\n"
		     "movq %%r12, 200(%%rax)\n"
		     "movq %%r13, 208(%%rax)\n"
		     "movq %%r14, 216(%%rax)\n"
		     "movq %%r15, 224(%%rax)\n"
		     "vmovdqu64 %%zmm0, 2304(%%rax)\n"
		     "vmovdqu64 %%zmm1, 2368(%%rax)\n"
		     "vmovdqu64 %%zmm2, 2432(%%rax)\n"
		     "vmovdqu64 %%zmm3, 2496(%%rax)\n"
		     "vmovdqu64 %%zmm4, 2560(%%rax)\n"
		     "vmovdqu64 %%zmm5, 2624(%%rax)\n"
		     "vmovdqu64 %%zmm6, 2688(%%rax)\n"
		     "vmovdqu64 %%zmm7, 2752(%%rax)\n"
		     "vmovdqu64 %%zmm8, 2816(%%rax)\n"
		     "vmovdqu64 %%zmm9, 2880(%%rax)\n"
		     "vmovdqu64 %%zmm10, 2944(%%rax)\n"
		     "vmovdqu64 %%zmm11, 3008(%%rax)\n"
		     "vmovdqu64 %%zmm12, 3072(%%rax)\n"
		     "vmovdqu64 %%zmm13, 3136(%%rax)\n"
		     "vmovdqu64 %%zmm14, 3200(%%rax)\n"
		     "vmovdqu64 %%zmm15, 3264(%%rax)\n"
		     "vmovdqu64 %%zmm16, 3328(%%rax)\n"
		     "vmovdqu64 %%zmm17, 3392(%%rax)\n"
		     "vmovdqu64 %%zmm18, 3456(%%rax)\n"
		     "vmovdqu64 %%zmm19, 3520(%%rax)\n"
		     "vmovdqu64 %%zmm20, 3584(%%rax)\n"
		     "vmovdqu64 %%zmm21, 3648(%%rax)\n"
		     "vmovdqu64 %%zmm22, 3712(%%rax)\n"
		     "vmovdqu64 %%zmm23, 3776(%%rax)\n"
		     "vmovdqu64 %%zmm24, 3840(%%rax)\n"
		     "vmovdqu64 %%zmm25, 3904(%%rax)\n"
		     "vmovdqu64 %%zmm26, 3968(%%rax)\n"
		     "vmovdqu64 %%zmm27, 4032(%%rax)\n"
		     "vmovdqu64 %%zmm28, 4096(%%rax)\n"
		     "vmovdqu64 %%zmm29, 4160(%%rax)\n"
		     "vmovdqu64 %%zmm30, 4224(%%rax)\n"
		     "vmovdqu64 %%zmm31, 4288(%%rax)\n"
		     :
		     : "a"(c)
		     : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
		       "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
		       "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19",
		       "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29",
		       "xmm30", "xmm31");
}

__attribute__((target("avx"), noinline)) static void spin_avx(struct regs_ctx *c)
{
	asm volatile("vmovdqu 256(%%rax), %%ymm0\n"
		     "vmovdqu 320(%%rax), %%ymm1\n"
		     "vmovdqu 384(%%rax), %%ymm2\n"
		     "vmovdqu 448(%%rax), %%ymm3\n"
		     "vmovdqu 512(%%rax), %%ymm4\n"
		     "vmovdqu 576(%%rax), %%ymm5\n"
		     "vmovdqu 640(%%rax), %%ymm6\n"
		     "vmovdqu 704(%%rax), %%ymm7\n"
		     "vmovdqu 768(%%rax), %%ymm8\n"
		     "vmovdqu 832(%%rax), %%ymm9\n"
		     "vmovdqu 896(%%rax), %%ymm10\n"
		     "vmovdqu 960(%%rax), %%ymm11\n"
		     "vmovdqu 1024(%%rax), %%ymm12\n"
		     "vmovdqu 1088(%%rax), %%ymm13\n"
		     "vmovdqu 1152(%%rax), %%ymm14\n"
		     "vmovdqu 1216(%%rax), %%ymm15\n"
		     "movq 0(%%rax), %%rbx\n"
		     "movq 8(%%rax), %%rcx\n"
		     "movq 16(%%rax), %%rdx\n"
		     "movq 24(%%rax), %%rsi\n"
		     "movq 32(%%rax), %%rdi\n"
		     "movq 40(%%rax), %%r8\n"
		     "movq 48(%%rax), %%r9\n"
		     "movq 56(%%rax), %%r10\n"
		     "movq 64(%%rax), %%r11\n"
		     "movq 72(%%rax), %%r12\n"
		     "movq 80(%%rax), %%r13\n"
		     "movq 88(%%rax), %%r14\n"
		     "movq 96(%%rax), %%r15\n"
		     "1:\tpause\n"
		     "cmpl $0, stop_flag(%%rip)\n"
		     "je 1b\n"
		     "movq %%rbx, 128(%%rax)\n"
		     "movq %%rcx, 136(%%rax)\n"
		     "movq %%rdx, 144(%%rax)\n"
		     "movq %%rsi, 152(%%rax)\n"
		     "movq %%rdi, 160(%%rax)\n"
		     "movq %%r8, 168(%%rax)\n"
		     "movq %%r9, 176(%%rax)\n"
		     "movq %%r10, 184(%%rax)\n"
		     "movq %%r11, 192(%%rax)\n"
		     "movq %%r12, 200(%%rax)\n"
		     "movq %%r13, 208(%%rax)\n"
		     "movq %%r14, 216(%%rax)\n"
		     "movq %%r15, 224(%%rax)\n"
		     "vmovdqu %%ymm0, 2304(%%rax)\n"
		     "vmovdqu %%ymm1, 2368(%%rax)\n"
		     "vmovdqu %%ymm2, 2432(%%rax)\n"
		     "vmovdqu %%ymm3, 2496(%%rax)\n"
		     "vmovdqu %%ymm4, 2560(%%rax)\n"
		     "vmovdqu %%ymm5, 2624(%%rax)\n"
		     "vmovdqu %%ymm6, 2688(%%rax)\n"
		     "vmovdqu %%ymm7, 2752(%%rax)\n"
		     "vmovdqu %%ymm8, 2816(%%rax)\n"
		     "vmovdqu %%ymm9, 2880(%%rax)\n"
		     "vmovdqu %%ymm10, 2944(%%rax)\n"
		     "vmovdqu %%ymm11, 3008(%%rax)\n"
		     "vmovdqu %%ymm12, 3072(%%rax)\n"
		     "vmovdqu %%ymm13, 3136(%%rax)\n"
		     "vmovdqu %%ymm14, 3200(%%rax)\n"
		     "vmovdqu %%ymm15, 3264(%%rax)\n"
		     :
		     : "a"(c)
		     : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
		       "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
		       "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static void fill_ctx(struct regs_ctx *c, int index)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL * (index + 1);
	int k;

	c->index = index;
	for (k = 0; k < NR_GPRS; k++)
		c->gpr_in[k] = 0x5a00000000000000ULL | ((uint64_t)index << 40) | ((uint64_t)k << 32) |
			       (zdtm_rand(&seed) & 0xffffffff);
	fill_pattern(c->vec_in, sizeof(c->vec_in), seed);
	memset(c->vec_out, 0, sizeof(c->vec_out));
}

static void check_ctx(const struct regs_ctx *c)
{
	int k, nr_vregs = have_avx512 ? NR_VREGS : 16, vbytes = have_avx512 ? VREG_BYTES : 32;

	for (k = 0; k < NR_GPRS; k++)
		if (c->gpr_out[k] != c->gpr_in[k])
			fail("thread %d: %s is 0x%llx, expected 0x%llx", c->index, gpr_names[k],
			     (unsigned long long)c->gpr_out[k], (unsigned long long)c->gpr_in[k]);
	for (k = 0; k < nr_vregs; k++)
		if (memcmp(c->vec_out[k], c->vec_in[k], vbytes))
			fail("thread %d: vector register %d differs after restore", c->index, k);
}

static void spin(struct regs_ctx *c)
{
	if (have_avx512)
		spin_avx512(c);
	else
		spin_avx(c);
}

static void *thread_main(void *arg)
{
	spin(arg);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = term_handler };
	int i;

	test_init(argc, argv);
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx"))
		fail("no AVX on this CPU");
	have_avx512 = __builtin_cpu_supports("avx512f");
	test_msg("vector registers: %s\n", have_avx512 ? "zmm0-31" : "ymm0-15");
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL))
		fail_errno("sigaction SIGTERM");

	test_sigterm_to_main_thread(true);
	for (i = 0; i < NR_THREADS; i++)
		fill_ctx(&ctxs[i], i);
	for (i = 1; i < NR_THREADS; i++)
		if (pthread_create(&ctxs[i].thread, NULL, thread_main, &ctxs[i]))
			fail("pthread_create %d", i);
	test_sigterm_to_main_thread(false);

	test_daemon();
	spin(&ctxs[0]);

	for (i = 1; i < NR_THREADS; i++)
		if (pthread_join(ctxs[i].thread, NULL))
			fail("pthread_join %d", i);
	for (i = 0; i < NR_THREADS; i++)
		check_ctx(&ctxs[i]);
	pass();
}
