#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-fleet.sh - rulesd with signed bundles: signatures required of the
# policy files (a tampered byte, another key, no signature, a rollback:
# refused at start-up and on reload, the previous set kept, the revision in
# /v1/policies), and the set pulled from a URL served on loopback by
# tests/server/bundleserver.py (304s, a bad signature, a download cut
# short, a bundle cut short, the server down and back, a rollback refused
# unless allowed, the same revision with other contents), the pull's state
# in /v1/policies, /healthz and /metrics, start-up and --check against a
# URL, and two replicas that swap to a new revision within one poll
# interval and both refuse a tampered one. Every process is stopped by the
# EXIT trap; every wait is bounded.
set -u
BUILD=${BUILD:-build}
RULESD=${RULESD:-$BUILD/rulesd}
RULEC=${RULEC:-$BUILD/rulec}
ROOT=$(pwd)
SUITE=fleet; . "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rulesd.sh"
tmp=$(mktemp -d)
PIDS=""
cleanup() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
for f in "$RULESD" "$RULEC"; do
    [ -x "$f" ] || { fail "$f is not built"; summary; exit 1; }
done
RULESD=$ROOT/$RULESD
RULEC=$ROOT/$RULEC
cd "$tmp" || exit 1
REQ=$ROOT/tests/data/dstack/requests
PRIV='{"user":"alice","project":"main","spec":{"configuration":{"type":"task","commands":["true"],"privileged":true}}}'

# ---- helpers ----

# start NAME CONFIG [ARGS...]: rulesd in the background; waits (at most 20
# s) for its port. Returns 1 (and records no failure) if it does not start.
start() {
    name=$1; shift
    rd_launch . "$name" --config "$@"
}

stop() {  # stop NAME: SIGTERM, a clean exit 0 within 20 s
    rd_term "$1"
    st=$?
    [ "$RD_TERM_LATE" -eq 1 ] && fail "$1: still running 20 s after SIGTERM"
    [ "$st" -eq 0 ] && pass || fail "$1: exit status $st after SIGTERM: $(tail -c 1500 "$1.log")"
}

get() {  # get NAME PATH: the body
    eval "port=\$PORT_$1"
    curl -s --max-time 5 "http://127.0.0.1:$port$2"
}

# jq_ NAME PATH EXPR: EXPR (Python, on the JSON body as j) printed.
jq_() {
    get "$1" "$2" | python3 -c 'import json, sys; j = json.load(sys.stdin); print(eval(sys.argv[1]))' "$3" 2>/dev/null
}

# wait_for NAME EXPR WANT SECONDS: until jq_ NAME /healthz EXPR prints WANT.
# Prints the seconds it took (with a fraction); returns 1 on timeout.
wait_for() {
    t0=$(date +%s.%N)
    end=$(($(date +%s) + $4))
    while [ "$(date +%s)" -le "$end" ]; do
        if [ "$(jq_ "$1" /healthz "$2")" = "$3" ]; then
            python3 -c 'import sys, time; print("%.2f" % (time.time() - float(sys.argv[1])))' "$t0"
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# decision NAME: the dstack answer's "error" for a privileged task (None: allowed).
decision() {
    eval "port=\$PORT_$1"
    curl -s --max-time 5 -H 'Content-Type: application/json' -d "$PRIV" \
        "http://127.0.0.1:$port/apply_policies/on_run_apply" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["error"])' 2>/dev/null
}

expect_log() {  # expect_log NAME TEXT WHAT
    grep -qF -- "$2" "$1.log" && pass || fail "$3: the log of $1 lacks '$2': $(tail -c 800 "$1.log")"
}

flip() {  # flip FILE OFFSET OUT
    python3 -c 'import sys; d=bytearray(open(sys.argv[1],"rb").read()); d[int(sys.argv[2])]^=1; open(sys.argv[3],"wb").write(d)' "$@"
}

