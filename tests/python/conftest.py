# SPDX-License-Identifier: Apache-2.0
"""conftest.py - what the Python suite shares: the package and the
stand-ins on the path, the repository's build (BUILD, as every suite), the
real request bodies of tests/data, and rulec to compare with.

tests/run-python.sh runs this suite with PYRULES_LIBRULEC pointing at
$BUILD/librulec.so.0, so the library under test is the one just built.
"""
import glob
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, os.path.join(HERE, "standins"))

BUILD = os.path.join(REPO, os.environ.get("BUILD", "build"))
RULEC = os.path.join(BUILD, "rulec")
RULES = os.path.join(REPO, "rules")
SKYPILOT_RULES = os.path.join(RULES, "skypilot")
DSTACK_BODIES = sorted(glob.glob(os.path.join(REPO, "tests", "data", "dstack", "requests", "*.json")))
SKYPILOT_BODIES = sorted(glob.glob(os.path.join(REPO, "tests", "data", "skypilot", "requests", "*.json")))

from pyrules._native import SONAME  # noqa: E402 (python/ is on the path only now)

os.environ.setdefault("PYRULES_LIBRULEC", os.path.join(BUILD, SONAME))

# What each dstack spec's configuration type says its kind is.
_KIND_OF_TYPE = {"task": "run", "service": "run", "dev-environment": "run", "fleet": "fleet", "volume": "volume",
                 "gateway": "gateway"}


def dstack_kind(spec):
    return _KIND_OF_TYPE[spec["configuration"]["type"]]


def body_id(path):
    return os.path.basename(path).split(".request.json")[0].split(".json")[0]


def rulec(*args, stdin=None):
    """rulec's exit status, standard output and standard error."""
    p = subprocess.run([RULEC, *args], input=stdin, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def explain_lines(stderr):
    """The change lines of rulec apply --explain, as (path, old, new, where)
    texts: `path: old -> new  (policy:line)`."""
    out = []
    for line in stderr.splitlines():
        if " -> " not in line or not line.endswith(")") or line.startswith(("warning:", "(rejected")):
            continue
        head, _, where = line.rpartition("  (")
        path, _, values = head.partition(": ")
        old, _, new = values.partition(" -> ")
        out.append((path, old, new, where[:-1]))
    return out


def read_body(path):
    with open(path) as f:
        return json.load(f)


@pytest.fixture(scope="session")
def pyrules():
    import pyrules as module
    return module


@pytest.fixture(scope="session")
def dstack_set(pyrules):
    return pyrules.PolicySet.load(RULES)


@pytest.fixture(scope="session")
def skypilot_set(pyrules):
    return pyrules.PolicySet.load(SKYPILOT_RULES, target="skypilot")


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """The package installed as docs/python.md says (pip, from a copy of
    python/, no network, no build isolation) into a folder of its own that
    goes first on sys.path: its entry points are then what
    importlib.metadata finds, as dstack's plugin loader finds them."""
    import shutil
    src = tmp_path_factory.mktemp("src") / "python"
    shutil.copytree(os.path.join(REPO, "python"), src,
                    ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    site = tmp_path_factory.mktemp("site")
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-index",
                        "--no-deps", "--no-warn-script-location", "--target", str(site), str(src)],
                       capture_output=True, text=True, env=dict(os.environ, PIP_ROOT_USER_ACTION="ignore"))
    assert p.returncode == 0, p.stdout + p.stderr
    sys.path.insert(0, str(site))
    return site
