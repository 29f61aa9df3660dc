# SPDX-License-Identifier: Apache-2.0
"""Stand-in of sky.admin_policy: the interface admin policies implement."""
import abc
import dataclasses
from typing import Any, Optional

from sky.server.requests import request_names


class RequestOptions:
    """Request options for admin policy (a pydantic model in SkyPilot)."""

    def __init__(self, cluster_name: Optional[str], idle_minutes_to_autostop: Optional[int], down: bool,
                 dryrun: bool):
        self.cluster_name = cluster_name
        self.idle_minutes_to_autostop = idle_minutes_to_autostop
        self.down = down
        self.dryrun = dryrun

    def model_dump(self, mode="python"):
        return {"cluster_name": self.cluster_name, "idle_minutes_to_autostop": self.idle_minutes_to_autostop,
                "down": self.down, "dryrun": self.dryrun}


@dataclasses.dataclass
class UserRequest:
    task: Any
    skypilot_config: Any
    request_name: request_names.AdminPolicyRequestName
    request_options: Optional[RequestOptions] = None
    at_client_side: bool = False
    user: Optional[Any] = None
    # What the SkyPilot that produced tests/data's bodies sends as well.
    client_api_version: Optional[int] = None
    client_version: Optional[str] = None


@dataclasses.dataclass
class MutatedUserRequest:
    task: Any
    skypilot_config: Any


class PolicyInterface:
    @abc.abstractmethod
    def apply(self, user_request):
        """Apply the admin policy to the user request."""

    def __str__(self):
        return self.__class__.__name__


class AdminPolicy(PolicyInterface):
    @classmethod
    @abc.abstractmethod
    def validate_and_mutate(cls, user_request):
        raise NotImplementedError("Your policy must implement validate_and_mutate")

    def apply(self, user_request):
        return self.validate_and_mutate(user_request)
