#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make check-system: what needs root.  Run as root on a machine you may add a
# user to (CI does; it is what .ci/run runs after make check).
#
#  1. Non-root operation, as VDSM runs the hook: a throwaway user (hostusbtest)
#     runs the installed hook against root-owned device nodes (mknod, 0600
#     root:root) at the real paths /dev/bus/usb/BBB/DDD, with a fake
#     /sys/bus/usb/devices and an empty /var/run, all inside a private mount
#     namespace (unshare -m), so the host's /dev, /sys and /run are untouched.
#     The shipped sudoers rule, adapted to that user (vdsm) and a second
#     throwaway user (hostusbtestqemu) in the place of qemu, is installed in
#     /etc/sudoers.d for the run only; the real sudo decides.
#  2. make dist: the tarball unpacked elsewhere passes make check.
#  3. rpmbuild of hostusb.spec from that tarball, and the RPM's file list;
#     then `rpm -U` of it over the Python hook's package (rpm-upgrade.sh).
#
# Prints "PASS name", "FAIL name: detail" or "SKIP name: reason" per check
# and "N passed, N failed, N skipped" last; exits 1 if anything failed.
# Everything it creates (users, sudoers file, work directory) is removed on exit.
set -u
umask 022
HERE=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$HERE/../.." && pwd)
VERSION=$(sed -n 's/^VERSION *= *//p' "$SRCDIR/Makefile")
TUSER=hostusbtest
TUSER_COMMENT='hostusb system test'
QUSER=hostusbtestqemu               # the VM's user, qemu: the hook gives nodes to it (--owner)
QUSER_COMMENT='hostusb system test, qemu'
VMID=6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de
SUDOERS_TEST=/etc/sudoers.d/zz_hostusb_system_test   # no '.': sudo reads it
HOOKS=/usr/libexec/vdsm/hooks
HOOK_TIMEOUT=60                     # a hook that takes longer has hung

# Results go to stdout and to $RESULTS, which the namespace half appends to too.
pass() { printf 'PASS %s\n' "$1" | tee -a "$RESULTS"; }
fail() { printf 'FAIL %s: %s\n' "$1" "${2:-}" | tee -a "$RESULTS"; }
skip() { printf 'SKIP %s: %s\n' "$1" "$2" | tee -a "$RESULTS"; }
check_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got [$2], want [$3]"; fi; }
check_contains() { case $2 in *"$3"*) pass "$1" ;; *) fail "$1" "[$2] does not contain [$3]" ;; esac; }
oneline() { printf '%s' "$1" | oneline_in; }
oneline_in() { tr '\n' '|' | cut -c1-300; }

