#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-all.sh - `make test`: the suites tests/run-{unit,golden,jsonstrict,cli,fmt,tools,editors,sets,badinput,yaml,fuzz,
# ruletests,server,redact,python,sign,fleet,deploy,symbols,layout,build,version,install}.sh that exist (run-unit.sh gets
# the cmocka binaries given as arguments), each ending with a "NAME: N
# passed, M failed" line; adds them up (tests/lib.sh) and ends with one
# "N passed, M failed" line that counts every individual test. A suite that
# prints no such line, or fails with no failure counted, counts as one
# failure.
set -u
BUILD=${BUILD:-build}
export BUILD
SUITE=; . "$(dirname "$0")/lib.sh"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for suite in unit golden jsonstrict cli fmt tools editors sets badinput yaml fuzz ruletests server redact python sign fleet deploy symbols layout build version install; do
    script=tests/run-$suite.sh
    [ -f "$script" ] || continue
    echo "== $suite"
    if [ "$suite" = unit ]; then sh "$script" "$@" >"$log" 2>&1; else sh "$script" >"$log" 2>&1; fi
    rc=$?
    cat "$log"
    tally=$(tally_of "$log")
    if [ -z "$tally" ]; then
        fail "$script printed no tally"
        continue
    fi
    # shellcheck disable=SC2086
    count $tally
    [ "$rc" -ne 0 ] && [ "${tally#* }" = 0 ] && fail "$script exited $rc with no failure counted"
done

summary
