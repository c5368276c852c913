# SPDX-License-Identifier: GPL-2.0-or-later
# The built static binary, run exactly as VDSM runs it: no arguments but
# --root, argv[0] inside a hook-point directory, the property and the domain
# file in the environment; against fake roots laid out like the kernel's.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/fixture.sh"
. "$SRCDIR/tests/hooks.sh"

hook_dirs before_vm_start after_vm_destroy before_vm_migrate_source

# new_root: a root with two buses, a hub, three 0627:0001 devices, one unique
new_root() {
	host_root "$1"
	fixture_bus "$R" 1
	fixture_bus "$R" 2
	fixture_device "$R" 1-1 0627 0001 2       # tablet
	fixture_device "$R" 1-2 0627 0001 3       # keyboard
	fixture_device "$R" 1-3 05e3 0608 4       # hub
	fixture_device "$R" 1-3.1 1234 beef 5     # behind the hub
	fixture_device "$R" 2-1 0627 0001 2       # mouse, other bus
	fixture_device "$R" 2-2 0781 5567 3       # a unique stick
}


owners() { local n; for n in 1:1 1:2 1:3 1:4 1:5 2:1 2:2 2:3; do printf '%s=%s ' "$n" "$(owner "${n%:*}" "${n#*:}")"; done; }
snapshot() { printf '%s|%s|%s|%s' "$(owners)" "$(cat "$JOURNAL" 2>/dev/null || echo none)" \
	"$(md5sum <"$DOM")" "$(find "$TESTTMP" -maxdepth 1 -name 'domxml.*.hostusb-*' | wc -l)"; }
# the patched file minus the lines added equals the original, byte for byte
only_added() {
	diff "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM" | grep -v '^> ' | grep -qv '^[0-9]*a[0-9,]*$' && return 1
	return 0
}
# list_fields BUS DEV: the fields of that device's line in the list in $TESTTMP/stdout, one space apart
list_fields() { awk -v b="$1" -v d="$2" '$1 == b && $2 == d { $1 = $2 = ""; print substr($0, 3) }' "$TESTTMP/stdout"; }
hostdevs() { grep -c "<hostdev mode='subsystem' type='usb'>" "$DOM"; }

if ! is_root; then
	skip "hook tests" "need root to mknod device nodes and chown them"
	exit 0
fi

# --- property unset or empty: nothing opened for writing
new_root unset
touch -d '2020-01-01 00:00:00' "$DOM"
before=$(stat -c '%Y %s' "$DOM")
hook before_vm_start "" "$VM1"
check_eq "unset property: exit 0" "$RC" 0
check_eq "unset property: domain file untouched (mtime, size)" "$(stat -c '%Y %s' "$DOM")" "$before"
check "unset property: no journal directory created" test ! -e "$R/var/run/vdsm"
ERR=$(env -i _hook_domxml="$DOM" "$HOOKS/before_vm_start/50_hostusb" --root "$R" 2>&1); RC=$?
check_eq "property not in the environment: exit 0" "$RC:$ERR" "0:"

# --- one unique device
new_root single
hook before_vm_start 0x0781:0x5567
check_eq "single: exit 0" "$RC" 0
check_eq "single: node given to qemu" "$(owner 2 3)" 107:107
check_eq "single: others untouched" "$(owner 1 2):$(owner 2 2)" 0:0:0:0
check_eq "single: journal records original owner and VM" "$(cat "$JOURNAL")" "/dev/bus/usb/002/003:0:0:$VM1:0600"
check_eq "single: one hostdev" "$(hostdevs)" 1
check "single: no address for an unambiguous id" grep -qv "address bus=" "$DOM"
check "single: only lines added, the rest byte for byte" only_added
check_contains "single: vendor and product" "$(cat "$DOM")" "<vendor id='0x0781'/>"
check_eq "single: domain file keeps mode 0600" "$(stat -c %a "$DOM")" 600
check_eq "single: node keeps mode 0600" "$(stat -c %a "$R/dev/bus/usb/002/003")" 600
check_eq "single: no temp file left" "$(find "$TESTTMP" "$R/var/run/vdsm/hooks" -name '*XXXX*' -o -name '*.hostusb-*' | wc -l)" 0
ins=$(diff "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM" | sed -n 's/^> //p')
check_eq "single: inserted with the children's indentation" "$ins" \
"        <hostdev mode='subsystem' type='usb'>
            <source>
                <vendor id='0x0781'/>
                <product id='0x5567'/>
            </source>
        </hostdev>"
hook after_vm_destroy 0x0781:0x5567
check_eq "single: destroy exit 0" "$RC" 0
check_eq "single: destroy restores root:root" "$(owner 2 3)" 0:0
check_eq "single: destroy keeps mode 0600" "$(stat -c %a "$R/dev/bus/usb/002/003")" 600
check_eq "single: destroy empties the journal" "$(cat "$JOURNAL")" ""

# --- the VM's user changes the node's mode: destroy gives back owner and mode
new_root mode
hook before_vm_start 0x0781:0x5567
chmod 2666 "$R/dev/bus/usb/002/003"
hook after_vm_destroy 0x0781:0x5567
check_eq "chmod 2666 by the owner: destroy gives back root:root 0600, one line saying so" \
	"$RC:$ERR:$(stat -c '%u:%g %a' "$R/dev/bus/usb/002/003"):$(cat "$JOURNAL")" \
	"0:hostusb: VM $VM1: gave back /dev/bus/usb/002/003 (0x0781:0x5567 port 2-2, bus 2 device 3) to 0:0 mode 0600:0:0 600:"
# an older line, without a mode: the owner only
printf '/dev/bus/usb/002/003:0:0:%s\n' "$VM1" >"$JOURNAL"
chown 107:107 "$R/dev/bus/usb/002/003"
chmod 0640 "$R/dev/bus/usb/002/003"
hook after_vm_destroy 0x0781:0x5567
check_eq "a line without a mode: the owner given back, the mode left (and not named)" \
	"$RC:$ERR:$(stat -c '%u:%g %a' "$R/dev/bus/usb/002/003"):$(cat "$JOURNAL")" \
	"0:hostusb: VM $VM1: gave back /dev/bus/usb/002/003 (0x0781:0x5567 port 2-2, bus 2 device 3) to 0:0:0:0 640:"
# a mode with set-id bits is given back after the chown that clears them
hook before_vm_start 0x0781:0x5567
sed -i 's/:[0-7]\{4\}$/:2660/' "$JOURNAL"
chmod 0666 "$R/dev/bus/usb/002/003"
hook after_vm_destroy 0x0781:0x5567
check_eq "recorded 2660: given back 2660 after the chown" \
	"$RC:$(stat -c '%u:%g %a' "$R/dev/bus/usb/002/003")" "0:0:0 2660"

# --- without vmId (VDSM always sets it): refused before anything is touched
new_root novmid
before=$(snapshot)
ERR=$(env -i hostusb=0x0781:0x5567 _hook_domxml="$DOM" "$HOOKS/before_vm_start/50_hostusb" --root "$R" 2>&1); RC=$?
check_eq "no vmId: refused, one line" "$RC:$ERR" \
	"2:hostusb: vmId is not set: VDSM sets it to the VM's UUID; to run by hand, set it too (vmId=\$(cat /proc/sys/kernel/random/uuid))"
check_eq "no vmId: nodes, journal and domain file untouched" "$(snapshot)" "$before"
check "no vmId: no journal directory created" test ! -e "$R/var/run/vdsm"

# --- the same vendor:product twice, and a device behind a hub
new_root dup
hook before_vm_start "0x0627:0x0001&0x1234:0xbeef&0x0627:0x0001"
check_eq "duplicate id: exit 0" "$RC" 0
check_eq "duplicate id: the two lowest (bus, devnum) taken" "$(owner 1 2) $(owner 1 3) $(owner 2 2)" "107:107 107:107 0:0"
check_eq "behind a hub: 1-3.1 taken" "$(owner 1 5)" 107:107
check_eq "duplicate id: hub itself untouched" "$(owner 1 4)" 0:0
check_eq "duplicate id: three hostdevs" "$(hostdevs)" 3
check_eq "duplicate id: addresses of exactly the chowned devices" \
	"$(grep -o "<address bus='[0-9]*' device='[0-9]*'/>" "$DOM" | tr '\n' ' ')" \
	"<address bus='1' device='2'/> <address bus='1' device='3'/> "
check "duplicate id: only lines added" only_added
check_eq "duplicate id: journal has one line per node" "$(wc -l <"$JOURNAL")" 3
hook before_vm_migrate_source "0x0627:0x0001&0x1234:0xbeef&0x0627:0x0001"
check_eq "migrate: refused with exit 2" "$RC" 2
check_eq "migrate: one clear line" "$ERR" "hostusb: cannot migrate VM with host usb devices"
hook before_vm_migrate_source ""
check_eq "migrate: allowed without the property" "$RC" 0
hook after_vm_destroy "0x0627:0x0001&0x1234:0xbeef&0x0627:0x0001"
check_eq "duplicate id: destroy restores all" "$RC:$(owners)" "0:$(printf '%s=0:0 ' 1:1 1:2 1:3 1:4 1:5 2:1 2:2 2:3)"

# --- nothing changes when anything is wrong (the original chowned first)
new_root missing
before=$(snapshot)
hook before_vm_start "0x0781:0x5567&0xdead:0xbeef"
check_eq "missing second device: exit 2" "$RC" 2
check_contains "missing second device: names the id and counts" "$ERR" "device 0xdead:0xbeef: 1 requested, 0 present"
check_eq "missing second device: nothing changed" "$(snapshot)" "$before"
check "missing second device: no journal directory" test ! -e "$R/var/run/vdsm/hooks/hostusb-permissions"
hook before_vm_start "0x0627:0x0001&0x0627:0x0001&0x0627:0x0001&0x0627:0x0001"
check_contains "four of three: both counts" "$ERR" "0x0627:0x0001: 4 requested, 3 present"
check_eq "four of three: nothing changed" "$RC|$(snapshot)" "2|$before"
hook before_vm_start "0x,,,,:0xbeef"
check_eq "comma id (the original accepted it): refused" "$RC" 2
check_contains "comma id: names entry and text" "$ERR" 'entry 1 "0x,,,,:0xbeef"'
hook before_vm_start "0x0781:0x5567&0x0627:0x01"
check_contains "bad second entry: named" "$ERR" 'entry 2 "0x0627:0x01"'
check_eq "bad property: nothing changed" "$(snapshot)" "$before"
hook before_vm_start 0x0781:0x5567 "../../etc/passwd"
check_eq "bad vmId: refused" "$RC" 2
check_contains "bad vmId: said" "$ERR" "not a UUID-like token"
check_eq "bad vmId: nothing changed" "$(snapshot)" "$before"

# --- the node must be the device sysfs names
for kind in regular symlink rdev missing; do
	new_root "node-$kind"
	node=$R/dev/bus/usb/002/003
	case $kind in
	regular) rm "$node"; echo x >"$node" ;;
	symlink) rm "$node"; ln -s ../001/002 "$node" ;;
	rdev) rm "$node"; mknod -m 0600 "$node" c 189 1 ;;
	missing) rm "$node" ;;
	esac
	before=$(snapshot)
	hook before_vm_start "0x0627:0x0001&0x0781:0x5567"
	check_eq "node $kind: refused with exit 2" "$RC" 2
	check_eq "node $kind: one line naming the node" "$(printf '%s\n' "$ERR" | wc -l):${ERR%%:*}" "1:hostusb"
	check_contains "node $kind: names the node" "$ERR" "/dev/bus/usb/002/003"
	check_eq "node $kind: nothing changed" "$(snapshot)" "$before"
