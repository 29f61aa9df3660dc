# SPDX-License-Identifier: Apache-2.0
"""policies.py - policy sets and decisions: compile and load policies
(sources, bundles, folders), set parameters, evaluate specs.

A PolicySet is a verified, immutable program (the C library's rv_program)
shared by every thread; each thread evaluates with a VM of its own, made on
its first evaluation and kept in a threading.local, because a VM is not
thread-safe and a program is (vm/rulevm.h, OWNERSHIP). ctypes drops the GIL
during each call, so threads decide in parallel. Parameters are fixed by
the first evaluation, as the library requires.

Documents cross the boundary as text: a dict spec is written as JSON (or
YAML, for documents whose keys are not all strings), parsed by the VM,
evaluated, and the decision's spec printed in the same format and read
back. Everything the VM hands out is copied into Python objects before the
VM is reset, so a Decision owns its data.
"""
from __future__ import annotations

import ctypes
import json
import os
import re
import threading
from ctypes import byref, c_char_p, c_size_t, c_void_p
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple, Union

from . import _native as N
from .errors import (Diagnostic, EvaluationError, KindError, ParameterError, PolicyError, RulesError,
                     SpecError)
from .scrub import MARKER, Scrubber

PathLike = Union[str, "os.PathLike[str]"]


class _Missing:
    """The value of a path that did not exist (distinct from None, which is
    a JSON null). There is one: pyrules.MISSING."""
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self):
        return "MISSING"

    def __bool__(self):
        return False

    def __reduce__(self):
        return (_Missing, ())


MISSING = _Missing()


class Message(NamedTuple):
    """A forbid (a rejection reason) or a warn that fired.

    text: the message, whole (what the requester sees); policy, line: the
    statement that fired it; redacted: text with the parts the compiler
    marked as coming from a secret replaced by "[REDACTED]" (what may be
    logged)."""
    text: str
    policy: str
    line: int
    redacted: str

    @property
    def where(self) -> str:
        """"policy:line"."""
        return "%s:%d" % (self.policy, self.line)


class Change(NamedTuple):
    """One write a policy made to the spec.

    path: the dotted path written (configuration.tags.team); old, new: the
    values before and after, as Python values, MISSING where the path did
    not exist (old) or was removed (new); policy, line: the statement;
    secret: True when the compiler marked the write as touching a secret:
    log neither value. old_json, new_json: the values as the VM prints
    them (compact JSON), None where MISSING."""
    path: str
    old: Any
    new: Any
    policy: str
    line: int
    secret: bool
    old_json: Optional[str] = None
    new_json: Optional[str] = None

    @property
    def where(self) -> str:
        """"policy:line"."""
        return "%s:%d" % (self.policy, self.line)


class PolicyInfo(NamedTuple):
    """One policy of a loaded set, in run order.

    kinds: the kinds its `on` blocks name; () means every kind (`on *`).
    params: each parameter's current value. sha256: its own digest (of its
    section of the set's bundle); checksum: its CRC-32. target: whose
    requests it judges ("dstack", "skypilot", or "any": every one)."""
    name: str
    source: str
    priority: int
    kinds: Tuple[str, ...]
    params: Dict[str, Any]
    sha256: str
    checksum: int
    instructions: int
    target: str = "dstack"


class Limits(NamedTuple):
    """Limits of evaluation; 0 means the library's default.

    instruction_budget: instructions per decision, all policies (10 million);
    regex_match_limit, regex_depth_limit: PCRE2's limits (1,000,000 and
    10,000); max_nesting: how deep a spec may nest (512)."""
    instruction_budget: int = 0
    regex_match_limit: int = 0
    regex_depth_limit: int = 0
    max_nesting: int = 0


