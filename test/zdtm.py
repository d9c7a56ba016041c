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
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zdtmlib import *  # noqa: E402,F401,F403  (the harness's processes, runs and checks)
from zdtmlib import Fail, TestRun  # noqa: E402
import imgedit  # noqa: E402

# ---------------------------------------------------------------- negative tests

NEGATIVE = {}
NOTES = []      # details a negative test gives, shown with -v or on failure


def note(text):
    NOTES.append(text)


def negative(func):
    NEGATIVE['neg_' + func.__name__] = func
    return func


def scenario(func):
    """A run the harness drives itself, as negative tests are, but that
    must succeed (for example a restore taking another path)."""
    NEGATIVE[func.__name__] = func
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
    """What the images can't carry yet (a file lock, SCM_RIGHTS in flight,
    a namespace of its own, ...): the dump is refused, naming the process
    and the resource, and the process goes on as it was."""
    for name, word in (('refused_file_lock', 'file lock'),
                       ('refused_scm_rights', 'SCM_RIGHTS'),
                       ('refused_unix_backlog', 'not accepted'),
                       ('tcp_established', '--tcp-established'),
                       ('refused_clone_files', 'fd table'),
                       ('refused_inotify_queue', 'events'),
                       ('refused_pidfd', 'pidfd'),
                       ('refused_thread_cpu_timer', 'CPU time of the thread'),
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


def first_child(pid):
    with open('/proc/%d/task/%d/children' % (pid, pid)) as f:
        kids = f.read().split()
    if not kids:
        raise Fail('process %d has no child' % pid)
    return int(kids[0])


@negative
def dump_shared_outside():
    """Subtrees that share something with the rest of their tree, which is
    then outside the dump: a pipe and a file description (pipe_shared_tree),
    a unix socket pair (unix_shared_tree), a regular file description
    (files_shared_append), an fd table (refused_clone_files), shared
    anonymous memory (tree_shared_anon). criu dump -t
    CHILD must be refused naming the resource and the outside process, and
    the whole tree must go on and pass its own check."""
    for name, word in (('pipe_shared_tree', 'pipe:['), ('unix_shared_tree', 'unix socket'),
                       ('files_shared_append', 'same open file'), ('refused_clone_files', 'fd table'),
                       ('tree_shared_anon', 'shared memory')):
        t = TestRun(name, 'neg_dump_shared_outside')
        try:
            t.start()
            child = first_child(t.pid)
            outdir = os.path.join(t.out, 'img-' + name)
            os.makedirs(outdir, exist_ok=True)
            expect_fail([CRIU, 'dump', '-t', str(child), '-D', outdir], 'criu dump of a child of ' + name,
                        outdir)
            with open(os.path.join(outdir, 'criu.err')) as f:
                err = f.read()
            if word not in err or 'outside' not in err:
                raise Fail('%s: the refusal does not name the %s shared with the outside: %r' %
                           (name, word, err[-300:]))
            note('%s: %s' % (name, err.strip().splitlines()[0]))
            if name == 'unix_shared_tree':
                allowed_unix_outside(t, child)
            t.stop_and_check('after the refused dump of its child %d' % child)
        finally:
            t.cleanup()


def allowed_unix_outside(t, child):
    """-x (--ext-unix-sk) for the sockets connected outside, and --external
    for the one whose description the parent holds too: the same dump goes
    through (-R: the child runs on), those sockets recorded as external."""
    img = os.path.join(t.out, 'img-ext-unix-sk')
    os.makedirs(img, exist_ok=True)
    shared = os.readlink('/proc/%d/fd/10' % child)
    rc, _ = t.criu(['dump', '-t', str(child), '-D', img, '-o', 'dump.log', '-v4', '-R', '-x',
                    '--external', shared], 'dump-ext-unix-sk.out', DUMP_TIMEOUT)
    if rc != 0:
        raise Fail('criu dump -x of child %d exited with %d' % (child, rc))
    shown = subprocess.run([CRIU, 'show', os.path.join(img, 'files.img')], capture_output=True,
                           text=True).stdout
    if shown.count('"external": "socket:[') < 3:
        raise Fail('with -x and --external not all 3 sockets of child %d connected outside are recorded '
                   'as external' % child)


def stdio_external(t, theirs_fd, kind):
    """Dump t, whose stdout is one end of a pipe or socket pair the harness
    holds: the fd is recorded as external; a restore without --inherit-fd
    fails naming the key; with --inherit-fd fd[N]:KEY the restored test has
    the harness's object again, and passes."""
    t.start()
    key = os.readlink('/proc/%d/fd/1' % t.pid)
    t.dump()
    t.wait_gone()
    shown = subprocess.run([CRIU, 'show', os.path.join(t.img, 'files.img')], capture_output=True,
                           text=True).stdout
    if '"external": "%s"' % key not in shown:
        raise Fail('files.img does not record %s as external' % key)
    rc, secs = t.restore(timeout=NEG_TIMEOUT, outname='restore-no-inherit.out')
    with open(os.path.join(t.out, 'restore-no-inherit.out'), errors='replace') as f:
        err = f.read()
    if rc == 0:
        raise Fail('restore without --inherit-fd succeeded')
    if '--inherit-fd' not in err or key not in err:
        raise Fail('the refusal does not ask for --inherit-fd with %s: %r' % (key, err[-300:]))
    deadline = time.monotonic() + 2
    while proc_state(t.pid) is not None and time.monotonic() < deadline:
        reap(t.pid)
        time.sleep(0.01)
    if proc_state(t.pid) is not None:
        raise Fail('the failed restore left process %d' % t.pid)
    fd = os.dup(theirs_fd)
    try:
        t.restore_ok(extra=['--inherit-fd', 'fd[%d]:%s' % (fd, key)], pass_fds=(fd,))
    finally:
        os.close(fd)
    now = os.readlink('/proc/%d/fd/1' % t.pid)
    if now != key:
        raise Fail('after restore the test\'s stdout is %s, not the %s %s' % (now, kind, key))
    t.stop_and_check('restored with its stdout from --inherit-fd')


@negative
def outside_pipe_external():
    """A subtree whose pipe goes to its parent, outside the dump
    (outside_pipe: the child writes numbers, the parent reads them). criu
    dump -t CHILD is refused naming the pipe and the parent; with
    --allow-outside-sharing (and -R) it goes through with a warning; with
    --external pipe:[INODE] the pipe is recorded as external, and restore
    with --inherit-fd gives the child the same pipe back: the parent reads
    on, every number in order."""
    t = TestRun('outside_pipe', 'neg_outside_pipe_external')
    wend = -1
    try:
        t.start()
        child = first_child(t.pid)
        deadline = time.monotonic() + 5
        while True:
            try:
                key = os.readlink('/proc/%d/fd/5' % child)
                break
            except FileNotFoundError:    # the child has not moved its end to fd 5 yet
                if time.monotonic() > deadline:
                    raise Fail('child %d never got its fd 5' % child)
                time.sleep(0.005)
        refused = os.path.join(t.out, 'img-refused')
        os.makedirs(refused, exist_ok=True)
        expect_fail([CRIU, 'dump', '-t', str(child), '-D', refused], 'criu dump of the child', refused)
        with open(os.path.join(refused, 'criu.err')) as f:
            err = f.read()
        if key not in err or str(t.pid) not in err:
            raise Fail('the refusal does not name %s and process %d: %r' % (key, t.pid, err[-300:]))
        allowed = os.path.join(t.out, 'img-allowed')
        os.makedirs(allowed, exist_ok=True)
        rc, _ = t.criu(['dump', '-t', str(child), '-D', allowed, '-o', 'dump.log', '-v4', '-R',
                        '--allow-outside-sharing'], 'dump-allowed.out', DUMP_TIMEOUT)
        with open(os.path.join(allowed, 'dump.log'), errors='replace') as f:
            if rc != 0 or '--allow-outside-sharing' not in f.read():
                raise Fail('dump with --allow-outside-sharing: exit %d, or no warning in its log' % rc)
        # the harness's own way in to the pipe, for --inherit-fd (taken now: it would be one more outsider)
        wend = os.open('/proc/%d/fd/5' % child, os.O_WRONLY)
        img = os.path.join(t.out, 'img-child')
        os.makedirs(img, exist_ok=True)
        rc, _ = t.criu(['dump', '-t', str(child), '-D', img, '-o', 'dump.log', '-v4', '--external', key],
                       'dump-child.out', DUMP_TIMEOUT)
        if rc != 0:
            raise Fail('criu dump -t %d --external %s exited with %d' % (child, key, rc))
        deadline = time.monotonic() + 5
        while proc_state(child) is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        rc, _ = t.restore(imgdir=img, extra=['--inherit-fd', 'fd[%d]:%s' % (wend, key)], pass_fds=(wend,))
        if rc != 0:
            raise Fail('restore of the child with --inherit-fd exited with %d' % rc)
        t.pids.add(child)
        if t.read_pid(os.path.join(img, 'restore.pid')) != child:
            raise Fail('the child came back with another pid')
        os.close(wend)
        wend = -1
        t.stop_and_check('its child restored alone with the pipe from --inherit-fd')
    finally:
        if wend >= 0:
            os.close(wend)
        t.cleanup()


@negative
def unix_ext_dgram():
    """A datagram socket connected to a socket the harness binds outside the
    tree (a stand-in for /dev/log): the dump is refused; with -x
    (--ext-unix-sk) it goes through, the socket recorded as external; the
    restore, given no --inherit-fd, connects it again by the peer's name:
    messages keep coming to the harness, the last one "bye"."""
    t = TestRun('unix_ext_dgram', 'neg_unix_ext_dgram')
    log = None
    try:
        os.makedirs(t.out, exist_ok=True)
        path = os.path.join(t.out, 'log.sock')
        if os.path.exists(path):
            os.unlink(path)
        log = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        log.bind(path)
        log.setblocking(False)
        t.env = dict(t.env or {}, ZDTM_LOG_SOCKET=path)
        t.start()
        refused = os.path.join(t.out, 'img-refused')
        os.makedirs(refused, exist_ok=True)
        expect_fail([CRIU, 'dump', '-t', str(t.pid), '-D', refused], 'criu dump without -x', refused)
        t.dump(['-x'])
        t.wait_gone()
        drain(log)
        t.restore_ok()
        time.sleep(0.1)
        if not drain(log):
            raise Fail('no message from the restored test on %s' % path)
        t.stop_and_check('restored with its socket connected again by name')
        if b'bye' not in drain(log):
            raise Fail('no "bye" from the test')
    finally:
        if log:
            log.close()
        t.cleanup()


def drain(sock):
    got = []
    while True:
        try:
            got.append(sock.recv(64))
        except BlockingIOError:
            return got


@negative
def stdio_pipe_external():
    """The root's stdout is a pipe whose read end the harness keeps (as a
    shell or a container runtime does): the dump records it as external
    (pipe:[INODE]) instead of refusing, and restore takes it back from
    --inherit-fd."""
    t = TestRun('busyloop', 'neg_stdio_pipe_external')
    rfd, wfd = os.pipe()
    null = os.open('/dev/null', os.O_RDONLY)
    keep = os.dup(wfd)
    t.stdio = lambda: (null, wfd, wfd)    # start() closes these once the test has them
    try:
        stdio_external(t, keep, 'pipe')
    finally:
        os.close(rfd)
        os.close(keep)
        t.cleanup()


@negative
def stdio_socket_external():
    """The same with a unix socket pair whose other end the harness keeps:
    recorded as socket:[INODE], given back with --inherit-fd."""
    t = TestRun('busyloop', 'neg_stdio_socket_external')
    ours, theirs = socket.socketpair()
    null = os.open('/dev/null', os.O_RDONLY)
    out = os.dup(theirs.fileno())
    keep = os.dup(theirs.fileno())
    theirs.close()
    t.stdio = lambda: (null, out, out)    # start() closes these once the test has them
    try:
        stdio_external(t, keep, 'socket')
    finally:
        ours.close()
        os.close(keep)
        t.cleanup()


@negative
def restore_fd_file_changed():
    """An open file (a.data of files_reg, open for reading and writing)
    changed after the dump: restore must refuse, naming the file and
    --allow-file-changes, and leave nothing behind; b.data, a write-only
    O_APPEND log that only grew, is no reason to refuse; with a.data's
    bytes put back (touched all the same) and --allow-file-changes the
    restore goes on and the test passes."""
    t = TestRun('files_reg', 'neg_restore_fd_file_changed')
    try:
        t.start()
        t.dump()
        t.wait_gone()
        datadir = os.path.join(t.out, 'dir')
        with open(os.path.join(datadir, 'b.data'), 'rb') as f:
            log = f.read()
        with open(os.path.join(datadir, 'b.data'), 'ab') as f:
            f.write(b'appended by someone else')
        rc, _ = t.restore(timeout=NEG_TIMEOUT, outname='restore-grown-log.out')
        if rc != 0:
            raise Fail('restore refused a write-only O_APPEND file that only grew')
        kill_pid(t.pid)
        deadline = time.monotonic() + 2
        while not reap(t.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        os.unlink(os.path.join(t.img, 'restore.pid'))
        with open(os.path.join(datadir, 'b.data'), 'wb') as f:
            f.write(log)
        with open(os.path.join(datadir, 'a.data'), 'rb') as f:
            original = f.read()
        with open(os.path.join(datadir, 'a.data'), 'r+b') as f:
            f.write(b'changed')
        rc, secs = t.restore(timeout=NEG_TIMEOUT, outname='restore-changed.out')
        with open(os.path.join(t.out, 'restore-changed.out'), errors='replace') as f:
            err = f.read()
        note('restore after a.data changed: rc %d: %s' % (rc, err.strip()[:200]))
        if rc == 0:
            raise Fail('restore succeeded although a.data changed')
        if 'a.data' not in err or '--allow-file-changes' not in err:
            raise Fail('the error does not name the file and the option: %r' % err[-300:])
        if proc_state(t.pid) not in (None, 'Z'):
            raise Fail('process %d is left after the refused restore' % t.pid)
        reap(t.pid)
        # the same bytes again, but touched since: only the option lets it through
        with open(os.path.join(datadir, 'a.data'), 'r+b') as f:
            f.write(original)
        t.opts['restore-opts'] = '--allow-file-changes'
        t.restore_ok()
        t.stop_and_check('the test restored with --allow-file-changes')
    finally:
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


def restore_damaged(t, cases, reseal=True):
    """Restore t's dump from damaged copies, one per (case, names, damage):
    each restore must fail within NEG_TIMEOUT, its output must name one of
    names, and no process may be left. With reseal, checksums.img is made to
    vouch for the damage, so that it reaches the decoding and validation
    behind the checksums. Returns the problems found."""
    pid = t.pid
    problems = []
    for case, names, damage in cases:
        d = os.path.join(t.out, 'img-' + case)
        shutil.copytree(t.img, d)
        for f in ('dump.log', 'restore.log', 'restore.pid'):
            if os.path.exists(os.path.join(d, f)):
                os.unlink(os.path.join(d, f))
        damage(d)
        if reseal:
            imgedit.reseal(d, imgedit.changed_files(t.img, d))
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
    return problems


def damaged_dump_test(test, outname, cases_of, reseal=True, more=None):
    """Dump test, restore damaged copies of its images (cases_of(t) lists
    them, see restore_damaged; more(t, cases) may add problems), then the
    intact images, which must restore and pass."""
    t = TestRun(test, outname)
    try:
        t.start()
        t.dump()
        t.wait_gone()
        cases = cases_of(t)
        problems = restore_damaged(t, cases, reseal)
        if more:
            problems += more(t, cases)
        if problems:
            raise Fail('; '.join(problems))
        t.restore_ok()
        t.stop_and_check('the test restored from the intact images')
    finally:
        t.cleanup()


@negative
def corrupt_images():
    """Restores from damaged copies of a dump must fail cleanly."""
    def cases_of(t):
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
        return cases

    damaged_dump_test('busyloop', 'neg_corrupt_images', cases_of)


@negative
def corrupt_signal_images():
    """Signals and timers from damaged images (issue 6): signal numbers out
    of range, a siginfo of the wrong size, timers that can't be created as
    described. Each restore fails naming the file and field (or, for a
    timer the kernel refuses, the timer), nothing is left behind, and the
    intact images restore fine."""
    def cases_of(t):
        pid = t.pid
        core = 'core-%d.img' % pid

        def on_core(edit):
            return lambda d: imgedit.edit_entry(os.path.join(d, core), edit)

        def on_timer(n, num, value):
            return on_core(lambda f: imgedit.edit_sub(
                f, TASK_POSIX_TIMERS, n, lambda t: set_or_add(t, num, value)))

        def set_or_add(fields, num, value):
            if any(x[0] == num for x in fields):
                imgedit.set_varint(fields, num, value)
            else:
                fields.append([num, 0, value])

        def add_sigaction(fields):
            fields.append(list(imgedit.nth(fields, TASK_SIGACTIONS)))
            return fields

        def many_sigactions(fields):
            while sum(1 for x in fields if x[0] == TASK_SIGACTIONS) <= 64:
                add_sigaction(fields)

        # CLOCK_PROCESS_CPUTIME_ID of pid 4194303, which can't exist
        absent_cpu_clock = (~4194303 << 3) | 2
        cases = [
            ('pending-signo-99', [core + ': shared_pending'],
             on_core(lambda f: f.append([TASK_SHARED_PENDING, 2, imgedit.siginfo(99)]))),
            ('pending-signo-kill', [core + ': shared_pending'],
             on_core(lambda f: f.append([TASK_SHARED_PENDING, 2, imgedit.siginfo(9)]))),
            ('pending-short-siginfo', [core + ': shared_pending'],
             on_core(lambda f: f.append([TASK_SHARED_PENDING, 2, imgedit.siginfo(10, size=100)]))),
            ('thread-pending-signo-0', [core + ': thread'],
             on_core(lambda f: imgedit.edit_sub(
                 f, TASK_THREAD, 0, lambda th: th.append([THREAD_PENDING, 2, imgedit.siginfo(0)])))),
            ('sigactions-65', [core + ': 65 sigactions'], on_core(many_sigactions)),
            ('timer-duplicate-id', [core + ': posix_timers[1]'], on_timer(1, TIMER_ID, 0)),
            ('timer-negative-id', [core + ': posix_timers[0]'], on_timer(0, TIMER_ID, -1)),
            ('timer-signo-65', [core + ': posix_timers[0]'], on_timer(0, TIMER_SIGNO, 65)),
            ('timer-unknown-notify', [core + ': posix_timers[0]'], on_timer(0, TIMER_NOTIFY, 3)),
            ('timer-coarse-clock', [core + ': posix_timers[0]'], on_timer(0, TIMER_CLOCKID, 6)),
            ('timer-foreign-thread', [core + ': posix_timers[1]'],
             on_timer(1, TIMER_NOTIFY_TID, pid + 100000)),
            ('timer-bad-nsec', [core + ': posix_timers[1]'], on_timer(1, TIMER_VALUE_NSEC, 10 ** 9)),
            # valid to the eye, refused by the kernel: the restore fails in the restorer
            ('timer-uncreatable', ['POSIX timer'], on_timer(0, TIMER_CLOCKID, absent_cpu_clock)),
        ]
        return cases

    damaged_dump_test('posix_timers', 'neg_corrupt_signal_images', cases_of)


@negative
def corrupt_ldt_images():
    """LDT entries and segment selectors from damaged images (issue 7): an
    entry number past the LDT, a limit over 20 bits, a conforming code
    segment marked present, entries out of order, %gs pointing to an entry
    the image lacks. Each restore fails naming core-PID.img and the field,
    nothing is left, and the intact images restore fine."""
    def cases_of(t):
        core = 'core-%d.img' % t.pid

        def on_core(edit):
            return lambda d: imgedit.edit_entry(os.path.join(d, core), edit)

        def on_ldt(n, num, value):
            return on_core(lambda f: imgedit.edit_sub(
                f, TASK_LDT, n, lambda e: imgedit.set_varint(e, num, value)))

        def on_gs(value):
            return on_core(lambda f: imgedit.edit_sub(f, TASK_THREAD, 0, lambda th: imgedit.edit_sub(
                th, THREAD_GPREGS, 0, lambda r: imgedit.set_varint(r, GPREGS_GS, value))))

        cases = [
            ('ldt-entry-8192', [core + ': ldt[1]'], on_ldt(1, LDT_ENTRY_NUMBER, 8192)),
            ('ldt-out-of-order', [core + ': ldt[1]'], on_ldt(1, LDT_ENTRY_NUMBER, 0)),
            ('ldt-limit-21-bits', [core + ': ldt[0]'], on_ldt(0, LDT_LIMIT, 0x100000)),
            ('ldt-contents-3-present', [core + ': ldt[0]'], on_ldt(0, LDT_CONTENTS, 3)),
            ('gs-missing-entry', [core + ': thread.gpregs gs'], on_gs((10 << 3) | 7)),
            ('gs-kernel-rpl', [core + ': thread.gpregs gs'], on_gs(4)),
        ]
        return cases

    damaged_dump_test('ldt', 'neg_corrupt_ldt_images', cases_of)


@negative
def corrupt_vdso_images():
    """The old vDSO's bytes in mm-PID.img are parsed as untrusted input when
    they differ from this kernel's vDSO: a size that is not its vma's, zeros
    instead of an ELF, section headers pointing past the end, a symbol
    table linked to a section that does not exist. Each restore fails
    naming mm-PID.img, nothing is left, the intact images restore."""
    def cases_of(t):
        mm = 'mm-%d.img' % t.pid

        def on_image(change):
            def edit(fields):
                f = imgedit.nth(fields, MM_VDSO_IMAGE)
                f[2] = change(bytearray(f[2]))
            return lambda d: imgedit.edit_entry(os.path.join(d, mm), edit)

        def set_u64(off, value):
            def change(b):
                b[off:off + 8] = value.to_bytes(8, 'little')
                return bytes(b)
            return change

        def bad_link(b):
            # every section header's sh_link (offset 40 in Elf64_Shdr) past the table
            shoff = int.from_bytes(b[0x28:0x30], 'little')
            shnum = int.from_bytes(b[0x3c:0x3e], 'little')
            for i in range(shnum):
                at = shoff + i * 64 + 40
                b[at:at + 4] = (0xffff).to_bytes(4, 'little')
            return bytes(b)

        cases = [
            ('vdso-image-short', [mm + ': vdso_image'], on_image(lambda b: bytes(b[:100]))),
            ('vdso-image-zeros', [mm + ': vdso_image', 'vDSO'], on_image(lambda b: bytes(len(b)))),
            ('vdso-image-shoff', [mm + ': vdso_image', 'vDSO'], on_image(set_u64(0x28, 1 << 40))),
            ('vdso-image-link', [mm + ': vdso_image', 'vDSO'], on_image(bad_link)),
        ]
        return cases

    damaged_dump_test('vdso_calls', 'neg_corrupt_vdso_images', cases_of)


@scenario
def vdso_proxy():
    """Restore onto a vDSO taken for another kernel's
    (CRIU_FAULT_VDSO_PROXY): this kernel's vvar and vDSO go to a new place,
    the old vDSO's image stays at the old one with each function jumping to
    the new vDSO. vdso_calls must pass: glibc's cached vDSO pointers and
    the test's own still work and agree with the system calls."""
    t = TestRun('vdso_calls', 'vdso_proxy')
    try:
        t.start()
        before = vdso_line(t.pid)
        t.dump()
        t.wait_gone()
        t.restore_ok(env={'CRIU_FAULT_VDSO_PROXY': '1'})
        after = vdso_line(t.pid)
        if before.split('-')[0] == after.split('-')[0]:
            raise Fail('the vDSO did not move (%s): the proxy path did not run' % after)
        with open('/proc/%d/maps' % t.pid) as f:
            old = [ln for ln in f if ln.startswith(before.split()[0])]
        if not old or 'r-xp' not in old[0]:
            raise Fail('nothing read-only and executable at the old vDSO\'s place: %r' % old)
        note('vDSO %s -> %s' % (before.split()[0], after.split()[0]))
        t.stop_and_check('restored with its old vDSO as a proxy')
    finally:
        t.cleanup()


def vdso_line(pid):
    with open('/proc/%d/maps' % pid) as f:
        for line in f:
            if line.rstrip().endswith('[vdso]'):
                return line
    raise Fail('process %d has no [vdso]' % pid)


@scenario
def check_report():
    """criu check: exit 0 on this machine, and a report of the vDSO and
    vvar areas it found and of the functions the vDSO exports; --feature
    answers 0 for what is supported (incl. timerfd, fdinfo_lock,
    network_lock_nftables, get_rseq_conf), non-zero for what is not and
    for an unknown name."""
    out = subprocess.run([CRIU, 'check'], capture_output=True, text=True, timeout=30)
    text = out.stdout + out.stderr
    if out.returncode != 0:
        raise Fail('criu check exited with %d: %s' % (out.returncode, text[-300:]))
    for want in ('[vdso]', '[vvar]', 'AT_SYSINFO_EHDR', '__vdso_clock_gettime', 'Looks good.'):
        if want not in text:
            raise Fail('criu check does not report %s: %s' % (want, text[-400:]))
    for feature, ok in (('vdso', True), ('timerfd', True), ('fdinfo_lock', True),
                        ('network_lock_nftables', True), ('get_rseq_conf', True),
                        ('uffd-noncoop', False), ('no_such_feature', False)):
        rc = subprocess.run([CRIU, 'check', '--feature', feature], capture_output=True,
                            timeout=30).returncode
        if (rc == 0) != ok:
            raise Fail('criu check --feature %s exited with %d' % (feature, rc))


@scenario
def timers_in_order():
    """POSIX timers restored the way kernels before 6.16 need (no
    PR_TIMER_CREATE_RESTORE_IDS: fillers created and deleted until each id
    comes up): the same ids, gap included, and the posix_timers test
    passes."""
    t = TestRun('posix_timers', 'timers_in_order')
    try:
        t.start()
        t.dump()
        t.wait_gone()
        t.restore_ok(env=dict(os.environ, CRIU_FAULT_NO_TIMER_RESTORE_IDS='1'))
        with open(os.path.join(t.img, 'restore.log'), errors='replace') as f:
            if 'created in id order' not in f.read():
                raise Fail('the restore log does not say the timers were created in id order')
        t.stop_and_check('restored with timers created in order')
    finally:
        t.cleanup()


# Field numbers of images/core.proto used above.
TASK_SIGACTIONS, TASK_THREAD, TASK_SHARED_PENDING, TASK_POSIX_TIMERS, TASK_LDT = 4, 5, 16, 18, 19
THREAD_GPREGS, THREAD_PENDING = 2, 12
GPREGS_GS = 27
MM_VDSO_IMAGE = 15
LDT_ENTRY_NUMBER, LDT_LIMIT, LDT_CONTENTS = 1, 3, 5
TIMER_ID, TIMER_CLOCKID, TIMER_NOTIFY, TIMER_SIGNO, TIMER_NOTIFY_TID, TIMER_VALUE_NSEC = 1, 2, 3, 4, 6, 10


@negative
def image_integrity():
    """checksums.img: a byte flipped in any image file (one case per file,
    in a different block each time for the pages), a truncated file, a
    deleted one, two swapped, a file the dump did not write, checksums.img
    itself flipped or missing. Each restore fails before anything is
    created, naming the file (and for a flip, "checksum mismatch at offset
    N" with N the block that holds the byte); nothing is left; the intact
    images restore fine. criu restore --check-only says the same without
    restoring anything."""
    def cases_of(t):
        files = sorted(f for f in os.listdir(t.img) if f.endswith('.img') and f != imgedit.SUMS)
        cases = []
        for i, name in enumerate(files):
            size = os.path.getsize(os.path.join(t.img, name))
            if not size:
                continue
            at = (size * (2 * i + 1) // (2 * len(files) + 1)) if size > 64 else size // 2
            want = '%s: checksum mismatch at offset %d' % (name, at - at % imgedit.SUMS_BLOCK)
            cases.append(('flip-' + name, [want], flip_at(name, at)))
        core = next(f for f in files if f.startswith('core-'))
        mm = next(f for f in files if f.startswith('mm-'))
        cases += [
            ('truncated-' + core, [core + ': '], lambda d: damage_file(os.path.join(d, core), 'truncate')),
            ('deleted-' + mm, [mm + ': missing'], lambda d: os.unlink(os.path.join(d, mm))),
            ('swapped', [core + ': ', mm + ': '], lambda d: swap(d, core, mm)),
            ('stray-file', ['core-1.img: not written by the dump'],
             lambda d: shutil.copy(os.path.join(d, core), os.path.join(d, 'core-1.img'))),
            ('flip-checksums', [imgedit.SUMS + ': '], flip_at(imgedit.SUMS, 20)),
            ('no-checksums', [imgedit.SUMS + ' is missing'], lambda d: os.unlink(os.path.join(d, imgedit.SUMS))),
        ]
        return cases

    def more(t, cases):
        problems = []
        for case, names, damage in cases[:2]:
            d = os.path.join(t.out, 'img-' + case)
            out = subprocess.run([CRIU, 'restore', '--check-only', '-D', d], capture_output=True, text=True)
            if out.returncode == 0 or names[0] not in out.stdout + out.stderr:
                problems.append('%s: --check-only exited %d without %s' % (case, out.returncode, names[0]))
        out = subprocess.run([CRIU, 'restore', '--check-only', '-D', t.img], capture_output=True, text=True)
        if out.returncode != 0:
            problems.append('--check-only of the intact images exited %d: %s' % (out.returncode, out.stderr[-200:]))
        return problems

    damaged_dump_test('pipe_shared_tree', 'neg_image_integrity', cases_of, reseal=False, more=more)


def flip_at(name, at):
    def damage(d):
        with open(os.path.join(d, name), 'r+b') as f:
            f.seek(at)
            b = f.read(1)
            f.seek(at)
            f.write(bytes([b[0] ^ 0x20]))
    return damage


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
def dumper_killed_points():
    """kill -9 of criu dump at each stage (CRIU_FAULT_DUMP_PAUSE holds it
    there): the tree just seized, the parasite inside, pages half written,
    everything read and no image written, images written but not their
    checksums. Each time the target must run on untouched (not stopped, not
    traced, no parasite, the same maps) and pass its own check; what the
    killed dump left must not pass restore --check-only."""
    for point, mb in (('seized', 16), ('parasite', 16), ('pages', 300), ('images', 16), ('sums', 16)):
        t = TestRun('mem_anon_big', 'neg_dumper_killed_points', env={'ZDTM_MEM_MB': str(mb)}, opts={})
        try:
            t.start()
            t.snapshot_maps()
            os.makedirs(t.img)
            log = os.path.join(t.img, 'dump.log')
            t.add_log('dump.log', log)
            proc = subprocess.Popen([CRIU, 'dump', '-t', str(t.pid), '-D', t.img, '-v4', '-o', 'dump.log'],
                                    cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL,
                                    env=dict(os.environ, CRIU_FAULT_DUMP_PAUSE=point))
            t.pids.add(proc.pid)
            deadline = time.monotonic() + DUMP_TIMEOUT
            reached = False
            while proc.poll() is None and time.monotonic() < deadline and not reached:
                time.sleep(0.005)
                try:
                    with open(log, errors='replace') as f:
                        reached = 'fault point %s reached' % point in f.read()
                except OSError:
                    pass
            if not reached:
                raise Fail('%s: criu never reached the point (exit %s)' % (point, proc.poll()))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            t.pids.discard(proc.pid)
            why = t.check_free('%s: after criu was killed there' % point, timeout=5)
            if why:
                raise Fail(why)
            out = subprocess.run([CRIU, 'restore', '--check-only', '-D', t.img], capture_output=True, text=True)
            if out.returncode == 0:
                raise Fail('%s: the images of the killed dump pass --check-only' % point)
            note('%s: killed; target free; --check-only: %s' % (point, out.stderr.strip().splitlines()[-1]))
            t.stop_and_check('the target of a dump killed at %s' % point)
        finally:
            t.cleanup()


@negative
def dumper_killed_tcp():
    """kill -9 criu dump --tcp-established once the connections are in
    repair mode and locked: the guard takes them out of repair mode and
    lifts the lock, and the test's connection to its outside peer goes
    on (the test checks it talks after its SIGTERM)."""
    t = TestRun('tcp_established', 'neg_dumper_killed_tcp')
    try:
        t.start()
        os.makedirs(t.img)
        log = os.path.join(t.img, 'dump.log')
        t.add_log('dump.log', log)
        proc = subprocess.Popen([CRIU, 'dump', '-t', str(t.pid), '-D', t.img, '-v4', '-o', 'dump.log',
                                 '--tcp-established'], cwd=ROOT, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=dict(os.environ, CRIU_FAULT_DUMP_HOLD_MS='10000'))
        t.pids.add(proc.pid)
        deadline = time.monotonic() + DUMP_TIMEOUT
        while 'holding the dump' not in ''.join(tail(log, 50) or []):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise Fail('criu did not reach the hold (exit %s)' % proc.poll())
            time.sleep(0.005)
        kill_pid(proc.pid)
        t.pids.discard(proc.pid)
        why = t.check_free('after criu was killed', timeout=5)
        if why:
            raise Fail(why)
        deadline = time.monotonic() + 5
        while subprocess.run(['nft', 'list', 'table', 'inet', 'criu_lock_%d' % t.pid],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
            if time.monotonic() > deadline:
                raise Fail('the network lock is still there after criu was killed')
            time.sleep(0.05)
        note('criu killed with TCP connections in repair mode: the guard let them go')
        t.stop_and_check('the test after criu was killed')
    finally:
        t.cleanup()
        if t.pid:
            subprocess.run(['nft', 'delete', 'table', 'inet', 'criu_lock_%d' % t.pid],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


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
    """criu dump into a full images directory (a 64k tmpfs): a clear error,
    the process unharmed, and nothing that looks like a complete dump
    (no checksums.img: restore --check-only says the dump did not complete)."""
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
        # nothing there may look like a complete dump
        out = subprocess.run([CRIU, 'restore', '--check-only', '-D', t.img], capture_output=True, text=True)
        if out.returncode == 0 or 'did not complete' not in out.stdout + out.stderr:
            raise Fail('the partial images pass --check-only (exit %d): %r' %
                       (out.returncode, (out.stdout + out.stderr)[-200:]))
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


# ---------------------------------------------------------------- fuzzing

FUZZ_BIN = os.path.join(TEST_DIR, 'fuzz', 'bin')
FUZZ_REGRESS = os.path.join(TEST_DIR, 'fuzz', 'regress')
FUZZ_PREFIXES = {'core': 'core-', 'mm': 'mm-', 'pagemap': 'pagemap-', 'pstree': 'pstree.img',
                 'files': 'files.img', 'fdinfo': 'fdinfo-', 'fs': 'fs-', 'inventory': 'inventory.img',
                 'checksums': 'checksums.img'}
_fuzz_base = []


def fuzz_base():
    """The images of a fresh dump of a small tree with pipes, for the
    files a fuzz target does not replace (made once per run)."""
    if _fuzz_base:
        return _fuzz_base[0]
    t = TestRun('pipe_shared_tree', 'fuzz_base')
    try:
        t.start()
        t.dump()
        t.wait_gone()
    finally:
        t.cleanup()
    _fuzz_base.append(t.img)
    return t.img


def fuzz_seeds(target, corpus):
    """Real images of that kind from every test's dump, and for the vDSO
    parser this machine's vDSO."""
    os.makedirs(corpus, exist_ok=True)
    if target == 'vdso':
        with open('/proc/self/maps') as f:
            line = next(ln for ln in f if ln.rstrip().endswith('[vdso]'))
        start, end = (int(x, 16) for x in line.split()[0].split('-'))
        with open('/proc/self/mem', 'rb') as f:
            f.seek(start)
            data = f.read(end - start)
        with open(os.path.join(corpus, 'vdso'), 'wb') as f:
            f.write(data)
        return
    prefix, n = FUZZ_PREFIXES[target], 0
    for test in sorted(os.listdir(OUT_DIR)):
        img = os.path.join(OUT_DIR, test, 'img')
        if not os.path.isdir(img):
            continue
        for name in sorted(os.listdir(img)):
            path = os.path.join(img, name)
            if name.startswith(prefix) and n < 200 and os.path.getsize(path) <= (1 << 20):
                shutil.copy(path, os.path.join(corpus, '%s-%s' % (test, name)))
                n += 1


def run_fuzzer(target):
    binary = os.path.join(FUZZ_BIN, 'fuzz_' + target)
    if not os.access(binary, os.X_OK):
        raise Fail('%s is not built (make fuzz-build)' % binary)
    out = os.path.join(OUT_DIR, 'fuzz_' + target)
    shutil.rmtree(out, ignore_errors=True)
    corpus = os.path.join(out, 'corpus')
    fuzz_seeds(target, corpus)
    env = dict(os.environ, FUZZ_BASE_DIR=fuzz_base())
    regress = os.path.join(FUZZ_REGRESS, target)
    old = sorted(os.path.join(regress, f) for f in os.listdir(regress)) if os.path.isdir(regress) else []
    if old:
        res = subprocess.run([binary] + old, env=env, capture_output=True, text=True, timeout=300)
        if res.returncode != 0:
            raise Fail('a recorded crash of fuzz_%s is back: %s' % (target, res.stderr[-800:]))
    secs = int(os.environ.get('FUZZ_SECONDS', '10'))
    log = os.path.join(out, 'fuzz.log')
    with open(log, 'w') as f:
        res = subprocess.run([binary, '-max_total_time=%d' % secs, '-timeout=10', '-rss_limit_mb=2048',
                              '-artifact_prefix=%s/' % out, '-print_final_stats=1', corpus],
                             env=env, stdout=f, stderr=subprocess.STDOUT, timeout=secs + 120)
    with open(log, errors='replace') as f:
        text = f.read()
    if res.returncode != 0:
        found = [a for a in os.listdir(out) if a.startswith(('crash-', 'leak-', 'timeout-', 'oom-'))]
        raise Fail('fuzz_%s found %s (keep it as a regression input in test/fuzz/regress/%s/): %s' %
                   (target, ', '.join(os.path.join(out, a) for a in found) or 'a failure', target,
                    text[-1200:]))
    runs = [ln for ln in text.splitlines() if ln.startswith('stat::number_of_executed_units')]
    note('fuzz_%s: %s in %d s, %d regression inputs' %
         (target, runs[-1].split(':')[-1].strip() + ' runs' if runs else '?', secs, len(old)))


def register_fuzzers():
    for target in list(FUZZ_PREFIXES) + ['vdso']:
        def run(target=target):
            run_fuzzer(target)
        run.__doc__ = 'libFuzzer: %s for FUZZ_SECONDS' % (
            'the vDSO ELF parser' if target == 'vdso' else
            'the decoding and validation of %s*' % FUZZ_PREFIXES[target])
        NEGATIVE['fuzz_' + target] = run


register_fuzzers()


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