done

# --- a failing chown half-way is rolled back (read-only bind mount over bus 2)
new_root rollback
before=$(snapshot)
if ! why=$(no_mount_ns); then
	# shellcheck disable=SC2016  # $1 is the inner bash's
	unshare -m bash -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' _ \
		"$R/dev/bus/usb/002" env -i hostusb="0x0627:0x0001&0x0781:0x5567" _hook_domxml="$DOM" vmId="$VM1" \
		"$HOOKS/before_vm_start/50_hostusb" --root "$R" >/dev/null 2>"$TESTTMP/err"
	RC=$?
	check_eq "chown fails on device 2: exit 2" "$RC" 2
	check_contains "chown fails on device 2: says why" "$(cat "$TESTTMP/err")" "Read-only file system"
	check_eq "chown fails on device 2: device 1 given back, journal and XML as before" "$(snapshot)" "$before"
else
	skip "rollback of a failed chown" "$why"
fi

# --- /var/run/vdsm missing (the original crashed after chowning)
new_root rundir
rm -rf "$R/var/run"
hook before_vm_start 0x0781:0x5567
check_eq "no /var/run/vdsm: created, journal written" "$RC:$(cat "$JOURNAL")" "0:/dev/bus/usb/002/003:0:0:$VM1:0600"
check "journal lock is its own file" test -f "$JOURNAL.lock"

