# SPDX-License-Identifier: GPL-2.0-or-later
# Choosing the device: serial numbers, ports, optional entries.  The built
# binary run as VDSM runs it, against a root with a hub, identical devices
# with and without serials, a serial two devices share, one that cannot be
# named, and a device on a USB 3 bus.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/fixture.sh"
. "$SRCDIR/tests/hooks.sh"

hook_dirs before_vm_start after_vm_destroy

# new_root NAME: the host
#   1-1   hub 05e3:0608 (dev 2), behind it 1-1.1 dongle 0529:0001 A1B2 (3, full speed)
#         and 1-1.2 dongle 0529:0001 C3D4 (4)
#   1-2   dongle 0529:0001 C3D4 (5): the serial 1-1.2 has too
#   1-3   tablet 0627:0001, no serial (6); 1-4 tablet 0627:0001 "A1 B2" (7: not usable)
#   2-1   stick 0781:5567 4C530001 (2) on the USB 3 bus
new_root() {
	host_root "$1"
	fixture_bus "$R" 1
	fixture_bus3 "$R" 2
	fixture_hub "$R" 1-1 05e3 0608 2
	FIXTURE_SPEED=12 fixture_device "$R" 1-1.1 0529 0001 3 0600 A1B2
	fixture_device "$R" 1-1.2 0529 0001 4 0600 C3D4
	fixture_device "$R" 1-2 0529 0001 5 0600 C3D4
	fixture_device "$R" 1-3 0627 0001 6
	fixture_device "$R" 1-4 0627 0001 7 0600 'A1 B2'
	fixture_device "$R" 2-1 0781 5567 2 0600 4C530001
}

