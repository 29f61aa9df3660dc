# SPDX-License-Identifier: Apache-2.0
"""pyrules.skypilot - .rules policies as a SkyPilot admin policy, in process.

In SkyPilot's config (the API server's, or a client's):

    admin_policy: pyrules.skypilot.RulesPolicy

SkyPilot imports the class, makes one with no arguments and calls
validate_and_mutate(user_request) for every request it asks admin policies
about. RulesPolicy turns the request into the document rulesd sees for
SkyPilot's RESTful admin policy (protocols/skypilot.c):

- the document {"task": ..., "config": ...}: task.to_yaml_config() and the
  SkyPilot config, written as YAML the way SkyPilot writes them for its
  RESTful policy and read by the VM (so `image_id: {null: ...}`, numbers as
  strings, block scalars survive as they do through rulesd);
- the kind: the request name (launch, jobs.launch, ...);
- $user: the user's name ("" on client-side calls);
- $request: {name, at_client_side, options (RequestOptions, or null),
  client_api_version, client_version (when SkyPilot's UserRequest carries
  them, else null), user: {id, name, user_type} or null}.

Allowed: MutatedUserRequest with the task rebuilt by Task.from_yaml_config
(keeping the original's managed_job_dag and service_name, which SkyPilot
does not serialize) and the config as SkyPilot's Config; with no change,
the request's own task and config. Rejected: UserRequestRejectedByPolicy
with every forbid message, joined with "; ". No decision (no policies, a
limit, a policy's type error): UserRequestRejectedByPolicy saying so.

Policies are configured (pyrules.host) by $SKYPILOT_RULES_POLICIES (paths,
':'-separated), $SKYPILOT_RULES_CONFIG (a settings file), or
~/.sky/rules.yaml; or by a subclass that sets `policies` (and `params`):

    class TeamPolicy(pyrules.skypilot.RulesPolicy):
        policies = ["/etc/skypilot/rules/"]
        params = {"skypilot-gpu-quota.max_gpus": 16}

They reload when their files change. One policy set per class, shared by
every request and thread of the process.
"""
from __future__ import annotations

import dataclasses
import enum
import logging
import os
import threading
from typing import Any, Dict, Optional, Tuple

import sky
from sky import admin_policy, exceptions
from sky.utils import config_utils

from .errors import RulesError
from .host import Settings, WatchedPolicySet, settings
from .policies import Decision

logger = logging.getLogger(__name__)

ENV_PREFIX = "SKYPILOT_RULES"
TARGET = "skypilot"
#: What a rejection says when no decision could be made (rulesd's words).
FAILED_PREFIX = "the policies could not be evaluated: "


def default_settings_file() -> str:
    return os.path.join(os.path.expanduser("~"), ".sky", "rules.yaml")


def _plain(value):
    """value with SkyPilot's dict subclasses (Config) and tuples made plain
    dicts and lists, which YAML's safe dumper writes."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _options(options) -> Optional[Dict[str, Any]]:
    if options is None:
        return None
    if hasattr(options, "model_dump"):
        return options.model_dump(mode="json")
    if hasattr(options, "dict"):
        return options.dict()
    if dataclasses.is_dataclass(options):
        return dataclasses.asdict(options)
    return dict(options)


def _user(user) -> Optional[Dict[str, Any]]:
    """{id, name, user_type}, the keys SkyPilot sends (others it may have
    are not part of the protocol)."""
    if user is None:
        return None
    d = user.to_dict() if hasattr(user, "to_dict") else dict(vars(user))
    return {k: d.get(k) for k in ("id", "name", "user_type")}


def _name(request_name) -> str:
    return request_name.value if isinstance(request_name, enum.Enum) else str(request_name)


def document(user_request) -> Tuple[Dict[str, Any], str, str, Dict[str, Any]]:
    """(spec, kind, user, request): what the policies see of user_request,
    the same as rulesd decodes from SkyPilot's RESTful body."""
    kind = _name(user_request.request_name)
    user = _user(getattr(user_request, "user", None))
    spec = {"task": _plain(user_request.task.to_yaml_config()),
            "config": _plain(user_request.skypilot_config if user_request.skypilot_config is not None else {})}
    request = {
        "name": kind,
        "at_client_side": bool(getattr(user_request, "at_client_side", False)),
        "options": _options(getattr(user_request, "request_options", None)),
        "client_api_version": getattr(user_request, "client_api_version", None),
        "client_version": getattr(user_request, "client_version", None),
        "user": user,
    }
    return spec, kind, (user or {}).get("name") or "", request


