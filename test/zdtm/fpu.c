// SPDX-License-Identifier: GPL-2.0
/*
 * FPU control state: the x87 control word (precision 53 bits, rounding
 * down) and MXCSR (rounding up, flush-to-zero, denormals-are-zero) are set
 * to non-default values. After restore they must be the same, and
 * computations must round the same way as before.
 */
#include <stdint.h>
#include <string.h>

#include "zdtmtst.h"

#define X87_CW 0x067f /* all exceptions masked, PC=53 bit, RC=down */
#define MXCSR 0xdfc0  /* all masked, RC=up, FTZ, DAZ */
#define MXCSR_DAZ 0x0040

static uint16_t get_cw(void)
{
	uint16_t cw;

	asm volatile("fnstcw %0" : "=m"(cw));
	return cw;
}

static void set_cw(uint16_t cw)
{
	asm volatile("fldcw %0" : : "m"(cw));
}

static uint32_t get_mxcsr(void)
{
	uint32_t v;

	asm volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static void set_mxcsr(uint32_t v)
{
	asm volatile("ldmxcsr %0" : : "m"(v));
}

/* Supported MXCSR bits, from the FXSAVE area (0 there means 0xffbf). */
static uint32_t mxcsr_mask(void)
{
	uint8_t area[512] __attribute__((aligned(16)));
	uint32_t mask;

	memset(area, 0, sizeof(area));
	asm volatile("fxsave %0" : "=m"(area));
	memcpy(&mask, area + 28, 4);
	return mask ? mask : 0xffbf;
}

struct results {
	double sse_div;	     /* 1/3 in SSE, rounded up */
	double sse_neg;	     /* -1/3 in SSE, rounded up */
	double sse_tiny;     /* a denormal result, flushed to zero */
	long double x87_div; /* 1/3 in x87, 53-bit precision, rounded down */
	long double x87_neg; /* -2/3 in x87 */
};

static void compute(struct results *r)
{
	volatile double one = 1.0, three = 3.0, small = 1e-300, big = 1e10;
	volatile long double lone = 1.0L, lthree = 3.0L, ltwo = 2.0L;

	memset(r, 0, sizeof(*r));
	r->sse_div = one / three;
	r->sse_neg = -one / three;
	r->sse_tiny = small / big;
	/* long double arithmetic is done on the x87 */
	r->x87_div = lone / lthree;
	r->x87_neg = -ltwo / lthree;
}

int main(int argc, char **argv)
{
	struct results before, after, dflt;
	uint32_t mxcsr = MXCSR, mx;
	uint16_t cw;

	test_init(argc, argv);

	if (!(mxcsr_mask() & MXCSR_DAZ))
		mxcsr &= ~MXCSR_DAZ;

	compute(&dflt);
	set_cw(X87_CW);
	set_mxcsr(mxcsr);
	compute(&before);
	if (!memcmp(&before.sse_div, &dflt.sse_div, sizeof(double)) || !memcmp(&before.x87_div, &dflt.x87_div, 10))
		fail("setting the rounding modes changed nothing");

	test_daemon();
	test_waitsig();

	cw = get_cw();
	mx = get_mxcsr();
	compute(&after);

	if (cw != X87_CW)
		fail("x87 control word %#06x, expected %#06x", cw, X87_CW);
	/* exception flags (bits 0-5) may have been raised by compute() */
	if ((mx & ~0x3fu) != (mxcsr & ~0x3fu))
		fail("MXCSR %#010x, expected %#010x", mx, mxcsr);
	if (memcmp(&before.sse_div, &after.sse_div, sizeof(double)) ||
	    memcmp(&before.sse_neg, &after.sse_neg, sizeof(double)) ||
	    memcmp(&before.sse_tiny, &after.sse_tiny, sizeof(double)))
		fail("SSE results differ: %a %a %a, expected %a %a %a", after.sse_div, after.sse_neg, after.sse_tiny,
		     before.sse_div, before.sse_neg, before.sse_tiny);
	if (memcmp(&before.x87_div, &after.x87_div, 10) || memcmp(&before.x87_neg, &after.x87_neg, 10))
		fail("x87 results differ: %La %La, expected %La %La", after.x87_div, after.x87_neg, before.x87_div,
		     before.x87_neg);
	pass();
}
