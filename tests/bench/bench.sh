#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make bench: what hostusb costs a VM start, printed as a table.  It reports;
# it never fails on a figure (exit status is non-zero only when it cannot run).
#
#   1. per start: before_vm_start claiming two devices on a ~10 KiB oVirt-style
#      domain XML, vs the floor `cp` of the same file to a temp file + `mv`
#      back; wall time (median of BENCH_RUNS pairs, order alternating, the
#      ratio taken pair by pair) and instructions (callgrind, user space)
#   2. scale: 1 MiB, 64 MiB, 1 GiB documents: throughput vs cp+mv, peak RSS
#   3. host scale: fake roots with 1, 127 and 1000 USB devices
#   4. footprint: stripped glibc and musl static sizes, syscalls of one start
#   5. start against an empty process and against the floor: the start of 1
#      vs an empty static program and vs tests/bench/floor.c (a start's I/O,
#      no parsing, no checks), both built by the Makefile with the same flags
#      (glibc, and musl when musl-gcc is there), timed pair by pair by
#      tests/bench/launch.c (fork, exec, wait; the runs at SCHED_FIFO) with the
#      fake root and the domain file on the run directory's file system; a
#      start with 1,000 unrelated files beside the domain file vs one without;
#      and where one start's time goes, phase by phase (runs cut short at the
#      end of each phase, timed from bash: differences, so its fork cancels)
#   6. journal: a start and a destroy with a 1 MiB journal of 43,690 lines
#      (other devices on other buses; 24 bytes a line is the Python hook's
#      form, lines run together without vmId: only that fits 43,690 lines in
#      1 MiB), median wall time and peak RSS; and a destroy on a host of 1,000
#      devices giving back 32 ids; the glibc build, and the musl one when built
#
# Environment: HOSTUSB (default ./hostusb), BENCH_RUNS (default 200),
# BENCH_GIB (1: run the 1 GiB case, 0: skip it, default: run it when the
# scratch directory has 4 GiB free), BENCH_TMPDIR (documents, default
# ${TMPDIR:-/tmp}: disk, like the directory VDSM makes _hook_domxml in),
# BENCH_RUNDIR (fake roots, default /dev/shm when it is a tmpfs: on a host
# /var/run is /run, a tmpfs, so the journal's fsync costs what it costs there),
# BENCH_ONLY (sections to run, comma-separated: start, scale, host, footprint,
# perstart, journal; default all; BENCH_ONLY=perstart is section 5 alone, in a minute).
# Binaries are run from copies installed out of the tree, as VDSM runs them.
# Runs as root (device nodes are made with mknod and chowned).
set -u
export LC_ALL=C

SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
HOSTUSB=${HOSTUSB:-$SRCDIR/hostusb}
RUNS=${BENCH_RUNS:-200}
VMID=6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de
# shellcheck disable=SC1091
. "$SRCDIR/tests/fixture.sh"
# shellcheck disable=SC1091
. "$SRCDIR/tests/bench/gen.sh"

die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
note() { printf '%s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || die "needs root (mknod and chown of fake device nodes)"
[ -x "$HOSTUSB" ] || die "no $HOSTUSB: run make first"
ONLY=${BENCH_ONLY:-start,scale,host,footprint,perstart,journal}
for section in ${ONLY//,/ }; do
	case $section in start|scale|host|footprint|perstart|journal) ;; *) die "BENCH_ONLY: no section \"$section\"" ;; esac
done
# want SECTION: whether BENCH_ONLY asks for it
want() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
case $HOSTUSB in /*) ;; *) HOSTUSB=$PWD/$HOSTUSB ;; esac

W=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/hostusb-bench.XXXXXX") || die "mktemp"
rundir=${BENCH_RUNDIR:-}
if [ -z "$rundir" ]; then
	rundir=$W
	if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then rundir=/dev/shm; fi
fi
RD=$(mktemp -d "$rundir/hostusb-bench.XXXXXX") || die "mktemp in $rundir"
trap 'rm -rf "$W" "$RD"' EXIT

# ---- helpers

# microseconds since the epoch, without a fork
now() { local t=${EPOCHREALTIME/./}; printf -v "$1" '%s' "$((10#$t))"; }
# stdin: numbers, one a line -> the median (or the q-quantile with quantile Q)
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
	i = (NR + 1) / 2; print (v[int(i)] + v[int(i + 0.5)]) / 2 }'; }
# stdin: numbers -> the mean of the middle half (perf gives CPU time in steps of 10 us)
midmean() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
	lo = int(NR / 4) + 1; hi = NR - int(NR / 4); for (i = lo; i <= hi; i++) s += v[i]; printf "%.0f\n", s / (hi - lo + 1) }'; }
quantile() { sort -g | awk -v q="$1" '{ v[NR] = $1 } END { i = int(q * (NR - 1) + 1.5); print v[i] }'; }
ms() { case $1 in na|"") echo na ;; *) awk -v us="$1" 'BEGIN { printf "%.3f ms", us / 1000 }' ;; esac; }
group() { printf '%s' "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }
kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }

# install_hook BINARY DIR: BINARY installed as DIR/before_vm_start/50_hostusb,
# where VDSM runs it from (the hook point is the directory's name)
install_hook() {
	if ! mkdir -p "$2/before_vm_start" || ! install -m 0755 "$1" "$2/before_vm_start/50_hostusb"; then
		die "cannot install $1 in $2"
	fi
}
install_hook "$HOSTUSB" "$W/hooks"

# start BINARY ROOT DOM PROPERTY [ARG...]: one before_vm_start, as VDSM runs it
start() {
	local binary=$1 root=$2 dom=$3 prop=$4
	shift 4
	hostusb=$prop _hook_domxml=$dom vmId=$VMID "$binary" --root "$root" "$@" >/dev/null
}
# reset ROOT DOM PRISTINE NODES...: the state before a VM start, with nothing
# left to write back (the copy just made, the last run's output): otherwise a
# 1 GiB run is timed against whatever writeback it happens to meet
reset() {
	local root=$1 dom=$2 pristine=$3; shift 3
	cp "$pristine" "$dom" && : >"$root/var/run/vdsm/hooks/hostusb-permissions" 2>/dev/null
	chown 0:0 "$@"
	sync
}
floor() { cp "$1" "$1.floor" && mv "$1.floor" "$1"; }

# pairs N LINK ROOT DOM PRISTINE PROPERTY NODES...: N timed pairs (hook, floor),
# order alternating; leaves "hook_us floor_us" lines in $W/pairs
pairs() {
	local n=$1 link=$2 root=$3 dom=$4 pristine=$5 prop=$6 i t0 t1 th tf; shift 6
	: >"$W/pairs"
	for ((i = 0; i < n; i++)); do
		if ((i % 2 == 0)); then
			reset "$root" "$dom" "$pristine" "$@"
			now t0; start "$link" "$root" "$dom" "$prop" || die "hostusb failed on $dom"; now t1
			th=$((t1 - t0))
			reset "$root" "$dom" "$pristine" "$@"
			now t0; floor "$dom"; now t1
			tf=$((t1 - t0))
		else
			reset "$root" "$dom" "$pristine" "$@"
			now t0; floor "$dom"; now t1
			tf=$((t1 - t0))
			reset "$root" "$dom" "$pristine" "$@"
			now t0; start "$link" "$root" "$dom" "$prop" || die "hostusb failed on $dom"; now t1
			th=$((t1 - t0))
		fi
		printf '%s %s\n' "$th" "$tf" >>"$W/pairs"
	done
}
col() { awk -v c="$1" '{ print $c }' "$W/pairs"; }
ratios() { awk '{ printf "%.6f\n", $1 / $2 }' "$W/pairs"; }
r2() { awk -v r="$1" 'BEGIN { printf "%.2f", r }'; }
# verdict FIGURE LIMIT: "target missed" when FIGURE > LIMIT
verdict() { awk -v f="$1" -v l="$2" 'BEGIN { if (f == "" || f == "nan") print "not measured"; else if (f > l) print "target missed"; else print "met" }'; }

# instructions COMMAND...: user-space instructions under callgrind
instructions() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
		sed -n 's/^==[0-9]*== Collected : *\([0-9]*\).*/\1/p'
}

