#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check-vm: runs static hostusb binaries against a real kernel's sysfs and
# devtmpfs.  Boots the installed Debian kernel in QEMU (TCG) with emulated USB
# devices and a tiny initramfs (busybox, the binaries, the USB modules, the
# guest script tests/vm/init), then checks what the guest reports.
#
# usage: bash tests/vm/check-vm.sh [--musl] [LABEL=]BINARY...
#   e.g. bash tests/vm/check-vm.sh --musl glibc=./hostusb
# --musl also builds this source tree with `make CC=musl-gcc` (in a scratch
# copy, so ./hostusb is left alone) and runs that binary too, labelled musl.
# Every binary runs in the same boot, each on a clean host state.  Prints
# "PASS vm[LABEL] name" / "FAIL vm[LABEL] name: detail" per check and
# "N passed, N failed" last.  Exit 0 only when every check passed; 2 when
# something needed to run is missing.  CHECK_VM_KEEP=1 keeps the work
# directory (console log, records, initramfs tree).
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../.." && pwd)

# The emulated machine.  Two identical keyboards with their own serials
# (KB-A on root port 1, KB-B behind the hub at 1-3.3), a tablet and a mouse
# (behind the hub) that share one serial, all four 0627:0001; usb-serial
# (0403:6001) behind the hub (port path 1-3.1); usb-storage (46f4:0001), a
# USB 3 device, lands on the controller's second root hub, so two buses are
# in play.
PROPERTY='0x0627:0x0001&0x0627:0x0001&0x0403:0x6001&0x46f4:0x0001'
MISSING='0xdead:0xbeef'
# Choosing the device: the id alone, a serial, an id on a port behind the hub,
# a port alone, and an optional serial that no device has.
SELECT='0x0627:0x0001&0x0627:0x0001#KB-A&0x0627:0x0001@1-3.3&@1-3.1&?0x0627:0x0001#KB-Z'
# A valid entry, then a port holding another id (refused even when optional).
WRONGPORT='0x0627:0x0001#KB-A&?0x0627:0x0001@1-3.1'
WRONGPORT_MESSAGE='port 1-3.1 has 0403:6001, not 0627:0001'
# A serial two devices of the id share, and a hub's port: refused too.
AMBIGUOUS='?0x0627:0x0001#SAME'
HUBPORT='@1-3'
# A hub by its id, the root hub's and QEMU's usb-hub's (at 1-3): never given.
ROOTHUBID='0x1d6b:0x0002'
HUBID='0x0627:0x0001&?0x0409:0x55aa'
# Hibernation: KB-B, one of four devices of its id (so its hostdev has an
# address), re-plugged with the devices behind its hub: the hub's authorized
# attribute written 0, then 1.
RESUME='0x0627:0x0001#KB-B'
RESUME_PORT=1-3.3
RESUME_HUB=1-3
VMID=6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de
EXPECT_DEVICES=7        # besides the root hubs
QEMU_TIMEOUT=${CHECK_VM_TIMEOUT:-100}
OWNER=107:107           # qemu:qemu in the guest's /etc/passwd and /etc/group
MODULES='xhci-pci'      # and what modules.dep says it needs

die() { printf 'check-vm: %s\n' "$*" >&2; exit 2; }
missing() {
	printf 'check-vm: %s\n' "$*" >&2
	printf 'check-vm: install with: apt-get install qemu-system-x86 linux-image-amd64 busybox-static cpio musl-tools\n' >&2
	exit 2
}
# is_static FILE: a 64-bit ELF with no PT_INTERP program header (static or
# static-pie): the guest has no dynamic loader and no libc
is_static() {
	local phoff phentsize phnum i
	[ "$(od -An -c -N 5 "$1" 2>/dev/null | tr -d ' ')" = '177ELF002' ] || return 1
	read -r phoff < <(od -An -t u8 -j 32 -N 8 "$1")
	read -r phentsize phnum < <(od -An -t u2 -j 54 -N 4 "$1")
	for ((i = 0; i < phnum; i++)); do
		[ "$(od -An -t u4 -j $((phoff + i * phentsize)) -N 4 "$1" | tr -d ' ')" != 3 ] || return 1
	done
}

