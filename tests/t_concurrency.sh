# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Concurrency: 64 VMs start at once, each with its own device, and are then
# destroyed at once: no journal line lost or duplicated, every owner given
# back.  Two VMs race for one device, many times over: exactly one gets it,
# the other fails cleanly, and the journal records the true original owner.
#
# HOSTUSB_LONG_TESTS=1: 200 race rounds instead of 20.
# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"
# shellcheck source=tests/fixture.sh
. "$SRCDIR/tests/fixture.sh"

LONG=${HOSTUSB_LONG_TESTS:-0}
if ! is_root; then
	skip "concurrency" "need root to mknod device nodes and chown them"
	exit 0
fi
# on a tmpfs in a private mount namespace when possible (fsync is free there)
if [ "${HOSTUSB_CONC_NS:-}" != 1 ] && unshare -m true 2>/dev/null; then
	HOSTUSB_CONC_NS=1 exec unshare -m bash "$SRCDIR/tests/t_concurrency.sh"
fi
if [ "${HOSTUSB_CONC_NS:-}" = 1 ]; then
	mount -t tmpfs -o size=64m,mode=0755 tmpfs "$TESTTMP" || exit 1
fi

# a rerun may find the fifos and broken files of the last one: start afresh
rm -rf "${TESTTMP:?}"/*
N=64
vmid() { printf '0000%04d-1111-4222-8333-%012d' "$1" "$1"; }
R=$TESTTMP/root
JOURNAL=$R/var/run/vdsm/hooks/hostusb-permissions
fixture_root "$R"
DOMTEXT=$(cat "$SRCDIR/tests/data/ovirt-domain.xml"; echo x)
DOMTEXT=${DOMTEXT%x}
# 64 devices over 4 buses, 16 each, every one its own id 1d50:6000+i, laid
# out as fixture.sh does (built here with few processes: it is 64 of them)
links=()
for ((i = 0; i < N; i++)); do
	bus=$((i / 16 + 1)) port=$((i % 16 + 1))
	[ "$port" = 1 ] && fixture_bus "$R" "$bus"
	dir="$R/sys/devices/pci0000:00/0000:00:0$bus.0/usb$bus/$bus-$port"
	mkdir -p "$dir/$bus-$port:1.0" "$TESTTMP/vm$i" "$R/dev/bus/usb/00$bus"
	fixture_attrs "$dir" 1d50 "$(printf '%04x' $((0x6000 + i)))" "$bus" $((port + 1))
	printf '00\n' >"$dir/$bus-$port:1.0/bInterfaceNumber"
	links+=("../../../devices/pci0000:00/0000:00:0$bus.0/usb$bus/$bus-$port" \
		"../../../devices/pci0000:00/0000:00:0$bus.0/usb$bus/$bus-$port/$bus-$port:1.0")
	node=$(printf '%s/dev/bus/usb/%03d/%03d' "$R" "$bus" $((port + 1)))
	mknod -m 0600 "$node" c 189 $(((bus - 1) * 128 + port))
	printf '%s' "$DOMTEXT" >"$TESTTMP/vm$i/domxml"
done
ln -s -t "$R/sys/bus/usb/devices" "${links[@]}"
devpath() { printf '/dev/bus/usb/%03d/%03d' $(($1 / 16 + 1)) $(($1 % 16 + 2)); }
owners() { stat -c '%u:%g' "$R"/dev/bus/usb/*/0{0[2-9],1[0-7]} | sort | uniq -c | sed 's/^ *//' | tr '\n' ' '; }

# hook I POINT: VM i's hook, its exit status in rc.I, its stderr in err.I
hook() {
	local i=$1 point=$2
	env -i hostusb="$(printf '0x1d50:0x%04x' $((0x6000 + i)))" _hook_domxml="$TESTTMP/vm$i/domxml" \
		vmId="$(vmid "$i")" "$HOSTUSB" --root "$R" "$point" 2>"$TESTTMP/err.$i"
	echo $? >"$TESTTMP/rc.$i"
}
statuses() { cat "$TESTTMP"/rc.* | sort | uniq -c | sed 's/^ *//' | tr '\n' ' '; }
# audit WORD: the VMs whose stderr is not exactly the one audit line of their node ("gave" or "gave back")
audit() {
	local i bus dev to
	for ((i = 0; i < N; i++)); do
		bus=$((i / 16 + 1)) dev=$((i % 16 + 2)) to="to 107:107; recorded owner 0:0 mode 0600"
		[ "$1" = "gave back" ] && to="to 0:0 mode 0600"
		[ "$(cat "$TESTTMP/err.$i")" = "hostusb: VM $(vmid "$i"): $1 $(devpath "$i") (0x1d50:0x$(printf '%04x' $((0x6000 + i))) port $bus-$((dev - 1)), bus $bus device $dev) $to" ] ||
			printf ' vm%s' "$i"
	done
}

