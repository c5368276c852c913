# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile input: huge or binary properties, huge and malicious domain XML,
# broken sysfs attributes, a _hook_domxml that is not a file, a journal or
# lock that is not a file.  Each run gets a clear error (exit 2, one line
# "hostusb: ...") or correct output, within bounded time (timeout) and memory
# (an address-space limit, and the peak RSS measured with /usr/bin/time when
# it is there).
#
# HOSTUSB_LONG_TESTS=1: a 1 GB domain XML instead of 64 MB.
# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"
# shellcheck source=tests/fixture.sh
. "$SRCDIR/tests/fixture.sh"

LONG=${HOSTUSB_LONG_TESTS:-0}
VM1=6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de
if ! is_root; then
	skip "hostile input" "need root to mknod device nodes and chown them"
	exit 0
fi
# on a tmpfs in a private mount namespace when possible (the big documents
# cost no disk I/O there); the 1 GB document of the long test stays on disk
if [ "$LONG" != 1 ] && [ "${HOSTUSB_HOSTILE_NS:-}" != 1 ] && unshare -m true 2>/dev/null; then
	HOSTUSB_HOSTILE_NS=1 exec unshare -m bash "$SRCDIR/tests/t_hostile.sh"
fi
if [ "${HOSTUSB_HOSTILE_NS:-}" = 1 ]; then
	mount -t tmpfs -o size=512m,mode=0755 tmpfs "$TESTTMP" || exit 1
fi

