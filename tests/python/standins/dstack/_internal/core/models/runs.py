# SPDX-License-Identifier: Apache-2.0
from dstack._internal.core.models.common import CoreModel
from dstack._internal.core.models.configurations import RUN_CONFIGURATIONS


class RunSpec(CoreModel):
    _types = {"configuration": ("union", "type", RUN_CONFIGURATIONS)}
