# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Inputs for the benchmark; sourced by tests/bench/bench.sh, never run.
#
#   bench_domain SIZE OUT   an oVirt-style domain XML of at least SIZE bytes:
#                           tests/data/ovirt-domain.xml with disks and
#                           interfaces added to <devices> until it is that big
#   bench_root ROOT N       a fake root (tests/fixture.sh) with N USB devices
#                           spread over ceil(N/100) buses, one root hub each;
#                           device k (1..N) is 0627:KKKK (KKKK = k in hex), so
#                           each one can be claimed alone
#
# Needs SRCDIR (the source tree) and tests/fixture.sh sourced.

# bench_units COUNT FIRST: COUNT disk+interface pairs, numbered from FIRST
bench_units() {
	awk -v count="$1" -v first="$2" 'BEGIN {
		for (i = first; i < first + count; i++) {
			printf "        <disk device=\"disk\" snapshot=\"no\" type=\"block\">\n"
			printf "            <source dev=\"/rhev/data-center/mnt/blockSD/5e1f/images/%08x/%08x\">\n", i, i * 7
			printf "                <seclabel model=\"dac\" relabel=\"no\" type=\"none\" />\n"
			printf "            </source>\n"
			printf "            <target bus=\"virtio\" dev=\"vd%s\" />\n", substr("abcdefghijklmnopqrstuvwxyz", i % 26 + 1, 1)
			printf "            <driver cache=\"none\" error_policy=\"stop\" io=\"native\" name=\"qemu\" type=\"qcow2\" />\n"
			printf "            <alias name=\"ua-%08x-disk\" />\n", i
			printf "            <serial>%08x-0000-4000-8000-%012x</serial>\n", i, i
			printf "        </disk>\n"
			printf "        <interface type=\"bridge\">\n"
			printf "            <mac address=\"56:6f:3a:%02x:%02x:%02x\" />\n", int(i / 65536) % 256, int(i / 256) % 256, i % 256
			printf "            <model type=\"virtio\" />\n"
			printf "            <source bridge=\"ovirtmgmt\" />\n"
			printf "            <filterref filter=\"vdsm-no-mac-spoofing\" />\n"
			printf "            <alias name=\"ua-net-%08x\" />\n", i
			printf "        </interface>\n"
		}
	}'
}

bench_domain() {
	local size=$1 out=$2 base="$SRCDIR/tests/data/ovirt-domain.xml"
	local head tail unit_len have need block_units blocks i
	head=$(sed -n '1,/^    <\/devices>/p' "$base" | sed '$d' | wc -c)
	tail=$(sed -n '/^    <\/devices>/,$p' "$base" | wc -c)
	unit_len=$(bench_units 1 1 | wc -c)
	have=$((head + tail))
	need=$(( (size - have + unit_len - 1) / unit_len ))
	[ "$need" -gt 0 ] || need=0
	{
		sed -n '1,/^    <\/devices>/p' "$base" | sed '$d'
		if [ "$need" -le 2048 ]; then
			bench_units "$need" 1
		else
			# big documents: a 1 MiB-ish block of distinct units, repeated
			block_units=1024
			bench_units "$block_units" 1 >"$out.block"
			blocks=$((need / block_units))
			for ((i = 0; i < blocks; i++)); do cat "$out.block"; done
			bench_units $((need - blocks * block_units)) 1
			rm -f "$out.block"
		fi
		sed -n '/^    <\/devices>/,$p' "$base"
	} >"$out"
}

bench_root() {
	local root=$1 n=$2 nbus bus k dev
	nbus=$(( (n + 99) / 100 ))
	fixture_root "$root"
	for ((bus = 1; bus <= nbus; bus++)); do
		fixture_bus "$root" "$bus"
	done
	for ((k = 1; k <= n; k++)); do
		bus=$(( (k - 1) % nbus + 1 ))
		dev=$(( (k - 1) / nbus + 2 ))
		fixture_device "$root" "$bus-$((dev - 1))" 0627 "$(printf '%04x' "$k")" "$dev"
	done
}
