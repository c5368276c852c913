# SPDX-License-Identifier: GPL-2.0-or-later
# The example host of `make demo` and of the man page's list example; sourced
# after tests/fixture.sh.
#
#   example_host ROOT    one bus with QEMU's tablet and keyboard (both
#                        0627:0001, full speed, QEMU's default serials), a
#                        hub, and a USB stick behind the hub

example_host() {
	local root=$1
	fixture_root "$root"
	fixture_bus "$root" 1
	FIXTURE_SPEED=12 fixture_device "$root" 1-1 0627 0001 2 0600 28754-0000:00:01.0-1   # QEMU tablet
	FIXTURE_SPEED=12 fixture_device "$root" 1-2 0627 0001 3 0600 68284-0000:00:01.0-2   # QEMU keyboard: same id
	fixture_hub "$root" 1-3 05e3 0608 4                                                 # a hub
	fixture_device "$root" 1-3.1 0781 5567 5 0600 4C530001230905109124                  # a USB stick behind it
}
