#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The upgrade from the Python hook's package, with the real rpm and rpmbuild:
#
#   bash tests/system/rpm-upgrade.sh RPM WORKDIR
#
# builds the package the Python hook came in (vdsm-hook-hostusb 4.19.45-1.el7,
# noarch, versioned with VDSM: its three hook scripts and its sudoers rule),
# installs it into a scratch RPM root (rpm --root WORKDIR/root, its own
# database; --nodeps, as vdsm is not installed there), then `rpm -U RPM`
# (ours) must replace it: one package left, ours; the hook entries ours; the
# rule, unchanged by the administrator, ours.  A rule the administrator
# changed is kept and ours is written beside it as .rpmnew (rpm's
# %config(noreplace)): said by rpm, checked here too.  Prints "PASS name",
# "FAIL name: detail" or "SKIP name: reason" per check; called by run.sh.
set -u
RPMFILE=$1
WORK=$2
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
HOOKS=/usr/libexec/vdsm/hooks
OLD_VERSION=4.19.45
OLD_RELEASE=1.el7

pass() { printf 'PASS %s\n' "$1"; }
fail() { printf 'FAIL %s: %s\n' "$1" "${2:-}"; }
check_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got [$2], want [$3]"; fi; }
oneline() { printf '%s' "$1" | tr '\n' '|' | cut -c1-300; }

# old_package: the Python hook's package, built from a spec written here
old_package() {
	local top=$WORK/old
	mkdir -p "$top/SPECS"
	cat >"$top/SPECS/old.spec" <<EOF
Name:           vdsm-hook-hostusb
Version:        $OLD_VERSION
Release:        $OLD_RELEASE
Summary:        Allow attaching USB device from the host to a VM
License:        GPLv2+
BuildArch:      noarch

%description
The Python hostusb hook as VDSM shipped it (a stand-in built by the test).

%install
for point in before_vm_start before_vm_migrate_source after_vm_destroy; do
	mkdir -p %{buildroot}$HOOKS/\$point
	printf '#!/usr/bin/python\n# the Python hostusb hook, %s\n' \$point >%{buildroot}$HOOKS/\$point/50_hostusb
done
mkdir -p %{buildroot}/etc/sudoers.d
printf 'vdsm ALL=(ALL) NOPASSWD: /bin/chown\n' >%{buildroot}/etc/sudoers.d/50_vdsm_hook_hostusb

%files
%attr(0755,root,root) $HOOKS/before_vm_start/50_hostusb
%attr(0755,root,root) $HOOKS/before_vm_migrate_source/50_hostusb
%attr(0755,root,root) $HOOKS/after_vm_destroy/50_hostusb
%config(noreplace) %attr(0440,root,root) /etc/sudoers.d/50_vdsm_hook_hostusb
EOF
	rpmbuild --define "_topdir $top" -bb "$top/SPECS/old.spec" >"$WORK/old-build.log" 2>&1 || return 1
	find "$top/RPMS" -name "vdsm-hook-hostusb-$OLD_VERSION-$OLD_RELEASE.noarch.rpm" | head -1
}

# scratch_install ROOT RPM: a fresh database in ROOT, RPM installed into it
scratch_install() {
	rm -rf "$1"
	mkdir -p "$1/var/lib/rpm"
	rpm --root "$1" --dbpath /var/lib/rpm --initdb &&
		rpm --root "$1" --dbpath /var/lib/rpm -i --nodeps "$2"
}
rpm_in() { local root=$1; shift; rpm --root "$root" --dbpath /var/lib/rpm "$@"; }

mkdir -p "$WORK"
old=$(old_package)
if [ -z "$old" ]; then
	fail rpm_upgrade_old_package_built "$(oneline "$(tail -5 "$WORK/old-build.log")")"
	exit 0
fi
pass rpm_upgrade_old_package_built
check_eq rpm_upgrade_ours_has_an_epoch "$(rpm -qp --qf '%{EPOCH}' "$RPMFILE" 2>/dev/null)" 1