node() { printf '%s/dev/bus/usb/%03d/%03d' "$1" "$2" "$3"; }

# ---- builds: the musl variant, and the empty programs hostusb is set against

note "building the musl variant and the empty programs..."
B=$W/build
mkdir -p "$B/musl" "$B/empty-glibc" "$B/empty-musl"
for f in "$SRCDIR"/*.c "$SRCDIR"/*.h "$SRCDIR/Makefile"; do
	cp "$f" "$B/musl/" || die "copy $f"
done
# The floor of a static program: one that returns at once, built by the same
# Makefile rule (toolchain, CFLAGS, static-pie or static, hardening, the
# musl build's alloc.c) as hostusb.
# The floor of a start: tests/bench/floor.c, a start's I/O without parsing or
# checks, built by the same rule.
printf 'int main(void) { return 0; }\n' >"$B/empty.c"
for libc in glibc musl; do
	mkdir -p "$B/floor-$libc" || die "mkdir"
	cp "$SRCDIR/Makefile" "$SRCDIR/alloc.c" "$B/empty.c" "$B/empty-$libc/" || die "copy Makefile"
	cp "$SRCDIR/Makefile" "$SRCDIR/alloc.c" "$SRCDIR/tests/bench/floor.c" "$B/floor-$libc/" || die "copy floor.c"
done
# empty_build DIR [MAKE ARG...]: DIR/empty, or "" when the build fails (said);
# PROGRAM=floor builds DIR/floor from floor.c instead
empty_build() {
	local dir=$1 program=${PROGRAM:-empty}
	shift
	if make -s -C "$dir" "$@" SOURCES="$program.c" HEADERS= hostusb >"$dir/make.log" 2>&1 &&
		mv "$dir/hostusb" "$dir/$program"; then
		printf '%s\n' "$dir/$program"
	else
		note "$program program ($*) not built: $(tail -3 "$dir/make.log")"
	fi
}
# The launcher that times whole processes (sections 5), built for this host.
LAUNCH=$B/launch
cc -O2 -o "$LAUNCH" "$SRCDIR/tests/bench/launch.c" || die "cannot build tests/bench/launch.c"
strip -o "$B/hostusb.glibc.stripped" "$HOSTUSB" || die "strip"
glibc_size=$(stat -c %s "$B/hostusb.glibc.stripped")
glibc_empty=
empty_glibc=$(empty_build "$B/empty-glibc")
if [ -n "$empty_glibc" ]; then
	strip -o "$B/empty.glibc.stripped" "$empty_glibc" && glibc_empty=$(stat -c %s "$B/empty.glibc.stripped")
	install_hook "$empty_glibc" "$W/empty-glibc"
fi
floor_glibc=$(PROGRAM=floor empty_build "$B/floor-glibc")
[ -n "$floor_glibc" ] && install_hook "$floor_glibc" "$W/floor-glibc"
musl_size=
empty_musl=
floor_musl=
if command -v musl-gcc >/dev/null; then
	if make -s -C "$B/musl" CC=musl-gcc hostusb >"$B/musl.log" 2>&1; then
		strip -o "$B/hostusb.musl.stripped" "$B/musl/hostusb"
		musl_size=$(stat -c %s "$B/hostusb.musl.stripped")
		install_hook "$B/musl/hostusb" "$W/hooks-musl"
	else
		note "musl build failed: $(tail -3 "$B/musl.log")"
	fi
	empty_musl=$(empty_build "$B/empty-musl" CC=musl-gcc)
	[ -n "$empty_musl" ] && install_hook "$empty_musl" "$W/empty-musl"
	floor_musl=$(PROGRAM=floor empty_build "$B/floor-musl" CC=musl-gcc)
	[ -n "$floor_musl" ] && install_hook "$floor_musl" "$W/floor-musl"
fi

# ---- the start of point 1: 2 devices, a 10.5 KiB domain XML, also used by 2, 3 and 5

R1=$RD/root.start
bench_root "$R1" 4
mkdir -p "$R1/var/run/vdsm/hooks"
bench_domain 10240 "$W/start.xml"
DOM=$W/domxml.start
PROP='0x0627:0x0002&0x0627:0x0004'
NODES=("$(node "$R1" 1 3)" "$(node "$R1" 1 5)")
reset "$R1" "$DOM" "$W/start.xml" "${NODES[@]}"
start "$W/hooks/before_vm_start/50_hostusb" "$R1" "$DOM" "$PROP" || die "the per-start run fails"
[ "$(grep -c '<hostdev ' "$DOM")" = 2 ] || die "the per-start run did not add two hostdevs"
# what the floor writes: the text hostusb inserted (before the last
# </devices>) and the journal it wrote; the floor's devices, by sysfs entry
# (device k of bench_root is "1-k") and node
at=$(grep -b -o '</devices>' "$W/start.xml" | tail -n 1 | cut -d: -f1)
FLOOR_TEXT=$(tail -c +$((at + 1)) "$DOM" | head -c $(( $(stat -c %s "$DOM") - $(stat -c %s "$W/start.xml") )); echo x)
FLOOR_TEXT=${FLOOR_TEXT%x}
FLOOR_JOURNAL=$(cat "$R1/var/run/vdsm/hooks/hostusb-permissions"; echo x)
FLOOR_JOURNAL=${FLOOR_JOURNAL%x}
FLOOR_DEVICES=(1-2 dev/bus/usb/001/003 1-4 dev/bus/usb/001/005)
cp "$DOM" "$W/start.hostusb.xml" || die "cp"
start_size=$(stat -c %s "$W/start.xml")

# ---- 1. per start

if want start; then
note "1. per start ($RUNS pairs)..."
pairs "$RUNS" "$W/hooks/before_vm_start/50_hostusb" "$R1" "$DOM" "$W/start.xml" "$PROP" "${NODES[@]}"
s_hook=$(col 1 | median); s_floor=$(col 2 | median)
s_ratio=$(ratios | median); s_r10=$(ratios | quantile 0.1); s_r90=$(ratios | quantile 0.9)
if [ -n "$musl_size" ]; then
	pairs "$RUNS" "$W/hooks-musl/before_vm_start/50_hostusb" "$R1" "$DOM" "$W/start.xml" "$PROP" "${NODES[@]}"
	m_hook=$(col 1 | median); m_ratio=$(ratios | median)
fi

i_hook=na; i_floor=na; i_musl=na
if command -v valgrind >/dev/null; then
	reset "$R1" "$DOM" "$W/start.xml" "${NODES[@]}"
	i_hook=$(hostusb=$PROP _hook_domxml=$DOM vmId=$VMID instructions \
		"$W/hooks/before_vm_start/50_hostusb" --root "$R1")
	if [ -n "$musl_size" ]; then
		reset "$R1" "$DOM" "$W/start.xml" "${NODES[@]}"
		i_musl=$(hostusb=$PROP _hook_domxml=$DOM vmId=$VMID instructions \
			"$W/hooks-musl/before_vm_start/50_hostusb" --root "$R1")
	fi
	reset "$R1" "$DOM" "$W/start.xml" "${NODES[@]}"
	i_cp=$(instructions cp "$DOM" "$DOM.floor")
	i_mv=$(instructions mv "$DOM.floor" "$DOM")
	i_floor=$((i_cp + i_mv))
fi
fi

# ---- 2. scale

if want scale; then
note "2. scale..."
sizes="1 64"
avail=$(df -k --output=avail "$W" | tail -1)
case ${BENCH_GIB:-auto} in
1) sizes="$sizes 1024" ;;
0) gib_note="skipped (BENCH_GIB=0)" ;;
*) if [ "$avail" -ge $((4 * 1024 * 1024)) ]; then sizes="$sizes 1024"
   else gib_note="skipped: less than 4 GiB free in $W"; fi ;;
esac
declare -A sc_h sc_f sc_r sc_rss sc_rssmax sc_cprss sc_size
for mib in $sizes; do
	note "   $mib MiB..."
	bench_domain $((mib * 1024 * 1024)) "$W/big.xml"
	sc_size[$mib]=$(stat -c %s "$W/big.xml")
	case $mib in 1) n=21 ;; 64) n=11 ;; *) n=3 ;; esac
	pairs "$n" "$W/hooks/before_vm_start/50_hostusb" "$R1" "$DOM" "$W/big.xml" "$PROP" "${NODES[@]}"
	sc_h[$mib]=$(col 1 | median); sc_f[$mib]=$(col 2 | median)
	sc_r[$mib]=$(awk '{ printf "%.6f\n", $2 / $1 }' "$W/pairs" | median)
	# peak RSS of the same input moves by up to ~160 KiB from run to run, in
	# two clusters (the kernel counts RSS in per-CPU batches): the smallest of
	# 11 runs is stable to a few pages, and the spread is shown
	: >"$W/rss"
	for ((i = 0; i < 11; i++)); do
		reset "$R1" "$DOM" "$W/big.xml" "${NODES[@]}"
		hostusb=$PROP _hook_domxml=$DOM vmId=$VMID /usr/bin/time -f %M \
			"$W/hooks/before_vm_start/50_hostusb" --root "$R1" 2>&1 >/dev/null | tail -1 >>"$W/rss"
	done
	sc_rss[$mib]=$(sort -n "$W/rss" | head -1)
	sc_rssmax[$mib]=$(sort -n "$W/rss" | tail -1)
	sc_cprss[$mib]=$(/usr/bin/time -f %M cp "$DOM" "$DOM.floor" 2>&1 | tail -1)
	rm -f "$DOM.floor" "$W/big.xml"
done
fi

# ---- 3. host scale

if want host; then
note "3. host scale..."
declare -A hs_h hs_f hs_r
hn=$(( RUNS / 4 > 11 ? RUNS / 4 : 11 ))
for n in 1 127 1000; do
	note "   $n devices (building the root)..."
	R3=$RD/root.$n
	bench_root "$R3" "$n"
	mkdir -p "$R3/var/run/vdsm/hooks"
	nbus=$(( (n + 99) / 100 ))
	bus=$(( (n - 1) % nbus + 1 )); dev=$(( (n - 1) / nbus + 2 ))
	pairs "$hn" "$W/hooks/before_vm_start/50_hostusb" "$R3" "$DOM" "$W/start.xml" \
		"$(printf '0x0627:0x%04x' "$n")" "$(node "$R3" "$bus" "$dev")"
	hs_h[$n]=$(col 1 | median); hs_f[$n]=$(col 2 | median); hs_r[$n]=$(ratios | median)
	rm -rf "$R3"
done
fi

# ---- 4. syscalls of one start

if want footprint; then
note "4. footprint..."
reset "$R1" "$DOM" "$W/start.xml" "${NODES[@]}"
hostusb=$PROP _hook_domxml=$DOM vmId=$VMID strace -c -f -o "$W/strace" \
	"$W/hooks/before_vm_start/50_hostusb" --root "$R1" >/dev/null || die "strace run failed"
# "calls errors name" per syscall
awk '$NF != "total" && $1 ~ /^[0-9.]+$/ { if (NF == 6) print $4, $5, $6; else print $4, 0, $5 }' \
	"$W/strace" | sort -k1,1nr >"$W/syscalls"
sys_total=$(awk '{ s += $1 } END { print s }' "$W/syscalls")
fi

explain() {
	case $1 in
	execve|brk|arch_prctl|set_tid_address|set_robust_list|rseq|prlimit64|readlink|getrandom|mprotect|exit_group)
		echo "process start-up by libc (static: no loader, no shared libraries)" ;;
	capget) echo "may an unnamed temporary file be linked in (CAP_DAC_READ_SEARCH)" ;;
	linkat) echo "the unnamed temporary files given their name just before the rename" ;;
	getdents64) echo "listing sys/bus/usb/devices" ;;
	openat) echo "sysfs device dirs and attributes, node path walk (O_PATH), passwd/group, journal, domain XML" ;;
	newfstatat|fstat) echo "each attribute/node/file/directory checked to be what it must be (regular file, char device)" ;;
	read) echo "sysfs attributes (one read each), passwd, group, journal, the domain XML" ;;
	close) echo "every descriptor opened above" ;;
	fcntl) echo "fdopendir of the devices directory" ;;
	unlink|unlinkat) echo "what a killed run left under the temporary file's name removed (ENOENT: nothing)" ;;
	mkdir) echo "var/run/vdsm/hooks made if missing" ;;
	flock) echo "the journal lock" ;;
	write) echo "the patched XML (input passed through + the inserted hostdevs) and the journal" ;;
	fsync) echo "journal made durable before any chown: file, then its directory" ;;
	rename) echo "journal replaced, then the patched XML over the domain file" ;;
	fchmod|fchown|geteuid|getegid) echo "temp files get the mode/owner of what they replace" ;;
	fchownat) echo "the device nodes given to qemu" ;;
	*) echo "" ;;
	esac
}

# ---- 5. start against an empty process

# run_case NAME [WRAPPER...]: one run of the start of point 1, prepared (untimed)
# and varied as NAME says, under WRAPPER if given; its wall time in us in
# $took, its exit status in $status, its stderr in $case_err (default
# /dev/null: a file written in the timed window would time its writeback).
#   hook, empty         the hook, an empty program ($CASE_HOOK, $CASE_EMPTY)
#   Cut short (each stops at the first step the previous one did not reach):
#   noprop              no hostusb property: the hook returns at once
#   journal             the journal is a directory: stops at the first journal read
#   lock                the lock file is a directory: stops taking the lock
#   domain              no domain file: stops opening it to commit
#   dry, drynodomain    --dry-run (XML to stdout), with and without the domain file
run_case() {
	local name=$1 binary=$CASE_HOOK dom=$DOM copy=$DOM prop=$PROP args=() t0 t1
	shift
	case $name in
	empty) binary=$CASE_EMPTY ;;
	noprop) prop= ;;
	domain) dom=$W/no-such-domxml ;;
	dry) args=(--dry-run) ;;
	drynodomain) args=(--dry-run) dom=$W/no-such-domxml ;;
	esac
	reset "$R1" "$copy" "$W/start.xml" "${NODES[@]}"
	case $name in
	journal) rm -f "$JOURNAL"; mkdir "$JOURNAL" ;;
	lock) rm -f "$LOCK"; mkdir "$LOCK" ;;
	esac
	now t0
	hostusb=$prop _hook_domxml=$dom vmId=$VMID "$@" "$binary" --root "$R1" "${args[@]}" >/dev/null 2>"$case_err"
	status=$?
	now t1
	took=$((t1 - t0))
	case $name in
	journal) rmdir "$JOURNAL" ;;
	lock) rmdir "$LOCK" && : >"$LOCK" ;;
	esac
}

# The cuts in the order the phases run, then the two dry runs.
CUTS=(empty noprop journal lock domain hook drynodomain dry)
# what each cut must say (on stderr) to have stopped where its name says
cut_says() {
	case $1 in
	journal) echo "hostusb-permissions: " ;;
	lock) echo "hostusb-permissions.lock: " ;;
	domain|drynodomain) echo "no-such-domxml (from _hook_domxml): No such file or directory" ;;
	esac
}
# check_cuts: "" when every cut ends as expected, else what went wrong
check_cuts() {
	local c want case_err=$W/case.err
	for c in "${CUTS[@]}"; do
		run_case "$c"
		want=$(cut_says "$c")
		if { [ -n "$want" ] && { [ "$status" != 2 ] || ! grep -qF -- "$want" "$W/case.err"; }; } ||
			{ [ -z "$want" ] && [ "$status" != 0 ]; }; then
			echo "cut $c: exit $status, $(head -c 200 "$W/case.err")"
			return
		fi
	done
}

# cut_rounds N: N rounds of every cut, each round starting one cut further
# on; a line of wall times (us, in CUTS order) per round in $W/cuts
cut_rounds() {
	local n=$1 i k c line
	local -A t
	: >"$W/cuts"
	for ((i = 0; i < n; i++)); do
		for ((k = 0; k < ${#CUTS[@]}; k++)); do
			c=${CUTS[(i + k) % ${#CUTS[@]}]}
			run_case "$c"
			t[$c]=$took
		done
		line=
		for c in "${CUTS[@]}"; do line="$line ${t[$c]}"; done
		printf '%s\n' "$line" >>"$W/cuts"
	done
}
# cut_diff A B: median over the rounds of cut B's time minus cut A's (1-based columns)
cut_diff() { awk -v a="$1" -v b="$2" '{ print $b - $a }' "$W/cuts" | median; }
cut_col() { awk -v c="$1" '{ print $c }' "$W/cuts" | median; }

# perf_of_case NAME: "page_faults cpu_us" of one run of case NAME, counted by
# perf from the exec on; without perf, page faults from GNU time (getrusage:
# with the fork's own, ~20 more) and no CPU time
HAVE_PERF=$(perf stat -x, -e page-faults,task-clock -o /dev/null true 2>/dev/null && echo 1)
perf_of_case() {
	if [ -n "$HAVE_PERF" ]; then
		run_case "$1" perf stat -x, -e page-faults,task-clock -o "$W/case.perf"
		awk -F, '$3 == "page-faults" { f = $1 } $3 == "task-clock" { t = $1 * 1000 }
			END { printf "%d %d\n", f, t }' "$W/case.perf"
	elif [ -x /usr/bin/time ]; then
		run_case "$1" /usr/bin/time -f %R -o "$W/case.perf"
		echo "$(tail -1 "$W/case.perf") na"
	else
		echo na na
	fi
}

# cut_counts LIBC: user-space instructions (callgrind), system calls (strace),
# page faults and CPU time (perf; of 21 runs, the median and the mean of the
# middle half) of each cut, in ins, sys, pf and cputime, indexed by
# "LIBC,cut" ("na" without the tool)
cut_counts() {
	local libc=$1 c i case_err=$W/case.err
	for c in "${CUTS[@]}"; do
		ins[$libc,$c]=na; sys[$libc,$c]=na; pf[$libc,$c]=na; cputime[$libc,$c]=na
		if command -v valgrind >/dev/null; then
			run_case "$c" valgrind --tool=callgrind --callgrind-out-file=/dev/null
			ins[$libc,$c]=$(sed -n 's/^==[0-9]*== Collected : *\([0-9]*\).*/\1/p' "$W/case.err")
		fi
		if command -v strace >/dev/null; then
			run_case "$c" strace -f -qq -o "$W/case.strace"
			sys[$libc,$c]=$(grep -cE '^[0-9]+ +[a-z_0-9]+\(' "$W/case.strace")
		fi
		for ((i = 0; i < 21; i++)); do perf_of_case "$c"; done >"$W/perf"
		awk '{ print $1 }' "$W/perf" | grep -q na || pf[$libc,$c]=$(awk '{ print $1 }' "$W/perf" | median)
		awk '{ print $2 }' "$W/perf" | grep -q na || cputime[$libc,$c]=$(awk '{ print $2 }' "$W/perf" | midmean)
	done
}

