test tests/golden/ruletest/malformed/schema.fixture.yaml tests/golden/ruletest/discover/cover.test.yaml
