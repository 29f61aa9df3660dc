#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""skypilot_check.py - what tests/run-server.sh checks of rulesd's answers to
SkyPilot's admin-policy bodies, read the way SkyPilot's client reads them:
the status, the double encoding (a JSON string holding {"task",
"skypilot_config"}), both YAML texts re-read with PyYAML (python3-yaml) and
compared with what was sent (every key the policy did not write keeps its
value, its type and its place), the expected writes, rejections' text, and
the returned task and config validated against schemas/skypilot with
python3-jsonschema (SkyPilot's case_insensitive_enum keyword honoured).

  skypilot_check.py answers LIST   one line per body: NAME REQUEST STATUS BODY
                                   CONTENT_TYPE ORACLE; prints PASS/FAIL NAME
  skypilot_check.py declog FILE REQUEST...
                                   SkyPilot's decision-log lines: the decisions
                                   expected, and no secret of the requests in any

The expectations are those of tests/server/skypilot.rules."""
import json
import math
import re
import sys

import jsonschema
import yaml

# What the fixture policy does to each body (by file name prefix).
REJECTED = {
    "09": "intern-carol may not launch: ask the platform team (token null); "
          "SkyPilot client API 45 is too old: upgrade to 0.10 or later",
    "15": "intern-carol may not jobs.launch: ask the platform team (token hf_EXAMPLEtokenABC)",
}
FAILED = {"04": r"the policies could not be evaluated: sky:[0-9]+: cannot apply int\(\) to a string"}
INTERNAL_IPS = {"launch", "jobs.launch", "serve.up"}   # set config.aws.use_internal_ips


class Problem(Exception):
    pass


def schema_validator(path):
    schema = json.load(open(path))

    def case_insensitive_enum(validator, values, instance, schema):
        if isinstance(instance, str) and instance.lower() not in [str(v).lower() for v in values]:
            yield jsonschema.ValidationError(f"{instance!r} is not one of {values} (in any case)")

    base = jsonschema.validators.validator_for(schema)
    cls = jsonschema.validators.extend(base, {"case_insensitive_enum": case_insensitive_enum})
    return cls(schema)


TASK_SCHEMA = schema_validator("schemas/skypilot/task.json")
CONFIG_SCHEMA = schema_validator("schemas/skypilot/config.json")


def same(sent, got, path, allowed, problems):
    """Every key sent comes back in its place with its value and type,
    unless a policy may write it (allowed: paths as tuples of keys)."""
    if path in allowed:
        return
    if type(sent) is not type(got):
        problems.append(f"{fmt(path)}: {type(sent).__name__} {sent!r:.60} became {type(got).__name__} {got!r:.60}")
        return
    if isinstance(sent, dict):
        sk, gk = list(sent), list(got)
        missing = [k for k in sk if k not in got]
        if missing:
            problems.append(f"{fmt(path)}: lost keys {missing}")
        extra = [k for k in gk if k not in sent and path + (k,) not in allowed]
        if extra:
            problems.append(f"{fmt(path)}: new keys {extra}")
        if [k for k in gk if k in sent] != [k for k in sk if k in got]:
            problems.append(f"{fmt(path)}: keys reordered: {sk} became {gk}")
        for k in sk:
            if k in got:
                same(sent[k], got[k], path + (k,), allowed, problems)
    elif isinstance(sent, list):
        if len(sent) != len(got):
            problems.append(f"{fmt(path)}: {len(sent)} items became {len(got)}")
        for i, (a, b) in enumerate(zip(sent, got)):
            same(a, b, path + (i,), allowed, problems)
    elif isinstance(sent, float) and math.isnan(sent):
        if not math.isnan(got):
            problems.append(f"{fmt(path)}: nan became {got!r}")
    elif sent != got:
        problems.append(f"{fmt(path)}: {sent!r:.80} became {got!r:.80}")


def fmt(path):
    return ".".join(repr(p) if not isinstance(p, str) else p for p in path) or "(top)"


def check_allowed(name, req, body):
    outer = json.loads(body)
    if not isinstance(outer, str):
        raise Problem(f"the body is a JSON {type(outer).__name__}, not a string: SkyPilot refuses it")
    inner = json.loads(outer)
    if not isinstance(inner, dict) or list(inner) != ["task", "skypilot_config"]:
        raise Problem(f"the string holds {list(inner) if isinstance(inner, dict) else type(inner).__name__}, "
                      "want the keys task, skypilot_config")
    if not all(isinstance(v, str) for v in inner.values()):
        raise Problem("task and skypilot_config must be YAML text")
    sent_task, sent_config = yaml.safe_load(req["task"]), yaml.safe_load(req["skypilot_config"])
    task, config = yaml.safe_load(inner["task"]), yaml.safe_load(inner["skypilot_config"])
    problems = []
    # The fixture's writes: a label on every task, internal IPs for some.
    labels = ("resources", "labels")
    same(sent_task, task, (), {labels + ("managed-by",)} if isinstance(sent_task["resources"].get("labels"), dict)
         else {labels}, problems)
    got_labels = task["resources"].get("labels") or {}
    if got_labels.get("managed-by") != "rulesd":
        problems.append(f"task.resources.labels.managed-by is {got_labels.get('managed-by')!r}")
    for k, v in (sent_task["resources"].get("labels") or {}).items():
        if got_labels.get(k) != v:
            problems.append(f"task.resources.labels.{k} lost")
    if req["request_name"] in INTERNAL_IPS:
        aws = config.get("aws") or {}
        if aws.get("use_internal_ips") is not True:
            problems.append(f"config.aws.use_internal_ips is {aws.get('use_internal_ips')!r}")
        same(sent_config, config, (), {("aws",)} if "aws" not in sent_config else {("aws", "use_internal_ips")},
             problems)
        if "aws" in sent_config:
            for k, v in sent_config["aws"].items():
                if k != "use_internal_ips" and config["aws"].get(k) != v:
                    problems.append(f"config.aws.{k} changed")
    else:
        same(sent_config, config, (), set(), problems)
    for what, schema, doc in (("task", TASK_SCHEMA, task), ("config", CONFIG_SCHEMA, config)):
        for e in list(schema.iter_errors(doc))[:3]:
            problems.append(f"{what} is not valid against its schema at {list(e.absolute_path)}: {e.message:.120}")
    if problems:
        raise Problem("; ".join(problems[:6]))


def check_answer(name, req_path, status, body_path, ctype, oracle_path):
    req = json.loads(json.load(open(req_path)))
    body = open(body_path, encoding="utf-8").read()
    oracle = json.loads(open(oracle_path).read())
    # rulec apply --request answers exactly as rulesd does.
    if oracle != {"status": int(status), "body": body}:
        raise Problem(f"rulesd answered {status} {body[:80]!r}, rulec {oracle['status']} {oracle['body'][:80]!r}")
    key = name[:2]
    if key in REJECTED:
        if status != "400" or not ctype.startswith("text/plain"):
            raise Problem(f"want 400 text/plain, got {status} {ctype}")
        if body != REJECTED[key]:
            raise Problem(f"rejection text {body!r}, want {REJECTED[key]!r}")
    elif key in FAILED:
        if status != "500" or not re.match(FAILED[key], body):
            raise Problem(f"want 500 '{FAILED[key]}...', got {status} {body[:120]!r}")
    else:
        if status != "200" or ctype != "application/json":
            raise Problem(f"want 200 application/json, got {status} {ctype}: {body[:200]}")
        check_allowed(name, req, body)


def cmd_answers(list_path):
    for line in open(list_path):
        name, *args = line.split()
        try:
            check_answer(name, *args)
            print(f"PASS {name}")
        except (Problem, ValueError, KeyError, TypeError, yaml.YAMLError) as e:
            print(f"FAIL {name}: {e}")


def secrets_of(requests):
    """The values of SkyPilot's secret paths that are worth finding (4 bytes
    or more): envs, secrets, and pieces of _user_specified_yaml's lines."""
    found = set()
    for f in requests:
        task = yaml.safe_load(json.loads(json.load(open(f)))["task"])
        for m in ("envs", "secrets"):
            for v in (task.get(m) or {}).values():
                if v is not None and len(str(v)) >= 4:
                    found.add(str(v))
    return found