# --- two VMs share out the devices with one id
new_root vms
hook before_vm_start 0x0627:0x0001 "$VM1"
check_eq "VM1 takes the first 0627:0001" "$RC:$(owner 1 2)" 0:107:107
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
hook before_vm_start "0x0627:0x0001&0x0627:0x0001" "$VM2"
check_eq "VM2 gets the two others" "$RC:$(owner 1 3):$(owner 2 2)" 0:107:107:107:107
check_eq "VM2's addresses are the other two" \
	"$(grep -o "<address bus='[0-9]*' device='[0-9]*'/>" "$DOM" | tr '\n' ' ')" \
	"<address bus='1' device='3'/> <address bus='2' device='2'/> "
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
hook before_vm_start 0x0627:0x0001 0a0a0a0a-0000-0000-0000-000000000003
check_eq "a third VM: refused" "$RC" 2
check_contains "a third VM: names the device and its holder" "$ERR" "/dev/bus/usb/001/002 is held by VM $VM1"
hook before_vm_start 0x0627:0x0001 "$VM1"
check_eq "VM1 restarted without destroy: gets its own device again" "$RC:$(grep -c 001/002 "$JOURNAL")" 0:1
check_contains "VM1 restarted: the original owner is kept" "$(cat "$JOURNAL")" "/dev/bus/usb/001/002:0:0:$VM1:0600"
"$HOSTUSB" --root "$R" list >"$TESTTMP/stdout"
check_eq "list: shows the holder, and the port where the id is shared" "$(list_fields 001 002)" \
	"1-1 0627:0001 - 480 107:107 $VM1 0x0627:0x0001@1-1"
