#!/usr/bin/env python3
"""zdtm.py: the checkpoint/restore test harness.

    python3 test/zdtm.py run --all            every test, with dump/restore
    python3 test/zdtm.py run -t NAME [-t ..]  the named tests
    python3 test/zdtm.py run --all --nocr     the tests alone, no dump/restore
    python3 test/zdtm.py list                 the test names

A test is a program test/zdtm/bin/NAME built from test/zdtm/NAME.c (see
test/lib/zdtmtst.h for its side of the protocol). For each test the harness
makes test/out/NAME/, starts the test, waits until it is ready, records
its process tree (every descendant, with its parent, group, session,
threads and zombie state), dumps it with criu/criu, checks that the dump
killed the whole tree, restores it detached, checks that it got its pid
back and that the tree is the recorded one, sends the root SIGTERM, reads
its verdict and checks that no process of the tree is left. With --nocr
the tree is compared with itself, which checks the test's set-up is stable.

Per-test options come from a comment in the first lines of the source:

    /* zdtm: flags=--shell-job tty=1 */

  flags=...        criu options for both dump and restore
  dump-opts=...    criu options for dump only
  restore-opts=... criu options for restore only
  tty=1            run the test (and criu restore) on a pseudo-terminal
  stdio=devnull    stdin, stdout and stderr on /dev/null
  stdio=file       stdin on a file (test/out/NAME/stdin.txt), out/err on the log
  spin=1           the test is CPU-bound: its CPU time must keep growing
  attached=1       restore without -d: criu stays the parent of the test and
                   must exit with the test's own status
  churner=COMM     the children and threads of the test's processes named
                   COMM come and go all the time: the tree checks leave
                   them out
  stopped=1        SIGSTOP the test before the dump; it must come back stopped,
                   then the harness sends SIGCONT
  pages-min=N      after dump the pages images must hold at least N MiB
  pages-max=N      ... and at most N MiB
  refused=WHAT     criu must refuse to dump the test (WHAT names why): it is
                   run only with --nocr or by its negative test

A dump with --leave-running (-R) in its options switches to that flow: the
original must keep running untraced and pass its check, then the images
are restored and the restored copy must pass too. A dump with
--freeze-cgroup PATH names the test's own cgroup: the test makes and
removes it, and the clean-up thaws and removes it if the test could not.

Negative tests (names starting with neg_) are functions below: criu must
fail cleanly on bad targets, damaged images, a killed dumper, a full
images directory and a tree outside its --freeze-cgroup.

Each test prints one line, "PASS name (1.2s)" or "FAIL name: reason" with
the ends of the logs, and the run ends with "N passed, N failed". The exit
status is 1 if any test failed.
"""

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


TREE_FIELDS = ('ppid', 'pgid', 'sid', 'zombie', 'threads')


def proc_info(pid):
    """The TREE_FIELDS of pid (threads: a frozenset of tids), or None."""
    st = proc_stat(pid)
    try:
        tids = frozenset(int(t) for t in os.listdir('/proc/%d/task' % pid))
    except OSError:
        return None
    return st and (int(st[1]), int(st[2]), int(st[3]), st[0] == 'Z', tids)


def show_field(val):
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
        (but the root's parent: whoever restored it), and no other process
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
                    if churns and field == 'threads':
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

    def criu(self, args, outname, timeout, tty=False, env=None):
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
                                    stderr=fds[2], env=dict(os.environ, **(env or {})))
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

    def restore(self, imgdir=None, timeout=RESTORE_TIMEOUT, outname='restore.out', env=None):
        """criu restore -d; returns (exit code, seconds) without judging."""
        imgdir = imgdir or self.img
        self.add_log('restore.log', os.path.join(imgdir, 'restore.log'))
        args = ['restore', '-D', imgdir, '-d', '-o', 'restore.log', '-v4',
                '--pidfile', 'restore.pid'] + self.flags('restore')
        return self.criu(args, outname, timeout, tty=True, env=env)

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

    def restore_ok(self):
        if self.opts.get('attached'):
            rc, secs = self.restore_attached()
        else:
            rc, secs = self.restore()
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


# ---------------------------------------------------------------- negative tests

