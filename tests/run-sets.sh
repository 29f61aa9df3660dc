#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
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
# A policy that stops on an empty spec (it fails closed on a spec without
# an image) is deployable: rulesd's warm-up run does not refuse it.
mkdir -p "$tmp/failclosed"
printf 'policy "img";\non run { forbid-if lower(configuration.image) =~ /evil/: "no"; }\n' \
    >"$tmp/failclosed/img.rules"
out=$("$RULESD" --policy "$tmp/failclosed" --check 2>&1)
[ "$out" = "rulesd: configuration and 1 policies OK" ] && pass || fail "rulesd --check of a fail-closed policy: $out"
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

# ---- files with no content: never a policy that allows everything ----
# An empty file cannot be told apart by content. Named as a bundle it is an
# error (a truncated deployment); as a source, a warning that check and
# rulesd --check report. Blank, comment-only and header-only sources hold
# no rules either.
e=$tmp/empty
mkdir "$e"
: >"$e/example.rbc"
: >"$e/empty.rules"
printf '  \n# nothing here yet\n\n' >"$e/comments.rules"
printf 'policy "only-a-header" priority 3;\non run { }\n' >"$e/header.rules"
printf '\n\n  \n' >"$e/blank.rbc"
printf '\177RB' >"$e/cut.rbc"
check_says() {  # check_says STATUS PATTERN CMD...: CMD exits STATUS, its output holds PATTERN
    want=$1 pattern=$2; shift 2
    "$@" >"$tmp/out" 2>&1
    st=$?
    if [ "$st" -eq "$want" ] && grep -qF -- "$pattern" "$tmp/out"; then pass
    else fail "$*: status $st (want $want), output lacks '$pattern': $(head -c 400 "$tmp/out")"; fi
}
check_says 2 "$e/example.rbc: error: named as a bundle, but the file is empty: not loaded" "$RULEC" check "$e/example.rbc"
check_says 2 "$e/blank.rbc: error: named as a bundle, but it holds neither a bundle nor any rules" "$RULEC" check "$e/blank.rbc"
check_says 2 "$e/cut.rbc: error: a bundle cut short: 3 bytes, a bundle has at least 20" "$RULEC" check "$e/cut.rbc"
for f in empty comments header; do
    case $f in empty) what="the file is empty";; *) what="the file holds no rules";; esac
    check_says 0 "$e/$f.rules: warning: $what: as a policy it allows everything and changes nothing" "$RULEC" check "$e/$f.rules"
done
check_says 2 "$e/example.rbc: error: named as a bundle, but the file is empty" "$RULEC" apply "$e/example.rbc" "$tmp/spec.json" --kind run
check_says 1 "$e/example.rbc: error: named as a bundle, but the file is empty" "$RULESD" --check --policy "$e/example.rbc"
check_says 0 "$e/empty.rules: warning: the file is empty" "$RULESD" --check --policy "$e/empty.rules"
grep -q "^rulesd: configuration and 1 policies OK, with 1 warning (above)$" "$tmp/out" && pass ||
    fail "rulesd --check does not count the warning: $(cat "$tmp/out")"

# ---- a deployment truncated under a running rulesd ----
# The served set's bundle is truncated to nothing, then overwritten with a
# source; a source that held rules is emptied. Each reload is refused
# (logged, counted), and the previous set keeps rejecting a privileged task.
if command -v curl >/dev/null; then
    dep=$tmp/deploy
    mkdir "$dep"
    "$RULEC" compile rules/example.rules -o "$dep/example.rbc" || fail "cannot compile the fixture bundle"
    cp rules/gpu-limits.rules "$dep/gpu-limits.rules"
    cp "$dep/example.rbc" "$tmp/example.rbc.good"
    printf 'listen: 127.0.0.1:0\npolicies: [%s]\nwatch: {interval_ms: 100}\n' "$dep" >"$tmp/deploy.yaml"
    rm -f "$tmp/port"
    "$RULESD" --config "$tmp/deploy.yaml" --port-file "$tmp/port" 2>"$tmp/deploy.log" &
    pid=$!
    i=0
    while [ ! -s "$tmp/port" ] && [ $i -lt 200 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
    port=$(cat "$tmp/port" 2>/dev/null)
    privileged='{"user":"u","project":"p","spec":{"configuration":{"type":"task","privileged":true,"commands":["id"]}}}'
    rejected() {  # rejected WHAT: the privileged task is still refused
        body=$(curl -s --max-time 10 -X POST --data-binary "$privileged" "http://127.0.0.1:${port:-0}/apply_policies/on_run_apply")
        case $body in
        *'"error":"Running privileged containers is forbidden"'*) pass ;;
        *) fail "$1: the privileged task was not rejected: $(printf '%s' "$body" | head -c 300)" ;;
        esac
    }
    failures() {  # failures N: wait (at most 10 s) for the Nth refused reload
        i=0
        while [ "$(grep -c 'reload failed: still serving' "$tmp/deploy.log")" -lt "$1" ] && [ $i -lt 100 ]; do
            sleep 0.1; i=$((i + 1))
        done
        metrics=$(curl -s --max-time 10 "http://127.0.0.1:${port:-0}/metrics")
        if printf '%s\n' "$metrics" | grep -q "^rulesd_reload_failures_total $1\$" &&
            printf '%s\n' "$metrics" | grep -q "^rulesd_policy_set_revision $2\$"; then pass
        else fail "after refused reload $1: $(printf '%s\n' "$metrics" | grep -E '^rulesd_(reload|policy_set)') $(tail -3 "$tmp/deploy.log")"; fi
    }
    rejected "before any change"
    # Truncated in place, as a failed copy leaves it.
    : >"$dep/example.rbc"
    failures 1 1
    grep -qF "reload failed: $dep/example.rbc: error: was a compiled bundle in revision 1 and is now empty" "$tmp/deploy.log" &&
        pass || fail "the truncated bundle is not named in the log: $(tail -4 "$tmp/deploy.log")"
    rejected "after the bundle was truncated"
    # Overwritten with a source that forbids nothing: no longer a bundle.
    printf 'policy "example";\non run { warn "anything goes"; }\n' >"$dep/example.rbc"
    failures 2 1
    grep -qF "$dep/example.rbc: error: was a compiled bundle in revision 1 and is no longer one" "$tmp/deploy.log" &&
        pass || fail "the overwritten bundle is not named in the log: $(tail -4 "$tmp/deploy.log")"
    rejected "after the bundle was overwritten with a source"
    # Put back: the next reload succeeds (revision 2).
    cp "$tmp/example.rbc.good" "$dep/example.rbc"
    i=0
    until curl -s --max-time 10 "http://127.0.0.1:${port:-0}/healthz" | grep -q '"revision":2' || [ $i -ge 100 ]; do
        sleep 0.1; i=$((i + 1))
    done
    [ $i -lt 100 ] && pass || fail "the restored bundle was not loaded: $(tail -3 "$tmp/deploy.log")"
    # A source that held rules, emptied down to its header.
    printf 'policy "gpu-limits";\n' >"$dep/gpu-limits.rules"
    failures 3 2
    grep -qF "$dep/gpu-limits.rules: error: held rules in revision 2 and now holds none" "$tmp/deploy.log" &&
        pass || fail "the emptied source is not named in the log: $(tail -4 "$tmp/deploy.log")"
    rejected "after a source was emptied"
    kill "$pid"
    wait "$pid" && pass || fail "rulesd did not exit cleanly: $(tail -c 600 "$tmp/deploy.log")"
    pid=
else
    fail "curl is missing (make deps installs it)"
fi

summary
