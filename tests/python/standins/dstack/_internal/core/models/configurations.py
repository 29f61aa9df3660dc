# SPDX-License-Identifier: Apache-2.0
"""Stand-in of dstack's run configurations: the fields the compatibility
exclusions read (router, added to services after 0.21.2, defaults to None)."""
from dstack._internal.core.models.common import CoreModel


class ScalingSpec(CoreModel):
    _defaults = {"window": None}


class ReplicaGroup(CoreModel):
    _types = {"scaling": ScalingSpec}


class TaskConfiguration(CoreModel):
    pass


class DevEnvironmentConfiguration(CoreModel):
    pass


class ServiceConfiguration(CoreModel):
    _defaults = {"router": None}
    _types = {"scaling": ScalingSpec, "replicas": ("list", ReplicaGroup)}


RUN_CONFIGURATIONS = {"task": TaskConfiguration, "service": ServiceConfiguration,
                      "dev-environment": DevEnvironmentConfiguration}
