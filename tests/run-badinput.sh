#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-badinput.sh - hostile and oversized inputs through the real rulec
# binary: a 100 MB spec, specs nested 100,000 deep, YAML alias bombs, every
# byte of a compiled bundle flipped, the bundle cut at every length. Each must end with a clear
# error (exit 2) or a normal decision -- never a crash, never partial output.
set -u
BUILD=${BUILD:-build}
RULEC=${RULEC:-$BUILD/rulec}
SUITE=badinput; . "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT


# expect STATUS PATTERN -- rulec ARGS: the exit status, a pattern in stderr,
# and nothing at all on stdout.
expect() {
    want=$1; pattern=$2; shift 3
    "$RULEC" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    got=$?
    if [ "$got" -ne "$want" ]; then fail "$* -> exit $got, wanted $want: $(head -c 300 "$tmp/err")"; return; fi
    if ! grep -q -- "$pattern" "$tmp/err"; then fail "$* -> stderr lacks '$pattern': $(head -c 300 "$tmp/err")"; return; fi
    if [ -s "$tmp/out" ]; then fail "$* -> wrote to stdout on error"; return; fi
    pass
}

# A 100 MB spec: refused by the input limit, naming the file.
python3 -c "
import sys
sys.stdout.write('{\"configuration\": {\"type\": \"task\", \"commands\": [')
chunk = ','.join(['\"' + 'x' * 1000 + '\"'] * 1000)
for i in range(100):
    sys.stdout.write(chunk + (',' if i < 99 else ''))
sys.stdout.write(']}}')
" >"$tmp/huge.json"
expect 2 "huge.json' is larger than the 67108864-byte input limit" -- apply rules/example.rules "$tmp/huge.json" --kind run
# ... and read in full when the limit allows it (the decision still works).
"$RULEC" apply rules/example.rules "$tmp/huge.json" --kind run --max-input-size 200000000 >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 0 ] && grep -q '"max_price": 2.0' "$tmp/out"; then pass; else fail "100 MB spec with a raised limit: $(head -c 300 "$tmp/err")"; fi

# Nested 100,000 deep: a clear limit error with its position, no recursion.
python3 -c "print('{\"a\": ' + '[' * 100000 + ']' * 100000 + '}')" >"$tmp/deep.json"
expect 2 "deep.json:1:518: nesting deeper than 512 levels" -- apply rules/example.rules "$tmp/deep.json" --kind run
python3 -c "print('a: ' + '[' * 100000 + ']' * 100000)" >"$tmp/deep.yml"
expect 2 "deep.yml:[0-9]*:[0-9]*: nesting deeper than 512 levels" -- apply rules/example.rules "$tmp/deep.yml" --kind run
python3 -c "print('{\"user\":\"u\",\"project\":\"p\",\"spec\":' + '{\"a\":' * 100000 + '1' + '}' * 100000 + '}')" >"$tmp/deep.request.json"
expect 2 "nesting deeper than 512 levels" -- apply rules/example.rules --request "$tmp/deep.request.json" --kind run

# YAML alias bombs: the budget counts bytes, so one 100 KB anchored string
# repeated 10,000 times (1 GB from a 150 KB text) is refused at once, as is
# the classic nine-level "billion laughs" of small nodes; both in a SkyPilot
# task too, where the YAML comes inside the request body.
python3 -c "
import sys
sys.stdout.write('configuration:\n  type: task\n  env: {BIG: &big ' + 'x' * 100000 + '}\n  commands:\n')
sys.stdout.write('  - *big\n' * 10000)
" >"$tmp/alias-bytes.yml"
expect 2 "alias-bytes.yml:[0-9]*:[0-9]*: aliases expand to more than [0-9]* bytes (the limit for a [0-9]*-byte text: 10 times its size" -- apply rules/example.rules "$tmp/alias-bytes.yml" --kind run
python3 -c "
print('a: &a [x, x, x, x, x, x, x, x, x, x]')
for i in range(1, 9):
    p, c = chr(ord('a') + i - 1), chr(ord('a') + i)
    print(c + ': &' + c + ' [' + ', '.join(['*' + p] * 10) + ']')
