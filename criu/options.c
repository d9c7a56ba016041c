// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "log.h"
#include "util.h"

/*
 * CRIU's whole option set. Options we honour are handled in apply_option();
 * the rest are accepted by name and refused with a clear message, so that a
 * script written for CRIU fails loudly instead of running with an option
 * silently ignored.
 */
enum {
	OPT_PIDFILE = 1000,
	OPT_LOG_PID,
	OPT_NO_DEFAULT_CONFIG,
	OPT_CONFIG,
	OPT_TIMEOUT,
	OPT_DISPLAY_STATS,
	OPT_FEATURE,
	OPT_ALL,
	OPT_FREEZE_CGROUP,
	OPT_ALLOW_FILE_CHANGES,
	OPT_TCP_ESTABLISHED,
	OPT_GHOST_LIMIT,
	OPT_VERSION,
	OPT_INHERIT_FD,
	OPT_EXTERNAL,
	OPT_ALLOW_OUTSIDE_SHARING,
	OPT_CHECK_ONLY,
	OPT_UNSUPPORTED, /* every option from here on is known but not supported */
};

static const struct option long_opts[] = {
	{ "tree", required_argument, NULL, 't' },
	{ "leave-stopped", no_argument, NULL, 's' },
	{ "leave-running", no_argument, NULL, 'R' },
	{ "restore-detached", no_argument, NULL, 'd' },
	{ "restore-sibling", no_argument, NULL, OPT_UNSUPPORTED },
	{ "daemon", no_argument, NULL, 'd' },
	{ "images-dir", required_argument, NULL, 'D' },
	{ "work-dir", required_argument, NULL, 'W' },
	{ "log-file", required_argument, NULL, 'o' },
	{ "verbosity", optional_argument, NULL, 'v' },
	{ "shell-job", no_argument, NULL, 'j' },
	{ "root", required_argument, NULL, OPT_UNSUPPORTED },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "pidfile", required_argument, NULL, OPT_PIDFILE },
	{ "log-pid", no_argument, NULL, OPT_LOG_PID },
	{ "no-default-config", no_argument, NULL, OPT_NO_DEFAULT_CONFIG },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "display-stats", no_argument, NULL, OPT_DISPLAY_STATS },
	{ "feature", required_argument, NULL, OPT_FEATURE },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "freeze-cgroup", required_argument, NULL, OPT_FREEZE_CGROUP },
	{ "file-locks", no_argument, NULL, 'l' },
	{ "allow-file-changes", no_argument, NULL, OPT_ALLOW_FILE_CHANGES },
	{ "tcp-established", no_argument, NULL, OPT_TCP_ESTABLISHED },
	{ "ghost-limit", required_argument, NULL, OPT_GHOST_LIMIT },
	/* Known to CRIU, not supported here yet. */
	{ "ext-unix-sk", optional_argument, NULL, 'x' },
	{ "tcp-close", no_argument, NULL, OPT_UNSUPPORTED },
	{ "skip-in-flight", no_argument, NULL, OPT_UNSUPPORTED },
	{ "link-remap", no_argument, NULL, OPT_UNSUPPORTED },
	{ "ghost-fiemap", no_argument, NULL, OPT_UNSUPPORTED },
	{ "evasive-devices", no_argument, NULL, OPT_UNSUPPORTED },
	{ "manage-cgroups", optional_argument, NULL, OPT_UNSUPPORTED },
	{ "cgroup-root", required_argument, NULL, OPT_UNSUPPORTED },
	{ "cgroup-props", required_argument, NULL, OPT_UNSUPPORTED },
	{ "cgroup-props-file", required_argument, NULL, OPT_UNSUPPORTED },
	{ "cgroup-dump-controller", required_argument, NULL, OPT_UNSUPPORTED },
	{ "cgroup-yard", required_argument, NULL, OPT_UNSUPPORTED },
	{ "external", required_argument, NULL, OPT_EXTERNAL },
	{ "inherit-fd", required_argument, NULL, OPT_INHERIT_FD },
	{ "allow-outside-sharing", no_argument, NULL, OPT_ALLOW_OUTSIDE_SHARING },
	{ "ext-mount-map", required_argument, NULL, OPT_UNSUPPORTED },
	{ "enable-external-sharing", no_argument, NULL, OPT_UNSUPPORTED },
	{ "enable-external-masters", no_argument, NULL, OPT_UNSUPPORTED },
	{ "auto-ext-mnt", no_argument, NULL, OPT_UNSUPPORTED },
	{ "force-irmap", no_argument, NULL, OPT_UNSUPPORTED },
	{ "irmap-scan-path", required_argument, NULL, OPT_UNSUPPORTED },
	{ "action-script", required_argument, NULL, OPT_UNSUPPORTED },
	{ "exec-cmd", no_argument, NULL, OPT_UNSUPPORTED },
	{ "prev-images-dir", required_argument, NULL, OPT_UNSUPPORTED },
	{ "track-mem", no_argument, NULL, OPT_UNSUPPORTED },
	{ "pre-dump-mode", required_argument, NULL, OPT_UNSUPPORTED },
	{ "page-server", no_argument, NULL, OPT_UNSUPPORTED },
	{ "address", required_argument, NULL, OPT_UNSUPPORTED },
	{ "port", required_argument, NULL, OPT_UNSUPPORTED },
	{ "ps-socket", required_argument, NULL, OPT_UNSUPPORTED },
	{ "lazy-pages", no_argument, NULL, OPT_UNSUPPORTED },
	{ "auto-dedup", no_argument, NULL, OPT_UNSUPPORTED },
	{ "weak-sysctls", no_argument, NULL, OPT_UNSUPPORTED },
	{ "status-fd", required_argument, NULL, OPT_UNSUPPORTED },
	{ "empty-ns", required_argument, NULL, OPT_UNSUPPORTED },
	{ "veth-pair", required_argument, NULL, OPT_UNSUPPORTED },
	{ "join-ns", required_argument, NULL, OPT_UNSUPPORTED },
	{ "namespaces", required_argument, NULL, OPT_UNSUPPORTED },
	{ "remote", no_argument, NULL, OPT_UNSUPPORTED },
	{ "lsm-profile", required_argument, NULL, OPT_UNSUPPORTED },
	{ "lsm-mount-context", required_argument, NULL, OPT_UNSUPPORTED },
	{ "unprivileged", no_argument, NULL, OPT_UNSUPPORTED },
	{ "tls", no_argument, NULL, OPT_UNSUPPORTED },
	{ "tls-cacert", required_argument, NULL, OPT_UNSUPPORTED },
	{ "tls-cacrl", required_argument, NULL, OPT_UNSUPPORTED },
	{ "tls-cert", required_argument, NULL, OPT_UNSUPPORTED },
	{ "tls-key", required_argument, NULL, OPT_UNSUPPORTED },
	{ "tls-no-cn-verify", no_argument, NULL, OPT_UNSUPPORTED },
	{ "network-lock", required_argument, NULL, OPT_UNSUPPORTED },
	{ "mntns-compat-mode", no_argument, NULL, OPT_UNSUPPORTED },
	{ "skip-file-rwx-check", no_argument, NULL, OPT_UNSUPPORTED },
	{ "allow-uprobes", no_argument, NULL, OPT_UNSUPPORTED },
	{ "cpu-cap", optional_argument, NULL, OPT_UNSUPPORTED },
	{ "stream", no_argument, NULL, OPT_UNSUPPORTED },
	{ "file-validation", required_argument, NULL, OPT_UNSUPPORTED },
	{ "orphan-pts-master", no_argument, NULL, OPT_UNSUPPORTED },
	{ "libdir", required_argument, NULL, OPT_UNSUPPORTED },
	{ "check-only", no_argument, NULL, OPT_CHECK_ONLY },
	{ "extra", no_argument, NULL, OPT_UNSUPPORTED },
	{ "experimental", no_argument, NULL, OPT_UNSUPPORTED },
	{ "ms", no_argument, NULL, OPT_UNSUPPORTED },
	{ "timens", required_argument, NULL, OPT_UNSUPPORTED },
	{ "tcp-listen", no_argument, NULL, OPT_UNSUPPORTED },
	{ "ext-unix-sk-ino", required_argument, NULL, 'x' },
	{ NULL, 0, NULL, 0 },
};

