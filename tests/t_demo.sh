# SPDX-License-Identifier: GPL-2.0-or-later
# make demo (tests/demo.sh), as root and as an ordinary user: it ends with
# exit status 0 and shows the device list, the patched XML and the plan; as
# root the plan comes from the real node check, as another user one plain
# line says there are no nodes to check.
. "$SRCDIR/tests/lib.sh"

NOBODY=65534
# demo_copy: what the demo needs, in a directory every user can read (the
# source tree need not be), with a TMPDIR of its own; sets DIR
demo_copy() {
	local f
	DIR=$(mktemp -d "${TMPDIR:-/tmp}/hostusb-t_demo.XXXXXX") || return 1
	for f in hostusb tests/demo.sh tests/fixture.sh tests/example-host.sh tests/data/ovirt-domain.xml; do
		mkdir -p "$DIR/src/$(dirname "$f")" && cp -p "$SRCDIR/$f" "$DIR/src/$f" || return 1
	done
	mkdir "$DIR/tmp" && chmod -R a+rX "$DIR"
}
# demo [PREFIX...]: runs the copied demo (as PREFIX says); sets OUT, RC
demo() {
	OUT=$(cd / && TMPDIR=$DIR/tmp "$@" sh "$DIR/src/tests/demo.sh" 2>&1)
	RC=$?
}
# common NAME: what the demo shows as any user
common() {
	check_eq "$1: exit status 0" "$RC" 0
	check_eq "$1: says so last" "$(printf '%s\n' "$OUT" | tail -1)" "== exit status 0: nothing was changed"
	check_contains "$1: the device list" "$OUT" "001 003 1-2   0627:0001 68284-0000:00:01.0-2 12 "
	check_contains "$1: the patched XML" "$OUT" "<address bus='1' device='2'/>"
	check_eq "$1: no refusal" "$(printf '%s\n' "$OUT" | grep -c -e REFUSED -e 'not a character device' -e 'exit status 2')" 0
	check_eq "$1: temporary directory removed" "$(find "$DIR/tmp" -mindepth 1 | wc -l)" 0
}

demo_copy || { fail "demo: copy" "cannot copy the demo to a temporary directory"; exit 0; }
trap 'rm -rf "$DIR"' EXIT

AS_NOBODY=(setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups)
if is_root && ! command -v setpriv >/dev/null; then
	skip "demo as an ordinary user" "setpriv not found (apt-get install util-linux)"
elif is_root && ! "${AS_NOBODY[@]}" test -r "$DIR/src/tests/demo.sh"; then
	skip "demo as an ordinary user" "uid $NOBODY cannot reach $DIR (set TMPDIR to a directory all can search)"
else
	name="demo as an ordinary user"
	if is_root; then
		chown "$NOBODY:$NOBODY" "$DIR/tmp"
		demo "${AS_NOBODY[@]}"
	else
		demo
	fi
	common "$name"
	check_contains "$name: one plain line on the nodes" "$OUT" \
		"(Only root can make device nodes, so this example host has none to check: sudo make demo checks them too.)"
	check_contains "$name: the plan, nodes not checked" "$OUT" \
		"/dev/bus/usb/001/005 (bus 1 device 5, 0x0781:0x5567) to 107:107; not checked: "
fi

if ! is_root; then
	skip "demo as root" "needs root to make device nodes"
	exit 0
fi
name="demo as root"
demo
common "$name"
# "from 0:0": the plan names the owner of a node it opened and found to be
# the character device sysfs gives
check_contains "$name: the nodes checked" "$OUT" \
	"/dev/bus/usb/001/005 (bus 1 device 5, 0x0781:0x5567) from 0:0 to 107:107"
check_eq "$name: nothing unchecked" "$(printf '%s\n' "$OUT" | grep -c -e 'not checked' -e 'Only root')" 0
