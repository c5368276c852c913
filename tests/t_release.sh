# SPDX-License-Identifier: GPL-2.0-or-later
# The audit trail (a line per node on stderr at start, destroy and release),
# `hostusb release VMID`, vmIds compared ignoring case, and what a destroy
# without vmId says; against fake roots laid out like the kernel's.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/fixture.sh"
. "$SRCDIR/tests/hooks.sh"

hook_dirs before_vm_start after_vm_destroy

# new_root NAME: bus 1 with a serial-numbered stick and a device without a
# serial, bus 2 with a third device
new_root() {
	host_root "$1"
	fixture_bus "$R" 1
	fixture_bus "$R" 2
	fixture_device "$R" 1-1 0781 5567 2 0664 4C530001
	fixture_device "$R" 1-2 0627 0001 3
	fixture_device "$R" 2-1 1234 beef 2
}
# release VMID [ARGS...]: hostusb release, by hand (no property, no domain file); sets RC, ERR, OUT
release() {
	local out
	out=$(env -i PATH=/usr/bin:/bin "$HOSTUSB" --root "$R" "$@" 2>"$TESTTMP/stderr")
	RC=$?
	ERR=$(cat "$TESTTMP/stderr")
	OUT=$out
}
journal() { cat "$JOURNAL" 2>/dev/null || echo none; }
STICK="/dev/bus/usb/001/002 (0x0781:0x5567 serial 4C530001, bus 1 device 2)"
TABLET="/dev/bus/usb/001/003 (0x0627:0x0001 port 1-2, bus 1 device 3)"
VM1_UPPER=$(printf '%s' "$VM1" | tr a-f A-F)

# --- usage, checked before anything is read (no root needed)
R=$TESTTMP/nothing
release release
check_eq "release without a vmId: says what is missing" "$RC:$ERR" \
	"2:hostusb: release needs the vmId of the VM whose devices to give back: hostusb release VMID"
release release "../etc"
check_eq "release with a vmId that is not one: refused" "$RC:$ERR" \
	'2:hostusb: vmId "../etc": not a UUID-like token'
release release "$VM1" "$VM2"
check_eq "release of two vmIds: one at a time" "$RC:$ERR" \
	"2:hostusb: unexpected argument \"$VM2\": release gives back one VM's devices at a time"
release --dry-run release "$VM1"
check_eq "release --dry-run: not an option of release" "$RC:$ERR" "2:hostusb: --dry-run is not for release; see hostusb --help"
release --owner 0:0 release "$VM1"
check_eq "release --owner: not an option of release" "$RC:$ERR" "2:hostusb: --owner is not for release; see hostusb --help"
check_contains "--help names release" "$("$HOSTUSB" --help)" "hostusb [--root DIR] [--lock-wait SEC] release VMID"

if ! is_root; then
	skip "release and audit tests" "need root to mknod device nodes and chown them"
	exit 0
fi

# --- the audit trail of a start: a line per node, in entry order
new_root audit
chown 5:6 "$R/dev/bus/usb/001/002"
hook before_vm_start "0x0781:0x5567&0x0627:0x0001"
check_eq "start: exit 0, a line per node: device, new owner, VM, owner and mode recorded" "$RC:$ERR" \
	"0:hostusb: VM $VM1: gave $STICK to 107:107; recorded owner 5:6 mode 0664
hostusb: VM $VM1: gave $TABLET to 107:107; recorded owner 0:0 mode 0600"
check_eq "start: the lines say what the journal records" "$(journal)" \
	"/dev/bus/usb/001/002:5:6:$VM1:0664
/dev/bus/usb/001/003:0:0:$VM1:0600"
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
hook before_vm_start "0x0781:0x5567"
check_eq "re-start: the owner recorded by the first start, not the VM's" "$RC:$ERR" \
	"0:hostusb: VM $VM1: gave $STICK to 107:107; recorded owner 5:6 mode 0664"
hook before_vm_start "" "$VM1"
check_eq "start without the property: silent" "$RC:$ERR" "0:"

# --- destroy: a line per node given back; nothing recorded: one line
hook after_vm_destroy "0x0781:0x5567&0x0627:0x0001"
check_eq "destroy: a line per node given back, with owner and mode" "$RC:$ERR" \
	"0:hostusb: VM $VM1: gave back $STICK to 5:6 mode 0664
hostusb: VM $VM1: gave back $TABLET to 0:0 mode 0600"
check_eq "destroy: nodes back" "$(owner 1 2) $(owner 1 3)" "5:6 0:0"
hook after_vm_destroy "0x0781:0x5567"
check_eq "destroy with nothing recorded: one line saying so" "$RC:$ERR" \
	"0:hostusb: VM $VM1: nothing recorded for this VM: nothing to give back"
