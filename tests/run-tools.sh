#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-tools.sh - the tools around the language: rulec eval (values, types,
# located errors), --help and --version of every command, colour.
set -u
BUILD=${BUILD:-build}
RULEC=${RULEC:-$BUILD/rulec}
RULESD=${RULESD:-$BUILD/rulesd}
SUITE=tools; . "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
SPEC=tests/data/eval/run.json

# eval EXPR: stdout is the value as JSON and its type, exit 0.
ev() {
    want=$1; shift
    out=$("$RULEC" eval "$@" 2>&1); st=$?
    if [ "$st" = 0 ] && [ "$out" = "$(printf '%b' "$want")" ]; then pass; else fail "eval $1: exit $st: $out"; fi
}
ev 'true\nbool' 'configuration.resources.gpu.count.min > 2' --spec "$SPEC" --kind run
ev '2.5\nfloat' 'configuration.max_price' --spec "$SPEC" --kind run
ev '"task"\nstring' 'configuration.type' --spec "$SPEC" --kind run
ev '{"gpu":{"count":{"min":4}}}\nmap' 'configuration.resources' --spec "$SPEC" --kind run
ev '["a","b"]\nlist' 'configuration.volumes' --spec "$SPEC" --kind run
ev 'null\nnull' 'configuration.image' --spec "$SPEC" --kind run
ev '86401\nint' '1d + 1' --spec "$SPEC" --kind run
ev '24.0\nfloat' '24GB' --spec "$SPEC" --kind run
ev '"a\\"b"\nstring' '"a\"b"' --spec "$SPEC" --kind run
ev '"alice/ml"\nstring' '$user + "/" + $project' --spec "$SPEC" --kind run --user alice --project ml
ev 'true\nbool' 'any v in configuration.volumes: v == "b"' --spec "$SPEC" --kind run
ev '1\nint' 'task.num_nodes ?? 1' --spec "$SPEC" --kind jobs.launch --target skypilot
ev '3\nint' 'a.b ?? 3' --spec "$SPEC" --kind anything --target any
# YAML from standard input.
out=$(printf 'configuration:\n  type: service\n' | "$RULEC" eval 'configuration.type' --spec - --kind run 2>&1)
[ "$out" = "$(printf '"service"\nstring')" ] && pass || fail "eval on YAML from stdin: $out"

# Errors point into the expression, exit 1.
everr() {
    want=$1; shift
    "$RULEC" eval "$@" >"$tmp/out" 2>"$tmp/err"; st=$?
    if [ "$st" = 1 ] && [ ! -s "$tmp/out" ] && [ "$(cat "$tmp/err")" = "$(printf '%b' "$want")" ]; then pass; else
        fail "eval error $1: exit $st: $(cat "$tmp/out" "$tmp/err")"; fi
}
everr "expression:1:15: error: unknown field 'max_prize' in configuration of a run spec; did you mean 'max_price'?\nconfiguration.max_prize > 1\n              ^~~~~~~~~" \
    'configuration.max_prize > 1' --spec "$SPEC" --kind run
everr "expression:1:4: error: syntax error: the expression ends too early, expected expression\n1 +\n   ^" \
    '1 +' --spec "$SPEC" --kind run
everr "expression:1:2: error: syntax error: unexpected ',', expected ')'\n1, 2\n ^" '1, 2' --spec "$SPEC" --kind run
everr "expression: error: cannot apply lower() to null" 'lower(configuration.image)' --spec "$SPEC" --kind run
# Usage and input errors, exit 2.
"$RULEC" eval 'x' --spec "$SPEC" --kind bogus >/dev/null 2>"$tmp/err"; st=$?
[ "$st" = 2 ] && grep -q "unknown kind 'bogus'" "$tmp/err" && pass || fail "eval --kind bogus: exit $st"
"$RULEC" eval 'x' --kind run >/dev/null 2>"$tmp/err"; st=$?
[ "$st" = 2 ] && grep -q -- "--spec FILE is required" "$tmp/err" && pass || fail "eval without --spec: exit $st"
"$RULEC" eval 'x' --spec "$tmp/none.json" --kind run --target any >/dev/null 2>"$tmp/err"; st=$?
[ "$st" = 2 ] && grep -q "cannot read" "$tmp/err" && pass || fail "eval missing spec: exit $st"
printf '[1]' >"$tmp/list.json"
"$RULEC" eval '1' --spec "$tmp/list.json" --kind run >/dev/null 2>"$tmp/err"; st=$?
[ "$st" = 2 ] && grep -q "must be a JSON object" "$tmp/err" && pass || fail "eval on a list: exit $st"

# Every subcommand answers --help (exit 0, on standard output) with its
# usage, its options and an example; so do rulec and rulesd themselves.
for c in check compile disasm apply test fmt eval completion keygen verify; do
    "$RULEC" $c --help >"$tmp/help" 2>"$tmp/err"; st=$?
    if [ "$st" = 0 ] && [ ! -s "$tmp/err" ] && grep -q "^usage: rulec $c" "$tmp/help" &&
       grep -q "^example:" "$tmp/help" && grep -A1 "^example:" "$tmp/help" | grep -q "rulec $c"; then
        pass; else fail "rulec $c --help: exit $st, no usage or example"; fi
    # each option the completion offers for it is described in its help
    opts=$("$RULEC" completion bash | sed -n "s/^ *$c) opts=\"\(.*\)\" ;;/\1/p")
    missing=""
    for o in $opts; do
        case $o in --color|--help|-k|-o|-w) continue ;; esac
        grep -q -- "$o" "$tmp/help" || missing="$missing $o"
    done
    [ -z "$missing" ] && pass || fail "rulec $c --help does not describe:$missing"
