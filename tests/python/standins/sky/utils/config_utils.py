# SPDX-License-Identifier: Apache-2.0
import copy


class Config(dict):
    """SkyPilot's config: a dict with nested lookups."""

    @classmethod
    def from_dict(cls, config):
        return cls(copy.deepcopy(config or {}))

    def get_nested(self, keys, default_value=None):
        cur = self
        for k in keys:
            if not isinstance(cur, dict) or k not in cur:
                return default_value
            cur = cur[k]
        return cur
