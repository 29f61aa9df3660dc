# SPDX-License-Identifier: Apache-2.0
"""pyrules' own promises: loading from files, folders, text and bundles;
parameters; errors with file, line and column; decisions as records;
threads; the library found or refused clearly; help() that helps."""
import os
import pydoc
import subprocess
import sys
import threading

import pytest

from conftest import DSTACK_BODIES, REPO, read_body

SRC = """policy "caps" priority 5;
param max_price = 2.0;
param team = "ml";
on run {
    set configuration.max_price = min(configuration.max_price ?? $max_price, $max_price);
    append-tags { team: $team };
    forbid-if configuration.privileged: "privileged containers are forbidden";
    warn-if configuration.image == null: "no image: {$user} gets the default";
}
"""
SPEC = {"configuration": {"type": "task", "privileged": False, "max_price": 5.0, "image": None}}


def test_from_sources_and_decision_records(pyrules):
    ps = pyrules.PolicySet.from_sources({"caps.rules": SRC})
    d = ps.evaluate(SPEC, "run", "alice", "main")
    assert d.allowed and d.error is None and d.messages == []
    assert d.spec["configuration"]["max_price"] == 2.0
    assert d.spec["configuration"]["tags"] == {"team": "ml"}
    assert [(c.path, c.old, c.new, c.where, c.secret) for c in d.changes] == [
        ("configuration.max_price", 5.0, 2.0, "caps:5", False),
        ("configuration.tags.team", pyrules.MISSING, "ml", "caps:6", False),
    ]
    assert [(w.text, w.policy, w.line) for w in d.warnings] == [("no image: alice gets the default", "caps", 8)]
    assert (d.kind, d.user, d.project, d.format) == ("run", "alice", "main", "json")
    assert d.digest == ps.digest and len(d.digest) == 64
    assert d.instructions > 0
    # the input was not touched
    assert SPEC["configuration"]["max_price"] == 5.0

    bad = dict(SPEC, configuration=dict(SPEC["configuration"], privileged=True))
    r = ps.evaluate(bad, "run", "bob")
    assert not r.allowed
    assert [m.text for m in r.messages] == ["privileged containers are forbidden"]
    assert r.messages[0].where == "caps:7"
    assert r.error == "privileged containers are forbidden"
    assert r.spec == bad   # a rejected spec comes back exactly as it went in


def test_missing_is_not_none(pyrules):
    assert pyrules.MISSING is not None and not pyrules.MISSING and repr(pyrules.MISSING) == "MISSING"
    ps = pyrules.PolicySet.from_sources({"caps.rules": SRC})
    d = ps.evaluate({"configuration": {"type": "task"}}, "run")
    by_path = {c.path: c for c in d.changes}
    assert by_path["configuration.max_price"].old is pyrules.MISSING
    assert by_path["configuration.max_price"].old_json is None


def test_policies_info(pyrules):
    ps = pyrules.PolicySet.from_sources({"caps.rules": SRC})
    [info] = ps.policies
    assert (info.name, info.source, info.priority, info.kinds) == ("caps", "caps.rules", 5, ("run",))
    assert info.params == {"max_price": 2.0, "team": "ml"}
    assert len(info.sha256) == 64 and info.instructions > 0


def test_yaml_text_in_yaml_out(pyrules):
    ps = pyrules.PolicySet.from_sources({"caps.rules": SRC})
    d = ps.evaluate("configuration:\n  type: task\n  max_price: 9\n", "run")
    assert d.format == "yaml"
    assert "max_price: 2.0" in d.text
    assert d.spec["configuration"]["max_price"] == 2.0


def test_yaml_keeps_keys_that_are_not_strings(pyrules):
    """SkyPilot's image_id: {null: ...}: JSON would turn the key into "null"."""
    ps = pyrules.PolicySet.from_sources({"n.rules": 'policy "n" target any;\non * { set a = 1; }\n'}, target="any")
    d = ps.evaluate({"image_id": {None: "img-1", "us-east-1": "img-2"}}, "launch", format="yaml")
    assert d.spec == {"image_id": {None: "img-1", "us-east-1": "img-2"}, "a": 1}


