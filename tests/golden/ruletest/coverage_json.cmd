test tests/golden/ruletest/discover --min-coverage 50 --json
