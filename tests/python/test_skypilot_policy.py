# SPDX-License-Identifier: Apache-2.0
"""pyrules.skypilot in a stand-in SkyPilot (tests/python/standins): the
class named by `admin_policy:` gets every real request body of tests/data
as SkyPilot's UserRequest, sees the document rulesd decodes from the same
body, decides as `rulec apply --request` with rules/skypilot/ decides, and
answers with SkyPilot's MutatedUserRequest or its rejection error."""
import json

import pytest
import yaml

from conftest import SKYPILOT_BODIES, SKYPILOT_RULES, body_id, read_body, rulec
from test_rules_vs_rulec import skypilot_document

POLICY = "pyrules.skypilot.RulesPolicy"


def user_request(path):
    """A body turned back into the UserRequest SkyPilot encoded it from."""
    from sky import Task, admin_policy, models
    from sky.server.requests.request_names import AdminPolicyRequestName
    from sky.utils.config_utils import Config
    inner = json.loads(read_body(path))
    user = yaml.safe_load(inner["user"]) if inner["user"] else None
    opts = inner["request_options"]
    return admin_policy.UserRequest(
        task=Task.from_yaml_config(yaml.safe_load(inner["task"])),
        skypilot_config=Config.from_dict(yaml.safe_load(inner["skypilot_config"])),
        request_name=AdminPolicyRequestName(inner["request_name"]),
        request_options=admin_policy.RequestOptions(**opts) if opts is not None else None,
        at_client_side=inner["at_client_side"],
        user=models.User(**user) if user else None,
        client_api_version=inner.get("client_api_version"),
        client_version=inner.get("client_version"))


@pytest.fixture
def fresh(monkeypatch):
    """RulesPolicy with no policy set loaded yet and no settings inherited."""
    from pyrules.skypilot import RulesPolicy
    for var in ("SKYPILOT_RULES_POLICIES", "SKYPILOT_RULES_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", "/nonexistent-home-for-tests")
    if "_watched" in RulesPolicy.__dict__:
        monkeypatch.delattr(RulesPolicy, "_watched")
    yield RulesPolicy
    if "_watched" in RulesPolicy.__dict__:
        del RulesPolicy._watched


@pytest.mark.parametrize("path", SKYPILOT_BODIES, ids=body_id)
def test_sees_what_rulesd_decodes(fresh, path):
    from pyrules.skypilot import document
    assert document(user_request(path)) == skypilot_document(path)


@pytest.mark.parametrize("path", SKYPILOT_BODIES, ids=body_id)
def test_every_body_through_the_admin_policy(fresh, monkeypatch, path):
    from sky import exceptions
    from sky.utils import admin_policy_utils
    monkeypatch.setenv("SKYPILOT_RULES_POLICIES", SKYPILOT_RULES)
    ur = user_request(path)
    ur.task.managed_job_dag = dag = object()
    ur.task.service_name = "svc-1"

    rc, out, err = rulec("apply", SKYPILOT_RULES, "--request", path)   # as rulesd answers the body
    if rc == 0:
        answer = json.loads(json.loads(out))
        mutated = admin_policy_utils.apply(POLICY, ur)
        assert mutated.task.to_yaml_config() == yaml.safe_load(answer["task"])
        assert type(mutated.skypilot_config).__name__ == "Config"
        assert dict(mutated.skypilot_config) == yaml.safe_load(answer["skypilot_config"])
        assert mutated.task.managed_job_dag is dag and mutated.task.service_name == "svc-1"
    else:
        assert rc == 1, err
        with pytest.raises(exceptions.UserRequestRejectedByPolicy) as e:
            admin_policy_utils.apply(POLICY, ur)
        assert str(e.value) == out[:-1]   # rulesd's 400 text


def test_outcomes_and_rewrites_are_covered(fresh, monkeypatch):
    from sky import exceptions
    from sky.utils import admin_policy_utils
    monkeypatch.setenv("SKYPILOT_RULES_POLICIES", SKYPILOT_RULES)
    allowed = rejected = rewritten = 0
    for path in SKYPILOT_BODIES:
        ur = user_request(path)
        try:
            m = admin_policy_utils.apply(POLICY, ur)
        except exceptions.UserRequestRejectedByPolicy:
            rejected += 1
            continue
        allowed += 1
        rewritten += m.task is not ur.task
    assert allowed >= 5 and rejected >= 1 and rewritten >= 5


def test_unchanged_request_keeps_its_objects(fresh, monkeypatch, tmp_path):
    from sky.utils import admin_policy_utils
    f = tmp_path / "noop.rules"
    f.write_text('policy "noop" target skypilot;\non serve.update { forbid "no"; }\n')
    monkeypatch.setenv("SKYPILOT_RULES_POLICIES", str(f))
    ur = user_request(SKYPILOT_BODIES[0])
    m = admin_policy_utils.apply(POLICY, ur)
    assert m.task is ur.task and m.skypilot_config is ur.skypilot_config


