#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-fuzz.sh - the fuzz targets without libFuzzer (docs/fuzzing.md):
# - fuzz/seeds.sh writes every target's seeds, none empty;
# - the bundle seeds hold every opcode vm/opcodes.h defines (each bundle
#   disassembled with rulec), so a new opcode cannot be left out of the
#   fuzzing; the check is shown to name a missing one;
# - each target, built with fuzz/replay.c as its main (make test builds
#   them into BUILD/fuzz/), runs every seed and every input in
#   fuzz/regressions/TARGET/ (inputs that once failed) with its checks on.
set -u
BUILD=${BUILD:-build}
RULEC=${RULEC:-$BUILD/rulec}
SUITE=fuzz; . "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if sh fuzz/seeds.sh "$tmp/seeds" "$RULEC" >"$tmp/seeds.out" 2>&1; then pass; else
    fail "fuzz/seeds.sh: $(head -c 600 "$tmp/seeds.out")"
fi
targets=$(for f in fuzz/fuzz_*.c; do basename "$f" .c | sed 's/^fuzz_//'; done)
# A target without seeds of its own starts from the spec seeds (request
# bodies and YAML files), as fuzz/run.sh does.
seeds_of() {
    if [ -d "$tmp/seeds/$1" ]; then echo "$tmp/seeds/$1"; else echo "$tmp/seeds/spec"; fi
}
for t in $targets; do
    n=$(find "$(seeds_of "$t")" -type f | wc -l)
    [ "$n" -gt 0 ] && pass || fail "no seeds for fuzz_$t"
done

# opcodes_missing OPCODES_H: the opcodes OPCODES_H defines that no bundle
# seed holds, one a line.
for b in "$tmp"/seeds/bundle/*.rbc; do
    "$RULEC" disasm "$b" 2>>"$tmp/disasm.err" || echo "DISASM-FAILED $b"
done | awk '$1 ~ /^[0-9]+$/ && ($2 ~ /^L[0-9]+$/ || $2 == "-") {print $3} /^DISASM-FAILED/ {print}' |
    sort -u >"$tmp/seen"
grep -q DISASM-FAILED "$tmp/seen" && fail "a bundle seed does not load: $(grep DISASM-FAILED "$tmp/seen" | head -3) $(head -c 300 "$tmp/disasm.err")"
opcodes_missing() {
    sed -n '/^#define RV_OPCODES(X)/,/^$/p' "$1" | sed -n 's/^[[:space:]]*X([[:space:]]*\([A-Z_][A-Z_0-9]*\)[[:space:]]*,.*/\1/p' |
        sort -u >"$tmp/defined"
    [ -s "$tmp/defined" ] || echo "(no opcodes read from $1)"
    comm -23 "$tmp/defined" "$tmp/seen"
}
missing=$(opcodes_missing vm/opcodes.h)
if [ -z "$missing" ]; then pass; else
    fail "the bundle seeds hold no $(echo $missing | sed 's/ /, /g') instruction: add a policy using it to fuzz/seeds/"
fi
[ "$(wc -l <"$tmp/defined")" -ge 50 ] && pass || fail "only $(wc -l <"$tmp/defined") opcodes read from vm/opcodes.h"
# The check bites: an opcode added to the list is reported missing.
sed 's/^\([[:space:]]*\)X(KEY,/\1X(NEW_OPCODE, RV_OPND_NONE, 0, 0, "a new one") \\\n&/' vm/opcodes.h >"$tmp/opcodes.h"
missing=$(opcodes_missing "$tmp/opcodes.h")
[ "$missing" = NEW_OPCODE ] && pass || fail "the opcode check missed a new opcode: '$missing'"

for t in $targets; do
    bin=$BUILD/fuzz/fuzz_$t
    [ -x "$bin" ] || { fail "$bin is not built (make test builds it)"; continue; }
    set -- "$(seeds_of "$t")"
    [ -d "fuzz/regressions/$t" ] && set -- "$@" "fuzz/regressions/$t"
    "$bin" "$@" >"$tmp/$t.out" 2>"$tmp/$t.err"
    st=$?
    n=$(sed -n 's/^replayed \([0-9]*\) inputs$/\1/p' "$tmp/$t.out")
    if [ $st -eq 0 ] && [ -n "$n" ] && [ "$n" -gt 0 ]; then
        pass
        echo "fuzz_$t: replayed $n inputs"
    else
        fail "fuzz_$t (status $st) at $(grep '^replay:' "$tmp/$t.err" | tail -1): $(grep -v '^replay:' "$tmp/$t.err" | head -c 800)"
    fi
