# SPDX-License-Identifier: GPL-2.0-or-later
# The command line as an administrator meets it, with no root needed: which
# hook point a program runs from where it lies and how it was started
# (relative paths, symlinks, a name found through PATH, a copy named hostusb),
# and the usage errors, each of which must say what to do.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/fixture.sh"

VM1=6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de
PROP=0x0781:0x5567
HOOKS=$TESTTMP/hooks
R=$TESTTMP/root
DOM=$TESTTMP/domain.xml
# installed as `make install` does: the program under before_vm_start, the
# other hook points symlinks to it; a directory VDSM would also run that
# hostusb does not serve; a copy named hostusb elsewhere, as a command
mkdir -p "$HOOKS/before_vm_start" "$TESTTMP/sbin"
cp "$HOSTUSB" "$HOOKS/before_vm_start/50_hostusb"
cp "$HOSTUSB" "$TESTTMP/sbin/hostusb"
for point in after_vm_destroy before_vm_migrate_source before_vm_stop; do
	mkdir -p "$HOOKS/$point"
	ln -s ../before_vm_start/50_hostusb "$HOOKS/$point/50_hostusb"
done
ln -s hooks/after_vm_destroy "$TESTTMP/destroy-link"
fixture_root "$R"
fixture_bus "$R" 1
fixture_device "$R" 1-1 0781 5567 2
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"

# run_in DIR [VAR=VALUE...] PROGRAM [ARGS...]: runs it with cwd DIR and only the
# given environment (and PATH); sets RC, OUT, ERR
run_in() {
	local dir=$1
	shift
	OUT=$(cd "$dir" && env -i PATH=/usr/bin:/bin "$@" 2>"$TESTTMP/stderr")
	RC=$?
	ERR=$(cat "$TESTTMP/stderr")
}
# the first line of `list` for the root
HEADER="BUS DEV PORT ID        SERIAL       SPEED OWNER       HELD-BY                              PROPERTY"

# --- the hook point from the directory, however the program was started
run_in "$HOOKS/before_vm_start" ./50_hostusb --dry-run
check_eq "./50_hostusb in before_vm_start: runs before_vm_start" "$RC:$ERR" \
	"0:hostusb: dry run: the hostusb property is not set or empty: nothing to do"
run_in "$HOOKS/before_vm_start" hostusb=$PROP _hook_domxml="$DOM" vmId=$VM1 ./50_hostusb --root "$R" --dry-run
check_contains "./50_hostusb --dry-run with the property: plans the device" "$ERR" \
	"hostusb: dry run: "
check_contains "./50_hostusb --dry-run with the property: names its node" "$ERR" "$R/dev/bus/usb/001/002"
run_in "$HOOKS/before_vm_start" hostusb=$PROP vmId=$VM1 ../after_vm_destroy/50_hostusb --root "$R"
check_eq "../after_vm_destroy/50_hostusb: runs after_vm_destroy (a symlink: its own directory counts)" \
	"$RC:$ERR" "0:hostusb: VM $VM1: nothing recorded for this VM: nothing to give back ($R/var/run/vdsm/hooks/hostusb-permissions does not exist)"
run_in "$HOOKS/after_vm_destroy" hostusb=$PROP vmId=$VM1 ./50_hostusb --root "$R"
check_contains "./50_hostusb in after_vm_destroy: runs after_vm_destroy" "$RC:$ERR" "0:hostusb: VM $VM1: nothing recorded"
run_in "$HOOKS/before_vm_migrate_source" hostusb=$PROP ./50_hostusb
check_eq "./50_hostusb in before_vm_migrate_source: refuses the migration" "$RC:$ERR" \
	"2:hostusb: cannot migrate VM with host usb devices"
run_in "$HOOKS" hostusb=$PROP before_vm_migrate_source/./50_hostusb
check_eq "before_vm_migrate_source/./50_hostusb: . resolved" "$RC" 2
run_in "$TESTTMP" hostusb=$PROP vmId=$VM1 destroy-link/50_hostusb --root "$R"
check_contains "a symlink to the after_vm_destroy directory: the directory's own name counts" "$RC:$ERR" \
	"0:hostusb: VM $VM1: nothing recorded"
run_in / hostusb=$PROP "$HOOKS/before_vm_stop/../before_vm_migrate_source/50_hostusb"
check_eq "absolute path through ..: resolved" "$RC" 2
run_in "$TESTTMP" hostusb=$PROP _hook_domxml="$DOM" "$HOOKS/before_vm_start/50_hostusb" --root "$R" list
check_eq "list named in a hook directory: list" "$RC:$(printf '%s\n' "$OUT" | head -1 | cut -c1-${#HEADER})" "0:$HEADER"

