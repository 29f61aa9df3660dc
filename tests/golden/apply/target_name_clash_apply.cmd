apply rules/privileged.rules tests/golden/apply/inputs/sky_privileged.rules tests/golden/apply/inputs/redos.json --kind run
