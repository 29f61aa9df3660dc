#!/bin/sh
# run-unit.sh - runs each cmocka unit test binary given; prints its output
# and a closing tally. Exit 1 if any failed.
set -u
pass=0; fail=0; failed=""
for t in "$@"; do
    if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed $t"; fi
done
echo "unit: $pass test programs passed, $fail failed${failed:+ ($failed )}"
[ "$fail" -eq 0 ]
