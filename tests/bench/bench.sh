#!/bin/bash
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
#
# Environment: HOSTUSB (default ./hostusb), BENCH_RUNS (default 200),
# BENCH_GIB (1: run the 1 GiB case, 0: skip it, default: run it when the
# scratch directory has 4 GiB free), BENCH_TMPDIR (documents, default
# ${TMPDIR:-/tmp}: disk, like the directory VDSM makes _hook_domxml in),
# BENCH_RUNDIR (fake roots, default /dev/shm when it is a tmpfs: on a host
# /var/run is /run, a tmpfs, so the journal's fsync costs what it costs there).
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
quantile() { sort -g | awk -v q="$1" '{ v[NR] = $1 } END { i = int(q * (NR - 1) + 1.5); print v[i] }'; }
ms() { awk -v us="$1" 'BEGIN { printf "%.3f ms", us / 1000 }'; }
group() { printf '%s' "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }
kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }

# hook dirs: VDSM runs the file from the hook point's directory
mkdir -p "$W/hooks/before_vm_start" || die "mkdir"
ln -s "$HOSTUSB" "$W/hooks/before_vm_start/50_hostusb"

# start BINARY_LINK ROOT DOM PROPERTY: one before_vm_start, as VDSM runs it
start() {
	hostusb=$4 _hook_domxml=$3 vmId=$VMID "$1" --root "$2" >/dev/null
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

# instructions COMMAND...: user-space instructions under callgrind
instructions() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
		sed -n 's/^==[0-9]*== Collected : *\([0-9]*\).*/\1/p'
}

node() { printf '%s/dev/bus/usb/%03d/%03d' "$1" "$2" "$3"; }

# ---- builds for the footprint (and a musl row in the per-start table)

note "building the footprint variants..."
B=$W/build
mkdir -p "$B/musl"
for f in hostusb.c sysfs.c sysfs.h xmlpatch.c xmlpatch.h format.c format.h Makefile; do
	cp "$SRCDIR/$f" "$B/musl/" || die "copy $f"
done
strip -o "$B/hostusb.glibc.stripped" "$HOSTUSB" || die "strip"
glibc_size=$(stat -c %s "$B/hostusb.glibc.stripped")
musl_size=
if command -v musl-gcc >/dev/null; then
	if make -s -C "$B/musl" CC=musl-gcc hostusb >"$B/musl.log" 2>&1; then
		strip -o "$B/hostusb.musl.stripped" "$B/musl/hostusb"
		musl_size=$(stat -c %s "$B/hostusb.musl.stripped")
		mkdir -p "$W/hooks-musl/before_vm_start"
		ln -s "$B/musl/hostusb" "$W/hooks-musl/before_vm_start/50_hostusb"
	else
		note "musl build failed: $(tail -3 "$B/musl.log")"
	fi
fi
# the floor of a static glibc program: one that does nothing, linked the same way
printf 'int main(void) { return 0; }\n' >"$B/empty.c"
glibc_empty=
if cc -O2 -static-pie -fPIE -Wl,-z,relro,-z,now -o "$B/empty" "$B/empty.c" 2>/dev/null ||
	cc -O2 -static -Wl,-z,relro,-z,now -o "$B/empty" "$B/empty.c" 2>/dev/null; then
	strip "$B/empty" && glibc_empty=$(stat -c %s "$B/empty")
fi

# ---- 1. per start

note "1. per start ($RUNS pairs)..."
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
start_size=$(stat -c %s "$W/start.xml")

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

# ---- 2. scale

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

# ---- 3. host scale

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

# ---- 4. syscalls of one start

note "4. footprint..."
reset "$R1" "$DOM" "$W/start.xml" "${NODES[@]}"
hostusb=$PROP _hook_domxml=$DOM vmId=$VMID strace -c -f -o "$W/strace" \
	"$W/hooks/before_vm_start/50_hostusb" --root "$R1" >/dev/null || die "strace run failed"
