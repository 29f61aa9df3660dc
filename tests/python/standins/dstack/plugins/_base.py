# SPDX-License-Identifier: Apache-2.0
"""Stand-in of dstack.plugins' base classes: on_apply dispatches on the
spec's type; ValueError rejects."""
from dstack._internal.core.models.fleets import FleetSpec
from dstack._internal.core.models.gateways import GatewaySpec
from dstack._internal.core.models.runs import RunSpec
from dstack._internal.core.models.volumes import VolumeSpec


class ApplyPolicy:
    def on_apply(self, user, project, spec):
        if isinstance(spec, RunSpec):
            return self.on_run_apply(user=user, project=project, spec=spec)
        if isinstance(spec, FleetSpec):
            return self.on_fleet_apply(user=user, project=project, spec=spec)
        if isinstance(spec, VolumeSpec):
            return self.on_volume_apply(user=user, project=project, spec=spec)
        if isinstance(spec, GatewaySpec):
            return self.on_gateway_apply(user=user, project=project, spec=spec)
        raise ValueError("Unknown spec type %s" % type(spec))

    def on_run_apply(self, user, project, spec):
        return spec

    def on_fleet_apply(self, user, project, spec):
        return spec

    def on_volume_apply(self, user, project, spec):
        return spec

    def on_gateway_apply(self, user, project, spec):
        return spec


class Plugin:
    def get_apply_policies(self):
        return []
