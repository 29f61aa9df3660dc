# SPDX-License-Identifier: Apache-2.0
def get_volume_spec_excludes(volume_spec):
    return {"configuration": {}}
