# SPDX-License-Identifier: Apache-2.0
"""pyrules - .rules policies in process, from Python.

Compiles and loads policies (sources, bundles, folders), sets their
parameters and evaluates specs through librulec, the project's compiler and
VM (a C library loaded with ctypes; pyrules._native says where it is looked
for). The same policies, the same answers as `rulec apply` and rulesd.

    import pyrules

    ps = pyrules.PolicySet.load("rules/", params={"gpu-limits.intern_max_gpus": 2})
    d = ps.evaluate(spec, kind="run", user="alice", project="main")
    if d.allowed:
        spec = d.spec                      # rewritten
        for c in d.changes:                # path, old, new, policy, line
            print(c.path, c.old, "->", c.new, c.where)
    else:
        raise ValueError(d.error)          # every forbid message, joined with "; "

Shapes:
    PolicySet.load(*paths, target=None, params=None, limits=None)
    PolicySet.from_sources({name: text_or_bundle_bytes}, ...)
    PolicySet.from_bundle(bytes)
    PolicySet.evaluate(spec, kind, user=None, project=None, request=None,
                       format=None) -> Decision
    Decision: allowed, spec, text, format, messages, warnings, changes,
              error, digest, instructions
    Message: text, policy, line, redacted (.where = "policy:line")
    Change: path, old, new (MISSING where absent), policy, line, secret
    compile(*paths) -> bundle bytes;  check(*paths) -> [Diagnostic]

Errors (pyrules.errors): PolicyError (diagnostics with file, line, column),
ParameterError, KindError, SpecError (line, column), EvaluationError (no
decision: fail closed), LibraryNotFound; all are RulesError.

Threads: a PolicySet is shared; each thread evaluates with its own VM,
made on first use. Parameters are fixed by the first evaluation.

Hosts built on it: pyrules.dstack (a dstack plugin: entry point "rules" in
the group "dstack.plugins") and pyrules.skypilot (admin_policy:
pyrules.skypilot.RulesPolicy). docs/python.md has the whole story.
"""
from ._version import __version__
from .errors import (Diagnostic, EvaluationError, KindError, LibraryNotFound, ParameterError, PolicyError,
                     RulesError, SpecError)
from .policies import (MISSING, Change, Decision, Limits, Message, PolicyInfo, PolicySet, check, compile)

__all__ = [
    "__version__", "PolicySet", "Decision", "Message", "Change", "PolicyInfo", "Limits", "MISSING", "check",
    "compile", "Diagnostic", "RulesError", "LibraryNotFound", "PolicyError", "ParameterError", "KindError",
    "SpecError", "EvaluationError",
]