# a rerun may find the fifos and broken files of the last one: start afresh
rm -rf "${TESTTMP:?}"/*
AS_LIMIT=$((64 << 20))      # address space of one run: 64 MB
RSS_LIMIT_KB=8192           # peak resident set of one run
TIME_LIMIT=20               # seconds (a 1 GB document: 120)
R=$TESTTMP/root
fixture_root "$R"
fixture_bus "$R" 1
fixture_bus "$R" 2
fixture_device "$R" 2-2 0781 5567 3
NODE=$R/dev/bus/usb/002/003
JDIR=$R/var/run/vdsm/hooks
JOURNAL=$JDIR/hostusb-permissions
DOM=$TESTTMP/domxml
HAVE_TIME=0
[ -x /usr/bin/time ] && /usr/bin/time -q -f %M true >/dev/null 2>&1 && HAVE_TIME=1
MAX_RSS=0 MAX_RSS_WHAT=""
# what a start that gives the node to qemu says (the one line of a success)
GAVE="hostusb: VM $VM1: gave /dev/bus/usb/002/003 (0x0781:0x5567 port 2-2, bus 2 device 3) to 107:107; recorded owner 0:0 mode 0600"

# bounded POINT PROPERTY [args]: runs the static binary as VDSM does, bounded
# in time and address space; sets RC, ERR, RSS (KB, or "?"), SECS
bounded() {
	local point=$1 prop=$2 t0
	shift 2
	local cmd=(env -i hostusb="$prop" _hook_domxml="$DOM" vmId="${VMID:-$VM1}" "$HOSTUSB" --root "$R" --lock-wait 2 "$@" "$point")
	[ -n "${NO_DOMXML:-}" ] && cmd=(env -i hostusb="$prop" vmId="$VM1" "$HOSTUSB" --root "$R" "$@" "$point")
	t0=$(date +%s%N)
	if [ "$HAVE_TIME" = 1 ]; then
		ERR=$(timeout -s KILL "${LIMIT:-$TIME_LIMIT}" prlimit --as="$AS_LIMIT" \
			/usr/bin/time -q -f %M -o "$TESTTMP/rss" "${cmd[@]}" 2>&1 >"$TESTTMP/stdout")
		RC=$?
		RSS=$(tail -n 1 "$TESTTMP/rss" 2>/dev/null)
	else
		ERR=$(timeout -s KILL "${LIMIT:-$TIME_LIMIT}" prlimit --as="$AS_LIMIT" "${cmd[@]}" 2>&1 >"$TESTTMP/stdout")
		RC=$?
		RSS="?"
	fi
	SECS=$((($(date +%s%N) - t0) / 1000000))ms
	if [ "$RSS" != "?" ] && [ "${RSS:-0}" -gt "$MAX_RSS" ] 2>/dev/null; then MAX_RSS=$RSS MAX_RSS_WHAT=$LABEL; fi
}
one_line() { [ "${ERR#hostusb: }" != "$ERR" ] && [ "${ERR//$'\n'/}" = "$ERR" ]; }
printable() { ! printf '%s' "$ERR" | LC_ALL=C grep -q '[^[:print:]]'; }
rss_ok() { [ "$RSS" = "?" ] || [ "${RSS:-0}" -le "$RSS_LIMIT_KB" ] 2>/dev/null; }
# the journal and the domain file are read only when they are regular files
# (never /dev/zero or a fifo)
journal() {
	if [ -f "$JOURNAL" ] && [ ! -L "$JOURNAL" ] && [ "$(stat -c %s "$JOURNAL")" -gt 4096 ]; then md5sum <"$JOURNAL"
	elif [ -f "$JOURNAL" ] && [ ! -L "$JOURNAL" ]; then cat "$JOURNAL"
	elif [ -e "$JOURNAL" ] || [ -L "$JOURNAL" ]; then stat -c %F "$JOURNAL"
	else echo none; fi
}
snapshot() {
	printf '%s|%s|%s' "$(stat -c %u:%g "$NODE")" "$(journal)" \
		"$([ -f "$DOM" ] && [ ! -L "$DOM" ] && md5sum <"$DOM")"
}
reset() { chown 0:0 "$NODE"; rm -rf "$R/var/run/vdsm"; rm -f "$DOM".hostusb-* 2>/dev/null; }

# refused LABEL WANT POINT PROPERTY [args]: exit 2, one printable line saying
# WANT, nothing changed, in bounded time and memory
refused() {
	local label=$1 want=$2 before
	shift 2
	LABEL=$label
	reset
	before=$(snapshot)
	bounded "$@"
	local why=""
	[ "$RC" = 2 ] || why+=" exit $RC;"
	one_line || why+=" not one line;"
	printable || why+=" unprintable bytes in the message;"
	[ "${#ERR}" -le 1024 ] || why+=" message of ${#ERR} bytes;"
	case $ERR in *"$want"*) ;; *) why+=" does not say [$want];" ;; esac
	[ "$(snapshot)" = "$before" ] || why+=" state changed;"
	[ -z "$(find "$TESTTMP" -maxdepth 1 -name '*.hostusb-*')" ] || why+=" temp file left;"
	rss_ok || why+=" peak RSS ${RSS} KB;"
	if [ -z "$why" ]; then
		pass "$label: refused ($SECS, ${RSS} KB)"
	else
		fail "$label" "$why [${ERR:0:300}]"
	fi
}

# ---- the property
# the kernel passes an environment string of at most 128 KiB, "hostusb=" and NUL included
refused "property of 128 KiB (the longest the kernel passes)" 'entry 1 "AAAA' \
	before_vm_start "$(head -c $((131072 - 9)) /dev/zero | tr '\0' A)"
ERR=$(env -i hostusb="$(head -c 1048576 /dev/zero | tr '\0' A)" "$HOSTUSB" --version 2>&1)
RC=$?
check_eq "property of 1 MB: cannot even reach the hook (execve: E2BIG), exit 126 from env" "$RC" 126
head -c 300000 /dev/urandom | tr -d '\000' | head -c 65536 >"$TESTTMP/junk"
refused "property of 64 KiB binary junk (no NUL)" "hostusb property" before_vm_start "$(cat "$TESTTMP/junk")"
refused "property of 10,000 entries" "has 10000 entries; at most 32" before_vm_start \
	"$(printf 'x&%.0s' $(seq 9999))x"
refused "property of 9,000 valid entries" "has 9000 entries; at most 32" before_vm_start \
	"$(printf '0x0781:0x5567&%.0s' $(seq 8999))0x0781:0x5567"
refused "property of 33 entries (one over)" "has 33 entries" before_vm_start \
	"$(printf '0x0781:0x5567&%.0s' $(seq 32))0x0781:0x5567"
refused "property of 32 entries, 1 device" "32 requested, 1 present" before_vm_start \
	"$(printf '0x0781:0x5567&%.0s' $(seq 31))0x0781:0x5567"
refused "property with format directives and control bytes" 'entry 1 "%s%n%' before_vm_start \
	"$(printf '%%s%%n%%x\n\r\033[2J')"
refused "property of 32 empty entries" "entry 1" before_vm_start "$(printf '&%.0s' $(seq 31))"
VMID=$(head -c 100000 /dev/zero | tr '\0' a) refused "vmId of 100,000 bytes" "not a UUID-like token" \
	before_vm_start 0x0781:0x5567

# ---- the domain XML
INS="    <hostdev mode='subsystem' type='usb'>
      <source>
        <vendor id='0x0781'/>
        <product id='0x5567'/>
      </source>
    </hostdev>
"
printf '%s' "$INS" >"$TESTTMP/ins"
SUF="  </devices>
</domain>
"
printf '%s' "$SUF" >"$TESTTMP/suf"
# patched LABEL: the document is $TESTTMP/pre + suf; after the run it must be
# pre + the hostdev + suf, byte for byte, the node given to qemu
patched() {
	local label=$1 why=""
	LABEL=$label
	reset
	cat "$TESTTMP/pre" "$TESTTMP/suf" >"$DOM"
	bounded before_vm_start 0x0781:0x5567
	[ "$RC:$ERR" = "0:$GAVE" ] || why+=" exit $RC [${ERR:0:300}];"
	cmp -s "$DOM" <(cat "$TESTTMP/pre" "$TESTTMP/ins" "$TESTTMP/suf") || why+=" output is not input + hostdev;"
	[ "$(stat -c %u:%g "$NODE")" = 107:107 ] || why+=" node not given;"
	rss_ok || why+=" peak RSS ${RSS} KB;"
	if [ -z "$why" ]; then pass "$label: patched ($SECS, ${RSS} KB)"; else fail "$label" "$why"; fi
	rm -f "$DOM"
}
# broken LABEL WANT: the document in $DOM is refused
broken() {
	local label=$1 want=$2
	cp "$DOM" "$TESTTMP/dom.copy"
	refused "$label" "$want" before_vm_start 0x0781:0x5567
	cmp -s "$DOM" "$TESTTMP/dom.copy" || fail "$label: domain file unchanged" "it changed"
	rm -f "$DOM" "$TESTTMP/dom.copy"
}
mb() { head -c $(($1 << 20)) /dev/zero | tr '\0' "$2"; }

# big: a <devices> with many <disk> elements, generated as a stream
big_mb=64
[ "$LONG" = 1 ] && big_mb=1024
free_mb=$(df -Pm "$TESTTMP" | awk 'NR == 2 { print $4 }')
if [ "${free_mb:-0}" -gt $((big_mb * 3 + 256)) ]; then
	line="    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/rhev/data-center/x.img'/><target dev='vda' bus='virtio'/></disk>"
	{ printf '<domain type="kvm">\n  <name>big</name>\n  <devices>\n'; yes "$line" | head -n $(((big_mb << 20) / (${#line} + 1))); } >"$TESTTMP/pre"
	[ "$LONG" = 1 ] && TIME_LIMIT=120
	patched "domain XML of $big_mb MB"
	TIME_LIMIT=20
	rm -f "$TESTTMP/pre"
else
	skip "domain XML of $big_mb MB" "only ${free_mb} MB free in $TESTTMP"
fi
{ printf "<domain>\n  <name a='"; mb 10 a; printf "'>x</name>\n  <devices>\n    <disk file='"; mb 10 b; printf "'/>\n"; } >"$TESTTMP/pre"
patched "attribute values of 10 MB (before and inside <devices>)"
{ printf '<domain>\n  <!--'; mb 10 c; printf -- '-->\n  <devices>\n    <!--'; mb 10 d; printf -- '-->\n    <disk/>\n'; } >"$TESTTMP/pre"
patched "comments of 10 MB (before and inside <devices>)"
{ printf '<domain>\n  <description><![CDATA['; mb 10 e; printf ']]></description>\n  <devices>\n    <disk/>\n'; } >"$TESTTMP/pre"
patched "CDATA of 10 MB"
{ printf '\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>\n<domain>\n  <name>\xc3\xa9t\xc3\xa9 \xf0\x9f\x92\xbe</name>\n  <devices>\n    <disk/>\n'; } >"$TESTTMP/pre"
patched "UTF-8 with a BOM and multibyte text"
rm -f "$TESTTMP/pre"

deep() { yes "$1" | head -n 100000 | tr -d '\n'; }
{ printf '<domain>\n  <devices>\n    '; deep '<a>'; } >"$DOM"
broken "100,000-deep nesting inside <devices>" "nested more than 257 deep"
{ printf '<domain>\n  <metadata>'; deep '<a>'; deep '</a>'; printf '</metadata>\n  <devices/>\n</domain>\n'; } >"$DOM"
broken "100,000-deep nesting outside <devices>" "nested more than 257 deep"
{ printf '<domain>\n  <devices>\n    <'; mb 1 n; printf '/>\n  </devices>\n</domain>\n'; } >"$DOM"
broken "element name of 1 MB" "name longer than"
{ printf '<domain>\n  <devices>\n    <disk '; mb 1 n; printf '="x"/>\n  </devices>\n</domain>\n'; } >"$DOM"
broken "attribute name of 1 MB" "name longer than"
{ printf '<domain>\n  <devices>\n    <disk/>\n  </'; mb 1 n; printf '>\n</domain>\n'; } >"$DOM"
broken "end tag name of 1 MB" "mismatched end tag"
{ printf '<?xml version="1.0" '; mb 1 ' '; printf '?>\n<domain><devices/></domain>\n'; } >"$DOM"
broken "XML declaration of 1 MB" "XML declaration longer than"
{ printf '<domain>\n  <name>&'; mb 1 n; printf ';</name>\n  <devices/>\n</domain>\n'; } >"$DOM"
broken "entity reference of 1 MB" "name longer than"
printf '<domain>\n  <name>\xff\xfe\xc0\x80</name>\n  <devices/>\n</domain>\n' >"$DOM"
broken "invalid UTF-8" "invalid UTF-8"
printf '<domain>\n  <name>\xed\xa0\x80</name>\n  <devices/>\n</domain>\n' >"$DOM"
broken "UTF-8 encoded surrogate" "invalid UTF-8"
printf '\xef\xbb\xbf<?xml version="1.0" encoding="UTF-16"?>\n<domain>\n  <devices/>\n</domain>\n' >"$DOM"
broken "BOM followed by a UTF-16 declaration" "not UTF-8"
utf16='<domain><devices/></domain>'
{ printf '\xff\xfe'; for ((i = 0; i < ${#utf16}; i++)); do printf '%s\0' "${utf16:i:1}"; done; } >"$DOM"
broken "a UTF-16 document" "not UTF-8"
printf '<domain>\n  <name>a\0b</name>\n  <devices/>\n</domain>\n' >"$DOM"
broken "a NUL byte" "line 2"
printf '<domain>\n  <devices>\n    <disk' >"$DOM"
broken "document cut short" "line 3"
: >"$DOM"
broken "empty document" "hostusb: $DOM"

# ---- sysfs attributes
n=2
for kind in empty huge nonnumeric symlink-zero fifo directory negative zero devt-overflow spaces; do
	n=$((n + 1))
	fixture_device "$R" "1-$n" 0781 5567 "$n"
	d=$(fixture_device_dir "$R" "1-$n")
	case $kind in
	empty) : >"$d/idVendor" ;;
	huge) rm "$d/idProduct" && truncate -s 1G "$d/idProduct" ;;
	nonnumeric) echo abc >"$d/busnum" ;;
	symlink-zero) rm "$d/idVendor" && ln -s /dev/zero "$d/idVendor" ;;
	fifo) rm "$d/dev" && mkfifo "$d/dev" ;;
	directory) rm "$d/idProduct" && mkdir "$d/idProduct" ;;
	negative) echo -- -1 >"$d/devnum" ;;
	zero) echo 0 >"$d/devnum" ;;
	devt-overflow) echo 189:4294967296 >"$d/dev" ;;
	spaces) echo ' 0781 ' >"$d/idVendor" ;;
	esac
done
mkfifo "$R/sys/bus/usb/devices/1-40"
ln -s /dev/zero "$R/sys/bus/usb/devices/1-41"
ln -s /nonexistent "$R/sys/bus/usb/devices/1-42"
ln -s 1-43 "$R/sys/bus/usb/devices/1-43"
truncate -s 1G "$R/sys/bus/usb/devices/1-44"
LABEL="broken sysfs attributes"
reset
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
bounded before_vm_start 0x0781:0x5567
check_eq "sysfs with 10 broken devices of the same id: the good one is taken, in bounded time ($SECS, ${RSS} KB)" \
	"$RC:$ERR:$(stat -c %u:%g "$NODE")" "0:$GAVE:107:107"
check "sysfs with broken devices: no address (the id matches one good device)" \
	test "$(grep -c "<address bus=" "$DOM")" = 0 -a "$(grep -c "<hostdev " "$DOM")" = 1
refused "sysfs with broken devices: two asked for" "2 requested, 1 present" before_vm_start "0x0781:0x5567&0x0781:0x5567"
ERR=$(timeout -s KILL 10 "$HOSTUSB" --root "$R" list 2>&1 >"$TESTTMP/stdout")
check_eq "sysfs with broken devices: list shows only the good ones" "$?:$ERR:$(wc -l <"$TESTTMP/stdout")" "0::4"

# ---- _hook_domxml that is not a regular file
mkfifo "$TESTTMP/fifo"
ln -s "$SRCDIR/tests/data/ovirt-domain.xml" "$TESTTMP/symlink.xml"
long=$TESTTMP/$(head -c 5000 /dev/zero | tr '\0' d)
for target in "$TESTTMP" "$TESTTMP/fifo" /dev/zero /dev/null "$TESTTMP/missing.xml" "$TESTTMP/symlink.xml" "$long" ""; do
	case $target in
	"$TESTTMP") what=directory ;; "$TESTTMP/fifo") what=FIFO ;; "$long") what="path of 5000 bytes" ;;
	"") what="empty" ;; *) what=${target##*/} ;;
	esac
	want=$target
	[ "$target" = "$long" ] && want="too long"
	[ -z "$target" ] && want="_hook_domxml is not set"
	DOM_SAVED=$DOM DOM=$target
	LIMIT=5 refused "_hook_domxml $what" "$want" before_vm_start 0x0781:0x5567
	DOM=$DOM_SAVED
