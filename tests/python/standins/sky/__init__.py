# SPDX-License-Identifier: Apache-2.0
"""Stand-in for SkyPilot (tests/python/standins/README.md)."""
from sky.admin_policy import AdminPolicy, MutatedUserRequest, UserRequest
from sky.task import Task
from sky.utils.config_utils import Config

__all__ = ["AdminPolicy", "MutatedUserRequest", "UserRequest", "Task", "Config"]