/* Short options of CRIU that we do not support yet. */
static const char *unsupported_short(int c)
{
	switch (c) {
	case 'M':
		return "--ext-mount-map (-M)";
	case 'L':
		return "--libdir (-L)";
	case 'n':
		return "-n";
	case 'r':
		return "--root (-r)";
	case 'S':
		return "--restore-sibling (-S)";
	default:
		return NULL;
	}
}

static const struct {
	const char *name;
	enum cr_command cmd;
	bool supported;
} commands[] = {
	{ "dump", CMD_DUMP, true },	   { "pre-dump", CMD_PRE_DUMP, false },
	{ "restore", CMD_RESTORE, true },  { "check", CMD_CHECK, true },
	{ "show", CMD_SHOW, true },	   { "page-server", CMD_PAGE_SERVER, false },
	{ "service", CMD_SERVICE, false }, { "swrk", CMD_SWRK, false },
	{ "dedup", CMD_DEDUP, false },	   { "lazy-pages", CMD_LAZY_PAGES, false },
	{ "cpuinfo", CMD_CPUINFO, false }, { "exec", CMD_EXEC, false },
};

void options_init(struct cr_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->log_level = LOG_WARN;
	opts->tree_pid = -1;
	opts->timeout = 10;
	opts->ghost_limit = DEFAULT_GHOST_LIMIT;
}

