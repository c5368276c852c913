# SPDX-License-Identifier: GPL-2.0-or-later
# Every command example in README and hostusb.8 runs as printed.  The
# examples are taken from the documents themselves: in README a line of an
# indented block that starts with a prompt ("    $ " or "    # "), in the
# page a line inside .EX/.EE that does; a line ending in a backslash goes on
# on the next.  Each runs on the example host of `make demo`
# (tests/example-host.sh) through --root, with stand-ins for what the test
# cannot have: virsh prints the sample domain, /tmp, the hook directory and
# vdsm.log are under the test's directory, and the sudo examples run in a
# private mount namespace whose /etc/sudoers.d holds only the shipped rule.
# An example no rule below knows is a failure; an example whose feature the
# program lacks (found by asking the program, not assumed) is a SKIP naming it.
# Beside the commands: README's output lines (the audit lines, release's,
# the refused property) are the program's own, README's list of installed
# files is what make install installs, and HACKING's map names every unit.
. "$SRCDIR/tests/lib.sh"

VMID=6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de

# HACKING's "How the program is built" names every unit of the program: each
# source file, and each header without one, is a word of its map
map=$(sed -n '/^How the program is built$/,/^Behaviour in detail$/p' "$SRCDIR/HACKING")
unnamed=
for unit in "$SRCDIR"/*.c "$SRCDIR"/*.h; do
	unit=${unit##*/}
	case $unit in *.h) [ -e "$SRCDIR/${unit%.h}.c" ] && continue ;; esac
	printf '%s\n' "$map" | grep -qE "(^| )${unit//./\\.}( |$)" || unnamed="$unnamed $unit"
done
if [ -z "$map" ]; then
	fail "HACKING names every unit" "no section \"How the program is built\" in HACKING"
else
	check_eq "HACKING names every unit" "$unnamed" ""
fi

# README is the administrator's: short, in the order they work, and it sends
# developers to HACKING
lines=$(wc -l <"$SRCDIR/README")
if [ "$lines" -le 320 ]; then pass "README: at most 320 lines ($lines)"; else fail "README: at most 320 lines" "$lines lines"; fi
sections=$(grep -B1 -E '^-{3,}$' "$SRCDIR/README" | grep -vE '^(-{3,}|--)$' | tr '\n' '|')
check_eq "README: the sections in the administrator's order" "$sections" \
	"Install|Define the property on the engine|Choose devices|Check a host|Troubleshooting|Several hosts|Hibernation and snapshots|Upgrade from the Python hook|Uninstall|Limits|Licence|"
check_contains "README: developers are sent to HACKING" "$(tr '\n' ' ' <"$SRCDIR/README")" "HACKING is for developers"

# README's example of a refused property is the program's message for the
# value the example names: the entry as printed, the entries before it valid
shown=$(sed -n 's/^    \(hostusb: hostusb property, entry [0-9]* .*\)/\1/p' "$SRCDIR/README")
bad=$(printf '%s' "$shown" | sed -n 's/^hostusb: hostusb property, entry \([0-9]*\) "\([^"]*\)".*/\1 \2/p')
if [ -z "$bad" ]; then
	fail "README property error: shown" "no line '    hostusb: hostusb property, entry N \"ENTRY\": ...' in README"
else
	value=
	for ((i = 1; i < ${bad%% *}; i++)); do value="${value}0x0781:0x5567&"; done
	value="$value${bad#* }"
	said=$(env -i hostusb="$value" _hook_domxml=/nonexistent vmId=$VMID "$HOSTUSB" --dry-run before_vm_start 2>&1)
	check_eq "README property error: the program's message" "$said" "$shown"
fi

if ! is_root; then
	skip "document examples" "needs root to make the example host's device nodes"
	exit 0
fi
# shellcheck source-path=SCRIPTDIR source=fixture.sh
. "$SRCDIR/tests/fixture.sh"
# shellcheck source-path=SCRIPTDIR source=example-host.sh
. "$SRCDIR/tests/example-host.sh"