# ---- keys and bundles ----
"$RULEC" keygen ci.key >/dev/null && "$RULEC" keygen other.key >/dev/null || fail "keygen"
"$RULEC" compile "$ROOT/rules/example.rules" -o r1.rbc --sign ci.key --revision 1 &&
"$RULEC" compile "$ROOT/rules/" -o r2.rbc --sign ci.key --revision 2 &&
"$RULEC" compile "$ROOT/rules/privileged.rules" -o r3.rbc --sign ci.key --revision 3 &&
"$RULEC" compile "$ROOT/rules/example.rules" "$ROOT/rules/privileged.rules" -o r4.rbc --sign ci.key --revision 4 &&
"$RULEC" compile "$ROOT/rules/privileged.rules" -o r2b.rbc --sign ci.key --revision 2 &&
"$RULEC" compile "$ROOT/rules/example.rules" -o r9-other.rbc --sign other.key --revision 9 &&
"$RULEC" compile "$ROOT/rules/example.rules" -o plain.rbc || fail "compiling the test bundles"
flip r3.rbc 120 r3-tampered.rbc          # a byte of the bundle itself
head -c 400 r3.rbc >r3-cut.rbc            # a bundle cut short, served as it is

# ===== signatures required of policy files =====
mkdir pol
cp r2.rbc pol/set.rbc
cat >files.yaml <<EOF
listen: 127.0.0.1:0
policies:
  paths: [pol/]
  require_signature: true
  trusted_keys: [ci.pub]
watch: {interval_ms: 200}
EOF
if start files files.yaml; then pass; else fail "rulesd with signed files did not start: $(cat files.log)"; fi
[ "$(jq_ files /v1/policies 'j["bundles"][0]["revision"]')" = 2 ] && pass || fail "/v1/policies: bundles[0].revision: $(get files /v1/policies | head -c 300)"
KEYID=$("$RULEC" verify r2.rbc --key ci.pub | sed -n '1s/.* key \([0-9a-f]*\) .*/\1/p')
[ "$(jq_ files /v1/policies 'j["bundle_revision"] + " " + j["bundles"][0]["signed_by"]')" = "2 $KEYID" ] && pass ||
    fail "/v1/policies: bundle_revision and signed_by (key $KEYID): $(get files /v1/policies | head -c 400)"
[ "$(jq_ files /v1/policies 'j["bundles"][0]["sha256"] == j["set_sha256"]')" = True ] && pass || fail "the bundle's signed sha256 is not the set's"
[ "$(jq_ files /healthz 'j["bundle_revision"]')" = 2 ] && pass || fail "/healthz bundle_revision"
get files /metrics | grep -q '^rulesd_bundle_info{revision="2",signed_by="[0-9a-f]\{16\}"} 1$' && pass || fail "/metrics rulesd_bundle_info"

