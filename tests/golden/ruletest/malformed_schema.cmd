test tests/golden/ruletest/malformed/schema.fixture.yaml