# readme_examples FILE: README's command examples, one a line, prompt first
readme_examples() {
	awk '
		function more(cmd,   next_line) {
			while (cmd ~ /\\$/ && (getline next_line) > 0) {
				sub(/[ ]*\\$/, " ", cmd); sub(/^[ ]+/, "", next_line); cmd = cmd next_line
			}
			return cmd
		}
		/^    [$#] / { print more(substr($0, 5)) }' "$1"
}
# page_examples FILE: the same from the page's .EX blocks, roff escapes undone
page_examples() {
	awk '
		function more(cmd,   next_line) {
			while (cmd ~ /\\e$/ && (getline next_line) > 0) {
				sub(/[ ]*\\e$/, " ", cmd); sub(/^[ ]+/, "", next_line); cmd = cmd next_line
			}
			return cmd
		}
		/^\.EX/ { inside = 1; next }
		/^\.EE/ { inside = 0; next }
		inside && /^[$#] / { print more($0) }' "$1" |
		sed -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\(ha/^/g' -e 's/\\(dq/"/g' -e 's/\\&//g' -e 's/\\e/\\/g'
}

# what the program can do, asked of the program
has_release() { "$HOSTUSB" --help 2>&1 | grep -q 'release'; }
has_dehibernate() { "$HOSTUSB" --help 2>&1 | grep -q 'before_vm_dehibernate'; }
# audit_lines: what a start, its destroy and a second destroy print on the
# example host (a start printing nothing: nothing at all)
audit_lines() {
	local root=$TESTTMP/audit-root hook out
	rm -rf "$root" && example_host "$root" && cp "$SRCDIR/tests/data/ovirt-domain.xml" "$TESTTMP/audit.xml" || return
	for hook in before_vm_start after_vm_destroy after_vm_destroy; do
		out=$({ env -i hostusb=0x0781:0x5567 _hook_domxml="$TESTTMP/audit.xml" vmId=$VMID \
			"$HOSTUSB" --root "$root" "$hook" >/dev/null; } 2>&1) || out="$hook failed: $out"
		[ "$hook" = before_vm_start ] && [ -z "$out" ] && return
		printf '%s\n' "$out"
	done
}
# shown_after DOC LINE: the lines a document shows below the example LINE:
# in README to the next empty line, less their indentation; in the page to
# the end of the .EX block, roff escapes undone
shown_after() {
	if [ "$1" = README ]; then
		LINE="    $2" awk '
			found && /^$/ { exit }
			found { print substr($0, 5) }
			$0 == ENVIRON["LINE"] { found = 1 }' "$SRCDIR/README"
	else
		awk '/^\.EX/ { inside = 1; next } /^\.EE/ { inside = 0; print ""; next } inside' "$SRCDIR/hostusb.8" |
			sed -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\e/\\/g' |
			LINE=$2 awk 'found && /^([$#] |$)/ { exit } found { print } $0 == ENVIRON["LINE"] { found = 1 }'
	fi
}

# fresh_place: the example host, the stand-ins, an empty /tmp; sets EX, ROOT
fresh_place() {
	EX=$TESTTMP/ex
	ROOT=$EX/root
	rm -rf "$EX" && mkdir -p "$EX/bin" "$EX/tmp" || return 1
	example_host "$ROOT" || return 1
	printf '#!/bin/sh\nexec "%s" --root "%s" "$@"\n' "$HOSTUSB" "$ROOT" >"$EX/bin/hostusb"
	# shellcheck disable=SC2016 # the stand-ins expand them
	printf '#!/bin/sh\n[ "$1 $2" = "-r dumpxml" ] && [ -n "$3" ] && exec cat "%s"\necho "virsh stand-in: $*" >&2; exit 1\n' \
		"$SRCDIR/tests/data/ovirt-domain.xml" >"$EX/bin/virsh"
	local point
	for point in before_vm_start after_vm_destroy before_vm_migrate_source before_vm_dehibernate; do
		mkdir -p "$ROOT/usr/libexec/vdsm/hooks/$point"
		# as VDSM runs an entry: argv[0] is the path it was run by
		# shellcheck disable=SC2016 # the entry expands them
		printf '#!/bin/bash\nexec -a "$0" "%s" --root "%s" "$@"\n' "$HOSTUSB" "$ROOT" \
			>"$ROOT/usr/libexec/vdsm/hooks/$point/50_hostusb"
	done
	chmod 0755 "$EX/bin/hostusb" "$EX/bin/virsh" "$ROOT"/usr/libexec/vdsm/hooks/*/50_hostusb
}
# as_printed CMD: the command with the host paths the test stands in for
as_printed() {
	printf '%s' "$1" | sed -e "s|/tmp/|$EX/tmp/|g" -e "s|/usr/libexec/vdsm/hooks|$ROOT/usr/libexec/vdsm/hooks|g" \
		-e "s|/var/log/vdsm/vdsm.log|$EX/vdsm.log|g"
}
# run CMD: runs the example (after as_printed) in $CWD; sets OUT, ERR, RC
run() {
	local cmd
	cmd=$(as_printed "$1")
	OUT=$(cd "$CWD" && PATH=$EX/bin:$PATH bash -c "$cmd" 2>"$EX/err")
	RC=$?
	ERR=$(cat "$EX/err")
}
owners() { stat -c '%u:%g %a' "$ROOT"/dev/bus/usb/001/* | tr '\n' ' '; }

# in_namespace SCRIPT: bash SCRIPT in a private mount namespace where
# /etc/sudoers.d holds only the shipped rule and /etc/passwd has user vdsm
in_namespace() {
	local ns=$TESTTMP/ns
	rm -rf "$ns" && mkdir -p "$ns/sudoers.d" || return 1
	install -m 0440 "$SRCDIR/sudoers.vdsm_hook_hostusb" "$ns/sudoers.d/50_vdsm_hook_hostusb" || return 1
	cp /etc/passwd "$ns/passwd" && cp /etc/group "$ns/group" && cp -p /etc/shadow "$ns/shadow" || return 1
	# a locked account, as VDSM's package makes it (PAM's account check wants its shadow line)
	if ! grep -q '^vdsm:' "$ns/passwd"; then
		echo 'vdsm:x:36:36:Node Virtualization Manager:/var/lib/vdsm:/sbin/nologin' >>"$ns/passwd"
		echo 'vdsm:!:20000::::::' >>"$ns/shadow"
	fi
	if ! grep -q '^qemu:' "$ns/passwd"; then
		echo 'qemu:x:107:107:qemu user:/:/sbin/nologin' >>"$ns/passwd"
		echo 'qemu:!:20000::::::' >>"$ns/shadow"
	fi
	grep -q '^kvm:' "$ns/group" || echo 'kvm:x:36:' >>"$ns/group"
	grep -q '^qemu:' "$ns/group" || echo 'qemu:x:107:' >>"$ns/group"
	# shellcheck disable=SC2016 # the inner bash expands them
	unshare -m --propagation private bash -c '
		mount --bind "$1/sudoers.d" /etc/sudoers.d && mount --bind "$1/passwd" /etc/passwd &&
			mount --bind "$1/group" /etc/group && mount --bind "$1/shadow" /etc/shadow || exit 99
		exec bash "$2"' ns "$ns" "$1"
}
# sudo_reason: empty when the sudo examples can run here, else why not
sudo_reason() {
	local tool
	for tool in sudo unshare mount; do
		command -v "$tool" >/dev/null || { printf '%s is not installed (apt-get install sudo util-linux)' "$tool"; return; }
	done
	[ -r /etc/sudoers ] || { printf 'no /etc/sudoers (apt-get install sudo)'; return; }
	local why
	if ! why=$(unshare -m --propagation private true 2>&1); then
		printf 'unshare -m fails here (a chroot or a container without CAP_SYS_ADMIN): %s' "$why"
		return
	fi
	printf 'true\n' >"$TESTTMP/probe.sh"
	in_namespace "$TESTTMP/probe.sh" >/dev/null 2>&1 || printf 'cannot bind-mount over /etc in a private mount namespace'
}

# sudo_example NAME CMD: runs a sudo example in the namespace, and the same
# with /etc/shadow for the node path, which the rule must refuse
sudo_example() {
	local name=$1 cmd=$2 reason out rc
	reason=$(sudo_reason)
	if [ -n "$reason" ]; then
		skip "$name" "$reason"
		return
	fi
	case $cmd in *" /bin/chmod "*)
		if ! grep -q '^[^#].*/bin/chmod' "$SRCDIR/sudoers.vdsm_hook_hostusb"; then
			skip "$name" "the sudoers rule has no chmod yet"
			return
		fi ;;
	esac
	printf '%s\n' "$cmd" >"$TESTTMP/sudo.sh"
	out=$(in_namespace "$TESTTMP/sudo.sh" 2>&1)
	rc=$?
	check_eq "$name: exit status" "$rc" 0
	case $cmd in
	"sudo -u vdsm sudo -n -l /bin/"* | "sudo -u vdsm sudo -n -l -u "*)
		local shown=${cmd#sudo -u vdsm sudo -n -l }
		case $shown in "-u "*) shown=${shown#-u * } ;; esac
		check_eq "$name: prints the command" "$out" "$shown"
		printf '%s\n' "$cmd" | sed 's|/dev/bus/usb/[0-9]*/[0-9]*|/etc/shadow|' >"$TESTTMP/sudo.sh"
		# refused: status 1 and nothing printed (a broken account would say so)
		out=$(in_namespace "$TESTTMP/sudo.sh" 2>&1)
		check_eq "$name: the same for /etc/shadow is refused" "$?:$out" "1:" ;;
	"sudo -l -U vdsm")
		check_contains "$name: lists the rule" "$out" "/bin/chown -h"
		check_contains "$name: as root, without a password" "$out" "(root) NOPASSWD:" ;;
	*) fail "$name" "no rule of tests/t_doc_examples.sh runs this sudo example: $cmd" ;;
	esac
}

# example DOC N CMD: one example, by what it shows
example() {
	local doc=$1 n=$2 cmd=${3#[\$#] } name before
	name="$doc example $n (${cmd:0:40})"
	case $cmd in
	"cd "*)
		CWD=$(as_printed "${cmd#cd }")
		if [ -d "$CWD" ]; then pass "$name: the directory exists"; else fail "$name" "no $CWD"; fi ;;
	"virsh -r dumpxml "*)
		run "$cmd"
		check_eq "$name: exit status" "$RC" 0 ;;
	*--dry-run*)
		before=$(owners)
		run "$cmd"
		check_eq "$name: exit status" "$RC" 0
		check_contains "$name: the patched XML" "$OUT" "<hostdev mode='subsystem' type='usb'>"
		check_contains "$name: the plan" "$ERR" "/dev/bus/usb/001/"
		check_eq "$name: nothing changed" "$(owners)" "$before" ;;
	"hostusb list"* | hostusb)
		run "$cmd"
		check_eq "$name: exit status" "$RC" 0
		case $cmd in
		*--property*) check_contains "$name: the values" "$OUT" "0x0781:0x5567" ;;
		*) check_contains "$name: the table" "$OUT" "BUS DEV PORT  ID" ;;
		esac ;;
	"hostusb release "*)
		if ! has_release; then
			skip "$name" "hostusb has no release command yet"
			return
		fi
		# the VM holds first what the document shows given back (the stick
		# when it shows nothing): "gave back NODE (0xVVVV:0xPPPP serial S, ..."
		local uuid=${cmd#hostusb release } shown entry node
		shown=$(shown_after "$doc" "# $cmd")
		entry=$(printf '%s\n' "$shown" | sed -n 's/.* gave back [^ ]* (\(0x[0-9a-f]*:0x[0-9a-f]*\) serial \([^,]*\),.*/\1#\2/p' | head -1)
		node=$(printf '%s\n' "$shown" | sed -n 's/.* gave back \([^ ]*\) .*/\1/p' | head -1)
		cp "$SRCDIR/tests/data/ovirt-domain.xml" "$EX/tmp/held.xml"
		env -i hostusb="${entry:-0x0781:0x5567}" _hook_domxml="$EX/tmp/held.xml" vmId="$uuid" \
			"$HOSTUSB" --root "$ROOT" before_vm_start >/dev/null 2>&1
		node=$ROOT${node:-/dev/bus/usb/001/005}
		check_eq "$name: a device held first" "$(stat -c %u:%g "$node" 2>&1)" 107:107
		run "$cmd"
		check_eq "$name: exit status" "$RC" 0
		check_contains "$name: a line per node" "$OUT$ERR" "hostusb: "
		check_eq "$name: given back" "$(stat -c %u:%g "$node")" 0:0
		if [ -n "$shown" ]; then
			check_eq "$name: prints what the document shows" "$OUT$ERR" "$shown"
		fi ;;
	"grep "*" /var/log/vdsm/vdsm.log")
		local lines
		lines=$(audit_lines | head -1)
		if [ -z "$lines" ]; then
			skip "$name" "hostusb prints no audit line at a start yet"
			return
		fi
		# VDSM's hook runner logs a script's stderr as "SCRIPT: rc=RC err=STDERR"
		{
			printf '2026-12-06 01:00:00,000+0000 INFO  (vm/%s) [virt.vm] starting\n' "${VMID:0:8}"
			printf '2026-12-06 01:00:01,000+0000 INFO  (vm/%s) [root] /usr/libexec/vdsm/hooks/before_vm_start/50_hostusb: rc=0 err=%s\n' \
				"${VMID:0:8}" "$(printf '%s' "$lines" | sed 's/$/\\n/' | tr -d '\n')"
		} >"$EX/vdsm.log"
		run "$cmd"
		check_eq "$name: exit status" "$RC" 0
		check_contains "$name: the start's lines" "$OUT" "$(printf '%s' "$lines" | head -1)" ;;
	*) fail "$name" "no rule of tests/t_doc_examples.sh runs this example" ;;
	esac
}

