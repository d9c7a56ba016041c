// SPDX-License-Identifier: GPL-2.0
/*
 * TCP and UDP sockets, IPv4 and IPv6.
 *
 * Unconnected sockets and listeners are bound (and listen) again with
 * their options. An established TCP connection is dumped only with
 * --tcp-established, through TCP_REPAIR: the network lock (net-lock.c)
 * first drops the connection's packets, then the socket (a copy got with
 * pidfd_getfd()) goes into repair mode, where its sequence numbers, both
 * queues, options, window and timestamp can be read without sending
 * anything; a socket closed in repair mode sends no FIN or RST, so the
 * peer sees nothing while the tree is away. Restore builds the socket in
 * repair mode (bind, then a connect that sends nothing), puts the queues
 * back, and once every socket of the tree is made leaves repair mode and
 * lifts the lock. A dump that fails, or --leave-running, takes the
 * sockets out of repair mode and lifts the lock at once.
 *
 * Refused by name: other TCP states (closing ones), listeners with
 * connections not accepted, UDP sockets with datagrams queued, and an
 * established connection without --tcp-established.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "files.h"
#include "log.h"
#include "net-lock.h"
#include "proc-parse.h"
#include "util.h"

#define TCP_QUEUE_MAX (64u << 20)

union sk_addr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

/* ---- addresses ---- */

static int addr_bytes(const union sk_addr *a, ProtobufCBinaryData *out, uint32_t *port)
{
	const void *p = a->sa.sa_family == AF_INET6 ? (const void *)&a->v6.sin6_addr : (const void *)&a->v4.sin_addr;
	size_t len = a->sa.sa_family == AF_INET6 ? 16 : 4;

	out->data = xmalloc(len);
	if (!out->data)
		return -ENOMEM;
	memcpy(out->data, p, len);
	out->len = len;
	*port = ntohs(a->sa.sa_family == AF_INET6 ? a->v6.sin6_port : a->v4.sin_port);
	return 0;
}

static socklen_t make_inet_addr(int family, const ProtobufCBinaryData *bytes, uint32_t port, union sk_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->sa.sa_family = family;
	if (family == AF_INET6) {
		memcpy(&a->v6.sin6_addr, bytes->data, 16);
		a->v6.sin6_port = htons(port);
		return sizeof(a->v6);
	}
	memcpy(&a->v4.sin_addr, bytes->data, 4);
	a->v4.sin_port = htons(port);
	return sizeof(a->v4);
}

/* ---- dump ---- */

static int sockopt_int(int fd, int level, int opt, int *val)
{
	socklen_t len = sizeof(*val);

	*val = 0;
	return getsockopt(fd, level, opt, val, &len) ? -errno : 0;
}

static int read_common(int sfd, InetSkEntry *e)
{
	int v;

	e->has_reuseaddr = !sockopt_int(sfd, SOL_SOCKET, SO_REUSEADDR, &v);
	e->reuseaddr = v;
	e->has_reuseport = !sockopt_int(sfd, SOL_SOCKET, SO_REUSEPORT, &v);
	e->reuseport = v;
	if (e->family == AF_INET6) {
		e->has_v6only = !sockopt_int(sfd, IPPROTO_IPV6, IPV6_V6ONLY, &v);
		e->v6only = v;
	}
	if (e->proto == IPPROTO_TCP) {
		e->has_nodelay = !sockopt_int(sfd, IPPROTO_TCP, TCP_NODELAY, &v);
		e->nodelay = v;
	}
	e->has_sndbuf = !sockopt_int(sfd, SOL_SOCKET, SO_SNDBUF, &v);
	e->sndbuf = v;
	e->has_rcvbuf = !sockopt_int(sfd, SOL_SOCKET, SO_RCVBUF, &v);
	e->rcvbuf = v;
	return 0;
}

static int read_names(int sfd, InetSkEntry *e, bool connected)
{
	union sk_addr a;
	socklen_t len = sizeof(a);
	int ret;

	if (getsockname(sfd, &a.sa, &len))
		return -errno;
	ret = addr_bytes(&a, &e->src_addr, &e->src_port);
	if (ret || !connected)
		return ret;
	len = sizeof(a);
	if (getpeername(sfd, &a.sa, &len))
		return -errno;
	e->has_dst_port = true;
	return addr_bytes(&a, &e->dst_addr, &e->dst_port) ?: (e->has_dst_addr = true, 0);
}

