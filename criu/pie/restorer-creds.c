// SPDX-License-Identifier: GPL-2.0
/*
 * The restorer's last step: the target's credentials. Everything before
 * (PR_SET_MM_MAP, sched_setattr, rlimits) needs criu's privileges, and each
 * step below needs some capability the next one may take away, so the order
 * is fixed:
 *
 *  1. groups, gids and fsgid              (CAP_SETGID)
 *  2. securebits KEEP_CAPS|NO_SETUID_FIXUP (CAP_SETPCAP): the uid change
 *     must not touch any capability set, criu's effective ones included
 *  3. uids and fsuid                      (CAP_SETUID)
 *  4. inheritable set, with criu's permitted and effective sets kept:
 *     ambient capabilities need them in permitted and inheritable
 *  5. ambient set                         (no securebit may forbid it yet)
 *  6. bounding set drops                  (CAP_SETPCAP)
 *  7. the target's securebits, locks included (CAP_SETPCAP)
 *  8. the exact permitted/effective/inheritable sets: only drops, since
 *     validation made sure the target had no capability criu lacks
 *
 * Then dumpable, pdeathsig and no_new_privs (restorer.c): the credential
 * change reset the first two, and the last can never be undone.
 */
#include <linux/capability.h>
#include <linux/prctl.h>
#include <linux/securebits.h>

#include "pie-lib.h"
#include "pie-syscall.h"
#include "restorer-int.h"

struct rst_cap_header {
	uint32_t version;
	int32_t pid;
};

struct rst_cap_data {
	uint32_t effective;
	uint32_t permitted;
	uint32_t inheritable;
};

static void creds_fail(const struct restorer_args *args, const char *what, long err)
{
	restorer_fail(args, RESTORE_EXIT_CREDS, what, err);
}

static void set_gids(const struct restorer_args *args, const struct restorer_creds *c)
{
	long ret;

	ret = sys_setgroups(c->nr_groups, c->groups);
	if (ret)
		creds_fail(args, "Error (restorer): setgroups failed:", ret);
	ret = sys_setresgid(c->gids[0], c->gids[1], c->gids[2]);
	if (ret)
		creds_fail(args, "Error (restorer): setresgid failed:", ret);
	sys_setfsgid(c->gids[3]);
	/* setfsgid() only tells the old value: an invalid id reads the current one. */
	if ((uint32_t)sys_setfsgid(-1) != c->gids[3])
		creds_fail(args, "Error (restorer): setfsgid did not take fsgid", c->gids[3]);
}

static void set_uids(const struct restorer_args *args, const struct restorer_creds *c)
{
	long ret;

	ret = sys_setresuid(c->uids[0], c->uids[1], c->uids[2]);
	if (ret)
		creds_fail(args, "Error (restorer): setresuid failed:", ret);
	sys_setfsuid(c->uids[3]);
	if ((uint32_t)sys_setfsuid(-1) != c->uids[3])
		creds_fail(args, "Error (restorer): setfsuid did not take fsuid", c->uids[3]);
}

static void set_securebits(const struct restorer_args *args, uint32_t bits)
{
	long ret = sys_prctl(PR_SET_SECUREBITS, bits, 0, 0, 0);

	if (ret)
		creds_fail(args, "Error (restorer): PR_SET_SECUREBITS failed:", ret);
}

static void get_caps(const struct restorer_args *args, uint64_t *eff, uint64_t *prm, uint64_t *inh)
{
	struct rst_cap_header h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct rst_cap_data d[2];
	long ret;

	ret = sys_capget(&h, d);
	if (ret)
		creds_fail(args, "Error (restorer): capget failed:", ret);
	*eff = d[0].effective | ((uint64_t)d[1].effective << 32);
	*prm = d[0].permitted | ((uint64_t)d[1].permitted << 32);
	*inh = d[0].inheritable | ((uint64_t)d[1].inheritable << 32);
}

static void set_caps(const struct restorer_args *args, uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct rst_cap_header h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct rst_cap_data d[2] = {
		{ (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32) },
	};
	long ret;

	ret = sys_capset(&h, d);
	if (ret)
		creds_fail(args, "Error (restorer): capset failed:", ret);
}

static void set_ambient(const struct restorer_args *args, const struct restorer_creds *c)
{
	uint32_t cap;
	long ret;

	ret = sys_prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (ret)
		creds_fail(args, "Error (restorer): can't clear the ambient set:", ret);
	for (cap = 0; cap <= c->cap_last_cap; cap++) {
		if (!(c->cap_amb & (1ULL << cap)))
			continue;
		ret = sys_prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
		if (ret)
			creds_fail(args, "Error (restorer): can't raise ambient capability", cap);
	}
}

static void drop_bounding(const struct restorer_args *args, const struct restorer_creds *c)
{
	uint32_t cap;
	long ret;

	for (cap = 0; cap <= c->cap_last_cap; cap++) {
		if (c->cap_bnd & (1ULL << cap))
			continue;
		ret = sys_prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
		if (ret)
			creds_fail(args, "Error (restorer): can't drop from the bounding set capability", cap);
	}
}

/* The sets must now be exactly the image's: never more. */
static void check_caps(const struct restorer_args *args, const struct restorer_creds *c)
{
	uint64_t eff, prm, inh;

	get_caps(args, &eff, &prm, &inh);
	if (eff != c->cap_eff || prm != c->cap_prm || inh != c->cap_inh)
		creds_fail(args, "Error (restorer): capabilities differ from the image after capset, permitted",
			   (long)prm);
}

void restorer_set_creds(struct restorer_args *args)
{
	const struct restorer_creds *c = &args->creds;
	uint64_t eff, prm, inh;

	if (!c->present)
		return;
	set_gids(args, c);
	set_securebits(args, SECBIT_KEEP_CAPS | SECBIT_NO_SETUID_FIXUP);
	set_uids(args, c);
	get_caps(args, &eff, &prm, &inh);
	set_caps(args, eff, prm, c->cap_inh);
	set_ambient(args, c);
	drop_bounding(args, c);
	set_securebits(args, c->securebits);
	set_caps(args, c->cap_eff, c->cap_prm, c->cap_inh);
	check_caps(args, c);
	restorer_debug(args, "restorer: credentials set, uid", c->uids[0]);
}