# Each refused on reload, rulesd keeps revision 1 (signed revision 2).
n=0
for bad in "r3-tampered.rbc:altered after signing" "r9-other.rbc:which is not trusted" \
           "plain.rbc:a bundle without a signature" "r3-cut.rbc:a bundle cut short" \
           "r1.rbc:revision 1 is older than revision 2" "r2b.rbc:revision 2 again, but with other contents"; do
    file=${bad%%:*}; why=${bad#*:}
    n=$((n + 1))
    cp "$file" pol/.new && mv pol/.new pol/set.rbc
    i=0
    while [ "$(grep -c 'reload failed: still serving revision 1' files.log)" -lt "$n" ] && [ $i -lt 60 ]; do sleep 0.1; i=$((i + 1)); done
    expect_log files "$why" "reload of $file"
    [ "$(jq_ files /healthz 'j["revision"], j["bundle_revision"]')" = "(1, '2')" ] && pass || fail "after $file: $(get files /healthz)"
done
cp "$ROOT/rules/example.rules" pol/x.rules
i=0; while ! grep -q "pol/x.rules: error: not loaded (signatures are required" files.log && [ $i -lt 60 ]; do sleep 0.1; i=$((i + 1)); done
expect_log files "pol/x.rules: error: not loaded (signatures are required: policies.require_signature): not a bundle" "a .rules source among signed bundles"
rm pol/x.rules
[ "$(decision files)" != None ] && pass || fail "the kept set no longer rejects a privileged task"
cp r3.rbc pol/.new && mv pol/.new pol/set.rbc
i=0; while [ "$(jq_ files /healthz 'j["bundle_revision"]')" != 3 ] && [ $i -lt 60 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(jq_ files /healthz 'j["bundle_revision"]')" = 3 ] && pass || fail "a good revision 3 was not loaded: $(tail -5 files.log)"
stop files

# Start-up refuses anything unsigned or untrusted (and says which file).
for bad in "r3-tampered.rbc:altered after signing" "r9-other.rbc:not trusted" "plain.rbc:without a signature"; do
    cp "${bad%%:*}" pol/set.rbc
    out=$("$RULESD" --config files.yaml --check 2>&1)
    st=$?
    [ $st -eq 1 ] && printf '%s' "$out" | grep -q "pol/set.rbc: error: not loaded.*${bad#*:}" && pass ||
        fail "--check with ${bad%%:*}: exit $st: $out"
done

# The editors' schema of rulesd.yaml accepts these configurations.
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
$PY "$ROOT/tests/editors.py" validate "$ROOT/editors/vscode/schemas/rulesd.schema.json" files.yaml >v.out 2>&1 &&
    grep -q '^ok' v.out && pass || fail "the rulesd schema refuses files.yaml: $(cat v.out)"

# Configuration mistakes are named.
cfgerr() {  # cfgerr WANT YAML
    printf '%s\n' "$2" >bad.yaml
    out=$("$RULESD" --config bad.yaml --check 2>&1)
    [ $? -eq 1 ] && printf '%s' "$out" | grep -qF -- "$1" && pass || fail "config error '$1': $out"
}
cfgerr "policies.require_signature: needs policies.trusted_keys" 'policies: {paths: [pol/], require_signature: true}'
cfgerr "policies.url: needs policies.trusted_keys" 'policies: {url: "http://127.0.0.1:1/x.rbc"}'
cfgerr "policies.require_signature: cannot be false with a url" 'policies: {url: "http://127.0.0.1:1/x.rbc", require_signature: false, trusted_keys: [ci.pub]}'
cfgerr "give 'paths' or 'url', not both" 'policies: {url: "http://127.0.0.1:1/x.rbc", paths: [pol/], trusted_keys: [ci.pub]}'
cfgerr "'ftp://x/y' is not an http:// or https:// URL" 'policies: {url: "ftp://x/y", trusted_keys: [ci.pub]}'
cfgerr "policies.trusted_keys: set require_signature: true" 'policies: {paths: [pol/], trusted_keys: [ci.pub]}'
cfgerr "parameter overrides are refused with signed bundles" 'policies: {paths: [{path: pol/, params: {x: 1}}], require_signature: true, trusted_keys: [ci.pub]}'
cfgerr "policies.poll.jitter_ms: 2000 must be below interval_ms (1000)" 'policies: {url: "http://127.0.0.1:1/x.rbc", trusted_keys: [ci.pub], poll: {interval_ms: 1000, jitter_ms: 2000}}'
cfgerr "policies.poll.every: unknown key" 'policies: {url: "http://127.0.0.1:1/x.rbc", trusted_keys: [ci.pub], poll: {every: 1}}'
cfgerr "policies.trusted_keys[0]: 'ci.key' holds a private key" 'policies: {paths: [pol/], require_signature: true, trusted_keys: [ci.key]}'
cfgerr "policies.trusted_keys[0]: cannot read 'nope.pub'" 'policies: {paths: [pol/], require_signature: true, trusted_keys: [nope.pub]}'

# ===== the set pulled from a URL =====
mkdir www
cp r1.rbc www/set.rbc
# srv_start [PORT]: the bundle server (at most 10 s to listen).
srv_start() {
    rm -f srv.port
    python3 "$ROOT/tests/server/bundleserver.py" www srv.port srv.log "$@" 2>srv.err &
    SRV=$!
    PIDS="$PIDS $SRV"
    i=0; while [ ! -s srv.port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ -s srv.port ] || { fail "the bundle server did not start: $(cat srv.err)"; return 1; }
    SRV_PORT=$(cat srv.port)
}
srv_stop() { kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; }
publish() { cp "$1" www/.new && mv www/.new www/set.rbc; }
srv_start
INTERVAL=1000
url_cfg() {  # url_cfg FILE [EXTRA POLICIES KEYS...]
    f=$1; shift
    {
        echo "listen: 127.0.0.1:0"
        echo "policies:"
        echo "  url: http://127.0.0.1:$SRV_PORT/set.rbc"
        echo "  trusted_keys: [ci.pub]"
        echo "  poll: {interval_ms: $INTERVAL, jitter_ms: 200, max_backoff_ms: 2000, timeout_ms: 2000, startup_timeout_ms: 5000}"
        for x in "$@"; do echo "  $x"; done
        echo "watch: false"
    } >"$f"
}
url_cfg a.yaml
url_cfg b.yaml
$PY "$ROOT/tests/editors.py" validate "$ROOT/editors/vscode/schemas/rulesd.schema.json" a.yaml >v.out 2>&1 &&
    grep -q '^ok' v.out && pass || fail "the rulesd schema refuses a.yaml: $(cat v.out)"
check "--check against the URL" sh -c "'$RULESD' --config a.yaml --check | grep -q '1 policies OK'"
if start a a.yaml && start b b.yaml; then pass; else fail "replicas did not start: $(cat a.log b.log)"; fi
[ "$(jq_ a /healthz 'j["bundle_revision"]')" = 1 ] && pass || fail "a: /healthz: $(get a /healthz)"
[ "$(jq_ a /v1/policies 'j["pull"]["url"]')" = "http://127.0.0.1:$SRV_PORT/set.rbc" ] && pass || fail "a: /v1/policies pull.url"
[ "$(jq_ a /v1/policies 'j["pull"]["results"]["updated"]')" = 1 ] && pass || fail "a: results.updated"

# Unchanged: the next pulls send If-None-Match and get 304.
sleep 2.5
grep -q "^GET /set.rbc 304 INM=\"" srv.log && pass || fail "no 304 answered to If-None-Match: $(tail -5 srv.log)"
[ "$(jq_ a /v1/policies 'j["pull"]["results"]["not_modified"] >= 1 and j["pull"]["etag"] is not None')" = True ] && pass ||
    fail "a: not_modified not counted: $(get a /v1/policies | python3 -c 'import json,sys; print(json.load(sys.stdin)["pull"])')"
get a /metrics | grep -q '^rulesd_bundle_pulls_total{result="not_modified"} [1-9]' && pass || fail "a: metrics not_modified"
get a /metrics | grep -q '^rulesd_bundle_last_success_timestamp_seconds [1-9]' && pass || fail "a: metrics last success"
[ "$(jq_ a /healthz 'j["pull"]["consecutive_failures"], j["pull"]["last_error"]')" = "(0, None)" ] && pass || fail "a: healthz pull: $(get a /healthz)"

# Two replicas swap to a new revision within one poll interval.
publish r2.rbc
ta=$(wait_for a 'j["bundle_revision"]' 2 5) && tb=$(wait_for b 'j["bundle_revision"]' 2 5)
if [ -n "$ta" ] && [ -n "${tb:-}" ] && python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) / 1000 + 0.5 else 1)' "$ta" "$INTERVAL" &&
   python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) / 1000 + 0.5 else 1)' "$tb" "$INTERVAL"; then
    pass
    echo "fleet: replicas swapped to revision 2 after $ta s and $tb s (poll interval $INTERVAL ms)"