/* The bytes of one repair queue, peeked: nothing is consumed or sent. */
static int peek_repair_queue(int sfd, int queue, int size_ioctl, uint32_t *seq, ProtobufCBinaryData *out,
			     const struct fd_dump_ctx *c)
{
	int len = 0, got;

	if (setsockopt(sfd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &queue, sizeof(queue)) ||
	    sockopt_int(sfd, IPPROTO_TCP, TCP_QUEUE_SEQ, (int *)seq) || ioctl(sfd, size_ioctl, &len)) {
		pr_perror("fd %d of process %d: can't read a TCP queue in repair mode", c->fd, c->pid);
		return -errno;
	}
	if ((unsigned)len > TCP_QUEUE_MAX) {
		pr_err("fd %d of process %d: %d bytes in a TCP queue, more than %u\n", c->fd, c->pid, len,
		       TCP_QUEUE_MAX);
		return -E2BIG;
	}
	if (!len)
		return 0;
	out->data = xmalloc(len);
	if (!out->data)
		return -ENOMEM;
	got = recv(sfd, out->data, len, MSG_PEEK | MSG_DONTWAIT);
	if (got != len) {
		pr_perror("fd %d of process %d: read %d of the %d bytes of a TCP queue", c->fd, c->pid, got, len);
		return -EIO;
	}
	out->len = len;
	return 0;
}

