// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <sys/mman.h>

#include "proc-parse.h"
#include "log.h"
#include "util.h"

static char *read_proc(pid_t pid, const char *name)
{
	char path[64];
	char *buf;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	buf = read_file_at(AT_FDCWD, path, NULL);
	if (!buf)
		pr_perror("can't read %s", path);
	return buf;
}

int parse_proc_stat(pid_t pid, struct proc_stat *st)
{
	unsigned long long v[52];
	char *buf, *open_paren, *close_paren, *p;
	size_t clen;
	int i, n = 0;

	memset(st, 0, sizeof(*st));
	buf = read_proc(pid, "stat");
	if (!buf)
		return -ENOENT;
	/* comm may contain spaces and parentheses: it ends at the last ')' */
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren || close_paren[1] != ' ') {
		pr_err("/proc/%d/stat: unexpected format\n", pid);
		free(buf);
		return -EINVAL;
	}
	st->pid = atoi(buf);
	clen = min((size_t)(close_paren - open_paren - 1), sizeof(st->comm) - 1);
	memcpy(st->comm, open_paren + 1, clen);
	st->comm[clen] = 0;
	st->state = close_paren[2];
	p = close_paren + 3;
	/* fields 4.. (1-based) follow; v[k] is field k + 4 */
	for (i = 0; i < 49 && *p; i++) {
		char *end;

		v[i] = strtoull(p, &end, 10);
		if (end == p)
			break;
		n++;
		p = end;
		while (*p == ' ')
			p++;
	}
	free(buf);
	if (n < 48) {
		pr_err("/proc/%d/stat: only %d fields\n", pid, n);
		return -EINVAL;
	}
#define F(k) v[(k)-4]
	st->ppid = F(4);
	st->pgid = F(5);
	st->sid = F(6);
	st->tty_nr = F(7);
	st->flags = F(9);
	st->num_threads = F(20);
	st->start_code = F(26);
	st->end_code = F(27);
	st->start_stack = F(28);
	st->exit_signal = F(38);
	st->start_data = F(45);
	st->end_data = F(46);
	st->start_brk = F(47);
	st->arg_start = F(48);
	st->arg_end = F(49);
	st->env_start = F(50);
	st->env_end = F(51);
	st->exit_code = n >= 49 ? F(52) : 0;
#undef F
	return 0;
}

char *read_task_status(pid_t pid, pid_t tid)
{
	char path[64];
	char *buf;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	buf = read_file_at(AT_FDCWD, path, NULL);
	if (!buf)
		pr_perror("can't read %s", path);
	return buf;
}

const char *proc_status_field(const char *buf, const char *key)
{
	size_t len = strlen(key);
	const char *line = buf;

	while (line && *line) {
		if (!strncmp(line, key, len) && line[len] == ':')
			return line + len + 1;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return NULL;
}

static uint64_t status_num(const char *buf, const char *key, int base)
{
	const char *v = proc_status_field(buf, key);

	return v ? strtoull(v, NULL, base) : 0;
}

uint64_t proc_status_hex(const char *buf, const char *key)
{
	return status_num(buf, key, 16);
}

int parse_proc_status(pid_t pid, struct proc_status *st)
{
	char *buf;

	memset(st, 0, sizeof(*st));
	buf = read_proc(pid, "status");
	if (!buf)
		return -ENOENT;
	st->tgid = status_num(buf, "Tgid", 10);
	st->ppid = status_num(buf, "PPid", 10);
	st->tracer_pid = status_num(buf, "TracerPid", 10);
	st->threads = status_num(buf, "Threads", 10);
	st->sig_blk = status_num(buf, "SigBlk", 16);
	free(buf);
	return 0;
}

static uint32_t parse_vmflags(const char *s)
{
	static const struct {
		char name[3];
		uint32_t bit;
	} names[] = {
		{ "gd", VMF_GROWSDOWN }, { "sh", VMF_SHARED },	   { "dc", VMF_DONTCOPY },  { "dd", VMF_DONTDUMP },
		{ "hg", VMF_HUGEPAGE },	 { "nh", VMF_NOHUGEPAGE }, { "mg", VMF_MERGEABLE }, { "wf", VMF_WIPEONFORK },
		{ "mw", VMF_MAYWRITE },	 { "lo", VMF_LOCKED },	   { "io", VMF_IO },	    { "pf", VMF_PFNMAP },
		{ "mm", VMF_MIXEDMAP },
	};
	uint32_t flags = 0;
	size_t i;

	while (*s) {
		while (*s == ' ')
			s++;
		if (!s[0] || !s[1])
			break;
		for (i = 0; i < ARRAY_SIZE(names); i++)
			if (s[0] == names[i].name[0] && s[1] == names[i].name[1])
				flags |= names[i].bit;
		s += 2;
	}
	return flags;
}

static int parse_maps_line(const char *line, struct proc_vma *vma)
{
	char perms[8];
	unsigned long long start, end, pgoff, ino;
	int n = 0;

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &pgoff, &vma->dev_major,
		   &vma->dev_minor, &ino, &n) < 7)
		return -EINVAL;
	vma->start = start;
	vma->end = end;
	vma->pgoff = pgoff;
	vma->ino = ino;
	vma->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		    (perms[2] == 'x' ? PROT_EXEC : 0);
	vma->shared = perms[3] == 's';
	vma->path = xstrdup(line + n);
	return vma->path ? 0 : -ENOMEM;
}

