test tests/golden/ruletest/failing.fixture.yaml -k ^passes$|unchanged