class Decision:
    """What the policies decided about one spec.

    allowed: bool. spec: the rewritten spec when allowed, the spec exactly
    as given when rejected (a dict, or whatever the text held); text: the
    same as text in format ("json" or "yaml": the input's). messages: the
    rejection reasons (every forbid that fired, in run order), [] when
    allowed; warnings: the warns that fired; changes: the writes, in order
    (when rejected: the writes that were made and then undone). error: the
    messages joined with "; " (dstack's one string), None when allowed.
    digest: the SHA-256 of the policy set that decided (hex);
    instructions: how many the VM executed; kind, user, project: the
    request. For logs: scrub(text) hides the spec's secret values in any
    text, explain() gives the changes as `rulec apply --explain` prints
    them (secrets hidden), and Message.redacted hides what the compiler
    marked."""

    __slots__ = ("allowed", "text", "format", "messages", "warnings", "changes", "digest", "instructions",
                 "kind", "user", "project", "_spec", "_parsed", "_scrub")

    def __init__(self, allowed, text, fmt, messages, warnings, changes, digest, instructions, kind, user,
                 project, spec=None, parsed=False, scrubber=None):
        self.allowed = allowed
        self.text = text
        self.format = fmt
        self.messages = messages
        self.warnings = warnings
        self.changes = changes
        self.digest = digest
        self.instructions = instructions
        self.kind = kind
        self.user = user
        self.project = project
        self._spec = spec
        self._parsed = parsed
        self._scrub = scrubber or Scrubber()

    def scrub(self, text: str) -> str:
        """text with every secret value of the spec (as it came in: the
        values at the target's secret paths, or under a credential-like
        key) replaced by "[REDACTED]" (pyrules.scrub has the rule)."""
        return self._scrub(text)

    def explain(self) -> List[str]:
        """The changes as `rulec apply --explain` prints them, for a log:
        `path: old -> new  (policy:line)`, "(missing)" and "(removed)"
        where there is no value, "[REDACTED]" for both values of a change
        marked secret and for any value (or part of a path) holding a
        secret of the spec; "no changes", or first a line saying that a
        rejection undid them."""
        if not self.changes:
            return ["no changes"]
        lines = [] if self.allowed else \
            ["(rejected: the spec is returned unchanged; these changes were made, then undone)"]
        for c in self.changes:
            def show(text, gone):
                if text is None:
                    return gone
                return MARKER if c.secret or self._scrub.found(text) else text
            lines.append("%s: %s -> %s  (%s)" % (self._scrub(c.path), show(c.old_json, "(missing)"),
                                                 show(c.new_json, "(removed)"), c.where))
        return lines

    @property
    def spec(self):
        """The decided spec as Python values (read from text on first use;
        a YAML spec needs PyYAML)."""
        if not self._parsed:
            self._spec = _read_text(self.text, self.format)
            self._parsed = True
        return self._spec

    @property
    def error(self) -> Optional[str]:
        return None if self.allowed else "; ".join(m.text for m in self.messages)

    def __repr__(self):
        return "<Decision %s kind=%r messages=%d warnings=%d changes=%d>" % (
            "allowed" if self.allowed else "rejected", self.kind, len(self.messages), len(self.warnings),
            len(self.changes))


# ---- documents ----

def _read_text(text: str, fmt: str):
    if fmt == "json":
        return json.loads(text)
    yaml = _yaml()
    return yaml.safe_load(text)


def _yaml():
    try:
        import yaml
    except ImportError:
        raise RulesError("YAML documents need PyYAML (Debian: python3-yaml; pip: PyYAML)") from None
    return yaml


def _format_of_text(data: bytes) -> str:
    """What RV_AUTO picks: JSON when the first non-blank byte is { or [."""
    stripped = data.lstrip(b" \t\r\n")
    return "json" if stripped[:1] in (b"{", b"[") else "yaml"


def _write_doc(value, fmt: str, what: str, name: str) -> bytes:
    """A Python value as JSON or YAML text for the VM."""
    try:
        if fmt == "json":
            text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        else:
            yaml = _yaml()
            text = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=False)
        return text.encode("utf-8")
    except (TypeError, ValueError, UnicodeError) as e:
        raise SpecError("%s cannot be written as %s: %s" % (what, fmt.upper(), e), file=name) from None
    except Exception as e:  # PyYAML's RepresenterError and kin
        if type(e).__module__.startswith("yaml"):
            raise SpecError("%s cannot be written as YAML: %s" % (what, e), file=name) from None
        raise