# ============================================================================
# Inside the private mount namespace (run.sh --namespace WORK)
# ============================================================================
if [ "${1:-}" = --namespace ]; then
	WORK=$2
	RESULTS=$WORK/results
	OWNER=$(id -u "$QUSER"):$(id -g "$QUSER")
	# shellcheck source-path=SCRIPTDIR source=../fixture.sh disable=SC1091
	. "$SRCDIR/tests/fixture.sh"
	FIX=$WORK/fix
	RUNDIR=$(readlink -f /var/run)
	JOURNAL=$RUNDIR/vdsm/hooks/hostusb-permissions
	XMLDIR=$WORK/xml
	DOMXML=$XMLDIR/domxml
	SUDOLOG=$WORK/sudo.log
	PROGRAM=$WORK/inst/usr/sbin/hostusb
	HOOK=$WORK/inst$HOOKS/before_vm_start/50_hostusb
	DESTROY=$WORK/inst$HOOKS/after_vm_destroy/50_hostusb
	DEHIBERNATE=$WORK/inst$HOOKS/before_vm_dehibernate/50_hostusb

	# The host as the kernel would lay it out: bus 1 with a root hub and three
	# devices (two of them 0627:0001, like QEMU's tablet and keyboard), bus 2
	# with one device whose node belongs to root:46 (plugdev-like), 0660.
	fixture_root "$FIX"
	fixture_bus "$FIX" 1
	fixture_device "$FIX" 1-1 0627 0001 2
	fixture_device "$FIX" 1-2 0627 0001 3
	fixture_device "$FIX" 1-3 abcd ef01 4
	fixture_bus "$FIX" 2
	fixture_device "$FIX" 2-1 1234 5678 2 0660
	chown 0:46 "$FIX/dev/bus/usb/002/002"

	# A private /dev (the host may have no /dev/bus at all, and devtmpfs is
	# shared with the host), the fake sysfs over /sys, an empty /var/run.
	setup() {
		mount -t tmpfs -o mode=0755 hostusb-run "$RUNDIR" &&
			mkdir -m 0755 "$RUNDIR/vdsm" && chown "$TUSER:$TUSER" "$RUNDIR/vdsm" &&
			mount -t tmpfs -o mode=0755 hostusb-dev /dev &&
			mknod -m 0666 /dev/null c 1 3 && mknod -m 0666 /dev/zero c 1 5 &&
			mknod -m 0666 /dev/full c 1 7 && mknod -m 0666 /dev/random c 1 8 &&
			mknod -m 0666 /dev/urandom c 1 9 && mknod -m 0666 /dev/tty c 5 0 &&
			ln -s /proc/self/fd /dev/fd && ln -s /proc/self/fd/0 /dev/stdin &&
			ln -s /proc/self/fd/1 /dev/stdout && ln -s /proc/self/fd/2 /dev/stderr &&
			mkdir -p /dev/bus/usb && mount --bind "$FIX/dev/bus/usb" /dev/bus/usb &&
			mount --bind "$FIX/sys" /sys
	}
	if ! out=$(setup 2>&1); then
		fail namespace_setup "$(oneline "$out")"
		exit 0
	fi
	if ! [ -e /sys/bus/usb/devices/1-1/idVendor ] || ! [ -c /dev/bus/usb/001/002 ] ||
		[ -e "$RUNDIR/vdsm/hooks" ]; then
		fail namespace_setup "fake /sys, /dev/bus/usb or /var/run not in place"
		exit 0
	fi

	# sudoers: the shipped rule, for $TUSER and $QUSER in the place of vdsm and
	# qemu; aliases renamed so that they cannot clash with an installed
	# 50_vdsm_hook_hostusb; sudo logs to $SUDOLOG.
	# adapted_rule [SED-EXPRESSION]: the rule for $TUSER, optionally altered
	adapted_rule() {
		sed -e 's/HOSTUSB_CHOWN/HOSTUSB_TEST_CHOWN/g' -e 's/HOSTUSB_CHMOD/HOSTUSB_TEST_CHMOD/g' \
			-e "s/^vdsm\\([[:space:]]\\)/$TUSER\\1/" -e "s/^\\($TUSER ALL=\\)(qemu)/\\1($QUSER)/" \
			${1:+-e "$1"} "$SRCDIR/sudoers.vdsm_hook_hostusb" &&
			printf 'Defaults:%s logfile=%s, loglinelen=0, !syslog\n' "$TUSER" "$SUDOLOG"
	}
	# install_rule [SED-EXPRESSION]: installs it (a variant, for one test)
	install_rule() {
		local tmp=$WORK/sudoers.tmp
		adapted_rule "${1:-}" >"$tmp" || return 1
		if ! grep -q "^$TUSER ALL=(root) NOPASSWD: HOSTUSB_TEST_CHOWN\$" "$tmp" || grep -q '^vdsm' "$tmp" ||
			{ grep -q HOSTUSB_TEST_CHMOD "$tmp" && ! grep -q "^$TUSER ALL=($QUSER) NOPASSWD: HOSTUSB_TEST_CHMOD\$" "$tmp"; }; then
			echo "could not adapt the rule to $TUSER"
			return 1
		fi
		if [ -n "${1:-}" ] && adapted_rule | cmp -s - "$tmp"; then
			echo "the rule variant [$1] changed nothing"
			return 1
		fi
		visudo -cqf "$tmp" || return 1
		chmod 0440 "$tmp" && mv -f "$tmp" "$SUDOERS_TEST" || return 1
		# the whole configuration must still parse, or sudo breaks for everyone
		visudo -cq || { rm -f "$SUDOERS_TEST"; echo "visudo -c fails with the rule in place"; return 1; }
	}
	remove_rule() { rm -f "$SUDOERS_TEST"; }

	# as_user CMD...: as $TUSER, with a clean environment, like VDSM's hooks
	as_user() {
		timeout -k 5 "$HOOK_TIMEOUT" setpriv --reuid="$TUSER" --regid="$TUSER" --init-groups -- \
			env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C "$@"
	}
	# hook ENTRY PROPERTY [ARGS...]: runs an installed hook entry as VDSM does;
	# sets $status and $err (stderr)
	hook() {
		local entry=$1 property=$2
		shift 2
		err=$( (cd / && as_user hostusb="$property" _hook_domxml="$DOMXML" vmId="$VMID" \
			"$entry" --owner "$OWNER" "$@") 2>&1 >"$WORK/hook.out")
		status=$?
	}
	sudo_allows() { as_user sudo -n -l "$@" >/dev/null 2>&1; }
	as_qemu() { setpriv --reuid="$QUSER" --regid="$QUSER" --init-groups -- "$@"; }
	owner_of() { stat -c %u:%g "$@"; }
	owners() { owner_of /dev/bus/usb/001/002 /dev/bus/usb/001/003 /dev/bus/usb/002/002 | tr '\n' ' '; }
	ORIGINAL_OWNERS='0:0 0:0 0:46 '
	# the audit lines of 0x0627:0x0001&0x1234:0x5678
	GAVE1="hostusb: VM $VMID: gave /dev/bus/usb/001/002 (0x0627:0x0001 port 1-1, bus 1 device 2) to $OWNER; recorded owner 0:0 mode 0600"
	GAVE2="hostusb: VM $VMID: gave /dev/bus/usb/002/002 (0x1234:0x5678 port 2-1, bus 2 device 2) to $OWNER; recorded owner 0:46 mode 0660"
	BACK1="hostusb: VM $VMID: gave back /dev/bus/usb/001/002 (0x0627:0x0001 port 1-1, bus 1 device 2) to 0:0 mode 0600"
	BACK2="hostusb: VM $VMID: gave back /dev/bus/usb/002/002 (0x1234:0x5678 port 2-1, bus 2 device 2) to 0:46 mode 0660"
	journal_lines() { if [ -e "$JOURNAL" ]; then grep -c . "$JOURNAL"; else echo 0; fi; }
	new_domxml() {
		rm -rf "$XMLDIR" && mkdir -m 0700 "$XMLDIR" && chown "$TUSER:$TUSER" "$XMLDIR"
		cat >"$DOMXML" <<'XML'
<?xml version='1.0' encoding='utf-8'?>
<domain type='kvm' xmlns:ovirt-vm="http://ovirt.org/vm/1.0">
    <name>hostusb-system-test</name>
    <devices>
        <disk type='file' device='disk'/>
    </devices>
</domain>
XML
		chown "$TUSER:$TUSER" "$DOMXML" && chmod 0600 "$DOMXML" && cp "$DOMXML" "$WORK/domxml.orig"
	}
	# leftovers: files beside the domain file (temp files not cleaned up)
	leftovers() { find "$XMLDIR" -mindepth 1 ! -name domxml -printf '%f '; }
	# unchanged NAME: domain file byte-identical, no temp file left beside it
	unchanged() {
		local left
		left=$(leftovers)
		if cmp -s "$DOMXML" "$WORK/domxml.orig" && [ -z "$left" ]; then pass "$1"
		else fail "$1" "domain file changed or temp files left: [$left]"; fi
	}
	# sudo_commands: the commands sudo allowed (and so ran), in order
	sudo_commands() {
		grep -v -e 'command not allowed' -e 'password is required' "$SUDOLOG" 2>/dev/null |
			sed -n 's/.*COMMAND=//p'
	}
	# sudo_ran_as: what sudo ran, in order, "USER COMMAND|" each (a line of a
	# refused command has the reason before PWD=)
	sudo_ran_as() {
		sed -n 's/.* : [^ :]* : \(TTY=[^;]* ; \)*PWD=[^;]* ; USER=\([^ ]*\) ; COMMAND=\(.*\)/\2 \3/p' "$SUDOLOG" |
			tr '\n' '|'
	}
	# sudo_ran NAME LINE...: each command ran through sudo, in this order
	sudo_ran() {
		local name=$1 want got
		shift
		got=$(sudo_commands)
		want=$(printf '%s\n' "$@")
		if printf '%s\n' "$got" | grep -Fx -f <(printf '%s\n' "$@") | diff -q - <(printf '%s\n' "$want") >/dev/null; then
			pass "$name"
		else
			fail "$name" "sudo log has [$(oneline "$got")], want in order [$(oneline "$want")]"
		fi
	}
	reset_state() {
		remove_rule
		chown 0:0 /dev/bus/usb/001/002 /dev/bus/usb/001/003
		chown 0:46 /dev/bus/usb/002/002
		rm -rf "$RUNDIR/vdsm/hooks"
		: >"$SUDOLOG"
		new_domxml
	}

	# --- the rule, as the real sudo reads it --------------------------------
	reset_state
	if out=$(install_rule 2>&1); then
		pass sudoers_rule_installs
		if sudo_allows /bin/chown -h "$OWNER" /dev/bus/usb/001/002 && sudo_allows /bin/chown -h 0:0 /dev/bus/usb/002/002 &&
			sudo_allows /bin/chown -h 107:107 /dev/bus/usb/001/003 && sudo_allows /bin/chown -h 107:107 /dev/bus/usb/003/127; then
			pass sudoers_permits_hook_chown
		else
			fail sudoers_permits_hook_chown "sudo -n -l refuses /bin/chown -h UID:GID /dev/bus/usb/BBB/DDD"
		fi
		# sudo -l only asks the policy; nothing is run
		# without -h chown follows a symlink put at the path: refused, as is
		# every other spelling of the option
		for refused in \
			"without_h|/bin/chown|107:107|/dev/bus/usb/001/003" \
			"h_after_owner|/bin/chown|107:107|-h|/dev/bus/usb/001/003" \
			"h_twice|/bin/chown|-h|-h|107:107|/dev/bus/usb/001/003" \
			"capital_h|/bin/chown|-H|107:107|/dev/bus/usb/001/003" \
			"h_and_l|/bin/chown|-hL|107:107|/dev/bus/usb/001/003" \
			"dereference|/bin/chown|--dereference|107:107|/dev/bus/usb/001/003" \
			"no_dereference_long|/bin/chown|--no-dereference|107:107|/dev/bus/usb/001/003" \
			"h_shadow|/bin/chown|-h|$OWNER|/etc/shadow" \
			"h_recursive|/bin/chown|-h|-R|$OWNER|/dev/bus/usb/001/002" \
			"shadow|/bin/chown|$OWNER|/etc/shadow" \
			"dotdot|/bin/chown|$OWNER|/dev/bus/usb/001/002/../../../../etc/shadow" \
			"dotdot_bus|/bin/chown|$OWNER|/dev/bus/usb/../../../etc/shadow" \
			"two_nodes|/bin/chown|$OWNER|/dev/bus/usb/001/002|/dev/bus/usb/001/003" \
			"shadow_and_node|/bin/chown|$OWNER|/etc/shadow|/dev/bus/usb/001/002" \
			"owner_spaces|/bin/chown|1|/etc/shadow|2:3|/dev/bus/usb/001/002" \
			"recursive|/bin/chown|-R|$OWNER|/dev/bus/usb/001/002" \
			"reference|/bin/chown|--reference=/etc/shadow|/dev/bus/usb/001/002" \
			"name_owner|/bin/chown|root:root|/dev/bus/usb/001/002" \
			"short_path|/bin/chown|$OWNER|/dev/bus/usb/1/2" \
			"newline|/bin/chown|$OWNER|/dev/bus/usb/001/002
