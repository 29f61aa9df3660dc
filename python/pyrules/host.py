# SPDX-License-Identifier: Apache-2.0
"""host.py - what the orchestrator plugins share: where their policies are
configured, and a policy set that reloads itself when its files change.

Settings come from, first match wins:
  1. $<PREFIX>_POLICIES: policy paths (files or folders), separated by ':'
     (os.pathsep), with no other setting;
  2. $<PREFIX>_CONFIG: the path of a settings file;
  3. the host's default settings file (dstack: rules.yml beside dstack's
     server config.yml; SkyPilot: ~/.sky/rules.yaml), if it exists.
Nothing configured is an error: a plugin with no policies would let every
request through.

A settings file is YAML (or JSON), with rulesd's keys where they mean the
same (docs/rulesd.md), and unknown keys are errors:

    policies:                     # rulesd's entries: paths, or {path, priority, params}
      - /etc/rules/policies/
      - path: site/gpu-limits.rules     # relative to this file's folder
        priority: 20
        params: {max_gpus: 4}
    params:                       # for the whole set: NAME or POLICY.NAME
      gpu-limits.intern_max_gpus: 2
    watch:
      enabled: true               # reload when a file changes (default)
      interval_ms: 1000           # how often files are looked at, at most

Reloading: at most every interval, the next request looks at the settings
file, each policy file and each policy folder's listing (names, sizes,
modification times, inodes). When something changed, the set is rebuilt off
to the side and swapped in; requests in flight finish on the set they
started with. A set that fails to load is not swapped in: the error is
logged with every diagnostic and the previous set keeps serving, as rulesd
does -- and so is one in which a file that was a bundle no longer is one,
or a source that held rules holds none (PolicySet.load's previous=: a
truncated or unfinished deployment must not switch enforcement off). The
first load has no previous set: it raises.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Dict, List, Mapping, NamedTuple, Optional

from .errors import RulesError
from .policies import PolicySet, _entries


class SettingsError(RulesError):
    """A plugin's settings are missing or wrong; names the file or variable."""


class Settings(NamedTuple):
    """Where a plugin's policies come from. policies: entries as
    PolicySet.load takes them (paths made absolute); params: whole-set
    overrides; watch, interval: reloading; origin: where the settings were
    read (for messages); file: the settings file, None when they came from
    the environment."""
    policies: List[Any]
    params: Dict[str, Any]
    watch: bool
    interval: float
    origin: str
    file: Optional[str]


_KEYS = {"policies", "params", "watch"}


def _read_settings_file(path: str) -> Settings:
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError as e:
        raise SettingsError("%s: cannot read the settings file: %s" % (path, e.strerror or e)) from None
    try:
        import yaml
    except ImportError:
        import json
        try:
            doc = json.loads(text)
        except ValueError as e:
            raise SettingsError("%s: not JSON (%s), and PyYAML, which reads YAML, is not installed" % (path, e)) \
                from None
    else:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise SettingsError("%s: not valid YAML: %s" % (path, e)) from None
    if not isinstance(doc, Mapping):
        raise SettingsError("%s: expected a mapping with policies (and params, watch), got %s"
                            % (path, type(doc).__name__))
    unknown = sorted(set(map(str, doc)) - _KEYS)
    if unknown:
        raise SettingsError("%s: unknown key%s %s (known: policies, params, watch)"
                            % (path, "s" if len(unknown) > 1 else "", ", ".join(unknown)))
    base = os.path.dirname(os.path.abspath(path))
    policies = doc.get("policies")
    if isinstance(policies, (str, Mapping)):
        policies = [policies]
    if not policies or not isinstance(policies, list):
        raise SettingsError("%s: policies: expected a list of paths (or {path, priority, params}), got %r"
                            % (path, policies))
    resolved = []
    for p in policies:
        if isinstance(p, str):
            resolved.append(os.path.join(base, os.path.expanduser(p)))
        elif isinstance(p, Mapping) and isinstance(p.get("path"), str):
            resolved.append(dict(p, path=os.path.join(base, os.path.expanduser(p["path"]))))
        else:
            raise SettingsError("%s: policies: an entry is a path or {path, priority, params}, not %r" % (path, p))
    try:
        _entries(resolved)
    except TypeError as e:
        raise SettingsError("%s: policies: %s" % (path, e)) from None
    params = doc.get("params") or {}
    if not isinstance(params, Mapping):
        raise SettingsError("%s: params: expected a mapping NAME: value, got %r" % (path, params))
    watch = doc.get("watch") or {}
    if not isinstance(watch, Mapping) or set(map(str, watch)) - {"enabled", "interval_ms"}:
        raise SettingsError("%s: watch: expected {enabled: true|false, interval_ms: N}, got %r" % (path, watch))
    enabled = watch.get("enabled", True)
    interval_ms = watch.get("interval_ms", 1000)
    if not isinstance(enabled, bool):
        raise SettingsError("%s: watch.enabled: expected true or false, got %r" % (path, enabled))
    if isinstance(interval_ms, bool) or not isinstance(interval_ms, int) or interval_ms < 0:
        raise SettingsError("%s: watch.interval_ms: expected a whole number of milliseconds, got %r"
                            % (path, interval_ms))
    return Settings(resolved, {str(k): v for k, v in params.items()}, enabled, interval_ms / 1000.0, path, path)