def _c_string(value, what: str) -> Optional[bytes]:
    """A str as a NUL-terminated C string; a NUL inside would cut it short."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("%s must be a str, not %s" % (what, type(value).__name__))
    if "\0" in value:
        raise SpecError("%s holds a NUL byte" % what, file="<request>")
    return value.encode("utf-8")


_REQUEST_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


# ---- diagnostics ----

_SEVERITY = {N.RC_ERROR: "error", N.RC_WARNING: "warning", N.RC_NOTE: "note"}


def _diagnostics(L, report) -> List[Diagnostic]:
    n = c_size_t()
    recs = L.rc_report_diagnostics(report, byref(n))
    out = []
    for i in range(n.value):
        r = recs[i]
        out.append(Diagnostic(_SEVERITY.get(r.severity, "error"), N.text(r.file), r.span.first_line,
                              r.span.first_column, r.span.last_line, r.span.last_column, N.text(r.message)))
    return out


def _policy_error(L, report, unread=None) -> PolicyError:
    """The report as an exception. unread: the first path that could not
    be read, for a report whose first error names no file (the record of an
    unreadable file, a missing folder, says it in its message)."""
    text = N.text(L.rc_report_text(report, b"pyrules", None)) or "the policies cannot be loaded"
    e = PolicyError(text.rstrip("\n"), _diagnostics(L, report))
    if e.file is None and unread is not None:
        e.file = unread
    return e


# ---- one VM per thread ----

class _VM:
    """An rv_vm, freed with this object (a thread's, kept in a threading.local)."""

    __slots__ = ("handle", "__weakref__")

    def __init__(self, cfg):
        L = N.lib()
        h = c_void_p()
        st = L.rv_vm_new(byref(cfg) if cfg is not None else None, byref(h))
        if st != N.RV_OK:
            raise MemoryError("rv_vm_new: %s" % N.status_name(st))
        self.handle = h

    def __del__(self):
        try:
            if self.handle:
                N.lib().rv_vm_free(self.handle)
                self.handle = None
        except Exception:  # interpreter shutdown: the module may be gone
            pass


def _print(L, vm, doc, fmt_code) -> str:
    out = c_void_p()
    size = c_size_t()
    err = N.rv_error()
    st = L.rv_vm_print(vm, doc, fmt_code, 0, byref(out), byref(size), byref(err))
    if st != N.RV_OK:
        raise SpecError("the decided spec cannot be printed: %s" % N.text(err.message), status=N.status_name(st))
    return ctypes.string_at(out, size.value).decode("utf-8", "surrogateescape")


def _value(L, vm, doc):
    """A document node as (Python value, the VM's compact JSON of it);
    (MISSING, None) for no node."""
    if not doc:
        return MISSING, None
    text = _print(L, vm, doc, N.RV_JSON)
    return json.loads(text), text


def _secrets(L, target: bytes, kind: bytes, doc) -> Scrubber:
    """The spec's secret values (rc_secret_values), before evaluation
    rewrites it."""
    found = []

    def told(_ud, text, size):
        found.append(ctypes.string_at(text, size))

    L.rc_secret_values(target, kind, doc, N.SECRET_FN(told), None)
    return Scrubber(found)


def _messages(arr, n) -> List[Message]:
    out = []
    for i in range(n):
        m = arr[i]
        out.append(Message(N.text(m.text), N.text(m.policy), m.line, N.text(m.redacted)))
    return out


# ---- the policy set ----

class _Entry(NamedTuple):
    path: str
    priority: Optional[int]
    params: Mapping[str, Any]


def _entries(policies) -> List[_Entry]:
    out = []
    for p in policies:
        if isinstance(p, (list, tuple)):
            out.extend(_entries(p))
        elif isinstance(p, Mapping):
            unknown = set(p) - {"path", "priority", "params"}
            if "path" not in p or unknown:
                raise TypeError("a policy entry is a path, or a mapping with path (and priority, params); got %r"
                                % (dict(p),))
            prio = p.get("priority")
            if prio is not None and (isinstance(prio, bool) or not isinstance(prio, int)):
                raise TypeError("priority of %s must be an int, not %r" % (p["path"], prio))
            out.append(_Entry(os.fspath(p["path"]), prio, dict(p.get("params") or {})))
        elif isinstance(p, (str, os.PathLike)):
            out.append(_Entry(os.fspath(p), None, {}))
        else:
            raise TypeError("a policy is a path (a file or a folder) or a mapping, not %s" % type(p).__name__)
    return out


def _config(limits: Optional[Limits]):
    if limits is None:
        return None
    cfg = N.rv_config()
    N.lib().rv_config_init(byref(cfg))
    for field in Limits._fields:
        v = getattr(limits, field)
        if v:
            setattr(cfg, field, v)
    return cfg


def _truncated(name, message) -> PolicyError:
    d = Diagnostic("error", name, 0, 0, 0, 0, message)
    return PolicyError(str(d), [d])


def _check_bundles_kept(inputs, n, previous: "PolicySet"):
    for i in range(n):
        name = N.text(inputs[i].name, "surrogateescape")
        if previous._forms.get(name) != N.RC_FORM_BUNDLE:
            continue
        data = ctypes.string_at(inputs[i].data, min(inputs[i].size, 4)) if inputs[i].size else b""
        if data == N.BUNDLE_MAGIC:
            continue
        if inputs[i].size == 0:
            raise _truncated(name, "was a compiled bundle and is now empty (a truncated or unfinished "
                                   "deployment?): not loaded")
        raise _truncated(name, "was a compiled bundle and is no longer one (its %d bytes do not start with the "
                               "bundle magic): not loaded; compile it again, or give the source a .rules name"
                         % inputs[i].size)


def _check_rules_kept(made: "PolicySet", previous: "PolicySet"):
    for name, form in made._forms.items():
        if previous._forms.get(name) == N.RC_FORM_SOURCE and form == N.RC_FORM_NO_RULES:
            raise _truncated(name, "held rules and now holds none (a truncated or unfinished deployment?): not "
                                   "loaded; to retire a policy, remove its file")


class PolicySet:
    """A loaded, verified policy set. Make one with PolicySet.load (files
    and folders), PolicySet.from_sources (text or bundles in memory) or
    PolicySet.from_bundle; evaluate specs with evaluate(). Use it from any
    number of threads. close() frees it (or leave it to the garbage
    collector); it is also a context manager.

    target: the target of policies whose header names none ("dstack" by
    default; "skypilot"; "any"), which also decides the kinds evaluate()
    accepts. diagnostics: the warnings loading gave (errors raise).
    """

    def __init__(self, *_args, **_kw):
        raise TypeError("use PolicySet.load(), PolicySet.from_sources() or PolicySet.from_bundle()")

    # -- making --

    @classmethod
    def load(cls, *policies, target: Optional[str] = None, params: Optional[Mapping[str, Any]] = None,
             limits: Optional[Limits] = None, previous: Optional["PolicySet"] = None) -> "PolicySet":
        """Loads policies from files and folders, as rulec and rulesd do.

        Each of policies is a path -- a .rules source, a .rbc bundle (told
        apart by content, not name), or a folder of them (its *.rules and
        *.rbc files not starting with '.', sorted, not recursive) -- or a
        mapping like an entry of rulesd's `policies:` list:
        {"path": ..., "priority": N (sources only), "params": {NAME: value}}
        whose params go to the policies of that entry that declare them.

        params: overrides for the whole set, {"NAME": value} (every policy
        declaring NAME) or {"POLICY.NAME": value}. A str value is written as
        in a policy ("1h", "24GB", "ml"; '"42"' for the string 42); any
        other value (int, float, bool, None, list, dict) is taken as it is.
        Either way it must have the type of the parameter's default.

        previous: the set this one is to replace (a host reloading changed
        files), for rulesd's two checks against a truncated or unfinished
        deployment: a file that was a bundle must still be one (read by
        content, a cut one could load as a source that does nothing), and a
        source that held rules must still hold some (an empty or
        comment-only source is a policy that allows everything).

        Raises PolicyError (with every diagnostic: file, line, column) when
        a file cannot be read, the policies do not compile, load or verify,
        or previous's checks fail; ParameterError for a refused override.
        """
        entries = _entries(policies)
        if not entries:
            raise TypeError("PolicySet.load() needs at least one policy path")
        L = N.lib()
        report = L.rc_report_new()
        if not report:
            raise MemoryError("rc_report_new")
        try:
            unread = None
            for tag, e in enumerate(entries):
                if not L.rc_read_input(report, os.fsencode(e.path), tag, 0, None, None) and unread is None:
                    unread = e.path
            n = c_size_t()
            inputs = L.rc_report_inputs(report, byref(n))
            if unread is not None:
                raise _policy_error(L, report, unread)
            for i in range(n.value):
                prio = entries[inputs[i].tag].priority
                if prio is not None:
                    inputs[i].has_priority = 1
                    inputs[i].priority = prio
            if previous is not None:
                _check_bundles_kept(inputs, n.value, previous)
            made = cls._made(L, report, inputs, n.value, target, limits, entries, params)
            if previous is not None:
                try:
                    _check_rules_kept(made, previous)
                except BaseException:
                    made._free()
                    raise
            return made
        finally:
            L.rc_report_free(report)

    @classmethod
    def from_sources(cls, sources: Union[Mapping[str, Union[str, bytes]], Iterable[Tuple[str, Union[str, bytes]]]],
                     *, target: Optional[str] = None, params: Optional[Mapping[str, Any]] = None,
                     limits: Optional[Limits] = None) -> "PolicySet":
        """Loads policies held in memory: {name: text} (or (name, text)
        pairs), where text is a .rules source (str or bytes) or a bundle
        (bytes, as `rulec compile` or bundle() writes). name is what
        diagnostics and the policy's `source` say. params and limits as for
        load(). Raises PolicyError, ParameterError."""
        items = list(sources.items()) if isinstance(sources, Mapping) else list(sources)
        if not items:
            raise TypeError("PolicySet.from_sources() needs at least one source")
        L = N.lib()
        bufs = []
        arr = (N.rc_input * len(items))()
        for i, (name, data) in enumerate(items):
            if isinstance(data, str):
                data = data.encode("utf-8")
            if not isinstance(data, (bytes, bytearray)):
                raise TypeError("source %r must be str or bytes, not %s" % (name, type(data).__name__))
            buf = ctypes.create_string_buffer(bytes(data), len(data))
            bname = os.fsencode(name)
            bufs.append((buf, bname))
            arr[i].name = bname
            arr[i].data = ctypes.cast(buf, c_void_p)
            arr[i].size = len(data)
            arr[i].tag = i
        report = L.rc_report_new()
        if not report:
            raise MemoryError("rc_report_new")
        try:
            entries = [_Entry(name, None, {}) for name, _ in items]
            return cls._made(L, report, arr, len(items), target, limits, entries, params)
        finally:
            L.rc_report_free(report)

    @classmethod
    def from_bundle(cls, data: bytes, name: str = "bundle.rbc", **kw) -> "PolicySet":
        """Loads one bundle held in memory (see from_sources)."""
        return cls.from_sources({name: bytes(data)}, **kw)

    @classmethod
    def _made(cls, L, report, inputs, n, target, limits, entries, params) -> "PolicySet":
        cfg = _config(limits)
        opts = N.rc_options(ctypes.pointer(cfg) if cfg is not None else None, 0,
                            target.encode("utf-8") if target else None)
        prog = c_void_p()
        result = L.rc_load(report, inputs, n, byref(opts), byref(prog))
        if result != N.RC_OK or not prog:
            raise _policy_error(L, report)
        self = object.__new__(cls)
        self._prog = prog
        self._target = target or "dstack"
        self._cfg = cfg
        self._lock = threading.Lock()
        self._local = threading.local()
        self._busy = 0
        self._closed = False
        self._frozen = False
        self._digest = None
        self._kinds_ok = {}
        self.diagnostics = _diagnostics(L, report)
        # What each input was (a bundle, a source with rules, one with none),
        # for the next load's checks (previous=).
        self._forms = {N.text(inputs[k].name, "surrogateescape"): L.rc_report_input_form(report, k)
                       for k in range(n)}
        try:
            self._entry_params(L, report, entries)
            for key, value in (params or {}).items():
                policy, _, name = key.rpartition(".")
                self._set(L, policy or None, name, value)
        except BaseException:
            self._free()
            raise
        return self

    def _entry_params(self, L, report, entries):
        count = L.rv_program_policy_count(self._prog)
        for tag, e in enumerate(entries):
            for name, value in e.params.items():
                done = False
                names = []
                for i in range(count):
                    if L.rc_report_policy_tag(report, i) != tag:
                        continue
                    info = N.rv_policy_info()
                    L.rv_program_policy(self._prog, i, byref(info))
                    names.append("'%s'" % N.text(info.name))
                    if L.rv_program_declares(self._prog, i, name.encode("utf-8")):
                        self._set(L, N.text(info.name), name, value)
                        done = True
                if not done:
                    raise ParameterError("no policy in '%s' (%s) declares a parameter '%s'"
                                         % (e.path, ", ".join(names) or "none", name), param=name)

    # -- parameters --

    def _set(self, L, policy, name, value):
        err = N.rv_error()
        bpolicy = policy.encode("utf-8") if policy else None
        if not isinstance(name, str) or not name:
            raise ParameterError("a parameter name must be a non-empty str, not %r" % (name,), policy, name)
        if isinstance(value, str):
            st = L.rc_set_param(self._prog, bpolicy, name.encode("utf-8"), value.encode("utf-8"), byref(err))
        else:
            try:
                text = json.dumps(value, allow_nan=False, ensure_ascii=False)
            except (TypeError, ValueError) as e:
                raise ParameterError("parameter '%s%s': %s" % (policy + "." if policy else "", name, e),
                                     policy, name) from None
            st = L.rv_program_set_param(self._prog, bpolicy, name.encode("utf-8"), text.encode("utf-8"),
                                        byref(err))
        if st != N.RV_OK:
            raise ParameterError(N.text(err.message), policy, name, err.line, err.column, N.status_name(st))

    def set_param(self, name: str, value: Any, policy: Optional[str] = None) -> None:
        """Overrides a parameter: name is "NAME" or "POLICY.NAME" (or give
        policy). value as for load()'s params. Only before the set's first
        evaluation (parameters are then fixed); raises ParameterError."""
        if policy is None and "." in name:
            policy, _, name = name.rpartition(".")
        with self._lock:
            if self._closed:
                raise RulesError("the policy set is closed")
            if self._frozen:
                raise ParameterError("parameters are fixed once the set has evaluated a spec: set them "
                                     "when loading (params=...) or before the first evaluate()", policy, name)
            self._set(N.lib(), policy, name, value)

    # -- using --

    def _enter(self, freeze):
        with self._lock:
            if self._closed:
                raise RulesError("the policy set is closed")
            self._busy += 1
            if freeze and not self._frozen:
                self._frozen = True
                self._digest = N.text(N.lib().rv_program_digest(self._prog))

    def _leave(self):
        with self._lock:
            self._busy -= 1
            if self._closed and self._busy == 0:
                self._free()

    def _vm(self):
        vm = getattr(self._local, "vm", None)
        if vm is None:
            vm = _VM(self._cfg)
            self._local.vm = vm
        return vm.handle

    def _free(self):
        prog, self._prog = self._prog, None
        if prog:
            N.lib().rv_program_free(prog)

    def close(self) -> None:
        """Frees the program once evaluations in flight are done; the set
        cannot be used after. Closing twice is harmless."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._busy == 0:
                self._free()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            if getattr(self, "_prog", None):
                self._free()
        except Exception:
            pass

    @property
    def target(self) -> str:
        return self._target

    @property
    def digest(self) -> str:
        """The set's SHA-256 (64 hex digits): of the bundle bundle() writes
        now, so of the file `rulec compile` writes for the same inputs and
        parameters."""
        if self._digest is not None:
            return self._digest
        self._enter(False)
        try:
            return N.text(N.lib().rv_program_digest(self._prog))
        finally:
            self._leave()

    @property
    def policies(self) -> List[PolicyInfo]:
        """Every policy that runs, in run order (ascending priority)."""
        L = N.lib()
        self._enter(False)
        try:
            out = []
            for i in range(L.rv_program_policy_count(self._prog)):
                info = N.rv_policy_info()
                L.rv_program_policy(self._prog, i, byref(info))
                params = {}
                for j in range(info.nparams):
                    name, value = c_char_p(), c_char_p()
                    L.rv_program_param(self._prog, i, j, byref(name), byref(value))
                    params[N.text(name.value)] = json.loads(N.text(value.value))
                out.append(PolicyInfo(N.text(info.name), N.text(info.source), info.priority,
                                      tuple(N.text(info.kinds[k]) for k in range(info.nkinds)), params,
                                      N.text(L.rv_program_policy_digest(self._prog, i)), info.checksum,
                                      info.ninstructions, N.text(info.target)))
            return out
        finally:
            self._leave()

    def bundle(self) -> bytes:
        """The whole set (with its current parameter values) as one bundle,
        the bytes `rulec compile` writes; from_bundle() loads it back."""
        L = N.lib()
        self._enter(False)
        try:
            out, size, err = c_void_p(), c_size_t(), N.rv_error()
            st = L.rv_program_save(self._prog, self._vm(), byref(out), byref(size), byref(err))
            if st != N.RV_OK:
                raise RulesError(N.text(err.message), N.status_name(st))
            return ctypes.string_at(out, size.value)
        finally:
            self._leave()

    def disasm(self) -> str:
        """The readable listing `rulec disasm` prints."""
        L = N.lib()
        self._enter(False)
        try:
            out, size, err = c_void_p(), c_size_t(), N.rv_error()
            st = L.rv_program_disasm(self._prog, self._vm(), byref(out), byref(size), byref(err))
            if st != N.RV_OK:
                raise RulesError(N.text(err.message), N.status_name(st))
            return ctypes.string_at(out, size.value).decode("utf-8", "replace")
        finally:
            self._leave()

    def check_kind(self, kind: str) -> None:
        """Raises KindError unless kind is one of the target's kinds. For
        the skypilot target a request name it does not list (a newer
        SkyPilot's) is taken, as rulesd takes it, when shaped like one: the
        `on *` blocks judge it."""
        if self._kinds_ok.get(kind):
            return
        if not isinstance(kind, str) or not kind or "\0" in kind:
            raise KindError("a kind must be a non-empty str without NUL bytes, not %r" % (kind,), kind,
                            self._target)
        why = ctypes.create_string_buffer(400)
        ok = N.lib().rc_target_has_kind(self._target.encode("utf-8"), kind.encode("utf-8"), why, len(why))
        if not ok and not (self._target == "skypilot" and _REQUEST_NAME.match(kind)):
            raise KindError(N.text(why.value), kind, self._target)
        self._kinds_ok[kind] = True

    def evaluate(self, spec: Union[Mapping, str, bytes], kind: str, user: Optional[str] = None,
                 project: Optional[str] = None, request: Optional[Mapping] = None, *,
                 format: Optional[str] = None, name: str = "<spec>") -> Decision:
        """Evaluates every policy that applies to kind on spec, in run order.

        spec: a dict (written as JSON, or as YAML with format="yaml": YAML
        keeps keys that are not strings, such as SkyPilot's `image_id:
        {null: ...}`), or JSON/YAML text (str or bytes; format "json",
        "yaml" or None: JSON when it starts with { or [). kind: "run",
        "fleet", ... for dstack, a request name for SkyPilot ($kind). user,
        project: $user and $project (None reads as ""). request: the
        $request map, a dict (SkyPilot: name, at_client_side, options,
        client_api_version, client_version, user), or None (null).
        name: what a SpecError calls the spec.

        Returns a Decision whose spec is in the input's format. Raises
        KindError for a kind the target does not have, SpecError when spec
        or request cannot be read (with line and column), EvaluationError
        when no decision can be made (a limit, a type error in a policy:
        fail closed), RulesError when the set is closed.
        """
        self.check_kind(kind)
        if format not in (None, "json", "yaml"):
            raise ValueError("format must be 'json', 'yaml' or None, not %r" % (format,))
        if isinstance(spec, (str, bytes, bytearray)):
            data = spec.encode("utf-8") if isinstance(spec, str) else bytes(spec)
            fmt = format or _format_of_text(data)
        elif isinstance(spec, Mapping):
            fmt = format or "json"
            data = _write_doc(spec, fmt, "the spec", name)
        else:
            raise TypeError("spec must be a dict or JSON/YAML text, not %s" % type(spec).__name__)
        req_data = _write_doc(request, "json", "the request", "<request>") if request is not None else None
        ckind = _c_string(kind, "kind")
        cuser = _c_string(user, "user")
        cproject = _c_string(project, "project")

        L = N.lib()
        self._enter(True)
        try:
            vm = self._vm()
            try:
                doc = c_void_p()
                err = N.rv_error()
                fmt_code = N.RV_JSON if fmt == "json" else N.RV_YAML
                st = L.rv_vm_parse(vm, data, len(data), fmt_code, byref(doc), byref(err))
                if st != N.RV_OK:
                    raise SpecError(N.text(err.message), name, err.line, err.column, N.status_name(st))
                req_doc = c_void_p()
                if req_data is not None:
                    st = L.rv_vm_parse(vm, req_data, len(req_data), N.RV_JSON, byref(req_doc), byref(err))
                    if st != N.RV_OK:
                        raise SpecError(N.text(err.message), "<request>", err.line, err.column,
                                        N.status_name(st))
                scrubber = _secrets(L, self._target.encode("utf-8"), ckind, doc)
                # Only the request's target's policies (and target "any"'s)
                # judge it: a set may hold another target's `on *`. For a
                # set loaded as "any", the target that has the kind.
                ctarget = L.rc_request_target(self._target.encode("utf-8"), ckind)
                req = N.rv_request(ckind, cuser, cproject, req_doc, ctarget)
                d = N.rv_decision()
                st = L.rv_vm_eval(vm, self._prog, byref(req), doc, byref(d), byref(err))
                if st != N.RV_OK:
                    message = N.text(err.message)
                    if st == N.RV_EINPUT:
                        # The spec is not an object: the caller's input, not the policies.
                        raise SpecError(message, name, status=N.status_name(st))
                    raise EvaluationError(message, N.text(L.rv_vm_redacted_error(vm)), N.status_name(st))
                changes = []
                for i in range(d.nchanges):
                    c = d.changes[i]
                    old, old_json = _value(L, vm, c.old_value)
                    new, new_json = _value(L, vm, c.new_value)
                    changes.append(Change(N.text(c.path), old, new, N.text(c.policy), c.line, bool(c.secret),
                                          old_json, new_json))
                messages = _messages(d.errors, d.nerrors)
                warnings = _messages(d.warnings, d.nwarnings)
                allowed = bool(d.allowed)
                text = _print(L, vm, d.spec, fmt_code)
                return Decision(allowed, text, fmt, messages, warnings, changes, self._digest, d.instructions,
                                kind, user, project, scrubber=scrubber)
            finally:
                L.rv_vm_reset(vm)
        finally:
            self._leave()

    def __repr__(self):
        state = "closed" if self._closed else "%d policies" % len(self.policies)
        return "<PolicySet target=%s %s>" % (self._target, state)


def check(*policies, target: Optional[str] = None) -> List[Diagnostic]:
    """Every diagnostic of the policies (errors included; a file that
    cannot be read is an error record too), as `rulec check` reports them,
    without raising: [] when they are clean."""
    try:
        ps = PolicySet.load(*policies, target=target)
    except PolicyError as e:
        return e.diagnostics
    try:
        return ps.diagnostics
    finally:
        ps.close()


def compile(*policies, target: Optional[str] = None, params: Optional[Mapping[str, Any]] = None) -> bytes:
    """Compiles policies (as for PolicySet.load) into one verified bundle:
    the bytes `rulec compile` writes. Raises PolicyError, ParameterError."""
    with PolicySet.load(*policies, target=target, params=params) as ps:
        return ps.bundle()