done
NO_DOMXML=1 refused "_hook_domxml unset" "_hook_domxml is not set" before_vm_start 0x0781:0x5567

# ---- a huge path loses its middle, never the reason after it
# ends_with LABEL TAIL: the last refused run's message ends with TAIL
ends_with() {
	case $ERR in
	*"$2") pass "$1: the message ends with the reason" ;;
	*) fail "$1: the message ends with the reason" "[...${ERR: -200}] does not end with [$2]" ;;
	esac
}
DOM_SAVED=$DOM DOM=$TESTTMP/$(head -c 20000 /dev/zero | tr '\0' /)x.xml
for dry in "" --dry-run; do
	LIMIT=5 refused "_hook_domxml of 20,000 bytes${dry:+ ($dry)}" "(from _hook_domxml)" before_vm_start 0x0781:0x5567 $dry
	ends_with "_hook_domxml of 20,000 bytes${dry:+ ($dry)}" "x.xml (from _hook_domxml): File name too long"
done
DOM=$DOM_SAVED
long_root=$TESTTMP/$(head -c 5000 /dev/zero | tr '\0' r)
for owner in qemu:qemu 107:107; do
	LIMIT=5 refused "--root of 5,000 bytes, --owner $owner" "path too long" before_vm_start 0x0781:0x5567 \
		--root "$long_root" --owner $owner
	ends_with "--root of 5,000 bytes, --owner $owner" "path too long"
