#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Packaging: the man page, the sudoers rule, the spec, the licence and SPDX
# lines, `make install`, `make install-strip` and `make uninstall` into a
# DESTDIR, `make help`, `make dist` and a build of its tarball unpacked
# elsewhere (`make distcheck` does all of that and `make check` of the tarball;
# it is too heavy to run from here).  Fast and offline; what needs root (a test user, the real
# sudo, rpmbuild, `make check` of the tarball) is in tests/system/run.sh.
set -u
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
HOSTUSB=${HOSTUSB:-$SRCDIR/hostusb}
TESTTMP=${TESTTMP:-$(mktemp -d)}
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$SRCDIR/tests/lib.sh"

VERSION=$(sed -n 's/^VERSION *= *//p' "$SRCDIR/Makefile")
SBIN=/usr/sbin
PROGRAM=$SBIN/hostusb
HOOKS=/usr/libexec/vdsm/hooks
HOOKNAME=50_hostusb
SUDOERS=/etc/sudoers.d/50_vdsm_hook_hostusb
MAN8=/usr/share/man/man8/hostusb.8

# mk ARGS...: a quiet make in the source tree, output kept for failure messages;
# the directories are the defaults, whatever the calling make was given
mk() {
	make -s --no-print-directory -C "$SRCDIR" PREFIX=/usr SBINDIR=/usr/sbin LIBEXECDIR=/usr/libexec \
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
	for want in SYNOPSIS "HOOK POINTS" before_vm_start after_vm_destroy before_vm_migrate_source before_vm_dehibernate \
		PROPERTY OPTIONS --root --owner --dry-run ENVIRONMENT _hook_domxml vmId FILES \
		hostusb-permissions 50_vdsm_hook_hostusb "EXIT STATUS" EXAMPLES engine-config \
		UserDefinedVMProperties "cannot migrate" "sudo -n /bin/chown"; do
		case $text in *"$want"*) ;; *) missing="$missing [$want]" ;; esac
	done
	if [ -z "$missing" ]; then pass man_covers_contract; else fail man_covers_contract "missing:$missing"; fi
else
	skip man_groff_warnings "man or groff not installed (apt-get install man-db groff-base)"
	skip man_covers_contract "man or groff not installed (apt-get install man-db groff-base)"
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
# appear; the rules are for vdsm, chown as root and chmod as qemu only, without
# a password.  (The real sudo's verdicts on allowed and refused commands:
# tests/t_sudo.sh and tests/system/run.sh.)
rules=$(sed -e 's/#.*//' "$rule" | tr -s ' \t' ' ')
case $rules in
*'*'*) fail sudoers_no_wildcard "a '*' in $rule matches any path" ;;
*) pass sudoers_no_wildcard ;;
esac
if printf '%s\n' "$rules" | grep -qx 'vdsm ALL=(root) NOPASSWD: HOSTUSB_CHOWN' &&
	printf '%s\n' "$rules" | grep -qx 'vdsm ALL=(qemu) NOPASSWD: HOSTUSB_CHMOD' &&
	[ "$(printf '%s\n' "$rules" | grep -c 'NOPASSWD')" = 2 ] &&
	! printf '%s\n' "$rules" | grep -v -e '^ */bin/chown ' -e '^ */bin/chmod ' | grep -q '/dev/bus/usb'; then
	pass sudoers_shape
else
	fail sudoers_shape "expected 'vdsm ALL=(root) NOPASSWD: HOSTUSB_CHOWN' over /bin/chown patterns and 'vdsm ALL=(qemu) NOPASSWD: HOSTUSB_CHMOD' over /bin/chmod ones, no other rule"
fi

# chmod: one pattern, a mode of four octal digits and one node path, nothing else
chmods=$(printf '%s\n' "$rules" | grep '/bin/chmod' | sed 's/^ *//; s/,* *\\*$//')
check_eq sudoers_chmod_exact "$chmods" '/bin/chmod [0-7][0-7][0-7][0-7] /dev/bus/usb/[0-9][0-9][0-9]/[0-9][0-9][0-9]'