def test_only_the_sets_target_judges(pyrules):
    """A set loaded for one target may hold another target's policies (a
    shared folder): their `on *` never runs on this target's requests;
    target any's does."""
    ps = pyrules.PolicySet.from_sources({
        "d.rules": 'policy "d";\non * { set configuration.name = "by-dstack"; }\n',
        "s.rules": 'policy "s" target skypilot;\non * { set task.name = "by-skypilot"; }\n',
        "a.rules": 'policy "a" target any;\non * { set seen = $kind; }\n',
    })
    assert {p.name: p.target for p in ps.policies} == {"a": "any", "d": "dstack", "s": "skypilot"}
    d = ps.evaluate({"configuration": {"type": "task"}}, "run")
    assert d.spec == {"configuration": {"type": "task", "name": "by-dstack"}, "seen": "run"}
    # Loaded as "any": the kind says whose request it is.
    anyset = pyrules.PolicySet.from_sources({
        "s.rules": 'policy "s" target skypilot;\non * { set task.name = "by-skypilot"; }\n',
        "a.rules": 'policy "a";\non * { set seen = $kind; }\n',
    }, target="any")
    assert anyset.evaluate({"configuration": {}}, "run").spec == {"configuration": {}, "seen": "run"}
    assert anyset.evaluate({"task": {}}, "launch").spec == {"task": {"name": "by-skypilot"}, "seen": "launch"}


def test_load_folder_file_and_entries(pyrules, tmp_path):
    (tmp_path / "a.rules").write_text(SRC)
    (tmp_path / ".hidden.rules").write_text("not a policy at all {")
    (tmp_path / "notes.txt").write_text("ignored")
    assert [p.name for p in pyrules.PolicySet.load(tmp_path).policies] == ["caps"]
    assert [p.name for p in pyrules.PolicySet.load(str(tmp_path / "a.rules")).policies] == ["caps"]
    # a rulesd-style entry: priority and the entry's own params
    ps = pyrules.PolicySet.load({"path": str(tmp_path / "a.rules"), "priority": 40, "params": {"team": "infra"}})
    [info] = ps.policies
    assert info.priority == 40 and info.params["team"] == "infra"
    with pytest.raises(pyrules.ParameterError, match="no policy in .* declares a parameter 'nope'"):
        pyrules.PolicySet.load({"path": str(tmp_path / "a.rules"), "params": {"nope": 1}})


def test_bundles_round_trip(pyrules, tmp_path):
    ps = pyrules.PolicySet.from_sources({"caps.rules": SRC}, params={"team": "infra"})
    blob = ps.bundle()
    again = pyrules.PolicySet.from_bundle(blob)
    assert again.digest == ps.digest
    assert again.policies[0].params["team"] == "infra"
    (tmp_path / "set.rbc").write_bytes(blob)
    assert pyrules.PolicySet.load(tmp_path).digest == ps.digest
    assert "caps" in ps.disasm()


def test_signed_bundle_loads_as_the_bundle_it_holds(pyrules, tmp_path):
    """`rulec compile --sign` output loads as its bundle (the signature is
    rulesd's to check: docs/python.md says so)."""
    from conftest import RULES, rulec
    rc, _, err = rulec("keygen", str(tmp_path / "ci.key"))
    assert rc == 0, err
    for args, name in (([], "plain.rbc"), (["--sign", str(tmp_path / "ci.key")], "signed.rbc")):
        rc, _, err = rulec("compile", RULES, *args, "-o", str(tmp_path / name))
        assert rc == 0, err
    plain = pyrules.PolicySet.load(tmp_path / "plain.rbc")
    signed = pyrules.PolicySet.load(tmp_path / "signed.rbc")
    assert (tmp_path / "signed.rbc").read_bytes() != (tmp_path / "plain.rbc").read_bytes()
    assert signed.digest == plain.digest
    assert [p.sha256 for p in signed.policies] == [p.sha256 for p in plain.policies]


