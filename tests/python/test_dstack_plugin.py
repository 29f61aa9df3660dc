# SPDX-License-Identifier: Apache-2.0
"""pyrules.dstack in a stand-in dstack server (tests/python/standins): the
plugin found through its "dstack.plugins" entry point, every real request
body in tests/data serialized exactly as dstack's rest_plugin sent it,
decided as `rulec apply --request` decides it, rewritten specs returned as
dstack's models, rejections as dstack's client errors; settings, reloading
and failing closed."""
import json
import logging
import os
import sys
import time

import pytest

from conftest import DSTACK_BODIES, RULES, body_id, dstack_kind, read_body, rulec

REQUESTERS = [None, ("intern-bob", "research")]


@pytest.fixture
def dstack_env(monkeypatch, tmp_path):
    """A dstack server folder of its own and no rules settings inherited."""
    for var in ("DSTACK_RULES_POLICIES", "DSTACK_RULES_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DSTACK_SERVER_DIR", str(tmp_path / "server"))
    (tmp_path / "server").mkdir()
    return tmp_path


def _models():
    from dstack.plugins import FleetSpec, GatewaySpec, RunSpec, VolumeSpec
    return {"run": RunSpec, "fleet": FleetSpec, "volume": VolumeSpec, "gateway": GatewaySpec}


@pytest.fixture
def server(installed, dstack_env, monkeypatch):
    """The stand-in server with the plugin enabled as `plugins: [rules]`
    and the policies of rules/."""
    monkeypatch.setenv("DSTACK_RULES_POLICIES", RULES)
    from dstack._internal.server.services import plugins
    assert plugins.load_plugins(["rules"]) == ["rules"]
    return plugins


@pytest.mark.parametrize("requester", REQUESTERS, ids=["as-sent", "intern"])
@pytest.mark.parametrize("path", DSTACK_BODIES, ids=body_id)
def test_every_body_through_the_plugin(server, tmp_path, path, requester):
    from dstack._internal.core.errors import ServerClientError
    from pyrules.dstack import dump_spec, request_body

    body = read_body(path)
    if requester:
        body["user"], body["project"] = requester
    kind = dstack_kind(body["spec"])
    spec = _models()[kind].model_validate(body["spec"])

    # What the plugin judges is byte for byte what the rest_plugin sent.
    assert request_body(kind, body["user"], body["project"], spec) == body

    req = tmp_path / "body.json"
    req.write_text(json.dumps(body))
    rc, out, err = rulec("apply", RULES, "--request", str(req), "--kind", kind)
    expected = json.loads(out)
    if expected["error"] is None:
        result = server.apply_plugin_policies(body["user"], body["project"], spec)
        assert type(result) is type(spec)
        assert type(result.configuration) is type(spec.configuration)
        assert dump_spec(kind, result) == expected["spec"]
    else:
        with pytest.raises(ServerClientError) as e:
            server.apply_plugin_policies(body["user"], body["project"], spec)
        assert e.value.msg == expected["error"]


def test_unchanged_spec_is_returned_as_is(installed, dstack_env, monkeypatch):
    """No policy wrote anything: the spec object dstack gave comes back."""
    from dstack._internal.server.services import plugins
    from dstack.plugins import RunSpec
    f = dstack_env / "gw.rules"
    f.write_text('policy "gw";\non gateway { forbid "no gateways"; }\n')
    monkeypatch.setenv("DSTACK_RULES_POLICIES", str(f))
    plugins.load_plugins(["rules"])
    body = read_body([p for p in DSTACK_BODIES if p.endswith("synthetic_task_limits.request.json")][0])
    spec = RunSpec.model_validate(body["spec"])
    assert plugins.apply_plugin_policies("alice", "main", spec) is spec


def test_rewritten_spec_is_the_model_with_the_changes(server):
    from dstack.plugins import RunSpec
    body = read_body([p for p in DSTACK_BODIES if p.endswith("synthetic_service_full.request.json")][0])
    spec = RunSpec.model_validate(body["spec"])
    out = server.apply_plugin_policies("alice", "main", spec)
    assert out is not spec
    assert out.configuration.max_price == 2.0
    assert out.configuration.tags["team"] == "my_team"
    assert out.configuration.https is True
    assert spec.configuration.https == "auto"   # the input model is left alone


