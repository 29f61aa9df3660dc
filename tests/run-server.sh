#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-server.sh - rulesd integration tests: real servers on free loopback
# ports (the kernel picks them: --port 0 / listen :0, read back from
# --port-file), real HTTP clients (curl, and tests/server/loadclient for
# concurrent keep-alive load). Every server is stopped by the EXIT trap,
# even when a test fails; every wait is bounded.
set -u
BUILD=${BUILD:-build}
RULESD=${RULESD:-$BUILD/rulesd}
RULEC=${RULEC:-$BUILD/rulec}
LOAD=${LOAD:-$BUILD/tests/loadclient}
SPECS=${RULES_SPECS_DIR:-tests/data/dstack}/requests
ROOT=$(pwd)
FIX=$ROOT/tests/server
SUITE=server; . "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rulesd.sh"
tmp=$(mktemp -d)
PIDS=""

cleanup() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for f in "$RULESD" "$RULEC" "$LOAD"; do
    [ -x "$f" ] || { fail "$f is not built"; summary; exit 1; }
done

# start NAME ARGS...: starts rulesd, waits (at most 20 s) for its port.
start() {
    if ! rd_launch "$tmp" "$@"; then
        fail "$1: rulesd did not start: $(head -c 600 "$tmp/$1.log")"
        eval "PORT_$1=0"
        return 1
    fi
}

# stop NAME: SIGTERM, then at most 20 s for a clean exit with status 0 (a
# sanitizer build reports leaks at exit and fails here).
stop() {
    rd_term "$1"
    st=$?
    [ "$RD_TERM_LATE" -eq 1 ] && fail "$1: did not exit within 20 s of SIGTERM"
    if [ "$st" -eq 0 ]; then pass; else fail "$1: exit status $st after SIGTERM: $(tail -c 1500 "$tmp/$1.log")"; fi
}

# req NAME METHOD PATH [curl args...]: the status code on stdout, the body
# in $tmp/body, the headers in $tmp/headers.
req() {
    eval "port=\$PORT_$1"
    m=$2; p=$3; shift 3
    curl -s --max-time 10 -X "$m" -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' "$@" \
        "http://127.0.0.1:$port$p"
}

expect_status() {  # expect_status WANT NAME METHOD PATH [curl args]
    want=$1; shift
    got=$(req "$@")
    if [ "$got" = "$want" ]; then pass; else fail "$2 $3 -> $got, want $want: $(head -c 300 "$tmp/body")"; fi
}

detail_has() {  # the last body is {"detail":"..."} (one line) containing TEXT
    if head -c 9 "$tmp/body" | grep -q '^{"detail"' && [ "$(wc -l <"$tmp/body")" -eq 1 ] &&
        sed 's/\\"/"/g' "$tmp/body" | grep -qF -- "$1"; then pass
    else fail "detail lacks '$1': $(head -c 300 "$tmp/body")"; fi
}

kind_of() { sh tests/kind-of.sh "$1"; }

# ---------------------------------------------------------------- config
# Start-up refuses bad configurations, naming file and key.
cat >"$tmp/bad-param.yaml" <<EOF2
policies:
  - $ROOT/rules/example.rules
  - path: $ROOT/rules/gpu-limits.rules
    params:
      max_gpus: 4
      max_price: 3.0
EOF2
# Overrides are typed: a value must have its default's type.
cat >"$tmp/bad-param-type.yaml" <<EOF2
policies:
  - path: $ROOT/rules/gpu-limits.rules
    params:
      max_gpus: two
EOF2
cat >"$tmp/bad-param-float.yaml" <<EOF2
policies:
  - $ROOT/rules/example.rules
  - path: $ROOT/rules/dev-idle.rules
    params: {max_idle: 1.5}
EOF2
cat >"$tmp/bad-key.yaml" <<EOF2
policies: [$ROOT/rules/example.rules]
limits:
  max_body_byte: 10
EOF2
cat >"$tmp/bad-type.yaml" <<EOF2
policies: [$ROOT/rules/example.rules]
limits:
  max_body_bytes: lots
