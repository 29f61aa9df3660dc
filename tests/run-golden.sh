#!/bin/sh
# run-golden.sh - golden tests: runs rulec and compares its exit status,
# stdout and stderr with a pinned .out file.
#   tests/golden/check/NAME.rules   ->  rulec check NAME.rules
#   tests/golden/disasm/NAME.rules  ->  rulec disasm NAME.rules
#   tests/golden/apply/NAME.cmd     ->  rulec <the arguments in NAME.cmd>
# UPDATE=1 rewrites the .out files from the current output (then review the
# diff before committing).
set -u
BUILD=${BUILD:-build}
RULEC=${RULEC:-$BUILD/rulec}
SUITE=golden; . "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run_case() {  # $1 = expected file, rest = rulec arguments
    expected=$1; shift
    "$RULEC" "$@" >"$tmp/stdout" 2>"$tmp/stderr" </dev/null
    status=$?
    {
        echo "\$ exit $status"
        echo "--- stdout"
        cat "$tmp/stdout"
        echo "--- stderr"
        cat "$tmp/stderr"
    } >"$tmp/actual"
    if [ "${UPDATE:-0}" = 1 ]; then
        cp "$tmp/actual" "$expected"
    fi
    if [ -f "$expected" ] && cmp -s "$expected" "$tmp/actual"; then
        pass
    else
        fail "$expected"
        if [ -f "$expected" ]; then
            diff -u "$expected" "$tmp/actual" | head -40
        else
            echo "  (no expected output file; run with UPDATE=1 to create it)"
        fi
    fi
}

for f in tests/golden/check/*.rules; do
    [ -e "$f" ] || continue
    run_case "${f%.rules}.out" check "$f"
done
for f in tests/golden/disasm/*.rules; do
    [ -e "$f" ] || continue
    run_case "${f%.rules}.out" disasm "$f"
done
for f in tests/golden/apply/*.cmd; do
    [ -e "$f" ] || continue
    # shellcheck disable=SC2046
    run_case "${f%.cmd}.out" $(cat "$f")
done
summary
