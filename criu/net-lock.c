// SPDX-License-Identifier: GPL-2.0
/*
 * The network lock for TCP connections kept across a dump (with
 * --tcp-established). Between the dump and the restore no socket owns the
 * connection: a packet from the peer would be answered with a reset and
 * the peer would give up. An nftables table (through libnftables) drops
 * every packet of the dumped connections, both ways, until the restore
 * has them again. The table is named after the tree's root, so the
 * restore finds it in the images' inventory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "net-lock.h"
#include "util.h"

#define LOCK_CMD_MAX 1024

static int run_nft(const char *cmd)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	int ret;

	if (!nft) {
		pr_err("network lock: can't start libnftables\n");
		return -ENOMEM;
	}
	nft_ctx_buffer_error(nft);
	ret = nft_run_cmd_from_buffer(nft, cmd);
	if (ret)
		pr_err("network lock: nft \"%s\" failed: %s\n", cmd, nft_ctx_get_error_buffer(nft));
	nft_ctx_free(nft);
	return ret ? -EIO : 0;
}

static void table_name(char *buf, size_t len, pid_t root)
{
	snprintf(buf, len, "criu_lock_%d", root);
}

/* "ip saddr A ip daddr B tcp sport X tcp dport Y" for one direction */
static int match(char *buf, size_t len, const struct net_lock_conn *c, bool in)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	const char *fam = c->family == AF_INET6 ? "ip6" : "ip";

	if (!inet_ntop(c->family, c->local, a, sizeof(a)) || !inet_ntop(c->family, c->remote, b, sizeof(b)))
		return -EINVAL;
	if (in)
		snprintf(buf, len, "%s saddr %s %s daddr %s tcp sport %u tcp dport %u drop", fam, b, fam, a,
			 c->remote_port, c->local_port);
	else
		snprintf(buf, len, "%s saddr %s %s daddr %s tcp sport %u tcp dport %u drop", fam, a, fam, b,
			 c->local_port, c->remote_port);
	return 0;
}

int net_lock_add(pid_t root, const struct net_lock_conn *c)
{
	char table[64], rule[256], cmd[LOCK_CMD_MAX];
	int ret;

	table_name(table, sizeof(table), root);
	snprintf(cmd, sizeof(cmd),
		 "add table inet %s\n"
		 "add chain inet %s input { type filter hook input priority -300; policy accept; }\n"
		 "add chain inet %s output { type filter hook output priority -300; policy accept; }\n",
		 table, table, table);
	ret = run_nft(cmd);
	ret = ret ?: match(rule, sizeof(rule), c, true);
	if (ret)
		return ret;
	snprintf(cmd, sizeof(cmd), "add rule inet %s input %s\n", table, rule);
	ret = run_nft(cmd);
	ret = ret ?: match(rule, sizeof(rule), c, false);
	if (ret)
		return ret;
	snprintf(cmd, sizeof(cmd), "add rule inet %s output %s\n", table, rule);
	ret = run_nft(cmd);
	if (!ret)
		pr_info("network lock: connection to port %u locked (table inet %s)\n", c->remote_port, table);
	return ret;
}

int net_lock_release(pid_t root)
{
	char table[64], cmd[128];

	table_name(table, sizeof(table), root);
	snprintf(cmd, sizeof(cmd), "delete table inet %s\n", table);
	return run_nft(cmd);
}
