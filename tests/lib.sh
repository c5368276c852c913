# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for the shell tests; sourced, never run.  Every check prints
# one line, "PASS name", "FAIL name: detail" or "SKIP name: reason"; tests/run
# counts them.
#
# Environment set by tests/run: HOSTUSB (the binary under test), SRCDIR (the
# source tree), and a fresh TESTTMP directory for this test file.

pass() { printf 'PASS %s\n' "$1"; }
fail() { printf 'FAIL %s: %s\n' "$1" "${2:-}"; }
skip() { printf 'SKIP %s: %s\n' "$1" "$2"; }

# check NAME COMMAND...: passes when the command exits 0.
check() {
	local name=$1; shift
	if "$@"; then pass "$name"; else fail "$name" "command failed: $*"; fi
}

# check_eq NAME GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got [$2], want [$3]"; fi
}

# check_contains NAME HAYSTACK NEEDLE
check_contains() {
	case $2 in *"$3"*) pass "$1" ;; *) fail "$1" "[$2] does not contain [$3]" ;; esac
}

is_root() { [ "$(id -u)" = 0 ]; }

# no_mount_ns: succeeds, printing why (for a SKIP), when `unshare -m` cannot
# make a mount namespace here: unshare is missing, or it fails, as in a chroot
# or a container without CAP_SYS_ADMIN; then its own first line is quoted.
no_mount_ns() {
	local said
	if ! command -v unshare >/dev/null; then
		echo "unshare is not installed (util-linux)"
		return 0
	fi
	said=$(unshare -m true 2>&1) && return 1
	said=${said%%$'\n'*}
	echo "unshare -m fails here (${said:-no message}): not permitted in a chroot or a container without CAP_SYS_ADMIN"
	return 0
}
