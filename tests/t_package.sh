#!/bin/bash
# Packaging: the man page, the sudoers rule, the spec, `make install` and
# `make uninstall` into a DESTDIR, `make dist` and a build of its tarball
# unpacked elsewhere.  Fast and offline; what needs root (a test user, the real
# sudo, rpmbuild, `make check` of the tarball) is in tests/system/run.sh.
set -u
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
HOSTUSB=${HOSTUSB:-$SRCDIR/hostusb}
TESTTMP=${TESTTMP:-$(mktemp -d)}
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$SRCDIR/tests/lib.sh"

VERSION=$(sed -n 's/^VERSION *= *//p' "$SRCDIR/Makefile")
HOOKS=/usr/libexec/vdsm/hooks
HOOKNAME=50_hostusb
SUDOERS=/etc/sudoers.d/50_vdsm_hook_hostusb
MAN8=/usr/share/man/man8/hostusb.8

# mk ARGS...: a quiet make in the source tree, output kept for failure messages;
# the directories are the defaults, whatever the calling make was given
mk() {
	make -s --no-print-directory -C "$SRCDIR" PREFIX=/usr LIBEXECDIR=/usr/libexec \
		MANDIR=/usr/share/man SYSCONFDIR=/etc "$@" >"$TESTTMP/make.log" 2>&1
}
mklog() { tr '\n' ' ' <"$TESTTMP/make.log" | cut -c1-400; }
# mode PATH: octal permission bits; target PATH: a symlink's target
mode() { stat -c %a "$1"; }
# files DIR: every non-directory under DIR, relative, sorted
files() { (cd "$1" && find . ! -type d | sed 's|^\./|/|' | LC_ALL=C sort); }

find_tool() {
	local tool=$1 dir
	command -v "$tool" 2>/dev/null && return 0
	for dir in /usr/sbin /sbin; do
		[ -x "$dir/$tool" ] && { printf '%s\n' "$dir/$tool"; return 0; }
	done
	return 1
}

# --- man page ---------------------------------------------------------------
if mandoc=$(find_tool mandoc); then
	out=$("$mandoc" -T lint -W warning "$SRCDIR/hostusb.8" 2>&1)
	if [ -z "$out" ]; then pass man_mandoc_lint; else fail man_mandoc_lint "$(printf '%s' "$out" | head -3 | tr '\n' ' ')"; fi
else
	skip man_mandoc_lint "mandoc not installed (apt-get install mandoc)"
fi
if man=$(find_tool man) && command -v groff >/dev/null 2>&1; then
	out=$(MANWIDTH=80 LC_ALL=C.UTF-8 "$man" --warnings -l "$SRCDIR/hostusb.8" 2>&1 >"$TESTTMP/man.txt")
	if [ -z "$out" ] && [ -s "$TESTTMP/man.txt" ]; then pass man_groff_warnings
	else fail man_groff_warnings "$(printf '%s' "$out" | head -3 | tr '\n' ' ')"; fi
	text=$(tr -s ' \n' ' ' <"$TESTTMP/man.txt" | sed 's/‐ //g; s/- //g')
	missing=
	for want in SYNOPSIS "HOOK POINTS" before_vm_start after_vm_destroy before_vm_migrate_source \
		PROPERTY OPTIONS --root --owner --dry-run ENVIRONMENT _hook_domxml vmId FILES \
		hostusb-permissions 50_vdsm_hook_hostusb "EXIT STATUS" EXAMPLES engine-config \
		UserDefinedVMProperties "cannot migrate" "sudo -n /bin/chown"; do
		case $text in *"$want"*) ;; *) missing="$missing [$want]" ;; esac
	done
	if [ -z "$missing" ]; then pass man_covers_contract; else fail man_covers_contract "missing:$missing"; fi
else
	skip man_groff_warnings "man or groff not installed (apt-get install man-db groff-base)"
	skip man_covers_contract "man or groff not installed"
fi

# --- sudoers rule -----------------------------------------------------------
rule=$SRCDIR/sudoers.vdsm_hook_hostusb
if visudo=$(find_tool visudo); then
	if out=$("$visudo" -cf "$rule" 2>&1); then pass sudoers_visudo
	else fail sudoers_visudo "$out"; fi
else
	skip sudoers_visudo "visudo not installed (apt-get install sudo)"
fi
# Static shape: a sudoers "*" in arguments matches "/" and spaces, so none may
# appear; the rule is for vdsm, as root only, without a password.  (The real
# sudo's verdicts on allowed and refused commands: tests/system/run.sh.)
rules=$(sed -e 's/#.*//' "$rule" | tr -s ' \t' ' ')
case $rules in
*'*'*) fail sudoers_no_wildcard "a '*' in $rule matches any path" ;;
*) pass sudoers_no_wildcard ;;
esac
if printf '%s\n' "$rules" | grep -qx 'vdsm ALL=(root) NOPASSWD: HOSTUSB_CHOWN' &&
	[ "$(printf '%s\n' "$rules" | grep -c 'NOPASSWD')" = 1 ] &&
	! printf '%s\n' "$rules" | grep -v '^ */bin/chown ' | grep -q '/dev/bus/usb'; then
	pass sudoers_shape