musl=0 musl_error=''
[ "${1:-}" = --musl ] && { musl=1; shift; }
[ $# -ge 1 ] || [ "$musl" = 1 ] || die "usage: check-vm.sh [--musl] [LABEL=]BINARY..."
labels=() binaries=()
for arg in "$@"; do
	label=${arg%%=*} bin=${arg#*=}
	[ "$label" != "$arg" ] || label=$(basename "$arg")
	case $label in '' | *[!A-Za-z0-9_.-]*) die "bad label: $label" ;; esac
	[ -x "$bin" ] || die "$bin: no such executable (run make first)"
	is_static "$bin" || die "$bin: not statically linked: the guest has no libc"
	labels+=("$label") binaries+=("$bin")
done

# --- what the boot needs, all from Debian packages --------------------------
command -v qemu-system-x86_64 >/dev/null || missing "qemu-system-x86_64 not found"
command -v cpio >/dev/null || missing "cpio not found"
kernel=$(find /boot -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | sort -V | tail -n 1)
[ -n "$kernel" ] || missing "no kernel /boot/vmlinuz-*"
[ -r "$kernel" ] || die "$kernel is not readable (run as root)"
kver=${kernel#/boot/vmlinuz-}
moddir=/lib/modules/$kver
[ -f "$moddir/modules.dep" ] || missing "no $moddir/modules.dep for kernel $kver"
busybox=/bin/busybox
if [ ! -x "$busybox" ] || ! is_static "$busybox"; then missing "no static $busybox (busybox-static)"; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/check-vm.XXXXXX") || die "mktemp failed"
if [ "${CHECK_VM_KEEP:-0}" = 1 ]; then
	printf 'check-vm: keeping %s\n' "$work"
else
	trap 'rm -rf "$work"' EXIT
fi

if [ "$musl" = 1 ]; then
	command -v musl-gcc >/dev/null || missing "musl-gcc not found (apt-get install musl-tools)"
	if ! mkdir "$work/musl" || ! cp "$srcdir"/Makefile "$srcdir"/*.[ch] "$work/musl/"; then
		die "cannot copy the sources"
	fi
	# a failed or dynamic build is a FAIL of the musl run, reported below
	if ! make -s -C "$work/musl" CC=musl-gcc hostusb >"$work/musl.log" 2>&1; then
		musl_error="make CC=musl-gcc hostusb failed: $(tail -n 3 "$work/musl.log")"
	elif ! is_static "$work/musl/hostusb"; then
		musl_error="make CC=musl-gcc built a dynamically linked hostusb ($(LC_ALL=C grep -aom1 '/lib/ld-[a-z0-9_.-]*' "$work/musl/hostusb"))"
	else
		labels+=(musl) binaries+=("$work/musl/hostusb")
	fi
fi
[ ${#labels[@]} -gt 0 ] || die "${musl_error:-nothing to run}"

# --- modules: the closure of $MODULES over modules.dep, dependencies first --
# dep_order MODULE...: paths relative to $moddir, each after its dependencies
# (modules.dep lists a module's dependencies so that the last loads first)
dep_order() {
	awk -v want="$*" '
	function norm(p) { sub(/.*\//, "", p); sub(/\.ko(\.(xz|zst|gz))?$/, "", p); gsub(/-/, "_", p); return p }
	BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) { gsub(/-/, "_", w[i]); wanted[w[i]] = 1 } }
	{ key = $1; sub(/:$/, "", key)
	  if (!(norm(key) in wanted)) next
	  for (i = NF; i >= 2; i--) if (!seen[$i]++) print $i
	  if (!seen[key]++) print key; found[norm(key)] = 1 }
	END { for (m in wanted) if (!(m in found)) { print "missing module " m > "/dev/stderr"; exit 1 } }
	' "$moddir/modules.dep"
}
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,run,tmp,etc/check-vm,lib/modules,opt/hostusb,usr/libexec,var} ||
	die "cannot create $root"
ln -s ../run "$root/var/run"
modpaths=$(dep_order $MODULES) || missing "USB modules not found for kernel $kver"
: >"$root/etc/check-vm.modules"
for p in $modpaths; do
	name=$(basename "$p") name=${name%%.ko*}
	case $p in
	*.ko) cp "$moddir/$p" "$root/lib/modules/$name.ko" ;;
	*.ko.xz) xz -dc "$moddir/$p" >"$root/lib/modules/$name.ko" ;;
	*.ko.zst) zstd -qdc "$moddir/$p" >"$root/lib/modules/$name.ko" ;;
	*.ko.gz) gzip -dc "$moddir/$p" >"$root/lib/modules/$name.ko" ;;
	*) false ;;
	esac || die "cannot unpack $moddir/$p"
	echo "$name" >>"$root/etc/check-vm.modules"
done

# --- the rest of the initramfs ------------------------------------------------
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
install -m 755 "$here/init" "$root/init"
cp "$here/domain.xml" "$root/etc/check-vm/domain.xml"
for i in "${!labels[@]}"; do
	install -m 755 "${binaries[$i]}" "$root/opt/hostusb/${labels[$i]}"
done
cat >"$root/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
vdsm:x:36:36:Node Virtualization Manager:/var/lib/vdsm:/sbin/nologin
qemu:x:${OWNER%:*}:${OWNER#*:}:qemu user:/:/sbin/nologin
EOF
cat >"$root/etc/group" <<EOF
root:x:0:
kvm:x:36:qemu
qemu:x:${OWNER#*:}:
EOF
cat >"$root/etc/check-vm.conf" <<EOF
LABELS='${labels[*]}'
PROPERTY='$PROPERTY'
MISSING='$MISSING'
SELECT='$SELECT'
WRONGPORT='$WRONGPORT'
AMBIGUOUS='$AMBIGUOUS'
HUBPORT='$HUBPORT'
RESUME='$RESUME'
RESUME_PORT='$RESUME_PORT'
RESUME_HUB='$RESUME_HUB'
ROOTHUBID='$ROOTHUBID'
HUBID='$HUBID'
VMID='$VMID'
EXPECT_DEVICES=$EXPECT_DEVICES
EOF
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$work/initrd.gz" ||
	die "cannot pack the initramfs"

# --- boot -----------------------------------------------------------------------
truncate -s 1M "$work/stick.img"
printf 'check-vm: booting %s under TCG (%s)\n' "$kernel" "${labels[*]}"
start=$(date +%s.%N)
timeout -k 5 "$QEMU_TIMEOUT" qemu-system-x86_64 \
	-nodefaults -no-user-config -accel tcg -machine pc -m 256M -smp 1 \
	-display none -no-reboot \
	-kernel "$kernel" -initrd "$work/initrd.gz" \
	-append 'console=ttyS0 panic=-1 rdinit=/init quiet loglevel=3 mitigations=off' \
	-serial "file:$work/console.log" -serial "file:$work/records.log" \
	-device qemu-xhci,id=xhci \
	-device usb-kbd,bus=xhci.0,port=1,serial=KB-A \
	-device usb-tablet,bus=xhci.0,port=2,serial=SAME \
	-device usb-hub,bus=xhci.0,port=3 \
	-chardev file,id=ftdi,path="$work/ftdi.out" \
	-device usb-serial,chardev=ftdi,bus=xhci.0,port=3.1 \
	-device usb-mouse,bus=xhci.0,port=3.2,serial=SAME \
	-device usb-kbd,bus=xhci.0,port=3.3,serial=KB-B \
	-drive if=none,id=stick,format=raw,file="$work/stick.img" \
	-device usb-storage,drive=stick,bus=xhci.0,port=4 \
	>"$work/qemu.log" 2>&1
qemu_rc=$?
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
touch "$work/console.log" "$work/records.log"
tr -d '\r' <"$work/records.log" >"$work/records"

passed=0 failed=0
pass() { passed=$((passed + 1)); printf 'PASS vm[%s] %s\n' "$1" "$2"; }
fail() { failed=$((failed + 1)); printf 'FAIL vm[%s] %s: %s\n' "$1" "$2" "${3//$'\n'/ | }"; }
# check LABEL NAME GOT WANT
check() { if [ "$3" = "$4" ]; then pass "$1" "$2"; else fail "$1" "$2" "got [$3], want [$4]"; fi; }
# recs LABEL KEY STEP: the text of those records, one a line
recs() { sed -n "s|^@$1 $2 $3 ||p; s|^@$1 $2 $3\$||p" "$work/records"; }
# audit LABEL NAME STEP VERB NODE...: STEP's stderr holds, besides its other
# lines, one audit line per NODE ("hostusb: VM <vmId>: VERB NODE (...)"), no more
audit() {
	local label=$1 name=$2 step=$3 verb=$4 got want
	shift 4
	got=$(recs "$label" STDERR "$step" | sed -n "s|^hostusb: VM $VMID: $verb \(/dev/bus/usb/[0-9]*/[0-9]*\) (.*|\1|p" | LC_ALL=C sort | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | LC_ALL=C sort | tr '\n' ' ')
	check "$label" "$name" "$got" "$want"
}
# not_audit LABEL STEP: STEP's stderr without its audit lines
not_audit() { recs "$1" STDERR "$2" | grep -v "^hostusb: VM $VMID: gave"; }
summary() {
	printf '%d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}

guest_uptime=$(sed -n 's/^@vm READY - uptime=//p' "$work/records")
printf '  | qemu exited %s after %ss; devices ready at guest uptime %ss\n' "$qemu_rc" "$elapsed" "${guest_uptime:-?}"
if ! grep -qx '@vm DONE ok' "$work/records"; then
	fail all boot "the guest did not finish (qemu exit $qemu_rc, timeout ${QEMU_TIMEOUT}s)"
	printf '  | records:\n'; sed 's/^/  |   /' "$work/records" | tail -n 20
	printf '  | console:\n'; tr -d '\r' <"$work/console.log" | sed 's/^/  |   /' | tail -n 30
	sed 's/^/  |   /' "$work/qemu.log"
	summary
fi
pass all boot
if [ -n "$musl_error" ]; then fail musl build "$musl_error"; elif [ "$musl" = 1 ]; then pass musl build; fi

# --- the guest's sysfs: which device is which node -----------------------------
# sysfs lines: name bus dev vid pid major:minor, sorted by (bus, dev)
sysfs=$(recs vm SYSFS - | sort -k2,2n -k3,3n)
# the attributes `list` shows, by sysfs name (absent: unset)
declare -A serial_of=() speed_of=() class_of=()
while read -r name key value; do
	case $key in
	serial) serial_of[$name]=$value ;;
	speed) speed_of[$name]=$value ;;
	bDeviceClass) class_of[$name]=$value ;;
	esac
