check --format json rules/
