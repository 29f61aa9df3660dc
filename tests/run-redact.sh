#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-redact.sh - no secret of a spec reaches what rulesd logs or explains,
# and logging costs a small multiple of deciding (issue 13, faults 1 and 3).
# A real rulesd on a loopback port (the kernel picks it) answers requests
# whose policies (tests/redact/leaks.rules) print and write secrets every
# way the issue saw them leak: transformed (upper, lower, str, +), SSH
# private keys of a fleet, values under credential-named keys, numbers. The
# requester gets its messages whole; the decision log, the server log,
# /v1/evaluate's explanation and rulec apply --explain hold no 4-byte piece
# of any secret in any case (tests/redact/leakcheck.py). Then the same
# 256 KB request with 1,000 env values, a long image name and messages
# that print both, is served with the decision log on and off: throughput
# with it on must stay above a fifth of throughput with it off.
set -u
BUILD=${BUILD:-build}
RULESD=${RULESD:-$BUILD/rulesd}
RULEC=${RULEC:-$BUILD/rulec}
LOAD=${LOAD:-$BUILD/tests/loadclient}
SPECS=${RULES_SPECS_DIR:-tests/data/dstack}/requests
FIX=tests/redact
SUITE=redact; . "$(dirname "$0")/lib.sh"
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
    name=$1; shift
    rd_launch "$tmp" "$name" --port 0 --threads 1 --no-watch "$@" ||
        { fail "$name: rulesd did not start: $(head -c 600 "$tmp/$name.log")"; return 1; }
}

# stop NAME: SIGTERM and a clean exit within 20 s.
stop() {
    rd_term "$1"
}

# post NAME PATH FILE OUT: the status code; the body in OUT.
post() {
    eval "port=\$PORT_$1"
    curl -s --max-time 60 -X POST -o "$4" -w '%{http_code}' --data-binary @"$3" "http://127.0.0.1:$port$2"
}

# The requests, and every secret they hold (one per line).
python3 - "$SPECS" "$tmp" <<'PY'
import json, sys
specs, out = sys.argv[1], sys.argv[2]
secrets = []
def body(name):
    return json.load(open(f"{specs}/{name}.request.json"))
def save(d, name):
    json.dump(d, open(f"{out}/{name}.json", "w"))

env = {"HF_TOKEN": "hfQz7XkW2pV9tok", "MIXED": "MiXqZv8RtJ3yy", "PORT": 73519462}
auth = {"username": "bzQw4vUzr", "password": "pWz9Qx-Vk7!pqzz"}
secrets += ["hfQz7XkW2pV9tok", "MiXqZv8RtJ3yy", "73519462", "bzQw4vUzr", "pWz9Qx-Vk7!pqzz"]
for name, reject in (("leak", "no"), ("leak-rejected", "yes"), ("eval", "no")):
    d = body("synthetic_task_limits")
    c = d["spec"]["configuration"]
    c["name"] = "leak" if name == "leak-rejected" else name
    c["privileged"] = False
    c["env"] = dict(env, REJECT=reject)
    c["registry_auth"] = auth
    save(d, name)

keys = {"top": "-----BEGIN KEY-----\nQzTopXv81Kq\n-----END KEY-----",
        "jump": "QzJumpWv62Lp", "host": "QzHxstYu53Mn", "hjump": "QzHjmpTr44Bv"}
secrets += ["QzTopXv81Kq", "QzJumpWv62Lp", "QzHxstYu53Mn", "QzHjmpTr44Bv"]
d = body("head_fleet_ssh")
c = d["spec"]["configuration"]
c["name"] = "leak-fleet"
ssh = c["ssh_config"]
ssh["ssh_key"] = {"public": "ssh-ed25519 AAAA", "private": keys["top"]}
ssh["proxy_jump"] = {"hostname": "jump.example", "port": 22, "user": "ubuntu", "ssh_key": {"public": "p", "private": keys["jump"]}}
ssh["hosts"] = [{"hostname": "10.0.0.7", "ssh_key": {"public": "p", "private": keys["host"]},
                 "proxy_jump": {"hostname": "j2", "port": 22, "user": "u", "ssh_key": {"public": "p", "private": keys["hjump"]}}}]
save(d, "leak-fleet")

d = body("docs_volume_aws")
c = d["spec"]["configuration"]
c["name"] = "leak-volume"
c["tags"] = {"team": "ml", "api-key": "AkQz91Vw-key", "access_key": "AcQz82Ux-acc",
             "passphrase": "PpQz73Ty-pass", "Authorization": "Bearer AuQz64Sr-tok"}
secrets += ["AkQz91Vw-key", "AcQz82Ux-acc", "PpQz73Ty-pass", "AuQz64Sr-tok"]
save(d, "leak-volume")

# The cost request: 256 KB, 1,000 env values, a 16 KB image name, built
# the way an attacker would: the values start as the image does (in another
# case), so a search that compares each secret at each place of the logged
# message runs long at every place.
d = body("synthetic_task_limits")
c = d["spec"]["configuration"]
c["name"] = "cost"
c["privileged"] = False
c["image"] = "a" * 16000 + "bcdefghijklmnopqrstuvwxyz"
c["env"] = {f"E{i}": "A" * 226 + f"#{i % 100:03d}" for i in range(1000)}
text = json.dumps(d)
assert 250_000 <= len(text) <= 300_000, len(text)
open(f"{out}/cost.json", "w").write(text)
open(f"{out}/secrets", "w").write("\n".join(secrets) + "\n")
PY
[ -s "$tmp/secrets" ] && pass || fail "the requests were not made"