# chown never follows a symlink put at the path after the node was checked
chowns=$(printf '%s\n' "$rules" | grep '/bin/chown')
if [ -n "$chowns" ] && ! printf '%s\n' "$chowns" | grep -v '^ */bin/chown -h \[0-9\]' | grep -q .; then
	pass sudoers_chown_only_with_h
else
	fail sudoers_chown_only_with_h "every /bin/chown pattern must begin '/bin/chown -h [0-9]'"
fi

# --- spec -------------------------------------------------------------------
spec=$SRCDIR/hostusb.spec
check_eq spec_version_matches_makefile "$(sed -n 's/^Version: *//p' "$spec")" "$VERSION"
missing=
for want in "%license LICENSE" "%{_sbindir}/hostusb" "SBINDIR=%{_sbindir}" \
	"%{hookdir}/before_vm_start/50_hostusb" "%{hookdir}/after_vm_destroy/50_hostusb" \
	"%{hookdir}/before_vm_migrate_source/50_hostusb" "%{hookdir}/before_vm_dehibernate/50_hostusb" \
	"%attr(0440,root,root) %{_sysconfdir}/sudoers.d/50_vdsm_hook_hostusb" \
	"%{_mandir}/man8/hostusb.8" "make check" "Source0: hostusb-%{version}.tar.gz"; do
	grep -qF -- "$want" <(tr -s ' \t' ' ' <"$spec") || missing="$missing [$want]"
done
if [ -z "$missing" ]; then pass spec_lists_layout; else fail spec_lists_layout "missing:$missing"; fi

# --- licence ----------------------------------------------------------------
# LICENSE names the spec's licence; every source file carries its SPDX line
# near the top, after a "#!" or shellcheck directive line when there is one.
LICENCE_ID=$(sed -n 's/^License: *//p' "$spec")
check_eq spec_licence_id "$LICENCE_ID" GPL-2.0-or-later
if [ -f "$SRCDIR/LICENSE" ] && grep -qF "$LICENCE_ID" "$SRCDIR/LICENSE" &&
	grep -qF 'https://www.gnu.org/licenses/old-licenses/gpl-2.0.html' "$SRCDIR/LICENSE"; then
	pass licence_file
else
	fail licence_file "$SRCDIR/LICENSE missing, or it does not name $LICENCE_ID and where its text is"
fi
# source_files: C sources and headers, shell scripts (by name or "#!" line),
# the Makefile, man page, spec and sudoers rule
source_files() {
	(cd "$SRCDIR" && find . \( -path ./.git -o -path ./tests/tmp -o -path ./tests/fuzz/build \) -prune -o \
		-type f -print | sed 's|^\./||' | LC_ALL=C sort | while IFS= read -r f; do
		case $f in
		*.c | *.h | *.sh | Makefile | *.8 | *.spec | sudoers.*) printf '%s\n' "$f" ;;
		*) [ "$(head -c 2 "$f")" = '#!' ] && printf '%s\n' "$f" ;;
		esac
	done)
}
sources=$(source_files)
without=
for f in $sources; do
	head -3 "$SRCDIR/$f" | grep -qE "^(/\\*|#|\\.\\\\\") SPDX-License-Identifier: $LICENCE_ID( \\*/)?\$" ||
		without="$without $f"
done
if [ -z "$without" ] && [ "$(printf '%s\n' "$sources" | grep -c .)" -ge 10 ]; then
	pass spdx_in_every_source
else
	fail spdx_in_every_source "no 'SPDX-License-Identifier: $LICENCE_ID' line in the first lines of:$without"
fi
misplaced=
for f in $sources; do
	line=$(grep -n -m1 'SPDX-License-Identifier' "$SRCDIR/$f" | cut -d: -f1)
	case $(head -1 "$SRCDIR/$f") in
	'#!'* | '# shellcheck '*) [ "$line" = 2 ] || misplaced="$misplaced $f" ;;
	*) [ "$line" = 1 ] || misplaced="$misplaced $f" ;;
	esac
done
check_eq spdx_line_placement "$misplaced" ""

# --- make install / uninstall ----------------------------------------------
# The program in /usr/sbin; each hook entry a relative symbolic link to it.
LAYOUT=$(printf '%s\n' "$PROGRAM" "$SUDOERS" "$MAN8" \
	"$HOOKS"/{before_vm_start,after_vm_destroy,before_vm_migrate_source,before_vm_dehibernate}/"$HOOKNAME" | LC_ALL=C sort)