hook after_vm_destroy "" "$VM2"
check_eq "destroy of a VM without the property and nothing recorded: silent (VDSM runs it for every VM)" \
	"$RC:$ERR" "0:"
printf '/dev/bus/usb/001/003:0:0\n' >"$JOURNAL"
chown 107:107 "$R/dev/bus/usb/001/003"
hook after_vm_destroy "0x0627:0x0001"
check_eq "destroy of a line the Python hook wrote: given back, no mode named" "$RC:$ERR:$(owner 1 3)" \
	"0:hostusb: VM $VM1: gave back $TABLET to 0:0:0:0"

# --- destroy without vmId (VDSM always sets it): says that it is missing
new_root novmid
hook before_vm_start "0x0627:0x0001"
ERR=$(env -i hostusb=0x0627:0x0001 _hook_domxml="$DOM" "$HOOKS/after_vm_destroy/50_hostusb" --root "$R" 2>&1)
RC=$?
check_eq "destroy without vmId: says vmId is missing and how to give back by hand" "$RC:$ERR" \
	"0:hostusb: warning: vmId is not set: only devices recorded without a vmId can be given back; VDSM sets vmId to the VM's UUID (by hand: hostusb release VMID)"
check_eq "destroy without vmId: the VM's line stays" "$(journal):$(owner 1 3)" "/dev/bus/usb/001/003:0:0:$VM1:0600:107:107"

# --- vmIds compared ignoring case
hook after_vm_destroy "0x0627:0x0001" "$VM1_UPPER"
check_eq "destroy with the vmId in capitals gives back what it took in lower case" "$RC:$ERR:$(owner 1 3):$(journal)" \
	"0:hostusb: VM $VM1_UPPER: gave back $TABLET to 0:0 mode 0600:0:0:"
hook before_vm_start "0x0627:0x0001" "$VM1_UPPER"
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
hook before_vm_start "@1-2" "$VM1"
check_eq "a re-start in lower case: the device it holds in capitals is its own" "$RC:$(journal)" \
	"0:/dev/bus/usb/001/003:0:0:$VM1_UPPER:0600"
hook before_vm_start "@1-2" "$VM2"
check_eq "another VM is still refused it" "$RC:$ERR" "2:hostusb: entry 1 @1-2: /dev/bus/usb/001/003 is held by VM $VM1_UPPER"

# --- release VMID: everything recorded for that VM, without its property
new_root release
hook before_vm_start "0x0781:0x5567&0x0627:0x0001" "$VM1"
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
hook before_vm_start "0x1234:0xbeef" "$VM2"
release release "$VM1_UPPER"
check_eq "release: exit 0, a line per node, nothing on stdout" "$RC:$ERR:$OUT" \
	"0:hostusb: VM $VM1_UPPER: gave back $STICK to 0:0 mode 0664
hostusb: VM $VM1_UPPER: gave back $TABLET to 0:0 mode 0600:"
check_eq "release: the nodes back, the other VM's kept" "$(owner 1 2) $(owner 1 3) $(owner 2 2)" "0:0 0:0 107:107"
check_eq "release: only the other VM's line left" "$(journal)" "/dev/bus/usb/002/002:0:0:$VM2:0600"
release release "$VM1"
check_eq "release with nothing recorded: exit 0, one line saying so" "$RC:$ERR" \
	"0:hostusb: VM $VM1: nothing recorded for this VM: nothing to give back"
rm -f "$JOURNAL"
release release "$VM1"
check_eq "release without a journal: one line saying so" "$RC:$ERR" \
	"0:hostusb: VM $VM1: nothing recorded for this VM: nothing to give back ($JOURNAL does not exist)"
ERR=$(env -i hostusb=0x0627:0x0001 vmId="$VM2" "$HOSTUSB" --root "$R" release "$VM1" 2>&1)
check_eq "release ignores the property and vmId of its environment" "$ERR" \
	"hostusb: VM $VM1: nothing recorded for this VM: nothing to give back ($JOURNAL does not exist)"

# --- release that cannot give a node back: exit 2, that line kept, the others given back
new_root failed
hook before_vm_start "0x0781:0x5567&0x0627:0x0001"
rm "$R/dev/bus/usb/001/003"
echo x >"$R/dev/bus/usb/001/003"
release release "$VM1"
check_eq "release with a node it cannot give back: exit 2" "$RC" 2
check_eq "release with a node it cannot give back: a line each, the failure named" "$ERR" \
	"hostusb: VM $VM1: gave back $STICK to 0:0 mode 0664
hostusb: $R/dev/bus/usb/001/003: not a character device"
check_eq "release with a node it cannot give back: its line kept" "$(journal)" "/dev/bus/usb/001/003:0:0:$VM1:0600"
