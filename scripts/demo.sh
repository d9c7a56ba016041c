#!/bin/bash
# Demo: dump a live counter program, show it is gone, restore it and show
# it goes on counting with the same pid. Run from anywhere: `make demo`.
set -eu

cd "$(dirname "$0")/.."
CRIU=$PWD/criu/criu
PROG=$PWD/test/demo/bin/counter

step() { printf '\n== %s\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

[ -x "$CRIU" ] || die "criu/criu is not built (run make)"
make -s -C test demo || die "cannot build the demo program"

DIR=$(mktemp -d /tmp/criu-demo.XXXXXX)
LOG=$DIR/counter.log
IMG=$DIR/img
PID=
cleanup() {
	if [ -n "$PID" ] && [ -d "/proc/$PID" ]; then
		kill -9 "$PID" 2>/dev/null || true
	fi
	rm -rf "$DIR"
}
trap cleanup EXIT

step "start a program that counts once a second (output in $LOG)"
setsid -f "$PROG" </dev/null >"$LOG" 2>&1
sleep 3.5
cat "$LOG"
PID=$(sed -n '1s/^pid \([0-9]*\):.*/\1/p' "$LOG")
[ -n "$PID" ] && [ -d "/proc/$PID" ] || die "the counter did not start"

step "criu dump -t $PID -D $IMG"
mkdir "$IMG"
"$CRIU" dump -t "$PID" -D "$IMG" -o dump.log -v4 || die "dump failed, see $IMG/dump.log"
for _ in $(seq 50); do [ -d "/proc/$PID" ] || break; sleep 0.1; done
[ -d "/proc/$PID" ] && die "process $PID still exists after the dump"
echo "process $PID is gone; the images:"
ls -l "$IMG"
echo "some of core-$PID.img (criu show):"
"$CRIU" show "$IMG/core-$PID.img" 2>/dev/null | grep -E '"(comm|tid|ip|sp|fs_base)"' || true
LAST=$(tail -n 1 "$LOG")
echo "last line before the dump: $LAST"
sleep 2
echo "two seconds later, still: $(tail -n 1 "$LOG")"

step "criu restore -D $IMG -d"
"$CRIU" restore -D "$IMG" -d -o restore.log -v4 --pidfile restore.pid ||
	die "restore failed, see $IMG/restore.log"
[ "$(cat "$IMG/restore.pid")" = "$PID" ] || die "restored with pid $(cat "$IMG/restore.pid"), not $PID"
sleep 2.5
echo "the counter goes on, same pid:"
grep -A3 -F -x "$LAST" "$LOG"
NEXT=$(grep -A1 -F -x "$LAST" "$LOG" | sed -n 2p)
[ "$NEXT" = "pid $PID: count $((${LAST##* } + 1))" ] || die "the counter did not go on"

step "kill $PID and clean up"
kill "$PID"
echo "demo passed"
