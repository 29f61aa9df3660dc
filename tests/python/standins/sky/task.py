# SPDX-License-Identifier: Apache-2.0
"""Stand-in of sky.Task: a task is its YAML config; from_yaml_config
validates it against SkyPilot's task schema (schemas/skypilot/task.json,
generated from SkyPilot's own), as SkyPilot does, so a policy that writes
something SkyPilot would refuse fails here too."""
import copy
import json
import os

_SCHEMA = None


def _validator():
    global _SCHEMA
    if _SCHEMA is None:
        import jsonschema
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "..", "..", "..", "schemas", "skypilot", "task.json")
        with open(path) as f:
            schema = json.load(f)

        def case_insensitive_enum(validator, values, instance, schema):
            if isinstance(instance, str) and instance.lower() not in [str(v).lower() for v in values]:
                yield jsonschema.ValidationError("%r is not one of %r (in any case)" % (instance, values))

        base = jsonschema.validators.validator_for(schema)
        cls = jsonschema.validators.extend(base, {"case_insensitive_enum": case_insensitive_enum})
        _SCHEMA = cls(schema)
    return _SCHEMA


def _string_keys(value):
    """JSON Schema knows string keys only; SkyPilot's own validator sees
    YAML's null key (image_id: {null: ...}) as it is. Validate a copy with
    such keys written as strings."""
    if isinstance(value, dict):
        return {(k if isinstance(k, str) else str(k)): _string_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_string_keys(v) for v in value]
    return value


class Task:
    def __init__(self, name=None):
        self.name = name
        self._config = {}
        self.managed_job_dag = None
        self.service_name = None

    @classmethod
    def from_yaml_config(cls, config, env_overrides=None):
        if not isinstance(config, dict):
            raise ValueError("a task config must be a mapping, got %s" % type(config).__name__)
        errors = sorted(_validator().iter_errors(_string_keys(config)), key=str)
        if errors:
            raise ValueError("Invalid task YAML: %s" % errors[0].message)
        task = cls(config.get("name"))
        task._config = copy.deepcopy(config)
        return task

    def to_yaml_config(self, use_user_specified_yaml=False):
        return copy.deepcopy(self._config)
