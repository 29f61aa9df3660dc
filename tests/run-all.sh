#!/bin/sh
# run-all.sh - `make test`: unit tests (cmocka), golden tests, and the
# project's own rule tests; ends with one "N passed, M failed" line that
# counts every individual test.
set -u
BUILD=${BUILD:-build}
export BUILD
log=$(mktemp)
status=0

out=$(mktemp)
trap 'rm -f "$log" "$out"' EXIT
crashed=0
for t in "$@"; do
    echo "== $t"
    "$t" >"$out" 2>&1
    rc=$?
    cat "$out"
    cat "$out" >>"$log"
    # cmocka exits with the number of failures; a binary that died before
    # its summary (a signal) counts as one failure more.
    [ "$rc" -ne 0 ] && status=1
    [ "$rc" -gt 127 ] && crashed=$((crashed + 1)) && echo "CRASH: $t (status $rc)"
done
unit_pass=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' "$log" | awk '{s+=$1} END {print s+0}')
unit_fail=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
unit_fail=$((unit_fail + crashed))

echo "== golden"
sh tests/run-golden.sh >"$log" 2>&1 || status=1
cat "$log"
g_pass=$(sed -n 's/^golden: \([0-9]*\) passed.*/\1/p' "$log")
g_fail=$(sed -n 's/^golden: [0-9]* passed, \([0-9]*\) failed/\1/p' "$log")
[ -n "$g_pass" ] || g_fail=$(( ${g_fail:-0} + 1 ))

echo "== bad input"
sh tests/run-badinput.sh >"$log" 2>&1 || status=1
cat "$log"
b_pass=$(sed -n 's/^badinput: \([0-9]*\) passed.*/\1/p' "$log")
b_fail=$(sed -n 's/^badinput: [0-9]* passed, \([0-9]*\) failed/\1/p' "$log")
[ -n "$b_pass" ] || b_fail=$(( ${b_fail:-0} + 1 ))

r_pass=0; r_fail=0
if [ -x tests/run-ruletests.sh ] || [ -f tests/run-ruletests.sh ]; then
    echo "== rule tests"
    sh tests/run-ruletests.sh >"$log" 2>&1 || status=1
    cat "$log"
    r_pass=$(sed -n 's/^\([0-9]*\) passed, [0-9]* failed.*/\1/p' "$log" | tail -1)
    r_fail=$(sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p' "$log" | tail -1)
fi

total_pass=$(( ${unit_pass:-0} + ${g_pass:-0} + ${b_pass:-0} + ${r_pass:-0} ))
total_fail=$(( ${unit_fail:-0} + ${g_fail:-0} + ${b_fail:-0} + ${r_fail:-0} ))
[ "$total_fail" -gt 0 ] && status=1
echo "$total_pass passed, $total_fail failed"
exit $status