done < <(recs vm ATTR -)
node_of() { printf '/dev/bus/usb/%03d/%03d' "$1" "$2"; }
check all modules-loaded "$(recs vm MODULE - | awk '$2 != 0' | tr '\n' ' ')" ""
check all usb-devices "$(awk '$1 !~ /^usb/' <<<"$sysfs" | wc -l)" "$EXPECT_DEVICES"
check all device-behind-hub "$(awk '$1 ~ /^[0-9]+-3\.1$/ { print $4 ":" $5 }' <<<"$sysfs")" 0403:6001
check all shared-id-four "$(awk '$4 ":" $5 == "0627:0001"' <<<"$sysfs" | wc -l)" 4
minors=$(awk '{ split($6, mm, ":"); if (mm[1] != 189 || mm[2] != ($2 - 1) * 128 + $3 - 1) print $1 }' <<<"$sysfs")
check all node-numbers "$minors" ""

# What before_vm_start must do for $PROPERTY, by cli.md: the k-th listing of
# an id claims the k-th device of that id in (bus, devnum) order; an address
# only where the id matches more than one device.
declare -A nth=()
want_nodes=() want_hostdevs=() want_journal=()
IFS='&' read -ra entries <<<"$PROPERTY"
for e in "${entries[@]}"; do
	id=${e//0x/}
	k=$((${nth[$id]:-0} + 1)) nth[$id]=$k
	read -r bus dev < <(awk -v id="$id" -v k="$k" '$4 ":" $5 == id && ++n == k { print $2, $3 }' <<<"$sysfs")
	count=$(awk -v id="$id" '$4 ":" $5 == id' <<<"$sysfs" | wc -l)
	[ -n "${bus:-}" ] || { fail all plan "no device #$k for $id in the guest's sysfs"; summary; }
	want_nodes+=("$(node_of "$bus" "$dev")")
	want_journal+=("$(node_of "$bus" "$dev"):0:0:$VMID:0600")   # devtmpfs makes them root:root 0600
	if [ "$count" -gt 1 ]; then want_hostdevs+=("$id@$bus:$dev"); else want_hostdevs+=("$id@-"); fi
done
sorted() { [ $# -eq 0 ] || printf '%s\n' "$@" | LC_ALL=C sort; }
# held_nodes: the nodes the step under check gives to the VM, space-separated
held_nodes=' '
is_held() { case $held_nodes in *" $1 "*) return 0 ;; esac; return 1; }

# --- choosing the device (serial, port, optional) ------------------------------
# The layout the selection relies on, as the guest's kernel shows it: QEMU's
# serial= really is the sysfs serial, and 1-3.3 is behind a hub.
check all select-layout-serials \
	"$(for n in 1-1 1-2 1-3.2 1-3.3; do printf '%s=%s ' "$n" "${serial_of[$n]:-}"; done)" \
	"1-1=KB-A 1-2=SAME 1-3.2=SAME 1-3.3=KB-B "
check all select-layout-hub "${class_of[1-3]:-}" 09

# of_id VVVV:PPPP: the sysfs names of that id's devices, in (bus, devnum) order
of_id() { awk -v id="$1" '$4 ":" $5 == id { print $1 }' <<<"$sysfs"; }
id_of() { awk -v n="$1" '$1 == n { print $4 ":" $5 }' <<<"$sysfs"; }
addr_of() { awk -v n="$1" '$1 == n { print $2, $3 }' <<<"$sysfs"; }
usable_serial() { [[ $1 =~ ^[A-Za-z0-9._:-]{1,64}$ ]]; }

# What before_vm_start must do for $SELECT, by the spec: entries naming one
# device (serial, port) first, then plain ids take the lowest free devices
# left; an address when the id matches more than one device, or the entry is
# a port alone; an optional entry that names nothing is one warning.
select_nodes=() select_hostdevs=() select_journal=() select_skipped=()
claimed=' '
IFS='&' read -ra entries <<<"$SELECT"
for pass in named any; do
	for e in "${entries[@]}"; do
		sel=${e#\?} name='' id=''
		case $pass:$sel in
		named:@*) name=${sel#@} id=$(id_of "$name") ;;
		named:*@*)
			name=${sel#*@} id=${sel%@*} id=${id//0x/}
			[ "$(id_of "$name")" = "$id" ] || { fail all select-plan "$name is not $id in the guest"; summary; } ;;
		named:*#*)
			id=${sel%#*} id=${id//0x/}
			for n in $(of_id "$id"); do [ "${serial_of[$n]:-}" != "${sel#*#}" ] || name=$n; done ;;
		named:*) continue ;;
		any:*[@#]*) continue ;;
		any:*)
			id=${sel//0x/}
			for n in $(of_id "$id"); do
				case $claimed in *" $n "*) ;; *) name=$n; break ;; esac
			done ;;
		esac
		if [ -z "$name" ]; then
			[ "$e" != "$sel" ] || { fail all select-plan "nothing in the guest for $e"; summary; }
			select_skipped+=("$sel")
			continue
		fi
		claimed+="$name "
		read -r bus dev < <(addr_of "$name")
		select_nodes+=("$(node_of "$bus" "$dev")")
		select_journal+=("$(node_of "$bus" "$dev"):0:0:$VMID:0600")
		if [ "$(of_id "$id" | wc -l)" -gt 1 ] || [[ $sel == @* ]]; then
			select_hostdevs+=("$id@$bus:$dev")
		else
			select_hostdevs+=("$id@-")
		fi
	done
done

# value_of NAME: what `list` must offer for the property: the id when no other
# device has it, else the serial when usable and unique among the id, else the port
value_of() {
	local n=$1 id s
	case ${class_of[$n]:-} in 09) echo -; return ;; esac
	id=$(id_of "$n") s=${serial_of[$n]:-}
	if [ "$(of_id "$id" | wc -l)" -eq 1 ]; then
		echo "0x${id%:*}:0x${id#*:}"
	elif [ -n "$s" ] && usable_serial "$s" &&
		[ "$(for m in $(of_id "$id"); do [ "${serial_of[$m]:-}" != "$s" ] || echo "$m"; done | wc -l)" -eq 1 ]; then
		echo "0x${id%:*}:0x${id#*:}#$s"
	else
		echo "0x${id%:*}:0x${id#*:}@$n"
	fi
}
# the values `list` must offer here: a serial for the identical keyboards,
# the port for the devices sharing a serial, the id where it is unique
check all select-layout-values "$(for n in 1-1 1-3.3 1-2 1-3.2 1-3.1 1-3; do printf '%s ' "$(value_of "$n")"; done)" \
	"0x0627:0x0001#KB-A 0x0627:0x0001#KB-B 0x0627:0x0001@1-2 0x0627:0x0001@1-3.2 0x0403:0x6001 - "

# check_nodes LABEL STEP HELD_OWNER: every node's owner and mode as `ls -ln` shows it
check_nodes() {
	local label=$1 step=$2 held=$3 ls bad='' modes='' node want line
	ls=$(recs "$label" LS "$step")
	while read -r _ bus dev _; do
		node=$(node_of "$bus" "$dev")
		want=0:0
		is_held "$node" && want=$held
		line=$(awk -v n="$node" '$NF == n { print $1, $3 ":" $4 }' <<<"$ls")
		[ "${line#* }" = "$want" ] || bad+="$node is ${line#* } want $want; "
		[ "${line%% *}" = crw------- ] || modes+="$node ${line%% *}; "
	done <<<"$sysfs"
	check "$label" "$step-owners" "$bad" ""
	check "$label" "$step-modes-0600" "$modes" ""
}

# check_list LABEL STEP HELD_OWNER HELD_BY: `hostusb list` has a line per device,
# "BBB DDD" first, with its id, and its owner and the VM holding it in the
# columns the header names OWNER and HELD-BY
check_list() {
	local label=$1 step=$2 bad='' want list
	check "$label" "$step-list-exit-0" "$(recs "$label" LISTRC "$step")" 0
	list=$(recs "$label" LIST "$step")
	while read -r _ bus dev vid pid _; do
		want="0:0 -"
		is_held "$(node_of "$bus" "$dev")" && want="$3 $4"
		printf -v prefix '%03d %03d ' "$bus" "$dev"
		awk -v p="$prefix" -v id="$vid:$pid" -v w="$want" '
			NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
			index($0, p) == 1 && col["OWNER"] && col["HELD-BY"] && $(col["OWNER"]) " " $(col["HELD-BY"]) == w {
				for (i = 3; i <= NF; i++) if ($i == id) ok = 1
			}
			END { exit !ok }' <<<"$list" || bad+="no line [$prefix... $vid:$pid ... $want]; "
	done <<<"$sysfs"
	check "$label" "$step-list" "$bad" ""
}

# check_select_list LABEL STEP: each device's line of `hostusb list` (the one
# naming its port) shows its serial, speed and the value that selects it;
# `list --property` gives exactly those values
check_select_list() {
	local label=$1 step=$2 list bad='' n line w want
	list=$(recs "$label" LIST "$step" | tr -s ' \t' '  ')
	while read -r n _; do
		want=("${speed_of[$n]:-?}" "$(value_of "$n")")
		[ -z "${serial_of[$n]:-}" ] || want+=("${serial_of[$n]}")
		line=$(awk -v n="$n" '{ for (i = 1; i <= NF; i++) if ($i == n) { print; next } }' <<<"$list")
		if [ -z "$line" ] || [[ $line == *$'\n'* ]]; then
			bad+="not one line naming $n; "
			continue
		fi
		for w in "${want[@]}"; do
			[[ " $line " == *" $w "* ]] || bad+="$n: no [$w] in [$line]; "
		done
	done <<<"$sysfs"
	check "$label" "$step-list-ports-serials-values" "$bad" ""
	check "$label" "$step-list-property-exit-0" "$(recs "$label" LISTPROPRC "$step")" 0
	check "$label" "$step-list-property" "$(recs "$label" LISTPROP "$step" | LC_ALL=C sort | tr '\n' ' ')" \
		"$(while read -r n _; do w=$(value_of "$n"); [ "$w" = - ] || echo "$w"; done <<<"$sysfs" |
			LC_ALL=C sort | tr '\n' ' ')"
}

