# SPDX-License-Identifier: Apache-2.0
def get_fleet_spec_excludes(fleet_spec):
    return {}