/etc/shadow" \
			"other_program|/bin/sh|-c|id"; do
			IFS='|' read -r -d '' -a cmd <<<"$refused"
			cmd[-1]=${cmd[-1]%$'\n'}
			name=${cmd[0]}
			if sudo_allows "${cmd[@]:1}"; then
				fail "sudoers_refuses_$name" "sudo allows: ${cmd[*]:1}"
			else
				pass "sudoers_refuses_$name"
			fi
		done
		# what the rule allows never follows a symlink at a node's path
		touch "$WORK/victim" && chown 0:0 "$WORK/victim"
		ln -s "$WORK/victim" /dev/bus/usb/001/099
		out=$(as_user sudo -n /bin/chown -h 107:107 /dev/bus/usb/001/099 2>&1)
		check_eq sudoers_chown_h_symlink_not_followed "$?:$out:$(stat -c %u:%g "$WORK/victim"):$(stat -c %u:%g /dev/bus/usb/001/099)" \
			"0::0:0:107:107"
		rm -f /dev/bus/usb/001/099 "$WORK/victim"
		# chmod: as the VM's user only, four octal digits, one node path
		if sudo_allows -u "$QUSER" /bin/chmod 0600 /dev/bus/usb/001/002 &&
			sudo_allows -u "#${OWNER%:*}" /bin/chmod 2666 /dev/bus/usb/002/002; then
			pass sudoers_permits_hook_chmod
		else
			fail sudoers_permits_hook_chmod "sudo -n -l refuses -u $QUSER /bin/chmod MODE /dev/bus/usb/BBB/DDD"
		fi
		for refused in \
			"chmod_as_root|-u|root|/bin/chmod|0600|/dev/bus/usb/001/002" \
			"chmod_default_root|/bin/chmod|0600|/dev/bus/usb/001/002" \
			"chmod_as_hook_user|-u|$TUSER|/bin/chmod|0600|/dev/bus/usb/001/002" \
			"chmod_as_nobody|-u|nobody|/bin/chmod|0600|/dev/bus/usb/001/002" \
			"chmod_shadow|-u|$QUSER|/bin/chmod|0666|/etc/shadow" \
			"chmod_outside|-u|$QUSER|/bin/chmod|0666|/dev/bus/xyz/001/002" \
			"chmod_dotdot|-u|$QUSER|/bin/chmod|0666|/dev/bus/usb/001/002/../../../../etc/shadow" \
			"chmod_dotdot_bus|-u|$QUSER|/bin/chmod|0666|/dev/bus/usb/../../../etc/shadow" \
			"chmod_two_nodes|-u|$QUSER|/bin/chmod|0666|/dev/bus/usb/001/002|/dev/bus/usb/001/003" \
			"chmod_node_and_shadow|-u|$QUSER|/bin/chmod|0666|/dev/bus/usb/001/002|/etc/shadow" \
			"chmod_recursive|-u|$QUSER|/bin/chmod|-R|0666|/dev/bus/usb/001/002" \
			"chmod_reference|-u|$QUSER|/bin/chmod|--reference=/etc/shadow|/dev/bus/usb/001/002" \
			"chmod_symbolic|-u|$QUSER|/bin/chmod|u+s|/dev/bus/usb/001/002" \
			"chmod_three_digits|-u|$QUSER|/bin/chmod|666|/dev/bus/usb/001/002" \
			"chmod_digit_8|-u|$QUSER|/bin/chmod|0686|/dev/bus/usb/001/002" \
			"chmod_short_path|-u|$QUSER|/bin/chmod|0666|/dev/bus/usb/1/2" \
			"chmod_newline|-u|$QUSER|/bin/chmod|0666|/dev/bus/usb/001/002
