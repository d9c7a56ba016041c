"""zdtmlib.py: the harness's processes, test runs and checks, shared by
zdtm.py (the test runner and its negative tests) and bench.py."""


import argparse
import ctypes
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEST_DIR = os.path.join(ROOT, 'test')
ZDTM_DIR = os.path.join(TEST_DIR, 'zdtm')
BIN_DIR = os.path.join(ZDTM_DIR, 'bin')
OUT_DIR = os.path.join(TEST_DIR, 'out')
CRIU = os.path.join(ROOT, 'criu', 'criu')

READY_TIMEOUT = 30
DUMP_TIMEOUT = 60
RESTORE_TIMEOUT = 60
GONE_TIMEOUT = 10
EXIT_TIMEOUT = 30
NEG_TIMEOUT = 10        # a failing criu must give up within this
SUITE_TIMEOUT = 25 * 60

PR_SET_CHILD_SUBREAPER = 36
MY_PID = os.getpid()
SUBREAPER = False


class Fail(Exception):
    """A test failed; the message says why."""


def set_subreaper():
    """Become the parent of every orphan below us, restored processes included."""
    global SUBREAPER
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        SUBREAPER = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except OSError:
        SUBREAPER = False


# ---------------------------------------------------------------- processes

def proc_stat(pid):
    """The fields of /proc/PID/stat after the comm, or None if it is gone."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(')') + 2:].split()


def proc_state(pid):
    """R, S, T, Z, ... or None if there is no such process."""
    st = proc_stat(pid)
    return st[0] if st else None


def proc_ppid(pid):
    st = proc_stat(pid)
    return int(st[1]) if st else None


TREE_FIELDS = ('ppid', 'pgid', 'sid', 'zombie', 'threads', 'fds')
ANON_LINK = re.compile(r'^(socket|pipe|net|mnt|user|pid|uts|ipc|cgroup|time):\[\d+\]$')


def proc_fds(pid):
    """{fd: what it is} of pid: paths as they are, sockets and pipes by kind
    only (their inode numbers change with a restore)."""
    fds = {}
    try:
        names = os.listdir('/proc/%d/fd' % pid)
    except OSError:
        return fds
    for name in names:
        try:
            link = os.readlink('/proc/%d/fd/%s' % (pid, name))
        except OSError:
            continue
        m = ANON_LINK.match(link)
        fds[int(name)] = m.group(1) + ':' if m else link
    return fds


def show_fds(fds):
    return ','.join('%d=%s' % kv for kv in sorted(fds.items()))


def proc_info(pid):
    """The TREE_FIELDS of pid (threads: a frozenset of tids), or None."""
    st = proc_stat(pid)
    try:
        tids = frozenset(int(t) for t in os.listdir('/proc/%d/task' % pid))
    except OSError:
        return None
    return st and (int(st[1]), int(st[2]), int(st[3]), st[0] == 'Z', tids, proc_fds(pid))


def show_field(val):
    if isinstance(val, dict):
        return show_fds(val)
    return ','.join(map(str, sorted(val))) if isinstance(val, frozenset) else str(val)


def proc_ancestry(tree, pid):
    """pid's ancestors inside a recorded tree, nearest first."""
    chain = []
    while pid in tree and tree[pid][0] in tree:
        pid = tree[pid][0]
        chain.append(pid)
    return chain


