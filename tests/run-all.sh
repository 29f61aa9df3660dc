#!/bin/sh
# run-all.sh - `make test`: the cmocka unit test programs given as
# arguments, then the script suites tests/run-{golden,badinput,ruletests,
# server,symbols}.sh (and run-cli.sh) that exist; ends with one "N passed, M failed" line that counts
# every individual test.
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

# Script suites: each ends with a line "[name: ]N passed, M failed". A suite
# that prints no such line counts as one failure.
suite_pass=0; suite_fail=0
for suite in golden cli badinput ruletests server symbols; do
    script=tests/run-$suite.sh
    [ -f "$script" ] || continue
    echo "== $suite"
    sh "$script" >"$log" 2>&1 || status=1
    cat "$log"
    line=$(grep -E '^([a-z]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    if [ -z "$line" ]; then
        suite_fail=$((suite_fail + 1))
        echo "FAIL: $script printed no tally"
        continue
    fi
    p=$(echo "$line" | sed -E 's/^([a-z]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2/')
    f=$(echo "$line" | sed -E 's/^([a-z]+: )?([0-9]+) passed, ([0-9]+) failed.*/\3/')
    suite_pass=$((suite_pass + p)); suite_fail=$((suite_fail + f))
done

total_pass=$((unit_pass + suite_pass))
total_fail=$((unit_fail + suite_fail))
[ "$total_fail" -gt 0 ] && status=1
echo "$total_pass passed, $total_fail failed"
exit $status