done

# ---- a journal or lock that is not a regular file
# make_bad FILE KIND: FILE becomes a fifo, directory, symlink to /dev/zero or 2 MB file
make_bad() {
	mkdir -p "$JDIR"
	rm -rf "$1"
	case $2 in
	fifo) mkfifo "$1" ;;
	directory) mkdir "$1" ;;
	symlink) ln -s /dev/zero "$1" ;;
	huge) truncate -s 3M "$1" ;;
	esac
}
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
for kind in fifo directory symlink huge; do
	for file in journal lock; do
		path=$JOURNAL
		[ "$file" = lock ] && path=$JOURNAL.lock
		[ "$kind" = huge ] && [ "$file" = lock ] && continue
		for point in before_vm_start after_vm_destroy; do
			LABEL="$file is a $kind ($point)"
			reset
			make_bad "$path" "$kind"
			[ "$file" = lock ] && printf '/dev/bus/usb/002/003:0:0:%s\n' "$VM1" >"$JOURNAL"
			before=$(snapshot)
			LIMIT=2 bounded "$point" 0x0781:0x5567
			if [ "$RC" = 2 ] && one_line && [ "$(snapshot)" = "$before" ]; then
				pass "$LABEL: refused ($SECS)"
			else
				fail "$LABEL" "exit $RC (137: killed after 2 s) [${ERR:0:200}] in $SECS"
			fi
			rm -rf "$path"
		done
	done
