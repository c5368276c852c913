# SPDX-License-Identifier: GPL-2.0-or-later
# The man page's and README's `list` example is the program's own output: the
# blocks are what tests/man-example.sh makes from `hostusb list` on the
# example host, and the page as rendered shows exactly those lines.
# `make man-example` rewrites the blocks when the output changes.
. "$SRCDIR/tests/lib.sh"

if ! is_root; then
	skip "man page list example" "needs root to make the example host's device nodes"
	exit 0
fi
example() {
	MAN_PAGE=${PAGE:-$SRCDIR/hostusb.8} README=${READ_ME:-$SRCDIR/README} bash "$SRCDIR/tests/man-example.sh" "$@"
}

if out=$(example --check 2>&1); then
	pass "man page list example: the program's output"
else
	fail "man page list example: the program's output" "run make man-example; $(printf '%s' "$out" | head -8 | tr '\n' '|')"
fi

plain=$(example --plain)
check_contains "man page list example: a held device" "$plain" "107:107     6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de"
check_contains "man page list example: a shared id named by serial" "$plain" " 0x0627:0x0001#68284-0000:00:01.0-2"
check_eq "README list example: the lines printed, indented" \
	"$(sed -n '/^    \$ hostusb list$/,/^$/p' "$SRCDIR/README" | sed -e '1d' -e '/^$/d' -e 's/^    //')" "$plain"
if command -v mandoc >/dev/null; then
	# the lines below the command, less the command's indentation
	shown=$(mandoc -T ascii "$SRCDIR/hostusb.8" | awk -v n="$(printf '%s\n' "$plain" | wc -l)" '
		left > 0 { print substr($0, indent + 1); left-- }
		/\$ hostusb list$/ { indent = index($0, "$") - 1; left = n }')
	check_eq "man page list example: rendered as printed" "$shown" "$plain"
else
	skip "man page list example: rendered as printed" "mandoc not installed (apt-get install mandoc)"
fi

# the check fails when the page or README and the program drift, and --update mends it
PAGE=$TESTTMP/hostusb.8 READ_ME=$TESTTMP/README
sed 's/^001 003 1\\-2   0627:0001/001 003 1\\-2   0627:0002/' "$SRCDIR/hostusb.8" >"$PAGE"
cp "$SRCDIR/README" "$READ_ME"
example --check >/dev/null 2>&1
check_eq "man page list example: a drift is found" "$?" 1
example --update >/dev/null 2>&1 && example --check >/dev/null 2>&1
check_eq "man page list example: --update mends it" "$?" 0
check "man page list example: --update changes only the block" cmp -s "$PAGE" "$SRCDIR/hostusb.8"
cp "$SRCDIR/hostusb.8" "$PAGE"
sed 's/^    001 003 1-2   0627:0001/    001 003 1-2   0627:0002/' "$SRCDIR/README" >"$READ_ME"
example --check >/dev/null 2>&1
check_eq "README list example: a drift is found" "$?" 1
example --update >/dev/null 2>&1 && example --check >/dev/null 2>&1
check_eq "README list example: --update mends it" "$?" 0
check "README list example: --update changes only the block" cmp -s "$READ_ME" "$SRCDIR/README"
