# SPDX-License-Identifier: GPL-2.0-or-later
# The hook as VDSM runs it, for the shell tests that source this after
# tests/lib.sh: the built binary linked into hook-point directories.
# shellcheck disable=SC2034  # VM2, RC, ERR, DOM and JOURNAL are for the tests that source this
#
#   VM1, VM2                   two vmIds
#   hook_dirs POINT...         $TESTTMP/hooks/POINT/50_hostusb, each a link to $HOSTUSB
#   hook POINT PROPERTY [VMID] [ARGS...]
#                              runs it with --root $R on $DOM as vmId (default $VM1);
#                              sets RC and ERR (stderr), stdout in $TESTTMP/stdout
#   owner BUS DEV              the owner uid:gid of that node in $R, or "none"
#   host_root NAME             a fresh root $TESTTMP/root.NAME as R (no bus yet),
#                              its JOURNAL, and an oVirt domain file as VDSM makes
#                              it (0600) in $TESTTMP/domxml.NAME as DOM

VM1=6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de
VM2=0f0e0d0c-0b0a-4909-8807-060504030201
HOOKS=$TESTTMP/hooks

hook_dirs() {
	local point
	for point in "$@"; do
		mkdir -p "$HOOKS/$point"
		ln -s "$HOSTUSB" "$HOOKS/$point/50_hostusb"
	done
}

hook() {
	local point=$1 prop=$2 vmid=${3:-$VM1}
	shift 3 2>/dev/null || shift $#
	ERR=$(env -i PATH=/usr/bin:/bin hostusb="$prop" _hook_domxml="$DOM" vmId="$vmid" \
		"$HOOKS/$point/50_hostusb" --root "$R" "$@" 2>&1 >"$TESTTMP/stdout")
	RC=$?
}

owner() { stat -c '%u:%g' "$(printf '%s/dev/bus/usb/%03d/%03d' "$R" "$1" "$2")" 2>/dev/null || echo none; }

host_root() {
	R=$TESTTMP/root.$1
	rm -rf "$R"
	fixture_root "$R"
	JOURNAL=$R/var/run/vdsm/hooks/hostusb-permissions
	DOM=$TESTTMP/domxml.$1
	cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
	chmod 0600 "$DOM"
}
