test tests/golden/ruletest/malformed/bad_policy.fixture.yaml