static int read_tcp_options(int sfd, TcpStreamEntry *t)
{
	struct tcp_repair_window w;
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int v;

	if (getsockopt(sfd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -errno;
	t->has_sack = t->has_timestamps = t->has_snd_wscale = t->has_rcv_wscale = true;
	t->sack = !!(ti.tcpi_options & TCPI_OPT_SACK);
	t->timestamps = !!(ti.tcpi_options & TCPI_OPT_TIMESTAMPS);
	t->snd_wscale = (ti.tcpi_options & TCPI_OPT_WSCALE) ? ti.tcpi_snd_wscale : 0;
	t->rcv_wscale = (ti.tcpi_options & TCPI_OPT_WSCALE) ? ti.tcpi_rcv_wscale : 0;
	t->has_wscale = !!(ti.tcpi_options & TCPI_OPT_WSCALE);
	t->wscale = t->has_wscale;
	if (!sockopt_int(sfd, IPPROTO_TCP, TCP_MAXSEG, &v)) {
		t->has_mss = true;
		t->mss = v;
	}
	if (!sockopt_int(sfd, IPPROTO_TCP, TCP_TIMESTAMP, &v)) {
		t->has_timestamp = true;
		t->timestamp = v;
	}
	len = sizeof(w);
	if (getsockopt(sfd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, &len))
		return -errno;
	t->has_snd_wl1 = t->has_snd_wnd = t->has_max_window = t->has_rcv_wnd = t->has_rcv_wup = true;
	t->snd_wl1 = w.snd_wl1;
	t->snd_wnd = w.snd_wnd;
	t->max_window = w.max_window;
	t->rcv_wnd = w.rcv_wnd;
	t->rcv_wup = w.rcv_wup;
	return 0;
}

static int lock_connection(const struct fd_dump_ctx *c, const InetSkEntry *e)
{
	struct net_lock_conn conn = { .family = e->family };

	memcpy(conn.local, e->src_addr.data, e->src_addr.len);
	memcpy(conn.remote, e->dst_addr.data, e->dst_addr.len);
	conn.local_port = e->src_port;
	conn.remote_port = e->dst_port;
	return net_lock_add(c->opts->tree_pid, &conn);
}

static int dump_established(int sfd, const struct fd_dump_ctx *c, InetSkEntry *e)
{
	int on = 1, unsent = 0, ret;
	TcpStreamEntry *t;

	if (!c->opts->tcp_established) {
		pr_err("fd %d of process %d (%s) is an established TCP connection: dump with --tcp-established to take "
		       "it along\n",
		       c->fd, c->pid, c->link);
		return -ENOTSUP;
	}
	t = xzalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	tcp_stream_entry__init(t);
	e->tcp = t;
	ret = lock_connection(c, e);
	if (ret)
		return ret;
	if (setsockopt(sfd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on))) {
		pr_perror("fd %d of process %d: can't put the TCP connection in repair mode", c->fd, c->pid);
		return -errno;
	}
	/* kept until the end of the dump: leaving repair mode or not is decided then */
	ret = fdt_note_tcp_repair(c->fdt, sfd, c->opts->tree_pid, c->pid, c->fd);
	if (ret)
		return ret;
	ret = peek_repair_queue(sfd, TCP_SEND_QUEUE, SIOCOUTQ, &t->snd_seq, &t->outq, c);
	ret = ret ?: peek_repair_queue(sfd, TCP_RECV_QUEUE, SIOCINQ, &t->rcv_seq, &t->inq, c);
	if (!ret && !ioctl(sfd, SIOCOUTQNSD, &unsent)) {
		t->has_unsent = true;
		t->unsent = unsent;
	}
	t->has_outq = t->outq.len > 0;
	t->has_inq = t->inq.len > 0;
	return ret ?: read_tcp_options(sfd, t);
}

static int dump_tcp(int sfd, const struct fd_dump_ctx *c, InetSkEntry *e)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(sfd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -errno;
	e->state = ti.tcpi_state;
	switch (ti.tcpi_state) {
	case TCP_LISTEN:
		if (ti.tcpi_unacked) {
			pr_err("can't dump fd %d of process %d (%s): a listening TCP socket with %u connections not "
			       "accepted yet is not supported yet\n",
			       c->fd, c->pid, c->link, ti.tcpi_unacked);
			return -ENOTSUP;
		}
		e->has_backlog = true;
		e->backlog = ti.tcpi_sacked;
		return read_names(sfd, e, false);
	case TCP_CLOSE:
		return read_names(sfd, e, false);
	case TCP_ESTABLISHED:
		return read_names(sfd, e, true) ?: dump_established(sfd, c, e);
	}
	pr_err("can't dump fd %d of process %d (%s): a TCP socket in state %u (closing or connecting) is not "
	       "supported yet\n",
	       c->fd, c->pid, c->link, ti.tcpi_state);
	return -ENOTSUP;
}

static int dump_udp(int sfd, const struct fd_dump_ctx *c, InetSkEntry *e)
{
	union sk_addr a;
	socklen_t len = sizeof(a);
	int queued = 0;

	if (ioctl(sfd, SIOCINQ, &queued) || queued) {
		pr_err("can't dump fd %d of process %d (%s): a UDP socket with datagrams queued is not supported yet\n",
		       c->fd, c->pid, c->link);
		return -ENOTSUP;
	}
	e->state = getpeername(sfd, &a.sa, &len) ? TCP_CLOSE : TCP_ESTABLISHED;
	return read_names(sfd, e, e->state == TCP_ESTABLISHED);
}

static int dump_socket(int sfd, const struct fd_dump_ctx *c, FileEntry *fe)
{
	uint64_t pos;
	uint32_t flags;
	int mnt_id, v, ret;
	InetSkEntry *e;

	ret = parse_fdinfo(c->pid, c->fd, &pos, &flags, &mnt_id);
	if (ret)
		return ret;
	e = xzalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	inet_sk_entry__init(e);
	fe->isk = e;
	e->id = fe->id;
	e->flags = flags & O_NONBLOCK;
	ret = sockopt_int(sfd, SOL_SOCKET, SO_DOMAIN, &v);
	e->family = v;
	ret = ret ?: sockopt_int(sfd, SOL_SOCKET, SO_TYPE, &v);
	e->type = v;
	ret = ret ?: sockopt_int(sfd, SOL_SOCKET, SO_PROTOCOL, &v);
	e->proto = v;
	if (ret)
		return ret;
	if (!((e->type == SOCK_STREAM && e->proto == IPPROTO_TCP) ||
	      (e->type == SOCK_DGRAM && e->proto == IPPROTO_UDP))) {
		pr_err("can't dump fd %d of process %d (%s): an inet socket of type %u protocol %u is not supported "
		       "yet\n",
		       c->fd, c->pid, c->link, e->type, e->proto);
		return -ENOTSUP;
	}
	ret = read_common(sfd, e);
	ret = ret ?: (e->proto == IPPROTO_TCP ? dump_tcp(sfd, c, e) : dump_udp(sfd, c, e));
	if (ret)
		pr_err("fd %d of process %d (%s): can't dump the socket\n", c->fd, c->pid, c->link);
	return ret;
}

static int isk_dump(const struct fd_dump_ctx *c, FileEntry *fe)
{
	int sfd = grab_fd(c->pid, c->fd), ret;

	if (sfd < 0)
		return sfd;
	ret = dump_socket(sfd, c, fe);
	close(sfd);
	return ret;
}

static void isk_free(FileEntry *fe)
{
	InetSkEntry *e = fe->isk;

	if (!e)
		return;
	free(e->src_addr.data);
	free(e->dst_addr.data);
	if (e->tcp) {
		free(e->tcp->outq.data);
		free(e->tcp->inq.data);
		free(e->tcp);
	}
	free(e);
	fe->isk = NULL;
}

/* ---- validation ---- */

static int isk_validate(const FileEntry *fe, size_t idx)
{
	const InetSkEntry *e = fe->isk;
	size_t alen = e->family == AF_INET6 ? 16 : 4;
	bool tcp = e->type == SOCK_STREAM && e->proto == IPPROTO_TCP;
	bool udp = e->type == SOCK_DGRAM && e->proto == IPPROTO_UDP;

	if (e->id != fe->id || (e->family != AF_INET && e->family != AF_INET6) || (!tcp && !udp) ||
	    (e->flags & ~O_NONBLOCK)) {
		pr_err("files.img: entry %zu (id %u): bad inet socket id, family, type or flags\n", idx, fe->id);
		return -EINVAL;
	}
	if (e->src_addr.len != alen || e->src_port > 65535 || (e->has_dst_addr && e->dst_addr.len != alen) ||
	    e->dst_port > 65535) {
		pr_err("files.img: entry %zu (id %u): bad inet socket address\n", idx, fe->id);
		return -EINVAL;
	}
	if (e->state != TCP_CLOSE && e->state != TCP_LISTEN && e->state != TCP_ESTABLISHED) {
		pr_err("files.img: entry %zu (id %u): inet socket state %u\n", idx, fe->id, e->state);
		return -EINVAL;
	}
	if (e->state == TCP_ESTABLISHED && (!e->has_dst_addr || (tcp && !e->tcp))) {
		pr_err("files.img: entry %zu (id %u): a connected inet socket without its peer or TCP state\n", idx,
		       fe->id);
		return -EINVAL;
	}
	if (e->tcp && (e->tcp->outq.len > TCP_QUEUE_MAX || e->tcp->inq.len > TCP_QUEUE_MAX ||
		       e->tcp->unsent > e->tcp->outq.len || e->tcp->snd_wscale > 14 || e->tcp->rcv_wscale > 14)) {
		pr_err("files.img: entry %zu (id %u): bad TCP queues or window scales\n", idx, fe->id);
		return -EINVAL;
	}
	return 0;
}

/* ---- restore ---- */

static int set_int(int fd, int level, int opt, int val, const char *what)
{
	if (setsockopt(fd, level, opt, &val, sizeof(val))) {
		pr_perror("can't set %s on an inet socket", what);
		return -errno;
	}
	return 0;
}

/* Before bind: what decides whether and how the address can be taken. */
static int set_bind_options(int fd, const InetSkEntry *e)
{
	int ret = 0;

	/* the dumped socket may still hold the port in the kernel's eyes (TIME_WAIT) */
	ret = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
	if (!ret && e->has_reuseport && e->reuseport)
		ret = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
	if (!ret && e->has_v6only)
		ret = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, e->v6only, "IPV6_V6ONLY");
	return ret;
}