def test_request_map_reaches_the_policies(fresh, monkeypatch, tmp_path):
    """$request: options, versions, the user and where the call runs."""
    from sky import exceptions
    from sky.utils import admin_policy_utils
    f = tmp_path / "req.rules"
    f.write_text('policy "req" target skypilot;\non * {\n'
                 '    forbid-if $request.options.dryrun: "dry run by {$request.user.name} ({$request.user.user_type})";\n'
                 '    forbid-if $request.at_client_side: "client side, API {$request.client_api_version}";\n'
                 '}\n')
    monkeypatch.setenv("SKYPILOT_RULES_POLICIES", str(f))
    by_id = {body_id(p): p for p in SKYPILOT_BODIES}
    with pytest.raises(exceptions.UserRequestRejectedByPolicy, match=r"^dry run by intern-carol \(basic\)$"):
        admin_policy_utils.apply(POLICY, user_request(by_id["09_marimo_launch_ports_secret"]))
    with pytest.raises(exceptions.UserRequestRejectedByPolicy, match=r"^client side, API null$"):
        admin_policy_utils.apply(POLICY, user_request(by_id["17_llama2_client_side"]))
    admin_policy_utils.apply(POLICY, user_request(by_id["01_minimal_launch"]))


def test_a_subclass_names_its_policies(fresh, tmp_path):
    from sky.utils import admin_policy_utils
    import pyrules.skypilot
    f = tmp_path / "spot.rules"
    f.write_text('policy "spot" target skypilot;\nparam spot = false;\non * { set task.resources.use_spot = $spot; }\n')

    class TeamPolicy(pyrules.skypilot.RulesPolicy):
        policies = [str(f)]
        params = {"spot.spot": True}

    import types
    module = types.ModuleType("team_policy")
    module.TeamPolicy = TeamPolicy
    import sys
    sys.modules["team_policy"] = module
    try:
        m = admin_policy_utils.apply("team_policy.TeamPolicy", user_request(SKYPILOT_BODIES[0]))
    finally:
        del sys.modules["team_policy"]
    assert m.task.to_yaml_config()["resources"]["use_spot"] is True
    assert "_watched" not in pyrules.skypilot.RulesPolicy.__dict__   # the subclass has a set of its own


def test_nothing_configured_rejects(fresh):
    """No policies: every request is refused, saying why (fail closed)."""
    from sky import exceptions
    from sky.utils import admin_policy_utils
    with pytest.raises(exceptions.UserRequestRejectedByPolicy,
                       match="could not be evaluated: no policies configured.*SKYPILOT_RULES_POLICIES"):
        admin_policy_utils.apply(POLICY, user_request(SKYPILOT_BODIES[0]))


def test_a_document_skypilot_cannot_take_rejects(fresh, monkeypatch, tmp_path):
    from sky import exceptions
    from sky.utils import admin_policy_utils
    f = tmp_path / "extra.rules"
    f.write_text('policy "extra" target any;\non * { set extra = 1; }\n')
    monkeypatch.setenv("SKYPILOT_RULES_CONFIG", str(tmp_path / "rules.yaml"))
    (tmp_path / "rules.yaml").write_text("policies: [extra.rules]\n")
    with pytest.raises(exceptions.UserRequestRejectedByPolicy, match="roots must be the mappings task and config"):
        admin_policy_utils.apply(POLICY, user_request(SKYPILOT_BODIES[0]))


def test_a_task_skypilot_refuses_is_not_returned(fresh, monkeypatch, tmp_path):
    """SkyPilot validates the task it gets back; a policy writing what its
    schema forbids ends in a rejection, not in a broken task."""
    from sky import exceptions
    from sky.utils import admin_policy_utils
    f = tmp_path / "nodes.rules"
    f.write_text('policy "nodes" target any;\non * { set task.num_nodes = "many"; }\n')
    monkeypatch.setenv("SKYPILOT_RULES_POLICIES", str(f))
    with pytest.raises(exceptions.UserRequestRejectedByPolicy, match="num_nodes|many"):
        admin_policy_utils.apply(POLICY, user_request(SKYPILOT_BODIES[0]))


def test_yaml_quirks_survive_in_process(fresh, monkeypatch):
    """What SkyPilot's YAML holds comes back with its types: the null key
    of image_id, numbers as strings, block scalars, the nested YAML string
    (the task written and read back as SkyPilot writes and reads it)."""
    from sky.utils import admin_policy_utils
    monkeypatch.setenv("SKYPILOT_RULES_POLICIES", SKYPILOT_RULES)
    by_id = {body_id(p): p for p in SKYPILOT_BODIES}
    ur = user_request(by_id["07_nccl_efa_jobs_launch"])
    before = ur.task.to_yaml_config()
    after = admin_policy_utils.apply(POLICY, ur).task.to_yaml_config()
    assert after is not before and after["resources"]["image_id"] == before["resources"]["image_id"]
    assert None in after["resources"]["image_id"]
    for key in ("run", "_user_specified_yaml", "num_nodes", "name"):
        assert after[key] == before[key] and type(after[key]) is type(before[key])