done

# ---- a 1 MiB journal: 43,690 records (the Python hook's form, 24 bytes each,
# the most 1 MiB holds) of devices on other buses.  Bounds far above today's
# figures (make bench: about 10 ms and 1.3 MB) that a lookup gone quadratic
# (43,690^2 comparisons: seconds) cannot meet, nor a journal held in memory
# whole (its entries alone are close to 4 MB).
JOURNAL_MS=500 JOURNAL_RSS_KB=4096
awk 'BEGIN { for (i = 0; i < 43690; i++) printf "/dev/bus/usb/%03d/%03d:0:0", 3 + int(i / 127), 1 + i % 127 }' \
	>"$TESTTMP/journal.1mib"
# journal_bounded LABEL POINT: the run exits 0 and gives NODE the owner
# WANT_OWNER, within JOURNAL_MS and JOURNAL_RSS_KB
journal_bounded() {
	LABEL=$1
	bounded "$2" 0x0781:0x5567
	local why=""
	[ "$RC" = 0 ] || why+=" exit $RC [${ERR:0:200}];"
	[ "$(stat -c %u:%g "$NODE")" = "$WANT_OWNER" ] || why+=" node $(stat -c %u:%g "$NODE"), want $WANT_OWNER;"
	[ "${SECS%ms}" -lt "$JOURNAL_MS" ] || why+=" took $SECS (at most ${JOURNAL_MS}ms);"
	[ "$RSS" = "?" ] || [ "$RSS" -le "$JOURNAL_RSS_KB" ] || why+=" peak RSS $RSS KB (at most $JOURNAL_RSS_KB);"
	if [ -z "$why" ]; then pass "$LABEL ($SECS, ${RSS} KB)"; else fail "$LABEL" "$why"; fi
}
reset
mkdir -p "$JDIR"
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
cp "$TESTTMP/journal.1mib" "$JOURNAL"
WANT_OWNER=107:107 journal_bounded "1 MiB journal of 43,690 lines: a start, bounded" before_vm_start
# the start wrote one line a record, more than the 1 MiB it read: still a journal that can be read
WANT_OWNER=0:0 journal_bounded "1 MiB journal of 43,690 lines: the destroy after that start" after_vm_destroy
# the VM's device the last of 43,690 records
{ head -c $((43689 * 24)) "$TESTTMP/journal.1mib"; printf '/dev/bus/usb/002/003:0:0'; } >"$JOURNAL"
chown 107:107 "$NODE"
WANT_OWNER=0:0 journal_bounded "1 MiB journal of 43,690 lines: a destroy, bounded" after_vm_destroy
# ---- 2 MiB of the Python hook's records run together (87,381): written back
# one a line they are 2,184,525 bytes, and every later run still reads them
reset
mkdir -p "$JDIR"
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
awk 'BEGIN { for (i = 0; i < 87381; i++) printf "/dev/bus/usb/%03d/%03d:0:0", 3 + int(i / 127), 1 + i % 127 }' >"$JOURNAL"
WANT_OWNER=107:107 journal_bounded "2 MiB journal run together: a start" before_vm_start
check_eq "2 MiB journal run together: written back one record a line, with the start's line" \
	"$(stat -c %s "$JOURNAL"):$(wc -l <"$JOURNAL")" "$((87381 * 25 + 31 + ${#VM1})):87382"
WANT_OWNER=0:0 journal_bounded "2 MiB journal run together: the destroy after that start" after_vm_destroy
cp "$SRCDIR/tests/data/ovirt-domain.xml" "$DOM"
WANT_OWNER=107:107 journal_bounded "2 MiB journal run together: a start again" before_vm_start
reset

if [ "$HAVE_TIME" = 1 ]; then
	printf 'note: largest peak RSS %s KB (%s)\n' "$MAX_RSS" "$MAX_RSS_WHAT"
else
	skip "peak RSS measurement" "/usr/bin/time not installed (apt-get install time); runs were bounded by prlimit --as only"
fi