def proc_comm(pid):
    try:
        with open('/proc/%d/comm' % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def proc_tree(root, churner=None):
    """{pid: proc_info(pid)} for root and its descendants, found through
    /proc/PID/task/TID/children (zombies included). The children of a
    process named churner come and go: they are left out."""
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        info = proc_info(pid)
        if info is None or pid in tree:
            continue
        tree[pid] = info
        if churner and proc_comm(pid) == churner:
            continue
        for tid in info[4]:
            try:
                with open('/proc/%d/task/%d/children' % (pid, tid)) as f:
                    todo += [int(c) for c in f.read().split()]
            except OSError:
                pass
    return tree


def proc_cputime(pid):
    """utime + stime in clock ticks."""
    st = proc_stat(pid)
    return int(st[11]) + int(st[12]) if st else None


def proc_status(pid, key):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith(key + ':'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return None


def proc_maps(pid):
    try:
        with open('/proc/%d/maps' % pid) as f:
            return f.read()
    except OSError:
        return ''


def proc_exe(pid):
    try:
        return os.readlink('/proc/%d/exe' % pid)
    except OSError:
        return ''


def owned(pid):
    """Is pid a process this harness started (so that we may kill it)?"""
    if not pid or pid <= 1 or pid == MY_PID:
        return False
    if proc_ppid(pid) == MY_PID:
        return True
    return proc_exe(pid).startswith(ROOT + os.sep)


def reap(pid):
    """Collect pid if it is our exited child. True if it no longer exists."""
    try:
        wpid, _ = os.waitpid(pid, os.WNOHANG)
        if wpid == pid:
            return True
    except ChildProcessError:
        pass
    state = proc_state(pid)
    return state is None or (state in 'ZX' and proc_ppid(pid) != MY_PID)


def wait_exit(pid, timeout):
    """Wait for pid to end. Returns its wait status, -1 if it ended but
    was not our child, None on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            wpid, status = os.waitpid(pid, os.WNOHANG)
            if wpid == pid:
                return status
        except ChildProcessError:
            state = proc_state(pid)
            if state is None or state in 'ZX':
                return -1
        if time.monotonic() > deadline:
            return None
        time.sleep(0.005)


def describe_status(status):
    if status is None:
        return 'still running'
    if status == -1:
        return 'ended'
    if os.WIFEXITED(status):
        return 'exit code %d' % os.WEXITSTATUS(status)
    if os.WIFSIGNALED(status):
        return 'killed by signal %d' % os.WTERMSIG(status)
    return 'status %#x' % status


def kill_pid(pid):
    """SIGKILL one process of ours by pid and reap it."""
    if not owned(pid):
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    wait_exit(pid, 5)


def our_children():
    kids = []
    for entry in os.listdir('/proc'):
        if entry.isdigit() and proc_ppid(int(entry)) == MY_PID:
            kids.append(int(entry))
    return kids


def sweep_children():
    """Kill and reap every process left as our child (orphans come to us
    as the subreaper), by pid, a few rounds for grandchildren."""
    for _ in range(5):
        kids = our_children()
        if not kids:
            return
        for pid in kids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in kids:
            wait_exit(pid, 5)


def tail(path, lines=15):
    try:
        with open(path, errors='replace') as f:
            data = f.read().splitlines()
    except OSError:
        return None
    return data[-lines:]


def unmount_under(path):
    """Unmount whatever a previous run left mounted under path."""
    path = os.path.realpath(path)
    try:
        with open('/proc/self/mountinfo') as f:
            points = [line.split()[4] for line in f]
    except OSError:
        return
    for point in sorted(points, key=len, reverse=True):
        if point == path or point.startswith(path + os.sep):
            subprocess.run(['umount', '-l', point], stderr=subprocess.DEVNULL)


def freeze_cgroup_of(flags):
    """PATH of --freeze-cgroup PATH (or =PATH) in criu options, or None."""
    for i, flag in enumerate(flags):
        if flag == '--freeze-cgroup' or flag.startswith('--freeze-cgroup='):
            return flag.partition('=')[2] or (flags + [None])[i + 1]
    return None


def thaw_cgroup(path, remove=False):
    """Thaw a cgroup a test made; remove it too once its processes are gone."""
    if not path or not os.path.isdir(path):
        return
    for name, val in (('freezer.state', 'THAWED'), ('cgroup.freeze', '0')):
        if os.path.exists(os.path.join(path, name)):
            with open(os.path.join(path, name), 'w') as f:
                f.write(val)
    deadline = time.monotonic() + 2
    while remove and os.path.isdir(path):
        try:
            os.rmdir(path)
        except OSError as e:
            if time.monotonic() > deadline:
                print('warning: cannot remove cgroup %s: %s' % (path, e), file=sys.stderr)
                return
            time.sleep(0.01)


# ---------------------------------------------------------------- tests

def parse_opts(name):
    """Options from the '/* zdtm: ... */' comment of the test's source."""
    opts = {}
    try:
        with open(os.path.join(ZDTM_DIR, name + '.c')) as f:
            head = [f.readline() for _ in range(10)]
    except OSError:
        return opts
    for line in head:
        m = re.search(r'/\*\s*zdtm:(.*?)\*/', line)
        if not m:
            continue
        for tok in shlex.split(m.group(1)):
            key, _, val = tok.partition('=')
            opts[key] = val if _ else '1'
    return opts


def zdtm_tests():
    return sorted(f[:-2] for f in os.listdir(ZDTM_DIR) if f.endswith('.c'))


class TestRun:
    """One run of a zdtm test program, with its files under test/out/OUT."""

    def __init__(self, name, outname=None, env=None, opts=None):
        self.name = name
        self.opts = parse_opts(name) if opts is None else opts
        self.out = os.path.join(OUT_DIR, outname or name)
        self.img = os.path.join(self.out, 'img')
        self.pidfile = os.path.join(self.out, 'test.pid')
        self.outfile = os.path.join(self.out, 'test.out')
        self.log = os.path.join(self.out, 'test.log')
        self.dir = os.path.join(self.out, 'dir')
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.pid = None
        self.pids = set()           # every pid to kill at clean-up
        self.tree = {}              # the tree before the dump (record_tree)
        self.master = self.slave = None
        self.tty_output = b''
        self.logs = []              # (title, path) to show on failure

        unmount_under(self.out)
        shutil.rmtree(self.out, ignore_errors=True)
        os.makedirs(self.out)
        self.add_log('test log', self.log)

    def add_log(self, title, path):
        if (title, path) not in self.logs:
            self.logs.append((title, path))

    def flags(self, kind):
        """criu options from the test's comment, kind 'dump' or 'restore'."""
        return shlex.split(self.opts.get('flags', '')) + \
            shlex.split(self.opts.get(kind + '-opts', ''))

    def leave_running(self):
        flags = self.flags('dump')
        return '--leave-running' in flags or '-R' in flags

    # -- the test process

    def stdio(self):
        """The fds the test starts with: (stdin, stdout, stderr)."""
        if self.opts.get('tty'):
            self.master, self.slave = os.openpty()
            return self.slave, self.slave, self.slave
        if self.opts.get('stdio') == 'devnull':
            return (os.open('/dev/null', os.O_RDONLY),
                    os.open('/dev/null', os.O_WRONLY),
                    os.open('/dev/null', os.O_WRONLY))
        logfd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        if self.opts.get('stdio') == 'file':
            path = os.path.join(self.out, 'stdin.txt')
            with open(path, 'w') as f:
                f.write(''.join('line%d\n' % i for i in range(1, 10)))
            return os.open(path, os.O_RDONLY), logfd, logfd
        return os.open('/dev/null', os.O_RDONLY), logfd, logfd

    def start(self):
        binary = os.path.join(BIN_DIR, self.name)
        if not os.access(binary, os.X_OK):
            raise Fail('%s is not built (make -C test)' % binary)
        fds = self.stdio()
        argv = [binary, '--pidfile=' + self.pidfile, '--outfile=' + self.outfile,
                '--dir=' + self.dir]
        try:
            launcher = subprocess.Popen(argv, cwd=ZDTM_DIR, stdin=fds[0], stdout=fds[1],
                                        stderr=fds[2], env=self.env, start_new_session=True)
        finally:
            for fd in set(fds):
                if fd != self.slave:
                    os.close(fd)
        self.pids.add(launcher.pid)
        try:
            rc = launcher.wait(READY_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Fail('not ready after %ds' % READY_TIMEOUT)
        if rc != 0:
            raise Fail('set-up failed (launcher exit code %d)' % rc)
        self.pid = self.read_pid(self.pidfile)
        self.pids.add(self.pid)
        if proc_state(self.pid) in (None, 'Z', 'X'):
            raise Fail('test process %d is not running after set-up' % self.pid)

    @staticmethod
    def read_pid(path):
        try:
            with open(path) as f:
                return int(f.read().strip())
        except (OSError, ValueError) as e:
            raise Fail('no pid in %s: %s' % (path, e))

    def drain_tty(self):
        while self.master is not None:
            r, _, _ = select.select([self.master], [], [], 0)
            if not r:
                break
            try:
                data = os.read(self.master, 4096)
            except OSError:
                break
            if not data:
                break
            self.tty_output += data

    def check_running(self, what):
        """The process must be alive and not stopped."""
        state = proc_state(self.pid)
        if state is None or state in 'ZX':
            raise Fail('%s: process %d is gone (%s)' % (
                what, self.pid, describe_status(wait_exit(self.pid, 1))))
        if state in 'tT':
            raise Fail('%s: process %d is stopped (state %s)' % (what, self.pid, state))

    def snapshot_maps(self):
        """Remember the test's maps, to compare after a failed dump."""
        self.maps_before = proc_maps(self.pid)

    def check_free(self, what, timeout=5):
        """Wait until the process runs, untraced, without criu's code in
        its memory and with the maps it had at snapshot_maps() (if called).
        Returns the reason it is not so, or None."""
        deadline = time.monotonic() + timeout
        before = getattr(self, 'maps_before', None)
        while True:
            state = proc_state(self.pid)
            tracer = proc_status(self.pid, 'TracerPid')
            maps = proc_maps(self.pid)
            bad = [line for line in maps.splitlines() if 'parasite' in line or 'criu' in line]
            if state is None or state in 'ZX':
                return '%s: process %d is gone (%s)' % (
                    what, self.pid, describe_status(wait_exit(self.pid, 1)))
            if state in 'tT':
                why = 'stopped (state %s)' % state
            elif tracer not in (None, '0'):
                why = 'traced by %s' % tracer
            elif bad:
                why = 'left with mappings: %s' % '; '.join(bad)
            elif before is not None and maps != before:
                old, new = set(before.splitlines()), set(maps.splitlines())
                why = 'left with changed maps: %s' % '; '.join(
                    ['+' + line for line in sorted(new - old)] +
                    ['-' + line for line in sorted(old - new)])
            else:
                return None
            if time.monotonic() > deadline:
                return '%s: process %d is %s' % (what, self.pid, why)
            time.sleep(0.02)

    def check_spinning(self, what):
        """A CPU-bound test must be getting CPU time."""
        t0 = proc_cputime(self.pid)
        time.sleep(0.3)
        t1 = proc_cputime(self.pid)
        if t0 is None or t1 is None or t1 <= t0:
            raise Fail('%s: the test is not running (CPU time %s -> %s)' % (what, t0, t1))

    def job_stop(self):
        """Put the test in a job-control stop, as Ctrl-Z would."""
        os.kill(self.pid, signal.SIGSTOP)
        self.expect_state('T', 'after SIGSTOP')

    def expect_state(self, state, what, timeout=2):
        deadline = time.time() + timeout
        while proc_state(self.pid) != state:
            if time.time() > deadline:
                raise Fail('%s: the test is in state %s, expected %s' % (what, proc_state(self.pid), state))
            time.sleep(0.01)

    def job_cont(self):
        os.kill(self.pid, signal.SIGCONT)
        self.expect_state('R', 'after SIGCONT')

    def stop_and_check(self, what='test'):
        """SIGTERM the test, wait for it, read its verdict."""
        self.check_running('before SIGTERM')
        os.kill(self.pid, signal.SIGTERM)
        status = wait_exit(self.pid, EXIT_TIMEOUT)
        self.drain_tty()
        if status is None:
            raise Fail('%s did not exit within %ds of SIGTERM' % (what, EXIT_TIMEOUT))
        self.pids.discard(self.pid)
        try:
            with open(self.outfile) as f:
                verdict = f.read().strip()
        except OSError:
            raise Fail('%s left no verdict (%s)' % (what, describe_status(status)))
        if verdict != 'PASS':
            raise Fail('%s: %s' % (what, verdict))

    def wait_gone(self, what='after dump'):
        """Wait until the root and every other process of the recorded tree
        are gone (reaped by us, the subreaper, or by their parent).
        Returns the root's wait status."""
        status = wait_exit(self.pid, GONE_TIMEOUT)
        if status is None:
            raise Fail('%s: process %d is still alive (state %s)' %
                       (what, self.pid, proc_state(self.pid)))
        deadline = time.monotonic() + GONE_TIMEOUT
        # and every process the dump took, recorded or not (a churner's child)
        dumped = read_image_pids(os.path.join(self.img, 'pstree.img'))
        left = (set(self.tree) | set(dumped)) - {self.pid}
        while left:
            for pid in list(left):
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
                if proc_state(pid) is None:
                    left.discard(pid)
            if left and time.monotonic() > deadline:
                pid = min(left)
                raise Fail('%s: process %d of the tree is still there (state %s, parent %s)' %
                           (what, pid, proc_state(pid), proc_ppid(pid)))
            time.sleep(0.005)
        return status

    def record_tree(self):
        """Remember the test's process tree, to compare after restore."""
        self.tree = proc_tree(self.pid, self.opts.get('churner'))
        self.pids.update(self.tree)

    def check_tree(self, what, timeout=2):
        """Every recorded process must be back with the same TREE_FIELDS
        (but the root's parent: whoever restored it), the same fd table (no
        fd added or lost, each the same file or kind), and no other process
        may be in the tree. With --shell-job the root stays in criu's
        session and group, so the root's old ones map to its new ones."""
        if not self.tree:
            return
        shell_job = {'--shell-job', '-j'} & set(self.flags('restore'))
        root = self.tree[self.pid]
        deadline = time.monotonic() + timeout
        while True:
            problems = ['process %d was not in the tree' % pid
                        for pid in sorted(set(proc_tree(self.pid, self.opts.get('churner'))) -
                                          set(self.tree))]
            root_now = proc_info(self.pid)
            for pid, rec in sorted(self.tree.items()):
                now = proc_info(pid)
                if now is None:
                    problems.append('process %d is missing' % pid)
                    continue
                churns = self.opts.get('churner') and proc_comm(pid) == self.opts['churner']
                for i, field in enumerate(TREE_FIELDS):
                    if churns and field in ('threads', 'fds'):
                        continue
                    want = rec[i]
                    if shell_job and root_now and field in ('pgid', 'sid') and want == root[i]:
                        want = root_now[i]
                    if now[i] != want and (pid, field) != (self.pid, 'ppid'):
                        problems.append('process %d: %s is %s, expected %s' %
                                        (pid, field, show_field(now[i]), show_field(want)))
            if not problems:
                return
            if time.monotonic() > deadline:
                raise Fail('%s: %s' % (what, '; '.join(problems)))
            time.sleep(0.01)

    # -- criu

    def criu(self, args, outname, timeout, tty=False, env=None, pass_fds=()):
        """Run criu; its stdout and stderr go to OUT/outname (or the tty).
        Returns (exit code, seconds); a timeout kills it and fails."""
        outpath = os.path.join(self.out, outname)
        self.add_log('criu output', outpath)
        if tty and self.slave is not None:
            fds = (self.slave, self.slave, self.slave)
            opened = []
        else:
            fd = os.open(outpath, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            null = os.open('/dev/null', os.O_RDONLY)
            fds = (null, fd, fd)
            opened = [null, fd]
        start = time.monotonic()
        try:
            proc = subprocess.Popen([CRIU] + args, cwd=ROOT, stdin=fds[0], stdout=fds[1],
                                    stderr=fds[2], env=dict(os.environ, **(env or {})),
                                    pass_fds=pass_fds)
        except OSError as e:
            raise Fail('cannot run %s: %s' % (CRIU, e))
        finally:
            for fd in opened:
                os.close(fd)
        self.pids.add(proc.pid)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_pid(proc.pid)
            proc.wait()
            raise Fail('criu %s did not finish within %ds' % (args[0], timeout))
        finally:
            self.drain_tty()
        self.pids.discard(proc.pid)
        return rc, time.monotonic() - start

    def dump(self, extra=()):
        os.makedirs(self.img, exist_ok=True)
        self.add_log('dump.log', os.path.join(self.img, 'dump.log'))
        args = ['dump', '-t', str(self.pid), '-D', self.img, '-o', 'dump.log', '-v4']
        args += self.flags('dump') + list(extra)
        rc, secs = self.criu(args, 'dump.out', DUMP_TIMEOUT)
        if rc != 0:
            raise Fail('criu dump exited with %d' % rc)
        return secs

    def restore(self, imgdir=None, timeout=RESTORE_TIMEOUT, outname='restore.out', env=None,
                extra=(), pass_fds=()):
        """criu restore -d; returns (exit code, seconds) without judging."""
        imgdir = imgdir or self.img
        self.add_log('restore.log', os.path.join(imgdir, 'restore.log'))
        args = ['restore', '-D', imgdir, '-d', '-o', 'restore.log', '-v4',
                '--pidfile', 'restore.pid'] + self.flags('restore') + list(extra)
        return self.criu(args, outname, timeout, tty=True, env=env, pass_fds=pass_fds)

    def restore_attached(self):
        """criu restore without -d, left running as the test's parent."""
        self.add_log('restore.log', os.path.join(self.img, 'restore.log'))
        outpath = os.path.join(self.out, 'restore.out')
        self.add_log('criu output', outpath)
        pidfile = os.path.join(self.img, 'restore.pid')
        fd = os.open(outpath, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        null = os.open('/dev/null', os.O_RDONLY)
        try:
            self.attached = subprocess.Popen(
                [CRIU, 'restore', '-D', self.img, '-o', 'restore.log', '-v4', '--pidfile', 'restore.pid'] +
                self.flags('restore'), cwd=ROOT, stdin=null, stdout=fd, stderr=fd)
        finally:
            os.close(fd)
            os.close(null)
        self.pids.add(self.attached.pid)
        deadline = time.monotonic() + RESTORE_TIMEOUT
        while not os.path.exists(pidfile):
            rc = self.attached.poll()
            if rc is not None:
                raise Fail('criu restore (attached) exited with %d before the pid file appeared' % rc)
            if time.monotonic() > deadline:
                raise Fail('criu restore (attached) wrote no pid file within %ds' % RESTORE_TIMEOUT)
            time.sleep(0.005)
        return 0, 0

    def check_attached_exit(self):
        """Without -d, criu must end with the status of the restored test (0: PASS)."""
        try:
            rc = self.attached.wait(EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Fail('criu restore (attached) did not exit after the test ended')
        self.pids.discard(self.attached.pid)
        if rc != 0:
            raise Fail('criu restore (attached) exited with %d, the test exited with 0' % rc)

    def restore_ok(self, env=None, extra=(), pass_fds=()):
        if self.opts.get('attached'):
            rc, secs = self.restore_attached()
        else:
            rc, secs = self.restore(env=env, extra=extra, pass_fds=pass_fds)
        if rc != 0:
            raise Fail('criu restore exited with %d' % rc)
        pid = self.read_pid(os.path.join(self.img, 'restore.pid'))
        self.pids.add(pid)
        if pid != self.pid:
            raise Fail('restored with pid %d, expected %d' % (pid, self.pid))
        if not self.opts.get('stopped'):
            self.check_running('after restore')
        return secs

    def check_pages(self):
        lo, hi = self.opts.get('pages-min'), self.opts.get('pages-max')
        if lo is None and hi is None:
            return
        size = sum(os.path.getsize(os.path.join(self.img, f)) for f in os.listdir(self.img)
                   if f.startswith('pages-'))
        mib = size / (1 << 20)
        if (lo is not None and mib < float(lo)) or (hi is not None and mib > float(hi)):
            raise Fail('pages images hold %.1f MiB, expected %s..%s MiB' % (mib, lo, hi))

    # -- clean-up and reporting

    def cleanup(self):
        cgroup = freeze_cgroup_of(self.flags('dump'))
        thaw_cgroup(cgroup)     # a frozen task would die only once thawed
        for pid in sorted(self.pids):
            kill_pid(pid)
        self.pids.clear()
        sweep_children()
        thaw_cgroup(cgroup, remove=True)
        self.drain_tty()
        if self.tty_output:
            path = os.path.join(self.out, 'tty.log')
            with open(path, 'wb') as f:
                f.write(self.tty_output)
            self.add_log('terminal', path)
        for fd in (self.master, self.slave):
            if fd is not None:
                os.close(fd)
        self.master = self.slave = None

    def report(self):
        text = []
        for title, path in self.logs:
            lines = tail(path)
            if lines:
                text.append('  --- %s (%s)' % (title, os.path.relpath(path, ROOT)))
                text += ['  | ' + line for line in lines]
        return '\n'.join(text)


def run_zdtm(name, nocr):
    t = TestRun(name)
    try:
        t.start()
        if t.opts.get('spin'):
            t.check_spinning('before dump')
        if t.opts.get('stopped'):
            t.job_stop()
        t.record_tree()
        if nocr:
            t.check_tree('without dump')
            if t.opts.get('stopped'):
                t.job_cont()
            t.stop_and_check()
            t.wait_gone('after the test ended')
            return t, None
        if not os.access(CRIU, os.X_OK):
            raise Fail('%s is not built' % CRIU)
        t.snapshot_maps()
        t.dump()
        t.check_pages()
        if t.leave_running():
            why = t.check_free('after dump --leave-running', timeout=2)
            if why:
                raise Fail(why)
            if t.opts.get('spin'):
                t.check_spinning('after dump --leave-running')
            t.stop_and_check('the original, left running')
            t.wait_gone('after the original ended')
            os.unlink(t.outfile)
            t.pids.add(t.pid)
        else:
            status = t.wait_gone()
            if status >= 0 and not os.WIFSIGNALED(status):
                raise Fail('the dumped process ended by itself (%s)' % describe_status(status))
        t.restore_ok()
        t.check_tree('after restore')
        if t.opts.get('stopped'):
            t.expect_state('T', 'after restore')
            t.job_cont()
        if t.opts.get('spin'):
            t.check_spinning('after restore')
        t.stop_and_check('the restored test')
        if t.opts.get('attached'):
            t.check_attached_exit()
        t.wait_gone('after the test ended')
        return t, None
    except Fail as e:
        return t, str(e)
    finally:
        t.cleanup()


def read_varint(data, pos):
    val = shift = 0
    while True:
        b = data[pos]
        pos += 1
        val |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            return val, pos


def read_image_pids(path):
    """The pid (field 1) of every entry of a pstree.img."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError:
        return []
    pids, pos = [], 4
    while pos + 4 <= len(data):
        size = int.from_bytes(data[pos:pos + 4], 'little')
        msg, pos, p = data[pos + 4:pos + 4 + size], pos + 4 + size, 0
        while p < len(msg):
            key, p = read_varint(msg, p)
            val, p = read_varint(msg, p)
            if key == 1 << 3:
                pids.append(val)
                break
    return pids
