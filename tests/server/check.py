#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""check.py - assertions for tests/run-server.sh that are easier in Python
than in sh: dstack response shape field by field, /v1/evaluate decisions,
decision-log lines and redaction. Exit status 0 = pass; on failure, one line
saying what differs and where."""
import json
import sys


def load(path):
    with open(path, "rb") as f:
        return json.loads(f.read(), object_pairs_hook=lambda p: p)


def as_dict(pairs):
    return dict(pairs) if isinstance(pairs, list) and all(isinstance(x, tuple) for x in pairs) else pairs


def is_obj(v):
    return isinstance(v, list) and all(isinstance(x, tuple) for x in v)


def fail(msg):
    print(msg)
    sys.exit(1)


# Paths the example policy may write (kind run), and what it writes.
EXAMPLE_SETS = {
    "configuration.max_price": 2.0,
    "configuration.max_duration": 86400,
}


def compare(req, resp, path, allowed_changes, problems):
    """Walks req and resp together: every field received must come back,
    in the same order, equal unless a policy may change it; nothing new
    may appear outside the paths the policies write."""
    if path in allowed_changes:
        return
    if is_obj(req) and is_obj(resp):
        rk = [k for k, _ in req]
        sk = [k for k, _ in resp]
        for k in rk:
            if k not in sk:
                problems.append(f"{path}.{k}: missing from the response")
        extra = [k for k in sk if k not in rk and f"{path}.{k}".lstrip(".") not in allowed_changes]
        if extra:
            problems.append(f"{path}: unexpected new keys {extra}")
        common = [k for k in rk if k in sk]
        if [k for k in sk if k in rk] != common:
            problems.append(f"{path}: keys reordered")
        rd, sd = dict(req), dict(resp)
        for k in common:
            compare(rd[k], sd[k], f"{path}.{k}".lstrip("."), allowed_changes, problems)
    elif isinstance(req, list) and isinstance(resp, list) and not is_obj(req) and not is_obj(resp):
        if len(req) != len(resp):
            problems.append(f"{path}: list length {len(req)} became {len(resp)}")
        for i, (a, b) in enumerate(zip(req, resp)):
            compare(a, b, f"{path}[{i}]", allowed_changes, problems)
    else:
        if req != resp or type(req) is not type(resp):
            problems.append(f"{path}: {json.dumps(req)} became {json.dumps(resp)}")


def get(doc, dotted):
    v = doc
    for part in dotted.split("."):
        v = as_dict(v) if is_obj(v) else v
        if not isinstance(v, dict) or part not in v:
            return None
        v = v[part]
    return v


def cmd_dstack(req_path, resp_path, oracle_path, kind):
    req, resp = load(req_path), load(resp_path)
    if not is_obj(resp) or [k for k, _ in resp] != ["spec", "error"]:
        fail(f"response keys are {[k for k, _ in resp] if is_obj(resp) else type(resp)}, want ['spec', 'error']")
    oracle = load(oracle_path)
    if resp != oracle:
        fail("response differs from `rulec apply --request` on the same policies")
    rspec, sspec, error = dict(req)["spec"], dict(resp)["spec"], dict(resp)["error"]
    conf = as_dict(get(rspec, "configuration")) or {}
    ctype = conf.get("type") if isinstance(conf, dict) else None
    problems = []
    if kind == "run":
        if conf.get("privileged") is True:
            if error != "Running privileged containers is forbidden":
                fail(f"privileged run: error is {error!r}")
            compare(rspec, sspec, "", set(), problems)
        else:
            if error is not None:
                fail(f"run: unexpected error {error!r}")
            allowed = set(EXAMPLE_SETS) | {"configuration.tags", "configuration.https"}
            compare(rspec, sspec, "", allowed, problems)
            for p, want in EXAMPLE_SETS.items():
                got = get(sspec, p)
                if got != want or type(got) is not type(want):
                    problems.append(f"{p}: {got!r}, want {want!r}")
            tags = as_dict(get(sspec, "configuration.tags"))
            if not isinstance(tags, dict) or tags.get("team") != "my_team":
                problems.append(f"configuration.tags.team: {tags!r}")
            old_tags = as_dict(get(rspec, "configuration.tags")) or {}
            for k, v in old_tags.items():
                if k != "team" and tags.get(k) != v:
                    problems.append(f"configuration.tags.{k}: lost")
            if ctype == "service" and get(sspec, "configuration.https") is not True:
                problems.append("service: configuration.https is not true")
            if ctype != "service" and get(sspec, "configuration.https") != get(rspec, "configuration.https"):
                problems.append("non-service: configuration.https changed")
    elif kind == "gateway":
        if error != "gateways are created by the platform team":
            fail(f"gateway: error is {error!r}")
        compare(rspec, sspec, "", set(), problems)
    else:
        if error is not None:
            fail(f"{kind}: unexpected error {error!r}")
        compare(rspec, sspec, "", set(), problems)
    if problems:
        fail("; ".join(problems[:5]))


def cmd_get(path, dotted):
    v = get(load(path), dotted)
    print(json.dumps(as_dict(v) if is_obj(v) else v))


def cmd_evaluate(resp_path):
    """The full decision of the example policy on a minimal service."""
    r = load(resp_path)
    keys = [k for k, _ in r]
    want = ["allowed", "error", "spec", "errors", "warnings", "changes", "instructions", "revision"]
    if keys != want:
        fail(f"keys {keys}, want {want}")
    d = dict(r)
    if d["allowed"] is not True or d["error"] is not None:
        fail(f"allowed={d['allowed']} error={d['error']!r}")
    changes = [dict(c) for c in d["changes"]]
    got = [(c["path"], c["new"], c["policy"], c["line"]) for c in changes]
    want_changes = [("configuration.max_price", 2.0, "example", 8),
                    ("configuration.max_duration", 86400, "example", 9),
                    ("configuration.tags.team", "my_team", "example", 10),
                    ("configuration.https", True, "example", 13)]
    if got != want_changes:
        fail(f"changes {got}, want {want_changes}")
    if any("old" in c for c in changes):
        fail("a change of a missing field has an 'old' value (it should have none)")
    if not isinstance(d["instructions"], int) or d["instructions"] <= 0:
        fail(f"instructions {d['instructions']!r}")


def cmd_old_values(resp_path):
    """The example policy on a service whose max_price is null and whose
    max_duration is missing: "old" is null for the first, absent for the
    second, and every change has its keys in one order."""
    d = dict(load(resp_path))
    changes = {dict(c)["path"]: c for c in d["changes"]}
    price, duration = changes.get("configuration.max_price"), changes.get("configuration.max_duration")
    if price is None or duration is None:
        fail(f"changes {list(changes)}")
    if [k for k, _ in price] != ["path", "old", "new", "removed", "policy", "line"] or dict(price)["old"] is not None:
        fail(f"a field that was null: {price}")
    if [k for k, _ in duration] != ["path", "new", "removed", "policy", "line"]:
        fail(f"a field that was missing: {duration}")


def cmd_rejected(resp_path, message, policy, line):
    d = dict(load(resp_path))
    if d.get("allowed") is not False:
        fail(f"allowed is {d.get('allowed')!r}")
    errs = [dict(e) for e in d["errors"]]
    if not any(e["message"] == message and e["policy"] == policy and e["line"] == int(line) for e in errs):
        fail(f"no error {message!r} at {policy}:{line} in {errs}")
    if d["changes"] and d["spec"] is None:
        fail("spec missing")


def cmd_declog(path, *secrets):
    n = redacted = 0
    with open(path, "rb") as f:
        raw = f.read()
    for s in secrets:
        if s.encode() in raw:
            fail(f"the decision log contains the secret {s[:3]}...")
    for i, line in enumerate(raw.decode().splitlines(), 1):
        try:
            e = json.loads(line)
        except ValueError as x:
            fail(f"line {i} is not JSON: {x}")
        for k in ("time", "id", "kind", "user", "project", "outcome", "revision", "messages", "changed", "latency_ms"):
            if k not in e:
                fail(f"line {i} lacks {k!r}")
        if e["outcome"] not in ("allowed", "rejected", "invalid", "error"):
            fail(f"line {i}: outcome {e['outcome']!r}")
        if "[REDACTED]" in line:
            redacted += 1
        n += 1
    if n == 0:
        fail("the decision log is empty")
    if secrets and redacted == 0:
        fail("no line shows [REDACTED]: was the leaking request logged?")
    print(f"{n} lines")


def cmd_dstack_batch(list_path):
    """One line per case: NAME REQ RESP ORACLE KIND. Prints PASS/FAIL lines
    (one Python start-up for all cases: it is slow on small machines)."""
    for line in open(list_path):
        name, *args = line.split()
        try:
            cmd_dstack(*args)
            print(f"PASS {name}")
        except SystemExit:
            print(f"FAIL {name}")
        except (OSError, ValueError, KeyError, TypeError) as x:
            print(f"FAIL {name}: {type(x).__name__}: {x}")


def main():
    cmds = {"dstack": cmd_dstack, "dstack-batch": cmd_dstack_batch, "get": cmd_get, "evaluate": cmd_evaluate, "rejected": cmd_rejected,
            "declog": cmd_declog, "old-values": cmd_old_values}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        fail("usage: check.py dstack|get|evaluate|rejected|declog|old-values ARGS")
    try:
        cmds[sys.argv[1]](*sys.argv[2:])
    except (OSError, ValueError, KeyError, TypeError) as x:
        fail(f"{type(x).__name__}: {x}")


main()
