#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-unit.sh - runs each cmocka unit test binary given and prints its
# output; counts every individual test (cmocka's "[  PASSED  ] N test(s)."
# and "[  FAILED  ] N test(s)" lines). A binary that fails without a count
# of failed tests (it died on a signal, or before its summary) counts as
# one failure more.
set -u
SUITE=unit; . "$(dirname "$0")/lib.sh"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$@"; do
    echo "== $t"
    "$t" >"$out" 2>&1
    rc=$?
    cat "$out"
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' "$out" | awk '{s+=$1} END {print s+0}')
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
    count "$p" "$f"
    if [ "$rc" -gt 127 ]; then
        fail "$t crashed (status $rc)"
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        fail "$t exited $rc without reporting a failed test"
    fi
done
summary