# --- a directory that looks like VDSM's but is no hook point hostusb serves
for how in ./50_hostusb "$HOOKS/before_vm_stop/50_hostusb" ../before_vm_stop/50_hostusb; do
	dir=$HOOKS/before_vm_stop
	[ "$how" = ../before_vm_stop/50_hostusb ] && dir=$HOOKS/before_vm_start
	run_in "$dir" hostusb=$PROP _hook_domxml="$DOM" "$how" --root "$R"
	check_eq "hooks/before_vm_stop ($how): refused, nothing run" "$RC:$OUT" "2:"
	check_eq "hooks/before_vm_stop ($how): one line naming the program and the hook points" "$ERR" \
		"hostusb: $how: its directory is not a hook point hostusb serves (before_vm_start, after_vm_destroy, before_vm_migrate_source, before_vm_dehibernate); install it in one of those, or give the hook point or list as an argument; see hostusb --help"
done
run_in "$HOOKS/before_vm_stop" ./50_hostusb --root "$R" list
check_eq "hooks/before_vm_stop with list named: list" "$RC" 0

# --- a command: no hook directory and no hook point named
"$HOSTUSB" --root "$R" list >"$TESTTMP/list.want" 2>&1
run_in "$TESTTMP/sbin" ./hostusb --root "$R"
check_eq "a copy named hostusb, no command: does what list does" "$RC:$OUT" "0:$(cat "$TESTTMP/list.want")"
check_contains "a copy named hostusb: lists the device" "$OUT" "001 002 1-1  0781:5567 -            480 "
run_in / hostusb=$PROP "$TESTTMP/sbin/hostusb" --root "$R"
check_eq "a copy named hostusb, property set: still list, nothing else" "$RC:$OUT:$ERR" \
	"0:$(cat "$TESTTMP/list.want"):"
# run as a hook (_hook_domxml set) with no hook point found: never a silent list
NOT_A_HOOK="run as a hook (_hook_domxml is set), but no hook point hostusb serves (before_vm_start, after_vm_destroy, before_vm_migrate_source, before_vm_dehibernate) names its directory; install it in one of those, or give the hook point as an argument; see hostusb --help"
run_in / hostusb=$PROP _hook_domxml="$DOM" "$TESTTMP/sbin/hostusb" --root "$R"
check_eq "a copy named hostusb, _hook_domxml set: exit 2, one line naming the hook points" "$RC:$OUT:$ERR" \
	"2::hostusb: $TESTTMP/sbin/hostusb: $NOT_A_HOOK"
run_in / _hook_domxml="$DOM" "$TESTTMP/sbin/hostusb" --root "$R"
check_eq "a copy named hostusb, _hook_domxml set, no property: exit 2 all the same" "$RC:$OUT:$ERR" \
	"2::hostusb: $TESTTMP/sbin/hostusb: $NOT_A_HOOK"
OUT=$(cd / && env -i PATH="$HOOKS/before_vm_start:/usr/bin:/bin" _hook_domxml="$DOM" 50_hostusb --root "$R" 2>&1)
check_eq "50_hostusb found through PATH, _hook_domxml set: exit 2" "$?:$OUT" "2:hostusb: 50_hostusb: $NOT_A_HOOK"

# a hook directory that is a link to a directory of another name: its name as VDSM ran it counts
mkdir -p "$TESTTMP/opt/migrate" "$TESTTMP/vdsm/hooks"
cp "$HOSTUSB" "$TESTTMP/opt/migrate/50_hostusb"
ln -s ../../opt/migrate "$TESTTMP/vdsm/hooks/before_vm_migrate_source"
run_in / hostusb=$PROP _hook_domxml="$DOM" "$TESTTMP/vdsm/hooks/before_vm_migrate_source/50_hostusb"
check_eq "hooks/before_vm_migrate_source linked to opt/migrate: the migration refused" "$RC:$OUT:$ERR" \
	"2::hostusb: cannot migrate VM with host usb devices"
run_in "$TESTTMP/vdsm/hooks/before_vm_migrate_source" hostusb=$PROP _hook_domxml="$DOM" ./50_hostusb
check_eq "./50_hostusb in the linked directory (resolved: opt/migrate), as a hook: exit 2" "$RC:$OUT:$ERR" \
	"2::hostusb: ./50_hostusb: $NOT_A_HOOK"
OUT=$(cd / && env -i PATH="$HOOKS/before_vm_start:/usr/bin:/bin" 50_hostusb --root "$R" 2>&1)
check_eq "50_hostusb found through PATH (argv[0] has no directory): list" "$?:$OUT" \
	"0:$(cat "$TESTTMP/list.want")"