/* After: the options as they were (the kernel doubles the buffer sizes it is given). */
static int set_other_options(int fd, const InetSkEntry *e)
{
	int ret = 0;

	if (e->has_reuseaddr && !e->reuseaddr)
		ret = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 0, "SO_REUSEADDR");
	if (!ret && e->has_nodelay && e->nodelay)
		ret = set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
	if (!ret && e->has_sndbuf)
		ret = set_int(fd, SOL_SOCKET, SO_SNDBUF, e->sndbuf / 2, "SO_SNDBUF");
	if (!ret && e->has_rcvbuf)
		ret = set_int(fd, SOL_SOCKET, SO_RCVBUF, e->rcvbuf / 2, "SO_RCVBUF");
	return ret;
}

static bool is_bound(const InetSkEntry *e)
{
	size_t i;

	if (e->src_port)
		return true;
	for (i = 0; i < e->src_addr.len; i++)
		if (e->src_addr.data[i])
			return true;
	return false;
}

static int bind_src(int fd, const InetSkEntry *e)
{
	union sk_addr a;
	socklen_t len = make_inet_addr(e->family, &e->src_addr, e->src_port, &a);

	if (bind(fd, &a.sa, len)) {
		pr_perror("can't bind an inet socket to port %u", e->src_port);
		return -errno;
	}
	return 0;
}

