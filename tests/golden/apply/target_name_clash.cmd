check rules/privileged.rules tests/golden/apply/inputs/sky_privileged.rules
