#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-version.sh - the version lives in one place, vm/rulevm.h's
# RV_VERSION_MAJOR/MINOR/PATCH: rulec --version, rulesd --version, the
# generated rulevm.pc and rulec.pc and the shared libraries' file names and
# SONAMEs (librulevm.so.MAJOR, librulec.so.MAJOR) must all say the same,
# and the Makefile must follow the header when it changes.
set -u
BUILD=${BUILD:-build}
RULEC=${RULEC:-$BUILD/rulec}
RULESD=${RULESD:-$BUILD/rulesd}
SUITE=version; . "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The version as the C preprocessor sees it.
printf '#include "rulevm.h"\nrv_version RV_VERSION_MAJOR.RV_VERSION_MINOR.RV_VERSION_PATCH\n' >"$tmp/v.c"
v=$(${CC:-cc} -E -P -Ivm "$tmp/v.c" | sed -n 's/^rv_version //p' | tr -d ' ')
major=${v%%.*}
sover=$(so_version)   # the SONAME's version
if echo "$v" | grep -qE '^[0-9]+\.[0-9]+\.[0-9]+$'; then pass; else fail "RV_VERSION_* in vm/rulevm.h read as '$v'"; fi

[ "$("$RULEC" --version | head -1)" = "rulec $v" ] && pass || fail "rulec --version says '$("$RULEC" --version)', the header $v"
if [ -x "$RULESD" ]; then
    [ "$("$RULESD" --version | head -1)" = "rulesd $v" ] && pass || fail "rulesd --version says '$("$RULESD" --version)', the header $v"
fi
# The commit (from git when this is a checkout) and the linked libraries.
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
for prog in "$RULEC" "$RULESD"; do
    [ -x "$prog" ] || continue
    "$prog" --version >"$tmp/ver"
    line2=$(sed -n 2p "$tmp/ver")
    case $line2 in
        "commit $commit"|"commit $commit-dirty") pass ;;
        *) fail "$prog --version: '$line2', want 'commit $commit'" ;;
    esac
    libs=$(sed -n 's/^libraries: //p' "$tmp/ver")
    bad=""
    for l in "PCRE2 $(pkg-config --modversion libpcre2-8)" "libyaml $(pkg-config --modversion yaml-0.1)" \
             "nettle $(pkg-config --modversion nettle | cut -d. -f1,2)"; do
        echo "$libs" | grep -qF "$l" || bad="$bad [$l]"
    done
    [ "$prog" = "$RULESD" ] && { echo "$libs" | grep -qF "libmicrohttpd $(pkg-config --modversion libmicrohttpd)" || bad="$bad [libmicrohttpd]"; }
    [ -z "$bad" ] && pass || fail "$prog --version: libraries '$libs' lack$bad"
done
got=$(sed -n 's/^Version: //p' "$BUILD/rulevm.pc")
[ "$got" = "$v" ] && pass || fail "$BUILD/rulevm.pc says Version: $got, the header $v"
got=$(PKG_CONFIG_PATH=$BUILD pkg-config --modversion rulevm 2>&1)
[ "$got" = "$v" ] && pass || fail "pkg-config --modversion rulevm (from $BUILD): $got"
got=$(PKG_CONFIG_PATH=$BUILD pkg-config --modversion rulec 2>&1)
[ "$got" = "$v" ] && pass || fail "pkg-config --modversion rulec (from $BUILD): $got"

