# SPDX-License-Identifier: GPL-2.0-or-later
# The hook as VDSM runs it: user vdsm, the real sudo and the shipped sudoers
# rule, device nodes at the real paths /dev/bus/usb/BBB/DDD.  All of it in a
# private mount namespace: a tmpfs over /dev and /run, the fixture's sysfs
# over /sys, and the test's own /etc/passwd, group, shadow and sudoers (vdsm
# 36, qemu 107, the rule) bound over the host's, so that no user is added and
# nothing outside the namespace changes.  tests/system/run.sh does the same
# with a real user and the rule in /etc/sudoers.d.
#
# What qemu does to a node while the VM runs (chmod 2666) is undone on
# destroy: the mode set back by a chmod run as qemu, then the owner by the
# chown run as root; never the other way round, and never a chmod as root.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/fixture.sh"

VM1=6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de
RULE=$SRCDIR/sudoers.vdsm_hook_hostusb

if ! is_root; then
	skip "sudo path" "need root: a mount namespace, device nodes"
	exit 0
fi
for tool in sudo visudo unshare setpriv mount; do
	if ! command -v "$tool" >/dev/null; then
		skip "sudo path" "$tool not installed (apt-get install sudo util-linux mount)"
		exit 0
	fi
done
if [ "${HOSTUSB_SUDO_NS:-}" != 1 ]; then
	if ! unshare -m --propagation private true 2>/dev/null; then
		skip "sudo path" "cannot unshare a mount namespace: need root with CAP_SYS_ADMIN"
		exit 0
	fi
	HOSTUSB_SUDO_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi

# --- the host as the kernel lays it out, and the namespace -------------------
# bus 1: 001/002 (0627:0001, 0600 root:root), 001/003 (1234:5678, 0660 root:46)
R=$TESTTMP/root
fixture_root "$R"
fixture_bus "$R" 1
fixture_device "$R" 1-1 0627 0001 2
fixture_device "$R" 1-2 1234 5678 3 0660
N2=/dev/bus/usb/001/002
N3=/dev/bus/usb/001/003

ETC=$TESTTMP/etc
mkdir -p "$ETC"
# passwd, group, shadow: the host's, with vdsm and qemu as on an oVirt host
{
	grep -v -e '^vdsm:' -e '^qemu:' -e '^[^:]*:[^:]*:36:' -e '^[^:]*:[^:]*:107:' /etc/passwd
	echo 'vdsm:x:36:36:Node Virtualization Manager:/var/lib/vdsm:/sbin/nologin'
	echo 'qemu:x:107:107:qemu user:/:/sbin/nologin'
} >"$ETC/passwd"
{
	grep -v -e '^kvm:' -e '^qemu:' -e '^vdsm:' -e '^[^:]*:[^:]*:36:' -e '^[^:]*:[^:]*:107:' /etc/group
	echo 'kvm:x:36:qemu,vdsm'
	echo 'qemu:x:107:'
} >"$ETC/group"
{
	grep -v -e '^vdsm:' -e '^qemu:' /etc/shadow
	echo 'vdsm:!:19000::::::'
	echo 'qemu:!:19000::::::'
} >"$ETC/shadow"
chmod 0644 "$ETC/passwd" "$ETC/group"
chmod 0640 "$ETC/shadow"
: >"$ETC/sudoers"

RUNDIR=$(readlink -f /var/run)
W=$RUNDIR/hostusb-test
LOG=$W/sudo.log
JOURNAL=$RUNDIR/vdsm/hooks/hostusb-permissions
DOM=$W/xml/domxml
HOOKS=$W/hooks
setup() {
	mount -t tmpfs -o mode=0755 hostusb-run "$RUNDIR" &&
		mkdir -m 0755 "$RUNDIR/vdsm" "$W" && chown 36:36 "$RUNDIR/vdsm" &&
		mount -t tmpfs -o mode=0755 hostusb-dev /dev &&
		mknod -m 0666 /dev/null c 1 3 && mknod -m 0666 /dev/zero c 1 5 &&
		mknod -m 0666 /dev/urandom c 1 9 && mknod -m 0666 /dev/tty c 5 0 &&
		ln -s /proc/self/fd /dev/fd && mkdir -p /dev/bus/usb &&
		mount --bind "$R/dev/bus/usb" /dev/bus/usb && mount --bind "$R/sys" /sys &&
		for f in passwd group shadow sudoers; do mount --bind "$ETC/$f" "/etc/$f" || exit 1; done
}
if ! out=$(setup 2>&1); then
	fail "sudo path: namespace" "$(printf '%s' "$out" | tr '\n' '|')"
	exit 0
