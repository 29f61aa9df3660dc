test --min-coverage 120 rules/