NEGATIVE = {}
NOTES = []      # details a negative test gives, shown with -v or on failure


def note(text):
    NOTES.append(text)


def negative(func):
    NEGATIVE['neg_' + func.__name__] = func
    return func


def expect_fail(cmd, what, outdir, timeout=NEG_TIMEOUT):
    """Run cmd, expect it to fail within timeout with an error message on
    stderr (kept in OUTDIR/criu.err)."""
    start = time.monotonic()
    try:
        res = subprocess.run(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Fail('%s did not fail within %ds' % (what, timeout))
    secs = time.monotonic() - start
    err = res.stderr.decode(errors='replace')
    with open(os.path.join(outdir, 'criu.err'), 'w') as f:
        f.write(err + res.stdout.decode(errors='replace'))
    if res.returncode == 0:
        raise Fail('%s succeeded' % what)
    if 'error' not in err.lower():
        raise Fail('%s exited with %d after %.1fs without an error message on stderr: %r'
                   % (what, res.returncode, secs, err[-300:]))
    note('%s: exit code %d in %.2fs: %s' % (what, res.returncode, secs, err.strip()))


def neg_out(name):
    out = os.path.join(OUT_DIR, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    return out


@negative
def dump_nopid():
    """criu dump of a pid that does not exist."""
    out = neg_out('neg_dump_nopid')
    with open('/proc/sys/kernel/pid_max') as f:
        pid = int(f.read()) - 1
    while proc_state(pid) is not None:
        pid -= 1
    expect_fail([CRIU, 'dump', '-t', str(pid), '-D', out], 'criu dump of a free pid', out)


@negative
def dump_kthread():
    """criu dump of kthreadd (pid 2): a kernel thread."""
    out = neg_out('neg_dump_kthread')
    if proc_status(2, 'Name') != 'kthreadd':
        raise Fail('pid 2 is not kthreadd here')
    expect_fail([CRIU, 'dump', '-t', '2', '-D', out], 'criu dump of kthreadd', out)
    if proc_state(2) in (None, 'T', 't'):
        raise Fail('kthreadd is %s' % proc_state(2))


@negative
def dump_self():
    """criu dump of its own pid."""
    out = neg_out('neg_dump_self')
    cmd = 'exec "$0" dump -t $$ -D "$1"'
    expect_fail(['sh', '-c', cmd, CRIU, out], 'criu dump of itself', out)


def expect_untouched(t, what):
    why = t.check_free(what)
    if why:
        raise Fail(why)
    t.stop_and_check('the target')


@negative
def dump_seccomp():
    """A process under a seccomp filter: the dump is refused, naming the
    process and seccomp, and the process passes its own check after."""
    t = TestRun('seccomp_filter', 'neg_dump_seccomp')
    try:
        t.start()
        t.snapshot_maps()
        expect_fail([CRIU, 'dump', '-t', str(t.pid), '-D', t.out],
                    'criu dump of a process under seccomp', t.out)
        with open(os.path.join(t.out, 'criu.err')) as f:
            err = f.read()
        if 'seccomp' not in err or str(t.pid) not in err:
            raise Fail('the refusal does not name seccomp and process %d: %r' % (t.pid, err[-300:]))
        expect_untouched(t, 'after the refused dump')
    finally:
        t.cleanup()


@negative
def dump_refused():
    """What the images can't carry yet (a pending signal, an interval timer,
    a POSIX timer, a file lock, a namespace of its own): the dump is refused, naming the process and the
    resource, and the process goes on as it was."""
    for name, word in (('refused_pending_signal', 'pending signals'),
                       ('refused_itimer', 'interval timers'),
                       ('refused_posix_timer', 'POSIX timers'),
                       ('refused_file_lock', 'file lock'),
                       ('refused_namespace', 'uts namespace'),
                       ('refused_thread_creds', 'credentials')):
        t = TestRun(name, 'neg_dump_refused')
        try:
            t.start()
            t.snapshot_maps()
            expect_fail([CRIU, 'dump', '-t', str(t.pid), '-D', t.out], 'criu dump of ' + name, t.out)
            with open(os.path.join(t.out, 'criu.err')) as f:
                err = f.read()
            if word not in err or str(t.pid) not in err:
                raise Fail('%s: the refusal does not name %s and process %d: %r' %
                           (name, word, t.pid, err[-300:]))
            note('%s: %s' % (name, err.strip().splitlines()[0]))
            expect_untouched(t, '%s after the refused dump' % name)
        finally:
            t.cleanup()


@negative
def dump_freeze_cgroup():
    """--freeze-cgroup with tree_freeze_cgroup (in a v1 freezer cgroup of its
    own): refused for a cgroup the tree is not in, and for a tree with a
    child moved out of it, naming the process; criu killed while the cgroup
    is frozen: its guard thaws it. Each time the cgroup is left thawed and
    the tree untraced; at the end the test checks its children and passes."""
    t = TestRun('tree_freeze_cgroup', 'neg_dump_freeze_cgroup')
    cgroup = freeze_cgroup_of(t.flags('dump'))
    other = os.path.join(os.path.dirname(cgroup), 'zdtm_neg_freeze_other')
    dump = lambda path: [CRIU, 'dump', '-t', str(t.pid), '-D', t.img, '-v4', '-o', 'dump.log',
                         '--freeze-cgroup=' + path]

    def expect_state(path, want, what, timeout=5):
        deadline = time.monotonic() + timeout
        while open(os.path.join(path, 'freezer.state')).read().strip() != want:
            if time.monotonic() > deadline:
                raise Fail('%s: %s is not %s' % (what, path, want))
            time.sleep(0.005)
        why = want == 'THAWED' and t.check_free(what)
        if why:
            raise Fail(why)

    def refused(path, pid):
        expect_fail(dump(path), 'criu dump --freeze-cgroup=' + path, t.out)
        err = open(os.path.join(t.out, 'criu.err')).read()
        if 'not in cgroup' not in err or str(pid) not in err:
            raise Fail('the refusal does not name process %d outside %s: %r' % (pid, path, err[-300:]))
        expect_state(path, 'THAWED', 'after the refused dump with ' + path, 0)

    try:
        t.start()
        t.snapshot_maps()
        os.makedirs(t.img)
        os.makedirs(other, exist_ok=True)
        refused(other, t.pid)
        # criu holds the cgroup frozen (a hook for the tests) and is killed there
        t.add_log('dump.log', os.path.join(t.img, 'dump.log'))
        proc = subprocess.Popen(dump(cgroup), cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=dict(os.environ, CRIU_FAULT_FROZEN_HOLD_MS='10000'))
        t.pids.add(proc.pid)
        deadline = time.monotonic() + DUMP_TIMEOUT
        while 'holding the cgroup frozen' not in ''.join(tail(os.path.join(t.img, 'dump.log'), 50) or []):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise Fail('criu did not hold the cgroup frozen (exit %s)' % proc.poll())
            time.sleep(0.005)
        expect_state(cgroup, 'FROZEN', 'while criu holds it frozen', 0)
        kill_pid(proc.pid)
        expect_state(cgroup, 'THAWED', 'after criu was killed with the cgroup frozen')
        note('criu killed while frozen: %s thawed by the guard' % cgroup)
        kids = open('/proc/%d/task/%d/children' % (t.pid, t.pid)).read().split()
        kid = next(int(p) for p in kids if proc_comm(int(p)) != 'churner')
        with open(os.path.join(os.path.dirname(cgroup), 'cgroup.procs'), 'w') as f:
            f.write(str(kid))
        refused(cgroup, kid)
        expect_untouched(t, 'after the refused dumps')
    finally:
        t.cleanup()
        thaw_cgroup(other, remove=True)


@negative
def dump_pipe_outside():
    """A pipe the test shares with a process outside its tree (its stdout
    is a pipe whose read end the harness keeps): the dump must be refused,
    naming the pipe and the outside pid, and the test must go on and pass."""
    t = TestRun('busyloop', 'neg_dump_pipe_outside')
    rfd, wfd = os.pipe()
    null = os.open('/dev/null', os.O_RDONLY)
    t.stdio = lambda: (null, wfd, wfd)    # start() closes these once the test has them
    try:
        t.start()
        t.snapshot_maps()
        expect_fail([CRIU, 'dump', '-t', str(t.pid), '-D', t.out], 'criu dump', t.out)
        with open(os.path.join(t.out, 'criu.err')) as f:
            err = f.read()
        if 'pipe:[' not in err or str(MY_PID) not in err:
            raise Fail('the refusal does not name the pipe and process %d: %r' % (MY_PID, err[-300:]))
        note(err.strip().splitlines()[0])
        expect_untouched(t, 'after the refused dump')
    finally:
        os.close(rfd)
        t.cleanup()


@negative
def restore_file_changed():
    """A privately mapped file that changed after the dump: its unmodified
    pages are read from the file, so restore must refuse, naming the file,
    and leave nothing behind."""
    t = TestRun('mem_file_private', 'neg_restore_file_changed')
    try:
        t.start()
        t.dump()
        t.wait_gone()
        datadir = os.path.join(t.out, 'dir')
        files = [f for f in os.listdir(datadir) if os.path.isfile(os.path.join(datadir, f))]
        if not files:
            raise Fail('the test made no file in %s' % datadir)
        path = os.path.join(datadir, files[0])
        with open(path, 'ab') as f:
            f.write(b'x')
        rc, secs = t.restore(timeout=NEG_TIMEOUT, outname='restore-changed.out')
        with open(os.path.join(t.out, 'restore-changed.out'), errors='replace') as f:
            err = f.read()
        note('restore after %s changed: rc %d: %s' % (files[0], rc, err.strip()[:200]))
        if rc == 0:
            raise Fail('restore succeeded although %s changed' % path)
        if files[0] not in err or 'changed since the dump' not in err:
            raise Fail('the error does not name the changed file: %r' % err[-300:])
        deadline = time.monotonic() + 2
        while not reap(t.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        if not reap(t.pid):
            raise Fail('a process %d (state %s) is left' % (t.pid, proc_state(t.pid)))
    finally:
        t.cleanup()


@negative
def restore_pid_busy():
    """Restore while the dumped process still runs (dump --leave-running):
    its pid is in use, so restore fails at once, naming the pid, creates
    nothing, and the original goes on and passes its check."""
    t = TestRun('threads_glibc', 'neg_restore_pid_busy')
    try:
        t.start()
        t.dump(extra=['--leave-running'])
        rc, secs = t.restore(timeout=NEG_TIMEOUT, outname='restore-busy.out')
        with open(os.path.join(t.out, 'restore-busy.out'), errors='replace') as f:
            err = f.read()
        note('restore with pid %d in use: rc %d in %.2fs: %s' % (t.pid, rc, secs, err.strip()[:200]))
        if rc == 0:
            raise Fail('restore succeeded although pid %d is in use' % t.pid)
        if str(t.pid) not in err or 'in use' not in err:
            raise Fail('the error does not say pid %d is in use: %r' % (t.pid, err[-300:]))
        if os.path.exists(os.path.join(t.img, 'restore.pid')):
            raise Fail('a pid file was written by the failed restore')
        t.stop_and_check('the original, after the refused restore')
    finally:
        t.cleanup()


@negative
def restore_tree_fails():
    """A process deep in the tree fails while the tree is being built (a
    fault criu injects for tests): restore fails, every process it created
    is gone at once and every pid is free; then the same images restore
    and the tree passes its check."""
    t = TestRun('tree_sessions', 'neg_restore_tree_fails')
    try:
        t.start()
        t.record_tree()
        t.dump()
        t.wait_gone()
        live = [pid for pid, rec in t.tree.items() if not rec[3] and pid != t.pid]
        victim = max(live, key=lambda pid: (len(proc_ancestry(t.tree, pid)), pid))
        rc, secs = t.restore(timeout=NEG_TIMEOUT, outname='restore-fault.out',
                             env={'CRIU_FAULT_RESTORE_PID': str(victim)})
        note('restore with process %d failing: rc %d in %.2fs' % (victim, rc, secs))
        if rc == 0:
            raise Fail('restore succeeded although process %d failed' % victim)
        left = [pid for pid in t.tree if proc_state(pid) is not None]
        if left:
            raise Fail('the failed restore left processes behind: %s' % left)
        if os.path.exists(os.path.join(t.img, 'restore.pid')):
            raise Fail('a pid file was written by the failed restore')
        t.restore_ok()
        t.check_tree('after the second restore')
        t.stop_and_check('the tree restored after a failed attempt')
    finally:
        t.cleanup()


@negative
def dump_noperm():
    """criu run as nobody against a root process."""
    t = TestRun('pid_comm_exe', 'neg_dump_noperm')
    try:
        t.start()
        t.snapshot_maps()
        os.makedirs(t.img)
        os.chown(t.img, 65534, 65534)
        expect_fail(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups',
                     CRIU, 'dump', '-t', str(t.pid), '-D', t.img],
                    'criu dump run as nobody', t.out)
        expect_untouched(t, 'after the refused dump')
    finally:
        t.cleanup()


def damage_file(path, how):
    if how == 'truncate':
        size = os.path.getsize(path)
        os.truncate(path, max(0, size // 2 - 1))
    elif how == 'empty':
        os.truncate(path, 0)
    elif how == 'magic':
        with open(path, 'r+b') as f:
            f.write(b'\xef\xbe\xad\xde')


def read_varint(data, pos):
    val = shift = 0
    while True:
        b = data[pos]
        pos += 1
        val |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            return val, pos


def flip_entry_byte(path):
    """Make the first entry of an image undecodable: turn the key of the
    length-delimited field nearest its middle into wire type 7."""
    with open(path, 'rb') as f:
        data = bytearray(f.read())
    size = int.from_bytes(data[4:8], 'little')
    start, end = 8, 8 + size
    keys = []
    pos = start
    while pos < end:
        key, npos = read_varint(data, pos)
        wire = key & 7
        if wire == 0:
            _, npos = read_varint(data, npos)
        elif wire == 1:
            npos += 8
        elif wire == 2:
            keys.append(pos)
            length, npos = read_varint(data, npos)
            npos += length
        elif wire == 5:
            npos += 4
        else:
            break
        pos = npos
    middle = (start + end) // 2
    where = min(keys, key=lambda k: abs(k - middle)) if keys else middle
    data[where] ^= 0x05
    with open(path, 'wb') as f:
        f.write(data)
    return where


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


def set_entry_field(path, index, field, value, skip_head=False):
    """Rewrite varint field `field` of entry `index` of an image whose
    entries hold only varint fields (after a head entry if skip_head)."""
    with open(path, 'rb') as f:
        data = f.read()
    out, pos, n = bytearray(data[:4]), 4, 0
    want = index + 1 if skip_head else index
    while pos < len(data):
        size = int.from_bytes(data[pos:pos + 4], 'little')
        msg, pos = data[pos + 4:pos + 4 + size], pos + 4 + size
        if n == want:
            fields, p = [], 0
            while p < len(msg):
                key, p = read_varint(msg, p)
                val, p = read_varint(msg, p)
                fields.append((key >> 3, value if key >> 3 == field else val))
            msg = b''.join(pb_varint(k << 3) + pb_varint(v) for k, v in fields)
        out += len(msg).to_bytes(4, 'little') + msg
        n += 1
    with open(path, 'wb') as f:
        f.write(out)


def set_pagemap_flags(path, index, flags):
    """Rewrite the flags of pagemap entry index (after the head)."""
    set_entry_field(path, index, 3, flags, skip_head=True)


def pb_varint(v):
    out = bytearray()
    while True:
        b = v & 0x7f
        v >>= 7
        if not v:
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def write_pstree(path, entries):
    """A pstree.img of hand-encoded pstree_entry messages (images/pstree.proto):
    entries are (pid, ppid, pgid, sid, [threads][, zombie_status]); any shape
    can be written."""
    data = (0x43524932).to_bytes(4, 'little')
    for pid, ppid, pgid, sid, threads, *zombie in entries:
        msg = b''
        for num, val in ((1, pid), (2, ppid), (3, pgid), (4, sid)):
            msg += pb_varint(num << 3) + pb_varint(val)
        for tid in threads:
            msg += pb_varint(5 << 3) + pb_varint(tid)
        for status in zombie:
            msg += pb_varint(6 << 3) + pb_varint(status)
        data += len(msg).to_bytes(4, 'little') + msg
    with open(path, 'wb') as f:
        f.write(data)


@negative
def corrupt_images():
    """Restores from damaged copies of a dump must fail cleanly."""
    t = TestRun('busyloop', 'neg_corrupt_images')
    try:
        t.start()
        t.dump()
        t.wait_gone()
        pid = t.pid
        pages = sorted(f for f in os.listdir(t.img) if f.startswith('pages-'))
        if not pages:
            raise Fail('the dump made no pages image')
        core, mm = 'core-%d.img' % pid, 'mm-%d.img' % pid
        fdinfo = 'fdinfo-%d.img' % pid

        def bad_pstree(entries):
            return lambda d: write_pstree(os.path.join(d, 'pstree.img'), entries)

        cases = [
            ('truncated-core', [core], lambda d: damage_file(os.path.join(d, core), 'truncate')),
            ('flipped-mm', [mm], lambda d: flip_entry_byte(os.path.join(d, mm))),
            ('no-pagemap', ['pagemap-%d.img' % pid],
             lambda d: os.unlink(os.path.join(d, 'pagemap-%d.img' % pid))),
            ('truncated-pages', [pages[0]],
             lambda d: damage_file(os.path.join(d, pages[0]), 'truncate')),
            ('bad-inventory-magic', ['inventory.img'],
             lambda d: damage_file(os.path.join(d, 'inventory.img'), 'magic')),
            ('swapped-mm-core', [core, mm], lambda d: swap(d, core, mm)),
            ('empty-files', ['files.img'],
             lambda d: damage_file(os.path.join(d, 'files.img'), 'empty')),
            # the tree's shape, checked before anything is created
            ('pstree-loop', ['pstree.img'], bad_pstree([
                (pid, 1, pid, pid, [pid]), (pid + 1, pid + 2, pid, pid, [pid + 1]),
                (pid + 2, pid + 1, pid, pid, [pid + 2])])),
            ('pstree-duplicate-pid', ['pstree.img'], bad_pstree([(pid, 1, pid, pid, [pid, pid])])),
            ('pstree-thread-without-process', ['pstree.img'],
             bad_pstree([(pid, 1, pid, pid, [pid + 7])])),
            ('pstree-zombie-root', ['pstree.img'], bad_pstree([(pid, 1, pid, pid, [pid], 0)])),
            ('pstree-zombie-stopped', ['pstree.img'], bad_pstree([
                (pid, 1, pid, pid, [pid]), (pid + 1, pid, pid, pid, [pid + 1], 0x137f)])),
            # pages said to be in the parent's images, but the root has no parent
            ('pagemap-cow-in-root', ['pagemap-%d.img' % pid],
             lambda d: set_pagemap_flags(os.path.join(d, 'pagemap-%d.img' % pid), 0, 8)),
            # fds: a description files.img lacks, an absurd fd number, a file used as a socket
            ('fdinfo-missing-file', [fdinfo],
             lambda d: set_entry_field(os.path.join(d, fdinfo), 0, 2, 99999)),
            ('fdinfo-huge-fd', [fdinfo],
             lambda d: set_entry_field(os.path.join(d, fdinfo), 0, 1, 0xffffffff)),
            ('fdinfo-file-as-socket', [fdinfo],
             lambda d: set_entry_field(os.path.join(d, fdinfo), 0, 3, 4)),
        ]
        problems = []
        for case, names, damage in cases:
            d = os.path.join(t.out, 'img-' + case)
            shutil.copytree(t.img, d)
            for f in ('dump.log', 'restore.log', 'restore.pid'):
                if os.path.exists(os.path.join(d, f)):
                    os.unlink(os.path.join(d, f))
            damage(d)
            outname = 'restore-%s.out' % case
            rc, secs = t.restore(d, timeout=NEG_TIMEOUT, outname=outname)
            text = ''
            for path in (os.path.join(t.out, outname), os.path.join(d, 'restore.log')):
                try:
                    with open(path, errors='replace') as f:
                        text += f.read()
                except OSError:
                    pass
            if rc == 0:
                problems.append('%s: restore succeeded' % case)
                kill_pid(pid)
                continue
            if not any(n in text for n in names):
                problems.append('%s: the error output does not name %s' %
                                (case, ' or '.join(names)))
            deadline = time.monotonic() + 2
            while not reap(pid) and time.monotonic() < deadline:
                time.sleep(0.01)
            if not reap(pid):
                problems.append('%s: a process %d (state %s) is left' %
                                (case, pid, proc_state(pid)))
                kill_pid(pid)
            note('%s: criu restore failed with %d in %.2fs' % (case, rc, secs))
        if problems:
            raise Fail('; '.join(problems))
        t.restore_ok()
        t.stop_and_check('the test restored from the intact images')
    finally:
        t.cleanup()


def swap(d, a, b):
    pa, pb, tmp = os.path.join(d, a), os.path.join(d, b), os.path.join(d, 'swap.tmp')
    os.rename(pa, tmp)
    os.rename(pb, pa)
    os.rename(tmp, pb)


def parasite_line(path):
    try:
        with open(path, errors='replace') as f:
            for line in f:
                low = line.lower()
                if 'parasite' in low and ('infected' in low or 'daemon' in low):
                    return line.strip()
    except OSError:
        pass
    return None


@negative
def dumper_killed():
    """kill -9 criu while its parasite is in the target."""
    last = None
    for mb in (256, 1024):
        t = TestRun('mem_anon_big', 'neg_dumper_killed', env={'ZDTM_MEM_MB': str(mb)},
                    opts={})
        try:
            t.start()
            t.snapshot_maps()
            os.makedirs(t.img)
            log = os.path.join(t.img, 'dump.log')
            t.add_log('dump.log', log)
            proc = subprocess.Popen([CRIU, 'dump', '-t', str(t.pid), '-D', t.img, '-v4',
                                     '-o', 'dump.log'], cwd=ROOT, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t.pids.add(proc.pid)
            deadline = time.monotonic() + DUMP_TIMEOUT
            line = None
            while proc.poll() is None and time.monotonic() < deadline:
                line = parasite_line(log)
                if line:
                    break
                time.sleep(0.001)
            if line and proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                t.pids.discard(proc.pid)
                note('%d MiB: killed criu after: %s' % (mb, line))
                why = t.check_free('after criu was killed', timeout=5)
                if why:
                    raise Fail(why)
                t.stop_and_check('the target')
                return
            if proc.poll() is None:
                raise Fail('no "parasite ... infected" line in dump.log within %ds'
                           % DUMP_TIMEOUT)
            last = 'criu dump ended (exit %d) before it could be killed%s' % (
                proc.returncode, '' if line else '; no "parasite ... infected" line seen')
            if not line:
                raise Fail(last)
            note('%d MiB: %s, trying a bigger target' % (mb, last))
        finally:
            t.cleanup()
    raise Fail(last)


@negative
def dump_enospc():
    """criu dump into a full images directory (a 64k tmpfs)."""
    t = TestRun('mem_anon_big', 'neg_dump_enospc', opts={})
    mounted = False
    try:
        t.start()
        t.snapshot_maps()
        os.makedirs(t.img)
        res = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', t.img],
                             capture_output=True)
        if res.returncode != 0:
            raise Fail('cannot mount a tmpfs: %s' % res.stderr.decode(errors='replace'))
        mounted = True
        t.add_log('dump.log', os.path.join(t.out, 'dump.log'))
        args = ['dump', '-t', str(t.pid), '-D', t.img, '-W', t.out, '-o', 'dump.log', '-v4']
        rc, secs = t.criu(args, 'dump.out', DUMP_TIMEOUT)
        if rc == 0:
            raise Fail('criu dump into a full directory succeeded')
        text = ''
        for name in ('dump.log', 'dump.out'):
            try:
                with open(os.path.join(t.out, name), errors='replace') as f:
                    text += f.read()
            except OSError:
                pass
        if 'No space left on device' not in text:
            raise Fail('criu dump failed (exit %d) but not for lack of space' % rc)
        expect_untouched(t, 'after the failed dump')
    finally:
        if mounted:
            subprocess.run(['umount', t.img])
            unmount_under(t.img)
        t.cleanup()


def run_negative(name):
    try:
        NEGATIVE[name]()
        return None
    except Fail as e:
        return str(e)


# ---------------------------------------------------------------- main


def cmd_run(args):
    set_subreaper()
    names = []
    # A test criu refuses to dump runs alone with --nocr, else in its negative test.
    runnable = [n for n in zdtm_tests() if args.nocr or 'refused' not in parse_opts(n)]
    all_names = runnable + ([] if args.nocr else sorted(NEGATIVE))
    if args.all:
        names = all_names
    for name in args.test or []:
        if name not in zdtm_tests() and name not in NEGATIVE:
            print('unknown test %s' % name, file=sys.stderr)
            return 2
        if name not in names:
            names.append(name)
    if not names:
        print('nothing to run: give --all or -t NAME', file=sys.stderr)
        return 2
    if args.j != 1:
        print('only -j1 is supported; running one test at a time', file=sys.stderr)

    os.makedirs(OUT_DIR, exist_ok=True)
    passed = failed = 0
    suite_deadline = time.monotonic() + SUITE_TIMEOUT
    for name in names:
        start = time.monotonic()
        if start > suite_deadline:
            failed += 1
            print('FAIL %s: the suite ran out of time (%ds)' % (name, SUITE_TIMEOUT), flush=True)
            continue
        if name in NEGATIVE:
            if args.nocr:
                continue
            del NOTES[:]
            err = run_negative(name)
            report = neg_report
        else:
            t, err = run_zdtm(name, args.nocr)
            report = lambda name, t=t: t.report()
        secs = time.monotonic() - start
        if err is None:
            passed += 1
            print('PASS %s (%.1fs)' % (name, secs), flush=True)
            if args.verbose and name in NEGATIVE and NOTES:
                print('\n'.join('  ' + n for n in NOTES), flush=True)
        else:
            failed += 1
            print('FAIL %s: %s (%.1fs)' % (name, err, secs), flush=True)
            if name in NEGATIVE and NOTES:
                print('\n'.join('  ' + n for n in NOTES), flush=True)
            text = report(name)
            if text:
                print(text, flush=True)
            if not args.keep_going:
                break
    sweep_children()
    print('%d passed, %d failed' % (passed, failed), flush=True)
    return 1 if failed else 0


def neg_report(name):
    """The ends of every log a negative test left in its out dir."""
    out = os.path.join(OUT_DIR, name)
    text = []
    for dirpath, _, files in os.walk(out):
        for f in sorted(files):
            if f.endswith('.log') or f.endswith('.out') or f.endswith('.err'):
                path = os.path.join(dirpath, f)
                lines = tail(path, 8)
                if lines:
                    text.append('  --- %s' % os.path.relpath(path, ROOT))
                    text += ['  | ' + line for line in lines]
    return '\n'.join(text)


def main():
    parser = argparse.ArgumentParser(description='checkpoint/restore test harness')
    sub = parser.add_subparsers(dest='cmd', required=True)
    run = sub.add_parser('run', help='run tests')
    run.add_argument('-a', '--all', action='store_true', help='run every test')
    run.add_argument('-t', '--test', action='append', help='run this test (repeatable)')
    run.add_argument('--nocr', action='store_true',
                     help='run the tests without dump/restore (and no negative tests)')
    run.add_argument('--keep-going', dest='keep_going', action='store_true', default=True,
                     help='go on after a failure (the default)')
    run.add_argument('-x', '--no-keep-going', dest='keep_going', action='store_false',
                     help='stop at the first failure')
    run.add_argument('-j', type=int, default=1, help='parallel tests (only 1)')
    run.add_argument('-v', '--verbose', action='store_true',
                     help='show the details of negative tests that pass')
    sub.add_parser('list', help='list the tests')
    args = parser.parse_args()

    if args.cmd == 'list':
        for name in zdtm_tests() + sorted(NEGATIVE):
            print(name)
        return 0
    return cmd_run(args)


if __name__ == '__main__':
    sys.exit(main())