OUT=$(cd / && env -i PATH="$HOOKS/before_vm_start:/usr/bin:/bin" 50_hostusb --root "$R" --dry-run 2>&1)
check_eq "50_hostusb --dry-run through PATH: asks for the hook point" "$?:$OUT" \
	"2:hostusb: --dry-run is for a hook point (before_vm_start, after_vm_destroy, before_vm_migrate_source, before_vm_dehibernate), not for list: name the hook point, or run the program from its hooks/ directory; see hostusb --help"
OUT=$(cd / && env -i PATH="$HOOKS/before_vm_start:/usr/bin:/bin" hostusb=$PROP _hook_domxml="$DOM" vmId=$VM1 \
	50_hostusb --root "$R" --dry-run before_vm_start 2>&1 >/dev/null)
check_contains "50_hostusb --dry-run before_vm_start through PATH: a dry run" "$OUT" "hostusb: dry run: "
check "list: nothing written under the root" test ! -e "$R/var/run/vdsm"
run_in / "$HOSTUSB" --root "$R" list --property
check_eq "list --property: the values alone, no header, no hub" "$RC:$OUT:$ERR" "0:0x0781:0x5567:"
run_in / "$HOSTUSB" --property --root "$R"
check_eq "--property without a command: list" "$RC:$OUT" "0:0x0781:0x5567"

# --- usage errors say what to do
usage() {
	local name=$1 want=$2
	shift 2
	run_in "$TESTTMP" hostusb=$PROP "$HOSTUSB" "$@"
	check_eq "$name" "$RC:$ERR" "2:hostusb: $want"
}
usage "--root without a directory" "--root needs a directory; see hostusb --help" list --root
usage "--root followed by an option" "--root needs a directory; see hostusb --help" --root --dry-run list
usage "--owner without USER:GROUP" "--owner needs USER:GROUP; see hostusb --help" before_vm_start --owner
usage "--lock-wait without seconds" "--lock-wait needs a number of seconds; see hostusb --help" --lock-wait
usage "--lock-wait not a number" '--lock-wait "5s": expected a number of seconds' --lock-wait 5s after_vm_destroy
usage "a mistyped hook point lists the valid ones" \
	'unknown command "before_vm_stop": expected before_vm_start, after_vm_destroy, before_vm_migrate_source, before_vm_dehibernate, list or release; see hostusb --help' \
	before_vm_stop
usage "two commands" 'unexpected argument "after_vm_destroy": give one command; see hostusb --help' \
	list after_vm_destroy
usage "an unknown option" 'unknown option "--dryrun"; see hostusb --help' --dryrun before_vm_start
usage "--property with a hook point" "--property is for list, not for a hook point; see hostusb --help" \
	--property before_vm_start
usage "--owner with list" \
	"--owner is for a hook point (before_vm_start, after_vm_destroy, before_vm_migrate_source, before_vm_dehibernate), not for list: name the hook point, or run the program from its hooks/ directory; see hostusb --help" \
	--owner 1:1 list

# property: the entry, its position and what was expected, on one line
# property ENTRY... : sets ERR of a before_vm_start run with those entries
property() {
	run_in "$TESTTMP" hostusb="$1" _hook_domxml="$DOM" vmId=$VM1 "$HOSTUSB" --root "$R" before_vm_start
}
property "0x0781:0x5567&0X0627:0x0001"
check_eq "property: an uppercase X, named by position" "$RC:$ERR" \
	'2:hostusb: hostusb property, entry 2 "0X0627:0x0001": expected 0xVVVV:0xPPPP with a lowercase x and 4 hex digits each; found "X" at character 16'
property "0x0781:0x5567,0x0627:0x0001"
check_contains "property: a comma instead of &" "$RC:$ERR" '2:hostusb: hostusb property, entry 1 "0x0781:0x5567,0x0627:0x0001": expected'
property "0x0781:0x5567&"
check_contains "property: an empty entry" "$ERR" 'entry 2 "": expected 0xVVVV:0xPPPP'
property "0x0781:0x5567&?0x0529:0x0001@1-32"
check_eq "property: a port number over 31, named by character" "$RC:$ERR" \
	'2:hostusb: hostusb property, entry 2 "?0x0529:0x0001@1-32": expected a port BUS-PORT[.PORT]... (bus 1 to 999, 1 to 7 ports of 1 to 31, no leading zeros); found "2" at character 33'
check_eq "property errors: one line each, nothing written" "$(printf '%s\n' "$ERR" | wc -l):$(test -e "$R/var/run/vdsm" && echo written)" "1:"

# _hook_domxml: said where the path came from
run_in "$TESTTMP" hostusb=$PROP vmId=$VM1 "$HOSTUSB" --root "$R" before_vm_start
check_eq "_hook_domxml unset: one line, what it is and how to try by hand" "$RC:$ERR" \
	"2:hostusb: _hook_domxml is not set: VDSM sets it to the domain XML file; to run by hand, set it to a copy (virsh -r dumpxml VM >vm.xml)"
