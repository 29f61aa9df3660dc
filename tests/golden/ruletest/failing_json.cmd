test tests/golden/ruletest/failing.fixture.yaml -k whole --json
