// SPDX-License-Identifier: GPL-2.0
/*
 * Credentials of a process that left root:
 *   uids 1000/1000/1000, gids 1000/1001/1002 (fsgid 1001),
 *   supplementary groups 1000, 1001, 4242,
 *   permitted {NET_BIND_SERVICE, NET_RAW}, effective and inheritable
 *   {NET_BIND_SERVICE}, ambient {NET_BIND_SERVICE},
 *   SYS_MODULE, SYS_RAWIO and MKNOD dropped from the bounding set,
 *   securebits KEEP_CAPS | NOROOT | NOROOT_LOCKED, no_new_privs,
 *   dumpable 1 (the uid change had reset it).
 * After restore every one must be the same: no more, no fewer privileges.
 * Every difference is reported, not only the first.
 */
#include <grp.h>
#include <stdlib.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define CAP_BIT(c) (1ULL << (c))

struct creds {
	uid_t uid[4];
	gid_t gid[4];
	gid_t groups[64];
	int nr_groups;
	uint64_t eff, prm, inh, bnd, amb;
	int securebits, nnp, dumpable;
};

static const uint64_t keep_prm = CAP_BIT(CAP_NET_BIND_SERVICE) | CAP_BIT(CAP_NET_RAW);
static const uint64_t keep_eff = CAP_BIT(CAP_NET_BIND_SERVICE);
static const int dropped_bnd[] = { CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_MKNOD };

static int last_cap(void)
{
	char buf[16];

	if (read_file("/proc/sys/kernel/cap_last_cap", buf, sizeof(buf)) <= 0)
		fail_errno("read cap_last_cap");
	return atoi(buf);
}

static void set_caps(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32) },
	};

	if (syscall(SYS_capset, &h, d))
		fail_errno("capset");
}

static void drop_root(void)
{
	static const gid_t groups[] = { 1000, 1001, 4242 };
	size_t i;

	for (i = 0; i < sizeof(dropped_bnd) / sizeof(dropped_bnd[0]); i++)
		if (prctl(PR_CAPBSET_DROP, dropped_bnd[i], 0, 0, 0))
			fail_errno("PR_CAPBSET_DROP %d", dropped_bnd[i]);
	if (prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_NOROOT | SECBIT_NOROOT_LOCKED, 0, 0, 0))
		fail_errno("PR_SET_SECUREBITS");
	if (setgroups(3, groups))
		fail_errno("setgroups");
	if (setresgid(1000, 1001, 1002))
		fail_errno("setresgid");
	if (setresuid(1000, 1000, 1000))
		fail_errno("setresuid");
	set_caps(keep_eff, keep_prm, keep_eff);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0))
		fail_errno("PR_CAP_AMBIENT_RAISE");
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		fail_errno("PR_SET_DUMPABLE");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		fail_errno("PR_SET_NO_NEW_PRIVS");
}

static void read_creds(struct creds *c)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	int cap, last = last_cap();

	memset(c, 0, sizeof(*c));
	getresuid(&c->uid[0], &c->uid[1], &c->uid[2]);
	getresgid(&c->gid[0], &c->gid[1], &c->gid[2]);
	/* an invalid id changes nothing and returns the current one */
	c->uid[3] = setfsuid(-1);
	c->gid[3] = setfsgid(-1);
	c->nr_groups = getgroups(64, c->groups);
	if (syscall(SYS_capget, &h, d))
		fail_errno("capget");
	c->eff = d[0].effective | ((uint64_t)d[1].effective << 32);
	c->prm = d[0].permitted | ((uint64_t)d[1].permitted << 32);
	c->inh = d[0].inheritable | ((uint64_t)d[1].inheritable << 32);
	for (cap = 0; cap <= last; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			c->bnd |= CAP_BIT(cap);
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1)
			c->amb |= CAP_BIT(cap);
	}
	c->securebits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	c->nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	c->dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
}

/* Append "name before -> after" to why when they differ. */
static void cmp(char *why, size_t size, const char *name, uint64_t before, uint64_t after)
{
	size_t len = strlen(why);

	if (before != after)
		snprintf(why + len, size - len, "%s %#llx -> %#llx; ", name, (unsigned long long)before,
			 (unsigned long long)after);
}

static void compare(const struct creds *b, const struct creds *a, char *why, size_t size)
{
	static const char *const id_names[] = { "ruid", "euid", "suid", "fsuid" };
	static const char *const gid_names[] = { "rgid", "egid", "sgid", "fsgid" };
	int i;

	for (i = 0; i < 4; i++) {
		cmp(why, size, id_names[i], b->uid[i], a->uid[i]);
		cmp(why, size, gid_names[i], b->gid[i], a->gid[i]);
	}
	cmp(why, size, "number of groups", b->nr_groups, a->nr_groups);
	for (i = 0; i < b->nr_groups && i < a->nr_groups; i++)
		cmp(why, size, "group", b->groups[i], a->groups[i]);
	cmp(why, size, "effective", b->eff, a->eff);
	cmp(why, size, "permitted", b->prm, a->prm);
	cmp(why, size, "inheritable", b->inh, a->inh);
	cmp(why, size, "bounding", b->bnd, a->bnd);
	cmp(why, size, "ambient", b->amb, a->amb);
	cmp(why, size, "securebits", b->securebits, a->securebits);
	cmp(why, size, "no_new_privs", b->nnp, a->nnp);
	cmp(why, size, "dumpable", b->dumpable, a->dumpable);
}

int main(int argc, char **argv)
{
	struct creds before, after;
	char why[2048] = "";

	test_init(argc, argv);
	test_files_owner(1000, 1001);
	drop_root();
	read_creds(&before);
	if (before.uid[1] != 1000 || before.prm != keep_prm || before.amb != keep_eff || !before.nnp)
		fail("set-up: euid %d permitted %#llx ambient %#llx nnp %d", before.uid[1],
		     (unsigned long long)before.prm, (unsigned long long)before.amb, before.nnp);

	test_daemon();
	test_waitsig();

	read_creds(&after);
	compare(&before, &after, why, sizeof(why));
	if (why[0])
		fail("credentials changed: %s", why);
	pass();
}
