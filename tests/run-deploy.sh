#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-deploy.sh - what deploy/ and server/rulesd.service promise, checked
# here without Docker, Kubernetes or a running systemd:
#   - deploy/Dockerfile and deploy/k8s/ parsed and checked against rulesd's
#     sources and binary (tests/deploy_check.py: ports, probe paths,
#     routes, version, users, the libraries the image must hold);
#   - the image's and the ConfigMap's configurations start this rulesd
#     (the ConfigMap's pulling a signed bundle from a loopback server), and
#     the probes' path answers 200 on them, without a token too;
#   - Type=notify: with a stand-in NOTIFY_SOCKET, READY=1 comes only once
#     the first policy set is loaded and rulesd listens (with a URL: not
#     before the bundle server answers), STATUS= on a reload, STOPPING=1
#     on SIGTERM;
#   - the unit: systemd-analyze verify finds nothing, and systemd-analyze
#     security rates it at most 2.5, the figure docs/rulesd.md records.
set -u
BUILD=${BUILD:-build}
RULESD=${RULESD:-$BUILD/rulesd}
RULEC=${RULEC:-$BUILD/rulec}
ROOT=$(pwd)
SUITE=deploy; . "$(dirname "$0")/lib.sh"
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
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3   # Debian's, with python3-yaml

# ---- the manifests, statically ----
DEPLOY_OUT=$tmp $PY tests/deploy_check.py "$BUILD" >"$tmp/check" 2>&1
st=$?
p=$(grep -c '^pass: ' "$tmp/check"); f=$(grep -c '^fail: ' "$tmp/check")
count "$p" "$f"
grep '^fail: ' "$tmp/check" | sed 's/^fail: /FAIL deploy: /'
[ "$st" -ne 0 ] && [ "$f" -eq 0 ] && fail "deploy_check.py exited $st: $(tail -5 "$tmp/check")"
[ "$p" -ge 30 ] && pass || fail "deploy_check.py made only $p checks"
HEALTH=$(cat "$tmp/health-path" 2>/dev/null)
cd "$tmp" || exit 1

# ---- helpers ----
# start NAME ARGS...: rulesd in the background (NOTIFY_SOCKET as set);
# waits at most 20 s for its port file. 1 if it does not come.
start() {
    rd_launch . "$@"
}
stop() {
    rd_term "$1"
    st=$?
    [ "$RD_TERM_LATE" -eq 1 ] && fail "$1: still running 20 s after SIGTERM"
    [ "$st" -eq 0 ] && pass || fail "$1: exit status $st after SIGTERM: $(tail -c 1000 "$1.log")"
}
status_of() {  # status_of NAME PATH [curl args]: the HTTP status
    eval "port=\$PORT_$1"
    p=$2; shift 2
    curl -s --max-time 5 -o body -w '%{http_code}' "$@" "http://127.0.0.1:$port$p"
}
wait_line() {  # wait_line FILE PATTERN: at most 10 s for a line matching PATTERN
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    grep -q "$2" "$1" 2>/dev/null
}

