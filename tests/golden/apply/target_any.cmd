check --target any tests/golden/check/schema_errors.rules
