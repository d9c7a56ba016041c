// SPDX-License-Identifier: GPL-2.0
/*
 * A socket bound to a path whose file was given mode 0604 and owner
 * 1234:5678: after restore the file has them again.
 */
#include "unix_sk.h"
#include <sys/stat.h>
static char why[512];
#define check(e)                         \
	do {                             \
		if (e)                   \
			fail("%s", why); \
	} while (0)
int main(int argc, char **argv)
{
	struct sk_name n;
	struct stat st;
	char p[256];
	int l;
	test_init(argc, argv);
	snprintf(p, sizeof(p), "%s/m.sock", test_dir());
	unlink(p);
	sk_name_make(&n, p);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	check(sk_bind(l, &n, why, sizeof(why)));
	listen(l, 5);
	chmod(p, 0604);
	chown(p, 1234, 5678);
	check(move_fd(l, 3, why, sizeof(why)));
	test_daemon();
	test_waitsig();
	stat(p, &st);
	if ((st.st_mode & 07777) != 0604 || st.st_uid != 1234 || st.st_gid != 5678)
		fail("mode %o uid %d gid %d, expected 604 1234 5678", st.st_mode & 07777, st.st_uid, st.st_gid);
	pass();
}
