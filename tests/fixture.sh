# SPDX-License-Identifier: GPL-2.0-or-later
# Builds fake host roots laid out the way the kernel lays out sysfs and
# devtmpfs; sourced by the shell tests.
#
#   fixture_root ROOT                       empty root with etc/passwd, etc/group (qemu = 107:107)
#   fixture_bus ROOT BUS                    a root hub usbBUS (USB 2: 1d6b:0002, speed 480) on
#                                           its own PCI controller
#   fixture_bus3 ROOT BUS                   the same for USB 3: 1d6b:0003, speed 5000
#   fixture_device ROOT PORTPATH VID PID DEVNUM [MODE] [SERIAL]
#                                           a device, e.g. PORTPATH 1-3.1 (bus 1, hub on port 3,
#                                           port 1 of that hub); VID/PID as 4 hex digits; the node
#                                           /dev/bus/usb/BBB/DDD is a real character device when
#                                           root (mknod), else a regular file; a serial attribute
#                                           only with SERIAL (any bytes, even a space); speed 5000
#                                           on a USB 3 bus, else 480, or FIXTURE_SPEED (12, 1.5...)
#   fixture_hub ROOT PORTPATH VID PID DEVNUM
#                                           a hub (bDeviceClass 09) on that port
#
# Real sysfs: /sys/bus/usb/devices/<name> is a symlink into /sys/devices/...;
# a device directory holds idVendor, idProduct, busnum, devnum, dev; each
# device has interface children "<name>:1.0" that also appear in the bus list.

fixture_root() {
	local root=$1
	mkdir -p "$root/sys/bus/usb/devices" "$root/sys/devices" "$root/dev/bus/usb" "$root/etc" "$root/var/run"
	cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
vdsm:x:36:36:Node Virtualization Manager:/var/lib/vdsm:/sbin/nologin
qemu:x:107:107:qemu user:/:/sbin/nologin
PASSWD
	cat >"$root/etc/group" <<'GROUP'
root:x:0:
kvm:x:36:qemu,vdsm
qemu:x:107:
GROUP
}

# fixture_attrs DIR VID PID BUS DEV [CLASS [SPEED [VERSION]]]: the attributes every
# usb_device has; CLASS 00 (a device) unless given, 09 for a hub
fixture_attrs() {
	local dir=$1 minor=$(( ($4 - 1) * 128 + ($5 - 1) ))
	mkdir -p "$dir"
	printf '%s\n' "$2" >"$dir/idVendor"
	printf '%s\n' "$3" >"$dir/idProduct"
	printf '%s\n' "$4" >"$dir/busnum"
	printf '%s\n' "$5" >"$dir/devnum"
	printf '189:%s\n' "$minor" >"$dir/dev"
	printf ' %s\n' "${8:-2.00}" >"$dir/version"
	printf '%s\n' "${6:-00}" >"$dir/bDeviceClass"
	printf '%s\n' "${7:-480}" >"$dir/speed"
}

# fixture_interface DIR NAME ROOT: an interface child, listed on the bus too
fixture_interface() {
	local dir=$1 name=$2 root=$3
	mkdir -p "$dir/$name"
	printf '00\n' >"$dir/$name/bInterfaceNumber"
	printf '03\n' >"$dir/$name/bInterfaceClass"
	ln -s "../../../devices/${dir#"$root"/sys/devices/}/$name" "$root/sys/bus/usb/devices/$name"
}

fixture_node() {
	local root=$1 bus=$2 dev=$3 mode=${4:-0600}
	local node minor=$(( ($2 - 1) * 128 + ($3 - 1) ))
	node=$(printf '%s/dev/bus/usb/%03d/%03d' "$root" "$bus" "$dev")
	mkdir -p "${node%/*}"
	rm -f "$node"
	if [ "$(id -u)" = 0 ]; then
		mknod -m "$mode" "$node" c 189 "$minor"
	else
		: >"$node" && chmod "$mode" "$node"
	fi
}

# fixture_bus ROOT BUS [PID SPEED VERSION]
fixture_bus() {
	local root=$1 bus=$2
	local dir="$root/sys/devices/pci0000:00/0000:00:0$bus.0/usb$bus"
	fixture_attrs "$dir" 1d6b "${3:-0002}" "$bus" 1 09 "${4:-480}" "${5:-2.00}"
	printf '0000:00:0%s.0\n' "$bus" >"$dir/serial"
	ln -s "../../../devices/pci0000:00/0000:00:0$bus.0/usb$bus" "$root/sys/bus/usb/devices/usb$bus"
	fixture_interface "$dir" "$bus-0:1.0" "$root"
	fixture_node "$root" "$bus" 1 0644
}

fixture_bus3() {
	fixture_bus "$1" "$2" 0003 5000 3.00
}

# The directory of a port path: 1-3.1 lives under .../usb1/1-3/1-3.1
fixture_device_dir() {
	local root=$1 path=$2 bus=${2%%-*}
	local dir="$root/sys/devices/pci0000:00/0000:00:0$bus.0/usb$bus"
	local ports=${path#*-} prefix="$bus-" part
	local IFS=.
	for part in $ports; do
		dir="$dir/$prefix$part"
		prefix="$prefix$part."
	done
	printf '%s\n' "$dir"
}

# the speed of a device on BUS: the root hub's on a USB 3 bus, else FIXTURE_SPEED or 480
fixture_speed() {
	local root=$1 bus=$2
	if [ "$(cat "$root/sys/bus/usb/devices/usb$bus/speed" 2>/dev/null)" = 5000 ]; then
		echo 5000
	else
		echo "${FIXTURE_SPEED:-480}"
	fi
}

fixture_device() {
	local root=$1 path=$2 vid=$3 pid=$4 dev=$5 mode=${6:-0600}
	local bus=${path%%-*} dir class=${FIXTURE_CLASS:-00} speed
	dir=$(fixture_device_dir "$root" "$path")
	speed=$(fixture_speed "$root" "$bus")
	fixture_attrs "$dir" "$vid" "$pid" "$bus" "$dev" "$class" "$speed" "$([ "$speed" = 5000 ] && echo 3.20)"
	if [ $# -ge 7 ]; then
		printf '%s\n' "$7" >"$dir/serial"
	fi
	ln -s "../../../devices/${dir#"$root"/sys/devices/}" "$root/sys/bus/usb/devices/$path"
	fixture_interface "$dir" "$path:1.0" "$root"
	fixture_node "$root" "$bus" "$dev" "$mode"
}

fixture_hub() {
	FIXTURE_CLASS=09 fixture_device "$@"
}
