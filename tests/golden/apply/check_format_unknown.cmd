check --format xml rules/