# ---- what the requester gets, and what is logged ----
start on --policy rules/example.rules --policy "$FIX/leaks.rules" --decision-log "$tmp/decisions.jsonl"
for r in leak:run leak-rejected:run eval:run leak-fleet:fleet leak-volume:volume; do
    name=${r%%:*}; kind=${r#*:}
    st=$(post on "/apply_policies/on_${kind}_apply" "$tmp/$name.json" "$tmp/$name.out")
    [ "$st" = 200 ] && pass || fail "$name: status $st: $(head -c 300 "$tmp/$name.out")"
    # /v1/evaluate: the same decision, explained.
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps({"kind": sys.argv[2], "user": d["user"], "project": d["project"], "spec": d["spec"]}))' \
        "$tmp/$name.json" "$kind" >"$tmp/$name.eval.json"
    st=$(post on /v1/evaluate "$tmp/$name.eval.json" "$tmp/$name.eval.out")
    [ "$st" = 200 ] && pass || fail "$name: /v1/evaluate status $st"
    check "$name: /v1/evaluate explains without secrets" python3 "$FIX/leakcheck.py" evaluate "$tmp/$name.eval.out" "$tmp/secrets"
    # rulec apply --explain writes where anyone may read it too (a decision
    # that fails has no explanation: the requester gets the error).
    [ "$name" = eval ] && continue
    "$RULEC" apply rules/example.rules "$FIX/leaks.rules" --request "$tmp/$name.json" --kind "$kind" --explain \
        >/dev/null 2>"$tmp/$name.explain"
    check "$name: rulec --explain without secrets" python3 "$FIX/leakcheck.py" explain "$tmp/$name.explain" "$tmp/secrets"
done
# The requester's own answer is whole: its rejection names its token.
grep -q 'rejected with hfQz7XkW2pV9tok' "$tmp/leak-rejected.out" && pass ||
    fail "the requester should get its message whole: $(head -c 300 "$tmp/leak-rejected.out")"
grep -q '"error":"rulesd: the policies could not be evaluated: leaks:20: cannot apply int() to a string (\\"hfQz7XkW2pV9tok\\")' \
    "$tmp/eval.out" && pass || fail "the requester should get the evaluation error whole: $(head -c 300 "$tmp/eval.out")"
# The explanation still says what changed, and where.
check "the explanation keeps paths and marks values" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ch = {c["path"]: c for c in d["changes"]}
assert ch["configuration.tags.copy"]["new"] == "[REDACTED]", ch
assert ch["configuration.max_price"]["new"] == 2.0, ch
assert any(w["message"].startswith("upper [REDACTED] lower [REDACTED]") for w in d["warnings"]), d["warnings"]
' "$tmp/leak.eval.out"
stop on
check "decision log without secrets" python3 "$FIX/leakcheck.py" declog "$tmp/decisions.jsonl" "$tmp/secrets"
check "server log without secrets" python3 "$FIX/leakcheck.py" text "$tmp/on.log" "$tmp/secrets"
grep -q 'cannot apply int() to a string' "$tmp/on.log" && pass ||
    fail "the server log should record the evaluation error: $(tail -3 "$tmp/on.log")"
[ "$(wc -l <"$tmp/decisions.jsonl")" -eq 10 ] && pass || fail "$(wc -l <"$tmp/decisions.jsonl") decision-log lines, want 10"
grep -q '"text":"upper \[REDACTED\] lower \[REDACTED\]"' "$tmp/decisions.jsonl" && pass ||
    fail "the logged message should keep its words: $(head -c 600 "$tmp/decisions.jsonl")"

# ---- the log's cost: on versus off, the same request, the same run ----
"$RULEC" apply rules/example.rules "$FIX/leaks.rules" --request "$tmp/cost.json" --kind run --ndjson \
    >"$tmp/cost.want" 2>/dev/null
grep -q 'is not from an approved registry' "$tmp/cost.want" && pass || fail "the cost request should be rejected"
start logon --policy rules/example.rules --policy "$FIX/leaks.rules" --decision-log "$tmp/cost.jsonl"
start logoff --policy rules/example.rules --policy "$FIX/leaks.rules"
rps() {
    eval "port=\$PORT_$1"
    "$LOAD" --port "$port" --clients 1 --seconds 2 /apply_policies/on_run_apply "$tmp/cost.json" "$tmp/cost.want" \
        >"$tmp/$1.load" 2>&1 || { fail "$1: load: $(head -c 300 "$tmp/$1.load")"; echo 0; return; }
    sed -n 's/.* rps \([0-9.]*\).*/\1/p' "$tmp/$1.load"
}
off=$(rps logoff)
on=$(rps logon)
stop logon
stop logoff
echo "  256 KB request, 1,000 env values: $off requests/s with the decision log off, $on with it on"
if awk -v on="$on" -v off="$off" 'BEGIN { exit !(on > 0 && off > 0 && off / on < 5) }'; then pass; else
    fail "with the decision log on, $on requests/s against $off off: more than 5 times slower"
fi
check "the cost request's log line holds no env value" python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines, "no line"
e = json.loads(lines[0])
text = e["messages"][0]["text"]
assert text.startswith("image aaaaaaaa") and "abcdefghijklmnopqrstuvwxyz is not" in text, text[-200:]
assert text.endswith("env [REDACTED]"), text[-80:]
' "$tmp/cost.jsonl"

summary
