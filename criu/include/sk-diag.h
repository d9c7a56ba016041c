/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_SK_DIAG_H
#define CR_SK_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One unix socket as sock_diag shows it. */
struct unix_diag_sk {
	uint32_t ino;
	uint8_t type;  /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	uint8_t state; /* TCP_ESTABLISHED, TCP_LISTEN, TCP_CLOSE */
	uint8_t shutdown;
	char name[108];	 /* sun_path: abstract if name[0] is 0 */
	size_t name_len; /* 0: not bound */
	uint32_t peer;	 /* 0: none */
	uint32_t *icons; /* a listener's connections not accepted yet */
	size_t nr_icons;
	uint32_t rqlen, wqlen;
	uint32_t vfs_ino; /* the socket file of a path-bound socket, 0 if none */
};

struct unix_diag_table {
	struct unix_diag_sk *sk;
	size_t nr, cap;
	bool collected;
	int error;
};

int unix_diag_collect(struct unix_diag_table *t);
const struct unix_diag_sk *unix_diag_find(const struct unix_diag_table *t, uint32_t ino);
void unix_diag_free(struct unix_diag_table *t);

#endif