class RulesPolicy(admin_policy.AdminPolicy):
    """A SkyPilot AdminPolicy that enforces .rules policies (see the
    module's docstring). Subclass it to set `policies` and `params` in
    code instead of the environment or ~/.sky/rules.yaml."""

    #: Policy paths (files, folders, or rulesd-style entries); None: from
    #: the environment or the settings file.
    policies = None
    #: Whole-set parameter overrides, with `policies`.
    params: Optional[Dict[str, Any]] = None

    _watched_lock = threading.Lock()

    @classmethod
    def _settings(cls) -> Settings:
        if cls.policies is not None:
            paths = [cls.policies] if isinstance(cls.policies, (str, os.PathLike, dict)) else list(cls.policies)
            return Settings(paths, dict(cls.params or {}), True, 1.0, "%s.policies" % cls.__name__, None)
        return settings(ENV_PREFIX, default_settings_file())

    @classmethod
    def watched(cls) -> WatchedPolicySet:
        """This class's policy set, loaded on first use (raises
        SettingsError, PolicyError, ParameterError when it cannot be)."""
        w = cls.__dict__.get("_watched")
        if w is not None:
            return w
        with RulesPolicy._watched_lock:
            w = cls.__dict__.get("_watched")
            if w is None:
                first = cls._settings()
                reread = cls._settings if first.file else None
                w = WatchedPolicySet(first, target=TARGET, logger=logger, reload_settings=reread)
                cls._watched = w
        return w

    @classmethod
    def decide(cls, user_request) -> Decision:
        """The decision on user_request, without turning it into SkyPilot's
        answer."""
        spec, kind, user, request = document(user_request)
        return cls.watched().current().evaluate(spec, kind, user, request=request, format="yaml")

    @classmethod
    def validate_and_mutate(cls, user_request):
        try:
            d = cls.decide(user_request)
        except RulesError as e:
            logger.error("rules: %s: no decision, rejected: %s", _name(user_request.request_name),
                         getattr(e, "redacted", None) or e)
            raise exceptions.UserRequestRejectedByPolicy(FAILED_PREFIX + str(e)) from None
        for w in d.warnings:
            logger.warning("rules: %s by %s: %s (%s)", d.kind, d.user or "(client)", d.scrub(w.redacted),
                           w.where)
        if not d.allowed:
            logger.info("rules: %s by %s rejected: %s", d.kind, d.user or "(client)",
                        "; ".join("%s (%s)" % (d.scrub(m.redacted), m.where) for m in d.messages))
            raise exceptions.UserRequestRejectedByPolicy(d.error)
        if not d.changes:
            return admin_policy.MutatedUserRequest(task=user_request.task,
                                                   skypilot_config=user_request.skypilot_config)
        logger.info("rules: %s by %s rewritten: %s", d.kind, d.user or "(client)",
                    ", ".join("%s (%s)" % (d.scrub(c.path), c.where) for c in d.changes))
        new = d.spec
        if not (isinstance(new, dict) and set(new) == {"task", "config"} and isinstance(new["task"], dict)
                and isinstance(new["config"], (dict, type(None)))):
            # What rulesd answers with a 500: never a request SkyPilot would misread.
            roots = sorted(map(str, new)) if isinstance(new, dict) else type(new).__name__
            raise exceptions.UserRequestRejectedByPolicy(
                FAILED_PREFIX + "the policies left a document SkyPilot cannot take (its roots must be the "
                "mappings task and config, got %s)" % (roots,))
        task = sky.Task.from_yaml_config(new["task"])
        # Internal fields SkyPilot does not serialize, restored as its
        # RESTful policy client restores them.
        for field in ("managed_job_dag", "service_name"):
            if hasattr(user_request.task, field):
                setattr(task, field, getattr(user_request.task, field))
        config = config_utils.Config.from_dict(new["config"] or {})
        return admin_policy.MutatedUserRequest(task=task, skypilot_config=config)
