#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make demo: what hostusb would do on an example host, changing nothing: its
# device list, then a dry run of before_vm_start on an oVirt domain XML.  Runs
# as any user and touches nothing outside a temporary directory.  Only root
# can make device nodes: as another user the example host has none, and the
# dry run shows its plan without checking them.
set -eu
srcdir=$(cd "$(dirname "$0")/.." && pwd)
. "$srcdir/tests/fixture.sh"
. "$srcdir/tests/example-host.sh"
demo=$(mktemp -d "${TMPDIR:-/tmp}/hostusb-demo.XXXXXX")
trap 'rm -rf "$demo"' EXIT

root=$demo/root
example_host "$root"
if [ "$(id -u)" != 0 ]; then
	# the regular files fixture.sh stands in for nodes are what hostusb refuses
	rm -r "$root/dev/bus/usb"
fi
cp "$srcdir/tests/data/ovirt-domain.xml" "$demo/domain.xml"
property='0x0627:0x0001&0x0781:0x5567'

echo "== hostusb --root $root list"
"$srcdir/hostusb" --root "$root" list
echo
echo "== hostusb=$property hostusb --root $root --dry-run before_vm_start"
if [ "$(id -u)" != 0 ]; then
	echo "(Only root can make device nodes, so this example host has none to check: sudo make demo checks them too.)"
fi
status=0
env -i hostusb="$property" _hook_domxml="$demo/domain.xml" vmId=6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de \
	"$srcdir/hostusb" --root "$root" --dry-run before_vm_start 2>&1 || status=$?
if [ "$status" = 0 ]; then
	echo "== exit status 0: nothing was changed"
else
	echo "== exit status $status: hostusb refused (see above); nothing was changed"
fi
exit "$status"
