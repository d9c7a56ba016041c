/* SPDX-License-Identifier: GPL-2.0 */
#ifndef COMPEL_RPC_H
#define COMPEL_RPC_H

#include <stdint.h>

/*
 * What compel puts at the start of the parasite's argument area, and the
 * message exchanged over the control socket. Freestanding: used by blobs.
 */
struct compel_sockaddr {
	uint16_t family;
	char path[108];
};

struct compel_parasite_hdr {
	uint64_t self_cure_sp; /* rt_sigframe that returns to the interrupted code */
	uint32_t addr_len;
	int32_t sock_fd; /* the parasite's end, reported back for the cure */
	struct compel_sockaddr addr;
};

#define COMPEL_ARGS_OFFSET ((sizeof(struct compel_parasite_hdr) + 63) & ~63UL)

struct compel_msg {
	uint32_t cmd;
	int32_t ret; /* reply: 0 or positive result, negative errno */
	uint64_t arg;
};

#endif