else
    fail "replicas did not both swap to revision 2 within one interval ($INTERVAL ms, + 0.5 s to build): a ${ta:-never} s, b ${tb:-never} s"
fi
[ "$(jq_ a /v1/policies 'j["set_sha256"]')" = "$(jq_ b /v1/policies 'j["set_sha256"]')" ] && pass || fail "replicas serve different sets"
[ "$(decision a)" != None ] && [ "$(decision b)" != None ] && pass || fail "revision 2 does not reject a privileged task"

# ... and both refuse a tampered one, serving revision 2 on.
refused() {  # refused NAME TEXT: waits (10 s) until the pull's last_error holds TEXT
    i=0
    while [ $i -lt 100 ]; do
        e=$(jq_ "$1" /healthz 'j["pull"]["last_error"]')
        case "$e" in *"$2"*) pass; return ;; esac
        sleep 0.1; i=$((i + 1))
    done
    fail "$1: no failure '$2' (last_error: $e; $(tail -3 "$1.log"))"
}
publish r3-tampered.rbc
refused a "altered after signing"
refused b "altered after signing"
[ "$(jq_ a /healthz 'j["bundle_revision"]')" = 2 ] && [ "$(jq_ b /healthz 'j["bundle_revision"]')" = 2 ] && pass || fail "a replica left revision 2"
get a /metrics | grep -q '^rulesd_bundle_pulls_total{result="refused"} [1-9]' && pass || fail "a: metrics refused"
expect_log a "pulled bundle refused: still serving revision" "a tampered pull"