check_eq "list: the id alone where it is unique" "$(list_fields 002 003)" "2-2 0781:5567 - 480 0:0 - 0x0781:0x5567"
check_eq "list: a line per device and a header" "$(wc -l <"$TESTTMP/stdout")" 9
hook after_vm_destroy "" "$VM2"
check_eq "VM2 destroyed: its two back, VM1's kept" "$RC:$(owner 1 2):$(owner 1 3):$(owner 2 2)" 0:107:107:0:0:0:0
check_eq "VM2 destroyed: only VM1's line left" "$(cat "$JOURNAL")" "/dev/bus/usb/001/002:0:0:$VM1:0600"

# --- a journal left by the Python hook: lines run together, no vmId
new_root python
mkdir -p "$R/var/run/vdsm/hooks"
printf '/dev/bus/usb/001/002:0:0/dev/bus/usb/002/003:0:0' >"$JOURNAL"
chown 107:107 "$R/dev/bus/usb/001/002" "$R/dev/bus/usb/002/003"
hook after_vm_destroy "0x0627:0x0001&0x0781:0x5567"
check_eq "Python journal: both restored (the original failed here)" "$RC:$(owner 1 2):$(owner 2 3)" 0:0:0:0:0
check_eq "Python journal: emptied" "$(cat "$JOURNAL")" ""

# --- after_vm_destroy with nothing held, and a device that is gone
new_root gone
hook after_vm_destroy 0x0781:0x5567
check_eq "destroy without journal: exit 0" "$RC" 0
hook before_vm_start 0x0781:0x5567
rm "$R/sys/bus/usb/devices/2-2"
hook after_vm_destroy 0x0781:0x5567
check_eq "destroy of a gone device: warning, exit 0" "$RC" 0
check_contains "destroy of a gone device: says so" "$ERR" "warning: /dev/bus/usb/002/003 is gone"
check_eq "destroy of a gone device: line dropped" "$(cat "$JOURNAL")" ""

