test tests/golden/ruletest/failing.fixture.yaml