t0=$(date +%s%N)
for ((i = 0; i < N; i++)); do hook "$i" before_vm_start & done
wait
ms=$((($(date +%s%N) - t0) / 1000000))
check_eq "64 parallel starts: all exit 0 (${ms} ms)" "$(statuses)" "64 0 "
check_eq "64 parallel starts: each says, in one line, what it gave" "$(audit gave)" ""
check_eq "64 parallel starts: every node given to qemu" "$(owners)" "64 107:107 "
check_eq "64 parallel starts: journal has 64 lines" "$(wc -l <"$JOURNAL")" 64
want=$(for ((i = 0; i < N; i++)); do printf '%s:0:0:%s:0600\n' "$(devpath "$i")" "$(vmid "$i")"; done | sort)
check_eq "64 parallel starts: one line per node, original owner, the right vmId" "$(sort "$JOURNAL")" "$want"
bad=""
for ((i = 0; i < N; i++)); do
	[ "$(grep -c "<hostdev " "$TESTTMP/vm$i/domxml")" = 1 ] &&
		grep -q "<product id='0x$(printf '%04x' $((0x6000 + i)))'/>" "$TESTTMP/vm$i/domxml" || bad+=" vm$i"
done
check_eq "64 parallel starts: each domain has its own one hostdev" "$bad" ""
rm -f "$TESTTMP"/rc.* "$TESTTMP"/err.*

t0=$(date +%s%N)
for ((i = 0; i < N; i++)); do hook "$i" after_vm_destroy & done
wait
ms=$((($(date +%s%N) - t0) / 1000000))
check_eq "64 parallel destroys: all exit 0 (${ms} ms)" "$(statuses)" "64 0 "
check_eq "64 parallel destroys: each says, in one line, what it gave back" "$(audit "gave back")" ""
check_eq "64 parallel destroys: every owner given back" "$(owners)" "64 0:0 "
check_eq "64 parallel destroys: journal empty" "$(wc -c <"$JOURNAL")" 0
check_eq "64 parallel runs: no temp file left" \
	"$(find "$TESTTMP" -name '*.hostusb-*' -o -name 'hostusb-permissions.??????' | wc -l)" 0

