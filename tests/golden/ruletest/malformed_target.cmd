test tests/golden/ruletest/malformed/target.fixture.yaml
