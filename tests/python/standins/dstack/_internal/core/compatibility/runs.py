# SPDX-License-Identifier: Apache-2.0
"""Stand-in of dstack's compatibility exclusions for run specs: fields
newer than older servers are left out of requests while unset, so an old
server does not refuse them. Here, as in the dstack the request bodies in
tests/data come from: a service's router when it is None."""
from dstack._internal.core.models.configurations import ServiceConfiguration


def get_run_spec_excludes(run_spec):
    spec_excludes = {}
    configuration_excludes = {}
    conf = run_spec.configuration
    if isinstance(conf, ServiceConfiguration) and conf.router is None:
        configuration_excludes["router"] = True
    if configuration_excludes:
        spec_excludes["configuration"] = configuration_excludes
    return spec_excludes
