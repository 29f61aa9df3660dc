#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-golden.sh - golden tests: runs rulec and compares its exit status,
# stdout and stderr with a pinned .out file.
#   tests/golden/check/NAME.rules   ->  rulec check NAME.rules
#   tests/golden/disasm/NAME.rules  ->  rulec disasm NAME.rules
#   tests/golden/apply/NAME.cmd     ->  rulec <the arguments in NAME.cmd>
#   tests/golden/fmt/NAME.rules     ->  rulec fmt NAME.rules (the layout)
# UPDATE=1 rewrites the .out files from the current output (then review the
# diff before committing).
set -u
BUILD=${BUILD:-build}
RULEC=${RULEC:-$BUILD/rulec}
SUITE=golden; . "$(dirname "$0")/lib.sh"
for f in tests/golden/check/*.rules; do
    [ -e "$f" ] || continue
    golden "${f%.rules}.out" "$RULEC" check "$f"
done
for f in tests/golden/disasm/*.rules; do
    [ -e "$f" ] || continue
    golden "${f%.rules}.out" "$RULEC" disasm "$f"
done
for f in tests/golden/apply/*.cmd; do
    [ -e "$f" ] || continue
    # shellcheck disable=SC2046
    golden "${f%.cmd}.out" "$RULEC" $(cat "$f")
done
for f in tests/golden/fmt/*.rules; do
    [ -e "$f" ] || continue
    golden "${f%.rules}.out" "$RULEC" fmt "$f"
done
summary
