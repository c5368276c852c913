#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make check-fresh (as root): HACKING's first steps on a fresh Debian machine.
# Makes a minimal Debian root holding only what HACKING asks for
# (debootstrap --variant=minbase --include=gcc,make,libc6-dev: no git, no
# libxml2, no clang, no man, no sudo), unpacks `make dist` of this tree in it,
# and runs `make demo` and `make check` there, as root and as an ordinary user.
# Each must exit 0 and `make check` must end "N passed, 0 failed, N skipped";
# every SKIP line must say what makes it run: a package (apt-get install ...),
# root, HOSTUSB_LONG_TESTS=1, or a USB bus on the machine (/sys/bus/usb/devices).
# Everything is mounted in a private mount namespace and removed at the end.
#
# Environment: FRESH_SUITE (default bookworm), FRESH_MIRROR (default
# http://deb.debian.org/debian), FRESH_TMPDIR (where the ~500 MB root is made,
# default /var/tmp; its mount must allow device nodes and programs).
set -u
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
SUITE=${FRESH_SUITE:-bookworm}
MIRROR=${FRESH_MIRROR:-http://deb.debian.org/debian}
# a command in the root gets at most this many seconds
LIMIT=900
# shellcheck source=../lib.sh disable=SC1091
. "$SRCDIR/tests/lib.sh"
passed=0 failed=0
pass() { passed=$((passed + 1)); printf 'PASS %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf 'FAIL %s: %s\n' "$1" "${2:-}"; }

if ! is_root; then
	skip check-fresh "need root (debootstrap, chroot, mounts): sudo make check-fresh"
	exit 0
fi
if ! command -v debootstrap >/dev/null; then
	skip check-fresh "debootstrap not installed (apt-get install debootstrap)"
	exit 0
fi
# the mounts below vanish with this namespace, whatever happens to this script
if [ "${FRESH_NAMESPACE:-}" != 1 ]; then
	FRESH_NAMESPACE=1 exec unshare -m --propagation private bash "$0" "$@"
fi

started=$SECONDS
work=$(mktemp -d "${FRESH_TMPDIR:-/var/tmp}/hostusb-fresh.XXXXXX") || exit 1
root=$work/root
case ,$(findmnt -n -o OPTIONS -T "$work"), in
*,nodev,* | *,noexec,*)
	fail check-fresh "$work is on a nodev or noexec mount: set FRESH_TMPDIR to a directory elsewhere"
	rm -rf "$work"
	exit 1 ;;
esac
cleanup() {
	mountpoint -q "$root" && umount -R -l "$root"
	# never crosses into a mount that is still there
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# tail_of FILE: its last lines, shortened, for a failure message
tail_of() { tail -n 12 "$1" | cut -c1-240 | sed 's/^/  | /'; }

# --- the tree, as a user gets it: `make dist`, which needs no git ------------
if ! tarball=$(make -s --no-print-directory -C "$SRCDIR" dist DISTDIR="$work" 2>"$work/dist.log"); then
	fail "make dist" "$(tail_of "$work/dist.log")"
	exit 1
fi

# --- the root -----------------------------------------------------------------
t0=$SECONDS
if ! debootstrap --variant=minbase --include=gcc,make,libc6-dev "$SUITE" "$root" "$MIRROR" \
	>"$work/debootstrap.log" 2>&1; then
	fail "debootstrap $SUITE" "$(tail_of "$work/debootstrap.log")"
	exit 1
fi
pass "debootstrap --variant=minbase --include=gcc,make,libc6-dev $SUITE ($((SECONDS - t0)) s)"
extra=
for tool in git clang pkg-config musl-gcc mandoc man groff visudo sudo; do
	chroot "$root" sh -c "command -v $tool" >/dev/null && extra="$extra $tool"
done
for path in /usr/bin/time /usr/include/libxml2; do
	[ -e "$root$path" ] && extra="$extra $path"
done
check_eq "fresh root has none of the optional tools" "$extra" ""

# mount_root: /proc, /sys (read only) and a /dev with the nodes a system has
# without udev; "/" in the root is a mount point, so `unshare -m` works there
mount_root() {
	local node name major minor
	mount --bind "$root" "$root" || return
	mount -t proc proc "$root/proc" || return
	mount -t sysfs -o ro sysfs "$root/sys" || return
	mount -t tmpfs -o mode=0755,nosuid devfs "$root/dev" || return
	for node in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
		IFS=: read -r name major minor <<<"$node"
		mknod -m 0666 "$root/dev/$name" c "$major" "$minor" || return
	done
	ln -s /proc/self/fd "$root/dev/fd" || return
	for node in stdin:0 stdout:1 stderr:2; do
		ln -s "fd/${node#*:}" "$root/dev/${node%:*}" || return
	done
	mkdir -m 1777 "$root/dev/shm" || return
	mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
}
if ! mount_root; then
	fail "mount /proc, /sys, /dev in the root" "see above"
	exit 1
fi

user=fresh
chroot "$root" useradd -m -s /bin/bash "$user" || { fail "useradd $user" "in the root"; exit 1; }
name=$(basename "$tarball" .tar.gz)
for home in /root "/home/$user"; do
	tar -xzf "$tarball" -C "$root$home" || { fail "unpack $tarball" "into $home"; exit 1; }
done
chroot "$root" chown -R "$user:$user" "/home/$user/$name"

# in_root WHO DIR COMMAND: runs COMMAND (sh) in DIR as WHO (root or the user),
# with the environment of a fresh login
in_root() {
	local who=$1 home=/root path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin spec=()
	if [ "$who" != root ]; then
		home=/home/$who path=/usr/local/bin:/usr/bin:/bin spec=(--userspec="$who:$who")
	fi
	timeout -k 10 "$LIMIT" chroot "${spec[@]}" "$root" env -i HOME="$home" PATH="$path" USER="$who" \
		LOGNAME="$who" SHELL=/bin/bash sh -c "cd \"\$1\" && $3" sh "$2"
}

# unexplained_skips LOG: SKIP lines whose reason says nothing that makes them run
unexplained_skips() {
	local line
	grep '^SKIP ' "$1" | while IFS= read -r line; do
		case ${line#*: } in
		*"apt-get install "* | *"need root"* | *"needs root"* | *"as root"* | *HOSTUSB_LONG_TESTS=1* | *"/sys/bus/usb/devices"*) ;;
		*) printf '  | %s\n' "$line" ;;
		esac
	done
}

# make_demo WHO DIR: `make demo` exits 0 and prints the patched XML
make_demo() {
	local who=$1 log=$work/demo.$1 t0=$SECONDS status
	in_root "$who" "$2" "make demo" >"$log" 2>&1
	status=$?
	if [ "$status" = 0 ] && grep -q "<hostdev mode='subsystem' type='usb'>" "$log"; then
		pass "as $who: make demo ($((SECONDS - t0)) s)"
	else
		fail "as $who: make demo" "exit $status, no patched XML"$'\n'"$(tail_of "$log")"
	fi
}

# make_check WHO DIR LABEL: `make check` exits 0 and ends "N passed, 0 failed, N
# skipped"; every SKIP says what makes it run; as a user, the summary names
# the suites that need root and says `sudo make check`
make_check() {
	local who=$1 label=$3 log t0=$SECONDS status last bad
	log=$work/check.${label//[^a-z]/_}
	in_root "$who" "$2" "make check" >"$log" 2>&1
	status=$?
	last=$(tail -n 1 "$log")
	if [ "$status" = 0 ] && [[ $last =~ ^[0-9]+\ passed,\ 0\ failed,\ [0-9]+\ skipped$ ]]; then
		pass "$label: make check: $last ($((SECONDS - t0)) s)"
		grep -E '^(SKIP |not run: |[0-9]+ of [0-9]+ test programs did not run)' "$log" | sed 's/^/  | /'
	else
		fail "$label: make check" "exit $status"$'\n'"$(grep '^FAIL ' "$log" | head -n 10)"$'\n'"$(tail_of "$log")"
	fi
	# the rest reads the tests' output: none when the build failed
	[[ $last =~ ^[0-9]+\ passed,\ [0-9]+\ failed,\ ([0-9]+)\ skipped$ ]] || return
	check_eq "$label: every SKIP line is counted" "$(grep -c '^SKIP ' "$log")" "${BASH_REMATCH[1]}"
	bad=$(unexplained_skips "$log")
	if [ -z "$bad" ]; then pass "$label: every SKIP says what to install or that it needs root"
	else fail "$label: SKIP lines that name no package and no root" $'\n'"$bad"; fi
	[ "$who" != root ] && grep -q '^SKIP [^:]*: need root' "$log" || return 0
	if grep -q '^not run: .*need root' "$log" &&
		grep -q 'did not run; as root they do: sudo make check$' "$log"; then
		pass "$label: the summary names what did not run:$(sed -n 's/^not run: \([^ ]*\).*/ \1/p' "$log" | tr -d '\n')"
	else
		fail "$label: tests skipped for want of root, the summary names none"
	fi
}

# HACKING's two commands as root, then as a user, who then does what the
# summary says (`sudo make check` in the same tree) and runs `make check` again
make_demo root "/root/$name"
make_check root "/root/$name" "as root"
make_demo "$user" "/home/$user/$name"
make_check "$user" "/home/$user/$name" "as $user"
make_check root "/home/$user/$name" "as root in $user's tree"
make_check "$user" "/home/$user/$name" "as $user again"

printf 'check-fresh took %d s\n' "$((SECONDS - started))"
printf '%d passed, %d failed, 0 skipped\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
