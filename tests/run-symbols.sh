#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-symbols.sh - each shared library exports exactly the functions its
# public headers declare: librulevm.so those of vm/rulevm.h, librulec.so
# (the compiler with the VM) those of compiler/rulec.h and vm/rulevm.h.
# Nothing internal leaks out (the version scripts list names, not
# patterns) and nothing public is missing. Ends with "symbols: N passed,
# M failed".
set -u
BUILD=${BUILD:-build}
CC=${CC:-cc}
SUITE=symbols; . "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# declared HEADER OUT: every rv_/rc_ name followed by '(' in the
# preprocessed header (no comments there; function-pointer typedefs read
# "(*rv_x)(" and stay out). rulec.h includes rulevm.h, so its list holds
# both.
declared() {
    "$CC" -E -P -Ivm "$1" | grep -oE '\br[vc]_[a-z0-9_]+[[:space:]]*\(' \
        | sed 's/[[:space:]]*($//' | sort -u >"$2"
}

# check LIB HEADER: LIB's defined dynamic symbols (minus the version
# nodes, unversioned) are exactly HEADER's functions.
check() {
    lib=$1; header=$2
    if [ ! -f "$lib" ]; then
        fail "$lib is not built"
        return
    fi
    declared "$header" "$tmp/declared"
    nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | sed 's/@.*//' | sort -u >"$tmp/exported"
    [ -s "$tmp/declared" ] && pass || fail "no functions found in $header"
    extra=$(comm -13 "$tmp/declared" "$tmp/exported")
    [ -z "$extra" ] && pass || fail "$lib: exported but not declared in $header: $(echo $extra)"
    missing=$(comm -23 "$tmp/declared" "$tmp/exported")
    [ -z "$missing" ] && pass || fail "$lib: declared in $header but not exported: $(echo $missing)"
}

check "$BUILD/librulevm.so.$(so_version)" vm/rulevm.h
check "$BUILD/librulec.so.$(so_version)" compiler/rulec.h

# librulec's VM functions carry librulevm's version node, its compiler
# functions their own: one ABI for the VM, whichever library provides it.
if [ -f "$BUILD/librulec.so.$(so_version)" ]; then
    bad=$(nm -D --defined-only "$BUILD/librulec.so.$(so_version)" | awk '$2 != "A" { print $3 }' |
        grep -vE '^(rv_[a-z0-9_]+@@RULEVM_0|rc_[a-z0-9_]+@@RULEC_0)$')
    [ -z "$bad" ] && pass || fail "librulec.so: symbols outside RULEVM_0 (rv_*) and RULEC_0 (rc_*): $(echo $bad)"
fi

summary