void usage(void)
{
	pr_msg("Usage:\n"
	       "  criu dump -t PID -D DIR [-v4] [-o dump.log] [--shell-job] [--leave-running]\n"
	       "  criu restore -D DIR [-d] [--pidfile FILE] [-v4] [-o restore.log] [--shell-job]\n"
	       "  criu check [--feature NAME]\n"
	       "  criu show FILE\n"
	       "  criu --version\n"
	       "\n"
	       "Options:\n"
	       "  -t|--tree PID            the root of the process tree to dump\n"
	       "  -D|--images-dir DIR      directory of the image files\n"
	       "  -W|--work-dir DIR        directory for logs and pidfile (default: images dir)\n"
	       "  -o|--log-file FILE       log file, relative to the work dir\n"
	       "  -v[0-4]|--verbosity      log level (-v alone or repeated raises it)\n"
	       "  -j|--shell-job           the tree is a shell job: allow its terminal\n"
	       "  -l|--file-locks          dump and restore file locks (flock, POSIX, OFD)\n"
	       "  --allow-file-changes     restore even if open files changed since the dump\n"
	       "  --tcp-established        dump established TCP connections (TCP_REPAIR, network lock)\n"
	       "  --ghost-limit SIZE       dump: largest deleted file saved in the images (bytes,\n"
	       "                           or with a K, M or G suffix; default 64M)\n"
	       "  -R|--leave-running       keep the tree running after dump\n"
	       "  -s|--leave-stopped       leave the tree stopped after dump\n"
	       "  -d|--restore-detached    detach from the restored tree\n"
	       "  --pidfile FILE           write the restored root's PID, relative to the work dir\n"
	       "  --timeout N              seconds to wait for the tree to freeze\n"
	       "  --freeze-cgroup PATH     dump: freeze this cgroup (v1 freezer or v2), which holds\n"
	       "                           the whole tree, while the tree is seized\n"
	       "  --no-default-config      do not read default configuration files\n");
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	v = strtol(s, &end, 10);
	if (!*s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* CRIU's sizes: a number of bytes, or of KiB, MiB, GiB with a K, M or G suffix. */
static int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	case '\0':
		break;
	default:
		return -1;
	}
	if (shift && end[1])
		return -1;
	if (v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_verbosity(struct cr_options *opts, const char *arg)
{
	long v;

	if (!arg) {
		opts->log_level++;
		return 0;
	}
	if (arg[0] == 'v') {
		/* -vvv: each v raises the level */
		opts->log_level += 1 + strspn(arg, "v");
		if (arg[strspn(arg, "v")])
			return -1;
		return 0;
	}
	if (parse_int(arg, 0, 4, &v))
		return -1;
	opts->log_level = v;
	return 0;
}

/* fd[N]:KEY, as CRIU takes it */
static int parse_inherit_fd(const char *arg, struct cr_options *opts)
{
	struct inherit_fd *n;
	int fd, len = 0;

	if (sscanf(arg, "fd[%d]:%n", &fd, &len) != 1 || !len || fd < 0 || !arg[len]) {
		pr_err("bad --inherit-fd '%s': it is fd[N]:KEY, for example fd[3]:pipe:[12345]\n", arg);
		return -1;
	}
	n = xrealloc(opts->inherit_fds, sizeof(*n) * (opts->nr_inherit_fds + 1));
	if (!n)
		return -1;
	opts->inherit_fds = n;
	n[opts->nr_inherit_fds].fd = fd;
	n[opts->nr_inherit_fds].key = (char *)arg + len;
	opts->nr_inherit_fds++;
	return 0;
}

/* -x, --ext-unix-sk[=INODE[,INODE...]]: all unix sockets connected outside, or those (or their peers) */
static int parse_ext_unix_sk(const char *arg, struct cr_options *opts)
{
	const char *p = arg;
	uint32_t *n;
	char *end;

	if (!arg) {
		opts->ext_unix_sk_all = true;
		return 0;
	}
	while (*p) {
		unsigned long ino = strtoul(p, &end, 10);

		if (end == p || ino == 0 || ino > UINT32_MAX || (*end && *end != ',')) {
			pr_err("bad --ext-unix-sk '%s': socket inode numbers, separated by commas\n", arg);
			return -1;
		}
		n = xrealloc(opts->ext_unix_inos, sizeof(*n) * (opts->nr_ext_unix_inos + 1));
		if (!n)
			return -1;
		opts->ext_unix_inos = n;
		n[opts->nr_ext_unix_inos++] = ino;
		p = *end ? end + 1 : end;
	}
	return 0;
}

/* Only the kinds of --external we honour; CRIU's others (mnt[], dev[], net[], ...) are refused by name. */
static int parse_external(const char *arg, struct cr_options *opts)
{
	unsigned long long ino;
	char **n;
	int len = 0;

	if ((sscanf(arg, "pipe:[%llu]%n", &ino, &len) != 1 && sscanf(arg, "socket:[%llu]%n", &ino, &len) != 1) ||
	    arg[len]) {
		pr_err("--external %s is not supported yet: only pipe:[INODE] and socket:[INODE]\n", arg);
		return -1;
	}
	n = xrealloc(opts->externals, sizeof(*n) * (opts->nr_externals + 1));
	if (!n)
		return -1;
	opts->externals = n;
	n[opts->nr_externals++] = (char *)arg;
	return 0;
}

static int apply_option(struct cr_options *opts, int c, const char *arg, const char *name)
{
	long v;

	switch (c) {
	case 't':
		if (parse_int(arg, 1, 0x7fffffff, &v)) {
			pr_err("bad PID '%s' for -t/--tree\n", arg);
			return -1;
		}
		opts->tree_pid = v;
		break;
	case 's':
		opts->leave_stopped = true;
		break;
	case 'R':
		opts->leave_running = true;
		break;
	case 'd':
		opts->restore_detached = true;
		break;
	case 'D':
		opts->images_dir = (char *)arg;
		break;
	case 'W':
		opts->work_dir = (char *)arg;
		break;
	case 'o':
		opts->log_file = (char *)arg;
		break;
	case 'v':
		if (parse_verbosity(opts, arg)) {
			pr_err("bad verbosity '%s': use -v0 .. -v4\n", arg);
			return -1;
		}
		if (opts->log_level > LOG_DEBUG)
			opts->log_level = LOG_DEBUG;
		break;
	case 'j':
		opts->shell_job = true;
		break;
	case 'l':
		opts->file_locks = true;
		break;
	case OPT_PIDFILE:
		opts->pidfile = (char *)arg;
		break;
	case OPT_LOG_PID:
		opts->log_pid = true;
		break;
	case OPT_NO_DEFAULT_CONFIG:
		opts->no_default_config = true;
		break;
	case OPT_CONFIG:
		/* read before parsing, by config_build_argv() */
		break;
	case OPT_TIMEOUT:
		if (parse_int(arg, 0, 3600, &v)) {
			pr_err("bad value '%s' for --timeout\n", arg);
			return -1;
		}
		opts->timeout = v;
		break;
	case OPT_DISPLAY_STATS:
		opts->display_stats = true;
		break;
	case OPT_FEATURE:
		opts->features = xrealloc(opts->features, sizeof(char *) * (opts->nr_features + 1));
		if (!opts->features)
			return -1;
		opts->features[opts->nr_features++] = (char *)arg;
		break;
	case OPT_ALL:
		opts->check_all = true;
		break;
	case OPT_TCP_ESTABLISHED:
		opts->tcp_established = true;
		break;
	case OPT_ALLOW_FILE_CHANGES:
		opts->allow_file_changes = true;
		break;
	case OPT_GHOST_LIMIT:
		if (parse_size(arg, &opts->ghost_limit)) {
			pr_err("bad size '%s' for --ghost-limit: a number of bytes, or with a K, M or G suffix\n", arg);
			return -1;
		}
		break;
	case OPT_FREEZE_CGROUP:
		opts->freeze_cgroup = (char *)arg;
		break;
	case OPT_INHERIT_FD:
		return parse_inherit_fd(arg, opts);
	case 'x':
		return parse_ext_unix_sk(arg, opts);
	case OPT_EXTERNAL:
		return parse_external(arg, opts);
	case OPT_ALLOW_OUTSIDE_SHARING:
		opts->allow_outside_sharing = true;
		break;
	case OPT_CHECK_ONLY:
		opts->check_only = true;
		break;
	case OPT_UNSUPPORTED:
		if (!opts->unsupported)
			opts->unsupported = name;
		break;
	default:
		return -1;
	}
	return 0;
}

static enum cr_command find_command(const char *name, bool *supported)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (!strcmp(name, commands[i].name)) {
			*supported = commands[i].supported;
			return commands[i].cmd;
		}
	}
	return CMD_NONE;
}

