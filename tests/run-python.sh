#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-python.sh - the Python package (python/pyrules) and its orchestrator
# plugins, with pytest (tests/python/): the binding against $BUILD's
# librulec, every real request body decided as rulec decides it, the dstack
# plugin and the SkyPilot admin policy in stand-ins of their hosts
# (tests/python/standins), the package as pip installs it. Every test
# counts (from pytest's JUnit report); a skipped test counts as a failure,
# since no test here may skip itself. Ends with "python: N passed, M failed".
#
# PYTHON picks the interpreter; by default the first of python3 and
# /usr/bin/python3 that has Debian's pytest, PyYAML, jsonschema and pip
# (make deps). In a SANITIZE=1 build the library is built with ASan and
# UBSan, whose runtimes must come first in a process that did not link
# them: the interpreter runs with them preloaded (leak checks off: the
# interpreter's own allocations are not the library's).
set -u
BUILD=${BUILD:-build}
CC=${CC:-cc}
SUITE=python; . "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

has_modules() { "$1" -c 'import pytest, yaml, jsonschema, pip' >/dev/null 2>&1; }
if [ -z "${PYTHON:-}" ]; then
    for p in python3 /usr/bin/python3; do
        if has_modules "$p"; then PYTHON=$p; break; fi
    done
fi
if [ -z "${PYTHON:-}" ] || ! has_modules "$PYTHON"; then
    fail "no python3 with pytest, yaml, jsonschema and pip (Debian: python3-pytest python3-yaml python3-jsonschema python3-pip; make deps)"
    summary
    exit 1
fi
lib=$BUILD/librulec.so.$(so_version)
if [ ! -f "$lib" ]; then
    fail "$lib is not built"
    summary
    exit 1
fi

if [ "${SANITIZE:-0}" = 1 ]; then
    LD_PRELOAD="$($CC -print-file-name=libasan.so) $($CC -print-file-name=libubsan.so)${LD_PRELOAD:+ $LD_PRELOAD}"
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    export LD_PRELOAD ASAN_OPTIONS
fi

# No bytecode or cache files in the tree; the output indented, so that
# only this script's tally reads as one.
PYRULES_LIBRULEC=$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib") PYTHONDONTWRITEBYTECODE=1 BUILD=$BUILD \
    "$PYTHON" -m pytest -q -p no:cacheprovider --junitxml="$tmp/report.xml" tests/python >"$tmp/out" 2>&1
status=$?
sed 's/^/  /' "$tmp/out"
counts=$("$PYTHON" - "$tmp/report.xml" <<'EOF' 2>/dev/null
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
n = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get(k, 0)) for s in suites for k in ("failures", "errors", "skipped"))
print(n - bad, bad)
EOF
)
if [ -z "$counts" ]; then
    fail "pytest wrote no report (exit status $status)"
else
    # shellcheck disable=SC2086
    count $counts
    [ "${counts% *}" -gt 0 ] || fail "pytest ran no test"
    [ "$status" -ne 0 ] && [ "${counts#* }" = 0 ] && fail "pytest exited $status with no failure counted"
fi
summary
