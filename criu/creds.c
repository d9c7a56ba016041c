// SPDX-License-Identifier: GPL-2.0
/*
 * Credentials: dump side (what /proc/PID/status shows) and the restorer's
 * copy of them. The restorer applies them last, see
 * criu/pie/restorer-creds.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "creds.h"
#include "log.h"
#include "proc-parse.h"
#include "util.h"

static int parse_ids(const char *buf, const char *key, uint32_t *ids, pid_t pid)
{
	const char *val = proc_status_field(buf, key);

	if (!val || sscanf(val, "%" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32, &ids[0], &ids[1], &ids[2], &ids[3]) !=
			    CREDS_NR_IDS) {
		pr_err("/proc/%d/status: can't parse %s\n", pid, key);
		return -EINVAL;
	}
	return 0;
}

/* The number after key in a /proc/PID/status buffer, in base 10 or 16. */
static int parse_num(const char *buf, const char *key, int base, uint64_t *val, pid_t pid)
{
	const char *s = proc_status_field(buf, key);
	char *end;

	if (!s) {
		pr_err("/proc/%d/status: no %s line\n", pid, key);
		return -EINVAL;
	}
	*val = strtoull(s, &end, base);
	if (end == s) {
		pr_err("/proc/%d/status: can't parse %s\n", pid, key);
		return -EINVAL;
	}
	return 0;
}

static int parse_groups(const char *buf, struct dump_creds *c, pid_t pid)
{
	const char *s = proc_status_field(buf, "Groups");
	size_t cap = 0;
	char *end;

	if (!s) {
		pr_err("/proc/%d/status: no Groups line\n", pid);
		return -EINVAL;
	}
	for (;;) {
		unsigned long gid;

		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\n' || !*s)
			return 0;
		gid = strtoul(s, &end, 10);
		if (end == s) {
			pr_err("/proc/%d/status: can't parse Groups\n", pid);
			return -EINVAL;
		}
		if (xgrow(&c->groups, &cap, c->nr_groups, sizeof(*c->groups)))
			return -ENOMEM;
		c->groups[c->nr_groups++] = gid;
		s = end;
	}
}

/* Seccomp filters are not dumped: a restored process would run without them. */
static int refuse_seccomp(const char *buf, pid_t pid)
{
	uint64_t mode;
	int ret;

	ret = parse_num(buf, "Seccomp", 10, &mode, pid);
	if (ret)
		return ret;
	if (mode) {
		pr_err("process %d runs under seccomp (mode %" PRIu64 "): seccomp filters are not supported yet\n", pid,
		       mode);
		return -ENOTSUP;
	}
	return 0;
}

static int parse_creds(const char *buf, struct dump_creds *c, pid_t pid)
{
	uint64_t nnp = 0;
	int ret;

	ret = parse_ids(buf, "Uid", c->uids, pid);
	ret = ret ?: parse_ids(buf, "Gid", c->gids, pid);
	ret = ret ?: parse_groups(buf, c, pid);
	ret = ret ?: parse_num(buf, "CapInh", 16, &c->cap_inh, pid);
	ret = ret ?: parse_num(buf, "CapPrm", 16, &c->cap_prm, pid);
	ret = ret ?: parse_num(buf, "CapEff", 16, &c->cap_eff, pid);
	ret = ret ?: parse_num(buf, "CapBnd", 16, &c->cap_bnd, pid);
	ret = ret ?: parse_num(buf, "CapAmb", 16, &c->cap_amb, pid);
	ret = ret ?: parse_num(buf, "NoNewPrivs", 10, &nnp, pid);
	c->no_new_privs = nnp;
	return ret;
}

int creds_collect(pid_t pid, struct dump_creds *c)
{
	char *buf;
	int ret;

	memset(c, 0, sizeof(*c));
	buf = read_task_status(pid, pid);
	if (!buf)
		return -EIO;
	ret = refuse_seccomp(buf, pid);
	ret = ret ?: parse_creds(buf, c, pid);
	free(buf);
	if (ret)
		creds_free(c);
	return ret;
}

void creds_free(struct dump_creds *c)
{
	free(c->groups);
	c->groups = NULL;
	c->nr_groups = 0;
}

void creds_to_image(const struct dump_creds *c, const struct parasite_task_attrs *attrs, CredsEntry *e)
{
	e->uid = c->uids[CREDS_REAL];
	e->euid = c->uids[CREDS_EFFECTIVE];
	e->suid = c->uids[CREDS_SAVED];
	e->fsuid = c->uids[CREDS_FS];
	e->gid = c->gids[CREDS_REAL];
	e->egid = c->gids[CREDS_EFFECTIVE];
	e->sgid = c->gids[CREDS_SAVED];
	e->fsgid = c->gids[CREDS_FS];
	e->n_groups = c->nr_groups;
	e->groups = c->groups;
	e->cap_inh = c->cap_inh;
	e->cap_prm = c->cap_prm;
	e->cap_eff = c->cap_eff;
	e->cap_bnd = c->cap_bnd;
	e->cap_amb = c->cap_amb;
	e->securebits = attrs->securebits;
	e->no_new_privs = c->no_new_privs;
}

void creds_fill_restorer(const CredsEntry *e, struct restorer_creds *rc, uint32_t *groups, uint64_t groups_addr)
{
	rc->present = 1;
	rc->uids[CREDS_REAL] = e->uid;
	rc->uids[CREDS_EFFECTIVE] = e->euid;
	rc->uids[CREDS_SAVED] = e->suid;
	rc->uids[CREDS_FS] = e->fsuid;
	rc->gids[CREDS_REAL] = e->gid;
	rc->gids[CREDS_EFFECTIVE] = e->egid;
	rc->gids[CREDS_SAVED] = e->sgid;
	rc->gids[CREDS_FS] = e->fsgid;
	memcpy(groups, e->groups, e->n_groups * sizeof(*groups));
	rc->nr_groups = e->n_groups;
	rc->groups = groups_addr;
	rc->cap_inh = e->cap_inh;
	rc->cap_prm = e->cap_prm;
	rc->cap_eff = e->cap_eff;
	rc->cap_bnd = e->cap_bnd;
	rc->cap_amb = e->cap_amb;
	rc->securebits = e->securebits;
	rc->no_new_privs = e->no_new_privs;
}