# librulevm.so.M.m.p, with SONAME librulevm.so.M, and the links to it.
lib=$BUILD/librulevm.so.$v
soname=$(readelf -d "$lib" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
[ "$soname" = "librulevm.so.$sover" ] && pass || fail "$lib: SONAME '$soname', want librulevm.so.$sover"
[ "$(readlink "$BUILD/librulevm.so.$sover")" = "librulevm.so.$v" ] &&
    [ "$(readlink "$BUILD/librulevm.so")" = "librulevm.so.$sover" ] && pass ||
    fail "links: librulevm.so.$sover -> $(readlink "$BUILD/librulevm.so.$sover"), librulevm.so -> $(readlink "$BUILD/librulevm.so")"

# The Python package says the same (python/pyrules/_version.py, the one
# copy Python's packaging cannot do without; pyproject.toml reads it).
got=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' python/pyrules/_version.py)
[ "$got" = "$v" ] && pass || fail "python/pyrules/_version.py says $got, the header $v"
# ... and loads the SONAME the Makefile gives (python/pyrules/_native.py).
got=$(sed -n 's/^ABI = "\(.*\)"$/\1/p' python/pyrules/_native.py)
[ "$got" = "$sover" ] && pass || fail "python/pyrules/_native.py's ABI is '$got', the SONAME's version $sover"
grep -q '^version = {attr = "pyrules._version.__version__"}$' python/pyproject.toml && pass ||
    fail "python/pyproject.toml does not take its version from pyrules._version"

# librulec.so.M.m.p likewise.
lib=$BUILD/librulec.so.$v
soname=$(readelf -d "$lib" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
[ "$soname" = "librulec.so.$sover" ] && pass || fail "$lib: SONAME '$soname', want librulec.so.$sover"
[ "$(readlink "$BUILD/librulec.so.$sover")" = "librulec.so.$v" ] &&
    [ "$(readlink "$BUILD/librulec.so")" = "librulec.so.$sover" ] && pass ||
    fail "links: librulec.so.$sover -> $(readlink "$BUILD/librulec.so.$sover"), librulec.so -> $(readlink "$BUILD/librulec.so")"

# No second copy: no literal version in the build files.
if grep -nE '[0-9]+\.[0-9]+\.[0-9]+' Makefile vm/rulevm.pc.in compiler/rulec.pc.in >"$tmp/lit"; then
    fail "a literal version in the build files: $(head -3 "$tmp/lit")"
else
    pass
fi

# The Makefile follows the header: with the macros set to 7.3.9 (in a
# scratch copy), it names librulevm.so.7.3.9 with SONAME librulevm.so.7,
# librulec.so.7.3.9 with SONAME librulec.so.7, and writes 7.3.9 into
# rulevm.pc and rulec.pc (the compiler's generated sources are copied too,
# so that make can plan librulec's link).
mkdir -p "$tmp/tree/vm" "$tmp/tree/compiler"
cp Makefile "$tmp/tree/"
cp vm/rulevm.pc.in vm/rulevm.map "$tmp/tree/vm/"
cp compiler/rulec.h compiler/rulec.pc.in compiler/rulec.map compiler/schemas.S "$tmp/tree/compiler/"
mkdir -p "$tmp/tree/grammar" && cp grammar/parser.y grammar/lexer.l "$tmp/tree/grammar/"
sed -e 's/^#define RV_VERSION_MAJOR .*/#define RV_VERSION_MAJOR 7/' \
    -e 's/^#define RV_VERSION_MINOR .*/#define RV_VERSION_MINOR 3/' \
    -e 's/^#define RV_VERSION_PATCH .*/#define RV_VERSION_PATCH 9/' vm/rulevm.h >"$tmp/tree/vm/rulevm.h"
(cd "$tmp/tree" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD make --no-print-directory -n -k all BUILD=out) >"$tmp/dry" 2>&1
if grep -q -- '-soname,librulevm.so.7 ' "$tmp/dry" && grep -q -- '-o out/librulevm.so.7.3.9' "$tmp/dry" &&
   grep -q -- 'ln -sf librulevm.so.7.3.9 out/librulevm.so.7$' "$tmp/dry" &&
   grep -q -- '-soname,librulec.so.7 ' "$tmp/dry" && grep -q -- '-o out/librulec.so.7.3.9' "$tmp/dry" &&
   grep -q -- 'ln -sf librulec.so.7.3.9 out/librulec.so.7$' "$tmp/dry" &&
   grep -q "@VERSION@|7.3.9|.*rulevm.pc.in" "$tmp/dry" && grep -q "@VERSION@|7.3.9|.*rulec.pc.in" "$tmp/dry"; then pass
else fail "the Makefile does not follow the header's version: $(grep -E 'soname|VERSION|rror' "$tmp/dry" | head -3)"; fi
# While the major is 0 each minor may change the ABI: 0.4.1's SONAME is
# librulevm.so.0.4 (and librulec.so.0.4), never the 0.x of another minor.
sed -e 's/^#define RV_VERSION_MAJOR .*/#define RV_VERSION_MAJOR 0/' \
    -e 's/^#define RV_VERSION_MINOR .*/#define RV_VERSION_MINOR 4/' \
    -e 's/^#define RV_VERSION_PATCH .*/#define RV_VERSION_PATCH 1/' vm/rulevm.h >"$tmp/tree/vm/rulevm.h"
(cd "$tmp/tree" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD make --no-print-directory -n -k all BUILD=out) >"$tmp/dry" 2>&1
if grep -q -- '-soname,librulevm.so.0.4 ' "$tmp/dry" && grep -q -- 'ln -sf librulevm.so.0.4.1 out/librulevm.so.0.4$' "$tmp/dry" &&
   grep -q -- '-soname,librulec.so.0.4 ' "$tmp/dry" && grep -q -- 'ln -sf librulec.so.0.4.1 out/librulec.so.0.4$' "$tmp/dry"; then pass
else fail "0.4.1: the SONAME is not librulevm.so.0.4: $(grep -E 'soname' "$tmp/dry" | head -2)"; fi

summary
