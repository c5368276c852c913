# SPDX-License-Identifier: GPL-2.0-or-later
# The example host of `make demo` and of the man page's list example; sourced
# after tests/fixture.sh.
#
#   example_host ROOT    one bus with QEMU's tablet and keyboard (both
#                        0627:0001), a hub, and a USB stick behind the hub

example_host() {
	local root=$1
	fixture_root "$root"
	fixture_bus "$root" 1
	fixture_device "$root" 1-1 0627 0001 2      # QEMU tablet
	fixture_device "$root" 1-2 0627 0001 3      # QEMU keyboard: same id
	fixture_device "$root" 1-3 05e3 0608 4      # a hub
	fixture_device "$root" 1-3.1 0781 5567 5    # a USB stick behind it
}
