# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault injection: every step of before_vm_start's transaction fails in turn,
# by real conditions (a full tmpfs, an immutable file, a read-only mount, a
# held lock) and through tests/faultshim.so preloaded into tests/hostusb-dyn
# (the same sources linked dynamically).  After a failure the domain file is
# byte-identical, every node has its old owner, the journal is as before and
# no temp file is left; when the rollback fails too, every node away from its
# owner keeps its journal line; after a SIGKILL anywhere a second run or
# after_vm_destroy makes the host consistent again.
#
# HOSTUSB_LONG_TESTS=1: faults and kills at every libc call of a run, every
# call of a rollback failed (closes too), and SIGKILLs after random delays.
# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"
# shellcheck source=tests/fixture.sh
. "$SRCDIR/tests/fixture.sh"

VM1=6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de
VM2=0f0e0d0c-0b0a-4909-8807-060504030201
DYN=$SRCDIR/tests/hostusb-dyn
SHIM=$SRCDIR/tests/faultshim.so
PROP="0x0627:0x0001&0x0627:0x0001&0x0781:0x5567"
LONG=${HOSTUSB_LONG_TESTS:-0}

if ! is_root; then
	skip "fault injection" "need root to mknod device nodes, chown them, mount and chattr"
	exit 0
fi
# Everything on a tmpfs in a private mount namespace when possible: fsync
# costs nothing there, and nothing is left mounted afterwards.
if [ "${HOSTUSB_FAULTS_NS:-}" != 1 ] && unshare -m true 2>/dev/null; then
	HOSTUSB_FAULTS_NS=1 exec unshare -m bash "$SRCDIR/tests/t_faults.sh" "$@"
fi
if [ "${HOSTUSB_FAULTS_NS:-}" = 1 ] && [ "${1:-}" != full-tmpfs ]; then
	mount -t tmpfs -o size=256m,mode=0755 tmpfs "$TESTTMP" || exit 1
fi

# One root for the whole file: bus 1 and 2, three 0627:0001 and a unique stick;
# VM2 already holds 002/002 (journal line, owner 107:107), so "the journal is
# as before" means a journal with a line in it.  VM1 asks for PROP: 001/002,
# 001/003 and 002/003.
R=$TESTTMP/root
if [ "${1:-}" != full-tmpfs ]; then
	rm -rf "$R"
	fixture_root "$R"
	fixture_bus "$R" 1
	fixture_bus "$R" 2
	fixture_device "$R" 1-1 0627 0001 2
	fixture_device "$R" 1-2 0627 0001 3
	fixture_device "$R" 2-1 0627 0001 2
	fixture_device "$R" 2-2 0781 5567 3
