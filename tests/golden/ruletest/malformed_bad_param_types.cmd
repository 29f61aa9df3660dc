test tests/golden/ruletest/malformed/bad_param_types.fixture.yaml
