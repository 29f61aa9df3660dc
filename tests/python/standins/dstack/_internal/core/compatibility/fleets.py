def get_fleet_spec_excludes(fleet_spec):
    return {}
