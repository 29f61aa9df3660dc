# SPDX-License-Identifier: Apache-2.0
from dstack._internal.core.models.common import CoreModel


class GatewayConfiguration(CoreModel):
    pass


class GatewaySpec(CoreModel):
    _types = {"configuration": GatewayConfiguration}