else
	fail sudoers_shape "expected one 'vdsm ALL=(root) NOPASSWD: HOSTUSB_CHOWN' rule over /bin/chown patterns"
fi

# --- spec -------------------------------------------------------------------
spec=$SRCDIR/hostusb.spec
check_eq spec_version_matches_makefile "$(sed -n 's/^Version: *//p' "$spec")" "$VERSION"
missing=
for want in "%{hookdir}/before_vm_start/50_hostusb" "%{hookdir}/after_vm_destroy/50_hostusb" \
	"%{hookdir}/before_vm_migrate_source/50_hostusb" \
	"%attr(0440,root,root) %{_sysconfdir}/sudoers.d/50_vdsm_hook_hostusb" \
	"%{_mandir}/man8/hostusb.8" "make check" "Source0: hostusb-%{version}.tar.gz"; do
	grep -qF -- "$want" <(tr -s ' \t' ' ' <"$spec") || missing="$missing [$want]"
done
if [ -z "$missing" ]; then pass spec_lists_layout; else fail spec_lists_layout "missing:$missing"; fi

# --- make install / uninstall ----------------------------------------------
dest=$TESTTMP/dest
rm -rf "$dest" && mkdir -p "$dest"
if ! mk install DESTDIR="$dest"; then
	fail install "make install DESTDIR failed: $(mklog)"
