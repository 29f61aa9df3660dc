#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-jsonstrict.sh - the JSON strictness corpus (tests/data/json-strict/,
# whose README says what it holds): every text through `rulec apply`, as a
# spec and wrapped as {"v": ...}. A valid object is accepted and what rulec
# prints reads back equal (tests/json_same.py) and prints the same again; a
# valid non-object is refused as a spec and accepted wrapped; an invalid
# text is refused with exit 2 at the line and column invalid.tsv pins, with
# the message saying what is wrong. Any other exit status is a crash.
set -u
BUILD=${BUILD:-build}
RULEC=${RULEC:-$BUILD/rulec}
SUITE=jsonstrict; . "$(dirname "$0")/lib.sh"
D=tests/data/json-strict
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[ -x "$RULEC" ] || { fail "$RULEC is not built"; summary; exit 1; }

# apply FILE: rulec's exit status; stdout in $tmp/out, stderr in $tmp/err.
apply() {
    "$RULEC" apply --target any "$D/none.rules" "$1" --kind spec >"$tmp/out" 2>"$tmp/err"
}

wrap() {
    { printf '{"v": '; cat "$1"; printf '}'; } >"$tmp/wrapped.json"
}

# An accepted text: exit 0, reads back equal, and prints the same again.
accepted() {
    name=$1 in=$2 rc=$3
    if [ "$rc" -ne 0 ]; then
        fail "$name: exit $rc: $(head -c 300 "$tmp/err")"
        return
    fi
    if ! same=$(python3 tests/json_same.py "$in" "$tmp/out"); then
        fail "$name: printed text does not read back equal: $same"
        return
    fi
    cp "$tmp/out" "$tmp/first.json"
    apply "$tmp/first.json"
    if [ $? -eq 0 ] && cmp -s "$tmp/first.json" "$tmp/out"; then pass; else fail "$name: printed text does not print the same again"; fi
}

n=0
for f in "$D"/valid/*.json; do
    n=$((n + 1))
    name=valid/$(basename "$f" .json)
    apply "$f"
    rc=$?
    first=$(LC_ALL=C tr -d ' \t\r\n' <"$f" | head -c 1)
    if [ "$first" = "{" ]; then
        accepted "$name" "$f" "$rc"
    elif [ "$rc" -eq 2 ] && grep -q 'the spec must be a JSON object' "$tmp/err"; then
        pass
    else
        fail "$name: not an object: exit $rc, not refused as a spec: $(head -c 300 "$tmp/err")"
    fi
    wrap "$f"
    apply "$tmp/wrapped.json"
    accepted "$name (wrapped)" "$tmp/wrapped.json" $?
done
[ "$n" -ge 70 ] && pass || fail "only $n valid texts in $D/valid"

# Every invalid text is listed once in invalid.tsv, and every listed one exists.
listed=$(grep -v '^#' "$D/invalid.tsv" | cut -f1 | sort)
present=$(cd "$D/invalid" && ls ./*.json | sed 's|^\./||; s|\.json$||' | sort)
if [ "$listed" = "$present" ]; then pass; else
    fail "invalid.tsv and invalid/ differ: $(printf '%s\n' "$listed" "$present" | sort | uniq -u | tr '\n' ' ')"
fi

tab=$(printf '\t')
grep -v '^#' "$D/invalid.tsv" >"$tmp/cases"
while IFS="$tab" read -r name pos wpos what; do
    f=$D/invalid/$name.json
    apply "$f"
    rc=$?
    err=$(cat "$tmp/err")
    case "$err" in
    "rulec: $f:$pos: "*"$what"*) [ "$rc" -eq 2 ] && pass || fail "invalid/$name: exit $rc" ;;
    *) fail "invalid/$name: exit $rc, want $pos: ...$what...; got: $(printf '%s' "$err" | head -c 300)" ;;
    esac
    [ -s "$tmp/out" ] && fail "invalid/$name: printed something on standard output"
    wrap "$f"
    apply "$tmp/wrapped.json"
    rc=$?
    case "$(cat "$tmp/err")" in
    "rulec: $tmp/wrapped.json:$wpos: "*) [ "$rc" -eq 2 ] && pass || fail "invalid/$name (wrapped): exit $rc" ;;
    *) fail "invalid/$name (wrapped): exit $rc, want $wpos; got: $(head -c 300 "$tmp/err")" ;;
    esac
done <"$tmp/cases"
summary
