def get_gateway_spec_excludes(gateway_spec):
    return {"configuration": {}}
