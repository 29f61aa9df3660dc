test tests/golden/ruletest/malformed/not_a_mapping.fixture.yaml