# Another key, a bundle cut short, no signature, a rollback, the same revision again.
printf '<html><body>503 Service Unavailable</body></html>\n' >page.html   # a proxy's error page, as a 200
for bad in "r9-other.rbc:not trusted" "r3-cut.rbc:a bundle cut short" "plain.rbc:without a signature" \
           "page.html:set.rbc: error: not loaded (signatures are required: policies.url): not a bundle" \
           "r1.rbc:revision 1 is older than revision 2" "r2b.rbc:revision 2 again, but with other contents"; do
    publish "${bad%%:*}"
    refused a "${bad#*:}"
done
[ "$(jq_ a /healthz 'j["bundle_revision"], j["status"]')" = "('2', 'ok')" ] && pass || fail "a: $(get a /healthz)"
[ "$(decision a)" != None ] && pass || fail "a: the kept set no longer decides"

# A download cut short (Content-Length says more than arrives).
publish r3.rbc
echo truncate >www/control
refused a "cut short"
[ "$(jq_ a /healthz 'j["bundle_revision"]')" = 2 ] && pass || fail "a: a cut download was loaded"
get a /metrics | grep -q '^rulesd_bundle_pulls_total{result="failed"} [1-9]' && pass || fail "a: metrics failed"
rm www/control

# The server down: failures counted, the last good set served; back up:
# the new revision is loaded after the back-off.
srv_stop
refused a "pulling http://127.0.0.1:$SRV_PORT/set.rbc:"
sleep 1
[ "$(jq_ a /healthz 'j["pull"]["consecutive_failures"] >= 1 and j["status"] == "ok"')" = True ] && pass || fail "a: server down: $(get a /healthz)"
[ "$(decision a)" != None ] && pass || fail "a: stopped deciding while the server was down"
srv_start "$SRV_PORT"
t=$(wait_for a 'j["bundle_revision"]' 3 8) && pass || fail "a: revision 3 not loaded after the server came back: $(get a /healthz)"
[ "$(jq_ a /healthz 'j["pull"]["consecutive_failures"]')" = 0 ] && pass || fail "a: failures not reset"
stop a
stop b

# allow_rollback lets a lower revision in.
publish r4.rbc
url_cfg c.yaml "allow_rollback: true"
if start c c.yaml; then pass; else fail "c did not start: $(cat c.log)"; fi
[ "$(jq_ c /healthz 'j["bundle_revision"]')" = 4 ] && pass || fail "c: not at revision 4"
publish r3.rbc
t=$(wait_for c 'j["bundle_revision"]' 3 5) && pass || fail "c: allowed rollback to 3 not loaded: $(get c /healthz)"
stop c

# Start-up: a bad bundle never starts serving; --check says why; a server
# that is down makes start-up give up after startup_timeout_ms.
publish r9-other.rbc
out=$("$RULESD" --config a.yaml --check 2>&1)
[ $? -eq 1 ] && printf '%s' "$out" | grep -q "not trusted" && pass || fail "--check of an untrusted bundle: $out"
srv_stop
url_cfg d.yaml
sed -i 's/startup_timeout_ms: 5000/startup_timeout_ms: 1500/' d.yaml
t0=$(date +%s)
out=$("$RULESD" --config d.yaml 2>&1)
st=$?
t1=$(date +%s)
[ $st -eq 1 ] && printf '%s' "$out" | grep -q "no good bundle from .* within 1500 ms" && [ $((t1 - t0)) -le 5 ] && pass ||
    fail "start-up with the server down: exit $st after $((t1 - t0)) s: $out"
out=$("$RULESD" --config d.yaml --check 2>&1)
[ $? -eq 1 ] && printf '%s' "$out" | grep -q "pulling http://127.0.0.1:$SRV_PORT/set.rbc: " && pass || fail "--check with the server down: $out"

summary
