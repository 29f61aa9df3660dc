test tests/golden/ruletest/malformed/bad_params.fixture.yaml