if want perstart; then
note "5. start against an empty process ($RUNS pairs each, $RUNS rounds of the cuts)..."
JOURNAL=$R1/var/run/vdsm/hooks/hostusb-permissions
LOCK=$JOURNAL.lock
case_err=/dev/null
declare -A p5_hook p5_other p5_ratio p5_r10 p5_r90 ins sys pf cputime
declare -A cut_error phase_wall floor_error
# The launcher's runs: the domain files beside the fake root (on a tmpfs, the
# disk's writeback would time whatever else the machine writes meanwhile),
# one alone in its directory and one beside 1,000 unrelated files; the state
# before a start, restored (untimed) before each run
DOM5=$RD/domxml.start
mkdir -p "$RD/domdir.sparse" "$RD/domdir.crowded" || die "mkdir"
for ((i = 0; i < 1000; i++)); do
	printf -v f '%s/tmp%04dx.xml' "$RD/domdir.crowded" "$i"
	: >"$f" || die "cannot create $f"
done
RESET5=$(printf 'cp %q %q && cp %q %q && cp %q %q && : >%q && chown 0:0' "$W/start.xml" "$DOM5" \
	"$W/start.xml" "$RD/domdir.sparse/domxml" "$W/start.xml" "$RD/domdir.crowded/domxml" "$JOURNAL"
	printf ' %q' "${NODES[@]}"
	[ "$(stat -f -c %T "$RD")" = tmpfs ] || echo ' && sync')
