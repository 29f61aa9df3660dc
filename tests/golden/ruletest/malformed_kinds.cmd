test tests/golden/ruletest/malformed/kinds.fixture.yaml