fi
DOMDIR=$TESTTMP/dom
DOM=$DOMDIR/domxml
JDIR=$R/var/run/vdsm/hooks
JOURNAL=$JDIR/hostusb-permissions
NODES=("$R"/dev/bus/usb/*/*)
ORIG_JOURNAL="/dev/bus/usb/002/002:0:0:$VM2"

# reset: the state before every run (few processes: this runs hundreds of times)
DOMTEXT=$(cat "$SRCDIR/tests/data/ovirt-domain.xml"; echo x)
DOMTEXT=${DOMTEXT%x}
shopt -s nullglob
strays_of() { STRAYS=("$DOMDIR"/*.hostusb-* "$JDIR"/hostusb-permissions.??????); }
reset() {
	strays_of
	rm -rf "$R/var/run/vdsm" "$DOM" "${STRAYS[@]}"
	mkdir -p "$JDIR" "$DOMDIR"
	printf '%s\n' "$ORIG_JOURNAL" >"$JOURNAL"
	chown 0:0 "${NODES[@]}"
	chown 107:107 "$R/dev/bus/usb/002/002"
	(umask 077 && printf '%s' "$DOMTEXT" >"$DOM")
}
strays() { strays_of; [ ${#STRAYS[@]} = 0 ] || printf '%s\n' "${STRAYS[@]}"; }
owners() { local o; o=$(stat -c '%n=%u:%g' "${NODES[@]}"); o=${o//"$R"/}; printf '%s' "${o//$'\n'/ }"; }
journal() { if [ -e "$JOURNAL" ]; then printf '%s' "$(<"$JOURNAL")"; else printf none; fi; }
# owners of every node | the journal | the domain file | files left beside them
snapshot() {
	strays_of
	printf '%s|%s|%s|%s' "$(owners)" "$(journal)" "$(md5sum <"$DOM")" "${#STRAYS[@]}"
}
domsum() { md5sum <"$DOM"; }

# run BINARY [args]: before_vm_start as VM1 with PROP (plus FAULT env); sets RC, ERR
run() {
	local bin=$1; shift
	ERR=$(env -i PATH=/usr/bin:/bin hostusb="$PROP" _hook_domxml="$DOM" vmId="$VM1" "${FAULT_ENV[@]}" \
		"$bin" --root "$R" "$@" 2>&1 >/dev/null)
	RC=$?
}
FAULT_ENV=()
# shim FAULTSPEC [args]: the dynamic build with the shim and HOSTUSB_FAULT=FAULTSPEC
shim() {
	local spec=$1; shift
	FAULT_ENV=(LD_PRELOAD="$SHIM" HOSTUSB_FAULT="$spec" "${EXTRA_ENV[@]}")
	run "$DYN" "$@" before_vm_start
	FAULT_ENV=()
}
EXTRA_ENV=()
one_line() { [ "${ERR#hostusb: }" != "$ERR" ] && [ "${ERR//$'\n'/}" = "$ERR" ]; }

# the temp XML does not fit: run inside a private mount namespace (see below),
# where DOMDIR is a small, full tmpfs
if [ "${1:-}" = full-tmpfs ]; then
	reset
	cp "$DOM" "$TESTTMP/dom.orig"
	mount -t tmpfs -o size=64k tmpfs "$DOMDIR" || exit 3
	cp "$TESTTMP/dom.orig" "$DOM"
	chmod 0600 "$DOM"
	dd if=/dev/zero of="$DOMDIR/filler" bs=4k 2>/dev/null
	BEFORE_FULL=$(snapshot)
	run "$HOSTUSB" before_vm_start
	printf '%s\n%s\n%s\n%s\n' "$RC" "$ERR" "$BEFORE_FULL" "$(snapshot)"
	exit 0
fi

# The states to compare with: before, and after a good run
reset
BEFORE=$(snapshot)
BEFORE_DOM=$(domsum)
run "$HOSTUSB" before_vm_start
check_eq "reference run: exit 0, a line per node given" "$RC:$ERR" "0:hostusb: VM $VM1: gave /dev/bus/usb/001/002 (0x0627:0x0001 port 1-1, bus 1 device 2) to 107:107; recorded owner 0:0 mode 0600
hostusb: VM $VM1: gave /dev/bus/usb/001/003 (0x0627:0x0001 port 1-2, bus 1 device 3) to 107:107; recorded owner 0:0 mode 0600
hostusb: VM $VM1: gave /dev/bus/usb/002/003 (0x0781:0x5567 port 2-2, bus 2 device 3) to 107:107; recorded owner 0:0 mode 0600"
GOOD=$(snapshot)
GOOD_DOM=$(domsum)
GOOD_JOURNAL=$(cat "$JOURNAL")
check_eq "reference run: VM1's three lines added" "$GOOD_JOURNAL" "$ORIG_JOURNAL
/dev/bus/usb/001/002:0:0:$VM1:0600
/dev/bus/usb/001/003:0:0:$VM1:0600
/dev/bus/usb/002/003:0:0:$VM1:0600"

if [ ! -x "$DYN" ] || [ ! -f "$SHIM" ]; then
	fail "fault shim" "tests/hostusb-dyn or tests/faultshim.so not built (make check builds them)"
	exit 1
fi

# rolled_back NAME: after a failed run, exit 2, one line, nothing changed
rolled_back() {
	local name=$1 got
	got=$(snapshot)
	if [ "$RC" = 2 ] && one_line && [ "$got" = "$BEFORE" ]; then
		pass "$name"
	else
		fail "$name" "exit $RC, stderr [$ERR], state [$got], want exit 2, one line, state [$BEFORE]"
	fi
}

# ---- the shim itself: a traced run with no fault is a good run
reset
TRACE=$TESTTMP/trace
rm -f "$TRACE"
EXTRA_ENV=(HOSTUSB_FAULT_TRACE="$TRACE")
shim ""
EXTRA_ENV=()
check_eq "dynamic build under the shim, no fault: same result as the static binary" "$RC:$(snapshot)" "0:$GOOD"
CALLS=$(wc -l <"$TRACE")
# the transaction begins with the lock (its open; the journal directories are
# made there, when missing); everything before only reads
FIRST_TX=$(awk '$1 == "open" && $3 ~ /hostusb-permissions[.]lock$/ { print $2; exit }' "$TRACE")
count_of() { grep -c "^$1 " "$TRACE"; }
# the k-th open(2) that opens DIR itself (the unnamed temporary files are made that way): its number among the opens
open_of_dir() { grep "^open " "$TRACE" | grep -n " $1\$" | sed -n "${2}p" | cut -d: -f1; }
check "trace: the run makes every call of the transaction" \
	test -n "$(open_of_dir "$DOMDIR" 1)" -a -n "$(open_of_dir "$JDIR" 1)" -a "$(count_of rename)" = 2 -a \
	"$(count_of fchownat)" = 3 -a -n "$FIRST_TX"

# ---- each step, failing with its own errno
# step NAME FUNC ERRNO: fail the k-th call of FUNC for every k the run makes
step() {
	local name=$1 fn=$2 err=$3 k n bad=""
	n=$(count_of "$fn")
	for ((k = 1; k <= n; k++)); do
		reset
		shim "$fn:$k:$err"
		[ "$RC" = 2 ] && one_line && [ "$(snapshot)" = "$BEFORE" ] || bad+=" #$k: exit $RC [$ERR] [$(snapshot)];"
	done
	if [ -z "$bad" ] && [ "$n" -gt 0 ]; then pass "$name ($n calls, $err): rolled back"; else fail "$name" "calls=$n$bad"; fi
}
step "a file, a directory or a temporary file cannot be opened" open EACCES
step "a write fails (temp XML, journal)" write ENOSPC
step "fchmod of a temp file fails" fchmod EIO
step "fsync fails (journal temp, journal directory)" fsync EIO
step "rename fails (journal, then the domain file)" rename EXDEV
step "the journal lock cannot be taken" flock ENOLCK

# a journal directory cannot be made: on a host without them (the first start)
nodirs() { reset; rm -rf "$R/var/run/vdsm"; }
nodirs
BEFORE_NODIRS=$(snapshot)
rm -f "$TESTTMP/trace.nodirs"
EXTRA_ENV=(HOSTUSB_FAULT_TRACE="$TESTTMP/trace.nodirs")
shim ""
EXTRA_ENV=()
check_eq "no journal directories: made, VM1's three lines in a new journal" "$RC:$(cat "$JOURNAL")" \
	"0:$(tail -n +2 <<<"$GOOD_JOURNAL")"
n=$(grep -c "^mkdir " "$TESTTMP/trace.nodirs")
bad=""
for ((k = 1; k <= n; k++)); do
	nodirs
	shim "mkdir:$k:EROFS"
	[ "$RC" = 2 ] && one_line && [ "$(snapshot)" = "$BEFORE_NODIRS" ] || bad+=" #$k: exit $RC [$ERR] [$(snapshot)];"
done
if [ -z "$bad" ] && [ "$n" -gt 0 ]; then
	pass "a journal directory cannot be made ($n calls, EROFS): rolled back"
else
	fail "a journal directory cannot be made" "calls=$n$bad"
fi

# a file system without unnamed temporary files: named ones, the same result
for dir in "$DOMDIR" "$JDIR"; do
	reset
	shim "open:$(open_of_dir "$dir" 1):EOPNOTSUPP"
	check_eq "O_TMPFILE refused in ${dir#"$TESTTMP"/}: a named temporary file instead, the same result" \
		"$RC:$(snapshot)" "0:$GOOD"
done

# the node directory in one openat2 call; refused (before Linux 5.6, or a
# seccomp filter) or failing, a step at a time: the same result
check "trace: the node directory is opened in one call" grep -q "^openat2 [0-9]* dev/bus/usb/001\$" "$TRACE"
for err in ENOSYS EPERM EACCES; do
	reset
	rm -f "$TESTTMP/trace.walk"
	EXTRA_ENV=(HOSTUSB_FAULT_TRACE="$TESTTMP/trace.walk")
	shim "openat2:1:$err"
	EXTRA_ENV=()
	check_eq "openat2 fails with $err: the node directory opened a step at a time, the same result" \
		"$RC:$(snapshot):$(grep -c '^openat [0-9]* usb$' "$TESTTMP/trace.walk")" "0:$GOOD:1"
done

# chown of the k-th of n devices fails, with each reason
for err in EPERM EROFS ENOENT; do
	for k in 1 2 3; do
		reset
		shim "fchownat:$k:$err"
		rolled_back "chown of device $k of 3 fails with $err: earlier ones given back"
	done
done
reset
shim "fchownat:2:EPERM"
check_contains "chown failure: names the node" "$ERR" "/dev/bus/usb/001/003: chown to 107:107"

# ---- exhaustive: EIO at every call of the transaction (every call with LONG)
# The points: every call from the lock on; make check leaves out the walk
# that re-opens the nodes under the lock (openat, and the close right after
# it: read-only, like every call before the lock); LONG takes every call.
if [ "$LONG" = 1 ]; then
	mapfile -t POINTS < <(seq 1 "$CALLS")
else
	mapfile -t POINTS < <(awk -v first="$FIRST_TX" '$2 >= first && $1 != "openat" && !($1 == "close" && prev == "openat") { print $2 } { prev = $1 }' "$TRACE")
fi
first=${POINTS[0]}
bad="" ok=0 failed=0
for n in "${POINTS[@]}"; do
	reset
	shim "any:$n:EIO"
	got=$(snapshot)
	if [ "$RC" = 0 ] && [ "$got" = "$GOOD" ]; then
		ok=$((ok + 1))         # a failure the program may ignore (a close after the commit)
	elif [ "$RC" = 2 ] && one_line && [ "$got" = "$BEFORE" ]; then
		failed=$((failed + 1))
	else
		bad+=" call $n ($(sed -n "${n}p" "$TRACE")): exit $RC [$ERR] [$got];"
	fi
done
if [ -z "$bad" ]; then
	pass "EIO at each of ${#POINTS[@]} calls in $first..$CALLS: rolled back ($failed) or harmless ($ok)"
else
	fail "EIO at every call" "$bad"
fi

# ---- two failures: one in the transaction, one in its rollback
# For each call a of the transaction that fails (EIO), every call b the
# rollback then makes fails too (make check: every b but close; LONG: every b,
# and a at every call of the run).  The rule: a node away from the owner it
# had before the run keeps a journal line recording that owner, and the
# message names it; VM2's line stays; a failed run leaves the old domain file.
held_ok() {
	local j node owner want
	j=$(journal)
	case $j in "$ORIG_JOURNAL"*) ;; *) echo "VM2's line lost: $j"; return 1 ;; esac
	while read -r node owner; do
		node=${node#"$R"}
		want=0:0
		[ "$node" = /dev/bus/usb/002/002 ] && want=107:107
		[ "$owner" = "$want" ] && continue
		case $'\n'$j in
		*$'\n'"$node:0:0:"*) ;;
		*) echo "$node is $owner without a journal line"; return 1 ;;
		esac
		case $ERR in
		*"$node: could not be given back to 0:0"*"stays recorded as held by VM $VM1"*) ;;
		*) echo "$node left held, not said: [$ERR]"; return 1 ;;
		esac
	done < <(stat -c '%n %u:%g' "${NODES[@]}")
	[ "$RC" = 0 ] || [ "$RC" = 2 ] || { echo "exit $RC"; return 1; }
	[ "$RC" = 0 ] || [ "$(domsum)" = "$BEFORE_DOM" ] || { echo "failed, but the domain file changed"; return 1; }
	[ "$RC" = 2 ] || [ "$(snapshot)" = "$GOOD" ] || { echo "exit 0, but not the good state"; return 1; }
}
PAIR_TRACE=$TESTTMP/pair-trace
pairs=0 pairs_held=0 bad="" t0=$(date +%s)
for a in "${POINTS[@]}"; do
	reset
	rm -f "$PAIR_TRACE"
	EXTRA_ENV=(HOSTUSB_FAULT_TRACE="$PAIR_TRACE")
	shim "any:$a:EIO"
	EXTRA_ENV=()
	[ "$RC" = 2 ] || continue
	if [ "$LONG" = 1 ]; then
		mapfile -t after < <(awk -v a="$a" '$2 > a { print $2 }' "$PAIR_TRACE")
	else
		mapfile -t after < <(awk -v a="$a" '$2 > a && $1 != "close" { print $2 }' "$PAIR_TRACE")
	fi
	for b in "${after[@]}"; do
		reset
		shim "any:$a:EIO,any:$b:EIO"
		pairs=$((pairs + 1))
		[ "$(journal)" = "$ORIG_JOURNAL" ] || pairs_held=$((pairs_held + 1))
		why=$(held_ok) || bad+=" $a ($(sed -n "${a}p" "$TRACE" | cut -d' ' -f1,3)) x $b ($(sed -n "${b}p" "$PAIR_TRACE" | cut -d' ' -f1,3)): $why;"
	done
done
if [ -z "$bad" ] && [ "$pairs" -gt 0 ]; then
	pass "EIO in the transaction x EIO in its rollback, $pairs pairs in $(($(date +%s) - t0)) s: every node at its owner or recorded ($pairs_held runs left one recorded)"
else
	fail "EIO in the transaction x EIO in its rollback" "$pairs pairs;$bad"
fi

# ---- SIGKILL at every call of the transaction, then recovery
# consistent: the domain file is old or new; every node away from its original
# owner has a journal line recording that owner (so destroy can give it back)
consistent() {
	local dom j node owner
	dom=$(md5sum <"$DOM")
	[ "$dom" = "$BEFORE_DOM" ] || [ "$dom" = "$GOOD_DOM" ] || { echo "domain file is neither old nor new"; return 1; }
	j=$(journal)
	case $j in
	"$ORIG_JOURNAL" | "$GOOD_JOURNAL") ;;
	*) echo "journal is neither old nor new: $j"; return 1 ;;
	esac
	while read -r node owner; do
		node=${node#"$R"}
		[ "$owner" = 0:0 ] && continue
		case $'\n'$j in
		*$'\n'"$node:0:0:"*) ;;
		*) echo "$node changed owner without a journal line"; return 1 ;;
		esac
	done < <(stat -c '%n %u:%g' "${NODES[@]}" 2>/dev/null)
}
# kill_and_recover LABEL KILLCMD...: runs the kill, checks, recovers both ways
KILL_BAD="" KILL_STRAYS=0 KILL_RUNS=0 KILL_KILLED=0
kill_and_recover() {
	local label=$1 why strays_after mode modes=(restart destroy)
	shift
	# make check: one recovery per kill point, in turn; LONG: both
	[ "$LONG" = 1 ] || { modes=("${modes[KILL_RUNS % 2]}"); }
	for mode in "${modes[@]}"; do
		reset
		"$@"
		KILL_RUNS=$((KILL_RUNS + 1))
		[ "$RC" = 137 ] && KILL_KILLED=$((KILL_KILLED + 1))
		if ! why=$(consistent); then
			KILL_BAD+=" $label ($mode): $why;"
			continue
		fi
		if [ "$mode" = restart ]; then
			# VDSM starts the VM again: a fresh domain file, the same vmId
			cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
			run "$HOSTUSB" before_vm_start
			strays_of
			strays_after=${#STRAYS[@]}
			[ "$RC" = 0 ] && [ "$(snapshot)" = "${GOOD%|*}|$strays_after" ] ||
				KILL_BAD+=" $label: restart: exit $RC [$ERR] [$(snapshot)];"
		else
			ERR=$(env -i hostusb="$PROP" _hook_domxml="$DOM" vmId="$VM1" "$HOSTUSB" --root "$R" after_vm_destroy 2>&1)
			RC=$?
			strays_of
			strays_after=${#STRAYS[@]}
			[ "$RC" = 0 ] && [ "$(owners)|$(journal)" = "${BEFORE%%|*}|$ORIG_JOURNAL" ] ||
				KILL_BAD+=" $label: destroy: exit $RC [$ERR] [$(owners)|$(journal)];"
		fi
		if [ "$strays_after" -gt 0 ]; then
			KILL_STRAYS=$((KILL_STRAYS + 1))
			# the journal's temp files are in a fixed place: the next
			# run removes them under the lock.  A domain temp file is
			# removed only by a run given the same _hook_domxml.
			strays | grep -q -v -e '/domxml\.hostusb-......$' &&
				KILL_BAD+=" $label ($mode): left after recovery: $(strays | tr '\n' ' ');"
		fi
	done
}
shim_kill() { shim "any:$1:KILL"; }
for n in "${POINTS[@]}"; do
	kill_and_recover "SIGKILL at call $n ($(sed -n "${n}p" "$TRACE" | cut -d' ' -f1,3))" shim_kill "$n"
done
if [ -z "$KILL_BAD" ] && [ "$KILL_KILLED" = "$KILL_RUNS" ]; then
	pass "SIGKILL at each of ${#POINTS[@]} calls in $first..$CALLS: old or new domain file, restart or destroy recovers"
else
	fail "SIGKILL at every call" "killed $KILL_KILLED of $KILL_RUNS;$KILL_BAD"
fi
printf 'note: SIGKILL: a domain temp file left after recovery (destroy) in %s of %s runs\n' "$KILL_STRAYS" "$KILL_RUNS"

# random SIGKILLs of the static binary (LONG only: timing dependent)
if [ "$LONG" = 1 ]; then
	KILL_BAD="" KILL_RUNS=0 KILL_KILLED=0 KILL_STRAYS=0
	random_kill() {
		local delay
		# 1 us .. 3 ms: a run takes about 1-2 ms, so about a third are killed mid-run
		delay=$(printf '0.%06d' $((RANDOM % 3000 + 1)))
		ERR=$(env -i hostusb="$PROP" _hook_domxml="$DOM" vmId="$VM1" \
			timeout -s KILL "$delay" "$HOSTUSB" --root "$R" before_vm_start 2>&1)
		RC=$?
	}
	for ((i = 0; i < ${HOSTUSB_KILL_ROUNDS:-100}; i++)); do
		kill_and_recover "random kill $i" random_kill
	done
	if [ -z "$KILL_BAD" ]; then
		pass "random SIGKILL x$KILL_RUNS ($KILL_KILLED killed mid-run): consistent and recovered"
	else
		fail "random SIGKILL" "$KILL_BAD"
	fi
	printf 'note: random SIGKILL: %s of %s runs killed, %s left temp files\n' "$KILL_KILLED" "$KILL_RUNS" "$KILL_STRAYS"
else
	skip "random SIGKILL loop" "long test: set HOSTUSB_LONG_TESTS=1"
fi

# ---- a node replaced or removed between the check and the chown
# The node is held open (O_PATH) from the check on, so the chown reaches the
# checked inode, never what now sits at the path; the path is checked again
# after the chown and the run fails and rolls back when it changed.
for kind in regular symlink rdev missing; do
	reset
	node=$R/dev/bus/usb/001/003
	spare=$TESTTMP/spare
	rm -f "$spare"
	case $kind in
	regular) echo x >"$spare" ;;
	symlink) ln -s ../001/002 "$spare" ;;
	rdev) mknod -m 0600 "$spare" c 189 77 ;;
	esac
	if [ "$kind" = missing ]; then
		EXTRA_ENV=(HOSTUSB_FAULT_PATH="$node")
		shim "fchownat:2:UNLINK"
	else
		EXTRA_ENV=(HOSTUSB_FAULT_PATH="$node" HOSTUSB_FAULT_FROM="$spare")
		shim "fchownat:2:SWAP"
	fi
	EXTRA_ENV=()
	check_eq "node $kind before its chown: exit 2, says so" "$RC:$ERR" \
		"2:hostusb: $node: replaced or removed while it was being given to the VM"
	if [ "$kind" = missing ]; then
		check "node removed before its chown: the path stays absent" test ! -e "$node" -a ! -L "$node"
	else
		check_eq "node replaced by a $kind before its chown: the replacement keeps its owner" \
			"$(stat -c %u:%g "$node")" 0:0
	fi
	strays_of
	check_eq "node $kind before its chown: rolled back (first node, journal, domain file, temp files)" \
		"$(stat -c %u:%g "$R/dev/bus/usb/001/002")|$(journal)|$(domsum)|${#STRAYS[@]}" "0:0|$ORIG_JOURNAL|$BEFORE_DOM|0"
	rm -f "$node"
	fixture_node "$R" 1 3
done

# ---- real conditions
# the temp XML does not fit: the domain file on a full tmpfs
if ! why=$(no_mount_ns); then
	out=$(unshare -m bash "$SRCDIR/tests/t_faults.sh" full-tmpfs 2>&1)
	{ read -r RC; read -r ERR; read -r before_full; read -r after_full; } <<<"$out"
	check_eq "full tmpfs: exit 2" "$RC" 2
	check_contains "full tmpfs: says so" "$ERR" "No space left on device"
	check_eq "full tmpfs: nothing changed, no temp file" "$after_full" "$before_full"
	check_eq "full tmpfs: state as before (journal, owners)" "${after_full%%|*}" "${BEFORE%%|*}"
else
	skip "full tmpfs" "$why"
fi

# the rename over the domain file fails: the domain file is immutable
no_chattr="chattr +i not supported on $TESTTMP"
command -v chattr >/dev/null || no_chattr="chattr not installed (apt-get install e2fsprogs)"
reset
if chattr +i "$DOM" 2>/dev/null; then
	run "$HOSTUSB" before_vm_start
	chattr -i "$DOM"
	rolled_back "immutable domain file (rename fails): rolled back"
	check_contains "immutable domain file: says so" "$ERR" "cannot replace it: Operation not permitted"
else
	skip "immutable domain file" "$no_chattr"
fi

# the journal directory is not writable: immutable, and a read-only mount
reset
if chattr +i "$JDIR" 2>/dev/null; then
	run "$HOSTUSB" before_vm_start
	chattr -i "$JDIR"
	rolled_back "immutable journal directory: rolled back"
else
	skip "immutable journal directory" "$no_chattr"
fi
if ! why=$(no_mount_ns); then
	for case in existing absent "absent, lock file present"; do
		reset
		case $case in
		absent) rm -f "$JOURNAL" "$JOURNAL.lock" && chown 0:0 "${NODES[@]}" ;;
		absent,*) rm -f "$JOURNAL" && : >"$JOURNAL.lock" && chown 0:0 "${NODES[@]}" ;;
		esac
		before=$(snapshot)
		# shellcheck disable=SC2016 # the inner shell expands them
		ERR=$(unshare -m bash -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' _ \
			"$JDIR" env -i hostusb="$PROP" _hook_domxml="$DOM" vmId="$VM1" "$HOSTUSB" --root "$R" before_vm_start 2>&1)
		RC=$?
		check_eq "read-only journal directory, journal $case: exit 2, nothing changed" "$RC|$(snapshot)" "2|$before"
		if one_line; then pass "read-only journal directory, journal $case: one line"; else
			fail "read-only journal directory, journal $case: one line" "[$ERR]"; fi
		check_contains "read-only journal directory, journal $case: says why" "$ERR" "Read-only file system"
	done
else
	skip "read-only journal directory" "$why"
fi

# the journal lock is held by another process for long: bounded wait
# lock_holder: another process takes the journal lock and keeps it (HOLDER)
lock_holder() {
	local i
	(exec 9>>"$JOURNAL.lock" && flock -x 9 && exec sleep 20) &
	HOLDER=$!
	for ((i = 0; i < 250; i++)); do
		flock -n "$JOURNAL.lock" true || return 0
		sleep 0.02
	done
}
reset
lock_holder
t0=$(date +%s%N)
run "$HOSTUSB" --lock-wait 1 before_vm_start
ms=$((($(date +%s%N) - t0) / 1000000))
rolled_back "journal locked for long: --lock-wait 1 fails cleanly"
check_contains "journal locked for long: says so, not guessing by whom" "$ERR" "hostusb-permissions.lock: the lock is still held after 1 s (lslocks shows which process holds it)"
check "journal locked for long: returns after about 1 s (took ${ms} ms)" test "$ms" -ge 950 -a "$ms" -le 2500
t0=$(date +%s%N)
run "$HOSTUSB" --lock-wait 0 before_vm_start
ms=$((($(date +%s%N) - t0) / 1000000))
check_eq "journal locked, --lock-wait 0: exit 2 at once" "$RC:$((ms < 1000))" 2:1
ERR=$(env -i vmId="$VM2" hostusb=0x0627:0x0001 _hook_domxml="$DOM" timeout 20 "$HOSTUSB" --root "$R" --lock-wait 0 after_vm_destroy 2>&1)
check_eq "journal locked, after_vm_destroy: exit 2, VM2's line kept" "$?|$(cat "$JOURNAL")" "2|$ORIG_JOURNAL"
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null
run "$HOSTUSB" --lock-wait 2 before_vm_start
check_eq "lock released: the same run succeeds" "$RC:$(snapshot)" "0:$GOOD"
