def get_volume_spec_excludes(volume_spec):
    return {"configuration": {}}
