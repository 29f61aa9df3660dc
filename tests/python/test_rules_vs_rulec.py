# SPDX-License-Identifier: Apache-2.0
"""The same policies, the same answers: a Python session loads rules/ and
rules/skypilot/ and evaluates every real request body in tests/data; each
decision (the spec, the rejection text, the warnings, each change with
policy:line) must be what `rulec apply --request` gives for the same body,
and the set's digest and bundle what `rulec disasm` and `rulec compile`
give."""
import json
import os

import pytest
import yaml

from conftest import (DSTACK_BODIES, RULES, SKYPILOT_BODIES, SKYPILOT_RULES, body_id, dstack_kind,
                      explain_lines, read_body, rulec)

# Each body as dstack sent it (alice in main), and again as an intern in
# another project, so that the user- and project-dependent rules fire.
REQUESTERS = [None, ("intern-bob", "research")]


def _change_text(pyrules, value, secret):
    if secret:
        return "[REDACTED]"
    if value is pyrules.MISSING:
        return "(missing)"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _warnings_of(stderr):
    return [line[len("warning: "):] for line in stderr.splitlines() if line.startswith("warning: ")]


@pytest.mark.parametrize("requester", REQUESTERS, ids=["as-sent", "intern"])
@pytest.mark.parametrize("path", DSTACK_BODIES, ids=body_id)
def test_dstack_body_decides_as_rulec(pyrules, dstack_set, tmp_path, path, requester):
    body = read_body(path)
    if requester:
        body["user"], body["project"] = requester
    req = tmp_path / "body.json"
    req.write_text(json.dumps(body))
    kind = dstack_kind(body["spec"])
    rc, out, err = rulec("apply", RULES, "--request", str(req), "--kind", kind, "--explain")
    assert rc in (0, 1), err
    expected = json.loads(out)
    assert rc == (expected["error"] is not None)   # rulec says a rejection by its status too

    d = dstack_set.evaluate(body["spec"], kind, body["user"], body["project"])
    assert d.spec == expected["spec"]
    assert d.error == expected["error"]
    assert d.allowed == (expected["error"] is None)
    assert ["%s (%s)" % (w.text, w.where) for w in d.warnings] == _warnings_of(err)
    assert d.explain() == [line for line in err.splitlines() if not line.startswith(("warning: ", "rulec: note:"))]
    # Each change's values are its JSON, except where --explain hides them.
    shown = explain_lines(err)
    assert len(shown) == len(d.changes)
    for c, (path, old, new, where) in zip(d.changes, shown):
        assert (c.path, c.where) == (path, where)
        for value, text in ((c.old, old), (c.new, new)):
            assert text == "[REDACTED]" or text == _change_text(pyrules, value, c.secret)
    assert d.digest == dstack_set.digest

    # The same body as JSON text decides the same, and answers in JSON text.
    t = dstack_set.evaluate(json.dumps(body["spec"]), kind, body["user"], body["project"])
    assert (t.allowed, t.format, json.loads(t.text), t.error) == (d.allowed, "json", expected["spec"], d.error)


def test_every_dstack_kind_and_outcome_is_covered(dstack_set):
    """The comparison above is only as good as what the bodies exercise."""
    kinds, outcomes, changed = set(), set(), 0
    for path in DSTACK_BODIES:
        for requester in REQUESTERS:
            body = read_body(path)
            if requester:
                body["user"], body["project"] = requester
            kind = dstack_kind(body["spec"])
            d = dstack_set.evaluate(body["spec"], kind, body["user"], body["project"])
            kinds.add(kind)
            outcomes.add(d.allowed)
            changed += bool(d.changes and d.allowed)
    assert kinds == {"run", "fleet", "volume", "gateway"}
    assert outcomes == {True, False}
    assert changed >= 10