def test_policy_errors_carry_file_line_column(pyrules, tmp_path):
    path = tmp_path / "bad.rules"
    path.write_text('policy "bad";\non run {\n    set configuration.max_prize = 1;\n    forbid-if foo(1): "x";\n}\n')
    with pytest.raises(pyrules.PolicyError) as e:
        pyrules.PolicySet.load(path)
    err = e.value
    assert (err.file, err.line, err.column) == (str(path), 3, 23)
    assert len(err.errors) == 2
    assert [(d.severity, d.line) for d in err.errors] == [("error", 3), ("error", 4)]
    assert "did you mean 'max_price'" in err.errors[0].message
    assert "%s:3:23: error:" % path in str(err)
    assert "^~~" in str(err)   # the report as rulec check prints it
    assert pyrules.check(path) == err.diagnostics


def test_unreadable_and_corrupt_inputs(pyrules, tmp_path):
    with pytest.raises(pyrules.PolicyError) as e:
        pyrules.PolicySet.load(tmp_path / "nowhere.rules")
    assert e.value.file == str(tmp_path / "nowhere.rules")
    with pytest.raises(pyrules.PolicyError, match="holds no .rules or .rbc files"):
        pyrules.PolicySet.load(tmp_path)   # an empty folder
    blob = bytearray(pyrules.PolicySet.from_sources({"caps.rules": SRC}).bundle())
    blob[len(blob) // 2] ^= 0xFF
    with pytest.raises(pyrules.PolicyError) as e:
        pyrules.PolicySet.from_bundle(bytes(blob), name="broken.rbc")
    assert "broken.rbc" in str(e.value)
    (tmp_path / "empty.rbc").write_bytes(b"")
    with pytest.raises(pyrules.PolicyError, match="empty.rbc"):
        pyrules.PolicySet.load(tmp_path / "empty.rbc")


def test_previous_refuses_truncated_deployments(pyrules, tmp_path):
    """rulesd's reload checks, for hosts that reload: a source that held
    rules and holds none, or a bundle that is no longer one, is refused
    when it replaces a set that had them (alone it loads, with a warning)."""
    src = tmp_path / "a.rules"
    src.write_text(SRC)
    blob = tmp_path / "b.rbc"
    blob.write_bytes(pyrules.PolicySet.from_sources(
        {"b.rules": 'policy "b";\non run { forbid-if configuration.privileged: "no"; }\n'}).bundle())
    first = pyrules.PolicySet.load(tmp_path)

    src.write_text("# emptied by a copy that has not finished\n")
    with pytest.raises(pyrules.PolicyError, match="held rules and now holds none") as e:
        pyrules.PolicySet.load(tmp_path, previous=first)
    assert e.value.file == str(src)
    alone = pyrules.PolicySet.load(tmp_path)   # without previous= it loads, with the warning
    assert any(d.severity == "warning" and d.file == str(src) for d in alone.diagnostics)

    src.write_text(SRC)
    blob.write_bytes(b'policy "b";\non run { warn "x"; }\n')   # a source under the bundle's name
    with pytest.raises(pyrules.PolicyError, match="was a compiled bundle and is no longer one") as e:
        pyrules.PolicySet.load(tmp_path, previous=first)
    assert e.value.file == str(blob)
    assert pyrules.PolicySet.load(tmp_path, previous=pyrules.PolicySet.load(tmp_path)).policies


def test_warnings_of_loading_are_kept(pyrules):
    ps = pyrules.PolicySet.from_sources({"w.rules": 'policy "w";\non run {\n    forbid-if false: "never";\n}\n'})
    assert [(d.severity, d.file, d.line, d.column) for d in ps.diagnostics] == [("warning", "w.rules", 3, 5)]
    assert "can never run" in ps.diagnostics[0].message


def test_parameters(pyrules):
    ps = pyrules.PolicySet.from_sources({"caps.rules": SRC}, params={"caps.max_price": "3"})
    assert ps.policies[0].params["max_price"] == 3.0   # an int literal becomes the float default's type
    ps.set_param("team", "infra")                       # a bare word is a string
    ps.set_param("max_price", 1.5)                      # Python values are taken as they are
    assert ps.policies[0].params == {"max_price": 1.5, "team": "infra"}
    with pytest.raises(pyrules.ParameterError, match="takes a float.*not a string"):
        ps.set_param("max_price", "cheap")
    with pytest.raises(pyrules.ParameterError):
        ps.set_param("nope", 1)
    with pytest.raises(pyrules.ParameterError):
        ps.set_param("max_price", float("nan"))
    ps.evaluate(SPEC, "run")
    with pytest.raises(pyrules.ParameterError, match="fixed once"):
        ps.set_param("max_price", 1.0)
    with pytest.raises(pyrules.ParameterError, match="takes a float"):
        pyrules.PolicySet.from_sources({"caps.rules": SRC}, params={"max_price": "true"})


def test_spec_errors_carry_line_and_column(pyrules):
    ps = pyrules.PolicySet.from_sources({"caps.rules": SRC})
    with pytest.raises(pyrules.SpecError) as e:
        ps.evaluate('{"configuration": {\n  "type": task\n}}', "run", name="job.json")
    assert (e.value.file, e.value.line, e.value.column) == ("job.json", 2, 11)   # as rulec apply says
    assert str(e.value).startswith("job.json:2:11: ")
    with pytest.raises(pyrules.SpecError) as e:
        ps.evaluate("configuration:\n  type: [task\n", "run")
    assert e.value.line >= 2 and e.value.file == "<spec>"
    with pytest.raises(pyrules.SpecError, match="object"):
        ps.evaluate("[1, 2]", "run")
    with pytest.raises(pyrules.SpecError, match="JSON"):
        ps.evaluate({"configuration": {"max_price": float("nan")}}, "run")
    with pytest.raises(pyrules.SpecError, match="JSON"):
        ps.evaluate({"configuration": {"when": object()}}, "run")
    with pytest.raises(pyrules.SpecError, match="NUL"):
        ps.evaluate(SPEC, "run", user="al\0ice")
    with pytest.raises(TypeError):
        ps.evaluate(42, "run")


def test_kinds_are_checked(pyrules, dstack_set, skypilot_set):
    with pytest.raises(pyrules.KindError, match="runs"):
        dstack_set.evaluate(SPEC, "runs")
    with pytest.raises(pyrules.KindError):
        dstack_set.evaluate(SPEC, "launch")
    # SkyPilot's request names, and a newer SkyPilot's name (judged by `on *`)
    d = skypilot_set.evaluate({"task": {}, "config": {}}, "jobs.launch", "alice")
    assert d.allowed
    assert skypilot_set.evaluate({"task": {}, "config": {}}, "jobs.cancel", "alice").allowed
    with pytest.raises(pyrules.KindError):
        skypilot_set.evaluate({"task": {}, "config": {}}, "not a name", "alice")


def test_no_decision_is_an_exception(pyrules):
    """A limit or a type error in a policy: no decision, never an allowed spec."""
    loop = 'policy "slow";\non run {\n    forbid-if any a in configuration.xs: any b in configuration.xs: any c in configuration.xs: a + b + c == -1: "never";\n}\n'
    ps = pyrules.PolicySet.from_sources({"slow.rules": loop}, target="any",
                                        limits=pyrules.Limits(instruction_budget=1000))
    with pytest.raises(pyrules.EvaluationError) as e:
        ps.evaluate({"configuration": {"xs": list(range(50))}}, "run")
    assert e.value.status == "RV_ELIMIT"
    typed = 'policy "typed" target any;\non * {\n    set total = spec_value + 3;\n}\n'.replace("spec_value", "secret_token")
    ps = pyrules.PolicySet.from_sources({"typed.rules": typed}, target="any")
    with pytest.raises(pyrules.EvaluationError) as e:
        ps.evaluate({"secret_token": "hunter2-hunter2"}, "x")
    assert e.value.status == "RV_EEVAL" and "typed:3" in e.value.message
    assert "hunter2" not in e.value.redacted


def test_secrets_scrubbed_for_logs(pyrules):
    src = 'policy "leak";\non run {\n    set configuration.name = configuration.env["HF_TOKEN"];\n    warn "name {configuration.name}";\n}\n'
    ps = pyrules.PolicySet.from_sources({"leak.rules": src})
    d = ps.evaluate({"configuration": {"type": "task", "env": {"HF_TOKEN": "hf_abcdefgh"}}}, "run")
    assert d.warnings[0].text == "name hf_abcdefgh"           # the requester's answer is whole
    assert "hf_abcdefgh" not in d.warnings[0].redacted         # the compiler marked it
    assert d.scrub("token HF_ABCDEFGH seen") == "token [REDACTED] seen"
    assert all("hf_abcdefgh" not in line for line in d.explain())


def test_threads_each_with_their_own_vm(pyrules, dstack_set):
    """Many threads, one set: every thread's decisions equal the
    single-threaded ones (a shared VM would mix their documents up)."""
    bodies = [read_body(p) for p in DSTACK_BODIES]
    kind_of = {"fleet": "fleet", "volume": "volume", "gateway": "gateway"}
    jobs = [(b["spec"], kind_of.get(b["spec"]["configuration"]["type"], "run"), u)
            for b in bodies for u in ("alice", "intern-bob")]
    expected = [(d.allowed, d.text, d.error) for d in (dstack_set.evaluate(s, k, u) for s, k, u in jobs)]
    errors, results = [], {}

    def worker(n):
        try:
            got = []
            for _ in range(5):
                got = [(d.allowed, d.text, d.error) for d in (dstack_set.evaluate(s, k, u) for s, k, u in jobs)]
                if got != expected:
                    break
            results[n] = got
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(results[n] == expected for n in range(8))


def test_close(pyrules):
    ps = pyrules.PolicySet.from_sources({"caps.rules": SRC})
    with ps:
        assert ps.evaluate(SPEC, "run").allowed
    with pytest.raises(pyrules.RulesError, match="closed"):
        ps.evaluate(SPEC, "run")
    ps.close()   # twice is harmless
    with pytest.raises(TypeError):
        pyrules.PolicySet()


def test_help_documents_shapes_and_errors(pyrules):
    text = pydoc.render_doc(pyrules.PolicySet, renderer=pydoc.plaintext)
    for word in ("evaluate", "Decision", "KindError", "SpecError", "EvaluationError", "PolicyError",
                 "params", "threads"):
        assert word in text, word
    assert "PolicySet.load" in pyrules.__doc__ and "Decision" in pyrules.__doc__


def _python(code, env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=os.path.join(REPO, "python"), **env))


