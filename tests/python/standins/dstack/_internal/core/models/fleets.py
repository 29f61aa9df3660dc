# SPDX-License-Identifier: Apache-2.0
from dstack._internal.core.models.common import CoreModel


class FleetConfiguration(CoreModel):
    pass


class FleetSpec(CoreModel):
    _types = {"configuration": FleetConfiguration}
