#!/bin/sh
# run-sets.sh - one folder, one policy set: rulec check, compile, disasm,
# apply and rulesd load the same policies from a folder that holds a
# source, a bundle, hidden files and other files; sources and bundles are
# told apart by content, not by their names.
set -u
BUILD=${BUILD:-build}
RULEC=${RULEC:-$BUILD/rulec}
RULESD=${RULESD:-$BUILD/rulesd}
SUITE=sets; . "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

d=$tmp/policies
mkdir "$d"
printf 'policy "a" priority 1 target any;\non * { set a = 1; }\n' >"$d/a.rules"
printf 'policy "b" priority 2 target any;\non * { set b = a + 1; }\n' >"$tmp/b.rules"
"$RULEC" compile "$tmp/b.rules" -o "$d/b.rbc" || fail "cannot compile the fixture bundle"
# An editor's leftovers and a hidden policy: loaded, each would change the
# answer or break the set.
printf 'policy "hidden";\non * { forbid "a hidden file was loaded"; }\n' >"$d/.hidden.rules"
printf 'this is not a policy {{{' >"$d/.a.rules.swp"
cp "$d/b.rbc" "$d/.b.rbc"
printf 'notes, not a policy\n' >"$d/README.md"
echo '{}' >"$tmp/spec.json"
expected='{"a":1,"b":2}'

check "check DIR" "$RULEC" check "$d"
check "compile DIR" "$RULEC" compile "$d" -o "$tmp/all.rbc"
"$RULEC" disasm "$d" >"$tmp/disasm.out" 2>&1
names=$(sed -n 's/^policy "\([a-z]*\)" .*/\1/p' "$tmp/disasm.out" | tr '\n' ' ')
[ "$names" = "a b " ] && pass || fail "disasm DIR lists '$names', not 'a b ': $(head -c 300 "$tmp/disasm.out")"
for what in "$d" "$tmp/all.rbc"; do
    out=$("$RULEC" apply "$what" "$tmp/spec.json" --kind run --output json 2>&1 | tr -d ' \n')
    [ "$out" = "$expected" ] && pass || fail "apply $what gave '$out', not '$expected'"
done
# The set rule is the same across the inputs: the folder and its own
# bundle hold two policies named 'a' with one priority.
"$RULEC" apply "$d" "$tmp/all.rbc" "$tmp/spec.json" --kind run >"$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q "policy 'a' is defined twice with priority 1" "$tmp/out" && pass ||
    fail "a clash between a folder and a bundle is not refused: $(head -c 300 "$tmp/out")"

# Content decides: a bundle named .rules and a source named .rbc load.
cp "$d/b.rbc" "$tmp/bundle-named.rules"
cp "$d/a.rules" "$tmp/source-named.rbc"
out=$("$RULEC" apply "$tmp/source-named.rbc" "$tmp/bundle-named.rules" "$tmp/spec.json" --kind run --output json 2>&1 | tr -d ' \n')
[ "$out" = "$expected" ] && pass || fail "misnamed inputs gave '$out', not '$expected'"
check "check of a misnamed bundle" "$RULEC" check "$tmp/bundle-named.rules"

# rulesd reads the folder by the same rule.
out=$("$RULESD" --policy "$d" --check 2>&1)
[ "$out" = "rulesd: configuration and 2 policies OK" ] && pass || fail "rulesd --check: $out"
if command -v curl >/dev/null; then
    "$RULESD" --policy "$d" --port 0 --port-file "$tmp/port" --no-watch 2>"$tmp/rulesd.log" &
    pid=$!
    i=0
    while [ ! -s "$tmp/port" ] && [ $i -lt 200 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
    port=$(cat "$tmp/port" 2>/dev/null)
    body=$(curl -s --max-time 10 -X POST --data-binary '{"user":"u","project":"p","spec":{}}' \
        "http://127.0.0.1:${port:-0}/apply_policies/on_run_apply")
    [ "$body" = '{"spec":{"a":1,"b":2},"error":null}' ] && pass || fail "rulesd answered '$body'"
    kill "$pid"
    wait "$pid" 2>/dev/null
    pid=
else
    fail "curl is missing (make deps installs it)"
fi

summary
