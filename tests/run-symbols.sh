#!/bin/sh
# run-symbols.sh - the shared library exports exactly the functions declared
# in vm/rulevm.h: nothing internal leaks out (the version script lists names,
# not patterns) and nothing public is missing. Ends with "symbols: N passed,
# M failed".
set -u
BUILD=${BUILD:-build}
CC=${CC:-cc}
LIB=$BUILD/librulevm.so.0
pass=0; fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL symbols: $1"; }

if [ ! -f "$LIB" ]; then
    bad "$LIB is not built"
    echo "symbols: $pass passed, $fail failed"
    exit 1
fi

# Declared: every rv_ name followed by '(' in the preprocessed header (no
# comments there; function-pointer typedefs read "(*rv_x)(" and stay out).
"$CC" -E -P vm/rulevm.h | grep -oE '\brv_[a-z0-9_]+[[:space:]]*\(' \
    | sed 's/[[:space:]]*($//' | sort -u >"$tmp/declared"
# Exported: defined dynamic symbols, minus the version node, unversioned.
nm -D --defined-only "$LIB" | awk '$2 != "A" { print $3 }' | sed 's/@.*//' \
    | sort -u >"$tmp/exported"

[ -s "$tmp/declared" ] && ok || bad "no functions found in vm/rulevm.h"

extra=$(comm -13 "$tmp/declared" "$tmp/exported")
[ -z "$extra" ] && ok || bad "exported but not declared in rulevm.h: $(echo $extra)"

missing=$(comm -23 "$tmp/declared" "$tmp/exported")
[ -z "$missing" ] && ok || bad "declared in rulevm.h but not exported: $(echo $missing)"

echo "symbols: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