/*
 * Returns 0 to run opts->command, 1 when the run is already complete
 * (--help, --version), negative on a usage error.
 */
int parse_options(int argc, char **argv, struct cr_options *opts)
{
	static char unsupported_name[64];
	bool supported = true;
	int c, idx;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:sRdSD:W:o:v::jr:hVx::M:L:ln:", long_opts, &idx)) != -1) {
		const char *name = NULL;

		if (c == 'h') {
			usage();
			return 1;
		}
		if (c == 'V') {
			pr_msg("Version: %s\n", CRIU_VERSION);
			return 1;
		}
		if (c == '?') {
			pr_err("unknown option '%s'\n", argv[optind - 1]);
			return -1;
		}
		if (c == ':') {
			pr_err("option '%s' needs an argument\n", argv[optind - 1]);
			return -1;
		}
		if (unsupported_short(c)) {
			if (!opts->unsupported)
				opts->unsupported = unsupported_short(c);
			continue;
		}
		if (c == OPT_UNSUPPORTED) {
			snprintf(unsupported_name, sizeof(unsupported_name), "--%s", long_opts[idx].name);
			name = unsupported_name;
		}
		if (apply_option(opts, c, optarg, name))
			return -1;
	}
	if (optind >= argc) {
		usage();
		return -1;
	}
	opts->command = find_command(argv[optind], &supported);
	if (opts->command == CMD_NONE) {
		pr_err("unknown command '%s'\n", argv[optind]);
		return -1;
	}
	if (!supported) {
		pr_err("command '%s' is not supported yet\n", argv[optind]);
		return -1;
	}
	if (optind + 1 < argc)
		opts->command_arg = argv[optind + 1];
	if (opts->unsupported) {
		pr_err("option %s is not supported yet\n", opts->unsupported);
		return -1;
	}
	return 0;
}