# hook_links DEST PROGRAM [HOOKDIR]: what is wrong with the four hook
# entries under DEST: each must be a relative symbolic link to DEST/PROGRAM
hook_links() {
	local dest=$1 program=$2 hookdir=${3:-$HOOKS} point link target
	for point in before_vm_start after_vm_destroy before_vm_migrate_source before_vm_dehibernate; do
		link=$dest$hookdir/$point/$HOOKNAME
		target=$(readlink "$link")
		case $target in
		"") printf '%s is not a symbolic link; ' "$point" ;;
		/*) printf '%s -> %s is absolute; ' "$point" "$target" ;;
		*) [ "$(stat -L -c %d:%i "$link" 2>/dev/null)" = "$(stat -c %d:%i "$dest$program" 2>/dev/null)" ] ||
			printf '%s -> %s is not %s; ' "$point" "$target" "$program" ;;
		esac
	done
}

# entries_dispatch DEST NAME: the installed program answers --version, and
# each hook entry under DEST acts as its hook point (from argv[0]'s
# directory, as VDSM runs it) against an empty --root
entries_dispatch() {
	local dest=$1 name=$2 out status root=$TESTTMP/empty-root
	mkdir -p "$root"
	out=$(env -i "$dest$PROGRAM" --version 2>&1)
	check_eq "${name}_program_version" "$out" "hostusb $VERSION"
	out=$(env -i hostusb=0x1234:0x5678 "$dest$HOOKS/before_vm_migrate_source/$HOOKNAME" 2>&1)
	status=$?
	check_eq "${name}_migrate_entry_refuses" "$status:$out" "2:hostusb: cannot migrate VM with host usb devices"
	out=$(env -i hostusb=0x1234:0x5678 "$dest$HOOKS/after_vm_destroy/$HOOKNAME" --root "$root" 2>&1)
	status=$?
	check_contains "${name}_destroy_entry_reads_journal" "$status:$out" "0:hostusb: warning: vmId is not set, and $root/var/run/vdsm/hooks/hostusb-permissions"
	out=$(env -i hostusb=0x1234:0x5678 _hook_domxml="$root/domain.xml" vmId=6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de \
		"$dest$HOOKS/before_vm_start/$HOOKNAME" --root "$root" 2>&1)
	status=$?
	check_contains "${name}_start_entry_fails_on_empty_root" "$status:$out" "2:hostusb: $root/"
	out=$(env -i hostusb=0x1234:0x5678 vmId=6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de \
		"$dest$HOOKS/before_vm_dehibernate/$HOOKNAME" --root "$root" 2>&1)
	status=$?
	check_contains "${name}_dehibernate_entry_reads_the_saved_xml" "$status:$out" "2:hostusb: _hook_domxml is not set"
}

# Files that were there before (another hook, another program) stay.
dest=$TESTTMP/dest
rm -rf "$dest" && mkdir -p "$dest$HOOKS/before_vm_start" "$dest$SBIN"
foreign=("$HOOKS/before_vm_start/10_other_hook" "$SBIN/other-program")
for f in "${foreign[@]}"; do echo other >"$dest$f"; done
if ! mk install DESTDIR="$dest"; then
	fail install "make install DESTDIR failed: $(mklog)"
else
	want=$(printf '%s\n' "${foreign[@]}" "$LAYOUT" | LC_ALL=C sort)
	installed=$(files "$dest")
	check_eq install_layout "$(printf '%s' "$installed" | tr '\n' ' ')" "$(printf '%s' "$want" | tr '\n' ' ')"
	bin=$dest$PROGRAM
	if [ -f "$bin" ] && [ ! -L "$bin" ]; then
		check_eq install_program_mode "$(mode "$bin")" 755
	else
		fail install_program_mode "$bin is not a regular file"
	fi
	check_eq install_sudoers_mode "$(mode "$dest$SUDOERS" 2>&1)" 440
	check_eq install_man_mode "$(mode "$dest$MAN8" 2>&1)" 644
	if cmp -s "$bin" "$HOSTUSB" && cmp -s "$dest$MAN8" "$SRCDIR/hostusb.8" && cmp -s "$dest$SUDOERS" "$rule"; then
		pass install_copies
	else
		fail install_copies "installed program, man page or sudoers differs from the source"
	fi
	check_eq install_link_targets "$(hook_links "$dest" "$PROGRAM")" ""
	entries_dispatch "$dest" installed

	if ! mk uninstall DESTDIR="$dest"; then
		fail uninstall "make uninstall DESTDIR failed: $(mklog)"
	else
		check_eq uninstall_leaves_others "$(files "$dest" | tr '\n' ' ')" "$(printf '%s\n' "${foreign[@]}" | LC_ALL=C sort | tr '\n' ' ')"
	fi
fi

# Other directories: the links still resolve (the relative path is computed,
# not fixed), and uninstall leaves nothing but empty directories.
dest=$TESTTMP/dest-dirs
rm -rf "$dest"
if ! mk install DESTDIR="$dest" PREFIX=/opt/hu SBINDIR=/usr/local/sbin LIBEXECDIR=/opt/hu/lib/exec; then
	fail install_other_dirs "make install DESTDIR failed: $(mklog)"
else
	out=$(cd "$dest" && find . -type l -name "$HOOKNAME" | LC_ALL=C sort | tr '\n' ' ')
	check_eq install_other_dirs_entries "$out" \
		"./opt/hu/lib/exec/vdsm/hooks/after_vm_destroy/$HOOKNAME ./opt/hu/lib/exec/vdsm/hooks/before_vm_dehibernate/$HOOKNAME ./opt/hu/lib/exec/vdsm/hooks/before_vm_migrate_source/$HOOKNAME ./opt/hu/lib/exec/vdsm/hooks/before_vm_start/$HOOKNAME "
	check_eq install_other_dirs_links "$(hook_links "$dest" /usr/local/sbin/hostusb /opt/hu/lib/exec/vdsm/hooks)" ""
	if mk uninstall DESTDIR="$dest" PREFIX=/opt/hu SBINDIR=/usr/local/sbin LIBEXECDIR=/opt/hu/lib/exec; then
		check_eq uninstall_leaves_no_files "$(files "$dest" | tr '\n' ' ')" ""
		find "$dest" -depth -type d -exec rmdir {} + 2>/dev/null
		if [ -e "$dest" ]; then fail uninstall_leaves_empty_dirs_only "rmdir left: $(find "$dest" | head -3 | tr '\n' ' ')"
		else pass uninstall_leaves_empty_dirs_only; fi
	else
		fail uninstall_leaves_no_files "make uninstall DESTDIR failed: $(mklog)"
	fi
fi

# install-strip: the same layout, the program without its symbol table, and
# the static binary still runs.
dest=$TESTTMP/dest-strip
rm -rf "$dest"
if ! command -v readelf >/dev/null 2>&1; then
	skip install_strip "readelf not installed (apt-get install binutils)"
elif ! mk install-strip DESTDIR="$dest"; then
	fail install_strip "make install-strip DESTDIR failed: $(mklog)"
else
	bin=$dest$PROGRAM
	if readelf -SW "$HOSTUSB" | grep -q ' \.symtab ' && ! readelf -SW "$bin" 2>&1 | grep -q ' \.symtab '; then
		pass install_strip_stripped
	else
		fail install_strip_stripped "$HOSTUSB should have a .symtab and $bin none"
	fi
	check_eq install_strip_layout "$(files "$dest" | tr '\n' ' ')" "$(printf '%s\n' "$LAYOUT" | tr '\n' ' ')"
	entries_dispatch "$dest" install_strip
	if mk uninstall DESTDIR="$dest"; then
		check_eq install_strip_uninstall "$(files "$dest" | tr '\n' ' ')" ""
	else
		fail install_strip_uninstall "make uninstall DESTDIR failed: $(mklog)"
	fi
fi

# --- make help ----------------------------------------------------------------
# Names every target the README shows and every one an administrator or
# packager reaches for; each target it names exists (make -n TARGET).
if mk help; then
	helped=$(sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' "$TESTTMP/make.log" | LC_ALL=C sort -u)
	readme=$(grep -oE '(^ +|`)(sudo )?make [a-z][a-z-]*' "$SRCDIR/README" | sed 's/.*make //')
	missing=
	for want in $(printf '%s\n' all demo check check-vm check-system bench fuzz lint install install-strip \
		uninstall dist distcheck clean "$readme" | LC_ALL=C sort -u); do
		printf '%s\n' "$helped" | grep -qx -- "$want" || missing="$missing $want"
	done
	check_eq help_lists_targets "$missing" ""
	# shellcheck disable=SC2086 # one word per target
	if mk -n $helped; then pass help_targets_exist
	else fail help_targets_exist "make -n $(printf '%s' "$helped" | tr '\n' ' '): $(mklog)"; fi
else
	fail help_lists_targets "make help failed: $(mklog)"
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
	for want in LICENSE Makefile hostusb.c sysfs.c sysfs.h usb.c usb.h hostdev.c hostdev.h xmlpatch.c xmlpatch.h \
		xmltok.c xmltok.h xmlio.c xmlio.h xmlchar.h node.c node.h list.c list.h plan.c plan.h release.c release.h \
		say.c say.h resume.c resume.h domread.c domread.h \
		format.c format.h hostusb.8 \
		hostusb.spec sudoers.vdsm_hook_hostusb tests/run tests/lib.sh tests/fixture.sh tests/t_package.sh \
		tests/distcheck.sh tests/system/run.sh; do
		printf '%s\n' "$list" | grep -qx "hostusb-$VERSION/$want" || missing="$missing $want"
	done
	if [ -z "$missing" ]; then pass dist_has_sources; else fail dist_has_sources "missing:$missing"; fi
	if printf '%s\n' "$list" | grep -qx "hostusb-$VERSION/LICENSE" &&
		tar -xOzf "$tarball" "hostusb-$VERSION/LICENSE" | cmp -s - "$SRCDIR/LICENSE"; then
		pass dist_has_licence
	else
		fail dist_has_licence "hostusb-$VERSION/LICENSE missing from the tarball or not the source's"
	fi
	junk=$(printf '%s\n' "$list" | grep -E "^hostusb-$VERSION/(hostusb|tests/hostusb-dyn|tests/tmp/.*|tests/fuzz/build/.*|tests/unit_[a-z_]+(\.asan)?|.*\.(o|so|tar\.gz)|\.git/.*)$" | head -3)
	check_eq dist_no_build_products "$junk" ""
	# every file git tracks ships
	if [ -e "$SRCDIR/.git" ] && command -v git >/dev/null 2>&1; then
		missing=$(cd "$SRCDIR" && git ls-files | while IFS= read -r f; do
			[ -e "$f" ] || continue
			printf '%s\n' "$list" | grep -qxF "hostusb-$VERSION/$f" || printf ' %s' "$f"
		done)
		if [ -z "$missing" ]; then pass dist_has_tracked_files; else fail dist_has_tracked_files "missing:$missing"; fi
	else
		skip dist_has_tracked_files "not a git checkout (an unpacked tarball), or git not installed (apt-get install git)"
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
# The sources are the Makefile's, but format.c, the formatter itself.
# shellcheck disable=SC2046 # that list, split into words
unknown=$(cd "$SRCDIR" && grep -ohE '%[-0-9.*#+ ]*[hlzjtL]*[a-zA-Z%]' \
	$(sed -n 's/^SOURCES *= *//p' Makefile | tr ' ' '\n' | grep -vx format.c) |
	grep -vxE '%-?0?[0-9]*(\.\*)?s|%0?[0-9]*d|%-?0?[0-9]*[lz]?[uoxX]|%%' | sort -u | tr '\n' ' ')
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

