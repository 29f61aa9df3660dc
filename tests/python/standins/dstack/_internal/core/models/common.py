# SPDX-License-Identifier: Apache-2.0
"""Stand-in of dstack's model base (pydantic v2 models in dstack): the
methods plugins use -- model_validate, model_dump with nested exclude,
attribute access and assignment -- over the JSON the real models dump.

A model keeps every member it is given, in order (the real models declare
all of dstack's fields; here only those the tests and the compatibility
exclusions need are declared, with their defaults, and others pass
through). Declared members missing from the input get their defaults, as
pydantic fills them.
"""
import copy

_MISSING = object()


class ValidationError(ValueError):
    """pydantic's ValidationError is a ValueError too."""


def _validate(spec, value):
    """value converted by a field's type spec: a model class, ("list", T),
    ("union", discriminator, {value: class}), or None (as it is)."""
    if spec is None or value is None:
        return copy.deepcopy(value)
    if isinstance(spec, tuple) and spec[0] == "list":
        if not isinstance(value, list):
            return copy.deepcopy(value)   # a field that also takes other forms (replicas: a range)
        return [_validate(spec[1], v) for v in value]
    if isinstance(spec, tuple) and spec[0] == "union":
        _, key, classes = spec
        if not isinstance(value, dict) or value.get(key) not in classes:
            raise ValidationError("expected one of %s by %r, got %r" % (sorted(classes), key, value))
        return classes[value[key]].model_validate(value)
    return spec.model_validate(value)


def _dump(value, mode, exclude):
    if isinstance(value, CoreModel):
        return value.model_dump(mode=mode, exclude=exclude)
    if isinstance(value, list):
        out = []
        for i, v in enumerate(value):
            sub = None
            if isinstance(exclude, dict):
                sub = exclude.get(i, exclude.get("__all__"))
                if sub is True:
                    continue
            elif isinstance(exclude, set) and i in exclude:
                continue
            out.append(_dump(v, mode, sub))
        return out
    if isinstance(value, dict):
        return {k: _dump(v, mode, None) for k, v in value.items()}
    return copy.deepcopy(value)


class CoreModel:
    #: name -> default of the declared fields (filled when missing)
    _defaults = {}
    #: name -> type spec of nested fields (see _validate)
    _types = {}

    def __init__(self, **data):
        values = {}
        for k, v in data.items():
            values[k] = _validate(self._types.get(k), v)
        for k, d in self._defaults.items():
            if k not in values:
                values[k] = copy.deepcopy(d)
        object.__setattr__(self, "_values", values)

    @classmethod
    def model_validate(cls, obj):
        if isinstance(obj, cls):
            return obj
        if not isinstance(obj, dict):
            raise ValidationError("%s: expected a mapping, got %s" % (cls.__name__, type(obj).__name__))
        return cls(**obj)

    def model_dump(self, *, mode="python", exclude=None):
        out = {}
        for k, v in self._values.items():
            sub = None
            if isinstance(exclude, set):
                if k in exclude:
                    continue
            elif isinstance(exclude, dict) and k in exclude:
                sub = exclude[k]
                if sub is True:
                    continue
            out[k] = _dump(v, mode, sub)
        return out

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError("%s has no field %r" % (type(self).__name__, name)) from None

    def __setattr__(self, name, value):
        self._values[name] = value

    def __eq__(self, other):
        return type(self) is type(other) and self.model_dump() == other.model_dump()

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self.model_dump())


IncludeExcludeDictType = dict
IncludeExcludeSetType = set
