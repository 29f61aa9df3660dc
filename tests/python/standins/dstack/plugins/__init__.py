# SPDX-License-Identifier: Apache-2.0
"""Stand-in of dstack.plugins, the plugin API."""
from dstack._internal.core.models.fleets import FleetSpec
from dstack._internal.core.models.gateways import GatewaySpec
from dstack._internal.core.models.runs import RunSpec
from dstack._internal.core.models.volumes import VolumeSpec
from dstack.plugins._base import ApplyPolicy, Plugin
from dstack.plugins._models import ApplySpec
from dstack.plugins._utils import get_plugin_logger

__all__ = ["FleetSpec", "GatewaySpec", "RunSpec", "VolumeSpec", "ApplyPolicy", "Plugin", "ApplySpec",
           "get_plugin_logger"]