def settings(prefix: str, default_file: Optional[str], environ: Optional[Mapping[str, str]] = None) -> Settings:
    """The settings of a host whose variables start with prefix (see the
    module's docstring). Raises SettingsError when nothing is configured or
    what is configured is wrong."""
    env = os.environ if environ is None else environ
    paths = env.get(prefix + "_POLICIES")
    if paths:
        entries = [os.path.abspath(os.path.expanduser(p)) for p in paths.split(os.pathsep) if p]
        if not entries:
            raise SettingsError("$%s_POLICIES names no path" % prefix)
        return Settings(entries, {}, True, 1.0, "$%s_POLICIES" % prefix, None)
    file = env.get(prefix + "_CONFIG")
    if file:
        return _read_settings_file(os.path.expanduser(file))
    if default_file and os.path.exists(default_file):
        return _read_settings_file(default_file)
    raise SettingsError(
        "no policies configured: set $%s_POLICIES to policy files or folders, or $%s_CONFIG to a settings "
        "file%s (docs/python.md)" % (prefix, prefix, ", or write " + default_file if default_file else ""))


def _stat(path: str):
    try:
        st = os.stat(path)
    except OSError as e:
        return ("missing", e.errno)
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev)


def _is_policy_name(name: str) -> bool:
    return not name.startswith(".") and (name.endswith(".rules") or name.endswith(".rbc"))


def fingerprint(s: Settings):
    """What a change to the policies changes: the settings file, and each
    policy path (a folder: its policy files, as the folder rule lists them)."""
    parts = [("settings", s.file, _stat(s.file))] if s.file else []
    for e in _entries(s.policies):
        if os.path.isdir(e.path):
            try:
                names = sorted(n for n in os.listdir(e.path) if _is_policy_name(n))
            except OSError as err:
                names = ["<unreadable: %s>" % err.errno]
            parts.append(("dir", e.path, tuple((n, _stat(os.path.join(e.path, n))) for n in names)))
        else:
            parts.append(("file", e.path, _stat(e.path)))
    return tuple(parts)


class WatchedPolicySet:
    """A PolicySet built from Settings and kept current (see the module's
    docstring). current() returns the set to evaluate with; the first load
    happens in the constructor and raises PolicyError, ParameterError or
    SettingsError when it fails.

    reload_settings: a callable returning fresh Settings (re-reading the
    settings file when it changed), or None to keep the first ones."""

    def __init__(self, first: Settings, *, target: str, logger: Optional[logging.Logger] = None,
                 reload_settings=None, clock=time.monotonic):
        self._target = target
        self._log = logger or logging.getLogger("pyrules")
        self._reload_settings = reload_settings
        self._clock = clock
        self._lock = threading.Lock()
        self._settings = first
        self._print = fingerprint(first)
        self._set = self._build(first)
        self._checked = clock()
        self.revision = 1
        self.failures = 0
        self._log.info("pyrules: loaded %d policies from %s (set sha256 %s)", len(self._set.policies),
                       first.origin, self._set.digest)

    def _build(self, s: Settings, previous: Optional[PolicySet] = None) -> PolicySet:
        return PolicySet.load(*s.policies, target=self._target, params=s.params, previous=previous)

    @property
    def settings(self) -> Settings:
        return self._settings

    def current(self) -> PolicySet:
        """The policy set to use now (reloaded first if its files changed
        and the interval has passed)."""
        s = self._settings
        if not s.watch or self._clock() - self._checked < s.interval:
            return self._set
        with self._lock:
            if self._clock() - self._checked >= self._settings.interval:
                self._check()
            return self._set

    def reload(self) -> bool:
        """Reloads now, whatever changed. True when a new set is in use."""
        with self._lock:
            return self._swap(force=True)

    def _check(self):
        self._checked = self._clock()
        self._swap(force=False)

    def _swap(self, force: bool) -> bool:
        s = self._settings
        now = fingerprint(s)
        if not force and now == self._print:
            return False
        try:
            if self._reload_settings is not None:
                s = self._reload_settings()
                now = fingerprint(s)
            new = self._build(s, previous=self._set)
        except (RulesError, OSError) as e:
            self._print = now   # do not retry the same broken files on every request
            self.failures += 1
            self._log.error("pyrules: the policies changed but cannot be loaded; the previous set (revision %d, "
                            "sha256 %s) stays in use:\n%s", self.revision, self._set.digest, e)
            return False
        old, self._set = self._set, new
        self._settings, self._print = s, now
        self.revision += 1
        self._log.info("pyrules: reloaded %d policies from %s (revision %d, set sha256 %s)", len(new.policies),
                       s.origin, self.revision, new.digest)
        # Not closed here: a request that took the old set a moment ago may
        # not have entered it yet. It is freed when the last reference
        # (such a request's) goes.
        del old
        return True