def cmd_declog(path, *requests):
    raw = open(path, encoding="utf-8").read()
    leaked = sorted(s for s in secrets_of(requests) if s in raw or s.lower() in raw.lower())
    if leaked:
        print(f"FAIL the decision log holds secrets: {[s[:4] + '...' for s in leaked]}")
        return
    if "[REDACTED]" not in raw:
        print("FAIL no decision-log line shows [REDACTED]: were the messages that print secrets logged?")
        return
    lines = [json.loads(l) for l in open(path)]
    sky = [l for l in lines if l.get("protocol") == "skypilot"]
    if not sky:
        print("FAIL no line has \"protocol\": \"skypilot\"")
        return
    by_user = {}
    for l in sky:
        by_user.setdefault((l["kind"], l["user"], l["outcome"]), []).append(l)
    want = [("launch", "alice", "allowed"), ("jobs.launch", "intern-carol", "rejected"),
            ("launch", "alice", "error"), ("serve.up", "", "allowed"), ("", "", "invalid")]
    for w in want:
        if w not in by_user:
            print(f"FAIL no decision-log line for {w}: {sorted(by_user)}")
            return
    rej = by_user[("jobs.launch", "intern-carol", "rejected")][0]
    texts = [m["text"] for m in rej["messages"] if m["severity"] == "error"]
    if texts != [REJECTED["15"].replace("hf_EXAMPLEtokenABC", "[REDACTED]")] or rej["project"] != "":
        print(f"FAIL rejection line: {rej}")
        return
    ok = by_user[("launch", "alice", "allowed")][0]
    if "config.aws.use_internal_ips" not in ok["changed"] or 'task.resources.labels["managed-by"]' not in ok["changed"]:
        print(f"FAIL allowed line's changes: {ok['changed']}")
        return
    print("PASS declog")


if __name__ == "__main__":
    {"answers": cmd_answers, "declog": cmd_declog}[sys.argv[1]](*sys.argv[2:])