" >"$tmp/laughs.yml"
expect 2 "laughs.yml:[0-9]*:[0-9]*: aliases expand to more than" -- apply rules/example.rules "$tmp/laughs.yml" --kind run
python3 - "$tmp" <<'PY'
import json, sys
task = "name: bomb\nenvs: {BIG: &big " + "x" * 100000 + "}\nrun: |\n  echo\nfile_mounts:\n" + "".join(
    "  /m%d: *big\n" % i for i in range(10000))
body = {"task": task, "skypilot_config": "{}\n", "request_name": "launch", "request_options": None,
        "at_client_side": False, "user": "id: u1\nname: eve\n", "client_api_version": 49, "client_version": "1.0.0"}
open(sys.argv[1] + "/alias-bomb.request.json", "w").write(json.dumps(json.dumps(body)))
PY
expect 2 'request body: "task" (YAML) at line [0-9]*, column [0-9]*: aliases expand to more than' -- apply tests/golden/apply/inputs/skypilot_proto.rules --request "$tmp/alias-bomb.request.json"

# Empty and binary specs.
: >"$tmp/empty.json"
expect 2 "empty.json:1:1: invalid JSON: empty input" -- apply rules/example.rules "$tmp/empty.json" --kind run
printf '\377\376\000\001garbage' >"$tmp/binary.yml"
expect 2 "binary.yml:[0-9]*:[0-9]*: invalid YAML" -- apply rules/example.rules "$tmp/binary.yml" --kind run

# Every byte of a small compiled bundle flipped, and every truncation: the
# verifier rejects it (exit 2 with a message) or it runs safely (0/1).
"$RULEC" compile rules/example.rules -o "$tmp/ex.rbc" || fail "compile example"
spec=tests/golden/apply/inputs/task.spec.json
size=$(wc -c <"$tmp/ex.rbc")
mkdir "$tmp/mut"
python3 -c "
import sys, zlib
b = open(sys.argv[1], 'rb').read()
for i in range(len(b)):
    f = bytearray(b); f[i] ^= 0xFF
    open('%s/flip%d.rbc' % (sys.argv[2], i), 'wb').write(f)
    # The same flip with the checksum made right again, so the decoder and
    # the verifier (not just the CRC) have to catch it.
    if i >= 16:
        f[12:16] = zlib.crc32(bytes(f[16:])).to_bytes(4, 'little')
        open('%s/flipfixed%d.rbc' % (sys.argv[2], i), 'wb').write(f)
    # Cuts keep the magic, so they are read as (broken) bundles.
    if i >= 4:
        open('%s/cut%d.rbc' % (sys.argv[2], i), 'wb').write(b[:i])
" "$tmp/ex.rbc" "$tmp/mut"
crashes=0; accepted=0; refused=0
for f in "$tmp"/mut/flip*.rbc; do
    "$RULEC" apply "$f" "$spec" --kind run >/dev/null 2>"$tmp/err"
    st=$?
    if [ "$st" -ge 3 ]; then crashes=$((crashes + 1)); echo "  $(basename "$f"): exit $st"; fi
    if [ "$st" -eq 2 ]; then
        refused=$((refused + 1))
        # The error names the bundle, unless the flip turned the magic into
        # text that is then (rightly) read as a broken .rules source.
        grep -q "$(basename "$f")" "$tmp/err" || { crashes=$((crashes + 1)); echo "  $(basename "$f"): error does not name the file: $(cat "$tmp/err")"; }
    else
        accepted=$((accepted + 1))
    fi
done
for f in "$tmp"/mut/cut*.rbc; do
    "$RULEC" apply "$f" "$spec" --kind run >"$tmp/out" 2>/dev/null
    st=$?
    if [ "$st" -ne 2 ] || [ -s "$tmp/out" ]; then crashes=$((crashes + 1)); echo "  $(basename "$f"): exit $st"; fi
done
if [ "$crashes" -eq 0 ] && [ "$refused" -gt 0 ]; then pass; else fail "$crashes bad outcomes over $size flipped/cut bundles"; fi
echo "  (every byte of a $size-byte bundle flipped, with and without a fixed checksum: $refused refused with an error, $accepted ran; every cut refused)"

summary
