#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The man page's and README's `list` example is what the program prints:
# `hostusb list` on the example host (tests/example-host.sh) after a VM was
# given its tablet.  In hostusb.8 it sits between two comment lines, escaped
# for roff; in README it is the lines after "    $ hostusb list" up to the
# next empty line, indented by four spaces.
#
#   tests/man-example.sh            prints the man page's block as the program makes it
#   tests/man-example.sh --plain    prints what the program printed, unescaped
#   tests/man-example.sh --check    compares it with hostusb.8 and README: exit 0
#                                   the same, 1 they differ (a diff on stdout)
#   tests/man-example.sh --update   rewrites both blocks (make man-example)
#
# Environment: HOSTUSB (default ./hostusb), MAN_PAGE (default ./hostusb.8),
# README (default ./README).
# Needs root: the example host's nodes are made with mknod, one given to qemu.
set -u
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
HOSTUSB=${HOSTUSB:-$SRCDIR/hostusb}
MAN_PAGE=${MAN_PAGE:-$SRCDIR/hostusb.8}
README=${README:-$SRCDIR/README}
README_BEGIN='    $ hostusb list'
BEGIN='.\" list example: what tests/man-example.sh prints; make man-example rewrites it'
END='.\" end of the list example'
VMID=6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de

die() { printf 'man-example: %s\n' "$*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "needs root (the example host's device nodes are made with mknod)"
[ -x "$HOSTUSB" ] || die "no $HOSTUSB: run make first"
# shellcheck source-path=SCRIPTDIR source=fixture.sh
. "$SRCDIR/tests/fixture.sh"
# shellcheck source-path=SCRIPTDIR source=example-host.sh
. "$SRCDIR/tests/example-host.sh"

tmp=$(mktemp -d) || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT
example_host "$tmp/root"
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$tmp/domain.xml" || die "cannot copy the domain XML"
env -i hostusb=0x0627:0x0001 _hook_domxml="$tmp/domain.xml" vmId="$VMID" \
	"$HOSTUSB" --root "$tmp/root" before_vm_start || die "before_vm_start on the example host failed"
"$HOSTUSB" --root "$tmp/root" list >"$tmp/list" || die "hostusb list failed"
# roff: a backslash is \e, a minus sign \-, a line starting with . or ' gets \&
sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^[.']/\\\\\\&&/" "$tmp/list" >"$tmp/block"

sed -e 's/^/    /' "$tmp/list" >"$tmp/readme-block"

if [ "${1:-}" != --plain ] && ! { grep -qxF "$BEGIN" "$MAN_PAGE" && grep -qxF "$END" "$MAN_PAGE"; }; then
	die "$MAN_PAGE: no lines [$BEGIN] and [$END]"
fi
if [ "${1:-}" != --plain ] && ! grep -qxF "$README_BEGIN" "$README"; then
	die "$README: no line [$README_BEGIN]"
fi
# in_block FILE BEGIN END [WITH]: the lines of FILE between the line BEGIN and
# the line END (README's block ends at an empty line: END ""); with WITH, FILE
# with that file's lines there instead
in_block() {
	# through the environment: awk -v would take the markers' backslashes as escapes
	BEGIN_LINE=$2 END_LINE=$3 WITH=${4:-} awk '
		inside && $0 == ENVIRON["END_LINE"] { inside = 0 }
		inside { if (ENVIRON["WITH"] == "") print; next }
		ENVIRON["WITH"] != "" { print }
		$0 == ENVIRON["BEGIN_LINE"] {
			inside = 1
			if (ENVIRON["WITH"] != "") while ((getline line < ENVIRON["WITH"]) > 0) print line
		}
	' "$1"
}
in_page() { in_block "$MAN_PAGE" "$BEGIN" "$END" "$@"; }
in_readme() { in_block "$README" "$README_BEGIN" "" "$@"; }
case ${1:-} in
"") cat "$tmp/block" ;;
--plain) cat "$tmp/list" ;;
--check)
	rc=0
	in_page | diff -u --label "$MAN_PAGE" --label "hostusb list" - "$tmp/block" || rc=1
	in_readme | diff -u --label "$README" --label "hostusb list" - "$tmp/readme-block" || rc=1
	exit "$rc" ;;
--update)
	if ! in_page "$tmp/block" >"$tmp/page" || ! cat "$tmp/page" >"$MAN_PAGE"; then
		die "cannot rewrite $MAN_PAGE"
	fi
	if ! in_readme "$tmp/readme-block" >"$tmp/readme" || ! cat "$tmp/readme" >"$README"; then
		die "cannot rewrite $README"
	fi
	echo "$MAN_PAGE, $README: list example rewritten" ;;
*) die "usage: $0 [--plain | --check | --update]" ;;
esac
