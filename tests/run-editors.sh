#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-editors.sh - editors/: every keyword of the grammar (grammar/lexer.l)
# is in the Vim syntax and the TextMate grammar; Vim highlights a .rules
# file (vim -es, the syntax group at chosen positions); the JSON Schemas
# accept the repository's own test files and rulesd.example.yaml and
# reject broken ones.
set -u
SUITE=editors; . "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Debian's python3 (python3-jsonschema, python3-yaml: make deps).
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# Lines "ok ..." pass, "FAIL ..." fail.
tally_lines() {
    while IFS= read -r line; do
        case $line in
            ok*) pass ;;
            *) fail "$line" ;;
        esac
    done <"$1"
}

$PY tests/editors.py keywords grammar/lexer.l editors/vim/syntax/rules.vim \
    editors/vscode/syntaxes/rules.tmLanguage.json >"$tmp/kw" 2>&1
tally_lines "$tmp/kw"
[ "$(grep -c '^ok keyword' "$tmp/kw")" -ge 50 ] && pass || fail "too few keyword checks"
$PY tests/editors.py tm editors/vscode/syntaxes/rules.tmLanguage.json grammar/lexer.l >"$tmp/tm" 2>&1
tally_lines "$tmp/tm"
for f in editors/vscode/package.json editors/vscode/language-configuration.json; do
    $PY -c 'import json, sys; json.load(open(sys.argv[1]))' "$f" && pass || fail "$f is not JSON"
done
# The extension's files exist where package.json says.
$PY - <<'PYEOF' >"$tmp/pkg" 2>&1
import json, os
p = json.load(open("editors/vscode/package.json"))
c = p["contributes"]
paths = [g["path"] for g in c["grammars"]] + [l["configuration"] for l in c["languages"]] + \
        [y["url"] for y in c["yamlValidation"]]
for x in paths:
    print(("ok " if os.path.exists(os.path.join("editors/vscode", x)) else "FAIL missing ") + x)
lc = json.load(open("editors/vscode/language-configuration.json"))
print("ok" if lc["comments"]["lineComment"] == "#" else "FAIL comment", "line comment")
print("ok" if ["{", "}"] in lc["brackets"] and {"open": "(", "close": ")"} in lc["autoClosingPairs"] else "FAIL", "brackets")
PYEOF
tally_lines "$tmp/pkg"

# Vim: the syntax group under the cursor at chosen places of a file.
if command -v vim >/dev/null 2>&1; then
    cat >"$tmp/t.rules" <<'RULES'
policy "x" priority 10;
on run {
    forbid-if configuration.image =~ /^a\/b/i and x.default > 1h: "bad {$user} image";
    set y = 24GB;  # a comment
    append-tags {a: null};
}
RULES
    # line col expected-group
    cat >"$tmp/want" <<'WANT'
1 1 rulesStructure
1 8 rulesString
1 12 rulesStructure
2 1 rulesStructure
3 5 rulesStatement
3 38 rulesRegex
3 45 rulesRegex
3 47 rulesOperator
3 54 rulesField
3 64 rulesDuration
3 68 rulesString
3 74 rulesVariable
4 13 rulesSize
4 20 rulesComment
5 5 rulesStatement
5 21 rulesConstant
WANT
    : >"$tmp/cmds"
    while read -r l c g; do
        echo "call add(out, '$l $c ' . synIDattr(synID($l, $c, 1), 'name'))" >>"$tmp/cmds"
    done <"$tmp/want"
    vim -N -u NONE -i NONE -es \
        --cmd "set rtp^=editors/vim" --cmd "filetype on" --cmd "syntax on" \
        -c "let out = []" -c "source $tmp/cmds" \
        -c "call add(out, 'filetype ' . &filetype)" \
        -c "call writefile(out, '$tmp/got')" -c "qa!" "$tmp/t.rules" </dev/null >/dev/null 2>&1
    if [ -f "$tmp/got" ]; then
        grep -qx "filetype rules" "$tmp/got" && pass || fail "vim: ftdetect did not set filetype=rules"
        grep -v '^filetype' "$tmp/got" >"$tmp/got.groups"
        while read -r l c g; do
            got=$(grep "^$l $c " "$tmp/got.groups" | cut -d' ' -f3)
            [ "$got" = "$g" ] && pass || fail "vim: line $l col $c is '$got', expected $g"
        done <"$tmp/want"
    else
        fail "vim -es wrote no result"
    fi
else
    fail "vim is not installed (make deps)"
fi

# The schemas accept every test file of the repository and the example
# configuration ...
find rules tests -name '*.test.yaml' | sort >"$tmp/tests"
# (those that are meant to be broken are refused by rulec test: skip them)
grep -v '/malformed/\|/broken' "$tmp/tests" >"$tmp/good" || true
# shellcheck disable=SC2046
$PY tests/editors.py validate editors/vscode/schemas/rules-test.schema.json $(cat "$tmp/good") >"$tmp/v" 2>&1
n=$(grep -c '^ok' "$tmp/v")
[ "$n" -ge 15 ] && [ "$n" = "$(wc -l <"$tmp/good")" ] && pass || { fail "test-file schema: $n of $(wc -l <"$tmp/good") valid"; grep -v '^ok' "$tmp/v" | head; }
$PY tests/editors.py validate editors/vscode/schemas/rulesd.schema.json server/rulesd.example.yaml >"$tmp/v" 2>&1
grep -q '^ok' "$tmp/v" && pass || fail "rulesd schema: $(cat "$tmp/v")"
# ... and reject broken ones.
printf 'policies: [a.rules]\ncases:\n  - name: x\n    kind: run\n    spec: {}\n    expect: {decision: maybe}\n' >"$tmp/bad1.test.yaml"
printf 'policies: [a.rules]\ncases:\n  - name: x\n    kind: run\n    spec: {}\n    expcet: {decision: allowed}\n' >"$tmp/bad2.test.yaml"
printf 'policies: [a.rules]\ncases:\n  - name: x\n    kind: run\n    spec: {}\n    expect: {decision: allowed, unchanged: true, changes: {a: 1}}\n' >"$tmp/bad3.test.yaml"
$PY tests/editors.py validate editors/vscode/schemas/rules-test.schema.json "$tmp"/bad*.test.yaml >"$tmp/v" 2>&1
[ "$(grep -c '^invalid' "$tmp/v")" = 3 ] && pass || fail "broken test files accepted: $(cat "$tmp/v")"
printf 'listen: 127.0.0.1:8000\nlimits: {max_body_byte: 10}\n' >"$tmp/bad.yaml"
printf 'listen: 127.0.0.1:8000\nlog_level: verbose\n' >"$tmp/bad2.yaml"
$PY tests/editors.py validate editors/vscode/schemas/rulesd.schema.json "$tmp/bad.yaml" "$tmp/bad2.yaml" >"$tmp/v" 2>&1
[ "$(grep -c '^invalid' "$tmp/v")" = 2 ] && pass || fail "broken rulesd.yaml accepted: $(cat "$tmp/v")"

summary
