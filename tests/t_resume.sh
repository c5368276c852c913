# SPDX-License-Identifier: GPL-2.0-or-later
# Resuming a hibernated VM, in VDSM's order: before_vm_start, then
# after_vm_destroy (the hibernation), the host's devices renumbered (a
# re-plug, or a reboot that empties /var/run), before_vm_start again (its
# output ignored), then before_vm_dehibernate on the XML saved at the first
# start.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/fixture.sh"
. "$SRCDIR/tests/hooks.sh"

hook_dirs before_vm_start after_vm_destroy before_vm_dehibernate

if ! is_root; then
	skip "resume tests" "need root to mknod device nodes and chown them"
	exit 0
fi

# host NAME DEVICE...: a fresh root (bus 1, a hub's worth of ports) with each
# DEVICE "PORT:VID:PID:DEVNUM[:SERIAL]"; KEEP_JOURNAL=1 keeps the journal of
# the root before (a re-plug), else it is gone (a reboot)
host() {
	local name=$1 spec port vid pid dev serial journal=
	shift
	[ "${KEEP_JOURNAL:-0}" = 1 ] && [ -n "${R:-}" ] && journal=$(cat "$R/var/run/vdsm/hooks/hostusb-permissions" 2>/dev/null)
	R=$TESTTMP/root.$name
	rm -rf "$R"
	fixture_root "$R"
	fixture_bus "$R" 1
	for spec in "$@"; do
		IFS=: read -r port vid pid dev serial <<<"$spec"
		if [ -n "$serial" ]; then
			fixture_device "$R" "$port" "$vid" "$pid" "$dev" 0600 "$serial"
		else
			fixture_device "$R" "$port" "$vid" "$pid" "$dev"
		fi
	done
	JOURNAL=$R/var/run/vdsm/hooks/hostusb-permissions
	if [ -n "$journal" ]; then
		mkdir -p "${JOURNAL%/*}"
		printf '%s\n' "$journal" >"$JOURNAL"
	fi
}

# hibernate PROPERTY: a start on a fresh domain XML, whose result is the saved
# XML ($SAVED), then the destroy that ends the hibernation
hibernate() {
	DOM=$TESTTMP/saved.$1
	cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
	hook before_vm_start "$2"
	[ "$RC" = 0 ] || fail "hibernate $1: start" "$RC: $ERR"
	SAVED=$DOM
	hook after_vm_destroy "$2"
	[ "$RC" = 0 ] || fail "hibernate $1: destroy" "$RC: $ERR"
}

# resume NAME PROPERTY: the start on a freshly built XML, then
# before_vm_dehibernate on the saved one; RC and ERR are the latter's
resume() {
	DOM=$TESTTMP/fresh.$1
	cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
	hook before_vm_start "$2"
	START_RC=$RC
	DOM=$SAVED
	BEFORE=$(state)
	hook before_vm_dehibernate "$2"
}

state() { printf '%s|%s|%s' "$(cat "$JOURNAL" 2>/dev/null)" "$(md5sum <"$SAVED")" \
	"$(find "$R/dev" -type c -printf '%p %u:%g %m\n' | sort)"; }
fix="start the VM from scratch, discarding its saved state (hibernation or memory snapshot)"

