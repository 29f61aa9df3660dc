test tests/golden/ruletest/malformed/duplicate_key.fixture.yaml
