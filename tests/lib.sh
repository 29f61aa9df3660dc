# SPDX-License-Identifier: Apache-2.0
# lib.sh - the one pass/fail counter of the test suites. Each tests/run-*.sh
# sets SUITE and sources this file; it counts through these functions only
# and ends with `summary`, whose line run-all.sh adds up.
#
#   SUITE=golden; . tests/lib.sh
#   pass                    one assertion held
#   fail MESSAGE...         one assertion failed: prints "FAIL SUITE: MESSAGE"
#   check NAME COMMAND...   runs COMMAND: pass if it succeeds, else fail with
#                           NAME and the start of its output
#   count P F               adds P passes and F failures counted by another
#                           runner (rulec test, a cmocka binary, a suite)
#   tally_of FILE           prints "P F" from the last "[name: ]P passed,
#                           F failed" line of FILE; nothing if it has none
#   golden EXPECTED CMD...  runs CMD (stdin empty) and compares its exit
#                           status, stdout and stderr with the file EXPECTED;
#                           UPDATE=1 rewrites EXPECTED first (review the diff)
#   summary                 prints "SUITE: P passed, F failed" (without
#                           "SUITE: " when SUITE is empty); returns 1 if
#                           anything failed
#
# POSIX sh; the counters are named lib_* so suites keep their own names.

lib_passed=0
lib_failed=0

pass() { lib_passed=$((lib_passed + 1)); }
# The shared libraries' SONAME version, as the Makefile makes it from
# vm/rulevm.h: MAJOR, or 0.MINOR while MAJOR is 0.
so_version() {
    _maj=$(sed -n 's/^#define RV_VERSION_MAJOR  *\([0-9]*\).*/\1/p' vm/rulevm.h)
    _min=$(sed -n 's/^#define RV_VERSION_MINOR  *\([0-9]*\).*/\1/p' vm/rulevm.h)
    if [ "$_maj" = 0 ]; then echo "0.$_min"; else echo "$_maj"; fi
}

fail() {
    lib_failed=$((lib_failed + 1))
    echo "FAIL${SUITE:+ $SUITE}: $*"
}

check() {
    lib_name=$1; shift
    if lib_out=$("$@" 2>&1); then pass; else fail "$lib_name: $(printf '%s' "$lib_out" | head -c 400)"; fi
}

count() {
    lib_passed=$((lib_passed + $1))
    lib_failed=$((lib_failed + $2))
}

tally_of() {
    grep -E '^([a-z]+: )?[0-9]+ passed, [0-9]+ failed' "$1" | tail -1 |
        sed -E 's/^([a-z]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2 \3/'
}

golden() {
    lib_expected=$1; shift
    lib_tmp=$(mktemp -d)
    "$@" >"$lib_tmp/stdout" 2>"$lib_tmp/stderr" </dev/null
    lib_status=$?
    {
        echo "\$ exit $lib_status"
        echo "--- stdout"
        cat "$lib_tmp/stdout"
        echo "--- stderr"
        cat "$lib_tmp/stderr"
    } >"$lib_tmp/actual"
    [ "${UPDATE:-0}" = 1 ] && cp "$lib_tmp/actual" "$lib_expected"
    if [ -f "$lib_expected" ] && cmp -s "$lib_expected" "$lib_tmp/actual"; then
        pass
    else
        fail "$lib_expected (output differs)"
        if [ -f "$lib_expected" ]; then
            diff -u "$lib_expected" "$lib_tmp/actual" | head -40
        else
            echo "  (no expected output file; run with UPDATE=1 to create it)"
        fi
    fi
    rm -rf "$lib_tmp"
}

summary() {
    echo "${SUITE:+$SUITE: }$lib_passed passed, $lib_failed failed"
    [ "$lib_failed" -eq 0 ]
}
