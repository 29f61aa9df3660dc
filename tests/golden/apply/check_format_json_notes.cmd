check --format json tests/golden/check/header_param_errors.rules