static bool is_maps_line(const char *line)
{
	/* "start-end " where start is hex: key lines are "Name:   value" */
	const char *p = line;

	while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
		p++;
	return p != line && *p == '-';
}

int parse_proc_smaps(pid_t pid, struct proc_vmas *vmas)
{
	char *buf, *line, *save = NULL;
	size_t cap = 0;
	int ret = 0;

	vmas->v = NULL;
	vmas->nr = 0;
	buf = read_proc(pid, "smaps");
	if (!buf)
		return -ENOENT;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (is_maps_line(line)) {
			if (xgrow(&vmas->v, &cap, vmas->nr, sizeof(*vmas->v))) {
				ret = -ENOMEM;
				break;
			}
			memset(&vmas->v[vmas->nr], 0, sizeof(vmas->v[0]));
			ret = parse_maps_line(line, &vmas->v[vmas->nr]);
			if (ret) {
				pr_err("/proc/%d/smaps: can't parse '%s'\n", pid, line);
				break;
			}
			vmas->nr++;
		} else if (!strncmp(line, "VmFlags:", 8) && vmas->nr) {
			vmas->v[vmas->nr - 1].vmflags = parse_vmflags(line + 8);
		}
	}
	free(buf);
	if (ret)
		proc_vmas_free(vmas);
	return ret;
}

void proc_vmas_free(struct proc_vmas *vmas)
{
	size_t i;

	for (i = 0; i < vmas->nr; i++)
		free(vmas->v[i].path);
	free(vmas->v);
	vmas->v = NULL;
	vmas->nr = 0;
}

int parse_fdinfo(pid_t pid, int fd, uint64_t *pos, uint32_t *flags, int *mnt_id)
{
	char path[64], *buf, *line, *save = NULL;

	snprintf(path, sizeof(path), "fdinfo/%d", fd);
	buf = read_proc(pid, path);
	if (!buf)
		return -ENOENT;
	*pos = 0;
	*flags = 0;
	*mnt_id = -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "pos:", 4))
			*pos = strtoull(line + 4, NULL, 10);
		else if (!strncmp(line, "flags:", 6))
			*flags = strtoul(line + 6, NULL, 8);
		else if (!strncmp(line, "mnt_id:", 7))
			*mnt_id = atoi(line + 7);
	}
	free(buf);
	return 0;
}

char *read_fdinfo(pid_t pid, int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "fdinfo/%d", fd);
	return read_proc(pid, path);
}

int read_proc_link(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	n = readlink(path, buf, size - 1);
	if (n < 0) {
		pr_perror("can't read link %s", path);
		return -errno;
	}
	if ((size_t)n >= size - 1) {
		pr_err("link %s is too long\n", path);
		return -ENAMETOOLONG;
	}
	buf[n] = 0;
	return 0;
}
