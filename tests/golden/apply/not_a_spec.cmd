apply rules/example.rules tests/golden/apply/inputs/no_configuration.json --kind run
