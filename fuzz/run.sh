#!/bin/sh
# run.sh - builds the libFuzzer targets with clang (ASan + UBSan) into
# build-fuzz/ and runs each for a while: `sh fuzz/run.sh [SECONDS]`.
# Seeds: the real dstack specs, compiled bundles of rules/, the policies.
# Crashes are left in build-fuzz/ as crash-* files; the script fails then.
set -eu
SECONDS_EACH=${1:-60}
OUT=build-fuzz
make --no-print-directory build/grammar/parser.c build/grammar/lexer.c build/rulec >/dev/null
mkdir -p "$OUT"
CFLAGS="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
        -Iutil -Ivm -Igrammar -Icompiler -Ibuild/grammar -Itests/unit $(pkg-config --cflags yaml-0.1 libpcre2-8)"
SRCS="$(ls vm/*.c util/*.c grammar/*.c compiler/*.c compiler/*.S) build/grammar/parser.c build/grammar/lexer.c"
for t in spec bundle rules; do
    # shellcheck disable=SC2086
    clang $CFLAGS -Wno-unused-function -o "$OUT/fuzz_$t" "fuzz/fuzz_$t.c" $SRCS \
        $(pkg-config --libs yaml-0.1 libpcre2-8) -lm
done

rm -rf "$OUT/seed-spec" "$OUT/seed-bundle" "$OUT/seed-rules"
mkdir -p "$OUT/seed-spec" "$OUT/seed-bundle" "$OUT/seed-rules"
cp tests/data/dstack/requests/*.json tests/data/dstack/yaml/*.yml "$OUT/seed-spec/"
for f in rules/*.rules tests/golden/disasm/*.rules; do
    cp "$f" "$OUT/seed-rules/"
    build/rulec compile "$f" -o "$OUT/seed-bundle/$(basename "$f" .rules).rbc" 2>/dev/null || true
done

status=0
for t in spec bundle rules; do
    echo "== fuzz_$t for ${SECONDS_EACH}s"
    mkdir -p "$OUT/corpus-$t"
    "$OUT/fuzz_$t" -max_total_time="$SECONDS_EACH" -max_len=65536 -timeout=10 \
        -artifact_prefix="$OUT/" "$OUT/corpus-$t" "$OUT/seed-$t" 2>&1 | tail -3 || status=1
done
exit $status