# launch_pairs KEY A... -- B...: $RUNS pairs timed by the launcher (one start
# of point 1 each, the environment of case hook), in p5_*[KEY]
launch_pairs() {
	local key=$1 line a b r r10 r90
	shift
	line=$(hostusb=$PROP _hook_domxml=$DOM5 vmId=$VMID "$LAUNCH" -f 10 -n "$RUNS" -r "$RESET5" "$@") ||
		die "the launcher failed on $*"
	read -r a b r r10 r90 <<<"$line"
	p5_hook[$key]=$a; p5_other[$key]=$b; p5_ratio[$key]=$r; p5_r10[$key]=$r10; p5_r90[$key]=$r90
}
# floor_args LIBC: the floor's command line for the start of point 1
floor_args() {
	printf '%s\0' "$W/floor-$1/before_vm_start/50_hostusb" "$R1" "$DOM5" "$FLOOR_TEXT" "$FLOOR_JOURNAL" \
		"${FLOOR_DEVICES[@]}"
}
# check_floor LIBC: "" when the floor writes what hostusb writes, else what differs
check_floor() {
	local args
	mapfile -d '' args < <(floor_args "$1")
	sh -c "$RESET5" || { echo "reset failed"; return; }
	"${args[@]}" || { echo "exit $?"; return; }
	cmp -s "$DOM5" "$W/start.hostusb.xml" || { echo "domain file differs from hostusb's"; return; }
	[ "$(cat "$JOURNAL"; echo x)" = "${FLOOR_JOURNAL}x" ] || echo "journal differs from hostusb's"
}
libcs=()
[ -n "$empty_glibc" ] && libcs+=(glibc)
[ -n "$musl_size" ] && [ -n "$empty_musl" ] && libcs+=(musl)
for libc in "${libcs[@]}"; do
	if [ "$libc" = glibc ]; then
		CASE_HOOK=$W/hooks/before_vm_start/50_hostusb CASE_EMPTY=$W/empty-glibc/before_vm_start/50_hostusb
		have_floor=$floor_glibc
	else
		CASE_HOOK=$W/hooks-musl/before_vm_start/50_hostusb CASE_EMPTY=$W/empty-musl/before_vm_start/50_hostusb
		have_floor=$floor_musl
	fi
	note "   $libc: hostusb against the empty program..."
	launch_pairs "$libc" "$CASE_HOOK" --root "$R1" -- "$CASE_EMPTY"
	if [ -n "$have_floor" ]; then
		floor_error[$libc]=$(check_floor "$libc")
		if [ -z "${floor_error[$libc]}" ]; then
			note "   $libc: hostusb against the floor..."
			mapfile -d '' fargs < <(floor_args "$libc")
			launch_pairs "$libc,floor" "$CASE_HOOK" --root "$R1" -- "${fargs[@]}"
		fi
	fi
	if [ "$libc" = glibc ]; then
		note "   glibc: 1,000 unrelated files beside the domain file..."
		launch_pairs crowded -a "_hook_domxml=$RD/domdir.crowded/domxml" -b "_hook_domxml=$RD/domdir.sparse/domxml" \
			"$CASE_HOOK" --root "$R1" -- "$CASE_HOOK" --root "$R1"
	fi
	note "   $libc: phases (cuts)..."
	cut_error[$libc]=$(check_cuts)
	if [ -z "${cut_error[$libc]}" ]; then
		cut_rounds "$RUNS"
		phase_wall[$libc,empty]=$(cut_col 1)
		phase_wall[$libc,hook]=$(cut_col 6)
		# each phase: from the cut before it to its own (columns in CUTS order)
		for pair in 1:2 2:3 3:4 4:5 5:6 7:8; do
			phase_wall[$libc,d${CUTS[${pair#*:} - 1]}]=$(cut_diff "${pair%:*}" "${pair#*:}")
		done
		cut_counts "$libc"
	fi
done
fi

# ---- 6. journal

# timed_median N CMD...: the median wall time (us) of N runs of CMD, each after
# jreset (which the caller defines: the state before the run, untimed)
timed_median() {
	local n=$1 i t0 t1; shift
	for ((i = 0; i < n; i++)); do
		jreset
		now t0; "$@" >/dev/null 2>"$W/journal.err" || die "$* failed: $(head -c 300 "$W/journal.err")"; now t1
		echo $((t1 - t0))
	done | median
}
# peak_rss CMD...: the peak RSS (KiB) of one run of CMD, after jreset
peak_rss() {
	jreset
	/usr/bin/time -f %M -o "$W/rss" "$@" >/dev/null 2>&1 || die "$* failed"
	tail -n 1 "$W/rss"
}
if want journal; then
note "6. journal..."
[ -x /usr/bin/time ] || die "section journal needs /usr/bin/time (apt-get install time)"
jn=$(( RUNS / 4 > 11 ? RUNS / 4 : 11 ))
R6=$RD/root.journal
bench_root "$R6" 4
J6=$R6/var/run/vdsm/hooks/hostusb-permissions
mkdir -p "${J6%/*}"
# 43,690 records of devices on buses 2..345, none on the root's bus 1; the
# destroy's journal has the VM's own device as the last of the 43,690
awk 'BEGIN { for (i = 0; i < 43690; i++) printf "/dev/bus/usb/%03d/%03d:0:0", 2 + int(i / 127), 1 + i % 127 }' \
	>"$W/journal.start"
{ head -c $((43689 * 24)) "$W/journal.start"; printf '/dev/bus/usb/001/003:0:0'; } >"$W/journal.destroy"
j_bytes=$(stat -c %s "$W/journal.start")
J6_NODE=$(node "$R6" 1 3)
# each case with the glibc build, and the musl one when it was built; every
# run from the copy installed out of the tree, as VDSM runs it
declare -A j_start_us j_start_rss j_destroy_us j_destroy_rss j_d1000_us j_d1000_rss
j_libcs=(glibc)
[ -n "$musl_size" ] && j_libcs+=(musl)
j_hook() { case $1 in glibc) echo "$W/hooks/before_vm_start/50_hostusb" ;; musl) echo "$W/hooks-musl/before_vm_start/50_hostusb" ;; esac; }
for libc in "${j_libcs[@]}"; do
	jbin=$(j_hook "$libc")
	j_start() { start "$jbin" "$R6" "$DOM" 0x0627:0x0002; }
	j_destroy() { hostusb=0x0627:0x0002 vmId=$VMID "$jbin" --root "$R6" after_vm_destroy; }
	jreset() { cp "$W/start.xml" "$DOM" && cp "$W/journal.start" "$J6" && chown 0:0 "$J6_NODE"; }
	j_start_us[$libc]=$(timed_median "$jn" j_start)
	j_start_rss[$libc]=$(peak_rss env hostusb=0x0627:0x0002 _hook_domxml="$DOM" vmId=$VMID "$jbin" --root "$R6")
	jreset && j_start && j_after_start=$(stat -c %s "$J6")
	jreset() { cp "$W/journal.destroy" "$J6" && chown 107:107 "$J6_NODE"; }
	j_destroy_us[$libc]=$(timed_median "$jn" j_destroy)
	j_destroy_rss[$libc]=$(peak_rss env hostusb=0x0627:0x0002 vmId=$VMID "$jbin" --root "$R6" after_vm_destroy)
	[ "$(stat -c %u:%g "$J6_NODE")" = 0:0 ] || die "the destroy with the 1 MiB journal did not give the node back"
done
rm -rf "$R6"

note "   1000 devices (building the root)..."
R6=$RD/root.journal1000
bench_root "$R6" 1000
mkdir -p "$R6/var/run/vdsm/hooks"
# ids 1..32: devices k = 1..32, on buses 1..10 (device k is on bus (k-1)%10+1);
# the journal holds their 32 lines, all of this VM (the start before each
# destroy writes them), and nothing else
j_prop=$(for ((k = 1; k <= 32; k++)); do printf '0x0627:0x%04x&' "$k"; done)
j_prop=${j_prop%&}
j_nodes=()
for ((k = 1; k <= 32; k++)); do j_nodes+=("$(node "$R6" $(( (k - 1) % 10 + 1 )) $(( (k - 1) / 10 + 2 )))"); done
for libc in "${j_libcs[@]}"; do
	jbin=$(j_hook "$libc")
	jreset() {
		cp "$W/start.xml" "$DOM" && : >"$R6/var/run/vdsm/hooks/hostusb-permissions" && chown 0:0 "${j_nodes[@]}" &&
			start "$jbin" "$R6" "$DOM" "$j_prop" &&
			[ "$(wc -l <"$R6/var/run/vdsm/hooks/hostusb-permissions")" = 32 ]
	}
	j_destroy32() { hostusb=$j_prop vmId=$VMID "$jbin" --root "$R6" after_vm_destroy; }
	j_d1000_us[$libc]=$(timed_median "$jn" j_destroy32)
	j_d1000_rss[$libc]=$(peak_rss env hostusb="$j_prop" vmId=$VMID "$jbin" --root "$R6" after_vm_destroy)
	[ "$(stat -c %u:%g "${j_nodes[@]}" | sort -u)" = 0:0 ] || die "the destroy of 32 ids did not give every node back"
	[ ! -s "$R6/var/run/vdsm/hooks/hostusb-permissions" ] || die "the destroy of 32 ids left journal lines"
done
rm -rf "$R6"
fi

# ---- the table

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * a / b }'; }
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
# musl's libc.so and dynamic loader print their version when run
musl_version=
for f in /lib/ld-musl-*.so.1 /usr/lib/*-linux-musl/libc.so /usr/lib/musl/lib/libc.so; do
	[ -x "$f" ] && musl_version=$("$f" 2>&1 | sed -n 's/^Version //p') && [ -n "$musl_version" ] && break
done
echo
echo "hostusb bench  $(date -u +%Y-%m-%d)  $(uname -sr)  ${cpu:-?} x$(nproc)"
echo "  $(cc --version 2>/dev/null | head -1), $(getconf GNU_LIBC_VERSION 2>/dev/null || echo 'libc ?')," \
	"musl ${musl_version:-?}; the figures of one run on this machine"
if want start; then
echo
echo "1. Per start: before_vm_start, 2 devices, $start_size-byte domain XML; floor = cp to a temp file + mv back"
printf '   %-28s %14s %16s\n' "" "wall (median)" "instructions"
printf '   %-28s %14s %16s\n' "hostusb (glibc static)" "$(ms "$s_hook")" "$(group "$i_hook")"
if [ -n "$musl_size" ]; then
	printf '   %-28s %14s %16s\n' "hostusb (musl static)" "$(ms "$m_hook")" "$(group "$i_musl")"
fi
printf '   %-28s %14s %16s\n' "floor (cp + mv)" "$(ms "$s_floor")" "$(group "$i_floor")"
printf '   %-28s %14s %16s\n' "ratio hostusb/floor (glibc)" "$(r2 "$s_ratio")" \
	"$(awk -v a="$i_hook" -v b="$i_floor" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "na" }')"
printf '   %-28s %14s\n' "  (p10 .. p90 of $RUNS pairs)" "$(r2 "$s_r10") .. $(r2 "$s_r90")"
if [ -n "$musl_size" ]; then
	printf '   %-28s %14s %16s\n' "ratio hostusb/floor (musl)" "$(r2 "$m_ratio")" \
		"$(awk -v a="$i_musl" -v b="$i_floor" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "na" }')"
fi
echo "   target: ratio <= 1.0"
fi
if want scale; then
echo
echo "2. Scale: documents with many disks and interfaces (throughput = size / median wall time;"
echo "   hostusb/cp = median of the ratios of pairs timed side by side, not the ratio of the two throughputs)"
printf '   %-9s %10s %12s %12s   %-26s %12s\n' size hostusb "cp + mv" "hostusb/cp" "peak RSS (min..max)" "cp peak RSS"
for mib in $sizes; do
	printf '   %-9s %10s %12s %12s   %-26s %12s\n' "$mib MiB" \
		"$(awk -v s="${sc_size[$mib]}" -v t="${sc_h[$mib]}" 'BEGIN { printf "%.0f MiB/s", s / 1048576 / (t / 1e6) }')" \
		"$(awk -v s="${sc_size[$mib]}" -v t="${sc_f[$mib]}" 'BEGIN { printf "%.0f MiB/s", s / 1048576 / (t / 1e6) }')" \
		"$(awk -v r="${sc_r[$mib]}" 'BEGIN { printf "%.0f%%", 100 * r }')" \
		"${sc_rss[$mib]}..${sc_rssmax[$mib]} KiB" "${sc_cprss[$mib]} KiB"
done
[ -n "${gib_note:-}" ] && echo "   1 GiB: $gib_note"
last=${sizes##* }
echo "   peak RSS (min) 1 MiB -> $last MiB: $(( sc_rss[$last] - sc_rss[1] )) KiB (target: within 64 KiB)"
echo "   target: >= 50% of cp's throughput at every size (hostusb/cp: median of pairwise ratios)"
fi
if want host; then
echo
echo "3. Host scale: before_vm_start claiming one device, fake root with N devices over ceil(N/100) buses"
printf '   %-9s %14s %14s %10s\n' devices "hostusb" "floor" "ratio"
for n in 1 127 1000; do
	printf '   %-9s %14s %14s %10s\n' "$n" "$(ms "${hs_h[$n]}")" "$(ms "${hs_f[$n]}")" "$(r2 "${hs_r[$n]}")"
done
echo "   per device: $(awk -v a="${hs_h[1]}" -v b="${hs_h[127]}" 'BEGIN { printf "%.1f us", (b - a) / 126 }') (1 -> 127)," \
	"$(awk -v a="${hs_h[127]}" -v b="${hs_h[1000]}" 'BEGIN { printf "%.1f us", (b - a) / 873 }') (127 -> 1000)"
if [ -n "${s_hook:-}" ]; then
	echo "   target: 127 devices under 2 x per start: $(ms "${hs_h[127]}") vs $(ms $((2 * ${s_hook%.*})))"
	# the two are timed minutes apart on a machine whose speed drifts; each
	# against the floor timed beside it drifts far less
	echo "   the same against the floor of each run: $(r2 "${hs_r[127]}") / $(r2 "$s_ratio") =" \
		"$(awk -v a="${hs_r[127]}" -v b="$s_ratio" 'BEGIN { printf "%.2f", a / b }') x per start"
else
	echo "   target: 127 devices under 2 x per start (section 1 not run: BENCH_ONLY=$ONLY)"
fi
fi
if want footprint; then
echo
echo "4. Footprint"
printf '   %-34s %s\n' "glibc static, stripped" "$glibc_size bytes ($(kib "$glibc_size"))"
[ -n "$glibc_empty" ] && printf '   %-34s %s\n' "  an empty glibc static program" \
	"$glibc_empty bytes: hostusb adds $(kib $((glibc_size - glibc_empty)))"
if [ -n "$musl_size" ]; then
	printf '   %-34s %s\n' "musl static (make CC=musl-gcc)" \
		"$musl_size bytes ($(kib "$musl_size")); target <= 96 KiB (98304): $(verdict "$musl_size" 98304)"
else
	printf '   %-34s %s\n' "musl static" "not built (no musl-gcc)"
fi
echo "   syscalls of one start (strace -c -f): $sys_total"
while read -r calls errors name; do
	failed=
	[ "$errors" != 0 ] && failed=" ($errors failed)"
	printf '   %6s %-11s %s%s\n' "$calls" "$name" "$(explain "$name")" "$failed"
done <"$W/syscalls"
fi

if want perstart; then
# plus A B: B - A with a sign, for counts ("na" when either is)
plus() { case "$1$2" in *na*|"") echo na ;; *) printf '%+d' $(($2 - $1)) ;; esac; }
us() { case $1 in na|"") echo na ;; *) awk -v u="$1" 'BEGIN { printf "%+.3f ms", u / 1000 }' ;; esac; }
echo
echo "5. Start against an empty process and against the floor: the start of 1, binaries installed out of the tree;" \
	"fake root and domain file on $(df --output=fstype "$RD" | tail -1) (the phases: domain file on $(df --output=fstype "$W" | tail -1))"
echo "   timed by tests/bench/launch.c: fork, exec, wait; A and B alternating; an untimed reset before each run;"
echo "   the runs at SCHED_FIFO, so that other work on the machine does not preempt them"
echo "   empty = int main(void) { return 0; } built by the Makefile's rule for hostusb (same CC, flags, static linking);"
echo "   floor = tests/bench/floor.c, built the same way: the same sysfs attributes read, the journal replaced"
echo "   (O_TMPFILE, write, fsync, link, rename, fsync of its directory), the nodes chowned, the domain file"
echo "   replaced with the text inserted; no parsing, no checks; it writes what hostusb writes (compared)"
printf '   %-44s %11s %11s %7s %13s   %s\n' "pair, $RUNS of each (wall, median)" "hostusb" "other" ratio "p10 .. p90" "target"
# p5_row KEY LABEL LIMIT[:WHY NOT MEASURED]: LIMIT "-" for none
p5_row() {
	if [ -z "${p5_ratio[$1]:-}" ]; then
		printf '   %-44s %s\n' "$2" "not measured (${3#*:})"
		return
	fi
	local limit=${3%%:*} target=
	[ "$limit" != - ] && target="<= $limit  $(verdict "${p5_ratio[$1]}" "$limit")"
	printf '   %-44s %11s %11s %7s %13s   %s\n' "$2" "$(ms "${p5_hook[$1]}")" "$(ms "${p5_other[$1]}")" \
		"$(r2 "${p5_ratio[$1]}")" "$(r2 "${p5_r10[$1]}") .. $(r2 "${p5_r90[$1]}")" "$target"
}
for libc in glibc musl; do
	why="no $libc empty program built"
	[ "$libc" = musl ] && [ -z "$musl_size" ] && why="no musl-gcc (apt-get install musl-tools)"
	p5_row "$libc" "$libc: hostusb / empty static program" "-:$why"
	why=${floor_error[$libc]:+the floor did not do what hostusb does: ${floor_error[$libc]}}
	p5_row "$libc,floor" "$libc: hostusb / floor" "1.15:${why:-no $libc floor program built}"
done
p5_row crowded "glibc: 1,000 unrelated files beside / none" "1.05:no empty glibc program built"
# phase_table LIBC: the phases of one start of the LIBC build
phase_table() {
	local libc=$1 c prev=empty label
	local row='   %-58s %10s %10s %12s %8s %6s\n'
	echo
	if [ -n "${cut_error[$libc]}" ]; then
		echo "   Phases ($libc): not measured, a cut did not stop where expected: ${cut_error[$libc]}"
		return
	fi
	echo "   Phases of one start ($libc build), from runs cut short at the end of each phase."
	echo "   wall: median over $RUNS rounds of (cut at its end - cut at its start), run side by side;"
	echo "   cpu: the process's CPU time, exec to exit (perf task-clock), mean of the middle half of 21 runs;"
	echo "   instructions: callgrind, user space (a rep stos counts once a byte); syscalls: strace;"
	echo "   faults: page faults (perf, median of 21 runs)"
	# shellcheck disable=SC2059
	printf "$row" phase wall cpu instructions syscalls faults
	# shellcheck disable=SC2059
	printf "$row" "empty program: fork, exec, libc start, exit" "$(ms "${phase_wall[$libc,empty]}")" \
		"$(ms "${cputime[$libc,empty]}")" "$(group "${ins[$libc,empty]}")" "${sys[$libc,empty]}" "${pf[$libc,empty]}"
	for c in noprop journal lock domain hook dry; do
		case $c in
		noprop) label="hostusb's own start: binary, options, environment" ;;
		journal) label="property, owner (passwd, group), sysfs scan" ;;
		lock) label="journal read, nodes checked, journal dirs, lock opened" ;;
		domain) label="lock taken, journal read again, plan under the lock" ;;
		hook) label="commit: XML to a temp file, journal + fsync, chown, rename" ;;
		dry) label="  of which the XML patch (dry run with vs without domain)"; prev=drynodomain ;;
		esac
		# shellcheck disable=SC2059
		printf "$row" "$label" "$(us "${phase_wall[$libc,d$c]}")" "$(us "$(plus "${cputime[$libc,$prev]}" "${cputime[$libc,$c]}")")" \
			"$(group "$(plus "${ins[$libc,$prev]}" "${ins[$libc,$c]}")")" \
			"$(plus "${sys[$libc,$prev]}" "${sys[$libc,$c]}")" "$(plus "${pf[$libc,$prev]}" "${pf[$libc,$c]}")"
		prev=$c
	done
	# shellcheck disable=SC2059
	printf "$row" "a full start" "$(ms "${phase_wall[$libc,hook]}")" "$(ms "${cputime[$libc,hook]}")" \
		"$(group "${ins[$libc,hook]}")" "${sys[$libc,hook]}" "${pf[$libc,hook]}"
}
for libc in "${libcs[@]}"; do phase_table "$libc"; done
fi
if want journal; then
echo
echo "6. Journal: $(group "$j_bytes")-byte journal of 43,690 lines (other devices on other buses);"
echo "   median of $jn runs, peak RSS of one run (/usr/bin/time -f %M)"
printf '   %-48s %10s %10s\n' "" "wall" "peak RSS"
for libc in "${j_libcs[@]}"; do
	printf '   %-48s %10s %10s\n' "before_vm_start, 1 device ($libc)" "$(ms "${j_start_us[$libc]}")" "${j_start_rss[$libc]} KiB"
	printf '   %-48s %10s %10s\n' "after_vm_destroy, 1 device ($libc)" "$(ms "${j_destroy_us[$libc]}")" "${j_destroy_rss[$libc]} KiB"
	printf '   %-48s %10s %10s\n' "after_vm_destroy, 32 ids, 1,000 devices ($libc)" "$(ms "${j_d1000_us[$libc]}")" "${j_d1000_rss[$libc]} KiB"
done
[ "${#j_libcs[@]}" = 1 ] && echo "   musl: not built (apt-get install musl-tools)"
echo "   target: start and destroy each under 50 ms and 2 MB resident with the 1 MiB journal;"
echo "           1,000 devices with 32 ids, destroy under 20 ms"
if [ "${j_after_start:-0}" -gt 2359296 ]; then
	echo "   note: the start rewrote the journal one line a record: $(group "$j_after_start") bytes, over the 2,359,296 a journal may have"
fi
fi
