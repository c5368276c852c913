# SPDX-License-Identifier: GPL-2.0-or-later
# The journal lock: only root and the hook's user (the owner of the journal's
# directory, vdsm) can open it, so no other local user can hold it and block
# every start and destroy; root runs and the hook user's runs share it; a
# lock file an older version left 0644 is made 0600, or refused by a user who
# may not; a lock held for long is said to be held, without guessing by whom.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/fixture.sh"

VM1=6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de
VM2=0f0e0d0c-0b0a-4909-8807-060504030201
VDSM=36 NOBODY=65534

if ! is_root; then
	skip "journal lock" "need root: device nodes, and runs as other users"
	exit 0
fi
if ! command -v setpriv >/dev/null || ! command -v flock >/dev/null; then
	skip "journal lock" "setpriv or flock not installed (apt-get install util-linux)"
	exit 0
fi

# The other users run the program and open the fixture's files: both where
# they can reach them (TESTTMP may be under a home only root may enter, as in
# a fresh root whose sources are in /root)
if ! SHARED=$(mktemp -d /tmp/hostusb-t_lock.XXXXXX) || ! chmod 0755 "$SHARED" || ! cp "$HOSTUSB" "$SHARED/hostusb"; then
	fail "journal lock: a work directory other users can reach" "mktemp, chmod or cp in /tmp failed"
	exit 0
fi
trap 'rm -rf "$SHARED"' EXIT
HOSTUSB=$SHARED/hostusb
R=$SHARED/root
fixture_root "$R"
fixture_bus "$R" 2
fixture_device "$R" 2-2 0781 5567 3
JDIR=$R/var/run/vdsm/hooks
JOURNAL=$JDIR/hostusb-permissions
LOCK=$JOURNAL.lock
DOM=$SHARED/domxml

# as UID CMD...: as that user and group, no other groups
as() {
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"
}
# run [UID] POINT PROPERTY VMID: the program on $R (as UID, default root), with
# --lock-wait 1; sets RC and ERR
run() {
	local who=()
	case $1 in [0-9]*) who=(as "$1"); shift ;; esac
	ERR=$("${who[@]}" env -i hostusb="$2" _hook_domxml="$DOM" vmId="$3" timeout 20 "$HOSTUSB" --root "$R" \
		--lock-wait 1 "$1" 2>&1 >/dev/null)
	RC=$?
}
lock_state() { stat -c '%a %u:%g' "$LOCK" 2>&1; }
# a fresh journal directory of the hook's user, as on a host where vdsm made it
fresh() {
	rm -rf "$R/var/run/vdsm"
	mkdir -p "$JDIR" && chown "$VDSM:$VDSM" "$R/var/run/vdsm" "$JDIR"
	chown 0:0 "$R/dev/bus/usb/002/003"
	: >"$JOURNAL"   # after_vm_destroy takes the lock only when there is a journal
	cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM" && chown "$VDSM:$VDSM" "$DOM"
}
# holder UID: UID opens the lock as it can (read-only) and holds it (HOLDER)
holder() {
	local i
	# shellcheck disable=SC2016  # $1 is the inner bash's
	(exec setpriv --reuid="$1" --regid="$1" --clear-groups -- bash -c 'exec 9<"$1" && flock -x 9 && exec sleep 30' \
		_ "$LOCK") &
	HOLDER=$!
	for ((i = 0; i < 250; i++)); do
		flock -n "$LOCK" true || return 0
		sleep 0.02
	done
}
# cannot_open UID: UID cannot open the lock to hold it: why
cannot_open() {
	local out
	out=$(as "$1" flock -x -n "$LOCK" true 2>&1) && echo "it can" && return
	echo "${out##*: }"
}
release() { kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null; }

# --- made by root: 0600, owned like the journal's directory ------------------
fresh
run before_vm_start 0x0781:0x5567 "$VM1"
check_eq "root makes the lock 0600, owned like the journal's directory" "$RC:$(lock_state)" "0:600 $VDSM:$VDSM"
check_eq "another user cannot open the lock, so cannot hold it" "$(cannot_open "$NOBODY")" "Permission denied"
run "$VDSM" after_vm_destroy "" "$VM2"
check_eq "the hook's user opens it (a destroy with nothing to give back)" "$RC:$ERR" "0:"