# --- after_vm_destroy, a device still in sysfs whose node is missing: a
# warning, the line kept (the original owner is not lost), exit 0; the other
# device is given back
new_root nodegone
hook before_vm_start "0x0781:0x5567&0x1234:0xbeef"
check_eq "node missing: both given to the VM" "$RC:$(owner 2 3):$(owner 1 5)" 0:107:107:107:107
rm "$R/dev/bus/usb/002/003"
hook after_vm_destroy "0x0781:0x5567&0x1234:0xbeef"
check_eq "node missing: destroy exit 0 (the VM's shutdown is not a failure)" "$RC" 0
check_eq "node missing: one warning line, saying what is kept and what to do; the other given back" "$ERR" \
	"hostusb: warning: $R/dev/bus/usb/002/003: device 0x0781:0x5567 is in sysfs but its node is missing; still held by VM $VM1, owner 0:0 kept to restore: once the node is back, run after_vm_destroy for that VM again
hostusb: VM $VM1: gave back /dev/bus/usb/001/005 (0x1234:0xbeef port 1-3.1, bus 1 device 5) to 0:0 mode 0600"
check_eq "node missing: its line kept, the other device's dropped" "$(cat "$JOURNAL")" \
	"/dev/bus/usb/002/003:0:0:$VM1:0600"
check_eq "node missing: the other device given back" "$(owner 1 5)" 0:0
"$HOSTUSB" --root "$R" list >"$TESTTMP/stdout"
check_eq "node missing: list shows it held, with no owner" "$(list_fields 002 003)" \
	"2-2 0781:5567 - 480 - $VM1 0x0781:0x5567"
fixture_node "$R" 2 3
chown 107:107 "$R/dev/bus/usb/002/003"
hook after_vm_destroy "" "$VM1"
check_eq "node back: after_vm_destroy again gives it back and drops the line" \
	"$RC:$ERR:$(owner 2 3):$(cat "$JOURNAL")" \
	"0:hostusb: VM $VM1: gave back /dev/bus/usb/002/003 (0x0781:0x5567 port 2-2, bus 2 device 3) to 0:0 mode 0600:0:0:"
hook before_vm_start 0x0781:0x5567
rm "$R/dev/bus/usb/002/003"
echo x >"$R/dev/bus/usb/002/003"
hook after_vm_destroy 0x0781:0x5567
check_eq "node replaced by a file: still an error (exit 2), line kept" "$RC:$(cat "$JOURNAL")" \
	"2:/dev/bus/usb/002/003:0:0:$VM1:0600"
check_contains "node replaced by a file: says why" "$ERR" "$R/dev/bus/usb/002/003: not a character device"

# two nodes on one bus are reached through the one bus directory: the second
# is checked as the first is
new_root samebus
rm "$R/dev/bus/usb/001/003"
ln -s 002 "$R/dev/bus/usb/001/003"
before=$(snapshot)
hook before_vm_start "0x0627:0x0001&0x0627:0x0001"
check_eq "second node on a bus a symlink: exit 2, nothing changed" "$RC:$(snapshot)" "2:$before"
check_contains "second node on a bus a symlink: names it" "$ERR" "$R/dev/bus/usb/001/003: a symbolic link, not a device"

# --- dry run: XML to stdout, plan to stderr, nothing changed
new_root dry
before=$(snapshot)
hook before_vm_start "0x0627:0x0001&0x0781:0x5567" "$VM1" --dry-run
check_eq "dry run: exit 0" "$RC" 0
check_eq "dry run: nothing changed" "$(snapshot)" "$before"
check_eq "dry run: patched XML on stdout" "$(grep -c '<hostdev ' "$TESTTMP/stdout")" 2
check_contains "dry run: plan on stderr" "$ERR" "would chown $R/dev/bus/usb/002/003"
check "dry run: journal directory not created" test ! -e "$R/var/run/vdsm"

