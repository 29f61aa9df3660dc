test tests/golden/ruletest/discover --coverage
