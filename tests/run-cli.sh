#!/bin/sh
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
    kind=run
    case $(basename "$f") in *gateway*) kind=gateway ;; *volume*) kind=volume ;; *fleet*) kind=fleet ;; esac
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
    [ "$(grep -c '^policy ' "$tmp/a.txt")" = 6 ] && pass || fail "disasm of bundle vs sources"

summary
