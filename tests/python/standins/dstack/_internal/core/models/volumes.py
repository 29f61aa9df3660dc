# SPDX-License-Identifier: Apache-2.0
from dstack._internal.core.models.common import CoreModel


class VolumeConfiguration(CoreModel):
    pass


class VolumeSpec(CoreModel):
    _types = {"configuration": VolumeConfiguration}
