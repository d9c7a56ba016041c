// SPDX-License-Identifier: GPL-2.0
/*
 * What the kernel tells about unix sockets through NETLINK_SOCK_DIAG (with
 * libnl): for every unix socket of criu's network namespace its inode,
 * type, state, bound name, peer, pending connections, queue lengths and
 * shutdown state. Read once per dump, the first time a socket is met.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include "log.h"
#include "sk-diag.h"
#include "util.h"

static int add_icons(struct unix_diag_sk *s, struct nlattr *a)
{
	size_t n = nla_len(a) / sizeof(uint32_t);

	if (!n)
		return 0;
	s->icons = xmalloc(n * sizeof(uint32_t));
	if (!s->icons)
		return -ENOMEM;
	memcpy(s->icons, nla_data(a), n * sizeof(uint32_t));
	s->nr_icons = n;
	return 0;
}

static void copy_name(struct unix_diag_sk *s, struct nlattr *a)
{
	size_t len = nla_len(a);

	if (len > sizeof(s->name))
		len = sizeof(s->name);
	memcpy(s->name, nla_data(a), len);
	s->name_len = len;
}

static int parse_one(struct nl_msg *msg, void *arg)
{
	struct unix_diag_table *t = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct unix_diag_msg *m = nlmsg_data(h);
	struct nlattr *tb[UNIX_DIAG_MAX + 1];
	struct unix_diag_sk *s;

	if (nlmsg_parse(h, sizeof(*m), tb, UNIX_DIAG_MAX, NULL) < 0)
		return NL_SKIP;
	if (xgrow(&t->sk, &t->cap, t->nr, sizeof(*t->sk))) {
		t->error = -ENOMEM;
		return NL_STOP;
	}
	s = &t->sk[t->nr++];
	memset(s, 0, sizeof(*s));
	s->ino = m->udiag_ino;
	s->type = m->udiag_type;
	s->state = m->udiag_state;
	if (tb[UNIX_DIAG_NAME])
		copy_name(s, tb[UNIX_DIAG_NAME]);
	if (tb[UNIX_DIAG_VFS]) {
		struct unix_diag_vfs *v = nla_data(tb[UNIX_DIAG_VFS]);

		s->vfs_ino = v->udiag_vfs_ino;
	}
	if (tb[UNIX_DIAG_PEER])
		s->peer = nla_get_u32(tb[UNIX_DIAG_PEER]);
	if (tb[UNIX_DIAG_SHUTDOWN])
		s->shutdown = nla_get_u8(tb[UNIX_DIAG_SHUTDOWN]);
	if (tb[UNIX_DIAG_RQLEN]) {
		struct unix_diag_rqlen *rq = nla_data(tb[UNIX_DIAG_RQLEN]);

		s->rqlen = rq->udiag_rqueue;
		s->wqlen = rq->udiag_wqueue;
	}
	if (tb[UNIX_DIAG_ICONS] && add_icons(s, tb[UNIX_DIAG_ICONS])) {
		t->error = -ENOMEM;
		return NL_STOP;
	}
	return NL_OK;
}

int unix_diag_collect(struct unix_diag_table *t)
{
	struct unix_diag_req req = {
		.sdiag_family = AF_UNIX,
		.udiag_states = ~0U,
		.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN,
	};
	struct nl_sock *sk = nl_socket_alloc();
	int ret;

	if (!sk)
		return -ENOMEM;
	ret = nl_connect(sk, NETLINK_SOCK_DIAG);
	if (!ret)
		ret = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, parse_one, t);
	if (!ret)
		ret = nl_send_simple(sk, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, &req, sizeof(req));
	if (ret >= 0)
		ret = nl_recvmsgs_default(sk);
	nl_socket_free(sk);
	if (ret < 0) {
		pr_err("can't list unix sockets through sock_diag: %s\n", nl_geterror(ret));
		return -EIO;
	}
	t->collected = true;
	return t->error;
}

const struct unix_diag_sk *unix_diag_find(const struct unix_diag_table *t, uint32_t ino)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		if (t->sk[i].ino == ino)
			return &t->sk[i];
	return NULL;
}

void unix_diag_free(struct unix_diag_table *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		free(t->sk[i].icons);
	free(t->sk);
	memset(t, 0, sizeof(*t));
}