# --- hook directories that are links to directories of other names: the
# hook point is the name VDSM ran the program by
new_root linked
LINKED=$TESTTMP/linked
mkdir -p "$LINKED/vdsm/hooks" "$LINKED/opt/start" "$LINKED/opt/destroy" "$LINKED/opt/migrate"
ln -s ../../opt/start "$LINKED/vdsm/hooks/before_vm_start"
ln -s ../../opt/destroy "$LINKED/vdsm/hooks/after_vm_destroy"
ln -s ../../opt/migrate "$LINKED/vdsm/hooks/before_vm_migrate_source"
for dir in start destroy migrate; do ln -s "$HOSTUSB" "$LINKED/opt/$dir/50_hostusb"; done
# linked DIR PROGRAM PROPERTY: runs PROGRAM in DIR as VDSM would; RC, ERR, stdout in $TESTTMP/stdout
linked() {
	ERR=$(cd "$1" && env -i PATH=/usr/bin:/bin hostusb="$3" _hook_domxml="$DOM" vmId="$VM1" "$2" --root "$R" \
		2>&1 >"$TESTTMP/stdout")
	RC=$?
}
linked / "$LINKED/vdsm/hooks/before_vm_start/50_hostusb" 0x0781:0x5567
check_eq "linked before_vm_start: started, its line, nothing listed" "$RC:$ERR:$(cat "$TESTTMP/stdout")" \
	"0:hostusb: VM $VM1: gave /dev/bus/usb/002/003 (0x0781:0x5567 port 2-2, bus 2 device 3) to 107:107; recorded owner 0:0 mode 0600:"
check_eq "linked before_vm_start: the node given, the hostdev added" "$(owner 2 3):$(hostdevs)" 107:107:1
linked / "$LINKED/vdsm/hooks/before_vm_migrate_source/50_hostusb" 0x0781:0x5567
check_eq "linked before_vm_migrate_source: the migration refused" "$RC:$ERR" \
	"2:hostusb: cannot migrate VM with host usb devices"
before=$(snapshot)
for dir in start destroy migrate; do
	linked "$LINKED/opt/$dir" ./50_hostusb 0x0781:0x5567
	check_eq "opt/$dir/50_hostusb (the link's target) run as a hook: exit 2, one line naming the hook points" \
		"$RC:$ERR:$(cat "$TESTTMP/stdout")" \
		"2:hostusb: ./50_hostusb: run as a hook (_hook_domxml is set), but no hook point hostusb serves (before_vm_start, after_vm_destroy, before_vm_migrate_source, before_vm_dehibernate) names its directory; install it in one of those, or give the hook point as an argument; see hostusb --help:"
done
check_eq "the links' targets run as a hook: nothing changed" "$(snapshot)" "$before"
linked / "$LINKED/vdsm/hooks/after_vm_destroy/50_hostusb" 0x0781:0x5567
check_eq "linked after_vm_destroy: given back, the line dropped" "$RC:$ERR:$(owner 2 3):$(cat "$JOURNAL")" \
	"0:hostusb: VM $VM1: gave back /dev/bus/usb/002/003 (0x0781:0x5567 port 2-2, bus 2 device 3) to 0:0 mode 0600:0:0:"

# --- _hook_domxml without a directory, where `virsh -r dumpxml VM >vm.xml` leads
new_root bare
ERR=$(cd "$TESTTMP" && env -i hostusb=0x0781:0x5567 _hook_domxml=domxml.bare vmId="$VM1" \
	"$HOOKS/before_vm_start/50_hostusb" --root "$R" 2>&1); RC=$?
check_eq "_hook_domxml=NAME, no directory: started, its line" "$RC:$ERR" "0:hostusb: VM $VM1: gave /dev/bus/usb/002/003 (0x0781:0x5567 port 2-2, bus 2 device 3) to 107:107; recorded owner 0:0 mode 0600"
check_eq "_hook_domxml=NAME: the node given, the hostdev added, no temporary file left" \
	"$(owner 2 3):$(hostdevs):$(find "$TESTTMP" -maxdepth 1 -name 'domxml.*.hostusb-*' | wc -l)" "107:107:1:0"
