check --format json tests/golden/check/check_errors.rules