/etc/shadow" \
			"qemu_other_program|-u|$QUSER|/bin/sh|-c|id" \
			"qemu_chown|-u|$QUSER|/bin/chown|-h|0:0|/dev/bus/usb/001/002"; do
			IFS='|' read -r -d '' -a cmd <<<"$refused"
			cmd[-1]=${cmd[-1]%$'\n'}
			if sudo_allows "${cmd[@]:1}"; then
				fail "sudoers_refuses_${cmd[0]}" "sudo allows: ${cmd[*]:1}"
			else
				pass "sudoers_refuses_${cmd[0]}"
			fi
		done
	else
		fail sudoers_rule_installs "$(oneline "$out")"
	fi

	# --- no rule: sudo -n refuses at once, nothing changes -------------------
	reset_state
	hook "$HOOK" 0x0627:0x0001
	if [ "$status" = 124 ] || [ "$status" = 137 ]; then
		fail no_rule_fails_fast "the hook was still running after ${HOOK_TIMEOUT}s (a password prompt?)"
	else
		check_eq no_rule_fails_fast "$status" 2
		check_contains no_rule_says_sudo_message "$err" "a password is required"
		check_contains no_rule_names_the_fix "$err" \
			"the sudo rule is missing or does not apply: check /etc/sudoers.d/50_vdsm_hook_hostusb and \`sudo -l -U vdsm\`"
		case $err in
		"hostusb: "*"/dev/bus/usb/001/002"*)
			check_eq no_rule_one_line "$(printf '%s\n' "$err" | grep -c .)" 1 ;;
		*) fail no_rule_one_line "want one 'hostusb: ... /dev/bus/usb/001/002 ...' line, got [$(oneline "$err")]" ;;
		esac
	fi
	check_eq no_rule_owners_kept "$(owners)" "$ORIGINAL_OWNERS"
	check_eq no_rule_journal_empty "$(journal_lines)" 0
	unchanged no_rule_domain_unchanged

	# --- before_vm_start and after_vm_destroy through sudo -------------------
	reset_state
	if out=$(install_rule 2>&1); then
		hook "$HOOK" '0x0627:0x0001&0x1234:0x5678'
		check_eq start_via_sudo_exit_and_audit_lines "$status:$err" "0:$GAVE1
