#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-layout.sh - the direction of the arrows between modules (README,
# "Layout"), checked on every quoted #include of every source and header:
# each module may include only the modules its arrows allow, and no path
# climbs out with "../" (which would get past the per-module -I flags).
# Then proves both guards bite: the checker flags a planted wrong include,
# and the compiler, given a program's include flags from the Makefile,
# cannot find a VM-internal header.
set -u
BUILD=${BUILD:-build}
CC=${CC:-cc}
SUITE=layout; . "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Which module a project header belongs to. The public headers are their
# own module: anyone may include them.
module_of_header() {
    case "$1" in
    rulevm.h|rulec.h) echo public ;;
    parser.h|lexer.h) echo grammar ;;
    esac
    for dir in util vm grammar compiler protocols sign server rulec rulec/ruletest tests/unit; do
        if [ -f "$dir/$1" ]; then
            case "$dir" in
            rulec/*) echo rulec ;;
            tests/*) echo tests ;;
            *) echo "$dir" ;;
            esac
            return
        fi
    done
}

# What each module may include (besides itself and the public headers).
allowed() {
    case "$1" in
    util) echo "" ;;
    vm) echo "util" ;;
    grammar) echo "util" ;;
    compiler) echo "util vm grammar" ;;
    protocols) echo "util" ;;
    sign) echo "util" ;;
    rulec|server) echo "util protocols sign" ;;
    bench) echo "util" ;;
    fuzz) echo "util tests protocols sign server" ;;
    esac
}

# check_file MODULE FILE: prints one line per include MODULE may not have.
check_file() {
    mod=$1; file=$2
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" | while IFS= read -r line; do
        name=$(printf '%s\n' "$line" | sed 's/.*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/')
        case "$name" in
        */*) echo "$file:${line%%:*}: includes \"$name\": a path, not a module's header"; continue ;;
        esac
        owner=$(module_of_header "$name" | head -1)
        [ -z "$owner" ] && continue   # not a project header (a dependency's)
        [ "$owner" = public ] || [ "$owner" = "$mod" ] && continue
        ok=no
        for a in $(allowed "$mod"); do [ "$a" = "$owner" ] && ok=yes; done
        [ $ok = yes ] || echo "$file:${line%%:*}: $mod may not include \"$name\" ($owner)"
    done
}

for mod in util vm grammar compiler protocols sign rulec server bench fuzz; do
    files=$(find "$mod" -name '*.[chly]' 2>/dev/null | sort)
    [ -n "$files" ] || { fail "no sources found in $mod/"; continue; }
    for f in $files; do
        out=$(check_file "$mod" "$f")
        if [ -z "$out" ]; then pass; else fail "$out"; fi
    done
done

# The checker bites: a server source that reaches into the VM.
printf '#include "rulevm.h"\n#include "value.h"\n' >"$tmp/probe.c"
out=$(check_file server "$tmp/probe.c")
case "$out" in
*'server may not include "value.h" (vm)'*) pass ;;
*) fail "the checker missed a server source including value.h: '$out'" ;;
esac
printf '#include "../vm/value.h"\n' >"$tmp/probe2.c"
out=$(check_file server "$tmp/probe2.c")
case "$out" in
*'a path, not a module'*) pass ;;
*) fail "the checker missed a relative include: '$out'" ;;
esac

# The build bites: with rulesd's include flags (from the Makefile) the
# public header compiles and a VM-internal one is not found.
flags=$(make --no-print-directory -s print-INC_server BUILD="$BUILD")
# shellcheck disable=SC2086
if $CC -fsyntax-only $flags -x c - </dev/null 2>/dev/null &&
   printf '#include "rulevm.h"\n#include "rulec.h"\n#include "buf.h"\n#include "dstack.h"\n' |
       $CC -fsyntax-only $flags -x c - 2>"$tmp/err1"; then
    pass
else
    fail "the public headers do not compile with rulesd's flags ($flags): $(head -c 300 "$tmp/err1")"
fi
for internal in value.h program.h compile.h ast.h; do
    # shellcheck disable=SC2086
    if printf '#include "%s"\n' "$internal" | $CC -fsyntax-only $flags -x c - 2>/dev/null; then
        fail "rulesd's include flags reach the internal header $internal"
    else
        pass
    fi
done

# compiler/target.c nests SkyPilot's task and config schemas under one
# document schema; a "$ref" in either would point at the wrong root there.
for f in schemas/skypilot/task.json schemas/skypilot/config.json; do
    if grep -q '"\$ref"' "$f"; then
        fail "$f has a \$ref: compiler/target.c nests it under the document's root"
    else
        pass
    fi
done


# Every source file names its licence (SPDX) in its header comment, in its
# first five lines (LICENSE holds the text).
if [ -f LICENSE ] && command -v git >/dev/null && git rev-parse --git-dir >/dev/null 2>&1; then
    missing=$(git ls-files | grep -E '\.(c|h|l|y|S|sh|py|cpp|lua|jq|scd)$|(^|/)Makefile$|Dockerfile$|\.service$' |
        while read -r f; do
            [ -f "$f" ] && ! head -5 "$f" | grep -q 'SPDX-License-Identifier: Apache-2.0' && echo "$f"
        done)
    [ -z "$missing" ] && pass || fail "source files without an SPDX line: $(echo $missing | head -c 300)"
else
    [ -f LICENSE ] && pass || fail "LICENSE is missing"
fi

summary
