apply rules/example.rules tests/golden/apply/inputs/invalid.yml --kind run