# musl_start_and_destroy BINARY: the musl build (its own allocator, _Fork)
# claims two devices on the example host and gives
# them back, as the glibc build does in tests/t_hook.sh
musl_start_and_destroy() {
	local binary=$1 dir=$TESTTMP/musl-run vm=6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de
	if ! is_root; then
		skip musl_static_start_and_destroy "needs root (mknod of the example host's device nodes)"
		return
	fi
	# shellcheck source=fixture.sh disable=SC1091
	. "$SRCDIR/tests/fixture.sh"
	# shellcheck source=example-host.sh disable=SC1091
	. "$SRCDIR/tests/example-host.sh"
	if ! rm -rf "$dir" || ! mkdir -p "$dir" || ! example_host "$dir/root" ||
		! cp "$SRCDIR/tests/data/ovirt-domain.xml" "$dir/domain.xml"; then
		fail musl_static_start_and_destroy "cannot make the example host in $dir"
		return
	fi
	local hostdevs_before rc_start rc_destroy owners_held owners_back
	hostdevs_before=$(grep -c '<hostdev' "$dir/domain.xml")
	env -i hostusb='0x0627:0x0001&0x0781:0x5567' _hook_domxml="$dir/domain.xml" vmId=$vm \
		"$binary" --root "$dir/root" before_vm_start 2>"$dir/start.err"
	rc_start=$?
	owners_held=$(stat -c %u:%g "$dir/root/dev/bus/usb/001/002" "$dir/root/dev/bus/usb/001/005" | tr '\n' ' ')
	env -i _hook_domxml="$dir/domain.xml" vmId=$vm "$binary" --root "$dir/root" after_vm_destroy 2>"$dir/destroy.err"
	rc_destroy=$?
	owners_back=$(stat -c %u:%g "$dir/root/dev/bus/usb/001/002" "$dir/root/dev/bus/usb/001/005" | tr '\n' ' ')
	# exit status, <hostdev> elements, owners: after the start, then after the destroy
	check_eq musl_static_start_and_destroy \
		"$rc_start $(grep -c '<hostdev' "$dir/domain.xml") $owners_held$rc_destroy $owners_back" \
		"0 $((hostdevs_before + 2)) 107:107 107:107 0 0:0 0:0 "
}

