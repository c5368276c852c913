#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make distcheck: checks that a `make dist` tarball is complete, the way
# automake's distcheck does.  In a scratch directory, the unpacked tarball
#   1. builds and passes `make check`;
#   2. installs into a DESTDIR, and `make uninstall` from it leaves nothing
#      but empty directories (removed here with rmdir, which must leave
#      nothing either);
#   3. after `make clean` holds exactly the tarball's files, and its own
#      `make dist` makes a tarball of the same files.
# Usage: MAKE=make tests/distcheck.sh hostusb-VERSION.tar.gz
# Prints what it does; on any failure one "distcheck: ..." line says what,
# and the exit status is 1.  The scratch directory is removed either way.
set -u
MAKE=${MAKE:-make}

die() {
	printf 'distcheck: %s\n' "$*" >&2
	exit 1
}
# step WHAT COMMAND...: runs COMMAND with its output in $work/log; shows the
# log's end and stops when it fails
step() {
	local what=$1
	shift
	printf 'distcheck: %s\n' "$what"
	if ! "$@" >"$work/log" 2>&1; then
		tail -20 "$work/log" >&2
		die "$what failed"
	fi
}
# tree DIR: every path under DIR, relative, sorted
tree() { (cd "$1" && find . -mindepth 1 | LC_ALL=C sort); }

[ $# = 1 ] || die "usage: tests/distcheck.sh hostusb-VERSION.tar.gz"
tarball=$(realpath -e "$1") || die "no tarball $1"
name=$(basename "$tarball" .tar.gz)
work=$(mktemp -d "${TMPDIR:-/tmp}/hostusb-distcheck.XXXXXX") || die "cannot make a scratch directory"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP
src=$work/$name
inst=$work/inst

tar -xzf "$tarball" -C "$work" || die "cannot unpack $tarball"
[ -f "$src/Makefile" ] || die "$tarball has no $name/Makefile"
tree "$src" >"$work/shipped"

step "build in $src" "$MAKE" -C "$src"
step "make check" "$MAKE" -C "$src" check
grep -E '^[0-9]+ passed, 0 failed' "$work/log" | tail -1 | sed 's/^/distcheck:   /'

step "make install DESTDIR=$inst" "$MAKE" -C "$src" install DESTDIR="$inst"
installed=$(find "$inst" ! -type d | wc -l)
[ "$installed" -gt 0 ] || die "make install DESTDIR=$inst installed nothing"
step "make uninstall DESTDIR=$inst" "$MAKE" -C "$src" uninstall DESTDIR="$inst"
left=$(cd "$inst" && find . ! -type d)
[ -z "$left" ] || die "left after make uninstall: $(printf '%s' "$left" | tr '\n' ' ')"
find "$inst" -depth -type d -exec rmdir {} + 2>"$work/log" || die "rmdir of the empty directories failed: $(head -3 "$work/log")"
[ ! -e "$inst" ] || die "left after rmdir: $(cd "$inst" && find . | tr '\n' ' ')"
printf 'distcheck:   %d files installed; uninstall and rmdir left nothing\n' "$installed"

step "make clean" "$MAKE" -C "$src" clean
extra=$(tree "$src" | LC_ALL=C comm -13 "$work/shipped" -)
[ -z "$extra" ] || die "make clean left files the tarball does not have: $(printf '%s' "$extra" | tr '\n' ' ')"
gone=$(tree "$src" | LC_ALL=C comm -23 "$work/shipped" -)
[ -z "$gone" ] || die "make clean removed files of the tarball: $(printf '%s' "$gone" | tr '\n' ' ')"

mkdir "$work/redist"
step "make dist from the unpacked tree" "$MAKE" -C "$src" dist DISTDIR="$work/redist"
if ! diff <(tar -tzf "$tarball" | LC_ALL=C sort) <(tar -tzf "$work/redist/$name.tar.gz" | LC_ALL=C sort) >"$work/log"; then
	die "the unpacked tree's make dist differs from $tarball: $(head -5 "$work/log" | tr '\n' ' ')"
fi

printf 'distcheck: %s is ready for distribution\n' "$tarball"