# --- the rule as the Python hook's package left it: replaced by ours
ROOT=$WORK/root
if ! scratch_install "$ROOT" "$old" >"$WORK/old-install.log" 2>&1; then
	fail rpm_upgrade_old_installed "$(oneline "$(cat "$WORK/old-install.log")")"
	exit 0
fi
check_eq rpm_upgrade_old_installed "$(rpm_in "$ROOT" -q vdsm-hook-hostusb)" "vdsm-hook-hostusb-$OLD_VERSION-$OLD_RELEASE.noarch"
if out=$(rpm_in "$ROOT" -U --nodeps "$RPMFILE" 2>&1); then
	pass rpm_upgrade_accepted
else
	fail rpm_upgrade_accepted "$(oneline "$out")"
fi
check_eq rpm_upgrade_one_package_ours \
	"$(rpm_in "$ROOT" -q --qf '%{NAME} %{EPOCH}:%{VERSION} %{ARCH}\n' vdsm-hook-hostusb)" \
	"vdsm-hook-hostusb 1:$(rpm -qp --qf '%{VERSION} %{ARCH}' "$RPMFILE")"
for point in before_vm_start after_vm_destroy before_vm_migrate_source; do
	check_eq "rpm_upgrade_${point}_is_ours" "$(readlink "$ROOT$HOOKS/$point/50_hostusb")" ../../../../sbin/hostusb
done
check_eq rpm_upgrade_program_runs "$("$ROOT/usr/sbin/hostusb" --version 2>&1)" \
	"hostusb $(rpm -qp --qf '%{VERSION}' "$RPMFILE")"
if cmp -s "$ROOT/etc/sudoers.d/50_vdsm_hook_hostusb" "$SRCDIR/sudoers.vdsm_hook_hostusb"; then
	pass rpm_upgrade_rule_is_ours
else
	fail rpm_upgrade_rule_is_ours "$(oneline "$(head -c 300 "$ROOT/etc/sudoers.d/50_vdsm_hook_hostusb")")"
fi
check_eq rpm_upgrade_rule_mode "$(stat -c '%a %U' "$ROOT/etc/sudoers.d/50_vdsm_hook_hostusb")" "440 root"
check_eq rpm_upgrade_nothing_left_beside \
	"$(find "$ROOT/etc" "$ROOT/usr" -name '*.rpmnew' -o -name '*.rpmsave' -o -name '*.rpmorig' | wc -l)" 0
check_eq rpm_upgrade_verifies "$(rpm_in "$ROOT" -V --nodeps vdsm-hook-hostusb 2>&1)" ""

# --- a rule the administrator changed: kept, ours beside it as .rpmnew
ROOT=$WORK/root-changed
if scratch_install "$ROOT" "$old" >"$WORK/old-install.log" 2>&1; then
	printf 'vdsm ALL=(ALL) NOPASSWD: /bin/chown, /usr/bin/lsusb\n' >"$ROOT/etc/sudoers.d/50_vdsm_hook_hostusb"
	out=$(rpm_in "$ROOT" -U --nodeps "$RPMFILE" 2>&1)
	check_eq rpm_upgrade_changed_rule_accepted "$?" 0
	check_eq rpm_upgrade_changed_rule_kept "$(cat "$ROOT/etc/sudoers.d/50_vdsm_hook_hostusb")" \
		"vdsm ALL=(ALL) NOPASSWD: /bin/chown, /usr/bin/lsusb"
	if cmp -s "$ROOT/etc/sudoers.d/50_vdsm_hook_hostusb.rpmnew" "$SRCDIR/sudoers.vdsm_hook_hostusb"; then
		pass rpm_upgrade_changed_rule_ours_as_rpmnew
	else
		fail rpm_upgrade_changed_rule_ours_as_rpmnew "no ours at .rpmnew; rpm said [$(oneline "$out")]"
	fi
else
	fail rpm_upgrade_changed_rule_old_installed "$(oneline "$(cat "$WORK/old-install.log")")"
fi
