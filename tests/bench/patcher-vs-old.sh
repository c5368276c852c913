#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The patcher's throughput against an older build (by default commit 26c95aa,
# the last before the exact well-formedness checks), side by side: a dry run
# of before_vm_start (the patched XML to stdout, nothing changed) on a 64 MiB
# oVirt-style domain XML on a tmpfs, the two programs timed as whole
# processes by tests/bench/launch.c, pair by pair, the order alternating,
# once by wall time and once by CPU time (steadier on a busy machine).
# Reports the median of the pairs' ratios (old time / new time: above 1, the
# new one is faster) with p10-p90, each one's throughput, and peak RSS.
# Run by `make bench`; never fails on a figure.
#
# Environment: HOSTUSB (default ./hostusb), PATCHER_BASE (a commit to build,
# default 26c95aa; built from `git archive` in a scratch directory with the
# same CC and flags), PATCHER_OLD (an old binary to use instead of building
# one), PATCHER_RUNS (pairs, default 31), PATCHER_MIB (document size, 64),
# PATCHER_TMPDIR (default /dev/shm; must be a tmpfs).
# Runs as root (the fake root's device nodes are made with mknod).
set -u
export LC_ALL=C

SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
HOSTUSB=${HOSTUSB:-$SRCDIR/hostusb}
BASE=${PATCHER_BASE:-26c95aa}
OLD=${PATCHER_OLD:-}
RUNS=${PATCHER_RUNS:-31}
MIB=${PATCHER_MIB:-64}
TMPBASE=${PATCHER_TMPDIR:-/dev/shm}
# shellcheck disable=SC1091
. "$SRCDIR/tests/fixture.sh"
# shellcheck disable=SC1091
. "$SRCDIR/tests/bench/gen.sh"

die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
note() { printf '%s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || die "needs root (mknod of fake device nodes)"
[ -x "$HOSTUSB" ] || die "no $HOSTUSB: run make first"
[ "$(stat -f -c %T "$TMPBASE" 2>/dev/null)" = tmpfs ] || die "$TMPBASE is not a tmpfs"
case $HOSTUSB in /*) ;; *) HOSTUSB=$PWD/$HOSTUSB ;; esac
case $OLD in /*|"") ;; *) OLD=$PWD/$OLD ;; esac

W=$(mktemp -d "$TMPBASE/hostusb-patcher.XXXXXX") || die "mktemp in $TMPBASE"
trap 'rm -rf "$W"' EXIT

${CC:-cc} -std=gnu11 -O2 -o "$W/launch" "$SRCDIR/tests/bench/launch.c" || die "cannot build the launcher"
if [ -z "$OLD" ]; then
	note "building $BASE..."
	mkdir "$W/base"
	git -C "$SRCDIR" archive "$BASE" 2>/dev/null | tar -x -C "$W/base" ||
		{ echo "throughput against $BASE: not measured (no git history of $BASE here)"; exit 0; }
	make -s -C "$W/base" hostusb CC="${CC:-cc}" >/dev/null || die "cannot build $BASE"
	OLD=$W/base/hostusb
	old_name=$BASE
else
	old_name=$OLD
fi
# as VDSM runs them: the hook point is the directory's name
for side in old new; do
	mkdir -p "$W/$side/before_vm_start" || die "mkdir"
done
install -m 0755 "$OLD" "$W/old/before_vm_start/50_hostusb" || die "install $OLD"
install -m 0755 "$HOSTUSB" "$W/new/before_vm_start/50_hostusb" || die "install $HOSTUSB"

note "a $MIB MiB document..."
bench_root "$W/root" 4
bench_domain $((MIB * 1024 * 1024)) "$W/dom.xml"
size=$(stat -c %s "$W/dom.xml")
export hostusb='0x0627:0x0002&0x0627:0x0004' _hook_domxml=$W/dom.xml vmId=6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de
old_cmd=("$W/old/before_vm_start/50_hostusb" --root "$W/root" --dry-run)
new_cmd=("$W/new/before_vm_start/50_hostusb" --root "$W/root" --dry-run)
"${old_cmd[@]}" >"$W/old.out" 2>/dev/null || die "$old_name failed on the document"
"${new_cmd[@]}" >"$W/new.out" 2>/dev/null || die "$HOSTUSB failed on the document"
cmp -s "$W/old.out" "$W/new.out" || die "the two builds patch the document differently"
rm -f "$W/old.out" "$W/new.out"

note "$RUNS pairs, wall time, then $RUNS pairs, CPU time..."
"$W/launch" -n "$RUNS" -o "$W/wall" "${old_cmd[@]}" -- "${new_cmd[@]}" >/dev/null 2>&1 || die "a timed run failed"
"$W/launch" -c -n "$RUNS" -o "$W/cpu" "${old_cmd[@]}" -- "${new_cmd[@]}" >/dev/null 2>&1 || die "a timed run failed"
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
rss_old=$(rss "${old_cmd[@]}")
rss_new=$(rss "${new_cmd[@]}")

# q P: the P-quantile of the numbers on stdin
q() { sort -g | awk -v p="$1" '{ v[NR] = $1 } END { print v[int(p * (NR - 1) + 1.5)] }'; }
# summary FILE WHAT: the ratios of the pairs in FILE ("old new" lines), and each one's throughput
summary() {
	local ratio p10 p90 t_old t_new
	ratio=$(awk '{ printf "%.6f\n", $1 / $2 }' "$1" | q 0.5)
	p10=$(awk '{ printf "%.6f\n", $1 / $2 }' "$1" | q 0.1)
	p90=$(awk '{ printf "%.6f\n", $1 / $2 }' "$1" | q 0.9)
	t_old=$(awk '{ print $1 }' "$1" | q 0.5)
	t_new=$(awk '{ print $2 }' "$1" | q 0.5)
	awk -v r="$ratio" -v p10="$p10" -v p90="$p90" -v n="$RUNS" -v what="$2" -v name="$old_name" -v size="$size" \
		-v to="$t_old" -v tn="$t_new" 'BEGIN {
		printf "  %-9s %.2fx (median of %d pairs, p10-p90 %.2f-%.2f): hostusb %.0f MiB/s, %s %.0f MiB/s\n",
			what, r, n, p10, p90, size / 1048576 / (tn / 1e6), name, size / 1048576 / (to / 1e6)
	}'
}
echo "throughput against $old_name ($MIB MiB dry run on a tmpfs; above 1: faster), peak RSS $rss_new KiB vs $rss_old KiB:"
summary "$W/wall" "wall time"
summary "$W/cpu" "CPU time"
