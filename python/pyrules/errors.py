# SPDX-License-Identifier: Apache-2.0
"""errors.py - the exceptions of pyrules, and diagnostics as records.

Every failure is an exception that says what went wrong and where: a policy
that does not compile carries its diagnostics (file, line, column, message),
a spec that does not parse its line and column, an evaluation that hit a
limit the policy and line. Nothing fails open: a host that cannot get a
decision gets an exception, never an allowed spec.

    RulesError                     the base of them all
      LibraryNotFound (OSError)    librulec cannot be loaded
      PolicyError                  policies do not compile, load or verify
      ParameterError               a parameter override is refused
      KindError                    a kind the policies' target does not have
      SpecError                    a spec (or $request) is not valid JSON/YAML
      EvaluationError              no decision: a limit was hit, or an
                                   operator met values it is not defined for
"""
from __future__ import annotations

from typing import List, NamedTuple, Optional


class Diagnostic(NamedTuple):
    """One record of the compiler's report, as `rulec check` prints it.

    severity: "error", "warning" or "note" (a note belongs to the record
    before it); file: the policy file (or the name a source was given), None
    when the record is tied to no file; line, column: 1-based start, 0 when
    tied to no place; end_line, end_column: the end (end_column one past the
    last character); message: the text, without the position.
    """
    severity: str
    file: Optional[str]
    line: int
    column: int
    end_line: int
    end_column: int
    message: str

    def __str__(self):
        where = self.file or "pyrules"
        if self.file and self.line:
            where = "%s:%d:%d" % (self.file, self.line, self.column)
        return "%s: %s: %s" % (where, self.severity, self.message)


class RulesError(Exception):
    """Base class of every pyrules error. `message` is the text; `status` the
    library's status name (RV_EPARSE, ...) when the library said it."""

    def __init__(self, message: str, status: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.status = status


class LibraryNotFound(RulesError, OSError):
    """librulec (librulec.so.0) cannot be found or loaded; the message lists
    every place tried and how to fix it."""


class PolicyError(RulesError):
    """The policies cannot be used: a source has errors, a file cannot be
    read, a bundle is corrupt or fails verification, two policies clash.

    diagnostics: every record of the report (errors, warnings, notes), in
    order; errors: only the errors. file, line, column: where the first
    error is (None/0 when it is tied to no place). str(e) is the whole report
    as `rulec check` prints it, source lines and carets included.
    """

    def __init__(self, message: str, diagnostics: List[Diagnostic]):
        super().__init__(message)
        self.diagnostics = list(diagnostics)
        self.errors = [d for d in self.diagnostics if d.severity == "error"]
        first = self.errors[0] if self.errors else None
        self.file = first.file if first else None
        self.line = first.line if first else 0
        self.column = first.column if first else 0


class ParameterError(RulesError):
    """A parameter override names no declared parameter, has the wrong type
    for its default, or comes after the set has evaluated a spec. policy and
    param name it; line and column are positions inside the value's text
    when the library knows them."""

    def __init__(self, message, policy=None, param=None, line=0, column=0, status=None):
        super().__init__(message, status)
        self.policy = policy
        self.param = param
        self.line = line
        self.column = column


class KindError(RulesError):
    """The kind of a request is not one of the target's kinds (a misspelt
    kind would match no policy and pass unjudged, so it is refused)."""

    def __init__(self, message, kind=None, target=None):
        super().__init__(message)
        self.kind = kind
        self.target = target


class SpecError(RulesError):
    """A spec, or a $request document, cannot be read: not valid JSON/YAML,
    nested too deep, not an object, not representable. file names it (the
    name given to evaluate, "<spec>" by default); line and column are
    1-based positions in its text when known, 0 otherwise."""

    def __init__(self, message, file="<spec>", line=0, column=0, status=None):
        super().__init__(message, status)
        self.file = file
        self.line = line
        self.column = column

    def __str__(self):
        if self.line:
            return "%s:%d:%d: %s" % (self.file, self.line, self.column, self.message)
        return "%s: %s" % (self.file, self.message)


class EvaluationError(RulesError):
    """No decision could be made: the instruction budget or a regex limit was
    hit (status RV_ELIMIT), or an operator or function met values it is not
    defined for (RV_EEVAL; the message names the policy, line and operands).
    A host must fail closed. redacted is the message as it may be logged
    (operands described by type only, never a secret's value)."""

    def __init__(self, message, redacted=None, status=None):
        super().__init__(message, status)
        self.redacted = redacted if redacted is not None else message
