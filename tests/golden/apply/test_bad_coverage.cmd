test --min-coverage=101 rules/
