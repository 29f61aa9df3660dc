#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-cli.sh - rulec end to end beyond single golden runs: compiled bundles
# behave exactly like their sources, a failed compile never clobbers or
# half-writes its output, folders and standard input work as documented.
set -u
BUILD=${BUILD:-build}
RULEC=${RULEC:-$BUILD/rulec}
SPECS=${RULES_SPECS_DIR:-tests/data/dstack}/requests
SUITE=cli; . "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A bundle compiled from rules/ answers every real request exactly as the
# sources do (same output, same exit status).
"$RULEC" compile rules/ -o "$tmp/all.rbc" || fail "compile rules/"
for f in "$SPECS"/*.json; do
    kind=$(sh tests/kind-of.sh "$f")
    "$RULEC" apply rules/ --request "$f" --kind "$kind" --explain >"$tmp/src.out" 2>&1; a=$?
    "$RULEC" apply "$tmp/all.rbc" --request "$f" --kind "$kind" --explain >"$tmp/rbc.out" 2>&1; b=$?
    if [ "$a" = "$b" ] && cmp -s "$tmp/src.out" "$tmp/rbc.out"; then pass; else fail "bundle differs from sources on $(basename "$f")"; fi
done

# A bundle gets the permissions of a plain create (umask), not mkstemp's 0600.
(umask 022 && "$RULEC" compile rules/example.rules -o "$tmp/perm.rbc")
[ "$(stat -c %a "$tmp/perm.rbc")" = 644 ] && pass || fail "bundle permissions are $(stat -c %a "$tmp/perm.rbc")"

# Compiling is deterministic.
"$RULEC" compile rules/ -o "$tmp/again.rbc" && cmp -s "$tmp/all.rbc" "$tmp/again.rbc" && pass || fail "two compiles differ"

# A failed compile leaves an existing output untouched and no temporary files.
cp "$tmp/all.rbc" "$tmp/keep.rbc"
printf 'on run { set a = ; }\n' >"$tmp/broken.rules"
"$RULEC" compile "$tmp/broken.rules" -o "$tmp/keep.rbc" 2>"$tmp/err"; st=$?
if [ "$st" = 1 ] && cmp -s "$tmp/all.rbc" "$tmp/keep.rbc" && grep -q "broken.rules:1:18: error" "$tmp/err" &&
   [ -z "$(ls "$tmp" | grep tmp)" ]; then pass; else fail "failed compile: exit $st, output clobbered or temp left"; fi
# ... and an unwritable destination is a clear error, exit 2.
"$RULEC" compile rules/example.rules -o /nonexistent-dir/x.rbc 2>"$tmp/err"; st=$?
if [ "$st" = 2 ] && grep -q "cannot write '/nonexistent-dir/x.rbc'" "$tmp/err"; then pass; else fail "unwritable output: exit $st"; fi

# The spec can come from standard input.
python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['spec']))" "$SPECS/synthetic_task_limits.request.json" |
    "$RULEC" apply rules/example.rules - --kind run >"$tmp/out"; st=$?
if [ "$st" = 0 ] && grep -q '"max_price": 2.0' "$tmp/out"; then pass; else fail "spec from stdin: exit $st"; fi

# Same-name override across files: the higher priority wins.
printf 'policy "example" priority 50;\non run { set configuration.max_price = 9.5; }\n' >"$tmp/site.rules"
"$RULEC" apply rules/example.rules "$tmp/site.rules" --request "$SPECS/synthetic_task_limits.request.json" --kind run >"$tmp/out"; st=$?
if [ "$st" = 0 ] && grep -q '"max_price": 9.5' "$tmp/out" && ! grep -q '"team": "my_team"' "$tmp/out"; then pass; else fail "same-name override"; fi
# ... also when one side is a compiled bundle; equal priority is an error.
printf 'policy "example";\non run { set configuration.max_price = 1.0; }\n' >"$tmp/clash.rules"
"$RULEC" apply "$tmp/all.rbc" "$tmp/clash.rules" --request "$SPECS/synthetic_task_limits.request.json" --kind run >"$tmp/out" 2>"$tmp/err"; st=$?
if [ "$st" = 2 ] && grep -q "policy 'example' is defined twice with priority 0" "$tmp/err" && [ ! -s "$tmp/out" ]; then pass; else fail "same name and priority across bundle and source: exit $st: $(cat "$tmp/err")"; fi

# An empty folder is an error, not an empty policy set.
mkdir "$tmp/empty"
"$RULEC" apply "$tmp/empty" "$SPECS/synthetic_task_limits.request.json" --kind run 2>"$tmp/err"; st=$?
if [ "$st" = 2 ] && grep -q "holds no .rules or .rbc files" "$tmp/err"; then pass; else fail "empty folder: exit $st"; fi

# disasm reads bundles and sources alike.
"$RULEC" disasm "$tmp/all.rbc" >"$tmp/a.txt" && "$RULEC" disasm rules/ >"$tmp/b.txt" &&
    [ "$(grep -c '^policy ' "$tmp/a.txt")" = "$(ls rules/*.rules | wc -l)" ] && pass || fail "disasm of bundle vs sources"

# rulec check --format: json and sarif go to standard output and nothing
# else does; the exit status is the text format's; both documents hold the
# text's records and keep to their shapes (tests/diagformat.py).
version=$("$RULEC" --version | head -1 | sed 's/^rulec //')
check_formats() {   # NAME STATUS POLICY...: all three formats exit STATUS
    name=$1 want=$2
    shift 2
    "$RULEC" check "$@" >"$tmp/t.out" 2>"$tmp/t.err"; ts=$?
    "$RULEC" check --format json "$@" >"$tmp/j.out" 2>"$tmp/j.err"; js=$?
    "$RULEC" check --format sarif "$@" >"$tmp/s.out" 2>"$tmp/s.err"; ss=$?
    if [ "$ts $js $ss" = "$want $want $want" ] && [ ! -s "$tmp/t.out" ] && [ ! -s "$tmp/j.err" ] &&
       [ ! -s "$tmp/s.err" ]; then pass; else
        fail "check --format, $name: exit $ts/$js/$ss (want $want), stderr: $(cat "$tmp/j.err" "$tmp/s.err")"
    fi
    check "check --format, $name" python3 tests/diagformat.py "$tmp/t.err" "$tmp/j.out" "$tmp/s.out" "$version"
}
check_formats "errors, notes and warnings" 1 tests/golden/check/header_param_errors.rules \
    tests/golden/check/unreachable_warnings.rules tests/golden/check/check_errors.rules \
    tests/golden/check/many_errors.rules tests/golden/check/syntax_errors.rules
check_formats "warnings only" 0 tests/golden/check/unreachable_warnings.rules
# --strict: warnings fail the check (exit 1), the diagnostics the same and
# the count saying why; the shipped policies have none.
"$RULEC" check --strict tests/golden/check/unreachable_warnings.rules 2>"$tmp/strict.err"; st=$?
"$RULEC" check tests/golden/check/unreachable_warnings.rules 2>"$tmp/lax.err"
[ "$st" = 1 ] && [ "$(sed '$d' "$tmp/strict.err")" = "$(sed '$d' "$tmp/lax.err")" ] &&
    [ "$(tail -1 "$tmp/strict.err")" = "$(tail -1 "$tmp/lax.err") (--strict: warnings fail the check)" ] &&
    pass || fail "check --strict with warnings: exit $st: $(tail -1 "$tmp/strict.err")"
"$RULEC" check --strict rules/ && "$RULEC" check --strict --target skypilot rules/skypilot/ && pass ||
    fail "the shipped policies have warnings"
check_formats clean 0 rules/
check_formats "an unreadable file" 2 rules/example.rules "$tmp/no-such.rules"
check_formats "a corrupt bundle" 2 tests/golden/apply/inputs/corrupt.rbc
# A path may hold any bytes (here a quote, '%', ':' and one that is not
# UTF-8), a source any UTF-8: the json stays UTF-8 (U+FFFD for the bad
# byte), the sarif uri keeps the bytes percent-encoded, and sarif columns
# count code points where json's count bytes, as the text's do.
weird=$(printf '%s/we"ird %%20: \376.rules' "$tmp")
printf 'on run {\n    set configuration.max_price = len("\303\251\303\251") + nosuch(1);\n}\n' >"$weird"
check_formats "any bytes in a path, UTF-8 in a source" 1 "$weird"
check "check --format, columns and uri" python3 -c '
import json, sys
j = json.load(open(sys.argv[1], encoding="utf-8"))["diagnostics"]
s = json.load(open(sys.argv[2], encoding="utf-8"))["runs"][0]["results"]
rec = [r for r in j if r["message"].startswith("unknown function")][0]
res = [r for r in s if r["message"]["text"] == rec["message"]][0]
loc = res["locations"][0]["physicalLocation"]
assert rec["file"].endswith("/we\"ird %20: \ufffd.rules"), rec["file"]
assert loc["artifactLocation"]["uri"].endswith("/we%22ird%20%2520%3A%20%FE.rules"), loc
assert rec["span"]["start"]["column"] == 49 and loc["region"]["startColumn"] == 47, (rec, loc)
assert rec["span"]["end"]["column"] == 55 and loc["region"]["endColumn"] == 53, (rec, loc)
' "$tmp/j.out" "$tmp/s.out"


# ---- batches (--ndjson): the line reader and writing the answers ----
task="$SPECS/synthetic_task_limits.request.json"
one_line() { python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")))' "$1"; }
one_line "$task" >"$tmp/task.line"
# A request too big for one read (a 3 MB string in its spec), CRLF line
# ends and a last line without one: every line answered as the same body
# answered alone.
python3 - "$task" "$tmp" <<'PY'
import json, sys
body = json.load(open(sys.argv[1]))
big = json.loads(json.dumps(body))
big["spec"]["configuration"]["env"] = {"PAD": "x" * (3 << 20)}
lines = [json.dumps(body, separators=(",", ":")), json.dumps(big, separators=(",", ":"))] * 2
open(sys.argv[2] + "/big.json", "w").write(lines[1])
with open(sys.argv[2] + "/mixed.ndjson", "wb") as f:
    f.write((lines[0] + "\r\n" + lines[1] + "\n" + lines[2] + "\r\n" + lines[3]).encode())
PY
"$RULEC" apply rules/example.rules --request "$tmp/task.line" --kind run --ndjson >"$tmp/small.want"
"$RULEC" apply rules/example.rules --request "$tmp/big.json" --kind run --ndjson >"$tmp/big.want"
cat "$tmp/small.want" "$tmp/big.want" "$tmp/small.want" "$tmp/big.want" >"$tmp/mixed.want"
"$RULEC" apply rules/example.rules --request "$tmp/mixed.ndjson" --kind run --ndjson >"$tmp/mixed.out"; st=$?
if [ "$st" = 0 ] && cmp -s "$tmp/mixed.want" "$tmp/mixed.out" && [ "$(wc -l <"$tmp/mixed.out")" = 4 ]; then pass
else fail "batch with a 3 MB line, CRLF and no final newline: exit $st, answers differ from one by one"; fi
# A line over --max-input-size is answered as too large, and the lines
# around it as usual; trailing '\r's do not count towards the limit.
limit=$(($(wc -c <"$tmp/task.line") + 10))
{ cat "$tmp/task.line"; python3 -c 'import sys; print("{\"pad\":\"" + "y" * int(sys.argv[1]) + "\"}")' "$limit"
  tr -d '\n' <"$tmp/task.line"; printf '\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\n'; cat "$tmp/task.line"; } >"$tmp/limit.ndjson"
"$RULEC" apply rules/example.rules --request "$tmp/limit.ndjson" --kind run --ndjson --max-input-size "$limit" \
    >"$tmp/limit.out" 2>"$tmp/limit.err"; st=$?
if [ "$st" = 2 ] && [ "$(sed -n 2p "$tmp/limit.out")" = "{\"spec\":null,\"error\":\"invalid request on line 2: the request is larger than the $limit-byte input limit (--max-input-size)\"}" ] &&
   [ "$(sed -n 1p "$tmp/limit.out")" = "$(cat "$tmp/small.want")" ] && [ "$(sed -n 3p "$tmp/limit.out")" = "$(cat "$tmp/small.want")" ] &&
   [ "$(sed -n 4p "$tmp/limit.out")" = "$(cat "$tmp/small.want")" ] && grep -q "limit.ndjson:2: the request is larger" "$tmp/limit.err" &&
   [ "$(wc -l <"$tmp/limit.err")" = 1 ]; then pass
else fail "a line over --max-input-size in a batch: exit $st: $(head -c 300 "$tmp/limit.err")"; fi
# ... and is never held whole: a 256 MiB line through a pipe leaves rulec
# far below that (peak RSS).
check "a 256 MiB line over the limit is not held" python3 - "$RULEC" "$tmp/task.line" <<'PY'
import resource, subprocess, sys
line = open(sys.argv[2], "rb").read()
p = subprocess.Popen([sys.argv[1], "apply", "rules/example.rules", "--request", "-", "--kind", "run", "--ndjson",
                      "--max-input-size", "100000"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
import threading
got = {}
t = threading.Thread(target=lambda: got.update(out=p.stdout.read(), err=p.stderr.read()))
t.start()
block = b"z" * (1 << 20)
p.stdin.write(b'{"pad":"')
for _ in range(256):
    p.stdin.write(block)
p.stdin.write(b'"}\n' + line)
p.stdin.close()
t.join()
p.wait()
rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
lines = got["out"].decode().splitlines()
assert p.returncode == 2 and len(lines) == 2, (p.returncode, lines[:1], got["err"][:300])
assert "larger than the 100000-byte input limit" in lines[0] and '"error":null' in lines[1], lines
assert rss_mb < 128, "peak RSS %.0f MB" % rss_mb
PY
# A read error is an error, not the end of the batch.
"$RULEC" apply rules/example.rules --request "$tmp" --kind run --ndjson >"$tmp/out" 2>"$tmp/err"; st=$?
if [ "$st" = 2 ] && grep -q "cannot read '$tmp': Is a directory" "$tmp/err" && [ ! -s "$tmp/out" ]; then pass
else fail "--request DIR --ndjson: exit $st: $(head -c 300 "$tmp/err")"; fi
# Answers that cannot be written (a full disk) make the exit status 2
# with the reason, for a batch, a single spec and any other output.
for args in "apply rules/example.rules --request $tmp/mixed.ndjson --kind run --ndjson" \
            "apply rules/example.rules --request $task --kind run" "disasm rules/example.rules" "--help"; do
    # shellcheck disable=SC2086
    "$RULEC" $args >/dev/full 2>"$tmp/err"; st=$?
    if [ "$st" = 2 ] && grep -q "cannot write standard output" "$tmp/err"; then pass
    else fail "rulec $args >/dev/full: exit $st: $(head -c 300 "$tmp/err")"; fi
done
# A process feeding requests through a pipe gets each answer before it
# sends the next request (rulec flushes whenever it waits for input).
check "--request - answers each line before the next arrives" python3 - "$RULEC" "$tmp/task.line" <<'PY'
import select, subprocess, sys
line = open(sys.argv[2], "rb").read()
p = subprocess.Popen([sys.argv[1], "apply", "rules/example.rules", "--request", "-", "--kind", "run", "--ndjson"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
for i in range(3):
    p.stdin.write(line)
    p.stdin.flush()
    ready, _, _ = select.select([p.stdout], [], [], 20)
    assert ready, "no answer to request %d within 20 s" % (i + 1)
    answer = p.stdout.readline()
    assert answer.startswith(b'{"spec":{') and answer.endswith(b'"error":null}\n'), answer[:200]
p.stdin.close()
assert p.stdout.read() == b"" and p.wait() == 0
PY

summary