EOF2
printf 'policy "broken";\non run {\n    set configuration.x = ;\n}\n' >"$tmp/broken.rules"
config_error() {  # config_error PATTERN ARGS...: --check exits 1 and says PATTERN
    pattern=$1; shift
    "$RULESD" --check "$@" >"$tmp/out" 2>&1
    st=$?
    if [ "$st" -eq 1 ] && grep -qF -- "$pattern" "$tmp/out"; then pass
    else fail "config error '$pattern': status $st: $(head -c 400 "$tmp/out")"; fi
}
config_error "bad-param.yaml: policies[1].params.max_price: no policy in '$ROOT/rules/gpu-limits.rules' ('gpu-limits') declares a parameter 'max_price'" --config "$tmp/bad-param.yaml"
config_error "bad-key.yaml: limits.max_body_byte: unknown key" --config "$tmp/bad-key.yaml"
# A bundle of an older format: refused with the fix, the log line naming
# its level once ("rulesd: error: error: ..." before).
config_error "rulesd: error: tests/golden/apply/inputs/version2.rbc: byte 4: format version 2, written before policies recorded their target" --policy tests/golden/apply/inputs/version2.rbc
if grep -q "error: error:" "$tmp/out"; then fail "the log says 'error: error:'"; else pass; fi
# The connection limits: ranges, and the reserve and per-client limit
# against the total, in either order in the file.
limit_error() {  # limit_error PATTERN YAML-LINES...
    pattern=$1; shift
    { echo "policies: [$ROOT/rules/example.rules]"; echo "limits:"; for l in "$@"; do echo "  $l"; done; } >"$tmp/limits.yaml"
    config_error "limits.yaml: $pattern" --config "$tmp/limits.yaml"
}
limit_error "limits.header_timeout: 0 is out of range (1 to 3600)" "header_timeout: 0"
limit_error "limits.header_timeout: expected an integer, got a string" "header_timeout: 5s"
limit_error "limits.max_connections_per_client: 0 is out of range (1 to 100000)" "max_connections_per_client: 0"
limit_error "limits.reserved_connections: 0 is out of range (1 to 100000)" "reserved_connections: 0"
limit_error "limits.max_connections: 1 is out of range (2 to 100000)" "max_connections: 1"
limit_error "limits.reserved_connections: 100 must be below limits.max_connections (100)" "reserved_connections: 100" "max_connections: 100"
limit_error "limits.reserved_connections: 64 must be below limits.max_connections (10)" "max_connections: 10" "reserved_connections: 64"
limit_error "limits.max_connections_per_client: 200 is above limits.max_connections (100)" "max_connections_per_client: 200" "max_connections: 100"
config_error "bad-type.yaml: limits.max_body_bytes: expected an integer, got a string" --config "$tmp/bad-type.yaml"
config_error "broken.rules:3:" --policy "$tmp/broken.rules"
config_error "--param nosuch.max_gpus" --policy rules/ --param nosuch.max_gpus=1
config_error "bad-param-type.yaml: policies[0].params.max_gpus: parameter 'gpu-limits.max_gpus' takes an int (its default is 8), not a string \"two\"" --config "$tmp/bad-param-type.yaml"
config_error "bad-param-float.yaml: policies[1].params.max_idle: parameter 'dev-idle.max_idle' takes an int (its default is 7200), not a float 1.5" --config "$tmp/bad-param-float.yaml"
config_error "--param intern_max_gpus: parameter 'gpu-limits.intern_max_gpus' takes an int (its default is 1), not a string \"two\"" --policy rules/ --param intern_max_gpus=two
"$RULESD" --check --policy rules/ --param max_idle=90m --param gpu-limits.max_gpus=4 --param 'backends=["aws"]' >"$tmp/out" 2>&1
if [ $? -eq 0 ]; then pass; else fail "typed --param values refused: $(head -c 300 "$tmp/out")"; fi
config_error "cannot read '$tmp/missing.rules'" --policy "$tmp/missing.rules"
config_error "'nothost' is not a numeric IPv4 or IPv6 address" --policy rules/ --listen nothost:80
config_error "'999.1.1.1' is not a numeric IPv4 or IPv6 address" --policy rules/ --listen 999.1.1.1:80
# The example configuration, laid out as the README's install steps say
# (paths moved under $tmp), loads.
mkdir -p "$tmp/ex/policies" "$tmp/ex/site" "$tmp/ex/log"
cp rules/*.rules "$tmp/ex/policies/"
cp rules/gpu-limits.rules "$tmp/ex/site/"
sed -e "s#/etc/rulesd/#$tmp/ex/#g" -e "s#/var/log/rulesd/#$tmp/ex/log/#g" server/rulesd.example.yaml >"$tmp/ex/rulesd.yaml"
"$RULESD" --check --config "$tmp/ex/rulesd.yaml" >"$tmp/out" 2>&1
if [ $? -eq 0 ] && grep -q "$(ls rules/*.rules | wc -l) policies OK" "$tmp/out"; then pass; else fail "the example configuration does not load: $(head -c 400 "$tmp/out")"; fi
# A priority override names a source; a bundle's priorities are fixed (told
# by content: this bundle is called .rules).
"$RULEC" compile rules/example.rules -o "$tmp/bundle-named.rules"
printf 'policies:\n  - path: %s\n    priority: 5\n' "$tmp/bundle-named.rules" >"$tmp/bundle-prio.yaml"
config_error "bundle-prio.yaml: policies[0].priority: '$tmp/bundle-named.rules' is a compiled bundle; its priorities are fixed" --config "$tmp/bundle-prio.yaml"
RULESD_CONFIG="$tmp/bad-key.yaml" "$RULESD" --check >"$tmp/out" 2>&1
if [ $? -eq 1 ] && grep -q "limits.max_body_byte" "$tmp/out"; then pass; else fail "RULESD_CONFIG is not read"; fi
# Relative paths in a configuration file are relative to that file, whatever
# the working directory (systemd starts services in /).
mkdir -p "$tmp/etc/policies"
cp rules/example.rules "$tmp/etc/policies/"
printf 'policies:\n  - policies/\n' >"$tmp/etc/rel.yaml"
(rulesd_abs=$(cd "$(dirname "$RULESD")" && pwd)/$(basename "$RULESD"); cd / && "$rulesd_abs" --check --config "$tmp/etc/rel.yaml") >"$tmp/out" 2>&1
if [ $? -eq 0 ]; then pass; else fail "config-relative policy path: $(head -c 300 "$tmp/out")"; fi

# ---------------------------------------------------------------- server A
# The example policies (plus a fixture with two forbids and secret-printing
# templates) from a configuration file.
cat >"$tmp/a.yaml" <<EOF2
listen: 127.0.0.1:0
threads: 2
policies:
  - $ROOT/rules/example.rules
  - path: $FIX/multi.rules
    params:
      marker: "from-config"
limits:
  max_body_bytes: 65536
  connection_timeout: 2
  header_timeout: 3
decision_log: $tmp/decisions.jsonl
watch: false
EOF2
start a --config "$tmp/a.yaml"

expect_status 200 a GET /healthz
check "healthz body" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"]=="ok" and d["revision"]==1, d' "$tmp/body"

# Every real dstack body through its endpoint: the response must equal
# rulec's answer on the same policies, and hold up field by field.
n=0
for f in "$SPECS"/*.request.json; do
    kind=$(kind_of "$f")
    n=$((n + 1))
    tr -d '\n' <"$f" >"$tmp/req$n.json"
    "$RULEC" apply rules/example.rules "$FIX/multi.rules" --param multi.marker='"from-config"' \
        --request "$tmp/req$n.json" --kind "$kind" --ndjson >"$tmp/want$n.json" 2>/dev/null
    echo "/apply_policies/on_${kind}_apply $tmp/req$n.json $tmp/want$n.json" >>"$tmp/jobs"
    got=$(req a POST "/apply_policies/on_${kind}_apply" -H 'Content-Type: application/json' --data-binary @"$tmp/req$n.json")
    if [ "$got" != 200 ]; then fail "$(basename "$f") -> $got"; continue; fi
    if ! grep -qi '^content-type: application/json' "$tmp/headers"; then fail "$(basename "$f"): content type"; continue; fi
    cp "$tmp/body" "$tmp/got$n.json"
    echo "$(basename "$f")($kind) $tmp/req$n.json $tmp/got$n.json $tmp/want$n.json $kind" >>"$tmp/checks"
done
python3 "$FIX/check.py" dstack-batch "$tmp/checks" >"$tmp/checks.out" 2>&1
while read -r verdict rest; do
    if [ "$verdict" = PASS ]; then pass; else fail "$rest"; fi
done <"$tmp/checks.out"
[ "$(grep -c '^PASS' "$tmp/checks.out")" -eq "$n" ] || fail "field-by-field checks: $(head -c 300 "$tmp/checks.out")"
[ "$n" -ge 30 ] && pass || fail "only $n request bodies in $SPECS"
# A run request (privileged: false) and its answer, for the tests below.
tr -d '\n' <"$SPECS/examples_.dstack.yml.request.json" >"$tmp/run.json"
"$RULEC" apply rules/example.rules --request "$tmp/run.json" --kind run --ndjson >"$tmp/run.want" 2>/dev/null

# Rejections: one forbid, two forbids joined with "; ", a gateway.
# Run requests with configuration.name set and secrets in env and registry_auth.
python3 - "$SPECS/synthetic_task_limits.request.json" "$tmp" <<'PY'
import json, sys
for name, out in (("two-forbids", "two.json"), ("leak", "leak.json"), ("eval-error", "evalerr.json")):
    d = json.load(open(sys.argv[1]))
    c = d["spec"]["configuration"]
    c["name"] = name
    c["privileged"] = False
    c["env"] = {"HF_TOKEN": "hf_SuperSecretValue123", "QUOTED": 'a"b-secret-with-quote', "SHORT": "1"}
    c["registry_auth"] = {"username": "deploy-bot-user", "password": "P@ssw0rd-Secret!"}
    json.dump(d, open(sys.argv[2] + "/" + out, "w"))
PY
expect_status 200 a POST /apply_policies/on_run_apply --data-binary @"$tmp/two.json"
check "two forbids joined" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["error"]=="first reason; second reason", d["error"]; assert d["spec"]==json.load(open(sys.argv[2]))["spec"], "spec not echoed unchanged"' "$tmp/body" "$tmp/two.json"

# The spec as received: a rejected spec goes back byte for byte (blanks,
# newlines, escapes and numbers as written); an allowed one keeps every part
# no policy changed as it came in, and its numbers and strings everywhere.
printf '%s' '{"user": "u", "project": "p", "spec": ' >"$tmp/raw.json"
printf '%s' '{
   "run_name" : "raw" ,
 "configuration": {"type": "task", "privileged": true, "image": "caf\u00e9\/x",
   "max_price": 1.50, "env": { "A": "\u0041" }, "limits": {"big": 123456789012345678901234567890, "huge": 1e400, "z": -0.0, "e": 1E5}} }' >"$tmp/raw.spec"
cat "$tmp/raw.spec" >>"$tmp/raw.json"
printf '}' >>"$tmp/raw.json"
expect_status 200 a POST /apply_policies/on_run_apply --data-binary @"$tmp/raw.json"
check "rejected spec echoed byte for byte" python3 -c '
import sys
body, spec = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
assert body.startswith(b"{\"spec\":" + spec + b",\"error\":\"Running privileged containers is forbidden"), body' "$tmp/body" "$tmp/raw.spec"
sed 's/"privileged": true/"privileged": false/' "$tmp/raw.json" >"$tmp/raw2.json"
expect_status 200 a POST /apply_policies/on_run_apply --data-binary @"$tmp/raw2.json"
check "allowed spec keeps what no policy changed" python3 -c '
import sys
body = open(sys.argv[1], "rb").read()
for part in (b"\"image\": \"caf\\u00e9\\/x\"", b"\"env\": { \"A\": \"\\u0041\" }",
             b"\"limits\": {\"big\": 123456789012345678901234567890, \"huge\": 1e400, \"z\": -0.0, \"e\": 1E5}",
             b"\"max_price\":2.0", b"\"error\":null"):
    assert part in body, (part, body)' "$tmp/body"

# /v1/evaluate: a kind dstack does not have is refused with the closest one.
expect_status 400 a POST /v1/evaluate -d '{"kind":"flet","spec":{}}'
grep -q "unknown kind 'flet' for target dstack (kinds: run, fleet, volume, gateway); did you mean 'fleet'?" "$tmp/body" && pass ||
    fail "evaluate with an unknown kind: $(cat "$tmp/body")"

# /v1/evaluate: the full decision.
expect_status 200 a POST /v1/evaluate -d '{"kind":"run","user":"bob","project":"p","spec":{"configuration":{"type":"service"}}}'
check "evaluate decision" python3 "$FIX/check.py" evaluate "$tmp/body"
expect_status 200 a POST /v1/evaluate -d '{"kind":"run","user":"bob","project":"p","spec":{"configuration":{"type":"task","privileged":true}}}'
check "evaluate rejection" python3 "$FIX/check.py" rejected "$tmp/body" "Running privileged containers is forbidden" example 11
expect_status 200 a POST /v1/evaluate -d '{"kind":"volume","spec":{"configuration":{"type":"volume"}}}'
check "evaluate other kind" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["allowed"] and d["changes"]==[] and d["spec"]=={"configuration":{"type":"volume"}}, d' "$tmp/body"

# /v1/policies: names, priorities, parameters (with the override), checksums.
expect_status 200 a GET /v1/policies
check "policies listing" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ps = {p["name"]: p for p in d["policies"]}
assert set(ps) == {"example", "multi"}, ps.keys()
assert ps["multi"]["priority"] == 50 and ps["multi"]["parameters"] == {"marker": "from-config"}, ps["multi"]
assert ps["example"]["kinds"] == ["run", "gateway"] and len(ps["example"]["checksum"]) == 8
assert d["revision"] == 1' "$tmp/body"

# Bad input: each refused with a clear status and {"detail"}, none fatal.
head -c 70000 /dev/zero | tr '\0' ' ' >"$tmp/huge.json"
expect_status 413 a POST /apply_policies/on_run_apply --data-binary @"$tmp/huge.json"
detail_has "over the 65536-byte limit"
expect_status 413 a POST /apply_policies/on_run_apply -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/huge.json"
expect_status 400 a POST /apply_policies/on_run_apply -d 'this is not json'
detail_has "request body at line 1, column 1: invalid JSON"
expect_status 400 a POST /apply_policies/on_run_apply -d '{"user":"a","project":"b"}'
detail_has 'missing "spec"'
expect_status 400 a POST /apply_policies/on_run_apply -d '{"user":"a","spec":[1]}'
detail_has '"spec" must be an object, got an array'
expect_status 400 a POST /apply_policies/on_run_apply -d '[1,2]'
detail_has "expected a JSON object, got an array"
expect_status 400 a POST /apply_policies/on_run_apply
detail_has "request body is empty"
expect_status 400 a POST /apply_policies/on_run_apply -d '{"user":5,"spec":{}}'
detail_has '"user" must be a string, got an integer'
expect_status 400 a POST /apply_policies/on_run_apply -d '{"spec":{"a":1,"a":2}}'
detail_has 'duplicate key'
expect_status 400 a POST /v1/evaluate -d '{"spec":{}}'
detail_has '"kind" must be a non-empty string'
expect_status 404 a GET /nope
detail_has "no such endpoint: /nope"
expect_status 404 a POST /apply_policies/on_cluster_apply -d '{}'
expect_status 405 a GET /apply_policies/on_run_apply
grep -qi '^allow: POST' "$tmp/headers" && pass || fail "405 without Allow: POST"
expect_status 405 a POST /metrics -d '{}'
expect_status 405 a DELETE /v1/policies
# The slow cases run side by side (each takes the 2-second limit or more;
# trickle, headers a byte at a time, the 3-second header limit).
for mode in idle stall drip garbage trickle; do
    limit=2; [ $mode = trickle ] && limit=3
    python3 "$FIX/rawclient.py" $mode "$PORT_a" $limit >"$tmp/raw.$mode" 2>&1 &
    eval "raw_$mode=\$!"
done
for mode in idle stall drip garbage trickle; do
    eval "wait \$raw_$mode" && pass || fail "slow/garbage connection ($mode): $(head -c 300 "$tmp/raw.$mode")"
done
expect_status 200 a GET /healthz

# Concurrent load: 20 keep-alive clients for 3 s over every real body, each
# response byte-identical to rulec's; bad requests fired alongside must not
# disturb them.
set --
while read -r p b e; do set -- "$@" "$p" "$b" "$e"; done <"$tmp/jobs"
"$LOAD" --port "$PORT_a" --clients 20 --seconds 3 "$@" >"$tmp/load.out" 2>&1 &
loadpid=$!
i=0
while [ $i -lt 20 ]; do
    req a POST /apply_policies/on_run_apply -d 'not json' >/dev/null
    req a POST /apply_policies/on_run_apply --data-binary @"$tmp/huge.json" >/dev/null
    req a GET /nope >/dev/null
    i=$((i + 1))
done
wait $loadpid
st=$?
echo "load: $(cat "$tmp/load.out")"
if [ $st -eq 0 ] && grep -q 'errors 0 ' "$tmp/load.out"; then pass; else fail "load test: $(head -c 600 "$tmp/load.out")"; fi

# Metrics after all that.
expect_status 200 a GET /metrics
check "metrics" python3 -c '
import re, sys
t = open(sys.argv[1]).read()
def v(name):
    m = re.search("^" + re.escape(name) + r" (\S+)$", t, re.M)
    assert m, name + " missing"
    return float(m.group(1))
assert v("rulesd_decisions_total{kind=\"run\",outcome=\"allowed\"}") > 1000
assert v("rulesd_decisions_total{kind=\"run\",outcome=\"rejected\"}") >= 2
assert v("rulesd_decisions_total{kind=\"gateway\",outcome=\"rejected\"}") >= 1
assert v("rulesd_decisions_total{kind=\"run\",outcome=\"invalid\"}") >= 20
assert v("rulesd_http_responses_total{code=\"413\"}") >= 21
assert v("rulesd_decision_duration_seconds_bucket{le=\"+Inf\"}") == v("rulesd_decision_duration_seconds_count")
assert v("rulesd_policy_set_revision") == 1 and v("rulesd_reloads_total") == 0
assert "# TYPE rulesd_decision_duration_seconds histogram" in t' "$tmp/body"

# Redaction: a rejection whose message prints env values and the registry
# password reaches the client in full, but never the decision log.
expect_status 200 a POST /apply_policies/on_run_apply --data-binary @"$tmp/leak.json"
grep -q 'hf_SuperSecretValue123' "$tmp/body" && pass || fail "the client should see its own message"
# An evaluation error quoting a secret: the client is told (fail closed),
# the server log gets the message scrubbed.
expect_status 200 a POST /apply_policies/on_run_apply --data-binary @"$tmp/evalerr.json"
check "evaluation error answered as a rejection" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["error"].startswith("rulesd: the policies could not be evaluated: multi:"), d["error"]' "$tmp/body"
grep -q 'could not be evaluated\|multi:1[0-9]: cannot apply' "$tmp/a.log" && pass || fail "the server log does not record the evaluation error: $(tail -3 "$tmp/a.log")"
stop a
check "decision log redacted" python3 "$FIX/check.py" declog "$tmp/decisions.jsonl" \
    hf_SuperSecretValue123 'P@ssw0rd-Secret!' 'a\"b-secret-with-quote' 'b-secret-with-quote'
if grep -q 'SuperSecret\|P@ssw0rd' "$tmp/a.log"; then fail "the server log holds a secret"; else pass; fi

# ---------------------------------------------------------------- auth
printf 'test-token-0123456789abcdef\n' >"$tmp/token"
start b --port 0 --policy rules/example.rules --token-file "$tmp/token" --decision-log "$tmp/b.jsonl"
expect_status 401 b POST /apply_policies/on_run_apply --data-binary @"$tmp/run.json"
grep -qi '^www-authenticate: Bearer' "$tmp/headers" && pass || fail "401 without WWW-Authenticate"
detail_has "missing 'Authorization: Bearer <token>' header"
expect_status 401 b POST /apply_policies/on_run_apply -H 'Authorization: Bearer wrong-token-0123456789ab' --data-binary @"$tmp/run.json"
detail_has "invalid bearer token"
expect_status 401 b POST /apply_policies/on_run_apply -H 'Authorization: Basic dGVzdA==' --data-binary @"$tmp/run.json"
expect_status 401 b GET /metrics
expect_status 401 b GET /v1/policies
expect_status 401 b GET /nope
expect_status 200 b GET /healthz
expect_status 200 b POST /apply_policies/on_run_apply -H 'Authorization: Bearer test-token-0123456789abcdef' --data-binary @"$tmp/run.json"
[ "$(cat "$tmp/body")" = "$(cat "$tmp/run.want")" ] && pass || fail "authorized request answered wrongly"
expect_status 200 b GET /metrics -H 'authorization: bearer test-token-0123456789abcdef'
stop b
if grep -q 'test-token-0123456789abcdef' "$tmp/b.log" "$tmp/b.jsonl"; then fail "a log holds the token"; else pass; fi

# ---------------------------------------------------------------- reload
# Policies in a folder that is edited while 10 clients keep asking: every
# response must match the old or the new set, none may fail; a broken edit
# is refused and the previous set keeps serving.
mkdir "$tmp/pol"
cp rules/example.rules "$tmp/pol/example.rules"
sed 's/max_price = 2.0/max_price = 3.0/' rules/example.rules >"$tmp/example3.rules"
cat >"$tmp/c.yaml" <<EOF2
listen: "127.0.0.1:0"
policies:
  - $tmp/pol
  - path: $ROOT/rules/gpu-limits.rules
    priority: 3
    params: {max_gpus: 2}
  - path: $ROOT/rules/dev-idle.rules
    params: {max_idle: 1h}
watch:
  interval_ms: 100
EOF2
"$RULEC" apply "$tmp/pol/example.rules" rules/gpu-limits.rules rules/dev-idle.rules --param gpu-limits.max_gpus=2 --param dev-idle.max_idle=1h --request "$tmp/run.json" --kind run --ndjson >"$tmp/old.json" 2>/dev/null
"$RULEC" apply "$tmp/example3.rules" rules/gpu-limits.rules rules/dev-idle.rules --param gpu-limits.max_gpus=2 --param dev-idle.max_idle=1h --request "$tmp/run.json" --kind run --ndjson >"$tmp/new.json" 2>/dev/null
cmp -s "$tmp/old.json" "$tmp/new.json" && fail "reload fixture: old and new answers are the same"
start c --config "$tmp/c.yaml"
expect_status 200 c GET /v1/policies
check "priority and param overrides" python3 -c '
import json, sys
ps = {p["name"]: p for p in json.load(open(sys.argv[1]))["policies"]}
assert ps["gpu-limits"]["priority"] == 3 and ps["gpu-limits"]["parameters"]["max_gpus"] == 2, ps["gpu-limits"]
assert ps["dev-idle"]["parameters"]["max_idle"] == 3600, ps["dev-idle"]' "$tmp/body"

revision() {  # the revision /healthz reports now
    req c GET /healthz >/dev/null
    sed -n 's/.*"revision":\([0-9]*\).*/\1/p' "$tmp/body"
}
wait_revision() {  # wait_revision N: at most 10 s for revision N or later
    i=0
    while [ $i -lt 100 ]; do
        r=$(revision)
        [ -n "$r" ] && [ "$r" -ge "$1" ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
"$LOAD" --port "$PORT_c" --clients 10 --seconds 4 /apply_policies/on_run_apply "$tmp/run.json" "$tmp/old.json,$tmp/new.json" >"$tmp/load2.out" 2>&1 &
loadpid=$!
sleep 0.5
[ "$(revision)" = 1 ] && pass || fail "revision before any reload is not 1"
# A good edit, written the way editors do (new file, then rename).
cp "$tmp/example3.rules" "$tmp/pol/.example.tmp" && mv "$tmp/pol/.example.tmp" "$tmp/pol/example.rules"
wait_revision 2 && pass || fail "the edited policy was not reloaded: $(tail -5 "$tmp/c.log")"
sleep 0.3
rev=$(revision)
[ "$rev" = 2 ] && pass || fail "one edit caused $((rev - 1)) reloads"
expect_status 200 c POST /apply_policies/on_run_apply --data-binary @"$tmp/run.json"
[ "$(cat "$tmp/body")" = "$(cat "$tmp/new.json")" ] && pass || fail "after reload, the answer is not the new set's"
# A broken edit: refused, diagnostics logged, the previous set keeps serving.
# Written whole and renamed in, like the good edit: a file truncated and
# then written in place can be seen empty by the watcher (a valid, empty
# policy), which would make this an extra good reload, not the broken one.
printf 'policy "example";\non run { set configuration.max_price = ; }\n' >"$tmp/pol/.example.tmp"
mv "$tmp/pol/.example.tmp" "$tmp/pol/example.rules"
i=0
while ! grep -q 'reload failed' "$tmp/c.log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
grep -q "reload failed: .*example.rules:2:" "$tmp/c.log" && pass || fail "no diagnostics for the broken policy: $(tail -5 "$tmp/c.log")"
expect_status 200 c POST /apply_policies/on_run_apply --data-binary @"$tmp/run.json"
[ "$(cat "$tmp/body")" = "$(cat "$tmp/new.json")" ] && pass || fail "after a failed reload, the previous set is not serving"
expect_status 200 c GET /metrics
grep -q '^rulesd_reload_failures_total 1$' "$tmp/body" && grep -q "^rulesd_policy_set_revision $rev\$" "$tmp/body" && pass \
    || fail "metrics after a failed reload: $(grep -E 'reload|revision' "$tmp/body" | grep -v '#')"
# Fixed again, and SIGHUP: reloads (the watch may get there first). Renamed
# in like the edits above: copied in place, the watcher can see the file
# empty for a moment on a loaded machine, and an empty policy is valid.
cp rules/example.rules "$tmp/pol/.example.tmp" && mv "$tmp/pol/.example.tmp" "$tmp/pol/example.rules"
eval "kill -HUP \$PID_c"
wait_revision $((rev + 1)) && pass || fail "no reload after the fix and SIGHUP: $(tail -5 "$tmp/c.log")"
wait $loadpid
st=$?
echo "reload load: $(cat "$tmp/load2.out")"
if [ $st -eq 0 ] && grep -q 'errors 0 ' "$tmp/load2.out"; then pass; else fail "requests failed during reloads: $(head -c 600 "$tmp/load2.out")"; fi
stop c

# ---------------------------------------------------------------- skypilot
# SkyPilot's RESTful admin policy on a configured path, beside dstack's.
# Every real body: status, double encoding, the task and config re-read with
# PyYAML against what was sent, writes, rejections, schemas
# (tests/server/skypilot_check.py), and each answer the same as rulec's.
SKY=${RULES_SKYPILOT_DIR:-tests/data/skypilot}/requests
config_error "--skypilot-path: 'sky' must start with '/'" --policy rules/example.rules --skypilot-path sky
printf 'policies: [%s]\nskypilot:\n  path: /apply_policies/on_run_apply\n' "$ROOT/rules/example.rules" >"$tmp/sky-taken.yaml"
config_error "sky-taken.yaml: skypilot.path: '/apply_policies/on_run_apply' is one of dstack's plugin paths" --config "$tmp/sky-taken.yaml"
printf 'policies: [%s]\nskypilot:\n  url: /x\n' "$ROOT/rules/example.rules" >"$tmp/sky-key.yaml"
config_error "sky-key.yaml: skypilot.url: unknown key (expected path)" --config "$tmp/sky-key.yaml"
cat >"$tmp/s.yaml" <<EOF2
listen: 127.0.0.1:0
threads: 2
policies:
  - $ROOT/rules/example.rules
  - $FIX/skypilot.rules
skypilot:
  path: /sky/policy
decision_log: $tmp/sky-decisions.jsonl
watch: false
EOF2
start s --config "$tmp/s.yaml"
: >"$tmp/sky-checks"
n=0
for f in "$SKY"/*.json; do
    n=$((n + 1))
    name=$(basename "$f" .json)
    "$RULEC" apply rules/example.rules "$FIX/skypilot.rules" --request "$f" --ndjson >"$tmp/sky-want$n" 2>/dev/null
    code=$(curl -s --max-time 10 -X POST -H 'Content-Type: application/json' --data-binary @"$f" \
        -o "$tmp/sky-got$n" -w '%{http_code} %{content_type}' "http://127.0.0.1:$PORT_s/sky/policy")
    ctype=$(printf '%s' "${code#* }" | tr -d ' ')
    echo "$name $f ${code%% *} $tmp/sky-got$n $ctype $tmp/sky-want$n" >>"$tmp/sky-checks"
done
python3 "$FIX/skypilot_check.py" answers "$tmp/sky-checks" >"$tmp/sky-checks.out" 2>&1
while read -r verdict rest; do
    if [ "$verdict" = PASS ]; then pass; else fail "skypilot $rest"; fi
done <"$tmp/sky-checks.out"
[ "$(grep -c '^PASS' "$tmp/sky-checks.out")" -eq "$n" ] || fail "skypilot answers: $(head -c 400 "$tmp/sky-checks.out")"
[ "$n" -ge 12 ] && pass || fail "only $n SkyPilot bodies in $SKY"
# The same server still answers dstack.
expect_status 200 s POST /apply_policies/on_run_apply --data-binary @"$tmp/run.json"
[ "$(cat "$tmp/body")" = "$(cat "$tmp/run.want")" ] && pass || fail "dstack beside SkyPilot answered wrongly"
# One set, both protocols, `on *` blocks in each target's policy and in a
# target-any one: each request is judged by its own target's policies and
# any's, never by the other protocol's (a SkyPilot `on *` used to write
# task.* into dstack's spec, a dstack `on *` to get SkyPilot a 500).
mkdir "$tmp/both"
printf 'policy "d" target dstack;\non * {\n  set configuration.name = "by-dstack";\n}\n' >"$tmp/both/d.rules"
printf 'policy "s" target skypilot;\non * {\n  set task.name = "by-skypilot";\n}\n' >"$tmp/both/s.rules"
printf 'policy "a" target any;\non * {\n  warn "any saw {$kind}";\n}\n' >"$tmp/both/a.rules"
start both --port 0 --policy "$tmp/both" --skypilot-path /sky --no-watch
expect_status 200 both POST /apply_policies/on_run_apply --data-binary @"$tmp/run.json"
check "dstack request judged by dstack's and any's policies only" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
spec = d["spec"]
assert spec["configuration"]["name"] == "by-dstack", spec["configuration"].get("name")
assert "task" not in spec, sorted(spec)
' "$tmp/body"
expect_status 200 both POST /sky --data-binary @"$SKY/01_minimal_launch.json"
check "SkyPilot request judged by SkyPilot's and any's policies only" python3 -c '
import json, sys, yaml
d = json.loads(json.load(open(sys.argv[1])))
task = yaml.safe_load(d["task"])
assert task["name"] == "by-skypilot", task.get("name")
assert "configuration" not in task and "configuration" not in (yaml.safe_load(d["skypilot_config"]) or {})
' "$tmp/body"
expect_status 200 both GET /v1/policies
check "/v1/policies names each policy's target" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert {p["name"]: p["target"] for p in d["policies"]} == {"a": "any", "d": "dstack", "s": "skypilot"}, d
' "$tmp/body"
stop both
# Only the configured path is SkyPilot's; it takes POST only.
expect_status 404 s POST /skypilot/admin_policy --data-binary @"$SKY/01_minimal_launch.json"
expect_status 405 s GET /sky/policy
grep -qi '^allow: POST' "$tmp/headers" && pass || fail "405 without Allow: POST on the SkyPilot path"
# A body SkyPilot would never send: 422 (400 would read as a policy's
# rejection), saying what is wrong and where.
sky_bad() {  # sky_bad BODY_FILE TEXT
    expect_status 422 s POST /sky/policy -H 'Content-Type: application/json' --data-binary @"$1"
    detail_has "$2"
}
python3 - "$SKY/01_minimal_launch.json" "$tmp" <<'PY'
import json, sys
body = json.loads(json.load(open(sys.argv[1])))
out = sys.argv[2] + "/sky-bad-"
def write(name, text):
    open(out + name, "w").write(text)
write("object", json.dumps(body))                                  # not double-encoded
write("array", json.dumps(json.dumps([body])))
write("nonjson", json.dumps("{task: x"))
write("empty", "")
b = dict(body); del b["task"]; write("notask", json.dumps(json.dumps(b)))
b = dict(body); b["task"] = "name: x\nresources: [a\n"; write("badyaml", json.dumps(json.dumps(b)))
b = dict(body); b["task"] = "- a\n- b\n"; write("tasklist", json.dumps(json.dumps(b)))
b = dict(body); b["extra"] = 1; write("extra", json.dumps(json.dumps(b)))
b = dict(body); b["request_name"] = "launch; rm -rf"; write("badname", json.dumps(json.dumps(b)))
b = dict(body); b["user"] = "just a name\n"; write("baduser", json.dumps(json.dumps(b)))
b = dict(body); b["at_client_side"] = "no"; write("badside", json.dumps(json.dumps(b)))
b = dict(body); b["request_options"] = {"cluster_name": 5, "down": False, "dryrun": False, "idle_minutes_to_autostop": None}
write("badopts", json.dumps(json.dumps(b)))
PY
sky_bad "$tmp/sky-bad-object" 'expected a JSON string holding the request object (SkyPilot encodes its body twice), got an object'
sky_bad "$tmp/sky-bad-array" 'the string must hold a JSON object, got an array'
sky_bad "$tmp/sky-bad-nonjson" 'the JSON inside the string, at line 1, column 2'
sky_bad "$tmp/sky-bad-empty" 'request body is empty'
sky_bad "$tmp/sky-bad-notask" 'missing "task" (the task as YAML text)'
sky_bad "$tmp/sky-bad-badyaml" '"task" (YAML) at line 3, column 1'
sky_bad "$tmp/sky-bad-tasklist" '"task" must be YAML of a mapping (the task), got a list'
sky_bad "$tmp/sky-bad-extra" 'unknown member "extra"'
sky_bad "$tmp/sky-bad-badname" 'is not a request name'
sky_bad "$tmp/sky-bad-baduser" '"user" must be YAML of a mapping'
sky_bad "$tmp/sky-bad-badside" '"at_client_side" must be true or false, got a string'
sky_bad "$tmp/sky-bad-badopts" '"request_options"."cluster_name" must be a string or null, got an integer'
expect_status 200 s GET /metrics
check "skypilot metrics" python3 -c '
import re, sys
t = open(sys.argv[1]).read()
def v(name):
    m = re.search("^" + re.escape(name) + r" (\S+)$", t, re.M)
    assert m, name + " missing"
    return float(m.group(1))
S = "rulesd_skypilot_decisions_total{request=\"%s\",outcome=\"%s\"}"
assert v(S % ("launch", "allowed")) == 2 and v(S % ("launch", "rejected")) == 1 and v(S % ("launch", "error")) == 1
assert v(S % ("jobs.launch", "allowed")) == 2 and v(S % ("jobs.launch", "rejected")) == 1
assert v(S % ("serve.up", "allowed")) == 2 and v(S % ("exec", "allowed")) == 1
assert v(S % ("other", "invalid")) == 12
assert v("rulesd_http_responses_total{code=\"422\"}") == 12 and v("rulesd_http_responses_total{code=\"500\"}") == 1
assert v("rulesd_skypilot_decision_duration_seconds_count") == 24
assert v("rulesd_skypilot_decision_duration_seconds_bucket{le=\"+Inf\"}") == 24
assert v("rulesd_decisions_total{kind=\"run\",outcome=\"allowed\"}") == 1' "$tmp/body"
grep -q 'request .* (launch): .*sky:[0-9]*: cannot apply int() to a string' "$tmp/s.log" && pass ||
    fail "the server log does not record SkyPilot's evaluation error: $(tail -3 "$tmp/s.log")"
stop s
python3 "$FIX/skypilot_check.py" declog "$tmp/sky-decisions.jsonl" "$SKY"/*.json >"$tmp/sky-declog.out" 2>&1
grep -q '^PASS declog' "$tmp/sky-declog.out" && pass || fail "skypilot decision log: $(head -c 400 "$tmp/sky-declog.out")"
if grep -q 'hf_EXAMPLE\|secretpassword\|private-bucket' "$tmp/s.log"; then fail "the server log holds a SkyPilot secret"; else pass; fi
# ---------------------------------------------------------------- identity
# Which policies decided: the set's SHA-256 is that of the bundle rulec
# compile writes for the same inputs (sha256sum of the file), each policy's
# that of its section of it; /v1/policies, the metrics' build info and
# every decision-log line carry them.
mkdir "$tmp/id"
"$RULEC" compile rules/example.rules -o "$tmp/id/example.rbc"
"$RULEC" compile "$tmp/id" rules/gpu-limits.rules -o "$tmp/id-all.rbc"
set_sum=$(sha256sum "$tmp/id-all.rbc" | cut -d' ' -f1)
start e --port 0 --policy "$tmp/id" --policy rules/gpu-limits.rules --decision-log "$tmp/e.jsonl" --no-watch
expect_status 200 e GET /v1/policies
check "digests in /v1/policies" python3 -c '
import hashlib, json, struct, sys
d = json.load(open(sys.argv[1]))
assert d["set_sha256"] == sys.argv[2], (d["set_sha256"], sys.argv[2])
b = open(sys.argv[3], "rb").read()          # example.rbc: one policy
size = struct.unpack_from("<I", b, 20)[0]
ps = {p["name"]: p for p in d["policies"]}
assert ps["example"]["sha256"] == hashlib.sha256(b[24:24 + size]).hexdigest(), ps["example"]
assert len(ps["gpu-limits"]["sha256"]) == 64 and ps["gpu-limits"]["sha256"] != ps["example"]["sha256"]
' "$tmp/body" "$set_sum" "$tmp/id/example.rbc"
"$RULEC" disasm "$tmp/id-all.rbc" >"$tmp/id.disasm"
grep -q "^set sha256 $set_sum  policies 2\$" "$tmp/id.disasm" && pass || fail "disasm does not head with the set's digest: $(head -2 "$tmp/id.disasm")"
policy_sum=$(python3 -c 'import json,sys; print([p["sha256"] for p in json.load(open(sys.argv[1]))["policies"] if p["name"]=="example"][0])' "$tmp/body")
grep -q "^  sha256 $policy_sum\$" "$tmp/id.disasm" && pass || fail "disasm does not show the policy's digest $policy_sum"
expect_status 200 e GET /metrics
grep -Eq "^rulesd_build_info\{version=\"[0-9]+\.[0-9]+\.[0-9]+\",set_sha256=\"$set_sum\"\} 1\$" "$tmp/body" && pass ||
    fail "metrics build info: $(grep build_info "$tmp/body")"

# /v1/evaluate: a change of a field that was null has "old": null; of one
# that was missing, no "old" at all (as rulec apply --explain's "(missing)").
expect_status 200 e POST /v1/evaluate -d '{"kind":"run","spec":{"configuration":{"type":"service","max_price":null}}}'
check "evaluate: null and missing old values" python3 "$FIX/check.py" old-values "$tmp/body"

# Requests that cannot be read one way only: 400, and the connection closes.
python3 - "$PORT_e" >"$tmp/framing.out" 2>&1 <<'PY'
import socket, sys
port = int(sys.argv[1])
def ask(data):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(data)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except socket.timeout:
        out += b"\n(still open after 10 s)"
    s.close()
    head, _, body = out.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), body.decode(errors="replace"), b"connection: close" in head.lower()
body = b'{"kind":"run","spec":{}}'
cases = [
    ("two Content-Length values", b"POST /v1/evaluate HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\nContent-Length: 5\r\n\r\n" % len(body) + body,
     "400", "conflicting Content-Length headers"),
    ("two Content-Length values, the short one first", b"POST /v1/evaluate HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\ncontent-length: %d\r\n\r\n" % len(body) + body,
     "400", "conflicting Content-Length headers"),
    ("Content-Length and chunked", b"POST /v1/evaluate HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % (len(body), len(body)) + body + b"\r\n0\r\n\r\n",
     "400", "both Content-Length and Transfer-Encoding headers"),
    ("a NUL in the path", b"GET /healthz%00/../v1/policies HTTP/1.1\r\nHost: t\r\n\r\n", "400", "the request target holds a NUL byte (%00)"),
    ("a NUL in the path of a POST", b"POST /v1/evaluate%%00x HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body) + body,
     "400", "the request target holds a NUL byte (%00)"),
    ("a NUL in the query", b"GET /healthz?x=%00 HTTP/1.1\r\nHost: t\r\n\r\n", "400", "the request target holds a NUL byte (%00)"),
    ("one Content-Length twice, the same", b"POST /v1/evaluate HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (len(body), len(body)) + body,
     "200", '"allowed":true'),
]
for name, data, status, text in cases:
    line, got, closed = ask(data)
    ok = status in line and text in got and (status == "200" or closed)
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else f": {line} closed={closed} {got[:200]!r}"))
PY
while read -r verdict rest; do
    if [ "$verdict" = PASS ]; then pass; else fail "framing: $rest"; fi
done <"$tmp/framing.out"
[ "$(grep -c '^PASS' "$tmp/framing.out")" -eq 7 ] || fail "framing cases: $(head -c 400 "$tmp/framing.out")"
expect_status 200 e GET /healthz
# Decisions of every kind are logged with the set's digest.
expect_status 200 e POST /apply_policies/on_run_apply --data-binary @"$tmp/run.json"
privileged='{"user":"u","project":"p","spec":{"configuration":{"type":"task","privileged":true}}}'
expect_status 200 e POST /apply_policies/on_run_apply --data-binary "$privileged"
expect_status 400 e POST /apply_policies/on_run_apply -d 'not json'
stop e
check "every decision-log line names the set" python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) >= 3, len(lines)
assert all(l["set_sha256"] == sys.argv[2] for l in lines), [l.get("set_sha256") for l in lines]
assert {l["outcome"] for l in lines} >= {"allowed", "rejected", "invalid"}, [l["outcome"] for l in lines]
' "$tmp/e.jsonl" "$set_sum"

# ---------------------------------------------------------------- shutdown
# SIGTERM while a request is half sent: it is still answered, then exit 0.
start d --port 0 --policy rules/example.rules
eval "dpid=\$PID_d"
check "in-flight request finishes after SIGTERM" python3 "$FIX/rawclient.py" inflight "$PORT_d" "$dpid" "$tmp/run.json"
stop d

# ---------------------------------------------------------------- slow clients
# 1,100 sockets sending a request line a byte every 2 s, from 11 loopback
# addresses (100 each, under the per-client limit, so that the server
# fills up), must not keep /healthz or a dstack request from being answered
# at once; no slow socket lives past the 5-second header limit (+1.5 s for
# the sweep and for the client to notice), and the reserve keeps the
# server below its 1,024 connections. Then 300 from 127.0.0.1, the ordinary
# requests' own address: the per-client limit (128) closes their own
# longest-waiting connections, not the ordinary ones. Default limits; the
# client and rulesd raise their own open-file limits (the client says so
# if it cannot, and holds fewer). About 16 s.
start e --port 0 --policy rules/example.rules
src=""; i=2
while [ $i -le 12 ]; do src="$src --source 127.0.0.$i"; i=$((i + 1)); done
# shellcheck disable=SC2086
python3 "$FIX/slowclients.py" "$PORT_e" 1100 10 $src --post /apply_policies/on_run_apply "$tmp/run.json" \
    "$tmp/run.want" --max-life 6.5 --max-open 1000 >"$tmp/slow1.out" 2>&1
st=$?
cat "$tmp/slow1.out"
[ $st -eq 0 ] && pass || fail "slow clients from many addresses: $(head -c 600 "$tmp/slow1.out")"
python3 "$FIX/slowclients.py" "$PORT_e" 300 5 --post /apply_policies/on_run_apply "$tmp/run.json" \
    "$tmp/run.want" --max-open 140 >"$tmp/slow2.out" 2>&1
st=$?
cat "$tmp/slow2.out"
[ $st -eq 0 ] && pass || fail "slow clients from the ordinary client's address: $(head -c 600 "$tmp/slow2.out")"
expect_status 200 e GET /metrics
check "connection metrics" python3 -c '
import re, sys
t = open(sys.argv[1]).read()
def v(name):
    m = re.search("^" + re.escape(name) + r" (\S+)$", t, re.M)
    assert m, name + " missing"
    return float(m.group(1))
for reason in ("header_timeout", "client_limit", "reserve"):
    assert v("rulesd_connections_cut_total{reason=\"%s\"}" % reason) > 0, reason
assert v("rulesd_connections_cut_total{reason=\"request_timeout\"}") == 0
assert v("rulesd_connections_open") <= 1100' "$tmp/body"
stop e
# An open-file limit too low for max_connections (1024): rulesd lowers its
# connection limit to fit, says so, and serves.
(ulimit -n 200 && exec "$RULESD" --port 0 --port-file "$tmp/f.port" --policy rules/example.rules) 2>"$tmp/f.log" &
PID_f=$!
PIDS="$PIDS $PID_f"
i=0
while [ ! -s "$tmp/f.port" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
PORT_f=$(cat "$tmp/f.port" 2>/dev/null || echo 0)
expect_status 200 f GET /healthz
grep -q 'warning: the open-file limit (200) allows 136 connections: limits.max_connections lowered from 1024' "$tmp/f.log" && pass ||
    fail "no warning about the open-file limit: $(head -c 400 "$tmp/f.log")"
stop f
grep -q 'warning: connections closed waiting on their clients in the last 10 s: [0-9]* without a complete request line and headers within 5 s' "$tmp/e.log" && pass ||
    fail "no summary of the closed connections in the log: $(tail -3 "$tmp/e.log")"

summary
