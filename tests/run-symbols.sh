#!/bin/sh
# run-symbols.sh - the shared library exports exactly the functions declared
# in vm/rulevm.h: nothing internal leaks out (the version script lists names,
# not patterns) and nothing public is missing. Ends with "symbols: N passed,
# M failed".
set -u
BUILD=${BUILD:-build}
CC=${CC:-cc}
LIB=$BUILD/librulevm.so.0
SUITE=symbols; . "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -f "$LIB" ]; then
    fail "$LIB is not built"
    summary
    exit 1
fi

# Declared: every rv_ name followed by '(' in the preprocessed header (no
# comments there; function-pointer typedefs read "(*rv_x)(" and stay out).
"$CC" -E -P vm/rulevm.h | grep -oE '\brv_[a-z0-9_]+[[:space:]]*\(' \
    | sed 's/[[:space:]]*($//' | sort -u >"$tmp/declared"
# Exported: defined dynamic symbols, minus the version node, unversioned.
nm -D --defined-only "$LIB" | awk '$2 != "A" { print $3 }' | sed 's/@.*//' \
    | sort -u >"$tmp/exported"

[ -s "$tmp/declared" ] && pass || fail "no functions found in vm/rulevm.h"

extra=$(comm -13 "$tmp/declared" "$tmp/exported")
[ -z "$extra" ] && pass || fail "exported but not declared in rulevm.h: $(echo $extra)"

missing=$(comm -23 "$tmp/declared" "$tmp/exported")
[ -z "$missing" ] && pass || fail "declared in rulevm.h but not exported: $(echo $missing)"

summary