# The musl build (make CC=musl-gcc) stays within 96 KiB stripped, as an
# initramfs wants it, and carries no printf.
if command -v musl-gcc >/dev/null 2>&1; then
	musl=$TESTTMP/musl
	rm -rf "$musl" && mkdir -p "$musl"
	(cd "$SRCDIR" && cp Makefile ./*.c ./*.h "$musl/")
	# the build as shipped: not the CFLAGS a calling make (an RPM's %check) passes down
	if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u CFLAGS -u LDFLAGS \
		make -s --no-print-directory -C "$musl" CC=musl-gcc hostusb >"$TESTTMP/musl.log" 2>&1 &&
		strip -o "$musl/hostusb.stripped" "$musl/hostusb"; then
		size=$(stat -c %s "$musl/hostusb.stripped")
		if [ "$size" -le 98304 ]; then pass musl_static_within_96k
		else fail musl_static_within_96k "$size bytes stripped, over 98304"; fi
		printf_core=$(nm "$musl/hostusb" | grep -cE ' (vfprintf|printf_core|fmt_fp)$')
		check_eq musl_static_has_no_printf "$printf_core" 0
		# alloc.c in place of musl's allocator, which would come back whole with one libc call that needs it
		musl_malloc=$(nm "$musl/hostusb" | grep -cE ' (alloc_slot|__libc_malloc_impl|__malloc_context)$')
		check_eq musl_static_has_own_allocator "$musl_malloc" 0
		musl_start_and_destroy "$musl/hostusb"
		# alloc.c alone: its PASS and FAIL lines
		if musl-gcc -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -DHOSTUSB_OWN_ALLOCATOR -Os -static -I"$SRCDIR" \
			-o "$musl/unit_alloc" "$SRCDIR/tests/unit_alloc.c" "$SRCDIR/alloc.c" >"$TESTTMP/unit_alloc.log" 2>&1; then
			"$musl/unit_alloc" || fail musl_alloc_unit "tests/unit_alloc.c exited with status $?"
		else
			fail musl_alloc_unit "cannot build tests/unit_alloc.c: $(tr '\n' ' ' <"$TESTTMP/unit_alloc.log" | cut -c1-300)"
		fi
	else
		fail musl_static_within_96k "$(tr '\n' ' ' <"$TESTTMP/musl.log" | cut -c1-400)"
	fi
else
	skip musl_static_within_96k "musl-gcc not installed (apt-get install musl-tools)"
fi