check "_hook_domxml unset: nothing written under the root" test ! -e "$R/var/run/vdsm"
# (a dry run, so the domain file is reached without root: as another user the
# fixture's node is a plain file, which the plan reports first)
run_in "$TESTTMP" hostusb=$PROP _hook_domxml="$TESTTMP/x.xml" vmId=$VM1 "$HOSTUSB" --root "$R" --dry-run before_vm_start
check_eq "_hook_domxml names a missing file: said where the path came from" "$RC:${ERR##*$'\n'}" \
	"2:hostusb: $TESTTMP/x.xml (from _hook_domxml): No such file or directory"
run_in "$TESTTMP" hostusb=$PROP _hook_domxml="$TESTTMP" vmId=$VM1 "$HOSTUSB" --root "$R" --dry-run before_vm_start
check_eq "_hook_domxml names a directory" "$RC:${ERR##*$'\n'}" \
	"2:hostusb: $TESTTMP (from _hook_domxml): not a regular file"

# vmId: VDSM always sets it; a start without one would write a line that any
# VM's after_vm_destroy gives back
for how in unset empty; do
	vmid=(vmId=) && [ $how = unset ] && vmid=()
	for dry in "" --dry-run; do
		run_in "$TESTTMP" hostusb=$PROP _hook_domxml="$DOM" "${vmid[@]}" "$HOSTUSB" --root "$R" $dry before_vm_start
		check_eq "vmId $how${dry:+ ($dry)}: refused, one line, how to try by hand" "$RC:$OUT:$ERR" \
			"2::hostusb: vmId is not set: VDSM sets it to the VM's UUID; to run by hand, set it too (vmId=\$(cat /proc/sys/kernel/random/uuid))"
		check "vmId $how${dry:+ ($dry)}: nothing written under the root" test ! -e "$R/var/run/vdsm"
	done
done
run_in "$TESTTMP" _hook_domxml="$DOM" "$HOSTUSB" --root "$R" before_vm_start
check_eq "vmId unset, property unset: nothing to do" "$RC:$ERR" "0:"

# --help says the rule
run_in "$TESTTMP" "$HOSTUSB" --help
check_contains "--help: list is what a command without HOOK does" "$RC:$OUT" "Anywhere else it does what"
check_contains "--help: the valid hook points" "$OUT" "HOOK is one of: before_vm_start, after_vm_destroy, before_vm_migrate_source, before_vm_dehibernate."

# list on a host without a USB bus: says so, rather than a bare "No such file or directory"
mkdir -p "$TESTTMP/nobus/sys"
run_in "$TESTTMP" "$HOSTUSB" --root "$TESTTMP/nobus" list
check_eq "list without a USB bus: exit 2, one line saying so" "$RC:$OUT:$ERR" \
	"2::hostusb: no USB bus on this host: $TESTTMP/nobus/sys/bus/usb/devices does not exist (no USB controller, or its driver not loaded)"
mkdir -p "$TESTTMP/nobus/sys/bus/usb"
: >"$TESTTMP/nobus/sys/bus/usb/devices"
run_in "$TESTTMP" "$HOSTUSB" --root "$TESTTMP/nobus" list
check_eq "list of a devices entry that is not a directory: the reason, not \"no USB bus\"" "$RC:$ERR" \
	"2:hostusb: cannot read $TESTTMP/nobus/sys/bus/usb/devices: Not a directory"

# what the tests say when they cannot make a mount namespace (tests/lib.sh
# no_mount_ns): unshare's own words, as in a chroot where it is installed but fails
mkdir -p "$TESTTMP/fakebin" "$TESTTMP/nobin"
printf '#!/bin/sh\necho "unshare: unshare failed: Operation not permitted" >&2\nexit 1\n' >"$TESTTMP/fakebin/unshare"
chmod +x "$TESTTMP/fakebin/unshare"
why=$(PATH=$TESTTMP/fakebin no_mount_ns)
check_eq "no mount namespace, unshare failing: its message and why" "$?:$why" \
	"0:unshare -m fails here (unshare: unshare failed: Operation not permitted): not permitted in a chroot or a container without CAP_SYS_ADMIN"
why=$(PATH=$TESTTMP/nobin no_mount_ns)
check_eq "no mount namespace, unshare missing: says so and its package" "$?:$why" "0:unshare is not installed (util-linux)"
printf '#!/bin/sh\nexit 0\n' >"$TESTTMP/fakebin/unshare"
why=$(PATH=$TESTTMP/fakebin no_mount_ns)
check_eq "mount namespace available: no reason" "$?:$why" "1:"
