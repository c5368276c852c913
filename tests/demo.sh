#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make demo: a dry run on an example root and domain XML, printing the result.
# Works as an ordinary user: nothing outside a temporary directory is touched.
set -eu
srcdir=$(cd "$(dirname "$0")/.." && pwd)
. "$srcdir/tests/fixture.sh"
demo=$(mktemp -d "${TMPDIR:-/tmp}/hostusb-demo.XXXXXX")
trap 'rm -rf "$demo"' EXIT

root=$demo/root
fixture_root "$root"
fixture_bus "$root" 1
fixture_device "$root" 1-1 0627 0001 2      # QEMU tablet
fixture_device "$root" 1-2 0627 0001 3      # QEMU keyboard: same id
fixture_device "$root" 1-3 05e3 0608 4      # a hub
fixture_device "$root" 1-3.1 0781 5567 5    # a USB stick behind it
cp "$srcdir/tests/data/ovirt-domain.xml" "$demo/domain.xml"

echo "== hostusb --root $root list"
"$srcdir/hostusb" --root "$root" list
echo
echo "== hostusb=0x0627:0x0001&0x0781:0x5567 hostusb --dry-run before_vm_start"
if [ "$(id -u)" != 0 ]; then
	echo "(not root: the example's device nodes are plain files, which a real run refuses)"
fi
status=0
env -i hostusb='0x0627:0x0001&0x0781:0x5567' _hook_domxml="$demo/domain.xml" \
	vmId=6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de \
	"$srcdir/hostusb" --root "$root" --dry-run before_vm_start || status=$?
echo "== exit status $status; the domain file and the nodes are unchanged"