$GAVE2"
		check_eq start_via_sudo_owners "$(owners)" "$OWNER 0:0 $OWNER "
		check_eq start_keeps_modes "$(stat -c %a /dev/bus/usb/001/002 /dev/bus/usb/002/002 | tr '\n' ' ')" "600 660 "
		sudo_ran start_ran_sudo_chown "/bin/chown -h $OWNER /dev/bus/usb/001/002" "/bin/chown -h $OWNER /dev/bus/usb/002/002"
		check_eq start_journal "$(LC_ALL=C sort "$JOURNAL" 2>&1 | tr '\n' ' ')" \
			"/dev/bus/usb/001/002:0:0:$VMID:0600 /dev/bus/usb/002/002:0:46:$VMID:0660 "
		xml=$(cat "$DOMXML")
		if [ "$(grep -c "<hostdev mode='subsystem' type='usb'>" "$DOMXML")" = 2 ] &&
			grep -q "<vendor id='0x0627'/>" "$DOMXML" && grep -q "<address bus='1' device='2'/>" "$DOMXML" &&
			grep -q "<vendor id='0x1234'/>" "$DOMXML" && [ "$(grep -c '<address ' "$DOMXML")" = 1 ]; then
			pass start_domain_hostdevs
		else
			fail start_domain_hostdevs "$(oneline "$xml")"
		fi
		# The vdsm user can read and rewrite what it wrote; nobody else can write.
		if as_user test -r "$JOURNAL" && as_user test -w "$JOURNAL" && as_user test -r "$JOURNAL.lock"; then
			pass journal_usable_by_hook_user
		else
			fail journal_usable_by_hook_user "$(find "$RUNDIR/vdsm" -printf '%M %u:%g %p\n' 2>&1 | oneline_in)"
		fi
		# another user (here the VM's) cannot even open the lock to hold it
		lock_open=$(as_qemu flock -n "$JOURNAL.lock" true 2>&1) && lock_open="it can"
		check_eq lock_only_hook_user_and_root "$(stat -c '%a %U' "$JOURNAL.lock"):${lock_open##*: }" \
			"600 $TUSER:Permission denied"
		ww=$(find "$RUNDIR/vdsm" "$XMLDIR" ! -type l -perm -0002 2>&1)
		check_eq nothing_world_writable "$ww" ""
		check_eq start_owner_of_files "$(stat -c %U "$JOURNAL" "$JOURNAL.lock" "$DOMXML" 2>&1 | sort -u | tr '\n' ' ')" "$TUSER "
		left=$(leftovers)
		check_eq start_no_temp_left "$left" ""

		list=$(cd / && as_user "$PROGRAM" list 2>&1)
		check_contains list_shows_holder "$(printf '%s\n' "$list" | grep ' 001 002 \|^001 002 ')" "$VMID"

		# a resume on the XML the start wrote, as the hook's user: nothing moved, nothing changed
		: >"$SUDOLOG"
		journal_before=$(cat "$JOURNAL")
		cp "$DOMXML" "$WORK/domxml.started"
		hook "$DEHIBERNATE" '0x0627:0x0001&0x1234:0x5678'
		check_eq dehibernate_as_hook_user_accepted "$status:$err" "0:"
		check_eq dehibernate_changes_nothing "$(owners):$(cat "$JOURNAL"):$(sudo_commands)" \
			"$OWNER 0:0 $OWNER :$journal_before:"
		if cmp -s "$DOMXML" "$WORK/domxml.started"; then pass dehibernate_domain_unchanged
		else fail dehibernate_domain_unchanged "the domain file changed"; fi

		: >"$SUDOLOG"
		hook "$DESTROY" '0x0627:0x0001&0x1234:0x5678'
		check_eq destroy_via_sudo_exit_and_audit_lines "$status:$err" "0:$BACK1
$BACK2"
		check_eq destroy_restores_owners "$(owners)" "$ORIGINAL_OWNERS"
		sudo_ran destroy_ran_sudo_chown "/bin/chown -h 0:0 /dev/bus/usb/001/002" "/bin/chown -h 0:46 /dev/bus/usb/002/002"
		check_eq destroy_journal_empty "$(journal_lines)" 0
		ww=$(find "$RUNDIR/vdsm" "$XMLDIR" ! -type l -perm -0002 2>&1)
		check_eq destroy_nothing_world_writable "$ww" ""
	else
		fail start_via_sudo "could not install the rule: $(oneline "$out")"
	fi

	# --- release VMID by hand, as the hook's user: through sudo as the hooks ---
	reset_state
	if install_rule >/dev/null 2>&1; then
		hook "$HOOK" '0x0627:0x0001&0x1234:0x5678'
		: >"$SUDOLOG"
		vmid_upper=$(printf '%s' "$VMID" | tr a-f A-F)
		err=$( (cd / && as_user "$PROGRAM" release "$vmid_upper") 2>&1)
		status=$?
		check_eq release_via_sudo_exit_and_lines "$status:$err" "0:${BACK1/$VMID/$vmid_upper}
${BACK2/$VMID/$vmid_upper}"
		check_eq release_restores_owners "$(owners)" "$ORIGINAL_OWNERS"
		sudo_ran release_ran_sudo_chown "/bin/chown -h 0:0 /dev/bus/usb/001/002" "/bin/chown -h 0:46 /dev/bus/usb/002/002"
		check_eq release_journal_empty "$(journal_lines)" 0
		err=$( (cd / && as_user "$PROGRAM" release "$VMID") 2>&1)
		check_eq release_again_nothing_recorded "$?:$err" "0:hostusb: VM $VMID: nothing recorded for this VM: nothing to give back"
	else
		fail release_via_sudo "could not install the rule"
	fi

	# --- qemu made its nodes 2666: the recorded owner and mode come back ----
	# the mode by a chmod run as qemu, then the owner by the chown as root:
	# never root's and world-writable on the way
	reset_state
	if install_rule >/dev/null 2>&1; then
		hook "$HOOK" '0x0627:0x0001&0x1234:0x5678'
		check_eq sudo_mode_start "$status:$err" "0:$GAVE1
$GAVE2"
		as_qemu chmod 2666 /dev/bus/usb/001/002 /dev/bus/usb/002/002
		check_eq sudo_mode_made_2666_by_qemu "$(stat -c '%u:%g %a' /dev/bus/usb/001/002 /dev/bus/usb/002/002 | tr '\n' ' ')" \
			"$OWNER 2666 $OWNER 2666 "
		: >"$SUDOLOG"
		hook "$DESTROY" '0x0627:0x0001&0x1234:0x5678'
		check_eq sudo_mode_destroy_exit "$status:$err" "0:$BACK1
