#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-cli.sh - rulec end to end beyond single golden runs: compiled bundles
# behave exactly like their sources, a failed compile never clobbers or
# half-writes its output, folders and standard input work as documented.
set -u
BUILD=${BUILD:-build}
RULEC=${RULEC:-$BUILD/rulec}
SPECS=${RULES_SPECS_DIR:-tests/data/dstack}/requests
SUITE=cli; . "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A bundle compiled from rules/ answers every real request exactly as the
# sources do (same output, same exit status).
"$RULEC" compile rules/ -o "$tmp/all.rbc" || fail "compile rules/"
for f in "$SPECS"/*.json; do
    kind=$(sh tests/kind-of.sh "$f")
    "$RULEC" apply rules/ --request "$f" --kind "$kind" --explain >"$tmp/src.out" 2>&1; a=$?
    "$RULEC" apply "$tmp/all.rbc" --request "$f" --kind "$kind" --explain >"$tmp/rbc.out" 2>&1; b=$?
    if [ "$a" = "$b" ] && cmp -s "$tmp/src.out" "$tmp/rbc.out"; then pass; else fail "bundle differs from sources on $(basename "$f")"; fi
done

# A bundle gets the permissions of a plain create (umask), not mkstemp's 0600.
(umask 022 && "$RULEC" compile rules/example.rules -o "$tmp/perm.rbc")
[ "$(stat -c %a "$tmp/perm.rbc")" = 644 ] && pass || fail "bundle permissions are $(stat -c %a "$tmp/perm.rbc")"

# Compiling is deterministic.
"$RULEC" compile rules/ -o "$tmp/again.rbc" && cmp -s "$tmp/all.rbc" "$tmp/again.rbc" && pass || fail "two compiles differ"

# A failed compile leaves an existing output untouched and no temporary files.
cp "$tmp/all.rbc" "$tmp/keep.rbc"
printf 'on run { set a = ; }\n' >"$tmp/broken.rules"
"$RULEC" compile "$tmp/broken.rules" -o "$tmp/keep.rbc" 2>"$tmp/err"; st=$?
if [ "$st" = 1 ] && cmp -s "$tmp/all.rbc" "$tmp/keep.rbc" && grep -q "broken.rules:1:18: error" "$tmp/err" &&
   [ -z "$(ls "$tmp" | grep tmp)" ]; then pass; else fail "failed compile: exit $st, output clobbered or temp left"; fi
# ... and an unwritable destination is a clear error, exit 2.
"$RULEC" compile rules/example.rules -o /nonexistent-dir/x.rbc 2>"$tmp/err"; st=$?
if [ "$st" = 2 ] && grep -q "cannot write '/nonexistent-dir/x.rbc'" "$tmp/err"; then pass; else fail "unwritable output: exit $st"; fi

# The spec can come from standard input.
python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['spec']))" "$SPECS/synthetic_task_limits.request.json" |
    "$RULEC" apply rules/example.rules - --kind run >"$tmp/out"; st=$?
if [ "$st" = 0 ] && grep -q '"max_price": 2.0' "$tmp/out"; then pass; else fail "spec from stdin: exit $st"; fi

# Same-name override across files: the higher priority wins.
printf 'policy "example" priority 50;\non run { set configuration.max_price = 9.5; }\n' >"$tmp/site.rules"
"$RULEC" apply rules/example.rules "$tmp/site.rules" --request "$SPECS/synthetic_task_limits.request.json" --kind run >"$tmp/out"; st=$?
if [ "$st" = 0 ] && grep -q '"max_price": 9.5' "$tmp/out" && ! grep -q '"team": "my_team"' "$tmp/out"; then pass; else fail "same-name override"; fi
# ... also when one side is a compiled bundle; equal priority is an error.
printf 'policy "example";\non run { set configuration.max_price = 1.0; }\n' >"$tmp/clash.rules"
"$RULEC" apply "$tmp/all.rbc" "$tmp/clash.rules" --request "$SPECS/synthetic_task_limits.request.json" --kind run >"$tmp/out" 2>"$tmp/err"; st=$?
if [ "$st" = 2 ] && grep -q "policy 'example' is defined twice with priority 0" "$tmp/err" && [ ! -s "$tmp/out" ]; then pass; else fail "same name and priority across bundle and source: exit $st: $(cat "$tmp/err")"; fi

# An empty folder is an error, not an empty policy set.
mkdir "$tmp/empty"
"$RULEC" apply "$tmp/empty" "$SPECS/synthetic_task_limits.request.json" --kind run 2>"$tmp/err"; st=$?
if [ "$st" = 2 ] && grep -q "holds no .rules or .rbc files" "$tmp/err"; then pass; else fail "empty folder: exit $st"; fi

# disasm reads bundles and sources alike.
"$RULEC" disasm "$tmp/all.rbc" >"$tmp/a.txt" && "$RULEC" disasm rules/ >"$tmp/b.txt" &&
    [ "$(grep -c '^policy ' "$tmp/a.txt")" = "$(ls rules/*.rules | wc -l)" ] && pass || fail "disasm of bundle vs sources"

# rulec check --format: json and sarif go to standard output and nothing
# else does; the exit status is the text format's; both documents hold the
# text's records and keep to their shapes (tests/diagformat.py).
version=$("$RULEC" --version | head -1 | sed 's/^rulec //')
check_formats() {   # NAME STATUS POLICY...: all three formats exit STATUS
    name=$1 want=$2
    shift 2
    "$RULEC" check "$@" >"$tmp/t.out" 2>"$tmp/t.err"; ts=$?
    "$RULEC" check --format json "$@" >"$tmp/j.out" 2>"$tmp/j.err"; js=$?
    "$RULEC" check --format sarif "$@" >"$tmp/s.out" 2>"$tmp/s.err"; ss=$?
    if [ "$ts $js $ss" = "$want $want $want" ] && [ ! -s "$tmp/t.out" ] && [ ! -s "$tmp/j.err" ] &&
       [ ! -s "$tmp/s.err" ]; then pass; else
        fail "check --format, $name: exit $ts/$js/$ss (want $want), stderr: $(cat "$tmp/j.err" "$tmp/s.err")"
    fi
    check "check --format, $name" python3 tests/diagformat.py "$tmp/t.err" "$tmp/j.out" "$tmp/s.out" "$version"
}
check_formats "errors, notes and warnings" 1 tests/golden/check/header_param_errors.rules \
    tests/golden/check/unreachable_warnings.rules tests/golden/check/check_errors.rules \
    tests/golden/check/many_errors.rules tests/golden/check/syntax_errors.rules
check_formats "warnings only" 0 tests/golden/check/unreachable_warnings.rules
check_formats clean 0 rules/
check_formats "an unreadable file" 2 rules/example.rules "$tmp/no-such.rules"
check_formats "a corrupt bundle" 2 tests/golden/apply/inputs/corrupt.rbc
# A path may hold any bytes (here a quote, '%', ':' and one that is not
# UTF-8), a source any UTF-8: the json stays UTF-8 (U+FFFD for the bad
# byte), the sarif uri keeps the bytes percent-encoded, and sarif columns
# count code points where json's count bytes, as the text's do.
weird=$(printf '%s/we"ird %%20: \376.rules' "$tmp")
printf 'on run {\n    set configuration.max_price = len("\303\251\303\251") + nosuch(1);\n}\n' >"$weird"
check_formats "any bytes in a path, UTF-8 in a source" 1 "$weird"
check "check --format, columns and uri" python3 -c '
import json, sys
j = json.load(open(sys.argv[1], encoding="utf-8"))["diagnostics"]
s = json.load(open(sys.argv[2], encoding="utf-8"))["runs"][0]["results"]
rec = [r for r in j if r["message"].startswith("unknown function")][0]
res = [r for r in s if r["message"]["text"] == rec["message"]][0]
loc = res["locations"][0]["physicalLocation"]
assert rec["file"].endswith("/we\"ird %20: \ufffd.rules"), rec["file"]
assert loc["artifactLocation"]["uri"].endswith("/we%22ird%20%2520%3A%20%FE.rules"), loc
assert rec["span"]["start"]["column"] == 49 and loc["region"]["startColumn"] == 47, (rec, loc)
assert rec["span"]["end"]["column"] == 55 and loc["region"]["endColumn"] == 53, (rec, loc)
' "$tmp/j.out" "$tmp/s.out"

summary
