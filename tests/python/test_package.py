# SPDX-License-Identifier: Apache-2.0
"""The package as installed: pip builds it from python/ with Debian's
setuptools and no network (the `installed` fixture), it holds every module,
declares the dstack entry point, and carries the project's one version."""
import os
import re
from importlib import metadata

from conftest import REPO


def _header_version():
    with open(os.path.join(REPO, "vm", "rulevm.h")) as f:
        text = f.read()
    parts = [re.search(r"#define RV_VERSION_%s +(\d+)" % p, text).group(1) for p in ("MAJOR", "MINOR", "PATCH")]
    return ".".join(parts)


def test_installed_package_holds_every_module(installed):
    src = sorted(f for f in os.listdir(os.path.join(REPO, "python", "pyrules")) if f.endswith(".py"))
    got = sorted(f for f in os.listdir(os.path.join(str(installed), "pyrules")) if f.endswith(".py"))
    assert got == src and "dstack.py" in got and "skypilot.py" in got


def test_dstack_entry_point(installed):
    [ep] = [ep for ep in metadata.entry_points(group="dstack.plugins") if ep.name == "rules"]
    assert ep.value == "pyrules.dstack:RulesPlugin"


def test_version_is_the_headers(installed, pyrules):
    assert metadata.version("pyrules") == _header_version()
    assert pyrules.__version__ == _header_version()


def test_source_tree_left_clean(installed):
    """Building happened in a copy: python/ gets no build/ or egg-info."""
    assert sorted(os.listdir(os.path.join(REPO, "python"))) == ["pyproject.toml", "pyrules"]