else
	want=$(printf '%s\n' "$HOOKS/after_vm_destroy/$HOOKNAME" "$HOOKS/before_vm_migrate_source/$HOOKNAME" \
		"$HOOKS/before_vm_start/$HOOKNAME" "$SUDOERS" "$MAN8" | LC_ALL=C sort)
	installed=$(files "$dest")
	check_eq install_layout "$(printf '%s' "$installed" | tr '\n' ' ')" "$(printf '%s' "$want" | tr '\n' ' ')"
	bin=$dest$HOOKS/before_vm_start/$HOOKNAME
	if [ -f "$bin" ] && [ ! -L "$bin" ]; then
		check_eq install_hook_mode "$(mode "$bin")" 755
	else
		fail install_hook_mode "$bin is not a regular file"
	fi
	check_eq install_sudoers_mode "$(mode "$dest$SUDOERS" 2>&1)" 440
	check_eq install_man_mode "$(mode "$dest$MAN8" 2>&1)" 644
	if cmp -s "$dest$MAN8" "$SRCDIR/hostusb.8" && cmp -s "$dest$SUDOERS" "$rule"; then
		pass install_copies
	else
		fail install_copies "installed man page or sudoers differs from the source"
	fi
	same=ok
	for point in after_vm_destroy before_vm_migrate_source; do
		link=$dest$HOOKS/$point/$HOOKNAME
		# relative, so it still points at the binary once DESTDIR is gone
		case $(readlink "$link" 2>/dev/null) in
		/*) same="$point/$HOOKNAME is an absolute symlink" ;;
		"") [ "$(stat -c %i "$link")" = "$(stat -c %i "$bin")" ] || same="$point/$HOOKNAME is neither a symlink nor a hard link to the binary" ;;
		*) [ "$(stat -L -c %d:%i "$link")" = "$(stat -c %d:%i "$bin")" ] || same="$point/$HOOKNAME does not resolve to the binary" ;;
		esac
	done
	if [ "$same" = ok ]; then pass install_same_binary; else fail install_same_binary "$same"; fi

	# The entries dispatch on the directory argv[0] is in, as VDSM runs them.
	if [ -x "$bin" ]; then
		out=$(env -i hostusb=0x1234:0x5678 "$dest$HOOKS/before_vm_migrate_source/$HOOKNAME" 2>&1)
		status=$?
		check_eq installed_migrate_link_refuses "$status:$out" "2:hostusb: cannot migrate VM with host usb devices"
		out=$(env -i "$dest$HOOKS/after_vm_destroy/$HOOKNAME" --version 2>&1)
		check_contains installed_link_version "$out" "$VERSION"
	fi

	if ! mk uninstall DESTDIR="$dest"; then
		fail uninstall "make uninstall DESTDIR failed: $(mklog)"
	else
		check_eq uninstall_removes_all "$(files "$dest" | tr '\n' ' ')" ""
	fi
fi

# --- make dist --------------------------------------------------------------
tarball=$TESTTMP/hostusb-$VERSION.tar.gz
if ! mk dist DISTDIR="$TESTTMP"; then
	fail dist "make dist failed: $(mklog)"
elif [ ! -f "$tarball" ]; then
	fail dist "make dist did not write $tarball"
else
	pass dist
	list=$(tar -tzf "$tarball" | LC_ALL=C sort)
	bad=$(printf '%s\n' "$list" | grep -v "^hostusb-$VERSION/" | head -3)
	check_eq dist_single_top_dir "$bad" ""
	missing=
	for want in Makefile hostusb.c sysfs.c sysfs.h xmlpatch.c xmlpatch.h format.c format.h hostusb.8 hostusb.spec \
		sudoers.vdsm_hook_hostusb tests/run tests/lib.sh tests/fixture.sh tests/t_package.sh \
		tests/system/run.sh; do
		printf '%s\n' "$list" | grep -qx "hostusb-$VERSION/$want" || missing="$missing $want"
	done
	if [ -z "$missing" ]; then pass dist_has_sources; else fail dist_has_sources "missing:$missing"; fi
	junk=$(printf '%s\n' "$list" | grep -E "^hostusb-$VERSION/(hostusb|tests/hostusb-dyn|tests/tmp/.*|tests/unit_[a-z_]+(\.asan)?|.*\.(o|so|tar\.gz)|\.git/.*)$" | head -3)
	check_eq dist_no_build_products "$junk" ""
	# every file git tracks ships
	if [ -e "$SRCDIR/.git" ] && command -v git >/dev/null 2>&1; then
		missing=$(cd "$SRCDIR" && git ls-files | while IFS= read -r f; do
			[ -e "$f" ] || continue
			printf '%s\n' "$list" | grep -qxF "hostusb-$VERSION/$f" || printf ' %s' "$f"
		done)
		if [ -z "$missing" ]; then pass dist_has_tracked_files; else fail dist_has_tracked_files "missing:$missing"; fi
	fi

	# Unpacked elsewhere, it builds.  (Its `make check`: tests/system/run.sh.)
	unpacked=$TESTTMP/unpacked
	rm -rf "$unpacked" && mkdir -p "$unpacked"
	if tar -xzf "$tarball" -C "$unpacked" &&
		make -s --no-print-directory -C "$unpacked/hostusb-$VERSION" hostusb >"$TESTTMP/dist-build.log" 2>&1; then
		out=$("$unpacked/hostusb-$VERSION/hostusb" --version 2>&1)
		check_contains dist_tarball_builds "$out" "$VERSION"
	else
		fail dist_tarball_builds "$(tr '\n' ' ' <"$TESTTMP/dist-build.log" | cut -c1-400)"
	fi
fi

# --- footprint ----------------------------------------------------------------
# Every conversion in the sources is one format.c knows: it refuses the others
# at run time (-1 and ""), which the compiler's format checks cannot see.
unknown=$(cd "$SRCDIR" && grep -ohE '%[-0-9.*#+ ]*[hlzjtL]*[a-zA-Z%]' hostusb.c sysfs.c xmlpatch.c |
	grep -vxE '%-?0?[0-9]*(\.\*)?s|%0?[0-9]*d|%-?0?[0-9]*[lz]?[uxX]|%%' | sort -u | tr '\n' ' ')
check_eq format_conversions_known "$unknown" ""

# The formatter is linked once, from format.c, as ordinary (strong) symbols:
# a second definition anywhere is a link error, not a silent choice.
if ! command -v nm >/dev/null 2>&1; then
	skip format_defined_once_strong "nm not installed (apt-get install binutils)"
elif ! nm "$HOSTUSB" >"$TESTTMP/nm" 2>&1 || grep -q ": no symbols$" "$TESTTMP/nm"; then
	skip format_defined_once_strong "$HOSTUSB has no symbol table ($(head -1 "$TESTTMP/nm"))"
else
	defs=$(awk '$NF == "format" || $NF == "vformat" { print $(NF - 1), $NF }' "$TESTTMP/nm" |
		LC_ALL=C sort | tr '\n' ' ')
	check_eq format_defined_once_strong "$defs" "T format T vformat "
fi

# The musl build (make CC=musl-gcc) stays within 64 KiB stripped, as an
# initramfs wants it, and carries no printf.
if command -v musl-gcc >/dev/null 2>&1; then
	musl=$TESTTMP/musl
	rm -rf "$musl" && mkdir -p "$musl"
	(cd "$SRCDIR" && cp Makefile hostusb.c sysfs.c sysfs.h xmlpatch.c xmlpatch.h format.c format.h "$musl/")
	# the build as shipped: not the CFLAGS a calling make (an RPM's %check) passes down
	if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u CFLAGS -u LDFLAGS \
		make -s --no-print-directory -C "$musl" CC=musl-gcc hostusb >"$TESTTMP/musl.log" 2>&1 &&
		strip -o "$musl/hostusb.stripped" "$musl/hostusb"; then
		size=$(stat -c %s "$musl/hostusb.stripped")
		if [ "$size" -le 65536 ]; then pass musl_static_within_64k
		else fail musl_static_within_64k "$size bytes stripped, over 65536"; fi
		printf_core=$(nm "$musl/hostusb" | grep -cE ' (vfprintf|printf_core|fmt_fp)$')
		check_eq musl_static_has_no_printf "$printf_core" 0
	else
		fail musl_static_within_64k "$(tr '\n' ' ' <"$TESTTMP/musl.log" | cut -c1-400)"
	fi
else
	skip musl_static_within_64k "musl-gcc not installed (apt-get install musl-tools)"
fi