def test_library_found_beside_the_repository_build(tmp_path):
    """Without $PYRULES_LIBRULEC, a package inside a repository loads that
    repository's build/librulec.so.<ABI> (a copy of the tree in tmp_path)."""
    import shutil
    from pyrules import _native as native
    repo = tmp_path / "repo"
    shutil.copytree(os.path.join(REPO, "python", "pyrules"), repo / "python" / "pyrules",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "vm").mkdir()
    (repo / "vm" / "rulevm.h").write_text("")
    (repo / "build").mkdir()
    shutil.copy(os.environ["PYRULES_LIBRULEC"], repo / "build" / native.SONAME)
    env = {k: v for k, v in os.environ.items() if k != "PYRULES_LIBRULEC"}
    p = subprocess.run([sys.executable, "-c", "import pyrules._native as n; print(n.library_path())"],
                       capture_output=True, text=True, env=dict(env, PYTHONPATH=str(repo / "python")))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == str(repo / "build" / native.SONAME)


def test_library_named_but_missing_is_a_clear_error(tmp_path):
    p = _python("import pyrules\npyrules.PolicySet.load('rules/')", {"PYRULES_LIBRULEC": str(tmp_path / "nope.so")})
    assert p.returncode != 0
    assert "LibraryNotFound" in p.stderr and "PYRULES_LIBRULEC" in p.stderr and "nope.so" in p.stderr