done

# The harnesses reach what they are for. fuzz_bundle writes the size and
# CRC-32 itself, so a bundle whose checksum a mutation broke still reaches
# the verifier and the interpreter.
b=$tmp/seeds/bundle/rules-all.rbc
if [ -f "$b" ]; then
    python3 -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[12] ^= 0xff; d[8] ^= 1
open(sys.argv[2], "wb").write(d)' "$b" "$tmp/badcrc.rbc"
    "$RULEC" disasm "$tmp/badcrc.rbc" >/dev/null 2>&1 && fail "the corrupted bundle loads in rulec: not a test of the harness"
    FUZZ_SHOW=1 "$BUILD/fuzz/fuzz_bundle" "$tmp/badcrc.rbc" >/dev/null 2>"$tmp/show.err"
    grep -q "^loaded: $(ls rules/*.rules | wc -l) policies$" "$tmp/show.err" && pass ||
        fail "fuzz_bundle does not get a bundle with a broken size and CRC past the checksum: $(grep -v '^replay:' "$tmp/show.err" | head -c 300)"
fi
# fuzz_signed reaches the end of the checks with a seed signed by its key
# (with two signatures too), and not with one cut short.
if [ -f "$tmp/seeds/signed/two-keys.rbc" ]; then
    FUZZ_SHOW=1 "$BUILD/fuzz/fuzz_signed" "$tmp/seeds/signed/rules-all.rbc" "$tmp/seeds/signed/two-keys.rbc" \
        "$tmp/seeds/signed/cut.rbc" >/dev/null 2>"$tmp/show.err"
    [ "$(grep -c "^verified: revision [12], $(ls rules/*.rules | wc -l) policies$" "$tmp/show.err")" = 2 ] && pass ||
        fail "fuzz_signed does not verify its signed seeds (or verifies a cut one): $(grep -v '^replay:' "$tmp/show.err" | head -c 300)"
fi
# fuzz_http serves what it is sent: two requests and a third without the
# token on one connection get 200, 200 and 401; a dstack body its answer.
if [ -f "$tmp/seeds/http/pipelined.http" ]; then
    FUZZ_SHOW=1 "$BUILD/fuzz/fuzz_http" "$tmp/seeds/http/pipelined.http" >/dev/null 2>"$tmp/show.err"
    # (a JSON body ends without a newline: the next status line follows it)
    got=$(grep -ao 'HTTP/1\.1 [0-9][0-9][0-9]' "$tmp/show.err" | cut -d' ' -f2 | tr '\n' ' ')
    [ "$got" = "200 200 401 " ] && pass || fail "fuzz_http on pipelined requests: statuses '$got'"
    FUZZ_SHOW=1 "$BUILD/fuzz/fuzz_http" "$tmp/seeds/http/examples_.dstack.yml.request.http" >/dev/null 2>"$tmp/show.err"
    # (the spec comes back as it was sent, line breaks included: RV_VERBATIM)
    grep -aq '^{"spec":{' "$tmp/show.err" && grep -aq '"error":null}$' "$tmp/show.err" && pass ||
        fail "fuzz_http on a dstack request: $(grep -av '^replay:' "$tmp/show.err" | head -c 300)"
    # ... and a SkyPilot body on its path, its double-encoded answer.
    FUZZ_SHOW=1 "$BUILD/fuzz/fuzz_http" "$tmp/seeds/http/skypilot-01_minimal_launch.http" >/dev/null 2>"$tmp/show.err"
    grep -aq '^"{\\"task\\":\\"name: minimal' "$tmp/show.err" && pass ||
        fail "fuzz_http on a SkyPilot request: $(grep -av '^replay:' "$tmp/show.err" | head -c 300)"
fi

summary