# hostdevs FLATXML: one line per <hostdev>...</hostdev> element
hostdevs() { grep -oP '<hostdev\b.*?</hostdev>' <<<"$1"; }
flat() { tr '\n\t' '  ' <<<"$1"; }
squeeze() { tr -d ' ' <<<"$1"; }
attr() { grep -oP "<$1\\b[^>]*\\b$2=['\"]\\K[^'\"]*" <<<"$3"; }

# check_xml LABEL STEP WANT_ARRAY: the hostdevs the step added, as ID@BUS:DEV or ID@-
check_xml() {
	local label=$1 step=$2 xml orig got=() h v p b d devs
	local -n want_devs=$3
	orig=$(flat "$(cat "$here/domain.xml")")
	xml=$(flat "$(recs "$label" XML "$step")")
	devs=$(hostdevs "$xml")
	while IFS= read -r h; do
		[ -n "$h" ] || continue
		v=$(attr vendor id "$h") p=$(attr product id "$h")
		b=$(attr address bus "$h") d=$(attr address device "$h")
		if [ -n "$b$d" ]; then got+=("${v#0x}:${p#0x}@$b:$d"); else got+=("${v#0x}:${p#0x}@-"); fi
		if ! [[ $h =~ ^\<hostdev[^\>]*mode=[\'\"]subsystem[\'\"] && $h =~ ^\<hostdev[^\>]*type=[\'\"]usb[\'\"] ]]; then
			fail "$label" "$step-xml-hostdev-type" "$h"
		fi
	done <<<"$devs"
	check "$label" "$step-xml-hostdevs" "$(sorted "${got[@]}" | tr '\n' ' ')" "$(sorted "${want_devs[@]}" | tr '\n' ' ')"
	# inside <devices>, and nothing else touched
	local inside=${xml#*<devices>} rest=$xml
	inside=${inside%%</devices>*}
	check "$label" "$step-xml-in-devices" "$(hostdevs "$inside" | wc -l)" "${#want_devs[@]}"
	while IFS= read -r h; do [ -n "$h" ] && rest=${rest//"$h"/}; done <<<"$devs"
	if [ "$(squeeze "$rest")" = "$(squeeze "$orig")" ]; then pass "$label" "$step-xml-rest-unchanged"
	else fail "$label" "$step-xml-rest-unchanged" "the domain XML changed beyond the added hostdevs"; fi
	command -v xmllint >/dev/null &&
		check "$label" "$step-xml-well-formed" "$(recs "$label" XML "$step" | xmllint --noout - 2>&1)" ""
}

orig_sum="$(md5sum <"$here/domain.xml")"

# check_refused LABEL STEP WANTED NEEDLE...: exit 2, one line "hostusb: ..." with
# every NEEDLE in it (WANTED says what was wanted), and the nodes, the journal
# and the domain XML as they were before the step
check_refused() {
	local label=$1 step=$2 wanted=$3 err needle ok=1 what
	shift 3
	check "$label" "$step-exit-2" "$(recs "$label" RC "$step")" 2
	err=$(recs "$label" STDERR "$step")
	[[ $err == "hostusb: "* && $err != *$'\n'* ]] || ok=0
	for needle; do [[ $err == *"$needle"* ]] || ok=0; done
	if [ "$ok" = 1 ]; then pass "$label" "$step-message"
	else fail "$label" "$step-message" "want one line '$wanted', got [$err]"; fi
	for what in LS JOURNAL XMLSUM; do
		check "$label" "$step-unchanged-${what,,}" "$(recs "$label" "$what" "$step-after")" \
			"$(recs "$label" "$what" "$step-before")"
	done
	check "$label" "$step-xml-untouched" "$(recs "$label" XMLSUM "$step-after")" "$orig_sum"
}
for label in "${labels[@]}"; do
	if ! grep -qx "@$label END -" "$work/records"; then
		fail "$label" run "the guest did not finish this binary's run"
		continue
	fi
	check "$label" static-runs-in-guest "$(recs "$label" RC version)" 0
	held_nodes=" ${want_nodes[*]} "

	# before_vm_start, run as VDSM runs it
	check "$label" start-exit-0 "$(recs "$label" RC start)" 0
	audit "$label" start-stderr-a-line-per-node start gave "${want_nodes[@]}"
	check "$label" start-stderr-nothing-else "$(not_audit "$label" start)" ""
	check_nodes "$label" start "$OWNER"
	check "$label" start-journal "$(recs "$label" JOURNAL start | LC_ALL=C sort | tr '\n' ' ')" \
		"$(sorted "${want_journal[@]}" | tr '\n' ' ')"
	check_xml "$label" start want_hostdevs
	check_list "$label" start "$OWNER" "$VMID"

	# after_vm_destroy gives the nodes back
	check "$label" destroy-exit-0 "$(recs "$label" RC destroy)" 0
	check_nodes "$label" destroy 0:0
	check "$label" destroy-journal-empty "$(recs "$label" JOURNAL destroy)" ""
	check_list "$label" destroy 0:0 -

	# migration refused while the property is set
	check "$label" migrate-exit-2 "$(recs "$label" RC migrate)" 2
	check "$label" migrate-message "$(recs "$label" STDERR migrate)" "hostusb: cannot migrate VM with host usb devices"
	check "$label" migrate-unset-exit-0 "$(recs "$label" RC migrate-unset)" 0

	# a missing device: exit 2, one line, nothing changed
	check_refused "$label" missing "hostusb: ...' naming dead:beef" dead beef

	# an empty property is no request at all
	check "$label" empty-exit-0 "$(recs "$label" RC empty)" 0
	check "$label" empty-xml-untouched "$(recs "$label" XMLSUM empty)" "$orig_sum"

	# choosing the device: exactly the chosen nodes, the XML naming them, one
	# warning for the optional entry that names nothing
	held_nodes=" ${select_nodes[*]} "
	check "$label" select-exit-0 "$(recs "$label" RC select)" 0
	audit "$label" select-stderr-a-line-per-node select gave "${select_nodes[@]}"
	err=$(not_audit "$label" select)
	if [ ${#select_skipped[@]} -eq 1 ] && [[ $err == "hostusb: "* && $err != *$'\n'* &&
		$err == *"${select_skipped[0]}"* && $err == *"starting without it" ]]; then
		pass "$label" select-optional-warning
	else fail "$label" select-optional-warning "want one line 'hostusb: ... ${select_skipped[*]} ...: starting without it', got [$err]"; fi
	check_nodes "$label" select "$OWNER"
	check "$label" select-journal "$(recs "$label" JOURNAL select | LC_ALL=C sort | tr '\n' ' ')" \
		"$(sorted "${select_journal[@]}" | tr '\n' ' ')"
	check_xml "$label" select select_hostdevs
	check_list "$label" select "$OWNER" "$VMID"
	check_select_list "$label" select
	check "$label" select-destroy-exit-0 "$(recs "$label" RC select-destroy)" 0
	audit "$label" select-destroy-a-line-per-node select-destroy "gave back" "${select_nodes[@]}"
	check "$label" select-destroy-stderr-nothing-else "$(not_audit "$label" select-destroy)" ""
	held_nodes=' '
	check_nodes "$label" select-destroy 0:0
	check "$label" select-destroy-journal-empty "$(recs "$label" JOURNAL select-destroy)" ""
	check_list "$label" select-destroy 0:0 -
	check_select_list "$label" select-destroy

	# a port holding another id: refused, one line naming the entry, nothing changed
	check_refused "$label" wrongport "hostusb: entry 2 ...: $WRONGPORT_MESSAGE" "entry 2" "$WRONGPORT_MESSAGE"
	# a shared serial, even optional: the message names both ports
	check_refused "$label" ambiguous "hostusb: entry 1 ... SAME ... 1-2 ... 1-3.2 ..." "entry 1" SAME " 1-2 " " 1-3.2"
	# a hub on the port
	check_refused "$label" hubport "hostusb: entry 1 ... 1-3 ... hub ..." "entry 1" " 1-3 " hub
	# a hub by its id, even optional: refused, naming the hub
	check_refused "$label" roothubid "hostusb: entry 1 0x1d6b:0x0002: ... a hub (usb1, /dev/bus/usb/001/001) ..." \
		"entry 1 0x1d6b:0x0002: " "is a hub (usb1, /dev/bus/usb/001/001)" "never given to a VM"
	check_refused "$label" hubid "hostusb: entry 2 ?0x0409:0x55aa: ... a hub (1-3, ...) ..." \
		"entry 2 ?0x0409:0x55aa: " "is a hub (1-3, /dev/bus/usb/001/" "never given to a VM"
done

# --- hibernation: a resume after a real re-plug is refused ------------------------
for label in "${labels[@]}"; do
	if ! grep -qx "@$label RESUMEEND -" "$work/records"; then
		fail "$label" resume "the guest did not finish this binary's resume run"
		continue
	fi
	check "$label" resume-start-exit-0 "$(recs "$label" RC resume-start):$(recs "$label" RC resume-destroy)" 0:0
	check "$label" resume-unmoved-accepted \
		"$(recs "$label" RC resume-still-start):$(recs "$label" RC resume-still):$(recs "$label" STDERR resume-still)" "0:0:"
	check "$label" resume-unmoved-destroy-exit-0 "$(recs "$label" RC resume-still-destroy)" 0
	before=$(recs "$label" ADDR resume-before) after=$(recs "$label" ADDR resume-after)
	check "$label" resume-replug "$(recs "$label" REPLUG -)" 0
	if [ -n "$before" ] && [ "$before" != - ] && [ "$after" != - ] && [ "$before" != "$after" ]; then
		pass "$label" resume-renumbered
	else fail "$label" resume-renumbered "KB-B at [$before] before, [$after] after the re-plug"; fi
	check "$label" resume-moved-start-exit-0 "$(recs "$label" RC resume-moved-start)" 0
	check "$label" resume-moved-exit-2 "$(recs "$label" RC resume-moved)" 2
	err=$(recs "$label" STDERR resume-moved)
	want_at="hostdev 0627:0001 at bus ${before% *} device ${before#* }: "
	want_got="this VM was given 0627:0001 serial KB-B on port $RESUME_PORT (bus ${after% *} device ${after#* }) instead"
	if [[ $err == "hostusb: "* && $err != *$'\n'* && $err == *"$want_at"* && $err == *"$want_got"* &&
		$err == *"start the VM from scratch"* ]]; then
		pass "$label" resume-moved-message
	else fail "$label" resume-moved-message "want one line with [$want_at] and [$want_got], got [$err]"; fi
	for what in LS JOURNAL XMLSUM; do
		check "$label" "resume-moved-unchanged-${what,,}" "$(recs "$label" "$what" resume-moved-after)" \
			"$(recs "$label" "$what" resume-moved-before)"
	done
	check "$label" resume-moved-destroy-exit-0 "$(recs "$label" RC resume-moved-destroy)" 0
	gave_back="hostusb: VM $VMID: gave back /dev/bus/usb/$(printf '%03d/%03d' "${after% *}" "${after#* }") (0x0627:0x0001 serial KB-B"
	check "$label" resume-moved-destroy-gives-kb-b-back \
		"$(recs "$label" STDERR resume-moved-destroy | grep -c -F "$gave_back")" 1
done
summary
