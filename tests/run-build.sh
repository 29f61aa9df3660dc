#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-build.sh - the Makefile's promises that need no real build: `make`
# needs no cmocka (only the unit tests do, and `make test` says so when it
# is missing), CPPFLAGS reaches every compile, `make clean` respects BUILD.
# Dry runs (make -n) into a scratch BUILD, so nothing here touches build/.
set -u
SUITE=build; . "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A make of its own: not a sub-make of `make test` (no jobserver, no
# inherited command-line variables or BUILD).
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD -u CPPFLAGS make --no-print-directory "$@"; }

# pkg-config that knows every installed library except cmocka.
mkdir "$tmp/pc"
for d in $(pkg-config --variable pc_path pkg-config | tr ':' ' '); do
    for f in "$d"/*.pc; do
        [ -e "$f" ] && [ "$(basename "$f")" != cmocka.pc ] && ln -sf "$f" "$tmp/pc/"
    done
done
if PKG_CONFIG_LIBDIR=$tmp/pc pkg-config --exists cmocka; then
    fail "could not hide cmocka from pkg-config"
else
    PKG_CONFIG_LIBDIR=$tmp/pc mk -n all BUILD="$tmp/b" >"$tmp/all.out" 2>&1
    st=$?
    if [ "$st" -eq 0 ] && ! grep -q cmocka "$tmp/all.out"; then pass
    else fail "make without cmocka: exit $st: $(grep -i 'error\|cmocka' "$tmp/all.out" | head -3)"; fi
    for goal in test unit; do
        PKG_CONFIG_LIBDIR=$tmp/pc mk -n "$goal" BUILD="$tmp/b" >"$tmp/test.out" 2>&1
        st=$?
        if [ "$st" -ne 0 ] && grep -q "the unit tests need cmocka (Debian: libcmocka-dev)" "$tmp/test.out"; then pass
        else fail "make $goal without cmocka: exit $st: $(head -c 300 "$tmp/test.out")"; fi
    done
fi

# CPPFLAGS on every compile: each cc command with a .c source carries it
# (library, compiler, generated parser and scanner, programs, unit tests,
# load client, benchmark).
mk -n all test "$tmp/b/bench/bench_vm" BUILD="$tmp/b" CC=cc CPPFLAGS=-DRULES_CPPFLAGS_PROBE=1 >"$tmp/cpp.out" 2>&1
grep -E '^cc .*[^ ]+\.c( |$)' "$tmp/cpp.out" >"$tmp/compiles"
n=$(wc -l <"$tmp/compiles")
missing=$(grep -vc -- '-DRULES_CPPFLAGS_PROBE=1' "$tmp/compiles")
if [ "$n" -ge 10 ] && [ "$missing" -eq 0 ]; then pass
else fail "CPPFLAGS: $missing of $n compiles lack it: $(grep -v -- '-DRULES_CPPFLAGS_PROBE=1' "$tmp/compiles" | head -2)"; fi
grep -q 'grammar/parser.c' "$tmp/compiles" && grep -q 'tests/unit/test_' "$tmp/compiles" && pass ||
    fail "CPPFLAGS: the dry run shows no parser or unit test compile"

# Objects follow the flags they were built with: after a build, other flags
# make them stale, the same flags leave them alone.
o="$tmp/f/obj/util/arena.o"
mk "$o" BUILD="$tmp/f" WERROR=0 >/dev/null 2>&1
mk -q "$o" BUILD="$tmp/f" WERROR=0 >/dev/null 2>&1 && pass || fail "an object built with these flags is stale"
mk -q "$o" BUILD="$tmp/f" WERROR=1 >/dev/null 2>&1 && fail "an object is up to date under other flags (WERROR=1)" || pass

# make clean: all three folders by default (also with SANITIZE=1), only
# BUILD when it is given.
[ "$(mk -n clean)" = "rm -rf build build-san build-fuzz" ] && pass || fail "make -n clean: $(mk -n clean)"
[ "$(mk -n clean SANITIZE=1)" = "rm -rf build build-san build-fuzz" ] && pass || fail "make -n clean SANITIZE=1: $(mk -n clean SANITIZE=1)"
mkdir -p "$tmp/x/vm" "$tmp/y"
: >"$tmp/x/vm/load.o"
mk clean BUILD="$tmp/x" >/dev/null 2>&1
[ ! -e "$tmp/x" ] && [ -d "$tmp/y" ] && pass || fail "make clean BUILD=$tmp/x did not remove exactly $tmp/x"
[ "$(mk -n clean BUILD="$tmp/x")" = "rm -rf $tmp/x" ] && pass || fail "make -n clean BUILD=...: $(mk -n clean BUILD="$tmp/x")"

summary
