check --format sarif tests/golden/check/header_param_errors.rules tests/golden/check/unreachable_warnings.rules
