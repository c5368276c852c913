# SPDX-License-Identifier: GPL-2.0-or-later
# --dry-run and the device nodes: a node it finds wrong is refused (exit 2),
# as a real start would; in a root with no /dev/bus/usb at all there is no
# node to check, and the dry run shows its plan and says so, while a real
# start there still refuses.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/fixture.sh"
. "$SRCDIR/tests/example-host.sh"

PROP='0x0627:0x0001&0x0781:0x5567'
# new_root NAME: the example host and a domain file
new_root() {
	R=$TESTTMP/root.$1
	DOM=$TESTTMP/domxml.$1
	example_host "$R"
	cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
}
# start [--dry-run]: before_vm_start; sets RC, ERR, and the XML in $TESTTMP/stdout
start() {
	ERR=$(env -i hostusb="$PROP" _hook_domxml="$DOM" vmId=6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de \
		"$HOSTUSB" --root "$R" "$@" before_vm_start 2>&1 >"$TESTTMP/stdout")
	RC=$?
}
unchanged() { cmp -s "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM" && [ ! -e "$R/var/run/vdsm" ]; }

new_root nodir
rm -r "$R/dev/bus/usb"
start --dry-run
check_eq "no node directory, dry run: exit 0" "$RC" 0
check_eq "no node directory, dry run: patched XML" "$(grep -c '<hostdev ' "$TESTTMP/stdout")" 2
check_contains "no node directory, dry run: says the nodes are not checked" "$ERR" \
	"would chown $R/dev/bus/usb/001/002 (bus 1 device 2, 0x0627:0x0001) to 107:107; not checked: $R/dev/bus/usb does not exist"
check "no node directory, dry run: nothing changed" unchanged
start
check_eq "no node directory, real start: refused" "$RC" 2
check_contains "no node directory, real start: names the node" "$ERR" "$R/dev/bus/usb/001/002: No such file or directory"
check "no node directory, real start: nothing changed" unchanged

new_root nonode
rm "$R/dev/bus/usb/001/005"
start --dry-run
check_eq "one node missing, dry run: exit 2" "$RC" 2
check_contains "one node missing, dry run: refused" "$ERR" "REFUSED, would not chown $R/dev/bus/usb/001/005"

new_root file
rm "$R/dev/bus/usb/001/002" && : >"$R/dev/bus/usb/001/002"
start --dry-run
check_eq "node a regular file, dry run: exit 2" "$RC" 2
check_contains "node a regular file, dry run: says why" "$ERR" "$R/dev/bus/usb/001/002: not a character device"
check_contains "node a regular file, dry run: refused" "$ERR" "REFUSED, would not chown $R/dev/bus/usb/001/002"
check_eq "node a regular file, dry run: still the patched XML" "$(grep -c '<hostdev ' "$TESTTMP/stdout")" 2
check "node a regular file, dry run: nothing changed" unchanged

if ! is_root; then
	skip "dry run, wrong device number" "needs root to make device nodes"
	exit 0
fi
new_root devnum
rm "$R/dev/bus/usb/001/002" && mknod -m 0600 "$R/dev/bus/usb/001/002" c 189 99
start --dry-run
check_eq "wrong device number, dry run: exit 2" "$RC" 2
check_contains "wrong device number, dry run: says why" "$ERR" "its device number is not the one sysfs gives"
start
check_eq "wrong device number, real start: refused" "$RC" 2
check "wrong device number, real start: nothing changed" unchanged
