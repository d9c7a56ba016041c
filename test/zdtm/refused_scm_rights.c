// SPDX-License-Identifier: GPL-2.0
/* zdtm: refused=SCM_RIGHTS */
/*
 * A file descriptor in flight: sent with SCM_RIGHTS over a socket pair
 * and not received yet. The dump must be refused; at the check the fd is
 * still in flight and arrives, referring to the same pipe.
 */
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char cbuf[CMSG_SPACE(sizeof(int))], byte = 'x';
	struct iovec iov = { &byte, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct stat a, b;
	int sv[2], p[2], got;

	test_init(argc, argv);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(p))
		fail_errno("socketpair");
	CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
	CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
	CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &p[0], sizeof(int));
	if (sendmsg(sv[0], &mh, 0) != 1)
		fail_errno("sendmsg");

	test_daemon();
	test_waitsig();

	memset(cbuf, 0, sizeof(cbuf));
	mh.msg_controllen = sizeof(cbuf);
	if (recvmsg(sv[1], &mh, 0) != 1 || !CMSG_FIRSTHDR(&mh) || CMSG_FIRSTHDR(&mh)->cmsg_type != SCM_RIGHTS)
		fail("the fd in flight did not arrive");
	memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
	if (fstat(got, &a) || fstat(p[0], &b) || a.st_ino != b.st_ino)
		fail("the fd that arrived is not the pipe sent");
	pass();
}