# "calls errors name" per syscall
awk '$NF != "total" && $1 ~ /^[0-9.]+$/ { if (NF == 6) print $4, $5, $6; else print $4, 0, $5 }' \
	"$W/strace" | sort -k1,1nr >"$W/syscalls"
sys_total=$(awk '{ s += $1 } END { print s }' "$W/syscalls")

explain() {
	case $1 in
	execve|brk|arch_prctl|set_tid_address|set_robust_list|rseq|prlimit64|readlink|getrandom|mprotect|exit_group)
		echo "process start-up by libc (static: no loader, no shared libraries)" ;;
	getdents64) echo "listing sys/bus/usb/devices; the journal's and the domain file's directories (stale temp files)" ;;
	openat) echo "sysfs device dirs and attributes, node path walk (O_PATH), passwd/group, journal, domain XML" ;;
	newfstatat|fstat) echo "each attribute/node/file/directory checked to be what it must be (regular file, char device)" ;;
	read) echo "sysfs attributes (one read each), passwd, group, journal, the domain XML" ;;
	close) echo "every descriptor opened above" ;;
	fcntl) echo "fdopendir of the devices directory" ;;
	unlink|unlinkat) echo "stale temporary files of a killed run removed" ;;
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

# ---- the table

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * a / b }'; }
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
echo
echo "hostusb bench  $(date -u +%Y-%m-%d)  $(uname -sr)  ${cpu:-?} x$(nproc)"
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
echo
echo "2. Scale: documents with many disks and interfaces (throughput = size / median wall time)"
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
echo
echo "3. Host scale: before_vm_start claiming one device, fake root with N devices over ceil(N/100) buses"
printf '   %-9s %14s %14s %10s\n' devices "hostusb" "floor" "ratio"
for n in 1 127 1000; do
	printf '   %-9s %14s %14s %10s\n' "$n" "$(ms "${hs_h[$n]}")" "$(ms "${hs_f[$n]}")" "$(r2 "${hs_r[$n]}")"
done
echo "   per device: $(awk -v a="${hs_h[1]}" -v b="${hs_h[127]}" 'BEGIN { printf "%.1f us", (b - a) / 126 }') (1 -> 127)," \
	"$(awk -v a="${hs_h[127]}" -v b="${hs_h[1000]}" 'BEGIN { printf "%.1f us", (b - a) / 873 }') (127 -> 1000)"
echo "   target: 127 devices under 2 x per start: $(ms "${hs_h[127]}") vs $(ms $((2 * ${s_hook%.*})))"
# the two are timed minutes apart on a machine whose speed drifts; each
# against the floor timed beside it drifts far less
echo "   the same against the floor of each run: $(r2 "${hs_r[127]}") / $(r2 "$s_ratio") =" \
	"$(awk -v a="${hs_r[127]}" -v b="$s_ratio" 'BEGIN { printf "%.2f", a / b }') x per start"
echo
echo "4. Footprint"
printf '   %-34s %s\n' "glibc static, stripped" "$glibc_size bytes ($(kib "$glibc_size"))"
[ -n "$glibc_empty" ] && printf '   %-34s %s\n' "  an empty glibc static program" \
	"$glibc_empty bytes: hostusb adds $(kib $((glibc_size - glibc_empty)))"
if [ -n "$musl_size" ]; then
	printf '   %-34s %s\n' "musl static (make CC=musl-gcc)" "$musl_size bytes ($(kib "$musl_size")); target <= 64 KiB (65536)"
else
	printf '   %-34s %s\n' "musl static" "not built (no musl-gcc)"
fi
echo "   syscalls of one start (strace -c -f): $sys_total"
while read -r calls errors name; do
	failed=
	[ "$errors" != 0 ] && failed=" ($errors failed)"
	printf '   %6s %-11s %s%s\n' "$calls" "$name" "$(explain "$name")" "$failed"
done <"$W/syscalls"
