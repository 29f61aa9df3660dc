test tests/golden/ruletest/no/such/path