# the owners of the nodes that are not root's, "1/3=107:107 ..."
given() {
	local n
	for n in 1:2 1:3 1:4 1:5 1:6 1:7 2:2; do
		[ "$(owner "${n%:*}" "${n#*:}")" = 0:0 ] || printf '%s=%s ' "${n%:*}/${n#*:}" "$(owner "${n%:*}" "${n#*:}")"
	done
}
# the hostdevs of the domain file (or of FILE): "0529:0001@1/3 0781:5567", @ when it has an address
hostdevs() {
	tr -d ' \n' <"${1:-$DOM}" | grep -o "<hostdevmode='subsystem'type='usb'>.*</hostdev>" |
		sed -e "s|</hostdev>|\n|g" | sed -n \
		-e "s|.*<vendorid='0x\(....\)'/><productid='0x\(....\)'/><addressbus='\([0-9]*\)'device='\([0-9]*\)'/>.*|\1:\2@\3/\4|p" \
		-e "s|.*<vendorid='0x\(....\)'/><productid='0x\(....\)'/></source>.*|\1:\2|p" | tr '\n' ' ' | sed 's/ $//'
}
journal() { cat "$JOURNAL" 2>/dev/null || echo none; }
snapshot() { printf '%s|%s|%s' "$(given)" "$(journal)" "$(md5sum <"$DOM")"; }

if ! is_root; then
	skip "select tests" "need root to mknod device nodes and chown them"
	exit 0
fi

# --- a serial number: that device, with its address (the id is shared)
new_root serial
hook before_vm_start 0x0529:0x0001#A1B2
check_eq "serial: exit 0, one line naming the device, its owner before and the VM" "$RC:$ERR" \
	"0:hostusb: VM $VM1: gave /dev/bus/usb/001/003 (0x0529:0x0001 serial A1B2, bus 1 device 3) to 107:107; recorded owner 0:0 mode 0600"
check_eq "serial: its node given to qemu, no other" "$(given)" "1/3=107:107 "
check_eq "serial: the hostdev names the device's address" "$(hostdevs)" "0529:0001@1/3"
check_eq "serial: the journal line" "$(journal)" "/dev/bus/usb/001/003:0:0:$VM1:0600"
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
hook before_vm_start 0x0529:0x0001#A1B2
check_eq "serial: a re-start of the same VM gets the same device" "$RC:$(given):$(hostdevs)" \
	"0:1/3=107:107 :0529:0001@1/3"
check_eq "serial: a re-start keeps the one journal line" "$(journal)" "/dev/bus/usb/001/003:0:0:$VM1:0600"
hook after_vm_destroy 0x0529:0x0001#A1B2
check_eq "serial: destroy gives it back, one line saying so" "$RC:$ERR:$(given):$(journal)" \
	"0:hostusb: VM $VM1: gave back /dev/bus/usb/001/003 (0x0529:0x0001 serial A1B2, bus 1 device 3) to 0:0 mode 0600::"

# --- named entries first, then plain ids the lowest free left
new_root mixed
hook before_vm_start "0x0529:0x0001&0x0627:0x0001&0x0529:0x0001#A1B2"
check_eq "mixed: exit 0, a line per node in entry order, a serial or else the port" "$RC:$ERR" \
	"0:hostusb: VM $VM1: gave /dev/bus/usb/001/004 (0x0529:0x0001 serial C3D4, bus 1 device 4) to 107:107; recorded owner 0:0 mode 0600
hostusb: VM $VM1: gave /dev/bus/usb/001/006 (0x0627:0x0001 port 1-3, bus 1 device 6) to 107:107; recorded owner 0:0 mode 0600
hostusb: VM $VM1: gave /dev/bus/usb/001/003 (0x0529:0x0001 serial A1B2, bus 1 device 3) to 107:107; recorded owner 0:0 mode 0600"
check_eq "mixed: the plain id takes the lowest the serial left, hostdevs in entry order" "$(hostdevs)" \
	"0529:0001@1/4 0627:0001@1/6 0529:0001@1/3"
check_eq "mixed: three nodes given" "$(given)" "1/3=107:107 1/4=107:107 1/6=107:107 "
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
hook before_vm_start "0x0529:0x0001&0x0627:0x0001&0x0529:0x0001#A1B2"
check_eq "mixed: a re-start chooses the same devices" "$RC:$(hostdevs)" \
	"0:0529:0001@1/4 0627:0001@1/6 0529:0001@1/3"
check_eq "mixed: journal lines unchanged by the re-start" "$(journal | cut -d: -f1 | tr '\n' ' ')" \
	"/dev/bus/usb/001/004 /dev/bus/usb/001/006 /dev/bus/usb/001/003 "

# --- ports
new_root port
hook before_vm_start "@2-1"
check_eq "port alone: the device there, always with its address" "$RC:$ERR:$(hostdevs)" \
	"0:hostusb: VM $VM1: gave /dev/bus/usb/002/002 (0x0781:0x5567 serial 4C530001, bus 2 device 2) to 107:107; recorded owner 0:0 mode 0600:0781:5567@2/2"
check_eq "port alone: journal" "$(journal)" "/dev/bus/usb/002/002:0:0:$VM1:0600"
hook after_vm_destroy "@2-1"
check_eq "port alone: destroy gives it back, no warning" "$RC:$ERR:$(given):$(journal)" \
	"0:hostusb: VM $VM1: gave back /dev/bus/usb/002/002 (0x0781:0x5567 serial 4C530001, bus 2 device 2) to 0:0 mode 0600::"
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
hook before_vm_start "0x0781:0x5567@2-1"
check_eq "id on a port of the USB 3 bus: a unique id needs no address" "$RC:$(hostdevs)" "0:0781:5567"
hook after_vm_destroy "0x0781:0x5567@2-1"
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
hook before_vm_start "0x0781:0x5567#4C530001"
check_eq "serial on the USB 3 bus: a unique id needs no address" "$RC:$(hostdevs):$(given)" "0:0781:5567:2/2=107:107 "
hook after_vm_destroy "0x0781:0x5567#4C530001"
check_eq "serial on the USB 3 bus: given back" "$RC:$(given):$(journal)" "0::"
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
hook before_vm_start "0x0529:0x0001@1-2&0x0627:0x0001@1-4"
check_eq "id on a port: that device, with the address" "$RC:$(hostdevs)" "0:0529:0001@1/5 0627:0001@1/7"
hook after_vm_destroy "0x0529:0x0001@1-2&0x0627:0x0001@1-4"

# --- refused, one line naming the entry, nothing changed
new_root refused
# refused NAME PROPERTY MESSAGE: exit 2, exactly that line, nothing changed
refused() {
	local before
	before=$(snapshot)
	hook before_vm_start "$2"
	check_eq "$1" "$RC:$ERR" "2:hostusb: $3"
	check_eq "$1: nothing changed" "$(snapshot)" "$before"
}
refused "wrong id on a port" "0x0781:0x5567&0x0529:0x0001@1-3" \
	"entry 2 0x0529:0x0001@1-3: port 1-3 has 0627:0001, not 0529:0001"
refused "a hub on the port" "@1-1" \
	"entry 1 @1-1: port 1-1 has a hub (05e3:0608), which is not given to a VM: name a port behind it"
refused "an unknown serial" "0x0529:0x0001#ZZZ" \
	"entry 1 0x0529:0x0001#ZZZ: no device 0529:0001 with serial ZZZ is present (hostusb list shows the serials)"
refused "an unknown serial of an id no device has: the entry named" "0x0781:0x5567&0x1234:0xbeef#S1" \
	"entry 2 0x1234:0xbeef#S1: no device 1234:beef with serial S1 is present (hostusb list shows the serials)"
refused "a serial that cannot be named is unknown" "0x0627:0x0001#A1B2" \
	"entry 1 0x0627:0x0001#A1B2: no device 0627:0001 with serial A1B2 is present (hostusb list shows the serials)"
refused "an ambiguous serial: both ports and the port form" "0x0529:0x0001#C3D4" \
	"entry 1 0x0529:0x0001#C3D4: 2 devices of 0529:0001 have serial C3D4 (ports 1-1.2 and 1-2): name one by its port, e.g. 0x0529:0x0001@1-1.2"
refused "two entries naming one device" "0x0529:0x0001@1-1.1&0x0529:0x0001#A1B2" \
	"entry 1 0x0529:0x0001@1-1.1 and entry 2 0x0529:0x0001#A1B2 name the same device (port 1-1.1, bus 1 device 3)"
refused "nothing on the port" "@1-9" "entry 1 @1-9: no device on port 1-9"
refused "optional, but another id on the port" "?0x0529:0x0001@1-3" \
	"entry 1 ?0x0529:0x0001@1-3: port 1-3 has 0627:0001, not 0529:0001"
refused "optional, but a hub on the port" "?@1-1" \
	"entry 1 ?@1-1: port 1-1 has a hub (05e3:0608), which is not given to a VM: name a port behind it"
# a hub, root hubs too, is never given, whatever names it
refused "a root hub by its id" "0x1d6b:0x0002" \
	"entry 1 0x1d6b:0x0002: every device of this id is a hub (usb1, /dev/bus/usb/001/001), and a hub is never given to a VM"
refused "the SuperSpeed root hub by its id" "0x0781:0x5567&0x1d6b:0x0003" \
	"entry 2 0x1d6b:0x0003: every device of this id is a hub (usb2, /dev/bus/usb/002/001), and a hub is never given to a VM"
refused "a hub by its id" "0x05e3:0x0608" \
	"entry 1 0x05e3:0x0608: every device of this id is a hub (1-1, /dev/bus/usb/001/002), and a hub is never given to a VM"
refused "a root hub by its serial" "0x1d6b:0x0002#0000:00:01.0" \
	"entry 1 0x1d6b:0x0002#0000:00:01.0: the device with this serial is a hub (usb1, /dev/bus/usb/001/001), and a hub is never given to a VM"
refused "optional, but a hub by its id" "0x0781:0x5567&?0x05e3:0x0608" \
	"entry 2 ?0x05e3:0x0608: every device of this id is a hub (1-1, /dev/bus/usb/001/002), and a hub is never given to a VM"
hook before_vm_start "0x1d6b:0x0002" "$VM1" --dry-run
check_eq "a hub by its id, dry run: refused the same way" "$RC:$ERR" \
	"2:hostusb: entry 1 0x1d6b:0x0002: every device of this id is a hub (usb1, /dev/bus/usb/001/001), and a hub is never given to a VM"
refused "optional, but an ambiguous serial" "?0x0529:0x0001#C3D4" \
	"entry 1 ?0x0529:0x0001#C3D4: 2 devices of 0529:0001 have serial C3D4 (ports 1-1.2 and 1-2): name one by its port, e.g. 0x0529:0x0001@1-1.2"

# --- held by another VM
new_root held
hook before_vm_start 0x0529:0x0001#A1B2 "$VM2"
check_eq "held: VM2 takes A1B2" "$RC:$(given)" "0:1/3=107:107 "
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
refused "held: a serial naming it is refused, naming the holder" "0x0529:0x0001#A1B2" \
	"entry 1 0x0529:0x0001#A1B2: /dev/bus/usb/001/003 is held by VM $VM2"
refused "held: so is its port" "@1-1.1" "entry 1 @1-1.1: /dev/bus/usb/001/003 is held by VM $VM2"
hook before_vm_start "0x0529:0x0001&0x0529:0x0001"
check_eq "held: plain ids never take it" "$RC:$(hostdevs)" "0:0529:0001@1/4 0529:0001@1/5"
hook after_vm_destroy "0x0529:0x0001&0x0529:0x0001"

# --- optional entries: skipped with one warning, exit 0
new_root optional
hook before_vm_start "?0x0529:0x0001#ZZZ&0x0781:0x5567"
check_eq "optional absent: exit 0, the node given, then one warning line" "$RC:$ERR" \
	"0:hostusb: VM $VM1: gave /dev/bus/usb/002/002 (0x0781:0x5567 serial 4C530001, bus 2 device 2) to 107:107; recorded owner 0:0 mode 0600
hostusb: optional 0x0529:0x0001#ZZZ not present: starting without it"
check_eq "optional absent: the others given" "$(given):$(hostdevs)" "2/2=107:107 :0781:5567"
check_eq "optional absent: only the others in the journal" "$(journal)" "/dev/bus/usb/002/002:0:0:$VM1:0600"
hook after_vm_destroy "?0x0529:0x0001#ZZZ&0x0781:0x5567"
check_eq "optional absent: destroy gives back what was claimed, no warning" "$RC:$ERR:$(given):$(journal)" \
	"0:hostusb: VM $VM1: gave back /dev/bus/usb/002/002 (0x0781:0x5567 serial 4C530001, bus 2 device 2) to 0:0 mode 0600::"
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
hook before_vm_start "?0x1234:0xbeef#S1&?0x1234:0xbeef"
check_eq "optional entries of an id no device has: a line each" "$RC:$ERR" \
	"0:hostusb: optional 0x1234:0xbeef#S1 not present: starting without it
hostusb: optional 0x1234:0xbeef not present: starting without it"
hook before_vm_start "?@1-9"
check_eq "optional port with nothing there" "$RC:$ERR" "0:hostusb: optional @1-9 not present: starting without it"
check "optional, every entry skipped: the domain file untouched" cmp -s "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
rm -f "$R/var/run/vdsm/hooks/hostusb-permissions"
hook after_vm_destroy "?@1-9&?0x1234:0xbeef"
check_eq "optional entries never claimed, no journal: destroy says, in one line, that nothing is recorded" \
	"$RC:$ERR" "0:hostusb: VM $VM1: nothing recorded for this VM: nothing to give back ($JOURNAL does not exist)"
hook before_vm_start 0x0529:0x0001#A1B2 "$VM2"
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
hook before_vm_start "?0x0529:0x0001#A1B2&0x0627:0x0001"
check_eq "optional held: exit 0, the holder named" "$RC:$(printf '%s\n' "$ERR" | grep -v ': gave ')" \
	"0:hostusb: optional 0x0529:0x0001#A1B2 held by VM $VM2: starting without it"
check_eq "optional held: only the other device" "$(hostdevs)" "0627:0001@1/6"
check_eq "optional held: the holder's line stays, this VM's added" "$(journal)" \
	"/dev/bus/usb/001/003:0:0:$VM2:0600
/dev/bus/usb/001/006:0:0:$VM1:0600"
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
hook before_vm_start "0x0627:0x0001&?0x0627:0x0001&?0x0627:0x0001"
check_eq "optional plain ids: as many as there are, one warning per entry skipped" \
	"$RC:$(printf '%s\n' "$ERR" | grep -v ': gave '):$(hostdevs)" \
	"0:hostusb: optional 0x0627:0x0001 not present: starting without it:0627:0001@1/6 0627:0001@1/7"
hook after_vm_destroy "0x0627:0x0001&?0x0627:0x0001&?0x0627:0x0001"
check_eq "destroy: gives back exactly this VM's devices" "$RC:$ERR:$(given):$(journal)" \
	"0:hostusb: VM $VM1: gave back /dev/bus/usb/001/006 (0x0627:0x0001 port 1-3, bus 1 device 6) to 0:0 mode 0600
hostusb: VM $VM1: gave back /dev/bus/usb/001/007 (0x0627:0x0001 port 1-4, bus 1 device 7) to 0:0 mode 0600:1/3=107:107 :/dev/bus/usb/001/003:0:0:$VM2:0600"

# --- the dry run says what it would do with every entry
new_root dry
hook before_vm_start "?0x0529:0x0001#ZZZ&0x0529:0x0001#A1B2&?@1-9" "$VM1" --dry-run
check_eq "dry run: exit 0" "$RC" 0
check_eq "dry run: the claimed entry, then each skipped one" "$ERR" \
	"hostusb: dry run: would chown $R/dev/bus/usb/001/003 (bus 1 device 3, 0x0529:0x0001) from 0:0 to 107:107
hostusb: dry run: optional 0x0529:0x0001#ZZZ not present: would start without it
hostusb: dry run: optional @1-9 not present: would start without it"
check_eq "dry run: the XML" "$(hostdevs "$TESTTMP/stdout")" "0529:0001@1/3"
check_eq "dry run: nothing changed" "$(given):$(journal)" ":none"
hook before_vm_start "?@1-9" "$VM1" --dry-run
check_eq "dry run, every entry skipped: says so, exit 0" "$RC:$ERR" \
	"0:hostusb: dry run: optional @1-9 not present: would start without it"
check "dry run, every entry skipped: the XML as it was" cmp -s "$SRCDIR/tests/data/ovirt-domain.xml" "$TESTTMP/stdout"

# --- list: port, serial, speed and the value that names each device
new_root list
hook before_vm_start "0x0529:0x0001#A1B2"
"$HOSTUSB" --root "$R" list >"$TESTTMP/list"
check_eq "list: every device, its port, serial, speed, owner, holder, value" "$(cat "$TESTTMP/list")" \
"BUS DEV PORT  ID        SERIAL                 SPEED OWNER       HELD-BY                              PROPERTY
001 001 usb1  1d6b:0002 0000:00:01.0           480   0:0         -                                    -
001 002 1-1   05e3:0608 -                      480   0:0         -                                    -
001 003 1-1.1 0529:0001 A1B2                   12    107:107     $VM1 0x0529:0x0001#A1B2
001 004 1-1.2 0529:0001 C3D4                   480   0:0         -                                    0x0529:0x0001@1-1.2
001 005 1-2   0529:0001 C3D4                   480   0:0         -                                    0x0529:0x0001@1-2
001 006 1-3   0627:0001 -                      480   0:0         -                                    0x0627:0x0001@1-3
001 007 1-4   0627:0001 \"A1 B2\" (by port only) 480   0:0         -                                    0x0627:0x0001@1-4
002 001 usb2  1d6b:0003 0000:00:02.0           5000  0:0         -                                    -
002 002 2-1   0781:5567 4C530001               5000  0:0         -                                    0x0781:0x5567"
"$HOSTUSB" --root "$R" list --property >"$TESTTMP/values"
check_eq "list --property: the values alone" "$(tr '\n' '&' <"$TESTTMP/values")" \
	"0x0529:0x0001#A1B2&0x0529:0x0001@1-1.2&0x0529:0x0001@1-2&0x0627:0x0001@1-3&0x0627:0x0001@1-4&0x0781:0x5567&"
# every value names its device: all of them at once, by another VM, get exactly those
hook after_vm_destroy "0x0529:0x0001#A1B2"
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
hook before_vm_start "$(paste -sd'&' "$TESTTMP/values")" "$VM2"
check_eq "list --property: the values, as one property, give every device" \
	"$RC:$(printf '%s\n' "$ERR" | grep -c "^hostusb: VM $VM2: gave "):$(hostdevs)" \
	"0:6:0529:0001@1/3 0529:0001@1/4 0529:0001@1/5 0627:0001@1/6 0627:0001@1/7 0781:5567"
