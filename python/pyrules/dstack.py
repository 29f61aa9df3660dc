# SPDX-License-Identifier: Apache-2.0
"""pyrules.dstack - .rules policies as a dstack plugin, in process.

dstack loads plugins named in its server config.yml (`plugins: [rules]`)
from the "dstack.plugins" entry point group; pyrules registers
`rules = "pyrules.dstack:RulesPlugin"`. RulesPlugin.get_apply_policies()
returns one RulesApplyPolicy, whose on_{run,fleet,volume,gateway}_apply
judge every spec dstack is asked to apply:

- the spec is serialized exactly as dstack's builtin rest_plugin serializes
  it for rulesd: model_dump (JSON mode) with the exclusions of dstack's own
  compatibility module (get_run_spec_excludes and kin, when this dstack has
  them), inside {"user", "project", "spec"};
- the policies evaluate it with the kind of the hook, $user and $project;
- allowed: the rewritten spec comes back as the spec's own model class
  (model_validate); with no change, the spec object given;
- rejected: ValueError with every forbid message, joined with "; " (dstack
  shows it to the user as the apply request's error);
- no decision (a limit, a policy's type error, a spec that cannot be
  read): ValueError saying so. Nothing fails open.

Policies are configured (pyrules.host) by $DSTACK_RULES_POLICIES (paths,
':'-separated), $DSTACK_RULES_CONFIG (a settings file), or rules.yml beside
dstack's server config.yml ($DSTACK_SERVER_DIR, else ~/.dstack/server). Not
in config.yml itself: dstack refuses unknown keys there. They reload when
their files change. Warnings go to the plugin's log.
"""
from __future__ import annotations

import json
import logging
import os
from typing import Any, Dict, Optional

from dstack.plugins import ApplyPolicy, Plugin

from .errors import EvaluationError, RulesError, SpecError
from .host import SettingsError, WatchedPolicySet, settings
from .policies import Decision, PolicySet

try:  # dstack 0.19.11+ gives plugins their logger
    from dstack.plugins import get_plugin_logger as _get_logger
except ImportError:  # pragma: no cover - older dstack
    _get_logger = logging.getLogger

logger = _get_logger(__name__)

ENV_PREFIX = "DSTACK_RULES"

#: What a host puts before the library's message when no decision could be
#: made: the words rulesd answers with (protocols/dstack.h).
FAILED_PREFIX = "the policies could not be evaluated: "

# The kind of each hook, and the function of dstack's compatibility module
# that lists what its rest_plugin leaves out of that spec.
_EXCLUDES = {
    "run": ("dstack._internal.core.compatibility.runs", "get_run_spec_excludes"),
    "fleet": ("dstack._internal.core.compatibility.fleets", "get_fleet_spec_excludes"),
    "volume": ("dstack._internal.core.compatibility.volumes", "get_volume_spec_excludes"),
    "gateway": ("dstack._internal.core.compatibility.gateways", "get_gateway_spec_excludes"),
}


def default_settings_file() -> str:
    """rules.yml in dstack's server folder (where its config.yml is)."""
    server_dir = os.environ.get("DSTACK_SERVER_DIR") or os.path.join(os.path.expanduser("~"), ".dstack", "server")
    return os.path.join(server_dir, "rules.yml")


def spec_excludes(kind: str, spec) -> Optional[Dict]:
    """What dstack's rest_plugin excludes from spec (None when this dstack
    has no such function: then it excludes nothing either)."""
    module_name, fn_name = _EXCLUDES[kind]
    try:
        module = __import__(module_name, fromlist=[fn_name])
        fn = getattr(module, fn_name)
    except (ImportError, AttributeError):
        return None
    return fn(spec)


def dump_spec(kind: str, spec) -> Dict[str, Any]:
    """spec as the JSON object dstack's rest_plugin sends for it."""
    excludes = spec_excludes(kind, spec)
    if hasattr(spec, "model_dump"):
        return spec.model_dump(mode="json", exclude=excludes or None)
    # A dstack on pydantic v1 models: .json() is what reaches the wire.
    return json.loads(spec.json(exclude=excludes or None))