fi
# the program where vdsm can reach it (the sources may be under a home only
# root may enter, as in a fresh root whose sources are in /root)
install -m 0755 "$HOSTUSB" "$W/hostusb"
for point in before_vm_start after_vm_destroy; do
	mkdir -p "$HOOKS/$point" && ln -s "$W/hostusb" "$HOOKS/$point/50_hostusb"
done

# set_rule [SED-EXPRESSION]: the shipped rule (altered by the expression) as
# the whole of sudo's configuration, sudo logging to $LOG
set_rule() {
	{
		printf 'Defaults env_reset, !syslog, !pam_session, !lecture, logfile=%s, loglinelen=0\n' "$LOG"
		sed -e "${1:-}" "$RULE"
	} >"$ETC/sudoers.new" && visudo -cqf "$ETC/sudoers.new" &&
		cat "$ETC/sudoers.new" >"$ETC/sudoers" && chmod 0440 "$ETC/sudoers"
}
# the rule of a version that gave back the owner only: no chmod rule
OLD_RULE='/^Cmnd_Alias HOSTUSB_CHMOD/,/^$/d; /HOSTUSB_CHMOD/d'

as_vdsm() {
	timeout -k 5 60 setpriv --reuid=36 --regid=36 --init-groups -- \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C "$@"
}
as_qemu() { setpriv --reuid=107 --regid=107 --init-groups -- "$@"; }
# hook WHO POINT PROPERTY: runs the hook point as vdsm or root, as VDSM runs
# it (no arguments); sets RC and ERR
hook() {
	local who=$1 point=$2 prop=$3 run=()
	[ "$who" = vdsm ] && run=(as_vdsm)
	ERR=$(cd / && "${run[@]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin hostusb="$prop" _hook_domxml="$DOM" \
		vmId="$VM1" "$HOOKS/$point/50_hostusb" 2>&1 >/dev/null)
	RC=$?
}
# what sudo ran, in order: "USER COMMAND|" each (a line of a refused command
# has the reason before PWD=)
sudo_ran() {
	sed -n 's/.* : [^ :]* : \(TTY=[^;]* ; \)*PWD=[^;]* ; USER=\([^ ]*\) ; COMMAND=\(.*\)/\2 \3/p' "$LOG" |
		tr '\n' '|'
}
allows() { as_vdsm sudo -n -l "$@" >/dev/null 2>&1; }
state() { stat -c '%u:%g %a' "$@" | tr '\n' ' '; }
journal() { cat "$JOURNAL" 2>/dev/null; }
# fresh: nodes as the kernel made them, no journal, a new domain file, an empty log
fresh() {
	chown 0:0 "$N2" && chmod 0600 "$N2" && chown 0:46 "$N3" && chmod 0660 "$N3"
	rm -rf "$RUNDIR/vdsm/hooks" "$W/xml"
	mkdir -m 0700 "$W/xml" && cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM" && chmod 0600 "$DOM" &&
		chown -R 36:36 "$W/xml"
	: >"$LOG"
}

if ! out=$(set_rule 2>&1); then
	fail "sudo path: the shipped rule parses" "$out"
	exit 0
fi

# --- the rule, as the real sudo reads it --------------------------------------
if allows -u qemu /bin/chmod 0600 $N2 && allows -u '#107' /bin/chmod 2666 $N3 &&
	allows /bin/chown -h 0:46 $N3; then
	pass "rule: vdsm may chmod as qemu, chown -h as root"
else
	fail "rule: vdsm may chmod as qemu, chown -h as root" "sudo -n -l refuses one of them"
fi
for refused in \
	"as root|-u|root|/bin/chmod|0600|$N2" \
	"as root by default|/bin/chmod|0600|$N2" \
	"as another user|-u|nobody|/bin/chmod|0600|$N2" \
	"as vdsm|-u|vdsm|/bin/chmod|0600|$N2" \
	"a path outside /dev/bus/usb|-u|qemu|/bin/chmod|0600|/etc/shadow" \
	"a path under another directory|-u|qemu|/bin/chmod|0600|/dev/bus/xyz/001/002" \
	"..|-u|qemu|/bin/chmod|0600|/dev/bus/usb/001/002/../../../../etc/shadow" \
	".. in the bus|-u|qemu|/bin/chmod|0600|/dev/bus/usb/../../../etc/shadow" \
	"a second path|-u|qemu|/bin/chmod|0600|$N2|$N3" \
	"a second path outside|-u|qemu|/bin/chmod|0600|$N2|/etc/shadow" \
	"-R|-u|qemu|/bin/chmod|-R|0600|$N2" \
	"--reference|-u|qemu|/bin/chmod|--reference=/etc/shadow|$N2" \
	"-v|-u|qemu|/bin/chmod|-v|0600|$N2" \
	"a symbolic mode|-u|qemu|/bin/chmod|u+s|$N2" \
	"a three-digit mode|-u|qemu|/bin/chmod|600|$N2" \
	"a five-digit mode|-u|qemu|/bin/chmod|00600|$N2" \
	"an 8 in the mode|-u|qemu|/bin/chmod|0680|$N2" \
	"a short path|-u|qemu|/bin/chmod|0600|/dev/bus/usb/1/2" \
	"another program as qemu|-u|qemu|/bin/sh|-c|id" \
	"chown as qemu|-u|qemu|/bin/chown|-h|0:0|$N2"; do
	IFS='|' read -r -a cmd <<<"$refused"
	if allows "${cmd[@]:1}"; then fail "rule refuses ${cmd[0]}" "sudo allows: ${cmd[*]:1}"
	else pass "rule refuses ${cmd[0]}"; fi
done

# --- qemu made the node 2666: destroyed as vdsm, owner and mode come back ----
fresh
hook vdsm before_vm_start '0x0627:0x0001&0x1234:0x5678'
check_eq "start as vdsm: nodes to qemu, modes kept" "$RC:$ERR:$(state $N2 $N3)" \
	"0:hostusb: VM $VM1: gave $N2 (0x0627:0x0001 port 1-1, bus 1 device 2) to 107:107; recorded owner 0:0 mode 0600
hostusb: VM $VM1: gave $N3 (0x1234:0x5678 port 1-2, bus 1 device 3) to 107:107; recorded owner 0:46 mode 0660:107:107 600 107:107 660 "
check_eq "start as vdsm: the journal records owner and mode" "$(journal | tr '\n' ' ')" \
	"$N2:0:0:$VM1:0600 $N3:0:46:$VM1:0660 "
as_qemu chmod 2666 $N2 $N3
check_eq "qemu makes its nodes 2666" "$(state $N2 $N3)" "107:107 2666 107:107 2666 "
: >"$LOG"
hook vdsm after_vm_destroy '0x0627:0x0001&0x1234:0x5678'
check_eq "destroy as vdsm: exit 0, a line per node given back" "$RC:$ERR" "0:hostusb: VM $VM1: gave back $N2 (0x0627:0x0001 port 1-1, bus 1 device 2) to 0:0 mode 0600
hostusb: VM $VM1: gave back $N3 (0x1234:0x5678 port 1-2, bus 1 device 3) to 0:46 mode 0660"
check_eq "destroy as vdsm: recorded owner and mode back" "$(state $N2 $N3)" "0:0 600 0:46 660 "
check_eq "destroy as vdsm: chmod as qemu before chown as root, node by node" "$(sudo_ran)" \
	"qemu /bin/chmod 0600 $N2|root /bin/chown -h 0:0 $N2|qemu /bin/chmod 0660 $N3|root /bin/chown -h 0:46 $N3|"
check_eq "destroy as vdsm: journal emptied" "$(journal)" ""

# --- mode unchanged: no chmod, the one chown as before --------------------
fresh
hook vdsm before_vm_start 0x0627:0x0001
: >"$LOG"
hook vdsm after_vm_destroy 0x0627:0x0001
check_eq "mode unchanged: only the chown runs" "$RC:$ERR:$(state $N2):$(sudo_ran)" "0:hostusb: VM $VM1: gave back $N2 (0x0627:0x0001 port 1-1, bus 1 device 2) to 0:0 mode 0600:0:0 600 :root /bin/chown -h 0:0 $N2|"

# --- the rule of an older version (chown only): the node is not given back --
# it stays qemu's rather than becoming root's and world-writable; its line stays
fresh
hook vdsm before_vm_start 0x0627:0x0001
as_qemu chmod 2666 $N2
set_rule "$OLD_RULE"
: >"$LOG"
hook vdsm after_vm_destroy 0x0627:0x0001
check_eq "old rule: exit 2, node stays qemu's, line kept" "$RC:$(state $N2):$(journal)" \
	"2:107:107 2666 :$N2:0:0:$VM1:0600"
check_eq "old rule: one line naming node, reason and fix" "$ERR" \
	"hostusb: $N2: not given back to 0:0: its mode could not first be set back from 2666 to 0600 (/usr/bin/sudo -n -u #107 /bin/chmod 0600 failed: sudo: a password is required: the sudo rule is missing or does not apply: check /etc/sudoers.d/50_vdsm_hook_hostusb and \`sudo -l -U vdsm\`); it stays 107:107: as root, run after_vm_destroy for its VM again (through sudo a mode is set only as the node's owner, and the sudoers rule allows that as qemu only)"
check_eq "old rule: sudo ran nothing, no chown either" "$(sudo_ran)" ""
set_rule
hook vdsm after_vm_destroy 0x0627:0x0001
check_eq "old rule replaced: the next destroy gives owner and mode back" "$RC:$ERR:$(state $N2):$(journal)" \
	"0:hostusb: VM $VM1: gave back $N2 (0x0627:0x0001 port 1-1, bus 1 device 2) to 0:0 mode 0600:0:0 600 :"

# --- the node's owner is not qemu: sudo refuses the chmod as that user ------
fresh
hook vdsm before_vm_start 0x0627:0x0001
chown 65534:65534 $N2 && chmod 0666 $N2
: >"$LOG"
hook vdsm after_vm_destroy 0x0627:0x0001
check_eq "owner not qemu: exit 2, node untouched, line kept" "$RC:$(state $N2):$(journal)" \
	"2:65534:65534 666 :$N2:0:0:$VM1:0600"
check_contains "owner not qemu: says sudo refused a chmod as that owner" "$ERR" \
	"hostusb: $N2: not given back to 0:0: its mode could not first be set back from 0666 to 0600 (/usr/bin/sudo -n -u #65534 /bin/chmod 0600 failed: sudo: a password is required: the sudo rule is missing or does not apply: check /etc/sudoers.d/50_vdsm_hook_hostusb and \`sudo -l -U vdsm\`); it stays 65534:65534: "
check_eq "owner not qemu: sudo ran nothing" "$(sudo_ran)" ""
hook root after_vm_destroy 0x0627:0x0001
check_eq "owner not qemu: after_vm_destroy as root gives it back" "$RC:$ERR:$(state $N2):$(journal)" \
	"0:hostusb: VM $VM1: gave back $N2 (0x0627:0x0001 port 1-1, bus 1 device 2) to 0:0 mode 0600:0:0 600 :"

# --- root owns it already (its owner given back by someone else): no chmod as root
fresh
hook vdsm before_vm_start 0x0627:0x0001
chown 0:0 $N2 && chmod 2666 $N2
: >"$LOG"
hook vdsm after_vm_destroy 0x0627:0x0001
check_eq "owned by root: exit 2, line kept, sudo not run" "$RC:$(journal):$(sudo_ran)" "2:$N2:0:0:$VM1:0600:"
check_contains "owned by root: says why" "$ERR" \
	"(root owns it, and through sudo a node's mode is set only as its owner, never as root); it stays 0:0: as root, run after_vm_destroy for its VM again"
chmod 0600 $N2

# --- a permissive umask changes none of this -----------------------------------
fresh
hook vdsm before_vm_start 0x0627:0x0001
as_qemu chmod 0666 $N2
(umask 000; hook vdsm after_vm_destroy 0x0627:0x0001; check_eq "umask 000: destroy gives owner and mode back" \
	"$RC:$ERR:$(state $N2)" "0:hostusb: VM $VM1: gave back $N2 (0x0627:0x0001 port 1-1, bus 1 device 2) to 0:0 mode 0600:0:0 600 ")
