# SPDX-License-Identifier: Apache-2.0
from typing import Union

from dstack._internal.core.models.fleets import FleetSpec
from dstack._internal.core.models.gateways import GatewaySpec
from dstack._internal.core.models.runs import RunSpec
from dstack._internal.core.models.volumes import VolumeSpec

ApplySpec = Union[RunSpec, FleetSpec, VolumeSpec, GatewaySpec]
