#!/usr/bin/env python3
"""bench.py: how fast criu dumps and restores, beside what the machine can do.

    python3 test/bench.py [--mb 1024] [--runs 3]

A process holding 1 GiB of non-zero anonymous memory (test/bench/memhog)
is dumped and restored several times; each figure is the minimum over the
runs, after one warm-up round of everything (this VM returns idle memory
to the host, so first touches are slow). In the same rounds the bounds
are measured (test/bench/bounds):
  - writing the same amount with write(2) to a file in the same directory
    (what a dump must at least do),
  - reading the image files back (what a restore must at least do),
  - memcpy of the same amount (the bound for any copy in memory).
Then the fixed cost: dump and restore of a tiny process, min of 10. Then
a tree: a process with 64 MiB and 100 children sharing it copy-on-write,
against 101 times the tiny process's cost and one copy of the memory.
Then the check against the processes outside the tree, for a process with
1000 fds, against a bare stat of every fd of the system.
Every process started is killed by its pid at the end.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zdtm  # noqa: E402  (the harness's process helpers)

BENCH_BIN = os.path.join(zdtm.TEST_DIR, 'bench', 'bin')
OUT = os.path.join(zdtm.OUT_DIR, 'bench')
CRIU = zdtm.CRIU


class BenchError(Exception):
    pass


def run(cmd, timeout=300):
    res = subprocess.run(cmd, cwd=zdtm.ROOT, stdin=subprocess.DEVNULL, capture_output=True,
                         timeout=timeout)
    if res.returncode != 0:
        raise BenchError('%s failed (%d): %s' % (' '.join(cmd[:2]), res.returncode,
                                                 res.stderr.decode(errors='replace')[-500:]))
    return res.stdout.decode()


def timed(cmd, timeout=300):
    start = time.monotonic()
    run(cmd, timeout)
    return time.monotonic() - start


class Target:
    """A memhog process, started with the zdtm protocol."""

    def __init__(self, name, mb, forks=0, fds=0):
        self.dir = os.path.join(OUT, name)
        os.makedirs(self.dir, exist_ok=True)
        self.pidfile = os.path.join(self.dir, 'memhog.pid')
        self.outfile = os.path.join(self.dir, 'memhog.out')
        log = os.open(os.path.join(self.dir, 'memhog.log'),
                      os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        env = dict(os.environ, BENCH_MB=str(mb), BENCH_FORKS=str(forks), BENCH_FDS=str(fds))
        launcher = subprocess.Popen([os.path.join(BENCH_BIN, 'memhog'),
                                     '--pidfile=' + self.pidfile, '--outfile=' + self.outfile],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                    start_new_session=True)
        os.close(log)
        if launcher.wait(120) != 0:
            raise BenchError('memhog did not start')
        with open(self.pidfile) as f:
            self.pid = int(f.read())

    def dump(self, img, extra=()):
        shutil.rmtree(img, ignore_errors=True)
        os.makedirs(img)
        secs = timed([CRIU, 'dump', '-t', str(self.pid), '-D', img] + list(extra))
        # every pid of the tree must be free (reaped: we are the subreaper) for the restore
        deadline = time.monotonic() + 10
        for pid in zdtm.read_image_pids(os.path.join(img, 'pstree.img')) or [self.pid]:
            while zdtm.proc_state(pid) is not None:
                zdtm.reap(pid)
                if time.monotonic() > deadline:
                    raise BenchError('process %d still there after dump' % pid)
                time.sleep(0.002)
        return secs

    def restore(self, img):
        secs = timed([CRIU, 'restore', '-D', img, '-d', '--pidfile', 'restore.pid'])
        with open(os.path.join(img, 'restore.pid')) as f:
            pid = int(f.read())
        if pid != self.pid:
            zdtm.kill_pid(pid)
            raise BenchError('restored with pid %d, expected %d' % (pid, self.pid))
        return secs

    def finish(self):
        """Stop it and check that its memory survived."""
        os.kill(self.pid, signal.SIGTERM)
        if zdtm.wait_exit(self.pid, 60) is None:
            raise BenchError('memhog did not exit')
        with open(self.outfile) as f:
            verdict = f.read().strip()
        if verdict != 'PASS':
            raise BenchError('memhog: %s' % verdict)


def bound(*args):
    return float(run([os.path.join(BENCH_BIN, 'bounds')] + [str(a) for a in args]))


def pages_bytes(img):
    return sum(os.path.getsize(os.path.join(img, f)) for f in os.listdir(img)
               if f.startswith('pages-'))


def big_rounds(mb, runs):
    """Dump/restore rounds of a big process with the bounds beside them."""
    best = {}
    target = Target('big', mb)
    img = os.path.join(OUT, 'img')
    scratch = os.path.join(OUT, 'bound.dat')
    size = None
    for i in range(1 + runs):
        fig = {}
        fig['dump'] = target.dump(img)
        size = pages_bytes(img)
        files = [os.path.join(img, f) for f in sorted(os.listdir(img))]
        fig['read'] = bound('read', *files)
        fig['restore'] = target.restore(img)
        shutil.rmtree(img)
        fig['write'] = bound('write', scratch, mb)
        os.unlink(scratch)
        fig['memcpy'] = bound('memcpy', mb)
        label = 'warm-up' if i == 0 else 'run %d' % i
        print('  %-8s ' % label + ', '.join('%s %.3f s' % kv for kv in fig.items()), flush=True)
        if i == 0:
            continue
        for k, v in fig.items():
            best[k] = min(best.get(k, v), v)
    target.finish()
    return best, size


def tiny_rounds(count):
    target = Target('tiny', 0)
    img = os.path.join(OUT, 'img-tiny')
    dumps, restores = [], []
    for _ in range(count + 1):
        dumps.append(target.dump(img))
        restores.append(target.restore(img))
    target.finish()
    shutil.rmtree(img, ignore_errors=True)
    # the first round is the warm-up
    return min(dumps[1:]), min(restores[1:])


def tree_rounds(mb, forks, runs):
    """A process and its children sharing mb MiB copy-on-write, a new
    tree each round (the dump of an original, not of a restored one)."""
    img = os.path.join(OUT, 'img-tree')
    dumps, restores, size = [], [], 0
    for _ in range(runs + 1):
        target = Target('tree', mb, forks)
        dumps.append(target.dump(img))
        size = pages_bytes(img)
        restores.append(target.restore(img))
        target.finish()
    shutil.rmtree(img, ignore_errors=True)
    return min(dumps[1:]), min(restores[1:]), size


def outside_rounds(nfds, runs):
    """A process with nfds fds: the dump's check against every other process
    of the system (its own log line), beside the whole dump and beside a bare
    stat of every fd of the system (the least that check must do)."""
    target = Target('fds', 0, fds=nfds)
    img = os.path.join(OUT, 'img-fds')
    best = {}
    for i in range(runs + 1):
        fig = {'dump': target.dump(img, ['-v4', '-o', 'dump.log'])}
        with open(os.path.join(img, 'dump.log')) as f:
            line = [ln for ln in f if 'outside check:' in ln][-1]
        fig['check'] = float(line.split(' in ')[-1].split()[0]) / 1000
        fig['outside_fds'] = int(line.split('processes, ')[1].split()[0])
        target.restore(img)
        scan, nfds_sys = run([os.path.join(BENCH_BIN, 'bounds'), 'fdscan', str(target.pid)]).split()
        fig['scan'] = float(scan)
        fig['system_fds'] = int(nfds_sys)
        if i == 0:
            continue
        for k, v in fig.items():
            best[k] = min(best.get(k, v), v)
    target.finish()
    shutil.rmtree(img, ignore_errors=True)
    return best


def mbps(nbytes, secs):
    return nbytes / 1e6 / secs if secs > 0 else float('inf')


def main():
    parser = argparse.ArgumentParser(description='criu dump/restore benchmark')
    parser.add_argument('--mb', type=int, default=1024, help='memory of the big process, MiB')
    parser.add_argument('--runs', type=int, default=5, help='measured rounds (after a warm-up)')
    parser.add_argument('--tiny', type=int, default=10, help='rounds for the fixed cost')
    parser.add_argument('--tree-forks', type=int, default=100, help='children in the tree')
    parser.add_argument('--tree-mb', type=int, default=64, help='memory the tree shares, MiB')
    parser.add_argument('--fds', type=int, default=1000, help='fds of the process for the outside check')
    args = parser.parse_args()

    for path in (CRIU, os.path.join(BENCH_BIN, 'memhog'), os.path.join(BENCH_BIN, 'bounds')):
        if not os.access(path, os.X_OK):
            print('%s is not built (make; make -C test)' % path, file=sys.stderr)
            return 1
    zdtm.set_subreaper()
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    mb = args.mb
    try:
        print('%d MiB process, min of %d runs after a warm-up:' % (mb, args.runs), flush=True)
        best, size = big_rounds(mb, args.runs)
        tiny_dump, tiny_restore = tiny_rounds(args.tiny)
        tree = tree_rounds(args.tree_mb, args.tree_forks, args.runs)
        outside = outside_rounds(args.fds, args.runs)
    except (BenchError, subprocess.TimeoutExpired, OSError) as e:
        print('bench failed: %s' % e, file=sys.stderr)
        return 1
    finally:
        zdtm.sweep_children()

    nbytes = mb << 20
    print()
    print('dump %d MiB: %.3f s, %.0f MB/s; file write bound %.3f s (ratio %.2f)'
          % (mb, best['dump'], mbps(nbytes, best['dump']), best['write'],
             best['dump'] / best['write']))
    print('restore %d MiB: %.3f s, %.0f MB/s; image read bound %.3f s (ratio %.2f)'
          % (mb, best['restore'], mbps(nbytes, best['restore']), best['read'],
             best['restore'] / best['read']))
    print('memcpy %d MiB: %.3f s, %.0f MB/s (dump ratio %.1f, restore ratio %.1f)'
          % (mb, best['memcpy'], mbps(nbytes, best['memcpy']), best['dump'] / best['memcpy'],
             best['restore'] / best['memcpy']))
    print('pages images: %.1f MiB for %d MiB of memory' % (size / (1 << 20), mb))
    print('fixed cost, tiny process (min of %d): dump %.1f ms, restore %.1f ms'
          % (args.tiny, tiny_dump * 1000, tiny_restore * 1000))
    nproc = args.tree_forks + 1
    print('tree of %d processes sharing %d MiB copy-on-write: dump %.3f s (%.1f ms per process, '
          'ratio %.2f to %d tiny dumps), restore %.3f s (ratio %.2f to %d tiny restores)'
          % (nproc, args.tree_mb, tree[0], tree[0] * 1000 / nproc, tree[0] / (nproc * tiny_dump), nproc,
             tree[1], tree[1] / (nproc * tiny_restore), nproc))
    print('tree pages images: %.1f MiB (one copy of the memory: %d MiB, a copy per process: %d MiB)'
          % (tree[2] / (1 << 20), args.tree_mb, args.tree_mb * nproc))
    print('check against the outside, a process with %d fds: %.2f ms (%d fds of other processes '
          'compared); bare stat of the %d fds of the other processes %.2f ms (ratio %.2f); whole '
          'dump %.1f ms (the check is %.0f%%)'
          % (args.fds, outside['check'] * 1000, outside['outside_fds'], outside['system_fds'],
             outside['scan'] * 1000, outside['check'] / outside['scan'], outside['dump'] * 1000,
             100 * outside['check'] / outside['dump']))
    shutil.rmtree(OUT, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