done
"$RULEC" --help | grep -q "completion bash|zsh|fish" && pass || fail "rulec --help lists no completion"
if [ -x "$RULESD" ]; then
    "$RULESD" --help >"$tmp/help" 2>&1 && grep -q "^Example:" "$tmp/help" && pass || fail "rulesd --help has no example"
fi

# Colour: on a terminal by default (script(1) gives one), never with
# NO_COLOR set or --color=never, nor into a pipe; --color=always into a
# pipe too (goldens: tests/golden/apply/color_*.cmd).
esc=$(printf '\033[')
if command -v script >/dev/null 2>&1; then
    on_tty() { script -qec "$*" /dev/null 2>&1; }
    on_tty "$RULEC" check tests/golden/color/diagnostics.rules | grep -qF "${esc}1;31merror:" && pass || fail "no colour on a terminal"
    on_tty env NO_COLOR=1 "$RULEC" check tests/golden/color/diagnostics.rules | grep -qF "$esc" && fail "colour with NO_COLOR" || pass
    on_tty "$RULEC" check --color=never tests/golden/color/diagnostics.rules | grep -qF "$esc" && fail "colour with --color=never" || pass
    on_tty "$RULEC" test rules/example.test.yaml | grep -qF "${esc}32mPASS" && pass || fail "no colour in test results on a terminal"
else
    fail "script(1) is not installed (util-linux)"
fi
"$RULEC" check tests/golden/color/diagnostics.rules 2>&1 | grep -qF "$esc" && fail "colour into a pipe" || pass
"$RULEC" check --color=sometimes rules/ >/dev/null 2>"$tmp/err"; st=$?
[ "$st" = 2 ] && grep -q "auto, always or never" "$tmp/err" && pass || fail "--color=sometimes: exit $st"

# Shell completions: bash's, sourced in bash, asked with COMP_WORDS.
if command -v bash >/dev/null 2>&1; then
    "$RULEC" completion bash >"$tmp/rulec.bash"
    mkdir -p "$tmp/cwd/pol"
    : >"$tmp/cwd/a.rules"; : >"$tmp/cwd/b.rbc"; : >"$tmp/cwd/s.json"; : >"$tmp/cwd/t.test.yaml"; : >"$tmp/cwd/n.txt"
    rulec_abs=$(cd "$(dirname "$RULEC")" && pwd)/$(basename "$RULEC")
    # comp WORDS...: the completions of the last word (it may be empty).
    comp() {
        (cd "$tmp/cwd" && bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _rulec; printf "%s
" "${COMPREPLY[@]}" | sort | tr "
" " "'             sh "$tmp/rulec.bash" "$rulec_abs" "$@")
    }
    cw() {
        want=$1; shift
        got=$(comp "$@")
        [ "$got" = "$want" ] && pass || fail "bash completion of '$*': got '$got', want '$want'"
    }
    cw "check compile completion " c
    cw "fmt " f
    cw "jobs.launch jobs.pool_apply " apply x.rules --target skypilot --kind jobs.
    cw "fleet " apply x.rules --kind fl
    cw "a.rules b.rbc pol " check ""
    cw "a.rules pol " fmt ""
    cw "pol t.test.yaml " test ""
    cw "pol s.json t.test.yaml " eval x --spec ""
    cw "--check --color " fmt --c
    cw "always " check --color al
    cw "dstack " eval x --target ds
    bash -n "$tmp/rulec.bash" && pass || fail "bash completion does not parse"
else
    fail "bash is not installed"
fi
# zsh's and fish's: printed, naming every subcommand, each shell's own form.
"$RULEC" completion zsh | head -1 | grep -qx '#compdef rulec' && pass || fail "zsh completion has no #compdef"
for sh in zsh fish; do
    out=$("$RULEC" completion $sh)
    bad=""
    for c in check compile disasm apply test fmt eval completion keygen verify; do
        echo "$out" | grep -qw "$c" || bad="$bad $c"
    done
    echo "$out" | grep -q "completion kinds" || bad="$bad kinds"
    [ -z "$bad" ] && pass || fail "$sh completion misses:$bad"
done
"$RULEC" completion tcsh >/dev/null 2>"$tmp/err"; st=$?
[ "$st" = 2 ] && grep -q "bash, zsh or fish" "$tmp/err" && pass || fail "completion tcsh: exit $st"
[ "$("$RULEC" completion targets | tr '\n' ' ')" = "dstack skypilot any " ] && pass || fail "completion targets"
[ "$("$RULEC" completion kinds | tr '\n' ' ')" = "run fleet volume gateway " ] && pass || fail "completion kinds"

summary