static int set_queue(int fd, int queue, uint32_t seq)
{
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &queue, sizeof(queue)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &seq, sizeof(seq))) {
		pr_perror("can't set a TCP queue's sequence number");
		return -errno;
	}
	return 0;
}

static int fill_queue(int fd, int queue, const uint8_t *data, size_t len)
{
	size_t done = 0;

	if (!len)
		return 0;
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &queue, sizeof(queue))) {
		pr_perror("can't select a TCP queue");
		return -errno;
	}
	while (done < len) {
		ssize_t n = send(fd, data + done, len - done, 0);

		if (n <= 0) {
			pr_perror("can't put %zu bytes back in a TCP queue", len - done);
			return -EIO;
		}
		done += n;
	}
	return 0;
}

static int set_tcp_options(int fd, const TcpStreamEntry *t)
{
	struct tcp_repair_opt opts[4];
	int n = 0;

	if (t->has_mss)
		opts[n++] = (struct tcp_repair_opt){ TCPOPT_MAXSEG, t->mss };
	if (t->wscale)
		opts[n++] = (struct tcp_repair_opt){ TCPOPT_WINDOW, t->snd_wscale | (t->rcv_wscale << 16) };
	if (t->sack)
		opts[n++] = (struct tcp_repair_opt){ TCPOPT_SACK_PERMITTED, 0 };
	if (t->timestamps)
		opts[n++] = (struct tcp_repair_opt){ TCPOPT_TIMESTAMP, 0 };
	if (n && setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_OPTIONS, opts, n * sizeof(opts[0]))) {
		pr_perror("can't set the TCP options back");
		return -errno;
	}
	return 0;
}

/* After the queues: the kernel checks the window against the receive sequence they end at. */
static int set_tcp_window(int fd, const TcpStreamEntry *t)
{
	struct tcp_repair_window w = {
		.snd_wl1 = t->snd_wl1,
		.snd_wnd = t->snd_wnd,
		.max_window = t->max_window,
		.rcv_wnd = t->rcv_wnd,
		.rcv_wup = t->rcv_wup,
	};

	if (t->has_timestamp && set_int(fd, IPPROTO_TCP, TCP_TIMESTAMP, t->timestamp, "TCP_TIMESTAMP"))
		return -errno;
	if (t->has_snd_wnd && setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, sizeof(w))) {
		pr_perror("can't set the TCP window back");
		return -errno;
	}
	return 0;
}

/*
 * In repair mode nothing goes on the wire: the sequence numbers are set so
 * that putting the queues back ends where they were, connect() only
 * records the peer, and the part of the send queue never sent is sent
 * for real once repair mode is left (tcp_repair_done()).
 */