# ---- two VMs, one device
R2=$TESTTMP/root2
J2=$R2/var/run/vdsm/hooks/hostusb-permissions
fixture_root "$R2"
fixture_bus "$R2" 2
fixture_device "$R2" 2-2 0781 5567 3
NODE=$R2/dev/bus/usb/002/003
A=aaaaaaaa-0000-4000-8000-00000000000a
B=bbbbbbbb-0000-4000-8000-00000000000b
ORIG_SUM=$(md5sum <"$SRCDIR/tests/data/ovirt-domain.xml")
# race VM: VM's before_vm_start; status in rc.VM, message in err.VM
race() {
	cp "$SRCDIR/tests/data/ovirt-domain.xml" "$TESTTMP/dom.$1"
	env -i hostusb=0x0781:0x5567 _hook_domxml="$TESTTMP/dom.$1" vmId="$1" \
		"$HOSTUSB" --root "$R2" --lock-wait 10 before_vm_start 2>"$TESTTMP/err.$1"
	echo $? >"$TESTTMP/rc.$1"
}
destroy() {
	env -i hostusb=0x0781:0x5567 _hook_domxml="$TESTTMP/dom.$1" vmId="$1" \
		"$HOSTUSB" --root "$R2" after_vm_destroy 2>"$TESTTMP/derr.$1"
}
rounds=20
[ "$LONG" = 1 ] && rounds=200
bad="" held_msgs=0 lock_msgs=0 barrier=0
for ((round = 0; round < rounds; round++)); do
	holder=""
	if [ $((round % 3)) = 0 ]; then
		# every third round both wait on the lock, having both planned
		# the device as free: the re-check under the lock must catch it
		mkdir -p "${J2%/*}"
		(exec 9>>"$J2.lock" && flock -x 9 && exec sleep 0.15) &
		holder=$!
		barrier=$((barrier + 1))
	fi
	race "$A" &
	race "$B" &
	wait
	[ -n "$holder" ] && wait "$holder" 2>/dev/null
	ra=$(<"$TESTTMP/rc.$A") rb=$(<"$TESTTMP/rc.$B")
	case $ra:$rb in
	0:2) win=$A lose=$B ;;
	2:0) win=$B lose=$A ;;
	*) bad+=" round $round: exits $ra:$rb [$(<"$TESTTMP/err.$A")] [$(<"$TESTTMP/err.$B")];"; win="" ;;
	esac
	if [ -n "$win" ]; then
		msg=$(<"$TESTTMP/err.$lose")
		case $msg in
		"hostusb: device 0x0781:0x5567: 1 requested, 0 free; /dev/bus/usb/002/003 is held by VM $win") held_msgs=$((held_msgs + 1)) ;;
		"hostusb: "*"the lock is still held after"*) lock_msgs=$((lock_msgs + 1)) ;;
		*) bad+=" round $round: loser said [$msg];" ;;
		esac
		[ "$(<"$TESTTMP/err.$win")" = "hostusb: VM $win: gave /dev/bus/usb/002/003 (0x0781:0x5567 port 2-2, bus 2 device 3) to 107:107; recorded owner 0:0 mode 0600" ] ||
			bad+=" round $round: winner said [$(<"$TESTTMP/err.$win")];"
		[ "$(<"$J2")" = "/dev/bus/usb/002/003:0:0:$win:0600" ] || bad+=" round $round: journal [$(<"$J2")];"
		[ "$(stat -c %u:%g "$NODE")" = 107:107 ] || bad+=" round $round: node $(stat -c %u:%g "$NODE");"
		[ "$(md5sum <"$TESTTMP/dom.$lose")" = "$ORIG_SUM" ] || bad+=" round $round: loser's domain file changed;"
		[ "$(grep -c '<hostdev ' "$TESTTMP/dom.$win")" = 1 ] || bad+=" round $round: winner's domain file has no hostdev;"
		# the loser's destroy (VDSM may run it) must not give the winner's device back
		destroy "$lose"
		[ "$(stat -c %u:%g "$NODE"):$(<"$J2")" = "107:107:/dev/bus/usb/002/003:0:0:$win:0600" ] ||
			bad+=" round $round: the loser's destroy changed the winner's device;"
	fi
	destroy "$A"
	destroy "$B"
	[ "$(stat -c %u:%g "$NODE"):$(<"$J2")" = "0:0:" ] || bad+=" round $round: not given back: $(stat -c %u:%g "$NODE") [$(<"$J2")];"
done
if [ -z "$bad" ]; then
	pass "two VMs, one device, $rounds rounds ($barrier after a held lock): exactly one gets it, journal records 0:0"
else
	fail "two VMs, one device" "$bad"
fi
check "two VMs, one device: the loser is told who holds it (held by: $held_msgs, lock timeout: $lock_msgs)" \
	test "$held_msgs" -gt 0
check_eq "two VMs, one device: no temp file left" \
	"$(find "$TESTTMP" -name '*.hostusb-*' -o -name 'hostusb-permissions.??????' | wc -l)" 0

# the same VM started twice at once (a retry racing the first attempt)
bad=""
for ((round = 0; round < 10; round++)); do
	cp "$SRCDIR/tests/data/ovirt-domain.xml" "$TESTTMP/dom.$A.1"
	cp "$SRCDIR/tests/data/ovirt-domain.xml" "$TESTTMP/dom.$A.2"
	for k in 1 2; do
		env -i hostusb=0x0781:0x5567 _hook_domxml="$TESTTMP/dom.$A.$k" vmId="$A" \
			"$HOSTUSB" --root "$R2" before_vm_start 2>"$TESTTMP/err.$k" &
	done
	wait
	[ "$(<"$J2")" = "/dev/bus/usb/002/003:0:0:$A:0600" ] || bad+=" round $round: journal [$(<"$J2")] [$(cat "$TESTTMP"/err.1 "$TESTTMP"/err.2)];"
	destroy "$A"
	[ "$(stat -c %u:%g "$NODE"):$(<"$J2")" = "0:0:" ] || bad+=" round $round: not given back;"
done
check_eq "one VM started twice at once: one line, original owner 0:0, given back" "$bad" ""