# --- two identical licence keys: the saved address is the other key after a reboot
host keys 1-1:0529:0001:2:KEY-A 1-2:0529:0001:3:KEY-B
hibernate keys 0x0529:0x0001#KEY-B
check "keys: the saved XML names bus 1 device 3" grep -q "<address bus='1' device='3'/>" "$SAVED"
host keys-rebooted 1-1:0529:0001:3:KEY-A 1-2:0529:0001:2:KEY-B
resume keys 0x0529:0x0001#KEY-B
check_eq "keys: the start before takes KEY-B, now device 2" "$START_RC:$(owner 1 2):$(owner 1 3)" "0:107:107:0:0"
check_eq "keys: before_vm_dehibernate refuses, exit 2" "$RC" 2
check_eq "keys: one line, naming the saved address, what is there, what the VM got, what to do" "$ERR" \
"hostusb: saved domain XML, line 52: hostdev 0529:0001 at bus 1 device 3: there is now 0529:0001 serial KEY-A on port 1-1 (bus 1 device 3), held by no VM; this VM was given 0529:0001 serial KEY-B on port 1-2 (bus 1 device 2) instead: resuming would attach another device than the VM's; $fix"
check_eq "keys: nothing changed by the refusal" "$(state)" "$BEFORE"
hook after_vm_destroy 0x0529:0x0001#KEY-B
check_eq "keys: the destroy after the failed resume gives KEY-B back" "$RC:$(owner 1 2):$(cat "$JOURNAL")" "0:0:0:"
check_contains "keys: the destroy says which node it gave back" "$ERR" \
	"hostusb: VM $VM1: gave back /dev/bus/usb/001/002 (0x0529:0x0001 serial KEY-B, bus 1 device 2) to 0:0"

# --- nothing moved: the resume goes on, silently
host still 1-1:0529:0001:2:KEY-A 1-2:0529:0001:3:KEY-B 1-3:0781:5567:4
hibernate still "0x0529:0x0001#KEY-B&0x0781:0x5567"
resume still "0x0529:0x0001#KEY-B&0x0781:0x5567"
check_eq "nothing moved: accepted, nothing said" "$START_RC:$RC:$ERR" "0:0:"
check_eq "nothing moved: nothing changed" "$(state)" "$BEFORE"

# --- a re-plug: the saved address now holds a device of another id
host replug-other 1-1:0529:0001:2:KEY-A 1-2:0529:0001:3:KEY-B 1-3:0781:5567:4 1-4:046d:c52b:5
hook before_vm_start 0x046d:0xc52b "$VM2"    # another VM's line, which the re-plug keeps
hibernate replug-other 0x0529:0x0001#KEY-B
KEEP_JOURNAL=1 host replug-other2 1-1:0529:0001:2:KEY-A 1-2:0529:0001:6:KEY-B 1-3:0781:5567:3 1-4:046d:c52b:5
resume replug-other 0x0529:0x0001#KEY-B
check_eq "re-plug, another id there: refused" "$START_RC:$RC" "0:2"
check_contains "re-plug, another id there: names it" "$ERR" \
	"hostdev 0529:0001 at bus 1 device 3: there is now 0781:5567 no serial on port 1-3 (bus 1 device 3), held by no VM; this VM was given 0529:0001 serial KEY-B on port 1-2 (bus 1 device 6) instead"
check_eq "re-plug, another id there: nothing changed" "$(state)" "$BEFORE"
check_contains "re-plug: the other VM's line is still there" "$(cat "$JOURNAL")" ":0:0:$VM2:0600"

# --- a re-plug: nothing at the saved address any more
KEEP_JOURNAL=1 host replug-none 1-1:0529:0001:2:KEY-A 1-2:0529:0001:7:KEY-B 1-3:0781:5567:4 1-4:046d:c52b:5
resume replug-none 0x0529:0x0001#KEY-B
check_eq "re-plug, nothing there: refused" "$START_RC:$RC" "0:2"
check_contains "re-plug, nothing there: says so" "$ERR" \
	"hostdev 0529:0001 at bus 1 device 3: no device is there now; this VM was given 0529:0001 serial KEY-B on port 1-2 (bus 1 device 7) instead"

# --- the saved address holds this VM's device: the same key, re-plugged to the same number
KEEP_JOURNAL=1 host replug-same 1-1:0529:0001:2:KEY-A 1-2:0529:0001:3:KEY-B 1-4:046d:c52b:5
resume replug-same 0x0529:0x0001#KEY-B
check_eq "re-plug, the same device at the saved address: accepted" "$START_RC:$RC:$ERR" "0:0:"