static int make_established(int fd, const InetSkEntry *e)
{
	const TcpStreamEntry *t = e->tcp;
	union sk_addr peer;
	socklen_t len = make_inet_addr(e->family, &e->dst_addr, e->dst_port, &peer);
	size_t sent = t->outq.len - t->unsent;
	int ret;

	ret = set_int(fd, IPPROTO_TCP, TCP_REPAIR, 1, "TCP_REPAIR");
	ret = ret ?: set_bind_options(fd, e);
	ret = ret ?: set_queue(fd, TCP_SEND_QUEUE, t->snd_seq - t->outq.len);
	ret = ret ?: set_queue(fd, TCP_RECV_QUEUE, t->rcv_seq - t->inq.len);
	ret = ret ?: bind_src(fd, e);
	if (ret)
		return ret;
	if (connect(fd, &peer.sa, len)) {
		pr_perror("can't make the TCP connection to port %u again", e->dst_port);
		return -errno;
	}
	ret = set_tcp_options(fd, t);
	ret = ret ?: fill_queue(fd, TCP_SEND_QUEUE, t->outq.data, sent);
	ret = ret ?: fill_queue(fd, TCP_RECV_QUEUE, t->inq.data, t->inq.len);
	ret = ret ?: set_tcp_window(fd, t);
	return ret ?: set_other_options(fd, e);
}

static int make_udp_or_listener(int fd, const InetSkEntry *e)
{
	union sk_addr peer;
	socklen_t len;
	int ret;

	ret = set_bind_options(fd, e);
	ret = ret ?: (is_bound(e) ? bind_src(fd, e) : 0);
	if (!ret && e->state == TCP_LISTEN && listen(fd, e->backlog)) {
		pr_perror("can't listen on port %u again", e->src_port);
		ret = -errno;
	}
	if (!ret && e->state == TCP_ESTABLISHED) {
		len = make_inet_addr(e->family, &e->dst_addr, e->dst_port, &peer);
		if (connect(fd, &peer.sa, len)) {
			pr_perror("can't connect a UDP socket to port %u again", e->dst_port);
			ret = -errno;
		}
	}
	return ret ?: set_other_options(fd, e);
}

static int isk_open(const FileEntry *fe, struct file_set *set, const struct cr_options *opts)
{
	const InetSkEntry *e = fe->isk;
	int fd = socket(e->family, e->type | SOCK_CLOEXEC, e->proto), ret;

	if (fd < 0) {
		pr_perror("can't create an inet socket (file id %u)", fe->id);
		return -errno;
	}
	ret = e->tcp ? make_established(fd, e) : make_udp_or_listener(fd, e);
	ret = ret ?: (fcntl(fd, F_SETFL, e->flags) ? -errno : 0);
	if (!ret && e->tcp)
		ret = files_note_tcp_repair(set, fd, e->tcp->outq.data + e->tcp->outq.len - e->tcp->unsent,
					    e->tcp->unsent);
	if (!ret && e->tcp)
		pr_info("TCP connection %u -> %u restored in repair mode\n", e->src_port, e->dst_port);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/*
 * Every socket of the tree exists: the connections leave repair mode, the
 * bytes never sent go out now, and the network lock is lifted.
 */
static void isk_open_done(struct file_set *set)
{
	size_t i;
	bool any = set->nr_tcp_repair > 0;

	for (i = 0; i < set->nr_tcp_repair; i++) {
		struct tcp_repair_restore *r = &set->tcp_repair[i];

		if (set_int(r->fd, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_OFF, "TCP_REPAIR off"))
			pr_err("a TCP connection stays in repair mode\n");
		else if (r->unsent_len &&
			 send(r->fd, r->unsent, r->unsent_len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)r->unsent_len)
			pr_perror("can't send the %zu bytes a TCP connection had not sent yet", r->unsent_len);
		close(r->fd);
	}
	free(set->tcp_repair);
	set->tcp_repair = NULL;
	set->nr_tcp_repair = set->tcp_repair_cap = 0;
	if (any && set->root)
		net_lock_release(set->root);
}

const struct fd_ops inet_sk_fd_ops = {
	.type = FD_TYPE__FD_INETSK,
	.name = "inet socket",
	.dump = isk_dump,
	.validate = isk_validate,
	.open = isk_open,
	.open_done = isk_open_done,
	.free = isk_free,
};
