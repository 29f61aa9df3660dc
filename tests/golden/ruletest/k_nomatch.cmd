test tests/golden/ruletest/failing.fixture.yaml -k nothing-like-this