# ---- the image's configuration starts rulesd; the probe path answers ----
# The policies it names are the ones the Dockerfile copies (rules/*.rules).
mkdir policies && cp "$ROOT"/rules/*.rules policies/
sed "s|/etc/rulesd/policies/|$tmp/policies/|" "$ROOT/deploy/rulesd.yaml" >image.yaml
if start image --config image.yaml --listen 127.0.0.1:0; then pass; else fail "the image's configuration: $(cat image.log)"; fi
[ "$(status_of image "$HEALTH")" = 200 ] && grep -q '"status":"ok"' body && pass || fail "image: $HEALTH: $(cat body)"
[ "$(grep -c . policies/*.rules | wc -l)" = "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["policies"])' body)" ] && pass ||
    fail "image: not every baked policy is loaded: $(cat body)"
stop image

# ---- the ConfigMap's configuration: a signed bundle from a loopback server ----
"$RULEC" keygen ci.key >/dev/null
"$RULEC" compile "$ROOT/rules/" -o www.rbc --sign ci.key --revision 7 >/dev/null
mkdir www && mv www.rbc www/set.rbc
srv_start() {
    rm -f srv.port
    $PY "$ROOT/tests/server/bundleserver.py" www srv.port srv.log "$@" 2>srv.err &
    SRV=$!
    PIDS="$PIDS $SRV"
    i=0; while [ ! -s srv.port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ -s srv.port ] && SRV_PORT=$(cat srv.port)
}
srv_start
sed -e "s|https://policies.example.com/prod/set.rbc|http://127.0.0.1:$SRV_PORT/set.rbc|" \
    -e "s|/etc/rulesd/keys/ci.pub|$tmp/ci.pub|" configmap-rulesd.yaml >pod.yaml
grep -q "127.0.0.1:$SRV_PORT" pod.yaml && grep -q "$tmp/ci.pub" pod.yaml && pass || fail "the ConfigMap's url or key was not where expected"
head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n' >token
printf 'auth:\n  token_file: %s/token\n' "$tmp" >>pod.yaml
if start pod --config pod.yaml --listen 127.0.0.1:0; then pass; else fail "the ConfigMap's configuration: $(cat pod.log)"; fi
[ "$(status_of pod "$HEALTH")" = 200 ] && grep -q '"bundle_revision":"7"' body && pass || fail "pod: $HEALTH without a token: $(cat body)"
[ "$(status_of pod /v1/policies)" = 401 ] && pass || fail "pod: /v1/policies without the token was not refused"
stop pod

# ---- Type=notify ----
NS=$tmp/notify.sock
$PY "$ROOT/tests/server/notifylisten.py" "$NS" notify.log 2>notify.err &
PIDS="$PIDS $!"
i=0; while [ ! -S "$NS" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$NS" ] || fail "the notification socket did not appear: $(cat notify.err)"
# From files: READY=1 once listening, with the set in STATUS.
if NOTIFY_SOCKET=$NS start n1 --policy "$ROOT/rules/" --listen 127.0.0.1:0; then pass; else fail "n1: $(cat n1.log)"; fi
wait_line notify.log '^READY=1;STATUS=serving policy set revision 1: 7 policies$' && pass ||
    fail "no READY=1 with the set's status: $(cat notify.log)"
[ "$(status_of n1 "$HEALTH")" = 200 ] && pass || fail "n1 did not answer once READY"
kill -HUP "$PID_n1"
wait_line notify.log '^STATUS=serving policy set revision 2: 7 policies$' && pass || fail "no STATUS= after SIGHUP: $(cat notify.log)"
stop n1
wait_line notify.log '^STOPPING=1$' && pass || fail "no STOPPING=1 on SIGTERM: $(cat notify.log)"
[ "$(grep -c '^READY=1' notify.log)" = 1 ] && pass || fail "READY=1 sent $(grep -c '^READY=1' notify.log) times"

# From a URL: nothing while the bundle server is down; READY=1 (with the
# signed revision) once a good bundle is loaded, and not before rulesd listens.
: >notify.log
kill "$SRV"; wait "$SRV" 2>/dev/null
sed -i 's/startup_timeout_ms: 60000/startup_timeout_ms: 20000/; s/interval_ms: 30000/interval_ms: 500/' pod.yaml
sed -i '/^auth:/,$d' pod.yaml
NOTIFY_SOCKET=$NS "$RULESD" --config pod.yaml --listen 127.0.0.1:0 --port-file n2.port 2>n2.log &
PID_n2=$!
PIDS="$PIDS $PID_n2"
sleep 2
[ ! -s n2.port ] && [ ! -s notify.log ] && kill -0 "$PID_n2" 2>/dev/null && pass ||
    fail "with the bundle server down rulesd listened or said READY: port '$(cat n2.port 2>/dev/null)', $(cat notify.log)"
srv_start "$SRV_PORT"
wait_line notify.log '^READY=1;STATUS=serving policy set revision 1: 7 policies, signed revision 7$' && pass ||
    fail "no READY=1 after the bundle server came up: $(cat notify.log) $(tail -3 n2.log)"
[ -s n2.port ] && pass || fail "READY=1 before the port was written"
PORT_n2=$(cat n2.port)
[ "$(status_of n2 "$HEALTH")" = 200 ] && pass || fail "n2 did not answer once READY"
stop n2

# ---- the unit ----
UNIT=$ROOT/server/rulesd.service
sed "s|/usr/local/bin/rulesd|$RULESD|g" "$UNIT" >rulesd.service
out=$(systemd-analyze verify "$tmp/rulesd.service" 2>&1)
[ $? -eq 0 ] && [ -z "$out" ] && pass || fail "systemd-analyze verify: $out"
grep -qx 'Type=notify' "$UNIT" && pass || fail "the unit is not Type=notify"
exposure=$(systemd-analyze security --offline=true "$tmp/rulesd.service" 2>&1 |
    sed -n 's/.*Overall exposure level for rulesd.service: \([0-9.]*\) .*/\1/p')
if [ -n "$exposure" ] && $PY -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 2.5 else 1)' "$exposure"; then pass; else
    fail "systemd-analyze security: exposure '${exposure:-none}', above 2.5"; fi
grep -q "exposure $exposure (OK)" "$ROOT/docs/rulesd.md" && grep -q "rates it $exposure " "$UNIT" && pass ||
    fail "docs/rulesd.md or the unit's comment does not record the exposure $exposure"

summary
