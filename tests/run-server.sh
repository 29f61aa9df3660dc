#!/bin/sh
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
    name=$1; shift
    rm -f "$tmp/$name.port"
    "$RULESD" --port-file "$tmp/$name.port" "$@" 2>"$tmp/$name.log" &
    pid=$!
    PIDS="$PIDS $pid"
    eval "PID_$name=$pid"
    i=0
    while [ ! -s "$tmp/$name.port" ] && [ $i -lt 200 ]; do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1; i=$((i + 1))
    done
    if [ ! -s "$tmp/$name.port" ]; then
        fail "$name: rulesd did not start: $(head -c 600 "$tmp/$name.log")"
        eval "PORT_$name=0"
        return 1
    fi
    eval "PORT_$name=$(cat "$tmp/$name.port")"
}

# stop NAME: SIGTERM, then at most 20 s for a clean exit with status 0 (a
# sanitizer build reports leaks at exit and fails here).
stop() {
    name=$1
    eval "pid=\$PID_$name"
    kill -TERM "$pid" 2>/dev/null
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null
        fail "$name: did not exit within 20 s of SIGTERM"
    fi
    wait "$pid"
    st=$?
    if [ "$st" -eq 0 ]; then pass; else fail "$name: exit status $st after SIGTERM: $(tail -c 1500 "$tmp/$name.log")"; fi
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
# The slow cases run side by side (each takes the 2-second limit or more).
for mode in idle stall drip garbage; do
    python3 "$FIX/rawclient.py" $mode "$PORT_a" 2 >"$tmp/raw.$mode" 2>&1 &
    eval "raw_$mode=\$!"
done
for mode in idle stall drip garbage; do
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
# Fixed again, and SIGHUP: reloads (the watch may get there first).
cp rules/example.rules "$tmp/pol/example.rules"
eval "kill -HUP \$PID_c"
wait_revision $((rev + 1)) && pass || fail "no reload after the fix and SIGHUP: $(tail -5 "$tmp/c.log")"
wait $loadpid
st=$?
echo "reload load: $(cat "$tmp/load2.out")"
if [ $st -eq 0 ] && grep -q 'errors 0 ' "$tmp/load2.out"; then pass; else fail "requests failed during reloads: $(head -c 600 "$tmp/load2.out")"; fi
stop c

# ---------------------------------------------------------------- shutdown
# SIGTERM while a request is half sent: it is still answered, then exit 0.
start d --port 0 --policy rules/example.rules
eval "dpid=\$PID_d"
check "in-flight request finishes after SIGTERM" python3 "$FIX/rawclient.py" inflight "$PORT_d" "$dpid" "$tmp/run.json"
stop d

summary