def test_exclusions_come_from_dstack(installed, monkeypatch):
    """The plugin leaves out what this dstack's compatibility module says,
    and nothing when the dstack is too old to have one."""
    from dstack.plugins import RunSpec
    from pyrules.dstack import dump_spec
    body = read_body([p for p in DSTACK_BODIES if p.endswith("synthetic_service_full.request.json")][0])
    spec = RunSpec.model_validate(body["spec"])
    assert spec.configuration.router is None   # the model has the field ...
    assert "router" not in dump_spec("run", spec)["configuration"]   # ... dstack's rest_plugin leaves it out
    monkeypatch.setitem(sys.modules, "dstack._internal.core.compatibility.runs", None)   # an older dstack
    assert dump_spec("run", spec)["configuration"]["router"] is None


def test_nothing_configured_stops_dstack(installed, dstack_env):
    """No policies: the plugin cannot be made, so dstack's loader (which
    forgives only an ImportError) does not start without them."""
    from dstack._internal.server.services import plugins
    from pyrules.host import SettingsError
    with pytest.raises(SettingsError, match="no policies configured.*DSTACK_RULES_POLICIES.*rules.yml"):
        plugins.load_plugins(["rules"])


def test_broken_policies_stop_dstack(installed, dstack_env, monkeypatch):
    from dstack._internal.server.services import plugins
    import pyrules
    bad = dstack_env / "bad.rules"
    bad.write_text('policy "bad";\non run { set configuration.max_prize = 1; }\n')
    monkeypatch.setenv("DSTACK_RULES_POLICIES", str(bad))
    with pytest.raises(pyrules.PolicyError) as e:
        plugins.load_plugins(["rules"])
    assert (e.value.file, e.value.line) == (str(bad), 2)


def test_settings_file_beside_config_yml(installed, dstack_env):
    """rules.yml in dstack's server folder: rulesd's policies entries (paths
    relative to the file), params, watch."""
    from pyrules.dstack import RulesApplyPolicy
    (dstack_env / "server" / "policies").mkdir()
    (dstack_env / "server" / "policies" / "cap.rules").write_text(
        'policy "cap";\nparam max_price = 2.0;\non run { set configuration.max_price = $max_price; }\n')
    (dstack_env / "server" / "rules.yml").write_text(
        "policies:\n  - policies/\nparams:\n  cap.max_price: 3\nwatch:\n  enabled: false\n")
    policy = RulesApplyPolicy()
    assert policy.policy_set.policies[0].params == {"max_price": 3.0}
    assert policy.policy_set.policies[0].source == str(dstack_env / "server" / "policies" / "cap.rules")


@pytest.mark.parametrize("text, message", [
    ("policies: [a.rules]\nreload: true\n", "unknown key reload"),
    ("policies: []\n", "policies: expected a list"),
    ("- a.rules\n", "expected a mapping"),
    ("policies: [a.rules]\nwatch: {interval_ms: soon}\n", "interval_ms"),
    ("policies: [a.rules]\nparams: [1]\n", "params: expected a mapping"),
    ("policies: [{path: a.rules, color: red}]\n", "policies"),
    ("policies: [a.rules\n", "not valid YAML"),
])
def test_bad_settings_name_file_and_key(installed, dstack_env, monkeypatch, text, message):
    from pyrules.dstack import RulesApplyPolicy
    from pyrules.host import SettingsError
    f = dstack_env / "my-rules.yml"
    f.write_text(text)
    monkeypatch.setenv("DSTACK_RULES_CONFIG", str(f))
    with pytest.raises(SettingsError) as e:
        RulesApplyPolicy()
    assert str(e.value).startswith(str(f) + ":")
    assert message in str(e.value)


POLICY_V1 = 'policy "p";\non run { set configuration.max_price = 1.0; }\n'
POLICY_V2 = 'policy "p";\non run { forbid "runs are closed today"; }\n'
RUN = {"run_name": "x", "configuration": {"type": "task", "max_price": None}}


