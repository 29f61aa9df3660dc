test tests/golden/ruletest/skypilot.fixture.yaml