# examples_of DOC FILE EXTRACT: runs every example of one document
examples_of() {
	local doc=$1 file=$2 extract=$3 n=0 cmd kinds=""
	if ! fresh_place; then
		fail "$doc examples" "cannot make the example host under $TESTTMP"
		return
	fi
	CWD=$EX/tmp
	while IFS= read -r cmd; do
		n=$((n + 1))
		case ${cmd#[\$#] } in sudo\ *)
			sudo_example "$doc example $n (${cmd:2:40})" "${cmd#[\$#] }"
			kinds="$kinds sudo"
			continue ;;
		esac
		example "$doc" "$n" "$cmd"
		case $cmd in *--dry-run*) kinds="$kinds dry-run" ;; *"hostusb list"*) kinds="$kinds list" ;; esac
	done < <("$extract" "$file")
	# the examples README and the page must show, found where the test looks
	for want in dry-run list sudo; do
		case "$kinds " in *" $want "*) pass "$doc examples: a $want example found" ;;
		*) fail "$doc examples: a $want example found" "none among the $n examples of $file" ;; esac
	done
}

examples_of README "$SRCDIR/README" readme_examples
examples_of hostusb.8 "$SRCDIR/hostusb.8" page_examples

# README: no command shown without a prompt, where the test would miss it
unprompted=$(grep -nE '^    (hostusb( |=|$)|sudo |\./50_hostusb|virsh |grep hostusb)' "$SRCDIR/README" | head -3)
check_eq "README examples: every hostusb command has a prompt" "$unprompted" ""