# --- a hostdev without an address: accepted while its id is unique, wherever the device went
host stick 1-3:0781:5567:4
hibernate stick 0x0781:0x5567
check "stick: the saved XML has no address" grep -qv "address bus=" "$SAVED"
host stick-rebooted 1-5:0781:5567:9
resume stick 0x0781:0x5567
check_eq "no address, unique id, renumbered: accepted" "$START_RC:$RC:$ERR" "0:0:"
host stick-twice 1-5:0781:5567:9 1-6:0781:5567:2
resume stick-twice "?0x0781:0x5567"
check_eq "no address, a second device of the id now: refused" "$START_RC:$RC" "0:2"
check_contains "no address, a second device: says libvirt could not choose" "$ERR" \
	"hostdev 0781:5567 (no address): 2 devices have that id now"

# --- an engine-made USB hostdev of an id the property does not name is left alone
host engine 1-1:0529:0001:2:KEY-A 1-2:0529:0001:3:KEY-B 1-3:0781:5567:4
hibernate engine 0x0529:0x0001#KEY-B
cp "$SAVED" "$TESTTMP/saved.engine.orig"
sed -i "s|</devices>|<hostdev mode='subsystem' type='usb' managed='no'><source><vendor id='0x046d'/><product id='0x0a44'/><address bus='1' device='9'/></source><address type='usb' bus='0' port='2'/></hostdev></devices>|" "$SAVED"
resume engine 0x0529:0x0001#KEY-B
check_eq "engine's hostdev of an id not asked for: left alone" "$START_RC:$RC:$ERR" "0:0:"
host engine-rebooted 1-1:0529:0001:3:KEY-A 1-2:0529:0001:2:KEY-B 1-3:0781:5567:4
resume engine 0x0529:0x0001#KEY-B
check_eq "engine's hostdev and a moved key: one line, for the key only" "$RC:$(printf '%s\n' "$ERR" | wc -l)" "2:1"
check_contains "engine's hostdev and a moved key: the key's" "$ERR" "hostdev 0529:0001 at bus 1 device 3:"
sed "s|</devices>|<hostdev type='usb'><source><vendor id='0x046d'/><product id='0x0a44'/><address bus='1' device='2'/></source></hostdev></devices>|" \
	"$TESTTMP/saved.engine.orig" >"$SAVED"
resume engine 0x0529:0x0001#KEY-B
check_eq "a hostdev of another id at the address of this VM's device: refused" "$RC" 2
check_contains "a hostdev of another id at the address of this VM's device: its own line" "$ERR" \
	"hostusb: saved domain XML, line 59: hostdev 046d:0a44 at bus 1 device 2: there is now 0529:0001 serial KEY-B on port 1-2 (bus 1 device 2), held by VM $VM1; this VM holds no device of that id:"

# --- the guest's address of a hostdev (<address type='usb' bus port>) is not its source
host guest 1-1:0529:0001:2:KEY-A 1-2:0529:0001:3:KEY-B
hibernate guest 0x0529:0x0001#KEY-B
sed -i "s|</source>|</source><address type='usb' bus='1' port='1' device='2'/>|" "$SAVED"
resume guest 0x0529:0x0001#KEY-B
check_eq "the guest-side address is not read as the source's" "$RC:$ERR" "0:"

# --- no property: passes at once, whatever the XML
SAVED=$TESTTMP/missing.xml
DOM=$SAVED
hook before_vm_dehibernate ""
check_eq "no property: exit 0 at once, the domain file not even read" "$RC:$ERR" "0:"

# --- a saved XML that cannot be read is refused
host broken 1-1:0529:0001:2:KEY-A 1-2:0529:0001:3:KEY-B
hibernate broken 0x0529:0x0001#KEY-B
sed -i "s|<vendor id='0x0529'/>|<vendor id='0x05z9'/>|" "$SAVED"
resume broken 0x0529:0x0001#KEY-B
check_contains "a vendor id libvirt would not read: refused" "$RC:$ERR" \
	"2:hostusb: $SAVED: line 52: <hostdev> source/vendor@id \"0x05z9\": not a number libvirt reads here"
printf '<domain><devices><hostdev type="usb">' >"$SAVED"
hook before_vm_dehibernate 0x0529:0x0001#KEY-B
check_contains "a truncated saved XML: refused with its line" "$RC:$ERR" "2:hostusb: $SAVED: line 1:"
