test tests/golden/ruletest/malformed/missing_policy.fixture.yaml
