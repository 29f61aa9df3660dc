test tests/golden/ruletest/malformed/skypilot.fixture.yaml