$BACK2"
		check_eq sudo_mode_owner_and_mode_back "$(stat -c '%u:%g %a' /dev/bus/usb/001/002 /dev/bus/usb/002/002 | tr '\n' ' ')" \
			"0:0 600 0:46 660 "
		check_eq sudo_mode_chmod_as_qemu_then_chown "$(sudo_ran_as)" \
			"$QUSER /bin/chmod 0600 /dev/bus/usb/001/002|root /bin/chown -h 0:0 /dev/bus/usb/001/002|$QUSER /bin/chmod 0660 /dev/bus/usb/002/002|root /bin/chown -h 0:46 /dev/bus/usb/002/002|"
		check_eq sudo_mode_journal_empty "$(journal_lines)" 0
	else
		fail sudo_mode "could not install the rule"
	fi

	# --- the rule of an older version (chown only): not given back ----------
	# the node stays qemu's rather than root's and world-writable; its line
	# stays; with the rule of this version the next destroy gives it back
	reset_state
	if install_rule >/dev/null 2>&1; then
		hook "$HOOK" '0x0627:0x0001'
		as_qemu chmod 2666 /dev/bus/usb/001/002
		if out=$(install_rule '/^Cmnd_Alias HOSTUSB_TEST_CHMOD/,/^$/d; /HOSTUSB_TEST_CHMOD/d' 2>&1); then
			hook "$DESTROY" '0x0627:0x0001'
			check_eq old_rule_destroy_fails_node_kept "$status:$(stat -c '%u:%g %a' /dev/bus/usb/001/002):$(journal_lines)" \
				"2:$OWNER 2666:1"
			check_contains old_rule_says_node_reason_fix "$err" \
				"hostusb: /dev/bus/usb/001/002: not given back to 0:0: its mode could not first be set back from 2666 to 0600 (/usr/bin/sudo -n -u #${OWNER%:*} /bin/chmod 0600 failed: sudo: a password is required: the sudo rule is missing or does not apply: check /etc/sudoers.d/50_vdsm_hook_hostusb and \`sudo -l -U vdsm\`); it stays $OWNER: as root, run after_vm_destroy for its VM again"
			install_rule >/dev/null 2>&1
			hook "$DESTROY" '0x0627:0x0001'
			check_eq old_rule_replaced_destroy_gives_back "$status:$err:$(stat -c '%u:%g %a' /dev/bus/usb/001/002):$(journal_lines)" \
				"0:$BACK1:0:0 600:0"
		else
			fail old_rule "could not install the rule variant: $(oneline "$out")"
		fi
	else
		fail old_rule "could not install the rule"
	fi

	# --- a permissive umask leaves nothing world-writable --------------------
	reset_state
	if install_rule >/dev/null 2>&1; then
		err=$( (umask 000; cd / && as_user hostusb=0x0627:0x0001 _hook_domxml="$DOMXML" vmId="$VMID" \
			"$HOOK" --owner "$OWNER") 2>&1 >/dev/null)
		status=$?
		check_eq umask000_start "$status:$err" "0:$GAVE1"
		ww=$(find "$RUNDIR/vdsm" "$XMLDIR" ! -type l -perm -0002 2>&1)
		check_eq umask000_nothing_world_writable "$ww" ""
		(umask 000; cd / && as_user hostusb=0x0627:0x0001 _hook_domxml="$DOMXML" vmId="$VMID" \
			"$DESTROY" --owner "$OWNER") >/dev/null 2>&1
		check_eq umask000_destroy_restores "$(owners)" "$ORIGINAL_OWNERS"
	else
		fail umask000 "could not install the rule"
	fi

	# --- second device has no node: nothing changed, all checked first -------
	reset_state
	if install_rule >/dev/null 2>&1; then
		mv /dev/bus/usb/001/004 "$WORK/node-001-004"
		hook "$HOOK" '0x0627:0x0001&0xabcd:0xef01'
		check_eq missing_node_exit 2 "$status"
		check_contains missing_node_names_it "$err" "/dev/bus/usb/001/004"
		check_eq missing_node_owners_kept "$(owners)" "$ORIGINAL_OWNERS"
		check_eq missing_node_journal_empty "$(journal_lines)" 0
		unchanged missing_node_domain_unchanged
		# if the first node was given away before the second was found
		# missing, it came back through sudo; either way sudo gave nothing else
		got=$(sudo_commands | tr '\n' '|')
		case $got in
		"" | "/bin/chown -h $OWNER /dev/bus/usb/001/002|/bin/chown -h 0:0 /dev/bus/usb/001/002|")
			pass missing_node_sudo_balanced ;;
		*) fail missing_node_sudo_balanced "sudo ran [$got]" ;;
		esac
		mv "$WORK/node-001-004" /dev/bus/usb/001/004
	else
		fail missing_node "could not install the rule"
	fi

	# --- sudo refuses the second chown: the first is rolled back via sudo -----
	# A rule variant that allows bus 001 only, so the failure comes half-way,
	# after the first node was given away.
	reset_state
	if out=$(install_rule 's|/dev/bus/usb/\[0-9\]\[0-9\]\[0-9\]/|/dev/bus/usb/001/|' 2>&1); then
		hook "$HOOK" '0x0627:0x0001&0x1234:0x5678'
		check_eq rollback_exit 2 "$status"
		check_contains rollback_says_sudo_message "$err" "a password is required"
		check_eq rollback_owners_restored "$(owners)" "$ORIGINAL_OWNERS"
		sudo_ran rollback_ran_via_sudo "/bin/chown -h $OWNER /dev/bus/usb/001/002" "/bin/chown -h 0:0 /dev/bus/usb/001/002"
		check_eq rollback_journal_empty "$(journal_lines)" 0
		unchanged rollback_domain_unchanged
	else
		fail rollback "could not install the rule variant: $(oneline "$out")"
	fi

	# --- the node replaced between its check and sudo's chown: said ---------
	# A build whose sudo is a wrapper that, through the real sudo, puts a new
	# node (same device number) at the path before running the chown.
	reset_state
	cat >"$WORK/swap-sudo" <<-EOF
		#!/bin/sh
		exec /usr/bin/sudo -n $WORK/swap-root "\$@"
	EOF
	cat >"$WORK/swap-root" <<-'EOF'
		#!/bin/sh
		# -n /bin/chown -h OWNER PATH: PATH replaced by a new node, once
		path=$5
		if [ ! -e "$path.checked" ]; then
			mv "$path" "$path.checked" &&
				mknod -m 0600 "$path" c "0x$(stat -c %t "$path.checked")" "0x$(stat -c %T "$path.checked")" || exit 1
		fi
		shift
		exec "$@"
	EOF
	chmod 0755 "$WORK/swap-sudo" "$WORK/swap-root"
	if ! command -v cc >/dev/null; then
		skip replaced_node_said "no C compiler to build the variant (apt-get install gcc)"
	elif ! out=$(cc -std=gnu11 -D_GNU_SOURCE -O1 -DHOSTUSB_SUDO="\"$WORK/swap-sudo\"" -I"$SRCDIR" \
		-o "$WORK/hostusb-swap" "$SRCDIR"/*.c 2>&1); then
		fail replaced_node_said "cannot build the variant: $(oneline "$out")"
	elif ! out=$(install_rule "\$a $TUSER ALL=(root) NOPASSWD: $WORK/swap-root" 2>&1); then
		fail replaced_node_said "could not install the rule: $(oneline "$out")"
	else
		hook "$WORK/hostusb-swap" 0x1234:0x5678 before_vm_start
		check_contains replaced_node_said "$status:$err" \
			"2:hostusb: /dev/bus/usb/002/002: no longer the device node that was checked (replaced or removed meanwhile)"
		check_eq replaced_node_checked_one_untouched "$(owner_of /dev/bus/usb/002/002.checked)" 0:46
		check_eq replaced_node_journal_empty "$(journal_lines)" 0
		unchanged replaced_node_domain_unchanged
		[ -e /dev/bus/usb/002/002.checked ] && mv -f /dev/bus/usb/002/002.checked /dev/bus/usb/002/002
	fi

	# --- --root: sudo never touches a node outside the root -----------------
	# The rule names host paths; with --root DIR the node checked is
	# DIR/dev/bus/usb/..., so a sudo chown of /dev/bus/usb/... would change a
	# node that was never checked.
	reset_state
	if install_rule >/dev/null 2>&1; then
		ROOT2=$WORK/root2
		fixture_root "$ROOT2"
		fixture_bus "$ROOT2" 2
		fixture_device "$ROOT2" 2-1 1234 5678 2 0600
		mkdir -m 0755 "$ROOT2/var/run/vdsm" && chown "$TUSER:$TUSER" "$ROOT2/var/run/vdsm"
		hook "$HOOK" 0x1234:0x5678 --root "$ROOT2"
		check_eq root_option_fails_without_privilege 2 "$status"
		check_eq root_option_host_node_untouched "$(owner_of /dev/bus/usb/002/002)" 0:46
		check_eq root_option_root_node_untouched "$(owner_of "$ROOT2/dev/bus/usb/002/002")" 0:0
		got=$(sudo_commands)
		check_eq root_option_sudo_ran_nothing "$got" ""
	else
		fail root_option "could not install the rule"
	fi

	reset_state
	echo "NAMESPACE-DONE" >>"$RESULTS"
	exit 0
fi

# ============================================================================
# Outside: prerequisites, user, install, then the namespace half, dist, rpm
# ============================================================================
WORK=$(mktemp -d /tmp/hostusb-system.XXXXXX) || exit 2
chmod 0755 "$WORK"
RESULTS=$WORK/results
: >"$RESULTS"
created_user='' created_quser=''

cleanup() {
	local passed failed skipped
	rm -f "$SUDOERS_TEST"
	if [ -n "$created_user" ]; then
		userdel "$TUSER" >/dev/null 2>&1 || printf 'run.sh: could not remove user %s\n' "$TUSER" >&2
	fi
	if [ -n "$created_quser" ]; then
		userdel "$QUSER" >/dev/null 2>&1 || printf 'run.sh: could not remove user %s\n' "$QUSER" >&2
	fi
	passed=$(grep -c '^PASS ' "$RESULTS")
	failed=$(grep -c '^FAIL ' "$RESULTS")
	skipped=$(grep -c '^SKIP ' "$RESULTS")
	rm -rf "$WORK"
	printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
	[ "$failed" -eq 0 ]
}
trap 'cleanup; exit $?' EXIT
trap 'exit 1' INT TERM HUP

if [ "$(id -u)" != 0 ]; then
	skip system "needs root: it adds a user, a sudoers file and mounts in a private namespace (sudo make check-system)"
	exit
fi
HOSTUSB=$SRCDIR/hostusb
if [ ! -x "$HOSTUSB" ]; then
	fail system "$HOSTUSB not built (make hostusb)"
	exit
fi

# --- 1. non-root operation ----------------------------------------------------
missing=
for tool in sudo visudo useradd userdel setpriv unshare mount mknod timeout; do
	command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
	skip non_root "missing:$missing (apt-get install sudo util-linux passwd coreutils)"
elif [ "$(sudo -V | sed -n '1s/^Sudo version //p')" = "" ]; then
	skip non_root "sudo -V does not say its version"
else
	if id "$TUSER" >/dev/null 2>&1; then
		# left by an interrupted run? only ever remove our own
		if [ "$(getent passwd "$TUSER" | cut -d: -f5)" = "$TUSER_COMMENT" ]; then
			created_user=yes
		fi
	elif useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin --comment "$TUSER_COMMENT" "$TUSER"; then
		created_user=yes
	fi
	if id "$QUSER" >/dev/null 2>&1; then
		if [ "$(getent passwd "$QUSER" | cut -d: -f5)" = "$QUSER_COMMENT" ]; then
			created_quser=yes
		fi
	elif useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin --comment "$QUSER_COMMENT" "$QUSER"; then
		created_quser=yes
	fi
	if [ -z "$created_user" ] || [ -z "$created_quser" ]; then
		fail non_root "cannot create users $TUSER and $QUSER (or ones not made by this test exist)"
	elif ! make -s --no-print-directory -C "$SRCDIR" install DESTDIR="$WORK/inst" >"$WORK/install.log" 2>&1; then
		fail non_root "make install DESTDIR failed: $(oneline "$(cat "$WORK/install.log")")"
	elif ! unshare -m --propagation private true 2>/dev/null; then
		skip non_root "cannot unshare a mount namespace here (needs CAP_SYS_ADMIN)"
	else
		unshare -m --propagation private bash "$0" --namespace "$WORK"
		status=$?
		grep -qx NAMESPACE-DONE "$RESULTS" || fail non_root "the namespace half stopped early (status $status)"
		rm -f "$SUDOERS_TEST"
	fi
fi

# --- 2. make dist, unpacked elsewhere: make check ------------------------------
tarball=$WORK/hostusb-$VERSION.tar.gz
if ! make -s --no-print-directory -C "$SRCDIR" dist DISTDIR="$WORK" >"$WORK/dist.log" 2>&1 || [ ! -f "$tarball" ]; then
	fail dist "make dist failed: $(oneline "$(cat "$WORK/dist.log")")"
else
	mkdir "$WORK/unpacked"
	tar -xzf "$tarball" -C "$WORK/unpacked"
	if make -C "$WORK/unpacked/hostusb-$VERSION" check >"$WORK/dist-check.log" 2>&1; then
		pass dist_tarball_make_check
	else
		fail dist_tarball_make_check "$( (grep -E '^FAIL' "$WORK/dist-check.log"; tail -3 "$WORK/dist-check.log") | head -8 | oneline_in)"
	fi
	grep -E '^[0-9]+ passed, [0-9]+ failed' "$WORK/dist-check.log" | tail -1 | sed 's/^/  | tarball make check: /'
fi

# --- 3. rpmbuild and the RPM's layout ------------------------------------------
if ! command -v rpmbuild >/dev/null 2>&1 || ! command -v rpm >/dev/null 2>&1; then
	skip rpm_build "rpmbuild not installed (apt-get install rpm)"
elif [ ! -f "$tarball" ]; then
	skip rpm_build "no tarball from make dist"
else
	# --nodeps: BuildRequires name Fedora/EL packages that a Debian host has no
	# RPM database entries for; %check runs make check inside the build.
	if rpmbuild --define "_topdir $WORK/rpm" --nodeps -tb "$tarball" >"$WORK/rpmbuild.log" 2>&1; then
		pass rpm_build
	else
		fail rpm_build "$(tail -5 "$WORK/rpmbuild.log" | oneline_in)"
	fi
	rpmfile=$(find "$WORK/rpm/RPMS" -name "vdsm-hook-hostusb-$VERSION-*.rpm" 2>/dev/null | head -1)
	if [ -n "$rpmfile" ]; then
		# %license: the directory is NAME on Fedora and EL, NAME-VERSION with Debian's rpm
		licence=$(rpm -qLp "$rpmfile" 2>/dev/null)
		case $licence in
		/usr/share/licenses/vdsm-hook-hostusb/LICENSE | /usr/share/licenses/vdsm-hook-hostusb-"$VERSION"/LICENSE)
			pass rpm_licence_is_license ;;
		*) fail rpm_licence_is_license "rpm -qL lists [$(oneline "$licence")]" ;;
		esac
		files=$(rpm -qlp "$rpmfile" 2>/dev/null | sed 's/\.gz$//' | tr '\n' ' ')
		check_eq rpm_files "$files" "/etc/sudoers.d/50_vdsm_hook_hostusb $HOOKS/after_vm_destroy/50_hostusb $HOOKS/before_vm_dehibernate/50_hostusb $HOOKS/before_vm_migrate_source/50_hostusb $HOOKS/before_vm_start/50_hostusb /usr/sbin/hostusb ${licence%/LICENSE} $licence /usr/share/man/man8/hostusb.8 "
		modes=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES} %{FILELINKTOS}\n]' "$rpmfile" 2>/dev/null)
		want_line() {
			if printf '%s\n' "$modes" | grep -qxF -e "$2"; then pass "$1"; else fail "$1" "no [$2] in [$(oneline "$modes")]"; fi
		}
		want_line rpm_program_mode "-rwxr-xr-x root:root /usr/sbin/hostusb "
		for point in before_vm_start after_vm_destroy before_vm_migrate_source before_vm_dehibernate; do
			want_line "rpm_${point}_link" "lrwxrwxrwx root:root $HOOKS/$point/50_hostusb ../../../../sbin/hostusb"
		done
		want_line rpm_sudoers_mode "-r--r----- root:root /etc/sudoers.d/50_vdsm_hook_hostusb "
		check_eq rpm_sudoers_is_config "$(rpm -qcp "$rpmfile" 2>/dev/null)" /etc/sudoers.d/50_vdsm_hook_hostusb
		requires=$(rpm -qRp "$rpmfile" 2>/dev/null | tr '\n' ' ')
		case $requires in *"vdsm "*"sudo "* | *"sudo "*"vdsm "*) pass rpm_requires ;; *) fail rpm_requires "[$requires]" ;; esac
		if grep -q 'make check' "$WORK/rpmbuild.log" && grep -qE '^[0-9]+ passed, 0 failed' "$WORK/rpmbuild.log"; then
			pass rpm_check_ran_make_check
		else
			fail rpm_check_ran_make_check "no passing make check in the rpmbuild log"
		fi
		# the upgrade from the Python hook's package (4.x) in a scratch RPM root
		bash "$HERE/rpm-upgrade.sh" "$rpmfile" "$WORK/upgrade" | tee -a "$RESULTS"
	elif grep -q . "$WORK/rpmbuild.log"; then
		fail rpm_files "no RPM built"
	fi
fi