# --- root and the hook's user share it ----------------------------------------
holder 0
run "$VDSM" after_vm_destroy "" "$VM2"
check_eq "held by root: the hook's user waits, then fails" "$RC" 2
check_eq "held: the message says it is held, without guessing by whom" "$ERR" \
	"hostusb: $LOCK: the lock is still held after 1 s (lslocks shows which process holds it)"
release
holder "$VDSM"
run after_vm_destroy "" "$VM2"
check_eq "held by the hook's user: root waits, then fails" "$RC:$ERR" \
	"2:hostusb: $LOCK: the lock is still held after 1 s (lslocks shows which process holds it)"
release
run after_vm_destroy 0x0781:0x5567 "$VM1"
check_eq "released: root's destroy gives the device back" "$RC:$ERR:$(stat -c %u:%g "$R/dev/bus/usb/002/003")" \
	"0:hostusb: VM $VM1: gave back /dev/bus/usb/002/003 (0x0781:0x5567 port 2-2, bus 2 device 3) to 0:0 mode 0600:0:0"

# --- a lock file an older version left 0644 -----------------------------------
fresh
: >"$LOCK" && chmod 0644 "$LOCK"
run before_vm_start 0x0781:0x5567 "$VM1"
check_eq "old 0644 root:root lock, run as root: made 0600 and the directory's" "$RC:$ERR:$(lock_state)" \
	"0:hostusb: VM $VM1: gave /dev/bus/usb/002/003 (0x0781:0x5567 port 2-2, bus 2 device 3) to 107:107; recorded owner 0:0 mode 0600:600 $VDSM:$VDSM"
run after_vm_destroy 0x0781:0x5567 "$VM1"

fresh
: >"$LOCK" && chmod 0644 "$LOCK" && chown "$VDSM:$VDSM" "$LOCK"
run "$VDSM" after_vm_destroy "" "$VM2"
check_eq "old 0644 lock of the hook's user, run as that user: made 0600" "$RC:$ERR:$(lock_state)" \
	"0::600 $VDSM:$VDSM"

fresh
: >"$LOCK" && chmod 0664 "$LOCK" && chown "$VDSM:$VDSM" "$LOCK"
run after_vm_destroy "" "$VM2"
check_eq "0664 lock, run as root: made 0600" "$RC:$ERR:$(lock_state)" "0::600 $VDSM:$VDSM"

fresh
: >"$LOCK" && chmod 0644 "$LOCK"
run "$VDSM" after_vm_destroy "" "$VM2"
check_eq "old 0644 root:root lock, run as the hook's user: refused, the file left as it is" \
	"$RC:$(lock_state)" "2:644 0:0"
check_eq "refused: one line naming the file, the danger and the fix" "$ERR" \
	"hostusb: $LOCK: mode 0644, owner 0:0: others may open it and hold the lock, blocking every start and destroy; as root: chmod 0600 $LOCK && chown $VDSM:$VDSM $LOCK"
chmod 0600 "$LOCK" && chown "$VDSM:$VDSM" "$LOCK"
run "$VDSM" after_vm_destroy "" "$VM2"
check_eq "refused: the fix it names works" "$RC:$ERR" "0:"

# --- another user opened the old 0644 file before it was fixed, and holds it --
fresh
: >"$LOCK" && chmod 0644 "$LOCK"
holder "$NOBODY"
run before_vm_start 0x0781:0x5567 "$VM1"
check_eq "held through an old 0644 file: the start fails, nothing changed" \
	"$RC:$(stat -c %u:%g "$R/dev/bus/usb/002/003"):$(cat "$JOURNAL" 2>/dev/null)" "2:0:0:"
check_eq "held through an old 0644 file: said, no guess at who; the file fixed all the same" \
	"$ERR:$(lock_state)" \
	"hostusb: $LOCK: the lock is still held after 1 s (lslocks shows which process holds it):600 $VDSM:$VDSM"
release
check_eq "fixed: that user cannot open it again" "$(cannot_open "$NOBODY")" "Permission denied"
run before_vm_start 0x0781:0x5567 "$VM1"
check_eq "released: the start succeeds" "$RC:$ERR:$(stat -c %u:%g "$R/dev/bus/usb/002/003")" \
	"0:hostusb: VM $VM1: gave /dev/bus/usb/002/003 (0x0781:0x5567 port 2-2, bus 2 device 3) to 107:107; recorded owner 0:0 mode 0600:107:107"