# the page: no command shown without a prompt in an example block
unprompted=$(awk '/^\.EX/ { inside = 1; next } /^\.EE/ { inside = 0 }
	inside && /^(hostusb|sudo|grep|virsh|\.\/50_hostusb)[ =]/' "$SRCDIR/hostusb.8" | head -3)
check_eq "hostusb.8 examples: every hostusb command has a prompt" "$unprompted" ""

# README's "Several hosts" quotes what a host without the device says
fresh_place
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$EX/tmp/absent.xml"
said=$(env -i hostusb='0x0529:0x0001#A1B2C3' _hook_domxml="$EX/tmp/absent.xml" vmId=$VMID \
	"$HOSTUSB" --root "$ROOT" before_vm_start 2>&1)
said=${said#hostusb: }
check_contains "README: a host without the device, as the program says it" \
	"$(tr -s '\n ' '  ' <"$SRCDIR/README")" "\"${said% (*}\""

# README's audit lines are the program's own, for the VM, device and owners they name
shown=$(sed -n 's/^    \(hostusb: VM .*\)/\1/p' "$SRCDIR/README")
printed=$(audit_lines)
if [ -z "$shown" ]; then
	fail "README audit lines: shown" "no line '    hostusb: VM ...' in README"
elif [ -z "$printed" ]; then
	skip "README audit lines: the program's own" "hostusb prints no audit line at a start yet"
else
	strange=$(printf '%s\n' "$shown" | grep -vxF -f <(printf '%s\n' "$printed"))
	check_eq "README audit lines: the program's own" "$strange" ""
fi

# README's list of installed files is what make install installs
dest=$TESTTMP/dest
rm -rf "$dest"
if make -s --no-print-directory -C "$SRCDIR" install DESTDIR="$dest" >"$TESTTMP/install.log" 2>&1; then
	listed=$(sed -n '/^Either way the host gets$/,/^(the RPM/p' "$SRCDIR/README" | awk '$1 ~ /^\// { print $1 }')
	if ! has_dehibernate; then
		skip "README install list: before_vm_dehibernate" "hostusb has no before_vm_dehibernate hook point yet"
		listed=$(printf '%s\n' "$listed" | grep -v /before_vm_dehibernate/)
	fi
	installed=$(cd "$dest" && find . ! -type d | sed 's/^\.//' | LC_ALL=C sort)
	check_eq "README install list: what make install installs" "$(printf '%s\n' "$listed" | LC_ALL=C sort)" "$installed"
else
	fail "README install list: what make install installs" "make install failed: $(head -3 "$TESTTMP/install.log" | tr '\n' '|')"
fi
