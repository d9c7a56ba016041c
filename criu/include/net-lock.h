/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_NET_LOCK_H
#define CR_NET_LOCK_H

#include <stdint.h>
#include <sys/types.h>

/* One TCP connection: addresses in network order (4 or 16 bytes), ports in host order. */
struct net_lock_conn {
	int family;
	uint8_t local[16], remote[16];
	uint16_t local_port, remote_port;
};

/* Drop every packet of the connection, both ways, until released. */
int net_lock_add(pid_t root, const struct net_lock_conn *c);
/* Let the connections of the tree of root flow again. */
int net_lock_release(pid_t root);

#endif