check "_hook_domxml=NAME: the rest byte for byte" only_added
ERR=$(cd "$TESTTMP" && env -i hostusb=0x0781:0x5567 _hook_domxml=domxml.bare vmId="$VM1" \
	"$HOOKS/after_vm_destroy/50_hostusb" --root "$R" 2>&1); RC=$?
check_eq "_hook_domxml=NAME: destroy gives it back" "$RC:$ERR:$(owner 2 3)" "0:hostusb: VM $VM1: gave back /dev/bus/usb/002/003 (0x0781:0x5567 port 2-2, bus 2 device 3) to 0:0 mode 0600:0:0"

# --- owner, hook point, environment
new_root owner
hook before_vm_start 0x0781:0x5567 "$VM1" --owner vdsm:kvm
check_eq "--owner by name from the root's passwd/group" "$RC:$(owner 2 3)" 0:36:36
new_root owner2
hook before_vm_start 0x0781:0x5567 "$VM1" --owner 4242:4343
check_eq "--owner by number" "$RC:$(owner 2 3)" 0:4242:4343
hook before_vm_start 0x0627:0x0001 "$VM1" --owner nobody:qemu
check_eq "--owner unknown user: exit 2" "$RC" 2
check_contains "--owner unknown user: names it and the file" "$ERR" "etc/passwd: no valid entry for \"nobody\""
new_root nohook
# not in a hook directory and no HOOK: a command, which lists and changes nothing
before=$(snapshot)
ERR=$(env -i hostusb=0x0781:0x5567 vmId="$VM1" "$HOSTUSB" --root "$R" 2>&1 >"$TESTTMP/stdout"); RC=$?
check_eq "no hook point: lists, exit 0" "$RC:$ERR:$(head -c 3 "$TESTTMP/stdout")" "0::BUS"
check_eq "no hook point: nothing changed" "$(snapshot)" "$before"
# ... but run as a hook (_hook_domxml set), it never silently does nothing
ERR=$(env -i hostusb=0x0781:0x5567 _hook_domxml="$DOM" vmId="$VM1" "$HOSTUSB" --root "$R" 2>&1 >"$TESTTMP/stdout"); RC=$?
check_eq "no hook point, _hook_domxml set: exit 2, one line naming the hook points, nothing listed" \
	"$RC:$ERR:$(cat "$TESTTMP/stdout")" \
	"2:hostusb: $HOSTUSB: run as a hook (_hook_domxml is set), but no hook point hostusb serves (before_vm_start, after_vm_destroy, before_vm_migrate_source, before_vm_dehibernate) names its directory; install it in one of those, or give the hook point as an argument; see hostusb --help:"
check_eq "no hook point, _hook_domxml set: nothing changed" "$(snapshot)" "$before"
check_eq "--version" "$("$HOSTUSB" --version)" "hostusb $(sed -n 's/^VERSION *= *//p' "$SRCDIR/Makefile")"
check_contains "--help" "$("$HOSTUSB" --help)" "usage: hostusb"
rm -rf "$R/sys/bus/usb/devices"
hook before_vm_start 0x0781:0x5567
check_eq "no sysfs devices directory: exit 2" "$RC" 2
check_contains "no sysfs devices directory: said" "$ERR" "sys/bus/usb/devices"
new_root domfile
for target in "$TESTTMP/nonexistent.xml" "$TESTTMP" /dev/zero; do
	DOM=$target
	hook before_vm_start 0x0781:0x5567
	check_eq "_hook_domxml $target: exit 2, node untouched" "$RC:$(owner 2 3)" 2:0:0
	check_contains "_hook_domxml $target: named, and where it came from" "$ERR" "$target (from _hook_domxml): "
done
DOM=$TESTTMP/notdomain.xml
printf '<domainx><devices/></domainx>\n' >"$DOM"
hook before_vm_start 0x0781:0x5567
check_eq "XML whose root is not domain: exit 2, nothing changed" "$RC:$(owner 2 3):$(cat "$JOURNAL" 2>/dev/null)" 2:0:0:
check_contains "XML error: says where" "$ERR" "line 1:"
