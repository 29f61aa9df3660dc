apply rules/example.rules tests/golden/apply/inputs/invalid.json --kind run
