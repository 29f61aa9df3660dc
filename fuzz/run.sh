#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run.sh - builds the libFuzzer targets with clang (ASan + UBSan) into
# build-fuzz/ and runs each for a while: `sh fuzz/run.sh [SECONDS
# [TARGET...]]` (make fuzz FUZZ_SECONDS=N FUZZ_TARGETS="bundle http").
# Every fuzz/fuzz_*.c is a target; each starts from its seeds (fuzz/seeds.sh)
# and its corpus so far (build-fuzz/corpus-TARGET, kept between runs), and
# ends with libFuzzer's last status line (executions, coverage, corpus)
# in build-fuzz/TARGET.log. Crashes are left in build-fuzz/ as crash-*,
# leak-*, timeout-* files; the script fails then. docs/fuzzing.md says
# how to turn one into a regression input.
set -eu
SECONDS_EACH=${1:-60}
[ $# -gt 0 ] && shift
OUT=build-fuzz
command -v clang >/dev/null || { echo "fuzz: clang is needed (make fuzz installs it: clang libclang-rt-dev)" >&2; exit 2; }
make --no-print-directory build/grammar/parser.c build/grammar/lexer.c build/include/rulevm.h \
    build/include/rulec.h build/rulec >/dev/null
mkdir -p "$OUT"
# shellcheck disable=SC2046
PKG="$(pkg-config --cflags yaml-0.1 libpcre2-8 libmicrohttpd libcurl nettle hogweed)"
CFLAGS="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
        -Iutil -Ivm -Igrammar -Icompiler -Ibuild/grammar -Iprotocols -Isign -Iserver -Itests/unit -Ifuzz $PKG"
LIBS="$(pkg-config --libs yaml-0.1 libpcre2-8 libmicrohttpd libcurl hogweed nettle) -lpthread -lm"
SRCS="$(ls vm/*.c util/*.c grammar/*.c compiler/*.c compiler/*.S protocols/*.c sign/*.c server/*.c | grep -v '^server/main\.c$')
      build/grammar/parser.c build/grammar/lexer.c"

if [ $# -gt 0 ]; then targets=$*; else
    targets=$(for f in fuzz/fuzz_*.c; do basename "$f" .c | sed 's/^fuzz_//'; done)
fi
# The library objects once, then one link per target.
# Rebuilt whole when any source or header changed since the last build.
mkdir -p "$OUT/obj"
if [ ! -f "$OUT/obj/.stamp" ] || [ -n "$(find vm util grammar compiler protocols sign server build/grammar \
        -newer "$OUT/obj/.stamp" -type f | head -1)" ]; then
    rm -f "$OUT"/obj/*.o
fi
objs=""
for s in $SRCS; do
    o="$OUT/obj/$(printf '%s' "$s" | tr '/' '_').o"
    # shellcheck disable=SC2086
    [ -f "$o" ] || clang $CFLAGS -Wno-unused-function -c -o "$o" "$s"
    objs="$objs $o"
done
touch "$OUT/obj/.stamp"
for t in $targets; do
    # shellcheck disable=SC2086
    clang $CFLAGS -o "$OUT/fuzz_$t" "fuzz/fuzz_$t.c" $objs $LIBS
done

sh fuzz/seeds.sh "$OUT/seeds" build/rulec

status=0
for t in $targets; do
    echo "== fuzz_$t for ${SECONDS_EACH}s"
    mkdir -p "$OUT/corpus-$t"
    seeds="$OUT/seeds/$t"
    [ -d "$seeds" ] || seeds="$OUT/seeds/spec"   # a target without seeds of its own
    # Regression inputs and seeds are read, new inputs go to the corpus.
    # shellcheck disable=SC2086
    if ! "$OUT/fuzz_$t" -max_total_time="$SECONDS_EACH" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
            -print_final_stats=1 -artifact_prefix="$OUT/" "$OUT/corpus-$t" $seeds \
            $( [ -d "fuzz/regressions/$t" ] && echo "fuzz/regressions/$t" ) >"$OUT/$t.log" 2>&1; then
        status=1
        echo "fuzz_$t FAILED: see $OUT/$t.log and $OUT/crash-* / leak-* / timeout-*"
    fi
    grep -E '^#[0-9]+.*(DONE|cov:)' "$OUT/$t.log" | tail -1
    grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$OUT/$t.log" || true
done
exit $status
