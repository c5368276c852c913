#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs each fuzz target for SECONDS seconds, one after another, and prints one
# line per target: executions, corpus size and the verdict.  Usage:
#   tests/fuzz/run.sh SECONDS BUILD_DIR TARGET...
# The corpus of each target grows in BUILD_DIR/corpus/TARGET across runs,
# started from tests/fuzz/seeds/TARGET, tests/fuzz/regressions/TARGET and, for
# the XML targets, tests/xml/*.in.xml and tests/data/*.xml.  An input that
# fails is saved as BUILD_DIR/crashes/TARGET-*; turn it into a regression
# test by copying it to tests/fuzz/regressions/TARGET/.
set -u
cd "$(dirname "$0")/../.." || exit 2
[ $# -ge 3 ] || { echo "usage: $0 SECONDS BUILD_DIR TARGET..." >&2; exit 2; }
seconds=$1 build=$2
shift 2
case $seconds in '' | *[!0-9]*) echo "$0: SECONDS must be a number" >&2; exit 2 ;; esac
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build/crashes" "$build/logs" || exit 2
status=0
for target in "$@"; do
	bin=$build/fuzz_$target corpus=$build/corpus/$target log=$build/logs/$target.log
	[ -x "$bin" ] || { echo "FAIL fuzz $target: $bin not built"; status=1; continue; }
	mkdir -p "$corpus" || exit 2
	extra=()
	case $target in
	xml_*)
		for seed in tests/xml/*.in.xml tests/data/*.xml; do
			[ -f "$seed" ] && cp -f "$seed" "$corpus/golden-${seed//\//-}"
		done
		extra=(-dict=tests/fuzz/xml.dict -max_len=16384)
		;;
	*) extra=(-max_len=4096 -use_value_profile=1) ;;
	esac
	dirs=("$corpus")
	for dir in tests/fuzz/seeds/$target tests/fuzz/regressions/$target; do
		[ -d "$dir" ] && dirs+=("$dir")
	done
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$build/crashes/$target-" "${extra[@]}" "${dirs[@]}" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	units=$(find "$corpus" -type f | wc -l)
	if [ "$rc" -eq 0 ]; then
		echo "PASS fuzz $target: ${execs:-?} executions in ${seconds} s (${rate:-?}/s), corpus $units inputs"
	else
		status=1
		echo "FAIL fuzz $target: exit status $rc after ${execs:-?} executions; see $log"
		grep -m 5 -E 'INVARIANT FAILED|ERROR: AddressSanitizer|runtime error|Test unit written' "$log" |
			sed 's/^/  | /'
	fi
done
exit "$status"
