# SPDX-License-Identifier: Apache-2.0
def get_gateway_spec_excludes(gateway_spec):
    return {"configuration": {}}
