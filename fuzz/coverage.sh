#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# coverage.sh - line coverage of what the fuzz corpora reach: `sh
# fuzz/coverage.sh [TARGET...]` after `make fuzz`. Builds each target with
# clang's source-based coverage and fuzz/replay.c (no libFuzzer, no
# sanitizer) into build-fuzz/cov/, replays its seeds and its corpus
# (build-fuzz/corpus-TARGET), and prints llvm-cov's per-file report for the
# files the target is for (docs/fuzzing.md keeps the last figures).
set -eu
OUT=build-fuzz/cov
command -v llvm-cov >/dev/null && command -v llvm-profdata >/dev/null ||
    { echo "coverage: llvm-cov and llvm-profdata are needed (Debian: llvm)" >&2; exit 2; }
[ -d build-fuzz/seeds ] || { echo "coverage: run make fuzz first (it writes the seeds and corpora)" >&2; exit 2; }
mkdir -p "$OUT"
PKG="$(pkg-config --cflags libcjson yaml-0.1 libpcre2-8 libmicrohttpd)"
CFLAGS="-g -O1 -std=c11 -D_GNU_SOURCE -fprofile-instr-generate -fcoverage-mapping
        -Iutil -Ivm -Igrammar -Icompiler -Ibuild/grammar -Iprotocols -Iserver -Itests/unit -Ifuzz $PKG"
LIBS="$(pkg-config --libs libcjson yaml-0.1 libpcre2-8 libmicrohttpd) -lpthread -lm"
SRCS="$(ls vm/*.c util/*.c grammar/*.c compiler/*.c compiler/*.S protocols/*.c server/*.c | grep -v '^server/main\.c$')
      build/grammar/parser.c build/grammar/lexer.c"
if [ $# -gt 0 ]; then targets=$*; else
    targets=$(for f in fuzz/fuzz_*.c; do basename "$f" .c | sed 's/^fuzz_//'; done)
fi
for t in $targets; do
    case $t in
    bundle) files="vm/load.c vm/verify.c vm/interp.c vm/disasm.c vm/bundle_write.c" ;;
    rules) files="grammar/lexer.l grammar/parser.y compiler/check.c compiler/codegen.c" ;;
    spec) files="vm/doc_json.c vm/doc_yaml.c" ;;
    yaml) files="vm/doc_yaml.c" ;;
    dstack) files="protocols/dstack.c" ;;
    http) files="server/http.c server/handler.c server/conntab.c" ;;
    *) files="" ;;
    esac
    # shellcheck disable=SC2086
    clang $CFLAGS -Wno-unused-function -o "$OUT/fuzz_$t" "fuzz/fuzz_$t.c" fuzz/replay.c $SRCS $LIBS
    rm -f "$OUT/$t".*.profraw
    set --
    [ -d "build-fuzz/seeds/$t" ] && set -- "$@" "build-fuzz/seeds/$t"
    [ -d "build-fuzz/corpus-$t" ] && set -- "$@" "build-fuzz/corpus-$t"
    LLVM_PROFILE_FILE="$OUT/$t.%p.profraw" "$OUT/fuzz_$t" "$@" 2>/dev/null | tail -1
    llvm-profdata merge -o "$OUT/$t.profdata" "$OUT/$t".*.profraw
    echo "== fuzz_$t"
    # shellcheck disable=SC2086
    llvm-cov report "$OUT/fuzz_$t" -instr-profile="$OUT/$t.profdata" $files | sed -n '1p;/^[a-z/]/p'
done
