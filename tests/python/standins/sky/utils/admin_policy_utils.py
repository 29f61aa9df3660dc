# SPDX-License-Identifier: Apache-2.0
"""Stand-in of SkyPilot's admin policy host: `admin_policy: module.Class`
from the config names the class; it must subclass AdminPolicy, is made
with no arguments, and its apply() gets the request. Any exception but a
rejection becomes a rejection (fail closed)."""
import importlib

from sky import admin_policy, exceptions


def get_policy(policy_location):
    module_path, class_name = policy_location.rsplit(".", 1)
    module = importlib.import_module(module_path)
    policy_cls = getattr(module, class_name)
    if not issubclass(policy_cls, admin_policy.AdminPolicy):
        raise ValueError("Policy class %r does not implement the AdminPolicy interface" % policy_cls)
    return policy_cls()


def apply(policy_location, user_request):
    policy = get_policy(policy_location)
    try:
        return policy.apply(user_request)
    except exceptions.UserRequestRejectedByPolicy:
        raise
    except Exception as e:  # noqa: BLE001 - as SkyPilot does
        raise exceptions.UserRequestRejectedByPolicy(
            "User request rejected by policy %r: [%s] %s" % (policy, type(e).__name__, e)) from None