def request_body(kind: str, user: str, project: str, spec) -> Dict[str, Any]:
    """The body dstack's rest_plugin would POST for this apply:
    {"user", "project", "spec"}, the policies' view of it."""
    return {"user": user, "project": project, "spec": dump_spec(kind, spec)}


class RulesApplyPolicy(ApplyPolicy):
    """A dstack ApplyPolicy that enforces .rules policies in process.

    RulesApplyPolicy() reads the settings from the environment or rules.yml
    (see the module's docstring); RulesApplyPolicy(policies=[paths...],
    params={...}) takes them directly; RulesApplyPolicy(policy_set=ps)
    uses a loaded PolicySet as it is (no reloading). Raises SettingsError
    or PolicyError when there are no usable policies: dstack then refuses
    to start rather than run without them.
    """

    def __init__(self, policies=None, params=None, policy_set: Optional[PolicySet] = None):
        super().__init__()
        self._fixed = policy_set
        self._watched = None
        if policy_set is not None:
            if policy_set.target != "dstack":
                raise SettingsError("a dstack plugin needs policies of target dstack, not %s" % policy_set.target)
            return
        if policies is not None:
            from .host import Settings
            paths = [policies] if isinstance(policies, (str, os.PathLike, dict)) else list(policies)
            first = Settings(paths, dict(params or {}), True, 1.0, "the plugin's arguments", None)
            self._watched = WatchedPolicySet(first, target="dstack", logger=logger)
        else:
            first = settings(ENV_PREFIX, default_settings_file())
            reread = (lambda: settings(ENV_PREFIX, default_settings_file())) if first.file else None
            self._watched = WatchedPolicySet(first, target="dstack", logger=logger, reload_settings=reread)

    @property
    def policy_set(self) -> PolicySet:
        """The policy set in use now (reloaded first if its files changed)."""
        return self._fixed if self._fixed is not None else self._watched.current()

    def decide(self, kind: str, user: str, project: str, spec) -> Decision:
        """The decision on spec, without turning it into dstack's answer."""
        body = request_body(kind, user, project, spec)
        return self.policy_set.evaluate(body["spec"], kind, body["user"], body["project"])

    def _apply(self, kind: str, user: str, project: str, spec):
        try:
            d = self.decide(kind, user, project, spec)
        except (EvaluationError, SpecError) as e:
            logger.error("rules: %s by %s in %s: no decision, rejected: %s", kind, user, project,
                         getattr(e, "redacted", e.message))
            raise ValueError(FAILED_PREFIX + e.message) from None
        except RulesError as e:
            logger.error("rules: %s by %s in %s: no decision, rejected: %s", kind, user, project, e)
            raise ValueError(FAILED_PREFIX + str(e)) from None
        for w in d.warnings:
            logger.warning("rules: %s by %s in %s: %s (%s)", kind, user, project, d.scrub(w.redacted), w.where)
        if not d.allowed:
            logger.info("rules: %s by %s in %s rejected: %s", kind, user, project,
                        "; ".join("%s (%s)" % (d.scrub(m.redacted), m.where) for m in d.messages))
            raise ValueError(d.error)
        if not d.changes:
            return spec
        logger.info("rules: %s by %s in %s rewritten: %s", kind, user, project,
                    ", ".join("%s (%s)" % (d.scrub(c.path), c.where) for c in d.changes))
        model = type(spec)
        if hasattr(model, "model_validate"):
            return model.model_validate(d.spec)
        return model.parse_obj(d.spec)

    def on_run_apply(self, user: str, project: str, spec):
        return self._apply("run", user, project, spec)

    def on_fleet_apply(self, user: str, project: str, spec):
        return self._apply("fleet", user, project, spec)

    def on_volume_apply(self, user: str, project: str, spec):
        return self._apply("volume", user, project, spec)

    def on_gateway_apply(self, user: str, project: str, spec):
        return self._apply("gateway", user, project, spec)


class RulesPlugin(Plugin):
    """The dstack plugin (entry point "rules"): one RulesApplyPolicy, made
    when dstack loads the plugin at start, so missing or broken policies
    stop dstack from starting instead of letting requests through."""

    def __init__(self):
        super().__init__()
        self._policy = RulesApplyPolicy()

    def get_apply_policies(self):
        return [self._policy]