def skypilot_document(body_path):
    """What rulesd decodes from a SkyPilot body: the document, the request
    name, the user's name and the $request map."""
    inner = json.loads(read_body(body_path))
    user = yaml.safe_load(inner["user"]) if inner["user"] else None
    spec = {"task": yaml.safe_load(inner["task"]), "config": yaml.safe_load(inner["skypilot_config"])}
    request = {"name": inner["request_name"], "at_client_side": inner["at_client_side"],
               "options": inner["request_options"], "client_api_version": inner.get("client_api_version"),
               "client_version": inner.get("client_version"),
               "user": {k: user.get(k) for k in ("id", "name", "user_type")} if user else None}
    return spec, inner["request_name"], (user or {}).get("name") or "", request


@pytest.mark.parametrize("path", SKYPILOT_BODIES, ids=body_id)
def test_skypilot_body_decides_as_rulec(skypilot_set, path):
    """The document rulesd decodes, evaluated in Python, against `rulec
    apply --request` on the body itself (SkyPilot's protocol, as rulesd
    answers it: 200 with the double-encoded task and config, 400 with the
    messages)."""
    spec, kind, user, request = skypilot_document(path)
    rc, out, err = rulec("apply", SKYPILOT_RULES, "--request", path, "--explain")
    d = skypilot_set.evaluate(spec, kind, user, request=request, format="yaml")
    if rc == 0:
        answer = json.loads(json.loads(out))
        assert set(answer) == {"task", "skypilot_config"}
        assert d.allowed, d.error
        assert d.spec == {"task": yaml.safe_load(answer["task"]), "config": yaml.safe_load(answer["skypilot_config"])}
    else:
        assert rc == 1, err
        assert not d.allowed
        assert d.error == out[:-1]   # the 400's text, then a newline
        assert d.spec == spec
    assert ["%s (%s)" % (w.text, w.where) for w in d.warnings] == _warnings_of(err)
    assert d.explain() == [line for line in err.splitlines() if not line.startswith("warning: ")]


def test_skypilot_bodies_reach_both_outcomes(skypilot_set):
    outcomes = set()
    for path in SKYPILOT_BODIES:
        spec, kind, user, request = skypilot_document(path)
        outcomes.add(skypilot_set.evaluate(spec, kind, user, request=request, format="yaml").allowed)
    assert outcomes == {True, False}


def test_digest_is_rulec_disasm_set_digest(dstack_set, skypilot_set):
    for ps, args in ((dstack_set, [RULES]), (skypilot_set, [SKYPILOT_RULES, "--target", "skypilot"])):
        rc, out, err = rulec("disasm", *args)
        assert rc == 0, err
        first = out.splitlines()[0].split()
        assert first[:2] == ["set", "sha256"]
        assert ps.digest == first[2]


def test_bundle_is_rulec_compile_output(pyrules, dstack_set, tmp_path):
    out = tmp_path / "rules.rbc"
    rc, _, err = rulec("compile", RULES, "-o", str(out))
    assert rc == 0, err
    assert dstack_set.bundle() == out.read_bytes()
    assert pyrules.compile(RULES) == out.read_bytes()


def test_params_as_rulec_param(pyrules, tmp_path):
    """An override means what --param means: text in the language's literal
    syntax, checked against the default's type."""
    path = [p for p in DSTACK_BODIES if p.endswith("synthetic_service_full.request.json")][0]
    body = read_body(path)
    ps = pyrules.PolicySet.load(RULES, params={"gpu-limits.intern_max_gpus": "4"})
    rc, out, err = rulec("apply", RULES, "--request", path, "--kind", "run", "--param", "gpu-limits.intern_max_gpus=4")
    d = ps.evaluate(body["spec"], "run", "intern-bob", "main")
    expected = json.loads(out)
    assert (d.spec, d.error) == (expected["spec"], expected["error"])
    # and the set differs from the one with the default
    assert ps.digest != pyrules.PolicySet.load(RULES).digest
    assert os.path.exists(path)
