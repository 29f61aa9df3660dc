#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-ruletests.sh - `rulec test` dogfooded: the policies in rules/ against
# their test files, with the coverage gate `make test` promises; then the
# runner's own fixtures in tests/golden/ruletest/, whose outputs are pinned
# (NAME.cmd holds rulec's arguments, NAME.out the expected exit status,
# stdout and stderr; UPDATE=1 rewrites the .out files -- review the diff).
set -u
BUILD=${BUILD:-build}
RULEC=${RULEC:-$BUILD/rulec}
G=tests/golden/ruletest
SUITE=ruletests; . "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT


# 1. rules/: every case counts, and the coverage gate counts once more. The
# output is indented so that only this script's tally reads as one.
"$RULEC" test rules/ --min-coverage 90 >"$tmp/rules.out" 2>&1
status=$?
sed 's/^/  /' "$tmp/rules.out"
tally=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$tmp/rules.out" | tail -1)
if [ -z "$tally" ]; then
    fail "rulec test rules/ printed no closing line"
else
    p=${tally%% passed*}; f=${tally#*passed, }; f=${f%% failed*}
    count "$p" "$f"
    [ "$p" -gt 0 ] || fail "rulec test rules/ ran no case"
fi
if [ "$status" -eq 0 ]; then pass; else fail "rulec test rules/ --min-coverage 90 exited $status"; fi
# Every policy in rules/ has a test file that names it.
for r in rules/*.rules rules/*/*.rules; do
    name=$(basename "$r")
    if grep -qs -- "$name" "$(dirname "$r")"/*.test.yaml; then pass; else fail "$r has no test file naming it"; fi
done

# 2. Pinned outputs.
for cmd in "$G"/*.cmd; do
    [ -e "$cmd" ] || continue
    # shellcheck disable=SC2046
    golden "${cmd%.cmd}.out" "$RULEC" $(cat "$cmd")
done

# 3. The coverage figures of the known-answer fixture (also pinned above;
# asserted here so that an UPDATE=1 run cannot quietly accept new figures).
"$RULEC" test "$G/discover" --coverage >"$tmp/cov" 2>&1
if grep -q '^  cover (.*): statements 4/7 57.1%, condition outcomes 2/6 33.3%$' "$tmp/cov" &&
   grep -q '^      never run: lines 11, 17-18$' "$tmp/cov" &&
   grep -q '^      condition never true: line 13$' "$tmp/cov" &&
   grep -q '^      condition never false: line 8$' "$tmp/cov" &&
   grep -q '^  untested (.*): statements 0/2 0.0%' "$tmp/cov"; then
    pass
else
    fail "coverage figures of $G/discover are not the known answer:"; cat "$tmp/cov"
fi

# 4. JUnit XML: pinned, well formed, written atomically (no temporary file
# left beside it), and a failure to write it is an error.
mkdir "$tmp/junit"
"$RULEC" test "$G/failing.fixture.yaml" --junit "$tmp/junit/report.xml" >/dev/null 2>&1
status=$?
if [ "$status" -eq 1 ] && cmp -s "$G/junit.xml" "$tmp/junit/report.xml"; then
    pass
else
    fail "--junit: exit $status, or the XML differs from $G/junit.xml"
    [ -f "$tmp/junit/report.xml" ] && diff -u "$G/junit.xml" "$tmp/junit/report.xml" | head -40
    [ "${UPDATE:-0}" = 1 ] && cp "$tmp/junit/report.xml" "$G/junit.xml"
fi
if [ "$(ls "$tmp/junit")" = "report.xml" ]; then pass; else fail "--junit left files behind: $(ls "$tmp/junit")"; fi
if python3 -c 'import sys, xml.dom.minidom as m
d = m.parse(sys.argv[1]).documentElement
assert d.tagName == "testsuites" and d.getAttribute("tests") == "7" and d.getAttribute("failures") == "5", d.toxml()[:200]
assert len(d.getElementsByTagName("failure")) == 5' "$tmp/junit/report.xml"; then
    pass
else
    fail "--junit output is not the expected JUnit XML"
fi
"$RULEC" test "$G/failing.fixture.yaml" --junit "$tmp/no/such/dir/report.xml" >/dev/null 2>"$tmp/err"
status=$?
if [ "$status" -eq 2 ] && grep -q "cannot write" "$tmp/err"; then pass; else fail "--junit to a missing folder: exit $status"; fi

# 5. --json is valid JSON whose counts agree with the cases.
"$RULEC" test "$G/failing.fixture.yaml" --json >"$tmp/json" 2>/dev/null
if python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["passed"] == 2 and d["failed"] == 5, d
assert sum(c["passed"] for c in d["cases"]) == 2
bad = [c for c in d["cases"] if not c["passed"]]
assert all(c["failures"] and c["ran"] for c in bad)' "$tmp/json"; then
    pass
else
    fail "--json output is not the expected document"
fi

summary