def _write_atomically(path, text):
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def test_reloads_when_files_change_and_keeps_the_last_good_set(installed, dstack_env, monkeypatch, caplog):
    from dstack._internal.core.errors import ServerClientError
    from dstack._internal.server.services import plugins
    from dstack.plugins import RunSpec
    folder = dstack_env / "server" / "policies"
    folder.mkdir()
    _write_atomically(folder / "p.rules", POLICY_V1)
    (dstack_env / "server" / "rules.yml").write_text("policies: [policies/]\nwatch: {interval_ms: 0}\n")
    assert plugins.load_plugins(["rules"]) == ["rules"]
    spec = RunSpec.model_validate(RUN)
    assert plugins.apply_plugin_policies("alice", "main", spec).configuration.max_price == 1.0

    # A new version of the file: the next request sees it.
    time.sleep(0.01)
    _write_atomically(folder / "p.rules", POLICY_V2)
    with pytest.raises(ServerClientError, match="runs are closed today"):
        plugins.apply_plugin_policies("alice", "main", spec)

    # A broken version: logged, the last good set keeps deciding.
    time.sleep(0.01)
    caplog.set_level(logging.ERROR)
    _write_atomically(folder / "p.rules", 'policy "p";\non run { forbid-if foo(: "x"; }\n')
    with pytest.raises(ServerClientError, match="runs are closed today"):
        plugins.apply_plugin_policies("alice", "main", spec)
    assert any("cannot be loaded" in r.getMessage() and "p.rules:2:" in r.getMessage() for r in caplog.records)

    # A source emptied by an unfinished copy: refused, as rulesd refuses it.
    time.sleep(0.01)
    caplog.clear()
    _write_atomically(folder / "p.rules", "")
    with pytest.raises(ServerClientError, match="runs are closed today"):
        plugins.apply_plugin_policies("alice", "main", spec)
    assert any("held rules and now holds none" in r.getMessage() for r in caplog.records)

    # A file added to the folder counts as a change too.
    time.sleep(0.01)
    _write_atomically(folder / "p.rules", POLICY_V1)
    _write_atomically(folder / "q.rules", 'policy "q";\non run { set configuration.max_duration = 1h; }\n')
    out = plugins.apply_plugin_policies("alice", "main", spec)
    assert (out.configuration.max_price, out.configuration.max_duration) == (1.0, 3600)
    policy = plugins._PLUGINS[0].get_apply_policies()[0]
    assert policy._watched.revision == 3 and policy._watched.failures == 2


def test_reload_waits_for_the_interval(installed, tmp_path):
    """Files are looked at no more often than the interval."""
    from pyrules.host import Settings, WatchedPolicySet
    f = tmp_path / "p.rules"
    _write_atomically(f, POLICY_V1)
    now = [0.0]
    w = WatchedPolicySet(Settings([str(f)], {}, True, 5.0, "test", None), target="dstack", clock=lambda: now[0])
    first = w.current()
    _write_atomically(f, POLICY_V2)
    now[0] = 4.9
    assert w.current() is first
    now[0] = 5.0
    assert w.current() is not first and w.revision == 2


def test_no_decision_rejects(installed, dstack_env, monkeypatch):
    """A policy that cannot be evaluated on a spec fails closed with a
    message, as rulesd answers."""
    from dstack._internal.core.errors import ServerClientError
    from dstack._internal.server.services import plugins
    from dstack.plugins import RunSpec
    f = dstack_env / "typed.rules"
    f.write_text('policy "typed";\non run { set configuration.max_price = int(configuration.name) + 1; }\n')
    monkeypatch.setenv("DSTACK_RULES_POLICIES", str(f))
    plugins.load_plugins(["rules"])
    spec = RunSpec.model_validate({"configuration": {"type": "task", "name": "train"}})
    with pytest.raises(ServerClientError) as e:
        plugins.apply_plugin_policies("alice", "main", spec)
    assert e.value.msg.startswith("the policies could not be evaluated: ")
    assert "typed:2" in e.value.msg


def test_logs_hold_no_secret(installed, dstack_env, monkeypatch, caplog):
    """One policy copies a secret into a field that is no secret, another
    prints that field: the requester's error is whole, the log is not."""
    from dstack._internal.core.errors import ServerClientError
    from dstack._internal.server.services import plugins
    from dstack.plugins import RunSpec
    folder = dstack_env / "p"
    folder.mkdir()
    (folder / "a.rules").write_text('policy "a" priority 1;\non run { set configuration.name = configuration.env["HF_TOKEN"]; }\n')
    (folder / "b.rules").write_text('policy "b" priority 2;\non run {\n    warn "name {configuration.name}";\n'
                                    '    forbid "no runs named {configuration.name}";\n}\n')
    monkeypatch.setenv("DSTACK_RULES_POLICIES", str(folder))
    plugins.load_plugins(["rules"])
    spec = RunSpec.model_validate({"configuration": {"type": "task", "env": {"HF_TOKEN": "hf_s3cr3tv4lue"}}})
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ServerClientError, match="no runs named hf_s3cr3tv4lue"):
        plugins.apply_plugin_policies("alice", "main", spec)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "no runs named [REDACTED]" in logged and "name [REDACTED]" in logged
    assert "s3cr3t" not in logged.lower()
