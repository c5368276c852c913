#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/run itself, on a tree of small made-up test programs: the counts, the
# last line, a program that prints nothing, and the programs that did not run
# named before the summary.
set -u
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
TESTTMP=${TESTTMP:-$(mktemp -d)}
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$SRCDIR/tests/lib.sh"

fake=$TESTTMP/fake
rm -rf "$fake" && mkdir -p "$fake/tests"
cp "$SRCDIR/tests/run" "$fake/tests/run"
# program NAME BODY: a test program in the fake tree
program() { printf '#!/bin/sh\n%s\n' "$2" >"$fake/tests/$1" && chmod +x "$fake/tests/$1"; }
program unit_one 'echo "PASS one"'
program t_mixed.sh 'echo "PASS m1"; echo "a note"; echo "PASS m2"; echo "SKIP m3: no frobnicator (apt-get install frob)"'
program t_rootonly.sh 'echo "SKIP rootonly: need root to mknod"'
program t_tool.sh 'echo "SKIP tool: frob not installed (apt-get install frob)"'
program t_silent.sh 'echo "only a note"'
program t_skipdies.sh 'echo "SKIP dies: about to"; exit 3'

out=$(env -u MAKEFLAGS bash "$fake/tests/run" 2>&1)
status=$?
check_eq "run: exit 1 when a program failed" "$status" 1
check_eq "run: last line counts results" "$(printf '%s\n' "$out" | tail -n 1)" "3 passed, 2 failed, 4 skipped"
check_contains "run: a program that prints no result fails" "$out" \
	"FAIL tests/t_silent.sh: printed no PASS, FAIL or SKIP line"
check_contains "run: a program that skips and exits non-zero fails" "$out" \
	"FAIL tests/t_skipdies.sh: exited with status 3"
hint=
is_root || hint='; as root they do: sudo make check'
check_eq "run: programs that only skipped are named before the summary" \
	"$(printf '%s\n' "$out" | tail -n 4 | head -n 3)" \
	"not run: t_rootonly (need root to mknod)
not run: t_tool (frob not installed (apt-get install frob))
2 of 6 test programs did not run$hint"

# everything ran: no "not run" lines
rm "$fake/tests/t_rootonly.sh" "$fake/tests/t_tool.sh" "$fake/tests/t_silent.sh" "$fake/tests/t_skipdies.sh"
out=$(env -u MAKEFLAGS bash "$fake/tests/run" 2>&1)
status=$?
check_eq "run: exit 0, summary last, nothing named when all ran" \
	"$status|$(printf '%s\n' "$out" | tail -n 2 | tr '\n' '|')" \
	"0|SKIP m3: no frobnicator (apt-get install frob)|3 passed, 0 failed, 1 skipped|"
